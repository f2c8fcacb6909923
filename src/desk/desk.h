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
 * Nothing here prints, exits or reads the clock: `now` is a parameter.
 * Every change to what the exit enforces goes through the desk as one
 * transaction (change.c): the store, the managed policy file, the apply
 * to tor and nftables (through the caller's struct ew_desk_apply_ops)
 * and the recorded version move together or not at all.  Results are 0
 * or a negative errno value, with diagnostics on the caller's list
 * where there is something to say.
 */
#ifndef EW_DESK_DESK_H
#define EW_DESK_DESK_H

#include <stddef.h>
#include <stdint.h>

#include "emit/tor.h"
#include "lib/addr.h"
#include "store/store.h"

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

/*
 * The relay the next changes act on, when the host runs several
 * (desk/relay.h): its managed policy holds the blocks for every relay
 * and its own, a block added is for it alone, and what is applied is
 * recorded in its own policy history.  NULL (the default): the host's
 * only relay, with every block.  0 or -ENOMEM.
 */
int ew_desk_set_relay(struct ew_desk *d, const char *relay);
const char *ew_desk_relay(const struct ew_desk *d);

/* The verdicts, as the store keeps them (enum ew_store_verdict). */
#define EW_JUDGED_ALLOWED EW_STORE_VERDICT_ALLOWED
#define EW_JUDGED_BLOCKED EW_STORE_VERDICT_BLOCKED
#define EW_JUDGED_NOT_OURS EW_STORE_VERDICT_NOT_OURS
#define EW_JUDGED_UNKNOWN EW_STORE_VERDICT_UNKNOWN

/*
 * Judge one incident against the policy history: *verdict is one of
 * the four above.  docs/cli/workflow.md says how.
 */
int ew_desk_judge(struct ew_desk *d, const struct ew_store_incident *in,
    enum ew_store_verdict *verdict);

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
	/* block add --host: a fleet host and one of its relays, or NULL
	 * (ew_store_rule_add_scope) */
	const char *host, *relay;
};
int ew_desk_managed(struct ew_desk *d, const char *policy_path,
    const struct ew_desk_rule *extra, size_t n_extra, struct ew_buf *out);
/*
 * A fleet host's own emergency blocks (issue 14), composed into every
 * managed policy after the store's rules, under the line
 * EW_DESK_LOCAL_MARK; v is borrowed until the next call (NULL, 0: none).
 */
#define EW_DESK_LOCAL_MARK                                                     \
	"# Emergency blocks of this fleet host (exitwarden block add on it):"
void ew_desk_set_local(
    struct ew_desk *d, const struct ew_desk_rule *v, size_t n);
/*
 * The managed policy `text` (as ew_desk_managed wrote it) with its
 * emergency blocks replaced by v (the store's rules and the include
 * kept as they are): a host without its store composes from its cache.
 * -EINVAL when text has no include line.
 */
int ew_desk_managed_local(const char *text, const struct ew_desk_rule *v,
    size_t n, struct ew_buf *out);

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
	size_t added;       /* blocks stored */
	size_t known;       /* already blocked or already judged */
	size_t capped;      /* over a guard's cap or "guards cap" */
	size_t allowed;     /* on the allow list */
	size_t in_place;    /* blocks added to the kernel in place */
	double in_place_ms; /* ... taking this long */
	int reloaded;       /* the whole table was loaded instead */
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

/* ---- changes: store, managed policy, apply, record (change.c) ---- */

/*
 * The steps of a change that act outside the store, as function
 * pointers so that tests put fakes in (a tor that refuses, a table that
 * fails to load, a full disk).  A step returns 0 when done, or -errno;
 * a step that fails must leave what it acts on as it was (tor apply and
 * nft apply roll back themselves; the writer is atomic).  `arg` is
 * passed to every step.
 */
