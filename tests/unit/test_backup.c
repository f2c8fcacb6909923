/*
 * test_backup.c - ew_store_backup: a copy taken while the store is open
 * (WAL) opens as a store with the same rows, has mode 0600 whatever the
 * umask, replaces an older copy whole, and leaves nothing behind when
 * it cannot be written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/ew_test.h"

#include "store/store.h"

static char dir[64], db[128], copy[128];

static size_t
count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "copy.db.tmp-", 12) == 0)
			n++;
	closedir(d);
	return n;
}

static void
check_copy(size_t want_tickets, int64_t want_policy)
{
	struct ew_store *b = NULL;
	struct ew_store_ticket *t = NULL;
	struct ew_store_policy_version *v = NULL;
	size_t n = 0, i, found = 0, closed = 0;

	EW_CHECK_INT(ew_store_open(copy, &b), 0);
	if (b == NULL)
		return;
	EW_CHECK_INT(ew_store_migrated(b), 0);
	EW_CHECK_INT(ew_store_ticket_list(b, 0, 1, &t, &n), 0);
	EW_CHECK_INT(n, want_tickets);
	for (i = 0; i < n; i++) {
		found += strcmp(t[i].reporter, "abuse@example.net") == 0;
		closed += t[i].closed;
	}
	EW_CHECK_INT(found, 1);
	EW_CHECK_INT(closed, want_tickets - 1);
	ew_store_tickets_free(t, n);
	EW_CHECK_INT(ew_store_policy_at(b, want_policy + 10, &v), 0);
	ew_store_policy_version_free(v);
	ew_store_close(b);
}

static void
test_roundtrip(void)
{
	struct ew_store *st = NULL;
	struct stat sb;
	int64_t id, pid;
	mode_t old = umask(0);

	EW_CHECK_INT(ew_store_open(db, &st), 0);
	if (st == NULL)
		return;
	EW_CHECK_INT(
	    ew_store_ticket_open(st, "abuse@example.net", 1000, 2000, &id), 0);
	EW_CHECK_INT(
	    ew_store_ticket_open(st, "noc@example.org", 1100, 0, &id), 0);
	EW_CHECK_INT(ew_store_ticket_close(st, id, "done"), 0);
	EW_CHECK_INT(ew_store_policy_record(
			 st, "aa", "accept *:80\nreject *:*\n", 5000, &pid),
	    0);
	EW_CHECK_INT(ew_store_backup(st, copy), 0);
	umask(old);
	EW_CHECK(stat(copy, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	EW_CHECK_INT(count_files(), 0);
	check_copy(2, 5000);
	/* a third ticket: a new copy replaces the old one whole */
	EW_CHECK_INT(
	    ew_store_ticket_open(st, "x@example.com", 1200, 0, &id), 0);
	EW_CHECK_INT(ew_store_ticket_close(st, id, "done"), 0);
	EW_CHECK_INT(ew_store_backup(st, copy), 0);
	check_copy(3, 5000);
	/* a directory that does not exist: an error, nothing written */
	EW_CHECK_INT(ew_store_backup(st, "/nonexistent-ew/x.db"), -ENOENT);
	EW_CHECK_INT(count_files(), 0);
	ew_store_close(st);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/ew-backup-XXXXXX",
	    base && strlen(base) < 40 ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(db, sizeof(db), "%s/ew.db", dir);
	snprintf(copy, sizeof(copy), "%s/copy.db", dir);
	EW_RUN(test_roundtrip);
	{
		char cmd[512];
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(cmd, sizeof(cmd), "%s/%s", dir, e->d_name);
			unlink(cmd);
		}
		if (d != NULL)
			closedir(d);
		rmdir(dir);
	}
	return ew_test_done();
}
