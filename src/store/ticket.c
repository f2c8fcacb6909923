/*
 * ticket.c - tickets (the operator's cases), their complaints, and the
 * rules (blocks) added for them.
 *
 * A ticket is open until closed with a reason; its due time comes from
 * the forwarder's deadline.  A rule is never deleted: removing it sets
 * removed_at, so the record of what was blocked, why and until when
 * stays.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

/*
 * Run one UPDATE in a transaction, binding ?1 to `id`, ?2 to `t` and ?3
 * to `text` (as far as the statement has parameters); -ENOENT when it
 * changed no row.
 */
static int
update(struct ew_store *st, const char *sql, int64_t id, int64_t t,
    const char *text)
{
	struct ew_stmt *s;
	int rc, np;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	if ((rc = ew_store_prep(st, sql, &s)) == 0) {
		np = ew_store_nparams(s);
		ew_store_bind_int64(s, 1, id);
		if (np >= 2)
			ew_store_bind_time(s, 2, t);
		if (np >= 3)
			ew_store_bind_text(s, 3, text);
		rc = ew_store_step_done(st, s);
		if (rc == 0 && ew_store_changes(s) == 0)
			rc = -ENOENT;
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

/* Whether the query `sql`, with ?1 bound to `id`, returns a row. */
static int
exists(struct ew_store *st, const char *sql, int64_t id, int *yes)
{
	struct ew_stmt *s;
	int rc;

	*yes = 0;
	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	ew_store_bind_int64(s, 1, id);
	rc = ew_store_step(s);
	*yes = rc == EW_STORE_ROW;
	if (rc == EW_STORE_ROW)
		rc = 0;
	ew_store_finalize(s);
	return rc;
}

int
ew_store_ticket_open_kind(struct ew_store *st, const char *reporter,
    const char *category, int64_t opened_at, int64_t due_at, int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	if (reporter == NULL)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_prep(st,
	    "INSERT INTO tickets (reporter, opened_at, due_at, category)"
	    " VALUES (?, ?, ?, ?) RETURNING id",
	    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, reporter);
		ew_store_bind_int64(s, 2, opened_at);
		ew_store_bind_time(s, 3, due_at);
		ew_store_bind_text(s, 4, category);
		rc = ew_store_step_id(s, id);
		ew_store_finalize(s);
	}
	rc = ew_store_end(st, rc);
	if (rc != 0)
		*id = 0;
	return rc;
}

int
ew_store_ticket_open(struct ew_store *st, const char *reporter,
    int64_t opened_at, int64_t due_at, int64_t *id)
{
	return ew_store_ticket_open_kind(
	    st, reporter, NULL, opened_at, due_at, id);
}

/* Link a complaint to a ticket, at once (-EALREADY when linked) or
 * deferred (ew_store_step_later: no answer to wait for). */
static int
ticket_link(
    struct ew_store *st, int64_t ticket_id, int64_t complaint_id, int later)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_prep(st,
	    "INSERT OR IGNORE INTO ticket_complaints"
	    " (ticket_id, complaint_id) VALUES (?, ?)",
	    &s);
	if (rc == 0) {
		ew_store_bind_int64(s, 1, ticket_id);
		ew_store_bind_int64(s, 2, complaint_id);
		if (later)
			rc = ew_store_step_later(s);
		else if ((rc = ew_store_step_done(st, s)) == 0 &&
			 ew_store_changes(s) == 0)
			rc = -EALREADY;
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

int
ew_store_ticket_link(
    struct ew_store *st, int64_t ticket_id, int64_t complaint_id)
{
	return ticket_link(st, ticket_id, complaint_id, 0);
}

int
ew_store_ticket_link_new(
    struct ew_store *st, int64_t ticket_id, int64_t complaint_id)
{
	return ticket_link(st, ticket_id, complaint_id, 1);
}

int
ew_store_ticket_set_due(struct ew_store *st, int64_t ticket_id, int64_t due_at)
{
	return update(st, "UPDATE tickets SET due_at = ?2 WHERE id = ?1",
	    ticket_id, due_at, NULL);
}

/*
 * An update made once (close a ticket, remove a rule): when it changed
 * no row, -EALREADY if `exists_sql` (?1 = id) finds the row, -ENOENT if
 * not.
 */
static int
update_once(struct ew_store *st, const char *sql, const char *exists_sql,
    int64_t id, int64_t t, const char *text)
{
	int rc, yes;

	if ((rc = update(st, sql, id, t, text)) != -ENOENT)
		return rc;
	if ((rc = exists(st, exists_sql, id, &yes)) != 0)
		return rc;
	return yes ? -EALREADY : -ENOENT;
}

int
ew_store_ticket_close(
    struct ew_store *st, int64_t ticket_id, const char *reason)
{
	return update_once(st,
	    "UPDATE tickets SET status = 'closed', reason = ?3"
	    " WHERE id = ?1 AND status = 'open'",
	    "SELECT 1 FROM tickets WHERE id = ?", ticket_id, EW_STORE_NO_TIME,
	    reason);
}

void
ew_store_tickets_free(struct ew_store_ticket *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].reporter);
		free(v[i].category);
		free(v[i].reason);
	}
	free(v);
}

