/*
 * page.c - the pages: templates (built in, or files of the notice
 * directory for translations), the exit notice and the block form.
 *
 * A template is HTML with {{name}} fields; each page fills a fixed set
 * of names with HTML this file builds, every outside text (store rows,
 * the contact, the requester's address) through ew_esc_html.  A
 * template naming a field its page does not fill is refused when it is
 * loaded, located at file:line:col.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/esc.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"
#include "web/web_int.h"

static const char notice_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>This is a Tor exit router</title>\n"
    "<link rel=\"stylesheet\" href=\"/style.css\">\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>This is a Tor exit router</h1>\n"
    "<p>You are most likely reading this because you saw connections "
    "from this address to your site or service. This machine is part of "
    "<a href=\"https://www.torproject.org/\">the Tor network</a>: it "
    "carries connections for people who use Tor to protect their "
    "privacy. The person behind a connection is not the operator of this "
    "machine, and the operator cannot tell who it is.</p>\n"
    "<h2>What Tor is</h2>\n"
    "<p>Tor is free software and an open network that helps people "
    "defend against traffic analysis. Journalists, activists, ordinary "
    "people and businesses use it to keep their browsing and "
    "communication private. See the <a "
    "href=\"https://support.torproject.org/\">Tor FAQ</a> and <a "
    "href=\"https://community.torproject.org/relay/community-resources/"
    "eff-tor-legal-faq/\">the EFF's legal FAQ for Tor relay "
    "operators</a>.</p>\n"
    "<h2>No connection logs</h2>\n"
    "<p>This exit keeps no logs of the connections it carries: no "
    "source, no destination, no time. There is nothing to hand over "
    "about a particular connection.</p>\n"
    "<h2>Contact</h2>\n"
    "<p>The operator: {{contact}}</p>\n"
    "<h2>Relays at this address</h2>\n"
    "{{relays}}\n"
    "<h2>What this exit refuses today</h2>\n"
    "{{policy}}\n"
    "<h3>Blocked destinations</h3>\n"
    "{{blocks}}\n"
    "<h2>Stop connections to your site</h2>\n"
    "<p>If you run a site or service and do not want connections from "
    "this exit, you can <a href=\"/block\">ask for a block yourself</a>, "
    "from the address you want blocked (an address, or a prefix up to "
    "/{{max_prefix4}} for IPv4 and /{{max_prefix6}} for IPv6, that "
    "contains it). A block lasts {{block_days}} days and can be renewed "
    "the same way. You can also block all Tor exits: the list is "
    "published at <a href=\"https://check.torproject.org/"
    "torbulkexitlist\">check.torproject.org</a>.</p>\n"
    "<p class=\"small\">Page generated {{updated}}.</p>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

static const char block_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>Ask this Tor exit to stop connecting to you</title>\n"
    "<link rel=\"stylesheet\" href=\"/style.css\">\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>Ask this exit to stop connecting to you</h1>\n"
    "{{error}}"
    "<p>Your request comes from <strong>{{source}}</strong>. The exit "
    "blocks an address or prefix only when the request comes from "
    "inside it: ask from the machine whose address you want blocked. A "
    "prefix may be at most /{{max_prefix4}} (IPv4) or /{{max_prefix6}} "
    "(IPv6) wide.</p>\n"
    "<p class=\"note\">A request from a shared address (shared hosting, "
    "NAT, a proxy) proves only control of that address, not of every "
    "service behind it. The block covers the address or prefix you "
    "name, and only from this exit.</p>\n"
    "<form method=\"post\" action=\"/block\">\n"
    "<input type=\"hidden\" name=\"token\" value=\"{{token}}\">\n"
    "<label for=\"target\">Address or prefix to block</label>\n"
    "<input id=\"target\" name=\"target\" value=\"{{source}}\" "
    "maxlength=\"64\" required>\n"
    "<label for=\"ports\">Ports (empty: all; e.g. 80,443,8000-8100)"
    "</label>\n"
    "<input id=\"ports\" name=\"ports\" maxlength=\"128\">\n"
    "<button type=\"submit\">Block</button>\n"
    "</form>\n"
    "<p>The block lasts {{block_days}} days; ask again to renew it. "
    "{{confirm_note}}This form is good for 10 minutes.</p>\n"
    "<p><a href=\"/\">Back to the notice</a></p>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

static const char result_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>Block requested</title>\n"
    "<link rel=\"stylesheet\" href=\"/style.css\">\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>Block requested</h1>\n"
    "<p>{{status}}</p>\n"
    "<ul class=\"rules\">\n{{blocked}}</ul>\n"
    "<p>Until <strong>{{until}}</strong> (request number {{ticket}}).</p>\n"
    "<p><a href=\"/\">Back to the notice</a></p>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

static const char style_css[] =
    "html{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif;line-height:1.5;color:#222;background:#fdfdfd}\n"
    "main{max-width:42rem;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.6rem;color:#59316b}\n"
    "h2{font-size:1.2rem;margin-top:1.6rem;border-bottom:1px solid #ddd}\n"
    "h3{font-size:1rem}\n"
    "a{color:#59316b}\n"
    "code,.fp{font-family:ui-monospace,monospace;word-break:break-all}\n"
    "ul.rules li{margin:.3rem 0}\n"
    ".small{font-size:.85rem;color:#666}\n"
    ".note{background:#fff8e1;border-left:4px solid #f0b400;"
    "padding:.5rem}\n"
    ".error{background:#fdecea;border-left:4px solid #c62828;"
    "padding:.5rem}\n"
    "label{display:block;margin-top:.8rem;font-weight:600}\n"
    "input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}\n"
    "button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;"
    "background:#59316b;color:#fff;border:0;border-radius:4px}\n";

static const struct {
	const char *file;
	const char *text;
	const char *fields; /* the names the page fills, blank-separated */
} tmpls[EW_WEB_NTMPL] = {
	[EW_WEB_T_NOTICE] = { "notice.html", notice_html,
	    " contact relays policy blocks max_prefix4 max_prefix6 "
	    "block_days updated " },
	[EW_WEB_T_BLOCK] = { "block.html", block_html,
	    " error source token max_prefix4 max_prefix6 block_days "
	    "confirm_note " },
	[EW_WEB_T_RESULT] = { "result.html", result_html,
	    " status blocked until ticket " },
	[EW_WEB_T_STYLE] = { "style.css", style_css, " " },
};

