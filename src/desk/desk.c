/*
 * desk.c - judging incidents against the policy history, and taking a
 * complaint in: store it, judge it, file it under a ticket.
 *
 * A policy version is judged as tor ran it: the version's torrc text
 * (kept by the store) parsed and expanded at the instant it was applied,
 * then compiled.  Versions are cached by id for the desk's life, so a
 * report of a thousand lines parses each version once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "desk/desk.h"
#include "desk/desk_int.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/port.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "store/store.h"

/* Own addresses a policy can name (Address x2, four bind kinds x2). */
#define EW_DESK_MAX_OWN 10

struct ew_desk_version {
	int64_t id;
	char digest[65]; /* a row replaced in the same second changes it */
	struct ew_expanded *e;
	struct ew_compiled *c;
	/* the p and p6 summaries: what clients choose exits by */
	struct ew_short_policy *sp[2];
	/* the relay's own addresses this version names */
	struct ew_addr own[EW_DESK_MAX_OWN];
	size_t n_own;
	/* OutboundBindAddressExit (IPv4, IPv6; EW_AF_NONE: not set): a
	 * relay bound to another address did not carry the incident */
	struct ew_addr bind[2];
	/* the ports where an item starts or ends (pmin, pmax + 1), sorted:
	 * the verdict on a port range changes only there */
	uint16_t *bounds;
	size_t nbounds;
};

static void
version_clear(struct ew_desk_version *v)
{
	ew_compiled_free(v->c);
	ew_expanded_free(v->e);
	ew_short_policy_free(v->sp[0]);
	ew_short_policy_free(v->sp[1]);
	free(v->bounds);
	v->bounds = NULL;
}

static int
cmp_u16(const void *x, const void *y)
{
	uint16_t a = *(const uint16_t *)x, b = *(const uint16_t *)y;

	return a < b ? -1 : a > b;
}

/* The version's port boundaries (sorted, each once). */
static int
bounds(struct ew_desk_version *v)
{
	size_t i, n = 0, k;

	v->bounds = malloc((2 * v->e->n + 1) * sizeof(*v->bounds));
	if (v->bounds == NULL)
		return -ENOMEM;
	for (i = 0; i < v->e->n; i++) {
		v->bounds[n++] = v->e->items[i].pmin;
		if (v->e->items[i].pmax < 65535)
			v->bounds[n++] = (uint16_t)(v->e->items[i].pmax + 1);
	}
	qsort(v->bounds, n, sizeof(*v->bounds), cmp_u16);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || v->bounds[k - 1] != v->bounds[i])
			v->bounds[k++] = v->bounds[i];
	v->nbounds = k;
	return 0;
}

int
ew_desk_new(struct ew_store *st, const struct ew_addr *ifaddrs,
    size_t n_ifaddrs, struct ew_desk **out)
{
	struct ew_desk *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->st = st;
	if (n_ifaddrs > 0) {
		d->ifaddrs = calloc(n_ifaddrs, sizeof(*d->ifaddrs));
		if (d->ifaddrs == NULL) {
			free(d);
			return -ENOMEM;
		}
		memcpy(d->ifaddrs, ifaddrs, n_ifaddrs * sizeof(*ifaddrs));
		d->n_ifaddrs = n_ifaddrs;
	}
	*out = d;
	return 0;
}

void
ew_desk_free(struct ew_desk *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nversions; i++)
		version_clear(&d->versions[i]);
	free(d->versions);
	free(d->ifaddrs);
	free(d->relay);
	free(d->own);
	free(d);
}

/* The summaries of both families, as clients read them. */
static int
summaries(struct ew_desk_version *v)
{
	static const int fam[2] = { EW_AF_INET, EW_AF_INET6 };
	char *s;
	int k;

	for (k = 0; k < 2; k++) {
		s = ew_policy_summarize(v->e->items, v->e->n, fam[k]);
		if (s == NULL)
			return -ENOMEM;
		v->sp[k] = ew_short_policy_parse(s);
		free(s);
		if (v->sp[k] == NULL)
			return -EINVAL;
	}
	return 0;
}

/* A cached version (by id and digest), or NULL. */
static struct ew_desk_version *
version_find(struct ew_desk *d, const struct ew_store_policy_version *pv)
{
	size_t i;

	for (i = 0; i < d->nversions; i++)
		if (d->versions[i].id == pv->id &&
		    strcmp(d->versions[i].digest, pv->digest) == 0)
			return &d->versions[i];
	return NULL;
}

