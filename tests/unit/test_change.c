/*
 * test_change.c - the desk's change transaction (src/desk/change.c)
 * with a failure injected at each step: tor refuses, nftables fails,
 * the disk is full, the directory's fsync fails after the rename, the
 * record fails, the process is killed.  After each, the store, the
 * managed file, tor and the table (fakes that keep what they were last
 * given in a file) must be as they were before the change.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "desk/desk.h"
#include "harness/ew_test.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "store/store.h"

#define NT EW_STORE_NO_TIME

static char dir[] = "/tmp/ew-change-XXXXXX";
static char managed[256], policy[256], torstate[256], nftstate[256],
    dbpath[256];

/* What to break, and how often each step ran. */
static struct fault {
	int tor, nft, write_full, write_late, record, kill_at_tor;
	int tor_calls, nft_calls;
} F;

static char *
slurp(const char *path)
{
	struct ew_buf b = EW_BUF_INIT;
	char chunk[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return strdup("(none)");
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		ew_buf_add(&b, chunk, (size_t)r);
	close(fd);
	ew_buf_putc(&b, '\0');
	return ew_buf_detach(&b);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	EW_CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* A fake that "runs" a policy: keeps a copy of what it was given. */
static int
fake_take(const char *state, const char *path)
{
	char *t = slurp(path);

	put(state, t);
	free(t);
	return 0;
}

static int
fake_tor(void *arg, const char *path, int64_t now)
{
	(void)arg;
	(void)now;
	F.tor_calls++;
	if (F.kill_at_tor)
		raise(SIGKILL); /* killed after the file was written */
	if (F.tor && F.tor_calls == 1)
		return -EPERM; /* tor refused it: tor as it was */
	return fake_take(torstate, path);
}

static int
fake_nft(void *arg, const char *path, int64_t now)
{
	(void)arg;
	(void)now;
	F.nft_calls++;
	if (F.nft && F.nft_calls == 1)
		return -EINVAL; /* the table did not load: as it was */
	return fake_take(nftstate, path);
}

static int
fake_write(void *arg, const char *path, const char *text, size_t len,
    struct ew_diag_list *dg)
{
	int rc;

	if (F.write_full) {
		F.write_full = 0;
		return -ENOSPC; /* nothing written */
	}
	rc = ew_desk_write_file(arg, path, text, len, dg);
	if (rc == 0 && F.write_late) {
		F.write_late = 0;
		return -EIO; /* renamed into place, then the dir fsync failed */
	}
	return rc;
}

static int
fake_record(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	if (F.record)
		return -EIO;
	return ew_desk_record_file(arg, d, path, now, dg);
}

static const struct ew_desk_apply_ops ops = { fake_write, fake_tor, fake_nft,
	fake_record, NULL };

static int64_t
now0(void)
{
	int64_t t = 0;

	ew_time_parse("2026-11-20T12:00:00Z", 20, &t);
	return t;
}

static struct ew_desk_change
change(void)
{
	struct ew_desk_change ch;

	ch.managed = managed;
	ch.policy = policy;
	ch.store = "test store";
	ch.now = now0();
	ch.ops = &ops;
	return ch;
}

static size_t
nrules(struct ew_store *st)
{
	struct ew_store_rule *r = NULL;
	size_t n = 0;

	EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &n), 0);
	ew_store_rules_free(r, n);
	return n;
}

static size_t
nversions(struct ew_store *st)
{
	struct ew_store_policy_version *v = NULL;
	size_t n = 0;

	EW_CHECK_INT(ew_store_policy_during(
			 st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &v, &n),
	    0);
	ew_store_policy_versions_free(v, n);
	return n;
}

/* A fresh store with one ticket, and the managed policy synced (the
 * file, tor and the table agree on the store with no block). */
static struct ew_desk *
setup(struct ew_store **st, int64_t *tid)
{
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct ew_desk *d = NULL;

	memset(&F, 0, sizeof(F));
	unlink(managed);
	unlink(torstate);
	unlink(nftstate);
	unlink(dbpath);
	EW_CHECK_INT(ew_store_open(dbpath, st), 0);
	EW_CHECK_INT(ew_desk_new(*st, NULL, 0, &d), 0);
	EW_CHECK_INT(ew_store_ticket_open(
			 *st, "irc@example.net", now0(), EW_STORE_NO_TIME, tid),
	    0);
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_sync(d, &ch, &o, &dg), 0);
	EW_CHECK(o.applied && o.wrote);
	ew_diag_free(&dg);
	F.tor_calls = F.nft_calls = 0;
	return d;
}

