/*
 * oracle.c - tor's linear first-match evaluation, kept deliberately
 * naive: it is the specification the compiled matcher must equal.
 */
#include "compile/compile.h"

const char *
ew_verdict_word(enum ew_verdict v)
{
	switch (v) {
	case EW_ACCEPTED:
		return "accepted";
	case EW_REJECTED:
		return "rejected";
	case EW_PROBABLY_ACCEPTED:
		return "probably_accepted";
	case EW_PROBABLY_REJECTED:
		return "probably_rejected";
	}
	return "?";
}

static enum ew_verdict
decisive(int action, int maybe_accept, int maybe_reject)
{
	if (action == EW_ACCEPT)
		return maybe_reject ? EW_PROBABLY_ACCEPTED : EW_ACCEPTED;
	return maybe_accept ? EW_PROBABLY_REJECTED : EW_REJECTED;
}

enum ew_verdict
ew_oracle_match(const struct ew_item *v, size_t n, const struct ew_addr *addr,
    uint16_t port, size_t *decider)
{
	int maybe_accept = 0, maybe_reject = 0;
	size_t i;

	*decider = EW_NO_ITEM;
	if (addr == NULL || ew_addr_is_null(addr)) {
		/* compare_unknown_tor_addr_to_addr_policy */
		if (port == 0)
			return EW_REJECTED;
		for (i = 0; i < n; i++) {
			if (port < v[i].pmin || port > v[i].pmax)
				continue;
			if (v[i].maskbits == 0) {
				*decider = i;
				return decisive(
				    v[i].action, maybe_accept, maybe_reject);
			}
			if (v[i].action == EW_REJECT)
				maybe_reject = 1;
			else
				maybe_accept = 1;
		}
		return maybe_reject ? EW_PROBABLY_ACCEPTED : EW_ACCEPTED;
	}
	if (port == 0) {
		/* compare_known_tor_addr_to_addr_policy_noport */
		for (i = 0; i < n; i++) {
			if (!ew_addr_prefix_eq(addr, &v[i].addr, v[i].maskbits))
				continue;
			if (v[i].pmin <= 1 && v[i].pmax >= 65535) {
				*decider = i;
				return decisive(
				    v[i].action, maybe_accept, maybe_reject);
			}
			if (v[i].action == EW_REJECT)
				maybe_reject = 1;
			else
				maybe_accept = 1;
		}
		return maybe_reject ? EW_PROBABLY_ACCEPTED : EW_ACCEPTED;
	}
	/* compare_known_tor_addr_to_addr_policy */
	for (i = 0; i < n; i++) {
		if (port >= v[i].pmin && port <= v[i].pmax &&
		    ew_addr_prefix_eq(addr, &v[i].addr, v[i].maskbits)) {
			*decider = i;
			return v[i].action == EW_ACCEPT ? EW_ACCEPTED
							: EW_REJECTED;
		}
	}
	return EW_ACCEPTED;
}
