/*
 * cli.h - what the command files share: the command table entry, the
 * option parser (opt.c), the output helpers (output.c), where the
 * store and the policies live (env.c) and the apply steps (apply.c).
 *
 * Each noun has one file, cmd_<noun>.c, with its handlers; handlers
 * call the modules and these shared helpers, never another command
 * file (scripts/check-layers.sh checks it).
 */
#ifndef EW_CLI_H
#define EW_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "desk/desk.h"
#include "desk/relay.h"
#include "emit/tor.h"

struct ew_addr;
struct ew_buf;
struct ew_diag_list;
struct ew_store;

/* Exit codes. */
#define EW_EXIT_OK 0
#define EW_EXIT_FAIL 1
#define EW_EXIT_USAGE 2

/* ---- options (opt.c) ---- */

/* Every option of every command; opt.c declares each once. */
enum ew_opt_id {
	EW_OPT_HELP,
	EW_OPT_JSON,
	EW_OPT_NOW,
	EW_OPT_DRY_RUN,
	EW_OPT_STRICT,
	EW_OPT_INTERFACE,
	EW_OPT_NO_INTERFACES,
	EW_OPT_UID,
	EW_OPT_STATE,
	EW_OPT_SEED,
	EW_OPT_REEVALUATE,
	EW_OPT_CONTROL,
	EW_OPT_COOKIE,
	EW_OPT_PASSWORD_FILE,
	EW_OPT_FRAGMENT,
	EW_OPT_TIMEOUT,
	EW_OPT_OUTPUT,
	EW_OPT_AT,
	EW_OPT_ALL,
	EW_OPT_CHOICE,
	EW_OPT_EXPIRES,
	EW_OPT_REASON,
	EW_OPT_NO_RESOLVE,
	EW_OPT_NO_APPLY,
	EW_OPT_POLICY,
	EW_OPT_TO,
	EW_OPT_TEMPLATES,
	EW_OPT_ADDRESS,
	EW_OPT_QUIET,
	EW_OPT_PARSER_USER,
	EW_OPT_MAIL_TIMEOUT,
	EW_OPT_MAILDIR,
	EW_OPT_INTERVAL,
	EW_OPT_ONCE,
	EW_OPT_EXPLAIN,
	EW_OPT_UNDO,
	EW_OPT_ROOT,
	/* serve (issue 15) */
	EW_OPT_LISTEN,
	EW_OPT_CONTACT,
	EW_OPT_NOTICE_DIR,
	EW_OPT_TOKEN_KEY,
	EW_OPT_MAX_PREFIX4,
	EW_OPT_MAX_PREFIX6,
	EW_OPT_METRICS_TOKEN,
	EW_OPT_CONFIRM,
	EW_OPT_FINGERPRINT,
	EW_OPT_RELAY,
	EW_OPT_ALL_RELAYS,
	EW_OPT_REPAIR_INTERVAL,
	EW_OPT_TICKET,
	EW_OPT_PENDING,
	EW_OPT_HOST,
	EW_OPT_COUNT_ /* keep last: the options are bits of a uint64_t */
};
#define EW_O(id) ((uint64_t)1 << (id))
_Static_assert(EW_OPT_COUNT_ <= 64, "more options than bits in EW_O");

/* The option sets several commands share, declared once. */
#define EW_OPTS_CONN                                                           \
	(EW_O(EW_OPT_CONTROL) | EW_O(EW_OPT_COOKIE) |                          \
	    EW_O(EW_OPT_PASSWORD_FILE) | EW_O(EW_OPT_TIMEOUT))
#define EW_OPTS_TOR_APPLY                                                      \
	(EW_OPTS_CONN | EW_O(EW_OPT_DRY_RUN) | EW_O(EW_OPT_REEVALUATE) |       \
	    EW_O(EW_OPT_FRAGMENT) | EW_O(EW_OPT_NOW))
#define EW_OPTS_NFT_APPLY                                                      \
	(EW_O(EW_OPT_DRY_RUN) | EW_O(EW_OPT_NOW) | EW_O(EW_OPT_UID) |          \
	    EW_O(EW_OPT_STATE) | EW_O(EW_OPT_SEED))
