/*
 * build.c - from mentions to incidents.
 *
 * The mentions of one mail (text.c) are sorted by address once (a merge
 * sort: n log n comparisons, counted in st->steps) and every address
 * gets an id; what is known of an address is then a few flags per id,
 * so no step compares mentions pairwise.  Then:
 *
 *   - roles are settled over the mail: an address named as a source
 *     anywhere (or one of the relay's own) is a source, never a
 *     destination; an address of unknown role that is named as a
 *     destination elsewhere is a destination; any other address of
 *     unknown role is a source (the complaint is about it);
 *   - a line whose destinations have their role from a table column or
 *     an arrow is a row: each source pairs with such a destination
 *     after it on the line (else the one before);
 *   - the other sources pair with every destination named outside rows
 *     (up to EW_TEXT_MAX_CROSS of them; more are no list of servers a
 *     rule could name), or with none;
 *   - a source met in a row, or with a time elsewhere, is not repeated
 *     for its bare mentions; a netblock that contains a named source
 *     stands for it;
 *   - destinations without a source make incidents of their own.
 *
 * Each address's role leaves one note saying which mention decided it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

#define EW_TEXT_MAX_CROSS 16

/* The rules settle() gives (the others come from a mention's words). */
static const char rule_also_src[] =
    "also named as a source: a source, never a destination";
static const char rule_elsewhere[] = "named as a destination elsewhere";
static const char rule_default[] =
    "an address the complaint names, with no words of role: the source";

/* Per-address flags. */
enum {
	F_SRC = 1 << 0,      /* an explicit source mention */
	F_DST = 1 << 1,      /* a destination mention */
	F_TSRC = 1 << 2,     /* a source mention with a time */
	F_ROW = 1 << 3,      /* a source paired in a row */
	F_GDST = 1 << 4,     /* listed as a destination outside rows */
	F_BARE = 1 << 5,     /* a bare (untimed) source incident emitted */
	F_NOTE_SRC = 1 << 6, /* notes written */
	F_NOTE_DST = 1 << 7,
};
#define F_NOTE_NEITHER (1 << 8)

static int
addr_cmp(const struct ew_mention *a, const struct ew_mention *b)
{
	int r;

	if (a->f.a.family != b->f.a.family)
		return a->f.a.family < b->f.a.family ? -1 : 1;
	if ((r = memcmp(a->f.a.b, b->f.a.b, sizeof(a->f.a.b))) != 0)
		return r;
	return a->f.plen < b->f.plen ? -1 : a->f.plen > b->f.plen;
}

