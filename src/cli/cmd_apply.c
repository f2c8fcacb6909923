/*
 * cmd_apply.c - exitwarden apply POLICY: the operator's policy made what
 * the exit enforces, together with the store's blocks in force, never
 * without them.
 *
 * There is one source of truth: the store's blocks plus the operator's
 * policy, composed into the managed policy (managed.policy beside the
 * database: the blocks first, then an include of POLICY).  apply writes
 * that file and applies it as one change of the desk (ew_desk_sync):
 * tor first (if tor does not take it, the nftables table is not
 * touched), then nftables, then the version recorded, then the store
 * committed; on a failure the file is put back and applied again where
 * a step had taken the new one.  POLICY may be the managed policy
 * itself: then it is written again from the store, with the operator's
 * policy it includes.  Later changes (ticket block, block add, expire)
 * include the policy applied last unless --policy or $EW_POLICY says
 * otherwise.
 *
 * -n composes the same file as a temporary copy, checks it with tor's
 * and nft's dry runs, and removes it; nothing else is written.
 *
 * With relays defined (exitwarden.conf naming several, --relay,
 * --all-relays) every relay's managed policy is applied as one change
 * instead (apply_relays), each with its policy from the configuration
 * (or POLICY for every relay selected).  Without POLICY the operator's
 * policy is the configuration's (or the one applied last).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Whether a and b name one file (both must exist). */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The operator's policy to compose: POLICY, or the one the managed
 * policy includes when POLICY is the managed policy.  0 or an exit
 * code. */
static int
operator_policy(const char *file, const char *managed, char *out, size_t cap)
{
	int rc;

	if (!same_file(file, managed)) {
		if ((size_t)snprintf(out, cap, "%s", file) >= cap) {
			ew_cli_err("%s: path too long", file);
			return EW_EXIT_FAIL;
		}
		return 0;
	}
	if ((rc = ew_desk_managed_source(managed, out, cap)) != 0) {
		ew_cli_err("%s: the managed policy names no operator's policy "
			   "(%s): apply the operator's policy instead",
		    managed, strerror(-rc));
		return EW_EXIT_FAIL;
	}
	return 0;
}

static int
count_blocks(struct ew_store *st, size_t *n)
{
	struct ew_store_rule *r = NULL;
	int rc = ew_store_rule_list(st, 0, &r, n);

	ew_store_rules_free(r, *n);
	return rc;
}

/*
 * No store yet with -n, or a store in memory (it holds no block): nothing
 * in force to compose; the file applied (or checked) as it is, the
 * version recorded in d when there is one, no managed policy written.
 */
static int
without_store(struct ew_desk *d, struct ew_desk_change *ch, const char *file)
{
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int rc;

	if (d != NULL)
		printf("apply: the store is in memory (no blocks): %s "
		       "applied as it is\n",
		    file);
	else
		printf("apply: no store at %s (no blocks): %s checked as it "
		       "is\n",
		    ew_cli_db_path(), file);
	fflush(stdout);
	ew_diag_init(&dg);
	rc = ew_desk_apply_file(d, ch, file, &oc, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
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
	struct stat sb;
	char policy[PATH_MAX];
	const char *managed = ew_cli_managed_path();
	const char *relay_policy = NULL, *file = NULL;
	size_t k, nblocks = 0;
	int rc = 0, all = 0;

	ew_cli_apply_init(&ap);
	for (k = 0; rc == 0 && k < a->no; k++) {
		if (a->o[k].id == EW_OPT_ALL_RELAYS)
			all = 1;
		else if (a->o[k].id == EW_OPT_POLICY)
			relay_policy = a->o[k].val;
		else if ((rc = ew_cli_apply_opt(&ap, &a->o[k])) < 0)
			rc = ew_cli_unexpected(a, &a->o[k]);
	}
	/* the relays of exitwarden.conf, when it names several */
	if (rc == 0)
		rc = ew_cli_relays_conf(&ap);
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 1);
	if (rc == 0 && relay_policy != NULL && a->nops == 1) {
		/* two policies: which one the operator meant is a guess */
		ew_cli_err("apply: --policy '%s' and the operand '%s' both "
			   "name the policy: give one",
		    relay_policy, a->ops[0]);
		rc = EW_EXIT_USAGE;
	}
	if (rc == 0 && (all || ap.nrelays > 0 || ap.nselect > 0)) {
		/* POLICY: the operator's policy of every relay selected */
		for (k = 0; a->nops == 1 && k < ap.nrelays; k++)
			if (ew_cli_relay_selected(&ap, k))
				ap.relays[k].policy = a->ops[0];
		if ((rc = ew_cli_desk_open(NULL, 0, &st, &d)) != 0)
			rc = EW_EXIT_FAIL;
		if (rc == 0)
			rc = apply_relays(
			    &ap, d, ew_cli_policy_path(relay_policy));
		goto out;
	}
	/* no POLICY: the configuration's, or the one applied last */
	file = a->nops == 1 ? a->ops[0] : ew_cli_policy_path(relay_policy);
	if (rc == 0)
		rc = operator_policy(file, managed, policy, sizeof(policy));
	if (rc != 0)
		goto out;
	ew_cli_change_init(&ch, &ap, policy, ap.nft.now);
	if (ap.nft.dry_run && strcmp(ew_cli_db_path(), ":memory:") != 0 &&
	    stat(ew_cli_db_path(), &sb) != 0) {
		rc = without_store(NULL, &ch, file);
		goto out;
	}
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	if (strcmp(ew_cli_db_path(), ":memory:") == 0) {
		rc = without_store(d, &ch, file);
		goto out;
	}
	ew_diag_init(&dg);
	if (ap.nft.dry_run) {
		rc = ew_desk_sync_check(d, &ch, &nblocks, &dg);
		ew_cli_report(&dg);
		ew_diag_free(&dg);
		printf("apply: %s with %zu block%s in force from the store, "
		       "as %s would hold them%s\n",
		    policy, nblocks, nblocks == 1 ? "" : "s", managed,
		    rc == 0 ? " (-n: checked, nothing changed)" : "");
		rc = rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
		goto out;
	}
	if (count_blocks(st, &nblocks) != 0)
		nblocks = 0;
	fflush(stdout);
	rc = ew_desk_sync(d, &ch, &oc, &dg);
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	if (rc == EW_EXIT_OK)
		printf("apply: %s with %zu block%s in force from the store, "
		       "as %s: applied and recorded\n",
		    policy, nblocks, nblocks == 1 ? "" : "s", managed);
out:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&ap);
	return rc;
}
