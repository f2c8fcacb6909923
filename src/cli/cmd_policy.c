/*
 * cmd_policy.c - exitwarden policy check | expand | show.
 *
 * Handlers get argv with the verb at argv[0].  Options come before the
 * operands; "--" ends them.
 */
#include <errno.h>
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
#include "compile/compile.h"
#include "policy/policy.h"

/*
 * The machine's interface addresses, for ExitPolicyRejectLocalInterfaces
 * (tor's get_interface_address6_list; it filters them the same way).
 */
struct ew_addr *
ew_cli_interface_addrs(size_t *n)
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
			/* expansion finds what only tor's assembly refuses */
			struct ew_expand_env env;
			struct ew_expanded *e = NULL;
			size_t nifs = 0;
			struct ew_addr *ifs = ew_cli_interface_addrs(&nifs);

			memset(&env, 0, sizeof(env));
			env.now = now;
			env.ifaddrs = ifs;
			env.n_ifaddrs = nifs;
			if (ew_policy_expand(p, &env, &d, &e) < 0) {
				ew_policy_free(p);
				p = NULL;
			}
			ew_expanded_free(e);
			free(ifs);
		}
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

/*
 * What expand, query and explain share: the policy, its expansion, and
 * the options that shape it (--now, --interface, --no-interfaces).
 */
struct loaded {
	struct ew_policy *p;
	struct ew_expanded *e;
	int64_t now;
};

static void
loaded_free(struct loaded *l)
{
	ew_expanded_free(l->e);
	ew_policy_free(l->p);
}

/*
 * Parse the options at argv[1..] that expansion takes; *next is set to
 * the first operand.  Returns 0, or an exit code.
 */
static int
expand_opts(int argc, char **argv, const char *verb, int64_t *now,
    struct ew_addr **given, size_t *ngiven, int *explicit_ifs, int *json,
    int *next)
{
	int i;

	*now = ew_time_now();
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], now) < 0)
				return EW_EXIT_USAGE;
		} else if (strcmp(argv[i], "--interface") == 0 &&
			   i + 1 < argc) {
			struct ew_addr a, *nv;

			*explicit_ifs = 1;
			if (!ew_addr_parse(argv[++i], &a)) {
				ew_cli_err("malformed address '%s' for "
					   "--interface",
				    argv[i]);
				return EW_EXIT_USAGE;
			}
			nv = realloc(*given, (*ngiven + 1) * sizeof(*nv));
			if (nv == NULL)
				return EW_EXIT_FAIL;
			*given = nv;
			(*given)[(*ngiven)++] = a;
		} else if (strcmp(argv[i], "--no-interfaces") == 0) {
			*explicit_ifs = 1;
		} else if (json != NULL && strcmp(argv[i], "--json") == 0) {
			*json = 1;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("policy", verb);
		}
	}
	*next = i;
	return 0;
}

/* Parse and expand FILE; diagnostics go to stderr.  Returns 0 or an
 * exit code. */
