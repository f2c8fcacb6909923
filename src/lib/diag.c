/*
 * diag.c - diagnostic records and their printed forms (see diag.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/esc.h"
#include "lib/json.h"

static const char *const sev_word[] = {
	[EW_SEV_ERROR] = "error",
	[EW_SEV_WARNING] = "warning",
	[EW_SEV_NOTE] = "note",
};

void
ew_diag_init(struct ew_diag_list *l)
{
	memset(l, 0, sizeof(*l));
}

static void
diag_clear(struct ew_diag *d)
{
	free(d->file);
	free(d->msg);
	free(d->srcline);
	free(d->chain);
}

void
ew_diag_free(struct ew_diag_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		diag_clear(&l->v[i]);
	free(l->v);
	ew_diag_init(l);
}

/*
 * Copy line `line` (1-based) of src's text, without its newline: all of
 * it, or the EW_DIAG_SHOW bytes around column `first` (whole UTF-8
 * characters) of a longer one, with where the copy starts and what it
 * leaves out in d.
 */
static char *
src_line(
    const struct ew_src *src, unsigned line, unsigned first, struct ew_diag *d)
{
	const char *p, *end, *eol;
	unsigned n = 1;
	size_t len, a = 0, z, f0 = first > 0 ? first - 1 : 0;

	if (src == NULL || src->text == NULL || line == 0)
		return NULL;
	p = src->text;
	end = src->text + src->len;
	while (n < line) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return NULL;
		p = eol + 1;
		n++;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL)
		eol = end;
	if (eol > p && eol[-1] == '\r')
		eol--;
	len = z = (size_t)(eol - p);
	if (len > EW_DIAG_SHOW) {
		a = f0 > EW_DIAG_LEAD ? f0 - EW_DIAG_LEAD : 0;
		if (a > len - EW_DIAG_SHOW)
			a = len - EW_DIAG_SHOW;
		z = a + EW_DIAG_SHOW;
		while (a > 0 && ((unsigned char)p[a] & 0xc0) == 0x80)
			a--;
		while (z < len && ((unsigned char)p[z] & 0xc0) == 0x80)
			z++;
	}
	d->scol = (unsigned)a;
	d->clip = (a > 0 ? EW_DIAG_CUT_BEFORE : 0) |
		  (z < len ? EW_DIAG_CUT_AFTER : 0);
	return ew_strndup(p + a, z - a);
}

/* A message over EW_DIAG_MSG_MAX bytes: its start, "...", its end. */
static void
msg_clip(char *m)
{
	size_t n = strlen(m), h, t;

	if (n <= EW_DIAG_MSG_MAX)
		return;
	h = EW_DIAG_MSG_MAX * 2 / 3;
	t = n - (EW_DIAG_MSG_MAX - h - 3);
	while (h > 0 && ((unsigned char)m[h] & 0xc0) == 0x80)
		h--;
	while (t < n && ((unsigned char)m[t] & 0xc0) == 0x80)
		t++;
	memcpy(m + h, "...", 3);
	memmove(m + h + 3, m + t, n - t + 1);
}

static void
loc_print(struct ew_buf *b, const char *file, unsigned line, unsigned first,
    unsigned last)
{
	ew_esc_term(b, file, strlen(file), 0);
	if (line == 0)
		return;
	ew_buf_printf(b, ":%u", line);
	if (first == 0)
		return;
	if (last > first)
		ew_buf_printf(b, ":%u-%u", first, last);
	else
		ew_buf_printf(b, ":%u", first);
}

static char *
include_chain(const struct ew_src *src)
{
	struct ew_buf b = EW_BUF_INIT;
	const struct ew_src *s;

	for (s = src; s != NULL && s->parent != NULL; s = s->parent) {
		ew_buf_puts(&b, "In file included from ");
		loc_print(&b, s->parent->name, s->pline, s->pfirst, s->plast);
		ew_buf_puts(&b, ":\n");
	}
	if (b.len == 0)
		return NULL;
	return ew_buf_detach(&b);
}

void
ew_diag_add(struct ew_diag_list *l, enum ew_sev sev, const struct ew_loc *loc,
    const char *fmt, ...)
{
	struct ew_diag d;
	struct ew_buf msg = EW_BUF_INIT;
	va_list ap;

	if (sev == EW_SEV_ERROR)
		l->nerr++;
	else if (sev == EW_SEV_WARNING)
		l->nwarn++;
	if (sev == EW_SEV_ERROR && l->nerr > EW_DIAG_MAX_ERRORS) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct ew_diag *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL) {
			l->dropped++;
			return;
		}
		l->v = nv;
		l->cap = cap;
	}
	memset(&d, 0, sizeof(d));
	d.sev = sev;
	va_start(ap, fmt);
	ew_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	d.msg = ew_buf_detach(&msg);
	if (d.msg != NULL)
		msg_clip(d.msg);
	if (loc != NULL && loc->src != NULL) {
		d.file = strdup(loc->src->name);
		d.line = loc->line;
		d.first = loc->first;
		d.last = loc->last;
		d.srcline = src_line(loc->src, loc->line, loc->first, &d);
		d.chain = include_chain(loc->src);
	}
	if (d.msg == NULL) {
		diag_clear(&d);
		l->dropped++;
		return;
	}
	l->v[l->n++] = d;
}

void
ew_diag_tag_last(struct ew_diag_list *l, size_t n_before, unsigned tag)
{
	if (l->n > n_before)
		l->v[l->n - 1].tag = tag;
}

void
ew_diag_soften(
    struct ew_diag_list *l, size_t from, unsigned tag, const char *suffix)
{
	size_t i;

