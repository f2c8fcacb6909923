/*
 * test_conf.c - unit tests for src/conf: exitwarden.conf read into its
 * struct, Debian's defaults for the relays it does not spell out, the
 * round trip through ew_conf_format, and each kind of error with its
 * line and columns (all or nothing: no configuration on any error).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/ew_test.h"

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/diag.h"

static struct ew_conf *
parse_ok(const char *text)
{
	struct ew_diag_list d;
	struct ew_conf *c = NULL;
	int rc;

	ew_diag_init(&d);
	rc = ew_conf_parse("t.conf", text, strlen(text), &d, &c);
	EW_CHECK_INT(rc, 0);
	EW_CHECK_INT(d.nerr, 0);
	if (rc != 0) {
		struct ew_buf b = EW_BUF_INIT;

		ew_diag_format(&d, &b);
		fprintf(stderr, "%s", ew_buf_str(&b));
		ew_buf_free(&b);
	}
	ew_diag_free(&d);
	return c;
}

/* The text fails; the first diagnostic's first line is `want`, and
 * there are nerr errors. */
static void
parse_err(const char *text, const char *want, size_t nerr)
{
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_conf *c = (struct ew_conf *)1;
	char *nl;
	int rc;

	ew_diag_init(&d);
	rc = ew_conf_parse("t.conf", text, strlen(text), &d, &c);
	EW_CHECK_INT(rc, -EINVAL);
	EW_CHECK(c == NULL);
	EW_CHECK_INT(d.nerr, nerr);
	ew_diag_format(&d, &b);
	if (b.p != NULL && (nl = strchr(b.p, '\n')) != NULL)
		*nl = '\0';
	EW_CHECK_STR(ew_buf_str(&b), want);
	ew_buf_free(&b);
	ew_diag_free(&d);
	if (c != NULL && c != (struct ew_conf *)1)
		ew_conf_free(c);
}

static void
test_full(void)
{
	static const char text[] =
	    "# exitwarden.conf\n"
	    "database \"/var/lib/exitwarden/exitwarden.db\"\n"
	    "maildir /var/mail/abuse/Maildir   # the abuse box\n"
	    "templates \"/etc/exitwarden/templates\"\n"
	    "policy /etc/exitwarden/exit.policy\n"
	    "nft-state /var/lib/exitwarden/nft.state\n"
	    "\n"
	    "relay default {\n"
	    "\tcontrol \"/run/tor/control\"\n"
	    "\tuser debian-tor\n"
	    "}\n"
	    "relay 198.51.100.10_9000 {\n"
	    "\tcontrol 127.0.0.1:9052\n"
	    "\tpassword-file \"/etc/exitwarden/tor \\\"pw\\\"\"\n"
	    "\tmanaged /var/lib/exitwarden/r2/managed.policy\n"
	    "\tpolicy /etc/exitwarden/r2.policy\n"
	    "}";
	struct ew_conf *c = parse_ok(text), *c2;
	const struct ew_conf_relay *r;
	struct ew_buf b = EW_BUF_INIT, b2 = EW_BUF_INIT;

	if (c == NULL)
		return;
	EW_CHECK_STR(c->path, "t.conf");
	EW_CHECK_STR(c->database, "/var/lib/exitwarden/exitwarden.db");
	EW_CHECK_STR(c->maildir, "/var/mail/abuse/Maildir");
	EW_CHECK_STR(c->templates, "/etc/exitwarden/templates");
	EW_CHECK_STR(c->policy, "/etc/exitwarden/exit.policy");
	EW_CHECK_STR(c->nft_state, "/var/lib/exitwarden/nft.state");
	EW_CHECK_INT(c->n_relays, 2);
	r = ew_conf_relay_find(c, "default");
	EW_CHECK(r != NULL);
	if (r != NULL) {
		EW_CHECK_STR(r->control, "/run/tor/control");
		EW_CHECK_STR(r->cookie, "/run/tor/control.authcookie");
		EW_CHECK_STR(r->user, "debian-tor");
		EW_CHECK_STR(r->torrc, "/etc/tor/torrc");
		EW_CHECK_STR(r->fragment, "/etc/tor/torrc.d/exitwarden.conf");
		EW_CHECK(r->managed == NULL);
		EW_CHECK(r->password_file == NULL);
		EW_CHECK_INT(r->line, 8);
	}
	r = ew_conf_relay_find(c, "198.51.100.10_9000");
	EW_CHECK(r != NULL);
	if (r != NULL) {
		EW_CHECK_STR(r->control, "127.0.0.1:9052");
		EW_CHECK(r->cookie == NULL);
		EW_CHECK_STR(r->password_file, "/etc/exitwarden/tor \"pw\"");
		EW_CHECK_STR(r->user, "_tor-198.51.100.10_9000");
		EW_CHECK_STR(
		    r->torrc, "/etc/tor/instances/198.51.100.10_9000/torrc");
		EW_CHECK_STR(r->fragment,
		    "/etc/tor/instances/198.51.100.10_9000/"
		    "torrc.d/exitwarden.conf");
		EW_CHECK_STR(
		    r->managed, "/var/lib/exitwarden/r2/managed.policy");
		EW_CHECK_STR(r->policy, "/etc/exitwarden/r2.policy");
	}
	EW_CHECK(ew_conf_relay_find(c, "nope") == NULL);
	/* the round trip: format, parse, format again: the same text */
	EW_CHECK_INT(ew_conf_format(c, &b), 0);
	c2 = parse_ok(ew_buf_str(&b));
	if (c2 != NULL) {
		EW_CHECK_INT(ew_conf_format(c2, &b2), 0);
		EW_CHECK_STR(ew_buf_str(&b), ew_buf_str(&b2));
		EW_CHECK_INT(c2->n_relays, 2);
	}
	ew_buf_free(&b);
	ew_buf_free(&b2);
	ew_conf_free(c2);
	ew_conf_free(c);
}

