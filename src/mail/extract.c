/*
 * extract.c - field extraction from decoded text (no third-party code).
 *
 * Three readers over a struct ew_mail: ARF (the message/feedback-report
 * fields), X-ARF 0.1/0.2 (the YAML-ish "Key: value" report part) and
 * free text.  The free-text reader works line by line on a refanged copy
 * of each text part: it finds addresses (IPv4, IPv6, IPv4-mapped IPv6
 * turned into IPv4, CIDR netblocks, host:port), gives each a role from
 * the words before it ("from your netblock" = source, "to our servers"
 * = destination, "A -> B" tables), collects port lists from prose
 * ("ports 6660-7000, 8888, 8080"), and times on the same line.  Source
 * addresses the complaint is about become incidents.  Helpers for
 * refanging, ports, deadlines and categories are exported through
 * mail_int.h for the unit tests.
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

/* Case-insensitive: does `w` start at s[i] (within n)? */
static int
at(const char *s, size_t n, size_t i, const char *w)
{
	size_t k = strlen(w);

	return i + k <= n && strncasecmp(s + i, w, k) == 0;
}

/* `w` at s[i] with no letter or digit just before it. */
static int
word_at(const char *s, size_t n, size_t i, const char *w)
{
	return (i == 0 || !isalnum((unsigned char)s[i - 1])) && at(s, n, i, w);
}

/* Is there a word starting with `w` anywhere in s[0..n)? */
static int
has_word(const char *s, size_t n, const char *w)
{
	size_t i, k = strlen(w);
	int c0 = tolower((unsigned char)w[0]);

	for (i = 0; i + k <= n; i++)
		if (tolower((unsigned char)s[i]) == c0 && word_at(s, n, i, w))
			return 1;
	return 0;
}

void
ew_mail_refang(const char *s, size_t n, struct ew_buf *out)
{
	static const struct {
		const char *from;
		char to;
	} tab[] = { { "[.]", '.' }, { "(.)", '.' }, { "{.}", '.' },
		{ "[dot]", '.' }, { "(dot)", '.' }, { "[:]", ':' },
		{ "[@]", '@' }, { "[at]", '@' } };
	size_t i, k, run;

	for (i = 0; i < n;) {
		int done = 0;

		for (run = i; run < n && s[run] != '[' && s[run] != '(' &&
			      s[run] != '{' && s[run] != 'h' && s[run] != 'H';
		     run++)
			;
		if (run > i) {
			ew_buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (s[i] == '[' || s[i] == '(' || s[i] == '{') {
			for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
				if (at(s, n, i, tab[k].from)) {
					ew_buf_putc(out, tab[k].to);
					i += strlen(tab[k].from);
					done = 1;
					break;
				}
			}
		} else if ((s[i] == 'h' || s[i] == 'H') &&
			   at(s, n, i, "hxxp")) {
			ew_buf_add(out, s[i] == 'H' ? "HTTP" : "http", 4);
			i += 4;
			done = 1;
		}
		if (!done)
			ew_buf_putc(out, s[i++]);
	}
}

/* ---- addresses ---- */

struct found {
	struct ew_addr a;
	int plen;  /* -1: a single address */
	long port; /* -1: none */
	size_t start, end;
};

static int
addr_char(int c)
{
	return isxdigit(c) || c == '.' || c == ':';
}

/* IPv4-mapped IPv6 stands for the IPv4 address. */
static void
unmap(struct ew_addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (a->family == EW_AF_INET6 && memcmp(a->b, pfx, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = EW_AF_INET;
	}
}

static void
mask(struct ew_addr *a, int plen)
{
	unsigned bits = ew_addr_bits(a), k;

	for (k = (unsigned)plen; k < bits; k++)
		a->b[k / 8] &= (uint8_t) ~(0x80u >> (k % 8));
}

/*
 * After the address text of scan_addr (ending at j; k is the end of the
 * whole token): "]:port" for bracketed IPv6, "/len" for netblocks, then
 * normalisation.  1 when f holds an address worth reporting.
 */
static int
addr_tail(
    const char *s, size_t n, size_t j, size_t k, int bracket, struct found *f)
{
	if (bracket) {
		if (j >= n || s[j] != ']')
			return 0;
		j++;
		if (j + 1 < n && s[j] == ':' &&
		    isdigit((unsigned char)s[j + 1])) {
			uint64_t p;
			size_t q = ++j;

			while (j < n && isdigit((unsigned char)s[j]))
				j++;
			if (ew_parse_uint(s + q, j - q, 1, 65535, &p) < 0)
				return 0;
			f->port = (long)p;
		}
	} else if (f->port >= 0) {
		j = k;
	}
	if (j + 1 < n && s[j] == '/' && isdigit((unsigned char)s[j + 1]) &&
	    f->port < 0) {
		size_t q = ++j;
		uint64_t b;

		while (j < n && isdigit((unsigned char)s[j]) && j - q < 4)
			j++;
		if (ew_parse_uint(s + q, j - q, 0, ew_addr_bits(&f->a), &b) ==
		    0) {
			f->plen = (int)b;
		} else {
			j = q - 1;
		}
	}
	unmap(&f->a);
	if (f->plen >= 0 && f->a.family == EW_AF_INET &&
	    ew_addr_bits(&f->a) == 32 && f->plen > 32)
		f->plen = -1;
	if (f->plen >= 0)
		mask(&f->a, f->plen);
	if (ew_addr_is_null(&f->a) || ew_addr_is_multicast(&f->a) ||
	    (f->a.family == EW_AF_INET && ew_addr_get4(&f->a) == 0xffffffffu))
		return 0;
	f->end = j;
	return 1;
}

/*
 * An address starting at s[i] (nothing address-like just before it).
 * Returns 1 and fills f, or 0.
 */
static int
scan_addr(const char *s, size_t n, size_t i, struct found *f)
{
	char tok[64];
	size_t j = i, k, colons = 0, dots = 0, len;
	int bracket = 0;

	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.' ||
			 s[i - 1] == ':' || s[i - 1] == '-' || s[i - 1] == '_'))
		return 0;
	if (s[j] == '[') {
		bracket = 1;
		j++;
	}
	k = j;
	while (k < n && addr_char((unsigned char)s[k]) && k - j < 60) {
		colons += s[k] == ':';
		dots += s[k] == '.';
		k++;
	}
	if (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_'))
		return 0;
	len = k - j;
	/* sentence punctuation after an address */
	while (len > 0 && s[j + len - 1] == '.' && dots > 3) {
		len--;
		dots--;
	}
	if (len < 7 || len >= sizeof(tok))
		return 0;
	memset(f, 0, sizeof(*f));
	f->plen = -1;
	f->port = -1;
	f->start = i;
	memcpy(tok, s + j, len);
	tok[len] = '\0';
	if (colons == 1 && dots == 3) { /* a.b.c.d:port */
		char *c = strchr(tok, ':');
		uint64_t p;

		*c = '\0';
		if (ew_parse_uint(c + 1, strlen(c + 1), 1, 65535, &p) < 0)
			return 0;
		f->port = (long)p;
	} else if (colons == 1 && dots == 3 + 1 && tok[len - 1] == ':') {
		return 0;
	}
	if (colons == 0 && dots == 3) {
		if (!ew_addr_parse4(tok, f->a.b))
			return 0;
		f->a.family = EW_AF_INET;
	} else if (colons == 1 && f->port >= 0) {
		if (!ew_addr_parse4(tok, f->a.b))
			return 0;
		f->a.family = EW_AF_INET;
	} else if (colons >= 2) {
		/* a trailing lone ':' is punctuation ("addr: ...") */
		if (len > 2 && tok[len - 1] == ':' && tok[len - 2] != ':') {
			tok[--len] = '\0';
			k--;
		}
		if (!ew_addr_parse6(tok, f->a.b))
			return 0;
		f->a.family = EW_AF_INET6;
	} else {
		return 0;
	}
	return addr_tail(s, n, j + len, k, bracket, f);
}

