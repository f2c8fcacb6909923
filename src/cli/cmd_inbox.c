/*
 * cmd_inbox.c - exitwarden inbox scan MAILDIR, and exitwarden run (the
 * daemon: apply the managed policy at the start, then scan, expire and
 * re-apply, sleep).
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
#include <unistd.h>

#include "cli/cli.h"
#include "cli/privsep.h"
#include "desk/desk.h"
#include "emit/ctl.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail.h"
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
	char why[256];
	int prc, arc;

	prc = ew_privsep_parse(ps, path, data, len, &cpl, why, sizeof(why));
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

int
ew_cmd_inbox_scan(int argc, char **argv)
{
	struct ew_addr *extra = NULL;
	size_t n_extra = 0;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct counts c = { 0, 0, 0, 0 };
	struct ew_privsep_opts po = { NULL, 0 };
	struct ew_privsep *ps = NULL;
	int i, json = 0, quiet = 0, rc;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if ((rc = ew_privsep_opt(argc, argv, &i, &po)) >= 0) {
			if (rc > 0) {
				free(extra);
				return rc;
			}
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-q") == 0 ||
			   strcmp(argv[i], "--quiet") == 0) {
			quiet = 1;
		} else if ((rc = ew_cli_address_opt(
				argc, argv, &i, &extra, &n_extra)) >= 0) {
			if (rc > 0) {
				free(extra);
				return rc;
			}
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			free(extra);
			return ew_cli_usage("inbox", "scan");
		}
	}
	if (i != argc - 1) {
		free(extra);
		return ew_cli_usage("inbox", "scan");
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
	rc = scan(d, st, ps, argv[i], !json && !quiet, &c);
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

int
ew_cmd_run(int argc, char **argv)
{
	struct ew_addr *extra = NULL;
	size_t n_extra = 0;
	struct ew_cli_apply a;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_cli_guard *guard = ew_cli_guard_new();
	struct ew_privsep_opts po = { NULL, 0 };
	struct ew_privsep *ps = NULL;
	const char *maildir = NULL, *policy = NULL;
	uint64_t interval = 60;
	int i, once = 0, rc, wrote;

	if (ew_cli_apply_init(&a) != 0)
		return EW_EXIT_FAIL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--maildir") == 0 && i + 1 < argc) {
			maildir = argv[++i];
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			if (ew_parse_uint(argv[i + 1], strlen(argv[i + 1]), 1,
				86400, &interval) != 0) {
				ew_cli_err("--interval: seconds, 1 to 86400");
				rc = EW_EXIT_USAGE;
				goto out;
			}
			i++;
		} else if ((rc = ew_cli_address_opt(
				argc, argv, &i, &extra, &n_extra)) >= 0) {
			if (rc > 0)
				goto out;
		} else if ((rc = ew_privsep_opt(argc, argv, &i, &po)) >= 0) {
			if (rc > 0)
				goto out;
		} else if ((rc = ew_cli_apply_opt(&a, argc, argv, &i)) != 0) {
			if (rc < 0) {
				ew_cli_err("unknown argument '%s'", argv[i]);
				rc = ew_cli_usage("run", NULL);
			}
			goto out;
		}
	}
	policy = ew_cli_policy_path(policy);
	if (ew_privsep_new(&po, &stop, &ps) != 0 ||
	    ew_cli_desk_open(extra, n_extra, &st, &d) != 0) {
		rc = EW_EXIT_FAIL;
		goto out;
	}
	catch_signals();
	printf("run: database %s, policy %s, inbox %s, every %llus\n",
	    ew_cli_db_path(), policy, maildir ? maildir : "(none)",
	    (unsigned long long)interval);
	fflush(stdout);
	/* what runs may have been lost (a reboot, a tor restarted with its
	 * torrc): apply the managed policy once at the start */
	rc = ew_cli_managed_sync(d, &a, policy, ew_time_now(), &wrote);
	while (!stop) {
		struct counts c = { 0, 0, 0, 0 };

		if (maildir != NULL && scan(d, st, ps, maildir, 1, &c) != 0)
			rc = EW_EXIT_FAIL;
		if (c.seen > 0)
			print_counts(&c, 0);
		if (stop)
			break;
		if (ew_cli_expire(d, st, &a, policy, 0, ew_time_now(), 1) !=
		    EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
		fflush(stdout);
		if (once)
			break;
		/* sleep, watching the surge guards meanwhile */
		if (ew_cli_guard_wait(guard, d, st, &a, policy,
			(unsigned)interval, &stop) != EW_EXIT_OK)
			rc = EW_EXIT_FAIL;
	}
	if (stop)
		printf("run: stopped by a signal\n");
out:
	ew_cli_guard_free(guard);
	free(extra);
	ew_desk_free(d);
	ew_store_close(st);
	ew_privsep_free(ps);
	ew_cli_apply_free(&a);
	return rc;
}
