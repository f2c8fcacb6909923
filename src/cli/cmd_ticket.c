/*
 * cmd_ticket.c - the operator's cases: exitwarden ticket block | close
 * | list | reply | show.
 *
 * Blocks live in the store; the managed policy (managed.policy beside
 * the database) is written from them, followed by an include of the
 * operator's policy, and that file is what is applied.  ticket block
 * is one change of the desk (ew_desk_block): the store, the file, tor,
 * nftables and the recorded version move together or not at all.
 */
#include <errno.h>
#include <limits.h>
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

/* Blocks last 90 days unless --expires says otherwise. */
#define EW_BLOCK_DEFAULT_TTL "90d"

static int
parse_id(const struct ew_args *a, int64_t *id)
{
	uint64_t v;
	const char *s;
	int rc;

	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	s = a->ops[0];
	if (ew_parse_uint(s, strlen(s), 1, INT64_MAX, &v) != 0) {
		ew_cli_err("'%s' is not a ticket number", s);
		return EW_EXIT_USAGE;
	}
	*id = (int64_t)v;
	return 0;
}

/* The options of list, show, reply and close. */
struct ticket_args {
	int64_t id, now;
	int json, all;
	const char *to, *templates, *reason;
};

static int
ticket_args(const struct ew_args *a, int want_id, struct ticket_args *t)
{
	size_t k;
	int rc;

	memset(t, 0, sizeof(*t));
	t->now = ew_time_now();
	for (k = 0; k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		switch (v->id) {
		case EW_OPT_JSON:
			t->json = 1;
			break;
		case EW_OPT_ALL:
			t->all = 1;
			break;
		case EW_OPT_NO_RESOLVE:
			ew_cli_resolve = 0;
			break;
		case EW_OPT_NOW:
			if ((rc = ew_cli_parse_now(v->val, &t->now)) != 0)
				return rc;
			break;
		case EW_OPT_TO:
			t->to = v->val;
			break;
		case EW_OPT_TEMPLATES:
			t->templates = v->val;
			break;
		case EW_OPT_REASON:
			t->reason = v->val;
			break;
		default:
			return ew_cli_unexpected(a, v);
		}
	}
	return want_id ? parse_id(a, &t->id) : ew_cli_operands(a, 0, 0);
}

