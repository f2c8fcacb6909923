/*
 * expand.c - from a policy's source form to the list tor enforces.
 *
 * This is tor 0.4.9's policies_parse_exit_policy_from_options and
 * policies_parse_exit_policy_internal, step by step (the shared
 * reference's section 4): the not-an-exit short cut; "reject *6:*" when
 * IPv6Exit is 0; the private nets; the relay's own and outbound
 * addresses and its interface addresses; the user's rules with "private"
 * and "*" expanded in place; the reduced, default or bridge tail; and
 * the redundancy removal, whose result is what tor prints, publishes and
 * enforces.  The extensions expand first: a rule naming a table or a
 * port set becomes one tor item per (entry, range), and expired rules
 * are left out, exactly as if the emitted torrc held only what remains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/mem.h"
#include "policy/policy_int.h"

struct ivec {
	struct ew_item *v;
	size_t n, cap;
	int oom;
};

static void
push(struct ivec *iv, const struct ew_item *it)
{
	if (iv->oom)
		return;
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 64;
		struct ew_item *nv = realloc(iv->v, cap * sizeof(*nv));

		if (nv == NULL) {
			iv->oom = 1;
			return;
		}
		iv->v = nv;
		iv->cap = cap;
		ew_mem_hint(nv, cap * sizeof(*nv));
	}
	iv->v[iv->n++] = *it;
}

/* Room for n more items at once (a big table's items are many). */
static void
reserve(struct ivec *iv, size_t n)
{
	struct ew_item *nv;
	size_t cap;

	if (iv->oom || n <= iv->cap - iv->n)
		return;
	if (n > SIZE_MAX / 2 / sizeof(*nv) - iv->n - 1024) {
		iv->oom = 1;
		return;
	}
	/* some slack for what follows (tor's tail), and never less than
	 * push's doubling */
	cap = iv->n + n + 1024;
	if (cap < iv->cap * 2)
		cap = iv->cap * 2;
	if ((nv = realloc(iv->v, cap * sizeof(*nv))) == NULL) {
		iv->oom = 1;
		return;
	}
	iv->v = nv;
	iv->cap = cap;
	ew_mem_hint(nv, cap * sizeof(*nv));
}

static void
push_item(struct ivec *iv, int action, const struct ew_addr *a,
    unsigned maskbits, uint16_t pmin, uint16_t pmax, int origin, uint32_t rule)
{
	struct ew_item it;

	memset(&it, 0, sizeof(it));
	it.addr = *a;
	it.action = (uint8_t)action;
	it.maskbits = (uint8_t)maskbits;
	it.pmin = pmin;
	it.pmax = pmax;
	it.origin = (uint8_t)origin;
	it.rule = rule;
	push(iv, &it);
}

static void
push_star(struct ivec *iv, int action, int family, uint16_t pmin, uint16_t pmax,
    int origin, uint32_t rule)
{
	struct ew_addr a;

	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	push_item(iv, action, &a, 0, pmin, pmax, origin, rule);
}

/*
 * One pattern as policy_expand_private and policy_expand_unspec leave
 * it: the twelve private nets, or IPv4 then IPv6 for "*", else itself.
 */
static void
push_pat(struct ivec *iv, int action, const struct ew_pat *pat, uint16_t pmin,
    uint16_t pmax, int origin, uint32_t rule)
{
	size_t i;

	if (pat->is_private) {
		for (i = 0; i < EW_NPRIVATE; i++)
			push_item(iv, action, &ew_private_nets[i].addr,
			    ew_private_nets[i].maskbits, pmin, pmax, origin,
			    rule);
		return;
	}
	if (pat->addr.family == EW_AF_NONE) {
		push_star(iv, action, EW_AF_INET, pmin, pmax, origin, rule);
		push_star(iv, action, EW_AF_INET6, pmin, pmax, origin, rule);
		return;
	}
	push_item(
	    iv, action, &pat->addr, pat->maskbits, pmin, pmax, origin, rule);
}

static int
kw_action(int kw)
{
	return kw == EW_KW_ACCEPT || kw == EW_KW_ACCEPT6 ? EW_ACCEPT
							 : EW_REJECT;
}

