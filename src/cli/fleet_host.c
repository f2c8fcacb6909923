/*
 * fleet_host.c - `exitwarden run --host NAME`: a fleet host follows the
 * desk (issue 14).
 *
 * The store is the desk's PostgreSQL database, opened with the host's
 * own role (fleet add-host), scoped to the host (ew_store_set_scope:
 * the fleet's blocks and the host's own; row-level security says the
 * same on the server), so this handle decides nothing and never bumps
 * the revision.  The loop:
 *
 *   1. LISTEN first (ew_store_listen), then read the rule changes after
 *      the host's cursor (ew_store_rules_since): the order closes the
 *      window between the catch-up and the listening;
 *   2. when any came (or at the start), compose the managed policy and
 *      apply it through the change engine (managed file, tor, kernel),
 *      recording each relay's policy version in the shared history
 *      under the host's name (the store's scope; its role writes its
 *      own versions only), which the desk judges incidents by, then
 *      report an applies row and keep the cursor in a file beside the
 *      managed policy;
 *   3. wait on the wake-up socket, at most --interval seconds (a lost
 *      NOTIFY costs one interval, never a change: the query is the
 *      truth).
 *
 * When PostgreSQL is unreachable nothing is taken away: the managed
 * file, tor and the kernel keep the last state applied (the managed
 * file is the host's cache of its desired state), and the loop says
 * which revision it enforces and how long ago it synced, then retries
 * (the driver reconnects, LISTEN included).
 *
 * The outbox (fleet_local.c): every apply report (the cached state
 * applied at a start without the store included) and every emergency
 * block the host's operator adds is first appended to a file beside the
 * managed policy (mode 0600, fsync'd, one record a line with a random
 * unique id), then the whole file is sent (a uid stored already is
 * ignored) and emptied once all of it is stored.  So a report made
 * while PostgreSQL is down, or by a run killed between its apply and
 * its report, reaches the desk when the store is back, once: a record
 * sent twice (killed before the file was emptied) is stored once.  Each
 * report carries how many the host still had queued, the digest of the
 * block set it enforces and its self-repairs (fleet status' drift).
 *
 * The host's emergency blocks (`exitwarden block add` against the
 * host's connection, or with the store unreachable on a machine that
 * follows the desk: ew_cli_fleet_block) are composed into every managed
 * policy after the desk's rules; the block add applies at once from the
 * cache, and the loop notices the change between its waits.  The desk
 * removes or adopts one with a revision: the round reads those after
 * its cursor and drops them.  Between the waits the self-repair of
 * repair.c runs (a tor restarted, the table flushed), with or without
 * the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* Each relay's policy version into the shared history under the host's
 * name (the store's scope).  A role made before schema 15 may not write
 * it until `fleet init` at the desk grants it: said once, and the apply
 * goes on (its own savepoint rolled back). */
static int
host_record(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	static int said;
	int rc = ew_desk_record_file(arg, d, path, now, dg);

	if (rc != -EACCES)
		return rc;
	if (!said++)
		ew_cli_err("run --host: this host's role may not record its "
			   "policy versions (run exitwarden fleet init at the "
			   "desk): applied, not recorded");
	return 0;
}

/* The cursor file: "REV SYNCED_AT\n" beside the managed policy. */
static void
cursor_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s.fleet-rev", ew_cli_managed_path());
}

static void
cursor_load(int64_t *rev, int64_t *at)
{
	char path[4096];
	long long r = -1, t = 0;
	FILE *f;

	*rev = -1;
	*at = 0;
	cursor_path(path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "%lld %lld", &r, &t) == 2) {
		*rev = r;
		*at = t;
	}
	fclose(f);
}

