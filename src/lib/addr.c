/*
 * addr.c - tor-exact address parsing and printing (see addr.h).
 *
 * Every rule here is observable in tor's output or in what it refuses,
 * so the code mirrors tor's algorithms rather than the C library's
 * inet_pton/inet_ntop, which differ in corner cases (leading zeros,
 * "::" placement, IPv4-compatible addresses).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/num.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
xval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/*
 * tor_sscanf(s, "%3u.%3u.%3u.%3u%c") == 4: four runs of 1-3 digits
 * separated by dots and nothing after.  Values may exceed 255 here;
 * callers check.  *lead0 is set when a field has a leading zero and more
 * than one digit (tor_inet_aton refuses those; the IPv6 tail does not).
 */
static int
scan_dotted(const char *s, unsigned v[4], int *lead0)
{
	int i, n;

	*lead0 = 0;
	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				return 0;
			s++;
		}
		v[i] = 0;
		for (n = 0; n < 3 && is_digit(s[n]); n++)
			v[i] = v[i] * 10 + (unsigned)(s[n] - '0');
		if (n == 0)
			return 0;
		if (n > 1 && s[0] == '0')
			*lead0 = 1;
		s += n;
	}
	return *s == '\0';
}

int
ew_addr_parse4(const char *s, uint8_t out[4])
{
	unsigned v[4];
	int lead0, i;

	if (!scan_dotted(s, v, &lead0) || lead0)
		return 0;
	for (i = 0; i < 4; i++) {
		if (v[i] > 255)
			return 0;
		out[i] = (uint8_t)v[i];
	}
	return 1;
}

int
ew_addr_parse6(const char *src, uint8_t out[16])
{
	size_t len = strlen(src);
	uint16_t words[8];
	int gap = -1, i = 0, nset = 0;
	const char *dot, *eow;

	/* A needless trailing ':' ("1:2:3:4:5:6:7:") is refused. */
	if (len > 2 && src[len - 1] == ':' && src[len - 2] != ':')
		return 0;
	memset(words, 0, sizeof(words));
	dot = strchr(src, '.');
	if (dot == src)
		return 0;
	if (dot == NULL) {
		eow = src + len;
	} else {
		unsigned v[4];
		int lead0;

		for (eow = dot - 1; eow > src && is_digit(*eow); --eow)
			;
		if (*eow != ':')
			return 0;
		++eow;
		if (!scan_dotted(eow, v, &lead0))
			return 0;
		if (v[0] > 255 || v[1] > 255 || v[2] > 255 || v[3] > 255)
			return 0;
		words[6] = (uint16_t)(v[0] << 8 | v[1]);
		words[7] = (uint16_t)(v[2] << 8 | v[3]);
		nset += 2;
	}

	while (src < eow) {
		if (i > 7)
			return 0;
		if (is_xdigit(*src)) {
			/*
			 * tor uses strtol(src, &next, 16), which would also
			 * take a "0x" prefix; it then refuses any word whose
			 * second character is not a hex digit, and any word
			 * longer than four characters.  Reading hex digits
			 * directly gives the same answers.
			 */
			const char *p = src;
			long r = 0;

			while (is_xdigit(*p) && p - src <= 4)
				r = r * 16 + xval(*p++);
			if (p - src > 4)
				return 0;
			if (*p == 'x' || *p == 'X') {
				/* "0x..." : strtol reads it, tor refuses it */
				return 0;
			}
			words[i++] = (uint16_t)r;
			nset++;
			src = p;
			if (*src != ':' && src != eow)
				return 0;
			++src;
		} else if (*src == ':' && i > 0 && gap == -1) {
			gap = i;
			++src;
		} else if (*src == ':' && i == 0 && src + 1 < eow &&
			   src[1] == ':' && gap == -1) {
			gap = i;
			src += 2;
		} else {
			return 0;
		}
	}

	if (nset > 8 || (nset == 8 && gap != -1) || (nset < 8 && gap == -1))
		return 0;
	if (gap >= 0) {
		int nmove = nset - (dot != NULL ? 2 : 0) - gap;
		int gaplen = 8 - nset;

		if (nmove < 0)
			return 0;
		memmove(&words[gap + gaplen], &words[gap],
		    sizeof(uint16_t) * (size_t)nmove);
		memset(&words[gap], 0, sizeof(uint16_t) * (size_t)gaplen);
	}
	for (i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(words[i] >> 8);
		out[2 * i + 1] = (uint8_t)(words[i] & 0xff);
	}
	return 1;
}

