/*
 * bench_store.c - the store's share of ingest, on either back end: every
 * mail of MAILDIR/new is parsed first (not timed: the same work on both
 * back ends, and in `inbox scan` it happens in the parser child), then
 * each parsed complaint is taken in with ew_desk_add_parsed -- duplicate
 * check, its incidents judged against the recorded policy history and
 * stored, its ticket opened or updated, one transaction -- and that is
 * timed.  TARGET is a SQLite file or a PostgreSQL connection string
 * (store.h); record a policy in it first for real verdicts.
 *
 * bench_store TARGET MAILDIR [ADDR...]   (ADDR: the relay's addresses)
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "mail/mail.h"
#include "store/store.h"

struct item {
	char *data;
	size_t len;
	struct ew_complaint *c;
};

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parsed mails of dir/new, in name order; *n of them. */
static struct item *
load(const char *dir, size_t *n)
{
	char path[4096], **names = NULL;
	struct item *v;
	struct dirent *e;
	struct ew_diag_list dg;
	size_t nn = 0, cap = 0, i;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof(path), "%s/new", dir);
	if ((d = opendir(path)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				exit(1);
		}
		names[nn++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), by_name);
	if ((v = calloc(nn ? nn : 1, sizeof(*v))) == NULL)
		exit(1);
	for (i = 0; i < nn; i++) {
		snprintf(path, sizeof(path), "%s/new/%s", dir, names[i]);
		free(names[i]);
		if (ew_file_read(path, 64 << 20, 0, &v[*n].data, &v[*n].len) !=
		    0)
			continue;
		ew_diag_init(&dg);
		if (ew_complaint_parse(
			path, v[*n].data, v[*n].len, &dg, &v[*n].c) == 0)
			(*n)++;
		else
			free(v[*n].data);
		ew_diag_free(&dg);
	}
	free(names);
	return v;
}

int
main(int argc, char **argv)
{
	struct ew_addr addrs[8];
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_added r;
	struct ew_diag_list dg;
	struct item *v;
	size_t n = 0, na = 0, i, added = 0, dups = 0, refused = 0, failed = 0;
	double t0, t1;
	char err[256];
	int rc;

	if (argc < 3) {
		fprintf(
		    stderr, "usage: bench_store TARGET MAILDIR [ADDR...]\n");
		return 2;
	}
	for (i = 3; i < (size_t)argc && na < 8; i++)
		if (ew_addr_parse(argv[i], &addrs[na]))
			na++;
	t0 = secs();
	v = load(argv[2], &n);
	t1 = secs();
	printf("parsed %zu complaints in %.2f s (not counted below)\n", n,
	    t1 - t0);
	if ((rc = ew_store_open_err(argv[1], &st, err, sizeof(err))) != 0 ||
	    ew_desk_new(st, addrs, na, &d) != 0) {
		fprintf(stderr, "bench_store: cannot open the store: %s\n",
		    rc ? err : "desk");
		return 1;
	}
	t0 = secs();
	for (i = 0; i < n; i++) {
		ew_diag_init(&dg);
		rc = ew_desk_add_parsed(
		    d, v[i].c, v[i].data, v[i].len, 1795000000, &dg, &r);
		ew_diag_free(&dg);
		if (rc == -EINVAL)
			refused++; /* not a complaint (no incident, ...) */
		else if (rc != 0)
			failed++;
		else if (r.duplicate)
			dups++;
		else
			added++;
	}
	t1 = secs();
	printf("%s: %zu added, %zu duplicates, %zu refused, %zu failed in"
	       " %.2f s: %.0f complaints/s\n",
	    ew_store_backend(st), added, dups, refused, failed, t1 - t0,
	    (t1 - t0) > 0 ? (double)(added + dups + refused) / (t1 - t0) : 0.0);
	ew_desk_free(d);
	ew_store_close(st);
	for (i = 0; i < n; i++) {
		ew_complaint_free(v[i].c);
		free(v[i].data);
	}
	free(v);
	return failed ? 1 : 0;
}
