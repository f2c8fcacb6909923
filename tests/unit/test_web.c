/*
 * test_web.c - the web face's handler (src/web) without a socket: the
 * form and target parsers, tokens (address-bound, 10 minutes, once),
 * the coverage rule and the largest prefix, caps, the rate limit,
 * pending and private blocks, HTML escaping of store text, template
 * checks and /metrics' bearer token.  An in-memory store; `now` given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ew_test.h"
#include "harness/ew_test_store.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "store/store.h"
#include "web/web.h"
#include "web/web_int.h"

#define T0 1800000000

static struct ew_store *st;
static struct ew_web *w;

static void
setup(struct ew_web_conf *c)
{
	struct ew_diag_list dg;
	char target[1024];

	ew_diag_init(&dg);
	/* ":memory:", or a fresh PostgreSQL schema (EW_TEST_PG) */
	ew_test_store_target(target, sizeof(target));
	EW_CHECK_INT(ew_store_open(target, &st), 0);
	memset(c->key, 'k', 32);
	c->keylen = 32;
	EW_CHECK_INT(ew_web_new(c, st, &dg, &w), 0);
	ew_diag_free(&dg);
}

static void
teardown(void)
{
	ew_web_free(w);
	ew_store_close(st);
	w = NULL;
	st = NULL;
}

static struct ew_addr
addr(const char *s)
{
	struct ew_addr a;

	memset(&a, 0, sizeof(a));
	EW_CHECK(ew_addr_parse(s, &a));
	return a;
}

/* GET path from src at now: the status; the body into *body (freed by
 * the caller) when body is not NULL. */
static int
get(const char *path, const char *src, int64_t now, char **body)
{
	struct ew_web_req q;
	struct ew_web_resp r;

	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.path = path;
	q.src = addr(src);
	q.now = now;
	ew_web_handle(w, &q, &r);
	if (body != NULL)
		*body = ew_buf_detach(&r.body);
	ew_web_resp_free(&r);
	return r.status;
}

/* The token of the block form for src at now (static buffer). */
static const char *
token(const char *src, int64_t now)
{
	static char tok[EW_WEB_TOKEN_LEN];
	char *b = NULL, *p;

	tok[0] = '\0';
	EW_CHECK_INT(get("/block", src, now, &b), 200);
	if (b != NULL && (p = strstr(b, "name=\"token\" value=\"")) != NULL) {
		p += 20;
		memcpy(tok, p, EW_WEB_TOKEN_LEN - 1);
		tok[EW_WEB_TOKEN_LEN - 1] = '\0';
	}
	free(b);
	return tok;
}

static int
post(const char *src, int64_t now, const char *body, char **out)
{
	struct ew_web_req q;
	struct ew_web_resp r;

	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.path = "/block";
	q.src = addr(src);
	q.now = now;
	q.body = body;
	q.body_len = strlen(body);
	q.content_type = "application/x-www-form-urlencoded";
	ew_web_handle(w, &q, &r);
	if (out != NULL)
		*out = ew_buf_detach(&r.body);
	ew_web_resp_free(&r);
	return r.status;
}

static int
ask(const char *src, int64_t now, const char *target, const char *ports)
{
	char body[512];

	snprintf(body, sizeof(body), "token=%s&target=%s&ports=%s",
	    token(src, now), target, ports);
	return post(src, now, body, NULL);
}

static void
test_form(void)
{
	struct ew_web_field f[4];
	size_t n;
	char big[700];

	EW_CHECK_INT(ew_web_form_parse("a=1&b=x+y%21&&c", 15, f, 4, &n), 0);
	EW_CHECK_INT(n, 3);
	EW_CHECK_STR(ew_web_form_get(f, n, "b"), "x y!");
	EW_CHECK_STR(ew_web_form_get(f, n, "c"), "");
	EW_CHECK(ew_web_form_get(f, n, "d") == NULL);
	EW_CHECK_INT(ew_web_form_parse("a=%2", 4, f, 4, &n), -EINVAL);
	EW_CHECK_INT(ew_web_form_parse("a=%00", 5, f, 4, &n), -EINVAL);
	EW_CHECK_INT(ew_web_form_parse("a&b&c&d&e", 9, f, 4, &n), -E2BIG);
	memset(big, 'x', sizeof(big));
	memcpy(big, "a=", 2);
	EW_CHECK_INT(ew_web_form_parse(big, sizeof(big), f, 4, &n), -E2BIG);
}

