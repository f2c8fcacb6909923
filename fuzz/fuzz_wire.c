/*
 * fuzz_wire.c - the reader of the parser child's answer (mail/wire.c),
 * which the privileged parent runs on bytes from a child that may be
 * under an attacker's control.  Invariants: a decode either fails with
 * no complaint or gives one that encodes back to exactly the input
 * bytes (the format has one spelling of each complaint), within the
 * incident limit, whose JSON is one object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/buf.h"
#include "mail/mail.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int rc = ew_complaint_decode(data, size, &c);

	if (rc < 0) {
		EW_FUZZ_ASSERT(c == NULL);
		return 0;
	}
	EW_FUZZ_ASSERT(c != NULL);
	EW_FUZZ_ASSERT(ew_complaint_incident_count(c) <= EW_MAIL_MAX_INCIDENTS);
	ew_complaint_encode(c, &b);
	EW_FUZZ_ASSERT(
	    b.oom || (b.len == size && memcmp(b.p, data, size) == 0));
	ew_buf_reset(&b);
	ew_complaint_json(c, &b);
	EW_FUZZ_ASSERT(
	    b.oom || (b.len >= 2 && b.p[0] == '{' && b.p[b.len - 1] == '}'));
	ew_buf_reset(&b);
	ew_complaint_text(c, &b);
	ew_buf_free(&b);
	ew_complaint_free(c);
	return 0;
}
