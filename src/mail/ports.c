/*
 * ports.c - port lists as complaints write them: "port 6667", "ports
 * 6660-7000, 8888, and 8080", "Other possible ports include ...",
 * "6667/tcp", and service names in a port context ("port ssh", "SSH
 * (22)").  A port after an address ("1.2.3.4 port 53902") or after
 * "source port" belongs to the source and is not listed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

/* ---- ports ---- */

/* Port lists stop growing at this many bytes (about 64 items). */
#define EW_MAIL_MAX_PORTS_LEN 512

/* Is the word before s[i] an address ("1.2.3.4 port 53902": its port)
 * or "source"/"src"/"local" (a source port)? */
static int
port_belongs_elsewhere(const char *s, size_t i)
{
	size_t e = i, b;
	char tok[64];
	struct ew_addr a;

	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e > 0 && e == i && (s[e - 1] == '-' || s[e - 1] == '_'))
		e--; /* "Source-Port:", "src_port" */
	b = e;
	while (b > 0 && !isspace((unsigned char)s[b - 1]) && e - b < 60)
		b--;
	if (e == b || e - b >= sizeof(tok))
		return 0;
	memcpy(tok, s + b, e - b);
	tok[e - b] = '\0';
	if (strcasecmp(tok, "source") == 0 || strcasecmp(tok, "src") == 0 ||
	    strcasecmp(tok, "local") == 0 || strcasecmp(tok, "client") == 0)
		return 1;
	if (tok[e - b - 1] == ',' || tok[e - b - 1] == ')')
		tok[e - b - 1] = '\0';
	return ew_addr_parse(tok, &a) || strchr(tok, ':') != NULL;
}

static void
port_add(struct ew_buf *out, long lo, long hi, size_t *added)
{
	char item[16], *hay;
	const char *cur = ew_buf_str(out);
	size_t il;

	if (lo == hi)
		snprintf(item, sizeof(item), "%ld", lo);
	else
		snprintf(item, sizeof(item), "%ld-%ld", lo, hi);
	if (out->len >= EW_MAIL_MAX_PORTS_LEN)
		return; /* a longer list is not a port list we can act on */
	il = strlen(item);
	for (hay = strstr(cur, item); hay != NULL; hay = strstr(hay + 1, item))
		if ((hay == cur || hay[-1] == ',') &&
		    (hay[il] == '\0' || hay[il] == ','))
			return;
	if (out->len > 0)
		ew_buf_putc(out, ',');
	ew_buf_puts(out, item);
	(*added)++;
}
static void
skip_proto(const char *s, size_t n, size_t *j)
{
	if (ew_tx_at(s, n, *j, "/tcp") || ew_tx_at(s, n, *j, "/udp"))
		*j += 4;
}

/* Is the number at s[j] a port, not a date ("2026-11-19"), a clock
 * ("00:41"), an address or a decimal ("1.5")? */
static int
port_number_at(const char *s, size_t n, size_t j)
{
	size_t e = j;

	while (e < n && isdigit((unsigned char)s[e]))
		e++;
	if (e + 1 < n && (s[e] == '.' || s[e] == ':') &&
	    isdigit((unsigned char)s[e + 1]))
		return 0;
	if (e + 1 < n && s[e] == '-' && isdigit((unsigned char)s[e + 1])) {
		size_t f = e + 1;

		while (f < n && isdigit((unsigned char)s[f]))
			f++;
		if (f < n && (s[f] == '-' || s[f] == '/'))
			return 0; /* a date */
		if (e - j == 4 && f - e - 1 == 2)
			return 0; /* "2026-11" */
	}
	if (e < n && s[e] == '/' && e + 1 < n &&
	    isdigit((unsigned char)s[e + 1]))
		return 0; /* "11/17" */
	return 1;
}

/* "and" or "or" then blanks (a line break too): its length, 0 if none. */
static size_t
and_or(const char *s, size_t n, size_t j)
{
	size_t k = j;

	if (ew_tx_word_at(s, n, j, "and"))
		k += 3;
	else if (ew_tx_word_at(s, n, j, "or"))
		k += 2;
	else
		return 0;
	if (k >= n || !isspace((unsigned char)s[k]))
		return 0;
	ew_tx_skip_ws(s, n, &k);
	return k - j;
}

