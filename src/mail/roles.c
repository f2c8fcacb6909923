/*
 * roles.c - is an address the source, the destination, or neither?
 *
 * Read from the structure that is there, most specific first:
 *
 *   table columns	a header line "time protocol src_ip src_port =>
 *			dest_ip dest_port" (or "Src IP Addr:Port -> Dst IP
 *			Addr:Port", "ip port timestamp") gives each address
 *			column of the rows below it its role
 *   arrows		"A => B", "A -> B", "A → B": A the source, B the
 *			destination
 *   host masks		IRC's "nick is ~user@ADDR" and "nick!user@ADDR":
 *			ADDR is the connecting client, a source
 *   words before	within the sentence: "from", "source", "your",
 *			"attacker", "concerning" ... make a source; "to",
 *			"our", "target", "destination", "victim", "against"
 *			... a destination; "e.g.", "example" neither.
 *			Each word reaches only so far (a few words; "to"
 *			only the next one or two), and addresses, list
 *			glue ("and", ",", "(") and nouns like "servers" or
 *			"netblock" do not count, so "to our servers
 *			(192.0.2.10, 192.0.2.11 and 192.0.2.12)" makes all
 *			three destinations.
 *
 * Host names given as destinations ("the servers that irc.example.net
 * resolves to", "connections to irc.example.net") are found here too.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

/* Are the n bytes at s the word w, in any case? */
static int
ieq(const char *w, const char *s, size_t n)
{
	return strlen(w) == n && strncasecmp(w, s, n) == 0;
}

/* ---- table headers ---- */

struct colword {
	const char *w;
	enum ew_col col;
};

/* Single-token column names (lowercase, compared whole). */
static const struct colword colwords[] = {
	{ "time", EW_COL_TIME },
	{ "date", EW_COL_TIME },
	{ "timestamp", EW_COL_TIME },
	{ "datetime", EW_COL_TIME },
	{ "date/time", EW_COL_TIME },
	{ "time(utc)", EW_COL_TIME },
	{ "src", EW_COL_SRC },
	{ "src_ip", EW_COL_SRC },
	{ "srcip", EW_COL_SRC },
	{ "src_addr", EW_COL_SRC },
	{ "source", EW_COL_SRC },
	{ "source_ip", EW_COL_SRC },
	{ "sourceip", EW_COL_SRC },
	{ "source-ip", EW_COL_SRC },
	{ "attacker", EW_COL_SRC },
	{ "ip", EW_COL_SRC },
	{ "ip_address", EW_COL_SRC },
	{ "src_port", EW_COL_SPORT },
	{ "srcport", EW_COL_SPORT },
	{ "sport", EW_COL_SPORT },
	{ "spt", EW_COL_SPORT },
	{ "source_port", EW_COL_SPORT },
	{ "dst", EW_COL_DST },
	{ "dst_ip", EW_COL_DST },
	{ "dstip", EW_COL_DST },
	{ "dst_addr", EW_COL_DST },
	{ "dest", EW_COL_DST },
	{ "dest_ip", EW_COL_DST },
	{ "destination", EW_COL_DST },
	{ "destination_ip", EW_COL_DST },
	{ "destination-ip", EW_COL_DST },
	{ "target", EW_COL_DST },
	{ "target_ip", EW_COL_DST },
	{ "victim", EW_COL_DST },
	{ "dst_port", EW_COL_DPORT },
	{ "dstport", EW_COL_DPORT },
	{ "dport", EW_COL_DPORT },
	{ "dpt", EW_COL_DPORT },
	{ "dest_port", EW_COL_DPORT },
	{ "destination_port", EW_COL_DPORT },
	{ "target_port", EW_COL_DPORT },
	{ "port", EW_COL_DPORT },
	{ "zeit", EW_COL_TIME },
	{ "zeitpunkt", EW_COL_TIME },
	{ "datum", EW_COL_TIME },
	{ "tijd", EW_COL_TIME },
	{ "tijdstip", EW_COL_TIME },
	{ "horodatage", EW_COL_TIME },
	{ "heure", EW_COL_TIME },
	{ "quelle", EW_COL_SRC },
	{ "quell-ip", EW_COL_SRC },
	{ "bron", EW_COL_SRC },
	{ "bron-ip", EW_COL_SRC },
	{ "origen", EW_COL_SRC },
	{ "ziel", EW_COL_DST },
	{ "ziel-ip", EW_COL_DST },
	{ "doel", EW_COL_DST },
	{ "doel-ip", EW_COL_DST },
	{ "destino", EW_COL_DST },
	{ "cible", EW_COL_DST },
	{ "quellport", EW_COL_SPORT },
	{ "zielport", EW_COL_DPORT },
	{ "doelpoort", EW_COL_DPORT },
	{ "poort", EW_COL_DPORT },
	{ "=>", EW_COL_ARROW },
	{ "->", EW_COL_ARROW },
	{ "\xe2\x86\x92", EW_COL_ARROW },
};

