/*
 * cmd_guard.c - exitwarden guard status: the surge guards of the policy,
 * the surge blocks in force and the counters (the store's, and the
 * kernel's when the table is loaded).  The guard's part of exitwarden
 * run is in cmd_inbox.c, its decisions in src/desk/guard.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

static void
status_text(const struct ew_policy *p, const struct ew_store_rule *r, char **rg,
    size_t nr, const struct ew_store_guard_count *c, size_t nc,
    const struct ew_nft_counter *k, size_t nk, int kernel, struct ew_buf *b)
{
	struct ew_guard_info gi;
	char t[EW_TIME_STRLEN];
	size_t i, j;

	ew_buf_printf(b, "guards: %zu, at most %u surge blocks at once\n",
	    ew_policy_guard_count(p), ew_policy_guard_cap(p));
	for (i = 0; i < ew_policy_guard_count(p); i++) {
		int64_t s = 0, cp = 0, al = 0;
		size_t inf = 0;

		ew_policy_guard_info(p, i, &gi);
		for (j = 0; j < nc; j++)
			if (strcmp(c[j].guard, gi.name) == 0) {
				s = c[j].surges;
				cp = c[j].capped;
				al = c[j].allowed;
			}
		for (j = 0; j < nr; j++)
			inf += rg[j] != NULL && strcmp(rg[j], gi.name) == 0;
		ew_buf_printf(b,
		    "  %s: over %s per destination/%u, block %llds, %zu of %u "
		    "blocks in force; %lld surges blocked, %lld capped, %lld "
		    "allowed",
		    gi.name, gi.rate, gi.len4, (long long)gi.block, inf, gi.cap,
		    (long long)s, (long long)cp, (long long)al);
		for (j = 0; kernel && j < nk; j++) {
			size_t l = strlen(gi.name);

			if (strncmp(k[j].name, "g_", 2) == 0 &&
			    strncmp(k[j].name + 2, gi.name, l) == 0 &&
			    k[j].name[2 + l] == '_')
				ew_buf_printf(b, "; kernel %s %llu",
				    k[j].name + 3 + l,
				    (unsigned long long)k[j].packets);
		}
		ew_buf_putc(b, '\n');
	}
	ew_buf_printf(b, "surge blocks in force: %zu\n", nr);
	for (i = 0; i < nr; i++)
		ew_buf_printf(b, "  %s  (%s) until %s\n", r[i].rule_text,
		    r[i].reason ? r[i].reason : "",
		    ew_time_format(r[i].expires_at, t, sizeof(t)));
	if (!kernel)
		ew_buf_puts(b, "kernel counters: not available (no table "
			       "inet exitwarden, or not root)\n");
}

static void
status_json(const struct ew_policy *p, const struct ew_store_rule *r, char **rg,
    size_t nr, const struct ew_store_guard_count *c, size_t nc,
    const struct ew_nft_counter *k, size_t nk, int kernel, struct ew_buf *b)
{
	struct ew_guard_info gi;
	char t[EW_TIME_STRLEN];
	size_t i, j;

	ew_buf_printf(b, "{\"cap\": %u, \"guards\": [", ew_policy_guard_cap(p));
	for (i = 0; i < ew_policy_guard_count(p); i++) {
		int64_t s = 0, cp = 0, al = 0;

		ew_policy_guard_info(p, i, &gi);
		for (j = 0; j < nc; j++)
			if (strcmp(c[j].guard, gi.name) == 0) {
				s = c[j].surges;
				cp = c[j].capped;
				al = c[j].allowed;
			}
		ew_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
		ew_json_str(b, gi.name);
		ew_buf_puts(b, ", \"rate\": ");
		ew_json_str(b, gi.rate);
		ew_buf_printf(b,
		    ", \"prefix4\": %u, \"prefix6\": %u, \"block\": %lld, "
		    "\"cap\": %u, \"surges\": %lld, \"capped\": %lld, "
		    "\"allowed\": %lld, \"kernel\": ",
		    gi.len4, gi.len6, (long long)gi.block, gi.cap, (long long)s,
		    (long long)cp, (long long)al);
		if (!kernel) {
			ew_buf_puts(b, "null}");
			continue;
		}
		ew_buf_putc(b, '{');
		for (j = 0, s = 0; j < nk; j++) {
			size_t l = strlen(gi.name);

			if (strncmp(k[j].name, "g_", 2) != 0 ||
			    strncmp(k[j].name + 2, gi.name, l) != 0 ||
			    k[j].name[2 + l] != '_')
				continue;
			ew_buf_puts(b, s++ ? ", " : "");
			ew_json_str(b, k[j].name + 3 + l);
			ew_buf_printf(
			    b, ": %llu", (unsigned long long)k[j].packets);
		}
		ew_buf_puts(b, "}}");
	}
	ew_buf_puts(b, "], \"blocks\": [");
	for (i = 0; i < nr; i++) {
		ew_buf_puts(b, i ? ", {\"rule\": " : "{\"rule\": ");
		ew_json_str(b, r[i].rule_text);
		ew_buf_puts(b, ", \"guard\": ");
		ew_json_str(b, rg[i] ? rg[i] : "");
		ew_buf_puts(b, ", \"reason\": ");
		ew_json_str(b, r[i].reason ? r[i].reason : "");
		ew_buf_puts(b, ", \"expires\": ");
		ew_json_str(b, ew_time_format(r[i].expires_at, t, sizeof(t)));
		ew_buf_putc(b, '}');
	}
	ew_buf_puts(b, "]}\n");
}

int
ew_cmd_guard_status(struct ew_args *a)
{
	struct ew_store *st = NULL;
	struct ew_policy *p = NULL;
	struct ew_diag_list d;
	struct ew_store_rule *r = NULL;
	char **rg = NULL;
	struct ew_store_guard_count *c = NULL;
	struct ew_nft_counter *k = NULL;
	struct ew_buf out = EW_BUF_INIT, err = EW_BUF_INIT;
	const char *policy = NULL;
	size_t nr = 0, nc = 0, nk = 0, j;
	int json = 0, rc, kernel;

	for (j = 0; j < a->no; j++) {
		if (a->o[j].id == EW_OPT_JSON)
			json = 1;
		else
			policy = a->o[j].val;
	}
	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	rc = EW_EXIT_FAIL;
	policy = ew_cli_policy_path(policy);
	ew_diag_init(&d);
	if (ew_policy_parse_file(policy, 0, &d, &p) != 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ew_diag_free(&d);
	if (ew_cli_store_open(&st) != 0)
		goto out;
	if (ew_store_surge_list(st, &r, &rg, &nr) != 0 ||
	    ew_store_guard_counts(st, &c, &nc) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		goto out;
	}
	kernel = ew_nft_counters(&k, &nk, &err) == 0;
	if (json)
		status_json(p, r, rg, nr, c, nc, k, nk, kernel, &out);
	else
		status_text(p, r, rg, nr, c, nc, k, nk, kernel, &out);
	rc = ew_cli_put(&out);
out:
	ew_nft_counters_free(k, nk);
	ew_store_guard_counts_free(c, nc);
	ew_store_surges_free(r, rg, nr);
	ew_store_close(st);
	ew_policy_free(p);
	ew_buf_free(&out);
	ew_buf_free(&err);
	return rc;
}
