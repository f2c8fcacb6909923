/*
 * compile.c - an expanded policy compiled into the lookup structure of
 * compile_int.h, and the lookups.
 *
 * Compiling sweeps each family's address space from low to high over
 * the sorted prefix boundaries, keeping the items whose prefix covers
 * the current interval in a hierarchical bitset ordered by list
 * position.  For each interval it walks the active items in order, as
 * tor does for any address inside it, until every port is decided and
 * the port-0 answer is known; the answer is hash-consed into a class.
 * Intervals covered only by mask-0 items (port rules, tor's default
 * tail) share one class computed once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile_int.h"

/* ---- a hierarchical bitset over list positions ------------------------ */

struct bits {
	uint64_t *l[3];
	size_t nw[3];
};

static int
bits_init(struct bits *b, size_t n)
{
	int k;

	b->nw[0] = n / 64 + 1;
	b->nw[1] = b->nw[0] / 64 + 1;
	b->nw[2] = b->nw[1] / 64 + 1;
	for (k = 0; k < 3; k++) {
		b->l[k] = calloc(b->nw[k], sizeof(uint64_t));
		if (b->l[k] == NULL)
			return -1;
	}
	return 0;
}

static void
bits_free(struct bits *b)
{
	int k;

	for (k = 0; k < 3; k++)
		free(b->l[k]);
}

static void
bits_set(struct bits *b, size_t i)
{
	b->l[0][i / 64] |= 1ull << (i % 64);
	b->l[1][i / 4096] |= 1ull << (i / 64 % 64);
	b->l[2][i / 262144] |= 1ull << (i / 4096 % 64);
}

static void
bits_clear(struct bits *b, size_t i)
{
	b->l[0][i / 64] &= ~(1ull << (i % 64));
	if (b->l[0][i / 64] != 0)
		return;
	b->l[1][i / 4096] &= ~(1ull << (i / 64 % 64));
	if (b->l[1][i / 4096] != 0)
		return;
	b->l[2][i / 262144] &= ~(1ull << (i / 4096 % 64));
}

/* The first set position >= i, or SIZE_MAX. */
static size_t
bits_next(const struct bits *b, size_t i)
{
	size_t w0 = i / 64, w1, w2;
	uint64_t m;

	if (w0 >= b->nw[0])
		return SIZE_MAX;
	m = b->l[0][w0] & (~0ull << (i % 64));
	if (m)
		return w0 * 64 + (size_t)__builtin_ctzll(m);
	/* the next non-empty level-0 word after w0 */
	w0++;
	w1 = w0 / 64;
	if (w1 >= b->nw[1])
		return SIZE_MAX;
	m = b->l[1][w1] & (~0ull << (w0 % 64));
	if (!m) {
		w1++;
		w2 = w1 / 64;
		if (w2 >= b->nw[2])
			return SIZE_MAX;
		m = b->l[2][w2] & (~0ull << (w1 % 64));
		while (!m) {
			if (++w2 >= b->nw[2])
				return SIZE_MAX;
			m = b->l[2][w2];
		}
		w1 = w2 * 64 + (size_t)__builtin_ctzll(m);
		m = b->l[1][w1];
	}
	w0 = w1 * 64 + (size_t)__builtin_ctzll(m);
	return w0 * 64 + (size_t)__builtin_ctzll(b->l[0][w0]);
}

/* ---- classes ---------------------------------------------------------- */

struct builder {
	struct ew_compiled *c;
	size_t capclasses, capleaves, capleafids;
	size_t nmaps; /* classes with a 256-leaf port map */
	size_t caprlo, capracc;
	/* class hash: slots hold class ids; keys kept in a pool */
	uint32_t *cslot;
	size_t ccap;
	uint32_t *koff; /* per class: offset of its key in kpool */
	uint32_t *kpool;
	size_t kn, kcap;
	uint32_t *lslot;
	size_t lcap;
	uint32_t *key;
	size_t capkey;
	int oom;
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return p;
	while (nc < need)
		nc *= 2;
	np = realloc(p, nc * size);
	if (np != NULL)
		*cap = nc;
	return np;
}

static uint32_t
leaf_get(struct builder *b, const uint64_t w[4])
{
	struct ew_compiled *c = b->c;
	size_t i, k;

	if ((c->nleaves + 1) * 2 > b->lcap) {
		size_t ncap = b->lcap ? b->lcap * 2 : 256;
		uint32_t *ns = malloc(ncap * sizeof(*ns));

		if (ns == NULL) {
			b->oom = 1;
			return 0;
		}
		memset(ns, 0xff, ncap * sizeof(*ns));
		for (k = 0; k < c->nleaves; k++) {
			const uint64_t *x = &c->leaves[k * 4];

			i = mix(mix(mix(mix(7, x[0]), x[1]), x[2]), x[3]) &
			    (ncap - 1);
			while (ns[i] != UINT32_MAX)
				i = (i + 1) & (ncap - 1);
			ns[i] = (uint32_t)k;
		}
		free(b->lslot);
		b->lslot = ns;
		b->lcap = ncap;
	}
	i = mix(mix(mix(mix(7, w[0]), w[1]), w[2]), w[3]) & (b->lcap - 1);
	while (b->lslot[i] != UINT32_MAX) {
		if (memcmp(&c->leaves[b->lslot[i] * 4], w, 32) == 0)
			return b->lslot[i];
		i = (i + 1) & (b->lcap - 1);
	}
	{
		uint64_t *nl = grow(c->leaves, &b->capleaves,
		    (c->nleaves + 1) * 4, sizeof(uint64_t));

		if (nl == NULL) {
			b->oom = 1;
			return 0;
		}
		c->leaves = nl;
	}
	memcpy(&c->leaves[c->nleaves * 4], w, 32);
	b->lslot[i] = (uint32_t)c->nleaves;
	return (uint32_t)c->nleaves++;
}

static uint64_t
key_hash(const uint32_t *key, size_t n)
{
	uint64_t h = 11;
	size_t i;

	for (i = 0; i < n; i++)
		h = mix(h, key[i]);
	return h;
}

