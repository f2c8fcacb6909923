/*
 * guard.c - what the store keeps for the surge guard: the blocks it
 * decided (rows of "rules" with origin 'surge' and the guard's name, so
 * the managed policy, expiry and the policy history treat them as any
 * block) and aggregate counts per guard.  Nothing about connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Add one to guard_counts.<col> for `guard` (col is ours, not input). */
static int
bump(struct ew_store *st, const char *guard, const char *col)
{
	char sql[200];
	struct ew_stmt *s;
	int rc;

	snprintf(sql, sizeof(sql),
	    "INSERT INTO guard_counts (guard, %s) VALUES (?, 1)"
	    " ON CONFLICT(guard) DO UPDATE SET %s = guard_counts.%s + 1",
	    col, col, col);
	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	ew_store_bind_text(s, 1, guard);
	rc = ew_store_step_done(st, s);
	ew_store_finalize(s);
	return rc;
}

int
ew_store_surge_add(struct ew_store *st, const char *guard,
    const char *rule_text, const char *reason, int64_t expires_at,
    int64_t added_at, int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	*id = 0;
	if (guard == NULL || rule_text == NULL)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_prep(st,
	    "INSERT INTO rules (rule_text, reason, expires_at, added_at,"
	    " origin, guard, rev) VALUES (?, ?, ?, ?, 'surge', "
	    "?, " EW_STORE_REV_NOW ") RETURNING id",
	    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, rule_text);
		ew_store_bind_text(s, 2, reason);
		ew_store_bind_time(s, 3, expires_at);
		ew_store_bind_int64(s, 4, added_at);
		ew_store_bind_text(s, 5, guard);
		rc = ew_store_step_id(s, id);
		ew_store_finalize(s);
	}
	if (rc == 0)
		rc = bump(st, guard, "surges");
	rc = ew_store_end(st, rc);
	if (rc != 0)
		*id = 0;
	return rc;
}

int
ew_store_guard_count(struct ew_store *st, const char *guard, const char *which)
{
	int rc;

	if (guard == NULL || which == NULL ||
	    (strcmp(which, EW_STORE_GUARD_CAPPED) != 0 &&
		strcmp(which, EW_STORE_GUARD_ALLOWED) != 0))
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = bump(st, guard,
	    strcmp(which, EW_STORE_GUARD_CAPPED) == 0 ? "capped" : "allowed");
	return ew_store_end(st, rc);
}

struct surge_row {
	struct ew_store_rule r;
	char *guard;
};

static int
read_surge(struct ew_stmt *s, void *row, void *arg)
{
	struct surge_row *v = row;

	(void)arg;
	v->r.id = ew_store_col_int64(s, 0);
	v->r.ticket_id = 0;
	v->r.expires_at = ew_store_col_time(s, 3);
	v->r.added_at = ew_store_col_int64(s, 4);
	v->r.removed_at = EW_STORE_NO_TIME;
	if (ew_store_col_text(s, 1, &v->r.rule_text) != 0 ||
	    ew_store_col_text(s, 2, &v->r.reason) != 0 ||
	    ew_store_col_text(s, 5, &v->guard) != 0)
		return -ENOMEM;
	return 0;
}

int
ew_store_surge_list(
    struct ew_store *st, struct ew_store_rule **out, char ***guard, size_t *n)
{
	struct surge_row *v;
	struct ew_stmt *s;
	size_t len = 0, i;
	void *raw = NULL;
	int rc;

	*out = NULL;
	*guard = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT id, rule_text, reason, expires_at, added_at, guard"
	    " FROM rules WHERE origin = 'surge' AND removed_at IS NULL"
	    " ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_rows(st, s, sizeof(*v), read_surge, NULL, &raw, &len);
	v = raw;
	if (rc == 0 && len > 0) {
		*out = calloc(len, sizeof(**out));
		*guard = calloc(len, sizeof(**guard));
		if (*out == NULL || *guard == NULL) {
			free(*out);
			free(*guard);
			*out = NULL;
			*guard = NULL;
			rc = -ENOMEM;
		}
	}
	for (i = 0; i < len; i++) {
		if (rc == 0) {
			(*out)[i] = v[i].r;
			(*guard)[i] = v[i].guard;
		} else {
			free(v[i].r.rule_text);
			free(v[i].r.reason);
			free(v[i].guard);
		}
	}
	free(v);
	if (rc == 0)
		*n = len;
	return rc;
}

void
ew_store_surges_free(struct ew_store_rule *v, char **guard, size_t n)
{
	size_t i;

	for (i = 0; guard != NULL && i < n; i++)
		free(guard[i]);
	free(guard);
	ew_store_rules_free(v, n);
}

static int
read_count(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_guard_count *c = row;

	(void)arg;
	c->surges = ew_store_col_int64(s, 1);
	c->capped = ew_store_col_int64(s, 2);
	c->allowed = ew_store_col_int64(s, 3);
	return ew_store_col_text(s, 0, &c->guard);
}

int
ew_store_guard_counts(
    struct ew_store *st, struct ew_store_guard_count **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT guard, surges, capped, allowed FROM guard_counts"
	    " ORDER BY guard",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_rows(st, s, sizeof(**out), read_count, NULL, &raw, &len);
	if (rc != 0) {
		ew_store_guard_counts_free(raw, len);
		return rc;
	}
	*out = raw;
	*n = len;
	return 0;
}

void
ew_store_guard_counts_free(struct ew_store_guard_count *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].guard);
	free(v);
}