/* Words that may sit in a header without being columns we read. */
static const char *const otherwords[] = { "proto", "protocol", "count",
	"packets", "bytes", "flags", "type", "hostname", "asn", "service",
	"action", "attempts", "hits", "url", "country", "first", "last", "seen",
	"addr:port", "addr", "address", "(utc)", "utc", "gmt", "(gmt)", "tag",
	"user", "login", "method", "info", "#", "no", "no.", "event",
	"description", "category", "reason" };

static enum ew_col
col_of(const char *w, size_t n, int *known)
{
	size_t k;

	*known = 1;
	for (k = 0; k < sizeof(colwords) / sizeof(colwords[0]); k++)
		if (strlen(colwords[k].w) == n &&
		    strncasecmp(colwords[k].w, w, n) == 0)
			return colwords[k].col;
	for (k = 0; k < sizeof(otherwords) / sizeof(otherwords[0]); k++)
		if (strlen(otherwords[k]) == n &&
		    strncasecmp(otherwords[k], w, n) == 0)
			return EW_COL_OTHER;
	*known = 0;
	return EW_COL_OTHER;
}

static int
tok_sep(int c)
{
	return c == ' ' || c == '\t' || c == '|' || c == ',' || c == ';' ||
	       c == '\r';
}

/* The next token of s from *i: [b, e); 0 at the end. */
static int
next_tok(const char *s, size_t n, size_t *i, size_t *b, size_t *e)
{
	while (*i < n && tok_sep((unsigned char)s[*i]))
		(*i)++;
	if (*i >= n)
		return 0;
	*b = *i;
	while (*i < n && !tok_sep((unsigned char)s[*i]))
		(*i)++;
	*e = *i;
	return 1;
}

