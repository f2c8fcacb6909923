/*
 * fuzz_ctl_reply.c - the ControlPort reply parser (src/emit/ctl_proto.c)
 * on arbitrary byte streams.  The first byte chooses a chunk size; the
 * rest is fed in chunks of that size and again all at once, and both
 * runs must agree (same replies, or an error at the same point).  Every
 * reply must be well formed: at least one line, one code throughout,
 * only the last line ending it, data only on '+' lines, no line break
 * inside a text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "emit/ctl.h"

#define MAXR 4096

struct run {
	struct ew_ctl_reply *r[MAXR];
	int n;
	int err;
};

static void
check_reply(const struct ew_ctl_reply *r)
{
	size_t i;

	EW_FUZZ_ASSERT(r->n >= 1);
	EW_FUZZ_ASSERT(r->code >= 100 && r->code <= 699);
	EW_FUZZ_ASSERT(r->async == (r->code / 100 == 6));
	for (i = 0; i < r->n; i++) {
		const struct ew_ctl_line *l = &r->lines[i];

		EW_FUZZ_ASSERT(l->code == r->code);
		EW_FUZZ_ASSERT((l->sep == ' ') == (i + 1 == r->n));
		EW_FUZZ_ASSERT(l->sep == ' ' || l->sep == '-' || l->sep == '+');
		EW_FUZZ_ASSERT((l->data != NULL) == (l->sep == '+'));
		EW_FUZZ_ASSERT(strchr(l->text, '\n') == NULL);
		if (l->data != NULL) {
			EW_FUZZ_ASSERT(strlen(l->data) == l->datalen);
			EW_FUZZ_ASSERT(
			    l->datalen == 0 || l->data[l->datalen - 1] == '\n');
		}
	}
}

static void
run_parser(const uint8_t *d, size_t n, size_t step, struct run *out)
{
	struct ew_ctl_parser *p = ew_ctl_parser_new();
	size_t off = 0;

	out->n = 0;
	out->err = 0;
	if (p == NULL)
		abort();
	while (off < n && out->err == 0) {
		size_t k = step == 0 || n - off < step ? n - off : step;
		int rc;

		out->err = ew_ctl_parser_feed(p, d + off, k);
		off += k;
		while (out->n < MAXR &&
		       (rc = ew_ctl_parser_next(p, &out->r[out->n])) == 1) {
			check_reply(out->r[out->n]);
			out->n++;
		}
		if (out->err == 0 && out->n < MAXR && rc < 0)
			out->err = rc;
	}
	if (out->err != 0)
		EW_FUZZ_ASSERT(ew_ctl_parser_error(p)[0] != '\0');
	ew_ctl_parser_free(p);
}

static int
same_reply(const struct ew_ctl_reply *a, const struct ew_ctl_reply *b)
{
	size_t i;

	if (a->code != b->code || a->n != b->n || a->size != b->size)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->lines[i].sep != b->lines[i].sep ||
		    strcmp(a->lines[i].text, b->lines[i].text) != 0 ||
		    a->lines[i].datalen != b->lines[i].datalen ||
		    (a->lines[i].data != NULL &&
			memcmp(a->lines[i].data, b->lines[i].data,
			    a->lines[i].datalen) != 0))
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a, b;
	int i;

	if (size < 1)
		return 0;
	run_parser(data + 1, size - 1, data[0] % 17, &a);
	run_parser(data + 1, size - 1, 0, &b);
	EW_FUZZ_ASSERT((a.err == 0) == (b.err == 0));
	if (a.err == 0 && a.n < MAXR && b.n < MAXR)
		EW_FUZZ_ASSERT(a.n == b.n);
	for (i = 0; i < a.n && i < b.n; i++)
		EW_FUZZ_ASSERT(same_reply(a.r[i], b.r[i]));
	for (i = 0; i < a.n; i++)
		ew_ctl_reply_free(a.r[i]);
	for (i = 0; i < b.n; i++)
		ew_ctl_reply_free(b.r[i]);
	return 0;
}
