/*
 * xml.c - the one file that talks to libxml2 (see xml_int.h).
 *
 * libxml2's push parser is fed the document in EW_XML_CHUNK pieces, the
 * mail's time budget checked between pieces.  Its SAX handler is
 * libxml2's own tree builder with four hooks: a DOCTYPE (internal or
 * external subset) or an entity declaration stops the parse and refuses
 * the document, so no DTD is read and no entity is ever expanded; the
 * element hook counts elements and depth and stops the parse past
 * EW_XML_MAX_NODES or EW_XML_MAX_DEPTH, before the tree can grow; the
 * structured-error hook keeps the first error (with its line) instead
 * of letting libxml2 print it.  Errors libxml2 raises with no parser
 * context (a byte sequence its iconv converter refuses: "encoding error",
 * "I/O error") go to its global generic channel, stderr by default; that
 * channel points at a handler that drops them for the length of the
 * parse, and back at the caller's afterwards.  XML_PARSE_NONET forbids
 * any fetch.
 *
 * The finished libxml2 tree is copied into our own (struct ew_xml,
 * elements only) in one arena and freed at once, so the readers above
 * see plain C structures and libxml2's types stay in this file.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "mail/mail_int.h"
#include "mail/xml_int.h"

#define EW_XML_CHUNK (64 * 1024)
#define ARENA_BLOCK (64 * 1024)

/* ---- arena ---- */

