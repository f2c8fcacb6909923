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
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
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

/* Compose and apply, then report: 0 or EW_EXIT_FAIL. */
static int
follow_apply(struct ew_desk *d, struct ew_store *st, struct ew_cli_apply *ap,
    const char *policy, const char *host, int64_t rev)
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
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	managed_digest(digest);
	if (ew_store_apply_add(st, host, NULL, digest, rev, now, ok,
		ok ? NULL : "the apply failed (see the host's log)") != 0)
		ew_cli_err("%s: apply report not stored: %s", ew_cli_db_label(),
		    ew_store_errmsg(st));
	return rc;
}

int
ew_cli_fleet_cached(struct ew_cli_apply *ap, const char *policy)
{
	struct ew_desk_change ch;
	const char *path = ew_cli_managed_path();
	int64_t rev, at;

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
	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	if (ap->ops.tor == NULL)
		return 0;
	if (ap->ops.tor(ap, path, ch.now) < 0 ||
	    (ap->ops.nft != NULL && ap->ops.nft(ap, path, ch.now) < 0))
		return -EIO;
	fflush(stdout);
	return 0;
}

int
ew_cli_fleet_follow(struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *ap, const char *policy, const char *host,
    unsigned interval, int once, volatile sig_atomic_t *stop)
{
	struct ew_store_rule *r = NULL;
	int64_t cursor, synced_at, rev = 0;
	size_t n = 0;
	int rc = EW_EXIT_OK, down = 0, fd;
	struct pollfd pfd;

	cursor_load(&cursor, &synced_at);
	printf("fleet: host %s, enforcing revision %lld from the last run\n",
	    host, (long long)cursor);
	fflush(stdout);
	while (!*stop) {
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
		} else {
			if (down)
				printf("fleet: store back after %llds\n",
				    (long long)(ew_time_now() - synced_at));
			down = 0;
			if (cursor < 0 || n > 0) {
				rc = follow_apply(d, st, ap, policy, host, rev);
				if (rc == EW_EXIT_OK) {
					printf("fleet: applied revision %lld "
					       "(%zu changes)\n",
					    (long long)rev, n);
					cursor = rev;
				}
			} else
				cursor = rev;
			synced_at = ew_time_now();
			cursor_save(cursor, synced_at);
		}
		ew_store_rules_free(r, n);
		r = NULL;
		n = 0;
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
		poll(&pfd, fd >= 0 ? 1 : 0,
		    down ? 1000 : (int)(interval * 1000));
		/* taken: the next round's query reads what they announce */
		if (!down)
			ew_store_wakeups(st);
	}
	return rc;
}
