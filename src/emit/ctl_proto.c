/*
 * ctl_proto.c - the ControlPort reply parser: bytes in, replies out, no
 * I/O (control-spec 2.3, "Replies from Tor to the controller").
 *
 * Bytes are appended to `in`; every complete CRLF-ended line is taken
 * off the front at once and added to the reply being built (`cur`).  A
 * '+' line switches to data mode until a lone "."; a ' ' line completes
 * the reply, which moves to the queue `q` for ew_ctl_parser_next().  At
 * most EW_CTL_MAX_LINE bytes of an unfinished line are kept, and the
 * replies held (queued plus the one being built) may not exceed
 * EW_CTL_MAX_REPLY bytes, so a hostile peer cannot make us grow without
 * bound.  The first error is sticky.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "emit/ctl.h"

struct ew_ctl_parser {
	char *in; /* unparsed bytes */
	size_t inlen, incap;
	struct ew_ctl_reply *cur; /* reply being built, or NULL */
	int in_data;              /* inside the data block of cur's last line */
	struct ew_buf data;       /* that block so far */
	size_t held;              /* bytes in cur and q */
	size_t cur_bytes;         /* bytes in cur */
	struct ew_ctl_reply **q;  /* complete replies, oldest first */
	size_t qn, qcap, qhead;
	int err; /* sticky negative code, 0 while all is well */
	char msg[160];
};

void
ew_ctl_reply_free(struct ew_ctl_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->lines[i].text);
		free(r->lines[i].data);
	}
	free(r->lines);
	free(r);
}

struct ew_ctl_parser *
ew_ctl_parser_new(void)
{
	struct ew_ctl_parser *p = calloc(1, sizeof(*p));

	if (p != NULL)
		ew_buf_init(&p->data);
	return p;
}

void
ew_ctl_parser_free(struct ew_ctl_parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = p->qhead; i < p->qn; i++)
		ew_ctl_reply_free(p->q[i]);
	free(p->q);
	ew_ctl_reply_free(p->cur);
	ew_buf_free(&p->data);
	free(p->in);
	free(p);
}

const char *
ew_ctl_parser_error(const struct ew_ctl_parser *p)
{
	return p->msg;
}

int
ew_ctl_parser_pending(const struct ew_ctl_parser *p)
{
	return p->cur != NULL || p->inlen > 0;
}

static int
fail(struct ew_ctl_parser *p, int code, const char *msg)
{
	if (p->err == 0) {
		p->err = code;
		snprintf(p->msg, sizeof(p->msg), "%s", msg);
	}
	return p->err;
}

static int
hold(struct ew_ctl_parser *p, size_t n)
{
	if (n > EW_CTL_MAX_REPLY || p->held > EW_CTL_MAX_REPLY - n)
		return fail(p, EW_CTL_EPROTO,
		    "reply longer than 16 MiB (or too many replies unread)");
	p->held += n;
	p->cur_bytes += n;
	return 0;
}

static int
queue_reply(struct ew_ctl_parser *p)
{
	if (p->qhead > 0 && p->qhead == p->qn) {
		p->qhead = p->qn = 0;
	}
	if (p->qn == p->qcap) {
		size_t ncap = p->qcap ? p->qcap * 2 : 8;
		struct ew_ctl_reply **nq = realloc(p->q, ncap * sizeof(*nq));

		if (nq == NULL)
			return fail(p, -ENOMEM, "out of memory");
		p->q = nq;
		p->qcap = ncap;
	}
	p->cur->size = p->cur_bytes;
	p->cur_bytes = 0;
	p->q[p->qn++] = p->cur;
	p->cur = NULL;
	return 0;
}