static void
addr_text(const struct ew_addr *a, int plen, char *out, size_t cap)
{
	size_t k = ew_addr_format(a, 0, out, cap);

	if (plen >= 0 && k < cap)
		snprintf(out + k, cap - k, "/%d", plen);
}

/* ---- ports ---- */

/* Port lists stop growing at this many bytes (about 64 items). */
#define EW_MAIL_MAX_PORTS_LEN 512

/* Is the word before s[i] an address ("1.2.3.4 port 53902": its port)
 * or "source"/"src"/"local" (a source port)? */
static int
port_belongs_elsewhere(const char *s, size_t i)
{
	size_t e = i, b;
	char tok[64];
	struct ew_addr a;

	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	b = e;
	while (b > 0 && !isspace((unsigned char)s[b - 1]) && e - b < 60)
		b--;
	if (e == b || e - b >= sizeof(tok))
		return 0;
	memcpy(tok, s + b, e - b);
	tok[e - b] = '\0';
	if (strcasecmp(tok, "source") == 0 || strcasecmp(tok, "src") == 0 ||
	    strcasecmp(tok, "local") == 0 || strcasecmp(tok, "client") == 0)
		return 1;
	if (tok[e - b - 1] == ',' || tok[e - b - 1] == ')')
		tok[e - b - 1] = '\0';
	return ew_addr_parse(tok, &a) || strchr(tok, ':') != NULL;
}

static void
port_add(struct ew_buf *out, long lo, long hi, size_t *added)
{
	char item[16], *hay;
	const char *cur = ew_buf_str(out);
	size_t il;

	if (lo == hi)
		snprintf(item, sizeof(item), "%ld", lo);
	else
		snprintf(item, sizeof(item), "%ld-%ld", lo, hi);
	if (out->len >= EW_MAIL_MAX_PORTS_LEN)
		return; /* a longer list is not a port list we can act on */
	il = strlen(item);
	for (hay = strstr(cur, item); hay != NULL; hay = strstr(hay + 1, item))
		if ((hay == cur || hay[-1] == ',') &&
		    (hay[il] == '\0' || hay[il] == ','))
			return;
	if (out->len > 0)
		ew_buf_putc(out, ',');
	ew_buf_puts(out, item);
	(*added)++;
}

static long
num_at(const char *s, size_t n, size_t *j)
{
	size_t q = *j;
	uint64_t v;

	while (*j < n && isdigit((unsigned char)s[*j]) && *j - q < 6)
		(*j)++;
	if (*j == q || ew_parse_uint(s + q, *j - q, 1, 65535, &v) < 0)
		return -1;
	if (*j < n && isalnum((unsigned char)s[*j]))
		return -1;
	return (long)v;
}

static void
skip_sp(const char *s, size_t n, size_t *j)
{
	while (*j < n && (s[*j] == ' ' || s[*j] == '\t'))
		(*j)++;
}

static void
skip_proto(const char *s, size_t n, size_t *j)
{
	if (at(s, n, *j, "/tcp") || at(s, n, *j, "/udp"))
		*j += 4;
}

/* One list after "port(s)"; returns items added. */
static size_t
port_list(const char *s, size_t n, size_t j, struct ew_buf *out)
{
	size_t added = 0;

	for (;;) {
		long lo, hi;
		size_t save;

		skip_sp(s, n, &j);
		if (j >= n || !isdigit((unsigned char)s[j]))
			break;
		lo = num_at(s, n, &j);
		if (lo < 0)
			break;
		hi = lo;
		save = j;
		skip_sp(s, n, &j);
		if (j < n && s[j] == '-') {
			j++;
			skip_sp(s, n, &j);
			hi = num_at(s, n, &j);
			if (hi < lo) {
				hi = lo;
				j = save;
			}
		} else {
			j = save;
		}
		skip_proto(s, n, &j);
		port_add(out, lo, hi, &added);
		skip_sp(s, n, &j);
		if (j < n && (s[j] == ',' || s[j] == ';' || s[j] == '/' ||
				 s[j] == '&')) {
			j++;
			skip_sp(s, n, &j);
		}
		if (word_at(s, n, j, "and ") || word_at(s, n, j, "or "))
			j += s[j] == 'a' || s[j] == 'A' ? 4 : 3;
	}
	return added;
}

