/*
 * cmd_tor.c - exitwarden tor apply | emit | status.  The apply step
 * itself is apply.c's (shared with apply, ticket block, expire, run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emit/ctl.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "policy/policy.h"

int
ew_cmd_tor_emit(struct ew_args *a)
{
	struct ew_policy *p = NULL;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	const char *out = NULL;
	int64_t now = ew_time_now();
	size_t k;
	int rc;

	for (k = 0; k < a->no; k++) {
		if (a->o[k].id == EW_OPT_OUTPUT)
			out = a->o[k].val;
		else if ((rc = ew_cli_parse_now(a->o[k].val, &now)) != 0)
			return rc;
	}
	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	ew_diag_init(&d);
	if (ew_policy_parse_file(a->ops[0], 0, &d, &p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	ew_tor_fragment(p, a->ops[0], now, &b);
	if (b.oom) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
	} else if (out == NULL) {
		if (ew_cli_write(ew_buf_str(&b), b.len) < 0)
			rc = EW_EXIT_FAIL;
	} else {
		ew_diag_init(&d);
		if (ew_tor_write_fragment(out, ew_buf_str(&b), b.len, &d) < 0)
			rc = EW_EXIT_FAIL;
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
	}
	ew_buf_free(&b);
	ew_policy_free(p);
	return rc;
}

int
ew_cmd_tor_apply(struct ew_args *a)
{
	struct ew_cli_apply ap;
	size_t k;
	int rc = 0;

	ew_cli_apply_init(&ap);
	for (k = 0; rc == 0 && k < a->no; k++)
		if ((rc = ew_cli_apply_opt(&ap, &a->o[k])) < 0)
			rc = ew_cli_unexpected(a, &a->o[k]);
	if (rc == 0)
		rc = ew_cli_operands(a, 1, 1);
	if (rc == 0)
		rc = ew_cli_tor_run(&ap, a->ops[0]);
	ew_cli_apply_free(&ap);
	return rc;
}

static void
json_field(struct ew_buf *b, const char *k, const char *v, int last)
{
	ew_buf_printf(b, "\"%s\":", k);
	if (v != NULL)
		ew_json_str(b, v);
	else
		ew_buf_puts(b, "null");
	ew_buf_puts(b, last ? "" : ",");
}

/* The policy's digest against tor's: 0 same, 1 differs, or -1. */
static int
compare(const char *file, int64_t now, const char *live, char ours[65])
{
	struct ew_policy *p;
	struct ew_expanded *e;
	struct ew_buf b = EW_BUF_INIT;
	int rc = -1;

	if (ew_cli_load(file, now, &p, &e) != 0)
		return -1;
	ew_expanded_format(e, &b);
	if (!b.oom && ew_tor_list_digest(b.p, ours) == 0)
		rc = strcmp(ours, live) != 0;
	ew_buf_free(&b);
	ew_expanded_free(e);
	ew_policy_free(p);
	return rc;
}

int
ew_cmd_tor_status(struct ew_args *a)
{
	struct ew_cli_conn o;
	struct ew_tor_status st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	int64_t now = ew_time_now();
	char ours[65];
	int rc = 0, json = 0, diff = 0;
	size_t k;

	ew_cli_conn_init(&o);
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_NOW)
			rc = ew_cli_parse_now(v->val, &now);
		else
			rc = ew_cli_conn_opt(&o, v);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 1);
	if (rc == 0)
		rc = ew_cli_conn_ready(&o);
	if (rc != 0) {
		ew_cli_conn_done(&o);
		return rc;
	}
	ew_diag_init(&d);
	rc = ew_tor_status_get(&o.t, &st, &d);
	ew_cli_conn_done(&o);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		ew_cli_err("cannot read tor's status");
		ew_tor_status_free(&st);
		return EW_EXIT_FAIL;
	}
	if (a->nops == 1)
		diff = compare(a->ops[0], now, st.digest, ours);
	if (json) {
		ew_buf_putc(&b, '{');
		json_field(&b, "control", st.control, 0);
		json_field(&b, "auth", st.auth_method, 0);
		json_field(&b, "version", st.version, 0);
		ew_buf_printf(&b, "\"exit\":%s,", st.exit ? "true" : "false");
		json_field(&b, "digest", st.digest, 0);
		json_field(&b, "p", st.p, 0);
		json_field(&b, "p6", st.p6, a->nops == 0 || diff < 0);
		if (a->nops == 1 && diff >= 0)
			ew_buf_printf(&b,
			    "\"policy_digest\":\"%s\","
			    "\"matches\":%s",
			    ours, diff ? "false" : "true");
		ew_buf_puts(&b, "}\n");
	} else {
		ew_buf_printf(
		    &b, "control: %s (%s auth)\n", st.control, st.auth_method);
		ew_buf_printf(&b,
		    "tor: %s\nexit: %s\nlive policy: sha256:%s\np: %s\np6: "
		    "%s\n",
		    st.version, st.exit ? "yes" : "no", st.digest, st.p, st.p6);
		if (a->nops == 1 && diff >= 0)
			ew_buf_printf(&b, "policy: sha256:%s (%s)\n", ours,
			    diff ? "differs from tor" : "matches tor");
	}
	ew_tor_status_free(&st);
	rc = ew_cli_put(&b);
	if (rc == EW_EXIT_OK && diff != 0)
		rc = EW_EXIT_FAIL;
	return rc;
}
