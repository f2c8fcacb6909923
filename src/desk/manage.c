/*
 * manage.c - blocks by hand (exitwarden block add | list | remove) and
 * the operator's policy the managed policy includes.
 *
 * A block added by hand is a row of the store's rules with origin
 * 'manual' (and a ticket when the operator names one); removing one
 * marks it removed at that time, never deletes it, so the history
 * stays.  Both are one change of the desk (change.c): the store, the
 * managed policy, tor, nftables and the recorded version move together
 * or not at all.  A dry run makes the change inside a store transaction
 * that is rolled back, composes the managed policy from it and
 * compares: nothing is written anywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

#define err(dg, ...) ew_diag_add(dg, EW_SEV_ERROR, NULL, __VA_ARGS__)

/* ---- the operator's policy named by the managed policy ---- */

int
ew_desk_managed_source(const char *managed, char *out, size_t cap)
{
	char *text = NULL;
	const char *s, *line = NULL, *q;
	size_t n = 0, len;
	int rc;

	if ((rc = ew_file_read(managed, 64u << 20, 0, &text, &n)) < 0)
		return rc;
	/* the last line that is an include, as ew_desk_managed writes it */
	for (s = text; *s != '\0'; s += len + (s[len] == '\n')) {
		len = strcspn(s, "\n");
		if (len > 10 && strncmp(s, "include \"", 9) == 0 &&
		    s[len - 1] == '"')
			line = s;
	}
	rc = -EINVAL;
	if (line != NULL) {
		line += 9;
		q = strchr(line, '"');
		len = (size_t)(q - line);
		if (len > 0 && line[0] == '/' && len < cap) {
			memcpy(out, line, len);
			out[len] = '\0';
			rc = 0;
		}
	}
	free(text);
	return rc;
}

/* ---- apply -n: the managed policy checked, nothing written ---- */

int
ew_desk_sync_check(struct ew_desk *d, const struct ew_desk_change *ch,
    size_t *nblocks, struct ew_diag_list *dg)
{
	const struct ew_desk_apply_ops *ops = ch->ops;
	struct ew_buf text = EW_BUF_INIT;
	struct ew_store_rule *r = NULL;
	char tmp[4096];
	int fd, rc;

	*nblocks = 0;
	if ((rc = ew_store_rule_list(d->st, 0, &r, nblocks)) != 0) {
		err(dg, "%s: %s", ch->store, ew_store_errmsg(d->st));
		return rc;
	}
	ew_store_rules_free(r, *nblocks);
	if ((rc = ew_desk_compose(d, ch, NULL, 0, &text, NULL, dg)) != 0) {
		ew_buf_free(&text);
		return rc;
	}
	/* a file of its own beside the managed one, removed at once */
	if (snprintf(tmp, sizeof(tmp), "%s.check-XXXXXX", ch->managed) >=
	    (int)sizeof(tmp)) {
		ew_buf_free(&text);
		return -ENAMETOOLONG;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		rc = -errno;
		err(dg, "%s: %s", tmp, strerror(errno));
		ew_buf_free(&text);
		return rc;
	}
	if (write(fd, ew_buf_str(&text), text.len) != (ssize_t)text.len)
		rc = -EIO;
	close(fd);
	ew_buf_free(&text);
	if (rc == 0 && ops != NULL && ops->tor != NULL) {
		rc = ops->tor(ops->arg, tmp, ch->now);
		if (rc >= 0 && ops->nft != NULL)
			rc = ops->nft(ops->arg, tmp, ch->now);
	}
	unlink(tmp);
	return rc < 0 ? rc : 0;
}

/* ---- a rule the operator typed ---- */

int
ew_desk_block_rule(const char *name, const char *text, struct ew_buf *canon,
    struct ew_diag_list *dg)
{
	struct ew_policy *p = NULL;
	struct ew_rule_info ri;
	struct ew_src src;
	struct ew_loc loc;
	size_t nerr = dg->nerr, n, w;
	int rc;

