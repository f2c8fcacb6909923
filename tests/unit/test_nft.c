/*
 * test_nft.c - the nftables emitter: element parsing, and the merged
 * intervals of a set against the union of the prefixes they came from.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "harness/ew_test.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "policy/policy.h"

static void
test_elem_parse(void)
{
	struct ew_nft_elem e;
	char s[EW_ADDR_STRLEN];

	EW_CHECK_INT(ew_nft_elem_parse("192.0.2.7/24", &e), 0);
	ew_addr_format(&e.lo, 0, s, sizeof(s));
	EW_CHECK_STR(s, "192.0.2.0");
	ew_addr_format(&e.hi, 0, s, sizeof(s));
	EW_CHECK_STR(s, "192.0.2.255");
	EW_CHECK_INT(ew_nft_elem_parse("198.51.100.9", &e), 0);
	EW_CHECK(memcmp(e.lo.b, e.hi.b, 4) == 0);
	EW_CHECK_INT(ew_nft_elem_parse("2001:db8::/32", &e), 0);
	ew_addr_format(&e.hi, 0, s, sizeof(s));
	EW_CHECK_STR(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	EW_CHECK_INT(ew_nft_elem_parse("0.0.0.0/0", &e), 0);
	EW_CHECK(ew_nft_elem_parse("1.2.3.4/33", &e) < 0);
	EW_CHECK(ew_nft_elem_parse("1.2.3.4/", &e) < 0);
	EW_CHECK(ew_nft_elem_parse("1.2.3.4/x", &e) < 0);
	EW_CHECK(ew_nft_elem_parse("", &e) < 0);
	EW_CHECK(ew_nft_elem_parse("/8", &e) < 0);
	EW_CHECK(ew_nft_elem_parse("nonsense", &e) < 0);
}

/* Parse "a.b.c.d", "a.b.c.d/len", "lo-hi" (IPv4) into [lo, hi]. */
static int
parse_elem(const char *s, uint32_t *lo, uint32_t *hi)
{
	char a[64], *dash;
	struct ew_nft_elem e;

	snprintf(a, sizeof(a), "%s", s);
	dash = strchr(a, '-');
	if (dash != NULL) {
		struct ew_addr x, y;

		*dash = '\0';
		if (!ew_addr_parse(a, &x) || !ew_addr_parse(dash + 1, &y))
			return -1;
		*lo = ew_addr_get4(&x);
		*hi = ew_addr_get4(&y);
		return 0;
	}
	if (ew_nft_elem_parse(a, &e) < 0)
		return -1;
	*lo = ew_addr_get4(&e.lo);
	*hi = ew_addr_get4(&e.hi);
	return 0;
}

/*
 * Random prefixes inside 10.0.0.0/16 (so they overlap and touch): the
 * set's elements must be sorted, disjoint, not adjacent, and cover
 * exactly the union of the prefixes.
 */
static void
test_merge_random(void)
{
	static uint8_t want[65536], got[65536];
	unsigned round;

	srand(4);
	for (round = 0; round < 60; round++) {
		struct ew_buf pol = EW_BUF_INIT, out = EW_BUF_INIT;
		struct ew_diag_list d;
		struct ew_policy *p = NULL;
		struct ew_expanded *e = NULL;
		struct ew_expand_env env;
		struct ew_nft_opts o;
		struct ew_nft_stats st;
		const char *l;
		long prev_hi = -2;
		/* the last rounds big enough for the radix sorts */
		int i, n = round < 50 ? 5 + rand() % 60 : 100 + rand() % 3000;
		int bad = 0;

		memset(want, 0, sizeof(want));
		memset(got, 0, sizeof(got));
		ew_buf_puts(&pol, "ExitPolicyRejectPrivate 0\ntable <t> {");
		for (i = 0; i < n; i++) {
			unsigned len = round < 50 ? 17 + (unsigned)rand() % 16
						  : 26 + (unsigned)rand() % 7;
			uint32_t a = (uint32_t)rand() & 0xffff, j;

			a &= ~((1u << (32 - len)) - 1) & 0xffff;
			ew_buf_printf(
			    &pol, " 10.0.%u.%u/%u", a >> 8, a & 255, len);
			for (j = a; j <= (a | ((1u << (32 - len)) - 1)); j++)
				want[j] = 1;
		}
		ew_buf_puts(&pol, " }\nreject <t>:* ticket T-1\naccept *:*\n");
		ew_diag_init(&d);
		memset(&env, 0, sizeof(env));
		memset(&o, 0, sizeof(o));
		o.uid = 102;
		EW_CHECK_INT(
		    ew_policy_parse_string("t", pol.p, pol.len, 0, &d, &p), 0);
		if (p == NULL || ew_policy_expand(p, &env, &d, &e) < 0) {
			EW_CHECK(0);
			goto next;
		}
		EW_CHECK_INT(ew_nft_ruleset(p, e, &o, &out, &st), 0);
		EW_CHECK(strstr(ew_buf_str(&out), " log ") == NULL);
		/* set elements, or the inline ones of the rule */
		for (l = ew_buf_str(&out); (l = strstr(l, "\n")) != NULL;) {
			char el[64];
			size_t k = 0;
			uint32_t lo = 0, hi = 0, j;

			l++;
			if (strncmp(l, "\t\t\t", 3) == 0) {
				l += 3;
			} else if (strncmp(l, "\t\tip daddr ", 11) == 0 &&
				   l[11] != '@') {
				l += 11;
				if (*l == '{')
					l += 2;
			} else {
				continue;
			}
			while (1) {
				k = strcspn(l, ", \n}");
				if (k == 0 || k >= sizeof(el))
					break;
				memcpy(el, l, k);
				el[k] = '\0';
				if (parse_elem(el, &lo, &hi) < 0 ||
				    (lo >> 16) != 0x0a00 ||
				    (hi >> 16) != 0x0a00 ||
				    (long)(lo & 0xffff) <= prev_hi + 1)
					bad++;
				prev_hi = (long)(hi & 0xffff);
				for (j = lo & 0xffff; j <= (hi & 0xffff); j++)
					got[j] = 1;
				l += k;
				if (strncmp(l, ", ", 2) != 0)
					break;
				l += 2;
			}
		}
		EW_CHECK_INT(bad, 0);
		EW_CHECK(memcmp(want, got, sizeof(want)) == 0);
	next:
		ew_expanded_free(e);
		ew_policy_free(p);
		ew_diag_free(&d);
		ew_buf_free(&pol);
		ew_buf_free(&out);
	}
}

