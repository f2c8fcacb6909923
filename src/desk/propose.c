/*
 * propose.c - what to block for a ticket, the managed policy that
 * carries the blocks, and recording what was applied.
 *
 * Proposals are built from the ticket's incidents judged allowed or
 * unknown (a blocked incident is blocked already; one that is not ours
 * is not ours to block): the reported destinations with their ports,
 * their netblocks with the ports, and the ports for every destination.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* A destination with the union of its ports (any: every port). */
struct dest {
	struct ew_addr a;
	unsigned bits;
	int any;
	struct ew_desk_range *r;
	size_t n;
};

/* The port ranges so far, plus `add`, sorted and merged. */
static int
ranges_merge(struct ew_desk_range **v, size_t *n,
    const struct ew_desk_range *add, size_t nadd)
{
	struct ew_desk_range *nv, t;
	size_t i, j, k;

	if (nadd == 0)
		return 0;
	nv = realloc(*v, (*n + nadd) * sizeof(**v));
	if (nv == NULL)
		return -ENOMEM;
	memcpy(nv + *n, add, nadd * sizeof(*add));
	*v = nv;
	*n += nadd;
	for (i = 1; i < *n; i++) /* insertion sort: the lists are short */
		for (j = i; j > 0 && nv[j - 1].lo > nv[j].lo; j--) {
			t = nv[j];
			nv[j] = nv[j - 1];
			nv[j - 1] = t;
		}
	for (i = 0, k = 0; i < *n; i++) {
		if (k > 0 && (uint32_t)nv[i].lo <= (uint32_t)nv[k - 1].hi + 1) {
			if (nv[i].hi > nv[k - 1].hi)
				nv[k - 1].hi = nv[i].hi;
		} else {
			nv[k++] = nv[i];
		}
	}
	*n = k;
	return 0;
}

static void
mask_addr(struct ew_addr *a, unsigned bits)
{
	unsigned width = ew_addr_bits(a) / 8, i;

	for (i = 0; i < width; i++) {
		if (bits >= 8 * (i + 1))
			continue;
		if (bits <= 8 * i)
			a->b[i] = 0;
		else
			a->b[i] &= (uint8_t)(0xff << (8 - (bits - 8 * i)));
	}
}

static int
dest_add(struct dest **v, size_t *n, const struct ew_addr *a, unsigned bits,
    const struct ew_desk_range *r, size_t nr)
{
	struct dest *nv, *d = NULL;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].bits == bits &&
		    ew_addr_bits(&(*v)[i].a) == ew_addr_bits(a) &&
		    ew_addr_prefix_eq(&(*v)[i].a, a, bits))
			d = &(*v)[i];
	if (d == NULL) {
		if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
			return -ENOMEM;
		*v = nv;
		d = &nv[(*n)++];
		memset(d, 0, sizeof(*d));
		d->a = *a;
		d->bits = bits;
		mask_addr(&d->a, bits);
	}
	if (nr == 0)
		d->any = 1;
	return ranges_merge(&d->r, &d->n, r, nr);
}

static void
dests_free(struct dest *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].r);
	free(v);
}

/* Append rule texts for one destination (NULL: every destination). */
static int
push_rules(struct ew_desk_proposal *p, const struct dest *d,
    const struct ew_desk_range *r, size_t nr, int any)
{
	char addr[EW_ADDR_STRLEN];
	struct ew_buf b = EW_BUF_INIT;
	char **nv;
	size_t i, k, count = any ? 1 : nr;

	for (i = 0; i < count; i++) {
		ew_buf_reset(&b);
		if (d == NULL) {
			ew_buf_puts(&b, "reject *");
		} else {
			ew_addr_format(&d->a, 1, addr, sizeof(addr));
			ew_buf_printf(&b, "%s %s",
			    d->a.family == EW_AF_INET6 ? "reject6" : "reject",
			    addr);
			if (d->bits != ew_addr_bits(&d->a))
				ew_buf_printf(&b, "/%u", d->bits);
		}
		if (any)
			ew_buf_puts(&b, ":*");
		else if (r[i].lo == r[i].hi)
			ew_buf_printf(&b, ":%u", r[i].lo);
		else
			ew_buf_printf(&b, ":%u-%u", r[i].lo, r[i].hi);
		if (b.oom)
			goto oom;
		for (k = 0; k < p->n; k++)
			if (strcmp(p->rules[k], ew_buf_str(&b)) == 0)
				break;
		if (k < p->n)
			continue; /* already proposed */
		if ((nv = realloc(p->rules, (p->n + 1) * sizeof(*nv))) == NULL)
			goto oom;
		p->rules = nv;
		if ((p->rules[p->n] = ew_buf_detach(&b)) == NULL)
			goto oom;
		p->n++;
	}
	ew_buf_free(&b);
	return 0;
oom:
	ew_buf_free(&b);
	return -ENOMEM;
}

