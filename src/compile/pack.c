/*
 * pack.c - the swept intervals laid out for lookups (the /16 directory,
 * IPv6 sub-directories, 4- or 8-byte entries), the classes' port maps,
 * and the answers for addresses tor does not know (port 0 and the
 * unknown-address walk).
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
	f->nsub = nsub;
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

/*
 * IPv6 entries of 8 bytes (the start's high half less its /16, and the
 * class), the low halves apart, laid out /16 by populated /16: a head
 * entry (start 0, the class of the interval holding the /16's first
 * address), the /16's entries, then EW_LIN6 pads above every key, so
 * that a window of up to EW_LIN6 entries is counted without bounds or
 * clamping.  The sub-directories are copied to these positions (the
 * entry before each window, EW_BIG6 set when the window is longer than
 * EW_LIN6), each
 * followed by one more end entry: a /16 without entries uses its
 * populated predecessor's last two (an empty window just past its last
 * entry, which holds the /16).  sdir[h] lets a lookup find its slot
 * with one shift and one add.  Not done (e6 stays NULL) when the
 * positions would not fit in 32 bits.
 */
static int
pack_e6(struct ew_compiled *c, struct ew_fam *f)
{
	size_t h, np = 0, ns = 0, i, k, last = 0;

	for (h = 0; h < 65536; h++) {
		if (f->dir[h + 1] > f->dir[h]) {
			np += f->dir[h + 1] - f->dir[h] + 1 + EW_LIN6;
			ns += ((size_t)1 << (f->suboff[h] & 31)) + 2;
		}
	}
	if (np >= EW_BIG6 || ns >= (size_t)1 << 31)
		return 0;
	f->e6 = malloc(np * sizeof(*f->e6));
	f->l6 = malloc(np * sizeof(*f->l6));
	f->sdir = malloc(65536 * sizeof(*f->sdir));
	f->sub6 = malloc(ns * sizeof(*f->sub6));
	if (f->e6 == NULL || f->l6 == NULL || f->sdir == NULL ||
	    f->sub6 == NULL)
		return -1;
	np = ns = 0;
	for (h = 0; h < 65536; h++) {
		uint32_t b = f->dir[h], e = f->dir[h + 1], so = f->suboff[h];
		unsigned bits = so & 31;
		const uint32_t *sub = &f->sub[so >> 5];

		if (e == b) {
			f->sdir[h] = (uint64_t)(uint32_t)(last - h) << 32 | 48;
			continue;
		}
		f->e6[np] = f->c16[b == 0 ? 0 : b - 1];
		f->l6[np++] = 0;
		f->sdir[h] =
		    (uint64_t)(uint32_t)(ns - (h << bits)) << 32 | (48 - bits);
		/* slot k: the entry before its window, flagged when the
		 * window is too long to count */
		for (k = 0; k <= (size_t)1 << bits; k++)
			f->sub6[ns++] =
			    (uint32_t)(np - 1 + (sub[k] - b)) |
			    (k < (size_t)1 << bits &&
					sub[k + 1] - sub[k] > EW_LIN6
				    ? EW_BIG6
				    : 0);
		last = ns - 1;
		f->sub6[ns++] = f->sub6[last];
		for (i = b; i < e; i++, np++) {
			f->e6[np] = f->s6[2 * i] << 16 | f->c16[i];
			f->l6[np] = f->s6[2 * i + 1];
		}
		for (k = 0; k < EW_LIN6; k++, np++)
			f->e6[np] = f->l6[np] = UINT64_MAX;
	}
	f->ne6 = np;
	c->bytes += 65536 * sizeof(*f->sdir) + ns * sizeof(*f->sub6);
	free(f->s6);
	free(f->c16);
	free(f->suboff);
	free(f->sub);
	f->s6 = NULL;
	f->c16 = NULL;
	f->suboff = NULL;
	f->sub = NULL;
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
	if (v6 && f->c16 != NULL && f->suboff != NULL && c->nclasses < 65536) {
		size_t before = c->bytes;

		if (pack_e6(c, f) < 0)
			return -1;
		if (f->e6 != NULL) /* suboff and sub are gone */
			c->bytes = before - 65536 * sizeof(uint32_t) -
				   f->nsub * sizeof(uint32_t) +
				   (c->bytes - before);
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
	if (v6 && (f->suboff != NULL || f->sdir != NULL)) {
		/* the sub-directories have it all */
		free(f->dir);
		f->dir = NULL;
	} else {
		c->bytes += 65537 * sizeof(*f->dir);
	}
	c->bytes += (f->e4 != NULL   ? v->n * 4
		     : f->e6 != NULL ? f->ne6 * 16
				     : v->n * (f->c16 != NULL ? 2 : 4) +
					   v->n * (v6 ? 16 : 2));
	return 0;
}

/* ---- the classes' port maps ------------------------------------------- */

struct leafb {
	uint32_t *slot;
	size_t cap, capleaves;
};

static uint64_t
leaf_hash(const uint64_t *x)
{
	return ew_mix(ew_mix(ew_mix(ew_mix(7, x[0]), x[1]), x[2]), x[3]);
}

/* The id of leaf w (256 bits), hash-consed; UINT32_MAX when out of
 * memory or past 65,536 leaves (ids are 16 bits). */
static uint32_t
leaf_get(struct ew_compiled *c, struct leafb *lb, const uint64_t w[4])
{
	size_t i, k;

	if ((c->nleaves + 1) * 2 > lb->cap) {
		size_t ncap = lb->cap ? lb->cap * 2 : 256;
		uint32_t *ns = malloc(ncap * sizeof(*ns));

		if (ns == NULL)
			return UINT32_MAX;
		memset(ns, 0xff, ncap * sizeof(*ns));
		for (k = 0; k < c->nleaves; k++) {
			i = leaf_hash(&c->leaves[k * 4]) & (ncap - 1);
			while (ns[i] != UINT32_MAX)
				i = (i + 1) & (ncap - 1);
			ns[i] = (uint32_t)k;
		}
		free(lb->slot);
		lb->slot = ns;
		lb->cap = ncap;
	}
	i = leaf_hash(w) & (lb->cap - 1);
	while (lb->slot[i] != UINT32_MAX) {
		if (memcmp(&c->leaves[lb->slot[i] * 4], w, 32) == 0)
			return lb->slot[i];
		i = (i + 1) & (lb->cap - 1);
	}
	if (c->nleaves >= 65536)
		return UINT32_MAX;
	if ((c->nleaves + 1) * 4 > lb->capleaves) {
		size_t ncap = lb->capleaves ? lb->capleaves * 2 : 64;
		uint64_t *nl = realloc(c->leaves, ncap * sizeof(*nl));

		if (nl == NULL)
			return UINT32_MAX;
		c->leaves = nl;
		lb->capleaves = ncap;
	}
	memcpy(&c->leaves[c->nleaves * 4], w, 32);
	lb->slot[i] = (uint32_t)c->nleaves;
	return (uint32_t)c->nleaves++;
}

/* Leaf map of runs r[0..n) (start << 1 | accept) at leafids[at]. */
static int
leaf_map(struct ew_compiled *c, struct leafb *lb, size_t at, const uint32_t *r,
    size_t n)
{
	uint64_t bm[1024];
	size_t k, leaf;

	memset(bm, 0, sizeof(bm));
	for (k = 0; k < n; k++) {
		uint32_t lo = r[k] >> 1;
		uint32_t hi = k + 1 < n ? (r[k + 1] >> 1) : 65536;

		if (!(r[k] & 1))
			continue;
		while (lo < hi && lo % 64 != 0)
			bm[lo / 64] |= 1ull << (lo % 64), lo++;
		while (lo + 64 <= hi)
			bm[lo / 64] = ~0ull, lo += 64;
		while (lo < hi)
			bm[lo / 64] |= 1ull << (lo % 64), lo++;
	}
	for (leaf = 0; leaf < 256; leaf++) {
		uint32_t id = leaf_get(c, lb, &bm[leaf * 4]);

		if (id == UINT32_MAX)
			return -1;
		c->leafids[at + leaf] = (uint16_t)id;
	}
	return 0;
}

/* The runs of class k (the two fixed ones have no key). */
static const uint32_t *
class_runs(const uint32_t *kpool, const uint32_t *koff, size_t k, size_t *n)
{
	static const uint32_t rej = 0, acc = 1;

	if (k == EW_CLASS_REJECT || k == EW_CLASS_ACCEPT) {
		*n = 1;
		return k == EW_CLASS_REJECT ? &rej : &acc;
	}
	*n = kpool[koff[k]] - 1;
	return &kpool[koff[k] + 2];
}

/* Every class with a leaf map; -1 when the leaves do not fit. */
static int
classes_flat(struct ew_compiled *c, const uint32_t *kpool, const uint32_t *koff)
{
	struct leafb lb;
	size_t k, n;
	int r = 0;

	memset(&lb, 0, sizeof(lb));
	c->leafids = malloc(c->nclasses * 256 * sizeof(*c->leafids));
	if (c->leafids == NULL)
		return -1;
	for (k = 0; k < c->nclasses && r == 0; k++) {
		const uint32_t *runs = class_runs(kpool, koff, k, &n);

		c->classes[k].kind = EW_KIND_LEAF;
		c->classes[k].map = (uint32_t)(k * 256);
		r = leaf_map(c, &lb, k * 256, runs, n);
	}
	free(lb.slot);
	if (r == 0) {
		c->flat = 1;
		c->bytes += c->nclasses * 256 * sizeof(*c->leafids);
	}
	if (r == 0 && c->nclasses <= EW_DIRECT_CLASSES) {
		/* few: each class's answers as a plain bit map too, one load
		 * fewer per lookup */
		c->pbits = malloc(c->nclasses * 1024 * sizeof(*c->pbits));
		if (c->pbits == NULL)
			return -1;
		for (k = 0; k < c->nclasses * 256; k++)
			memcpy(&c->pbits[k * 4],
			    &c->leaves[(size_t)c->leafids[k] * 4], 32);
		c->bytes += c->nclasses * 1024 * sizeof(*c->pbits);
	}
	return r;
}

/* The ports where runs a and b differ: [*lo, *hi]; 0 when nowhere. */
static int
runs_diff(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
    uint32_t *lo, uint32_t *hi)
{
	size_t i = 0, j = 0;
	uint32_t p = 0;
	int found = 0;

	while (p < 65536) {
		uint32_t ea = i + 1 < na ? a[i + 1] >> 1 : 65536;
		uint32_t eb = j + 1 < nb ? b[j + 1] >> 1 : 65536;
		uint32_t e = ea < eb ? ea : eb;

		if ((a[i] ^ b[j]) & 1) {
			if (!found)
				*lo = p;
			found = 1;
			*hi = e - 1;
		}
		p = e;
		i += ea == e;
		j += eb == e;
	}
	return found;
}

static int
pool_add(struct ew_compiled *c, size_t *cap, uint32_t start)
{
	if (c->nrpool == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		uint16_t *np = realloc(c->rlo, ncap * sizeof(*np));

		if (np == NULL)
			return -1;
		c->rlo = np;
		*cap = ncap;
	}
	c->rlo[c->nrpool++] = (uint16_t)start;
	return 0;
}

/*
 * Class k (runs r[0..n), more than EW_CLASS_RUNS) as a window over one
 * of the references, when that is less than half its runs: 1 done, 0
 * not worth it, -1 out of memory.
 */
static int
class_diff(struct ew_compiled *c, const uint32_t *kpool, const uint32_t *koff,
    const uint32_t *refs, size_t nrefs, size_t k, const uint32_t *r, size_t n,
    size_t *poolcap)
{
	struct ew_class *cl = &c->classes[k];
	size_t best = SIZE_MAX, bref = 0, q, m, own, a = 0;
	uint32_t lo = 0, hi = 0, blo = 0, bhi = 0;

	for (q = 0; q < nrefs; q++) {
		const uint32_t *rr = class_runs(kpool, koff, refs[q], &m);

		if (!runs_diff(r, n, rr, m, &lo, &hi)) {
			lo = 1; /* the same ports: an empty window */
			hi = 0;
			own = 0;
		} else {
			/* the run holding lo, and those starting up to hi */
			for (own = 1, a = 0; a < n; a++)
				own += (r[a] >> 1) > lo && (r[a] >> 1) <= hi;
		}
		if (own < best) {
			best = own;
			bref = refs[q];
			blo = lo;
			bhi = hi;
		}
	}
	if (best == SIZE_MAX || best * 2 >= n)
		return 0;
	cl->kind = EW_KIND_DIFF;
	cl->lo[0] = (uint16_t)blo;
	cl->lo[1] = (uint16_t)bhi;
	cl->lo[2] = (uint16_t)best;
	cl->lo[3] = (uint16_t)bref;
	cl->map = (uint32_t)c->nrpool;
	if (best == 0)
		return 1;
	for (a = 0; a + 1 < n && (r[a + 1] >> 1) <= blo; a++)
		;
	cl->acc0 = (uint8_t)(r[a] & 1);
	if (pool_add(c, poolcap, blo) < 0)
		return -1;
	for (a++; a < n && (r[a] >> 1) <= bhi; a++)
		if (pool_add(c, poolcap, r[a] >> 1) < 0)
			return -1;
	return 1;
}

/* Each class in its smallest form (EW_KIND_*). */
static int
classes_compact(
    struct ew_compiled *c, const uint32_t *kpool, const uint32_t *koff)
{
	uint32_t refs[EW_MAX_REFS];
	size_t nrefs = 0, k, n, a, poolcap = 0;
	struct leafb lb;
	int r = -1, d;

	memset(&lb, 0, sizeof(lb));
	c->leafids = malloc(EW_MAX_REFS * 256 * sizeof(*c->leafids));
	if (c->leafids == NULL)
		return -1;
	for (k = 0; k < c->nclasses; k++) {
		const uint32_t *runs = class_runs(kpool, koff, k, &n);
		struct ew_class *cl = &c->classes[k];

		cl->acc0 = (uint8_t)(runs[0] & 1);
		if (n == 1) {
			cl->kind = cl->acc0 ? EW_KIND_ACCEPT : EW_KIND_REJECT;
			continue;
		}
		if (n <= EW_CLASS_RUNS) {
			cl->kind = EW_KIND_RUNS;
			cl->nruns = (uint8_t)n;
			for (a = 0; a < n; a++)
				cl->lo[a] = (uint16_t)(runs[a] >> 1);
			continue;
		}
		d = class_diff(
		    c, kpool, koff, refs, nrefs, k, runs, n, &poolcap);
		if (d < 0)
			goto out;
		if (d > 0)
			continue;
		if (nrefs < EW_MAX_REFS && k < 65536) {
			/* a reference: the first long classes, leaf maps */
			cl->kind = EW_KIND_LEAF;
			cl->map = (uint32_t)(nrefs * 256);
			if (leaf_map(c, &lb, nrefs * 256, runs, n) < 0)
				goto out;
			refs[nrefs++] = (uint32_t)k;
			continue;
		}
		cl->kind = EW_KIND_POOL;
		cl->map = (uint32_t)c->nrpool;
		cl->lo[0] = (uint16_t)n;
		cl->lo[1] = (uint16_t)(n >> 16);
		for (a = 0; a < n; a++)
			if (pool_add(c, &poolcap, runs[a] >> 1) < 0)
				goto out;
	}
	c->bytes += EW_MAX_REFS * 256 * sizeof(*c->leafids) +
		    c->nrpool * sizeof(*c->rlo);
	r = 0;
out:
	free(lb.slot);
	return r;
}

/* The arrays grown by doubling give back what they do not use. */
static void
classes_shrink(struct ew_compiled *c)
{
	struct ew_class *nc;
	uint16_t *nr;
	uint64_t *nl;

	nc = realloc(c->classes, c->nclasses * sizeof(*c->classes));
	if (nc != NULL)
		c->classes = nc;
	if (c->nrpool > 0) {
		nr = realloc(c->rlo, c->nrpool * sizeof(*c->rlo));
		if (nr != NULL)
			c->rlo = nr;
	}
	if (c->nleaves > 0) {
		nl = realloc(c->leaves, c->nleaves * 4 * sizeof(*c->leaves));
		if (nl != NULL)
			c->leaves = nl;
	}
}

int
ew_compile_classes(
    struct ew_compiled *c, const uint32_t *kpool, const uint32_t *koff)
{
	if (c->nclasses > EW_FLAT_CLASSES || classes_flat(c, kpool, koff) < 0) {
		/* too many for a map each (or their leaves past 65,536) */
		free(c->leafids);
		free(c->leaves);
		free(c->pbits);
		c->leafids = NULL;
		c->leaves = NULL;
		c->pbits = NULL;
		c->nleaves = 0;
		c->flat = 0;
		c->bytes = 0; /* the families are packed after */
		if (classes_compact(c, kpool, koff) < 0)
			return -1;
	}
	classes_shrink(c);
	c->bytes += c->nclasses * sizeof(*c->classes) + c->nleaves * 32;
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
 * The ports where an item's range starts or ends (and port 1), as bits,
 * with the number of them before each word: the port intervals, and the
 * interval of a port in O(1), in 12 KiB whatever the policy's size.
 */
struct pstarts {
	uint64_t bits[1025]; /* ports 0 to 65536 */
	uint32_t rank[1025];
};

/* The index of the port interval holding port p (a start is at or
 * below p: port 1 is one, and so is every item's pmin). */
static uint32_t
pint(const struct pstarts *ps, uint32_t p)
{
	uint64_t below = ps->bits[p >> 6] & ((2ull << (p & 63)) - 1);

	return ps->rank[p >> 6] + (uint32_t)__builtin_popcountll(below) - 1;
}

/*
 * For every port interval, the first item (list order) of the selected
 * kind whose ports hold it: each interval is assigned once, so the whole
 * list costs O(items + intervals).  kind 0: mask-0 items (any
 * action); 1: other accepts; 2: other rejects.
 */
static void
first_cover(const struct ew_compiled *c, int kind, const struct pstarts *ps,
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
		a = pint(ps, it->pmin);
		z = pint(ps, it->pmax);
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
	uint32_t *bnd = NULL, *next = NULL, *dec = NULL, *acc = NULL,
		 *rej = NULL;
	struct pstarts *ps = calloc(1, sizeof(*ps));
	uint32_t k = 0, p, i;
	size_t j;
	int r = -1;

	if (ps == NULL)
		return -1;
	ps->bits[0] = 2; /* port 1 */
	for (j = 0; j < c->nitems; j++) {
		uint32_t a = c->items[j].pmin, z = c->items[j].pmax + 1u;

		ps->bits[a >> 6] |= 1ull << (a & 63);
		if (z < 65536)
			ps->bits[z >> 6] |= 1ull << (z & 63);
	}
	for (j = 0; j < 1025; j++) {
		ps->rank[j] = k;
		k += (uint32_t)__builtin_popcountll(ps->bits[j]);
	}
	bnd = malloc(k * sizeof(*bnd));
	if (bnd == NULL)
		goto out;
	for (j = 0, k = 0; j < 1024; j++) {
		uint64_t w = ps->bits[j];

		while (w != 0) {
			bnd[k++] =
			    (uint32_t)(j * 64) + (uint32_t)__builtin_ctzll(w);
			w &= w - 1;
		}
	}
	next = malloc((k + 1) * sizeof(*next));
	dec = malloc(k * sizeof(*dec));
	acc = malloc(k * sizeof(*acc));
	rej = malloc(k * sizeof(*rej));
	if (next == NULL || dec == NULL || acc == NULL || rej == NULL)
		goto out;
	first_cover(c, 0, ps, k, next, dec);
	first_cover(c, 1, ps, k, next, acc);
	first_cover(c, 2, ps, k, next, rej);
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
	free(ps);
	free(bnd);
	free(next);
	free(dec);
	free(acc);
	free(rej);
	return r;
}
