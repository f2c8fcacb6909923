/*
 * change.c - every change to what the exit enforces, as one
 * transaction: the store written, the managed policy composed from it
 * and written, applied to tor and then nftables, the applied version
 * recorded, then the store committed.  A failure at any step rolls the
 * store back, puts the managed policy back as the store has it (the
 * file it replaced, kept as a hard link, renamed back: no free space
 * needed) and applies it again where a step had taken the new one, so
 * the store, the file, tor and the table agree afterwards.
 *
 * A change killed before its commit leaves the file ahead of the store;
 * ew_desk_drift finds that and ew_desk_expire (run by the daemon every
 * round, and by exitwarden expire) writes and applies the store's.
 *
 * The steps outside the store (write, tor, nft, record) are the
 * caller's struct ew_desk_apply_ops, so tests can make each one fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "policy/policy.h"
#include "store/store.h"

/* The managed policy read back at most this big. */
#define EW_MANAGED_MAX (64u << 20)

/* One change in progress: the file it replaced, and who took the new
 * one.  kept: 1 a hard link at prev, 2 there was no file, 0 none. */
struct txn {
	char prev[PATH_MAX];
	int kept;
	int wrote, tor_took, nft_took;
};

#define err(dg, ...) ew_diag_add(dg, EW_SEV_ERROR, NULL, __VA_ARGS__)

/* The whole file at path (NUL-terminated), or NULL with *e set. */
static char *
slurp(const char *path, size_t *n, int *e)
{
	char *buf;
	int rc = ew_file_read(path, EW_MANAGED_MAX, 0, &buf, n);

	if (rc < 0) {
		*e = -rc;
		return NULL;
	}
	return buf;
}

/* Whether the file at path holds exactly text. */
static int
file_is(const char *path, const char *text, size_t len)
{
	size_t n;
	int e, same;
	char *have = slurp(path, &n, &e);

	same = have != NULL && n == len && memcmp(have, text, len) == 0;
	free(have);
	return same;
}

int
ew_desk_write_file(void *arg, const char *path, const char *text, size_t len,
    struct ew_diag_list *dg)
{
	(void)arg;
	return ew_tor_write_file(path, text, len, dg);
}

int
ew_desk_record_file(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	struct ew_policy *p = NULL;
	int rc;

	(void)arg;
	rc = ew_policy_parse_file(path, 0, dg, &p);
	if (rc == 0)
		rc = ew_desk_record(d, p, now, dg);
	ew_policy_free(p);
	return rc < 0 ? rc : rc > 0 ? -EINVAL : 0;
}

static int
op_write(const struct ew_desk_change *ch, const char *path,
    const struct ew_buf *t, struct ew_diag_list *dg)
{
	if (ch->ops != NULL && ch->ops->write != NULL)
		return ch->ops->write(
		    ch->ops->arg, path, ew_buf_str(t), t->len, dg);
	return ew_desk_write_file(NULL, path, ew_buf_str(t), t->len, dg);
}

static int
op_record(struct ew_desk *d, const struct ew_desk_change *ch, const char *path,
    struct ew_diag_list *dg)
{
	if (ch->ops != NULL && ch->ops->record != NULL)
		return ch->ops->record(ch->ops->arg, d, path, ch->now, dg);
	return ew_desk_record_file(NULL, d, path, ch->now, dg);
}

int
ew_desk_compose(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *extra, size_t n_extra, struct ew_buf *text,
    struct ew_buf *list, struct ew_diag_list *dg)
{
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	char abs[PATH_MAX];
	size_t nerr = dg->nerr;
	int rc;

