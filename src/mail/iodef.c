/*
 * iodef.c - IODEF incident reports (RFC 5070 v1, RFC 7970 v2).
 *
 * Abuse platforms exchange incidents as an <IODEF-Document> (namespace
 * urn:ietf:params:xml:ns:iodef-1.0 or -2.0, often with an "iodef:"
 * prefix), attached as application/iodef+xml, application/xml or
 * text/xml, or pasted inline in a text part.  Each <Incident> holds:
 *
 *	Contact@role="creator" (nested Contacts too): the reporter, its
 *	  Email (v1: text; v2: Email/EmailTo);
 *	DetectTime, StartTime, EndTime, ReportTime: xs:dateTime with a
 *	  mandatory offset;
 *	Assessment/Impact@type (v1) or Assessment/SystemImpact@type (v2)
 *	  and Description: the kind of abuse;
 *	EventData (nesting, each level may restate the times) with Flow
 *	  elements of System@category="source" | "target", each a Node
 *	  (Address@category ipv4-addr, ipv6-addr, ipv4-net, ipv6-net;
 *	  v1 NodeName or v2 DomainData/Name for names) and Service
 *	  (Port, or Portlist "80,443,1000-1010").
 *
 * Every source address of a Flow pairs with every target of the same
 * Flow (address or name) into an incident: src, the source's port when
 * it names one, dst or dst_host, the target's ports.  A Flow without a
 * target gives one incident per source.  Times: StartTime to EndTime,
 * else DetectTime, from the innermost EventData that states one, else
 * the Incident's.  Real data is messy (empty addresses, Port 0,
 * ip_protocol="4"): what does not parse is skipped.  A document that is
 * not well-formed, or carries a DOCTYPE, refuses the mail (see xml.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "lib/port.h"
#include "mail/mail_int.h"
#include "mail/xml_int.h"

#define IODEF_MAX_DOCS 16

struct times {
	struct ew_mtime start, end, detect;
	int has_start, has_end, has_detect;
	int64_t report;
	int has_report;
};

struct doc_ctx {
	struct ew_complaint *c;
	char *reporter;
	const char *category;
	int incidents; /* 1 when any Incident was read */
};

/* ---- small parsers ---- */

static void
unmap(struct ew_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (a->family == EW_AF_INET6 && memcmp(a->b, mapped, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = EW_AF_INET;
	}
}

/* "192.0.2.7" or "192.0.2.0/24" (host bits cleared) into out. */
static int
addr_or_net(const char *s, char *out, size_t cap)
{
	char tmp[EW_ADDR_STRLEN + 8];
	const char *slash = strchr(s, '/');
	struct ew_addr a;
	uint64_t plen;
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s), k;

	if (n == 0 || n >= EW_ADDR_STRLEN)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!ew_addr_parse(tmp, &a))
		return 0;
	unmap(&a);
	if (slash == NULL) {
		ew_addr_format(&a, 0, out, cap);
		return 1;
	}
	if (ew_parse_uint(
		slash + 1, strlen(slash + 1), 0, ew_addr_bits(&a), &plen) != 0)
		return 0;
	for (k = 0; k < 16; k++) {
		unsigned lo = (unsigned)k * 8;

		if (lo >= plen)
			a.b[k] = 0;
		else if (plen - lo < 8)
			a.b[k] &= (uint8_t)(0xff << (8 - (plen - lo)));
	}
	n = ew_addr_format(&a, 0, out, cap);
	snprintf(out + n, cap - n, "/%u", (unsigned)plen);
	return 1;
}

/* A Portlist ("80,443,1000-1010") or Port ("22") into b, comma
 * separated; port 0 and anything malformed are skipped. */
static void
add_ports(struct ew_buf *b, const char *s)
{
	while (*s != '\0') {
		const char *e = strchr(s, ',');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);
		struct ew_port_range pr;

		while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
				    s[n - 1] == '\n'))
			n--;
		if (ew_port_range_parse(s, n, &pr) == 0) {
			if (b->len > 0)
				ew_buf_putc(b, ',');
			ew_ports_format(&pr, 1, b);
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
}

