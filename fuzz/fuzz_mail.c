/*
 * fuzz_mail.c - the whole complaint path: bytes -> message -> complaint
 * -> JSON and text.  Invariants: a parse either fails with an error
 * record and no complaint, or gives a complaint whose JSON is one
 * object; incidents never exceed the limit; the bytes decompressed never
 * pass the mail's budget.  The parse runs with a clock that stands
 * still (a run must not depend on the machine's speed) and a small
 * decompression budget, so bombs are cheap to find and refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "mail/mail.h"

#define FUZZ_INFLATE (16u * 1024 * 1024)

static int64_t
still(void *arg)
{
	(void)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_complaint_stats st;
	struct ew_complaint_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	o.clock = still;
	o.inflate_limit = FUZZ_INFLATE;
	o.stats = &st;
	ew_diag_init(&d);
	rc = ew_complaint_parse_opts(
	    "fuzz", (const char *)data, size, &o, &d, &c);
	EW_FUZZ_ASSERT(st.inflated <= FUZZ_INFLATE);
	if (rc < 0) {
		EW_FUZZ_ASSERT(c == NULL);
		EW_FUZZ_ASSERT(d.nerr > 0);
	} else {
		EW_FUZZ_ASSERT(c != NULL);
		EW_FUZZ_ASSERT(
		    ew_complaint_incident_count(c) <= EW_MAIL_MAX_INCIDENTS);
		ew_complaint_json(c, &b);
		EW_FUZZ_ASSERT(b.oom || (b.len >= 2 && b.p[0] == '{' &&
					    b.p[b.len - 1] == '}'));
		ew_buf_reset(&b);
		ew_complaint_text(c, &b);
	}
	ew_buf_free(&b);
	ew_complaint_free(c);
	ew_diag_free(&d);
	return 0;
}