size_t
ew_mail_ports(const char *s, size_t n, struct ew_buf *out)
{
	size_t i, j, added = 0;

	for (i = 0; i + 4 < n; i++) {
		if ((s[i] != 'p' && s[i] != 'P') || !word_at(s, n, i, "port"))
			continue;
		if (port_belongs_elsewhere(s, i))
			continue;
		j = i + 4;
		if (at(s, n, j, "(s)"))
			j += 3;
		else if (j < n && (s[j] == 's' || s[j] == 'S'))
			j++;
		if (j < n && isalpha((unsigned char)s[j]))
			continue;
		while (j < n && (s[j] == ' ' || s[j] == ':' || s[j] == '=' ||
				    s[j] == '#' || s[j] == '\t'))
			j++;
		if (at(s, n, j, "number"))
			j += at(s, n, j, "numbers") ? 7 : 6;
		added += port_list(s, n, j, out);
	}
	/* "6667/tcp" outside a "port" phrase */
	for (i = 0; i < n; i++) {
		long p;

		if (!isdigit((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		j = i;
		while (j < n && isdigit((unsigned char)s[j]) && j - i < 6)
			j++;
		if (!(at(s, n, j, "/tcp") || at(s, n, j, "/udp")))
			continue;
		j = i;
		p = num_at(s, n, &j);
		if (p > 0)
			port_add(out, p, p, &added);
	}
	return added;
}

/* ---- deadlines ---- */

static const char *const dl_words[] = { "disconnect", "suspend", "terminat",
	"null", "block", "shut", "deadline", "respond", "response", "reply",
	"resolve", "action", "otherwise", "lock", "disable", "cancel", "remove",
	"stop", "fix", "take", "answer", "cease", "acknowledg" };

static int
near_deadline_word(const char *s, size_t n, size_t i)
{
	size_t b = i > 200 ? i - 200 : 0, e = i + 120 < n ? i + 120 : n, k;

	for (k = 0; k < sizeof(dl_words) / sizeof(dl_words[0]); k++)
		if (has_word(s + b, e - b, dl_words[k]))
			return 1;
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

		if (at(s, n, *j, words[k].w) &&
		    (*j + l >= n || !isalpha((unsigned char)s[*j + l]))) {
			*j += l;
			return words[k].v;
		}
	}
	return -1;
}

/* "N hours" at s[j]: seconds, or -1. */
static int64_t
span_at(const char *s, size_t n, size_t j)
{
	long v;

	skip_sp(s, n, &j);
	if (at(s, n, j, "the next "))
		j += 9;
	else if (at(s, n, j, "next "))
		j += 5;
	v = count_at(s, n, &j);
	if (v <= 0)
		return -1;
	skip_sp(s, n, &j);
	if (j < n && (s[j] == '(' || s[j] == '-')) { /* "(24)" or "24-hour" */
		while (j < n && s[j] != ' ' && s[j] != ')')
			j++;
		if (j < n && s[j] == ')')
			j++;
		skip_sp(s, n, &j);
	}
	if (at(s, n, j, "business day") || at(s, n, j, "working day") ||
	    at(s, n, j, "day"))
		return (int64_t)v * 86400;
	if (at(s, n, j, "hour") || at(s, n, j, "hrs") || at(s, n, j, "hr ") ||
	    (at(s, n, j, "h") &&
		(j + 1 >= n || !isalpha((unsigned char)s[j + 1]))))
		return (int64_t)v * 3600;
	if (at(s, n, j, "minute") || at(s, n, j, "min"))
		return (int64_t)v * 60;
	if (at(s, n, j, "week"))
		return (int64_t)v * 7 * 86400;
	return -1;
}

int
ew_mail_deadline(
    const char *s, size_t n, int64_t base, int has_base, int64_t *out)
{
	static const char *const abs_words[] = { "deadline", "by ", "before ",
		"until ", "no later than " };
	size_t i, k, checks = 0;
	int found = 0;

	for (i = 0; i < n; i++) {
		int64_t span = -1, t = 0;
		int got = 0;

		if (!isalpha((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		if (has_base && word_at(s, n, i, "within ")) {
			span = span_at(s, n, i + 7);
		} else if (has_base && (word_at(s, n, i, "in ") ||
					   word_at(s, n, i, "next "))) {
			span = span_at(
			    s, n, i + (s[i] == 'n' || s[i] == 'N' ? 0 : 3));
			/* bounded work on hostile text: deadlines are stated
			 * once or twice, not thousands of times */
			if (span >= 0 &&
			    (++checks > 256 || !near_deadline_word(s, n, i)))
				span = -1;
		}
		if (span > 0) {
			t = base + span;
			got = 1;
		}
		for (k = 0;
		     !got && k < sizeof(abs_words) / sizeof(abs_words[0]);
		     k++) {
			size_t j;
			struct ew_mtime m;

			if (!word_at(s, n, i, abs_words[k]))
				continue;
			j = i + strlen(abs_words[k]);
			while (j < n &&
			       (s[j] == ':' || s[j] == ' ' || s[j] == '\t'))
				j++;
			if (at(s, n, j, "is "))
				j += 3;
			if (ew_mail_time_at(s + j, n - j, &m) > 0) {
				t = m.t;
				got = 1;
			}
		}
		if (got && (!found || t < *out)) {
			*out = t;
			found = 1;
		}
	}
	return found;
}

/* ---- ticket numbers ---- */

char *
ew_mail_ticket(const char *s, size_t n)
{
	static const char *const kw[] = { "ticket", "case", "csirt", "incident",
		"issue", "ref" };
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
			size_t j = i + strlen(kw[k]), b, e;
			int digit = 0;

			if (!word_at(s, n, i, kw[k]))
				continue;
			if (j < n && (s[j] == 's' || s[j] == 'S'))
				continue; /* "tickets", "cases" */
			while (j < n && (s[j] == '#' || s[j] == ':' ||
					    s[j] == ' ' || s[j] == '-'))
				j++;
			if (at(s, n, j, "id") || at(s, n, j, "no."))
				j += s[j] == 'i' || s[j] == 'I' ? 2 : 3;
			while (j < n && (s[j] == '#' || s[j] == ':' ||
					    s[j] == ' ' || s[j] == '.'))
				j++;
			b = e = j;
			while (e < n && e - b < 64 &&
			       (isalnum((unsigned char)s[e]) || s[e] == '-' ||
				   s[e] == '_' || s[e] == '.' || s[e] == '/'))
				digit |= isdigit((unsigned char)s[e++]);
			while (e > b && (s[e - 1] == '.' || s[e - 1] == '-'))
				e--;
			if (digit && e - b >= 3)
				return ew_strndup(s + b, e - b);
		}
	}
	return NULL;
}

/* ---- categories ---- */

const char *
ew_mail_category(const char *s, size_t n)
{
	static const struct {
		const char *w, *cat;
	} tab[] = { { "irc", "irc" }, { "k-line", "irc" }, { "kline", "irc" },
		{ "ddos", "ddos" }, { "denial of service", "ddos" },
		{ "denial-of-service", "ddos" }, { "flood", "ddos" },
		{ "copyright", "copyright" }, { "dmca", "copyright" },
		{ "infringement", "copyright" }, { "bittorrent", "copyright" },
		{ "phishing", "phishing" }, { "brute force", "login-attack" },
		{ "brute-force", "login-attack" },
		{ "bruteforce", "login-attack" },
		{ "login attack", "login-attack" },
		{ "login-attack", "login-attack" },
		{ "failed password", "login-attack" },
		{ "failed login", "login-attack" },
		{ "authentication failure", "login-attack" },
		{ "malware", "malware" }, { "botnet", "malware" },
		{ "infected", "malware" }, { "trojan", "malware" },
		{ "drone", "malware" }, { "c&c", "malware" },
		{ "port scan", "scan" }, { "portscan", "scan" },
		{ "port-scan", "scan" }, { "scanning", "scan" },
		{ "scan", "scan" }, { "spam", "spam" },
		{ "unsolicited", "spam" }, { "sql injection", "exploit" },
		{ "exploit", "exploit" }, { "hack", "exploit" },
		{ "regbot", "spam" }, { "fraud", "fraud" } };
	size_t k;

	if (n > 65536)
		n = 65536;
	for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++)
		if (has_word(s, n, tab[k].w))
			return tab[k].cat;
	return NULL;
}

/* ---- header-like fields ("Name: value" lines) ---- */

/*
 * The value of the first "name:" line in s, trimmed (and unquoted), in
 * out (cap bytes).  1 when found.
 */
static int
field(const char *s, size_t n, const char *name, char *out, size_t cap)
{
	size_t i, k = strlen(name);

	for (i = 0; i + k < n; i++) {
		size_t b, e;

		if ((i != 0 && s[i - 1] != '\n') || !at(s, n, i, name) ||
		    s[i + k] != ':')
			continue;
		b = i + k + 1;
		while (b < n && (s[b] == ' ' || s[b] == '\t'))
			b++;
		e = b;
		while (e < n && s[e] != '\n' && s[e] != '\r')
			e++;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e - b >= 2 && (s[b] == '"' || s[b] == '\'') &&
		    s[e - 1] == s[b]) {
			b++;
			e--;
		}
		if (e - b >= cap)
			e = b + cap - 1;
		memcpy(out, s + b, e - b);
		out[e - b] = '\0';
		return 1;
	}
	return 0;
}

/* The first address in a field value ("1.2.3.4 (comment)", defanged). */
static int
value_addr(const char *v, struct ew_addr *a, int *plen)
{
	struct ew_buf b = EW_BUF_INIT;
	struct found f;
	const char *s;
	size_t i, n;
	int ok = 0;

	ew_mail_refang(v, strlen(v), &b);
	s = ew_buf_str(&b);
	n = b.len;
	for (i = 0; i < n && !ok; i++)
		if (addr_char((unsigned char)s[i]) || s[i] == '[')
			ok = scan_addr(s, n, i, &f);
	ew_buf_free(&b);
	if (ok) {
		*a = f.a;
		if (plen != NULL)
			*plen = f.plen;
	}
	return ok;
}

static int64_t
msg_date(const struct ew_mail *m, size_t msg, int *has, int *off)
{
	struct ew_mtime t;
	size_t k = msg;

	for (;;) {
		if (k < m->nmsgs && m->msgs[k].date != NULL &&
		    ew_mail_time_parse(
			m->msgs[k].date, strlen(m->msgs[k].date), &t) == 0) {
			*has = 1;
			if (off != NULL)
				*off = t.zs == EW_ZONE_ASSUMED ? 0 : t.off;
			return t.t;
		}
		if (k == 0)
			break;
		k = 0;
	}
	*has = 0;
	if (off != NULL)
		*off = 0;
	return 0;
}

static void
no_time(struct ew_mtime *tm, int64_t date, int has_date)
{
	memset(tm, 0, sizeof(*tm));
	tm->zs = EW_ZONE_NONE;
	tm->to = date;
	tm->has_to = has_date;
}

static char *
dup_ports(const char *p)
{
	return p != NULL && *p != '\0' ? ew_strndup(p, strlen(p)) : NULL;
}

/* ---- ARF ---- */

static const char *
arf_block(const struct ew_mail *m, size_t *len, size_t *msg)
{
	size_t k;

	for (k = 0; k < m->nparts; k++)
		if (strcmp(m->parts[k].ctype, "message/feedback-report") == 0) {
			*len = m->parts[k].len;
			*msg = m->parts[k].msg;
			return m->parts[k].data;
		}
	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		char v[8];

		if (strncmp(p->ctype, "text/", 5) == 0 &&
		    field(p->data, p->len, "Feedback-Type", v, sizeof(v)) &&
		    field(p->data, p->len, "Source-IP", v, sizeof(v))) {
			*len = p->len;
			*msg = p->msg;
			return p->data;
		}
	}
	return NULL;
}

