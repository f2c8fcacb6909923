/*
 * test_compile.c - tor's evaluation (section 7 of the shared reference)
 * on hand-made lists, and the summary-policy reader (section 8).
 */
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "harness/ew_test.h"
#include "policy/policy.h"

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

static const char *
q(const struct ew_item *v, size_t n, const char *addr, unsigned port,
    size_t *dec)
{
	struct ew_addr a;

	memset(&a, 0, sizeof(a));
	if (addr != NULL)
		ew_addr_parse(addr, &a);
	return ew_verdict_word(
	    ew_oracle_match(v, n, addr ? &a : NULL, (uint16_t)port, dec));
}

static void
test_section7(void)
{
	struct ew_item l[2], m[2], k[2];
	size_t d;

	l[0] = item(EW_REJECT, "1.2.3.0", 24, 80, 80);
	l[1] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 80, &d), "rejected");
	EW_CHECK_INT(d, 0);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 443, &d), "accepted");
	EW_CHECK_INT(d, 1);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 0, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, "5.6.7.8", 0, &d), "accepted");
	EW_CHECK_STR(q(l, 2, NULL, 80, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, NULL, 443, &d), "accepted");
	EW_CHECK_STR(q(l, 2, NULL, 0, &d), "rejected");
	EW_CHECK_INT(d, EW_NO_ITEM);
	EW_CHECK_STR(q(l, 2, "0.0.0.0", 80, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, "::", 80, &d), "probably_accepted");
	/* fall-through: no IPv6 item at all */
	EW_CHECK_STR(q(l, 2, "2001:db8::1", 80, &d), "accepted");
	EW_CHECK_INT(d, EW_NO_ITEM);
	EW_CHECK_STR(q(l, 0, "1.2.3.4", 80, &d), "accepted");

	m[0] = item(EW_REJECT, "::", 0, 1, 65535);
	m[1] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(m, 2, NULL, 80, &d), "rejected");
	EW_CHECK_INT(d, 0);

	k[0] = item(EW_ACCEPT, "::ffff:1.2.3.4", 128, 80, 80);
	k[1] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(k, 2, "1.2.3.4", 80, &d), "rejected");
	EW_CHECK_STR(q(k, 2, "::ffff:1.2.3.4", 80, &d), "accepted");

	/* port 0: a partial reject before a full accept */
	l[0] = item(EW_ACCEPT, "1.2.3.0", 24, 80, 80);
	l[1] = item(EW_REJECT, "1.2.0.0", 16, 1, 65535);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 0, &d), "probably_rejected");
	EW_CHECK_STR(q(l, 2, "1.2.4.4", 0, &d), "rejected");
	EW_CHECK_STR(q(l, 2, "1.3.4.4", 0, &d), "accepted");
}

static void
test_short_policy(void)
{
	struct ew_short_policy *sp;
	char *s;

	sp = ew_short_policy_parse("accept 2,fred,3");
	EW_CHECK(sp != NULL);
	if (sp != NULL) {
		s = ew_short_policy_format(sp);
		EW_CHECK_STR(s, "accept 2,3");
		free(s);
		ew_short_policy_free(sp);
	}
	sp = ew_short_policy_parse("reject ,1-10,,,,30-40");
	EW_CHECK(sp != NULL);
	if (sp != NULL) {
		s = ew_short_policy_format(sp);
		EW_CHECK_STR(s, "reject 1-10,30-40");
		free(s);
		EW_CHECK(!ew_short_policy_accepts(sp, 5));
		EW_CHECK(ew_short_policy_accepts(sp, 11));
		ew_short_policy_free(sp);
	}
	EW_CHECK(ew_short_policy_parse("accept 2,3x,4") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 100000") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 2-") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 200-199") == NULL);
	EW_CHECK(ew_short_policy_parse("accept fred") == NULL);
	EW_CHECK(ew_short_policy_parse("allow 80") == NULL);
	EW_CHECK(ew_short_policy_parse("accept ") == NULL);
	sp = ew_short_policy_parse("accept 80");
	EW_CHECK(sp != NULL && ew_short_policy_accepts(sp, 80) &&
		 !ew_short_policy_accepts(sp, 81));
	ew_short_policy_free(sp);
	sp = ew_short_policy_parse("reject 80");
	EW_CHECK(sp != NULL && ew_short_policy_accepts(sp, 81) &&
		 !ew_short_policy_accepts(sp, 80));
	ew_short_policy_free(sp);
}

