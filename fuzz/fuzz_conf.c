/*
 * fuzz_conf.c - exitwarden.conf: any bytes either parse, or fail with at
 * least one located error and no configuration; what parses formats as
 * text that parses back to a configuration formatting the same way.
 * The same bytes as a torrc: setup's edit of it, edited again, is
 * unchanged (idempotence), and ends with the include.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz.h"
#include "lib/buf.h"
#include "lib/diag.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_diag_list d;
	struct ew_conf *c = NULL, *c2 = NULL;
	struct ew_buf b = EW_BUF_INIT, b2 = EW_BUF_INIT;
	int rc;

	struct ew_conf_torrc_edit e, e2;

	if (size > 65536)
		return 0;
	if (ew_conf_torrc_edit(
		(const char *)data, size, "/etc/tor/torrc.d/", &e) == 0) {
		EW_FUZZ_ASSERT(ew_conf_torrc_edit(e.text, e.len,
				   "/etc/tor/torrc.d/", &e2) == 0);
		EW_FUZZ_ASSERT(
		    e2.len == e.len && memcmp(e2.text, e.text, e.len) == 0);
		EW_FUZZ_ASSERT(e2.n_moved == 0 && !e2.include_added);
		EW_FUZZ_ASSERT(
		    !e.include_added ||
		    (e.len >= 27 &&
			memcmp(e.text + e.len - 27,
			    "%include /etc/tor/torrc.d/\n", 27) == 0));
		ew_conf_torrc_edit_free(&e2);
		ew_conf_torrc_edit_free(&e);
	}
	ew_diag_init(&d);
	rc = ew_conf_parse("fuzz.conf", (const char *)data, size, &d, &c);
	if (rc != 0) {
		EW_FUZZ_ASSERT(c == NULL);
		EW_FUZZ_ASSERT(rc == -ENOMEM || d.nerr > 0);
		ew_diag_format(&d, &b);
		ew_diag_free(&d);
		ew_buf_free(&b);
		return 0;
	}
	EW_FUZZ_ASSERT(d.nerr == 0);
	EW_FUZZ_ASSERT(ew_conf_format(c, &b) == 0);
	rc = ew_conf_parse("fuzz2.conf", b.p ? b.p : "", b.len, &d, &c2);
	EW_FUZZ_ASSERT(rc == 0);
	EW_FUZZ_ASSERT(ew_conf_format(c2, &b2) == 0);
	EW_FUZZ_ASSERT(
	    b.len == b2.len && (b.len == 0 || memcmp(b.p, b2.p, b.len) == 0));
	EW_FUZZ_ASSERT(c2->n_relays == c->n_relays);
	ew_conf_free(c);
	ew_conf_free(c2);
	ew_buf_free(&b);
	ew_buf_free(&b2);
	ew_diag_free(&d);
	return 0;
}
