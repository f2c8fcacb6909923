/*
 * cmd_expire.c - exitwarden expire: remove the blocks whose time has
 * come and apply again, as one change of the desk (ew_desk_expire);
 * with none due, put the store's managed policy back if the file
 * drifted from it (a change killed before its commit).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "store/store.h"

/* -n: what expire would do; nothing changed. */
static int
dry(struct ew_desk *d, const struct ew_desk_change *ch)
{
	struct ew_diag_list dg;
	size_t n = 0;
	int rc, drift;

	if ((rc = ew_cli_expire_due(d, ch->now, 1, &n)) != EW_EXIT_OK || n > 0)
		return rc;
	ew_diag_init(&dg);
	drift = ew_desk_drift(d, ch, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (drift < 0)
		return EW_EXIT_FAIL;
	if (drift == 0)
		printf("expire: no block has expired\n");
	else
		printf("expire: %s differs from the store (a change "
		       "interrupted?): left as it is (-n)\n",
		    ch->managed);
	return EW_EXIT_OK;
}

int
ew_cmd_expire(struct ew_args *a)
{
	struct ew_cli_apply ap;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	const char *policy = NULL;
	int64_t now;
	size_t k;
	int rc = 0, dry_run = 0;

	ew_cli_apply_init(&ap);
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_POLICY) {
			policy = v->val;
			continue;
		}
		dry_run |= v->id == EW_OPT_DRY_RUN;
		if ((rc = ew_cli_apply_opt(&ap, v)) < 0)
			rc = ew_cli_unexpected(a, v);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 0);
	if (rc != 0)
		goto done;
	now = ap.tor_now;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto done;
	ew_cli_change_init(&ch, &ap, ew_cli_policy_path(policy), now);
	if ((rc = ew_cli_relays_ready(&ap, ch.policy)) != 0)
		goto done;
	rc = EW_EXIT_FAIL;
	if (dry_run) {
		rc = dry(d, &ch);
		goto done;
	}
	rc = ew_cli_expire(d, &ch, 0);
done:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&ap);
	return rc;
}