static void
test_summary_units(void)
{
	struct ew_item v[3];
	char *s;

	/* IPv6: a /16 reject does not tip the port, a /15 does (C52) */
	v[0] = item(EW_REJECT, "2001::", 16, 80, 80);
	v[1] = item(EW_REJECT, "2400::", 15, 443, 443);
	v[2] = item(EW_ACCEPT, "::", 0, 1, 65535);
	s = ew_policy_summarize(v, 3, EW_AF_INET6);
	EW_CHECK_STR(s, "reject 443");
	free(s);
	/* nothing of the family: reject everything */
	s = ew_policy_summarize(v, 3, EW_AF_INET);
	EW_CHECK_STR(s, "reject 1-65535");
	free(s);
}

/*
 * A big IPv6 list crowded into one /16 (which gets a sub-directory) and
 * a big IPv4 list (directory and packed words): compiled == scan on
 * random and boundary queries.
 */
static uint64_t trs = 12345;

static uint64_t
trnd(void)
{
	trs ^= trs << 13;
	trs ^= trs >> 7;
	trs ^= trs << 17;
	return trs;
}

static void
test_big_lists(void)
{
	enum { N = 5000 };
	struct ew_item *v = calloc(N + 2, sizeof(*v));
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	size_t i, bad = 0, q = 0, d1, d2;
	int fam;

	EW_CHECK(v != NULL);
	if (v == NULL)
		return;
	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i < N; i++) {
			uint64_t r = trnd(), r2 = trnd();

			memset(&v[i], 0, sizeof(v[i]));
			v[i].action = r % 7 == 0 ? EW_ACCEPT : EW_REJECT;
			v[i].pmin = 1;
			v[i].pmax = 65535;
			if (r % 5 == 0) {
				v[i].pmin = (uint16_t)(1 + r2 % 60000);
				v[i].pmax = (uint16_t)(v[i].pmin + r2 % 3000);
			}
			if (fam) {
				v[i].addr.family = EW_AF_INET6;
				memcpy(v[i].addr.b, &r, 8);
				memcpy(v[i].addr.b + 8, &r2, 8);
				v[i].addr.b[0] = 0x20; /* all in 2001::/16 */
				v[i].addr.b[1] = 0x01;
				v[i].maskbits =
				    (uint8_t)(r % 3 == 0   ? 48
					      : r % 3 == 1 ? 128
							   : 40 + r2 % 24);
			} else {
				ew_addr_set4(&v[i].addr, (uint32_t)r2);
				v[i].maskbits =
				    (uint8_t)(r % 3 == 0   ? 24
					      : r % 3 == 1 ? 32
							   : 16 + r2 % 16);
			}
		}
		v[N].addr.family = fam ? EW_AF_INET6 : EW_AF_INET;
		v[N].action = EW_ACCEPT;
		v[N].pmin = 80;
		v[N].pmax = 80;
		e.items = v;
		e.n = N + 1;
		e.reject_star = 0;
		e.ipv6_exit = 1;
		EW_CHECK(ew_compile(&e, EW_COMPILE_EXPLAIN, &c) == 0);
		if (c == NULL)
			continue;
		for (i = 0; i < 40000; i++) {
			struct ew_addr a = v[trnd() % N].addr;
			uint16_t port =
			    (uint16_t)(trnd() % 4 == 0 ? 80 : trnd() % 65536);

			/* near an item: flip one of the low bits */
			a.b[fam ? 15 - trnd() % 10 : 3 - trnd() % 2] ^=
			    (uint8_t)(1u << (trnd() % 8));
			q++;
			if (ew_oracle_match(v, N + 1, &a, port, &d1) !=
				ew_match_rule(c, &a, port, &d2) ||
			    d1 != d2)
				bad++;
		}
		{
			/* the batched lookups answer as the single ones */
			enum { B = 4099 };
			struct ew_addr *qa = calloc(B, sizeof(*qa));
			uint32_t *q4 = calloc(B, sizeof(*q4));
			uint16_t *qp = calloc(B, sizeof(*qp));
			uint8_t *o1 = calloc(B, 1), *o2 = calloc(B, 1);
			size_t k;

			EW_CHECK(qa && q4 && qp && o1 && o2);
			for (k = 0; qa && q4 && qp && o1 && o2 && k < B; k++) {
				qa[k] = v[trnd() % N].addr;
				qa[k].b[fam ? 15 : 3] ^= (uint8_t)trnd();
				if (k % 97 == 0)
					memset(qa[k].b, 0, 16); /* unknown */
				q4[k] = ew_addr_get4(&qa[k]);
				qp[k] = (uint16_t)(trnd() % 3 ? 80 : trnd());
			}
			if (qa && q4 && qp && o1 && o2) {
				ew_match_batch(c, B, qa, qp, o1);
				for (k = 0; k < B; k++)
					bad +=
					    o1[k] != ew_match(c, &qa[k], qp[k]);
				if (!fam) {
					ew_match4_batch(c, B, q4, qp, o2);
					for (k = 0; k < B; k++)
						bad +=
						    o2[k] !=
						    ew_match4(c, q4[k], qp[k]);
				}
			}
			free(qa);
			free(q4);
			free(qp);
			free(o1);
			free(o2);
		}
		ew_compiled_free(c);
		c = NULL;
	}
	EW_CHECK_INT(bad, 0);
	EW_CHECK_INT(q, 80000);
	free(v);
}