	if (realpath(ch->policy, abs) == NULL) {
		err(dg,
		    "%s: %s (the operator's policy: --policy FILE or "
		    "EW_POLICY)",
		    ch->policy, strerror(errno));
		return -ENOENT;
	}
	if (abs[0] != '/' || strpbrk(abs, "\"\\\n\r") != NULL) {
		err(dg, "%s: cannot be included from the managed policy%s", abs,
		    " (a quote or backslash in its path?)");
		return -EINVAL;
	}
	/* the store's blocks (its error: a connection lost mid-change is
	 * no fault of the operator's policy) */
	if ((rc = ew_desk_managed(d, abs, extra, n_extra, text)) != 0) {
		err(dg, "%s: %s", ch->store,
		    rc == -ENOMEM || *ew_store_errmsg(d->st) == '\0'
			? strerror(-rc)
			: ew_store_errmsg(d->st));
		return rc;
	}
	rc = ew_policy_parse_string(
	    ch->managed, ew_buf_str(text), text->len, 0, dg, &p);
	if (rc == 0 && list != NULL) {
		memset(&env, 0, sizeof(env));
		env.now = ch->now;
		env.ifaddrs = d->ifaddrs;
		env.n_ifaddrs = d->n_ifaddrs;
		rc = ew_policy_expand(p, &env, dg, &e);
		if (rc == 0)
			ew_expanded_format(e, list);
		ew_expanded_free(e);
	}
	ew_policy_free(p);
	if (rc != 0 || dg->nerr > nerr) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "the managed policy would not load: nothing changed");
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return text->oom || (list != NULL && list->oom) ? -ENOMEM : 0;
}

/* ---- the file it replaces, kept for the rollback ---- */

static void
keep_previous(struct txn *t, const char *path)
{
	t->kept = 0;
	if (snprintf(t->prev, sizeof(t->prev), "%s.prev", path) >=
	    (int)sizeof(t->prev))
		return;
	if (unlink(t->prev) < 0 && errno != ENOENT)
		return;
	if (link(path, t->prev) == 0)
		t->kept = 1;
	else if (errno == ENOENT)
		t->kept = 2;
}

static void
forget_previous(struct txn *t)
{
	if (t->kept == 1)
		unlink(t->prev);
	t->kept = 0;
}

/*
 * Put `want` (the store's managed policy) at path without needing free
 * space: the kept file renamed back, if it is what the store says;
 * else written atomically; else, on a full disk, written over the
 * bigger file in place (blocks it holds already).  0 or -errno.
 */
