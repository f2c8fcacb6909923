/*
 * complaint.c - the top of src/mail: parsing a complaint in order of
 * trust, and rendering it as JSON or text.  The object the readers fill
 * (incidents, notes, budgets) is cpl.c's, below them.
 *
 * ew_complaint_parse refuses oversized input, reads a bare XARF JSON
 * document directly and anything else as a mail (mime.c), then tries
 * the structured formats first (XARF JSON parts, X-ARF YAML, ARF) and
 * falls back to free text.  Incidents are sorted and deduplicated so
 * the output is deterministic.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/esc.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

static int
cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
inc_cmp(const void *pa, const void *pb)
{
	const struct ew_incident *a = pa, *b = pb;
	int r;

	if ((r = strcmp(a->src, b->src)) != 0)
		return r;
	if ((r = strcmp(a->dst, b->dst)) != 0)
		return r;
	if ((r = strcmp(a->dst_host, b->dst_host)) != 0)
		return r;
	if (a->src_port != b->src_port)
		return a->src_port < b->src_port ? -1 : 1;
	if ((r = strcmp(a->ports ? a->ports : "", b->ports ? b->ports : "")) !=
	    0)
		return r;
	if (a->tm.has_t != b->tm.has_t)
		return a->tm.has_t - b->tm.has_t;
	if ((r = cmp_i64(a->tm.t, b->tm.t)) != 0)
		return r;
	if (a->tm.zs != b->tm.zs)
		return (int)a->tm.zs - (int)b->tm.zs;
	if ((r = cmp_i64(a->tm.from, b->tm.from)) != 0)
		return r;
	return cmp_i64(a->tm.to, b->tm.to);
}

static void
dedupe(struct ew_complaint *c)
{
	size_t i, o = 0;

	if (c->ninc < 2)
		return;
	qsort(c->inc, c->ninc, sizeof(*c->inc), inc_cmp);
	for (i = 0; i < c->ninc; i++) {
		if (o > 0 && inc_cmp(&c->inc[o - 1], &c->inc[i]) == 0) {
			free(c->inc[i].ports);
			continue;
		}
		c->inc[o++] = c->inc[i];
	}
	c->ninc = o;
}

static char *
dup0(const char *s)
{
	return s != NULL ? ew_strndup(s, strlen(s)) : NULL;
}

static int
json_part(const struct ew_mail_part *p)
{
	size_t n = p->filename != NULL ? strlen(p->filename) : 0;
	const char *s = p->data;

	if (strcmp(p->ctype, "application/json") == 0 ||
	    (n > 5 && strcasecmp(p->filename + n - 5, ".json") == 0))
		return 1;
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return *s == '{' && strstr(s, "xarf") != NULL;
}

static int
ends_with(const char *s, const char *sfx)
{
	size_t n = s != NULL ? strlen(s) : 0, k = strlen(sfx);

	return n >= k && strcasecmp(s + n - k, sfx) == 0;
}

/* ---- attachments: zip, gzip, CSV, DMARC XML, nested ---- */

/* Archives inside archives are read this deep (a zip of .xml.gz). */
#define ATTACH_MAX_DEPTH 3
/* ew_unzip's callback: the mail is refused (the reason is in c). */
#define ATTACH_STOP (-4)

static int
is_zip(const char *ctype, const char *name)
{
	return (ctype != NULL &&
		   (strcmp(ctype, "application/zip") == 0 ||
		       strcmp(ctype, "application/x-zip-compressed") == 0 ||
		       strcmp(ctype, "application/x-zip") == 0)) ||
	       ends_with(name, ".zip");
}

static int
is_gzip(const char *ctype, const char *name)
{
	return (ctype != NULL &&
		   (strcmp(ctype, "application/gzip") == 0 ||
		       strcmp(ctype, "application/x-gzip") == 0 ||
		       strcmp(ctype, "application/gzip-compressed") == 0)) ||
	       ends_with(name, ".gz");
}

static int
is_csv(const char *ctype, const char *name)
{
	return (ctype != NULL && strcmp(ctype, "text/csv") == 0) ||
	       ends_with(name, ".csv");
}