/*
 * IPv6 items in one /16, half of them crowded into four /64s: the
 * compiled entries keep 48 bits of the high half beside the class, so
 * many starts share them and the lookup must go on to the low halves.
 * Enough intervals that the batched lookup takes its pipelined path;
 * some queries are IPv4 or unknown.
 */
static void
test_v6_shared_high(void)
{
	enum { N = 28000, B = 4099 };
	struct ew_item *v = calloc(N + 1, sizeof(*v));
	struct ew_addr *qa = calloc(B, sizeof(*qa));
	uint16_t *qp = calloc(B, sizeof(*qp));
	uint8_t *o = calloc(B, 1);
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	size_t i, bad = 0, d;

	EW_CHECK(v && qa && qp && o);
	if (!(v && qa && qp && o))
		goto out;
	for (i = 0; i < N; i++) {
		uint64_t r = trnd(), r2 = trnd();

		v[i].addr.family = EW_AF_INET6;
		v[i].addr.b[0] = 0x20;
		v[i].addr.b[1] = 0x01;
		if (r % 2)
			memcpy(v[i].addr.b + 2, &r, 6);
		else
			v[i].addr.b[7] = (uint8_t)(r % 4); /* four /64s */
		memcpy(v[i].addr.b + 8, &r2, 8);
		if (r % 3 == 0) /* crowd the low halves too */
			memset(v[i].addr.b + 8, 0, 6);
		v[i].action = r % 5 == 0 ? EW_ACCEPT : EW_REJECT;
		/* long enough not to hide most later items */
		v[i].maskbits = (uint8_t)((r >> 3) % 2 ? 128
					  : r % 2      ? 48 + (r >> 8) % 80
						       : 100 + (r >> 8) % 28);
		v[i].pmin = 1;
		v[i].pmax = (uint16_t)(r % 7 == 0 ? 1024 : 65535);
	}
	v[N] = v[0];
	v[N].maskbits = 0;
	v[N].action = EW_ACCEPT;
	memset(&e, 0, sizeof(e));
	e.items = v;
	e.n = N + 1;
	e.ipv6_exit = 1;
	EW_CHECK(ew_compile(&e, 0, &c) == 0);
	if (c == NULL)
		goto out;
	for (i = 0; i < B; i++) {
		qa[i] = v[trnd() % N].addr;
		if (i % 2)
			qa[i].b[15 - trnd() % 14] ^=
			    (uint8_t)(1u << (trnd() % 8));
		if (i % 101 == 0)
			memset(qa[i].b, 0, 16); /* unknown */
		if (i % 103 == 0)
			ew_addr_set4(&qa[i], (uint32_t)trnd());
		qp[i] = (uint16_t)(trnd() % 2 ? 80 : 2000);
	}
	ew_match_batch(c, B, qa, qp, o);
	for (i = 0; i < B; i++) {
		enum ew_verdict w =
		    ew_oracle_match(v, N + 1, &qa[i], qp[i], &d);

		bad += ew_match(c, &qa[i], qp[i]) != w;
		bad += o[i] != w;
	}
	EW_CHECK_INT(bad, 0);
out:
	ew_compiled_free(c);
	free(v);
	free(qa);
	free(qp);
	free(o);
}

