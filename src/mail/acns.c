/*
 * acns.c - ACNS copyright notices, read through the XML layer (xml.c).
 *
 * An ACNS notice is an <Infringement> XML document, embedded in a
 * (often PGP-signed) text body or attached as application/xml.  Facts:
 * Source/IP_Address (our address), Source/Port (the peer port on our
 * side, so the source port), Source/TimeStamp (ISO 8601, UTC) and
 * the reporter Complainant/Email.  A notice that is not well-formed, or
 * carries a DOCTYPE or an entity declaration, is skipped (the XML layer
 * never reads a DTD or expands an entity).  At most ACNS_MAX_DOCS
 * documents of at most ACNS_MAX_LEN bytes each are read from one
 * message.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "mail/mail_int.h"
#include "mail/xml_int.h"

#define ACNS_MAX_DOCS 100
#define ACNS_MAX_LEN (1024 * 1024)

/* The element's text in out; 1 when not empty. */
static int
text_of(const struct ew_xml *n, char *out, size_t cap)
{
	const char *t = ew_xml_text(n);
	size_t len = strlen(t);

	if (len >= cap)
		len = cap - 1;
	memcpy(out, t, len);
	out[len] = '\0';
	return len > 0;
}

/* One document; 1 when it gave an incident, 0 if not, -1 on a limit. */
static int
one(struct ew_complaint *c, const char *s, size_t n, char **reporter)
{
	struct ew_xml_doc *doc;
	const struct ew_xml *root, *src;
	struct ew_incident in;
	struct ew_addr a;
	char v[256];
	int rc = 0;

	if (ew_xml_parse(s, n, c, &doc, NULL) != 0)
		return ew_complaint_over_budget(c) ? -1 : 0;
	root = ew_xml_root(doc);
	if (strcmp(root->name, "Infringement") != 0)
		goto out;
	src = ew_xml_child(root, "Source");
	if (*reporter == NULL &&
	    text_of(ew_xml_child(ew_xml_child(root, "Complainant"), "Email"), v,
		sizeof(v)))
		*reporter = ew_strndup(v, strlen(v));
	if (!text_of(ew_xml_child(src, "IP_Address"), v, sizeof(v)) ||
	    !ew_addr_parse(v, &a))
		goto out;
	memset(&in, 0, sizeof(in));
	ew_addr_format(&a, 0, in.src, sizeof(in.src));
	in.src_port = -1;
	if (text_of(ew_xml_child(src, "Port"), v, sizeof(v))) {
		uint64_t p;

		if (ew_parse_uint(v, strlen(v), 1, 65535, &p) == 0)
			in.src_port = (long)p;
	}
	if (!text_of(ew_xml_child(src, "TimeStamp"), v, sizeof(v)) ||
	    ew_mail_time_parse(v, strlen(v), &in.tm) < 0) {
		memset(&in.tm, 0, sizeof(in.tm));
		in.tm.zs = EW_ZONE_NONE;
	}
	rc = ew_complaint_add(c, &in) < 0 ? -1 : 1;
out:
	ew_xml_free(doc);
	return rc;
}

int
ew_extract_acns(struct ew_complaint *c, const struct ew_mail *m)
{
	static const char open[] = "<Infringement", close[] = "</Infringement>";
	size_t k, docs = 0;
	char *reporter = NULL;
	int found = 0;

	for (k = 0; k < m->nparts && docs < ACNS_MAX_DOCS; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		const char *s = p->data, *end = p->data + p->len;

		if (strncmp(p->ctype, "text/", 5) != 0 &&
		    strcmp(p->ctype, "application/xml") != 0)
			continue;
		while (docs < ACNS_MAX_DOCS && (s = strstr(s, open)) != NULL &&
		       s < end) {
			const char *e = strstr(s, close), *b = s;
			int r;

			if (e == NULL)
				break;
			e += sizeof(close) - 1;
			/* keep the XML declaration (it names the encoding) */
			if (s - p->data >= 5) {
				const char *x = s;

				while (x > p->data && s - x < 200 &&
				       strncmp(x, "<?xml", 5) != 0)
					x--;
				if (strncmp(x, "<?xml", 5) == 0)
					b = x;
			}
			docs++;
			if ((size_t)(e - b) <= ACNS_MAX_LEN) {
				r = one(c, b, (size_t)(e - b), &reporter);
				if (r < 0) {
					free(reporter);
					return -1;
				}
				found |= r;
			}
			s = e;
		}
	}
	if (found) {
		c->format = "acns";
		c->category = "copyright";
		c->confidence = "high";
		if (reporter != NULL) {
			free(c->reporter);
			c->reporter = reporter;
			reporter = NULL;
		}
	}
	free(reporter);
	return found;
}
