/*
 * test_desk.c - unit tests for src/desk: judging incidents against the
 * policy history and taking complaints in (tickets, due times,
 * duplicates).  The block proposals, the managed policy and the reply
 * templates are in test_desk_blocks.c, several relays and the fleet in
 * test_desk_fleet.c; the set-up the three share in desk_fixture.c.
 *
 * Everything runs on a ":memory:" store (or, with EW_TEST_PG set, a
 * fresh schema of that PostgreSQL database); the policy versions are
 * recorded with ew_desk_record, the complaints are small RFC 5322 mails
 * built here (what they extract was checked with `exitwarden complaint
 * parse`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"
#include "store/store_int.h"
#include "unit/desk_fixture.h"

/* The policy before 2026-11-15 accepts everything; from then on it
 * rejects 203.0.113.5:6667 first. */
static const char pol_t1[] = "Address 192.0.2.10\naccept *:*\n";
static const char pol_t2[] = "Address 192.0.2.10\n"
			     "reject 203.0.113.5:6667\n"
			     "accept *:*\n";

static const struct ew_addr *
our_if_addr(void)
{
	static struct ew_addr a;

	EW_CHECK(ew_addr_parse(our_if[0], &a));
	return &a;
}

/* ---- helpers of the desk's insides ---- */

static void
test_parsers(void)
{
	struct ew_port_range *r = NULL;
	struct ew_addr a;
	unsigned bits = 0;
	size_t n = 9;

	EW_CHECK_INT(ew_desk_ports_parse("6660-7000,8888", &r, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(r[0].lo, 6660);
		EW_CHECK_INT(r[0].hi, 7000);
		EW_CHECK_INT(r[1].lo, 8888);
		EW_CHECK_INT(r[1].hi, 8888);
	}
	free(r);
	EW_CHECK_INT(ew_desk_ports_parse(NULL, &r, &n), 0);
	EW_CHECK_INT(n, 0);
	free(r);
	EW_CHECK_INT(ew_desk_ports_parse("", &r, &n), 0);
	EW_CHECK_INT(n, 0);
	free(r);
	EW_CHECK_INT(ew_desk_ports_parse("0", &r, &n), -EINVAL);
	EW_CHECK_INT(ew_desk_ports_parse("65536", &r, &n), -EINVAL);
	EW_CHECK_INT(ew_desk_ports_parse("7000-6660", &r, &n), -EINVAL);
	EW_CHECK_INT(ew_desk_ports_parse("80,,443", &r, &n), -EINVAL);
	EW_CHECK_INT(ew_desk_ports_parse("http", &r, &n), -EINVAL);
	EW_CHECK_INT(ew_desk_ports_parse("80-", &r, &n), -EINVAL);
	EW_CHECK(r == NULL);

	EW_CHECK_INT(ew_desk_net_parse("192.0.2.1", &a, &bits), 0);
	EW_CHECK_INT(bits, 32);
	EW_CHECK_INT(ew_desk_net_parse("192.0.2.0/24", &a, &bits), 0);
	EW_CHECK_INT(bits, 24);
	EW_CHECK_INT(a.family, EW_AF_INET);
	EW_CHECK_INT(ew_desk_net_parse("[2001:db8::1]", &a, &bits), 0);
	EW_CHECK_INT(bits, 128);
	EW_CHECK_INT(a.family, EW_AF_INET6);
	EW_CHECK_INT(ew_desk_net_parse("2001:db8::/32", &a, &bits), 0);
	EW_CHECK_INT(bits, 32);
	EW_CHECK_INT(ew_desk_net_parse("192.0.2.0/33", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse("192.0.2.0/", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse("/24", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse("192.0.2.0/2x", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse("example.org", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse("", &a, &bits), -EINVAL);
	EW_CHECK_INT(ew_desk_net_parse(NULL, &a, &bits), -EINVAL);
}

/* ---- judging ---- */

/*
 * The first judgement of a fresh desk, over an interval in which two
 * versions were in force: both are compiled and cached in one go.
 */
static void
test_judge_span_first(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1), *d2 = NULL;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, pol_t1, tm("2026-11-01T00:00:00Z")), 0);
	EW_CHECK_INT(record(d, pol_t2, tm("2026-11-15T00:00:00Z")), 0);
	ew_desk_free(d);
	d = NULL;
	/* a new desk: nothing cached yet */
	EW_CHECK_INT(ew_desk_new(st, NULL, 0, &d2), 0);
	if (d2 == NULL)
		goto out;
	EW_CHECK_STR(
	    judge(d2, "192.0.2.10", "203.0.113.5", "6667", NT,
		tm("2026-11-10T00:00:00Z"), tm("2026-11-20T00:00:00Z")),
	    "allowed");
	EW_CHECK_STR(
	    judge(d2, "192.0.2.10", "203.0.113.5", "6667", NT,
		tm("2026-11-16T00:00:00Z"), tm("2026-11-20T00:00:00Z")),
	    "blocked");
out:
	ew_desk_free(d2);
	desk_close(st, d);
}

static void
test_judge(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	int64_t t1 = tm("2026-11-01T00:00:00Z"),
		t2 = tm("2026-11-15T00:00:00Z");
	int64_t under1 = tm("2026-11-10T10:00:00Z");
	int64_t under2 = tm("2026-11-20T10:00:00Z");
	int64_t before = tm("2026-10-01T10:00:00Z");
	const char *us = "198.51.100.7";

	if (d == NULL)
		goto out;
	/* nothing recorded yet: unknown */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", under1, NT, NT), "unknown");
	EW_CHECK_INT(record(d, pol_t1, t1), 0);
	EW_CHECK_INT(record(d, pol_t2, t2), 0);
	/* the version in force again: nothing new */
	EW_CHECK_INT(record(d, pol_t2, t2 + 3600), 0);
	EW_CHECK_INT(nversions(st), 2);
	/* (a record at an earlier time moves forward: test_store covers
	 * it; here the history stays as it is) */

	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", under1, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", under2, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", before, NT, NT), "unknown");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", NT, NT, NT), "unknown");
	/* the boundary: T2 itself is under T2, the second before under T1 */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", t2, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", t2 - 1, NT, NT), "allowed");
	/* intervals: spanning both -> allowed; inside T2 -> blocked */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", NT, under1, under2), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", NT, t2, under2), "blocked");
	/* open-ended: before a time under T2 reaches back into T1 */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", NT, NT, under2), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", NT, t2, NT), "blocked");
	/* the same destination on another port, another destination */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6697", under2, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.6", "6667", under2, NT, NT), "allowed");
	/* several ports, one of them allowed: allowed */
	EW_CHECK_STR(judge(d, us, "203.0.113.5", "6667,6697", under2, NT, NT),
	    "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667,6667-6667", under2, NT, NT),
	    "blocked");
	/* no ports: some port of the destination was allowed */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", NULL, under2, NT, NT), "allowed");

	/* the source */
	EW_CHECK_STR(
	    judge(d, "203.0.113.99", "203.0.113.5", "6667", under2, NT, NT),
	    "not ours");
	EW_CHECK_STR(
	    judge(d, "2001:db8::1", "203.0.113.5", "6667", under2, NT, NT),
	    "not ours");
	/* not ours wins over "no history" and "no time" */
	EW_CHECK_STR(
	    judge(d, "203.0.113.99", "203.0.113.5", "6667", before, NT, NT),
	    "not ours");
	/* the policy's Address is ours, and so is a netblock holding it */
	EW_CHECK_STR(
	    judge(d, "192.0.2.10", "203.0.113.5", "6667", under2, NT, NT),
	    "blocked");
	EW_CHECK_STR(
	    judge(d, "192.0.2.0/24", "203.0.113.5", "6667", under2, NT, NT),
	    "blocked");
	EW_CHECK_STR(
	    judge(d, "198.51.100.0/25", "203.0.113.5", "6667", under1, NT, NT),
	    "allowed");
	EW_CHECK_STR(
	    judge(d, "192.0.3.0/24", "203.0.113.5", "6667", under2, NT, NT),
	    "not ours");
	EW_CHECK_STR(
	    judge(d, "192.0.2.11", "203.0.113.5", "6667", under2, NT, NT),
	    "not ours");
