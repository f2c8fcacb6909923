/*
 * port.c - port ranges and port lists (see port.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/num.h"
#include "lib/port.h"

int
ew_port_range_parse(const char *s, size_t n, struct ew_port_range *out)
{
	const char *dash = memchr(s, '-', n);
	uint64_t lo, hi;

	if (dash == NULL) {
		if (ew_parse_uint(s, n, 1, 65535, &lo) != 0)
			return -EINVAL;
		hi = lo;
	} else if (ew_parse_uint(s, (size_t)(dash - s), 1, 65535, &lo) != 0 ||
		   ew_parse_uint(dash + 1, n - (size_t)(dash - s) - 1, 1, 65535,
		       &hi) != 0) {
		return -EINVAL;
	} else if (hi < lo) {
		return -ERANGE;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
}

int
ew_ports_parse(
    const char *s, size_t n, struct ew_port_range **out, size_t *nout)
{
	struct ew_port_range *v = NULL, *nv;
	size_t len = 0, cap = 0;
	const char *e = s + n;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	for (;;) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *t = c != NULL ? c : e;

		if (len == cap) {
			cap = cap ? cap * 2 : 4;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (ew_port_range_parse(s, (size_t)(t - s), &v[len]) != 0) {
			free(v);
			return -EINVAL;
		}
		len++;
		if (c == NULL)
			break;
		s = c + 1;
	}
	*out = v;
	*nout = len;
	return 0;
}

void
ew_ports_format(const struct ew_port_range *r, size_t n, struct ew_buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			ew_buf_putc(out, ',');
		if (r[i].lo == r[i].hi)
			ew_buf_printf(out, "%u", (unsigned)r[i].lo);
		else
			ew_buf_printf(
			    out, "%u-%u", (unsigned)r[i].lo, (unsigned)r[i].hi);
	}
}
