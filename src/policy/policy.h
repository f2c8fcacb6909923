/*
 * policy.h - the exit-policy language: parse, check, expand, print.
 *
 * A policy file is a superset of torrc (docs/exitwarden-policy.5): the
 * torrc options that shape a Tor exit policy, bare rule lines as in a
 * descriptor, and exitwarden's extensions (named port sets, address
 * tables, include, and per-rule reason / ticket / expiry).
 *
 * ew_policy_parse_*() reads a file into an ew_policy (the source form);
 * every problem is queued on the caller's diagnostics list with its
 * location, all of them before failing, and on failure nothing is
 * returned.  ew_policy_expand() turns it into the effective rule list
 * exactly as tor 0.4.9 builds it for its descriptor (assembly order,
 * "private" and "*" expansion, own and local addresses, default or
 * reduced tail, redundancy removal), given `now` for expiring rules and
 * the relay's interface addresses as parameters.  ew_policy_show()
 * prints the canonical source form; feeding it back in reproduces it.
 *
 * Nothing here reads the clock or the network, prints, or exits.
 */
#ifndef EW_POLICY_POLICY_H
#define EW_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct ew_buf;
struct ew_diag_list;
struct ew_policy;

/* No expiry. */
#define EW_NEVER INT64_MAX

enum ew_action {
	EW_ACCEPT = 1,
	EW_REJECT = 2,
};

/* Where an expanded item came from (tor's assembly steps, section 4.2). */
enum ew_origin {
	EW_ORIGIN_RULE,      /* a rule of the policy file */
	EW_ORIGIN_NOIPV6,    /* "reject *6:*" because IPv6Exit is 0 */
	EW_ORIGIN_PRIVATE,   /* ExitPolicyRejectPrivate's private nets */
	EW_ORIGIN_OWN,       /* the relay's own or outbound addresses */
	EW_ORIGIN_INTERFACE, /* ExitPolicyRejectLocalInterfaces */
	EW_ORIGIN_DEFAULT,   /* tor's default exit policy */
	EW_ORIGIN_REDUCED,   /* tor's reduced exit policy */
	EW_ORIGIN_TAIL,      /* the closing reject of a bridge */
	EW_ORIGIN_NOTEXIT,   /* not an exit: reject everything */
};

/* One item of an expanded policy: tor's addr_policy_t. */
struct ew_item {
	struct ew_addr addr; /* EW_AF_INET or EW_AF_INET6, host bits kept */
	uint8_t action;      /* enum ew_action */
	uint8_t maskbits;
	uint8_t origin; /* enum ew_origin */
	uint16_t pmin, pmax;
	uint32_t rule; /* index of the source rule, or EW_NO_RULE */
};

#define EW_NO_RULE UINT32_MAX

/* What a source rule says about itself, for explain. */
struct ew_rule_info {
	const char *file; /* file name as given */
	unsigned line, first, last;
	const char *text;   /* the rule as written, without annotations */
	const char *reason; /* NULL when not set */
	const char *ticket; /* NULL when not set */
	int64_t expires;    /* EW_NEVER when not set */
};

/* An expanded policy: the list tor enforces and publishes. */
struct ew_expanded {
	struct ew_item *items;
	size_t n;
	/* Both families reject everything: tor prints "reject *:*". */
	int reject_star;
	int ipv6_exit;
};

/*
 * The relay settings a policy file may state beside its rules, tor's
 * options of the same names.  A setting the file does not state is
 * tor's to keep: its running value, or tor's default.
 */
enum ew_setting {
	EW_SETTING_EXITRELAY,
	EW_SETTING_IPV6EXIT,
	EW_SETTING_REJECTPRIVATE,
	EW_SETTING_REJECTLOCAL,
	EW_SETTING_REDUCED,
	EW_SETTING_N,
};
/* The option's name ("IPv6Exit"). */
const char *ew_policy_setting_name(int k);
/* 1 when p states setting k, else 0; *v its value or tor's default
 * (-1 auto, 0, 1). */
int ew_policy_setting(const struct ew_policy *p, int k, int *v);
/* A value as tor prints it ("auto", "0", "1") into *v: 0 or -EINVAL. */
int ew_policy_setting_parse(int k, const char *s, int *v);

/* What expansion needs from outside the file. */
struct ew_expand_env {
	int64_t now; /* rules expiring at or before now are inactive */
	/* The relay's interface addresses (for
	 * ExitPolicyRejectLocalInterfaces); the caller gathers them. */
	const struct ew_addr *ifaddrs;
	size_t n_ifaddrs;
	/* tor_set: tor[k] is tor's running value of each setting the file
	 * does not state (else tor's default is assumed) */
	int tor_set;
	int tor[EW_SETTING_N];
};

/* Parse flags. */
#define EW_PARSE_NO_INCLUDE 0x1 /* refuse include and table files */

int ew_policy_parse_file(const char *path, unsigned flags,
    struct ew_diag_list *diags, struct ew_policy **out);
int ew_policy_parse_string(const char *name, const char *text, size_t len,
    unsigned flags, struct ew_diag_list *diags, struct ew_policy **out);
void ew_policy_free(struct ew_policy *p);

/*
 * Check an address-list file's text (a table file: one address or CIDR
 * a line, '#' comments).  0 and the number of entries, or -EINVAL with
 * located errors on diags.
 */
int ew_addrlist_parse(const char *name, const char *text, size_t len,
    struct ew_diag_list *diags, size_t *count);