out:
	desk_close(st, d);
}

/*
 * A relay behind NAT: the interface address is private, the policy's
 * Address is the public one the complainants name.  With no time (or a
 * time before the history) the verdict is "unknown": docs/cli/workflow.md
 * says so, and "not ours" would be a false statement in the reply.
 */
static void
test_judge_own_address_no_time(void)
{
	static const char *const nat_if[] = { "10.0.0.2" };
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, nat_if, 1);
	const char *pub = "198.51.100.7";

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, "Address 198.51.100.7\naccept *:*\n",
			 tm("2026-11-01T00:00:00Z")),
	    0);
	EW_CHECK_STR(judge(d, pub, "203.0.113.5", "6667",
			 tm("2026-11-10T00:00:00Z"), NT, NT),
	    "allowed");
	EW_CHECK_STR(judge(d, "10.0.0.2", "203.0.113.5", "6667",
			 tm("2026-11-10T00:00:00Z"), NT, NT),
	    "allowed");
	EW_CHECK_STR(
	    judge(d, pub, "203.0.113.5", "6667", NT, NT, NT), "unknown");
	EW_CHECK_STR(judge(d, pub, "203.0.113.5", "6667",
			 tm("2026-10-01T00:00:00Z"), NT, NT),
	    "unknown");
out:
	desk_close(st, d);
}

