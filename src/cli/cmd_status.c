/*
 * cmd_status.c - exitwarden status: for each relay of this host (those
 * of exitwarden.conf or --relay; --relay NAME selects), the operator's
 * policy and the managed policy, what tor and
 * the kernel enforce, the blocks in force with reason, ticket and
 * expiry, the next expiry, drift wherever the files, the recorded
 * version, tor or the kernel disagree with the store, and what the
 * daemon repaired (the store's repair counts).  Read only.
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
	ew_buf_puts(b, "]"); /* the caller closes it */
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

/* The daemon's repairs (exitwarden run), from the store. */
static void
render_repairs(struct ew_store *st, int json, struct ew_buf *b)
{
	struct ew_store_repair_count *v = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i;

	if (ew_store_repair_counts(st, &v, &n) != 0)
		n = 0;
	if (json)
		ew_buf_puts(b, ", \"repairs\": [");
	else
		ew_buf_puts(b, n == 0 ? "\nrepairs by exitwarden run: none\n"
				      : "\nrepairs by exitwarden run:\n");
	for (i = 0; i < n; i++) {
		const char *rl = v[i].relay != NULL && v[i].relay[0] != '\0'
				     ? v[i].relay
				     : NULL;

		ew_time_format(v[i].last_at, t, sizeof(t));
		if (json) {
			ew_buf_puts(b, i ? ", {\"relay\": " : "{\"relay\": ");
			if (rl != NULL)
				ew_json_str(b, rl);
			else
				ew_buf_puts(b, "null");
			json_kv(b, "what", v[i].what);
			ew_buf_printf(b, ", \"n\": %lld", (long long)v[i].n);
			json_kv(b, "last", t);
			ew_buf_putc(b, '}');
		} else {
			ew_buf_printf(b, "  %-12s %-14s %lld, last %s\n",
			    rl != NULL ? rl : "(host)", v[i].what,
			    (long long)v[i].n, t);
		}
	}
	if (json)
		ew_buf_puts(b, "]");
	ew_store_repair_counts_free(v, n);
}

/* Each relay's status (the desk set to it): whether anything drifted. */
static int
relays_status(struct ew_desk *d, const struct ew_desk_relay *rel, size_t n,
    int multi, int64_t now, struct ew_desk_relay_status *s)
{
	struct ew_diag_list dg;
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		ew_diag_init(&dg);
		if (ew_desk_set_relay(d, multi ? rel[i].name : NULL) != 0)
			return -1;
		ew_desk_status(d, &rel[i], 1, now, &s[i], &dg);
		ew_cli_report(&dg);
		ew_diag_free(&dg);
		bad |= s[i].compose_rc != 0 || s[i].drift != 0 ||
		       s[i].recorded_drift != 0 || s[i].tor_drift == 1 ||
		       s[i].nft_rc == -ENOENT || s[i].nft_drift == 1;
	}
	ew_desk_set_relay(d, NULL);
	return bad;
}

/*
 * The relays to show: those of exitwarden.conf or --relay (the
 * selected ones), each with its tor; else the host's only relay.
 */
static size_t
status_relays(
    struct ew_cli_apply *ap, const char *policy, struct ew_desk_relay *rel)
{
	size_t i, n = 0;

	if (ap->nrelays == 0) {
		memset(&rel[0], 0, sizeof(rel[0]));
		rel[0].name =
		    ew_cli_conf_relay() != NULL && ew_cli_conf_relay()->name
			? ew_cli_conf_relay()->name
			: "tor";
		rel[0].managed = ew_cli_managed_path();
		rel[0].policy = policy;
		rel[0].store = ew_cli_db_path();
		rel[0].tor = ap->conn.t;
		return 1;
	}
	for (i = 0; i < ap->nrelays; i++) {
		const struct ew_relay *r = &ap->relays[i];

		if (!ew_cli_relay_selected(ap, i))
			continue;
		memset(&rel[n], 0, sizeof(rel[n]));
		rel[n].name = r->name;
		rel[n].managed = r->managed;
		rel[n].policy = r->policy;
		rel[n].store = ew_cli_db_path();
		rel[n].tor = ap->conn.t;
		if (r->control != NULL)
			rel[n].tor.control = r->control;
		if (r->cookie != NULL)
			rel[n].tor.auth.cookie_file = r->cookie;
		n++;
	}
	return n;
}

int
ew_cmd_status(struct ew_args *a)
{
	struct ew_cli_apply ap;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_relay rel[EW_RELAYS_MAX];
	struct ew_desk_relay_status s[EW_RELAYS_MAX];
	struct ew_buf b = EW_BUF_INIT;
	const char *policy = NULL;
	int64_t now = ew_time_now();
	int json = 0, rc = 0, bad;
	size_t k, n = 0;

	ew_cli_apply_init(&ap); /* the configuration's relays, if any */
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_POLICY)
			policy = v->val;
		else if (v->id == EW_OPT_NOW)
			rc = ew_cli_parse_now(v->val, &now);
		else if (v->id == EW_OPT_RELAY)
			rc = ew_cli_relay_opt(&ap, v->val);
		else if ((rc = ew_cli_conn_opt(&ap.conn, v)) < 0)
			rc = ew_cli_unexpected(a, v);
	}
	policy = ew_cli_policy_path(policy);
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 0);
	if (rc == 0)
		rc = ew_cli_relays_ready(&ap, policy);
	if (rc == 0)
		rc = ew_cli_conn_ready(&ap.conn);
	if (rc != 0)
		goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	n = status_relays(&ap, policy, rel);
	bad = relays_status(d, rel, n, ap.nrelays > 0, now, s);
	if (json) {
		render_json(st, s, n, now, &b);
		render_repairs(st, 1, &b);
		ew_buf_puts(&b, "}\n");
	} else {
		render_text(st, s, n, now, &b);
		render_repairs(st, 0, &b);
	}
	ew_desk_status_free(s, n);
	rc = ew_cli_put(&b);
	if (rc == EW_EXIT_OK && bad != 0)
		rc = EW_EXIT_FAIL;
out:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&ap);
	return rc;
}
