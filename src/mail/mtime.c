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
		if (clock_part(c, &h, &mi, &se) < 0) {
			c->i = save;
			h = mi = se = 0;
		} else {
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

/* RFC 5322: [Day,] DD Mon YYYY hh:mm[:ss] zone; or "Mon DD[,] YYYY hh:mm" */
static int
rfc(struct cur *c, struct ew_mtime *out)
{
	long y, d, h, mi, se;
	int mo, off = 0, alt = 0;
	enum ew_zone_source zs = EW_ZONE_ASSUMED;

	if (word_is(c, wdays, 7) >= 0) {
		c->i += alpha_len(c);
		if (peek(c) == ',')
			c->i++;
		blanks(c);
	}
	if (isdigit(peek(c))) {
		d = digits(c, 1, 2);
		blanks(c);
		mo = word_is(c, months, 12);
		if (mo < 0)
			return -1;
		c->i += alpha_len(c);
		blanks(c);
		y = digits(c, 4, 4);
	} else {
		mo = word_is(c, months, 12);
		if (mo < 0)
			return -1;
		c->i += alpha_len(c);
		blanks(c);
		d = digits(c, 1, 2);
		if (peek(c) == ',')
			c->i++;
		blanks(c);
		y = digits(c, 4, 4);
		if (peek(c) == ' ' || peek(c) == '@') {
			blanks(c);
			if (peek(c) == '@')
				c->i++;
		}
	}
	if (d < 0 || y < 0)
		return -1;
	blanks(c);
	if (clock_part(c, &h, &mi, &se) < 0)
		return -1;
	zone(c, &off, &alt, &zs);
	return finish(y, mo + 1, d, h, mi, se, off, alt, zs, out);
}

size_t
ew_mail_time_at(const char *s, size_t n, struct ew_mtime *out)
{
	struct cur c = { s, n, 0 };

	if (n >= 10 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[3]) && s[4] == '-') {
		if (iso(&c, out) == 0)
			return c.i;
		return 0;
	}
	c.i = 0;
	if (rfc(&c, out) == 0)
		return c.i;
	return 0;
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
