/*
 * test_desk_blocks.c - unit tests for src/desk, continued from
 * test_desk.c: the block proposals (scopes, destinations and their
 * names, the work they take), the managed policy and the reply
 * templates (built in, custom, their errors).  The set-up shared with
 * test_desk is in desk_fixture.c.
 *
 * Like test_desk, on a ":memory:" store or, with EW_TEST_PG set
 * (store/pg-desk-blocks), a fresh schema of that PostgreSQL database.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"
#include "store/store_int.h"
#include "unit/desk_fixture.h"

/* ---- proposals ---- */

static enum ew_store_verdict
vword(const char *w)
{
	enum ew_store_verdict v;

	for (v = EW_STORE_VERDICT_ALLOWED; v <= EW_STORE_VERDICT_UNKNOWN; v++)
		if (w != NULL && strcmp(ew_store_verdict_word(v), w) == 0)
			return v;
	return EW_STORE_VERDICT_NONE;
}

struct inc_spec {
	const char *dst, *ports, *verdict;
};

/* A ticket with one complaint holding these incidents. */
static int64_t
ticket_with(struct ew_store *st, const struct inc_spec *s, size_t n)
{
	static unsigned serial;
	struct ew_store_complaint c;
	struct ew_store_incident in[8];
	char sha[32];
	int64_t cid = 0, tid = 0;
	size_t i;

	snprintf(sha, sizeof(sha), "sha-%u", ++serial);
	memset(&c, 0, sizeof(c));
	c.content_sha256 = sha;
	c.reporter = "abuse@irc.example";
	c.format = "text";
	c.received_at = 1700000000;
	c.date = c.deadline = NT;
	for (i = 0; i < n && i < 8; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].src = "198.51.100.7";
		in[i].src_port = -1;
		in[i].dst = s[i].dst;
		in[i].dst_ports = tports(s[i].ports, &in[i].n_dst_ports);
		in[i].time = tm("2026-11-10T10:00:00Z");
		in[i].time_from = in[i].time_to = NT;
		in[i].verdict = vword(s[i].verdict);
	}
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, n, &cid), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open(st, c.reporter, 1700000000, NT, &tid), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid), 0);
	return tid;
}

/* The proposals as one string: "scope: rule | rule; scope: ...". */
static const char *
proposals(struct ew_desk *d, int64_t tid)
{
	static char out[1024];
	struct ew_desk_proposal *p = NULL;
	struct ew_buf b = EW_BUF_INIT;
	size_t n = 0, i, k;
	int rc;

	rc = ew_desk_proposals(d, tid, &p, &n);
	if (rc != 0) {
		snprintf(out, sizeof(out), "error %d", rc);
		return out;
	}
	for (i = 0; i < n; i++) {
		ew_buf_printf(&b, "%s%s:", i ? "; " : "", p[i].scope);
		for (k = 0; k < p[i].n; k++) {
			struct ew_diag_list dg;
			struct ew_policy *pol = NULL;

			ew_buf_printf(
			    &b, "%s%s", k ? " | " : " ", p[i].rules[k]);
			/* every rule proposed is a rule of the language */
			ew_diag_init(&dg);
			EW_CHECK_INT(ew_policy_parse_string("proposal",
					 p[i].rules[k], strlen(p[i].rules[k]),
					 EW_PARSE_NO_INCLUDE, &dg, &pol),
			    0);
			ew_policy_free(pol);
			ew_diag_free(&dg);
		}
	}
	snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	ew_buf_free(&b);
	ew_desk_proposals_free(p, n);
	return out;
}

static void
test_proposals(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	static const struct inc_spec merged[] = {
		{ "203.0.113.5", "6660-7000", "allowed" },
		{ "203.0.113.5", "6667", "allowed" },
		{ "203.0.113.5", "8080", "unknown" },
		{ "198.18.0.1", "25", "blocked" },
		{ "192.0.2.50", "22", "not ours" },
	};
	static const struct inc_spec noports[] = {
		{ "203.0.113.5", NULL, "allowed" },
	};
	static const struct inc_spec portsonly[] = {
		{ NULL, "6667,6697", "allowed" },
		{ NULL, "6697", "allowed" },
	};
	static const struct inc_spec v6[] = {
		{ "2001:db8:1:2::5", "6667", "allowed" },
	};
	static const struct inc_spec block24[] = {
		{ "203.0.113.0/24", "6667", "allowed" },
	};
	static const struct inc_spec block16[] = {
		{ "10.20.0.0/16", "443", "allowed" },
	};
	static const struct inc_spec nothing[] = {
		{ "203.0.113.5", "6667", "blocked" },
		{ "203.0.113.6", "6667", "not ours" },
	};
	static const struct inc_spec two[] = {
		{ "203.0.113.5", "6667", "allowed" },
		{ "203.0.113.9", "6667", "allowed" },
		{ "198.18.0.1", NULL, "allowed" },
	};

	if (d == NULL)
		goto out;
	EW_CHECK_STR(proposals(d, ticket_with(st, merged, 5)),
	    "destination: reject 203.0.113.5:6660-7000 | "
	    "reject 203.0.113.5:8080; "
	    "netblock: reject 203.0.113.0/24:6660-7000 | "
	    "reject 203.0.113.0/24:8080; "
	    "ports: reject *:6660-7000 | reject *:8080");
	EW_CHECK_STR(proposals(d, ticket_with(st, noports, 1)),
	    "destination: reject 203.0.113.5:*; "
	    "netblock: reject 203.0.113.0/24:*");
	EW_CHECK_STR(proposals(d, ticket_with(st, portsonly, 2)),
	    "ports: reject *:6667 | reject *:6697");
	EW_CHECK_STR(proposals(d, ticket_with(st, v6, 1)),
	    "destination: reject6 [2001:db8:1:2::5]:6667; "
	    "netblock: reject6 [2001:db8:1::]/48:6667; "
	    "ports: reject *:6667");
	EW_CHECK_STR(proposals(d, ticket_with(st, block24, 1)),
	    "destination: reject 203.0.113.0/24:6667; "
	    "ports: reject *:6667");
	EW_CHECK_STR(proposals(d, ticket_with(st, block16, 1)),
	    "destination: reject 10.20.0.0/16:443; "
	    "ports: reject *:443");
	EW_CHECK_STR(proposals(d, ticket_with(st, nothing, 2)), "");
	EW_CHECK_STR(proposals(d, ticket_with(st, two, 3)),
	    "destination: reject 203.0.113.5:6667 | reject 203.0.113.9:6667 | "
	    "reject 198.18.0.1:*; "
	    "netblock: reject 203.0.113.0/24:6667 | reject 198.18.0.0/24:*; "
	    "ports: reject *:6667");
	/* a ticket with no complaints, or none at all */
	EW_CHECK_STR(proposals(d, ticket_with(st, NULL, 0)), "");
	EW_CHECK_STR(proposals(d, 9999), "");
out:
	desk_close(st, d);
}

