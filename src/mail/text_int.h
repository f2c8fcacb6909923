/*
 * text_int.h - the text readers' shared insides (scan.c, ports.c,
 * deadline.c, fields.c, facts.c, forward.c, roles.c, text.c, build.c,
 * cpl.c), for the mail module and its tests only.
 *
 * The free-text reader works in three passes over the decoded text
 * parts of a mail:
 *
 *   1. forward.c follows the message structure inside the text: inline
 *      forwards ("----- Forwarded complaint -----", Gmail, Outlook,
 *      Apple, quoted "> " blocks with "On ... wrote:") open segments,
 *      each with its own sender, Date and zone.  Header lines of such
 *      blocks are quoted headers: their addresses are neither source nor
 *      destination.
 *   2. text.c reads each body line: its times (in the segment's zone),
 *      its addresses (mentions) with a role from roles.c (table columns,
 *      arrows, IRC host masks, the words before), port lists, and host
 *      names given as destinations.
 *   3. build.c settles the roles over the whole mail (an address named
 *      as a source anywhere is never a destination; an address of
 *      unknown role that is named as a destination elsewhere is one) and
 *      pairs sources with destinations into incidents.  Every loop there
 *      is linear or n log n in the number of mentions: the addresses are
 *      sorted once and given ids.
 *
 * Each fact that reaches the complaint leaves a note (mail_int.h) that
 * says where it came from and which rule fired.
 */
#ifndef EW_MAIL_TEXT_INT_H
#define EW_MAIL_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "mail/mail_int.h"

/* ---- scan.c: words, numbers, addresses ---- */

/* Case-insensitive: does `w` start at s[i] (within n)? */
int ew_tx_at(const char *s, size_t n, size_t i, const char *w);
/* `w` at s[i] with no letter or digit just before it. */
int ew_tx_word_at(const char *s, size_t n, size_t i, const char *w);

/*
 * The words of a list (at most 32, none empty) that may start at a
 * byte: for each byte value a bit per word whose first byte it is, in
 * either case.  A reader that tries a list at every position looks once
 * there, then calls ew_tx_at only for those words, in list order.  Built
 * on the caller's stack for one scan: no shared state to initialise.
 */
struct ew_tx_first {
	uint32_t m[256];
};

#define EW_TX_FIRST_MAX 32
#define EW_TX_NWORDS(a) (sizeof(a) / sizeof((a)[0]))

void ew_tx_first_init(struct ew_tx_first *f);
/* Word k of the list is w. */
void ew_tx_first_add(struct ew_tx_first *f, size_t k, const char *w);
/* ew_tx_first_init, then ew_tx_first_add of w[0..nw). */
void ew_tx_first_words(struct ew_tx_first *f, const char *const *w, size_t nw);
/* The words that may start at s[i]: a bit per word, 0 when i >= n. */
static inline uint32_t
ew_tx_first_at(const struct ew_tx_first *f, const char *s, size_t n, size_t i)
{
	return i < n ? f->m[(unsigned char)s[i]] : 0;
}
/* The first word of the set, taken out of it (the set is not empty). */
static inline size_t
ew_tx_first_next(uint32_t *set)
{
	size_t k = (size_t)__builtin_ctz(*set);

	*set &= *set - 1;
	return k;
}
/* Is there a word starting with one of the words w (f: their
 * ew_tx_first_words) anywhere in s[0..n)? */
int ew_tx_has_any_word(
    const char *s, size_t n, const char *const *w, const struct ew_tx_first *f);
/* A byte of an address's text: a hex digit, '.' or ':' (c an unsigned
 * char or EOF). */
extern const unsigned char ew_tx_addr_chars[256];
static inline int
ew_tx_addr_char(int c)
{
	return c >= 0 && c < 256 && ew_tx_addr_chars[c];
}
void ew_tx_unmap(struct ew_addr *a);
void ew_tx_skip_sp(const char *s, size_t n, size_t *j);
/* The end of the line at s[i]: the next '\n' from i on, or n (i when i
 * is past n). */
size_t ew_tx_line_end(const char *s, size_t n, size_t i);
/* Blanks and one line break (with the next line's quote marks), not a
 * blank line: a sentence that wraps. */
void ew_tx_skip_ws(const char *s, size_t n, size_t *j);
/* A port number (1..65535) at s[*j], advancing *j; -1 if none. */
long ew_tx_num_at(const char *s, size_t n, size_t *j);

