/*
 * fuzz_policy.c - the policy parser, end to end: parse (no file access),
 * expand, print the canonical form, and check the printer's promise: the
 * canonical text parses again, prints itself again, and expands to the
 * same list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "policy/policy.h"

static char *
expand_text(struct ew_policy *p)
{
	struct ew_expand_env env;
	struct ew_expanded *e = NULL;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;

	memset(&env, 0, sizeof(env));
	env.now = 1780000000; /* 2026-05-28 */
	ew_diag_init(&d);
	if (ew_policy_expand(p, &env, &d, &e) < 0) {
		/* only a configuration tor aborts on, with a reason */
		EW_FUZZ_ASSERT(d.nerr > 0 && e == NULL);
		ew_diag_free(&d);
		return strdup("refused");
	}
	ew_expanded_format(e, &b);
	ew_expanded_free(e);
	ew_diag_free(&d);
	return ew_buf_detach(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL, *q = NULL;
	struct ew_buf s1 = EW_BUF_INIT, s2 = EW_BUF_INIT, msgs = EW_BUF_INIT;
	char *e1, *e2;

	if (size > 65536)
		return 0;
	ew_diag_init(&d);
	if (ew_policy_parse_string("fuzz", (const char *)data, size,
		EW_PARSE_NO_INCLUDE, &d, &p) < 0) {
		/* a refusal must say why, with a location when it has one */
		EW_FUZZ_ASSERT(d.nerr > 0 && p == NULL);
		ew_diag_format(&d, &msgs);
		ew_buf_free(&msgs);
		ew_diag_free(&d);
		return 0;
	}
	ew_diag_free(&d);
	ew_policy_show(p, &s1);
	e1 = expand_text(p);
	ew_diag_init(&d);
	EW_FUZZ_ASSERT(ew_policy_parse_string("show", ew_buf_str(&s1), s1.len,
			   EW_PARSE_NO_INCLUDE, &d, &q) == 0);
	ew_diag_free(&d);
	ew_policy_show(q, &s2);
	EW_FUZZ_ASSERT(strcmp(ew_buf_str(&s1), ew_buf_str(&s2)) == 0);
	e2 = expand_text(q);
	EW_FUZZ_ASSERT(e1 != NULL && e2 != NULL && strcmp(e1, e2) == 0);
	free(e1);
	free(e2);
	ew_buf_free(&s1);
	ew_buf_free(&s2);
	ew_policy_free(p);
	ew_policy_free(q);
	return 0;
}