/* The port map of a new class: 256 leaf ids. */
static void
class_map(struct builder *b, size_t k, const uint32_t *key, size_t n)
{
	struct ew_compiled *c = b->c;
	uint64_t bm[1024];
	uint16_t *ni;
	size_t r, leaf;

	ni =
	    grow(c->leafids, &b->capleafids, (b->nmaps + 1) * 256, sizeof(*ni));
	if (ni == NULL) {
		b->oom = 1;
		return;
	}
	c->leafids = ni;
	c->classes[k].map = (uint32_t)(b->nmaps++ * 256);
	/* the accepted ports as one 65,536-bit map, filled run by run */
	memset(bm, 0, sizeof(bm));
	for (r = 0; r < n; r++) {
		uint32_t lo = key[r] >> 1;
		uint32_t hi = r + 1 < n ? (key[r + 1] >> 1) : 65536;

		if (!(key[r] & 1))
			continue;
		while (lo < hi && lo % 64 != 0)
			bm[lo / 64] |= 1ull << (lo % 64), lo++;
		while (lo + 64 <= hi)
			bm[lo / 64] = ~0ull, lo += 64;
		while (lo < hi)
			bm[lo / 64] |= 1ull << (lo % 64), lo++;
	}
	for (leaf = 0; leaf < 256; leaf++)
		c->leafids[c->classes[k].map + leaf] =
		    (uint16_t)leaf_get(b, &bm[leaf * 4]);
	if (c->nleaves > 65536)
		b->oom = 1; /* leaf ids are 16 bits */
}

/*
 * The class for a port map (key[1..n): start port << 1 | accept, the
 * first run starting at 0) and a port-0 answer (key[0]).
 */
static uint32_t
class_get(struct builder *b, const uint32_t *key, size_t n)
{
	struct ew_compiled *c = b->c;
	uint64_t h;
	size_t i, k;

	if (n == 2 && key[1] == 0 && key[0] == EW_REJECTED)
		return EW_CLASS_REJECT;
	if (n == 2 && key[1] == 1 && key[0] == EW_ACCEPTED)
		return EW_CLASS_ACCEPT;
	h = key_hash(key, n);
	if ((c->nclasses + 1) * 2 > b->ccap) {
		size_t ncap = b->ccap ? b->ccap * 2 : 256;
		uint32_t *ns = malloc(ncap * sizeof(*ns));

		if (ns == NULL) {
			b->oom = 1;
			return 0;
		}
		memset(ns, 0xff, ncap * sizeof(*ns));
		for (k = 2; k < c->nclasses; k++) {
			const uint32_t *kk = &b->kpool[b->koff[k]];

			i = key_hash(kk + 1, kk[0]) & (ncap - 1);
			while (ns[i] != UINT32_MAX)
				i = (i + 1) & (ncap - 1);
			ns[i] = (uint32_t)k;
		}
		free(b->cslot);
		b->cslot = ns;
		b->ccap = ncap;
	}
	i = h & (b->ccap - 1);
	while (b->cslot[i] != UINT32_MAX) {
		const uint32_t *kk = &b->kpool[b->koff[b->cslot[i]]];

		if (kk[0] == n && memcmp(kk + 1, key, n * sizeof(*key)) == 0)
			return b->cslot[i];
		i = (i + 1) & (b->ccap - 1);
	}
	k = c->nclasses;
	{
		struct ew_class *nc =
		    grow(c->classes, &b->capclasses, k + 1, sizeof(*nc));
		uint32_t *no, *np;
		size_t capo = b->capclasses;

		if (nc == NULL) {
			b->oom = 1;
			return 0;
		}
		c->classes = nc;
		no = realloc(b->koff, capo * sizeof(*no));
		if (no == NULL) {
			b->oom = 1;
			return 0;
		}
		b->koff = no;
		np = grow(b->kpool, &b->kcap, b->kn + n + 1, sizeof(*np));
		if (np == NULL) {
			b->oom = 1;
			return 0;
		}
		b->kpool = np;
	}
	b->koff[k] = (uint32_t)b->kn;
	b->kpool[b->kn] = (uint32_t)n;
	memcpy(&b->kpool[b->kn + 1], key, n * sizeof(*key));
	b->kn += n + 1;
	c->classes[k].noport = (uint8_t)key[0];
	c->classes[k].map = 0;
	c->classes[k].nruns = 0;
	c->classes[k].accbits = 0;
	memset(c->classes[k].lo, 0, sizeof(c->classes[k].lo));
	if (n == 2) {
		c->classes[k].uniform = (key[1] & 1) ? 2 : 1;
	} else if (n - 1 <= EW_CLASS_RUNS) {
		size_t r;

		c->classes[k].uniform = 3;
		c->classes[k].nruns = (uint8_t)(n - 1);
		for (r = 0; r + 1 < n; r++) {
			c->classes[k].lo[r] = (uint16_t)(key[r + 1] >> 1);
			if (key[r + 1] & 1)
				c->classes[k].accbits |= (uint8_t)(1u << r);
		}
	} else if (b->nmaps >= EW_MAX_LEAF_MAPS && n - 1 <= 65535) {
		/* a longer list of runs, in the shared pool: slower to
		 * search than a leaf map, but a few bytes a run instead of
		 * 512 bytes a class */
		uint16_t *np =
		    grow(c->rlo, &b->caprlo, c->nrpool + n, sizeof(*np));
		uint8_t *na;
		size_t r;

		if (np == NULL) {
			b->oom = 1;
			return 0;
		}
		c->rlo = np;
		na = grow(c->racc, &b->capracc, c->nrpool + n, 1);
		if (na == NULL) {
			b->oom = 1;
			return 0;
		}
		c->racc = na;
		c->classes[k].uniform = 4;
		c->classes[k].map = (uint32_t)c->nrpool;
		c->classes[k].lo[0] = (uint16_t)(n - 1);
		for (r = 0; r + 1 < n; r++) {
			c->rlo[c->nrpool + r] = (uint16_t)(key[r + 1] >> 1);
			c->racc[c->nrpool + r] = (uint8_t)(key[r + 1] & 1);
		}
		c->nrpool += n - 1;
	} else {
		c->classes[k].uniform = 0;
		class_map(b, k, key + 1, n - 1);
	}
	b->cslot[i] = (uint32_t)k;
	c->nclasses++;
	return (uint32_t)k;
}

static int
full_ports(const struct ew_item *it)
{
	return it->pmin <= 1 && it->pmax >= 65535;
}

/*
 * The walk state for one address: the port space as runs (start port,
 * state: 0 undecided, 1 rejected, 2 accepted), how many runs are still
 * undecided, and the port-0 walk (answer once known, else its flags).
 */
