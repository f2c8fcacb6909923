/*
 * cmd_tor.c - exitwarden tor emit | apply | status.
 *
 * Handlers get argv with the verb at argv[0]; options come before the
 * operands.  A password is read from --password-file or the environment
 * variable EW_TOR_PASSWORD, never from the command line, and is wiped
 * after use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "emit/ctl.h"
#include "emit/tor.h"

/* Parse and expand; diagnostics to stderr.  0 or an exit code. */
static int
load(
    const char *file, int64_t now, struct ew_policy **p, struct ew_expanded **e)
{
	struct ew_expand_env env;
	struct ew_diag_list d;
	size_t nifs = 0;
	struct ew_addr *ifs;
	int rc = EW_EXIT_OK;

	*p = NULL;
	*e = NULL;
	ew_diag_init(&d);
	if (ew_policy_parse_file(file, 0, &d, p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ifs = ew_cli_interface_addrs(&nifs);
	memset(&env, 0, sizeof(env));
	env.now = now;
	env.ifaddrs = ifs;
	env.n_ifaddrs = nifs;
	if (ew_policy_expand(*p, &env, &d, e) < 0) {
		ew_policy_free(*p);
		*p = NULL;
		rc = EW_EXIT_FAIL;
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	free(ifs);
	return rc;
}

int
ew_cmd_tor_emit(int argc, char **argv)
{
	struct ew_policy *p = NULL;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	const char *out = NULL;
	int64_t now = ew_time_now();
	int i, rc = EW_EXIT_OK;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &now) < 0)
				return EW_EXIT_USAGE;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("tor", "emit");
		}
	}
	if (i + 1 != argc)
		return ew_cli_usage("tor", "emit");
	ew_diag_init(&d);
	if (ew_policy_parse_file(argv[i], 0, &d, &p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	ew_tor_fragment(p, argv[i], now, &b);
	if (b.oom) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
	} else if (out == NULL) {
		if (ew_cli_write(ew_buf_str(&b), b.len) < 0)
			rc = EW_EXIT_FAIL;
	} else {
		ew_diag_init(&d);
		if (ew_tor_write_fragment(out, ew_buf_str(&b), b.len, &d) < 0)
			rc = EW_EXIT_FAIL;
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
	}
	ew_buf_free(&b);
	ew_policy_free(p);
	return rc;
}

/* Options shared by apply and status. */
struct conn_opts {
	struct ew_tor_target t;
	const char *password_file;
	char *password; /* owned; wiped and freed by conn_done */
};

/* -1 not ours, 0 taken (and *i advanced), or an exit code. */
static int
conn_opt(int argc, char **argv, int *i, struct conn_opts *o)
{
	if (*i + 1 >= argc)
		return -1;
	if (strcmp(argv[*i], "--control") == 0) {
		o->t.control = argv[++*i];
	} else if (strcmp(argv[*i], "--cookie") == 0) {
		o->t.auth.cookie_file = argv[++*i];
	} else if (strcmp(argv[*i], "--password-file") == 0) {
		o->password_file = argv[++*i];
	} else if (strcmp(argv[*i], "--timeout") == 0) {
		char *end;
		long s = strtol(argv[++*i], &end, 10);

		if (*end != '\0' || s < 1 || s > 600) {
			ew_cli_err("malformed --timeout '%s' (seconds, 1-600)",
			    argv[*i]);
			return EW_EXIT_USAGE;
		}
		o->t.timeout_ms = (int)s * 1000;
	} else {
		return -1;
	}
	return 0;
}

