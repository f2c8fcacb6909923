/*
 * wire.c - a parsed complaint as bytes, and back: what the unprivileged
 * parser child sends its parent (src/cli/privsep.c).
 *
 * The format is ours, small and length-prefixed, so that the reader,
 * which runs in the privileged parent on bytes from a process that has
 * just parsed hostile mail and may be under its control, is a few
 * bounds checks rather than a general parser:
 *
 *   "EWC1"
 *   str format, category, confidence (never none), reporter,
 *       forwarder, message_id, subject, ticket
 *   i64 date, deadline; u8 has_date, has_deadline
 *   u32 n, then n incidents:
 *     str src, dst, dst_host, ports; i64 src_port, t, from, to;
 *     u8 has_t, has_from, has_to, zone; i32 offset (minutes)
 *
 * Integers are little-endian; a str is a u32 length (0xffffffff for
 * none) and that many bytes, no NUL among them.  The reader refuses
 * anything else: a short or long buffer, a string too long for its
 * field, more than EW_MAIL_MAX_INCIDENTS incidents (or more than the
 * bytes left could hold), an unknown zone source.  The digest of the
 * raw message is not sent: the parent computes it from the bytes it
 * read itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mail/mail_int.h"

#define MAGIC "EWC1"
#define NONE 0xffffffffu
/* the smallest incident: four absent strings, four i64, four u8, i32 */
#define MIN_INCIDENT (4 * 4 + 4 * 8 + 4 + 4)

static void
put_u32(struct ew_buf *b, uint32_t v)
{
	unsigned char x[4];
	int i;

	for (i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	ew_buf_add(b, x, 4);
}

static void
put_i64(struct ew_buf *b, int64_t v)
{
	unsigned char x[8];
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (unsigned char)(u >> (8 * i));
	ew_buf_add(b, x, 8);
}

static void
put_u8(struct ew_buf *b, int v)
{
	ew_buf_putc(b, (char)(v ? (v & 0xff) : 0));
}

static void
put_str(struct ew_buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		put_u32(b, NONE);
		return;
	}
	n = strlen(s);
	put_u32(b, (uint32_t)n);
	ew_buf_add(b, s, n);
}

void
ew_complaint_encode(const struct ew_complaint *c, struct ew_buf *out)
{
	size_t i;

	ew_buf_add(out, MAGIC, 4);
	put_str(out, c->format);
	put_str(out, c->category);
	put_str(out, c->confidence);
	put_str(out, c->reporter);
	put_str(out, c->forwarder);
	put_str(out, c->message_id);
	put_str(out, c->subject);
	put_str(out, c->ticket);
	put_i64(out, c->date);
	put_i64(out, c->deadline);
	put_u8(out, c->has_date != 0);
	put_u8(out, c->has_deadline != 0);
	put_u32(out, (uint32_t)c->ninc);
	for (i = 0; i < c->ninc; i++) {
		const struct ew_incident *in = &c->inc[i];

		put_str(out, in->src);
		put_str(out, in->dst);
		put_str(out, in->dst_host);
		put_str(out, in->ports);
		put_i64(out, in->src_port);
		put_i64(out, in->tm.t);
		put_i64(out, in->tm.from);
		put_i64(out, in->tm.to);
		put_u8(out, in->tm.has_t != 0);
		put_u8(out, in->tm.has_from != 0);
		put_u8(out, in->tm.has_to != 0);
		put_u8(out, (int)in->tm.zs);
		put_u32(out, (uint32_t)in->tm.off);
	}
}

struct rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint64_t
get(struct rd *r, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= n;
	return v;
}

static int
get_flag(struct rd *r)
{
	uint64_t v = get(r, 1);

	if (v > 1)
		r->bad = 1;
	return (int)v;
}

/*
 * A string of at most max bytes (max 0: any), as a pointer into the
 * buffer and a length; *absent when it is "none".
 */
static const char *
get_span(struct rd *r, size_t max, size_t *n, int *absent)
{
	uint64_t len = get(r, 4);
	const char *s;

	*n = 0;
	*absent = 0;
	if (r->bad)
		return NULL;
	if (len == NONE) {
		*absent = 1;
		return NULL;
	}
	if (len > r->left || (max > 0 && len > max) ||
	    memchr(r->p, '\0', (size_t)len) != NULL) {
		r->bad = 1;
		return NULL;
	}
	s = (const char *)r->p;
	r->p += len;
	r->left -= (size_t)len;
	*n = (size_t)len;
	return s;
}