/*
 * The root element's local name of the XML at s, found by skipping a
 * BOM, blanks, the declaration, processing instructions and comments
 * within the first 4 KiB; 0 when the text does not open that way.
 */
static int
xml_root_is(const char *s, size_t n, const char *name)
{
	size_t i = 0, k, ln = strlen(name);
	const char *e;

	if (n > 4096)
		n = 4096;
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (;;) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i + 1 >= n || s[i] != '<')
			return 0;
		if (s[i + 1] == '?' || s[i + 1] == '!') {
			/* "<?...?>", "<!--...-->", "<!DOCTYPE x [...]>" */
			const char *end = s[i + 1] == '?' ? "?>" : ">";
			const char *gt = memchr(s + i, '>', n - i);
			const char *br = memchr(s + i, '[', n - i);

			if (s[i + 1] == '!' && i + 3 < n && s[i + 2] == '-')
				end = "-->";
			else if (s[i + 1] == '!' && br != NULL && gt != NULL &&
				 br < gt)
				end = "]>";
			e = memmem(s + i + 2, n - i - 2, end, strlen(end));
			if (e == NULL)
				return 0;
			i = (size_t)(e - s) + strlen(end);
			continue;
		}
		break;
	}
	for (k = ++i; k < n && (isalnum((unsigned char)s[k]) || s[k] == '_' ||
				   s[k] == '-' || s[k] == '.');
	     k++)
		;
	if (k < n && s[k] == ':')
		i = k + 1; /* a prefix */
	return n - i > ln && memcmp(s + i, name, ln) == 0 &&
	       (isspace((unsigned char)s[i + ln]) || s[i + ln] == '>' ||
		   s[i + ln] == '/');
}

/* A DMARC aggregate report: XML whose root is <feedback>. */
static int
is_dmarc(const char *ctype, const char *data, size_t len)
{
	if (ctype != NULL && strcmp(ctype, "text/html") == 0)
		return 0;
	return xml_root_is(data, len, "feedback");
}

struct attach_ctx {
	struct ew_complaint *c;
	const char *where;
	int depth, found;
};

static int attach(struct ew_complaint *c, const char *where, const char *name,
    const char *ctype, const char *data, size_t len, int depth);

static int
member_cb(void *arg, const char *name, const char *data, size_t len)
{
	struct attach_ctx *a = arg;
	struct ew_buf w = EW_BUF_INIT;
	int r;

	ew_buf_printf(&w, "%s member '%s'", a->where, name);
	r = attach(a->c, ew_buf_str(&w), name, NULL, data, len, a->depth + 1);
	ew_buf_free(&w);
	if (r < 0)
		return ATTACH_STOP;
	a->found |= r;
	return 0;
}

static int
gunzip_attach(struct ew_complaint *c, const char *where, const char *name,
    const char *data, size_t len, int depth)
{
	struct ew_buf b = EW_BUF_INIT;
	char *inner = NULL;
	size_t n = name != NULL ? strlen(name) : 0;
	int r = ew_gunzip(c, data, len, &b);

	if (r == -1) {
		ew_buf_free(&b);
		/* a report (.xml.gz, or gzip without a name) that cannot be
		 * read refuses the mail; a compressed log is only evidence */
		if (n == 0 || ends_with(name, ".xml.gz") ||
		    ends_with(name, ".gz") == 0)
			return ew_complaint_refuse(
			    c, "%s: not gzip data, or corrupt: refused", where);
		return 0;
	}
	if (r < 0) {
		ew_buf_free(&b);
		return -1;
	}
	if (ends_with(name, ".gz"))
		inner = ew_strndup(name, n - 3);
	r = attach(c, where, inner != NULL ? inner : "", NULL,
	    b.p != NULL ? b.p : "", b.len, depth + 1);
	free(inner);
	ew_buf_free(&b);
	return r;
}

/*
 * One attachment (or archive member) named name: 1 when a report was
 * read from it, 0 when it holds none, -1 when the mail is refused (over
 * a budget or limit, or a reason in c).  A zip that cannot be read is
 * ignored (complaints attach encrypted malware samples), and so is a
 * corrupt gzip'd file that is no report ("auth.log.gz"); a report that
 * says it is gzip (".xml.gz", or a gzip type without a name) and is
 * not refuses the mail.
 */