/* Read the password (file, else environment). 0 or an exit code. */
static int
conn_ready(struct conn_opts *o)
{
	const char *env = getenv("EW_TOR_PASSWORD");

	if (o->password_file != NULL && o->t.auth.cookie_file != NULL) {
		ew_cli_err("--cookie and --password-file exclude each other");
		return EW_EXIT_USAGE;
	}
	if (o->password_file != NULL) {
		FILE *f = fopen(o->password_file, "r");
		size_t cap = 0;
		ssize_t n;

		if (f == NULL) {
			ew_cli_err("cannot read password file '%s': %s",
			    o->password_file, strerror(errno));
			return EW_EXIT_FAIL;
		}
		n = getline(&o->password, &cap, f);
		fclose(f);
		if (n < 0) {
			ew_cli_err(
			    "password file '%s' is empty", o->password_file);
			return EW_EXIT_FAIL;
		}
		while (n > 0 && (o->password[n - 1] == '\n' ||
				    o->password[n - 1] == '\r'))
			o->password[--n] = '\0';
	} else if (env != NULL && o->t.auth.cookie_file == NULL) {
		o->password = strdup(env);
		if (o->password == NULL)
			return EW_EXIT_FAIL;
	}
	o->t.auth.password = o->password;
	return 0;
}

static void
conn_done(struct conn_opts *o)
{
	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	o->password = NULL;
}

static void
print_plan(const struct ew_tor_plan *pl, const char *frag)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;

	if (frag != NULL)
		printf("# would write %s:\n%s", frag, pl->fragment);
	printf("# would send SETCONF with these pairs, in order:\n");
	for (i = 0; i < pl->n; i++) {
		ew_buf_reset(&b);
		if (pl->kv[i].value != NULL)
			ew_ctl_quote(&b, pl->kv[i].value);
		printf("%s%s%s\n", pl->kv[i].key,
		    pl->kv[i].value != NULL ? "=" : "", ew_buf_str(&b));
	}
	printf("# then expect exit-policy/full (%zu bytes of descriptor "
	       "policy):\n%s",
	    pl->desc_bytes, pl->expected);
	ew_buf_free(&b);
}

/* The options of tor apply; exitwarden apply shares them. */
struct ew_cli_tor_apply {
	struct conn_opts o;
	const char *frag;
	int64_t now;
	int dry, reevaluate;
};

struct ew_cli_tor_apply *
ew_cli_tor_apply_new(void)
{
	struct ew_cli_tor_apply *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->now = ew_time_now();
	return a;
}

void
ew_cli_tor_apply_free(struct ew_cli_tor_apply *a)
{
	if (a == NULL)
		return;
	conn_done(&a->o);
	free(a);
}

int
ew_cli_tor_apply_opt(struct ew_cli_tor_apply *a, int argc, char **argv, int *i)
{
	int rc = conn_opt(argc, argv, i, &a->o);

	if (rc >= 0)
		return rc;
	if (strcmp(argv[*i], "-n") == 0 || strcmp(argv[*i], "--dry-run") == 0) {
		a->dry = 1;
	} else if (strcmp(argv[*i], "--reevaluate") == 0) {
		a->reevaluate = 1;
	} else if (strcmp(argv[*i], "--fragment") == 0 && *i + 1 < argc) {
		a->frag = argv[++*i];
	} else if (strcmp(argv[*i], "--now") == 0 && *i + 1 < argc) {
		if (ew_cli_parse_now(argv[++*i], &a->now) < 0)
			return EW_EXIT_USAGE;
	} else {
		return -1;
	}
	return 0;
}

int
ew_cmd_tor_apply(int argc, char **argv)
{
	struct ew_cli_tor_apply *a = ew_cli_tor_apply_new();
	int i, rc;

	if (a == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		rc = ew_cli_tor_apply_opt(a, argc, argv, &i);
		if (rc > 0) {
			ew_cli_tor_apply_free(a);
			return rc;
		}
		if (rc < 0) {
			ew_cli_err("unknown option '%s'", argv[i]);
			ew_cli_tor_apply_free(a);
			return ew_cli_usage("tor", "apply");
		}
	}
	if (i + 1 != argc) {
		ew_cli_tor_apply_free(a);
		return ew_cli_usage("tor", "apply");
	}
	rc = ew_cli_tor_apply_run(a, argv[i]);
	ew_cli_tor_apply_free(a);
	return rc;
}

