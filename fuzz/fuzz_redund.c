/*
 * fuzz_redund.c - the fast redundancy removal (redundancy.c) against
 * tor's quadratic passes (expand.c) on item lists decoded from the
 * input, 6 bytes an item:
 *	b0: bit 0 action, bit 1 family (0 IPv4, 1 IPv6), bits 2-7 address
 *	b1: mask (mod 33 / 129)
 *	b2-b5: ports, from a small alphabet so that ranges collide, or
 *	       literal when b3's top bit is set
 * Addresses come from a few nested prefixes so that covering and
 * intersecting items are common.  Any difference is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy/policy_int.h"

static const uint16_t ports[16] = { 1, 2, 22, 25, 79, 80, 81, 443, 444, 1000,
	6667, 6668, 65534, 65535, 80, 1 };

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	size_t k = n / 6, i, n1, n2;
	struct ew_item *a, *b;

	if (k == 0 || k > 512)
		return 0;
	a = calloc(k, sizeof(*a));
	b = calloc(k, sizeof(*b));
	EW_FUZZ_ASSERT(a != NULL && b != NULL);
	for (i = 0; i < k; i++) {
		const uint8_t *p = d + 6 * i;
		struct ew_item *it = &a[i];
		unsigned sel = p[0] >> 2, v6 = (p[0] >> 1) & 1;
		uint16_t x = ports[p[2] & 15], y = ports[p[4] & 15];

		it->action = (p[0] & 1) ? EW_ACCEPT : EW_REJECT;
		it->addr.family = v6 ? EW_AF_INET6 : EW_AF_INET;
		it->addr.b[0] = (uint8_t)((sel & 3) == 0   ? 0
					  : (sel & 3) == 1 ? 10
							   : 192);
		it->addr.b[1] = (uint8_t)((sel >> 2) & 3);
		it->addr.b[v6 ? 15 : 3] = (uint8_t)(sel >> 4);
		if (p[3] & 0x80) {
			x = (uint16_t)(p[3] << 8 | p[2]);
			y = (uint16_t)(p[5] << 8 | p[4]);
		}
		if (x == 0)
			x = 1;
		if (y == 0)
			y = 1;
		it->pmin = x < y ? x : y;
		it->pmax = x < y ? y : x;
		it->maskbits = (uint8_t)(v6 ? p[1] % 129 : p[1] % 33);
	}
	memcpy(b, a, k * sizeof(*a));
	n1 = n2 = k;
	ew_remove_redundancies(a, &n1);
	EW_FUZZ_ASSERT(ew_remove_redundancies_fast(b, &n2) == 0);
	EW_FUZZ_ASSERT(n1 == n2 && memcmp(a, b, n1 * sizeof(*a)) == 0);
	free(a);
	free(b);
	return 0;
}