struct wstate {
	uint16_t *lo;
	uint8_t *st;
	size_t n, cap;
	size_t open;
	int noport; /* -1 while unknown */
	int maybe_acc, maybe_rej;
};

static int
ws_init(struct wstate *w)
{
	w->cap = 16;
	w->lo = malloc(w->cap * sizeof(*w->lo));
	w->st = malloc(w->cap);
	if (w->lo == NULL || w->st == NULL)
		return -1;
	w->n = 1;
	w->lo[0] = 1;
	w->st[0] = 0;
	w->open = 1;
	w->noport = -1;
	w->maybe_acc = w->maybe_rej = 0;
	return 0;
}

static void
ws_free(struct wstate *w)
{
	free(w->lo);
	free(w->st);
	w->lo = NULL;
	w->st = NULL;
}

static int
ws_copy(struct wstate *d, const struct wstate *s)
{
	if (d->cap < s->n) {
		uint16_t *nl = realloc(d->lo, s->cap * sizeof(*nl));
		uint8_t *ns;

		if (nl == NULL)
			return -1;
		d->lo = nl;
		ns = realloc(d->st, s->cap);
		if (ns == NULL)
			return -1;
		d->st = ns;
		d->cap = s->cap;
	}
	memcpy(d->lo, s->lo, s->n * sizeof(*s->lo));
	memcpy(d->st, s->st, s->n);
	d->n = s->n;
	d->open = s->open;
	d->noport = s->noport;
	d->maybe_acc = s->maybe_acc;
	d->maybe_rej = s->maybe_rej;
	return 0;
}

/* Make `port` (<= 65535) start a run; returns that run's index. */
static ptrdiff_t
ws_split(struct wstate *w, uint32_t port)
{
	size_t a = 0, z = w->n;

	while (z - a > 1) {
		size_t m = (a + z) / 2;

		if (w->lo[m] <= port)
			a = m;
		else
			z = m;
	}
	if (w->lo[a] == port)
		return (ptrdiff_t)a;
	if (w->n == w->cap) {
		size_t cap = w->cap * 2;
		uint16_t *nl = realloc(w->lo, cap * sizeof(*nl));
		uint8_t *ns;

		if (nl == NULL)
			return -1;
		w->lo = nl;
		ns = realloc(w->st, cap);
		if (ns == NULL)
			return -1;
		w->st = ns;
		w->cap = cap;
	}
	memmove(&w->lo[a + 2], &w->lo[a + 1], (w->n - a - 1) * sizeof(*w->lo));
	memmove(&w->st[a + 2], &w->st[a + 1], w->n - a - 1);
	w->lo[a + 1] = (uint16_t)port;
	w->st[a + 1] = w->st[a];
	if (w->st[a] == 0)
		w->open++;
	w->n++;
	return (ptrdiff_t)a + 1;
}

/* One step of tor's walk: the item matches the address. */
static int
ws_apply(struct wstate *w, const struct ew_item *it)
{
	int acc = it->action == EW_ACCEPT;
	ptrdiff_t f;
	size_t k;

	if (w->noport < 0) {
		if (full_ports(it))
			w->noport = acc ? (w->maybe_rej ? EW_PROBABLY_ACCEPTED
							: EW_ACCEPTED)
					: (w->maybe_acc ? EW_PROBABLY_REJECTED
							: EW_REJECTED);
		else if (acc)
			w->maybe_acc = 1;
		else
			w->maybe_rej = 1;
	}
	if (w->open == 0)
		return 0;
	if (it->pmax < 65535 && ws_split(w, (uint32_t)it->pmax + 1) < 0)
		return -1;
	f = ws_split(w, it->pmin);
	if (f < 0)
		return -1;
	for (k = (size_t)f; k < w->n && w->lo[k] <= it->pmax; k++) {
		if (w->st[k] == 0) {
			w->st[k] = acc ? 2 : 1;
			w->open--;
		}
	}
	return 0;
}

/* The class of a finished walk: undecided ports fall through (accept). */
static uint32_t
ws_class(struct builder *b, const struct wstate *w)
{
	size_t k, n = 1;
	uint32_t *nk = grow(b->key, &b->capkey, w->n + 2, sizeof(*nk));

	if (nk == NULL) {
		b->oom = 1;
		return 0;
	}
	b->key = nk;
	b->key[0] = (uint32_t)(w->noport >= 0 ? w->noport
			       : w->maybe_rej ? EW_PROBABLY_ACCEPTED
					      : EW_ACCEPTED);
	for (k = 0; k < w->n; k++) {
		uint32_t acc = w->st[k] != 1;

		if (n > 1 && (b->key[n - 1] & 1) == acc)
			continue;
		b->key[n] = (n == 1 ? 0u : (uint32_t)w->lo[k] << 1) | acc;
		n++;
	}
	return class_get(b, b->key, n);
}

/*
 * Per family: the mask-0 items ("Z", active everywhere), and the walk
 * state after the first j of them, built as needed.  An interval whose
 * first other active item is s starts its walk from the state after the
 * Z items before s; when s covers every port the answer depends only on
 * that state and s's action, so it is remembered.
 */
struct zinfo {
	uint32_t *zbefore; /* per position: Z items before it */
	size_t nz;
	const uint32_t *zpos; /* positions of the Z items */
	struct wstate *snap;  /* snap[j]: after the first j Z items */
	size_t built;         /* snapshots built so far */
	uint32_t *memo;       /* [j*3 + 0] all Z, [+1] then reject,
				 [+2] then accept; UINT32_MAX unknown */
	struct wstate work;
};

static const struct wstate *
snapshot(struct builder *b, struct zinfo *z, const struct ew_item *items,
    const uint32_t *gidx, size_t j)
{
	while (z->built <= j) {
		size_t k = z->built;

		if (k == 0) {
			if (ws_init(&z->snap[0]) < 0)
				goto oom;
		} else {
			z->snap[k].lo = NULL;
			z->snap[k].st = NULL;
			z->snap[k].cap = 0;
			if (ws_copy(&z->snap[k], &z->snap[k - 1]) < 0 ||
			    ws_apply(
				&z->snap[k], &items[gidx[z->zpos[k - 1]]]) < 0)
				goto oom;
		}
		z->built++;
	}
	return &z->snap[j];
oom:
	b->oom = 1;
	return NULL;
}

