/*
 * compile.c - an expanded policy compiled into the lookup structure of
 * compile_int.h: classes and the sweep (pack.c lays the intervals out,
 * explain.c files the deciding items, match.c holds the lookups).
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

/*
 * Classes are hash-consed on their keys during the sweep; how each one
 * is laid out for lookups is decided afterwards, when their number is
 * known (pack.c, ew_compile_classes).
 */
struct builder {
	struct ew_compiled *c;
	size_t capclasses;
	/* class hash: slots hold class ids; keys kept in a pool */
	uint32_t *cslot;
	size_t ccap;
	uint32_t *koff; /* per class: offset of its key in kpool */
	uint32_t *kpool;
	size_t kn, kcap;
	uint32_t *key;
	size_t capkey;
	int oom;
};

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

/* Four independent lanes: the multiplications overlap. */
static uint64_t
key_hash(const uint32_t *key, size_t n)
{
	uint64_t h[4] = { 11, 13, 17, 19 };
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		h[0] = ew_mix(h[0], (uint64_t)key[i] << 32 | key[i + 1]);
		h[1] = ew_mix(h[1], (uint64_t)key[i + 2] << 32 | key[i + 3]);
		h[2] = ew_mix(h[2], (uint64_t)key[i + 4] << 32 | key[i + 5]);
		h[3] = ew_mix(h[3], (uint64_t)key[i + 6] << 32 | key[i + 7]);
	}
	for (; i < n; i++)
		h[0] = ew_mix(h[0], key[i]);
	return ew_mix(ew_mix(h[0], h[1]), ew_mix(h[2], h[3] + n));
}

/* Room for class k's key in the pool and its entry in the table. */
static int
class_room(struct builder *b, size_t k, size_t n)
{
	struct ew_compiled *c = b->c;
	struct ew_class *nc =
	    grow(c->classes, &b->capclasses, k + 1, sizeof(*nc));
	uint32_t *no, *np;

	if (nc == NULL)
		return -1;
	c->classes = nc;
	no = realloc(b->koff, b->capclasses * sizeof(*no));
	if (no == NULL)
		return -1;
	b->koff = no;
	np = grow(b->kpool, &b->kcap, b->kn + n + 1, sizeof(*np));
	if (np == NULL)
		return -1;
	b->kpool = np;
	return 0;
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
	if (k >= UINT32_MAX / 2 || b->kn + n + 1 >= UINT32_MAX ||
	    class_room(b, k, n) < 0) {
		b->oom = 1;
		return 0;
	}
	b->koff[k] = (uint32_t)b->kn;
	b->kpool[b->kn] = (uint32_t)n;
	memcpy(&b->kpool[b->kn + 1], key, n * sizeof(*key));
	b->kn += n + 1;
	memset(&c->classes[k], 0, sizeof(c->classes[k]));
	c->classes[k].noport = (uint8_t)key[0];
	b->cslot[i] = (uint32_t)k;
	c->nclasses++;
	return (uint32_t)k;
}

/*
 * What the sweep needs of an item, by family-local list position, in 8
 * bytes: the sweep visits positions in address order, so in no order at
 * all in the list, and one line per visit is what the whole item would
 * cost.
 */
struct meta {
	uint32_t zb; /* Z items before it (M_ZB), M_ACCEPT, M_Z */
	uint16_t pmin, pmax;
};

#define M_ACCEPT 0x80000000u
#define M_Z 0x40000000u /* a mask-0 item, active everywhere */
#define M_ZB 0x3fffffffu

