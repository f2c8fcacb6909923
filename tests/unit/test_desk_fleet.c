/*
 * test_desk_fleet.c - unit tests for src/desk, continued from
 * test_desk.c: several relays on one host, the fleet's hosts (judging
 * across hosts, complaints for many), the store lost in the middle of a
 * change (PostgreSQL only), a host's emergency blocks in its cached
 * managed policy.  The set-up shared with test_desk is in
 * desk_fixture.c.
 *
 * Like test_desk, on a ":memory:" store or, with EW_TEST_PG set
 * (store/pg-desk-fleet), a fresh schema of that PostgreSQL database.
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

/*
 * Several relays on one host (issue 13): each relay its own history;
 * an incident is blocked only if every relay that had the address
 * refused it; a relay bound to another exit address is left out; a
 * block for one relay is in its managed policy only.
 */
static void
test_relays(void)
{
	static const char *const ifs[] = { "192.0.2.10" };
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, ifs, 1);
	struct ew_store_policy_version *pv = NULL;
	struct ew_buf b = EW_BUF_INIT;
	size_t n = 0, i, nopen = 0;
	int64_t t0 = tm("2026-11-01T00:00:00Z"), id = 0;

	if (d == NULL)
		goto out;
	EW_CHECK_INT(ew_desk_set_relay(d, "a"), 0);
	EW_CHECK_STR(ew_desk_relay(d), "a");
	EW_CHECK_INT(record(d, "reject *:6667\naccept *:*\n", t0), 0);
	EW_CHECK_INT(ew_desk_set_relay(d, "b"), 0);
	EW_CHECK_INT(record(d, "accept *:*\n", t0), 0);
	/* b's record did not end a's version: two timelines */
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &pv, &n), 0);
	EW_CHECK_INT(n, 2);
	for (i = 0; i < n; i++)
		nopen += pv[i].applied_to == NT;
	EW_CHECK_INT(nopen, 2);
	EW_CHECK(n == 2 && strcmp(pv[0].relay, "a") == 0 &&
		 strcmp(pv[1].relay, "b") == 0);
	ew_store_policy_versions_free(pv, n);
	/* b carries 6667: allowed; port 25 nobody refuses: allowed */
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-02T00:00:00Z"), NT, NT),
	    "allowed");
	/* b refuses 6667 from now on: both refuse: blocked */
	EW_CHECK_INT(record(d, "reject *:6667\naccept *:*\n",
			 tm("2026-11-03T00:00:00Z")),
	    0);
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-04T00:00:00Z"), NT, NT),
	    "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-02T00:00:00Z"), NT, NT),
	    "allowed");
	/* c sends from 192.0.2.30 and allows all: not the relay of .10 */
	EW_CHECK_INT(ew_desk_set_relay(d, "c"), 0);
	EW_CHECK_INT(record(d,
			 "OutboundBindAddressExit 192.0.2.30\n"
			 "accept *:*\n",
			 tm("2026-11-03T00:00:00Z")),
	    0);
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-04T00:00:00Z"), NT, NT),
	    "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.30", "203.0.113.5", "6667",
			 tm("2026-11-04T00:00:00Z"), NT, NT),
	    "allowed");
	/* a block for a alone, one for every relay */
	EW_CHECK_INT(ew_store_rule_add_relay(st, 0, "a",
			 "reject 198.51.100.7:*", "for a", NT, t0, &id),
	    0);
	EW_CHECK_INT(ew_store_rule_add_relay(st, 0, "a",
			 "reject 198.51.100.7:*", "again", NT, t0, &id),
	    -EEXIST);
	EW_CHECK_INT(ew_store_rule_add_relay(st, 0, "b",
			 "reject 198.51.100.7:*", "for b too", NT, t0, &id),
	    0);
	EW_CHECK_INT(ew_store_rule_add(
			 st, 0, "reject 198.51.100.9:*", "all", NT, t0, &id),
	    0);
	EW_CHECK_INT(ew_store_rule_add_relay(
			 st, 0, "", "reject 1.2.3.4:*", "empty", NT, t0, &id),
	    -EINVAL);
	EW_CHECK_INT(ew_desk_set_relay(d, "c"), 0);
	EW_CHECK_INT(ew_desk_managed(d, "/p.policy", NULL, 0, &b), 0);
	EW_CHECK(strstr(ew_buf_str(&b), "198.51.100.7") == NULL);
	EW_CHECK(strstr(ew_buf_str(&b), "198.51.100.9") != NULL);
	ew_buf_reset(&b);
	EW_CHECK_INT(ew_desk_set_relay(d, "a"), 0);
	EW_CHECK_INT(ew_desk_managed(d, "/p.policy", NULL, 0, &b), 0);
	EW_CHECK(strstr(ew_buf_str(&b), "\"for a\"") != NULL);
	EW_CHECK(strstr(ew_buf_str(&b), "for b too") == NULL);
	EW_CHECK(strstr(ew_buf_str(&b), "198.51.100.9") != NULL);
	ew_buf_reset(&b);
	/* the host's only relay (NULL) has only the blocks for every one */
	EW_CHECK_INT(ew_desk_set_relay(d, NULL), 0);
	EW_CHECK_INT(ew_desk_managed(d, "/p.policy", NULL, 0, &b), 0);
	EW_CHECK(strstr(ew_buf_str(&b), "198.51.100.7") == NULL);
	EW_CHECK(strstr(ew_buf_str(&b), "198.51.100.9") != NULL);
	ew_buf_free(&b);
