/*
 * store_fixture.c - the store's unit tests' shared set-up (see
 * store_fixture.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "store/store.h"
#include "unit/store_fixture.h"

char tmpdir[64];

char dbpath[1024];

/* EW_TEST_PG: the cluster to run against, or NULL for SQLite */
const char *pg;

void
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

void
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

struct ew_store *
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

void
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

void
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

void
counts(struct ew_store *st, int64_t ec, int64_t ei)
{
	int64_t c = -1, i = -1;

	EW_CHECK_INT(ew_store_count(st, &c, &i), 0);
	EW_CHECK_INT(c, ec);
	EW_CHECK_INT(i, ei);
}

/* The digest of the version in force at t, or "none". */
const char *
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
