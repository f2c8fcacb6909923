/*
 * test_mail.c - unit tests for src/mail: defanging, port lists, times
 * and zones, deadlines, categories, the refusal limits, and the whole
 * path on small messages.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "mail/mail.h"
#include "mail/mail_int.h"

static int64_t
T(const char *iso)
{
	int64_t t = 0;

	if (ew_time_parse(iso, strlen(iso), &t) < 0)
		return -1;
	return t;
}

static const char *
refang(const char *in)
{
	static char out[256];
	struct ew_buf b = EW_BUF_INIT;

	ew_mail_refang(in, strlen(in), &b);
	snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	ew_buf_free(&b);
	return out;
}

static const char *
ports(const char *in)
{
	static char out[256];
	struct ew_buf b = EW_BUF_INIT;

	ew_mail_ports(in, strlen(in), &b);
	snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	ew_buf_free(&b);
	return out;
}

/* Parse a whole message; the JSON (static) or "ERR: first message". */
static const char *
parse(const char *msg)
{
	static char out[8192];
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;

	ew_diag_init(&d);
	if (ew_complaint_parse("t", msg, strlen(msg), &d, &c) < 0) {
		snprintf(
		    out, sizeof(out), "ERR: %s", d.n > 0 ? d.v[0].msg : "?");
	} else {
		ew_complaint_json(c, &b);
		snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	}
	ew_buf_free(&b);
	ew_complaint_free(c);
	ew_diag_free(&d);
	return out;
}

static void
test_refang(void)
{
	EW_CHECK_STR(refang("1.2.3[.]4"), "1.2.3.4");
	EW_CHECK_STR(refang("108[.]165(.)178{.}42"), "108.165.178.42");
	EW_CHECK_STR(refang("10[dot]0[DOT]0[.]1"), "10.0.0.1");
	EW_CHECK_STR(refang("hxxp://a hXXps://b"), "http://a https://b");
	EW_CHECK_STR(refang("2001:db8[:]:1"), "2001:db8::1");
	EW_CHECK_STR(refang("abuse[@]example.org"), "abuse@example.org");
	EW_CHECK_STR(refang("[x] (y) {z}"), "[x] (y) {z}");
}

static void
test_ports(void)
{
	EW_CHECK_STR(
	    ports("on ports 6660-7000, 8888, 8080."), "6660-7000,8888,8080");
	EW_CHECK_STR(
	    ports("ports 6660 - 7000, 8888 and 8080"), "6660-7000,8888,8080");
	EW_CHECK_STR(ports("Port: 22"), "22");
	EW_CHECK_STR(ports("port(s) 80/tcp, 443/tcp"), "80,443");
	EW_CHECK_STR(ports("port 22 and port 22"), "22");
	EW_CHECK_STR(ports("6667/tcp was hit"), "6667");
	/* sshd's "from ADDR port N" is the source's port, not ours */
	EW_CHECK_STR(ports("from 192.0.2.1 port 53902 ssh2"), "");
	EW_CHECK_STR(ports("source port 1234"), "");
	EW_CHECK_STR(ports("port 0, port 70000"), "");
	EW_CHECK_STR(ports("ports 7000-6660"), "7000");
	EW_CHECK_STR(ports("report 25 passport 80"), "");
}

