/*
 * table.c - the command table and the option table: every command of
 * exitwarden with its usage, summary and the options it takes, and
 * every option with its help, each declared once.  `exitwarden help`,
 * `--help` on every command, the usage lines of errors, the
 * conformance test (tests/cli/conformance.py) and the man page
 * (docs/exitwarden.1) all come from here.
 *
 * The command table is sorted by noun, then verb (strcmp order, a NULL
 * verb first): keep it sorted.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Sorted by id (enum ew_opt_id); the help lists them in this order. */
static const struct ew_opt opts[] = {
	{ EW_OPT_HELP, "help", 'h', NULL, "print this help and exit" },
	{ EW_OPT_JSON, "json", 0, NULL, "machine output: JSON" },
	{ EW_OPT_NOW, "now", 0, "TIME",
	    "take TIME (YYYY-MM-DDTHH:MM:SSZ) as the present" },
	{ EW_OPT_DRY_RUN, "dry-run", 'n', NULL,
	    "check and show what would change; change nothing" },
	{ EW_OPT_STRICT, "strict", 0, NULL, "fail on warnings too" },
	{ EW_OPT_INTERFACE, "interface", 0, "ADDR",
	    "an interface address of the relay (repeatable; replaces the "
	    "machine's)" },
	{ EW_OPT_NO_INTERFACES, "no-interfaces", 0, NULL,
	    "assume the machine has no interface addresses" },
	{ EW_OPT_UID, "uid", 0, "USER|UID",
	    "the user tor runs as (default: the configuration's, else "
	    "debian-tor)" },
	{ EW_OPT_STATE, "state", 0, "FILE",
	    "the last loaded ruleset, for in-place set updates" },
	{ EW_OPT_SEED, "seed", 0, "N", "the guards' hash seed (tests)" },
	{ EW_OPT_REEVALUATE, "reevaluate", 0, NULL,
	    "let tor close open streams the new policy rejects" },
	{ EW_OPT_CONTROL, "control", 0, "HOST:PORT|PATH",
	    "tor's ControlPort (default: the configuration's, else "
	    "/run/tor/control, then 127.0.0.1:9051)" },
	{ EW_OPT_COOKIE, "cookie", 0, "FILE",
	    "authenticate with this cookie file" },
	{ EW_OPT_PASSWORD_FILE, "password-file", 0, "FILE",
	    "authenticate with the password in FILE (or $EW_TOR_PASSWORD)" },
	{ EW_OPT_FRAGMENT, "fragment", 0, "FILE",
	    "also write the torrc fragment, so a restart of tor keeps it "
	    "(default: the configuration's)" },
	{ EW_OPT_TIMEOUT, "timeout", 0, "SEC",
	    "give tor at most SEC seconds (1-600)" },
	{ EW_OPT_OUTPUT, "output", 'o', "FILE", "write to FILE, atomically" },
	{ EW_OPT_AT, "at", 0, "TIME", "the time it took effect (now)" },
	{ EW_OPT_ALL, "all", 0, NULL, "closed or removed ones too" },
	{ EW_OPT_PENDING, "pending", 0, NULL,
	    "only the blocks waiting for the operator's confirmation" },
	{ EW_OPT_CHOICE, "choice", 0, "K",
	    "which proposal (1 = narrowest; ticket show lists them)" },
	{ EW_OPT_EXPIRES, "expires", 0, "DUR|TIME|never",
	    "when the block ends (default 90d)" },
	{ EW_OPT_REASON, "reason", 0, "TEXT", "why, in words" },
	{ EW_OPT_NO_RESOLVE, "no-resolve", 0, NULL,
	    "do not resolve destinations given by host name" },
	{ EW_OPT_NO_APPLY, "no-apply", 0, NULL,
	    "write the managed policy, apply nothing" },
	{ EW_OPT_POLICY, "policy", 0, "FILE",
	    "the operator's policy (default $EW_POLICY, "
	    "/etc/exitwarden/exit.policy)" },
	{ EW_OPT_TO, "to", 0, "provider|complainant", "whom the reply is for" },
	{ EW_OPT_TEMPLATES, "templates", 0, "DIR",
	    "reply templates (default $EW_TEMPLATES, else built in)" },
	{ EW_OPT_ADDRESS, "address", 0, "ADDR",
	    "an address of the relay besides its interfaces (repeatable)" },
	{ EW_OPT_QUIET, "quiet", 'q', NULL, "print only the counts" },
	{ EW_OPT_PARSER_USER, "parser-user", 0, "USER",
	    "as root: the unprivileged user that parses mail" },
	{ EW_OPT_MAIL_TIMEOUT, "mail-timeout", 0, "SEC",
	    "at most SEC seconds (1-3600) to parse one mail" },
	{ EW_OPT_MAILDIR, "maildir", 0, "DIR", "the inbox to scan" },
	{ EW_OPT_INTERVAL, "interval", 0, "SEC",
	    "seconds between rounds (1-86400, default 60)" },
	{ EW_OPT_ONCE, "once", 0, NULL, "one round, then exit" },
	{ EW_OPT_EXPLAIN, "explain", 0, NULL,
	    "say, for each fact, where it was read and which rule fired" },
	{ EW_OPT_UNDO, "undo", 0, NULL,
	    "put back the files the last setup changed" },
	{ EW_OPT_ROOT, "root", 0, "DIR",
	    "work on the tree under DIR instead of / (tests, images)" },
	{ EW_OPT_LISTEN, "listen", 0, "ADDR:PORT",
	    "listen on ADDR:PORT or [ADDR6]:PORT (default 127.0.0.1:8080)" },
	{ EW_OPT_CONTACT, "contact", 0, "TEXT",
	    "the operator's contact, shown on the notice page" },
	{ EW_OPT_NOTICE_DIR, "notice-dir", 0, "DIR",
	    "the page templates (notice.html, block.html, result.html, "
	    "style.css; default built in)" },
	{ EW_OPT_TOKEN_KEY, "token-key", 0, "FILE",
	    "the form tokens' HMAC key, 32-256 bytes, mode 0600 (default: a "
	    "random one per start)" },
	{ EW_OPT_MAX_PREFIX4, "max-prefix4", 0, "LEN",
	    "the widest IPv4 prefix a request may block (8-32, default 24)" },
	{ EW_OPT_MAX_PREFIX6, "max-prefix6", 0, "LEN",
	    "the widest IPv6 prefix a request may block (16-128, default 48)" },
	{ EW_OPT_METRICS_TOKEN, "metrics-token", 0, "FILE",
	    "/metrics wants 'Authorization: Bearer' with the token in FILE" },
	{ EW_OPT_CONFIRM, "confirm", 0, NULL,
	    "self-service blocks wait for the operator's confirmation" },
	{ EW_OPT_FINGERPRINT, "fingerprint", 0, "FP",
	    "a relay's fingerprint for the notice page (repeatable)" },
	{ EW_OPT_RELAY, "relay", 0, "NAME[,uid=U,control=C,...]",
	    "a relay of this host (with uid=: its definition; cookie=, "
	    "fragment=, managed=, policy= also); repeat for several" },
	{ EW_OPT_ALL_RELAYS, "all-relays", 0, NULL,
	    "every relay defined: one table for all, all or none" },
	{ EW_OPT_REPAIR_INTERVAL, "repair-interval", 0, "SEC",
	    "check tor and the kernel against the store every SEC seconds "
	    "(1-3600, default 5)" },
	{ EW_OPT_TICKET, "ticket", 0, "N", "the ticket the blocks belong to" },
	{ EW_OPT_HOST, "host", 0, "NAME[:RELAY]",
	    "a fleet host: the block is for it (or one relay of it) only; "
	    "run: follow the desk as this host" },
};