static int
time_of(const struct ew_xml *n, struct ew_mtime *tm)
{
	const char *t = ew_xml_text(n);

	return n != NULL && *t != '\0' &&
	       ew_mail_time_parse(t, strlen(t), tm) == 0;
}

/* The times an element states, over those it inherits. */
static void
own_times(const struct ew_xml *n, struct times *t)
{
	struct ew_mtime tm;

	if (time_of(ew_xml_child(n, "StartTime"), &tm)) {
		t->start = tm;
		t->has_start = 1;
		t->has_end = 0;
		if (time_of(ew_xml_child(n, "EndTime"), &tm)) {
			t->end = tm;
			t->has_end = 1;
		}
	} else if (time_of(ew_xml_child(n, "EndTime"), &tm)) {
		t->end = tm;
		t->has_end = 1;
	}
	if (time_of(ew_xml_child(n, "DetectTime"), &tm)) {
		t->detect = tm;
		t->has_detect = 1;
	}
	if (time_of(ew_xml_child(n, "ReportTime"), &tm)) {
		t->report = tm.t;
		t->has_report = 1;
	}
}

static void
incident_time(const struct times *t, struct ew_mtime *tm)
{
	if (t->has_start) {
		*tm = t->start;
		if (t->has_end && t->end.to >= tm->from)
			tm->to = t->end.to;
	} else if (t->has_detect) {
		*tm = t->detect;
	} else if (t->has_end) {
		*tm = t->end;
	} else {
		/* no event time: before the report, if it has a time */
		memset(tm, 0, sizeof(*tm));
		tm->zs = EW_ZONE_NONE;
		tm->to = t->report;
		tm->has_to = t->has_report;
	}
}

/* ---- reporter and category ---- */

static const char *
domain_of(const char *mail)
{
	const char *at = strrchr(mail, '@');

	return at != NULL ? at + 1 : "";
}

static const char *
contact_email(const struct ew_xml *ct)
{
	const struct ew_xml *e = ew_xml_child(ct, "Email");
	const char *s = ew_xml_text(ew_xml_child(e, "EmailTo")); /* v2 */

	if (*s == '\0')
		s = ew_xml_text(e); /* v1 */
	if (strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	return strchr(s, '@') != NULL ? s : NULL;
}

/* The e-mail of the first Contact with this role, nested ones too
 * (role NULL: any). */
static const char *
find_contact(const struct ew_xml *n, const char *role, unsigned depth)
{
	const struct ew_xml *ct;

	if (depth > 8)
		return NULL;
	for (ct = ew_xml_child(n, "Contact"); ct != NULL;
	     ct = ew_xml_next(ct)) {
		const char *r = ew_xml_attr(ct, "role"), *e;

		if ((role == NULL || (r != NULL && strcmp(r, role) == 0)) &&
		    (e = contact_email(ct)) != NULL)
			return e;
		if ((e = find_contact(ct, role, depth + 1)) != NULL)
			return e;
	}
	return NULL;
}

static const char *
impact_category(const char *type)
{
	static const struct {
		const char *type, *cat;
	} tab[] = { { "dos", "ddos" }, { "recon", "scan" },
		{ "social-engineering", "phishing" }, { "admin", "exploit" },
		{ "user", "exploit" }, { "takeover-account", "login-attack" },
		{ "takeover-service", "exploit" },
		{ "takeover-system", "exploit" },
		{ "breach-credential", "login-attack" },
		{ "availability-service", "ddos" },
		{ "availability-system", "ddos" }, { "extortion", "fraud" } };
	size_t k;

	if (type == NULL)
		return NULL;
	if (strncmp(type, "availability-", 13) == 0)
		return "ddos";
	for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++)
		if (strcmp(type, tab[k].type) == 0)
			return tab[k].cat;
	return NULL;
}

