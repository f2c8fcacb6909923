/*
 * test_intake.c - unit tests for what the store does for the desk's
 * intake, one complaint a transaction in few round trips:
 * ew_store_step_later (statements sent with the next one, PostgreSQL's
 * pipeline), ew_store_complaint_add_later, and on PostgreSQL the
 * duplicate check's plan, which must read the few rows it looks for.
 * A deferred statement's failure said as its own wherever it is found;
 * on PostgreSQL the server gone with statements deferred or in the
 * middle of a pipeline, and a complaint of many incidents with ports
 * written in work linear in them.
 *
 * Like test_store, against SQLite, or with EW_TEST_PG set (store/
 * pg-intake: tests/tools/pgcluster.py) against PostgreSQL, each store a
 * fresh schema of its database; the set-up shared with test_store is in
 * store_fixture.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"

#include "store/store.h"
#include "store/store_int.h"
#include "unit/store_fixture.h"

/* The rows of the scratch table t_later (-1: cannot read). */
static int64_t
later_rows(struct ew_store *st)
{
	struct ew_stmt *s;
	int64_t n = -1;

	if (ew_store_prep(st, "SELECT count(*) FROM t_later", &s) != 0)
		return -1;
	if (ew_store_step(s) == EW_STORE_ROW)
		n = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	return n;
}

/* Insert x into t_later with ew_store_step_later; its result. */
static int
later_insert(struct ew_store *st, int64_t x, int null)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_prep(
		 st, "INSERT INTO t_later (x) VALUES (?)", &s)) != 0)
		return rc;
	if (null)
		ew_store_bind_null(s, 1);
	else
		ew_store_bind_int64(s, 1, x);
	rc = ew_store_step_later(s);
	ew_store_finalize(s);
	return rc;
}

/*
 * ew_store_step_later: a statement deferred to the transaction's next
 * statement or commit (PostgreSQL's pipeline; SQLite runs it at once)
 * is seen by the next statement, committed with the transaction, and
 * undone with it; its failure fails the transaction, never a commit of
 * part of it; a savepoint released or rolled back keeps or drops what
 * was deferred inside it, whether or not the savepoint was sent; more
 * than a pipeline's bound go out in several.
 */
static void
test_step_later(void)
{
	struct ew_store *st = mem();
	int64_t i;
	int rc;

	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_exec(st, "CREATE TABLE t_later (x INTEGER NOT NULL)"), 0);
	/* outside a transaction: at once */
	EW_CHECK_INT(later_insert(st, 1, 0), 0);
	EW_CHECK_INT(later_rows(st), 1);
	/* seen by the next statement, committed */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 2, 0), 0);
	EW_CHECK_INT(later_rows(st), 2);
	EW_CHECK_INT(later_insert(st, 3, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 3);
	/* undone with a rollback (never sent) */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 4, 0), 0);
	EW_CHECK_INT(ew_store_end(st, -EIO), -EIO);
	EW_CHECK_INT(later_rows(st), 3);
	/* a failure fails the transaction: the good row before it too */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 5, 0), 0);
	rc = later_insert(st, 0, 1); /* NOT NULL */
	if (rc == 0)
		rc = ew_store_end(st, 0);
	else
		ew_store_end(st, rc);
	EW_CHECK(rc < 0);
	EW_CHECK_INT(later_rows(st), 3);
	/* the store is usable afterwards */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 6, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 4);
	/* savepoints never sent: released keeps, rolled back drops */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 7, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 8, 0), 0);
	EW_CHECK_INT(ew_store_end(st, -EINVAL), -EINVAL);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 5);
	/* a savepoint sent (a statement ran in it), then rolled back:
	 * what was deferred after it is dropped, the outer goes on; a
	 * failing deferred statement rolled back with it fails nothing */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 9, 0), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 6);
	EW_CHECK_INT(later_insert(st, 10, 0), 0);
	rc = later_insert(st, 0, 1);
	EW_CHECK_INT(ew_store_end(st, rc ? rc : -EINVAL), rc ? rc : -EINVAL);
	EW_CHECK_INT(later_rows(st), 6);
	EW_CHECK_INT(later_insert(st, 11, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 7);
	/* a savepoint sent, then released: its deferred rows commit */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 7);
	EW_CHECK_INT(later_insert(st, 12, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 8);
	/* more than one pipeline's worth (EW_PG_DEFER_MAX is 256) */
	EW_CHECK_INT(ew_store_begin(st), 0);
	for (i = 0; i < 600; i++)
		if (later_insert(st, 100 + i, 0) != 0)
			break;
	EW_CHECK_INT(i, 600);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 608);
	ew_store_close(st);
}

