/*
 * mtime.c - times as complaints write them.
 *
 * One parser for the date-time shapes met in complaint mails: RFC 5322
 * ("Fri, 31 Jan 2014 07:19:02 +0100 (CET)", with the obsolete zone
 * names), ISO 8601 / RFC 3339 ("2025-01-11T11:26:59Z", fractions
 * dropped), the zone-less "YYYY-MM-DD HH:MM:SS" of CSV reports, and
 * "Dec 25, 2022 08:02:59" / "31/01/2014 07:19" variants are not guessed.
 * Each result records where the zone came from; a zone abbreviation that
 * names several zones (IST, CST, BST) yields an interval spanning them,
 * and a time without zone yields the interval of every zone on earth
 * (UTC-12 to UTC+14) around the assumed one.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/tm.h"
#include "mail/mail_int.h"

struct zone {
	const char *name;
	int off, alt; /* minutes east of UTC; alt == off unless ambiguous */
};

/* Sorted by name; ew_mail_zone searches it linearly (it is short). */
static const struct zone zones[] = {
	{ "ACDT", 630, 630 },
	{ "ACST", 570, 570 },
	{ "AEDT", 660, 660 },
	{ "AEST", 600, 600 },
	{ "AKDT", -480, -480 },
	{ "AKST", -540, -540 },
	{ "ALMT", 360, 360 },
	{ "AST", -240, 180 },
	{ "AWST", 480, 480 },
	{ "BST", 60, 360 },
	{ "CAT", 120, 120 },
	{ "CDT", -300, -300 },
	{ "CEST", 120, 120 },
	{ "CET", 60, 60 },
	{ "CST", -360, 480 },
	{ "EAT", 180, 180 },
	{ "EDT", -240, -240 },
	{ "EEST", 180, 180 },
	{ "EET", 120, 120 },
	{ "EST", -300, -300 },
	{ "GMT", 0, 0 },
	{ "HKT", 480, 480 },
	{ "HST", -600, -600 },
	{ "IDT", 180, 180 },
	{ "IST", 330, 60 },
	{ "JST", 540, 540 },
	{ "KST", 540, 540 },
	{ "MDT", -360, -360 },
	{ "MEST", 120, 120 },
	{ "MESZ", 120, 120 },
	{ "MET", 60, 60 },
	{ "MEZ", 60, 60 },
	{ "MSK", 180, 180 },
	{ "MST", -420, -420 },
	{ "NZDT", 780, 780 },
	{ "NZST", 720, 720 },
	{ "PDT", -420, -420 },
	{ "PKT", 300, 300 },
	{ "PST", -480, 480 },
	{ "SAST", 120, 120 },
	{ "SGT", 480, 480 },
	{ "UT", 0, 0 },
	{ "UTC", 0, 0 },
	{ "WAT", 60, 60 },
	{ "WEST", 60, 60 },
	{ "WET", 0, 0 },
	{ "Z", 0, 0 },
};

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec" };

static const char *const wdays[] = { "mon", "tue", "wed", "thu", "fri", "sat",
	"sun" };

/* A cursor over the n bytes at s. */
struct cur {
	const char *s;
	size_t n, i;
};