static int
read_ticket(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_ticket *t = row;
	int64_t now = *(const int64_t *)arg;
	int rc = 0;

	t->id = ew_store_col_int64(s, 0);
	rc |= ew_store_col_text(s, 1, &t->reporter);
	t->opened_at = ew_store_col_int64(s, 2);
	t->due_at = ew_store_col_time(s, 3);
	t->closed = (int)ew_store_col_int64(s, 4);
	rc |= ew_store_col_text(s, 5, &t->reason);
	t->ncomplaints = (size_t)ew_store_col_int64(s, 6);
	rc |= ew_store_col_text(s, 7, &t->category);
	t->overdue =
	    !t->closed && t->due_at != EW_STORE_NO_TIME && t->due_at <= now;
	return rc ? -ENOMEM : 0;
}

/* Open tickets (all when `all`), or the one with `id` when it is not 0. */
static int
select_tickets(struct ew_store *st, int64_t now, int all, int64_t id,
    struct ew_store_ticket **out, size_t *n)
{
	struct ew_store_ticket *v;
	size_t len = 0;
	void *raw;
	struct ew_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT t.id, t.reporter, t.opened_at, t.due_at,"
	    " CASE WHEN t.status = 'closed' THEN 1 ELSE 0 END, t.reason,"
	    " (SELECT count(*) FROM ticket_complaints c"
	    "  WHERE c.ticket_id = t.id), t.category"
	    " FROM tickets t WHERE (?1 <> 0 OR t.status = 'open')"
	    " AND (?2 = 0 OR t.id = ?2)"
	    " ORDER BY t.due_at IS NULL, t.due_at, t.id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, all != 0);
	ew_store_bind_int64(s, 2, id);
	rc = ew_store_rows(st, s, sizeof(*v), read_ticket, &now, &raw, &len);
	v = raw;
	if (rc != 0) {
		ew_store_tickets_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
ew_store_ticket_list(struct ew_store *st, int64_t now, int all,
    struct ew_store_ticket **out, size_t *n)
{
	return select_tickets(st, now, all, 0, out, n);
}

int
ew_store_ticket_get(
    struct ew_store *st, int64_t id, int64_t now, struct ew_store_ticket **out)
{
	size_t n;
	int rc;

	*out = NULL;
	if (id <= 0)
		return -ENOENT;
	if ((rc = select_tickets(st, now, 1, id, out, &n)) != 0)
		return rc;
	if (n == 0) {
		ew_store_tickets_free(*out, n);
		*out = NULL;
		return -ENOENT;
	}
	return 0;
}

/* The newest open ticket of a reporter (and when `due`, its due time);
 * with `any_kind` whatever its category, else only one whose category
 * IS `category`. */
static int
find_open(struct ew_store *st, const char *reporter, int any_kind,
    const char *category, int64_t *id, int64_t *due)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	rc = ew_store_prep(st,
	    "SELECT id, due_at FROM tickets WHERE reporter = ?1"
	    " AND status = 'open' AND (?2 <> 0 OR category IS ?3)"
	    " ORDER BY id DESC LIMIT 1",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, reporter);
	ew_store_bind_int64(s, 2, any_kind != 0);
	ew_store_bind_text(s, 3, category);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*id = ew_store_col_int64(s, 0);
		if (due != NULL)
			*due = ew_store_col_time(s, 1);
	}
	rc = rc == EW_STORE_ROW ? 0 : rc == 0 ? -ENOENT : rc;
	ew_store_finalize(s);
	return rc;
}

int
ew_store_ticket_find_open(
    struct ew_store *st, const char *reporter, int64_t *id)
{
	return find_open(st, reporter, 1, NULL, id, NULL);
}