static const char *
category(const struct ew_xml *inc)
{
	const struct ew_xml *as = ew_xml_child(inc, "Assessment"), *im;
	const char *cat = NULL, *d;
	static const char *const kinds[] = { "Impact", "SystemImpact" };
	size_t k;

	for (k = 0; k < 2 && cat == NULL; k++)
		for (im = ew_xml_child(as, kinds[k]); im != NULL && cat == NULL;
		     im = ew_xml_next(im)) {
			const char *t = ew_xml_attr(im, "type");
			const char *x = ew_xml_attr(im, "ext-type");

			cat = impact_category(t);
			if (cat == NULL && x != NULL)
				cat = ew_mail_category(x, strlen(x));
			if (cat == NULL)
				cat = ew_mail_category(
				    ew_xml_text(im), strlen(ew_xml_text(im)));
		}
	d = ew_xml_text(ew_xml_child(inc, "Description"));
	if (cat == NULL)
		cat = ew_mail_category(d, strlen(d));
	return cat;
}

/* ---- flows ---- */

struct side {
	struct ew_buf addrs; /* NUL-separated addresses or CIDRs */
	struct ew_buf names; /* NUL-separated host names */
	struct ew_buf ports; /* comma-separated */
};

static void
side_node(struct side *sd, const struct ew_xml *node)
{
	const struct ew_xml *a, *nm;
	char v[EW_MAIL_ADDRLEN];

	for (a = ew_xml_child(node, "Address"); a != NULL; a = ew_xml_next(a)) {
		const char *cat = ew_xml_attr(a, "category");

		if (cat != NULL && strcmp(cat, "ipv4-addr") != 0 &&
		    strcmp(cat, "ipv6-addr") != 0 &&
		    strcmp(cat, "ipv4-net") != 0 &&
		    strcmp(cat, "ipv6-net") != 0)
			continue;
		if (!addr_or_net(ew_xml_text(a), v, sizeof(v)))
			continue;
		ew_buf_add(&sd->addrs, v, strlen(v) + 1);
	}
	nm = ew_xml_child(node, "NodeName");
	if (nm == NULL)
		nm = ew_xml_child(ew_xml_child(node, "DomainData"), "Name");
	for (; nm != NULL; nm = ew_xml_next(nm)) {
		const char *t = ew_xml_text(nm);
		size_t n = strlen(t);

		if (n > 0 && n < sizeof(((struct ew_incident *)0)->dst_host) &&
		    strchr(t, '.') != NULL && strpbrk(t, " \t/@") == NULL)
			ew_buf_add(&sd->names, t, n + 1);
	}
}

static void
side_read(struct side *sd, const struct ew_xml *sys)
{
	const struct ew_xml *n, *sv;

	for (n = ew_xml_child(sys, "Node"); n != NULL; n = ew_xml_next(n))
		side_node(sd, n);
	for (sv = ew_xml_child(sys, "Service"); sv != NULL;
	     sv = ew_xml_next(sv)) {
		add_ports(&sd->ports, ew_xml_get(sv, "Port"));
		add_ports(&sd->ports, ew_xml_get(sv, "Portlist"));
	}
}

static void
side_free(struct side *sd)
{
	ew_buf_free(&sd->addrs);
	ew_buf_free(&sd->names);
	ew_buf_free(&sd->ports);
}

/* The next NUL-separated string of b after *i; NULL at the end. */
static const char *
next_str(const struct ew_buf *b, size_t *i)
{
	const char *s;

	if (*i >= b->len)
		return NULL;
	s = b->p + *i;
	*i += strlen(s) + 1;
	return s;
}

static int
emit(struct doc_ctx *x, const char *src, long sport, const char *dst,
    const char *host, const char *ports, const struct ew_mtime *tm)
{
	struct ew_incident in;

	if (ew_complaint_over_budget(x->c))
		return -1;
	memset(&in, 0, sizeof(in));
	snprintf(in.src, sizeof(in.src), "%s", src);
	in.src_port = sport;
	if (dst != NULL)
		snprintf(in.dst, sizeof(in.dst), "%s", dst);
	if (host != NULL)
		snprintf(in.dst_host, sizeof(in.dst_host), "%s", host);
	if (ports != NULL && *ports != '\0')
		in.ports = ew_strndup(ports, strlen(ports));
	in.tm = *tm;
	return ew_complaint_add(x->c, &in);
}