/* The block of 203.0.113.5:6667 for ticket tid, as a plan. */
static void
plan_for(struct ew_desk_block_plan *pl, struct ew_desk_rule *r, int64_t tid)
{
	memset(pl, 0, sizeof(*pl));
	pl->ticket_id = tid;
	pl->expires = EW_STORE_NO_TIME;
	r->rule = "reject 203.0.113.5:6667";
	r->reason = "complaint from irc@example.net";
	r->ticket_id = tid;
	r->expires = EW_STORE_NO_TIME;
	pl->rules = r;
	pl->nnew = 1;
}

struct snap {
	char *file, *tor, *nft;
	size_t rules, versions;
};

static void
snap(struct ew_store *st, struct snap *s)
{
	s->file = slurp(managed);
	s->tor = slurp(torstate);
	s->nft = slurp(nftstate);
	s->rules = nrules(st);
	s->versions = nversions(st);
}

static void
snap_free(struct snap *s)
{
	free(s->file);
	free(s->tor);
	free(s->nft);
}

/* Everything as it was before the change. */
static void
check_as_before(struct ew_store *st, const struct snap *b, const char *what)
{
	struct snap a;

	snap(st, &a);
	ew_test_name = what;
	EW_CHECK_INT(a.rules, b->rules);
	EW_CHECK_INT(a.versions, b->versions);
	EW_CHECK_STR(a.file, b->file);
	EW_CHECK_STR(a.tor, b->tor);
	EW_CHECK_STR(a.nft, b->nft);
	EW_CHECK(strstr(a.file, "203.0.113.5") == NULL);
	snap_free(&a);
}

static void
test_block_ok(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_block_plan pl;
	struct ew_desk_rule r;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct snap b, a;
	int64_t tid;

	d = setup(&st, &tid);
	snap(st, &b);
	plan_for(&pl, &r, tid);
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_block(d, &ch, &pl, &o, &dg), 0);
	EW_CHECK(o.changed && o.wrote && o.applied);
	EW_CHECK_INT(o.failed, EW_DESK_STEP_NONE);
	snap(st, &a);
	EW_CHECK_INT(a.rules, 1);
	EW_CHECK_INT(a.versions, b.versions + 1);
	EW_CHECK(strstr(a.file, "reject 203.0.113.5:6667") != NULL);
	EW_CHECK_STR(a.tor, a.file);
	EW_CHECK_STR(a.nft, a.file);
	snap_free(&a);
	snap_free(&b);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
}

/* One failure: the change fails at `step`, and nothing moved. */
static void
fail_once(const char *what, enum ew_desk_step step, int restored)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_block_plan pl;
	struct ew_desk_rule r;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct snap b;
	struct fault keep = F;
	int64_t tid;
	struct stat sb;
	char prev[300];

	d = setup(&st, &tid);
	keep.tor_calls = keep.nft_calls = 0;
	F = keep;
	snap(st, &b);
	plan_for(&pl, &r, tid);
	ew_diag_init(&dg);
	EW_CHECK(ew_desk_block(d, &ch, &pl, &o, &dg) != 0);
	ew_test_name = what;
	EW_CHECK_INT(o.failed, step);
	EW_CHECK_INT(o.changed, 0);
	EW_CHECK_INT(o.restored, restored);
	EW_CHECK(!restored || dg.n > 0); /* "restored" said */
	check_as_before(st, &b, what);
	snprintf(prev, sizeof(prev), "%s.prev", managed);
	EW_CHECK(stat(prev, &sb) < 0); /* the kept file is gone */
	snap_free(&b);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
	memset(&F, 0, sizeof(F));
}

static void
test_block_failures(void)
{
	memset(&F, 0, sizeof(F));
	F.tor = 1;
	fail_once("tor refuses", EW_DESK_STEP_TOR, 1);
	F.nft = 1;
	fail_once("nft fails", EW_DESK_STEP_NFT, 1);
	F.write_full = 1;
	fail_once("disk full", EW_DESK_STEP_WRITE, 0);
	F.write_late = 1;
	fail_once("fsync after rename", EW_DESK_STEP_WRITE, 1);
	F.record = 1;
	fail_once("record fails", EW_DESK_STEP_RECORD, 1);
}