/* One list after "port(s)"; returns items added. */
static size_t
port_list(const char *s, size_t n, size_t j, struct ew_buf *out)
{
	size_t added = 0;

	for (;;) {
		long lo, hi;
		size_t save;

		ew_tx_skip_sp(s, n, &j);
		if (j >= n || !isdigit((unsigned char)s[j]))
			break;
		if (!port_number_at(s, n, j))
			break;
		lo = ew_tx_num_at(s, n, &j);
		if (lo < 0)
			break;
		hi = lo;
		save = j;
		ew_tx_skip_sp(s, n, &j);
		if (j < n && (s[j] == '-' || ew_tx_at(s, n, j, "to "))) {
			j += s[j] == '-' ? 1 : 3;
			ew_tx_skip_sp(s, n, &j);
			hi = ew_tx_num_at(s, n, &j);
			if (hi < lo) {
				hi = lo;
				j = save;
			}
		} else {
			j = save;
		}
		skip_proto(s, n, &j);
		port_add(out, lo, hi, &added);
		save = j;
		ew_tx_skip_sp(s, n, &j);
		if (j < n && (s[j] == ',' || s[j] == ';' || s[j] == '/' ||
				 s[j] == '&')) {
			j++;
			ew_tx_skip_ws(s, n, &j);
		} else if (j < n && isdigit((unsigned char)s[j])) {
			continue; /* "ports 80 443" */
		} else {
			ew_tx_skip_ws(s, n, &j);
			if (and_or(s, n, j) == 0) {
				j = save;
				break;
			}
		}
		j += and_or(s, n, j);
	}
	return added;
}

/* Well-known services, sorted by name. */
static const struct {
	const char *name;
	long port;
} services[] = {
	{ "dns", 53 },
	{ "ftp", 21 },
	{ "http", 80 },
	{ "https", 443 },
	{ "imap", 143 },
	{ "imaps", 993 },
	{ "irc", 6667 },
	{ "ldap", 389 },
	{ "memcached", 11211 },
	{ "mssql", 1433 },
	{ "mysql", 3306 },
	{ "ntp", 123 },
	{ "pop3", 110 },
	{ "pop3s", 995 },
	{ "postgresql", 5432 },
	{ "rdp", 3389 },
	{ "smb", 445 },
	{ "smtp", 25 },
	{ "snmp", 161 },
	{ "ssh", 22 },
	{ "submission", 587 },
	{ "telnet", 23 },
	{ "vnc", 5900 },
};
_Static_assert(EW_TX_NWORDS(services) <= EW_TX_FIRST_MAX, "services");

/* The services by first byte. */
static void
services_first(struct ew_tx_first *f)
{
	size_t k;

	ew_tx_first_init(f);
	for (k = 0; k < EW_TX_NWORDS(services); k++)
		ew_tx_first_add(f, k, services[k].name);
}

/* Of the services `set`, the one named s[0..n): its port, or -1. */
static long
service_port_of(const char *s, size_t n, uint32_t set)
{
	while (set != 0) {
		size_t k = ew_tx_first_next(&set);

		if (strlen(services[k].name) == n &&
		    strncasecmp(services[k].name, s, n) == 0)
			return services[k].port;
	}
	return -1;
}

long
ew_tx_service_port(const char *s, size_t n)
{
	return service_port_of(
	    s, n, (uint32_t)((1ull << EW_TX_NWORDS(services)) - 1));
}

/* Is the word just before s[i] (blanks and a line break between) w? */
static int
word_before_is(const char *s, size_t i, const char *w)
{
	size_t j = i, l = strlen(w);

	while (j > 0 && i - j < 8 &&
	       (s[j - 1] == ' ' || s[j - 1] == '\t' || s[j - 1] == '\n' ||
		   s[j - 1] == '\r' || s[j - 1] == '>'))
		j--;
	return j < i && j >= l && strncasecmp(s + j - l, w, l) == 0 &&
	       (j == l || !isalnum((unsigned char)s[j - l - 1]));
}