struct blk {
	struct blk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

struct ew_xml_doc {
	struct blk *blocks;
	struct ew_xml *root;
};

static void *
arena(struct ew_xml_doc *d, size_t n)
{
	struct blk *b = d->blocks;
	const size_t al = alignof(max_align_t);
	void *p;

	n = (n + al - 1) / al * al;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->next = d->blocks;
		b->used = 0;
		b->cap = cap;
		d->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static const char *
astr(struct ew_xml_doc *d, const char *s, size_t n)
{
	char *p = arena(d, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
ew_xml_free(struct ew_xml_doc *d)
{
	struct blk *b, *nb;

	if (d == NULL)
		return;
	for (b = d->blocks; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	free(d);
}

/* ---- parsing ---- */

struct pstate {
	size_t nodes;
	int doctype, limit;
	struct ew_xml_error err;
	int has_err;
};

static void
on_doctype(
    void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	xmlParserCtxtPtr p = ctx;
	struct pstate *st = p->_private;

	(void)name;
	(void)ext;
	(void)sys;
	st->doctype = 1;
	xmlStopParser(p);
}

static void
on_entity(void *ctx, const xmlChar *name, int type, const xmlChar *pub,
    const xmlChar *sys, xmlChar *content)
{
	(void)type;
	(void)content;
	on_doctype(ctx, name, pub, sys);
}

static void
on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
    const xmlChar **attr)
{
	xmlParserCtxtPtr p = ctx;
	struct pstate *st = p->_private;

	if (++st->nodes > EW_XML_MAX_NODES || p->nodeNr >= EW_XML_MAX_DEPTH) {
		st->limit = 1;
		xmlStopParser(p);
		return;
	}
	xmlSAX2StartElementNs(
	    ctx, local, prefix, uri, nns, ns, nattr, ndef, attr);
}

/* ctx is the parser context (libxml2 passes its userData, which is
 * the context itself when created with none) */
static void
on_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr p = ctx;
	struct pstate *st = p != NULL ? p->_private : NULL;
	size_t n;

	if (st == NULL || st->has_err || e == NULL || e->level < XML_ERR_ERROR)
		return;
	st->has_err = 1;
	st->err.line = e->line > 0 ? (unsigned)e->line : 0;
	snprintf(st->err.msg, sizeof(st->err.msg), "%s",
	    e->message != NULL ? e->message : "error");
	n = strlen(st->err.msg);
	while (
	    n > 0 && (st->err.msg[n - 1] == '\n' || st->err.msg[n - 1] == ' '))
		st->err.msg[--n] = '\0';
}

/* The element's own text (text and CDATA children), trimmed. */
static const char *
own_text(struct ew_xml_doc *d, xmlNode *n)
{
	xmlNode *k;
	size_t len = 0, o = 0, a, b;
	char *s;

	for (k = n->children; k != NULL; k = k->next)
		if ((k->type == XML_TEXT_NODE ||
			k->type == XML_CDATA_SECTION_NODE) &&
		    k->content != NULL)
			len += strlen((const char *)k->content);
	s = arena(d, len + 1);
	if (s == NULL)
		return NULL;
	for (k = n->children; k != NULL; k = k->next)
		if ((k->type == XML_TEXT_NODE ||
			k->type == XML_CDATA_SECTION_NODE) &&
		    k->content != NULL) {
			size_t l = strlen((const char *)k->content);

			memcpy(s + o, k->content, l);
			o += l;
		}
	for (a = 0; a < o && strchr(" \t\r\n", s[a]) != NULL; a++)
		;
	for (b = o; b > a && strchr(" \t\r\n", s[b - 1]) != NULL; b--)
		;
	memmove(s, s + a, b - a);
	s[b - a] = '\0';
	return s;
}

static int
copy_attrs(struct ew_xml_doc *d, xmlNode *n, struct ew_xml *e)
{
	xmlAttr *a;
	struct ew_xml_attr *v;
	size_t k = 0;

	for (a = n->properties; a != NULL; a = a->next)
		k++;
	e->attr = NULL;
	e->nattr = 0;
	if (k == 0)
		return 0;
	v = arena(d, k * sizeof(*v));
	if (v == NULL)
		return -1;
	for (a = n->properties, k = 0; a != NULL; a = a->next, k++) {
		const char *val = "";

		if (a->children != NULL && a->children->content != NULL)
			val = (const char *)a->children->content;
		v[k].name = astr(
		    d, (const char *)a->name, strlen((const char *)a->name));
		v[k].value = astr(d, val, strlen(val));
		if (v[k].name == NULL || v[k].value == NULL)
			return -1;
	}
	e->attr = v;
	e->nattr = k;
	return 0;
}

/* Copy the element n and everything below it (depth is bounded by the
 * parse).  NULL when out of memory. */
static struct ew_xml *
copy(struct ew_xml_doc *d, xmlNode *n, const struct ew_xml *parent)
{
	struct ew_xml *e = arena(d, sizeof(*e)), *last = NULL;
	xmlNode *k;
	const char *href = n->ns != NULL && n->ns->href != NULL
			       ? (const char *)n->ns->href
			       : "";

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->name = astr(d, (const char *)n->name, strlen((const char *)n->name));
	e->ns = astr(d, href, strlen(href));
	e->text = own_text(d, n);
	e->line = n->line;
	e->parent = parent;
	if (e->name == NULL || e->ns == NULL || e->text == NULL ||
	    copy_attrs(d, n, e) < 0)
		return NULL;
	for (k = n->children; k != NULL; k = k->next) {
		struct ew_xml *ce;

		if (k->type != XML_ELEMENT_NODE)
			continue;
		if ((ce = copy(d, k, e)) == NULL)
			return NULL;
		if (last == NULL)
			e->child = ce;
		else
			last->next = ce;
		last = ce;
	}
	return e;
}

/* libxml2's context-less errors: the parse's own error says enough. */
static void
drop_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static int
fail(struct ew_xml_error *err, int rc, const struct pstate *st)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		if (st != NULL && st->has_err)
			*err = st->err;
	}
	return rc;
}

int
ew_xml_parse(const char *s, size_t n, struct ew_complaint *c,
    struct ew_xml_doc **out, struct ew_xml_error *err)
{
	xmlSAXHandler sax;
	xmlParserCtxtPtr p;
	struct pstate st;
	struct ew_xml_doc *d;
	xmlDoc *doc;
	xmlGenericErrorFunc gen;
	void *genctx;
	size_t off, first = n < 4 ? n : 4;
	int wf, rc = 0;

