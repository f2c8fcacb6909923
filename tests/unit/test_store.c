/*
 * test_store.c - unit tests for src/store: migrations, complaints and
 * incidents, duplicates, rollback, tickets, nested transactions, the
 * lookups of schema 3, the SQL translation for PostgreSQL.  Rules,
 * policy history, concurrent writers, wake-ups and the fleet's hosts
 * are in test_store_fleet.c; the set-up both share in store_fixture.c.
 *
 * The suite runs against SQLite, or with EW_TEST_PG set to a libpq
 * keyword string (tests/tools/pgcluster.py starts a throwaway cluster and
 * sets it) against PostgreSQL: every store a test opens is then a fresh
 * schema of that database (search_path), and the tests that build old
 * SQLite files byte by byte run only on SQLite.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "unit/store_fixture.h"

static void
test_migrations(void)
{
	struct ew_store *st = NULL;
	int v = -1;
	FILE *f;
	unsigned char hdr[4] = { 0, 0, 0, 99 };
	char wal[1100];

	tmp_setup();
	/* every migration, from an empty file */
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	EW_CHECK_INT(ew_store_migrated(st), EW_STORE_SCHEMA_VERSION);
	EW_CHECK_INT(ew_store_version(st, &v), 0);
	EW_CHECK_INT(v, EW_STORE_SCHEMA_VERSION);
	counts(st, 0, 0);
	/* a file database is in WAL mode: the log exists while it is open */
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	if (pg == NULL)
		EW_CHECK_INT(access(wal, F_OK), 0);
	ew_store_close(st);

	/* reopening an up-to-date database does nothing */
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	EW_CHECK_INT(ew_store_migrated(st), 0);
	EW_CHECK_INT(ew_store_version(st, &v), 0);
	EW_CHECK_INT(v, EW_STORE_SCHEMA_VERSION);
	ew_store_close(st);

	/* a database from a newer exitwarden (user_version is the big-endian
	 * word at offset 60 of the header) is refused */
	if (pg != NULL) {
		EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
		if (st != NULL)
			EW_CHECK_INT(ew_store_set_version(st, 99), 0);
		ew_store_close(st);
		st = NULL;
		EW_CHECK_INT(ew_store_open(dbpath, &st), -ENOTSUP);
		EW_CHECK(st == NULL);
	}
	f = pg != NULL ? NULL : fopen(dbpath, "r+b");
	EW_CHECK(pg != NULL || f != NULL);
	if (f != NULL) {
		EW_CHECK_INT(fseek(f, 60, SEEK_SET), 0);
		EW_CHECK_INT(fwrite(hdr, 1, 4, f), 4);
		fclose(f);
		EW_CHECK_INT(ew_store_open(dbpath, &st), -ENOTSUP);
		EW_CHECK(st == NULL);
	}

	/* an in-memory one migrates too */
	st = mem();
	if (st != NULL)
		EW_CHECK_INT(ew_store_migrated(st), EW_STORE_SCHEMA_VERSION);
	ew_store_close(st);
	ew_store_close(NULL);
out:
	tmp_cleanup();
}

/* One value from the database file at dbpath (sqlite3 directly). */
static long long
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * A database of schema 4 with what the old rules let in (a Message-ID
 * unique, the same rule in force twice for a ticket) migrates to 5:
 * every complaint and incident kept (the rebuild of complaints cascades
 * to nothing), the Message-ID no longer unique, the extra copy of the
 * rule marked removed when it was added.
 */
static void
test_migrate_v4(void)
{
	struct ew_store *st = NULL;
	struct ew_store_complaint c;
	struct ew_store_rule *r = NULL;
	sqlite3 *db = NULL;
	int64_t id = 0;
	size_t i, n = 0;
	int ok = 1;

	tmp_setup();
	ok = sqlite3_open(dbpath, &db) == SQLITE_OK;
	for (i = 0; ok && i < ew_store_nmigrations; i++)
		if (ew_store_migrations[i].version <= 4)
			ok = sqlite3_exec(db, ew_store_migrations[i].sql, NULL,
				 NULL, NULL) == SQLITE_OK;
	ok =
	    ok &&
	    sqlite3_exec(db,
		"PRAGMA user_version = 4;"
		"INSERT INTO complaints (id, message_id, content_sha256,"
		" reporter, format, received_at, raw_size)"
		" VALUES (1, '<t-1@h>', 'aa', 'r', 'text', 1, 10),"
		" (2, NULL, 'bb', 'r', 'text', 2, 10);"
		"INSERT INTO incidents (complaint_id, src) VALUES"
		" (1, '198.51.100.7'), (1, '198.51.100.8'), (2, "
		"'198.51.100.7');"
		"INSERT INTO tickets (id, reporter, opened_at) VALUES (1, 'r', "
		"1);"
		"INSERT INTO ticket_complaints VALUES (1, 1), (1, 2);"
		"INSERT INTO rules (ticket_id, rule_text, added_at) VALUES"
		" (1, 'reject 192.0.2.1:80', 5), (1, 'reject 192.0.2.1:80', 6),"
		" (1, 'reject 192.0.2.2:80', 6);",
		NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	EW_CHECK(ok);
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	EW_CHECK_INT(ew_store_migrated(st), EW_STORE_SCHEMA_VERSION - 4);
	counts(st, 2, 3);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_STR(r[0].rule_text, "reject 192.0.2.1:80");
		EW_CHECK_INT(r[0].added_at, 5);
		EW_CHECK_STR(r[1].rule_text, "reject 192.0.2.2:80");
	}
	ew_store_rules_free(r, n);
	complaint_init(&c, "<t-1@h>", "cc");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	EW_CHECK_INT(id, 3);
	ew_store_close(st);
	st = NULL;
	if (sqlite3_open(dbpath, &db) == SQLITE_OK) {
		EW_CHECK_INT(
		    raw_int(db, "SELECT count(*) FROM ticket_complaints"), 2);
		EW_CHECK_INT(raw_int(db, "SELECT count(*) FROM"
					 " pragma_foreign_key_check"),
		    0);
		EW_CHECK_INT(raw_int(db, "SELECT reuses_message_id FROM"
					 " complaints WHERE id = 3"),
		    1);
		EW_CHECK_INT(raw_int(db, "SELECT removed_at FROM rules"
					 " WHERE id = 2"),
		    6);
	}
	sqlite3_close(db);
out:
	ew_store_close(st);
	tmp_cleanup();
}

