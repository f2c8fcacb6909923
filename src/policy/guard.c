/*
 * guard.c - the surge guard statements of a policy file: reading them
 * (with located errors, as the rest of the file), their canonical form,
 * and the read-only view the emitters and the daemon use.
 *
 *	guard NAME [ports PORTS] rate N/[K]UNIT per destination[/LEN[,LEN6]]
 *	    block DURATION [cap N] [buckets N] [damp]
 *	guards cap N
 *	guards allow <table> | ADDR[/MASK] [, ...]
 *
 * A guard watches the relay's new connections per destination (an
 * address and a port, or a prefix and a port) and calls a destination
 * that goes over N new connections in K UNITs a surge; the daemon turns
 * a surge into an expiring reject rule of the published policy.  Guards
 * add no rule to the policy itself: expansion, tor's view and the torrc
 * form do not change.  The clauses after NAME may come in any order;
 * each at most once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "policy/parse_int.h"
#include "policy/policy_int.h"

struct guard {
	char *name;
	struct ew_guard_port *ports; /* NULL: all ports */
	size_t nports;
	uint32_t count, k, unit; /* N in K units of `unit` seconds */
	uint8_t len4, len6;
	uint8_t len_given; /* 0, 1 (LEN), 2 (LEN,LEN6) */
	int64_t block;
	uint32_t cap, buckets;
	int damp;
	struct ew_loc loc;
};

struct allow {
	int table; /* index into the policy's tables, or -1 */
	struct ew_addr addr;
	uint8_t bits;
};

struct ew_guards {
	struct guard *g;
	size_t n;
	uint32_t cap; /* 0: not given (EW_GUARD_TOTAL_CAP) */
	struct ew_loc cap_loc;
	struct allow *allow;
	size_t nallow;
};

static const struct {
	const char *word;
	uint32_t secs;
} units[] = {
	{ "second", 1 },
	{ "minute", 60 },
	{ "hour", 3600 },
	{ "day", 86400 },
};

void
ew_guards_free(struct ew_guards *gs)
{
	size_t i;

	if (gs == NULL)
		return;
	for (i = 0; i < gs->n; i++) {
		free(gs->g[i].name);
		free(gs->g[i].ports);
	}
	free(gs->g);
	free(gs->allow);
	free(gs);
}

static struct ew_guards *
guards_of(struct pstate *ps)
{
	if (ps->p->guards == NULL) {
		ps->p->guards = calloc(1, sizeof(*ps->p->guards));
		if (ps->p->guards == NULL)
			ew_ps_oom(ps);
	}
	return ps->p->guards;
}

/* "600/minute", "150/4minutes", "5/second". */
static int
parse_rate(struct pstate *ps, const char *s, const char *e, struct guard *g)
{
	const char *slash = memchr(s, '/', (size_t)(e - s)), *u, *ue;
	uint64_t n, k = 1;
	size_t i;

	if (slash == NULL ||
	    ew_parse_uint(s, (size_t)(slash - s), 1, 1000000, &n) != 0) {
		ERR(ps, s, e,
		    "malformed rate '%.*s' (N/UNIT: a count 1-1000000, then "
		    "second, minute, hour or day, as in 600/minute or "
		    "150/4minutes)",
		    (int)(e - s), s);
		return -1;
	}
	u = slash + 1;
	for (ue = u; ue < e && *ue >= '0' && *ue <= '9'; ue++)
		;
	if (ue > u && ew_parse_uint(u, (size_t)(ue - u), 1, 1000, &k) != 0) {
		ERR(ps, u, ue, "a rate's period is 1 to 1000 units");
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t wl = strlen(units[i].word);

		if ((size_t)(e - ue) == wl &&
		    memcmp(ue, units[i].word, wl) == 0)
			break;
		if ((size_t)(e - ue) == wl + 1 &&
		    memcmp(ue, units[i].word, wl) == 0 && ue[wl] == 's')
			break;
	}
	if (i == sizeof(units) / sizeof(units[0])) {
		ERR(ps, ue, e,
		    "unknown time unit '%.*s' (second, minute, hour or day)",
		    (int)(e - ue), ue);
		return -1;
	}
	if (k * units[i].secs > 7 * 86400) {
		ERR(ps, u, e, "a rate's period is at most a week");
		return -1;
	}
	g->count = (uint32_t)n;
	g->k = (uint32_t)k;
	g->unit = units[i].secs;
	return 0;
}