static int
put_back(struct txn *t, const struct ew_desk_change *ch,
    const struct ew_buf *want, struct ew_diag_list *dg)
{
	const char *path = ch->managed;
	int fd, rc;

	if (t->kept == 1 && file_is(t->prev, ew_buf_str(want), want->len) &&
	    rename(t->prev, path) == 0) {
		t->kept = 0;
		return 0;
	}
	rc = op_write(ch, path, want, dg);
	if (rc == 0 || file_is(path, ew_buf_str(want), want->len))
		return 0;
	if (rc != -ENOSPC && rc != -EDQUOT)
		return rc;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	rc = 0;
	if (write(fd, ew_buf_str(want), want->len) != (ssize_t)want->len ||
	    ftruncate(fd, (off_t)want->len) < 0 || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* ---- the steps ---- */

/*
 * Compose from the store, write, apply (tor, then nftables), record.
 * t says how far it went, for the rollback.  0 or -errno.
 */
static int
write_apply(struct ew_desk *d, const struct ew_desk_change *ch, struct txn *t,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = ch->ops;
	struct ew_buf text = EW_BUF_INIT;
	int rc, trc, nrc;

	if ((rc = ew_desk_compose(d, ch, NULL, 0, &text, NULL, dg)) != 0) {
		out->failed = EW_DESK_STEP_COMPOSE;
		ew_buf_free(&text);
		return rc;
	}
	keep_previous(t, ch->managed);
	rc = op_write(ch, ch->managed, &text, dg);
	/* a failure after the rename leaves the new file in place */
	t->wrote = rc == 0 || file_is(ch->managed, ew_buf_str(&text), text.len);
	out->wrote = t->wrote;
	ew_buf_free(&text);
	if (rc != 0) {
		out->failed = EW_DESK_STEP_WRITE;
		return rc < 0 ? rc : -EIO;
	}
	if (ops == NULL || ops->tor == NULL) {
		out->not_applied = 1;
		return 0;
	}
	if ((trc = ops->tor(ops->arg, ch->managed, ch->now)) < 0) {
		out->failed = EW_DESK_STEP_TOR;
		return trc;
	}
	t->tor_took = trc == 0;
	nrc = ops->nft != NULL ? ops->nft(ops->arg, ch->managed, ch->now)
			       : EW_DESK_CHECKED;
	if (nrc < 0) {
		out->failed = EW_DESK_STEP_NFT;
		return nrc;
	}
	t->nft_took = nrc == 0;
	if (!t->tor_took)
		return 0; /* a dry run: nothing to record */
	if ((rc = op_record(d, ch, ch->managed, dg)) != 0) {
		out->failed = EW_DESK_STEP_RECORD;
		return rc < 0 ? rc : -EIO;
	}
	out->applied = 1;
	return 0;
}

/*
 * After a failed change (the store rolled back): the file as the store
 * has it, and applied again where tor or nftables took the new one.
 */
static void
restore(struct ew_desk *d, const struct ew_desk_change *ch, struct txn *t,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = ch->ops;
	struct ew_buf text = EW_BUF_INIT;
	int again = t->tor_took || t->nft_took, ok = 1;

	if (ew_desk_compose(d, ch, NULL, 0, &text, NULL, dg) != 0 ||
	    put_back(t, ch, &text, dg) != 0) {
		out->restored = -1;
		err(dg, "%s: could not be restored%s", ch->managed,
		    "; the store is unchanged");
		ew_buf_free(&text);
		return;
	}
	ew_buf_free(&text);
	out->restored = 1;
	if (t->tor_took && ops->tor(ops->arg, ch->managed, ch->now) < 0)
		ok = 0;
	if (t->nft_took && ops->nft(ops->arg, ch->managed, ch->now) < 0)
		ok = 0;
	if (ok)
		ew_diag_add(dg, EW_SEV_NOTE, NULL,
		    "%s: restored%s; the store is unchanged", ch->managed,
		    again ? " and applied again" : "");
	else
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "%s: restored, but applying it again failed: run "
		    "exitwarden apply %s",
		    ch->managed, ch->managed);
}

/* A change: desk_int.h says what fn does. */
static int
run_change(struct ew_desk *d, const struct ew_desk_change *ch,
    ew_desk_mutate_fn fn, void *arg, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct ew_store *st = d->st;
	struct txn t;
	int rc, mrc, erc;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	if ((rc = ew_store_begin(st)) != 0) {
		out->failed = EW_DESK_STEP_STORE;
		err(dg, "%s: %s", ch->store, ew_store_errmsg(st));
		return rc;
	}
	mrc = fn != NULL ? fn(d, arg, dg) : 0;
	if (mrc == -EALREADY) { /* nothing to do: nothing written */
		ew_store_end(st, mrc);
		return mrc;
	}
	if (mrc < 0) {
		out->failed = EW_DESK_STEP_STORE;
		if (*ew_store_errmsg(st) != '\0')
			err(dg, "%s: %s", ch->store, ew_store_errmsg(st));
		ew_store_end(st, mrc);
		return mrc;
	}
	rc = mrc == 0 ? write_apply(d, ch, &t, out, dg) : 0;
	erc = ew_store_end(st, rc == 0 ? 0 : -EIO);
	if (rc == 0 && erc != 0) {
		out->failed = EW_DESK_STEP_STORE;
		err(dg, "%s: %s", ch->store, ew_store_errmsg(st));
		rc = erc;
	}
	if (rc == 0)
		out->changed = 1;
	else if (t.wrote)
		restore(d, ch, &t, out, dg);
	forget_previous(&t);
	return rc;
}

int
ew_desk_run(struct ew_desk *d, const struct ew_desk_change *ch,
    ew_desk_mutate_fn fn, void *arg, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	return run_change(d, ch, fn, arg, out, dg);
}

int
ew_desk_sync(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	return run_change(d, ch, NULL, NULL, out, dg);
}

/* ---- several relays: one change for all ---- */

/* The relays' files put back as the store has them, and applied again
 * where tor or the table took the new ones. */
static void
restore_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, struct txn *t, size_t n,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = chs[0].ops;
	struct ew_buf text = EW_BUF_INIT;
	size_t i;
	int ok = 1, nft = 0;

	out->restored = 1;
	for (i = 0; i < n; i++) {
		if (!t[i].wrote)
			continue;
		ew_buf_reset(&text);
		if (ew_desk_set_relay(d, relays[i]) != 0 ||
		    ew_desk_compose(d, &chs[i], NULL, 0, &text, NULL, dg) !=
			0 ||
		    put_back(&t[i], &chs[i], &text, dg) != 0) {
			out->restored = -1;
			err(dg,
			    "%s: could not be restored; the store is "
			    "unchanged",
			    chs[i].managed);
			continue;
		}
		if (t[i].tor_took &&
		    ops->tor(ops->arg, chs[i].managed, chs[i].now) < 0)
			ok = 0;
		nft |= t[i].nft_took;
	}
	ew_buf_free(&text);
	if (nft && ops->nft(ops->arg, chs[n - 1].managed, chs[n - 1].now) < 0)
		ok = 0;
	if (out->restored == 1 && ok)
		ew_diag_add(dg, EW_SEV_NOTE, NULL,
		    "the %zu relays' managed policies restored and applied "
		    "again where they had been taken; the store is unchanged",
		    n);
	else if (!ok)
		err(dg, "restored, but applying again failed: run exitwarden "
			"apply --all-relays");
}

