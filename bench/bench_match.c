/*
 * bench_match.c - the compiled matcher against tor's linear scan.
 *
 *	bench_match [--json] [--quick]
 *
 * For IPv4 policies of 10, 1k, 100k and 1M items and IPv6 policies of
 * 1k and 1M items, with a blocklist-like mix (prefix lengths 80% /32 (or
 * /128), 18% /24 (/48), 2% shorter; a fifth with a port range; one in
 * ten an accept; ten port rules at the top; 20 port accepts and a reject-all
 * at the end), it compiles the list, runs the same uniform random
 * queries through the compiled structure (one at a time and batched) and
 * through the scan (ew_oracle_match, tor's algorithm), checks that the
 * answers agree, and prints per size: lookups/s, ns/lookup, speed-up
 * over the scan, compile time and bytes of the structure per item.
 * Everything is seeded: the same binary gives the same policies and
 * queries on every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/compile.h"

static uint64_t rs;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const uint16_t common_ports[] = { 22, 25, 53, 80, 443, 6667, 8080,
	8443 };

static uint16_t
qport(void)
{
	return rnd() & 1 ? common_ports[rnd() % 8]
			 : (uint16_t)(1 + rnd() % 65535);
}

static void
set_star(struct ew_item *it, int v6, int action, unsigned lo, unsigned hi)
{
	memset(it, 0, sizeof(*it));
	it->addr.family = v6 ? EW_AF_INET6 : EW_AF_INET;
	it->action = (uint8_t)action;
	it->pmin = (uint16_t)lo;
	it->pmax = (uint16_t)hi;
	it->rule = EW_NO_RULE;
}

/* IPv6 prefixes live in 256 /16s, as real allocations cluster. */
static uint16_t v6_16s[256];

static void
random_prefix(struct ew_item *it, int v6)
{
	unsigned r = (unsigned)(rnd() % 1000), m;
	uint64_t a = rnd(), b = rnd();

	if (!v6) {
		m = r < 800   ? 32
		    : r < 980 ? 24
		    : r < 998 ? 20 + r % 4
			      : 16 + r % 4;
		ew_addr_set4(&it->addr, (uint32_t)a);
	} else {
		m = r < 800   ? 128
		    : r < 980 ? 48
		    : r < 998 ? 32 + r % 16
			      : 24 + r % 8;
		it->addr.family = EW_AF_INET6;
		memcpy(it->addr.b, &a, 8);
		memcpy(it->addr.b + 8, &b, 8);
		it->addr.b[0] = (uint8_t)(v6_16s[a % 256] >> 8);
		it->addr.b[1] = (uint8_t)v6_16s[a % 256];
	}
	it->maskbits = (uint8_t)m;
}

static struct ew_item *
make_policy(size_t n, int v6, size_t *nout)
{
	struct ew_item *v = calloc(n + 64, sizeof(*v));
	size_t i = 0, k;

	if (v == NULL)
		return NULL;
	if (n <= 10) {
		static const unsigned p[] = { 25, 119, 135, 445, 563, 1214,
			4661, 6346, 6699 };

		for (k = 0; k + 1 < n; k++)
			set_star(&v[i++], v6, EW_REJECT, p[k], p[k]);
		set_star(&v[i++], v6, EW_ACCEPT, 1, 65535);
		*nout = i;
		return v;
	}
	/* a few port rules first */
	for (k = 0; k < 10; k++) {
		unsigned lo = 1 + (unsigned)(rnd() % 65000);

		set_star(&v[i++], v6, rnd() % 2 ? EW_REJECT : EW_ACCEPT, lo,
		    lo + (unsigned)(rnd() % 20));
	}
	while (i < n - 21) {
		struct ew_item *it = &v[i++];

		memset(it, 0, sizeof(*it));
		random_prefix(it, v6);
		it->action = rnd() % 10 == 0 ? EW_ACCEPT : EW_REJECT;
		it->pmin = 1;
		it->pmax = 65535;
		if (rnd() % 5 == 0) {
			it->pmin = (uint16_t)(1 + rnd() % 60000);
			it->pmax = (uint16_t)(it->pmin + rnd() % 5000);
		}
		it->rule = EW_NO_RULE;
	}
	for (k = 0; k < 20; k++) {
		static const unsigned p[] = { 20, 21, 22, 43, 53, 80, 110, 143,
			443, 993, 995, 5222, 6660, 6697, 8080, 8443, 8888, 9418,
			11371, 19294 };

		set_star(
		    &v[i++], v6, EW_ACCEPT, p[k], p[k] + (k == 12 ? 9 : 0));
	}
	set_star(&v[i++], v6, EW_REJECT, 1, 65535);
	*nout = i;
	return v;
}

