/*
 * cmd_backup.c - exitwarden backup FILE: a consistent copy of the store
 * (SQLite's online backup, so the daemon may keep writing), written
 * atomically with mode 0600 (store/backup.c).  Restore by stopping the
 * daemon and putting the copy in place of the database.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

int
ew_cmd_backup(struct ew_args *a)
{
	struct ew_store *st = NULL;
	int rc;

	if (a->no > 0)
		return ew_cli_unexpected(a, &a->o[0]);
	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_backup(st, a->ops[0]);
	if (rc != 0) {
		ew_cli_err("backup to '%s' failed: %s%s%s", a->ops[0],
		    strerror(-rc), ew_store_errmsg(st)[0] ? ": " : "",
		    ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	printf("backup: %s copied to %s\n", ew_cli_db_label(), a->ops[0]);
	return EW_EXIT_OK;
}
