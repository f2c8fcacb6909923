/*
 * test_mail_formats.c - unit tests for the structured readers added
 * beside the free-text one (the XML layer, DMARC, IODEF, fail2ban) and
 * for the per-mail budgets: one decompression budget over all the
 * attachments of a mail, a time budget checked in every loop a sender
 * sizes (with an injected clock, so the tests count work, not seconds),
 * and the real cause named when a mail names too many addresses.
 *
 * The test builds its zip and gzip attachments with libarchive's
 * writer: test code, so the one-library-per-file rule of src/ does not
 * apply here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "mail/mail.h"
#include "mail/mail_int.h"
#include "mail/xml_int.h"

/* ---- building mails ---- */

static la_ssize_t
wr(struct archive *a, void *arg, const void *p, size_t n)
{
	(void)a;
	ew_buf_add(arg, p, n);
	return (la_ssize_t)n;
}

/* One entry `name` of `len` bytes (zeros when data is NULL) as a zip
 * (gzip = 0) or a gzip stream (gzip = 1) into out. */
static void
pack(struct ew_buf *out, int gzip, const char *name, const void *data,
    size_t len)
{
	static const char zero[65536];
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t done = 0;

	if (gzip) {
		archive_write_add_filter_gzip(a);
		archive_write_set_format_raw(a);
	} else {
		archive_write_set_format_zip(a);
	}
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open(a, out, NULL, wr, NULL);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_write_header(a, e);
	while (done < len) {
		size_t k =
		    len - done < sizeof(zero) ? len - done : sizeof(zero);

		archive_write_data(
		    a, data != NULL ? (const char *)data + done : zero, k);
		done += k;
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static void
base64(struct ew_buf *out, const unsigned char *p, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t i, col = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		ew_buf_putc(out, t[v >> 18 & 63]);
		ew_buf_putc(out, t[v >> 12 & 63]);
		ew_buf_putc(out, i + 1 < n ? t[v >> 6 & 63] : '=');
		ew_buf_putc(out, i + 2 < n ? t[v & 63] : '=');
		if ((col += 4) >= 76) {
			ew_buf_putc(out, '\n');
			col = 0;
		}
	}
	ew_buf_putc(out, '\n');
}

static void
mail_head(struct ew_buf *m)
{
	ew_buf_puts(m, "From: reports@receiver.example\n"
		       "Subject: reports\n"
		       "Date: Wed, 18 Nov 2026 03:00:00 +0000\n"
		       "MIME-Version: 1.0\n"
		       "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
		       "--B\nContent-Type: text/plain\n\nreports attached\n");
}

static void
mail_attach(struct ew_buf *m, const char *ctype, const char *name,
    const struct ew_buf *data)
{
	ew_buf_printf(m,
	    "--B\nContent-Type: %s; name=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n",
	    ctype, name);
	base64(m, (const unsigned char *)data->p, data->len);
}

/* Parse m with o; 0 or -1, the first error message in err. */
static int
run(const struct ew_buf *m, struct ew_complaint_opts *o, char *err, size_t cap,
    struct ew_complaint **out)
{
	struct ew_diag_list d;
	int rc;

	ew_diag_init(&d);
	rc = ew_complaint_parse_opts("t", m->p, m->len, o, &d, out);
	snprintf(err, cap, "%s", d.n > 0 ? d.v[0].msg : "");
	ew_diag_free(&d);
	return rc;
}

/* ---- the decompression budget ---- */

/*
 * Three zip bombs of 100 MiB each in one small mail: each is under a
 * per-zip limit of 256 MiB, the mail is not under a per-mail one.  The
 * parse must stop when the budget is spent, having inflated no more
 * than it.  (On the tree before the per-mail budget this mail parsed,
 * inflating 300 MiB.)
 */
static void
test_bombs_default_budget(void)
{
	struct ew_buf z = EW_BUF_INIT, m = EW_BUF_INIT;
	struct ew_complaint_stats st;
	struct ew_complaint_opts o;
	struct ew_complaint *c = NULL;
	char err[256];
	int k;

	pack(&z, 0, "zeros.bin", NULL, 100u << 20);
	mail_head(&m);
	for (k = 0; k < 3; k++)
		mail_attach(&m, "application/zip", "bomb.zip", &z);
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK(m.len < 2u << 20);
	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	o.stats = &st;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), -1);
	EW_CHECK(c == NULL);
	EW_CHECK(strstr(err, "decompress") != NULL);
	EW_CHECK(st.inflated <= EW_MAIL_MAX_INFLATE);
	EW_CHECK(st.inflated >= EW_MAIL_MAX_INFLATE - (1u << 20));
	/* the plain API has the same budget */
	{
		struct ew_diag_list d;

		ew_diag_init(&d);
		EW_CHECK(ew_complaint_parse("t", m.p, m.len, &d, &c) < 0);
		EW_CHECK(d.n > 0 && strstr(d.v[0].msg, "decompress") != NULL);
		ew_diag_free(&d);
	}
	ew_buf_free(&z);
	ew_buf_free(&m);
}