static int
load(const char *file, int64_t now, const struct ew_addr *given, size_t ngiven,
    int explicit_ifs, struct loaded *l)
{
	struct ew_expand_env env;
	struct ew_diag_list d;
	struct ew_addr *ifs = NULL;
	size_t nifs = 0;
	int rc = EW_EXIT_OK;

	memset(l, 0, sizeof(*l));
	memset(&env, 0, sizeof(env));
	l->now = env.now = now;
	ew_diag_init(&d);
	if (ew_policy_parse_file(file, 0, &d, &l->p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	if (explicit_ifs) {
		env.ifaddrs = given;
		env.n_ifaddrs = ngiven;
	} else {
		ifs = ew_cli_interface_addrs(&nifs);
		env.ifaddrs = ifs;
		env.n_ifaddrs = nifs;
	}
	if (ew_policy_expand(l->p, &env, &d, &l->e) == -ENOMEM)
		ew_cli_err("out of memory");
	if (l->e == NULL)
		rc = EW_EXIT_FAIL;
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	free(ifs);
	if (rc != EW_EXIT_OK)
		loaded_free(l);
	return rc;
}

/*
 * The options expansion takes, the operand count (at least min_ops, at
 * most max_ops, or any when max_ops < 0), and the policy loaded from the
 * first operand.  *first is the index of that operand.  0, or an exit
 * code.
 */
static int
load_args(int argc, char **argv, const char *verb, int min_ops, int max_ops,
    int *json, struct loaded *l, int *first)
{
	struct ew_addr *given = NULL;
	size_t ngiven = 0;
	int64_t now;
	int i = 1, rc, explicit_ifs = 0;

	rc = expand_opts(
	    argc, argv, verb, &now, &given, &ngiven, &explicit_ifs, json, &i);
	if (rc == 0 &&
	    (argc - i < min_ops || (max_ops >= 0 && argc - i > max_ops)))
		rc = ew_cli_usage("policy", verb);
	if (rc == 0)
		rc = load(argv[i], now, given, ngiven, explicit_ifs, l);
	free(given);
	*first = i;
	return rc;
}

int
ew_cmd_policy_expand(int argc, char **argv)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	int i, rc;

	rc = load_args(argc, argv, "expand", 1, 1, NULL, &l, &i);
	if (rc != 0)
		return rc;
	ew_expanded_format(l.e, &out);
	rc = EW_EXIT_FAIL;
	if (out.oom)
		ew_cli_err("out of memory");
	else if (ew_cli_write(ew_buf_str(&out), out.len) == 0)
		rc = EW_EXIT_OK;
	ew_buf_free(&out);
	loaded_free(&l);
	return rc;
}

/*
 * A query "ADDR:PORT": "1.2.3.4:80", "[2001:db8::1]:443", and "*:80"
 * for an unknown address; port 0 is an unknown port.  0 or -1.
 */
static int
parse_query(const char *q, struct ew_addr *a, uint16_t *port)
{
	const char *colon = strrchr(q, ':');
	char host[EW_ADDR_STRLEN + 2];
	size_t hn;
	char *end;
	long p;

	if (colon == NULL || colon == q || colon[1] == '\0')
		return -1;
	hn = (size_t)(colon - q);
	if (hn >= sizeof(host))
		return -1;
	memcpy(host, q, hn);
	host[hn] = '\0';
	if (q[0] != '[' && memchr(host, ':', hn) != NULL)
		return -1; /* IPv6 needs brackets before a port */
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 0 || p > 65535 || colon[1] < '0' ||
	    colon[1] > '9')
		return -1;
	*port = (uint16_t)p;
	if (strcmp(host, "*") == 0) {
		memset(a, 0, sizeof(*a));
		return 0;
	}
	return ew_addr_parse(host, a) ? 0 : -1;
}

static void
query_text(struct ew_buf *b, const struct ew_addr *a, uint16_t port)
{
	char t[EW_ADDR_STRLEN];

	if (a->family == EW_AF_NONE) {
		ew_buf_printf(b, "*:%u", port);
		return;
	}
	ew_addr_format(a, 1, t, sizeof(t));
	ew_buf_printf(b, "%s:%u", t, port);
}

static int
query_one(
    const struct ew_compiled *c, const char *q, int json, struct ew_buf *out)
{
	struct ew_addr a;
	uint16_t port;
	enum ew_verdict v;

	if (parse_query(q, &a, &port) < 0) {
		ew_cli_err("malformed query '%s' (use ADDR:PORT, "
			   "[IPv6]:PORT or *:PORT)",
		    q);
		return -1;
	}
	v = ew_match(c, &a, port);
	if (json) {
		ew_buf_puts(out, "{\"query\":\"");
		query_text(out, &a, port);
		ew_buf_printf(
		    out, "\",\"verdict\":\"%s\"}\n", ew_verdict_word(v));
	} else {
		query_text(out, &a, port);
		ew_buf_printf(out, " %s\n", ew_verdict_word(v));
	}
	return 0;
}