/* The address in the first "Received: from ... [a.b.c.d]" of headers. */
static int
received_addr(const char *h, struct ew_addr *a)
{
	const char *r = h;

	while ((r = strstr(r, "Received:")) != NULL) {
		const char *e = strstr(r, ";"), *lb = strchr(r, '[');

		if (lb != NULL && (e == NULL || lb < e)) {
			const char *rb = strchr(lb, ']');
			char tok[64];

			if (rb != NULL && (size_t)(rb - lb - 1) < sizeof(tok)) {
				memcpy(tok, lb + 1, (size_t)(rb - lb - 1));
				tok[rb - lb - 1] = '\0';
				if (strncasecmp(tok, "ipv6:", 5) == 0)
					memmove(tok, tok + 5, strlen(tok) - 4);
				if (ew_addr_parse(tok, a)) {
					unmap(a);
					return 1;
				}
			}
		}
		r += 9;
	}
	return 0;
}

int
ew_extract_arf(struct ew_complaint *c, const struct ew_mail *m)
{
	struct ew_incident in;
	size_t len = 0, msg = 0, k;
	const char *blk = arf_block(m, &len, &msg);
	char v[256];
	struct ew_addr a;
	int has_date, ok = 0;
	int64_t date = msg_date(m, 0, &has_date, NULL);

	if (blk == NULL)
		return 0;
	memset(&in, 0, sizeof(in));
	in.src_port = -1;
	if (field(blk, len, "Source-IP", v, sizeof(v)) &&
	    value_addr(v, &a, NULL)) {
		ok = 1;
	} else {
		for (k = 1; k < m->nmsgs && !ok; k++)
			if (m->msgs[k].headers != NULL)
				ok = received_addr(m->msgs[k].headers, &a);
		for (k = 0; k < m->nparts && !ok; k++)
			if (strcmp(m->parts[k].ctype, "text/rfc822-headers") ==
			    0)
				ok = received_addr(m->parts[k].data, &a);
	}
	if (field(blk, len, "Source-Port", v, sizeof(v))) {
		uint64_t p;

		if (ew_parse_uint(v, strlen(v), 1, 65535, &p) == 0)
			in.src_port = (long)p;
	}
	if (!((field(blk, len, "Arrival-Date", v, sizeof(v)) ||
		  field(blk, len, "Received-Date", v, sizeof(v))) &&
		ew_mail_time_parse(v, strlen(v), &in.tm) == 0))
		no_time(&in.tm, date, has_date);
	c->format = "arf";
	c->confidence = ok ? "high" : "low";
	c->category = "spam";
	if (field(blk, len, "Feedback-Type", v, sizeof(v))) {
		if (strcasecmp(v, "virus") == 0)
			c->category = "malware";
		else if (strcasecmp(v, "fraud") == 0)
			c->category = "phishing";
	}
	if (!ok)
		return 1;
	addr_text(&a, -1, in.src, sizeof(in.src));
	in.ports = dup_ports("25");
	return ew_complaint_add(c, &in) < 0 ? -1 : 1;
}

