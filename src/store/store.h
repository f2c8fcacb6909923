/*
 * store.h - persistence: complaints, tickets, rules and policy history.
 *
 * The store is one SQLite database file (the default) or one
 * PostgreSQL database (a fleet's shared desk), chosen by the target
 * string given to ew_store_open.  The module is the only one that
 * includes sqlite3.h (sqlite.c) and libpq-fe.h (pg.c); no type of
 * either appears here.  It keeps only what complainants sent and what
 * the operator decided -- never traffic the relay observed.  The tables
 * are described in schema.c; both back ends have the same ones, made by
 * the same migrations.
 *
 * Every function that writes runs in one transaction: on any error
 * nothing is written.  Results are 0 on success or a negative errno
 * value: -EEXIST (a duplicate), -ENOENT (no such row), -EALREADY (the
 * change was made before), -EINVAL (bad arguments or a constraint the
 * data broke), -EBUSY (locked), -ENOMEM, -ENOTSUP (a database made by a
 * newer exitwarden), -ECONNREFUSED (a PostgreSQL server that cannot be
 * reached or refuses the connection), -EIO (anything else).  ew_store_errmsg()
 * gives the database's message for the last failure.
 *
 * Times are int64_t seconds since the epoch; EW_STORE_NO_TIME stands for
 * "none" (NULL in the database).  Nothing here reads the clock.
 *
 * Structures passed in hold borrowed strings; structures handed out own
 * theirs and are freed with the matching _free function (which accepts
 * NULL).
 */
#ifndef EW_STORE_STORE_H
#define EW_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/port.h"

#define EW_STORE_NO_TIME INT64_MIN

/* The schema version a fully migrated database has (SQLite's PRAGMA
 * user_version, PostgreSQL's ew_schema_version table). */
#define EW_STORE_SCHEMA_VERSION 15

struct ew_store;

/*
 * Open the store at `target`, then run the migrations it lacks, each in
 * its own transaction.  On failure *out is NULL.
 *
 * A target that ew_store_is_server() recognises is a PostgreSQL
 * connection string, handed to libpq as it is: a URI
 * ("postgresql://user@host:5432/db?sslmode=verify-full", "postgres://",
 * or just "postgresql://" for libpq's defaults and the PG* environment)
 * or keyword=value pairs ("host=/run/postgresql dbname=exitwarden").
 * Anything else is a SQLite file, created 0600 if need be (":memory:"
 * for a private in-memory one), with foreign keys on, a busy timeout
 * and, for files, WAL journaling.
 */
int ew_store_open(const char *target, struct ew_store **out);
/* The same, with the reason of a failure copied into err (cap bytes;
 * the store is gone, so ew_store_errmsg cannot say it). */
int ew_store_open_err(
    const char *target, struct ew_store **out, char *err, size_t cap);
void ew_store_close(struct ew_store *st);
/* Whether `target` names a PostgreSQL database rather than a file. */
int ew_store_is_server(const char *target);
/* `target` fit to print: a password in it replaced by "***". */
void ew_store_target_label(const char *target, char *out, size_t cap);
/* "sqlite" or "postgresql". */
const char *ew_store_backend(const struct ew_store *st);

/*
 * Wake-ups (PostgreSQL; groundwork for hosts that follow a fleet's
 * desk): after ew_store_listen, every write another connection commits
 * makes ew_store_wait_fd() readable, and ew_store_wakeups() then counts
 * the wake-ups that arrived since it last ran (0 when none; it does not
 * block).  A wake-up says only "something changed": read the store to
 * know what.  None for a write rolled back, nor for the connection's
 * own writes.  Call ew_store_wakeups before waiting on the fd: a
 * wake-up that came in during another call was read then, and leaves
 * nothing on the socket.  After the server dropped the connection the
 * next call outside a transaction connects again (LISTEN too) and
 * counts as a wake-up.  SQLite: -ENOTSUP, fd -1.
 */
int ew_store_listen(struct ew_store *st);
int ew_store_wait_fd(struct ew_store *st);
int ew_store_wakeups(struct ew_store *st);

/* The number of migrations the open ran (0 when already up to date). */
unsigned ew_store_migrated(const struct ew_store *st);
/* The schema version of the open database. */
int ew_store_version(struct ew_store *st, int *version);
/* The database's message for the last failure, or "" (valid until the
 * next call). */
