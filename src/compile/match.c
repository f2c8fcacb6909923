/*
 * match.c - the lookups: single and batched, IPv4 and IPv6, over the
 * layout of compile_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile_int.h"

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
		sub = &f->sub[(so >> 5) + ew_sub6_key(hi, so & 31)];
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

/* With e6: the last of the n entries from b at or below key, or b - 1. */
static uint32_t
cls6_search(const struct ew_fam *f, uint64_t key, uint32_t b, uint32_t n)
{
	uint32_t x = b - 1;

	while (n > 0) {
		uint32_t half = (n + 1) / 2;

		x = f->e6[x + half] <= key ? x + half : x;
		n -= half;
	}
	return x;
}

/*
 * With e6: the class of the interval holding (hi, lo), searching the n
 * entries from b (one slot of a /16's sub-directory).  Up to EW_LIN6
 * entries are counted, branch-free and without bounds: the entries past
 * the slot start above the address or are the /16's pads, and b - 1 is
 * the slot before's last entry or the /16's head.  The low halves are
 * looked at only on a tie of the high halves.
 */
static inline uint32_t
cls6(const struct ew_fam *f, uint64_t hi, uint64_t lo, uint32_t b, uint32_t n)
{
	uint64_t key = hi << 16 | EW_KEY6;
	const uint64_t *p = &f->e6[b];
	uint32_t x;

	if (__builtin_expect(n <= EW_LIN6, 1))
		x = b - 1 + (p[0] <= key) + (p[1] <= key) + (p[2] <= key) +
		    (p[3] <= key);
	else
		x = cls6_search(f, key, b, n);
	if (__builtin_expect((f->e6[x] ^ key) >> 16 == 0, 0))
		x = tie6(f, hi, lo, b, x);
	return (uint32_t)(f->e6[x] & 0xffff);
}

/* With e6: the sub-directory slot of hi (sub6[slot], sub6[slot + 1] are
 * its window). */
static inline const uint32_t *
slot6(const struct ew_fam *f, uint64_t hi)
{
	uint64_t sd = f->sdir[hi >> 48];

	return &f->sub6[(uint32_t)((sd >> 32) + (hi >> (sd & 63)))];
}

/* With e6: the class of the interval holding (hi, lo). */
static inline uint32_t
class6(const struct ew_fam *f, uint64_t hi, uint64_t lo)
{
	const uint32_t *s = slot6(f, hi);
	uint32_t b = (s[0] & ~EW_BIG6) + 1;

	return cls6(f, hi, lo, b, (s[1] & ~EW_BIG6) + 1 - b);
}

static inline size_t
find6(const struct ew_fam *f, uint64_t hi, uint64_t lo)
{
	uint32_t b, n;

	window6(f, hi, &b, &n);
	return search6(f, hi, lo, b, n);
}

/* Of runs lo[0..n) whose answers alternate from acc0, the answer of the
 * last one starting at or below port (lo[0] is). */
static inline unsigned
runs_acc(const uint16_t *lo, uint32_t n, unsigned acc0, uint16_t port)
{
	const uint16_t *b = lo;

	while (n > 1) {
		uint32_t half = n / 2;

		b = b[half] <= port ? b + half : b;
		n -= half;
	}
	return (acc0 ^ (unsigned)(b - lo)) & 1;
}

static inline unsigned
leaf_acc(const struct ew_compiled *c, uint32_t map, uint16_t port)
{
	const uint64_t *leaf =
	    &c->leaves[(size_t)c->leafids[map + (port >> 8)] * 4];

	return (leaf[(port & 255) >> 6] >> (port & 63)) & 1;
}

/* Whether class cl accepts port (not 0), for every kind. */
static unsigned
ports_acc(const struct ew_compiled *c, const struct ew_class *cl, uint16_t port)
{
	if (cl->kind == EW_KIND_DIFF) {
		if (port >= cl->lo[0] && port <= cl->lo[1])
			return runs_acc(
			    &c->rlo[cl->map], cl->lo[2], cl->acc0, port);
		cl = &c->classes[cl->lo[3]];
	}
	switch (cl->kind) {
	case EW_KIND_LEAF:
		return leaf_acc(c, cl->map, port);
	case EW_KIND_RUNS:
		return runs_acc(cl->lo, cl->nruns, cl->acc0, port);
	case EW_KIND_POOL:
		return runs_acc(&c->rlo[cl->map],
		    (uint32_t)cl->lo[0] | (uint32_t)cl->lo[1] << 16, cl->acc0,
		    port);
	default:
		return cl->kind == EW_KIND_ACCEPT;
	}
}

static inline enum ew_verdict
by_class(const struct ew_compiled *c, uint32_t k, uint16_t port)
{
	unsigned acc;

	if (port == 0)
		return (enum ew_verdict)c->classes[k].noport;
	if (c->pbits != NULL)
		acc =
		    (c->pbits[(size_t)k * 1024 + (port >> 6)] >> (port & 63)) &
		    1;
	else if (__builtin_expect(c->flat, 1))
		acc = leaf_acc(c, k * 256, port);
	else if (c->classes[k].kind == EW_KIND_LEAF)
		acc = leaf_acc(c, c->classes[k].map, port); /* references */
	else
		acc = ports_acc(c, &c->classes[k], port);
	return acc ? EW_ACCEPTED : EW_REJECTED;
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
	if (c->f6.e6 != NULL)
		return by_class(c, class6(&c->f6, hi, lo), port);
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
	const uint32_t *sub; /* the sub-directory slot */
	uint32_t b, n;
	uint8_t v6;
};

