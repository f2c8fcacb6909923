/*
 * item.c - one tor exit-policy pattern, parsed exactly as tor 0.4.9 does
 * (router_parse_addr_policy, tor_addr_parse_mask_ports, parse_port_range).
 *
 * The leniencies are tor's and are kept on purpose: text between ']' and
 * the next '/' or ':' is ignored, a mask goes through strtol (sign,
 * leading zeros, int truncation), an empty mask is /0, text after a port
 * range's second number is ignored.  See docs/tor-exit-policy.md in the
 * shared reference, section 3.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

/* tor's MAX_ADDRESS_LENGTH for a pattern. */
#define EW_PAT_MAXLEN 80

/* Record an error at bytes [first, last] of the pattern; evaluates to -1. */
#define fail(e_, f_, l_, ...)                                                  \
	(snprintf((e_)->detail, sizeof((e_)->detail), __VA_ARGS__),            \
	    (e_)->msg = NULL, (e_)->first = (f_), (e_)->last = (l_), -1)

static char *
find(const char *s, size_t from, size_t n, char c)
{
	const char *p = memchr(s + from, c, n - from);

	return (char *)p;
}

int
ew_pat_split(
    const char *s, size_t n, struct ew_pat_parts *pp, struct ew_pat_err *err)
{
	const char *rb = NULL, *mask, *port;
	size_t a_start = 0, a_end;

	if (n > EW_PAT_MAXLEN)
		return fail(err, 0, n - 1,
		    "pattern is longer than %s characters (tor refuses it)",
		    "80");
	if (n > 0 && s[0] == '[') {
		a_start = 1;
		rb = find(s, 1, n, ']');
		if (rb == NULL)
			return fail(err, 0, n - 1, "%s",
			    "no closing ']' after the IPv6 address");
	}
	mask = find(s, rb != NULL ? (size_t)(rb - s) : 0, n, '/');
	port = find(s,
	    mask != NULL ? (size_t)(mask - s)
	    : rb != NULL ? (size_t)(rb - s)
			 : 0,
	    n, ':');
	if (rb != NULL)
		a_end = (size_t)(rb - s);
	else if (mask != NULL)
		a_end = (size_t)(mask - s);
	else if (port != NULL)
		a_end = (size_t)(port - s);
	else
		a_end = n;
	pp->a_off = a_start;
	pp->a_len = a_end - a_start;
	if (mask != NULL) {
		pp->m_off = (size_t)(mask - s) + 1;
		pp->m_len = (port != NULL ? (size_t)(port - s) : n) - pp->m_off;
	} else {
		pp->m_off = 0;
		pp->m_len = SIZE_MAX;
	}
	if (port != NULL) {
		pp->p_off = (size_t)(port - s) + 1;
		pp->p_len = n - pp->p_off;
	} else {
		pp->p_off = 0;
		pp->p_len = SIZE_MAX;
	}
	return 0;
}

int
ew_pat_addr(const char *s, size_t n, int v6kw, struct ew_pat *pat, int *any,
    struct ew_pat_err *err)
{
	char tmp[EW_PAT_MAXLEN + 1];

	memset(&pat->addr, 0, sizeof(pat->addr));
	*any = 0;
	if (n >= sizeof(tmp))
		return fail(err, 0, n ? n - 1 : 0, "%s", "address is too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strcmp(tmp, "*") == 0) {
		/* accept6/reject6 "*" is IPv6 only; plain "*" is both. */
		pat->addr.family = v6kw ? EW_AF_INET6 : EW_AF_NONE;
		*any = 1;
	} else if (strcmp(tmp, "*4") == 0) {
		pat->addr.family = EW_AF_INET;
		*any = 1;
	} else if (strcmp(tmp, "*6") == 0) {
		pat->addr.family = EW_AF_INET6;
		*any = 1;
	} else if (ew_addr_parse6(tmp, pat->addr.b)) {
		pat->addr.family = EW_AF_INET6;
	} else if (ew_addr_parse4(tmp, pat->addr.b)) {
		pat->addr.family = EW_AF_INET;
	} else {
		return fail(
		    err, 0, n ? n - 1 : 0, "malformed address '%s'", tmp);
	}
	return 0;
}

