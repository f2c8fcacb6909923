/*
 * db.c - opening and closing the store, schema migrations, transactions
 * and the statement helpers the other files share, over the driver of
 * the back end the target names (sqlite.c or pg.c).
 *
 * Migrations come from the embedded list in schema.c and are keyed by
 * the schema version (SQLite's PRAGMA user_version, PostgreSQL's
 * ew_schema_version table): a database at version k runs migrations
 * k+1..N, each in its own transaction that also sets the version, so a
 * crash between two leaves a consistent database at an intermediate
 * version.  A database already at N is left untouched; one above N
 * (made by a newer exitwarden) is refused with -ENOTSUP.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

void
ew_store_set_err(struct ew_store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

/* The libpq connection keywords a keyword=value target may start with. */
static const char *const pg_keywords[] = { "application_name",
	"channel_binding", "client_encoding", "connect_timeout", "dbname",
	"gssencmode", "host", "hostaddr", "keepalives", "options", "passfile",
	"password", "port", "requirepeer", "service", "sslcert", "sslkey",
	"sslmode", "sslrootcert", "target_session_attrs", "tcp_user_timeout",
	"user" };

int
ew_store_is_server(const char *target)
{
	size_t i, len;

	if (target == NULL)
		return 0;
	if (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0)
		return 1;
	while (isspace((unsigned char)*target))
		target++;
	for (i = 0; i < sizeof(pg_keywords) / sizeof(pg_keywords[0]); i++) {
		len = strlen(pg_keywords[i]);
		if (strncmp(target, pg_keywords[i], len) != 0)
			continue;
		target += len;
		while (isspace((unsigned char)*target))
			target++;
		return *target == '=';
	}
	return 0;
}

void
ew_store_target_label(const char *target, char *out, size_t cap)
{
	const char *at, *colon, *slash, *p, *end;
	size_t n = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (target == NULL)
		return;
	if (strncmp(target, "postgres", 8) == 0 &&
	    (p = strstr(target, "://")) != NULL) {
		/* scheme://user:secret@host/...: drop ":secret" */
		p += 3;
		slash = strchr(p, '/');
		at = strchr(p, '@');
		if (at != NULL && (slash == NULL || at < slash) &&
		    (colon = memchr(p, ':', (size_t)(at - p))) != NULL) {
			snprintf(out, cap, "%.*s:***%s", (int)(colon - target),
			    target, at);
			return;
		}
		snprintf(out, cap, "%s", target);
		return;
	}
	/* keyword=value ...: the value of password=... becomes *** */
	for (p = target; *p != '\0' && n + 1 < cap;) {
		if (strncmp(p, "password", 8) == 0 &&
		    (p == target || isspace((unsigned char)p[-1]))) {
			end = p + 8;
			while (isspace((unsigned char)*end))
				end++;
			if (*end == '=') {
				n += (size_t)snprintf(
				    out + n, cap - n, "password=***");
				if (n >= cap)
					break;
				for (end++; isspace((unsigned char)*end); end++)
					;
				if (*end == '\'') {
					for (end++;
					     *end != '\0' && *end != '\'';
					     end++)
						if (*end == '\\' && end[1])
							end++;
					if (*end == '\'')
						end++;
				} else {
					while (*end != '\0' &&
					       !isspace((unsigned char)*end))
						end++;
				}
				p = end;
				continue;
			}
		}
		out[n++] = *p++;
	}
	out[n < cap ? n : cap - 1] = '\0';
}

int
ew_store_exec(struct ew_store *st, const char *sql)
{
	return st->drv->exec(st, sql);
}

int
ew_store_prep(struct ew_store *st, const char *sql, struct ew_stmt **out)
{
	*out = NULL;
	return st->drv->prepare(st, sql, out);
}

int
ew_store_step(struct ew_stmt *s)
{
	return s->st->drv->step(s);
}

int
ew_store_step_done(struct ew_store *st, struct ew_stmt *s)
{
	int rc = st->drv->step(s);

	return rc == EW_STORE_ROW ? 0 : rc;
}

int
ew_store_step_later(struct ew_stmt *s)
{
	if (s->st->depth > 0 && s->st->drv->step_later != NULL)
		return s->st->drv->step_later(s);
	return ew_store_step_done(s->st, s);
}