/* Compose and write every relay's file, tor each, the table once,
 * record each.  0 or -errno, t[] saying how far it went. */
static int
write_apply_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, struct txn *t, size_t n,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = chs[0].ops;
	struct ew_buf text = EW_BUF_INIT;
	size_t i;
	int rc = 0, nrc;

	for (i = 0; i < n && rc == 0; i++) {
		ew_buf_reset(&text);
		if ((rc = ew_desk_set_relay(d, relays[i])) != 0 ||
		    (rc = ew_desk_compose(
			 d, &chs[i], NULL, 0, &text, NULL, dg)) != 0) {
			out->failed = EW_DESK_STEP_COMPOSE;
			break;
		}
		keep_previous(&t[i], chs[i].managed);
		rc = op_write(&chs[i], chs[i].managed, &text, dg);
		t[i].wrote = rc == 0 || file_is(chs[i].managed,
					    ew_buf_str(&text), text.len);
		out->wrote |= t[i].wrote;
		if (rc != 0) {
			out->failed = EW_DESK_STEP_WRITE;
			rc = rc < 0 ? rc : -EIO;
		}
	}
	ew_buf_free(&text);
	if (rc != 0)
		return rc;
	if (ops == NULL || ops->tor == NULL) {
		out->not_applied = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if ((rc = ops->tor(ops->arg, chs[i].managed, chs[i].now)) < 0) {
			out->failed = EW_DESK_STEP_TOR;
			return rc;
		}
		t[i].tor_took = rc == 0;
	}
	nrc = ops->nft != NULL
		  ? ops->nft(ops->arg, chs[n - 1].managed, chs[n - 1].now)
		  : EW_DESK_CHECKED;
	if (nrc < 0) {
		out->failed = EW_DESK_STEP_NFT;
		return nrc;
	}
	for (i = 0; i < n; i++)
		t[i].nft_took = nrc == 0;
	for (i = 0; i < n; i++) {
		if (!t[i].tor_took)
			return 0; /* a dry run: nothing to record */
		if ((rc = ew_desk_set_relay(d, relays[i])) != 0 ||
		    (rc = op_record(d, &chs[i], chs[i].managed, dg)) != 0) {
			out->failed = EW_DESK_STEP_RECORD;
			return rc < 0 ? rc : -EIO;
		}
	}
	out->applied = 1;
	return 0;
}

/* run_change for several relays: mutate (may be NULL) inside the
 * store's transaction, then every relay written and applied. */