/* Many small bombs, zip and gzip, against a small budget: the work is
 * bounded by the budget, not by the number of attachments. */
static void
test_bombs_small_budget(void)
{
	struct ew_buf z = EW_BUF_INIT, g = EW_BUF_INIT, m = EW_BUF_INIT;
	struct ew_complaint_stats st;
	struct ew_complaint_opts o;
	struct ew_complaint *c = NULL;
	char err[256];
	int k;

	pack(&z, 0, "zeros.bin", NULL, 2u << 20);
	pack(&g, 1, "zeros.xml", NULL, 2u << 20);
	mail_head(&m);
	for (k = 0; k < 40; k++)
		mail_attach(&m, k % 2 ? "application/zip" : "application/gzip",
		    k % 2 ? "b.zip" : "b.xml.gz", k % 2 ? &z : &g);
	ew_buf_puts(&m, "--B--\n");
	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	o.stats = &st;
	o.inflate_limit = 8u << 20;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), -1);
	EW_CHECK(strstr(err, "8388608 bytes") != NULL);
	EW_CHECK(st.inflated <= 8u << 20);
	EW_CHECK(st.inflated > 6u << 20);
	/* the same mail under a budget that holds all of it: accepted */
	o.inflate_limit = 81u << 20;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), 0);
	EW_CHECK_INT(st.inflated, 80u << 20);
	ew_complaint_free(c);
	ew_buf_free(&z);
	ew_buf_free(&g);
	ew_buf_free(&m);
}

/* ---- the time budget, with an injected clock ---- */

struct fake_clock {
	int64_t now, step; /* each reading advances the clock by step */
	unsigned reads;
};

static int64_t
fake(void *arg)
{
	struct fake_clock *f = arg;

	f->reads++;
	f->now += f->step;
	return f->now;
}

static void
fail2ban_mail(struct ew_buf *m, unsigned lines)
{
	unsigned k;

	ew_buf_puts(m, "From: fail2ban@mx1.victim.example\n"
		       "Subject: [Fail2Ban] sshd: banned 203.0.113.45 from "
		       "mx1.victim.example\n"
		       "Date: Tue, 17 Nov 2026 02:45:12 +0100\n\n"
		       "The IP 203.0.113.45 has just been banned by Fail2Ban "
		       "after\n5 attempts against sshd.\n\n");
	for (k = 0; k < lines; k++)
		ew_buf_printf(m,
		    "Nov 17 01:%02u:%02u mx1 sshd[%u]: Failed password for "
		    "root from 203.0.113.45 port 4%04u ssh2\n",
		    k / 60 % 60, k % 60, k, k % 10000);
}

static void
test_time_budget(void)
{
	struct ew_buf m = EW_BUF_INIT;
	struct ew_complaint_stats st;
	struct ew_complaint_opts o;
	struct ew_complaint *c = NULL;
	struct fake_clock fc = { 0, 0, 0 };
	char err[256];

	fail2ban_mail(&m, 3000);
	memset(&o, 0, sizeof(o));
	o.clock = fake;
	o.clock_arg = &fc;
	o.stats = &st;
	/* a clock that stands still: the mail is read */
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), 0);
	EW_CHECK(c != NULL && ew_complaint_incident_count(c) == 1);
	EW_CHECK_STR(c != NULL ? ew_complaint_format(c) : "", "fail2ban");
	/* each log line is a budget check */
	EW_CHECK(st.budget_checks >= 3000);
	ew_complaint_free(c);
	c = NULL;
	/* 1 ms per reading, 2 s allowed: refused in the per-line loop,
	 * after about 2000 checks, not after all of them */
	fc.now = 0;
	fc.step = 1;
	fc.reads = 0;
	o.time_limit_ms = 2000;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), -1);
	EW_CHECK(c == NULL);
	EW_CHECK_STR(err, "took longer than 2 s: refused");
	EW_CHECK(st.budget_checks >= 2000 && st.budget_checks <= 2002);
	EW_CHECK(fc.reads <= 2004);
	/* a limit that is not whole seconds says milliseconds */
	fc.now = 0;
	o.time_limit_ms = 150;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), -1);
	EW_CHECK_STR(err, "took longer than 150 ms: refused");
	ew_buf_free(&m);
}

