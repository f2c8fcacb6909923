/*
 * propose.c - what to block for a ticket, the managed policy that
 * carries the blocks, and recording what was applied.
 *
 * Proposals are built from the ticket's incidents judged allowed or
 * unknown (a blocked incident is blocked already; one that is not ours
 * is not ours to block): the reported destinations with their ports,
 * their netblocks with the ports, and the ports for every destination.
 *
 * A sender sets how many incidents there are (a zipped CSV may hold a
 * million), so nothing here compares every one with every other: each
 * (destination, port range) an incident names is one entry in a flat
 * array; sorting the array by destination and port brings together
 * what merges, and sorting the merged destinations by first mention
 * gives the order the complaints named them in.  n log n throughout;
 * ew_desk_work counts the comparisons and entries.
 *
 * Destinations named only by a host name are resolved when proposals
 * are made, with the resolver the caller set (bounded in time); an
 * incident that names no destination takes its complaint's (the
 * complaint lists the servers once, the log lines name only our side),
 * when the complaint names at most EW_DESK_SPREAD_MAX of them.
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

unsigned long long ew_desk_work;

/* A destination reference of one incident: an address or netblock, or
 * a host name (1 + index into the names). */
struct dref {
	struct ew_addr a;
	uint8_t bits;
	uint8_t noports; /* the incident gave none */
	uint32_t host;
	uint64_t order; /* first mention */
};

/* Ports of a destination reference (any: every port). */
struct pref {
	size_t dref;
	uint16_t lo, hi;
	uint8_t any;
};

/* One (destination, port range), flat: what gets sorted. */
struct ent {
	struct ew_addr a;
	uint8_t bits;
	uint8_t any;
	uint16_t lo, hi;
	uint32_t name; /* 1 + index of the name it was resolved from, or 0 */
	uint64_t order;
};

/* A host name as the incidents give it, before the names are merged. */
struct hostref {
	char *host;
	uint64_t order;
	size_t dref;
	uint32_t id; /* the distinct name's number, in host order */
};

struct gather {
	struct dref *d;
	size_t nd, capd;
	struct pref *p;
	size_t np, capp;
	struct hostref *h;
	size_t nh, caph;
	struct ew_port_range *ports; /* every range, for the ports scope */
	size_t nports, capports;
	uint64_t seq;
};

/* Grow *v (of *cap elements of `size` bytes) to hold one more. */
static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if ((nv = realloc(*v, ncap * size)) == NULL)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
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
add_dref(struct gather *g, const struct ew_addr *a, unsigned bits,
    uint32_t host, uint64_t order, size_t *idx)
{
	struct dref *d;

	if (grow((void **)&g->d, &g->capd, g->nd, sizeof(*g->d)) != 0)
		return -ENOMEM;
	d = &g->d[g->nd];
	memset(d, 0, sizeof(*d));
	if (a != NULL) {
		d->a.family = a->family;
		memcpy(d->a.b, a->b, sizeof(d->a.b));
		mask_addr(&d->a, bits);
	}
	d->bits = (uint8_t)bits;
	d->host = host;
	d->order = order;
	*idx = g->nd++;
	return 0;
}

/* The ports of dref `di`: the ranges, or every port when nr is 0. */
static int
add_prefs(struct gather *g, size_t di, const struct ew_port_range *r, size_t nr)
{
	size_t i, k = nr ? nr : 1;

	for (i = 0; i < k; i++) {
		if (grow((void **)&g->p, &g->capp, g->np, sizeof(*g->p)) != 0)
			return -ENOMEM;
		g->p[g->np].dref = di;
		g->p[g->np].any = nr == 0;
		g->p[g->np].lo = nr ? r[i].lo : 1;
		g->p[g->np].hi = nr ? r[i].hi : 65535;
		g->np++;
		ew_desk_work++;
	}
	return 0;
}

static int
add_ports(struct gather *g, const struct ew_port_range *r, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (grow((void **)&g->ports, &g->capports, g->nports,
			sizeof(*g->ports)) != 0)
			return -ENOMEM;
		g->ports[g->nports++] = r[i];
		ew_desk_work++;
	}
	return 0;
}

/* A destination-less incident's ranges, kept for its complaint. */
struct floating {
	struct ew_port_range *r;
	size_t n, cap;
};

