/*
 * text.c - the free-text reader: a complaint read line by line.
 *
 * For every text part (HTML only when its message has no plain text),
 * refanged: forward.c says which segment (inline forward, quoted block)
 * each line belongs to, and header lines of forwarded blocks are
 * skipped.  Each body line yields
 *
 *   - its time: the first date-time on it that is not introduced as a
 *     deadline, read in the zone the line states, else the zone the
 *     text states ("All times are CET", a "TIME (UTC)" column), else
 *     the zone of its segment's Date (assumed); intervals ("between
 *     06:02 and 06:47 UTC", "from 07:30 to 08:20 UTC") on the day last
 *     named; syslog times without a year in the year of the Date;
 *   - its addresses, each a mention with a role (roles.c) and its own
 *     port ("a.b.c.d:port", "a.b.c.d port N", a table's port column);
 *   - its ports in prose ("on port 22"), which belong to its addresses.
 *
 * Port lists and destination host names are also read over each whole
 * part, since sentences wrap.  build.c then turns mentions into
 * incidents.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

/* The reader's state over one mail. */
struct reader {
	struct ew_complaint *c;
	const struct ew_mail *m;
	struct ew_text_state *st;
	struct ew_fwd fwd;
	struct ew_table tab;
	size_t tab_rows;
	size_t line;    /* global line number */
	size_t text;    /* index of the current text in st->texts */
	size_t part;    /* part index (SIZE_MAX: a subject) */
	size_t pline;   /* line within the part */
	size_t para;    /* start of the current paragraph */
	size_t skip_to; /* continuation lines of a quoted header end here */
	int sig;        /* in a signature ("-- " line) of segment sig_seg */
	size_t time_skip_to; /* the end of an interval read on a line before */
	size_t under;        /* the one untimed address of the line before */
	int under_ok;        /* ... whose indented lines may time it */
	size_t sig_seg;
	/* zones stated in prose ("times are in CET") per segment of the
	 * part (index - seg0), found before the part is read */
	struct pzone {
		int off;
		enum ew_zone_source zs;
	} * zones;
	size_t nzones, seg0;
	int64_t day; /* local day of the last date named */
	int has_day;
	size_t day_seg;
	/* the word lists below by first byte (ew_tx_first), for every line */
	struct ew_tx_first ev_first, rep_first, skip_first, zone_first;
};

static void add_host(struct reader *r, const char *name, const char *rule,
    const char *s, size_t pos);

/* Words that make a time on a line the event's, and a report's. */
static const char *const ev_words[] = { "timestamp", "first seen", "last seen",
	"time of", "event", "incident", "attack", "infringement", "occurred",
	"detected" };
static const char *const rep_words[] = { "notice date", "report date",
	"reported on", "sent", "generated" };
_Static_assert(EW_TX_NWORDS(ev_words) <= EW_TX_FIRST_MAX, "ev_words");
_Static_assert(EW_TX_NWORDS(rep_words) <= EW_TX_FIRST_MAX, "rep_words");

/*
 * How surely a time on this line is the event's: 2 when the line says
 * so ("Timestamp:", "first seen", "attack"), 0 for report dates, 1
 * otherwise.
 */
static int
time_priority(const struct reader *r, const char *s, size_t n)
{
	if (n > 200)
		n = 200;
	if (ew_tx_has_any_word(s, n, rep_words, &r->rep_first))
		return 0;
	if (ew_tx_has_any_word(s, n, ev_words, &r->ev_first))
		return 2;
	return 1;
}

/* The starts of WHOIS records and mail headers quoted in the body. */
static const char *const skip_pfx[] = { "inetnum:", "inet6num:", "route:",
	"route6:", "netrange:", "cidr:", "received:", "nserver:",
	"x-originating", "message-id:", "references:", "in-reply-to:",
	"return-path:", "dkim-signature:", "authentication-results:", "arc-",
	"x-received:", "x-google-", "x-ms-", "x-mailer:" };
_Static_assert(EW_TX_NWORDS(skip_pfx) <= EW_TX_FIRST_MAX, "skip_pfx");

/* Lines that are WHOIS records or mail headers quoted in the body. */
static int
skip_line(const struct reader *r, const char *s, size_t n)
{
	uint32_t set;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '>')) {
		s++;
		n--;
	}
	set = ew_tx_first_at(&r->skip_first, s, n, 0);
	while (set != 0)
		if (ew_tx_at(s, n, 0, skip_pfx[ew_tx_first_next(&set)]))
			return 1;
	return 0;
}

static void
mention_add(struct ew_text_state *st, struct ew_mention *m)
{
	if (st->n == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 64;
		struct ew_mention *nv;

		if (st->n >= EW_MAIL_MAX_INCIDENTS) {
			st->overflow = 2; /* the limit, not memory */
			free(m->ports);
			return;
		}
		nv = realloc(st->v, nc * sizeof(*nv));
		if (nv == NULL) {
			st->overflow = 1;
			free(m->ports);
			return;
		}
		st->v = nv;
		st->cap = nc;
	}
	st->v[st->n++] = *m;
}

