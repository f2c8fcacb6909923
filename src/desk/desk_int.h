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
};

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
