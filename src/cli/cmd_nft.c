/*
 * cmd_nft.c - exitwarden nft apply | element | emit | flush: the kernel
 * backstop in "table inet exitwarden" (src/emit/nft.h).  Building and
 * loading the table is apply.c's (the nft step of every apply).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/tm.h"

/* nft emit's and nft apply's options and file. */
static int
nft_args(struct ew_args *a, struct ew_cli_apply *ap)
{
	size_t k;
	int rc = 0;

	ew_cli_apply_init(ap);
	for (k = 0; rc == 0 && k < a->no; k++)
		if ((rc = ew_cli_apply_opt(ap, &a->o[k])) < 0)
			rc = ew_cli_unexpected(a, &a->o[k]);
	if (rc == 0)
		rc = ew_cli_operands(a, 1, 1);
	if (rc == 0)
		ap->nft.file = a->ops[0];
	/* several relays: each its policy= file, or FILE */
	if (rc == 0 && (ap->nrelays > 0 || ap->nselect > 0)) {
		rc = ew_cli_relays_ready(ap, a->ops[0]);
		ap->cur = -2;
	}
	return rc;
}

int
ew_cmd_nft_emit(struct ew_args *a)
{
	struct ew_cli_apply ap;
	struct ew_buf out = EW_BUF_INIT;
	int rc = nft_args(a, &ap);

	if (rc == 0)
		rc = ew_cli_nft_build(&ap.nft, &out, NULL);
	if (rc == EW_EXIT_OK && ew_cli_write(out.p, out.len) < 0)
		rc = EW_EXIT_FAIL;
	ew_buf_free(&out);
	ew_cli_apply_free(&ap);
	return rc;
}

int
ew_cmd_nft_apply(struct ew_args *a)
{
	struct ew_cli_apply ap;
	const struct ew_conf *c = ew_cli_conf();
	int rc = nft_args(a, &ap);

	/* One table serves every relay of the host: loading one policy
	 * without the relays would drop the others' chains. */
	if (rc == 0 && ap.nrelays == 0 && ap.nselect == 0 && c != NULL &&
	    c->n_relays > 1) {
		ew_cli_err("nft apply: %s names %zu relays and their one table "
			   "needs them all: use 'exitwarden apply "
			   "--all-relays' (or --relay NAME for each)",
		    c->path ? c->path : "the configuration", c->n_relays);
		rc = EW_EXIT_USAGE;
	}
	if (rc == 0)
		rc = ew_cli_keeps_blocks(ap.nft.file, ap.nft.dry_run);
	if (rc == 0)
		rc = ew_cli_nft_run(&ap.nft);
	ew_cli_apply_free(&ap);
	return rc;
}

int
ew_cmd_nft_flush(struct ew_args *a)
{
	struct ew_buf err = EW_BUF_INIT;
	int rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	rc = ew_nft_flush(ew_cli_has(a, EW_OPT_DRY_RUN), &err);
	if (rc < 0) {
		ew_cli_nft_err(&err, rc);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	ew_buf_free(&err);
	return EW_EXIT_OK;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * exitwarden nft element add|delete SET ELEMENT...: change one of our
 * sets in place over netlink (one transaction, no dump of the set).
 * The policy stays the truth: the next apply rebuilds the set from it.
 */
int
ew_cmd_nft_element(struct ew_args *a)
{
	struct ew_buf err = EW_BUF_INIT;
	struct ew_nft_elem *v;
	double t0, t1;
	char *const *ops = a->ops;
	int argc = (int)a->nops + 1; /* as if the verb were there */
	int add, i, rc;

	if (argc < 4 ||
	    (strcmp(ops[0], "add") != 0 && strcmp(ops[0], "delete") != 0))
		return ew_cli_usage("nft", "element");
	add = strcmp(ops[0], "add") == 0;
	v = calloc((size_t)argc, sizeof(*v));
	if (v == NULL)
		return EW_EXIT_FAIL;
	for (i = 3; i < argc; i++) {
		if (ew_nft_elem_parse(ops[i - 1], &v[i - 3]) < 0) {
			ew_cli_err(
			    "malformed address or prefix '%s'", ops[i - 1]);
			free(v);
			return EW_EXIT_USAGE;
		}
	}
	t0 = mono_ms();
	rc = ew_nft_set_update(ops[1], add, v, (size_t)argc - 3, &err);
	t1 = mono_ms();
	free(v);
	if (rc < 0) {
		ew_cli_nft_err(&err, rc);
		if (rc == -EEXIST)
			ew_cli_err(
			    "an element overlaps one already in set '%s'",
			    ops[1]);
		else if (rc == -ENOENT)
			ew_cli_err(
			    "no set '%s' or no such element in it", ops[1]);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	printf("nft: %s %d element%s %s set %s in %.1f ms\n",
	    add ? "added" : "deleted", argc - 3, argc == 4 ? "" : "s",
	    add ? "to" : "from", ops[1], t1 - t0);
	ew_buf_free(&err);
	return EW_EXIT_OK;
}