/* Destination not stated: the p and p6 summaries decide. */
static void
test_judge_ports_only(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	const char *us = "198.51.100.7";
	int64_t t1 = tm("2026-11-01T00:00:00Z"),
		t2 = tm("2026-11-15T00:00:00Z");
	int64_t t3 = tm("2026-11-20T00:00:00Z");
	int64_t in1 = tm("2026-11-10T00:00:00Z"),
		in2 = tm("2026-11-16T00:00:00Z");
	int64_t in3 = tm("2026-11-21T00:00:00Z");

	if (d == NULL)
		goto out;
	EW_CHECK_INT(
	    record(d, "ExitPolicy reject *:6660-7000, accept *:*\n", t1), 0);
	EW_CHECK_STR(judge(d, us, NULL, "6667", in1, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, NULL, "80", in1, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, us, NULL, "6667,80", in1, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, us, NULL, "6660-7000", in1, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, NULL, "6000-6660", in1, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, us, NULL, NULL, in1, NT, NT), "allowed");
	/* the destination, when stated, is matched exactly */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", in1, NT, NT), "blocked");

	/* a reject of one netblock does not show in the summary: for an
	 * unstated destination the port was still open elsewhere */
	EW_CHECK_INT(record(d, "reject 203.0.113.0/24:*\naccept *:*\n", t2), 0);
	EW_CHECK_STR(judge(d, us, NULL, "6667", in2, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.5", "6667", in2, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, "203.0.113.5", NULL, in2, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, "198.18.0.5", NULL, in2, NT, NT), "allowed");

	/* IPv4 closed, IPv6 open on 6667: the p6 summary lets it through */
	EW_CHECK_INT(record(d,
			 "IPv6Exit 1\nreject *4:*\naccept *6:6667\n"
			 "reject *:*\n",
			 t3),
	    0);
	EW_CHECK_STR(judge(d, us, NULL, "6667", in3, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, us, NULL, "80", in3, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.7", "6667", in3, NT, NT), "blocked");
out:
	desk_close(st, d);
}

static void
test_judge_ipv6(void)
{
	static const char *const v6_if[] = { "2001:db8::7" };
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, v6_if, 1);
	const char *us = "2001:db8::7";
	int64_t t1 = tm("2026-11-01T00:00:00Z"),
		t2 = tm("2026-11-15T00:00:00Z");
	int64_t in1 = tm("2026-11-10T00:00:00Z"),
		in2 = tm("2026-11-16T00:00:00Z");

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d,
			 "IPv6Exit 1\nreject6 [2001:db8:1::]/48:6667\n"
			 "accept *:*\n",
			 t1),
	    0);
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:1:2::5", "6667", in1, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "[2001:db8:1:2::5]", "6667", in1, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:1:2::5", "80", in1, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:2::5", "6667", in1, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, "[2001:db8::7]", "2001:db8:2::5", "6667", in1, NT, NT),
	    "allowed");
	EW_CHECK_STR(
	    judge(d, "2001:db8::/64", "2001:db8:2::5", "6667", in1, NT, NT),
	    "allowed");
	EW_CHECK_STR(
	    judge(d, "2001:db9::7", "2001:db8:2::5", "6667", in1, NT, NT),
	    "not ours");
	/* IPv6Exit off (tor's default): every IPv6 destination refused */
	EW_CHECK_INT(record(d, "accept *:*\n", t2), 0);
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:2::5", "80", in2, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, "203.0.113.5", "80", in2, NT, NT), "allowed");
out:
	desk_close(st, d);
}

/*
 * A destination reported as a netblock: allowed when the policy let the
 * exit reach some of it, blocked only when it refused all of it.
 */
static void
test_judge_netblock_dst(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	const char *us = "198.51.100.7";
	int64_t in = tm("2026-11-10T00:00:00Z");

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, "reject 203.0.113.0/25:6667\naccept *:*\n",
			 tm("2026-11-01T00:00:00Z")),
	    0);
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/26", "6667", in, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.128/25", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", "80", in, NT, NT), "allowed");
	/* half of the /24 was reachable on 6667 */
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.77/24", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", "6660-6670", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", NULL, in, NT, NT), "allowed");

	/* one address inside the block open, the rest refused */
	EW_CHECK_INT(record(d,
			 "accept 203.0.113.200:6667\nreject 203.0.113.0/24:*\n"
			 "reject 255.255.255.0/25:80\n"
			 "reject 255.255.255.128/25:80\n"
			 "IPv6Exit 1\nreject6 [2001:db8:1::]/49:6667\n"
			 "accept *:*\n",
			 tm("2026-11-15T00:00:00Z")),
	    0);
	in = tm("2026-11-16T00:00:00Z");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/24", "6668", in, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.0/25", "6667", in, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "203.0.113.192/26", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "203.0.112.0/23", "6668", in, NT, NT), "allowed");
	/* a block at the very end of the address space */
	EW_CHECK_STR(
	    judge(d, us, "255.255.255.0/24", "80", in, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, us, "255.255.255.0/24", "81", in, NT, NT), "allowed");
	/* IPv6 netblocks */
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:1::/48", "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(
	    judge(d, us, "2001:db8:1::/49", "6667", in, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, us, "2001:db8:1:8000::/49", "6667", in, NT, NT),
	    "allowed");
