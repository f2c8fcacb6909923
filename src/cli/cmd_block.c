/*
 * cmd_block.c - exitwarden block add | list | confirm | remove: the blocks in
 * the store by hand (fail2ban's banip/unbanip, CrowdSec's decisions).
 *
 * add and remove are each one change of the desk (ew_desk_block_add,
 * ew_desk_block_remove): the store, managed.policy, tor, nftables and
 * the recorded version move together or not at all.  -n makes the
 * change in a store transaction rolled back and shows what the
 * effective policy would gain or lose; nothing is written.  A removed
 * block stays in the store, marked removed (block list --all).
 *
 * With several relays (exitwarden.conf, --relay) a block is for every
 * relay, or with --relay NAME for that relay alone, and the change is
 * applied to the relays it concerns (every relay, or NAME's) as one.
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
#include "lib/json.h"
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
	int dry_run, json, all, pending;
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
		case EW_OPT_PENDING:
			b->pending = 1;
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

/*
 * The relays of the host (exitwarden.conf, --relay): ch set for the
 * relay --relay NAME selects (the desk's relay too when `own`: a block
 * for it alone), else for the first relay (the preview's).  *multi 0:
 * the host's only relay, ch as it was.  0 or an exit code.
 */
static int
block_relays(struct block_args *b, struct ew_desk *d, struct ew_desk_change *ch,
    int own, int *multi)
{
	struct ew_cli_apply *ap = &b->apply;
	int rc;

	*multi = 0;
	if ((rc = ew_cli_relays_ready(ap, b->policy)) != 0)
		return rc;
	if (ap->nrelays == 0)
		return 0;
	*multi = 1;
	if (ap->nselect > 1) {
		ew_cli_err("one --relay NAME, or none (every relay)");
		return EW_EXIT_USAGE;
	}
	if (ap->nselect == 1) {
		if (ew_cli_relay_use(ap, ew_cli_relay_find(ap, ap->select[0]),
			own ? d : NULL, ch) != 0)
			return EW_EXIT_FAIL;
		return 0;
	}
	ch->managed = ap->relays[0].managed;
	ch->policy = ap->relays[0].policy;
	return 0;
}

/*
 * block remove ID... without --relay, several relays: when every block
 * named is for one relay, that relay alone is applied (the others'
 * tor and chains are left alone); else every relay.
 */
static void
remove_scope(
    struct block_args *b, struct ew_store *st, const int64_t *ids, size_t n)
{
	struct ew_cli_apply *ap = &b->apply;
	struct ew_store_rule *v = NULL;
	const char *one = NULL;
	size_t nv = 0, i, k;
	int ok = n > 0 && b->ticket == 0;

	if (ap->nrelays == 0 || ap->nselect > 0 || !ok ||
	    ew_store_rule_list(st, 0, &v, &nv) != 0)
		return;
	for (i = 0; i < n && ok; i++) {
		for (k = 0; k < nv && v[k].id != ids[i]; k++)
			;
		if (k == nv || v[k].relay == NULL || v[k].relay[0] == '\0' ||
		    (one != NULL && strcmp(one, v[k].relay) != 0))
			ok = 0;
		else
			one = v[k].relay;
	}
	if (ok && one != NULL &&
	    (k = (size_t)ew_cli_relay_find(ap, one)) < ap->nrelays) {
		ap->select[0] = ap->relays[k].name;
		ap->nselect = 1;
	}
	ew_store_rules_free(v, nv);
}

/* The change of each relay selected: ew_desk_block_{add,remove}_relays'
 * arguments.  How many. */
static size_t
relay_changes(
    struct block_args *b, struct ew_desk_change *chs, const char **names)
{
	return ew_cli_relay_changes(&b->apply, b->policy, b->now, chs, names);
}

/*
 * block add on a fleet host (the host's connection, or the store
 * unreachable on a machine that follows the desk): the host's own
 * emergency block, applied here, queued, sent to the desk.  An exit
 * code, or -1 when this is no host (the desk's block add goes on).
 */
