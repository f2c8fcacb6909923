/*
 * nft_split.c - a first load of a big table in two transactions, still
 * all or nothing (nft.h, ew_nft_split): the ruleset text taken apart
 * into the skeleton libnftables loads (every declaration and rule, the
 * big sets empty, the base chains' rules in regular "staging" chains
 * that nothing reaches) and what ew_nft_golive sends in one netlink
 * batch (the big sets' elements, the base chains made with their hooks
 * and the staged rules, the staging chains deleted).
 *
 * Only text of the shape ew_nft_ruleset writes is split; anything else
 * (-EAGAIN) is loaded as it is.  Pure: no kernel, no library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "lib/addr.h"
#include "lib/buf.h"

#define STAGE_PFX "ew_stage_"

/* One line of the text: [s, s + len), without its newline. */
struct line {
	const char *s;
	size_t len;
};

static int
next_line(const char **p, struct line *l)
{
	const char *e;

	if (**p == '\0')
		return 0;
	e = strchr(*p, '\n');
	l->s = *p;
	l->len = e != NULL ? (size_t)(e - *p) : strlen(*p);
	*p = e != NULL ? e + 1 : *p + l->len;
	return 1;
}

static int
is(const struct line *l, const char *s)
{
	return ew_str_is(s, l->s, l->len);
}

static int
starts(const struct line *l, const char *s)
{
	size_t n = strlen(s);

	return l->len >= n && memcmp(l->s, s, n) == 0;
}

static void
put_line(struct ew_buf *b, const struct line *l)
{
	ew_buf_add(b, l->s, l->len);
	ew_buf_putc(b, '\n');
}

void
ew_nft_split_free(struct ew_nft_split *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	ew_buf_free(&sp->skel);
	for (i = 0; i < sp->nsets; i++) {
		free(sp->sets[i].name);
		free(sp->sets[i].keys);
	}
	free(sp->sets);
	for (i = 0; i < sp->nchains; i++) {
		free(sp->chains[i].name);
		free(sp->chains[i].stage);
		free(sp->chains[i].type);
	}
	free(sp->chains);
	memset(sp, 0, sizeof(*sp));
}

/* A decimal number of at most `max`, from *s up to a byte not a digit. */
static int
num(const char **s, const char *e, unsigned max, unsigned *out)
{
	unsigned v = 0;
	const char *p = *s;

	if (p == e || *p < '0' || *p > '9')
		return -1;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max || p - *s > 3)
			return -1;
	}
	*s = p;
	*out = v;
	return 0;
}

