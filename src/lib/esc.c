/*
 * esc.c - the escaping layer: terminal, mail header and HTML sinks (see
 * esc.h for what each promises).
 *
 * All three read their input the same way: as UTF-8, strictly (no
 * overlong forms, no surrogates, nothing past U+10FFFF), one character
 * at a time, a byte that starts no valid character being one U+FFFD.
 * What differs is what each sink does with the characters it must not
 * pass as they are.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/esc.h"

#define HDR_COLS 78   /* RFC 5322: lines SHOULD be at most 78 */
#define EWORD_MAX 75  /* RFC 2047: an encoded-word is at most 75 */
#define EWORD_OVER 12 /* "=?UTF-8?B?" and "?=" */

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t
ew_utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int
ew_esc_unsafe(uint32_t c, unsigned flags)
{
	if (c == '\t')
		return !(flags & EW_ESC_KEEP_TAB);
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return 1;
	if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return 1;
	return c == 0x200e || c == 0x200f || c == 0x061c || c == 0x2028 ||
	       c == 0x2029;
}

/* The visible form of an unsafe character: \t \n \r \xHH \uHHHH. */
static void
put_escaped(struct ew_buf *b, uint32_t c)
{
	if (c == '\t')
		ew_buf_puts(b, "\\t");
	else if (c == '\n')
		ew_buf_puts(b, "\\n");
	else if (c == '\r')
		ew_buf_puts(b, "\\r");
	else if (c < 0x80)
		ew_buf_printf(b, "\\x%02x", (unsigned)c);
	else
		ew_buf_printf(b, "\\u%04x", (unsigned)c);
}

enum sink { S_TERM, S_HTML, S_HDR };

static int
html_special(uint32_t c)
{
	return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
}

static int
hdr_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/*
 * Append the n bytes at s for a sink.  Runs of characters that pass are
 * copied at once.  S_HDR turns every run of whitespace (space and the
 * line-breaking controls) into one space, with none at either end.
 */
static void
walk(struct ew_buf *b, const char *s, size_t n, unsigned flags, enum sink k)
{
	size_t i = 0, run = 0, len, start = b->len;
	uint32_t c = 0;
	int space = 0;

	while (i < n) {
		len = ew_utf8_char(s + i, n - i, &c);
		if (len > 0 && !ew_esc_unsafe(c, flags) &&
		    !(k == S_HTML && html_special(c)) &&
		    !(k == S_HDR && c == ' ')) {
			if (space && b->len > start)
				ew_buf_putc(b, ' ');
			space = 0;
			i += len;
			continue;
		}
		ew_buf_add(b, s + run, i - run); /* the run that passed */
		if (len > 0 && k == S_HDR && hdr_space(c)) {
			space = 1;
		} else {
			if (space && b->len > start)
				ew_buf_putc(b, ' ');
			space = 0;
			if (len == 0) {
				ew_buf_puts(b, replacement);
				len = 1;
			} else if (k == S_HTML && html_special(c)) {
				ew_buf_puts(b, c == '&'   ? "&amp;"
					       : c == '<' ? "&lt;"
					       : c == '>' ? "&gt;"
					       : c == '"' ? "&quot;"
							  : "&#39;");
			} else {
				put_escaped(b, c);
			}
		}
		i += len;
		run = i;
	}
	ew_buf_add(b, s + run, i - run);
}

void
ew_esc_term(struct ew_buf *b, const char *s, size_t n, unsigned flags)
{
	walk(b, s, n, flags, S_TERM);
}

int
ew_esc_term_needed(const char *s, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t c;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		len = ew_utf8_char(s + i, n - i, &c);
		if (len == 0 || ew_esc_unsafe(c, flags))
			return 1;
		i += len;
	}
	return 0;
}