static int
attach(struct ew_complaint *c, const char *where, const char *name,
    const char *ctype, const char *data, size_t len, int depth)
{
	if (depth > ATTACH_MAX_DEPTH || ew_complaint_over_budget(c))
		return c->over ? -1 : 0;
	if (is_zip(ctype, name)) {
		struct attach_ctx a = { c, where, depth, 0 };
		int r = ew_unzip(c, data, len, member_cb, &a);

		if (r == -1)
			return 0;
		if (r == -2)
			c->overflow = 2;
		return r < 0 ? -1 : a.found;
	}
	if (is_gzip(ctype, name))
		return gunzip_attach(c, where, name, data, len, depth);
	if (is_csv(ctype, name))
		return ew_extract_csv(c, name, data, len);
	if (is_dmarc(ctype, data, len))
		return ew_extract_dmarc(c, where, data, len);
	return 0;
}

/* Every attachment of m: 1 when a report was read, 0, or -1. */
static int
attachments(struct ew_complaint *c, const struct ew_mail *m)
{
	size_t k;
	int rc = 0;

	for (k = 0; k < m->nparts; k++) {
		const struct ew_mail_part *p = &m->parts[k];
		struct ew_buf w = EW_BUF_INIT;
		int r;

		ew_buf_printf(&w, "part %zu (%s)", k + 1,
		    p->filename != NULL ? p->filename : p->ctype);
		r = attach(c, ew_buf_str(&w), p->filename, p->ctype, p->data,
		    p->len, 0);
		ew_buf_free(&w);
		if (r < 0)
			return -1;
		rc |= r;
	}
	return rc;
}

/*
 * The readers of whole mails, most specific first; each returns 1 when
 * it recognised its format, 0 when not, -1 to refuse.  Free text
 * (ew_extract_text) is the fallback after all of them.
 */
static int (*const readers[])(struct ew_complaint *, const struct ew_mail *) = {
	ew_extract_spamcop,
	ew_extract_acns,
	ew_extract_iodef,
	ew_extract_xarf_yaml,
	ew_extract_arf,
	ew_extract_fail2ban,
};

static int
from_mail(struct ew_complaint *c, const struct ew_mail *m)
{
	const struct ew_mail_hdrs *h = &m->msgs[0];
	struct ew_mtime t;
	size_t k;
	int rc = 0;

	c->reporter = dup0(h->from != NULL ? h->from : h->reply_to);
	c->message_id = dup0(h->message_id);
	c->subject = dup0(h->subject);
	if (h->date != NULL &&
	    ew_mail_time_parse(h->date, strlen(h->date), &t) == 0) {
		c->date = t.t;
		c->has_date = 1;
	}
	for (k = 0; k < m->nparts && rc == 0; k++)
		if (json_part(&m->parts[k]))
			rc = ew_extract_xarf_json(
			    c, m->parts[k].data, m->parts[k].len);
	if (rc >= 0) {
		int r = attachments(c, m);

		rc = r < 0 ? -1 : (rc | r);
	}
	if (rc == 0 && c->format != NULL)
		rc = 1; /* a zipped CSV was read */
	for (k = 0; rc == 0 && k < sizeof(readers) / sizeof(readers[0]); k++) {
		if (ew_complaint_over_budget(c))
			return -1;
		rc = readers[k](c, m);
	}
	if (rc == 0) {
		c->format = "text";
		rc = ew_extract_text(c, m) < 0 ? -1 : 1;
	}
	if (rc < 0 || ew_complaint_over_budget(c))
		return -1;
	ew_extract_deadline(c, m);
	if (h->subject != NULL)
		c->ticket = ew_mail_ticket(h->subject, strlen(h->subject));
	if (c->category == NULL) {
		for (k = 0; k < m->nmsgs && c->category == NULL; k++)
			if (m->msgs[k].subject != NULL)
				c->category =
				    ew_mail_category(m->msgs[k].subject,
					strlen(m->msgs[k].subject));
	}
	if (strcmp(c->format, "text") == 0) {
		c->confidence = "low";
		for (k = 0; k < c->ninc; k++)
			if (c->inc[k].src[0] != '\0' &&
			    (c->inc[k].ports != NULL || c->inc[k].tm.has_t))
				c->confidence = "medium";
	}
	return ew_complaint_over_budget(c) ? -1 : 0;
}