/*
 * A rule's items.  Returns how many the rule contributes to tor's
 * ExitPolicy (counting tor's own ignored accept6-with-IPv4 items, which
 * still make the option "set").
 */
static size_t
push_rule(struct ivec *iv, const struct ew_policy *p, uint32_t ri)
{
	const struct ew_rule *r = &p->rules[ri];
	const struct ew_range one = { r->pat.pmin, r->pat.pmax };
	const struct ew_range *ranges = &one;
	size_t nranges = 1, i, j, n = 0;
	int action = kw_action(r->kw);
	int v6kw = r->kw == EW_KW_ACCEPT6 || r->kw == EW_KW_REJECT6;

	if (r->portset >= 0) {
		ranges = p->sets[r->portset].r;
		nranges = p->sets[r->portset].n;
	}
	if (r->table < 0) {
		if (r->ignored)
			return nranges;
		for (j = 0; j < nranges; j++)
			push_pat(iv, action, &r->pat, ranges[j].lo,
			    ranges[j].hi, EW_ORIGIN_RULE, ri);
		return nranges;
	}
	if (nranges > 0 && p->tables[r->table].n <= SIZE_MAX / 2 / nranges)
		reserve(iv, p->tables[r->table].n * nranges);
	for (i = 0; i < p->tables[r->table].n; i++) {
		const struct ew_tentry *te = &p->tables[r->table].e[i];

		for (j = 0; j < nranges; j++) {
			n++;
			if (v6kw && te->addr.family != EW_AF_INET6)
				continue;
			push_item(iv, action, &te->addr, te->maskbits,
			    ranges[j].lo, ranges[j].hi, EW_ORIGIN_RULE, ri);
		}
	}
	return n;
}

/* addr_policy_append_reject_addr_filter: public addresses only. */
static void
push_reject_addr(
    struct ivec *iv, const struct ew_addr *a, int v4, int v6, int origin)
{
	if (a->family == EW_AF_NONE || ew_addr_is_null(a) ||
	    ew_addr_is_internal(a) || ew_addr_is_multicast(a))
		return;
	if ((a->family == EW_AF_INET && v4) || (a->family == EW_AF_INET6 && v6))
		push_item(iv, EW_REJECT, a, ew_addr_bits(a), 1, 65535, origin,
		    EW_NO_RULE);
}

/* policy_is_reject_star(list, family, 1). */
static int
reject_star(const struct ew_item *v, size_t n, int family)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].addr.family != family)
			continue;
		if (v[i].action == EW_ACCEPT)
			return 0;
		if (v[i].maskbits == 0 && v[i].pmin <= 1 && v[i].pmax == 65535)
			return 1;
	}
	return 1;
}

/* The reduced exit policy's accepted ports (REDUCED_EXIT_POLICY). */
static const struct ew_range reduced_ports[] = {
	{ 20, 23 },
	{ 43, 43 },
	{ 53, 53 },
	{ 79, 81 },
	{ 88, 88 },
	{ 110, 110 },
	{ 143, 143 },
	{ 194, 194 },
	{ 220, 220 },
	{ 389, 389 },
	{ 443, 443 },
	{ 464, 464 },
	{ 465, 465 },
	{ 531, 531 },
	{ 543, 544 },
	{ 554, 554 },
	{ 563, 563 },
	{ 587, 587 },
	{ 636, 636 },
	{ 706, 706 },
	{ 749, 749 },
	{ 873, 873 },
	{ 902, 904 },
	{ 981, 981 },
	{ 989, 995 },
	{ 1194, 1194 },
	{ 1220, 1220 },
	{ 1293, 1293 },
	{ 1500, 1500 },
	{ 1533, 1533 },
	{ 1677, 1677 },
	{ 1723, 1723 },
	{ 1755, 1755 },
	{ 1863, 1863 },
	{ 2082, 2083 },
	{ 2086, 2087 },
	{ 2095, 2096 },
	{ 2102, 2104 },
	{ 3128, 3128 },
	{ 3389, 3389 },
	{ 3690, 3690 },
	{ 4321, 4321 },
	{ 4643, 4643 },
	{ 5050, 5050 },
	{ 5190, 5190 },
	{ 5222, 5223 },
	{ 5228, 5228 },
	{ 5900, 5900 },
	{ 6660, 6669 },
	{ 6679, 6679 },
	{ 6697, 6697 },
	{ 8000, 8000 },
	{ 8008, 8008 },
	{ 8074, 8074 },
	{ 8080, 8080 },
	{ 8082, 8082 },
	{ 8087, 8088 },
	{ 8232, 8233 },
	{ 8332, 8333 },
	{ 8443, 8443 },
	{ 8888, 8888 },
	{ 9418, 9418 },
	{ 9999, 9999 },
	{ 10000, 10000 },
	{ 11371, 11371 },
	{ 18080, 18081 },
	{ 18089, 18089 },
	{ 19294, 19294 },
	{ 19638, 19638 },
	{ 50002, 50002 },
	{ 64738, 64738 },
};