/* The decompression loop checks the clock too: a slow clock stops a
 * big inflate long before the byte budget would. */
static void
test_time_budget_inflate(void)
{
	struct ew_buf z = EW_BUF_INIT, m = EW_BUF_INIT;
	struct ew_complaint_stats st;
	struct ew_complaint_opts o;
	struct ew_complaint *c = NULL;
	struct fake_clock fc = { 0, 100, 0 };
	char err[256];

	pack(&z, 0, "zeros.bin", NULL, 64u << 20);
	mail_head(&m);
	mail_attach(&m, "application/zip", "bomb.zip", &z);
	ew_buf_puts(&m, "--B--\n");
	memset(&o, 0, sizeof(o));
	o.clock = fake;
	o.clock_arg = &fc;
	o.stats = &st;
	o.time_limit_ms = 1000;
	EW_CHECK_INT(run(&m, &o, err, sizeof(err), &c), -1);
	EW_CHECK_STR(err, "took longer than 1 s: refused");
	EW_CHECK(st.inflated < 2u << 20);
	ew_buf_free(&z);
	ew_buf_free(&m);
}

/* ---- the real cause of a refusal ---- */

static void
test_too_many_addresses(void)
{
	struct ew_buf m = EW_BUF_INIT;
	struct ew_complaint *c = NULL;
	struct ew_complaint_opts o;
	struct ew_diag_list d;
	unsigned n = 0, a, b, x;

	memset(&o, 0, sizeof(o));
	ew_buf_puts(&m, "From: scans@ids.example\nSubject: scanners\n"
			"Date: Tue, 17 Nov 2026 02:45:12 +0100\n\n");
	for (a = 1; n < 1500000; a++)
		for (b = 0; b < 256 && n < 1500000; b++)
			for (x = 1; x < 255 && n < 1500000; x++, n++)
				ew_buf_printf(&m, "10.%u.%u.%u\n", a, b, x);
	EW_CHECK(m.len < EW_MAIL_MAX_SIZE);
	ew_diag_init(&d);
	/* the time budget raised: this is about the count, and a sanitizer
	 * build reads 1.5M addresses slower than the default 10 s */
	o.time_limit_ms = 600000;
	EW_CHECK(ew_complaint_parse_opts("t", m.p, m.len, &o, &d, &c) < 0);
	EW_CHECK(d.n > 0 &&
		 strstr(d.v[0].msg, "more than 1000000 incidents") != NULL);
	EW_CHECK(d.n > 0 && strstr(d.v[0].msg, "memory") == NULL);
	ew_diag_free(&d);
	ew_buf_free(&m);
}

/* ---- the XML layer ---- */

static int
xml_rc(const char *s, size_t n)
{
	struct ew_xml_doc *doc = NULL;
	int rc = ew_xml_parse(s, n, NULL, &doc, NULL);

	EW_CHECK(rc == 0 ? doc != NULL : doc == NULL);
	ew_xml_free(doc);
	return rc;
}

#define XML_RC(s) xml_rc((s), strlen(s))