const char *ew_store_errmsg(const struct ew_store *st);
/*
 * Copy the open database to path with SQLite's online backup API: one
 * consistent snapshot, written to a temporary file beside path (mode
 * 0600), synced and renamed over it; path is the old file or the whole
 * copy, never a part.  0 or -errno (-EIO: SQLite failed, errmsg says).
 * (backup.c)
 */
int ew_store_backup(struct ew_store *st, const char *path);

/*
 * Make several writes one transaction: ew_store_begin, the writes (each
 * of which then runs as a savepoint inside it), ew_store_end(st, rc),
 * which commits when rc is 0 and rolls everything back otherwise, and
 * returns the final result.  Transactions nest.
 */
int ew_store_begin(struct ew_store *st);
int ew_store_end(struct ew_store *st, int rc);

/* --- complaints and their incidents (complaint.c) --- */

struct ew_store_complaint {
	int64_t id;                 /* set by the store */
	const char *message_id;     /* NULL when the mail had none */
	const char *content_sha256; /* hex digest of the raw message */
	/* hex digest of the message without its delivery trace (a copy
	 * delivered again, with other Received: lines, has the same);
	 * NULL on add: content_sha256 */
	const char *content_key;
	/* set by the store: the earlier complaint whose Message-ID this one
	 * carries with other content, or 0 */
	int64_t reuses_message_id;
	const char *reporter;
	const char *forwarder; /* NULL when sent directly */
	const char *format;    /* "arf", "xarf", "text", ... */
	const char *category;  /* NULL when unknown */
	int64_t received_at;
	int64_t date;     /* the mail's Date, or EW_STORE_NO_TIME */
	int64_t deadline; /* or EW_STORE_NO_TIME */
	int64_t raw_size;
	const char *subject;          /* or NULL */
	const char *forwarder_ticket; /* the forwarder's ticket number */
};

/* How an incident was judged against the policy history (schema 7: a
 * number in the database, never text read again). */
enum ew_store_verdict {
	EW_STORE_VERDICT_NONE = 0, /* not judged yet (NULL) */
	EW_STORE_VERDICT_ALLOWED = 1,
	EW_STORE_VERDICT_BLOCKED = 2,
	EW_STORE_VERDICT_NOT_OURS = 3,
	EW_STORE_VERDICT_UNKNOWN = 4,
};
/* "allowed", "blocked", "not ours", "unknown"; NULL for none. */
const char *ew_store_verdict_word(enum ew_store_verdict v);

/* One reported event, as the complainant described it. */
struct ew_store_incident {
	int64_t id;           /* set by the store */
	int64_t complaint_id; /* set by the store on add */
	const char *src;      /* our address they name */
	int src_port;         /* -1 when not given */
	const char *dst;      /* NULL when not given */
	const char *dst_host; /* the host name it was named by, or NULL */
	/* the destination ports, in the order given (none: NULL, 0) */
	const struct ew_port_range *dst_ports;
	size_t n_dst_ports;
	int64_t time;      /* or EW_STORE_NO_TIME */
	int64_t time_from; /* an interval, or EW_STORE_NO_TIME */
	int64_t time_to;
	const char *zone_source; /* where the time zone came from, or NULL */
	enum ew_store_verdict verdict;
};

/*
 * Add a complaint and its n incidents.  A complaint whose content_sha256
 * or content_key is already stored is refused with -EEXIST and *id set
 * to the stored one; nothing is written.  Otherwise *id is the new id.
 * The Message-ID alone never makes a duplicate (a sender chooses it):
 * one already stored with other content is stored again, the new row's
 * reuses_message_id naming the first complaint that carried it.
 */
int ew_store_complaint_add(struct ew_store *st,
    const struct ew_store_complaint *c, const struct ew_store_incident *inc,
    size_t n, int64_t *id);
/*
 * The same for a caller whose transaction fails whole on any error (the
 * desk's intake), with *reused the reuses_message_id stored (0: none):
 * the incidents are sent with the transaction's next statement or its
 * commit (PostgreSQL: one round trip), so one the store refuses fails
 * that statement or the commit, not this call.
 */
