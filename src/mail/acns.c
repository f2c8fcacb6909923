/*
 * acns.c - ACNS copyright notices (the only file using libxml2).
 *
 * An ACNS notice is an <Infringement> XML document, embedded in a
 * (often PGP-signed) text body or attached as application/xml.  Facts:
 * Source/IP_Address (our address), Source/Port (the peer port on our
 * side, so the source port), Source/TimeStamp (ISO 8601, UTC) and
 * the reporter Complainant/Email.  Parsing uses XML_PARSE_NONET and
 * never substitutes entities or loads a DTD; a document with a DOCTYPE
 * or an ENTITY declaration is not read at all; errors are not printed.  At most
 * ACNS_MAX_DOCS documents of at most ACNS_MAX_LEN bytes each are read from one
 * message.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "mail/mail_int.h"

#define ACNS_MAX_DOCS 100
#define ACNS_MAX_LEN (1024 * 1024)

static xmlNode *
child(xmlNode *n, const char *name)
{
	xmlNode *c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The trimmed text of an element, in out. */
static int
text_of(xmlNode *n, char *out, size_t cap)
{
	xmlChar *t;
	const char *s, *e;
	size_t len;

	if (n == NULL)
		return 0;
	t = xmlNodeGetContent(n);
	if (t == NULL)
		return 0;
	s = (const char *)t;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' ||
			    e[-1] == '\t'))
		e--;
	len = (size_t)(e - s);
	if (len >= cap)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	xmlFree(t);
	return len > 0;
}

/* One document; 1 when it gave an incident, 0 if not, -1 on a limit. */
static int
one(struct ew_complaint *c, const char *s, size_t n, char **reporter)
{
	xmlDoc *doc;
	xmlNode *root, *src;
	struct ew_incident in;
	struct ew_addr a;
	char v[256];
	int rc = 0;

	/* ACNS needs no DTD: refuse entity tricks (billion laughs) early */
	if (memmem(s, n, "<!DOCTYPE", 9) != NULL ||
	    memmem(s, n, "<!ENTITY", 8) != NULL)
		return 0;
	doc = xmlReadMemory(s, (int)n, "acns.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return 0;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, "Infringement"))
		goto out;
	src = child(root, "Source");
	if (*reporter == NULL &&
	    text_of(child(child(root, "Complainant"), "Email"), v, sizeof(v)))
		*reporter = ew_strndup(v, strlen(v));
	if (!text_of(child(src, "IP_Address"), v, sizeof(v)) ||
	    !ew_addr_parse(v, &a))
		goto out;
	memset(&in, 0, sizeof(in));
	ew_addr_format(&a, 0, in.src, sizeof(in.src));
	in.src_port = -1;
	if (text_of(child(src, "Port"), v, sizeof(v))) {
		uint64_t p;

		if (ew_parse_uint(v, strlen(v), 1, 65535, &p) == 0)
			in.src_port = (long)p;
	}
	if (!text_of(child(src, "TimeStamp"), v, sizeof(v)) ||
	    ew_mail_time_parse(v, strlen(v), &in.tm) < 0) {
		memset(&in.tm, 0, sizeof(in.tm));
		in.tm.zs = EW_ZONE_NONE;
	}
	rc = ew_complaint_add(c, &in) < 0 ? -1 : 1;
out:
	xmlFreeDoc(doc);
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
