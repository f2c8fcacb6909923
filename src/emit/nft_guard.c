/*
 * nft_guard.c - the surge guards' part of "table inet exitwarden"
 * (nft.h says what each set, counter and chain is for): the guards'
 * declarations and chains, a relay's hook lines into chain "guards", and
 * the surge-block checks at the head of a relay's rules chain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "emit/nft_guard.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "policy/policy.h"

void
ew_nft_guard_set(const char *guard, int family, char *out, size_t cap)
{
	snprintf(out, cap, "g_%s_s%d", guard, family == EW_AF_INET ? 4 : 6);
}

void
ew_nft_guard_block_set(const char *guard, int family, char *out, size_t cap)
{
	snprintf(out, cap, "g_%s_b%d", guard, family == EW_AF_INET ? 4 : 6);
}

/* The address with the bits past `len` cleared. */
static void
mask_addr(struct ew_addr *a, unsigned len)
{
	unsigned i, bits = ew_addr_bits(a);

	for (i = len; i < bits; i++)
		a->b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* "ip daddr & 255.255.252.0 . tcp dport" (no mask at full length). */
static void
put_key(struct ew_buf *b, int fam, unsigned len)
{
	struct ew_addr m;
	char t[EW_ADDR_STRLEN];
	unsigned i;

	ew_buf_puts(b, fam == EW_AF_INET ? "ip daddr" : "ip6 daddr");
	memset(&m, 0, sizeof(m));
	m.family = (uint8_t)fam;
	if (len < ew_addr_bits(&m)) {
		for (i = 0; i < len; i++)
			m.b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		ew_addr_format(&m, 0, t, sizeof(t));
		ew_buf_printf(b, " & %s", t);
	}
	ew_buf_puts(b, " . tcp dport");
}

/*
 * "limit rate over X/UNIT burst N packets": N new connections refill
 * over the guard's period.  nft counts per second, minute, hour or day:
 * the first unit in which the rate is a whole number, else the daily
 * rate rounded up.
 */
static void
put_limit(struct ew_buf *b, const struct ew_guard_info *g)
{
	static const struct {
		const char *w;
		uint64_t secs;
	} u[] = { { "second", 1 }, { "minute", 60 }, { "hour", 3600 },
		{ "day", 86400 } };
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		if ((uint64_t)g->count * u[i].secs % g->period == 0) {
			x = (uint64_t)g->count * u[i].secs / g->period;
			break;
		}
	}
	if (i == 4) {
		i = 3;
		x = ((uint64_t)g->count * 86400 + g->period - 1) / g->period;
	}
	ew_buf_printf(b, "limit rate over %llu/%s burst %u packets",
	    (unsigned long long)x, u[i].w, g->count);
}

static void
put_gports(struct ew_buf *b, const struct ew_guard_info *g)
{
	size_t i;

	if (g->nports == 0)
		return;
	ew_buf_puts(b, "tcp dport ");
	if (g->nports > 1)
		ew_buf_puts(b, "{ ");
	for (i = 0; i < g->nports; i++) {
		if (i > 0)
			ew_buf_puts(b, ", ");
		if (g->ports[i].lo == g->ports[i].hi)
			ew_buf_printf(b, "%u", g->ports[i].lo);
		else
			ew_buf_printf(
			    b, "%u-%u", g->ports[i].lo, g->ports[i].hi);
	}
	ew_buf_puts(b, g->nports > 1 ? " } " : " ");
}

void
ew_nft_put_timeout(struct ew_buf *b, int64_t t)
{
	ew_buf_puts(b, "timeout ");
	if (t >= 86400)
		ew_buf_printf(b, "%lldd", (long long)(t / 86400));
	if (t % 86400 >= 3600)
		ew_buf_printf(b, "%lldh", (long long)(t % 86400 / 3600));
	if (t % 3600 >= 60)
		ew_buf_printf(b, "%lldm", (long long)(t % 3600 / 60));
	if (t % 60 != 0)
		ew_buf_printf(b, "%llds", (long long)(t % 60));
}

struct allow_acc {
	struct ew_buf v[2]; /* elements, IPv4 and IPv6 */
	size_t n[2];
};

static void
allow_fn(void *arg, const struct ew_addr *a, unsigned bits)
{
	struct allow_acc *acc = arg;
	struct ew_addr m = *a;
	char t[EW_ADDR_STRLEN];
	int f = a->family == EW_AF_INET ? 0 : 1;

	mask_addr(&m, bits);
	ew_addr_format(&m, 0, t, sizeof(t));
	ew_buf_printf(&acc->v[f], "%s%s/%u", acc->n[f] ? ", " : "", t, bits);
	acc->n[f]++;
}

/* One guard's declarations, its surge chains, its tracking rules (to
 * `rules`, the body of chain "guards") and its surge-block rules (to
 * `top`, the head of chain "rules"). */
