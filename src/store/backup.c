/*
 * backup.c - a copy of the open database with SQLite's online backup
 * API (exitwarden backup FILE): consistent even while the daemon writes
 * (the copy is one snapshot, WAL included), written beside the target
 * under a temporary name, synced, then renamed over it, so FILE is
 * either the old file or the whole new copy.  Mode 0600: the store
 * holds complaints and their reporters.  The second file of the store
 * that includes sqlite3.h (beside sqlite.c): a PostgreSQL store is
 * refused with -ENOTSUP, its server has pg_dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

/* fsync of path's directory (after the rename). */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Copy every page of st into the database file at tmp. */
static int
copy_pages(struct ew_store *st, const char *tmp)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, tries = 0;

	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK)
		goto out;
	b = sqlite3_backup_init(dst, "main", (sqlite3 *)st->conn, "main");
	if (b == NULL) {
		rc = sqlite3_errcode(dst);
		goto out;
	}
	/* all pages at once; a writer holding a lock makes it wait */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	       rc == SQLITE_LOCKED) {
		if (++tries > 500)
			break;
		nanosleep(&pause, NULL);
	}
	if (sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_errcode(dst);
out:
	if (rc != SQLITE_DONE)
		snprintf(st->err, sizeof(st->err), "%s",
		    dst ? sqlite3_errmsg(dst) : "out of memory");
	if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
ew_store_backup(struct ew_store *st, const char *path)
{
	char tmp[PATH_MAX];
	int fd, rc;

	st->err[0] = '\0';
	if (st->drv != &ew_store_sqlite_driver) {
		ew_store_set_err(st,
		    "a %s store is backed up by its server"
		    " (pg_dump), not by exitwarden",
		    ew_store_backend(st));
		return -ENOTSUP;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkstemp(tmp)) < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = copy_pages(st, tmp)) != 0)
		goto fail;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	return sync_dir(path);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}
