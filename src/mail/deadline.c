/*
 * deadline.c - deadlines as complaints state them.
 *
 * Relative ones count from the Date of the message (or inline-forwarded
 * segment) that states them: "within 24 hours", "disconnected in 12
 * hours", "in the next 2 days", and checkbox forms where the checked box
 * is the one ("[x] Disconnected in: [] 24-Hours [x] 12-Hours [] 6-Hours":
 * 12 hours).  Absolute ones: "respond by DATE", "deadline: DATE", "until
 * DATE", "no later than DATE", and "after DATE" next to a word of
 * action ("blocked at any time after 2026-11-18 12:00:00 +0100").  The
 * earliest stated deadline wins.  A time so introduced is never an
 * incident's time (ew_tx_deadline_time).
 *
 * Bounded by the receive time when the caller knows it (mail.h,
 * struct ew_complaint_opts): a Date before the receive time by more than
 * EW_MAIL_DATE_SKEW_PAST or after it by more than
 * EW_MAIL_DATE_SKEW_FUTURE is not believed, and relative deadlines then
 * count from the receive time; a deadline before received -
 * EW_MAIL_DATE_SKEW_PAST becomes the receive time, one after received +
 * EW_MAIL_DEADLINE_MAX that bound (mail.h says why).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

/* ---- deadlines ---- */

static const char *const dl_words[] = { "disconnect", "suspend", "terminat",
	"null", "block", "shut", "deadline", "respond", "response", "reply",
	"resolve", "action", "otherwise", "lock", "disable", "cancel", "remove",
	"stop", "fix", "take", "answer", "cease", "acknowledg" };
_Static_assert(EW_TX_NWORDS(dl_words) <= EW_TX_FIRST_MAX, "dl_words");

static int
near_deadline_word(const char *s, size_t n, size_t i)
{
	size_t b = i > 200 ? i - 200 : 0, e = i + 120 < n ? i + 120 : n, k, j;
	struct ew_tx_first f;

	/* the sentence around s[i], within that window */
	for (j = i; j > b; j--)
		if ((s[j - 1] == '.' || s[j - 1] == '!' || s[j - 1] == '?') &&
		    j < n && isspace((unsigned char)s[j])) {
			b = j;
			break;
		}
	for (j = i; j < e; j++)
		if ((s[j] == '.' || s[j] == '!' || s[j] == '?') &&
		    (j + 1 == n || isspace((unsigned char)s[j + 1]))) {
			e = j;
			break;
		}
	ew_tx_first_words(&f, dl_words, EW_TX_NWORDS(dl_words));
	for (j = b; j < e; j++) {
		uint32_t set = ew_tx_first_at(&f, s, e, j);

		while (set != 0) {
			k = ew_tx_first_next(&set);
			if (ew_tx_word_at(s + b, e - b, j - b, dl_words[k]) &&
			    !(k == 4 && ew_tx_at(s, e, j, "blocklist")))
				return 1;
		}
	}
	return 0;
}

static long
count_at(const char *s, size_t n, size_t *j)
{
	static const struct {
		const char *w;
		long v;
	} words[] = { { "twenty-four", 24 }, { "twenty four", 24 },
		{ "forty-eight", 48 }, { "seventy-two", 72 }, { "one", 1 },
		{ "two", 2 }, { "three", 3 }, { "four", 4 }, { "five", 5 },
		{ "six", 6 }, { "seven", 7 }, { "eight", 8 }, { "ten", 10 },
		{ "twelve", 12 }, { "a", 1 }, { "an", 1 } };
	size_t k;

	if (*j < n && isdigit((unsigned char)s[*j])) {
		long v = 0;
		size_t q = *j;

		while (*j < n && isdigit((unsigned char)s[*j]) && *j - q < 4)
			v = v * 10 + (s[(*j)++] - '0');
		return v;
	}
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		size_t l = strlen(words[k].w);

		if (ew_tx_at(s, n, *j, words[k].w) &&
		    (*j + l >= n || !isalpha((unsigned char)s[*j + l]))) {
			*j += l;
			return words[k].v;
		}
	}
	return -1;
}

