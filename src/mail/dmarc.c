/*
 * dmarc.c - DMARC aggregate reports (RFC 7489 appendix C).
 *
 * A mail receiver sends a domain's owner a <feedback> report for each
 * day: report_metadata (org_name, email, report_id, and date_range
 * begin/end in seconds since the epoch), the policy_published for the
 * domain, and one <record> per sending address: row/source_ip,
 * row/count, row/policy_evaluated (disposition none, quarantine or
 * reject; dkim and spf, the DMARC-aligned results; optional override
 * reasons), identifiers/header_from and the raw auth_results.  It comes
 * as an attachment, plain, gzip'd or zipped (complaint.c unpacks it).
 *
 * What an exit operator needs from it: the addresses that sent mail in
 * the domain's name and failed DMARC.  A record whose evaluated dkim or
 * spf is "pass" passed DMARC (the result was aligned with the From
 * domain): that is the domain's own or authorised mail, not abuse, and
 * gives no incident.  So does a failing record the receiver excused as
 * forwarded or from a mailing list (policy_evaluated/reason), and a
 * record without an evaluation.  Every other record is an incident:
 * source = source_ip; destination port 25 (the mail reached the
 * reporter's servers by SMTP; their addresses are not in the report);
 * no instant, but the report's date range as the interval the mail
 * arrived in.  Several records of one address become one incident (the
 * complaint's dedupe).  A report whose records all pass is a complaint
 * without incidents.  The category is spam (mail spoofing a domain).
 * The reporter is report_metadata/email (or org_name); the mail's sender,
 * when of another domain, forwarded it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "mail/mail_int.h"
#include "mail/xml_int.h"

/* Latest plausible time, 9999-12-31T23:59:59Z. */
#define DMARC_MAX_TIME 253402300799ll

static int
addr_of(const char *s, char *out, size_t cap)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	struct ew_addr a;

	if (!ew_addr_parse(s, &a))
		return 0;
	if (a.family == EW_AF_INET6 && memcmp(a.b, mapped, 12) == 0) {
		memmove(a.b, a.b + 12, 4);
		memset(a.b + 4, 0, 12);
		a.family = EW_AF_INET;
	}
	ew_addr_format(&a, 0, out, cap);
	return 1;
}

static int
epoch(const char *s, int64_t *out)
{
	uint64_t v;

	if (ew_parse_uint(s, strlen(s), 0, DMARC_MAX_TIME, &v) != 0)
		return 0;
	*out = (int64_t)v;
	return 1;
}

/* The report's date range as the interval of every incident. */
static void
range(const struct ew_xml *meta, struct ew_mtime *tm)
{
	const struct ew_xml *dr = ew_xml_child(meta, "date_range");
	int64_t b, e;

	memset(tm, 0, sizeof(*tm));
	tm->zs = EW_ZONE_NONE;
	if (!epoch(ew_xml_get(dr, "begin"), &b) ||
	    !epoch(ew_xml_get(dr, "end"), &e) || e < b)
		return;
	tm->from = b;
	tm->to = e;
	tm->has_from = tm->has_to = 1;
	tm->zs = EW_ZONE_OFFSET; /* seconds since the epoch are UTC */
}

/* Did this record fail DMARC without an excuse the receiver accepted? */
static int
failed(const struct ew_xml *row)
{
	const struct ew_xml *pe = ew_xml_child(row, "policy_evaluated"), *r;

	if (pe == NULL)
		return 0;
	if (strcasecmp(ew_xml_get(pe, "dkim"), "pass") == 0 ||
	    strcasecmp(ew_xml_get(pe, "spf"), "pass") == 0)
		return 0;
	for (r = ew_xml_child(pe, "reason"); r != NULL; r = ew_xml_next(r)) {
		const char *t = ew_xml_get(r, "type");

		if (strcasecmp(t, "forwarded") == 0 ||
		    strcasecmp(t, "trusted_forwarder") == 0 ||
		    strcasecmp(t, "mailing_list") == 0)
			return 0;
	}
	return 1;
}

static const char *
domain_of(const char *mail)
{
	const char *at = mail != NULL ? strrchr(mail, '@') : NULL;

	return at != NULL ? at + 1 : "";
}

/* The reporter from report_metadata; the mail's sender forwarded it
 * when its domain is another. */
static void
reporter(struct ew_complaint *c, const struct ew_xml *meta)
{
	const char *who = ew_xml_get(meta, "email");

	if (strncasecmp(who, "mailto:", 7) == 0)
		who += 7;
	if (strchr(who, '@') == NULL) {
		/* no address: the organisation, if nothing better */
		who = ew_xml_get(meta, "org_name");
		if (c->reporter == NULL && *who != '\0')
			c->reporter = ew_strndup(who, strlen(who));
		return;
	}
	if (c->forwarder != NULL)
		return;
	if (c->reporter != NULL &&
	    strcasecmp(domain_of(c->reporter), domain_of(who)) != 0)
		c->forwarder = c->reporter;
	else
		free(c->reporter);
	c->reporter = ew_strndup(who, strlen(who));
}

int
ew_extract_dmarc(
    struct ew_complaint *c, const char *where, const char *data, size_t len)
{
	struct ew_xml_doc *doc;
	struct ew_xml_error err;
	const struct ew_xml *root, *meta, *rec;
	struct ew_mtime tm;
	char why[192];
	int rc;

	rc = ew_xml_parse(data, len, c, &doc, &err);
	if (rc == EW_XML_BUDGET)
		return -1;
	if (rc != 0)
		return ew_complaint_refuse(c, "%s: DMARC report: %s: refused",
		    where, ew_xml_strerror(rc, &err, why, sizeof(why)));
	root = ew_xml_root(doc);
	if (strcmp(root->name, "feedback") != 0) {
		ew_xml_free(doc);
		return 0;
	}
	meta = ew_xml_child(root, "report_metadata");
	range(meta, &tm);
	reporter(c, meta);
	c->format = "dmarc";
	c->category = "spam";
	c->confidence = "high";
	rc = 1;
	for (rec = ew_xml_child(root, "record"); rec != NULL;
	     rec = ew_xml_next(rec)) {
		const struct ew_xml *row = ew_xml_child(rec, "row");
		struct ew_incident in;

		if (ew_complaint_over_budget(c)) {
			rc = -1;
			break;
		}
		memset(&in, 0, sizeof(in));
		if (!failed(row) || !addr_of(ew_xml_get(row, "source_ip"),
					in.src, sizeof(in.src)))
			continue;
		in.src_port = -1;
		in.tm = tm;
		in.ports = ew_strndup("25", 2);
		if (ew_complaint_add(c, &in) < 0) {
			rc = -1;
			break;
		}
	}
	ew_xml_free(doc);
	return rc;
}