/* nft failing after tor took the new policy: tor gets the old one back
 * (applied again), the table is never touched twice. */
static void
test_reapply(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_block_plan pl;
	struct ew_desk_rule r;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	int64_t tid;

	d = setup(&st, &tid);
	F.nft = 1;
	plan_for(&pl, &r, tid);
	ew_diag_init(&dg);
	EW_CHECK(ew_desk_block(d, &ch, &pl, &o, &dg) != 0);
	EW_CHECK_INT(F.tor_calls, 2); /* the new one, then the old again */
	EW_CHECK_INT(F.nft_calls, 1); /* it never took the new one */
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
	memset(&F, 0, sizeof(F));
	d = setup(&st, &tid);
	F.tor = 1;
	ew_diag_init(&dg);
	EW_CHECK(ew_desk_block(d, &ch, &pl, &o, &dg) != 0);
	EW_CHECK_INT(F.tor_calls, 1); /* refused: nothing to put back */
	EW_CHECK_INT(F.nft_calls, 0); /* the table was not touched */
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
	memset(&F, 0, sizeof(F));
}

/* Killed after writing the file, before the commit: the store has not
 * changed; the next expire finds the drift and puts the store's policy
 * back in the file, tor and the table. */
static void
test_killed(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_block_plan pl;
	struct ew_desk_rule r;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct snap b, a;
	int64_t tid;
	int status = 0, drift = 0;
	pid_t pid;
	char *mid;

	d = setup(&st, &tid);
	snap(st, &b);
	ew_desk_free(d);
	ew_store_close(st);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct ew_store *cst = NULL;
		struct ew_desk *cd = NULL;

		F.kill_at_tor = 1;
		if (ew_store_open(dbpath, &cst) != 0 ||
		    ew_desk_new(cst, NULL, 0, &cd) != 0)
			_exit(3);
		plan_for(&pl, &r, tid);
		ew_diag_init(&dg);
		ew_desk_block(cd, &ch, &pl, &o, &dg);
		_exit(4); /* not reached: killed at the tor step */
	}
	EW_CHECK(pid > 0);
	waitpid(pid, &status, 0);
	EW_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	mid = slurp(managed);
	EW_CHECK(strstr(mid, "203.0.113.5") != NULL); /* the file is ahead */
	free(mid);
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	EW_CHECK_INT(ew_desk_new(st, NULL, 0, &d), 0);
	EW_CHECK_INT(nrules(st), 0); /* never committed */
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_drift(d, &ch, &dg), 1);
	EW_CHECK_INT(ew_desk_expire(d, &ch, &drift, &o, &dg), 0);
	EW_CHECK_INT(drift, 1);
	EW_CHECK_INT(ew_desk_drift(d, &ch, &dg), 0);
	snap(st, &a);
	EW_CHECK_STR(a.file, b.file);
	EW_CHECK_STR(a.tor, b.file);
	EW_CHECK_STR(a.nft, b.file);
	snap_free(&a);
	snap_free(&b);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
}

/* expire: a block whose time has come is removed in one change; a
 * failing tor keeps it. */
static void
test_expire(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct ew_desk_expired *v = NULL;
	size_t n = 0;
	int64_t tid, rid;
	int drift;

	d = setup(&st, &tid);
	EW_CHECK_INT(ew_store_rule_add(st, tid, "reject 203.0.113.5:6667", "x",
			 ch.now - 10, ch.now - 100, &rid),
	    0);
	EW_CHECK_INT(ew_desk_expire_due(d, ch.now, &v, &n), 0);
	EW_CHECK_INT(n, 1);
	ew_desk_expired_free(v, n);
	F.tor = 1;
	ew_diag_init(&dg);
	EW_CHECK(ew_desk_expire(d, &ch, &drift, &o, &dg) != 0);
	EW_CHECK_INT(nrules(st), 1);
	F.tor = 0;
	F.tor_calls = 0;
	EW_CHECK_INT(ew_desk_expire(d, &ch, &drift, &o, &dg), 0);
	EW_CHECK_INT(nrules(st), 0);
	EW_CHECK(o.changed && o.applied);
	/* nothing due, no drift: nothing happens */
	F.tor_calls = 0;
	EW_CHECK_INT(ew_desk_expire(d, &ch, &drift, &o, &dg), 0);
	EW_CHECK_INT(drift, 0);
	EW_CHECK_INT(F.tor_calls, 0);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
}