static int
run_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, ew_desk_mutate_fn fn, void *arg,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	struct txn *t;
	char *was = NULL;
	size_t i;
	int rc, erc, mrc = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	if ((d->relay != NULL && (was = strdup(d->relay)) == NULL) ||
	    (t = calloc(n, sizeof(*t))) == NULL) {
		free(was);
		return -ENOMEM;
	}
	if ((rc = ew_store_begin(d->st)) != 0) {
		out->failed = EW_DESK_STEP_STORE;
		err(dg, "%s: %s", chs[0].store, ew_store_errmsg(d->st));
		goto done;
	}
	mrc = fn != NULL ? fn(d, arg, dg) : 0;
	if (mrc < 0) {
		if (mrc != -EALREADY)
			out->failed = EW_DESK_STEP_STORE;
		ew_store_end(d->st, mrc);
		rc = mrc;
		goto done;
	}
	rc = mrc == 0 ? write_apply_relays(d, chs, relays, t, n, out, dg) : 0;
	erc = ew_store_end(d->st, rc == 0 ? 0 : -EIO);
	if (rc == 0 && erc != 0) {
		out->failed = EW_DESK_STEP_STORE;
		err(dg, "%s: %s", chs[0].store, ew_store_errmsg(d->st));
		rc = erc;
	}
	if (rc == 0)
		out->changed = 1;
	else
		restore_relays(d, chs, relays, t, n, out, dg);
	for (i = 0; i < n; i++)
		forget_previous(&t[i]);
done:
	if (ew_desk_set_relay(d, was) != 0 && rc == 0)
		rc = -ENOMEM;
	free(was);
	free(t);
	return rc;
}

int
ew_desk_run_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, ew_desk_mutate_fn fn, void *arg,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	return run_relays(d, chs, relays, n, fn, arg, out, dg);
}

int
ew_desk_sync_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	return run_relays(d, chs, relays, n, NULL, NULL, out, dg);
}

int
ew_desk_apply_file(struct ew_desk *d, const struct ew_desk_change *ch,
    const char *path, struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = ch->ops;
	int trc, nrc, rc;

	memset(out, 0, sizeof(*out));
	if ((trc = ops->tor(ops->arg, path, ch->now)) < 0) {
		out->failed = EW_DESK_STEP_TOR;
		return trc;
	}
	nrc = ops->nft(ops->arg, path, ch->now);
	if (nrc < 0)
		out->failed = EW_DESK_STEP_NFT;
	/* what tor runs decides what the exit carries: record it even when
	 * the nft step failed after it */
	if (trc == 0 && d != NULL) {
		if ((rc = op_record(d, ch, path, dg)) != 0) {
			if (out->failed == EW_DESK_STEP_NONE)
				out->failed = EW_DESK_STEP_RECORD;
			return rc < 0 ? rc : -EIO;
		}
	}
	out->applied = trc == 0 && nrc == 0;
	return nrc < 0 ? nrc : 0;
}

int
ew_desk_drift(
    struct ew_desk *d, const struct ew_desk_change *ch, struct ew_diag_list *dg)
{
	struct ew_buf want = EW_BUF_INIT;
	struct ew_store_rule *r = NULL;
	size_t n = 0, len = 0;
	char *have;
	int rc, e = 0;

	have = slurp(ch->managed, &len, &e);
	if (have == NULL && e == ENOENT) {
		if (ew_store_rule_list(d->st, 0, &r, &n) != 0)
			return -EIO;
		ew_store_rules_free(r, n);
		if (n == 0)
			return 0;
	}
	if ((rc = ew_desk_compose(d, ch, NULL, 0, &want, NULL, dg)) != 0) {
		free(have);
		ew_buf_free(&want);
		return rc;
	}
	rc = have == NULL || len != want.len ||
	     memcmp(have, ew_buf_str(&want), len) != 0;
	free(have);
	ew_buf_free(&want);
	return rc;
}

/* ---- ticket block ---- */

struct block_arg {
	const struct ew_desk_block_plan *plan;
	int64_t now;
};

static int
add_rules(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	const struct block_arg *a = arg;
	const struct ew_desk_block_plan *pl = a->plan;
	int64_t rid;
	size_t k;
	int rc = 0;

	(void)dg;
	for (k = 0; rc == 0 && k < pl->nnew; k++)
		if ((rc = ew_store_rule_add_relay(d->st, pl->ticket_id,
			 d->relay, pl->rules[k].rule, pl->rules[k].reason,
			 pl->expires, a->now, &rid)) == -EEXIST)
			rc = 0; /* added since the plan: in force */
	return rc;
}