/* Whether the store's message names `word` (any case). */
static int
said(struct ew_store *st, const char *word)
{
	const char *m = ew_store_errmsg(st);
	size_t i, k, n = strlen(word);

	for (i = 0; m != NULL && m[i] != '\0'; i++) {
		for (k = 0; k < n && m[i + k] != '\0'; k++)
			if ((m[i + k] | 0x20) != (word[k] | 0x20))
				break;
		if (k == n)
			return 1;
	}
	printf("# message: %s\n", m != NULL ? m : "(none)");
	return 0;
}

/*
 * A deferred statement's failure is reported with its own message,
 * whichever later call finds it (the next statement, one whose own text
 * the server refuses, the commit), and after the rollback; nothing of
 * the transaction is kept, and the store goes on.
 */
static void
test_later_error_message(void)
{
	struct ew_store *st = mem();
	struct ew_stmt *s = NULL;
	int k, rc;

	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_exec(st, "CREATE TABLE t_later (x INTEGER NOT NULL)"), 0);
	/* found by the next statement */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 1, 0), 0);
	rc = later_insert(st, 0, 1);
	if (rc == 0)
		rc = later_rows(st) < 0 ? -EIO : 0;
	EW_CHECK(rc < 0);
	EW_CHECK(said(st, "null"));
	ew_store_end(st, rc ? rc : -EIO);
	EW_CHECK(said(st, "null"));
	EW_CHECK_INT(later_rows(st), 0);
	/* found by the commit */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 2, 0), 0);
	rc = later_insert(st, 0, 1);
	if (rc == 0)
		rc = ew_store_end(st, 0);
	else
		ew_store_end(st, rc);
	EW_CHECK(rc < 0);
	EW_CHECK(said(st, "null"));
	EW_CHECK_INT(later_rows(st), 0);
	/* found by a release of a savepoint and the commit after it */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 0); /* the savepoint sent */
	rc = later_insert(st, 0, 1);
	if (rc == 0 && (rc = ew_store_end(st, 0)) == 0)
		rc = ew_store_end(st, 0);
	else
		ew_store_end(st, rc);
	EW_CHECK(rc < 0);
	EW_CHECK(said(st, "null"));
	EW_CHECK_INT(later_rows(st), 0);
	/* found in a savepoint begun after it, which the caller rolls
	 * back to go on: the transaction still fails, saying why */
	EW_CHECK_INT(ew_store_begin(st), 0);
	rc = later_insert(st, 0, 1);
	if (rc == 0) {
		EW_CHECK_INT(ew_store_begin(st), 0);
		rc = later_rows(st) < 0 ? -EIO : 0;
		EW_CHECK(rc < 0);
		EW_CHECK(said(st, "null"));
		ew_store_end(st, rc ? rc : -EIO); /* the savepoint only */
		EW_CHECK_INT(later_insert(st, 4, 0), 0);
		rc = ew_store_end(st, 0);
	} else {
		ew_store_end(st, rc);
	}
	EW_CHECK(rc < 0);
	EW_CHECK(said(st, "null"));
	EW_CHECK_INT(later_rows(st), 0);
	/* ... and not by a failure rolled back with a savepoint before it */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK(ew_store_exec(st, "UPDATE t_later SET nosuch = 1") < 0);
	ew_store_end(st, -EIO);
	EW_CHECK_INT(later_rows(st), 0); /* the outer goes on */
	rc = later_insert(st, 0, 1);
	if (rc == 0) {
		EW_CHECK(later_rows(st) < 0);
		rc = ew_store_end(st, 0);
	} else {
		ew_store_end(st, rc);
	}
	EW_CHECK(rc < 0);
	EW_CHECK(said(st, "null"));
	/* a statement after it whose text the server refuses: the
	 * deferred one failed first (in a transaction begun on the
	 * server, or still to begin) */
	for (k = 0; k < 2; k++) {
		EW_CHECK_INT(ew_store_begin(st), 0);
		if (k == 1)
			EW_CHECK_INT(later_rows(st), 0);
		s = NULL;
		rc = later_insert(st, 0, 1);
		if (rc == 0 && (rc = ew_store_prep(st,
				    k ? "SELECT nosuch2 FROM t_later"
				      : "SELECT nosuch FROM t_later",
				    &s)) == 0) {
			rc = ew_store_step(s);
			EW_CHECK(rc < 0);
			EW_CHECK(said(st, "null"));
		}
		ew_store_finalize(s);
		ew_store_end(st, rc < 0 ? rc : -EIO);
	}
	/* the store goes on */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 3, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 1);
	ew_store_close(st);
}