/*
 * A database of schema 6 with port lists and verdicts as text migrates
 * to 7: each list becomes rows of incident_ports in its order, each
 * verdict its number, an empty list none; a list that is not one (no
 * exitwarden wrote such) is kept as it was in dst_ports_unread.
 */
static void
test_migrate_v6(void)
{
	struct ew_store *st = NULL;
	struct ew_store_incident *v = NULL;
	sqlite3 *db = NULL;
	size_t i, n = 0;
	int ok = 1;

	tmp_setup();
	ok = sqlite3_open(dbpath, &db) == SQLITE_OK;
	for (i = 0; ok && i < ew_store_nmigrations; i++)
		if (ew_store_migrations[i].version <= 6)
			ok = sqlite3_exec(db, ew_store_migrations[i].sql, NULL,
				 NULL, NULL) == SQLITE_OK;
	ok =
	    ok && sqlite3_exec(db,
		      "PRAGMA user_version = 6;"
		      "INSERT INTO complaints (id, content_sha256, content_key,"
		      " reporter, format, received_at, raw_size)"
		      " VALUES (1, 'aa', 'aa', 'r', 'text', 1, 10);"
		      "INSERT INTO incidents (id, complaint_id, src, dst_ports,"
		      " verdict) VALUES"
		      " (1, 1, '198.51.100.7', '6667,6660-7000', 'blocked'),"
		      " (2, 1, '198.51.100.7', NULL, 'not ours'),"
		      " (3, 1, '198.51.100.7', '80,', NULL),"
		      " (4, 1, '198.51.100.7', '', 'unknown'),"
		      " (5, 1, '198.51.100.7', '7000-6660', 'allowed'),"
		      " (6, 1, '198.51.100.7', '22', NULL);",
		      NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	EW_CHECK(ok);
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	EW_CHECK_INT(ew_store_migrated(st), EW_STORE_SCHEMA_VERSION - 6);
	EW_CHECK_INT(ew_store_incident_list(st, 1, &v, &n), 0);
	EW_CHECK_INT(n, 6);
	if (n == 6) {
		EW_CHECK_INT(v[0].n_dst_ports, 2);
		EW_CHECK(v[0].n_dst_ports == 2 &&
			 v[0].dst_ports[0].lo == 6667 &&
			 v[0].dst_ports[0].hi == 6667 &&
			 v[0].dst_ports[1].lo == 6660 &&
			 v[0].dst_ports[1].hi == 7000);
		EW_CHECK_INT(v[0].verdict, EW_STORE_VERDICT_BLOCKED);
		EW_CHECK_INT(v[1].n_dst_ports, 0);
		EW_CHECK_INT(v[1].verdict, EW_STORE_VERDICT_NOT_OURS);
		EW_CHECK_INT(v[2].n_dst_ports, 0);
		EW_CHECK_INT(v[2].verdict, EW_STORE_VERDICT_NONE);
		EW_CHECK_INT(v[3].n_dst_ports, 0);
		EW_CHECK_INT(v[3].verdict, EW_STORE_VERDICT_UNKNOWN);
		EW_CHECK_INT(v[4].n_dst_ports, 0);
		EW_CHECK_INT(v[4].verdict, EW_STORE_VERDICT_ALLOWED);
		EW_CHECK_INT(v[5].n_dst_ports, 1);
		EW_CHECK(v[5].n_dst_ports == 1 && v[5].dst_ports[0].lo == 22);
	}
	ew_store_incidents_free(v, n);
	ew_store_close(st);
	st = NULL;
	if (sqlite3_open(dbpath, &db) == SQLITE_OK) {
		EW_CHECK_INT(raw_int(db, "SELECT count(*) FROM incidents"
					 " WHERE dst_ports_unread IS NOT NULL"),
		    2);
		EW_CHECK_INT(raw_int(db, "SELECT count(*) FROM incidents"
					 " WHERE dst_ports_unread = '80,'"),
		    1);
		EW_CHECK_INT(raw_int(db, "SELECT typeof(verdict) = 'integer'"
					 " FROM incidents WHERE id = 1"),
		    1);
		/* the typed columns refuse what is not a port or verdict */
		EW_CHECK(sqlite3_exec(db,
			     "INSERT INTO incident_ports VALUES (1, 9, 0, 5)",
			     NULL, NULL, NULL) != SQLITE_OK);
		EW_CHECK(sqlite3_exec(db,
			     "INSERT INTO incident_ports VALUES (1, 9, 90, 80)",
			     NULL, NULL, NULL) != SQLITE_OK);
		EW_CHECK(sqlite3_exec(db,
			     "UPDATE incidents SET verdict = 5 WHERE id = 1",
			     NULL, NULL, NULL) != SQLITE_OK);
		EW_CHECK(sqlite3_exec(db,
			     "UPDATE incidents SET verdict = 'allowed'"
			     " WHERE id = 1",
			     NULL, NULL, NULL) != SQLITE_OK);
	}
	sqlite3_close(db);
out:
	ew_store_close(st);
	tmp_cleanup();
}

static void
test_complaints(void)
{
	struct ew_store *st;
	struct ew_store_complaint c, *g = NULL;
	struct ew_store_incident in[2], *v = NULL;
	int64_t id = 0, id2 = 0, dup = 0;
	size_t n = 0;

	tmp_setup();
	st = NULL;
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	complaint_init(&c, "<a@x>", "aa11");
	incident_init(&in[0], "203.0.113.5");
	incident_init(&in[1], "2001:db8::5");
	in[1].src_port = 40000;
	in[1].dst = NULL;
	in[1].dst_ports = NULL;
	in[1].n_dst_ports = 0;
	in[1].time = EW_STORE_NO_TIME;
	in[1].time_from = 1699980000;
	in[1].time_to = 1699983600;
	in[1].zone_source = "offset";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &id), 0);
	EW_CHECK(id > 0);
	counts(st, 1, 2);

	EW_CHECK_INT(ew_store_incident_list(st, id, &v, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(v[0].complaint_id, id);
		EW_CHECK_STR(v[0].src, "203.0.113.5");
		EW_CHECK_INT(v[0].src_port, -1);
		EW_CHECK_STR(v[0].dst, "198.51.100.7");
		EW_CHECK_INT(v[0].n_dst_ports, 2);
		EW_CHECK(v[0].dst_ports != NULL &&
			 v[0].dst_ports[0].lo == 6667 &&
			 v[0].dst_ports[0].hi == 6667 &&
			 v[0].dst_ports[1].lo == 6697);
		EW_CHECK(v[1].dst_ports == NULL && v[1].n_dst_ports == 0);
		EW_CHECK_INT(v[0].time, 1699990000);
		EW_CHECK_INT(v[0].time_from, EW_STORE_NO_TIME);
		EW_CHECK_INT(v[0].verdict, EW_STORE_VERDICT_NONE);
		EW_CHECK(v[0].zone_source == NULL);
		EW_CHECK_STR(v[1].src, "2001:db8::5");
		EW_CHECK_INT(v[1].src_port, 40000);
		EW_CHECK(v[1].dst == NULL);
		EW_CHECK_INT(v[1].time, EW_STORE_NO_TIME);
		EW_CHECK_INT(v[1].time_from, 1699980000);
		EW_CHECK_INT(v[1].time_to, 1699983600);
		EW_CHECK_STR(v[1].zone_source, "offset");
		EW_CHECK_INT(ew_store_incident_set_verdict(
				 st, v[0].id, EW_STORE_VERDICT_ALLOWED),
		    0);
		EW_CHECK_INT(ew_store_incident_set_verdict(
				 st, v[1].id, (enum ew_store_verdict)5),
		    -EINVAL);
	}
	ew_store_incidents_free(v, n);
	EW_CHECK_INT(
	    ew_store_incident_set_verdict(st, 999, EW_STORE_VERDICT_ALLOWED),
	    -ENOENT);
	EW_CHECK_INT(ew_store_incident_list(st, id, &v, &n), 0);
	if (n == 2) {
		EW_CHECK_INT(v[0].verdict, EW_STORE_VERDICT_ALLOWED);
		EW_CHECK_STR(ew_store_verdict_word(v[0].verdict), "allowed");
		EW_CHECK(v[1].verdict == EW_STORE_VERDICT_NONE);
		EW_CHECK(ew_store_verdict_word(v[1].verdict) == NULL);
	}
	ew_store_incidents_free(v, n);
	EW_CHECK_INT(ew_store_incident_list(st, 999, &v, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_incidents_free(v, n);

	/* re-sent: same content, no or another message id */
	complaint_init(&c, NULL, "aa11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	complaint_init(&c, "<other@x>", "aa11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	/* delivered again (other bytes, the same content key) */
	complaint_init(&c, "<a@x>", "aa11-redelivered");
	c.content_key = "aa11";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	counts(st, 1, 2);

	/* the same Message-ID with other content is not a duplicate (a
	 * sender chooses it): stored, flagged as reusing the first one's */
	complaint_init(&c, "<a@x>", "bb22");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &id2), 0);
	EW_CHECK(id2 > id);
	EW_CHECK_INT(ew_store_complaint_get(st, id2, &g), 0);
	if (g != NULL) {
		EW_CHECK_INT(g->reuses_message_id, id);
		EW_CHECK_STR(g->message_id, "<a@x>");
		EW_CHECK_STR(g->content_key, "bb22");
	}
	ew_store_complaint_free(g);
	g = NULL;
	EW_CHECK_INT(ew_store_complaint_get(st, id, &g), 0);
	if (g != NULL)
		EW_CHECK_INT(g->reuses_message_id, 0);
	ew_store_complaint_free(g);
	counts(st, 2, 4);

	/* two complaints without a message id are not duplicates */
	complaint_init(&c, NULL, "cc33");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &id2), 0);
	complaint_init(&c, NULL, "dd44");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id2), 0);
	EW_CHECK(id2 > id);
	counts(st, 4, 5);

	/* the host name a destination was named by */
	complaint_init(&c, NULL, "ee55");
	incident_init(&in[0], "203.0.113.5");
	in[0].dst = NULL;
	in[0].dst_host = "irc.example.net";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &id2), 0);
	EW_CHECK_INT(ew_store_incident_list(st, id2, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1) {
		EW_CHECK_STR(v[0].dst_host, "irc.example.net");
		EW_CHECK(v[0].dst == NULL);
	}
	ew_store_incidents_free(v, n);
	/* typed: not an empty or overlong name */
	complaint_init(&c, NULL, "ff66");
	in[0].dst_host = "";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &id2), -EINVAL);
	counts(st, 5, 6);
	ew_store_close(st);

	/* and it is all there after reopening */
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st != NULL)
		counts(st, 5, 6);
	ew_store_close(st);