int
ew_desk_block(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_block_plan *plan, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct block_arg a = { plan, ch->now };

	return run_change(d, ch, add_rules, &a, out, dg);
}

int
ew_desk_block_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, const struct ew_desk_block_plan *plan,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	struct block_arg a = { plan, chs[0].now };

	return run_relays(d, chs, relays, n, add_rules, &a, out, dg);
}

/* ---- expire ---- */

int
ew_desk_expire_due(
    struct ew_desk *d, int64_t now, struct ew_desk_expired **out, size_t *n)
{
	struct ew_store_rule *r = NULL;
	struct ew_desk_expired *v;
	size_t nr = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	/* every scope: a fleet host's blocks expire at the desk too */
	if ((rc = ew_store_rule_list_every(d->st, 0, 1, &r, &nr)) != 0)
		return rc;
	if ((v = calloc(nr + 1, sizeof(*v))) == NULL) {
		ew_store_rules_free(r, nr);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		if (r[i].expires_at == EW_STORE_NO_TIME ||
		    r[i].expires_at > now)
			continue;
		v[*n].id = r[i].id;
		v[*n].ticket_id = r[i].ticket_id;
		v[*n].expires = r[i].expires_at;
		if ((v[*n].rule = strdup(r[i].rule_text)) == NULL) {
			ew_desk_expired_free(v, *n);
			ew_store_rules_free(r, nr);
			*n = 0;
			return -ENOMEM;
		}
		(*n)++;
	}
	ew_store_rules_free(r, nr);
	*out = v;
	return 0;
}

void
ew_desk_expired_free(struct ew_desk_expired *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].rule);
	free(v);
}

/* Inside the transaction: remove what is due (read again here, since
 * another process may be expiring too); EW_DESK_CHECKED when none. */
static int
remove_due(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	const int64_t *now = arg;
	struct ew_desk_expired *v = NULL;
	size_t n = 0, i;
	int rc;

	(void)dg;
	if ((rc = ew_desk_expire_due(d, *now, &v, &n)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = ew_store_rule_remove(d->st, v[i].id, *now)) ==
		    -EALREADY)
			rc = 0;
	ew_desk_expired_free(v, n);
	if (rc == 0 && n == 0)
		return -EALREADY; /* nothing written: roll back */
	return rc;
}

int
ew_desk_expire(struct ew_desk *d, const struct ew_desk_change *ch, int *drift,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	int64_t now = ch->now;
	int rc;

	*drift = 0;
	rc = run_change(d, ch, remove_due, &now, out, dg);
	if (rc != -EALREADY)
		return rc;
	out->failed = EW_DESK_STEP_NONE;
	if ((rc = ew_desk_drift(d, ch, dg)) <= 0)
		return rc;
	*drift = 1;
	return ew_desk_sync(d, ch, out, dg);
}

int
ew_desk_expire_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, int *drift,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	int64_t now = chs[0].now;
	char *was = NULL;
	size_t i;
	int rc;

	*drift = 0;
	rc = run_relays(d, chs, relays, n, remove_due, &now, out, dg);
	if (rc != -EALREADY)
		return rc;
	out->failed = EW_DESK_STEP_NONE;
	if (d->relay != NULL && (was = strdup(d->relay)) == NULL)
		return -ENOMEM;
	for (i = 0, rc = 0; i < n && rc == 0 && !*drift; i++) {
		if ((rc = ew_desk_set_relay(d, relays[i])) == 0 &&
		    (rc = ew_desk_drift(d, &chs[i], dg)) > 0)
			*drift = 1;
	}
	if (ew_desk_set_relay(d, was) != 0 && rc >= 0)
		rc = -ENOMEM;
	free(was);
	if (rc < 0 || !*drift)
		return rc < 0 ? rc : 0;
	return ew_desk_sync_relays(d, chs, relays, n, out, dg);
}

/* ---- the surge guard ---- */