static void
test_target(void)
{
	struct ew_web_target t;
	const char *why;
	char *r[EW_WEB_MAX_PORTS];
	struct ew_addr a = addr("198.51.100.7");
	size_t n, i;

	EW_CHECK_INT(ew_web_target_parse(" 198.51.100.7 ", "", &t, &why), 0);
	EW_CHECK_INT(t.bits, 32);
	EW_CHECK(ew_web_target_covers(&t, &a, 24, 48));
	n = ew_web_target_rules(&t, r);
	EW_CHECK_INT(n, 1);
	EW_CHECK_STR(r[0], "reject 198.51.100.7:*");
	free(r[0]);
	EW_CHECK_INT(
	    ew_web_target_parse("198.51.100.99/24", "80, 8000-8100", &t, &why),
	    0);
	EW_CHECK(ew_web_target_covers(&t, &a, 24, 48));
	EW_CHECK(!ew_web_target_covers(&t, &a, 25, 48)); /* too wide */
	n = ew_web_target_rules(&t, r);
	EW_CHECK_INT(n, 2);
	EW_CHECK_STR(r[0], "reject 198.51.100.0/24:80");
	EW_CHECK_STR(r[1], "reject 198.51.100.0/24:8000-8100");
	for (i = 0; i < n; i++)
		free(r[i]);
	EW_CHECK_INT(ew_web_target_parse("[2001:db8::7]/48", "*", &t, &why), 0);
	n = ew_web_target_rules(&t, r);
	EW_CHECK_INT(n, 1);
	EW_CHECK_STR(r[0], "reject6 [2001:db8::]/48:*");
	free(r[0]);
	a = addr("2001:db8:0:1::5");
	EW_CHECK(ew_web_target_covers(&t, &a, 24, 48));
	a = addr("2001:db9::5");
	EW_CHECK(!ew_web_target_covers(&t, &a, 24, 48));
	EW_CHECK_INT(
	    ew_web_target_parse("198.51.100.7", "0", &t, &why), -EINVAL);
	EW_CHECK_INT(
	    ew_web_target_parse("198.51.100.7", "80,", &t, &why), -EINVAL);
	EW_CHECK_INT(ew_web_target_parse("example.org", "", &t, &why), -EINVAL);
	EW_CHECK_INT(ew_web_target_parse("1.2.3.4/33", "", &t, &why), -EINVAL);
	EW_CHECK_INT(
	    ew_web_target_parse("1.2.3.4", "1,2,3,4,5,6,7,8,9", &t, &why),
	    -EINVAL);
}

static size_t
count_blocks(int *pending)
{
	struct ew_store_block *v = NULL;
	size_t n = 0, i;

	EW_CHECK_INT(ew_store_block_list(st, &v, &n), 0);
	*pending = 0;
	for (i = 0; i < n; i++)
		*pending += v[i].pending;
	ew_store_blocks_free(v, n);
	return n;
}