out:
	tmp_cleanup();
}

static void
test_rollback(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_incident in[3];
	int64_t id = 7, iid = 7;

	if (st == NULL)
		return;
	complaint_init(&c, "<r@x>", "ee55");
	incident_init(&in[0], "203.0.113.5");
	incident_init(&in[1], "203.0.113.6");
	incident_init(&in[2], NULL); /* src is required: the insert fails */
	EW_CHECK(ew_store_complaint_add(st, &c, in, 3, &id) < 0);
	EW_CHECK_INT(id, 0);
	counts(st, 0, 0);
	in[1].src_port = 70000; /* out of range */
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &id), -EINVAL);
	counts(st, 0, 0);
	EW_CHECK(ew_store_errmsg(st)[0] != '\0');

	/* the complaint can be added once the data is right */
	in[1].src_port = 7000;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &id), 0);
	counts(st, 1, 2);

	/* an incident for a complaint that does not exist */
	EW_CHECK_INT(
	    ew_store_incident_add(st, id + 100, &in[0], &iid), -EINVAL);
	counts(st, 1, 2);
	EW_CHECK_INT(ew_store_incident_add(st, id, &in[0], &iid), 0);
	EW_CHECK(iid > 0);
	counts(st, 1, 3);

	/* missing required fields are refused before anything is tried */
	c.reporter = NULL;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &id), -EINVAL);
	counts(st, 1, 3);
	ew_store_close(st);
}