int
ew_role_table_header(const char *s, size_t n, struct ew_table *t)
{
	size_t i = 0, b, e, ntok = 0, nknown = 0, naddr = 0;
	enum ew_col prev = EW_COL_OTHER;
	struct ew_table h;

	memset(&h, 0, sizeof(h));
	if (n > 300)
		return 0;
	while (next_tok(s, n, &i, &b, &e)) {
		int known;
		enum ew_col col;

		/* more than 24 tokens, or 8 unknown (then 27 tokens at
		 * least for 70 % known): no header, whatever follows */
		if (ntok >= 24 || ntok - nknown >= 8)
			return 0;
		col = col_of(s + b, e - b, &known);
		ntok++;
		/* two-word names: "source ip", "destination port" */
		if (known && (col == EW_COL_SRC || col == EW_COL_DST)) {
			size_t i2 = i, b2, e2;

			/* one blank between: one name; more: two columns */
			if (next_tok(s, n, &i2, &b2, &e2) && b2 == e + 1 &&
			    s[e] == ' ') {
				int port = ew_tx_at(s, e2, b2, "port");
				int ip = ew_tx_at(s, e2, b2, "ip") ||
					 ew_tx_at(s, e2, b2, "addr");

				if (port || ip) {
					i = i2;
					if (port)
						col = col == EW_COL_SRC
							  ? EW_COL_SPORT
							  : EW_COL_DPORT;
				}
			}
		}
		/* a zone in the header: "TIME (UTC)", "Timestamp (CET)" */
		if (!known && e - b >= 3 && e - b <= 10 && s[b] == '(' &&
		    prev == EW_COL_TIME) {
			int off;
			enum ew_zone_source zs;

			if (ew_mail_zone(s + b, e - b, &off, &zs) == e - b) {
				known = 1;
				col = EW_COL_OTHER;
				h.has_zone = 1;
				h.zone_off = off;
				h.zone_zs = zs;
			}
		}
		if (known) {
			nknown++;
			if ((col == EW_COL_TIME || col == EW_COL_OTHER) &&
			    (ieq("(utc)", s + b, e - b) ||
				ieq("utc", s + b, e - b) ||
				ieq("(gmt)", s + b, e - b))) {
				h.has_zone = 1;
				h.zone_off = 0;
				h.zone_zs = EW_ZONE_OFFSET;
			}
			if (col == EW_COL_TIME)
				prev = col;
			if (col == EW_COL_OTHER)
				continue;
			/* a bare "port" after the only source column of a
			 * table with destinations is the source's */
			if (col == EW_COL_DPORT && prev == EW_COL_SRC &&
			    ieq("port", s + b, e - b))
				col = EW_COL_SPORT;
			if (h.ncol < EW_TABLE_MAX_COLS)
				h.col[h.ncol++] = col;
			naddr += col == EW_COL_SRC || col == EW_COL_DST;
			prev = col;
		}
	}
	if (naddr == 0 || h.ncol < 2 || ntok > 24 || nknown * 10 < ntok * 7)
		return 0;
	h.active = 1;
	*t = h;
	return 1;
}

enum ew_role
ew_role_table_cell(const struct ew_table *t, const char *s, size_t n,
    const struct ew_found *f, size_t *ai, long *port)
{
	size_t k, seen = 0, j;
	enum ew_role r = EW_ROLE_UNKNOWN;

	*port = -1;
	for (k = 0; k < t->ncol; k++) {
		if (t->col[k] != EW_COL_SRC && t->col[k] != EW_COL_DST)
			continue;
		if (seen++ == *ai)
			break;
	}
	(*ai)++;
	if (k == t->ncol)
		return EW_ROLE_UNKNOWN;
	r = t->col[k] == EW_COL_SRC ? EW_ROLE_SRC : EW_ROLE_DST;
	/* the port column right after it */
	if (k + 1 < t->ncol &&
	    (t->col[k + 1] == EW_COL_SPORT || t->col[k + 1] == EW_COL_DPORT)) {
		j = f->end;
		while (j < n && tok_sep((unsigned char)s[j]))
			j++;
		if (j < n && isdigit((unsigned char)s[j]))
			*port = ew_tx_num_at(s, n, &j);
	}
	return r;
}

/* ---- arrows, host masks, words ---- */

static size_t
arrow_at(const char *s, size_t n, size_t j)
{
	if (ew_tx_at(s, n, j, "=>") || ew_tx_at(s, n, j, "->"))
		return 2;
	if (ew_tx_at(s, n, j, "\xe2\x86\x92"))
		return 3;
	return 0;
}

/* An arrow right after the address (and its port). */
static int
arrow_after(const char *s, size_t n, const struct ew_found *f)
{
	size_t j = f->end;

	ew_tx_skip_sp(s, n, &j);
	if (j < n && (s[j] == ':' || ew_tx_at(s, n, j, "port "))) {
		j += s[j] == ':' ? 1 : 5;
		ew_tx_skip_sp(s, n, &j);
		while (j < n && isdigit((unsigned char)s[j]))
			j++;
		ew_tx_skip_sp(s, n, &j);
	}
	return arrow_at(s, n, j) > 0;
}

static int
arrow_before(const char *s, size_t ls, size_t i)
{
	size_t j = i;

	while (j > ls && (s[j - 1] == ' ' || s[j - 1] == '\t'))
		j--;
	if (j >= ls + 2 && arrow_at(s, j, j - 2) == 2)
		return 1;
	return j >= ls + 3 && arrow_at(s, j, j - 3) == 3;
}