static void
test_block_flow(void)
{
	struct ew_web_conf c;
	char body[512], *out = NULL;
	const char *tok;
	int pending;

	ew_web_conf_init(&c);
	setup(&c);
	/* from the address itself: stored, shown on the notice */
	tok = token("198.51.100.7", T0);
	snprintf(
	    body, sizeof(body), "token=%s&target=198.51.100.7&ports=443", tok);
	EW_CHECK_INT(post("198.51.100.7", T0 + 5, body, &out), 200);
	EW_CHECK(out && strstr(out, "reject 198.51.100.7:443") != NULL);
	free(out);
	EW_CHECK_INT(count_blocks(&pending), 1);
	EW_CHECK_INT(pending, 0);
	EW_CHECK_INT(get("/", "192.0.2.1", T0 + 6, &out), 200);
	EW_CHECK(out && strstr(out, "reject 198.51.100.7:443") != NULL);
	free(out);
	/* the same token again: a replay */
	EW_CHECK_INT(post("198.51.100.7", T0 + 7, body, NULL), 403);
	/* a token made for another address */
	snprintf(body, sizeof(body),
	    "token=%s&target=198.51.100.8&ports=", token("198.51.100.7", T0));
	EW_CHECK_INT(post("198.51.100.8", T0 + 8, body, NULL), 403);
	/* from another address for the target */
	EW_CHECK_INT(ask("203.0.113.9", T0 + 9, "198.51.100.7", ""), 403);
	/* an expired token */
	snprintf(body, sizeof(body),
	    "token=%s&target=198.51.100.7&ports=", token("198.51.100.7", T0));
	EW_CHECK_INT(
	    post("198.51.100.7", T0 + EW_WEB_TOKEN_TTL + 1, body, NULL), 403);
	/* a forged one */
	EW_CHECK_INT(
	    post("198.51.100.7", T0, "token=0&target=198.51.100.7", NULL), 403);
	/* too wide a prefix; inside the largest one */
	EW_CHECK_INT(ask("198.51.100.7", T0 + 10, "198.51.100.0/23", ""), 403);
	EW_CHECK_INT(
	    ask("198.51.100.7", T0 + 11, "198.51.100.0/24", "80"), 200);
	/* private addresses are not for blocking */
	EW_CHECK_INT(ask("10.0.0.1", T0 + 12, "10.0.0.1", ""), 400);
	/* the per-source cap (4): 2 in force cover .7; 2 more ranges fit,
	 * a third does not */
	EW_CHECK_INT(
	    ask("198.51.100.7", T0 + 13, "198.51.100.7", "1,2,3"), 403);
	EW_CHECK_INT(ask("198.51.100.7", T0 + 14, "198.51.100.7", "1,2"), 200);
	EW_CHECK_INT(count_blocks(&pending), 4);
	EW_CHECK_INT(ask("198.51.100.7", T0 + 15, "198.51.100.7", "9"), 403);
	/* another address; then its renewal moves the expiry, adds none */
	EW_CHECK_INT(ask("198.51.100.66", T0 + 16, "198.51.100.66", ""), 200);
	EW_CHECK_INT(count_blocks(&pending), 5);
	EW_CHECK_INT(
	    ask("198.51.100.66", T0 + 86400, "198.51.100.66", ""), 200);
	EW_CHECK_INT(count_blocks(&pending), 5);
	{
		struct ew_store_block *v = NULL;
		size_t n = 0;

		EW_CHECK_INT(ew_store_block_list(st, &v, &n), 0);
		EW_CHECK(n == 5 && v[4].expires_at == T0 + 86400 + c.block_ttl);
		ew_store_blocks_free(v, n);
	}
	teardown();
}