/* Bottom-up merge sort of idx[0..n) by address; tmp has n slots. */
static void
sort_idx(struct ew_text_state *st, uint32_t *idx, uint32_t *tmp, size_t n)
{
	size_t w, i;

	for (w = 1; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t a = i, am = i + w < n ? i + w : n, b = am,
			       bm = i + 2 * w < n ? i + 2 * w : n, o = i;

			while (a < am && b < bm) {
				st->steps++;
				if (addr_cmp(&st->v[idx[b]], &st->v[idx[a]]) <
				    0)
					tmp[o++] = idx[b++];
				else
					tmp[o++] = idx[a++];
			}
			while (a < am)
				tmp[o++] = idx[a++];
			while (b < bm)
				tmp[o++] = idx[b++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
		st->steps += n;
	}
}

/* Give every mention its address id; the number of ids. */
static size_t
assign_ids(struct ew_text_state *st)
{
	uint32_t *idx, *tmp;
	size_t i, nid = 0;

	idx = malloc(st->n * sizeof(*idx));
	tmp = malloc(st->n * sizeof(*tmp));
	if (idx == NULL || tmp == NULL) {
		free(idx);
		free(tmp);
		return 0;
	}
	for (i = 0; i < st->n; i++)
		idx[i] = (uint32_t)i;
	sort_idx(st, idx, tmp, st->n);
	for (i = 0; i < st->n; i++) {
		st->steps++;
		if (i > 0 && addr_cmp(&st->v[idx[i]], &st->v[idx[i - 1]]) != 0)
			nid++;
		st->v[idx[i]].id = (uint32_t)nid;
	}
	free(idx);
	free(tmp);
	return st->n > 0 ? nid + 1 : 0;
}

static const char *
role_fact(enum ew_role r)
{
	return r == EW_ROLE_SRC   ? "source"
	       : r == EW_ROLE_DST ? "destination"
				  : "neither";
}

static void
note_role(struct ew_complaint *c, const struct ew_text_state *st,
    const struct ew_mention *m, unsigned *flags)
{
	unsigned bit = m->role == EW_ROLE_SRC   ? F_NOTE_SRC
		       : m->role == EW_ROLE_DST ? F_NOTE_DST
						: F_NOTE_NEITHER;
	char a[EW_MAIL_ADDRLEN];

	if (*flags & bit)
		return;
	*flags |= bit;
	ew_tx_addr_text(&m->f.a, m->f.plen, a, sizeof(a));
	ew_text_note(c, st, role_fact(m->role), a,
	    m->rule != NULL ? m->rule : "no rule", m->text, m->part, m->pline,
	    m->f.start);
}

/* Settle the roles over the mail (see the top of the file). */
static void
settle(struct ew_complaint *c, struct ew_text_state *st, unsigned *fl)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct ew_mention *m = &st->v[i];

		st->steps++;
		if (m->role == EW_ROLE_SRC)
			fl[m->id] |= F_SRC;
		else if (m->role == EW_ROLE_DST)
			fl[m->id] |= F_DST;
	}
	for (i = 0; i < st->n; i++) {
		struct ew_mention *m = &st->v[i];

		st->steps++;
		if (m->role == EW_ROLE_DST && (fl[m->id] & F_SRC)) {
			m->role = EW_ROLE_SRC;
			m->rule = rule_also_src;
		} else if (m->role == EW_ROLE_UNKNOWN &&
			   (fl[m->id] & (F_DST | F_SRC)) == F_DST) {
			m->role = EW_ROLE_DST;
			m->rule = rule_elsewhere;
		} else if (m->role == EW_ROLE_UNKNOWN) {
			m->role = EW_ROLE_SRC;
			m->rule = rule_default;
		} else if (m->role == EW_ROLE_NEITHER && m->received &&
			   (fl[m->id] & F_SRC)) {
			m->role = EW_ROLE_SRC;
			m->rule = "a source that handed the message over "
				  "(quoted Received: header, with its time)";
		}
		if (m->role == EW_ROLE_SRC && m->has_tm)
			fl[m->id] |= F_TSRC;
	}
	/* one note per address and role: the mention whose own words or
	 * place decided it, else the first */
	for (i = 0; i < st->n; i++) {
		const struct ew_mention *m = &st->v[i];

		st->steps++;
		if (m->rule != NULL && m->rule != rule_also_src &&
		    m->rule != rule_elsewhere && m->rule != rule_default)
			note_role(c, st, m, &fl[m->id]);
	}
	for (i = 0; i < st->n; i++) {
		st->steps++;
		note_role(c, st, &st->v[i], &fl[st->v[i].id]);
	}
}

static void
ports_of(const struct ew_mention *s, const struct ew_mention *d,
    const char *global, char *own, size_t cap, const char **out)
{
	*out = global;
	if (s != NULL && s->ports != NULL)
		*out = s->ports;
	if (d != NULL && d->ports != NULL)
		*out = d->ports;
	if (d != NULL && d->f.port > 0) {
		snprintf(own, cap, "%ld", d->f.port);
		*out = own;
	}
}

static int
emit(struct ew_complaint *c, const struct ew_text_state *st,
    const struct ew_mention *s, const struct ew_mention *d, const char *host,
    int64_t date, int has_date)
{
	struct ew_incident in;
	char own[24];
	const char *ports;

	if (d != NULL && s != NULL && d->id == s->id)
		d = NULL; /* the same address twice is no connection */
	memset(&in, 0, sizeof(in));
	in.src_port = -1;
	if (s != NULL) {
		ew_tx_addr_text(&s->f.a, s->f.plen, in.src, sizeof(in.src));
		in.src_port = s->f.port;
	}
	if (d != NULL)
		ew_tx_addr_text(&d->f.a, d->f.plen, in.dst, sizeof(in.dst));
	else if (host != NULL)
		snprintf(in.dst_host, sizeof(in.dst_host), "%s", host);
	ports_of(s, d, ew_buf_str(&st->ports), own, sizeof(own), &ports);
	in.ports = ew_tx_dup_ports(ports);
	if (s != NULL && s->has_tm)
		in.tm = s->tm;
	else if (d != NULL && d->has_tm)
		in.tm = d->tm;
	else if (st->has_fs && st->has_ls && st->ls.t >= st->fs.t) {
		in.tm = st->fs; /* "First seen: A" ... "Last seen: B" */
		in.tm.from = st->fs.t;
		in.tm.to = st->ls.t;
		in.tm.has_from = in.tm.has_to = 1;
	} else if (st->ntimes == 1)
		in.tm = st->gt;
	else
		ew_tx_no_time(&in.tm, date, has_date);
	/* a range of days ends, at the latest, when the mail was written */
	if (!in.tm.has_t && in.tm.has_to && has_date && in.tm.to > date)
		in.tm.to = date;
	/* copyright notices: the one port named is the peer's own */
	if (c->category != NULL && strcmp(c->category, "copyright") == 0 &&
	    in.src_port < 0 && in.ports != NULL &&
	    strchr(in.ports, ',') == NULL && strchr(in.ports, '-') == NULL) {
		uint64_t p;

		if (ew_parse_uint(in.ports, strlen(in.ports), 1, 65535, &p) ==
		    0) {
			in.src_port = (long)p;
			free(in.ports);
			in.ports = NULL;
		}
	}
	return ew_complaint_add(c, &in);
}