int ew_store_complaint_add_later(struct ew_store *st,
    const struct ew_store_complaint *c, const struct ew_store_incident *inc,
    size_t n, int64_t *id, int64_t *reused);
/* One complaint by id (-ENOENT); free with ew_store_complaint_free. */
int ew_store_complaint_get(
    struct ew_store *st, int64_t id, struct ew_store_complaint **out);
/* Every complaint, by id. */
int ew_store_complaint_list(
    struct ew_store *st, struct ew_store_complaint **out, size_t *n);
void ew_store_complaint_free(struct ew_store_complaint *c);
void ew_store_complaints_free(struct ew_store_complaint *v, size_t n);
/* The ticket a complaint is linked to (the newest), or -ENOENT. */
int ew_store_complaint_ticket(
    struct ew_store *st, int64_t complaint_id, int64_t *ticket_id);
/* Add one incident to complaint `complaint_id` (-EINVAL if none). */
int ew_store_incident_add(struct ew_store *st, int64_t complaint_id,
    const struct ew_store_incident *inc, int64_t *id);
/* Set (or with EW_STORE_VERDICT_NONE clear) an incident's verdict
 * (-EINVAL for a value not in the enum). */
int ew_store_incident_set_verdict(
    struct ew_store *st, int64_t incident_id, enum ew_store_verdict verdict);
/* The incidents of a complaint, by id; free with ew_store_incidents_free. */
int ew_store_incident_list(struct ew_store *st, int64_t complaint_id,
    struct ew_store_incident **out, size_t *n);
void ew_store_incidents_free(struct ew_store_incident *v, size_t n);
/* The number of complaints and of incidents stored (for tests, stats). */
int ew_store_count(
    struct ew_store *st, int64_t *complaints, int64_t *incidents);

/* --- tickets and rules (ticket.c) --- */

struct ew_store_ticket {
	int64_t id;
	char *reporter;
	char *category; /* the kind of abuse it is about, or NULL */
	int64_t opened_at;
	int64_t due_at; /* or EW_STORE_NO_TIME */
	int closed;
	char *reason; /* why it was closed, or NULL */
	size_t ncomplaints;
	int overdue; /* open, with a due time at or before `now` */
};

int ew_store_ticket_open(struct ew_store *st, const char *reporter,
    int64_t opened_at, int64_t due_at, int64_t *id);
/* The same for one kind of abuse (`category`, NULL for none). */
int ew_store_ticket_open_kind(struct ew_store *st, const char *reporter,
    const char *category, int64_t opened_at, int64_t due_at, int64_t *id);
/* Link a complaint to a ticket; -EALREADY if linked already. */
int ew_store_ticket_link(
    struct ew_store *st, int64_t ticket_id, int64_t complaint_id);
/* Link a complaint added in the open transaction to a ticket, reading
 * nothing back: sent with the transaction's next statement or commit,
 * whose failure a failure of the link is. */
int ew_store_ticket_link_new(
    struct ew_store *st, int64_t ticket_id, int64_t complaint_id);
int ew_store_ticket_set_due(
    struct ew_store *st, int64_t ticket_id, int64_t due_at);
/* Close an open ticket; -EALREADY if it is closed. */
int ew_store_ticket_close(
    struct ew_store *st, int64_t ticket_id, const char *reason);
/*
 * Tickets ordered by due time (tickets without one last, then by id),
 * closed ones only when `all`, each flagged overdue against `now`.
 */
int ew_store_ticket_list(struct ew_store *st, int64_t now, int all,
    struct ew_store_ticket **out, size_t *n);
void ew_store_tickets_free(struct ew_store_ticket *v, size_t n);
/* One ticket (-ENOENT), flagged overdue against `now`; free with
 * ew_store_tickets_free(t, 1). */
int ew_store_ticket_get(
    struct ew_store *st, int64_t id, int64_t now, struct ew_store_ticket **out);
/* The newest open ticket of `reporter`, or -ENOENT. */
int ew_store_ticket_find_open(
    struct ew_store *st, const char *reporter, int64_t *id);
/* The newest open ticket of `reporter` about `category` (NULL matches
 * only tickets without one), or -ENOENT. */
int ew_store_ticket_find_kind(struct ew_store *st, const char *reporter,
    const char *category, int64_t *id);