/* PostgreSQL: terminate st's backend from another session; 0 done. */
static int
cut(struct ew_store *st)
{
	struct ew_store *other = NULL;
	struct ew_stmt *s = NULL;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	char sql[96];
	int64_t pid = 0;
	int rc;

	if ((rc = ew_store_open(pg, &other)) != 0)
		return rc;
	if ((rc = ew_store_prep(st, "SELECT pg_backend_pid()", &s)) == 0 &&
	    ew_store_step(s) == EW_STORE_ROW)
		pid = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    (long long)pid);
	if (rc == 0)
		rc = pid > 0 ? ew_store_exec(other, sql) : -EIO;
	ew_store_close(other);
	nanosleep(&ts, NULL);
	return rc;
}

/*
 * PostgreSQL: the server gone while statements are deferred.  The call
 * that sends them (the next statement, the commit) fails with the
 * connection lost; nothing of the transaction is kept; the next call
 * outside a transaction connects again, and the store goes on.
 */
static void
test_pg_later_lost(void)
{
	struct ew_store *st = mem();
	struct ew_stmt *s = NULL;
	int k, rc;

	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_exec(st, "CREATE TABLE t_later (x INTEGER NOT NULL)"), 0);
	EW_CHECK_INT(later_rows(st), 0);
	/* lost before the commit */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 1, 0), 0);
	EW_CHECK_INT(later_insert(st, 2, 0), 0);
	EW_CHECK_INT(cut(st), 0);
	rc = ew_store_end(st, 0);
	EW_CHECK_INT(rc, -ECONNRESET);
	EW_CHECK(said(st, "lost"));
	EW_CHECK_INT(later_rows(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 3, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 1);
	/* lost before the next statement, in a transaction begun */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_rows(st), 1);
	EW_CHECK_INT(later_insert(st, 4, 0), 0);
	EW_CHECK_INT(cut(st), 0);
	EW_CHECK_INT(later_rows(st), -1);
	EW_CHECK(said(st, "lost"));
	ew_store_end(st, -ECONNRESET);
	EW_CHECK_INT(later_rows(st), 1);
	/* lost with a statement deferred whose text is new */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 5, 0), 0);
	EW_CHECK_INT(cut(st), 0);
	EW_CHECK(ew_store_exec(st, "UPDATE t_later SET x = x + 1") < 0);
	ew_store_end(st, -ECONNRESET);
	EW_CHECK_INT(later_rows(st), 1);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 6, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 2);
	/* lost in the middle of the pipeline: the backend ends itself
	 * between two deferred rows, found by the next statement, then
	 * by the commit */
	for (k = 0; k < 2; k++) {
		EW_CHECK_INT(ew_store_begin(st), 0);
		EW_CHECK_INT(later_insert(st, 7, 0), 0);
		EW_CHECK_INT(
		    ew_store_prep(st,
			"SELECT pg_terminate_backend(pg_backend_pid())", &s),
		    0);
		EW_CHECK_INT(s != NULL ? ew_store_step_later(s) : -EIO, 0);
		ew_store_finalize(s);
		EW_CHECK_INT(later_insert(st, 8, 0), 0);
		if (k == 0) {
			EW_CHECK_INT(later_rows(st), -1);
			rc = -ECONNRESET;
			ew_store_end(st, rc);
		} else {
			rc = ew_store_end(st, 0);
		}
		EW_CHECK_INT(rc, -ECONNRESET);
		EW_CHECK(said(st, "lost"));
		EW_CHECK_INT(later_rows(st), 2);
	}
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(later_insert(st, 9, 0), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(later_rows(st), 3);
	ew_store_close(st);
}

/*
 * ew_store_complaint_add_later (the desk's intake) stores what
 * ew_store_complaint_add stores -- the complaint, its incidents and
 * their ports in order, the Message-ID reuse (said, and stored) -- and a
 * refused incident fails the caller's transaction: nothing is kept.
 */