/*
 * block add / remove (issue 13) through the change engine: a failed
 * step changes nothing; a removal is kept as history; a sync of the
 * operator's policy (what apply does) keeps the block.
 */
static void
test_manual_blocks(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_rule r;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_desk_removed rm;
	struct ew_diag_list dg;
	struct ew_store_rule *v = NULL;
	struct ew_buf diff = EW_BUF_INIT;
	struct snap b, a;
	int64_t tid, id = 0;
	size_t n = 0;

	d = setup(&st, &tid);
	snap(st, &b);
	memset(&r, 0, sizeof(r));
	r.rule = "reject 203.0.113.5:6667";
	r.reason = "by hand";
	r.expires = EW_STORE_NO_TIME;
	/* -n: made and rolled back, nothing written */
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_block_add_preview(d, &ch, &r, &diff, &dg), 0);
	EW_CHECK_STR(ew_buf_str(&diff), "+ reject 203.0.113.5:6667\n");
	check_as_before(st, &b, "block add preview");
	/* tor refuses: nothing moved */
	F.tor = 1;
	EW_CHECK(ew_desk_block_add(d, &ch, &r, &id, &o, &dg) < 0);
	EW_CHECK_INT(o.failed, EW_DESK_STEP_TOR);
	check_as_before(st, &b, "block add, tor refused");
	/* then it works */
	memset(&F, 0, sizeof(F));
	EW_CHECK_INT(ew_desk_block_add(d, &ch, &r, &id, &o, &dg), 0);
	EW_CHECK(id > 0 && o.applied);
	snap(st, &a);
	EW_CHECK(strstr(a.file,
		     "reject 203.0.113.5:6667 reason \"by hand\"\n") != NULL);
	EW_CHECK_STR(a.tor, a.file);
	EW_CHECK_STR(a.nft, a.file);
	snap_free(&a);
	/* the same again: -EEXIST, said */
	EW_CHECK_INT(ew_desk_block_add(d, &ch, &r, &id, &o, &dg), -EEXIST);
	/* apply of the operator's policy (a sync): the block stays */
	EW_CHECK_INT(ew_desk_sync(d, &ch, &o, &dg), 0);
	snap(st, &a);
	EW_CHECK(strstr(a.tor, "reject 203.0.113.5:6667") != NULL);
	EW_CHECK(strstr(a.tor, "include") != NULL);
	/* nft fails during the removal: in force still, file and tor too */
	memset(&F, 0, sizeof(F));
	F.nft = 1;
	EW_CHECK(ew_desk_block_remove(d, &ch, &id, 1, 0, &rm, &o, &dg) < 0);
	EW_CHECK_INT(o.failed, EW_DESK_STEP_NFT);
	EW_CHECK_INT(rm.n, 0);
	EW_CHECK_INT(nrules(st), 1);
	{
		char *f = slurp(managed), *t = slurp(torstate);

		EW_CHECK_STR(f, a.file);
		EW_CHECK_STR(t, a.file);
		free(f);
		free(t);
	}
	snap_free(&a);
	/* an unknown id with a good one: neither */
	memset(&F, 0, sizeof(F));
	{
		int64_t two[2] = { id, 999 };

		EW_CHECK_INT(
		    ew_desk_block_remove(d, &ch, two, 2, 0, &rm, &o, &dg),
		    -ENOENT);
		EW_CHECK_INT(nrules(st), 1);
	}
	/* removed: gone from the file, kept in the store with its time */
	ch.now += 60;
	EW_CHECK_INT(ew_desk_block_remove(d, &ch, &id, 1, 0, &rm, &o, &dg), 0);
	EW_CHECK_INT(rm.n, 1);
	EW_CHECK(rm.n == 1 && rm.v[0].id == id);
	ew_desk_removed_free(&rm);
	EW_CHECK_INT(nrules(st), 0);
	snap(st, &a);
	EW_CHECK(strstr(a.file, "203.0.113.5") == NULL);
	EW_CHECK_STR(a.tor, a.file);
	snap_free(&a);
	EW_CHECK_INT(ew_store_rule_list(st, 1, &v, &n), 0);
	EW_CHECK(n == 1 && v[0].removed_at == ch.now && v[0].origin != NULL &&
		 strcmp(v[0].origin, "manual") == 0);
	EW_CHECK(n == 1 &&
		 strcmp(ew_desk_block_state(&v[0], ch.now), "removed") == 0);
	ew_store_rules_free(v, n);
	snap_free(&b);
	ew_buf_free(&diff);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
}

