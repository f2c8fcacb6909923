/*
 * cmd_fleet.c - exitwarden fleet init | add-host | add-relay | status:
 * one desk, many hosts, one PostgreSQL store (issue 14).
 *
 * The desk's role owns the store.  `fleet init` turns row-level
 * security on (src/store/fleet.c holds the SQL); `fleet add-host NAME`
 * records the host and prints, without running it, the SQL that makes
 * the host's own role (for a superuser to run) and the connection
 * string the host then uses as --db; `fleet add-relay` records a relay
 * of a host; `fleet status` shows every host and relay with the
 * revision it last applied and how far behind the store it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "store/store.h"

/* --now TIME, or the clock: 0, or the usage code (said). */
static int
fleet_now(struct ew_args *a, int64_t *now)
{
	size_t i;

	*now = ew_time_now();
	for (i = 0; i < a->no; i++) {
		const struct ew_optval *v = &a->o[i];

		if (v->id != EW_OPT_NOW)
			continue;
		if (ew_time_parse(v->val, strlen(v->val), now) != 0) {
			ew_cli_err("--now: bad time '%s'", v->val);
			return EW_EXIT_USAGE;
		}
	}
	return 0;
}

static int
need_server(void)
{
	if (ew_store_is_server(ew_cli_db_path()))
		return 0;
	ew_cli_err("a fleet needs a PostgreSQL store: give --db "
		   "postgresql://...");
	return EW_EXIT_FAIL;
}

