/*
 * cmd_guard.c - exitwarden guard status, and the surge guard's part of
 * exitwarden run: between its inbox scans the daemon reads the kernel's
 * surge sets every EW_GUARD_POLL_MS, stores a block for each new surge
 * (desk/guard.c decides), applies the managed policy to tor (verified)
 * and adds the block to the kernel in place (an element of the guard's
 * block set: no reload, so the guards' buckets and counters go on; a
 * whole load only when that fails), in the same store transaction, and
 * expires surge blocks when their time comes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* How often run reads the surge sets (the time from a surge to tor's
 * refusal is this plus one apply). */
#define EW_GUARD_POLL_MS 250

struct ew_cli_guard {
	struct ew_desk_guards *g;
	int warned; /* a netlink error was said once */
};

struct ew_cli_guard *
ew_cli_guard_new(void)
{
	struct ew_cli_guard *cg = calloc(1, sizeof(*cg));

	if (cg != NULL && (cg->g = ew_desk_guards_new()) == NULL) {
		free(cg);
		cg = NULL;
	}
	return cg;
}

void
ew_cli_guard_free(struct ew_cli_guard *cg)
{
	if (cg == NULL)
		return;
	ew_desk_guards_free(cg->g);
	free(cg);
}

/* The operator's policy, quietly (run reports its errors elsewhere). */
static struct ew_policy *
load_policy(const char *path)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;

	ew_diag_init(&d);
	if (ew_policy_parse_file(path, 0, &d, &p) != 0)
		p = NULL;
	ew_diag_free(&d);
	return p;
}