out:
	desk_close(st, d);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * A policy read from a file with an include, a table file and a port
 * set: the version recorded stands on its own (judging re-reads it with
 * no file access), and OutboundBindAddress* names the relay too.
 */
static void
test_judge_file_policy(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	char dir[64], top[128], inc[128], list[128];
	int64_t in = tm("2026-11-10T00:00:00Z");

	snprintf(dir, sizeof(dir), "/tmp/ew-desk-XXXXXX");
	top[0] = inc[0] = list[0] = '\0';
	if (d == NULL || mkdtemp(dir) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "setup failed");
		goto out;
	}
	snprintf(top, sizeof(top), "%s/top.policy", dir);
	snprintf(inc, sizeof(inc), "%s/inc.policy", dir);
	snprintf(list, sizeof(list), "%s/bad.list", dir);
	EW_CHECK_INT(write_file(list, "192.0.2.66\n198.18.0.0/15\n"), 0);
	EW_CHECK_INT(write_file(inc, "reject *:25\n"), 0);
	EW_CHECK_INT(
	    write_file(top, "Address 192.0.2.10\n"
			    "OutboundBindAddressExit 192.0.2.20\n"
			    "chat = 6660-7000, 8080\n"
			    "table <bad> file \"bad.list\"\n"
			    "reject <bad>:$chat reason \"IRC\" ticket T-1 "
			    "expires 2027-01-01\n"
			    "include \"inc.policy\"\n"
			    "accept *:*\n"),
	    0);
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_policy_parse_file(top, 0, &dg, &p), 0);
	if (p != NULL)
		EW_CHECK_INT(
		    ew_desk_record(d, p, tm("2026-11-01T00:00:00Z"), &dg), 0);
	ew_diag_free(&dg);
	ew_policy_free(p);
	EW_CHECK_STR(judge(d, "192.0.2.20", "198.18.0.5", "6667", in, NT, NT),
	    "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.20", "198.18.0.5", "8080", in, NT, NT),
	    "blocked");
	EW_CHECK_STR(
	    judge(d, "192.0.2.20", "198.18.0.5", "443", in, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, "192.0.2.10", "192.0.2.66", "6667", in, NT, NT),
	    "blocked");
	EW_CHECK_STR(
	    judge(d, "192.0.2.10", "203.0.113.5", "25", in, NT, NT), "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.10", NULL, "25", in, NT, NT), "blocked");
	EW_CHECK_STR(
	    judge(d, "192.0.2.10", NULL, "6667", in, NT, NT), "allowed");
	EW_CHECK_STR(judge(d, "192.0.2.21", "203.0.113.5", "80", in, NT, NT),
	    "not ours");
out:
	if (top[0] != '\0') {
		unlink(top);
		unlink(inc);
		unlink(list);
	}
	rmdir(dir);
	desk_close(st, d);
}

/*
 * A second policy recorded in the same second as the one in force (the
 * store may refuse it, or let it take the version's place): when it is
 * taken, a desk that judged against the first one must not go on
 * judging with it.
 */
static void
test_judge_same_second(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1), *fresh = NULL;
	int64_t t = tm("2026-11-01T00:00:00Z"), in = t + 600;
	int rc;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, pol_t1, t), 0);
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667", in, NT, NT),
	    "allowed");
	rc = record(
	    d, "Address 192.0.2.99\nreject 203.0.113.5:6667\naccept *:*\n", t);
	EW_CHECK(rc == 0 || rc == -EINVAL);
	EW_CHECK_INT(ew_desk_new(st, our_if_addr(), 1, &fresh), 0);
	if (rc == 0 && fresh != NULL) {
		/* a new desk and the old one agree */
		EW_CHECK_STR(judge(fresh, "192.0.2.99", "203.0.113.5", "6667",
				 in, NT, NT),
		    "blocked");
		EW_CHECK_STR(
		    judge(d, "192.0.2.99", "203.0.113.5", "6667", in, NT, NT),
		    "blocked");
		EW_CHECK_STR(
		    judge(d, "198.51.100.7", "203.0.113.5", "6667", in, NT, NT),
		    "blocked");
	}
out:
	ew_desk_free(fresh);
	desk_close(st, d);
}

/*
 * From the review: "blocked" only when the whole time is covered; a
 * source is ours by the versions in force at the incident's time.
 */