static int
ip4(const char **s, const char *e, uint8_t out[4])
{
	unsigned i, v;

	for (i = 0; i < 4; i++) {
		if (i > 0 && (*s == e || *(*s)++ != '.'))
			return -1;
		if (num(s, e, 255, &v) < 0)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/*
 * An element as the emitter writes it ("a.b.c.d", "a.b.c.d/len",
 * "lo-hi", or the same for IPv6) into lo and hi, klen bytes each.
 */
static int
elem_keys(const char *s, size_t n, int fam, uint8_t *lo, uint8_t *hi)
{
	const char *e = s + n, *p = s;
	struct ew_nft_elem el;
	char a[2 * EW_ADDR_STRLEN + 2];
	unsigned len, i;

	if (fam == EW_AF_INET && ip4(&p, e, lo) == 0) {
		memcpy(hi, lo, 4);
		if (p == e)
			return 0;
		if (*p == '-') {
			p++;
			return ip4(&p, e, hi) == 0 && p == e &&
				       memcmp(lo, hi, 4) <= 0
				   ? 0
				   : -1;
		}
		if (*p++ != '/' || num(&p, e, 32, &len) < 0 || p != e)
			return -1;
		for (i = len; i < 32; i++) {
			uint8_t m = (uint8_t)(0x80u >> (i % 8));

			if (lo[i / 8] & m)
				return -1; /* host bits: not what we write */
			hi[i / 8] |= m;
		}
		return 0;
	}
	if (fam != EW_AF_INET6 || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (ew_nft_elem_parse(a, &el) < 0 || el.lo.family != EW_AF_INET6)
		return -1;
	memcpy(lo, el.lo.b, 16);
	memcpy(hi, el.hi.b, 16);
	return 0;
}

/*
 * A set whose declaration is "\tset NAME {", "\t\ttype ipv4_addr" or
 * ipv6_addr, "\t\tflags interval", "\t\telements = {", element lines
 * without timeouts, "\t\t}": its elements read into a new sp->sets
 * entry and its declaration (without elements) put in the skeleton.
 * *p is just after the "set" line on entry, after the elements' "}"
 * on return.  1: done; 0: not such a set (nothing read, *p unchanged);
 * <0: an error.
 */
static int
take_set(const char **p, const struct line *head, struct ew_nft_split *sp)
{
	const char *q = *p;
	struct line type, flags, el;
	struct ew_nft_bigset *s, *nv;
	size_t klen, cap = 0;
	int fam;

	if (!next_line(&q, &type) || !next_line(&q, &flags) ||
	    !next_line(&q, &el) || !is(&flags, "\t\tflags interval") ||
	    !is(&el, "\t\telements = {"))
		return 0;
	if (is(&type, "\t\ttype ipv4_addr"))
		fam = EW_AF_INET;
	else if (is(&type, "\t\ttype ipv6_addr"))
		fam = EW_AF_INET6;
	else
		return 0;
	klen = fam == EW_AF_INET ? 4 : 16;
	nv = realloc(sp->sets, (sp->nsets + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	sp->sets = nv;
	s = &sp->sets[sp->nsets++];
	memset(s, 0, sizeof(*s));
	s->family = fam;
	s->name = ew_strndup(head->s + 5, head->len - 7);
	if (s->name == NULL)
		return -ENOMEM;
	for (;;) {
		size_t n;

		if (!next_line(&q, &el))
			return -EAGAIN;
		if (is(&el, "\t\t}"))
			break;
		if (!starts(&el, "\t\t\t") || el.len < 4)
			return -EAGAIN;
		n = el.len - 3;
		if (el.s[el.len - 1] == ',')
			n--;
		if (memchr(el.s + 3, ' ', n) != NULL)
			return -EAGAIN; /* a timeout: not ours to move */
		if (s->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			uint8_t *nk = realloc(s->keys, nc * 2 * klen);

			if (nk == NULL)
				return -ENOMEM;
			s->keys = nk;
			cap = nc;
		}
		if (elem_keys(el.s + 3, n, fam, s->keys + 2 * klen * s->n,
			s->keys + 2 * klen * s->n + klen) < 0)
			return -EAGAIN;
		s->n++;
	}
	sp->elements += s->n;
	put_line(&sp->skel, head);
	put_line(&sp->skel, &type);
	put_line(&sp->skel, &flags);
	*p = q;
	return 1;
}

/* "type filter hook output priority filter; policy accept;" */
static int
parse_hook(const struct line *l, struct ew_nft_basechain *c)
{
	static const struct {
		const char *name;
		enum ew_nft_hook num;
	} hooks[] = {
		{ "prerouting", EW_NFT_HOOK_PREROUTING },
		{ "input", EW_NFT_HOOK_INPUT },
		{ "forward", EW_NFT_HOOK_FORWARD },
		{ "output", EW_NFT_HOOK_OUTPUT },
		{ "postrouting", EW_NFT_HOOK_POSTROUTING },
	};
	char type[16], hook[16], prio[16], pol[16], tmp[128], *end;
	size_t i;
	long v;
	int n = 0;

	if (l->len >= sizeof(tmp))
		return -1;
	memcpy(tmp, l->s, l->len);
	tmp[l->len] = '\0';
	if (sscanf(tmp,
		"\t\ttype %15s hook %15s priority %15[^;]; policy %15[^;];%n",
		type, hook, prio, pol, &n) != 4 ||
	    (size_t)n != l->len)
		return -1;
	if (strcmp(type, "filter") != 0)
		return -1;
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (strcmp(hook, hooks[i].name) == 0)
			break;
	if (i == sizeof(hooks) / sizeof(hooks[0]))
		return -1;
	c->hook = hooks[i].num;
	if (strcmp(prio, "filter") == 0) {
		c->prio = 0;
	} else {
		v = strtol(prio, &end, 10);
		if (*end != '\0' || v < -1000000 || v > 1000000)
			return -1;
		c->prio = (int32_t)v;
	}
	if (strcmp(pol, "accept") == 0)
		c->accept = 1;
	else if (strcmp(pol, "drop") == 0)
		c->accept = 0;
	else
		return -1;
	c->type = strdup(type);
	return c->type == NULL ? -ENOMEM : 0;
}

/*
 * A base chain "\tchain NAME {" with its "\t\ttype ..." line: made a
 * regular chain STAGE_PFX NAME in the skeleton.  Its rules must not
 * hold anonymous sets (they could not be bound to a second rule).
 * 1: done; 0: not a base chain; <0: an error.
 */
static int
take_chain(const char **p, const struct line *head, struct ew_nft_split *sp)
{
	const char *q = *p;
	struct line type, r;
	struct ew_nft_basechain *c, *nv;
	int rc;

	if (!next_line(&q, &type) || !starts(&type, "\t\ttype "))
		return 0;
	nv = realloc(sp->chains, (sp->nchains + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	sp->chains = nv;
	c = &sp->chains[sp->nchains++];
	memset(c, 0, sizeof(*c));
	c->name = ew_strndup(head->s + 7, head->len - 9);
	if (c->name == NULL)
		return -ENOMEM;
	if ((rc = parse_hook(&type, c)) != 0)
		return rc == -ENOMEM ? rc : -EAGAIN;
	c->stage = malloc(sizeof(STAGE_PFX) + strlen(c->name));
	if (c->stage == NULL)
		return -ENOMEM;
	memcpy(c->stage, STAGE_PFX, sizeof(STAGE_PFX) - 1);
	memcpy(c->stage + sizeof(STAGE_PFX) - 1, c->name, strlen(c->name) + 1);
	ew_buf_printf(&sp->skel, "\tchain %s {\n", c->stage);
	for (;;) {
		if (!next_line(&q, &r))
			return -EAGAIN;
		if (memchr(r.s, '{', r.len) != NULL)
			return -EAGAIN;
		put_line(&sp->skel, &r);
		if (is(&r, "\t}"))
			break;
	}
	*p = q;
	return 1;
}

int
ew_nft_split(const char *text, struct ew_nft_split *sp)
{
	const char *p = text;
	struct line l;
	int rc = 0, created = 0, depth = 0;

	memset(sp, 0, sizeof(*sp));
	if (strstr(text, "chain " STAGE_PFX) != NULL)
		return -EAGAIN;
	while (rc >= 0 && next_line(&p, &l)) {
		if (depth == 0 &&
		    (is(&l, "table " EW_NFT_FAMILY " " EW_NFT_TABLE " {}") ||
			is(&l,
			    "delete table " EW_NFT_FAMILY " " EW_NFT_TABLE))) {
			/* no replacing: the table must not exist */
			if (!created)
				ew_buf_puts(&sp->skel,
				    "create table " EW_NFT_FAMILY
				    " " EW_NFT_TABLE "\n");
			created = 1;
			continue;
		}
		if (depth == 0 &&
		    is(&l, "table " EW_NFT_FAMILY " " EW_NFT_TABLE " {")) {
			depth = 1;
		} else if (depth == 1 && is(&l, "}")) {
			depth = 0;
		} else if (depth == 1 && starts(&l, "\tset ") && l.len > 7 &&
			   memcmp(l.s + l.len - 2, " {", 2) == 0) {
			if ((rc = take_set(&p, &l, sp)) != 0)
				continue;
		} else if (depth == 1 && starts(&l, "\tchain ") && l.len > 9 &&
			   memcmp(l.s + l.len - 2, " {", 2) == 0) {
			if ((rc = take_chain(&p, &l, sp)) != 0)
				continue;
		}
		put_line(&sp->skel, &l);
	}
	if (rc >= 0 && (!created || depth != 0 || sp->nchains == 0))
		rc = -EAGAIN;
	if (rc >= 0 && sp->skel.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		ew_nft_split_free(sp);
		return rc;
	}
	return 0;
}