/* ---- X-ARF 0.1 / 0.2 ---- */

int
ew_extract_xarf_yaml(struct ew_complaint *c, const struct ew_mail *m)
{
	size_t k;

	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		struct ew_incident in;
		char v[256], st[64], port[32];
		struct ew_addr a;
		int has_date, plen = -1;
		int64_t date;
		const char *cat;

		if (strncmp(p->ctype, "text/", 5) != 0 ||
		    !field(p->data, p->len, "Source", v, sizeof(v)) ||
		    !(field(p->data, p->len, "Report-Type", st, sizeof(st)) ||
			field(
			    p->data, p->len, "Reported-From", st, sizeof(st)) ||
			field(p->data, p->len, "Schema-URL", st, sizeof(st))))
			continue;
		c->format = "x-arf";
		c->confidence = "high";
		cat = NULL;
		if (field(p->data, p->len, "Report-Type", st, sizeof(st)))
			cat = ew_mail_category(st, strlen(st));
		if (cat == NULL &&
		    field(p->data, p->len, "Service", st, sizeof(st)))
			cat = ew_mail_category(st, strlen(st));
		if (cat == NULL &&
		    field(p->data, p->len, "Category", st, sizeof(st)))
			cat = ew_mail_category(st, strlen(st));
		c->category = cat != NULL ? cat : "other";
		if (field(p->data, p->len, "Reported-From", st, sizeof(st)) &&
		    strchr(st, '@') != NULL) {
			free(c->reporter);
			c->reporter = ew_strndup(st, strlen(st));
		}
		if (field(p->data, p->len, "Source-Type", st, sizeof(st)) &&
		    strncasecmp(st, "ip", 2) != 0)
			return 1; /* a URI or domain: no address */
		if (!value_addr(v, &a, &plen))
			return 1;
		memset(&in, 0, sizeof(in));
		in.src_port = -1;
		addr_text(&a, plen, in.src, sizeof(in.src));
		if (field(p->data, p->len, "Destination", st, sizeof(st)) &&
		    value_addr(st, &a, &plen))
			addr_text(&a, plen, in.dst, sizeof(in.dst));
		if (field(p->data, p->len, "Port", port, sizeof(port))) {
			struct ew_buf pb = EW_BUF_INIT;
			char line[48];

			snprintf(line, sizeof(line), "port %s", port);
			ew_mail_ports(line, strlen(line), &pb);
			in.ports = dup_ports(ew_buf_str(&pb));
			ew_buf_free(&pb);
		}
		date = msg_date(m, p->msg, &has_date, NULL);
		if (!(field(p->data, p->len, "Date", v, sizeof(v)) &&
			ew_mail_time_parse(v, strlen(v), &in.tm) == 0))
			no_time(&in.tm, date, has_date);
		return ew_complaint_add(c, &in) < 0 ? -1 : 1;
	}
	return 0;
}

