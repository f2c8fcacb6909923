/*
 * cmd_policy.c - exitwarden policy check | expand | explain | history |
 * query | record | show | summary | torrc: the policy language, and the
 * versions applied (recorded in the store).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "compile/compile.h"
#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

int
ew_cmd_policy_check(struct ew_args *a)
{
	int json = 0, strict = 0, bad = 0, rc;
	int64_t now = ew_time_now();
	size_t i, k;

	for (k = 0; k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_STRICT)
			strict = 1;
		else if ((rc = ew_cli_parse_now(v->val, &now)) != 0)
			return rc;
	}
	if ((rc = ew_cli_operands(a, 1, (size_t)-1)) != 0)
		return rc;
	for (i = 0; i < a->nops; i++) {
		const char *file = a->ops[i];
		struct ew_diag_list d;
		struct ew_policy *p = NULL;
		struct ew_policy_stats st;
		size_t r;

		ew_diag_init(&d);
		ew_policy_parse_file(file, 0, &d, &p);
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
		} else if (json) {
			/* one object a line on stdout; diagnostics on stderr */
			struct ew_buf jb = EW_BUF_INIT;

			ew_policy_stats(p, now, &st);
			ew_buf_puts(&jb, "{\"file\":");
			ew_json_str(&jb, file);
			ew_buf_printf(&jb,
			    ",\"ok\":true,\"warnings\":%zu,\"rules\":%zu,"
			    "\"active\":%zu,\"expired\":%zu,\"port_sets\":%zu,"
			    "\"tables\":%zu,\"table_entries\":%zu}\n",
			    d.nwarn, st.rules, st.active, st.expired,
			    st.portsets, st.tables, st.table_entries);
			if (ew_cli_put(&jb) != EW_EXIT_OK)
				bad = 1;
		} else {
			ew_policy_stats(p, now, &st);
			printf("%s: ok: %zu rules (%zu active, %zu expired), "
			       "%zu port sets, %zu tables (%zu entries)\n",
			    file, st.rules, st.active, st.expired, st.portsets,
			    st.tables, st.table_entries);
		}
		ew_policy_free(p);
		ew_diag_free(&d);
	}
	return bad ? EW_EXIT_FAIL : EW_EXIT_OK;
}

/*
 * What expand, query, explain and summary share: the policy, its
 * expansion, and the options that shape it (--now, --interface,
 * --no-interfaces), plus --json.
 */
struct loaded {
	struct ew_policy *p;
	struct ew_expanded *e;
	int64_t now;
	int json;
};

static void
loaded_free(struct loaded *l)
{
	ew_expanded_free(l->e);
	ew_policy_free(l->p);
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
 * The options expansion takes, min_ops to max_ops operands, and the
 * policy loaded from the first.  0, or an exit code.
 */
static int
load_args(struct ew_args *a, size_t min_ops, size_t max_ops, struct loaded *l)
{
	struct ew_addr *given = NULL;
	size_t ngiven = 0, k;
	int64_t now = ew_time_now();
	int rc = 0, explicit_ifs = 0, json = 0;

	memset(l, 0, sizeof(*l));
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		switch (v->id) {
		case EW_OPT_NOW:
			rc = ew_cli_parse_now(v->val, &now);
			break;
		case EW_OPT_INTERFACE:
			explicit_ifs = 1;
			rc = ew_cli_addr_list(v, &given, &ngiven);
			break;
		case EW_OPT_NO_INTERFACES:
			explicit_ifs = 1;
			break;
		case EW_OPT_JSON:
			json = 1;
			break;
		default:
			rc = ew_cli_unexpected(a, v);
		}
	}
	if (rc == 0)
		rc = ew_cli_operands(a, min_ops, max_ops);
	if (rc == 0)
		rc = load(a->ops[0], now, given, ngiven, explicit_ifs, l);
	l->json = json;
	free(given);
	return rc;
}

