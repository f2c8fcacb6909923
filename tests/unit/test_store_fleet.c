/*
 * test_store_fleet.c - unit tests for src/store, continued from
 * test_store.c: rules, the policy history (same second, during a
 * period), surge and repair counters, concurrent writers, wake-ups
 * (LISTEN/NOTIFY), the fleet's hosts, their blocks and versions, the
 * rules' revisions, a lost PostgreSQL connection.  The set-up shared
 * with test_store is in store_fixture.c.
 *
 * Like test_store, against SQLite, or with EW_TEST_PG set (store/
 * pg-store-fleet: tests/tools/pgcluster.py) against PostgreSQL, each
 * store a fresh schema of its database.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"

#include "store/store.h"
#include "store/store_int.h"
#include "unit/store_fixture.h"

static void
test_rules(void)
{
	struct ew_store *st = mem();
	struct ew_store_rule *v = NULL;
	int64_t t, r1, r2, r3 = 5;
	size_t n = 0;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_ticket_open(st, "a", 1000, 5000, &t), 0);
	EW_CHECK_INT(ew_store_rule_add(st, t, "reject 198.51.100.7:6667",
			 "irc complaint", 1000 + 90 * 86400, 1000, &r1),
	    0);
	EW_CHECK_INT(ew_store_rule_add(st, 0, "reject *:25", "smtp",
			 EW_STORE_NO_TIME, 1100, &r2),
	    0);
	EW_CHECK_INT(ew_store_rule_add(st, t + 9, "reject *:1", NULL,
			 EW_STORE_NO_TIME, 1100, &r3),
	    -EINVAL);
	EW_CHECK_INT(r3, 0);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(v[0].id, r1);
		EW_CHECK_INT(v[0].ticket_id, t);
		EW_CHECK_STR(v[0].rule_text, "reject 198.51.100.7:6667");
		EW_CHECK_STR(v[0].reason, "irc complaint");
		EW_CHECK_INT(v[0].expires_at, 1000 + 90 * 86400);
		EW_CHECK_INT(v[0].added_at, 1000);
		EW_CHECK_INT(v[0].removed_at, EW_STORE_NO_TIME);
		EW_CHECK_INT(v[1].ticket_id, 0);
		EW_CHECK_INT(v[1].expires_at, EW_STORE_NO_TIME);
	}
	ew_store_rules_free(v, n);

	/* a rule in force for the ticket is not added again: -EEXIST, the
	 * one in force named, nothing written (ticket block run twice) */
	EW_CHECK_INT(ew_store_rule_add(st, t, "reject 198.51.100.7:6667",
			 "again", 1000 + 99 * 86400, 1500, &r3),
	    -EEXIST);
	EW_CHECK_INT(r3, r1);
	EW_CHECK_INT(ew_store_rule_add(st, 0, "reject *:25", "smtp",
			 EW_STORE_NO_TIME, 1100, &r3),
	    -EEXIST);
	EW_CHECK_INT(r3, r2);
	EW_CHECK_INT(ew_store_rule_list(st, 1, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	ew_store_rules_free(v, n);

	EW_CHECK_INT(ew_store_rule_remove(st, r1, 2000), 0);
	EW_CHECK_INT(ew_store_rule_remove(st, r1, 3000), -EALREADY);
	EW_CHECK_INT(ew_store_rule_remove(st, r2 + 9, 3000), -ENOENT);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1)
		EW_CHECK_INT(v[0].id, r2);
	ew_store_rules_free(v, n);
	EW_CHECK_INT(ew_store_rule_list(st, 1, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2)
		EW_CHECK_INT(v[0].removed_at, 2000);
	ew_store_rules_free(v, n);
	/* removed, it may be added again */
	EW_CHECK_INT(ew_store_rule_add(st, t, "reject 198.51.100.7:6667",
			 "again", EW_STORE_NO_TIME, 2500, &r3),
	    0);
	EW_CHECK(r3 > r2);
	ew_store_close(st);
}

/* Another policy in the same second as the one in force: that one keeps
 * its second, the new one starts at the next. */
static void
test_policy_same_second(void)
{
	struct ew_store *st = mem();
	int64_t a, b, c;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_policy_record(st, "da", "A", 1000, &a), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "db", "B", 1000, &b), 0);
	EW_CHECK(b != a);
	EW_CHECK_STR(at(st, 1000), "da/A");
	EW_CHECK_STR(at(st, 1001), "db/B");
	/* before the one in force (a clock stepped back): the history
	 * goes forward, from the second after it */
	EW_CHECK_INT(ew_store_policy_record(st, "dc", "C", 900, &c), 0);
	EW_CHECK_STR(at(st, 1001), "db/B");
	EW_CHECK_STR(at(st, 1002), "dc/C");
	/* and the one in force again: nothing to do */
	EW_CHECK_INT(ew_store_policy_record(st, "dc", "C", 1002, &a), 0);
	EW_CHECK_INT(a, c);
	ew_store_close(st);
}

static void
test_policy_history(void)
{
	struct ew_store *st = mem();
	struct ew_store_policy_version *v = NULL;
	int64_t a, b, c, id;

	if (st == NULL)
		return;
	EW_CHECK_STR(at(st, 0), "none");
	EW_CHECK_INT(ew_store_policy_record(st, "da", "A", 1000, &a), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "db", "B", 2000, &b), 0);
	/* the version in force again: a no-op */
	EW_CHECK_INT(ew_store_policy_record(st, "db", "B", 2500, &id), 0);
	EW_CHECK_INT(id, b);
	EW_CHECK_INT(ew_store_policy_record(st, "dc", "C", 3000, &c), 0);
	EW_CHECK(a < b && b < c);
	/* going back to an earlier policy is a new period */
	EW_CHECK_INT(ew_store_policy_record(st, "da", "A", 4000, &id), 0);
	EW_CHECK(id > c);
	EW_CHECK_STR(at(st, 3999), "dc/C");
	EW_CHECK_STR(at(st, 4000), "da/A");

	EW_CHECK_STR(at(st, 999), "none");  /* before the first */
	EW_CHECK_STR(at(st, 1000), "da/A"); /* exactly at applied_from */
	EW_CHECK_STR(at(st, 1999), "da/A");
	EW_CHECK_STR(at(st, 2000), "db/B"); /* at applied_to: the next */
	EW_CHECK_STR(at(st, 2999), "db/B");
	EW_CHECK_STR(at(st, 3000), "dc/C");
	EW_CHECK_STR(at(st, INT64_MAX), "da/A"); /* open-ended */

	EW_CHECK_INT(ew_store_policy_at(st, 2500, &v), 0);
	if (v != NULL) {
		EW_CHECK_INT(v->id, b);
		EW_CHECK_INT(v->applied_from, 2000);
		EW_CHECK_INT(v->applied_to, 3000);
	}
	ew_store_policy_version_free(v);
	EW_CHECK_INT(ew_store_policy_at(st, 4500, &v), 0);
	if (v != NULL)
		EW_CHECK_INT(v->applied_to, EW_STORE_NO_TIME);
	ew_store_policy_version_free(v);
	ew_store_policy_version_free(NULL);
	ew_store_close(st);
}

