/*
 * prop_match.c - property test: the compiled matcher answers exactly as
 * tor's first-match scan (the oracle), deciding item included.
 *
 *	prop_match [-q QUERIES_PER_POLICY] FILE...
 *
 * Each policy file (from tests/tools/policygen.py) is parsed, expanded
 * and compiled; then random queries and boundary queries (the first and
 * last address of every item's prefix and their neighbours, each port
 * range's ends and their neighbours, port 0, the unknown address,
 * v4-mapped addresses) go to both.  Ends with "N passed, N failed"
 * counting queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "lib/diag.h"
#include "policy/policy.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static unsigned long long passed, failed;

static void
check(const struct ew_compiled *c, const struct ew_expanded *e,
    const struct ew_addr *a, uint16_t port, const char *file)
{
	size_t d1, d2;
	enum ew_verdict v1 = ew_oracle_match(e->items, e->n, a, port, &d1);
	enum ew_verdict v2 = ew_match_rule(c, a, port, &d2);
	enum ew_verdict v3 = ew_match(c, a, port);

	if (v1 == v2 && d1 == d2 && v3 == v1) {
		passed++;
		return;
	}
	if (failed++ < 10) {
		char s[EW_ADDR_STRLEN];

		ew_addr_format(a, 1, s, sizeof(s));
		printf("FAIL %s: %s:%u oracle %s item %zd, compiled %s item "
		       "%zd (plain %s)\n",
		    file, a->family ? s : "*", port, ew_verdict_word(v1),
		    (ssize_t)d1, ew_verdict_word(v2), (ssize_t)d2,
		    ew_verdict_word(v3));
	}
}

/* addr + delta on the family's integer (wrapping). */
static struct ew_addr
shifted(const struct ew_addr *a, int delta)
{
	struct ew_addr r = *a;
	int i = r.family == EW_AF_INET ? 3 : 15;
	int carry = delta;

	while (carry != 0 && i >= 0) {
		int v = r.b[i] + carry;

		r.b[i] = (uint8_t)(v & 0xff);
		carry = v < 0 ? -1 : v > 255 ? 1 : 0;
		i--;
	}
	return r;
}

static struct ew_addr
prefix_end(const struct ew_item *it, int last)
{
	struct ew_addr r = it->addr;
	unsigned w = ew_addr_bits(&r), k;

	for (k = it->maskbits; k < w; k++) {
		if (last)
			r.b[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		else
			r.b[k / 8] &= (uint8_t) ~(0x80 >> (k % 8));
	}
	return r;
}

static uint16_t
rport(void)
{
	static const uint16_t common[] = { 0, 1, 22, 25, 80, 443, 6667, 8080,
		65535 };

	return rnd() % 2 ? common[rnd() % 9] : (uint16_t)(rnd() % 65536);
}

static void
one_policy(const char *file, unsigned nrand)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_compiled *c = NULL;
	struct ew_expand_env env;
	size_t i;
	unsigned k;

	ew_diag_init(&d);
	memset(&env, 0, sizeof(env));
	env.now = 1780000000;
	if (ew_policy_parse_file(file, 0, &d, &p) < 0 ||
	    ew_policy_expand(p, &env, &d, &e) < 0)
		goto out; /* a policy tor refuses: nothing to match */
	if (ew_compile(e, EW_COMPILE_EXPLAIN, &c) < 0) {
		printf("FAIL %s: compile failed\n", file);
		failed++;
		goto out;
	}
	for (i = 0; i < e->n; i++) {
		const struct ew_item *it = &e->items[i];
		struct ew_addr ends[6];
		uint16_t ports[7] = { 0, it->pmin, it->pmax,
			(uint16_t)(it->pmin - 1), (uint16_t)(it->pmax + 1),
			(uint16_t)((it->pmin + it->pmax) / 2), rport() };
		unsigned a, q;

		ends[0] = prefix_end(it, 0);
		ends[1] = prefix_end(it, 1);
		ends[2] = shifted(&ends[0], -1);
		ends[3] = shifted(&ends[1], 1);
		ends[4] = it->addr;
		ends[5] = shifted(&it->addr, 1);
		for (a = 0; a < 6; a++)
			for (q = 0; q < 7; q++)
				check(c, e, &ends[a], ports[q], file);
	}
	for (k = 0; k < nrand; k++) {
		struct ew_addr a;
		uint64_t r = rnd(), r2 = rnd();

		memset(&a, 0, sizeof(a));
		switch (r % 5) {
		case 0: /* an item's prefix with random host bits */
			if (e->n == 0) {
				ew_addr_set4(&a, (uint32_t)r2);
				break;
			}
			{
				const struct ew_item *it = &e->items[r2 % e->n];
				struct ew_addr lo = prefix_end(it, 0);
				unsigned w = ew_addr_bits(&lo), b;

				a = lo;
				for (b = it->maskbits; b < w; b++)
					if (rnd() & 1)
						a.b[b / 8] |=
						    (uint8_t)(0x80 >> (b % 8));
			}
			break;
		case 1:
			ew_addr_set4(&a, (uint32_t)r2);
			break;
		case 2:
			a.family = EW_AF_INET6;
			memcpy(a.b, &r2, 8);
			r2 = rnd();
			memcpy(a.b + 8, &r2, 8);
			break;
		case 3: /* v4-mapped, private, or unknown */
			if (r2 % 3 == 0) {
				a.family = EW_AF_INET6;
				a.b[10] = a.b[11] = 0xff;
				memcpy(a.b + 12, &r2, 4);
			} else if (r2 % 3 == 1) {
				ew_addr_set4(
				    &a, 0x0a000000u | (uint32_t)(r2 >> 40));
			}
			break;
		default:
			ew_addr_set4(&a, (uint32_t)(0xc0000200u | (r2 & 0xff)));
		}
		check(c, e, &a, rport(), file);
	}
	check(c, e, NULL, 0, file);
	check(c, e, NULL, 80, file);
out:
	ew_compiled_free(c);
	ew_expanded_free(e);
	ew_policy_free(p);
	ew_diag_free(&d);
}

int
main(int argc, char **argv)
{
	unsigned nrand = 20000;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-q") == 0) {
		nrand = (unsigned)strtoul(argv[2], NULL, 10);
		i = 3;
	}
	for (; i < argc; i++)
		one_policy(argv[i], nrand);
	printf("%llu passed, %llu failed\n", passed, failed);
	return failed || passed == 0 ? 1 : 0;
}