static void
test_empty_and_api(void)
{
	struct ew_conf *c = parse_ok("# nothing but a comment\n\n");
	struct ew_conf_relay *r;

	if (c != NULL) {
		EW_CHECK_INT(c->n_relays, 0);
		EW_CHECK(c->database == NULL);
		ew_conf_free(c);
	}
	c = parse_ok("");
	ew_conf_free(c);
	ew_conf_free(NULL);
	/* the API setup uses: an instance with Debian's settings */
	c = ew_conf_new();
	EW_CHECK(c != NULL);
	if (c == NULL)
		return;
	r = ew_conf_add_relay(c, "exit2");
	EW_CHECK(r != NULL);
	if (r != NULL) {
		EW_CHECK_STR(r->control, "/run/tor-instances/exit2/control");
		EW_CHECK_STR(
		    r->cookie, "/run/tor-instances/exit2/control.authcookie");
		EW_CHECK_STR(r->user, "_tor-exit2");
		EW_CHECK_STR(r->torrc, "/etc/tor/instances/exit2/torrc");
		EW_CHECK_INT(ew_conf_set(&r->managed, "/x/m.policy"), 0);
		EW_CHECK_STR(r->managed, "/x/m.policy");
	}
	EW_CHECK(ew_conf_add_relay(c, "exit2") == NULL);    /* twice */
	EW_CHECK(ew_conf_add_relay(c, "bad name") == NULL); /* malformed */
	EW_CHECK(ew_conf_add_relay(c, "") == NULL);
	EW_CHECK_INT(c->n_relays, 1);
	EW_CHECK(ew_conf_relay_name_ok("198.51.100.10_9000"));
	EW_CHECK(!ew_conf_relay_name_ok("a/b"));
	EW_CHECK(!ew_conf_relay_name_ok("-x"));
	ew_conf_free(c);
}

