/*
 * torrc.c - the edit exitwarden setup makes to a relay's torrc (conf.h:
 * ew_conf_torrc_edit), as a pure text transform.
 *
 * Two changes, and nothing else of the file is touched:
 *
 *   1. Every line setting an option exitwarden takes over
 *      (ew_conf_taken_over: the exit policy and the switches that shape
 *      it) is commented out with the marker EW_CONF_TORRC_MARK, its
 *      continuation lines too.  The lines are not lost: they are
 *      returned as policy text, for the operator's policy file, whose
 *      language reads them as they are.
 *   2. "%include DIR" of exitwarden's fragment directory is placed as
 *      the last setting of the file, so what the fragment sets comes
 *      after everything else (tor: the last value of an option wins,
 *      and list options such as ExitPolicy no longer appear before it).
 *      An earlier %include of the same path is commented out.
 *
 * The edit is idempotent: a file already edited comes back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "lib/buf.h"

const char *const ew_conf_taken_over[] = {
	"ExitPolicy",
	"ExitRelay",
	"IPv6Exit",
	"ExitPolicyRejectPrivate",
	"ExitPolicyRejectLocalInterfaces",
	"ReducedExitPolicy",
	NULL,
};

/* Whether the line (len bytes, no newline) sets a taken-over option. */
static int
taken_over(const char *p, size_t len)
{
	const char *e = p + len, *k;
	size_t i, n;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p < e && (*p == '+' || *p == '/'))
		p++;
	k = p;
	while (p < e && !isspace((unsigned char)*p))
		p++;
	n = (size_t)(p - k);
	for (i = 0; ew_conf_taken_over[i] != NULL; i++)
		if (strlen(ew_conf_taken_over[i]) == n &&
		    strncasecmp(ew_conf_taken_over[i], k, n) == 0)
			return 1;
	return 0;
}

/* Whether the line is "%include PATH" (spaces around allowed). */
static int
is_include(const char *p, size_t len, const char *path)
{
	const char *e = p + len;
	size_t n = strlen(path);

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(e - p) < 9 || strncmp(p, "%include", 8) != 0 ||
	    (p[8] != ' ' && p[8] != '\t'))
		return 0;
	p += 9;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	return (size_t)(e - p) == n && strncmp(p, path, n) == 0;
}

/* Blank or a comment: not a setting. */
static int
is_blank(const char *p, size_t len)
{
	const char *e = p + len;

	while (p < e && isspace((unsigned char)*p))
		p++;
	return p == e || *p == '#';
}

/* Does the line continue on the next (a '\' last, tor's rule)? */
static int
continues(const char *p, size_t len)
{
	while (len > 0 &&
	       (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	return len > 0 && p[len - 1] == '\\' && !is_blank(p, len);
}

void
ew_conf_torrc_edit_free(struct ew_conf_torrc_edit *e)
{
	free(e->text);
	free(e->moved);
	memset(e, 0, sizeof(*e));
}

int
ew_conf_torrc_edit(const char *text, size_t len, const char *include,
    struct ew_conf_torrc_edit *out)
{
	struct ew_buf t = EW_BUF_INIT, m = EW_BUF_INIT;
	const char *p = text, *end = text + len, *nl;
	size_t n, last_setting_end = 0, inc_at = (size_t)-1, inc_end = 0;
	int cont = 0, comment_cont = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (cont) {
			/* a continuation of the line before */
			if (comment_cont) {
				ew_buf_puts(&t, EW_CONF_TORRC_MARK);
				ew_buf_add(&m, p, n);
				ew_buf_putc(&m, '\n');
			}
			ew_buf_add(&t, p, n);
			cont = continues(p, n);
		} else if (!is_blank(p, n) && taken_over(p, n)) {
			ew_buf_puts(&t, EW_CONF_TORRC_MARK);
			ew_buf_add(&t, p, n);
			ew_buf_add(&m, p, n);
			ew_buf_putc(&m, '\n');
			out->n_moved++;
			cont = comment_cont = continues(p, n);
		} else if (is_include(p, n, include)) {
			inc_at = t.len;
			ew_buf_add(&t, p, n);
			inc_end = last_setting_end = t.len;
			cont = comment_cont = 0;
		} else {
			ew_buf_add(&t, p, n);
			if (!is_blank(p, n))
				last_setting_end = t.len;
			cont = continues(p, n);
			comment_cont = 0;
		}
		if (nl != NULL)
			ew_buf_putc(&t, '\n');
		p = nl ? nl + 1 : end;
	}
	/* the include must be the last setting: keep it where it is when
	 * it is, else comment it out and add it at the end */
	if (inc_at == (size_t)-1 || inc_end != last_setting_end) {
		struct ew_buf r = EW_BUF_INIT;

		if (inc_at != (size_t)-1) {
			ew_buf_add(&r, t.p, inc_at);
			ew_buf_puts(&r, EW_CONF_TORRC_MARK);
			ew_buf_add(&r, t.p + inc_at, t.len - inc_at);
		} else if (t.len > 0) {
			ew_buf_add(&r, t.p, t.len);
		}
		if (r.len > 0 && r.p[r.len - 1] != '\n')
			ew_buf_putc(&r, '\n');
		ew_buf_printf(&r,
		    "\n# exitwarden: its fragment last, so that what it sets "
		    "wins (exitwarden setup)\n%%include %s\n",
		    include);
		ew_buf_free(&t);
		t = r;
		out->include_added = 1;
	}
	if (t.oom || m.oom) {
		ew_buf_free(&t);
		ew_buf_free(&m);
		return -ENOMEM;
	}
	out->len = t.len; /* a NUL in the file stays */
	out->text = t.p ? ew_buf_detach(&t) : strdup("");
	out->moved = m.p ? ew_buf_detach(&m) : NULL;
	if (out->text == NULL) {
		ew_conf_torrc_edit_free(out);
		return -ENOMEM;
	}
	return 0;
}
