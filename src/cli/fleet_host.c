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
 *      with no policy_versions record (a host's role may not write it:
 *      its record is the apply report), then report an applies row and
 *      keep the cursor in a file beside the managed policy;
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
 * The outbox: every apply report (the cached state applied at a start
 * without the store included) is first appended to a file beside the
 * managed policy (mode 0600, fsync'd, one record a line with a random
 * unique id), then the whole file is sent (ew_store_apply_replay: a
 * uid stored already is ignored) and emptied once all of it is stored.
 * So a report made while PostgreSQL is down, or by a run killed between
 * its apply and its report, reaches the desk when the store is back,
 * once: a record sent twice (killed before the file was emptied) is
 * stored once.  Each report carries how many the host still had queued.
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
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* Policy versions are the desk's: a host records nothing there. */
static int
no_record(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	(void)arg;
	(void)d;
	(void)path;
	(void)now;
	(void)dg;
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

static void
cursor_save(int64_t rev, int64_t at)
{
	char path[4096], tmp[4200];
	FILE *f;

	cursor_path(path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%lld %lld\n", (long long)rev, (long long)at);
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* The outbox: "A UID REV AT OK DIGEST\n" records, beside the managed
 * policy. */
static void
outbox_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s.fleet-outbox", ew_cli_managed_path());
}

/* Append one report to the outbox, on disk before it returns: 0 or
 * -errno. */
static int
outbox_add(int64_t rev, int64_t at, int ok, const char *digest)
{
	char path[4096], line[256], uid[33];
	unsigned char r[16];
	size_t i;
	int fd, len, rc = 0;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (i = 0; i < sizeof(r); i++)
		snprintf(uid + 2 * i, 3, "%02x", r[i]);
	len = snprintf(line, sizeof(line), "A %s %lld %lld %d %s\n", uid,
	    (long long)rev, (long long)at, ok ? 1 : 0, digest);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -EINVAL;
	outbox_path(path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) != 0 ||
	    write(fd, line, (size_t)len) != (ssize_t)len || fsync(fd) != 0)
		rc = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* How many records the outbox holds (0 when there is none). */
static size_t
outbox_count(void)
{
	char path[4096];
	size_t n = 0;
	FILE *f;
	int c;

	outbox_path(path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/*
 * Send every record of the outbox to the store, then empty it: the
 * number sent, or -errno (the store's error; the outbox is kept whole,
 * and a later flush sends it all again, stored once).  A record that
 * cannot be read (a torn last line of a crash) is dropped.
 */
static int
outbox_flush(struct ew_store *st, const char *host)
{
	char path[4096], uid[65], digest[129];
	long long rev, at;
	size_t n = outbox_count(), i = 0;
	int ok, rc = 0, fd;
	FILE *f;

	outbox_path(path, sizeof(path));
	if (n == 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	while (rc == 0 && fscanf(f, " A %64s %lld %lld %d %128s", uid, &rev,
			      &at, &ok, digest) == 5) {
		i++;
		rc = ew_store_apply_replay(st, uid, (int64_t)(n - i), host,
		    digest, rev, at, ok,
		    ok ? NULL : "the apply failed (see the host's log)");
	}
	fclose(f);
	if (rc != 0)
		return rc;
	/* all stored: empty it (killed before this, it is sent again) */
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc < 0 ? rc : (int)i;
}

/* The managed file's digest (hex), or "-" when it cannot be read. */
static void
managed_digest(char out[EW_SHA256_HEXLEN])
{
	size_t n = 0;
	char *text = NULL;

	if (ew_file_read(ew_cli_managed_path(), 16 << 20, 0, &text, &n) != 0 ||
	    ew_sha256_hex(text, n, out) != 0)
		snprintf(out, EW_SHA256_HEXLEN, "-");
	free(text);
}

/* Compose and apply, then report: 0 or EW_EXIT_FAIL; *lost when the
 * apply failed for the store's connection (lost, or not back), *wrote
 * when its managed policy stayed in place anyway, *kept when the report
 * waits in the outbox. */
static int
follow_apply(struct ew_desk *d, struct ew_store *st, struct ew_cli_apply *ap,
    const char *policy, const char *host, int64_t rev, int *lost, int *wrote,
    int *kept)
{
	char digest[EW_SHA256_HEXLEN];
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int64_t now = ew_time_now();
	int rc, ok;

	ap->record = no_record;
	ew_cli_change_init(&ch, ap, policy, now);
	ew_diag_init(&dg);
	rc = ew_cli_sync(d, &ch, &oc, &dg);
	ok = rc == 0;
	*lost = rc == -ECONNRESET || rc == -ECONNREFUSED;
	*wrote = oc.wrote && oc.restored != 1;
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	managed_digest(digest);
	if (outbox_add(rev, now, ok, digest) != 0)
		ew_cli_err("run --host: apply report not queued in the outbox");
	*kept = outbox_flush(st, host) < 0;
	if (*kept)
		ew_cli_err("%s: apply report not stored (kept in the outbox): "
			   "%s",
		    ew_cli_db_label(), ew_store_errmsg(st));
	return rc;
}

/*
 * Apply the managed file as it stands at the current time (expired
 * rules left out) to tor and the kernel, without the store, and queue
 * the report (revision rev) in the outbox: 0 or -errno.
 */
static int
cached_apply(struct ew_cli_apply *ap, const char *policy, int64_t rev)
{
	char digest[EW_SHA256_HEXLEN];
	struct ew_desk_change ch;
	const char *path = ew_cli_managed_path();

	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	if (ap->ops.tor == NULL)
		return 0;
	if (ap->ops.tor(ap, path, ch.now) < 0 ||
	    (ap->ops.nft != NULL && ap->ops.nft(ap, path, ch.now) < 0))
		return -EIO;
	/* reported when the store is back */
	managed_digest(digest);
	if (outbox_add(rev < 0 ? 0 : rev, ch.now, 1, digest) != 0)
		ew_cli_err("run --host: apply report not queued in the outbox");
	else
		printf("fleet: apply report queued (outbox: %zu)\n",
		    outbox_count());
	fflush(stdout);
	return 0;
}

/* The earliest expiry in the managed file after now, or EW_NEVER. */
static int64_t
next_expiry(void)
{
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	int64_t t = EW_NEVER;

	ew_diag_init(&dg);
	if (ew_policy_parse_file(ew_cli_managed_path(), 0, &dg, &p) == 0)
		t = ew_policy_next_expiry(p, ew_time_now());
	ew_policy_free(p);
	ew_diag_free(&dg);
	return t;
}

int
ew_cli_fleet_cached(struct ew_cli_apply *ap, const char *policy, int64_t *exp)
{
	const char *path = ew_cli_managed_path();
	int64_t rev, at;
	int rc;

	if (*exp != 0) {
		/* applied already: again when a block's time comes */
		if (*exp == EW_NEVER || ew_time_now() < *exp)
			return 0;
		cursor_load(&rev, &at);
		if ((rc = cached_apply(ap, policy, rev)) == 0)
			printf("fleet: a block expired: revision %lld applied "
			       "again without the store\n",
			    (long long)rev);
		*exp = next_expiry();
		return rc;
	}
	*exp = EW_NEVER;
	if (ap->nrelays > 0) {
		ew_cli_err("run --host: the cached state of several relays is "
			   "applied once the store is back");
		return -ENOTSUP;
	}
	if (access(path, R_OK) != 0) {
		ew_cli_err("run --host: no cached state (%s) to apply", path);
		return -ENOENT;
	}
	cursor_load(&rev, &at);
	printf("fleet: store unreachable at the start: applying the cached "
	       "revision %lld (synced %llds ago)\n",
	    (long long)rev, (long long)(ew_time_now() - at));
	rc = cached_apply(ap, policy, rev);
	*exp = next_expiry();
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

int
ew_cli_fleet_follow(struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *ap, const char *policy, const char *host,
    unsigned interval, int once, volatile sig_atomic_t *stop)
{
	struct ew_store_rule *r = NULL;
	int64_t cursor, synced_at, rev = 0, exp = next_expiry(), now;
	size_t n = 0;
	int rc = EW_EXIT_OK, down = 0, fd, queued, due, wait, lost, wrote, kept;
	unsigned failed = 0; /* failed applies in a row: retried sooner */
	struct pollfd pfd;

	cursor_load(&cursor, &synced_at);
	printf("fleet: host %s, enforcing revision %lld from the last run\n",
	    host, (long long)cursor);
	fflush(stdout);
	while (!*stop) {
		/* a block of the cached state whose time came: applied again
		 * without it, with or without the store */
		due = exp != EW_NEVER && ew_time_now() >= exp;
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
			if (due && ap->nrelays == 0 &&
			    cached_apply(ap, policy, cursor) == 0)
				printf("fleet: a block expired: revision %lld "
				       "applied again without the store\n",
				    (long long)cursor);
		} else {
			if (down)
				printf("fleet: store back after %llds\n",
				    (long long)(ew_time_now() - synced_at));
			down = 0;
			if ((queued = outbox_flush(st, host)) > 0)
				printf("fleet: outbox: %d reports replayed\n",
				    queued);
			if (cursor < 0 || n > 0 || due) {
				due = 1; /* a new managed file: its expiries */
				rc = follow_apply(d, st, ap, policy, host, rev,
				    &lost, &wrote, &kept);
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
			cursor_save(cursor, synced_at);
		}
		ew_store_rules_free(r, n);
		r = NULL;
		n = 0;
		if (due)
			exp = next_expiry();
		fflush(stdout);
		if (once)
			break;
		/* a wake-up that came during the round: another round now
		 * (what it announces may have committed after the query) */
		if (!down && ew_store_wakeups(st) > 0)
			continue;
		/* woken by a NOTIFY, or after the interval */
		fd = ew_store_wait_fd(st);
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		wait = down ? 1000 : (int)(interval * 1000);
		if (!down && failed > 0 && (1u << failed) < interval)
			wait = (int)(1000u << failed);
		now = ew_time_now();
		if (exp != EW_NEVER && exp - now < wait / 1000)
			wait = exp <= now ? 0 : (int)(exp - now) * 1000;
		poll(&pfd, fd >= 0 ? 1 : 0, wait);
		/* taken: the next round's query reads what they announce */
		if (!down)
			ew_store_wakeups(st);
	}
	return rc;
}