static void
test_tickets(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_ticket *v = NULL;
	int64_t t1, t2, t3, t4, cid;
	size_t n = 0;

	if (st == NULL)
		return;
	complaint_init(&c, "<t@x>", "ff66");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &cid), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "a", 1000, 5000, &t1), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open(st, "b", 1000, EW_STORE_NO_TIME, &t2), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "c", 1000, 3000, &t3), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "d", 1000, 4000, &t4), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, t1, cid), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, t1, cid), -EALREADY);
	EW_CHECK_INT(ew_store_ticket_link(st, t1, cid + 9), -EINVAL);
	EW_CHECK_INT(ew_store_ticket_link(st, t4 + 9, cid), -EINVAL);

	/* ordered by due time, none last; overdue at or after due */
	EW_CHECK_INT(ew_store_ticket_list(st, 4000, 0, &v, &n), 0);
	EW_CHECK_INT(n, 4);
	if (n == 4) {
		EW_CHECK_INT(v[0].id, t3);
		EW_CHECK_INT(v[1].id, t4);
		EW_CHECK_INT(v[2].id, t1);
		EW_CHECK_INT(v[3].id, t2);
		EW_CHECK(v[0].overdue);
		EW_CHECK(v[1].overdue);
		EW_CHECK(!v[2].overdue);
		EW_CHECK(!v[3].overdue);
		EW_CHECK_INT(v[2].ncomplaints, 1);
		EW_CHECK_INT(v[0].ncomplaints, 0);
		EW_CHECK_STR(v[2].reporter, "a");
		EW_CHECK_INT(v[3].due_at, EW_STORE_NO_TIME);
	}
	ew_store_tickets_free(v, n);

	/* a new due time reorders; closed tickets drop out of the list */
	EW_CHECK_INT(ew_store_ticket_set_due(st, t2, 2000), 0);
	EW_CHECK_INT(ew_store_ticket_set_due(st, t4 + 9, 2000), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_close(st, t3, "blocked"), 0);
	EW_CHECK_INT(ew_store_ticket_close(st, t3, "again"), -EALREADY);
	EW_CHECK_INT(ew_store_ticket_close(st, t4 + 9, "x"), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_list(st, 1999, 0, &v, &n), 0);
	EW_CHECK_INT(n, 3);
	if (n == 3) {
		EW_CHECK_INT(v[0].id, t2);
		EW_CHECK(!v[0].overdue);
		EW_CHECK_INT(v[1].id, t4);
		EW_CHECK_INT(v[2].id, t1);
	}
	ew_store_tickets_free(v, n);
	EW_CHECK_INT(ew_store_ticket_list(st, 9999, 1, &v, &n), 0);
	EW_CHECK_INT(n, 4);
	if (n == 4) {
		EW_CHECK_INT(v[0].id, t2);
		EW_CHECK_INT(v[1].id, t3);
		EW_CHECK(v[1].closed);
		EW_CHECK(!v[1].overdue); /* closed is never overdue */
		EW_CHECK_STR(v[1].reason, "blocked");
		EW_CHECK(v[0].overdue);
		EW_CHECK(v[0].reason == NULL);
	}
	ew_store_tickets_free(v, n);
	ew_store_tickets_free(NULL, 0);
	ew_store_close(st);
}