/* The ports of an incident that names a destination: its own now;
 * without any, decided when the complaint is read to its end. */
static int
dest_ports(
    struct gather *g, size_t di, const struct ew_port_range *r, size_t nr)
{
	if (nr == 0) {
		g->d[di].noports = 1;
		return 0;
	}
	return add_prefs(g, di, r, nr);
}

/*
 * One complaint's incidents into the gather.  The ports of incidents
 * that name no destination (log lines of our side, "other possible
 * ports include ...") go to every destination the complaint names (its
 * servers, listed once), if it names at most EW_DESK_SPREAD_MAX; a
 * destination named without ports is blocked on those, or on every
 * port when there are none.
 */
static int
gather_complaint(
    struct gather *g, const struct ew_store_incident *inc, size_t ninc)
{
	struct floating fl = { NULL, 0, 0 };
	const struct ew_port_range *r;
	size_t nr, k, i, first = g->nd, di;
	struct ew_addr a;
	unsigned bits;
	int rc = 0, spread;

	for (k = 0; rc == 0 && k < ninc; k++) {
		enum ew_store_verdict v = inc[k].verdict;

		if (v != EW_STORE_VERDICT_NONE && v != EW_JUDGED_ALLOWED &&
		    v != EW_JUDGED_UNKNOWN)
			continue;
		r = inc[k].dst_ports;
		nr = inc[k].n_dst_ports;
		rc = add_ports(g, r, nr);
		if (rc == 0 && ew_desk_net_parse(inc[k].dst, &a, &bits) == 0) {
			rc = add_dref(g, &a, bits, 0, g->seq++, &di);
			if (rc == 0)
				rc = dest_ports(g, di, r, nr);
		} else if (rc == 0 && inc[k].dst_host != NULL &&
			   *inc[k].dst_host != '\0') {
			rc = add_dref(g, NULL, 0, 0, g->seq++, &di);
			if (rc == 0)
				rc = grow((void **)&g->h, &g->caph, g->nh,
				    sizeof(*g->h));
			if (rc == 0 && (g->h[g->nh].host =
					       strdup(inc[k].dst_host)) == NULL)
				rc = -ENOMEM;
			if (rc == 0) {
				g->h[g->nh].order = g->d[di].order;
				g->h[g->nh++].dref = di;
				rc = dest_ports(g, di, r, nr);
			}
		} else {
			for (i = 0; rc == 0 && i < nr; i++) {
				rc = grow((void **)&fl.r, &fl.cap, fl.n,
				    sizeof(*fl.r));
				if (rc == 0)
					fl.r[fl.n++] = r[i];
			}
		}
	}
	spread = fl.n > 0 && g->nd - first <= EW_DESK_SPREAD_MAX;
	for (di = first; rc == 0 && di < g->nd; di++) {
		if (spread)
			rc = add_prefs(g, di, fl.r, fl.n);
		else if (g->d[di].noports)
			rc = add_prefs(g, di, NULL, 0);
	}
	free(fl.r);
	return rc;
}

static void
gather_free(struct gather *g)
{
	size_t i;

	for (i = 0; i < g->nh; i++)
		free(g->h[i].host);
	free(g->h);
	free(g->d);
	free(g->p);
	free(g->ports);
}

static int
gather(struct ew_desk *d, int64_t ticket_id, struct gather *g)
{
	struct ew_store_incident *inc = NULL;
	int64_t *cids = NULL;
	size_t ncids = 0, ninc = 0, i;
	int rc;

	if ((rc = ew_store_ticket_complaints(d->st, ticket_id, &cids, &ncids)))
		return rc;
	for (i = 0; rc == 0 && i < ncids; i++) {
		rc = ew_store_incident_list(d->st, cids[i], &inc, &ninc);
		if (rc == 0)
			rc = gather_complaint(g, inc, ninc);
		ew_store_incidents_free(inc, ninc);
		inc = NULL;
		ninc = 0;
	}
	free(cids);
	return rc;
}

/* ---- host names ---- */

