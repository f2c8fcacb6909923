/*
 * parse_sets.c - the policy reader's port sets ("irc = 6660-7000, 8888")
 * and address tables ("table <t> file \"x.list\"", "table <t> { ... }"),
 * with their errors located as the rest of the file's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/mem.h"
#include "lib/port.h"
#include "policy/parse_int.h"
#include "policy/policy_int.h"

/* ---- port sets -------------------------------------------------------- */

int
ew_ps_find_set(const struct ew_policy *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->nsets; i++) {
		if (ew_str_is(p->sets[i].name, name, n))
			return (int)i;
	}
	return -1;
}

int
ew_ps_find_table(const struct ew_policy *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->ntables; i++) {
		if (ew_str_is(p->tables[i].name, name, n))
			return (int)i;
	}
	return -1;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct ew_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sort and merge overlapping or adjacent ranges in place. */
static size_t
ranges_normalize(struct ew_range *r, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		if ((unsigned)r[i].lo <= (unsigned)r[o].hi + 1) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}

/*
 * Parse a port list "6660-7000, 6697 $other" (commas and/or blanks)
 * from [s, e).  Returns 0 and the normalised ranges, or -1 (reported).
 */
int
ew_ps_portlist(struct pstate *ps, const char *s, const char *e,
    struct ew_range **out, size_t *nout)
{
	struct ew_range *r = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	while (s < e) {
		const char *t;
		struct ew_port_range pr;
		int prc;

		while (s < e && (is_space(*s) || *s == ','))
			s++;
		if (s >= e)
			break;
		for (t = s; t < e && !is_space(*t) && *t != ','; t++)
			;
		if (*s == '$') {
			int k =
			    ew_ps_find_set(ps->p, s + 1, (size_t)(t - s - 1));

			if (k < 0) {
				ERR(ps, s, t, "unknown port set '%.*s'",
				    (int)(t - s - 1), s + 1);
				bad = 1;
			} else {
				const struct ew_portset *ss = &ps->p->sets[k];
				size_t i;

				for (i = 0; i < ss->n; i++) {
					struct ew_range *nr =
					    ew_ps_grow(r, &cap, n, sizeof(*r));
					if (nr == NULL) {
						free(r);
						ew_ps_oom(ps);
						return -1;
					}
					r = nr;
					r[n++] = ss->r[i];
				}
			}
			s = t;
			continue;
		}
		prc = ew_port_range_parse(s, (size_t)(t - s), &pr);
		if (prc == -ERANGE) {
			ERR(ps, s, t, "port range '%.*s' is reversed",
			    (int)(t - s), s);
			bad = 1;
			s = t;
			continue;
		}
		if (prc < 0)
			goto badport;
		{
			struct ew_range *nr =
			    ew_ps_grow(r, &cap, n, sizeof(*r));

			if (nr == NULL) {
				free(r);
				ew_ps_oom(ps);
				return -1;
			}
			r = nr;
			r[n].lo = pr.lo;
			r[n].hi = pr.hi;
			n++;
		}
		s = t;
		continue;
	badport:
		ERR(ps, s, t,
		    "malformed port '%.*s' (a number 1-65535, a range N-M, or "
		    "$set)",
		    (int)(t - s), s);
		bad = 1;
		s = t;
	}
	if (bad) {
		free(r);
		return -1;
	}
	*out = r;
	*nout = ranges_normalize(r, n);
	return 0;
}

int
ew_ps_add_set(struct ew_policy *p, const char *name, size_t nlen,
    struct ew_range *r, size_t n, const struct ew_loc *loc, int builtin)
{
	struct ew_portset *nv, *s;