/* "nick!user@ADDR", "is ~user@ADDR", "(~user@ADDR)". */
static int
host_mask(const char *s, size_t ls, size_t i)
{
	size_t j;

	if (i == ls || s[i - 1] != '@')
		return 0;
	for (j = i - 1; j > ls && j + 40 > i; j--) {
		int ch = (unsigned char)s[j - 1];

		if (ch == '!' || ch == '~')
			return 1;
		if (isspace(ch) || ch == '(' || ch == '[' || ch == '<')
			return 1; /* "user@ADDR": a user at a host */
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' &&
		    ch != '^' && ch != '`' && ch != '{' && ch != '}' &&
		    ch != '|' && ch != '\\' && ch != ']')
			return 0;
	}
	return 1;
}

struct roleword {
	const char *w;
	enum ew_role r;
	int prefix; /* a prefix of the word ("dest" of "destination") */
	int reach;  /* how many counted words may lie between */
	const char *why;
};

#define RW(w, r, p, reach)                                                     \
	{                                                                      \
		w, r, p, reach, "the word '" w "' before it"                   \
	}

static const struct roleword rolewords[] = {
	RW("from", EW_ROLE_SRC, 0, 2),
	RW("source", EW_ROLE_SRC, 1, 2),
	RW("src", EW_ROLE_SRC, 1, 2),
	RW("your", EW_ROLE_SRC, 0, 3),
	RW("attacker", EW_ROLE_SRC, 1, 2),
	RW("attack", EW_ROLE_DST, 0, 0),
	RW("attacks", EW_ROLE_DST, 0, 0),
	RW("attacking", EW_ROLE_DST, 0, 3),
	RW("attacked", EW_ROLE_DST, 0, 3),
	RW("probed", EW_ROLE_DST, 0, 3),
	RW("probing", EW_ROLE_DST, 0, 3),
	RW("scanned", EW_ROLE_DST, 0, 3),
	RW("offend", EW_ROLE_SRC, 1, 2),
	RW("originat", EW_ROLE_SRC, 1, 2),
	RW("origin", EW_ROLE_SRC, 0, 2),
	RW("about", EW_ROLE_SRC, 0, 2),
	RW("abusive", EW_ROLE_SRC, 0, 2),
	RW("concerning", EW_ROLE_SRC, 0, 3),
	RW("regarding", EW_ROLE_SRC, 0, 3),
	RW("infected", EW_ROLE_SRC, 0, 2),
	RW("compromised", EW_ROLE_SRC, 0, 2),
	RW("connecting", EW_ROLE_SRC, 0, 1),
	RW("scanner", EW_ROLE_SRC, 1, 1),
	RW("to", EW_ROLE_DST, 0, 1),
	RW("dest", EW_ROLE_DST, 1, 2),
	RW("dst", EW_ROLE_DST, 1, 2),
	RW("target", EW_ROLE_DST, 1, 2),
	RW("victim", EW_ROLE_DST, 1, 2),
	RW("our", EW_ROLE_DST, 0, 3),
	RW("their", EW_ROLE_DST, 0, 3),
	RW("reporting", EW_ROLE_NEITHER, 0, 2),
	RW("sur", EW_ROLE_DST, 0, 3),
	RW("toward", EW_ROLE_DST, 1, 2),
	RW("against", EW_ROLE_DST, 0, 2),
	RW("honeypot", EW_ROLE_DST, 1, 2),
	RW("sinkhole", EW_ROLE_DST, 1, 2),
	RW("von", EW_ROLE_SRC, 0, 2),
	RW("vom", EW_ROLE_SRC, 0, 2),
	RW("ihr", EW_ROLE_SRC, 1, 3),
	RW("unser", EW_ROLE_DST, 1, 1),
	RW("gegen", EW_ROLE_DST, 0, 2),
	RW("nach", EW_ROLE_DST, 0, 1),
	RW("depuis", EW_ROLE_SRC, 0, 2),
	RW("votre", EW_ROLE_SRC, 0, 3),
	RW("notre", EW_ROLE_DST, 0, 1),
	RW("nos", EW_ROLE_DST, 0, 1),
	RW("vers", EW_ROLE_DST, 0, 1),
	RW("contre", EW_ROLE_DST, 0, 2),
	RW("vanaf", EW_ROLE_SRC, 0, 2),
	RW("van", EW_ROLE_SRC, 0, 2),
	RW("uw", EW_ROLE_SRC, 0, 3),
	RW("naar", EW_ROLE_DST, 0, 1),
	RW("onze", EW_ROLE_DST, 0, 1),
	RW("desde", EW_ROLE_SRC, 0, 2),
	RW("nuestro", EW_ROLE_DST, 1, 1),
	RW("e.g", EW_ROLE_NEITHER, 0, 1),
	RW("eg", EW_ROLE_NEITHER, 0, 0),
	RW("example", EW_ROLE_NEITHER, 0, 1),
	RW("nameserver", EW_ROLE_NEITHER, 1, 1),
	RW("resolver", EW_ROLE_NEITHER, 1, 1),
};

