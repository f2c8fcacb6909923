/*
 * explain.c - the explain index: items filed by (family, mask, prefix),
 * so the deciding item of a lookup is the first in list order among the
 * few prefixes of the address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile_int.h"

/* ---- the explain index ------------------------------------------------ */

struct ew_dnode {
	uint8_t used, fam, mask;
	uint8_t b[16];
	uint32_t off, cnt;
};

static void
dkey(const struct ew_addr *a, unsigned mask, uint8_t out[16])
{
	unsigned full = mask / 8, rest = mask % 8;

	memset(out, 0, 16);
	memcpy(out, a->b, full);
	if (rest != 0)
		out[full] = (uint8_t)(a->b[full] & (0xff << (8 - rest)));
}

static size_t
dhash(int fam, unsigned mask, const uint8_t b[16])
{
	uint64_t h = ew_mix((uint64_t)fam << 8 | mask, 0);
	uint64_t w0, w1;

	memcpy(&w0, b, 8);
	memcpy(&w1, b + 8, 8);
	return (size_t)ew_mix(ew_mix(h, w0), w1);
}

static struct ew_dnode *
dfind(const struct ew_compiled *c, int fam, unsigned mask, const uint8_t b[16],
    int create)
{
	size_t i = dhash(fam, mask, b) & (c->dncap - 1);

	while (c->dn[i].used) {
		if (c->dn[i].fam == fam && c->dn[i].mask == mask &&
		    memcmp(c->dn[i].b, b, 16) == 0)
			return &c->dn[i];
		i = (i + 1) & (c->dncap - 1);
	}
	if (!create)
		return NULL;
	c->dn[i].used = 1;
	c->dn[i].fam = (uint8_t)fam;
	c->dn[i].mask = (uint8_t)mask;
	memcpy(c->dn[i].b, b, 16);
	return &c->dn[i];
}

int
ew_compile_explain_index(struct ew_compiled *c)
{
	uint8_t seen4[33] = { 0 }, seen6[129] = { 0 }, k[16];
	size_t i, off = 0, m;

	c->dncap = 16;
	while (c->dncap < c->nitems * 2 + 2)
		c->dncap *= 2;
	c->dn = calloc(c->dncap, sizeof(*c->dn));
	c->dlist = malloc((c->nitems + 1) * sizeof(*c->dlist));
	if (c->dn == NULL || c->dlist == NULL)
		return -1;
	for (i = 0; i < c->nitems; i++) {
		const struct ew_item *it = &c->items[i];

		dkey(&it->addr, it->maskbits, k);
		dfind(c, it->addr.family, it->maskbits, k, 1)->cnt++;
		if (it->addr.family == EW_AF_INET)
			seen4[it->maskbits] = 1;
		else
			seen6[it->maskbits] = 1;
	}
	for (i = 0; i < c->dncap; i++) {
		if (c->dn[i].used) {
			c->dn[i].off = (uint32_t)off;
			off += c->dn[i].cnt;
			c->dn[i].cnt = 0;
		}
	}
	for (i = 0; i < c->nitems; i++) {
		const struct ew_item *it = &c->items[i];
		struct ew_dnode *d;

		dkey(&it->addr, it->maskbits, k);
		d = dfind(c, it->addr.family, it->maskbits, k, 0);
		c->dlist[d->off + d->cnt++] = (uint32_t)i;
	}
	c->nmasks4 = c->nmasks6 = 0;
	for (m = 0; m <= 32; m++)
		if (seen4[m])
			c->masks4[c->nmasks4++] = (uint8_t)m;
	for (m = 0; m <= 128; m++)
		if (seen6[m])
			c->masks6[c->nmasks6++] = (uint8_t)m;
	return 0;
}

/* The first item (list order) matching addr whose ports hold `port`, or
 * all ports when port is 0. */
static size_t
decider(const struct ew_compiled *c, const struct ew_addr *a, uint16_t port)
{
	const uint8_t *ms = a->family == EW_AF_INET ? c->masks4 : c->masks6;
	unsigned nm = a->family == EW_AF_INET ? c->nmasks4 : c->nmasks6, k;
	size_t best = EW_NO_ITEM;
	uint8_t key[16];

	for (k = 0; k < nm; k++) {
		const struct ew_dnode *d;
		uint32_t j;

		dkey(a, ms[k], key);
		d = dfind(c, a->family, ms[k], key, 0);
		if (d == NULL)
			continue;
		for (j = 0; j < d->cnt; j++) {
			const struct ew_item *it =
			    &c->items[c->dlist[d->off + j]];

			if (c->dlist[d->off + j] >= best)
				break;
			if (port == 0
				? (it->pmin <= 1 && it->pmax >= 65535)
				: (it->pmin <= port && port <= it->pmax)) {
				best = c->dlist[d->off + j];
				break;
			}
		}
	}
	return best;
}

enum ew_verdict
ew_match_rule(const struct ew_compiled *c, const struct ew_addr *a,
    uint16_t port, size_t *dec)
{
	enum ew_verdict v = ew_match(c, a, port);

	if (c->unknown_dec == NULL)
		*dec = EW_NO_ITEM;
	else if (a == NULL || ew_addr_is_null(a))
		*dec = c->unknown_dec[port] == UINT32_MAX
			   ? EW_NO_ITEM
			   : c->unknown_dec[port];
	else if (c->dn == NULL)
		*dec = EW_NO_ITEM;
	else
		*dec = decider(c, a, port);
	return v;
}