	nv = realloc(p->sets, (p->nsets + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	p->sets = nv;
	s = &p->sets[p->nsets];
	memset(s, 0, sizeof(*s));
	s->name = ew_strndup(name, nlen);
	if (s->name == NULL)
		return -1;
	s->r = r;
	s->n = n;
	if (loc != NULL)
		s->loc = *loc;
	s->builtin = builtin;
	p->nsets++;
	return 0;
}

void
ew_ps_setdef(struct pstate *ps, const char *s, const char *eq, const char *e)
{
	const char *ne = s;
	struct ew_range *r;
	size_t n;
	int k;
	struct ew_loc loc;

	while (ne < eq && is_name_char(*ne))
		ne++;
	k = ew_ps_find_set(ps->p, s, (size_t)(ne - s));
	if (k >= 0 && !ps->p->sets[k].builtin) {
		const struct ew_portset *old = &ps->p->sets[k];

		ERR(ps, s, ne, "port set '%.*s' is already defined",
		    (int)(ne - s), s);
		if (old->loc.src != NULL)
			ew_diag_add(ps->d, EW_SEV_NOTE, &old->loc,
			    "'%s' was defined here", old->name);
		return;
	}
	if (ew_ps_portlist(ps, eq + 1, e, &r, &n) < 0)
		return;
	if (n == 0) {
		ERR(ps, s, e, "port set '%.*s' is empty", (int)(ne - s), s);
		free(r);
		return;
	}
	loc.src = ps->src;
	loc.line = ps->lineno;
	loc.first = (unsigned)(s - ps->line) + 1;
	loc.last = (unsigned)(ne - ps->line);
	if (k >= 0) {
		/* A user definition replaces the built-in of that name. */
		struct ew_portset *old = &ps->p->sets[k];

		free(old->r);
		old->r = r;
		old->n = n;
		old->loc = loc;
		old->builtin = 0;
		return;
	}
	if (ew_ps_add_set(ps->p, s, (size_t)(ne - s), r, n, &loc, 0) < 0) {
		free(r);
		ew_ps_oom(ps);
	}
}

/* ---- tables ----------------------------------------------------------- */

/*
 * One table entry: an address with an optional /mask, read with tor's
 * own address and mask rules (so an entry means in a table what it would
 * mean in a rule), but no wildcard and no ports (ew_pat_net).
 */
/*
 * The common entry of a big list, "a.b.c.d" or "a.b.c.d/len", in its
 * plain form (octets 0-255 without leading zeros, len 0-32 in one or
 * two digits without a leading zero): what ew_pat_net makes of it,
 * without its copies and general parsers.  0 when it is not of that
 * form (ew_pat_net then decides).
 */
static int
fast_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
fast_entry4(const char *s, size_t n, struct ew_tentry *out)
{
	const char *e = s + n;
	unsigned v[4], m = 32, i, k;

	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (s >= e || *s != '.')
				return 0;
			s++;
		}
		for (k = 0, v[i] = 0; k < 3 && s < e && fast_digit(*s);
		     k++, s++)
			v[i] = v[i] * 10 + (unsigned)(*s - '0');
		if (k == 0 || v[i] > 255 || (k > 1 && s[-(int)k] == '0'))
			return 0;
	}
	if (s < e) {
		if (*s++ != '/' || s >= e || e - s > 2 || !fast_digit(s[0]) ||
		    (e - s == 2 && (s[0] == '0' || !fast_digit(s[1]))))
			return 0;
		m = (unsigned)(s[0] - '0');
		if (e - s == 2)
			m = m * 10 + (unsigned)(s[1] - '0');
		if (m > 32)
			return 0;
	}
	memset(&out->addr, 0, sizeof(out->addr));
	out->addr.family = EW_AF_INET;
	for (i = 0; i < 4; i++)
		out->addr.b[i] = (uint8_t)v[i];
	out->maskbits = (uint8_t)m;
	return 1;
}

static int
parse_entry(
    const char *s, size_t n, struct ew_tentry *out, struct ew_pat_err *err)
{
	struct ew_pat pat;

	if (fast_entry4(s, n, out))
		return 0;
	if (ew_pat_net(s, n, &pat, err) < 0)
		return -1;
	out->addr = pat.addr;
	out->maskbits = pat.maskbits;
	return 0;
}