static void
test_times(void)
{
	struct ew_mtime m;

	EW_CHECK(ew_mail_time_parse(
		     "Fri, 31 Jan 2014 07:19:02 +0100 (CET)", 37, &m) == 0);
	EW_CHECK_INT(m.t, T("2014-01-31T06:19:02Z"));
	EW_CHECK_INT(m.zs, EW_ZONE_OFFSET);
	EW_CHECK_INT(m.from, m.to);

	EW_CHECK(
	    ew_mail_time_parse("Mon, 16 Nov 2026 08:57:01 EST", 29, &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-16T13:57:01Z"));
	EW_CHECK_INT(m.zs, EW_ZONE_NAMED);

	/* IST: India (+05:30) first, Ireland (+01:00) as the other end */
	EW_CHECK(ew_mail_time_parse("2026-11-20 08:01:00 IST", 23, &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-20T02:31:00Z"));
	EW_CHECK_INT(m.from, T("2026-11-20T02:31:00Z"));
	EW_CHECK_INT(m.to, T("2026-11-20T07:01:00Z"));

	/* no zone: assumed UTC, but anywhere from UTC-12 to UTC+14 */
	EW_CHECK(ew_mail_time_parse("2015-01-22 01:30:25", 19, &m) == 0);
	EW_CHECK_INT(m.zs, EW_ZONE_ASSUMED);
	EW_CHECK_INT(m.t, T("2015-01-22T01:30:25Z"));
	EW_CHECK_INT(m.from, T("2015-01-21T11:30:25Z"));
	EW_CHECK_INT(m.to, T("2015-01-22T13:30:25Z"));

	EW_CHECK(ew_mail_time_parse("2025-01-11T11:26:59.123Z", 24, &m) == 0);
	EW_CHECK_INT(m.t, T("2025-01-11T11:26:59Z"));
	EW_CHECK(ew_mail_time_parse("2026-11-18T09:41:30+01:00", 25, &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-18T08:41:30Z"));
	EW_CHECK(
	    ew_mail_time_parse("Dec 25, 2022 @ 08:02:59 UTC", 27, &m) == 0);
	EW_CHECK_INT(m.t, T("2022-12-25T08:02:59Z"));
	EW_CHECK(ew_mail_time_parse("2014-01-31 07:19 UTC+2", 22, &m) == 0);
	EW_CHECK_INT(m.t, T("2014-01-31T05:19:00Z"));

	EW_CHECK(ew_mail_time_parse("31 Foo 2014 07:19:02", 20, &m) < 0);
	EW_CHECK(ew_mail_time_parse("2014-13-01 00:00:00", 19, &m) < 0);
	EW_CHECK(ew_mail_time_parse("1.2.3.4", 7, &m) < 0);
	EW_CHECK(ew_mail_time_parse("", 0, &m) < 0);
}

static void
test_deadlines(void)
{
	int64_t base = T("2026-11-22T13:00:00Z"), d = 0;
	const char *s;

	s = "your server will be disconnected in 12 hours.";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-23T01:00:00Z"));
	s = "Please answer within 24 hours.";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-23T13:00:00Z"));
	s = "resolved within the next two days";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-24T13:00:00Z"));
	s = "Deadline: 2026-11-23 18:00 UTC";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-23T18:00:00Z"));
	/* the earliest of several */
	s = "within 48 hours; we will block you by 2026-11-22T20:00:00Z";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-22T20:00:00Z"));
	/* "in N hours" without a word of consequence is no deadline */
	s = "we saw 300 connections in 12 hours from your host";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 0);
	/* relative deadlines need a base date */
	s = "within 24 hours";
	EW_CHECK(ew_mail_deadline(s, strlen(s), 0, 0, &d) == 0);
}

static void
test_categories(void)
{
	const char *s = "connections to our IRC servers";

	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "irc");
	s = "SSH brute force attack";
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "login-attack");
	s = "DMCA notice of copyright infringement";
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "copyright");
	s = "a phishing site";
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "phishing");
	s = "circuit"; /* "irc" only as a word */
	EW_CHECK(ew_mail_category(s, strlen(s)) == NULL);
	/* the word earliest in the table wins, wherever it stands */
	s = "spam and a port scan from a host on our IRC network";
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "irc");
	s = "Flooding, then scanning";
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "ddos");
	s = "scanners scan; c&c"; /* malware's words come before scan's */
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "malware");
	s = "1irc x-ddos"; /* after a digit: no word; after '-': a word */
	EW_CHECK_STR(ew_mail_category(s, strlen(s)), "ddos");
	s = "a spam"; /* only the n bytes given are read */
	EW_CHECK(ew_mail_category(s, 4) == NULL);
}

#define HDRS                                                                   \
	"From: r@example.org\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n"         \
	"Subject: report\n\n"

static const char *
ticket(const char *s)
{
	static char out[80];
	char *t = ew_mail_ticket(s, strlen(s));

	snprintf(out, sizeof(out), "%s", t != NULL ? t : "(none)");
	free(t);
	return out;
}

static void
test_tickets(void)
{
	EW_CHECK_STR(ticket("[Ticket#2026112210000123] Abuse report"),
	    "2026112210000123");
	EW_CHECK_STR(ticket("[CSIRT#2015092310000001] Malicious content"),
	    "2015092310000001");
	EW_CHECK_STR(ticket("Case ID: AB-77."), "AB-77");
	EW_CHECK_STR(ticket("Your ticket no. 4711"), "4711");
	EW_CHECK_STR(ticket("open tickets 12345"), "(none)");
	EW_CHECK_STR(ticket("in case you wonder"), "(none)");
	EW_CHECK_STR(ticket("reference 1"), "(none)");
}

static void
test_text(void)
{
	const char *j;

	j = parse(HDRS "connections from 192.0.2.1 to 198.51.100.2:6667\n");
	EW_CHECK(strstr(j, "\"src\":\"192.0.2.1\"") != NULL);
	EW_CHECK(strstr(j, "\"dst\":\"198.51.100.2\"") != NULL);
	EW_CHECK(strstr(j, "\"dst_ports\":[\"6667\"]") != NULL);
	EW_CHECK(strstr(j, "\"zone_source\":\"none\"") != NULL);

	/* IPv4-mapped IPv6 is the IPv4 address; CIDR is masked */
	j = parse(HDRS "attack from ::ffff:192.0.2.7 against our net "
		       "203.0.113.77/24\n");
	EW_CHECK(strstr(j, "\"src\":\"192.0.2.7\"") != NULL);
	EW_CHECK(strstr(j, "\"dst\":\"203.0.113.0/24\"") != NULL);

	/* defanged IPv6 and a bracketed address with port */
	j = parse(HDRS "source: [2001:db8::5]:4444 at 2026-11-21T10:00:00Z\n");
	EW_CHECK(strstr(j, "\"src\":\"2001:db8::5\"") != NULL);
	EW_CHECK(strstr(j, "\"src_port\":4444") != NULL);
	EW_CHECK(strstr(j, "\"time\":\"2026-11-21T10:00:00Z\"") != NULL);

	/* a netblock that contains the named host is not a second source */
	j = parse(HDRS "your host 72.21.33.7 in your netblock 72.21.32.0/19\n");
	EW_CHECK(strstr(j, "72.21.32.0/19") == NULL);

	/* a time without zone takes the mail's offset and an interval */
	j = parse("From: r@example.org\nDate: Sun, 22 Nov 2026 10:00:00 "
		  "+0200\n\nattack from 192.0.2.9 at 2026-11-21 10:00:00\n");
	EW_CHECK(strstr(j, "\"time\":\"2026-11-21T08:00:00Z\"") != NULL);
	EW_CHECK(strstr(j, "\"zone_source\":\"assumed\"") != NULL);

	/* not addresses: versions, dates, too-long runs */
	j = parse(HDRS "version 1.2.3.4.5 on 2026-11-21, 1.2.3\n");
	EW_CHECK(strstr(j, "\"incidents\":[]") != NULL);
	EW_CHECK(strstr(j, "\"confidence\":\"low\"") != NULL);
}