static int
peek(const struct cur *c)
{
	return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

static void
blanks(struct cur *c)
{
	while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
		c->i++;
}

/* Exactly `min`..`max` digits; -1 when fewer. */
static long
digits(struct cur *c, int min, int max)
{
	long v = 0;
	int k = 0;

	while (k < max && c->i < c->n && isdigit((unsigned char)c->s[c->i])) {
		v = v * 10 + (c->s[c->i] - '0');
		c->i++;
		k++;
	}
	if (k < min)
		return -1;
	return v;
}

static int
word_is(const struct cur *c, const char *const *tab, int ntab)
{
	char w[3];
	int k;

	if (c->i + 3 > c->n)
		return -1;
	for (k = 0; k < 3; k++)
		w[k] = (char)tolower((unsigned char)c->s[c->i + k]);
	for (k = 0; k < ntab; k++)
		if (w[0] == tab[k][0] && w[1] == tab[k][1] && w[2] == tab[k][2])
			return k;
	return -1;
}

static size_t
alpha_len(const struct cur *c)
{
	size_t k = c->i;

	while (k < c->n && isalpha((unsigned char)c->s[k]))
		k++;
	return k - c->i;
}

/* A month's name at c, passed over: 0 to 11, or -1 (c unmoved). */
static int
month_word(struct cur *c)
{
	int mo = word_is(c, months, 12);

	if (mo >= 0)
		c->i += alpha_len(c);
	return mo;
}

/* A month's name, a '.' after it (as in "Nov."), and the blanks after. */
static int
month_dotted(struct cur *c)
{
	int mo = month_word(c);

	if (mo < 0)
		return -1;
	if (peek(c) == '.')
		c->i++;
	blanks(c);
	return mo;
}

static const struct zone *
zone_named(const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
		if (strlen(zones[k].name) == n &&
		    strncasecmp(zones[k].name, s, n) == 0)
			return &zones[k];
	return NULL;
}

/*
 * A zone after the time: "Z", "+HH:MM", "+HHMM", "+HH", "UTC", "GMT+2",
 * an abbreviation.  Fills off/alt/zs; leaves the cursor after it.
 * Without a zone, zs stays EW_ZONE_ASSUMED.
 */
static void
zone(struct cur *c, int *off, int *alt, enum ew_zone_source *zs)
{
	size_t save = c->i, an;
	int ch, sign;
	long h, m = 0;

	blanks(c);
	an = alpha_len(c);
	if (an >= 1 && an <= 5) {
		const struct zone *z = zone_named(c->s + c->i, an);

		if (z != NULL) {
			c->i += an;
			*off = z->off;
			*alt = z->alt;
			*zs = (z->off == 0 && z->alt == 0) ? EW_ZONE_OFFSET
							   : EW_ZONE_NAMED;
			if (z->off != 0 || z->alt != 0)
				return;
			/* "UTC+2", "GMT-5" */
			if (peek(c) != '+' && peek(c) != '-')
				return;
		}
	}
	ch = peek(c);
	if (ch != '+' && ch != '-') {
		if (*zs != EW_ZONE_OFFSET)
			c->i = save;
		return;
	}
	sign = ch == '-' ? -1 : 1;
	c->i++;
	h = digits(c, 1, 2);
	if (h < 0 || h > 14) {
		c->i = save;
		return;
	}
	if (peek(c) == ':')
		c->i++;
	if (c->i < c->n && isdigit((unsigned char)c->s[c->i])) {
		m = digits(c, 2, 2);
		if (m < 0 || m > 59) {
			c->i = save;
			return;
		}
	}
	*off = *alt = sign * (int)(h * 60 + m);
	*zs = EW_ZONE_OFFSET;
}

static int
finish(int64_t y, long mo, long d, long h, long mi, long se, int off, int alt,
    enum ew_zone_source zs, struct ew_mtime *out)
{
	int64_t local;
	int lo, hi;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	local = ew_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
		h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	memset(out, 0, sizeof(*out));
	out->zs = zs;
	out->off = off;
	out->t = local - off * 60;
	out->has_t = 1;
	if (zs == EW_ZONE_ASSUMED) {
		lo = -12 * 60;
		hi = 14 * 60;
	} else {
		lo = off < alt ? off : alt;
		hi = off < alt ? alt : off;
	}
	out->from = local - (int64_t)hi * 60;
	out->to = local - (int64_t)lo * 60;
	out->has_from = out->has_to = 1;
	return 0;
}

/* hh:mm[:ss[.frac]] */
static int
clock_part(struct cur *c, long *h, long *mi, long *se)
{
	*h = digits(c, 1, 2);
	if (*h < 0 || peek(c) != ':')
		return -1;
	c->i++;
	*mi = digits(c, 2, 2);
	if (*mi < 0)
		return -1;
	*se = 0;
	if (peek(c) == ':') {
		c->i++;
		*se = digits(c, 2, 2);
		if (*se < 0)
			return -1;
		if (peek(c) == '.' || peek(c) == ',') {
			c->i++;
			if (digits(c, 1, 9) < 0)
				return -1;
		}
	}
	return 0;
}

/* "AM"/"PM" (or "a.m."/"p.m.") after a clock: *h adjusted. */
static void
ampm(struct cur *c, long *h)
{
	size_t save = c->i;
	int pm;

	blanks(c);
	if (c->i + 1 >= c->n)
		goto none;
	pm = tolower((unsigned char)c->s[c->i]);
	if (pm != 'a' && pm != 'p')
		goto none;
	if (tolower((unsigned char)c->s[c->i + 1]) == 'm' &&
	    (c->i + 2 >= c->n || !isalpha((unsigned char)c->s[c->i + 2]))) {
		c->i += 2;
	} else if (c->i + 3 < c->n && c->s[c->i + 1] == '.' &&
		   tolower((unsigned char)c->s[c->i + 2]) == 'm' &&
		   c->s[c->i + 3] == '.') {
		c->i += 4;
	} else {
		goto none;
	}
	if (*h < 1 || *h > 12) {
		*h = -1;
		return;
	}
	if (pm == 'p' && *h < 12)
		*h += 12;
	else if (pm == 'a' && *h == 12)
		*h = 0;
	return;
none:
	c->i = save;
}

/* German "12:00 Uhr" (French "12h00" is not read). */
static void
uhr(struct cur *c)
{
	size_t save = c->i;

	blanks(c);
	if (c->i + 3 <= c->n && strncasecmp(c->s + c->i, "uhr", 3) == 0 &&
	    (c->i + 3 == c->n || !isalpha((unsigned char)c->s[c->i + 3])))
		c->i += 3;
	else
		c->i = save;
}

/* ISO: YYYY-MM-DD[(T| )hh:mm[:ss]][zone] */
static int
iso(struct cur *c, struct ew_mtime *out)
{
	long y, mo, d, h = 0, mi = 0, se = 0;
	int off = 0, alt = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;
	size_t save;

	y = digits(c, 4, 4);
	if (y < 0 || peek(c) != '-')
		return -1;
	c->i++;
	mo = digits(c, 2, 2);
	if (mo < 0 || peek(c) != '-')
		return -1;
	c->i++;
	d = digits(c, 2, 2);
	if (d < 0)
		return -1;
	save = c->i;
	if (peek(c) == 'T' || peek(c) == ' ' || peek(c) == '_') {
		c->i++;
		blanks(c);
		/* "2026-11-30 at\n10:00 CET" */
		if (c->i + 2 < c->n && strncasecmp(c->s + c->i, "at", 2) == 0 &&
		    isspace((unsigned char)c->s[c->i + 2])) {
			c->i += 2;
			while (c->i < c->n && c->i - save < 12 &&
			       isspace((unsigned char)c->s[c->i]))
				c->i++;
		}
		if (clock_part(c, &h, &mi, &se) < 0) {
			c->i = save;
			h = mi = se = 0;
		} else {
			ampm(c, &h);
			zone(c, &off, &alt, &zs);
		}
	}
	if (c->i == save) /* a bare date: the whole day, zone unknown */
		zs = EW_ZONE_ASSUMED;
	if (finish(y, mo, d, h, mi, se, off, alt, zs, out) < 0)
		return -1;
	if (c->i == save)
		out->to += 86400 - 1;
	return 0;
}

/*
 * RFC 5322: [Day,] DD Mon YYYY hh:mm[:ss] zone; "Mon DD[,] YYYY [at]
 * hh:mm [AM]" (Gmail, Outlook's "Tuesday, November 17, 2026 8:41 AM");
 * ctime's "Wed Nov 18 06:02:11 2026"; with yref, the year-less syslog
 * "Nov 17 02:41:07" (the year of *yref).
 */
static int
rfc(struct cur *c, const int64_t *yref, struct ew_mtime *out)
{
	long y = -1, d, h, mi, se;
	int mo, off = 0, alt = 0, noyear = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;
	size_t save;

	if (word_is(c, wdays, 7) >= 0) {
		c->i += alpha_len(c);
		if (peek(c) == ',')
			c->i++;
		blanks(c);
	}
	if (isdigit(peek(c))) {
		d = digits(c, 1, 2);
		blanks(c);
		if ((mo = month_dotted(c)) < 0)
			return -1;
		y = digits(c, 4, 4);
	} else {
		if ((mo = month_dotted(c)) < 0)
			return -1;
		d = digits(c, 1, 2);
		if (peek(c) == ',')
			c->i++;
		blanks(c);
		save = c->i;
		y = digits(c, 4, 4);
		if (y < 0) {
			/* ctime or syslog: the clock comes first */
			c->i = save;
			noyear = 1;
		} else if (peek(c) == ':') {
			return -1;
		}
		blanks(c);
		if (peek(c) == '@')
			c->i++;
		else if (c->i + 2 < c->n &&
			 tolower((unsigned char)c->s[c->i]) == 'a' &&
			 tolower((unsigned char)c->s[c->i + 1]) == 't' &&
			 c->s[c->i + 2] == ' ')
			c->i += 2;
	}
	if (peek(c) == ',')
		c->i++;
	if (d < 0 || (y < 0 && !noyear))
		return -1;
	blanks(c);
	if (clock_part(c, &h, &mi, &se) < 0)
		return -1;
	ampm(c, &h);
	if (h < 0)
		return -1;
	zone(c, &off, &alt, &zs);
	if (noyear) {
		save = c->i;
		blanks(c);
		y = digits(c, 4, 4);
		if (y < 0 ||
		    (c->i < c->n && isdigit((unsigned char)c->s[c->i]))) {
			c->i = save;
			if (yref == NULL)
				return -1;
			y = -2; /* from the reference */
		} else if (zs == EW_ZONE_ASSUMED) {
			zone(c, &off, &alt, &zs);
		}
	}
	if (y == -2) {
		int64_t days = *yref / 86400, yy;

		yy = 1970 + days / 366; /* then step to the right year */
		while (ew_days_from_civil(yy + 1, 1, 1) <= days)
			yy++;
		if (finish(yy, mo + 1, d, h, mi, se, off, alt, zs, out) < 0)
			return -1;
		/* never after the reference (by more than two days) */
		if (out->t > *yref + 2 * 86400)
			return finish(
			    yy - 1, mo + 1, d, h, mi, se, off, alt, zs, out);
		return 0;
	}
	return finish(y, mo + 1, d, h, mi, se, off, alt, zs, out);
}

/*
 * Numeric dates: "11/17/2026 02:41:07" (US: month first, unless the
 * first number is over 12), "17.11.2026 02:41" (day first),
 * "2026/11/17 02:41:07".  A clock is required.
 */
static int
numeric(struct cur *c, struct ew_mtime *out)
{
	long a, b, y, h, mi, se, mo, d;
	int off = 0, alt = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;
	int sep;
	size_t save;

	a = digits(c, 1, 4);
	sep = peek(c);
	if (a < 0 || (sep != '/' && sep != '.' && sep != '-') ||
	    (sep == '-' && a > 31))
		return -1;
	c->i++;
	b = digits(c, 1, 2);
	if (b < 0 || peek(c) != sep)
		return -1;
	c->i++;
	if (a > 31) { /* Y/M/D */
		y = a;
		mo = b;
		d = digits(c, 1, 2);
	} else {
		y = digits(c, 4, 4);
		if (sep != '/' || a > 12) {
			d = a;
			mo = b;
		} else {
			mo = a;
			d = b;
		}
	}
	if (y < 0 || d < 0 ||
	    (c->i < c->n && isalnum((unsigned char)c->s[c->i])) ||
	    (c->i + 1 < c->n && c->s[c->i] == '.' &&
		isdigit((unsigned char)c->s[c->i + 1])))
		return -1;
	save = c->i;
	if (peek(c) == ',')
		c->i++;
	blanks(c);
	if (peek(c) == '-' || peek(c) == '@') {
		c->i++;
		blanks(c);
	} else if (c->i + 2 < c->n && strncasecmp(c->s + c->i, "at ", 3) == 0) {
		c->i += 3;
		blanks(c);
	}
	if (clock_part(c, &h, &mi, &se) < 0) {
		/* a date alone: the whole day, zone unknown */
		c->i = save;
		if (finish(y, mo, d, 0, 0, 0, 0, 0, EW_ZONE_ASSUMED, out) < 0)
			return -1;
		out->to += 86400 - 1;
		return 0;
	}
	ampm(c, &h);
	if (h < 0)
		return -1;
	uhr(c);
	zone(c, &off, &alt, &zs);
	return finish(y, mo, d, h, mi, se, off, alt, zs, out);
}

/* Web server logs: "17/Nov/2026:08:39:12 -0600". */
static int
clf(struct cur *c, struct ew_mtime *out)
{
	long d, y, h, mi, se;
	int mo, off = 0, alt = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;

	d = digits(c, 1, 2);
	if (d < 0 || peek(c) != '/')
		return -1;
	c->i++;
	if ((mo = month_word(c)) < 0)
		return -1;
	if (peek(c) != '/')
		return -1;
	c->i++;
	y = digits(c, 4, 4);
	if (y < 0 || peek(c) != ':')
		return -1;
	c->i++;
	if (clock_part(c, &h, &mi, &se) < 0)
		return -1;
	zone(c, &off, &alt, &zs);
	return finish(y, mo + 1, d, h, mi, se, off, alt, zs, out);
}

static size_t
time_at(const char *s, size_t n, const int64_t *yref, struct ew_mtime *out)
{
	struct cur c = { s, n, 0 };

	if (n >= 10 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[3]) && s[4] == '-') {
		if (iso(&c, out) == 0)
			return c.i;
		return 0;
	}
	if (n >= 8 && isdigit((unsigned char)s[0])) {
		c.i = 0;
		if (numeric(&c, out) == 0)
			return c.i;
		c.i = 0;
		if (clf(&c, out) == 0)
			return c.i;
	}
	c.i = 0;
	if (rfc(&c, yref, out) == 0)
		return c.i;
	return 0;
}