#define O(x) EW_O(EW_OPT_##x)
#define STORE EW_CMD_STORE
#define DEFAULT EW_CMD_DEFAULT

static const struct ew_cmd cmds[] = {
	{ "apply", NULL, ew_cmd_apply, STORE,
	    EW_OPTS_APPLY | O(RELAY) | O(ALL_RELAYS) | O(POLICY),
	    "apply [-n] [--reevaluate] [--control HOST:PORT|PATH] "
	    "[--cookie FILE | --password-file FILE] [--fragment FILE] "
	    "[--timeout SEC] [--uid USER|UID] [--state FILE] [--now TIME] "
	    "[POLICY] | apply [-n] [--relay NAME[,uid=U,...]]... [--policy "
	    "FILE] [APPLY OPTIONS] [--all-relays] [POLICY]",
	    "tor apply, then (if it worked) nft apply, then the version "
	    "recorded in the store" },
	{ "backup", NULL, ew_cmd_backup, STORE, 0, "backup FILE",
	    "copy the store to FILE (SQLite online backup, atomic, 0600)" },
	{ "block", "add", ew_cmd_block_add, STORE,
	    EW_OPTS_CHANGE | O(EXPIRES) | O(REASON) | O(TICKET) | O(RELAY) |
		O(HOST),
	    "block add [--expires DUR|TIME|never] [--reason TEXT] [--ticket "
	    "N] [-n] [--no-apply] [--policy FILE] [--relay NAME] [--host "
	    "NAME[:RELAY]] [APPLY OPTIONS] RULE",
	    "add a block (a reject rule) to the managed policy and apply it" },
	{ "block", "adopt", ew_cmd_block_adopt, STORE,
	    EW_OPTS_CHANGE | O(EXPIRES) | O(REASON) | O(HOST),
	    "block adopt [--host NAME[:RELAY]] [--expires DUR|TIME|never] "
	    "[--reason TEXT] [-n] [--no-apply] [--policy FILE] [APPLY "
	    "OPTIONS] hID",
	    "make a fleet host's emergency block (block list: hID) a block "
	    "of the fleet (or of --host); the host drops its own copy" },
	{ "block", "confirm", ew_cmd_block_confirm, STORE, EW_OPTS_CHANGE,
	    "block confirm [-n] [--no-apply] [--policy FILE] [APPLY OPTIONS] "
	    "ID...",
	    "confirm pending self-service blocks (block list --pending): "
	    "they join the managed policy, applied; block remove rejects "
	    "one" },
	{ "block", "list", ew_cmd_block_list, DEFAULT | STORE,
	    O(ALL) | O(JSON) | O(NOW) | O(PENDING),
	    "block list [--all | --pending] [--json] [--now TIME]",
	    "the blocks in force: rule, origin, ticket, reason, added, "
	    "expires" },
	{ "block", "remove", ew_cmd_block_remove, STORE,
	    EW_OPTS_CHANGE | O(TICKET) | O(RELAY),
	    "block remove [--ticket N] [-n] [--no-apply] [--policy FILE] "
	    "[--relay NAME] [APPLY OPTIONS] [ID... | hID...]",
	    "remove blocks (by id, or a ticket's) and apply; kept as "
	    "history" },
	{ "complaint", "add", ew_cmd_complaint_add, STORE,
	    O(JSON) | O(NO_RESOLVE) | O(NOW) | O(ADDRESS),
	    "complaint add [--json] [--no-resolve] [--now TIME] "
	    "[--address ADDR]... FILE|-",
	    "store a complaint, judge its incidents, file it under a ticket" },
	{ "complaint", "list", ew_cmd_complaint_list, DEFAULT | STORE, O(JSON),
	    "complaint list [--json]",
	    "the complaints stored, with their "
	    "tickets" },
	{ "complaint", "parse", ew_cmd_complaint_parse, 0, O(JSON) | O(EXPLAIN),
	    "complaint parse [--explain] [--json] FILE|-",
	    "read an abuse complaint and print its incidents" },
	{ "config", "check", ew_cmd_config_check, 0, 0, "config check [FILE]",
	    "check the configuration file (default the one in use) and "
	    "report every error" },
	{ "config", "show", ew_cmd_config_show, DEFAULT, 0, "config show",
	    "print the configuration in effect (file, environment, "
	    "defaults)" },
	{ "expire", NULL, ew_cmd_expire, STORE, EW_OPTS_CHANGE | O(RELAY),
	    "expire [-n] [--no-apply] [--policy FILE] [--relay "
	    "NAME[,uid=U,...]]... [APPLY OPTIONS]",
	    "remove the blocks whose time has come, and apply again" },
	{ "fleet", "add-host", ew_cmd_fleet_add_host, STORE,
	    O(DRY_RUN) | O(NOW), "fleet add-host [-n] [--now TIME] NAME",
	    "record a host; print the SQL for its own database role and "
	    "its connection string" },
	{ "fleet", "add-relay", ew_cmd_fleet_add_relay, STORE,
	    O(ADDRESS) | O(NOW),
	    "fleet add-relay [--address ADDR]... [--now TIME] HOST INSTANCE "
	    "FINGERPRINT [NICKNAME]",
	    "record a relay of a host and its exit addresses" },
	{ "fleet", "init", ew_cmd_fleet_init, STORE, O(DRY_RUN),
	    "fleet init [-n]",
	    "turn on row-level security: each host reads only its own "
	    "scope (PostgreSQL)" },
	{ "fleet", "status", ew_cmd_fleet_status, DEFAULT | STORE,
	    O(JSON) | O(NOW), "fleet status [--json] [--now TIME]",
	    "every host and relay: the revision it applied, lag, outbox, last "
	    "apply, drift; the hosts' emergency blocks" },
	{ "guard", "status", ew_cmd_guard_status, DEFAULT | STORE,
	    O(JSON) | O(POLICY), "guard status [--json] [--policy FILE]",
	    "the surge guards: surge blocks in force, counters" },
	{ "inbox", "scan", ew_cmd_inbox_scan, STORE,
	    O(JSON) | O(QUIET) | O(ADDRESS) | O(PARSER_USER) | O(MAIL_TIMEOUT),
	    "inbox scan [--json] [-q] [--address ADDR]... [--parser-user "
	    "USER] [--mail-timeout SEC] MAILDIR",
	    "take in every new complaint of a Maildir, crash-safe" },
	{ "nft", "apply", ew_cmd_nft_apply, 0, EW_OPTS_NFT_APPLY | O(RELAY),
	    "nft apply [-n] [--now TIME] [--uid USER|UID] [--state FILE] "
	    "[--relay NAME,uid=U,policy=F]... FILE",
	    "load table inet exitwarden atomically" },
	{ "nft", "element", ew_cmd_nft_element, 0, 0,
	    "nft element add|delete SET ADDR[/LEN]...",
	    "change a set of the table in place (no full reload)" },
	{ "nft", "emit", ew_cmd_nft_emit, 0,
	    O(NOW) | O(UID) | O(SEED) | O(RELAY),
	    "nft emit [--now TIME] [--uid USER|UID] "
	    "[--relay NAME,uid=U,policy=F]... FILE",
	    "print the nftables ruleset of table inet exitwarden" },
	{ "nft", "flush", ew_cmd_nft_flush, 0, O(DRY_RUN), "nft flush [-n]",
	    "delete table inet exitwarden (only it)" },
	{ "policy", "check", ew_cmd_policy_check, 0,
	    O(JSON) | O(NOW) | O(STRICT),
	    "policy check [--json] [--now TIME] [--strict] FILE...",
	    "validate policy files and report every problem" },
	{ "policy", "expand", ew_cmd_policy_expand, 0, EW_OPTS_EXPAND,
	    "policy expand [--now TIME] [--interface ADDR]... "
	    "[--no-interfaces] FILE",
	    "print the effective policy exactly as tor builds it" },
	{ "policy", "explain", ew_cmd_policy_explain, 0,
	    EW_OPTS_EXPAND | O(JSON),
	    "policy explain [--json] [--now TIME] [--interface ADDR]... "
	    "FILE ADDR:PORT",
	    "which rule decides a destination, and why it exists" },
	{ "policy", "history", ew_cmd_policy_history, STORE, O(JSON),
	    "policy history [--json]",
	    "the policy versions applied, with when each was in force" },
	{ "policy", "query", ew_cmd_policy_query, 0, EW_OPTS_EXPAND | O(JSON),
	    "policy query [--json] [--now TIME] [--interface ADDR]... FILE "
	    "ADDR:PORT...|-",
	    "tor's verdict for each destination" },
	{ "policy", "record", ew_cmd_policy_record, STORE, O(AT),
	    "policy record [--at TIME] POLICY",
	    "record POLICY as the version in force since TIME (now)" },
	{ "policy", "show", ew_cmd_policy_show, 0, 0, "policy show FILE",
	    "print the policy in canonical form" },
	{ "policy", "summary", ew_cmd_policy_summary, 0,
	    EW_OPTS_EXPAND | O(JSON),
	    "policy summary [--json] [--now TIME] FILE",
	    "the microdescriptor p and p6 lines tor publishes" },
	{ "policy", "torrc", ew_cmd_policy_torrc, 0, O(NOW),
	    "policy torrc [--now TIME] FILE",
	    "the torrc lines that make tor enforce the policy" },
	{ "run", NULL, ew_cmd_run, STORE,
	    EW_OPTS_CHANGE | O(MAILDIR) | O(INTERVAL) | O(ONCE) | O(ADDRESS) |
		O(PARSER_USER) | O(MAIL_TIMEOUT) | O(REPAIR_INTERVAL) |
		O(RELAY) | O(HOST),
	    "run [--host NAME] [--maildir DIR] [--interval SEC] [--once] "
	    "[--policy FILE] "
	    "[--address ADDR]... [--parser-user USER] [--mail-timeout SEC] "
	    "[--no-apply] [--repair-interval SEC] [--relay "
	    "NAME[,uid=U,...]]... [APPLY OPTIONS]",
	    "the daemon: scan the inbox, expire blocks, re-apply, watch the "
	    "surge guards, repair drift of tor and the kernel" },
	{ "serve", NULL, ew_cmd_serve, STORE,
	    O(LISTEN) | O(CONTACT) | O(NOTICE_DIR) | O(TOKEN_KEY) |
		O(MAX_PREFIX4) | O(MAX_PREFIX6) | O(METRICS_TOKEN) |
		O(CONFIRM) | O(FINGERPRINT) | O(EXPIRES),
	    "serve [--listen ADDR:PORT] [--contact TEXT] [--notice-dir DIR] "
	    "[--token-key FILE] [--max-prefix4 LEN] [--max-prefix6 LEN] "
	    "[--metrics-token FILE] [--confirm] [--expires DUR] "
	    "[--fingerprint FP]...",
	    "the exit notice page, self-service block requests and "
	    "/metrics over HTTP (unprivileged)" },
	{ "setup", NULL, ew_cmd_setup, 0, O(DRY_RUN) | O(UNDO) | O(ROOT),
	    "setup [-n] [--undo] [--root DIR]",
	    "find this host's tor relays, make their torrc include "
	    "exitwarden's fragment, verified; write the configuration" },
	{ "stats", NULL, ew_cmd_stats, 0, O(JSON), "stats [--json]",
	    "per-rule packet and byte counters of the nftables table" },
	{ "status", NULL, ew_cmd_status, STORE,
	    EW_OPTS_CONN | O(JSON) | O(NOW) | O(POLICY) | O(RELAY),
	    "status [--json] [--now TIME] [--policy FILE] [--relay "
	    "NAME[,uid=U,...]]... [--control HOST:PORT|PATH] [--cookie FILE "
	    "| --password-file FILE]",
	    "what each relay enforces: policies, tor, the kernel, blocks, "
	    "drift, the daemon's repairs" },
	{ "template", "export", ew_cmd_template_export, 0, 0,
	    "template export DIR",
	    "write the built-in reply templates, to edit" },
	{ "ticket", "block", ew_cmd_ticket_block, STORE,
	    EW_OPTS_CHANGE | O(CHOICE) | O(EXPIRES) | O(REASON) |
		O(NO_RESOLVE) | O(RELAY),
	    "ticket block [--choice K] [--expires DUR|TIME|never] "
	    "[--no-resolve] [--reason TEXT] [-n] [--no-apply] [--policy "
	    "FILE] [--relay NAME[,uid=U,...]]... [APPLY OPTIONS] N",
	    "add a proposal's rules to the managed policy and apply it" },
	{ "ticket", "close", ew_cmd_ticket_close, STORE, O(REASON),
	    "ticket close [--reason TEXT] N", "close a ticket" },
	{ "ticket", "list", ew_cmd_ticket_list, DEFAULT | STORE,
	    O(ALL) | O(JSON) | O(NOW),
	    "ticket list [--all] [--json] [--now TIME]",
	    "open tickets by due time; overdue ones flagged" },
	{ "ticket", "reply", ew_cmd_ticket_reply, STORE,
	    O(TO) | O(TEMPLATES) | O(NOW) | O(NO_RESOLVE),
	    "ticket reply [--to provider|complainant] [--templates DIR] "
	    "[--now TIME] N",
	    "draft the answer from a template" },
	{ "ticket", "show", ew_cmd_ticket_show, STORE,
	    O(JSON) | O(NO_RESOLVE) | O(NOW),
	    "ticket show [--json] [--no-resolve] [--now TIME] N",
	    "a ticket: complaints, judged incidents, proposals, blocks" },
	{ "tor", "apply", ew_cmd_tor_apply, 0, EW_OPTS_TOR_APPLY,
	    "tor apply [-n] [--reevaluate] [--control HOST:PORT|PATH] "
	    "[--cookie FILE | --password-file FILE] [--fragment FILE] "
	    "[--timeout SEC] [--now TIME] POLICY",
	    "make the running tor use the policy, verified, with rollback" },
	{ "tor", "emit", ew_cmd_tor_emit, 0, O(NOW) | O(OUTPUT),
	    "tor emit [--now TIME] [-o FILE] POLICY",
	    "write the torrc fragment that carries the policy" },
	{ "tor", "status", ew_cmd_tor_status, DEFAULT,
	    EW_OPTS_CONN | O(NOW) | O(JSON),
	    "tor status [--json] [--control HOST:PORT|PATH] [--cookie FILE "
	    "| --password-file FILE] [POLICY]",
	    "tor's version, exit or not, live policy digest (vs POLICY: "
	    "exit 1 when they differ), p lines" },
};