static void
test_complaint_add_later(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c, *back = NULL;
	struct ew_store_incident in[3], *v = NULL;
	int64_t cid = 0, cid2 = 0, reused = -1, dup = 0;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return;
	incident_init(&in[0], "203.0.113.5");
	incident_init(&in[1], "203.0.113.6");
	in[1].n_dst_ports = 1;
	in[1].time = EW_STORE_NO_TIME;
	in[1].time_from = 1699980000;
	in[1].time_to = 1699990000;
	incident_init(&in[2], "203.0.113.7");
	in[2].dst_ports = NULL;
	in[2].n_dst_ports = 0;
	complaint_init(&c, "<l1@x>", "l111");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(
	    ew_store_complaint_add_later(st, &c, in, 3, &cid, &reused), 0);
	EW_CHECK_INT(reused, 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK(cid > 0);
	EW_CHECK_INT(ew_store_incident_list(st, cid, &v, &n), 0);
	EW_CHECK_INT(n, 3);
	if (n == 3) {
		EW_CHECK_STR(v[0].src, "203.0.113.5");
		EW_CHECK_INT(v[0].n_dst_ports, 2);
		EW_CHECK(v[0].dst_ports != NULL &&
			 v[0].dst_ports[0].lo == 6667 &&
			 v[0].dst_ports[1].lo == 6697);
		EW_CHECK_INT(v[1].n_dst_ports, 1);
		EW_CHECK_INT(v[1].time_from, 1699980000);
		EW_CHECK_INT(v[2].n_dst_ports, 0);
		EW_CHECK_INT(v[0].complaint_id, cid);
	}
	ew_store_incidents_free(v, n);
	/* the same Message-ID with other content: said and stored */
	complaint_init(&c, "<l1@x>", "l222");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(
	    ew_store_complaint_add_later(st, &c, in, 1, &cid2, &reused), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(reused, cid);
	EW_CHECK_INT(ew_store_complaint_get(st, cid2, &back), 0);
	EW_CHECK(back != NULL && back->reuses_message_id == cid);
	ew_store_complaint_free(back);
	/* a duplicate: -EEXIST, the stored id */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add_later(st, &c, in, 1, &dup, &reused),
	    -EEXIST);
	EW_CHECK_INT(dup, cid2);
	EW_CHECK_INT(reused, 0);
	ew_store_end(st, -EEXIST);
	counts(st, 2, 4);
	/* an incident the store refuses fails the transaction */
	incident_init(&in[1], NULL);
	complaint_init(&c, "<l3@x>", "l333");
	EW_CHECK_INT(ew_store_begin(st), 0);
	rc = ew_store_complaint_add_later(st, &c, in, 2, &cid, &reused);
	if (rc == 0)
		rc = ew_store_end(st, 0);
	else
		ew_store_end(st, rc);
	EW_CHECK(rc < 0);
	counts(st, 2, 4);
	ew_store_close(st);
}

/* PostgreSQL: the rows of complaints read (sequential and index scans)
 * by this connection since its counts last went to the server's: read
 * twice in one transaction, whose work is the difference. */
static int64_t
complaint_rows_read(struct ew_store *st)
{
	struct ew_stmt *s;
	int64_t n = -1;

	if (ew_store_prep(st,
		"SELECT seq_tup_read + coalesce(idx_tup_fetch, 0)"
		" FROM pg_stat_xact_user_tables"
		" WHERE relid = 'complaints'::regclass",
		&s) != 0)
		return -1;
	if (ew_store_step(s) == EW_STORE_ROW)
		n = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	return n;
}

/*
 * PostgreSQL: the duplicate check of a complaint reads the few rows
 * with its digests or Message-ID, not the table.  Its statement is
 * prepared once per connection and its plan made at the sixth run --
 * here on a store of five complaints, as on a new store -- and kept;
 * the check then must not walk the table the plan was made for (the
 * primary key in order, or a sequential scan: 300 rows at 300
 * complaints, one more each time).
 */
static void
test_pg_dup_plan(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_incident in;
	char sha[32], mid[32];
	int64_t id = 0, read = -1, before;
	int i;

	if (st == NULL)
		return;
	incident_init(&in, "203.0.113.5");
	for (i = 0; i < 300; i++) {
		snprintf(sha, sizeof(sha), "p%d", i);
		snprintf(mid, sizeof(mid), "<p%d@x>", i);
		complaint_init(&c, mid, sha);
		if (ew_store_complaint_add(st, &c, &in, 1, &id) != 0)
			break;
	}
	EW_CHECK_INT(i, 300);
	complaint_init(&c, "<p-new@x>", "p-new");
	EW_CHECK_INT(ew_store_begin(st), 0);
	before = complaint_rows_read(st);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, &in, 1, &id), 0);
	read = complaint_rows_read(st) - before; /* 1: its incident's key */
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK(read >= 0 && read < 10);
	if (read >= 10)
		printf("# %lld rows of complaints read for one new one\n",
		    (long long)read);
	/* a duplicate is found, reading its own row */
	complaint_init(&c, "<p7@x>", "p7");
	EW_CHECK_INT(ew_store_begin(st), 0);
	before = complaint_rows_read(st);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, &in, 1, &id), -EEXIST);
	read = complaint_rows_read(st) - before;
	ew_store_end(st, -EEXIST);
	EW_CHECK(read >= 1 && read < 10);
	ew_store_close(st);
}