int
ew_cli_fleet_host_name(char *out, size_t cap)
{
	char path[4096], name[64];
	long long r, t;
	FILE *f;
	int n;

	cursor_path(path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return -ENOENT;
	n = fscanf(f, "%lld %lld %63s", &r, &t, name);
	fclose(f);
	if (n != 3 || !ew_store_host_name_ok(name))
		return -ENOENT;
	snprintf(out, cap, "%s", name);
	return 0;
}

/* "REV SYNCED_AT HOST\n" */
static void
cursor_save(int64_t rev, int64_t at, const char *host)
{
	char path[4096], tmp[4200];
	FILE *f;

	cursor_path(path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%lld %lld %s\n", (long long)rev, (long long)at, host);
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* The managed file's digest (hex; several relays: of their files one
 * after the other), or "-" when one cannot be read. */
static void
managed_digest(const struct ew_cli_apply *ap, char out[EW_SHA256_HEXLEN])
{
	struct ew_buf all = EW_BUF_INIT;
	size_t n = 0, i, k = ap->nrelays > 0 ? ap->nrelays : 1;
	char *text = NULL;
	int rc = 0;

	for (i = 0; rc == 0 && i < k; i++) {
		rc = ew_file_read(ap->nrelays > 0 ? ap->relays[i].managed
						  : ew_cli_managed_path(),
		    16 << 20, 0, &text, &n);
		if (rc == 0)
			ew_buf_add(&all, text, n);
		free(text);
		text = NULL;
	}
	if (rc != 0 || all.oom ||
	    ew_sha256_hex(ew_buf_str(&all), all.len, out) != 0)
		snprintf(out, EW_SHA256_HEXLEN, "-");
	ew_buf_free(&all);
}

/* The digest of the block set a host enforces: the rules of its scope
 * and its emergency blocks (fleet status compares it with the desk's). */
static int
blocks_digest(struct ew_store *st, const struct ew_cli_local *l, char out[65])
{
	struct ew_store_rule *r = NULL;
	size_t n = 0, i;
	int64_t *ids;
	char **uids;
	int rc;

	if ((rc = ew_store_rule_list(st, 0, &r, &n)) != 0)
		return rc;
	ids = calloc(n + 1, sizeof(*ids));
	uids = calloc(l->n + 1, sizeof(*uids));
	for (i = 0; ids != NULL && i < n; i++)
		ids[i] = r[i].id;
	for (i = 0; uids != NULL && i < l->n; i++)
		uids[i] = l->b[i].uid;
	rc = ids == NULL || uids == NULL
		 ? -ENOMEM
		 : ew_store_blocks_digest(ids, n, uids, l->n, out);
	free(ids);
	free(uids);
	ew_store_rules_free(r, n);
	return rc;
}

/* Queue a report (said when it cannot be), and say how many wait. */
static void
queue_report(struct ew_store_apply_rec *rec)
{
	if (ew_cli_outbox_add_apply(rec) != 0)
		ew_cli_err("run --host: apply report not queued in the outbox");
}

/* The host's follower: what the loop keeps between rounds. */
struct follow {
	struct ew_desk *d;
	struct ew_store *st;
	struct ew_cli_apply *ap;
	const char *policy, *host;
	struct ew_cli_repair rp;
	char sig[65]; /* the emergency blocks last composed */
};

static size_t
repairs(const struct follow *f)
{
	return f->rp.tor_drift + f->rp.table_missing + f->rp.tor_back;
}

/* Compose (the store's rules and the host's emergency blocks) and
 * apply, then report: 0 or EW_EXIT_FAIL; *lost when the apply failed
 * for the store's connection (lost, or not back), *wrote when its
 * managed policy stayed in place anyway, *kept when the report waits in
 * the outbox. */
static int
follow_apply(struct follow *f, int64_t rev, int *lost, int *wrote, int *kept)
{
	char digest[EW_SHA256_HEXLEN], blocks[65];
	struct ew_store_apply_rec rec;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	struct ew_cli_local l;
	int64_t now = ew_time_now();
	int rc, ok, lk = ew_cli_fleet_lock();

	if (ew_cli_local_load(&l, now) != 0)
		ew_cli_err("run --host: the emergency blocks do not read");
	ew_cli_local_sig(&l, f->sig);
	ew_desk_set_local(f->d, l.v, l.n);
	f->ap->record = host_record;
	ew_cli_change_init(&ch, f->ap, f->policy, now);
	ew_diag_init(&dg);
	rc = ew_cli_sync(f->d, &ch, &oc, &dg);
	ok = rc == 0;
	*lost = rc == -ECONNRESET || rc == -ECONNREFUSED;
	*wrote = oc.wrote && oc.restored != 1;
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	ew_desk_set_local(f->d, NULL, 0);
	managed_digest(f->ap, digest);
	memset(&rec, 0, sizeof(rec));
	rec.rev = rev;
	rec.at = now;
	rec.ok = ok;
	rec.digest = digest;
	rec.blocks = blocks_digest(f->st, &l, blocks) == 0 ? blocks : NULL;
	rec.repairs = (int64_t)repairs(f);
	queue_report(&rec);
	ew_cli_local_free(&l);
	*kept = ew_cli_outbox_flush(f->st, f->host, NULL) < 0;
	if (*kept)
		ew_cli_err("%s: apply report not stored (kept in the outbox): "
			   "%s",
		    ew_cli_db_label(), ew_store_errmsg(f->st));
	ew_cli_fleet_unlock(lk);
	return rc;
}

/*
 * Apply the managed file(s) as they stand at the current time (expired
 * rules left out), with the host's emergency blocks, to tor and the
 * kernel, without the store, and queue the report (revision rev):
 * 0 or -errno.
 */
static int
cached_apply(struct ew_cli_apply *ap, const char *policy, int64_t rev,
    int64_t reps, char sig[65])
{
	char digest[EW_SHA256_HEXLEN];
	struct ew_store_apply_rec rec;
	struct ew_cli_local l;
	int64_t now = ew_time_now();
	int rc, lk;

	if (ap->no_apply)
		return 0;
	lk = ew_cli_fleet_lock();
	if ((rc = ew_cli_local_load(&l, now)) == 0) {
		if (sig != NULL)
			ew_cli_local_sig(&l, sig);
		rc = ew_cli_fleet_local_apply(ap, policy, &l, 1);
		ew_cli_local_free(&l);
	}
	if (rc == 0) {
		/* reported when the store is back */
		managed_digest(ap, digest);
		memset(&rec, 0, sizeof(rec));
		rec.rev = rev < 0 ? 0 : rev;
		rec.at = now;
		rec.ok = 1;
		rec.digest = digest;
		rec.repairs = reps;
		queue_report(&rec);
		printf("fleet: apply report queued (outbox: %zu)\n",
		    ew_cli_outbox_count());
	}
	ew_cli_fleet_unlock(lk);
	fflush(stdout);
	return rc;
}

int
ew_cli_fleet_cached(
    struct ew_cli_apply *ap, const char *policy, unsigned repair, int64_t *exp)
{
	/* the self-repair while no store was ever reached (a tor
	 * restarted, the table flushed): its own, from the first call */
	static struct ew_cli_repair rp;
	int64_t rev, at;
	int rc;

	if (*exp == 0)
		ew_cli_repair_init(&rp, repair);
	else
		ew_cli_repair_tick(&rp, NULL, ap, policy);
	if (*exp != 0) {
		/* applied already: again when a block's time comes (a
		 * block add on the host may have added an earlier one) */
		int64_t e = ew_cli_fleet_next_expiry(ap);

		if (e < *exp)
			*exp = e;
		if (*exp == EW_NEVER || ew_time_now() < *exp)
			return 0;
		cursor_load(&rev, &at);
		if ((rc = cached_apply(ap, policy, rev, 0, NULL)) == 0)
			printf("fleet: a block expired: revision %lld applied "
			       "again without the store\n",
			    (long long)rev);
		*exp = ew_cli_fleet_next_expiry(ap);
		return rc;
	}
	*exp = EW_NEVER;
	cursor_load(&rev, &at);
	printf("fleet: store unreachable at the start: applying the cached "
	       "revision %lld (synced %llds ago)\n",
	    (long long)rev, (long long)(ew_time_now() - at));
	rc = cached_apply(ap, policy, rev, 0, NULL);
	*exp = ew_cli_fleet_next_expiry(ap);
	return rc;
}

/* An apply the store's connection cut short: what stays in force. */
static void
say_lost(int64_t rev, int64_t cursor, int wrote, int kept, unsigned retry)
{
	const char *report =
	    kept ? "the report kept in the outbox" : "reported";

	if (!wrote)
		printf("fleet: revision %lld not applied: the connection to "
		       "the store was lost during the apply; still enforcing "
		       "revision %lld (%s; tried again within %us)\n",
		    (long long)rev, (long long)cursor, report, retry);
	else
		printf("fleet: revision %lld: the connection to the store "
		       "was lost during the apply, after its managed policy "
		       "was written: in force as the apply left it, applied "
		       "again once the store is back (%s; tried again within "
		       "%us)\n",
		    (long long)rev, report, retry);
}

/* The desk removed or adopted some of the host's emergency blocks after
 * the cursor: out of the local file.  How many were in force here. */
static int
desk_removals(struct follow *f, int64_t cursor)
{
	struct ew_store_host_block *v = NULL;
	char **uids;
	size_t n = 0, i;
	int rc;

	if (ew_store_host_block_list(f->st, cursor < 0 ? 0 : cursor, &v, &n) !=
		0 ||
	    n == 0) {
		ew_store_host_blocks_free(v, n);
		return 0;
	}
	rc = -ENOMEM;
	if ((uids = calloc(n, sizeof(*uids))) != NULL) {
		for (i = 0; i < n; i++)
			uids[i] = v[i].uid;
		rc = ew_cli_local_drop(uids, n, ew_time_now());
	}
	free(uids);
	ew_store_host_blocks_free(v, n);
	if (rc > 0)
		printf("fleet: the desk removed or adopted %d emergency "
		       "block%s of this host\n",
		    rc, rc == 1 ? "" : "s");
	return rc > 0 ? rc : 0;
}

/* Whether the host's emergency blocks differ from those last composed
 * (a block add on the host, an outbox replayed). */
static int
local_changed(const struct follow *f)
{
	struct ew_cli_local l;
	char sig[65];

	if (ew_cli_local_load(&l, ew_time_now()) != 0)
		return 0;
	ew_cli_local_sig(&l, sig);
	ew_cli_local_free(&l);
	return strcmp(sig, f->sig) != 0;
}

/*
 * Wait for a NOTIFY, at most `ms`, in slices of a second: the host's
 * self-repair runs between them (tor restarted, the table flushed), and
 * a change of its emergency blocks ends the wait.
 */
static void
follow_wait(struct follow *f, int fd, int ms)
{
	struct pollfd pfd;
	double end = ew_cli_mono_ms() + ms, left;

	for (;;) {
		left = end - ew_cli_mono_ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, fd >= 0 ? 1 : 0,
			left <= 0     ? 0
			: left > 1000 ? 1000
				      : (int)left) > 0)
			return;
		ew_cli_repair_tick(&f->rp, f->d, f->ap, f->policy);
		fflush(stdout);
		if (left <= 1000 || local_changed(f))
			return;
	}
}