static const char *diff_old =
    "table inet exitwarden {\n"
    "\tset r0_v4_0 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
    "\t\telements = {\n\t\t\t192.0.2.1,\n\t\t\t192.0.2.8/29\n"
    "\t\t}\n\t}\n"
    "\tset r1_v4_0 {\n\t\ttype ipv4_addr\n"
    "\t\tflags interval, timeout\n"
    "\t\telements = {\n\t\t\t198.51.100.1 timeout 1d\n\t\t}\n\t}\n"
    "\tchain rules {\n\t\tip daddr @r0_v4_0 accept\n\t}\n}\n";

static void
test_diff(void)
{
	struct ew_nft_diff d;
	struct ew_buf b = EW_BUF_INIT;
	char *t;

	EW_CHECK_INT(ew_nft_diff(diff_old, diff_old, &d), 0);
	EW_CHECK_INT(d.n, 0);
	ew_nft_diff_free(&d);

	/* one element merged with a neighbour, one added */
	ew_buf_puts(&b, "table inet exitwarden {\n"
			"\tset r0_v4_0 {\n\t\ttype ipv4_addr\n"
			"\t\tflags interval\n"
			"\t\telements = {\n\t\t\t10.0.0.0/8,\n"
			"\t\t\t192.0.2.1-192.0.2.2,\n\t\t\t192.0.2.8/29\n"
			"\t\t}\n\t}\n"
			"\tset r1_v4_0 {\n\t\ttype ipv4_addr\n"
			"\t\tflags interval, timeout\n"
			"\t\telements = {\n\t\t\t198.51.100.1 timeout 2d\n"
			"\t\t}\n\t}\n"
			"\tchain rules {\n\t\tip daddr @r0_v4_0 accept\n"
			"\t}\n}\n");
	EW_CHECK_INT(ew_nft_diff(diff_old, b.p, &d), 0);
	EW_CHECK_INT(d.n, 3);
	EW_CHECK_INT(d.deleted, 1);
	EW_CHECK_INT(d.added, 2);
	if (d.n == 3) {
		EW_CHECK(!d.ops[0].add); /* deletions first */
		EW_CHECK_STR(d.ops[0].set, "r0_v4_0");
		EW_CHECK_INT(ew_addr_get4(&d.ops[0].e.lo), 0xc0000201);
		EW_CHECK(d.ops[1].add && d.ops[2].add);
		EW_CHECK_INT(ew_addr_get4(&d.ops[1].e.lo), 0x0a000000);
		EW_CHECK_INT(ew_addr_get4(&d.ops[2].e.hi), 0xc0000202);
	}
	ew_nft_diff_free(&d);

	/* a rule changed: reload */
	ew_buf_reset(&b);
	ew_buf_puts(&b, diff_old);
	t = strstr(b.p, "accept");
	memcpy(t, "return", 6);
	EW_CHECK_INT(ew_nft_diff(diff_old, b.p, &d), -EAGAIN);

	/* an element of a set with timeouts changed: reload */
	ew_buf_reset(&b);
	ew_buf_puts(&b, diff_old);
	t = strstr(b.p, "198.51.100.1 ");
	t[11] = '2';
	EW_CHECK_INT(ew_nft_diff(diff_old, b.p, &d), -EAGAIN);

	/* not our text: another shape (load it whole), or an element
	 * that is not one where the two differ */
	EW_CHECK_INT(ew_nft_diff(diff_old,
			 "\tset x {\n\t\telements = {\n\t\t\tnope\n", &d),
	    -EAGAIN);
	ew_buf_reset(&b);
	ew_buf_puts(&b, diff_old);
	t = strstr(b.p, "192.0.2.8/29");
	memcpy(t, "192.0.2.8/39", 12);
	EW_CHECK_INT(ew_nft_diff(diff_old, b.p, &d), -EINVAL);

	/* a set filled from empty, and emptied */
	ew_buf_reset(&b);
	ew_buf_puts(&b, diff_old);
	t = strstr(b.p, "\t\telements = {\n\t\t\t192.0.2.1,\n"
			"\t\t\t192.0.2.8/29\n\t\t}\n");
	memmove(t, t + 49, strlen(t + 49) + 1);
	EW_CHECK_INT(ew_nft_diff(diff_old, b.p, &d), 0);
	EW_CHECK_INT(d.deleted, 2);
	EW_CHECK_INT(d.added, 0);
	ew_nft_diff_free(&d);
	EW_CHECK_INT(ew_nft_diff(b.p, diff_old, &d), 0);
	EW_CHECK_INT(d.deleted, 0);
	EW_CHECK_INT(d.added, 2);
	ew_nft_diff_free(&d);
	ew_buf_free(&b);
}

