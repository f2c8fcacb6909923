/*
 * hostblock.c - a fleet host's own emergency blocks (schema 14, issue
 * 14).
 *
 * A host's operator may block something at once on that host, with or
 * without the store: the block is enforced there and queued in the
 * host's outbox under a random unique id, then replayed here.  The
 * store keeps it as the host proposed it (host_blocks); the desk sees
 * it, adopts it as a rule of the fleet or removes it.  A replay is a
 * report, not a decision: it does not move the store's revision (a
 * host's role may not), and a uid stored already is no second row.
 * The desk's removal or adoption is a decision: it carries the
 * revision, so a host reads it after its cursor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/digest.h"
#include "store/store.h"
#include "store/store_int.h"

/* [0-9a-z-], 1 to 64: an outbox record's id. */
static int
uid_ok(const char *uid)
{
	size_t i;

	if (uid == NULL)
		return 0;
	for (i = 0; uid[i] != '\0'; i++)
		if (i >= 64 ||
		    !((uid[i] >= 'a' && uid[i] <= 'z') ||
			(uid[i] >= '0' && uid[i] <= '9') || uid[i] == '-'))
			return 0;
	return i > 0;
}

int
ew_store_host_block_replay(
    struct ew_store *st, const struct ew_store_host_block *b)
{
	struct ew_stmt *s;
	int ready = st->rev_ready, rc;

	if (!uid_ok(b->uid) || !ew_store_host_name_ok(b->host) ||
	    b->rule_text == NULL || b->rule_text[0] == '\0' ||
	    strlen(b->rule_text) > 1000 ||
	    (b->reason != NULL && strlen(b->reason) > 1000))
		return -EINVAL;
	/* a report: the outermost transaction does not bump store_rev */
	if (st->depth == 0)
		st->rev_ready = 0;
	rc = ew_store_begin(st);
	st->rev_ready = ready;
	if (rc != 0)
		return rc;
	rc = ew_store_prep(st,
	    "INSERT OR IGNORE INTO host_blocks (uid, host, rule_text, reason,"
	    " expires_at, added_at) VALUES (?, ?, ?, ?, ?, ?)",
	    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, b->uid);
		ew_store_bind_text(s, 2, b->host);
		ew_store_bind_text(s, 3, b->rule_text);
		ew_store_bind_text(s, 4, b->reason);
		ew_store_bind_time(s, 5, b->expires_at);
		ew_store_bind_int64(s, 6, b->added_at);
		rc = ew_store_step_done(st, s);
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

static int
read_host_block(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_host_block *b = row;
	int rc = 0;

	(void)arg;
	b->id = ew_store_col_int64(s, 0);
	rc |= ew_store_col_text(s, 1, &b->uid);
	rc |= ew_store_col_text(s, 2, &b->host);
	rc |= ew_store_col_text(s, 3, &b->rule_text);
	rc |= ew_store_col_text(s, 4, &b->reason);
	b->expires_at = ew_store_col_time(s, 5);
	b->added_at = ew_store_col_int64(s, 6);
	b->removed_at = ew_store_col_time(s, 7);
	b->rule_id = ew_store_col_int64(s, 8);
	b->rev = ew_store_col_int64(s, 9);
	return rc ? -ENOMEM : 0;
}

int
ew_store_host_block_list(struct ew_store *st, int64_t since,
    struct ew_store_host_block **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	/* since < 0: those in force; else those the desk changed after
	 * revision `since` (row-level security: a host's own only) */
	rc = ew_store_prep(st,
	    "SELECT id, uid, host, rule_text, reason, expires_at, added_at,"
	    " removed_at, rule_id, rev FROM host_blocks WHERE"
	    " (?1 < 0 AND removed_at IS NULL) OR (?1 >= 0 AND rev > ?1)"
	    " ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, since);
	rc = ew_store_rows(
	    st, s, sizeof(**out), read_host_block, NULL, &raw, &len);
	if (rc != 0) {
		ew_store_host_blocks_free(raw, len);
		return rc;
	}
	*out = raw;
	*n = len;
	return 0;
}

int
ew_store_host_block_close(
    struct ew_store *st, int64_t id, int64_t at, int64_t rule_id)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_prep(st,
	    "UPDATE host_blocks SET removed_at = ?2, rule_id = ?3,"
	    " rev = " EW_STORE_REV_NOW " WHERE id = ?1 AND removed_at IS NULL",
	    &s);
	if (rc == 0) {
		ew_store_bind_int64(s, 1, id);
		ew_store_bind_int64(s, 2, at);
		if (rule_id > 0)
			ew_store_bind_int64(s, 3, rule_id);
		else
			ew_store_bind_null(s, 3);
		rc = ew_store_step_done(st, s);
		if (rc == 0 && ew_store_changes(s) == 0)
			rc = -ENOENT;
		ew_store_finalize(s);
	}
	if (rc == -ENOENT &&
	    ew_store_prep(st, "SELECT 1 FROM host_blocks WHERE id = ?", &s) ==
		0) {
		ew_store_bind_int64(s, 1, id);
		if (ew_store_step(s) == EW_STORE_ROW)
			rc = -EALREADY;
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

void
ew_store_host_blocks_free(struct ew_store_host_block *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].uid);
		free(v[i].host);
		free(v[i].rule_text);
		free(v[i].reason);
	}
	free(v);
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ew_store_blocks_digest(
    int64_t *ids, size_t nids, char **uids, size_t nuids, char out[65])
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;
	int rc;