	*out = NULL;
	if (n > EW_XML_MAX_LEN)
		return fail(err, EW_XML_LIMIT, NULL);
	gen = xmlGenericError;
	genctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, drop_generic);
	memset(&st, 0, sizeof(st));
	memset(&sax, 0, sizeof(sax));
	xmlSAXVersion(&sax, 2);
	sax.internalSubset = on_doctype;
	sax.externalSubset = on_doctype;
	sax.entityDecl = on_entity;
	sax.startElementNs = on_start;
	sax.serror = on_error;
	sax.error = NULL;
	sax.warning = NULL;
	p = xmlCreatePushParserCtxt(&sax, NULL, s, (int)first, "mail.xml");
	if (p == NULL) {
		xmlSetGenericErrorFunc(genctx, gen);
		return fail(err, EW_XML_NOMEM, NULL);
	}
	p->_private = &st;
	xmlCtxtUseOptions(p, XML_PARSE_NONET | XML_PARSE_NOERROR |
				 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	p->sax->serror = on_error;
	for (off = first;; off += EW_XML_CHUNK) {
		size_t k = n - off < EW_XML_CHUNK ? n - off : EW_XML_CHUNK;
		int last = off + k >= n;

		if (c != NULL && ew_complaint_over_budget(c)) {
			rc = EW_XML_BUDGET;
			break;
		}
		if (xmlParseChunk(p, s + off, (int)k, last) != 0 &&
		    !p->wellFormed)
			break;
		if (st.doctype || st.limit || last || p->disableSAX)
			break;
	}
	wf = p->wellFormed;
	doc = p->myDoc;
	p->myDoc = NULL;
	xmlFreeParserCtxt(p);
	xmlSetGenericErrorFunc(genctx, gen);
	if (rc == 0 && st.doctype)
		rc = EW_XML_DOCTYPE;
	else if (rc == 0 && st.limit)
		rc = EW_XML_LIMIT;
	else if (rc == 0 &&
		 (!wf || doc == NULL || xmlDocGetRootElement(doc) == NULL))
		rc = EW_XML_MALFORMED;
	if (rc == 0 && (doc->intSubset != NULL || doc->extSubset != NULL))
		rc = EW_XML_DOCTYPE;
	if (rc != 0) {
		xmlFreeDoc(doc);
		return fail(err, rc, &st);
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL ||
	    (d->root = copy(d, xmlDocGetRootElement(doc), NULL)) == NULL) {
		xmlFreeDoc(doc);
		ew_xml_free(d);
		return fail(err, EW_XML_NOMEM, NULL);
	}
	xmlFreeDoc(doc);
	*out = d;
	return 0;
}

const char *
ew_xml_strerror(int rc, const struct ew_xml_error *err, char *out, size_t cap)
{
	switch (rc) {
	case EW_XML_MALFORMED:
		if (err != NULL && err->msg[0] != '\0')
			snprintf(out, cap, "malformed XML (line %u: %s)",
			    err->line, err->msg);
		else
			snprintf(out, cap, "malformed XML");
		break;
	case EW_XML_DOCTYPE:
		snprintf(out, cap,
		    "XML with a DOCTYPE or entity declaration (never read)");
		break;
	case EW_XML_LIMIT:
		snprintf(out, cap,
		    "XML over %u bytes, %u levels deep or %u elements",
		    EW_XML_MAX_LEN, EW_XML_MAX_DEPTH, EW_XML_MAX_NODES);
		break;
	case EW_XML_BUDGET:
		snprintf(out, cap, "XML parse stopped: time budget spent");
		break;
	default:
		snprintf(out, cap, "out of memory reading XML");
		break;
	}
	return out;
}

/* ---- the tree ---- */

const struct ew_xml *
ew_xml_root(const struct ew_xml_doc *d)
{
	return d != NULL ? d->root : NULL;
}

const struct ew_xml *
ew_xml_child(const struct ew_xml *n, const char *name)
{
	const struct ew_xml *k;

	for (k = n != NULL ? n->child : NULL; k != NULL; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct ew_xml *
ew_xml_next(const struct ew_xml *n)
{
	const struct ew_xml *k;

	for (k = n != NULL ? n->next : NULL; k != NULL; k = k->next)
		if (strcmp(k->name, n->name) == 0)
			return k;
	return NULL;
}

const char *
ew_xml_attr(const struct ew_xml *n, const char *name)
{
	size_t k;

	for (k = 0; n != NULL && k < n->nattr; k++)
		if (strcmp(n->attr[k].name, name) == 0)
			return n->attr[k].value;
	return NULL;
}

const char *
ew_xml_text(const struct ew_xml *n)
{
	return n != NULL ? n->text : "";
}

const char *
ew_xml_get(const struct ew_xml *n, const char *path)
{
	char seg[64];

	while (n != NULL && *path != '\0') {
		const char *e = strchr(path, '/');
		size_t len = e != NULL ? (size_t)(e - path) : strlen(path);

		if (len >= sizeof(seg))
			return "";
		memcpy(seg, path, len);
		seg[len] = '\0';
		n = ew_xml_child(n, seg);
		path += len + (e != NULL);
	}
	return ew_xml_text(n);
}