static void
clear(struct ew_desk_proposal *p)
{
	size_t k;

	for (k = 0; k < p->n; k++)
		free(p->rules[k]);
	free(p->rules);
	p->rules = NULL;
	p->n = 0;
}

void
ew_desk_proposals_free(struct ew_desk_proposal *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		clear(&v[i]);
	free(v);
}

static int
same_rules(const struct ew_desk_proposal *a, const struct ew_desk_proposal *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->rules[i], b->rules[i]) != 0)
			return 0;
	return 1;
}

/* Gather the destinations and the union of ports of a ticket's
 * incidents that are allowed or unknown. */
static int
gather(struct ew_desk *d, int64_t ticket_id, struct dest **dests,
    size_t *ndests, struct ew_desk_range **ports, size_t *nports)
{
	struct ew_store_incident *inc = NULL;
	struct ew_desk_range *r = NULL;
	int64_t *cids = NULL;
	size_t ncids = 0, ninc = 0, nr = 0, i, k;
	struct ew_addr a;
	unsigned bits;
	int rc;

	if ((rc = ew_store_ticket_complaints(d->st, ticket_id, &cids, &ncids)))
		return rc;
	for (i = 0; rc == 0 && i < ncids; i++) {
		rc = ew_store_incident_list(d->st, cids[i], &inc, &ninc);
		for (k = 0; rc == 0 && k < ninc; k++) {
			const char *v = inc[k].verdict;

			if (v != NULL && strcmp(v, EW_JUDGED_ALLOWED) != 0 &&
			    strcmp(v, EW_JUDGED_UNKNOWN) != 0)
				continue;
			if (ew_desk_ports_parse(inc[k].dst_ports, &r, &nr) != 0)
				nr = 0; /* unreadable: as if none were given */
			if (ew_desk_net_parse(inc[k].dst, &a, &bits) == 0)
				rc = dest_add(dests, ndests, &a, bits, r, nr);
			if (rc == 0)
				rc = ranges_merge(ports, nports, r, nr);
			free(r);
			r = NULL;
		}
		ew_store_incidents_free(inc, ninc);
		inc = NULL;
	}
	free(cids);
	return rc;
}

int
ew_desk_proposals(struct ew_desk *d, int64_t ticket_id,
    struct ew_desk_proposal **out, size_t *n)
{
	struct ew_desk_proposal p[3];
	struct dest *dests = NULL, blk;
	struct ew_desk_range *ports = NULL;
	size_t ndests = 0, nports = 0, i, np = 0;
	int rc;

	*out = NULL;
	*n = 0;
	memset(p, 0, sizeof(p));
	rc = gather(d, ticket_id, &dests, &ndests, &ports, &nports);
	p[0].scope = "destination";
	p[1].scope = "netblock";
	p[2].scope = "ports";
	for (i = 0; rc == 0 && i < ndests; i++) {
		rc = push_rules(
		    &p[0], &dests[i], dests[i].r, dests[i].n, dests[i].any);
		blk = dests[i];
		if (blk.bits > (blk.a.family == EW_AF_INET6 ? 48u : 24u))
			blk.bits = blk.a.family == EW_AF_INET6 ? 48 : 24;
		mask_addr(&blk.a, blk.bits);
		if (rc == 0)
			rc = push_rules(&p[1], &blk, blk.r, blk.n, blk.any);
	}
	if (rc == 0 && nports > 0)
		rc = push_rules(&p[2], NULL, ports, nports, 0);
	dests_free(dests, ndests);
	free(ports);
	if (rc == 0 && same_rules(&p[0], &p[1]))
		clear(&p[1]); /* the destinations are netblocks already */
	if (rc == 0 && (*out = calloc(3, sizeof(**out))) == NULL)
		rc = -ENOMEM;
	for (i = 0; i < 3; i++) {
		if (rc == 0 && p[i].n > 0)
			(*out)[np++] = p[i];
		else
			clear(&p[i]);
	}
	if (rc != 0) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*n = np;
	return 0;
}