/* An incident: destination, its host name, ports, verdict. */
struct inc_spec2 {
	const char *dst, *host, *ports, *verdict;
};

/* A ticket with one complaint per group of incidents (groups end at a
 * spec whose verdict is NULL). */
static int64_t
ticket_with2(struct ew_store *st, const struct inc_spec2 *s, size_t n)
{
	static unsigned serial;
	struct ew_store_complaint c;
	struct ew_store_incident *in = calloc(n + 1, sizeof(*in));
	char sha[32];
	int64_t cid = 0, tid = 0;
	size_t i, k = 0;

	EW_CHECK_INT(
	    ew_store_ticket_open(st, "abuse@irc.example", 1700000000, NT, &tid),
	    0);
	for (i = 0; in != NULL && i <= n; i++) {
		if (i < n && s[i].verdict != NULL) {
			memset(&in[k], 0, sizeof(in[k]));
			in[k].src = "198.51.100.7";
			in[k].src_port = -1;
			in[k].dst = s[i].dst;
			in[k].dst_host = s[i].host;
			in[k].dst_ports =
			    tports(s[i].ports, &in[k].n_dst_ports);
			in[k].time = tm("2026-11-10T10:00:00Z");
			in[k].time_from = in[k].time_to = NT;
			in[k].verdict = vword(s[i].verdict);
			k++;
			continue;
		}
		snprintf(sha, sizeof(sha), "sha2-%u", ++serial);
		memset(&c, 0, sizeof(c));
		c.content_sha256 = sha;
		c.reporter = "abuse@irc.example";
		c.format = "text";
		c.received_at = 1700000000;
		c.date = c.deadline = NT;
		EW_CHECK_INT(ew_store_complaint_add(st, &c, in, k, &cid), 0);
		EW_CHECK_INT(ew_store_ticket_link(st, tid, cid), 0);
		k = 0;
	}
	free(in);
	return tid;
}

/* A resolver the test controls: "irc.example.net" is .10 and .11 (and
 * a loopback address, which is never proposed), "slow.example" never
 * answers in time, anything else does not exist. */
static size_t fake_calls, fake_names;

static void
fake_resolve(void *arg, struct ew_desk_name *v, size_t n)
{
	size_t i;

	(void)arg;
	fake_calls++;
	fake_names += n;
	for (i = 0; i < n; i++) {
		v[i].at = tm("2026-11-21T00:00:00Z");
		if (strcmp(v[i].host, "irc.example.net") == 0) {
			v[i].addrs = calloc(3, sizeof(*v[i].addrs));
			if (v[i].addrs == NULL) {
				v[i].rc = -ENOMEM;
				continue;
			}
			ew_addr_parse("192.0.2.10", &v[i].addrs[0]);
			ew_addr_parse("127.0.0.1", &v[i].addrs[1]);
			ew_addr_parse("192.0.2.11", &v[i].addrs[2]);
			v[i].n = 3;
		} else if (strcmp(v[i].host, "slow.example") == 0) {
			v[i].rc = -ETIMEDOUT;
			v[i].at = NT;
		} else {
			v[i].rc = -ENOENT;
		}
	}
}

/* The proposals with each rule's name: "rule (name)". */
static const char *
proposals_from(struct ew_desk *d, int64_t tid, struct ew_desk_proposals *ps)
{
	static char out[2048];
	struct ew_buf b = EW_BUF_INIT;
	size_t i, k;
	int rc;

	if ((rc = ew_desk_propose(d, tid, ps)) != 0) {
		snprintf(out, sizeof(out), "error %d", rc);
		return out;
	}
	for (i = 0; i < ps->n; i++) {
		ew_buf_printf(&b, "%s%s:", i ? "; " : "", ps->v[i].scope);
		for (k = 0; k < ps->v[i].n; k++) {
			ew_buf_printf(
			    &b, "%s%s", k ? " | " : " ", ps->v[i].rules[k]);
			if (ps->v[i].from[k] != NULL)
				ew_buf_printf(&b, " (%s)", ps->v[i].from[k]);
		}
	}
	snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	ew_buf_free(&b);
	return out;
}

/*
 * Issue 10: the destinations as named.  The forwarded IRC story names
 * its servers once and the ports in prose; the log lines name only our
 * side.  The first proposal is every server with those ports (never
 * "*"), then the netblock, then the ports alone.  A server named by
 * host name is resolved when proposals are made, and the proposal says
 * from which name, when, and what it could not resolve.
 */
