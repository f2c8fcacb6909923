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

#endif