int
ew_addr_parse(const char *s, struct ew_addr *out)
{
	char tmp[EW_ADDR_STRLEN + 2];
	size_t n = strlen(s);

	memset(out, 0, sizeof(*out));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return 0;
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		if (ew_addr_parse6(tmp, out->b)) {
			out->family = EW_AF_INET6;
			return 1;
		}
		return 0;
	}
	if (ew_addr_parse6(s, out->b)) {
		out->family = EW_AF_INET6;
		return 1;
	}
	memset(out->b, 0, sizeof(out->b));
	if (ew_addr_parse4(s, out->b)) {
		out->family = EW_AF_INET;
		return 1;
	}
	return 0;
}

static size_t
format6(const uint8_t *a, char *buf, size_t cap)
{
	uint16_t w[8];
	int i, best = -1, bestlen = 0, cur, curlen;
	size_t n = 0;

	for (i = 0; i < 8; i++)
		w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 &&
	    ((w[5] == 0 && w[6] && w[7]) || w[5] == 0xffff)) {
		if (w[5] == 0)
			return (size_t)snprintf(buf, cap, "::%d.%d.%d.%d",
			    a[12], a[13], a[14], a[15]);
		return (size_t)snprintf(buf, cap, "::%x:%d.%d.%d.%d", w[5],
		    a[12], a[13], a[14], a[15]);
	}
	i = 0;
	while (i < 8) {
		if (w[i] == 0) {
			cur = i++;
			curlen = 1;
			while (i < 8 && w[i] == 0) {
				i++;
				curlen++;
			}
			if (curlen > bestlen) {
				best = cur;
				bestlen = curlen;
			}
		} else {
			i++;
		}
	}
	if (bestlen <= 1)
		best = -1;
	buf[0] = '\0';
	for (i = 0; i < 8; i++) {
		if (w[i] == 0 && best == i) {
			if (i == 0)
				n += (size_t)snprintf(buf + n, cap - n, ":");
			n += (size_t)snprintf(buf + n, cap - n, ":");
			while (i < 8 && w[i] == 0)
				i++;
			i--;
		} else {
			n += (size_t)snprintf(buf + n, cap - n, "%x%s",
			    (unsigned)w[i], i != 7 ? ":" : "");
		}
	}
	return n;
}

size_t
ew_addr_format(const struct ew_addr *a, int brackets, char *out, size_t cap)
{
	char tmp[EW_ADDR_STRLEN];
	size_t n;

	if (cap == 0)
		return 0;
	switch (a->family) {
	case EW_AF_INET:
		n = (size_t)snprintf(out, cap, "%d.%d.%d.%d", a->b[0], a->b[1],
		    a->b[2], a->b[3]);
		break;
	case EW_AF_INET6:
		format6(a->b, tmp, sizeof(tmp));
		if (brackets)
			n = (size_t)snprintf(out, cap, "[%s]", tmp);
		else
			n = (size_t)snprintf(out, cap, "%s", tmp);
		break;
	default:
		n = (size_t)snprintf(out, cap, "<unset>");
	}
	return n < cap ? n : cap - 1;
}

void
ew_addr_set4(struct ew_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = EW_AF_INET;
	a->b[0] = (uint8_t)(v >> 24);
	a->b[1] = (uint8_t)(v >> 16);
	a->b[2] = (uint8_t)(v >> 8);
	a->b[3] = (uint8_t)v;
}

uint32_t
ew_addr_get4(const struct ew_addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 |
	       (uint32_t)a->b[2] << 8 | a->b[3];
}

int
ew_addr_is_null(const struct ew_addr *a)
{
	static const uint8_t zero[16];

	switch (a->family) {
	case EW_AF_INET:
		return memcmp(a->b, zero, 4) == 0;
	case EW_AF_INET6:
		return memcmp(a->b, zero, 16) == 0;
	default:
		return 1;
	}
}

static int
v4_internal(uint32_t v)
{
	return (v >> 24) == 10 || (v >> 24) == 127 || (v >> 24) == 0 ||
	       (v >> 16) == 0xa9fe || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8;
}

int
ew_addr_is_internal(const struct ew_addr *a)
{
	const uint8_t *b = a->b;
	uint32_t w0, w3;

	if (a->family == EW_AF_INET)
		return v4_internal(ew_addr_get4(a));
	if (a->family != EW_AF_INET6)
		return 1; /* tor: a non-IP address counts as internal */
	w3 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
	     (uint32_t)b[14] << 8 | b[15];
	if (ew_addr_is_v4(a)) /* ::ffff:a.b.c.d is judged as a.b.c.d */
		return v4_internal(w3);
	w0 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	     b[3];
	if ((w0 & 0xfe000000) == 0xfc000000 || /* fc00::/7 unique local */
	    (w0 & 0xffc00000) == 0xfe800000 || /* fe80::/10 link-local */
	    (w0 & 0xffc00000) == 0xfec00000)   /* fec0::/10 site-local */
		return 1;
	/* ::/127: unspecified and loopback */
	if (w0 == 0 && memcmp(b + 4, "\0\0\0\0\0\0\0\0", 8) == 0 &&
	    (w3 & 0xfffffffe) == 0)
		return 1;
	return 0;
}