static int
cmp_hostref(const void *x, const void *y)
{
	const struct hostref *a = x, *b = y;
	int c = strcmp(a->host, b->host);

	ew_desk_work++;
	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int
cmp_name_order(const void *x, const void *y)
{
	const struct hostref *a = x, *b = y;

	ew_desk_work++;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Letters, digits, '-', '_' and dots, at most 253: a name to look up. */
static int
is_host_name(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
			(s[n] >= 'A' && s[n] <= 'Z') ||
			(s[n] >= '0' && s[n] <= '9') || s[n] == '-' ||
			s[n] == '.' || s[n] == '_'))
			return 0;
	return n > 0 && n <= 253 && s[0] != '.' && s[0] != '-';
}

void
ew_desk_set_resolver(struct ew_desk *d, ew_desk_resolve_fn fn, void *arg)
{
	d->resolve = fn;
	d->resolve_arg = arg;
}

static void
names_free(struct ew_desk_name *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].addrs);
	}
	free(v);
}

/* Hand the names still to look up (rc 0) to the resolver, then keep
 * what may be blocked: no internal or multicast address. */
static int
ask(struct ew_desk *d, struct ew_desk_name *names, size_t n, size_t nask)
{
	struct ew_desk_name *tmp;
	size_t i, k, j, m;

	if ((tmp = calloc(nask, sizeof(*tmp))) == NULL)
		return -ENOMEM;
	for (i = 0, k = 0; i < n && k < nask; i++)
		if (names[i].rc == 0) {
			tmp[k].host = names[i].host;
			tmp[k].at = EW_STORE_NO_TIME;
			k++;
		}
	d->resolve(d->resolve_arg, tmp, k);
	for (i = 0, k = 0; i < n && k < nask; i++) {
		if (names[i].rc != 0)
			continue;
		names[i].rc = tmp[k].rc;
		names[i].at = tmp[k].at;
		names[i].addrs = tmp[k].addrs;
		m = tmp[k].n;
		if (m > EW_DESK_MAX_NAME_ADDRS)
			m = EW_DESK_MAX_NAME_ADDRS;
		for (j = 0, names[i].n = 0; names[i].addrs != NULL && j < m;
		     j++) {
			const struct ew_addr *x = &names[i].addrs[j];

			if (ew_addr_is_internal(x) || ew_addr_is_multicast(x))
				names[i].skipped++;
			else
				names[i].addrs[names[i].n++] = *x;
		}
		if (names[i].rc == 0 && names[i].n == 0 &&
		    names[i].skipped == 0)
			names[i].rc = -ENODATA;
		k++;
	}
	free(tmp);
	return 0;
}

/*
 * Merge the host names (sorted: n log n), number them by first mention,
 * point each dref at its name, and resolve the first EW_DESK_MAX_NAMES.
 */
static int
names_resolve(struct ew_desk *d, struct gather *g, struct ew_desk_name **out,
    size_t *nout)
{
	struct ew_desk_name *names = NULL;
	struct hostref *u = NULL;
	uint32_t *rank = NULL;
	size_t nu = 0, i, nask = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (g->nh == 0)
		return 0;
	qsort(g->h, g->nh, sizeof(*g->h), cmp_hostref);
	/* the distinct names, each at its first mention (sorted first) */
	if ((u = calloc(g->nh, sizeof(*u))) == NULL)
		return -ENOMEM;
	for (i = 0; i < g->nh; i++) {
		if (i == 0 || strcmp(g->h[i - 1].host, g->h[i].host) != 0) {
			u[nu] = g->h[i];
			u[nu].id = (uint32_t)nu;
			nu++;
		}
		g->h[i].id = (uint32_t)(nu - 1);
	}
	qsort(u, nu, sizeof(*u), cmp_name_order);
	names = calloc(nu, sizeof(*names));
	rank = calloc(nu, sizeof(*rank));
	if (names == NULL || rank == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < nu; i++) {
		rank[u[i].id] = (uint32_t)i;
		names[i].at = EW_STORE_NO_TIME;
		if ((names[i].host = strdup(u[i].host)) == NULL)
			rc = -ENOMEM;
	}
	for (i = 0; rc == 0 && i < g->nh; i++)
		g->d[g->h[i].dref].host = rank[g->h[i].id] + 1;
	free(u);
	free(rank);
	for (i = 0; rc == 0 && i < nu; i++) {
		if (!is_host_name(names[i].host))
			names[i].rc = -EINVAL;
		else if (nask >= EW_DESK_MAX_NAMES)
			names[i].rc = -E2BIG;
		else if (d->resolve == NULL)
			names[i].rc = -ECANCELED;
		else
			nask++;
	}
	if (rc == 0 && nask > 0)
		rc = ask(d, names, nu, nask);
	if (rc != 0) {
		names_free(names, nu);
		return rc;
	}
	*out = names;
	*nout = nu;
	return 0;
}