out:
	desk_close(st, d);
}

/* Record `text` as the fleet host `host` does for its relay `relay`
 * (run --host: the store's scope is the host), then the desk again. */
static int
record_host(struct ew_store *st, struct ew_desk *d, const char *host,
    const char *relay, const char *text, int64_t at)
{
	int ready = st->rev_ready, rc;

	if ((rc = ew_store_set_scope(st, host)) != 0)
		return rc;
	if ((rc = ew_desk_set_relay(d, relay)) == 0)
		rc = record(d, text, at);
	ew_store_set_scope(st, NULL);
	st->rev_ready = ready;
	if (ew_desk_set_relay(d, NULL) != 0 && rc == 0)
		rc = -ENOMEM;
	return rc;
}

/* The fleet of test_fleet_judge: hosts h1 and h2, relays A and B. */
static void
fleet_setup(struct ew_store *st, struct ew_desk *d)
{
	static const char fa[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	static const char fb[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
	static const char refuse[] = "reject *:6667\naccept *:*\n";
	static const char carry[] = "accept *:*\n";
	int64_t t0 = tm("2026-11-01T00:00:00Z"),
		t1 = tm("2026-11-10T00:00:00Z");
	int64_t t3 = tm("2026-11-20T00:00:00Z");

	EW_CHECK_INT(ew_store_host_add(st, "h1", "ew_host_h1", t0), 0);
	EW_CHECK_INT(ew_store_host_add(st, "h2", "ew_host_h2", t0), 0);
	EW_CHECK_INT(ew_store_relay_add(st, fa, "alpha", "h1", "a", t0), 0);
	EW_CHECK_INT(ew_store_relay_add(st, fb, "beta", "h2", "b", t0), 0);
	/* A at .10, B at .20; from t1 A at .30 and B at .10 */
	EW_CHECK_INT(ew_store_relay_addr(st, fa, "192.0.2.10", t0), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, fb, "192.0.2.20", t0), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, fa, "192.0.2.30", t1), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, fb, "192.0.2.10", t1), 0);
	/* what the desk itself runs (it wanted everything carried) */
	EW_CHECK_INT(record(d, carry, t0), 0);
	/* A refuses 6667 (its host composed a local block); B carries it;
	 * from t3 A carries it too */
	EW_CHECK_INT(record_host(st, d, "h1", "a", refuse, t0), 0);
	EW_CHECK_INT(record_host(st, d, "h2", "b", carry, t0), 0);
	EW_CHECK_INT(record_host(st, d, "h1", "a", carry, t3), 0);
}

/*
 * A fleet (issue 14, schema 15): two hosts' relays at different exit
 * addresses applied different policies; an incident is judged by what
 * the relay at its source address actually applied at its time, never
 * by another relay's version nor by the desk's own; the addresses move
 * over time (relay_addrs) and the right relay is picked; a source no
 * fleet relay had is judged as before.
 */
