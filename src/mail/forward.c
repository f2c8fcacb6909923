/*
 * forward.c - forwards inside the text: who said what, when, in which
 * zone.
 *
 * A hoster's notice often carries the complainant's mail inline, in the
 * shapes mail clients and ticket systems write:
 *
 *	----- Forwarded complaint -----        (ticket systems)
 *	---------- Forwarded message ---------  (Gmail)
 *	-----Original Message-----             (Outlook; "Sent:" in the
 *	                                        forwarder's local format)
 *	Begin forwarded message:               (Apple Mail)
 *	On Tue, 17 Nov 2026, X <x@y> wrote:    (a quoted "> " block)
 *
 * each followed by a header block (From:, Date: or Sent:, To:,
 * Subject:).  Every such block opens a segment one level deeper, with
 * its own sender and Date; times written without a zone inside it take
 * the zone of its Date, or, when the Date itself has none (Outlook's
 * "Sent: Tuesday, November 17, 2026 8:41 AM"), the zone of the message
 * that carries it (the forwarder's client wrote it in its own zone).
 * The innermost sender is the reporter, the outer message's sender the
 * forwarder.  Header lines are quoted headers: the text reader gives
 * their addresses no role.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

size_t
ew_fwd_quote(const char *s, size_t n, unsigned *depth)
{
	size_t i = 0, last = 0;

	*depth = 0;
	while (i < n && (s[i] == '>' || s[i] == ' ' || s[i] == '\t')) {
		if (s[i] == '>') {
			(*depth)++;
			last = i + 1;
		}
		i++;
	}
	if (*depth == 0)
		return 0;
	if (last < n && s[last] == ' ')
		last++;
	return last;
}

static size_t
seg_push(struct ew_fwd *f, unsigned level, size_t part, size_t line)
{
	struct ew_seg *g;

	/* hostile text (quote depths that swing on every line) makes no
	 * more segments than this: later ones continue the current one */
	if (f->n >= EW_FWD_MAX_SEGS)
		return f->cur;
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 8;
		struct ew_seg *nv = realloc(f->v, nc * sizeof(*nv));

		if (nv == NULL) {
			f->oom = 1;
			return f->cur;
		}
		f->v = nv;
		f->cap = nc;
	}
	g = &f->v[f->n];
	if (f->n > 0) {
		*g = f->v[f->cur]; /* date and zone until its own come */
		g->has_off = 0;
	} else {
		memset(g, 0, sizeof(*g));
	}
	g->from[0] = '\0';
	g->inl = 1;
	g->level = level;
	g->part = part;
	g->line = line;
	return f->n++;
}

void
ew_fwd_part(struct ew_fwd *f, const struct ew_mail *m, size_t msg, size_t part)
{
	struct ew_seg *g;
	size_t k;
	int has, off;
	int64_t date = ew_tx_msg_date(m, msg, &has, &off);

	k = seg_push(f, m->msgs[msg].depth, part, 0);
	if (f->oom)
		return;
	g = &f->v[k];
	g->inl = 0;
	g->date = date;
	g->has_date = has;
	g->off = off;
	g->has_off = has;
	snprintf(g->from, sizeof(g->from), "%s",
	    m->msgs[msg].from != NULL ? m->msgs[msg].from : "");
	f->cur = k;
	f->base = m->msgs[msg].depth;
	f->depth = 0;
	f->quote[0] = k;
	f->hdr = 0;
	f->hdrseen = 0;
	f->wrote[0] = '\0';
	f->prev_blank = 1;
}