size_t
ew_mail_time_at(const char *s, size_t n, struct ew_mtime *out)
{
	return time_at(s, n, NULL, out);
}

/* The civil date of a day number (days since 1970-01-01). */
static void
civil(int64_t days, int64_t *y, unsigned *mo, unsigned *d)
{
	*y = 1970 + (days >= 0 ? days / 366 : days / 365 - 1);
	while (ew_days_from_civil(*y + 1, 1, 1) <= days)
		(*y)++;
	*mo = 1;
	while (*mo < 12 && ew_days_from_civil(*y, *mo + 1, 1) <= days)
		(*mo)++;
	*d = (unsigned)(days - ew_days_from_civil(*y, *mo, 1)) + 1;
}

/* A bare clock "06:02[:11] [AM] [zone]" on the UTC day starting at day. */
static size_t
clock_only(const char *s, size_t n, int64_t day, struct ew_mtime *out)
{
	struct cur c = { s, n, 0 };
	long h, mi, se;
	int off = 0, alt = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;
	int64_t y, dd;
	unsigned mo, d;

	if (n < 4 || !isdigit((unsigned char)s[0]) ||
	    clock_part(&c, &h, &mi, &se) < 0)
		return 0;
	ampm(&c, &h);
	if (h < 0)
		return 0;
	zone(&c, &off, &alt, &zs);
	dd = day / 86400;
	civil(dd, &y, &mo, &d);
	if (finish(y, mo, d, h, mi, se, off, alt, zs, out) < 0)
		return 0;
	return c.i;
}