/* The same, and *due its due time (EW_STORE_NO_TIME: none). */
int ew_store_ticket_find_due(struct ew_store *st, const char *reporter,
    const char *category, int64_t *id, int64_t *due);
/* The ids of the complaints linked to a ticket, ascending; free(). */
int ew_store_ticket_complaints(
    struct ew_store *st, int64_t ticket_id, int64_t **ids, size_t *n);

struct ew_store_rule {
	int64_t id;
	int64_t ticket_id; /* 0 when not linked to a ticket */
	char *rule_text;
	char *reason;
	int64_t expires_at; /* or EW_STORE_NO_TIME (never) */
	int64_t added_at;
	int64_t removed_at; /* or EW_STORE_NO_TIME (still in force) */
	char *relay;        /* the relay it is for, or NULL: every relay */
	/* where it came from: NULL (a ticket block, or one stored before
	 * exitwarden block add existed), EW_STORE_ORIGIN_MANUAL or 'surge';
	 * the surge guard's name, or NULL */
	char *origin;
	char *guard;
	int64_t rev; /* the store revision of its last change */
	char *host;  /* the host it is for (schema 12), or NULL: every host */
};
#define EW_STORE_ORIGIN_MANUAL "manual"
#define EW_STORE_ORIGIN_SURGE "surge"

/*
 * Add a rule; ticket_id 0 for none (-EINVAL if the ticket is unknown).
 * A ticket holds a rule text in force once: adding it again is -EEXIST
 * with *id the rule in force, and changes nothing.
 */
int ew_store_rule_add(struct ew_store *st, int64_t ticket_id,
    const char *rule_text, const char *reason, int64_t expires_at,
    int64_t added_at, int64_t *id);
/* The same for one relay's policy only (relay NULL: every relay). */
int ew_store_rule_add_relay(struct ew_store *st, int64_t ticket_id,
    const char *relay, const char *rule_text, const char *reason,
    int64_t expires_at, int64_t added_at, int64_t *id);
/* The same with an origin: NULL or EW_STORE_ORIGIN_MANUAL (exitwarden
 * block add; -EINVAL for anything else). */
int ew_store_rule_add_origin(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *rule_text, const char *reason,
    int64_t expires_at, int64_t added_at, int64_t *id);
/* Both: origin (as above) and relay (as above). */
int ew_store_rule_add_full(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *relay, const char *rule_text,
    const char *reason, int64_t expires_at, int64_t added_at, int64_t *id);
/* Mark a rule removed at `at`; -EALREADY if it was removed before. */
int ew_store_rule_remove(struct ew_store *st, int64_t rule_id, int64_t at);
/* Rules by id; removed ones only when `all`. */
int ew_store_rule_list(
    struct ew_store *st, int all, struct ew_store_rule **out, size_t *n);
void ew_store_rules_free(struct ew_store_rule *v, size_t n);

/*
 * The store's revision: every writing transaction adds one (inside one,
 * the revision it will commit as).  Revisions are in commit order, so
 * ew_store_rules_since(cursor) returns exactly the rule changes of the
 * revisions after `cursor`, up to *rev (the revision read with them:
 * the caller's next cursor), removed rules included; none is skipped
 * by a writer that committed late.
 */
int ew_store_rev(struct ew_store *st, int64_t *rev);
int ew_store_rules_since(struct ew_store *st, int64_t cursor,
    struct ew_store_rule **out, size_t *n, int64_t *rev);

/*
 * A rule with a scope (schema 12): host NULL and relay NULL the whole
 * fleet; host set, relay NULL every relay of that host; both set that
 * relay of that host (host NULL, relay set: that relay name on every
 * host, as ew_store_rule_add_full).  Otherwise as ew_store_rule_add_full;
 * a rule text is in force once per ticket, host and relay.
 */
int ew_store_rule_add_scope(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *host, const char *relay,
    const char *rule_text, const char *reason, int64_t expires_at,
    int64_t added_at, int64_t *id);

/* --- the fleet (fleet.c, schema 12) --- */

/*
 * Whether `name` may name a host: 1 to 40 of [a-z0-9_], starting with a
 * letter (it becomes part of the host's role name, EW_STORE_HOST_ROLE
 * followed by the name, a PostgreSQL identifier that needs no quoting).
 */