/* "destination", "destination/22", "destination/22,48". */
static int
parse_per(struct pstate *ps, const char *s, const char *e, struct guard *g)
{
	const char *slash, *comma;
	uint64_t v4, v6;

	if ((size_t)(e - s) < 11 || memcmp(s, "destination", 11) != 0 ||
	    (s + 11 < e && s[11] != '/')) {
		ERR(ps, s, e,
		    "expected 'destination' or 'destination/LEN' after 'per', "
		    "found '%.*s'",
		    (int)(e - s), s);
		return -1;
	}
	g->len4 = 32;
	g->len6 = 128;
	if (s + 11 == e)
		return 0;
	slash = s + 11;
	comma = memchr(slash, ',', (size_t)(e - slash));
	if (ew_parse_uint(slash + 1, (size_t)((comma ? comma : e) - slash - 1),
		8, 32, &v4) != 0) {
		ERR(ps, slash + 1, comma ? comma : e,
		    "an IPv4 prefix length for a guard is 8 to 32");
		return -1;
	}
	g->len4 = (uint8_t)v4;
	g->len6 = v4 == 32 ? 128 : 64;
	g->len_given = 1;
	if (comma != NULL) {
		if (ew_parse_uint(comma + 1, (size_t)(e - comma - 1), 16, 128,
			&v6) != 0) {
			ERR(ps, comma + 1, e,
			    "an IPv6 prefix length for a guard is 16 to 128");
			return -1;
		}
		g->len6 = (uint8_t)v6;
		g->len_given = 2;
	}
	return 0;
}

static int
guard_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > EW_GUARD_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

/* The clause keywords, in canonical order; bit i set once seen. */
enum { C_PORTS, C_RATE, C_PER, C_BLOCK, C_CAP, C_BUCKETS, C_DAMP, C_N };
static const char *const clause_word[C_N] = { "ports", "rate", "per", "block",
	"cap", "buckets", "damp" };

static int
guard_ports(struct pstate *ps, const char *v, const char *ve, struct guard *g)
{
	struct ew_range *r = NULL;
	size_t n = 0, i;

	if (ve - v == 1 && *v == '*')
		return 0;
	if (ew_ps_portlist(ps, v, ve, &r, &n) < 0)
		return -1;
	if (n == 0 || (n == 1 && r[0].lo == 1 && r[0].hi == 65535)) {
		free(r);
		return 0; /* all ports */
	}
	g->ports = calloc(n, sizeof(*g->ports));
	if (g->ports == NULL) {
		free(r);
		ew_ps_oom(ps);
		return -1;
	}
	for (i = 0; i < n; i++) {
		g->ports[i].lo = r[i].lo;
		g->ports[i].hi = r[i].hi;
	}
	g->nports = n;
	free(r);
	return 0;
}

static int
clause(struct pstate *ps, int c, const char *v, const char *ve, struct guard *g)
{
	uint64_t n;

	switch (c) {
	case C_PORTS:
		return guard_ports(ps, v, ve, g);
	case C_RATE:
		return parse_rate(ps, v, ve, g);
	case C_PER:
		return parse_per(ps, v, ve, g);
	case C_BLOCK:
		if (ew_duration_parse(v, (size_t)(ve - v), &g->block) != 0 ||
		    g->block < 10 || g->block > 30 * 86400) {
			ERR(ps, v, ve,
			    "malformed block time '%.*s' (a duration from 10s "
			    "to 30d, as in 30m or 2h)",
			    (int)(ve - v), v);
			return -1;
		}
		return 0;
	case C_CAP:
	case C_BUCKETS:
		if (ew_parse_uint(v, (size_t)(ve - v), c == C_CAP ? 1 : 16,
			c == C_CAP ? 4096 : 1u << 22, &n) != 0) {
			ERR(ps, v, ve,
			    "'%s' takes a number from %s, not '%.*s'",
			    clause_word[c],
			    c == C_CAP ? "1 to 4096" : "16 to 4194304",
			    (int)(ve - v), v);
			return -1;
		}
		if (c == C_CAP)
			g->cap = (uint32_t)n;
		else
			g->buckets = (uint32_t)n;
		return 0;
	}
	return 0;
}

static int
add_guard(struct pstate *ps, struct ew_guards *gs, struct guard *g)
{
	struct guard *nv = realloc(gs->g, (gs->n + 1) * sizeof(*nv));

	if (nv == NULL) {
		ew_ps_oom(ps);
		return -1;
	}
	gs->g = nv;
	gs->g[gs->n++] = *g;
	return 0;
}