#define EW_OPTS_APPLY (EW_OPTS_TOR_APPLY | EW_OPTS_NFT_APPLY)
/* the commands that change the managed policy */
#define EW_OPTS_CHANGE                                                         \
	(EW_OPTS_APPLY | EW_O(EW_OPT_NO_APPLY) | EW_O(EW_OPT_POLICY))
#define EW_OPTS_EXPAND                                                         \
	(EW_O(EW_OPT_NOW) | EW_O(EW_OPT_INTERFACE) | EW_O(EW_OPT_NO_INTERFACES))

struct ew_opt {
	enum ew_opt_id id;
	const char *name; /* long name, without the dashes */
	char short_name;  /* or 0 */
	const char *arg;  /* the value's name in help, NULL: takes none */
	const char *help;
};

struct ew_optval {
	const struct ew_opt *opt;
	enum ew_opt_id id;
	const char *val; /* NULL for an option without a value */
};

struct ew_cmd;

/* A command line, parsed: the options in order, then the operands. */
struct ew_args {
	const struct ew_cmd *cmd;
	struct ew_optval *o;
	size_t no;
	char **ops;
	size_t nops;
};

/* One command of the table (main.c). */
struct ew_cmd {
	const char *noun;
	const char *verb; /* NULL: the noun takes no verb */
	int (*fn)(struct ew_args *a);
	unsigned flags;
	uint64_t opts; /* EW_O() of the options it takes */
	const char *usage;
	const char *summary;
};
#define EW_CMD_DEFAULT 1 /* the noun's verb when none is given */
#define EW_CMD_STORE 2   /* it uses the store */

/* What ew_cli_parse returns after printing --help. */
#define EW_CLI_HELPED (-100)

/* Parse argv (after the verb) for c: 0, EW_CLI_HELPED, or an exit code
 * (the message said).  Free a with ew_args_free in any case. */
int ew_cli_parse(
    const struct ew_cmd *c, int argc, char **argv, struct ew_args *a);
void ew_args_free(struct ew_args *a);
/* Between min and max operands: 0, else the usage exit code (said). */
int ew_cli_operands(const struct ew_args *a, size_t min, size_t max);
/* An option the table lets through that this handler does not take:
 * the usage exit code (said). */
int ew_cli_unexpected(const struct ew_args *a, const struct ew_optval *v);
/* Whether the option was given. */
int ew_cli_has(const struct ew_args *a, enum ew_opt_id id);

/* ---- the tables (table.c) ---- */

/* Every command, sorted by noun then verb. */
const struct ew_cmd *ew_cli_cmds(size_t *n);
/* Every option, in the order of enum ew_opt_id. */
const struct ew_opt *ew_cli_opts(size_t *n);
/* The command's help: usage, summary, its options. */
void ew_cli_help_cmd(FILE *f, const struct ew_cmd *c);
/* The program's help: every command with its summary. */
void ew_cli_help(FILE *f);
/* "usage: exitwarden ..." for the command (every verb of the noun when
 * verb is NULL), to stderr; returns 2. */
int ew_cli_usage(const char *noun, const char *verb);

/* Option values: 0, or the usage exit code after saying what is wrong. */
int ew_cli_parse_now(const char *s, int64_t *out);
int ew_cli_parse_num(
    const struct ew_optval *v, uint64_t lo, uint64_t hi, uint64_t *out);
/* --address / --interface ADDR appended to a growing list: 0 or an exit
 * code. */
int ew_cli_addr_list(
    const struct ew_optval *v, struct ew_addr **list, size_t *n);

/* ---- output (output.c) ---- */

/* Print diagnostics to stderr (text, or JSON lines when json). */
void ew_cli_print_diags(const struct ew_diag_list *d, int json);
/* Diagnostics with a location as ew_cli_print_diags does; those
 * without as "exitwarden: message". */