/* Words after a service name that make it the attacked service. */
static int
service_context(const char *s, size_t n, size_t j)
{
	static const char *const after[] = { "port", "service", "server",
		"login", "logon", "brute", "auth", "attack", "password",
		"dictionary", "scan", "connection", "access", "daemon" };
	size_t k;

	if (j < n && (s[j] == '-' || s[j] == '_'))
		j++;
	else
		ew_tx_skip_sp(s, n, &j);
	for (k = 0; k < sizeof(after) / sizeof(after[0]); k++)
		if (ew_tx_at(s, n, j, after[k]))
			return 1;
	return 0;
}

/* A service name at s[i] (a whole word): its port and end, or -1.  fs:
 * services_first. */
static long
service_at(const char *s, size_t n, size_t i, size_t *end,
    const struct ew_tx_first *fs)
{
	size_t e;
	uint32_t set = ew_tx_first_at(fs, s, n, i);

	if (set == 0)
		return -1; /* no service starts so */
	if (i >= n || !isalpha((unsigned char)s[i]) ||
	    (i > 0 &&
		(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.' ||
		    s[i - 1] == '/' || s[i - 1] == '@' || s[i - 1] == '-')))
		return -1;
	for (e = i; e < n && e - i < 12 && isalnum((unsigned char)s[e]); e++)
		;
	*end = e;
	if (e + 2 < n && s[e] == ':' && s[e + 1] == '/' && s[e + 2] == '/')
		return -1; /* a URL's scheme */
	if (e - i < 3 ||
	    (e + 1 < n && (s[e] == '.' || s[e] == '@' || s[e] == ':') &&
		isalnum((unsigned char)s[e + 1])))
		return -1;
	return service_port_of(s + i, e - i, set);
}

/* The next item of a list after s[e]: ", ", " and ", " or ", "/". */
static size_t
list_next(const char *s, size_t n, size_t e)
{
	size_t k = e;

	if (k < n && (s[k] == ',' || s[k] == '/'))
		k++;
	ew_tx_skip_ws(s, n, &k);
	if (ew_tx_word_at(s, n, k, "and ") || ew_tx_word_at(s, n, k, "or "))
		k += s[k] == 'a' || s[k] == 'A' ? 4 : 3;
	return k > e ? k : 0;
}

/* Service names in a port context ("port ssh", "SSH brute force",
 * "over SMTP", a list "ssh, smtp, http and https"); "irc" only as
 * "irc port". */
static void
service_ports(
    const char *s, size_t n, size_t lim, struct ew_buf *out, size_t *added)
{
	size_t i, e, k, e2;
	int listed = 0; /* the item before was a service of a list */
	struct ew_tx_first fs;

	services_first(&fs);
	for (i = 0; i < lim; i++) {
		long p;
		int ctx;

		if ((p = service_at(s, n, i, &e, &fs)) < 0) {
			if (i < n && isalpha((unsigned char)s[i]))
				while (i + 1 < n &&
				       isalnum((unsigned char)s[i + 1]))
					i++;
			listed = 0;
			continue;
		}
		if (p == 6667)
			ctx = ew_tx_at(s, n, e, " port");
		else
			ctx = listed || service_context(s, n, e) ||
			      word_before_is(s, i, "port") ||
			      word_before_is(s, i, "over") ||
			      word_before_is(s, i, "via") ||
			      word_before_is(s, i, "on") ||
			      (i > 0 && s[i - 1] == '(');
		/* "RDP (3389)": the number is the port */
		if (ew_tx_at(s, n, e, " (") && e + 2 < n &&
		    isdigit((unsigned char)s[e + 2])) {
			size_t q = e + 2;
			long pp = ew_tx_num_at(s, n, &q);

			if (pp > 0 && q < n && s[q] == ')') {
				p = pp;
				ctx = 1;
			}
		}
		/* "sshd[1234]:" in a log line */
		if (!ctx && p == 22 && ew_tx_at(s, n, e, "d["))
			ctx = 1;
		/* a list of two services or more */
		listed = 0;
		if ((k = list_next(s, n, e)) > 0 &&
		    service_at(s, n, k, &e2, &fs) > 0 &&
		    service_at(s, n, k, &e2, &fs) != 6667) {
			ctx = 1;
			listed = 1;
		}
		if (ctx)
			port_add(out, p, p, added);
		i = e - 1;
		if (listed)
			i = k - 1;
	}
}