/* PostgreSQL: the rows of incidents read by this connection's open
 * transaction (see complaint_rows_read). */
static int64_t
incident_rows_read(struct ew_store *st)
{
	struct ew_stmt *s;
	int64_t n = -1;

	if (ew_store_prep(st,
		"SELECT seq_tup_read + coalesce(idx_tup_fetch, 0)"
		" FROM pg_stat_xact_user_tables"
		" WHERE relid = 'incidents'::regclass",
		&s) != 0)
		return -1;
	if (ew_store_step(s) == EW_STORE_ROW)
		n = ew_store_col_int64(s, 0);
	ew_store_finalize(s);
	return n;
}

/*
 * PostgreSQL: a complaint of many incidents with ports (a zipped CSV
 * may hold a million) is written in time linear in them: each port
 * finds its incident without reading the complaint's other incidents
 * (max(id) over them, by the complaint's index: quadratic, 3 s for
 * 8,000 on a store the planner knows).
 */
static void
test_pg_many_ports(void)
{
	enum { SMALL = 500, BIG = 400 };
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_incident *in, *v = NULL;
	int64_t cid = 0, reused, before, read = -1;
	char sha[32];
	size_t i, n = 0;

	if (st == NULL)
		return;
	if ((in = calloc(BIG, sizeof(*in))) == NULL) {
		ew_store_close(st);
		return;
	}
	for (i = 0; i < BIG; i++) {
		incident_init(&in[i], "203.0.113.5");
		in[i].n_dst_ports = 1 + i % 2;
	}
	/* a store of small complaints, its statistics known */
	for (i = 0; i < SMALL; i++) {
		snprintf(sha, sizeof(sha), "small%zu", i);
		complaint_init(&c, NULL, sha);
		if (ew_store_complaint_add(st, &c, in, 5, &cid) != 0)
			break;
	}
	EW_CHECK_INT(i, SMALL);
	EW_CHECK_INT(ew_store_exec(st, "ANALYZE"), 0);
	for (i = 0; i < 3; i++) { /* past the custom plans */
		snprintf(sha, sizeof(sha), "warm%zu", i);
		complaint_init(&c, NULL, sha);
		EW_CHECK_INT(ew_store_begin(st), 0);
		EW_CHECK_INT(
		    ew_store_complaint_add_later(st, &c, in, 3, &cid, &reused),
		    0);
		EW_CHECK_INT(ew_store_end(st, 0), 0);
	}
	complaint_init(&c, NULL, "big");
	EW_CHECK_INT(ew_store_begin(st), 0);
	before = incident_rows_read(st);
	EW_CHECK_INT(
	    ew_store_complaint_add_later(st, &c, in, BIG, &cid, &reused), 0);
	read = incident_rows_read(st) - before;
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	/* a reading per port (its reference checked): not the others */
	EW_CHECK(read >= 0 && read < 4 * BIG);
	if (read >= 4 * BIG)
		printf("# %lld rows of incidents read for %d incidents\n",
		    (long long)read, BIG);
	/* each port under its own incident */
	EW_CHECK_INT(ew_store_incident_list(st, cid, &v, &n), 0);
	EW_CHECK_INT(n, BIG);
	for (i = 0; i < n; i++)
		if (v[i].n_dst_ports != 1 + i % 2)
			break;
	EW_CHECK_INT(i, BIG);
	ew_store_incidents_free(v, n);
	free(in);
	ew_store_close(st);
}

/* The row the connection inserted last, in PostgreSQL's words. */
static void
test_translate_lastval(void)
{
	int n = 0;
	char *t = ew_store_pg_translate(
	    "INSERT INTO p (a, b) VALUES (last_insert_rowid(), ?)"
	    " -- 'last_insert_rowid()'",
	    &n);

	EW_CHECK(t != NULL);
	if (t != NULL)
		EW_CHECK_STR(t, "INSERT INTO p (a, b) VALUES (lastval(), $1)"
				" -- 'last_insert_rowid()'");
	EW_CHECK_INT(n, 1);
	free(t);
}

int
main(void)
{
	pg = ew_test_pg();
	printf("intake: %s\n", pg ? "PostgreSQL (EW_TEST_PG)" : "SQLite");
	EW_RUN(test_step_later);
	EW_RUN(test_complaint_add_later);
	EW_RUN(test_later_error_message);
	EW_RUN(test_translate_lastval);
	if (pg != NULL) {
		EW_RUN(test_pg_dup_plan);
		EW_RUN(test_pg_later_lost);
		EW_RUN(test_pg_many_ports);
	}
	return ew_test_done();
}