/*
 * A pending self-service block stays out of the managed policy (a sync
 * and an expiry leave it out) until ew_desk_block_confirm, which is
 * one change: all the ids or none; an id not pending, or unknown, is
 * refused; tor refusing leaves it pending.
 */
static void
test_confirm(void)
{
	struct ew_store *st;
	struct ew_desk *d;
	struct ew_desk_change ch = change();
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct ew_store_block *v = NULL;
	struct ew_buf diff = EW_BUF_INIT;
	const char *rules[] = { "reject 198.51.100.7:*" };
	struct snap b, a;
	int64_t tid, sid = 0, id;
	size_t n = 0;
	int drift = 0;

	d = setup(&st, &tid);
	EW_CHECK_INT(ew_store_selfservice_add(st, rules, 1, "asked",
			 ch.now + 86400, 1, NULL, ch.now, &sid, NULL),
	    0);
	EW_CHECK_INT(ew_store_block_list(st, &v, &n), 0);
	EW_CHECK(n == 1 && v[0].pending);
	id = n == 1 ? v[0].id : 0;
	ew_store_blocks_free(v, n);
	ew_diag_init(&dg);
	/* pending: no drift, a sync leaves it out */
	EW_CHECK_INT(ew_desk_expire(d, &ch, &drift, &o, &dg), 0);
	EW_CHECK_INT(drift, 0);
	EW_CHECK_INT(ew_desk_sync(d, &ch, &o, &dg), 0);
	snap(st, &b);
	EW_CHECK(strstr(b.file, "198.51.100.7") == NULL);
	EW_CHECK(strstr(b.tor, "198.51.100.7") == NULL);
	/* -n shows it, changes nothing */
	EW_CHECK_INT(
	    ew_desk_block_confirm_preview(d, &ch, &id, 1, &diff, &dg), 0);
	EW_CHECK_STR(ew_buf_str(&diff), "+ reject 198.51.100.7:*\n");
	/* with an unknown id: neither */
	{
		int64_t two[2] = { id, 999 };

		EW_CHECK_INT(
		    ew_desk_block_confirm(d, &ch, two, 2, &o, &dg), -ENOENT);
	}
	/* tor refuses: still pending, nothing moved */
	memset(&F, 0, sizeof(F));
	F.tor = 1;
	EW_CHECK(ew_desk_block_confirm(d, &ch, &id, 1, &o, &dg) < 0);
	EW_CHECK_INT(o.failed, EW_DESK_STEP_TOR);
	snap(st, &a);
	EW_CHECK_STR(a.file, b.file);
	EW_CHECK_STR(a.tor, b.tor);
	snap_free(&a);
	EW_CHECK_INT(ew_store_block_list(st, &v, &n), 0);
	EW_CHECK(n == 1 && v[0].pending);
	ew_store_blocks_free(v, n);
	/* confirmed (named twice): in the file, tor and the table */
	memset(&F, 0, sizeof(F));
	{
		int64_t twice[2] = { id, id };

		EW_CHECK_INT(
		    ew_desk_block_confirm(d, &ch, twice, 2, &o, &dg), 0);
	}
	EW_CHECK(o.applied);
	snap(st, &a);
	EW_CHECK(strstr(a.file, "reject 198.51.100.7:*") != NULL);
	EW_CHECK_STR(a.tor, a.file);
	EW_CHECK_STR(a.nft, a.file);
	snap_free(&a);
	/* again: not pending any more */
	EW_CHECK_INT(ew_desk_block_confirm(d, &ch, &id, 1, &o, &dg), -ENOENT);
	{
		size_t k, said = 0;

		for (k = 0; k < dg.n; k++)
			said += strstr(dg.v[k].msg, "not pending") != NULL;
		EW_CHECK_INT(said, 1);
	}
	snap_free(&b);
	ew_buf_free(&diff);
	ew_diag_free(&dg);
	ew_desk_free(d);
	ew_store_close(st);
}