/* "guard NAME clauses..."; s points after the keyword. */
void
ew_ps_guard(struct pstate *ps, const char *s, const char *e)
{
	struct ew_guards *gs = guards_of(ps);
	struct guard g;
	const char *nb, *ne, *w, *we, *v, *ve;
	unsigned seen = 0;
	size_t i;
	int c, bad = 0;

	if (gs == NULL)
		return;
	memset(&g, 0, sizeof(g));
	g.cap = EW_GUARD_CAP;
	g.buckets = EW_GUARD_BUCKETS;
	nb = skip_blank(s, e);
	ne = word_end(nb, e);
	if (nb >= ne) {
		ERR(ps, s - 5, s,
		    "'guard' needs a name, as in 'guard flood "
		    "rate 600/minute per destination block 30m'");
		return;
	}
	if (!guard_name_ok(nb, (size_t)(ne - nb))) {
		ERR(ps, nb, ne,
		    "malformed guard name '%.*s' (a lowercase letter, then up "
		    "to %d letters, digits or '_')",
		    (int)(ne - nb), nb, EW_GUARD_NAME_MAX - 1);
		return;
	}
	for (i = 0; i < gs->n; i++) {
		if (ew_str_is(gs->g[i].name, nb, (size_t)(ne - nb))) {
			ERR(ps, nb, ne, "guard '%.*s' is already defined",
			    (int)(ne - nb), nb);
			ew_diag_add(ps->d, EW_SEV_NOTE, &gs->g[i].loc,
			    "'%s' was defined here", gs->g[i].name);
			return;
		}
	}
	if (gs->n >= EW_GUARD_MAX) {
		ERR(ps, nb, ne, "more than %d guards", EW_GUARD_MAX);
		return;
	}
	for (w = skip_blank(ne, e); w < e && *w != '#'; w = skip_blank(ve, e)) {
		we = word_end(w, e);
		for (c = 0; c < C_N; c++)
			if (ew_str_is(clause_word[c], w, (size_t)(we - w)))
				break;
		if (c == C_N) {
			ERR(ps, w, we,
			    "unexpected '%.*s' in a guard (ports, rate, per, "
			    "block, cap, buckets, damp)",
			    (int)(we - w), w);
			bad = 1;
			break;
		}
		v = skip_blank(we, e);
		ve = c == C_DAMP ? we : word_end(v, e);
		if (seen & (1u << c)) {
			ERR(ps, w, ve, "'%s' is given twice", clause_word[c]);
			bad = 1;
			continue;
		}
		seen |= 1u << c;
		if (c == C_DAMP) {
			g.damp = 1;
			continue;
		}
		if (v >= ve) {
			ERR(ps, w, we, "'%s' needs a value", clause_word[c]);
			bad = 1;
			break;
		}
		if (clause(ps, c, v, ve, &g) < 0)
			bad = 1;
	}
	if (!bad) {
		for (c = C_RATE; c <= C_BLOCK; c++) {
			if (!(seen & (1u << c))) {
				ERR(ps, nb, ne, "guard '%.*s' has no '%s'",
				    (int)(ne - nb), nb, clause_word[c]);
				bad = 1;
			}
		}
	}
	if (bad) {
		free(g.ports);
		return;
	}
	g.name = ew_strndup(nb, (size_t)(ne - nb));
	g.loc.src = ps->src;
	g.loc.line = ps->lineno;
	g.loc.first = (unsigned)(nb - ps->line) + 1;
	g.loc.last = (unsigned)(ne - ps->line);
	if (g.name == NULL || add_guard(ps, gs, &g) < 0) {
		if (g.name == NULL)
			ew_ps_oom(ps);
		free(g.name);
		free(g.ports);
	}
}

/* One allow item: "<table>" or "ADDR[/MASK]". */
static int
allow_item(
    struct pstate *ps, struct ew_guards *gs, const char *s, const char *e)
{
	struct allow a, *nv;
	struct ew_pat pat;
	struct ew_pat_err err;

	memset(&a, 0, sizeof(a));
	a.table = -1;
	if (*s == '<') {
		if (e - s < 3 || e[-1] != '>' ||
		    (a.table = ew_ps_find_table(
			 ps->p, s + 1, (size_t)(e - s - 2))) < 0) {
			ERR(ps, s, e, "unknown table %.*s", (int)(e - s), s);
			return -1;
		}
	} else {
		if (ew_pat_net(s, (size_t)(e - s), &pat, &err) < 0) {
			ERR(ps, s, e,
			    "malformed address '%.*s' in the allow list (an "
			    "address, ADDR/LEN, or <table>)",
			    (int)(e - s), s);
			return -1;
		}
		a.addr = pat.addr;
		a.bits = pat.maskbits;
	}
	nv = realloc(gs->allow, (gs->nallow + 1) * sizeof(*nv));
	if (nv == NULL) {
		ew_ps_oom(ps);
		return -1;
	}
	gs->allow = nv;
	gs->allow[gs->nallow++] = a;
	return 0;
}