/* Words that do not count between a role word and its address. */
static const char *const glue[] = { "and", "or", "the", "a", "an", "ip", "ips",
	"ipv4", "ipv6", "address", "addresses", "addr", "host", "hosts",
	"server", "servers", "netblock", "netblocks", "network", "networks",
	"range", "ranges", "block", "subnet", "system", "systems", "machine",
	"machines", "node", "nodes", "irc", "web", "mail", "dns", "port",
	"ports", "is", "are", "at", "on", "following", "these", "this", "those",
	"of", "own", "with", "named", "called", "hostname", "net", "device",
	"devices", "honeypots", "sensor", "sensors", "via", "following:", "en",
	"und", "et", "y", "de", "del", "le", "la", "les", "het", "die", "der",
	"den", "dem", "des", "du", "el", "los", "serveur", "serveurs",
	"servidor", "adresse", "adres", "rechner", "ip-adresse", "ip-adres",
	"site", "sites", "website", "webserver", "portal", "customer",
	"customers", "customer's", "client", "clients", "client's", "sbc",
	"sbcs", "gateway", "router", "firewall", "vps", "box", "instance",
	"account" };

static int
is_glue(const char *w, size_t n)
{
	size_t k;

	for (k = 0; k < sizeof(glue) / sizeof(glue[0]); k++)
		if (ieq(glue[k], w, n))
			return 1;
	return 0;
}

static const struct roleword *
roleword(const char *w, size_t n)
{
	size_t k;

	for (k = 0; k < sizeof(rolewords) / sizeof(rolewords[0]); k++) {
		size_t l = strlen(rolewords[k].w);

		if (rolewords[k].prefix
			? (n >= l && strncasecmp(w, rolewords[k].w, l) == 0)
			: ieq(rolewords[k].w, w, n))
			return &rolewords[k];
	}
	return NULL;
}

/* Is the word before the '.' at s[i] an abbreviation ("e.g.")? */
static int
abbrev(const char *s, size_t lim, size_t i)
{
	static const char *const ab[] = { "e.g", "i.e", "eg", "ie", "etc", "cf",
		"vs", "approx", "no", "nr", "ca", "resp" };
	size_t b = i, k;

	while (b > lim && (isalpha((unsigned char)s[b - 1]) || s[b - 1] == '.'))
		b--;
	for (k = 0; k < sizeof(ab) / sizeof(ab[0]); k++)
		if (ieq(ab[k], s + b, i - b))
			return 1;
	return 0;
}

