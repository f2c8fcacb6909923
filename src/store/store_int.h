/*
 * store_int.h - the store's internals, for the files of src/store only.
 *
 * The store speaks SQL to one of two back ends through a small driver
 * (struct ew_store_driver): SQLite (sqlite.c, the only file that
 * includes sqlite3.h) or PostgreSQL (pg.c, the only file that includes
 * libpq-fe.h).  Everything above the driver -- the migrations, the
 * transactions and savepoints, complaints, tickets, rules, the guard and
 * the policy history -- is written once, in SQLite's dialect restricted
 * to what PostgreSQL also understands once pg.c has made its few
 * translations (? and ?N placeholders to $N, INTEGER to BIGINT, INTEGER
 * PRIMARY KEY to an identity column, BLOB to BYTEA, INSERT OR IGNORE to
 * ON CONFLICT DO NOTHING, `IS ?` to IS NOT DISTINCT FROM).  New ids are
 * read with INSERT ... RETURNING id, which both understand.
 *
 * The helpers map each back end's errors to negative errno values
 * (keeping the message for ew_store_errmsg), bind and read the optional
 * columns, and run BEGIN ... COMMIT / ROLLBACK around every write.
 */
#ifndef EW_STORE_STORE_INT_H
#define EW_STORE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct ew_store_driver;

struct ew_store {
	const struct ew_store_driver *drv;
	void *conn; /* the driver's connection */
	unsigned migrated;
	unsigned depth; /* open transactions: 1 = BEGIN, more = savepoints */
	int rev_ready;  /* the schema has store_rev: writers bump it */
	char scope[64]; /* ew_store_set_scope: the host ('' the desk) */
	char err[256];
};

/* A prepared statement: the driver's own structure starts with this. */
struct ew_stmt {
	struct ew_store *st;
};

/* ew_store_step: a row is ready (0 is "done", negative an error). */
#define EW_STORE_ROW 1

/*
 * What a back end provides.  Statement indexes are 1-based for binds and
 * 0-based for columns (as in SQLite).  Errors are negative errno values
 * with the message left in st->err.
 */
struct ew_store_driver {
	const char *name;
	/* Connect to / open `target`; st->conn is set. */
	int (*open)(struct ew_store *st, const char *target);
	void (*close)(struct ew_store *st);
	/* Run SQL without parameters or rows (several statements). */
	int (*exec)(struct ew_store *st, const char *sql);
	int (*prepare)(
	    struct ew_store *st, const char *sql, struct ew_stmt **out);
	void (*finalize)(struct ew_stmt *s);
	/* Ready to run again, with every parameter NULL. */
	void (*reset)(struct ew_stmt *s);
	int (*nparams)(struct ew_stmt *s);
	int (*bind_null)(struct ew_stmt *s, int i);
	int (*bind_int64)(struct ew_stmt *s, int i, int64_t v);
	int (*bind_text)(struct ew_stmt *s, int i, const char *v);
	/* EW_STORE_ROW, 0 when done, or an error. */
	int (*step)(struct ew_stmt *s);
	/* Inside a transaction: run s for its effect, now or with the
	 * next statement or the commit (its values copied); NULL: step. */
	int (*step_later)(struct ew_stmt *s);
	int (*col_null)(struct ew_stmt *s, int i);
	int64_t (*col_int64)(struct ew_stmt *s, int i);
	/* Borrowed until the next step; NULL for SQL NULL. */
	const char *(*col_text)(struct ew_stmt *s, int i);
	/* Rows the statement's last run changed. */
	int64_t (*changes)(struct ew_stmt *s);
	/* The outermost transaction: writers are serialised from here to
	 * commit/rollback (SQLite BEGIN IMMEDIATE; PostgreSQL a lock). */
	int (*begin)(struct ew_store *st);
	int (*commit)(struct ew_store *st);
	void (*rollback)(struct ew_store *st);
	/* The schema version (0: none yet) and setting it inside the
	 * migration's transaction. */
	int (*version_get)(struct ew_store *st, int *v);
	int (*version_set)(struct ew_store *st, int v);
	/* Run one migration's SQL (inside its transaction; the driver
	 * picks the form for its dialect and handles fk_off). */
	int (*migrate)(
	    struct ew_store *st, int version, const char *sql, int fk_off);
	/* Foreign key checks off (on = 0) before a migration with fk_off
	 * begins, and back on after it ends; may be a no-op. */
	int (*migrate_fk)(struct ew_store *st, int on);
	/* Hold (on) or release a lock that keeps two processes from
	 * migrating at once; may be a no-op. */
	int (*migrate_lock)(struct ew_store *st, int on);
	/* Wake-ups (ew_store_listen); NULL where there are none. */
	int (*listen)(struct ew_store *st);
	int (*wait_fd)(struct ew_store *st);
	int (*wakeups)(struct ew_store *st);
};

