/*
 * token.c - the block form's token and the per-source rate limit.
 *
 * A token is "TTTTTTTTTTTTTTTT.NNNNNNNNNNNNNNNN.MMMM...": the time it
 * was made (16 hex digits), a random nonce (16 hex digits) and the
 * HMAC-SHA256 (64 hex digits) under the server's key of the action,
 * the time, the nonce and the requester's source address (ERSS's
 * scheme).  It is good for EW_WEB_TOKEN_TTL seconds, from the address
 * it was made for only, and once: the store keeps the nonces used
 * (ew_store_token_use), which also stops a form posted from another
 * site (it has no token of ours for the victim's address).
 *
 * The rate limit keeps, per hash bucket of a source address (an IPv6
 * address by its /64), a count of requests in the current window: no
 * address, aggregate counters only, in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/addr.h"
#include "lib/digest.h"
#include "web/web_int.h"

static int
mac(const struct ew_web *w, uint64_t t, const char *nonce,
    const struct ew_addr *src, char hex[65])
{
	unsigned char d[EW_SHA256_LEN];
	char a[EW_ADDR_STRLEN], msg[160];
	int n, i;

	ew_addr_format(src, 0, a, sizeof(a));
	n = snprintf(msg, sizeof(msg),
	    "exitwarden-block\n%016" PRIx64 "\n%s\n%s", t, nonce, a);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EINVAL;
	if (ew_hmac_sha256(w->conf.key, w->conf.keylen, msg, (size_t)n, d) != 0)
		return -EIO;
	for (i = 0; i < EW_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int
ew_web_token_make(const struct ew_web *w, const struct ew_addr *src,
    int64_t now, char out[EW_WEB_TOKEN_LEN])
{
	unsigned char r[8];
	char nonce[17], m[65];
	int i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (i = 0; i < 8; i++)
		snprintf(nonce + 2 * i, 3, "%02x", r[i]);
	if (mac(w, (uint64_t)now, nonce, src, m) != 0)
		return -EIO;
	snprintf(out, EW_WEB_TOKEN_LEN, "%016" PRIx64 ".%s.%s", (uint64_t)now,
	    nonce, m);
	return 0;
}

static int
all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
ew_web_token_check(const struct ew_web *w, const char *tok,
    const struct ew_addr *src, int64_t now, char nonce[17], int64_t *made)
{
	char m[65];
	uint64_t t = 0;
	size_t i;

	if (tok == NULL || strlen(tok) != EW_WEB_TOKEN_LEN - 1 ||
	    tok[16] != '.' || tok[33] != '.' || !all_hex(tok, 16) ||
	    !all_hex(tok + 17, 16) || !all_hex(tok + 34, 64))
		return -EINVAL;
	for (i = 0; i < 16; i++)
		t = t << 4 | (uint64_t)(tok[i] <= '9' ? tok[i] - '0'
						      : tok[i] - 'a' + 10);
	memcpy(nonce, tok + 17, 16);
	nonce[16] = '\0';
	if (mac(w, t, nonce, src, m) != 0)
		return -EIO;
	if (ew_ct_memcmp(m, tok + 34, 64) != 0)
		return -EPERM; /* another key, address or time */
	if (t > (uint64_t)INT64_MAX || (int64_t)t > now + 60 ||
	    now - (int64_t)t > EW_WEB_TOKEN_TTL)
		return -ETIMEDOUT;
	*made = (int64_t)t;
	return 0;
}

/* FNV-1a over the bytes that identify a source: an IPv6 address by its
 * /64, an IPv4 address whole. */
static uint32_t
src_hash(const struct ew_web *w, const struct ew_addr *a)
{
	size_t n = a->family == EW_AF_INET6 ? 8 : 4, i;
	uint32_t h = 2166136261u ^ w->rate_salt;

	for (i = 0; i < n; i++) {
		h ^= a->b[i];
		h *= 16777619u;
	}
	h ^= a->family;
	return h * 16777619u;
}

int
ew_web_rate_take(struct ew_web *w, const struct ew_addr *src, int64_t now)
{
	uint32_t h = src_hash(w, src);
	struct ew_web_bucket *b = &w->rate[h % EW_WEB_RATE_BUCKETS];

	if (w->conf.rate_window == 0)
		return 0;
	if (now - b->start >= (int64_t)w->conf.rate_window || now < b->start) {
		b->start = now;
		b->count = 0;
	}
	if (b->count >= w->conf.rate_burst)
		return -EBUSY;
	b->count++;
	return 0;
}
