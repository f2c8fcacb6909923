/*
 * block.c - what ticket block would add: a ticket's chosen proposal,
 * each rule with whether it is in force for the ticket already, and
 * (for -n) the difference it would make to the effective policy.  The
 * change itself is ew_desk_block (change.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "store/store.h"

static int
cmp_rule_text(const void *x, const void *y)
{
	const struct ew_store_rule *const *a = x, *const *b = y;

	return strcmp((*a)->rule_text, (*b)->rule_text);
}

/*
 * For each rule of pl->p, the id and expiry of the rule with its text in
 * force for the ticket (0 when none).  Sorted and searched: n log n in
 * the rules.
 */
static int
in_force(struct ew_store *st, struct ew_desk_block_plan *pl)
{
	const struct ew_store_rule **mine, **hit, *key;
	struct ew_store_rule key_rule, *have = NULL;
	const struct ew_desk_proposal *p = pl->p;
	size_t i, n = 0, nhave = 0;
	int rc;

	if ((rc = ew_store_rule_list(st, 0, &have, &nhave)) != 0)
		return rc;
	mine = calloc(nhave + 1, sizeof(*mine));
	pl->inforce_id = calloc(p->n + 1, sizeof(*pl->inforce_id));
	pl->inforce_expires = calloc(p->n + 1, sizeof(*pl->inforce_expires));
	if (mine == NULL || pl->inforce_id == NULL ||
	    pl->inforce_expires == NULL) {
		free(mine);
		ew_store_rules_free(have, nhave);
		return -ENOMEM;
	}
	for (i = 0; i < nhave; i++)
		if (have[i].ticket_id == pl->ticket_id)
			mine[n++] = &have[i];
	qsort(mine, n, sizeof(*mine), cmp_rule_text);
	memset(&key_rule, 0, sizeof(key_rule));
	key = &key_rule;
	for (i = 0; i < p->n; i++) {
		key_rule.rule_text = p->rules[i];
		hit = bsearch(&key, mine, n, sizeof(*mine), cmp_rule_text);
		if (hit != NULL) {
			pl->inforce_id[i] = (*hit)->id;
			pl->inforce_expires[i] = (*hit)->expires_at;
		}
	}
	free(mine);
	ew_store_rules_free(have, nhave);
	return 0;
}

int
ew_desk_block_plan(struct ew_desk *d, int64_t id, size_t choice,
    int64_t expires, const char *reason, int64_t now,
    struct ew_desk_block_plan *pl, struct ew_diag_list *dg)
{
	struct ew_store_ticket *t = NULL;
	struct ew_buf why = EW_BUF_INIT;
	size_t k;
	int rc;

	memset(pl, 0, sizeof(*pl));
	pl->ticket_id = id;
	pl->choice = choice;
	pl->expires = expires;
	if ((rc = ew_store_ticket_get(d->st, id, now, &t)) != 0) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL, "ticket %lld: %s",
		    (long long)id,
		    rc == -ENOENT ? "no such ticket" : ew_store_errmsg(d->st));
		return rc;
	}
	if (t->closed) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL, "ticket %lld is closed",
		    (long long)id);
		rc = -EALREADY;
		goto out;
	}
	if ((rc = ew_desk_propose(d, id, &pl->ps)) != 0) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "ticket %lld: no proposals: %s%s%s", (long long)id,
		    strerror(-rc), *ew_store_errmsg(d->st) ? ": " : "",
		    ew_store_errmsg(d->st));
		goto out;
	}
	pl->nchoices = pl->ps.n;
	if (pl->ps.n == 0) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "ticket %lld: nothing to block (no incident the policy "
		    "allowed names a destination or ports)",
		    (long long)id);
		rc = -ENODATA;
		goto out;
	}
	if (choice < 1 || choice > pl->ps.n) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL,
		    "ticket %lld: --choice %zu, but there %s only %zu "
		    "(exitwarden ticket show %lld)",
		    (long long)id, choice, pl->ps.n == 1 ? "is" : "are",
		    pl->ps.n, (long long)id);
		rc = -ERANGE;
		goto out;
	}
	pl->p = &pl->ps.v[choice - 1];
	if (reason != NULL)
		ew_buf_puts(&why, reason);
	else
		ew_buf_printf(&why, "complaint from %s", t->reporter);
	pl->reason = ew_buf_detach(&why);
	pl->rules = calloc(pl->p->n + 1, sizeof(*pl->rules));
	if (pl->reason == NULL || pl->rules == NULL ||
	    (rc = in_force(d->st, pl)) != 0) {
		ew_diag_add(dg, EW_SEV_ERROR, NULL, "out of memory");
		rc = rc ? rc : -ENOMEM;
		goto out;
	}
	for (k = 0; k < pl->p->n; k++) {
		if (pl->inforce_id[k] != 0)
			continue;
		pl->rules[pl->nnew].rule = pl->p->rules[k];
		pl->rules[pl->nnew].reason = pl->reason;
		pl->rules[pl->nnew].ticket_id = id;
		pl->rules[pl->nnew].expires = expires;
		pl->nnew++;
	}