	if (nids > 0)
		qsort(ids, nids, sizeof(*ids), cmp_id);
	if (nuids > 0)
		qsort(uids, nuids, sizeof(*uids), cmp_str);
	for (i = 0; i < nids; i++)
		ew_buf_printf(&b, "r%lld\n", (long long)ids[i]);
	for (i = 0; i < nuids; i++)
		ew_buf_printf(&b, "l%s\n", uids[i]);
	rc = b.oom ? -ENOMEM : ew_sha256_hex(ew_buf_str(&b), b.len, out);
	ew_buf_free(&b);
	return rc < 0 ? rc : 0;
}

/* What the desk wants each host to enforce now: the digest of its block
 * set (ew_store_blocks_digest) into h[i].want_blocks. */
int
ew_store_fleet_want(
    struct ew_store *st, struct ew_store_fleet_row *h, size_t nh, int64_t now)
{
	struct ew_store_rule *r = NULL;
	struct ew_store_host_block *b = NULL;
	size_t nr = 0, nb = 0, i, k, ni, nu;
	int64_t *ids = NULL;
	char **uids = NULL;
	int rc;

	if ((rc = ew_store_rule_list_every(st, 0, 1, &r, &nr)) != 0 ||
	    (rc = ew_store_host_block_list(st, -1, &b, &nb)) != 0)
		goto out;
	ids = calloc(nr + 1, sizeof(*ids));
	uids = calloc(nb + 1, sizeof(*uids));
	if (ids == NULL || uids == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nh && rc == 0; i++) {
		for (k = ni = 0; k < nr; k++)
			if (r[k].host == NULL ||
			    strcmp(r[k].host, h[i].host) == 0)
				ids[ni++] = r[k].id;
		for (k = nu = 0; k < nb; k++)
			if (strcmp(b[k].host, h[i].host) == 0 &&
			    (b[k].expires_at == EW_STORE_NO_TIME ||
				b[k].expires_at > now))
				uids[nu++] = b[k].uid;
		rc =
		    ew_store_blocks_digest(ids, ni, uids, nu, h[i].want_blocks);
	}
out:
	free(ids);
	free(uids);
	ew_store_rules_free(r, nr);
	ew_store_host_blocks_free(b, nb);
	return rc;
}