static void
test_xml(void)
{
	static const char ok[] =
	    "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:x\" v=\"1\">\n"
	    "  <a:b k=\"x&amp;y\">  one <![CDATA[<two>]]>  </a:b>\n"
	    "  <c>3</c><b>second</b>\n</a:r>\n";
	/* "<!DOCTYPE" in UTF-16: a byte search would miss it */
	static const char u16[] = "\xff\xfe<\0?\0x\0m\0l\0 \0v\0e\0r\0s\0i\0o\0"
				  "n\0=\0\"\0001\0.\0000\0\"\0?\0>\0<\0!\0D\0"
				  "O\0C\0T\0Y\0P\0E\0 \0r\0>\0<\0r\0/\0>\0";
	struct ew_xml_doc *doc = NULL;
	struct ew_xml_error err;
	const struct ew_xml *r, *b;
	struct ew_buf deep = EW_BUF_INIT;
	int k;

	EW_CHECK_INT(ew_xml_parse(ok, sizeof(ok) - 1, NULL, &doc, &err), 0);
	r = ew_xml_root(doc);
	EW_CHECK_STR(r->name, "r");
	EW_CHECK_STR(r->ns, "urn:x");
	EW_CHECK_STR(ew_xml_attr(r, "v"), "1");
	b = ew_xml_child(r, "b");
	EW_CHECK_STR(ew_xml_text(b), "one <two>");
	EW_CHECK_STR(ew_xml_attr(b, "k"), "x&y");
	EW_CHECK_INT(b->line, 3);
	EW_CHECK_STR(ew_xml_text(ew_xml_next(b)), "second");
	EW_CHECK(ew_xml_next(ew_xml_next(b)) == NULL);
	EW_CHECK_STR(ew_xml_get(r, "c"), "3");
	EW_CHECK_STR(ew_xml_get(r, "c/none"), "");
	EW_CHECK(ew_xml_child(NULL, "x") == NULL);
	ew_xml_free(doc);

	EW_CHECK_INT(
	    ew_xml_parse("<a><b></a>", 10, NULL, &doc, &err), EW_XML_MALFORMED);
	EW_CHECK(err.line == 1 && err.msg[0] != '\0');
	EW_CHECK_INT(XML_RC("<r>&undefined;</r>"), EW_XML_MALFORMED);
	EW_CHECK_INT(XML_RC(""), EW_XML_MALFORMED);
	EW_CHECK_INT(XML_RC("<!DOCTYPE r SYSTEM \"http://x.example/d\"><r/>"),
	    EW_XML_DOCTYPE);
	EW_CHECK_INT(XML_RC("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x "
			    "SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"),
	    EW_XML_DOCTYPE);
	EW_CHECK_INT(XML_RC("<r><!ENTITY x \"y\"></r>"), EW_XML_MALFORMED);
	EW_CHECK_INT(xml_rc(u16, sizeof(u16) - 1), EW_XML_DOCTYPE);
	for (k = 0; k < EW_XML_MAX_DEPTH + 1; k++)
		ew_buf_puts(&deep, "<d>");
	for (k = 0; k < EW_XML_MAX_DEPTH + 1; k++)
		ew_buf_puts(&deep, "</d>");
	EW_CHECK_INT(xml_rc(deep.p, deep.len), EW_XML_LIMIT);
	ew_buf_reset(&deep);
	for (k = 0; k < EW_XML_MAX_DEPTH; k++)
		ew_buf_puts(&deep, "<d>");
	for (k = 0; k < EW_XML_MAX_DEPTH; k++)
		ew_buf_puts(&deep, "</d>");
	EW_CHECK_INT(xml_rc(deep.p, deep.len), 0);
	ew_buf_free(&deep);
}

/* ---- readers ---- */

static void
test_fail2ban_ports(void)
{
	EW_CHECK_STR(ew_fail2ban_ports("sshd", 4), "22");
	EW_CHECK_STR(ew_fail2ban_ports("postfix", 7), "25,465,587");
	EW_CHECK_STR(ew_fail2ban_ports("dovecot", 7), "110,143,993,995");
	EW_CHECK_STR(ew_fail2ban_ports("nginx-http-auth", 15), "80,443");
	EW_CHECK_STR(ew_fail2ban_ports("apache-auth", 11), "80,443");
	EW_CHECK_STR(ew_fail2ban_ports("SSHD", 4), "22");
	EW_CHECK(ew_fail2ban_ports("recidive", 8) == NULL);
	EW_CHECK(ew_fail2ban_ports("nginx-", 6) == NULL);
	EW_CHECK(ew_fail2ban_ports("sshdx", 5) == NULL);
}

static const char *
json_of(const struct ew_buf *m)
{
	static char out[4096];
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char err[256];

	if (run(m, NULL, err, sizeof(err), &c) < 0) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	ew_complaint_json(c, &b);
	snprintf(out, sizeof(out), "%s", ew_buf_str(&b));
	ew_buf_free(&b);
	ew_complaint_free(c);
	return out;
}

/* A DMARC report as .xml.gz inside a .zip: nested archives are read,
 * each level drawing on the same budget. */