struct ew_desk_apply_ops {
	/*
	 * Write text to path atomically (temporary file, fsync, rename).
	 * A failure may come after the rename (the directory's fsync): the
	 * change reads the file back to know what is there.  NULL:
	 * ew_desk_write_file.
	 */
	int (*write)(void *arg, const char *path, const char *text, size_t len,
	    struct ew_diag_list *dg);
	/* Make tor run the policy file: 0, EW_DESK_CHECKED (a dry run:
	 * checked, nothing changed) or -errno (tor as it was).  NULL: tor
	 * is not touched (--no-apply). */
	int (*tor)(void *arg, const char *path, int64_t now);
	/* The same for the nftables table. */
	int (*nft)(void *arg, const char *path, int64_t now);
	/* Record the file as the version in force since `now`, inside the
	 * store's open transaction.  NULL: ew_desk_record_file. */
	int (*record)(void *arg, struct ew_desk *d, const char *path,
	    int64_t now, struct ew_diag_list *dg);
	void *arg;
};
#define EW_DESK_CHECKED 1

/* Where a change happens. */
struct ew_desk_change {
	const char *managed; /* the managed policy file */
	const char *policy;  /* the operator's policy (included last) */
	const char *store;   /* the store's name, for messages */
	int64_t now;
	const struct ew_desk_apply_ops *ops;
};

/* What a change did, for the caller to report. */
enum ew_desk_step {
	EW_DESK_STEP_NONE,    /* nothing failed */
	EW_DESK_STEP_STORE,   /* the store (before or at the commit) */
	EW_DESK_STEP_COMPOSE, /* the managed policy would not load */
	EW_DESK_STEP_WRITE,
	EW_DESK_STEP_TOR,
	EW_DESK_STEP_NFT,
	EW_DESK_STEP_RECORD,
};
struct ew_desk_outcome {
	int changed;     /* the store changed (committed) */
	int wrote;       /* the managed file was written */
	int applied;     /* tor and nftables took it (not a dry run) */
	int not_applied; /* written only: the ops have no tor step */
	enum ew_desk_step failed;
	/* after a failure that left the file written: 1 put back as the
	 * store has it (and applied again where a step had taken the new
	 * one), -1 it could not be */
	int restored;
};

/*
 * The managed policy as the store's rules plus `extra` make it, checked
 * by parsing it (and, when list is not NULL, its expanded list at
 * ch->now, for a preview).  0, or -errno with the reasons on dg.
 */
int ew_desk_compose(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *extra, size_t n_extra, struct ew_buf *text,
    struct ew_buf *list, struct ew_diag_list *dg);
/* The effect of adding `rules` on the effective policy, as "- line" /
 * "+ line" (n log n in the lines), into diff; nothing is written. */
int ew_desk_preview(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *rules, size_t n, struct ew_buf *diff,
    struct ew_diag_list *dg);
/* "- line" / "+ line" for the lines one text has and the other lacks. */
void ew_desk_diff(const char *before, const char *after, struct ew_buf *out);

/* The default writer (0600) and recorder (parse the file, then
 * ew_desk_record). */
int ew_desk_write_file(void *arg, const char *path, const char *text,
    size_t len, struct ew_diag_list *dg);
int ew_desk_record_file(void *arg, struct ew_desk *d, const char *path,
    int64_t now, struct ew_diag_list *dg);

/*
 * Write the managed policy from the store and apply it, as one change
 * (the daemon at its start, and after an interrupted change).
 */
int ew_desk_sync(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_outcome *out, struct ew_diag_list *dg);
/*
 * ew_desk_sync for several relays as one change (ew_desk_set_relay):
 * chs[i] and relays[i] are relay i's setting and name (chs[i].ops the
 * same for all).  Every relay's managed policy composed and written,
 * applied to each relay's tor in turn (ops->tor with its managed path:
 * the caller knows the relay by it), the table of all relays loaded
 * once (ops->nft with the last relay's path), each recorded in its
 * relay's history, then the store committed.  Any failure puts every
 * file back and applies the old ones again where tor or the table had
 * taken the new: all relays or none.  The desk's relay is as before.
 */