int
ew_cli_fleet_follow(struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *ap, const char *policy, const char *host,
    unsigned interval, unsigned repair, int once, volatile sig_atomic_t *stop)
{
	struct ew_store_rule *r = NULL;
	struct follow f;
	int64_t cursor, synced_at, rev = 0, exp, now;
	size_t n = 0, nb = 0;
	int rc = EW_EXIT_OK, down = 0, fd, queued, due, wait, changed;
	int lk, removed, lost = 0, wrote = 0, kept = 0;
	unsigned failed = 0; /* failed applies in a row: retried sooner */

	memset(&f, 0, sizeof(f));
	f.d = d;
	f.st = st;
	f.ap = ap;
	f.policy = policy;
	f.host = host;
	{
		struct ew_cli_local l;

		/* what the last run composed: a start is no change */
		snprintf(f.sig, sizeof(f.sig), "-");
		if (ew_cli_local_load(&l, ew_time_now()) == 0) {
			ew_cli_local_sig(&l, f.sig);
			ew_cli_local_free(&l);
		}
	}
	ew_cli_repair_init(&f.rp, repair);
	exp = ew_cli_fleet_next_expiry(ap);
	cursor_load(&cursor, &synced_at);
	printf("fleet: host %s, enforcing revision %lld from the last run\n",
	    host, (long long)cursor);
	fflush(stdout);
	while (!*stop) {
		/* a block of the cached state whose time came: applied again
		 * without it, with or without the store */
		due = exp != EW_NEVER && ew_time_now() >= exp;
		changed = local_changed(&f);
		if (ew_store_listen(st) != 0 ||
		    ew_store_rules_since(
			st, cursor < 0 ? 0 : cursor, &r, &n, &rev) != 0) {
			if (!down)
				printf("fleet: store unreachable (%s): still "
				       "enforcing revision %lld, synced %llds "
				       "ago\n",
				    ew_store_errmsg(st), (long long)cursor,
				    (long long)(ew_time_now() - synced_at));
			down = 1;
			rc = EW_EXIT_FAIL;
			if ((due || changed) &&
			    cached_apply(ap, policy, cursor,
				(int64_t)repairs(&f), f.sig) == 0 &&
			    due)
				printf("fleet: a block expired: revision %lld "
				       "applied again without the store\n",
				    (long long)cursor);
			due = due || changed;
		} else {
			if (down)
				printf("fleet: store back after %llds\n",
				    (long long)(ew_time_now() - synced_at));
			down = 0;
			/* under the lock: a block add on the host appends
			 * to the outbox and rewrites the local file too */
			lk = ew_cli_fleet_lock();
			queued = ew_cli_outbox_flush(st, host, &nb);
			removed = desk_removals(&f, cursor);
			ew_cli_fleet_unlock(lk);
			if (queued > 0)
				printf("fleet: outbox: %d reports replayed "
				       "(%zu emergency blocks)\n",
				    queued, nb);
			/* blocks the desk now knows: applied and reported
			 * again, so its drift compares the same set */
			changed |= queued > 0 && nb > 0;
			/* after the rules: a removal committed before the
			 * revision read is seen now, a later one next */
			changed |= removed > 0;
			if (cursor < 0 || n > 0 || due || changed ||
			    failed > 0) {
				due = 1; /* a new managed file: its expiries */
				rc =
				    follow_apply(&f, rev, &lost, &wrote, &kept);
				if (rc == EW_EXIT_OK) {
					printf("fleet: applied revision %lld "
					       "(%zu changes)\n",
					    (long long)rev, n);
					cursor = rev;
					failed = 0;
				} else if (lost) {
					failed += failed < 5;
					say_lost(rev, cursor, wrote, kept,
					    1u << failed);
				} else {
					failed += failed < 5;
					printf("fleet: revision %lld not "
					       "applied (reported; tried "
					       "again within %us)\n",
					    (long long)rev, 1u << failed);
				}
			} else
				cursor = rev;
			synced_at = ew_time_now();
			cursor_save(cursor, synced_at, host);
		}
		ew_store_rules_free(r, n);
		r = NULL;
		n = 0;
		if (due)
			exp = ew_cli_fleet_next_expiry(ap);
		fflush(stdout);
		if (once)
			break;
		/* a wake-up that came during the round: another round now
		 * (what it announces may have committed after the query) */
		if (!down && ew_store_wakeups(st) > 0)
			continue;
		/* woken by a NOTIFY, or after the interval */
		fd = ew_store_wait_fd(st);
		wait = down ? 1000 : (int)(interval * 1000);
		if (!down && failed > 0 && (1u << failed) < interval)
			wait = (int)(1000u << failed);
		/* the connection lost during the round (a failed apply):
		 * the next round says so at once, or connects again */
		if (!down && fd < 0)
			wait = 0;
		now = ew_time_now();
		if (exp != EW_NEVER && exp - now < wait / 1000)
			wait = exp <= now ? 0 : (int)(exp - now) * 1000;
		follow_wait(&f, down ? -1 : fd, wait);
		/* taken: the next round's query reads what they announce */
		if (!down)
			ew_store_wakeups(st);
	}
	return rc;
}

