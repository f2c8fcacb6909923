/*
 * main.c - exitwarden's entry point: global options, the command table
 * and dispatch.  Grammar: exitwarden [--help|--version] NOUN VERB [ARGS].
 * A noun without a verb runs the noun's first (listing) verb, as "ip
 * rule" and "git remote" do.  No abbreviations.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/privsep.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/esc.h"
#include "lib/tm.h"

#define EW_VERSION "0.1.0"

static const struct ew_cmd cmds[] = {
	{ "policy", "check", ew_cmd_policy_check,
	    "policy check [--json] [--now TIME] [--strict] FILE...",
	    "validate policy files and report every problem" },
	{ "policy", "expand", ew_cmd_policy_expand,
	    "policy expand [--now TIME] [--interface ADDR]... FILE",
	    "print the effective policy exactly as tor builds it" },
	{ "policy", "show", ew_cmd_policy_show, "policy show FILE",
	    "print the policy in canonical form" },
	{ "policy", "query", ew_cmd_policy_query,
	    "policy query [--json] [--now TIME] FILE ADDR:PORT...|-",
	    "tor's verdict for each destination" },
	{ "policy", "explain", ew_cmd_policy_explain,
	    "policy explain [--now TIME] FILE ADDR:PORT",
	    "which rule decides a destination, and why it exists" },
	{ "policy", "summary", ew_cmd_policy_summary,
	    "policy summary [--now TIME] FILE",
	    "the microdescriptor p and p6 lines tor publishes" },
	{ "policy", "torrc", ew_cmd_policy_torrc,
	    "policy torrc [--now TIME] FILE",
	    "the torrc lines that make tor enforce the policy" },
	{ "complaint", "list", ew_cmd_complaint_list, "complaint list [--json]",
	    "the complaints stored, with their tickets" },
	{ "complaint", "add", ew_cmd_complaint_add,
	    "complaint add [--json] [--no-resolve] [--now TIME] "
	    "[--address ADDR]... FILE|-",
	    "store a complaint, judge its incidents, file it under a ticket" },
	{ "complaint", "parse", ew_cmd_complaint_parse,
	    "complaint parse [--explain] [--json] FILE|-",
	    "read an abuse complaint and print its incidents" },
	{ "nft", "emit", ew_cmd_nft_emit,
	    "nft emit [--now TIME] [--uid USER|UID] FILE",
	    "print the nftables ruleset of table inet exitwarden" },
	{ "nft", "apply", ew_cmd_nft_apply,
	    "nft apply [-n|--dry-run] [--now TIME] [--uid USER|UID] "
	    "[--state FILE] FILE",
	    "load table inet exitwarden atomically" },
	{ "nft", "flush", ew_cmd_nft_flush, "nft flush [-n|--dry-run]",
	    "delete table inet exitwarden (only it)" },
	{ "nft", "element", ew_cmd_nft_element,
	    "nft element add|delete SET ADDR[/LEN]...",
	    "change a set of the table in place (no full reload)" },
	{ "stats", "show", ew_cmd_stats, "stats [--json]",
	    "per-rule packet and byte counters of the nftables table" },
	{ "tor", "emit", ew_cmd_tor_emit,
	    "tor emit [--now TIME] [-o FILE] POLICY",
	    "write the torrc fragment that carries the policy" },
	{ "tor", "apply", ew_cmd_tor_apply,
	    "tor apply [-n] [--reevaluate] [--control HOST:PORT|PATH] "
	    "[--cookie FILE | --password-file FILE] [--fragment FILE] "
	    "[--timeout SEC] [--now TIME] POLICY",
	    "make the running tor use the policy, verified, with rollback" },
	{ "apply", "all", ew_cmd_apply,
	    "apply [-n] [--reevaluate] [--control HOST:PORT|PATH] "
	    "[--cookie FILE | --password-file FILE] [--fragment FILE] "
	    "[--timeout SEC] [--uid USER|UID] [--state FILE] [--now TIME] "
	    "POLICY",
	    "tor apply, then (if it worked) nft apply; reports both" },
	{ "policy", "record", ew_cmd_policy_record,
	    "policy record [--at TIME] POLICY",
	    "record POLICY as the version in force since TIME (now)" },
	{ "policy", "history", ew_cmd_policy_history, "policy history [--json]",
	    "the policy versions applied, with when each was in force" },
	{ "ticket", "list", ew_cmd_ticket_list,
	    "ticket list [--all] [--json] [--now TIME]",
	    "open tickets by due time; overdue ones flagged" },
	{ "ticket", "show", ew_cmd_ticket_show,
	    "ticket show [--json] [--no-resolve] [--now TIME] N",
	    "a ticket: complaints, judged incidents, proposals, blocks" },
	{ "ticket", "block", ew_cmd_ticket_block,
	    "ticket block [--choice K] [--expires DUR|TIME|never] "
	    "[--no-resolve] "
	    "[--reason TEXT] [-n] [--no-apply] [--policy FILE] "
	    "[APPLY OPTIONS] N",
	    "add a proposal's rules to the managed policy and apply it" },
	{ "ticket", "reply", ew_cmd_ticket_reply,
	    "ticket reply [--to provider|complainant] [--templates DIR] "
	    "[--now TIME] N",
	    "draft the answer from a template" },
	{ "ticket", "close", ew_cmd_ticket_close,
	    "ticket close [--reason TEXT] N", "close a ticket" },
	{ "expire", "all", ew_cmd_expire,
	    "expire [-n] [--no-apply] [--policy FILE] [APPLY OPTIONS]",
	    "remove the blocks whose time has come, and apply again" },
	{ "inbox", "scan", ew_cmd_inbox_scan,
	    "inbox scan [--json] [-q] [--address ADDR]... [--parser-user "
	    "USER] [--mail-timeout SEC] MAILDIR",
	    "take in every new complaint of a Maildir, crash-safe" },
	{ "run", "daemon", ew_cmd_run,
	    "run [--maildir DIR] [--interval SEC] [--once] [--policy FILE] "
	    "[--address ADDR]... [--parser-user USER] [--mail-timeout SEC] "
	    "[APPLY OPTIONS]",
	    "the daemon: scan the inbox, expire blocks, re-apply" },
	{ "guard", "status", ew_cmd_guard_status,
	    "guard status [--json] [--policy FILE]",
	    "the surge guards: surge blocks in force, counters" },
	{ "template", "export", ew_cmd_template_export, "template export DIR",
	    "write the built-in reply templates, to edit" },
	{ "tor", "status", ew_cmd_tor_status,
	    "tor status [--control HOST:PORT|PATH] [--cookie FILE | "
	    "--password-file FILE] [POLICY]",
	    "tor's version, exit or not, live policy digest (vs POLICY: "
	    "exit 1 when they differ), p lines" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: exitwarden [--help] [--version] [--db PATH] <noun> "
		   "<verb> [options] [args]\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  exitwarden %s\n", cmds[i].usage);
	fprintf(f, "\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %s %-10s %s\n", cmds[i].noun, cmds[i].verb,
		    cmds[i].summary);
}

/* A message is one line: whatever it quotes (a path, a complaint's
 * words) is shown as the terminal sink shows it. */