static int
flow(struct doc_ctx *x, const struct ew_xml *fl, const struct times *t)
{
	struct side src, dst;
	const struct ew_xml *sys;
	struct ew_mtime tm;
	size_t i = 0, j, n;
	const char *s, *d;
	long sport = -1;
	int rc = 0;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	for (sys = ew_xml_child(fl, "System"); sys != NULL;
	     sys = ew_xml_next(sys)) {
		const char *cat = ew_xml_attr(sys, "category");

		if (cat != NULL && strcmp(cat, "source") == 0)
			side_read(&src, sys);
		else if (cat != NULL && strcmp(cat, "target") == 0)
			side_read(&dst, sys);
	}
	ew_buf_putc(&src.ports, '\0');
	ew_buf_putc(&dst.ports, '\0');
	if (src.ports.oom || dst.ports.oom || src.addrs.oom || dst.addrs.oom ||
	    dst.names.oom) {
		rc = -1;
		goto out;
	}
	/* a source port is kept only when it is one port */
	if (src.ports.p[0] != '\0' && strpbrk(src.ports.p, ",-") == NULL) {
		uint64_t p;

		if (ew_parse_uint(
			src.ports.p, strlen(src.ports.p), 1, 65535, &p) == 0)
			sport = (long)p;
	}
	incident_time(t, &tm);
	while (rc == 0 && (s = next_str(&src.addrs, &i)) != NULL) {
		n = 0;
		for (j = 0; rc == 0 && (d = next_str(&dst.addrs, &j)) != NULL;
		     n++)
			rc = emit(x, s, sport, d, NULL, dst.ports.p, &tm);
		for (j = 0; rc == 0 && (d = next_str(&dst.names, &j)) != NULL;
		     n++)
			rc = emit(x, s, sport, NULL, d, dst.ports.p, &tm);
		if (rc == 0 && n == 0)
			rc = emit(x, s, sport, NULL, NULL, dst.ports.p, &tm);
	}
out:
	side_free(&src);
	side_free(&dst);
	return rc;
}

/* An EventData and the ones nested in it (depth is bounded by the XML
 * layer). */
static int
event_data(struct doc_ctx *x, const struct ew_xml *ev, struct times t)
{
	const struct ew_xml *k;
	int rc = 0;

	own_times(ev, &t);
	for (k = ew_xml_child(ev, "Flow"); k != NULL && rc == 0;
	     k = ew_xml_next(k))
		rc = flow(x, k, &t);
	for (k = ew_xml_child(ev, "EventData"); k != NULL && rc == 0;
	     k = ew_xml_next(k))
		rc = event_data(x, k, t);
	return rc;
}

static int
incident(struct doc_ctx *x, const struct ew_xml *inc)
{
	const struct ew_xml *ev;
	struct times t;
	const char *who;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	own_times(inc, &t);
	x->incidents = 1;
	if (x->reporter == NULL &&
	    ((who = find_contact(inc, "creator", 0)) != NULL ||
		(who = find_contact(inc, "irt", 0)) != NULL ||
		(who = find_contact(inc, NULL, 0)) != NULL))
		x->reporter = ew_strndup(who, strlen(who));
	if (x->category == NULL)
		x->category = category(inc);
	for (ev = ew_xml_child(inc, "EventData"); ev != NULL && rc == 0;
	     ev = ew_xml_next(ev))
		rc = event_data(x, ev, t);
	return rc;
}

/* One document: 1 when it is IODEF, 0 when not, -1 to refuse. */
static int
document(struct doc_ctx *x, const char *where, const char *s, size_t n)
{
	struct ew_xml_doc *doc;
	struct ew_xml_error err;
	const struct ew_xml *root, *inc;
	char why[192];
	int rc = ew_xml_parse(s, n, x->c, &doc, &err);

	if (rc == EW_XML_BUDGET)
		return -1;
	if (rc != 0)
		return ew_complaint_refuse(x->c,
		    "%s: IODEF document: %s: refused", where,
		    ew_xml_strerror(rc, &err, why, sizeof(why)));
	root = ew_xml_root(doc);
	if (strcmp(root->name, "IODEF-Document") != 0) {
		ew_xml_free(doc);
		return 0;
	}
	for (inc = ew_xml_child(root, "Incident"); inc != NULL && rc == 0;
	     inc = ew_xml_next(inc))
		rc = incident(x, inc);
	ew_xml_free(doc);
	return rc < 0 ? -1 : 1;
}

