/*
 * desk_fixture.c - the desk's unit tests' shared set-up (see
 * desk_fixture.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"
#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "lib/addr.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"
#include "unit/desk_fixture.h"

int64_t
tm(const char *iso)
{
	int64_t t = 0;

	if (ew_time_parse(iso, strlen(iso), &t) < 0) {
		ew_test_fail(__FILE__, __LINE__, "bad time %s", iso);
		return 0;
	}
	return t;
}

/* A store and a desk over it, with these interface addresses. */
struct ew_desk *
desk_open(struct ew_store **st, const char *const *ifs, size_t n)
{
	struct ew_addr a[4];
	struct ew_desk *d = NULL;
	char target[1024];
	size_t i;

	*st = NULL;
	for (i = 0; i < n && i < 4; i++)
		EW_CHECK(ew_addr_parse(ifs[i], &a[i]));
	ew_test_store_target(target, sizeof(target));
	EW_CHECK_INT(ew_store_open(target, st), 0);
	if (*st == NULL)
		return NULL;
	EW_CHECK_INT(ew_desk_new(*st, a, n, &d), 0);
	return d;
}

void
desk_close(struct ew_store *st, struct ew_desk *d)
{
	ew_desk_free(d);
	ew_store_close(st);
}

/* Record the policy `text` as applied at `at`. */
int
record(struct ew_desk *d, const char *text, int64_t at)
{
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	int rc;

	ew_diag_init(&dg);
	rc = ew_policy_parse_string(
	    "test.policy", text, strlen(text), EW_PARSE_NO_INCLUDE, &dg, &p);
	if (rc == 0)
		rc = ew_desk_record(d, p, at, &dg);
	ew_policy_free(p);
	ew_diag_free(&dg);
	return rc;
}

/*
 * Test data keeps ports and verdicts as text: the store takes them
 * typed.  The port lists are parsed into a pool that lives for the run.
 */
static struct ew_port_range port_pool[1 << 16];
static size_t port_pool_n;

const struct ew_port_range *
tports(const char *s, size_t *n)
{
	struct ew_port_range *r = NULL;
	size_t k = 0;

	*n = 0;
	if (s == NULL || ew_ports_parse(s, strlen(s), &r, &k) != 0 ||
	    port_pool_n + k > sizeof(port_pool) / sizeof(port_pool[0])) {
		free(r);
		return NULL;
	}
	memcpy(port_pool + port_pool_n, r, k * sizeof(*r));
	free(r);
	port_pool_n += k;
	*n = k;
	return k ? port_pool + port_pool_n - k : NULL;
}

/* The verdict on one incident, or "error". */
const char *
judge(struct ew_desk *d, const char *src, const char *dst, const char *ports,
    int64_t t, int64_t from, int64_t to)
{
	struct ew_store_incident in;
	enum ew_store_verdict v = EW_STORE_VERDICT_NONE;

	memset(&in, 0, sizeof(in));
	in.src = src;
	in.src_port = -1;
	in.dst = dst;
	in.dst_ports = tports(ports, &in.n_dst_ports);
	in.time = t;
	in.time_from = from;
	in.time_to = to;
	if (ew_desk_judge(d, &in, &v) != 0 || v == EW_STORE_VERDICT_NONE)
		return "error";
	return ew_store_verdict_word(v);
}

size_t
nversions(struct ew_store *st)
{
	struct ew_store_policy_version *v = NULL;
	size_t n = 0;

	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &v, &n), 0);
	ew_store_policy_versions_free(v, n);
	return n;
}

const char *const our_if[] = { "198.51.100.7" };

char mailbuf[8192];

/* A small mail; msgid NULL for none. */
const char *
mail(const char *from, const char *msgid, const char *date, const char *body)
{
	int n;

	if (msgid != NULL)
		n = snprintf(mailbuf, sizeof(mailbuf),
		    "From: %s\nTo: abuse@hoster.example\n"
		    "Subject: abuse from your network\n"
		    "Message-ID: <%s>\nDate: %s\n\n%s\n",
		    from, msgid, date, body);
	else
		n = snprintf(mailbuf, sizeof(mailbuf),
		    "From: %s\nTo: abuse@hoster.example\n"
		    "Subject: abuse from your network\n"
		    "Date: %s\n\n%s\n",
		    from, date, body);
	EW_CHECK(n > 0 && (size_t)n < sizeof(mailbuf));
	return mailbuf;
}

int
add(struct ew_desk *d, const char *m, int64_t now, struct ew_desk_added *r)
{
	struct ew_diag_list dg;
	int rc;

	ew_diag_init(&dg);
	rc = ew_desk_add(d, "test.eml", m, strlen(m), now, &dg, r);
	ew_diag_free(&dg);
	return rc;
}