/* The number of tickets, closed ones too. */
static size_t
ntickets(struct ew_store *st)
{
	struct ew_store_ticket *v = NULL;
	size_t n = 0;

	EW_CHECK_INT(ew_store_ticket_list(st, 0, 1, &v, &n), 0);
	ew_store_tickets_free(v, n);
	return n;
}

static void
test_nested(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_incident in[2];
	int64_t cid = 0, cid2 = 0, tid = 0, dup = 0, x = 0;

	if (st == NULL)
		return;
	incident_init(&in[0], "203.0.113.5");
	incident_init(&in[1], NULL); /* src is required */

	/* an outer transaction that fails leaves nothing */
	complaint_init(&c, "<n1@x>", "n111");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, c.reporter, 1000, 5000, &tid), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid), 0);
	counts(st, 1, 1); /* visible inside the transaction */
	EW_CHECK_INT(ew_store_end(st, -EIO), -EIO);
	counts(st, 0, 0);
	EW_CHECK_INT(ntickets(st), 0);
	EW_CHECK_INT(ew_store_complaint_ticket(st, cid, &x), -ENOENT);

	/* the store is usable afterwards, and a committed outer keeps all */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, c.reporter, 1000, 5000, &tid), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	counts(st, 1, 1);
	EW_CHECK_INT(ntickets(st), 1);
	EW_CHECK_INT(ew_store_complaint_ticket(st, cid, &x), 0);
	EW_CHECK_INT(x, tid);

	/* inner failures (a duplicate, a constraint) undo only themselves */
	complaint_init(&c, "<n2@x>", "n222");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid2), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &dup), -EEXIST);
	EW_CHECK_INT(dup, cid2);
	complaint_init(&c, "<n3@x>", "n333");
	EW_CHECK(ew_store_complaint_add(st, &c, in, 2, &dup) < 0);
	EW_CHECK_INT(dup, 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid2), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tid, cid2), -EALREADY);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	counts(st, 2, 2);
	EW_CHECK_INT(ew_store_complaint_ticket(st, cid2, &x), 0);
	EW_CHECK_INT(x, tid);

	/* transactions nest more than one deep: an inner one rolled back
	 * undoes its own writes, the outer commits the rest */
	complaint_init(&c, "<n4@x>", "n444");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "inner", 1000, NT, &x), 0);
	EW_CHECK_INT(ew_store_end(st, -EINVAL), -EINVAL);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "outer", 1000, NT, &x), 0);
	counts(st, 3, 3);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	counts(st, 3, 3);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "inner", &x), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "outer", &x), 0);

	/* an inner commit is undone by the outer's rollback */
	complaint_init(&c, "<n5@x>", "n555");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_INT(ew_store_end(st, -EIO), -EIO);
	counts(st, 3, 3);

	/* a refused policy record inside a transaction undoes only itself */
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "P", "text P", 1000, &x), 0);
	EW_CHECK_INT(
	    ew_store_policy_record(st, NULL, "text Q", 999, &x), -EINVAL);
	EW_CHECK_INT(ew_store_policy_record(st, "P", "text P", 1500, &x), 0);
	EW_CHECK_INT(ew_store_policy_record(st, "Q", "text Q", 2000, &x), 0);
	EW_CHECK_INT(ew_store_end(st, 0), 0);
	EW_CHECK_STR(at(st, 1999), "P/text P");
	EW_CHECK_STR(at(st, 2000), "Q/text Q");

	/* ending what was never begun */
	EW_CHECK(ew_store_end(st, 0) < 0);
	EW_CHECK_INT(ew_store_end(st, -EIO), -EIO);
	counts(st, 3, 3);
	/* and the store still works */
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &cid), 0);
	counts(st, 4, 4);
	ew_store_close(st);
}

/* A transaction left open when the store is closed is not committed. */
static void
test_nested_close(void)
{
	struct ew_store *st = NULL;
	struct ew_store_complaint c;
	struct ew_store_incident in;
	int64_t cid = 0;

	tmp_setup();
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st == NULL)
		goto out;
	complaint_init(&c, "<o1@x>", "o111");
	incident_init(&in, "203.0.113.5");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, &in, 1, &cid), 0);
	complaint_init(&c, "<o2@x>", "o222");
	EW_CHECK_INT(ew_store_begin(st), 0);
	EW_CHECK_INT(ew_store_complaint_add(st, &c, &in, 1, &cid), 0);
	ew_store_close(st);
	st = NULL;
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st != NULL)
		counts(st, 1, 1);
	ew_store_close(st);
out:
	tmp_cleanup();
}

