/*
 * desk.h - the abuse desk: from a complaint to a ticket, a verdict on
 * every incident, the blocks that would stop it, and the reply.
 *
 * The desk sits on the store (what was received and decided), the mail
 * module (reading complaints) and the policy engine (what the exit
 * allowed at a given time).  It keeps no traffic: an incident is judged
 * only against the policy versions recorded in the store, never against
 * anything the relay observed.
 *
 * Nothing here prints, exits, applies a policy or reads the clock: `now`
 * is a parameter and the caller (the CLI) applies what the desk
 * composes.  Results are 0 or a negative errno value, with diagnostics
 * on the caller's list where there is something to say.
 */
#ifndef EW_DESK_DESK_H
#define EW_DESK_DESK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct ew_buf;
struct ew_diag_list;
struct ew_policy;
struct ew_store;
struct ew_store_incident;

struct ew_desk;

/*
 * A desk over an open store.  `ifaddrs` are the machine's interface
 * addresses (the relay's own addresses besides those its policy names);
 * they are copied.
 */
int ew_desk_new(struct ew_store *st, const struct ew_addr *ifaddrs,
    size_t n_ifaddrs, struct ew_desk **out);
void ew_desk_free(struct ew_desk *d);

/* The verdicts, as the store keeps them. */
#define EW_JUDGED_ALLOWED "allowed"
#define EW_JUDGED_BLOCKED "blocked"
#define EW_JUDGED_NOT_OURS "not ours"
#define EW_JUDGED_UNKNOWN "unknown"

/*
 * Judge one incident against the policy history: *verdict is one of
 * the four words above (static strings).  docs/cli/workflow.md says how.
 */
int ew_desk_judge(struct ew_desk *d, const struct ew_store_incident *in,
    const char **verdict);

struct ew_desk_added {
	int64_t complaint_id, ticket_id;
	int duplicate; /* the complaint was stored before: nothing changed */
	/* an earlier complaint with this Message-ID and other content (a
	 * prank can take a predictable one first), or 0 */
	int64_t reuses_message_id;
	int new_ticket; /* a ticket was opened for it */
	int64_t due;    /* the ticket's due time, or EW_STORE_NO_TIME */
};

/*
 * Read a complaint (the raw message), store it with its incidents, each
 * judged, and open or update its ticket, all in one transaction.  A
 * re-sent complaint (the same bytes, or the same message delivered
 * again with another trace: Received:, Delivered-To:, ...) changes
 * nothing and says duplicate; the Message-ID alone never does.  -EINVAL, with
 * the reason on `diags`, when the message is not a complaint.
 */
int ew_desk_add(struct ew_desk *d, const char *name, const char *data,
    size_t len, int64_t now, struct ew_diag_list *diags,
    struct ew_desk_added *out);

/*
 * The same for a complaint parsed elsewhere (by the unprivileged parser
 * child of inbox scan and run): c is only read; data and len are the
 * raw message the caller read itself, from which the digests that find
 * duplicates are computed here (never taken from the parser).
 */
struct ew_complaint;
int ew_desk_add_parsed(struct ew_desk *d, const struct ew_complaint *c,
    const char *data, size_t len, int64_t now, struct ew_diag_list *diags,
    struct ew_desk_added *out);

/* A set of rules that would stop a ticket's reported traffic. */
struct ew_desk_proposal {
	const char *scope; /* "destination", "netblock", "ports" */
	char **rules;      /* "reject 203.0.113.5:6660-7000", ... */
	/* per rule: the host name its address was resolved from (one of
	 * the set's names), or NULL when the complaint named the address */
	const char **from;
	size_t n;
};

/*
 * A host name a destination was given as ("the servers irc.example.net
 * resolves to"), and what it resolved to when proposals were made.
 */
struct ew_desk_name {
	char *host;
	/* 0; -ETIMEDOUT (no answer in time), -ENOENT (no such name),
	 * -ENODATA (no address), -EINVAL (not a host name), -ECANCELED
	 * (not resolved: no resolver, --no-resolve), -E2BIG (not looked
	 * up: over EW_DESK_MAX_NAMES names), or another -errno */
	int rc;
	int64_t at; /* when it was resolved, or EW_STORE_NO_TIME */
	struct ew_addr *addrs;
	size_t n;
	size_t skipped; /* addresses left out: internal, multicast */
};

/* Names resolved for one ticket's proposals; addresses kept per name. */
#define EW_DESK_MAX_NAMES 32
#define EW_DESK_MAX_NAME_ADDRS 16

/*
 * A resolver: fill in rc, at, addrs and n of each of the n names (host
 * set, the rest zero; addrs allocated with malloc, at most
 * EW_DESK_MAX_NAME_ADDRS).  It must return in bounded time.
 */
typedef void (*ew_desk_resolve_fn)(void *arg, struct ew_desk_name *v, size_t n);
/* Resolve names with fn (NULL: do not resolve; the default). */
void ew_desk_set_resolver(struct ew_desk *d, ew_desk_resolve_fn fn, void *arg);
/*
 * The system's resolver (getaddrinfo: /etc/hosts, DNS), each name
 * looked up in a child process of its own, all of them given at most
 * `arg`'s timeout_ms together: a name without an answer by then is
 * -ETIMEDOUT and its child is killed.  `at` is the clock's time.
 */
struct ew_desk_sysresolver {
	unsigned timeout_ms;
};
#define EW_DESK_RESOLVE_TIMEOUT_MS 3000
void ew_desk_resolve_system(void *arg, struct ew_desk_name *v, size_t n);

