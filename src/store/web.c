/*
 * web.c - what the store keeps for `exitwarden serve`: the blocks with
 * their origin and flags (for the notice page), the self-service
 * blocks a requester asked for, the form tokens already used (no
 * address: only the token's random part and when it expires), and the
 * aggregate figures /metrics shows.  Nothing about who asked beyond
 * the block itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static int
read_block(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_block *b = row;
	int rc = 0;

	(void)arg;
	b->id = ew_store_col_int64(s, 0);
	b->ticket_id = ew_store_col_int64(s, 1);
	rc |= ew_store_col_text(s, 2, &b->rule_text);
	rc |= ew_store_col_text(s, 3, &b->reason);
	rc |= ew_store_col_text(s, 4, &b->origin);
	b->expires_at = ew_store_col_time(s, 5);
	b->added_at = ew_store_col_int64(s, 6);
	b->pending = (int)ew_store_col_int64(s, 7) != 0;
	b->priv = (int)ew_store_col_int64(s, 8) != 0;
	return rc ? -ENOMEM : 0;
}

int
ew_store_block_list(struct ew_store *st, struct ew_store_block **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT id, coalesce(ticket_id, 0), rule_text, reason,"
	    " coalesce(origin, 'ticket'), expires_at, added_at,"
	    " coalesce(pending, 0), coalesce(private, 0)"
	    " FROM rules WHERE removed_at IS NULL ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_rows(
	    st, s, sizeof(struct ew_store_block), read_block, NULL, &raw, &len);
	if (rc != 0) {
		ew_store_blocks_free(raw, len);
		return rc;
	}
	*out = raw;
	*n = len;
	return 0;
}

void
ew_store_blocks_free(struct ew_store_block *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].rule_text);
		free(v[i].reason);
		free(v[i].origin);
	}
	free(v);
}

/* Run one statement with up to two integer parameters. */
static int
exec2(struct ew_store *st, const char *sql, int np, int64_t a, int64_t b,
    int64_t *changes)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	if (np > 0)
		ew_store_bind_int64(s, 1, a);
	if (np > 1)
		ew_store_bind_int64(s, 2, b);
	rc = ew_store_step_done(st, s);
	if (changes != NULL)
		*changes = ew_store_changes(s);
	ew_store_finalize(s);
	return rc;
}

int
ew_store_block_set_private(struct ew_store *st, int64_t rule_id, int priv)
{
	int64_t changed = 0;
	int rc;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exec2(st,
	    priv ? "UPDATE rules SET private = 1, rev = " EW_STORE_REV_NOW
		   " WHERE id = ?"
		 : "UPDATE rules SET private = NULL, rev = " EW_STORE_REV_NOW
		   " WHERE id = ?",
	    1, rule_id, 0, &changed);
	if (rc == 0 && changed == 0)
		rc = -ENOENT;
	return ew_store_end(st, rc);
}

int
ew_store_block_confirm(struct ew_store *st, int64_t rule_id)
{
	int64_t n = 0, changed = 0;
	int rc;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exec2(st,
	    "UPDATE rules SET pending = NULL, rev = " EW_STORE_REV_NOW
	    " WHERE id = ? AND removed_at IS NULL AND pending IS NOT NULL",
	    1, rule_id, 0, &changed);
	if (rc == 0 && changed == 0) {
		struct ew_stmt *s;

		rc = ew_store_prep(st,
		    "SELECT count(*) FROM rules WHERE id = ?"
		    " AND removed_at IS NULL",
		    &s);
		if (rc == 0) {
			ew_store_bind_int64(s, 1, rule_id);
			if (ew_store_step(s) == EW_STORE_ROW)
				n = ew_store_col_int64(s, 0);
			ew_store_finalize(s);
			rc = n ? -EALREADY : -ENOENT;
		}
	}
	return ew_store_end(st, rc);
}

int
ew_store_token_use(
    struct ew_store *st, const char *id, int64_t expires_at, int64_t now)
{
	struct ew_stmt *s;
	int rc;

	if (id == NULL || *id == '\0')
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exec2(st, "DELETE FROM web_tokens WHERE expires_at <= ?", 1, now,
	    0, NULL);
	if (rc == 0)
		rc = ew_store_prep(st,
		    "INSERT INTO web_tokens (id, expires_at) VALUES (?, ?)",
		    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, id);
		ew_store_bind_int64(s, 2, expires_at);
		/* the one constraint a token can break: used before */
		if ((rc = ew_store_step_done(st, s)) == -EINVAL)
			rc = -EEXIST;
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

/* The self-service rule with this text in force: its id (0: none). */
static int
self_in_force(struct ew_store *st, const char *text, int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	rc = ew_store_prep(st,
	    "SELECT id FROM rules WHERE origin = 'self-service'"
	    " AND rule_text = ? AND removed_at IS NULL ORDER BY id LIMIT 1",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, text);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*id = ew_store_col_int64(s, 0);
		rc = 0;
	}
	ew_store_finalize(s);
	return rc;
}

static int
self_insert(struct ew_store *st, int64_t ticket, const char *text,
    const char *reason, int64_t expires_at, int pending, int64_t now)
{
	struct ew_stmt *s;
	int rc;

	rc = ew_store_prep(st,
	    "INSERT INTO rules (ticket_id, rule_text, reason, expires_at,"
	    " added_at, origin, pending, rev) VALUES (?, ?, ?, ?, ?,"
	    " 'self-service', ?, " EW_STORE_REV_NOW ")",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, ticket);
	ew_store_bind_text(s, 2, text);
	ew_store_bind_text(s, 3, reason);
	ew_store_bind_time(s, 4, expires_at);
	ew_store_bind_int64(s, 5, now);
	if (pending)
		ew_store_bind_int64(s, 6, 1);
	rc = ew_store_step_done(st, s);
	ew_store_finalize(s);
	return rc;
}