/* ---- free text ---- */

enum role { ROLE_UNKNOWN, ROLE_SRC, ROLE_DST, ROLE_USED };

struct mention {
	struct found f;
	enum role role;
	size_t line; /* global line number */
	struct ew_mtime tm;
	int has_tm;
};

struct text_state {
	struct mention *v;
	size_t n, cap;
	struct ew_buf ports; /* ports named in prose, all parts */
	int overflow;        /* 1 out of memory, 2 over EW_MAIL_MAX_INCIDENTS */
	struct ew_mtime gt;  /* the one event time of the text, if one */
	int ntimes;          /* 0, 1 (gt is it), 2 (several) */
	int gtpri;           /* how surely gt is an event time */
};

/*
 * How surely a time on this line is the event's: 2 when the line says
 * so ("Timestamp:", "first seen", "attack"), 0 for report dates, 1
 * otherwise.
 */
static int
time_priority(const char *s, size_t n)
{
	static const char *const ev[] = { "timestamp", "first seen",
		"last seen", "time of", "event", "incident", "attack",
		"infringement", "occurred", "detected" };
	static const char *const rep[] = { "notice date", "report date",
		"reported on", "sent", "generated" };
	size_t k;

	if (n > 200)
		n = 200;
	for (k = 0; k < sizeof(rep) / sizeof(rep[0]); k++)
		if (has_word(s, n, rep[k]))
			return 0;
	for (k = 0; k < sizeof(ev) / sizeof(ev[0]); k++)
		if (has_word(s, n, ev[k]))
			return 2;
	return 1;
}

/* The role the words just before s[i] (same line) give an address. */
static enum role
role_before(const char *s, size_t ls, size_t i)
{
	static const struct {
		const char *w;
		enum role r;
		int whole; /* a whole word, not a prefix */
	} tab[] = { { "from", ROLE_SRC, 1 }, { "source", ROLE_SRC, 0 },
		{ "src", ROLE_SRC, 1 }, { "your", ROLE_SRC, 1 },
		{ "attack", ROLE_SRC, 0 }, { "offend", ROLE_SRC, 0 },
		{ "origin", ROLE_SRC, 0 }, { "about", ROLE_SRC, 1 },
		{ "abusive", ROLE_SRC, 1 }, { "ip:", ROLE_SRC, 0 },
		{ "ip address", ROLE_SRC, 0 }, { "concerning", ROLE_SRC, 1 },
		{ "regarding", ROLE_SRC, 1 }, { "to", ROLE_DST, 1 },
		{ "dest", ROLE_DST, 0 }, { "dst", ROLE_DST, 1 },
		{ "target", ROLE_DST, 0 }, { "victim", ROLE_DST, 0 },
		{ "our", ROLE_DST, 1 }, { "toward", ROLE_DST, 0 },
		{ "against", ROLE_DST, 1 }, { "honeypot", ROLE_DST, 0 },
		{ "sinkhole", ROLE_DST, 0 } };
	size_t b = i > ls + 80 ? i - 80 : ls, k, j;

	for (j = i; j-- > b;) {
		int c0 = tolower((unsigned char)s[j]);

		if (j + 1 < i && s[j] == '-' && s[j + 1] == '>')
			return ROLE_DST;
		if (s[j] == '>' && j > b && s[j - 1] == '=')
			return ROLE_DST;
		if (!isalpha(c0) || (j > 0 && isalnum((unsigned char)s[j - 1])))
			continue;
		for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
			size_t e = j + strlen(tab[k].w);

			if (tab[k].w[0] == c0 && word_at(s, i, j, tab[k].w) &&
			    (!tab[k].whole || e >= i ||
				!isalpha((unsigned char)s[e])))
				return tab[k].r;
		}
	}
	return ROLE_UNKNOWN;
}

/* Lines that are WHOIS records or mail headers quoted in the body. */
static int
skip_line(const char *s, size_t n)
{
	static const char *const pfx[] = { "inetnum:", "inet6num:", "route:",
		"route6:", "netrange:", "cidr:", "received:", "nserver:",
		"x-originating", "message-id:", "references:", "in-reply-to:" };
	size_t k;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '>')) {
		s++;
		n--;
	}
	for (k = 0; k < sizeof(pfx) / sizeof(pfx[0]); k++)
		if (at(s, n, 0, pfx[k]))
			return 1;
	return 0;
}

/* A time of an event on this line, not a quoted Date: header. */
static int
line_time(const char *s, size_t n, struct ew_mtime *tm)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '>'))
		i++;
	if (at(s, n, i, "date:") || at(s, n, i, "sent:"))
		return 0;
	if (n > 512)
		n = 512; /* times lead their lines */
	for (; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		if (ew_mail_time_at(s + i, n - i, tm) > 0)
			return 1;
	}
	return 0;
}

static void
mention_add(struct text_state *st, const struct mention *m)
{
	if (st->n == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 64;
		struct mention *nv;

		if (st->n >= EW_MAIL_MAX_INCIDENTS) {
			st->overflow = 2; /* the limit, not memory */
			return;
		}
		nv = realloc(st->v, nc * sizeof(*nv));
		if (nv == NULL) {
			st->overflow = 1;
			return;
		}
		st->v = nv;
		st->cap = nc;
	}
	st->v[st->n++] = *m;
}