static void
test_rate_confirm_private(void)
{
	struct ew_web_conf c;
	struct ew_store_block *v = NULL;
	char *out = NULL;
	size_t n = 0, i;
	int pending, got429 = 0;

	ew_web_conf_init(&c);
	c.confirm = 1;
	c.rate_burst = 3;
	setup(&c);
	EW_CHECK_INT(ask("2001:db8::7", T0, "2001:db8::/48", ""), 200);
	EW_CHECK_INT(count_blocks(&pending), 1);
	EW_CHECK_INT(pending, 1);
	/* pending: not in the managed policy's rules, not on the page */
	{
		struct ew_store_rule *r = NULL;
		size_t nr = 0;

		EW_CHECK_INT(ew_store_rule_list(st, 0, &r, &nr), 0);
		EW_CHECK_INT(nr, 0);
		ew_store_rules_free(r, nr);
	}
	EW_CHECK_INT(get("/", "192.0.2.1", T0 + 1, &out), 200);
	EW_CHECK(out && strstr(out, "2001:db8::") == NULL);
	free(out);
	/* the operator confirms it: in the policy's rules, on the page */
	EW_CHECK_INT(ew_store_block_confirm(st, 1), 0);
	EW_CHECK_INT(ew_store_block_confirm(st, 1), -EALREADY);
	EW_CHECK_INT(ew_store_block_confirm(st, 99), -ENOENT);
	EW_CHECK_INT(count_blocks(&pending), 1);
	EW_CHECK_INT(pending, 0);
	EW_CHECK_INT(get("/", "192.0.2.1", T0 + 2, &out), 200);
	EW_CHECK(out && strstr(out, "reject6 [2001:db8::]/48:*") != NULL);
	free(out);
	/* the rate limit: 3 requests a window from one /64 (the one above
	 * from 2001:db8::7 counts for 2001:db8::8 too) */
	for (i = 0; i < 4; i++)
		if (ask("2001:db8::8", T0 + 2, "2001:db8::8", "") == 429)
			got429++;
	EW_CHECK_INT(got429, 2); /* the first above already took one */
	EW_CHECK_INT(ask("2001:db8::9", T0 + 700, "2001:db8::9", ""), 200);
	/* a private block stays off the notice page; its reason is
	 * escaped when shown */
	{
		int64_t id;

		EW_CHECK_INT(
		    ew_store_rule_add(st, 0, "reject 192.0.2.44:25",
			"<script>x</script>", EW_STORE_NO_TIME, T0, &id),
		    0);
		EW_CHECK_INT(ew_store_rule_add(st, 0, "reject 192.0.2.45:25",
				 "secret", EW_STORE_NO_TIME, T0, &id),
		    0);
		EW_CHECK_INT(ew_store_block_set_private(st, id, 1), 0);
	}
	EW_CHECK_INT(get("/", "192.0.2.1", T0 + 800, &out), 200);
	EW_CHECK(out && strstr(out, "&lt;script&gt;x&lt;/script&gt;") != NULL);
	EW_CHECK(out && strstr(out, "<script>") == NULL);
	EW_CHECK(out && strstr(out, "192.0.2.45") == NULL);
	free(out);
	EW_CHECK_INT(ew_store_block_list(st, &v, &n), 0);
	ew_store_blocks_free(v, n);
	teardown();
}

/* Past the cap in all, requests are queued for the operator. */
static void
test_queue(void)
{
	struct ew_web_conf c;
	char *out = NULL, body[512];
	int pending;

	ew_web_conf_init(&c);
	c.cap_total = 2;
	setup(&c);
	EW_CHECK_INT(ask("198.51.100.1", T0, "198.51.100.1", "80,443"), 200);
	EW_CHECK_INT(count_blocks(&pending), 2);
	EW_CHECK_INT(pending, 0);
	snprintf(body, sizeof(body),
	    "token=%s&target=198.51.100.2&ports=", token("198.51.100.2", T0));
	EW_CHECK_INT(post("198.51.100.2", T0 + 1, body, &out), 200);
	EW_CHECK(out && strstr(out, "the operator decides") != NULL);
	free(out);
	EW_CHECK_INT(count_blocks(&pending), 3);
	EW_CHECK_INT(pending, 1);
	EW_CHECK_INT(w->outcomes[EW_WEB_O_QUEUED], 1);
	EW_CHECK_INT(w->outcomes[EW_WEB_O_ACCEPTED], 1);
	teardown();
}