int
ew_cli_tor_apply_run(struct ew_cli_tor_apply *a, const char *file)
{
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_tor_plan plan;
	struct ew_tor_result res;
	struct ew_diag_list d;
	const char *frag = a->frag;
	int rc;

	if ((rc = load(file, a->now, &p, &e)) != 0)
		return rc;
	ew_diag_init(&d);
	rc = ew_tor_plan_build(p, e, file, a->now, a->reevaluate, &plan, &d);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		if (rc == -ENOMEM)
			ew_cli_err("out of memory");
		else
			ew_cli_err("tor was not changed");
		ew_expanded_free(e);
		ew_policy_free(p);
		return EW_EXIT_FAIL;
	}
	if (a->dry) {
		print_plan(&plan, frag);
		rc = EW_EXIT_OK;
		goto out;
	}
	if ((rc = conn_ready(&a->o)) != 0)
		goto out;
	if (frag == NULL)
		ew_cli_err("warning: no --fragment: the change will not "
			   "survive a restart of tor");
	ew_diag_init(&d);
	rc = ew_tor_apply(&plan, &a->o.t, frag, &res, &d);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		ew_cli_err("tor apply of '%s' failed%s", file,
		    res.restored ? "; nothing changed" : "");
		rc = EW_EXIT_FAIL;
	} else {
		printf("applied '%s' to tor at %s (%s auth): exit-policy/full "
		       "verified, %zu items, %.1f ms from SETCONF%s%s\n",
		    file, res.control, res.auth_method, e->n,
		    (double)res.latency_us / 1000.0,
		    frag ? "; fragment written to " : "", frag ? frag : "");
		rc = EW_EXIT_OK;
	}
out:
	conn_done(&a->o);
	ew_tor_plan_free(&plan);
	ew_expanded_free(e);
	ew_policy_free(p);
	return rc;
}

int
ew_cmd_tor_status(int argc, char **argv)
{
	struct conn_opts o;
	struct ew_tor_status st;
	struct ew_diag_list d;
	int64_t now = ew_time_now();
	int i, rc;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		rc = conn_opt(argc, argv, &i, &o);
		if (rc > 0)
			return rc;
		if (rc == 0)
			continue;
		if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &now) < 0)
				return EW_EXIT_USAGE;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("tor", "status");
		}
	}
	if (i + 1 < argc)
		return ew_cli_usage("tor", "status");
	if ((rc = conn_ready(&o)) != 0) {
		conn_done(&o);
		return rc;
	}
	ew_diag_init(&d);
	rc = ew_tor_status_get(&o.t, &st, &d);
	conn_done(&o);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		ew_cli_err("cannot read tor's status");
		ew_tor_status_free(&st);
		return EW_EXIT_FAIL;
	}
	printf("control: %s (%s auth)\n", st.control, st.auth_method);
	printf("tor: %s\nexit: %s\nlive policy: sha256:%s\np: %s\np6: %s\n",
	    st.version, st.exit ? "yes" : "no", st.digest, st.p, st.p6);
	rc = EW_EXIT_OK;
	if (i < argc) {
		struct ew_policy *p;
		struct ew_expanded *e;
		struct ew_buf b = EW_BUF_INIT;
		char ours[65];

		if ((rc = load(argv[i], now, &p, &e)) == 0) {
			ew_expanded_format(e, &b);
			if (b.oom || ew_tor_list_digest(b.p, ours) < 0) {
				rc = EW_EXIT_FAIL;
			} else {
				int same = strcmp(ours, st.digest) == 0;

				printf("policy: sha256:%s (%s)\n", ours,
				    same ? "matches tor" : "differs from tor");
				rc = same ? EW_EXIT_OK : EW_EXIT_FAIL;
			}
			ew_buf_free(&b);
			ew_expanded_free(e);
			ew_policy_free(p);
		}
	}
	ew_tor_status_free(&st);
	return rc;
}
