/*
 * diff.c - unified diffs (diff.h).  The longest common subsequence of
 * the two line lists by dynamic programming (quadratic, fine for the
 * configuration files it is for), then hunks of changes with three
 * lines of context around each, merged where the contexts touch.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diff.h"

#define CONTEXT 3
#define MAX_LINES 10000

struct lines {
	const char **p;
	size_t *len; /* with the newline, if any */
	size_t n;
};

static int
split(const char *t, size_t n, struct lines *l)
{
	size_t i, start = 0, k = 0, cnt = 0;

	memset(l, 0, sizeof(*l));
	if (t == NULL || n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (t[i] == '\n')
			cnt++;
	if (t[n - 1] != '\n')
		cnt++;
	l->p = calloc(cnt, sizeof(*l->p));
	l->len = calloc(cnt, sizeof(*l->len));
	if (l->p == NULL || l->len == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (t[i] == '\n' || i == n - 1) {
			l->p[k] = t + start;
			l->len[k++] = i + 1 - start;
			start = i + 1;
		}
	l->n = k;
	return 0;
}

static int
eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] &&
	       memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static void
put_line(struct ew_buf *o, char mark, const char *p, size_t n)
{
	ew_buf_putc(o, mark);
	ew_buf_add(o, p, n);
	if (n == 0 || p[n - 1] != '\n')
		ew_buf_puts(o, "\n\\ No newline at end of file\n");
}

/* ops: '=' keep, '-' delete a line of a, '+' add a line of b. */
static char *
script(const struct lines *a, const struct lines *b, size_t *nops)
{
	size_t n = a->n, m = b->n, i, j, k = 0;
	uint32_t *t;
	char *ops;

	*nops = 0;
	ops = malloc(n + m + 1);
	if (ops == NULL)
		return NULL;
	if (n > MAX_LINES || m > MAX_LINES) {
		memset(ops, '-', n);
		memset(ops + n, '+', m);
		*nops = n + m;
		return ops;
	}
	/* t[i][j]: LCS length of a[i..] and b[j..] */
	t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (t == NULL) {
		free(ops);
		return NULL;
	}
#define T(i, j) t[(i) * (m + 1) + (j)]
	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;)
			T(i, j) = eq(a, i, b, j) ? T(i + 1, j + 1) + 1
						 : (T(i + 1, j) >= T(i, j + 1)
							   ? T(i + 1, j)
							   : T(i, j + 1));
	for (i = j = 0; i < n || j < m;) {
		if (i < n && j < m && eq(a, i, b, j)) {
			ops[k++] = '=';
			i++;
			j++;
		} else if (i < n && (j == m || T(i + 1, j) >= T(i, j + 1))) {
			ops[k++] = '-';
			i++;
		} else {
			ops[k++] = '+';
			j++;
		}
	}
#undef T
	free(t);
	*nops = k;
	return ops;
}

static void
hunks(const struct lines *a, const struct lines *b, const char *ops,
    size_t nops, struct ew_buf *o)
{
	size_t s = 0, e, k, i0, j0, i, j, ai, bj, na, nb;

	/* i, j: line numbers in a and b at op s */
	i = j = 0;
	while (s < nops) {
		if (ops[s] == '=') {
			s++;
			i++;
			j++;
			continue;
		}
		/* a change at s: start CONTEXT lines before */
		k = s;
		ai = i;
		bj = j;
		while (k > 0 && s - k < CONTEXT && ops[k - 1] == '=') {
			k--;
			ai--;
			bj--;
		}
		/* extend while changes come within 2 * CONTEXT */
		e = s;
		for (;;) {
			size_t run = 0;

			while (e < nops && ops[e] != '=')
				e++;
			while (e + run < nops && ops[e + run] == '=')
				run++;
			if (e + run >= nops || run > 2 * CONTEXT) {
				e += run < CONTEXT ? run : CONTEXT;
				break;
			}
			e += run;
		}
		na = nb = 0;
		for (size_t x = k; x < e; x++) {
			na += ops[x] != '+';
			nb += ops[x] != '-';
		}
		ew_buf_printf(o, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ai + 1 : ai,
		    na, nb ? bj + 1 : bj, nb);
		i0 = ai;
		j0 = bj;
		for (size_t x = k; x < e; x++) {
			if (ops[x] == '=') {
				put_line(o, ' ', a->p[i0], a->len[i0]);
				i0++;
				j0++;
			} else if (ops[x] == '-') {
				put_line(o, '-', a->p[i0], a->len[i0]);
				i0++;
			} else {
				put_line(o, '+', b->p[j0], b->len[j0]);
				j0++;
			}
		}
		i = i0;
		j = j0;
		s = e;
	}
}

int
ew_diff_unified(const char *a_name, const char *a, size_t alen,
    const char *b_name, const char *b, size_t blen, struct ew_buf *out)
{
	struct lines la, lb;
	char *ops = NULL;
	size_t nops = 0;
	int rc = -ENOMEM;

	if (a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0)
		return 0;
	if (split(a, alen, &la) != 0 || split(b, blen, &lb) != 0)
		goto out;
	if ((ops = script(&la, &lb, &nops)) == NULL)
		goto out;
	ew_buf_printf(out, "--- %s\n+++ %s\n", a ? a_name : "/dev/null",
	    b ? b_name : "/dev/null");
	hunks(&la, &lb, ops, nops, out);
	rc = out->oom ? -ENOMEM : 0;
out:
	free(ops);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	return rc;
}