/* Each kind of error, located. */
static void
test_errors(void)
{
	parse_err("databse /x\n",
	    "t.conf:1:1-7: error: unknown setting 'databse'", 1);
	parse_err(
	    "database\n", "t.conf:1:1-8: error: 'database' needs a value", 1);
	parse_err("maildir var/mail\n",
	    "t.conf:1:9-16: error: 'maildir' needs an absolute path, not "
	    "'var/mail'",
	    1);
	parse_err("database /a\n\ndatabase /b\n",
	    "t.conf:3:1-8: error: 'database' given twice", 1);
	parse_err("database /a /b\n",
	    "t.conf:1:13-14: error: unexpected '/b' after the value", 1);
	parse_err("templates \"/x\n",
	    "t.conf:1:11-13: error: unterminated string", 1);
	parse_err("templates \"/x\\n\"\n",
	    "t.conf:1:14-15: error: unknown escape in string (only \\\" and "
	    "\\\\)",
	    1);
	parse_err("templates \"/x\ty\"\n",
	    "t.conf:1:14: error: control character 0x09 in string", 1);
	parse_err("database /a\x01\n",
	    "t.conf:1:12: error: unexpected control character 0x01", 1);
	parse_err("}\n", "t.conf:1:1: error: unexpected '}'", 1);
	parse_err(
	    "relay {\n}\n", "t.conf:1:1-5: error: 'relay' needs a name", 2);
	parse_err("relay a/b {\n}\n",
	    "t.conf:1:7-9: error: malformed relay name 'a/b' (letters, "
	    "digits, '.', '_', '-'; at most 64)",
	    1);
	/* a name that makes no valid _tor-NAME user needs 'user' (fuzz) */
	parse_err("relay "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  " {\n}\n",
	    "t.conf:1:7-66: error: relay name "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "
	    "makes no valid "
	    "instance user "
	    "'_tor-"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' (at "
	    "most 64 characters): give 'user'",
	    1);
	{
		struct ew_conf *c = NULL;
		struct ew_diag_list d;
		const char *ok = "relay "
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				 "aaaaaaaaaaaaaaa {\n user _tor-x\n}\n";

		ew_diag_init(&d);
		EW_CHECK_INT(
		    ew_conf_parse("t.conf", ok, strlen(ok), &d, &c), 0);
		ew_conf_free(c);
		ew_diag_free(&d);
	}
	parse_err("relay r1\n",
	    "t.conf:1:9: error: unexpected end of line; expected '{' after "
	    "the relay's name",
	    1);
	parse_err("relay r1 {\n  control /run/x\n",
	    "t.conf:1:1-5: error: relay block not closed: missing '}'", 1);
	parse_err("relay r1 {\n  colour blue\n}\n",
	    "t.conf:2:3-8: error: unknown setting 'colour' for a relay", 1);
	parse_err("relay r1 {\n  control localhost\n}\n",
	    "t.conf:2:11-19: error: malformed control endpoint 'localhost' (a "
	    "socket path or HOST:PORT)",
	    1);
	parse_err("relay r1 {\n  control 127.0.0.1:70000\n}\n",
	    "t.conf:2:11-25: error: malformed control endpoint "
	    "'127.0.0.1:70000' (a socket path or HOST:PORT)",
	    1);
	parse_err("relay r1 {\n  user \"-x\"\n}\n",
	    "t.conf:2:8-11: error: malformed user name '-x'", 1);
	parse_err("relay r1 {\n}\nrelay r1 {\n}\n",
	    "t.conf:3:7-8: error: relay 'r1' declared twice", 1);
	parse_err("relay r1 {\nrelay r2 {\n}\n",
	    "t.conf:2:1-5: error: 'relay' inside a relay block (a '}' missing "
	    "above?)",
	    1);
	parse_err("relay r1 {\n cookie /c\n password-file /p\n}\n",
	    "t.conf:3:16-17: error: 'cookie' and 'password-file' exclude each "
	    "other",
	    1);
	parse_err("relay r1 {\n control /run/c\n}\nrelay r2 {\n control "
		  "/run/c\n}\n",
	    "t.conf:5:10-15: error: relay 'r2' has the control '/run/c' of "
	    "relay 'r1'",
	    1);
	/* a default colliding with a value given: located at the name */
	parse_err("relay r1 {\n torrc /etc/tor/torrc\n}\nrelay default {\n}\n",
	    "t.conf:4:7-13: error: relay 'default' has the torrc "
	    "'/etc/tor/torrc' of relay 'r1'",
	    1);
	parse_err("relay r1 { x\n}\n",
	    "t.conf:1:12: error: unexpected 'x' after '{'", 1);
	parse_err("relay r1 {\n} x\n",
	    "t.conf:2:3: error: unexpected 'x' after '}'", 1);
	/* every error of a file, not only the first */
	parse_err("a /x\nb /y\nrelay r { \n c 1\n}\nmaildir z\n",
	    "t.conf:1:1: error: unknown setting 'a'", 4);
}

static void
test_nul_len(void)
{
	/* strlen stops at the NUL above; here the whole buffer counts */
	static const char text[] = "database /a\0b\n";
	struct ew_diag_list d;
	struct ew_conf *c = NULL;

	ew_diag_init(&d);
	EW_CHECK_INT(
	    ew_conf_parse("t.conf", text, sizeof(text) - 1, &d, &c), -EINVAL);
	EW_CHECK(c == NULL);
	EW_CHECK_INT(d.nerr, 1);
	ew_diag_free(&d);
}

static void
test_load(void)
{
	char path[] = "/tmp/ew-conf-XXXXXX";
	struct ew_diag_list d;
	struct ew_conf *c = NULL;
	int fd = mkstemp(path);

	EW_CHECK(fd >= 0);
	if (fd < 0)
		return;
	EW_CHECK(write(fd, "relay r {\n}\n", 12) == 12);
	close(fd);
	ew_diag_init(&d);
	EW_CHECK_INT(ew_conf_load(path, &d, &c), 0);
	EW_CHECK(c != NULL && c->n_relays == 1);
	EW_CHECK(c != NULL && strcmp(c->path, path) == 0);
	ew_conf_free(c);
	unlink(path);
	EW_CHECK_INT(ew_conf_load(path, &d, &c), -ENOENT);
	EW_CHECK_INT(d.n, 0);
	EW_CHECK_INT(ew_conf_load("/tmp", &d, &c), -EINVAL);
	EW_CHECK_INT(d.nerr, 1);
	ew_diag_free(&d);
}