void
ew_esc_html(struct ew_buf *b, const char *s, size_t n)
{
	/* newlines are whitespace in HTML, not a line the program wrote:
	 * keep them, with tabs, for multi-line text */
	const char *nl;

	while ((nl = memchr(s, '\n', n)) != NULL) {
		walk(b, s, (size_t)(nl - s), EW_ESC_KEEP_TAB, S_HTML);
		ew_buf_putc(b, '\n');
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	walk(b, s, n, EW_ESC_KEEP_TAB, S_HTML);
}

/* ---- mail headers ---- */

static int
is_atext(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

static int
is_ldh(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-';
}

int
ew_esc_is_addr_spec(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *d, *e = s + n, *l;
	size_t i;

	if (at == NULL || at == s || at - s > 64 || e - (at + 1) > 253 ||
	    at + 1 == e)
		return 0;
	for (i = 0; s + i < at; i++) /* dot-atom */
		if (!(is_atext((unsigned char)s[i]) ||
			(s[i] == '.' && i > 0 && s + i + 1 < at &&
			    s[i + 1] != '.')))
			return 0;
	for (d = at + 1; d < e; d = l + 1) { /* labels */
		for (l = d; l < e && *l != '.'; l++)
			if (!is_ldh((unsigned char)*l))
				return 0;
		if (l == d || l - d > 63 || *d == '-' || l[-1] == '-')
			return 0;
		if (l < e && l + 1 == e)
			return 0; /* a trailing dot */
	}
	return 1;
}

int
ew_esc_header_is_address(const char *name, size_t n)
{
	static const char *const fields[] = { "from", "sender", "reply-to",
		"to", "cc", "bcc" };
	size_t i;

	if (n > 7 && strncasecmp(name, "resent-", 7) == 0) {
		name += 7;
		n -= 7;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i]) == n &&
		    strncasecmp(fields[i], name, n) == 0)
			return 1;
	return 0;
}

static int
field_name_ok(const char *name, size_t n)
{
	size_t i;

	if (n == 0 || n > HDR_COLS - 2)
		return 0;
	for (i = 0; i < n; i++)
		if (name[i] < 33 || name[i] > 126 || name[i] == ':')
			return 0;
	return 1;
}

/*
 * Append " word" and its tail (a comma or ""), first folding when the
 * line would pass 78 columns.
 */
static void
put_token(
    struct ew_buf *b, size_t *col, const char *w, size_t n, const char *tail)
{
	size_t tn = strlen(tail);

	if (*col + 1 + n + tn > HDR_COLS) {
		ew_buf_putc(b, '\n');
		*col = 0;
	}
	ew_buf_putc(b, ' ');
	ew_buf_add(b, w, n);
	ew_buf_puts(b, tail);
	*col += 1 + n + tn;
}

