/*
 * repair.c - the daemon's self-repair (exitwarden run): tor and the
 * kernel kept equal to the store.  Every --repair-interval seconds, for
 * each relay (or the host's only one): tor's exit-policy/full against
 * what the relay's managed policy makes it (a SETCONF from another
 * controller, a tor restarted without the fragment), applied again when
 * they differ; tor unreachable is retried with a growing delay (1 s,
 * doubling, at most the interval) and its return is counted; and the
 * table inet exitwarden, which an "nft flush ruleset" (Debian's
 * nftables.conf) removes, loaded again when it is missing (one netlink
 * request a check).  What was repaired is counted (in memory for run's
 * output, and in the store's repair_counts for status), and said.
 *
 * Nothing here keeps or prints an address: only relay names, counts and
 * times.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "emit/nft.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* Count a repair in the store too, for status (a failure to count is
 * said, never fatal). */
static void
count(struct ew_cli_repair *r, const char *relay, const char *what)
{
	if (r->st != NULL &&
	    ew_store_repair_count(r->st, relay, what, ew_time_now()) != 0)
		ew_cli_err("cannot count a repair in the store: %s",
		    ew_store_errmsg(r->st));
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
ew_cli_repair_init(struct ew_cli_repair *r, unsigned interval_s)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->interval_ms = interval_s * 1000.0;
	for (i = 0; i <= EW_RELAYS_MAX; i++) {
		r->up[i] = -1;
		r->backoff_ms[i] = 1000.0;
	}
}

void
ew_cli_repair_say(const struct ew_cli_repair *r)
{
	printf("repaired: tor drift %zu, table missing %zu (tor came back "
	       "%zu times, unreachable %zu checks)\n",
	    r->tor_drift, r->table_missing, r->tor_back, r->tor_down);
	fflush(stdout);
}

/* The tor step's expectation for a managed file: exit-policy/full's
 * digest.  0 or -1 (the file does not load: the changes say why). */
static int
expected_digest(const char *file, int64_t now, char digest[65])
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_tor_plan plan;
	struct ew_addr *ifs;
	size_t nifs = 0;
	int rc = -1;

	memset(&plan, 0, sizeof(plan));
	ew_diag_init(&d);
	ifs = ew_cli_interface_addrs(&nifs);
	memset(&env, 0, sizeof(env));
	env.now = now;
	env.ifaddrs = ifs;
	env.n_ifaddrs = nifs;
	if (ew_policy_parse_file(file, 0, &d, &p) == 0 &&
	    ew_policy_expand(p, &env, &d, &e) == 0 &&
	    ew_tor_plan_build(p, e, file, now, 0, &plan, &d) == 0 &&
	    ew_tor_list_digest(plan.expected, digest) == 0)
		rc = 0;
	ew_tor_plan_free(&plan);
	ew_expanded_free(e);
	ew_policy_free(p);
	free(ifs);
	ew_diag_free(&d);
	return rc;
}

/*
 * expected_digest, kept while the managed file stays the same file
 * (device, inode, size, mtime): a big policy is not expanded again at
 * every check.  The daemon rewrites the file at every change, expiries
 * included.
 */
