/*
 * compile.h - answering "may this exit connect to ADDR:PORT?" for an
 * expanded policy, with tor's four answers (tor-exit-policy.md section 7).
 *
 * ew_oracle_match() is tor's own algorithm, compare_tor_addr_to_addr_policy:
 * a first-match scan over the list.  It is the reference the compiled
 * matcher is tested against, and the baseline its benchmark measures.
 */
#ifndef EW_COMPILE_H
#define EW_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "policy/policy.h"

enum ew_verdict {
	EW_ACCEPTED,
	EW_REJECTED,
	EW_PROBABLY_ACCEPTED,
	EW_PROBABLY_REJECTED,
};

/* No item decided: the answer is tor's default. */
#define EW_NO_ITEM SIZE_MAX

/* "accepted", "rejected", "probably_accepted", "probably_rejected". */
const char *ew_verdict_word(enum ew_verdict v);

/*
 * tor's compare_tor_addr_to_addr_policy over items[0..n): `addr` may be
 * NULL or have family EW_AF_NONE or be all zero (an unknown address);
 * port 0 is an unknown port.  *decider receives the index of the item
 * that decided, or EW_NO_ITEM.
 */
enum ew_verdict ew_oracle_match(const struct ew_item *items, size_t n,
    const struct ew_addr *addr, uint16_t port, size_t *decider);

/*
 * The compiled matcher: an expanded policy turned into an immutable
 * structure that answers exactly as ew_oracle_match does, in time that
 * does not grow with the number of items (compile_int.h has the layout).
 * The compiled policy borrows the expanded policy's items: free it
 * first.
 */
struct ew_compiled;

/* Also build the index that names the deciding item (ew_match_rule). */
#define EW_COMPILE_EXPLAIN 0x1

int ew_compile(
    const struct ew_expanded *e, unsigned flags, struct ew_compiled **out);
void ew_compiled_free(struct ew_compiled *c);

/* tor's answer for (addr, port); addr NULL or all zero is unknown. */
enum ew_verdict ew_match(
    const struct ew_compiled *c, const struct ew_addr *addr, uint16_t port);
/* The same for an IPv4 address in host order (0 is unknown). */
enum ew_verdict ew_match4(
    const struct ew_compiled *c, uint32_t addr, uint16_t port);
/* n answers at once (enum ew_verdict values in out[]), overlapping the
 * memory accesses of neighbouring queries. */
void ew_match_batch(const struct ew_compiled *c, size_t n,
    const struct ew_addr *addrs, const uint16_t *ports, uint8_t *out);
void ew_match4_batch(const struct ew_compiled *c, size_t n,
    const uint32_t *addrs, const uint16_t *ports, uint8_t *out);
/* ew_match, and the deciding item as ew_oracle_match names it (needs
 * EW_COMPILE_EXPLAIN; EW_NO_ITEM otherwise). */
enum ew_verdict ew_match_rule(const struct ew_compiled *c,
    const struct ew_addr *addr, uint16_t port, size_t *decider);

/* Bytes of the lookup structure (without the explain index). */
size_t ew_compiled_bytes(const struct ew_compiled *c);
size_t ew_compiled_intervals(const struct ew_compiled *c, int family);
size_t ew_compiled_classes(const struct ew_compiled *c);

#endif
