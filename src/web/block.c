/*
 * block.c - POST /block: a self-service block request.
 *
 * In order: the source's rate bucket, the form (bounded), the token
 * (ours, made for this source address, at most EW_WEB_TOKEN_TTL old),
 * the target (an address or prefix that contains the source and is no
 * wider than the largest prefix), the cap of self-service blocks
 * covering this source, then the token is spent (a
 * replay is refused) and the ticket and blocks stored in one
 * transaction.  Past the cap of self-service blocks in all (what the
 * exit publishes: tor's descriptor has a budget), a request is queued
 * for the operator (a pending block), never enforced silently.  A
 * refusal shows the form again, with a new token and the reason.  Nothing about
 * the requester is kept but the block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/esc.h"
#include "store/store.h"
#include "web/web_int.h"

/* Refuse with the form again and the reason. */
static void
refuse(struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r,
    int status, enum ew_web_outcome o, const char *why)
{
	struct ew_buf e = EW_BUF_INIT;

	w->outcomes[o]++;
	r->status = status;
	ew_buf_puts(&e, "<p class=\"error\">Not blocked: ");
	ew_esc_html(&e, why, strlen(why));
	ew_buf_puts(&e, "</p>\n");
	ew_buf_reset(&r->body);
	if (ew_web_block_form(
		w, &req->src, req->now, ew_buf_str(&e), &r->body) != 0) {
		ew_buf_reset(&r->body);
		ew_buf_puts(&r->body, ew_buf_str(&e));
	}
	ew_buf_free(&e);
}

/*
 * Whether a self-service block in force (or waiting) covers src: one
 * already there for this source counts against its cap.  Reads the rule
 * text back ("reject ADDR[/LEN]:PORTS"): only ours, which we wrote.
 */
static int
rule_covers(const char *text, const struct ew_addr *src)
{
	struct ew_web_target t;
	const char *p = strchr(text, ' '), *colon, *why;
	char buf[80];
	size_t n;

	if (p == NULL)
		return 0;
	p++;
	colon = strrchr(p, ':');
	if (colon == NULL || (n = (size_t)(colon - p)) >= sizeof(buf))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (ew_web_target_parse(buf, NULL, &t, &why) != 0)
		return 0;
	return ew_web_target_covers(&t, src, 0, 0);
}

/* Count self-service blocks: covering src, and in all. */
static int
count_self(
    struct ew_web *w, const struct ew_addr *src, size_t *mine, size_t *all)
{
	struct ew_store_block *v = NULL;
	size_t n = 0, i;
	int rc;

	*mine = *all = 0;
	if ((rc = ew_store_block_list(w->st, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].origin, EW_STORE_ORIGIN_SELF) != 0)
			continue;
		(*all)++;
		if (rule_covers(v[i].rule_text, src))
			(*mine)++;
	}
	ew_store_blocks_free(v, n);
	return 0;
}

static void
result(struct ew_web *w, struct ew_web_resp *r, char **rules, size_t n,
    const int *renewed, int64_t until, int64_t ticket, int queued)
{
	struct ew_buf list = EW_BUF_INIT, u = EW_BUF_INIT;
	char tk[24];
	size_t i;

	for (i = 0; i < n; i++) {
		ew_buf_puts(&list, "<li><code>");
		ew_esc_html(&list, rules[i], strlen(rules[i]));
		ew_buf_puts(&list, "</code>");
		if (renewed[i])
			ew_buf_puts(&list, " (renewed)");
		ew_buf_puts(&list, "</li>\n");
	}
	ew_web_time(&u, until);
	snprintf(tk, sizeof(tk), "%lld", (long long)ticket);
	{
		const struct ew_web_kv kv[] = {
			{ "status",
			    queued ? "Your request is stored. This exit "
				     "holds as many self-service blocks as "
				     "it publishes, so the operator decides "
				     "on it."
			    : w->conf.confirm
				? "Your request is stored. The operator "
				  "confirms it before the exit enforces it."
				: "Your request is stored. The exit enforces "
				  "it within minutes." },
			{ "blocked", ew_buf_str(&list) },
			{ "until", ew_buf_str(&u) },
			{ "ticket", tk },
		};
		r->status = 200;
		ew_buf_reset(&r->body);
		ew_web_expand(
		    w, EW_WEB_T_RESULT, kv, sizeof(kv) / sizeof(*kv), &r->body);
	}
	ew_buf_free(&list);
	ew_buf_free(&u);
}

/*
 * Store the blocks; the outcome.  `queued`: the exit holds as many
 * self-service blocks as it publishes (cap_total), so these wait for
 * the operator (pending) instead of going into the policy.
 */
static void
store_blocks(struct ew_web *w, const struct ew_web_req *req,
    struct ew_web_resp *r, const struct ew_web_target *t, int queued)
{
	char *rules[EW_WEB_MAX_PORTS];
	int renewed[EW_WEB_MAX_PORTS];
	int64_t until = req->now + w->conf.block_ttl, ticket = 0;
	size_t n, i, all = 0;
	int rc;