void
ew_cli_err(const char *fmt, ...)
{
	struct ew_buf m = EW_BUF_INIT, e = EW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ew_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	ew_esc_term(&e, ew_buf_str(&m), m.len, 0);
	fprintf(stderr, "exitwarden: %s\n",
	    e.oom || m.oom ? "out of memory" : ew_buf_str(&e));
	ew_buf_free(&m);
	ew_buf_free(&e);
}

const char *
ew_cli_esc(const char *s)
{
	static struct ew_buf ring[EW_CLI_ESC_RING];
	static unsigned next;
	struct ew_buf *b;

	if (s == NULL)
		return "";
	if (!ew_esc_term_needed(s, strlen(s), 0))
		return s;
	b = &ring[next++ % EW_CLI_ESC_RING];
	ew_buf_reset(b);
	ew_esc_term(b, s, strlen(s), 0);
	return b->oom ? "(out of memory)" : ew_buf_str(b);
}

int
ew_cli_usage(const char *noun, const char *verb)
{
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].noun, noun) == 0 &&
		    (verb == NULL || strcmp(cmds[i].verb, verb) == 0))
			fprintf(
			    stderr, "usage: exitwarden %s\n", cmds[i].usage);
	}
	return EW_EXIT_USAGE;
}

void
ew_cli_print_diags(const struct ew_diag_list *d, int json)
{
	struct ew_buf b = EW_BUF_INIT;

	if (json)
		ew_diag_format_json(d, &b);
	else
		ew_diag_format(d, &b);
	fputs(ew_buf_str(&b), stderr);
	ew_buf_free(&b);
}

