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

struct elem {
	size_t set; /* index of the set in the text */
	struct ew_nft_elem e;
};

struct parsed {
	struct ew_buf skel; /* every line but the elements */
	struct elem *v;
	size_t n, cap;
	char **sets; /* set names, in order */
	int *timeout;
	size_t nsets;
};

static void
parsed_free(struct parsed *p)
{
	size_t i;

	ew_buf_free(&p->skel);
	free(p->v);
	for (i = 0; i < p->nsets; i++)
		free(p->sets[i]);
	free(p->sets);
	free(p->timeout);
}

static int
add_set(struct parsed *p, const char *name, size_t len)
{
	char **ns = realloc(p->sets, (p->nsets + 1) * sizeof(*ns));
	int *nt;

	if (ns == NULL)
		return -ENOMEM;
	p->sets = ns;
	nt = realloc(p->timeout, (p->nsets + 1) * sizeof(*nt));
	if (nt == NULL)
		return -ENOMEM;
	p->timeout = nt;
	p->timeout[p->nsets] = 0;
	p->sets[p->nsets] = ew_strndup(name, len);
	if (p->sets[p->nsets] == NULL)
		return -ENOMEM;
	p->nsets++;
	return 0;
}

static int
add_elem(struct parsed *p, const char *s, size_t len)
{
	char a[2 * EW_ADDR_STRLEN + 2];

	if (p->nsets == 0 || len == 0 || len >= sizeof(a))
		return -EINVAL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		struct elem *nv = realloc(p->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	memcpy(a, s, len);
	a[len] = '\0';
	p->v[p->n].set = p->nsets - 1;
	if (ew_nft_elem_parse(a, &p->v[p->n].e) < 0)
		return -EINVAL;
	p->n++;
	return 0;
}

static int
parse(const char *t, struct parsed *p)
{
	int in_set = 0, in_elems = 0, rc = 0;

	memset(p, 0, sizeof(*p));
	while (*t != '\0' && rc == 0) {
		const char *eol = strchr(t, '\n');
		size_t len = eol != NULL ? (size_t)(eol - t) : strlen(t);

		if (in_elems && len == 3 && strncmp(t, "\t\t}", 3) == 0) {
			in_elems = 0;
		} else if (in_elems) {
			const char *s = t + 3, *e;

			if (len < 4 || strncmp(t, "\t\t\t", 3) != 0)
				return -EINVAL;
			/* "ELEMENT[ timeout T][,]": only timeout-free sets
			 * are ever diffed, so the element ends at a blank */
			e = memchr(s, ' ', len - 3);
			if (e == NULL)
				e = t + len;
			if (e > s && e[-1] == ',')
				e--;
			rc = add_elem(p, s, (size_t)(e - s));
		} else if (in_set && len == 14 &&
			   strncmp(t, "\t\telements = {", 14) == 0) {
			in_elems = 1;
		} else {
			if (len > 6 && strncmp(t, "\tset ", 5) == 0 &&
			    strncmp(t + len - 2, " {", 2) == 0) {
				in_set = 1;
				rc = add_set(p, t + 5, len - 7);
			} else if (len == 2 && strncmp(t, "\t}", 2) == 0) {
				in_set = 0;
			} else if (in_set && p->nsets > 0 &&
				   strstr(t, "timeout") != NULL &&
				   (size_t)(strstr(t, "timeout") - t) < len) {
				p->timeout[p->nsets - 1] = 1;
			}
			ew_buf_add(&p->skel, t, len);
			ew_buf_putc(&p->skel, '\n');
		}
		t += len;
		if (*t == '\n')
			t++;
	}
	if (rc == 0 && (in_elems || p->skel.oom))
		rc = p->skel.oom ? -ENOMEM : -EINVAL;
	return rc;
}

static int
cmp_elem(const struct ew_nft_elem *a, const struct ew_nft_elem *b)
{
	int c = memcmp(a->lo.b, b->lo.b, sizeof(a->lo.b));

	return c != 0 ? c : memcmp(a->hi.b, b->hi.b, sizeof(a->hi.b));
}

static int
push(struct ew_nft_diff *d, const char *set, int add,
    const struct ew_nft_elem *e, size_t *cap)
{
	if (d->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ew_nft_op *nv = realloc(d->ops, nc * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		d->ops = nv;
		*cap = nc;
	}
	d->ops[d->n].set = set;
	d->ops[d->n].add = add;
	d->ops[d->n].e = *e;
	d->n++;
	if (add)
		d->added++;
	else
		d->deleted++;
	return 0;
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

int
ew_nft_diff(const char *old_text, const char *new_text, struct ew_nft_diff *d)
{
	struct parsed a, b;
	size_t cap = 0, i, j, pass;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = parse(old_text, &a);
	if (rc == 0)
		rc = parse(new_text, &b);
	else
		memset(&b, 0, sizeof(b));
	if (rc < 0)
		goto out;
	if (a.skel.len != b.skel.len ||
	    memcmp(ew_buf_str(&a.skel), ew_buf_str(&b.skel), a.skel.len) != 0 ||
	    a.nsets != b.nsets) {
		rc = -EAGAIN; /* more than elements changed */
		goto out;
	}
	/* the set names now belong to the diff */
	d->sets = b.sets;
	d->nsets = b.nsets;
	b.sets = NULL;
	b.nsets = 0;
	/* both lists are sorted by set, then address: deletions first */
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		for (i = j = 0; (i < a.n || j < b.n) && rc == 0;) {
			int c;

			if (i == a.n)
				c = 1;
			else if (j == b.n)
				c = -1;
			else if (a.v[i].set != b.v[j].set)
				c = a.v[i].set < b.v[j].set ? -1 : 1;
			else
				c = cmp_elem(&a.v[i].e, &b.v[j].e);
			if (c == 0) {
				i++;
				j++;
				continue;
			}
			if ((c < 0 ? a.timeout[a.v[i].set]
				   : a.timeout[b.v[j].set])) {
				rc = -EAGAIN;
			} else if (c < 0) {
				if (pass == 0)
					rc = push(d, d->sets[a.v[i].set], 0,
					    &a.v[i].e, &cap);
				i++;
			} else {
				if (pass == 1)
					rc = push(d, d->sets[b.v[j].set], 1,
					    &b.v[j].e, &cap);
				j++;
			}
		}
	}
out:
	parsed_free(&a);
	parsed_free(&b);
	if (rc < 0)
		ew_nft_diff_free(d);
	return rc;
}
