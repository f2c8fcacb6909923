/*
 * spamcop.c - SpamCop reports.
 *
 * A SpamCop report (reporter @reports.spamcop.net, a "[ SpamCop V..."
 * banner) names the sending address on a line of its own:
 *
 *	Email from 203.0.113.45 / Fri, 20 Nov 2026 10:11:12 +0000
 *
 * Everything else in it (SpamCop's own links, the quoted spam with its
 * Received headers) is not an incident, which is why free-text
 * extraction alone gets these wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "mail/mail_int.h"

static int
is_spamcop(const struct ew_complaint *c, const struct ew_mail *m)
{
	size_t k;

	if (c->reporter != NULL && strstr(c->reporter, "spamcop.net") != NULL)
		return 1;
	for (k = 0; k < m->nparts; k++)
		if (m->parts[k].data != NULL &&
		    strstr(m->parts[k].data, "[ SpamCop V") != NULL)
			return 1;
	return 0;
}

/* One "Email from ADDR / DATE" line: 1 and an incident, or 0. */
static int
email_from(const char *s, size_t n, struct ew_incident *in)
{
	static const char key[] = "Email from ";
	const char *a, *ae, *slash;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_addr addr;
	int ok;

	if (n < sizeof(key) || memcmp(s, key, sizeof(key) - 1) != 0)
		return 0;
	a = s + sizeof(key) - 1;
	for (ae = a; ae < s + n && *ae != ' ' && *ae != '/'; ae++)
		;
	ew_mail_refang(a, (size_t)(ae - a), &b);
	ok = !b.oom && ew_addr_parse(ew_buf_str(&b), &addr);
	ew_buf_free(&b);
	if (!ok)
		return 0;
	memset(in, 0, sizeof(*in));
	in->src_port = -1;
	ew_addr_format(&addr, 0, in->src, sizeof(in->src));
	slash = memchr(ae, '/', (size_t)(s + n - ae));
	if (slash != NULL) {
		const char *t = slash + 1;

		while (t < s + n && *t == ' ')
			t++;
		if (ew_mail_time_parse(t, (size_t)(s + n - t), &in->tm) < 0)
			memset(&in->tm, 0, sizeof(in->tm));
	}
	return 1;
}

int
ew_extract_spamcop(struct ew_complaint *c, const struct ew_mail *m)
{
	size_t k, found = 0;

	if (!is_spamcop(c, m))
		return 0;
	for (k = 0; k < m->nparts; k++) {
		const char *s = m->parts[k].data, *e, *eol;

		if (s == NULL || strncmp(m->parts[k].ctype, "text/", 5) != 0)
			continue;
		e = s + m->parts[k].len;
		for (; s < e; s = eol < e ? eol + 1 : e) {
			struct ew_incident in;

			if (ew_complaint_over_budget(c))
				return -1;
			eol = memchr(s, '\n', (size_t)(e - s));
			if (eol == NULL)
				eol = e;
			if (!email_from(s,
				(size_t)(eol > s && eol[-1] == '\r'
					     ? eol - s - 1
					     : eol - s),
				&in))
				continue;
			if (ew_complaint_add(c, &in) < 0)
				return -1;
			found++;
		}
	}
	if (found == 0)
		return 0;
	c->format = "spamcop";
	c->category = "spam";
	c->confidence = "high";
	return 1;
}
