/*
 * cmd_policy.c - exitwarden policy check | expand | show.
 *
 * Handlers get argv with the verb at argv[0].  Options come before the
 * operands; "--" ends them.
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"

/*
 * The machine's interface addresses, for ExitPolicyRejectLocalInterfaces
 * (tor's get_interface_address6_list; it filters them the same way).
 */
static struct ew_addr *
interface_addrs(size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct ew_addr *v = NULL, *nv;

	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return NULL;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct ew_addr a;

		if (i->ifa_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;

			a.family = EW_AF_INET;
			memcpy(a.b, &s->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s =
			    (const void *)i->ifa_addr;

			a.family = EW_AF_INET6;
			memcpy(a.b, &s->sin6_addr, 16);
		} else {
			continue;
		}
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		v[(*n)++] = a;
	}
	freeifaddrs(ifa);
	return v;
}

int
ew_cmd_policy_check(int argc, char **argv)
{
	int i, json = 0, strict = 0, bad = 0;
	int64_t now = ew_time_now();

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--strict") == 0) {
			strict = 1;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &now) < 0)
				return EW_EXIT_USAGE;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("policy", "check");
		}
	}
	if (i >= argc)
		return ew_cli_usage("policy", "check");
	for (; i < argc; i++) {
		struct ew_diag_list d;
		struct ew_policy *p = NULL;
		struct ew_policy_stats st;
		size_t r;

		ew_diag_init(&d);
		ew_policy_parse_file(argv[i], 0, &d, &p);
		if (p != NULL) {
			for (r = 0; r < ew_policy_rule_count(p); r++) {
				struct ew_rule_info ri;
				char t[EW_TIME_STRLEN];

				ew_policy_rule_info(p, r, &ri);
				if (ri.expires == EW_NEVER || ri.expires > now)
					continue;
				fprintf(stderr,
				    "%s:%u: note: rule '%s' expired at %s and "
				    "is inactive\n",
				    ri.file, ri.line, ri.text,
				    ew_time_format(ri.expires, t, sizeof(t)));
			}
		}
		ew_cli_print_diags(&d, json);
		if (p == NULL || (strict && d.nwarn > 0)) {
			bad = 1;
		} else if (!json) {
			ew_policy_stats(p, now, &st);
			printf("%s: ok: %zu rules (%zu active, %zu expired), "
			       "%zu port sets, %zu tables (%zu entries)\n",
			    argv[i], st.rules, st.active, st.expired,
			    st.portsets, st.tables, st.table_entries);
		}
		ew_policy_free(p);
		ew_diag_free(&d);
	}
	return bad ? EW_EXIT_FAIL : EW_EXIT_OK;
}

int
ew_cmd_policy_expand(int argc, char **argv)
{
	struct ew_expand_env env;
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_addr *ifs = NULL, *given = NULL;
	size_t nifs = 0, ngiven = 0;
	struct ew_buf out = EW_BUF_INIT;
	int i, rc = EW_EXIT_FAIL, explicit_ifs = 0;

	memset(&env, 0, sizeof(env));
	env.now = ew_time_now();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &env.now) < 0)
				goto out;
		} else if (strcmp(argv[i], "--interface") == 0 &&
			   i + 1 < argc) {
			struct ew_addr a, *nv;

			explicit_ifs = 1;
			if (!ew_addr_parse(argv[++i], &a)) {
				ew_cli_err("malformed address '%s' for "
					   "--interface",
				    argv[i]);
				rc = EW_EXIT_USAGE;
				goto out;
			}
			nv = realloc(given, (ngiven + 1) * sizeof(*nv));
			if (nv == NULL)
				goto out;
			given = nv;
			given[ngiven++] = a;
		} else if (strcmp(argv[i], "--no-interfaces") == 0) {
			explicit_ifs = 1;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			rc = ew_cli_usage("policy", "expand");
			goto out;
		}
	}
	if (i + 1 != argc) {
		rc = ew_cli_usage("policy", "expand");
		goto out;
	}
	ew_diag_init(&d);
	if (ew_policy_parse_file(argv[i], 0, &d, &p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		goto out;
	}
	if (explicit_ifs) {
		env.ifaddrs = given;
		env.n_ifaddrs = ngiven;
	} else {
		ifs = interface_addrs(&nifs);
		env.ifaddrs = ifs;
		env.n_ifaddrs = nifs;
	}
	if (ew_policy_expand(p, &env, &d, &e) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_cli_err("out of memory");
		ew_diag_free(&d);
		goto out;
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	ew_expanded_format(e, &out);
	if (out.oom) {
		ew_cli_err("out of memory");
		goto out;
	}
	if (ew_cli_write(ew_buf_str(&out), out.len) == 0)
		rc = EW_EXIT_OK;
out:
	ew_buf_free(&out);
	ew_expanded_free(e);
	ew_policy_free(p);
	free(ifs);
	free(given);
	return rc;
}

int
ew_cmd_policy_show(int argc, char **argv)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_buf out = EW_BUF_INIT;
	int rc = EW_EXIT_FAIL;

	if (argc != 2 || argv[1][0] == '-')
		return ew_cli_usage("policy", "show");
	ew_diag_init(&d);
	ew_policy_parse_file(argv[1], 0, &d, &p);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (p == NULL)
		return EW_EXIT_FAIL;
	ew_policy_show(p, &out);
	if (!out.oom && ew_cli_write(ew_buf_str(&out), out.len) == 0)
		rc = EW_EXIT_OK;
	ew_buf_free(&out);
	ew_policy_free(p);
	return rc;
}
