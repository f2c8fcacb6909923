/*
 * test_ctl.c - the ControlPort reply parser on scripted replies, value
 * quoting, the exit-policy/full reader, and the client against a fake
 * control server (a forked child on a Unix socket playing a script).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "policy/policy.h"
#include "emit/ctl.h"
#include "emit/tor.h"

/* Feed all of s (in chunks of `step` bytes; 0 = at once), then collect
 * up to max replies.  Returns the number collected, or the error. */
static int
parse(const char *s, size_t n, size_t step, struct ew_ctl_reply **out, int max,
    struct ew_ctl_parser **pp)
{
	struct ew_ctl_parser *p = ew_ctl_parser_new();
	size_t off = 0;
	int got = 0, rc = 0;

	while (off < n && rc == 0) {
		size_t k = step == 0 || n - off < step ? n - off : step;

		rc = ew_ctl_parser_feed(p, s + off, k);
		off += k;
		while (rc == 0 && got < max) {
			int r = ew_ctl_parser_next(p, &out[got]);

			if (r < 0)
				rc = r;
			if (r != 1)
				break;
			got++;
		}
	}
	if (pp != NULL)
		*pp = p;
	else
		ew_ctl_parser_free(p);
	return rc < 0 ? rc : got;
}

static void
free_all(struct ew_ctl_reply **r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ew_ctl_reply_free(r[i]);
}

static void
test_single(void)
{
	struct ew_ctl_reply *r[4];
	static const char s[] = "250 OK\r\n";

	EW_CHECK_INT(parse(s, strlen(s), 0, r, 4, NULL), 1);
	EW_CHECK_INT(r[0]->code, 250);
	EW_CHECK_INT(r[0]->async, 0);
	EW_CHECK_INT(r[0]->n, 1);
	EW_CHECK_INT(r[0]->lines[0].sep, ' ');
	EW_CHECK_STR(r[0]->lines[0].text, "OK");
	EW_CHECK(r[0]->lines[0].data == NULL);
	free_all(r, 1);
}

static void
test_multiline(void)
{
	struct ew_ctl_reply *r[4];
	static const char s[] = "250-PROTOCOLINFO 1\r\n"
				"250-AUTH METHODS=COOKIE,SAFECOOKIE "
				"COOKIEFILE=\"/x/control_auth_cookie\"\r\n"
				"250-VERSION Tor=\"0.4.9.11\"\r\n"
				"250 OK\r\n";
	size_t step;

	/* the same answer whatever the chunking */
	for (step = 0; step < 8; step++) {
		EW_CHECK_INT(parse(s, strlen(s), step, r, 4, NULL), 1);
		EW_CHECK_INT(r[0]->n, 4);
		EW_CHECK_INT(r[0]->lines[0].sep, '-');
		EW_CHECK_STR(r[0]->lines[2].text, "VERSION Tor=\"0.4.9.11\"");
		EW_CHECK_INT(r[0]->lines[3].sep, ' ');
		EW_CHECK_INT(r[0]->size, strlen(s));
		free_all(r, 1);
	}
}

static void
test_data(void)
{
	struct ew_ctl_reply *r[4];
	static const char s[] = "250+exit-policy/full=\r\n"
				"reject *:25\r\n"
				"..hidden\r\n"
				".\r\n"
				"250-k=v\r\n"
				"250+empty=\r\n"
				".\r\n"
				"250 OK\r\n";

	EW_CHECK_INT(parse(s, strlen(s), 0, r, 4, NULL), 1);
	EW_CHECK_INT(r[0]->n, 4);
	EW_CHECK_INT(r[0]->lines[0].sep, '+');
	EW_CHECK_STR(r[0]->lines[0].text, "exit-policy/full=");
	EW_CHECK_STR(r[0]->lines[0].data, "reject *:25\n.hidden\n");
	EW_CHECK_INT(r[0]->lines[0].datalen, 20);
	EW_CHECK_STR(r[0]->lines[1].text, "k=v");
	EW_CHECK_STR(r[0]->lines[2].data, "");
	EW_CHECK_INT(r[0]->lines[2].datalen, 0);
	free_all(r, 1);
	/* a status-looking line inside data is data */
	{
		static const char t[] = "250+x=\r\n250 OK\r\n.\r\n250 OK\r\n";

		EW_CHECK_INT(parse(t, strlen(t), 1, r, 4, NULL), 1);
		EW_CHECK_STR(r[0]->lines[0].data, "250 OK\n");
		free_all(r, 1);
	}
}