static int
host_block(struct block_args *b, const char *rule, int64_t expires)
{
	struct ew_store *st = NULL;
	char host[64];
	int rc;

	if ((rc = ew_cli_fleet_host_mode(&st, host, sizeof(host))) == 0)
		return -1;
	if (rc != 1)
		return rc;
	if (b->host[0] != '\0' || b->ticket > 0 || b->apply.nselect > 0) {
		ew_cli_err("on fleet host %s a block is the host's own "
			   "emergency block: no --host, --ticket or --relay",
		    host);
		ew_store_close(st);
		return EW_EXIT_USAGE;
	}
	if ((rc = ew_cli_relays_ready(&b->apply, b->policy)) == 0)
		rc = ew_cli_fleet_block(&b->apply, b->policy, st, host, rule,
		    b->reason, expires, b->now, b->dry_run);
	ew_store_close(st);
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
	struct ew_desk_change chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	char tm[EW_TIME_STRLEN];
	int64_t expires = 0, id = 0;
	size_t n;
	int rc, multi = 0;

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
	if ((rc = host_block(&b, ew_buf_str(&canon), expires)) >= 0)
		goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	ew_cli_change_init(&ch, &b.apply, b.policy, b.now);
	if ((rc = block_relays(&b, d, &ch, 1, &multi)) != 0)
		goto out;
	rc = EW_EXIT_FAIL;
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
	if (multi)
		printf(" on %s",
		    b.apply.nselect == 1 ? b.apply.select[0] : "every relay");
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
	if (multi) {
		n = relay_changes(&b, chs, names);
		rc = ew_desk_block_add_relays(
		    d, chs, names, n, &r, &id, &oc, &dg);
	} else {
		rc = ew_desk_block_add(d, &ch, &r, &id, &oc, &dg);
	}
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

/* --pending: the self-service blocks waiting for the operator. */
static int
render_pending(struct ew_store *st, int json, struct ew_buf *out)
{
	struct ew_store_block *v = NULL;
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	size_t n = 0, i, k = 0;

	if (ew_store_block_list(st, &v, &n) != 0)
		return -1;
	if (json)
		ew_buf_puts(out, "[");
	for (i = 0; i < n; i++) {
		if (!v[i].pending)
			continue;
		ew_time_format(v[i].added_at, t1, sizeof(t1));
		if (v[i].expires_at == EW_STORE_NO_TIME)
			snprintf(t2, sizeof(t2), "never");
		else
			ew_time_format(v[i].expires_at, t2, sizeof(t2));
		if (json) {
			ew_buf_printf(out,
			    "%s\n  {\"id\": %lld, \"rule\": ", k > 0 ? "," : "",
			    (long long)v[i].id);
			ew_json_str(out, v[i].rule_text);
			ew_buf_puts(out, ", \"origin\": ");
			ew_json_str(
			    out, v[i].origin != NULL ? v[i].origin : "ticket");
			ew_buf_printf(out, ", \"ticket\": %lld, \"added\": ",
			    (long long)v[i].ticket_id);
			ew_json_str(out, t1);
			ew_buf_puts(out, ", \"expires\": ");
			ew_json_str(out, t2);
			ew_buf_puts(out, ", \"reason\": ");
			if (v[i].reason != NULL)
				ew_json_str(out, v[i].reason);
			else
				ew_buf_puts(out, "null");
			ew_buf_puts(out, "}");
		} else {
			ew_buf_printf(out,
			    "%lld  %s  %s, ticket %lld, added %s, "
			    "expires %s\n",
			    (long long)v[i].id, ew_cli_esc(v[i].rule_text),
			    v[i].origin != NULL ? ew_cli_esc(v[i].origin)
						: "ticket",
			    (long long)v[i].ticket_id, t1, t2);
		}
		k++;
	}
	if (json)
		ew_buf_puts(out, k > 0 ? "\n]\n" : "]\n");
	else if (k == 0)
		ew_buf_puts(out, "no block waits for confirmation\n");
	else
		ew_buf_printf(out,
		    "%zu pending: exitwarden block confirm ID... applies, "
		    "block remove ID... rejects\n",
		    k);
	ew_store_blocks_free(v, n);
	return 0;
}

/* One host's emergency block: JSON object or two text lines. */
static void
host_block_put(struct ew_buf *out, const struct ew_store_host_block *h,
    int64_t now, int json)
{
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN] = "never";
	const char *state =
	    h->expires_at != EW_STORE_NO_TIME && h->expires_at <= now
		? "expired"
		: "in force on the host";

	ew_time_format(h->added_at, t1, sizeof(t1));
	if (h->expires_at != EW_STORE_NO_TIME)
		ew_time_format(h->expires_at, t2, sizeof(t2));
	if (json) {
		ew_buf_printf(
		    out, "{\"host_block\": %lld, \"uid\": ", (long long)h->id);
		ew_json_str(out, h->uid);
		ew_buf_puts(out, ", \"host\": ");
		ew_json_str(out, h->host);
		ew_buf_puts(out, ", \"rule\": ");
		ew_json_str(out, h->rule_text);
		ew_buf_puts(out, ", \"origin\": \"host\", \"reason\": ");
		if (h->reason != NULL)
			ew_json_str(out, h->reason);
		else
			ew_buf_puts(out, "null");
		ew_buf_puts(out, ", \"added\": ");
		ew_json_str(out, t1);
		ew_buf_puts(out, ", \"expires\": ");
		ew_json_str(out, t2);
		ew_buf_puts(out, ", \"state\": ");
		ew_json_str(out, state);
		ew_buf_putc(out, '}');
		return;
	}
	ew_buf_printf(out,
	    "h%lld  %s\n    emergency block of host %s (id %s), "
	    "added %s, expires %s: %s\n",
	    (long long)h->id, ew_cli_esc(h->rule_text), h->host,
	    ew_cli_esc(h->uid), t1, t2, state);
	if (h->reason != NULL)
		ew_buf_printf(out, "    reason: %s\n", ew_cli_esc(h->reason));
}