/* ---- entries: sorted, merged, written as rules ---- */

struct ents {
	struct ent *v;
	size_t n, cap;
};

static int
ent_push(struct ents *e, const struct ew_addr *a, unsigned bits,
    const struct pref *p, uint32_t name, uint64_t order)
{
	struct ent *x;

	if (grow((void **)&e->v, &e->cap, e->n, sizeof(*e->v)) != 0)
		return -ENOMEM;
	x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	x->a.family = a->family;
	memcpy(x->a.b, a->b, sizeof(x->a.b));
	x->bits = (uint8_t)bits;
	x->any = p->any;
	x->lo = p->lo;
	x->hi = p->hi;
	x->name = name;
	x->order = order;
	ew_desk_work++;
	return 0;
}

/* Every (destination, ports) the ticket names, host names expanded. */
static int
expand(const struct gather *g, const struct ew_desk_name *names, struct ents *e)
{
	size_t i, k;
	int rc = 0;

	for (i = 0; rc == 0 && i < g->np; i++) {
		const struct pref *p = &g->p[i];
		const struct dref *dr = &g->d[p->dref];
		const struct ew_desk_name *nm;

		if (dr->host == 0) {
			rc = ent_push(e, &dr->a, dr->bits, p, 0, dr->order);
			continue;
		}
		nm = &names[dr->host - 1];
		for (k = 0; rc == 0 && nm->rc == 0 && k < nm->n; k++)
			rc = ent_push(e, &nm->addrs[k],
			    ew_addr_bits(&nm->addrs[k]), p, dr->host,
			    dr->order);
	}
	return rc;
}

static int
cmp_key(const struct ent *a, const struct ent *b)
{
	int c;

	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	if ((c = memcmp(a->a.b, b->a.b, sizeof(a->a.b))) != 0)
		return c;
	return a->bits < b->bits ? -1 : a->bits > b->bits;
}

