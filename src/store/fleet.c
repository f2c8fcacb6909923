/*
 * fleet.c - the fleet's hosts, relays, exit addresses and apply reports
 * (schema 12, issue 14).
 *
 * One store (PostgreSQL) serves the desk and every host.  The desk
 * registers hosts and relays and decides blocks (rules, with a host
 * scope); each host pulls the rules for its scope and reports what it
 * applied here (applies).  Reports are not decisions: writing one does
 * not bump the store's revision, so a host's role needs no write access
 * to anything but applies.  Nothing here is about traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

/* The role running the query, as text in the column's collation:
 * current_user is a `name` (collation "C"), which compared with the
 * text column as it is scans every host (0.1 ms a query at 1,000
 * hosts) instead of using hosts_role_key (0.01 ms; bench_fleet -e). */
#define CURRENT_ROLE "current_user::text COLLATE \"default\""

int
ew_store_host_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || !(name[0] >= 'a' && name[0] <= 'z'))
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= 40 || !((c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int
fp_ok(const char *fp)
{
	size_t i;

	if (fp == NULL || strlen(fp) != 40)
		return 0;
	for (i = 0; i < 40; i++)
		if (!((fp[i] >= '0' && fp[i] <= '9') ||
			(fp[i] >= 'A' && fp[i] <= 'F')))
			return 0;
	return 1;
}

/* Whether a row answers `sql` with one text parameter: 1, 0, or -errno. */
static int
exists(struct ew_store *st, const char *sql, const char *arg)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	ew_store_bind_text(s, 1, arg);
	rc = ew_store_step(s);
	ew_store_finalize(s);
	return rc == EW_STORE_ROW ? 1 : rc;
}

int
ew_store_set_scope(struct ew_store *st, const char *host)
{
	if (host != NULL && !ew_store_host_name_ok(host))
		return -EINVAL;
	snprintf(st->scope, sizeof(st->scope), "%s", host ? host : "");
	/* a host decides nothing: its writes (apply reports) are no new
	 * revision, and its role may not move store_rev */
	if (host != NULL)
		st->rev_ready = 0;
	return 0;
}

int
ew_store_host_add(
    struct ew_store *st, const char *name, const char *role, int64_t at)
{
	struct ew_stmt *s;
	int rc;

	if (!ew_store_host_name_ok(name) || role == NULL || role[0] == '\0')
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exists(st, "SELECT 1 FROM hosts WHERE name = ?", name);
	if (rc == 0)
		rc = exists(st, "SELECT 1 FROM hosts WHERE role = ?", role);
	if (rc == 1) {
		ew_store_set_err(st, "host or role already known");
		rc = -EEXIST;
	}
	if (rc == 0)
		rc = ew_store_prep(st,
		    "INSERT INTO hosts (name, role, added_at) VALUES (?, ?, ?)",
		    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, name);
		ew_store_bind_text(s, 2, role);
		ew_store_bind_int64(s, 3, at);
		rc = ew_store_step_done(st, s);
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

int
ew_store_relay_add(struct ew_store *st, const char *fp, const char *nickname,
    const char *host, const char *instance, int64_t at)
{
	struct ew_stmt *s;
	int rc;

	if (!fp_ok(fp) || host == NULL || instance == NULL ||
	    instance[0] == '\0' || strlen(instance) > 64 ||
	    (nickname != NULL && strlen(nickname) > 19))
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exists(st, "SELECT 1 FROM hosts WHERE name = ?", host);
	if (rc == 0) {
		ew_store_set_err(st, "no host '%s'", host);
		rc = -ENOENT;
	} else if (rc == 1)
		rc = ew_store_prep(st,
		    "INSERT OR IGNORE INTO relays (fp, nickname, host, "
		    "instance,"
		    " added_at) VALUES (?, ?, ?, ?, ?)",
		    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, fp);
		ew_store_bind_text(s, 2, nickname);
		ew_store_bind_text(s, 3, host);
		ew_store_bind_text(s, 4, instance);
		ew_store_bind_int64(s, 5, at);
		if ((rc = ew_store_step_done(st, s)) == 0 &&
		    ew_store_changes(s) == 0) {
			ew_store_set_err(st, "relay or instance already known");
			rc = -EEXIST;
		}
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

/* Run sql with ?1 fp, ?2 addr, ?3 from (the statements of relay_addr). */
static int
exec_addr(struct ew_store *st, const char *sql, const char *fp,
    const char *addr, int64_t from)
{
	struct ew_stmt *s;
	int rc;

	if ((rc = ew_store_prep(st, sql, &s)) != 0)
		return rc;
	ew_store_bind_text(s, 1, fp);
	ew_store_bind_text(s, 2, addr);
	ew_store_bind_int64(s, 3, from);
	rc = ew_store_step_done(st, s);
	ew_store_finalize(s);
	return rc;
}

int
ew_store_relay_addr(
    struct ew_store *st, const char *fp, const char *addr, int64_t from)
{
	int rc;

	if (addr == NULL || strlen(addr) < 2 || strlen(addr) > 45)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = exists(st, "SELECT 1 FROM relays WHERE fp = ?", fp);
	if (rc == 0) {
		ew_store_set_err(st, "no relay '%s'", fp != NULL ? fp : "");
		rc = -ENOENT;
	} else if (rc == 1) {
		rc = exec_addr(st,
		    "UPDATE relay_addrs SET valid_to = ?3 WHERE fp = ?1"
		    " AND valid_to IS NULL AND addr <> ?2 AND valid_from <= ?3",
		    fp, addr, from);
	}
	if (rc == 0)
		rc = exec_addr(st,
		    "INSERT INTO relay_addrs (fp, addr, valid_from)"
		    " SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM"
		    " relay_addrs WHERE fp = ?1 AND addr = ?2 AND valid_to IS "
		    "NULL)",
		    fp, addr, from);
	return ew_store_end(st, rc);
}

void
ew_store_relay_addrs_free(struct ew_store_relay_addr *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].fp);
		free(v[i].host);
		free(v[i].instance);
		free(v[i].addr);
	}
	free(v);
}