static void
test_proposals_dests(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_proposals ps;
	static const struct inc_spec2 story[] = {
		{ NULL, NULL, "6667,6660-7000,8888,8080", "unknown" },
		{ "192.0.2.10", NULL, NULL, "unknown" },
		{ "192.0.2.11", NULL, NULL, "unknown" },
		{ "192.0.2.12", NULL, NULL, "unknown" },
		{ NULL, NULL, "6667", "allowed" },
	};
	static const struct inc_spec2 each[] = {
		{ "192.0.2.10", NULL, "6660-7000,8080,8888", "allowed" },
		{ "192.0.2.11", NULL, "6660-7000,8080,8888", "allowed" },
		{ "192.0.2.12", NULL, "8888,6660-7000,8080", "allowed" },
	};
	/* two complaints: the second's ports do not reach the first's
	 * servers, and its own server is named without ports */
	static const struct inc_spec2 two[] = {
		{ "192.0.2.10", NULL, NULL, "allowed" },
		{ NULL, NULL, "6667", "allowed" },
		{ NULL, NULL, NULL, NULL },
		{ "198.18.0.9", NULL, NULL, "allowed" },
	};
	static const struct inc_spec2 named[] = {
		{ NULL, "irc.example.net", "6667", "unknown" },
		{ NULL, "nosuch.example", "6667", "unknown" },
		{ NULL, "slow.example", "6697", "unknown" },
		{ NULL, "bad name;rm", "6697", "unknown" },
		{ "192.0.2.10", NULL, "6667", "allowed" },
	};
	static const char dests[] =
	    "destination: reject 192.0.2.10:6660-7000 | reject 192.0.2.10:8080 "
	    "| reject 192.0.2.10:8888 | reject 192.0.2.11:6660-7000 | "
	    "reject 192.0.2.11:8080 | reject 192.0.2.11:8888 | "
	    "reject 192.0.2.12:6660-7000 | reject 192.0.2.12:8080 | "
	    "reject 192.0.2.12:8888; "
	    "netblock: reject 192.0.2.0/24:6660-7000 | "
	    "reject 192.0.2.0/24:8080 | reject 192.0.2.0/24:8888; "
	    "ports: reject *:6660-7000 | reject *:8080 | reject *:8888";
	int64_t tid;

	if (d == NULL)
		goto out;
	EW_CHECK_STR(proposals(d, ticket_with2(st, story, 5)), dests);
	EW_CHECK_STR(proposals(d, ticket_with2(st, each, 3)), dests);
	EW_CHECK_STR(proposals(d, ticket_with2(st, two, 4)),
	    "destination: reject 192.0.2.10:6667 | reject 198.18.0.9:*; "
	    "netblock: reject 192.0.2.0/24:6667 | reject 198.18.0.0/24:*; "
	    "ports: reject *:6667");

	/* no resolver (--no-resolve): the names are listed, not resolved */
	tid = ticket_with2(st, named, 5);
	EW_CHECK_STR(proposals_from(d, tid, &ps),
	    "destination: reject 192.0.2.10:6667; "
	    "netblock: reject 192.0.2.0/24:6667; "
	    "ports: reject *:6667 | reject *:6697");
	EW_CHECK_INT(ps.nnames, 4);
	if (ps.nnames == 4) {
		EW_CHECK_STR(ps.names[0].host, "irc.example.net");
		EW_CHECK_INT(ps.names[0].rc, -ECANCELED);
		EW_CHECK_INT(ps.names[0].at, NT);
		EW_CHECK_STR(ps.names[3].host, "bad name;rm");
		EW_CHECK_INT(ps.names[3].rc, -EINVAL);
	}
	ew_desk_propose_free(&ps);

	/* resolved: each address with the name it came from */
	ew_desk_set_resolver(d, fake_resolve, NULL);
	fake_calls = fake_names = 0;
	EW_CHECK_STR(proposals_from(d, tid, &ps),
	    "destination: reject 192.0.2.10:6667 | reject 192.0.2.11:6667 "
	    "(irc.example.net); "
	    "netblock: reject 192.0.2.0/24:6667; "
	    "ports: reject *:6667 | reject *:6697");
	EW_CHECK_INT(fake_calls, 1); /* one batch */
	EW_CHECK_INT(fake_names, 3); /* not the bad name */
	EW_CHECK_INT(ps.nnames, 4);
	if (ps.nnames == 4) {
		EW_CHECK_INT(ps.names[0].rc, 0);
		EW_CHECK_INT(ps.names[0].at, tm("2026-11-21T00:00:00Z"));
		EW_CHECK_INT(ps.names[0].n, 2);
		EW_CHECK_INT(ps.names[0].skipped, 1); /* 127.0.0.1 */
		EW_CHECK_STR(ps.names[1].host, "nosuch.example");
		EW_CHECK_INT(ps.names[1].rc, -ENOENT);
		EW_CHECK_STR(ps.names[2].host, "slow.example");
		EW_CHECK_INT(ps.names[2].rc, -ETIMEDOUT);
	}
	ew_desk_propose_free(&ps);
	ew_desk_propose_free(NULL);
out:
	desk_close(st, d);
}

/* More names than EW_DESK_MAX_NAMES: the rest are not looked up. */
static void
test_proposals_many_names(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_proposals ps;
	struct inc_spec2 v[EW_DESK_MAX_NAMES + 8];
	char names[EW_DESK_MAX_NAMES + 8][32];
	size_t i, over = 0;

	if (d == NULL)
		goto out;
	for (i = 0; i < EW_DESK_MAX_NAMES + 8; i++) {
		snprintf(names[i], sizeof(names[i]), "h%zu.example", i);
		v[i].dst = NULL;
		v[i].host = names[i];
		v[i].ports = "80";
		v[i].verdict = "allowed";
	}
	ew_desk_set_resolver(d, fake_resolve, NULL);
	fake_calls = fake_names = 0;
	EW_CHECK_INT(ew_desk_propose(d, ticket_with2(st, v, i), &ps), 0);
	EW_CHECK_INT(fake_names, EW_DESK_MAX_NAMES);
	EW_CHECK_INT(ps.nnames, EW_DESK_MAX_NAMES + 8);
	for (i = 0; i < ps.nnames; i++)
		over += ps.names[i].rc == -E2BIG;
	EW_CHECK_INT(over, 8);
	ew_desk_propose_free(&ps);
out:
	desk_close(st, d);
}