/* By destination, then port, then first mention. */
static int
cmp_ent(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;
	int c;

	ew_desk_work++;
	if ((c = cmp_key(a, b)) != 0)
		return c;
	if (a->any != b->any)
		return a->any ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* A merged destination: ents [from, to) of the sorted array. */
struct group {
	size_t from, to;
	uint64_t order;
	uint32_t name;
};

static int
cmp_group(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	ew_desk_work++;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->from < b->from ? -1 : a->from > b->from;
}

static int
rule_push(
    struct ew_desk_proposal *p, size_t *cap, struct ew_buf *b, const char *from)
{
	char **nr;
	const char **nf;
	size_t ncap;

	if (b->oom)
		return -ENOMEM;
	if (p->n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		if ((nr = realloc(p->rules, ncap * sizeof(*nr))) == NULL)
			return -ENOMEM;
		p->rules = nr;
		if ((nf = realloc(p->from, ncap * sizeof(*nf))) == NULL)
			return -ENOMEM;
		p->from = nf;
		*cap = ncap;
	}
	if ((p->rules[p->n] = ew_buf_detach(b)) == NULL)
		return -ENOMEM;
	p->from[p->n++] = from;
	return 0;
}

/* The rules of one merged destination (NULL a: every destination). */
static int
group_rules(struct ew_desk_proposal *p, size_t *cap, const struct ent *v,
    size_t n, const char *from)
{
	char addr[EW_ADDR_STRLEN];
	struct ew_buf b = EW_BUF_INIT;
	size_t i;
	uint32_t lo, hi;
	int rc = 0;

	for (i = 0; rc == 0 && i < n;) {
		ew_buf_reset(&b);
		if (v[i].a.family == EW_AF_NONE) {
			ew_buf_puts(&b, "reject *");
		} else {
			ew_addr_format(&v[i].a, 1, addr, sizeof(addr));
			ew_buf_printf(&b, "%s %s",
			    v[i].a.family == EW_AF_INET6 ? "reject6" : "reject",
			    addr);
			if (v[i].bits != ew_addr_bits(&v[i].a))
				ew_buf_printf(&b, "/%u", v[i].bits);
		}
		if (v[0].any) { /* sorted first: every port, one rule */
			ew_buf_puts(&b, ":*");
			i = n;
		} else {
			lo = v[i].lo;
			hi = v[i].hi;
			for (i++; i < n && v[i].lo <= hi + 1; i++)
				if (v[i].hi > hi)
					hi = v[i].hi;
			if (lo == hi)
				ew_buf_printf(&b, ":%u", lo);
			else
				ew_buf_printf(&b, ":%u-%u", lo, hi);
		}
		rc = rule_push(p, cap, &b, from);
	}
	ew_buf_free(&b);
	return rc;
}

/*
 * Sort the entries, merge each destination's ports, and write the
 * rules, destinations in the order they were first named.
 */
static int
emit_scope(struct ew_desk_proposal *p, struct ents *e,
    const struct ew_desk_name *names)
{
	struct group *gv = NULL;
	size_t ng = 0, i, cap = 0;
	int rc = 0;

	if (e->n == 0)
		return 0;
	qsort(e->v, e->n, sizeof(*e->v), cmp_ent);
	if ((gv = calloc(e->n, sizeof(*gv))) == NULL)
		return -ENOMEM;
	for (i = 0; i < e->n; i++) {
		ew_desk_work++;
		if (i == 0 || cmp_key(&e->v[i - 1], &e->v[i]) != 0) {
			gv[ng].from = i;
			gv[ng].order = e->v[i].order;
			gv[ng].name = e->v[i].name;
			ng++;
		}
		gv[ng - 1].to = i + 1;
		/* first mention; named by address anywhere: no name */
		if (e->v[i].order < gv[ng - 1].order)
			gv[ng - 1].order = e->v[i].order;
		if (e->v[i].name == 0)
			gv[ng - 1].name = 0;
	}
	qsort(gv, ng, sizeof(*gv), cmp_group);
	for (i = 0; rc == 0 && i < ng; i++)
		rc = group_rules(p, &cap, &e->v[gv[i].from],
		    gv[i].to - gv[i].from,
		    gv[i].name ? names[gv[i].name - 1].host : NULL);
	free(gv);
	return rc;
}

/* The entries as their netblocks: /24, IPv6 /48 (no narrower). */
static void
to_netblocks(struct ents *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		unsigned nb = e->v[i].a.family == EW_AF_INET6 ? 48 : 24;

		if (e->v[i].bits > nb) {
			e->v[i].bits = (uint8_t)nb;
			mask_addr(&e->v[i].a, nb);
		}
		ew_desk_work++;
	}
}

/* The ports alone ("reject *:P"), from every range of the ticket. */
static int
ports_scope(struct ew_desk_proposal *p, const struct gather *g)
{
	struct ents e = { NULL, 0, 0 };
	struct ew_addr none;
	struct pref pr;
	size_t i;
	int rc = 0;

	memset(&none, 0, sizeof(none));
	memset(&pr, 0, sizeof(pr));
	for (i = 0; rc == 0 && i < g->nports; i++) {
		pr.lo = g->ports[i].lo;
		pr.hi = g->ports[i].hi;
		rc = ent_push(&e, &none, 0, &pr, 0, 0);
	}
	if (rc == 0)
		rc = emit_scope(p, &e, NULL);
	free(e.v);
	return rc;
}

