/*
 * managed_file.c - the managed policy file around a change: the
 * previous one kept for a rollback that needs no free space, and the
 * difference between two effective policies, for -n.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"

/*
 * The managed policy before a change, kept (a hard link: no data to
 * write, so it holds on a full disk) until the change commits or is
 * rolled back: a rollback puts it back with a rename, which needs no
 * space either.  prev_kept: 1 kept, 2 there was none, 0 not kept.
 */
static char prev_path[PATH_MAX];
static int prev_kept, prev_wanted;

void
ew_cli_want_previous(void)
{
	prev_wanted = 1;
}

void
ew_cli_keep_previous(const char *path)
{
	prev_kept = 0;
	if (!prev_wanted) /* no rollback will follow */
		return;
	if (snprintf(prev_path, sizeof(prev_path), "%s.prev", path) >=
	    (int)sizeof(prev_path))
		return;
	if (unlink(prev_path) < 0 && errno != ENOENT)
		return;
	if (link(path, prev_path) == 0)
		prev_kept = 1;
	else if (errno == ENOENT)
		prev_kept = 2;
}

/* The change committed: the kept file is not needed. */
void
ew_cli_forget_previous(void)
{
	if (prev_kept == 1)
		unlink(prev_path);
	prev_kept = prev_wanted = 0;
}

/*
 * Put `want` (the store's managed policy) at path without needing free
 * space: the kept file renamed back, if it is what the store says;
 * else written atomically; else, on a full disk, written over the
 * bigger file in place (blocks it holds already).  0 or -errno.
 */
int
ew_cli_put_back(
    const char *path, const struct ew_buf *want, struct ew_diag_list *dg)
{
	size_t len = 0;
	char *have = NULL;
	FILE *f;
	int fd, rc, same = 0;

	if (prev_kept == 1 && (f = fopen(prev_path, "rb")) != NULL) {
		have = ew_cli_read_all(f, 64u << 20, &len);
		fclose(f);
		same = have != NULL && len == want->len &&
		       memcmp(have, ew_buf_str(want), len) == 0;
		free(have);
		if (same && rename(prev_path, path) == 0) {
			prev_kept = 0;
			return 0;
		}
	}
	rc = ew_tor_write_file(path, ew_buf_str(want), want->len, dg);
	if (rc != -ENOSPC && rc != -EDQUOT)
		return rc;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	rc = 0;
	if (write(fd, ew_buf_str(want), want->len) != (ssize_t)want->len ||
	    ftruncate(fd, (off_t)want->len) < 0 || fsync(fd) < 0)
		rc = -errno ? -errno : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* A line of a text: where it starts and how long it is. */
struct line {
	const char *s;
	size_t n;
};

static int
cmp_line(const void *x, const void *y)
{
	const struct line *a = x, *b = y;
	int c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);

	if (c != 0)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* The lines of text, in order (free *out). */
static size_t
split_lines(const char *text, struct line **out)
{
	const char *s, *e;
	size_t n = 0, cap = 0;
	struct line *v = NULL, *nv;

	for (s = text; *s != '\0'; s = *e ? e + 1 : e) {
		if ((e = strchr(s, '\n')) == NULL)
			e = s + strlen(s);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[n].s = s;
		v[n++].n = (size_t)(e - s);
	}
	*out = v;
	return n;
}

/* Print "- line" / "+ line" for the lines one list has and the other
 * lacks (the effective policies before and after): each side sorted
 * once and searched, n log n in the lines. */
void
ew_cli_print_diff(const char *before, const char *after)
{
	const char *lists[2] = { before, after };
	struct line *v[2] = { NULL, NULL }, *sorted[2] = { NULL, NULL };
	size_t n[2], i;
	int side;

	for (side = 0; side < 2; side++) {
		n[side] = split_lines(lists[side], &v[side]);
		sorted[side] = malloc((n[side] + 1) * sizeof(struct line));
		if (sorted[side] == NULL)
			goto out;
		if (n[side] > 0)
			memcpy(sorted[side], v[side],
			    n[side] * sizeof(struct line));
		qsort(sorted[side], n[side], sizeof(struct line), cmp_line);
	}
	for (side = 0; side < 2; side++)
		for (i = 0; i < n[side]; i++)
			if (bsearch(&v[side][i], sorted[1 - side], n[1 - side],
				sizeof(struct line), cmp_line) == NULL)
				printf("%c %.*s\n", side ? '+' : '-',
				    (int)v[side][i].n, v[side][i].s);
out:
	for (side = 0; side < 2; side++) {
		free(v[side]);
		free(sorted[side]);
	}
}
