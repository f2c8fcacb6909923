/*
 * form.c - the request parsers of the web face, pure and bounded: an
 * urlencoded form body, and the target (address or prefix) and ports a
 * block request names.  The fuzz target (fuzz/fuzz_web.c) calls these.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/port.h"
#include "web/web.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the n bytes at s into out (cap bytes and a NUL): the length,
 * -EINVAL for a bad escape or a NUL, -E2BIG when it does not fit. */
static long
decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return -EINVAL;
		if (o >= cap)
			return -E2BIG;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

int
ew_web_form_parse(
    const char *s, size_t len, struct ew_web_field *f, size_t max, size_t *n)
{
	const char *p = s, *end = s + len, *amp, *eq;
	long r;

	*n = 0;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) { /* empty pair: "a=1&&b=2" */
			p++;
			continue;
		}
		if (*n >= max)
			return -E2BIG;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		r = decode(
		    p, (size_t)(eq - p), f[*n].name, sizeof(f[*n].name) - 1);
		if (r < 0)
			return r == -E2BIG ? -EINVAL : (int)r;
		r = eq < amp ? decode(eq + 1, (size_t)(amp - eq - 1),
				   f[*n].value, EW_WEB_MAX_VALUE)
			     : decode(eq, 0, f[*n].value, EW_WEB_MAX_VALUE);
		if (r < 0)
			return (int)r;
		f[*n].len = (size_t)r;
		(*n)++;
		p = amp < end ? amp + 1 : end;
	}
	return 0;
}

const char *
ew_web_form_get(const struct ew_web_field *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The n bytes at s without blanks around them. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && is_blank(*s)) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

static int
parse_ports(const char *ports, struct ew_web_target *t, const char **why)
{
	const char *p, *item, *comma, *end;
	size_t n;

	t->nports = 0;
	if (ports == NULL)
		return 0;
	n = strlen(ports);
	p = trim(ports, &n);
	if (n == 0 || (n == 1 && *p == '*'))
		return 0;
	end = p + n;
	while (p <= end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		n = (size_t)(comma - p);
		item = trim(p, &n);
		if (t->nports >= EW_WEB_MAX_PORTS) {
			*why = "too many port ranges (at most 8)";
			return -EINVAL;
		}
		if (ew_port_range_parse(item, n, &t->ports[t->nports]) != 0) {
			*why = "ports must be numbers 1-65535 or ranges "
			       "like 8000-8100, separated by commas";
			return -EINVAL;
		}
		t->nports++;
		p = comma + 1;
	}
	return 0;
}

int
ew_web_target_parse(const char *target, const char *ports,
    struct ew_web_target *t, const char **why)
{
	const char *s;
	size_t n;

	memset(t, 0, sizeof(*t));
	*why = "no address given";
	if (target == NULL)
		return -EINVAL;
	n = strlen(target);
	s = trim(target, &n);
	if (n == 0)
		return -EINVAL;
	if (ew_prefix_parse(s, n, 0, &t->addr, &t->bits) != 0) {
		*why = "not an IPv4 or IPv6 address or prefix";
		return -EINVAL;
	}
	if (t->addr.family != EW_AF_INET && t->addr.family != EW_AF_INET6) {
		*why = "not an IPv4 or IPv6 address or prefix";
		return -EINVAL;
	}
	ew_addr_mask(&t->addr, t->bits);
	return parse_ports(ports, t, why);
}

size_t
ew_web_target_rules(const struct ew_web_target *t, char **out)
{
	char a[EW_ADDR_STRLEN];
	struct ew_buf b = EW_BUF_INIT;
	size_t i, n = t->nports ? t->nports : 1, k = 0;

	ew_addr_format(&t->addr, 1, a, sizeof(a));
	for (i = 0; i < n; i++) {
		ew_buf_reset(&b);
		ew_buf_printf(&b, "%s %s",
		    t->addr.family == EW_AF_INET6 ? "reject6" : "reject", a);
		if (t->bits != ew_addr_bits(&t->addr))
			ew_buf_printf(&b, "/%u", t->bits);
		if (t->nports == 0)
			ew_buf_puts(&b, ":*");
		else if (t->ports[i].lo == t->ports[i].hi)
			ew_buf_printf(&b, ":%u", t->ports[i].lo);
		else
			ew_buf_printf(
			    &b, ":%u-%u", t->ports[i].lo, t->ports[i].hi);
		out[k] = ew_strndup(ew_buf_str(&b), strlen(ew_buf_str(&b)));
		if (out[k] != NULL)
			k++;
	}
	ew_buf_free(&b);
	return k;
}

int
ew_web_target_covers(const struct ew_web_target *t, const struct ew_addr *addr,
    unsigned max4, unsigned max6)
{
	unsigned max = t->addr.family == EW_AF_INET6 ? max6 : max4;

	if (addr->family != t->addr.family || t->bits < max)
		return 0;
	return ew_addr_prefix_eq(&t->addr, addr, t->bits);
}