int
ew_cli_fleet_host_mode(struct ew_store **st, char *host, size_t cap)
{
	const char *path = ew_cli_db_path();
	char why[256];
	int rc;

	*st = NULL;
	if (!ew_store_is_server(path))
		return 0;
	if (ew_store_open_err(path, st, why, sizeof(why)) != 0) {
		*st = NULL;
		/* unreachable: a machine that follows the desk as a host
		 * blocks on its own */
		if (ew_cli_fleet_host_name(host, cap) == 0)
			return 1;
		return 0; /* the caller's open says why */
	}
	rc = ew_store_host_self(*st, host, cap);
	if (rc == 0)
		return 1;
	ew_store_close(*st);
	*st = NULL;
	if (rc != -ENOENT) {
		ew_cli_err("%s: %s", ew_cli_db_label(), strerror(-rc));
		return EW_EXIT_FAIL;
	}
	return 0;
}

int
ew_cli_fleet_block(struct ew_cli_apply *ap, const char *policy,
    struct ew_store *st, const char *host, const char *rule, const char *reason,
    int64_t expires, int64_t now, int dry_run)
{
	struct ew_store_host_block h;
	struct ew_cli_local l;
	char uid[33];
	int rc, lk, sent;

	memset(&h, 0, sizeof(h));
	if (ew_cli_fleet_uid(uid) != 0) {
		ew_cli_err("no random bytes for the block's id");
		return EW_EXIT_FAIL;
	}
	h.uid = uid;
	h.host = (char *)host;
	h.rule_text = (char *)rule;
	h.reason = (char *)reason;
	h.expires_at = expires;
	h.added_at = now;
	printf("emergency block on host %s: %s (id %s)\n", host,
	    ew_cli_esc(rule), uid);
	if (dry_run) {
		printf("-n: nothing changed\n");
		return EW_EXIT_OK;
	}
	lk = ew_cli_fleet_lock();
	/* queued first: the outbox is the log a crash replays */
	if ((rc = ew_cli_outbox_add_block(&h)) != 0) {
		ew_cli_fleet_unlock(lk);
		ew_cli_err("the block could not be queued: %s: nothing "
			   "changed",
		    strerror(-rc));
		return EW_EXIT_FAIL;
	}
	fflush(stdout);
	if ((rc = ew_cli_local_load(&l, ew_time_now())) == 0) {
		rc = ew_cli_fleet_local_apply(ap, policy, &l, 0);
		ew_cli_local_free(&l);
	}
	if (rc != 0)
		ew_cli_err("the block is queued but not applied here yet: "
			   "the host's daemon applies it at its next round");
	else
		printf("applied on this host at once\n");
	sent = st != NULL ? ew_cli_outbox_flush(st, host, NULL) : -1;
	ew_cli_fleet_unlock(lk);
	if (sent >= 0)
		printf("sent to the desk (the outbox replayed: %d records)\n",
		    sent);
	else
		printf("queued in the outbox (%zu records): sent when the "
		       "store is reachable\n",
		    ew_cli_outbox_count());
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}