/* An address found in text. */
struct ew_found {
	struct ew_addr a;
	int plen;  /* -1: a single address */
	long port; /* -1: none */
	size_t start, end;
};
/* An address starting at s[i] (nothing address-like just before it):
 * 1 and *f filled, or 0. */
int ew_tx_scan_addr(const char *s, size_t n, size_t i, struct ew_found *f);
void ew_tx_addr_text(const struct ew_addr *a, int plen, char *out, size_t cap);

/* ---- fields.c ---- */

/* The value of the first "name:" line in s, trimmed, in out. */
int ew_tx_field(
    const char *s, size_t n, const char *name, char *out, size_t cap);
/* The first address in a field value ("1.2.3.4 (comment)"). */
int ew_tx_value_addr(const char *v, struct ew_addr *a, int *plen);

/* facts.c: the Date of message msg (else of the outer one): UTC
 * seconds, *has, and (off != NULL) the offset it was written in. */
int64_t ew_tx_msg_date(const struct ew_mail *m, size_t msg, int *has, int *off);
/* cpl.c: an incident's time when the text gives none (until `date`),
 * and a copy of a ports string (NULL for none or ""). */
void ew_tx_no_time(struct ew_mtime *tm, int64_t date, int has_date);
char *ew_tx_dup_ports(const char *p);

/* ---- ports.c ---- */

/* ew_mail_ports for lists that start in s[0..lim) (they may go on
 * past it, to n: a wrapped sentence). */
size_t ew_tx_ports_in(const char *s, size_t n, size_t lim, struct ew_buf *out);
/* Port numbers of well-known service names ("ssh" 22); -1 if unknown. */
long ew_tx_service_port(const char *s, size_t n);

/* ---- deadline.c ---- */

struct ew_deadline_hit {
	int64_t t;
	int relative;     /* counted from the message's Date */
	size_t pos, len;  /* the words that stated it, within the text */
	const char *rule; /* "checked box", "within N", "by DATE", ... */
};
/* The earliest deadline stated in s, 1 when found. */
int ew_tx_deadline(const char *s, size_t n, int64_t base, int has_base,
    struct ew_deadline_hit *out);
/* Is the time starting at s[i] introduced as a deadline ("after",
 * "by", "until", "no later than", "deadline")? */
int ew_tx_deadline_time(const char *s, size_t i);

/* ---- forward.c: segments of a text part ---- */

#define EW_FWD_MAX_QUOTE 16
#define EW_FWD_MAX_SEGS 4096

struct ew_seg {
	unsigned level; /* 0: the outer message's own text */
	size_t part;    /* where it starts (for notes) */
	char from[256]; /* the sender's address, "" when not stated */
	int64_t date;   /* its Date (UTC) when has_date */
	int has_date;
	int off;     /* minutes east of UTC for times without zone */
	int has_off; /* off comes from the segment's own Date */
	int inl;     /* opened inside the text (a forward, a quote) */
	size_t line; /* where it starts (for notes) */
};

struct ew_fwd {
	struct ew_seg *v; /* every segment of the mail, in order */
	size_t n, cap;
	size_t cur;                         /* the current segment */
	size_t quote[EW_FWD_MAX_QUOTE + 1]; /* segment per quote depth */
	unsigned depth;                     /* quote depth of the last line */
	unsigned base;                      /* level of the part's message */
	int hdr;                            /* 1: in a forwarded header block */
	int hdrseen;                        /* header lines met in this block */
	int prev_blank;                     /* the line before was blank */
	char wrote[256]; /* "On ..., X wrote:" sender for the next quote */
	int oom;
};

enum ew_fwd_kind {
	EW_FWD_BODY = 0, /* text of the current segment */
	EW_FWD_MARK,     /* a forward marker or "wrote:" line */
	EW_FWD_HDR,      /* a header line of a forwarded block */
};

/* The quote prefix of a line ("> > "): its length; *depth the count. */
size_t ew_fwd_quote(const char *s, size_t n, unsigned *depth);
/* Start a text part of message msg (level = its depth). */
void ew_fwd_part(
    struct ew_fwd *f, const struct ew_mail *m, size_t msg, size_t part);
/* Classify one line (without its quote prefix; depth is the number of
 * '>' before it; next is the following line, for lookahead). */
enum ew_fwd_kind ew_fwd_line(struct ew_fwd *f, const char *s, size_t n,
    unsigned depth, const char *next, size_t nn, size_t line);
static inline const struct ew_seg *
ew_fwd_cur(const struct ew_fwd *f)
{
	return &f->v[f->cur];
}
void ew_fwd_free(struct ew_fwd *f);
/* Reporter and forwarder from the segments, into c (with notes). */
void ew_fwd_settle(
    struct ew_fwd *f, struct ew_complaint *c, const struct ew_mail *m);

