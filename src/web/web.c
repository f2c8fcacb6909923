/*
 * web.c - the web face's object and its dispatch: settings, templates,
 * and which page answers a request.
 *
 *   GET/HEAD /           the notice (rendered at most once a second)
 *   GET/HEAD /style.css  the style sheet (CSP: style-src 'self')
 *   GET/HEAD /block      the block form, with a token for the source
 *   POST /block          a block request (block.c)
 *   GET /metrics         Prometheus text (metrics.c)
 *
 * Anything else is 404; another method on a page 405.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "web/web_int.h"

const char *const ew_web_outcome_names[EW_WEB_NOUTCOME] = {
	"accepted",
	"renewed",
	"bad_request",
	"bad_token",
	"replay",
	"not_covered",
	"rate_limited",
	"capped",
	"queued",
	"error",
};

const char *const ew_web_path_names[EW_WEB_NPATH] = {
	"notice",
	"block",
	"metrics",
	"style",
	"other",
};

const char *const ew_web_sec_headers[] = {
	"Content-Security-Policy",
	"default-src 'none'; style-src 'self'; form-action 'self'; "
	"frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options",
	"nosniff",
	"Referrer-Policy",
	"no-referrer",
	"X-Frame-Options",
	"DENY",
	"Cross-Origin-Opener-Policy",
	"same-origin",
	"Cross-Origin-Resource-Policy",
	"same-origin",
	NULL,
	NULL,
};

void
ew_web_conf_init(struct ew_web_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = "127.0.0.1:8080";
	c->max_prefix4 = 24;
	c->max_prefix6 = 48;
	c->block_ttl = 90 * 86400;
	c->cap_per = 4;
	c->cap_total = 256;
	c->rate_burst = 10;
	c->rate_window = 600;
	c->conn_limit = 512;
	c->per_ip_limit = 16;
	c->timeout = 10;
}

/* Read the templates of conf->notice_dir (each file missing: the
 * built-in one), checking their fields. */
static int
load_templates(struct ew_web *w, struct ew_diag_list *diags)
{
	char path[4096];
	int t, rc, bad = 0;

	for (t = 0; t < EW_WEB_NTMPL; t++) {
		const char *b = ew_web_builtin((enum ew_web_tmpl)t);

		path[0] = '\0';
		if (w->conf.notice_dir != NULL)
			snprintf(path, sizeof(path), "%s/%s",
			    w->conf.notice_dir,
			    ew_web_tmpl_file((enum ew_web_tmpl)t));
		rc = path[0] ? ew_file_read(path, 1 << 20, 0, &w->tmpl[t],
				   &w->tmpl_len[t])
			     : -ENOENT;
		if (rc == -ENOENT) {
			w->tmpl[t] = ew_strndup(b, strlen(b));
			w->tmpl_len[t] = strlen(b);
			if (w->tmpl[t] == NULL)
				return -ENOMEM;
			continue;
		}
		if (rc != 0) {
			ew_diag_add(diags, EW_SEV_ERROR, NULL,
			    "cannot read template '%s': %s", path,
			    strerror(-rc));
			bad = 1;
			continue;
		}
		if (ew_web_tmpl_check((enum ew_web_tmpl)t, path, w->tmpl[t],
			w->tmpl_len[t], diags) != 0)
			bad = 1;
	}
	return bad ? -EINVAL : 0;
}

int
ew_web_new(const struct ew_web_conf *conf, struct ew_store *st,
    struct ew_diag_list *diags, struct ew_web **out)
{
	struct ew_web *w;
	int rc;

	*out = NULL;
	if (conf->keylen < EW_WEB_KEY_MIN || conf->keylen > EW_WEB_KEY_MAX) {
		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "the token key must be %d to %d bytes", EW_WEB_KEY_MIN,
		    EW_WEB_KEY_MAX);
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->conf = *conf;
	w->st = st;
	w->page_at = INT64_MIN;
	ew_buf_init(&w->page);
	if (getrandom(&w->rate_salt, sizeof(w->rate_salt), 0) !=
	    (ssize_t)sizeof(w->rate_salt))
		w->rate_salt = 0x9e3779b9u;
	if ((rc = load_templates(w, diags)) != 0) {
		ew_web_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void
ew_web_free(struct ew_web *w)
{
	int t;

	if (w == NULL)
		return;
	for (t = 0; t < EW_WEB_NTMPL; t++)
		free(w->tmpl[t]);
	ew_buf_free(&w->page);
	ew_cleanse(w->conf.key, sizeof(w->conf.key));
	free(w);
}

void
ew_web_resp_free(struct ew_web_resp *r)
{
	ew_buf_free(&r->body);
}

static void
notice(struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r)
{
	if (w->page_at != req->now) {
		ew_buf_reset(&w->page);
		w->page_ok = ew_web_notice(w, req->now, &w->page) == 0;
		w->page_at = req->now;
	}
	if (!w->page_ok) {
		w->page_at = INT64_MIN;
		r->status = 503;
		r->content_type = "text/plain; charset=utf-8";
		ew_buf_puts(&r->body, "the store did not answer\n");
		return;
	}
	r->cache_control = "max-age=60";
	ew_buf_add(&r->body, ew_buf_str(&w->page), w->page.len);
}

static enum ew_web_path
which(const char *path)
{
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
		return EW_WEB_P_NOTICE;
	if (strcmp(path, "/block") == 0)
		return EW_WEB_P_BLOCK;
	if (strcmp(path, "/metrics") == 0)
		return EW_WEB_P_METRICS;
	if (strcmp(path, "/style.css") == 0)
		return EW_WEB_P_STYLE;
	return EW_WEB_P_OTHER;
}

void
ew_web_handle(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r)
{
	enum ew_web_path p = which(req->path);
	int get =
	    strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	int post = strcmp(req->method, "POST") == 0;

	memset(r, 0, sizeof(*r));
	ew_buf_init(&r->body);
	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
	r->cache_control = "no-cache";
	w->requests[p]++;
	if (p == EW_WEB_P_OTHER) {
		r->status = 404;
		r->content_type = "text/plain; charset=utf-8";
		ew_buf_puts(&r->body, "not found\n");
		return;
	}
	if (!(get || (post && p == EW_WEB_P_BLOCK))) {
		r->status = 405;
		r->allow =
		    p == EW_WEB_P_BLOCK ? "GET, HEAD, POST" : "GET, HEAD";
		r->content_type = "text/plain; charset=utf-8";
		ew_buf_puts(&r->body, "method not allowed\n");
		return;
	}
	switch (p) {
	case EW_WEB_P_NOTICE:
		notice(w, req, r);
		break;
	case EW_WEB_P_STYLE:
		r->content_type = "text/css; charset=utf-8";
		r->cache_control = "max-age=3600";
		ew_buf_add(&r->body, w->tmpl[EW_WEB_T_STYLE],
		    w->tmpl_len[EW_WEB_T_STYLE]);
		break;
	case EW_WEB_P_BLOCK:
		if (post) {
			ew_web_block_post(w, req, r);
			break;
		}
		r->cache_control = "no-store";
		if (ew_web_block_form(w, &req->src, req->now, NULL, &r->body) !=
		    0) {
			r->status = 503;
			ew_buf_reset(&r->body);
		}
		break;
	case EW_WEB_P_METRICS:
		ew_web_metrics(w, req, r);
		break;
	default:
		break;
	}
}