static int
read_addr(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_relay_addr *a = row;
	int rc;

	(void)arg;
	rc = ew_store_col_text(s, 0, &a->fp);
	if (rc == 0)
		rc = ew_store_col_text(s, 1, &a->host);
	if (rc == 0)
		rc = ew_store_col_text(s, 2, &a->instance);
	if (rc == 0)
		rc = ew_store_col_text(s, 3, &a->addr);
	a->valid_from = ew_store_col_int64(s, 4);
	a->valid_to = ew_store_col_time(s, 5);
	return rc;
}

int
ew_store_fleet_addrs_during(struct ew_store *st, int64_t from, int64_t to,
    struct ew_store_relay_addr **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT a.fp, r.host, r.instance, a.addr, a.valid_from,"
	    " a.valid_to FROM relay_addrs a JOIN relays r ON r.fp = a.fp"
	    " WHERE (CAST(?2 AS BIGINT) IS NULL OR a.valid_from <= ?2)"
	    " AND (CAST(?1 AS BIGINT) IS NULL OR a.valid_to IS NULL"
	    " OR ?1 < a.valid_to) ORDER BY a.valid_from, a.fp, a.addr",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_time(s, 1, from);
	ew_store_bind_time(s, 2, to);
	rc = ew_store_rows(st, s, sizeof(struct ew_store_relay_addr), read_addr,
	    NULL, &raw, n);
	*out = raw;
	if (rc != 0) {
		ew_store_relay_addrs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* [0-9a-z-], 1 to 64: an outbox record's id. */
static int
uid_ok(const char *uid)
{
	size_t i;

	for (i = 0; uid[i] != '\0'; i++)
		if (i >= 64 ||
		    !((uid[i] >= 'a' && uid[i] <= 'z') ||
			(uid[i] >= '0' && uid[i] <= '9') || uid[i] == '-'))
			return 0;
	return i > 0;
}

int
ew_store_apply_report(struct ew_store *st, const struct ew_store_apply_rec *r)
{
	struct ew_stmt *s;
	const char *error = r->error;
	int ready = st->rev_ready, rc;

	if (r->host == NULL || r->digest == NULL || r->digest[0] == '\0' ||
	    strlen(r->digest) > 128 || r->rev < 0 || r->outbox < 0 ||
	    r->repairs < 0 || (r->uid != NULL && !uid_ok(r->uid)) ||
	    (r->relay != NULL && strlen(r->relay) > 64) ||
	    (r->blocks != NULL &&
		(r->blocks[0] == '\0' || strlen(r->blocks) > 128)))
		return -EINVAL;
	/* a report: the outermost transaction does not bump store_rev */
	if (st->depth == 0)
		st->rev_ready = 0;
	rc = ew_store_begin(st);
	st->rev_ready = ready;
	if (rc != 0)
		return rc;
	/* OR IGNORE: a uid stored already (a replay) is no second row */
	rc = ew_store_prep(st,
	    "INSERT OR IGNORE INTO applies (host, relay, digest, rev,"
	    " applied_at, ok, error, uid, outbox, blocks, repairs) VALUES (?,"
	    " coalesce(?, ''), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &s);
	if (rc == 0) {
		ew_store_bind_text(s, 1, r->host);
		ew_store_bind_text(s, 2, r->relay);
		ew_store_bind_text(s, 3, r->digest);
		ew_store_bind_int64(s, 4, r->rev);
		ew_store_bind_int64(s, 5, r->at);
		ew_store_bind_int64(s, 6, r->ok ? 1 : 0);
		if (error != NULL && strlen(error) > 200)
			error = "(error message too long)";
		ew_store_bind_text(s, 7, r->ok ? NULL : error);
		ew_store_bind_text(s, 8, r->uid);
		ew_store_bind_int64(s, 9, r->outbox);
		ew_store_bind_text(s, 10, r->blocks);
		ew_store_bind_int64(s, 11, r->repairs);
		rc = ew_store_step_done(st, s);
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

int
ew_store_apply_add(struct ew_store *st, const char *host, const char *relay,
    const char *digest, int64_t rev, int64_t at, int ok, const char *error)
{
	struct ew_store_apply_rec r;

	memset(&r, 0, sizeof(r));
	r.host = host;
	r.relay = relay;
	r.digest = digest;
	r.rev = rev;
	r.at = at;
	r.ok = ok;
	r.error = error;
	return ew_store_apply_report(st, &r);
}

int
ew_store_apply_replay(struct ew_store *st, const char *uid, int64_t outbox,
    const char *host, const char *digest, int64_t rev, int64_t at, int ok,
    const char *error)
{
	struct ew_store_apply_rec r;

	if (uid == NULL)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.uid = uid;
	r.outbox = outbox;
	r.host = host;
	r.digest = digest;
	r.rev = rev;
	r.at = at;
	r.ok = ok;
	r.error = error;
	return ew_store_apply_report(st, &r);
}

int
ew_store_host_self(struct ew_store *st, char *out, size_t cap)
{
	struct ew_stmt *s;
	int rc;

	if (strcmp(ew_store_backend(st), "postgresql") != 0)
		return -ENOENT;
	if ((rc = ew_store_prep(st,
		 "SELECT name FROM hosts WHERE role = " CURRENT_ROLE, &s)) != 0)
		return rc;
	if ((rc = ew_store_step(s)) == EW_STORE_ROW) {
		snprintf(out, cap, "%s", ew_store_col_str(s, 0));
		rc = 0;
	} else if (rc == 0)
		rc = -ENOENT;
	ew_store_finalize(s);
	return rc;
}

static int
read_fleet_row(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_fleet_row *r = row;
	int rc = 0;

	(void)arg;
	rc |= ew_store_col_text(s, 0, &r->host);
	rc |= ew_store_col_text(s, 1, &r->role);
	rc |= ew_store_col_text(s, 2, &r->fp);
	rc |= ew_store_col_text(s, 3, &r->nickname);
	rc |= ew_store_col_text(s, 4, &r->instance);
	r->relays = ew_store_col_int64(s, 5);
	r->last_rev = ew_store_col_null(s, 6) ? -1 : ew_store_col_int64(s, 6);
	r->last_at = ew_store_col_time(s, 7);
	r->last_ok = (int)ew_store_col_int64(s, 8);
	rc |= ew_store_col_text(s, 9, &r->last_digest);
	r->outbox = ew_store_col_null(s, 10) ? 0 : ew_store_col_int64(s, 10);
	rc |= ew_store_col_text(s, 11, &r->last_blocks);
	r->repairs = ew_store_col_null(s, 12) ? 0 : ew_store_col_int64(s, 12);
	return rc ? -ENOMEM : 0;
}

/* The last report of a host (?relay '' for its table of all). */
#define LAST_APPLY(col, where)                                                 \
	"(SELECT " col " FROM applies a WHERE " where                          \
	" ORDER BY a.applied_at DESC, a.id DESC LIMIT 1)"
#define HOST_WHERE "a.host = h.name"
#define RELAY_WHERE "a.host = r.host AND a.relay IN (r.instance, '')"

int
ew_store_fleet_list(
    struct ew_store *st, int relays, struct ew_store_fleet_row **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!relays)
		rc = ew_store_prep(st,
		    "SELECT h.name, h.role, NULL, NULL, NULL,"
		    " (SELECT count(*) FROM relays r WHERE r.host = "
		    "h.name), " LAST_APPLY("a.rev", HOST_WHERE
			" AND a.ok = 1") ", " LAST_APPLY("a.applied_at",
			HOST_WHERE) ", " LAST_APPLY("a.ok",
			HOST_WHERE) ", " LAST_APPLY("a.digest",
			HOST_WHERE) ", " LAST_APPLY("a.outbox",
			HOST_WHERE) ", " LAST_APPLY("a.blocks",
			HOST_WHERE " AN"
				   "D "
				   "a."
				   "ok "
				   "= "
				   "1 "
				   "AND"
				   " a."
				   "blo"
				   "cks"
				   " IS"
				   " NO"
				   "T "
				   "NUL"
				   "L") ", " LAST_APPLY("a.repairs",
			HOST_WHERE) " FROM hosts h ORDER BY h.name",
		    &s);
	else
		rc = ew_store_prep(st,
		    "SELECT r.host, NULL, r.fp, r.nickname, r.instance, "
		    "0, " LAST_APPLY("a.rev", RELAY_WHERE
			" AND a.ok = 1") ", " LAST_APPLY("a.applied_at",
			RELAY_WHERE) ", " LAST_APPLY("a.ok",
			RELAY_WHERE) ", " LAST_APPLY("a.digest",
			RELAY_WHERE) ", " LAST_APPLY("a.outbox",
			RELAY_WHERE) ", " LAST_APPLY("a.blocks",
			RELAY_WHERE " AND a.ok = 1 AND a.blocks IS NOT "
				    "NULL") ", " LAST_APPLY("a.repairs",
			RELAY_WHERE) " FROM relays r ORDER BY r.host, "
				     "r.instance",
		    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_rows(
	    st, s, sizeof(**out), read_fleet_row, NULL, &raw, &len);
	if (rc != 0) {
		ew_store_fleet_free(raw, len);
		return rc;
	}
	*out = raw;
	*n = len;
	return 0;
}

void
ew_store_fleet_free(struct ew_store_fleet_row *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].role);
		free(v[i].fp);
		free(v[i].nickname);
		free(v[i].instance);
		free(v[i].last_digest);
		free(v[i].last_blocks);
	}
	free(v);
}

/* The host names of the role running the query (a subquery for the
 * policies: RLS on hosts keeps it to the role's own row). */
#define MY_HOSTS "(SELECT h.name FROM hosts h WHERE h.role = " CURRENT_ROLE ")"

static const char policy_sql[] =
    "ALTER TABLE rules ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE hosts ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE relays ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE relay_addrs ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE applies ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE host_blocks ENABLE ROW LEVEL SECURITY;\n"
    "ALTER TABLE policy_versions ENABLE ROW LEVEL SECURITY;\n"
    "DROP POLICY IF EXISTS ew_host_own ON hosts;\n"
    "CREATE POLICY ew_host_own ON hosts FOR SELECT\n"
    "    USING (role = " CURRENT_ROLE ");\n"
    "DROP POLICY IF EXISTS ew_host_rules ON rules;\n"
    "CREATE POLICY ew_host_rules ON rules FOR SELECT\n"
    "    USING (pending IS NULL AND (host IS NULL OR host IN " MY_HOSTS "));\n"
    "DROP POLICY IF EXISTS ew_host_relays ON relays;\n"
    "CREATE POLICY ew_host_relays ON relays FOR SELECT\n"
    "    USING (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_relay_addrs ON relay_addrs;\n"
    "CREATE POLICY ew_host_relay_addrs ON relay_addrs FOR SELECT\n"
    "    USING (fp IN (SELECT r.fp FROM relays r));\n"
    "DROP POLICY IF EXISTS ew_host_applies_read ON applies;\n"
    "CREATE POLICY ew_host_applies_read ON applies FOR SELECT\n"
    "    USING (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_applies_add ON applies;\n"
    "CREATE POLICY ew_host_applies_add ON applies FOR INSERT\n"
    "    WITH CHECK (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_blocks_read ON host_blocks;\n"
    "CREATE POLICY ew_host_blocks_read ON host_blocks FOR SELECT\n"
    "    USING (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_blocks_add ON host_blocks;\n"
    "CREATE POLICY ew_host_blocks_add ON host_blocks FOR INSERT\n"
    "    WITH CHECK (host IN " MY_HOSTS " AND removed_at IS NULL\n"
    "    AND rule_id IS NULL AND rev = 0);\n"
    /* what its relays applied (schema 15): its own history only, the
     * desk's (host NULL) and other hosts' neither read nor written;
     * the role SQL grants UPDATE of applied_to alone */
    "DROP POLICY IF EXISTS ew_host_versions_read ON policy_versions;\n"
    "CREATE POLICY ew_host_versions_read ON policy_versions FOR SELECT\n"
    "    USING (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_versions_add ON policy_versions;\n"
    "CREATE POLICY ew_host_versions_add ON policy_versions FOR INSERT\n"
    "    WITH CHECK (host IN " MY_HOSTS ");\n"
    "DROP POLICY IF EXISTS ew_host_versions_end ON policy_versions;\n"
    "CREATE POLICY ew_host_versions_end ON policy_versions FOR UPDATE\n"
    "    USING (host IN " MY_HOSTS ")\n"
    "    WITH CHECK (host IN " MY_HOSTS ");\n";

const char *
ew_store_fleet_policy_sql(void)
{
	return policy_sql;
}

static int plain_word(const char *s);

/*
 * The hosts' roles made before schema 14 were granted nothing on
 * host_blocks, before schema 15 nothing on policy_versions: grant them
 * to every host role that exists (a role not made yet gets them from
 * the SQL add-host printed).  0 or -errno.
 */
static int
grant_new(struct ew_store *st)
{
	struct ew_stmt *s;
	char sql[200];
	char **roles = NULL, **more;
	size_t n = 0, i;
	int rc;

	if ((rc = ew_store_prep(st,
		 "SELECT role FROM hosts WHERE role IN"
		 " (SELECT rolname FROM pg_roles) ORDER BY role",
		 &s)) != 0)
		return rc;
	while ((rc = ew_store_step(s)) == EW_STORE_ROW) {
		const char *r = ew_store_col_str(s, 0);

		if (r == NULL || !plain_word(r))
			continue;
		if ((more = realloc(roles, (n + 1) * sizeof(*roles))) == NULL ||
		    (more[n] = strdup(r)) == NULL) {
			roles = more != NULL ? more : roles;
			rc = -ENOMEM;
			break;
		}
		roles = more;
		n++;
	}
	ew_store_finalize(s);
	for (i = 0; rc == 0 && i < n; i++) {
		snprintf(sql, sizeof(sql),
		    "GRANT SELECT, INSERT ON host_blocks TO %s", roles[i]);
		rc = ew_store_exec(st, sql);
		snprintf(sql, sizeof(sql),
		    "GRANT SELECT, INSERT, UPDATE (applied_to) ON"
		    " policy_versions TO %s",
		    roles[i]);
		if (rc == 0)
			rc = ew_store_exec(st, sql);
	}
	for (i = 0; i < n; i++)
		free(roles[i]);
	free(roles);
	return rc;
}

int
ew_store_fleet_init(struct ew_store *st)
{
	int ready = st->rev_ready, rc;

	if (strcmp(ew_store_backend(st), "postgresql") != 0) {
		ew_store_set_err(st, "a fleet needs a PostgreSQL store (--db "
				     "postgresql://...)");
		return -ENOTSUP;
	}
	/* policies are no decision of the desk: no new revision */
	if (st->depth == 0)
		st->rev_ready = 0;
	rc = ew_store_begin(st);
	st->rev_ready = ready;
	if (rc != 0)
		return rc;
	rc = ew_store_exec(st, policy_sql);
	if (rc == 0)
		rc = grant_new(st);
	return ew_store_end(st, rc);
}

/* Whether s is 1 to 63 of [a-z0-9_] (a role name or a hex password
 * that needs no quoting). */
static int
plain_word(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 63 || !((s[i] >= 'a' && s[i] <= 'z') ||
				   (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i > 0;
}

char *
ew_store_fleet_role_sql(const char *role, const char *password)
{
	static const char fmt[] =
	    "CREATE ROLE %s LOGIN%s%s%s;\n"
	    "GRANT SELECT ON ew_schema_version, store_rev, rules, hosts,"
	    " relays, relay_addrs TO %s;\n"
	    "GRANT SELECT, INSERT ON applies, host_blocks TO %s;\n"
	    "GRANT SELECT, INSERT, UPDATE (applied_to) ON policy_versions"
	    " TO %s;\n";
	char *out;
	int len;

	if (!plain_word(role) || (password != NULL && !plain_word(password)))
		return NULL;
	len = snprintf(NULL, 0, fmt, role, password ? " PASSWORD '" : "",
	    password ? password : "", password ? "'" : "", role, role, role);
	if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
		return NULL;
	snprintf(out, (size_t)len + 1, fmt, role, password ? " PASSWORD '" : "",
	    password ? password : "", password ? "'" : "", role, role, role);
	return out;
}