int ew_desk_sync_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);
/*
 * Apply a policy file the operator wrote (no managed policy): tor, then
 * nftables unless tor refused, then the version recorded when tor took
 * it (what tor runs is what the exit carries, even when the nftables
 * step failed after).  out->failed says which step failed.
 */
int ew_desk_apply_file(struct ew_desk *d, const struct ew_desk_change *ch,
    const char *path, struct ew_desk_outcome *out, struct ew_diag_list *dg);
/*
 * Whether the managed file differs from what the store says it should
 * be (a change killed between writing the file and its commit): 1, 0,
 * or -errno.  No file and no block in force is no difference.
 */
int ew_desk_drift(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_diag_list *dg);

/* A block: what ticket block adds (ew_desk_block_plan), for a ticket. */
struct ew_desk_block_plan {
	int64_t ticket_id;
	size_t choice, nchoices; /* 1-based */
	int64_t expires;         /* EW_STORE_NO_TIME: until removed */
	struct ew_desk_proposals ps;
	const struct ew_desk_proposal *p; /* the chosen one */
	/* per rule of p: the id of the same rule in force for the ticket
	 * (0: none) and its expiry */
	int64_t *inforce_id, *inforce_expires;
	struct ew_desk_rule *rules; /* the rules not in force, to add */
	size_t nnew;
	char *reason;
};
/*
 * Plan the block of a ticket's proposal `choice` (1-based) until
 * `expires`, with `reason` (NULL: "complaint from REPORTER").  -ENOENT
 * no such ticket, -EALREADY the ticket is closed, -ENODATA nothing to
 * block, -ERANGE no such choice (plan->nchoices says how many), or
 * another -errno; the reason is on dg.
 */
int ew_desk_block_plan(struct ew_desk *d, int64_t ticket_id, size_t choice,
    int64_t expires, const char *reason, int64_t now,
    struct ew_desk_block_plan *plan, struct ew_diag_list *dg);
void ew_desk_block_plan_free(struct ew_desk_block_plan *plan);
/* Store the plan's new rules and apply them, as one change. */
int ew_desk_block(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_block_plan *plan, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);

/* A block whose time has come (ew_desk_expire_due). */
struct ew_desk_expired {
	int64_t id, ticket_id, expires;
	char *rule;
};
/* The blocks in force whose expiry is at or before now (free with
 * ew_desk_expired_free). */
int ew_desk_expire_due(
    struct ew_desk *d, int64_t now, struct ew_desk_expired **out, size_t *n);
void ew_desk_expired_free(struct ew_desk_expired *v, size_t n);
/*
 * Remove the blocks whose time has come and apply, as one change; when
 * none has come, write and apply the store's managed policy if the file
 * drifted from it (*drift 1), else change nothing.
 */
int ew_desk_expire(struct ew_desk *d, const struct ew_desk_change *ch,
    int *drift, struct ew_desk_outcome *out, struct ew_diag_list *dg);

/* ew_desk_block and ew_desk_expire for several relays as one change,
 * as ew_desk_sync_relays does it (the blocks added for the desk's
 * relay: NULL, every relay). */
int ew_desk_block_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, const struct ew_desk_block_plan *plan,
    struct ew_desk_outcome *out, struct ew_diag_list *dg);
int ew_desk_expire_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, int *drift,
    struct ew_desk_outcome *out, struct ew_diag_list *dg);

/* ---- what each relay enforces (status.c) ---- */

/* A relay of this host: its files and its tor. */
struct ew_desk_relay {
	const char *name;    /* for display: "tor" */
	const char *managed; /* its managed policy */
	const char *policy;  /* the operator's policy it includes */
	const char *store;   /* the store's name, for messages */
	struct ew_tor_target tor;
};