/* A status line: "DDD" + separator + text. */
static int
status_line(struct ew_ctl_parser *p, const char *s, size_t n)
{
	struct ew_ctl_line *l, *nl;
	int code;

	if (n < 4 || s[0] < '1' || s[0] > '6' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return fail(p, EW_CTL_EPROTO,
		    "malformed reply line (no 3-digit status code)");
	if (s[3] != ' ' && s[3] != '-' && s[3] != '+')
		return fail(p, EW_CTL_EPROTO,
		    "malformed reply line (status code not followed by ' ', "
		    "'-' or '+')");
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (p->cur == NULL) {
		p->cur = calloc(1, sizeof(*p->cur));
		if (p->cur == NULL)
			return fail(p, -ENOMEM, "out of memory");
		p->cur->code = code;
		p->cur->async = s[0] == '6';
	} else if (p->cur->code != code) {
		return fail(p, EW_CTL_EPROTO,
		    "status code changes in the middle of a reply");
	}
	nl = realloc(p->cur->lines, (p->cur->n + 1) * sizeof(*nl));
	if (nl == NULL)
		return fail(p, -ENOMEM, "out of memory");
	p->cur->lines = nl;
	l = &nl[p->cur->n];
	memset(l, 0, sizeof(*l));
	l->code = code;
	l->sep = s[3];
	l->text = ew_strndup(s + 4, n - 4);
	if (l->text == NULL)
		return fail(p, -ENOMEM, "out of memory");
	p->cur->n++;
	if (l->sep == '+') {
		p->in_data = 1;
		ew_buf_reset(&p->data);
	} else if (l->sep == ' ') {
		return queue_reply(p);
	}
	return 0;
}

static int
data_line(struct ew_ctl_parser *p, const char *s, size_t n)
{
	struct ew_ctl_line *l = &p->cur->lines[p->cur->n - 1];

	if (n == 1 && s[0] == '.') {
		p->in_data = 0;
		l->datalen = p->data.len;
		l->data = ew_buf_detach(&p->data);
		if (l->data == NULL)
			return fail(p, -ENOMEM, "out of memory");
		return 0;
	}
	if (n > 0 && s[0] == '.') {
		s++;
		n--;
	}
	ew_buf_add(&p->data, s, n);
	ew_buf_putc(&p->data, '\n');
	if (p->data.oom)
		return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int
one_line(struct ew_ctl_parser *p, const char *s, size_t n)
{
	int rc;

	if (n > EW_CTL_MAX_LINE)
		return fail(p, EW_CTL_EPROTO, "reply line longer than 64 KiB");
	if (memchr(s, '\0', n) != NULL)
		return fail(p, EW_CTL_EPROTO, "NUL byte in a reply line");
	if ((rc = hold(p, n + 2)) < 0)
		return rc;
	return p->in_data ? data_line(p, s, n) : status_line(p, s, n);
}

int
ew_ctl_parser_feed(struct ew_ctl_parser *p, const void *data, size_t n)
{
	size_t off = 0;
	int rc;

	if (p->err)
		return p->err;
	if (n > p->incap - p->inlen) {
		size_t ncap = p->incap ? p->incap : 4096;
		char *ni;

		while (ncap - p->inlen < n) {
			if (ncap > ((size_t)-1) / 2)
				return fail(p, -ENOMEM, "out of memory");
			ncap *= 2;
		}
		ni = realloc(p->in, ncap);
		if (ni == NULL)
			return fail(p, -ENOMEM, "out of memory");
		p->in = ni;
		p->incap = ncap;
	}
	if (n > 0)
		memcpy(p->in + p->inlen, data, n);
	p->inlen += n;
	for (;;) {
		char *lf = memchr(p->in + off, '\n', p->inlen - off);
		size_t len;

		if (lf == NULL)
			break;
		len = (size_t)(lf - (p->in + off));
		if (len == 0 || lf[-1] != '\r')
			return fail(p, EW_CTL_EPROTO,
			    "reply line ends in LF without CR");
		if ((rc = one_line(p, p->in + off, len - 1)) < 0)
			return rc;
		off += len + 1;
	}
	if (off > 0) {
		memmove(p->in, p->in + off, p->inlen - off);
		p->inlen -= off;
	}
	if (p->inlen > EW_CTL_MAX_LINE + 1)
		return fail(p, EW_CTL_EPROTO, "reply line longer than 64 KiB");
	return 0;
}

int
ew_ctl_parser_next(struct ew_ctl_parser *p, struct ew_ctl_reply **out)
{
	struct ew_ctl_reply *r;

	*out = NULL;
	if (p->qhead < p->qn) {
		r = p->q[p->qhead++];
		p->held -= r->size;
		*out = r;
		return 1;
	}
	return p->err ? p->err : 0;
}

int
ew_ctl_quote(struct ew_buf *out, const char *s)
{
	const char *c;

	for (c = s; *c != '\0'; c++)
		if (*c == '\r' || *c == '\n')
			return EW_CTL_EARG;
	ew_buf_putc(out, '"');
	for (c = s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			ew_buf_putc(out, '\\');
		ew_buf_putc(out, *c);
	}
	ew_buf_putc(out, '"');
	return 0;
}