int ew_store_host_name_ok(const char *name);
#define EW_STORE_HOST_ROLE "ew_host_"

/*
 * Whose rules ew_store_rule_list and ew_store_rules_since return: host
 * NULL (the default, the desk and a single host) the unscoped ones
 * (rules.host NULL) only; a host name those and the ones for that host.
 * -EINVAL for a bad name.
 */
int ew_store_set_scope(struct ew_store *st, const char *host);
/* ew_store_rule_list, with every != 0: the rules of every scope (the
 * desk's block list and expiry: a host's blocks are the desk's too). */
int ew_store_rule_list_every(struct ew_store *st, int all, int every,
    struct ew_store_rule **out, size_t *n);

/* Add a host with its role; -EEXIST if the name or role is taken,
 * -EINVAL for a bad name. */
int ew_store_host_add(
    struct ew_store *st, const char *name, const char *role, int64_t at);
/* Add a relay (40 hex digits of fingerprint) on a known host as
 * `instance` (its name there); -EEXIST, -ENOENT (no such host),
 * -EINVAL. */
int ew_store_relay_add(struct ew_store *st, const char *fp,
    const char *nickname, const char *host, const char *instance, int64_t at);
/* A relay's exit address from `from` on; the one it had before (if
 * another) ends at `from`.  -ENOENT for an unknown relay. */
int ew_store_relay_addr(
    struct ew_store *st, const char *fp, const char *addr, int64_t from);

/* A relay's exit address for a time, with the host and instance that
 * name the relay's policy versions (schema 15). */
struct ew_store_relay_addr {
	char *fp, *host, *instance, *addr;
	int64_t valid_from;
	int64_t valid_to; /* EW_STORE_NO_TIME: still */
};
/*
 * The fleet relays' exit addresses held at some instant of [from, to]
 * (valid_from <= to and from < valid_to; either end EW_STORE_NO_TIME:
 * unbounded), oldest first.  None when the store knows no fleet.
 */
int ew_store_fleet_addrs_during(struct ew_store *st, int64_t from, int64_t to,
    struct ew_store_relay_addr **out, size_t *n);
void ew_store_relay_addrs_free(struct ew_store_relay_addr *v, size_t n);

/*
 * Record what a host applied for one relay ('' or NULL: the host's
 * table of all relays): the digest, the revision it had pulled up to,
 * when, and whether it worked (error: why not, or NULL).  A report,
 * not a decision: it does not move the store's revision, so a host
 * role needs no write access to store_rev.
 */
int ew_store_apply_add(struct ew_store *st, const char *host, const char *relay,
    const char *digest, int64_t rev, int64_t at, int ok, const char *error);
/*
 * The same report with a unique id (1 to 64 of [0-9a-z-]) and the
 * number of reports the host still has queued (outbox >= 0), for a
 * host's outbox: a report whose uid is stored already is ignored (0),
 * so a replay twice stores once.
 */
int ew_store_apply_replay(struct ew_store *st, const char *uid, int64_t outbox,
    const char *host, const char *digest, int64_t rev, int64_t at, int ok,
    const char *error);

/*
 * The full report (the two above are this with blocks NULL and repairs
 * 0): blocks is the digest of the block set the host enforced (its
 * rules' ids and its emergency blocks' uids, ew_store_blocks_digest),
 * repairs how many self-repairs its daemon made since it started.
 */
struct ew_store_apply_rec {
	const char *uid; /* or NULL */
	int64_t outbox;
	const char *host, *relay, *digest;
	int64_t rev, at;
	int ok;
	const char *error;
	const char *blocks; /* or NULL */
	int64_t repairs;
};
int ew_store_apply_report(
    struct ew_store *st, const struct ew_store_apply_rec *r);

/*
 * The digest (hex SHA-256, out[65]) of a block set as fleet status
 * compares it: "r<id>\n" for each rule id, ascending, then "l<uid>\n"
 * for each emergency block uid, in byte order (both arrays are sorted
 * here).  0 or -ENOMEM.
 */
int ew_store_blocks_digest(
    int64_t *ids, size_t nids, char **uids, size_t nuids, char out[65]);

/*
 * A host's emergency block (schema 14, hostblock.c): added on the host,
 * queued in its outbox, replayed into host_blocks.
 */
