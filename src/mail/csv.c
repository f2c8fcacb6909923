/*
 * csv.c - Shadowserver-style CSV reports (RFC 4180, header row).
 *
 * Columns are found by name, because they change from report to report
 * and over time: the source is "src_ip" or "ip" (our address: the
 * scanned service or the infected host), its port "src_port" or "port",
 * the destination "dst_ip" / "dst_port" (sinkholes and honeypots; also
 * spelt "dest_ip" / "dest_port") or, in botnet drone reports, the
 * command-and-control server the drone talked to ("cc" or "cc_ip" with
 * "cc_port", as Shadowserver and AbuseHub write it), the time "timestamp" (UTC
 * by Shadowserver's documented convention, so the zone is assumed but the
 * instant is exact).  The report type comes from the file name
 * ("2019-10-15-scan_http-sample-asn.csv").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "mail/mail_int.h"

#define MAX_COLS 256

struct row {
	const char *f[MAX_COLS];
	size_t n;
	struct ew_buf buf; /* the unquoted fields, NUL-separated */
	size_t off[MAX_COLS];
};

/* Read one record at s[*i]; 0 at the end of input. */
static int
next_row(const char *s, size_t n, size_t *i, struct row *r)
{
	size_t k;

	if (*i >= n)
		return 0;
	ew_buf_reset(&r->buf);
	r->n = 0;
	for (;;) {
		if (r->n < MAX_COLS)
			r->off[r->n] = r->buf.len;
		if (*i < n && s[*i] == '"') {
			(*i)++;
			while (*i < n) {
				if (s[*i] == '"') {
					if (*i + 1 < n && s[*i + 1] == '"') {
						ew_buf_putc(&r->buf, '"');
						*i += 2;
						continue;
					}
					(*i)++;
					break;
				}
				ew_buf_putc(&r->buf, s[(*i)++]);
			}
		}
		while (*i < n && s[*i] != ',' && s[*i] != '\n' && s[*i] != '\r')
			ew_buf_putc(&r->buf, s[(*i)++]);
		ew_buf_putc(&r->buf, '\0');
		if (r->n < MAX_COLS)
			r->n++;
		if (*i < n && s[*i] == ',') {
			(*i)++;
			continue;
		}
		while (*i < n && (s[*i] == '\r' || s[*i] == '\n'))
			(*i)++;
		break;
	}
	if (r->buf.oom)
		return -1;
	for (k = 0; k < r->n; k++)
		r->f[k] = r->buf.p + r->off[k];
	return 1;
}

static int
col(const struct row *h, const char *name)
{
	size_t k;

	for (k = 0; k < h->n; k++)
		if (strcasecmp(h->f[k], name) == 0)
			return (int)k;
	return -1;
}

/* The first of the names that is a column of h, else -1. */
static int
col_any(const struct row *h, const char *const *names)
{
	int k = -1;

	for (; *names != NULL && k < 0; names++)
		k = col(h, *names);
	return k;
}

static const char *
get(const struct row *r, int k)
{
	return k >= 0 && (size_t)k < r->n ? r->f[k] : "";
}

static long
port_of(const char *s)
{
	uint64_t p;

	return ew_parse_uint(s, strlen(s), 1, 65535, &p) == 0 ? (long)p : -1;
}

static int
addr_of(const char *s, char *out, size_t cap)
{
	struct ew_addr a;

	if (!ew_addr_parse(s, &a))
		return 0;
	ew_addr_format(&a, 0, out, cap);
	return 1;
}

/* The report type from the file name (NULL: a part without a name). */
static const char *
category(const char *name)
{
	if (name == NULL)
		return NULL;
	if (strstr(name, "sinkhole") != NULL || strstr(name, "drone") != NULL ||
	    strstr(name, "botnet") != NULL || strstr(name, "cc_") != NULL)
		return "malware";
	if (strstr(name, "honeypot") != NULL)
		return "scan";
	if (strstr(name, "scan_") != NULL ||
	    strstr(name, "openresolver") != NULL)
		return "open-service";
	return NULL;
}

int
ew_extract_csv(
    struct ew_complaint *c, const char *name, const char *data, size_t len)
{
	static const char *const dsts[] = { "dst_ip", "dest_ip", "cc_ip", "cc",
		NULL };
	static const char *const dports[] = { "dst_port", "dest_port",
		"cc_port", NULL };
	struct row h, r;
	size_t i = 0;
	int csrc, csport, cdst, cdport, ctime, got, rc = 0;

	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	if (next_row(data, len, &i, &h) <= 0)
		goto out;
	csrc = col(&h, "src_ip");
	if (csrc < 0)
		csrc = col(&h, "ip");
	csport = col(&h, "src_port");
	if (csport < 0)
		csport = col(&h, "port");
	cdst = col_any(&h, dsts);
	cdport = col_any(&h, dports);
	ctime = col(&h, "timestamp");
	if (csrc < 0 || ctime < 0)
		goto out;
	c->format = "shadowserver-csv";
	c->confidence = "high";
	if (category(name) != NULL)
		c->category = category(name);
	rc = 1;
	while ((got = next_row(data, len, &i, &r)) > 0) {
		struct ew_incident in;
		const char *t = get(&r, ctime), *dp = get(&r, cdport);

		if (ew_complaint_over_budget(c)) {
			rc = -1;
			break;
		}
		memset(&in, 0, sizeof(in));
		if (!addr_of(get(&r, csrc), in.src, sizeof(in.src)))
			continue;
		in.src_port = port_of(get(&r, csport));
		if (!addr_of(get(&r, cdst), in.dst, sizeof(in.dst)))
			in.dst[0] = '\0';
		if (port_of(dp) > 0)
			in.ports = ew_strndup(dp, strlen(dp));
		if (ew_mail_time_parse(t, strlen(t), &in.tm) < 0) {
			memset(&in.tm, 0, sizeof(in.tm));
			in.tm.zs = EW_ZONE_NONE;
		} else if (in.tm.zs == EW_ZONE_ASSUMED) {
			/* Shadowserver: "always presented in UTC+0" */
			in.tm.from = in.tm.to = in.tm.t;
		}
		if (ew_complaint_add(c, &in) < 0) {
			rc = -1;
			break;
		}
	}
	if (got < 0)
		rc = -1;
out:
	ew_buf_free(&h.buf);
	ew_buf_free(&r.buf);
	return rc;
}