int
ew_cmd_fleet_init(struct ew_args *a)
{
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	if (ew_cli_has(a, EW_OPT_DRY_RUN)) {
		ew_buf_puts(&b, ew_store_fleet_policy_sql());
		return ew_cli_put(&b);
	}
	if ((rc = need_server()) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if ((rc = ew_store_fleet_init(st)) != 0) {
		ew_cli_err("%s: fleet init: %s", ew_cli_db_label(),
		    ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	ew_buf_puts(&b, "row-level security on: hosts read only their own "
			"scope\n");
	return ew_cli_put(&b);
}

/* A random password: 32 hex digits (nothing a quote could break). */
static int
make_password(char *out, size_t cap)
{
	unsigned char r[16];
	size_t i;

	if (cap < 2 * sizeof(r) + 1 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

int
ew_cmd_fleet_add_host(struct ew_args *a)
{
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char role[64], pw[40], why[256];
	char *sql = NULL, *conn = NULL;
	const char *name;
	int64_t now;
	int rc, dry = ew_cli_has(a, EW_OPT_DRY_RUN);

	if ((rc = ew_cli_operands(a, 1, 1)) != 0 ||
	    (rc = fleet_now(a, &now)) != 0)
		return rc;
	name = a->ops[0];
	if (!ew_store_host_name_ok(name)) {
		ew_cli_err("bad host name '%s': 1 to 40 of a-z, 0-9 and _, "
			   "starting with a letter",
		    name);
		return EW_EXIT_USAGE;
	}
	if ((rc = need_server()) != 0)
		return rc;
	snprintf(role, sizeof(role), "%s%s", EW_STORE_HOST_ROLE, name);
	if (make_password(pw, sizeof(pw)) != 0) {
		ew_cli_err("no random bytes for a password");
		return EW_EXIT_FAIL;
	}
	if (ew_store_conninfo_as(
		ew_cli_db_path(), role, pw, &conn, why, sizeof(why)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), why);
		return EW_EXIT_FAIL;
	}
	if ((sql = ew_store_fleet_role_sql(role, pw)) == NULL) {
		free(conn);
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	rc = 0;
	if (!dry && ew_cli_store_open(&st) != 0)
		rc = EW_EXIT_FAIL;
	else if (!dry && (rc = ew_store_host_add(st, name, role, now)) != 0) {
		ew_cli_err("%s: fleet add-host '%s': %s", ew_cli_db_label(),
		    name,
		    rc == -EEXIST ? "already known" : ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	}
	ew_store_close(st);
	if (rc == 0) {
		ew_buf_printf(&b,
		    "-- run as a superuser (or a CREATEROLE role) on the "
		    "desk's database:\n%s"
		    "-- the host's --db (keep it secret):\n-- %s\n",
		    sql, conn);
		rc = ew_cli_put(&b);
	}
	free(sql);
	free(conn);
	return rc;
}

int
ew_cmd_fleet_add_relay(struct ew_args *a)
{
	struct ew_store *st = NULL;
	int64_t now;
	size_t i;
	int rc;

	if ((rc = ew_cli_operands(a, 3, 4)) != 0 ||
	    (rc = fleet_now(a, &now)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_relay_add(st, a->ops[2], a->nops > 3 ? a->ops[3] : NULL,
	    a->ops[0], a->ops[1], now);
	for (i = 0; rc == 0 && i < a->no; i++)
		if (a->o[i].id == EW_OPT_ADDRESS)
			rc = ew_store_relay_addr(
			    st, a->ops[2], a->o[i].val, now);
	if (rc != 0) {
		ew_cli_err("%s: fleet add-relay '%s': %s", ew_cli_db_label(),
		    a->ops[2],
		    rc == -EINVAL ? "bad fingerprint (40 hex digits, upper "
				    "case), instance, nickname or address"
				  : ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	return EW_EXIT_OK;
}

/* One host or relay row of the status, as text or JSON. */
static void
status_row(struct ew_buf *b, const struct ew_store_fleet_row *r, int relay,
    int64_t rev, int json, int first)
{
	char t[EW_TIME_STRLEN] = "never";
	int64_t lag = r->last_rev < 0 ? rev : rev - r->last_rev;
	/* drift: the block set of the host's last good apply is not the
	 * one the desk wants for it now (-1: no report says yet) */
	int drift = r->last_blocks == NULL
			? -1
			: strcmp(r->last_blocks, r->want_blocks) != 0;

	if (r->last_at != EW_STORE_NO_TIME)
		ew_time_format(r->last_at, t, sizeof(t));
	if (!json) {
		if (relay)
			ew_buf_printf(b, "  relay %-12s %s %-19s", r->instance,
			    r->fp, r->nickname ? r->nickname : "-");
		else
			ew_buf_printf(b, "host %-20s relays %-3lld", r->host,
			    (long long)r->relays);
		ew_buf_printf(b,
		    " rev %-6lld lag %-6lld outbox %-4lld last %s%s",
		    (long long)r->last_rev, (long long)lag,
		    (long long)r->outbox, t,
		    r->last_rev < 0 ? ""
		    : r->last_ok    ? " ok"
				    : " FAILED");
		if (!relay)
			ew_buf_printf(b, " drift %s repairs %lld",
			    drift < 0 ? "?"
			    : drift   ? "YES"
				      : "no",
			    (long long)r->repairs);
		ew_buf_putc(b, '\n');
		return;
	}
	ew_buf_puts(b, first ? "{" : ",{");
	ew_buf_puts(b, "\"host\":");
	ew_json_str(b, r->host);
	if (relay) {
		ew_buf_puts(b, ",\"fingerprint\":");
		ew_json_str(b, r->fp);
		ew_buf_puts(b, ",\"nickname\":");
		if (r->nickname != NULL)
			ew_json_str(b, r->nickname);
		else
			ew_buf_puts(b, "null");
		ew_buf_puts(b, ",\"instance\":");
		ew_json_str(b, r->instance);
	} else {
		ew_buf_puts(b, ",\"role\":");
		ew_json_str(b, r->role);
		ew_buf_printf(b, ",\"relays\":%lld", (long long)r->relays);
	}
	if (r->last_rev < 0) {
		ew_buf_printf(b,
		    ",\"rev\":null,\"lag\":%lld,\"outbox\":0,"
		    "\"last_apply\":null}",
		    (long long)lag);
		return;
	}
	ew_buf_printf(b, ",\"rev\":%lld,\"lag\":%lld,\"outbox\":%lld,",
	    (long long)r->last_rev, (long long)lag, (long long)r->outbox);
	if (!relay)
		ew_buf_printf(b, "\"drift\":%s,\"repairs\":%lld,",
		    drift < 0 ? "null"
		    : drift   ? "true"
			      : "false",
		    (long long)r->repairs);
	ew_buf_puts(b, "\"last_apply\":{\"at\":");
	ew_json_str(b, t);
	ew_buf_printf(
	    b, ",\"ok\":%s,\"digest\":", r->last_ok ? "true" : "false");
	ew_json_str(b, r->last_digest != NULL ? r->last_digest : "");
	ew_buf_puts(b, "}}");
}

/* The hosts' emergency blocks in force (block adopt / remove hID). */
static void
status_blocks(struct ew_buf *b, const struct ew_store_host_block *v, size_t n,
    int64_t now, int json)
{
	char t[EW_TIME_STRLEN];
	size_t i;

	size_t k = 0;

	for (i = 0; i < n; i++) {
		if (v[i].expires_at != EW_STORE_NO_TIME &&
		    v[i].expires_at <= now)
			continue; /* expired: gone from the host */
		if (v[i].expires_at != EW_STORE_NO_TIME)
			ew_time_format(v[i].expires_at, t, sizeof(t));
		else
			snprintf(t, sizeof(t), "never");
		if (!json) {
			ew_buf_printf(b,
			    "emergency block h%lld of host %s: %s (id %s, "
			    "expires %s)\n",
			    (long long)v[i].id, v[i].host,
			    ew_cli_esc(v[i].rule_text), v[i].uid, t);
			continue;
		}
		ew_buf_printf(b, "%s{\"id\":%lld,\"host\":", k++ ? "," : "",
		    (long long)v[i].id);
		ew_json_str(b, v[i].host);
		ew_buf_puts(b, ",\"uid\":");
		ew_json_str(b, v[i].uid);
		ew_buf_puts(b, ",\"rule\":");
		ew_json_str(b, v[i].rule_text);
		ew_buf_puts(b, ",\"expires\":");
		ew_json_str(b, t);
		ew_buf_putc(b, '}');
	}
}

int
ew_cmd_fleet_status(struct ew_args *a)
{
	struct ew_store_fleet_row *h = NULL, *r = NULL;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	size_t nh = 0, nr = 0, i, j;
	struct ew_store_host_block *hb = NULL;
	size_t nb = 0;
	int64_t rev = 0, now;
	int json = ew_cli_has(a, EW_OPT_JSON), rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0 ||
	    (rc = fleet_now(a, &now)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if ((rc = ew_store_rev(st, &rev)) != 0 ||
	    (rc = ew_store_fleet_list(st, 0, &h, &nh)) != 0 ||
	    (rc = ew_store_fleet_want(st, h, nh, now)) != 0 ||
	    (rc = ew_store_fleet_list(st, 1, &r, &nr)) != 0 ||
	    (rc = ew_store_host_block_list(st, -1, &hb, &nb)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		ew_store_fleet_free(h, nh);
		ew_store_fleet_free(r, nr);
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	if (json)
		ew_buf_printf(&b, "{\"rev\":%lld,\"hosts\":[", (long long)rev);
	else
		ew_buf_printf(&b, "store revision %lld\n", (long long)rev);
	for (i = 0; i < nh; i++)
		status_row(&b, &h[i], 0, rev, json, i == 0);
	if (json)
		ew_buf_puts(&b, "],\"relays\":[");
	for (i = 0; i < nr; i++)
		if (json)
			status_row(&b, &r[i], 1, rev, json, i == 0);
	if (!json)
		for (i = 0; i < nh; i++)
			for (j = 0; j < nr; j++)
				if (strcmp(r[j].host, h[i].host) == 0)
					status_row(&b, &r[j], 1, rev, 0, 0);
	if (json)
		ew_buf_puts(&b, "],\"host_blocks\":[");
	else if (nh == 0)
		ew_buf_puts(&b, "no hosts yet (exitwarden fleet add-host)\n");
	status_blocks(&b, hb, nb, now, json);
	if (json)
		ew_buf_puts(&b, "]}\n");
	ew_store_host_blocks_free(hb, nb);
	ew_store_fleet_free(h, nh);
	ew_store_fleet_free(r, nr);
	return ew_cli_put(&b);
}