struct result {
	size_t rules;
	int v6;
	double compile_ms, single_ns, batch_ns, scan_ns;
	size_t bytes, intervals, classes;
	unsigned long long mismatches;
};

static void
run(size_t nrules, int v6, size_t nq, size_t nscan, struct result *res)
{
	struct ew_expanded e;
	struct ew_compiled *c = NULL;
	uint32_t *q4 = NULL;
	struct ew_addr *qa = NULL;
	uint16_t *qp;
	uint8_t *out;
	size_t i, n = 0, dec;
	double t0, t1;
	volatile unsigned sink = 0;
	int round;

	memset(res, 0, sizeof(*res));
	if (nscan > nq)
		nscan = nq;
	rs = 0x2545f4914f6cdd1dull + nrules * 7 + (unsigned)v6;
	for (i = 0; i < 256; i++)
		v6_16s[i] = (uint16_t)(0x2000 + rnd() % 0x1000);
	memset(&e, 0, sizeof(e));
	e.items = make_policy(nrules, v6, &n);
	e.n = n;
	qp = malloc(nq * sizeof(*qp));
	out = malloc(nq);
	if (v6)
		qa = malloc(nq * sizeof(*qa));
	else
		q4 = malloc(nq * sizeof(*q4));
	if (e.items == NULL || qp == NULL || out == NULL ||
	    (qa == NULL && q4 == NULL)) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	for (i = 0; i < nq; i++) {
		qp[i] = qport();
		if (v6) {
			uint64_t a = rnd(), b = rnd();

			memset(&qa[i], 0, sizeof(qa[i]));
			qa[i].family = EW_AF_INET6;
			memcpy(qa[i].b, &a, 8);
			memcpy(qa[i].b + 8, &b, 8);
			qa[i].b[0] = (uint8_t)(v6_16s[a % 256] >> 8);
			qa[i].b[1] = (uint8_t)v6_16s[a % 256];
		} else {
			q4[i] = (uint32_t)rnd() | 1;
		}
	}
	t0 = now();
	if (ew_compile(&e, 0, &c) < 0) {
		fprintf(stderr, "bench: compile failed\n");
		exit(1);
	}
	res->compile_ms = (now() - t0) * 1e3;
	res->rules = n;
	res->v6 = v6;
	res->bytes = ew_compiled_bytes(c);
	res->intervals =
	    ew_compiled_intervals(c, v6 ? EW_AF_INET6 : EW_AF_INET);
	res->classes = ew_compiled_classes(c);

	/* best of three rounds each, to ride out a noisy machine */
	res->single_ns = res->batch_ns = 1e30;
	for (round = 0; round < 3; round++) {
		t0 = now();
		if (v6)
			for (i = 0; i < nq; i++)
				sink += ew_match(c, &qa[i], qp[i]);
		else
			for (i = 0; i < nq; i++)
				sink += ew_match4(c, q4[i], qp[i]);
		t1 = (now() - t0) * 1e9 / (double)nq;
		if (t1 < res->single_ns)
			res->single_ns = t1;
		t0 = now();
		if (v6)
			ew_match_batch(c, nq, qa, qp, out);
		else
			ew_match4_batch(c, nq, q4, qp, out);
		t1 = (now() - t0) * 1e9 / (double)nq;
		if (t1 < res->batch_ns)
			res->batch_ns = t1;
	}
	/* the scan, on the first nscan queries, and the cross-check */
	t0 = now();
	for (i = 0; i < nscan; i++) {
		struct ew_addr a;

		if (v6)
			a = qa[i];
		else
			ew_addr_set4(&a, q4[i]);
		if (ew_oracle_match(e.items, e.n, &a, qp[i], &dec) != out[i]) {
			if (res->mismatches++ == 0)
				fprintf(stderr,
				    "bench: query %zu port %u: "
				    "batch %u single %u\n",
				    i, qp[i], out[i],
				    v6 ? ew_match(c, &a, qp[i])
				       : ew_match4(c, q4[i], qp[i]));
		}
	}
	res->scan_ns = (now() - t0) * 1e9 / (double)nscan;
	(void)sink;
	ew_compiled_free(c);
	free(e.items);
	free(q4);
	free(qa);
	free(qp);
	free(out);
}