/*
 * The steps of a surge block: tor as the caller's ops have it, then the
 * new blocks into the kernel in place (elements of the guards' block
 * sets: no reload, so the guards' buckets and counters go on), the
 * caller's whole-table nft step only when that fails (an older table
 * without block sets).
 */
struct inplace {
	struct ew_desk_apply_ops ops; /* these steps, arg = this */
	const struct ew_desk_apply_ops *orig;
	struct ew_desk_guards *g;
	const struct ew_policy *p;
	struct ew_desk_guard_result *r;
};

static int
inplace_write(void *arg, const char *path, const char *text, size_t len,
    struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *o = ((struct inplace *)arg)->orig;

	return o->write != NULL ? o->write(o->arg, path, text, len, dg)
				: ew_desk_write_file(NULL, path, text, len, dg);
}

static int
inplace_tor(void *arg, const char *path, int64_t now)
{
	const struct ew_desk_apply_ops *o = ((struct inplace *)arg)->orig;

	return o->tor(o->arg, path, now);
}

static int
inplace_record(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *o = ((struct inplace *)arg)->orig;

	return o->record != NULL ? o->record(o->arg, d, path, now, dg)
				 : ew_desk_record_file(NULL, d, path, now, dg);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
inplace_nft(void *arg, const char *path, int64_t now)
{
	struct inplace *ip = arg;
	struct ew_buf err = EW_BUF_INIT;
	double t0 = mono_ms();
	int rc;

	rc = ew_desk_guard_block_kernel(
	    ip->g, ip->p, now, &ip->r->in_place, &err);
	ew_buf_free(&err);
	if (rc == 0) {
		ip->r->in_place_ms = mono_ms() - t0;
		return 0;
	}
	ip->r->reloaded = 1;
	return ip->orig->nft(ip->orig->arg, path, now);
}

struct guard_arg {
	struct ew_desk_guards *g;
	const struct ew_policy *p;
	int64_t now;
	struct ew_desk_guard_result *r;
	int rc;
};

static int
poll_surges(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	struct guard_arg *a = arg;
	struct ew_buf e = EW_BUF_INIT;
	int rc;

	rc = ew_desk_guard_poll(d, a->g, a->p, a->now, a->r, &e);
	if (rc != 0)
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "guard: cannot read the surge sets: %s%s%s", strerror(-rc),
		    e.len ? ": " : "", e.len ? ew_buf_str(&e) : "");
	ew_buf_free(&e);
	a->rc = rc;
	if (rc != 0)
		return rc;
	return a->r->added > 0 ? 0 : EW_DESK_CHECKED;
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

int
ew_desk_guard_tick(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_guards *g, const struct ew_policy *p,
    struct ew_desk_guard_result *r, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct guard_arg a = { g, p, ch->now, r, 0 };
	struct ew_desk_change ich = *ch;
	struct ew_desk_outcome xo;
	struct inplace ip;
	int64_t exp;
	int rc, drift;

	memset(r, 0, sizeof(*r));
	memset(&ip, 0, sizeof(ip));
	if (ch->ops != NULL && ch->ops->tor != NULL && ch->ops->nft != NULL) {
		ip.orig = ch->ops;
		ip.g = g;
		ip.p = p;
		ip.r = r;
		ip.ops.write = inplace_write;
		ip.ops.tor = inplace_tor;
		ip.ops.nft = inplace_nft;
		ip.ops.record = inplace_record;
		ip.ops.arg = &ip;
		ich.ops = &ip.ops;
	}
	rc = run_change(d, &ich, poll_surges, &a, out, dg);
	if (a.rc != 0)
		return rc;
	/* a whole load (or a restore after a failure) empties the sets */
	if (r->added > 0 && (rc != 0 || r->reloaded || ich.ops == ch->ops)) {
		r->reloaded = 1;
		ew_desk_guards_reset(g);
	}
	/* a surge block whose time has come */
	exp = next_surge_expiry(d->st);
	if (exp != EW_STORE_NO_TIME && exp <= ch->now) {
		if (ew_desk_expire(d, ch, &drift, &xo, dg) != 0 && rc == 0)
			rc = -EIO;
		ew_desk_guards_reset(g);
	}
	return rc;
}
