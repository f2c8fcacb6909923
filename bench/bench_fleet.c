/*
 * bench_fleet.c - PostgreSQL's load when N fleet hosts follow the desk
 * (issue 14's benchmark): N simulated hosts, each on its own connection
 * as its own role (row-level security on, as in production), each doing
 * what `exitwarden run --host` does per round, through the product's
 * own store and desk calls:
 *
 *   ew_store_listen, ew_store_rules_since(cursor)   the poll
 *   when rules came: ew_desk_sync (the managed policy composed from the
 *   store inside its transaction and written; tor and nftables are
 *   stubs here: the host's own machine, not the server's load), then
 *   ew_store_apply_replay (the outbox's report, with its unique id)
 *   ew_store_wakeups                                 before waiting
 *
 * The phases, each with the server's CPU (the postmaster's and all its
 * children's time on a CPU, /proc/PID/schedstat, and the share of the
 * hosts' backends, by their process titles), this process's CPU
 * (getrusage) and the poll latencies (the LISTEN and rules_since pair,
 * p50/p99):
 *
 *   setup    the desk adds N hosts (ew_store_host_add and the role SQL
 *            of ew_store_fleet_role_sql: fleet add-host), a relay each
 *            with an exit address, and a history of blocks: fleet-wide,
 *            per host and per relay, some removed (never hard-deleted);
 *   start    N connections, each host's first round (all its rules, an
 *            apply and its report);
 *   fast     every host polls as fast as THREADS connections at a time
 *            can (the server's ceiling);
 *   paced    every host polls every INTERVAL seconds, the starts spread
 *            over one interval (the production load);
 *   burst    every host waits on its socket; the desk adds one block;
 *            NOTIFY wakes all N, and the time until the last host read
 *            the change and until the last one reported it is printed,
 *            with the rounds the wake-ups cost (1 a host: a host's own
 *            commits wake nobody).
 *
 * The N connections are served by THREADS threads (blocking libpq: the
 * store's API), each with N/THREADS hosts: a thread polls one host at a
 * time, so at most THREADS polls are in flight; the hosts' own work
 * (composing and parsing their managed policies) runs on this machine
 * beside the server.  Changes nothing but the database given and its
 * files under DIR.
 *
 * bench_fleet TARGET DIR POSTMASTER_PID [-n HOSTS] [-t THREADS]
 *     [-r RULES] [-f FAST_S] [-i INTERVAL_S] [-p PACED_S] [-a APPLY_MS] [-e]
 *
 * APPLY_MS: the time tor and nftables take on a host (slept in the tor
 * stub, inside the apply's store transaction as on a real host; 0).
 * -e: the set-up, then the poll's and the compose's queries EXPLAIN
 * ANALYZEd on one host's connection (row-level security in force), and
 * nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "desk/desk.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"
#include "store/store_int.h"

struct sess {
	struct ew_store *st;
	struct ew_desk *d;
	char name[24];
	char managed[PATH_MAX];
	int64_t cursor;
	double next;    /* paced: the next poll due */
	double read_at; /* burst: the change read */
	double done_at; /* burst: its report stored */
	int failed;
};

struct bench {
	const char *target, *dir, *policy;
	int pm_pid;
	size_t n, nthreads, nrules;
	double fast_s, interval, paced_s;
	unsigned apply_ms;
	int explain; /* -e: the queries' plans only */
	struct sess *s;
	pthread_barrier_t bar;
	atomic_int go; /* burst: the block is in */
	double burst_t0;
	int64_t burst_rev;
	atomic_size_t reported;
};

struct worker {
	struct bench *b;
	size_t id;
	pthread_t th;
	double *lat;
	size_t nlat, cap;
	uint64_t polls, rounds, applies, fails;
	double deadline;
	int phase;
};

enum { PH_START, PH_FAST, PH_PACED, PH_BURST };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_fleet: %s: %s\n", what, why);
	exit(1);
}

/* --- the server's CPU: the postmaster and its children --- */

/* The CPU time of pid (ns: /proc/PID/schedstat's time on a CPU, else
 * utime + stime) when its parent is ppid (or it is ppid). */
