/*
 * cmd_apply.c - exitwarden apply: tor apply, then nft apply, from one
 * command line, then the applied version recorded in the store's policy
 * history (what incidents are judged against).  Tor first: if tor does
 * not take the policy, the nftables table is not touched.  Each step
 * reports what it changed (the same lines tor apply and nft apply
 * print).  ticket block, expire and run apply through the same code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/tm.h"
#include "store/store.h"

int
ew_cli_apply_init(struct ew_cli_apply *a)
{
	memset(a, 0, sizeof(*a));
	ew_cli_nft_args_init(&a->nft);
	if ((a->tor = ew_cli_tor_apply_new()) == NULL) {
		ew_cli_err("out of memory");
		return -1;
	}
	return 0;
}

void
ew_cli_apply_free(struct ew_cli_apply *a)
{
	ew_cli_tor_apply_free(a->tor);
	a->tor = NULL;
}

int
ew_cli_apply_opt(struct ew_cli_apply *a, int argc, char **argv, int *i)
{
	int j = *i, rt, rn;

	if (strcmp(argv[j], "--no-apply") == 0) {
		a->no_apply = 1;
		return 0;
	}
	/* -n and --now belong to both steps */
	rt = ew_cli_tor_apply_opt(a->tor, argc, argv, i);
	if (rt > 0)
		return rt;
	if (rt == 0 && strcmp(argv[j], "-n") != 0 &&
	    strcmp(argv[j], "--dry-run") != 0 && strcmp(argv[j], "--now") != 0)
		return 0;
	*i = j;
	rn = ew_cli_nft_opt(argc, argv, i, 1, &a->nft);
	if (rn > 0)
		return rn;
	return rn < 0 && rt < 0 ? -1 : 0;
}

int
ew_cli_apply_file(struct ew_cli_apply *a, const char *file, int *tor_ok)
{
	int rc;

	a->nft.file = file;
	fflush(stdout);
	rc = ew_cli_tor_apply_run(a->tor, file);
	fflush(stdout);
	if (tor_ok != NULL)
		*tor_ok = rc == EW_EXIT_OK && !a->nft.dry_run;
	if (rc != EW_EXIT_OK) {
		ew_cli_err("apply: the tor step failed; the nftables table "
			   "was not touched");
		return rc;
	}
	if (a->tor_only && !a->nft.dry_run)
		return EW_EXIT_OK; /* the caller's in-place nft step follows */
	rc = ew_cli_nft_apply_run(&a->nft);
	fflush(stdout);
	if (rc != EW_EXIT_OK) {
		ew_cli_err("apply: tor %s the policy, but the nft step failed",
		    a->nft.dry_run ? "would take" : "has");
		return rc;
	}
	printf("apply: tor and nftables %s\n",
	    a->nft.dry_run ? "checked (dry run, nothing changed)"
			   : "both enforce the policy");
	return EW_EXIT_OK;
}

int
ew_cmd_apply(int argc, char **argv)
{
	struct ew_cli_apply a;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	int i, rc = EW_EXIT_OK, tor_ok = 0;

	if (ew_cli_apply_init(&a) != 0)
		return EW_EXIT_FAIL;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		rc = ew_cli_apply_opt(&a, argc, argv, &i);
		if (rc > 0)
			goto out;
		if (rc < 0 || strcmp(argv[i], "--no-apply") == 0) {
			ew_cli_err("unknown option '%s'", argv[i]);
			rc = ew_cli_usage("apply", NULL);
			goto out;
		}
	}
	rc = EW_EXIT_OK;
	if (i + 1 != argc) {
		rc = ew_cli_usage("apply", NULL);
		goto out;
	}
	/* Open the store first: a policy applied must be recorded. */
	if (!a.nft.dry_run && ew_cli_desk_open(NULL, 0, &st, &d) != 0) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	rc = ew_cli_apply_file(&a, argv[i], &tor_ok);
	/* what tor runs decides what the exit carries: record it even when
	 * the nft step failed after it */
	if (tor_ok && ew_cli_record(d, argv[i], a.nft.now) != EW_EXIT_OK)
		rc = EW_EXIT_FAIL;
out:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&a);
	return rc;
}