/* The nearest role word before s[i], back to lim, within its reach. */
static enum ew_role
words_before(const char *s, size_t lim, size_t i, int host, const char **rule)
{
	size_t j = i, e, counted = 0;
	int words = 0;

	while (j > lim && words < 24) {
		const struct roleword *rw;
		int ch = (unsigned char)s[j - 1];

		if (ch == '\n' && j >= 2 && j - 2 >= lim && s[j - 2] == '\n')
			break; /* a blank line */
		if ((ch == '.' || ch == '!' || ch == '?') && j < i &&
		    isspace((unsigned char)s[j]) && j >= 2 &&
		    !isdigit((unsigned char)s[j - 2]) && !abbrev(s, lim, j - 1))
			break; /* a sentence ends */
		/* "our Subject: [...](ADDR)": a colon with words after it
		 * ends the clause ("Source IP: ADDR" goes on) */
		if (ch == ':' && counted > 0 && j < i && s[j] == ' ')
			break;
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' &&
		    ch != ':' && ch != '/') {
			j--;
			continue;
		}
		e = j;
		while (j > lim &&
		       (isalnum((unsigned char)s[j - 1]) || s[j - 1] == '_' ||
			   s[j - 1] == '-' || s[j - 1] == '.' ||
			   s[j - 1] == ':' || s[j - 1] == '/'))
			j--;
		words++;
		/* trailing punctuation of the word */
		while (e > j && (s[e - 1] == '.' || s[e - 1] == ':'))
			e--;
		if (e == j || isdigit((unsigned char)s[j]) ||
		    (memchr(s + j, ':', e - j) != NULL &&
			isxdigit((unsigned char)s[j])) ||
		    (memchr(s + j, '.', e - j) != NULL && e - j > 4 &&
			!abbrev(s, j, e)) ||
		    memchr(s + j, '/', e - j) != NULL)
			continue; /* an address, a number, a host name, a URL */
		/* a host name's place: "on wiki.example", "at x.example" */
		if (host && counted == 0 &&
		    (ieq("on", s + j, e - j) || ieq("at", s + j, e - j) ||
			ieq("hitting", s + j, e - j))) {
			*rule = "a host name after 'on', 'at' or 'hitting'";
			return EW_ROLE_DST;
		}
		if ((rw = roleword(s + j, e - j)) != NULL &&
		    counted <= (size_t)rw->reach) {
			*rule = rw->why;
			/* "attacking IP 1.2.3.4" names the attacker, "is
			 * attacking the web server 1.2.3.4" its target */
			if (rw->r == EW_ROLE_DST && counted == 0 &&
			    (ieq("attacking", s + j, e - j) ||
				ieq("probing", s + j, e - j))) {
				*rule = "the attacking address";
				return EW_ROLE_SRC;
			}
			return rw->r;
		}
		if (!is_glue(s + j, e - j))
			counted++;
		if (counted > 4)
			break;
	}
	return EW_ROLE_UNKNOWN;
}

enum ew_role
ew_role_of(const char *s, size_t n, size_t lim, size_t ls,
    const struct ew_found *f, const char **rule)
{
	if (arrow_before(s, ls, f->start)) {
		*rule = "after an arrow (A -> B)";
		return EW_ROLE_DST;
	}
	if (arrow_after(s, n, f)) {
		*rule = "before an arrow (A -> B)";
		return EW_ROLE_SRC;
	}
	if (host_mask(s, ls, f->start)) {
		*rule = "a user@host mask (IRC: the connecting client)";
		return EW_ROLE_SRC;
	}
	if (f->start > ls && s[f->start - 1] == '@') {
		*rule = "a mail address's host";
		return EW_ROLE_NEITHER;
	}
	return words_before(s, lim, f->start, 0, rule);
}

/* ---- host names as destinations ---- */

static int
host_char(int c)
{
	return isalnum(c) || c == '-' || c == '.';
}

/* Is s[b..e) a host name (labels, an alphabetic top-level domain that is
 * no file extension)? */