static void
test_structured(void)
{
	const char *j;

	j = parse("{\"Version\":\"2\",\"ReporterInfo\":{\"ReporterOrgEmail\":"
		  "\"x@y.example\"},\"Report\":{\"ReportClass\":\"Activity\","
		  "\"ReportType\":\"LoginAttack\",\"Date\":"
		  "\"2026-01-02T03:04:05Z\",\"SourceIp\":\"192.0.2.3\","
		  "\"SourcePort\":\"5555\",\"DestinationIp\":\"198.51.100.1\","
		  "\"DestinationPort\":22}}");
	EW_CHECK(strstr(j, "\"format\":\"xarf\"") != NULL);
	EW_CHECK(strstr(j, "\"reporter\":\"x@y.example\"") != NULL);
	EW_CHECK(strstr(j, "\"src_port\":5555") != NULL);
	EW_CHECK(strstr(j, "\"dst_ports\":[\"22\"]") != NULL);

	/* ARF without Source-IP: the first Received header of the report */
	j = parse("From: fbl@example.org\nDate: Sun, 22 Nov 2026 10:00:00 "
		  "+0000\nContent-Type: multipart/report; "
		  "boundary=\"b\"\n\n--b\nContent-Type: "
		  "message/feedback-report\n\nFeedback-Type: abuse\nVersion: "
		  "1\n\n--b\nContent-Type: text/rfc822-headers\n\nReceived: "
		  "from x (x [192.0.2.200]) by y; Sun, 22 Nov 2026 09:00:00 "
		  "+0000\n\n--b--\n");
	EW_CHECK(strstr(j, "\"format\":\"arf\"") != NULL);
	EW_CHECK(strstr(j, "\"src\":\"192.0.2.200\"") != NULL);

	/* ACNS in the body; with a DTD it is not read as XML at all */
	j = parse(HDRS "<Infringement><Complainant><Email>c@r.example</Email>"
		       "</Complainant><Source><TimeStamp>2026-11-21T10:00:00Z"
		       "</TimeStamp><IP_Address>192.0.2.8</IP_Address><Port>"
		       "6881</Port></Source></Infringement>\n");
	EW_CHECK(strstr(j, "\"format\":\"acns\"") != NULL);
	EW_CHECK(strstr(j, "\"reporter\":\"c@r.example\"") != NULL);
	EW_CHECK(strstr(j, "\"src_port\":6881") != NULL);
	j = parse(HDRS "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a "
		       "\"aaaa\">]><Infringement>"
		       "<Source><IP_Address>192.0.2.8</IP_Address></Source>"
		       "</Infringement>\n");
	EW_CHECK(strstr(j, "\"format\":\"text\"") != NULL);
}

static void
test_limits(void)
{
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char *big;
	size_t i;

	/* over 25 MB */
	big = malloc((size_t)EW_MAIL_MAX_SIZE + 1);
	EW_CHECK(big != NULL);
	if (big != NULL) {
		memset(big, 'a', (size_t)EW_MAIL_MAX_SIZE + 1);
		ew_diag_init(&d);
		EW_CHECK(ew_complaint_parse("big", big,
			     (size_t)EW_MAIL_MAX_SIZE + 1, &d, &c) < 0);
		EW_CHECK(c == NULL);
		EW_CHECK(d.n == 1 && strstr(d.v[0].msg, "25 MB") != NULL);
		ew_diag_free(&d);
		free(big);
	}

	/* more than 10,000 parts */
	ew_buf_puts(&b, "From: a@example.org\nContent-Type: multipart/mixed; "
			"boundary=\"b\"\n\n");
	for (i = 0; i <= EW_MAIL_MAX_PARTS; i++)
		ew_buf_puts(&b, "--b\nContent-Type: text/plain\n\nx\n");
	ew_buf_puts(&b, "--b--\n");
	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("parts", b.p, b.len, &d, &c) < 0);
	EW_CHECK(d.n == 1 && strstr(d.v[0].msg, "MIME parts") != NULL);
	ew_diag_free(&d);
	ew_buf_free(&b);

	/* deep message/rfc822 nesting, without boundaries */
	for (i = 0; i < 100; i++)
		ew_buf_puts(&b, "Content-Type: message/rfc822\n\n");
	ew_buf_puts(&b, "Subject: x\n\nattack from 192.0.2.1\n");
	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("deep", b.p, b.len, &d, &c) < 0);
	EW_CHECK(d.n == 1 && strstr(d.v[0].msg, "nesting") != NULL);
	ew_diag_free(&d);
	ew_buf_free(&b);

	/* binary junk still parses (as an empty text complaint) */
	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("junk", "\0\1\2\3", 4, &d, &c) == 0);
	EW_CHECK(c != NULL && ew_complaint_incident_count(c) == 0);
	ew_complaint_free(c);
	ew_diag_free(&d);
}

