/*
 * addr.h - IPv4 and IPv6 addresses: parsing and printing exactly as tor
 * 0.4.9 does, and the address predicates tor's exit policy needs.
 *
 * An ew_addr is a family and 16 bytes in network order; IPv4 uses the
 * first four.  EW_AF_NONE is tor's AF_UNSPEC ("no address").
 *
 * The parsers follow tor's src/lib/net/inaddr.c: IPv4 is exactly four
 * dotted decimal fields of 1-3 digits, each <= 255, no leading zeros
 * (tor_inet_aton); IPv6 is tor_inet_pton (1-4 hex digits per group, one
 * "::", an optional dotted IPv4 tail, no trailing single ':').  The
 * printer is tor_inet_ntop: lowercase, longest zero run (first on ties,
 * at least two words) as "::", and "::a.b.c.d" / "::ffff:a.b.c.d" for
 * IPv4-compatible and IPv4-mapped addresses.
 */
#ifndef EW_LIB_ADDR_H
#define EW_LIB_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum {
	EW_AF_NONE = 0,
	EW_AF_INET = 4,
	EW_AF_INET6 = 6,
};

struct ew_addr {
	uint8_t family;
	uint8_t b[16];
};

/* Longest text ew_addr_format writes, with brackets and the NUL. */
#define EW_ADDR_STRLEN 48

/* tor_inet_aton: 1 on success (out written), 0 if not an IPv4 address. */
int ew_addr_parse4(const char *s, uint8_t out[4]);
/* tor_inet_pton(AF_INET6): 1 on success, 0 otherwise. */
int ew_addr_parse6(const char *s, uint8_t out[16]);
/*
 * An address as tor_addr_parse reads it: IPv6 (optionally in brackets)
 * or IPv4.  1 on success, 0 otherwise.  `s` is NUL-terminated.
 */
int ew_addr_parse(const char *s, struct ew_addr *out);

/* Print as tor_inet_ntop; brackets around IPv6 when `brackets`.
 * Returns the length written (always < EW_ADDR_STRLEN). */
size_t ew_addr_format(
    const struct ew_addr *a, int brackets, char *out, size_t cap);

void ew_addr_set4(struct ew_addr *a, uint32_t host_order);
uint32_t ew_addr_get4(const struct ew_addr *a);

/* tor_addr_is_null: no family, or all-zero bytes. */
int ew_addr_is_null(const struct ew_addr *a);
/* tor_addr_is_internal(a, 0): private, loopback, link-local, ... */
int ew_addr_is_internal(const struct ew_addr *a);
/* tor_addr_is_multicast. */
int ew_addr_is_multicast(const struct ew_addr *a);
/* tor_addr_is_v4: IPv4, or IPv6 in ::ffff:0:0/96. */
int ew_addr_is_v4(const struct ew_addr *a);

/*
 * tor_addr_compare_masked(a, b, bits, CMP_EXACT) == 0: same family and
 * the first `bits` bits equal.  Different families never agree.
 */
int ew_addr_prefix_eq(
    const struct ew_addr *a, const struct ew_addr *b, unsigned bits);

/* Width in bits of the family (32 or 128; 0 for EW_AF_NONE). */
unsigned ew_addr_bits(const struct ew_addr *a);

/*
 * The one address/prefix parser: "ADDR" or "ADDR/LEN" from the n bytes
 * at s, an IPv6 address also in brackets ("[2001:db8::]/32").  Without
 * a LEN, *bits is the family's width.
 *
 * By default LEN is decimal digits only, at most the width.  With
 * EW_PREFIX_TOR the mask is read as tor reads one in an exit policy
 * (tor_addr_parse_mask_ports): strtol's leniency (sign, leading zeros,
 * truncation to int), an empty mask is /0, a dotted IPv4 netmask
 * ("255.255.0.0") stands for its prefix length, and on an IPv4-mapped
 * IPv6 address a length of 0-32 counts in the IPv4 part (96 + LEN % 32;
 * 33-95 are refused).
 *
 * 0, or a negative EW_PREFIX_E* saying what is wrong.
 */
enum {
	EW_PREFIX_TOR = 1 << 0,
};
enum {
	EW_PREFIX_EADDR = -1,      /* not an address */
	EW_PREFIX_EMASK = -2,      /* not a mask */
	EW_PREFIX_ERANGE = -3,     /* a length beyond the family's width */
	EW_PREFIX_ENOTPREFIX = -4, /* a netmask that is not a prefix */
	EW_PREFIX_EMAPPED = -5,    /* 33-95 on an IPv4-mapped address */
};
int ew_prefix_parse(
    const char *s, size_t n, int flags, struct ew_addr *a, unsigned *bits);
/* The mask alone: the n bytes after the '/', for the address a. */
int ew_prefix_mask(const char *s, size_t n, int flags, const struct ew_addr *a,
    unsigned *bits);
/* Clear the bits of a past the first `bits`. */
void ew_addr_mask(struct ew_addr *a, unsigned bits);

#endif