	n = ew_web_target_rules(t, rules);
	if (n == 0) {
		refuse(w, req, r, 500, EW_WEB_O_ERROR, "out of memory");
		return;
	}
	rc = ew_store_selfservice_add(w->st, (const char *const *)rules, n,
	    "self-service request from the address blocked", until,
	    w->conf.confirm || queued,
	    w->conf.confirm || queued ? NULL : "self-service block stored",
	    req->now, &ticket, renewed);
	if (rc != 0) {
		refuse(w, req, r, 503, EW_WEB_O_ERROR,
		    "the request could not be stored; try again later");
	} else {
		for (i = 0; i < n; i++)
			all += renewed[i];
		w->outcomes[all == n ? EW_WEB_O_RENEWED
			    : queued ? EW_WEB_O_QUEUED
				     : EW_WEB_O_ACCEPTED]++;
		w->page_at = INT64_MIN; /* the notice changes */
		result(w, r, rules, n, renewed, until, ticket, queued);
	}
	for (i = 0; i < n; i++)
		free(rules[i]);
}

void
ew_web_block_post(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r)
{
	struct ew_web_field f[EW_WEB_MAX_FIELDS];
	struct ew_web_target t;
	const char *why;
	char nonce[17];
	int64_t made;
	size_t nf, mine, all;
	int rc;

	r->cache_control = "no-store";
	if (ew_web_rate_take(w, &req->src, req->now) != 0) {
		refuse(w, req, r, 429, EW_WEB_O_RATE_LIMITED,
		    "too many requests from your address; try again later");
		return;
	}
	if (req->content_type == NULL ||
	    strncmp(req->content_type, "application/x-www-form-urlencoded",
		33) != 0) {
		refuse(w, req, r, 415, EW_WEB_O_BAD_REQUEST,
		    "the form must be sent as "
		    "application/x-www-form-urlencoded");
		return;
	}
	if (ew_web_form_parse(
		req->body, req->body_len, f, EW_WEB_MAX_FIELDS, &nf) != 0) {
		refuse(w, req, r, 400, EW_WEB_O_BAD_REQUEST,
		    "the form could not be read");
		return;
	}
	rc = ew_web_token_check(w, ew_web_form_get(f, nf, "token"), &req->src,
	    req->now, nonce, &made);
	if (rc != 0) {
		refuse(w, req, r, 403, EW_WEB_O_BAD_TOKEN,
		    rc == -ETIMEDOUT
			? "the form has expired; use this new one"
			: "the form was not made for your address; use this "
			  "one");
		return;
	}
	if (ew_web_target_parse(ew_web_form_get(f, nf, "target"),
		ew_web_form_get(f, nf, "ports"), &t, &why) != 0) {
		refuse(w, req, r, 400, EW_WEB_O_BAD_REQUEST, why);
		return;
	}
	if (!ew_web_target_covers(
		&t, &req->src, w->conf.max_prefix4, w->conf.max_prefix6)) {
		refuse(w, req, r, 403, EW_WEB_O_NOT_COVERED,
		    t.addr.family != req->src.family
			? "the address is not of your address's family"
		    : !ew_web_target_covers(&t, &req->src, 0, 0)
			? "your address is not inside the address or prefix "
			  "you named: ask from there"
			: "the prefix is wider than this exit accepts");
		return;
	}
	if (ew_addr_is_internal(&t.addr) || ew_addr_is_multicast(&t.addr)) {
		refuse(w, req, r, 400, EW_WEB_O_BAD_REQUEST,
		    "private and local addresses are never reached through "
		    "this exit");
		return;
	}
	if ((rc = count_self(w, &req->src, &mine, &all)) != 0) {
		refuse(w, req, r, 503, EW_WEB_O_ERROR,
		    "the request could not be checked; try again later");
		return;
	}
	if (mine + t.nports + (t.nports == 0) > w->conf.cap_per) {
		refuse(w, req, r, 403, EW_WEB_O_CAPPED,
		    "your address has as many self-service blocks as this "
		    "exit allows; write to the operator");
		return;
	}
	rc = ew_store_token_use(
	    w->st, nonce, made + EW_WEB_TOKEN_TTL + 1, req->now);
	if (rc != 0) {
		refuse(w, req, r, rc == -EEXIST ? 403 : 503,
		    rc == -EEXIST ? EW_WEB_O_REPLAY : EW_WEB_O_ERROR,
		    rc == -EEXIST ? "this form was used already; use this new "
				    "one"
				  : "the request could not be stored; try "
				    "again later");
		return;
	}
	store_blocks(w, req, r, &t,
	    all + t.nports + (t.nports == 0) > w->conf.cap_total);
}