/* The context times on this line are read in. */
static void
time_ctx(const struct reader *r, struct ew_tctx *cx)
{
	const struct ew_seg *g = ew_fwd_cur(&r->fwd);

	memset(cx, 0, sizeof(*cx));
	cx->ref = g->date;
	cx->has_ref = g->has_date;
	cx->off = g->off;
	cx->zs = EW_ZONE_ASSUMED;
	if (r->fwd.cur >= r->seg0 && r->fwd.cur - r->seg0 < r->nzones &&
	    r->zones[r->fwd.cur - r->seg0].zs != EW_ZONE_ASSUMED) {
		cx->off = r->zones[r->fwd.cur - r->seg0].off;
		cx->zs = r->zones[r->fwd.cur - r->seg0].zs;
	}
	if (r->tab.active && r->tab.has_zone) {
		cx->off = r->tab.zone_off;
		cx->zs = r->tab.zone_zs;
	}
	if (r->has_day && r->day_seg == r->fwd.cur) {
		cx->day = r->day;
		cx->has_day = 1;
	} else if (g->has_date) {
		int64_t local = g->date + (int64_t)g->off * 60;

		cx->day = local - (local % 86400 + 86400) % 86400;
		cx->has_day = 1;
	}
}

/* The words that introduce a zone stated in prose. */
static const char *const zone_intro[] = { "time zone", "timezone", "times are",
	"timestamps are", "times in", "timestamps in", "time is", "times shown",
	"all times", "all timestamps", "zeitangaben", "zeitzone", "uhrzeiten",
	"tijden", "tijdzone", "heures", "horaires", "fuseau horaire", "horas",
	"zona horaria" };
_Static_assert(EW_TX_NWORDS(zone_intro) <= EW_TX_FIRST_MAX, "zone_intro");

/* A zone stated in prose: "All times are in UTC", "timezone is +0100",
 * "timestamps are in Central European Time".  1 and *z set if found. */