/*
 * Issue 17, item 8: proposals for a ticket of n incidents take n log n
 * work (it was a linear strcmp per rule: n^2/2).  A ticket of distinct
 * destinations, and one of the same few repeated, at two sizes: the
 * work stays under 8 n log2 n and grows about as n log n does.
 */
static unsigned long long
work_for(struct ew_store *st, struct ew_desk *d, size_t n, int same)
{
	static const struct ew_port_range irc[] = { { 6667, 6667 } };
	static const struct ew_port_range irc_web[] = { { 6660, 7000 },
		{ 8080, 8080 } };
	struct ew_store_complaint c;
	struct ew_store_incident *in = calloc(n, sizeof(*in));
	struct ew_desk_proposals ps;
	char(*dst)[24] = calloc(n, sizeof(*dst));
	static unsigned serial;
	char sha[32];
	unsigned long long w0;
	int64_t cid = 0, tid = 0;
	size_t i;

	if (in == NULL || dst == NULL) {
		free(in);
		free(dst);
		return ~0ull;
	}
	for (i = 0; i < n; i++) {
		size_t k = same ? i % 7 : i;

		snprintf(dst[i], sizeof(dst[i]), "10.%zu.%zu.%zu",
		    (k >> 16) & 255, (k >> 8) & 255, k & 255);
		in[i].src = "198.51.100.7";
		in[i].src_port = -1;
		in[i].dst = dst[i];
		in[i].dst_ports = i % 3 ? irc : irc_web;
		in[i].n_dst_ports = i % 3 ? 1 : 2;
		in[i].time = in[i].time_from = in[i].time_to = NT;
		in[i].verdict = EW_STORE_VERDICT_ALLOWED;
	}
	snprintf(sha, sizeof(sha), "big-%u", ++serial);
	memset(&c, 0, sizeof(c));
	c.content_sha256 = sha;
	c.reporter = "csv@scanner.example";
	c.format = "csv";
	c.received_at = 1700000000;
	c.date = c.deadline = NT;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, n, &cid), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open(st, c.reporter, 1700000000, NT, &tid), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid), 0);
	free(in);
	free(dst);
	w0 = ew_desk_work;
	EW_CHECK_INT(ew_desk_propose(d, tid, &ps), 0);
	w0 = ew_desk_work - w0;
	EW_CHECK_INT(ps.n, 3);
	if (ps.n == 3) {
		/* every destination with its ports merged: 6660-7000
		 * (holding 6667), 8080 */
		if (same)
			EW_CHECK_INT(ps.v[0].n, 7 * 2);
		else
			EW_CHECK_INT(ps.v[0].n, n + (n + 2) / 3);
		EW_CHECK_STR(ps.v[2].rules[0], "reject *:6660-7000");
		EW_CHECK_INT(ps.v[2].n, 2);
	}
	ew_desk_propose_free(&ps);
	return w0;
}

static void
test_proposals_work(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	static const size_t sizes[2] = { 15000, 60000 };
	unsigned long long w[2][2];
	size_t k, same;
	double nlogn;

	if (d == NULL)
		goto out;
	for (same = 0; same < 2; same++)
		for (k = 0; k < 2; k++) {
			w[same][k] = work_for(st, d, sizes[k], (int)same);
			nlogn = (double)sizes[k] * 16.0;
			if ((double)w[same][k] > 8 * nlogn)
				ew_test_fail(__FILE__, __LINE__,
				    "%zu incidents: %llu steps > 8 n log n",
				    sizes[k], w[same][k]);
			else
				ew_test_passed++;
		}
	/* four times the incidents: not much more than four times the
	 * work (a quadratic builder would do sixteen times) */
	for (same = 0; same < 2; same++)
		EW_CHECK(w[same][1] < 5 * w[same][0]);
out:
	desk_close(st, d);
}

/* ---- the managed policy ---- */

static const struct ew_rule_info *
find_rule(const struct ew_policy *p, const char *text, struct ew_rule_info *ri)
{
	size_t i;

	for (i = 0; i < ew_policy_rule_count(p); i++) {
		ew_policy_rule_info(p, i, ri);
		if (ri->text != NULL && strcmp(ri->text, text) == 0)
			return ri;
	}
	return NULL;
}

