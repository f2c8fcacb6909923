/*
 * test_lib.c - unit tests for src/lib: addresses, times, buffers,
 * diagnostics, and the escaping sinks (terminal, mail header, HTML).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/esc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "lib/port.h"
#include "lib/tm.h"

static const char *
fmt6(const char *in)
{
	static char out[EW_ADDR_STRLEN];
	struct ew_addr a;

	memset(&a, 0, sizeof(a));
	if (!ew_addr_parse6(in, a.b))
		return "(invalid)";
	a.family = EW_AF_INET6;
	ew_addr_format(&a, 0, out, sizeof(out));
	return out;
}

static void
test_parse4(void)
{
	uint8_t b[4];

	EW_CHECK(ew_addr_parse4("1.2.3.4", b) && b[0] == 1 && b[3] == 4);
	EW_CHECK(ew_addr_parse4("255.255.255.255", b) && b[2] == 255);
	EW_CHECK(ew_addr_parse4("0.0.0.0", b));
	EW_CHECK(!ew_addr_parse4("01.2.3.4", b)); /* leading zero */
	EW_CHECK(!ew_addr_parse4("3.4.16.032", b));
	EW_CHECK(!ew_addr_parse4("1.2.3", b));
	EW_CHECK(!ew_addr_parse4("1.2.3.4.5", b));
	EW_CHECK(!ew_addr_parse4("256.1.1.1", b));
	EW_CHECK(!ew_addr_parse4("1.2.3.1000", b));
	EW_CHECK(!ew_addr_parse4("0x1.2.3.4", b));
	EW_CHECK(!ew_addr_parse4("1.2.3.4 ", b));
	EW_CHECK(!ew_addr_parse4(" 1.2.3.4", b));
	EW_CHECK(!ew_addr_parse4("+1.2.3.4", b));
	EW_CHECK(!ew_addr_parse4("", b));
	EW_CHECK(!ew_addr_parse4("1..2.3", b));
}