/* "N hours" at s[j]: seconds, or -1. */
/* Units of a span, in English, German, French, Dutch and Spanish. */
static const struct {
	const char *w;
	int64_t secs;
	int prefix; /* "hour" of "hours" */
} units[] = {
	{ "business day", 86400, 1 },
	{ "working day", 86400, 1 },
	{ "day", 86400, 1 },
	{ "hour", 3600, 1 },
	{ "hrs", 3600, 0 },
	{ "hr", 3600, 0 },
	{ "h", 3600, 0 },
	{ "minute", 60, 1 },
	{ "min", 60, 0 },
	{ "week", 7 * 86400, 1 },
	{ "stunde", 3600, 1 },
	{ "std", 3600, 0 },
	{ "tag", 86400, 1 },
	{ "werktag", 86400, 1 },
	{ "woche", 7 * 86400, 1 },
	{ "heure", 3600, 1 },
	{ "jour", 86400, 1 },
	{ "semaine", 7 * 86400, 1 },
	{ "uur", 3600, 0 },
	{ "dag", 86400, 1 },
	{ "werkdag", 86400, 1 },
	{ "weken", 7 * 86400, 0 },
	{ "hora", 3600, 1 },
	{ "d\xc3\xad"
	  "a",
	    86400, 1 },
	{ "dia", 86400, 1 },
};

static int64_t
span_at(const char *s, size_t n, size_t j)
{
	long v;
	size_t k;

	ew_tx_skip_ws(s, n, &j);
	if (ew_tx_at(s, n, j, "the next "))
		j += 9;
	else if (ew_tx_at(s, n, j, "next "))
		j += 5;
	else if (ew_tx_at(s, n, j, "les "))
		j += 4; /* "dans les 48 heures" */
	else if (ew_tx_at(s, n, j, "von "))
		j += 4; /* "innerhalb von 24 Stunden" */
	v = count_at(s, n, &j);
	if (v <= 0)
		return -1;
	ew_tx_skip_ws(s, n, &j);
	if (j + 1 < n && s[j] == '-' && isalpha((unsigned char)s[j + 1]))
		j++;                                      /* "12-Hours" */
	else if (j < n && (s[j] == '(' || s[j] == '-')) { /* "(24)", "24-hr" */
		while (j < n && s[j] != ' ' && s[j] != ')')
			j++;
		if (j < n && s[j] == ')')
			j++;
		ew_tx_skip_ws(s, n, &j);
	}
	for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
		if (ew_tx_at(s, n, j, units[k].w) &&
		    (units[k].w[strlen(units[k].w) - 1] == ' ' ||
			j + strlen(units[k].w) >= n ||
			!isalpha((unsigned char)s[j + strlen(units[k].w)]) ||
			units[k].prefix))
			return (int64_t)v * units[k].secs;
	return -1;
}

/* The word w at s[i], then a blank or a line break. */
static int
word_sp(const char *s, size_t n, size_t i, const char *w)
{
	size_t l = strlen(w);

	return ew_tx_word_at(s, n, i, w) && i + l < n &&
	       isspace((unsigned char)s[i + l]);
}

/* "within" and its kin. */
static const char *const within_words[] = { "within", "innerhalb", "binnen",
	"sous", "dans", "d'ici", "dentro de", "en un plazo de" };
_Static_assert(EW_TX_NWORDS(within_words) <= EW_TX_FIRST_MAX, "within");

/* The words before a span next to a word of action: "disconnected in
 * 12 hours", "the next 2 days". */
static const char *const span_words[] = { "in", "next" };
_Static_assert(EW_TX_NWORDS(span_words) <= EW_TX_FIRST_MAX, "span_words");

/* Checked boxes. */
static const char *const boxes[] = { "[x]", "[X]", "(x)", "(X)", "[*]", "[ x ]",
	"[ X ]", "\xe2\x98\x92", "\xe2\x98\x91", "[\xe2\x9c\x93]",
	"[\xe2\x9c\x94]", "\xe2\x9c\x85" };
_Static_assert(EW_TX_NWORDS(boxes) <= EW_TX_FIRST_MAX, "boxes");

/* Of the words `set` of w, the first word_sp at s[i]: its length, 0 if
 * none. */
static size_t
word_sp_of(
    const char *s, size_t n, size_t i, const char *const *w, uint32_t set)
{
	while (set != 0) {
		size_t k = ew_tx_first_next(&set);

		if (word_sp(s, n, i, w[k]))
			return strlen(w[k]);
	}
	return 0;
}

