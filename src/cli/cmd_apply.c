/*
 * cmd_apply.c - exitwarden apply: tor apply, then nft apply, from one
 * command line.  Tor first: if tor does not take the policy, the
 * nftables table is not touched.  Each step reports what it changed
 * (the same lines tor apply and nft apply print).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
ew_cmd_apply(int argc, char **argv)
{
	struct ew_cli_tor_apply *t = ew_cli_tor_apply_new();
	struct ew_cli_nft_args n;
	int i, j, rc = EW_EXIT_OK;

	if (t == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	ew_cli_nft_args_init(&n);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		int rt, rn;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		/* -n and --now belong to both steps */
		j = i;
		rt = ew_cli_tor_apply_opt(t, argc, argv, &i);
		if (rt > 0) {
			rc = rt;
			goto out;
		}
		if (rt == 0 && strcmp(argv[j], "-n") != 0 &&
		    strcmp(argv[j], "--dry-run") != 0 &&
		    strcmp(argv[j], "--now") != 0)
			continue;
		i = j;
		rn = ew_cli_nft_opt(argc, argv, &i, 1, &n);
		if (rn > 0) {
			rc = rn;
			goto out;
		}
		if (rn < 0 && rt < 0) {
			ew_cli_err("unknown option '%s'", argv[i]);
			rc = ew_cli_usage("apply", NULL);
			goto out;
		}
	}
	if (i + 1 != argc) {
		rc = ew_cli_usage("apply", NULL);
		goto out;
	}
	n.file = argv[i];
	fflush(stdout);
	rc = ew_cli_tor_apply_run(t, argv[i]);
	fflush(stdout);
	if (rc != EW_EXIT_OK) {
		ew_cli_err("apply: the tor step failed; the nftables table "
			   "was not touched");
		goto out;
	}
	rc = ew_cli_nft_apply_run(&n);
	fflush(stdout);
	if (rc != EW_EXIT_OK)
		ew_cli_err("apply: tor %s the policy, but the nft step failed",
		    n.dry_run ? "would take" : "has");
	else
		printf("apply: tor and nftables %s\n",
		    n.dry_run ? "checked (dry run, nothing changed)"
			      : "both enforce the policy");
out:
	ew_cli_tor_apply_free(t);
	return rc;
}