/* The mask as tor reads it: lib's ew_prefix_mask (EW_PREFIX_TOR). */
int
ew_pat_mask(const char *s, size_t n, int any, struct ew_pat *pat,
    struct ew_pat_err *err)
{
	char tmp[EW_PAT_MAXLEN + 1];
	unsigned bits;

	if (n == SIZE_MAX) {
		/* No mask: /32, /128, or /0 for a wildcard. */
		pat->maskbits = any ? 0 : (uint8_t)ew_addr_bits(&pat->addr);
		return 0;
	}
	if (n >= sizeof(tmp))
		return fail(err, 0, n - 1, "%s", "mask is too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	switch (ew_prefix_mask(s, n, EW_PREFIX_TOR, &pat->addr, &bits)) {
	case 0:
		break;
	case EW_PREFIX_ERANGE:
		return fail(err, 0, n ? n - 1 : 0, "bad mask length '%s'", tmp);
	case EW_PREFIX_ENOTPREFIX:
		return fail(err, 0, n - 1, "netmask '%s' is not a prefix", tmp);
	case EW_PREFIX_EMAPPED:
		return fail(err, 0, n ? n - 1 : 0,
		    "mask /%s is not allowed on an IPv4-mapped address "
		    "(use 0-32 or 96-128)",
		    tmp);
	default:
		return fail(err, 0, n - 1, "malformed mask '%s'", tmp);
	}
	if (any)
		return fail(err, 0, n ? n - 1 : 0,
		    "a wildcard address cannot have a mask%s", "");
	pat->maskbits = (uint8_t)bits;
	return 0;
}

int
ew_pat_net(const char *s, size_t n, struct ew_pat *pat, struct ew_pat_err *err)
{
	const char *slash, *a = s, *end = s + n;
	size_t an;
	int any;

	memset(pat, 0, sizeof(*pat));
	slash = memchr(s, '/', n);
	an = slash != NULL ? (size_t)(slash - s) : n;
	if (an >= 2 && s[0] == '[' && s[an - 1] == ']') {
		a = s + 1;
		an -= 2;
	}
	if (an == 0 || an >= EW_ADDR_STRLEN)
		return fail(err, 0, n ? n - 1 : 0, "malformed address '%.*s'",
		    (int)(n < 60 ? n : 60), s);
	if (ew_pat_addr(a, an, 0, pat, &any, err) < 0) {
		err->first += (size_t)(a - s);
		err->last += (size_t)(a - s);
		return -1;
	}
	if (any)
		return fail(err, 0, an - 1,
		    "a table cannot hold a wildcard ('%.*s')", (int)an, a);
	if (ew_pat_mask(slash != NULL ? slash + 1 : NULL,
		slash != NULL ? (size_t)(end - slash - 1) : SIZE_MAX, 0, pat,
		err) < 0) {
		if (slash != NULL) {
			err->first += (size_t)(slash - s) + 1;
			err->last += (size_t)(slash - s) + 1;
		}
		return -1;
	}
	return 0;
}