static void
test_errors_and_events(void)
{
	struct ew_ctl_reply *r[8];
	static const char s[] = "650 CIRC 1 LAUNCHED\r\n"
				"552 Unrecognized key \"foo\"\r\n"
				"650-STREAM 4 NEW\r\n"
				"650 OK\r\n"
				"513 Unacceptable option value\r\n";
	struct ew_ctl_parser *p;

	EW_CHECK_INT(parse(s, strlen(s), 3, r, 8, &p), 4);
	EW_CHECK(r[0]->async && r[0]->code == 650);
	EW_CHECK(!r[1]->async && r[1]->code == 552);
	EW_CHECK_STR(r[1]->lines[0].text, "Unrecognized key \"foo\"");
	EW_CHECK(r[2]->async && r[2]->n == 2);
	EW_CHECK_INT(r[3]->code, 513);
	EW_CHECK_INT(ew_ctl_parser_pending(p), 0);
	free_all(r, 4);
	/* half a reply is pending, not an error */
	EW_CHECK_INT(ew_ctl_parser_feed(p, "250-a\r\n250 ", 11), 0);
	EW_CHECK_INT(ew_ctl_parser_next(p, &r[0]), 0);
	EW_CHECK_INT(ew_ctl_parser_pending(p), 1);
	ew_ctl_parser_free(p);
}

static void
expect_bad(const char *s, size_t n, const char *msgpart)
{
	struct ew_ctl_reply *r[4];
	struct ew_ctl_parser *p;
	int rc = parse(s, n, 0, r, 4, &p);

	EW_CHECK(rc < 0);
	if (rc < 0 && strstr(ew_ctl_parser_error(p), msgpart) == NULL)
		ew_test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'",
		    ew_ctl_parser_error(p), msgpart);
	else
		ew_test_passed++;
	if (rc > 0)
		free_all(r, rc);
	/* sticky */
	EW_CHECK(ew_ctl_parser_feed(p, "250 OK\r\n", 8) < 0);
	EW_CHECK(ew_ctl_parser_next(p, &r[0]) < 0);
	ew_ctl_parser_free(p);
}

static void
test_malformed(void)
{
	static const char nul[] = "250 O\0K\r\n";
	char *big;
	size_t i, n;

	expect_bad("25 OK\r\n", 7, "status code");
	expect_bad("2x0 OK\r\n", 8, "status code");
	expect_bad("250xOK\r\n", 8, "followed by");
	expect_bad("250\r\n", 5, "status code");
	expect_bad("\r\n", 2, "status code");
	expect_bad("250 OK\n", 7, "without CR");
	expect_bad("250-a\r\n251 b\r\n", 14, "changes");
	expect_bad("650-a\r\n250 b\r\n", 14, "changes");
	expect_bad(nul, sizeof(nul) - 1, "NUL");
	/* an endless line */
	n = EW_CTL_MAX_LINE + 10;
	big = malloc(n);
	memset(big, 'a', n);
	memcpy(big, "250 ", 4);
	expect_bad(big, n, "64 KiB");
	/* a line just at the limit is fine */
	big[EW_CTL_MAX_LINE] = '\r';
	big[EW_CTL_MAX_LINE + 1] = '\n';
	{
		struct ew_ctl_reply *r[2];

		EW_CHECK_INT(parse(big, EW_CTL_MAX_LINE + 2, 0, r, 2, NULL), 1);
		free_all(r, 1);
	}
	free(big);
	/* a data block past 16 MiB */
	n = 9 + (EW_CTL_MAX_REPLY / 1024 + 2) * 1026;
	big = malloc(n);
	memcpy(big, "250+k=\r\n", 8);
	for (i = 8; i + 1026 <= n; i += 1026) {
		memset(big + i, 'x', 1024);
		big[i + 1024] = '\r';
		big[i + 1025] = '\n';
	}
	expect_bad(big, i, "16 MiB");
	free(big);
}

