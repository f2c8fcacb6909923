/*
 * fields.c - "Name: value" fields and the readers built on them: ARF
 * (message/feedback-report) and X-ARF 0.1/0.2 (the YAML-ish report
 * part).  Ticket numbers, categories and message dates, which other
 * readers use too, are facts.c's, below the readers.
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

/* ---- header-like fields ("Name: value" lines) ---- */

/*
 * The value of the first "name:" line in s, trimmed (and unquoted), in
 * out (cap bytes).  1 when found.
 */
int
ew_tx_field(const char *s, size_t n, const char *name, char *out, size_t cap)
{
	size_t i, k = strlen(name);

	/* each line start: 0, and after each '\n' */
	for (i = 0; i + k < n; i = ew_tx_line_end(s, n, i) + 1) {
		size_t b, e;

		if (!ew_tx_at(s, n, i, name) || s[i + k] != ':')
			continue;
		b = i + k + 1;
		while (b < n && (s[b] == ' ' || s[b] == '\t'))
			b++;
		e = b;
		while (e < n && s[e] != '\n' && s[e] != '\r')
			e++;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e - b >= 2 && (s[b] == '"' || s[b] == '\'') &&
		    s[e - 1] == s[b]) {
			b++;
			e--;
		}
		if (e - b >= cap)
			e = b + cap - 1;
		memcpy(out, s + b, e - b);
		out[e - b] = '\0';
		return 1;
	}
	return 0;
}

/* The first address in a field value ("1.2.3.4 (comment)", defanged). */
int
ew_tx_value_addr(const char *v, struct ew_addr *a, int *plen)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_found f;
	const char *s;
	size_t i, n;
	int ok = 0;

	ew_mail_refang(v, strlen(v), &b);
	s = ew_buf_str(&b);
	n = b.len;
	for (i = 0; i < n && !ok; i++)
		if (ew_tx_addr_char((unsigned char)s[i]) || s[i] == '[')
			ok = ew_tx_scan_addr(s, n, i, &f);
	ew_buf_free(&b);
	if (ok) {
		*a = f.a;
		if (plen != NULL)
			*plen = f.plen;
	}
	return ok;
}

/* ---- ARF ---- */

static const char *
arf_block(const struct ew_mail *m, size_t *len, size_t *msg)
{
	size_t k;

	for (k = 0; k < m->nparts; k++)
		if (strcmp(m->parts[k].ctype, "message/feedback-report") == 0) {
			*len = m->parts[k].len;
			*msg = m->parts[k].msg;
			return m->parts[k].data;
		}
	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		char v[8];

		if (strncmp(p->ctype, "text/", 5) == 0 &&
		    ew_tx_field(
			p->data, p->len, "Feedback-Type", v, sizeof(v)) &&
		    ew_tx_field(p->data, p->len, "Source-IP", v, sizeof(v))) {
			*len = p->len;
			*msg = p->msg;
			return p->data;
		}
	}
	return NULL;
}

/* The address in the first "Received: from ... [a.b.c.d]" of headers. */
static int
received_addr(const char *h, struct ew_addr *a)
{
	const char *r = h;

	while ((r = strstr(r, "Received:")) != NULL) {
		const char *e = strstr(r, ";"), *lb = strchr(r, '[');

		if (lb != NULL && (e == NULL || lb < e)) {
			const char *rb = strchr(lb, ']');
			char tok[64];

			if (rb != NULL && (size_t)(rb - lb - 1) < sizeof(tok)) {
				memcpy(tok, lb + 1, (size_t)(rb - lb - 1));
				tok[rb - lb - 1] = '\0';
				if (strncasecmp(tok, "ipv6:", 5) == 0)
					memmove(tok, tok + 5, strlen(tok) - 4);
				if (ew_addr_parse(tok, a)) {
					ew_tx_unmap(a);
					return 1;
				}
			}
		}
		r += 9;
	}
	return 0;
}

int
ew_extract_arf(struct ew_complaint *c, const struct ew_mail *m)
{
	struct ew_incident in;
	size_t len = 0, msg = 0, k;
	const char *blk = arf_block(m, &len, &msg);
	char v[256];
	struct ew_addr a;
	int has_date, ok = 0;
	int64_t date = ew_tx_msg_date(m, 0, &has_date, NULL);

	if (blk == NULL)
		return 0;
	memset(&in, 0, sizeof(in));
	in.src_port = -1;
	if (ew_tx_field(blk, len, "Source-IP", v, sizeof(v)) &&
	    ew_tx_value_addr(v, &a, NULL)) {
		ok = 1;
	} else {
		for (k = 1; k < m->nmsgs && !ok; k++)
			if (m->msgs[k].headers != NULL)
				ok = received_addr(m->msgs[k].headers, &a);
		for (k = 0; k < m->nparts && !ok; k++)
			if (strcmp(m->parts[k].ctype, "text/rfc822-headers") ==
			    0)
				ok = received_addr(m->parts[k].data, &a);
	}
	if (ew_tx_field(blk, len, "Source-Port", v, sizeof(v))) {
		uint64_t p;

		if (ew_parse_uint(v, strlen(v), 1, 65535, &p) == 0)
			in.src_port = (long)p;
	}
	if (!((ew_tx_field(blk, len, "Arrival-Date", v, sizeof(v)) ||
		  ew_tx_field(blk, len, "Received-Date", v, sizeof(v))) &&
		ew_mail_time_parse(v, strlen(v), &in.tm) == 0))
		ew_tx_no_time(&in.tm, date, has_date);
	c->format = "arf";
	c->confidence = ok ? "high" : "low";
	c->category = "spam";
	if (ew_tx_field(blk, len, "Feedback-Type", v, sizeof(v))) {
		if (strcasecmp(v, "virus") == 0)
			c->category = "malware";
		else if (strcasecmp(v, "fraud") == 0)
			c->category = "phishing";
	}
	if (!ok)
		return 1;
	ew_tx_addr_text(&a, -1, in.src, sizeof(in.src));
	in.ports = ew_tx_dup_ports("25");
	return ew_complaint_add(c, &in) < 0 ? -1 : 1;
}