/* The surge guard's blocks are rules (origin 'surge'), with counts. */
static void
test_surge(void)
{
	struct ew_store *st = mem();
	struct ew_store_rule *r = NULL;
	struct ew_store_guard_count *c = NULL;
	char **g = NULL;
	size_t n = 0, nc = 0;
	int64_t id = 0, tid = 0, rid = 0;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_ticket_open(st, "abuse@x", 1, 2, &tid), 0);
	EW_CHECK_INT(ew_store_rule_add(st, tid, "reject 192.0.2.1:6667", "irc",
			 EW_STORE_NO_TIME, 10, &rid),
	    0);
	EW_CHECK_INT(ew_store_surge_add(st, "flood", "reject 198.51.100.7:80",
			 "surge: guard flood over 600/minute", 1000, 100, &id),
	    0);
	EW_CHECK(id > 0);
	EW_CHECK_INT(
	    ew_store_surge_add(st, NULL, "x", NULL, 1, 1, &tid), -EINVAL);
	EW_CHECK_INT(
	    ew_store_guard_count(st, "flood", EW_STORE_GUARD_CAPPED), 0);
	EW_CHECK_INT(
	    ew_store_guard_count(st, "scan", EW_STORE_GUARD_ALLOWED), 0);
	EW_CHECK_INT(ew_store_guard_count(st, "scan", "surges"), -EINVAL);
	/* only the surge block is listed as one, with its guard */
	EW_CHECK_INT(ew_store_surge_list(st, &r, &g, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1) {
		EW_CHECK_STR(r[0].rule_text, "reject 198.51.100.7:80");
		EW_CHECK_STR(g[0], "flood");
		EW_CHECK_INT(r[0].expires_at, 1000);
		EW_CHECK_INT(r[0].ticket_id, 0);
	}
	ew_store_surges_free(r, g, n);
	/* ... and it is a rule like any block (the managed policy, expire) */
	EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &n), 0);
	EW_CHECK_INT(n, 2);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_rule_remove(st, id, 1000), 0);
	EW_CHECK_INT(ew_store_surge_list(st, &r, &g, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_surges_free(r, g, n);
	EW_CHECK_INT(ew_store_guard_counts(st, &c, &nc), 0);
	EW_CHECK_INT(nc, 2);
	if (nc == 2) {
		EW_CHECK_STR(c[0].guard, "flood");
		EW_CHECK_INT(c[0].surges, 1);
		EW_CHECK_INT(c[0].capped, 1);
		EW_CHECK_INT(c[1].allowed, 1);
		EW_CHECK_INT(c[1].surges, 0);
	}
	ew_store_guard_counts_free(c, nc);
	ew_store_close(st);
}

/* What the daemon repaired (schema 9): counts per relay and kind. */
static void
test_repair_counts(void)
{
	struct ew_store *st = mem();
	struct ew_store_repair_count *v = NULL;
	size_t n = 0;

	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_repair_count(st, "alpha", EW_STORE_REPAIR_TOR, 100), 0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, "alpha", EW_STORE_REPAIR_TOR, 200), 0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, NULL, EW_STORE_REPAIR_TABLE, 150), 0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, "alpha", "tor crashed", 1), -EINVAL);
	EW_CHECK_INT(ew_store_repair_counts(st, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(v[0].relay, "");
		EW_CHECK_STR(v[0].what, "table missing");
		EW_CHECK_INT(v[0].n, 1);
		EW_CHECK_STR(v[1].relay, "alpha");
		EW_CHECK_INT(v[1].n, 2);
		EW_CHECK_INT(v[1].last_at, 200);
	}
	ew_store_repair_counts_free(v, n);
	ew_store_close(st);
}

/* The versions in force during [from, to] as "A,B" (digests), or "-". */
static const char *
during(struct ew_store *st, int64_t from, int64_t to)
{
	static char out[64];
	struct ew_store_policy_version *v = NULL;
	size_t n = 0, i, len = 0;
	int rc;

	rc = ew_store_policy_during(st, from, to, &v, &n);
	if (rc != 0) {
		snprintf(out, sizeof(out), "error %d", rc);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < n && len < sizeof(out) - 8; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		    i ? "," : "", v[i].digest);
	if (n == 0)
		snprintf(out, sizeof(out), "-");
	ew_store_policy_versions_free(v, n);
	return out;
}