/*
 * Issue 17 item 10: a body that starts with "original message" made the
 * inline-forward reader look at the byte before the text (found by
 * fuzz_mail; ASan reports the over-read, valgrind too).  The input is
 * copied into a buffer of exactly its size so a read past either end
 * leaves the allocation.
 */
static void
test_forward_overread(void)
{
	static const char in[] = "\noriginal message from:@";
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	char *buf = malloc(sizeof(in) - 1);

	EW_CHECK_INT(sizeof(in) - 1, 24);
	if (buf == NULL)
		return;
	memcpy(buf, in, sizeof(in) - 1);
	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("ovr", buf, sizeof(in) - 1, &d, &c) == 0);
	EW_CHECK(c != NULL && ew_complaint_incident_count(c) == 0);
	ew_complaint_free(c);
	ew_diag_free(&d);
	free(buf);
}

/* Does the JSON have every one of the NULL-terminated needles? */
static int
has_all(const char *j, ...)
{
	va_list ap;
	const char *n;
	int ok = 1;

	va_start(ap, j);
	while ((n = va_arg(ap, const char *)) != NULL)
		if (strstr(j, n) == NULL) {
			fprintf(stderr, "missing %s in %s\n", n, j);
			ok = 0;
		}
	va_end(ap);
	return ok;
}

static int
count_of(const char *j, const char *needle)
{
	int k = 0;

	for (; (j = strstr(j, needle)) != NULL; j++)
		k++;
	return k;
}

/* Issue 10: more date-time shapes. */
static void
test_times_more(void)
{
	struct ew_mtime m;
	struct ew_tctx cx;
	const char *s;

	/* Outlook's Sent: (no zone: assumed), Gmail's "at", AM/PM */
	s = "Tuesday, November 17, 2026 8:41 AM";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-17T08:41:00Z"));
	EW_CHECK_INT(m.zs, EW_ZONE_ASSUMED);
	s = "Tue, Nov 17, 2026 at 8:41 PM";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-17T20:41:00Z"));
	s = "November 17, 2026 at 12:05:07 AM GMT+1";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-16T23:05:07Z"));
	/* ctime, US and European numeric dates */
	s = "Wed Nov 18 06:02:11 2026";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-18T06:02:11Z"));
	s = "11/17/2026 02:41:07 PM EST";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-17T19:41:07Z"));
	s = "17.11.2026 02:41 CET";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-17T01:41:00Z"));
	s = "2026/11/17 02:41:07 UTC";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) == 0);
	EW_CHECK_INT(m.t, T("2026-11-17T02:41:07Z"));
	/* syslog: no year without a reference; with one, never later */
	s = "Nov 17 02:41:07";
	EW_CHECK(ew_mail_time_parse(s, strlen(s), &m) < 0);
	memset(&cx, 0, sizeof(cx));
	cx.ref = T("2027-01-02T10:00:00Z");
	cx.has_ref = 1;
	cx.zs = EW_ZONE_ASSUMED;
	EW_CHECK(ew_mail_time_ctx(s, strlen(s), &cx, &m) > 0);
	EW_CHECK_INT(m.t, T("2026-11-17T02:41:07Z"));
	s = "Jan  1 23:59:59 host sshd[1]:";
	EW_CHECK(ew_mail_time_ctx(s, strlen(s), &cx, &m) > 0);
	EW_CHECK_INT(m.t, T("2027-01-01T23:59:59Z"));
	/* a stated zone for zone-less times */
	cx.off = 60;
	cx.zs = EW_ZONE_NAMED;
	s = "2026-11-18 07:58:01";
	EW_CHECK(ew_mail_time_ctx(s, strlen(s), &cx, &m) > 0);
	EW_CHECK_INT(m.t, T("2026-11-18T06:58:01Z"));
	EW_CHECK_INT(m.zs, EW_ZONE_NAMED);
	/* a bare clock only when asked, on the day given */
	cx.clock_ok = 1;
	cx.day = T("2026-11-17T00:00:00Z");
	cx.has_day = 1;
	s = "06:47 UTC";
	EW_CHECK(ew_mail_time_ctx(s, strlen(s), &cx, &m) > 0);
	EW_CHECK_INT(m.t, T("2026-11-17T06:47:00Z"));
	cx.clock_ok = 0;
	EW_CHECK(ew_mail_time_ctx(s, strlen(s), &cx, &m) == 0);
	/* an IPv4 address is no date; a German date alone is a whole day */
	EW_CHECK(ew_mail_time_parse("10.11.20.26", 11, &m) < 0);
	EW_CHECK(ew_mail_time_parse("10.11.2026.5", 12, &m) < 0);
	EW_CHECK(ew_mail_time_parse("10.11.2026", 10, &m) == 0);
	EW_CHECK_INT(m.to - m.from, 86400 - 1 + 26 * 3600);
}