/* A long block: equal runs skipped whole, the changes still found. */
static void
test_diff_long(void)
{
	struct ew_buf a = EW_BUF_INIT, b = EW_BUF_INIT;
	struct ew_nft_diff d;
	unsigned i;

	ew_buf_puts(&a, "table inet exitwarden {\n\tset s {\n"
			"\t\ttype ipv4_addr\n\t\tflags interval\n"
			"\t\telements = {\n");
	ew_buf_puts(&b, a.p);
	for (i = 0; i < 3000; i++) {
		const char *sep = i + 1 < 3000 ? ",\n" : "\n";

		/* b: 10.0.7.77 added, 10.0.11.183 (i 2999) gone, and
		 * 10.0.0.5 written as a range of one */
		if (i == 1998)
			ew_buf_puts(&b, "\t\t\t10.0.7.77,\n");
		ew_buf_printf(&a, "\t\t\t10.0.%u.%u%s", i / 256, i % 256, sep);
		if (i == 5)
			ew_buf_puts(&b, "\t\t\t10.0.0.5-10.0.0.5,\n");
		else if (i < 2998)
			ew_buf_printf(
			    &b, "\t\t\t10.0.%u.%u%s", i / 256, i % 256, sep);
		else if (i == 2998)
			ew_buf_printf(
			    &b, "\t\t\t10.0.%u.%u\n", i / 256, i % 256);
	}
	ew_buf_puts(&a, "\t\t}\n\t}\n}\n");
	ew_buf_puts(&b, "\t\t}\n\t}\n}\n");
	EW_CHECK_INT(ew_nft_diff(a.p, b.p, &d), 0);
	EW_CHECK_INT(d.deleted, 1);
	EW_CHECK_INT(d.added, 1);
	if (d.n == 2) {
		EW_CHECK_INT(ew_addr_get4(&d.ops[0].e.lo), 0x0a000bb7);
		EW_CHECK_INT(ew_addr_get4(&d.ops[1].e.lo), 0x0a00074d);
	}
	ew_nft_diff_free(&d);
	EW_CHECK_INT(ew_nft_diff(b.p, a.p, &d), 0);
	EW_CHECK_INT(d.deleted, 1);
	EW_CHECK_INT(d.added, 1);
	ew_nft_diff_free(&d);
	EW_CHECK_INT(ew_nft_diff(a.p, a.p, &d), 0);
	EW_CHECK_INT(d.n, 0);
	ew_nft_diff_free(&d);
	ew_buf_free(&a);
	ew_buf_free(&b);
}

/* ew_nft_split: an emitted text taken apart for a first load. */
static const char split_text[] =
    "# generated\n"
    "table inet exitwarden {}\n"
    "delete table inet exitwarden\n"
    "table inet exitwarden {\n"
    "\tcounter r0 {\n\t\tcomment \"x\"\n\t}\n"
    "\tset r0_v4_0 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
    "\t\telements = {\n\t\t\t10.0.0.0/8,\n"
    "\t\t\t192.0.2.1-192.0.2.2,\n\t\t\t192.0.2.9,\n"
    "\t\t\t240.0.0.0/4\n\t\t}\n\t}\n"
    "\tset r0_v6_0 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
    "\t\telements = {\n\t\t\t2001:db8::/32\n\t\t}\n\t}\n"
    "\tset r1_v4_0 {\n\t\ttype ipv4_addr\n"
    "\t\tflags interval, timeout\n"
    "\t\telements = {\n\t\t\t198.51.100.1 timeout 1d\n\t\t}\n\t}\n"
    "\tchain output {\n"
    "\t\ttype filter hook output priority filter; policy accept;\n"
    "\t\tmeta skuid 102 tcp flags & (syn | ack) == syn jump rules\n"
    "\t}\n"
    "\tchain rules {\n\t\tip daddr @r0_v4_0 accept\n\t}\n}\n";

