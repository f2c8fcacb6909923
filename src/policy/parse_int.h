/*
 * parse_int.h - what the files of the policy reader share: parse.c
 * (lines, rules, torrc options, includes), guard.c (guards),
 * parse_sets.c (port sets and address tables) and parse_base.c (the
 * primitives all three use).  They call downwards only: parse.c ->
 * guard.c -> parse_sets.c -> parse_base.c.  For src/policy only.
 */
#ifndef EW_POLICY_PARSE_INT_H
#define EW_POLICY_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/diag.h"
#include "lib/file.h"
#include "policy/policy_int.h"

/*
 * The files of one parse: the identities (device, inode) of the files
 * being read, outermost first (an include of any of them is a loop,
 * whatever its spelling or symlinks), and what has been read so far.
 */
struct ps_files {
	struct {
		dev_t dev;
		ino_t ino;
		int set;
	} open[EW_MAX_INCLUDE_DEPTH + 1];
	size_t nfiles, nbytes;
	int stop; /* a limit was reached: read nothing more */
};

/* The reader's state: the policy being built and the line being read. */
struct pstate {
	struct ew_policy *p;
	struct ew_diag_list *d;
	unsigned flags;
	int depth;
	struct ps_files *files; /* NULL when no file may be read */
	/* the line being read */
	const struct ew_src *src;
	unsigned lineno;
	const char *line; /* start of the physical line */
};

static inline int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static inline int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static inline const char *
skip_blank(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

/* A word: up to blank, '#', ',' or end.  Returns its end. */
static inline const char *
word_end(const char *s, const char *e)
{
	while (s < e && !is_space(*s) && *s != '#')
		s++;
	return s;
}

/* Record a diagnostic at columns [b, e) of the current line. */
void ew_ps_diag(struct pstate *ps, enum ew_sev sev, const char *b,
    const char *e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define ERR(ps, b, e, ...) ew_ps_diag(ps, EW_SEV_ERROR, b, e, __VA_ARGS__)
/*
 * An error in tor's own rule grammar.  tor does not read ExitPolicy at
 * all when ExitRelay is 0, so these become warnings in that case.
 */
#define TAG_TOR 1
#define TERR(ps, b, e, ...)                                                    \
	do {                                                                   \
		size_t n_ = (ps)->d->n;                                        \
		ew_ps_diag(ps, EW_SEV_ERROR, b, e, __VA_ARGS__);               \
		ew_diag_tag_last((ps)->d, n_, TAG_TOR);                        \
	} while (0)
#define WARN(ps, b, e, ...) ew_ps_diag(ps, EW_SEV_WARNING, b, e, __VA_ARGS__)

/* parse_base.c: the reader's primitives. */
/* Record "out of memory". */
void ew_ps_oom(struct pstate *ps);
/* v with room for n + 1 elements of `size` (doubling *cap), or NULL. */
void *ew_ps_grow(void *v, size_t *cap, size_t n, size_t size);
/* A source text kept by the policy (for locations); NULL on OOM. */
struct ew_src *ew_ps_add_src(
    struct pstate *ps, const char *name, const char *text, size_t len);
/* The same for a text of malloc (NUL-terminated at len) the policy then
 * owns, not copied (a table file of millions of lines); freed on OOM. */
struct ew_src *ew_ps_adopt_src(
    struct pstate *ps, const char *name, char *text, size_t len);
/*
 * Read the include or table file `path`, named at [b, e) of the current
 * line (`what` is "" or "table file "), within the parse's limits: 0
 * with f filled, or -1 with a located error recorded.
 */
int ew_ps_read(struct pstate *ps, const char *what, const char *path,
    const char *b, const char *e, struct ew_file *f);
/* A path relative to the directory of the file that names it. */
char *ew_ps_rel_path(const struct ew_src *from, const char *path);
/* A double-quoted string at s ("\"" and "\\" escapes): *out, and the
 * end; NULL with an error recorded. */
const char *ew_ps_read_quoted(
    struct pstate *ps, const char *s, const char *e, char **out);

/* parse_sets.c: port sets and tables. */
int ew_ps_find_set(const struct ew_policy *p, const char *name, size_t n);
int ew_ps_find_table(const struct ew_policy *p, const char *name, size_t n);
/* "6660-7000, 8888 $other": sorted, merged ranges (caller frees). */
int ew_ps_portlist(struct pstate *ps, const char *s, const char *e,
    struct ew_range **out, size_t *n);
int ew_ps_add_set(struct ew_policy *p, const char *name, size_t nlen,
    struct ew_range *r, size_t n, const struct ew_loc *loc, int builtin);
/* A line "NAME = PORTS ..." (eq points at the '='). */
void ew_ps_setdef(
    struct pstate *ps, const char *s, const char *eq, const char *e);
/* A line "table <NAME> file \"PATH\"" or "table <NAME> { ... }". */
void ew_ps_table(struct pstate *ps, const char *s, const char *e);
/* The entries of a table's text (one address or network a line). */
int ew_ps_table_text(struct pstate *sub, struct ew_table *t);

/* guard.c: "guard NAME ..." and "guards cap|allow ..." (s after the
 * keyword). */
void ew_ps_guard(struct pstate *ps, const char *s, const char *e);
void ew_ps_guards(struct pstate *ps, const char *s, const char *e);

#endif