static int
zone_statement(const struct reader *r, const char *s, size_t n, struct pzone *z)
{
	size_t i, k, j;

	for (i = 0; i < n; i++) {
		uint32_t set = ew_tx_first_at(&r->zone_first, s, n, i);

		if (set == 0 || !isalpha((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		while (set != 0) {
			k = ew_tx_first_next(&set);
			if (!ew_tx_at(s, n, i, zone_intro[k]))
				continue;
			for (j = i + strlen(zone_intro[k]); j < n && j < i + 60;
			     j++) {
				int off;
				enum ew_zone_source zs;

				if ((isalnum((unsigned char)s[j - 1]) &&
					s[j] != '+' && s[j] != '-') ||
				    ew_mail_zone(s + j, n - j, &off, &zs) == 0)
					continue;
				z->off = off;
				z->zs = zs == EW_ZONE_OFFSET ? EW_ZONE_OFFSET
							     : EW_ZONE_NAMED;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Before a part is read: the zone each of its segments states in prose
 * (wherever in the segment: "All timestamps are in CET" often follows
 * the table it speaks of).  A dry run of the forward reader gives the
 * same segments, in the same order, as the real one.
 */
static void
prescan_zones(struct reader *r, size_t k, const char *s, size_t n)
{
	struct ew_fwd f;
	size_t ls, le, seg0;

	free(r->zones);
	r->zones = NULL;
	r->nzones = 0;
	memset(&f, 0, sizeof(f));
	ew_fwd_part(&f, r->m, r->m->parts[k].msg, k);
	seg0 = f.cur;
	for (ls = 0; ls < n && !f.oom; ls = le + 1) {
		unsigned depth;
		size_t q, nx, nle, rel;
		struct pzone z;

		le = ew_tx_line_end(s, n, ls);
		q = ew_fwd_quote(s + ls, le - ls, &depth);
		nx = le < n ? le + 1 : n;
		nle = ew_tx_line_end(s, n, nx);
		if (ew_fwd_line(&f, s + ls + q, le - ls - q, depth, s + nx,
			nle - nx, 0) != EW_FWD_BODY ||
		    !zone_statement(r, s + ls, le - ls, &z))
			continue;
		rel = f.cur - seg0;
		if (rel >= r->nzones) {
			struct pzone *nv =
			    realloc(r->zones, (rel + 1) * sizeof(*nv));

			if (nv == NULL)
				break;
			while (r->nzones <= rel)
				nv[r->nzones++].zs = EW_ZONE_ASSUMED;
			r->zones = nv;
		}
		if (r->zones[rel].zs == EW_ZONE_ASSUMED)
			r->zones[rel] = z;
	}
	ew_fwd_free(&f);
}

/* May a bare clock start at s[i]: after "between", "from", "at" (on
 * this line or at the end of the one before)? */
static int
clock_intro(const char *s, size_t i)
{
	static const char *const w[] = { "between", "from", "at", "since",
		"around", "approx", "approximately", "until", "um", "vers",
		"om", "today", "yesterday" };
	size_t j = i, b, k;

	while (j > 0 && i - j < 8 &&
	       (s[j - 1] == ' ' || s[j - 1] == '\n' || s[j - 1] == '>' ||
		   s[j - 1] == '\t' || s[j - 1] == '\r' || s[j - 1] == ','))
		j--;
	b = j;
	while (b > 0 && j - b < 16 && isalpha((unsigned char)s[b - 1]))
		b--;
	for (k = 0; k < sizeof(w) / sizeof(w[0]); k++)
		if (strlen(w[k]) == j - b &&
		    strncasecmp(s + b, w[k], j - b) == 0) {
			/* "DATE at\nCLOCK" is one time, read with its date */
			while (b > 0 && s[b - 1] == ' ')
				b--;
			return k != 2 || b == 0 ||
			       !isdigit((unsigned char)s[b - 1]);
		}
	return 0;
}

/* A clock after a bare date ("on 2026-11-25 at\n03:33:10 UTC"): the
 * bytes used from s[j], 0 if none. */
static size_t
clock_after_date(const char *s, size_t n, size_t j, const struct ew_tctx *cx,
    int64_t day, struct ew_mtime *tm)
{
	struct ew_tctx c2 = *cx;
	struct ew_mtime t;
	size_t k = j, used;

	ew_tx_skip_ws(s, n, &k);
	if (ew_tx_at(s, n, k, "at ") || ew_tx_at(s, n, k, "at\n") ||
	    ew_tx_at(s, n, k, "um ") || ew_tx_at(s, n, k, "à "))
		k += ew_tx_at(s, n, k, "à ") ? 3 : 2;
	else if (k < n && (s[k] == ',' || s[k] == '-' || s[k] == '@'))
		k++;
	ew_tx_skip_ws(s, n, &k);
	c2.clock_ok = 1;
	c2.day = day;
	c2.has_day = 1;
	if (k >= n || !isdigit((unsigned char)s[k]) ||
	    (used = ew_mail_time_ctx(s + k, n - k, &c2, &t)) == 0 ||
	    memchr(s + k, ':', used) == NULL)
		return 0;
	*tm = t;
	return k + used - j;
}

/* A second time after t1 at s[j]: "and T2", "to T2", "- T2", "until".
 * The offset just past it, 0 if none. */
static size_t
interval_end(const char *s, size_t n, size_t j, const struct ew_tctx *cx,
    struct ew_mtime *t2)
{
	static const char *const w[] = { "and", "to", "-", "until", "till",
		"last seen:", "last seen", "last-seen:", "last", "bis", "et",
		"tot" };
	struct ew_tctx c2 = *cx;
	size_t k, used;

	c2.clock_ok = 1;
	ew_tx_skip_ws(s, n, &j);
	if (j < n && (s[j] == ',' || s[j] == ';')) {
		j++;
		ew_tx_skip_ws(s, n, &j);
	}
	for (k = 0; k < sizeof(w) / sizeof(w[0]); k++)
		if (ew_tx_at(s, n, j, w[k]) && j + strlen(w[k]) < n &&
		    isspace((unsigned char)s[j + strlen(w[k])])) {
			j += strlen(w[k]);
			ew_tx_skip_ws(s, n, &j);
			used = ew_mail_time_ctx(s + j, n - j, &c2, t2);
			return used > 0 ? j + used : 0;
		}
	return 0;
}

/* The event time of line s[ls..le), not a quoted Date: header nor a
 * deadline; a date without a clock only sets the day. */
static int
line_time(struct reader *r, const char *s, size_t n, size_t ls, size_t le,
    struct ew_mtime *tm)
{
	struct ew_tctx cx;
	struct ew_mtime bare;
	size_t i = ls, e = le, used, iend;
	int has_bare = 0;

	while (i < e && (s[i] == ' ' || s[i] == '>'))
		i++;
	if (ew_tx_at(s, e, i, "date:") || ew_tx_at(s, e, i, "sent:"))
		return 0;
	if (e - ls > 512)
		e = ls + 512; /* times lead their lines */
	time_ctx(r, &cx);
	for (; i < e; i++) {
		struct ew_mtime t2;

		if (!isalnum((unsigned char)s[i]) ||
		    (i > ls && (isalnum((unsigned char)s[i - 1]) ||
				   s[i - 1] == '.' || s[i - 1] == ':')))
			continue;
		if (i < r->time_skip_to)
			continue;
		cx.clock_ok = clock_intro(s, i);
		used = ew_mail_time_ctx(s + i, le - i, &cx, tm);
		if (used == 0)
			continue;
		if (ew_tx_deadline_time(s, i) ||
		    (i >= ls + 6 && ew_tx_at(s, le, i - 6, "as of "))) {
			/* a deadline, or a report's status time */
			i += used - 1;
			continue;
		}
		if (memchr(s + i, ':', used) == NULL) {
			/* a date alone: the day for clocks that follow, and
			 * the line's time if no clock comes */
			int64_t day = tm->t + (int64_t)cx.off * 60;
			size_t more;

			day -= (day % 86400 + 86400) % 86400;
			more = clock_after_date(s, n, i + used, &cx, day, tm);
			if (more > 0) {
				used += more;
				goto clocked;
			}
			if (!has_bare) {
				struct ew_mtime te;

				bare = *tm;
				has_bare = 1;
				/* "09/02/2015 - 10/03/2015": a range of days,
				 * no instant */
				if (interval_end(s, n, i + used, &cx, &te) &&
				    te.to > bare.from) {
					bare.to = te.to;
					bare.has_t = 0;
				}
			}
			r->day = day;
			r->has_day = 1;
			r->day_seg = r->fwd.cur;
			time_ctx(r, &cx);
			i += used - 1;
			continue;
		}
	clocked:
		/* "between 2025-03-10 22:00 and 23:15 CET": the end's clock
		 * is on the start's day */
		{
			int64_t d0 = tm->t + (int64_t)tm->off * 60;

			cx.day = d0 - (d0 % 86400 + 86400) % 86400;
			cx.has_day = 1;
		}
		if ((iend = interval_end(s, n, i + used, &cx, &t2)) > 0) {
			r->time_skip_to = iend; /* T2 is no time of its own */
			if (tm->zs == EW_ZONE_ASSUMED &&
			    t2.zs != EW_ZONE_ASSUMED) {
				struct ew_tctx c1 = cx;

				c1.off = t2.off;
				c1.zs = t2.zs;
				(void)ew_mail_time_ctx(s + i, le - i, &c1, tm);
			}
			if (t2.t >= tm->t) {
				tm->from = tm->t;
				tm->to = t2.t;
				tm->has_from = tm->has_to = 1;
			}
		}
		return 1;
	}
	if (has_bare)
		*tm = bare;
	return has_bare ? 2 : 0;
}

/* Addresses of a line that has no role to give (quoted headers). */
static void
scan_neither(
    struct reader *r, const char *s, size_t ls, size_t le, const char *rule)
{
	struct ew_mention m;
	size_t i;

	for (i = ls; i < le && !r->st->overflow; i++) {
		if (!(ew_tx_addr_char((unsigned char)s[i]) || s[i] == '['))
			continue;
		memset(&m, 0, sizeof(m));
		if (!ew_tx_scan_addr(s, le, i, &m.f))
			continue;
		m.role = EW_ROLE_NEITHER;
		m.rule = rule;
		m.line = r->line;
		m.part = r->part;
		m.pline = r->pline;
		m.text = r->text;
		m.ls = ls;
		m.le = le;
		mention_add(r->st, &m);
		i = m.f.end > i ? m.f.end - 1 : i;
	}
}

/*
 * A Received: header quoted in the body (with its continuation lines):
 * the address in brackets of its "from" part is the hop that handed the
 * message over, and the date after ';' when it did.  When that address
 * is a source (build.c), this is the time of its incident.
 */
static void
received(struct reader *r, const char *s, size_t n, size_t ls, size_t le,
    size_t first)
{
	size_t i = ls, e = le, semi = 0, k;
	struct ew_mtime tm;

	while (i < le && (s[i] == ' ' || s[i] == '\t' || s[i] == '>'))
		i++;
	if (!ew_tx_at(s, le, i, "received:"))
		return;
	/* the continuation lines, a few */
	for (k = 0; k < 8 && e + 1 < n; k++) {
		unsigned d;
		size_t q = ew_fwd_quote(s + e + 1, n - e - 1, &d);

		/* the same quote depth, then a blank: a continuation */
		if (d != r->fwd.depth || e + 1 + q >= n ||
		    (s[e + 1 + q] != ' ' && s[e + 1 + q] != '\t'))
			break;
		e = ew_tx_line_end(s, n, e + 1);
	}
	r->skip_to = e;
	for (k = i; k < e; k++)
		if (s[k] == ';')
			semi = k;
	if (semi == 0)
		return;
	k = semi + 1;
	while (k < e && (isspace((unsigned char)s[k]) || s[k] == '>'))
		k++;
	if (ew_mail_time_at(s + k, e - k, &tm) == 0)
		return;
	/* the first bracketed address of the first line, before " by " */
	for (k = first; k < r->st->n; k++) {
		struct ew_mention *m = &r->st->v[k];

		if (s[m->f.start] != '[' &&
		    (m->f.start == 0 || s[m->f.start - 1] != '['))
			continue;
		m->received = 1;
		m->tm = tm;
		m->has_tm = 1;
		break;
	}
}

/* Prose ports of the line go to its destinations, else its sources. */
static void
line_ports(struct reader *r, const char *s, size_t n, size_t ls, size_t le,
    size_t first)
{
	struct ew_buf pb = EW_BUF_INIT;
	size_t k;
	int dst = 0;

	size_t pe = le;

	if (first == r->st->n)
		return;
	/* a list that starts on the line may wrap onto the next */
	while (pe < n && pe < le + 200 &&
	       !(s[pe] == '\n' && pe + 1 < n &&
		   (s[pe + 1] == '\n' || s[pe + 1] == '\r')))
		pe++;
	ew_tx_ports_in(s + ls, pe - ls, le - ls, &pb);
	if (pb.len == 0 || pb.oom) {
		ew_buf_free(&pb);
		return;
	}
	for (k = first; k < r->st->n; k++)
		dst |= r->st->v[k].role == EW_ROLE_DST;
	for (k = first; k < r->st->n; k++) {
		struct ew_mention *m = &r->st->v[k];

		if (m->ports != NULL || m->role == EW_ROLE_NEITHER ||
		    (dst && m->role != EW_ROLE_DST))
			continue;
		m->ports = ew_strndup(pb.p, pb.len);
	}
	ew_buf_free(&pb);
}

static void
scan_addrs(struct reader *r, const char *s, size_t n, size_t ls, size_t le,
    const struct ew_mtime *tm, int has_tm)
{
	struct ew_mention m;
	size_t i, ai = 0, first = r->st->n;
	size_t lim = r->para + 400 < ls ? ls - 400 : r->para;

	for (i = ls; i < le && !r->st->overflow; i++) {
		long tport = -1;

		if (!(ew_tx_addr_char((unsigned char)s[i]) || s[i] == '['))
			continue;
		memset(&m, 0, sizeof(m));
		if (!ew_tx_scan_addr(s, le, i, &m.f))
			continue;
		m.rule = NULL;
		if (r->tab.active)
			m.role = ew_role_table_cell(
			    &r->tab, s, le, &m.f, &ai, &tport);
		if (m.role != EW_ROLE_UNKNOWN) {
			m.rule = m.role == EW_ROLE_SRC
				     ? "a source column of the table above"
				     : "a destination column of the table "
				       "above";
			if (tport > 0 && m.f.port < 0)
				m.f.port = tport;
			m.structural = 1;
		} else {
			m.role = ew_role_of(s, n, lim, ls, &m.f, &m.rule);
			m.structural =
			    m.rule != NULL && strstr(m.rule, "arrow") != NULL;
		}
		if (ew_complaint_is_ours(r->c, &m.f.a, m.f.plen)) {
			m.role = EW_ROLE_SRC;
			m.rule = "an address of the relay's own";
		}
		m.line = r->line;
		m.part = r->part;
		m.pline = r->pline;
		m.text = r->text;
		m.ls = ls;
		m.le = le;
		m.tm = *tm;
		m.has_tm = has_tm;
		/* "1.2.3.4 port 53902": the address's own port */
		if (m.f.port < 0) {
			size_t j = m.f.end;

			ew_tx_skip_sp(s, le, &j);
			if (ew_tx_word_at(s, le, j, "port ")) {
				long p;

				j += 5;
				ew_tx_skip_sp(s, le, &j);
				p = ew_tx_num_at(s, le, &j);
				if (p > 0)
					m.f.port = p;
			}
		}
		mention_add(r->st, &m);
		i = m.f.end > i ? m.f.end - 1 : i;
	}
	if (r->tab.active && r->st->n > first)
		r->tab_rows++;
	line_ports(r, s, n, ls, le, first);
}

static int
blank(const char *s, size_t ls, size_t le)
{
	for (; ls < le; ls++)
		if (!isspace((unsigned char)s[ls]) && s[ls] != '>')
			return 0;
	return 1;
}

static int
has_addr(const char *s, size_t ls, size_t le)
{
	struct ew_found f;
	size_t i;

	for (i = ls; i < le; i++)
		if ((ew_tx_addr_char((unsigned char)s[i]) || s[i] == '[') &&
		    ew_tx_scan_addr(s, le, i, &f))
			return 1;
	return 0;
}

/* Host names on the line that the words before make destinations. */
static void
line_hosts(struct reader *r, const char *s, size_t n, size_t ls, size_t le)
{
	size_t i, e, lim = r->para + 400 < ls ? ls - 400 : r->para;
	const char *rule;
	char name[256];

	if (r->part == (size_t)-1 || memchr(s + ls, '.', le - ls) == NULL)
		return;
	for (i = ls; i < le && r->st->nhosts < EW_TEXT_MAX_HOSTS; i++) {
		if (!isalnum((unsigned char)s[i]))
			continue;
		if (ew_role_host_at(
			s, n, lim, i, &e, name, sizeof(name), &rule))
			add_host(r, name, rule, s, i);
		while (i + 1 < le && !isspace((unsigned char)s[i + 1]))
			i++;
	}
}

/* A "First seen:"/"First-Seen:"/"first_seen" line (w "first" or
 * "last") with nothing but its time: a bound of the events. */
static int
seen_field(const char *s, size_t n, const char *w)
{
	size_t i = 0, l = strlen(w);

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (!ew_tx_at(s, n, i, w))
		return 0;
	i += l;
	if (i < n && (s[i] == ' ' || s[i] == '-' || s[i] == '_'))
		i++;
	return ew_tx_at(s, n, i, "seen") || ew_tx_at(s, n, i, "event") ||
	       ew_tx_at(s, n, i, "activity") || ew_tx_at(s, n, i, "request");
}

/* "Source-Port: 61234" on a line of its own, under "Source-IP: ADDR":
 * that source's port. */
static void
source_port_line(struct reader *r, const char *s, size_t ls, size_t le)
{
	struct ew_mention *m;
	size_t i = ls;
	long p;

	while (i < le && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (ew_tx_at(s, le, i, "source"))
		i += 6;
	else if (ew_tx_at(s, le, i, "src"))
		i += 3;
	else
		return;
	if (i < le && (s[i] == '-' || s[i] == '_' || s[i] == ' '))
		i++;
	if (!ew_tx_at(s, le, i, "port"))
		return;
	i += 4;
	while (i < le &&
	       (s[i] == ' ' || s[i] == ':' || s[i] == '=' || s[i] == '\t'))
		i++;
	if (r->st->n == 0 || (p = ew_tx_num_at(s, le, &i)) <= 0)
		return;
	m = &r->st->v[r->st->n - 1];
	if (m->role != EW_ROLE_DST && m->role != EW_ROLE_NEITHER &&
	    m->f.port < 0 && m->text == r->text && m->line + 3 >= r->line)
		m->f.port = p;
}

/*
 * An indented line with a time under a line naming one address (Project
 * Honey Pot's "192.0.2.1 (H)" then "  - Mon, 21 Sep 2015 11:00AM PDT"):
 * another mention of that address, at that time.
 */
static void
timed_under(struct reader *r, const char *s, size_t ls, size_t le,
    const struct ew_mtime *tm, int has_tm)
{
	struct ew_mention m;

	if (!r->under_ok || r->under >= r->st->n ||
	    !(s[ls] == ' ' || s[ls] == '\t' || s[ls] == '-' || s[ls] == '*')) {
		r->under_ok = 0;
		return;
	}
	if (!has_tm)
		return; /* "  - Subject: ..." goes on */
	m = r->st->v[r->under];
	m.ports = m.ports != NULL ? ew_strndup(m.ports, strlen(m.ports)) : NULL;
	m.tm = *tm;
	m.has_tm = 1;
	m.line = r->line;
	m.pline = r->pline;
	m.ls = ls;
	m.le = le;
	mention_add(r->st, &m);
}

/* Does w occur in s[0..n) (any case)? */
static int
has_text(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == w[0] && ew_tx_at(s, n, i, w))
			return 1;
	return 0;
}

/* One body line s[ls..le) of the text s[0..n). */
static void
scan_line(struct reader *r, const char *s, size_t n, size_t ls, size_t le)
{
	struct ew_text_state *st = r->st;
	struct ew_mtime tm;
	struct ew_table t;
	int has_tm, addr;

	if (ls < r->skip_to) {
		scan_neither(r, s, ls, le, "a quoted header or WHOIS line");
		return;
	}
	if (skip_line(r, s + ls, le - ls)) {
		size_t first = st->n;

		scan_neither(r, s, ls, le, "a quoted header or WHOIS line");
		received(r, s, n, ls, le, first);
		return;
	}
	addr = has_addr(s, ls, le);
	if (!addr && ew_role_table_header(s + ls, le - ls, &t)) {
		t.line = r->line;
		r->tab = t;
		r->tab_rows = 0;
		return;
	}
	if (!addr && r->tab.active && r->tab_rows > 0) {
		size_t k = ls;

		while (
		    k < le && (s[k] == '-' || s[k] == '=' || s[k] == '+' ||
				  s[k] == '|' || isspace((unsigned char)s[k])))
			k++;
		if (k < le)
			r->tab.active = 0;
	}
	has_tm = line_time(r, s, n, ls, le, &tm);
	/* fail2ban's action lines ("[sshd] Ban ADDR") tell when it acted */
	if (has_tm && (has_text(s + ls, le - ls, "] Ban ") ||
			  has_text(s + ls, le - ls, "] Unban ")))
		has_tm = 0;
	/* a date alone on a report line ("Report Date Range: ...") is no
	 * event time for the whole text */
	if (has_tm == 2 && time_priority(r, s + ls, le - ls) == 0)
		has_tm = 0;
	if (has_tm && seen_field(s + ls, le - ls, "first") && !st->has_fs) {
		st->fs = tm;
		st->has_fs = 1;
	} else if (has_tm && seen_field(s + ls, le - ls, "last")) {
		st->ls = tm;
		st->has_ls = 1;
	}
	if (has_tm) {
		int pri = time_priority(r, s + ls, le - ls);

		if (pri > st->gtpri || st->ntimes == 0) {
			st->gt = tm;
			st->gtpri = pri;
			st->ntimes = 1;
		} else if (pri == st->gtpri && st->gt.t != tm.t) {
			st->ntimes = 2;
		}
	}
	if (addr) {
		size_t first = st->n;

		scan_addrs(r, s, n, ls, le, &tm, has_tm);
		r->under_ok = st->n == first + 1 && !has_tm;
		r->under = first;
	} else {
		source_port_line(r, s, ls, le);
		timed_under(r, s, ls, le, &tm, has_tm);
	}
	line_hosts(r, s, n, ls, le);
}

/* Strip HTML tags into out (crudely: text outside <...>; a row or a
 * paragraph a new line, a table cell a tab; the common entities). */
static void
strip_html(const char *s, size_t n, struct ew_buf *out)
{
	static const struct {
		const char *e;
		char c;
	} ent[] = { { "&nbsp;", ' ' }, { "&amp;", '&' }, { "&lt;", '<' },
		{ "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' } };
	size_t i, k;
	int in_tag = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '<') {
			in_tag = 1;
			if (ew_tx_at(s, n, i, "<br") ||
			    ew_tx_at(s, n, i, "<p") ||
			    ew_tx_at(s, n, i, "<tr") ||
			    ew_tx_at(s, n, i, "<div") ||
			    ew_tx_at(s, n, i, "<li") || ew_tx_at(s, n, i, "<h"))
				ew_buf_putc(out, '\n');
			else if (ew_tx_at(s, n, i, "<td") ||
				 ew_tx_at(s, n, i, "<th"))
				ew_buf_putc(out, '\t');
		} else if (s[i] == '>' && in_tag) {
			in_tag = 0;
		} else if (!in_tag) {
			for (k = 0;
			     s[i] == '&' && k < sizeof(ent) / sizeof(ent[0]);
			     k++)
				if (ew_tx_at(s, n, i, ent[k].e))
					break;
			if (s[i] == '&' && k < sizeof(ent) / sizeof(ent[0])) {
				ew_buf_putc(out, ent[k].c);
				i += strlen(ent[k].e) - 1;
			} else if (s[i] == '\n' || s[i] == '\r') {
				ew_buf_putc(
				    out, ' '); /* only tags break lines */
			} else {
				ew_buf_putc(out, s[i]);
			}
		}
	}
}

static int
is_text_part(const struct ew_mail *m, size_t k)
{
	const struct ew_mail_part *p = &m->parts[k];
	size_t j;

	if (strcmp(p->ctype, "text/plain") == 0 ||
	    strcmp(p->ctype, "text/x-log") == 0 ||
	    strcmp(p->ctype, "text/csv") == 0)
		return 1;
	if (strcmp(p->ctype, "text/html") != 0)
		return 0;
	/* HTML only when its message has no plain text */
	for (j = 0; j < m->nparts; j++)
		if (m->parts[j].msg == p->msg &&
		    strcmp(m->parts[j].ctype, "text/plain") == 0)
			return 0;
	return 1;
}

/* A new text for st->texts (kept for the notes until the end). */
static struct ew_buf *
new_text(struct ew_text_state *st)
{
	struct ew_buf *nv = realloc(st->texts, (st->ntexts + 1) * sizeof(*nv));

	if (nv == NULL) {
		st->overflow = 1;
		return NULL;
	}
	st->texts = nv;
	ew_buf_init(&nv[st->ntexts]);
	return &nv[st->ntexts++];
}

static size_t
line_of(const char *s, size_t pos)
{
	size_t i, line = 0;

	for (i = 0; i < pos; i++)
		line += s[i] == '\n';
	return line;
}

/* A destination host name, once (at most EW_TEXT_MAX_HOSTS). */
static void
add_host(struct reader *r, const char *name, const char *rule, const char *s,
    size_t pos)
{
	struct ew_text_state *st = r->st;
	struct ew_host *h;
	size_t k;

	for (k = 0; k < st->nhosts; k++)
		if (strcmp(st->hosts[k].name, name) == 0) {
			/* "... resolves to" says more than "to ..." */
			if (strstr(rule, "resolves") != NULL)
				st->hosts[k].rule = rule;
			return;
		}
	if (st->nhosts >= EW_TEXT_MAX_HOSTS)
		return;
	h = &st->hosts[st->nhosts++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->rule = rule;
	h->text = r->text;
	h->pos = pos;
	h->part = r->part;
	h->line = line_of(s, pos);
}

/* Port lists and a destination host name over the whole text. */
static void
whole_text(struct reader *r, const char *s, size_t n)
{
	struct ew_text_state *st = r->st;
	size_t before = st->ports.len, pos;
	const char *rule;
	char name[256];

	ew_mail_ports(s, n, &st->ports);
	if (before == 0 && st->ports.len > 0) {
		const char *p = s;
		size_t i;

		/* the first "port" of the text, for the note */
		for (i = 0; i + 4 <= n; i++)
			if (ew_tx_word_at(s, n, i, "port"))
				break;
		if (i + 4 > n)
			i = 0;
		st->ports_text = r->text;
		st->ports_pos = i;
		st->ports_part = r->part;
		st->ports_line = line_of(p, i);
		st->ports_rule = "ports named in the text";
	}
	if (ew_role_dst_host(s, n, name, sizeof(name), &pos, &rule))
		add_host(r, name, rule, s, pos);
}

/* The signature delimiter: "-- " (or "--") alone on its line. */
static int
sig_line(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	return n == 2 && s[0] == '-' && s[1] == '-';
}

/* One text part. */
static void
read_part(struct reader *r, size_t k, const char *s, size_t n)
{
	size_t ls, le;

	r->part = k;
	r->pline = 0;
	r->para = 0;
	r->tab.active = 0;
	r->has_day = 0;
	r->skip_to = 0;
	r->time_skip_to = 0;
	r->under_ok = 0;
	r->sig = 0;
	prescan_zones(r, k, s, n);
	ew_fwd_part(&r->fwd, r->m, r->m->parts[k].msg, k);
	r->seg0 = r->fwd.cur;
	for (ls = 0; ls < n && !r->st->overflow && !r->fwd.oom; ls = le + 1) {
		/* the per-mail time budget, every 256 lines */
		if ((r->pline & 255) == 255 && ew_complaint_over_budget(r->c))
			break;
		unsigned depth;
		size_t q, nx, nle;
		enum ew_fwd_kind kind;

		le = ew_tx_line_end(s, n, ls);
		q = ew_fwd_quote(s + ls, le - ls, &depth);
		nx = le < n ? le + 1 : n;
		nle = ew_tx_line_end(s, n, nx);
		kind = ew_fwd_line(&r->fwd, s + ls + q, le - ls - q, depth,
		    s + nx, nle - nx, r->pline);
		if (r->sig && r->fwd.cur != r->sig_seg)
			r->sig = 0;
		if (kind == EW_FWD_BODY && sig_line(s + ls + q, le - ls - q)) {
			r->sig = 1;
			r->sig_seg = r->fwd.cur;
		}
		if (kind == EW_FWD_BODY && r->sig) {
			scan_neither(r, s, ls + q, le, "a signature");
		} else if (kind != EW_FWD_BODY) {
			scan_neither(r, s, ls + q, le,
			    "a header line of a forwarded message");
			r->para = le;
			r->tab.active = 0;
		} else if (blank(s, ls, le)) {
			r->para = le;
			r->under_ok = 0;
			if (r->tab.active && r->tab_rows > 0)
				r->tab.active = 0;
		} else {
			scan_line(r, s, n, ls + q, le);
		}
		r->line++;
		r->pline++;
	}
	whole_text(r, s, n);
}

static void
state_free(struct ew_text_state *st)
{
	size_t k;

	for (k = 0; k < st->n; k++)
		free(st->v[k].ports);
	free(st->v);
	for (k = 0; k < st->ntexts; k++)
		ew_buf_free(&st->texts[k]);
	free(st->texts);
	ew_buf_free(&st->ports);
}

int
ew_extract_text(struct ew_complaint *c, const struct ew_mail *m)
{
	struct ew_text_state st;
	struct reader r;
	struct ew_buf h = EW_BUF_INIT, *b;
	size_t k;
	int has_date, rc = 0;
	int64_t date = ew_tx_msg_date(m, 0, &has_date, NULL);

	/* events precede the earliest report in a forwarding chain */
	for (k = 1; k < m->nmsgs; k++) {
		int ht;
		int64_t t = ew_tx_msg_date(m, k, &ht, NULL);

		if (ht && (!has_date || t < date)) {
			date = t;
			has_date = 1;
		}
	}
	memset(&st, 0, sizeof(st));
	ew_buf_init(&st.ports);
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.m = m;
	r.st = &st;
	ew_tx_first_words(&r.ev_first, ev_words, EW_TX_NWORDS(ev_words));
	ew_tx_first_words(&r.rep_first, rep_words, EW_TX_NWORDS(rep_words));
	ew_tx_first_words(&r.skip_first, skip_pfx, EW_TX_NWORDS(skip_pfx));
	ew_tx_first_words(&r.zone_first, zone_intro, EW_TX_NWORDS(zone_intro));
	/* the subjects name the source often ("abuse report about X") */
	for (k = 0; k < m->nmsgs && !st.overflow; k++) {
		if (m->msgs[k].subject == NULL || (b = new_text(&st)) == NULL)
			continue;
		ew_mail_refang(
		    m->msgs[k].subject, strlen(m->msgs[k].subject), b);
		r.text = st.ntexts - 1;
		r.part = (size_t)-1;
		r.pline = k;
		r.skip_to = r.time_skip_to = 0;
		ew_fwd_part(&r.fwd, m, k, (size_t)-1);
		r.seg0 = r.fwd.cur;
		scan_line(&r, b->p != NULL ? b->p : "", b->len, 0, b->len);
		r.line++;
	}
	for (k = 0; k < m->nparts && !st.overflow && !r.fwd.oom; k++) {
		const struct ew_mail_part *p = &m->parts[k];

		if (!is_text_part(m, k) || (b = new_text(&st)) == NULL)
			continue;
		r.text = st.ntexts - 1;
		if (strcmp(p->ctype, "text/html") == 0) {
			ew_buf_reset(&h);
			strip_html(p->data, p->len, &h);
			ew_mail_refang(ew_buf_str(&h), h.len, b);
		} else {
			ew_mail_refang(p->data, p->len, b);
		}
		if (b->oom) {
			st.overflow = 1;
			break;
		}
		if (c->category == NULL)
			c->category = ew_mail_category(ew_buf_str(b), b->len);
		read_part(&r, k, ew_buf_str(b), b->len);
	}
	if (!r.fwd.oom)
		ew_fwd_settle(&r.fwd, c, m);
	if (st.overflow == 2)
		c->overflow = 1; /* reported as the incident limit */
	if (st.overflow || h.oom || st.ports.oom || r.fwd.oom ||
	    ew_complaint_over_budget(c))
		rc = -1;
	else
		rc = ew_text_build(c, &st, date, has_date);
	c->steps = st.steps;
	free(r.zones);
	ew_fwd_free(&r.fwd);
	state_free(&st);
	ew_buf_free(&h);
	return rc;
}
