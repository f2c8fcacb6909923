/*
 * test_compile.c - tor's evaluation (section 7 of the shared reference)
 * on hand-made lists, and the summary-policy reader (section 8).
 */
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "harness/ew_test.h"
#include "policy/policy.h"

static struct ew_item
item(int action, const char *a, unsigned mask, unsigned lo, unsigned hi)
{
	struct ew_item it;

	memset(&it, 0, sizeof(it));
	ew_addr_parse(a, &it.addr);
	it.action = (uint8_t)action;
	it.maskbits = (uint8_t)mask;
	it.pmin = (uint16_t)lo;
	it.pmax = (uint16_t)hi;
	return it;
}

static const char *
q(const struct ew_item *v, size_t n, const char *addr, unsigned port,
    size_t *dec)
{
	struct ew_addr a;

	memset(&a, 0, sizeof(a));
	if (addr != NULL)
		ew_addr_parse(addr, &a);
	return ew_verdict_word(
	    ew_oracle_match(v, n, addr ? &a : NULL, (uint16_t)port, dec));
}

static void
test_section7(void)
{
	struct ew_item l[2], m[2], k[2];
	size_t d;

	l[0] = item(EW_REJECT, "1.2.3.0", 24, 80, 80);
	l[1] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 80, &d), "rejected");
	EW_CHECK_INT(d, 0);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 443, &d), "accepted");
	EW_CHECK_INT(d, 1);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 0, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, "5.6.7.8", 0, &d), "accepted");
	EW_CHECK_STR(q(l, 2, NULL, 80, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, NULL, 443, &d), "accepted");
	EW_CHECK_STR(q(l, 2, NULL, 0, &d), "rejected");
	EW_CHECK_INT(d, EW_NO_ITEM);
	EW_CHECK_STR(q(l, 2, "0.0.0.0", 80, &d), "probably_accepted");
	EW_CHECK_STR(q(l, 2, "::", 80, &d), "probably_accepted");
	/* fall-through: no IPv6 item at all */
	EW_CHECK_STR(q(l, 2, "2001:db8::1", 80, &d), "accepted");
	EW_CHECK_INT(d, EW_NO_ITEM);
	EW_CHECK_STR(q(l, 0, "1.2.3.4", 80, &d), "accepted");

	m[0] = item(EW_REJECT, "::", 0, 1, 65535);
	m[1] = item(EW_ACCEPT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(m, 2, NULL, 80, &d), "rejected");
	EW_CHECK_INT(d, 0);

	k[0] = item(EW_ACCEPT, "::ffff:1.2.3.4", 128, 80, 80);
	k[1] = item(EW_REJECT, "0.0.0.0", 0, 1, 65535);
	EW_CHECK_STR(q(k, 2, "1.2.3.4", 80, &d), "rejected");
	EW_CHECK_STR(q(k, 2, "::ffff:1.2.3.4", 80, &d), "accepted");

	/* port 0: a partial reject before a full accept */
	l[0] = item(EW_ACCEPT, "1.2.3.0", 24, 80, 80);
	l[1] = item(EW_REJECT, "1.2.0.0", 16, 1, 65535);
	EW_CHECK_STR(q(l, 2, "1.2.3.4", 0, &d), "probably_rejected");
	EW_CHECK_STR(q(l, 2, "1.2.4.4", 0, &d), "rejected");
	EW_CHECK_STR(q(l, 2, "1.3.4.4", 0, &d), "accepted");
}

static void
test_short_policy(void)
{
	struct ew_short_policy *sp;
	char *s;

	sp = ew_short_policy_parse("accept 2,fred,3");
	EW_CHECK(sp != NULL);
	if (sp != NULL) {
		s = ew_short_policy_format(sp);
		EW_CHECK_STR(s, "accept 2,3");
		free(s);
		ew_short_policy_free(sp);
	}
	sp = ew_short_policy_parse("reject ,1-10,,,,30-40");
	EW_CHECK(sp != NULL);
	if (sp != NULL) {
		s = ew_short_policy_format(sp);
		EW_CHECK_STR(s, "reject 1-10,30-40");
		free(s);
		EW_CHECK(!ew_short_policy_accepts(sp, 5));
		EW_CHECK(ew_short_policy_accepts(sp, 11));
		ew_short_policy_free(sp);
	}
	EW_CHECK(ew_short_policy_parse("accept 2,3x,4") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 100000") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 2-") == NULL);
	EW_CHECK(ew_short_policy_parse("accept 200-199") == NULL);
	EW_CHECK(ew_short_policy_parse("accept fred") == NULL);
	EW_CHECK(ew_short_policy_parse("allow 80") == NULL);
	EW_CHECK(ew_short_policy_parse("accept ") == NULL);
	sp = ew_short_policy_parse("accept 80");
	EW_CHECK(sp != NULL && ew_short_policy_accepts(sp, 80) &&
		 !ew_short_policy_accepts(sp, 81));
	ew_short_policy_free(sp);
	sp = ew_short_policy_parse("reject 80");
	EW_CHECK(sp != NULL && ew_short_policy_accepts(sp, 81) &&
		 !ew_short_policy_accepts(sp, 80));
	ew_short_policy_free(sp);
}

static void
test_summary_units(void)
{
	struct ew_item v[3];
	char *s;

	/* IPv6: a /16 reject does not tip the port, a /15 does (C52) */
	v[0] = item(EW_REJECT, "2001::", 16, 80, 80);
	v[1] = item(EW_REJECT, "2400::", 15, 443, 443);
	v[2] = item(EW_ACCEPT, "::", 0, 1, 65535);
	s = ew_policy_summarize(v, 3, EW_AF_INET6);
	EW_CHECK_STR(s, "reject 443");
	free(s);
	/* nothing of the family: reject everything */
	s = ew_policy_summarize(v, 3, EW_AF_INET);
	EW_CHECK_STR(s, "reject 1-65535");
	free(s);
}

int
main(void)
{
	EW_RUN(test_section7);
	EW_RUN(test_short_policy);
	EW_RUN(test_summary_units);
	return ew_test_done();
}