/* A double-quoted policy string: \" and \\ escaped, controls blanked. */
static void
put_quoted(struct ew_buf *b, const char *s)
{
	ew_buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			ew_buf_putc(b, '\\');
		ew_buf_putc(
		    b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	}
	ew_buf_putc(b, '"');
}

static void
put_rule(struct ew_buf *b, const struct ew_desk_rule *r)
{
	char t[EW_TIME_STRLEN];

	ew_buf_puts(b, r->rule);
	if (r->reason != NULL && *r->reason != '\0') {
		ew_buf_puts(b, " reason ");
		put_quoted(b, r->reason);
	}
	if (r->ticket_id > 0)
		ew_buf_printf(b, " ticket %lld", (long long)r->ticket_id);
	if (r->expires != EW_STORE_NO_TIME)
		ew_buf_printf(
		    b, " expires %s", ew_time_format(r->expires, t, sizeof(t)));
	ew_buf_putc(b, '\n');
}

int
ew_desk_managed(struct ew_desk *d, const char *policy_path,
    const struct ew_desk_rule *extra, size_t n_extra, struct ew_buf *out)
{
	struct ew_store_rule *rules = NULL;
	struct ew_desk_rule r;
	size_t n = 0, i;
	int rc;

	if (policy_path[0] != '/' || strpbrk(policy_path, "\"\\\n\r") != NULL)
		return -EINVAL;
	if ((rc = ew_store_rule_list(d->st, 0, &rules, &n)) != 0)
		return rc;
	ew_buf_puts(out,
	    "# Written by exitwarden from its store: do not edit.  Blocks "
	    "come and go\n# with \"exitwarden ticket block\" and "
	    "\"exitwarden expire\"; they come\n# first, so they win over the "
	    "operator's policy included below.\n");
	for (i = 0; i < n; i++) {
		r.rule = rules[i].rule_text;
		r.reason = rules[i].reason;
		r.ticket_id = rules[i].ticket_id;
		r.expires = rules[i].expires_at;
		put_rule(out, &r);
	}
	for (i = 0; i < n_extra; i++)
		put_rule(out, &extra[i]);
	ew_buf_printf(out, "include \"%s\"\n", policy_path);
	ew_store_rules_free(rules, n);
	return out->oom ? -ENOMEM : 0;
}

int
ew_desk_record(struct ew_desk *d, const struct ew_policy *p, int64_t at,
    struct ew_diag_list *diags)
{
	struct ew_buf torrc = EW_BUF_INIT, list = EW_BUF_INIT;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	char digest[65];
	int64_t id;
	int rc;

	memset(&env, 0, sizeof(env));
	env.now = at;
	env.ifaddrs = d->ifaddrs;
	env.n_ifaddrs = d->n_ifaddrs;
	if ((rc = ew_policy_expand(p, &env, diags, &e)) != 0)
		return rc;
	ew_expanded_format(e, &list);
	ew_expanded_free(e);
	ew_policy_torrc(p, at, &torrc);
	rc = torrc.oom || list.oom ? -ENOMEM : 0;
	if (rc == 0)
		rc = ew_tor_list_digest(ew_buf_str(&list), digest);
	if (rc == 0)
		rc = ew_store_policy_record(
		    d->st, digest, ew_buf_str(&torrc), at, &id);
	ew_buf_free(&torrc);
	ew_buf_free(&list);
	return rc;
}