/* Queries near v's items (a flipped low bit, ports at and beside the
 * items' port ranges) through ew_match, ew_match_rule and the batch,
 * against the scan; the number of wrong answers. */
static size_t
near_queries(
    const struct ew_compiled *c, const struct ew_item *v, size_t n, size_t nq)
{
	struct ew_addr *qa = calloc(nq, sizeof(*qa));
	uint16_t *qp = calloc(nq, sizeof(*qp));
	uint8_t *o = calloc(nq, 1);
	size_t i, bad = 0, d1, d2;

	if (qa == NULL || qp == NULL || o == NULL) {
		bad = nq;
		goto out;
	}
	for (i = 0; i < nq; i++) {
		const struct ew_item *it = &v[trnd() % n];
		unsigned r = (unsigned)(trnd() % 6);
		int v6 = it->addr.family == EW_AF_INET6;

		qa[i] = it->addr;
		if (trnd() % 3)
			qa[i].b[v6 ? 15 - trnd() % 10 : 3 - trnd() % 2] ^=
			    (uint8_t)(1u << (trnd() % 8));
		qp[i] = (uint16_t)(r == 0   ? (unsigned)it->pmin
				   : r == 1 ? (unsigned)it->pmin - 1
				   : r == 2 ? (unsigned)it->pmax
				   : r == 3 ? (unsigned)it->pmax + 1
					    : (unsigned)(trnd() % 65536));
	}
	ew_match_batch(c, nq, qa, qp, o);
	for (i = 0; i < nq; i++) {
		enum ew_verdict w = ew_oracle_match(v, n, &qa[i], qp[i], &d1);

		bad += ew_match(c, &qa[i], qp[i]) != w;
		bad += ew_match_rule(c, &qa[i], qp[i], &d2) != w || d1 != d2;
		bad += o[i] != w;
		if (qa[i].family == EW_AF_INET)
			bad += ew_match4(c, ew_addr_get4(&qa[i]), qp[i]) != w;
	}
out:
	free(qa);
	free(qp);
	free(o);
	return bad;
}

/*
 * More classes than get a leaf map each (EW_FLAT_CLASSES): IPv4 items
 * between port rules (mask 0) with full, narrow and wide port ranges,
 * so that classes are kept as windows over a reference, as pooled runs
 * and as a few runs; IPv6 items without port rules.
 */