/* ---- roles.c ---- */

enum ew_role {
	EW_ROLE_UNKNOWN = 0,
	EW_ROLE_SRC,
	EW_ROLE_DST,
	EW_ROLE_NEITHER,
};

/* Column kinds of a table header. */
enum ew_col {
	EW_COL_OTHER = 0,
	EW_COL_TIME,
	EW_COL_SRC,
	EW_COL_SPORT,
	EW_COL_DST,
	EW_COL_DPORT,
	EW_COL_ARROW,
};

#define EW_TABLE_MAX_COLS 24

struct ew_table {
	int active;
	enum ew_col col[EW_TABLE_MAX_COLS];
	size_t ncol;
	int zone_off, has_zone; /* "TIME (UTC)" in the header */
	enum ew_zone_source zone_zs;
	size_t line; /* header line, for notes */
};

/* A table header at s (no addresses on it): 1 and *t set. */
int ew_role_table_header(const char *s, size_t n, struct ew_table *t);

/* The role of the address at s[f->start..f->end) of a row of t, and its
 * port from the column after it; *ai counts address columns used. */
enum ew_role ew_role_table_cell(const struct ew_table *t, const char *s,
    size_t n, const struct ew_found *f, size_t *ai, long *port);

/* The role the structure or the words around an address give it.  s is
 * the whole part text, ls the start of its line, lim the earliest byte
 * of its sentence or paragraph.  *rule names what decided. */
enum ew_role ew_role_of(const char *s, size_t n, size_t lim, size_t ls,
    const struct ew_found *f, const char **rule);

/* A host name starting at s[i] that the words before make a
 * destination ("against www.shop.example", "our servers (a.example and
 * b.example)", "on wiki.example"): 1, the name in out, *end past it. */
int ew_role_host_at(const char *s, size_t n, size_t lim, size_t i, size_t *end,
    char *out, size_t cap, const char **rule);
/* A host name given as the destination ("the servers that
 * irc.example.net resolves to"), copied into out (cap bytes); 1 when
 * found, *pos its position. */
int ew_role_dst_host(const char *s, size_t n, char *out, size_t cap,
    size_t *pos, const char **rule);

/* ---- text.c / build.c ---- */

struct ew_mention {
	struct ew_found f;
	enum ew_role role;
	const char *rule; /* why it has that role (static) */
	int received;   /* the sending hop of a Received: header (with its time)
			 */
	int structural; /* the role is from a table column or an
			   arrow: such a line is a row (build.c) */
	size_t line;    /* global line number */
	size_t part, pline;  /* part index and line in it (for notes) */
	size_t text, ls, le; /* text index and line bounds in it */
	struct ew_mtime tm;
	int has_tm;
	char *ports; /* its own ports (a table column, "port N" on its
			line), owned; NULL when none */
	uint32_t id; /* address id (build.c) */
};

#define EW_TEXT_MAX_HOSTS 16

struct ew_text_state {
	struct ew_mention *v;
	size_t n, cap;
	struct ew_buf ports; /* ports named in prose, all parts */
	const char *ports_rule;
	size_t ports_text, ports_pos; /* where the first list was */
	size_t ports_part, ports_line;
	int overflow;
	struct ew_mtime gt;     /* the one event time of the text, if one */
	struct ew_mtime fs, ls; /* "First seen:" and "Last seen:" lines */
	int has_fs, has_ls;
	int ntimes; /* 0, 1 (gt is it), 2 (several) */
	int gtpri;  /* how surely gt is an event time */
	struct ew_host {
		char name[256];
		const char *rule;
		size_t text, pos, part, line;
	} hosts[EW_TEXT_MAX_HOSTS]; /* destinations named by host name */
	size_t nhosts;
	struct ew_buf *texts; /* the refanged text of each part read */
	size_t ntexts;
	size_t nneither; /* quoted-header and example addresses */
	uint64_t steps;  /* work done settling roles (for tests) */
};

/* build.c (text.c calls it; it calls nothing of text.c). */
int ew_text_build(struct ew_complaint *c, struct ew_text_state *st,
    int64_t date, int has_date);
/* "part 2 line 14" and the words of a mention's line, into a note. */
void ew_text_note(struct ew_complaint *c, const struct ew_text_state *st,
    const char *fact, const char *value, const char *rule, size_t text,
    size_t part, size_t line, size_t pos);

#endif