int
ew_store_ticket_find_kind(struct ew_store *st, const char *reporter,
    const char *category, int64_t *id)
{
	return find_open(st, reporter, 0, category, id, NULL);
}

int
ew_store_ticket_find_due(struct ew_store *st, const char *reporter,
    const char *category, int64_t *id, int64_t *due)
{
	*due = EW_STORE_NO_TIME;
	return find_open(st, reporter, 0, category, id, due);
}

static int
read_id(struct ew_stmt *s, void *row, void *arg)
{
	(void)arg;
	*(int64_t *)row = ew_store_col_int64(s, 0);
	return 0;
}

int
ew_store_ticket_complaints(
    struct ew_store *st, int64_t ticket_id, int64_t **ids, size_t *n)
{
	struct ew_stmt *s;
	void *raw;
	int rc;

	*ids = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT complaint_id FROM ticket_complaints WHERE ticket_id = ?"
	    " ORDER BY complaint_id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, ticket_id);
	rc = ew_store_rows(st, s, sizeof(int64_t), read_id, NULL, &raw, n);
	*ids = raw;
	if (rc != 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* The rule with this text in force for the ticket (0: none), or 0. */
static int
rule_in_force(struct ew_store *st, int64_t ticket_id, const char *host,
    const char *relay, const char *text, int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	rc = ew_store_prep(st,
	    "SELECT id FROM rules WHERE coalesce(ticket_id, 0) = ?"
	    " AND rule_text = ? AND removed_at IS NULL"
	    " AND coalesce(relay, '') = coalesce(?, '')"
	    " AND coalesce(host, '') = coalesce(?, '')",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, ticket_id);
	ew_store_bind_text(s, 2, text);
	ew_store_bind_text(s, 3, relay);
	ew_store_bind_text(s, 4, host);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*id = ew_store_col_int64(s, 0);
		rc = 0;
	}
	ew_store_finalize(s);
	return rc;
}

int
ew_store_rule_add(struct ew_store *st, int64_t ticket_id, const char *rule_text,
    const char *reason, int64_t expires_at, int64_t added_at, int64_t *id)
{
	return ew_store_rule_add_full(st, NULL, ticket_id, NULL, rule_text,
	    reason, expires_at, added_at, id);
}

int
ew_store_rule_add_relay(struct ew_store *st, int64_t ticket_id,
    const char *relay, const char *rule_text, const char *reason,
    int64_t expires_at, int64_t added_at, int64_t *id)
{
	return ew_store_rule_add_full(st, NULL, ticket_id, relay, rule_text,
	    reason, expires_at, added_at, id);
}

int
ew_store_rule_add_origin(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *rule_text, const char *reason,
    int64_t expires_at, int64_t added_at, int64_t *id)
{
	return ew_store_rule_add_full(st, origin, ticket_id, NULL, rule_text,
	    reason, expires_at, added_at, id);
}

int
ew_store_rule_add_full(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *relay, const char *rule_text,
    const char *reason, int64_t expires_at, int64_t added_at, int64_t *id)
{
	return ew_store_rule_add_scope(st, origin, ticket_id, NULL, relay,
	    rule_text, reason, expires_at, added_at, id);
}

int
ew_store_rule_add_scope(struct ew_store *st, const char *origin,
    int64_t ticket_id, const char *host, const char *relay,
    const char *rule_text, const char *reason, int64_t expires_at,
    int64_t added_at, int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	if (rule_text == NULL || (relay != NULL && relay[0] == '\0') ||
	    (host != NULL && !ew_store_host_name_ok(host)) ||
	    (origin != NULL && strcmp(origin, EW_STORE_ORIGIN_MANUAL) != 0))
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	if ((rc = rule_in_force(st, ticket_id, host, relay, rule_text, id)) ==
		0 &&
	    *id != 0) {
		ew_store_rollback(st);
		return -EEXIST; /* in force for this ticket already */
	}
	if (rc == 0)
		rc = ew_store_prep(st,
		    "INSERT INTO rules (ticket_id, rule_text, reason,"
		    " expires_at, added_at, relay, origin, host, rev) VALUES "
		    "(?,"
		    " ?, ?, ?, ?, ?, ?, ?, " EW_STORE_REV_NOW ") RETURNING id",
		    &s);
	if (rc == 0) {
		if (ticket_id != 0)
			ew_store_bind_int64(s, 1, ticket_id);
		ew_store_bind_text(s, 2, rule_text);
		ew_store_bind_text(s, 3, reason);
		ew_store_bind_time(s, 4, expires_at);
		ew_store_bind_int64(s, 5, added_at);
		ew_store_bind_text(s, 6, relay);
		ew_store_bind_text(s, 7, origin);
		ew_store_bind_text(s, 8, host);
		rc = ew_store_step_id(s, id);
		ew_store_finalize(s);
	}
	rc = ew_store_end(st, rc);
	if (rc != 0)
		*id = 0;
	return rc;
}

int
ew_store_rule_remove(struct ew_store *st, int64_t rule_id, int64_t at)
{
	return update_once(st,
	    "UPDATE rules SET removed_at = ?2, rev = " EW_STORE_REV_NOW
	    " WHERE id = ?1 AND removed_at IS NULL",
	    "SELECT 1 FROM rules WHERE id = ?", rule_id, at, NULL);
}

void
ew_store_rules_free(struct ew_store_rule *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].rule_text);
		free(v[i].reason);
		free(v[i].relay);
		free(v[i].origin);
		free(v[i].guard);
		free(v[i].host);
	}
	free(v);
}

