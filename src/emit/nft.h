/*
 * nft.h - the kernel backstop: the expanded policy as the nftables
 * ruleset of one table of our own, "table inet exitwarden", and loading,
 * reading and deleting that table through libnftables.
 *
 * What the table enforces.  The relay's TCP connection attempts (SYN
 * without ACK on the output hook, for one uid: meta skuid) go through
 * the policy's own rules in policy order, first match wins: accept ends
 * the table's evaluation, reject answers with a TCP reset.  Only items
 * of the policy's rules are emitted: tor's private, own-address,
 * interface, default and reduced items, and a rule's catch-all "*:*"
 * (which would also cut the relay's own OR and directory connections,
 * made by the same uid), are tor's alone.  What the kernel rejects is
 * therefore always a subset of what tor rejects.
 *
 * Consecutive items of one rule with one action are grouped by port
 * range; their addresses are merged into disjoint intervals (nft refuses
 * overlapping ones) and, when more than a few, put in a named interval
 * set (type ipv4_addr / ipv6_addr, flags interval) referenced by one
 * rule; port ranges with the same addresses share that rule.  No
 * concatenated (address . port) set is ever emitted.  Every source rule
 * has a named counter named from its identity (ew_nft_rule_names:
 * "r" and a hash of its text, ticket and file, never its position, so
 * it keeps its name when other rules come and go), declared in the
 * table with the rule's text as its comment; its sets are named after
 * it ("NAME_v4_0").  An expiring rule's
 * addresses go in a set with element timeouts as a backstop (the policy
 * stays the truth: re-apply to drop them on time; expiries over ten
 * years away get none).  Never a logging statement.
 *
 * The text starts by creating and deleting the table, so loading it in
 * one transaction replaces ours atomically and touches nothing else.
 *
 * Big tables: nft 1.0.6 fetches every element of an interval set before
 * it changes one (minutes at 1M), and the kernel rebuilds a set's lookup
 * array on every commit that changes it (O(n)).  So big IPv4 sets are
 * sharded by /4 (EW_NFT_SHARD_MIN), and element changes go over netlink
 * (nft_netlink.c): one element in a 1M-element table costs ~10 ms.
 * ew_nft_diff finds the element changes between two emitted rulesets.
 */
#ifndef EW_EMIT_NFT_H
#define EW_EMIT_NFT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "policy/policy.h"

#define EW_NFT_FAMILY "inet"
#define EW_NFT_TABLE "exitwarden"

/* Groups with more address intervals than this use a named set. */
#define EW_NFT_INLINE_MAX 4
/*
 * IPv4 groups with more intervals than this are sharded by the top four
 * bits of the address: set and chain "NAME_sK" for each non-empty /4 K,
 * reached through one verdict map.  One-element updates then rebuild
 * one shard's lookup array, not the whole set's.
 */
#define EW_NFT_SHARD_MIN 16384
#define EW_NFT_SHARDS 16

/* Expiries further away than this (ten years) get no element timeout:
 * the rule stays until the policy is applied again. */
#define EW_NFT_TIMEOUT_MAX ((int64_t)3650 * 86400)

struct ew_nft_opts {
	uint32_t uid;  /* the relay's uid (meta skuid) */
	int64_t now;   /* for element timeouts of expiring rules */
	uint32_t seed; /* the guards' jhash seed: random for each load */
};

/* What a ruleset holds. */
struct ew_nft_stats {
	size_t rules;    /* nft rules in the policy chain */
	size_t sets;     /* named sets */
	size_t elements; /* set elements (disjoint intervals) */
	size_t counters; /* named counters (one per source rule) */
	size_t skipped;  /* expanded items left to tor alone */
};

/*
 * The name of each source rule's counter (and the stem of its sets):
 * *out[i] for rule i, "r" and 16 hex digits of a hash of the rule's
 * text, ticket and file name, "_2", "_3"... for the same identity again
 * (free *out).  0 or -ENOMEM.
 */
#define EW_NFT_NAME_MAX 32
int ew_nft_rule_names(const struct ew_policy *p, char (**out)[EW_NFT_NAME_MAX]);

/*
 * Append the ruleset for `e` (expanded from `p`) to `out`.  `st` may be
 * NULL.  Returns 0, or -ENOMEM (out->oom is then set too).
 */
int ew_nft_ruleset(const struct ew_policy *p, const struct ew_expanded *e,
    const struct ew_nft_opts *o, struct ew_buf *out, struct ew_nft_stats *st);

/*
 * The same ruleset kept for --state (nft_state.c): each IPv4 interval
 * set without timeouts holds its elements as an array of (lo, hi)
 * pairs, and the text a line "\t\t#elements K" (K: the array) where the
 * set's "elements = { ... }" block goes (or nothing, for none).  A
 * million-element table is then diffed as arrays and stored in a few
 * bytes an element, never formatted unless it is loaded whole:
 * ew_nft_compact_text gives exactly ew_nft_ruleset's text.
 */
