/*
 * pack.c - the swept intervals laid out for lookups (the /16 directory,
 * IPv6 sub-directories, 4- or 8-byte entries), and the answers for
 * addresses tor does not know (port 0 and the unknown-address walk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile_int.h"

/*
 * IPv6 addresses crowd into few /16s, so every /16 holding intervals
 * gets a second directory on the next s bits, 2^s about half its
 * intervals: windows of about two entries, and (s 0 for the sparse
 * ones) one way to the window for every address in a populated /16.
 */
static unsigned
subdir_bits(uint32_t m)
{
	unsigned s = 0;

	while (s < EW_SUBDIR_MAXBITS && (2ull << s) < m)
		s++;
	return s;
}

static int
pack_subdirs(struct ew_compiled *c, struct ew_fam *f)
{
	size_t h, nsub = 0, k, i;

	for (h = 0; h < 65536; h++) {
		uint32_t m = f->dir[h + 1] - f->dir[h];

		if (m > 0)
			nsub += ((size_t)1 << subdir_bits(m)) + 1;
	}
	/* offsets share a word with the bits; too many: no sub-directories */
	if (nsub == 0 || nsub >= (size_t)1 << 27 || f->n >= (size_t)1 << 27)
		return 0;
	f->suboff = malloc(65536 * sizeof(*f->suboff));
	f->sub = malloc(nsub * sizeof(*f->sub));
	if (f->suboff == NULL || f->sub == NULL)
		return -1;
	c->bytes += 65536 * sizeof(*f->suboff) + nsub * sizeof(*f->sub);
	nsub = 0;
	for (h = 0; h < 65536; h++) {
		uint32_t b = f->dir[h], e = f->dir[h + 1];
		unsigned bits;
		uint32_t *sub;

		if (e == b) {
			/* no window: the interval holding the /16 */
			f->suboff[h] = b << 5 | EW_SUB_EMPTY;
			continue;
		}
		bits = subdir_bits(e - b);
		f->suboff[h] = (uint32_t)(nsub << 5 | bits);
		sub = &f->sub[nsub];
		nsub += ((size_t)1 << bits) + 1;
		i = b;
		for (k = 0; k < (size_t)1 << bits; k++) {
			/* the first interval of the /16 starting at or after
			 * sub-range k's start */
			while (i < e && ew_sub6_key(f->s6[2 * i], bits) < k)
				i++;
			sub[k] = (uint32_t)i;
		}
		sub[k] = e;
	}
	return 0;
}

/* The directory and the packed arrays of one family. */
int
ew_compile_pack(
    struct ew_compiled *c, struct ew_fam *f, const struct ew_ivs *v, int v6)
{
	size_t i, h = 0;

	f->n = v->n;
	if (v->n <= EW_SMALL_INTERVALS) {
		/* few intervals: no directory, full starts searched directly */
		f->c32 = malloc(v->n * sizeof(*f->c32));
		if (v6) {
			f->s6hi = malloc(v->n * sizeof(*f->s6hi));
			f->s6lo = malloc(v->n * sizeof(*f->s6lo));
		} else {
			f->s4 = malloc(v->n * sizeof(*f->s4));
		}
		if (f->c32 == NULL ||
		    (v6 ? f->s6hi == NULL || f->s6lo == NULL : f->s4 == NULL))
			return -1;
		for (i = 0; i < v->n; i++) {
			f->c32[i] = v->cls[i];
			if (v6) {
				f->s6hi[i] = v->hi[i];
				f->s6lo[i] = v->lo[i];
			} else {
				f->s4[i] = (uint32_t)v->lo[i];
			}
		}
		c->bytes += v->n * (4 + (v6 ? 16 : 4));
		return 0;
	}
	f->dir = malloc(65537 * sizeof(*f->dir));
	if (f->dir == NULL)
		return -1;
	if (c->nclasses <= 65536)
		f->c16 = malloc(v->n * sizeof(*f->c16));
	else
		f->c32 = malloc(v->n * sizeof(*f->c32));
	if (f->c16 == NULL && f->c32 == NULL)
		return -1;
	if (v6) {
		f->s6 = malloc(v->n * 2 * sizeof(*f->s6));
		if (f->s6 == NULL)
			return -1;
	} else {
		f->lo16 = malloc(v->n * sizeof(*f->lo16));
		if (f->lo16 == NULL)
			return -1;
	}
	for (i = 0; i < v->n; i++) {
		uint64_t top = v6 ? v->hi[i] >> 48 : v->lo[i] >> 16;

		/* dir[h]: first interval starting at or after h's start */
		while (h <= top)
			f->dir[h++] = (uint32_t)i;
		if (f->c16 != NULL)
			f->c16[i] = (uint16_t)v->cls[i];
		else
			f->c32[i] = v->cls[i];
		if (v6) {
			f->s6[2 * i] = v->hi[i];
			f->s6[2 * i + 1] = v->lo[i];
		} else {
			f->lo16[i] = (uint16_t)v->lo[i];
		}
	}
	while (h <= 65536)
		f->dir[h++] = (uint32_t)v->n;
	if (v6 && pack_subdirs(c, f) < 0)
		return -1;
	if (v6 && f->c16 != NULL) {
		/* start and class in 8 bytes; the low halves set apart */
		f->e6 = malloc((v->n + 1) * sizeof(*f->e6));
		f->l6 = malloc(v->n * sizeof(*f->l6));
		if (f->e6 == NULL || f->l6 == NULL)
			return -1;
		for (i = 0; i < v->n; i++) {
			f->e6[i] = f->s6[2 * i] << 16 | f->c16[i];
			f->l6[i] = f->s6[2 * i + 1];
		}
		f->e6[v->n] = UINT64_MAX; /* read by cls6, never counted */
		free(f->s6);
		free(f->c16);
		f->s6 = NULL;
		f->c16 = NULL;
	}
	if (!v6 && f->c16 != NULL) {
		/* start and class in one word: one cache line per lookup */
		f->e4 = malloc(v->n * sizeof(*f->e4));
		if (f->e4 == NULL)
			return -1;
		for (i = 0; i < v->n; i++)
			f->e4[i] = (uint32_t)f->lo16[i] << 16 | f->c16[i];
		free(f->lo16);
		free(f->c16);
		f->lo16 = NULL;
		f->c16 = NULL;
	}
	if (v6 && f->suboff != NULL) {
		/* the sub-directories have it all */
		free(f->dir);
		f->dir = NULL;
	} else {
		c->bytes += 65537 * sizeof(*f->dir);
	}
	c->bytes += (f->e4 != NULL   ? v->n * 4
		     : f->e6 != NULL ? v->n * 16
				     : v->n * (f->c16 != NULL ? 2 : 4) +
					   v->n * (v6 ? 16 : 2));
	return 0;
}