static int
xml_part(const struct ew_mail_part *p)
{
	size_t n = p->filename != NULL ? strlen(p->filename) : 0;

	return strcmp(p->ctype, "application/iodef+xml") == 0 ||
	       strcmp(p->ctype, "application/xml") == 0 ||
	       strcmp(p->ctype, "text/xml") == 0 ||
	       (n > 4 && strcasecmp(p->filename + n - 4, ".xml") == 0);
}

/*
 * The '<' of a tag "<NAME", "<prefix:NAME" (close = 0) or "</NAME",
 * "</prefix:NAME" (close = 1) whose name starts at o; NULL if the text
 * at o is not such a tag.
 */
static const char *
tag_start(const char *s, const char *o, int close)
{
	const char *p = o;

	if (p > s && p[-1] == ':') {
		for (p--; p > s && o - p < 64 &&
			  (isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
			      p[-1] == '-' || p[-1] == '.');
		     p--)
			;
	}
	if (close) {
		if (p == s || p[-1] != '/')
			return NULL;
		p--;
	}
	return p > s && p[-1] == '<' ? p - 1 : NULL;
}

/*
 * An IODEF document inline in text: from its first start tag (or the
 * XML declaration just before it) to the end of its last end tag.  0
 * when there is none.
 */
static int
inline_doc(const char *s, size_t n, size_t *b, size_t *e)
{
	static const char tag[] = "IODEF-Document";
	const size_t tl = sizeof(tag) - 1;
	const char *o, *p = NULL, *q, *last = NULL;

	for (o = s; (o = memmem(o, (size_t)(s + n - o), tag, tl)) != NULL;
	     o++) {
		if (p == NULL) {
			p = tag_start(s, o, 0);
			continue;
		}
		if (o + tl < s + n && o[tl] == '>' &&
		    tag_start(s, o, 1) != NULL)
			last = o + tl + 1;
	}
	if (p == NULL || last == NULL)
		return 0;
	for (q = p; q > s && p - q < 200; q--)
		if (q[0] == '<' && memcmp(q, "<?xml", 5) == 0)
			break;
	if (memcmp(q, "<?xml", 5) == 0)
		p = q;
	*b = (size_t)(p - s);
	*e = (size_t)(last - s);
	return 1;
}

int
ew_extract_iodef(struct ew_complaint *c, const struct ew_mail *m)
{
	struct doc_ctx x;
	size_t k, docs = 0, b, e;
	int found = 0;

	memset(&x, 0, sizeof(x));
	x.c = c;
	for (k = 0; k < m->nparts && docs < IODEF_MAX_DOCS; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		char where[300];
		int r;

		if ((!xml_part(p) && strncmp(p->ctype, "text/", 5) != 0) ||
		    !inline_doc(p->data, p->len, &b, &e))
			continue;
		if (ew_complaint_over_budget(c))
			goto fail;
		snprintf(where, sizeof(where), "part %zu (%s)", k + 1,
		    p->filename != NULL ? p->filename : p->ctype);
		docs++;
		r = document(&x, where, p->data + b, e - b);
		if (r < 0)
			goto fail;
		found |= r;
	}
	if (!found) {
		free(x.reporter);
		return 0;
	}
	c->format = "iodef";
	c->confidence = "high";
	c->category = x.category;
	if (x.reporter != NULL) {
		/* a sender of another domain forwarded the report */
		if (c->reporter != NULL && c->forwarder == NULL &&
		    strcasecmp(domain_of(c->reporter), domain_of(x.reporter)) !=
			0)
			c->forwarder = c->reporter;
		else
			free(c->reporter);
		c->reporter = x.reporter;
	}
	return 1;
fail:
	free(x.reporter);
	return -1;
}
