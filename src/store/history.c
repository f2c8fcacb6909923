/*
 * history.c - the policy history: every policy version applied, with the
 * time range it was in force.
 *
 * Each relay's versions (policy_versions.relay; '' the host's only
 * relay) form one timeline without gaps or overlaps once the first
 * is recorded: recording a new version ends the one in force (applied_to
 * = the new one's applied_from), so "the version in force at T" is the
 * one row with applied_from <= T < applied_to, or applied_to NULL.
 *
 * A fleet host (a handle with ew_store_set_scope) records its relays'
 * versions under its name (policy_versions.host, schema 15): one
 * timeline per host and relay, and its reads see its own.  The store's
 * own host (the desk, a single host) has host NULL; its reads leave the
 * fleet's out, and ew_store_fleet_versions_during returns those.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

void
ew_store_policy_version_free(struct ew_store_policy_version *v)
{
	if (v == NULL)
		return;
	free(v->digest);
	free(v->text);
	free(v->relay);
	free(v->host);
	free(v);
}

/* The host whose history this handle keeps: its scope, or NULL. */
static const char *
own_host(const struct ew_store *st)
{
	return st->scope[0] != '\0' ? st->scope : NULL;
}

/* The version in force now (applied_to NULL), or *cur = NULL. */
static int
current(struct ew_store *st, const char *relay,
    struct ew_store_policy_version **cur)
{
	struct ew_store_policy_version *v;
	struct ew_stmt *s;
	int rc;

	*cur = NULL;
	rc = ew_store_prep(st,
	    "SELECT id, digest, applied_from FROM policy_versions"
	    " WHERE applied_to IS NULL AND relay = ? AND host IS ?"
	    " ORDER BY applied_from DESC LIMIT 1",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, relay);
	ew_store_bind_text(s, 2, own_host(st));
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		if ((v = calloc(1, sizeof(*v))) == NULL) {
			ew_store_finalize(s);
			return -ENOMEM;
		}
		v->id = ew_store_col_int64(s, 0);
		rc = ew_store_col_text(s, 1, &v->digest);
		v->applied_from = ew_store_col_int64(s, 2);
		v->applied_to = EW_STORE_NO_TIME;
		if (rc != 0)
			ew_store_policy_version_free(v);
		else
			*cur = v;
	}
	ew_store_finalize(s);
	return rc;
}

static int
record(struct ew_store *st, const struct ew_store_policy_version *cur,
    const char *relay, const char *digest, const char *text, int64_t at,
    int64_t *id)
{
	struct ew_stmt *s;
	int rc;

	if (cur != NULL) {
		rc = ew_store_prep(st,
		    "UPDATE policy_versions SET applied_to = ? WHERE id = ?",
		    &s);
		if (rc != 0)
			return rc;
		ew_store_bind_int64(s, 1, at);
		ew_store_bind_int64(s, 2, cur->id);
		rc = ew_store_step_done(st, s);
		ew_store_finalize(s);
		if (rc != 0)
			return rc;
	}
	rc = ew_store_prep(st,
	    "INSERT INTO policy_versions (digest, text, applied_from, relay,"
	    " host) VALUES (?, ?, ?, ?, ?) RETURNING id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, digest);
	ew_store_bind_text(s, 2, text);
	ew_store_bind_int64(s, 3, at);
	ew_store_bind_text(s, 4, relay);
	ew_store_bind_text(s, 5, own_host(st));
	rc = ew_store_step_id(s, id);
	ew_store_finalize(s);
	return rc;
}

int
ew_store_policy_record(struct ew_store *st, const char *digest,
    const char *text, int64_t at, int64_t *id)
{
	return ew_store_policy_record_relay(st, "", digest, text, at, id);
}

int
ew_store_policy_record_relay(struct ew_store *st, const char *relay,
    const char *digest, const char *text, int64_t at, int64_t *id)
{
	struct ew_store_policy_version *cur = NULL;
	int rc;

	*id = 0;
	if (relay == NULL)
		relay = "";
	if (digest == NULL || text == NULL || at == EW_STORE_NO_TIME ||
	    strlen(relay) > 64)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = current(st, relay, &cur);
	if (rc == 0 && cur != NULL && strcmp(cur->digest, digest) == 0) {
		*id = cur->id; /* already in force: nothing to do */
		ew_store_policy_version_free(cur);
		ew_store_rollback(st);
		return 0;
	}
	/* Applied in the same second as the one in force (or, the clock
	 * stepped back, before it): that one keeps its second (incidents
	 * in it are judged by it), the new one starts at the next.  The
	 * history only goes forward. */
	if (rc == 0 && cur != NULL && at <= cur->applied_from)
		at = cur->applied_from + 1;
	if (rc == 0)
		rc = record(st, cur, relay, digest, text, at, id);
	ew_store_policy_version_free(cur);
	rc = ew_store_end(st, rc);
	if (rc != 0)
		*id = 0;
	return rc;
}

void
ew_store_policy_versions_free(struct ew_store_policy_version *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].digest);
		free(v[i].text);
		free(v[i].relay);
		free(v[i].host);
	}
	free(v);
}

