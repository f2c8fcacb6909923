/*
 * ew_test_store.h - the store a unit test runs on: SQLite, or with
 * EW_TEST_PG set (a libpq keyword string; tests/tools/pgcluster.py
 * starts a throwaway cluster and sets it) PostgreSQL.
 */
#ifndef EW_TEST_STORE_H
#define EW_TEST_STORE_H

#include <stddef.h>

/* EW_TEST_PG, or NULL when the tests run on SQLite. */
const char *ew_test_pg(void);
/*
 * A target for a new, empty store: ":memory:" on SQLite; on PostgreSQL
 * a new schema of EW_TEST_PG's database and the connection string that
 * selects it (search_path).  A failure is a failed check and "".
 */
void ew_test_store_target(char *out, size_t cap);

#endif