/* Of the boxes `set`, a checked box at s[i]: its length, 0 if none. */
static size_t
checked_box(const char *s, size_t n, size_t i, uint32_t set)
{
	while (set != 0) {
		size_t k = ew_tx_first_next(&set);

		if (ew_tx_at(s, n, i, boxes[k]))
			return strlen(boxes[k]);
	}
	return 0;
}

static const char *const abs_words[] = { "deadline", "by ", "before ", "until ",
	"no later than ", "after ", "bis zum ", "bis ", "avant le ", "vor dem ",
	"uiterlijk ", "antes del ", "on ", "am " };
_Static_assert(EW_TX_NWORDS(abs_words) <= EW_TX_FIRST_MAX, "abs_words");

/* The lists ew_tx_deadline tries at each position, by first byte. */
struct dl_first {
	struct ew_tx_first box, within, span, abs;
};

/* Words of action just before s[i] (the same sentence, 100 bytes):
 * "disconnect the server on DATE". */
static int
action_before(const char *s, size_t i)
{
	static const char *const w[] = { "disconnect", "block", "suspend",
		"null", "terminat", "shut", "sperr", "lock", "disable",
		"cancel", "deactivat", "suspendre", "bloquer", "blokker",
		"afsluiten" };
	_Static_assert(EW_TX_NWORDS(w) <= EW_TX_FIRST_MAX, "action words");
	size_t b = i > 100 ? i - 100 : 0;
	struct ew_tx_first f;

	ew_tx_first_words(&f, w, EW_TX_NWORDS(w));
	return ew_tx_has_any_word(s + b, i - b, w, &f);
}

int
ew_tx_deadline_time(const char *s, size_t i)
{
	size_t b = i > 48 ? i - 48 : 0, j, k;

	/* the nearest word before the time */
	j = i;
	while (j > b && (s[j - 1] == ' ' || s[j - 1] == ':' ||
			    s[j - 1] == '\t' || s[j - 1] == '\n'))
		j--;
	if (j >= 3 && ew_tx_at(s, j, j - 3, " is"))
		j -= 3; /* "deadline is" */
	if (j >= 4 && ew_tx_at(s, j, j - 4, " the"))
		j -= 4;
	for (k = 0; k < sizeof(abs_words) / sizeof(abs_words[0]); k++) {
		size_t l = strlen(abs_words[k]);

		if (abs_words[k][l - 1] == ' ')
			l--;
		if (j >= b + l &&
		    strncasecmp(s + j - l, abs_words[k], l) == 0 &&
		    (j - l == 0 || !isalnum((unsigned char)s[j - l - 1])))
			return k < 12 || action_before(s, j - l);
	}
	return 0;
}

/* An absolute deadline introduced by a word at s[i]. */
static int
absolute_at(const char *s, size_t n, size_t i, size_t *checks,
    struct ew_deadline_hit *h, uint32_t set)
{
	size_t k, j;
	struct ew_mtime m;

	while (set != 0) {
		size_t l;

		k = ew_tx_first_next(&set);
		l = strlen(abs_words[k]);

		if (abs_words[k][l - 1] == ' ')
			l--; /* any blank after it, a line break too */
		if (!ew_tx_word_at(s, n, i, abs_words[k]) &&
		    !(l < strlen(abs_words[k]) && i + l < n &&
			isspace((unsigned char)s[i + l]) &&
			strncasecmp(s + i, abs_words[k], l) == 0 &&
			(i == 0 || !isalnum((unsigned char)s[i - 1]))))
			continue;
		j = i + l;
		while (j < n && (s[j] == ':' || s[j] == ' ' || s[j] == '\t'))
			j++;
		ew_tx_skip_ws(s, n, &j);
		if (ew_tx_at(s, n, j, "is "))
			j += 3;
		if (ew_tx_at(s, n, j, "the "))
			j += 4;
		if (ew_mail_time_at(s + j, n - j, &m) == 0)
			return 0;
		/* "after DATE" only next to a word of action, "on DATE"
		 * only after one */
		if (k == 5 && (++*checks > 256 || !near_deadline_word(s, n, i)))
			return 0;
		if (k >= 12 && !action_before(s, i))
			return 0;
		h->t = m.t;
		h->relative = 0;
		h->pos = i;
		h->len = j - i + 25 < n - i ? j - i + 25 : n - i;
		h->rule = k == 0   ? "a deadline with its date"
			  : k == 5 ? "a date after which action is taken"
				   : "a date to act by";
		return 1;
	}
	return 0;
}

