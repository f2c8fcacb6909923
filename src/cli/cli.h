/*
 * cli.h - what the command handlers share: the command table entry, the
 * output helpers and the option parser.
 */
#ifndef EW_CLI_H
#define EW_CLI_H

#include <stdint.h>
#include <stdio.h>

struct ew_diag_list;

struct ew_cmd {
	const char *noun;
	const char *verb;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

/* Exit codes. */
#define EW_EXIT_OK 0
#define EW_EXIT_FAIL 1
#define EW_EXIT_USAGE 2

/* Print diagnostics to stderr (text, or JSON lines when json). */
void ew_cli_print_diags(const struct ew_diag_list *d, int json);
/* "usage: exitwarden ..." for the command, to stderr; returns 2. */
int ew_cli_usage(const char *noun, const char *verb);
/* "exitwarden: " + message to stderr. */
void ew_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A value from outside (a complaint, a file) as a terminal may show it
 * (lib/esc.c's terminal sink: controls, C1, bidi overrides, newlines
 * escaped, invalid UTF-8 as U+FFFD), for a printf argument: s itself
 * when it needs nothing, else an escaped copy that stays valid for the
 * next EW_CLI_ESC_RING - 1 calls (so one printf may take that many).
 * NULL is "".
 */
#define EW_CLI_ESC_RING 8
const char *ew_cli_esc(const char *s);
/* The arguments of a command that takes only --json: 0, or the usage
 * exit code after saying what is wrong. */
int ew_cli_json_only(
    int argc, char **argv, const char *noun, const char *verb, int *json);
/* Parse --now's value; exits the command with a message on error. */
int ew_cli_parse_now(const char *s, int64_t *out);
/* Write the buffer's text to stdout and free it: EW_EXIT_OK, or
 * EW_EXIT_FAIL (said) when it ran out of memory or the write failed. */
struct ew_buf;
int ew_cli_put(struct ew_buf *b);
/* Write all of a buffer to stdout; -1 on a write error. */
int ew_cli_write(const char *s, size_t n);
/*
 * The machine's interface addresses, for ExitPolicyRejectLocalInterfaces
 * (tor's get_interface_address6_list; expansion filters them as tor
 * does).  Caller frees; NULL and *n 0 when none could be read.
 */
struct ew_addr;
struct ew_addr *ew_cli_interface_addrs(size_t *n);

int ew_cmd_policy_check(int argc, char **argv);
int ew_cmd_policy_expand(int argc, char **argv);
int ew_cmd_policy_show(int argc, char **argv);
int ew_cmd_policy_query(int argc, char **argv);
int ew_cmd_policy_explain(int argc, char **argv);
int ew_cmd_policy_summary(int argc, char **argv);
int ew_cmd_complaint_parse(int argc, char **argv);
int ew_cmd_policy_torrc(int argc, char **argv);
int ew_cmd_nft_emit(int argc, char **argv);
int ew_cmd_nft_apply(int argc, char **argv);
int ew_cmd_nft_flush(int argc, char **argv);
int ew_cmd_nft_element(int argc, char **argv);
int ew_cmd_stats(int argc, char **argv);
int ew_cmd_tor_emit(int argc, char **argv);
int ew_cmd_tor_apply(int argc, char **argv);
int ew_cmd_tor_status(int argc, char **argv);
int ew_cmd_apply(int argc, char **argv);
int ew_cmd_complaint_add(int argc, char **argv);
int ew_cmd_complaint_list(int argc, char **argv);
int ew_cmd_ticket_list(int argc, char **argv);
int ew_cmd_ticket_show(int argc, char **argv);
int ew_cmd_ticket_block(int argc, char **argv);
int ew_cmd_ticket_reply(int argc, char **argv);
int ew_cmd_ticket_close(int argc, char **argv);
int ew_cmd_policy_record(int argc, char **argv);
int ew_cmd_policy_history(int argc, char **argv);
int ew_cmd_expire(int argc, char **argv);
int ew_cmd_inbox_scan(int argc, char **argv);
int ew_cmd_run(int argc, char **argv);
int ew_cmd_template_export(int argc, char **argv);
int ew_cmd_guard_status(int argc, char **argv);

/*
 * Read all of f, refusing more than `limit` bytes (*n is then limit + 1
 * and the data is NULL-free but truncated: callers check *n > limit).
 * NUL-terminated; NULL on a read error or out of memory.
 */
char *ew_cli_read_all(FILE *f, size_t limit, size_t *n);
/* A mail from the file *path, or standard input for "-" (*path becomes
 * "<stdin>"), up to one byte past EW_MAIL_MAX_SIZE; NULL, said, on error. */
char *ew_cli_read_mail(const char **path, size_t *n);

/* ---- the store (cmd_desk.c) ---- */

/* --db PATH, given before the noun (NULL when not given). */
extern const char *ew_cli_db_opt;
struct ew_store;
struct ew_desk;
/* The database path: --db, $EW_DB, or the default under the state
 * directory (made, mode 0700, when missing). */
const char *ew_cli_db_path(void);
/* Open the store (and a desk on it, with the machine's interface
 * addresses plus `extra`); on failure print why and return nonzero. */
int ew_cli_store_open(struct ew_store **st);
int ew_cli_desk_open(const struct ew_addr *extra, size_t n_extra,
    struct ew_store **st, struct ew_desk **d);
/*
 * The managed policy around a change (managed_file.c).  Before writing
 * it, a change that may roll back calls ew_cli_want_previous; the
 * writer then keeps the file it replaces (ew_cli_keep_previous: a hard
 * link, no space needed) until ew_cli_forget_previous.  ew_cli_put_back
 * puts `want` at path without needing free space (the kept file renamed
 * back when it is `want`; in place over the bigger file on a full
 * disk); 0 or -errno.
 */
void ew_cli_want_previous(void);
void ew_cli_keep_previous(const char *path);
void ew_cli_forget_previous(void);
int ew_cli_put_back(
    const char *path, const struct ew_buf *want, struct ew_diag_list *dg);
/* "- line" / "+ line" for the lines one text has and the other lacks
 * (n log n in the lines). */
void ew_cli_print_diff(const char *before, const char *after);

/* Whether desks opened from now on resolve destinations named by host
 * name (the system's resolver, bounded); --no-resolve clears it. */
extern int ew_cli_resolve;
/* The operator's policy: --policy's value, $EW_POLICY, or the default. */
const char *ew_cli_policy_path(const char *opt);
/* managed.policy beside the database (or $EW_MANAGED). */
const char *ew_cli_managed_path(void);
/* Record the policy file `path` as applied at `now`; prints errors. */
int ew_cli_record(struct ew_desk *d, const char *path, int64_t now);
/* A complaint's incidents as a JSON array (id, src, dst, dst_ports,
 * time, time_from, time_to, verdict), appended to b. */
struct ew_buf;
int ew_cli_incidents_json(
    struct ew_store *st, int64_t complaint_id, struct ew_buf *b);
/* One ticket as `ticket show` prints it, appended to out (nothing on
 * failure, which is said). */
int ew_cli_ticket_format(struct ew_store *st, struct ew_desk *d, int64_t id,
    int64_t now, int json, struct ew_buf *out);
/* Print one ticket as `ticket show` does. */
int ew_cli_ticket_print(
    struct ew_store *st, struct ew_desk *d, int64_t id, int64_t now, int json);
/* Parse "--address ADDR" into a growing list; 0 taken, -1 not ours, 2 bad. */
int ew_cli_address_opt(
    int argc, char **argv, int *i, struct ew_addr **v, size_t *n);

/*
 * tor apply and nft apply as option parsing plus a run, so that
 * exitwarden apply does both from one command line.  The option parsers
 * take the option at argv[*i] (and its value, advancing *i): 0 when
 * taken, -1 when it is not theirs, or an exit code.
 */
struct ew_cli_tor_apply;
struct ew_cli_tor_apply *ew_cli_tor_apply_new(void);
int ew_cli_tor_apply_opt(
    struct ew_cli_tor_apply *a, int argc, char **argv, int *i);
int ew_cli_tor_apply_run(struct ew_cli_tor_apply *a, const char *file);
void ew_cli_tor_apply_free(struct ew_cli_tor_apply *a);

struct ew_cli_nft_args {
	int dry_run;
	int64_t now;
	const char *user;
	const char *file;
	const char *state; /* --state FILE: the last loaded ruleset */
	uint32_t seed;     /* --seed N: the guards' jhash seed (tests) */
	int seed_set;
};
void ew_cli_nft_args_init(struct ew_cli_nft_args *a);
int ew_cli_nft_opt(
    int argc, char **argv, int *i, int allow_n, struct ew_cli_nft_args *a);
int ew_cli_nft_apply_run(const struct ew_cli_nft_args *a);

/*
 * exitwarden apply's options and run, shared with the commands that
 * change the policy (ticket block, expire, run): tor, then nftables,
 * then (unless a dry run) the version recorded in the store.
 */
struct ew_cli_apply {
	struct ew_cli_tor_apply *tor;
	struct ew_cli_nft_args nft;
	int no_apply; /* --no-apply: write the file, apply nothing */
	int tor_only; /* the caller changes the kernel in place itself */
};
int ew_cli_apply_init(struct ew_cli_apply *a);
/* 0 when argv[*i] was an apply option (taken), -1 when it is not one,
 * or an exit code. */
int ew_cli_apply_opt(struct ew_cli_apply *a, int argc, char **argv, int *i);
/* Apply `file`; EW_EXIT_OK or EW_EXIT_FAIL (with messages printed).
 * *tor_ok (may be NULL) says whether tor took it (not a dry run), even
 * when the nft step failed after. */
int ew_cli_apply_file(struct ew_cli_apply *a, const char *file, int *tor_ok);
void ew_cli_apply_free(struct ew_cli_apply *a);
/*
 * Write the managed policy from the store's rules, then apply it and
 * record it unless a->no_apply.  *wrote says whether the file was
 * written.  Callers that changed the store hold a transaction around it
 * and, on failure, roll back and restore (file and apply).
 */
int ew_cli_managed_sync(struct ew_desk *d, struct ew_cli_apply *a,
    const char *policy, int64_t now, int *wrote);
/* Remove the blocks whose time has come and apply again (one store
 * transaction); quiet says nothing when none has expired. */
int ew_cli_expire(struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *a, const char *policy, int dry_run, int64_t now,
    int quiet);

/*
 * The surge guard's part of run (cmd_guard.c): wait `seconds`, reading
 * the kernel's surge sets meanwhile and turning new surges into applied
 * blocks (a plain sleep when the policy has no guards).
 */
#include <signal.h>
struct ew_cli_guard;
struct ew_cli_guard *ew_cli_guard_new(void);
void ew_cli_guard_free(struct ew_cli_guard *cg);
int ew_cli_guard_wait(struct ew_cli_guard *cg, struct ew_desk *d,
    struct ew_store *st, struct ew_cli_apply *a, const char *policy,
    unsigned seconds, const volatile sig_atomic_t *stop);

#endif
