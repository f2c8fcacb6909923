/*
 * mime.c - the one file that talks to GMime and GLib.
 *
 * Parses an RFC 5322 message and flattens it into a struct ew_mail (see
 * mail_int.h): every message met (the outer one, then each
 * message/rfc822 part, depth first) with its headers, and every leaf
 * part decoded (transfer encoding undone; text parts converted to
 * UTF-8).  The walk is our own, with a depth counter and a part
 * counter, so nesting deeper than EW_MAIL_MAX_DEPTH or more than
 * EW_MAIL_MAX_PARTS parts is refused.  A cheap scan of the raw bytes
 * first refuses messages whose boundary lines or message/ and multipart/
 * content types alone exceed the part limit, before GMime builds any
 * objects for them; that bounds GMime's own work and recursion.  The
 * walk checks the mail's time budget at every part; when it is spent
 * the parse fails and the caller (complaint.c) says so.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "mail/mail_int.h"

struct walk {
	struct ew_complaint *c; /* its time budget, or NULL */
	struct ew_mail *m;
	struct ew_diag_list *d;
	size_t parts;
	int failed;
};

static char *
dup0(const char *s)
{
	return s != NULL ? ew_strndup(s, strlen(s)) : NULL;
}

static void
lower(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * Count what GMime would turn into objects: lines starting with "--"
 * (boundary delimiters) and container content types.  Either beyond the
 * part limit refuses the message up front.
 */
static int
prescan(const char *p, size_t n)
{
	size_t i, delims = 0, containers = 0;

	for (i = 0; i < n; i++) {
		if ((i == 0 || p[i - 1] == '\n') && i + 1 < n && p[i] == '-' &&
		    p[i + 1] == '-')
			delims++;
		if ((p[i] == 'm' || p[i] == 'M') && i + 8 < n &&
		    (strncasecmp(p + i, "message/", 8) == 0 ||
			(i + 10 < n &&
			    strncasecmp(p + i, "multipart/", 10) == 0)))
			containers++;
	}
	if (delims > 2 * (size_t)EW_MAIL_MAX_PARTS + 2 ||
	    containers > (size_t)EW_MAIL_MAX_PARTS)
		return -1;
	return 0;
}

static char *
first_mailbox(InternetAddressList *l)
{
	int i, n;

	if (l == NULL)
		return NULL;
	n = internet_address_list_length(l);
	for (i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			char *r = dup0(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(a)));

			lower(r);
			return r;
		}
	}
	return NULL;
}

static int
add_msg(struct walk *w, GMimeMessage *msg, unsigned depth, size_t *idx)
{
	struct ew_mail *m = w->m;
	struct ew_mail_hdrs *nv, *h;
	char *hdrs;

	nv = realloc(m->msgs, (m->nmsgs + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	m->msgs = nv;
	h = &m->msgs[m->nmsgs];
	memset(h, 0, sizeof(*h));
	h->depth = depth;
	h->from = first_mailbox(g_mime_message_get_from(msg));
	h->reply_to = first_mailbox(g_mime_message_get_reply_to(msg));
	h->message_id = dup0(g_mime_message_get_message_id(msg));
	h->subject = dup0(g_mime_message_get_subject(msg));
	h->date = dup0(g_mime_object_get_header(GMIME_OBJECT(msg), "Date"));
	hdrs = g_mime_object_get_headers(GMIME_OBJECT(msg), NULL);
	h->headers = dup0(hdrs);
	g_free(hdrs);
	*idx = m->nmsgs++;
	return 0;
}

static int
add_part(struct walk *w, GMimeObject *obj, size_t msg)
{
	struct ew_mail *m = w->m;
	struct ew_mail_part *nv, *p;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *mt = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;

	nv = realloc(m->parts, (m->nparts + 1) * sizeof(*nv));
	if (nv == NULL) {
		g_free(mt);
		return -1;
	}
	m->parts = nv;
	p = &m->parts[m->nparts];
	memset(p, 0, sizeof(*p));
	p->msg = msg;
	p->ctype = dup0(mt != NULL ? mt : "text/plain");
	g_free(mt);
	lower(p->ctype);
	if (GMIME_IS_PART(obj))
		p->filename = dup0(g_mime_part_get_filename(GMIME_PART(obj)));
	if (GMIME_IS_TEXT_PART(obj)) {
		char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));

		if (t != NULL) {
			p->len = strlen(t);
			p->data = ew_strndup(t, p->len);
			g_free(t);
		}
	} else if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));

		if (dw != NULL) {
			GMimeStream *s = g_mime_stream_mem_new();
			GByteArray *ba;

			g_mime_data_wrapper_write_to_stream(dw, s);
			ba = g_mime_stream_mem_get_byte_array(
			    GMIME_STREAM_MEM(s));
			p->len = ba != NULL && ba->data != NULL ? ba->len : 0;
			p->data = ew_strndup(
			    p->len > 0 ? (const char *)ba->data : "", p->len);
			g_object_unref(s);
		}
	}
	if (p->data == NULL) {
		p->data = dup0("");
		p->len = 0;
	}
	if (p->ctype == NULL || p->data == NULL) {
		free(p->ctype);
		free(p->filename);
		free(p->data);
		return -1;
	}
	m->nparts++;
	return 0;
}