static void
test_managed(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	struct ew_rule_info ri;
	struct ew_desk_rule extra[2];
	char dir[64], base[128], tid_s[32];
	const char *out, *s1, *s2, *s3, *s4;
	int64_t tid = 0, rid = 0, gone = 0;
	int64_t exp = tm("2027-02-20T00:00:00Z");
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/ew-desk-XXXXXX");
	base[0] = '\0';
	if (d == NULL || mkdtemp(dir) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "setup failed");
		goto out;
	}
	snprintf(base, sizeof(base), "%s/exit.policy", dir);
	if ((f = fopen(base, "w")) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "cannot write %s", base);
		goto out;
	}
	fputs("reject *:25\naccept *:*\n", f);
	fclose(f);

	EW_CHECK_INT(ew_store_ticket_open(st, "abuse@irc.example",
			 tm("2026-11-21T00:00:00Z"), NT, &tid),
	    0);
	snprintf(tid_s, sizeof(tid_s), "%lld", (long long)tid);
	EW_CHECK_INT(ew_store_rule_add(st, tid, "reject 203.0.113.5:6667",
			 "IRC \"bots\" \\ back\nslash", exp,
			 tm("2026-11-21T00:00:00Z"), &rid),
	    0);
	EW_CHECK_INT(ew_store_rule_add(st, 0, "reject 198.18.0.0/15:*", NULL,
			 NT, tm("2026-11-21T00:00:00Z"), &rid),
	    0);
	EW_CHECK_INT(ew_store_rule_add(st, tid, "reject 203.0.113.77:80",
			 "removed", NT, tm("2026-11-21T00:00:00Z"), &gone),
	    0);
	EW_CHECK_INT(
	    ew_store_rule_remove(st, gone, tm("2026-11-22T00:00:00Z")), 0);
	extra[0].rule = "reject 203.0.113.9:6697";
	extra[0].reason = "caf\xc3\xa9 #1, tab\there";
	extra[0].ticket_id = tid;
	extra[0].expires = NT;
	extra[1].rule = "reject6 [2001:db8:1::]/48:6667";
	extra[1].reason = "";
	extra[1].ticket_id = 0;
	extra[1].expires = exp;

	EW_CHECK_INT(ew_desk_managed(d, base, extra, 2, &b), 0);
	out = ew_buf_str(&b);
	/* the store's rules first, then the extra ones, then the include */
	s1 = strstr(out, "reject 203.0.113.5:6667");
	s2 = strstr(out, "reject 198.18.0.0/15:*");
	s3 = strstr(out, "reject 203.0.113.9:6697");
	s4 = strstr(out, "include \"");
	EW_CHECK(s1 != NULL && s2 != NULL && s3 != NULL && s4 != NULL);
	EW_CHECK(s1 < s2 && s2 < s3 && s3 < s4);
	EW_CHECK(strstr(out, "203.0.113.77") == NULL);
	EW_CHECK(b.len > 0 && out[b.len - 1] == '\n');

	ew_diag_init(&dg);
	EW_CHECK_INT(
	    ew_policy_parse_string("managed.policy", out, b.len, 0, &dg, &p),
	    0);
	if (dg.n > 0)
		printf("  managed policy:\n%s  first diagnostic: %s\n", out,
		    dg.v[0].msg);
	ew_diag_free(&dg);
	if (p != NULL) {
		EW_CHECK(find_rule(p, "reject 203.0.113.5:6667", &ri) != NULL);
		EW_CHECK_STR(ri.reason, "IRC \"bots\" \\ back slash");
		EW_CHECK_STR(ri.ticket, tid_s);
		EW_CHECK_INT(ri.expires, exp);
		EW_CHECK(find_rule(p, "reject 198.18.0.0/15:*", &ri) != NULL);
		EW_CHECK(ri.reason == NULL);
		EW_CHECK(ri.ticket == NULL);
		EW_CHECK_INT(ri.expires, EW_NEVER);
		EW_CHECK(find_rule(p, "reject 203.0.113.9:6697", &ri) != NULL);
		EW_CHECK_STR(ri.reason, "caf\xc3\xa9 #1, tab here");
		EW_CHECK_STR(ri.ticket, tid_s);
		EW_CHECK_INT(ri.expires, EW_NEVER);
		EW_CHECK(find_rule(p, "reject6 [2001:db8:1::]/48:6667", &ri) !=
			 NULL);
		EW_CHECK(ri.reason == NULL);
		EW_CHECK_INT(ri.expires, exp);
		/* the operator's policy is there, after the blocks */
		EW_CHECK(find_rule(p, "reject *:25", &ri) != NULL);
		EW_CHECK(ri.file != NULL && strcmp(ri.file, base) == 0);
	}
	ew_policy_free(p);
	p = NULL;

	/* paths an include cannot carry */
	ew_buf_reset(&b);
	EW_CHECK_INT(ew_desk_managed(d, "exit.policy", NULL, 0, &b), -EINVAL);
	EW_CHECK_INT(
	    ew_desk_managed(d, "/etc/ex\"it.policy", NULL, 0, &b), -EINVAL);
	EW_CHECK_INT(
	    ew_desk_managed(d, "/etc/ex\\it.policy", NULL, 0, &b), -EINVAL);
	EW_CHECK_INT(
	    ew_desk_managed(d, "/etc/exit\n.policy", NULL, 0, &b), -EINVAL);
	EW_CHECK_INT(b.len, 0);
out:
	ew_buf_free(&b);
	if (base[0] != '\0')
		unlink(base);
	rmdir(dir);
	desk_close(st, d);
}

/* ---- replies ---- */

/* A forwarded complaint with two incidents and a block, and a second
 * ticket with nothing blocked. */
static void
reply_setup(struct ew_store *st, int64_t *t_blocked, int64_t *t_plain)
{
	struct ew_store_complaint c;
	struct ew_store_incident in[2];
	int64_t cid = 0, rid = 0;

	memset(&c, 0, sizeof(c));
	c.message_id = "ticket-42@hoster.example";
	c.content_sha256 = "r1";
	c.reporter = "kline@irc.example.net";
	c.forwarder = "abuse@hoster.example";
	c.forwarder_ticket = "HT-42";
	c.subject = "IRC abuse from your network";
	c.format = "text";
	c.received_at = tm("2026-11-21T00:00:00Z");
	c.date = tm("2026-11-20T12:00:00Z");
	c.deadline = NT;
	memset(in, 0, sizeof(in));
	in[0].src = "198.51.100.7";
	in[0].src_port = -1;
	in[0].dst = "203.0.113.5";
	in[0].dst_ports = tports("6667", &in[0].n_dst_ports);
	in[0].time = tm("2026-11-10T10:00:00Z");
	in[0].time_from = in[0].time_to = NT;
	in[0].verdict = EW_STORE_VERDICT_ALLOWED;
	in[1].src = "198.51.100.7";
	in[1].src_port = -1;
	in[1].dst_ports = tports("6697", &in[1].n_dst_ports);
	in[1].time = in[1].time_from = in[1].time_to = NT;
	in[1].verdict = EW_STORE_VERDICT_UNKNOWN;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &cid), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open(st, c.reporter, c.received_at, NT, t_blocked),
	    0);
	EW_CHECK_INT(ew_store_ticket_link(st, *t_blocked, cid), 0);
	EW_CHECK_INT(ew_store_rule_add(st, *t_blocked,
			 "reject 203.0.113.5:6667", "IRC complaint",
			 tm("2027-02-20T00:00:00Z"), c.received_at, &rid),
	    0);
	/* expired: not mentioned */
	EW_CHECK_INT(
	    ew_store_rule_add(st, *t_blocked, "reject 203.0.113.6:80", "old",
		tm("2026-11-01T00:00:00Z"), c.received_at, &rid),
	    0);
	/* a policy applied since: those blocks run */
	EW_CHECK_INT(ew_store_policy_record(
			 st, "applied", "ExitRelay 1\n", c.received_at, &rid),
	    0);
	/* added after the last apply (--no-apply): pending */
	EW_CHECK_INT(ew_store_rule_add(st, *t_blocked,
			 "reject 203.0.113.7:6667", "IRC complaint",
			 tm("2027-02-20T00:00:00Z"), c.received_at + 60, &rid),
	    0);

	memset(&c, 0, sizeof(c));
	c.content_sha256 = "r2";
	c.reporter = "abuse@other.example";
	c.format = "text";
	c.received_at = tm("2026-11-21T00:00:00Z");
	c.date = c.deadline = NT;
	in[0].verdict = EW_STORE_VERDICT_BLOCKED;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, c.reporter, c.received_at,
			 tm("2026-11-22T00:00:00Z"), t_plain),
	    0);
	EW_CHECK_INT(ew_store_ticket_link(st, *t_plain, cid), 0);
	/* a block of no ticket is neither ticket's */
	EW_CHECK_INT(ew_store_rule_add(st, 0, "reject 203.0.113.8:80", NULL, NT,
			 c.received_at, &rid),
	    0);
}