/* An allocated copy (NULL for none, or on failure with r->bad set). */
static char *
get_str(struct rd *r)
{
	size_t n;
	int absent;
	const char *s = get_span(r, 0, &n, &absent);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = ew_strndup(s, n)) == NULL)
		r->bad = 1;
	return d;
}

/* Into a fixed field of size cap (never "none": the encoder writes a
 * fixed field as a string, "" included, so a decoded complaint encodes
 * back to the same bytes). */
static void
get_field(struct rd *r, char *dst, size_t cap)
{
	size_t n;
	int absent;
	const char *s = get_span(r, cap - 1, &n, &absent);

	dst[0] = '\0';
	if (absent)
		r->bad = 1;
	if (s != NULL) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

/* format, category and confidence are static strings in a parsed
 * complaint; a decoded one keeps them in c->owned. */
static const char *
get_owned(struct rd *r, struct ew_buf *owned, size_t *off)
{
	size_t n;
	int absent;
	const char *s = get_span(r, 64, &n, &absent);

	if (s == NULL)
		return NULL;
	off[0] = owned->len;
	ew_buf_add(owned, s, n);
	ew_buf_putc(owned, '\0');
	return s; /* not NULL: fixed up once the buffer stops moving */
}

static int
get_incident(struct rd *r, struct ew_incident *in)
{
	uint64_t zs;

	memset(in, 0, sizeof(*in));
	get_field(r, in->src, sizeof(in->src));
	get_field(r, in->dst, sizeof(in->dst));
	get_field(r, in->dst_host, sizeof(in->dst_host));
	in->ports = get_str(r);
	in->src_port = (long)(int64_t)get(r, 8);
	in->tm.t = (int64_t)get(r, 8);
	in->tm.from = (int64_t)get(r, 8);
	in->tm.to = (int64_t)get(r, 8);
	in->tm.has_t = get_flag(r);
	in->tm.has_from = get_flag(r);
	in->tm.has_to = get_flag(r);
	zs = get(r, 1);
	if (zs > EW_ZONE_ASSUMED)
		r->bad = 1;
	in->tm.zs = (enum ew_zone_source)zs;
	in->tm.off = (int)(int32_t)(uint32_t)get(r, 4);
	if (in->src_port < -1 || in->src_port > 65535 || in->tm.off < -1440 ||
	    in->tm.off > 1440)
		r->bad = 1;
	if (r->bad) {
		free(in->ports);
		in->ports = NULL;
		return -1;
	}
	return 0;
}

int
ew_complaint_decode(const void *data, size_t len, struct ew_complaint **out)
{
	struct rd r = { data, len, 0 };
	struct ew_buf owned = EW_BUF_INIT;
	struct ew_complaint *c;
	struct ew_incident in;
	size_t off[3] = { 0, 0, 0 }, i;
	const char *s[3];
	uint64_t n;

	*out = NULL;
	if (len < 4 || memcmp(data, MAGIC, 4) != 0)
		return -EBADMSG;
	r.p += 4;
	r.left -= 4;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	for (i = 0; i < 3; i++)
		if ((s[i] = get_owned(&r, &owned, &off[i])) == NULL)
			r.bad = 1; /* a parsed complaint always has them */
	c->reporter = get_str(&r);
	c->forwarder = get_str(&r);
	c->message_id = get_str(&r);
	c->subject = get_str(&r);
	c->ticket = get_str(&r);
	c->date = (int64_t)get(&r, 8);
	c->deadline = (int64_t)get(&r, 8);
	c->has_date = get_flag(&r);
	c->has_deadline = get_flag(&r);
	n = get(&r, 4);
	if (n > EW_MAIL_MAX_INCIDENTS || n > r.left / MIN_INCIDENT)
		r.bad = 1;
	for (i = 0; i < n && !r.bad; i++)
		if (get_incident(&r, &in) < 0 || ew_complaint_add(c, &in) < 0)
			r.bad = 1;
	if (r.left != 0 || owned.oom)
		r.bad = 1;
	if ((c->owned = ew_buf_detach(&owned)) == NULL)
		r.bad = 1;
	if (!r.bad) {
		const char **dst[3] = { &c->format, &c->category,
			&c->confidence };

		for (i = 0; i < 3; i++)
			*dst[i] = c->owned + off[i];
	}
	ew_buf_free(&owned);
	if (r.bad) {
		ew_complaint_free(c);
		return -EBADMSG;
	}
	*out = c;
	return 0;
}