static void walk_msg(struct walk *w, GMimeMessage *msg, unsigned depth);

static void
walk_obj(struct walk *w, GMimeObject *obj, size_t msg, unsigned depth)
{
	if (w->failed || obj == NULL)
		return;
	if (w->c != NULL && ew_complaint_over_budget(w->c)) {
		w->failed = 1; /* the caller reports the spent budget */
		return;
	}
	if (depth > EW_MAIL_MAX_DEPTH) {
		ew_diag_add(w->d, EW_SEV_ERROR, NULL,
		    "MIME nesting deeper than %d levels: refused",
		    EW_MAIL_MAX_DEPTH);
		w->failed = 1;
		return;
	}
	if (++w->parts > EW_MAIL_MAX_PARTS) {
		ew_diag_add(w->d, EW_SEV_ERROR, NULL,
		    "more than %d MIME parts: refused", EW_MAIL_MAX_PARTS);
		w->failed = 1;
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);

		for (i = 0; i < n && !w->failed; i++)
			walk_obj(w, g_mime_multipart_get_part(mp, i), msg,
			    depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			walk_msg(w, inner, depth + 1);
	} else if (add_part(w, obj, msg) < 0) {
		ew_diag_add(w->d, EW_SEV_ERROR, NULL, "out of memory");
		w->failed = 1;
	}
}

static void
walk_msg(struct walk *w, GMimeMessage *msg, unsigned depth)
{
	size_t idx;

	if (add_msg(w, msg, depth, &idx) < 0) {
		ew_diag_add(w->d, EW_SEV_ERROR, NULL, "out of memory");
		w->failed = 1;
		return;
	}
	walk_obj(w, g_mime_message_get_mime_part(msg), idx, depth);
}

/*
 * Text that is no RFC 5322 message (a complaint pasted without
 * headers): one message without headers, its whole text one part.
 */
static int
headerless(
    const char *data, size_t len, struct ew_diag_list *d, struct ew_mail *out)
{
	out->msgs = calloc(1, sizeof(*out->msgs));
	out->parts = calloc(1, sizeof(*out->parts));
	if (out->msgs == NULL || out->parts == NULL)
		goto oom;
	out->nmsgs = 1;
	out->parts[0].ctype = dup0("text/plain");
	out->parts[0].data = ew_strndup(data, len);
	out->parts[0].len = len;
	out->nparts = 1;
	if (out->parts[0].ctype == NULL || out->parts[0].data == NULL)
		goto oom;
	return 0;
oom:
	ew_mail_clear(out);
	ew_diag_add(d, EW_SEV_ERROR, NULL, "out of memory");
	return -1;
}

int
ew_mime_parse(const char *data, size_t len, struct ew_complaint *c,
    struct ew_diag_list *d, struct ew_mail *out)
{
	static int inited;
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *msg;
	struct walk w;

	memset(out, 0, sizeof(*out));
	if (prescan(data, len) < 0) {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "more than %d MIME parts: refused", EW_MAIL_MAX_PARTS);
		return -1;
	}
	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	s = g_mime_stream_mem_new_with_buffer(data, len);
	p = g_mime_parser_new_with_stream(s);
	g_object_unref(s);
	msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	if (msg == NULL)
		return headerless(data, len, d, out);
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.m = out;
	w.d = d;
	walk_msg(&w, msg, 0);
	g_object_unref(msg);
	if (w.failed) {
		ew_mail_clear(out);
		return -1;
	}
	return 0;
}

void
ew_mail_clear(struct ew_mail *m)
{
	size_t i;

	for (i = 0; i < m->nmsgs; i++) {
		free(m->msgs[i].from);
		free(m->msgs[i].reply_to);
		free(m->msgs[i].message_id);
		free(m->msgs[i].subject);
		free(m->msgs[i].date);
		free(m->msgs[i].headers);
	}
	for (i = 0; i < m->nparts; i++) {
		free(m->parts[i].ctype);
		free(m->parts[i].filename);
		free(m->parts[i].data);
	}
	free(m->msgs);
	free(m->parts);
	memset(m, 0, sizeof(*m));
}