static void
test_policy_during(void)
{
	struct ew_store *st = mem();
	struct ew_store_policy_version *v = NULL;
	size_t n = 9;
	int64_t id;

	if (st == NULL)
		return;
	EW_CHECK_STR(during(st, NT, NT), "-");
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &v, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_policy_versions_free(v, n);
	/* A [1000,2000) B [2000,3000) C [3000,-) */
	EW_CHECK_INT(ew_store_policy_record(st, "A", "text A", 1000, &id), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "B", "text B", 2000, &id), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "C", "text C", 3000, &id), 0);

	EW_CHECK_STR(during(st, NT, NT), "A,B,C");
	EW_CHECK_STR(during(st, NT, 999), "-");
	EW_CHECK_STR(during(st, NT, 1000), "A");
	EW_CHECK_STR(during(st, NT, 2000), "A,B");
	EW_CHECK_STR(during(st, NT, 1999), "A");
	EW_CHECK_STR(during(st, 0, 999), "-");
	EW_CHECK_STR(during(st, 0, 1000), "A");
	EW_CHECK_STR(during(st, 1999, 2000), "A,B");
	EW_CHECK_STR(during(st, 2000, 2000), "B"); /* applied_to excludes */
	EW_CHECK_STR(during(st, 1999, 1999), "A");
	EW_CHECK_STR(during(st, 2000, 2999), "B");
	EW_CHECK_STR(during(st, 2999, 3000), "B,C");
	EW_CHECK_STR(during(st, 1500, 3500), "A,B,C");
	EW_CHECK_STR(during(st, 3000, NT), "C");
	EW_CHECK_STR(during(st, 2999, NT), "B,C");
	EW_CHECK_STR(during(st, 1000, NT), "A,B,C");
	EW_CHECK_STR(during(st, INT64_MAX - 1, NT), "C");
	EW_CHECK_STR(during(st, INT64_MIN + 1, 1000), "A");

	/* the rows, oldest first, with their ranges and texts */
	EW_CHECK_INT(ew_store_policy_during(st, 1500, 2500, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(v[0].text, "text A");
		EW_CHECK_INT(v[0].applied_from, 1000);
		EW_CHECK_INT(v[0].applied_to, 2000);
		EW_CHECK_STR(v[1].text, "text B");
		EW_CHECK_INT(v[1].applied_from, 2000);
		EW_CHECK_INT(v[1].applied_to, 3000);
		EW_CHECK(v[0].id < v[1].id);
	}
	ew_store_policy_versions_free(v, n);
	EW_CHECK_INT(ew_store_policy_during(st, 3500, NT, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1) {
		EW_CHECK_INT(v[0].applied_to, NT);
		EW_CHECK_STR(v[0].text, "text C");
	}
	ew_store_policy_versions_free(v, n);
	ew_store_policy_versions_free(NULL, 0);

	/* a return to A is a new period: both A rows come back */
	EW_CHECK_INT(ew_store_policy_record(st, "A", "text A", 4000, &id), 0);
	EW_CHECK_STR(during(st, NT, NT), "A,B,C,A");
	EW_CHECK_STR(during(st, 3500, 4500), "C,A");
	EW_CHECK_STR(during(st, 4000, 4000), "A");
	EW_CHECK_STR(at(st, 4000), "A/text A");
	EW_CHECK_STR(at(st, 3999), "C/text C");

	/* policy_at: no time is no answer */
	v = (struct ew_store_policy_version *)&n; /* must be reset */
	EW_CHECK_INT(ew_store_policy_at(st, NT, &v), -EINVAL);
	EW_CHECK(v == NULL);
	EW_CHECK_INT(ew_store_policy_at(st, 999, &v), -ENOENT);
	EW_CHECK(v == NULL);
	ew_store_close(st);
}

/*
 * Writers are serialised from BEGIN to COMMIT (SQLite BEGIN IMMEDIATE,
 * PostgreSQL a transaction lock): a second process adding the same
 * complaint (another copy of it: the same content key) while the first
 * has added it but not committed waits, then finds it: -EEXIST with the
 * first one's id, not a second copy.  The child forks before anything
 * is open (a SQLite connection must not cross a fork).
 */
static void
writer_child(int go, int out)
{
	struct ew_store *other = NULL;
	struct ew_store_complaint c;
	int64_t dup = 0;
	char buf[32];
	int rc;

	if (read(go, buf, 1) != 1)
		_exit(2);
	complaint_init(&c, "<w2@x>", "w222"); /* redelivered copy */
	c.content_key = "wkey";
	if ((rc = ew_store_open(dbpath, &other)) == 0)
		rc = ew_store_complaint_add(other, &c, NULL, 0, &dup);
	ew_store_close(other);
	snprintf(buf, sizeof(buf), "%d %lld", rc, (long long)dup);
	if (write(out, buf, strlen(buf)) < 0)
		_exit(2);
	_exit(0);
}

static void
test_writers(void)
{
	struct ew_store *st = NULL;
	struct ew_store_complaint c;
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	int64_t id = 0;
	pid_t pid;
	int status = -1, go[2], res[2];
	char buf[32], want[32];
	ssize_t got;

	tmp_setup();
	if (pipe(go) != 0 || pipe(res) != 0) {
		ew_test_fail(__FILE__, __LINE__, "pipe");
		return;
	}
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(go[1]);
		close(res[0]);
		writer_child(go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	complaint_init(&c, "<w@x>", "w111");
	c.content_key = "wkey";
	if (st != NULL) {
		EW_CHECK_INT(ew_store_begin(st), 0);
		EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	}
	/* the other writer starts and waits for this transaction */
	EW_CHECK_INT(write(go[1], "g", 1), 1);
	nanosleep(&ts, NULL);
	if (st != NULL)
		EW_CHECK_INT(ew_store_end(st, 0), 0);
	got = read(res[0], buf, sizeof(buf) - 1);
	buf[got > 0 ? got : 0] = '\0';
	close(go[1]);
	close(res[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	EW_CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(want, sizeof(want), "%d %lld", -EEXIST, (long long)id);
	EW_CHECK_STR(buf, want);
	if (st != NULL)
		counts(st, 1, 0);
	ew_store_close(st);
	tmp_cleanup();
}

/*
 * PostgreSQL: a statement that failed inside a transaction (outside any
 * savepoint) aborts it; its COMMIT, which the server answers with a
 * silent ROLLBACK, is reported as a failure, and nothing of it stays.
 * (SQLite keeps the transaction: only the statement failed.)
 */
static void
test_pg_aborted(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	int64_t id = 0;

	if (st == NULL)
		return;
	complaint_init(&c, "<ab@x>", "ab11");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	EW_CHECK(
	    ew_store_exec(st, "SELECT no_such_column FROM complaints") < 0);
	EW_CHECK(ew_store_end(st, 0) < 0);
	EW_CHECK(strstr(ew_store_errmsg(st), "failed") != NULL);
	counts(st, 0, 0);
	/* and the connection goes on */
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	counts(st, 1, 0);
	ew_store_close(st);
}

/* Whether fd becomes readable within ms milliseconds. */
static int
readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return fd >= 0 && poll(&p, 1, ms) == 1;
}

/*
 * Wake-ups: a listener's socket becomes readable when another connection
 * commits a write, and not for a write rolled back or a duplicate
 * refused.  SQLite has none.
 */
static void
test_wakeups(void)
{
	struct ew_store *l = NULL, *w = NULL;
	struct ew_store_complaint c;
	int64_t id = 0;

	tmp_setup();
	EW_CHECK_INT(ew_store_open(dbpath, &l), 0);
	if (l == NULL)
		goto out;
	if (pg == NULL) {
		EW_CHECK_INT(ew_store_listen(l), -ENOTSUP);
		EW_CHECK_INT(ew_store_wait_fd(l), -1);
		EW_CHECK_INT(ew_store_wakeups(l), -ENOTSUP);
		goto out;
	}
	EW_CHECK_INT(ew_store_listen(l), 0);
	EW_CHECK(ew_store_wait_fd(l) >= 0);
	EW_CHECK_INT(ew_store_wakeups(l), 0);
	EW_CHECK_INT(ew_store_open(dbpath, &w), 0);
	if (w == NULL)
		goto out;
	complaint_init(&c, "<wk@x>", "wk11");
	EW_CHECK_INT(ew_store_complaint_add(w, &c, NULL, 0, &id), 0);
	EW_CHECK(readable(ew_store_wait_fd(l), 5000));
	EW_CHECK_INT(ew_store_wakeups(l), 1);
	EW_CHECK_INT(ew_store_wakeups(l), 0);
	/* rolled back, and a duplicate (rolled back too): no wake-up */
	complaint_init(&c, "<wk2@x>", "wk22");
	EW_CHECK_INT(ew_store_begin(w), 0);
	EW_CHECK_INT(ew_store_complaint_add(w, &c, NULL, 0, &id), 0);
	EW_CHECK_INT(ew_store_end(w, -EIO), -EIO);
	complaint_init(&c, "<wk@x>", "wk11");
	EW_CHECK_INT(ew_store_complaint_add(w, &c, NULL, 0, &id), -EEXIST);
	EW_CHECK(!readable(ew_store_wait_fd(l), 300));
	EW_CHECK_INT(ew_store_wakeups(l), 0);
	/* a reader's transaction-free reads wake nobody either; two
	 * writes, two wake-ups */
	counts(w, 1, 0);
	EW_CHECK_INT(ew_store_ticket_open(w, "r", 1, NT, &id), 0);
	EW_CHECK_INT(ew_store_ticket_close(w, id, "done"), 0);
	EW_CHECK(readable(ew_store_wait_fd(l), 5000));
	{
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		int k;

		nanosleep(&ts, NULL);
		k = ew_store_wakeups(l);
		if (k < 2 && readable(ew_store_wait_fd(l), 2000))
			k += ew_store_wakeups(l);
		EW_CHECK_INT(k, 2);
	}
	/* the listener's own writes are no news to it */
	complaint_init(&c, "<wk3@x>", "wk33");
	EW_CHECK_INT(ew_store_complaint_add(l, &c, NULL, 0, &id), 0);
	readable(ew_store_wait_fd(l), 300);
	EW_CHECK_INT(ew_store_wakeups(l), 0);
out:
	ew_store_close(w);
	ew_store_close(l);
	tmp_cleanup();
}

/*
 * PostgreSQL: a fleet host's transactions make no revision and are no
 * news.  Its apply (a read inside a transaction) and its report wake no
 * listener (each woke all N hosts: a round each, N squared in a burst,
 * and the server signals every listening backend per NOTIFY) and do
 * not wait for the writers' lock (a host's apply held it while its tor
 * and nftables took the change: the hosts of a burst applied one at a
 * time); the desk's new revision wakes it.
 */
static void
test_host_quiet(void)
{
	struct ew_store *l = NULL, *desk = NULL, *h = NULL;
	struct ew_store_rule *r = NULL;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	size_t n = 0;
	int64_t id = 0;

	if (pg == NULL)
		return; /* SQLite: no wake-ups, no roles */
	tmp_setup();
	EW_CHECK_INT(ew_store_open(dbpath, &l), 0);
	EW_CHECK_INT(ew_store_open(dbpath, &desk), 0);
	EW_CHECK_INT(ew_store_open(dbpath, &h), 0);
	if (l == NULL || desk == NULL || h == NULL)
		goto out;
	EW_CHECK_INT(ew_store_host_add(desk, "exit1", "ew_host_exit1", 10), 0);
	EW_CHECK_INT(ew_store_set_scope(h, "exit1"), 0);
	/* the writers' lock wait of a host, if it had one, fails at once */
	EW_CHECK_INT(ew_store_exec(h, "SET lock_timeout = '1s'"), 0);
	EW_CHECK_INT(ew_store_listen(l), 0);
	readable(ew_store_wait_fd(l), 300);
	ew_store_wakeups(l); /* the host's addition */

	/* the desk decides, its transaction open (the lock held) */
	EW_CHECK_INT(ew_store_begin(desk), 0);
	EW_CHECK_INT(
	    ew_store_rule_add(desk, 0, "reject 192.0.2.1:*", NULL, NT, 20, &id),
	    0);
	/* meanwhile the host applies and reports: neither waits */
	EW_CHECK_INT(ew_store_begin(h), 0);
	EW_CHECK_INT(ew_store_rule_list(h, 0, &r, &n), 0);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_end(h, 0), 0);
	EW_CHECK_INT(
	    ew_store_apply_add(h, "exit1", NULL, "d1", 1, 21, 1, NULL), 0);
	nanosleep(&ts, NULL);
	EW_CHECK_INT(ew_store_wakeups(l), 0); /* the host's: no news */
	EW_CHECK_INT(ew_store_end(desk, 0), 0);
	EW_CHECK(readable(ew_store_wait_fd(l), 5000));
	nanosleep(&ts, NULL);
	EW_CHECK_INT(ew_store_wakeups(l), 1); /* the desk's revision */
out:
	ew_store_close(h);
	ew_store_close(desk);
	ew_store_close(l);
	tmp_cleanup();
}

#define FP_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define FP_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* test_fleet's outbox: a record replayed twice is stored once (schema
 * 13), bad records refused, the revision `before` unmoved. */
static void
fleet_outbox(struct ew_store *st, int64_t before)
{
	struct ew_store_fleet_row *v = NULL;
	int64_t at = 0;
	size_t n = 0;

	EW_CHECK_INT(ew_store_apply_replay(
			 st, "0f-a1", 2, "exit1", "d3", before, 70, 1, NULL),
	    0);
	EW_CHECK_INT(ew_store_apply_replay(
			 st, "0f-a1", 5, "exit1", "d4", before, 80, 1, NULL),
	    0);
	EW_CHECK_INT(ew_store_apply_replay(
			 st, "Bad uid", 0, "exit1", "d", before, 81, 1, NULL),
	    -EINVAL);
	EW_CHECK_INT(ew_store_apply_replay(
			 st, NULL, 0, "exit1", "d", before, 81, 1, NULL),
	    -EINVAL);
	EW_CHECK_INT(ew_store_apply_replay(
			 st, "0f-a2", -1, "exit1", "d", before, 81, 1, NULL),
	    -EINVAL);
	EW_CHECK_INT(ew_store_rev(st, &at), 0);
	EW_CHECK_INT(at, before);
	EW_CHECK_INT(ew_store_fleet_list(st, 0, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(v[0].last_at, 70); /* the second one ignored */
		EW_CHECK_STR(v[0].last_digest, "d3");
		EW_CHECK_INT(v[0].outbox, 2);
		EW_CHECK_INT(v[1].outbox, 0);
	}
	ew_store_fleet_free(v, n);
}

/* The fleet (schema 12): hosts, relays, addresses, scoped rules and
 * apply reports; a report does not move the revision. */
static void
test_fleet(void)
{
	struct ew_store *st = mem();
	struct ew_store_fleet_row *v = NULL;
	struct ew_store_rule *r = NULL;
	int64_t id = 0, id2 = 0, before = 0, at = 0;
	size_t n = 0;

	if (st == NULL)
		return;
	EW_CHECK(ew_store_host_name_ok("exit1"));
	EW_CHECK(!ew_store_host_name_ok("Exit1"));
	EW_CHECK(!ew_store_host_name_ok("1exit"));
	EW_CHECK(!ew_store_host_name_ok("ex-it"));
	EW_CHECK(!ew_store_host_name_ok(""));
	EW_CHECK_INT(ew_store_host_add(st, "exit1", "ew_host_exit1", 10), 0);
	EW_CHECK_INT(ew_store_host_add(st, "exit2", "ew_host_exit2", 11), 0);
	EW_CHECK_INT(ew_store_host_add(st, "exit1", "other", 12), -EEXIST);
	EW_CHECK_INT(
	    ew_store_host_add(st, "exit3", "ew_host_exit2", 12), -EEXIST);
	EW_CHECK_INT(ew_store_host_add(st, "Bad", "r", 12), -EINVAL);
	EW_CHECK_INT(
	    ew_store_relay_add(st, FP_A, "alpha", "exit1", "a", 20), 0);
	EW_CHECK_INT(ew_store_relay_add(st, FP_B, NULL, "exit1", "b", 20), 0);
	EW_CHECK_INT(
	    ew_store_relay_add(st, FP_A, "x", "exit2", "c", 20), -EEXIST);
	EW_CHECK_INT(
	    ew_store_relay_add(st, "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
		NULL, "nohost", "c", 20),
	    -ENOENT);
	EW_CHECK_INT(
	    ew_store_relay_add(st, "short", NULL, "exit1", "c", 20), -EINVAL);
	EW_CHECK_INT(ew_store_relay_addr(st, FP_A, "192.0.2.1", 30), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, FP_A, "192.0.2.1", 31), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, FP_A, "192.0.2.9", 40), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, "nope", "192.0.2.9", 40), -ENOENT);

	/* scopes: the same text for the fleet, a host and a relay */
	EW_CHECK_INT(ew_store_rule_add_scope(st, NULL, 0, NULL, NULL,
			 "reject 198.51.100.1:*", NULL, NT, 50, &id),
	    0);
	EW_CHECK_INT(ew_store_rule_add_scope(st, NULL, 0, "exit1", NULL,
			 "reject 198.51.100.1:*", NULL, NT, 50, &id2),
	    0);
	EW_CHECK(id2 != id);
	EW_CHECK_INT(ew_store_rule_add_scope(st, NULL, 0, "exit1", "a",
			 "reject 198.51.100.1:*", NULL, NT, 50, &id2),
	    0);
	EW_CHECK_INT(ew_store_rule_add_scope(st, NULL, 0, "exit1", "a",
			 "reject 198.51.100.1:*", NULL, NT, 50, &id2),
	    -EEXIST);
	EW_CHECK_INT(ew_store_rule_add_scope(st, NULL, 0, "Bad!", NULL,
			 "reject 198.51.100.1:*", NULL, NT, 50, &id2),
	    -EINVAL);
	/* the desk composes the unscoped ones; a host its own scope too */
	EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &n), 0);
	EW_CHECK_INT(n, 1);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_rule_list_every(st, 0, 1, &r, &n), 0);
	EW_CHECK_INT(n, 3); /* the desk's list and expiry: every scope */
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_set_scope(st, "exit2"), 0);
	EW_CHECK_INT(ew_store_rule_list(st, 1, &r, &n), 0);
	EW_CHECK_INT(n, 1);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_rules_since(st, 0, &r, &n, &at), 0);
	EW_CHECK_INT(n, 1);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_set_scope(st, "Bad!"), -EINVAL);
	EW_CHECK_INT(ew_store_set_scope(st, "exit1"), 0);
	EW_CHECK_INT(ew_store_rules_since(st, 0, &r, &n, &at), 0);
	EW_CHECK_INT(n, 3);
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &n), 0);
	EW_CHECK_INT(n, 3);
	if (n == 3) {
		EW_CHECK(r[0].host == NULL && r[0].relay == NULL);
		EW_CHECK_STR(r[1].host, "exit1");
		EW_CHECK(r[1].relay == NULL);
		EW_CHECK_STR(r[2].host, "exit1");
		EW_CHECK_STR(r[2].relay, "a");
	}
	ew_store_rules_free(r, n);
	EW_CHECK_INT(ew_store_set_scope(st, NULL), 0);

	/* a report does not move the revision */
	EW_CHECK_INT(ew_store_rev(st, &before), 0);
	EW_CHECK_INT(
	    ew_store_apply_add(st, "exit1", NULL, "d1", before, 60, 1, NULL),
	    0);
	EW_CHECK_INT(ew_store_apply_add(
			 st, "exit1", "b", "d2", before, 61, 0, "tor said no"),
	    0);
	EW_CHECK_INT(
	    ew_store_apply_add(st, "nohost", NULL, "d", 0, 61, 1, NULL) < 0, 1);
	EW_CHECK_INT(
	    ew_store_apply_add(st, "exit1", NULL, "", 0, 61, 1, NULL), -EINVAL);
	EW_CHECK_INT(ew_store_rev(st, &at), 0);
	EW_CHECK_INT(at, before);

	EW_CHECK_INT(ew_store_fleet_list(st, 0, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(v[0].host, "exit1");
		EW_CHECK_STR(v[0].role, "ew_host_exit1");
		EW_CHECK_INT(v[0].relays, 2);
		EW_CHECK_INT(v[0].last_rev, before);
		EW_CHECK_INT(v[0].last_at, 61);
		EW_CHECK_INT(v[0].last_ok, 0);
		EW_CHECK_STR(v[1].host, "exit2");
		EW_CHECK_INT(v[1].relays, 0);
		EW_CHECK_INT(v[1].last_rev, -1);
		EW_CHECK_INT(v[1].last_at, NT);
	}
	ew_store_fleet_free(v, n);
	EW_CHECK_INT(ew_store_fleet_list(st, 1, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(v[0].fp, FP_A);
		EW_CHECK_STR(v[0].nickname, "alpha");
		EW_CHECK_STR(v[0].instance, "a");
		EW_CHECK_STR(v[0].last_digest, "d1"); /* the host's table */
		EW_CHECK_INT(v[0].last_ok, 1);
		EW_CHECK_STR(v[1].instance, "b");
		EW_CHECK_STR(v[1].last_digest, "d2"); /* its own */
		EW_CHECK(v[1].nickname == NULL);
	}
	ew_store_fleet_free(v, n);

	fleet_outbox(st, before);
	ew_store_close(st);
}

/* A host's emergency blocks (schema 14): replayed once, no revision,
 * closed by the desk with a revision; drift's digests. */
static void
test_host_blocks(void)
{
	struct ew_store *st = mem();
	struct ew_store_host_block b, *v = NULL;
	struct ew_store_fleet_row *h = NULL;
	struct ew_store_apply_rec rec;
	int64_t before = 0, at = 0, rid = 0, ids[2] = { 7, 3 };
	char d1[65], d2[65], host[64],
	    u1[] = "0a1b", u2[] = "Bad uid", u3[] = "0a1c", ex1[] = "exit1",
	    nh[] = "nohost", r5[] = "reject 203.0.113.5:*",
	    r6[] = "reject 203.0.113.6:*", fl[] = "flood", aa[] = "aa",
	    bb[] = "bb";
	char *uids[2] = { bb, aa }, *one[1] = { u1 };
	size_t n = 0;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_host_add(st, "exit1", "ew_host_exit1", 10), 0);
	EW_CHECK_INT(ew_store_host_add(st, "exit2", "ew_host_exit2", 10), 0);
	memset(&b, 0, sizeof(b));
	b.uid = u1;
	b.host = ex1;
	b.rule_text = r5;
	b.reason = fl;
	b.expires_at = 500;
	b.added_at = 100;
	EW_CHECK_INT(ew_store_rev(st, &before), 0);
	EW_CHECK_INT(ew_store_host_block_replay(st, &b), 0);
	b.rule_text = r6; /* the same uid: ignored */
	EW_CHECK_INT(ew_store_host_block_replay(st, &b), 0);
	b.uid = u2;
	EW_CHECK_INT(ew_store_host_block_replay(st, &b), -EINVAL);
	b.uid = u3;
	b.host = nh;
	EW_CHECK(ew_store_host_block_replay(st, &b) < 0);
	EW_CHECK_INT(ew_store_rev(st, &at), 0);
	EW_CHECK_INT(at, before); /* a report, no decision */
	EW_CHECK_INT(ew_store_host_block_list(st, -1, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1) {
		EW_CHECK_STR(v[0].uid, "0a1b");
		EW_CHECK_STR(v[0].host, "exit1");
		EW_CHECK_STR(v[0].rule_text, "reject 203.0.113.5:*");
		EW_CHECK_STR(v[0].reason, "flood");
		EW_CHECK_INT(v[0].expires_at, 500);
		EW_CHECK_INT(v[0].added_at, 100);
		EW_CHECK_INT(v[0].removed_at, NT);
		EW_CHECK_INT(v[0].rev, 0);
	}
	rid = n == 1 ? v[0].id : 0;
	ew_store_host_blocks_free(v, n);
	/* the desk wants exit1 to enforce it: drift's digest */
	EW_CHECK_INT(ew_store_fleet_list(st, 0, &h, &n), 0);
	EW_CHECK_INT(ew_store_fleet_want(st, h, n, 200), 0);
	EW_CHECK_INT(ew_store_blocks_digest(NULL, 0, one, 1, d1), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(h[0].want_blocks, d1);
		EW_CHECK(strcmp(h[1].want_blocks, d1) != 0);
		EW_CHECK(h[0].last_blocks == NULL);
	}
	ew_store_fleet_free(h, n);
	/* expired: no longer wanted */
	EW_CHECK_INT(ew_store_fleet_list(st, 0, &h, &n), 0);
	EW_CHECK_INT(ew_store_fleet_want(st, h, n, 500), 0);
	EW_CHECK(n == 2 && strcmp(h[0].want_blocks, h[1].want_blocks) == 0);
	ew_store_fleet_free(h, n);
	/* a report with its block set and repairs */
	memset(&rec, 0, sizeof(rec));
	rec.host = "exit1";
	rec.digest = "d";
	rec.rev = before;
	rec.at = 300;
	rec.ok = 1;
	rec.blocks = d1;
	rec.repairs = 3;
	EW_CHECK_INT(ew_store_apply_report(st, &rec), 0);
	rec.repairs = -1;
	EW_CHECK_INT(ew_store_apply_report(st, &rec), -EINVAL);
	EW_CHECK_INT(ew_store_fleet_list(st, 0, &h, &n), 0);
	if (n == 2) {
		EW_CHECK_STR(h[0].last_blocks, d1);
		EW_CHECK_INT(h[0].repairs, 3);
	}
	ew_store_fleet_free(h, n);
	/* the digest sorts what it is given */
	EW_CHECK_INT(ew_store_blocks_digest(ids, 2, uids, 2, d1), 0);
	ids[0] = 3;
	ids[1] = 7;
	uids[0] = aa;
	uids[1] = bb;
	EW_CHECK_INT(ew_store_blocks_digest(ids, 2, uids, 2, d2), 0);
	EW_CHECK_STR(d1, d2);
	/* the desk removes it, with a revision; twice: -EALREADY */
	EW_CHECK_INT(ew_store_host_block_close(st, rid, 600, 0), 0);
	EW_CHECK_INT(ew_store_host_block_close(st, rid, 601, 0), -EALREADY);
	EW_CHECK_INT(ew_store_host_block_close(st, 999, 601, 0), -ENOENT);
	EW_CHECK_INT(ew_store_rev(st, &at), 0);
	EW_CHECK_INT(at, before + 1);
	EW_CHECK_INT(ew_store_host_block_list(st, -1, &v, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_host_blocks_free(v, n);
	EW_CHECK_INT(ew_store_host_block_list(st, before, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1) {
		EW_CHECK_INT(v[0].removed_at, 600);
		EW_CHECK_INT(v[0].rev, before + 1);
	}
	ew_store_host_blocks_free(v, n);
	EW_CHECK_INT(ew_store_host_block_list(st, before + 1, &v, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_host_blocks_free(v, n);
	/* the desk's connection is no host's (SQLite has no roles) */
	EW_CHECK_INT(ew_store_host_self(st, host, sizeof(host)), -ENOENT);
	ew_store_close(st);
}

/* The store's revision, or -1. */
static int64_t
rev(struct ew_store *st)
{
	int64_t r = -1;

	EW_CHECK_INT(ew_store_rev(st, &r), 0);
	return r;
}

/* The rules changed after `cursor`: "id@rev,..." ("-" for none), and
 * the revision they were read at in *at. */
static const char *
since(struct ew_store *st, int64_t cursor, int64_t *at)
{
	static char out[128];
	struct ew_store_rule *v = NULL;
	size_t n = 0, i, len = 0;

	*at = -1;
	if (ew_store_rules_since(st, cursor, &v, &n, at) != 0)
		return "error";
	out[0] = '\0';
	for (i = 0; i < n && len < sizeof(out) - 40; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len,
		    "%s%lld@%lld%s", i ? "," : "", (long long)v[i].id,
		    (long long)v[i].rev, v[i].removed_at != NT ? "-" : "");
	if (n == 0)
		snprintf(out, sizeof(out), "-");
	ew_store_rules_free(v, n);
	return out;
}

/*
 * The revision counter: one per writing transaction (nested writes are
 * one), none for a write refused or rolled back; rules carry the
 * revision of their last change, and a reader's revision never runs
 * ahead of what it can see (an uncommitted writer's revision is not
 * handed out, so a cursor cannot skip its rules).
 */
static void
test_revisions(void)
{
	struct ew_store *st = NULL, *r = NULL;
	struct ew_store_complaint c;
	int64_t tid = 0, r1 = 0, r2 = 0, x = 0, at = 0;

	tmp_setup();
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	EW_CHECK_INT(ew_store_open(dbpath, &r), 0);
	if (st == NULL || r == NULL)
		goto out;
	EW_CHECK_INT(rev(st), 0);
	complaint_init(&c, "<rv@x>", "rv11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &x), 0);
	EW_CHECK_INT(rev(st), 1);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &x), -EEXIST);
	EW_CHECK_INT(ew_store_ticket_open(st, "r", 1, NT, &tid), 0);
	EW_CHECK_INT(rev(st), 2);
	EW_CHECK_INT(
	    ew_store_rule_add(st, tid, "reject *:25", NULL, NT, 5, &r1), 0);
	EW_CHECK_INT(ew_store_rule_add(st, tid, "reject *:25", NULL, NT, 6, &x),
	    -EEXIST);
	EW_CHECK_INT(rev(st), 3);
	{
		char want[64];

		snprintf(want, sizeof(want), "%lld@3", (long long)r1);
		EW_CHECK_STR(since(r, 0, &at), want);
		EW_CHECK_INT(at, 3);
		EW_CHECK_STR(since(r, 3, &at), "-");
		EW_CHECK_INT(ew_store_rule_remove(st, r1, 9), 0);
		snprintf(want, sizeof(want), "%lld@4-", (long long)r1);
		EW_CHECK_STR(since(r, 3, &at), want);
		EW_CHECK_INT(at, 4);
	}
	/* nested writes are one revision; a rolled back one none */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_surge_add(
			 st, "g", "reject 192.0.2.9:80", NULL, NT, 10, &r2),
	    0);
	EW_CHECK_INT(ew_store_ticket_close(st, tid, "done"), 0);
	EW_CHECK_INT(rev(st), 5); /* its own, inside */
	/* another connection: neither the rule nor the revision yet */
	EW_CHECK_STR(since(r, 4, &at), "-");
	EW_CHECK_INT(at, 4);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "%lld@5", (long long)r2);
		EW_CHECK_STR(since(r, 4, &at), want);
		EW_CHECK_INT(at, 5);
	}
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(
	    ew_store_rule_add(st, 0, "reject *:1", NULL, NT, 11, &x), 0);
	EW_CHECK_INT(ew_store_end(st, -EIO), -EIO);
	EW_CHECK_INT(rev(st), 5);
	EW_CHECK_STR(since(r, 5, &at), "-");
out:
	ew_store_close(r);
	ew_store_close(st);
	tmp_cleanup();
}

/*
 * PostgreSQL: a connection the server dropped (here terminated by
 * another session; a restart does the same) fails at most the one call
 * that finds it dropped; the next connects again, LISTEN included, and
 * the first ew_store_wakeups after it says to look (notifications may
 * have been missed).
 */
static void
test_pg_reconnect(void)
{
	struct ew_store *st = NULL, *other = NULL;
	struct ew_store_complaint c;
	struct ew_stmt *s = NULL;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	int64_t pid = 0, a = -1, b = -1, id = 0;
	char sql[96];
	int fails = 0, k;

	tmp_setup();
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	EW_CHECK_INT(ew_store_open(dbpath, &other), 0);
	if (st == NULL || other == NULL)
		goto out;
	EW_CHECK_INT(ew_store_listen(st), 0);
	EW_CHECK_INT(ew_store_prep(st, "SELECT pg_backend_pid()", &s), 0);
	if (s != NULL && ew_store_step(s) == EW_STORE_ROW)
		pid = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	EW_CHECK(pid > 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    (long long)pid);
	EW_CHECK_INT(ew_store_exec(other, sql), 0);
	nanosleep(&ts, NULL);
	for (k = 0; k < 3; k++) {
		if (ew_store_count(st, &a, &b) == 0)
			break;
		fails++;
	}
	EW_CHECK(fails <= 1);
	EW_CHECK_INT(a, 0);
	complaint_init(&c, "<rc@x>", "rc11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	counts(st, 1, 0);
	/* the reconnect itself is a wake-up, then the LISTEN holds */
	EW_CHECK_INT(ew_store_wakeups(st), 1);
	complaint_init(&c, "<rc2@x>", "rc22");
	EW_CHECK_INT(ew_store_complaint_add(other, &c, NULL, 0, &id), 0);
	EW_CHECK(readable(ew_store_wait_fd(st), 5000));
	EW_CHECK(ew_store_wakeups(st) >= 1);
out:
	ew_store_close(other);
	ew_store_close(st);
	tmp_cleanup();
}

/*
 * A fleet host's policy versions (schema 15): recorded under its name
 * (the handle's scope), one timeline per host and relay, apart from the
 * store's own history; the relays' exit addresses over time.
 */
static void
test_fleet_versions(void)
{
	static const char fa[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	struct ew_store *st = mem();
	struct ew_store_policy_version *v = NULL;
	struct ew_store_relay_addr *a = NULL;
	size_t n = 0;
	int64_t id = 0, id2 = 0, rev0 = -1, rev1 = -2;
	int ready;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_fleet_addrs_during(st, NT, NT, &a, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_relay_addrs_free(a, n);
	EW_CHECK_INT(ew_store_host_add(st, "h1", "ew_host_h1", 10), 0);
	EW_CHECK_INT(ew_store_relay_add(st, fa, NULL, "h1", "a", 10), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, fa, "192.0.2.10", 100), 0);
	EW_CHECK_INT(ew_store_relay_addr(st, fa, "192.0.2.30", 200), 0);
	EW_CHECK_INT(
	    ew_store_policy_record(st, "d0", "accept *:*\n", 100, &id), 0);
	EW_CHECK_INT(ew_store_rev(st, &rev0), 0);
	ready = st->rev_ready;
	EW_CHECK_INT(ew_store_set_scope(st, "h1"), 0);
	/* the host's relay a: its own timeline, the desk's not ended */
	EW_CHECK_INT(ew_store_policy_record_relay(
			 st, "a", "h0", "reject *:25\n", 100, &id2),
	    0);
	EW_CHECK(id2 != id && id2 > 0);
	EW_CHECK_INT(ew_store_policy_record_relay(
			 st, "a", "h1", "accept *:*\n", 150, &id2),
	    0);
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &v, &n), 0);
	EW_CHECK(n == 2 && strcmp(v[0].host, "h1") == 0 &&
		 strcmp(v[0].relay, "a") == 0 && v[0].applied_to == 150 &&
		 v[1].applied_to == NT);
	ew_store_policy_versions_free(v, n);
	ew_store_set_scope(st, NULL);
	st->rev_ready = ready;
	/* a host's record is no decision: no new revision */
	EW_CHECK_INT(ew_store_rev(st, &rev1), 0);
	EW_CHECK_INT(rev1, rev0);
	/* the desk's own history is one version, still in force */
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &v, &n), 0);
	EW_CHECK(n == 1 && v[0].host == NULL && v[0].applied_to == NT);
	ew_store_policy_versions_free(v, n);
	EW_CHECK_INT(ew_store_fleet_versions_during(st, 120, 120, &v, &n), 0);
	EW_CHECK(n == 1 && strcmp(v[0].digest, "h0") == 0 &&
		 strcmp(v[0].host, "h1") == 0);
	ew_store_policy_versions_free(v, n);
	/* the address at 150 and at 200 (the second it moved) */
	EW_CHECK_INT(ew_store_fleet_addrs_during(st, 150, 150, &a, &n), 0);
	EW_CHECK(n == 1 && strcmp(a[0].addr, "192.0.2.10") == 0 &&
		 strcmp(a[0].host, "h1") == 0 &&
		 strcmp(a[0].instance, "a") == 0 && a[0].valid_to == 200);
	ew_store_relay_addrs_free(a, n);
	EW_CHECK_INT(ew_store_fleet_addrs_during(st, 200, 200, &a, &n), 0);
	EW_CHECK(n == 1 && strcmp(a[0].addr, "192.0.2.30") == 0 &&
		 a[0].valid_to == NT);
	ew_store_relay_addrs_free(a, n);
	EW_CHECK_INT(ew_store_fleet_addrs_during(st, 50, 250, &a, &n), 0);
	EW_CHECK_INT(n, 2);
	ew_store_relay_addrs_free(a, n);
	ew_store_close(st);
}

int
main(void)
{
	pg = ew_test_pg();
	printf("store: %s\n", pg ? "PostgreSQL (EW_TEST_PG)" : "SQLite");
	EW_RUN(test_writers);
	if (pg != NULL)
		EW_RUN(test_pg_aborted);
	EW_RUN(test_wakeups);
	EW_RUN(test_host_quiet);
	EW_RUN(test_revisions);
	if (pg != NULL)
		EW_RUN(test_pg_reconnect);
	EW_RUN(test_rules);
	EW_RUN(test_policy_history);
	EW_RUN(test_policy_same_second);
	EW_RUN(test_fleet);
	EW_RUN(test_fleet_versions);
	EW_RUN(test_host_blocks);
	EW_RUN(test_repair_counts);
	EW_RUN(test_surge);
	EW_RUN(test_policy_during);
	return ew_test_done();
}