struct ew_desk_relay_status {
	const struct ew_desk_relay *relay;
	int policy_exists, managed_exists;
	size_t blocks; /* in force in the store */
	size_t due;    /* of them, past their expiry (expire has not run) */
	int64_t next_expiry, next_id; /* EW_STORE_NO_TIME: none */
	int compose_rc;               /* 0: the store's policy loads */
	char want[65];                /* its expanded list's digest */
	char *want_list;              /* that list (ew_desk_status_free) */
	char recorded[65];            /* the version in force, or "" */
	int64_t recorded_from;
	/* 1 differs, 0 agrees, -1 unknown (or -errno) */
	int drift;          /* the managed file vs the store */
	int recorded_drift; /* the recorded version vs the store */
	int tor_drift;      /* tor's exit-policy/full vs the store */
	int tor_rc;         /* 0: tor answered */
	char tor_version[64], tor_control[128], tor_error[200];
	char live[65];
	int nft_rc; /* 0 our table is there, -ENOENT not, else -errno */
	/* the table's rule counters vs those the store's policy makes:
	 * 1 another policy's table, 0 the same, -1 unknown */
	int nft_drift;
};

/*
 * Read the state of n relays into out[0..n-1]: nothing is changed.
 * Reasons the store's policy would not load go on dg.
 */
int ew_desk_status(struct ew_desk *d, const struct ew_desk_relay *relays,
    size_t n, int64_t now, struct ew_desk_relay_status *out,
    struct ew_diag_list *dg);
void ew_desk_status_free(struct ew_desk_relay_status *v, size_t n);

/* ---- blocks by hand, and the operator's policy (manage.c) ---- */

/*
 * The operator's policy the managed policy at `managed` includes (its
 * last include line, as ew_desk_managed writes it), into out: 0,
 * -ENOENT (no such file), -EINVAL (no include), or another -errno.
 */
int ew_desk_managed_source(const char *managed, char *out, size_t cap);

/*
 * A dry run of ew_desk_sync (apply -n): the managed policy composed
 * from the store and ch->policy, checked by ch->ops' steps (which must
 * be dry runs) on a temporary copy removed afterwards; nothing else is
 * written.  *nblocks: the blocks in force composed with it.
 */
int ew_desk_sync_check(struct ew_desk *d, const struct ew_desk_change *ch,
    size_t *nblocks, struct ew_diag_list *dg);

/*
 * Check a block typed by the operator (`name` for the diagnostics,
 * "<cmdline>"): exactly one reject or reject6 rule of the policy
 * language, without annotations (reason, ticket and expiry are given
 * apart).  0 with the rule as written into canon, or -EINVAL with
 * located errors on dg.
 */
int ew_desk_block_rule(const char *name, const char *text, struct ew_buf *canon,
    struct ew_diag_list *dg);

/*
 * Adopt a host's emergency block (host_blocks.id hb) as the rule r (a
 * scope of the fleet; ticket 0) in one change: the rule added and the
 * host block closed with it (the host drops its own copy when it reads
 * the rule).  As ew_desk_block_add; -ENOENT no such host block,
 * -EALREADY removed or adopted before.
 */
int ew_desk_block_adopt(struct ew_desk *d, const struct ew_desk_change *ch,
    int64_t hb, const struct ew_desk_rule *r, int64_t *id,
    struct ew_desk_outcome *out, struct ew_diag_list *dg);
/*
 * Add the block r (origin 'manual'; r->ticket_id 0 or an open ticket)
 * as one change; *id is its id.  -EEXIST when the rule is in force
 * already (for that ticket, or without one; *id is that block), -ENOENT /
 * -EINVAL for a ticket that is not there or closed.
 */
int ew_desk_block_add(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *r, int64_t *id, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);

/* The blocks a removal took away (free with ew_desk_removed_free). */
struct ew_desk_removed {
	struct ew_desk_expired *v;
	size_t n;
};
void ew_desk_removed_free(struct ew_desk_removed *r);

/*
 * Mark the blocks `ids` and (ticket > 0) every block in force of that
 * ticket removed at ch->now, as one change: all of them or none
 * (-ENOENT, said on dg, when an id is unknown or removed already, or
 * there is nothing to remove).
 */
int ew_desk_block_remove(struct ew_desk *d, const struct ew_desk_change *ch,
    const int64_t *ids, size_t n, int64_t ticket,
    struct ew_desk_removed *removed, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);
