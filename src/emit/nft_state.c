/*
 * nft_state.c - the --state file of a compact ruleset (nft.h,
 * ew_nft_compact), and the diff of two of them.
 *
 *	# exitwarden nft state 2
 *	text LEN
 *	LEN bytes: the ruleset text with its "#elements K" markers
 *	set NAME N LEN
 *	LEN characters: N intervals, then a newline
 *	...
 *	end
 *
 * An interval is two numbers, the gap from the previous interval's end
 * (lo - prev_hi - 1, the first from 0) and its span (hi - lo), both mod
 * 2^32; a number is written 5 bits a character, lowest first, as '0'
 * plus the bits plus 32 when more follow (characters '0' to 'o').  A
 * million-entry table takes about 4.5 MB instead of its 17 MB of text,
 * and the file stays printable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/mem.h"

static const char magic[] = "# exitwarden nft state 2\n";

/* One number: at most 7 characters (32 bits). */
static char *
put_num(char *p, uint32_t v)
{
	while (v >= 32) {
		*p++ = (char)('0' + 32 + (v & 31));
		v >>= 5;
	}
	*p++ = (char)('0' + v);
	return p;
}

static int
put_set(struct ew_buf *out, const struct ew_nft_packed *k)
{
	size_t len0, i, hdr;
	uint32_t prev = UINT32_MAX; /* so that the first gap is lo */
	char *p;

	ew_buf_printf(out, "set %s %zu ", k->name, k->n);
	hdr = out->len;
	/* the length goes in front: room for it, the numbers after */
	ew_buf_add(out, "0000000000\n", 11);
	if (k->n > ((size_t)-1 / 2) / 16 || ew_buf_grow(out, k->n * 14 + 1) < 0)
		return -ENOMEM;
	len0 = out->len;
	p = out->p + out->len;
	for (i = 0; i < k->n; i++) {
		uint32_t lo = k->iv[2 * i], hi = k->iv[2 * i + 1];

		p = put_num(p, lo - prev - 1);
		p = put_num(p, hi - lo);
		prev = hi;
	}
	*p++ = '\n';
	out->len = (size_t)(p - out->p);
	out->p[out->len] = '\0';
	/* the length, right-aligned in its ten digits */
	{
		char d[16];
		size_t n = out->len - len0, j;

		for (j = 10; j-- > 0; n /= 10)
			d[j] = (char)('0' + n % 10);
		memcpy(out->p + hdr, d, 10);
	}
	return 0;
}

int
ew_nft_state_write(const struct ew_nft_compact *c, struct ew_buf *out)
{
	size_t i;

	ew_buf_puts(out, magic);
	ew_buf_printf(out, "text %zu\n", c->text.len);
	ew_buf_add(out, c->text.p != NULL ? c->text.p : "", c->text.len);
	for (i = 0; i < c->nsets; i++)
		if (put_set(out, &c->sets[i]) < 0)
			return -ENOMEM;
	ew_buf_puts(out, "end\n");
	return out->oom ? -ENOMEM : 0;
}

/* A decimal number ending at c: its value and what follows, or NULL. */
static const char *
get_dec(const char *s, const char *e, char c, size_t *v)
{
	size_t x = 0;
	const char *b = s;

	for (; s < e && *s >= '0' && *s <= '9'; s++) {
		if (x > ((size_t)-1 - 9) / 10)
			return NULL;
		x = x * 10 + (size_t)(*s - '0');
	}
	if (s == b || s >= e || *s != c)
		return NULL;
	*v = x;
	return s + 1;
}

/* One number of the encoding, or NULL. */
static const char *
get_num(const char *s, const char *e, uint32_t *v)
{
	uint64_t x = 0;
	unsigned sh = 0, d;

	for (;;) {
		if (s >= e || sh > 30)
			return NULL;
		d = (unsigned)(unsigned char)*s++ - '0';
		if (d >= 64)
			return NULL;
		x |= (uint64_t)(d & 31) << sh;
		sh += 5;
		if (d < 32)
			break;
	}
	if (x > UINT32_MAX)
		return NULL;
	*v = (uint32_t)x;
	return s;
}

static int
get_set(const char **sp, const char *e, struct ew_nft_packed *k)
{
	const char *s = *sp, *name, *name_end, *end;
	size_t n, len, i;
	uint32_t prev = UINT32_MAX, gap, span;

	if (e - s < 4 || memcmp(s, "set ", 4) != 0)
		return -EINVAL;
	name = s += 4;
	while (s < e && *s != ' ' && *s != '\n')
		s++;
	name_end = s;
	if (s == name || s >= e || *s != ' ' ||
	    (s = get_dec(s + 1, e, ' ', &n)) == NULL ||
	    (s = get_dec(s, e, '\n', &len)) == NULL || len > (size_t)(e - s) ||
	    len == 0 || s[len - 1] != '\n' || n > (len - 1) / 2)
		return -EINVAL;
	end = s + len - 1;
	if ((k->name = ew_strndup(name, (size_t)(name_end - name))) == NULL)
		return -ENOMEM;
	if (n > 0 && (k->iv = ew_mem_big(2 * n * sizeof(*k->iv))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if ((s = get_num(s, end, &gap)) == NULL ||
		    (s = get_num(s, end, &span)) == NULL)
			return -EINVAL;
		k->iv[2 * i] = prev + 1 + gap;
		k->iv[2 * i + 1] = k->iv[2 * i] + span;
		prev = k->iv[2 * i + 1];
	}
	k->n = n;
	if (s != end)
		return -EINVAL;
	*sp = end + 1;
	return 0;
}

int
ew_nft_state_read(const char *s, size_t n, struct ew_nft_compact *c)
{
	const char *e = s + n;
	struct ew_nft_packed *nv;
	size_t len;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (n < sizeof(magic) - 1 || memcmp(s, magic, sizeof(magic) - 1) != 0)
		return -EINVAL;
	s += sizeof(magic) - 1;
	if (e - s < 5 || memcmp(s, "text ", 5) != 0 ||
	    (s = get_dec(s + 5, e, '\n', &len)) == NULL ||
	    len > (size_t)(e - s) || memchr(s, '\0', len) != NULL)
		return -EINVAL;
	ew_buf_add(&c->text, s, len);
	if (c->text.oom) {
		rc = -ENOMEM;
		goto out;
	}
	s += len;
	while (!(e - s == 4 && memcmp(s, "end\n", 4) == 0)) {
		nv = realloc(c->sets, (c->nsets + 1) * sizeof(*nv));
		if (nv == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		c->sets = nv;
		memset(&c->sets[c->nsets], 0, sizeof(*nv));
		c->nsets++;
		if ((rc = get_set(&s, e, &c->sets[c->nsets - 1])) < 0)
			goto out;
	}
	return 0;
out:
	ew_nft_compact_free(c);
	return rc;
}