static uint32_t
walk_class(struct builder *b, struct zinfo *z, const struct ew_item *items,
    const uint32_t *gidx, const struct bits *act, size_t s1)
{
	const struct wstate *sn;
	size_t j, pos;
	uint32_t *m;

	if (s1 == SIZE_MAX) {
		/* only Z items: the state after all of them */
		j = z->nz;
		m = &z->memo[j * 3];
		if (*m == UINT32_MAX) {
			sn = snapshot(b, z, items, gidx, j);
			if (sn == NULL)
				return 0;
			*m = ws_class(b, sn);
		}
		return *m;
	}
	j = z->zbefore[s1];
	sn = snapshot(b, z, items, gidx, j);
	if (sn == NULL)
		return 0;
	if (sn->open == 0 && sn->noport >= 0) {
		m = &z->memo[j * 3];
		if (*m == UINT32_MAX)
			*m = ws_class(b, sn);
		return *m;
	}
	if (full_ports(&items[gidx[s1]])) {
		int acc = items[gidx[s1]].action == EW_ACCEPT;

		m = &z->memo[j * 3 + 1 + acc];
		if (*m == UINT32_MAX) {
			if (ws_copy(&z->work, sn) < 0 ||
			    ws_apply(&z->work, &items[gidx[s1]]) < 0) {
				b->oom = 1;
				return 0;
			}
			*m = ws_class(b, &z->work);
		}
		return *m;
	}
	/* the general case: walk on from the snapshot */
	if (ws_copy(&z->work, sn) < 0) {
		b->oom = 1;
		return 0;
	}
	for (pos = s1; pos != SIZE_MAX; pos = bits_next(act, pos + 1)) {
		if (ws_apply(&z->work, &items[gidx[pos]]) < 0) {
			b->oom = 1;
			return 0;
		}
		if (z->work.open == 0 && z->work.noport >= 0)
			break;
	}
	return ws_class(b, &z->work);
}

/* ---- the sweep -------------------------------------------------------- */

struct ev {
	uint64_t hi, lo; /* the boundary address; IPv4 in lo */
	uint32_t pos;    /* list position of the item; top bit: removal */
};

#define EV_REMOVE 0x80000000u

static int
ev_cmp(const void *x, const void *y)
{
	const struct ev *a = x, *b = y;

	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static void
addr_words(const struct ew_addr *a, int v6, uint64_t *hi, uint64_t *lo)
{
	int k;

	*hi = *lo = 0;
	if (!v6) {
		*lo = (uint64_t)a->b[0] << 24 | (uint64_t)a->b[1] << 16 |
		      (uint64_t)a->b[2] << 8 | a->b[3];
		return;
	}
	for (k = 0; k < 8; k++) {
		*hi = *hi << 8 | a->b[k];
		*lo = *lo << 8 | a->b[8 + k];
	}
}

/*
 * An item's prefix as [start, end): *wraps is set when end is past the
 * top of the address space (no removal event).
 */
static void
item_span(
    const struct ew_item *it, int v6, struct ev *s, struct ev *e, int *wraps)
{
	uint64_t h, l;
	unsigned m = it->maskbits;

	addr_words(&it->addr, v6, &h, &l);
	*wraps = 0;
	if (!v6) {
		uint64_t size = 1ull << (32 - m);

		s->hi = e->hi = 0;
		s->lo = l & ~(size - 1) & 0xffffffffull;
		e->lo = s->lo + size;
		*wraps = e->lo > 0xffffffffull;
		return;
	}
	if (m <= 64) {
		uint64_t mh = m == 0 ? 0 : ~0ull << (64 - m);

		s->hi = h & mh;
		s->lo = 0;
		e->lo = 0;
		e->hi = s->hi + (m == 0 ? 0 : 1ull << (64 - m));
		*wraps = m == 0 || e->hi == 0;
	} else {
		uint64_t ml = m == 128 ? ~0ull : ~0ull << (128 - m);
		uint64_t add = m == 128 ? 1 : 1ull << (128 - m);

		s->hi = h;
		s->lo = l & ml;
		e->lo = s->lo + add;
		e->hi = s->hi + (e->lo == 0);
		*wraps = e->hi == 0 && e->lo == 0;
	}
}

struct ivs {
	uint64_t *hi, *lo;
	uint32_t *cls;
	size_t n, cap;
};

static int
ivs_push(struct ivs *v, uint64_t hi, uint64_t lo, uint32_t cls)
{
	if (v->n > 0 && v->cls[v->n - 1] == cls)
		return 0; /* same answer as the interval before: merge */
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		uint64_t *a = realloc(v->hi, cap * sizeof(*a)), *b2;
		uint32_t *c;

		if (a == NULL)
			return -1;
		v->hi = a;
		b2 = realloc(v->lo, cap * sizeof(*b2));
		if (b2 == NULL)
			return -1;
		v->lo = b2;
		c = realloc(v->cls, cap * sizeof(*c));
		if (c == NULL)
			return -1;
		v->cls = c;
		v->cap = cap;
	}
	v->hi[v->n] = hi;
	v->lo[v->n] = lo;
	v->cls[v->n] = cls;
	v->n++;
	return 0;
}

static void
ivs_free(struct ivs *v)
{
	free(v->hi);
	free(v->lo);
	free(v->cls);
}