static int
read_version(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_policy_version *v = row;
	int rc;

	(void)arg;
	v->id = ew_store_col_int64(s, 0);
	rc = ew_store_col_text(s, 1, &v->digest);
	if (rc == 0)
		rc = ew_store_col_text(s, 2, &v->text);
	v->applied_from = ew_store_col_int64(s, 3);
	v->applied_to = ew_store_col_time(s, 4);
	if (rc == 0)
		rc = ew_store_col_text(s, 5, &v->relay);
	if (rc == 0)
		rc = ew_store_col_text(s, 6, &v->host);
	return rc;
}

/* The versions of [from, to]: the handle's own host's (fleet 0), or
 * every fleet host's (fleet 1). */
static int
during(struct ew_store *st, int fleet, int64_t from, int64_t to,
    struct ew_store_policy_version **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    fleet ? "SELECT id, digest, text, applied_from, applied_to, relay,"
		    " host FROM policy_versions WHERE (CAST(?2 AS BIGINT) IS"
		    " NULL OR applied_from <= ?2)"
		    " AND (CAST(?1 AS BIGINT) IS NULL OR applied_to IS NULL"
		    " OR ?1 < applied_to) AND host IS NOT NULL"
		    " ORDER BY applied_from, id"
		  : "SELECT id, digest, text, applied_from, applied_to, relay,"
		    " host FROM policy_versions WHERE (CAST(?2 AS BIGINT) IS"
		    " NULL OR applied_from <= ?2)"
		    " AND (CAST(?1 AS BIGINT) IS NULL OR applied_to IS NULL"
		    " OR ?1 < applied_to) AND host IS ?3"
		    " ORDER BY applied_from, id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_time(s, 1, from);
	ew_store_bind_time(s, 2, to);
	if (!fleet)
		ew_store_bind_text(s, 3, own_host(st));
	rc = ew_store_rows(st, s, sizeof(struct ew_store_policy_version),
	    read_version, NULL, &raw, n);
	*out = raw;
	if (rc != 0) {
		ew_store_policy_versions_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int
ew_store_policy_during(struct ew_store *st, int64_t from, int64_t to,
    struct ew_store_policy_version **out, size_t *n)
{
	return during(st, 0, from, to, out, n);
}

int
ew_store_fleet_versions_during(struct ew_store *st, int64_t from, int64_t to,
    struct ew_store_policy_version **out, size_t *n)
{
	return during(st, 1, from, to, out, n);
}

int
ew_store_policy_at(
    struct ew_store *st, int64_t t, struct ew_store_policy_version **out)
{
	struct ew_store_policy_version *v;
	size_t n;
	int rc;

	*out = NULL;
	if (t == EW_STORE_NO_TIME)
		return -EINVAL;
	if ((rc = ew_store_policy_during(st, t, t, &v, &n)) != 0)
		return rc;
	if (n == 0) {
		free(v);
		return -ENOENT;
	}
	/* One version per relay: with several, the one applied last. */
	if ((*out = malloc(sizeof(**out))) == NULL) {
		ew_store_policy_versions_free(v, n);
		return -ENOMEM;
	}
	**out = v[n - 1];
	ew_store_policy_versions_free(v, n - 1); /* all but the last */
	return 0;
}

int
ew_store_policy_signature(struct ew_store *st, char *out, size_t cap)
{
	struct ew_stmt *s;
	const char *dg;
	int rc;

	if (cap > 0)
		out[0] = '\0';
	rc = ew_store_prep(st,
	    "SELECT count(*), max(id), (SELECT digest FROM policy_versions"
	    " ORDER BY id DESC LIMIT 1) FROM policy_versions",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		dg = ew_store_col_str(s, 2);
		snprintf(out, cap, "%lld:%lld:%s",
		    (long long)ew_store_col_int64(s, 0),
		    (long long)ew_store_col_int64(s, 1), dg ? dg : "");
		rc = 0;
	} else {
		rc = rc == 0 ? -EIO : rc;
	}
	ew_store_finalize(s);
	return rc;
}
