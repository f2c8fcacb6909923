/*
 * summary.c - the port summaries tor publishes for a policy: the
 * microdescriptor "p" line an authority computes from the descriptor's
 * IPv4 items, and the relay's "ipv6-policy" (microdescriptor "p6").
 *
 * tor's policy_summarize (shared reference, section 8): walk the items
 * of one family in order over a partition of the port space; an accept
 * of the whole address space marks its ports accepted unless they are
 * already rejected for "too many" addresses (2^25 IPv4 addresses, 2^48
 * IPv6 /64s); a reject adds its address count to its ports, except for
 * the twelve private nets exactly; IPv6 rejects narrower than /64 do not
 * count.  Then the shorter of the accept and reject lists wins (ties to
 * accept), and if both are longer than 993 characters the accept list is
 * cut at the last comma that fits in 1000 bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "policy/policy_int.h"

#define SUMMARY_MAX 1000

/* A partition of 1..65535 into runs that share a count and a mark. */
struct runs {
	uint32_t *lo; /* first port of each run, ascending; lo[0] == 1 */
	uint64_t *count;
	uint8_t *accepted;
	size_t n, cap;
};

static int
runs_init(struct runs *r)
{
	r->cap = 64;
	r->lo = malloc(r->cap * sizeof(*r->lo));
	r->count = malloc(r->cap * sizeof(*r->count));
	r->accepted = malloc(r->cap);
	if (r->lo == NULL || r->count == NULL || r->accepted == NULL)
		return -1;
	r->n = 1;
	r->lo[0] = 1;
	r->count[0] = 0;
	r->accepted[0] = 0;
	return 0;
}

static void
runs_free(struct runs *r)
{
	free(r->lo);
	free(r->count);
	free(r->accepted);
}

static uint32_t
run_hi(const struct runs *r, size_t i)
{
	return i + 1 < r->n ? r->lo[i + 1] - 1 : 65535;
}

/* Make `port` the first port of a run; returns that run's index. */
static ptrdiff_t
split_at(struct runs *r, uint32_t port)
{
	size_t a = 0, b = r->n, i;

	if (port > 65535)
		return (ptrdiff_t)r->n;
	while (b - a > 1) { /* last run with lo <= port */
		size_t m = (a + b) / 2;

		if (r->lo[m] <= port)
			a = m;
		else
			b = m;
	}
	i = a;
	if (r->lo[i] == port)
		return (ptrdiff_t)i;
	if (r->n == r->cap) {
		size_t cap = r->cap * 2;
		uint32_t *lo = realloc(r->lo, cap * sizeof(*lo));
		uint64_t *c;
		uint8_t *acc;

		if (lo == NULL)
			return -1;
		r->lo = lo;
		c = realloc(r->count, cap * sizeof(*c));
		if (c == NULL)
			return -1;
		r->count = c;
		acc = realloc(r->accepted, cap);
		if (acc == NULL)
			return -1;
		r->accepted = acc;
		r->cap = cap;
	}
	memmove(&r->lo[i + 2], &r->lo[i + 1], (r->n - i - 1) * sizeof(*r->lo));
	memmove(&r->count[i + 2], &r->count[i + 1],
	    (r->n - i - 1) * sizeof(*r->count));
	memmove(&r->accepted[i + 2], &r->accepted[i + 1], r->n - i - 1);
	r->lo[i + 1] = port;
	r->count[i + 1] = r->count[i];
	r->accepted[i + 1] = r->accepted[i];
	r->n++;
	return (ptrdiff_t)i + 1;
}

static int
add_item(struct runs *r, const struct ew_item *it)
{
	int v4 = it->addr.family == EW_AF_INET;
	uint64_t cutoff = v4 ? (uint64_t)1 << 25 : (uint64_t)1 << 48;
	uint64_t count = 0;
	ptrdiff_t first;
	size_t i;

	if (it->action == EW_ACCEPT) {
		if (it->maskbits != 0)
			return 0;
	} else {
		for (i = 0; i < EW_NPRIVATE; i++) {
			if (memcmp(&it->addr, &ew_private_nets[i].addr,
				sizeof(it->addr)) == 0 &&
			    it->maskbits == ew_private_nets[i].maskbits)
				return 0;
		}
		if (v4) {
			count = (uint64_t)1 << (32 - it->maskbits);
		} else {
			if (it->maskbits > 64)
				return 0; /* narrower than a /64 */
			count = it->maskbits == 0
				    ? UINT64_MAX
				    : (uint64_t)1 << (64 - it->maskbits);
		}
	}
	if (split_at(r, (uint32_t)it->pmax + 1) < 0)
		return -1;
	first = split_at(r, it->pmin);
	if (first < 0)
		return -1;
	for (i = (size_t)first; i < r->n && run_hi(r, i) <= it->pmax; i++) {
		if (it->action == EW_ACCEPT) {
			if (!r->accepted[i] && r->count[i] <= cutoff)
				r->accepted[i] = 1;
		} else if (r->count[i] <= UINT64_MAX - count) {
			r->count[i] += count;
		} else {
			r->count[i] = UINT64_MAX;
		}
	}
	return 0;
}

