/*
 * fuzz_template.c - the reply template renderer (src/desk/reply.c) on
 * arbitrary template text, against one ticket set up once in a
 * ":memory:" store: a forwarded complaint whose values hold template
 * syntax themselves, two incidents, a block.
 *
 * The text is handed over as exactly `size` bytes in a buffer of its own
 * (no NUL after it), so a read past the length is a finding under ASan.
 * Invariants: the result is 0 or -EINVAL; a failure says why, located
 * on a line of the template; a success says nothing, renders the same
 * twice, holds no NUL, and gives text without a tag back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "store/store.h"

#define NOW 1795000000 /* 2026-11-19 */

static struct ew_store *st;
static struct ew_desk *desk;
static int64_t ticket;

static void
setup(void)
{
	struct ew_store_complaint c;
	static const struct ew_port_range ports[] = { { 6660, 7000 },
		{ 8080, 8080 } };
	struct ew_store_incident in[2];
	struct ew_addr me;
	int64_t cid, rid;

	EW_FUZZ_ASSERT(ew_addr_parse("198.51.100.7", &me));
	EW_FUZZ_ASSERT(ew_store_open(":memory:", &st) == 0);
	EW_FUZZ_ASSERT(ew_desk_new(st, &me, 1, &desk) == 0);
	memset(&c, 0, sizeof(c));
	c.message_id = "fuzz@hoster.example";
	c.content_sha256 = "fuzz";
	c.reporter = "kline@irc.example.net";
	c.forwarder = "abuse@hoster.example";
	c.forwarder_ticket = "{{ticket}}";
	c.subject = "IRC {{#incidents}} abuse {{/blocks}}";
	c.format = "text";
	c.received_at = NOW - 3600;
	c.date = NOW - 7200;
	c.deadline = NOW + 43200;
	memset(in, 0, sizeof(in));
	in[0].src = "198.51.100.7";
	in[0].src_port = -1;
	in[0].dst = "203.0.113.5";
	in[0].dst_ports = ports;
	in[0].n_dst_ports = 2;
	in[0].time = NOW - 86400;
	in[0].time_from = in[0].time_to = EW_STORE_NO_TIME;
	in[0].verdict = EW_STORE_VERDICT_ALLOWED;
	in[1].src = "198.51.100.7";
	in[1].src_port = 40000;
	in[1].time = EW_STORE_NO_TIME;
	in[1].time_from = NOW - 90000;
	in[1].time_to = NOW - 80000;
	in[1].verdict = EW_STORE_VERDICT_NOT_OURS;
	EW_FUZZ_ASSERT(ew_store_complaint_add(st, &c, in, 2, &cid) == 0);
	EW_FUZZ_ASSERT(ew_store_ticket_open(st, c.reporter, c.received_at,
			   c.deadline, &ticket) == 0);
	EW_FUZZ_ASSERT(ew_store_ticket_link(st, ticket, cid) == 0);
	EW_FUZZ_ASSERT(ew_store_rule_add(st, ticket, "reject 203.0.113.5:6667",
			   "{{reason}}", EW_STORE_NO_TIME, NOW, &rid) == 0);
}

/* Where a line of text starts and how long it is; 0 if no such line. */
static int
line_len(const char *s, size_t n, unsigned line, size_t *len)
{
	size_t i = 0, start;
	unsigned l = 1;

	while (l < line) {
		const char *nl = memchr(s + i, '\n', n - i);

		if (nl == NULL)
			return 0;
		i = (size_t)(nl - s) + 1;
		l++;
	}
	start = i;
	while (i < n && s[i] != '\n')
		i++;
	*len = i - start;
	return 1;
}

/* Printable ASCII, newlines and tabs only: text the header sink passes
 * unchanged (it replaces control bytes and invalid UTF-8 in a header). */
static int
plain(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
			return 0;
	}
	return 1;
}

/* Whether the text begins with a header field, "Name:" (letters, digits
 * and '-'), as the reply's header block does (desk/reply.c). */
static int
header_first(const char *t, size_t n)
{
	size_t i = 0;

	while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '-'))
		i++;
	return i > 0 && i < n && t[i] == ':';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_diag_list d;
	struct ew_buf out = EW_BUF_INIT, again = EW_BUF_INIT;
	char *t;
	size_t i, len;
	int rc;

	if (size > 65536)
		return 0;
	if (desk == NULL)
		setup();
	if ((t = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(t, data, size);
	ew_diag_init(&d);
	rc = ew_desk_reply(desk, ticket, "fuzz", t, size, NOW, &out, &d);
	EW_FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		EW_FUZZ_ASSERT(d.nerr > 0);
		for (i = 0; i < d.n; i++) {
			const struct ew_diag *g = &d.v[i];

			if (g->file == NULL)
				continue;
			EW_FUZZ_ASSERT(strcmp(g->file, "fuzz") == 0);
			EW_FUZZ_ASSERT(line_len(t, size, g->line, &len));
			EW_FUZZ_ASSERT(g->first >= 1 && g->first <= len + 1);
			EW_FUZZ_ASSERT(g->last >= g->first);
		}
	} else {
		EW_FUZZ_ASSERT(d.n == 0 && !out.oom);
		EW_FUZZ_ASSERT(strlen(ew_buf_str(&out)) == out.len);
		/* no placeholder, plain text, no header block: it comes out
		 * as it went in (a header block is written again, field by
		 * field, by the header sink: "Name: value", its own line
		 * ends, the blank line after it) */
		if (memmem(t, size, "{{", 2) == NULL && plain(t, size) &&
		    !header_first(t, size))
			EW_FUZZ_ASSERT(out.len == size &&
				       memcmp(ew_buf_str(&out), t, size) == 0);
		EW_FUZZ_ASSERT(ew_desk_reply(desk, ticket, "fuzz", t, size, NOW,
				   &again, &d) == 0);
		EW_FUZZ_ASSERT(
		    again.len == out.len &&
		    memcmp(ew_buf_str(&again), ew_buf_str(&out), out.len) == 0);
	}
	ew_diag_free(&d);
	ew_buf_free(&out);
	ew_buf_free(&again);
	free(t);
	return 0;
}