static int
read_rule(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_rule *r = row;
	int rc = 0;

	(void)arg;

	r->id = ew_store_col_int64(s, 0);
	r->ticket_id = ew_store_col_int64(s, 1); /* NULL reads as 0 */
	rc |= ew_store_col_text(s, 2, &r->rule_text);
	rc |= ew_store_col_text(s, 3, &r->reason);
	r->expires_at = ew_store_col_time(s, 4);
	r->added_at = ew_store_col_int64(s, 5);
	r->removed_at = ew_store_col_time(s, 6);
	rc |= ew_store_col_text(s, 7, &r->relay);
	rc |= ew_store_col_text(s, 8, &r->origin);
	rc |= ew_store_col_text(s, 9, &r->guard);
	r->rev = ew_store_col_int64(s, 10);
	rc |= ew_store_col_text(s, 11, &r->host);
	return rc ? -ENOMEM : 0;
}

int
ew_store_rule_list(
    struct ew_store *st, int all, struct ew_store_rule **out, size_t *n)
{
	return ew_store_rule_list_every(st, all, 0, out, n);
}

int
ew_store_rule_list_every(struct ew_store *st, int all, int every,
    struct ew_store_rule **out, size_t *n)
{
	struct ew_store_rule *v;
	size_t len = 0;
	void *raw;
	struct ew_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT id, ticket_id, rule_text, reason, expires_at, added_at,"
	    " removed_at, relay, origin, guard, rev, host FROM rules WHERE (?1"
	    " <> 0 OR (removed_at IS NULL AND pending IS NULL))"
	    " AND (?3 <> 0 OR coalesce(host, '') IN ('', ?2)) ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, all != 0);
	ew_store_bind_text(s, 2, st->scope);
	ew_store_bind_int64(s, 3, every != 0);
	rc = ew_store_rows(st, s, sizeof(*v), read_rule, NULL, &raw, &len);
	v = raw;
	if (rc != 0) {
		ew_store_rules_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
ew_store_rules_since(struct ew_store *st, int64_t cursor,
    struct ew_store_rule **out, size_t *n, int64_t *rev)
{
	struct ew_store_rule *v;
	struct ew_stmt *s;
	size_t len = 0;
	void *raw;
	int rc;

	*out = NULL;
	*n = 0;
	/* the revision first: every revision up to it has committed
	 * (writers hold the store_rev row until they commit), so the rules
	 * read next hold each of (cursor, rev] whole */
	if ((rc = ew_store_rev(st, rev)) != 0)
		return rc;
	rc = ew_store_prep(st,
	    "SELECT id, ticket_id, rule_text, reason, expires_at, added_at,"
	    " removed_at, relay, origin, guard, rev, host FROM rules WHERE rev "
	    "> ?1 "
	    "AND rev <= ?2 AND coalesce(host, '') IN ('', ?3)"
	    " ORDER BY rev, id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, cursor);
	ew_store_bind_int64(s, 2, *rev);
	ew_store_bind_text(s, 3, st->scope);
	rc = ew_store_rows(st, s, sizeof(*v), read_rule, NULL, &raw, &len);
	v = raw;
	if (rc != 0) {
		ew_store_rules_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}