int
ew_store_step_id(struct ew_stmt *s, int64_t *id)
{
	int rc = ew_store_step(s);

	if (rc == EW_STORE_ROW) {
		*id = ew_store_col_int64(s, 0);
		return 0;
	}
	if (rc == 0) {
		ew_store_set_err(s->st, "an insert returned no id");
		return -EIO;
	}
	return rc;
}

void
ew_store_finalize(struct ew_stmt *s)
{
	if (s != NULL)
		s->st->drv->finalize(s);
}

void
ew_store_reset(struct ew_stmt *s)
{
	s->st->drv->reset(s);
}

int
ew_store_nparams(struct ew_stmt *s)
{
	return s->st->drv->nparams(s);
}

int64_t
ew_store_changes(struct ew_stmt *s)
{
	return s->st->drv->changes(s);
}

/*
 * Transactions nest: the outermost is the driver's BEGIN (writers
 * serialised until COMMIT), inner ones are savepoints, so a caller can
 * make several of the functions below (each its own transaction) one
 * all-or-nothing change.
 */
int
ew_store_begin(struct ew_store *st)
{
	char sql[48];
	int rc;

	if (st->depth == 0)
		rc = st->drv->begin(st);
	else {
		snprintf(sql, sizeof(sql), "SAVEPOINT ew%u", st->depth);
		rc = ew_store_exec(st, sql);
	}
	if (rc == 0)
		st->depth++;
	return rc;
}

int
ew_store_commit(struct ew_store *st)
{
	char sql[48];
	int rc;

	if (st->depth == 0)
		return -EINVAL;
	if (st->depth > 1) {
		snprintf(sql, sizeof(sql), "RELEASE ew%u", st->depth - 1);
		if ((rc = ew_store_exec(st, sql)) != 0)
			ew_store_rollback(st);
		else
			st->depth--;
		return rc;
	}
	if ((rc = st->drv->commit(st)) != 0) {
		ew_store_rollback(st);
		return rc;
	}
	st->depth = 0;
	return 0;
}

void
ew_store_rollback(struct ew_store *st)
{
	char sql[64], keep[sizeof(st->err)];

	if (st->depth == 0)
		return;
	st->depth--;
	/* Keep the message of the failure that led here. */
	memcpy(keep, st->err, sizeof(keep));
	if (st->depth > 0) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO ew%u; RELEASE ew%u",
		    st->depth, st->depth);
		ew_store_exec(st, sql);
	} else {
		st->drv->rollback(st);
	}
	memcpy(st->err, keep, sizeof(keep));
}

int
ew_store_end(struct ew_store *st, int rc)
{
	if (rc == 0)
		return ew_store_commit(st);
	ew_store_rollback(st);
	return rc;
}

int
ew_store_bind_null(struct ew_stmt *s, int i)
{
	return s->st->drv->bind_null(s, i);
}

int
ew_store_bind_int64(struct ew_stmt *s, int i, int64_t v)
{
	return s->st->drv->bind_int64(s, i, v);
}

int
ew_store_bind_text(struct ew_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return s->st->drv->bind_null(s, i);
	return s->st->drv->bind_text(s, i, v);
}

int
ew_store_bind_time(struct ew_stmt *s, int i, int64_t t)
{
	if (t == EW_STORE_NO_TIME)
		return s->st->drv->bind_null(s, i);
	return s->st->drv->bind_int64(s, i, t);
}

int
ew_store_col_null(struct ew_stmt *s, int i)
{
	return s->st->drv->col_null(s, i);
}

int64_t
ew_store_col_int64(struct ew_stmt *s, int i)
{
	return s->st->drv->col_int64(s, i);
}

const char *
ew_store_col_str(struct ew_stmt *s, int i)
{
	return s->st->drv->col_text(s, i);
}

int
ew_store_col_text(struct ew_stmt *s, int i, char **out)
{
	const char *p;

	*out = NULL;
	if (s->st->drv->col_null(s, i))
		return 0;
	p = s->st->drv->col_text(s, i);
	if (p == NULL || (*out = strdup(p)) == NULL)
		return -ENOMEM;
	return 0;
}

int64_t
ew_store_col_time(struct ew_stmt *s, int i)
{
	if (s->st->drv->col_null(s, i))
		return EW_STORE_NO_TIME;
	return s->st->drv->col_int64(s, i);
}

int
ew_store_version(struct ew_store *st, int *version)
{
	*version = 0;
	return st->drv->version_get(st, version);
}

int
ew_store_set_version(struct ew_store *st, int version)
{
	return st->drv->version_set(st, version);
}

