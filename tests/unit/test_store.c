/*
 * test_store.c - unit tests for src/store: migrations, complaints and
 * incidents, duplicates, rollback, tickets, rules, policy history,
 * nested transactions, the lookups of schema 3.
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
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

#define NT EW_STORE_NO_TIME

static char tmpdir[64];
static char dbpath[1024];
/* EW_TEST_PG: the cluster to run against, or NULL for SQLite */
static const char *pg;

static void
tmp_setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ew-store-XXXXXX",
	    base && strlen(base) < 40 ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		ew_test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	if (pg != NULL)
		ew_test_store_target(dbpath, sizeof(dbpath));
	else
		snprintf(dbpath, sizeof(dbpath), "%s/ew.db", tmpdir);
}

static void
tmp_cleanup(void)
{
	static const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[1100];
	size_t i;

	for (i = 0; pg == NULL && i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static struct ew_store *
mem(void)
{
	struct ew_store *st = NULL;
	char target[1024];

	ew_test_store_target(target, sizeof(target));
	EW_CHECK_INT(ew_store_open(target, &st), 0);
	if (st != NULL)
		EW_CHECK_STR(
		    ew_store_backend(st), pg ? "postgresql" : "sqlite");
	return st;
}

static void
complaint_init(struct ew_store_complaint *c, const char *mid, const char *sha)
{
	memset(c, 0, sizeof(*c));
	c->message_id = mid;
	c->content_sha256 = sha;
	c->reporter = "abuse@irc.example";
	c->forwarder = "abuse@hoster.example";
	c->format = "text";
	c->category = "irc";
	c->received_at = 1700000000;
	c->date = 1699999000;
	c->deadline = EW_STORE_NO_TIME;
	c->raw_size = 1234;
}

static const struct ew_port_range irc_ports[] = { { 6667, 6667 },
	{ 6697, 6697 } };

static void
incident_init(struct ew_store_incident *in, const char *src)
{
	memset(in, 0, sizeof(*in));
	in->src = src;
	in->src_port = -1;
	in->dst = "198.51.100.7";
	in->dst_ports = irc_ports;
	in->n_dst_ports = 2;
	in->time = 1699990000;
	in->time_from = EW_STORE_NO_TIME;
	in->time_to = EW_STORE_NO_TIME;
}

static void
counts(struct ew_store *st, int64_t ec, int64_t ei)
{
	int64_t c = -1, i = -1;

	EW_CHECK_INT(ew_store_count(st, &c, &i), 0);
	EW_CHECK_INT(c, ec);
	EW_CHECK_INT(i, ei);
}

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

/* The digest of the version in force at t, or "none". */
static const char *
at(struct ew_store *st, int64_t t)
{
	static char d[32];
	struct ew_store_policy_version *v = NULL;
	int rc = ew_store_policy_at(st, t, &v);

	if (rc == -ENOENT)
		return "none";
	if (rc != 0 || v == NULL)
		return "error";
	snprintf(d, sizeof(d), "%s/%s", v->digest, v->text);
	ew_store_policy_version_free(v);
	return d;
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

	/* an outbox record replayed twice is stored once (schema 13) */
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
	EW_RUN(test_targets);
	EW_RUN(test_translate);
	EW_RUN(test_migrations);
	if (pg == NULL) { /* old SQLite files, made byte by byte */
		EW_RUN(test_migrate_v4);
		EW_RUN(test_migrate_v6);
	}
	EW_RUN(test_writers);
	if (pg != NULL)
		EW_RUN(test_pg_aborted);
	EW_RUN(test_wakeups);
	EW_RUN(test_host_quiet);
	EW_RUN(test_revisions);
	EW_RUN(test_bad_utf8);
	if (pg != NULL)
		EW_RUN(test_pg_reconnect);
	EW_RUN(test_complaints);
	EW_RUN(test_rollback);
	EW_RUN(test_tickets);
	EW_RUN(test_rules);
	EW_RUN(test_policy_history);
	EW_RUN(test_policy_same_second);
	EW_RUN(test_ticket_kind);
	EW_RUN(test_nested);
	EW_RUN(test_nested_close);
	EW_RUN(test_schema);
	EW_RUN(test_fleet);
	EW_RUN(test_fleet_versions);
	EW_RUN(test_host_blocks);
	EW_RUN(test_repair_counts);
	EW_RUN(test_surge);
	EW_RUN(test_policy_during);
	EW_RUN(test_complaint_get);
	EW_RUN(test_ticket_get);
	return ew_test_done();
}