out:
	ew_store_tickets_free(t, t ? 1 : 0);
	return rc;
}

void
ew_desk_block_plan_free(struct ew_desk_block_plan *pl)
{
	free(pl->inforce_id);
	free(pl->inforce_expires);
	free(pl->rules);
	free(pl->reason);
	ew_desk_propose_free(&pl->ps);
	memset(pl, 0, sizeof(*pl));
}

int
ew_desk_preview(struct ew_desk *d, const struct ew_desk_change *ch,
    const struct ew_desk_rule *rules, size_t n, struct ew_buf *diff,
    struct ew_diag_list *dg)
{
	struct ew_buf before = EW_BUF_INIT, after = EW_BUF_INIT,
		      text = EW_BUF_INIT;
	int rc;

	rc = ew_desk_compose(d, ch, NULL, 0, &text, &before, dg);
	if (rc == 0) {
		ew_buf_reset(&text);
		rc = ew_desk_compose(d, ch, rules, n, &text, &after, dg);
	}
	if (rc == 0)
		ew_desk_diff(ew_buf_str(&before), ew_buf_str(&after), diff);
	ew_buf_free(&before);
	ew_buf_free(&after);
	ew_buf_free(&text);
	return rc == 0 && diff->oom ? -ENOMEM : rc;
}

/* A line of a text: where it starts and how long it is. */
struct line {
	const char *s;
	size_t n;
};

static int
cmp_line(const void *x, const void *y)
{
	const struct line *a = x, *b = y;
	int c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);

	if (c != 0)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* The lines of text, in order (free *out). */
static size_t
split_lines(const char *text, struct line **out)
{
	const char *s, *e;
	size_t n = 0, cap = 0;
	struct line *v = NULL, *nv;

	for (s = text; *s != '\0'; s = *e ? e + 1 : e) {
		if ((e = strchr(s, '\n')) == NULL)
			e = s + strlen(s);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[n].s = s;
		v[n++].n = (size_t)(e - s);
	}
	*out = v;
	return n;
}

/* Each side sorted once and searched: n log n in the lines. */
void
ew_desk_diff(const char *before, const char *after, struct ew_buf *out)
{
	const char *lists[2] = { before, after };
	struct line *v[2] = { NULL, NULL }, *sorted[2] = { NULL, NULL };
	size_t n[2], i;
	int side;

	for (side = 0; side < 2; side++) {
		n[side] = split_lines(lists[side], &v[side]);
		sorted[side] = malloc((n[side] + 1) * sizeof(struct line));
		if (sorted[side] == NULL) {
			out->oom = 1;
			goto done;
		}
		if (n[side] > 0)
			memcpy(sorted[side], v[side],
			    n[side] * sizeof(struct line));
		qsort(sorted[side], n[side], sizeof(struct line), cmp_line);
	}
	for (side = 0; side < 2; side++)
		for (i = 0; i < n[side]; i++)
			if (bsearch(&v[side][i], sorted[1 - side], n[1 - side],
				sizeof(struct line), cmp_line) == NULL)
				ew_buf_printf(out, "%c %.*s\n",
				    side ? '+' : '-', (int)v[side][i].n,
				    v[side][i].s);
done:
	for (side = 0; side < 2; side++) {
		free(v[side]);
		free(sorted[side]);
	}
}