/* ---- the per-mail budgets ---- */

static int64_t
mono_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The relay's own addresses from the options, into c->ours. */
static void
set_ours(struct ew_complaint *c, const struct ew_complaint_opts *o)
{
	size_t k;

	if (o == NULL || o->nours == 0 ||
	    (c->ours = calloc(o->nours, sizeof(*c->ours))) == NULL)
		return;
	for (k = 0; k < o->nours; k++) {
		const char *t = o->ours[k];
		struct ew_found f;

		if (t != NULL && ew_tx_scan_addr(t, strlen(t), 0, &f)) {
			c->ours[c->nours].a = f.a;
			c->ours[c->nours].plen = f.plen;
			c->nours++;
		}
	}
}

int
ew_complaint_parse_at(const char *name, const char *data, size_t len,
    int64_t received, struct ew_diag_list *d, struct ew_complaint **out)
{
	struct ew_complaint_opts o;

	memset(&o, 0, sizeof(o));
	o.received = received;
	o.has_received = 1;
	return ew_complaint_parse_opts(name, data, len, &o, d, out);
}

/* The one error record of a refused parse, its real cause first. */
static void
refusal(const struct ew_complaint *c, struct ew_diag_list *d)
{
	if (c->over == EW_OVER_TIME) {
		if (c->time_max % 1000 == 0)
			ew_diag_add(d, EW_SEV_ERROR, NULL,
			    "took longer than %lld s: refused",
			    (long long)(c->time_max / 1000));
		else
			ew_diag_add(d, EW_SEV_ERROR, NULL,
			    "took longer than %lld ms: refused",
			    (long long)c->time_max);
	} else if (c->over == EW_OVER_INFLATE) {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "attachments decompress to %llu bytes or more in all "
		    "(the limit per mail): refused",
		    (unsigned long long)c->inflate_max);
	} else if (c->why != NULL) {
		ew_diag_add(d, EW_SEV_ERROR, NULL, "%s", c->why);
	} else if (c->overflow == 2) {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "zip attachment with more than %d files: refused",
		    EW_UNZIP_MAX_FILES);
	} else if (c->overflow) {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "more than %d incidents (addresses or records): refused",
		    EW_MAIL_MAX_INCIDENTS);
	} else {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "out of memory while extracting incidents");
	}
}

static void
stats(const struct ew_complaint *c, const struct ew_complaint_opts *o)
{
	if (o == NULL || o->stats == NULL)
		return;
	o->stats->inflated = c->inflated;
	o->stats->budget_checks = c->budget_checks;
	o->stats->elapsed_ms = c->clock(c->clock_arg) - c->t0;
}

int
ew_complaint_parse(const char *name, const char *data, size_t len,
    struct ew_diag_list *d, struct ew_complaint **out)
{
	return ew_complaint_parse_opts(name, data, len, NULL, d, out);
}

int
ew_complaint_parse_opts(const char *name, const char *data, size_t len,
    const struct ew_complaint_opts *o, struct ew_diag_list *d,
    struct ew_complaint **out)
{
	struct ew_complaint *c;
	struct ew_mail m;
	size_t i = 0;
	int rc;

