/*
 * test_mail.c - unit tests for src/mail: defanging, port lists, times
 * and zones, deadlines, categories, the refusal limits, and the whole
 * path on small messages.
 */
#include <stdint.h>
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
	return ew_test_done();
}
