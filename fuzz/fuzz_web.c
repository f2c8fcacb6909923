/*
 * fuzz_web.c - the web face's request parsers (src/web/form.c): an
 * urlencoded POST body, then the target and ports of a block request
 * read from it.  Invariants: decoded values are bounded and hold no
 * NUL; a target that parses covers its own address, its host bits are
 * clear, and every policy line made from it parses as a policy (with
 * one rule) and reads back as the same target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/diag.h"
#include "policy/policy.h"
#include "web/web.h"

/* The address part of "reject ADDR[/LEN]:PORTS" read back. */
static void
round_trip(const char *rule, const struct ew_web_target *t)
{
	struct ew_web_target u;
	const char *sp = strchr(rule, ' '), *colon = strrchr(rule, ':'), *why;
	char a[80];

	EW_FUZZ_ASSERT(sp != NULL && colon != NULL && colon > sp);
	EW_FUZZ_ASSERT((size_t)(colon - sp - 1) < sizeof(a));
	memcpy(a, sp + 1, (size_t)(colon - sp - 1));
	a[colon - sp - 1] = '\0';
	EW_FUZZ_ASSERT(ew_web_target_parse(a, colon + 1, &u, &why) == 0);
	EW_FUZZ_ASSERT(u.bits == t->bits);
	EW_FUZZ_ASSERT(memcmp(&u.addr, &t->addr, sizeof(u.addr)) == 0);
	EW_FUZZ_ASSERT(u.nports <= 1);
}

static void
check_rules(const struct ew_web_target *t)
{
	char *rules[EW_WEB_MAX_PORTS];
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	size_t n, i;

	n = ew_web_target_rules(t, rules);
	EW_FUZZ_ASSERT(n == (t->nports ? t->nports : 1));
	for (i = 0; i < n; i++) {
		ew_diag_init(&dg);
		EW_FUZZ_ASSERT(
		    ew_policy_parse_string("rule", rules[i], strlen(rules[i]),
			EW_PARSE_NO_INCLUDE, &dg, &p) == 0);
		EW_FUZZ_ASSERT(ew_policy_rule_count(p) == 1);
		ew_policy_free(p);
		p = NULL;
		ew_diag_free(&dg);
		round_trip(rules[i], t);
		free(rules[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_web_field f[EW_WEB_MAX_FIELDS];
	struct ew_web_target t;
	const char *why;
	size_t n, i;

	if (size > EW_WEB_MAX_BODY)
		return 0;
	if (ew_web_form_parse(
		(const char *)data, size, f, EW_WEB_MAX_FIELDS, &n) != 0)
		return 0;
	EW_FUZZ_ASSERT(n <= EW_WEB_MAX_FIELDS);
	for (i = 0; i < n; i++) {
		EW_FUZZ_ASSERT(f[i].len <= EW_WEB_MAX_VALUE);
		EW_FUZZ_ASSERT(strlen(f[i].value) == f[i].len);
	}
	if (ew_web_target_parse(ew_web_form_get(f, n, "target"),
		ew_web_form_get(f, n, "ports"), &t, &why) != 0) {
		EW_FUZZ_ASSERT(why != NULL && *why != '\0');
		return 0;
	}
	EW_FUZZ_ASSERT(t.bits <= ew_addr_bits(&t.addr));
	EW_FUZZ_ASSERT(t.nports <= EW_WEB_MAX_PORTS);
	EW_FUZZ_ASSERT(ew_web_target_covers(&t, &t.addr, 0, 0));
	check_rules(&t);
	return 0;
}
