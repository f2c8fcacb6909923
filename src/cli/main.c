/*
 * main.c - exitwarden's entry point: global options and dispatch.
 *
 * Grammar: exitwarden [--db PATH] [--config FILE] NOUN [VERB] [OPTIONS]
 * [OPERANDS], with the commands of table.c.  Nouns and verbs match
 * exactly (no abbreviations).  A noun without a verb runs its default
 * verb (the one flagged EW_CMD_DEFAULT, as "ip rule" and "git remote"
 * list), or is a usage error naming its verbs; an unknown verb is a
 * usage error (exit 2) naming the verbs that exist.  A mistyped
 * command, verb or option is never guessed at, but the error names the
 * word it likely was ("did you mean 'policy'?", suggest.c), as git
 * does.  A noun that takes no verb (apply, expire, run, stats) takes
 * operands at once.  The configuration file is read before any command
 * but help, config and setup (which read or write it themselves).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/privsep.h"

#define EW_VERSION "0.1.0"

/* "exitwarden help --list": one command per line, for scripts. */
static int
list_cmds(void)
{
	const struct ew_cmd *c;
	size_t n, i;

	c = ew_cli_cmds(&n);
	for (i = 0; i < n; i++)
		printf("%s%s%s\n", c[i].noun, c[i].verb ? " " : "",
		    c[i].verb ? c[i].verb : "");
	return EW_EXIT_OK;
}

/* The commands of a noun: the first, and how many. */
static const struct ew_cmd *
noun_cmds(const char *noun, size_t *count)
{
	const struct ew_cmd *c, *first = NULL;
	size_t n, i;

	*count = 0;
	c = ew_cli_cmds(&n);
	for (i = 0; i < n; i++)
		if (strcmp(c[i].noun, noun) == 0) {
			if (first == NULL)
				first = &c[i];
			(*count)++;
		}
	return first;
}

/* "unknown command 'polcy'; did you mean 'policy'?" */
static int
unknown_noun(const char *noun)
{
	struct ew_similar sim;
	const struct ew_cmd *c;
	size_t n, i;
	char buf[256];
	const char *best;

	ew_cli_similar_init(&sim, noun);
	c = ew_cli_cmds(&n);
	for (i = 0; i < n; i++)
		ew_cli_similar_add(&sim, c[i].noun);
	ew_cli_similar_add(&sim, "help");
	if ((best = ew_cli_similar_say(&sim, "", buf, sizeof(buf))) != NULL)
		ew_cli_err("unknown command '%s'; did you mean %s?",
		    ew_cli_esc(noun), best);
	else
		ew_cli_err("unknown command '%s'; try 'exitwarden help'",
		    ew_cli_esc(noun));
	return EW_EXIT_USAGE;
}

/* "unknown verb 'typo' for 'tor' (apply, emit, status)", and the one
 * it was likely meant to be */
static int
unknown_verb(
    const struct ew_cmd *c, size_t k, const char *noun, const char *verb)
{
	struct ew_similar sim;
	size_t i;
	char buf[256];
	const char *best;

	ew_cli_similar_init(&sim, verb);
	fprintf(stderr, "exitwarden: unknown verb '%s' for '%s' (",
	    ew_cli_esc(verb), noun);
	for (i = 0; i < k; i++) {
		fprintf(stderr, "%s%s", i ? ", " : "", c[i].verb);
		ew_cli_similar_add(&sim, c[i].verb);
	}
	if ((best = ew_cli_similar_say(&sim, "", buf, sizeof(buf))) != NULL)
		fprintf(stderr, "); did you mean %s?\n", best);
	else
		fprintf(stderr, "); try 'exitwarden help %s'\n", noun);
	return EW_EXIT_USAGE;
}

/* An unknown option before the noun. */
static int
unknown_global(const char *arg)
{
	static const char *const opts[] = { "--db", "--config", "--help",
		"--version" };
	struct ew_similar sim;
	size_t i, n = strcspn(arg, "=");
	char name[64], buf[256];
	const char *best;

	/* "--bd=PATH": the name before the value */
	if (n >= sizeof(name))
		n = 0;
	memcpy(name, arg, n);
	name[n] = '\0';
	ew_cli_similar_init(&sim, name);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		ew_cli_similar_add(&sim, opts[i]);
	if ((best = ew_cli_similar_say(&sim, "", buf, sizeof(buf))) != NULL)
		ew_cli_err("unknown option '%s'; did you mean %s?",
		    ew_cli_esc(arg), best);
	else
		ew_cli_err("unknown option '%s'; try 'exitwarden help'",
		    ew_cli_esc(arg));
	return EW_EXIT_USAGE;
}