/* Schema 4: a ticket is one reporter's case about one kind of abuse. */
static void
test_ticket_kind(void)
{
	struct ew_store *st = mem();
	struct ew_store_ticket *t = NULL;
	int64_t irc, scan, none, x;

	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_ticket_open_kind(st, "r", "irc", 1000, NT, &irc), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open_kind(st, "r", "scan", 1001, NT, &scan), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "r", 1002, NT, &none), 0);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "r", "irc", &x), 0);
	EW_CHECK_INT(x, irc);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "r", "scan", &x), 0);
	EW_CHECK_INT(x, scan);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "r", NULL, &x), 0);
	EW_CHECK_INT(x, none);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "r", "spam", &x), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "q", "irc", &x), -ENOENT);
	/* any kind: the newest */
	EW_CHECK_INT(ew_store_ticket_find_open(st, "r", &x), 0);
	EW_CHECK_INT(x, none);
	EW_CHECK_INT(ew_store_ticket_close(st, irc, "done"), 0);
	EW_CHECK_INT(ew_store_ticket_find_kind(st, "r", "irc", &x), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_get(st, scan, 0, &t), 0);
	if (t != NULL)
		EW_CHECK_STR(t->category, "scan");
	ew_store_tickets_free(t, t ? 1 : 0);
	ew_store_close(st);
}

static void
test_schema(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c, *g = NULL;
	int64_t id = 0;
	int v = -1;

	EW_CHECK_INT(EW_STORE_SCHEMA_VERSION, 15);
	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_version(st, &v), 0);
	EW_CHECK_INT(v, 15);
	EW_CHECK_INT(ew_store_migrated(st), 15);
	/* the columns of schema 3 are there */
	complaint_init(&c, "<s@x>", "s111");
	c.subject = "IRC abuse";
	c.forwarder_ticket = "HT-1";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	EW_CHECK_INT(ew_store_complaint_get(st, id, &g), 0);
	if (g != NULL) {
		EW_CHECK_STR(g->subject, "IRC abuse");
		EW_CHECK_STR(g->forwarder_ticket, "HT-1");
	}
	ew_store_complaint_free(g);
	/* Migrating a real version-2 database needs one made by SQLite
	 * itself (sqlite3.h or the sqlite3 CLI), which a unit test of the
	 * store's public interface does not use: not tested here. */
	ew_store_close(st);
}

static void
test_complaint_get(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c, *g = NULL, *l = NULL;
	int64_t a = 0, b = 0, t1 = 0, t2 = 0, x = 0;
	size_t n = 9;

	if (st == NULL)
		return;
	EW_CHECK_INT(ew_store_complaint_list(st, &l, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_complaints_free(l, n);
	EW_CHECK_INT(ew_store_complaint_get(st, 1, &g), -ENOENT);
	EW_CHECK(g == NULL);

	complaint_init(&c, "<g1@x>", "g111");
	c.deadline = 1700050000;
	c.subject = "Suspicious connections";
	c.forwarder_ticket = "T#42";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &a), 0);
	complaint_init(&c, NULL, "g222");
	c.forwarder = NULL;
	c.category = NULL;
	c.date = NT;
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &b), 0);

	EW_CHECK_INT(ew_store_complaint_get(st, a, &g), 0);
	if (g != NULL) {
		EW_CHECK_INT(g->id, a);
		EW_CHECK_STR(g->message_id, "<g1@x>");
		EW_CHECK_STR(g->content_sha256, "g111");
		EW_CHECK_STR(g->reporter, "abuse@irc.example");
		EW_CHECK_STR(g->forwarder, "abuse@hoster.example");
		EW_CHECK_STR(g->format, "text");
		EW_CHECK_STR(g->category, "irc");
		EW_CHECK_INT(g->received_at, 1700000000);
		EW_CHECK_INT(g->date, 1699999000);
		EW_CHECK_INT(g->deadline, 1700050000);
		EW_CHECK_INT(g->raw_size, 1234);
		EW_CHECK_STR(g->subject, "Suspicious connections");
		EW_CHECK_STR(g->forwarder_ticket, "T#42");
	}
	ew_store_complaint_free(g);
	EW_CHECK_INT(ew_store_complaint_get(st, b, &g), 0);
	if (g != NULL) {
		EW_CHECK(g->message_id == NULL);
		EW_CHECK(g->forwarder == NULL);
		EW_CHECK(g->category == NULL);
		EW_CHECK(g->subject == NULL);
		EW_CHECK(g->forwarder_ticket == NULL);
		EW_CHECK_INT(g->date, NT);
		EW_CHECK_INT(g->deadline, NT);
	}
	ew_store_complaint_free(g);
	g = NULL;
	EW_CHECK_INT(ew_store_complaint_get(st, b + 1, &g), -ENOENT);
	EW_CHECK(g == NULL);
	EW_CHECK_INT(ew_store_complaint_get(st, 0, &g), -ENOENT);
	EW_CHECK_INT(ew_store_complaint_get(st, -1, &g), -ENOENT);
	ew_store_complaint_free(NULL);

	EW_CHECK_INT(ew_store_complaint_list(st, &l, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(l[0].id, a);
		EW_CHECK_INT(l[1].id, b);
		EW_CHECK_STR(l[0].subject, "Suspicious connections");
		EW_CHECK_STR(l[1].content_sha256, "g222");
	}
	ew_store_complaints_free(l, n);

	/* the ticket of a complaint: none, then the newest it is linked to */
	EW_CHECK_INT(ew_store_complaint_ticket(st, a, &x), -ENOENT);
	EW_CHECK_INT(x, 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "r", 1000, NT, &t1), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "r", 1000, NT, &t2), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, t2, a), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, t1, a), 0);
	EW_CHECK_INT(ew_store_complaint_ticket(st, a, &x), 0);
	EW_CHECK_INT(x, t2);
	EW_CHECK_INT(ew_store_complaint_ticket(st, b, &x), -ENOENT);
	EW_CHECK_INT(ew_store_complaint_ticket(st, 999, &x), -ENOENT);
	ew_store_close(st);
}