static void
test_quote(void)
{
	struct ew_buf b = EW_BUF_INIT;

	EW_CHECK_INT(ew_ctl_quote(&b, "accept *:80"), 0);
	EW_CHECK_STR(ew_buf_str(&b), "\"accept *:80\"");
	ew_buf_reset(&b);
	EW_CHECK_INT(ew_ctl_quote(&b, "a\"b\\c"), 0);
	EW_CHECK_STR(ew_buf_str(&b), "\"a\\\"b\\\\c\"");
	ew_buf_reset(&b);
	EW_CHECK_INT(ew_ctl_quote(&b, "a\r\nSIGNAL HALT"), EW_CTL_EARG);
	EW_CHECK_INT(b.len, 0);
	ew_buf_free(&b);
}

static void
test_list(void)
{
	struct ew_item *it;
	size_t n;
	char d1[65], d2[65];
	char *p;

	EW_CHECK_INT(ew_tor_parse_list("reject6 *:*\nreject 0.0.0.0/8:*\n"
				       "reject 203.0.113.0/24:6660-7000\n"
				       "accept6 [2001:db8::]/32:443\n"
				       "accept *:80",
			 &it, &n),
	    0);
	EW_CHECK_INT(n, 5);
	if (n == 5) {
		EW_CHECK_INT(it[0].addr.family, EW_AF_INET6);
		EW_CHECK_INT(it[1].maskbits, 8);
		EW_CHECK_INT(it[2].pmin, 6660);
		EW_CHECK_INT(it[2].pmax, 7000);
		EW_CHECK_INT(it[3].maskbits, 32);
		EW_CHECK_INT(it[4].action, EW_ACCEPT);
		p = ew_policy_summarize(it, n, EW_AF_INET);
		EW_CHECK_STR(p, "accept 80");
		free(p);
	}
	free(it);
	EW_CHECK_INT(ew_tor_parse_list("reject *:*", &it, &n), 0);
	EW_CHECK_INT(n, 2);
	free(it);
	EW_CHECK_INT(ew_tor_parse_list("reject *:0", &it, &n), -EINVAL);
	EW_CHECK_INT(ew_tor_parse_list("allow *:80", &it, &n), -EINVAL);
	EW_CHECK_INT(ew_tor_parse_list("accept6 1.2.3.4:80", &it, &n), -EINVAL);
	EW_CHECK_INT(ew_tor_list_digest("accept *:80\nreject *:*", d1), 0);
	EW_CHECK_INT(ew_tor_list_digest("accept *:80\nreject *:*\n\n", d2), 0);
	EW_CHECK_STR(d1, d2);
	EW_CHECK_INT(strlen(d1), 64);
}

/*
 * A fake control server: a child process on a Unix socket that, for
 * each command line it receives, writes the next scripted answer.  A
 * NULL answer means "say nothing" (to test timeouts).
 */
static pid_t
fake_server_log(
    const char *path, const char *const *answers, size_t n, const char *logpath)
{
	struct sockaddr_un sun;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(ls, 1) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int c = accept(ls, NULL, NULL);
		char buf[4096];
		size_t i = 0, got = 0;
		FILE *log = logpath ? fopen(logpath, "w") : NULL;

		alarm(20); /* never outlive the test */
		while (c >= 0 && i < n) {
			ssize_t r = read(c, buf + got, sizeof(buf) - got - 1);
			char *nl;

			if (r <= 0)
				break;
			got += (size_t)r;
			buf[got] = '\0';
			while (i < n && (nl = strstr(buf, "\r\n")) != NULL) {
				size_t used = (size_t)(nl - buf) + 2;

				if (log != NULL) {
					fwrite(buf, 1, used, log);
					fflush(log);
				}

				if (answers[i] != NULL &&
				    write(c, answers[i], strlen(answers[i])) <
					0)
					_exit(1);
				if (answers[i] == NULL)
					sleep(5);
				i++;
				memmove(buf, buf + used, got - used + 1);
				got -= used;
			}
		}
		_exit(0);
	}
	close(ls);
	return pid;
}

static pid_t
fake_server(const char *path, const char *const *answers, size_t n)
{
	return fake_server_log(path, answers, n, NULL);
}