/*
 * Expand into the effective list.  Returns 0; -EINVAL, with an error
 * on diags, for a configuration tor cannot run (tor 0.4.9 aborts on
 * one); -ENOMEM.  Free the result with ew_expanded_free.
 */
int ew_policy_expand(const struct ew_policy *p, const struct ew_expand_env *env,
    struct ew_diag_list *diags, struct ew_expanded **out);
void ew_expanded_free(struct ew_expanded *e);

/* Print the list as tor's GETINFO exit-policy/full does, one item a
 * line, each line ending in a newline. */
void ew_expanded_format(const struct ew_expanded *e, struct ew_buf *out);
/* One item in descriptor format ("accept6 [2001:db8::]/32:80"). */
void ew_item_format(const struct ew_item *it, struct ew_buf *out);

/*
 * tor's policy_summarize over the items of one family (EW_AF_INET for
 * the authority's "p", EW_AF_INET6 for the relay's "ipv6-policy"):
 * "accept 80,443", "reject 25,119", "reject 1-65535".  Caller frees;
 * NULL on allocation failure.
 */
char *ew_policy_summarize(const struct ew_item *items, size_t n, int family);

/* A summary ("short") policy as clients read it, tor's
 * parse_short_policy: NULL if tor would refuse it. */
struct ew_short_policy;
struct ew_short_policy *ew_short_policy_parse(const char *s);
void ew_short_policy_free(struct ew_short_policy *sp);
/* write_short_policy; caller frees. */
char *ew_short_policy_format(const struct ew_short_policy *sp);
/* 1 if a client would try the port (tor: PROBABLY_ACCEPTED), 0 if it
 * would not (REJECTED).  port must not be 0. */
int ew_short_policy_accepts(const struct ew_short_policy *sp, uint16_t port);

/*
 * The torrc lines that make tor build exactly the list ew_policy_expand
 * builds at `now` (tables and port sets expanded, expired rules left
 * out): what "tor emit" writes for the operator's %include.
 */
void ew_policy_torrc(
    const struct ew_policy *p, int64_t now, struct ew_buf *out);

/* Canonical source form (policy show). */
void ew_policy_show(const struct ew_policy *p, struct ew_buf *out);

/* The source rules, for explain. */
size_t ew_policy_rule_count(const struct ew_policy *p);
void ew_policy_rule_info(
    const struct ew_policy *p, size_t i, struct ew_rule_info *out);

/* Summary counts for check. */
struct ew_policy_stats {
	size_t rules, active, expired, portsets, tables, table_entries;
};
void ew_policy_stats(
    const struct ew_policy *p, int64_t now, struct ew_policy_stats *out);

/*
 * The relay's own addresses the file names (Address, then the
 * OutboundBindAddress* options), up to `max` of them into out; returns
 * how many there are.
 */
size_t ew_policy_own_addrs(
    const struct ew_policy *p, struct ew_addr *out, size_t max);

/* The earliest expiry after `now`, or EW_NEVER. */
int64_t ew_policy_next_expiry(const struct ew_policy *p, int64_t now);

/*
 * Surge guards (guard.c; exitwarden-policy(5) "Surge guards").  A guard
 * adds nothing to the expanded policy: it tells the nftables emitter
 * what to watch and the daemon what to block when a destination surges.
 */
#define EW_GUARD_NAME_MAX 16   /* bytes of a guard's name */
#define EW_GUARD_MAX 16        /* guards in a policy */
#define EW_GUARD_CAP 16        /* default: surge blocks of one guard */
#define EW_GUARD_TOTAL_CAP 64  /* default: surge blocks of all guards */
#define EW_GUARD_BUCKETS 65536 /* default: size of a tracking set */

struct ew_guard_port {
	uint16_t lo, hi;
};

struct ew_guard_info {
	const char *name;                  /* valid while the policy is */
	const struct ew_guard_port *ports; /* sorted, merged */
	size_t nports;                     /* 0: every port */
	uint32_t count;                    /* new connections ... */
	uint32_t period;                   /* ... in this many seconds */
	uint8_t len4, len6; /* the destination: a prefix of these lengths */
	int64_t block;      /* seconds a surge is blocked */
	uint32_t cap;       /* surge blocks of this guard at once */
	uint32_t buckets;   /* size of the kernel's tracking set */
	int damp;           /* the kernel refuses a surging destination too */
	char rate[32];      /* "600/minute", "150/4minutes" */
};

size_t ew_policy_guard_count(const struct ew_policy *p);
void ew_policy_guard_info(
    const struct ew_policy *p, size_t i, struct ew_guard_info *out);
/* Surge blocks of all guards at once ("guards cap"). */
uint32_t ew_policy_guard_cap(const struct ew_policy *p);
/* Each network of the allow list ("guards allow"), tables expanded. */
void ew_policy_guard_allow_each(const struct ew_policy *p,
    void (*fn)(void *arg, const struct ew_addr *a, unsigned bits), void *arg);
/* OutboundBindAddressExit: out[0] IPv4, out[1] IPv6 (EW_AF_NONE when
 * not set). */
void ew_policy_exit_bind(const struct ew_policy *p, struct ew_addr out[2]);
/* 1 when the network a/bits overlaps the allow list: never block it. */
int ew_policy_guard_allowed(
    const struct ew_policy *p, const struct ew_addr *a, unsigned bits);

#endif