const char *
ew_web_builtin(enum ew_web_tmpl t)
{
	return tmpls[t].text;
}

const char *
ew_web_tmpl_file(enum ew_web_tmpl t)
{
	return tmpls[t].file;
}

int
ew_web_tmpl_check(enum ew_web_tmpl t, const char *name, const char *s, size_t n,
    struct ew_diag_list *diags)
{
	const char *p = s, *end = s + n, *open, *close, *q;
	struct ew_src *src = NULL;
	struct ew_loc loc;
	char key[40];
	size_t klen;
	int bad = 0;

	while ((open = memmem(p, (size_t)(end - p), "{{", 2)) != NULL) {
		close = memmem(open, (size_t)(end - open), "}}", 2);
		klen = close ? (size_t)(close - open - 2) : 0;
		if (close != NULL && klen > 0 && klen < sizeof(key) - 2) {
			key[0] = ' ';
			memcpy(key + 1, open + 2, klen);
			key[klen + 1] = ' ';
			key[klen + 2] = '\0';
			if (strstr(tmpls[t].fields, key) != NULL) {
				p = close + 2;
				continue;
			}
		}
		if (src == NULL)
			src = ew_src_new(name, s, n);
		memset(&loc, 0, sizeof(loc));
		loc.src = src;
		loc.line = 1;
		for (q = s; q < open; q++)
			if (*q == '\n')
				loc.line++;
		for (q = open; q > s && q[-1] != '\n'; q--)
			;
		loc.first = (unsigned)(open - q) + 1;
		loc.last =
		    close ? loc.first + (unsigned)klen + 3 : loc.first + 1;
		if (close != NULL)
			ew_diag_add(diags, EW_SEV_ERROR, &loc,
			    "unknown field '%.*s' (this page fills:%s)",
			    (int)klen, open + 2, tmpls[t].fields);
		else
			ew_diag_add(
			    diags, EW_SEV_ERROR, &loc, "'{{' without '}}'");
		bad = 1;
		if (close == NULL)
			break;
		p = close + 2;
	}
	ew_src_free(src);
	return bad ? -EINVAL : 0;
}

void
ew_web_expand(const struct ew_web *w, enum ew_web_tmpl t,
    const struct ew_web_kv *kv, size_t n, struct ew_buf *out)
{
	const char *s = w->tmpl[t], *end = s + w->tmpl_len[t], *open, *close;
	size_t i, klen;

	while ((open = memmem(s, (size_t)(end - s), "{{", 2)) != NULL &&
	       (close = memmem(open, (size_t)(end - open), "}}", 2)) != NULL) {
		ew_buf_add(out, s, (size_t)(open - s));
		klen = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(kv[i].name) == klen &&
			    memcmp(kv[i].name, open + 2, klen) == 0) {
				ew_buf_puts(out, kv[i].html);
				break;
			}
		s = close + 2;
	}
	ew_buf_add(out, s, (size_t)(end - s));
}