/* Render `tmpl` for ticket tid; the output or "error N". */
static const char *
reply(struct ew_desk *d, int64_t tid, const char *tmpl, size_t len,
    struct ew_diag_list *dg)
{
	static char out[8192];
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	rc = ew_desk_reply(
	    d, tid, "my.txt", tmpl, len, tm("2026-11-21T12:00:00Z"), &b, dg);
	if (rc != 0) {
		if (rc == -EINVAL)
			EW_CHECK_INT(b.len, 0); /* nothing rendered */
		snprintf(out, sizeof(out), "error %d", rc);
	} else {
		snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	}
	ew_buf_free(&b);
	return out;
}

/* The text of s between `from` and `to` (both must be there), or "". */
static const char *
part(const char *s, const char *from, const char *to)
{
	static char buf[2048];
	const char *a = strstr(s, from), *b;

	buf[0] = '\0';
	if (a == NULL) {
		ew_test_fail(__FILE__, __LINE__, "no \"%s\"", from);
		return buf;
	}
	a += strlen(from);
	if ((b = strstr(a, to)) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "no \"%s\"", to);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(b - a), a);
	return buf;
}

static void
test_reply_builtin(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_diag_list dg;
	const char *prov = ew_desk_template("provider");
	const char *comp = ew_desk_template("complainant");
	const char *o, *inc;
	int64_t tb = 0, tp = 0;

	EW_CHECK(prov != NULL && comp != NULL);
	EW_CHECK(ew_desk_template("lawyer") == NULL);
	if (d == NULL || prov == NULL || comp == NULL)
		goto out;
	reply_setup(st, &tb, &tp);

	ew_diag_init(&dg);
	o = reply(d, tb, prov, strlen(prov), &dg);
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);
	EW_CHECK(
	    strncmp(o, "Subject: Re: IRC abuse from your network\n", 41) == 0);
	EW_CHECK(strstr(o, "Tor exit relay") != NULL);
	EW_CHECK(strstr(o, "no connection logs") != NULL);
	EW_CHECK(strstr(o, "complaint of kline@irc.example.net (your ticket "
			   "HT-42).\n") != NULL);
	EW_CHECK(strstr(o, "The server named (198.51.100.7) is") != NULL);
	/* each incident, with its verdict (the wording may change) */
	inc = part(o, "had at the time:\n\n", "\n\nTo keep this");
	EW_CHECK(
	    strstr(inc, "  - 198.51.100.7 to 203.0.113.5, ports 6667,") == inc);
	EW_CHECK(strstr(inc, "2026-11-10T10:00:00Z") != NULL);
	EW_CHECK(strstr(inc, "allowed") != NULL);
	EW_CHECK(strstr(inc, "may have been relayed for a Tor user") != NULL);
	EW_CHECK(strstr(inc, "  - 198.51.100.7 to (not stated), ports 6697,") !=
		 NULL);
	EW_CHECK(strstr(inc, "an unstated time") != NULL);
	EW_CHECK(strstr(inc, "unknown") != NULL);
	EW_CHECK(strstr(inc, "blocked") == NULL);
	/* the block, with the standalone section lines gone */
	EW_CHECK(
	    strstr(o,
		"kernel's firewall):\n\n  - reject 203.0.113.5:6667,"
		" until 2027-02-20T00:00:00Z\n\nThese blocks are decided") !=
	    NULL);
	/* a block added but not applied since is said to be pending */
	EW_CHECK(
	    strstr(o, "next\npolicy update:\n\n  - reject 203.0.113.7:6667,"
		      " until 2027-02-20T00:00:00Z\n\nMore about") != NULL);
	EW_CHECK(strstr(o, "203.0.113.6") == NULL); /* expired */
	EW_CHECK(strstr(o, "203.0.113.8") == NULL); /* another ticket's */
	EW_CHECK(strstr(o, "No block was needed") == NULL);
	EW_CHECK(strstr(o, "{{") == NULL && strstr(o, "}}") == NULL);
	EW_CHECK(strstr(o, "\n\n\n") == NULL);

	ew_diag_init(&dg);
	o = reply(d, tb, comp, strlen(comp), &dg);
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);
	EW_CHECK(strstr(o, "Tor\nexit relay") != NULL);
	EW_CHECK(strstr(o, "keeps no logs") != NULL);
	EW_CHECK(strstr(o,
		     "This relay no longer connects to:\n\n  - reject "
		     "203.0.113.5:6667, until 2027-02-20T00:00:00Z\n") != NULL);
	EW_CHECK(
	    strstr(o, "policy update on:\n\n  - reject 203.0.113.7:6667") !=
	    NULL);
	EW_CHECK(strstr(o, "  - 203.0.113.5, ports 6667, 2026-11-10T10:00:00Z: "
			   "allowed.\n") != NULL);
	EW_CHECK(strstr(o, "{{") == NULL && strstr(o, "}}") == NULL);
	EW_CHECK(strstr(o, "\n\n\n") == NULL);

	/* not forwarded, nothing blocked */
	ew_diag_init(&dg);
	o = reply(d, tp, prov, strlen(prov), &dg);
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);
	EW_CHECK(strncmp(o, "Subject: Re: your abuse report\n", 31) == 0);
	EW_CHECK(strstr(o, "complaint of abuse@other.example.\n") != NULL);
	EW_CHECK(strstr(o, "your ticket") == NULL);
	EW_CHECK(strstr(o, "To keep this from happening") == NULL);
	inc = part(o, "had at the time:\n\n", "\n\nNo block was needed");
	EW_CHECK(
	    strstr(inc, "  - 198.51.100.7 to 203.0.113.5, ports 6667,") == inc);
	EW_CHECK(strstr(inc, "2026-11-10T10:00:00Z") != NULL);
	EW_CHECK(strstr(inc, "blocked") != NULL);
	EW_CHECK(strstr(inc, "cannot have come through this exit") != NULL);
	EW_CHECK(strstr(inc, "allowed") == NULL);
	EW_CHECK(strstr(o, ".\n\nNo block was needed") != NULL);

	/* no such ticket */
	ew_diag_init(&dg);
	EW_CHECK_STR(reply(d, tp + 100, prov, strlen(prov), &dg),
	    "error -2"); /* -ENOENT */
	ew_diag_free(&dg);