/* Issue 10: deadlines as forms and dates state them. */
static void
test_deadlines_more(void)
{
	int64_t base = T("2026-11-17T14:20:00Z"), d = 0;
	const char *s, *j;

	/* the checked box, not the first or the shortest */
	s = "[x] Disconnected in: [] 24-Hours [x] 12-Hours [] 6-Hours";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-18T02:20:00Z"));
	s = "Action: [ ] 48 hours  [X] 24 hours";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-18T14:20:00Z"));
	s = "[] 24-Hours [] 12-Hours"; /* nothing checked */
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 0);
	/* "after DATE" next to an action; a time so stated is no event */
	s = "The address will be blocked at any time after "
	    "2026-11-18 12:00:00 +0100.";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 1);
	EW_CHECK_INT(d, T("2026-11-18T11:00:00Z"));
	s = "We saw it after 2026-11-18 12:00:00 +0100 again.";
	EW_CHECK(ew_mail_deadline(s, strlen(s), base, 1, &d) == 0);
	j = parse(HDRS "Port scan from 192.0.2.1.\n"
		       "Please respond by 2026-11-23 18:00 UTC.\n");
	EW_CHECK(has_all(
	    j, "\"deadline\":\"2026-11-23T18:00:00Z\"", "\"time\":null", NULL));
}

/* Issue 17 item 12: a deadline is bounded by the receive time. */
static void
test_deadline_received(void)
{
	static const char *const dates[] = { "Thu, 01 Jan 1971 00:00:00 +0000",
		"Fri, 31 Dec 9999 00:00:00 +0000" };
	int64_t recv = T("2026-11-22T10:00:00Z");
	struct ew_complaint_info ci;
	char msg[512];
	size_t k;

	for (k = 0; k < 2; k++) {
		struct ew_diag_list d;
		struct ew_complaint *c = NULL;

		snprintf(msg, sizeof(msg),
		    "From: r@example.org\nDate: %s\n\nAttack from 192.0.2.1; "
		    "your server will be disconnected in 12 hours.\n",
		    dates[k]);
		ew_diag_init(&d);
		EW_CHECK(ew_complaint_parse_at(
			     "t", msg, strlen(msg), recv, &d, &c) == 0);
		if (c != NULL) {
			ew_complaint_info(c, &ci);
			EW_CHECK(ci.has_deadline);
			EW_CHECK_INT(ci.deadline, recv + 12 * 3600);
		}
		ew_complaint_free(c);
		ew_diag_free(&d);
	}
	/* an absolute one far away is clamped into the window */
	{
		struct ew_diag_list d;
		struct ew_complaint *c = NULL;
		const char *m = "From: r@example.org\nDate: Sun, 22 Nov 2026 "
				"09:00:00 +0000\n\nAttack from 192.0.2.1. "
				"Deadline: 9999-12-31 00:00 UTC\n";

		ew_diag_init(&d);
		EW_CHECK(ew_complaint_parse_at(
			     "t", m, strlen(m), recv, &d, &c) == 0);
		if (c != NULL) {
			ew_complaint_info(c, &ci);
			EW_CHECK_INT(ci.deadline, recv + EW_MAIL_DEADLINE_MAX);
		}
		ew_complaint_free(c);
		ew_diag_free(&d);
	}
}

