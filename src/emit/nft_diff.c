/*
 * nft_diff.c - from one emitted ruleset to the next without reloading:
 * when two texts of ew_nft_ruleset differ only in the elements of sets
 * without timeouts, the element deletions and additions that turn the
 * old table into the new one (ew_nft_batch sends them in one
 * transaction).  A policy change that adds one entry to a table of a
 * million then costs one element, not a reload of all of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "lib/buf.h"

/* A cursor over one text, a line at a time. */
struct cur {
	const char *t; /* the line */
	size_t len;    /* without its newline */
};

static void
cur_init(struct cur *c, const char *text)
{
	const char *eol = strchr(text, '\n');

	c->t = text;
	c->len = eol != NULL ? (size_t)(eol - text) : strlen(text);
}

static int
cur_end(const struct cur *c)
{
	return c->t[0] == '\0';
}

static void
cur_next(struct cur *c)
{
	const char *t = c->t + c->len;

	if (*t == '\n')
		t++;
	cur_init(c, t);
}

static int
line_is(const struct cur *c, const char *s)
{
	size_t n = strlen(s);

	return c->len == n && memcmp(c->t, s, n) == 0;
}

/* An element line "\t\t\tELEMENT[ timeout T][,]": the element's text
 * (without the comma), and whether it carries a timeout. */
static int
elem_text(const struct cur *c, const char **s, size_t *n, int *timeout)
{
	const char *e, *b, *t;

	if (c->len < 4 || memcmp(c->t, "\t\t\t", 3) != 0)
		return -EINVAL;
	b = c->t + 3;
	e = c->t + c->len;
	if (e[-1] == ',')
		e--;
	/* the element ends at a blank; what follows is its timeout, a
	 * time left that differs from one apply to the next */
	*timeout = 0;
	if ((t = memchr(b, ' ', (size_t)(e - b))) != NULL) {
		*timeout = 1;
		e = t;
	}
	*s = b;
	*n = (size_t)(e - b);
	return *n > 0 ? 0 : -EINVAL;
}

static int
elem_of(const char *s, size_t n, struct ew_nft_elem *out)
{
	char a[2 * EW_ADDR_STRLEN + 2];

	if (n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	return ew_nft_elem_parse(a, out) < 0 ? -EINVAL : 0;
}

static int
cmp_elem(const struct ew_nft_elem *a, const struct ew_nft_elem *b)
{
	int c = memcmp(a->lo.b, b->lo.b, sizeof(a->lo.b));

	return c != 0 ? c : memcmp(a->hi.b, b->hi.b, sizeof(a->hi.b));
}

void
ew_nft_diff_free(struct ew_nft_diff *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->ops);
	for (i = 0; i < d->nsets; i++)
		free(d->sets[i]);
	free(d->sets);
	memset(d, 0, sizeof(*d));
}

/* The set name on a line "\tset NAME {" into d->sets; -EINVAL if not
 * such a line, 1 if it is one. */
static int
set_line(const struct cur *c, struct ew_nft_diff *d)
{
	char **ns;

	if (c->len <= 7 || memcmp(c->t, "\tset ", 5) != 0 ||
	    memcmp(c->t + c->len - 2, " {", 2) != 0)
		return 0;
	ns = realloc(d->sets, (d->nsets + 1) * sizeof(*ns));
	if (ns == NULL)
		return -ENOMEM;
	d->sets = ns;
	d->sets[d->nsets] = ew_strndup(c->t + 5, c->len - 7);
	if (d->sets[d->nsets] == NULL)
		return -ENOMEM;
	d->nsets++;
	return 1;
}

/*
 * The elements of one set, both cursors on their first element line:
 * equal lines (nearly all of them) are passed over without being
 * parsed; where they differ, both elements are read and the smaller one
 * goes (deleted from the old, added from the new), as in a merge.
 * Deletions and additions are collected apart: deletions go first.
 */
struct ops {
	struct ew_nft_op *v;
	size_t n, cap;
};

static int
ops_push(struct ops *o, const char *set, int add, const struct ew_nft_elem *e)
{
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 64;
		struct ew_nft_op *nv = realloc(o->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		o->v = nv;
		o->cap = nc;
	}
	o->v[o->n].set = set;
	o->v[o->n].add = add;
	o->v[o->n].e = *e;
	o->n++;
	return 0;
}

/*
 * Both cursors (on the first element line of a set in both texts,
 * which end at aend and bend) past the element lines the two have in
 * common: a memcmp over the block instead of a line at a time (a
 * million lines, nearly all of them equal).
 */