int
ew_tx_deadline(const char *s, size_t n, int64_t base, int has_base,
    struct ew_deadline_hit *out)
{
	size_t i, checks = 0;
	int found = 0;
	struct dl_first f;

	ew_tx_first_words(&f.box, boxes, EW_TX_NWORDS(boxes));
	ew_tx_first_words(&f.within, within_words, EW_TX_NWORDS(within_words));
	ew_tx_first_words(&f.span, span_words, EW_TX_NWORDS(span_words));
	ew_tx_first_words(&f.abs, abs_words, EW_TX_NWORDS(abs_words));
	for (i = 0; i < n; i++) {
		struct ew_deadline_hit h;
		int64_t span = -1;
		size_t box, wl;
		uint32_t bset = has_base ? ew_tx_first_at(&f.box, s, n, i) : 0;
		uint32_t aset = ew_tx_first_at(&f.abs, s, n, i);
		uint32_t wset = 0, sset = 0;

		if (has_base) {
			wset = ew_tx_first_at(&f.within, s, n, i);
			sset = ew_tx_first_at(&f.span, s, n, i);
		}
		/* nothing of any list can start here */
		if ((bset | aset | wset | sset) == 0)
			continue;
		memset(&h, 0, sizeof(h));
		if (bset != 0 && (box = checked_box(s, n, i, bset)) > 0) {
			span = span_at(s, n, i + box);
			h.rule = "the checked box of a form";
			h.len = box + 12;
		} else if (!isalpha((unsigned char)s[i]) ||
			   (i > 0 && isalnum((unsigned char)s[i - 1]))) {
			continue;
		} else if (wset != 0 &&
			   (wl = word_sp_of(s, n, i, within_words, wset)) > 0) {
			span = span_at(s, n, i + wl);
			h.rule = "'within' a span of time";
			h.len = 24;
		} else if (sset != 0 &&
			   word_sp_of(s, n, i, span_words, sset) > 0) {
			span = span_at(
			    s, n, i + (s[i] == 'n' || s[i] == 'N' ? 0 : 2));
			/* bounded work on hostile text: deadlines are stated
			 * once or twice, not thousands of times */
			if (span >= 0 &&
			    (++checks > 256 || !near_deadline_word(s, n, i)))
				span = -1;
			h.rule = "a span of time next to a word of action";
			h.len = 24;
		}
		if (span > 0) {
			h.t = base + span;
			h.relative = 1;
			h.pos = i;
		} else if (!absolute_at(s, n, i, &checks, &h, aset)) {
			continue;
		}
		if (h.pos + h.len > n)
			h.len = n - h.pos;
		if (!found || h.t < out->t) {
			*out = h;
			found = 1;
		}
	}
	return found;
}

int
ew_mail_deadline(
    const char *s, size_t n, int64_t base, int has_base, int64_t *out)
{
	struct ew_deadline_hit h;

	if (!ew_tx_deadline(s, n, base, has_base, &h))
		return 0;
	*out = h.t;
	return 1;
}

/* The base a segment's relative deadlines count from. */
static int64_t
deadline_base(const struct ew_complaint *c, const struct ew_seg *g, int *has,
    int *from_recv)
{
	*from_recv = 0;
	*has = g->has_date;
	if (!c->has_received)
		return g->date;
	if (!g->has_date || g->date < c->received - EW_MAIL_DATE_SKEW_PAST ||
	    g->date > c->received + EW_MAIL_DATE_SKEW_FUTURE) {
		*from_recv = 1;
		*has = 1;
		return c->received;
	}
	return g->date;
}

struct dl_best {
	struct ew_deadline_hit h;
	int found, from_recv;
	const char *text;
	size_t part, off;
};