int
ew_cli_json_only(
    int argc, char **argv, const char *noun, const char *verb, int *json)
{
	int i;

	*json = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			ew_cli_err("unknown argument '%s'", argv[i]);
			return ew_cli_usage(noun, verb);
		}
		*json = 1;
	}
	return 0;
}

int
ew_cli_parse_now(const char *s, int64_t *out)
{
	if (ew_time_parse(s, strlen(s), out) < 0) {
		ew_cli_err("malformed time '%s' for --now (use "
			   "YYYY-MM-DDTHH:MM:SSZ)",
		    s);
		return -1;
	}
	return 0;
}

int
ew_cli_put(struct ew_buf *b)
{
	int rc = EW_EXIT_OK;

	if (b->oom) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
	} else if (ew_cli_write(ew_buf_str(b), b->len) < 0) {
		rc = EW_EXIT_FAIL;
	}
	ew_buf_free(b);
	return rc;
}

int
ew_cli_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ew_cli_err("write error: %s", strerror(errno));
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;
	const char *noun, *verb;
	int found_noun = 0;

	if (argc < 2) {
		help(stderr);
		return EW_EXIT_USAGE;
	}
	/* the mail parser child of inbox scan and run (privsep.c) */
	if (argc == 2 && strcmp(argv[1], EW_PRIVSEP_CHILD_ARG) == 0)
		return ew_privsep_child_main();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		help(stdout);
		return EW_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("exitwarden %s\n", EW_VERSION);
		return EW_EXIT_OK;
	}
	/* global options, before the noun */
	while (argc > 2 && strcmp(argv[1], "--db") == 0) {
		ew_cli_db_opt = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || strcmp(argv[1], "--db") == 0) {
		help(stderr);
		return EW_EXIT_USAGE;
	}
	noun = argv[1];
	verb = argc > 2 ? argv[2] : NULL;
	/* "exitwarden stats --json": options without a verb go to the
	 * noun's first verb */
	if (verb != NULL && verb[0] == '-') {
		for (i = 0; i < NCMDS; i++)
			if (strcmp(cmds[i].noun, noun) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].noun, noun) != 0)
			continue;
		if (!found_noun && verb == NULL) {
			char *fake[2] = { (char *)cmds[i].verb, NULL };

			return cmds[i].fn(1, fake);
		}
		found_noun = 1;
		if (verb != NULL && strcmp(cmds[i].verb, verb) == 0)
			return cmds[i].fn(argc - 2, argv + 2);
	}
	/* a noun with one command ("apply POLICY") takes operands too */
	for (i = 0; found_noun && i < NCMDS; i++) {
		if (strcmp(cmds[i].noun, noun) == 0 &&
		    (i + 1 == NCMDS || strcmp(cmds[i + 1].noun, noun) != 0) &&
		    (i == 0 || strcmp(cmds[i - 1].noun, noun) != 0))
			return cmds[i].fn(argc - 1, argv + 1);
	}
	if (found_noun) {
		ew_cli_err("unknown command '%s %s'; try 'exitwarden --help'",
		    noun, verb);
		return EW_EXIT_USAGE;
	}
	ew_cli_err("unknown command '%s'; try 'exitwarden --help'", noun);
	return EW_EXIT_USAGE;
}