int
ew_cmd_policy_expand(struct ew_args *a)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	int rc;

	if ((rc = load_args(a, 1, 1, &l)) != 0)
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
ew_cmd_policy_query(struct ew_args *a)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_compiled *c = NULL;
	size_t i;
	int rc, json, bad = 0;

	rc = load_args(a, 2, (size_t)-1, &l);
	if (rc != 0)
		return rc;
	json = l.json;
	if (ew_compile(l.e, 0, &c) < 0) {
		ew_cli_err("out of memory");
		loaded_free(&l);
		return EW_EXIT_FAIL;
	}
	if (a->nops == 2 && strcmp(a->ops[1], "-") == 0) {
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
		for (i = 1; i < a->nops; i++) {
			if (query_one(c, a->ops[i], json, &out) < 0)
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

/* explain --json: {"query", "verdict", "item", "from" | "rule": {...}} */
static void
explain_json(const struct loaded *l, const struct ew_addr *q, uint16_t port,
    enum ew_verdict v, size_t dec, struct ew_buf *out)
{
	struct ew_buf it = EW_BUF_INIT;
	struct ew_rule_info ri;
	char t[EW_TIME_STRLEN];

	ew_buf_puts(out, "{\"query\":\"");
	query_text(out, q, port);
	ew_buf_printf(
	    out, "\",\"verdict\":\"%s\",\"item\":", ew_verdict_word(v));
	if (dec == EW_NO_ITEM) {
		ew_buf_puts(out, "null,\"from\":null,\"rule\":null}\n");
		return;
	}
	ew_item_format(&l->e->items[dec], &it);
	ew_buf_printf(out, "{\"n\":%zu,\"text\":", dec + 1);
	ew_json_str(out, ew_buf_str(&it));
	ew_buf_free(&it);
	ew_buf_puts(out, "},\"from\":");
	if (l->e->items[dec].rule == EW_NO_RULE) {
		ew_json_str(out, origin_text(l->e->items[dec].origin));
		ew_buf_puts(out, ",\"rule\":null}\n");
		return;
	}
	ew_policy_rule_info(l->p, l->e->items[dec].rule, &ri);
	ew_buf_puts(out, "null,\"rule\":{\"file\":");
	ew_json_str(out, ri.file);
	ew_buf_printf(out, ",\"line\":%u,\"text\":", ri.line);
	ew_json_str(out, ri.text);
	ew_buf_puts(out, ",\"reason\":");
	if (ri.reason != NULL)
		ew_json_str(out, ri.reason);
	else
		ew_buf_puts(out, "null");
	ew_buf_puts(out, ",\"ticket\":");
	if (ri.ticket != NULL)
		ew_json_str(out, ri.ticket);
	else
		ew_buf_puts(out, "null");
	ew_buf_puts(out, ",\"expires\":");
	if (ri.expires != EW_NEVER)
		ew_buf_printf(
		    out, "\"%s\"", ew_time_format(ri.expires, t, sizeof(t)));
	else
		ew_buf_puts(out, "null");
	ew_buf_puts(out, "}}\n");
}

int
ew_cmd_policy_explain(struct ew_args *a)
{
	struct loaded l;
	struct ew_addr q;
	size_t dec;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_compiled *c = NULL;
	int rc;
	uint16_t port;
	enum ew_verdict v;

	rc = load_args(a, 2, 2, &l);
	if (rc == 0 && parse_query(a->ops[1], &q, &port) < 0) {
		ew_cli_err("malformed query '%s' (use ADDR:PORT, "
			   "[IPv6]:PORT or *:PORT)",
		    a->ops[1]);
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
	v = ew_match_rule(c, &q, port, &dec);
	if (l.json) {
		explain_json(&l, &q, port, v, dec, &out);
		goto put;
	}
	query_text(&out, &q, port);
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
put:
	rc = ew_cli_write(ew_buf_str(&out), out.len) == 0 ? EW_EXIT_OK
							  : EW_EXIT_FAIL;
	ew_buf_free(&out);
	ew_compiled_free(c);
	loaded_free(&l);
	return rc;
}

/* The policy file at path, its diagnostics printed; NULL when it has
 * errors. */
static struct ew_policy *
parse_printed(const char *path)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;

	ew_diag_init(&d);
	ew_policy_parse_file(path, 0, &d, &p);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	return p;
}

/* out (what p rendered) to stdout; both freed. */
static int
put_rendered(struct ew_policy *p, struct ew_buf *out)
{
	int rc = EW_EXIT_FAIL;

	if (!out->oom && ew_cli_write(ew_buf_str(out), out->len) == 0)
		rc = EW_EXIT_OK;
	ew_buf_free(out);
	ew_policy_free(p);
	return rc;
}

int
ew_cmd_policy_show(struct ew_args *a)
{
	struct ew_policy *p;
	struct ew_buf out = EW_BUF_INIT;
	int rc;

	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	if ((p = parse_printed(a->ops[0])) == NULL)
		return EW_EXIT_FAIL;
	ew_policy_show(p, &out);
	return put_rendered(p, &out);
}

/*
 * The microdescriptor summary lines: "p" (IPv4, as an authority computes
 * it from the descriptor) and "p6" (the relay's ipv6-policy, only with
 * IPv6Exit 1); each is left out when it would say "reject 1-65535", as
 * tor leaves it out.
 */
int
ew_cmd_policy_summary(struct ew_args *a)
{
	struct loaded l;
	struct ew_buf out = EW_BUF_INIT;
	int rc;
	char *p4, *p6 = NULL;

	rc = load_args(a, 1, 1, &l);
	if (rc != 0)
		return rc;
	p4 = ew_policy_summarize(l.e->items, l.e->n, EW_AF_INET);
	if (l.e->ipv6_exit)
		p6 = ew_policy_summarize(l.e->items, l.e->n, EW_AF_INET6);
	rc = EW_EXIT_FAIL;
	if (p4 == NULL || (l.e->ipv6_exit && p6 == NULL)) {
		ew_cli_err("out of memory");
	} else {
		int s4 = strcmp(p4, "reject 1-65535") != 0;
		int s6 = p6 != NULL && strcmp(p6, "reject 1-65535") != 0;

		if (l.json) {
			ew_buf_puts(&out, "{\"p\":");
			if (s4)
				ew_json_str(&out, p4);
			else
				ew_buf_puts(&out, "null");
			ew_buf_puts(&out, ",\"p6\":");
			if (s6)
				ew_json_str(&out, p6);
			else
				ew_buf_puts(&out, "null");
			ew_buf_puts(&out, "}\n");
		} else {
			if (s4)
				ew_buf_printf(&out, "p %s\n", p4);
			if (s6)
				ew_buf_printf(&out, "p6 %s\n", p6);
		}
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
ew_cmd_policy_torrc(struct ew_args *a)
{
	struct ew_policy *p;
	struct ew_buf out = EW_BUF_INIT;
	int64_t now = ew_time_now();
	size_t k;
	int rc;

	for (k = 0; k < a->no; k++)
		if ((rc = ew_cli_parse_now(a->o[k].val, &now)) != 0)
			return rc;
	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	if ((p = parse_printed(a->ops[0])) == NULL)
		return EW_EXIT_FAIL;
	ew_policy_torrc(p, now, &out);
	return put_rendered(p, &out);
}

/* ---- policy record | history ---- */

/* Record the policy file as the version in force since at. */
static int
record(struct ew_desk *d, const char *path, int64_t at, struct ew_diag_list *dg)
{
	int rc;

	ew_diag_init(dg);
	rc = ew_desk_record_file(NULL, d, path, at, dg);
	ew_cli_report(dg);
	ew_diag_free(dg);
	if (rc != 0)
		ew_cli_err("%s: not recorded in %s: %s", path,
		    ew_cli_db_label(), strerror(-rc));
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* The version in force now (the newest), or NULL; free with
 * ew_store_policy_version_free. */
static struct ew_store_policy_version *
newest_version(struct ew_store *st)
{
	struct ew_store_policy_version *v = NULL, *one = NULL;
	size_t n = 0;

	if (ew_store_policy_during(
		st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &v, &n) == 0 &&
	    n > 0 && (one = malloc(sizeof(*one))) != NULL) {
		*one = v[n - 1];
		n--; /* the last one's strings are now one's */
	}
	ew_store_policy_versions_free(v, n);
	return one;
}

int
ew_cmd_policy_record(struct ew_args *a)
{
	struct ew_store_policy_version *cur, *now_v;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	char t[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	int64_t at = ew_time_now();
	struct ew_diag_list dg;
	size_t k;
	int rc;

	for (k = 0; k < a->no; k++)
		if ((rc = ew_cli_parse_now(a->o[k].val, &at)) != 0)
			return rc;
	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		return EW_EXIT_FAIL;
	cur = newest_version(st);
	if (cur != NULL && at < cur->applied_from) {
		/* the store would move it forward; a time given by hand
		 * that is wrong is refused instead */
		ew_cli_err("--at %s is before the version in force since %s: "
			   "the history only goes forward; not recorded",
		    ew_time_format(at, t, sizeof(t)),
		    ew_time_format(cur->applied_from, t2, sizeof(t2)));
	} else if ((rc = record(d, a->ops[0], at, &dg)) == EW_EXIT_OK &&
		   (now_v = newest_version(st)) != NULL) {
		printf("%s %s as the policy in force since %s\n",
		    cur != NULL && now_v->id == cur->id ? "already recorded"
							: "recorded",
		    a->ops[0],
		    ew_time_format(now_v->applied_from, t, sizeof(t)));
		ew_store_policy_version_free(now_v);
	}
	ew_store_policy_version_free(cur);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}

int
ew_cmd_policy_history(struct ew_args *a)
{
	struct ew_store_policy_version *v = NULL;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	size_t n = 0, i;
	int json = ew_cli_has(a, EW_OPT_JSON), rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_policy_during(
	    st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &v, &n);
	if (rc != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	if (json)
		ew_buf_puts(&b, "{\"versions\":[");
	for (i = 0; i < n; i++) {
		ew_time_format(v[i].applied_from, t1, sizeof(t1));
		if (v[i].applied_to != EW_STORE_NO_TIME)
			ew_time_format(v[i].applied_to, t2, sizeof(t2));
		if (json) {
			ew_buf_printf(&b,
			    "%s{\"id\":%lld,\"digest\":\"%s\",\"from\":\"%s\","
			    "\"to\":",
			    i ? "," : "", (long long)v[i].id, v[i].digest, t1);
			if (v[i].applied_to == EW_STORE_NO_TIME)
				ew_buf_puts(&b, "null}");
			else
				ew_buf_printf(&b, "\"%s\"}", t2);
		} else {
			ew_buf_printf(&b, "%-4lld %s  %s  %s\n",
			    (long long)v[i].id, t1,
			    v[i].applied_to == EW_STORE_NO_TIME
				? "in force now        "
				: t2,
			    v[i].digest);
		}
	}
	if (json)
		ew_buf_puts(&b, "]}\n");
	else if (n == 0)
		ew_buf_puts(&b, "no policy recorded yet (exitwarden apply, "
				"or exitwarden policy record)\n");
	ew_store_policy_versions_free(v, n);
	ew_store_close(st);
	return ew_cli_put(&b);
}