	(void)name;
	*out = NULL;
	if (len > EW_MAIL_MAX_SIZE) {
		ew_diag_add(d, EW_SEV_ERROR, NULL,
		    "message is larger than %u bytes (25 MB): refused",
		    EW_MAIL_MAX_SIZE);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ew_diag_add(d, EW_SEV_ERROR, NULL, "out of memory");
		return -1;
	}
	c->confidence = "low";
	if (o != NULL && o->has_received) {
		c->received = o->received;
		c->has_received = 1;
	}
	set_ours(c, o);
	c->clock = o != NULL && o->clock != NULL ? o->clock : mono_ms;
	c->clock_arg = o != NULL ? o->clock_arg : NULL;
	c->time_max = o != NULL && o->time_limit_ms > 0 ? o->time_limit_ms
							: EW_MAIL_TIME_LIMIT_MS;
	c->inflate_max = o != NULL && o->inflate_limit > 0
			     ? o->inflate_limit
			     : EW_MAIL_MAX_INFLATE;
	c->t0 = c->clock(c->clock_arg);
	(void)ew_sha256_hex(data, len, c->sha256); /* "" on failure */
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	rc = 0;
	if (i < len && data[i] == '{')
		rc = ew_extract_xarf_json(c, data + i, len - i);
	if (rc == 0) {
		if (ew_mime_parse(data, len, c, d, &m) < 0) {
			if (c->over != EW_OVER_NONE)
				refusal(c, d);
			stats(c, o);
			ew_complaint_free(c);
			return -1;
		}
		rc = from_mail(c, &m) < 0 ? -1 : 1;
		ew_mail_clear(&m);
	}
	if (rc < 0 || c->overflow || c->over != EW_OVER_NONE ||
	    c->why != NULL) {
		refusal(c, d);
		stats(c, o);
		ew_complaint_free(c);
		return -1;
	}
	stats(c, o);
	if (c->category == NULL)
		c->category = "other";
	dedupe(c);
	*out = c;
	return 0;
}

/* ---- output ---- */

static void
jstr(struct ew_buf *b, const char *s)
{
	if (s == NULL || *s == '\0')
		ew_buf_puts(b, "null");
	else
		ew_json_str(b, s);
}

static void
jtime(struct ew_buf *b, int has, int64_t t)
{
	char s[EW_TIME_STRLEN];

	if (!has) {
		ew_buf_puts(b, "null");
		return;
	}
	ew_buf_printf(b, "\"%s\"", ew_time_format(t, s, sizeof(s)));
}

const char *
ew_zone_source_word(enum ew_zone_source z)
{
	switch (z) {
	case EW_ZONE_OFFSET:
		return "offset";
	case EW_ZONE_NAMED:
		return "named";
	case EW_ZONE_ASSUMED:
		return "assumed";
	case EW_ZONE_NONE:
		break;
	}
	return "none";
}

static void
jports(struct ew_buf *b, const char *p)
{
	const char *e;
	int first = 1;

	ew_buf_putc(b, '[');
	while (p != NULL && *p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		ew_buf_printf(
		    b, "%s\"%.*s\"", first ? "" : ",", (int)(e - p), p);
		first = 0;
		p = *e == ',' ? e + 1 : e;
	}
	ew_buf_putc(b, ']');
}

static void json_obj(
    const struct ew_complaint *c, struct ew_buf *b, int explain);

void
ew_complaint_json(const struct ew_complaint *c, struct ew_buf *b)
{
	json_obj(c, b, 0);
}

void
ew_complaint_json_explain(const struct ew_complaint *c, struct ew_buf *b)
{
	json_obj(c, b, 1);
}

static void
json_notes(const struct ew_complaint *c, struct ew_buf *b)
{
	size_t i;

	ew_buf_puts(b, ",\"explain\":[");
	for (i = 0; i < c->nnotes; i++) {
		const struct ew_note *nt = &c->notes[i];

		ew_buf_puts(b, i ? ",{\"fact\":" : "{\"fact\":");
		jstr(b, nt->fact);
		ew_buf_puts(b, ",\"value\":");
		jstr(b, nt->value);
		ew_buf_puts(b, ",\"where\":");
		jstr(b, nt->where);
		ew_buf_puts(b, ",\"words\":");
		jstr(b, nt->words);
		ew_buf_puts(b, ",\"rule\":");
		jstr(b, nt->rule);
		ew_buf_putc(b, '}');
	}
	ew_buf_printf(b, "],\"explain_dropped\":%zu", c->notes_dropped);
}