static void
test_metrics(void)
{
	struct ew_web_conf c;
	struct ew_web_req q;
	struct ew_web_resp r;
	char want[160];
	int64_t id;

	ew_web_conf_init(&c);
	c.metrics_token = "0123456789abcdef";
	setup(&c);
	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.path = "/metrics";
	q.src = addr("192.0.2.1");
	q.now = T0;
	ew_web_handle(w, &q, &r);
	EW_CHECK_INT(r.status, 401);
	ew_web_resp_free(&r);
	q.authorization = "Bearer 0123456789abcdeX";
	ew_web_handle(w, &q, &r);
	EW_CHECK_INT(r.status, 401);
	ew_web_resp_free(&r);
	/* the last apply of each relay, the daemon's repairs */
	EW_CHECK_INT(ew_store_policy_record_relay(st, "exit2", "d2",
			 "ExitPolicy reject *:*\n", T0 - 100, &id),
	    0);
	EW_CHECK_INT(ew_store_policy_record(
			 st, "d1", "ExitPolicy reject *:*\n", T0 - 50, &id),
	    0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, "exit2", EW_STORE_REPAIR_TOR, T0 - 20),
	    0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, "exit2", EW_STORE_REPAIR_TOR, T0 - 10),
	    0);
	EW_CHECK_INT(
	    ew_store_repair_count(st, NULL, EW_STORE_REPAIR_TABLE, T0 - 5), 0);
	q.authorization = "Bearer 0123456789abcdef";
	ew_web_handle(w, &q, &r);
	EW_CHECK_INT(r.status, 200);
	EW_CHECK(r.body.p && strstr(r.body.p,
				 "exitwarden_blocks_in_force{origin=\"ticket\"}"
				 " 0\n") != NULL);
	snprintf(want, sizeof(want),
	    "exitwarden_policy_last_apply_timestamp_seconds{relay=\"exit2\"} "
	    "%d\n",
	    T0 - 100);
	EW_CHECK(r.body.p && strstr(r.body.p, want) != NULL);
	snprintf(want, sizeof(want),
	    "exitwarden_policy_last_apply_timestamp_seconds{relay=\"tor\"} "
	    "%d\n",
	    T0 - 50);
	EW_CHECK(r.body.p && strstr(r.body.p, want) != NULL);
	EW_CHECK(r.body.p &&
		 strstr(r.body.p,
		     "exitwarden_repairs_total{relay=\"exit2\",what=\"tor "
		     "drift\"} 2\n") != NULL);
	EW_CHECK(r.body.p &&
		 strstr(r.body.p,
		     "exitwarden_repairs_total{relay=\"all\",what=\"table "
		     "missing\"} 1\n") != NULL);
	snprintf(want, sizeof(want),
	    "exitwarden_repair_last_timestamp_seconds{relay=\"exit2\","
	    "what=\"tor drift\"} %d\n",
	    T0 - 10);
	EW_CHECK(r.body.p && strstr(r.body.p, want) != NULL);
	EW_CHECK(r.body.p &&
		 strstr(r.body.p, "\nexitwarden_store_revision ") != NULL);
	ew_web_resp_free(&r);
	EW_CHECK_INT(get("/nothing", "192.0.2.1", T0, NULL), 404);
	q.method = "DELETE";
	q.path = "/";
	ew_web_handle(w, &q, &r);
	EW_CHECK_INT(r.status, 405);
	ew_web_resp_free(&r);
	teardown();
}

static void
test_templates(void)
{
	struct ew_diag_list dg;
	const char ok[] = "<p>{{contact}}</p>";
	const char bad[] = "<p>\n  {{contact}} {{nope}}</p>";

	ew_diag_init(&dg);
	EW_CHECK_INT(ew_web_tmpl_check(
			 EW_WEB_T_NOTICE, "n.html", ok, sizeof(ok) - 1, &dg),
	    0);
	EW_CHECK_INT(ew_web_tmpl_check(
			 EW_WEB_T_NOTICE, "n.html", bad, sizeof(bad) - 1, &dg),
	    -EINVAL);
	EW_CHECK_INT(dg.n, 1);
	if (dg.n == 1) {
		EW_CHECK_INT(dg.v[0].line, 2);
		EW_CHECK_INT(dg.v[0].first, 15);
	}
	/* the built-in templates fill only their pages' fields */
	EW_CHECK_INT(ew_web_tmpl_check(EW_WEB_T_BLOCK, "b",
			 ew_web_builtin(EW_WEB_T_BLOCK),
			 strlen(ew_web_builtin(EW_WEB_T_BLOCK)), &dg),
	    0);
	EW_CHECK_INT(ew_web_tmpl_check(EW_WEB_T_NOTICE, "n",
			 ew_web_builtin(EW_WEB_T_NOTICE),
			 strlen(ew_web_builtin(EW_WEB_T_NOTICE)), &dg),
	    0);
	EW_CHECK_INT(ew_web_tmpl_check(EW_WEB_T_RESULT, "r",
			 ew_web_builtin(EW_WEB_T_RESULT),
			 strlen(ew_web_builtin(EW_WEB_T_RESULT)), &dg),
	    0);
	ew_diag_free(&dg);
}

int
main(void)
{
	EW_RUN(test_form);
	EW_RUN(test_target);
	EW_RUN(test_block_flow);
	EW_RUN(test_rate_confirm_private);
	EW_RUN(test_queue);
	EW_RUN(test_metrics);
	EW_RUN(test_templates);
	return ew_test_done();
}