static void
test_many_classes(void)
{
	enum { N4 = 3000, N6 = 3000 };
	struct ew_item *v = calloc(N4 + N6 + 64, sizeof(*v));
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	size_t i, n = 0, k;

	EW_CHECK(v != NULL);
	if (v == NULL)
		return;
	for (k = 0; k < 10; k++) {
		unsigned lo = 1 + (unsigned)(trnd() % 65000);

		v[n] = item(trnd() % 2 ? EW_ACCEPT : EW_REJECT, "0.0.0.0", 0,
		    lo, lo + (unsigned)(trnd() % 30));
		n++;
	}
	for (i = 0; i < N4 + N6; i++) {
		uint64_t r = trnd(), r2 = trnd();
		unsigned w = (unsigned)(r % 3);
		struct ew_item *it = &v[n++];

		memset(it, 0, sizeof(*it));
		it->action = r % 2 ? EW_ACCEPT : EW_REJECT;
		it->pmin = 1;
		it->pmax = 65535;
		if (w > 0) {
			unsigned span = w == 1 ? 200 : 60000;

			it->pmin = (uint16_t)(1 + r2 % (65535 - span));
			it->pmax = (uint16_t)(it->pmin + (r2 >> 20) % span);
		}
		if (i < N4) {
			ew_addr_set4(
			    &it->addr, 0x0a000000u | (uint32_t)(r2 >> 40));
			it->maskbits = (uint8_t)(16 + (r >> 8) % 17);
		} else {
			it->addr.family = EW_AF_INET6;
			memcpy(it->addr.b, &r2, 8);
			memcpy(it->addr.b + 8, &r, 8);
			it->addr.b[0] = 0x20;
			it->addr.b[1] = 0x01;
			it->maskbits = (uint8_t)(32 + (r >> 8) % 97);
		}
	}
	for (k = 0; k < 20; k++) {
		unsigned p = 20 + 997 * (unsigned)k;

		v[n++] = item(EW_ACCEPT, "0.0.0.0", 0, p, p + k % 3);
	}
	v[n++] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	memset(&e, 0, sizeof(e));
	e.items = v;
	e.n = n;
	e.ipv6_exit = 1;
	EW_CHECK(ew_compile(&e, EW_COMPILE_EXPLAIN, &c) == 0);
	if (c != NULL) {
		EW_CHECK(ew_compiled_classes(c) > 1024);
		EW_CHECK_INT(near_queries(c, v, n, 60000), 0);
	}
	ew_compiled_free(c);
	free(v);
}

/*
 * Few classes, but each with its own pattern in every 256-port block
 * (two ranges, from a different number for each class and block): more
 * distinct 256-port leaves than 16-bit leaf ids can name if every class
 * had a leaf map.  It compiles (the classes take other forms) and
 * answers as the scan.
 */
static void
test_many_leaves(void)
{
	enum { H = 300, P = 256 };
	struct ew_item *v = calloc(2 * H * P + 1, sizeof(*v));
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	size_t h, k, n = 0, j;

	EW_CHECK(v != NULL);
	if (v == NULL)
		return;
	for (h = 0; h < H; h++) {
		for (k = 0; k < P; k++) {
			unsigned u = (unsigned)(h * P + k);
			unsigned lo[2], hi[2];

			lo[0] = u % 100 + 1;
			hi[0] = lo[0] + 1 + u / 100 % 20;
			lo[1] = 128 + u / 2000 % 100;
			hi[1] = lo[1] + 1 + u / 200000;
			for (j = 0; j < 2; j++) {
				struct ew_item *it = &v[n++];

				memset(it, 0, sizeof(*it));
				ew_addr_set4(
				    &it->addr, 0xc6336400u + (uint32_t)h);
				it->maskbits = 32;
				it->action = EW_ACCEPT;
				it->pmin = (uint16_t)(k * 256 + lo[j]);
				it->pmax = (uint16_t)(k * 256 + hi[j]);
			}
		}
	}
	v[n++] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	memset(&e, 0, sizeof(e));
	e.items = v;
	e.n = n;
	EW_CHECK(ew_compile(&e, EW_COMPILE_EXPLAIN, &c) == 0);
	if (c != NULL) {
		EW_CHECK(ew_compiled_classes(c) <= 1024);
		EW_CHECK_INT(near_queries(c, v, n, 1000), 0);
	}
	ew_compiled_free(c);
	free(v);
}

/*
 * IPv6 with few classes (each with its answers as plain bits) and a few
 * thousand intervals: the batched lookup's one-loop path, against the
 * scan, near the items (ties of the high halves included: many /128s
 * in one /64), in /16s without items, at the top of the address space
 * (ffff:ffff:ffff:ffff:...), and with port 0, IPv4 and unknown queries.
 */