static void
base64(struct ew_buf *b, const unsigned char *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		ew_buf_putc(b, al[v >> 18]);
		ew_buf_putc(b, al[v >> 12 & 63]);
		ew_buf_putc(b, al[v >> 6 & 63]);
		ew_buf_putc(b, al[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		ew_buf_putc(b, al[v >> 18]);
		ew_buf_putc(b, al[v >> 12 & 63]);
		ew_buf_puts(b, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		ew_buf_putc(b, al[v >> 18]);
		ew_buf_putc(b, al[v >> 12 & 63]);
		ew_buf_putc(b, al[v >> 6 & 63]);
		ew_buf_putc(b, '=');
	}
}

/*
 * Append the n bytes at s (valid UTF-8) as encoded-words, each holding
 * whole characters and fitting its line; spaces inside s are inside the
 * encoded text (whitespace between encoded-words is not text).
 */
static void
put_encoded(struct ew_buf *b, size_t *col, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t room, max, k, len;
	uint32_t c;

	while (n > 0) {
		/* fold first when what is left would fit a line of its own
		 * but not this one, or not even one character of 4 bytes */
		len = 1 + EWORD_OVER + (n + 2) / 3 * 4;
		if ((*col + len > HDR_COLS && len <= 1 + EWORD_MAX &&
			*col > 0) ||
		    *col + 1 + EWORD_OVER + 8 > HDR_COLS) {
			ew_buf_putc(b, '\n');
			*col = 0;
		}
		room = HDR_COLS - *col - 1;
		if (room > EWORD_MAX)
			room = EWORD_MAX;
		max = (room - EWORD_OVER) / 4 * 3;
		for (k = 0; k < n; k += len) {
			if ((len = ew_utf8_char(
				 (const char *)p + k, n - k, &c)) == 0)
				len = 1;
			if (k + len > max)
				break;
		}
		ew_buf_puts(b, " =?UTF-8?B?");
		base64(b, p, k);
		ew_buf_puts(b, "?=");
		*col += 1 + EWORD_OVER + (k + 2) / 3 * 4;
		p += k;
		n -= k;
	}
}

/* A word that may stand as it is: printable ASCII that cannot be read
 * as an encoded-word and fits a continuation line. */
static int
plain_word(const char *w, size_t n)
{
	size_t i;

	if (n == 0 || n > HDR_COLS - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (w[i] < 0x21 || w[i] > 0x7e ||
		    (w[i] == '=' && i + 1 < n && w[i + 1] == '?'))
			return 0;
	return 1;
}

/* The end of the word at s[i] (s holds single spaces). */
static size_t
word_end(const char *s, size_t n, size_t i)
{
	const char *sp = memchr(s + i, ' ', n - i);

	return sp != NULL ? (size_t)(sp - s) : n;
}

static void
put_unstructured(struct ew_buf *b, size_t col, const char *s, size_t n)
{
	size_t i = 0, j, k, m;

	while (i < n) {
		j = word_end(s, n, i);
		if (plain_word(s + i, j - i)) {
			put_token(b, &col, s + i, j - i, "");
			i = j + 1;
			continue;
		}
		/* a run of words to encode, with the spaces between them */
		for (k = j; k < n; k = m) {
			m = word_end(s, n, k + 1);
			if (plain_word(s + k + 1, m - k - 1))
				break;
		}
		put_encoded(b, &col, s + i, k - i);
		i = k + 1;
	}
}

/* Check, then append, a list of addr-specs separated by commas. */
static int
put_addresses(struct ew_buf *b, size_t col, const char *s, size_t n)
{
	size_t pass, i, j, a, z;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i <= n; i = j + 1) {
			const char *c = memchr(s + i, ',', n - i);

			j = c != NULL ? (size_t)(c - s) : n;
			for (a = i; a < j && s[a] == ' '; a++)
				;
			for (z = j; z > a && s[z - 1] == ' '; z--)
				;
			if (pass == 0 && !ew_esc_is_addr_spec(s + a, z - a))
				return -EBADMSG;
			if (pass == 1)
				put_token(
				    b, &col, s + a, z - a, j < n ? "," : "");
		}
	}
	return 0;
}

int
ew_esc_header(struct ew_buf *b, const char *name, const char *val, size_t n)
{
	struct ew_buf v = EW_BUF_INIT, f = EW_BUF_INIT;
	size_t nl = strlen(name);
	int rc = 0;

	if (!field_name_ok(name, nl))
		return -EINVAL;
	walk(&v, val, n, 0, S_HDR);
	ew_buf_add(&f, name, nl);
	ew_buf_putc(&f, ':');
	if (ew_esc_header_is_address(name, nl))
		rc = put_addresses(&f, nl + 1, ew_buf_str(&v), v.len);
	else
		put_unstructured(&f, nl + 1, ew_buf_str(&v), v.len);
	ew_buf_putc(&f, '\n');
	if (v.oom || f.oom)
		b->oom = 1;
	else if (rc == 0)
		ew_buf_add(b, f.p, f.len);
	ew_buf_free(&v);
	ew_buf_free(&f);
	return rc;
}