/* Lines with sources and destinations: rows. */
static int
rows(struct ew_complaint *c, struct ew_text_state *st, unsigned *fl,
    unsigned char *used, int64_t date, int has_date)
{
	size_t b = 0, e, i, j, last;

	for (; b < st->n; b = e) {
		int hs = 0, hd = 0;

		for (e = b; e < st->n && st->v[e].line == st->v[b].line; e++) {
			st->steps++;
			hs |= st->v[e].role == EW_ROLE_SRC;
			hd |=
			    st->v[e].role == EW_ROLE_DST && st->v[e].structural;
		}
		if (!hs || !hd)
			continue;
		last = SIZE_MAX;
		for (i = b, j = b; i < e; i++) {
			const struct ew_mention *d = NULL;

			st->steps++;
			if (st->v[i].role == EW_ROLE_DST && st->v[i].structural)
				last = i;
			if (st->v[i].role != EW_ROLE_SRC)
				continue;
			/* the next destination after it, else the last one
			 * before it (j only moves forward: linear) */
			if (j <= i)
				j = i + 1;
			while (j < e && !(st->v[j].role == EW_ROLE_DST &&
					    st->v[j].structural)) {
				st->steps++;
				j++;
			}
			if (j < e)
				d = &st->v[j];
			else if (last != SIZE_MAX)
				d = &st->v[last];
			if (d == NULL)
				continue;
			used[i] = used[d - st->v] = 1;
			fl[st->v[i].id] |= F_ROW;
			if (emit(c, st, &st->v[i], d, NULL, date, has_date) < 0)
				return -1;
		}
	}
	return 0;
}

/* Is the netblock mention m a container of a named source? */
static int
covers_source(const struct ew_text_state *st, const struct ew_mention *m)
{
	size_t j;

	for (j = 0; j < st->n; j++)
		if (st->v[j].role == EW_ROLE_SRC && st->v[j].f.plen < 0 &&
		    ew_addr_prefix_eq(
			&m->f.a, &st->v[j].f.a, (unsigned)m->f.plen))
			return 1;
	return 0;
}

static void
why_empty(struct ew_complaint *c, const struct ew_text_state *st)
{
	const char *why;

	if (st->n == 0 && st->nhosts == 0)
		why = "no IP address or netblock in the text";
	else if (st->n == 0)
		why = "a destination host but no address in the text";
	else
		why = "every address is in a quoted header, a WHOIS record, "
		      "an example or a mail address";
	ew_complaint_note(c, "incidents", "0", why, NULL, NULL, 0);
}

static void
fact_notes(struct ew_complaint *c, const struct ew_text_state *st)
{
	size_t k, nt = 0;
	char tv[EW_TIME_STRLEN];

	if (st->ports.len > 0)
		ew_text_note(c, st, "ports", ew_buf_str(&st->ports),
		    st->ports_rule, st->ports_text, st->ports_part,
		    st->ports_line, st->ports_pos);
	for (k = 0; k < st->nhosts; k++)
		ew_text_note(c, st, "dst_host", st->hosts[k].name,
		    st->hosts[k].rule, st->hosts[k].text, st->hosts[k].part,
		    st->hosts[k].line, st->hosts[k].pos);
	for (k = 0; k < st->n && nt < 8; k++) {
		const struct ew_mention *m = &st->v[k];

		if (!m->has_tm || m->role == EW_ROLE_NEITHER ||
		    (k > 0 && st->v[k - 1].line == m->line))
			continue;
		nt++;
		ew_text_note(c, st, "time",
		    ew_time_format(m->tm.t, tv, sizeof(tv)),
		    m->tm.zs == EW_ZONE_ASSUMED
			? "a time on the address's line, zone assumed (the "
			  "message's own)"
			: "a time on the address's line, zone stated",
		    m->text, m->part, m->pline, m->ls);
	}
}