/* The default exit policy's rejected ports (DEFAULT_EXIT_POLICY). */
static const struct ew_range default_ports[] = {
	{ 25, 25 },
	{ 119, 119 },
	{ 135, 139 },
	{ 445, 445 },
	{ 563, 563 },
	{ 1214, 1214 },
	{ 4661, 4666 },
	{ 6346, 6429 },
	{ 6699, 6699 },
	{ 6881, 6999 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
push_tail(struct ivec *iv, const struct ew_range *r, size_t n, int action,
    int closing, int origin)
{
	size_t i;

	for (i = 0; i < n; i++) {
		push_star(iv, action, EW_AF_INET, r[i].lo, r[i].hi, origin,
		    EW_NO_RULE);
		push_star(iv, action, EW_AF_INET6, r[i].lo, r[i].hi, origin,
		    EW_NO_RULE);
	}
	push_star(iv, closing, EW_AF_INET, 1, 65535, origin, EW_NO_RULE);
	push_star(iv, closing, EW_AF_INET6, 1, 65535, origin, EW_NO_RULE);
}

static size_t
count_origin(const struct ivec *iv, int origin)
{
	size_t i, n = 0;

	for (i = 0; i < iv->n; i++)
		n += iv->v[i].origin == origin;
	return n;
}

static int
rule_active(const struct ew_rule *r, int64_t now)
{
	return r->expires == EW_NEVER || r->expires > now;
}

int
ew_policy_expand(const struct ew_policy *p, const struct ew_expand_env *env,
    struct ew_diag_list *diags, struct ew_expanded **out)
{
	const struct ew_opts *o = &p->opts;
	struct ivec iv = { NULL, 0, 0, 0 }, user = { NULL, 0, 0, 0 };
	struct ew_expanded *e;
	int v[EW_OPT_NBOOL], ipv6, rejprivate, rejlocal;
	int policy_set = o->exitpolicy_lines > 0;
	size_t i;
	int k;

	*out = NULL;
	/* what the file does not state, tor keeps */
	memcpy(v, o->v, sizeof(v));
	for (k = 0; env->tor_set && k < EW_SETTING_N; k++)
		if (!(o->set & (1u << k)))
			v[k] = env->tor[k];
	ipv6 = v[EW_OPT_IPV6EXIT] == 1;
	rejprivate = v[EW_OPT_REJECTPRIVATE] == 1;
	rejlocal = v[EW_OPT_REJECTLOCAL] == 1;
	/*
	 * The user's rules, in file order.  A bare rule sets tor's
	 * ExitPolicy when it is active and yields an item; ExitPolicy lines
	 * set it by being there.
	 */
	for (i = 0; i < p->nrules; i++) {
		if (!rule_active(&p->rules[i], env->now))
			continue;
		if (push_rule(&user, p, (uint32_t)i) > 0 &&
		    !p->rules[i].in_line)
			policy_set = 1;
	}

	if (v[EW_OPT_EXITRELAY] == 0 ||
	    (!policy_set && v[EW_OPT_EXITRELAY] == -1 &&
		v[EW_OPT_REDUCED] == 0 && !ipv6)) {
		push_star(&iv, EW_REJECT, EW_AF_INET, 1, 65535,
		    EW_ORIGIN_NOTEXIT, EW_NO_RULE);
		push_star(&iv, EW_REJECT, EW_AF_INET6, 1, 65535,
		    EW_ORIGIN_NOTEXIT, EW_NO_RULE);
		goto done;
	}
	if (!ipv6)
		push_star(&iv, EW_REJECT, EW_AF_INET6, 1, 65535,
		    EW_ORIGIN_NOIPV6, EW_NO_RULE);
	if (rejprivate) {
		struct ew_pat priv;

		memset(&priv, 0, sizeof(priv));
		priv.is_private = 1;
		push_pat(&iv, EW_REJECT, &priv, 1, 65535, EW_ORIGIN_PRIVATE,
		    EW_NO_RULE);
		/* The relay's own address.  (IPv6: only published with an
		 * IPv6 ORPort, which a policy file does not describe.) */
		push_reject_addr(&iv, &o->address[0], 1, ipv6, EW_ORIGIN_OWN);
	}
	if (rejlocal) {
		for (k = 0; k < EW_OBIND_N; k++) {
			push_reject_addr(
			    &iv, &o->obind[k][0], 1, ipv6, EW_ORIGIN_OWN);
			push_reject_addr(
			    &iv, &o->obind[k][1], 1, ipv6, EW_ORIGIN_OWN);
		}
		for (i = 0; i < env->n_ifaddrs; i++) {
			if (env->ifaddrs[i].family == EW_AF_INET)
				push_reject_addr(&iv, &env->ifaddrs[i], 1, 0,
				    EW_ORIGIN_INTERFACE);
		}
		if (ipv6) {
			for (i = 0; i < env->n_ifaddrs; i++) {
				if (env->ifaddrs[i].family == EW_AF_INET6)
					push_reject_addr(&iv, &env->ifaddrs[i],
					    0, 1, EW_ORIGIN_INTERFACE);
			}
		}
	}
	if (!iv.oom && ew_remove_redundancies_fast(iv.v, &iv.n) < 0)
		iv.oom = 1;
	if (!iv.oom && !policy_set && ipv6 && !rejprivate &&
	    count_origin(&iv, EW_ORIGIN_INTERFACE) == 0) {
		/*
		 * tor 0.4.9.11 aborts here: policies_log_first_redundant_entry
		 * asserts on a list that is still empty when tor validates the
		 * options.  (The outbound addresses do not help: tor reads
		 * them only after validation.)  Say so rather than print a
		 * policy no tor can run.
		 */
		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "tor 0.4.9 aborts on this configuration (an exit with "
		    "IPv6Exit 1, ExitPolicyRejectPrivate 0 and no ExitPolicy "
		    "hits an assertion in policies_log_first_redundant_entry); "
		    "add an exit policy, even 'ExitPolicy accept *:*'");
		free(iv.v);
		free(user.v);
		return -EINVAL;
	}
	reserve(&iv, user.n);
	if (!iv.oom && user.n > 0) {
		memcpy(iv.v + iv.n, user.v, user.n * sizeof(*user.v));
		iv.n += user.n;
	}
	if (v[EW_OPT_BRIDGE] == 1) {
		push_star(&iv, EW_REJECT, EW_AF_INET, 1, 65535, EW_ORIGIN_TAIL,
		    EW_NO_RULE);
		push_star(&iv, EW_REJECT, EW_AF_INET6, 1, 65535, EW_ORIGIN_TAIL,
		    EW_NO_RULE);
	} else if (v[EW_OPT_REDUCED] == 1) {
		push_tail(&iv, reduced_ports, NELEM(reduced_ports), EW_ACCEPT,
		    EW_REJECT, EW_ORIGIN_REDUCED);
	} else {
		push_tail(&iv, default_ports, NELEM(default_ports), EW_REJECT,
		    EW_ACCEPT, EW_ORIGIN_DEFAULT);
	}
	if (!iv.oom && ew_remove_redundancies_fast(iv.v, &iv.n) < 0)
		iv.oom = 1;
done:
	free(user.v);
	e = calloc(1, sizeof(*e));
	if (iv.oom || user.oom || e == NULL) {
		free(iv.v);
		free(e);
		return -ENOMEM;
	}
	e->items = iv.v;
	e->n = iv.n;
	e->ipv6_exit = ipv6;
	e->reject_star = reject_star(iv.v, iv.n, EW_AF_INET) &&
			 reject_star(iv.v, iv.n, EW_AF_INET6);
	*out = e;
	return 0;
}

_Static_assert((int)EW_SETTING_EXITRELAY == (int)EW_OPT_EXITRELAY &&
		   (int)EW_SETTING_IPV6EXIT == (int)EW_OPT_IPV6EXIT &&
		   (int)EW_SETTING_REJECTPRIVATE == (int)EW_OPT_REJECTPRIVATE &&
		   (int)EW_SETTING_REJECTLOCAL == (int)EW_OPT_REJECTLOCAL &&
		   (int)EW_SETTING_REDUCED == (int)EW_OPT_REDUCED,
    "the public settings are the first options, in order");

const char *ew_policy_opt_name(int opt);

const char *
ew_policy_setting_name(int k)
{
	return k >= 0 && k < EW_SETTING_N ? ew_policy_opt_name(k) : NULL;
}

int
ew_policy_setting(const struct ew_policy *p, int k, int *v)
{
	*v = p->opts.v[k];
	return (p->opts.set & (1u << k)) != 0;
}

int
ew_policy_setting_parse(int k, const char *s, int *v)
{
	if (k == EW_SETTING_EXITRELAY && strcmp(s, "auto") == 0)
		*v = -1;
	else if (strcmp(s, "0") == 0)
		*v = 0;
	else if (strcmp(s, "1") == 0)
		*v = 1;
	else
		return -EINVAL;
	return 0;
}

void
ew_expanded_free(struct ew_expanded *e)
{
	if (e == NULL)
		return;
	free(e->items);
	free(e);
}

/* policy_write_item in descriptor format. */
void
ew_item_format(const struct ew_item *it, struct ew_buf *out)
{
	char a[EW_ADDR_STRLEN];
	int v6 = it->addr.family == EW_AF_INET6;

	ew_buf_puts(out, it->action == EW_ACCEPT ? "accept" : "reject");
	if (v6)
		ew_buf_putc(out, '6');
	ew_buf_putc(out, ' ');
	if (it->maskbits == 0) {
		ew_buf_putc(out, '*');
	} else {
		ew_addr_format(&it->addr, 1, a, sizeof(a));
		ew_buf_puts(out, a);
		if (it->maskbits < (v6 ? 128 : 32))
			ew_buf_printf(out, "/%d", it->maskbits);
	}
	if (it->pmin <= 1 && it->pmax == 65535)
		ew_buf_puts(out, ":*");
	else if (it->pmin == it->pmax)
		ew_buf_printf(out, ":%d", it->pmin);
	else
		ew_buf_printf(out, ":%d-%d", it->pmin, it->pmax);
}

void
ew_expanded_format(const struct ew_expanded *e, struct ew_buf *out)
{
	size_t i;

	if (e->reject_star) {
		ew_buf_puts(out, "reject *:*\n");
		return;
	}
	for (i = 0; i < e->n; i++) {
		ew_item_format(&e->items[i], out);
		ew_buf_putc(out, '\n');
	}
}

size_t
ew_policy_own_addrs(const struct ew_policy *p, struct ew_addr *out, size_t max)
{
	const struct ew_opts *o = &p->opts;
	size_t n = 0, k, f;

	for (f = 0; f < 2; f++)
		if (o->address[f].family != EW_AF_NONE && n++ < max)
			out[n - 1] = o->address[f];
	for (k = 0; k < EW_OBIND_N; k++)
		for (f = 0; f < 2; f++)
			if (o->obind[k][f].family != EW_AF_NONE && n++ < max)
				out[n - 1] = o->obind[k][f];
	return n;
}