struct ew_nft_packed {
	char *name;   /* the set */
	uint32_t *iv; /* n pairs: lo, hi (host order, inclusive) */
	size_t n;
};
struct ew_nft_compact {
	struct ew_buf text;
	struct ew_nft_packed *sets;
	size_t nsets;
};
int ew_nft_ruleset_compact(const struct ew_policy *p,
    const struct ew_expanded *e, const struct ew_nft_opts *o,
    struct ew_nft_compact *c, struct ew_nft_stats *st);
int ew_nft_compact_text(const struct ew_nft_compact *c, struct ew_buf *out);
void ew_nft_compact_free(struct ew_nft_compact *c);
/*
 * The state file (nft_state.c): a first line "# exitwarden nft state
 * 2", the text, and each array in a few printable bytes an element
 * (deltas, 5 bits a character).  ew_nft_state_read: 0, -EINVAL for
 * anything else (an older state holds the ruleset text: the caller
 * diffs that as text), -ENOMEM.
 */
int ew_nft_state_write(const struct ew_nft_compact *c, struct ew_buf *out);
int ew_nft_state_read(const char *s, size_t n, struct ew_nft_compact *c);
/*
 * ew_nft_diff for two compact rulesets: the texts through ew_nft_diff,
 * the arrays merged; the same changes as ew_nft_diff of their texts
 * (deletions, then additions).
 */
struct ew_nft_diff;
int ew_nft_compact_diff(const struct ew_nft_compact *old,
    const struct ew_nft_compact *cur, struct ew_nft_diff *d);

/*
 * Several relays on one host (up to 8 may share an exit address, each
 * tor instance with its own uid): one table, each relay's policy in its
 * own chain "IDrules" with its own counters "IDrN" and sets "IDrN_..."
 * (ID from ew_nft_relay_ident), and one verdict map "relays" from the
 * socket's uid to that chain:
 *
 *	map relays { type uid : verdict; elements = { 105 : jump a_rules,
 *	    106 : jump b_rules } }
 *	chain output { ... tcp flags & (syn | ack) == syn meta skuid
 *	    vmap @relays }
 *
 * The whole table is one text, so one load replaces every relay's
 * rules in one transaction: all or none.  One relay gives exactly
 * ew_nft_ruleset's text (uid from the relay).  Names that make the same
 * ID, or two relays with one uid: -EEXIST; a name that cannot make an
 * ID: -EINVAL.
 *
 * Surge guards are the host's (a complaint names the host's address,
 * whichever relay made the flood): their counters, sets and chains
 * (named as for one relay, "g_NAME_...", chain "guards") are declared
 * once; every relay whose policy has guard lines gets its own jumps to
 * "guards" in chain output (its uid, and its OutboundBindAddressExit
 * when set) and the surge-block checks at the head of its own rules
 * chain, so one guard counts the new connections of all of them.  A
 * relay without guard lines gets neither.  Relays that declare guards
 * must declare the same ones (the same guard and "guards allow" lines,
 * so the same declarations and checks byte for byte): else -ENOTSUP,
 * and ew_nft_relays_guards_differ names two that differ.
 */
struct ew_nft_relay {
	const char *name; /* the relay's name ("198.51.100.10_9000") */
	uint32_t uid;
	const struct ew_policy *p;
	const struct ew_expanded *e;
};
int ew_nft_ruleset_relays(const struct ew_nft_relay *v, size_t n,
    const struct ew_nft_opts *o, struct ew_buf *out, struct ew_nft_stats *st);
/*
 * 1 when two of the relays v[0..n) that declare guards declare different
 * ones (*a and *b set to the first such pair, *a < *b), 0 when they
 * agree (or fewer than two declare any), -ENOMEM.
 */
int ew_nft_relays_guards_differ(const struct ew_nft_relay *v, size_t n,
    const struct ew_nft_opts *o, size_t *a, size_t *b);
/*
 * A relay's name as the prefix of its nft names: letters, digits and
 * '_' kept, '.', '-', ':' made '_', "relay_" before a name that does not
 * start with a letter, '_' after it ("198.51.100.10_9000" is
 * "relay_198_51_100_10_9000_").  0, or -EINVAL (another character, empty,
 * over 64 bytes, or cap too small).
 */
int ew_nft_relay_ident(const char *name, char *out, size_t cap);

