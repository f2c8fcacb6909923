/*
 * desk_int.h - the desk's insides, for its files and its tests.
 */
#ifndef EW_DESK_INT_H
#define EW_DESK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/port.h"

struct ew_desk_version;

struct ew_desk {
	struct ew_store *st;
	ew_desk_resolve_fn resolve; /* NULL: names are not resolved */
	void *resolve_arg;
	struct ew_addr *ifaddrs;
	size_t n_ifaddrs;
	struct ew_desk_version *versions; /* compiled, by store id */
	size_t nversions;
	struct ew_addr *own; /* what the recorded policies name as ours */
	size_t n_own;
	char own_sig[160]; /* the history's signature when own was read */
	char *relay;       /* the relay changes act on (NULL: the only one) */
	/* a fleet host's own emergency blocks (ew_desk_set_local;
	 * borrowed) */
	const struct ew_desk_rule *local;
	size_t nlocal;
};

/*
 * One change (change.c): fn (may be NULL) writes the store inside the
 * transaction and returns 0 (changed: write and apply), EW_DESK_CHECKED
 * (nothing to apply: commit what it wrote), -EALREADY (nothing to do:
 * roll back) or another -errno (roll back); then the managed policy is
 * composed, written and applied through ch->ops, and the store
 * committed, or everything put back.
 */
typedef int (*ew_desk_mutate_fn)(
    struct ew_desk *d, void *arg, struct ew_diag_list *dg);
int ew_desk_run(struct ew_desk *d, const struct ew_desk_change *ch,
    ew_desk_mutate_fn fn, void *arg, struct ew_desk_outcome *out,
    struct ew_diag_list *dg);
/* ew_desk_run for several relays (ew_desk_sync_relays' change): fn in
 * the store's transaction with the desk's relay as the caller set it,
 * then every relay of chs/relays written and applied, all or none. */
int ew_desk_run_relays(struct ew_desk *d, const struct ew_desk_change *chs,
    const char *const *relays, size_t n, ew_desk_mutate_fn fn, void *arg,
    struct ew_desk_outcome *out, struct ew_diag_list *dg);

/* "192.0.2.1", "192.0.2.0/24", "[2001:db8::1]", "2001:db8::/32". */
int ew_desk_net_parse(const char *s, struct ew_addr *a, unsigned *bits);
/* "6660-7000,8888" into ranges (free *out); "" or NULL is none. */
int ew_desk_ports_parse(const char *s, struct ew_port_range **out, size_t *n);

/*
 * Work done by the desk's steps whose size a sender sets (comparisons
 * and entries handled), for tests that bound it: it only grows.
 */
extern unsigned long long ew_desk_work;

/* SHA-256 (hex) of a message without its delivery trace. */
int ew_desk_content_key(const char *data, size_t len, char out[65]);

#endif