/* First stage (e6): decode query t, find its sub-directory slot. */
static inline void
q6_start(const struct ew_fam *f, const struct ew_addr *a, struct q6 *q)
{
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
	q->sub = slot6(f, q->hi);
	__builtin_prefetch(q->sub);
}

/* Second stage: the window from the sub-directory; fetch its entries. */
static inline void
q6_window(const struct ew_fam *f, struct q6 *q)
{
	if (!q->v6)
		return;
	q->b = (q->sub[0] & ~EW_BIG6) + 1;
	q->n = (q->sub[1] & ~EW_BIG6) + 1 - q->b;
	/* cls6 reads entries b - 1 to b + 3: mostly one line */
	__builtin_prefetch(&f->e6[q->b - 1]);
	__builtin_prefetch(&f->e6[q->b + 3]);
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

/*
 * ew_match_batch with e6 in cache and a leaf map for every class: the
 * whole lookup in one loop body with no call in it, so that nothing is
 * reloaded per query but the chain itself (slot, window, entry, port
 * map).  What the loop does not finish (not a plain IPv6 query: another
 * family, the unknown address, port 0; a long window; a tie of the high
 * halves) it marks EW_LATER, and ew_match answers those after each
 * block (found with memchr).
 */
#define EW_LATER 0xff
#define EW_BLOCK6 4096

static inline __attribute__((always_inline)) void
match6_flat(const struct ew_compiled *c, size_t n, const struct ew_addr *addrs,
    const uint16_t *ports, uint8_t *out, int direct)
{
	const struct ew_fam *f = &c->f6;
	const uint32_t *sub6 = f->sub6;
	const uint64_t *sdir = f->sdir, *e6 = f->e6, *leaves = c->leaves,
		       *pbits = c->pbits;
	const uint16_t *leafids = c->leafids;
	size_t i, j, m;

	for (j = 0; j < n; j += EW_BLOCK6) {
		m = n - j < EW_BLOCK6 ? n - j : EW_BLOCK6;
		for (i = j; i < j + m; i++) {
			const struct ew_addr *a = &addrs[i];
			uint16_t port = ports[i];
			uint64_t hi, lo, word, sd, key;
			uint32_t k, x;
			const uint64_t *p;

			/* the queries stream in: fetch a few lines ahead */
			__builtin_prefetch(&addrs[i + 64 < n ? i + 64 : i]);
			memcpy(&hi, a->b, 8);
			memcpy(&lo, a->b + 8, 8);
			if (__builtin_expect(a->family != EW_AF_INET6 ||
						 (hi | lo) == 0 || port == 0,
				0)) {
				out[i] = EW_LATER;
				continue;
			}
			hi = __builtin_bswap64(hi);
			sd = sdir[hi >> 48];
			/* the entry before the window */
			x = sub6[(uint32_t)((sd >> 32) + (hi >> (sd & 63)))];
			if (__builtin_expect(x & EW_BIG6, 0)) {
				out[i] = EW_LATER;
				continue;
			}
			p = &e6[x];
			key = hi << 16 | EW_KEY6;
			x += (p[1] <= key) + (p[2] <= key) + (p[3] <= key) +
			     (p[4] <= key);
			if (__builtin_expect((e6[x] ^ key) >> 16 == 0, 0)) {
				out[i] = EW_LATER;
				continue;
			}
			k = (uint32_t)(e6[x] & 0xffff);
			if (direct)
				word = pbits[(size_t)k * 1024 + (port >> 6)];
			else
				word = leaves[(size_t)leafids[k * 256 +
							      (port >> 8)] *
						  4 +
					      ((port & 255) >> 6)];
			/* EW_ACCEPTED is 0, EW_REJECTED 1 */
			out[i] = (uint8_t)(((word >> (port & 63)) & 1) ^ 1);
		}
		for (i = j;; i++) {
			const uint8_t *l = memchr(&out[i], EW_LATER, j + m - i);

			if (l == NULL)
				break;
			i = (size_t)(l - out);
			out[i] = (uint8_t)ew_match(c, &addrs[i], ports[i]);
		}
	}
}

/* Apart, so that the loop has the registers to itself. */
static __attribute__((noinline)) void
match6_direct(const struct ew_compiled *c, size_t n,
    const struct ew_addr *addrs, const uint16_t *ports, uint8_t *out)
{
	match6_flat(c, n, addrs, ports, out, 1);
}

static __attribute__((noinline)) void
match6_leaf(const struct ew_compiled *c, size_t n, const struct ew_addr *addrs,
    const uint16_t *ports, uint8_t *out)
{
	match6_flat(c, n, addrs, ports, out, 0);
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
	if (f->e6 != NULL && c->pbits != NULL) {
		match6_direct(c, n, addrs, ports, out);
		return;
	}
	if (f->e6 != NULL && c->flat) {
		match6_leaf(c, n, addrs, ports, out);
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