static void
emit_guard(struct ew_buf *out, struct ew_buf *rules, struct ew_buf *top,
    const struct ew_guard_info *g, uint32_t seed)
{
	static const char *const what[4][2] = {
		{ "over", "new connections over" },
		{ "surges", "surges started, over" },
		{ "overflow", "not recorded (a set was full), over" },
		{ "blocked", "refused by a surge block in place, over" },
	};
	int64_t st = g->block < 300 ? g->block : 300;
	uint32_t ssize = g->cap * 4 < 64 ? 64 : g->cap * 4;
	int k, fam;

	for (k = 0; k < 4; k++)
		ew_buf_printf(out,
		    "\tcounter g_%s_%s {\n\t\tcomment \"guard %s: %s %s\"\n"
		    "\t}\n",
		    g->name, what[k][0], g->name, what[k][1], g->rate);
	ew_buf_printf(out,
	    "\tset g_%s_rate {\n"
	    "\t\ttypeof numgen random mod %u\n"
	    "\t\tsize %u\n"
	    "\t\tflags dynamic, timeout\n\t\t",
	    g->name, EW_NFT_GUARD_HASH, g->buckets);
	ew_nft_put_timeout(out, g->period);
	ew_buf_puts(out, "\n\t}\n");
	for (fam = EW_AF_INET; fam <= EW_AF_INET6; fam += 2) {
		const char *ip = fam == EW_AF_INET ? "ipv4" : "ipv6";
		unsigned len = fam == EW_AF_INET ? g->len4 : g->len6;
		int v = fam == EW_AF_INET ? 4 : 6;

		ew_buf_printf(out,
		    "\tset g_%s_s%d {\n"
		    "\t\ttype %s_addr . inet_service\n"
		    "\t\tsize %u\n"
		    "\t\tflags dynamic, timeout\n\t\t",
		    g->name, v, ip, ssize);
		ew_nft_put_timeout(out, st);
		ew_buf_puts(out, "\n\t}\n");
		/* the surge blocks the daemon adds in place, each with its
		 * block's timeout (no reload: buckets and counters stay) */
		ew_buf_printf(out,
		    "\tset g_%s_b%d {\n"
		    "\t\ttype %s_addr . inet_service\n"
		    "\t\tsize %u\n"
		    "\t\tflags timeout\n\t}\n",
		    g->name, v, ip, ssize);
		ew_buf_puts(top, "\t\t");
		put_key(top, fam, len);
		ew_buf_printf(top,
		    " @g_%s_b%d counter name \"g_%s_blocked\" reject with "
		    "tcp reset\n",
		    g->name, v, g->name);
		/* a destination over its threshold: a new surge, unless
		 * already recorded; a full surge set is an overflow */
		ew_buf_printf(out, "\tchain g_%s_v%d {\n\t\t", g->name, v);
		put_key(out, fam, len);
		ew_buf_printf(out, " @g_%s_s%d return\n\t\tadd @g_%s_s%d { ",
		    g->name, v, g->name, v);
		put_key(out, fam, len);
		ew_buf_printf(out,
		    " } counter name \"g_%s_surges\" return\n"
		    "\t\tcounter name \"g_%s_overflow\"\n\t}\n",
		    g->name, g->name);
		if (g->damp) {
			ew_buf_puts(rules, "\t\t");
			put_key(rules, fam, len);
			ew_buf_printf(rules,
			    " @g_%s_s%d reject with icmpx admin-prohibited\n",
			    g->name, v);
		}
		/* track: the bucket's limit is over: count, then record */
		ew_buf_printf(rules, "\t\tmeta nfproto %s ", ip);
		put_gports(rules, g);
		ew_buf_printf(rules, "update @g_%s_rate { jhash ", g->name);
		put_key(rules, fam, len);
		ew_buf_printf(
		    rules, " mod %u seed 0x%08x ", EW_NFT_GUARD_HASH, seed);
		put_limit(rules, g);
		ew_buf_printf(rules,
		    " } counter name \"g_%s_over\" jump g_%s_v%d\n", g->name,
		    g->name, v);
		/* not in the tracking set after the update: it was full */
		ew_buf_printf(rules, "\t\tmeta nfproto %s ", ip);
		put_gports(rules, g);
		ew_buf_puts(rules, "jhash ");
		put_key(rules, fam, len);
		ew_buf_printf(rules,
		    " mod %u seed 0x%08x != @g_%s_rate counter name "
		    "\"g_%s_overflow\"\n",
		    EW_NFT_GUARD_HASH, seed, g->name, g->name);
	}
}

/*
 * The guards' part of the table (declarations and chains, to out) and
 * the output chain's jump to them (to hook).  Nothing without guards.
 */
