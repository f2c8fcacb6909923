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
	int duplicate;  /* the complaint was stored before: nothing changed */
	int new_ticket; /* a ticket was opened for it */
	int64_t due;    /* the ticket's due time, or EW_STORE_NO_TIME */
};

/*
 * Read a complaint (the raw message), store it with its incidents, each
 * judged, and open or update its ticket, all in one transaction.  A
 * re-sent complaint changes nothing and says duplicate.  -EINVAL, with
 * the reason on `diags`, when the message is not a complaint.
 */
int ew_desk_add(struct ew_desk *d, const char *name, const char *data,
    size_t len, int64_t now, struct ew_diag_list *diags,
    struct ew_desk_added *out);

/*
 * The same for a complaint parsed elsewhere (by the unprivileged parser
 * child of inbox scan and run): c is only read; sha256 is the hex
 * SHA-256 of the raw message's len bytes, which the caller computed
 * from the bytes it read itself.
 */
struct ew_complaint;
int ew_desk_add_parsed(struct ew_desk *d, const struct ew_complaint *c,
    const char *sha256, size_t len, int64_t now, struct ew_diag_list *diags,
    struct ew_desk_added *out);

/* A set of rules that would stop a ticket's reported traffic. */
struct ew_desk_proposal {
	const char *scope; /* "destination", "netblock", "ports" */
	char **rules;      /* "reject 203.0.113.5:6660-7000", ... */
	size_t n;
};

/*
 * The proposals for a ticket, narrowest first, over its incidents judged
 * allowed or unknown.  None when there is nothing to block.
 */
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
