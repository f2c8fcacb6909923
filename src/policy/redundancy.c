/*
 * redundancy.c - tor's exit_policy_remove_redundancies, in time that
 * does not grow with the square of the list.
 *
 * tor's three passes (shared reference, section 4.3) are quadratic, which
 * is fine for a descriptor but not for a policy with a 100,000-entry
 * table.  This file computes exactly the same result:
 *
 * Pass 1 (drop a family's items after its catch-all) is linear already.
 *
 * Pass 2 drops item j when an earlier item covers it.  Covering is
 * transitive, so "an earlier survivor covers j" and "any earlier item
 * covers j" agree.  Items are filed by (family, mask, address masked to
 * the mask) in a hash table; the items that can cover j sit at j's own
 * address masked to each mask length in use that is <= j's mask, so j
 * needs one look-up per such length.
 *
 * Pass 3 drops item i when a later item of the same action covers it
 * with no item of the other action in between that intersects it.  tor
 * walks i upwards and only ever deletes i itself, so when i is judged
 * every later item is still there: each decision depends only on the
 * list after pass 2, and they can be made right to left.  Let jmin be
 * the first later same-action item covering i (found among i's
 * ancestors, as in pass 2).  i goes iff no other-action item with an
 * index below jmin intersects i.  Intersecting prefixes nest, so such an
 * item is an ancestor of i (found the same way) or lies inside i's
 * prefix: every item is also filed under each shorter mask length in
 * use, in a "below" list, so the items inside i's prefix are one list.
 * Lists are kept in ascending index order (items are added right to
 * left, at the head), so a scan stops at the first index >= jmin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

struct key {
	uint8_t fam, mask;
	uint8_t b[16];
};

/* An item filed in a list: its index and ports. */
struct ent {
	uint32_t idx;
	uint16_t pmin, pmax;
	int32_t next; /* index into the entry pool, or -1 */
};

struct node {
	struct key k;
	int32_t here[2];  /* items with exactly this prefix, per action */
	int32_t below[2]; /* items strictly inside it, per action */
	int used;
};

struct tab {
	struct node *n;
	size_t cap, used;
	struct ent *e;
	size_t ne, cape;
};

static void
mkkey(struct key *k, const struct ew_item *it, unsigned mask)
{
	unsigned full = mask / 8, rest = mask % 8;

	memset(k, 0, sizeof(*k));
	k->fam = it->addr.family;
	k->mask = (uint8_t)mask;
	memcpy(k->b, it->addr.b, full);
	if (rest != 0)
		k->b[full] = (uint8_t)(it->addr.b[full] & (0xff << (8 - rest)));
}