	for (i = from; i < l->n; i++) {
		struct ew_diag *d = &l->v[i];
		struct ew_buf b = EW_BUF_INIT;
		char *m;

		if (d->tag != tag || d->sev != EW_SEV_ERROR)
			continue;
		ew_buf_printf(&b, "%s%s", d->msg, suffix);
		m = ew_buf_detach(&b);
		if (m != NULL) {
			free(d->msg);
			d->msg = m;
		}
		d->sev = EW_SEV_WARNING;
		l->nerr--;
		l->nwarn++;
	}
}

void
ew_diag_splice(struct ew_diag_list *to, struct ew_diag_list *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		if (to->n == to->cap) {
			size_t cap = to->cap ? to->cap * 2 : 8;
			struct ew_diag *nv = realloc(to->v, cap * sizeof(*nv));

			if (nv == NULL) {
				to->dropped += from->n - i;
				for (; i < from->n; i++)
					diag_clear(&from->v[i]);
				break;
			}
			to->v = nv;
			to->cap = cap;
		}
		to->v[to->n++] = from->v[i];
	}
	to->nerr += from->nerr;
	to->nwarn += from->nwarn;
	to->dropped += from->dropped;
	free(from->v);
	ew_diag_init(from);
}

/* The characters (not bytes) of n bytes of UTF-8 text. */
static size_t
nchars(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/*
 * The source line as the terminal sink shows it (tabs kept: a file's
 * control characters are not the terminal's), with "..." where a long
 * line was cut (d->clip), then the caret line under its bytes
 * first..last (columns of the whole line): tabs copied from the shown
 * text, one space or caret per shown character, so the carets line up
 * with what is shown; a run that goes on past a cut ends under its
 * "...".
 */
static void
source_lines(struct ew_buf *b, const struct ew_diag *d)
{
	struct ew_buf pre = EW_BUF_INIT, mid = EW_BUF_INIT;
	const char *srcline = d->srcline;
	size_t n = strlen(srcline), a, z, i, k;
	unsigned first = d->first, last = d->last;

	if (d->clip & EW_DIAG_CUT_BEFORE)
		ew_buf_puts(b, "...");
	ew_esc_term(b, srcline, n, EW_ESC_KEEP_TAB);
	if (d->clip & EW_DIAG_CUT_AFTER)
		ew_buf_puts(b, "...");
	ew_buf_putc(b, '\n');
	if (first == 0 || first <= d->scol)
		return;
	if (last < first)
		last = first;
	first -= d->scol; /* columns of srcline from here on */
	last -= d->scol;
	if (first > n + 1) /* a column past the end: keep the output short */
		first = (unsigned)n + 1;
	if (last > n + 3 || ((d->clip & EW_DIAG_CUT_AFTER) && last > n))
		last = (unsigned)n + 3;
	if (last < first)
		last = first;
	if (d->clip & EW_DIAG_CUT_BEFORE)
		ew_buf_puts(b, "   ");
	a = first - 1 < n ? first - 1 : n;
	z = last < n ? last : n;
	ew_esc_term(&pre, srcline, a, EW_ESC_KEEP_TAB);
	ew_esc_term(&mid, srcline + a, z > a ? z - a : 0, EW_ESC_KEEP_TAB);
	for (i = 0; i < pre.len; i++)
		if (((unsigned char)pre.p[i] & 0xc0) != 0x80)
			ew_buf_putc(b, pre.p[i] == '\t' ? '\t' : ' ');
	for (i = a; i + 1 < first; i++) /* past the end of the line */
		ew_buf_putc(b, ' ');
	k = nchars(ew_buf_str(&mid), mid.len) + (last - first + 1) -
	    (z > a ? z - a : 0); /* carets past the end of the line too */
	for (i = 0; i < k; i++)
		ew_buf_putc(b, '^');
	ew_buf_putc(b, '\n');
	ew_buf_free(&pre);
	ew_buf_free(&mid);
}

void
ew_diag_format(const struct ew_diag_list *l, struct ew_buf *out)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct ew_diag *d = &l->v[i];

		if (d->chain != NULL)
			ew_buf_puts(out, d->chain);
		if (d->file != NULL) {
			loc_print(out, d->file, d->line, d->first, d->last);
			ew_buf_puts(out, ": ");
		}
		ew_buf_printf(out, "%s: ", sev_word[d->sev]);
		ew_esc_term(out, d->msg, strlen(d->msg), 0);
		ew_buf_putc(out, '\n');
		if (d->srcline != NULL && d->line > 0)
			source_lines(out, d);
	}
	if (l->dropped > 0)
		ew_buf_printf(out, "note: too many errors; stopped after %d\n",
		    EW_DIAG_MAX_ERRORS);
}

void
ew_diag_format_json(const struct ew_diag_list *l, struct ew_buf *out)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct ew_diag *d = &l->v[i];

		ew_buf_puts(out, "{\"severity\":");
		ew_json_str(out, sev_word[d->sev]);
		ew_buf_puts(out, ",\"file\":");
		if (d->file != NULL)
			ew_json_str(out, d->file);
		else
			ew_buf_puts(out, "null");
		ew_buf_printf(out, ",\"line\":%u,\"first\":%u,\"last\":%u",
		    d->line, d->first, d->last > d->first ? d->last : d->first);
		ew_buf_puts(out, ",\"message\":");
		ew_json_str(out, d->msg);
		ew_buf_puts(out, "}\n");
	}
}

struct ew_src *
ew_src_new(const char *name, const char *text, size_t len)
{
	struct ew_src *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->name = strdup(name);
	s->text = text != NULL ? ew_strndup(text, len) : NULL;
	s->len = len;
	if (s->name == NULL || (text != NULL && s->text == NULL)) {
		ew_src_free(s);
		return NULL;
	}
	return s;
}

void
ew_src_free(struct ew_src *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->text);
	free(s);
}