static int
expected(struct ew_cli_repair *r, size_t k, const char *managed, int64_t now,
    char digest[65])
{
	struct ew_cli_repair_cache *c = &r->cache[k];
	struct stat sb;

	if (stat(managed, &sb) < 0)
		return -1;
	if (c->valid && c->dev == sb.st_dev && c->ino == sb.st_ino &&
	    c->size == sb.st_size &&
	    c->mtime_ns ==
		(int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec) {
		memcpy(digest, c->digest, 65);
		return 0;
	}
	c->valid = 0;
	if (expected_digest(managed, now, digest) < 0)
		return -1;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	c->size = sb.st_size;
	c->mtime_ns =
	    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	memcpy(c->digest, digest, 65);
	c->valid = 1;
	return 0;
}

/* One relay's tor (k: its slot, name for messages). */
static int
check_tor(struct ew_cli_repair *r, size_t k, const char *name,
    struct ew_cli_apply *ap, const char *managed, int64_t now, double t)
{
	struct ew_tor_target tt = ap->conn.t;
	struct ew_tor_status st;
	struct ew_diag_list d;
	char want[65];
	double t0;
	int rc;

	if (t < r->next_try[k])
		return 0;
	if (k < ap->nrelays) {
		if (ap->relays[k].control != NULL)
			tt.control = ap->relays[k].control;
		if (ap->relays[k].cookie != NULL)
			tt.auth.cookie_file = ap->relays[k].cookie;
	}
	if (expected(r, k, managed, now, want) < 0)
		return 0; /* the next change says what is wrong */
	if (tt.timeout_ms == 0 || tt.timeout_ms > 2000)
		tt.timeout_ms = 2000; /* a hung tor must not stop the daemon */
	if (ew_cli_conn_ready(&ap->conn) != 0)
		return -1;
	tt.auth.password = ap->conn.t.auth.password;
	ew_diag_init(&d);
	rc = ew_tor_status_get(&tt, &st, &d);
	ew_diag_free(&d);
	ew_cli_conn_done(&ap->conn);
	tt.auth.password = NULL;
	if (rc < 0) {
		r->tor_down++;
		if (r->up[k] != 0)
			printf("repair: %s: tor unreachable (%s); retrying, "
			       "every %.0f s at most\n",
			    name, strerror(-rc), r->interval_ms / 1000.0);
		r->up[k] = 0;
		r->next_try[k] = t + r->backoff_ms[k];
		r->backoff_ms[k] *= 2;
		if (r->backoff_ms[k] > r->interval_ms)
			r->backoff_ms[k] = r->interval_ms;
		ew_tor_status_free(&st);
		return 0;
	}
	if (r->up[k] == 0) {
		r->tor_back++;
		count(r, k < ap->nrelays ? name : NULL, EW_STORE_REPAIR_BACK);
		printf("repair: %s: tor is back\n", name);
	}
	r->up[k] = 1;
	r->backoff_ms[k] = 1000.0;
	r->next_try[k] = 0;
	rc = strcmp(st.digest, want) != 0;
	ew_tor_status_free(&st);
	if (!rc)
		return 0;
	printf("repair: %s: tor's exit policy is not the store's (another "
	       "controller, or tor restarted): applying it again\n",
	    name);
	t0 = mono_ms();
	if (ap->ops.tor(ap->ops.arg, managed, now) < 0)
		return -1;
	r->tor_drift++;
	count(r, k < ap->nrelays ? name : NULL, EW_STORE_REPAIR_TOR);
	printf("repair: %s: tor repaired in %.1f ms\n", name, mono_ms() - t0);
	return 1;
}

/* The start's change again (tor was down): written, applied and
 * recorded as one, retried 1 s, 2 s, 4 s... up to the interval apart. */
static int
resync(struct ew_cli_repair *r, struct ew_desk *d, struct ew_cli_apply *ap,
    const char *policy, double t)
{
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int rc;

	r->sync_retries++;
	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	ew_diag_init(&dg);
	rc = ew_cli_sync(d, &ch, &oc, &dg);
	if (rc == 0) {
		ew_cli_report(&dg);
		ew_diag_free(&dg);
		r->unsynced = 0;
		printf("repair: the store's policy applied after %zu "
		       "retr%s\n",
		    r->sync_retries, r->sync_retries == 1 ? "y" : "ies");
		return EW_EXIT_OK;
	}
	ew_diag_free(&dg); /* said at the start; said again when it works */
	if (r->sync_backoff_ms < 1000.0)
		r->sync_backoff_ms = 1000.0;
	r->next_ms = t + r->sync_backoff_ms;
	r->sync_backoff_ms *= 2;
	if (r->sync_backoff_ms > r->interval_ms)
		r->sync_backoff_ms = r->interval_ms;
	return EW_EXIT_FAIL;
}

int
ew_cli_repair_tick(struct ew_cli_repair *r, struct ew_desk *d,
    struct ew_cli_apply *ap, const char *policy)
{
	struct ew_desk_change ch;
	struct ew_buf err = EW_BUF_INIT;
	struct stat sb;
	const char *managed = ew_cli_managed_path(), *name = "tor";
	int64_t now = ew_time_now();
	double t = mono_ms(), t0;
	size_t k, n = ap->nrelays > 0 ? ap->nrelays : 1;
	int rc, repaired = 0, fail = 0;

	if (ap->no_apply || ap->tor_dry || t < r->next_ms)
		return EW_EXIT_OK;
	if (r->unsynced)
		return resync(r, d, ap, policy, t);
	r->next_ms = t + r->interval_ms;
	ew_cli_change_init(&ch, ap, policy, now);
	for (k = 0; k < n; k++) {
		if (ap->nrelays > 0) {
			managed = ap->relays[k].managed;
			name = ap->relays[k].name;
		}
		if (stat(managed, &sb) < 0)
			continue; /* nothing applied yet */
		rc = check_tor(r, k, name, ap, managed, now, t);
		repaired |= rc > 0;
		fail |= rc < 0;
	}
	/* the table: one for all relays */
	if (stat(managed, &sb) == 0 && ew_nft_table_exists(&err) == -ENOENT) {
		printf("repair: table " EW_NFT_FAMILY " " EW_NFT_TABLE
		       " is missing (nft flush ruleset?): loading it again\n");
		t0 = mono_ms();
		if (ap->ops.nft(ap->ops.arg, managed, now) < 0) {
			fail = 1;
		} else {
			r->table_missing++;
			count(r, NULL, EW_STORE_REPAIR_TABLE);
			repaired = 1;
			printf("repair: table repaired in %.1f ms\n",
			    mono_ms() - t0);
		}
	}
	ew_buf_free(&err);
	if (repaired)
		ew_cli_repair_say(r);
	fflush(stdout);
	return fail ? EW_EXIT_FAIL : EW_EXIT_OK;
}