static int
table_push(struct ew_table *t, size_t *cap, const struct ew_tentry *e)
{
	struct ew_tentry *nv = ew_ps_grow(t->e, cap, t->n, sizeof(*nv));

	if (nv == NULL)
		return -1;
	t->e = nv;
	t->e[t->n++] = *e;
	return 0;
}

/* Entries of [s, e) separated by commas and blanks, on the current line. */
static int
parse_inline_entries(struct pstate *ps, const char *s, const char *e,
    struct ew_table *t, size_t *cap)
{
	int bad = 0;

	while (s < e) {
		const char *w;
		struct ew_tentry te;
		struct ew_pat_err err;

		while (s < e && (is_space(*s) || *s == ','))
			s++;
		if (s >= e)
			break;
		for (w = s; w < e && !is_space(*w) && *w != ','; w++)
			;
		if (parse_entry(s, (size_t)(w - s), &te, &err) < 0) {
			ERR(ps, s + err.first, s + err.last + 1, "%s",
			    err.msg ? err.msg : err.detail);
			bad = 1;
		} else if (table_push(t, cap, &te) < 0) {
			ew_ps_oom(ps);
			return -1;
		}
		s = w;
	}
	return bad ? -1 : 0;
}

/* A table file: one entry per line, '#' comments, blank lines. */
/*
 * The entries of an address-list text (sub->src): one address or CIDR a
 * line, '#' comments, blank lines.  Errors are located in that text.
 */
int
ew_ps_table_text(struct pstate *sub, struct ew_table *t)
{
	const char *s = sub->src->text, *e = s + sub->src->len, *eol, *w0;
	size_t cap = 0;
	int bad = 0;

	if (memchr(s, '\0', sub->src->len) != NULL) {
		struct ew_loc loc = { sub->src, 0, 0, 0 };

		ew_diag_add(sub->d, EW_SEV_ERROR, &loc,
		    "file contains a NUL byte; is it an address list?");
		return -1;
	}
	sub->lineno = 0;
	if (t->e == NULL && sub->src->len > 65536) {
		/* room for one entry a line at once, not by doubling */
		size_t lines = 1;

		for (w0 = s; (w0 = memchr(w0, '\n', (size_t)(e - w0))) != NULL;
		     w0++)
			lines++;
		if ((t->e = ew_mem_big(lines * sizeof(*t->e))) == NULL) {
			ew_ps_oom(sub);
			return -1;
		}
		cap = lines;
	}
	while (s < e) {
		const char *w, *we;
		struct ew_tentry te;
		struct ew_pat_err err;

		eol = memchr(s, '\n', (size_t)(e - s));
		if (eol == NULL)
			eol = e;
		sub->lineno++;
		sub->line = s;
		w = skip_blank(s, eol);
		we = w;
		while (we < eol && !is_space(*we) && *we != '#')
			we++;
		if (we > w) {
			const char *rest = skip_blank(we, eol);

			if (rest < eol && *rest != '#') {
				ERR(sub, rest, eol,
				    "one address per line, found '%.*s' after "
				    "it",
				    (int)(word_end(rest, eol) - rest), rest);
				bad = 1;
			} else if (parse_entry(w, (size_t)(we - w), &te, &err) <
				   0) {
				ERR(sub, w + err.first, w + err.last + 1, "%s",
				    err.msg ? err.msg : err.detail);
				bad = 1;
			} else if (table_push(t, &cap, &te) < 0) {
				ew_ps_oom(sub);
				return -1;
			}
			if (sub->d->nerr > EW_DIAG_MAX_ERRORS)
				return -1;
		}
		s = eol < e ? eol + 1 : e;
	}
	return bad ? -1 : 0;
}