static void
test_split(void)
{
	struct ew_nft_split sp;
	struct ew_buf b = EW_BUF_INIT;
	const char *k;
	char *t;

	EW_CHECK_INT(ew_nft_split(split_text, &sp), 0);
	EW_CHECK_INT(sp.nsets, 2);
	EW_CHECK_INT(sp.elements, 5);
	EW_CHECK_INT(sp.nchains, 1);
	if (sp.nsets == 2) {
		EW_CHECK_STR(sp.sets[0].name, "r0_v4_0");
		EW_CHECK_INT(sp.sets[0].family, EW_AF_INET);
		EW_CHECK_INT(sp.sets[0].n, 4);
		k = (const char *)sp.sets[0].keys;
		/* 10.0.0.0/8: 10.0.0.0 to 10.255.255.255 */
		EW_CHECK(memcmp(k, "\x0a\x00\x00\x00\x0a\xff\xff\xff", 8) == 0);
		EW_CHECK(
		    memcmp(k + 8, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8) == 0);
		EW_CHECK(
		    memcmp(k + 16, "\xc0\x00\x02\x09\xc0\x00\x02\x09", 8) == 0);
		EW_CHECK(
		    memcmp(k + 24, "\xf0\x00\x00\x00\xff\xff\xff\xff", 8) == 0);
		EW_CHECK_STR(sp.sets[1].name, "r0_v6_0");
		EW_CHECK_INT(sp.sets[1].n, 1);
		EW_CHECK_INT(sp.sets[1].keys[2], 0x0d);
		EW_CHECK_INT(sp.sets[1].keys[15], 0x00);
		EW_CHECK_INT(sp.sets[1].keys[18], 0x0d);
		EW_CHECK_INT(sp.sets[1].keys[31], 0xff);
	}
	if (sp.nchains == 1) {
		EW_CHECK_STR(sp.chains[0].name, "output");
		EW_CHECK_STR(sp.chains[0].stage, "ew_stage_output");
		EW_CHECK_STR(sp.chains[0].type, "filter");
		EW_CHECK_INT(sp.chains[0].hook, EW_NFT_HOOK_OUTPUT);
		EW_CHECK_INT(sp.chains[0].accept, 1);
		EW_CHECK_INT(sp.chains[0].prio, 0);
	}
	t = sp.skel.p;
	/* the skeleton: created, not replaced; sets empty; nothing hooked */
	EW_CHECK(t != NULL && strstr(t, "create table inet exitwarden\n"));
	EW_CHECK(t != NULL && !strstr(t, "delete table"));
	EW_CHECK(t != NULL && !strstr(t, "10.0.0.0/8"));
	EW_CHECK(t != NULL && !strstr(t, "2001:db8"));
	EW_CHECK(t != NULL && strstr(t, "\tset r0_v4_0 {\n\t\ttype ipv4_addr\n"
					"\t\tflags interval\n\t}\n"));
	EW_CHECK(t != NULL && strstr(t, "198.51.100.1 timeout 1d"));
	EW_CHECK(t != NULL && !strstr(t, "hook"));
	EW_CHECK(t != NULL && strstr(t, "\tchain ew_stage_output {\n"
					"\t\tmeta skuid 102 "));
	EW_CHECK(t != NULL && strstr(t, "\tchain rules {\n"));
	ew_nft_split_free(&sp);

	/* shapes it does not know: loaded as they are */
	ew_buf_puts(&b, split_text);
	t = strstr(b.p, "priority filter");
	memcpy(t, "priority raw   ", 15);
	EW_CHECK_INT(ew_nft_split(b.p, &sp), -EAGAIN);
	ew_buf_reset(&b);
	ew_buf_puts(&b, split_text);
	t = strstr(b.p, "192.0.2.9");
	memcpy(t, "192.0.2.x", 9);
	EW_CHECK_INT(ew_nft_split(b.p, &sp), -EAGAIN);
	ew_buf_reset(&b);
	ew_buf_puts(&b, split_text);
	t = strstr(b.p, "jump rules");
	memcpy(t, "jump {ule}", 10); /* an anonymous set in a base chain */
	EW_CHECK_INT(ew_nft_split(b.p, &sp), -EAGAIN);
	EW_CHECK_INT(
	    ew_nft_split("table inet exitwarden {\n}\n", &sp), -EAGAIN);
	ew_buf_free(&b);
}