struct ew_desk_proposals {
	struct ew_desk_proposal *v; /* narrowest first */
	size_t n;
	struct ew_desk_name *names; /* by first mention */
	size_t nnames;
};

/*
 * The proposals for a ticket, narrowest first, over its incidents judged
 * allowed or unknown: every destination the complaints name (an
 * incident without one takes its complaint's, up to
 * EW_DESK_SPREAD_MAX of them; a host name is resolved now) with its
 * ports, then their netblocks, then the ports alone.  None when there
 * is nothing to block.  The work is n log n in the incidents.
 */
int ew_desk_propose(
    struct ew_desk *d, int64_t ticket_id, struct ew_desk_proposals *out);
void ew_desk_propose_free(struct ew_desk_proposals *p);
#define EW_DESK_SPREAD_MAX 64

/* ew_desk_propose without the names (each rule's `from` is NULL). */
int ew_desk_proposals(struct ew_desk *d, int64_t ticket_id,
    struct ew_desk_proposal **out, size_t *n);
void ew_desk_proposals_free(struct ew_desk_proposal *v, size_t n);

/*
 * The managed policy's text: the store's rules in force (annotated with
 * reason, ticket and expiry), then `extra` (rule lines not yet stored,
 * may be NULL), then an include of `policy_path` (absolute).  -EINVAL
 * when the path cannot be written in an include.
 */
struct ew_desk_rule {
	const char *rule; /* "reject 203.0.113.5:6667" */
	const char *reason;
	int64_t ticket_id; /* 0: none */
	int64_t expires;   /* EW_STORE_NO_TIME: never */
};
int ew_desk_managed(struct ew_desk *d, const char *policy_path,
    const struct ew_desk_rule *extra, size_t n_extra, struct ew_buf *out);

/*
 * Record the policy p, applied at `at`, as the version in force: its
 * torrc form (self-contained: tables and port sets written out) and the
 * digest of its expanded list.  Recording the version in force again
 * changes nothing.
 */
int ew_desk_record(struct ew_desk *d, const struct ew_policy *p, int64_t at,
    struct ew_diag_list *diags);

/*
 * The surge guard's decisions (guard.c).  A surge is a destination one
 * of the policy's guards found over its threshold (the kernel's surge
 * sets); it becomes a block "reject ADDR[/LEN]:PORT" with the reason
 * "surge: guard NAME over RATE" and the guard's block time, stored like
 * a ticket block (origin 'surge'), unless the allow list covers it or a
 * cap is reached (then it is counted, once).  A guard state remembers
 * the surges already judged, so each is judged once while the kernel
 * holds it.  The caller applies the managed policy when blocks were
 * added, in the same store transaction.
 */
struct ew_desk_surge {
	size_t guard;        /* index of the policy's guard */
	struct ew_addr addr; /* host bits past the guard's prefix zero */
	uint16_t port;
};

struct ew_desk_guard_result {
	size_t added;   /* blocks stored */
	size_t known;   /* already blocked or already judged */
	size_t capped;  /* over a guard's cap or "guards cap" */
	size_t allowed; /* on the allow list */
};

struct ew_desk_guards;
struct ew_desk_guards *ew_desk_guards_new(void);
void ew_desk_guards_free(struct ew_desk_guards *g);
/* Forget what was judged (after the kernel's sets were emptied). */
void ew_desk_guards_reset(struct ew_desk_guards *g);

/* Judge n surges of the guards of p at `now`; 0 or -errno (store). */
int ew_desk_guard_decide(struct ew_desk *d, struct ew_desk_guards *g,
    const struct ew_policy *p, const struct ew_desk_surge *v, size_t n,
    int64_t now, struct ew_desk_guard_result *out);
/* Read the kernel's surge sets of p's guards (netlink) and judge them. */
int ew_desk_guard_poll(struct ew_desk *d, struct ew_desk_guards *g,
    const struct ew_policy *p, int64_t now, struct ew_desk_guard_result *out,
    struct ew_buf *err);
/*
 * The kernel side of the blocks the last decide added, in place (no
 * reload, so the guards' buckets and counters stay): each an element,
 * with the block's time left as its timeout, of the guard's block set
 * (nft.h, g_NAME_b4/b6).  *n says how many went in.  0, or -errno with
 * nft's messages in err (no such set: an older table); the caller then
 * loads the whole table.  Call after tor took the policy.
 */
int ew_desk_guard_block_kernel(struct ew_desk_guards *g,
    const struct ew_policy *p, int64_t now, size_t *n, struct ew_buf *err);
/* The block text for a surge ("reject 192.0.2.0/22:443"), into out. */
void ew_desk_surge_rule(const struct ew_policy *p,
    const struct ew_desk_surge *s, struct ew_buf *out);

/*
 * Render a reply for a ticket from the template text `tmpl` (named
 * `name` for diagnostics): {{name}} is replaced by a value,
 * {{#list}}...{{/list}} repeats for each element of a list and
 * {{^list}}...{{/list}} stands when the list is empty.  An unknown name
 * or an unbalanced section is an error located at file:line:col.
 * docs/cli/workflow.md lists the names.
 */
int ew_desk_reply(struct ew_desk *d, int64_t ticket_id, const char *name,
    const char *tmpl, size_t len, int64_t now, struct ew_buf *out,
    struct ew_diag_list *diags);

/* The built-in templates: "provider", "complainant"; NULL if unknown. */
const char *ew_desk_template(const char *which);

#endif
