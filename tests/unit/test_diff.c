/*
 * test_diff.c - lib/diff.c: the unified diff of fixed cases, and of
 * 2,000 random pairs of texts, each applied back to the first text by an
 * independent patcher here, which must give the second exactly (and
 * whose context lines must match the first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"

#include "lib/buf.h"
#include "lib/diff.h"

static const char *
diff(const char *a, const char *b, struct ew_buf *out)
{
	ew_buf_reset(out);
	EW_CHECK_INT(ew_diff_unified("a", a, a ? strlen(a) : 0, "b", b,
			 b ? strlen(b) : 0, out),
	    0);
	return ew_buf_str(out);
}

static void
test_cases(void)
{
	struct ew_buf b = EW_BUF_INIT;

	EW_CHECK_STR(diff("x\ny\n", "x\ny\n", &b), "");
	EW_CHECK_STR(diff("a\nb\nc\n", "a\nB\nc\n", &b),
	    "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	EW_CHECK_STR(diff(NULL, "new\n", &b),
	    "--- /dev/null\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
	EW_CHECK_STR(diff("x", "x\n", &b),
	    "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of "
	    "file\n+x\n");
	/* two changes far apart: two hunks with three lines of context */
	EW_CHECK_STR(diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			 "0\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n13\n", &b),
	    "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n 4\n"
	    "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+13\n");
	ew_buf_free(&b);
}

/* Lines of text into an array (pointers into a copy). */
static size_t
lines(char *t, char **v, size_t max)
{
	size_t n = 0;
	char *p = t, *nl;

	while (*p != '\0' && n < max) {
		v[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

/* Apply the unified diff d to text a; the result, or NULL when a hunk
 * does not fit a. */
static char *
patch(const char *a, const char *d)
{
	char *ac = strdup(a), *dc = strdup(d), *al[512], *dl[2048];
	size_t na = lines(ac, al, 512), nd = lines(dc, dl, 2048), i, ai = 0;
	struct ew_buf out = EW_BUF_INIT;
	int ok = 1;

	for (i = 2; i < nd && ok; i++) {
		unsigned long s, sn, t, tn;

		if (sscanf(dl[i], "@@ -%lu,%lu +%lu,%lu @@", &s, &sn, &t,
			&tn) != 4) {
			ok = 0;
			break;
		}
		if (sn > 0)
			s--;
		while (ai < s && ai < na) /* lines between hunks */
			ew_buf_printf(&out, "%s\n", al[ai++]);
		for (i++; i < nd && dl[i][0] != '@'; i++) {
			if (dl[i][0] == '+') {
				ew_buf_printf(&out, "%s\n", dl[i] + 1);
			} else if (ai < na && strcmp(al[ai], dl[i] + 1) == 0) {
				if (dl[i][0] == ' ')
					ew_buf_printf(&out, "%s\n", al[ai]);
				ai++;
			} else {
				ok = 0;
				break;
			}
		}
		i--;
	}
	while (ok && ai < na)
		ew_buf_printf(&out, "%s\n", al[ai++]);
	free(ac);
	free(dc);
	if (!ok) {
		ew_buf_free(&out);
		return NULL;
	}
	return out.p ? ew_buf_detach(&out) : strdup("");
}

static void
test_random(void)
{
	struct ew_buf a = EW_BUF_INIT, b = EW_BUF_INIT, d = EW_BUF_INIT;
	unsigned seed = 13, round, bad = 0;
	size_t i, n;

	for (round = 0; round < 2000; round++) {
		ew_buf_reset(&a);
		ew_buf_reset(&b);
		n = (size_t)(rand_r(&seed) % 40);
		for (i = 0; i < n; i++) {
			/* few distinct lines, so that matches are common */
			int x = rand_r(&seed) % 6, r = rand_r(&seed) % 4;

			ew_buf_printf(&a, "l%d\n", x);
			if (r == 0)
				continue; /* deleted */
			if (r == 1)
				ew_buf_printf(&b, "n%d\n", rand_r(&seed) % 6);
			ew_buf_printf(&b, "l%d\n", x);
		}
		ew_buf_reset(&d);
		if (ew_diff_unified("a", a.p ? a.p : "", a.len, "b",
			b.p ? b.p : "", b.len, &d) != 0) {
			bad++;
			continue;
		}
		if (d.len == 0) {
			bad += a.len != b.len ||
			       (a.len && memcmp(a.p, b.p, a.len) != 0);
			continue;
		}
		{
			char *r = patch(a.p ? a.p : "", d.p);

			bad += r == NULL || strcmp(r, b.p ? b.p : "") != 0;
			free(r);
		}
	}
	EW_CHECK_INT(bad, 0);
	ew_buf_free(&a);
	ew_buf_free(&b);
	ew_buf_free(&d);
}

int
main(void)
{
	EW_RUN(test_cases);
	EW_RUN(test_random);
	return ew_test_done();
}