int
ew_cmd_policy_query(int argc, char **argv)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_compiled *c = NULL;
	int i, rc, json = 0, bad = 0;

	rc = load_args(argc, argv, "query", 2, -1, &json, &l, &i);
	if (rc != 0)
		return rc;
	if (ew_compile(l.e, 0, &c) < 0) {
		ew_cli_err("out of memory");
		loaded_free(&l);
		return EW_EXIT_FAIL;
	}
	if (i + 2 == argc && strcmp(argv[i + 1], "-") == 0) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) > 0) {
			while (n > 0 &&
			       (line[n - 1] == '\n' || line[n - 1] == '\r' ||
				   line[n - 1] == ' '))
				line[--n] = '\0';
			if (n == 0 || line[0] == '#')
				continue;
			if (query_one(c, line, json, &out) < 0)
				bad = 1;
			if (out.len >= 1 << 16) {
				if (ew_cli_write(out.p, out.len) < 0)
					bad = 1;
				ew_buf_reset(&out);
			}
		}
		free(line);
	} else {
		for (i++; i < argc; i++) {
			if (query_one(c, argv[i], json, &out) < 0)
				bad = 1;
		}
	}
	if (ew_cli_write(ew_buf_str(&out), out.len) < 0)
		bad = 1;
	ew_buf_free(&out);
	ew_compiled_free(c);
	loaded_free(&l);
	return bad ? EW_EXIT_FAIL : EW_EXIT_OK;
}

static const char *
origin_text(int origin)
{
	switch (origin) {
	case EW_ORIGIN_NOIPV6:
		return "IPv6Exit is 0: tor rejects every IPv6 destination";
	case EW_ORIGIN_PRIVATE:
		return "ExitPolicyRejectPrivate: tor's private networks";
	case EW_ORIGIN_OWN:
		return "the relay's own or outbound address "
		       "(ExitPolicyRejectPrivate / "
		       "ExitPolicyRejectLocalInterfaces)";
	case EW_ORIGIN_INTERFACE:
		return "ExitPolicyRejectLocalInterfaces: an address of this "
		       "machine";
	case EW_ORIGIN_DEFAULT:
		return "tor's default exit policy";
	case EW_ORIGIN_REDUCED:
		return "tor's reduced exit policy (ReducedExitPolicy 1)";
	case EW_ORIGIN_TAIL:
		return "BridgeRelay 1: a bridge rejects everything else";
	case EW_ORIGIN_NOTEXIT:
		return "not an exit (ExitRelay 0, or no exit policy set)";
	default:
		return "a rule of the policy";
	}
}