static void
test_judge_cover_and_period(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	int64_t jan = tm("2026-01-01T00:00:00Z"),
		jun = tm("2026-06-01T00:00:00Z");
	int64_t nov = tm("2026-11-20T10:00:00Z");

	if (d == NULL)
		goto out;
	EW_CHECK_INT(
	    record(d, "Address 192.0.2.7\nreject *:6667\naccept *:*\n", jan),
	    0);
	EW_CHECK_INT(
	    record(d, "Address 192.0.2.8\nreject *:6667\naccept *:*\n", jun),
	    0);
	/* "before November" reaches back before January: not covered */
	EW_CHECK_STR(judge(d, "192.0.2.8", "203.0.113.5", "6667", NT, NT, nov),
	    "unknown");
	/* inside the history, refused throughout: blocked */
	EW_CHECK_STR(judge(d, "192.0.2.8", "203.0.113.5", "6667", NT, jan, nov),
	    "blocked");
	/* an interval that starts before the first version */
	EW_CHECK_STR(
	    judge(d, "192.0.2.8", "203.0.113.5", "6667", NT, jan - 60, nov),
	    "unknown");
	/* ...but one allowing it anywhere in the time is enough */
	EW_CHECK_STR(
	    judge(d, "192.0.2.8", "203.0.113.5", "80", NT, NT, nov), "allowed");
	/* in November the relay is .8: .7 (January's) is not ours then */
	EW_CHECK_STR(judge(d, "192.0.2.7", "203.0.113.5", "80", nov, NT, NT),
	    "not ours");
	EW_CHECK_STR(
	    judge(d, "192.0.2.7", "203.0.113.5", "80", jan + 60, NT, NT),
	    "allowed");
	/* no time: any version's address counts (we cannot say when) */
	EW_CHECK_STR(
	    judge(d, "192.0.2.7", "203.0.113.5", "80", NT, NT, NT), "unknown");
	EW_CHECK_STR(
	    judge(d, "192.0.2.9", "203.0.113.5", "80", NT, NT, NT), "not ours");
out:
	desk_close(st, d);
}

/*
 * Judging a port range a sender wrote ("1-65535") tries the ports where
 * the policy's items start or end, not every port: the verdicts are
 * those of trying every port, with a handful of lookups.
 */
static void
test_judge_port_range_work(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	int64_t t = tm("2026-11-10T10:00:00Z");
	unsigned long long w0;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d,
			 "ExitRelay 1\nreject *:1-1000\nreject *:1002-65535\n"
			 "accept *:*\n",
			 tm("2026-11-01T00:00:00Z")),
	    0);
	EW_CHECK_STR(
	    judge(d, "198.51.100.7", "203.0.113.5", "1-65535", t, NT, NT),
	    "allowed"); /* 1001 */
	w0 = ew_desk_work;
	EW_CHECK_STR(judge(d, "198.51.100.7", "203.0.113.5",
			 "1-1000,1002-65535", t, NT, NT),
	    "blocked");
	EW_CHECK_STR(
	    judge(d, "198.51.100.7", NULL, "2-999,1002-65535", t, NT, NT),
	    "blocked");
	EW_CHECK(ew_desk_work - w0 < 20);
	EW_CHECK_STR(
	    judge(d, "198.51.100.7", NULL, "1000-1001", t, NT, NT), "allowed");
out:
	desk_close(st, d);
}

/* ---- taking complaints in ---- */

static void
counts(struct ew_store *st, int64_t ec, int64_t ei)
{
	int64_t c = -1, i = -1;

	EW_CHECK_INT(ew_store_count(st, &c, &i), 0);
	EW_CHECK_INT(c, ec);
	EW_CHECK_INT(i, ei);
}

static size_t
ntickets(struct ew_store *st)
{
	struct ew_store_ticket *v = NULL;
	size_t n = 0;

	EW_CHECK_INT(ew_store_ticket_list(st, 0, 1, &v, &n), 0);
	ew_store_tickets_free(v, n);
	return n;
}

/* The verdict of the only incident of complaint cid. */
static const char *
verdict_of(struct ew_store *st, int64_t cid)
{
	static char buf[32];
	struct ew_store_incident *v = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "error");
	if (ew_store_incident_list(st, cid, &v, &n) == 0 && n == 1)
		snprintf(buf, sizeof(buf), "%s",
		    v[0].verdict ? ew_store_verdict_word(v[0].verdict)
				 : "(null)");
	ew_store_incidents_free(v, n);
	return buf;
}

static int64_t
due_of(struct ew_store *st, int64_t tid)
{
	struct ew_store_ticket *t = NULL;
	int64_t due = -1;

	if (ew_store_ticket_get(st, tid, 0, &t) == 0)
		due = t->due_at;
	ew_store_tickets_free(t, t ? 1 : 0);
	return due;
}

static size_t
ncomplaints_of(struct ew_store *st, int64_t tid)
{
	struct ew_store_ticket *t = NULL;
	size_t n = 999;

	if (ew_store_ticket_get(st, tid, 0, &t) == 0)
		n = t->ncomplaints;
	ew_store_tickets_free(t, t ? 1 : 0);
	return n;
}

#define SEEN_T2                                                                \
	"we saw connections from 198.51.100.7 to 203.0.113.5 port 6667 "       \
	"at 2026-11-20 10:00:00 UTC."
#define SEEN_T1                                                                \
	"we saw connections from 198.51.100.7 to 203.0.113.5 port 6667 "       \
	"at 2026-11-10 10:00:00 UTC."