static void
json_obj(const struct ew_complaint *c, struct ew_buf *b, int explain)
{
	size_t i;

	ew_buf_puts(b, "{\"format\":");
	jstr(b, c->format);
	ew_buf_puts(b, ",\"category\":");
	jstr(b, c->category);
	ew_buf_puts(b, ",\"reporter\":");
	jstr(b, c->reporter);
	ew_buf_puts(b, ",\"forwarder\":");
	jstr(b, c->forwarder);
	ew_buf_puts(b, ",\"message_id\":");
	jstr(b, c->message_id);
	ew_buf_puts(b, ",\"subject\":");
	jstr(b, c->subject);
	ew_buf_puts(b, ",\"ticket\":");
	jstr(b, c->ticket);
	ew_buf_puts(b, ",\"date\":");
	jtime(b, c->has_date, c->date);
	ew_buf_puts(b, ",\"deadline\":");
	jtime(b, c->has_deadline, c->deadline);
	ew_buf_puts(b, ",\"incidents\":[");
	for (i = 0; i < c->ninc; i++) {
		const struct ew_incident *in = &c->inc[i];

		ew_buf_puts(b, i ? ",{\"src\":" : "{\"src\":");
		jstr(b, in->src);
		if (in->src_port >= 0)
			ew_buf_printf(b, ",\"src_port\":%ld", in->src_port);
		else
			ew_buf_puts(b, ",\"src_port\":null");
		ew_buf_puts(b, ",\"dst\":");
		jstr(b, in->dst);
		ew_buf_puts(b, ",\"dst_host\":");
		jstr(b, in->dst_host);
		ew_buf_puts(b, ",\"dst_ports\":");
		jports(b, in->ports);
		ew_buf_puts(b, ",\"time\":");
		jtime(b, in->tm.has_t, in->tm.t);
		ew_buf_puts(b, ",\"time_from\":");
		jtime(b, in->tm.has_from, in->tm.from);
		ew_buf_puts(b, ",\"time_to\":");
		jtime(b, in->tm.has_to, in->tm.to);
		ew_buf_printf(b, ",\"zone_source\":\"%s\"}",
		    ew_zone_source_word(in->tm.zs));
	}
	ew_buf_puts(b, "],\"confidence\":");
	jstr(b, c->confidence);
	if (explain)
		json_notes(c, b);
	ew_buf_putc(b, '}');
}

/* Text from the mail, through the terminal sink (lib/esc.h). */
static void
safe_text(struct ew_buf *b, const char *s)
{
	if (s != NULL)
		ew_esc_term(b, s, strlen(s), 0);
}

void
ew_complaint_explain_text(const struct ew_complaint *c, struct ew_buf *b)
{
	size_t i;

	ew_buf_printf(b, "explain:    %zu note%s\n", c->nnotes,
	    c->nnotes == 1 ? "" : "s");
	for (i = 0; i < c->nnotes; i++) {
		const struct ew_note *nt = &c->notes[i];

		ew_buf_printf(b, "  %s", nt->fact);
		if (nt->value != NULL) {
			ew_buf_putc(b, ' ');
			safe_text(b, nt->value);
		}
		ew_buf_puts(b, ": ");
		safe_text(b, nt->rule);
		if (nt->where != NULL) {
			ew_buf_puts(b, "\n      at ");
			safe_text(b, nt->where);
		}
		if (nt->words != NULL) {
			ew_buf_puts(b, ": \"");
			safe_text(b, nt->words);
			ew_buf_putc(b, '"');
		}
		ew_buf_putc(b, '\n');
	}
	if (c->notes_dropped > 0)
		ew_buf_printf(
		    b, "  (%zu more notes not kept)\n", c->notes_dropped);
}

size_t
ew_complaint_note_count(const struct ew_complaint *c)
{
	return c->nnotes;
}

void
ew_complaint_note_get(
    const struct ew_complaint *c, size_t i, struct ew_complaint_note *out)
{
	const struct ew_note *nt = &c->notes[i];

	out->fact = nt->fact;
	out->value = nt->value;
	out->rule = nt->rule;
	out->where = nt->where;
	out->words = nt->words;
}

/* One "key: value" line; the value as the terminal sink shows it. */
static void
tline(struct ew_buf *b, const char *k, const char *v)
{
	ew_buf_printf(b, "%-11s ", k);
	if (v != NULL && *v)
		ew_esc_term(b, v, strlen(v), 0);
	else
		ew_buf_putc(b, '-');
	ew_buf_putc(b, '\n');
}

