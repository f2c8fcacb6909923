/*
 * repair.c - what the daemon repaired (repair_counts, schema 9): per
 * relay and kind, a count and the time of the last one, for `status`.
 * Aggregate counts only: nothing about traffic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

int
ew_store_repair_count(
    struct ew_store *st, const char *relay, const char *what, int64_t at)
{
	struct ew_stmt *s;
	int rc;

	if (what == NULL || (strcmp(what, EW_STORE_REPAIR_TOR) != 0 &&
				strcmp(what, EW_STORE_REPAIR_TABLE) != 0 &&
				strcmp(what, EW_STORE_REPAIR_BACK) != 0))
		return -EINVAL;
	rc = ew_store_prep(st,
	    "INSERT INTO repair_counts (relay, what, n, last_at)"
	    " VALUES (coalesce(?1, ''), ?2, 1, ?3)"
	    " ON CONFLICT (relay, what) DO UPDATE SET n = repair_counts.n + 1,"
	    " last_at = excluded.last_at",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, relay);
	ew_store_bind_text(s, 2, what);
	ew_store_bind_time(s, 3, at);
	rc = ew_store_step_done(st, s);
	ew_store_finalize(s);
	return rc;
}

static int
read_count(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_repair_count *c = row;

	(void)arg;
	c->n = ew_store_col_int64(s, 2);
	c->last_at = ew_store_col_time(s, 3);
	if (ew_store_col_text(s, 0, &c->relay) != 0 ||
	    ew_store_col_text(s, 1, &c->what) != 0)
		return -ENOMEM;
	return 0;
}

int
ew_store_repair_counts(
    struct ew_store *st, struct ew_store_repair_count **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT relay, what, n, last_at FROM repair_counts"
	    " ORDER BY relay, what",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_rows(st, s, sizeof(**out), read_count, NULL, &raw, n);
	*out = raw;
	if (rc != 0) {
		ew_store_repair_counts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void
ew_store_repair_counts_free(struct ew_store_repair_count *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].relay);
		free(v[i].what);
	}
	free(v);
}