/* The end of the positions i with i + k < n and i < lim (one test per
 * position in the loops below instead of two). */
static size_t
starts_end(size_t n, size_t k, size_t lim)
{
	size_t e = n > k ? n - k : 0;

	return e < lim ? e : lim;
}

size_t
ew_tx_ports_in(const char *s, size_t n, size_t lim, struct ew_buf *out)
{
	static const char *const filler[] = { "include ", "includes ",
		"including ", "are ", "were ", "is ", "was ", "of ", "like ",
		"such as ", "used ", "used: ", "number ", "numbers ", "range ",
		"ranges " };
	static const char *const proto_slash[] = { "tcp/", "udp/" };
	struct ew_tx_first fp;
	size_t i, j, k, e, added = 0;

	for (i = 0, e = starts_end(n, 4, lim); i < e; i++) {
		if ((s[i] != 'p' && s[i] != 'P') ||
		    !ew_tx_word_at(s, n, i, "port"))
			continue;
		if (port_belongs_elsewhere(s, i))
			continue;
		j = i + 4;
		if (ew_tx_at(s, n, j, "(s)"))
			j += 3;
		else if (j < n && (s[j] == 's' || s[j] == 'S'))
			j++;
		if (j < n && isalpha((unsigned char)s[j]))
			continue;
		for (k = 0; k < 3; k++) {
			size_t f;

			while (j < n &&
			       (s[j] == ' ' || s[j] == ':' || s[j] == '=' ||
				   s[j] == '#' || s[j] == '\t' || s[j] == '('))
				j++;
			ew_tx_skip_ws(s, n, &j);
			for (f = 0; f < sizeof(filler) / sizeof(filler[0]); f++)
				if (ew_tx_at(s, n, j, filler[f])) {
					j += strlen(filler[f]);
					break;
				}
			if (f == sizeof(filler) / sizeof(filler[0]))
				break;
		}
		ew_tx_skip_ws(s, n, &j);
		added += port_list(s, n, j, out);
	}
	/* "they connect on 6660-7000, 8888 and 8080" */
	for (i = 0, e = starts_end(n, 7, lim); i < e; i++) {
		if ((s[i] != 'c' && s[i] != 'C') ||
		    !ew_tx_word_at(s, n, i, "connect"))
			continue;
		j = i + 7;
		while (j < n && isalpha((unsigned char)s[j]))
			j++;
		ew_tx_skip_ws(s, n, &j);
		if (!ew_tx_at(s, n, j, "on "))
			continue;
		j += 3;
		ew_tx_skip_ws(s, n, &j);
		if (j < n && isdigit((unsigned char)s[j]))
			added += port_list(s, n, j, out);
	}
	/* "udp/5060", "tcp/5061" */
	ew_tx_first_words(&fp, proto_slash, EW_TX_NWORDS(proto_slash));
	for (i = 0, e = starts_end(n, 4, lim); i < e; i++) {
		uint32_t set = ew_tx_first_at(&fp, s, n, i);
		long p;

		if (set == 0 ||
		    !(ew_tx_word_at(s, n, i, proto_slash[0]) ||
			ew_tx_word_at(s, n, i, proto_slash[1])) ||
		    !isdigit((unsigned char)s[i + 4]))
			continue;
		j = i + 4;
		p = ew_tx_num_at(s, n, &j);
		if (p > 0 && (j >= n || !isalnum((unsigned char)s[j])))
			port_add(out, p, p, &added);
	}
	/* "6667/tcp" outside a "port" phrase */
	for (i = 0; i < lim; i++) {
		long p;

		if (!isdigit((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		j = i;
		while (j < n && isdigit((unsigned char)s[j]) && j - i < 6)
			j++;
		if (!(ew_tx_at(s, n, j, "/tcp") || ew_tx_at(s, n, j, "/udp"))) {
			i = j;
			continue;
		}
		j = i;
		p = ew_tx_num_at(s, n, &j);
		if (p > 0)
			port_add(out, p, p, &added);
		i = j;
	}
	service_ports(s, n, lim, out, &added);
	return added;
}

size_t
ew_mail_ports(const char *s, size_t n, struct ew_buf *out)
{
	return ew_tx_ports_in(s, n, n, out);
}