static int
host_name(const char *s, size_t b, size_t e)
{
	static const char *const ext[] = { "txt", "log", "csv", "xml", "json",
		"zip", "gz", "eml", "html", "htm", "pdf", "png", "jpg", "exe",
		"php", "asp", "js", "sh", "py", "conf", "doc", "docx" };
	size_t k, dot = 0, tld;

	while (e > b && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (e - b < 4 || e - b > 253 || !isalnum((unsigned char)s[b]))
		return 0;
	for (k = b; k < e; k++)
		if (s[k] == '.')
			dot = k;
	if (dot == 0 || dot + 3 > e)
		return 0;
	for (tld = dot + 1; tld < e; tld++)
		if (!isalpha((unsigned char)s[tld]))
			return 0;
	for (k = 0; k < sizeof(ext) / sizeof(ext[0]); k++)
		if (ieq(ext[k], s + dot + 1, e - dot - 1))
			return 0;
	return 1;
}

/* The host name token ending just before s[i] (blanks between). */
static int
host_before(const char *s, size_t i, size_t *b, size_t *e)
{
	size_t j = i;

	while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
		j--;
	*e = j;
	while (j > 0 && host_char((unsigned char)s[j - 1]) && *e - j < 254)
		j--;
	*b = j;
	if (j > 0 && (s[j - 1] == '@' || s[j - 1] == '/'))
		return 0;
	return host_name(s, *b, *e);
}

static int
host_after(const char *s, size_t n, size_t i, size_t *b, size_t *e)
{
	size_t j = i;

	ew_tx_skip_sp(s, n, &j);
	*b = j;
	while (j < n && host_char((unsigned char)s[j]) && j - *b < 254)
		j++;
	*e = j;
	while (*e > *b && (s[*e - 1] == '.' || s[*e - 1] == '-'))
		(*e)--;
	if (j < n && (s[j] == '@' || s[j] == '/' || s[j] == ':'))
		return 0;
	return host_name(s, *b, *e);
}

int
ew_role_dst_host(const char *s, size_t n, char *out, size_t cap, size_t *pos,
    const char **rule)
{
	size_t i, b = 0, e = 0;

	for (i = 0; i < n; i++) {
		int got = 0;
		int c0 = tolower((unsigned char)s[i]);

		if ((c0 != 'r' && c0 != 'c') ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		if (ew_tx_at(s, n, i, "resolve")) {
			size_t j = i + 7;

			while (j < n && isalpha((unsigned char)s[j]))
				j++;
			ew_tx_skip_sp(s, n, &j);
			if (ew_tx_at(s, n, j, "to") &&
			    host_before(s, i, &b, &e)) {
				got = 1;
				*rule = "a host name that 'resolves to' the "
					"destinations";
			}
		} else if (ew_tx_at(s, n, i, "connect")) {
			size_t j = i + 7;

			while (j < n && isalpha((unsigned char)s[j]))
				j++;
			ew_tx_skip_sp(s, n, &j);
			if (ew_tx_at(s, n, j, "to ") &&
			    host_after(s, n, j + 3, &b, &e)) {
				got = 1;
				*rule = "connections to a host name";
			}
		}
		if (got && e - b < cap) {
			memcpy(out, s + b, e - b);
			out[e - b] = '\0';
			for (i = 0; out[i] != '\0'; i++)
				out[i] = (char)tolower((unsigned char)out[i]);
			*pos = b;
			return 1;
		}
	}
	return 0;
}

int
ew_role_host_at(const char *s, size_t n, size_t lim, size_t i, size_t *end,
    char *out, size_t cap, const char **rule)
{
	size_t e = i, k;

	if (!isalnum((unsigned char)s[i]) ||
	    (i > 0 &&
		(host_char((unsigned char)s[i - 1]) || s[i - 1] == '@' ||
		    s[i - 1] == '/' || s[i - 1] == '_' || s[i - 1] == ':')))
		return 0;
	while (e < n && host_char((unsigned char)s[e]) && e - i < 254)
		e++;
	*end = e;
	while (e > i && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (memchr(s + i, '.', e - i) == NULL ||
	    (*end < n &&
		(s[*end] == '@' || s[*end] == '/' ||
		    (s[*end] == ':' && *end + 1 < n && s[*end + 1] == '/'))) ||
	    !host_name(s, i, e) || e - i >= cap)
		return 0;
	if (words_before(s, lim, i, 1, rule) != EW_ROLE_DST)
		return 0;
	for (k = 0; k < e - i; k++)
		out[k] = (char)tolower((unsigned char)s[i + k]);
	out[e - i] = '\0';
	return 1;
}