/* Issue 10: roles of addresses. */
static void
test_roles(void)
{
	const char *j;

	/* servers after "our servers", in parentheses, over a line break */
	j = parse(HDRS "a host in your network, 198.51.100.7, keeps "
		       "connecting to our servers\n(192.0.2.10, 192.0.2.11 "
		       "and 192.0.2.12) on ports 6660-7000, 8888 and\n"
		       "8080.\n\n2026-11-17 02:41:07 EST  nick is "
		       "~aa@198.51.100.7 abc\n");
	EW_CHECK(has_all(j, "\"dst\":\"192.0.2.10\"", "\"dst\":\"192.0.2.11\"",
	    "\"dst\":\"192.0.2.12\"",
	    "\"dst_ports\":[\"6660-7000\",\"8888\",\"8080\"]",
	    "\"time\":\"2026-11-17T07:41:07Z\"", NULL));
	EW_CHECK_INT(count_of(j, "\"src\":\"198.51.100.7\""), 3);
	EW_CHECK(strstr(j, "\"src\":\"192.0.2.1") == NULL);
	/* IRC's nick!user@host is the connecting client */
	j = parse(HDRS "Klined: drone!~x@203.0.113.9 on irc.example.net\n");
	EW_CHECK(has_all(j, "\"src\":\"203.0.113.9\"", NULL));
	/* arrows with ports */
	j = parse(HDRS "198.51.100.1:51515 -> 192.0.2.5:22 (ssh)\n");
	EW_CHECK(has_all(j, "\"src\":\"198.51.100.1\"", "\"src_port\":51515",
	    "\"dst\":\"192.0.2.5\"", "\"dst_ports\":[\"22\"]", NULL));
	/* examples and quoted headers are neither */
	j = parse(HDRS "Attack from 198.51.100.3 (e.g. 192.0.2.99 is ours).\n"
		       "Received: from mx (mx [192.0.2.77]) by y\n");
	EW_CHECK(strstr(j, "192.0.2.99") == NULL);
	EW_CHECK(strstr(j, "192.0.2.77") == NULL);
	EW_CHECK(strstr(j, "\"src\":\"198.51.100.3\"") != NULL);
	/* an address named as a source is never a destination */
	j = parse(HDRS "Connections from your server 192.0.2.8 to "
		       "203.0.113.1.\nServer 192.0.2.8 was seen again.\n"
		       "Please check 203.0.113.1 too.\n");
	EW_CHECK(has_all(
	    j, "\"src\":\"192.0.2.8\"", "\"dst\":\"203.0.113.1\"", NULL));
	EW_CHECK(strstr(j, "\"src\":\"203.0.113.1\"") == NULL);
	/* a table: each row its own time and ports */
	j = parse(HDRS "time protocol src_ip src_port => dest_ip dest_port\n"
		       "2026-11-18 07:58:01 TCP 198.51.100.23 40112 => "
		       "203.0.113.5 22\n"
		       "2026-11-18 07:59:44 TCP 198.51.100.23 41002 => "
		       "203.0.113.200 23\n\nAll times are in UTC.\n");
	EW_CHECK(has_all(j, "\"src_port\":40112", "\"dst\":\"203.0.113.5\"",
	    "\"dst_ports\":[\"22\"],\"time\":\"2026-11-18T07:58:01Z\"",
	    "\"dst_ports\":[\"23\"],\"time\":\"2026-11-18T07:59:44Z\"",
	    "\"zone_source\":\"offset\"", NULL));
	/* destinations by host name */
	j = parse(HDRS "connections from 192.0.2.4 to the servers that "
		       "irc.undernet.org resolves to\n");
	EW_CHECK(has_all(j, "\"dst_host\":\"irc.undernet.org\"", NULL));
	/* an interval */
	j = parse(HDRS "On 2026-11-17 we saw 198.51.100.9 scanning between "
		       "06:02 and 06:47 UTC.\n");
	EW_CHECK(has_all(j, "\"time\":\"2026-11-17T06:02:00Z\"",
	    "\"time_from\":\"2026-11-17T06:02:00Z\"",
	    "\"time_to\":\"2026-11-17T06:47:00Z\"", NULL));
}

/* The relay's own addresses (an option of the parse) are sources. */
static void
test_ours(void)
{
	static const char *const ours[] = { "192.0.2.0/24" };
	static const char m[] = HDRS "Connections to 192.0.2.10 and "
				     "203.0.113.50 on port 25.\n";
	struct ew_complaint_opts o;
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_complaint_incident in;

	memset(&o, 0, sizeof(o));
	o.ours = ours;
	o.nours = 1;
	ew_diag_init(&d);
	EW_CHECK(
	    ew_complaint_parse_opts("t", m, sizeof(m) - 1, &o, &d, &c) == 0);
	EW_CHECK(c != NULL && ew_complaint_incident_count(c) == 1);
	if (c != NULL && ew_complaint_incident_count(c) == 1) {
		ew_complaint_incident(c, 0, &in);
		EW_CHECK_STR(in.src, "192.0.2.10");
		EW_CHECK_STR(in.dst, "203.0.113.50");
	}
	ew_complaint_free(c);
	ew_diag_free(&d);
}