void
ew_nft_emit_guards(const struct ew_policy *p, const struct ew_nft_opts *o,
    struct ew_buf *out, struct ew_buf *hook, struct ew_buf *top)
{
	struct ew_buf rules = EW_BUF_INIT;
	struct allow_acc acc;
	struct ew_guard_info g;
	struct ew_addr bind[2];
	char t[EW_ADDR_STRLEN];
	size_t i, n = ew_policy_guard_count(p);
	int f;

	if (n == 0)
		return;
	memset(&acc, 0, sizeof(acc));
	ew_policy_guard_allow_each(p, allow_fn, &acc);
	for (f = 0; f < 2; f++) {
		if (acc.n[f] == 0)
			continue;
		ew_buf_printf(out,
		    "\tset g_allow%d {\n\t\ttype %s_addr\n"
		    "\t\tflags interval\n\t\tauto-merge\n"
		    "\t\telements = { %s }\n\t}\n",
		    f ? 6 : 4, f ? "ipv6" : "ipv4", ew_buf_str(&acc.v[f]));
		ew_buf_printf(&rules, "\t\t%s daddr @g_allow%d return\n",
		    f ? "ip6" : "ip", f ? 6 : 4);
	}
	for (i = 0; i < n; i++) {
		ew_policy_guard_info(p, i, &g);
		/* each guard its own salt: buckets of two guards differ */
		emit_guard(out, &rules, top, &g,
		    o->seed ^ (uint32_t)(i * 0x9e3779b9u));
	}
	ew_buf_printf(out, "\tchain guards {\n%s\t}\n", ew_buf_str(&rules));
	/* the relay's new connections; its exit address when it has one */
	ew_policy_exit_bind(p, bind);
	if (bind[0].family == EW_AF_NONE && bind[1].family == EW_AF_NONE) {
		ew_buf_printf(hook,
		    "\t\tmeta skuid %lu ct state new tcp flags & (syn | ack) "
		    "== syn jump guards\n",
		    (unsigned long)o->uid);
	} else {
		for (f = 0; f < 2; f++) {
			ew_buf_printf(
			    hook, "\t\tmeta skuid %lu ", (unsigned long)o->uid);
			if (bind[f].family != EW_AF_NONE) {
				ew_addr_format(&bind[f], 0, t, sizeof(t));
				ew_buf_printf(
				    hook, "%s saddr %s ", f ? "ip6" : "ip", t);
			} else {
				ew_buf_printf(hook, "meta nfproto %s ",
				    f ? "ipv6" : "ipv4");
			}
			ew_buf_puts(hook,
			    "ct state new tcp flags & (syn | ack) "
			    "== syn jump guards\n");
		}
	}
	if (rules.oom || acc.v[0].oom || acc.v[1].oom)
		out->oom = 1;
	ew_buf_free(&rules);
	ew_buf_free(&acc.v[0]);
	ew_buf_free(&acc.v[1]);
}

/* ---- several relays: the host's guards ---- */

/* What ew_nft_emit_guards makes of relay i's guards: declarations and
 * chains to out, surge-block checks to top (its hook dropped). */
static void
guards_of(const struct ew_nft_relay *r, const struct ew_nft_opts *o,
    struct ew_buf *out, struct ew_buf *top)
{
	struct ew_buf hook = EW_BUF_INIT;

	ew_nft_emit_guards(r->p, o, out, &hook, top);
	if (hook.oom)
		out->oom = 1;
	ew_buf_free(&hook);
}

int
ew_nft_relays_guards_differ(const struct ew_nft_relay *v, size_t n,
    const struct ew_nft_opts *o, size_t *a, size_t *b)
{
	struct ew_buf out0 = EW_BUF_INIT, top0 = EW_BUF_INIT;
	struct ew_buf out = EW_BUF_INIT, top = EW_BUF_INIT;
	size_t i, first = n;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (ew_policy_guard_count(v[i].p) == 0)
			continue;
		if (first == n) {
			first = i;
			guards_of(&v[i], o, &out0, &top0);
			continue;
		}
		ew_buf_reset(&out);
		ew_buf_reset(&top);
		guards_of(&v[i], o, &out, &top);
		if (out.oom || top.oom || out0.oom || top0.oom)
			rc = -ENOMEM;
		else if (strcmp(ew_buf_str(&out), ew_buf_str(&out0)) != 0 ||
			 strcmp(ew_buf_str(&top), ew_buf_str(&top0)) != 0) {
			if (a != NULL)
				*a = first;
			if (b != NULL)
				*b = i;
			rc = 1;
		}
	}
	if (rc == 0 && (out0.oom || top0.oom))
		rc = -ENOMEM;
	ew_buf_free(&out0);
	ew_buf_free(&top0);
	ew_buf_free(&out);
	ew_buf_free(&top);
	return rc;
}
