/*
 * xml_int.h - the mail module's XML layer (xml.c, the only file that
 * sees libxml2), for the readers of XML formats: ACNS (acns.c), DMARC
 * aggregate reports (dmarc.c) and IODEF (iodef.c).
 *
 * ew_xml_parse turns a document into a small read-only tree of our own:
 * elements only, each with its local name (namespace prefixes dropped),
 * its attributes and its own text (the text and CDATA directly inside
 * it, trimmed).  The parser never touches the network, never reads a
 * DTD and never expands an entity: a document with a DOCTYPE or an
 * entity declaration is refused outright (XXE, billion laughs).  Input
 * over EW_XML_MAX_LEN bytes, nesting deeper than EW_XML_MAX_DEPTH or
 * more than EW_XML_MAX_NODES elements are refused, not truncated.
 * Parsing feeds libxml2 in chunks and checks the mail's time budget
 * between them.
 */
#ifndef EW_MAIL_XML_INT_H
#define EW_MAIL_XML_INT_H

#include <stddef.h>

struct ew_complaint;

#define EW_XML_MAX_LEN (32u * 1024 * 1024)
#define EW_XML_MAX_DEPTH 64
#define EW_XML_MAX_NODES 1000000u

struct ew_xml_attr {
	const char *name, *value;
};

/* One element; every string is NUL-terminated and never NULL. */
struct ew_xml {
	const char *name; /* local name ("IODEF-Document", not "iodef:...") */
	const char *ns;   /* namespace URI, "" when none */
	const char *text; /* own text, trimmed; "" when none */
	const struct ew_xml_attr *attr;
	size_t nattr;
	unsigned line; /* line of the start tag in the document */
	const struct ew_xml *parent, *child, *next;
};

struct ew_xml_doc;

/* Why a parse failed (error codes below); msg is a short phrase. */
enum ew_xml_err {
	EW_XML_MALFORMED = -1, /* not well-formed: msg and line say where */
	EW_XML_DOCTYPE = -2,   /* a DOCTYPE or entity declaration */
	EW_XML_LIMIT = -3,     /* over a size, depth or element limit */
	EW_XML_NOMEM = -4,
	EW_XML_BUDGET = -5, /* the mail's time budget ran out */
};
struct ew_xml_error {
	unsigned line;
	char msg[128];
};

/*
 * Parse the n bytes at s.  c (may be NULL) is the complaint whose time
 * budget the parse draws on.  0 and *out (free with ew_xml_free), or an
 * enum ew_xml_err with *out NULL and err (may be NULL) filled in.
 */
int ew_xml_parse(const char *s, size_t n, struct ew_complaint *c,
    struct ew_xml_doc **out, struct ew_xml_error *err);
void ew_xml_free(struct ew_xml_doc *d);
const struct ew_xml *ew_xml_root(const struct ew_xml_doc *d);
/* A phrase for a parse failure: "malformed XML (line 3: ...)" into out. */
const char *ew_xml_strerror(
    int rc, const struct ew_xml_error *err, char *out, size_t cap);

/* The first child element named name (any namespace), or NULL; n may
 * be NULL. */
const struct ew_xml *ew_xml_child(const struct ew_xml *n, const char *name);
/* The next sibling element with the same name as n, or NULL. */
const struct ew_xml *ew_xml_next(const struct ew_xml *n);
/* An attribute's value (local name), or NULL. */
const char *ew_xml_attr(const struct ew_xml *n, const char *name);
/* n's own text, "" when n is NULL. */
const char *ew_xml_text(const struct ew_xml *n);
/* The text of the element at path "a/b/c" below n, "" when absent. */
const char *ew_xml_get(const struct ew_xml *n, const char *path);

#endif