static void
test_add(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_added a, b, r;
	int64_t now = tm("2026-11-21T00:00:00Z");
	int64_t t1 = 0, cid_b = 0, cid_f = 0, due;
	const char *m;
	char copy[8192];

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, pol_t1, tm("2026-11-01T00:00:00Z")), 0);
	EW_CHECK_INT(record(d, pol_t2, tm("2026-11-15T00:00:00Z")), 0);

	/* the first complaint of a reporter opens a ticket, no deadline */
	m = mail(
	    IRC, "a1@irc.example", "Fri, 20 Nov 2026 12:00:00 +0000", SEEN_T2);
	EW_CHECK_INT(add(d, m, now, &a), 0);
	EW_CHECK(a.complaint_id > 0);
	EW_CHECK(a.ticket_id > 0);
	EW_CHECK_INT(a.duplicate, 0);
	EW_CHECK_INT(a.new_ticket, 1);
	EW_CHECK_INT(a.due, NT);
	EW_CHECK_STR(verdict_of(st, a.complaint_id), "blocked");
	t1 = a.ticket_id;

	/* the same reporter again: the same ticket, due at its deadline */
	m = mail(IRC, "a2@irc.example", "Thu, 12 Nov 2026 00:00:00 +0000",
	    SEEN_T1 " Please act within 24 hours.");
	EW_CHECK_INT(add(d, m, now, &b), 0);
	EW_CHECK_INT(b.ticket_id, t1);
	EW_CHECK_INT(b.new_ticket, 0);
	EW_CHECK_INT(b.duplicate, 0);
	EW_CHECK(b.complaint_id > a.complaint_id);
	EW_CHECK_INT(b.due, tm("2026-11-13T00:00:00Z"));
	EW_CHECK_INT(due_of(st, t1), tm("2026-11-13T00:00:00Z"));
	EW_CHECK_STR(verdict_of(st, b.complaint_id), "allowed");
	cid_b = b.complaint_id;

	/* an earlier deadline moves the due time forward ... */
	m = mail(IRC, "a3@irc.example", "Thu, 12 Nov 2026 06:00:00 +0000",
	    SEEN_T1 " Your server will be disconnected in 12 hours.");
	EW_CHECK_INT(add(d, m, now, &r), 0);
	EW_CHECK_INT(r.ticket_id, t1);
	EW_CHECK_INT(r.due, tm("2026-11-12T18:00:00Z"));
	/* ... a later one or none does not move it back */
	m = mail(IRC, "a4@irc.example", "Sat, 14 Nov 2026 00:00:00 +0000",
	    SEEN_T1 " Please act within 24 hours.");
	EW_CHECK_INT(add(d, m, now, &r), 0);
	EW_CHECK_INT(r.ticket_id, t1);
	EW_CHECK_INT(r.due, tm("2026-11-12T18:00:00Z"));
	m = mail(
	    IRC, "a5@irc.example", "Sat, 14 Nov 2026 00:00:00 +0000", SEEN_T1);
	EW_CHECK_INT(add(d, m, now, &r), 0);
	EW_CHECK_INT(r.ticket_id, t1);
	EW_CHECK_INT(r.due, tm("2026-11-12T18:00:00Z"));
	EW_CHECK_INT(due_of(st, t1), tm("2026-11-12T18:00:00Z"));
	EW_CHECK_INT(ncomplaints_of(st, t1), 5);
	counts(st, 5, 5);
	EW_CHECK_INT(ntickets(st), 1);

	/* another reporter: another ticket */
	m = mail("Other <abuse@other.example>", "o1@other.example",
	    "Fri, 20 Nov 2026 12:00:00 +0000", SEEN_T2);
	EW_CHECK_INT(add(d, m, now, &r), 0);
	EW_CHECK(r.ticket_id > 0 && r.ticket_id != t1);
	EW_CHECK_INT(r.new_ticket, 1);
	EW_CHECK_INT(ntickets(st), 2);
	counts(st, 6, 6);

	/* delivered again (new Received: and Delivered-To: lines, CRLF):
	 * the same content, nothing changes */
	m = mail(IRC, "a2@irc.example", "Thu, 12 Nov 2026 00:00:00 +0000",
	    SEEN_T1 " Please act within 24 hours.");
	snprintf(copy, sizeof(copy),
	    "Received: from mx2.hoster.example by mx.relay.example;\r\n"
	    "\tSat, 21 Nov 2026 00:00:00 +0000\r\n"
	    "Delivered-To: abuse@relay.example\r\n%s",
	    m);
	EW_CHECK_INT(add(d, copy, now, &r), 0);
	EW_CHECK_INT(r.duplicate, 1);
	EW_CHECK_INT(r.complaint_id, cid_b);
	EW_CHECK_INT(r.ticket_id, t1);
	EW_CHECK_INT(r.new_ticket, 0);
	EW_CHECK_INT(r.due, tm("2026-11-12T18:00:00Z"));
	counts(st, 6, 6);
	EW_CHECK_INT(ntickets(st), 2);
	EW_CHECK_INT(ncomplaints_of(st, t1), 5);

	/* re-sent byte for byte, without a Message-ID */
	m = mail(IRC, NULL, "Mon, 16 Nov 2026 00:00:00 +0000", SEEN_T1);
	snprintf(copy, sizeof(copy), "%s", m);
	EW_CHECK_INT(add(d, copy, now, &r), 0);
	EW_CHECK_INT(r.duplicate, 0);
	EW_CHECK_INT(r.ticket_id, t1);
	cid_f = r.complaint_id;
	due = due_of(st, t1);
	counts(st, 7, 7);
	EW_CHECK_INT(add(d, copy, now + 60, &r), 0);
	EW_CHECK_INT(r.duplicate, 1);
	EW_CHECK_INT(r.complaint_id, cid_f);
	EW_CHECK_INT(r.ticket_id, t1);
	EW_CHECK_INT(r.due, due);
	counts(st, 7, 7);
	EW_CHECK_INT(ntickets(st), 2);

	/* once the ticket is closed, the reporter's next complaint opens a
	 * new one; a re-sent old complaint still names the closed one */
	EW_CHECK_INT(ew_store_ticket_close(st, t1, "blocked"), 0);
	m = mail(
	    IRC, "a9@irc.example", "Sat, 21 Nov 2026 00:00:00 +0000", SEEN_T2);
	EW_CHECK_INT(add(d, m, now, &r), 0);
	EW_CHECK_INT(r.new_ticket, 1);
	EW_CHECK(r.ticket_id > 0 && r.ticket_id != t1);
	EW_CHECK_INT(ntickets(st), 3);
	EW_CHECK_INT(add(d, copy, now, &r), 0);
	EW_CHECK_INT(r.duplicate, 1);
	EW_CHECK_INT(r.ticket_id, t1);
	counts(st, 8, 8);
