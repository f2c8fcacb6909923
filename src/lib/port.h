/*
 * port.h - port ranges and port lists.
 *
 * The one port-list parser of the tree: the desk's incidents, the
 * store's typed ports, the policy's port lists (token by token), tor's
 * exit-policy/full and IODEF port lists all read ports here.
 */
#ifndef EW_LIB_PORT_H
#define EW_LIB_PORT_H

#include <stddef.h>
#include <stdint.h>

struct ew_buf;

/* The ports lo..hi, 1 <= lo <= hi <= 65535. */
struct ew_port_range {
	uint16_t lo, hi;
};

/*
 * "N" or "N-M" in the n bytes at s: decimal digits only (no sign, no
 * blank), each 1-65535.  0; -ERANGE when M < N; -EINVAL otherwise.
 */
int ew_port_range_parse(const char *s, size_t n, struct ew_port_range *out);

/*
 * A list "80,443,6660-7000" in the n bytes at s: ranges as above
 * separated by single commas, nothing else (no blank, no empty item).
 * An empty list is none (*out NULL, *nout 0).  The ranges are kept as
 * written (not sorted or merged).  0, -EINVAL or -ENOMEM; free *out.
 */
int ew_ports_parse(
    const char *s, size_t n, struct ew_port_range **out, size_t *nout);

/* The list as ew_ports_parse reads it: "80,443,6660-7000". */
void ew_ports_format(
    const struct ew_port_range *r, size_t n, struct ew_buf *out);

#endif