/*
 * Surge guards (the policy's "guard" lines), emitted by ew_nft_ruleset
 * into the same table.  For a guard NAME:
 *
 *	set g_NAME_rate	hash buckets (jhash of the destination address,
 *			masked to the guard's prefix, and port, mod 2^20,
 *			salted with opts.seed) with a token bucket each;
 *			no address is kept for normal traffic
 *	set g_NAME_s4, g_NAME_s6
 *			the surges: destinations (address or prefix, and
 *			port) over the threshold, with a timeout of minutes
 *	counter g_NAME_over	new connections over the threshold
 *	counter g_NAME_surges	surges started (elements added)
 *	counter g_NAME_overflow	connections or surges not recorded
 *				because a set was full (it fails open)
 *	set g_NAME_b4, g_NAME_b6
 *			surge blocks added in place by the daemon (an
 *			element with the block's timeout), checked first
 *			in chain "rules" (reject with tcp reset, counter
 *			g_NAME_blocked): a new block changes one element,
 *			not the table, so the buckets and counters stay.
 *			Loaded empty: a full load carries the blocks in
 *			force as the policy's own rules.
 *
 * Chain "guards" sees the relay's new connections (ct state new, the
 * first SYN, meta skuid, and the OutboundBindAddressExit source when
 * set) before the policy's rules, and only counts and records: no
 * verdict, except with "damp" (reject with icmpx admin-prohibited for a
 * destination in the surge set).  Never a logging statement.
 */
#define EW_NFT_GUARD_HASH 1048576 /* 2^20 buckets of the jhash */
/* The guard's surge-set names ("g_NAME_s4"), for the daemon. */
void ew_nft_guard_set(const char *guard, int family, char *out, size_t cap);
/* The guard's surge-block-set names ("g_NAME_b4"). */
void ew_nft_guard_block_set(
    const char *guard, int family, char *out, size_t cap);

/* The text that deletes our table, and succeeds when there is none. */
void ew_nft_flush_text(struct ew_buf *out);

/*
 * nft_apply.c: libnftables.  Nothing here prints: nftables' own output
 * and error messages are captured and returned in `err`.
 */

/* Load a ruleset text in one transaction; with dry_run, only check it
 * (parse, evaluate and let the kernel validate, commit nothing).  A
 * rule counter the table has now (ew_nft_rule_names: a rule's identity)
 * keeps its packets and bytes: they are read first and written into
 * the new declaration (what is counted between the two is lost).
 * 0, or -EINVAL with nft's messages in err (-ENOMEM, -ENOSYS: no
 * libnftables in this build). */
int ew_nft_load(const char *text, int dry_run, struct ew_buf *err);
/*
 * The same, saying how: a first load of a table with at least
 * EW_NFT_DIRECT_MIN set elements goes in two transactions, the
 * elements over netlink (ew_nft_split below).
 */
#define EW_NFT_DIRECT_MIN 4096
struct ew_nft_load_info {
	int split;          /* loaded in two transactions */
	size_t direct;      /* elements sent over netlink */
	double skeleton_ms; /* transaction 1 (libnftables) */
	double netlink_ms;  /* transaction 2 */
};
int ew_nft_load_ex(const char *text, int dry_run, struct ew_nft_load_info *li,
    struct ew_buf *err);

/* Delete our table (no error when it does not exist). */
int ew_nft_flush(int dry_run, struct ew_buf *err);

/* One named counter of our table. */
struct ew_nft_counter {
	char *name;    /* "r12" */
	char *comment; /* the rule text as emitted, or NULL */
	uint64_t packets, bytes;
};

/* Read our counters.  0 with *v (free with ew_nft_counters_free) and
 * *n; -ENOENT when our table does not exist; -EINVAL with messages. */
int ew_nft_counters(struct ew_nft_counter **v, size_t *n, struct ew_buf *err);
void ew_nft_counters_free(struct ew_nft_counter *v, size_t n);

/*
 * Add (add != 0) or delete elements of one of our named sets through
 * libnftables: `elems` is nft element text ("1.2.3.4, 10.0.0.0/8").
 */
int ew_nft_set_elements(const char *set, int add, const char *elems,
    int dry_run, struct ew_buf *err);

/*
 * nft_netlink.c: one-element (or few-element) updates of one of our
 * interval sets over nf_tables netlink, without the element dump nft
 * 1.0.6 does first (seconds at 100k elements, minutes at 1M).  One
 * transaction.  The kernel refuses overlapping intervals (EEXIST) and
 * missing ones (ENOENT).
 */
struct ew_nft_elem {
	struct ew_addr lo, hi; /* one family; lo <= hi */
};

/* "192.0.2.0/24", "2001:db8::1", "192.0.2.3-192.0.2.9": 0, or -EINVAL. Elements
 * go to `set` or, when it does not exist, to its /4 shards (EW_NFT_SHARD_MIN),
 * in one transaction; an element wider than a shard is refused. */