static void
test_parse6(void)
{
	/* tor_inet_ntop's spelling: lowercase, longest zero run, v4 forms */
	EW_CHECK_STR(fmt6("2001:DB8::A"), "2001:db8::a");
	EW_CHECK_STR(fmt6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	EW_CHECK_STR(fmt6("::1.2.3.4"), "::1.2.3.4");
	EW_CHECK_STR(fmt6("::0.0.1.2"), "::102");
	EW_CHECK_STR(fmt6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
	EW_CHECK_STR(fmt6("::"), "::");
	EW_CHECK_STR(fmt6("::1"), "::1");
	EW_CHECK_STR(fmt6("1::"), "1::");
	EW_CHECK_STR(fmt6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
	EW_CHECK_STR(fmt6("::FFFF:0102:0304"), "::ffff:1.2.3.4");
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:1.2.3.4"), "1:2:3:4:5:6:102:304");
	EW_CHECK_STR(fmt6("0:0:0:0:0:0:0:1"), "::1");
	EW_CHECK_STR(fmt6("1:0:2:0:0:3:0:0"), "1:0:2::3:0:0");
	EW_CHECK_STR(fmt6("1:0:1:0:1:0:1:0"), "1:0:1:0:1:0:1:0");
	EW_CHECK_STR(fmt6("::ffff:01.2.3.4"), "::ffff:1.2.3.4");
	/* refused */
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:7:"), "(invalid)");
	EW_CHECK_STR(fmt6(":1:2:3:4:5:6:7"), "(invalid)");
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:7:8:9"), "(invalid)");
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:7"), "(invalid)");
	EW_CHECK_STR(fmt6("1::2::3"), "(invalid)");
	EW_CHECK_STR(fmt6("1:::3"), "(invalid)");
	EW_CHECK_STR(fmt6("12345::"), "(invalid)");
	EW_CHECK_STR(fmt6("0x1::"), "(invalid)");
	EW_CHECK_STR(fmt6("g::"), "(invalid)");
	EW_CHECK_STR(fmt6("1:2:3:4:5:6:7:8::"), "(invalid)");
	EW_CHECK_STR(fmt6(".1.2.3"), "(invalid)");
	EW_CHECK_STR(fmt6("::1.2.3"), "(invalid)");
	EW_CHECK_STR(fmt6("::1.2.3.256"), "(invalid)");
	EW_CHECK_STR(fmt6("::a1.2.3.4"), "(invalid)");
	EW_CHECK_STR(fmt6("1.2.3.4"), "(invalid)");
	EW_CHECK_STR(fmt6("2001"), "(invalid)");
	EW_CHECK_STR(fmt6(""), "(invalid)");
	EW_CHECK_STR(fmt6("[::1]"), "(invalid)");
}

static void
test_addr_misc(void)
{
	struct ew_addr a, b;
	char s[EW_ADDR_STRLEN];

	EW_CHECK(ew_addr_parse("[2001:db8::1]", &a) && a.family == EW_AF_INET6);
	ew_addr_format(&a, 1, s, sizeof(s));
	EW_CHECK_STR(s, "[2001:db8::1]");
	EW_CHECK(ew_addr_parse("10.1.2.3", &a) && ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("172.31.0.1", &a) && ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("172.32.0.1", &a) && !ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("100.64.0.1", &a) && !ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("192.0.2.2", &a) && !ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("fd00::2", &a) && ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("fe80::1", &a) && ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("::1", &a) && ew_addr_is_internal(&a));
	EW_CHECK(
	    ew_addr_parse("::ffff:10.0.0.1", &a) && ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("2001:db8::7", &a) && !ew_addr_is_internal(&a));
	EW_CHECK(ew_addr_parse("224.0.0.1", &a) && ew_addr_is_multicast(&a));
	EW_CHECK(ew_addr_parse("ff02::1", &a) && ew_addr_is_multicast(&a));
	EW_CHECK(ew_addr_parse("0.0.0.0", &a) && ew_addr_is_null(&a));
	EW_CHECK(
	    ew_addr_parse("1.2.3.4", &a) && ew_addr_parse("1.2.255.0", &b));
	EW_CHECK(ew_addr_prefix_eq(&a, &b, 16));
	EW_CHECK(!ew_addr_prefix_eq(&a, &b, 17));
	EW_CHECK(ew_addr_prefix_eq(&a, &b, 0));
	EW_CHECK(ew_addr_parse("::", &b) && !ew_addr_prefix_eq(&a, &b, 0));
	EW_CHECK(!ew_addr_parse("1.2.3.4:80", &a));
	EW_CHECK(!ew_addr_parse("example.org", &a));
}

static void
test_time(void)
{
	int64_t t;
	char s[EW_TIME_STRLEN];

	EW_CHECK(ew_time_parse("1970-01-01", 10, &t) == 0 && t == 0);
	EW_CHECK(ew_time_parse("2026-12-31T00:00Z", 17, &t) == 0);
	EW_CHECK_STR(ew_time_format(t, s, sizeof(s)), "2026-12-31T00:00:00Z");
	EW_CHECK(ew_time_parse("2026-12-31T02:00+02:00", 22, &t) == 0);
	EW_CHECK_STR(ew_time_format(t, s, sizeof(s)), "2026-12-31T00:00:00Z");
	EW_CHECK(ew_time_parse("2024-02-29 23:59:59-0100", 24, &t) == 0);
	EW_CHECK_STR(ew_time_format(t, s, sizeof(s)), "2024-03-01T00:59:59Z");
	EW_CHECK(ew_time_parse("2023-02-29", 10, &t) < 0);
	EW_CHECK(ew_time_parse("2026-13-01", 10, &t) < 0);
	EW_CHECK(ew_time_parse("2026-12-31T00:00", 16, &t) < 0);
	EW_CHECK(ew_time_parse("2026-12-31T24:00Z", 17, &t) < 0);
	EW_CHECK(ew_time_parse("2026-12-31Tx", 12, &t) < 0);
	EW_CHECK(ew_time_parse("26-12-31", 8, &t) < 0);
	/* an offset must not carry the UTC time out of years 0-9999 */
	EW_CHECK(ew_time_parse("0000-01-01T00:00+00:01", 22, &t) < 0);
	EW_CHECK(ew_time_parse("9999-12-31T23:59-01:00", 22, &t) < 0);
	EW_CHECK(ew_time_parse("9999-12-31T23:59+01:00", 22, &t) == 0);
	EW_CHECK(ew_duration_parse("90d", 3, &t) == 0 && t == 90 * 86400);
	EW_CHECK(ew_duration_parse("12h", 3, &t) == 0 && t == 12 * 3600);
	EW_CHECK(ew_duration_parse("2w", 2, &t) == 0 && t == 14 * 86400);
	EW_CHECK(ew_duration_parse("0d", 2, &t) < 0);
	EW_CHECK(ew_duration_parse("d", 1, &t) < 0);
	EW_CHECK(ew_duration_parse("5y", 2, &t) < 0);
	EW_CHECK_STR(ew_time_format(-1, s, sizeof(s)), "1969-12-31T23:59:59Z");
}

static void
test_num(void)
{
	uint64_t v;

	EW_CHECK(ew_parse_uint("65535", 5, 1, 65535, &v) == 0 && v == 65535);
	EW_CHECK(ew_parse_uint("65536", 5, 1, 65535, &v) < 0);
	EW_CHECK(ew_parse_uint("0", 1, 1, 65535, &v) < 0);
	EW_CHECK(ew_parse_uint("+1", 2, 0, 9, &v) < 0);
	EW_CHECK(ew_parse_uint("", 0, 0, 9, &v) < 0);
	EW_CHECK(ew_parse_uint(
		     "99999999999999999999999", 23, 0, UINT64_MAX, &v) < 0);
}

static void
test_buf_diag(void)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	struct ew_src *src;
	struct ew_loc loc;
	char *s;

	ew_buf_printf(&b, "%d-%s", 42, "x");
	ew_buf_putc(&b, '!');
	EW_CHECK_STR(ew_buf_str(&b), "42-x!");
	s = ew_buf_detach(&b);
	EW_CHECK_STR(s, "42-x!");
	free(s);
	EW_CHECK_STR(ew_buf_str(&b), "");

	ew_diag_init(&d);
	src = ew_src_new("p.conf", "a\n\treject *:$web x\n", 19);
	loc.src = src;
	loc.line = 2;
	loc.first = 11;
	loc.last = 14;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "unknown port set '%s'", "web");
	ew_diag_add(&d, EW_SEV_WARNING, NULL, "plain");
	ew_diag_format(&d, &b);
	EW_CHECK_STR(ew_buf_str(&b),
	    "p.conf:2:11-14: error: unknown port set 'web'\n"
	    "\treject *:$web x\n"
	    "\t         ^^^^\n"
	    "warning: plain\n");
	EW_CHECK_INT(d.nerr, 1);
	EW_CHECK_INT(d.nwarn, 1);
	ew_buf_free(&b);
	ew_diag_free(&d);
	ew_src_free(src);
}

/* ---- escaping ---- */

/* ew_esc_term of n bytes, as a string (static: valid until next call). */
static const char *
term(const char *s, size_t n, unsigned flags)
{
	static struct ew_buf b;

	ew_buf_free(&b);
	ew_esc_term(&b, s, n, flags);
	return ew_buf_str(&b);
}

#define TERM(lit) term(lit, sizeof(lit) - 1, 0)

/* Whether any byte of s is a control character other than "\n". */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
			return 1;
	return 0;
}