int
main(int argc, char **argv)
{
	static const struct {
		size_t n;
		int v6;
		size_t nscan;
	} cases[] = {
		{ 10, 0, 2000000 },
		{ 1000, 0, 200000 },
		{ 100000, 0, 2000 },
		{ 1000000, 0, 200 },
		{ 1000, 1, 100000 },
		{ 1000000, 1, 100 },
	};
	int json = 0, quick = 0, i, only6 = -1;
	size_t nq, only = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--quick") == 0) {
			quick = 1;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			/* --only ipv4:100000 runs that case alone */
			i++;
			only6 = strncmp(argv[i], "ipv6:", 5) == 0;
			only = (size_t)strtoul(argv[i] + 5, NULL, 10);
		} else {
			fprintf(stderr, "usage: bench_match [--json] [--quick] "
					"[--only ipv4:N|ipv6:N]\n");
			return 2;
		}
	}
	nq = quick ? 200000 : 4000000;
	if (!json)
		printf("%-5s %8s %10s %9s %9s %9s %10s %10s %9s %9s %8s\n",
		    "fam", "items", "compile", "single", "batched", "M/s",
		    "scan", "speed-up", "bytes", "B/item", "classes");
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		struct result r;
		double best;

		if (quick && cases[i].n > 100000)
			continue;
		if (only6 >= 0 && (only6 != cases[i].v6 || only != cases[i].n))
			continue;
		run(cases[i].n, cases[i].v6, nq,
		    quick ? cases[i].nscan / 10 + 1 : cases[i].nscan, &r);
		best = r.batch_ns < r.single_ns ? r.batch_ns : r.single_ns;
		if (json)
			printf("{\"family\":\"ipv%d\",\"items\":%zu,"
			       "\"compile_ms\":%.3f,\"single_ns\":%.2f,"
			       "\"batch_ns\":%.2f,\"mlookups_per_s\":%.1f,"
			       "\"scan_ns\":%.1f,\"speedup\":%.0f,"
			       "\"bytes\":%zu,\"bytes_per_item\":%.2f,"
			       "\"intervals\":%zu,\"classes\":%zu,"
			       "\"mismatches\":%llu}\n",
			    r.v6 ? 6 : 4, r.rules, r.compile_ms, r.single_ns,
			    r.batch_ns, 1e3 / best, r.scan_ns, r.scan_ns / best,
			    r.bytes, (double)r.bytes / (double)r.rules,
			    r.intervals, r.classes, r.mismatches);
		else
			printf("ipv%d  %8zu %8.2fms %7.2fns %7.2fns %9.1f "
			       "%8.0fns %9.0fx %9zu %9.2f %8zu%s\n",
			    r.v6 ? 6 : 4, r.rules, r.compile_ms, r.single_ns,
			    r.batch_ns, 1e3 / best, r.scan_ns, r.scan_ns / best,
			    r.bytes, (double)r.bytes / (double)r.rules,
			    r.classes, r.mismatches ? "  MISMATCH" : "");
		if (r.mismatches) {
			fprintf(stderr,
			    "bench: %llu answers differ from the "
			    "scan\n",
			    r.mismatches);
			return 1;
		}
		fflush(stdout);
	}
	return 0;
}