static void
test_ticket_get(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c;
	struct ew_store_ticket *t = NULL;
	int64_t c1 = 0, c2 = 0, c3 = 0, ta = 0, tb = 0, tc = 0, x = 0;
	int64_t *ids = NULL;
	size_t n = 9;

	if (st == NULL)
		return;
	complaint_init(&c, "<k1@x>", "k111");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &c1), 0);
	complaint_init(&c, "<k2@x>", "k222");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &c2), 0);
	complaint_init(&c, "<k3@x>", "k333");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &c3), 0);

	EW_CHECK_INT(ew_store_ticket_find_open(st, "a", &x), -ENOENT);
	EW_CHECK_INT(x, 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "a", 1000, 5000, &ta), 0);
	EW_CHECK_INT(ew_store_ticket_open(st, "b", 1100, NT, &tb), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, ta, c3), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, ta, c1), 0);
	EW_CHECK_INT(ew_store_ticket_link(st, tb, c2), 0);

	EW_CHECK_INT(ew_store_ticket_get(st, ta, 4999, &t), 0);
	if (t != NULL) {
		EW_CHECK_INT(t->id, ta);
		EW_CHECK_STR(t->reporter, "a");
		EW_CHECK_INT(t->opened_at, 1000);
		EW_CHECK_INT(t->due_at, 5000);
		EW_CHECK_INT(t->closed, 0);
		EW_CHECK(t->reason == NULL);
		EW_CHECK_INT(t->ncomplaints, 2);
		EW_CHECK_INT(t->overdue, 0);
	}
	ew_store_tickets_free(t, 1);
	EW_CHECK_INT(ew_store_ticket_get(st, ta, 5000, &t), 0);
	if (t != NULL)
		EW_CHECK_INT(t->overdue, 1);
	ew_store_tickets_free(t, 1);
	EW_CHECK_INT(ew_store_ticket_get(st, tb, 99999, &t), 0);
	if (t != NULL) {
		EW_CHECK_INT(t->due_at, NT);
		EW_CHECK_INT(t->overdue, 0);
		EW_CHECK_INT(t->ncomplaints, 1);
	}
	ew_store_tickets_free(t, 1);
	t = NULL;
	EW_CHECK_INT(ew_store_ticket_get(st, tb + 1, 0, &t), -ENOENT);
	EW_CHECK(t == NULL);
	EW_CHECK_INT(ew_store_ticket_get(st, 0, 0, &t), -ENOENT);

	/* the complaints of a ticket, ascending */
	EW_CHECK_INT(ew_store_ticket_complaints(st, ta, &ids, &n), 0);
	EW_CHECK_INT(n, 2);
	if (n == 2) {
		EW_CHECK_INT(ids[0], c1);
		EW_CHECK_INT(ids[1], c3);
	}
	free(ids);
	EW_CHECK_INT(ew_store_ticket_complaints(st, tb, &ids, &n), 0);
	EW_CHECK_INT(n, 1);
	if (n == 1)
		EW_CHECK_INT(ids[0], c2);
	free(ids);
	EW_CHECK_INT(ew_store_ticket_complaints(st, 999, &ids, &n), 0);
	EW_CHECK_INT(n, 0);
	free(ids);

	/* the newest open ticket of a reporter; closed ones do not count */
	EW_CHECK_INT(ew_store_ticket_find_open(st, "a", &x), 0);
	EW_CHECK_INT(x, ta);
	EW_CHECK_INT(ew_store_ticket_open(st, "a", 1200, NT, &tc), 0);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "a", &x), 0);
	EW_CHECK_INT(x, tc);
	EW_CHECK_INT(ew_store_ticket_complaints(st, tc, &ids, &n), 0);
	EW_CHECK_INT(n, 0);
	free(ids);
	EW_CHECK_INT(ew_store_ticket_close(st, tc, "done"), 0);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "a", &x), 0);
	EW_CHECK_INT(x, ta);
	EW_CHECK_INT(ew_store_ticket_close(st, ta, "done"), 0);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "a", &x), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "A", &x), -ENOENT);
	EW_CHECK_INT(ew_store_ticket_find_open(st, "b", &x), 0);
	EW_CHECK_INT(x, tb);
	EW_CHECK_INT(ew_store_ticket_get(st, ta, 99999, &t), 0);
	if (t != NULL) {
		EW_CHECK_INT(t->closed, 1);
		EW_CHECK_STR(t->reason, "done");
		EW_CHECK_INT(t->overdue, 0);
		EW_CHECK_INT(t->ncomplaints, 2);
	}
	ew_store_tickets_free(t, 1);
	ew_store_close(st);
}