/* exitwarden help [--list] [NOUN [VERB]] */
static int
help(int argc, char **argv)
{
	const struct ew_cmd *c;
	size_t k, i;

	if (argc == 1 && strcmp(argv[0], "--list") == 0)
		return list_cmds();
	if (argc == 0) {
		ew_cli_help(stdout);
		return EW_EXIT_OK;
	}
	if (argc > 2)
		return ew_cli_usage("help", NULL);
	if ((c = noun_cmds(argv[0], &k)) == NULL)
		return unknown_noun(argv[0]);
	for (i = 0; i < k; i++) {
		if (argc == 2 &&
		    (c[i].verb == NULL || strcmp(c[i].verb, argv[1]) != 0))
			continue;
		if (i > 0 && argc == 1)
			putchar('\n');
		ew_cli_help_cmd(stdout, &c[i]);
		if (argc == 2)
			return EW_EXIT_OK;
	}
	if (argc == 2)
		return unknown_verb(c, k, argv[0], argv[1]);
	return EW_EXIT_OK;
}

static int
run_cmd(const struct ew_cmd *c, int argc, char **argv)
{
	struct ew_args a;
	int rc = ew_cli_parse(c, argc, argv, &a);

	if (rc == 0)
		rc = c->fn(&a);
	else if (rc == EW_CLI_HELPED)
		rc = EW_EXIT_OK;
	ew_args_free(&a);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct ew_cmd *c;
	const char *noun, *verb;
	size_t k, i;

	/* the mail parser child of inbox scan and run (privsep.c) */
	if (argc == 2 && strcmp(argv[1], EW_PRIVSEP_CHILD_ARG) == 0)
		return ew_privsep_child_main();
	argc--;
	argv++;
	/* global options, before the noun */
	while (argc > 0 && argv[0][0] == '-') {
		if (strcmp(argv[0], "--help") == 0 ||
		    strcmp(argv[0], "-h") == 0) {
			ew_cli_help(stdout);
			return EW_EXIT_OK;
		} else if (strcmp(argv[0], "--version") == 0) {
			printf("exitwarden %s\n", EW_VERSION);
			return EW_EXIT_OK;
		} else if (strncmp(argv[0], "--db=", 5) == 0) {
			ew_cli_db_opt = argv[0] + 5;
		} else if (strcmp(argv[0], "--db") == 0 && argc > 1) {
			ew_cli_db_opt = argv[1];
			argc--;
			argv++;
		} else if (strcmp(argv[0], "--db") == 0) {
			ew_cli_err("option '--db' needs a value (PATH)");
			return EW_EXIT_USAGE;
		} else if (strncmp(argv[0], "--config=", 9) == 0) {
			ew_cli_config_opt = argv[0] + 9;
		} else if (strcmp(argv[0], "--config") == 0 && argc > 1) {
			ew_cli_config_opt = argv[1];
			argc--;
			argv++;
		} else if (strcmp(argv[0], "--config") == 0) {
			ew_cli_err("option '--config' needs a value (FILE)");
			return EW_EXIT_USAGE;
		} else {
			return unknown_global(argv[0]);
		}
		argc--;
		argv++;
	}
	if (argc == 0) {
		ew_cli_help(stderr);
		return EW_EXIT_USAGE;
	}
	noun = argv[0];
	if (strcmp(noun, "help") == 0)
		return help(argc - 1, argv + 1);
	if ((c = noun_cmds(noun, &k)) == NULL)
		return unknown_noun(noun);
	if (strcmp(noun, "config") != 0 && strcmp(noun, "setup") != 0 &&
	    ew_cli_conf_open() != 0)
		return EW_EXIT_FAIL;
	if (c->verb == NULL) /* a noun without verbs */
		return run_cmd(c, argc - 1, argv + 1);
	verb = argc > 1 ? argv[1] : NULL;
	if (verb != NULL &&
	    (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0))
		return help(1, argv);
	if (verb == NULL || verb[0] == '-') {
		for (i = 0; i < k; i++)
			if (c[i].flags & EW_CMD_DEFAULT)
				return run_cmd(&c[i], argc - 1, argv + 1);
		ew_cli_err("'%s' needs a verb", noun);
		return ew_cli_usage(noun, NULL);
	}
	for (i = 0; i < k; i++)
		if (strcmp(c[i].verb, verb) == 0)
			return run_cmd(&c[i], argc - 2, argv + 2);
	return unknown_verb(c, k, noun, verb);
}
