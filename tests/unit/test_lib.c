/*
 * test_lib.c - unit tests for src/lib: addresses, times, buffers,
 * diagnostics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
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

int
main(void)
{
	EW_RUN(test_parse4);
	EW_RUN(test_parse6);
	EW_RUN(test_addr_misc);
	EW_RUN(test_time);
	EW_RUN(test_num);
	EW_RUN(test_buf_diag);
	return ew_test_done();
}