void ew_cli_report(const struct ew_diag_list *d);
/* "exitwarden: " + message to stderr. */
void ew_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A value from outside (a complaint, a file) as a terminal may show it
 * (lib/esc.c's terminal sink), for a printf argument: s itself when it
 * needs nothing, else an escaped copy that stays valid for the next
 * EW_CLI_ESC_RING - 1 calls.  NULL is "".
 */
#define EW_CLI_ESC_RING 8
const char *ew_cli_esc(const char *s);
/*
 * "Did you mean" (suggest.c): offer each known word with
 * ew_cli_similar_add; ew_cli_similar_say writes the ones a slip of the
 * fingers makes `typo` (one or two edits, a swap of neighbours one; or
 * its first three letters or more), each after `pfx` and quoted, "'a'
 * or 'b'", into buf and returns it; NULL if there is none.
 */
#define EW_SIMILAR_MAX 4
struct ew_similar {
	const char *typo;
	const char
	    *best[EW_SIMILAR_MAX]; /* equally near, first offered first */
	size_t nbest;
	unsigned dist;
};
void ew_cli_similar_init(struct ew_similar *s, const char *typo);
void ew_cli_similar_add(struct ew_similar *s, const char *word);
const char *ew_cli_similar_say(
    const struct ew_similar *s, const char *pfx, char *buf, size_t size);
/* Write the buffer's text to stdout and free it: EW_EXIT_OK, or
 * EW_EXIT_FAIL (said) when it ran out of memory or the write failed. */
int ew_cli_put(struct ew_buf *b);
/* Write all of a buffer to stdout; -1 on a write error (said). */
int ew_cli_write(const char *s, size_t n);

/* ---- where things live (env.c) ---- */

/* --db PATH, given before the noun (NULL when not given). */
extern const char *ew_cli_db_opt;
/* --config FILE, given before the noun (NULL when not given). */
extern const char *ew_cli_config_opt;
/* The configuration file's path: --config, $EXITWARDEN_CONFIG, else the
 * default (*explicit_ 0: a missing file is no error). */
const char *ew_cli_conf_path(int *explicit_);
/* Read the configuration file once (a missing default file is none):
 * 0, or EW_EXIT_FAIL with its errors printed. */
int ew_cli_conf_open(void);
void ew_cli_conf_close(void);
/* The configuration read, or NULL when there is none. */
struct ew_conf;
struct ew_conf_relay;
const struct ew_conf *ew_cli_conf(void);
/* The relay whose settings are the commands' defaults (the first of
 * the file), or NULL. */
const struct ew_conf_relay *ew_cli_conf_relay(void);
/* --maildir's value, else $EXITWARDEN_MAILDIR, else the file's, else
 * NULL. */
const char *ew_cli_maildir(const char *opt);
/* $EW_TEMPLATES, else the file's templates, else NULL (built in). */
const char *ew_cli_templates_dir(void);
/* Whether desks resolve destinations named by host name. */
extern int ew_cli_resolve;
/* The database path: --db, $EW_DB, or the default under the state
 * directory. */
const char *ew_cli_db_path(void);
/* The database as printed: a password in a connection string is "***". */
const char *ew_cli_db_label(void);
/* managed.policy beside the database (or $EW_MANAGED). */
const char *ew_cli_managed_path(void);
/* The operator's policy: --policy's value, $EW_POLICY, the one the
 * managed policy includes (exitwarden apply composed it last), or
 * /etc/exitwarden/exit.policy. */
const char *ew_cli_policy_path(const char *opt);
/*
 * tor apply / nft apply of `file` alone: 0 when it drops nothing (no
 * store, no block in force, or file is the managed policy); else say
 * so and return EW_EXIT_FAIL (a dry run: warn and return 0).
 */
int ew_cli_keeps_blocks(const char *file, int dry_run);
/* Open the store (and a desk on it, with the machine's interface
 * addresses plus `extra`); on failure print why and return nonzero. */
int ew_cli_store_open(struct ew_store **st);
int ew_cli_desk_open(const struct ew_addr *extra, size_t n_extra,
    struct ew_store **st, struct ew_desk **d);
/* The machine's interface addresses (caller frees). */
struct ew_addr *ew_cli_interface_addrs(size_t *n);
/* Read all of f, up to limit bytes (*n is limit + 1 when there was
 * more); NUL-terminated; NULL on a read error or out of memory. */
char *ew_cli_read_all(FILE *f, size_t limit, size_t *n);
/* A mail from the file *path, or standard input for "-" (*path becomes
 * "<stdin>"); NULL, said, on error. */
char *ew_cli_read_mail(const char **path, size_t *n);
/* Load a policy file and expand it (machine's interfaces); diagnostics
 * printed; 0 or an exit code. */
struct ew_policy;
struct ew_expanded;
int ew_cli_load(const char *file, int64_t now, struct ew_policy **p,
    struct ew_expanded **e);

/* ---- the apply steps (apply.c) ---- */

/* tor's ControlPort and how to authenticate (tor apply, tor status). */
struct ew_cli_conn {
	struct ew_tor_target t;
	const char *password_file;
	char *password; /* owned; wiped and freed by ew_cli_conn_done */
	int cli_auth;   /* --cookie or --password-file given */
};
/* The configuration's control endpoint and auth (ew_cli_conf_relay),
 * else nothing (tor's defaults). */
void ew_cli_conn_init(struct ew_cli_conn *c);
/* 0 taken, -1 not a connection option, or an exit code. */
int ew_cli_conn_opt(struct ew_cli_conn *c, const struct ew_optval *v);
/* Read the password (file, else $EW_TOR_PASSWORD): 0 or an exit code. */
int ew_cli_conn_ready(struct ew_cli_conn *c);
void ew_cli_conn_done(struct ew_cli_conn *c);

/* The nft step's arguments. */
struct ew_cli_nft_args {
	int dry_run;
	int64_t now;
	const char *user;
	const char *file;
	const char *state; /* --state FILE: the last loaded ruleset */
	uint32_t seed;     /* --seed N: the guards' jhash seed (tests) */
	int seed_set;
	/* several relays: the table of all (relays.c), `file` the
	 * current relay's; NULL: one relay, one policy */
	const struct ew_cli_apply *multi;
};

/*
 * The options of tor apply, nft apply and apply, shared by every
 * command that changes the policy (ticket block, expire, run), and the
 * steps (struct ew_desk_apply_ops) that carry them out.
 */
struct ew_cli_apply {
	struct ew_cli_conn conn;
	const char *frag;
	int64_t tor_now;
	int tor_dry, reevaluate;
	struct ew_cli_nft_args nft;
	int no_apply; /* --no-apply: write the file, apply nothing */
	struct ew_desk_apply_ops ops;
	/* ops.record for every change (NULL: the store's policy history;
	 * a fleet host records nothing there) */
	int (*record)(void *arg, struct ew_desk *d, const char *path,
	    int64_t now, struct ew_diag_list *dg);
	/* the relays of the host (--relay NAME,uid=...; relays.c) and the
	 * one a change acts on (-1: none, the single-relay table) */
	struct ew_relay relays[EW_RELAYS_MAX];
	size_t nrelays;
	int cur;
	const char *select[EW_RELAYS_MAX]; /* --relay NAME: selected */
	size_t nselect;
	char *owned[2 * EW_RELAYS_MAX]; /* the --relay values' copies */
	size_t nowned;
	int conf_done; /* ew_cli_relays_conf has run */
};
void ew_cli_apply_init(struct ew_cli_apply *a);
void ew_cli_apply_free(struct ew_cli_apply *a);
/* 0 taken, -1 not an apply option, or an exit code. */
int ew_cli_apply_opt(struct ew_cli_apply *a, const struct ew_optval *v);
/* The steps alone: tor apply, nft apply (EW_EXIT_*, reported). */
int ew_cli_tor_run(struct ew_cli_apply *a, const char *file);
int ew_cli_nft_run(const struct ew_cli_nft_args *a);
/* The nftables ruleset of a policy file (nft emit, the nft step). */
struct ew_nft_stats;
int ew_cli_nft_build(const struct ew_cli_nft_args *a, struct ew_buf *out,
    struct ew_nft_stats *st);
/*
 * relays.c: --relay NAME,uid=U[,control=C][,cookie=F][,fragment=F]
 * [,managed=F][,policy=F] defines a relay of the host; --relay NAME
 * alone selects one defined (exitwarden.conf will define them).  0
 * taken, or an exit code (said).
 */
int ew_cli_relay_opt(struct ew_cli_apply *a, const char *val);
/*
 * The relays of exitwarden.conf, when it names several and the command
 * line defines none (--relay NAME,uid=... replaces them): relays[]
 * filled, each uid its user's (getpwnam).  A configuration of one relay
 * leaves relays[] empty (the host's only relay, as without relays) and
 * --relay NAME may select it.  Runs once; ew_cli_relays_ready calls it.
 * 0 or an exit code (said).
 */
int ew_cli_relays_conf(struct ew_cli_apply *a);
/* After the options: check the selection (every name defined) and fill
 * the defaults (managed beside the database, policy, uid).  0 or an
 * exit code. */
int ew_cli_relays_ready(struct ew_cli_apply *a, const char *policy);
/* Index of the relay named, or -1. */
int ew_cli_relay_find(const struct ew_cli_apply *a, const char *name);
/* Whether relay i is selected (every relay when none is). */
int ew_cli_relay_selected(const struct ew_cli_apply *a, size_t i);
/* Make relay i the one the next change acts on: ch and the desk set
 * (its managed file, policy, history, blocks). 0 or -ENOMEM. */
int ew_cli_relay_use(struct ew_cli_apply *a, int i, struct ew_desk *d,
    struct ew_desk_change *ch);
/* The table of every relay, relay `cur` from `path` (NULL: its managed
 * file), into out (nft emit, the nft step).  An exit code. */
int ew_cli_nft_build_relays(const struct ew_cli_apply *a, const char *path,
    struct ew_buf *out, struct ew_nft_stats *st);
/* The change of each selected relay (chs[i], names[i]); how many (0:
 * no relay defined: the single-relay change). */
size_t ew_cli_relay_changes(struct ew_cli_apply *a, const char *policy,
    int64_t now, struct ew_desk_change *chs, const char **names);
/* ew_desk_sync, or ew_desk_sync_relays for the relays of ch's apply. */
/*
 * fleet_host.c: run --host NAME, a fleet host following the desk: pull
 * the rule changes of its scope after its cursor, apply, report; woken
 * by NOTIFY and every `interval` seconds; until *stop (or once).
 * EW_EXIT_OK, or EW_EXIT_FAIL when the last round failed.
 */
/* PostgreSQL unreachable at the start of run --host: apply the managed
 * policy the last run left (the host's cache of its desired state)
 * again, store-less, and queue the report in the outbox.  *exp: 0 at
 * the first call; later calls apply it again only when a block of it
 * has expired (*exp, kept here, is the next expiry); the later calls
 * also run the self-repair (every `repair` seconds).  0 or -errno
 * (said). */
int ew_cli_fleet_cached(
    struct ew_cli_apply *ap, const char *policy, unsigned repair, int64_t *exp);
int ew_cli_fleet_follow(struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *ap, const char *policy, const char *host,
    unsigned interval, unsigned repair, int once, volatile sig_atomic_t *stop);
/*
 * fleet_local.c: a fleet host's outbox, its emergency blocks and its
 * cached state applied without the store (the file's comment says
 * how).  The lock (flock on managed.policy.fleet-lock): an fd, or -1.
 */
struct ew_store_apply_rec;
struct ew_store_host_block;
int ew_cli_fleet_lock(void);
void ew_cli_fleet_unlock(int fd);
/* 32 random hex digits. */
int ew_cli_fleet_uid(char out[33]);
/* Queue a record in the outbox, on disk when it returns: 0 or -errno. */
int ew_cli_outbox_add_apply(const struct ew_store_apply_rec *r);
int ew_cli_outbox_add_block(const struct ew_store_host_block *h);
size_t ew_cli_outbox_count(void);
/* Send the outbox as `host`, then empty it: how many records were sent
 * (*nblocks of them emergency blocks), or the store's -errno (the
 * outbox kept whole). */
int ew_cli_outbox_flush(struct ew_store *st, const char *host, size_t *nblocks);
/* The host's emergency blocks in force at now (local file and outbox). */
struct ew_cli_local {
	struct ew_store_host_block *b; /* borrowed from lines */
	struct ew_desk_rule *v;        /* the same, as rules to compose */
	char **lines;
	size_t n;
};
int ew_cli_local_load(struct ew_cli_local *l, int64_t now);
void ew_cli_local_free(struct ew_cli_local *l);
/* A digest of l's uids (what changed is what differs). */
void ew_cli_local_sig(const struct ew_cli_local *l, char out[65]);
/* The desk removed or adopted these: out of the local file.  How many
 * were there, or -errno. */
int ew_cli_local_drop(char **uids, size_t n, int64_t now);
/* The earliest expiry in the host's managed file(s), or EW_NEVER. */
int64_t ew_cli_fleet_next_expiry(const struct ew_cli_apply *ap);
/* Compose every managed file of the host from what it holds with l's
 * emergency blocks, and apply them (tor of each relay, the table once)
 * when one changed or when `force`: 0 or -errno (the files as they
 * were). */
int ew_cli_fleet_local_apply(struct ew_cli_apply *ap, const char *policy,
    const struct ew_cli_local *l, int force);
/* The host this machine follows as (the cursor file), into out: 0 or
 * -ENOENT. */
int ew_cli_fleet_host_name(char *out, size_t cap);
/*
 * block add on a fleet host (cmd_block.c): whether the store names this
 * connection a host, or is unreachable on a machine that follows the
 * desk as a host: 1 (host[] set, *st open or NULL), 0 (not a host; *st
 * NULL), or an exit code (said).
 */
int ew_cli_fleet_host_mode(struct ew_store **st, char *host, size_t cap);
/* The emergency block on this host: applied here at once, queued,
 * sent when st is not NULL.  An exit code. */
int ew_cli_fleet_block(struct ew_cli_apply *ap, const char *policy,
    struct ew_store *st, const char *host, const char *rule, const char *reason,
    int64_t expires, int64_t now, int dry_run);
int ew_cli_sync(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_outcome *oc, struct ew_diag_list *dg);
/* Say what nftables said. */
void ew_cli_nft_err(const struct ew_buf *err, int rc);
/* A change's setting: the managed policy, the operator's policy, the
 * store, now, and a's steps. */
void ew_cli_change_init(struct ew_desk_change *ch, struct ew_cli_apply *a,
    const char *policy, int64_t now);
/* The blocks due at now, listed ("(-n: kept)" when dry_run): the exit
 * code; *n how many. */
int ew_cli_expire_due(struct ew_desk *d, int64_t now, int dry_run, size_t *n);
/* Expire them as one change, saying what happened (quiet: nothing when
 * nothing happened); the exit code. */
int ew_cli_expire(
    struct ew_desk *d, const struct ew_desk_change *ch, int quiet);
/* --expires: a duration from now, a time or "never" (EW_STORE_NO_TIME):
 * 0, or the usage exit code (said). */
int ew_cli_parse_expires(const char *s, int64_t now, int64_t *expires);
/* Report a change's outcome (dg freed); the exit code. */
int ew_cli_change_done(int rc, const struct ew_desk_change *ch,
    const struct ew_desk_outcome *o, struct ew_diag_list *dg);

/* ---- self-repair of the daemon (repair.c) ---- */

/* What tor must report for a managed file, while the file is the same. */
struct ew_cli_repair_cache {
	int valid;
	uint64_t dev, ino;
	int64_t size, mtime_ns;
	char digest[65];
};
/* What run repaired, and when it looks next (per relay: the slot of
 * its index, or 0 for the host's only relay). */
struct ew_cli_repair {
	struct ew_store *st; /* counts kept in the store too (or NULL) */
	struct ew_cli_repair_cache cache[EW_RELAYS_MAX + 1];
	double interval_ms, next_ms;
	size_t tor_drift, table_missing, tor_back, tor_down;
	int up[EW_RELAYS_MAX + 1]; /* tor reachable at the last look: 1,
				      0, -1 not looked at yet */
	double next_try[EW_RELAYS_MAX + 1], backoff_ms[EW_RELAYS_MAX + 1];
	/* the start's apply failed (tor down?): the whole change is
	 * retried, with a growing delay, until it is done */
	int unsynced;
	double sync_backoff_ms;
	size_t sync_retries;
};
void ew_cli_repair_init(struct ew_cli_repair *r, unsigned interval_s);
/* When due: tor of each relay and the table checked against the store,
 * repaired where they differ (said, counted).  An exit code. */
int ew_cli_repair_tick(struct ew_cli_repair *r, struct ew_desk *d,
    struct ew_cli_apply *ap, const char *policy);
/* "repaired: tor drift N, table missing N (...)". */
void ew_cli_repair_say(const struct ew_cli_repair *r);

/* ---- the daemon follows the store (watch.c) ---- */

/* How often run reads the store's revision. */
#define EW_WATCH_POLL_MS 200
struct ew_cli_watch {
	struct ew_store *st;
	int64_t cursor; /* the revision whose changes are applied */
	int have;       /* cursor read */
	int fd;         /* PostgreSQL's wake-up socket, or -1 */
	int woken;      /* a NOTIFY came: look now */
	int follow;     /* 0: run applies nothing (-n, --no-apply) */
	double next_poll_ms, next_ms, backoff_ms, last_ms;
	size_t applied, checks, failed;
};
/* CLOCK_MONOTONIC in milliseconds. */
double ew_cli_mono_ms(void);
/* The revision now, and LISTEN where the store can (PostgreSQL); when
 * not `follow`, nothing (the ticks do nothing, a sleep is a sleep). */
void ew_cli_watch_init(struct ew_cli_watch *w, struct ew_store *st, int follow);
/* Sleep ms, or less when a wake-up comes (PostgreSQL). */
void ew_cli_watch_sleep(struct ew_cli_watch *w, unsigned ms);
/* When the store's revision moved: the store's managed policy applied
 * if it differs from the file (said, counted).  An exit code. */
int ew_cli_watch_tick(struct ew_cli_watch *w, struct ew_desk *d,
    struct ew_cli_apply *ap, const char *policy);
/* "followed the store: N changes applied, ...". */
void ew_cli_watch_say(const struct ew_cli_watch *w);

/* ---- the handlers, one file per noun (main.c's table) ---- */

int ew_cmd_policy_check(struct ew_args *a);
int ew_cmd_policy_expand(struct ew_args *a);
int ew_cmd_policy_show(struct ew_args *a);
int ew_cmd_policy_query(struct ew_args *a);
int ew_cmd_policy_explain(struct ew_args *a);
int ew_cmd_policy_summary(struct ew_args *a);
int ew_cmd_policy_torrc(struct ew_args *a);
int ew_cmd_policy_record(struct ew_args *a);
int ew_cmd_policy_history(struct ew_args *a);
int ew_cmd_complaint_parse(struct ew_args *a);
int ew_cmd_complaint_add(struct ew_args *a);
int ew_cmd_complaint_list(struct ew_args *a);
int ew_cmd_ticket_list(struct ew_args *a);
int ew_cmd_ticket_show(struct ew_args *a);
int ew_cmd_ticket_block(struct ew_args *a);
int ew_cmd_ticket_reply(struct ew_args *a);
int ew_cmd_ticket_close(struct ew_args *a);
int ew_cmd_expire(struct ew_args *a);
int ew_cmd_apply(struct ew_args *a);
int ew_cmd_nft_emit(struct ew_args *a);
int ew_cmd_nft_apply(struct ew_args *a);
int ew_cmd_nft_flush(struct ew_args *a);
int ew_cmd_nft_element(struct ew_args *a);
int ew_cmd_stats(struct ew_args *a);
int ew_cmd_tor_emit(struct ew_args *a);
int ew_cmd_tor_apply(struct ew_args *a);
int ew_cmd_tor_status(struct ew_args *a);
int ew_cmd_inbox_scan(struct ew_args *a);
int ew_cmd_run(struct ew_args *a);
int ew_cmd_guard_status(struct ew_args *a);
int ew_cmd_fleet_init(struct ew_args *a);
int ew_cmd_fleet_add_host(struct ew_args *a);
int ew_cmd_fleet_add_relay(struct ew_args *a);
int ew_cmd_fleet_status(struct ew_args *a);
int ew_cmd_template_export(struct ew_args *a);
int ew_cmd_backup(struct ew_args *a);
int ew_cmd_config_check(struct ew_args *a);
int ew_cmd_config_show(struct ew_args *a);
int ew_cmd_setup(struct ew_args *a);
int ew_cmd_serve(struct ew_args *a);
int ew_cmd_block_add(struct ew_args *a);
int ew_cmd_block_list(struct ew_args *a);
int ew_cmd_block_remove(struct ew_args *a);
int ew_cmd_block_confirm(struct ew_args *a);
int ew_cmd_block_adopt(struct ew_args *a);
int ew_cmd_status(struct ew_args *a);

#endif
