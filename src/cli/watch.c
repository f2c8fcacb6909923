/*
 * watch.c - the daemon (exitwarden run) follows the store: a change
 * another program made (exitwarden serve's self-service blocks, a block
 * confirmed, an operator's block add from a host that does not apply)
 * is applied within about a second, without waiting for the next round.
 *
 * Every EW_WATCH_POLL_MS the store's revision is read (one SELECT).
 * When it moved, the managed policy the store makes now is compared
 * with the file on disk (ew_desk_expire's drift check: the operator's
 * policy parsed, the store's blocks composed); when they differ, the
 * change engine writes it, applies it to tor and the kernel and
 * records it, as one change; when not (a pending block, which waits
 * for the operator; a change the daemon made itself; a ticket), only
 * the cursor moves.  A block due in the meantime is expired in the same
 * change.  On PostgreSQL the daemon also LISTENs, and a NOTIFY wakes it
 * at once (ew_cli_watch_sleep waits on its socket); on SQLite the poll
 * alone does it.
 *
 * A failed apply is retried, 1 s, 2 s, 4 s... apart (up to 30 s).
 * Counts stay in memory and are said at the end; nothing here keeps or
 * prints an address (revisions and counts only).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "store/store.h"

/* Woken by NOTIFYs, the store is read at most this often. */
#define EW_WATCH_MIN_MS 50.0
/* The longest wait between two tries of a failed apply. */
#define EW_WATCH_BACKOFF_MAX_MS 30000.0

double
ew_cli_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void
ew_cli_watch_init(struct ew_cli_watch *w, struct ew_store *st, int follow)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	w->fd = -1;
	w->backoff_ms = 1000.0;
	if (!follow)
		return; /* -n, --no-apply: nothing to apply, nothing to watch */
	w->follow = 1;
	if (ew_store_rev(st, &w->cursor) == 0)
		w->have = 1;
	if (ew_store_listen(st) == 0)
		w->fd = ew_store_wait_fd(st);
}

void
ew_cli_watch_sleep(struct ew_cli_watch *w, unsigned ms)
{
	struct pollfd pfd;
	double left;

	if (w->fd < 0) {
		sleep_ms(ms);
		return;
	}
	if (ew_store_wakeups(w->st) > 0)
		w->woken = 1;
	if (w->woken) { /* a look is due: wait out the spacing only (or
			   the retry of a failed apply) */
		left = w->last_ms + EW_WATCH_MIN_MS;
		if (w->next_ms > left)
			left = w->next_ms;
		left -= ew_cli_mono_ms();
		if (left > 0)
			sleep_ms(left < ms ? (unsigned)left + 1 : ms);
		return;
	}
	pfd.fd = w->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, (int)ms) > 0 && ew_store_wakeups(w->st) > 0)
		w->woken = 1;
}

/* The drift check and, when the store moved on, the change. */
static int
apply(struct ew_cli_watch *w, struct ew_desk *d, struct ew_cli_apply *ap,
    const char *policy, int64_t rev)
{
	struct ew_desk_change ch, chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	size_t nr;
	double t0 = ew_cli_mono_ms();
	int rc, drift = 0;

	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	ew_diag_init(&dg);
	memset(&oc, 0, sizeof(oc));
	if (ap->nrelays > 0) {
		nr = ew_cli_relay_changes(ap, ch.policy, ch.now, chs, names);
		rc = ew_desk_expire_relays(d, chs, names, nr, &drift, &oc, &dg);
	} else {
		rc = ew_desk_expire(d, &ch, &drift, &oc, &dg);
	}
	w->checks++;
	if (rc == 0 && !oc.changed) {
		ew_diag_free(&dg); /* nothing the daemon must apply */
		w->cursor = rev;
		return EW_EXIT_OK;
	}
	if (rc == 0) {
		w->applied++;
		w->cursor = rev;
		w->backoff_ms = 1000.0;
		w->next_ms = 0;
		printf("watch: the store changed (revision %lld%s): applied "
		       "in %.1f ms\n",
		    (long long)rev, w->woken ? ", woken" : "",
		    ew_cli_mono_ms() - t0);
		ew_cli_report(&dg);
		ew_diag_free(&dg);
		fflush(stdout);
		return EW_EXIT_OK;
	}
	w->failed++;
	w->next_ms = ew_cli_mono_ms() + w->backoff_ms;
	printf("watch: the store changed (revision %lld): applying it "
	       "failed; trying again in %.0f s\n",
	    (long long)rev, w->backoff_ms / 1000.0);
	w->backoff_ms *= 2;
	if (w->backoff_ms > EW_WATCH_BACKOFF_MAX_MS)
		w->backoff_ms = EW_WATCH_BACKOFF_MAX_MS;
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	fflush(stdout);
	return rc;
}

int
ew_cli_watch_tick(struct ew_cli_watch *w, struct ew_desk *d,
    struct ew_cli_apply *ap, const char *policy)
{
	double t = ew_cli_mono_ms();
	int64_t rev;
	int rc;

	if (!w->follow || ap->no_apply || ap->tor_dry || ap->nft.dry_run)
		return EW_EXIT_OK;
	if (!w->woken && t < w->next_poll_ms)
		return EW_EXIT_OK;
	if (w->woken && t < w->last_ms + EW_WATCH_MIN_MS)
		return EW_EXIT_OK; /* a burst of wake-ups: one look per 50 ms */
	if (t < w->next_ms)
		return EW_EXIT_OK; /* a failed apply waits its turn */
	w->next_poll_ms = t + EW_WATCH_POLL_MS;
	w->last_ms = t;
	if (ew_store_rev(w->st, &rev) != 0) {
		w->woken = 0;
		return EW_EXIT_OK; /* the store's trouble: said elsewhere */
	}
	if (w->have && rev == w->cursor) {
		w->woken = 0;
		return EW_EXIT_OK;
	}
	w->have = 1;
	rc = apply(w, d, ap, policy, rev);
	w->woken = 0;
	return rc;
}

void
ew_cli_watch_say(const struct ew_cli_watch *w)
{
	printf("followed the store: %zu change%s applied, %zu check%s, %zu "
	       "failed\n",
	    w->applied, w->applied == 1 ? "" : "s", w->checks,
	    w->checks == 1 ? "" : "s", w->failed);
	fflush(stdout);
}
