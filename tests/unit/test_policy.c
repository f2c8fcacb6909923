/*
 * test_policy.c - unit tests for src/policy: tor's pattern grammar item
 * by item, the redundancy passes, and expansion of extensions.
 */
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

/* Parse one pattern and print it back as "fam addr/mask lo-hi". */
static const char *
pat(const char *s, int v6kw)
{
	static char out[128];
	struct ew_pat p;
	struct ew_pat_err err;
	char a[EW_ADDR_STRLEN];

	if (ew_pat_parse(s, strlen(s), v6kw, &p, &err) < 0)
		return "ERR";
	if (p.is_private) {
		snprintf(out, sizeof(out), "private %u-%u", p.pmin, p.pmax);
		return out;
	}
	if (p.addr.family == EW_AF_NONE)
		snprintf(a, sizeof(a), "*");
	else
		ew_addr_format(&p.addr, 0, a, sizeof(a));
	snprintf(out, sizeof(out), "%d %s/%u %u-%u", p.addr.family, a,
	    p.maskbits, p.pmin, p.pmax);
	return out;
}

static void
test_patterns(void)
{
	EW_CHECK_STR(pat("*:80", 0), "0 */0 80-80");
	EW_CHECK_STR(pat("*:80", 1), "6 ::/0 80-80");
	EW_CHECK_STR(pat("*4:*", 0), "4 0.0.0.0/0 1-65535");
	EW_CHECK_STR(pat("*6", 0), "6 ::/0 1-65535");
	EW_CHECK_STR(pat("[1.2.3.4]:80", 0), "4 1.2.3.4/32 80-80");
	EW_CHECK_STR(pat("2001:db8::/32:443", 0), "6 2001:db8::/32 443-443");
	EW_CHECK_STR(pat("2001:db8::1:443", 0), "ERR");
	EW_CHECK_STR(
	    pat("[::ffff:1.2.3.4]/128:80", 0), "6 ::ffff:1.2.3.4/96 80-80");
	EW_CHECK_STR(
	    pat("[::ffff:1.2.3.4]/24:80", 0), "6 ::ffff:1.2.3.4/120 80-80");
	EW_CHECK_STR(
	    pat("[::ffff:1.2.3.4]/0:80", 0), "6 ::ffff:1.2.3.4/96 80-80");
	EW_CHECK_STR(pat("[::ffff:1.2.3.4]/64:80", 0), "ERR");
	EW_CHECK_STR(
	    pat("[::ffff:1.2.3.4]:80", 0), "6 ::ffff:1.2.3.4/128 80-80");
	EW_CHECK_STR(pat("1.2.3.4/255.255.0.0:80", 0), "4 1.2.3.4/16 80-80");
	EW_CHECK_STR(pat("1.2.3.4/255.0.255.0:80", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4/:80", 0), "4 1.2.3.4/0 80-80");
	EW_CHECK_STR(pat("1.2.3.4/33", 0), "ERR");
	EW_CHECK_STR(pat("[2001:db8::]/129", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4/4294967304:80", 0), "4 1.2.3.4/8 80-80");
	EW_CHECK_STR(pat("1.2.3.4/+8", 0), "4 1.2.3.4/8 1-65535");
	EW_CHECK_STR(pat("1.2.3.4/-0", 0), "4 1.2.3.4/0 1-65535");
	EW_CHECK_STR(pat("1.2.3.4/08:080", 0), "4 1.2.3.4/8 80-80");
	EW_CHECK_STR(pat("1.2.3.4/8.0", 0), "ERR");
	EW_CHECK_STR(pat("*/8", 0), "ERR");
	EW_CHECK_STR(pat("*4/0", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3:80", 0), "ERR");
	EW_CHECK_STR(pat("01.2.3.4:80", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:0", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:65536", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:0x50", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:80junk", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:80-", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:80-*", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:*-80", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:90-80", 0), "ERR");
	EW_CHECK_STR(pat("1.2.3.4:80-90junk", 0), "4 1.2.3.4/32 80-90");
	EW_CHECK_STR(pat("1.2.3.4:80-90-100", 0), "4 1.2.3.4/32 80-90");
	EW_CHECK_STR(pat("1.2.3.4:+80", 0), "4 1.2.3.4/32 80-80");
	EW_CHECK_STR(pat("1.2.3.4:", 0), "4 1.2.3.4/32 1-65535");
	EW_CHECK_STR(pat("[2001:db8::1]junk:80", 0), "6 2001:db8::1/128 80-80");
	EW_CHECK_STR(pat("[2001:db8::/32]:80", 0), "ERR");
	EW_CHECK_STR(pat("[2001:db8::1:80", 0), "ERR");
	EW_CHECK_STR(
	    pat("[2001:db8::]/255.255.0.0:80", 0), "6 2001:db8::/16 80-80");
	EW_CHECK_STR(pat("private:80", 0), "private 80-80");
	EW_CHECK_STR(pat("private:", 0), "private 1-65535");
	EW_CHECK_STR(pat("private", 0), "ERR");
	EW_CHECK_STR(pat("private/8", 0), "ERR");
	EW_CHECK_STR(pat("privatefoo:80", 0), "ERR");
	EW_CHECK_STR(pat("[2001:0db8:0000:0000:0000:0000:0000:0001]/128:1000-"
			 "2000",
			 0),
	    "6 2001:db8::1/128 1000-2000");
	EW_CHECK_STR(pat("[2001:db8::1]/00000000000000000000000000000000000000"
			 "00000000000000000000000000000000128:80",
			 0),
	    "ERR");
	EW_CHECK_STR(pat("", 0), "ERR");
	EW_CHECK_STR(pat("**:80", 0), "ERR");
}

static struct ew_item
item(int action, const char *a, unsigned mask, unsigned lo, unsigned hi)
{
	struct ew_item it;

	memset(&it, 0, sizeof(it));
	ew_addr_parse(a, &it.addr);
	it.action = (uint8_t)action;
	it.maskbits = (uint8_t)mask;
	it.pmin = (uint16_t)lo;
	it.pmax = (uint16_t)hi;
	return it;
}

static void
test_redundancy(void)
{
	struct ew_item v[8];
	size_t n;

	/* pass 2: a later item inside an earlier one goes (C37) */
	v[0] = item(EW_REJECT, "1.2.3.0", 24, 1, 65535);
	v[1] = item(EW_REJECT, "1.2.3.4", 32, 80, 80);
	v[2] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	n = 3;
	ew_remove_redundancies(v, &n);
	EW_CHECK_INT(n, 2);
	EW_CHECK_INT(v[1].action, EW_ACCEPT);

	/* pass 3: an earlier item covered by a later same-action one (C38) */
	v[0] = item(EW_ACCEPT, "1.2.3.4", 32, 80, 80);
	v[1] = item(EW_ACCEPT, "1.2.0.0", 16, 1, 65535);
	v[2] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	n = 3;
	ew_remove_redundancies(v, &n);
	EW_CHECK_INT(n, 2);
	EW_CHECK_INT(v[0].maskbits, 16);

	/* ... but not across an intersecting item of the other action */
	v[0] = item(EW_ACCEPT, "1.2.3.4", 32, 80, 80);
	v[1] = item(EW_REJECT, "1.2.3.0", 24, 80, 80);
	v[2] = item(EW_ACCEPT, "1.2.0.0", 16, 1, 65535);
	v[3] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	n = 4;
	ew_remove_redundancies(v, &n);
	EW_CHECK_INT(n, 4);

	/* pass 1: nothing of a family survives its catch-all */
	v[0] = item(EW_REJECT, "::", 0, 1, 65535);
	v[1] = item(EW_ACCEPT, "2001:db8::", 32, 80, 80);
	v[2] = item(EW_ACCEPT, "1.2.3.4", 32, 80, 80);
	v[3] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	v[4] = item(EW_ACCEPT, "5.6.7.8", 32, 80, 80);
	n = 5;
	ew_remove_redundancies(v, &n);
	EW_CHECK_INT(n, 3);
	EW_CHECK_INT(v[0].addr.family, EW_AF_INET6);
	EW_CHECK_INT(v[1].addr.family, EW_AF_INET);
	EW_CHECK_INT(v[2].maskbits, 0);

	/* host bits: 1.2.3.4/8 and 1.0.0.0/8 cover each other */
	v[0] = item(EW_REJECT, "1.2.3.4", 8, 1, 65535);
	v[1] = item(EW_REJECT, "1.0.0.0", 8, 1, 65535);
	n = 2;
	ew_remove_redundancies(v, &n);
	EW_CHECK_INT(n, 1);
	EW_CHECK_INT(v[0].addr.b[1], 2);
}

/* A small deterministic generator (xorshift). */
static uint64_t rng_state = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

/* Random items from a small pool of nested prefixes and port ranges, so
 * that covering, intersecting and duplicate items are common. */
static struct ew_item
random_item(void)
{
	static const char *const a4[] = { "0.0.0.0", "1.0.0.0", "1.2.0.0",
		"1.2.3.0", "1.2.3.4", "1.2.3.5", "1.2.4.0", "9.9.9.9" };
	static const unsigned m4[] = { 0, 8, 16, 24, 32, 32, 24, 32 };
	static const char *const a6[] = { "::", "2001:db8::", "2001:db8:1::",
		"2001:db8:1::1", "2001:db9::" };
	static const unsigned m6[] = { 0, 32, 48, 128, 32 };
	static const unsigned pr[][2] = { { 1, 65535 }, { 80, 80 },
		{ 443, 443 }, { 1, 1024 }, { 80, 443 }, { 6660, 7000 },
		{ 6667, 6667 }, { 2, 65535 } };
	unsigned p = rnd(8), k;
	int act = rnd(2) ? EW_ACCEPT : EW_REJECT;

	if (rnd(3) == 0) {
		k = rnd(5);
		return item(act, a6[k],
		    m6[k] ? m6[k] - rnd(2) * (m6[k] > 32) : 0, pr[p][0],
		    pr[p][1]);
	}
	k = rnd(8);
	return item(act, a4[k], m4[k] ? m4[k] - rnd(2) * (m4[k] > 8) : 0,
	    pr[p][0], pr[p][1]);
}

static int
by_mask_desc(const void *x, const void *y)
{
	const struct ew_item *a = x, *b = y;

	if (a->maskbits != b->maskbits)
		return a->maskbits > b->maskbits ? -1 : 1;
	return a->pmax - a->pmin < b->pmax - b->pmin
		   ? -1
		   : a->pmax - a->pmin > b->pmax - b->pmin;
}

/*
 * Pass 3 on nested items of both actions: the host's accept goes (the
 * /24's accept covers it, nothing in between), the host's reject stays
 * (the accepts in between meet it).
 */
static void
test_redundancy_pass3_order(void)
{
	struct ew_item a[5], b[5];
	size_t na = 5, nb = 5;

	a[0] = item(EW_REJECT, "1.2.3.4", 32, 1, 65535);
	a[1] = item(EW_ACCEPT, "1.2.3.4", 32, 80, 80);
	a[2] = item(EW_ACCEPT, "1.2.3.0", 24, 80, 80);
	a[3] = item(EW_REJECT, "1.2.3.0", 24, 1, 65535);
	a[4] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	memcpy(b, a, sizeof(a));
	ew_remove_redundancies(a, &na);
	EW_CHECK_INT(na, 4); /* only accept 1.2.3.4:80 goes */
	EW_CHECK_INT(a[0].maskbits, 32);
	EW_CHECK_INT(a[0].action, EW_REJECT);
	EW_CHECK_INT(ew_remove_redundancies_fast(b, &nb), 0);
	EW_CHECK_INT(nb, na);
	EW_CHECK(memcmp(a, b, na * sizeof(a[0])) == 0);
}

/* The fast redundancy removal gives tor's list, item for item. */
static void
test_redundancy_fast(void)
{
	struct ew_item a[64], b[64];
	size_t na, nb, i;
	int round, same = 1;

	for (round = 0; round < 40000; round++) {
		/* a third of the rounds each way of looking below a node;
		 * half of them with the packed IPv4 sort */
		ew_redundancy_sweep = round % 3 - 1;
		ew_redundancy_pack_min = round % 4 < 2 ? 1 : 1024;
		na = 1 + rnd(40);
		for (i = 0; i < na; i++)
			a[i] = random_item();
		/* half the lists narrow first, wide last: what pass 3 is
		 * about (an item covered by a later one) */
		if (round % 2)
			qsort(a, na, sizeof(a[0]), by_mask_desc);
		memcpy(b, a, na * sizeof(a[0]));
		nb = na;
		ew_remove_redundancies(a, &na);
		if (ew_remove_redundancies_fast(b, &nb) != 0 || na != nb ||
		    memcmp(a, b, na * sizeof(a[0])) != 0) {
			same = 0;
			break;
		}
	}
	ew_redundancy_sweep = 0;
	ew_redundancy_pack_min = 1024;
	EW_CHECK(same);
	EW_CHECK_INT(round, 40000);
}

/* A list long enough for the packed IPv4 sort at its own threshold,
 * IPv6 items among the IPv4 ones: tor's list, item for item. */
static void
test_redundancy_fast_big(void)
{
	enum { N = 3000 };
	static struct ew_item a[N], b[N];
	size_t na = N, nb = N, i;
	char s[32];

	for (i = 0; i < N; i++) {
		if (i % 7 == 3) {
			do /* IPv6, no catch-all */
				a[i] = random_item();
			while (a[i].addr.family != EW_AF_INET6 ||
			       a[i].maskbits == 0);
			continue;
		}
		snprintf(
		    s, sizeof(s), "10.%u.%u.%u", rnd(4), rnd(64), rnd(256));
		a[i] = item(rnd(3) ? EW_REJECT : EW_ACCEPT, s,
		    i % 5 == 0 ? 22 + rnd(11) : 32, 1 + rnd(2) * 79,
		    rnd(2) ? 65535 : 443);
	}
	memcpy(b, a, sizeof(a));
	ew_remove_redundancies(a, &na);
	EW_CHECK_INT(ew_remove_redundancies_fast(b, &nb), 0);
	EW_CHECK(na > 100 && na < N);
	EW_CHECK_INT(nb, na);
	EW_CHECK(memcmp(a, b, na * sizeof(a[0])) == 0);
}

/* Parse text, expand at `now`, print; errors give "ERR". */
static char *
expand(const char *text, int64_t now)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_buf b = EW_BUF_INIT;

	ew_diag_init(&d);
	memset(&env, 0, sizeof(env));
	env.now = now;
	if (ew_policy_parse_string("t", text, strlen(text), 0, &d, &p) < 0) {
		ew_diag_free(&d);
		return strdup("ERR");
	}
	if (ew_policy_expand(p, &env, &d, &e) == 0)
		ew_expanded_format(e, &b);
	ew_expanded_free(e);
	ew_policy_free(p);
	ew_diag_free(&d);
	return ew_buf_detach(&b);
}

/*
 * Table entries in and out of the plain IPv4 form (the form a parser
 * shortcut reads) mean what the same pattern means in a rule: the same
 * items, or an error both ways.
 */
static void
test_table_entry_forms(void)
{
	static const char *const v[] = { "1.2.3.4", "1.2.3.4/32", "1.2.3.4/0",
		"1.2.3.4/7", "1.2.3.4/24", "0.0.0.0/8", "255.255.255.255",
		"10.0.0.0/31", "1.2.3.4/33", "1.2.3.4/08", "1.2.3.4/00",
		"1.2.3.4/", "01.2.3.4", "1.2.3.04", "1.2.3.0/024", "256.1.1.1",
		"1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.4/255.0.0.0",
		"1.2.3.4/255.0.255.0", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4567",
		"1..3.4", "[::ffff:1.2.3.4]", "[::1]", "2001:db8::/32",
		"1.2.3.4/1x" };
	char text[256], *a, *b;
	size_t i;
	int same = 1;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(text, sizeof(text),
		    "ExitPolicyRejectPrivate 0\ntable <t> { %s }\n"
		    "reject <t>:*\naccept *:*\n",
		    v[i]);
		a = expand(text, 0);
		snprintf(text, sizeof(text),
		    "ExitPolicyRejectPrivate 0\nreject %s:*\naccept *:*\n",
		    v[i]);
		b = expand(text, 0);
		if (strcmp(a, b) != 0) {
			printf("# %s: table '%s', rule '%s'\n", v[i], a, b);
			same = 0;
		}
		free(a);
		free(b);
	}
	EW_CHECK(same);
}

static void
test_extensions(void)
{
	char *s;
	const char *head = "ExitPolicyRejectPrivate 0\n";
	char text[512];

	snprintf(text, sizeof(text),
	    "%sirc = 6667, 6660-6669 8080\nreject 1.2.3.4:$irc\naccept *:*\n",
	    head);
	s = expand(text, 0);
	EW_CHECK_STR(s, "reject6 *:*\nreject 1.2.3.4:6660-6669\n"
			"reject 1.2.3.4:8080\naccept *:*\n");
	free(s);

	snprintf(text, sizeof(text),
	    "%stable <t> { 5.6.7.0/24, 2001:db8::/32 }\nIPv6Exit 1\n"
	    "reject <t>:$smtp\naccept *:*\n",
	    head);
	s = expand(text, 0);
	EW_CHECK_STR(s, "reject 5.6.7.0/24:25\nreject 5.6.7.0/24:465\n"
			"reject 5.6.7.0/24:587\nreject6 [2001:db8::]/32:25\n"
			"reject6 [2001:db8::]/32:465\n"
			"reject6 [2001:db8::]/32:587\n"
			"accept *:*\naccept6 *:*\n");
	free(s);

	/* expiry: active before, gone at and after the instant */
	snprintf(text, sizeof(text),
	    "%sreject 1.2.3.4:* expires 1970-01-02 reason \"x\" ticket T-1\n"
	    "accept *:*\n",
	    head);
	s = expand(text, 86399);
	EW_CHECK_STR(s, "reject6 *:*\nreject 1.2.3.4:*\naccept *:*\n");
	free(s);
	s = expand(text, 86400);
	EW_CHECK_STR(s, "reject6 *:*\naccept *:*\n");
	free(s);

	/* an expired lone rule leaves no ExitPolicy: not an exit */
	s = expand("reject 1.2.3.4:* expires 1970-01-02\n", 86400);
	EW_CHECK_STR(s, "reject *:*\n");
	free(s);

	/* errors */
	s = expand("reject 1.2.3.4:$nope\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("reject <nope>:*\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("a = 1\na = 2\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("irc = 6667\nreject *:$irc\n", 0); /* redefine built-in */
	EW_CHECK(strcmp(s, "ERR") != 0);
	free(s);
	s = expand("reject *:* bogus\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("reject *:* expires 2026-02-30\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("IPv6Exit yes\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("Nickname foo\n", 0);
	EW_CHECK_STR(s, "ERR");
	free(s);
	s = expand("include \"x\"\n", 0);
	EW_CHECK_STR(s, "ERR"); /* no such file */
	free(s);
}

static void
test_show(void)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_buf b = EW_BUF_INIT;
	const char *text =
	    "ipv6exit 1\nweb2 = 8080 80\n"
	    "ExitPolicy accept [2001:DB8::]/32:80-90junk,reject 1.2.3.4/"
	    "255.0.0.0\n"
	    "reject\t1.2.3.4:$web2  ticket \"T 1\" reason \"say \\\"hi\\\"\"\n";

	ew_diag_init(&d);
	EW_CHECK(
	    ew_policy_parse_string("t", text, strlen(text), 0, &d, &p) == 0);
	if (p != NULL) {
		ew_policy_show(p, &b);
		EW_CHECK_STR(ew_buf_str(&b),
		    "IPv6Exit 1\n\nweb2 = 80,8080\n\n"
		    "ExitPolicy accept [2001:db8::]/32:80-90, reject "
		    "1.2.3.4/8:*\n"
		    "reject 1.2.3.4:$web2 reason \"say \\\"hi\\\"\" ticket "
		    "\"T 1\"\n");
	}
	ew_buf_free(&b);
	ew_policy_free(p);
	ew_diag_free(&d);
}

int
main(void)
{
	EW_RUN(test_patterns);
	EW_RUN(test_redundancy);
	EW_RUN(test_redundancy_pass3_order);
	EW_RUN(test_redundancy_fast);
	EW_RUN(test_redundancy_fast_big);
	EW_RUN(test_table_entry_forms);
	EW_RUN(test_extensions);
	EW_RUN(test_show);
	return ew_test_done();
}