static int
load_table_file(struct pstate *ps, const char *path, struct ew_table *t,
    const char *ab, const char *ae)
{
	struct pstate sub = *ps;
	struct ew_src *src;
	struct ew_file f;

	if (ps->flags & EW_PARSE_NO_INCLUDE) {
		ERR(ps, ab, ae, "table files are not allowed here");
		return -1;
	}
	if (ew_ps_read(ps, "table file ", path, ab, ae, &f) < 0)
		return -1;
	src = ew_ps_adopt_src(ps, path, f.text, f.len);
	if (src == NULL) {
		ew_ps_oom(ps);
		return -1;
	}
	src->parent = ps->src;
	src->pline = ps->lineno;
	src->pfirst = (unsigned)(ab - ps->line) + 1;
	src->plast = (unsigned)(ae - ps->line);
	sub.src = src;
	return ew_ps_table_text(&sub, t);
}

void
ew_ps_table(struct pstate *ps, const char *s, const char *e)
{
	const char *nb, *ne, *q;
	struct ew_table t;
	struct ew_table *nv;
	size_t cap = 0;
	int r;

	memset(&t, 0, sizeof(t));
	s = skip_blank(s, e);
	if (s >= e || *s != '<') {
		ERR(ps, s, word_end(s, e),
		    "expected a table name in angle brackets, as <name>");
		return;
	}
	nb = s + 1;
	for (ne = nb; ne < e && is_name_char(*ne); ne++)
		;
	if (ne == nb || ne >= e || *ne != '>') {
		ERR(ps, s, word_end(s, e), "malformed table name '%.*s'",
		    (int)(word_end(s, e) - s), s);
		return;
	}
	if (ew_ps_find_table(ps->p, nb, (size_t)(ne - nb)) >= 0) {
		ERR(ps, s, ne + 1, "table <%.*s> is already defined",
		    (int)(ne - nb), nb);
		return;
	}
	t.loc.src = ps->src;
	t.loc.line = ps->lineno;
	t.loc.first = (unsigned)(s - ps->line) + 1;
	t.loc.last = (unsigned)(ne - ps->line) + 1;
	q = skip_blank(ne + 1, e);
	if (q < e && *q == '{') {
		const char *close = memchr(q, '}', (size_t)(e - q));
		const char *after;

		if (close == NULL) {
			ERR(ps, q, e,
			    "missing '}' (an inline table ends on "
			    "its line)");
			return;
		}
		r = parse_inline_entries(ps, q + 1, close, &t, &cap);
		after = skip_blank(close + 1, e);
		if (after < e && *after != '#') {
			ERR(ps, after, e, "unexpected '%.*s' after the table",
			    (int)(word_end(after, e) - after), after);
			r = -1;
		}
	} else if (e - q >= 4 && memcmp(q, "file", 4) == 0 &&
		   (q + 4 == e || is_space(q[4]))) {
		const char *ps0 = skip_blank(q + 4, e), *after;
		char *path = NULL, *full;

		if (ps0 >= e || *ps0 != '"') {
			ERR(ps, ps0, word_end(ps0, e),
			    "expected a quoted file name after 'file'");
			return;
		}
		after = ew_ps_read_quoted(ps, ps0, e, &path);
		if (after == NULL)
			return;
		full = ew_ps_rel_path(ps->src, path);
		free(path);
		if (full == NULL) {
			ew_ps_oom(ps);
			return;
		}
		t.path = full;
		r = load_table_file(ps, full, &t, ps0, after);
		after = skip_blank(after, e);
		if (after < e && *after != '#') {
			ERR(ps, after, e, "unexpected '%.*s' after the table",
			    (int)(word_end(after, e) - after), after);
			r = -1;
		}
	} else {
		ERR(ps, q, word_end(q, e),
		    "expected 'file \"PATH\"' or '{ ADDRESS, ... }' after the "
		    "table name");
		return;
	}
	if (r < 0) {
		free(t.e);
		free(t.path);
		return;
	}
	t.name = ew_strndup(nb, (size_t)(ne - nb));
	nv = realloc(ps->p->tables, (ps->p->ntables + 1) * sizeof(*nv));
	if (t.name == NULL || nv == NULL) {
		free(t.name);
		free(t.e);
		free(t.path);
		if (nv != NULL)
			ps->p->tables = nv;
		ew_ps_oom(ps);
		return;
	}
	ps->p->tables = nv;
	ps->p->tables[ps->p->ntables++] = t;
}