static void
test_dmarc_nested(void)
{
	static const char x[] =
	    "<feedback><report_metadata><org_name>R</org_name>"
	    "<email>r@r.example</email><date_range><begin>1794873600</begin>"
	    "<end>1794959999</end></date_range></report_metadata>"
	    "<record><row><source_ip>192.0.2.9</source_ip><count>1</count>"
	    "<policy_evaluated><disposition>none</disposition>"
	    "<dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>"
	    "</record></feedback>";
	struct ew_buf g = EW_BUF_INIT, z = EW_BUF_INIT, m = EW_BUF_INIT;
	const char *j;

	pack(&g, 1, "r.xml", x, sizeof(x) - 1);
	pack(&z, 0, "r.xml.gz", g.p, g.len);
	mail_head(&m);
	mail_attach(&m, "application/zip", "r.zip", &z);
	ew_buf_puts(&m, "--B--\n");
	j = json_of(&m);
	EW_CHECK(strstr(j, "\"format\":\"dmarc\"") != NULL);
	EW_CHECK(strstr(j, "\"src\":\"192.0.2.9\"") != NULL);
	EW_CHECK(strstr(j, "\"reporter\":\"r@r.example\"") != NULL);
	/* a zip that is no zip (an encrypted sample, say) is ignored */
	ew_buf_reset(&m);
	ew_buf_reset(&z);
	ew_buf_puts(&z, "PK\3\4 not really a zip");
	mail_head(&m);
	mail_attach(&m, "application/zip", "sample.zip", &z);
	ew_buf_puts(&m, "--B--\n");
	j = json_of(&m);
	EW_CHECK(strncmp(j, "ERR", 3) != 0);
	/* so is a corrupt compressed log; a corrupt report is refused */
	ew_buf_reset(&m);
	mail_head(&m);
	mail_attach(&m, "application/gzip", "auth.log.gz", &z);
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK(strncmp(json_of(&m), "ERR", 3) != 0);
	ew_buf_reset(&m);
	mail_head(&m);
	mail_attach(&m, "application/gzip", "x!y!1!2.xml.gz", &z);
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK_STR(json_of(&m), "ERR: part 2 (x!y!1!2.xml.gz): not gzip "
				  "data, or corrupt: refused");
	ew_buf_free(&g);
	ew_buf_free(&z);
	ew_buf_free(&m);
}

/* A DMARC report whose records all pass is a complaint without
 * incidents; a syslog line from December in a January mail is placed
 * in the year before. */
static void
test_readers_misc(void)
{
	static const char pass[] =
	    "<feedback><report_metadata><org_name>R</org_name>"
	    "</report_metadata><record><row><source_ip>192.0.2.9</source_ip>"
	    "<policy_evaluated><dkim>pass</dkim><spf>fail</spf>"
	    "</policy_evaluated></row></record></feedback>";
	struct ew_buf m = EW_BUF_INIT, x = EW_BUF_INIT;
	const char *j;

	ew_buf_add(&x, pass, sizeof(pass) - 1);
	mail_head(&m);
	mail_attach(&m, "text/xml", "r.xml", &x);
	ew_buf_puts(&m, "--B--\n");
	j = json_of(&m);
	EW_CHECK(strstr(j, "\"format\":\"dmarc\"") != NULL);
	EW_CHECK(strstr(j, "\"incidents\":[]") != NULL);
	EW_CHECK(
	    strstr(j, "\"reporter\":\"reports@receiver.example\"") != NULL);

	/* the root is what makes a report: a comment before it is fine,
	 * an HTML page that mentions <feedback> is not a report */
	ew_buf_reset(&m);
	ew_buf_reset(&x);
	ew_buf_puts(&x, "<?xml version=\"1.0\"?>\n<!-- daily -->\n");
	ew_buf_add(&x, pass, sizeof(pass) - 1);
	mail_head(&m);
	mail_attach(&m, "application/octet-stream", "report", &x);
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK(strstr(json_of(&m), "\"format\":\"dmarc\"") != NULL);
	ew_buf_reset(&m);
	ew_buf_reset(&x);
	ew_buf_puts(&x, "<html><body><form><feedback>broken <b></body>");
	mail_head(&m);
	mail_attach(&m, "text/html", "page.html", &x);
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK(strncmp(json_of(&m), "ERR", 3) != 0);
	/* prose naming the IODEF-Document element is no document */
	ew_buf_reset(&m);
	ew_buf_puts(&m, "From: f@h.example\nSubject: question\n\n"
			"Do you accept an IODEF-Document? Our <IODEF-Document> "
			"starts with <iodef:IODEF-Document and ends with "
			"IODEF-Document> only.\n");
	j = json_of(&m);
	EW_CHECK(strncmp(j, "ERR", 3) != 0);
	EW_CHECK(strstr(j, "\"format\":\"iodef\"") == NULL);

	ew_buf_reset(&m);
	ew_buf_puts(&m, "From: f@h.example\nSubject: Abuse from 192.0.2.1\n"
			"Date: Fri, 1 Jan 2027 00:20:03 +0000\n\n"
			"We have detected abuse from the IP address 192.0.2.1, "
			"which ... generated by Fail2Ban.)\n"
			"Note: Local timezone is +0000 (UTC)\n"
			"Dec 31 23:59:59 h sshd[1]: Failed password from "
			"192.0.2.1 port 1 ssh2\n");
	j = json_of(&m);
	EW_CHECK(strstr(j, "\"time\":\"2026-12-31T23:59:59Z\"") != NULL);
	EW_CHECK(strstr(j, "\"dst_ports\":[\"22\"]") != NULL);
	ew_buf_free(&m);
	ew_buf_free(&x);
}

