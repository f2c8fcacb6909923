/*
 * test_store.c - unit tests for src/store: migrations, complaints and
 * incidents, duplicates, rollback, tickets, rules, policy history.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "store/store.h"

static char tmpdir[64];
static char dbpath[128];

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
	snprintf(dbpath, sizeof(dbpath), "%s/ew.db", tmpdir);
}

static void
tmp_cleanup(void)
{
	static const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[160];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static struct ew_store *
mem(void)
{
	struct ew_store *st = NULL;

	EW_CHECK_INT(ew_store_open(":memory:", &st), 0);
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

static void
incident_init(struct ew_store_incident *in, const char *src)
{
	memset(in, 0, sizeof(*in));
	in->src = src;
	in->src_port = -1;
	in->dst = "198.51.100.7";
	in->dst_ports = "6667,6697";
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
	char wal[160];

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
	f = fopen(dbpath, "r+b");
	EW_CHECK(f != NULL);
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

static void
test_complaints(void)
{
	struct ew_store *st;
	struct ew_store_complaint c;
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
		EW_CHECK_STR(v[0].dst_ports, "6667,6697");
		EW_CHECK_INT(v[0].time, 1699990000);
		EW_CHECK_INT(v[0].time_from, EW_STORE_NO_TIME);
		EW_CHECK(v[0].verdict == NULL);
		EW_CHECK(v[0].zone_source == NULL);
		EW_CHECK_STR(v[1].src, "2001:db8::5");
		EW_CHECK_INT(v[1].src_port, 40000);
		EW_CHECK(v[1].dst == NULL);
		EW_CHECK_INT(v[1].time, EW_STORE_NO_TIME);
		EW_CHECK_INT(v[1].time_from, 1699980000);
		EW_CHECK_INT(v[1].time_to, 1699983600);
		EW_CHECK_STR(v[1].zone_source, "offset");
		EW_CHECK_INT(
		    ew_store_incident_set_verdict(st, v[0].id, "allowed"), 0);
		EW_CHECK_INT(
		    ew_store_incident_set_verdict(st, v[1].id, "bad"), -EINVAL);
	}
	ew_store_incidents_free(v, n);
	EW_CHECK_INT(
	    ew_store_incident_set_verdict(st, 999, "allowed"), -ENOENT);
	EW_CHECK_INT(ew_store_incident_list(st, id, &v, &n), 0);
	if (n == 2) {
		EW_CHECK_STR(v[0].verdict, "allowed");
		EW_CHECK(v[1].verdict == NULL);
	}
	ew_store_incidents_free(v, n);
	EW_CHECK_INT(ew_store_incident_list(st, 999, &v, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_incidents_free(v, n);

	/* re-sent: same message id, different content */
	complaint_init(&c, "<a@x>", "bb22");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	/* re-sent: same content, no or another message id */
	complaint_init(&c, NULL, "aa11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 2, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	complaint_init(&c, "<other@x>", "aa11");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &dup), -EEXIST);
	EW_CHECK_INT(dup, id);
	counts(st, 1, 2);

	/* two complaints without a message id are not duplicates */
	complaint_init(&c, NULL, "cc33");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, in, 1, &id2), 0);
	complaint_init(&c, NULL, "dd44");
	EW_CHECK_INT(ew_store_complaint_add(st, &c, NULL, 0, &id2), 0);
	EW_CHECK(id2 > id);
	counts(st, 3, 3);
	ew_store_close(st);

	/* and it is all there after reopening */
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	if (st != NULL)
		counts(st, 3, 3);
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
	/* time must go forward */
	EW_CHECK_INT(ew_store_policy_record(st, "dc", "C", 2000, &id), -EINVAL);
	EW_CHECK_INT(ew_store_policy_record(st, "dc", "C", 1500, &id), -EINVAL);
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

int
main(void)
{
	EW_RUN(test_migrations);
	EW_RUN(test_complaints);
	EW_RUN(test_rollback);
	EW_RUN(test_tickets);
	EW_RUN(test_rules);
	EW_RUN(test_policy_history);
	return ew_test_done();
}