static void
scan_line(struct text_state *st, const char *s, size_t ls, size_t le,
    size_t line, int off)
{
	struct mention m;
	struct ew_mtime tm;
	int has_tm;
	size_t i;

	if (skip_line(s + ls, le - ls))
		return;
	has_tm = line_time(s + ls, le - ls, &tm);
	if (has_tm && tm.zs == EW_ZONE_ASSUMED)
		tm.t -= (int64_t)off * 60;
	if (has_tm) {
		int pri = time_priority(s + ls, le - ls);

		if (pri > st->gtpri || st->ntimes == 0) {
			st->gt = tm;
			st->gtpri = pri;
			st->ntimes = 1;
		} else if (pri == st->gtpri && st->gt.t != tm.t) {
			st->ntimes = 2;
		}
	}
	ew_mail_ports(s + ls, le - ls, &st->ports);
	for (i = ls; i < le; i++) {
		if (!(addr_char((unsigned char)s[i]) || s[i] == '['))
			continue;
		memset(&m, 0, sizeof(m));
		if (!scan_addr(s, le, i, &m.f))
			continue;
		m.role = role_before(s, ls, i);
		m.line = line;
		m.tm = tm;
		m.has_tm = has_tm;
		/* "1.2.3.4 port 53902": the address's own port */
		if (m.f.port < 0) {
			size_t j = m.f.end;

			skip_sp(s, le, &j);
			if (word_at(s, le, j, "port ")) {
				long p;

				j += 5;
				skip_sp(s, le, &j);
				p = num_at(s, le, &j);
				if (p > 0)
					m.f.port = p;
			}
		}
		mention_add(st, &m);
		i = m.f.end > i ? m.f.end - 1 : i;
	}
}