static void
test_client(void)
{
	static const char *const script[] = {
		"250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n"
		"250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n",
		"250 OK\r\n",
		/* an event before the answer is skipped */
		"650 NOTICE hello\r\n250-version=0.4.9.11\r\n250 OK\r\n",
		"250+exit-policy/full=\r\nreject *:25\r\naccept *:*\r\n.\r\n"
		"250 OK\r\n",
		"250-ExitPolicy=reject *:25\r\n250-ExitPolicy=accept *:*\r\n"
		"250 Address\r\n",
		"513 Unacceptable option value: Error in ExitPolicy entry.\r\n",
		"250 OK\r\n",
		NULL,
	};
	char path[64];
	struct ew_ctl *c;
	char k1[] = "ExitPolicy", v1[] = "reject *:x", k2[] = "Address";
	struct ew_ctl_kv *kv = NULL, set[2] = { { k1, v1 }, { k2, NULL } };
	const char *keys[] = { "ExitPolicy", "Address" };
	const char *method = NULL;
	size_t n = 0;
	char *v = NULL;
	int status;
	pid_t pid;
	time_t t0;

	snprintf(
	    path, sizeof(path), "/tmp/ew-test-ctl-%ld.sock", (long)getpid());
	pid = fake_server(path, script, sizeof(script) / sizeof(script[0]));
	EW_CHECK(pid > 0);
	if (pid <= 0)
		return;
	c = ew_ctl_new(1000);
	EW_CHECK_INT(ew_ctl_connect(c, path), 0);
	EW_CHECK_INT(ew_ctl_authenticate(c, NULL, &method), 0);
	EW_CHECK_STR(method, "NULL");
	EW_CHECK_STR(ew_ctl_tor_version(c), "0.4.9.11");
	EW_CHECK_INT(ew_ctl_getinfo(c, "version", &v, NULL), 0);
	EW_CHECK_STR(v, "0.4.9.11");
	free(v);
	EW_CHECK_INT(ew_ctl_getinfo(c, "exit-policy/full", &v, NULL), 0);
	EW_CHECK_STR(v, "reject *:25\naccept *:*");
	free(v);
	EW_CHECK_INT(ew_ctl_getconf(c, keys, 2, &kv, &n), 0);
	EW_CHECK_INT(n, 3);
	if (n == 3) {
		EW_CHECK_STR(kv[1].value, "accept *:*");
		EW_CHECK_STR(kv[2].key, "Address");
		EW_CHECK(kv[2].value == NULL);
	}
	ew_ctl_kv_free(kv, n);
	EW_CHECK_INT(ew_ctl_setconf(c, set, 2), EW_CTL_EREFUSED);
	EW_CHECK(strstr(ew_ctl_error(c), "513 Unacceptable") != NULL);
	EW_CHECK_INT(ew_ctl_signal(c, "NEWNYM"), 0);
	/* the server goes silent: we give up after the timeout */
	t0 = time(NULL);
	EW_CHECK_INT(ew_ctl_getinfo(c, "version", &v, NULL), -ETIMEDOUT);
	EW_CHECK(time(NULL) - t0 <= 3);
	ew_ctl_free(c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(path);
	/* nobody listening */
	c = ew_ctl_new(1000);
	EW_CHECK(ew_ctl_connect(c, path) < 0);
	EW_CHECK(strstr(ew_ctl_error(c), "cannot connect") != NULL);
	ew_ctl_free(c);
	c = ew_ctl_new(1000);
	EW_CHECK_INT(ew_ctl_connect(c, "nonsense"), EW_CTL_EARG);
	EW_CHECK_INT(ew_ctl_connect(c, "example.org:9051"), EW_CTL_EARG);
	ew_ctl_free(c);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#define PI_NULL "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n250 OK\r\n"
#define OLDCONF "250-ExitPolicy=reject *:1\r\n250 ExitPolicy=accept *:*\r\n"
#define R552 "552 Unrecognized key\r\n"
#define R551 "551 Address unknown\r\n"

/* One ew_tor_apply against a scripted tor. */
static int
apply_scripted(const char *const *script, size_t n, const char *frag,
    struct ew_tor_result *res, struct ew_diag_list *d, const char *log)
{
	char k[] = "ExitPolicy", v1[] = "reject *:25", v2[] = "accept *:*";
	char fr[] = "frag-new\n", ex[] = "reject *:25\naccept *:*\n";
	struct ew_ctl_kv kv[2] = { { k, v1 }, { k, v2 } };
	struct ew_tor_plan plan = {
		.kv = kv, .n = 2, .fragment = fr, .expected = ex
	};
	struct ew_tor_target t;
	char path[64];
	int rc, status;
	pid_t pid;

	snprintf(
	    path, sizeof(path), "/tmp/ew-test-tor-%ld.sock", (long)getpid());
	pid = fake_server_log(path, script, n, log);
	if (pid <= 0)
		return -1;
	memset(&t, 0, sizeof(t));
	t.control = path;
	t.timeout_ms = 2000;
	rc = ew_tor_apply(&plan, &t, frag, res, d);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(path);
	return rc;
}

static int
diags_have(const struct ew_diag_list *d, const char *part)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, part) != NULL)
			return 1;
	return 0;
}

