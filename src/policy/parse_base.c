/*
 * parse_base.c - the policy reader's primitives, below both of its
 * halves (parse.c: lines, rules, torrc options, includes; parse_sets.c:
 * port sets and tables) and guard.c: located diagnostics, growing
 * arrays, the sources a policy keeps, reading an include or table file
 * within the parse's limits, relative paths and quoted strings.
 *
 * It calls nothing else of src/policy, so the reader's files form layers:
 * parse.c over guard.c over parse_sets.c, all over this file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "policy/parse_int.h"

void
ew_ps_diag(struct pstate *ps, enum ew_sev sev, const char *b, const char *e,
    const char *fmt, ...)
{
	struct ew_loc loc;
	struct ew_buf msg = EW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ew_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	loc.src = ps->src;
	loc.line = ps->lineno;
	loc.first = b != NULL ? (unsigned)(b - ps->line) + 1 : 0;
	loc.last =
	    b != NULL ? (unsigned)((e > b ? e - 1 : b) - ps->line) + 1 : 0;
	ew_diag_add(ps->d, sev, &loc, "%s", ew_buf_str(&msg));
	ew_buf_free(&msg);
}

void
ew_ps_oom(struct pstate *ps)
{
	ew_diag_add(ps->d, EW_SEV_ERROR, NULL, "out of memory");
}

void *
ew_ps_grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *nv;

	if (n < *cap)
		return v;
	nc = *cap ? *cap * 2 : 16;
	if (nc > SIZE_MAX / size)
		return NULL;
	nv = realloc(v, nc * size);
	if (nv != NULL)
		*cap = nc;
	return nv;
}

/* ---- sources ---------------------------------------------------------- */

struct ew_src *
ew_ps_add_src(struct pstate *ps, const char *name, const char *text, size_t len)
{
	struct ew_policy *p = ps->p;
	struct ew_src **nv, *s;

	nv = realloc(p->srcs, (p->nsrcs + 1) * sizeof(*nv));
	if (nv == NULL)
		return NULL;
	p->srcs = nv;
	s = ew_src_new(name, text, len);
	if (s == NULL)
		return NULL;
	p->srcs[p->nsrcs++] = s;
	return s;
}

struct ew_src *
ew_ps_adopt_src(struct pstate *ps, const char *name, char *text, size_t len)
{
	struct ew_src *s = ew_ps_add_src(ps, name, NULL, 0);

	if (s == NULL) {
		free(text);
		return NULL;
	}
	s->text = text;
	s->len = len;
	return s;
}

int
ew_ps_read(struct pstate *ps, const char *what, const char *path, const char *b,
    const char *e, struct ew_file *f)
{
	struct ps_files *fs = ps->files;
	size_t left;
	int r;

	if (fs == NULL) {
		ERR(ps, b, e, "cannot read %s'%s': no file is read here", what,
		    path);
		return -1;
	}
	if (fs->stop) /* the limit reached was reported */
		return -1;
	if (fs->nfiles >= EW_MAX_FILES) {
		ERR(ps, b, e,
		    "cannot read %s'%s': a policy reads at most %d include "
		    "and table files",
		    what, path, EW_MAX_FILES);
		fs->stop = 1;
		return -1;
	}
	fs->nfiles++;
	left = EW_MAX_BYTES - fs->nbytes;
	r = ew_file_load(path, 0, left < EW_MAX_FILE ? left : EW_MAX_FILE, f);
	if (r == -EFBIG && left < EW_MAX_FILE) {
		ERR(ps, b, e,
		    "cannot read %s'%s': a policy's files hold at most %u MiB "
		    "in all",
		    what, path, EW_MAX_BYTES >> 20);
		fs->stop = 1;
		return -1;
	}
	if (r == -EFBIG) {
		ERR(ps, b, e, "cannot read %s'%s': larger than %u MiB", what,
		    path, EW_MAX_FILE >> 20);
		return -1;
	}
	if (r < 0) {
		ERR(ps, b, e, "cannot read %s'%s': %s", what, path, f->why);
		return -1;
	}
	fs->nbytes += f->len;
	return 0;
}

/* A path relative to the directory of the file that names it. */
char *
ew_ps_rel_path(const struct ew_src *from, const char *path)
{
	const char *slash;
	struct ew_buf b = EW_BUF_INIT;

	if (path[0] == '/' || from == NULL ||
	    (slash = strrchr(from->name, '/')) == NULL)
		return strdup(path);
	ew_buf_add(&b, from->name, (size_t)(slash - from->name) + 1);
	ew_buf_puts(&b, path);
	return ew_buf_detach(&b);
}

/* ---- small lexing helpers --------------------------------------------- */

/*
 * A double-quoted string at s: on success *out is the unescaped text
 * (\" and \\ are the escapes) and the return value points after the
 * closing quote; NULL on error (message recorded).
 */
const char *
ew_ps_read_quoted(struct pstate *ps, const char *s, const char *e, char **out)
{
	struct ew_buf b = EW_BUF_INIT;
	const char *q = s + 1;

	while (q < e && *q != '"') {
		if (*q == '\\' && q + 1 < e && (q[1] == '"' || q[1] == '\\'))
			q++;
		ew_buf_putc(&b, *q++);
	}
	if (q >= e) {
		ERR(ps, s, e, "unterminated string");
		ew_buf_free(&b);
		return NULL;
	}
	*out = ew_buf_detach(&b);
	if (*out == NULL) {
		ew_ps_oom(ps);
		return NULL;
	}
	return q + 1;
}
