/*
 * cli.h - what the command handlers share: the command table entry, the
 * output helpers and the option parser.
 */
#ifndef EW_CLI_H
#define EW_CLI_H

#include <stdint.h>

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
/* Parse --now's value; exits the command with a message on error. */
int ew_cli_parse_now(const char *s, int64_t *out);
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
};
void ew_cli_nft_args_init(struct ew_cli_nft_args *a);
int ew_cli_nft_opt(
    int argc, char **argv, int *i, int allow_n, struct ew_cli_nft_args *a);
int ew_cli_nft_apply_run(const struct ew_cli_nft_args *a);

#endif