static void
test_apply(void)
{
	static const char *const ok[] = {
		PI_NULL,
		"250 OK\r\n",
		OLDCONF,
		"250 OK\r\n",
		R552,
		/* tor adds its own address, which the policy cannot know */
		("250+exit-policy/full=\r\nreject 198.51.100.7:*\r\n"
		 "reject *:25\r\naccept *:*\r\n.\r\n250 OK\r\n"),
		"250-address/v4=198.51.100.7\r\n250 OK\r\n",
		R551,
	};
	static const char *const mismatch[] = {
		PI_NULL,
		"250 OK\r\n",
		OLDCONF,
		"250 OK\r\n",
		R552,
		("250+exit-policy/full=\r\nreject *:26\r\naccept *:*\r\n"
		 ".\r\n250 OK\r\n"),
		R551,
		R551,
		"250 OK\r\n", /* the restoring SETCONF */
		R552,
	};
	static const char *const refused[] = {
		PI_NULL,
		"250 OK\r\n",
		OLDCONF,
		"513 Unacceptable option value: Error in ExitPolicy entry.\r\n",
	};
	struct ew_tor_result res;
	struct ew_diag_list d;
	char frag[64], log[64];
	const char *s;
	FILE *f;

	snprintf(frag, sizeof(frag), "/tmp/ew-test-frag-%ld", (long)getpid());
	snprintf(log, sizeof(log), "/tmp/ew-test-log-%ld", (long)getpid());
	unlink(frag);

	ew_diag_init(&d);
	EW_CHECK_INT(
	    apply_scripted(ok, sizeof(ok) / sizeof(ok[0]), frag, &res, &d, log),
	    0);
	EW_CHECK_STR(res.auth_method, "NULL");
	EW_CHECK_INT(res.fragment_written, 1);
	EW_CHECK_STR(slurp(frag), "frag-new\n");
	EW_CHECK(diags_have(&d, "own address"));
	EW_CHECK_INT(d.nerr, 0);
	s = slurp(log);
	EW_CHECK(
	    s != NULL && strstr(s, "GETCONF ExitPolicy\r\n"
				   "SETCONF ExitPolicy=\"reject *:25\" "
				   "ExitPolicy=\"accept *:*\"\r\n") != NULL);
	ew_diag_free(&d);

	/* mismatch: old fragment and old configuration back */
	f = fopen(frag, "w");
	fputs("frag-old\n", f);
	fclose(f);
	ew_diag_init(&d);
	EW_CHECK(
	    apply_scripted(mismatch, sizeof(mismatch) / sizeof(mismatch[0]),
		frag, &res, &d, log) < 0);
	EW_CHECK_INT(res.restored, 1);
	EW_CHECK_STR(slurp(frag), "frag-old\n");
	EW_CHECK(diags_have(&d, "differs"));
	EW_CHECK(diags_have(&d, "expected 'reject *:25', tor has "
				"'reject *:26'"));
	s = slurp(log);
	EW_CHECK(
	    s != NULL && strstr(s, "SETCONF ExitPolicy=\"reject *:1\" "
				   "ExitPolicy=\"accept *:*\"\r\n") != NULL);
	ew_diag_free(&d);

	/* refused: tor unchanged, a fragment that did not exist is gone */
	unlink(frag);
	ew_diag_init(&d);
	EW_CHECK_INT(
	    apply_scripted(refused, sizeof(refused) / sizeof(refused[0]), frag,
		&res, &d, log),
	    EW_CTL_EREFUSED);
	EW_CHECK_INT(res.restored, 1);
	EW_CHECK(access(frag, F_OK) < 0);
	EW_CHECK(diags_have(&d, "513 Unacceptable"));
	s = slurp(log);
	EW_CHECK(s != NULL && strstr(s, "reject *:1") == NULL);
	ew_diag_free(&d);
	unlink(log);
}

