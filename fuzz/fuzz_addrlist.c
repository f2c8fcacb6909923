/*
 * fuzz_addrlist.c - address-list (table) files: accepted or refused with
 * a located error, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "policy/policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	size_t n;
	int r;

	ew_diag_init(&d);
	r = ew_addrlist_parse("fuzz.list", (const char *)data, size, &d, &n);
	EW_FUZZ_ASSERT((r == 0) == (d.nerr == 0));
	ew_diag_format(&d, &b);
	ew_buf_free(&b);
	ew_diag_free(&d);
	return 0;
}