static int
full_ports(const struct meta *m)
{
	return m->pmin <= 1 && m->pmax >= 65535;
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
ws_reserve(struct wstate *w, size_t need)
{
	size_t cap = w->cap ? w->cap : 16;
	uint16_t *nl;
	uint8_t *ns;

	if (need <= w->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	nl = realloc(w->lo, cap * sizeof(*nl));
	if (nl == NULL)
		return -1;
	w->lo = nl;
	ns = realloc(w->st, cap);
	if (ns == NULL)
		return -1;
	w->st = ns;
	w->cap = cap;
	return 0;
}

static int
ws_init(struct wstate *w)
{
	if (ws_reserve(w, 16) < 0)
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
	w->cap = 0;
}

static int
ws_copy(struct wstate *d, const struct wstate *s)
{
	if (ws_reserve(d, s->n) < 0)
		return -1;
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
	if (ws_reserve(w, w->n + 1) < 0)
		return -1;
	memmove(&w->lo[a + 2], &w->lo[a + 1], (w->n - a - 1) * sizeof(*w->lo));
	memmove(&w->st[a + 2], &w->st[a + 1], w->n - a - 1);
	w->lo[a + 1] = (uint16_t)port;
	w->st[a + 1] = w->st[a];
	if (w->st[a] == 0)
		w->open++;
	w->n++;
	return (ptrdiff_t)a + 1;
}

/* The port-0 answer of an item of action acc at a walk's flags. */
static int
noport_at(int acc, int maybe_acc, int maybe_rej)
{
	return acc ? (maybe_rej ? EW_PROBABLY_ACCEPTED : EW_ACCEPTED)
		   : (maybe_acc ? EW_PROBABLY_REJECTED : EW_REJECTED);
}

/* One step of tor's walk: the item matches the address. */
static int
ws_apply(struct wstate *w, const struct meta *it)
{
	int acc = (it->zb & M_ACCEPT) != 0;
	ptrdiff_t f;
	size_t k;

	if (w->noport < 0) {
		if (full_ports(it))
			w->noport = noport_at(acc, w->maybe_acc, w->maybe_rej);
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
 * that state and s's action, so it is remembered.  Once the walk is past
 * the last other active item only Z items remain, and their effect is
 * known in advance: finish_z.
 */
struct zinfo {
	size_t nz;
	const uint32_t *zpos; /* positions of the Z items */
	const struct meta *meta;
	struct wstate *snap; /* snap[j]: after the first j Z items */
	size_t built;        /* snapshots built so far */
	uint32_t *memo;      /* [j*3 + 0] all Z, [+1] then reject,
				[+2] then accept; UINT32_MAX unknown */
	uint8_t *zno;        /* [j*4 + flags]: the port-0 answer of a walk
				with these flags (1 maybe accept, 2 maybe
				reject) through the Z items from the j-th */
	struct wstate work, fin;
};

static const struct wstate *
snapshot(struct builder *b, struct zinfo *z, size_t j)
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
			    ws_apply(&z->snap[k], &z->meta[z->zpos[k - 1]]) < 0)
				goto oom;
		}
		z->built++;
	}
	return &z->snap[j];
oom:
	b->oom = 1;
	return NULL;
}

/* The port-0 answer of a walk with these flags after the j-th Z item
 * onwards (the table is filled backwards on first use). */
static int
z_noport(struct zinfo *z, size_t j, int maybe_acc, int maybe_rej)
{
	size_t k;
	int f;

	if (z->zno[z->nz * 4] == 0xff) {
		for (f = 0; f < 4; f++)
			z->zno[z->nz * 4 + f] =
			    (uint8_t)(f & 2 ? EW_PROBABLY_ACCEPTED
					    : EW_ACCEPTED);
		for (k = z->nz; k-- > 0;) {
			const struct meta *m = &z->meta[z->zpos[k]];
			int acc = (m->zb & M_ACCEPT) != 0;

			for (f = 0; f < 4; f++)
				z->zno[k * 4 + f] =
				    full_ports(m)
					? (uint8_t)noport_at(acc, f & 1, f & 2)
					: z->zno[(k + 1) * 4 +
						 (f | (acc ? 1 : 2))];
		}
	}
	return z->zno[j * 4 + (maybe_acc ? 1 : 0) + (maybe_rej ? 2 : 0)];
}

static int
ws_push(struct wstate *w, uint32_t lo, uint8_t st)
{
	if (ws_reserve(w, w->n + 1) < 0)
		return -1;
	w->lo[w->n] = (uint16_t)lo;
	w->st[w->n++] = st;
	return 0;
}

/*
 * The class of walk state w taken on through the Z items from the j-th:
 * those are all that is left, so a port w left open is decided as the Z
 * items alone decide it (the state after all of them), and the port-0
 * answer comes from z_noport.  One merge instead of a step per Z item.
 */