struct ew_store_host_block {
	int64_t id;
	char *uid, *host, *rule_text, *reason;
	int64_t expires_at; /* EW_STORE_NO_TIME: never */
	int64_t added_at;
	int64_t removed_at; /* EW_STORE_NO_TIME: in force */
	int64_t rule_id;    /* adopted as this rule, or 0 */
	int64_t rev;        /* the desk's revision of its removal, or 0 */
};
/* Store a block a host queued (uid, host, rule_text, reason, expires_at,
 * added_at are read): a uid stored already is ignored (0), so a replay
 * twice stores once.  No new revision.  -EINVAL for a bad field. */
int ew_store_host_block_replay(
    struct ew_store *st, const struct ew_store_host_block *b);
/* since < 0: the emergency blocks in force; else those the desk removed
 * or adopted after revision `since`.  By id. */
int ew_store_host_block_list(struct ew_store *st, int64_t since,
    struct ew_store_host_block **out, size_t *n);
/* The desk removes one (rule_id 0) or adopts it as rule rule_id, at
 * `at`, with the store's revision: -ENOENT none, -EALREADY done. */
int ew_store_host_block_close(
    struct ew_store *st, int64_t id, int64_t at, int64_t rule_id);
void ew_store_host_blocks_free(struct ew_store_host_block *v, size_t n);
/* The name of the host whose role this connection is (PostgreSQL:
 * hosts.role = current_user) into out: 0, -ENOENT (the desk, or
 * SQLite), or -errno. */
int ew_store_host_self(struct ew_store *st, char *out, size_t cap);

/* A host or relay of the fleet, with its last apply report. */
struct ew_store_fleet_row {
	char *host;
	char *role;        /* hosts only */
	char *fp;          /* relays only */
	char *nickname;    /* relays only, or NULL */
	char *instance;    /* relays only */
	int64_t relays;    /* hosts only: how many */
	int64_t last_rev;  /* of the last apply that worked; -1: none */
	int64_t last_at;   /* EW_STORE_NO_TIME: never */
	int last_ok;       /* of the last report */
	char *last_digest; /* or NULL */
	int64_t outbox;    /* hosts: queued reports, as last reported */
	char *last_blocks; /* the block set digest of the last ok apply */
	int64_t repairs;   /* self-repairs, as last reported */
	/* hosts: the digest of the block set the desk wants for it now
	 * (ew_store_fleet_want fills it), to compare with last_blocks */
	char want_blocks[65];
};
/* Every host by name (relays: 0) or every relay by host and instance
 * (relays: 1), with its last report (for a relay: its own, or else the
 * host's report for its table of all relays). */
int ew_store_fleet_list(struct ew_store *st, int relays,
    struct ew_store_fleet_row **out, size_t *n);
/* Each host's want_blocks: the digest of the block set the desk wants
 * it to enforce at now (its scope's rules in force and its emergency
 * blocks in force, unexpired). */
int ew_store_fleet_want(
    struct ew_store *st, struct ew_store_fleet_row *h, size_t nh, int64_t now);
void ew_store_fleet_free(struct ew_store_fleet_row *v, size_t n);

/*
 * Least privilege for hosts (PostgreSQL only).  The desk's role owns
 * the tables and sees everything; a host's role (EW_STORE_HOST_ROLE +
 * name) reads the schema version, the revision, the rules of its scope
 * (the fleet's and its own host's: row-level security on rules.host),
 * its own hosts and relays rows and applies, and inserts applies for
 * itself only; it has no privilege at all on complaints, incidents,
 * tickets or anything else.
 *
 * ew_store_fleet_policy_sql: the SQL that turns row-level security on
 * and (re)creates the policies, idempotent; ew_store_fleet_init runs it
 * as one transaction (-ENOTSUP on SQLite, which has no roles).
 * ew_store_fleet_role_sql: the SQL that makes a host's role, for a
 * superuser or CREATEROLE role to run (malloc'd, NULL when out of
 * memory or when role or password is not 1 to 63 of [a-z0-9_];
 * password NULL: none, for certificate authentication).
 */
const char *ew_store_fleet_policy_sql(void);
int ew_store_fleet_init(struct ew_store *st);
char *ew_store_fleet_role_sql(const char *role, const char *password);
/*
 * The connection string `target` (a URI or keywords) as keywords with
 * its user and password replaced by `user` and `password` (NULL: none):
 * the host's own.  0, or -EINVAL with libpq's reason in err.
 */
