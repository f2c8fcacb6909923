/*
 * ew_test_store.c - fresh stores for the unit tests, on either back end
 * (see ew_test_store.h).  The schema is made through a store opened on
 * EW_TEST_PG's database itself (whose public schema then holds that
 * store's own tables; the cluster is a throwaway one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "store/store.h"
#include "store/store_int.h"

const char *
ew_test_pg(void)
{
	const char *env = getenv("EW_TEST_PG");

	return env != NULL && *env != '\0' ? env : NULL;
}

void
ew_test_store_target(char *out, size_t cap)
{
	static unsigned n;
	struct ew_store *admin = NULL;
	const char *pg = ew_test_pg();
	char sql[96], name[48];

	if (pg == NULL) {
		snprintf(out, cap, ":memory:");
		return;
	}
	out[0] = '\0';
	snprintf(name, sizeof(name), "ew_%ld_%u", (long)getpid(), ++n);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
	if (ew_store_open(pg, &admin) != 0 || ew_store_exec(admin, sql) != 0) {
		ew_test_fail(__FILE__, __LINE__, "cannot make schema %s: %s",
		    name, admin ? ew_store_errmsg(admin) : "no connection");
		ew_store_close(admin);
		return;
	}
	ew_store_close(admin);
	snprintf(out, cap, "%s options='-c search_path=%s'", pg, name);
}
