/*
 * cmd_apply.c - exitwarden apply: tor apply, then nft apply, from one
 * command line, then the applied version recorded in the store's policy
 * history (what incidents are judged against), through the desk
 * (ew_desk_apply_file).  Tor first: if tor does not take the policy,
 * the nftables table is not touched.  Each step reports what it changed
 * (the same lines tor apply and nft apply print).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/diag.h"
#include "store/store.h"

int
ew_cmd_apply(struct ew_args *a)
{
	struct ew_cli_apply ap;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	size_t k;
	int rc = 0;

	ew_cli_apply_init(&ap);
	for (k = 0; rc == 0 && k < a->no; k++)
		if ((rc = ew_cli_apply_opt(&ap, &a->o[k])) < 0)
			rc = ew_cli_unexpected(a, &a->o[k]);
	if (rc == 0)
		rc = ew_cli_operands(a, 1, 1);
	if (rc != 0)
		goto out;
	/* Open the store first: a policy applied must be recorded. */
	if (!ap.nft.dry_run && ew_cli_desk_open(NULL, 0, &st, &d) != 0) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	ew_cli_change_init(&ch, &ap, NULL, ap.nft.now);
	ew_diag_init(&dg);
	rc = ew_desk_apply_file(d, &ch, a->ops[0], &oc, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (oc.failed == EW_DESK_STEP_RECORD)
		ew_cli_err(
		    "%s: not recorded in %s", a->ops[0], ew_cli_db_label());
	rc = rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
out:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&ap);
	return rc;
}