/* Strip HTML tags into out (crudely: text outside <...>). */
static void
strip_html(const char *s, size_t n, struct ew_buf *out)
{
	size_t i;
	int in_tag = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '<') {
			in_tag = 1;
			if (at(s, n, i, "<br") || at(s, n, i, "<p") ||
			    at(s, n, i, "<tr") || at(s, n, i, "<div"))
				ew_buf_putc(out, '\n');
		} else if (s[i] == '>' && in_tag) {
			in_tag = 0;
		} else if (!in_tag) {
			ew_buf_putc(out, s[i]);
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

/* An inline forward's original sender ("From: Name <a@b>"), or NULL. */
static char *
inline_forwarder(const char *s, size_t n)
{
	static const char *const marks[] = { "forwarded message",
		"original message", "begin forwarded message" };
	size_t i, k;

	for (i = 0; i < n; i++) {
		int c0 = tolower((unsigned char)s[i]);

		if (c0 != 'f' && c0 != 'o' && c0 != 'b')
			continue;
		for (k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
			size_t j, b, e;

			if (marks[k][0] != c0 || !at(s, n, i, marks[k]))
				continue;
			for (j = i; j + 5 < n && j < i + 2000; j++) {
				if ((s[j - 1] != '\n') || !at(s, n, j, "from:"))
					continue;
				b = j + 5;
				e = b;
				while (e < n && s[e] != '\n')
					e++;
				while (b < e && s[b] != '@')
					b++;
				if (b == e)
					return NULL;
				e = b;
				while (b > j + 5 &&
				       !isspace((unsigned char)s[b - 1]) &&
				       s[b - 1] != '<')
					b--;
				while (e < n && !isspace((unsigned char)s[e]) &&
				       s[e] != '>')
					e++;
				return ew_strndup(s + b, e - b);
			}
		}
	}
	return NULL;
}

static int
contains(const struct mention *net, const struct mention *a)
{
	return net->f.plen >= 0 && a->f.plen < 0 &&
	       ew_addr_prefix_eq(&net->f.a, &a->f.a, (unsigned)net->f.plen);
}

static int
emit(struct ew_complaint *c, const struct text_state *st,
    const struct mention *s, const struct mention *d, const char *ports,
    int64_t date, int has_date)
{
	struct ew_incident in;

	if (d != NULL && d->f.plen == s->f.plen &&
	    memcmp(&d->f.a, &s->f.a, sizeof(d->f.a)) == 0)
		d = NULL; /* the same address twice is no connection */
	memset(&in, 0, sizeof(in));
	addr_text(&s->f.a, s->f.plen, in.src, sizeof(in.src));
	in.src_port = s->role == ROLE_DST ? -1 : s->f.port;
	if (d != NULL) {
		char p[24]; /* a long, in decimal */

		addr_text(&d->f.a, d->f.plen, in.dst, sizeof(in.dst));
		if (d->f.port > 0) {
			snprintf(p, sizeof(p), "%ld", d->f.port);
			ports = p;
		}
		in.ports = dup_ports(ports);
	} else {
		in.ports = dup_ports(ports);
	}
	if (s->has_tm)
		in.tm = s->tm;
	else if (d != NULL && d->has_tm)
		in.tm = d->tm;
	else if (st->ntimes == 1)
		in.tm = st->gt;
	else
		no_time(&in.tm, date, has_date);
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

static int
build(struct ew_complaint *c, struct text_state *st, int64_t date, int has_date)
{
	size_t i, j, nets = 0;
	const struct mention *dst0 = NULL;
	const char *ports = ew_buf_str(&st->ports);
	int rows = 0;

	for (i = 0; i < st->n; i++)
		nets += st->v[i].f.plen >= 0;
	/* an address also named as a source is ours, not a destination */
	for (i = 0; i < st->n && st->n <= 10000; i++) {
		if (st->v[i].role != ROLE_DST)
			continue;
		for (j = 0; j < st->n; j++)
			if (st->v[j].role != ROLE_DST &&
			    st->v[j].f.plen == st->v[i].f.plen &&
			    memcmp(&st->v[j].f.a, &st->v[i].f.a,
				sizeof(st->v[i].f.a)) == 0) {
				st->v[i].role = ROLE_SRC;
				break;
			}
	}
	/* tables: a line with a source and a destination */
	for (i = 0; i < st->n; i++) {
		struct mention *s = &st->v[i];

		if (s->role == ROLE_DST)
			continue;
		for (j = i + 1; j < st->n && st->v[j].line == s->line; j++) {
			if (st->v[j].role != ROLE_DST)
				continue;
			if (emit(c, st, s, &st->v[j], ports, date, has_date) <
			    0)
				return -1;
			s->role = ROLE_USED;
			rows = 1;
		}
	}
	for (i = 0; i < st->n; i++)
		if (st->v[i].role == ROLE_DST) {
			dst0 = &st->v[i];
			break;
		}
	for (i = 0; i < st->n; i++) {
		const struct mention *s = &st->v[i];
		int covered = 0;

		if (s->role == ROLE_DST || s->role == ROLE_USED)
			continue;
		/* the source of a row, named again elsewhere (the subject,
		 * the forwarder's text): the row says it all */
		for (j = 0; rows && j < st->n && !covered && st->n <= 10000;
		     j++)
			covered =
			    st->v[j].role == ROLE_USED &&
			    st->v[j].f.plen == s->f.plen &&
			    memcmp(&st->v[j].f.a, &s->f.a, sizeof(s->f.a)) == 0;
		if (covered)
			continue;
		if (s->f.plen >= 0 && nets < 64) {
			for (j = 0; j < st->n && !covered; j++)
				covered = st->v[j].role != ROLE_DST &&
					  contains(s, &st->v[j]);
			if (covered)
				continue;
		}
		if (emit(c, st, s, rows ? NULL : dst0, ports, date, has_date) <
		    0)
			return -1;
	}
	/* only destinations named: the complaint is about traffic to them */
	if (c->ninc == 0 && dst0 != NULL) {
		struct ew_incident in;

		memset(&in, 0, sizeof(in));
		in.src_port = -1;
		addr_text(&dst0->f.a, dst0->f.plen, in.dst, sizeof(in.dst));
		in.ports = dup_ports(ports);
		if (dst0->has_tm)
			in.tm = dst0->tm;
		else
			no_time(&in.tm, date, has_date);
		if (ew_complaint_add(c, &in) < 0)
			return -1;
	}
	return 0;
}

int
ew_extract_text(struct ew_complaint *c, const struct ew_mail *m)
{
	struct text_state st;
	struct ew_buf b = EW_BUF_INIT, h = EW_BUF_INIT;
	size_t k, line = 0;
	int has_date, off, rc = 0;
	int64_t date = msg_date(m, 0, &has_date, &off);

	/* events precede the earliest report in a forwarding chain */
	for (k = 1; k < m->nmsgs; k++) {
		int ht;
		int64_t t = msg_date(m, k, &ht, NULL);

		if (ht && (!has_date || t < date)) {
			date = t;
			has_date = 1;
		}
	}
	memset(&st, 0, sizeof(st));
	ew_buf_init(&st.ports);
	/* the subjects name the source often ("abuse report about X") */
	for (k = 0; k < m->nmsgs; k++) {
		if (m->msgs[k].subject == NULL)
			continue;
		ew_buf_reset(&b);
		ew_mail_refang(
		    m->msgs[k].subject, strlen(m->msgs[k].subject), &b);
		scan_line(&st, ew_buf_str(&b), 0, b.len, line++, off);
	}
	for (k = 0; k < m->nparts && !st.overflow; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		const char *s;
		size_t ls, le, n;
		int mhas, moff;

		if (!is_text_part(m, k))
			continue;
		(void)msg_date(m, p->msg, &mhas, &moff);
		ew_buf_reset(&b);
		ew_buf_reset(&h);
		if (strcmp(p->ctype, "text/html") == 0) {
			strip_html(p->data, p->len, &h);
			ew_mail_refang(ew_buf_str(&h), h.len, &b);
		} else {
			ew_mail_refang(p->data, p->len, &b);
		}
		s = ew_buf_str(&b);
		n = b.len;
		if (c->forwarder == NULL && m->nmsgs == 1) {
			char *fw = inline_forwarder(s, n);

			if (fw != NULL && c->reporter != NULL &&
			    strcasecmp(fw, c->reporter) != 0) {
				c->forwarder = c->reporter;
				c->reporter = fw;
			} else {
				free(fw);
			}
		}
		if (c->category == NULL)
			c->category = ew_mail_category(s, n);
		for (ls = 0; ls < n && !st.overflow; ls = le + 1) {
			le = ls;
			while (le < n && s[le] != '\n')
				le++;
			scan_line(&st, s, ls, le, line++, moff);
		}
	}
	if (st.overflow == 2)
		c->overflow = 1; /* reported as the incident limit */
	if (st.overflow || b.oom || h.oom || st.ports.oom)
		rc = -1;
	else
		rc = build(c, &st, date, has_date);
	free(st.v);
	ew_buf_free(&st.ports);
	ew_buf_free(&b);
	ew_buf_free(&h);
	return rc;
}

void
ew_extract_deadline(struct ew_complaint *c, const struct ew_mail *m)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t k;

	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		int has;
		int64_t base = msg_date(m, p->msg, &has, NULL), dl;

		if (strncmp(p->ctype, "text/", 5) != 0 ||
		    strcmp(p->ctype, "text/rfc822-headers") == 0)
			continue;
		ew_buf_reset(&b);
		ew_mail_refang(p->data, p->len, &b);
		if (ew_mail_deadline(ew_buf_str(&b), b.len, base, has, &dl) &&
		    (!c->has_deadline || dl < c->deadline)) {
			c->deadline = dl;
			c->has_deadline = 1;
		}
	}
	ew_buf_free(&b);
}