static void
test_esc_term(void)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;

	EW_CHECK_STR(TERM("plain text, 1.2.3.4"), "plain text, 1.2.3.4");
	EW_CHECK_STR(TERM(""), "");
	/* window title, screen clear, colours, bell */
	EW_CHECK_STR(TERM("a\x1b]0;pwned\x07z"), "a\\x1b]0;pwned\\x07z");
	EW_CHECK_STR(TERM("\x1b[2J\x1b[31mred"), "\\x1b[2J\\x1b[31mred");
	/* a line the value would write, and carriage returns over text */
	EW_CHECK_STR(TERM("x\r\nBcc: v@evil.example\r\n\r\nbody"),
	    "x\\r\\nBcc: v@evil.example\\r\\n\\r\\nbody");
	EW_CHECK_STR(TERM("ok\rFAKE"), "ok\\rFAKE");
	EW_CHECK_STR(TERM("a\tb"), "a\\tb");
	EW_CHECK_STR(term("a\tb", 3, EW_ESC_KEEP_TAB), "a\tb");
	EW_CHECK_STR(TERM("\x7f\x01\x1f"), "\\x7f\\x01\\x1f");
	/* NUL inside a length-delimited value is shown, not an end */
	EW_CHECK_STR(TERM("a\0b"), "a\\x00b");
	/* C1 controls, as UTF-8 (CSI, NEL) */
	EW_CHECK_STR(TERM("\xc2\x9b"
			  "2J\xc2\x85"),
	    "\\u009b2J\\u0085");
	EW_CHECK_STR(
	    TERM("\xc2\x80\xc2\x9f\xc2\xa0"), "\\u0080\\u009f\xc2\xa0");
	/* bidi overrides, embeddings, isolates and marks */
	EW_CHECK_STR(TERM("exe.\xe2\x80\xaetxt"), "exe.\\u202etxt");
	EW_CHECK_STR(TERM("\xe2\x80\xaa\xe2\x80\xac\xe2\x81\xa6\xe2\x81\xa9"),
	    "\\u202a\\u202c\\u2066\\u2069");
	EW_CHECK_STR(
	    TERM("\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8"), "\\u200f\\u061c\\u2028");
	/* valid text passes: accents, CJK, an emoji, U+0126 */
	EW_CHECK_STR(TERM("Gr\xc3\xbc\xc3\x9f"
			  "e \xe4\xb8\xad \xf0\x9f\x98\x80 "
			  "\xc4\xa6"),
	    "Gr\xc3\xbc\xc3\x9f"
	    "e \xe4\xb8\xad \xf0\x9f\x98\x80 \xc4\xa6");
	/* invalid UTF-8: each bad byte is U+FFFD */
	EW_CHECK_STR(TERM("a\xff"
			  "b"),
	    "a\xef\xbf\xbd"
	    "b");
	EW_CHECK_STR(TERM("\x9b"), "\xef\xbf\xbd"); /* a bare C1 byte */
	EW_CHECK_STR(TERM("\xc0\xaf"),              /* overlong '/' */
	    "\xef\xbf\xbd\xef\xbf\xbd");
	EW_CHECK_STR(TERM("\xe0\x80\x9b"), /* overlong C1 */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EW_CHECK_STR(TERM("\xc1\x9b"), "\xef\xbf\xbd\xef\xbf\xbd");
	EW_CHECK_STR(TERM("\xed\xa0\x80"), /* a surrogate */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EW_CHECK_STR(TERM("\xf4\x90\x80\x80"), /* past U+10FFFF */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EW_CHECK_STR(TERM("x\xe2\x80"), "x\xef\xbf\xbd\xef\xbf\xbd"); /* cut */
	EW_CHECK_STR(TERM("\xe2\x1b[m"), "\xef\xbf\xbd\\x1b[m");
	EW_CHECK(!ew_esc_term_needed("abc \xc3\xa9", 6, 0));
	EW_CHECK(ew_esc_term_needed("a\nb", 3, 0));
	EW_CHECK(ew_esc_term_needed("\xc2\x9b", 2, 0));
	EW_CHECK(ew_esc_term_needed("\xff", 1, 0));
	EW_CHECK(ew_esc_term_needed("a\0", 2, 0));
	EW_CHECK(!ew_esc_term_needed("a\t", 2, EW_ESC_KEEP_TAB));
	/* overlong input: a megabyte of escapes and bad bytes */
	for (i = 0; i < (1u << 20) / 4; i++)
		ew_buf_add(&b, "A\x1b\xff\r", 4);
	{
		struct ew_buf o = EW_BUF_INIT;

		ew_esc_term(&o, b.p, b.len, 0);
		EW_CHECK(!o.oom && o.len == (1u << 18) * (1 + 4 + 3 + 2));
		EW_CHECK(!has_control(ew_buf_str(&o)));
		EW_CHECK(memchr(o.p, 0xff, o.len) == NULL);
		ew_buf_free(&o);
	}
	ew_buf_free(&b);
	term("", 0, 0); /* frees nothing it needs later */
}

/* ew_esc_header as a string, or "error N". */
static const char *
hdr(const char *name, const char *v, size_t n)
{
	static struct ew_buf b;
	static char err[32];
	int rc;

	ew_buf_free(&b);
	if ((rc = ew_esc_header(&b, name, v, n)) != 0) {
		snprintf(err, sizeof(err), "error %d%s", rc,
		    b.len ? " (and output)" : "");
		return err;
	}
	return ew_buf_str(&b);
}

#define HDR(name, lit) hdr(name, lit, sizeof(lit) - 1)

/* Every line of a header field at most 78 columns, each encoded-word
 * at most 75, the field one header (continuations begin with a space)
 * ending in one newline. */
static int
well_folded(const char *f)
{
	const char *l = f, *nl, *w;

	if (*f == '\0' || f[strlen(f) - 1] != '\n')
		return 0;
	for (; *l != '\0'; l = nl + 1) {
		nl = strchr(l, '\n');
		if (nl - l > 78 || (l != f && *l != ' '))
			return 0;
		for (w = l; (w = strstr(w, "=?UTF-8?B?")) != NULL && w < nl;
		     w++)
			if (strstr(w, "?=") - w + 2 > 75)
				return 0;
	}
	return !has_control(f);
}

static void
test_esc_header(void)
{
	char big[4000];
	const char *f;
	size_t i;

	EW_CHECK_STR(HDR("Subject", "Abuse from 192.0.2.1"),
	    "Subject: Abuse from 192.0.2.1\n");
	EW_CHECK_STR(HDR("Subject", ""), "Subject:\n");
	/* the injection of issue 17: one line, the Bcc only text */
	EW_CHECK_STR(
	    HDR("Subject", "Re: x\r\nBcc: victim@evil.example\r\n\r\nInjected "
			   "body"),
	    "Subject: Re: x Bcc: victim@evil.example Injected body\n");
	EW_CHECK_STR(
	    HDR("Subject", "a\nb\rc\r\n\td\v\fe  "), "Subject: a b c d e\n");
	EW_CHECK_STR(HDR("Subject", "\n\n"), "Subject:\n");
	/* other controls shown as the terminal shows them */
	EW_CHECK_STR(HDR("Subject", "\x1b]0;t\x07 \x1b[2J"),
	    "Subject: \\x1b]0;t\\x07 \\x1b[2J\n");
	EW_CHECK_STR(HDR("Subject", "a\0b"), "Subject: a\\x00b\n");
	EW_CHECK_STR(HDR("Subject", "\xc2\x9b"
				    "x \xe2\x80\xae"
				    "y"),
	    "Subject: \\u009bx \\u202ey\n");
	/* non-ASCII: RFC 2047 encoded-words, plain words stay plain */
	EW_CHECK_STR(HDR("Subject", "Gr\xc3\xbc\xc3\x9f"
				    "e"),
	    "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\n");
	EW_CHECK_STR(HDR("Subject", "Re: Gr\xc3\xbc\xc3\x9f"
				    "e aus K\xc3\xb6ln"),
	    "Subject: Re: =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=\n");
	EW_CHECK_STR(HDR("Subject", "K\xc3\xb6ln K\xc3\xb6ln"),
	    "Subject: =?UTF-8?B?S8O2bG4gS8O2bG4=?=\n");
	EW_CHECK_STR(HDR("Subject", "\xff"), "Subject: =?UTF-8?B?77+9?=\n");
	/* text that would read as an encoded-word is encoded itself */
	EW_CHECK_STR(HDR("Subject", "=?UTF-8?Q?Bcc=3A?="),
	    "Subject: =?UTF-8?B?PT9VVEYtOD9RP0JjYz0zQT89?=\n");
	/* folded at 78 columns: words, and encoded text */
	for (i = 0; i < 60; i++)
		memcpy(big + i * 6, "word5 ", 6);
	f = hdr("Subject", big, 359);
	EW_CHECK(well_folded(f) && strchr(f, '\n') < f + strlen(f) - 1);
	for (i = 0; i < 500; i++)
		memcpy(big + i * 2, "\xc3\xa9", 2);
	EW_CHECK(well_folded(hdr("Subject", big, 1000)));
	for (i = 0; i < 250; i++)
		memcpy(big + i * 4, "\xf0\x9f\x98\x80", 4);
	EW_CHECK(well_folded(hdr("X-A-Rather-Long-Field-Name", big, 1000)));
	memset(big, 'x', 200); /* one long word: encoded, so it folds */
	f = hdr("Subject", big, 200);
	EW_CHECK(well_folded(f) && strstr(f, "=?UTF-8?B?") != NULL);
	memset(big, '\x1b', 1000);
	EW_CHECK(well_folded(hdr("Subject", big, 1000)));
	EW_CHECK(well_folded(hdr(
	    "N234567890123456789012345678901234567890123456789012345678901234"
	    "56789012345",
	    "\xc3\xa9", 2)));
	/* field names */
	EW_CHECK_STR(HDR("Bad Name", "x"), "error -22");
	EW_CHECK_STR(HDR("", "x"), "error -22");
	EW_CHECK_STR(HDR("X:Y", "x"), "error -22");
	EW_CHECK_STR(HDR("X\n", "x"), "error -22");
	EW_CHECK_STR(HDR("X\xc3\xa9", "x"), "error -22");
	/* address fields: plain addr-specs only */
	EW_CHECK_STR(HDR("To", "abuse@example.net"), "To: abuse@example.net\n");
	EW_CHECK_STR(HDR("cc", " a@b.example ,c@d.example "),
	    "cc: a@b.example, c@d.example\n");
	EW_CHECK_STR(HDR("To", "Victim <v@evil.example>"), "error -74");
	EW_CHECK_STR(
	    HDR("To", "a@b.example\r\nBcc: v@evil.example"), "error -74");
	EW_CHECK_STR(HDR("Bcc", "a@b.example,"), "error -74");
	EW_CHECK_STR(HDR("From", ""), "error -74");
	EW_CHECK_STR(HDR("Resent-To", "a@b.example (comment)"), "error -74");
	EW_CHECK_STR(HDR("Reply-To", "\"q\"@b.example"), "error -74");
	EW_CHECK_STR(HDR("Sender", "a@b.example\0"), "error -74");
	for (i = 0; i < 20; i++)
		memcpy(big + i * 20, "abuse@x.example.net,", 20);
	f = hdr("To", big, 399);
	EW_CHECK(well_folded(f) && strncmp(f, "To: abuse@", 10) == 0);
	EW_CHECK(ew_esc_header_is_address("RESENT-cc", 9));
	EW_CHECK(!ew_esc_header_is_address("Subject", 7));
	EW_CHECK(!ew_esc_header_is_address("Resent-", 7));
}

static void
test_esc_addr(void)
{
	static const char *const good[] = { "abuse@example.net",
		"a.b+c_d@x-y.example", "root@localhost", "o'neil@ex.org",
		"{x}@a1.b2", NULL };
	static const char *const bad[] = { "", "@x", "a@", ".a@x", "a.@x",
		"a..b@x", "a@-x", "a@x-", "a@x..y", "a@x.", "a@.x", "a b@x",
		"a@x@y", "\xc3\xa9@x", "\"q\"@x", "a@[192.0.2.1]", "a@x_y",
		"<a@x>", "a@x\n", NULL };
	char lng[400];
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		EW_CHECK(ew_esc_is_addr_spec(good[i], strlen(good[i])));
	for (i = 0; bad[i] != NULL; i++)
		EW_CHECK(!ew_esc_is_addr_spec(bad[i], strlen(bad[i])));
	EW_CHECK(!ew_esc_is_addr_spec("a@x\0y", 5));
	memset(lng, 'a', 65);
	memcpy(lng + 65, "@x", 2);
	EW_CHECK(!ew_esc_is_addr_spec(lng, 67));    /* local part over 64 */
	EW_CHECK(ew_esc_is_addr_spec(lng + 1, 66)); /* 64 */
	memset(lng, 'a', 62);
	lng[62] = '.';
	memcpy(lng + 63, "x@y", 3);
	EW_CHECK(ew_esc_is_addr_spec(lng, 66));
	lng[61] = '.';
	EW_CHECK(!ew_esc_is_addr_spec(lng, 66));
	memcpy(lng, "a@", 2);
	memset(lng + 2, 'b', 64); /* a label over 63 */
	EW_CHECK(!ew_esc_is_addr_spec(lng, 66));
	EW_CHECK(ew_esc_is_addr_spec(lng, 65));
}

static const char *
html(const char *s, size_t n)
{
	static struct ew_buf b;

	ew_buf_free(&b);
	ew_esc_html(&b, s, n);
	return ew_buf_str(&b);
}

#define HTML(lit) html(lit, sizeof(lit) - 1)

static void
test_esc_html(void)
{
	EW_CHECK_STR(HTML("<script>alert(\"x\")</script>"),
	    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
	EW_CHECK_STR(
	    HTML("a' onmouseover='b&c"), "a&#39; onmouseover=&#39;b&amp;c");
	EW_CHECK_STR(HTML("&amp;"), "&amp;amp;");
	EW_CHECK_STR(HTML("line 1\n\tline 2\r"), "line 1\n\tline 2\\r");
	EW_CHECK_STR(HTML("\x1b[2J\x07\0"), "\\x1b[2J\\x07\\x00");
	EW_CHECK_STR(HTML("\xc2\x9b\xe2\x80\xae"
			  "a\xe2\x81\xa7"),
	    "\\u009b\\u202ea\\u2067");
	EW_CHECK_STR(
	    HTML("\xff<\xc0\x80"), "\xef\xbf\xbd&lt;\xef\xbf\xbd\xef\xbf\xbd");
	/* characters whose low byte is '&' or '<' are not special */
	EW_CHECK_STR(HTML("\xc4\xa6\xc4\xbc\xe2\x80\xa6"),
	    "\xc4\xa6\xc4\xbc\xe2\x80\xa6");
	EW_CHECK_STR(HTML(""), "");
	html("", 0);
}

static void
test_esc_json_diag(void)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	struct ew_loc loc;
	struct ew_src *src;
	const char line[] = "reject \x1b[2J\xc2\x9bx:80 y\n";

	ew_json_str(&b, "a\"\\\n\t\r\x1b\x7f\xc2\x9b\xe2\x80\xae\xff\xc3\xa9");
	EW_CHECK_STR(ew_buf_str(&b), "\"a\\\"\\\\\\n\\t\\r\\u001b\\u007f\\u009b"
				     "\\u202e\\ufffd\xc3\xa9\"");
	ew_buf_reset(&b);
	ew_json_str(&b, "plain \xe4\xb8\xad");
	EW_CHECK_STR(ew_buf_str(&b), "\"plain \xe4\xb8\xad\"");
	ew_buf_free(&b);

	/* a diagnostic quoting a file with controls in it: shown escaped,
	 * the carets under what is shown */
	ew_diag_init(&d);
	memset(&loc, 0, sizeof(loc));
	src = ew_src_new("f\x1b.conf", line, sizeof(line) - 1);
	loc.src = src;
	loc.line = 1;
	loc.first = 8; /* from the ESC to the x */
	loc.last = 14;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "bad '%s'", "\x07x\r\ny");
	ew_diag_format(&d, &b);
	EW_CHECK_STR(ew_buf_str(&b),
	    "f\\x1b.conf:1:8-14: error: bad '\\x07x\\r\\ny'\n"
	    "reject \\x1b[2J\\u009bx:80 y\n"
	    "       ^^^^^^^^^^^^^^\n");
	EW_CHECK(!has_control(ew_buf_str(&b)));
	ew_buf_free(&b);
	ew_diag_free(&d);
	ew_src_free(src);
}

/* FIPS 180-4 (the NIST examples) and RFC 4231 test case 2. */
static void
test_digest(void)
{
	char hex[EW_SHA256_HEXLEN];
	unsigned char md[EW_SHA256_LEN], md2[EW_SHA256_LEN];
	char *million = malloc(1000000);

	EW_CHECK_INT(ew_sha256_hex("abc", 3, hex), 0);
	EW_CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EW_CHECK_INT(ew_sha256_hex("", 0, hex), 0);
	EW_CHECK_STR(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EW_CHECK_INT(ew_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklm"
				   "nlmnomnopnopq",
			 56, hex),
	    0);
	EW_CHECK_STR(hex,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	EW_CHECK_INT(ew_sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfgh"
				   "ijklmghijklmnhijklmnoijklmnopjklmnopqklmnop"
				   "qrlmnopqrsmnopqrstnopqrstu",
			 112, hex),
	    0);
	EW_CHECK_STR(hex,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	if (million != NULL) {
		memset(million, 'a', 1000000);
		EW_CHECK_INT(ew_sha256_hex(million, 1000000, hex), 0);
		EW_CHECK_STR(hex,
		    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4972"
		    "00e046d39ccc7112cd0");
		free(million);
	}
	EW_CHECK_INT(ew_sha256("abc", 3, md), 0);
	EW_CHECK(md[0] == 0xba && md[31] == 0xad);
	EW_CHECK_INT(
	    ew_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, md),
	    0);
	EW_CHECK(md[0] == 0x5b && md[1] == 0xdc && md[31] == 0x43);
	memcpy(md2, md, sizeof(md));
	EW_CHECK_INT(ew_ct_memcmp(md, md2, sizeof(md)), 0);
	md2[31] ^= 1;
	EW_CHECK(ew_ct_memcmp(md, md2, sizeof(md)) != 0);
	ew_cleanse(md2, sizeof(md2));
	EW_CHECK(md2[0] == 0 && md2[31] == 0);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_file_read(void)
{
	char dir[] = "/tmp/ew_test_lib.XXXXXX", path[256], link_[256];
	char fifo[256], *data = NULL;
	size_t n = 99;
	int fds[2];

	if (mkdtemp(dir) == NULL) {
		EW_CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	put(path, "hello\n");
	EW_CHECK_INT(ew_file_read(path, 100, 0, &data, &n), 0);
	EW_CHECK_STR(data, "hello\n");
	EW_CHECK_INT(n, 6);
	free(data);
	/* the cap: exactly max is fine, one more is -EFBIG, or a prefix */
	EW_CHECK_INT(ew_file_read(path, 6, EW_FILE_REGULAR, &data, &n), 0);
	free(data);
	EW_CHECK_INT(ew_file_read(path, 5, 0, &data, &n), -EFBIG);
	EW_CHECK(data == NULL && n == 0);
	EW_CHECK_INT(ew_file_read(path, 3, EW_FILE_PREFIX, &data, &n), 0);
	EW_CHECK_STR(data, "hel");
	free(data);
	/* empty file: "" and 0 */
	put(path, "");
	EW_CHECK_INT(ew_file_read(path, 10, 0, &data, &n), 0);
	EW_CHECK(data != NULL && n == 0 && data[0] == '\0');
	free(data);
	/* no file, a directory, a link with NOFOLLOW, a FIFO */
	snprintf(link_, sizeof(link_), "%s/none", dir);
	EW_CHECK_INT(ew_file_read(link_, 10, 0, &data, &n), -ENOENT);
	EW_CHECK_INT(ew_file_read(dir, 10, 0, &data, &n), -EISDIR);
	snprintf(link_, sizeof(link_), "%s/l", dir);
	EW_CHECK_INT(symlink(path, link_), 0);
	EW_CHECK_INT(ew_file_read(link_, 10, 0, &data, &n), 0);
	free(data);
	EW_CHECK_INT(
	    ew_file_read(link_, 10, EW_FILE_NOFOLLOW, &data, &n), -ELOOP);
	snprintf(fifo, sizeof(fifo), "%s/p", dir);
	EW_CHECK_INT(mkfifo(fifo, 0600), 0);
	/* would block forever if the reader opened it blocking */
	EW_CHECK_INT(
	    ew_file_read(fifo, 10, EW_FILE_REGULAR, &data, &n), -EINVAL);
	/* a pipe through the descriptor reader, past the 64 KiB step */
	if (pipe(fds) == 0) {
		char big[70000];

		memset(big, 'x', sizeof(big));
		if (fork() == 0) {
			close(fds[0]);
			(void)!write(fds[1], big, sizeof(big));
			_exit(0);
		}
		close(fds[1]);
		EW_CHECK_INT(ew_file_read_fd(fds[0], 1 << 20, 0, &data, &n), 0);
		EW_CHECK_INT(n, sizeof(big));
		EW_CHECK(data != NULL && data[0] == 'x' && data[n - 1] == 'x' &&
			 data[n] == '\0');
		free(data);
		close(fds[0]);
	}
	unlink(fifo);
	unlink(link_);
	unlink(path);
	rmdir(dir);
}

/* The number of entries in dir, besides "." and "..". */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_file_write(void)
{
	char dir[] = "/tmp/ew_test_lib.XXXXXX", path[256], bad[256];
	char *data = NULL;
	struct stat st;
	size_t n;
	int replaced = -1;
	mode_t um;

	if (mkdtemp(dir) == NULL) {
		EW_CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	/* the mode given, whatever the umask */
	um = umask(077);
	EW_CHECK_INT(
	    ew_file_write_atomic(path, "one\n", 4, 0644, 0, &replaced), 0);
	EW_CHECK_INT(replaced, 1);
	EW_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	EW_CHECK_INT(ew_file_read(path, 100, 0, &data, &n), 0);
	EW_CHECK_STR(data, "one\n");
	free(data);
	/* replaced, mode as given ... */
	EW_CHECK_INT(ew_file_write_atomic(path, "two\n", 4, 0600, 0, NULL), 0);
	EW_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	/* ... or kept */
	EW_CHECK_INT(chmod(path, 0640), 0);
	EW_CHECK_INT(ew_file_write_atomic(
			 path, "three\n", 6, 0600, EW_FILE_KEEP_MODE, NULL),
	    0);
	EW_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	EW_CHECK_INT(ew_file_read(path, 100, 0, &data, &n), 0);
	EW_CHECK_STR(data, "three\n");
	free(data);
	umask(um);
	EW_CHECK_INT(entries(dir), 1); /* no temporary file left */
	/* a failure before the rename: nothing changed, nothing left */
	snprintf(bad, sizeof(bad), "%s/missing/f", dir);
	replaced = -1;
	EW_CHECK_INT(
	    ew_file_write_atomic(bad, "x", 1, 0600, 0, &replaced), -ENOENT);
	EW_CHECK_INT(replaced, 0);
	snprintf(bad, sizeof(bad), "%s/d", dir);
	EW_CHECK_INT(mkdir(bad, 0700), 0);
	replaced = -1;
	EW_CHECK(ew_file_write_atomic(bad, "x", 1, 0600, 0, &replaced) < 0);
	EW_CHECK_INT(replaced, 0);
	EW_CHECK(stat(bad, &st) == 0 && S_ISDIR(st.st_mode));
	EW_CHECK_INT(entries(dir), 2); /* f and d: no temporary file */
	rmdir(bad);
	unlink(path);
	rmdir(dir);
}

static void
test_prefix(void)
{
	struct ew_addr a;
	unsigned bits = 99;
	char out[EW_ADDR_STRLEN];

#define P(s, f) ew_prefix_parse((s), strlen(s), (f), &a, &bits)
	EW_CHECK_INT(P("192.0.2.1", 0), 0);
	EW_CHECK(a.family == EW_AF_INET && bits == 32);
	EW_CHECK_INT(P("192.0.2.0/24", 0), 0);
	EW_CHECK_INT(bits, 24);
	EW_CHECK_INT(P("[2001:db8::1]", 0), 0);
	EW_CHECK(a.family == EW_AF_INET6 && bits == 128);
	EW_CHECK_INT(P("[2001:db8::]/32", 0), 0);
	EW_CHECK_INT(bits, 32);
	ew_addr_format(&a, 0, out, sizeof(out));
	EW_CHECK_STR(out, "2001:db8::");
	EW_CHECK_INT(P("2001:db8::/0", 0), 0);
	EW_CHECK_INT(bits, 0);
	EW_CHECK_INT(P("192.0.2.0/024", 0), 0); /* digits: leading 0 */
	EW_CHECK_INT(bits, 24);
	EW_CHECK_INT(P("192.0.2.0/33", 0), EW_PREFIX_ERANGE);
	EW_CHECK_INT(P("2001:db8::/129", 0), EW_PREFIX_ERANGE);
	EW_CHECK_INT(P("192.0.2.0/", 0), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("192.0.2.0/+8", 0), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("192.0.2.0/ 8", 0), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("192.0.2.0/2x", 0), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("192.0.2.0/255.255.0.0", 0), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("/24", 0), EW_PREFIX_EADDR);
	EW_CHECK_INT(P("", 0), EW_PREFIX_EADDR);
	EW_CHECK_INT(P("example.org", 0), EW_PREFIX_EADDR);
	EW_CHECK_INT(P("[192.0.2.1]", 0), EW_PREFIX_EADDR);
	EW_CHECK_INT(P("192.0.2.01", 0), EW_PREFIX_EADDR);
	/* tor's mask rules */
	EW_CHECK_INT(P("192.0.2.0/255.255.0.0", EW_PREFIX_TOR), 0);
	EW_CHECK_INT(bits, 16);
	EW_CHECK_INT(
	    P("192.0.2.0/255.0.255.0", EW_PREFIX_TOR), EW_PREFIX_ENOTPREFIX);
	EW_CHECK_INT(P("192.0.2.0/+8", EW_PREFIX_TOR), 0);
	EW_CHECK_INT(bits, 8);
	EW_CHECK_INT(P("192.0.2.0/", EW_PREFIX_TOR), 0); /* empty: /0 */
	EW_CHECK_INT(bits, 0);
	EW_CHECK_INT(P("192.0.2.0/33", EW_PREFIX_TOR), EW_PREFIX_ERANGE);
	EW_CHECK_INT(P("192.0.2.0/x", EW_PREFIX_TOR), EW_PREFIX_EMASK);
	EW_CHECK_INT(P("[::ffff:192.0.2.0]/24", EW_PREFIX_TOR), 0);
	EW_CHECK_INT(bits, 120);
	EW_CHECK_INT(
	    P("[::ffff:192.0.2.0]/64", EW_PREFIX_TOR), EW_PREFIX_EMAPPED);
	EW_CHECK_INT(P("[::ffff:192.0.2.0]/64", 0), 0); /* strict: as is */
	EW_CHECK_INT(bits, 64);
#undef P
	EW_CHECK_INT(ew_prefix_parse("192.0.2.7/24", 12, 0, &a, &bits), 0);
	ew_addr_mask(&a, bits);
	ew_addr_format(&a, 0, out, sizeof(out));
	EW_CHECK_STR(out, "192.0.2.0");
	EW_CHECK_INT(
	    ew_prefix_parse("2001:db8:ffff::1/36", 19, 0, &a, &bits), 0);
	ew_addr_mask(&a, bits);
	ew_addr_format(&a, 0, out, sizeof(out));
	EW_CHECK_STR(out, "2001:db8:f000::");
	/* only the n bytes count */
	EW_CHECK_INT(ew_prefix_parse("10.0.0.0/8junk", 10, 0, &a, &bits), 0);
	EW_CHECK_INT(bits, 8);
}

static void
test_ports(void)
{
	struct ew_port_range r, *v = NULL;
	struct ew_buf b = EW_BUF_INIT;
	size_t n = 9;

#define R(s) ew_port_range_parse((s), strlen(s), &r)
	EW_CHECK_INT(R("80"), 0);
	EW_CHECK(r.lo == 80 && r.hi == 80);
	EW_CHECK_INT(R("6660-7000"), 0);
	EW_CHECK(r.lo == 6660 && r.hi == 7000);
	EW_CHECK_INT(R("1-65535"), 0);
	EW_CHECK_INT(R("7000-6660"), -ERANGE);
	EW_CHECK_INT(R("0"), -EINVAL);
	EW_CHECK_INT(R("65536"), -EINVAL);
	EW_CHECK_INT(R("80-"), -EINVAL);
	EW_CHECK_INT(R("-80"), -EINVAL);
	EW_CHECK_INT(R(""), -EINVAL);
	EW_CHECK_INT(R("+80"), -EINVAL);
	EW_CHECK_INT(R(" 80"), -EINVAL);
	EW_CHECK_INT(R("1-2-3"), -EINVAL);
	EW_CHECK_INT(R("http"), -EINVAL);
#undef R
#define L(s) ew_ports_parse((s), strlen(s), &v, &n)
	EW_CHECK_INT(L("6660-7000,8888"), 0);
	EW_CHECK_INT(n, 2);
	EW_CHECK(v != NULL && v[0].lo == 6660 && v[0].hi == 7000 &&
		 v[1].lo == 8888 && v[1].hi == 8888);
	ew_ports_format(v, n, &b);
	EW_CHECK_STR(ew_buf_str(&b), "6660-7000,8888");
	free(v);
	EW_CHECK_INT(L("443,80,443"), 0); /* as written: not sorted */
	EW_CHECK(n == 3 && v[0].lo == 443 && v[1].lo == 80);
	free(v);
	EW_CHECK_INT(L(""), 0);
	EW_CHECK(v == NULL && n == 0);
	EW_CHECK_INT(L("80,"), -EINVAL);
	EW_CHECK(v == NULL && n == 0);
	EW_CHECK_INT(L(",80"), -EINVAL);
	EW_CHECK_INT(L("80,,443"), -EINVAL);
	EW_CHECK_INT(L("80, 443"), -EINVAL);
	EW_CHECK_INT(L("7000-6660"), -EINVAL);
#undef L
	ew_buf_free(&b);
}

/*
 * The clock's test hook: EW_NOW moves ew_time_now in a test build
 * (EW_TEST_HOOKS, the dev and asan presets) and is ignored otherwise.
 */
static void
test_clock_hook(void)
{
	int64_t t0 = (int64_t)time(NULL), t;

	setenv("EW_NOW", "2001-02-03T04:05:06Z", 1);
	t = ew_time_now();
#ifdef EW_TEST_HOOKS
	EW_CHECK_INT(t, 981173106);
#else
	EW_CHECK(t >= t0 && t <= t0 + 60);
#endif
	unsetenv("EW_NOW");
	t = ew_time_now();
	EW_CHECK(t >= t0 && t <= t0 + 60);
}

/* The VmFlags of the mapping holding address a (/proc/self/smaps), or
 * "" when none is found. */
static void
vm_flags(uintptr_t a, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	out[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		/* a mapping's first line: "lo-hi perms ..." */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, cap, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

/* Big arrays carry the huge-page hint ("hg" in their mapping's flags),
 * small ones and NULL are left alone. */
static void
test_mem_hint(void)
{
	size_t n = (size_t)16 << 20, i;
	char *p = ew_mem_big(n), flags[512];
	struct ew_buf b = EW_BUF_INIT;
	uintptr_t mid;

	EW_CHECK(p != NULL);
	if (p == NULL)
		return;
	memset(p, 7, n);
	mid = ((uintptr_t)p + n / 2) & ~(uintptr_t)0xfff;
	vm_flags(mid, flags, sizeof(flags));
	EW_CHECK(strstr(flags, " hg") != NULL);
	for (i = 0; i < n && p[i] == 7; i++)
		;
	EW_CHECK(i == n);
	free(p);
	ew_mem_hint(NULL, n);
	p = ew_mem_big(100);
	EW_CHECK(p != NULL);
	free(p);

	/* a growing buffer gets it once it is big */
	for (i = 0; i < (size_t)(8 << 20) / 64; i++)
		ew_buf_add(&b,
		    "0123456789abcdef0123456789abcdef0123456789abcdef"
		    "0123456789abcdef",
		    64);
	EW_CHECK(!b.oom && b.len == (size_t)8 << 20);
	vm_flags(((uintptr_t)b.p + b.len / 2) & ~(uintptr_t)0xfff, flags,
	    sizeof(flags));
	EW_CHECK(strstr(flags, " hg") != NULL);
	ew_buf_free(&b);
}

int
main(void)
{
	EW_RUN(test_parse4);
	EW_RUN(test_parse6);
	EW_RUN(test_addr_misc);
	EW_RUN(test_time);
	EW_RUN(test_num);
	EW_RUN(test_buf_diag);
	EW_RUN(test_esc_term);
	EW_RUN(test_esc_header);
	EW_RUN(test_esc_addr);
	EW_RUN(test_esc_html);
	EW_RUN(test_esc_json_diag);
	EW_RUN(test_digest);
	EW_RUN(test_file_read);
	EW_RUN(test_file_write);
	EW_RUN(test_prefix);
	EW_RUN(test_ports);
	EW_RUN(test_clock_hook);
	EW_RUN(test_mem_hint);
	return ew_test_done();
}