/* "guards cap N" and "guards allow ITEM, ..."; s after the keyword. */
void
ew_ps_guards(struct pstate *ps, const char *s, const char *e)
{
	struct ew_guards *gs = guards_of(ps);
	const char *w = skip_blank(s, e), *we, *v, *ce;
	uint64_t n;

	if (gs == NULL)
		return;
	we = word_end(w, e);
	v = skip_blank(we, e);
	for (ce = v; ce < e && *ce != '#'; ce++)
		;
	while (ce > v && (ce[-1] == ' ' || ce[-1] == '\t' || ce[-1] == '\r'))
		ce--;
	if (ew_str_is("cap", w, (size_t)(we - w))) {
		const char *ve = word_end(v, e);

		if (v >= ve ||
		    ew_parse_uint(v, (size_t)(ve - v), 1, 65536, &n) != 0) {
			ERR(ps, w, ve,
			    "'guards cap' takes a number from 1 to 65536");
			return;
		}
		if (skip_blank(ve, e) < ce) {
			ERR(ps, skip_blank(ve, e), ce,
			    "unexpected text after 'guards cap N'");
			return;
		}
		if (gs->cap != 0) {
			ERR(ps, w, ve, "'guards cap' is given twice");
			ew_diag_add(ps->d, EW_SEV_NOTE, &gs->cap_loc,
			    "first given here");
			return;
		}
		gs->cap = (uint32_t)n;
		gs->cap_loc.src = ps->src;
		gs->cap_loc.line = ps->lineno;
		gs->cap_loc.first = (unsigned)(w - ps->line) + 1;
		gs->cap_loc.last = (unsigned)(ve - ps->line);
		return;
	}
	if (ew_str_is("allow", w, (size_t)(we - w))) {
		if (v >= ce) {
			ERR(ps, w, we,
			    "'guards allow' needs addresses or a <table>");
			return;
		}
		while (v < ce) {
			const char *ie = v;

			while (
			    ie < ce && *ie != ',' && *ie != ' ' && *ie != '\t')
				ie++;
			if (ie > v)
				allow_item(ps, gs, v, ie);
			v = ie;
			while (v < ce && (*v == ',' || *v == ' ' || *v == '\t'))
				v++;
		}
		return;
	}
	ERR(ps, w < e ? w : s - 6, w < e ? we : s,
	    "expected 'cap' or 'allow' after 'guards'");
}

/* ---- printing ---------------------------------------------------------- */

static void
put_rate(struct ew_buf *b, uint32_t count, uint32_t k, uint32_t unit)
{
	const char *w = "second";
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].secs == unit)
			w = units[i].word;
	if (k == 1)
		ew_buf_printf(b, "%u/%s", count, w);
	else
		ew_buf_printf(b, "%u/%u%ss", count, k, w);
}

static void
put_duration(struct ew_buf *b, int64_t t)
{
	if (t % 86400 == 0)
		ew_buf_printf(b, "%lldd", (long long)(t / 86400));
	else if (t % 3600 == 0)
		ew_buf_printf(b, "%lldh", (long long)(t / 3600));
	else if (t % 60 == 0)
		ew_buf_printf(b, "%lldm", (long long)(t / 60));
	else
		ew_buf_printf(b, "%llds", (long long)t);
}