/* The compiled form of a stored version, from the cache or built. */
static int
version_get(struct ew_desk *d, const struct ew_store_policy_version *pv,
    struct ew_desk_version **out)
{
	struct ew_desk_version *v, *nv;
	struct ew_policy *p = NULL;
	struct ew_diag_list diags;
	struct ew_expand_env env;
	size_t i;
	int rc;

	for (i = 0; i < d->nversions; i++) {
		if (d->versions[i].id != pv->id)
			continue;
		if (strcmp(d->versions[i].digest, pv->digest) == 0) {
			*out = &d->versions[i];
			return 0;
		}
		/* the row was replaced (same second): drop the stale one */
		version_clear(&d->versions[i]);
		d->versions[i] = d->versions[--d->nversions];
		break;
	}
	nv = realloc(d->versions, (d->nversions + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	d->versions = nv;
	v = &nv[d->nversions];
	memset(v, 0, sizeof(*v));
	v->id = pv->id;
	snprintf(v->digest, sizeof(v->digest), "%s", pv->digest);
	ew_diag_init(&diags);
	rc = ew_policy_parse_string("policy-version", pv->text,
	    strlen(pv->text), EW_PARSE_NO_INCLUDE, &diags, &p);
	if (rc == 0) {
		memset(&env, 0, sizeof(env));
		env.now = pv->applied_from;
		env.ifaddrs = d->ifaddrs;
		env.n_ifaddrs = d->n_ifaddrs;
		rc = ew_policy_expand(p, &env, &diags, &v->e);
	}
	if (rc == 0)
		rc = ew_compile(v->e, 0, &v->c);
	if (rc == 0)
		rc = summaries(v);
	if (rc == 0)
		rc = bounds(v);
	if (rc == 0) {
		ew_policy_exit_bind(p, v->bind);
		v->n_own = ew_policy_own_addrs(p, v->own, EW_DESK_MAX_OWN);
		if (v->n_own > EW_DESK_MAX_OWN)
			v->n_own = EW_DESK_MAX_OWN;
	}
	ew_policy_free(p);
	ew_diag_free(&diags);
	if (rc != 0) {
		version_clear(v);
		return rc < 0 ? rc : -EINVAL;
	}
	d->nversions++;
	*out = v;
	return 0;
}

int
ew_desk_set_relay(struct ew_desk *d, const char *relay)
{
	char *c = NULL;

	if (relay != NULL && (c = strdup(relay)) == NULL)
		return -ENOMEM;
	free(d->relay);
	d->relay = c;
	return 0;
}

const char *
ew_desk_relay(const struct ew_desk *d)
{
	return d->relay;
}

int
ew_desk_net_parse(const char *s, struct ew_addr *a, unsigned *bits)
{
	if (s == NULL || ew_prefix_parse(s, strlen(s), 0, a, bits) != 0)
		return -EINVAL;
	return 0;
}

int
ew_desk_ports_parse(const char *s, struct ew_port_range **out, size_t *n)
{
	return ew_ports_parse(s ? s : "", s ? strlen(s) : 0, out, n);
}

/*
 * The addresses the recorded policies ever named as the relay's own
 * (Address, OutboundBindAddress*), read again when versions were added.
 */
static int
load_own(struct ew_desk *d)
{
	struct ew_store_policy_version *pv = NULL;
	struct ew_addr a[EW_DESK_MAX_OWN], *nv;
	struct ew_diag_list diags;
	struct ew_policy *p;
	char sig[sizeof(d->own_sig)];
	size_t n = 0, i, k;
	int rc;

	if ((rc = ew_store_policy_signature(d->st, sig, sizeof(sig))) != 0)
		return rc;
	if (strcmp(sig, d->own_sig) == 0)
		return 0; /* the history has not changed */
	rc = ew_store_policy_during(
	    d->st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &pv, &n);
	if (rc != 0)
		return rc;
	d->n_own = 0;
	for (i = 0; i < n && rc == 0; i++) {
		ew_diag_init(&diags);
		p = NULL;
		if (ew_policy_parse_string("policy-version", pv[i].text,
			strlen(pv[i].text), EW_PARSE_NO_INCLUDE, &diags,
			&p) == 0) {
			k = ew_policy_own_addrs(p, a, EW_DESK_MAX_OWN);
			if (k > EW_DESK_MAX_OWN)
				k = EW_DESK_MAX_OWN;
			nv = realloc(d->own, (d->n_own + k + 1) * sizeof(*nv));
			if (nv == NULL) {
				rc = -ENOMEM;
			} else {
				d->own = nv;
				memcpy(nv + d->n_own, a, k * sizeof(*a));
				d->n_own += k;
			}
		}
		ew_policy_free(p);
		ew_diag_free(&diags);
	}
	if (rc == 0)
		memcpy(d->own_sig, sig, sizeof(sig));
	ew_store_policy_versions_free(pv, n);
	return rc;
}

/* Does the reported source (an address or a netblock) hold one of the
 * n addresses at a? */
static int
holds(
    const struct ew_addr *src, unsigned bits, const struct ew_addr *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ew_addr_prefix_eq(src, &a[i], bits))
			return 1;
	return 0;
}

/* Would a client have used version v for port p to some destination?
 * (tor's answer for an unknown address is no help here: it is
 * "rejected" as soon as a "reject *6:*" stands first.) */
static int
summary_accepts(const struct ew_desk_version *v, uint16_t p)
{
	return ew_short_policy_accepts(v->sp[0], p) ||
	       ew_short_policy_accepts(v->sp[1], p);
}

/* Could version v have carried traffic to the address a on the ports
 * (none: not stated), or to some address when a is NULL? */
static int
carries(const struct ew_desk_version *v, const struct ew_addr *a,
    const struct ew_port_range *r, size_t nr)
{
	static const struct ew_port_range every = { 1, 65535 };
	size_t i;
	uint32_t p;

	if (nr == 0 && a != NULL)
		return ew_match(v->c, a, 0) != EW_REJECTED;
	if (nr == 0) {
		r = &every;
		nr = 1;
	}
	/* the verdict changes only where an item's ports start or end:
	 * the range's first port and those boundaries inside it are the
	 * ports to try (a sender's "1-65535" is not 65535 lookups) */
	for (i = 0; i < nr; i++) {
		size_t lo = 0, hi = v->nbounds, mid;

		while (lo < hi) { /* the first boundary above r[i].lo */
			mid = (lo + hi) / 2;
			if (v->bounds[mid] <= r[i].lo)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (p = r[i].lo;;) {
			ew_desk_work++;
			if (a != NULL
				? ew_match(v->c, a, (uint16_t)p) != EW_REJECTED
				: summary_accepts(v, (uint16_t)p))
				return 1;
			if (lo >= v->nbounds || v->bounds[lo] > r[i].hi)
				break;
			p = v->bounds[lo++];
		}
	}
	return 0;
}

/* x (masked to m bits) plus one unit of a /m prefix; 0 on overflow. */
static int
prefix_next(struct ew_addr *x, unsigned m)
{
	unsigned byte, add;

	if (m == 0)
		return 0;
	byte = (m - 1) / 8;
	add = 1u << (7 - (m - 1) % 8);
	for (;;) {
		unsigned sum = x->b[byte] + add;

		x->b[byte] = (uint8_t)sum;
		if (sum < 256)
			return 1;
		if (byte == 0)
			return 0;
		byte--;
		add = 1;
	}
}

static void
mask_to(struct ew_addr *x, unsigned m)
{
	unsigned i, w = ew_addr_bits(x) / 8;

	for (i = 0; i < w; i++)
		if (m <= 8 * i)
			x->b[i] = 0;
		else if (m < 8 * (i + 1))
			x->b[i] &= (uint8_t)(0xff << (8 * (i + 1) - m));
}

/*
 * Could version v have carried traffic to dst/dbits (NULL: not stated)
 * on the ports?  For a netblock: to some address of it.  The first
 * match changes only where an item's prefix inside the block starts or
 * ends, so the block's start and those edges are the addresses to try.
 */
static int
could_carry(const struct ew_desk_version *v, const struct ew_addr *dst,
    unsigned dbits, const struct ew_port_range *r, size_t nr)
{
	struct ew_addr base, x;
	size_t i;
	int k;

	if (dst == NULL || dbits >= ew_addr_bits(dst))
		return carries(v, dst, r, nr);
	base = *dst;
	mask_to(&base, dbits);
	if (carries(v, &base, r, nr))
		return 1;
	for (i = 0; i < v->e->n; i++) {
		const struct ew_item *it = &v->e->items[i];

		if (it->addr.family != base.family || it->maskbits <= dbits ||
		    !ew_addr_prefix_eq(&it->addr, &base, dbits))
			continue;
		for (k = 0; k < 2; k++) {
			x = it->addr;
			mask_to(&x, it->maskbits);
			if (k == 1 && (!prefix_next(&x, it->maskbits) ||
					  !ew_addr_prefix_eq(&x, &base, dbits)))
				continue; /* past the block's end */
			if (carries(v, &x, r, nr))
				return 1;
		}
	}
	return 0;
}

/*
 * Whether version v's relay sends its exit traffic from an address
 * other than the source src/bits (OutboundBindAddressExit), which is
 * none of its own either: then it did not carry the incident, whatever
 * its policy.
 */
static int
bound_elsewhere(
    const struct ew_desk_version *v, const struct ew_addr *src, unsigned bits)
{
	const struct ew_addr *b = &v->bind[src->family == EW_AF_INET ? 0 : 1];

	return b->family != EW_AF_NONE && !holds(src, bits, b, 1) &&
	       !holds(src, bits, v->own, v->n_own);
}

/* Whether version v was applied by the relay whose address row is a:
 * its host, and its instance there or the host's table of all (''). */
static int
fleet_relay_of(const struct ew_store_relay_addr *a,
    const struct ew_store_policy_version *v)
{
	return v->host != NULL && a->host != NULL &&
	       strcmp(v->host, a->host) == 0 && v->relay != NULL &&
	       (v->relay[0] == '\0' || strcmp(v->relay, a->instance) == 0);
}

/* Whether [f1, t1) and [f2, t2) meet (EW_STORE_NO_TIME ends: open). */
static int
spans_meet(int64_t f1, int64_t t1, int64_t f2, int64_t t2)
{
	return (t2 == EW_STORE_NO_TIME || f1 < t2) &&
	       (t1 == EW_STORE_NO_TIME || f2 < t1);
}

/*
 * What the incidents of one complaint are judged against, read from the
 * store once for all of them (a round trip per list, not per incident):
 * the fleet's exit addresses, the versions its hosts recorded, and the
 * store's own history, each over the union of the incidents' times
 * (from, to; EW_STORE_NO_TIME open), read when first needed.  Each
 * incident then takes the rows its own time meets, by the same test the
 * store's queries make, in their order: the rows are those the queries
 * of its time alone return.  The rows are borrowed by what is taken.
 */
struct judge_src {
	struct span {
		int64_t from, to;
		int set;
	} addrs, fleet, own; /* incidents with a source; and timed; timed */
	int have_ra, have_fv, have_pv;
	struct ew_store_relay_addr *ra;
	struct ew_store_policy_version *fv, *pv;
	size_t nra, nfv, npv;
};

/* The earlier of two starts, the later of two ends (open wins). */
static void
span_add(struct span *sp, int64_t from, int64_t to)
{
	if (!sp->set) {
		sp->from = from;
		sp->to = to;
		sp->set = 1;
		return;
	}
	if (sp->from != EW_STORE_NO_TIME &&
	    (from == EW_STORE_NO_TIME || from < sp->from))
		sp->from = from;
	if (sp->to != EW_STORE_NO_TIME &&
	    (to == EW_STORE_NO_TIME || to > sp->to))
		sp->to = to;
}

/* The incident's time as the judgement reads it, and whether it has
 * one; whether it names a source. */
static int
inc_span(const struct ew_store_incident *in, int64_t *from, int64_t *to)
{
	*from = in->time != EW_STORE_NO_TIME ? in->time : in->time_from;
	*to = in->time != EW_STORE_NO_TIME ? in->time : in->time_to;
	return *from != EW_STORE_NO_TIME || *to != EW_STORE_NO_TIME;
}

static void
judge_src_init(
    struct judge_src *js, const struct ew_store_incident *inc, size_t n)
{
	struct ew_addr a;
	unsigned bits;
	int64_t from, to;
	size_t i;
	int timed;

	memset(js, 0, sizeof(*js));
	for (i = 0; i < n; i++) {
		timed = inc_span(&inc[i], &from, &to);
		if (timed)
			span_add(&js->own, from, to);
		if (ew_desk_net_parse(inc[i].src, &a, &bits) != 0)
			continue;
		span_add(&js->addrs, from, to);
		if (timed)
			span_add(&js->fleet, from, to);
	}
}

static void
judge_src_free(struct judge_src *js)
{
	ew_store_relay_addrs_free(js->ra, js->nra);
	ew_store_policy_versions_free(js->fv, js->nfv);
	ew_store_policy_versions_free(js->pv, js->npv);
}

/* Whether a row in force over [rf, rt) meets [from, to] (the test of
 * the store's *_during queries). */
static int
meets(int64_t from, int64_t to, int64_t rf, int64_t rt)
{
	return (to == EW_STORE_NO_TIME || rf <= to) &&
	       (from == EW_STORE_NO_TIME || rt == EW_STORE_NO_TIME ||
		   from < rt);
}

/* The fleet's exit addresses during [from, to] (borrowed rows). */
static int
src_addrs(struct ew_desk *d, struct judge_src *js, int64_t from, int64_t to,
    struct ew_store_relay_addr **out, size_t *n)
{
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (!js->have_ra) {
		rc = ew_store_fleet_addrs_during(
		    d->st, js->addrs.from, js->addrs.to, &js->ra, &js->nra);
		if (rc != 0)
			return rc;
		js->have_ra = 1;
	}
	if (js->nra > 0 && (*out = malloc(js->nra * sizeof(**out))) == NULL)
		return -ENOMEM;
	for (i = 0; i < js->nra; i++)
		if (meets(from, to, js->ra[i].valid_from, js->ra[i].valid_to))
			(*out)[(*n)++] = js->ra[i];
	return 0;
}

/* The fleet's (fleet) or the store's own versions in force during
 * [from, to] (borrowed rows). */
static int
src_versions(struct ew_desk *d, struct judge_src *js, int fleet, int64_t from,
    int64_t to, struct ew_store_policy_version **out, size_t *n)
{
	struct ew_store_policy_version **v = fleet ? &js->fv : &js->pv;
	size_t *nv = fleet ? &js->nfv : &js->npv, i;
	int *have = fleet ? &js->have_fv : &js->have_pv, rc;
	const struct span *sp = fleet ? &js->fleet : &js->own;

	*out = NULL;
	*n = 0;
	if (!*have) {
		rc = fleet ? ew_store_fleet_versions_during(
				 d->st, sp->from, sp->to, v, nv)
			   : ew_store_policy_during(
				 d->st, sp->from, sp->to, v, nv);
		if (rc != 0)
			return rc;
		*have = 1;
	}
	if (*nv > 0 && (*out = malloc(*nv * sizeof(**out))) == NULL)
		return -ENOMEM;
	for (i = 0; i < *nv; i++)
		if (meets(from, to, (*v)[i].applied_from, (*v)[i].applied_to))
			(*out)[(*n)++] = (*v)[i];
	return 0;
}

/*
 * The fleet (schema 12, 15): *fleet 1 when a fleet relay's exit address
 * (relay_addrs, valid at some instant of [from, to]) holds the source;
 * then, when `versions`, *pv the versions its host recorded for it
 * (what it actually applied) in force while it had the address
 * (borrowed rows of js).  *fleet 0: no fleet relay had it, the store's
 * own history judges.
 */
static int
fleet_versions(struct ew_desk *d, struct judge_src *js,
    const struct ew_addr *src, unsigned sbits, int64_t from, int64_t to,
    int versions, struct ew_store_policy_version **pv, size_t *npv, int *fleet)
{
	struct ew_store_relay_addr *ra = NULL;
	struct ew_store_policy_version *v = NULL;
	struct ew_addr a;
	unsigned bits;
	unsigned char *hit = NULL;
	size_t nra = 0, nv = 0, i, k, m = 0;
	int rc, keep;

	*pv = NULL;
	*npv = 0;
	*fleet = 0;
	if ((rc = src_addrs(d, js, from, to, &ra, &nra)) != 0 || nra == 0)
		goto out;
	if ((hit = calloc(nra, 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nra; i++)
		if (ew_desk_net_parse(ra[i].addr, &a, &bits) == 0 &&
		    holds(src, sbits, &a, 1))
			*fleet = hit[i] = 1;
	if (!*fleet || !versions)
		goto out;
	if ((rc = src_versions(d, js, 1, from, to, &v, &nv)) != 0)
		goto out;
	for (i = 0; i < nv; i++) {
		for (k = 0, keep = 0; k < nra && !keep; k++)
			keep = hit[k] && fleet_relay_of(&ra[k], &v[i]) &&
			       spans_meet(v[i].applied_from, v[i].applied_to,
				   ra[k].valid_from, ra[k].valid_to);
		if (keep)
			v[m++] = v[i];
	}
	*pv = v;
	*npv = m;
out:
	free(hit);
	free(ra);
	return rc;
}

/*
 * Judge an incident (docs/cli/workflow.md): the versions in force at its
 * time say whose source it is and whether the exit could have carried
 * it.  "blocked" needs the whole time covered by versions that all
 * refused it; a time partly before the history ("before T" reaches back
 * to the beginning), or a version this exitwarden cannot read, leaves
 * it "unknown" unless one allowed it.  With several relays on the host
 * (schema 9) the versions are every relay's: the incident is allowed if
 * any relay that had its source address could have carried it, and
 * blocked only if all of them refused it; a relay bound to another exit
 * address (OutboundBindAddressExit) is left out.  In a fleet (schema
 * 15) the versions are those the relays whose exit address held the
 * source at the time (relay_addrs) actually applied, as their hosts
 * recorded them, not what the desk wanted; with no such relay, the
 * store's own history as above.
 */
static int
judge(struct ew_desk *d, struct judge_src *js,
    const struct ew_store_incident *in, enum ew_store_verdict *verdict)
{
	struct ew_store_policy_version *pv = NULL;
	struct ew_desk_version *v;
	struct ew_addr src, dst;
	unsigned sbits = 0, dbits = 0;
	int64_t from, to, first = EW_STORE_NO_TIME;
	size_t npv = 0, nread = 0, nrel = 0, i;
	int rc = 0, have_src, have_dst, ours, allowed = 0, fleet = 0, timed;
	unsigned char *out_of = NULL;

	*verdict = EW_JUDGED_UNKNOWN;
	timed = inc_span(in, &from, &to);
	have_src = ew_desk_net_parse(in->src, &src, &sbits) == 0;
	if (have_src && (rc = fleet_versions(d, js, &src, sbits, from, to,
			     timed, &pv, &npv, &fleet)) != 0)
		return rc;
	if (!fleet && timed &&
	    (rc = src_versions(d, js, 0, from, to, &pv, &npv)) != 0)
		return rc;
	/* build every version first: building moves the cache */
	for (i = 0; i < npv && rc == 0; i++) {
		rc = version_get(d, &pv[i], &v);
		if (rc == -EINVAL)
			rc = 0; /* not ours to read: it judges nothing */
		else if (rc == 0)
			nread++;
	}
	if (rc == 0 && have_src) {
		/* a fleet relay's exit address is ours */
		ours = fleet || holds(&src, sbits, d->ifaddrs, d->n_ifaddrs);
		for (i = 0; i < npv && !ours; i++)
			if ((v = version_find(d, &pv[i])) != NULL)
				ours = holds(&src, sbits, v->own, v->n_own);
		if (!ours && nread == 0) {
			/* no readable version then: any the store has */
			if ((rc = load_own(d)) == 0)
				ours = holds(&src, sbits, d->own, d->n_own);
		}
		if (rc == 0 && !ours) {
			*verdict = EW_JUDGED_NOT_OURS;
			goto out;
		}
	}
	if (rc != 0 || nread == 0)
		goto out; /* no time, or no history then: unknown */
	/* the relays that had the source address: every version but
	 * those bound to another exit address */
	if ((out_of = calloc(npv + 1, 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	nread = 0;
	for (i = 0; i < npv; i++) {
		v = version_find(d, &pv[i]);
		if (v != NULL && have_src && bound_elsewhere(v, &src, sbits)) {
			out_of[i] = 1;
			continue;
		}
		nrel++;
		nread += v != NULL;
		if (first == EW_STORE_NO_TIME || pv[i].applied_from < first)
			first = pv[i].applied_from;
	}
	if (nread == 0)
		goto out;
	have_dst = ew_desk_net_parse(in->dst, &dst, &dbits) == 0;
	for (i = 0; i < npv && !allowed; i++)
		if (!out_of[i] && (v = version_find(d, &pv[i])) != NULL)
			allowed = could_carry(v, have_dst ? &dst : NULL, dbits,
			    in->dst_ports, in->n_dst_ports);
	if (allowed)
		*verdict = EW_JUDGED_ALLOWED;
	else if (from != EW_STORE_NO_TIME && first <= from && nread == nrel)
		/* covered from `from` on (the timeline has no gaps, and an
		 * open end runs to now), and refused throughout */
		*verdict = EW_JUDGED_BLOCKED;
out:
	free(out_of);
	free(pv); /* the rows are js's */
	return rc;
}

int
ew_desk_judge(struct ew_desk *d, const struct ew_store_incident *in,
    enum ew_store_verdict *verdict)
{
	struct judge_src js;
	int rc;

	judge_src_init(&js, in, 1);
	rc = judge(d, &js, in, verdict);
	judge_src_free(&js);
	return rc;
}

/* ---- taking a complaint in ---- */

/*
 * Header fields a delivery adds or rewrites (sorted, lowercase): a copy
 * of one complaint delivered twice, or re-sent by a forwarder's system,
 * differs in these only.  Everything else -- the sender's own headers,
 * Message-ID included, and the body -- is the content.
 */
static const char *const trace_fields[] = {
	"arc-authentication-results",
	"arc-message-signature",
	"arc-seal",
	"authentication-results",
	"delivered-to",
	"envelope-to",
	"lines",
	"received",
	"received-spf",
	"return-path",
	"status",
	"x-delivered-to",
	"x-envelope-from",
	"x-envelope-to",
	"x-original-to",
	"x-received",
	"x-status",
	"x-uid",
};

static int
trace_field(const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	char name[32];
	size_t k, len;

	if (colon == NULL || (len = (size_t)(colon - line)) == 0 ||
	    len >= sizeof(name))
		return 0;
	for (k = 0; k < len; k++)
		name[k] = (char)(line[k] >= 'A' && line[k] <= 'Z'
				     ? line[k] - 'A' + 'a'
				     : line[k]);
	name[len] = '\0';
	if (strncmp(name, "x-spam-", 7) == 0 ||
	    strncmp(name, "x-virus-", 8) == 0)
		return 1;
	for (k = 0; k < sizeof(trace_fields) / sizeof(trace_fields[0]); k++)
		if (strcmp(name, trace_fields[k]) == 0)
			return 1;
	return 0;
}

int
ew_desk_content_key(const char *data, size_t len, char out[65])
{
	struct ew_buf b = EW_BUF_INIT;
	const char *p = data, *e = data + len, *nl;
	size_t n;
	int in_header = 1, skipping = 0, rc;

	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		n = nl ? (size_t)(nl - p) : (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--; /* CRLF or LF: the same message */
		if (in_header && n == 0) {
			in_header = 0;
		} else if (in_header) {
			if (p[0] == ' ' || p[0] == '\t') {
				if (skipping)
					goto next; /* a dropped field goes on */
			} else {
				skipping = (p == data && n >= 5 &&
					       memcmp(p, "From ", 5) == 0) ||
					   trace_field(p, n);
				if (skipping)
					goto next;
			}
		}
		ew_buf_add(&b, p, n);
		ew_buf_putc(&b, '\n');
	next:
		p = nl ? nl + 1 : e;
	}
	if (b.oom) {
		ew_buf_free(&b);
		return -ENOMEM;
	}
	rc = ew_sha256_hex(b.p ? b.p : "", b.len, out);
	ew_buf_free(&b);
	return rc;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* File the stored complaint under the reporter's open ticket about the
 * same kind of abuse (its incident group), or a new one; the ticket is
 * due at the earliest deadline.  What the ticket is due at is known
 * from its row as found (under the transaction's writer lock) and what
 * is written here: nothing is read back, and the link goes with the
 * commit. */
static int
file_under_ticket(struct ew_desk *d, const char *reporter, const char *category,
    int64_t cid, int64_t deadline, int64_t now, struct ew_desk_added *out)
{
	int64_t tid, due;
	int rc;

	rc = ew_store_ticket_find_due(d->st, reporter, category, &tid, &due);
	if (rc == -ENOENT) {
		rc = ew_store_ticket_open_kind(
		    d->st, reporter, category, now, deadline, &tid);
		due = deadline;
		out->new_ticket = 1;
	} else if (rc == 0 && deadline != EW_STORE_NO_TIME &&
		   (due == EW_STORE_NO_TIME || deadline < due)) {
		rc = ew_store_ticket_set_due(d->st, tid, deadline);
		due = deadline;
	}
	if (rc == 0)
		rc = ew_store_ticket_link_new(d->st, tid, cid);
	if (rc == 0) {
		out->ticket_id = tid;
		out->due = due;
	}
	return rc;
}

/* The incidents store_complaint built, with the port lists it read. */
static void
incs_free(struct ew_store_incident *inc, size_t n)
{
	size_t i;

	for (i = 0; inc != NULL && i < n; i++)
		free((void *)inc[i].dst_ports);
	free(inc);
}

static int
store_complaint(struct ew_desk *d, const struct ew_complaint *c,
    const char *data, size_t len, int64_t now, struct ew_desk_added *out)
{
	struct ew_complaint_info ci;
	struct ew_complaint_incident ci_in;
	struct ew_store_complaint sc;
	struct ew_store_incident *inc = NULL;
	struct judge_src js;
	size_t n = ew_complaint_incident_count(c), i, npr = 0;
	struct ew_port_range *pr = NULL;
	char key[65], sha256[65];
	int64_t cid = 0, reused = 0;
	int rc = 0;

	ew_complaint_info(c, &ci);
	/* both digests from the bytes we hold, never the parser's word */
	if ((rc = ew_sha256_hex(data, len, sha256)) != 0 ||
	    (rc = ew_desk_content_key(data, len, key)) != 0)
		return rc == -ENOMEM ? rc : -EIO;
	memset(&sc, 0, sizeof(sc));
	sc.message_id = nonempty(ci.message_id);
	sc.content_sha256 = sha256;
	sc.content_key = key;
	sc.reporter = nonempty(ci.reporter);
	if (sc.reporter == NULL)
		sc.reporter = nonempty(ci.forwarder);
	if (sc.reporter == NULL)
		sc.reporter = "unknown";
	sc.forwarder = nonempty(ci.forwarder);
	sc.format = ci.format;
	sc.category = nonempty(ci.category);
	sc.received_at = now;
	sc.date = ci.has_date ? ci.date : EW_STORE_NO_TIME;
	sc.deadline = ci.has_deadline ? ci.deadline : EW_STORE_NO_TIME;
	sc.raw_size = (int64_t)len;
	sc.subject = nonempty(ci.subject);
	sc.forwarder_ticket = nonempty(ci.ticket);

	if (n > 0 && (inc = calloc(n, sizeof(*inc))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		ew_complaint_incident(c, i, &ci_in);
		inc[i].src = ci_in.src;
		inc[i].src_port = ci_in.src_port >= 0 && ci_in.src_port <= 65535
				      ? (int)ci_in.src_port
				      : -1;
		inc[i].dst = nonempty(ci_in.dst);
		inc[i].dst_host = nonempty(ci_in.dst_host);
		if (inc[i].dst_host != NULL && strlen(inc[i].dst_host) > 253)
			inc[i].dst_host = NULL; /* not a host name */
		/* the mail's list read once, kept typed; one that is not
		 * a list (the readers write none) counts as not stated */
		if (ci_in.ports != NULL &&
		    ew_ports_parse(
			ci_in.ports, strlen(ci_in.ports), &pr, &npr) == -ENOMEM)
			rc = -ENOMEM;
		inc[i].dst_ports = pr;
		inc[i].n_dst_ports = npr;
		pr = NULL;
		npr = 0;
		inc[i].time = ci_in.has_time ? ci_in.time : EW_STORE_NO_TIME;
		inc[i].time_from =
		    ci_in.has_from ? ci_in.from : EW_STORE_NO_TIME;
		inc[i].time_to = ci_in.has_to ? ci_in.to : EW_STORE_NO_TIME;
		inc[i].zone_source = ew_zone_source_word(ci_in.zone);
	}
	/* every incident judged against one reading of the history */
	judge_src_init(&js, inc, rc == 0 ? n : 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = judge(d, &js, &inc[i], &inc[i].verdict);
	judge_src_free(&js);
	if (rc == 0 && (rc = ew_store_begin(d->st)) == 0) {
		rc = ew_store_complaint_add_later(
		    d->st, &sc, inc, n, &cid, &reused);
		if (rc == -EEXIST) {
			out->duplicate = 1;
			out->complaint_id = cid;
			if (ew_store_complaint_ticket(
				d->st, cid, &out->ticket_id) == 0) {
				struct ew_store_ticket *t;

				if (ew_store_ticket_get(
					d->st, out->ticket_id, now, &t) == 0) {
					out->due = t->due_at;
					ew_store_tickets_free(t, 1);
				}
			}
			ew_store_end(d->st, rc); /* rolls back: nothing new */
			incs_free(inc, n);
			return 0;
		}
		if (rc == 0) {
			out->complaint_id = cid;
			rc = file_under_ticket(d, sc.reporter, sc.category, cid,
			    sc.deadline, now, out);
		}
		if (rc == 0)
			out->reuses_message_id = reused;
		rc = ew_store_end(d->st, rc);
	}
	incs_free(inc, n);
	if (rc != 0) {
		out->complaint_id = out->ticket_id = 0;
		out->new_ticket = 0;
	}
	/* -EINVAL is ew_desk_add's "not a complaint": a store that refuses
	 * a good one fails otherwise */
	return rc == -EINVAL ? -EIO : rc;
}

int
ew_desk_add_parsed(struct ew_desk *d, const struct ew_complaint *c,
    const char *data, size_t len, int64_t now, struct ew_diag_list *diags,
    struct ew_desk_added *out)
{
	struct ew_complaint_info ci;

	memset(out, 0, sizeof(*out));
	out->due = EW_STORE_NO_TIME;
	ew_complaint_info(c, &ci);
	if (ew_complaint_incident_count(c) == 0 &&
	    nonempty(ci.reporter) == NULL && nonempty(ci.forwarder) == NULL) {
		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "no sender and no incident: not a complaint");
		return -EINVAL;
	}
	return store_complaint(d, c, data, len, now, out);
}

int
ew_desk_add(struct ew_desk *d, const char *name, const char *data, size_t len,
    int64_t now, struct ew_diag_list *diags, struct ew_desk_added *out)
{
	struct ew_complaint *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->due = EW_STORE_NO_TIME;
	if (ew_complaint_parse_at(name, data, len, now, diags, &c) < 0)
		return -EINVAL;
	rc = ew_desk_add_parsed(d, c, data, len, now, diags, out);
	ew_complaint_free(c);
	return rc;
}