	memset(&src, 0, sizeof(src));
	src.name = (char *)name;
	src.text = (char *)text;
	src.len = strlen(text);
	memset(&loc, 0, sizeof(loc));
	loc.src = &src;
	loc.line = 1;
	loc.first = 1;
	loc.last = src.len > 0 ? (unsigned)src.len : 1;
	if (strpbrk(text, "\n\r") != NULL) {
		ew_diag_add(
		    dg, EW_SEV_ERROR, &loc, "a block is one rule on one line");
		return -EINVAL;
	}
	rc = ew_policy_parse_string(
	    name, text, src.len, EW_PARSE_NO_INCLUDE, dg, &p);
	if (rc != 0 || dg->nerr > nerr) {
		ew_policy_free(p);
		return -EINVAL;
	}
	n = ew_policy_rule_count(p);
	if (n != 1) {
		ew_diag_add(dg, EW_SEV_ERROR, &loc,
		    "a block is exactly one rule (reject ADDR:PORTS), not "
		    "%zu",
		    n);
		ew_policy_free(p);
		return -EINVAL;
	}
	ew_policy_rule_info(p, 0, &ri);
	loc.first = ri.first ? ri.first : 1;
	loc.last = ri.last ? ri.last : loc.last;
	w = strcspn(ri.text, " \t");
	if (!((w == 6 && strncmp(ri.text, "reject", 6) == 0) ||
		(w == 7 && strncmp(ri.text, "reject6", 7) == 0))) {
		loc.last = loc.first + (unsigned)w - 1;
		ew_diag_add(dg, EW_SEV_ERROR, &loc,
		    "a block must be a reject rule (reject or reject6)");
		rc = -EINVAL;
	} else if (ri.reason != NULL || ri.ticket != NULL ||
		   ri.expires != EW_NEVER) {
		ew_diag_add(dg, EW_SEV_ERROR, &loc,
		    "give the reason, ticket and expiry as --reason, "
		    "--ticket and --expires, not in the rule");
		rc = -EINVAL;
	} else {
		ew_buf_puts(canon, ri.text);
		rc = canon->oom ? -ENOMEM : 0;
	}
	ew_policy_free(p);
	return rc;
}

/* ---- add ---- */

struct add_arg {
	const struct ew_desk_rule *r;
	int64_t now, id;
	int64_t adopt; /* a host's emergency block it replaces, or 0 */
};

static int
add_one(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	struct add_arg *a = arg;
	const struct ew_desk_rule *r = a->r;
	int rc;

	/* a fleet scope (--host NAME[:RELAY]), else the desk's relay
	 * (ew_desk_set_relay; NULL: every relay) */
	rc = ew_store_rule_add_scope(d->st, EW_STORE_ORIGIN_MANUAL,
	    r->ticket_id, r->host,
	    r->host != NULL || r->relay != NULL ? r->relay : d->relay, r->rule,
	    r->reason, r->expires, a->now, &a->id);
	if (rc == -EEXIST) {
		err(dg,
		    "'%s' is in force already (block %lld): nothing changed",
		    r->rule, (long long)a->id);
		return -EEXIST;
	}
	if (rc == 0 && a->adopt > 0 &&
	    (rc = ew_store_host_block_close(d->st, a->adopt, a->now, a->id)) !=
		0)
		err(dg, "host block %lld: %s", (long long)a->adopt,
		    rc == -ENOENT     ? "no such host block"
		    : rc == -EALREADY ? "removed or adopted before"
				      : ew_store_errmsg(d->st));
	return rc;
}

/* The ticket a block names: there and open, else an error on dg. */
static int
ticket_ok(struct ew_desk *d, int64_t id, int64_t now, struct ew_diag_list *dg)
{
	struct ew_store_ticket *t = NULL;
	int rc;

	if (id <= 0)
		return 0;
	if ((rc = ew_store_ticket_get(d->st, id, now, &t)) != 0) {
		err(dg, "ticket %lld: %s", (long long)id,
		    rc == -ENOENT ? "no such ticket" : ew_store_errmsg(d->st));
		return rc;
	}
	if (t->closed) {
		err(dg, "ticket %lld is closed", (long long)id);
		rc = -EALREADY;
	}
	ew_store_tickets_free(t, 1);
	return rc == -EALREADY ? -EINVAL : rc;
}