/* Run migration m in its own transaction, setting the version with it. */
static int
migrate_one(struct ew_store *st, const struct ew_store_migration *m)
{
	int rc;

	if (m->fk_off && (rc = st->drv->migrate_fk(st, 0)) != 0)
		return rc;
	if ((rc = ew_store_begin(st)) == 0) {
		rc = st->drv->migrate(st, m->version, m->sql, m->fk_off);
		if (rc == 0)
			rc = st->drv->version_set(st, m->version);
		rc = ew_store_end(st, rc);
	}
	if (m->fk_off && st->drv->migrate_fk(st, 1) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

static int
migrate(struct ew_store *st)
{
	int version, rc;
	size_t i;

	if ((rc = ew_store_version(st, &version)) != 0)
		return rc;
	if (version > EW_STORE_SCHEMA_VERSION) {
		ew_store_set_err(
		    st, "database schema is newer than this exitwarden");
		return -ENOTSUP;
	}
	for (i = 0; i < ew_store_nmigrations; i++) {
		const struct ew_store_migration *m = &ew_store_migrations[i];

		if (m->version <= version)
			continue;
		if ((rc = migrate_one(st, m)) != 0)
			return rc;
		st->migrated++;
	}
	/* migrated to the end: store_rev is there to bump */
	st->rev_ready = EW_STORE_SCHEMA_VERSION >= EW_STORE_REV_VERSION;
	return 0;
}

int
ew_store_open_err(
    const char *target, struct ew_store **out, char *err, size_t errcap)
{
	struct ew_store *st;
	int rc, lrc;

	*out = NULL;
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (target == NULL)
		return -EINVAL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	st->drv = ew_store_is_server(target) ? &ew_store_pg_driver
					     : &ew_store_sqlite_driver;
	if ((rc = st->drv->open(st, target)) == 0 &&
	    (rc = st->drv->migrate_lock(st, 1)) == 0) {
		rc = migrate(st);
		if ((lrc = st->drv->migrate_lock(st, 0)) != 0 && rc == 0)
			rc = lrc;
	}
	if (rc != 0) {
		if (err != NULL && errcap > 0)
			snprintf(err, errcap, "%s", st->err);
		ew_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int
ew_store_open(const char *target, struct ew_store **out)
{
	return ew_store_open_err(target, out, NULL, 0);
}

void
ew_store_close(struct ew_store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		st->drv->close(st);
	free(st);
}

int
ew_store_listen(struct ew_store *st)
{
	if (st->drv->listen == NULL) {
		ew_store_set_err(
		    st, "no wake-ups from a %s store", st->drv->name);
		return -ENOTSUP;
	}
	return st->drv->listen(st);
}

int
ew_store_wait_fd(struct ew_store *st)
{
	return st->drv->wait_fd != NULL ? st->drv->wait_fd(st) : -1;
}

int
ew_store_wakeups(struct ew_store *st)
{
	if (st->drv->wakeups == NULL)
		return -ENOTSUP;
	return st->drv->wakeups(st);
}

const char *
ew_store_backend(const struct ew_store *st)
{
	return st->drv->name;
}

int
ew_store_rev(struct ew_store *st, int64_t *rev)
{
	struct ew_stmt *s;
	int rc;

	*rev = 0;
	if ((rc = ew_store_prep(st, "SELECT rev FROM store_rev", &s)) != 0)
		return rc;
	if ((rc = ew_store_step(s)) == EW_STORE_ROW) {
		*rev = ew_store_col_int64(s, 0);
		rc = 0;
	} else if (rc == 0) {
		ew_store_set_err(st, "store_rev has no row");
		rc = -EIO;
	}
	ew_store_finalize(s);
	return rc;
}

unsigned
ew_store_migrated(const struct ew_store *st)
{
	return st->migrated;
}

const char *
ew_store_errmsg(const struct ew_store *st)
{
	return st->err;
}

int
ew_store_rows(struct ew_store *st, struct ew_stmt *s, size_t size,
    int (*read)(struct ew_stmt *s, void *row, void *arg), void *arg, void **out,
    size_t *n)
{
	char *v = NULL, *nv;
	size_t len = 0, cap = 0;
	int rc;

	(void)st;
	while ((rc = ew_store_step(s)) == EW_STORE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = realloc(v, cap * size)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		memset(v + len * size, 0, size);
		if ((rc = read(s, v + len++ * size, arg)) != 0)
			break;
	}
	ew_store_finalize(s);
	*out = v;
	*n = len;
	return rc;
}
