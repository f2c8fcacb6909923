/*
 * guard.c - the surge guard's decisions: from the destinations the
 * kernel found over a guard's threshold to blocks in the store (desk.h
 * says what is decided).  What is kept: the blocks (destination, guard,
 * time, as any block) and counts per guard; in memory, the surges
 * judged while the kernel still holds them.  Nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "policy/policy.h"
#include "store/store.h"

struct judged {
	char *guard;
	struct ew_addr addr;
	uint16_t port;
	int live;        /* seen in the last poll */
	int fresh;       /* blocked by the last decide: not yet in place */
	int64_t expires; /* the block's end, when fresh */
};

struct ew_desk_guards {
	struct judged *v;
	size_t n;
};

struct ew_desk_guards *
ew_desk_guards_new(void)
{
	return calloc(1, sizeof(struct ew_desk_guards));
}

void
ew_desk_guards_reset(struct ew_desk_guards *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->v[i].guard);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

void
ew_desk_guards_free(struct ew_desk_guards *g)
{
	ew_desk_guards_reset(g);
	free(g);
}

static struct judged *
find_judged(
    struct ew_desk_guards *g, const char *guard, const struct ew_desk_surge *s)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		if (g->v[i].port == s->port &&
		    strcmp(g->v[i].guard, guard) == 0 &&
		    g->v[i].addr.family == s->addr.family &&
		    memcmp(g->v[i].addr.b, s->addr.b, 16) == 0)
			return &g->v[i];
	}
	return NULL;
}

static int
add_judged(
    struct ew_desk_guards *g, const char *guard, const struct ew_desk_surge *s)
{
	struct judged *nv = realloc(g->v, (g->n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -ENOMEM;
	g->v = nv;
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	if ((g->v[g->n].guard = strdup(guard)) == NULL)
		return -ENOMEM;
	g->v[g->n].addr = s->addr;
	g->v[g->n].port = s->port;
	g->v[g->n].live = 1;
	g->n++;
	return 0;
}

void
ew_desk_surge_rule(const struct ew_policy *p, const struct ew_desk_surge *s,
    struct ew_buf *out)
{
	struct ew_guard_info gi;
	char t[EW_ADDR_STRLEN];
	unsigned len;

	ew_policy_guard_info(p, s->guard, &gi);
	len = s->addr.family == EW_AF_INET ? gi.len4 : gi.len6;
	ew_addr_format(&s->addr, 1, t, sizeof(t));
	ew_buf_printf(out, "reject %s", t);
	if (len != ew_addr_bits(&s->addr))
		ew_buf_printf(out, "/%u", len);
	ew_buf_printf(out, ":%u", s->port);
}

/* The host bits past the guard's prefix cleared (the kernel does so;
 * a caller's surge might not). */
static void
mask(struct ew_desk_surge *s, unsigned len)
{
	unsigned i, bits = ew_addr_bits(&s->addr);

	for (i = len; i < bits; i++)
		s->addr.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* Blocks in force per guard (counts[i] for guard i) and in all. */
static int
in_force(struct ew_desk *d, const struct ew_policy *p, size_t *counts,
    size_t *total, struct ew_store_rule **rules, size_t *nrules)
{
	char **guard = NULL;
	size_t i, j, ng = ew_policy_guard_count(p);
	struct ew_guard_info gi;
	int rc;

	if ((rc = ew_store_surge_list(d->st, rules, &guard, nrules)) != 0)
		return rc;
	*total = *nrules;
	for (i = 0; i < *nrules; i++) {
		for (j = 0; j < ng; j++) {
			ew_policy_guard_info(p, j, &gi);
			if (guard[i] != NULL && strcmp(guard[i], gi.name) == 0)
				counts[j]++;
		}
	}
	for (i = 0; i < *nrules; i++)
		free(guard[i]);
	free(guard);
	return 0;
}

static int
is_blocked(const struct ew_store_rule *r, size_t n, const char *text)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(r[i].rule_text, text) == 0)
			return 1;
	return 0;
}

/* Judge one surge; 0 or a store error. */
static int
judge(struct ew_desk *d, struct ew_desk_guards *g, const struct ew_policy *p,
    struct ew_desk_surge s, int64_t now, size_t *counts, size_t *total,
    const struct ew_store_rule *rules, size_t nrules,
    struct ew_desk_guard_result *out)
{
	struct ew_guard_info gi;
	struct ew_buf text = EW_BUF_INIT, reason = EW_BUF_INIT;
	struct judged *j;
	unsigned len;
	int64_t id;
	int rc = 0, added = 0;