out:
	desk_close(st, d);
}

static void
test_reply_custom(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_diag_list dg;
	int64_t tb = 0, tp = 0;
	const char *crlf;
	char want[512];
	static const char t1[] =
	    "Ticket {{ticket}} for {{ reporter }}\n"
	    "{{#incidents}}\n"
	    "- {{src}} -> {{dst}}:{{ports}} {{verdict}} (#{{ticket}})\n"
	    "{{/incidents}}\n"
	    "  {{^blocks}}  \n"
	    "no blocks\n"
	    "\t{{/blocks}}\n"
	    "{{#blocks}}\n"
	    "block {{rule}} ({{reason}}) until {{until}}\n"
	    "{{/blocks}}\n"
	    "inline:{{#incidents}}[{{dst}}]{{/incidents}}:{{^any_blocks}}none"
	    "{{/any_blocks}}:end\n"
	    "{{#forwarded}}via {{forwarder}} #{{forwarder_ticket}}"
	    "{{/forwarded}}\n"
	    "{{#complaints}}\n"
	    "{{subject}} / {{received}}\n"
	    "{{/complaints}}\n";

	if (d == NULL)
		goto out;
	reply_setup(st, &tb, &tp);
	ew_diag_init(&dg);
	snprintf(want, sizeof(want),
	    "Ticket %lld for kline@irc.example.net\n"
	    "- 198.51.100.7 -> 203.0.113.5:6667 allowed (#%lld)\n"
	    "- 198.51.100.7 -> (not stated):6697 unknown (#%lld)\n"
	    "block reject 203.0.113.5:6667 (IRC complaint) until "
	    "2027-02-20T00:00:00Z\n"
	    "inline:[203.0.113.5][(not stated)]::end\n"
	    "via abuse@hoster.example #HT-42\n"
	    "IRC abuse from your network / 2026-11-21T00:00:00Z\n",
	    (long long)tb, (long long)tb, (long long)tb);
	EW_CHECK_STR(reply(d, tb, t1, strlen(t1), &dg), want);
	EW_CHECK_INT(dg.n, 0);
	snprintf(want, sizeof(want),
	    "Ticket %lld for abuse@other.example\n"
	    "- 198.51.100.7 -> 203.0.113.5:6667 blocked (#%lld)\n"
	    "no blocks\n"
	    "inline:[203.0.113.5]:none:end\n"
	    "\n"
	    " / 2026-11-21T00:00:00Z\n",
	    (long long)tp, (long long)tp);
	/* inside {{#complaints}} the complaint's own (empty) subject wins
	 * over the ticket's "your abuse report" */
	EW_CHECK_STR(reply(d, tp, t1, strlen(t1), &dg), want);
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);

	/* text without tags comes out as it is; a lone brace is text */
	ew_diag_init(&dg);
	EW_CHECK_STR(reply(d, tb, "a { b } c }}\n", 13, &dg), "a { b } c }}\n");
	EW_CHECK_STR(reply(d, tb, "", 0, &dg), "");
	/* a standalone section line with CRLF line ends goes too */
	crlf = "a\r\n{{#blocks}}\r\nx\r\n{{/blocks}}\r\nb\r\n";
	EW_CHECK_STR(reply(d, tp, crlf, strlen(crlf), &dg), "a\r\nb\r\n");
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);
out:
	desk_close(st, d);
}

/* The template `tmpl` fails with a message holding `msg`, located at
 * line:first-last. */
static void
reply_fails(struct ew_desk *d, int64_t tid, const char *tmpl, const char *msg,
    unsigned line, unsigned first, unsigned last, int where)
{
	struct ew_diag_list dg;
	const char *o;

	ew_diag_init(&dg);
	o = reply(d, tid, tmpl, strlen(tmpl), &dg);
	if (strcmp(o, "error -22") != 0)
		ew_test_fail(__FILE__, where, "%s: got \"%s\"", tmpl, o);
	else
		ew_test_passed++;
	if (dg.n != 1 || dg.nerr != 1) {
		ew_test_fail(
		    __FILE__, where, "%s: %zu diagnostics", tmpl, dg.n);
		ew_diag_free(&dg);
		return;
	}
	if (strstr(dg.v[0].msg, msg) == NULL)
		ew_test_fail(__FILE__, where, "%s: message \"%s\" lacks \"%s\"",
		    tmpl, dg.v[0].msg, msg);
	else
		ew_test_passed++;
	if (dg.v[0].file == NULL || strcmp(dg.v[0].file, "my.txt") != 0 ||
	    dg.v[0].line != line || dg.v[0].first != first ||
	    dg.v[0].last != last)
		ew_test_fail(__FILE__, where,
		    "%s: at %s:%u:%u-%u, not my.txt:%u:%u-%u", tmpl,
		    dg.v[0].file ? dg.v[0].file : "(none)", dg.v[0].line,
		    dg.v[0].first, dg.v[0].last, line, first, last);
	else
		ew_test_passed++;
	ew_diag_free(&dg);
}