static void
skip_equal(struct cur *a, struct cur *b, const char *aend, const char *bend)
{
	/* no element has a '}': the first one closes the block */
	const char *blk = memchr(a->t, '}', (size_t)(aend - a->t));
	const char *nl;
	size_t m, n = 0;

	if (blk == NULL || blk - a->t < 3 || memcmp(blk - 3, "\n\t\t}", 4))
		return;
	m = (size_t)(blk - a->t) - 2; /* up to the block's "\t\t}" line */
	if (m > (size_t)(bend - b->t))
		m = (size_t)(bend - b->t);
	while (n < m) {
		size_t k = m - n < 4096 ? m - n : 4096;

		if (memcmp(a->t + n, b->t + n, k) != 0)
			break;
		n += k;
	}
	while (n < m && a->t[n] == b->t[n])
		n++;
	if (n < m) /* back to the start of the line that differs */
		n = (nl = memrchr(a->t, '\n', n)) != NULL
			? (size_t)(nl - a->t) + 1
			: 0;
	if (n > 0) {
		cur_init(a, a->t + n);
		cur_init(b, b->t + n);
	}
}

static int
elems_merge(struct cur *a, struct cur *b, const char *set, struct ops *del,
    struct ops *add)
{
	for (;;) {
		int ea = line_is(a, "\t\t}"), eb = line_is(b, "\t\t}");
		const char *sa = NULL, *sb = NULL;
		size_t na = 0, nb = 0;
		int ta = 0, tb = 0, c, rc;
		struct ew_nft_elem xa, xb;

		if (ea && eb)
			return 0;
		if ((!ea && (cur_end(a) || elem_text(a, &sa, &na, &ta) < 0)) ||
		    (!eb && (cur_end(b) || elem_text(b, &sb, &nb, &tb) < 0)))
			return -EINVAL;
		if (!ea && !eb && na == nb && memcmp(sa, sb, na) == 0) {
			cur_next(a);
			cur_next(b);
			continue;
		}
		if (ta || tb)
			return -EAGAIN; /* a set with timeouts changed */
		if (!ea && elem_of(sa, na, &xa) < 0)
			return -EINVAL;
		if (!eb && elem_of(sb, nb, &xb) < 0)
			return -EINVAL;
		c = ea ? 1 : eb ? -1 : cmp_elem(&xa, &xb);
		if (c == 0) { /* same element, written otherwise */
			cur_next(a);
			cur_next(b);
		} else if (c < 0) {
			if ((rc = ops_push(del, set, 0, &xa)) < 0)
				return rc;
			cur_next(a);
		} else {
			if ((rc = ops_push(add, set, 1, &xb)) < 0)
				return rc;
			cur_next(b);
		}
	}
}

int
ew_nft_diff(const char *old_text, const char *new_text, struct ew_nft_diff *d)
{
	struct cur a, b;
	struct ops del = { NULL, 0, 0 }, add = { NULL, 0, 0 };
	const char *aend, *bend;
	int rc = 0, in_set = 0;

	memset(d, 0, sizeof(*d));
	aend = old_text + strlen(old_text);
	bend = new_text + strlen(new_text);
	cur_init(&a, old_text);
	cur_init(&b, new_text);
	while (rc == 0 && !(cur_end(&a) && cur_end(&b))) {
		int ea = in_set && line_is(&a, "\t\telements = {");
		int eb = in_set && line_is(&b, "\t\telements = {");

		if (ea != eb) {
			/* a set filled or emptied: the side without an
			 * "elements" block has none */
			struct cur none, *x = ea ? &a : &b;

			cur_init(&none, "\t\t}\n");
			cur_next(x);
			rc = ea ? elems_merge(&a, &none, d->sets[d->nsets - 1],
				      &del, &add)
				: elems_merge(&none, &b, d->sets[d->nsets - 1],
				      &del, &add);
			if (rc == 0)
				cur_next(x); /* its closing "\t\t}" */
			continue;
		}
		if (a.len != b.len || memcmp(a.t, b.t, a.len) != 0 ||
		    cur_end(&a) != cur_end(&b)) {
			rc = -EAGAIN; /* more than elements changed */
			break;
		}
		if (ea) {
			cur_next(&a);
			cur_next(&b);
			skip_equal(&a, &b, aend, bend);
			rc = elems_merge(
			    &a, &b, d->sets[d->nsets - 1], &del, &add);
			if (rc < 0)
				break;
		} else if ((rc = set_line(&a, d)) > 0) {
			in_set = 1;
			rc = 0;
		} else if (rc == 0 && line_is(&a, "\t}")) {
			in_set = 0;
		}
		cur_next(&a);
		cur_next(&b);
	}
	if (rc == 0 && del.n + add.n > 0) {
		d->ops = malloc((del.n + add.n) * sizeof(*d->ops));
		if (d->ops == NULL) {
			rc = -ENOMEM;
		} else {
			if (del.n > 0)
				memcpy(d->ops, del.v, del.n * sizeof(*d->ops));
			if (add.n > 0)
				memcpy(d->ops + del.n, add.v,
				    add.n * sizeof(*d->ops));
			d->n = del.n + add.n;
			d->deleted = del.n;
			d->added = add.n;
		}
	}
	free(del.v);
	free(add.v);
	if (rc < 0)
		ew_nft_diff_free(d);
	return rc;
}