void
ew_web_time(struct ew_buf *b, int64_t t)
{
	char s[EW_TIME_STRLEN];

	ew_time_format(t, s, sizeof(s));
	/* "YYYY-MM-DDTHH:MM:SSZ" -> "YYYY-MM-DD HH:MM UTC" */
	if (strlen(s) >= 16) {
		s[10] = ' ';
		s[16] = '\0';
		ew_buf_printf(b, "%s UTC", s);
	} else {
		ew_buf_puts(b, s);
	}
}

static void
esc(struct ew_buf *b, const char *s)
{
	if (s != NULL)
		ew_esc_html(b, s, strlen(s));
}

static void
contact_html(const struct ew_web *w, struct ew_buf *b)
{
	const char *c = w->conf.contact;

	if (c == NULL || *c == '\0') {
		ew_buf_puts(b, "not given");
		return;
	}
	if (ew_esc_is_addr_spec(c, strlen(c))) {
		ew_buf_puts(b, "<a href=\"mailto:");
		esc(b, c);
		ew_buf_puts(b, "\">");
		esc(b, c);
		ew_buf_puts(b, "</a>");
		return;
	}
	esc(b, c);
}

static void
relays_html(const struct ew_web *w, struct ew_buf *b)
{
	size_t i;

	if (w->conf.nrelays == 0) {
		ew_buf_puts(b, "<p>The operator has not listed the relays' "
			       "fingerprints here.</p>");
		return;
	}
	ew_buf_puts(b, "<ul>\n");
	for (i = 0; i < w->conf.nrelays; i++) {
		/* fingerprints are checked to be 40 hex digits (cli) */
		ew_buf_puts(b, "<li><a class=\"fp\" href=\"https://metrics."
			       "torproject.org/rs.html#details/");
		esc(b, w->conf.relays[i]);
		ew_buf_puts(b, "\">");
		esc(b, w->conf.relays[i]);
		ew_buf_puts(b, "</a></li>\n");
	}
	ew_buf_puts(b, "</ul>");
}

/* "accept 80,443" / "reject 25,119" / "reject 1-65535" in words. */
static void
summary_html(struct ew_buf *b, const char *fam, const char *sum)
{
	ew_buf_printf(b, "<li>%s: ", fam);
	if (sum == NULL) {
		ew_buf_puts(b, "unknown");
	} else if (strcmp(sum, "reject 1-65535") == 0) {
		ew_buf_puts(b, "no connections at all");
	} else if (strncmp(sum, "accept ", 7) == 0) {
		ew_buf_puts(b, "only to these ports: <code>");
		esc(b, sum + 7);
		ew_buf_puts(b, "</code>");
	} else if (strncmp(sum, "reject ", 7) == 0) {
		ew_buf_puts(b, "to every port except: <code>");
		esc(b, sum + 7);
		ew_buf_puts(b, "</code>");
	} else {
		esc(b, sum);
	}
	ew_buf_puts(b, "</li>\n");
}

static void
policy_html(struct ew_web *w, int64_t now, struct ew_buf *b)
{
	struct ew_store_policy_version *pv = NULL;
	struct ew_expand_env env = { .now = now };
	struct ew_expanded *e = NULL;
	struct ew_diag_list dg;
	struct ew_policy *p = NULL;
	char *s4 = NULL, *s6 = NULL;

	ew_diag_init(&dg);
	if (ew_store_policy_at(w->st, now, &pv) != 0 ||
	    ew_policy_parse_string("policy-version", pv->text, strlen(pv->text),
		EW_PARSE_NO_INCLUDE, &dg, &p) != 0 ||
	    ew_policy_expand(p, &env, &dg, &e) != 0) {
		ew_buf_puts(b, "<p>The exit's policy has not been recorded "
			       "yet.</p>");
		goto out;
	}
	s4 = ew_policy_summarize(e->items, e->n, EW_AF_INET);
	s6 = e->ipv6_exit ? ew_policy_summarize(e->items, e->n, EW_AF_INET6)
			  : NULL;
	ew_buf_puts(b, "<p>Ports this exit connects to (the summary Tor "
		       "clients see):</p>\n<ul>\n");
	summary_html(b, "IPv4", s4);
	if (e->ipv6_exit)
		summary_html(b, "IPv6", s6);
	else
		ew_buf_puts(b, "<li>IPv6: no connections at all</li>\n");
	ew_buf_puts(b, "</ul>\n<p>It never connects to private and local "
		       "networks. Policy in force since ");
	ew_web_time(b, pv->applied_from);
	ew_buf_puts(b, ".</p>");
out:
	free(s4);
	free(s6);
	ew_expanded_free(e);
	ew_policy_free(p);
	ew_store_policy_version_free(pv);
	ew_diag_free(&dg);
}