char *
ew_policy_summarize(const struct ew_item *items, size_t n, int family)
{
	struct runs r;
	struct ew_buf acc = EW_BUF_INIT, rej = EW_BUF_INIT, out = EW_BUF_INIT;
	size_t i, start = 0;
	char *res = NULL;

	if (runs_init(&r) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (items[i].addr.family == family && add_item(&r, &items[i]))
			goto done;
	}
	/* Merge neighbouring runs of the same mark into "N" or "N-M". */
	for (i = 0; i < r.n; i++) {
		if (i + 1 < r.n && r.accepted[i] == r.accepted[i + 1])
			continue;
		{
			struct ew_buf *b = r.accepted[i] ? &acc : &rej;
			uint32_t lo = r.lo[start], hi = run_hi(&r, i);

			if (b->len > 0)
				ew_buf_putc(b, ',');
			if (lo == hi)
				ew_buf_printf(b, "%u", lo);
			else
				ew_buf_printf(b, "%u-%u", lo, hi);
		}
		start = i + 1;
	}
	if (acc.len == 0) {
		ew_buf_puts(&out, "reject 1-65535");
	} else if (rej.len == 0) {
		ew_buf_puts(&out, "accept 1-65535");
	} else if (rej.len > SUMMARY_MAX - 7 && acc.len > SUMMARY_MAX - 7) {
		size_t c = SUMMARY_MAX - 7;

		while (acc.p[c] != ',')
			c--;
		ew_buf_printf(&out, "accept %.*s", (int)c, acc.p);
	} else if (rej.len < acc.len) {
		ew_buf_printf(&out, "reject %s", rej.p);
	} else {
		ew_buf_printf(&out, "accept %s", acc.p);
	}
	if (!acc.oom && !rej.oom)
		res = ew_buf_detach(&out);
done:
	runs_free(&r);
	ew_buf_free(&acc);
	ew_buf_free(&rej);
	ew_buf_free(&out);
	return res;
}

/*
 * Short (summary) policies as clients read them: tor's
 * parse_short_policy, write_short_policy and
 * compare_tor_addr_to_short_policy.
 */
struct ew_short_policy {
	int accept;
	size_t n;
	struct ew_range r[];
};

/* At most this many entries (MAX_EXITPOLICY_SUMMARY_LEN). */
#define SHORT_MAX_ENTRIES 1000

struct ew_short_policy *
ew_short_policy_parse(const char *s)
{
	struct ew_short_policy *sp;
	const char *p;
	char *next;
	size_t n = 0;
	int accept;

	if (strncmp(s, "accept ", 7) == 0)
		accept = 1;
	else if (strncmp(s, "reject ", 7) == 0)
		accept = 0;
	else
		return NULL;
	sp = malloc(sizeof(*sp) + SHORT_MAX_ENTRIES * sizeof(sp->r[0]));
	if (sp == NULL)
		return NULL;
	sp->accept = accept;
	for (p = s + 7; *p != '\0'; p = next) {
		unsigned long lo, hi;
		int ok;

		if (n == SHORT_MAX_ENTRIES)
			goto bad;
		errno = 0;
		lo = strtoul(p, &next, 10);
		ok = errno == 0 && next != p && lo >= 1 && lo <= 65535;
		if (!ok) {
			if (!(*p >= '0' && *p <= '9') || *p == ',') {
				/* an unrecognised entry is skipped */
				next = strchr(next, ',');
				if (next == NULL)
					break;
				next++;
				continue;
			}
			goto bad;
		}
		if (*next == ',' || *next == '\0') {
			if (*next == ',')
				next++;
			hi = lo;
		} else if (*next == '-') {
			const char *q = next + 1;

			errno = 0;
			hi = strtoul(q, &next, 10);
			if (errno != 0 || next == q || hi < lo || hi > 65535)
				goto bad;
			if (*next == ',')
				next++;
			else if (*next != '\0')
				goto bad;
		} else {
			goto bad;
		}
		sp->r[n].lo = (uint16_t)lo;
		sp->r[n].hi = (uint16_t)hi;
		n++;
	}
	if (n == 0)
		goto bad;
	sp->n = n;
	return sp;
bad:
	free(sp);
	return NULL;
}

void
ew_short_policy_free(struct ew_short_policy *sp)
{
	free(sp);
}

char *
ew_short_policy_format(const struct ew_short_policy *sp)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;

	ew_buf_puts(&b, sp->accept ? "accept " : "reject ");
	for (i = 0; i < sp->n; i++) {
		if (i > 0)
			ew_buf_putc(&b, ',');
		if (sp->r[i].lo == sp->r[i].hi)
			ew_buf_printf(&b, "%u", sp->r[i].lo);
		else
			ew_buf_printf(&b, "%u-%u", sp->r[i].lo, sp->r[i].hi);
	}
	return ew_buf_detach(&b);
}

int
ew_short_policy_accepts(const struct ew_short_policy *sp, uint16_t port)
{
	size_t i;

	for (i = 0; i < sp->n; i++) {
		if (sp->r[i].lo <= port && port <= sp->r[i].hi)
			return sp->accept;
	}
	return !sp->accept;
}