int
ew_desk_block_add(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *r, int64_t *id, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct add_arg a = { r, ch->now, 0, 0 };
	int rc;

	*id = 0;
	memset(out, 0, sizeof(*out));
	if ((rc = ticket_ok(d, r->ticket_id, ch->now, dg)) != 0) {
		out->failed = EW_DESK_STEP_STORE;
		return rc;
	}
	rc = ew_desk_run(d, ch, add_one, &a, out, dg);
	if (rc == 0 || rc == -EEXIST)
		*id = a.id;
	return rc;
}

int
ew_desk_block_add_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, const struct ew_desk_rule *r,
    int64_t *id, struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	struct add_arg a = { r, chs[0].now, 0, 0 };
	int rc;

	*id = 0;
	memset(out, 0, sizeof(*out));
	if ((rc = ticket_ok(d, r->ticket_id, chs[0].now, dg)) != 0) {
		out->failed = EW_DESK_STEP_STORE;
		return rc;
	}
	rc = ew_desk_run_relays(d, chs, relays, n, add_one, &a, out, dg);
	if (rc == 0 || rc == -EEXIST)
		*id = a.id;
	return rc;
}

int
ew_desk_block_adopt(struct ew_desk *d, const struct ew_desk_change *ch,
    int64_t hb, const struct ew_desk_rule *r, int64_t *id,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	struct add_arg a = { r, ch->now, 0, hb };
	int rc;

	*id = 0;
	memset(out, 0, sizeof(*out));
	rc = ew_desk_run(d, ch, add_one, &a, out, dg);
	if (rc == 0)
		*id = a.id;
	return rc;
}

/* ---- remove ---- */

struct remove_arg {
	const int64_t *ids;
	size_t n;
	int64_t ticket, now;
	struct ew_desk_removed *out;
};