/* ---- X-ARF 0.1 / 0.2 ---- */

/*
 * Parts that may carry an X-ARF report: any text type, and attachments that
 * senders label as bytes or YAML ("arf_report1.txt" as
 * application/octet-stream).  The fields decide, not the label.
 */
static int
xarf_part_type(const char *ctype)
{
	return strncmp(ctype, "text/", 5) == 0 ||
	       strcmp(ctype, "application/octet-stream") == 0 ||
	       strstr(ctype, "yaml") != NULL;
}

static int
xarf_is_report(const struct ew_mail_part *p, char *src, size_t cap)
{
	char st[64];

	return xarf_part_type(p->ctype) &&
	       ew_tx_field(p->data, p->len, "Source", src, cap) &&
	       (ew_tx_field(p->data, p->len, "Report-Type", st, sizeof(st)) ||
		   ew_tx_field(
		       p->data, p->len, "Reported-From", st, sizeof(st)) ||
		   ew_tx_field(p->data, p->len, "Schema-URL", st, sizeof(st)));
}

static const char *
xarf_category(const struct ew_mail_part *p)
{
	static const char *const keys[] = { "Report-Type", "Service",
		"Category" };
	const char *cat = NULL;
	char st[64];
	size_t k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && cat == NULL; k++)
		if (ew_tx_field(p->data, p->len, keys[k], st, sizeof(st)))
			cat = ew_mail_category(st, strlen(st));
	return cat;
}

/*
 * One report part: its incident into c (0, or -1 when c is full).  The
 * victim is "Destination" (or Webiron's "Targeted-Range"), its service
 * port "Port".
 */
static int
xarf_report(struct ew_complaint *c, const struct ew_mail *m,
    const struct ew_mail_part *p, const char *src)
{
	static const char *const dkeys[] = { "Destination", "Targeted-Range",
		"Destination-IP" };
	struct ew_incident in;
	char v[256], st[64], port[32];
	struct ew_addr a;
	int has_date, plen = -1;
	int64_t date;
	size_t k;

	if (ew_tx_field(p->data, p->len, "Source-Type", st, sizeof(st)) &&
	    strncasecmp(st, "ip", 2) != 0)
		return 0; /* a URI or domain: no address */
	if (!ew_tx_value_addr(src, &a, &plen))
		return 0;
	memset(&in, 0, sizeof(in));
	in.src_port = -1;
	ew_tx_addr_text(&a, plen, in.src, sizeof(in.src));
	for (k = 0; k < sizeof(dkeys) / sizeof(dkeys[0]); k++) {
		plen = -1;
		if (ew_tx_field(p->data, p->len, dkeys[k], st, sizeof(st)) &&
		    ew_tx_value_addr(st, &a, &plen)) {
			ew_tx_addr_text(&a, plen, in.dst, sizeof(in.dst));
			break;
		}
	}
	if (ew_tx_field(p->data, p->len, "Port", port, sizeof(port))) {
		struct ew_buf pb = EW_BUF_INIT;
		char line[48];

		snprintf(line, sizeof(line), "port %s", port);
		ew_mail_ports(line, strlen(line), &pb);
		in.ports = ew_tx_dup_ports(ew_buf_str(&pb));
		ew_buf_free(&pb);
	}
	date = ew_tx_msg_date(m, p->msg, &has_date, NULL);
	if (!(ew_tx_field(p->data, p->len, "Date", v, sizeof(v)) &&
		ew_mail_time_parse(v, strlen(v), &in.tm) == 0))
		ew_tx_no_time(&in.tm, date, has_date);
	return ew_complaint_add(c, &in); /* repeats: complaint.c's dedupe */
}

/*
 * Every X-ARF report part of the mail (a batched report carries one per
 * event): the first sets the category, "Reported-From" names the
 * reporter (the mail's From: may be a bounce or removal alias).
 */
int
ew_extract_xarf_yaml(struct ew_complaint *c, const struct ew_mail *m)
{
	size_t k;
	int found = 0;

	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		char v[256], st[256];
		const char *cat;

		if (!xarf_is_report(p, v, sizeof(v)))
			continue;
		if (!found) {
			c->format = "x-arf";
			c->confidence = "high";
			cat = xarf_category(p);
			c->category = cat != NULL ? cat : "other";
			if (ew_tx_field(p->data, p->len, "Reported-From", st,
				sizeof(st)) &&
			    strchr(st, '@') != NULL) {
				free(c->reporter);
				c->reporter = ew_strndup(st, strlen(st));
			}
		}
		found = 1;
		if (ew_complaint_over_budget(c) || xarf_report(c, m, p, v) < 0)
			return -1;
	}
	return found;
}