extern const struct ew_store_driver ew_store_sqlite_driver;
extern const struct ew_store_driver ew_store_pg_driver;

/* The schema version that adds store_rev and rules.rev (schema.c). */
#define EW_STORE_REV_VERSION 11
/* What the outermost transaction runs after BEGIN, once rev_ready. */
#define EW_STORE_REV_BUMP "UPDATE store_rev SET rev = rev + 1"
/* The revision a writing transaction stamps its rows with. */
#define EW_STORE_REV_NOW "(SELECT rev FROM store_rev)"

/* One schema migration: the SQL that takes the version from n-1 to n;
 * fk_off: run with foreign keys off (a table rebuilt), then checked. */
struct ew_store_migration {
	int version;
	const char *sql;
	int fk_off;
};
extern const struct ew_store_migration ew_store_migrations[];
extern const size_t ew_store_nmigrations;

/*
 * The PostgreSQL form of a migration SQLite could only write as a table
 * rebuild or a data conversion in its own dialect (schema.c); NULL when
 * the common text serves (every migration after 7 should).
 */
const char *ew_store_pg_migration(int version);

/* The PostgreSQL text of common-dialect `sql` (malloc'd; NULL when out
 * of memory) and its parameter count (pg.c; no server needed). */
char *ew_store_pg_translate(const char *sql, int *nparams);

/* Set the store's message (printf-style). */
void ew_store_set_err(struct ew_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Run SQL without parameters (several statements); 0 or -errno. */
int ew_store_exec(struct ew_store *st, const char *sql);
/* Prepare `sql`; 0 or -errno. */
int ew_store_prep(struct ew_store *st, const char *sql, struct ew_stmt **out);
/* Step: EW_STORE_ROW, 0 (done) or -errno. */
int ew_store_step(struct ew_stmt *s);
/* Step a statement run for its effect (a row or done -> 0). */
int ew_store_step_done(struct ew_store *st, struct ew_stmt *s);
/*
 * Step a statement run for its effect whose outcome the caller reads
 * nothing of (no row, not the changes): inside a transaction the back
 * end may send it later, with the next statement or the commit, in
 * one round trip (PostgreSQL's pipeline; SQLite runs it now).  Its
 * error then fails that statement or the commit, and with it the
 * transaction.  s may be reset or finalized at once.  0 or -errno.
 */
int ew_store_step_later(struct ew_stmt *s);
/* Step an INSERT ... RETURNING id: *id is the new row's id. */
int ew_store_step_id(struct ew_stmt *s, int64_t *id);
void ew_store_finalize(struct ew_stmt *s);
void ew_store_reset(struct ew_stmt *s);
int ew_store_nparams(struct ew_stmt *s);
int64_t ew_store_changes(struct ew_stmt *s);
/*
 * Step s to its end, reading each row with read(s, row, arg) into a
 * growing array of zeroed `size`-byte rows, and finalize s.  *out and *n
 * hold what was read even on error, for the caller's own free.  0 or a
 * negative code.
 */
int ew_store_rows(struct ew_store *st, struct ew_stmt *s, size_t size,
    int (*read)(struct ew_stmt *s, void *row, void *arg), void *arg, void **out,
    size_t *n);

int ew_store_commit(struct ew_store *st);
void ew_store_rollback(struct ew_store *st);
/* Set the schema version (tests make a "newer" database with it). */
int ew_store_set_version(struct ew_store *st, int version);

/* Bind helpers: NULL text and EW_STORE_NO_TIME become SQL NULL. */
int ew_store_bind_null(struct ew_stmt *s, int i);
int ew_store_bind_int64(struct ew_stmt *s, int i, int64_t v);
int ew_store_bind_text(struct ew_stmt *s, int i, const char *v);
int ew_store_bind_time(struct ew_stmt *s, int i, int64_t t);
/* Column helpers: whether it is NULL, an integer (0 for NULL), a copy
 * of a text column (*out NULL for SQL NULL; -ENOMEM), and a time column
 * (EW_STORE_NO_TIME for SQL NULL). */
int ew_store_col_null(struct ew_stmt *s, int i);
int64_t ew_store_col_int64(struct ew_stmt *s, int i);
int ew_store_col_text(struct ew_stmt *s, int i, char **out);
const char *ew_store_col_str(struct ew_stmt *s, int i);
int64_t ew_store_col_time(struct ew_stmt *s, int i);

#endif