static void
clear(struct ew_desk_proposal *p)
{
	size_t k;

	for (k = 0; k < p->n; k++)
		free(p->rules[k]);
	free(p->rules);
	free(p->from);
	p->rules = NULL;
	p->from = NULL;
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

void
ew_desk_propose_free(struct ew_desk_proposals *p)
{
	if (p == NULL)
		return;
	ew_desk_proposals_free(p->v, p->n);
	names_free(p->names, p->nnames);
	memset(p, 0, sizeof(*p));
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

int
ew_desk_propose(
    struct ew_desk *d, int64_t ticket_id, struct ew_desk_proposals *out)
{
	struct ew_desk_proposal p[3];
	struct gather g;
	struct ents e = { NULL, 0, 0 };
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	p[0].scope = "destination";
	p[1].scope = "netblock";
	p[2].scope = "ports";
	rc = gather(d, ticket_id, &g);
	if (rc == 0)
		rc = names_resolve(d, &g, &out->names, &out->nnames);
	if (rc == 0)
		rc = expand(&g, out->names, &e);
	if (rc == 0)
		rc = emit_scope(&p[0], &e, out->names);
	if (rc == 0) {
		to_netblocks(&e);
		rc = emit_scope(&p[1], &e, out->names);
	}
	if (rc == 0)
		rc = ports_scope(&p[2], &g);
	free(e.v);
	gather_free(&g);
	if (rc == 0 && same_rules(&p[0], &p[1]))
		clear(&p[1]); /* the destinations are netblocks already */
	if (rc == 0 && (out->v = calloc(3, sizeof(*out->v))) == NULL)
		rc = -ENOMEM;
	for (i = 0; i < 3; i++) {
		if (rc == 0 && p[i].n > 0)
			out->v[out->n++] = p[i];
		else
			clear(&p[i]);
	}
	if (rc != 0)
		ew_desk_propose_free(out);
	return rc;
}

int
ew_desk_proposals(struct ew_desk *d, int64_t ticket_id,
    struct ew_desk_proposal **out, size_t *n)
{
	struct ew_desk_proposals ps;
	size_t i, k;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = ew_desk_propose(d, ticket_id, &ps)) != 0)
		return rc;
	for (i = 0; i < ps.n; i++)
		for (k = 0; k < ps.v[i].n; k++)
			ps.v[i].from[k] = NULL; /* the names go now */
	names_free(ps.names, ps.nnames);
	*out = ps.v;
	*n = ps.n;
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
	    "come and go\n# with \"exitwarden ticket block\", \"exitwarden "
	    "block add|remove\" and\n# \"exitwarden expire\"; they come "
	    "first, so they win over the operator's\n# policy included "
	    "below.  \"exitwarden apply POLICY\" writes this file\n# with "
	    "POLICY included, and applies it.\n");
	for (i = 0; i < n; i++) {
		/* another relay's block is not this relay's */
		if (rules[i].relay != NULL &&
		    (d->relay == NULL || strcmp(rules[i].relay, d->relay) != 0))
			continue;
		r.rule = rules[i].rule_text;
		r.reason = rules[i].reason;
		r.ticket_id = rules[i].ticket_id;
		r.expires = rules[i].expires_at;
		put_rule(out, &r);
	}
	for (i = 0; i < n_extra; i++)
		put_rule(out, &extra[i]);
	if (d->nlocal > 0)
		ew_buf_puts(out, EW_DESK_LOCAL_MARK "\n");
	for (i = 0; i < d->nlocal; i++)
		put_rule(out, &d->local[i]);
	ew_buf_printf(out, "include \"%s\"\n", policy_path);
	ew_store_rules_free(rules, n);
	return out->oom ? -ENOMEM : 0;
}

void
ew_desk_set_local(struct ew_desk *d, const struct ew_desk_rule *v, size_t n)
{
	d->local = n > 0 ? v : NULL;
	d->nlocal = n > 0 ? n : 0;
}

int
ew_desk_managed_local(const char *text, const struct ew_desk_rule *v, size_t n,
    struct ew_buf *out)
{
	const char *s, *inc = NULL, *mark = NULL;
	size_t len, i, ml = strlen(EW_DESK_LOCAL_MARK);

	for (s = text; *s != '\0'; s += len + (s[len] == '\n')) {
		len = strcspn(s, "\n");
		if (len > 9 && strncmp(s, "include \"", 9) == 0)
			inc = s;
		else if (mark == NULL && len == ml &&
			 strncmp(s, EW_DESK_LOCAL_MARK, ml) == 0)
			mark = s;
	}
	if (inc == NULL)
		return -EINVAL;
	if (mark == NULL || mark > inc)
		mark = inc;
	ew_buf_add(out, text, (size_t)(mark - text));
	if (n > 0)
		ew_buf_puts(out, EW_DESK_LOCAL_MARK "\n");
	for (i = 0; i < n; i++)
		put_rule(out, &v[i]);
	ew_buf_puts(out, inc);
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
		rc = ew_store_policy_record_relay(
		    d->st, d->relay, digest, ew_buf_str(&torrc), at, &id);
	ew_buf_free(&torrc);
	ew_buf_free(&list);
	return rc;
}
