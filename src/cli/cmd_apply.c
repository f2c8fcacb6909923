/*
 * cmd_apply.c - exitwarden apply: tor apply, then nft apply, from one
 * command line, then the applied version recorded in the store's policy
 * history (what incidents are judged against), through the desk
 * (ew_desk_apply_file).  Tor first: if tor does not take the policy,
 * the nftables table is not touched.  Each step reports what it changed
 * (the same lines tor apply and nft apply print).  With relays defined
 * (--relay, --all-relays) every relay's managed policy is applied as
 * one change instead (apply_relays).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "store/store.h"

/* -n: each relay's managed policy as the store makes it, shown;
 * nothing written or applied. */
static int
show_relays(struct ew_cli_apply *ap, struct ew_desk *d, const char *policy)
{
	struct ew_buf text = EW_BUF_INIT;
	struct ew_desk_change ch;
	struct ew_diag_list dg;
	size_t i;
	int rc = 0;

	for (i = 0; i < ap->nrelays && rc == 0; i++) {
		if (!ew_cli_relay_selected(ap, i))
			continue;
		ew_cli_change_init(&ch, ap, policy, ap->nft.now);
		if (ew_cli_relay_use(ap, (int)i, d, &ch) != 0)
			rc = -ENOMEM;
		ew_buf_reset(&text);
		ew_diag_init(&dg);
		if (rc == 0)
			rc = ew_desk_compose(d, &ch, NULL, 0, &text, NULL, &dg);
		ew_cli_report(&dg);
		ew_diag_free(&dg);
		if (rc == 0)
			printf("# relay %s (uid %lu): %s would be:\n%s",
			    ap->relays[i].name,
			    (unsigned long)ap->relays[i].uid,
			    ap->relays[i].managed, ew_buf_str(&text));
	}
	ew_buf_free(&text);
	ew_cli_relay_use(ap, -1, d, NULL);
	if (rc == 0)
		printf("# -n: nothing written or applied\n");
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/*
 * Every relay defined (--relay NAME,uid=U,...; --relay NAME selects),
 * as --all-relays, in one change of the desk (ew_desk_sync_relays):
 * each relay's managed policy written from the store (its blocks and
 * the blocks for every relay, then its policy), applied to its tor,
 * the one table of all relays loaded once, each recorded in its own
 * history; a failure anywhere puts every relay back: all or none.
 */
static int
apply_relays(struct ew_cli_apply *ap, struct ew_desk *d, const char *policy)
{
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int rc;

	if ((rc = ew_cli_relays_ready(ap, policy)) != 0)
		return rc;
	if (ap->nrelays == 0) {
		ew_cli_err("--all-relays: no relay defined (--relay "
			   "NAME,uid=UID,...)");
		return EW_EXIT_USAGE;
	}
	if (ap->tor_dry)
		return show_relays(ap, d, policy);
	ew_cli_change_init(&ch, ap, policy, ap->nft.now);
	ew_diag_init(&dg);
	rc = ew_cli_sync(d, &ch, &oc, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (rc == 0)
		printf("apply: %s relays %s\n",
		    ap->nselect > 0 ? "the selected" : "all",
		    oc.not_applied ? "written (--no-apply)"
		    : oc.applied   ? "applied: tor each, one "
				     "nftables table for all"
				   : "checked (dry run)");
	else
		ew_cli_err("apply: %s; %s",
		    oc.failed == EW_DESK_STEP_TOR   ? "a relay's tor refused"
		    : oc.failed == EW_DESK_STEP_NFT ? "the table did not load"
						    : "failed",
		    oc.restored == 1 ? "every relay put back as it was"
				     : "see above");
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

int
ew_cmd_apply(struct ew_args *a)
{
	struct ew_cli_apply ap;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	const char *policy = NULL;
	size_t k;
	int rc = 0, all = 0;

	ew_cli_apply_init(&ap);
	for (k = 0; rc == 0 && k < a->no; k++) {
		if (a->o[k].id == EW_OPT_ALL_RELAYS)
			all = 1;
		else if (a->o[k].id == EW_OPT_POLICY)
			policy = a->o[k].val;
		else if ((rc = ew_cli_apply_opt(&ap, &a->o[k])) < 0)
			rc = ew_cli_unexpected(a, &a->o[k]);
	}
	if (rc == 0 && (all || ap.nrelays > 0 || ap.nselect > 0)) {
		if ((rc = ew_cli_operands(a, 0, 0)) == 0 &&
		    (rc = ew_cli_desk_open(NULL, 0, &st, &d)) != 0)
			rc = EW_EXIT_FAIL;
		if (rc == 0)
			rc = apply_relays(&ap, d, ew_cli_policy_path(policy));
		goto out;
	}
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