int ew_store_conninfo_as(const char *target, const char *user,
    const char *password, char **out, char *err, size_t cap);

/* --- the surge guard (guard.c) --- */

/*
 * Add a block the surge guard decided: a rule like a ticket block (no
 * ticket), with origin 'surge' and the guard's name, and count it for
 * the guard.  One transaction.
 */
int ew_store_surge_add(struct ew_store *st, const char *guard,
    const char *rule_text, const char *reason, int64_t expires_at,
    int64_t added_at, int64_t *id);
/* The surge blocks in force (removed_at NULL), by id; guard[i] is the
 * guard of out[i] (free both with ew_store_surges_free). */
int ew_store_surge_list(
    struct ew_store *st, struct ew_store_rule **out, char ***guard, size_t *n);
void ew_store_surges_free(struct ew_store_rule *v, char **guard, size_t n);

/* Aggregate counts of one guard. */
struct ew_store_guard_count {
	char *guard;
	int64_t surges, capped, allowed;
};
#define EW_STORE_GUARD_CAPPED "capped"
#define EW_STORE_GUARD_ALLOWED "allowed"
/* Add one to a guard's "capped" or "allowed" count. */
int ew_store_guard_count(
    struct ew_store *st, const char *guard, const char *which);
int ew_store_guard_counts(
    struct ew_store *st, struct ew_store_guard_count **out, size_t *n);
void ew_store_guard_counts_free(struct ew_store_guard_count *v, size_t n);

/* --- the daemon's repairs (repair.c) --- */

/* What exitwarden run repaired (repair_counts.what). */
#define EW_STORE_REPAIR_TOR "tor drift"       /* tor's policy applied again */
#define EW_STORE_REPAIR_TABLE "table missing" /* the table loaded again */
#define EW_STORE_REPAIR_BACK "tor back"       /* tor reachable again */

struct ew_store_repair_count {
	char *relay; /* "" for the only relay, or the table of all */
	char *what;  /* one of EW_STORE_REPAIR_* */
	int64_t n;
	int64_t last_at;
};

/* Count one repair of `what` for relay (NULL or "": none) at `at`. */
int ew_store_repair_count(
    struct ew_store *st, const char *relay, const char *what, int64_t at);
/* Every count, by relay then what. */
int ew_store_repair_counts(
    struct ew_store *st, struct ew_store_repair_count **out, size_t *n);
void ew_store_repair_counts_free(struct ew_store_repair_count *v, size_t n);

/* --- policy history (history.c) --- */

struct ew_store_policy_version {
	int64_t id;
	char *digest;
	char *text;
	int64_t applied_from;
	int64_t applied_to; /* or EW_STORE_NO_TIME (still in force) */
	char *relay;        /* "" for the host's only relay (schema 9) */
	char *host; /* the fleet host that applied it, or NULL (schema 15) */
};

/*
 * Record that the policy `text` with `digest` was applied at `at`: the
 * version in force ends at `at` and this one starts.  The digest of the
 * version in force again is a no-op (*id its id).  At or before the
 * current version's start (the same second, or a clock stepped back),
 * the new version starts one second after it: the history only goes
 * forward.  Going back to an earlier policy is a new period: a new
 * version row with the same digest.
 */
int ew_store_policy_record(struct ew_store *st, const char *digest,
    const char *text, int64_t at, int64_t *id);
/*
 * The same for one relay of several on the host: each relay has its own
 * timeline ("" is the only relay's, what ew_store_policy_record
 * records).  ew_store_policy_during and ew_store_policy_at return the
 * versions of every relay; an incident is judged against all of them.
 * On a fleet host's handle (ew_store_set_scope) both record under the
 * host's name (schema 15) and the reads return the host's own versions;
 * on the desk's, the desk's own (host NULL).
 */
int ew_store_policy_record_relay(struct ew_store *st, const char *relay,
    const char *digest, const char *text, int64_t at, int64_t *id);
/*
 * The version in force at `t`: applied_from <= t < applied_to (or no
 * applied_to).  -ENOENT when none was.  Free with
 * ew_store_policy_version_free.
 */