/* Issue 10: inline forwards. */
static void
test_forwards(void)
{
	const char *j;

	/* Outlook: Sent: in the forwarder's zone (+0100) */
	j = parse("From: desk@hoster.example\nDate: Tue, 17 Nov 2026 "
		  "10:00:00 +0100\n\nSee below, reply within 24 hours.\n\n"
		  "-----Original Message-----\nFrom: Net Abuse "
		  "[mailto:abuse@net.example]\nSent: Tuesday, November 17, "
		  "2026 8:41 AM\nTo: desk@hoster.example\nSubject: scan\n\n"
		  "Scans from 198.51.100.5 at 2026-11-17 07:30:00\n");
	EW_CHECK(has_all(j, "\"reporter\":\"abuse@net.example\"",
	    "\"forwarder\":\"desk@hoster.example\"",
	    "\"deadline\":\"2026-11-18T09:00:00Z\"",
	    "\"time\":\"2026-11-17T06:30:00Z\"", NULL));
	/* Gmail and Apple markers */
	j = parse(HDRS "---------- Forwarded message ---------\nFrom: IRC "
		       "Opers <opers@irc.example>\nDate: Tue, Nov 17, 2026 at "
		       "8:41 AM\nSubject: drones\n\nDrone 198.51.100.6.\n");
	EW_CHECK(has_all(j, "\"reporter\":\"opers@irc.example\"",
	    "\"forwarder\":\"r@example.org\"", NULL));
	j = parse(HDRS "Begin forwarded message:\n\nFrom: CERT "
		       "<cert@cert.example>\nSubject: bot\nDate: November 17, "
		       "2026 at 8:41:07 AM GMT+1\n\nBot at 198.51.100.4\n");
	EW_CHECK(has_all(j, "\"reporter\":\"cert@cert.example\"", NULL));
	/* a quoted block with its "wrote:" line */
	j = parse(HDRS "Please act.\n\nOn Tue, 17 Nov 2026, Abuse "
		       "<abuse@net.example> wrote:\n> SSH brute force from "
		       "198.51.100.3\n");
	EW_CHECK(has_all(j, "\"reporter\":\"abuse@net.example\"",
	    "\"dst_ports\":[\"22\"]", NULL));
	/* addresses in a forwarded header block are no incident */
	j = parse(HDRS "----- Forwarded complaint -----\nFrom: x@net.example\n"
		       "Subject: about 192.0.2.200\n\nnothing else\n");
	EW_CHECK(strstr(j, "192.0.2.200") == NULL);
}

/* --explain: notes for every fact, and why there is no incident. */
static void
test_explain(void)
{
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_complaint_note nt;
	struct ew_buf b = EW_BUF_INIT;
	static const char m[] = HDRS "Connections from 198.51.100.7 to our "
				     "server 192.0.2.10 on port 6667.\n";
	static const char none[] = HDRS "Hello, nothing to see here.\n";
	size_t k;
	int src = 0, dst = 0, ports = 0;

	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("t", m, sizeof(m) - 1, &d, &c) == 0);
	for (k = 0; c != NULL && k < ew_complaint_note_count(c); k++) {
		ew_complaint_note_get(c, k, &nt);
		if (strcmp(nt.fact, "source") == 0) {
			src++;
			EW_CHECK_STR(nt.value, "198.51.100.7");
			EW_CHECK_STR(nt.rule, "the word 'from' before it");
			EW_CHECK_STR(nt.where, "part 1 line 1");
		}
		dst += strcmp(nt.fact, "destination") == 0;
		ports += strcmp(nt.fact, "ports") == 0;
	}
	EW_CHECK(src == 1 && dst == 1 && ports == 1);
	if (c != NULL) {
		ew_complaint_json_explain(c, &b);
		EW_CHECK(strstr(b.p, "\"explain\":[{\"fact\":") != NULL);
		ew_buf_reset(&b);
		ew_complaint_json(c, &b);
		EW_CHECK(strstr(b.p, "explain") == NULL);
	}
	ew_complaint_free(c);
	c = NULL;
	EW_CHECK(ew_complaint_parse("t", none, sizeof(none) - 1, &d, &c) == 0);
	if (c != NULL) {
		ew_buf_reset(&b);
		ew_complaint_explain_text(c, &b);
		EW_CHECK(strstr(b.p, "incidents 0: no IP address") != NULL);
	}
	ew_complaint_free(c);
	ew_buf_free(&b);
	ew_diag_free(&d);
}

/*
 * Issue 17 item 6: one line of N bare addresses took time quadratic in
 * N (300k: 151 s).  The work settling roles and pairing is counted
 * (c->steps): it must stay within N (log2 N + 32).
 */
static void
pairing_case(int roles)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	const size_t n = 100000;
	size_t i;

	ew_buf_puts(&b, HDRS);
	for (i = 0; i < n; i++)
		ew_buf_printf(&b, "10.%zu.%zu.%zu %s", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255,
		    !roles  ? ""
		    : i % 2 ? "to "
			    : "from ");
	ew_buf_putc(&b, '\n');
	ew_diag_init(&d);
	EW_CHECK(ew_complaint_parse("big", b.p, b.len, &d, &c) == 0);
	if (c != NULL) {
		EW_CHECK(c->steps > 0);
		EW_CHECK(c->steps <= (uint64_t)n * (17 + 32));
		EW_CHECK(ew_complaint_incident_count(c) <= n);
	}
	ew_complaint_free(c);
	ew_diag_free(&d);
	ew_buf_free(&b);
}

static void
test_pairing_linear(void)
{
	pairing_case(0); /* bare addresses: the issue's shape */
	pairing_case(1); /* "A from B to C from ...": one long row */
}