int
ew_cmd_policy_explain(int argc, char **argv)
{
	struct loaded l;
	struct ew_addr a;
	size_t dec;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_compiled *c = NULL;
	int i, rc;
	uint16_t port;
	enum ew_verdict v;

	rc = load_args(argc, argv, "explain", 2, 2, NULL, &l, &i);
	if (rc == 0 && parse_query(argv[i + 1], &a, &port) < 0) {
		ew_cli_err("malformed query '%s' (use ADDR:PORT, "
			   "[IPv6]:PORT or *:PORT)",
		    argv[i + 1]);
		loaded_free(&l);
		rc = EW_EXIT_USAGE;
	}
	if (rc != 0)
		return rc;
	if (ew_compile(l.e, EW_COMPILE_EXPLAIN, &c) < 0) {
		ew_cli_err("out of memory");
		loaded_free(&l);
		return EW_EXIT_FAIL;
	}
	v = ew_match_rule(c, &a, port, &dec);
	query_text(&out, &a, port);
	ew_buf_printf(&out, " %s\n", ew_verdict_word(v));
	if (dec == EW_NO_ITEM) {
		ew_buf_puts(&out, "  no item decided: tor's answer when "
				  "nothing matches");
		ew_buf_puts(&out, v == EW_ACCEPTED ? " is accept\n" : "\n");
	} else {
		const struct ew_item *it = &l.e->items[dec];

		ew_buf_printf(&out, "  item %zu: ", dec + 1);
		ew_item_format(it, &out);
		ew_buf_putc(&out, '\n');
		if (it->rule == EW_NO_RULE) {
			ew_buf_printf(
			    &out, "  from: %s\n", origin_text(it->origin));
		} else {
			struct ew_rule_info ri;
			char t[EW_TIME_STRLEN];

			ew_policy_rule_info(l.p, it->rule, &ri);
			ew_buf_printf(&out, "  rule: %s:%u: %s\n", ri.file,
			    ri.line, ri.text);
			if (ri.reason != NULL)
				ew_buf_printf(
				    &out, "  reason: %s\n", ri.reason);
			if (ri.ticket != NULL)
				ew_buf_printf(
				    &out, "  ticket: %s\n", ri.ticket);
			if (ri.expires != EW_NEVER)
				ew_buf_printf(&out, "  expires: %s\n",
				    ew_time_format(ri.expires, t, sizeof(t)));
		}
	}
	rc = ew_cli_write(ew_buf_str(&out), out.len) == 0 ? EW_EXIT_OK
							  : EW_EXIT_FAIL;
	ew_buf_free(&out);
	ew_compiled_free(c);
	loaded_free(&l);
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

/*
 * The microdescriptor summary lines: "p" (IPv4, as an authority computes
 * it from the descriptor) and "p6" (the relay's ipv6-policy, only with
 * IPv6Exit 1); each is left out when it would say "reject 1-65535", as
 * tor leaves it out.
 */
int
ew_cmd_policy_summary(int argc, char **argv)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	int i, rc;
	char *p4, *p6 = NULL;

	rc = load_args(argc, argv, "summary", 1, 1, NULL, &l, &i);
	if (rc != 0)
		return rc;
	p4 = ew_policy_summarize(l.e->items, l.e->n, EW_AF_INET);
	if (l.e->ipv6_exit)
		p6 = ew_policy_summarize(l.e->items, l.e->n, EW_AF_INET6);
	rc = EW_EXIT_FAIL;
	if (p4 == NULL || (l.e->ipv6_exit && p6 == NULL)) {
		ew_cli_err("out of memory");
	} else {
		if (strcmp(p4, "reject 1-65535") != 0)
			ew_buf_printf(&out, "p %s\n", p4);
		if (p6 != NULL && strcmp(p6, "reject 1-65535") != 0)
			ew_buf_printf(&out, "p6 %s\n", p6);
		if (ew_cli_write(ew_buf_str(&out), out.len) == 0)
			rc = EW_EXIT_OK;
	}
	free(p4);
	free(p6);
	ew_buf_free(&out);
	loaded_free(&l);
	return rc;
}

/* The torrc lines that carry the policy (for tor's %include). */
int
ew_cmd_policy_torrc(int argc, char **argv)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_buf out = EW_BUF_INIT;
	int64_t now = ew_time_now();
	int i, rc = EW_EXIT_FAIL;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &now) < 0)
				return EW_EXIT_USAGE;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("policy", "torrc");
		}
	}
	if (i + 1 != argc)
		return ew_cli_usage("policy", "torrc");
	ew_diag_init(&d);
	ew_policy_parse_file(argv[i], 0, &d, &p);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (p == NULL)
		return EW_EXIT_FAIL;
	ew_policy_torrc(p, now, &out);
	if (!out.oom && ew_cli_write(ew_buf_str(&out), out.len) == 0)
		rc = EW_EXIT_OK;
	ew_buf_free(&out);
	ew_policy_free(p);
	return rc;
}
