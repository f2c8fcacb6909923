/*
 * cmd_status.c - exitwarden status: for each relay of this host (one
 * today), the operator's policy and the managed policy, what tor and
 * the kernel enforce, the blocks in force with reason, ticket and
 * expiry, the next expiry, and drift wherever the files, the recorded
 * version, tor or the kernel disagree with the store.  Read only.
 * Exit 0 when everything agrees, 1 when something drifted or could
 * not be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "desk/desk.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "store/store.h"

static void
json_kv(struct ew_buf *b, const char *k, const char *v)
{
	ew_buf_printf(b, ", \"%s\": ", k);
	if (v != NULL)
		ew_json_str(b, v);
	else
		ew_buf_puts(b, "null");
}

static void
json_drift(struct ew_buf *b, const char *k, int v)
{
	ew_buf_printf(b, ", \"%s\": %s", k,
	    v == 0   ? "false"
	    : v == 1 ? "true"
		     : "null");
}

static void
render_json(struct ew_store *st, const struct ew_desk_relay_status *s, size_t n,
    int64_t now, struct ew_buf *b)
{
	struct ew_store_rule *r = NULL;
	char t[EW_TIME_STRLEN];
	size_t nr = 0, i, k;

	ew_buf_puts(b, "{\"relays\": [");
	for (i = 0; i < n; i++) {
		const struct ew_desk_relay_status *x = &s[i];

		ew_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
		ew_json_str(b, x->relay->name);
		json_kv(b, "policy", x->relay->policy);
		json_kv(b, "managed", x->relay->managed);
		ew_buf_printf(b, ", \"managed_exists\": %s",
		    x->managed_exists ? "true" : "false");
		json_kv(b, "want", x->compose_rc == 0 ? x->want : NULL);
		json_kv(b, "recorded", x->recorded[0] ? x->recorded : NULL);
		json_drift(b, "managed_drift", x->drift);
		json_drift(b, "recorded_drift", x->recorded_drift);
		ew_buf_printf(b, ", \"tor\": {\"reachable\": %s",
		    x->tor_rc == 0 ? "true" : "false");
		json_kv(b, "control", x->tor_rc == 0 ? x->tor_control : NULL);
		json_kv(b, "version", x->tor_rc == 0 ? x->tor_version : NULL);
		json_kv(b, "live", x->tor_rc == 0 ? x->live : NULL);
		json_kv(b, "error", x->tor_rc != 0 ? x->tor_error : NULL);
		json_drift(b, "drift", x->tor_drift);
		ew_buf_printf(b, "}, \"nft\": {\"table\": %s",
		    x->nft_rc == 0         ? "true"
		    : x->nft_rc == -ENOENT ? "false"
					   : "null");
		json_drift(b, "drift", x->nft_drift);
		ew_buf_putc(b, '}');
		ew_buf_printf(b, ", \"blocks_in_force\": %zu, \"due\": %zu",
		    x->blocks, x->due);
		json_kv(b, "next_expiry",
		    x->next_expiry == EW_STORE_NO_TIME
			? NULL
			: ew_time_format(x->next_expiry, t, sizeof(t)));
		ew_buf_putc(b, '}');
	}
	ew_buf_puts(b, "], \"blocks\": [");
	if (ew_store_rule_list(st, 0, &r, &nr) == 0)
		for (k = 0; k < nr; k++) {
			ew_buf_puts(b, k ? ",\n " : "");
			ew_desk_block_json(b, &r[k], now);
		}
	ew_store_rules_free(r, nr);
	ew_buf_puts(b, "]}\n");
}

static void
render_text(struct ew_store *st, const struct ew_desk_relay_status *s, size_t n,
    int64_t now, struct ew_buf *b)
{
	char t[EW_TIME_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ew_desk_relay_status *x = &s[i];

		ew_buf_printf(b, "relay %s\n", x->relay->name);
		ew_buf_printf(b, "  operator's policy  %s%s\n",
		    x->relay->policy, x->policy_exists ? "" : " (missing)");
		ew_buf_printf(b, "  managed policy     %s: %s\n",
		    x->relay->managed,
		    !x->managed_exists ? "not written yet"
		    : x->drift == 0    ? "as the store has it"
		    : x->drift == 1
			? "DIFFERS from the store (exitwarden expire "
			  "writes and applies the store's)"
			: "unknown");
		ew_buf_printf(b, "  recorded version   %s\n",
		    x->recorded[0] == '\0'   ? "none"
		    : x->recorded_drift == 0 ? "the store's policy"
		    : x->recorded_drift == 1
			? "DIFFERS from the store's policy "
			  "(not applied since?)"
			: "unknown");
		if (x->tor_rc == 0)
			ew_buf_printf(b, "  tor                %s at %s: %s\n",
			    x->tor_version, x->tor_control,
			    x->tor_drift == 0   ? "runs the store's policy"
			    : x->tor_drift == 1 ? "runs ANOTHER policy (drift: "
						  "exitwarden apply)"
						: "unknown");
		else
			ew_buf_printf(b,
			    "  tor                not reachable (%s)\n",
			    x->tor_error[0] ? x->tor_error : "no answer");
		ew_buf_printf(b, "  nftables           %s\n",
		    x->nft_rc == 0 && x->nft_drift == 1
			? "table inet exitwarden of ANOTHER policy (drift: "
			  "exitwarden apply)"
		    : x->nft_rc == 0 && x->nft_drift == 0
			? "table inet exitwarden: the store's policy"
		    : x->nft_rc == 0 ? "table inet exitwarden loaded"
		    : x->nft_rc == -ENOENT
			? "NO table inet exitwarden (exitwarden apply loads it)"
		    : x->nft_rc == -EPERM ? "unknown (needs CAP_NET_ADMIN)"
					  : "unknown");
		ew_buf_printf(b, "  blocks in force    %zu", x->blocks);
		if (x->due > 0)
			ew_buf_printf(b,
			    " (%zu past their expiry: exitwarden "
			    "expire)",
			    x->due);
		ew_buf_putc(b, '\n');
		if (x->next_expiry != EW_STORE_NO_TIME)
			ew_buf_printf(b,
			    "  next expiry        %s (block %lld)\n",
			    ew_time_format(x->next_expiry, t, sizeof(t)),
			    (long long)x->next_id);
	}
	ew_buf_puts(b, "\nblocks in force:\n");
	ew_desk_blocks_render(st, now, 0, 0, b);
}

int
ew_cmd_status(struct ew_args *a)
{
	struct ew_cli_conn conn;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_relay relay;
	struct ew_desk_relay_status s;
	struct ew_diag_list dg;
	struct ew_buf b = EW_BUF_INIT;
	const char *policy = NULL;
	int64_t now = ew_time_now();
	int json = 0, rc = 0;
	size_t k;

	ew_cli_conn_init(&conn); /* the configuration's relay, if any */
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_POLICY)
			policy = v->val;
		else if (v->id == EW_OPT_NOW)
			rc = ew_cli_parse_now(v->val, &now);
		else if ((rc = ew_cli_conn_opt(&conn, v)) < 0)
			rc = ew_cli_unexpected(a, v);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 0);
	if (rc == 0)
		rc = ew_cli_conn_ready(&conn);
	if (rc != 0)
		goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	memset(&relay, 0, sizeof(relay));
	relay.name = ew_cli_conf_relay() != NULL && ew_cli_conf_relay()->name
			 ? ew_cli_conf_relay()->name
			 : "tor";
	relay.managed = ew_cli_managed_path();
	relay.policy = ew_cli_policy_path(policy);
	relay.store = ew_cli_db_path();
	relay.tor = conn.t;
	ew_diag_init(&dg);
	ew_desk_status(d, &relay, 1, now, &s, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (json)
		render_json(st, &s, 1, now, &b);
	else
		render_text(st, &s, 1, now, &b);
	ew_desk_status_free(&s, 1);
	rc = ew_cli_put(&b);
	if (rc == EW_EXIT_OK &&
	    (s.compose_rc != 0 || s.drift != 0 || s.recorded_drift != 0 ||
		s.tor_drift == 1 || s.nft_rc == -ENOENT || s.nft_drift == 1))
		rc = EW_EXIT_FAIL;
out:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_conn_done(&conn);
	return rc;
}