static int
plan_for(const char *text, struct ew_tor_plan *plan, struct ew_diag_list *d)
{
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	int rc;

	memset(&env, 0, sizeof(env));
	env.now = 1780000000;
	if (ew_policy_parse_string("t.policy", text, strlen(text), 0, d, &p) <
	    0)
		return -100;
	rc = ew_policy_expand(p, &env, d, &e);
	if (rc == 0)
		rc = ew_tor_plan_build(p, e, "t.policy", env.now, 1, plan, d);
	ew_expanded_free(e);
	ew_policy_free(p);
	return rc;
}

static void
test_plan(void)
{
	struct ew_tor_plan plan;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	size_t i;
	int i1, i2;

	ew_diag_init(&d);
	EW_CHECK_INT(
	    plan_for("IPv6Exit 1\nreject *:25\naccept *:*\n", &plan, &d), 0);
	for (i = 0; i < plan.n; i++)
		ew_buf_printf(&b, "%s=%s;", plan.kv[i].key,
		    plan.kv[i].value ? plan.kv[i].value : "(bare)");
	/* the option set, every ExitPolicy line, ReevaluateExitPolicy when
	 * asked; the settings the policy does not state are not sent (tor
	 * keeps what it runs: issue 13) */
	EW_CHECK_STR(ew_buf_str(&b),
	    "IPv6Exit=1;ExitPolicy=reject *:25;ExitPolicy=accept *:*;"
	    "ReevaluateExitPolicy=1;");
	EW_CHECK_INT(plan.keep,
	    (1u << EW_SETTING_EXITRELAY) | (1u << EW_SETTING_REJECTPRIVATE) |
		(1u << EW_SETTING_REJECTLOCAL) | (1u << EW_SETTING_REDUCED));
	EW_CHECK(
	    strstr(plan.fragment, "exitwarden 0.1.0 from policy 't.policy' at "
				  "2026-05-28T20:26:40Z.\n") != NULL);
	EW_CHECK(strstr(plan.expected,
		     "reject *:25\nreject6 *:25\naccept *:*\n") != NULL);
	ew_tor_plan_free(&plan);
	ew_buf_free(&b);
	ew_diag_free(&d);

	/* too big for a descriptor: refused, and says what to move */
	ew_diag_init(&d);
	ew_buf_puts(&b, "ExitRelay 1\ntable <big> {");
	for (i1 = 0; i1 < 4; i1++)
		for (i2 = 0; i2 < 250; i2++)
			ew_buf_printf(&b, "%s 198.%d.%d.1", i1 || i2 ? "," : "",
			    18 + i1, i2);
	ew_buf_puts(&b, " }\nreject <big>:6667\naccept *:*\n");
	EW_CHECK_INT(plan_for(ew_buf_str(&b), &plan, &d), -E2BIG);
	EW_CHECK(d.nerr == 1 && strstr(d.v[0].msg, "kernel enforcement"));
	EW_CHECK(d.n == 2 && strstr(d.v[1].msg, "t.policy:3: rule 'reject "
						"<big>:6667' takes"));
	ew_buf_free(&b);
	ew_diag_free(&d);
}

/* HASHEDPASSWORD (quoted) and plain COOKIE against scripted tors. */
/*
 * A policy that does not mention IPv6Exit, applied to a tor running
 * IPv6Exit 1: no IPv6Exit in the SETCONF (tor keeps it), and the list
 * tor builds with it is the one verified.
 */