size_t
ew_mail_time_ctx(
    const char *s, size_t n, const struct ew_tctx *cx, struct ew_mtime *out)
{
	size_t used = time_at(s, n, cx->has_ref ? &cx->ref : NULL, out);
	int64_t local;

	if (used == 0 && cx->clock_ok && cx->has_day)
		used = clock_only(s, n, cx->day, out);
	if (used == 0 || out->zs != EW_ZONE_ASSUMED)
		return used;
	/* no zone written: the one the context gives */
	local = out->t + (int64_t)out->off * 60;
	out->t = local - (int64_t)cx->off * 60;
	out->off = cx->off;
	if (cx->zs != EW_ZONE_ASSUMED) {
		out->zs = cx->zs;
		out->from = out->to = out->t;
	}
	return used;
}

int
ew_mail_time_parse(const char *s, size_t n, struct ew_mtime *out)
{
	size_t i = 0, used;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	used = ew_mail_time_at(s + i, n - i, out);
	if (used == 0)
		return -1;
	i += used;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == '(') /* "(CET)": a comment */
		return 0;
	return i == n ? 0 : -1;
}

size_t
ew_mail_zone(const char *s, size_t n, int *off, enum ew_zone_source *zs)
{
	static const struct {
		const char *name;
		int off;
	} longnames[] = { { "central european time", 60 },
		{ "central european summer time", 120 },
		{ "eastern european time", 120 },
		{ "western european time", 0 },
		{ "coordinated universal time", 0 }, { "universal time", 0 },
		{ "greenwich mean time", 0 }, { "eastern standard time", -300 },
		{ "eastern time", -300 }, { "central standard time", -360 },
		{ "pacific standard time", -480 }, { "pacific time", -480 },
		{ "mountain standard time", -420 }, { "europe/berlin", 60 },
		{ "europe/amsterdam", 60 }, { "europe/paris", 60 },
		{ "europe/vienna", 60 }, { "europe/london", 0 },
		{ "america/new_york", -300 }, { "berlin", 60 } };
	struct cur c = { s, n, 0 };
	int alt = 0;
	size_t k;

	for (k = 0; k < sizeof(longnames) / sizeof(longnames[0]); k++) {
		size_t l = strlen(longnames[k].name);

		if (l <= n && strncasecmp(s, longnames[k].name, l) == 0) {
			*off = longnames[k].off;
			*zs = EW_ZONE_NAMED;
			return l;
		}
	}
	*zs = EW_ZONE_ASSUMED;
	*off = 0;
	if (n > 0 && (s[0] == '(' || s[0] == '[')) {
		c.i = 1;
		zone(&c, off, &alt, zs);
		if (*zs == EW_ZONE_ASSUMED)
			return 0;
		return c.i < n && (s[c.i] == ')' || s[c.i] == ']') ? c.i + 1
								   : c.i;
	}
	zone(&c, off, &alt, zs);
	if (*zs == EW_ZONE_ASSUMED ||
	    (c.i < n && isalnum((unsigned char)s[c.i])))
		return 0;
	return c.i;
}