/* Sweep one family into merged intervals (starts and classes). */
static int
sweep(struct builder *b, int v6, struct ivs *out)
{
	const struct ew_compiled *c = b->c;
	const struct ew_item *items = c->items;
	int fam = v6 ? EW_AF_INET6 : EW_AF_INET;
	uint32_t *gidx = NULL, *zpos = NULL;
	struct ev *ev = NULL;
	size_t n = 0, i, ne = 0, k;
	struct bits act, spec;
	struct zinfo z;
	int r = -1;

	memset(&act, 0, sizeof(act));
	memset(&spec, 0, sizeof(spec));
	memset(&z, 0, sizeof(z));
	for (i = 0; i < c->nitems; i++)
		n += items[i].addr.family == fam;
	gidx = malloc((n + 1) * sizeof(*gidx));
	zpos = malloc((n + 1) * sizeof(*zpos));
	z.zbefore = malloc((n + 1) * sizeof(*z.zbefore));
	ev = malloc((2 * n + 1) * sizeof(*ev));
	if (gidx == NULL || zpos == NULL || z.zbefore == NULL || ev == NULL ||
	    bits_init(&act, n) < 0 || bits_init(&spec, n) < 0 ||
	    ws_init(&z.work) < 0)
		goto out;
	n = 0;
	for (i = 0; i < c->nitems; i++) {
		struct ev s, e;
		int wraps;

		if (items[i].addr.family != fam)
			continue;
		gidx[n] = (uint32_t)i;
		z.zbefore[n] = (uint32_t)z.nz;
		if (items[i].maskbits == 0) {
			/* active everywhere */
			zpos[z.nz++] = (uint32_t)n;
			bits_set(&act, n);
			n++;
			continue;
		}
		item_span(&items[i], v6, &s, &e, &wraps);
		s.pos = (uint32_t)n;
		ev[ne++] = s;
		if (!wraps) {
			e.pos = (uint32_t)n | EV_REMOVE;
			ev[ne++] = e;
		}
		n++;
	}
	z.zpos = zpos;
	z.snap = calloc(z.nz + 1, sizeof(*z.snap));
	z.memo = malloc((z.nz + 1) * 3 * sizeof(*z.memo));
	if (z.snap == NULL || z.memo == NULL)
		goto out;
	memset(z.memo, 0xff, (z.nz + 1) * 3 * sizeof(*z.memo));
	qsort(ev, ne, sizeof(*ev), ev_cmp);
	/* interval 0 starts at address 0 */
	i = 0;
	{
		uint64_t ch = 0, cl = 0;

		for (;;) {
			uint32_t cls;

			while (i < ne && ev[i].hi == ch && ev[i].lo == cl) {
				size_t p = ev[i].pos & ~EV_REMOVE;

				if (ev[i].pos & EV_REMOVE) {
					bits_clear(&act, p);
					bits_clear(&spec, p);
				} else {
					bits_set(&act, p);
					bits_set(&spec, p);
				}
				i++;
			}
			cls = walk_class(
			    b, &z, items, gidx, &act, bits_next(&spec, 0));
			if (b->oom || ivs_push(out, ch, cl, cls) < 0)
				goto out;
			if (i >= ne)
				break;
			ch = ev[i].hi;
			cl = ev[i].lo;
		}
	}
	r = 0;
out:
	if (z.snap != NULL)
		for (k = 0; k < z.built; k++)
			ws_free(&z.snap[k]);
	free(z.snap);
	free(z.memo);
	free(z.zbefore);
	ws_free(&z.work);
	bits_free(&act);
	bits_free(&spec);
	free(gidx);
	free(zpos);
	free(ev);
	return r;
}

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

/* The sub-directory slot of hi in a /16's s-bit sub-directory. */
static inline uint32_t
sub6_key(uint64_t hi, unsigned s)
{
	return (uint32_t)(((hi << 16) >> 1) >> (63 - s));
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
			while (i < e && sub6_key(f->s6[2 * i], bits) < k)
				i++;
			sub[k] = (uint32_t)i;
		}
		sub[k] = e;
	}
	return 0;
}

/* The directory and the packed arrays of one family. */
static int
pack(struct ew_compiled *c, struct ew_fam *f, const struct ivs *v, int v6)
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

static int
u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* The index of the port interval starting at port p (bnd[] sorted). */
static uint32_t
pint(const uint32_t *bnd, uint32_t k, uint32_t p)
{
	uint32_t lo = 0, hi = k;

	while (hi - lo > 1) {
		uint32_t m = (lo + hi) / 2;

		if (bnd[m] <= p)
			lo = m;
		else
			hi = m;
	}
	return lo;
}

/*
 * For every port interval, the first item (list order) of the selected
 * kind whose ports hold it: each interval is assigned once, so the whole
 * list costs O(items log + intervals).  kind 0: mask-0 items (any
 * action); 1: other accepts; 2: other rejects.
 */
