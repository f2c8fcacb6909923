/*
 * sqlite.c - the SQLite driver of the store: the only file that includes
 * sqlite3.h.
 *
 * A file database is created 0600 before SQLite opens it, runs in WAL
 * mode with synchronous=FULL and foreign keys on; the outermost
 * transaction is BEGIN IMMEDIATE (the write lock from the start, so a
 * read-then-write inside it is never overtaken by another writer, who
 * waits up to EW_STORE_BUSY_MS).  The schema version is PRAGMA
 * user_version.  SQL is the common text, unchanged.
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

struct lite_stmt {
	struct ew_stmt base;
	sqlite3_stmt *s;
	int64_t changes;
};

#define DB(st) ((sqlite3 *)(st)->conn)
#define LS(x) ((struct lite_stmt *)(x))

/* Map a SQLite result code to 0 / -errno, keeping the message. */
static int
lite_rc(struct ew_store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	default:
		break;
	}
	ew_store_set_err(
	    st, "%s", st->conn ? sqlite3_errmsg(DB(st)) : sqlite3_errstr(rc));
	/* a failed open or I/O says why in the system's errno: a read-only
	 * file system is EROFS, not "no such file" */
	if (st->conn != NULL &&
	    ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR)) {
		int e = sqlite3_system_errno(DB(st));

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

static int
lite_exec(struct ew_store *st, const char *sql)
{
	return lite_rc(st, sqlite3_exec(DB(st), sql, NULL, NULL, NULL));
}

static int
lite_prepare(struct ew_store *st, const char *sql, struct ew_stmt **out)
{
	struct lite_stmt *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->base.st = st;
	rc = lite_rc(st, sqlite3_prepare_v2(DB(st), sql, -1, &s->s, NULL));
	if (rc != 0) {
		sqlite3_finalize(s->s);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void
lite_finalize(struct ew_stmt *s)
{
	sqlite3_finalize(LS(s)->s);
	free(s);
}

static void
lite_reset(struct ew_stmt *s)
{
	sqlite3_reset(LS(s)->s);
	sqlite3_clear_bindings(LS(s)->s);
}

static int
lite_nparams(struct ew_stmt *s)
{
	return sqlite3_bind_parameter_count(LS(s)->s);
}

static int
lite_bind_null(struct ew_stmt *s, int i)
{
	return lite_rc(s->st, sqlite3_bind_null(LS(s)->s, i));
}

static int
lite_bind_int64(struct ew_stmt *s, int i, int64_t v)
{
	return lite_rc(s->st, sqlite3_bind_int64(LS(s)->s, i, v));
}

static int
lite_bind_text(struct ew_stmt *s, int i, const char *v)
{
	return lite_rc(
	    s->st, sqlite3_bind_text(LS(s)->s, i, v, -1, SQLITE_TRANSIENT));
}

static int
lite_step(struct ew_stmt *s)
{
	int rc = sqlite3_step(LS(s)->s);

	if (rc == SQLITE_ROW)
		return EW_STORE_ROW;
	if (rc == SQLITE_DONE) {
		LS(s)->changes = sqlite3_changes(DB(s->st));
		return 0;
	}
	return lite_rc(s->st, rc);
}

static int
lite_col_null(struct ew_stmt *s, int i)
{
	return sqlite3_column_type(LS(s)->s, i) == SQLITE_NULL;
}

static int64_t
lite_col_int64(struct ew_stmt *s, int i)
{
	return sqlite3_column_int64(LS(s)->s, i);
}

static const char *
lite_col_text(struct ew_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(LS(s)->s, i);
}

static int64_t
lite_changes(struct ew_stmt *s)
{
	return LS(s)->changes;
}

static int
lite_begin(struct ew_store *st)
{
	int rc = lite_exec(st, "BEGIN IMMEDIATE");

	if (rc == 0 && st->rev_ready && (rc = lite_exec(st, EW_STORE_REV_BUMP)))
		sqlite3_exec(DB(st), "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int
lite_commit(struct ew_store *st)
{
	return lite_exec(st, "COMMIT");
}

static void
lite_rollback(struct ew_store *st)
{
	if (!sqlite3_get_autocommit(DB(st)))
		sqlite3_exec(DB(st), "ROLLBACK", NULL, NULL, NULL);
}

static int
lite_version_get(struct ew_store *st, int *version)
{
	sqlite3_stmt *s;
	int rc;

	*version = 0;
	rc = lite_rc(st,
	    sqlite3_prepare_v2(DB(st), "PRAGMA user_version", -1, &s, NULL));
	if (rc != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -EIO : lite_rc(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

static int
lite_version_set(struct ew_store *st, int version)
{
	char pragma[64];

	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	return lite_exec(st, pragma);
}

/* After a rebuild with foreign keys off: every reference still holds. */
static int
fk_check(struct ew_store *st)
{
	sqlite3_stmt *s;
	int rc;

	rc = lite_rc(st, sqlite3_prepare_v2(
			     DB(st), "PRAGMA foreign_key_check", -1, &s, NULL));
	if (rc != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ew_store_set_err(st, "a migration broke a foreign key");
		rc = -EIO;
	} else {
		rc = lite_rc(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

static int
lite_migrate(struct ew_store *st, int version, const char *sql, int fk_off)
{
	int rc;

	(void)version;
	if ((rc = lite_exec(st, sql)) == 0 && fk_off)
		rc = fk_check(st);
	return rc;
}

/* PRAGMA foreign_keys is a no-op inside a transaction: switched around
 * the migration's transaction (off before, on after). */
static int
lite_migrate_fk(struct ew_store *st, int on)
{
	return lite_exec(
	    st, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
}

static int
lite_migrate_lock(struct ew_store *st, int on)
{
	(void)st;
	(void)on;
	return 0; /* each migration's BEGIN IMMEDIATE is the lock */
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
		ew_store_set_err(st, "%s", strerror(-rc));
	return rc;
}

static int
lite_open(struct ew_store *st, const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	if ((rc = create_private(st, path)) < 0)
		return rc;
	rc = sqlite3_open_v2(
	    path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	st->conn = db;
	if (rc != SQLITE_OK)
		return lite_rc(st, rc);
	if ((rc = lite_rc(st, sqlite3_busy_timeout(db, EW_STORE_BUSY_MS))) != 0)
		return rc;
	if ((rc = lite_exec(st, "PRAGMA foreign_keys = ON")) != 0)
		return rc;
	if (strcmp(path, ":memory:") != 0) {
		if ((rc = lite_exec(st, "PRAGMA journal_mode = WAL")) != 0)
			return rc;
		/* FULL: a commit is on disk before we act on it (the
		 * inbox moves a message to cur/ only after its commit;
		 * NORMAL could lose the last commits to a power cut) */
		if ((rc = lite_exec(st, "PRAGMA synchronous = FULL")) != 0)
			return rc;
	}
	return 0;
}

static void
lite_close(struct ew_store *st)
{
	sqlite3_close(DB(st));
	st->conn = NULL;
}

const struct ew_store_driver ew_store_sqlite_driver = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.reset = lite_reset,
	.nparams = lite_nparams,
	.bind_null = lite_bind_null,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.step = lite_step,
	.col_null = lite_col_null,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.changes = lite_changes,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.version_get = lite_version_get,
	.version_set = lite_version_set,
	.migrate = lite_migrate,
	.migrate_fk = lite_migrate_fk,
	.migrate_lock = lite_migrate_lock,
};