int
ew_cmd_ticket_list(struct ew_args *a)
{
	struct ticket_args t;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	if ((rc = ticket_args(a, 0, &t)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if (ew_desk_tickets_render(st, t.now, t.all, t.json, &b) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		ew_buf_free(&b);
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	return ew_cli_put(&b);
}

int
ew_cmd_ticket_show(struct ew_args *a)
{
	struct ticket_args t;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	if ((rc = ticket_args(a, 1, &t)) != 0)
		return rc;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		return EW_EXIT_FAIL;
	rc = ew_desk_ticket_render(d, t.id, t.now, t.json, &b);
	if (rc == 0 && t.json)
		ew_buf_putc(&b, '\n');
	if (rc == 0) {
		rc = ew_cli_put(&b);
	} else {
		ew_cli_err("ticket %lld: %s", (long long)t.id,
		    rc == -ENOENT   ? "no such ticket"
		    : rc == -ENOMEM ? "out of memory"
				    : ew_store_errmsg(st));
		ew_buf_free(&b);
		rc = EW_EXIT_FAIL;
	}
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}

/* After close: the ticket's blocks stay in force; say which, and how
 * to remove them. */
static void
say_staying(struct ew_store *st, int64_t id, int64_t now)
{
	struct ew_store_rule *r = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i, mine = 0;

	if (ew_store_rule_list(st, 0, &r, &n) != 0)
		return;
	for (i = 0; i < n; i++)
		mine += r[i].ticket_id == id;
	if (mine == 0) {
		printf("ticket %lld: no block in force\n", (long long)id);
		ew_store_rules_free(r, n);
		return;
	}
	printf("ticket %lld: %zu block%s stay%s in force:\n", (long long)id,
	    mine, mine == 1 ? "" : "s", mine == 1 ? "s" : "");
	for (i = 0; i < n; i++) {
		if (r[i].ticket_id != id)
			continue;
		printf("  %lld  %s  %s%s\n", (long long)r[i].id,
		    ew_cli_esc(r[i].rule_text),
		    r[i].expires_at == EW_STORE_NO_TIME ? "until removed"
		    : r[i].expires_at <= now            ? "expired, until "
							  "exitwarden expire"
							: "until ",
		    r[i].expires_at == EW_STORE_NO_TIME ||
			    r[i].expires_at <= now
			? ""
			: ew_time_format(r[i].expires_at, t, sizeof(t)));
	}
	printf("remove them with: exitwarden block remove --ticket %lld\n",
	    (long long)id);
	ew_store_rules_free(r, n);
}

int
ew_cmd_ticket_close(struct ew_args *a)
{
	struct ticket_args ta;
	struct ew_store *st = NULL;
	int64_t id;
	int rc;

	if ((rc = ticket_args(a, 1, &ta)) != 0)
		return rc;
	id = ta.id;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_ticket_close(st, id, ta.reason);
	if (rc == 0) {
		printf("ticket %lld closed\n", (long long)id);
		say_staying(st, id, ta.now);
	} else
		ew_cli_err("ticket %lld: %s", (long long)id,
		    rc == -ENOENT     ? "no such ticket"
		    : rc == -EALREADY ? "closed already"
				      : ew_store_errmsg(st));
	ew_store_close(st);
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* ---- block ---- */

/* The chosen proposal's rules, each with its name and whether it is in
 * force for the ticket already (then skipped). */
static void
print_plan(const struct ew_desk_block_plan *pl)
{
	const struct ew_desk_proposal *p = pl->p;
	char tm[EW_TIME_STRLEN];
	size_t k;

	for (k = 0; k < p->n; k++) {
		printf("  %s", ew_cli_esc(p->rules[k]));
		if (p->from[k] != NULL)
			printf("  (%s)", ew_cli_esc(p->from[k]));
		if (pl->inforce_id[k] != 0)
			printf("  skipped: in force already (rule %lld, %s%s)",
			    (long long)pl->inforce_id[k],
			    pl->inforce_expires[k] == EW_STORE_NO_TIME
				? "until removed"
				: "until ",
			    pl->inforce_expires[k] == EW_STORE_NO_TIME
				? ""
				: ew_time_format(
				      pl->inforce_expires[k], tm, sizeof(tm)));
		putchar('\n');
	}
}

/* The options of block and expire: the change's, and block's own. */
struct change_args {
	struct ew_cli_apply apply;
	const char *policy, *expires, *reason;
	uint64_t choice;
	int dry_run;
	int64_t now;
};

static int
change_args(const struct ew_args *a, struct change_args *c)
{
	size_t k;
	int rc;

	ew_cli_apply_init(&c->apply);
	c->now = c->apply.tor_now;
	c->choice = 1;
	c->expires = EW_BLOCK_DEFAULT_TTL;
	for (k = 0; k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		switch (v->id) {
		case EW_OPT_POLICY:
			c->policy = v->val;
			continue;
		case EW_OPT_CHOICE:
			if ((rc = ew_cli_parse_num(v, 1, 99, &c->choice)) != 0)
				return rc;
			continue;
		case EW_OPT_EXPIRES:
			c->expires = v->val;
			continue;
		case EW_OPT_REASON:
			c->reason = v->val;
			continue;
		case EW_OPT_NO_RESOLVE:
			ew_cli_resolve = 0;
			continue;
		case EW_OPT_DRY_RUN:
			c->dry_run = 1;
			break;
		default:
			break;
		}
		if ((rc = ew_cli_apply_opt(&c->apply, v)) > 0)
			return rc;
		if (rc < 0)
			return ew_cli_unexpected(a, v);
		if (v->id == EW_OPT_NOW)
			c->now = c->apply.tor_now;
	}
	c->policy = ew_cli_policy_path(c->policy);
	return 0;
}

/* -n: the change to the effective policy; nothing written. */
static int
dry_run(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_block_plan *pl)
{
	struct ew_buf diff = EW_BUF_INIT;
	struct ew_diag_list dg;
	int rc;

	ew_diag_init(&dg);
	rc = ew_desk_preview(d, ch, pl->rules, pl->nnew, &diff, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (rc != 0) {
		ew_buf_free(&diff);
		return EW_EXIT_FAIL;
	}
	printf("the effective policy would change (-n: nothing changed):\n");
	return ew_cli_put(&diff);
}

/* What the plan will do, before it is done. */
static void
say_plan(const struct ew_desk_block_plan *pl)
{
	char tm[EW_TIME_STRLEN];
	size_t n = pl->p->n, had = n - pl->nnew;

	printf("ticket %lld: block %s (choice %zu), %s%s:\n",
	    (long long)pl->ticket_id, pl->p->scope, pl->choice,
	    pl->expires == EW_STORE_NO_TIME ? "until removed" : "until ",
	    pl->expires == EW_STORE_NO_TIME
		? ""
		: ew_time_format(pl->expires, tm, sizeof(tm)));
	print_plan(pl);
	if (pl->nnew == 0)
		printf("ticket %lld: every rule is in force already: nothing "
		       "changed\n",
		    (long long)pl->ticket_id);
	else if (had > 0)
		printf("ticket %lld: %zu rule%s in force already, %zu new\n",
		    (long long)pl->ticket_id, had, had > 1 ? "s" : "",
		    pl->nnew);
}

/* The block as one change: of the relay, or of every relay selected. */
static int
block(struct ew_desk *d, struct ew_cli_apply *ap,
    const struct ew_desk_change *ch, const struct ew_desk_block_plan *pl,
    struct ew_desk_outcome *oc, struct ew_diag_list *dg)
{
	struct ew_desk_change chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	size_t n;

	if (ap->nrelays == 0)
		return ew_desk_block(d, ch, pl, oc, dg);
	n = ew_cli_relay_changes(ap, ch->policy, ch->now, chs, names);
	return ew_desk_block_relays(d, chs, names, n, pl, oc, dg);
}

int
ew_cmd_ticket_block(struct ew_args *a)
{
	struct change_args c;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_block_plan pl;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int64_t id = 0, expires = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&pl, 0, sizeof(pl));
	if ((rc = change_args(a, &c)) != 0 || (rc = parse_id(a, &id)) != 0 ||
	    (rc = ew_cli_parse_expires(c.expires, c.now, &expires)) != 0)
		goto out;
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	ew_cli_change_init(&ch, &c.apply, c.policy, c.now);
	if ((rc = ew_cli_relays_ready(&c.apply, c.policy)) != 0)
		goto out;
	if (c.apply.nselect > 1) {
		ew_cli_err("ticket block: one --relay NAME, or none (every "
			   "relay)");
		rc = EW_EXIT_USAGE;
		goto out;
	}
	/* --relay NAME: a block for that relay alone */
	if (c.apply.nselect == 1 &&
	    ew_cli_relay_use(&c.apply,
		ew_cli_relay_find(&c.apply, c.apply.select[0]), d, &ch) != 0) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	ew_diag_init(&dg);
	rc = ew_desk_block_plan(
	    d, id, (size_t)c.choice, expires, c.reason, c.now, &pl, &dg);
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (rc != 0) {
		rc = rc == -ERANGE ? EW_EXIT_USAGE : EW_EXIT_FAIL;
		goto out;
	}
	say_plan(&pl);
	if (pl.nnew == 0) {
		rc = EW_EXIT_OK;
	} else if (c.dry_run) {
		rc = dry_run(d, &ch, &pl);
	} else {
		fflush(stdout);
		ew_diag_init(&dg);
		rc = block(d, &c.apply, &ch, &pl, &oc, &dg);
		rc = ew_cli_change_done(rc, &ch, &oc, &dg);
		if (rc == EW_EXIT_OK)
			printf("ticket %lld: blocked\n", (long long)id);
	}
out:
	ew_desk_block_plan_free(&pl);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&c.apply);
	return rc;
}

/* ---- reply ---- */

int
ew_cmd_ticket_reply(struct ew_args *a)
{
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_diag_list diags;
	const char *to = "provider", *dir = ew_cli_templates_dir(), *tmpl;
	char path[PATH_MAX], *data = NULL;
	struct ticket_args ta;
	int64_t now, id;
	size_t len;
	FILE *f;
	int rc;

	if ((rc = ticket_args(a, 1, &ta)) != 0)
		return rc;
	id = ta.id;
	now = ta.now;
	if (ta.to != NULL)
		to = ta.to;
	if (ta.templates != NULL)
		dir = ta.templates;
	if ((tmpl = ew_desk_template(to)) == NULL) {
		ew_cli_err(
		    "--to: '%s' is neither 'provider' nor 'complainant'", to);
		return EW_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "<built-in %s template>", to);
	len = strlen(tmpl);
	if (dir != NULL && *dir != '\0') {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, to);
		if ((f = fopen(path, "rb")) == NULL) {
			ew_cli_err("%s: %s (exitwarden template export %s "
				   "writes the defaults)",
			    path, strerror(errno), dir);
			return EW_EXIT_FAIL;
		}
		data = ew_cli_read_all(f, 1 << 20, &len);
		fclose(f);
		if (data == NULL || len > (1u << 20)) {
			ew_cli_err("%s: unreadable, or over 1 MiB", path);
			free(data);
			return EW_EXIT_FAIL;
		}
		tmpl = data;
	}
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0) {
		free(data);
		return EW_EXIT_FAIL;
	}
	ew_diag_init(&diags);
	rc = ew_desk_reply(d, id, path, tmpl, len, now, &out, &diags);
	if (rc != 0) {
		ew_cli_print_diags(&diags, 0);
		if (diags.n == 0)
			ew_cli_err("ticket %lld: %s", (long long)id,
			    rc == -ENOENT ? "no such ticket"
					  : ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	} else {
		rc = ew_cli_put(&out);
	}
	ew_diag_free(&diags);
	ew_buf_free(&out);
	free(data);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}