/* The earliest expiry of a surge block in force, or EW_STORE_NO_TIME. */
static int64_t
next_surge_expiry(struct ew_store *st)
{
	struct ew_store_rule *r = NULL;
	char **g = NULL;
	size_t n = 0, i;
	int64_t t = EW_STORE_NO_TIME;

	if (ew_store_surge_list(st, &r, &g, &n) != 0)
		return t;
	for (i = 0; i < n; i++)
		if (r[i].expires_at != EW_STORE_NO_TIME &&
		    (t == EW_STORE_NO_TIME || r[i].expires_at < t))
			t = r[i].expires_at;
	ew_store_surges_free(r, g, n);
	return t;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * After tor took the managed policy: the new blocks into the kernel in
 * place; when that fails (a table without block sets), the whole table
 * from the managed policy (a->nft.file), and *reloaded is set.
 */
static int
block_in_place(struct ew_cli_guard *cg, const struct ew_policy *p,
    struct ew_cli_apply *a, int64_t now, int *reloaded)
{
	struct ew_buf err = EW_BUF_INIT;
	double t0 = mono_ms();
	size_t n = 0;
	int rc;

	rc = ew_desk_guard_block_kernel(cg->g, p, now, &n, &err);
	if (rc == 0) {
		printf("guard: nft: %zu surge block%s added in place in %.1f "
		       "ms (table not reloaded)\n",
		    n, n == 1 ? "" : "s", mono_ms() - t0);
		ew_buf_free(&err);
		return EW_EXIT_OK;
	}
	if (err.len > 0)
		fputs(ew_buf_str(&err), stderr);
	ew_cli_err("guard: surge block in place failed (%s); loading the "
		   "whole table",
	    strerror(-rc));
	ew_buf_free(&err);
	*reloaded = 1;
	return ew_cli_nft_apply_run(&a->nft);
}

/* One poll: judge the surges; apply when blocks were added. */
static int
guard_tick(struct ew_cli_guard *cg, const struct ew_policy *p,
    struct ew_desk *d, struct ew_store *st, struct ew_cli_apply *a,
    const char *policy)
{
	struct ew_desk_guard_result r;
	struct ew_buf err = EW_BUF_INIT;
	int64_t now = ew_time_now(), exp;
	int rc, xrc = EW_EXIT_OK, wrote = 0, reloaded = 0;

	if ((rc = ew_store_begin(st)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		return EW_EXIT_FAIL;
	}
	rc = ew_desk_guard_poll(d, cg->g, p, now, &r, &err);
	if (rc != 0) {
		ew_store_end(st, rc);
		if (!cg->warned)
			ew_cli_err("guard: cannot read the surge sets: %s%s",
			    strerror(-rc), err.len ? "" : "");
		cg->warned = 1;
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	ew_buf_free(&err);
	if (r.capped > 0 || r.allowed > 0)
		printf("guard: %zu surge%s not blocked (%zu over a cap, %zu "
		       "allowed)\n",
		    r.capped + r.allowed, r.capped + r.allowed == 1 ? "" : "s",
		    r.capped, r.allowed);
	if (r.added > 0) {
		printf("guard: %zu new surge block%s\n", r.added,
		    r.added == 1 ? "" : "s");
		fflush(stdout);
		a->tor_only = 1;
		xrc = ew_cli_managed_sync(d, a, policy, now, &wrote);
		a->tor_only = 0;
		if (xrc == EW_EXIT_OK && !a->no_apply)
			xrc = block_in_place(cg, p, a, now, &reloaded);
	}
	rc = ew_store_end(st, xrc == EW_EXIT_OK ? 0 : -EIO);
	if (xrc != EW_EXIT_OK && wrote) {
		/* the store rolled back: write and apply what it says */
		ew_cli_err("guard: applying the surge blocks failed; "
			   "restoring the managed policy");
		ew_cli_managed_sync(d, a, policy, now, &wrote);
		reloaded = 1;
	}
	if (reloaded)
		ew_desk_guards_reset(cg->g); /* the surge sets are empty */
	/* a surge block whose time has come */
	exp = next_surge_expiry(st);
	if (exp != EW_STORE_NO_TIME && exp <= now) {
		if (ew_cli_expire(d, st, a, policy, 0, now, 1) != EW_EXIT_OK)
			xrc = EW_EXIT_FAIL;
		ew_desk_guards_reset(cg->g);
	}
	fflush(stdout);
	return rc == 0 ? xrc : EW_EXIT_FAIL;
}

int
ew_cli_guard_wait(struct ew_cli_guard *cg, struct ew_desk *d,
    struct ew_store *st, struct ew_cli_apply *a, const char *policy,
    unsigned seconds, const volatile sig_atomic_t *stop)
{
	struct ew_policy *p = cg != NULL ? load_policy(policy) : NULL;
	struct timespec ts = { 0, EW_GUARD_POLL_MS * 1000000L };
	unsigned long ms = (unsigned long)seconds * 1000, t;
	int rc = EW_EXIT_OK;

	if (p == NULL || ew_policy_guard_count(p) == 0 || a->no_apply ||
	    a->nft.dry_run) {
		ew_policy_free(p);
		while (seconds > 0 && !*stop)
			seconds = sleep(seconds);
		return EW_EXIT_OK;
	}
	for (t = 0; t < ms && !*stop; t += EW_GUARD_POLL_MS) {
		if (guard_tick(cg, p, d, st, a, policy) != EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
		nanosleep(&ts, NULL);
	}
	ew_policy_free(p);
	return rc;
}

/* ---- guard status ---- */

static void
status_text(const struct ew_policy *p, const struct ew_store_rule *r, char **rg,
    size_t nr, const struct ew_store_guard_count *c, size_t nc,
    const struct ew_nft_counter *k, size_t nk, int kernel, struct ew_buf *b)
{
	struct ew_guard_info gi;
	char t[EW_TIME_STRLEN];
	size_t i, j;

	ew_buf_printf(b, "guards: %zu, at most %u surge blocks at once\n",
	    ew_policy_guard_count(p), ew_policy_guard_cap(p));
	for (i = 0; i < ew_policy_guard_count(p); i++) {
		int64_t s = 0, cp = 0, al = 0;
		size_t inf = 0;

		ew_policy_guard_info(p, i, &gi);
		for (j = 0; j < nc; j++)
			if (strcmp(c[j].guard, gi.name) == 0) {
				s = c[j].surges;
				cp = c[j].capped;
				al = c[j].allowed;
			}
		for (j = 0; j < nr; j++)
			inf += rg[j] != NULL && strcmp(rg[j], gi.name) == 0;
		ew_buf_printf(b,
		    "  %s: over %s per destination/%u, block %llds, %zu of %u "
		    "blocks in force; %lld surges blocked, %lld capped, %lld "
		    "allowed",
		    gi.name, gi.rate, gi.len4, (long long)gi.block, inf, gi.cap,
		    (long long)s, (long long)cp, (long long)al);
		for (j = 0; kernel && j < nk; j++) {
			size_t l = strlen(gi.name);

			if (strncmp(k[j].name, "g_", 2) == 0 &&
			    strncmp(k[j].name + 2, gi.name, l) == 0 &&
			    k[j].name[2 + l] == '_')
				ew_buf_printf(b, "; kernel %s %llu",
				    k[j].name + 3 + l,
				    (unsigned long long)k[j].packets);
		}
		ew_buf_putc(b, '\n');
	}
	ew_buf_printf(b, "surge blocks in force: %zu\n", nr);
	for (i = 0; i < nr; i++)
		ew_buf_printf(b, "  %s  (%s) until %s\n", r[i].rule_text,
		    r[i].reason ? r[i].reason : "",
		    ew_time_format(r[i].expires_at, t, sizeof(t)));
	if (!kernel)
		ew_buf_puts(b, "kernel counters: not available (no table "
			       "inet exitwarden, or not root)\n");
}

static void
status_json(const struct ew_policy *p, const struct ew_store_rule *r, char **rg,
    size_t nr, const struct ew_store_guard_count *c, size_t nc,
    const struct ew_nft_counter *k, size_t nk, int kernel, struct ew_buf *b)
{
	struct ew_guard_info gi;
	char t[EW_TIME_STRLEN];
	size_t i, j;

	ew_buf_printf(b, "{\"cap\": %u, \"guards\": [", ew_policy_guard_cap(p));
	for (i = 0; i < ew_policy_guard_count(p); i++) {
		int64_t s = 0, cp = 0, al = 0;

		ew_policy_guard_info(p, i, &gi);
		for (j = 0; j < nc; j++)
			if (strcmp(c[j].guard, gi.name) == 0) {
				s = c[j].surges;
				cp = c[j].capped;
				al = c[j].allowed;
			}
		ew_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
		ew_json_str(b, gi.name);
		ew_buf_puts(b, ", \"rate\": ");
		ew_json_str(b, gi.rate);
		ew_buf_printf(b,
		    ", \"prefix4\": %u, \"prefix6\": %u, \"block\": %lld, "
		    "\"cap\": %u, \"surges\": %lld, \"capped\": %lld, "
		    "\"allowed\": %lld, \"kernel\": ",
		    gi.len4, gi.len6, (long long)gi.block, gi.cap, (long long)s,
		    (long long)cp, (long long)al);
		if (!kernel) {
			ew_buf_puts(b, "null}");
			continue;
		}
		ew_buf_putc(b, '{');
		for (j = 0, s = 0; j < nk; j++) {
			size_t l = strlen(gi.name);

			if (strncmp(k[j].name, "g_", 2) != 0 ||
			    strncmp(k[j].name + 2, gi.name, l) != 0 ||
			    k[j].name[2 + l] != '_')
				continue;
			ew_buf_puts(b, s++ ? ", " : "");
			ew_json_str(b, k[j].name + 3 + l);
			ew_buf_printf(
			    b, ": %llu", (unsigned long long)k[j].packets);
		}
		ew_buf_puts(b, "}}");
	}
	ew_buf_puts(b, "], \"blocks\": [");
	for (i = 0; i < nr; i++) {
		ew_buf_puts(b, i ? ", {\"rule\": " : "{\"rule\": ");
		ew_json_str(b, r[i].rule_text);
		ew_buf_puts(b, ", \"guard\": ");
		ew_json_str(b, rg[i] ? rg[i] : "");
		ew_buf_puts(b, ", \"reason\": ");
		ew_json_str(b, r[i].reason ? r[i].reason : "");
		ew_buf_puts(b, ", \"expires\": ");
		ew_json_str(b, ew_time_format(r[i].expires_at, t, sizeof(t)));
		ew_buf_putc(b, '}');
	}
	ew_buf_puts(b, "]}\n");
}

int
ew_cmd_guard_status(int argc, char **argv)
{
	struct ew_store *st = NULL;
	struct ew_policy *p = NULL;
	struct ew_diag_list d;
	struct ew_store_rule *r = NULL;
	char **rg = NULL;
	struct ew_store_guard_count *c = NULL;
	struct ew_nft_counter *k = NULL;
	struct ew_buf out = EW_BUF_INIT, err = EW_BUF_INIT;
	const char *policy = NULL;
	size_t nr = 0, nc = 0, nk = 0;
	int i, json = 0, rc = EW_EXIT_FAIL, kernel;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else {
			ew_cli_err("unknown argument '%s'", argv[i]);
			return ew_cli_usage("guard", "status");
		}
	}
	policy = ew_cli_policy_path(policy);
	ew_diag_init(&d);
	if (ew_policy_parse_file(policy, 0, &d, &p) != 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ew_diag_free(&d);
	if (ew_cli_store_open(&st) != 0)
		goto out;
	if (ew_store_surge_list(st, &r, &rg, &nr) != 0 ||
	    ew_store_guard_counts(st, &c, &nc) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		goto out;
	}
	kernel = ew_nft_counters(&k, &nk, &err) == 0;
	if (json)
		status_json(p, r, rg, nr, c, nc, k, nk, kernel, &out);
	else
		status_text(p, r, rg, nr, c, nc, k, nk, kernel, &out);
	rc = ew_cli_put(&out);
out:
	ew_nft_counters_free(k, nk);
	ew_store_guard_counts_free(c, nc);
	ew_store_surges_free(r, rg, nr);
	ew_store_close(st);
	ew_policy_free(p);
	ew_buf_free(&out);
	ew_buf_free(&err);
	return rc;
}