/* Issue 10: the shapes the first reading missed. */
static void
test_text_more(void)
{
	const char *j;

	/* a signature's addresses are neither */
	j = parse(HDRS "192.0.2.91 scanned our web server 198.51.100.20 on "
		       "port 80.\n\n-- \nNOC | our ranges: 203.0.113.0/24\n"
		       "Office gateway: 203.0.113.5\n");
	EW_CHECK(has_all(
	    j, "\"src\":\"192.0.2.91\"", "\"dst\":\"198.51.100.20\"", NULL));
	EW_CHECK(strstr(j, "203.0.113") == NULL);
	/* several destinations by name, no address */
	j = parse(HDRS "192.0.2.180 connected to our servers (hub.irc.example "
		       "and leaf1.irc.example) on ports 6667 and 6697.\n");
	EW_CHECK(has_all(j, "\"dst_host\":\"hub.irc.example\"",
	    "\"dst_host\":\"leaf1.irc.example\"",
	    "\"dst_ports\":[\"6667\",\"6697\"]", NULL));
	/* first and last seen on lines of their own */
	j = parse(HDRS "Source-IP: 192.0.2.42\nSource-Port: 61234\n"
		       "Destination-IP: 198.51.100.42\nDestination-Port: 25\n"
		       "First-Seen: 2026-12-03T05:12:00Z\n"
		       "Last-Seen: 2026-12-03T05:48:00Z\n");
	EW_CHECK(has_all(j, "\"src_port\":61234", "\"dst_ports\":[\"25\"]",
	    "\"time_from\":\"2026-12-03T05:12:00Z\"",
	    "\"time_to\":\"2026-12-03T05:48:00Z\"", NULL));
	/* a quoted Received: header times the source that sent it */
	j = parse(HDRS "Spam sent from 192.0.2.212:\n\n> Received: from x "
		       "([192.0.2.212])\n>   by mx (198.51.100.207) with ESMTP;"
		       "\n>   Sat, 05 Dec 2026 08:58:21 +0000\n");
	EW_CHECK(has_all(j, "\"time\":\"2026-12-05T08:58:21Z\"", NULL));
	EW_CHECK(strstr(j, "198.51.100.207") == NULL);
	/* fail2ban: its Ban line is no time of the abuse */
	j = parse(HDRS "2026-11-27 03:12:40,011 fail2ban.filter [1]: INFO "
		       "[sshd] Found 192.0.2.5\n2026-11-27 03:12:44,120 "
		       "fail2ban.actions [1]: NOTICE [sshd] Ban 192.0.2.5\n");
	EW_CHECK(strstr(j, "03:12:40Z") != NULL);
	EW_CHECK(strstr(j, "03:12:44Z") == NULL);
	/* German: a column table, "bis zum DATE Uhr MEZ" */
	j = parse("From: a@b.example\nDate: Tue, 24 Nov 2026 23:30:00 +0100\n\n"
		  "von Ihrem Server 192.0.2.44 geht ein Netscan aus.\nSollte "
		  "bis zum 25.11.2026 12:00 Uhr MEZ keine Antwort vorliegen, "
		  "wird er gesperrt.\n\nZeitpunkt            Quelle        Ziel"
		  "               Zielport\n24.11.2026 22:15:03  192.0.2.44    "
		  "198.51.100.171     8080\n");
	EW_CHECK(has_all(j, "\"deadline\":\"2026-11-25T11:00:00Z\"",
	    "\"dst\":\"198.51.100.171\"", "\"dst_ports\":[\"8080\"]",
	    "\"category\":\"scan\"", NULL));
	/* an HTML table */
	j = parse("From: a@b.example\nDate: Tue, 24 Nov 2026 12:00:00 +0000\n"
		  "Content-Type: text/html\n\n<p>port scan from <b>192.0.2.38"
		  "</b></p>\n<table><tr><th>Date (UTC)</th><th>Source IP</th>"
		  "<th>Target IP</th><th>Target port</th></tr>\n<tr><td>"
		  "2026-11-24 10:01:02</td><td>192.0.2.38</td><td>"
		  "198.51.100.160</td><td>3306</td></tr>\n<tr><td>2026-11-24 "
		  "10:01:04</td><td>192.0.2.38</td><td>198.51.100.161</td><td>"
		  "5432</td></tr></table>\n");
	EW_CHECK(has_all(j, "\"dst\":\"198.51.100.160\"",
	    "\"dst\":\"198.51.100.161\"", "\"dst_ports\":[\"5432\"]", NULL));
	/* a mail that states nothing usable: no incident, and why */
	j = parse(HDRS "Your mail server mx.example.org sent us mail.\n");
	EW_CHECK(strstr(j, "\"incidents\":[]") != NULL);
}

int
main(void)
{
	EW_RUN(test_refang);
	EW_RUN(test_ports);
	EW_RUN(test_times);
	EW_RUN(test_deadlines);
	EW_RUN(test_categories);
	EW_RUN(test_tickets);
	EW_RUN(test_text);
	EW_RUN(test_structured);
	EW_RUN(test_limits);
	EW_RUN(test_forward_overread);
	EW_RUN(test_times_more);
	EW_RUN(test_deadlines_more);
	EW_RUN(test_deadline_received);
	EW_RUN(test_roles);
	EW_RUN(test_ours);
	EW_RUN(test_forwards);
	EW_RUN(test_explain);
	EW_RUN(test_pairing_linear);
	EW_RUN(test_text_more);
	return ew_test_done();
}