/* ---- unknown addresses ------------------------------------------------ */

/* "The next port interval >= p not yet assigned", with path halving. */
static uint32_t
dsu_find(uint32_t *next, uint32_t p)
{
	while (next[p] != p) {
		next[p] = next[next[p]];
		p = next[p];
	}
	return p;
}

/*
 * For every port interval, the first item (list order) of the selected
 * kind whose ports hold it: each interval is assigned once, so the whole
 * list costs O(items + intervals).  kind 0: mask-0 items (any
 * action); 1: other accepts; 2: other rejects.
 */
static void
first_cover(const struct ew_compiled *c, int kind, const uint32_t *pidx,
    uint32_t k, uint32_t *next, uint32_t *out)
{
	size_t i;
	uint32_t p;

	for (p = 0; p <= k; p++)
		next[p] = p;
	for (p = 0; p < k; p++)
		out[p] = UINT32_MAX;
	for (i = 0; i < c->nitems; i++) {
		const struct ew_item *it = &c->items[i];
		int kk = it->maskbits == 0         ? 0
			 : it->action == EW_ACCEPT ? 1
						   : 2;
		uint32_t a, z;

		if (kk != kind)
			continue;
		a = pidx[it->pmin];
		z = pidx[it->pmax];
		for (p = dsu_find(next, a); p <= z; p = dsu_find(next, p)) {
			out[p] = (uint32_t)i;
			next[p] = p + 1;
		}
	}
}

/*
 * compare_unknown_tor_addr_to_addr_policy for every port: the first
 * mask-0 item of any family covering the port decides, PROBABLY_ when an
 * earlier item covering the port could have matched.  Computed over the
 * port intervals the items' ranges cut, so small policies stay small.
 */
int
ew_compile_unknown(struct ew_compiled *c, int keep_deciders)
{
	uint32_t *bnd, *pidx, *next = NULL, *dec = NULL, *acc = NULL,
			      *rej = NULL;
	uint8_t *starts;
	uint32_t k = 0, p, i;
	size_t j;
	int r = -1;

	/* the ports where an item's range starts or ends: a mark per port
	 * (and 65536), then in order, and each port's interval */
	bnd = malloc(65537 * sizeof(*bnd));
	pidx = malloc(65536 * sizeof(*pidx));
	starts = calloc(65537, 1);
	if (bnd == NULL || pidx == NULL || starts == NULL) {
		free(bnd);
		free(pidx);
		free(starts);
		return -1;
	}
	starts[1] = 1;
	for (j = 0; j < c->nitems; j++) {
		starts[c->items[j].pmin] = 1;
		starts[(uint32_t)c->items[j].pmax + 1] = 1;
	}
	for (p = 0; p < 65536; p++) {
		if (starts[p])
			bnd[k++] = p;
		pidx[p] = k - (k != 0);
	}
	free(starts);
	next = malloc((k + 1) * sizeof(*next));
	dec = malloc(k * sizeof(*dec));
	acc = malloc(k * sizeof(*acc));
	rej = malloc(k * sizeof(*rej));
	if (next == NULL || dec == NULL || acc == NULL || rej == NULL)
		goto out;
	first_cover(c, 0, pidx, k, next, dec);
	first_cover(c, 1, pidx, k, next, acc);
	first_cover(c, 2, pidx, k, next, rej);
	if (keep_deciders) {
		c->unknown_dec = malloc(65536 * sizeof(*c->unknown_dec));
		if (c->unknown_dec == NULL)
			goto out;
		c->unknown_dec[0] = UINT32_MAX;
	}
	for (i = 0; i < k; i++) {
		uint32_t d = dec[i], end = i + 1 < k ? bnd[i + 1] : 65536;
		int ma = acc[i] < d, mr = rej[i] < d, v;

		if (d == UINT32_MAX || c->items[d].action == EW_ACCEPT)
			v = mr ? EW_PROBABLY_ACCEPTED : EW_ACCEPTED;
		else
			v = ma ? EW_PROBABLY_REJECTED : EW_REJECTED;
		memset(&c->unknown[bnd[i]], v, end - bnd[i]);
		if (keep_deciders)
			for (p = bnd[i]; p < end; p++)
				c->unknown_dec[p] = d;
	}
	c->unknown[0] = EW_REJECTED;
	r = 0;
out:
	free(bnd);
	free(pidx);
	free(next);
	free(dec);
	free(acc);
	free(rej);
	return r;
}