/*
 * Both for several relays as one change (ew_desk_sync_relays): chs[i]
 * and relays[i] each relay's setting and name.  An added block is for
 * the desk's relay (ew_desk_set_relay; NULL: every relay).
 */
int ew_desk_block_add_relays(struct ew_desk *d,
    const struct ew_desk_change *chs, const char *const *relays, size_t n,
    const struct ew_desk_rule *r, int64_t *id, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);
int ew_desk_block_remove_relays(struct ew_desk *d,
    const struct ew_desk_change *chs, const char *const *relays, size_t n,
    const int64_t *ids, size_t nids, int64_t ticket,
    struct ew_desk_removed *removed, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);

/*
 * Confirm the pending self-service blocks `ids` (block list --pending):
 * they join the managed policy, written and applied, as one change; all
 * of them or none (-ENOENT, said on dg, when an id is not a block in
 * force or not pending).  Rejecting one is ew_desk_block_remove.
 */
int ew_desk_block_confirm(struct ew_desk *d, const struct ew_desk_change *ch,
    const int64_t *ids, size_t n, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);
int ew_desk_block_confirm_preview(struct ew_desk *d,
    const struct ew_desk_change *ch, const int64_t *ids, size_t n,
    struct ew_buf *diff, struct ew_diag_list *dg);

/*
 * -n: what the add or removal would change in the effective policy
 * ("- line" / "+ line" into diff), found by making it in a store
 * transaction that is rolled back; nothing is written anywhere.
 */
int ew_desk_block_add_preview(struct ew_desk *d,
    const struct ew_desk_change *ch, const struct ew_desk_rule *r,
    struct ew_buf *diff, struct ew_diag_list *dg);
int ew_desk_block_remove_preview(struct ew_desk *d,
    const struct ew_desk_change *ch, const int64_t *ids, size_t n,
    int64_t ticket, struct ew_desk_removed *removed, struct ew_buf *diff,
    struct ew_diag_list *dg);

/* A block's origin ("ticket", "surge", "manual") and state at now
 * ("in force", "due": expired but expire has not run, "expired",
 * "removed"). */
const char *ew_desk_block_origin(const struct ew_store_rule *r);
const char *ew_desk_block_state(const struct ew_store_rule *r, int64_t now);
/* One block as a JSON object (block list --json, status --json). */
void ew_desk_block_json(
    struct ew_buf *b, const struct ew_store_rule *r, int64_t now);
/* The blocks in force (all: removed ones too), as block list prints
 * them. */
int ew_desk_blocks_render(
    struct ew_store *st, int64_t now, int all, int json, struct ew_buf *out);

/*
 * One poll of the surge guard as one change: read and judge the
 * kernel's surge sets (ew_desk_guard_poll), apply when blocks were
 * added, then expire the surge blocks whose time has come.  *r says
 * what was judged.
 */
struct ew_desk_guards;
struct ew_desk_guard_result;
int ew_desk_guard_tick(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_guards *g, const struct ew_policy *p,
    struct ew_desk_guard_result *r, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);

/* ---- tickets and complaints as text or JSON (render.c) ---- */

/* One ticket as ticket show prints it, appended to out; -ENOENT when
 * there is no such ticket. */
int ew_desk_ticket_render(
    struct ew_desk *d, int64_t id, int64_t now, int json, struct ew_buf *out);
/* The tickets (open ones, or all), as ticket list prints them. */
int ew_desk_tickets_render(
    struct ew_store *st, int64_t now, int all, int json, struct ew_buf *out);
/* The complaints stored, as complaint list prints them. */
int ew_desk_complaints_render(
    struct ew_store *st, int json, struct ew_buf *out);
/* A complaint's incidents as a JSON array. */
int ew_desk_incidents_json(
    struct ew_store *st, int64_t complaint_id, struct ew_buf *out);
/* complaint add --json: what happened, the incidents, the ticket. */
int ew_desk_added_render(struct ew_desk *d, const struct ew_desk_added *r,
    int64_t now, struct ew_buf *out);

#endif