/* Count the occurrences of needle in s. */
static size_t
count_of(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* One X-ARF 0.2 report of a batch, source src, as an octet-stream part. */
static void
xarf_part(struct ew_buf *m, const char *src, const char *name)
{
	struct ew_buf x = EW_BUF_INIT;

	ew_buf_printf(&x,
	    "Category: abuse\nDate: '2026-11-18 02:10:00-05:00'\n"
	    "Port: '443'\nReport-Type: login-attack\n"
	    "Reported-From: soc@guard.example\nSource: %s\n"
	    "Source-Type: ip-address\nTargeted-Range: 203.0.113.0/24\n",
	    src);
	mail_attach(m, "application/octet-stream", name, &x);
	ew_buf_free(&x);
}

/* X-ARF batches: reports in octet-stream parts are read, every one of
 * them; the same event repeated by another part is one incident, also
 * over thousands of parts. */
static void
test_xarf_batch(void)
{
	struct ew_buf m = EW_BUF_INIT, b = EW_BUF_INIT;
	struct ew_complaint *c = NULL;
	char err[256], nm[32];
	const char *j;
	int k;

	mail_head(&m);
	xarf_part(&m, "192.0.2.61", "r1.txt");
	xarf_part(&m, "192.0.2.61", "r2.txt");
	xarf_part(&m, "198.51.100.62", "r3.txt");
	ew_buf_puts(&m, "--B--\n");
	j = json_of(&m);
	EW_CHECK(strstr(j, "\"format\":\"x-arf\"") != NULL);
	EW_CHECK(strstr(j, "\"reporter\":\"soc@guard.example\"") != NULL);
	EW_CHECK(count_of(j, "\"src\":\"192.0.2.61\"") == 1);
	EW_CHECK(count_of(j, "\"src\":\"198.51.100.62\"") == 1);
	EW_CHECK(count_of(j, "\"dst\":\"203.0.113.0/24\"") == 2);
	EW_CHECK(count_of(j, "\"dst_ports\":[\"443\"]") == 2);
	EW_CHECK(count_of(j, "\"time\":\"2026-11-18T07:10:00Z\"") == 2);

	ew_buf_reset(&m);
	mail_head(&m);
	for (k = 0; k < 3000; k++) {
		snprintf(nm, sizeof(nm), "r%d.txt", k);
		xarf_part(&m, k % 2 ? "192.0.2.61" : "192.0.2.62", nm);
	}
	ew_buf_puts(&m, "--B--\n");
	EW_CHECK(run(&m, NULL, err, sizeof(err), &c) == 0);
	if (c != NULL) {
		ew_complaint_json(c, &b);
		EW_CHECK(count_of(ew_buf_str(&b), "\"src\":") == 2);
	}
	ew_complaint_free(c);
	ew_buf_free(&b);
	ew_buf_free(&m);
}

int
main(void)
{
	EW_RUN(test_xml);
	EW_RUN(test_fail2ban_ports);
	EW_RUN(test_dmarc_nested);
	EW_RUN(test_readers_misc);
	EW_RUN(test_xarf_batch);
	EW_RUN(test_time_budget);
	EW_RUN(test_time_budget_inflate);
	EW_RUN(test_bombs_small_budget);
	EW_RUN(test_bombs_default_budget);
	EW_RUN(test_too_many_addresses);
	return ew_test_done();
}