	ew_policy_guard_info(p, s.guard, &gi);
	len = s.addr.family == EW_AF_INET ? gi.len4 : gi.len6;
	mask(&s, len);
	if ((j = find_judged(g, gi.name, &s)) != NULL) {
		j->live = 1;
		out->known++;
		return 0;
	}
	ew_desk_surge_rule(p, &s, &text);
	if (text.oom) {
		rc = -ENOMEM;
	} else if (is_blocked(rules, nrules, ew_buf_str(&text))) {
		out->known++;
	} else if (ew_policy_guard_allowed(p, &s.addr, len)) {
		out->allowed++;
		rc = ew_store_guard_count(
		    d->st, gi.name, EW_STORE_GUARD_ALLOWED);
	} else if (counts[s.guard] >= gi.cap ||
		   *total >= ew_policy_guard_cap(p)) {
		out->capped++;
		rc =
		    ew_store_guard_count(d->st, gi.name, EW_STORE_GUARD_CAPPED);
	} else {
		ew_buf_printf(
		    &reason, "surge: guard %s over %s", gi.name, gi.rate);
		rc = reason.oom
			 ? -ENOMEM
			 : ew_store_surge_add(d->st, gi.name, ew_buf_str(&text),
			       ew_buf_str(&reason), now + gi.block, now, &id);
		if (rc == 0) {
			counts[s.guard]++;
			(*total)++;
			out->added++;
			added = 1;
		}
	}
	if (rc == 0)
		rc = add_judged(g, gi.name, &s);
	if (rc == 0 && added) {
		g->v[g->n - 1].fresh = 1;
		g->v[g->n - 1].expires = now + gi.block;
	}
	ew_buf_free(&text);
	ew_buf_free(&reason);
	return rc;
}

int
ew_desk_guard_decide(struct ew_desk *d, struct ew_desk_guards *g,
    const struct ew_policy *p, const struct ew_desk_surge *v, size_t n,
    int64_t now, struct ew_desk_guard_result *out)
{
	struct ew_store_rule *rules = NULL;
	size_t *counts, total = 0, nrules = 0, i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	counts = calloc(ew_policy_guard_count(p) + 1, sizeof(*counts));
	if (counts == NULL)
		return -ENOMEM;
	rc = in_force(d, p, counts, &total, &rules, &nrules);
	for (i = 0; i < g->n; i++)
		g->v[i].live = g->v[i].fresh = 0;
	for (i = 0; rc == 0 && i < n; i++) {
		if (v[i].guard >= ew_policy_guard_count(p)) {
			rc = -EINVAL;
			break;
		}
		rc = judge(
		    d, g, p, v[i], now, counts, &total, rules, nrules, out);
	}
	/* what the kernel no longer holds is forgotten */
	for (i = k = 0; rc == 0 && i < g->n; i++) {
		if (g->v[i].live)
			g->v[k++] = g->v[i];
		else
			free(g->v[i].guard);
	}
	if (rc == 0)
		g->n = k;
	ew_store_rules_free(rules, nrules);
	free(counts);
	return rc;
}

int
ew_desk_guard_poll(struct ew_desk *d, struct ew_desk_guards *g,
    const struct ew_policy *p, int64_t now, struct ew_desk_guard_result *out,
    struct ew_buf *err)
{
	struct ew_desk_surge *all = NULL, *nv;
	struct ew_nft_surge *v;
	struct ew_guard_info gi;
	size_t n, nall = 0, i, k;
	char set[64];
	int fam, rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; rc == 0 && i < ew_policy_guard_count(p); i++) {
		ew_policy_guard_info(p, i, &gi);
		for (fam = EW_AF_INET; rc == 0 && fam <= EW_AF_INET6;
		     fam += 2) {
			ew_nft_guard_set(gi.name, fam, set, sizeof(set));
			rc = ew_nft_surges(set, fam, &v, &n, err);
			if (rc == -ENOENT) { /* not applied yet */
				rc = 0;
				continue;
			}
			if (rc != 0 || n == 0) {
				free(v);
				continue;
			}
			nv = realloc(all, (nall + n) * sizeof(*all));
			if (nv == NULL) {
				free(v);
				rc = -ENOMEM;
				break;
			}
			all = nv;
			for (k = 0; k < n; k++) {
				all[nall].guard = i;
				all[nall].addr = v[k].addr;
				all[nall].port = v[k].port;
				nall++;
			}
			free(v);
		}
	}
	if (rc == 0)
		rc = ew_desk_guard_decide(d, g, p, all, nall, now, out);
	free(all);
	return rc;
}

/* The index of the guard named `name` in p, or ew_policy_guard_count. */
static size_t
guard_index(const struct ew_policy *p, const char *name)
{
	struct ew_guard_info gi;
	size_t i, n = ew_policy_guard_count(p);

	for (i = 0; i < n; i++) {
		ew_policy_guard_info(p, i, &gi);
		if (strcmp(gi.name, name) == 0)
			break;
	}
	return i;
}

int
ew_desk_guard_block_kernel(struct ew_desk_guards *g, const struct ew_policy *p,
    int64_t now, size_t *n, struct ew_buf *err)
{
	struct ew_buf el = EW_BUF_INIT;
	char set[80], t[EW_ADDR_STRLEN];
	size_t i;
	int rc = 0;

	*n = 0;
	for (i = 0; rc == 0 && i < g->n; i++) {
		struct judged *j = &g->v[i];
		int64_t left = j->expires - now;

		if (!j->fresh)
			continue;
		if (guard_index(p, j->guard) >= ew_policy_guard_count(p)) {
			rc = -EINVAL;
			break;
		}
		ew_nft_guard_block_set(
		    j->guard, j->addr.family, set, sizeof(set));
		ew_addr_format(&j->addr, 0, t, sizeof(t));
		ew_buf_reset(&el);
		ew_buf_printf(&el, "%s . %u timeout %llds", t, j->port,
		    (long long)(left < 1 ? 1 : left));
		rc = el.oom
			 ? -ENOMEM
			 : ew_nft_set_elements(set, 1, ew_buf_str(&el), 0, err);
		if (rc == 0) {
			j->fresh = 0;
			(*n)++;
		}
	}
	ew_buf_free(&el);
	return rc;
}