void
ew_complaint_text(const struct ew_complaint *c, struct ew_buf *b)
{
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	size_t i;

	ew_buf_printf(b, "%-11s %s (confidence %s)\n", "format:", c->format,
	    c->confidence);
	tline(b, "category:", c->category);
	tline(b, "reporter:", c->reporter);
	if (c->forwarder != NULL)
		tline(b, "forwarder:", c->forwarder);
	tline(b, "message-id:", c->message_id);
	tline(b, "subject:", c->subject);
	if (c->ticket != NULL)
		tline(b, "ticket:", c->ticket);
	tline(b, "date:",
	    c->has_date ? ew_time_format(c->date, t1, sizeof(t1)) : NULL);
	tline(b, "deadline:",
	    c->has_deadline ? ew_time_format(c->deadline, t1, sizeof(t1))
			    : NULL);
	ew_buf_printf(b, "%-11s %zu\n", "incidents:", c->ninc);
	for (i = 0; i < c->ninc; i++) {
		const struct ew_incident *in = &c->inc[i];

		ew_buf_printf(b, "  %s", in->src[0] ? in->src : "?");
		if (in->src_port >= 0)
			ew_buf_printf(b, " port %ld", in->src_port);
		ew_buf_printf(b, " -> %s", in->dst[0] ? in->dst : "*");
		if (in->dst_host[0]) { /* a name as the complaint gave it */
			ew_buf_puts(b, " (");
			ew_esc_term(b, in->dst_host, strlen(in->dst_host), 0);
			ew_buf_putc(b, ')');
		}
		if (in->ports != NULL)
			ew_buf_printf(b, " ports %s", in->ports);
		if (in->tm.has_t)
			ew_buf_printf(b, " at %s",
			    ew_time_format(in->tm.t, t1, sizeof(t1)));
		if (in->tm.has_from && in->tm.has_to &&
		    in->tm.from != in->tm.to)
			ew_buf_printf(b, " (between %s and %s)",
			    ew_time_format(in->tm.from, t1, sizeof(t1)),
			    ew_time_format(in->tm.to, t2, sizeof(t2)));
		else if (!in->tm.has_t && in->tm.has_to)
			ew_buf_printf(b, " (before %s)",
			    ew_time_format(in->tm.to, t2, sizeof(t2)));
		ew_buf_printf(
		    b, " [zone %s]\n", ew_zone_source_word(in->tm.zs));
	}
}

const char *
ew_complaint_format(const struct ew_complaint *c)
{
	return c->format;
}

const char *
ew_complaint_category(const struct ew_complaint *c)
{
	return c->category;
}

size_t
ew_complaint_incident_count(const struct ew_complaint *c)
{
	return c->ninc;
}

const char *
ew_complaint_incident_src(const struct ew_complaint *c, size_t i)
{
	return c->inc[i].src;
}

void
ew_complaint_info(const struct ew_complaint *c, struct ew_complaint_info *out)
{
	out->format = c->format;
	out->category = c->category;
	out->confidence = c->confidence;
	out->reporter = c->reporter;
	out->forwarder = c->forwarder;
	out->message_id = c->message_id;
	out->subject = c->subject;
	out->ticket = c->ticket;
	out->date = c->date;
	out->deadline = c->deadline;
	out->has_date = c->has_date;
	out->has_deadline = c->has_deadline;
	out->sha256 = c->sha256;
}

void
ew_complaint_incident(
    const struct ew_complaint *c, size_t i, struct ew_complaint_incident *out)
{
	const struct ew_incident *in = &c->inc[i];

	out->src = in->src;
	out->src_port = in->src_port;
	out->dst = in->dst;
	out->dst_host = in->dst_host;
	out->ports = in->ports;
	out->time = in->tm.t;
	out->from = in->tm.from;
	out->to = in->tm.to;
	out->has_time = in->tm.has_t;
	out->has_from = in->tm.has_from;
	out->has_to = in->tm.has_to;
	out->zone = in->tm.zs;
}