static uint64_t
proc_ticks(const char *pid, int ppid, int *is_child)
{
	char path[320], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	int pp = 0;
	FILE *f;
	size_t n;

	*is_child = 0;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's closing parenthesis: state ppid ... */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
		"%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp,
		&ut, &st) != 3)
		return 0;
	if (pp != ppid && (int)strtol(pid, NULL, 10) != ppid)
		return 0;
	*is_child = pp == ppid;
	snprintf(path, sizeof(path), "/proc/%s/schedstat", pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = fscanf(f, "%llu", &ut) == 1;
		fclose(f);
		if (n)
			return ut;
	}
	return (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* Whether process pid is a backend of a host's role (its title,
 * "postgres: ew_host_NAME ..."). */
static int
host_backend(const char *pid)
{
	char path[320], buf[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strncmp(buf, "postgres: " EW_STORE_HOST_ROLE,
		   strlen("postgres: " EW_STORE_HOST_ROLE)) == 0;
}

/* The server's CPU seconds so far (its live processes), in *hosts the
 * hosts' backends' share, and in *nproc how many children it has. */
static double
server_cpu(int pm, size_t *nproc, double *hosts)
{
	struct dirent *e;
	uint64_t t = 0, th = 0, x;
	size_t k = 0;
	int child;
	DIR *d;

	if (nproc != NULL)
		*nproc = 0;
	if (hosts != NULL)
		*hosts = 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		t += x = proc_ticks(e->d_name, pm, &child);
		k += child;
		if (child && x > 0 && host_backend(e->d_name))
			th += x;
	}
	closedir(d);
	if (nproc != NULL)
		*nproc = k;
	if (hosts != NULL)
		*hosts = (double)th / 1e9;
	return (double)t / 1e9;
}

/* The server's memory: the sum of its processes' Pss (MB). */
static double
server_pss(int pm)
{
	char path[320], line[256];
	struct dirent *e;
	unsigned long long kb, sum = 0;
	int child;
	DIR *d;
	FILE *f;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		proc_ticks(e->d_name, pm, &child);
		if (!child && (int)strtol(e->d_name, NULL, 10) != pm)
			continue;
		snprintf(
		    path, sizeof(path), "/proc/%s/smaps_rollup", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "Pss: %llu kB", &kb) == 1)
				sum += kb;
		fclose(f);
	}
	closedir(d);
	return (double)sum / 1024.0;
}

static double
client_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* --- one host's round, as run --host does it --- */