/* A typed rule: one reject rule, located errors otherwise. */
static void
test_block_rule(void)
{
	static const struct {
		const char *in, *out, *err;
	} cases[] = {
		{ "reject 192.0.2.0/24:6660-7000",
		    "reject 192.0.2.0/24:6660-7000", NULL },
		{ "  reject6 [2001:db8::]/32:25", "reject6 [2001:db8::]/32:25",
		    NULL },
		{ "accept *:80", NULL, "a block must be a reject rule" },
		{ "reject 192.0.2.0/33:80", NULL, NULL },
		{ "reject 1.2.3.4:80 ticket 5", NULL, "--reason, --ticket" },
		{ "ExitRelay 1", NULL, "exactly one rule" },
		{ "reject 1.2.3.4:80\nreject 1.2.3.5:80", NULL, "one line" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ew_buf canon = EW_BUF_INIT;
		struct ew_diag_list dg;
		int rc;

		ew_diag_init(&dg);
		rc = ew_desk_block_rule("<cmdline>", cases[i].in, &canon, &dg);
		if (cases[i].out != NULL) {
			EW_CHECK_INT(rc, 0);
			EW_CHECK_STR(ew_buf_str(&canon), cases[i].out);
		} else {
			EW_CHECK_INT(rc, -EINVAL);
			EW_CHECK(dg.nerr > 0 && dg.v[0].file != NULL &&
				 strcmp(dg.v[0].file, "<cmdline>") == 0 &&
				 dg.v[0].line == 1);
			if (cases[i].err != NULL)
				EW_CHECK(dg.n > 0 && strstr(dg.v[0].msg,
							 cases[i].err) != NULL);
		}
		ew_buf_free(&canon);
		ew_diag_free(&dg);
	}
}

/* ---- several relays (issue 13) ---- */

/* A tor per relay (its state file is the managed path + ".tor"); the
 * one table of all (nft.state), loaded once per change. */
static int rtor_fail_at; /* fail the call with this number (1-based) */
static int rtor_calls, rnft_calls;

static int
rfake_tor(void *arg, const char *path, int64_t now)
{
	char st[300];

	(void)arg;
	(void)now;
	if (++rtor_calls == rtor_fail_at)
		return -EPERM;
	snprintf(st, sizeof(st), "%s.tor", path);
	return fake_take(st, path);
}

static int
rfake_nft(void *arg, const char *path, int64_t now)
{
	(void)arg;
	(void)now;
	rnft_calls++;
	return fake_take(nftstate, path);
}

static const struct ew_desk_apply_ops rops = { NULL, rfake_tor, rfake_nft, NULL,
	NULL };

static void
test_relays_all_or_none(void)
{
	static const char *const names[2] = { "alpha", "beta" };
	char m[2][256], ts[2][300], *before[2], *t;
	struct ew_desk_change chs[2];
	struct ew_desk_outcome o;
	struct ew_diag_list dg;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_store_policy_version *pv = NULL;
	struct ew_store_rule *rl = NULL;
	struct ew_desk_block_plan pl;
	struct ew_desk_rule r;
	size_t i, n = 0;

	unlink(dbpath);
	EW_CHECK_INT(ew_store_open(dbpath, &st), 0);
	EW_CHECK_INT(ew_desk_new(st, NULL, 0, &d), 0);
	if (d == NULL)
		goto out;
	for (i = 0; i < 2; i++) {
		snprintf(
		    m[i], sizeof(m[i]), "%s/managed-%s.policy", dir, names[i]);
		snprintf(ts[i], sizeof(ts[i]), "%.256s.tor", m[i]);
		unlink(m[i]);
		unlink(ts[i]);
		memset(&chs[i], 0, sizeof(chs[i]));
		chs[i].managed = m[i];
		chs[i].policy = policy;
		chs[i].store = dbpath;
		chs[i].now = now0();
		chs[i].ops = &rops;
	}
	/* both applied: each tor its own file, the table once */
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_sync_relays(d, chs, names, 2, &o, &dg), 0);
	ew_diag_free(&dg);
	EW_CHECK(o.applied && o.changed);
	EW_CHECK_INT(rtor_calls, 2);
	EW_CHECK_INT(rnft_calls, 1);
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &pv, &n), 0);
	EW_CHECK(n == 2 && strcmp(pv[0].relay, "alpha") == 0 &&
		 strcmp(pv[1].relay, "beta") == 0);
	ew_store_policy_versions_free(pv, n);
	EW_CHECK(ew_desk_relay(d) == NULL);
	/* a block for alpha alone (the desk's relay when it is added) */
	memset(&pl, 0, sizeof(pl));
	r.rule = "reject 203.0.113.9:*";
	r.reason = "test";
	r.ticket_id = 0;
	r.expires = NT;
	pl.rules = &r;
	pl.nnew = 1;
	pl.expires = NT;
	EW_CHECK_INT(ew_desk_set_relay(d, "alpha"), 0);
	for (i = 0; i < 2; i++)
		before[i] = slurp(ts[i]);
	/* beta's tor refuses: alpha's tor gets its old file back, both
	 * files are as before, nothing stored or recorded, the table
	 * untouched */
	rtor_calls = rnft_calls = 0;
	rtor_fail_at = 2;
	ew_diag_init(&dg);
	EW_CHECK(ew_desk_block_relays(d, chs, names, 2, &pl, &o, &dg) < 0);
	ew_diag_free(&dg);
	EW_CHECK_STR(ew_desk_relay(d), "alpha");
	EW_CHECK_INT(o.failed, EW_DESK_STEP_TOR);
	EW_CHECK_INT(o.restored, 1);
	EW_CHECK_INT(rtor_calls, 3); /* alpha, beta (refused), alpha again */
	EW_CHECK_INT(rnft_calls, 0);
	for (i = 0; i < 2; i++) {
		t = slurp(ts[i]);
		EW_CHECK_STR(t, before[i]);
		free(t);
		t = slurp(m[i]);
		EW_CHECK_STR(t, before[i]);
		free(t);
	}
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &pv, &n), 0);
	EW_CHECK_INT(n, 2);
	ew_store_policy_versions_free(pv, n);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &rl, &n), 0);
	EW_CHECK_INT(n, 0);
	ew_store_rules_free(rl, n);
	/* again without the fault: alpha's file has the block, beta's not */
	rtor_fail_at = 0;
	rtor_calls = rnft_calls = 0;
	ew_diag_init(&dg);
	EW_CHECK_INT(ew_desk_block_relays(d, chs, names, 2, &pl, &o, &dg), 0);
	ew_diag_free(&dg);
	EW_CHECK_INT(rnft_calls, 1);
	EW_CHECK_INT(ew_store_rule_list(st, 0, &rl, &n), 0);
	EW_CHECK(
	    n == 1 && rl[0].relay != NULL && strcmp(rl[0].relay, "alpha") == 0);
	ew_store_rules_free(rl, n);
	t = slurp(ts[0]);
	EW_CHECK(strstr(t, "203.0.113.9") != NULL);
	free(t);
	t = slurp(ts[1]);
	EW_CHECK(strstr(t, "203.0.113.9") == NULL);
	EW_CHECK_STR(t, before[1]);
	free(t);
	EW_CHECK_INT(ew_store_policy_during(st, NT, NT, &pv, &n), 0);
	EW_CHECK_INT(n, 3); /* alpha's second version; beta's unchanged */
	ew_store_policy_versions_free(pv, n);
	for (i = 0; i < 2; i++) {
		free(before[i]);
		unlink(m[i]);
		unlink(ts[i]);
	}
out:
	ew_desk_free(d);
	ew_store_close(st);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(managed, sizeof(managed), "%s/managed.policy", dir);
	snprintf(policy, sizeof(policy), "%s/exit.policy", dir);
	snprintf(torstate, sizeof(torstate), "%s/tor.state", dir);
	snprintf(nftstate, sizeof(nftstate), "%s/nft.state", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/ew.db", dir);
	put(policy, "Address 192.0.2.10\nExitRelay 1\naccept *:*\n");
	EW_RUN(test_block_ok);
	EW_RUN(test_block_failures);
	EW_RUN(test_reapply);
	EW_RUN(test_killed);
	EW_RUN(test_expire);
	EW_RUN(test_manual_blocks);
	EW_RUN(test_confirm);
	EW_RUN(test_block_rule);
	EW_RUN(test_relays_all_or_none);
	unlink(managed);
	unlink(policy);
	unlink(torstate);
	unlink(nftstate);
	unlink(dbpath);
	rmdir(dir);
	return ew_test_done();
}