/* Which targets are PostgreSQL's, and how they are printed. */
static void
test_targets(void)
{
	char l[128];

	EW_CHECK(ew_store_is_server("postgresql://db.example/ew"));
	EW_CHECK(ew_store_is_server("postgres://u@h:5433/ew?sslmode=require"));
	EW_CHECK(ew_store_is_server("postgresql://"));
	EW_CHECK(ew_store_is_server("host=/run/postgresql dbname=ew"));
	EW_CHECK(ew_store_is_server(" dbname = ew"));
	EW_CHECK(ew_store_is_server("service=exitwarden"));
	EW_CHECK(!ew_store_is_server("/var/lib/exitwarden/exitwarden.db"));
	EW_CHECK(!ew_store_is_server("exitwarden.db"));
	EW_CHECK(!ew_store_is_server(":memory:"));
	EW_CHECK(!ew_store_is_server("file:ew.db?mode=ro"));
	EW_CHECK(!ew_store_is_server("./host=x"));
	EW_CHECK(!ew_store_is_server("hostile.db"));
	EW_CHECK(!ew_store_is_server(NULL));
	ew_store_target_label(
	    "postgresql://ew:s3cret@db.example/ew", l, sizeof(l));
	EW_CHECK_STR(l, "postgresql://ew:***@db.example/ew");
	ew_store_target_label("postgresql://ew@db.example/ew", l, sizeof(l));
	EW_CHECK_STR(l, "postgresql://ew@db.example/ew");
	ew_store_target_label(
	    "host=h password='a b\\'c' dbname=ew password=x", l, sizeof(l));
	EW_CHECK_STR(l, "host=h password=*** dbname=ew password=***");
	ew_store_target_label("/var/lib/ew.db", l, sizeof(l));
	EW_CHECK_STR(l, "/var/lib/ew.db");
}

/* The common dialect in PostgreSQL's (no server needed). */
static const char *
pgsql(const char *sql, int *np)
{
	static char out[512];
	char *t = ew_store_pg_translate(sql, np);

	snprintf(out, sizeof(out), "%s", t ? t : "(null)");
	free(t);
	return out;
}

static void
test_translate(void)
{
	int np = -1;

	EW_CHECK_STR(pgsql("SELECT a FROM t WHERE b = ? AND c = ?", &np),
	    "SELECT a FROM t WHERE b = $1 AND c = $2");
	EW_CHECK_INT(np, 2);
	EW_CHECK_STR(pgsql("SELECT ?2, ?1, ?", &np), "SELECT $2, $1, $3");
	EW_CHECK_INT(np, 3);
	/* nothing inside quotes */
	EW_CHECK_STR(pgsql("SELECT 'is ? INTEGER', \"x?\" IS ?1", &np),
	    "SELECT 'is ? INTEGER', \"x?\" IS NOT DISTINCT FROM $1");
	EW_CHECK_INT(np, 1);
	EW_CHECK_STR(pgsql("CREATE TABLE t (id INTEGER PRIMARY KEY,"
			   " n integer NOT NULL, b BLOB,"
			   " PRIMARY KEY (n)) WITHOUT ROWID;",
			 &np),
	    "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	    " PRIMARY KEY, n BIGINT NOT NULL, b BYTEA,"
	    " PRIMARY KEY (n)) ;");
	EW_CHECK_INT(np, 0);
	EW_CHECK_STR(pgsql("INSERT OR IGNORE INTO t (a) VALUES (?);"
			   "INSERT OR IGNORE INTO t (a) VALUES (1)",
			 &np),
	    "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING;"
	    "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING");
	EW_CHECK_STR(
	    pgsql("INSERT OR IGNORE INTO t VALUES (?) RETURNING id", &np),
	    "INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING RETURNING id");
	EW_CHECK_STR(pgsql("x IS NULL AND y IS NOT NULL AND z IS ?3", &np),
	    "x IS NULL AND y IS NOT NULL AND z IS NOT DISTINCT FROM $3");
	/* words that only contain the keywords stay */
	EW_CHECK_STR(pgsql("SELECT integers, blobs, is_x FROM t", &np),
	    "SELECT integers, blobs, is_x FROM t");
}

/*
 * Text that is not UTF-8 (a raw header byte) is stored, not refused:
 * as it is on SQLite, with U+FFFD for each bad byte on PostgreSQL.
 */
static void
test_bad_utf8(void)
{
	struct ew_store *st = mem();
	struct ew_store_complaint c, *g = NULL;
	int64_t id = 0, t = 0, x = 0;

	if (st == NULL)
		return;
	complaint_init(&c, NULL, "u8");
	c.reporter = "abuse\xff@x";
	c.subject = "caf\xc3\xa9 \xff\xc3 ok";
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id), 0);
	EW_CHECK_INT(ew_store_complaint_get(st, id, &g), 0);
	if (g != NULL)
		EW_CHECK_STR(
		    g->subject, pg ? "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd ok"
				   : "caf\xc3\xa9 \xff\xc3 ok");
	ew_store_complaint_free(g);
	/* the same bytes find the same ticket */
	EW_CHECK_INT(ew_store_ticket_open(st, c.reporter, 1, NT, &t), 0);
	EW_CHECK_INT(ew_store_ticket_find_open(st, c.reporter, &x), 0);
	EW_CHECK_INT(x, t);
	ew_store_close(st);
}

int
main(void)
{
	pg = ew_test_pg();
	printf("store: %s\n", pg ? "PostgreSQL (EW_TEST_PG)" : "SQLite");
	EW_RUN(test_targets);
	EW_RUN(test_translate);
	EW_RUN(test_migrations);
	if (pg == NULL) { /* old SQLite files, made byte by byte */
		EW_RUN(test_migrate_v4);
		EW_RUN(test_migrate_v6);
	}
	EW_RUN(test_bad_utf8);
	EW_RUN(test_complaints);
	EW_RUN(test_rollback);
	EW_RUN(test_tickets);
	EW_RUN(test_ticket_kind);
	EW_RUN(test_nested);
	EW_RUN(test_nested_close);
	EW_RUN(test_schema);
	EW_RUN(test_complaint_get);
	EW_RUN(test_ticket_get);
	return ew_test_done();
}