int
ew_addr_is_multicast(const struct ew_addr *a)
{
	if (a->family == EW_AF_INET)
		return (a->b[0] & 0xf0) == 0xe0;
	if (a->family == EW_AF_INET6)
		return a->b[0] == 0xff;
	return 0;
}

int
ew_addr_is_v4(const struct ew_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (a->family == EW_AF_INET)
		return 1;
	if (a->family == EW_AF_INET6)
		return memcmp(a->b, mapped, 12) == 0;
	return 0;
}

int
ew_addr_prefix_eq(
    const struct ew_addr *a, const struct ew_addr *b, unsigned bits)
{
	unsigned full, rest, width;

	if (a->family != b->family)
		return 0;
	width = ew_addr_bits(a);
	if (bits > width)
		bits = width;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(a->b, b->b, full) != 0)
		return 0;
	if (rest != 0) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		if ((a->b[full] & m) != (b->b[full] & m))
			return 0;
	}
	return 1;
}

unsigned
ew_addr_bits(const struct ew_addr *a)
{
	return a->family == EW_AF_INET    ? 32
	       : a->family == EW_AF_INET6 ? 128
					  : 0;
}

/* addr_mask_get_bits: the prefix length of a contiguous netmask, or -1. */
static int
netmask_bits(uint32_t m)
{
	int i;

	for (i = 0; i <= 32; i++) {
		if (m == (i == 0 ? 0 : ~(uint32_t)0 << (32 - i)))
			return i;
	}
	return -1;
}

/* The longest mask text we read (tor's MAX_ADDRESS_LENGTH). */
#define EW_MASK_MAXLEN 80

int
ew_prefix_mask(
    const char *s, size_t n, int flags, const struct ew_addr *a, unsigned *bits)
{
	char tmp[EW_MASK_MAXLEN + 1], *end;
	unsigned width = ew_addr_bits(a);
	uint64_t v;
	uint8_t m4[4];
	int b;

	if (!(flags & EW_PREFIX_TOR)) {
		if (ew_parse_uint(s, n, 0, UINT64_MAX, &v) != 0)
			return EW_PREFIX_EMASK;
		if (v > width)
			return EW_PREFIX_ERANGE;
		*bits = (unsigned)v;
		return 0;
	}
	if (n >= sizeof(tmp))
		return EW_PREFIX_EMASK;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* tor casts strtol's long to int before checking the range */
	b = (int)strtol(tmp, &end, 10);
	if (*end == '\0') {
		if (b < 0 || b > 128 || (a->family == EW_AF_INET && b > 32))
			return EW_PREFIX_ERANGE;
	} else if (ew_addr_parse4(tmp, m4)) {
		b = netmask_bits((uint32_t)m4[0] << 24 | (uint32_t)m4[1] << 16 |
				 (uint32_t)m4[2] << 8 | m4[3]);
		if (b < 0)
			return EW_PREFIX_ENOTPREFIX;
	} else {
		return EW_PREFIX_EMASK;
	}
	if (a->family == EW_AF_INET6 && ew_addr_is_v4(a)) {
		if (b > 32 && b < 96)
			return EW_PREFIX_EMAPPED;
		b = 96 + b % 32;
	}
	*bits = (unsigned)b;
	return 0;
}

int
ew_prefix_parse(
    const char *s, size_t n, int flags, struct ew_addr *a, unsigned *bits)
{
	char tmp[EW_ADDR_STRLEN + 2];
	const char *slash = memchr(s, '/', n);
	size_t an = slash != NULL ? (size_t)(slash - s) : n;

	memset(a, 0, sizeof(*a));
	if (an == 0 || an >= sizeof(tmp))
		return EW_PREFIX_EADDR;
	memcpy(tmp, s, an);
	tmp[an] = '\0';
	if (!ew_addr_parse(tmp, a))
		return EW_PREFIX_EADDR;
	*bits = ew_addr_bits(a);
	if (slash == NULL)
		return 0;
	return ew_prefix_mask(slash + 1, n - an - 1, flags, a, bits);
}

void
ew_addr_mask(struct ew_addr *a, unsigned bits)
{
	unsigned i, w = ew_addr_bits(a);

	for (i = bits; i < w; i++)
		a->b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}
