/*
 * test_wire.c - the parser child's answer format (mail/wire.c): parsed
 * complaints survive the trip (same JSON, same bytes when encoded
 * again), and the reader refuses every malformed answer a hostile child
 * could send: truncated, trailing bytes, wrong magic, an absent format,
 * an incident count larger than the bytes could hold, a zone or flag
 * out of range, a NUL in a string, a string too long for its field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "mail/mail.h"

static const char mail1[] =
    "From: IRC Opers <opers@irc.example.net>\n"
    "To: abuse@relay.example\n"
    "Subject: [Ticket#2026112210000123] Abuse from 198.51.100.7\n"
    "Date: Fri, 20 Nov 2026 12:00:00 +0000\n"
    "Message-ID: <wire1@irc.example.net>\n\n"
    "on 2026-11-20 10:00:00 UTC we saw connections from 198.51.100.7\n"
    "to our server 203.0.113.5 on ports 6660-6669 and 7000.\n"
    "at 2026-11-20 11:00 CET from 198.51.100.8 to irc.example.net\n"
    "Please fix this within 24 hours.\n";

static struct ew_complaint *
parse(const char *s)
{
	struct ew_complaint *c = NULL;
	struct ew_diag_list d;

	ew_diag_init(&d);
	EW_CHECK_INT(ew_complaint_parse("t", s, strlen(s), &d, &c), 0);
	ew_diag_free(&d);
	return c;
}

static void
test_roundtrip(void)
{
	struct ew_complaint *c = parse(mail1), *back = NULL;
	struct ew_buf enc = EW_BUF_INIT, again = EW_BUF_INIT;
	struct ew_buf j1 = EW_BUF_INIT, j2 = EW_BUF_INIT;
	struct ew_complaint_info ci;

	if (c == NULL)
		return;
	ew_complaint_encode(c, &enc);
	EW_CHECK(!enc.oom && enc.len > 4);
	EW_CHECK_INT(ew_complaint_decode(enc.p, enc.len, &back), 0);
	if (back != NULL) {
		ew_complaint_json(c, &j1);
		ew_complaint_json(back, &j2);
		EW_CHECK_STR(ew_buf_str(&j2), ew_buf_str(&j1));
		EW_CHECK(ew_complaint_incident_count(back) >= 2);
		ew_complaint_encode(back, &again);
		EW_CHECK(again.len == enc.len &&
			 memcmp(again.p, enc.p, enc.len) == 0);
		ew_complaint_info(back, &ci);
		EW_CHECK_STR(ci.sha256, ""); /* the reader computes it */
		EW_CHECK_STR(ci.format, "text");
	}
	ew_complaint_free(back);
	ew_complaint_free(c);
	ew_buf_free(&enc);
	ew_buf_free(&again);
	ew_buf_free(&j1);
	ew_buf_free(&j2);
}

static void
put32(struct ew_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
		(unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	ew_buf_add(b, x, 4);
}

static void
str(struct ew_buf *b, const char *s, size_t n)
{
	put32(b, (uint32_t)n);
	ew_buf_add(b, s, n);
}

/* A complaint with no strings but the three words and `n` incidents of
 * the given src, zone and has_t bytes. */
static void
build(struct ew_buf *b, uint32_t n, const char *src, size_t srclen,
    unsigned char zone, unsigned char flag)
{
	static const unsigned char zero8[8] = { 0 };
	uint32_t i;
	int k;

	ew_buf_reset(b);
	ew_buf_add(b, "EWC1", 4);
	str(b, "text", 4);
	str(b, "other", 5);
	str(b, "low", 3);
	for (k = 0; k < 5; k++)
		put32(b, 0xffffffffu);
	ew_buf_add(b, zero8, 8);
	ew_buf_add(b, zero8, 8);
	ew_buf_add(b, "\0\0", 2);
	put32(b, n);
	for (i = 0; i < n && i < 4; i++) {
		str(b, src, srclen);
		str(b, "", 0);
		str(b, "", 0);
		put32(b, 0xffffffffu); /* ports: none */
		ew_buf_add(b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
		for (k = 0; k < 3; k++)
			ew_buf_add(b, zero8, 8);
		ew_buf_putc(b, (char)flag);
		ew_buf_add(b, "\0\0", 2);
		ew_buf_putc(b, (char)zone);
		put32(b, 0);
	}
}

static void
test_refused(void)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_complaint *c = NULL;
	char big[200];

	build(&b, 1, "192.0.2.1", 9, 0, 0);
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), 0);
	EW_CHECK(c != NULL && ew_complaint_incident_count(c) == 1);
	ew_complaint_free(c);
	c = NULL;
	/* every proper prefix is refused */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len - 1, &c), -EBADMSG);
	EW_CHECK_INT(ew_complaint_decode(b.p, 4, &c), -EBADMSG);
	EW_CHECK_INT(ew_complaint_decode(b.p, 0, &c), -EBADMSG);
	ew_buf_putc(&b, 0); /* trailing byte */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	build(&b, 1, "192.0.2.1", 9, 0, 0);
	b.p[3] = '2';
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	build(&b, 1, "192.0.2.1", 9, 9, 0); /* zone 9 */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	build(&b, 1, "192.0.2.1", 9, 0, 2); /* flag 2 */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	build(&b, 1, "192.0\0.2.1", 10, 0, 0); /* NUL inside */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	memset(big, '1', sizeof(big));
	build(&b, 1, big, sizeof(big), 0, 0); /* too long for src */
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	/* a count the bytes cannot hold: refused before any allocation */
	build(&b, 0xfffffff0u, "192.0.2.1", 9, 0, 0);
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), -EBADMSG);
	/* an absent format */
	build(&b, 0, "", 0, 0, 0);
	EW_CHECK_INT(ew_complaint_decode(b.p, b.len, &c), 0);
	ew_complaint_free(c);
	c = NULL;
	memcpy(b.p + 8, "EWC1\xff\xff\xff\xff", 8); /* "text" -> none */
	EW_CHECK_INT(ew_complaint_decode(b.p + 8, b.len - 8, &c), -EBADMSG);
	EW_CHECK(c == NULL);
	ew_buf_free(&b);
}

int
main(void)
{
	EW_RUN(test_roundtrip);
	EW_RUN(test_refused);
	return ew_test_done();
}