/*
 * The fleet hosts' own emergency blocks, after the rules (block list):
 * hID, for block adopt and block remove.  JSON: more objects of the
 * same array, each with "host_block" (its id) instead of "id".
 */
static int
render_host_blocks(
    struct ew_store *st, int64_t now, int all, int json, struct ew_buf *out)
{
	struct ew_store_host_block *v = NULL;
	size_t n = 0, i, k;
	int empty;

	if (ew_store_host_block_list(st, -1, &v, &n) != 0)
		return -1;
	/* the expired ones with --all only (the host dropped them) */
	for (i = k = 0; i < n; i++) {
		if (!all && v[i].expires_at != EW_STORE_NO_TIME &&
		    v[i].expires_at <= now) {
			free(v[i].uid);
			free(v[i].host);
			free(v[i].rule_text);
			free(v[i].reason);
			continue;
		}
		v[k++] = v[i];
	}
	n = k;
	if (n > 0 && json && out->len >= 2) {
		/* "...]\n": the array continued */
		empty = out->len == 3 && out->p[0] == '[';
		out->len -= 2;
		out->p[out->len] = '\0';
		for (i = 0; i < n; i++) {
			ew_buf_puts(out, empty && i == 0 ? "" : ",\n ");
			host_block_put(out, &v[i], now, 1);
		}
		ew_buf_puts(out, "]\n");
	} else if (n > 0) {
		if (out->len > 0 && strncmp(out->p, "no block", 8) == 0) {
			out->len = 0;
			out->p[0] = '\0';
		}
		ew_buf_printf(out,
		    "%zu emergency block%s of fleet hosts "
		    "(exitwarden block adopt hID | block "
		    "remove hID):\n",
		    n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			host_block_put(out, &v[i], now, 0);
	}
	ew_store_host_blocks_free(v, n);
	return out->oom ? -1 : 0;
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
	if (b.pending && b.all) {
		ew_cli_err("--all and --pending exclude each other");
		ew_store_close(st);
		return EW_EXIT_USAGE;
	}
	if ((b.pending ? render_pending(st, b.json, &out)
		       : ew_desk_blocks_render(
			     st, b.now, b.all, b.json, &out)) != 0 ||
	    (!b.pending &&
		render_host_blocks(st, b.now, b.all, b.json, &out) != 0)) {
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

/* block remove hID...: the desk removes hosts' emergency blocks (a
 * store change only: the hosts drop them at their next round).  All or
 * nothing; an exit code. */
static int
remove_host_blocks(
    struct ew_store *st, const struct ew_args *a, int64_t now, int dry_run)
{
	int64_t id;
	size_t i;
	int rc;

	if ((rc = ew_store_begin(st)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		return EW_EXIT_FAIL;
	}
	for (i = 0; rc == 0 && i < a->nops; i++) {
		if (a->ops[i][0] != 'h')
			continue;
		/* checked by the caller already: a bad one changes nothing */
		if (parse_id("host block", a->ops[i] + 1, &id) != 0)
			rc = -EINVAL;
		else if ((rc = ew_store_host_block_close(st, id, now, 0)) != 0)
			ew_cli_err("host block %s: %s", a->ops[i],
			    rc == -ENOENT     ? "no such host block"
			    : rc == -EALREADY ? "removed or adopted before"
					      : ew_store_errmsg(st));
		else
			printf("%s host block %s\n",
			    dry_run ? "would remove" : "removed", a->ops[i]);
	}
	if (rc == 0 && dry_run)
		rc = -ECANCELED;
	rc = ew_store_end(st, rc);
	if (rc == -ECANCELED)
		printf("-n: nothing changed\n");
	else if (rc != 0)
		ew_cli_err("no host block removed: nothing changed");
	return rc == 0 || rc == -ECANCELED ? 0 : EW_EXIT_FAIL;
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
	struct ew_desk_change chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	int64_t *ids = NULL;
	size_t i, n, nh, k = 0;
	int rc, multi = 0;

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
	/* hID: a host's emergency block, the others the desk's rules */
	for (i = nh = 0; i < a->nops; i++)
		if (a->ops[i][0] == 'h' &&
		    (rc = parse_id("host block", a->ops[i] + 1, &ids[i])) != 0)
			goto out;
		else
			nh += a->ops[i][0] == 'h';
	for (i = k = 0; i < a->nops; i++)
		if (a->ops[i][0] != 'h' &&
		    (rc = parse_id("block", a->ops[i], &ids[k++])) != 0)
			goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	if (nh > 0 && (rc = remove_host_blocks(st, a, b.now, b.dry_run)) != 0)
		goto out;
	if (k == 0 && b.ticket == 0) {
		rc = EW_EXIT_OK;
		goto out;
	}
	rc = EW_EXIT_FAIL;
	ew_cli_change_init(&ch, &b.apply, b.policy, b.now);
	if ((rc = ew_cli_relays_ready(&b.apply, b.policy)) != 0)
		goto out;
	remove_scope(&b, st, ids, k);
	if ((rc = block_relays(&b, d, &ch, 0, &multi)) != 0)
		goto out;
	ew_diag_init(&dg);
	if (b.dry_run) {
		rc = ew_desk_block_remove_preview(
		    d, &ch, ids, k, b.ticket, &rm, &diff, &dg);
		if (rc == 0)
			say_removed(&rm, "would remove");
		rc = show_preview(rc, &diff, &dg);
		goto out;
	}
	fflush(stdout);
	if (multi) {
		n = relay_changes(&b, chs, names);
		rc = ew_desk_block_remove_relays(
		    d, chs, names, n, ids, k, b.ticket, &rm, &oc, &dg);
	} else {
		rc = ew_desk_block_remove(
		    d, &ch, ids, k, b.ticket, &rm, &oc, &dg);
	}
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

int
ew_cmd_block_confirm(struct ew_args *a)
{
	struct block_args b;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	struct ew_buf diff = EW_BUF_INIT;
	int64_t *ids = NULL;
	size_t i;
	int rc;

	if ((rc = block_args(a, &b)) != 0)
		goto out;
	if (a->nops == 0) {
		ew_cli_err("name the blocks to confirm: IDs (block list "
			   "--pending)");
		rc = ew_cli_usage("block", "confirm");
		goto out;
	}
	if ((ids = calloc(a->nops, sizeof(*ids))) == NULL) {
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
		rc = ew_desk_block_confirm_preview(
		    d, &ch, ids, a->nops, &diff, &dg);
		rc = show_preview(rc, &diff, &dg);
		goto out;
	}
	fflush(stdout);
	rc = ew_desk_block_confirm(d, &ch, ids, a->nops, &oc, &dg);
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	if (rc == EW_EXIT_OK)
		printf("%zu block%s confirmed\n", a->nops,
		    a->nops == 1 ? "" : "s");
	else
		ew_cli_err("nothing confirmed");
out:
	free(ids);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&b.apply);
	return rc;
}

int
ew_cmd_block_adopt(struct ew_args *a)
{
	struct block_args b;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_desk_rule r;
	struct ew_diag_list dg;
	struct ew_store_host_block *v = NULL, *h = NULL;
	struct ew_buf reason = EW_BUF_INIT;
	int64_t hb = 0, expires = 0, id = 0;
	size_t n = 0, i;
	int rc;

	if ((rc = block_args(a, &b)) != 0 ||
	    (rc = ew_cli_operands(a, 1, 1)) != 0)
		goto out;
	if ((rc = parse_id(
		 "host block", a->ops[0] + (a->ops[0][0] == 'h'), &hb)) != 0)
		goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	if (ew_store_host_block_list(st, -1, &v, &n) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (v[i].id == hb)
			h = &v[i];
	if (h == NULL) {
		ew_cli_err("no emergency block h%lld in force (block list)",
		    (long long)hb);
		goto out;
	}
	expires = h->expires_at;
	if (ew_cli_has(a, EW_OPT_EXPIRES) &&
	    (rc = ew_cli_parse_expires(b.expires, b.now, &expires)) != 0)
		goto out;
	if (b.reason != NULL)
		ew_buf_puts(&reason, b.reason);
	else
		ew_buf_printf(&reason, "host %s: %s", h->host,
		    h->reason != NULL ? h->reason : "emergency block");
	memset(&r, 0, sizeof(r));
	r.rule = h->rule_text;
	r.reason = ew_buf_str(&reason);
	r.expires = expires;
	r.host = b.host[0] ? b.host : NULL;
	r.relay = b.relay;
	printf("adopt host %s's emergency block h%lld: %s, for %s\n", h->host,
	    (long long)hb, ew_cli_esc(r.rule),
	    r.host != NULL ? r.host : "the whole fleet");
	ew_cli_change_init(&ch, &b.apply, b.policy, b.now);
	ew_diag_init(&dg);
	if (b.dry_run) {
		ew_diag_free(&dg);
		printf("-n: nothing changed\n");
		rc = EW_EXIT_OK;
		goto out;
	}
	fflush(stdout);
	rc = ew_desk_block_adopt(d, &ch, hb, &r, &id, &oc, &dg);
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	if (rc == EW_EXIT_OK)
		printf("block %lld added (host block h%lld adopted)\n",
		    (long long)id, (long long)hb);
out:
	ew_buf_free(&reason);
	ew_store_host_blocks_free(v, n);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&b.apply);
	return rc;
}