static void
first_cover(const struct ew_compiled *c, int kind, const uint32_t *bnd,
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
		a = pint(bnd, k, it->pmin);
		z = pint(bnd, k, it->pmax);
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
static int
build_unknown(struct ew_compiled *c, int keep_deciders)
{
	uint32_t *bnd, *next = NULL, *dec = NULL, *acc = NULL, *rej = NULL;
	uint32_t k = 0, p, i;
	size_t j;
	int r = -1;

	bnd = malloc((2 * c->nitems + 2) * sizeof(*bnd));
	if (bnd == NULL)
		return -1;
	bnd[k++] = 1;
	for (j = 0; j < c->nitems; j++) {
		bnd[k++] = c->items[j].pmin;
		if (c->items[j].pmax < 65535)
			bnd[k++] = (uint32_t)c->items[j].pmax + 1;
	}
	qsort(bnd, k, sizeof(*bnd), u32_cmp);
	for (i = 1, p = 1; i < k; i++)
		if (bnd[i] != bnd[p - 1])
			bnd[p++] = bnd[i];
	k = p;
	next = malloc((k + 1) * sizeof(*next));
	dec = malloc(k * sizeof(*dec));
	acc = malloc(k * sizeof(*acc));
	rej = malloc(k * sizeof(*rej));
	if (next == NULL || dec == NULL || acc == NULL || rej == NULL)
		goto out;
	first_cover(c, 0, bnd, k, next, dec);
	first_cover(c, 1, bnd, k, next, acc);
	first_cover(c, 2, bnd, k, next, rej);
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
	free(next);
	free(dec);
	free(acc);
	free(rej);
	return r;
}

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
	uint64_t h = mix((uint64_t)fam << 8 | mask, 0);
	uint64_t w0, w1;

	memcpy(&w0, b, 8);
	memcpy(&w1, b + 8, 8);
	return (size_t)mix(mix(h, w0), w1);
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

static int
build_explain(struct ew_compiled *c)
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

/* ---- public ----------------------------------------------------------- */

void
ew_compiled_free(struct ew_compiled *c)
{
	struct ew_fam *f[2];
	int k;

	if (c == NULL)
		return;
	f[0] = &c->f4;
	f[1] = &c->f6;
	for (k = 0; k < 2; k++) {
		free(f[k]->dir);
		free(f[k]->lo16);
		free(f[k]->e4);
		free(f[k]->s4);
		free(f[k]->s6hi);
		free(f[k]->s6lo);
		free(f[k]->s6);
		free(f[k]->e6);
		free(f[k]->l6);
		free(f[k]->sub);
		free(f[k]->suboff);
		free(f[k]->c16);
		free(f[k]->c32);
	}
	free(c->classes);
	free(c->leafids);
	free(c->leaves);
	free(c->rlo);
	free(c->racc);
	free(c->unknown_dec);
	free(c->dn);
	free(c->dlist);
	free(c);
}

int
ew_compile(
    const struct ew_expanded *e, unsigned flags, struct ew_compiled **out)
{
	struct ew_compiled *c = calloc(1, sizeof(*c));
	struct builder b;
	struct ivs v4, v6;
	int r = -ENOMEM;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	if (c == NULL)
		return -ENOMEM;
	c->items = e->items;
	c->nitems = e->n;
	b.c = c;
	b.capclasses = 16;
	c->classes = calloc(b.capclasses, sizeof(*c->classes));
	b.koff = calloc(b.capclasses, sizeof(*b.koff));
	if (c->classes == NULL || b.koff == NULL)
		goto out;
	c->classes[EW_CLASS_REJECT].noport = EW_REJECTED;
	c->classes[EW_CLASS_REJECT].uniform = 1;
	c->classes[EW_CLASS_ACCEPT].noport = EW_ACCEPTED;
	c->classes[EW_CLASS_ACCEPT].uniform = 2;
	c->nclasses = 2;
	if (sweep(&b, 0, &v4) < 0 || sweep(&b, 1, &v6) < 0 || b.oom)
		goto out;
	if (pack(c, &c->f4, &v4, 0) < 0 || pack(c, &c->f6, &v6, 1) < 0)
		goto out;
	if (build_unknown(c, flags & EW_COMPILE_EXPLAIN) < 0)
		goto out;
	if ((flags & EW_COMPILE_EXPLAIN) && build_explain(c) < 0)
		goto out;
	c->bytes += c->nclasses * sizeof(*c->classes) +
		    (b.nmaps * 256) * sizeof(uint16_t) + c->nleaves * 32 +
		    c->nrpool * 3 + sizeof(c->unknown);
	r = 0;
out:
	free(b.cslot);
	free(b.koff);
	free(b.kpool);
	free(b.lslot);
	free(b.key);
	ivs_free(&v4);
	ivs_free(&v6);
	if (r < 0)
		ew_compiled_free(c);
	else
		*out = c;
	return r;
}

size_t
ew_compiled_bytes(const struct ew_compiled *c)
{
	return c->bytes;
}

size_t
ew_compiled_intervals(const struct ew_compiled *c, int family)
{
	return family == EW_AF_INET ? c->f4.n : c->f6.n;
}

size_t
ew_compiled_classes(const struct ew_compiled *c)
{
	return c->nclasses;
}

static inline uint32_t
cls_at(const struct ew_fam *f, size_t i)
{
	return f->c16 != NULL ? f->c16[i] : f->c32[i];
}

static inline size_t
find4_small(const struct ew_fam *f, uint32_t a)
{
	size_t i = 1;

	while (i < f->n && f->s4[i] <= a)
		i++;
	return i - 1;
}

static inline size_t
find6_small(const struct ew_fam *f, uint64_t hi, uint64_t lo)
{
	size_t i = 1;

	while (i < f->n &&
	       (f->s6hi[i] < hi || (f->s6hi[i] == hi && f->s6lo[i] <= lo)))
		i++;
	return i - 1;
}

static inline size_t find4(const struct ew_fam *f, uint32_t a);

/* The class of the interval holding a, through the directory. */
static inline uint32_t
cls4(const struct ew_fam *f, uint32_t a)
{
	uint32_t b = f->dir[a >> 16], e = f->dir[(a >> 16) + 1];
	uint32_t key = a << 16 | 0xffff;

	uint32_t n = e - b;

	if (f->e4 == NULL)
		return cls_at(f, find4(f, a));
	/* branch-free, as find6 */
	b--;
	while (n > 0) {
		uint32_t half = (n + 1) / 2;

		b = f->e4[b + half] <= key ? b + half : b;
		n -= half;
	}
	return f->e4[b] & 0xffff;
}

static inline size_t
find4(const struct ew_fam *f, uint32_t a)
{
	uint32_t lo = a & 0xffff, b = f->dir[a >> 16],
		 e = f->dir[(a >> 16) + 1];

	while (b < e) {
		uint32_t m = (b + e) >> 1;

		if (f->lo16[m] <= lo)
			b = m + 1;
		else
			e = m;
	}
	return b - 1;
}

/* The window of intervals that can hold (hi, ...): from the /16's
 * sub-directory, or its directory entry when there are none. */
static inline void
window6(const struct ew_fam *f, uint64_t hi, uint32_t *b, uint32_t *n)
{
	uint32_t h = (uint32_t)(hi >> 48);

	if (f->suboff != NULL) {
		uint32_t so = f->suboff[h];
		const uint32_t *sub;

		if ((so & 31) == EW_SUB_EMPTY) {
			*b = so >> 5;
			*n = 0;
			return;
		}
		sub = &f->sub[(so >> 5) + sub6_key(hi, so & 31)];
		*b = sub[0];
		*n = sub[1] - *b;
	} else {
		*b = f->dir[h];
		*n = f->dir[h + 1] - *b;
	}
}

/*
 * Branch-free: the last of the n entries from b whose start is at or
 * below (hi, lo), or b - 1.  Starts are (high, low) pairs, so a step
 * reads one cache line.
 */
static inline size_t
search6(
    const struct ew_fam *f, uint64_t hi, uint64_t lo, uint32_t b, uint32_t n)
{
	__extension__ unsigned __int128 key = (unsigned __int128)hi << 64 | lo;

	b--;
	while (n > 0) {
		uint32_t half = (n + 1) / 2, m = b + half;
		const uint64_t *p = &f->s6[2 * (size_t)m];
		/* one 128-bit compare, so the compiler keeps it branch-free */
		__extension__ unsigned __int128 s6 =
		    (unsigned __int128)p[0] << 64 | p[1];

		b = s6 <= key ? m : b;
		n -= half;
	}
	return b;
}

/*
 * With e6: the high halves of the window's entries [b, x] are all at or
 * below hi, and x's equals it.  The last entry of [b, x] whose start is
 * at or below (hi, lo), or b - 1.
 */
static uint32_t
tie6(const struct ew_fam *f, uint64_t hi, uint64_t lo, uint32_t b, uint32_t x)
{
	uint64_t h48 = hi & 0xffffffffffffull;
	uint32_t e = x + 1;

	while (b < e) {
		uint32_t m = b + (e - b) / 2;

		if ((f->e6[m] >> 16) < h48 || f->l6[m] <= lo)
			b = m + 1;
		else
			e = m;
	}
	return b - 1;
}

/*
 * With e6: the class of the interval holding (hi, lo), searching the n
 * entries from b.  Branch-free on the high halves (the window lies in
 * one /16, so 48 bits decide); the low halves only on a tie.
 */
static inline uint32_t
cls6(const struct ew_fam *f, uint64_t hi, uint64_t lo, uint32_t b, uint32_t n)
{
	uint64_t key = hi << 16 | 0xffff;
	uint32_t x = b - 1;

	if (n <= EW_LIN6) {
		/* a few: count them, no chain of dependent loads, and no
		 * line beyond the window (e6[f->n] is there to be read) */
		uint32_t k, lastk = n - (n != 0);

		for (k = 0; k < EW_LIN6; k++) {
			uint32_t at = b + (k < lastk ? k : lastk);

			x += (k < n) & (f->e6[at] <= key);
		}
		n = 0;
	}
	while (n > 0) {
		uint32_t half = (n + 1) / 2;

		x = f->e6[x + half] <= key ? x + half : x;
		n -= half;
	}
	/* x is a valid entry even when b - 1: interval 0 starts at 0 */
	if (__builtin_expect((x != b - 1) & ((f->e6[x] | 0xffff) == key), 0))
		x = tie6(f, hi, lo, b, x);
	return (uint32_t)(f->e6[x] & 0xffff);
}

static inline size_t
find6(const struct ew_fam *f, uint64_t hi, uint64_t lo)
{
	uint32_t b, n;

	window6(f, hi, &b, &n);
	return search6(f, hi, lo, b, n);
}

static inline enum ew_verdict
by_class(const struct ew_compiled *c, uint32_t k, uint16_t port)
{
	const struct ew_class *cl = &c->classes[k];
	const uint64_t *leaf;

	if (port == 0)
		return (enum ew_verdict)cl->noport;
	if (cl->uniform == 3) {
		unsigned r = 1;

		while (r < cl->nruns && cl->lo[r] <= port)
			r++;
		return (cl->accbits >> (r - 1)) & 1 ? EW_ACCEPTED : EW_REJECTED;
	}
	if (cl->uniform == 4) {
		/* the last run starting at or below the port */
		uint32_t lo = cl->map, hi = cl->map + cl->lo[0];

		while (hi - lo > 1) {
			uint32_t m = (lo + hi) >> 1;

			if (c->rlo[m] <= port)
				lo = m;
			else
				hi = m;
		}
		return c->racc[lo] ? EW_ACCEPTED : EW_REJECTED;
	}
	if (cl->uniform)
		return cl->uniform == 2 ? EW_ACCEPTED : EW_REJECTED;
	leaf = &c->leaves[(size_t)c->leafids[cl->map + (port >> 8)] * 4];
	return (leaf[(port & 255) >> 6] >> (port & 63)) & 1 ? EW_ACCEPTED
							    : EW_REJECTED;
}

enum ew_verdict
ew_match4(const struct ew_compiled *c, uint32_t addr, uint16_t port)
{
	const struct ew_fam *f = &c->f4;

	if (addr == 0)
		return (enum ew_verdict)c->unknown[port];
	if (f->dir == NULL)
		return by_class(c, f->c32[find4_small(f, addr)], port);
	return by_class(c, cls4(f, addr), port);
}

enum ew_verdict
ew_match(const struct ew_compiled *c, const struct ew_addr *a, uint16_t port)
{
	uint64_t hi, lo;

	if (a == NULL)
		return (enum ew_verdict)c->unknown[port];
	if (a->family == EW_AF_INET)
		return ew_match4(c, ew_addr_get4(a), port);
	if (a->family != EW_AF_INET6)
		return (enum ew_verdict)c->unknown[port];
	memcpy(&hi, a->b, 8);
	memcpy(&lo, a->b + 8, 8);
	if ((hi | lo) == 0)
		return (enum ew_verdict)c->unknown[port];
	hi = __builtin_bswap64(hi);
	lo = __builtin_bswap64(lo);
	if (c->f6.n <= EW_SMALL_INTERVALS)
		return by_class(
		    c, c->f6.c32[find6_small(&c->f6, hi, lo)], port);
	if (c->f6.e6 != NULL) {
		uint32_t b, n;

		window6(&c->f6, hi, &b, &n);
		return by_class(c, cls6(&c->f6, hi, lo, b, n), port);
	}
	return by_class(c, cls_at(&c->f6, find6(&c->f6, hi, lo)), port);
}

void
ew_match4_batch(const struct ew_compiled *c, size_t n, const uint32_t *addrs,
    const uint16_t *ports, uint8_t *out)
{
	const struct ew_fam *f = &c->f4;
	size_t i, j;

	if (f->dir == NULL || f->e4 == NULL) {
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)ew_match4(c, addrs[i], ports[i]);
		return;
	}
	for (i = 0; i < n; i += 16) {
		size_t m = n - i < 16 ? n - i : 16;
		uint32_t b[16], e[16];

		for (j = 0; j < m; j++)
			__builtin_prefetch(&f->dir[addrs[i + j] >> 16]);
		for (j = 0; j < m; j++) {
			uint32_t h = addrs[i + j] >> 16;

			b[j] = f->dir[h];
			e[j] = f->dir[h + 1];
			__builtin_prefetch(&f->e4[(b[j] + e[j]) >> 1]);
		}
		for (j = 0; j < m; j++) {
			uint32_t a = addrs[i + j], key = a << 16 | 0xffff;
			uint32_t x = b[j] - 1, cnt = e[j] - b[j];

			if (a == 0) {
				out[i + j] = c->unknown[ports[i + j]];
				continue;
			}
			while (cnt > 0) {
				uint32_t half = (cnt + 1) / 2;

				x = f->e4[x + half] <= key ? x + half : x;
				cnt -= half;
			}
			out[i + j] = (uint8_t)by_class(
			    c, f->e4[x] & 0xffff, ports[i + j]);
		}
	}
}