static void
test_fleet_judge(void)
{
	static const char *const ifs[] = { "198.51.100.7" };
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, ifs, 1);
	struct ew_store_policy_version *pv = NULL;
	int64_t t1 = tm("2026-11-10T00:00:00Z");
	size_t n = 0;

	if (d == NULL)
		goto out;
	fleet_setup(st, d);
	/* the hosts' versions are theirs: the desk's own history is one */
	EW_CHECK_INT(nversions(st), 1);
	EW_CHECK_INT(ew_store_fleet_versions_during(st, NT, NT, &pv, &n), 0);
	EW_CHECK(n == 3 && pv[0].host != NULL && pv[1].host != NULL &&
		 pv[2].host != NULL);
	ew_store_policy_versions_free(pv, n);
	/* from A's address before t1: A's version only */
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "443",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "allowed");
	/* from B's address: B's */
	EW_CHECK_STR(judge(d, "192.0.2.20", "203.0.113.5", "6667",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "allowed");
	/* after t1 .10 is B's: allowed; A's new address .30 refuses */
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667",
			 tm("2026-11-15T00:00:00Z"), NT, NT),
	    "allowed");
	EW_CHECK_STR(judge(d, "192.0.2.30", "203.0.113.5", "6667",
			 tm("2026-11-15T00:00:00Z"), NT, NT),
	    "blocked");
	/* the very second A moved: the new holder */
	EW_CHECK_STR(judge(d, "192.0.2.30", "203.0.113.5", "6667", t1, NT, NT),
	    "blocked");
	EW_CHECK_STR(judge(d, "192.0.2.10", "203.0.113.5", "6667", t1, NT, NT),
	    "allowed");
	/* A applied a carrying version at t3: from then allowed */
	EW_CHECK_STR(judge(d, "192.0.2.30", "203.0.113.5", "6667",
			 tm("2026-11-25T00:00:00Z"), NT, NT),
	    "allowed");
	/* a span over A's change: one version carried it */
	EW_CHECK_STR(
	    judge(d, "192.0.2.30", "203.0.113.5", "6667", NT,
		tm("2026-11-15T00:00:00Z"), tm("2026-11-25T00:00:00Z")),
	    "allowed");
	/* .30 before t1 was no fleet relay's: judged as before */
	EW_CHECK_STR(judge(d, "192.0.2.30", "203.0.113.5", "6667",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "not ours");
	/* a fleet relay's address with no time: ours, unknown */
	EW_CHECK_STR(judge(d, "192.0.2.20", "203.0.113.5", "6667", NT, NT, NT),
	    "unknown");
	/* the desk's own address: its own history (carries) */
	EW_CHECK_STR(judge(d, "198.51.100.7", "203.0.113.5", "6667",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "allowed");
	/* a netblock holding A's address before t1 */
	EW_CHECK_STR(judge(d, "192.0.2.8/29", "203.0.113.5", "6667",
			 tm("2026-11-05T00:00:00Z"), NT, NT),
	    "blocked");
out:
	desk_close(st, d);
}

/*
 * The incidents of one complaint are judged against one reading of the
 * fleet's addresses and versions and the desk's own history, over all
 * their times: each stored verdict is what judging that incident alone
 * says, across relays, address moves and versions.
 */
static void
test_fleet_add_many(void)
{
	static const char *const ifs[] = { "198.51.100.7" };
	static const struct {
		const char *src, *at, *want;
	} seen[] = {
		{ "192.0.2.10", "2026-11-05 00:00:00", "blocked" },
		{ "192.0.2.20", "2026-11-05 00:00:00", "allowed" },
		{ "192.0.2.10", "2026-11-15 00:00:00", "allowed" },
		{ "192.0.2.30", "2026-11-15 00:00:00", "blocked" },
		{ "192.0.2.30", "2026-11-25 00:00:00", "allowed" },
		{ "192.0.2.30", "2026-11-05 00:00:00", "not ours" },
		{ "198.51.100.7", "2026-11-05 00:00:00", "allowed" },
		{ "192.0.2.10", "2026-10-05 00:00:00", "not ours" },
	};
	struct ew_store *st;
	struct ew_desk *d = desk_open(&st, ifs, 1);
	struct ew_store_incident *v = NULL;
	struct ew_desk_added r;
	enum ew_store_verdict alone;
	char body[4096], iso[32];
	size_t i, j, n = 0, k = 0, found = 0;

	if (d == NULL)
		goto out;
	fleet_setup(st, d);
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		k += (size_t)snprintf(body + k, sizeof(body) - k,
		    "we saw connections from %s to 203.0.113.5 port 6667"
		    " at %s UTC.\n",
		    seen[i].src, seen[i].at);
	EW_CHECK_INT(add(d,
			 mail(IRC, "many@irc.example",
			     "Fri, 27 Nov 2026 12:00:00 +0000", body),
			 tm("2026-11-27T12:00:00Z"), &r),
	    0);
	EW_CHECK_INT(ew_store_incident_list(st, r.complaint_id, &v, &n), 0);
	EW_CHECK_INT(n, sizeof(seen) / sizeof(seen[0]));
	/* in the reader's order: each found by its source and time */
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(seen) / sizeof(seen[0]); j++) {
			snprintf(iso, sizeof(iso), "%.10sT%sZ", seen[j].at,
			    seen[j].at + 11);
			if (strcmp(v[i].src, seen[j].src) == 0 &&
			    v[i].time == tm(iso))
				break;
		}
		if (j == sizeof(seen) / sizeof(seen[0]))
			continue;
		found++;
		EW_CHECK_STR(ew_store_verdict_word(v[i].verdict), seen[j].want);
		EW_CHECK_INT(ew_desk_judge(d, &v[i], &alone), 0);
		EW_CHECK_INT(alone, v[i].verdict);
	}
	EW_CHECK_INT(found, sizeof(seen) / sizeof(seen[0]));
	ew_store_incidents_free(v, n);