out:
	desk_close(st, d);
}

/*
 * Complaint suppression (issue 17, item 3): a prank that takes the
 * provider's predictable Message-ID first does not make the real
 * complaint a duplicate.  The real one is stored, opens its ticket with
 * its deadline, and is flagged as reusing the Message-ID; a copy of it
 * delivered again is still a duplicate.
 */
static void
test_add_prank(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_added prank, real, r;
	int64_t now = tm("2026-11-20T12:30:00Z");
	char copy[4096];
	const char *m;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(record(d, pol_t1, tm("2026-11-01T00:00:00Z")), 0);
	m = mail("Joker <joker@evil.example>", "ticket-4711@hoster.example",
	    "Fri, 20 Nov 2026 11:00:00 +0000", "hello, nothing to see here");
	EW_CHECK_INT(add(d, m, now, &prank), 0);
	EW_CHECK_INT(prank.duplicate, 0);
	m = mail("Hoster Abuse <abuse@hoster.example>",
	    "ticket-4711@hoster.example", "Fri, 20 Nov 2026 12:00:00 +0000",
	    SEEN_T2 " Your server will be disconnected in 12 hours.");
	snprintf(copy, sizeof(copy), "%s", m);
	EW_CHECK_INT(add(d, m, now, &real), 0);
	EW_CHECK_INT(real.duplicate, 0);
	EW_CHECK(real.complaint_id > prank.complaint_id);
	EW_CHECK_INT(real.new_ticket, 1);
	EW_CHECK(real.ticket_id != prank.ticket_id);
	EW_CHECK_INT(real.due, tm("2026-11-21T00:00:00Z"));
	EW_CHECK_INT(due_of(st, real.ticket_id), tm("2026-11-21T00:00:00Z"));
	EW_CHECK_INT(real.reuses_message_id, prank.complaint_id);
	EW_CHECK_INT(prank.reuses_message_id, 0);
	EW_CHECK_STR(verdict_of(st, real.complaint_id), "allowed");
	counts(st, 2, 1);
	/* the real one again, through another relay: a duplicate of it */
	snprintf(mailbuf, sizeof(mailbuf),
	    "From abuse@hoster.example Sat Nov 21 00:00:00 2026\n"
	    "Return-Path: <abuse@hoster.example>\n"
	    "Received: from mx9.hoster.example\n"
	    "  by mx.relay.example with ESMTPS id 1\n"
	    "X-Spam-Status: No\n%s",
	    copy);
	EW_CHECK_INT(add(d, mailbuf, now, &r), 0);
	EW_CHECK_INT(r.duplicate, 1);
	EW_CHECK_INT(r.complaint_id, real.complaint_id);
	EW_CHECK_INT(r.ticket_id, real.ticket_id);
	counts(st, 2, 1);
out:
	desk_close(st, d);
}