/* An IPv4 interval of a packed set as an element. */
static void
elem4(uint32_t lo, uint32_t hi, struct ew_nft_elem *x)
{
	int i;

	memset(x, 0, sizeof(*x));
	x->lo.family = x->hi.family = EW_AF_INET;
	for (i = 0; i < 4; i++) {
		x->lo.b[i] = (uint8_t)(lo >> (24 - 8 * i));
		x->hi.b[i] = (uint8_t)(hi >> (24 - 8 * i));
	}
}

/* The arrays of one packed set, merged as elems_merge merges lines. */
static int
packed_merge(const struct ew_nft_packed *a, const struct ew_nft_packed *b,
    struct ops *del, struct ops *add)
{
	size_t i = 0, j = 0;
	struct ew_nft_elem x;
	int rc;

	while (i < a->n || j < b->n) {
		const uint32_t *p = a->iv + 2 * i, *q = b->iv + 2 * j;
		int c;

		if (i < a->n && j < b->n && p[0] == q[0] && p[1] == q[1]) {
			i++;
			j++;
			continue;
		}
		c = i == a->n      ? 1
		    : j == b->n    ? -1
		    : p[0] != q[0] ? (p[0] < q[0] ? -1 : 1)
				   : (p[1] < q[1] ? -1 : 1);
		if (c < 0) {
			elem4(p[0], p[1], &x);
			rc = ops_push(del, a->name, 0, &x);
			i++;
		} else {
			elem4(q[0], q[1], &x);
			rc = ops_push(add, b->name, 1, &x);
			j++;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static size_t
put_ops(struct ew_nft_op *v, size_t n, const struct ew_nft_op *w, size_t k)
{
	if (k > 0)
		memcpy(v + n, w, k * sizeof(*v));
	return n + k;
}

int
ew_nft_compact_diff(const struct ew_nft_compact *old,
    const struct ew_nft_compact *cur, struct ew_nft_diff *d)
{
	struct ops del = { NULL, 0, 0 }, add = { NULL, 0, 0 };
	size_t k;
	int rc;

	if ((rc = ew_nft_diff(
		 ew_buf_str(&old->text), ew_buf_str(&cur->text), d)) < 0)
		return rc;
	if (old->nsets != cur->nsets)
		rc = -EAGAIN;
	for (k = 0; rc == 0 && k < cur->nsets; k++) {
		if (strcmp(old->sets[k].name, cur->sets[k].name) != 0)
			rc = -EAGAIN;
		else
			rc = packed_merge(
			    &old->sets[k], &cur->sets[k], &del, &add);
	}
	if (rc == 0 && del.n + add.n > 0) {
		/* the text's deletions, the arrays', then the additions */
		struct ew_nft_op *v =
		    malloc((d->n + del.n + add.n) * sizeof(*v));
		size_t n = 0;

		if (v == NULL) {
			rc = -ENOMEM;
		} else {
			n = put_ops(v, n, d->ops, d->deleted);
			n = put_ops(v, n, del.v, del.n);
			/* no text ops at all: d->ops is NULL (no offset) */
			if (d->added > 0)
				n = put_ops(
				    v, n, d->ops + d->deleted, d->added);
			n = put_ops(v, n, add.v, add.n);
			free(d->ops);
			d->ops = v;
			d->n = n;
			d->deleted += del.n;
			d->added += add.n;
		}
	}
	free(del.v);
	free(add.v);
	if (rc < 0)
		ew_nft_diff_free(d);
	return rc;
}