static int
push_removed(struct ew_desk_removed *o, const struct ew_store_rule *r)
{
	struct ew_desk_expired *nv;

	nv = realloc(o->v, (o->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	o->v = nv;
	memset(&nv[o->n], 0, sizeof(*nv));
	nv[o->n].id = r->id;
	nv[o->n].ticket_id = r->ticket_id;
	nv[o->n].expires = r->expires_at;
	if ((nv[o->n].rule = strdup(r->rule_text)) == NULL)
		return -ENOMEM;
	o->n++;
	return 0;
}

static const struct ew_store_rule *
find_rule(const struct ew_store_rule *v, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

static int
remove_some(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	struct remove_arg *a = arg;
	const struct ew_store_rule *r;
	struct ew_store_rule *v = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i, bad = 0, before = a->out->n;
	int rc;

	if ((rc = ew_store_rule_list(d->st, 1, &v, &n)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < a->n; i++) {
		if ((r = find_rule(v, n, a->ids[i])) == NULL) {
			err(dg, "block %lld: no such block",
			    (long long)a->ids[i]);
			bad++;
		} else if (r->removed_at != EW_STORE_NO_TIME) {
			err(dg, "block %lld: removed already (%s)",
			    (long long)r->id,
			    ew_time_format(r->removed_at, t, sizeof(t)));
			bad++;
		} else if ((rc = ew_store_rule_remove(d->st, r->id, a->now)) ==
			   0) {
			rc = push_removed(a->out, r);
		} else if (rc == -EALREADY) {
			rc = 0; /* named twice */
		}
	}
	for (i = 0; rc == 0 && a->ticket > 0 && i < n; i++) {
		if (v[i].ticket_id != a->ticket ||
		    v[i].removed_at != EW_STORE_NO_TIME)
			continue;
		rc = ew_store_rule_remove(d->st, v[i].id, a->now);
		if (rc == -EALREADY) {
			rc = 0; /* named by id too */
			continue;
		}
		if (rc == 0)
			rc = push_removed(a->out, &v[i]);
	}
	ew_store_rules_free(v, n);
	if (rc == 0 && bad > 0)
		rc = -ENOENT;
	if (rc == 0 && a->out->n == before) {
		if (a->ticket > 0)
			err(dg, "ticket %lld has no block in force",
			    (long long)a->ticket);
		else
			err(dg, "no block to remove");
		rc = -ENOENT;
	}
	return rc;
}

/* Before a run of remove_some: removed empty, to gather what it removes. */
static void
remove_begin(struct remove_arg *a, const int64_t *ids, size_t n, int64_t ticket,
    int64_t now, struct ew_desk_removed *removed)
{
	*a = (struct remove_arg){ ids, n, ticket, now, removed };
	memset(removed, 0, sizeof(*removed));
}

/* After it (rc): removed holds what it removed, or nothing when it
 * failed. */
static int
remove_end(int rc, struct ew_desk_removed *removed)
{
	if (rc != 0)
		ew_desk_removed_free(removed);
	return rc;
}

int
ew_desk_block_remove(struct ew_desk *d, const struct ew_desk_change *ch,
    const int64_t *ids, size_t n, int64_t ticket,
    struct ew_desk_removed *removed, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct remove_arg a;

	remove_begin(&a, ids, n, ticket, ch->now, removed);
	return remove_end(
	    ew_desk_run(d, ch, remove_some, &a, out, dg), removed);
}

int
ew_desk_block_remove_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, const int64_t *ids, size_t nids,
    int64_t ticket, struct ew_desk_removed *removed,
    struct ew_desk_outcome *out, struct ew_diag_list *dg)
{
	struct remove_arg a;

	remove_begin(&a, ids, nids, ticket, chs[0].now, removed);
	return remove_end(
	    ew_desk_run_relays(d, chs, relays, n, remove_some, &a, out, dg),
	    removed);
}

void
ew_desk_removed_free(struct ew_desk_removed *r)
{
	ew_desk_expired_free(r->v, r->n);
	memset(r, 0, sizeof(*r));
}

/* ---- confirm (a pending self-service block joins the policy) ---- */

struct confirm_arg {
	const int64_t *ids;
	size_t n;
};

static int
confirm_some(struct ew_desk *d, void *arg, struct ew_diag_list *dg)
{
	const struct confirm_arg *a = arg;
	size_t i, bad = 0;
	int rc;

	for (i = 0; i < a->n; i++) {
		rc = ew_store_block_confirm(d->st, a->ids[i]);
		if (rc == -ENOENT) {
			err(dg, "block %lld: no such block in force",
			    (long long)a->ids[i]);
			bad++;
		} else if (rc == -EALREADY) {
			/* named twice, or never pending */
			size_t k;

			for (k = 0; k < i && a->ids[k] != a->ids[i]; k++)
				;
			if (k == i) {
				err(dg, "block %lld: not pending",
				    (long long)a->ids[i]);
				bad++;
			}
		} else if (rc < 0) {
			return rc;
		}
	}
	return bad > 0 ? -ENOENT : 0;
}

int
ew_desk_block_confirm(struct ew_desk *d, const struct ew_desk_change *ch,
    const int64_t *ids, size_t n, struct ew_desk_outcome *out,
    struct ew_diag_list *dg)
{
	struct confirm_arg a = { ids, n };

	return ew_desk_run(d, ch, confirm_some, &a, out, dg);
}

/* ---- -n: the change made and rolled back ---- */

/* Compose the effective list after fn's change, inside a transaction
 * rolled back afterwards. */
static int
list_after(struct ew_desk *d, const struct ew_desk_change *ch,
    ew_desk_mutate_fn fn, void *arg, struct ew_buf *list,
    struct ew_diag_list *dg)
{
	struct ew_buf text = EW_BUF_INIT;
	int rc;

	if ((rc = ew_store_begin(d->st)) != 0) {
		err(dg, "%s: %s", ch->store, ew_store_errmsg(d->st));
		return rc;
	}
	if ((rc = fn(d, arg, dg)) == 0)
		rc = ew_desk_compose(d, ch, NULL, 0, &text, list, dg);
	ew_store_end(d->st, -ECANCELED);
	ew_buf_free(&text);
	return rc;
}

static int
preview(struct ew_desk *d, const struct ew_desk_change *ch,
    ew_desk_mutate_fn fn, void *arg, struct ew_buf *diff,
    struct ew_diag_list *dg)
{
	struct ew_buf before = EW_BUF_INIT, after = EW_BUF_INIT,
		      text = EW_BUF_INIT;
	int rc;

	rc = ew_desk_compose(d, ch, NULL, 0, &text, &before, dg);
	if (rc == 0)
		rc = list_after(d, ch, fn, arg, &after, dg);
	if (rc == 0)
		ew_desk_diff(ew_buf_str(&before), ew_buf_str(&after), diff);
	ew_buf_free(&before);
	ew_buf_free(&after);
	ew_buf_free(&text);
	return rc == 0 && diff->oom ? -ENOMEM : rc;
}

int
ew_desk_block_add_preview(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *r, struct ew_buf *diff, struct ew_diag_list *dg)
{
	struct add_arg a = { r, ch->now, 0, 0 };
	int rc;

	if ((rc = ticket_ok(d, r->ticket_id, ch->now, dg)) != 0)
		return rc;
	return preview(d, ch, add_one, &a, diff, dg);
}

int
ew_desk_block_remove_preview(struct ew_desk *d, const struct ew_desk_change *ch,
    const int64_t *ids, size_t n, int64_t ticket,
    struct ew_desk_removed *removed, struct ew_buf *diff,
    struct ew_diag_list *dg)
{
	struct remove_arg a;

	remove_begin(&a, ids, n, ticket, ch->now, removed);
	return remove_end(preview(d, ch, remove_some, &a, diff, dg), removed);
}

int
ew_desk_block_confirm_preview(struct ew_desk *d,
    const struct ew_desk_change *ch, const int64_t *ids, size_t n,
    struct ew_buf *diff, struct ew_diag_list *dg)
{
	struct confirm_arg a = { ids, n };

	return preview(d, ch, confirm_some, &a, diff, dg);
}

/* ---- list ---- */

const char *
ew_desk_block_origin(const struct ew_store_rule *r)
{
	if (r->origin != NULL && strcmp(r->origin, EW_STORE_ORIGIN_SURGE) == 0)
		return "surge";
	if (r->origin != NULL && strcmp(r->origin, EW_STORE_ORIGIN_MANUAL) == 0)
		return "manual";
	return r->ticket_id > 0 ? "ticket" : "manual";
}

const char *
ew_desk_block_state(const struct ew_store_rule *r, int64_t now)
{
	if (r->removed_at != EW_STORE_NO_TIME)
		return r->expires_at != EW_STORE_NO_TIME &&
			       r->removed_at >= r->expires_at
			   ? "expired"
			   : "removed";
	if (r->expires_at != EW_STORE_NO_TIME && r->expires_at <= now)
		return "due"; /* expire has not run since */
	return "in force";
}

static void
json_time(struct ew_buf *b, const char *key, int64_t t)
{
	char s[EW_TIME_STRLEN];

	ew_buf_printf(b, ", \"%s\": ", key);
	if (t == EW_STORE_NO_TIME)
		ew_buf_puts(b, "null");
	else
		ew_json_str(b, ew_time_format(t, s, sizeof(s)));
}

void
ew_desk_block_json(struct ew_buf *b, const struct ew_store_rule *r, int64_t now)
{
	ew_buf_printf(b, "{\"id\": %lld, \"rule\": ", (long long)r->id);
	ew_json_str(b, r->rule_text);
	ew_buf_puts(b, ", \"origin\": ");
	ew_json_str(b, ew_desk_block_origin(r));
	if (r->ticket_id > 0)
		ew_buf_printf(b, ", \"ticket\": %lld", (long long)r->ticket_id);
	else
		ew_buf_puts(b, ", \"ticket\": null");
	ew_buf_puts(b, ", \"relay\": ");
	if (r->relay != NULL && r->relay[0] != '\0')
		ew_json_str(b, r->relay);
	else
		ew_buf_puts(b, "null");
	ew_buf_puts(b, ", \"guard\": ");
	if (r->guard != NULL)
		ew_json_str(b, r->guard);
	else
		ew_buf_puts(b, "null");
	if (r->host != NULL) { /* a fleet host's (schema 12) */
		ew_buf_puts(b, ", \"host\": ");
		ew_json_str(b, r->host);
		ew_buf_puts(b, ", \"relay\": ");
		if (r->relay != NULL)
			ew_json_str(b, r->relay);
		else
			ew_buf_puts(b, "null");
	}
	ew_buf_puts(b, ", \"reason\": ");
	if (r->reason != NULL)
		ew_json_str(b, r->reason);
	else
		ew_buf_puts(b, "null");
	json_time(b, "added", r->added_at);
	json_time(b, "expires", r->expires_at);
	json_time(b, "removed", r->removed_at);
	ew_buf_puts(b, ", \"state\": ");
	ew_json_str(b, ew_desk_block_state(r, now));
	ew_buf_putc(b, '}');
}

/* A value from outside (a reason) on one line: controls blanked. */
static void
put_flat(struct ew_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		ew_buf_putc(
		    b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

int
ew_desk_blocks_render(
    struct ew_store *st, int64_t now, int all, int json, struct ew_buf *out)
{
	struct ew_store_rule *v = NULL;
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	size_t n = 0, i;
	int rc;

	if ((rc = ew_store_rule_list_every(st, all, 1, &v, &n)) != 0)
		return rc;
	if (json)
		ew_buf_putc(out, '[');
	else if (n == 0)
		ew_buf_puts(out, all ? "no blocks\n" : "no block in force\n");
	for (i = 0; i < n; i++) {
		const struct ew_store_rule *r = &v[i];

		if (json) {
			ew_buf_puts(out, i ? ",\n " : "");
			ew_desk_block_json(out, r, now);
			continue;
		}
		ew_buf_printf(out, "%lld  ", (long long)r->id);
		put_flat(out, r->rule_text);
		ew_buf_printf(out, "\n    %s", ew_desk_block_origin(r));
		if (r->relay != NULL && r->relay[0] != '\0') {
			ew_buf_puts(out, ", relay ");
			put_flat(out, r->relay);
		}
		if (r->ticket_id > 0)
			ew_buf_printf(
			    out, ", ticket %lld", (long long)r->ticket_id);
		if (r->guard != NULL) {
			ew_buf_puts(out, ", guard ");
			put_flat(out, r->guard);
		}
		ew_buf_printf(out, ", added %s, %s",
		    ew_time_format(r->added_at, t1, sizeof(t1)),
		    r->expires_at == EW_STORE_NO_TIME ? "never expires"
						      : "expires ");
		if (r->expires_at != EW_STORE_NO_TIME)
			ew_buf_puts(
			    out, ew_time_format(r->expires_at, t2, sizeof(t2)));
		ew_buf_printf(out, ": %s", ew_desk_block_state(r, now));
		if (r->removed_at != EW_STORE_NO_TIME)
			ew_buf_printf(out, " %s",
			    ew_time_format(r->removed_at, t1, sizeof(t1)));
		if (r->reason != NULL) {
			ew_buf_puts(out, "\n    reason: ");
			put_flat(out, r->reason);
		}
		ew_buf_putc(out, '\n');
	}
	if (json)
		ew_buf_puts(out, "]\n");
	ew_store_rules_free(v, n);
	return out->oom ? -ENOMEM : 0;
}