int ew_nft_elem_parse(const char *s, struct ew_nft_elem *out);
int ew_nft_set_update(const char *set, int add, const struct ew_nft_elem *v,
    size_t n, struct ew_buf *err);

/* One element change of a named set (the exact set name). */
struct ew_nft_op {
	const char *set;
	int add; /* 1: add, 0: delete */
	struct ew_nft_elem e;
};

/* Any element changes, in order, in one transaction. */
int ew_nft_batch(const struct ew_nft_op *ops, size_t n, struct ew_buf *err);

/*
 * The elements of one of our guards' surge sets (a concatenation of an
 * address and a port), read over netlink (one dump request): what the
 * daemon turns into blocks.  *v is freed with free().  -ENOENT when
 * there is no such set.
 */
struct ew_nft_surge {
	struct ew_addr addr; /* the address or prefix, host bits zero */
	uint16_t port;
	int64_t expires_ms; /* time left before the kernel drops it */
};
int ew_nft_surges(const char *set, int family, struct ew_nft_surge **v,
    size_t *n, struct ew_buf *err);

/* 0 when our table exists, -ENOENT when not (one netlink request). */
int ew_nft_table_exists(struct ew_buf *err);

/*
 * A first load of a big table (no table of ours yet) in two
 * transactions that keep it all or nothing: libnftables parses and
 * evaluates a million elements of text slowly (half of a first load),
 * while the kernel takes them in a netlink batch in a fraction of that.
 *
 *  1. libnftables loads the skeleton: "create table" (it fails if a
 *     table of ours appeared meanwhile), every declaration and rule,
 *     the interval sets without timeouts declared empty, and each base
 *     chain's rules in a regular chain "ew_stage_NAME" that nothing
 *     reaches: nothing is hooked, the table does nothing.
 *  2. ew_nft_golive sends one batch: the sets' elements (as nft sends
 *     them: a start key, an end key hi + 1 flagged interval-end, a
 *     leading end key 0), each base chain made with its hook and the
 *     staged rules (their expressions read back from the kernel, so
 *     they are the ones libnftables made), the staging chains deleted.
 *     At its commit the table goes live whole.  When it fails, the
 *     caller deletes the table: nothing was there before.
 *
 * ew_nft_split takes an emitted text apart: 0, -EAGAIN when the text
 * is not of the shape it knows (load it as it is), -ENOMEM.  The table
 * listed afterwards equals the one the text loads (tests/nft/apply.sh).
 */
struct ew_nft_bigset {
	char *name;
	int family;    /* EW_AF_INET or EW_AF_INET6 */
	uint8_t *keys; /* n intervals: lo then hi (inclusive), 4 or 16 B each */
	size_t n;
};
enum ew_nft_hook {
	EW_NFT_HOOK_PREROUTING,
	EW_NFT_HOOK_INPUT,
	EW_NFT_HOOK_FORWARD,
	EW_NFT_HOOK_OUTPUT,
	EW_NFT_HOOK_POSTROUTING
};
struct ew_nft_basechain {
	char *name;  /* "output" */
	char *stage; /* "ew_stage_output": its rules in the skeleton */
	char *type;  /* "filter" */
	enum ew_nft_hook hook;
	int accept; /* policy accept (1) or drop (0) */
	int32_t prio;
};
struct ew_nft_split {
	struct ew_buf skel; /* the text of transaction 1 */
	struct ew_nft_bigset *sets;
	size_t nsets, elements;
	struct ew_nft_basechain *chains;
	size_t nchains;
};
int ew_nft_split(const char *text, struct ew_nft_split *sp);
void ew_nft_split_free(struct ew_nft_split *sp);
/* Transaction 2 (nft_netlink.c): 0; -EAGAIN when the skeleton is not
 * in the kernel any more (another load replaced it: load the text); or
 * the kernel's error in err, the skeleton's table (by its handle, not
 * one put in its place) deleted again. */
int ew_nft_golive(const struct ew_nft_split *sp, struct ew_buf *err);

/*
 * nft_diff.c: when two rulesets of ew_nft_ruleset differ only in the
 * elements of sets without timeouts, the changes from the old to the
 * new (deletions, then additions) for ew_nft_batch.  0 (n may be 0:
 * nothing changed), -EAGAIN when more than that changed (load the new
 * text instead, as for any line that differs outside the elements),
 * -EINVAL for an element line that is not one where the two texts
 * differ, -ENOMEM.  Equal element lines are passed over unparsed.
 */
struct ew_nft_diff {
	struct ew_nft_op *ops;
	size_t n, added, deleted;
	char **sets; /* owns the names ops[].set point to */
	size_t nsets;
};

int ew_nft_diff(
    const char *old_text, const char *new_text, struct ew_nft_diff *d);
void ew_nft_diff_free(struct ew_nft_diff *d);

#endif
