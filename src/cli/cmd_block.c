/*
 * cmd_block.c - exitwarden block add | list | remove: the blocks in the
 * store by hand (fail2ban's banip/unbanip, CrowdSec's decisions).
 *
 * add and remove are each one change of the desk (ew_desk_block_add,
 * ew_desk_block_remove): the store, managed.policy, tor, nftables and
 * the recorded version move together or not at all.  -n makes the
 * change in a store transaction rolled back and shows what the
 * effective policy would gain or lose; nothing is written.  A removed
 * block stays in the store, marked removed (block list --all).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "store/store.h"

/* Blocks last 90 days unless --expires says otherwise (as ticket
 * block's). */
#define EW_BLOCK_DEFAULT_TTL "90d"

struct block_args {
	struct ew_cli_apply apply;
	const char *policy, *expires, *reason;
	char host[64];     /* --host NAME[:RELAY]: the NAME, or "" */
	const char *relay; /* the RELAY, or NULL */
	int64_t ticket, now;
	int dry_run, json, all;
};

static int
parse_id(const char *what, const char *s, int64_t *id)
{
	uint64_t v;

	if (ew_parse_uint(s, strlen(s), 1, INT64_MAX, &v) != 0) {
		ew_cli_err("'%s' is not a %s number", s, what);
		return EW_EXIT_USAGE;
	}
	*id = (int64_t)v;
	return 0;
}

/* --host NAME[:RELAY]: a fleet host, and one of its relays. */
static int
parse_host(const char *val, struct block_args *b)
{
	size_t n = strcspn(val, ":");

	if (n >= sizeof(b->host) ||
	    (snprintf(b->host, sizeof(b->host), "%.*s", (int)n, val),
		!ew_store_host_name_ok(b->host)) ||
	    (val[n] == ':' &&
		(val[n + 1] == '\0' || strlen(val + n + 1) > 64))) {
		ew_cli_err("--host: bad host '%s' (NAME or NAME:RELAY; a name "
			   "is 1 to 40 of a-z, 0-9 and _, starting with a "
			   "letter)",
		    val);
		return EW_EXIT_USAGE;
	}
	b->relay = val[n] == ':' ? val + n + 1 : NULL;
	return 0;
}

static int
block_args(const struct ew_args *a, struct block_args *b)
{
	size_t k;
	int rc;

	memset(b, 0, sizeof(*b));
	ew_cli_apply_init(&b->apply);
	b->now = b->apply.tor_now;
	b->expires = EW_BLOCK_DEFAULT_TTL;
	for (k = 0; k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		switch (v->id) {
		case EW_OPT_POLICY:
			b->policy = v->val;
			continue;
		case EW_OPT_EXPIRES:
			b->expires = v->val;
			continue;
		case EW_OPT_REASON:
			b->reason = v->val;
			continue;
		case EW_OPT_TICKET:
			if ((rc = parse_id("ticket", v->val, &b->ticket)) != 0)
				return rc;
			continue;
		case EW_OPT_HOST:
			if ((rc = parse_host(v->val, b)) != 0)
				return rc;
			continue;
		case EW_OPT_JSON:
			b->json = 1;
			continue;
		case EW_OPT_ALL:
			b->all = 1;
			continue;
		case EW_OPT_DRY_RUN:
			b->dry_run = 1;
			break;
		default:
			break;
		}
		if ((rc = ew_cli_apply_opt(&b->apply, v)) > 0)
			return rc;
		if (rc < 0)
			return ew_cli_unexpected(a, v);
		if (v->id == EW_OPT_NOW)
			b->now = b->apply.tor_now;
	}
	b->policy = ew_cli_policy_path(b->policy);
	return 0;
}

/* -n: the change to the effective policy, and that nothing changed. */
static int
show_preview(int rc, struct ew_buf *diff, struct ew_diag_list *dg)
{
	ew_cli_report(dg);
	ew_diag_free(dg);
	if (rc != 0) {
		ew_buf_free(diff);
		return EW_EXIT_FAIL;
	}
	if (diff->len == 0)
		printf("the effective policy would not change (the rule is "
		       "shadowed, or inactive)\n");
	else
		printf("the effective policy would change:\n");
	rc = ew_cli_put(diff);
	printf("-n: nothing changed\n");
	return rc;
}