static uint32_t
finish_z(struct builder *b, struct zinfo *z, const struct wstate *w, size_t j)
{
	const struct wstate *f = snapshot(b, z, z->nz);
	struct wstate *o = &z->fin;
	size_t k, q = 0;

	if (f == NULL)
		return 0;
	o->n = 0;
	for (k = 0; k < w->n; k++) {
		uint32_t lo = w->lo[k];
		uint32_t hi = k + 1 < w->n ? w->lo[k + 1] : 65536;

		if (w->st[k] != 0) {
			if (ws_push(o, lo, w->st[k]) < 0)
				goto oom;
			continue;
		}
		while (q + 1 < f->n && f->lo[q + 1] <= lo)
			q++;
		if (ws_push(o, lo, f->st[q]) < 0)
			goto oom;
		while (q + 1 < f->n && f->lo[q + 1] < hi) {
			q++;
			if (ws_push(o, f->lo[q], f->st[q]) < 0)
				goto oom;
		}
	}
	o->noport = w->noport >= 0 ? w->noport
				   : z_noport(z, j, w->maybe_acc, w->maybe_rej);
	return ws_class(b, o);
oom:
	b->oom = 1;
	return 0;
}

static uint32_t
walk_class(struct builder *b, struct zinfo *z, const struct bits *act,
    const struct bits *spec)
{
	const struct meta *meta = z->meta;
	const struct wstate *sn;
	size_t j, pos, s1 = bits_next(spec, 0);
	uint32_t *m;

	if (s1 == SIZE_MAX) {
		/* only Z items: the state after all of them */
		j = z->nz;
		m = &z->memo[j * 3];
		if (*m == UINT32_MAX) {
			sn = snapshot(b, z, j);
			if (sn == NULL)
				return 0;
			*m = ws_class(b, sn);
		}
		return *m;
	}
	j = meta[s1].zb & M_ZB;
	sn = snapshot(b, z, j);
	if (sn == NULL)
		return 0;
	if (sn->open == 0 && sn->noport >= 0) {
		m = &z->memo[j * 3];
		if (*m == UINT32_MAX)
			*m = ws_class(b, sn);
		return *m;
	}
	if (full_ports(&meta[s1])) {
		int acc = (meta[s1].zb & M_ACCEPT) != 0;

		m = &z->memo[j * 3 + 1 + acc];
		if (*m == UINT32_MAX) {
			if (ws_copy(&z->work, sn) < 0 ||
			    ws_apply(&z->work, &meta[s1]) < 0) {
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
		if (ws_apply(&z->work, &meta[pos]) < 0) {
			b->oom = 1;
			return 0;
		}
		if (z->work.open == 0 && z->work.noport >= 0)
			break;
		if (!(meta[pos].zb & M_Z) &&
		    bits_next(spec, pos + 1) == SIZE_MAX)
			return finish_z(b, z, &z->work, meta[pos].zb & M_ZB);
	}
	return ws_class(b, &z->work);
}

/* ---- the sweep -------------------------------------------------------- */

/* IPv6 events; IPv4 ones are address << 32 | pos in one word. */
struct ev {
	uint64_t hi, lo; /* the boundary address */
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

/*
 * IPv4 events sorted by their high 32 bits (the address): an LSD radix
 * sort in three passes of 11 bits.  Returns the sorted array (a or the
 * scratch one; the other is freed), or NULL out of memory (a freed).
 */
static uint64_t *
sort_ev4(uint64_t *a, size_t n)
{
	uint32_t(*cnt)[2048] = calloc(3, sizeof(*cnt));
	uint64_t *t = malloc((n + 1) * sizeof(*t)), *x;
	size_t i;
	int p;

	if (cnt == NULL || t == NULL) {
		free(cnt);
		free(t);
		free(a);
		return NULL;
	}
	if (n == 0) {
		free(cnt);
		free(t);
		return a;
	}
	for (i = 0; i < n; i++) {
		cnt[0][(a[i] >> 32) & 2047]++;
		cnt[1][(a[i] >> 43) & 2047]++;
		cnt[2][(a[i] >> 54) & 1023]++;
	}
	for (p = 0; p < 3; p++) {
		unsigned sh = 32 + 11 * (unsigned)p;
		uint32_t sum = 0, c;
		size_t k;

		if (cnt[p][(a[0] >> sh) & 2047] == n)
			continue; /* one bucket: the pass keeps the order */
		for (k = 0; k < 2048; k++) {
			c = cnt[p][k];
			cnt[p][k] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			t[cnt[p][(a[i] >> sh) & 2047]++] = a[i];
		x = a;
		a = t;
		t = x;
	}
	free(t);
	free(cnt);
	return a;
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

static int
ivs_push(struct ew_ivs *v, uint64_t hi, uint64_t lo, uint32_t cls)
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
ivs_free(struct ew_ivs *v)
{
	free(v->hi);
	free(v->lo);
	free(v->cls);
}

/* The events of one family, sorted: IPv4 in e4, IPv6 in e6. */
struct evs {
	uint64_t *e4;
	struct ev *e6;
	size_t n;
};

static inline void
ev_at(const struct evs *e, size_t i, uint64_t *hi, uint64_t *lo, uint32_t *pos)
{
	if (e->e4 != NULL) {
		*hi = 0;
		*lo = e->e4[i] >> 32;
		*pos = (uint32_t)e->e4[i];
	} else {
		*hi = e->e6[i].hi;
		*lo = e->e6[i].lo;
		*pos = e->e6[i].pos;
	}
}

/* The items of one family as events and metadata; 0 or -1. */
static int
sweep_events(const struct ew_compiled *c, int v6, struct meta *meta,
    uint32_t *zpos, size_t *nz, struct evs *evs)
{
	int fam = v6 ? EW_AF_INET6 : EW_AF_INET;
	size_t n = 0, i, ne = 0;

	for (i = 0; i < c->nitems; i++) {
		const struct ew_item *it = &c->items[i];
		struct ev s, e;
		int wraps;

		if (it->addr.family != fam)
			continue;
		meta[n].zb =
		    (uint32_t)*nz | (it->action == EW_ACCEPT ? M_ACCEPT : 0);
		meta[n].pmin = it->pmin;
		meta[n].pmax = it->pmax;
		if (it->maskbits == 0) {
			/* active everywhere */
			meta[n].zb |= M_Z;
			zpos[(*nz)++] = (uint32_t)n++;
			continue;
		}
		item_span(it, v6, &s, &e, &wraps);
		if (v6) {
			s.pos = (uint32_t)n;
			evs->e6[ne++] = s;
			if (!wraps) {
				e.pos = (uint32_t)n | EV_REMOVE;
				evs->e6[ne++] = e;
			}
		} else {
			evs->e4[ne++] = s.lo << 32 | n;
			if (!wraps)
				evs->e4[ne++] = e.lo << 32 | n | EV_REMOVE;
		}
		n++;
	}
	evs->n = ne;
	if (v6) {
		qsort(evs->e6, ne, sizeof(*evs->e6), ev_cmp);
		return 0;
	}
	evs->e4 = sort_ev4(evs->e4, ne);
	return evs->e4 == NULL ? -1 : 0;
}

/* Sweep one family into merged intervals (starts and classes). */
static int
sweep(struct builder *b, int v6, struct ew_ivs *out)
{
	const struct ew_compiled *c = b->c;
	int fam = v6 ? EW_AF_INET6 : EW_AF_INET;
	uint32_t *zpos = NULL;
	struct meta *meta = NULL;
	struct evs evs;
	size_t n = 0, i, k;
	struct bits act, spec;
	struct zinfo z;
	int r = -1;

	memset(&act, 0, sizeof(act));
	memset(&spec, 0, sizeof(spec));
	memset(&z, 0, sizeof(z));
	memset(&evs, 0, sizeof(evs));
	for (i = 0; i < c->nitems; i++)
		n += c->items[i].addr.family == fam;
	if (n >= M_ZB)
		return -1;
	zpos = malloc((n + 1) * sizeof(*zpos));
	meta = malloc((n + 1) * sizeof(*meta));
	if (v6)
		evs.e6 = malloc((2 * n + 1) * sizeof(*evs.e6));
	else
		evs.e4 = malloc((2 * n + 1) * sizeof(*evs.e4));
	if (zpos == NULL || meta == NULL ||
	    (evs.e6 == NULL && evs.e4 == NULL) || bits_init(&act, n) < 0 ||
	    bits_init(&spec, n) < 0 || ws_init(&z.work) < 0 ||
	    ws_init(&z.fin) < 0 ||
	    sweep_events(c, v6, meta, zpos, &z.nz, &evs) < 0)
		goto out;
	for (k = 0; k < z.nz; k++)
		bits_set(&act, zpos[k]);
	z.zpos = zpos;
	z.meta = meta;
	z.snap = calloc(z.nz + 1, sizeof(*z.snap));
	z.memo = malloc((z.nz + 1) * 3 * sizeof(*z.memo));
	z.zno = malloc((z.nz + 1) * 4);
	if (z.snap == NULL || z.memo == NULL || z.zno == NULL)
		goto out;
	memset(z.memo, 0xff, (z.nz + 1) * 3 * sizeof(*z.memo));
	memset(z.zno, 0xff, (z.nz + 1) * 4);
	/* interval 0 starts at address 0 */
	i = 0;
	{
		uint64_t ch = 0, cl = 0, h = 0, l = 0;
		uint32_t pos;

		for (;;) {
			uint32_t cls;

			while (i < evs.n) {
				ev_at(&evs, i, &h, &l, &pos);
				if (h != ch || l != cl)
					break;
				if (i + 16 < evs.n) {
					/* the walk reads the meta of the
					 * items it meets, in no order */
					uint64_t h2, l2;
					uint32_t p2;

					ev_at(&evs, i + 16, &h2, &l2, &p2);
					__builtin_prefetch(
					    &meta[p2 & ~EV_REMOVE]);
				}
				if (pos & EV_REMOVE) {
					bits_clear(&act, pos & ~EV_REMOVE);
					bits_clear(&spec, pos & ~EV_REMOVE);
				} else {
					bits_set(&act, pos);
					bits_set(&spec, pos);
				}
				i++;
			}
			cls = walk_class(b, &z, &act, &spec);
			if (b->oom || ivs_push(out, ch, cl, cls) < 0)
				goto out;
			if (i >= evs.n)
				break;
			ch = h;
			cl = l;
		}
	}
	r = 0;
out:
	if (z.snap != NULL)
		for (k = 0; k < z.built; k++)
			ws_free(&z.snap[k]);
	free(z.snap);
	free(z.memo);
	free(z.zno);
	ws_free(&z.work);
	ws_free(&z.fin);
	bits_free(&act);
	bits_free(&spec);
	free(zpos);
	free(meta);
	free(evs.e4);
	free(evs.e6);
	return r;
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
		free(f[k]->sub6);
		free(f[k]->sdir);
		free(f[k]->suboff);
		free(f[k]->c16);
		free(f[k]->c32);
	}
	free(c->classes);
	free(c->leafids);
	free(c->leaves);
	free(c->pbits);
	free(c->rlo);
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
	struct ew_ivs v4, v6;
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
	c->classes[EW_CLASS_ACCEPT].noport = EW_ACCEPTED;
	c->nclasses = 2;
	if (sweep(&b, 0, &v4) < 0 || sweep(&b, 1, &v6) < 0 || b.oom)
		goto out;
	if (ew_compile_classes(c, b.kpool, b.koff) < 0)
		goto out;
	if (ew_compile_pack(c, &c->f4, &v4, 0) < 0 ||
	    ew_compile_pack(c, &c->f6, &v6, 1) < 0)
		goto out;
	if (ew_compile_unknown(c, flags & EW_COMPILE_EXPLAIN) < 0)
		goto out;
	if ((flags & EW_COMPILE_EXPLAIN) && ew_compile_explain_index(c) < 0)
		goto out;
	c->bytes += sizeof(c->unknown);
	r = 0;
out:
	free(b.cslot);
	free(b.koff);
	free(b.kpool);
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