int
ew_store_selfservice_add(struct ew_store *st, const char *const *rules,
    size_t n, const char *reason, int64_t expires_at, int pending,
    const char *closed_reason, int64_t now, int64_t *ticket_id, int *renewed)
{
	int64_t have;
	size_t i;
	int rc;

	*ticket_id = 0;
	if (rules == NULL || n == 0)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_ticket_open_kind(st, EW_STORE_ORIGIN_SELF,
	    EW_STORE_ORIGIN_SELF, now, EW_STORE_NO_TIME, ticket_id);
	for (i = 0; rc == 0 && i < n; i++) {
		if (renewed != NULL)
			renewed[i] = 0;
		if ((rc = self_in_force(st, rules[i], &have)) != 0)
			break;
		if (have != 0) {
			rc = exec2(st,
			    "UPDATE rules SET expires_at = ?2,"
			    " rev = " EW_STORE_REV_NOW " WHERE id = ?1"
			    " AND expires_at IS NOT NULL AND expires_at < ?2",
			    2, have, expires_at, NULL);
			if (renewed != NULL)
				renewed[i] = 1;
			continue;
		}
		rc = self_insert(
		    st, *ticket_id, rules[i], reason, expires_at, pending, now);
	}
	if (rc == 0 && closed_reason != NULL)
		rc = ew_store_ticket_close(st, *ticket_id, closed_reason);
	rc = ew_store_end(st, rc);
	if (rc != 0)
		*ticket_id = 0;
	return rc;
}

static int
read_origin(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_origin_count *o = row;

	(void)arg;
	o->in_force = ew_store_col_int64(s, 1);
	o->pending = ew_store_col_int64(s, 2);
	return ew_store_col_text(s, 0, &o->origin) ? -ENOMEM : 0;
}

static int
read_relay(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_relay_apply *r = row;

	(void)arg;
	r->applied_at = ew_store_col_int64(s, 1);
	return ew_store_col_text(s, 0, &r->relay) ? -ENOMEM : 0;
}

/* One integer from a one-row query with up to one parameter. */
static int
scalar(struct ew_store *st, const char *sql, int np, int64_t a, int64_t *out)
{
	struct ew_stmt *s;
	int rc;

	*out = 0;
	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	if (np > 0)
		ew_store_bind_int64(s, 1, a);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*out = ew_store_col_null(s, 0) ? EW_STORE_NO_TIME
					       : ew_store_col_int64(s, 0);
		rc = 0;
	}
	ew_store_finalize(s);
	return rc;
}

int
ew_store_figures(struct ew_store *st, int64_t now, struct ew_store_figures *out)
{
	struct ew_stmt *s;
	void *raw = NULL;
	int64_t pc = 0, ps = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ew_store_prep(st,
	    "SELECT coalesce(origin, 'ticket'),"
	    " sum(CASE WHEN pending IS NULL THEN 1 ELSE 0 END),"
	    " sum(CASE WHEN pending IS NULL THEN 0 ELSE 1 END)"
	    " FROM rules WHERE removed_at IS NULL"
	    " GROUP BY coalesce(origin, 'ticket') ORDER BY 1",
	    &s);
	if (rc == 0) {
		rc = ew_store_rows(st, s, sizeof(struct ew_store_origin_count),
		    read_origin, NULL, &raw, &out->norigins);
		out->origins = raw;
	}
	if (rc == 0)
		rc = scalar(st,
		    "SELECT count(*) FROM tickets WHERE status = 'open'", 0, 0,
		    &out->tickets_open);
	if (rc == 0)
		rc = scalar(st,
		    "SELECT count(*) FROM tickets WHERE status = 'open'"
		    " AND due_at IS NOT NULL AND due_at <= ?",
		    1, now, &out->tickets_overdue);
	if (rc == 0)
		rc = scalar(st, "SELECT count(*) FROM policy_versions", 0, 0,
		    &out->versions);
	if (rc == 0)
		rc = scalar(st,
		    "SELECT max(applied_from) FROM policy_versions"
		    " WHERE applied_to IS NULL",
		    0, 0, &out->last_applied);
	if (rc == 0)
		rc = ew_store_prep(st,
		    "SELECT relay, max(applied_from) FROM policy_versions"
		    " WHERE applied_to IS NULL GROUP BY relay ORDER BY relay",
		    &s);
	if (rc == 0) {
		raw = NULL;
		rc = ew_store_rows(st, s, sizeof(struct ew_store_relay_apply),
		    read_relay, NULL, &raw, &out->nrelays);
		out->relays = raw;
	}
	if (rc == 0)
		rc = ew_store_rev(st, &out->rev);
	if (rc == 0 && strcmp(ew_store_backend(st), "sqlite") == 0) {
		rc = scalar(st, "PRAGMA page_count", 0, 0, &pc);
		if (rc == 0)
			rc = scalar(st, "PRAGMA page_size", 0, 0, &ps);
	} else if (rc == 0) {
		ps = 1;
		rc = scalar(st, "SELECT pg_database_size(current_database())",
		    0, 0, &pc);
	}
	out->db_bytes = pc * ps;
	if (rc == 0)
		rc = ew_store_version(st, &out->schema);
	if (rc != 0)
		ew_store_figures_free(out);
	return rc;
}

void
ew_store_figures_free(struct ew_store_figures *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->norigins; i++)
		free(f->origins[i].origin);
	free(f->origins);
	f->origins = NULL;
	f->norigins = 0;
	for (i = 0; f->relays != NULL && i < f->nrelays; i++)
		free(f->relays[i].relay);
	free(f->relays);
	f->relays = NULL;
	f->nrelays = 0;
}