out:
	desk_close(st, d);
}

/* The text of every record of dg, one a line (malloc'd). */
static char *
diag_text(const struct ew_diag_list *dg)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;

	for (i = 0; i < dg->n; i++)
		ew_buf_printf(&b, "%s\n", dg->v[i].msg);
	return ew_buf_detach(&b);
}

/*
 * PostgreSQL only: the store's connection lost in the middle of a
 * change (the server gone between a host's poll and its apply; here its
 * backend terminated from a second connection) fails the change with
 * what happened: the connection lost, named, not the operator's policy
 * "cannot be included" (what it said).  Nothing is written; the next
 * change connects again and goes through.
 */
static void
test_store_lost(void)
{
	struct ew_store *st = NULL, *desk = NULL;
	struct ew_desk *d = NULL;
	struct ew_stmt *s;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	char target[1024], dir[64], pol[128], man[128], *text;
	int64_t pid = 0, id = 0;
	int i, gone = 0, rc;
	FILE *f;

	if (ew_test_pg() == NULL)
		return; /* SQLite: no connection to lose */
	snprintf(dir, sizeof(dir), "/tmp/ew-desk-XXXXXX");
	ew_test_store_target(target, sizeof(target));
	EW_CHECK_INT(ew_store_open(target, &st), 0);
	EW_CHECK_INT(ew_store_open(target, &desk), 0);
	if (st == NULL || desk == NULL || mkdtemp(dir) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "setup failed");
		goto out;
	}
	EW_CHECK_INT(ew_desk_new(st, NULL, 0, &d), 0);
	snprintf(pol, sizeof(pol), "%s/exit.policy", dir);
	snprintf(man, sizeof(man), "%s/managed.policy", dir);
	if ((f = fopen(pol, "w")) != NULL) {
		fputs("accept *:*\n", f);
		fclose(f);
	}
	EW_CHECK_INT(ew_store_rule_add(desk, 0, "reject 192.0.2.9:*", NULL, NT,
			 tm("2026-11-21T00:00:00Z"), &id),
	    0);
	/* the connection's backend, ended from the other one */
	EW_CHECK_INT(ew_store_prep(st, "SELECT pg_backend_pid()", &s), 0);
	EW_CHECK_INT(ew_store_step(s), EW_STORE_ROW);
	pid = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	EW_CHECK_INT(ew_store_prep(desk,
			 "SELECT pg_terminate_backend(CAST(? AS int))", &s),
	    0);
	ew_store_bind_int64(s, 1, pid);
	if ((rc = ew_store_step(s)) != EW_STORE_ROW)
		fprintf(stderr, "terminate: %s\n", ew_store_errmsg(desk));
	EW_CHECK_INT(rc, EW_STORE_ROW);
	ew_store_finalize(s);
	for (i = 0; i < 500 && !gone; i++) {
		if (ew_store_prep(desk,
			"SELECT 1 FROM pg_stat_activity WHERE pid = CAST(? AS "
			"int)",
			&s) != 0)
			break;
		ew_store_bind_int64(s, 1, pid);
		gone = ew_store_step(s) == 0;
		ew_store_finalize(s);
		if (!gone)
			usleep(10000);
	}
	EW_CHECK(gone);

	memset(&ch, 0, sizeof(ch));
	ch.managed = man;
	ch.policy = pol;
	ch.store = "the test store";
	ch.now = tm("2026-11-22T00:00:00Z");
	ew_diag_init(&dg);
	rc = ew_desk_sync(d, &ch, &oc, &dg);
	text = diag_text(&dg);
	EW_CHECK_INT(rc, -ECONNRESET); /* run --host tells it by this */
	EW_CHECK_INT(oc.failed, EW_DESK_STEP_COMPOSE);
	EW_CHECK(text != NULL && strstr(text, "cannot be included") == NULL);
	EW_CHECK(text != NULL &&
		 strstr(text, "the test store: the connection to the server "
			      "was lost") != NULL);
	if (text != NULL && strstr(text, "was lost") == NULL)
		fprintf(stderr, "said: %s", text);
	free(text);
	ew_diag_free(&dg);
	EW_CHECK(access(man, F_OK) != 0); /* nothing written */

	/* the next change connects again */
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_sync(d, &ch, &oc, &dg), 0);
	ew_diag_free(&dg);
	EW_CHECK(access(man, F_OK) == 0);