static void
test_keep_settings(void)
{
	static const char text[] = "ExitRelay 1\nreject *:25\naccept *:*\n";
	static char live[2048];
	const char *script[] = {
		PI_NULL,
		"250 OK\r\n",
		"250 ExitPolicy=accept *:*\r\n",
		("250-IPv6Exit=1\r\n250-ExitPolicyRejectPrivate=1\r\n"
		 "250-ExitPolicyRejectLocalInterfaces=0\r\n"
		 "250 ReducedExitPolicy=0\r\n"),
		"250 OK\r\n",
		R552,
		live,
	};
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL, *e6 = NULL;
	struct ew_expand_env env;
	struct ew_tor_plan plan;
	struct ew_tor_target t;
	struct ew_tor_result res;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT, l6 = EW_BUF_INIT;
	char path[64], log[64];
	const char *s, *c;
	size_t i;
	pid_t pid;
	int status;

	ew_diag_init(&d);
	memset(&env, 0, sizeof(env));
	env.now = 1780000000;
	EW_CHECK_INT(
	    ew_policy_parse_string("t.policy", text, strlen(text), 0, &d, &p),
	    0);
	EW_CHECK_INT(ew_policy_expand(p, &env, &d, &e), 0);
	EW_CHECK_INT(
	    ew_tor_plan_build(p, e, "t.policy", env.now, 0, &plan, &d), 0);
	for (i = 0; i < plan.n; i++)
		ew_buf_printf(&b, "%s;", plan.kv[i].key);
	EW_CHECK_STR(ew_buf_str(&b), "ExitRelay;ExitPolicy;ExitPolicy;");
	EW_CHECK(plan.keep & (1u << EW_SETTING_IPV6EXIT));
	/* what tor builds with IPv6Exit 1 */
	env.tor_set = 1;
	for (i = 0; i < EW_SETTING_N; i++)
		ew_policy_setting(p, (int)i, &env.tor[i]);
	env.tor[EW_SETTING_IPV6EXIT] = 1;
	EW_CHECK_INT(ew_policy_expand(p, &env, &d, &e6), 0);
	ew_expanded_format(e6, &l6);
	EW_CHECK(strcmp(ew_buf_str(&l6), plan.expected) != 0);
	EW_CHECK(strstr(plan.expected, "reject6 *:*") != NULL);
	EW_CHECK(strstr(ew_buf_str(&l6), "reject6 *:*") == NULL);
	ew_buf_puts(&b, "");
	snprintf(live, sizeof(live), "250+exit-policy/full=\r\n");
	for (s = ew_buf_str(&l6); *s != '\0'; s = c + 1) {
		c = strchr(s, '\n');
		snprintf(live + strlen(live), sizeof(live) - strlen(live),
		    "%.*s\r\n", (int)(c - s), s);
	}
	snprintf(live + strlen(live), sizeof(live) - strlen(live),
	    ".\r\n250 OK\r\n");
	snprintf(
	    path, sizeof(path), "/tmp/ew-test-keep-%ld.sock", (long)getpid());
	snprintf(log, sizeof(log), "/tmp/ew-test-keeplog-%ld", (long)getpid());
	pid = fake_server_log(
	    path, script, sizeof(script) / sizeof(script[0]), log);
	EW_CHECK(pid > 0);
	if (pid > 0) {
		memset(&t, 0, sizeof(t));
		t.control = path;
		t.timeout_ms = 2000;
		EW_CHECK_INT(ew_tor_apply(&plan, &t, NULL, &res, &d), 0);
		EW_CHECK(diags_have(&d, "IPv6Exit 1: left as tor has it"));
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		unlink(path);
		s = slurp(log);
		EW_CHECK(
		    s != NULL && strstr(s, "SETCONF ExitRelay=\"1\" ") != NULL);
		EW_CHECK(s != NULL && strstr(s, "GETCONF IPv6Exit ") != NULL);
		EW_CHECK(s != NULL && strstr(s, "IPv6Exit=") == NULL);
		unlink(log);
	}
	ew_tor_plan_free(&plan);
	ew_expanded_free(e);
	ew_expanded_free(e6);
	ew_policy_free(p);
	ew_buf_free(&b);
	ew_buf_free(&l6);
	ew_diag_free(&d);
}

/* status: tor's own-address lines are not drift unless the policy names
 * them (then they stay). */