/*
 * ew_match_batch with e6, software-pipelined in four stages EW_AHEAD6
 * queries apart: while query t is answered, the class of query
 * t + EW_AHEAD6, the entries of t + 2 * EW_AHEAD6 and the sub-directory
 * entry of t + 3 * EW_AHEAD6 are on their way (the /16 directories are
 * few lines, hot).  Queries that are not known IPv6 addresses take the
 * plain path.  Below EW_BATCH6_MIN intervals everything is in cache and
 * single lookups are faster.
 */
#define EW_AHEAD6 12
#define EW_BATCH6_MIN 32768 /* intervals, 256 KiB of entries */
#define EW_RING6 64         /* a power of two, at least 3 * EW_AHEAD6 + 1 */

struct q6 {
	uint64_t hi, lo;
	const uint32_t *sub; /* the sub-directory entry, or NULL */
	uint32_t b, n;
	uint8_t v6;
};

/* First stage: decode query t, find its window or sub-directory entry. */
static inline void
q6_start(const struct ew_fam *f, const struct ew_addr *a, struct q6 *q)
{
	uint32_t h;

	q->v6 = 0;
	if (a->family != EW_AF_INET6)
		return;
	memcpy(&q->hi, a->b, 8);
	memcpy(&q->lo, a->b + 8, 8);
	if ((q->hi | q->lo) == 0)
		return;
	q->hi = __builtin_bswap64(q->hi);
	q->lo = __builtin_bswap64(q->lo);
	q->v6 = 1;
	h = (uint32_t)(q->hi >> 48);
	q->sub = NULL;
	if (f->suboff == NULL) {
		q->b = f->dir[h];
		q->n = f->dir[h + 1] - q->b;
	} else if ((f->suboff[h] & 31) == EW_SUB_EMPTY) {
		q->b = f->suboff[h] >> 5;
		q->n = 0;
	} else {
		q->sub = &f->sub[(f->suboff[h] >> 5) +
				 sub6_key(q->hi, f->suboff[h] & 31)];
		__builtin_prefetch(q->sub);
	}
}

