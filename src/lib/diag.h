/*
 * diag.h - diagnostics as data.
 *
 * Library code never prints.  It queues records (severity, location,
 * message) on a caller-owned ew_diag_list; the CLI renders them in the
 * nftables manner:
 *
 *	policy.conf:12:10-19: error: unknown port set 'web-ports'
 *	reject *:$web-ports reason "spam"
 *	         ^^^^^^^^^^
 *
 * A location names a source text (ew_src: a file, <stdin>, <cmdline>),
 * a 1-based line and a first and last 1-based column.  A source included
 * from another records where, so errors inside it are preceded by
 * "In file included from a.conf:3:1-20:" lines.  Records copy everything
 * they need: they outlive the sources they point into.
 */
#ifndef EW_LIB_DIAG_H
#define EW_LIB_DIAG_H

#include <stddef.h>

struct ew_buf;

enum ew_sev {
	EW_SEV_ERROR,
	EW_SEV_WARNING,
	EW_SEV_NOTE,
};

/* One input text.  `parent` is the source that included it, or NULL. */
struct ew_src {
	char *name;
	char *text; /* NUL-terminated; may be NULL for synthetic sources */
	size_t len;
	const struct ew_src *parent;
	unsigned pline, pfirst, plast; /* the include site in parent */
};

struct ew_loc {
	const struct ew_src *src; /* NULL: no location */
	unsigned line;            /* 1-based; 0 = whole source */
	unsigned first, last;     /* 1-based columns; 0 = whole line */
};

struct ew_diag {
	enum ew_sev sev;
	char *file; /* NULL when the record has no location */
	unsigned line, first, last;
	char *msg;
	char *srcline; /* the source line (a window of a long one), or NULL */
	unsigned scol; /* srcline starts at this byte (0-based) of the line */
	unsigned clip; /* EW_DIAG_CUT_*: what of the line srcline leaves out */
	char *chain;   /* "In file included from ...:\n" lines, or NULL */
	unsigned tag;  /* the caller's marker, 0 by default */
};

/*
 * What a record keeps of a long line or message, so that one hostile
 * line cannot make every report of it as long as itself: of a source
 * line over EW_DIAG_SHOW bytes, EW_DIAG_SHOW bytes around the first
 * column marked (EW_DIAG_LEAD of them before it), shown with "..." where
 * text was left out; of a message over EW_DIAG_MSG_MAX bytes, its start
 * and its end with "..." between (quoted input is what makes them long).
 */
#define EW_DIAG_SHOW 200
#define EW_DIAG_LEAD 60
#define EW_DIAG_MSG_MAX 400
#define EW_DIAG_CUT_BEFORE 0x1 /* srcline starts after the line does */
#define EW_DIAG_CUT_AFTER 0x2  /* srcline ends before the line does */

/* Records beyond this many errors are counted but not kept. */
#define EW_DIAG_MAX_ERRORS 50

struct ew_diag_list {
	struct ew_diag *v;
	size_t n, cap;
	size_t nerr, nwarn;
	size_t dropped; /* records not kept (cap reached, or out of memory) */
};

void ew_diag_init(struct ew_diag_list *l);
void ew_diag_free(struct ew_diag_list *l);

/* Queue a record; `loc` may be NULL.  Never fails: a record that cannot
 * be stored is counted in `dropped` (and still counts as an error). */
void ew_diag_add(struct ew_diag_list *l, enum ew_sev sev,
    const struct ew_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Mark the last record added with `tag` (no-op when it was dropped). */
void ew_diag_tag_last(struct ew_diag_list *l, size_t n_before, unsigned tag);

/*
 * Turn the errors tagged `tag` among records [from, n) into warnings,
 * appending `suffix` to their messages.
 */
void ew_diag_soften(
    struct ew_diag_list *l, size_t from, unsigned tag, const char *suffix);

/* Move all records of `from` to the end of `to`; `from` is left empty. */
void ew_diag_splice(struct ew_diag_list *to, struct ew_diag_list *from);

/* Render every record in the nftables form, one after another. */
void ew_diag_format(const struct ew_diag_list *l, struct ew_buf *out);
/* Render every record as one JSON object per line. */
void ew_diag_format_json(const struct ew_diag_list *l, struct ew_buf *out);

/* Source objects: a copy of `text` (len bytes) named `name`. */
struct ew_src *ew_src_new(const char *name, const char *text, size_t len);
void ew_src_free(struct ew_src *s);

#endif