const struct ew_cmd *
ew_cli_cmds(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

const struct ew_opt *
ew_cli_opts(size_t *n)
{
	*n = sizeof(opts) / sizeof(opts[0]);
	return opts;
}

static const char *
cmd_name(const struct ew_cmd *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", c->noun, c->verb ? " " : "",
	    c->verb ? c->verb : "");
	return buf;
}

void
ew_cli_help(FILE *f)
{
	char name[64];
	size_t i;

	fprintf(f, "usage: exitwarden [--help] [--version] [--db PATH] "
		   "[--config FILE] NOUN [VERB] [OPTIONS] [OPERANDS]\n"
		   "       exitwarden help [NOUN [VERB]]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-20s %s%s\n",
		    cmd_name(&cmds[i], name, sizeof(name)), cmds[i].summary,
		    cmds[i].flags & EW_CMD_DEFAULT ? " (default)" : "");
	fprintf(f, "\nOptions may come anywhere after the verb; '--' ends "
		   "them.  'exitwarden NOUN VERB --help' describes one "
		   "command.\n");
}

int
ew_cli_usage(const char *noun, const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].noun, noun) == 0 &&
		    (verb == NULL || cmds[i].verb == NULL ||
			strcmp(cmds[i].verb, verb) == 0))
			fprintf(
			    stderr, "usage: exitwarden %s\n", cmds[i].usage);
	}
	return EW_EXIT_USAGE;
}

void
ew_cli_help_cmd(FILE *f, const struct ew_cmd *c)
{
	size_t i;
	char left[64];

	fprintf(f, "usage: exitwarden %s\n\n%s.\n", c->usage, c->summary);
	if (c->flags & EW_CMD_DEFAULT)
		fprintf(
		    f, "The default verb: 'exitwarden %s' runs it.\n", c->noun);
	if (c->flags & EW_CMD_STORE)
		fprintf(f, "Uses the store (--db PATH before the noun, or "
			   "$EW_DB).\n");
	fprintf(f, "\noptions:\n");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const struct ew_opt *o = &opts[i];

		if (!((c->opts | EW_O(EW_OPT_HELP)) & EW_O(o->id)))
			continue;
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s",
		    o->short_name ? '-' : ' ',
		    o->short_name ? o->short_name : ' ',
		    o->short_name ? ", " : "  ", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		fprintf(f, "  %-32s %s\n", left, o->help);
	}
}
