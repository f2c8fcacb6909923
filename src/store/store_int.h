/*
 * store_int.h - the store's internals, for the files of src/store only.
 *
 * struct ew_store wraps the SQLite handle.  The helpers map SQLite's
 * result codes to negative errno values (keeping the message for
 * ew_store_errmsg), bind and read the optional columns, and run the
 * BEGIN IMMEDIATE / COMMIT / ROLLBACK around every write.
 */
#ifndef EW_STORE_STORE_INT_H
#define EW_STORE_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

struct ew_store {
	sqlite3 *db;
	unsigned migrated;
	unsigned depth; /* open transactions: 1 = BEGIN, more = savepoints */
	char err[256];
};

/* One schema migration: the SQL that takes user_version from n-1 to n;
 * fk_off: run with foreign keys off (a table rebuilt), then checked. */
struct ew_store_migration {
	int version;
	const char *sql;
	int fk_off;
};
extern const struct ew_store_migration ew_store_migrations[];
extern const size_t ew_store_nmigrations;

/* Map a SQLite result code to 0 / -errno, keeping the message. */
int ew_store_rc(struct ew_store *st, int rc);
/* Prepare `sql`; 0 or -errno. */
int ew_store_prep(struct ew_store *st, const char *sql, sqlite3_stmt **out);
/* Step a statement that returns no rows (SQLITE_DONE -> 0). */
int ew_store_step_done(struct ew_store *st, sqlite3_stmt *s);
/*
 * Step s to its end, reading each row with read(s, row, arg) into a
 * growing array of zeroed `size`-byte rows, and finalize s.  *out and *n
 * hold what was read even on error, for the caller's own free.  0 or a
 * negative code.
 */
int ew_store_rows(struct ew_store *st, sqlite3_stmt *s, size_t size,
    int (*read)(sqlite3_stmt *s, void *row, void *arg), void *arg, void **out,
    size_t *n);

int ew_store_commit(struct ew_store *st);
void ew_store_rollback(struct ew_store *st);

/* Bind helpers: NULL text and EW_STORE_NO_TIME become SQL NULL. */
int ew_store_bind_text(sqlite3_stmt *s, int i, const char *v);
int ew_store_bind_time(sqlite3_stmt *s, int i, int64_t t);
/* Column helpers: a copy of a text column (*out NULL for SQL NULL;
 * -ENOMEM), and a time column (EW_STORE_NO_TIME for SQL NULL). */
int ew_store_col_text(sqlite3_stmt *s, int i, char **out);
int64_t ew_store_col_time(sqlite3_stmt *s, int i);

#endif