int ew_store_policy_at(
    struct ew_store *st, int64_t t, struct ew_store_policy_version **out);
void ew_store_policy_version_free(struct ew_store_policy_version *v);
/*
 * The versions in force at some instant of [from, to] (either end may be
 * EW_STORE_NO_TIME: unbounded), oldest first; all of them when both are.
 * Free with ew_store_policy_versions_free.
 */
int ew_store_policy_during(struct ew_store *st, int64_t from, int64_t to,
    struct ew_store_policy_version **out, size_t *n);
void ew_store_policy_versions_free(struct ew_store_policy_version *v, size_t n);
/*
 * The fleet hosts' versions (host set: what their relays actually
 * applied) in force at some instant of [from, to], as
 * ew_store_policy_during; host and relay say whose.
 */
int ew_store_fleet_versions_during(struct ew_store *st, int64_t from,
    int64_t to, struct ew_store_policy_version **out, size_t *n);
/*
 * A short text that changes whenever the history does (a version added,
 * or the one in force replaced): for caches of the versions.
 */
int ew_store_policy_signature(struct ew_store *st, char *out, size_t cap);

/* --- the web face: self-service blocks, tokens, figures (web.c) --- */

/* A block in force (or waiting), with where it came from. */
struct ew_store_block {
	int64_t id;
	int64_t ticket_id; /* 0: none */
	char *rule_text;
	char *reason;       /* or NULL */
	char *origin;       /* "ticket" (NULL in the table), "surge", ... */
	int64_t expires_at; /* or EW_STORE_NO_TIME */
	int64_t added_at;
	int pending; /* waits for the operator's confirmation */
	int priv;    /* left off the notice page */
};
#define EW_STORE_ORIGIN_SELF "self-service"

/* The blocks not removed (pending ones too), by id. */
int ew_store_block_list(
    struct ew_store *st, struct ew_store_block **out, size_t *n);
void ew_store_blocks_free(struct ew_store_block *v, size_t n);
/* Confirm a pending block (it joins the managed policy): -ENOENT when
 * no such block is in force, -EALREADY when it was not pending. */
int ew_store_block_confirm(struct ew_store *st, int64_t rule_id);
/* Mark a block private (left off the notice page) or not. */
int ew_store_block_set_private(struct ew_store *st, int64_t rule_id, int priv);

/*
 * Use a form token: -EEXIST when the token `id` was used before
 * (a replay); else it is recorded until `expires_at` and 0.  Tokens
 * expired at `now` are pruned in the same transaction.
 */
int ew_store_token_use(
    struct ew_store *st, const char *id, int64_t expires_at, int64_t now);

/*
 * A self-service block: a ticket (reporter and category "self-service";
 * closed at once with `closed_reason` unless that is NULL) and n rules
 * with origin 'self-service', each expiring at `expires_at`, pending
 * when `pending`.  A rule text a self-service block holds in force
 * already is renewed (its expiry moved to `expires_at` when later)
 * instead of added again: renewed[i] says which (may be NULL).  One
 * transaction; *ticket_id the ticket's id.
 */
int ew_store_selfservice_add(struct ew_store *st, const char *const *rules,
    size_t n, const char *reason, int64_t expires_at, int pending,
    const char *closed_reason, int64_t now, int64_t *ticket_id, int *renewed);

/* Figures for /metrics, each one aggregate query. */
struct ew_store_origin_count {
	char *origin; /* as ew_store_block's */
	int64_t in_force, pending;
};
/* A relay's policy in force: when it was applied ("" the host's only
 * relay). */
struct ew_store_relay_apply {
	char *relay;
	int64_t applied_at;
};
struct ew_store_figures {
	struct ew_store_origin_count *origins;
	size_t norigins;
	struct ew_store_relay_apply *relays; /* by relay */
	size_t nrelays;
	int64_t rev; /* the store's revision */
	int64_t tickets_open, tickets_overdue;
	int64_t versions;     /* policy versions recorded */
	int64_t last_applied; /* the version in force's start, or NO_TIME */
	int64_t db_bytes;     /* page_count * page_size */
	int schema;
};
int ew_store_figures(
    struct ew_store *st, int64_t now, struct ew_store_figures *out);
void ew_store_figures_free(struct ew_store_figures *f);

#endif