/* tor_parse_long(s, 10, 1, 65535, &ok, &end). */
static int
port_num(const char *s, char **end)
{
	long v;

	errno = 0;
	v = strtol(s, end, 10);
	if (errno == ERANGE || *end == s || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

int
ew_pat_ports(
    const char *s, size_t n, uint16_t *lo, uint16_t *hi, struct ew_pat_err *err)
{
	char tmp[EW_PAT_MAXLEN + 1], *end, *end2;
	int a, b;

	if (n == SIZE_MAX || n == 0 || (n == 1 && s[0] == '*')) {
		*lo = 1;
		*hi = 65535;
		return 0;
	}
	if (n >= sizeof(tmp)) {
		/* Only `private:` patterns get here: no length limit. */
		char *big = malloc(n + 1);
		int r;

		if (big == NULL)
			return fail(err, 0, n - 1, "%s", "out of memory");
		memcpy(big, s, n);
		big[n] = '\0';
		a = port_num(big, &end);
		r = 0;
		if (a < 0 || (*end != '-' && *end != '\0'))
			r = -1;
		else if (*end == '-')
			b = port_num(end + 1, &end2);
		else
			b = a;
		free(big);
		if (r < 0 || b < 0)
			return fail(err, 0, n - 1, "%s", "malformed port");
		if (a > b)
			return fail(
			    err, 0, n - 1, "%s", "port range is reversed");
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
		return 0;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	a = port_num(tmp, &end);
	if (a < 0)
		return fail(err, 0, n - 1, "malformed port '%s'", tmp);
	if (*end == '-') {
		/* tor ignores whatever follows the second number. */
		b = port_num(end + 1, &end2);
		if (b < 0)
			return fail(err,
			    (size_t)(end - tmp) + 1 < n
				? (size_t)(end - tmp) + 1
				: n - 1,
			    n - 1, "malformed port '%s'", end + 1);
	} else if (*end != '\0') {
		return fail(err, 0, n - 1, "malformed port '%s'", tmp);
	} else {
		b = a;
	}
	if (a > b)
		return fail(err, 0, n - 1, "port range '%s' is reversed", tmp);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int
ew_pat_parse(const char *s, size_t n, int v6kw, struct ew_pat *pat,
    struct ew_pat_err *err)
{
	struct ew_pat_parts pp;
	int any;

	memset(pat, 0, sizeof(*pat));
	if (n >= 7 && memcmp(s, "private", 7) == 0) {
		/* router_parse_addr_policy_private: "private" then ':'. */
		if (n == 7 || s[7] != ':')
			return fail(err, 0, n - 1, "%s",
			    "'private' must be followed by ':' and ports");
		pat->is_private = 1;
		if (ew_pat_ports(s + 8, n - 8, &pat->pmin, &pat->pmax, err)) {
			err->first += 8;
			err->last += 8;
			return -1;
		}
		return 0;
	}
	if (ew_pat_split(s, n, &pp, err))
		return -1;
	if (ew_pat_addr(s + pp.a_off, pp.a_len, v6kw, pat, &any, err))
		goto shift_a;
	if (ew_pat_mask(s + pp.m_off, pp.m_len, any, pat, err)) {
		err->first += pp.m_off;
		err->last += pp.m_off;
		return -1;
	}
	if (ew_pat_ports(s + pp.p_off, pp.p_len, &pat->pmin, &pat->pmax, err)) {
		err->first += pp.p_off;
		err->last += pp.p_off;
		return -1;
	}
	return 0;
shift_a:
	err->first += pp.a_off;
	err->last += pp.a_off;
	return -1;
}

#define P4(a, b, c, d, m)                                                      \
	{                                                                      \
		{ EW_AF_INET, { a, b, c, d } }, m, 0, 1, 65535                 \
	}
#define P6(a, b, m)                                                            \
	{                                                                      \
		{ EW_AF_INET6, { a, b } }, m, 0, 1, 65535                      \
	}

/* private_nets[] in policies.c, in tor's order. */
const struct ew_pat ew_private_nets[EW_NPRIVATE] = {
	P4(0, 0, 0, 0, 8),
	P4(169, 254, 0, 0, 16),
	P4(127, 0, 0, 0, 8),
	P4(192, 168, 0, 0, 16),
	P4(10, 0, 0, 0, 8),
	P4(172, 16, 0, 0, 12),
	P6(0x00, 0x00, 8),
	P6(0xfc, 0x00, 7),
	P6(0xfe, 0x80, 10),
	P6(0xfe, 0xc0, 10),
	P6(0xff, 0x00, 8),
	P6(0x00, 0x00, 127),
};