/* The content key: the delivery trace does not count, the rest does. */
static void
test_content_key(void)
{
	static const char a[] = "From: x@y\nSubject: s\n\nbody\n";
	static const char b[] =
	    "Received: from a\r\n by b\r\nFrom: x@y\r\n"
	    "X-Original-To: abuse@z\r\nSubject: s\r\n\r\nbody\r\n";
	static const char c[] = "From: x@y\nSubject: s\n\nbody!\n";
	static const char e[] = "From: x@y\nSubject: t\n\nbody\n";
	/* "Received:" in the body is content */
	static const char f[] = "From: x@y\nSubject: s\n\nReceived: x\nbody\n";
	char ka[65], kb[65], kc[65], ke[65], kf[65];

	EW_CHECK_INT(ew_desk_content_key(a, strlen(a), ka), 0);
	EW_CHECK_INT(ew_desk_content_key(b, strlen(b), kb), 0);
	EW_CHECK_INT(ew_desk_content_key(c, strlen(c), kc), 0);
	EW_CHECK_INT(ew_desk_content_key(e, strlen(e), ke), 0);
	EW_CHECK_INT(ew_desk_content_key(f, strlen(f), kf), 0);
	EW_CHECK_INT(strlen(ka), 64);
	EW_CHECK_STR(ka, kb);
	EW_CHECK(strcmp(ka, kc) != 0);
	EW_CHECK(strcmp(ka, ke) != 0);
	EW_CHECK(strcmp(ka, kf) != 0);
}

/* Complaints the desk must refuse: nothing is stored. */
static void
test_add_refused(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_added r;
	struct ew_diag_list dg;
	struct ew_buf deep = EW_BUF_INIT;
	int64_t now = tm("2026-11-21T00:00:00Z");
	int i, rc;

	if (d == NULL)
		goto out;
	/* MIME nested deeper than the mail module allows */
	ew_buf_puts(&deep, "From: deep@example.org\n"
			   "Date: Sun, 22 Nov 2026 10:00:00 +0000\n"
			   "Message-ID: <deep@example.org>\n"
			   "MIME-Version: 1.0\n");
	for (i = 0; i < 80; i++)
		ew_buf_printf(&deep,
		    "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\n\n--b%d\n",
		    i, i);
	ew_buf_puts(&deep,
	    "Content-Type: text/plain\n\nwe saw connections from "
	    "198.51.100.7 to 203.0.113.5 port 6667 at 2026-11-20 "
	    "10:00:00 UTC.\n");
	ew_diag_init(&dg);
	memset(&r, 0x55, sizeof(r));
	rc = ew_desk_add(
	    d, "deep.eml", ew_buf_str(&deep), deep.len, now, &dg, &r);
	EW_CHECK_INT(rc, -EINVAL);
	EW_CHECK(dg.nerr > 0);
	EW_CHECK_INT(r.complaint_id, 0);
	EW_CHECK_INT(r.ticket_id, 0);
	ew_diag_free(&dg);
	counts(st, 0, 0);
	EW_CHECK_INT(ntickets(st), 0);

	/* an empty message is no complaint */
	ew_diag_init(&dg);
	rc = ew_desk_add(d, "empty.eml", "", 0, now, &dg, &r);
	EW_CHECK_INT(rc, -EINVAL);
	EW_CHECK(dg.nerr > 0);
	ew_diag_free(&dg);
	counts(st, 0, 0);
	EW_CHECK_INT(ntickets(st), 0);
out:
	ew_buf_free(&deep);
	desk_close(st, d);
}

/*
 * A stored version the desk cannot read (written by another program, or
 * an older exitwarden): ew_desk_add says -EINVAL only for a message that
 * is not a complaint (inbox scan files those away as unreadable), so a
 * good complaint must not get it.
 */
static void
test_add_bad_version(void)
{
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, our_if, 1);
	struct ew_desk_added r;
	int64_t id = 0;
	int rc;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(
	    ew_store_policy_record(st, "digest", "ExitPolicy frobnicate *:*\n",
		tm("2026-11-01T00:00:00Z"), &id),
	    0);
	rc = add(d,
	    mail(IRC, "bad@irc.example", "Fri, 20 Nov 2026 12:00:00 +0000",
		SEEN_T2),
	    tm("2026-11-21T00:00:00Z"), &r);
	EW_CHECK(rc != -EINVAL);
	if (rc == 0)
		counts(st, 1, 1);
out:
	desk_close(st, d);
}

int
main(void)
{
	EW_RUN(test_parsers);
	EW_RUN(test_judge_span_first);
	EW_RUN(test_judge);
	EW_RUN(test_judge_own_address_no_time);
	EW_RUN(test_judge_ports_only);
	EW_RUN(test_judge_ipv6);
	EW_RUN(test_judge_netblock_dst);
	EW_RUN(test_judge_file_policy);
	EW_RUN(test_judge_same_second);
	EW_RUN(test_judge_cover_and_period);
	EW_RUN(test_add);
	EW_RUN(test_add_refused);
	EW_RUN(test_add_prank);
	EW_RUN(test_content_key);
	EW_RUN(test_add_bad_version);
	EW_RUN(test_judge_port_range_work);
	return ew_test_done();
}
