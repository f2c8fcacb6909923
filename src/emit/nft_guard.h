/*
 * nft_guard.h - the surge guards' part of the table (nft_guard.c), for
 * nft_text.c only.
 */
#ifndef EW_EMIT_NFT_GUARD_H
#define EW_EMIT_NFT_GUARD_H

#include "emit/nft.h"
#include "lib/buf.h"
#include "policy/policy.h"

/*
 * The guards of p: their declarations and chains (chain "guards"
 * included) to out, the output chain's jumps to "guards" for the uid
 * o->uid (and p's exit bind addresses) to hook, and the surge-block
 * checks for the head of the relay's rules chain to top.  Nothing
 * without guards.  out and top depend on the guard lines and o->seed
 * only, hook on the relay.  Out of memory: out->oom set.
 */
void ew_nft_emit_guards(const struct ew_policy *p, const struct ew_nft_opts *o,
    struct ew_buf *out, struct ew_buf *hook, struct ew_buf *top);

/*
 * "timeout 264d3h2s": a time in days, hours, minutes and seconds, as
 * every timeout of the table is written (nft 1.0.6 refuses a plain
 * seconds count of 2^31 and more, "value too large", not the same time
 * in units).
 */
void ew_nft_put_timeout(struct ew_buf *b, int64_t t);

#endif
