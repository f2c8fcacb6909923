/*
 * redundancy.c - tor's exit_policy_remove_redundancies, in time that
 * does not grow with the square of the list and memory a few words per
 * item.
 *
 * tor's three passes (shared reference, section 4.3) are quadratic, which
 * is fine for a descriptor but not for a policy with a 1,000,000-entry
 * table.  This file computes exactly the same result
 * (ew_remove_redundancies_fast, which expand.c uses), and keeps tor's
 * quadratic passes beside it as the reference the tests compare it with
 * (ew_remove_redundancies).  Pass 1 is shared by both.
 *
 * The prefix tree.  Two items of one family intersect in address iff one
 * prefix contains the other, and a prefix containing another is an
 * ancestor of it: the items' prefixes (address masked to the item's own
 * mask) form a tree.  The items are sorted by (family, network, mask,
 * index) with a radix sort; equal prefixes are one node, whose items
 * are then contiguous and in list order; nodes come in depth-first
 * order, so a node's strict descendants are the nodes right after it up
 * to end[node], and their items one contiguous run of the sorted array.
 * A stack sweep over the sorted nodes gives each node its parent.
 *
 * Pass 1 (drop a family's items after its catch-all) is linear already.
 *
 * Pass 2 drops item j when an earlier item covers it (same family, a
 * prefix containing j's, ports containing j's).  Covering is
 * transitive, so "an earlier survivor covers j" and "any earlier item
 * covers j" agree: each j looks at the items of its own node and its
 * ancestors with a smaller index.
 *
 * Pass 3 drops item i when a later item of the same action covers it
 * with no item of the other action in between that intersects it.  tor
 * walks i upwards and only ever deletes i itself, so when i is judged
 * every later item is still there: each decision depends only on the
 * list after pass 2.  Let jmin be the first later same-action item
 * covering i (among its node's and its ancestors' items).  i goes iff no
 * other-action item with an index between i and jmin intersects i in
 * address and ports: such an item sits at i's node or an ancestor
 * (scanned), or below i's node.  For the last case the items are judged
 * from the end of the list to the start and put, once judged, into one
 * segment tree per action over the sorted positions, holding per range
 * the smallest index and the hull of the port ranges: "is there one
 * below i's node, before jmin, whose ports meet i's" is a descent that
 * skips every range without such a candidate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "policy/policy_int.h"

/* A sort record: the item's prefix and its index. */
struct rec {
	uint64_t hi, lo; /* the network, big-endian as integers */
	uint32_t idx;
	uint8_t mask, fam;
};

static uint64_t
be64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void
mkrec(struct rec *r, const struct ew_item *it, uint32_t idx)
{
	unsigned m = it->maskbits;

	r->idx = idx;
	r->mask = (uint8_t)m;
	r->fam = it->addr.family;
	if (it->addr.family == EW_AF_INET) {
		uint64_t a = (uint64_t)be64(it->addr.b) >> 32;

		if (m > 32)
			m = 32;
		a = m == 0 ? 0 : a & (0xffffffffull << (32 - m));
		r->hi = a << 32;
		r->lo = 0;
		return;
	}
	r->hi = be64(it->addr.b);
	r->lo = be64(it->addr.b + 8);
	if (m == 0) {
		r->hi = r->lo = 0;
	} else if (m <= 64) {
		r->hi &= m == 64 ? ~0ull : ~(~0ull >> m);
		r->lo = 0;
	} else if (m < 128) {
		r->lo &= ~(~0ull >> (m - 64));
	}
}

/* Byte k of the sort key, least significant first: mask, lo, hi, fam. */
static unsigned
keybyte(const struct rec *r, unsigned k)
{
	if (k == 0)
		return r->mask;
	if (k <= 8)
		return (unsigned)(r->lo >> (8 * (k - 1))) & 0xff;
	if (k <= 16)
		return (unsigned)(r->hi >> (8 * (k - 9))) & 0xff;
	return r->fam;
}

#define NKEY 18

/* Stable LSD radix sort of v (n records) by key; tmp has room for n.
 * Only the bytes that differ somewhere get a pass (an IPv4 table: the
 * mask and four address bytes).  The result ends up in v. */
