/*
 * nft_text.c - the expanded policy as the ruleset text of "table inet
 * exitwarden" (nft.h says what it enforces and why).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "emit/nft_guard.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "lib/tm.h"
#include "policy/policy.h"

__extension__ typedef unsigned __int128 u128;

struct ival {
	u128 lo, hi;
};

/* One expanded item of a run, reduced to what the kernel matches. */
struct entry {
	struct ival iv;
	uint16_t pmin, pmax;
};

struct prange {
	uint16_t lo, hi;
};

/* Addresses (merged, disjoint, sorted) and the port ranges using them. */
struct class
{
	struct ival *iv;
	size_t n;
	struct prange *pr;
	size_t npr;
};

static u128
fam_max(int fam)
{
	return fam == EW_AF_INET ? (u128)0xffffffffu : ~(u128)0;
}

static unsigned
fam_bits(int fam)
{
	return fam == EW_AF_INET ? 32 : 128;
}

static u128
addr_val(const struct ew_addr *a)
{
	u128 v = 0;
	unsigned i, nb = a->family == EW_AF_INET ? 4 : 16;

	for (i = 0; i < nb; i++)
		v = (v << 8) | a->b[i];
	return v;
}

static void
val_addr(int fam, u128 v, struct ew_addr *a)
{
	int i, nb = fam == EW_AF_INET ? 4 : 16;

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)fam;
	for (i = nb - 1; i >= 0; i--) {
		a->b[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static struct ival
item_ival(const struct ew_item *it)
{
	unsigned w = fam_bits(it->addr.family);
	u128 v = addr_val(&it->addr), host;
	struct ival r;

	host =
	    it->maskbits >= w ? 0 : (fam_max(it->addr.family) >> it->maskbits);
	r.lo = v & ~host & fam_max(it->addr.family);
	r.hi = r.lo | host;
	return r;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->pmin != y->pmin)
		return x->pmin < y->pmin ? -1 : 1;
	if (x->pmax != y->pmax)
		return x->pmax < y->pmax ? -1 : 1;
	if (x->iv.lo != y->iv.lo)
		return x->iv.lo < y->iv.lo ? -1 : 1;
	if (x->iv.hi != y->iv.hi)
		return x->iv.hi < y->iv.hi ? -1 : 1;
	return 0;
}

/*
 * Sort IPv4 entries by (pmin, pmax, lo) with a stable radix sort of a
 * 64-bit key (the order among equal keys does not change what merge()
 * makes of them): a million entries in a few passes over 16-byte
 * records, where qsort moved 48-byte entries twenty times each.  -1 on
 * ENOMEM (the caller falls back to qsort).
 */
struct key4 {
	uint64_t k;
	uint32_t hi;
};

static int
sort_entries4(struct entry *v, size_t n)
{
	struct key4 *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	struct key4 *src = a, *dst = b, *t;
	size_t cnt[8][256], i, sum;
	unsigned k, x;

	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return -1;
	}
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < n; i++) {
		a[i].k = (uint64_t)v[i].pmin << 48 | (uint64_t)v[i].pmax << 32 |
			 (uint64_t)v[i].iv.lo;
		a[i].hi = (uint32_t)v[i].iv.hi;
		for (k = 0; k < 8; k++)
			cnt[k][(a[i].k >> (8 * k)) & 0xff]++;
	}
	for (k = 0; k < 8; k++) {
		if (cnt[k][(a[0].k >> (8 * k)) & 0xff] == n)
			continue; /* the same byte everywhere */
		for (x = 0, sum = 0; x < 256; x++) {
			size_t c = cnt[k][x];

			cnt[k][x] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[k][(src[i].k >> (8 * k)) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	for (i = 0; i < n; i++) {
		v[i].pmin = (uint16_t)(src[i].k >> 48);
		v[i].pmax = (uint16_t)(src[i].k >> 32);
		v[i].iv.lo = (uint32_t)src[i].k;
		v[i].iv.hi = src[i].hi;
	}
	free(a);
	free(b);
	return 0;
}

/*
 * sort_entries4 for the common case, every entry with the same ports
 * (a table's items in one rule): (lo, hi) packed in 8 bytes and sorted
 * by lo, 11 bits a pass (three passes over 8-byte records, where the
 * general sort makes four over 16-byte ones).  1 when the ports are not
 * all the same (nothing done), -1 on ENOMEM, 0 when sorted.
 */
static int
sort_lohi4(struct entry *v, size_t n)
{
	uint64_t *a = ew_mem_big(n * sizeof(*a)), *b, *src, *dst, *t;
	size_t cnt[3][2048], i, sum;
	unsigned k, x;

	if (a == NULL)
		return -1;
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < n; i++) {
		if (v[i].pmin != v[0].pmin || v[i].pmax != v[0].pmax) {
			free(a);
			return 1;
		}
		a[i] =
		    (uint64_t)(uint32_t)v[i].iv.lo << 32 | (uint32_t)v[i].iv.hi;
		for (k = 0; k < 3; k++)
			cnt[k][(a[i] >> (32 + 11 * k)) & 0x7ff]++;
	}
	if ((b = ew_mem_big(n * sizeof(*b))) == NULL) {
		free(a);
		return -1;
	}
	src = a;
	dst = b;
	for (k = 0; k < 3; k++) {
		unsigned sh = 32 + 11 * k;

		if (cnt[k][(a[0] >> sh) & 0x7ff] == n)
			continue; /* the same digit everywhere */
		for (x = 0, sum = 0; x < 2048; x++) {
			size_t c = cnt[k][x];

			cnt[k][x] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[k][(src[i] >> sh) & 0x7ff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	for (i = 0; i < n; i++) {
		v[i].iv.lo = (uint32_t)(src[i] >> 32);
		v[i].iv.hi = (uint32_t)src[i];
	}
	free(a);
	free(b);
	return 0;
}

/* Merge sorted intervals in place (overlapping or adjacent ones). */
static size_t
merge(struct ival *v, size_t n, u128 max)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (k > 0 &&
		    (v[k - 1].hi == max || v[i].lo <= v[k - 1].hi + 1)) {
			if (v[i].hi > v[k - 1].hi)
				v[k - 1].hi = v[i].hi;
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

/* Dotted IPv4 into s; returns the end. */
static char *
fmt4(char *s, uint32_t v)
{
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned o = (v >> (8 * i)) & 0xff;

		if (o >= 100)
			*s++ = (char)('0' + o / 100);
		if (o >= 10)
			*s++ = (char)('0' + o / 10 % 10);
		*s++ = (char)('0' + o % 10);
		if (i > 0)
			*s++ = '.';
	}
	return s;
}

/* An IPv4 interval as put_ival writes it into s (room for 32 bytes);
 * returns the end. */
static char *
fmt_ival4(char *s, const struct ival *iv)
{
	char *e;
	uint32_t lo = (uint32_t)iv->lo, span = (uint32_t)(iv->hi - iv->lo);
	unsigned len;

	e = fmt4(s, lo);
	if (span == 0xffffffffu) {
		memcpy(e, "/0", 2);
		e += 2;
	} else if (((span + 1) & span) == 0 && (lo & span) == 0) {
		for (len = 32; span != 0; span >>= 1)
			len--;
		if (len < 32) {
			*e++ = '/';
			if (len >= 10)
				*e++ = (char)('0' + len / 10);
			*e++ = (char)('0' + len % 10);
		}
	} else {
		*e++ = '-';
		e = fmt4(e, (uint32_t)iv->hi);
	}
	return e;
}

/* put_ival for IPv4, without the general formatter (a million of these
 * make a big table's text). */
static void
put_ival4(struct ew_buf *out, const struct ival *iv)
{
	char s[48];

	ew_buf_add(out, s, (size_t)(fmt_ival4(s, iv) - s));
}

/* "a.b.c.d", "a.b.c.d/len" or "lo-hi". */
static void
put_ival(struct ew_buf *out, int fam, const struct ival *iv)
{
	char s[EW_ADDR_STRLEN];
	struct ew_addr a;
	u128 span = iv->hi - iv->lo;
	unsigned w = fam_bits(fam), len;

	if (fam == EW_AF_INET) {
		put_ival4(out, iv);
		return;
	}

	val_addr(fam, iv->lo, &a);
	ew_addr_format(&a, 0, s, sizeof(s));
	ew_buf_puts(out, s);
	/* a prefix: span + 1 a power of two and lo aligned to it */
	if (span == fam_max(fam)) {
		ew_buf_puts(out, "/0");
		return;
	}
	if (((span + 1) & span) == 0 && (iv->lo & span) == 0) {
		for (len = w; span != 0; span >>= 1)
			len--;
		if (len < w)
			ew_buf_printf(out, "/%u", len);
		return;
	}
	val_addr(fam, iv->hi, &a);
	ew_addr_format(&a, 0, s, sizeof(s));
	ew_buf_printf(out, "-%s", s);
}

/* A comment's text: printable ASCII without quotes, at most max bytes. */
static void
put_comment(struct ew_buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			c = '\'';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		ew_buf_putc(out, (char)c);
	}
}

static int
ticket_ok(const char *t)
{
	size_t i;

	if (t == NULL || t[0] == '\0' || strlen(t) > 64)
		return 0;
	for (i = 0; t[i] != '\0'; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' ||
			c == '.' || c == ':' || c == '/' || c == '#'))
			return 0;
	}
	return 1;
}

struct gen {
	const struct ew_policy *p;
	const struct ew_nft_opts *o;
	const char *pfx;      /* the relay's name prefix: "" for one relay */
	struct ew_buf sets;   /* set declarations */
	struct ew_buf chain;  /* rules of the policy chain */
	struct ew_buf chains; /* the shard chains */
	struct ew_nft_stats st;
	unsigned char *counted;         /* per source rule: counter declared */
	char (*names)[EW_NFT_NAME_MAX]; /* per source rule: its counter */
	struct ew_nft_compact *pack;    /* or NULL: IPv4 elements as text */
	int err;
};

/* An IPv4 set's elements into g->pack: its array, and the marker line
 * in the text.  0 or -ENOMEM. */
static int
pack_elems4(struct gen *g, const char *name, const struct ival *iv, size_t n,
    u128 lo, u128 hi)
{
	struct ew_nft_compact *c = g->pack;
	struct ew_nft_packed *nv, *k;
	size_t i;

	nv = realloc(c->sets, (c->nsets + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	c->sets = nv;
	k = &c->sets[c->nsets];
	memset(k, 0, sizeof(*k));
	k->name = strdup(name);
	k->iv = n > 0 ? ew_mem_big(2 * n * sizeof(*k->iv)) : NULL;
	if (k->name == NULL || (n > 0 && k->iv == NULL)) {
		free(k->name);
		free(k->iv);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		k->iv[2 * i] = (uint32_t)(iv[i].lo > lo ? iv[i].lo : lo);
		k->iv[2 * i + 1] = (uint32_t)(iv[i].hi < hi ? iv[i].hi : hi);
	}
	k->n = n;
	ew_buf_printf(&g->sets, "\t\t#elements %zu\n", c->nsets++);
	return 0;
}

static void
put_ports(struct ew_buf *b, const struct class *c)
{
	size_t i;

	if (c->npr == 1 && c->pr[0].lo <= 1 && c->pr[0].hi == 65535) {
		ew_buf_puts(b, "meta l4proto tcp");
		return;
	}
	ew_buf_puts(b, "tcp dport ");
	if (c->npr > 1)
		ew_buf_puts(b, "{ ");
	for (i = 0; i < c->npr; i++) {
		if (i > 0)
			ew_buf_puts(b, ", ");
		if (c->pr[i].lo == c->pr[i].hi)
			ew_buf_printf(b, "%u", c->pr[i].lo);
		else
			ew_buf_printf(b, "%u-%u", c->pr[i].lo, c->pr[i].hi);
	}
	if (c->npr > 1)
		ew_buf_puts(b, " }");
}

/* The element lines of an IPv4 set without timeouts, as the general
 * loop of put_set_clip writes them: room for all of them at once, one
 * copy a line. */
static void
put_elems4(struct ew_buf *s, const struct ival *iv, size_t n, u128 lo, u128 hi)
{
	char line[64], *e;
	struct ival x;
	size_t i;

	if (n > ((size_t)-1 / 2) / 40 || ew_buf_grow(s, n * 40) < 0)
		return; /* s->oom set */
	memcpy(line, "\t\t\t", 3);
	for (i = 0; i < n; i++) {
		x.lo = iv[i].lo > lo ? iv[i].lo : lo;
		x.hi = iv[i].hi < hi ? iv[i].hi : hi;
		e = fmt_ival4(line + 3, &x);
		if (i + 1 < n)
			*e++ = ',';
		*e++ = '\n';
		memcpy(s->p + s->len, line, (size_t)(e - line));
		s->len += (size_t)(e - line);
	}
	s->p[s->len] = '\0';
}

/* A named interval set of our table: the intervals iv[0..n) cut to
 * [lo, hi] (the first and last may reach out of a /4 shard). */
static void
put_set_clip(struct gen *g, const char *name, int fam, const struct ival *iv,
    size_t n, int64_t timeout, u128 lo, u128 hi)
{
	struct ew_buf *s = &g->sets;
	struct ival x;
	size_t i;

	ew_buf_printf(s, "\tset %s {\n\t\ttype %s_addr\n", name,
	    fam == EW_AF_INET ? "ipv4" : "ipv6");
	ew_buf_printf(s, "\t\tflags interval%s\n", timeout ? ", timeout" : "");
	if (g->pack != NULL && fam == EW_AF_INET && !timeout) {
		if (pack_elems4(g, name, iv, n, lo, hi) < 0)
			g->err = -ENOMEM;
		ew_buf_puts(s, "\t}\n");
		goto done;
	}
	if (n == 0) {
		ew_buf_puts(s, "\t}\n");
		goto done;
	}
	ew_buf_puts(s, "\t\telements = {\n");
	if (fam == EW_AF_INET && !timeout) {
		put_elems4(s, iv, n, lo, hi);
		goto close;
	}
	for (i = 0; i < n; i++) {
		x.lo = iv[i].lo > lo ? iv[i].lo : lo;
		x.hi = iv[i].hi < hi ? iv[i].hi : hi;
		ew_buf_puts(s, "\t\t\t");
		put_ival(s, fam, &x);
		if (timeout) {
			ew_buf_putc(s, ' ');
			ew_nft_put_timeout(s, timeout);
		}
		ew_buf_puts(s, i + 1 < n ? ",\n" : "\n");
	}
close:
	ew_buf_puts(s, "\t\t}\n\t}\n");
done:
	g->st.sets++;
	g->st.elements += n;
}

static void
put_set(struct gen *g, const char *name, int fam, const struct ival *iv,
    size_t n, int64_t timeout)
{
	put_set_clip(g, name, fam, iv, n, timeout, 0, fam_max(fam));
}

/* Ports, counter, verdict and comment of a rule, and its newline. */
static void
put_tail(struct ew_buf *b, const char *pfx, const struct ew_rule_info *ri,
    const char *name, int action, const struct class *c)
{
	ew_buf_putc(b, ' ');
	put_ports(b, c);
	ew_buf_printf(b, " counter name \"%s%s\" %s", pfx, name,
	    action == EW_ACCEPT ? "accept" : "reject with tcp reset");
	if (ticket_ok(ri->ticket) || ri->expires != EW_NEVER) {
		char t[EW_TIME_STRLEN];

		ew_buf_puts(b, " comment \"");
		if (ticket_ok(ri->ticket))
			ew_buf_printf(b, "ticket %s", ri->ticket);
		if (ticket_ok(ri->ticket) && ri->expires != EW_NEVER)
			ew_buf_putc(b, ' ');
		if (ri->expires != EW_NEVER)
			ew_buf_printf(b, "expires %s",
			    ew_time_format(ri->expires, t, sizeof(t)));
		ew_buf_putc(b, '"');
	}
	ew_buf_putc(b, '\n');
}

/*
 * A big IPv4 class, sharded by the address's top four bits: one set and
 * one chain per non-empty /4, and one verdict-map rule jumping to them.
 * The kernel rebuilds a set's lookup array on every commit that changes
 * it, so a one-element update then costs a sixteenth of the whole.
 */
static void
emit_sharded(struct gen *g, const struct ew_rule_info *ri, uint32_t rule,
    int action, const struct class *c, const char *base, int64_t timeout)
{
	struct ew_buf *b = &g->chain, *ch = &g->chains;
	size_t i = 0, j;
	unsigned k, used = 0;

	ew_buf_puts(b, "\t\tip daddr vmap { ");
	for (k = 0; k < EW_NFT_SHARDS; k++) {
		u128 lo = (u128)k << 28, hi = lo | 0x0fffffff;
		char name[160];

		/* c->iv[i..j): the intervals meeting this /4 (sorted and
		 * disjoint: the last one may go on in the next) */
		while (i < c->n && c->iv[i].hi < lo)
			i++;
		for (j = i; j < c->n && c->iv[j].lo <= hi; j++)
			;
		/* empty shards too: one-element updates may need them */
		snprintf(name, sizeof(name), "%s_s%u", base, k);
		put_set_clip(
		    g, name, EW_AF_INET, c->iv + i, j - i, timeout, lo, hi);
		ew_buf_printf(ch, "\tchain %s {\n\t\tip daddr @%s", name, name);
		put_tail(ch, g->pfx, ri, g->names[rule], action, c);
		ew_buf_puts(ch, "\t}\n");
		ew_buf_printf(b, "%s%u.0.0.0/4 : jump %s", used++ ? ", " : "",
		    k << 4, name);
	}
	ew_buf_puts(b, " }\n");
	g->st.rules++;
}

/* One nft rule for one class of a run. */
static void
emit_class(struct gen *g, uint32_t rule, int action, int fam,
    const struct class *c, unsigned *setno)
{
	struct ew_rule_info ri;
	struct ew_buf *b = &g->chain;
	const char *kw = fam == EW_AF_INET ? "ip" : "ip6";
	int wild = c->n == 1 && c->iv[0].lo == 0 && c->iv[0].hi == fam_max(fam);
	int64_t timeout = 0;
	size_t i;

	ew_policy_rule_info(g->p, rule, &ri);
	g->counted[rule] = 1;
	if (ri.expires != EW_NEVER && ri.expires > g->o->now &&
	    ri.expires - g->o->now <= EW_NFT_TIMEOUT_MAX)
		timeout = ri.expires - g->o->now;
	if (fam == EW_AF_INET && c->n > EW_NFT_SHARD_MIN) {
		char name[128];

		snprintf(name, sizeof(name), "%s%s_v%d_%u", g->pfx,
		    g->names[rule], fam, (*setno)++);
		emit_sharded(g, &ri, rule, action, c, name, timeout);
		return;
	}
	ew_buf_puts(b, "\t\t");
	if (wild && timeout == 0) {
		ew_buf_printf(
		    b, "meta nfproto %s", fam == EW_AF_INET ? "ipv4" : "ipv6");
	} else if (c->n <= EW_NFT_INLINE_MAX && timeout == 0) {
		ew_buf_printf(b, "%s daddr ", kw);
		if (c->n > 1)
			ew_buf_puts(b, "{ ");
		for (i = 0; i < c->n; i++) {
			if (i > 0)
				ew_buf_puts(b, ", ");
			put_ival(b, fam, &c->iv[i]);
		}
		if (c->n > 1)
			ew_buf_puts(b, " }");
	} else {
		char name[128];

		snprintf(name, sizeof(name), "%s%s_v%d_%u", g->pfx,
		    g->names[rule], fam, (*setno)++);
		put_set(g, name, fam, c->iv, c->n, timeout);
		ew_buf_printf(b, "%s daddr @%s", kw, name);
	}
	put_tail(b, g->pfx, &ri, g->names[rule], action, c);
	g->st.rules++;
}

static int
add_prange(struct class *c, uint16_t lo, uint16_t hi)
{
	struct prange *nv;

	/* groups arrive sorted by (lo, hi): merge with the last one */
	if (c->npr > 0 && (unsigned)lo <= (unsigned)c->pr[c->npr - 1].hi + 1) {
		if (hi > c->pr[c->npr - 1].hi)
			c->pr[c->npr - 1].hi = hi;
		return 0;
	}
	nv = realloc(c->pr, (c->npr + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	c->pr = nv;
	c->pr[c->npr].lo = lo;
	c->pr[c->npr].hi = hi;
	c->npr++;
	return 0;
}

/* The entries of one family of one run: group, merge, emit. */
static int
emit_family(struct gen *g, uint32_t rule, int action, int fam, struct entry *v,
    size_t n)
{
	struct class *cls = NULL;
	struct ival *iv;
	size_t ncls = 0, i, j, k, start;
	unsigned setno = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	if (fam != EW_AF_INET || n < 64 ||
	    ((rc = sort_lohi4(v, n)) != 0 &&
		(rc < 0 || sort_entries4(v, n) < 0)))
		qsort(v, n, sizeof(*v), cmp_entry);
	rc = 0;
	iv = ew_mem_big(n * sizeof(*iv));
	cls = calloc(n, sizeof(*cls));
	if (iv == NULL || cls == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		iv[i] = v[i].iv;
	for (start = 0; start < n; start = j) {
		size_t m;

		for (j = start; j < n && v[j].pmin == v[start].pmin &&
				v[j].pmax == v[start].pmax;
		     j++)
			;
		m = merge(iv + start, j - start, fam_max(fam));
		/* the same addresses as an earlier group: share its rule */
		for (k = 0; k < ncls; k++)
			if (cls[k].n == m &&
			    memcmp(cls[k].iv, iv + start, m * sizeof(*iv)) == 0)
				break;
		if (k == ncls) {
			cls[k].iv = iv + start;
			cls[k].n = m;
			ncls++;
		}
		if (add_prange(&cls[k], v[start].pmin, v[start].pmax) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < ncls; k++)
		emit_class(g, rule, action, fam, &cls[k], &setno);
out:
	if (cls != NULL)
		for (k = 0; k < ncls; k++)
			free(cls[k].pr);
	free(cls);
	free(iv);
	return rc;
}

static int
is_catchall(const struct ew_item *it)
{
	return it->maskbits == 0 && it->pmin <= 1 && it->pmax == 65535;
}

void
ew_nft_flush_text(struct ew_buf *out)
{
	ew_buf_puts(out, "table " EW_NFT_FAMILY " " EW_NFT_TABLE " {}\n"
			 "delete table " EW_NFT_FAMILY " " EW_NFT_TABLE "\n");
}

/* Start a generator for one relay's policy. */
static int
gen_init(struct gen *g, const struct ew_policy *p, const struct ew_nft_opts *o,
    const char *pfx)
{
	memset(g, 0, sizeof(*g));
	g->p = p;
	g->o = o;
	g->pfx = pfx;
	ew_buf_init(&g->sets);
	ew_buf_init(&g->chain);
	ew_buf_init(&g->chains);
	g->counted = calloc(ew_policy_rule_count(p) + 1, 1);
	if (ew_nft_rule_names(p, &g->names) < 0)
		g->names = NULL;
	return g->counted == NULL || g->names == NULL ? -ENOMEM : 0;
}

static void
gen_free(struct gen *g)
{
	ew_buf_free(&g->sets);
	ew_buf_free(&g->chain);
	ew_buf_free(&g->chains);
	free(g->counted);
	g->counted = NULL;
	free(g->names);
	g->names = NULL;
}

static int
gen_oom(const struct gen *g)
{
	return g->sets.oom || g->chain.oom || g->chains.oom;
}

/* The policy's rules into g's sets, chain and shard chains. */
static int
gen_rules(struct gen *g, const struct ew_expanded *e)
{
	struct entry *v4 = NULL, *v6 = NULL;
	size_t nrules = ew_policy_rule_count(g->p), i, j, n4, n6;
	int done4 = 0, done6 = 0, rc = 0;

	v4 = ew_mem_big((e->n + 1) * sizeof(*v4));
	v6 = ew_mem_big((e->n + 1) * sizeof(*v6));
	/* room for the sets' text of a big table at once: growing it by
	 * doubling copies it again and again (pages not written to cost
	 * nothing) */
	if (e->n > 4096 && e->n < ((size_t)-1 / 2) / 40)
		ew_buf_grow(&g->sets, e->n * 40);
	if (v4 == NULL || v6 == NULL) {
		free(v4);
		free(v6);
		return -ENOMEM;
	}
	for (i = 0; i < e->n && rc == 0; i = j) {
		const struct ew_item *it = &e->items[i];
		int *done = it->addr.family == EW_AF_INET ? &done4 : &done6;

		j = i + 1;
		if (it->origin != EW_ORIGIN_RULE || it->rule >= nrules ||
		    *done ||
		    (it->addr.family != EW_AF_INET &&
			it->addr.family != EW_AF_INET6)) {
			g->st.skipped++;
			continue;
		}
		if (is_catchall(it)) {
			/* tor's alone; what follows it in the family is
			 * unreachable in tor's list */
			*done = 1;
			g->st.skipped++;
			continue;
		}
		/* the run: this rule's consecutive items with one action */
		n4 = n6 = 0;
		for (j = i; j < e->n; j++) {
			const struct ew_item *x = &e->items[j];
			struct entry en;

			if (x->origin != EW_ORIGIN_RULE ||
			    x->rule != it->rule || x->action != it->action ||
			    is_catchall(x))
				break;
			if (x->addr.family == EW_AF_INET ? done4 : done6) {
				g->st.skipped++;
				continue;
			}
			en.iv = item_ival(x);
			en.pmin = x->pmin < 1 ? 1 : x->pmin;
			en.pmax = x->pmax;
			if (x->addr.family == EW_AF_INET)
				v4[n4++] = en;
			else
				v6[n6++] = en;
		}
		rc = emit_family(g, it->rule, it->action, EW_AF_INET, v4, n4);
		if (rc == 0)
			rc = emit_family(
			    g, it->rule, it->action, EW_AF_INET6, v6, n6);
	}
	free(v4);
	free(v6);
	return rc != 0 ? rc : g->err;
}

/* The named counters of the rules g emitted, then its sets and shard
 * chains: the declarations of one relay. */
static void
put_decls(struct gen *g, struct ew_buf *out)
{
	size_t nrules = ew_policy_rule_count(g->p), i;

	for (i = 0; i < nrules; i++) {
		struct ew_rule_info ri;

		if (!g->counted[i])
			continue;
		ew_policy_rule_info(g->p, i, &ri);
		ew_buf_printf(out, "\tcounter %s%s {\n\t\tcomment \"", g->pfx,
		    g->names[i]);
		/* nft takes at most 128 bytes of comment */
		put_comment(out, ri.text != NULL ? ri.text : "",
		    ticket_ok(ri.ticket) ? 112 - strlen(ri.ticket) : 120);
		if (ticket_ok(ri.ticket))
			ew_buf_printf(out, " ticket %s", ri.ticket);
		ew_buf_puts(out, "\"\n\t}\n");
		g->st.counters++;
	}
	ew_buf_add(out, g->sets.p != NULL ? g->sets.p : "", g->sets.len);
	ew_buf_add(out, g->chains.p != NULL ? g->chains.p : "", g->chains.len);
}

static const char header[] = "# generated by exitwarden: the kernel backstop "
			     "of the exit policy; do not edit\n";

static int
ruleset(const struct ew_policy *p, const struct ew_expanded *e,
    const struct ew_nft_opts *o, struct ew_buf *out, struct ew_nft_stats *st,
    struct ew_nft_compact *pack)
{
	struct gen g;
	struct ew_buf hook = EW_BUF_INIT, top = EW_BUF_INIT;
	int rc;

	if ((rc = gen_init(&g, p, o, "")) == 0) {
		g.pack = pack;
		rc = gen_rules(&g, e);
	}
	if (rc < 0)
		goto out;

	/* the sets, chains and rules copied once, not regrown */
	ew_buf_grow(out, g.sets.len + g.chains.len + 2 * g.chain.len + 65536);
	ew_buf_puts(out, header);
	ew_nft_flush_text(out);
	ew_buf_puts(out, "table " EW_NFT_FAMILY " " EW_NFT_TABLE " {\n");
	put_decls(&g, out);
	ew_nft_emit_guards(p, o, out, &hook, &top);
	ew_buf_printf(out,
	    "\tchain output {\n"
	    "\t\ttype filter hook output priority filter; policy accept;\n"
	    "%s"
	    "\t\tmeta skuid %lu tcp flags & (syn | ack) == syn jump rules\n"
	    "\t}\n"
	    "\tchain rules {\n%s",
	    ew_buf_str(&hook), (unsigned long)o->uid, ew_buf_str(&top));
	ew_buf_add(out, g.chain.p != NULL ? g.chain.p : "", g.chain.len);
	ew_buf_puts(out, "\t}\n}\n");
	if (gen_oom(&g) || hook.oom || top.oom || out->oom)
		rc = -ENOMEM;
out:
	ew_buf_free(&hook);
	ew_buf_free(&top);
	if (st != NULL)
		*st = g.st;
	gen_free(&g);
	return rc;
}

int
ew_nft_ruleset(const struct ew_policy *p, const struct ew_expanded *e,
    const struct ew_nft_opts *o, struct ew_buf *out, struct ew_nft_stats *st)
{
	return ruleset(p, e, o, out, st, NULL);
}

void
ew_nft_compact_free(struct ew_nft_compact *c)
{
	size_t i;

	if (c == NULL)
		return;
	ew_buf_free(&c->text);
	for (i = 0; i < c->nsets; i++) {
		free(c->sets[i].name);
		free(c->sets[i].iv);
	}
	free(c->sets);
	memset(c, 0, sizeof(*c));
}

int
ew_nft_ruleset_compact(const struct ew_policy *p, const struct ew_expanded *e,
    const struct ew_nft_opts *o, struct ew_nft_compact *c,
    struct ew_nft_stats *st)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = ruleset(p, e, o, &c->text, st, c)) < 0)
		ew_nft_compact_free(c);
	return rc;
}

/* A marker line "\t\t#elements K\n" at s: K, or -1. */
static long
marker(const char *s, const char **end)
{
	char *e;
	long k;

	static const char m[] = "\t\t#elements ";
	const size_t ml = sizeof(m) - 1;

	if (strncmp(s, m, ml) != 0 || s[ml] < '0' || s[ml] > '9')
		return -1;
	k = strtol(s + ml, &e, 10);
	if (*e != '\n')
		return -1;
	*end = e + 1;
	return k;
}

int
ew_nft_compact_text(const struct ew_nft_compact *c, struct ew_buf *out)
{
	const char *s = ew_buf_str(&c->text), *e, *m;
	size_t total = 0, i, j;
	long k;

	for (i = 0; i < c->nsets; i++)
		total += c->sets[i].n;
	if (total < ((size_t)-1 / 2) / 40)
		ew_buf_grow(out, c->text.len + total * 40);
	while (*s != '\0') {
		/* the text up to the next marker, whole */
		for (m = s; (m = strstr(m, "\t\t#elements ")) != NULL; m++)
			if (m == s || m[-1] == '\n')
				break;
		if (m == NULL) {
			ew_buf_puts(out, s);
			break;
		}
		ew_buf_add(out, s, (size_t)(m - s));
		if ((k = marker(m, &e)) < 0 || (size_t)k >= c->nsets)
			return -EINVAL;
		s = e;
		if (c->sets[k].n == 0)
			continue;
		ew_buf_puts(out, "\t\telements = {\n");
		if (ew_buf_grow(out, c->sets[k].n * 40) < 0)
			break;
		for (j = 0; j < c->sets[k].n; j++) {
			struct ival x;
			char *p = out->p + out->len, *q;

			x.lo = c->sets[k].iv[2 * j];
			x.hi = c->sets[k].iv[2 * j + 1];
			memcpy(p, "\t\t\t", 3);
			q = fmt_ival4(p + 3, &x);
			if (j + 1 < c->sets[k].n)
				*q++ = ',';
			*q++ = '\n';
			out->len += (size_t)(q - p);
		}
		out->p[out->len] = '\0';
		ew_buf_puts(out, "\t\t}\n");
	}
	return out->oom ? -ENOMEM : 0;
}

/* ---- several relays, one table ---- */

int
ew_nft_relay_ident(const char *name, char *out, size_t cap)
{
	size_t i, k = 0;
	int letter;

	if (name == NULL || name[0] == '\0' || strlen(name) > 64 || cap < 2)
		return -EINVAL;
	letter = (name[0] >= 'a' && name[0] <= 'z') ||
		 (name[0] >= 'A' && name[0] <= 'Z');
	if (!letter) {
		if (cap < sizeof("relay_") + 1)
			return -EINVAL;
		memcpy(out, "relay_", 6);
		k = 6;
	}
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (k + 2 >= cap)
			return -EINVAL;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			out[k++] = c;
		else if (c == '.' || c == '-' || c == ':')
			out[k++] = '_';
		else
			return -EINVAL;
	}
	out[k++] = '_';
	out[k] = '\0';
	return 0;
}

static void
add_stats(struct ew_nft_stats *a, const struct ew_nft_stats *b)
{
	a->rules += b->rules;
	a->sets += b->sets;
	a->elements += b->elements;
	a->counters += b->counters;
	a->skipped += b->skipped;
}

/* The relays' names and uids are distinct, and those with guards
 * declare the same ones. */
static int
relays_ok(const struct ew_nft_relay *v, size_t n, const struct ew_nft_opts *o,
    char (*pfx)[80])
{
	size_t i, k;
	int rc;

	for (i = 0; i < n; i++) {
		if (ew_nft_relay_ident(v[i].name, pfx[i], sizeof(pfx[i])) < 0)
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (strcmp(pfx[k], pfx[i]) == 0 || v[k].uid == v[i].uid)
				return -EEXIST;
	}
	rc = ew_nft_relays_guards_differ(v, n, o, NULL, NULL);
	return rc < 0 ? rc : rc > 0 ? -ENOTSUP : 0;
}

/*
 * The host's guards, declared once (to gd), each guarded relay's jumps
 * to them (to hook) and its surge-block checks (to top[i]).  The
 * relays agree on their guards (relays_ok).
 */
static void
relays_guards(const struct ew_nft_relay *v, size_t n,
    const struct ew_nft_opts *o, struct ew_buf *gd, struct ew_buf *hook,
    struct ew_buf *top)
{
	struct ew_buf tmp = EW_BUF_INIT;
	struct ew_nft_opts one;
	size_t i;
	int done = 0;

	for (i = 0; i < n; i++) {
		if (ew_policy_guard_count(v[i].p) == 0)
			continue;
		one = *o;
		one.uid = v[i].uid;
		ew_buf_reset(&tmp);
		ew_nft_emit_guards(
		    v[i].p, &one, done ? &tmp : gd, hook, &top[i]);
		done = 1;
	}
	if (tmp.oom)
		gd->oom = 1;
	ew_buf_free(&tmp);
}

int
ew_nft_ruleset_relays(const struct ew_nft_relay *v, size_t n,
    const struct ew_nft_opts *o, struct ew_buf *out, struct ew_nft_stats *st)
{
	struct ew_nft_opts one;
	struct ew_buf gd = EW_BUF_INIT, hook = EW_BUF_INIT, *top;
	struct gen *g;
	char(*pfx)[80];
	size_t i;
	int rc = 0, oom = 0;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (n == 0)
		return -EINVAL;
	if (n == 1) {
		one = *o;
		one.uid = v[0].uid;
		return ew_nft_ruleset(v[0].p, v[0].e, &one, out, st);
	}
	g = calloc(n, sizeof(*g));
	pfx = calloc(n, sizeof(*pfx));
	top = calloc(n, sizeof(*top));
	if (g == NULL || pfx == NULL || top == NULL) {
		free(g);
		free(pfx);
		free(top);
		return -ENOMEM;
	}
	rc = relays_ok(v, n, o, pfx);
	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = gen_init(&g[i], v[i].p, o, pfx[i])) == 0)
			rc = gen_rules(&g[i], v[i].e);
	if (rc < 0)
		goto out;
	ew_buf_puts(out, header);
	ew_nft_flush_text(out);
	ew_buf_puts(out, "table " EW_NFT_FAMILY " " EW_NFT_TABLE " {\n");
	for (i = 0; i < n; i++)
		put_decls(&g[i], out);
	relays_guards(v, n, o, &gd, &hook, top);
	ew_buf_add(out, gd.p != NULL ? gd.p : "", gd.len);
	/* the dispatch: each relay's uid to its own chain */
	ew_buf_puts(out, "\tmap relays {\n\t\ttype uid : verdict\n"
			 "\t\telements = { ");
	for (i = 0; i < n; i++)
		ew_buf_printf(out, "%s%lu : jump %srules", i > 0 ? ", " : "",
		    (unsigned long)v[i].uid, pfx[i]);
	/* the guarded relays' jumps to the host's guards, then the
	 * dispatch */
	ew_buf_printf(out,
	    " }\n\t}\n"
	    "\tchain output {\n"
	    "\t\ttype filter hook output priority filter; policy accept;\n"
	    "%s"
	    "\t\ttcp flags & (syn | ack) == syn meta skuid vmap @relays\n"
	    "\t}\n",
	    ew_buf_str(&hook));
	for (i = 0; i < n; i++) {
		ew_buf_printf(
		    out, "\tchain %srules {\n%s", pfx[i], ew_buf_str(&top[i]));
		ew_buf_add(out, g[i].chain.p != NULL ? g[i].chain.p : "",
		    g[i].chain.len);
		ew_buf_puts(out, "\t}\n");
	}
	ew_buf_puts(out, "}\n");
out:
	for (i = 0; i < n; i++) {
		oom |= gen_oom(&g[i]) || top[i].oom;
		if (st != NULL)
			add_stats(st, &g[i].st);
		gen_free(&g[i]);
		ew_buf_free(&top[i]);
	}
	if (rc == 0 && (oom || gd.oom || hook.oom || out->oom))
		rc = -ENOMEM;
	ew_buf_free(&gd);
	ew_buf_free(&hook);
	free(g);
	free(pfx);
	free(top);
	return rc;
}
