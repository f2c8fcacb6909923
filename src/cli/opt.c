/*
 * opt.c - the one option parser of every command, and the helpers
 * that read option values.
 *
 * Every option is declared once (table.c); a command lists the ones it
 * takes as a bit set (struct ew_cmd.opts).  Parsing
 * follows GNU getopt_long with permutation: options may come before,
 * between or after the operands, "--" ends them, a long option takes
 * its value as "--opt=value" or "--opt value", a short one as "-o
 * value"; names match exactly (no abbreviations).  "-" alone is an
 * operand (standard input).  An unknown option, a value missing or one
 * given to an option that takes none is a usage error (exit 2) that
 * names the option; --help (-h) prints the command's help (exit 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/num.h"
#include "lib/tm.h"

static const struct ew_opt *
find_long(uint64_t set, const char *name, size_t n)
{
	size_t i, nopts;

	const struct ew_opt *opts = ew_cli_opts(&nopts);

	for (i = 0; i < nopts; i++)
		if ((set & EW_O(opts[i].id)) && strlen(opts[i].name) == n &&
		    strncmp(opts[i].name, name, n) == 0)
			return &opts[i];
	return NULL;
}

static const struct ew_opt *
find_short(uint64_t set, char c)
{
	size_t i, nopts;

	const struct ew_opt *opts = ew_cli_opts(&nopts);

	for (i = 0; i < nopts; i++)
		if ((set & EW_O(opts[i].id)) && opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

/* "exitwarden: <what> '<name>'<tail>", then the usage. */
static int
usage_err(const struct ew_cmd *c, const char *what, const char *name,
    const char *tail)
{
	fprintf(
	    stderr, "exitwarden: %s '%s'%s\n", what, ew_cli_esc(name), tail);
	return ew_cli_usage(c->noun, c->verb);
}

/* "exitwarden: unknown option '--stirct'; did you mean '--strict'?",
 * then the usage. */
static int
unknown_long(const struct ew_cmd *c, uint64_t set, const char *arg)
{
	struct ew_similar sim;
	size_t i, nopts, n = strcspn(arg + 2, "=");
	const struct ew_opt *opts = ew_cli_opts(&nopts);
	char name[64], buf[256];
	const char *best;

	if (n >= sizeof(name))
		n = 0;
	memcpy(name, arg + 2, n);
	name[n] = '\0';
	ew_cli_similar_init(&sim, name);
	for (i = 0; i < nopts; i++)
		if (set & EW_O(opts[i].id))
			ew_cli_similar_add(&sim, opts[i].name);
	if ((best = ew_cli_similar_say(&sim, "--", buf, sizeof(buf))) == NULL)
		return usage_err(c, "unknown option", arg, "");
	fprintf(stderr, "exitwarden: unknown option '%s'; did you mean %s?\n",
	    ew_cli_esc(arg), best);
	return ew_cli_usage(c->noun, c->verb);
}

static int
add_opt(struct ew_args *a, const struct ew_opt *o, const char *val)
{
	struct ew_optval *nv = realloc(a->o, (a->no + 1) * sizeof(*nv));

	if (nv == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	a->o = nv;
	nv[a->no].opt = o;
	nv[a->no].id = o->id;
	nv[a->no].val = val;
	a->no++;
	return 0;
}

int
ew_cli_parse(const struct ew_cmd *c, int argc, char **argv, struct ew_args *a)
{
	uint64_t set = c->opts | EW_O(EW_OPT_HELP);
	const struct ew_opt *o;
	const char *arg, *eq, *val;
	int i, rc, dashdash = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = c;
	if ((a->ops = calloc((size_t)argc + 1, sizeof(*a->ops))) == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			a->ops[a->nops++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = 1;
			continue;
		}
		val = NULL;
		if (arg[1] == '-') {
			eq = strchr(arg + 2, '=');
			o = find_long(set, arg + 2,
			    eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
			if (o == NULL)
				return unknown_long(c, set, arg);
			if (eq != NULL && o->arg == NULL)
				return usage_err(
				    c, "option", arg, " takes no value");
			if (eq != NULL)
				val = eq + 1;
		} else {
			o = find_short(set, arg[1]);
			if (o == NULL)
				return usage_err(c, "unknown option", arg, "");
			if (arg[2] != '\0' && o->arg == NULL)
				return usage_err(c, "unknown option", arg, "");
			if (arg[2] != '\0')
				val = arg + 2;
		}
		if (o->arg != NULL && val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr,
				    "exitwarden: option '--%s' needs a value "
				    "(%s)\n",
				    o->name, o->arg);
				return ew_cli_usage(c->noun, c->verb);
			}
			val = argv[++i];
		}
		if (o->id == EW_OPT_HELP) {
			ew_cli_help_cmd(stdout, c);
			return EW_CLI_HELPED;
		}
		if ((rc = add_opt(a, o, val)) != 0)
			return rc;
	}
	return 0;
}

void
ew_args_free(struct ew_args *a)
{
	free(a->o);
	free(a->ops);
	memset(a, 0, sizeof(*a));
}

int
ew_cli_operands(const struct ew_args *a, size_t min, size_t max)
{
	if (a->nops >= min && a->nops <= max)
		return 0;
	if (a->nops > max)
		ew_cli_err("unexpected operand '%s'", a->ops[max]);
	else
		ew_cli_err("missing operand");
	return ew_cli_usage(a->cmd->noun, a->cmd->verb);
}

int
ew_cli_unexpected(const struct ew_args *a, const struct ew_optval *v)
{
	ew_cli_err("option '--%s' is not taken here", v->opt->name);
	return ew_cli_usage(a->cmd->noun, a->cmd->verb);
}

int
ew_cli_has(const struct ew_args *a, enum ew_opt_id id)
{
	size_t i;

	for (i = 0; i < a->no; i++)
		if (a->o[i].id == id)
			return 1;
	return 0;
}

int
ew_cli_parse_now(const char *s, int64_t *out)
{
	if (ew_time_parse(s, strlen(s), out) < 0) {
		ew_cli_err("malformed time '%s' (use YYYY-MM-DDTHH:MM:SSZ)", s);
		return EW_EXIT_USAGE;
	}
	return 0;
}

int
ew_cli_parse_num(
    const struct ew_optval *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (ew_parse_uint(v->val, strlen(v->val), lo, hi, out) != 0) {
		ew_cli_err("--%s: '%s' is not a number from %llu to %llu",
		    v->opt->name, v->val, (unsigned long long)lo,
		    (unsigned long long)hi);
		return EW_EXIT_USAGE;
	}
	return 0;
}

int
ew_cli_addr_list(const struct ew_optval *v, struct ew_addr **list, size_t *n)
{
	struct ew_addr a, *nv;

	if (!ew_addr_parse(v->val, &a)) {
		ew_cli_err(
		    "--%s: '%s' is not an IP address", v->opt->name, v->val);
		return EW_EXIT_USAGE;
	}
	if ((nv = realloc(*list, (*n + 1) * sizeof(*nv))) == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	*list = nv;
	nv[(*n)++] = a;
	return 0;
}