static void
test_v6_few_classes(void)
{
	enum { N = 3000, B = 20000 };
	struct ew_item *v = calloc(N + 4, sizeof(*v));
	struct ew_addr *qa = calloc(B, sizeof(*qa));
	uint16_t *qp = calloc(B, sizeof(*qp));
	uint8_t *o = calloc(B, 1);
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	size_t i, n = 0, bad = 0, d;

	EW_CHECK(v && qa && qp && o);
	if (!(v && qa && qp && o))
		goto out;
	for (i = 0; i < N; i++) {
		uint64_t r = trnd(), r2 = trnd();
		struct ew_item *it = &v[n++];

		memset(it, 0, sizeof(*it));
		it->addr.family = EW_AF_INET6;
		memcpy(it->addr.b, &r, 8);
		memcpy(it->addr.b + 8, &r2, 8);
		it->addr.b[0] = (uint8_t)(r % 5 == 0 ? 0xff : 0x20);
		it->addr.b[1] = (uint8_t)(r % 5 == 0 ? 0xff : r % 8);
		if (r % 4 == 0) /* one /64, full of /128s */
			memset(it->addr.b + 2, r % 5 == 0 ? 0xff : 0x11, 6);
		it->maskbits = (uint8_t)(r % 3 == 0   ? 48
					 : r % 3 == 1 ? 128
						      : 100);
		it->action = (r >> 8) % 3 == 0 ? EW_ACCEPT : EW_REJECT;
		it->pmin = 1;
		it->pmax = (uint16_t)((r >> 12) % 4 == 0 ? 443 : 65535);
	}
	v[n++] = item(EW_ACCEPT, "::", 0, 80, 80);
	v[n++] = item(EW_REJECT, "::", 0, 1, 65535);
	memset(&e, 0, sizeof(e));
	e.items = v;
	e.n = n;
	e.ipv6_exit = 1;
	EW_CHECK(ew_compile(&e, EW_COMPILE_EXPLAIN, &c) == 0);
	if (c == NULL)
		goto out;
	EW_CHECK(ew_compiled_classes(c) <= 64);
	bad += near_queries(c, v, n, 20000);
	for (i = 0; i < B; i++) {
		uint64_t r = trnd(), r2 = trnd();

		memset(&qa[i], 0, sizeof(qa[i]));
		qa[i].family = EW_AF_INET6;
		memcpy(qa[i].b, &r, 8);
		memcpy(qa[i].b + 8, &r2, 8);
		if (i % 3 == 0) /* a populated /16 */
			qa[i] = v[trnd() % N].addr, qa[i].b[9] ^= (uint8_t)r;
		if (i % 7 == 0) /* the very top */
			memset(qa[i].b, 0xff, 16 - i % 5);
		if (i % 101 == 0)
			memset(qa[i].b, 0, 16); /* unknown */
		if (i % 103 == 0)
			ew_addr_set4(&qa[i], (uint32_t)r);
		qp[i] = (uint16_t)(i % 11 == 0 ? 0 : trnd() % 3 ? 80 : r2);
	}
	ew_match_batch(c, B, qa, qp, o);
	for (i = 0; i < B; i++) {
		enum ew_verdict w = ew_oracle_match(v, n, &qa[i], qp[i], &d);

		bad += ew_match(c, &qa[i], qp[i]) != w;
		bad += o[i] != w;
	}
	EW_CHECK_INT(bad, 0);
out:
	ew_compiled_free(c);
	free(v);
	free(qa);
	free(qp);
	free(o);
}

int
main(void)
{
	EW_RUN(test_section7);
	EW_RUN(test_short_policy);
	EW_RUN(test_summary_units);
	EW_RUN(test_big_lists);
	EW_RUN(test_v6_shared_high);
	EW_RUN(test_many_classes);
	EW_RUN(test_many_leaves);
	EW_RUN(test_v6_few_classes);
	return ew_test_done();
}