int
ew_text_build(struct ew_complaint *c, struct ew_text_state *st, int64_t date,
    int has_date)
{
	size_t nid, i, k, ngd = 0, nets = 0, before = c->ninc;
	const struct ew_mention *gd[EW_TEXT_MAX_CROSS];
	unsigned *fl = NULL;
	unsigned char *used = NULL;
	int rc = -1, cross;

	nid = assign_ids(st);
	if (st->n > 0 && nid == 0)
		return -1;
	fl = calloc(nid + 1, sizeof(*fl));
	used = calloc(st->n + 1, 1);
	if (fl == NULL || used == NULL)
		goto out;
	settle(c, st, fl);
	if (rows(c, st, fl, used, date, has_date) < 0)
		goto out;
	/* destinations named outside rows */
	for (i = 0; i < st->n; i++) {
		const struct ew_mention *m = &st->v[i];

		st->steps++;
		nets += m->role == EW_ROLE_SRC && m->f.plen >= 0;
		if (m->role != EW_ROLE_DST || used[i] || (fl[m->id] & F_GDST))
			continue;
		fl[m->id] |= F_GDST;
		if (ngd < EW_TEXT_MAX_CROSS)
			gd[ngd] = m;
		ngd++;
	}
	cross = ngd <= EW_TEXT_MAX_CROSS;
	for (i = 0; i < st->n; i++) {
		const struct ew_mention *s = &st->v[i];

		st->steps++;
		if (s->role != EW_ROLE_SRC || used[i] || (fl[s->id] & F_ROW) ||
		    (!s->has_tm && (fl[s->id] & (F_TSRC | F_BARE))))
			continue;
		if (s->f.plen >= 0 && nets < 64 && covers_source(st, s))
			continue;
		if (!s->has_tm)
			fl[s->id] |= F_BARE;
		if (!cross || ngd == 0) {
			/* no address: the host names, if any */
			for (k = 0; k < st->nhosts || k == 0; k++)
				if (emit(c, st, s, NULL,
					k < st->nhosts ? st->hosts[k].name
						       : NULL,
					date, has_date) < 0)
					goto out;
			continue;
		}
		for (k = 0; k < ngd; k++)
			if (emit(c, st, s, gd[k], NULL, date, has_date) < 0)
				goto out;
	}
	/* only destinations named: the complaint is about traffic to them */
	for (k = 0; c->ninc == before && k < ngd && k < EW_TEXT_MAX_CROSS; k++)
		if (emit(c, st, NULL, gd[k], NULL, date, has_date) < 0)
			goto out;
	for (k = 0; c->ninc == before && st->n == 0 && k < st->nhosts; k++)
		if (emit(c, st, NULL, NULL, st->hosts[k].name, date, has_date) <
		    0)
			goto out;
	fact_notes(c, st);
	if (c->ninc == 0)
		why_empty(c, st);
	rc = 0;
out:
	free(fl);
	free(used);
	return rc;
}

/* text_int.h; here beside its only callers, so that build.c, which
 * text.c calls, never calls back into text.c. */
void
ew_text_note(struct ew_complaint *c, const struct ew_text_state *st,
    const char *fact, const char *value, const char *rule, size_t text,
    size_t part, size_t line, size_t pos)
{
	char where[64];
	const char *s;
	size_t ls, le, n;

	if (c->nnotes >= EW_MAIL_MAX_NOTES) {
		c->notes_dropped++;
		return;
	}
	if (part == (size_t)-1)
		snprintf(where, sizeof(where), "subject");
	else
		snprintf(where, sizeof(where), "part %zu line %zu", part + 1,
		    line + 1);
	if (text >= st->ntexts) {
		ew_complaint_note(c, fact, value, rule, where, NULL, 0);
		return;
	}
	s = ew_buf_str(&st->texts[text]);
	n = st->texts[text].len;
	if (pos > n)
		pos = n;
	ls = pos;
	while (ls > 0 && s[ls - 1] != '\n' && pos - ls < 60)
		ls--;
	le = pos;
	while (le < n && s[le] != '\n' && le - pos < 60)
		le++;
	ew_complaint_note(c, fact, value, rule, where, s + ls, le - ls);
}