/* A policy's ruleset both ways: its text and its compact form. */
static int
build2(const char *pol, struct ew_buf *text, struct ew_nft_compact *c)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_nft_opts o;
	struct ew_nft_stats s1, s2;
	int rc = -1;

	ew_diag_init(&d);
	memset(&env, 0, sizeof(env));
	env.now = 1780000000; /* 2026-05-28 */
	memset(&o, 0, sizeof(o));
	o.uid = 102;
	o.now = env.now;
	memset(c, 0, sizeof(*c));
	if (ew_policy_parse_string("t", pol, strlen(pol), 0, &d, &p) == 0 &&
	    ew_policy_expand(p, &env, &d, &e) == 0 &&
	    ew_nft_ruleset(p, e, &o, text, &s1) == 0 &&
	    ew_nft_ruleset_compact(p, e, &o, c, &s2) == 0 &&
	    memcmp(&s1, &s2, sizeof(s1)) == 0)
		rc = 0;
	ew_expanded_free(e);
	ew_policy_free(p);
	ew_diag_free(&d);
	return rc;
}

/* A policy with a table of n random entries (seeded), IPv4 over the
 * whole space and a few IPv6 ones, a small inline group, ports, an
 * expiring rule; drop: leave out every entry i with i % drop == 1. */
static void
bigpol(struct ew_buf *b, unsigned seed, int n, int drop, const char *extra)
{
	int i;

	srand(seed);
	ew_buf_puts(b, "ExitPolicyRejectPrivate 0\nIPv6Exit 1\ntable <t> {");
	for (i = 0; i < n; i++) {
		unsigned a = (unsigned)rand(), len = 32 - (unsigned)rand() % 3;

		if (drop > 0 && i % drop == 1)
			continue;
		if (i % 97 == 5)
			ew_buf_printf(b, " 2001:db8:%x::/48", a & 0xffff);
		else
			ew_buf_printf(b, " %u.%u.%u.%u/%u", 1 + (a >> 24) % 222,
			    (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
	}
	ew_buf_printf(b,
	    " %s }\nreject <t>:* ticket T-1\n"
	    "reject 198.51.100.0/24:80-88\nreject 198.51.100.0/24:443\n"
	    "reject 203.0.113.1:* expires 2026-12-31\n"
	    "reject 203.0.113.9:25\naccept *:*\n",
	    extra);
}

/* The ops of a diff in one order, to compare two diffs as sets. */
static int
cmp_op(const void *x, const void *y)
{
	const struct ew_nft_op *a = x, *b = y;
	int c = strcmp(a->set, b->set);

	if (c != 0)
		return c;
	if (a->add != b->add)
		return a->add - b->add;
	c = memcmp(a->e.lo.b, b->e.lo.b, 16);
	return c != 0 ? c : memcmp(a->e.hi.b, b->e.hi.b, 16);
}

static int
same_ops(struct ew_nft_diff *a, struct ew_nft_diff *b)
{
	size_t i;

	if (a->n != b->n || a->added != b->added || a->deleted != b->deleted)
		return 0;
	for (i = 0; i < a->n; i++) /* deletions first, in both */
		if (a->ops[i].add != (i >= a->deleted) ||
		    b->ops[i].add != (i >= b->deleted))
			return 0;
	qsort(a->ops, a->n, sizeof(*a->ops), cmp_op);
	qsort(b->ops, b->n, sizeof(*b->ops), cmp_op);
	for (i = 0; i < a->n; i++)
		if (cmp_op(&a->ops[i], &b->ops[i]) != 0)
			return 0;
	return 1;
}

/*
 * The compact ruleset (--state): its text is ew_nft_ruleset's byte for
 * byte, through the state file and back too; its diff is the text's.
 */
static void
test_compact(void)
{
	static const int sizes[] = { 0, 3, 40, 3000, 40000 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct ew_buf pol = EW_BUF_INIT, pol2 = EW_BUF_INIT;
		struct ew_buf t1 = EW_BUF_INIT, t2 = EW_BUF_INIT;
		struct ew_buf x = EW_BUF_INIT, st = EW_BUF_INIT;
		struct ew_nft_compact c1, c2, r;
		struct ew_nft_diff da, db;
		int n = sizes[k], rc;

		bigpol(&pol, 7 + (unsigned)k, n, 0, "");
		/* some entries gone, two new ones (one /20 over old ones) */
		bigpol(&pol2, 7 + (unsigned)k, n, 5,
		    "100.64.1.1, 100.64.16.0/20, 2001:db8:ffff::/48");
		EW_CHECK_INT(build2(pol.p, &t1, &c1), 0);
		EW_CHECK_INT(build2(pol2.p, &t2, &c2), 0);
		EW_CHECK_INT(ew_nft_compact_text(&c1, &x), 0);
		EW_CHECK(x.len == t1.len && strcmp(x.p, t1.p) == 0);
		EW_CHECK(n < 40000 || strstr(t1.p, "_s15 {") != NULL);
		/* through the state file */
		EW_CHECK_INT(ew_nft_state_write(&c1, &st), 0);
		EW_CHECK(st.len < t1.len / 2 + 8192);
		EW_CHECK(strlen(st.p) == st.len); /* printable, no NUL */
		EW_CHECK_INT(ew_nft_state_read(st.p, st.len, &r), 0);
		ew_buf_reset(&x);
		EW_CHECK_INT(ew_nft_compact_text(&r, &x), 0);
		EW_CHECK(x.len == t1.len && strcmp(x.p, t1.p) == 0);
		/* the diff: the text's (small tables change shape: sets
		 * made or gone, which both refuse as -EAGAIN) */
		rc = ew_nft_diff(t1.p, t2.p, &da);
		EW_CHECK_INT(ew_nft_compact_diff(&r, &c2, &db), rc);
		EW_CHECK(rc == (n >= 3000 ? 0 : -EAGAIN));
		EW_CHECK(rc < 0 || (da.n >= 3 && same_ops(&da, &db)));
		ew_nft_diff_free(&da);
		ew_nft_diff_free(&db);
		rc = ew_nft_compact_diff(&c2, &r, &db);
		EW_CHECK_INT(ew_nft_diff(t2.p, t1.p, &da), rc);
		EW_CHECK(rc < 0 || same_ops(&da, &db));
		ew_nft_diff_free(&da);
		ew_nft_diff_free(&db);
		EW_CHECK_INT(ew_nft_compact_diff(&c1, &r, &db), 0);
		EW_CHECK_INT(db.n, 0);
		ew_nft_diff_free(&db);
		ew_nft_compact_free(&r);
		ew_nft_compact_free(&c1);
		ew_nft_compact_free(&c2);
		ew_buf_free(&pol);
		ew_buf_free(&pol2);
		ew_buf_free(&t1);
		ew_buf_free(&t2);
		ew_buf_free(&x);
		ew_buf_free(&st);
	}
}

/* A state file of another version or damaged is not read as one. */
static void
test_state_bad(void)
{
	struct ew_buf pol = EW_BUF_INIT, t = EW_BUF_INIT, st = EW_BUF_INIT;
	struct ew_nft_compact c, r;
	char *v;
	size_t cut, i;
	int bad = 0;

	bigpol(&pol, 3, 200, 0, "");
	EW_CHECK_INT(build2(pol.p, &t, &c), 0);
	EW_CHECK_INT(ew_nft_state_write(&c, &st), 0);
	/* the text of an older version */
	EW_CHECK_INT(ew_nft_state_read(t.p, t.len, &r), -EINVAL);
	EW_CHECK_INT(ew_nft_state_read("", 0, &r), -EINVAL);
	/* cut anywhere: refused */
	for (cut = 0; cut < st.len; cut += 1 + cut / 7)
		if (ew_nft_state_read(st.p, cut, &r) == 0) {
			ew_nft_compact_free(&r);
			bad++;
		}
	EW_CHECK_INT(bad, 0);
	/* a character of the intervals out of the alphabet */
	v = strdup(st.p);
	EW_CHECK(v != NULL);
	if (v != NULL) {
		i = (size_t)(strstr(v, "\nset ") - v);
		i += strcspn(v + i + 1, "\n") + 3;
		v[i] = '~';
		EW_CHECK_INT(ew_nft_state_read(v, st.len, &r), -EINVAL);
		free(v);
	}
	EW_CHECK_INT(ew_nft_state_read(st.p, st.len, &r), 0);
	ew_nft_compact_free(&r);
	ew_nft_compact_free(&c);
	ew_buf_free(&pol);
	ew_buf_free(&t);
	ew_buf_free(&st);
}

/* ---- several relays: the host's guards ---- */

static size_t
count(const char *s, const char *needle)
{
	size_t k = 0;

	while ((s = strstr(s, needle)) != NULL) {
		k++;
		s += strlen(needle);
	}
	return k;
}

struct relays {
	struct ew_policy *p[4];
	struct ew_expanded *e[4];
	struct ew_nft_relay v[4];
	struct ew_nft_opts o;
	size_t n;
};

/* Relays "a", "b", ... with uids 201, 202, ... and the policies pol. */
static int
relays_load(struct relays *r, const char *const *pol, size_t n)
{
	static const char *const names[] = { "a", "b", "c", "d" };
	struct ew_expand_env env;
	struct ew_diag_list d;
	size_t i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	memset(&env, 0, sizeof(env));
	r->o.seed = 0x1234;
	r->n = n;
	for (i = 0; i < n; i++) {
		ew_diag_init(&d);
		if (ew_policy_parse_string(names[i], pol[i], strlen(pol[i]), 0,
			&d, &r->p[i]) != 0 ||
		    ew_policy_expand(r->p[i], &env, &d, &r->e[i]) != 0)
			rc = -1;
		ew_diag_free(&d);
		r->v[i].name = names[i];
		r->v[i].uid = 201 + (uint32_t)i;
		r->v[i].p = r->p[i];
		r->v[i].e = r->e[i];
	}
	return rc;
}

static void
relays_free(struct relays *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		ew_expanded_free(r->e[i]);
		ew_policy_free(r->p[i]);
	}
}

#define GUARDS                                                                 \
	"guards allow 192.0.2.53\n"                                            \
	"guard flood rate 600/minute per destination block 30m\n"              \
	"guard scan ports * rate 150/4minutes per destination/22 block 1h\n"

/*
 * Two relays with the same guards: the guards declared once, as a
 * one-relay table declares them; each relay's uid (and alpha's exit
 * address) hooked to chain "guards"; the surge-block checks at the head
 * of both relays' chains.
 */
static void
test_relays_guards_same(void)
{
	static const char *const pol[] = {
		"OutboundBindAddressExit 192.0.2.7\n" GUARDS
		"reject 198.51.100.0/24:*\naccept *:*\n",
		GUARDS "reject 203.0.113.0/24:*\naccept *:*\n",
	};
	struct relays r;
	struct ew_buf out = EW_BUF_INIT, one = EW_BUF_INIT;
	const char *s, *g0, *g1;
	size_t a = 9, b = 9;

	EW_CHECK_INT(relays_load(&r, pol, 2), 0);
	EW_CHECK_INT(ew_nft_ruleset_relays(r.v, 2, &r.o, &out, NULL), 0);
	EW_CHECK_INT(ew_nft_relays_guards_differ(r.v, 2, &r.o, &a, &b), 0);
	s = ew_buf_str(&out);
	EW_CHECK_INT(count(s, "\tset g_flood_s4 {"), 1);
	EW_CHECK_INT(count(s, "\tset g_flood_b6 {"), 1);
	EW_CHECK_INT(count(s, "\tset g_scan_rate {"), 1);
	EW_CHECK_INT(count(s, "\tset g_allow4 {"), 1);
	EW_CHECK_INT(count(s, "\tcounter g_flood_over {"), 1);
	EW_CHECK_INT(count(s, "\tcounter g_scan_blocked {"), 1);
	EW_CHECK_INT(count(s, "\tchain guards {"), 1);
	EW_CHECK_INT(count(s, "\tchain g_flood_v4 {"), 1);
	/* the hooks: alpha's by uid and exit address, beta's by uid */
	EW_CHECK_INT(count(s, "jump guards\n"), 3);
	EW_CHECK_INT(count(s, "\t\tmeta skuid 201 ip saddr 192.0.2.7 ct state "
			      "new tcp flags & (syn | ack) == syn jump "
			      "guards\n"),
	    1);
	EW_CHECK_INT(count(s, "\t\tmeta skuid 201 meta nfproto ipv6 ct state "
			      "new tcp flags & (syn | ack) == syn jump "
			      "guards\n"),
	    1);
	EW_CHECK_INT(count(s, "\t\tmeta skuid 202 ct state new tcp flags & "
			      "(syn | ack) == syn jump guards\n"),
	    1);
	/* ... before the dispatch */
	EW_CHECK(strstr(s, "jump guards\n\t\ttcp flags & (syn | ack) == syn "
			   "meta skuid vmap @relays\n") != NULL);
	/* the surge-block checks head both chains */
	EW_CHECK(
	    strstr(s, "\tchain a_rules {\n\t\tip daddr . tcp dport "
		      "@g_flood_b4 counter name \"g_flood_blocked\"") != NULL);
	EW_CHECK(
	    strstr(s, "\tchain b_rules {\n\t\tip daddr . tcp dport "
		      "@g_flood_b4 counter name \"g_flood_blocked\"") != NULL);
	EW_CHECK_INT(count(s, "@g_flood_b4 counter"), 2);
	EW_CHECK_INT(count(s, "@g_scan_b6 counter"), 2);
	/* the declarations are one relay's, byte for byte */
	r.o.uid = 202;
	EW_CHECK_INT(ew_nft_ruleset(r.p[1], r.e[1], &r.o, &one, NULL), 0);
	g0 = strstr(ew_buf_str(&one), "\tset g_allow4 {");
	g1 = strstr(ew_buf_str(&one), "\tchain output {");
	EW_CHECK(g0 != NULL && g1 != NULL && g0 < g1);
	if (g0 != NULL && g1 != NULL && g0 < g1) {
		char *x = ew_strndup(g0, (size_t)(g1 - g0));

		EW_CHECK(x != NULL && strstr(s, x) != NULL);
		free(x);
	}
	ew_buf_free(&one);
	ew_buf_free(&out);
	relays_free(&r);
}

/* A relay without guards gets no hook and no surge-block checks; a
 * table of relays none of which has guards, nothing of them. */
static void
test_relays_guards_some(void)
{
	static const char *const pol[] = {
		"reject 192.0.2.1:25\naccept *:*\n",
		GUARDS "reject 203.0.113.0/24:*\naccept *:*\n",
		"reject 192.0.2.3:25\naccept *:*\n",
	};
	static const char *const none[] = {
		"reject 192.0.2.1:25\naccept *:*\n",
		"reject 192.0.2.3:25\naccept *:*\n",
	};
	struct relays r;
	struct ew_buf out = EW_BUF_INIT;
	const char *s;

	EW_CHECK_INT(relays_load(&r, pol, 3), 0);
	EW_CHECK_INT(ew_nft_ruleset_relays(r.v, 3, &r.o, &out, NULL), 0);
	s = ew_buf_str(&out);
	EW_CHECK_INT(count(s, "\tchain guards {"), 1);
	EW_CHECK_INT(count(s, "jump guards\n"), 1);
	EW_CHECK_INT(count(s, "\t\tmeta skuid 202 ct state new tcp flags & "
			      "(syn | ack) == syn jump guards\n"),
	    1);
	EW_CHECK(
	    strstr(s, "\tchain a_rules {\n\t\tip daddr 192.0.2.1 ") != NULL);
	EW_CHECK(strstr(s, "\tchain b_rules {\n\t\tip daddr . tcp dport "
			   "@g_flood_b4 ") != NULL);
	EW_CHECK(
	    strstr(s, "\tchain c_rules {\n\t\tip daddr 192.0.2.3 ") != NULL);
	EW_CHECK_INT(count(s, "@g_flood_b4 counter"), 1);
	relays_free(&r);

	ew_buf_reset(&out);
	EW_CHECK_INT(relays_load(&r, none, 2), 0);
	EW_CHECK_INT(ew_nft_ruleset_relays(r.v, 2, &r.o, &out, NULL), 0);
	s = ew_buf_str(&out);
	EW_CHECK(strstr(s, "g_") == NULL && strstr(s, "guards") == NULL);
	EW_CHECK(
	    strstr(s, "\tchain output {\n\t\ttype filter hook output "
		      "priority filter; policy accept;\n\t\ttcp flags & "
		      "(syn | ack) == syn meta skuid vmap @relays\n\t}\n"
		      "\tchain a_rules {\n\t\tip daddr 192.0.2.1 ") != NULL);
	relays_free(&r);
	ew_buf_free(&out);
}

/* Relays that declare different guards (a rate, a guard more, the
 * allow list, the order) are refused, and the first pair named. */
static void
test_relays_guards_differ(void)
{
	static const char *const other[] = {
		"guards allow 192.0.2.53\n"
		"guard flood rate 500/minute per destination block 30m\n"
		"guard scan ports * rate 150/4minutes per destination/22 "
		"block 1h\n",
		"guards allow 192.0.2.53\n"
		"guard flood rate 600/minute per destination block 30m\n",
		"guards allow 192.0.2.54\n"
		"guard flood rate 600/minute per destination block 30m\n"
		"guard scan ports * rate 150/4minutes per destination/22 "
		"block 1h\n",
		"guards allow 192.0.2.53\n"
		"guard scan ports * rate 150/4minutes per destination/22 "
		"block 1h\n"
		"guard flood rate 600/minute per destination block 30m\n",
		"guards allow 192.0.2.53\n"
		"guard flood rate 600/minute per destination block 30m damp\n"
		"guard scan ports * rate 150/4minutes per destination/22 "
		"block 1h\n",
	};
	size_t k;

	for (k = 0; k < sizeof(other) / sizeof(other[0]); k++) {
		const char *pol[3];
		struct relays r;
		struct ew_buf out = EW_BUF_INIT;
		size_t a = 9, b = 9;

		pol[0] = GUARDS "accept *:*\n";
		pol[1] = "reject 192.0.2.1:25\naccept *:*\n";
		pol[2] = other[k];
		EW_CHECK_INT(relays_load(&r, pol, 3), 0);
		EW_CHECK_INT(
		    ew_nft_ruleset_relays(r.v, 3, &r.o, &out, NULL), -ENOTSUP);
		EW_CHECK_INT(
		    ew_nft_relays_guards_differ(r.v, 3, &r.o, &a, &b), 1);
		EW_CHECK_INT(a, 0);
		EW_CHECK_INT(b, 2);
		relays_free(&r);
		ew_buf_free(&out);
	}
}

int
main(void)
{
	EW_RUN(test_elem_parse);
	EW_RUN(test_merge_random);
	EW_RUN(test_diff);
	EW_RUN(test_diff_long);
	EW_RUN(test_split);
	EW_RUN(test_compact);
	EW_RUN(test_state_bad);
	EW_RUN(test_relays_guards_same);
	EW_RUN(test_relays_guards_some);
	EW_RUN(test_relays_guards_differ);
	return ew_test_done();
}