#define FAILS(tmpl, msg, line, first, last)                                    \
	reply_fails(d, tb, tmpl, msg, line, first, last, __LINE__)

static void
test_reply_errors(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_diag_list dg;
	int64_t tb = 0, tp = 0;
	static const char cut[] = "Ticket {{ticket}}\n";

	if (d == NULL)
		goto out;
	reply_setup(st, &tb, &tp);
	FAILS("Hello {{nmae}}\n", "unknown name 'nmae'", 1, 9, 12);
	FAILS("ok\n  {{ dst }}\n", "unknown name 'dst'", 2, 6, 8);
	FAILS("{{rule}}", "unknown name 'rule'", 1, 3, 6);
	FAILS("{{incidents}}", "unknown name 'incidents'", 1, 3, 11);
	/* checked even where nothing would be rendered */
	FAILS("{{^incidents}}\n{{bogus}}\n{{/incidents}}\n",
	    "unknown name 'bogus'", 2, 3, 7);
	FAILS("{{#forwarded}}{{src}}{{/forwarded}}", "unknown name 'src'", 1,
	    17, 19);
	FAILS("x\n{{#incident}}\n{{/incident}}\n", "unknown list 'incident'", 2,
	    4, 11);
	FAILS("{{^subject}}{{/subject}}", "unknown list 'subject'", 1, 4, 10);
	FAILS("text\nabc {{ticket\n", "unclosed tag", 2, 5, 6);
	FAILS("abc {{ticket}", "unclosed tag", 1, 5, 6);
	FAILS("{{#incidents}}{{/blocks}}", "'blocks'", 1, 18, 23);
	FAILS("a\n{{/incidents}}\n", "'incidents'", 2, 4, 12);
	FAILS("{{#incidents}}\nabc\n", "never closed: 'incidents'", 1, 4, 12);
	FAILS("{{#incidents}}\n{{#blocks}}{{/blocks}}\n{{/incidents}}\n",
	    "nest", 2, 4, 9);
	FAILS("x {{}} y", "empty tag", 1, 3, 6);
	/* the nesting error names the section it is inside */
	FAILS("{{#incidents}}\n{{^blocks}}{{/blocks}}\n{{/incidents}}\n",
	    "'incidents'", 2, 4, 9);

	/* the header block: fields only, no sections, plain addresses */
	FAILS("Subject: x\nX-A: {{#incidents}}y{{/incidents}}\n\nbody\n",
	    "no sections in the header block", 2, 9, 17);
	FAILS("Subject: x\n{{#incidents}}\n{{/incidents}}\n\nbody\n",
	    "not a header field", 2, 1, 14);
	FAILS("Subject: x\nnot a header\n\nbody\n", "not a header field", 2, 1,
	    12);
	FAILS("Subject: x\nTo: {{subject}}\n\nbody\n", "not a plain address", 2,
	    1, 2);
	FAILS("X-12345678901234567890123456789012345678901234567890123456789"
	      "0123456789012345678: x\n\n",
	    "not a header field name", 1, 1, 80);
	{
		char want[256];

		snprintf(want, sizeof(want),
		    "Subject: Ticket %lld and more\nX-A: b\n\nbody %lld\n",
		    (long long)tb, (long long)tb);
		ew_diag_init(&dg);
		EW_CHECK_STR(reply(d, tb,
				 "Subject: Ticket {{ticket}}\n\tand  more\r\n"
				 "X-A: b\n\nbody {{ticket}}\n",
				 63, &dg),
		    want);
		EW_CHECK_STR(
		    reply(d, tb, "Subject: \xc3\xa9\n\n\xc3\xa9\n", 16, &dg),
		    "Subject: =?UTF-8?B?w6k=?=\nMIME-Version: 1.0\n"
		    "Content-Type: text/plain; charset=UTF-8\n"
		    "Content-Transfer-Encoding: 8bit\n\n\xc3\xa9\n");
		EW_CHECK_INT(dg.n, 0);
		ew_diag_free(&dg);
	}

	/* a NUL byte */
	ew_diag_init(&dg);
	EW_CHECK_STR(reply(d, tb, "a\0b", 3, &dg), "error -22");
	EW_CHECK(dg.nerr == 1);
	ew_diag_free(&dg);
	/* the template is `len` bytes: what follows is not read, so a tag
	 * cut by the end is unclosed */
	ew_diag_init(&dg);
	EW_CHECK_STR(reply(d, tb, cut, strlen(cut) - 2, &dg), "error -22");
	EW_CHECK(dg.nerr == 1 && dg.n == 1 &&
		 strstr(dg.v[0].msg, "unclosed") != NULL);
	ew_diag_free(&dg);
	ew_diag_init(&dg);
	EW_CHECK_STR(reply(d, tb, "ab{{ticket}}", 3, &dg), "ab{");
	EW_CHECK_INT(dg.n, 0);
	ew_diag_free(&dg);
out:
	desk_close(st, d);
}

int
main(void)
{
	EW_RUN(test_proposals);
	EW_RUN(test_proposals_dests);
	EW_RUN(test_proposals_many_names);
	EW_RUN(test_proposals_work);
	EW_RUN(test_managed);
	EW_RUN(test_reply_builtin);
	EW_RUN(test_reply_custom);
	EW_RUN(test_reply_errors);
	return ew_test_done();
}