/* Second stage: the window from the sub-directory; fetch its entries. */
static inline void
q6_window(const struct ew_fam *f, struct q6 *q)
{
	if (!q->v6)
		return;
	if (q->sub != NULL) {
		q->b = q->sub[0];
		q->n = q->sub[1] - q->b;
	}
	/* cls6 reads entries b - 1 to b + n - 1: mostly one line */
	__builtin_prefetch(&f->e6[q->b - (q->b != 0)]);
	__builtin_prefetch(&f->e6[q->b + q->n - (q->n != 0)]);
}

static void
match6_batch(const struct ew_compiled *c, size_t n, const struct ew_addr *addrs,
    const uint16_t *ports, uint8_t *out)
{
	const struct ew_fam *f = &c->f6;
	struct q6 ring[EW_RING6];
	size_t t;

	for (t = 0; t < n + 3 * EW_AHEAD6; t++) {
		if (t < n)
			q6_start(f, &addrs[t], &ring[t % EW_RING6]);
		if (t >= EW_AHEAD6 && t - EW_AHEAD6 < n)
			q6_window(f, &ring[(t - EW_AHEAD6) % EW_RING6]);
		if (t >= 2 * EW_AHEAD6 && t - 2 * EW_AHEAD6 < n) {
			struct q6 *q = &ring[(t - 2 * EW_AHEAD6) % EW_RING6];

			if (q->v6) {
				q->b = cls6(f, q->hi, q->lo, q->b, q->n);
				__builtin_prefetch(&c->classes[q->b]);
			}
		}
		if (t >= 3 * EW_AHEAD6) {
			size_t u = t - 3 * EW_AHEAD6;
			const struct q6 *q = &ring[u % EW_RING6];

			out[u] =
			    (uint8_t)(q->v6 ? by_class(c, q->b, ports[u])
					    : ew_match(c, &addrs[u], ports[u]));
		}
	}
}

void
ew_match_batch(const struct ew_compiled *c, size_t n,
    const struct ew_addr *addrs, const uint16_t *ports, uint8_t *out)
{
	const struct ew_fam *f = &c->f6;
	size_t i;

	if (f->n <= EW_SMALL_INTERVALS) {
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)ew_match(c, &addrs[i], ports[i]);
		return;
	}
	if (f->e6 != NULL && f->n >= EW_BATCH6_MIN) {
		match6_batch(c, n, addrs, ports, out);
		return;
	}
	if (f->e6 != NULL) {
		/* the entries are cache-resident: prefetching costs more
		 * than it hides */
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)ew_match(c, &addrs[i], ports[i]);
		return;
	}
	/*
	 * Eight queries at a time, in three passes, so that their cache
	 * misses overlap: the directory entries, then the window of
	 * intervals (its middle), then the searches.  Queries that are not
	 * known IPv6 addresses take the plain path in the last pass.
	 */
	for (i = 0; i < n; i += 8) {
		size_t m = n - i < 8 ? n - i : 8, j;
		uint64_t hi[8], lo[8];
		uint32_t b[8], cnt[8];
		uint8_t v6[8];

		for (j = 0; j < m; j++) {
			const struct ew_addr *a = &addrs[i + j];

			v6[j] = 0;
			if (a->family != EW_AF_INET6)
				continue;
			memcpy(&hi[j], a->b, 8);
			memcpy(&lo[j], a->b + 8, 8);
			if ((hi[j] | lo[j]) == 0)
				continue;
			hi[j] = __builtin_bswap64(hi[j]);
			lo[j] = __builtin_bswap64(lo[j]);
			v6[j] = 1;
			if (f->suboff != NULL)
				__builtin_prefetch(&f->suboff[hi[j] >> 48]);
			else
				__builtin_prefetch(&f->dir[hi[j] >> 48]);
		}
		for (j = 0; j < m; j++) {
			if (!v6[j])
				continue;
			window6(f, hi[j], &b[j], &cnt[j]);
			__builtin_prefetch(
			    &f->s6[2 * (size_t)(b[j] + cnt[j] / 2)]);
		}
		for (j = 0; j < m; j++) {
			if (!v6[j]) {
				out[i + j] = (uint8_t)ew_match(
				    c, &addrs[i + j], ports[i + j]);
				continue;
			}
			out[i + j] = (uint8_t)by_class(c,
			    cls_at(f, search6(f, hi[j], lo[j], b[j], cnt[j])),
			    ports[i + j]);
		}
	}
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