void
ew_guards_show(const struct ew_policy *p, struct ew_buf *b)
{
	const struct ew_guards *gs = p->guards;
	char t[EW_ADDR_STRLEN];
	size_t i, j;

	if (gs == NULL || (gs->n == 0 && gs->cap == 0 && gs->nallow == 0))
		return;
	if (b->len > 0)
		ew_buf_putc(b, '\n');
	if (gs->cap != 0)
		ew_buf_printf(b, "guards cap %u\n", gs->cap);
	if (gs->nallow > 0) {
		ew_buf_puts(b, "guards allow ");
		for (i = 0; i < gs->nallow; i++) {
			const struct allow *a = &gs->allow[i];

			if (i > 0)
				ew_buf_puts(b, ", ");
			if (a->table >= 0) {
				ew_buf_printf(
				    b, "<%s>", p->tables[a->table].name);
				continue;
			}
			ew_addr_format(&a->addr, 1, t, sizeof(t));
			ew_buf_puts(b, t);
			if (a->bits != ew_addr_bits(&a->addr))
				ew_buf_printf(b, "/%u", a->bits);
		}
		ew_buf_putc(b, '\n');
	}
	for (i = 0; i < gs->n; i++) {
		const struct guard *g = &gs->g[i];

		ew_buf_printf(b, "guard %s", g->name);
		for (j = 0; j < g->nports; j++) {
			ew_buf_puts(b, j ? "," : " ports ");
			if (g->ports[j].lo == g->ports[j].hi)
				ew_buf_printf(b, "%u", g->ports[j].lo);
			else
				ew_buf_printf(
				    b, "%u-%u", g->ports[j].lo, g->ports[j].hi);
		}
		ew_buf_puts(b, " rate ");
		put_rate(b, g->count, g->k, g->unit);
		ew_buf_puts(b, " per destination");
		if (g->len_given == 2 ||
		    (g->len_given == 1 &&
			g->len6 != (g->len4 == 32 ? 128 : 64)))
			ew_buf_printf(b, "/%u,%u", g->len4, g->len6);
		else if (g->len4 != 32)
			ew_buf_printf(b, "/%u", g->len4);
		ew_buf_puts(b, " block ");
		put_duration(b, g->block);
		if (g->cap != EW_GUARD_CAP)
			ew_buf_printf(b, " cap %u", g->cap);
		if (g->buckets != EW_GUARD_BUCKETS)
			ew_buf_printf(b, " buckets %u", g->buckets);
		if (g->damp)
			ew_buf_puts(b, " damp");
		ew_buf_putc(b, '\n');
	}
}

/* ---- the view for emitters and the daemon ------------------------------ */

size_t
ew_policy_guard_count(const struct ew_policy *p)
{
	return p->guards != NULL ? p->guards->n : 0;
}

void
ew_policy_guard_info(
    const struct ew_policy *p, size_t i, struct ew_guard_info *out)
{
	const struct guard *g = &p->guards->g[i];
	struct ew_buf t = EW_BUF_INIT;

	memset(out, 0, sizeof(*out));
	out->name = g->name;
	out->ports = g->ports;
	out->nports = g->nports;
	out->count = g->count;
	out->period = g->k * g->unit;
	out->len4 = g->len4;
	out->len6 = g->len6;
	out->block = g->block;
	out->cap = g->cap;
	out->buckets = g->buckets;
	out->damp = g->damp;
	put_rate(&t, g->count, g->k, g->unit);
	snprintf(out->rate, sizeof(out->rate), "%s", ew_buf_str(&t));
	ew_buf_free(&t);
}

uint32_t
ew_policy_guard_cap(const struct ew_policy *p)
{
	return p->guards != NULL && p->guards->cap != 0 ? p->guards->cap
							: EW_GUARD_TOTAL_CAP;
}

/* Call fn for each allow-list network (tables expanded). */
void
ew_policy_guard_allow_each(const struct ew_policy *p,
    void (*fn)(void *arg, const struct ew_addr *a, unsigned bits), void *arg)
{
	const struct ew_guards *gs = p->guards;
	size_t i, j;

	if (gs == NULL)
		return;
	for (i = 0; i < gs->nallow; i++) {
		const struct allow *a = &gs->allow[i];

		if (a->table < 0) {
			fn(arg, &a->addr, a->bits);
			continue;
		}
		for (j = 0; j < p->tables[a->table].n; j++)
			fn(arg, &p->tables[a->table].e[j].addr,
			    p->tables[a->table].e[j].maskbits);
	}
}

struct overlap {
	const struct ew_addr *a;
	unsigned bits;
	int hit;
};

static void
overlap_fn(void *arg, const struct ew_addr *a, unsigned bits)
{
	struct overlap *o = arg;
	unsigned m = bits < o->bits ? bits : o->bits;

	if (a->family == o->a->family && ew_addr_prefix_eq(a, o->a, m))
		o->hit = 1;
}

int
ew_policy_guard_allowed(
    const struct ew_policy *p, const struct ew_addr *a, unsigned bits)
{
	struct overlap o = { a, bits, 0 };

	ew_policy_guard_allow_each(p, overlap_fn, &o);
	return o.hit;
}

void
ew_policy_exit_bind(const struct ew_policy *p, struct ew_addr out[2])
{
	out[0] = p->opts.obind[EW_OBIND_EXIT][0];
	out[1] = p->opts.obind[EW_OBIND_EXIT][1];
}