static int
stub_tor(void *arg, const char *path, int64_t now)
{
	const struct bench *b = arg;
	struct timespec ts;

	(void)path;
	(void)now;
	if (b->apply_ms > 0) {
		ts.tv_sec = b->apply_ms / 1000;
		ts.tv_nsec = (long)(b->apply_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int
stub_nft(void *arg, const char *path, int64_t now)
{
	(void)arg;
	(void)path;
	(void)now;
	return 0;
}

/* A host records no policy version: its record is the apply report. */
static int
no_record(void *arg, struct ew_desk *d, const char *path, int64_t now,
    struct ew_diag_list *dg)
{
	(void)arg;
	(void)d;
	(void)path;
	(void)now;
	(void)dg;
	return 0;
}

static void
lat_add(struct worker *w, double v)
{
	double *nv;

	if (w->nlat == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4096;
		if ((nv = realloc(w->lat, w->cap * sizeof(*nv))) == NULL)
			die("latencies", "out of memory");
		w->lat = nv;
	}
	w->lat[w->nlat++] = v;
}

/* Compose, write, apply (stubs), then report it as the outbox does. */
static int
host_apply(struct worker *w, struct sess *s, int64_t rev)
{
	struct ew_desk_apply_ops ops;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	char digest[EW_SHA256_HEXLEN], uid[33];
	unsigned char r[16];
	char *text = NULL;
	size_t len = 0, i;
	int rc, ok;

	memset(&ops, 0, sizeof(ops));
	ops.tor = stub_tor;
	ops.nft = stub_nft;
	ops.record = no_record;
	ops.arg = w->b;
	memset(&ch, 0, sizeof(ch));
	ch.managed = s->managed;
	ch.policy = w->b->policy;
	ch.store = s->name;
	ch.now = ew_time_now();
	ch.ops = &ops;
	ew_diag_init(&dg);
	rc = ew_desk_sync(s->d, &ch, &oc, &dg);
	if (rc != 0 && !s->failed) {
		s->failed = 1;
		for (i = 0; i < dg.n; i++)
			fprintf(stderr, "bench_fleet: %s: apply: %s\n", s->name,
			    dg.v[i].msg);
	}
	ew_diag_free(&dg);
	ok = rc == 0;
	if (ew_file_read(s->managed, 16 << 20, 0, &text, &len) != 0 ||
	    ew_sha256_hex(text, len, digest) != 0)
		snprintf(digest, sizeof(digest), "-");
	free(text);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		die("getrandom", strerror(errno));
	for (i = 0; i < sizeof(r); i++)
		snprintf(uid + 2 * i, 3, "%02x", r[i]);
	if (ew_store_apply_replay(s->st, uid, 0, s->name, digest, rev, ch.now,
		ok, ok ? NULL : "the apply failed") != 0)
		ok = 0;
	w->applies++;
	return ok ? 0 : -EIO;
}

/* One round of run --host: 1 when rules came (and were applied). */
static int
host_round(struct worker *w, struct sess *s)
{
	struct ew_store_rule *r = NULL;
	int64_t rev = 0;
	size_t n = 0;
	double t0 = now_s();
	int rc, got = 0;

	w->rounds++;
	rc = ew_store_listen(s->st);
	if (rc == 0)
		rc = ew_store_rules_since(
		    s->st, s->cursor < 0 ? 0 : s->cursor, &r, &n, &rev);
	if (w->phase != PH_START)
		lat_add(w, now_s() - t0);
	w->polls++;
	if (rc != 0) {
		w->fails++;
		if (!s->failed)
			fprintf(stderr, "bench_fleet: %s: %s\n", s->name,
			    ew_store_errmsg(s->st));
		s->failed = 1;
		return 0;
	}
	if (n > 0 && s->read_at == 0 && atomic_load(&w->b->go) &&
	    rev >= w->b->burst_rev)
		s->read_at = now_s();
	if (s->cursor < 0 || n > 0) {
		got = 1;
		if (host_apply(w, s, rev) == 0)
			s->cursor = rev;
		else
			w->fails++;
	} else
		s->cursor = rev;
	ew_store_rules_free(r, n);
	return got;
}

/* --- the phases --- */

static void
host_open(struct worker *w, struct sess *s, size_t i)
{
	struct bench *b = w->b;
	char role[64], err[256], *conn = NULL;
	int rc;

	snprintf(s->name, sizeof(s->name), "bh%04zu", i);
	snprintf(
	    s->managed, sizeof(s->managed), "%s/%s.policy", b->dir, s->name);
	snprintf(role, sizeof(role), EW_STORE_HOST_ROLE "%s", s->name);
	s->cursor = -1;
	if (ew_store_conninfo_as(
		b->target, role, NULL, &conn, err, sizeof(err)) != 0)
		die("conninfo", err);
	if ((rc = ew_store_open_err(conn, &s->st, err, sizeof(err))) != 0)
		die(s->name, err);
	free(conn);
	if (ew_store_set_scope(s->st, s->name) != 0 ||
	    ew_desk_new(s->st, NULL, 0, &s->d) != 0)
		die(s->name, "scope or desk");
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	size_t i, k, first = w->id, step = b->nthreads;
	double t;

	switch (w->phase) {
	case PH_START:
		for (i = first; i < b->n; i += step) {
			host_open(w, &b->s[i], i);
			host_round(w, &b->s[i]);
		}
		break;
	case PH_FAST:
		while (now_s() < w->deadline)
			for (i = first; i < b->n && now_s() < w->deadline;
			     i += step) {
				host_round(w, &b->s[i]);
				ew_store_wakeups(b->s[i].st);
			}
		break;
	case PH_PACED:
		for (i = first; i < b->n; i += step)
			b->s[i].next =
			    now_s() + b->interval * (double)i / (double)b->n;
		for (;;) {
			/* the hosts' starts are spread: in turn */
			for (k = 0, i = first; i < b->n; i += step) {
				if (b->s[i].next > w->deadline)
					continue;
				k++;
				if ((t = b->s[i].next - now_s()) > 0)
					usleep((useconds_t)(t * 1e6));
				host_round(w, &b->s[i]);
				ew_store_wakeups(b->s[i].st);
				b->s[i].next += b->interval;
			}
			if (k == 0)
				break;
		}
		break;
	case PH_BURST:
		return NULL; /* burst_work */
	}
	return NULL;
}

/* Burst: wait on every host's socket; a wake-up is a round, and
 * another while wake-ups came during it (run --host's loop). */
static void *
burst_work(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	size_t i, k, m = 0, first = w->id, step = b->nthreads;
	struct pollfd *pf;
	size_t *idx;
	struct sess *s;
	double quiet_until = 0;

	pf = calloc(b->n / step + 2, sizeof(*pf));
	idx = calloc(b->n / step + 2, sizeof(*idx));
	if (pf == NULL || idx == NULL)
		die("burst", "out of memory");
	for (i = first; i < b->n; i += step) {
		ew_store_wakeups(b->s[i].st); /* the earlier phases' */
		idx[m++] = i;
	}
	pthread_barrier_wait(&b->bar);
	for (;;) {
		for (k = 0; k < m; k++) {
			pf[k].fd = ew_store_wait_fd(b->s[idx[k]].st);
			pf[k].events = POLLIN;
			pf[k].revents = 0;
		}
		if (poll(pf, m, 50) < 0 && errno != EINTR)
			die("poll", strerror(errno));
		for (k = 0; k < m; k++) {
			s = &b->s[idx[k]];
			if (!(pf[k].revents & POLLIN))
				continue;
			while (ew_store_wakeups(s->st) > 0) {
				if (host_round(w, s) && s->done_at == 0 &&
				    atomic_load(&b->go) &&
				    s->cursor >= b->burst_rev) {
					s->done_at = now_s();
					atomic_fetch_add(&b->reported, 1);
				}
			}
		}
		/* all reported: 2 s more for the wake-ups of the reports */
		if (atomic_load(&b->reported) >= b->n && quiet_until == 0)
			quiet_until = now_s() + 2.0;
		if ((quiet_until > 0 && now_s() > quiet_until) ||
		    now_s() > w->deadline)
			break;
	}
	free(pf);
	free(idx);
	return NULL;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct figures {
	double wall, srv, srvh, cli;
	uint64_t polls, rounds, applies, fails;
	double p50, p99, max;
};

/* Run one phase on every thread; its figures. */
static void
phase(struct bench *b, struct worker *w, int ph, double secs, struct figures *f)
{
	double t0, s0, h0, h1, c0, *all;
	size_t i, n = 0, k;

	memset(f, 0, sizeof(*f));
	s0 = server_cpu(b->pm_pid, NULL, &h0);
	c0 = client_cpu();
	t0 = now_s();
	for (i = 0; i < b->nthreads; i++) {
		w[i].phase = ph;
		w[i].deadline = t0 + secs;
		w[i].nlat = 0;
		w[i].polls = w[i].rounds = w[i].applies = w[i].fails = 0;
		if (pthread_create(&w[i].th, NULL,
			ph == PH_BURST ? burst_work : work, &w[i]) != 0)
			die("pthread_create", strerror(errno));
	}
	if (ph == PH_BURST)
		return; /* the caller adds the block and joins */
	for (i = 0; i < b->nthreads; i++)
		pthread_join(w[i].th, NULL);
	f->wall = now_s() - t0;
	f->srv = server_cpu(b->pm_pid, NULL, &h1) - s0;
	f->srvh = h1 - h0;
	f->cli = client_cpu() - c0;
	for (i = 0; i < b->nthreads; i++) {
		f->polls += w[i].polls;
		f->rounds += w[i].rounds;
		f->applies += w[i].applies;
		f->fails += w[i].fails;
		n += w[i].nlat;
	}
	if (n == 0 || (all = malloc(n * sizeof(*all))) == NULL)
		return;
	for (i = 0, k = 0; i < b->nthreads; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, n, sizeof(*all), by_value);
	f->p50 = all[n / 2] * 1e3;
	f->p99 = all[(size_t)((double)n * 0.99)] * 1e3;
	f->max = all[n - 1] * 1e3;
	free(all);
}

static void
print_phase(const char *what, const struct bench *b, const struct figures *f)
{
	double per = f->polls > 0 ? 1000.0 / (double)f->polls : 0;

	printf("%s: %" PRIu64 " polls in %.1f s: %.0f polls/s"
	       " (%" PRIu64 " applies, %" PRIu64 " failures)\n",
	    what, f->polls, f->wall, (double)f->polls / f->wall, f->applies,
	    f->fails);
	printf("  server CPU %.2f s (%.0f%% of one core; the hosts' backends "
	       "%.2f s): %.3f s per 1,000 polls (backends %.3f s); client "
	       "CPU %.2f s (%.3f s per 1,000)\n",
	    f->srv, 100.0 * f->srv / f->wall, f->srvh, f->srv * per,
	    f->srvh * per, f->cli, f->cli * per);
	if (f->p50 > 0)
		printf("  poll latency (LISTEN + rules_since, %zu threads): "
		       "p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
		    b->nthreads, f->p50, f->p99, f->max);
	fflush(stdout);
}

/* --- setup: the desk's side --- */

static void
check(int rc, struct ew_store *st, const char *what)
{
	if (rc != 0)
		die(what, ew_store_errmsg(st));
}

static void
setup(struct bench *b, struct ew_store *st)
{
	char name[24], role[64], fp[41], addr[48], rule[64], *sql;
	int64_t now = ew_time_now(), id;
	size_t i, k;
	double t0 = now_s();

	check(ew_store_fleet_init(st), st, "fleet init");
	check(ew_store_begin(st), st, "begin");
	for (i = 0; i < b->n; i++) {
		snprintf(name, sizeof(name), "bh%04zu", i);
		snprintf(role, sizeof(role), EW_STORE_HOST_ROLE "%s", name);
		check(ew_store_host_add(st, name, role, now), st, "add-host");
		if ((sql = ew_store_fleet_role_sql(role, NULL)) == NULL)
			die("role", "out of memory");
		check(ew_store_exec(st, sql), st, "the role's SQL");
		free(sql);
		snprintf(fp, sizeof(fp), "%040zX", i + 1);
		check(ew_store_relay_add(st, fp, "bench", name, "default", now),
		    st, "add-relay");
		snprintf(addr, sizeof(addr), "10.%zu.%zu.1", i / 250, i % 250);
		check(ew_store_relay_addr(st, fp, addr, now), st, "relay addr");
	}
	check(ew_store_end(st, 0), st, "commit");
	/* the blocks: half fleet-wide, a quarter per host, a quarter per
	 * relay; every fifth removed since */
	for (i = 0; i < b->nrules; i++) {
		snprintf(rule, sizeof(rule), "reject 198.%zu.%zu.%zu:*",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(name, sizeof(name), "bh%04zu", (i * 7919) % b->n);
		k = i % 4;
		check(ew_store_rule_add_scope(st, EW_STORE_ORIGIN_MANUAL, 0,
			  k >= 2 ? name : NULL, k == 3 ? "default" : NULL, rule,
			  "bench", now + 90 * 86400, now, &id),
		    st, "block add");
		if (i % 5 == 4)
			check(ew_store_rule_remove(st, id, now), st, "remove");
	}
	printf("setup: %zu hosts (roles, RLS), %zu relays, %zu blocks (%zu "
	       "removed) in %.1f s\n",
	    b->n, b->n, b->nrules, b->nrules / 5, now_s() - t0);
	fflush(stdout);
}

/* Burst: the block at the desk, the time to the last host. */
static void
burst(struct bench *b, struct worker *w, struct ew_store *desk)
{
	struct figures f;
	double s0, h0, h1, c0, last_read = 0, last_done = 0, *v;
	size_t i, nr = 0;
	int64_t id;
	uint64_t rounds = 0, polls = 0;

	s0 = server_cpu(b->pm_pid, NULL, &h0);
	c0 = client_cpu();
	phase(b, w, PH_BURST, 120, &f);
	pthread_barrier_wait(&b->bar);
	usleep(200000); /* every thread in poll() */
	check(ew_store_rev(desk, &id), desk, "rev");
	b->burst_rev = id + 1;
	atomic_store(&b->go, 1);
	b->burst_t0 = now_s();
	check(ew_store_rule_add_scope(desk, EW_STORE_ORIGIN_MANUAL, 0, NULL,
		  NULL, "reject 192.0.2.200:*", "bench burst",
		  ew_time_now() + 90 * 86400, ew_time_now(), &id),
	    desk, "block add");
	for (i = 0; i < b->nthreads; i++) {
		pthread_join(w[i].th, NULL);
		rounds += w[i].rounds;
		polls += w[i].polls;
	}
	if ((v = calloc(b->n, sizeof(*v))) == NULL)
		die("burst", "out of memory");
	for (i = 0; i < b->n; i++) {
		if (b->s[i].done_at > 0)
			v[nr++] = b->s[i].done_at - b->burst_t0;
		if (b->s[i].read_at - b->burst_t0 > last_read)
			last_read = b->s[i].read_at - b->burst_t0;
		if (b->s[i].done_at - b->burst_t0 > last_done)
			last_done = b->s[i].done_at - b->burst_t0;
	}
	qsort(v, nr, sizeof(*v), by_value);
	printf("burst: one block add at the desk, NOTIFY to %zu hosts: "
	       "%zu applied and reported it; the last read it at %.2f s, "
	       "reported it at %.2f s (median %.2f s)\n",
	    b->n, nr, last_read, last_done, nr ? v[nr / 2] : 0.0);
	s0 = server_cpu(b->pm_pid, NULL, &h1) - s0;
	printf("  %" PRIu64 " rounds (%.1f per host), server CPU %.2f s (the "
	       "hosts' backends %.2f s), client CPU %.2f s\n",
	    rounds, (double)rounds / (double)b->n, s0, h1 - h0,
	    client_cpu() - c0);
	(void)polls;
	free(v);
	fflush(stdout);
}

/* The poll's and the compose's queries (the texts of ticket.c's
 * ew_store_rules_since and ew_store_rule_list_every), EXPLAIN ANALYZEd
 * on one host's connection: the profile. */
static const char *const explained[] = {
	"SELECT rev FROM store_rev",
	"SELECT id, ticket_id, rule_text, reason, expires_at, added_at,"
	" removed_at, relay, origin, guard, rev, host FROM rules WHERE rev > ?1"
	" AND rev <= ?2 AND coalesce(host, '') IN ('', ?3) ORDER BY rev, id",
	"SELECT id, ticket_id, rule_text, reason, expires_at, added_at,"
	" removed_at, relay, origin, guard, rev, host FROM rules WHERE (?1"
	" <> 0 OR (removed_at IS NULL AND pending IS NULL))"
	" AND (?3 <> 0 OR coalesce(host, '') IN ('', ?2)) ORDER BY id",
};

static void
explain(struct bench *b, struct worker *w)
{
	struct ew_stmt *st;
	struct ew_store *h;
	char sql[1024];
	char *line;
	int64_t rev;
	size_t i;

	host_open(w, &b->s[0], 0);
	h = b->s[0].st;
	check(ew_store_rev(h, &rev), h, "rev");
	for (i = 0; i < sizeof(explained) / sizeof(explained[0]); i++) {
		snprintf(sql, sizeof(sql), "EXPLAIN (ANALYZE, BUFFERS) %s",
		    explained[i]);
		check(ew_store_prep(h, sql, &st), h, "explain");
		if (i == 1) {
			ew_store_bind_int64(st, 1, rev);
			ew_store_bind_int64(st, 2, rev);
			ew_store_bind_text(st, 3, b->s[0].name);
		} else if (i == 2) {
			ew_store_bind_int64(st, 1, 0);
			ew_store_bind_text(st, 2, b->s[0].name);
			ew_store_bind_int64(st, 3, 0);
		}
		printf("-- as %s: %s\n", b->s[0].name, explained[i]);
		while (ew_store_step(st) == EW_STORE_ROW)
			if (ew_store_col_text(st, 0, &line) == 0 &&
			    line != NULL) {
				printf("   %s\n", line);
				free(line);
			}
		ew_store_finalize(st);
	}
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_fleet TARGET DIR POSTMASTER_PID [-n "
			"HOSTS] [-t THREADS] [-r RULES] [-f FAST_S] [-i "
			"INTERVAL_S] [-p PACED_S] [-a APPLY_MS] [-e]\n");
	exit(2);
}

static void
args(struct bench *b, int argc, char **argv)
{
	int c;

	if (argc < 4)
		usage();
	b->target = argv[1];
	b->dir = argv[2];
	b->pm_pid = (int)strtol(argv[3], NULL, 10);
	b->n = 1000;
	b->nthreads = 16;
	b->nrules = 2000;
	b->fast_s = 20;
	b->interval = 30;
	b->paced_s = 60;
	optind = 4;
	while ((c = getopt(argc, argv, "n:t:r:f:i:p:a:e")) != -1) {
		switch (c) {
		case 'n':
			b->n = strtoul(optarg, NULL, 10);
			break;
		case 't':
			b->nthreads = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			b->nrules = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			b->fast_s = strtod(optarg, NULL);
			break;
		case 'i':
			b->interval = strtod(optarg, NULL);
			break;
		case 'p':
			b->paced_s = strtod(optarg, NULL);
			break;
		case 'a':
			b->apply_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			b->explain = 1;
			break;
		default:
			usage();
		}
	}
	if (b->n == 0 || b->n > 9999 || b->nthreads == 0 || b->pm_pid <= 1)
		usage();
	if (b->nthreads > b->n)
		b->nthreads = b->n;
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct worker *w;
	struct figures f;
	struct ew_store *desk = NULL;
	struct rlimit rl;
	char err[256], pol[PATH_MAX];
	size_t i, nproc;
	FILE *fp;

	memset(&b, 0, sizeof(b));
	args(&b, argc, argv);
	/* a descriptor per connection, and some */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(pol, sizeof(pol), "%s/exit.policy", b.dir);
	if ((fp = fopen(pol, "w")) == NULL)
		die(pol, strerror(errno));
	fputs("ExitRelay 1\nreject *:25\naccept *:*\n", fp);
	fclose(fp);
	b.policy = pol;
	if (ew_store_open_err(b.target, &desk, err, sizeof(err)) != 0)
		die("the desk's store", err);
	setup(&b, desk);
	if ((b.s = calloc(b.n, sizeof(*b.s))) == NULL ||
	    (w = calloc(b.nthreads, sizeof(*w))) == NULL)
		die("sessions", "out of memory");
	for (i = 0; i < b.nthreads; i++) {
		w[i].b = &b;
		w[i].id = i;
	}
	if (pthread_barrier_init(&b.bar, NULL, (unsigned)b.nthreads + 1) != 0)
		die("barrier", strerror(errno));

	if (b.explain) {
		explain(&b, w);
		goto out;
	}
	phase(&b, w, PH_START, 0, &f);
	server_cpu(b.pm_pid, &nproc, NULL);
	printf("start: %zu hosts connected (own roles) and applied their "
	       "first round in %.1f s; server: %zu processes, %.0f MB "
	       "(Pss)\n",
	    b.n, f.wall, nproc, server_pss(b.pm_pid));
	print_phase("start", &b, &f);

	phase(&b, w, PH_FAST, b.fast_s, &f);
	print_phase("fast (every host as fast as it can)", &b, &f);

	phase(&b, w, PH_PACED, b.paced_s, &f);
	printf("paced: every host every %.0f s for %.0f s (%.1f polls/s "
	       "expected)\n",
	    b.interval, b.paced_s, (double)b.n / b.interval);
	print_phase("paced", &b, &f);

	burst(&b, w, desk);
out:
	for (i = 0; i < b.n; i++) {
		ew_desk_free(b.s[i].d);
		ew_store_close(b.s[i].st);
	}
	ew_store_close(desk);
	for (i = 0; i < b.nthreads; i++)
		free(w[i].lat);
	free(w);
	free(b.s);
	pthread_barrier_destroy(&b.bar);
	return 0;
}