void
ew_fwd_free(struct ew_fwd *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* A forward marker line: decoration around one of the phrases. */
static int
is_marker(const char *s, size_t n)
{
	static const char *const marks[] = { "forwarded message",
		"forwarded complaint", "forwarded mail", "forwarded e-mail",
		"forwarded email", "forwarded report", "forwarded abuse report",
		"forwarded notice", "original message", "original complaint",
		"original report", "begin forwarded message",
		"weitergeleitete nachricht", "urspr\xc3\xbcngliche nachricht",
		"message transf\xc3\xa9r\xc3\xa9", "message d'origine" };
	size_t b = 0, e = n, k;

	while (b < e && !isalpha((unsigned char)s[b]))
		b++;
	while (e > b && !isalpha((unsigned char)s[e - 1]) &&
	       (unsigned char)s[e - 1] < 0x80)
		e--;
	if (e - b > 40)
		return 0;
	for (k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
		if (strlen(marks[k]) == e - b &&
		    strncasecmp(s + b, marks[k], e - b) == 0)
			return 1;
	return 0;
}

/* Outlook's rule before a forwarded header block: a line of underscores
 * with "From:" on the next line. */
static int
underscores(const char *s, size_t n, const char *next, size_t nn)
{
	size_t k = 0, q;
	unsigned d;

	while (k < n && s[k] == '_')
		k++;
	while (k < n && isspace((unsigned char)s[k]))
		k++;
	if (k < n || n < 10 || next == NULL)
		return 0;
	q = ew_fwd_quote(next, nn, &d);
	return ew_tx_at(next + q, nn - q, 0, "from:") ||
	       ew_tx_at(next + q, nn - q, 0, "von:") ||
	       ew_tx_at(next + q, nn - q, 0, "de :");
}

/* The mailbox address in s ("Name <a@b>", "a@b", "[mailto:a@b]"). */
static int
mailbox(const char *s, size_t n, char *out, size_t cap)
{
	size_t at, b, e;

	for (at = 0; at < n && s[at] != '@'; at++)
		;
	if (at == n || at == 0)
		return 0;
	b = at;
	while (b > 0 && !isspace((unsigned char)s[b - 1]) && s[b - 1] != '<' &&
	       s[b - 1] != ':' && s[b - 1] != '(' && s[b - 1] != '[' &&
	       s[b - 1] != '"')
		b--;
	e = at + 1;
	while (e < n && !isspace((unsigned char)s[e]) && s[e] != '>' &&
	       s[e] != ')' && s[e] != ']' && s[e] != '"' && s[e] != ',')
		e++;
	if (e - b >= cap || b == at || e == at + 1)
		return 0;
	memcpy(out, s + b, e - b);
	out[e - b] = '\0';
	return 1;
}

/* "Name:" at the start of s for a header we know in forwarded blocks. */
static size_t
header_name(const char *s, size_t n)
{
	static const char *const names[] = { "from:", "sent:", "date:", "to:",
		"cc:", "bcc:", "subject:", "reply-to:", "message-id:",
		"importance:", "von:", "an:", "datum:", "gesendet:", "betreff:",
		"de :", "envoy\xc3\xa9 :", "objet :", "\xc3\xa0 :" };
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (ew_tx_at(s, n, 0, names[k]))
			return strlen(names[k]);
	return 0;
}

/* A Date:/Sent: value of a forwarded block into segment g. */
static void
header_date(struct ew_fwd *f, struct ew_seg *g, const char *v, size_t n)
{
	const struct ew_seg *outer = &f->v[f->quote[0]];
	struct ew_tctx cx;
	struct ew_mtime t;

	memset(&cx, 0, sizeof(cx));
	cx.ref = outer->date;
	cx.has_ref = outer->has_date;
	cx.off = outer->off;
	cx.zs = EW_ZONE_ASSUMED;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	if (ew_mail_time_ctx(v, n, &cx, &t) == 0)
		return;
	g->date = t.t;
	g->has_date = 1;
	g->off = t.off;
	g->has_off = t.zs != EW_ZONE_ASSUMED;
}

static enum ew_fwd_kind
header_line(struct ew_fwd *f, const char *s, size_t n)
{
	struct ew_seg *g = &f->v[f->cur];
	size_t k = header_name(s, n);

	if (k == 0) {
		if (f->hdrseen > 0 && n > 0 && (s[0] == ' ' || s[0] == '\t'))
			return EW_FWD_HDR; /* folded */
		return EW_FWD_BODY;
	}
	f->hdrseen++;
	if (ew_tx_at(s, n, 0, "from:") || ew_tx_at(s, n, 0, "von:") ||
	    ew_tx_at(s, n, 0, "de :"))
		(void)mailbox(s + k, n - k, g->from, sizeof(g->from));
	else if (ew_tx_at(s, n, 0, "date:") || ew_tx_at(s, n, 0, "sent:") ||
		 ew_tx_at(s, n, 0, "datum:") || ew_tx_at(s, n, 0, "gesendet:"))
		header_date(f, g, s + k, n - k);
	return EW_FWD_HDR;
}

/* "On <date>, Name <a@b> wrote:" */
static int
wrote_line(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return n >= 6 && n < 300 && ew_tx_at(s, n, n - 6, "wrote:");
}

static enum ew_fwd_kind fwd_line(struct ew_fwd *f, const char *s, size_t n,
    unsigned depth, const char *next, size_t nn, size_t line);

enum ew_fwd_kind
ew_fwd_line(struct ew_fwd *f, const char *s, size_t n, unsigned depth,
    const char *next, size_t nn, size_t line)
{
	enum ew_fwd_kind k = fwd_line(f, s, n, depth, next, nn, line);
	size_t i = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	f->prev_blank = i == n;
	return k;
}

static enum ew_fwd_kind
fwd_line(struct ew_fwd *f, const char *s, size_t n, unsigned depth,
    const char *next, size_t nn, size_t line)
{
	size_t t = 0;

	if (f->oom || f->n == 0)
		return EW_FWD_BODY;
	if (depth > EW_FWD_MAX_QUOTE)
		depth = EW_FWD_MAX_QUOTE;
	if (depth != f->depth) {
		if (depth > f->depth) {
			unsigned d;

			for (d = f->depth + 1; d <= depth && !f->oom; d++) {
				size_t k = seg_push(f, f->v[f->cur].level + 1,
				    f->v[f->cur].part, line);

				if (f->oom)
					break;
				if (f->wrote[0] != '\0')
					snprintf(f->v[k].from,
					    sizeof(f->v[k].from), "%s",
					    f->wrote);
				f->wrote[0] = '\0';
				f->quote[d] = k;
				f->cur = k;
			}
		} else {
			f->cur = f->quote[depth];
		}
		f->depth = depth;
		f->hdr = 0;
	}
	while (t < n && (s[t] == ' ' || s[t] == '\t' || s[t] == '\r'))
		t++;
	if (f->hdr) {
		enum ew_fwd_kind k;

		if (t == n) {
			if (f->hdrseen > 0)
				f->hdr = 0;
			return EW_FWD_MARK;
		}
		k = header_line(f, s + t, n - t);
		if (k != EW_FWD_BODY)
			return k;
		f->hdr = 0;
	}
	if (is_marker(s, n) || underscores(s, n, next, nn)) {
		f->cur = seg_push(
		    f, f->v[f->cur].level + 1, f->v[f->cur].part, line);
		f->quote[depth] = f->cur;
		f->hdr = 1;
		f->hdrseen = 0;
		return EW_FWD_MARK;
	}
	if (wrote_line(s, n)) {
		if (!mailbox(s, n, f->wrote, sizeof(f->wrote)))
			f->wrote[0] = '\0';
		return EW_FWD_MARK;
	}
	/* a pasted header block without a marker, after a blank line (not
	 * the headers of a message quoted as evidence, under Received:) */
	if (f->prev_blank && ew_tx_at(s, n, t, "from:") &&
	    memchr(s, '@', n) != NULL && next != NULL) {
		unsigned nd;
		size_t q = ew_fwd_quote(next, nn, &nd);

		if (nd == depth && header_name(next + q, nn - q) > 0) {
			f->cur = seg_push(
			    f, f->v[f->cur].level + 1, f->v[f->cur].part, line);
			f->quote[depth] = f->cur;
			f->hdr = 1;
			f->hdrseen = 0;
			return header_line(f, s + t, n - t);
		}
	}
	return EW_FWD_BODY;
}

void
ew_fwd_settle(struct ew_fwd *f, struct ew_complaint *c, const struct ew_mail *m)
{
	const char *rep = NULL, *rule = NULL;
	unsigned best = 0;
	size_t k, bk = 0;
	char where[64];

	/* the first attached message's sender */
	if (m->nmsgs > 1 && m->msgs[1].from != NULL) {
		rep = m->msgs[1].from;
		best = 1;
		rule = "the sender of the attached message";
		snprintf(where, sizeof(where), "attached message header From");
	}
	for (k = 0; k < f->n; k++) {
		const struct ew_seg *g = &f->v[k];

		if (!g->inl || g->from[0] == '\0' || g->level <= best)
			continue;
		rep = g->from;
		best = g->level;
		bk = k;
		rule = "the innermost sender of an inline forward";
		snprintf(where, sizeof(where), "part %zu line %zu", g->part + 1,
		    g->line + 1);
	}
	(void)bk;
	if (rep == NULL ||
	    (c->reporter != NULL && strcasecmp(rep, c->reporter) == 0))
		return;
	free(c->forwarder);
	c->forwarder = c->reporter;
	c->reporter = ew_strndup(rep, strlen(rep));
	ew_complaint_note(c, "reporter", c->reporter, rule, where, NULL, 0);
	if (c->forwarder != NULL)
		ew_complaint_note(c, "forwarder", c->forwarder,
		    "the sender of the outer message", "header From", NULL, 0);
}