out:
	unlink(man);
	unlink(pol);
	rmdir(dir);
	ew_desk_free(d);
	ew_store_close(st);
	ew_store_close(desk);
}

/* A fleet host's emergency blocks in its cached managed policy: the
 * section replaced, the desk's rules and the include kept. */
static void
test_managed_local(void)
{
	static const char cached[] = "# header\n"
				     "reject 192.0.2.1:* reason \"desk\"\n"
				     "include \"/etc/exit.policy\"\n";
	struct ew_buf a = EW_BUF_INIT, b = EW_BUF_INIT, c = EW_BUF_INIT;
	struct ew_desk_rule r[2];

	memset(r, 0, sizeof(r));
	r[0].rule = "reject 203.0.113.5:*";
	r[0].reason = "flood";
	r[0].expires = EW_STORE_NO_TIME;
	r[1].rule = "reject 203.0.113.6:*";
	r[1].expires = 0; /* 1970: composed as given */
	EW_CHECK_INT(ew_desk_managed_local(cached, r, 1, &a), 0);
	EW_CHECK_STR(ew_buf_str(&a),
	    "# header\nreject 192.0.2.1:* reason \"desk\"\n" EW_DESK_LOCAL_MARK
	    "\nreject 203.0.113.5:* reason \"flood\"\n"
	    "include \"/etc/exit.policy\"\n");
	/* again, with another set: the section replaced, not added to */
	EW_CHECK_INT(ew_desk_managed_local(ew_buf_str(&a), &r[1], 1, &b), 0);
	EW_CHECK_STR(ew_buf_str(&b),
	    "# header\nreject 192.0.2.1:* reason \"desk\"\n" EW_DESK_LOCAL_MARK
	    "\nreject 203.0.113.6:* expires 1970-01-01T00:00:00Z\n"
	    "include \"/etc/exit.policy\"\n");
	/* none left: as the desk wrote it */
	EW_CHECK_INT(ew_desk_managed_local(ew_buf_str(&b), NULL, 0, &c), 0);
	EW_CHECK_STR(ew_buf_str(&c), cached);
	ew_buf_free(&c);
	EW_CHECK_INT(ew_desk_managed_local("reject *:*\n", r, 1, &c), -EINVAL);
	ew_buf_free(&a);
	ew_buf_free(&b);
	ew_buf_free(&c);
}

int
main(void)
{
	EW_RUN(test_relays);
	EW_RUN(test_fleet_judge);
	EW_RUN(test_fleet_add_many);
	EW_RUN(test_store_lost);
	EW_RUN(test_managed_local);
	return ew_test_done();
}
