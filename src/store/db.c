/*
 * db.c - opening and closing the store, schema migrations, transactions
 * and the small SQLite helpers the other files share.
 *
 * Migrations come from the embedded list in schema.c and are keyed by
 * PRAGMA user_version: a database at version k runs migrations k+1..N,
 * each in its own transaction that also sets user_version, so a crash
 * between two leaves a consistent database at an intermediate version.
 * A database already at N is left untouched; one above N (made by a newer
 * exitwarden) is refused with -ENOTSUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

/* A ticket block holds the write lock while tor and nftables take the
 * policy (seconds): writers wait for it rather than fail. */
#define EW_STORE_BUSY_MS 60000

static void
set_err(struct ew_store *st, const char *msg)
{
	snprintf(st->err, sizeof(st->err), "%s", msg ? msg : "");
}

int
ew_store_rc(struct ew_store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	default:
		break;
	}
	set_err(st, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	/* a failed open or I/O says why in the system's errno: a read-only
	 * file system is EROFS, not "no such file" */
	if (st->db != NULL &&
	    ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR)) {
		int e = sqlite3_system_errno(st->db);

		if (e > 0)
			return -e;
	}
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -EINVAL;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_READONLY:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

int
ew_store_prep(struct ew_store *st, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	return ew_store_rc(st, sqlite3_prepare_v2(st->db, sql, -1, out, NULL));
}

int
ew_store_step_done(struct ew_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	return ew_store_rc(st, rc);
}

static int
exec(struct ew_store *st, const char *sql)
{
	return ew_store_rc(st, sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}

/*
 * Transactions nest: the outermost is BEGIN IMMEDIATE ... COMMIT, inner
 * ones are savepoints, so a caller can make several of the functions
 * below (each its own transaction) one all-or-nothing change.
 */
int
ew_store_begin(struct ew_store *st)
{
	char sql[48];
	int rc;

	if (st->depth == 0)
		rc = exec(st, "BEGIN IMMEDIATE");
	else {
		snprintf(sql, sizeof(sql), "SAVEPOINT ew%u", st->depth);
		rc = exec(st, sql);
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
		if ((rc = exec(st, sql)) != 0)
			ew_store_rollback(st);
		else
			st->depth--;
		return rc;
	}
	if ((rc = exec(st, "COMMIT")) != 0) {
		ew_store_rollback(st);
		return rc;
	}
	st->depth = 0;
	return 0;
}

void
ew_store_rollback(struct ew_store *st)
{
	char sql[64];

	if (st->depth == 0)
		return;
	st->depth--;
	/* Keep the message of the failure that led here. */
	if (st->depth > 0) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO ew%u; RELEASE ew%u",
		    st->depth, st->depth);
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	} else if (!sqlite3_get_autocommit(st->db)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
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
ew_store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int
ew_store_bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == EW_STORE_NO_TIME)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_int64(s, i, t);
}

int
ew_store_col_text(sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *p;

	*out = NULL;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return 0;
	p = sqlite3_column_text(s, i);
	if (p == NULL || (*out = strdup((const char *)p)) == NULL)
		return -ENOMEM;
	return 0;
}

int64_t
ew_store_col_time(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return EW_STORE_NO_TIME;
	return sqlite3_column_int64(s, i);
}

int
ew_store_version(struct ew_store *st, int *version)
{
	sqlite3_stmt *s;
	int rc;

	*version = 0;
	if ((rc = ew_store_prep(st, "PRAGMA user_version", &s)) != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -EIO : ew_store_rc(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

/* After a rebuild with foreign keys off: every reference still holds. */
static int
fk_check(struct ew_store *st)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = ew_store_prep(st, "PRAGMA foreign_key_check", &s)) != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		set_err(st, "a migration broke a foreign key");
		rc = -EIO;
	} else {
		rc = ew_store_rc(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Run migration m in its own transaction, setting user_version with it. */
static int
migrate_one(struct ew_store *st, const struct ew_store_migration *m)
{
	char pragma[64];
	int rc;

	if (m->fk_off && (rc = exec(st, "PRAGMA foreign_keys = OFF")) != 0)
		return rc;
	if ((rc = ew_store_begin(st)) != 0)
		goto out;
	rc = exec(st, m->sql);
	if (rc == 0 && m->fk_off)
		rc = fk_check(st);
	if (rc == 0) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    m->version);
		rc = exec(st, pragma);
	}
	rc = ew_store_end(st, rc);
out:
	if (m->fk_off && exec(st, "PRAGMA foreign_keys = ON") != 0 && rc == 0)
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
		set_err(st, "database schema is newer than this exitwarden");
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
	return 0;
}

static int
setup(struct ew_store *st, const char *path)
{
	int rc;

	if ((rc = ew_store_rc(
		 st, sqlite3_busy_timeout(st->db, EW_STORE_BUSY_MS))) != 0)
		return rc;
	if ((rc = exec(st, "PRAGMA foreign_keys = ON")) != 0)
		return rc;
	if (strcmp(path, ":memory:") != 0) {
		if ((rc = exec(st, "PRAGMA journal_mode = WAL")) != 0)
			return rc;
		/* FULL: a commit is on disk before we act on it (the
		 * inbox moves a message to cur/ only after its commit;
		 * NORMAL could lose the last commits to a power cut) */
		if ((rc = exec(st, "PRAGMA synchronous = FULL")) != 0)
			return rc;
	}
	return migrate(st);
}

/*
 * Open (creating it mode 0600 if need be) the database file before
 * SQLite does: SQLite would create it 0644 less the umask, and gives
 * the WAL and shared-memory files the database file's mode, so this one
 * mode keeps all three private whatever the umask and the directory.
 * An existing file keeps its mode (the operator's).  Opening it here
 * also reports why it cannot be written (EROFS, EACCES) with the real
 * errno.  ":memory:" and URI names are left to SQLite.
 */
static int
create_private(struct ew_store *st, const char *path)
{
	int fd, rc = 0;

	if (*path == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* exactly 0600, even under a umask such as 0377 */
		if (fchmod(fd, 0600) < 0)
			rc = -errno;
	} else if (errno == EEXIST) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			rc = -errno;
	} else {
		rc = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		set_err(st, strerror(-rc));
	return rc;
}

int
ew_store_open(const char *path, struct ew_store **out)
{
	struct ew_store *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	if ((rc = create_private(st, path)) < 0) {
		ew_store_close(st);
		return rc;
	}
	rc = sqlite3_open_v2(
	    path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		rc = ew_store_rc(st, rc);
		ew_store_close(st);
		return rc;
	}
	if ((rc = setup(st, path)) != 0) {
		ew_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
ew_store_close(struct ew_store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
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
ew_store_rows(struct ew_store *st, sqlite3_stmt *s, size_t size,
    int (*read)(sqlite3_stmt *s, void *row, void *arg), void *arg, void **out,
    size_t *n)
{
	char *v = NULL, *nv;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
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
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = ew_store_rc(st, rc);
	sqlite3_finalize(s);
	*out = v;
	*n = len;
	return rc;
}
