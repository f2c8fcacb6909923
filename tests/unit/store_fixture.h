/*
 * store_fixture.h - what the store's unit tests (test_store,
 * test_store_fleet, test_intake) share: a scratch directory and database path,
 * a fresh store on the back end under test, a complaint and an incident to fill
 * in, the store's counts, the policy version in force.
 *
 * The programs run against SQLite, or with EW_TEST_PG set (see
 * harness/ew_test_store.h) against PostgreSQL; main sets pg first.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdint.h>

#include "store/store.h"

#define NT EW_STORE_NO_TIME

/* A scratch directory and, in it (SQLite) or as a fresh schema
 * (PostgreSQL), the database tmp_setup makes. */
extern char tmpdir[64];
extern char dbpath[1024];
/* EW_TEST_PG: the cluster to run against, or NULL for SQLite */
extern const char *pg;

/* Make tmpdir and dbpath; tmp_cleanup removes them. */
void tmp_setup(void);
void tmp_cleanup(void);
/* A new, empty store on the back end under test (a failed check and
 * NULL when it cannot be opened). */
struct ew_store *mem(void);
/* A complaint from abuse@irc.example, message id mid, digest sha. */
void complaint_init(
    struct ew_store_complaint *c, const char *mid, const char *sha);
/* An incident from src to 198.51.100.7 ports 6667 and 6697. */
void incident_init(struct ew_store_incident *in, const char *src);
/* Check the store's numbers of complaints and incidents. */
void counts(struct ew_store *st, int64_t ec, int64_t ei);
/* The digest and text ("digest/text") of the version in force at t,
 * "none" or "error". */
const char *at(struct ew_store *st, int64_t t);

#endif