static int
blocks_html(struct ew_web *w, struct ew_buf *b)
{
	struct ew_store_block *v = NULL;
	size_t n = 0, i, shown = 0;
	int rc;

	if ((rc = ew_store_block_list(w->st, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (v[i].pending || v[i].priv)
			continue;
		if (shown++ == 0)
			ew_buf_puts(b, "<ul class=\"rules\">\n");
		ew_buf_puts(b, "<li><code>");
		esc(b, v[i].rule_text);
		ew_buf_puts(b, "</code>");
		if (v[i].reason != NULL) {
			ew_buf_puts(b, ": ");
			esc(b, v[i].reason);
		}
		ew_buf_puts(b, " <span class=\"small\">(");
		esc(b, v[i].origin);
		if (v[i].expires_at != EW_STORE_NO_TIME) {
			ew_buf_puts(b, ", until ");
			ew_web_time(b, v[i].expires_at);
		}
		ew_buf_puts(b, ")</span></li>\n");
	}
	if (shown > 0)
		ew_buf_puts(b, "</ul>");
	else
		ew_buf_puts(b, "<p>None at the moment.</p>");
	ew_store_blocks_free(v, n);
	return 0;
}

int
ew_web_notice(struct ew_web *w, int64_t now, struct ew_buf *out)
{
	struct ew_buf contact = EW_BUF_INIT, relays = EW_BUF_INIT,
		      pol = EW_BUF_INIT, blocks = EW_BUF_INIT,
		      upd = EW_BUF_INIT;
	char m4[8], m6[8], days[24];
	int rc;

	contact_html(w, &contact);
	relays_html(w, &relays);
	policy_html(w, now, &pol);
	rc = blocks_html(w, &blocks);
	ew_web_time(&upd, now);
	snprintf(m4, sizeof(m4), "%u", w->conf.max_prefix4);
	snprintf(m6, sizeof(m6), "%u", w->conf.max_prefix6);
	snprintf(
	    days, sizeof(days), "%lld", (long long)(w->conf.block_ttl / 86400));
	if (rc == 0) {
		const struct ew_web_kv kv[] = {
			{ "contact", ew_buf_str(&contact) },
			{ "relays", ew_buf_str(&relays) },
			{ "policy", ew_buf_str(&pol) },
			{ "blocks", ew_buf_str(&blocks) },
			{ "max_prefix4", m4 },
			{ "max_prefix6", m6 },
			{ "block_days", days },
			{ "updated", ew_buf_str(&upd) },
		};
		ew_web_expand(
		    w, EW_WEB_T_NOTICE, kv, sizeof(kv) / sizeof(*kv), out);
	}
	ew_buf_free(&contact);
	ew_buf_free(&relays);
	ew_buf_free(&pol);
	ew_buf_free(&blocks);
	ew_buf_free(&upd);
	return rc;
}

int
ew_web_block_form(struct ew_web *w, const struct ew_addr *src, int64_t now,
    const char *error_html, struct ew_buf *out)
{
	char tok[EW_WEB_TOKEN_LEN], a[EW_ADDR_STRLEN], m4[8], m6[8], days[24];
	struct ew_buf srcb = EW_BUF_INIT;
	int rc;

	if ((rc = ew_web_token_make(w, src, now, tok)) != 0)
		return rc;
	ew_addr_format(src, 0, a, sizeof(a));
	esc(&srcb, a);
	snprintf(m4, sizeof(m4), "%u", w->conf.max_prefix4);
	snprintf(m6, sizeof(m6), "%u", w->conf.max_prefix6);
	snprintf(
	    days, sizeof(days), "%lld", (long long)(w->conf.block_ttl / 86400));
	{
		const struct ew_web_kv kv[] = {
			{ "error", error_html ? error_html : "" },
			{ "source", ew_buf_str(&srcb) },
			{ "token", tok },
			{ "max_prefix4", m4 },
			{ "max_prefix6", m6 },
			{ "block_days", days },
			{ "confirm_note", w->conf.confirm
					      ? "The operator confirms each "
						"request before it takes "
						"effect. "
					      : "" },
		};
		ew_web_expand(
		    w, EW_WEB_T_BLOCK, kv, sizeof(kv) / sizeof(*kv), out);
	}
	ew_buf_free(&srcb);
	return 0;
}