int
ew_cmd_block_add(struct ew_args *a)
{
	struct block_args b;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_desk_rule r;
	struct ew_diag_list dg;
	struct ew_buf canon = EW_BUF_INIT, diff = EW_BUF_INIT;
	char tm[EW_TIME_STRLEN];
	int64_t expires = 0, id = 0;
	int rc;

	if ((rc = block_args(a, &b)) != 0 ||
	    (rc = ew_cli_operands(a, 1, 1)) != 0 ||
	    (rc = ew_cli_parse_expires(b.expires, b.now, &expires)) != 0)
		goto out;
	ew_diag_init(&dg);
	rc = ew_desk_block_rule("<cmdline>", a->ops[0], &canon, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (rc != 0) {
		ew_cli_err("block not added: nothing changed");
		rc = EW_EXIT_FAIL;
		goto out;
	}
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	ew_cli_change_init(&ch, &b.apply, b.policy, b.now);
	memset(&r, 0, sizeof(r));
	r.rule = ew_buf_str(&canon);
	r.reason = b.reason;
	r.ticket_id = b.ticket;
	r.expires = expires;
	r.host = b.host[0] ? b.host : NULL;
	r.relay = b.relay;
	printf("block %s", ew_cli_esc(r.rule));
	if (r.host != NULL)
		printf(" for host %s%s%s", r.host, r.relay ? " relay " : "",
		    r.relay ? ew_cli_esc(r.relay) : "");
	if (b.ticket > 0)
		printf(" for ticket %lld", (long long)b.ticket);
	printf(", %s%s\n",
	    expires == EW_STORE_NO_TIME ? "until removed" : "until ",
	    expires == EW_STORE_NO_TIME
		? ""
		: ew_time_format(expires, tm, sizeof(tm)));
	ew_diag_init(&dg);
	if (b.dry_run) {
		rc = ew_desk_block_add_preview(d, &ch, &r, &diff, &dg);
		rc = show_preview(rc, &diff, &dg);
		goto out;
	}
	fflush(stdout);
	rc = ew_desk_block_add(d, &ch, &r, &id, &oc, &dg);
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	if (rc == EW_EXIT_OK)
		printf("block %lld added\n", (long long)id);
out:
	ew_buf_free(&canon);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&b.apply);
	return rc;
}

int
ew_cmd_block_list(struct ew_args *a)
{
	struct block_args b;
	struct ew_store *st = NULL;
	struct ew_buf out = EW_BUF_INIT;
	int rc;

	if ((rc = block_args(a, &b)) != 0 ||
	    (rc = ew_cli_operands(a, 0, 0)) != 0) {
		ew_cli_apply_free(&b.apply);
		return rc;
	}
	ew_cli_apply_free(&b.apply);
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if (ew_desk_blocks_render(st, b.now, b.all, b.json, &out) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		ew_buf_free(&out);
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	return ew_cli_put(&out);
}

static void
say_removed(const struct ew_desk_removed *r, const char *how)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		printf("%s block %lld: %s", how, (long long)r->v[i].id,
		    ew_cli_esc(r->v[i].rule));
		if (r->v[i].ticket_id > 0)
			printf(" (ticket %lld)", (long long)r->v[i].ticket_id);
		putchar('\n');
	}
}

int
ew_cmd_block_remove(struct ew_args *a)
{
	struct block_args b;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_desk_removed rm;
	struct ew_diag_list dg;
	struct ew_buf diff = EW_BUF_INIT;
	int64_t *ids = NULL;
	size_t i;
	int rc;

	memset(&rm, 0, sizeof(rm));
	if ((rc = block_args(a, &b)) != 0)
		goto out;
	if (a->nops == 0 && b.ticket == 0) {
		ew_cli_err("name the blocks to remove: IDs (block list), or "
			   "--ticket N");
		rc = ew_cli_usage("block", "remove");
		goto out;
	}
	if ((ids = calloc(a->nops + 1, sizeof(*ids))) == NULL) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < a->nops; i++)
		if ((rc = parse_id("block", a->ops[i], &ids[i])) != 0)
			goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	ew_cli_change_init(&ch, &b.apply, b.policy, b.now);
	ew_diag_init(&dg);
	if (b.dry_run) {
		rc = ew_desk_block_remove_preview(
		    d, &ch, ids, a->nops, b.ticket, &rm, &diff, &dg);
		if (rc == 0)
			say_removed(&rm, "would remove");
		rc = show_preview(rc, &diff, &dg);
		goto out;
	}
	fflush(stdout);
	rc =
	    ew_desk_block_remove(d, &ch, ids, a->nops, b.ticket, &rm, &oc, &dg);
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	say_removed(&rm, "removed");
	if (rc == EW_EXIT_OK)
		printf("%zu block%s removed (kept as history: block list "
		       "--all)\n",
		    rm.n, rm.n == 1 ? "" : "s");
out:
	ew_desk_removed_free(&rm);
	free(ids);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&b.apply);
	return rc;
}