/* Deadlines of one segment's text s[0..n) of part k. */
static void
deadline_seg(const struct ew_complaint *c, const struct ew_seg *g,
    const char *s, size_t n, size_t k, size_t off, struct dl_best *best)
{
	struct ew_deadline_hit h;
	int has, from_recv;
	int64_t base = deadline_base(c, g, &has, &from_recv);

	if (n == 0 || !ew_tx_deadline(s, n, base, has, &h))
		return;
	if (c->has_received) {
		if (h.t < c->received - EW_MAIL_DATE_SKEW_PAST)
			h.t = c->received;
		if (h.t > c->received + EW_MAIL_DEADLINE_MAX)
			h.t = c->received + EW_MAIL_DEADLINE_MAX;
	}
	if (!best->found || h.t < best->h.t) {
		best->h = h;
		best->found = 1;
		best->from_recv = from_recv && h.relative;
		best->text = s;
		best->part = k;
		best->off = off;
	}
}

/* Walk part k's lines with the forward reader; one deadline scan per run
 * of lines of the same segment. */
static void
deadline_part(struct ew_complaint *c, const struct ew_mail *m, size_t k,
    const char *s, size_t n, struct dl_best *best)
{
	struct ew_fwd f;
	size_t ls, le, seg_start = 0, cur;

	memset(&f, 0, sizeof(f));
	ew_fwd_part(&f, m, m->parts[k].msg, k);
	if (f.oom) {
		ew_fwd_free(&f);
		return;
	}
	cur = f.cur;
	for (ls = 0; ls < n; ls = le + 1) {
		unsigned depth;
		size_t q, nx, nle;

		le = ew_tx_line_end(s, n, ls);
		q = ew_fwd_quote(s + ls, le - ls, &depth);
		nx = le < n ? le + 1 : n;
		nle = ew_tx_line_end(s, n, nx);
		(void)ew_fwd_line(
		    &f, s + ls + q, le - ls - q, depth, s + nx, nle - nx, 0);
		if (f.oom)
			break;
		if (f.cur != cur) {
			deadline_seg(c, &f.v[cur], s + seg_start,
			    ls - seg_start, k, seg_start, best);
			cur = f.cur;
			seg_start = ls;
		}
	}
	if (!f.oom)
		deadline_seg(c, &f.v[cur], s + seg_start, n - seg_start, k,
		    seg_start, best);
	ew_fwd_free(&f);
}

void
ew_extract_deadline(struct ew_complaint *c, const struct ew_mail *m)
{
	struct ew_buf b = EW_BUF_INIT;
	struct dl_best best;
	char where[64], words[160], tv[EW_TIME_STRLEN];
	const char *rule = NULL;
	size_t k, line = 1, i, wlen = 0;

	memset(&best, 0, sizeof(best));
	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		struct dl_best pb;

		if (strncmp(p->ctype, "text/", 5) != 0 ||
		    strcmp(p->ctype, "text/rfc822-headers") == 0)
			continue;
		/* a feedback report's reported message is evidence: its
		 * "within 72 hours" is the spammer's, not a deadline */
		if (p->msg != 0 && c->format != NULL &&
		    strcmp(c->format, "arf") == 0)
			continue;
		ew_buf_reset(&b);
		ew_mail_refang(p->data, p->len, &b);
		if (b.oom)
			break;
		memset(&pb, 0, sizeof(pb));
		deadline_part(c, m, k, ew_buf_str(&b), b.len, &pb);
		if (!pb.found || (best.found && pb.h.t >= best.h.t))
			continue;
		best = pb;
		/* where and the words, while the text is at hand */
		for (line = 1, i = 0; i < pb.off + pb.h.pos; i++)
			line += b.p[i] == '\n';
		snprintf(
		    where, sizeof(where), "part %zu line %zu", k + 1, line);
		wlen = pb.h.len < sizeof(words) ? pb.h.len : sizeof(words) - 1;
		memcpy(words, pb.text + pb.h.pos, wlen);
		for (i = 0; i < wlen; i++)
			if (words[i] == '\n' || words[i] == '\r')
				words[i] = ' ';
		rule = pb.from_recv ? "a span of time counted from the receive "
				      "time (the Date is implausible)"
				    : pb.h.rule;
	}
	if (best.found) {
		c->deadline = best.h.t;
		c->has_deadline = 1;
		ew_complaint_note(c, "deadline",
		    ew_time_format(best.h.t, tv, sizeof(tv)), rule, where,
		    words, wlen);
	}
	ew_buf_free(&b);
}
