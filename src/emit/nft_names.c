/*
 * nft_names.c - the names of the per-rule counters and sets of "table
 * inet exitwarden", from each rule's identity rather than its place in
 * the policy: "r" and 16 hex digits of a 64-bit FNV-1a hash of the
 * rule's text, its ticket and the name of the file it is written in.
 * A rule keeps its name when rules before it come or go (ticket blocks
 * added, expired), so stats reads the same counter after a reload.  The
 * same identity twice in one policy (the same rule written twice in a
 * file) gets "_2", "_3"... in policy order.  n log(n) in the rules.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "policy/policy.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	h ^= 0xff; /* a separator no text holds */
	h *= FNV_PRIME;
	return h;
}

struct key {
	uint64_t h;
	size_t i;
};

static int
cmp_key(const void *x, const void *y)
{
	const struct key *a = x, *b = y;

	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

int
ew_nft_rule_names(const struct ew_policy *p, char (**out)[EW_NFT_NAME_MAX])
{
	size_t n = ew_policy_rule_count(p), i, dup = 0;
	char(*v)[EW_NFT_NAME_MAX];
	struct key *k;

	*out = NULL;
	v = calloc(n + 1, sizeof(*v));
	k = calloc(n + 1, sizeof(*k));
	if (v == NULL || k == NULL) {
		free(v);
		free(k);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct ew_rule_info ri;
		const char *base = NULL;

		ew_policy_rule_info(p, i, &ri);
		if (ri.file != NULL)
			base = strrchr(ri.file, '/') ? strrchr(ri.file, '/') + 1
						     : ri.file;
		k[i].h = fnv(fnv(fnv(FNV_OFFSET, ri.text), ri.ticket), base);
		k[i].i = i;
	}
	if (n > 0)
		qsort(k, n, sizeof(*k), cmp_key);
	for (i = 0; i < n; i++) {
		dup = i > 0 && k[i].h == k[i - 1].h ? dup + 1 : 0;
		if (dup == 0)
			snprintf(v[k[i].i], EW_NFT_NAME_MAX, "r%016llx",
			    (unsigned long long)k[i].h);
		else
			snprintf(v[k[i].i], EW_NFT_NAME_MAX, "r%016llx_%zu",
			    (unsigned long long)k[i].h, dup + 1);
	}
	free(k);
	*out = v;
	return 0;
}