static void
test_live_without_own(void)
{
	char live[] = "reject 198.51.100.7:*\nreject6 [2001:db8::7]:*\n"
		      "reject *:25\naccept *:*\n";
	char v4[] = "198.51.100.7", v6[] = "2001:db8::7";
	struct ew_tor_status st;
	struct ew_buf b = EW_BUF_INIT;

	memset(&st, 0, sizeof(st));
	st.live = live;
	st.own[0] = v4;
	st.own[1] = v6;
	ew_tor_live_without_own(&st, "reject *:25\naccept *:*\n", &b);
	EW_CHECK_STR(ew_buf_str(&b), "reject *:25\naccept *:*\n");
	ew_buf_reset(&b);
	ew_tor_live_without_own(
	    &st, "reject 198.51.100.7:*\nreject *:25\naccept *:*\n", &b);
	EW_CHECK_STR(
	    ew_buf_str(&b), "reject 198.51.100.7:*\nreject *:25\naccept *:*\n");
	ew_buf_reset(&b);
	st.own[0] = st.own[1] = NULL;
	ew_tor_live_without_own(&st, "", &b);
	EW_CHECK_STR(ew_buf_str(&b), live);
	ew_buf_free(&b);
}

static void
test_auth(void)
{
	static const char *const pw[] = {
		"250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD\r\n"
		"250 OK\r\n",
		"250 OK\r\n",
	};
	static const char *const cookie[] = {
		"250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE "
		"COOKIEFILE=\"/nonexistent/cookie\"\r\n250 OK\r\n",
		"515 Authentication failed\r\n",
	};
	char path[64], log[64], cf[64];
	struct ew_ctl_auth a = { NULL, "pa\"ss\\word", NULL };
	const char *method = NULL, *s;
	struct ew_ctl *c;
	unsigned char bytes[32];
	int status;
	pid_t pid;
	FILE *f;

	snprintf(
	    path, sizeof(path), "/tmp/ew-test-auth-%ld.sock", (long)getpid());
	snprintf(log, sizeof(log), "/tmp/ew-test-alog-%ld", (long)getpid());
	snprintf(cf, sizeof(cf), "/tmp/ew-test-cookie-%ld", (long)getpid());

	pid = fake_server_log(path, pw, 2, log);
	c = ew_ctl_new(2000);
	EW_CHECK_INT(ew_ctl_connect(c, path), 0);
	EW_CHECK_INT(ew_ctl_authenticate(c, &a, &method), 0);
	EW_CHECK_STR(method, "HASHEDPASSWORD");
	ew_ctl_free(c);
	waitpid(pid, &status, 0);
	s = slurp(log);
	EW_CHECK(s != NULL &&
		 strstr(s, "AUTHENTICATE \"pa\\\"ss\\\\word\"\r\n") != NULL);

	/* COOKIE: the file given overrides tor's; a refusal says so
	 * without the cookie */
	memset(bytes, 0xab, sizeof(bytes));
	f = fopen(cf, "wb");
	fwrite(bytes, 1, sizeof(bytes), f);
	fclose(f);
	pid = fake_server_log(path, cookie, 2, log);
	c = ew_ctl_new(2000);
	a.password = NULL;
	a.cookie_file = cf;
	EW_CHECK_INT(ew_ctl_connect(c, path), 0);
	EW_CHECK_INT(ew_ctl_authenticate(c, &a, &method), EW_CTL_EAUTH);
	EW_CHECK(strstr(ew_ctl_error(c), "refused the cookie") != NULL);
	EW_CHECK(strstr(ew_ctl_error(c), "ABAB") == NULL);
	ew_ctl_free(c);
	waitpid(pid, &status, 0);
	s = slurp(log);
	EW_CHECK(s != NULL && strstr(s, "AUTHENTICATE ABABABAB") != NULL);

	/* a password where tor offers none */
	pid = fake_server_log(path, cookie, 1, NULL);
	c = ew_ctl_new(2000);
	a.password = "x";
	EW_CHECK_INT(ew_ctl_connect(c, path), 0);
	EW_CHECK_INT(ew_ctl_authenticate(c, &a, NULL), EW_CTL_EAUTH);
	ew_ctl_free(c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(path);
	unlink(log);
	unlink(cf);
}

int
main(void)
{
	EW_RUN(test_single);
	EW_RUN(test_multiline);
	EW_RUN(test_data);
	EW_RUN(test_errors_and_events);
	EW_RUN(test_malformed);
	EW_RUN(test_quote);
	EW_RUN(test_list);
	EW_RUN(test_client);
	EW_RUN(test_apply);
	EW_RUN(test_plan);
	EW_RUN(test_keep_settings);
	EW_RUN(test_live_without_own);
	EW_RUN(test_auth);
	return ew_test_done();
}