static void
radix_sort(struct rec *v, struct rec *tmp, size_t n)
{
	size_t cnt[256];
	struct rec *src = v, *dst = tmp, *t;
	uint64_t dhi = 0, dlo = 0;
	unsigned dmask = 0, dfam = 0, k, b;
	size_t i, sum;

	for (i = 1; i < n; i++) {
		dhi |= v[i].hi ^ v[0].hi;
		dlo |= v[i].lo ^ v[0].lo;
		dmask |= (unsigned)(v[i].mask ^ v[0].mask);
		dfam |= (unsigned)(v[i].fam ^ v[0].fam);
	}
	for (k = 0; k < NKEY; k++) {
		int varies = k == 0    ? dmask != 0
			     : k <= 8  ? (dlo >> (8 * (k - 1)) & 0xff) != 0
			     : k <= 16 ? (dhi >> (8 * (k - 9)) & 0xff) != 0
				       : dfam != 0;

		if (!varies)
			continue;
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[keybyte(&src[i], k)]++;
		for (b = 0, sum = 0; b < 256; b++) {
			size_t c = cnt[b];

			cnt[b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[keybyte(&src[i], k)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/*
 * radix_sort's order, faster for a big IPv4 list: each IPv4 record
 * packed in 8 bytes (network, mask, index: the index breaks ties as the
 * stable sort does) and sorted by its top 40 bits, 10 a pass, where
 * radix_sort moves 24 bytes five times; the other records (a few IPv6
 * ones) go through radix_sort and take their places by family, the
 * most significant key.  Lists of 2^24 items or more, or with fewer
 * IPv4 ones than ew_redundancy_pack_min (tests lower it), take
 * radix_sort.  0, or -1 on ENOMEM.
 */
size_t ew_redundancy_pack_min = 1024;

static int
sort_recs(struct rec *v, struct rec *tmp, size_t n)
{
	uint64_t *a = (uint64_t *)(void *)tmp, *b, *src, *dst, *t, d = 0;
	size_t cnt[1024], n4 = 0, no = 0, nlo = 0, i, sum;
	unsigned k, x;
	struct rec *ot;

	for (i = 0; i < n; i++)
		n4 += v[i].fam == EW_AF_INET;
	if (n4 == 0 || n4 < ew_redundancy_pack_min || n >= ((size_t)1 << 24)) {
		radix_sort(v, tmp, n);
		return 0;
	}
	b = a + n4;
	/* the IPv4 keys into a, the others to the front of v */
	for (i = 0, k = 0; i < n; i++) {
		if (v[i].fam == EW_AF_INET)
			a[k++] = (v[i].hi >> 32) << 32 |
				 (uint64_t)v[i].mask << 24 | v[i].idx;
		else
			v[no++] = v[i];
	}
	if (no > 1) {
		if ((ot = malloc(no * sizeof(*ot))) == NULL)
			return -1;
		radix_sort(v, ot, no);
		free(ot);
	}
	for (i = 1; i < n4; i++)
		d |= a[i] ^ a[0];
	src = a;
	dst = b;
	for (k = 0; k < 4; k++) {
		unsigned sh = 24 + 10 * k;

		if (((d >> sh) & 0x3ff) == 0)
			continue; /* the same digit everywhere */
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n4; i++)
			cnt[(src[i] >> sh) & 0x3ff]++;
		for (x = 0, sum = 0; x < 1024; x++) {
			size_t c = cnt[x];

			cnt[x] = sum;
			sum += c;
		}
		for (i = 0; i < n4; i++)
			dst[cnt[(src[i] >> sh) & 0x3ff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	/* families below IPv4 first, then IPv4, then the rest */
	while (nlo < no && v[nlo].fam < EW_AF_INET)
		nlo++;
	memmove(v + n - (no - nlo), v + nlo, (no - nlo) * sizeof(*v));
	for (i = 0; i < n4; i++) {
		struct rec *r = &v[nlo + i];

		r->hi = (src[i] >> 32) << 32;
		r->lo = 0;
		r->mask = (uint8_t)(src[i] >> 24);
		r->fam = EW_AF_INET;
		r->idx = (uint32_t)(src[i] & 0xffffff);
	}
	return 0;
}

static int
same_prefix(const struct rec *a, const struct rec *b)
{
	return a->fam == b->fam && a->mask == b->mask && a->hi == b->hi &&
	       a->lo == b->lo;
}

/* Does prefix a contain prefix b (a's mask <= b's, same bits)? */
static int
contains(const struct rec *a, const struct rec *b)
{
	unsigned m = a->mask;
	uint64_t hi = b->hi, lo = b->lo;

	if (a->fam != b->fam || a->mask > b->mask)
		return 0;
	if (a->fam == EW_AF_INET && m > 32)
		m = 32;
	if (m == 0)
		return 1;
	if (m <= 64) {
		hi &= m == 64 ? ~0ull : ~(~0ull >> m);
		return hi == a->hi;
	}
	if (m < 128)
		lo &= ~(~0ull >> (m - 64));
	return hi == a->hi && lo == a->lo;
}

/*
 * The tree.  pe: the items in sorted order, with what the passes read
 * (so they walk this array in order, not the items); first[k]: position
 * of node k's first item (first[nn] = n); parent[k]: -1 at a root;
 * end[k]: the first node after k's subtree.
 */
struct pent {
	uint32_t idx;
	uint16_t pmin, pmax;
	uint8_t act;  /* 0 accept, 1 reject */
	uint8_t drop; /* 1: by pass 2, 2: by pass 3 */
};

struct tree {
	struct pent *pe;
	uint32_t *first, *end;
	int32_t *parent;
	size_t nn;
};

static void
tree_free(struct tree *t)
{
	free(t->pe);
	free(t->first);
	free(t->end);
	free(t->parent);
	memset(t, 0, sizeof(*t));
}

static int
tree_build(const struct ew_item *v, size_t n, struct tree *t)
{
	struct rec *r = ew_mem_big(n * sizeof(*r));
	struct rec *tmp = ew_mem_big(n * sizeof(*tmp));
	uint32_t *stack = NULL;
	size_t i, sp = 0;

	memset(t, 0, sizeof(*t));
	t->pe = ew_mem_big(n * sizeof(*t->pe));
	t->first = ew_mem_big((n + 1) * sizeof(*t->first));
	if (r == NULL || tmp == NULL || t->pe == NULL || t->first == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		mkrec(&r[i], &v[i], (uint32_t)i);
	if (sort_recs(r, tmp, n) < 0)
		goto oom;
	/* nodes; tmp[k] keeps node k's prefix */
	for (i = 0; i < n; i++) {
		const struct ew_item *it = &v[r[i].idx];

		if (i == 0 || !same_prefix(&r[i], &r[i - 1])) {
			tmp[t->nn] = r[i];
			t->first[t->nn++] = (uint32_t)i;
		}
		t->pe[i].idx = r[i].idx;
		t->pe[i].pmin = it->pmin;
		t->pe[i].pmax = it->pmax;
		t->pe[i].act = it->action == EW_ACCEPT ? 0 : 1;
		t->pe[i].drop = 0;
	}
	t->first[t->nn] = (uint32_t)n;
	free(r);
	r = NULL;
	t->parent = ew_mem_big(t->nn * sizeof(*t->parent));
	t->end = ew_mem_big(t->nn * sizeof(*t->end));
	stack = ew_mem_big(t->nn * sizeof(*stack));
	if (t->parent == NULL || t->end == NULL || stack == NULL)
		goto oom;
	for (i = 0; i < t->nn; i++) {
		while (sp > 0 && !contains(&tmp[stack[sp - 1]], &tmp[i]))
			t->end[stack[--sp]] = (uint32_t)i;
		t->parent[i] = sp > 0 ? (int32_t)stack[sp - 1] : -1;
		stack[sp++] = (uint32_t)i;
	}
	while (sp > 0)
		t->end[stack[--sp]] = (uint32_t)t->nn;
	free(stack);
	free(tmp);
	return 0;
oom:
	free(r);
	free(tmp);
	free(stack);
	tree_free(t);
	return -ENOMEM;
}

static int
ports_cover(const struct pent *a, const struct pent *b)
{
	return a->pmin <= b->pmin && a->pmax >= b->pmax;
}

static int
ports_meet(const struct pent *a, const struct pent *b)
{
	return !(a->pmax < b->pmin || b->pmax < a->pmin);
}

/* The first position of node k whose item index is > i. */
static size_t
first_after(const struct tree *t, uint32_t k, uint32_t i)
{
	size_t lo = t->first[k], hi = t->first[k + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->pe[mid].idx <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Pass 2: an item goes when an earlier one covers it: one of its own
 * node (the positions before it) or of an ancestor. */
static void
pass2(struct tree *t)
{
	size_t k, p, q;

	for (k = 0; k < t->nn; k++) {
		for (p = t->first[k]; p < t->first[k + 1]; p++) {
			struct pent *e = &t->pe[p];
			int32_t a;

			for (q = t->first[k]; q < p && !e->drop; q++)
				if (ports_cover(&t->pe[q], e))
					e->drop = 1;
			for (a = t->parent[k]; a >= 0 && !e->drop;
			     a = t->parent[a]) {
				for (q = t->first[a]; q < t->first[a + 1] &&
						      t->pe[q].idx < e->idx;
				     q++) {
					if (ports_cover(&t->pe[q], e)) {
						e->drop = 1;
						break;
					}
				}
			}
		}
	}
}

/*
 * Pass 3, first part, for the item at position p of node k: its jmin
 * (UINT32_MAX: none), and 1 when an other-action item at its node or
 * above, before jmin, meets it.
 */
static int
judge_above(const struct tree *t, uint32_t k, size_t p, uint32_t *jminp)
{
	const struct pent *e = &t->pe[p];
	uint32_t jmin = UINT32_MAX;
	int32_t a;
	size_t q;

	for (a = (int32_t)k; a >= 0; a = t->parent[a]) {
		q = a == (int32_t)k ? p + 1
				    : first_after(t, (uint32_t)a, e->idx);
		for (; q < t->first[a + 1] && t->pe[q].idx < jmin; q++) {
			const struct pent *o = &t->pe[q];

			if (o->drop != 1 && o->act == e->act &&
			    ports_cover(o, e)) {
				jmin = o->idx;
				break;
			}
		}
	}
	*jminp = jmin;
	if (jmin == UINT32_MAX)
		return 0;
	for (a = (int32_t)k; a >= 0; a = t->parent[a]) {
		q = a == (int32_t)k ? p + 1
				    : first_after(t, (uint32_t)a, e->idx);
		for (; q < t->first[a + 1] && t->pe[q].idx < jmin; q++) {
			const struct pent *o = &t->pe[q];

			if (o->drop != 1 && o->act != e->act &&
			    ports_meet(o, e))
				return 1;
		}
	}
	return 0;
}

/* An item pass 3 drops unless something below its node stops it. */
struct query {
	uint32_t p;    /* its position */
	uint32_t l, r; /* the positions below its node */
	uint32_t jmin;
};

/* Is there, at a position in [l, r), an item of the other action than
 * e's, not dropped by pass 2, with an index in (e->idx, jmin), whose
 * ports meet e's?  By looking at each. */
static int
scan_below(const struct tree *t, const struct query *q)
{
	const struct pent *e = &t->pe[q->p];
	size_t x;

	for (x = q->l; x < q->r; x++) {
		const struct pent *o = &t->pe[x];

		if (o->drop != 1 && o->act != e->act && o->idx > e->idx &&
		    o->idx < q->jmin && ports_meet(o, e))
			return 1;
	}
	return 0;
}

/*
 * The same for many or wide queries: one segment tree per action over
 * the positions, holding per range the smallest index put in it
 * (UINT32_MAX: none) and the hull of the ports.  Items go in from the
 * end of the list to the start, so when query i is asked the tree holds
 * exactly the items after i.
 */
struct seg {
	uint32_t *idx;
	uint16_t *plo, *phi;
	size_t size; /* leaves, a power of two */
};

static int
seg_init(struct seg *s, size_t n)
{
	size_t i;

	s->size = 1;
	while (s->size < n)
		s->size *= 2;
	s->idx = ew_mem_big(2 * s->size * sizeof(*s->idx));
	s->plo = ew_mem_big(2 * s->size * sizeof(*s->plo));
	s->phi = ew_mem_big(2 * s->size * sizeof(*s->phi));
	if (s->idx == NULL || s->plo == NULL || s->phi == NULL)
		return -ENOMEM;
	for (i = 0; i < 2 * s->size; i++) {
		s->idx[i] = UINT32_MAX;
		s->plo[i] = 65535;
		s->phi[i] = 0;
	}
	return 0;
}

static void
seg_free(struct seg *s)
{
	free(s->idx);
	free(s->plo);
	free(s->phi);
}

/* Put the item at position p (its index smaller than any put before). */
static void
seg_put(struct seg *s, size_t p, const struct pent *e)
{
	size_t x = s->size + p;

	for (; x >= 1; x /= 2) {
		s->idx[x] = e->idx;
		if (e->pmin < s->plo[x])
			s->plo[x] = e->pmin;
		if (e->pmax > s->phi[x])
			s->phi[x] = e->pmax;
	}
}

static int
seg_any(const struct seg *s, size_t x, size_t xl, size_t xr,
    const struct query *q, const struct pent *e)
{
	size_t mid;

	if (xr <= q->l || q->r <= xl || s->idx[x] >= q->jmin ||
	    s->plo[x] > e->pmax || s->phi[x] < e->pmin)
		return 0;
	if (xr - xl == 1)
		return 1; /* one item: its own ports */
	mid = xl + (xr - xl) / 2;
	return seg_any(s, 2 * x, xl, mid, q, e) ||
	       seg_any(s, 2 * x + 1, mid, xr, q, e);
}

static int
by_idx_desc(const void *a, const void *b, void *arg)
{
	const struct tree *t = arg;
	uint32_t x = t->pe[((const struct query *)a)->p].idx;
	uint32_t y = t->pe[((const struct query *)b)->p].idx;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
below_sweep(struct tree *t, size_t n, struct query *qs, size_t nq)
{
	struct seg sg[2];
	uint32_t *where = ew_mem_big(n * sizeof(*where));
	size_t p, k, next = n;
	int rc = -ENOMEM;

	memset(sg, 0, sizeof(sg));
	if (where == NULL || seg_init(&sg[0], n) < 0 || seg_init(&sg[1], n) < 0)
		goto out;
	for (p = 0; p < n; p++)
		where[t->pe[p].idx] = (uint32_t)p;
	if (nq > 1)
		qsort_r(qs, nq, sizeof(*qs), by_idx_desc, t);
	for (k = 0; k < nq; k++) {
		struct pent *e = &t->pe[qs[k].p];

		for (; next > (size_t)e->idx + 1; next--) {
			const struct pent *o = &t->pe[where[next - 1]];

			if (o->drop != 1)
				seg_put(&sg[o->act], where[next - 1], o);
		}
		if (!seg_any(&sg[!e->act], 1, 0, sg[0].size, &qs[k], e))
			e->drop = 2;
	}
	rc = 0;
out:
	free(where);
	seg_free(&sg[0]);
	seg_free(&sg[1]);
	return rc;
}

int ew_redundancy_sweep;

static int
pass3(struct tree *t, size_t n)
{
	struct query *qs = NULL, *nq;
	size_t k, p, nqs = 0, cap = 0, work = 0;
	int rc = 0;

	for (k = 0; k < t->nn; k++) {
		for (p = t->first[k]; p < t->first[k + 1]; p++) {
			uint32_t jmin;

			if (t->pe[p].drop == 1 ||
			    judge_above(t, (uint32_t)k, p, &jmin) ||
			    jmin == UINT32_MAX)
				continue;
			if (t->end[k] == k + 1) {
				t->pe[p].drop = 2; /* nothing below */
				continue;
			}
			if (nqs == cap) {
				cap = cap ? 2 * cap : 64;
				nq = realloc(qs, cap * sizeof(*qs));
				if (nq == NULL) {
					free(qs);
					return -ENOMEM;
				}
				qs = nq;
			}
			qs[nqs].p = (uint32_t)p;
			qs[nqs].l = t->first[k + 1];
			qs[nqs].r = t->first[t->end[k]];
			qs[nqs].jmin = jmin;
			work += qs[nqs].r - qs[nqs].l;
			nqs++;
		}
	}
	/* few or narrow queries: look; else the segment trees */
	if (ew_redundancy_sweep < 0 ||
	    (ew_redundancy_sweep == 0 && work <= 4 * n + 4096)) {
		for (k = 0; k < nqs; k++)
			if (!scan_below(t, &qs[k]))
				t->pe[qs[k].p].drop = 2;
	} else {
		rc = below_sweep(t, n, qs, nqs);
	}
	free(qs);
	return rc;
}

/* addr_policy_covers: same family, a's prefix contains b's, a's ports
 * contain b's. */
static int
covers(const struct ew_item *a, const struct ew_item *b)
{
	if (a->addr.family != b->addr.family || a->maskbits > b->maskbits)
		return 0;
	if (!ew_addr_prefix_eq(&a->addr, &b->addr, a->maskbits))
		return 0;
	return a->pmin <= b->pmin && a->pmax >= b->pmax;
}

/* addr_policy_intersects. */
static int
intersects(const struct ew_item *a, const struct ew_item *b)
{
	unsigned m = a->maskbits < b->maskbits ? a->maskbits : b->maskbits;

	if (!ew_addr_prefix_eq(&a->addr, &b->addr, m))
		return 0;
	return !(a->pmax < b->pmin || b->pmax < a->pmin);
}

/*
 * exit_policy_remove_redundancies, the three passes of section 4.3, as
 * tor writes them: quadratic.  The reference for
 * ew_remove_redundancies_fast below, which computes the same list fast;
 * tests compare the two.
 */
void
ew_cut_after_catchalls(struct ew_item *v, size_t *np)
{
	size_t n = *np, i, o;
	int kill4 = 0, kill6 = 0;

	for (i = 0, o = 0; i < n; i++) {
		int fam = v[i].addr.family;

		if ((fam == EW_AF_INET && kill4) ||
		    (fam == EW_AF_INET6 && kill6))
			continue;
		if (v[i].maskbits == 0 && v[i].pmin <= 1 &&
		    v[i].pmax >= 65535) {
			if (fam == EW_AF_INET)
				kill4 = 1;
			else if (fam == EW_AF_INET6)
				kill6 = 1;
		}
		v[o++] = v[i];
	}
	*np = o;
}

void
ew_remove_redundancies(struct ew_item *v, size_t *np)
{
	size_t n, i, j, o;

	/* 1: drop everything of a family after its catch-all */
	ew_cut_after_catchalls(v, np);
	n = *np;

	/* 2: drop every item covered by an earlier one */
	for (i = 0; i + 1 < n; i++) {
		for (j = i + 1, o = i + 1; j < n; j++) {
			if (!covers(&v[i], &v[j]))
				v[o++] = v[j];
		}
		n = o;
	}

	/* 3: drop an item covered by a later one of the same action with
	 * no intersecting item of the other action in between */
	for (i = 0; i + 1 < n;) {
		int drop = 0;

		for (j = i + 1; j < n; j++) {
			if (v[i].action != v[j].action) {
				if (intersects(&v[i], &v[j]))
					break;
			} else if (covers(&v[j], &v[i])) {
				drop = 1;
				break;
			}
		}
		if (drop) {
			memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
			n--;
		} else {
			i++;
		}
	}
	*np = n;
}

int
ew_remove_redundancies_fast(struct ew_item *v, size_t *np)
{
	struct tree t;
	uint8_t *drop;
	size_t n, i, o;
	int r;

	ew_cut_after_catchalls(v, np);
	n = *np;
	if (n < 2)
		return 0;
	if (n >= UINT32_MAX)
		return -ENOMEM;
	if (tree_build(v, n, &t) < 0)
		return -ENOMEM;
	/* pass 3 sees the list after pass 2 (mark 1); its own drops
	 * (mark 2) still count for the items before them */
	pass2(&t);
	r = pass3(&t, n);
	drop = r == 0 ? malloc(n) : NULL;
	if (drop == NULL) {
		tree_free(&t);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		drop[t.pe[i].idx] = t.pe[i].drop;
	for (i = 0, o = 0; i < n; i++) {
		if (!drop[i])
			v[o++] = v[i];
	}
	*np = o;
	tree_free(&t);
	free(drop);
	return 0;
}