static uint64_t
hash(const struct key *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int
tab_grow(struct tab *t)
{
	struct tab nt = *t;
	size_t i;

	nt.cap = t->cap ? t->cap * 2 : 1024;
	nt.n = calloc(nt.cap, sizeof(*nt.n));
	if (nt.n == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		size_t h;

		if (!t->n[i].used)
			continue;
		h = hash(&t->n[i].k) & (nt.cap - 1);
		while (nt.n[h].used)
			h = (h + 1) & (nt.cap - 1);
		nt.n[h] = t->n[i];
	}
	free(t->n);
	t->n = nt.n;
	t->cap = nt.cap;
	return 0;
}

/* The node for k; created when `create`.  NULL if absent or on ENOMEM. */
static struct node *
tab_get(struct tab *t, const struct key *k, int create)
{
	size_t h;

	if (t->cap == 0 || (create && (t->used + 1) * 2 > t->cap)) {
		if (!create && t->cap == 0)
			return NULL;
		if (tab_grow(t) < 0)
			return NULL;
	}
	h = hash(k) & (t->cap - 1);
	while (t->n[h].used) {
		if (memcmp(&t->n[h].k, k, sizeof(*k)) == 0)
			return &t->n[h];
		h = (h + 1) & (t->cap - 1);
	}
	if (!create)
		return NULL;
	t->n[h].used = 1;
	t->n[h].k = *k;
	t->n[h].here[0] = t->n[h].here[1] = -1;
	t->n[h].below[0] = t->n[h].below[1] = -1;
	t->used++;
	return &t->n[h];
}

/* Put an entry at the head of *head. */
static int
push(struct tab *t, int32_t *head, uint32_t idx, const struct ew_item *it)
{
	if (t->ne == t->cape) {
		size_t cap = t->cape ? t->cape * 2 : 1024;
		struct ent *ne = realloc(t->e, cap * sizeof(*ne));

		if (ne == NULL)
			return -1;
		t->e = ne;
		t->cape = cap;
	}
	t->e[t->ne].idx = idx;
	t->e[t->ne].pmin = it->pmin;
	t->e[t->ne].pmax = it->pmax;
	t->e[t->ne].next = *head;
	*head = (int32_t)t->ne++;
	return 0;
}

static void
tab_free(struct tab *t)
{
	free(t->n);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static int
act(const struct ew_item *it)
{
	return it->action == EW_ACCEPT ? 0 : 1;
}

/* Mask lengths in use, per family, ascending. */
struct masks {
	uint8_t v4[33], v6[129];
	unsigned n4, n6;
};

static void
masks_of(const struct ew_item *v, size_t n, struct masks *m)
{
	uint8_t seen4[33] = { 0 }, seen6[129] = { 0 };
	size_t i;
	unsigned k;

	for (i = 0; i < n; i++) {
		if (v[i].addr.family == EW_AF_INET && v[i].maskbits <= 32)
			seen4[v[i].maskbits] = 1;
		else if (v[i].addr.family == EW_AF_INET6)
			seen6[v[i].maskbits] = 1;
	}
	m->n4 = m->n6 = 0;
	for (k = 0; k <= 32; k++)
		if (seen4[k])
			m->v4[m->n4++] = (uint8_t)k;
	for (k = 0; k <= 128; k++)
		if (seen6[k])
			m->v6[m->n6++] = (uint8_t)k;
}

static const uint8_t *
masks_for(const struct masks *m, int fam, unsigned *n)
{
	if (fam == EW_AF_INET) {
		*n = m->n4;
		return m->v4;
	}
	*n = m->n6;
	return m->v6;
}

static int
pass2(struct ew_item *v, size_t *np, const struct masks *ms)
{
	struct tab t;
	size_t i, o = 0;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < *np; i++) {
		const uint8_t *m;
		unsigned nm, k, covered = 0;
		struct key key;
		struct node *nd;

		m = masks_for(ms, v[i].addr.family, &nm);
		for (k = 0; k < nm && m[k] <= v[i].maskbits && !covered; k++) {
			int a;

			mkkey(&key, &v[i], m[k]);
			nd = tab_get(&t, &key, 0);
			if (nd == NULL)
				continue;
			for (a = 0; a < 2 && !covered; a++) {
				int32_t e;

				for (e = nd->here[a]; e >= 0; e = t.e[e].next) {
					if (t.e[e].pmin <= v[i].pmin &&
					    t.e[e].pmax >= v[i].pmax) {
						covered = 1;
						break;
					}
				}
			}
		}
		if (covered)
			continue;
		mkkey(&key, &v[i], v[i].maskbits);
		nd = tab_get(&t, &key, 1);
		if (nd == NULL || push(&t, &nd->here[0], (uint32_t)o, &v[i])) {
			tab_free(&t);
			return -ENOMEM;
		}
		v[o++] = v[i];
	}
	*np = o;
	tab_free(&t);
	return 0;
}

static int
pass3(struct ew_item *v, size_t *np, const struct masks *ms)
{
	struct tab t;
	size_t n = *np, i, o;
	uint8_t *drop;

	drop = calloc(n ? n : 1, 1);
	if (drop == NULL)
		return -ENOMEM;
	memset(&t, 0, sizeof(t));
	for (i = n; i-- > 0;) {
		const uint8_t *m;
		unsigned nm, k;
		int a = act(&v[i]), b = !a, blocked = 0;
		uint32_t jmin = UINT32_MAX;
		struct key key;
		struct node *nd;

		m = masks_for(ms, v[i].addr.family, &nm);
		/* the first later same-action item that covers i */
		for (k = 0; k < nm && m[k] <= v[i].maskbits; k++) {
			int32_t e;

			mkkey(&key, &v[i], m[k]);
			nd = tab_get(&t, &key, 0);
			if (nd == NULL)
				continue;
			for (e = nd->here[a]; e >= 0 && t.e[e].idx < jmin;
			     e = t.e[e].next) {
				if (t.e[e].pmin <= v[i].pmin &&
				    t.e[e].pmax >= v[i].pmax) {
					jmin = t.e[e].idx;
					break;
				}
			}
		}
		/* an other-action item before it that intersects i */
		for (k = 0; jmin != UINT32_MAX && k < nm &&
			    m[k] <= v[i].maskbits && !blocked;
		     k++) {
			int32_t e;

			mkkey(&key, &v[i], m[k]);
			nd = tab_get(&t, &key, 0);
			if (nd == NULL)
				continue;
			for (e = nd->here[b]; e >= 0 && t.e[e].idx < jmin;
			     e = t.e[e].next) {
				if (!(t.e[e].pmax < v[i].pmin ||
					v[i].pmax < t.e[e].pmin)) {
					blocked = 1;
					break;
				}
			}
			if (m[k] != v[i].maskbits || blocked)
				continue;
			for (e = nd->below[b]; e >= 0 && t.e[e].idx < jmin;
			     e = t.e[e].next) {
				if (!(t.e[e].pmax < v[i].pmin ||
					v[i].pmax < t.e[e].pmin)) {
					blocked = 1;
					break;
				}
			}
		}
		drop[i] = jmin != UINT32_MAX && !blocked;
		/* file i: here at its own prefix, below at shorter ones */
		for (k = 0; k < nm && m[k] <= v[i].maskbits; k++) {
			mkkey(&key, &v[i], m[k]);
			nd = tab_get(&t, &key, 1);
			if (nd == NULL ||
			    push(&t,
				m[k] == v[i].maskbits ? &nd->here[a]
						      : &nd->below[a],
				(uint32_t)i, &v[i])) {
				tab_free(&t);
				free(drop);
				return -ENOMEM;
			}
		}
	}
	for (i = 0, o = 0; i < n; i++) {
		if (!drop[i])
			v[o++] = v[i];
	}
	*np = o;
	tab_free(&t);
	free(drop);
	return 0;
}

int
ew_remove_redundancies_fast(struct ew_item *v, size_t *np)
{
	struct masks ms;
	int r;

	ew_cut_after_catchalls(v, np);
	masks_of(v, *np, &ms);
	r = pass2(v, np, &ms);
	if (r == 0)
		r = pass3(v, np, &ms);
	return r;
}
