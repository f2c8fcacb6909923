/*
 * cmd_inbox.c - exitwarden inbox scan MAILDIR, and exitwarden run (the
 * daemon: apply the managed policy at the start, then scan, expire and
 * re-apply, and between rounds watch the surge guards: read the
 * kernel's surge sets every EW_GUARD_POLL_MS and turn new surges into
 * applied blocks, each poll one change of the desk).
 *
 * A message in MAILDIR/new is stored in one transaction (complaint,
 * incidents, verdicts, ticket) and only after that commits renamed into
 * MAILDIR/cur with the Seen flag.  Killed between the two, the next scan
 * meets it again, finds it stored (by its content) and just moves
 * it: nothing is lost and nothing is stored twice.  A message that is
 * not a complaint goes to cur/ with the Flagged flag, for the operator.
 *
 * Messages are parsed in an unprivileged child, one per message
 * (privsep.h); the parent only reads the file, hands its bytes over and
 * stores what comes back.  A parser that crashes, runs past the
 * per-message limit or answers garbage leaves its message flagged as
 * unreadable, and the scan goes on.  SIGTERM or SIGINT stops the scan
 * between two messages, or kills the parser of the current one and
 * leaves that message in new/; a message whose transaction has begun
 * is stored and moved first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/privsep.h"
#include "desk/desk.h"
#include "emit/ctl.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "store/store.h"

struct counts {
	size_t seen, added, dups, unreadable;
};

/* Set by SIGTERM and SIGINT (inbox scan and run). */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits end at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir/new, sorted (dot files skipped). */
static char **
list_new(const char *dir, size_t *n)
{
	char path[PATH_MAX], **v = NULL, **nv;
	struct dirent *e;
	DIR *dp;

	*n = 0;
	snprintf(path, sizeof(path), "%s/new", dir);
	if ((dp = opendir(path)) == NULL)
		return NULL;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup(e->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(dp);
	if (v == NULL) /* an empty new/ */
		v = calloc(1, sizeof(*v));
	if (v != NULL)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* new/NAME -> cur/NAME:2,FLAG (any info part of NAME replaced). */
static int
move_to_cur(const char *dir, const char *name, char flag)
{
	char from[PATH_MAX], to[PATH_MAX];
	size_t base = strcspn(name, ":");

	snprintf(from, sizeof(from), "%s/new/%s", dir, name);
	snprintf(
	    to, sizeof(to), "%s/cur/%.*s:2,%c", dir, (int)base, name, flag);
	if (rename(from, to) < 0) {
		ew_cli_err(
		    "%s: cannot move to %s: %s", from, to, strerror(errno));
		return -1;
	}
	return 0;
}

/* Read one message: a regular file, not a link, up to one byte past the
 * size limit (a FIFO left in new/ must not hang the scan); NULL, errno. */
static char *
read_message(const char *path, size_t *n)
{
	char *data;
	int rc = ew_file_read(path, EW_MAIL_MAX_SIZE + 1,
	    EW_FILE_REGULAR | EW_FILE_NOFOLLOW | EW_FILE_PREFIX, &data, n);

	if (rc < 0)
		errno = rc == -EISDIR ? EINVAL : -rc;
	return rc < 0 ? NULL : data;
}

/*
 * Parse in the child, then store.  0 stored (*r), -EINVAL not a
 * complaint (why in the message printed), 1 stopped by a signal, other
 * negative: not stored.
 */
static int
take(struct ew_desk *d, struct ew_privsep *ps, const char *path,
    const char *data, size_t len, struct ew_desk_added *r)
{
	struct ew_complaint *cpl = NULL;
	struct ew_diag_list diags;
	int64_t now = ew_time_now(), received = now;
	struct stat sb;
	char why[256];
	int prc, arc;

	/* received when delivered: the file's time in the Maildir (so a
	 * rescan after a crash reads the same deadlines); never later
	 * than now */
	if (stat(path, &sb) == 0 && (int64_t)sb.st_mtime < now)
		received = (int64_t)sb.st_mtime;
	prc = ew_privsep_parse(
	    ps, path, data, len, received, &cpl, why, sizeof(why));
	if (prc == EW_PRIVSEP_STOPPED)
		return 1;
	if (prc < 0)
		return prc; /* no socket or no fork: left in new/ */
	if (prc != EW_PRIVSEP_OK) {
		ew_cli_err("%s: not a complaint (%s); moved to cur/ flagged",
		    path, why);
		return -EINVAL;
	}
	ew_diag_init(&diags);
	arc = ew_desk_add_parsed(d, cpl, data, len, ew_time_now(), &diags, r);
	ew_complaint_free(cpl);
	if (arc == -EINVAL)
		ew_cli_err("%s: not a complaint (%s); moved to cur/ flagged",
		    path, diags.n ? diags.v[0].msg : "unreadable");
	ew_diag_free(&diags);
	return arc;
}

static int
scan(struct ew_desk *d, struct ew_store *st, struct ew_privsep *ps,
    const char *dir, int verbose, struct counts *c)
{
	char path[PATH_MAX], **names;
	struct ew_desk_added r;
	size_t n, i;
	char *data;
	int rc = 0, arc;

	snprintf(path, sizeof(path), "%s/cur", dir);
	if (access(path, W_OK) < 0) {
		ew_cli_err(
		    "%s: not a Maildir (%s: %s)", dir, path, strerror(errno));
		return -1;
	}
	if ((names = list_new(dir, &n)) == NULL) {
		ew_cli_err("%s/new: %s", dir, strerror(errno));
		return -1;
	}
	/* one message that fails does not hold up the others: it stays in
	 * new/ (store trouble) or goes to cur/ flagged (not readable) */
	for (i = 0; i < n && !stop; i++) {
		size_t len;

		snprintf(path, sizeof(path), "%s/new/%s", dir, names[i]);
		if ((data = read_message(path, &len)) == NULL) {
			if (errno == ENOENT)
				continue; /* taken by another scanner */
			ew_cli_err("%s: %s; moved to cur/ flagged", path,
			    errno == EINVAL ? "not a regular file"
					    : strerror(errno));
			c->seen++;
			c->unreadable++;
			if (move_to_cur(dir, names[i], 'F') != 0)
				rc = -1;
			continue;
		}
		arc = take(d, ps, path, data, len, &r);
		free(data);
		if (arc == 1)
			break; /* stopped: the message stays in new/ */
		c->seen++;
		if (arc == -EINVAL) {
			c->unreadable++;
			if (move_to_cur(dir, names[i], 'F') != 0)
				rc = -1;
		} else if (arc != 0) {
			ew_cli_err("%s: not stored, left in new/: %s%s%s", path,
			    strerror(-arc), *ew_store_errmsg(st) ? ": " : "",
			    ew_store_errmsg(st));
			rc = -1;
		} else {
			if (r.duplicate)
				c->dups++;
			else
				c->added++;
			if (verbose)
				printf("%s: %s complaint %lld, ticket %lld%s\n",
				    names[i],
				    r.duplicate ? "already stored as"
						: "stored as",
				    (long long)r.complaint_id,
				    (long long)r.ticket_id,
				    r.new_ticket ? " (new)" : "");
			if (move_to_cur(dir, names[i], 'S') != 0)
				rc = -1;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static void
print_counts(const struct counts *c, int json)
{
	if (json)
		printf("{\"new\":%zu,\"added\":%zu,\"duplicates\":%zu,"
		       "\"unreadable\":%zu}\n",
		    c->seen, c->added, c->dups, c->unreadable);
	else
		printf("inbox: %zu new, %zu added, %zu duplicates, %zu "
		       "unreadable\n",
		    c->seen, c->added, c->dups, c->unreadable);
	fflush(stdout);
}

/* The options inbox scan and run share; 0 taken, -1 not theirs, or an
 * exit code. */
static int
inbox_opt(const struct ew_optval *v, struct ew_privsep_opts *po,
    struct ew_addr **extra, size_t *n_extra)
{
	uint64_t n;
	int rc;

	switch (v->id) {
	case EW_OPT_PARSER_USER:
		po->user = v->val;
		return 0;
	case EW_OPT_MAIL_TIMEOUT:
		if ((rc = ew_cli_parse_num(v, 1, 3600, &n)) != 0)
			return rc;
		po->timeout_s = (int)n;
		return 0;
	case EW_OPT_ADDRESS:
		return ew_cli_addr_list(v, extra, n_extra);
	default:
		return -1;
	}
}

int
ew_cmd_inbox_scan(struct ew_args *a)
{
	struct ew_addr *extra = NULL;
	size_t n_extra = 0, k;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct counts c = { 0, 0, 0, 0 };
	struct ew_privsep_opts po = { NULL, 0 };
	struct ew_privsep *ps = NULL;
	int json = 0, quiet = 0, rc = 0;

	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_QUIET)
			quiet = 1;
		else
			rc = inbox_opt(v, &po, &extra, &n_extra);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 1, 1);
	if (rc != 0) {
		free(extra);
		return rc;
	}
	if (ew_privsep_new(&po, &stop, &ps) != 0) {
		free(extra);
		return EW_EXIT_FAIL;
	}
	rc = ew_cli_desk_open(extra, n_extra, &st, &d);
	free(extra);
	if (rc != 0) {
		ew_privsep_free(ps);
		return EW_EXIT_FAIL;
	}
	catch_signals();
	rc = scan(d, st, ps, a->ops[0], !json && !quiet, &c);
	print_counts(&c, json);
	if (stop) {
		ew_cli_err("inbox scan stopped by a signal");
		rc = -1;
	}
	ew_desk_free(d);
	ew_store_close(st);
	ew_privsep_free(ps);
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* ---- run ---- */

/* How often run reads the surge sets (the time from a surge to tor's
 * refusal is this plus one apply). */
#define EW_GUARD_POLL_MS 250
/* How often the daemon wakes between rounds (expiries, repairs). */
#define EW_WAKE_MS 50

/* The operator's policy, quietly (run reports its errors elsewhere). */
static struct ew_policy *
load_policy(const char *path)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;

	ew_diag_init(&d);
	if (ew_policy_parse_file(path, 0, &d, &p) != 0)
		p = NULL;
	ew_diag_free(&d);
	return p;
}

/* One poll of the surge guards, as one change; what it did, said. */
static int
guard_tick(struct ew_desk_guards *g, const struct ew_policy *p,
    struct ew_desk *d, struct ew_cli_apply *ap, const char *policy, int *warned)
{
	struct ew_desk_guard_result r;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	int rc;

	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	ew_diag_init(&dg);
	rc = ew_desk_guard_tick(d, &ch, g, p, &r, &oc, &dg);
	if (r.capped > 0 || r.allowed > 0)
		printf("guard: %zu surge%s not blocked (%zu over a cap, %zu "
		       "allowed)\n",
		    r.capped + r.allowed, r.capped + r.allowed == 1 ? "" : "s",
		    r.capped, r.allowed);
	if (r.added > 0)
		printf("guard: %zu new surge block%s%s\n", r.added,
		    r.added == 1 ? "" : "s",
		    rc == 0 ? "" : "; applying them failed");
	if (r.in_place > 0 && !r.reloaded)
		printf("guard: nft: %zu surge block%s added in place in %.1f "
		       "ms (table not reloaded)\n",
		    r.in_place, r.in_place == 1 ? "" : "s", r.in_place_ms);
	else if (r.added > 0 && r.reloaded && rc == 0)
		printf("guard: nft: the whole table loaded\n");
	if (rc != 0 && oc.failed == EW_DESK_STEP_STORE && r.added == 0) {
		/* the surge sets could not be read: said once */
		if (!*warned)
			ew_cli_report(&dg);
		*warned = 1;
		ew_diag_free(&dg);
		return EW_EXIT_FAIL;
	}
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	fflush(stdout);
	return rc;
}

/* The earliest expiry of a block in force, or EW_STORE_NO_TIME. */
static int64_t
next_expiry(struct ew_store *st)
{
	struct ew_store_rule *r = NULL;
	size_t n = 0, i;
	int64_t t = EW_STORE_NO_TIME;

	if (ew_store_rule_list(st, 0, &r, &n) != 0)
		return t;
	for (i = 0; i < n; i++)
		if (r[i].expires_at != EW_STORE_NO_TIME &&
		    (t == EW_STORE_NO_TIME || r[i].expires_at < t))
			t = r[i].expires_at;
	ew_store_rules_free(r, n);
	return t;
}

/*
 * Wait `seconds`, meanwhile: reading the kernel's surge sets and
 * turning new surges into applied blocks (every EW_GUARD_POLL_MS, when
 * the policy has guards); checking tor and the table against the store
 * and repairing them (every --repair-interval); and expiring a block at
 * its second, in tor and the kernel together (the kernel's element
 * timeout ends it at that second too).
 */
static int
guard_wait(struct ew_desk_guards *g, struct ew_desk *d, struct ew_store *st,
    struct ew_cli_apply *ap, struct ew_cli_repair *rp, struct ew_cli_watch *w,
    const char *policy, unsigned seconds, int *warned)
{
	struct ew_policy *p = g != NULL ? load_policy(policy) : NULL;
	struct ew_desk_change ch;
	/* by the clock: a wake-up ends a sleep early, the round does not */
	double end = ew_cli_mono_ms() + (double)seconds * 1000, next_guard = 0;
	int64_t exp = next_expiry(st), now;
	int rc = EW_EXIT_OK, guards, applying;

	applying = !ap->no_apply && !ap->nft.dry_run;
	guards = p != NULL && ew_policy_guard_count(p) > 0 && applying;
	while (!stop && ew_cli_mono_ms() < end) {
		if (guards && ew_cli_mono_ms() >= next_guard) {
			next_guard = ew_cli_mono_ms() + EW_GUARD_POLL_MS;
			if (guard_tick(g, p, d, ap, policy, warned) !=
			    EW_EXIT_OK)
				rc = EW_EXIT_FAIL;
			exp = next_expiry(st);
		}
		now = ew_time_now();
		if (applying && exp != EW_STORE_NO_TIME && exp <= now) {
			ew_cli_change_init(&ch, ap, policy, now);
			if (ew_cli_expire(d, &ch, 1) != EW_EXIT_OK)
				rc = EW_EXIT_FAIL;
			fflush(stdout);
			exp = next_expiry(st);
		}
		if (applying) {
			size_t was = w->applied;

			if (ew_cli_watch_tick(w, d, ap, policy) != EW_EXIT_OK)
				rc = EW_EXIT_FAIL;
			if (w->applied != was)
				exp = next_expiry(st);
		}
		if (applying &&
		    ew_cli_repair_tick(rp, d, ap, policy) != EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
		ew_cli_watch_sleep(w, EW_WAKE_MS);
	}
	ew_policy_free(p);
	return rc;
}

/* run's options. */
struct run_args {
	struct ew_cli_apply ap;
	struct ew_addr *extra;
	size_t n_extra;
	struct ew_privsep_opts po;
	const char *maildir, *policy;
	char host[64]; /* --host NAME: a fleet host, or "" */
	uint64_t interval, repair;
	int once;
};

static int
run_args(const struct ew_args *a, struct run_args *r)
{
	size_t k;
	int rc = 0;

	r->interval = 60;
	r->repair = 5;
	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_MAILDIR)
			r->maildir = v->val;
		else if (v->id == EW_OPT_POLICY)
			r->policy = v->val;
		else if (v->id == EW_OPT_ONCE)
			r->once = 1;
		else if (v->id == EW_OPT_HOST) {
			if (!ew_store_host_name_ok(v->val)) {
				ew_cli_err(
				    "--host: bad host name '%s'", v->val);
				rc = EW_EXIT_USAGE;
			}
			snprintf(r->host, sizeof(r->host), "%s", v->val);
		} else if (v->id == EW_OPT_INTERVAL)
			rc = ew_cli_parse_num(v, 1, 86400, &r->interval);
		else if (v->id == EW_OPT_REPAIR_INTERVAL)
			rc = ew_cli_parse_num(v, 1, 3600, &r->repair);
		else if ((rc = inbox_opt(v, &r->po, &r->extra, &r->n_extra)) <
			 0)
			rc = ew_cli_apply_opt(&r->ap, v);
		if (rc < 0)
			rc = ew_cli_unexpected(a, v);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 0, 0);
	r->policy = ew_cli_policy_path(r->policy);
	r->maildir = ew_cli_maildir(r->maildir);
	if (rc == 0)
		rc = ew_cli_relays_ready(&r->ap, r->policy);
	return rc;
}

/*
 * run --host: open the fleet's store; while it is unreachable, enforce
 * what the last run applied (and again as its blocks expire) and try
 * again every second.
 */
static int
host_open(struct run_args *r, struct ew_store **st, struct ew_desk **d)
{
	struct timespec ts = { 1, 0 };
	int64_t exp = 0;

	if (!ew_store_is_server(ew_cli_db_path())) {
		ew_cli_err("run --host: the fleet's store is PostgreSQL: give "
			   "--db with the host's connection string");
		return EW_EXIT_FAIL;
	}
	catch_signals();
	while (!stop) {
		if (ew_cli_desk_open(r->extra, r->n_extra, st, d) == 0)
			return 0;
		/* the cache once, then again as its blocks expire */
		ew_cli_fleet_cached(
		    &r->ap, r->policy, (unsigned)r->repair, &exp);
		nanosleep(&ts, NULL);
	}
	return EW_EXIT_FAIL;
}

int
ew_cmd_run(struct ew_args *a)
{
	struct run_args r;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_guards *guard = ew_desk_guards_new();
	struct ew_privsep *ps = NULL;
	struct ew_desk_change ch;
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	struct ew_cli_repair rp;
	struct ew_cli_watch w;
	int rc, warned = 0;

	memset(&r, 0, sizeof(r));
	ew_cli_apply_init(&r.ap);
	if ((rc = run_args(a, &r)) != 0)
		goto out;
	if (r.host[0] != '\0' && (rc = host_open(&r, &st, &d)) != 0)
		goto out;
	if (ew_privsep_new(&r.po, &stop, &ps) != 0 ||
	    (d == NULL && ew_cli_desk_open(r.extra, r.n_extra, &st, &d) != 0)) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	catch_signals();
	if (r.host[0] != '\0') {
		if (ew_store_set_scope(st, r.host) != 0) {
			rc = EW_EXIT_FAIL;
			goto out;
		}
		rc = ew_cli_fleet_follow(d, st, &r.ap, r.policy, r.host,
		    (unsigned)r.interval, (unsigned)r.repair, r.once, &stop);
		goto out;
	}
	printf("run: database %s, policy %s, inbox %s, every %llus, "
	       "repair every %llus\n",
	    ew_cli_db_label(), r.policy, r.maildir ? r.maildir : "(none)",
	    (unsigned long long)r.interval, (unsigned long long)r.repair);
	ew_cli_repair_init(&rp, (unsigned)r.repair);
	rp.st = st;
	fflush(stdout);
	/* what runs may have been lost (a reboot, a tor restarted with its
	 * torrc): apply the managed policy once at the start */
	/* what the start applies is no news */
	ew_cli_watch_init(
	    &w, st, !r.ap.no_apply && !r.ap.tor_dry && !r.ap.nft.dry_run);
	ew_cli_change_init(&ch, &r.ap, r.policy, ew_time_now());
	ew_diag_init(&dg);
	rc = ew_cli_sync(d, &ch, &oc, &dg);
	rp.unsynced = rc != 0; /* retried until done (tor down at start?) */
	rc = ew_cli_change_done(rc, &ch, &oc, &dg);
	while (!stop) {
		struct counts c = { 0, 0, 0, 0 };

		if (r.maildir != NULL && scan(d, st, ps, r.maildir, 1, &c) != 0)
			rc = EW_EXIT_FAIL;
		if (c.seen > 0)
			print_counts(&c, 0);
		if (stop)
			break;
		ew_cli_change_init(&ch, &r.ap, r.policy, ew_time_now());
		if (ew_cli_expire(d, &ch, 1) != EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
		fflush(stdout);
		if (r.once)
			break;
		/* sleep, watching the surge guards meanwhile */
		if (guard_wait(guard, d, st, &r.ap, &rp, &w, r.policy,
			(unsigned)r.interval, &warned) != EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
	}
	if (stop)
		printf("run: stopped by a signal\n");
	if (rc != EW_EXIT_USAGE && d != NULL) {
		ew_cli_repair_say(&rp);
		ew_cli_watch_say(&w);
	}
out:
	ew_desk_guards_free(guard);
	free(r.extra);
	ew_desk_free(d);
	ew_store_close(st);
	ew_privsep_free(ps);
	ew_cli_apply_free(&r.ap);
	return rc;
}