/* The torrc edit of exitwarden setup. */
static void
edit_is(const char *in, const char *want, size_t moved)
{
	struct ew_conf_torrc_edit e, e2;

	EW_CHECK_INT(
	    ew_conf_torrc_edit(in, strlen(in), "/etc/tor/torrc.d/", &e), 0);
	EW_CHECK_STR(e.text, want);
	EW_CHECK_INT(e.n_moved, moved);
	EW_CHECK_INT(e.len, strlen(e.text));
	/* its own result comes back unchanged */
	EW_CHECK_INT(
	    ew_conf_torrc_edit(e.text, e.len, "/etc/tor/torrc.d/", &e2), 0);
	EW_CHECK_STR(e2.text, e.text);
	EW_CHECK_INT(e2.n_moved, 0);
	EW_CHECK_INT(e2.include_added, 0);
	ew_conf_torrc_edit_free(&e2);
	ew_conf_torrc_edit_free(&e);
}

#define INC                                                                    \
	"\n# exitwarden: its fragment last, so that what it sets wins "        \
	"(exitwarden setup)\n%include /etc/tor/torrc.d/\n"
#define M EW_CONF_TORRC_MARK

static void
test_torrc_edit(void)
{
	struct ew_conf_torrc_edit e;
	size_t i;

	edit_is("", INC, 0);
	edit_is("SocksPort 0", "SocksPort 0\n" INC, 0);
	edit_is("SocksPort 0\nExitPolicy reject *:*\n# ExitRelay 1\n",
	    "SocksPort 0\n" M "ExitPolicy reject *:*\n# ExitRelay 1\n" INC, 1);
	/* any case, the + and / prefixes, leading blanks */
	edit_is("  exitpolicy accept *:80\n+ExitPolicy reject *:*\n/IPv6Exit\n"
		"EXITRELAY 1\nReducedExitPolicy 1\n"
		"ExitPolicyRejectPrivate 0\nExitPolicyRejectLocalInterfaces 1\n"
		"ExitPolicyX 1\nNickname e\n",
	    M "  exitpolicy accept *:80\n" M "+ExitPolicy reject *:*\n" M
	      "/IPv6Exit\n" M "EXITRELAY 1\n" M "ReducedExitPolicy 1\n" M
	      "ExitPolicyRejectPrivate 0\n" M
	      "ExitPolicyRejectLocalInterfaces 1\nExitPolicyX 1\nNickname "
	      "e\n" INC,
	    7);
	/* a continued line: all of it */
	edit_is("ExitPolicy accept *:80, \\\n  accept *:443\nORPort 9001\n",
	    M "ExitPolicy accept *:80, \\\n" M "  accept *:443\nORPort "
	      "9001\n" INC,
	    1);
	/* the include already last: nothing to do */
	edit_is("ORPort 1\n%include /etc/tor/torrc.d/\n# end\n",
	    "ORPort 1\n%include /etc/tor/torrc.d/\n# end\n", 0);
	/* the include in the middle: moved last */
	edit_is("%include /etc/tor/torrc.d/\nORPort 1\n",
	    M "%include /etc/tor/torrc.d/\nORPort 1\n" INC, 0);
	/* another include is the operator's */
	edit_is("%include /etc/other/\n", "%include /etc/other/\n" INC, 0);
	/* the moved lines, as they were, for the policy file */
	{
		static const char t[] =
		    "ExitRelay 1\nSocksPort 0\nExitPolicy reject *:*";

		EW_CHECK_INT(
		    ew_conf_torrc_edit(t, sizeof(t) - 1, "/d/", &e), 0);
	}
	EW_CHECK_STR(e.moved, "ExitRelay 1\nExitPolicy reject *:*\n");
	EW_CHECK(e.include_added);
	ew_conf_torrc_edit_free(&e);
	/* a NUL byte in the file: kept, and the bytes after it too */
	{
		static const char t[] = "A 1\0B\nExitRelay 1\n";

		EW_CHECK_INT(
		    ew_conf_torrc_edit(t, sizeof(t) - 1, "/d/", &e), 0);
		EW_CHECK(e.len > sizeof(t) - 1);
		EW_CHECK(memcmp(e.text, "A 1\0B\n" M "ExitRelay 1\n",
			     6 + strlen(M) + 12) == 0);
		EW_CHECK_INT(e.n_moved, 1);
		ew_conf_torrc_edit_free(&e);
	}
	for (i = 0; ew_conf_taken_over[i] != NULL; i++)
		;
	EW_CHECK_INT(i, 6);
}

int
main(void)
{
	EW_RUN(test_full);
	EW_RUN(test_empty_and_api);
	EW_RUN(test_errors);
	EW_RUN(test_nul_len);
	EW_RUN(test_load);
	EW_RUN(test_torrc_edit);
	return ew_test_done();
}
