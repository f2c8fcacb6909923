/*
 * scan.c - the lexical layer of the text readers: case-insensitive word
 * tests, refanging ("1.2.3[.]4", "hxxp"), numbers, and addresses in
 * running text (IPv4, IPv6, IPv4-mapped IPv6 as IPv4, CIDR netblocks,
 * a.b.c.d:port and [v6]:port).  No roles, no meaning: the readers above
 * (text.c, roles.c, fields.c) decide what an address is.
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

/* Case-insensitive: does `w` start at s[i] (within n)?  The readers
 * ask this of every position for dozens of words: the first letter
 * decides most of them without strlen or strncasecmp. */
int
ew_tx_at(const char *s, size_t n, size_t i, const char *w)
{
	size_t k;

	if (w[0] == '\0')
		return i <= n;
	if (i >= n ||
	    tolower((unsigned char)s[i]) != tolower((unsigned char)w[0]))
		return 0;
	k = strlen(w);
	return i + k <= n && strncasecmp(s + i + 1, w + 1, k - 1) == 0;
}

/* `w` at s[i] with no letter or digit just before it. */
int
ew_tx_word_at(const char *s, size_t n, size_t i, const char *w)
{
	return (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
	       ew_tx_at(s, n, i, w);
}

void
ew_tx_first_init(struct ew_tx_first *f)
{
	memset(f, 0, sizeof(*f));
}

void
ew_tx_first_add(struct ew_tx_first *f, size_t k, const char *w)
{
	uint32_t bit = (uint32_t)1 << k;
	unsigned char c = (unsigned char)w[0];
	size_t b;

	if (c == '\0') { /* (not expected: an empty word is everywhere) */
		for (b = 0; b < 256; b++)
			f->m[b] |= bit;
		return;
	}
	/* the bytes that tolower() makes the word's first */
	f->m[c] |= bit;
	f->m[(unsigned char)tolower(c)] |= bit;
	f->m[(unsigned char)toupper(c)] |= bit;
}

void
ew_tx_first_words(struct ew_tx_first *f, const char *const *w, size_t nw)
{
	size_t k;

	ew_tx_first_init(f);
	for (k = 0; k < nw && k < EW_TX_FIRST_MAX; k++)
		ew_tx_first_add(f, k, w[k]);
}

int
ew_tx_has_any_word(
    const char *s, size_t n, const char *const *w, const struct ew_tx_first *f)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t set = ew_tx_first_at(f, s, n, i);

		while (set != 0)
			if (ew_tx_word_at(s, n, i, w[ew_tx_first_next(&set)]))
				return 1;
	}
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
	/* the bytes where a defanged form can start */
	static const unsigned char special[256] = {
		['['] = 1, ['('] = 1, ['{'] = 1, ['h'] = 1, ['H'] = 1
	};
	size_t i, k, run;

	for (i = 0; i < n;) {
		int done = 0;

		for (run = i; run < n && !special[(unsigned char)s[run]]; run++)
			;
		if (run > i) {
			ew_buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (s[i] == '[' || s[i] == '(' || s[i] == '{') {
			for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
				if (ew_tx_at(s, n, i, tab[k].from)) {
					ew_buf_putc(out, tab[k].to);
					i += strlen(tab[k].from);
					done = 1;
					break;
				}
			}
		} else if ((s[i] == 'h' || s[i] == 'H') &&
			   ew_tx_at(s, n, i, "hxxp")) {
			ew_buf_add(out, s[i] == 'H' ? "HTTP" : "http", 4);
			i += 4;
			done = 1;
		}
		if (!done)
			ew_buf_putc(out, s[i++]);
	}
}

/* ---- addresses ---- */

struct ew_found_unused {
	struct ew_addr a;
	int plen;  /* -1: a single address */
	long port; /* -1: none */
	size_t start, end;
};

/* isxdigit() (the same in every locale), '.' and ':'. */
const unsigned char ew_tx_addr_chars[256] = { ['0'] = 1,
	['1'] = 1,
	['2'] = 1,
	['3'] = 1,
	['4'] = 1,
	['5'] = 1,
	['6'] = 1,
	['7'] = 1,
	['8'] = 1,
	['9'] = 1,
	['a'] = 1,
	['b'] = 1,
	['c'] = 1,
	['d'] = 1,
	['e'] = 1,
	['f'] = 1,
	['A'] = 1,
	['B'] = 1,
	['C'] = 1,
	['D'] = 1,
	['E'] = 1,
	['F'] = 1,
	['.'] = 1,
	[':'] = 1 };

/* IPv4-mapped IPv6 stands for the IPv4 address. */
void
ew_tx_unmap(struct ew_addr *a)
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
addr_tail(const char *s, size_t n, size_t j, size_t k, int bracket,
    struct ew_found *f)
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
	ew_tx_unmap(&f->a);
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
int
ew_tx_scan_addr(const char *s, size_t n, size_t i, struct ew_found *f)
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
	while (k < n && ew_tx_addr_char((unsigned char)s[k]) && k - j < 60) {
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
	if (colons == 1 && dots == 3 && tok[len - 1] == ':') {
		tok[--len] = '\0'; /* "from 192.0.2.1:" ends a clause */
		colons = 0;
		k--;
	}
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
		if (!ew_addr_parse6(tok, f->a.b)) {
			/* "http://fdf1:...:0:2:2222/": eight groups and a
			 * port, unbracketed, in a URL */
			char *c = strrchr(tok, ':');
			uint64_t p;

			if (colons != 8 || c == NULL ||
			    ew_parse_uint(c + 1, strlen(c + 1), 1, 65535, &p) <
				0)
				return 0;
			*c = '\0';
			if (!ew_addr_parse6(tok, f->a.b))
				return 0;
			f->port = (long)p;
			len = strlen(tok);
		}
		f->a.family = EW_AF_INET6;
	} else {
		return 0;
	}
	return addr_tail(s, n, j + len, k, bracket, f);
}

void
ew_tx_addr_text(const struct ew_addr *a, int plen, char *out, size_t cap)
{
	size_t k = ew_addr_format(a, 0, out, cap);

	if (plen >= 0 && k < cap)
		snprintf(out + k, cap - k, "/%d", plen);
}

long
ew_tx_num_at(const char *s, size_t n, size_t *j)
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

size_t
ew_tx_line_end(const char *s, size_t n, size_t i)
{
	const char *nl;

	if (i >= n)
		return i;
	nl = memchr(s + i, '\n', n - i);
	return nl != NULL ? (size_t)(nl - s) : n;
}

void
ew_tx_skip_sp(const char *s, size_t n, size_t *j)
{
	while (*j < n && (s[*j] == ' ' || s[*j] == '\t'))
		(*j)++;
}

void
ew_tx_skip_ws(const char *s, size_t n, size_t *j)
{
	size_t k = *j;
	int nl = 0;

	for (;;) {
		while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
			k++;
		if (k < n && s[k] == '\n' && !nl) {
			size_t q = k + 1;

			while (q < n &&
			       (s[q] == '>' || s[q] == ' ' || s[q] == '\t'))
				q++;
			if (q < n && (s[q] == '\n' || s[q] == '\r'))
				break; /* a blank line ends the sentence */
			nl = 1;
			k = q;
			continue;
		}
		break;
	}
	*j = k;
}
