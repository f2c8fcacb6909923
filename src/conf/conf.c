/*
 * conf.c - reading exitwarden.conf (conf.h) and writing it back.
 *
 * A small lexer turns the text into words, strings, braces and ends of
 * line, each with its line and columns; the parser reads one setting a
 * line.  A setting that is wrong is reported and the rest of its line
 * skipped, so a run reports every error; the configuration is handed
 * out only when there were none.  After a relay's block closes, the
 * settings it did not give take Debian's values, and then the relays
 * are checked against each other (two relays on one control socket,
 * one fragment or one managed policy would fight).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/num.h"

#define MAX_VALUE 4096

enum tok_kind { T_EOF, T_NL, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_BAD };

struct tok {
	enum tok_kind kind;
	unsigned line, first, last; /* columns, 1-based */
	char *val;                  /* WORD and STRING: decoded, owned */
};

/* What a value must look like. */
enum vkind { V_PATH, V_ENDPOINT, V_USER };

struct key {
	const char *name;
	size_t off; /* offsetof the char * in its struct */
	enum vkind kind;
};

static const struct key top_keys[] = {
	{ "database", offsetof(struct ew_conf, database), V_PATH },
	{ "maildir", offsetof(struct ew_conf, maildir), V_PATH },
	{ "nft-state", offsetof(struct ew_conf, nft_state), V_PATH },
	{ "policy", offsetof(struct ew_conf, policy), V_PATH },
	{ "templates", offsetof(struct ew_conf, templates), V_PATH },
};
#define N_TOP (sizeof(top_keys) / sizeof(top_keys[0]))

/* In the order ew_conf_format writes them. */
static const struct key relay_keys[] = {
	{ "torrc", offsetof(struct ew_conf_relay, torrc), V_PATH },
	{ "control", offsetof(struct ew_conf_relay, control), V_ENDPOINT },
	{ "cookie", offsetof(struct ew_conf_relay, cookie), V_PATH },
	{ "password-file", offsetof(struct ew_conf_relay, password_file),
	    V_PATH },
	{ "user", offsetof(struct ew_conf_relay, user), V_USER },
	{ "fragment", offsetof(struct ew_conf_relay, fragment), V_PATH },
	{ "managed", offsetof(struct ew_conf_relay, managed), V_PATH },
	{ "policy", offsetof(struct ew_conf_relay, policy), V_PATH },
};
#define N_RKEYS (sizeof(relay_keys) / sizeof(relay_keys[0]))

/* Where each setting was given (line 0: not given, a default). */
struct where {
	unsigned line, first, last;
};

struct cstate {
	struct ew_src *src;
	struct ew_diag_list *d;
	const char *p, *end, *bol;
	unsigned line;
	struct ew_conf *c;
	size_t nerr0;
	int oom;
	struct where top[N_TOP];
	struct where (*rel)[N_RKEYS]; /* per relay */
	struct where *relname;        /* per relay: its name */
};

#define FIELD(base, off) ((char **)((char *)(base) + (off)))

static void diag(struct cstate *cs, enum ew_sev sev, unsigned line,
    unsigned first, unsigned last, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
diag(struct cstate *cs, enum ew_sev sev, unsigned line, unsigned first,
    unsigned last, const char *fmt, ...)
{
	struct ew_buf msg = EW_BUF_INIT;
	struct ew_loc loc;
	va_list ap;

	va_start(ap, fmt);
	ew_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	loc.src = cs->src;
	loc.line = line;
	loc.first = first;
	loc.last = last;
	ew_diag_add(cs->d, sev, line ? &loc : NULL, "%s", ew_buf_str(&msg));
	ew_buf_free(&msg);
}

#define TOKERR(cs, t, ...)                                                     \
	diag(cs, EW_SEV_ERROR, (t)->line, (t)->first, (t)->last, __VA_ARGS__)

static unsigned
col(const struct cstate *cs, const char *q)
{
	return (unsigned)(q - cs->bol) + 1;
}

static int
bare_char(unsigned char ch)
{
	return ch > 0x20 && ch != 0x7f && ch != '{' && ch != '}' && ch != '"' &&
	       ch != '#' && ch != '\\';
}

/* A "quoted string" from cs->p (at the quote) into t. */
static void
lex_string(struct cstate *cs, struct tok *t)
{
	struct ew_buf b = EW_BUF_INIT;
	const char *q = cs->p + 1;
	int bad = 0;

	for (;; q++) {
		if (q >= cs->end || *q == '\n') {
			t->last = col(cs, q > cs->p + 1 ? q - 1 : cs->p);
			TOKERR(cs, t, "unterminated string");
			bad = 1;
			break;
		}
		if (*q == '"') {
			q++;
			break;
		}
		if (*q == '\\') {
			if (q + 1 < cs->end && (q[1] == '"' || q[1] == '\\')) {
				ew_buf_putc(&b, *++q);
				continue;
			}
			diag(cs, EW_SEV_ERROR, t->line, col(cs, q),
			    col(cs, q + 1 < cs->end ? q + 1 : q),
			    "unknown escape in string (only \\\" and \\\\)");
			bad = 1;
			continue;
		}
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			diag(cs, EW_SEV_ERROR, t->line, col(cs, q), col(cs, q),
			    "control character 0x%02x in string",
			    (unsigned)(unsigned char)*q);
			bad = 1;
			continue;
		}
		ew_buf_putc(&b, *q);
	}
	if (!bad)
		t->last = col(cs, q - 1);
	cs->p = q;
	if (!bad && b.len > MAX_VALUE) {
		TOKERR(cs, t, "string longer than %d bytes", MAX_VALUE);
		bad = 1;
	}
	if (bad) {
		ew_buf_free(&b);
		t->kind = T_BAD;
		return;
	}
	if ((t->val = strdup(ew_buf_str(&b))) == NULL)
		cs->oom = 1;
	ew_buf_free(&b);
}

/* The next token; comments and blanks are skipped. */
static void
lex(struct cstate *cs, struct tok *t)
{
	const char *s;

	memset(t, 0, sizeof(*t));
	while (cs->p < cs->end &&
	       (*cs->p == ' ' || *cs->p == '\t' || *cs->p == '\r'))
		cs->p++;
	if (cs->p < cs->end && *cs->p == '#')
		while (cs->p < cs->end && *cs->p != '\n')
			cs->p++;
	t->line = cs->line;
	if (cs->p >= cs->end) {
		t->kind = T_EOF;
		t->first = t->last = col(cs, cs->p);
		return;
	}
	s = cs->p;
	t->first = t->last = col(cs, s);
	switch (*s) {
	case '\n':
		t->kind = T_NL;
		cs->p++;
		cs->line++;
		cs->bol = cs->p;
		return;
	case '{':
		t->kind = T_LBRACE;
		cs->p++;
		return;
	case '}':
		t->kind = T_RBRACE;
		cs->p++;
		return;
	case '"':
		t->kind = T_STRING;
		lex_string(cs, t);
		return;
	default:
		break;
	}
	if (!bare_char((unsigned char)*s)) {
		t->kind = T_BAD;
		cs->p++;
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			TOKERR(cs, t, "unexpected control character 0x%02x",
			    (unsigned)(unsigned char)*s);
		else
			TOKERR(cs, t, "unexpected '%c'", *s);
		return;
	}
	while (cs->p < cs->end && bare_char((unsigned char)*cs->p))
		cs->p++;
	t->kind = T_WORD;
	t->last = col(cs, cs->p - 1);
	if (cs->p - s > MAX_VALUE) {
		t->kind = T_BAD;
		TOKERR(cs, t, "word longer than %d bytes", MAX_VALUE);
		return;
	}
	if ((t->val = strndup(s, (size_t)(cs->p - s))) == NULL)
		cs->oom = 1;
}

static void
tok_free(struct tok *t)
{
	free(t->val);
	t->val = NULL;
}

/* Skip to the end of the line (after an error). */
static void
skip_line(struct cstate *cs, struct tok *t)
{
	while (t->kind != T_NL && t->kind != T_EOF) {
		tok_free(t);
		lex(cs, t);
	}
}

static const char *
tok_what(const struct tok *t)
{
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_NL:
		return "end of line";
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	default:
		return NULL;
	}
}

/* "unexpected X" for the token. */
static void
unexpected(struct cstate *cs, const struct tok *t, const char *after)
{
	const char *w = tok_what(t);

	if (w != NULL)
		TOKERR(cs, t, "unexpected %s%s", w, after);
	else if (t->kind != T_BAD)
		TOKERR(cs, t, "unexpected '%s'%s", t->val ? t->val : "", after);
}

/* ---- values ---- */

static int
endpoint_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (s[0] == '/')
		return 1;
	if (colon == NULL || colon == s || colon[1] == '\0')
		return 0;
	if (s[0] == '[' && colon[-1] != ']')
		return 0;
	return ew_parse_uint(colon + 1, strlen(colon + 1), 1, 65535, &port) ==
	       0;
}

static int
user_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-' || s[i] == '.' ||
			(s[i] == '$' && i == n - 1)))
			return 0;
	return 1;
}

int
ew_conf_relay_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* Check the value of key k; 0 or -1 (said). */
static int
check_value(struct cstate *cs, const struct key *k, const struct tok *v)
{
	switch (k->kind) {
	case V_PATH:
		if (v->val[0] != '/') {
			TOKERR(cs, v, "'%s' needs an absolute path, not '%s'",
			    k->name, v->val);
			return -1;
		}
		return 0;
	case V_ENDPOINT:
		if (!endpoint_ok(v->val)) {
			TOKERR(cs, v,
			    "malformed control endpoint '%s' (a socket path "
			    "or HOST:PORT)",
			    v->val);
			return -1;
		}
		return 0;
	case V_USER:
		if (!user_ok(v->val)) {
			TOKERR(cs, v, "malformed user name '%s'", v->val);
			return -1;
		}
		return 0;
	}
	return 0;
}

/*
 * One "KEY VALUE" line whose key token is t (a word): find it in keys,
 * read and check the value, store it into base.  Consumes the line.
 */
static void
setting(struct cstate *cs, struct tok *t, const struct key *keys, size_t nk,
    void *base, struct where *w, const char *where_name)
{
	struct tok v;
	size_t i;

	for (i = 0; i < nk; i++)
		if (strcmp(keys[i].name, t->val) == 0)
			break;
	if (i == nk) {
		TOKERR(cs, t, "unknown setting '%s'%s", t->val, where_name);
		skip_line(cs, t);
		return;
	}
	lex(cs, &v);
	if (v.kind != T_WORD && v.kind != T_STRING) {
		if (v.kind != T_BAD)
			TOKERR(cs, t, "'%s' needs a value", keys[i].name);
		tok_free(t);
		*t = v;
		skip_line(cs, t);
		return;
	}
	if (check_value(cs, &keys[i], &v) < 0)
		goto skip;
	if (w[i].line != 0) {
		TOKERR(cs, t, "'%s' given twice", keys[i].name);
		diag(cs, EW_SEV_NOTE, w[i].line, w[i].first, w[i].last,
		    "first given here");
		goto skip;
	}
	w[i].line = v.line;
	w[i].first = v.first;
	w[i].last = v.last;
	*FIELD(base, keys[i].off) = v.val;
	v.val = NULL;
	tok_free(t);
	lex(cs, t);
	if (t->kind != T_NL && t->kind != T_EOF) {
		unexpected(cs, t, " after the value");
		skip_line(cs, t);
	}
	return;
skip:
	tok_free(t);
	*t = v;
	skip_line(cs, t);
}

/* ---- relays ---- */

int
ew_conf_set(char **field, const char *value)
{
	char *s = NULL;

	if (value != NULL && (s = strdup(value)) == NULL)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* Fill what r does not give with Debian's values for its name. */
static int
relay_debian(struct ew_conf_relay *r)
{
	struct ew_buf b = EW_BUF_INIT;
	int def = strcmp(r->name, "default") == 0, rc = 0;
	const char *n = r->name;

#define DEF(field, ...)                                                        \
	do {                                                                   \
		if (r->field == NULL && rc == 0) {                             \
			ew_buf_reset(&b);                                      \
			ew_buf_printf(&b, __VA_ARGS__);                        \
			rc = ew_conf_set(&r->field, ew_buf_str(&b));           \
		}                                                              \
	} while (0)
	if (def) {
		DEF(torrc, "/etc/tor/torrc");
		DEF(control, "/run/tor/control");
		DEF(user, "debian-tor");
		DEF(fragment, "/etc/tor/torrc.d/exitwarden.conf");
		if (r->password_file == NULL)
			DEF(cookie, "/run/tor/control.authcookie");
	} else {
		DEF(torrc, "/etc/tor/instances/%s/torrc", n);
		DEF(control, "/run/tor-instances/%s/control", n);
		DEF(user, "_tor-%s", n);
		DEF(fragment, "/etc/tor/instances/%s/torrc.d/exitwarden.conf",
		    n);
		if (r->password_file == NULL)
			DEF(cookie, "/run/tor-instances/%s/control.authcookie",
			    n);
	}
#undef DEF
	ew_buf_free(&b);
	return rc;
}

static struct ew_conf_relay *
relay_push(struct ew_conf *c, const char *name)
{
	struct ew_conf_relay *nv;

	nv = realloc(c->relays, (c->n_relays + 1) * sizeof(*nv));
	if (nv == NULL)
		return NULL;
	c->relays = nv;
	nv += c->n_relays;
	memset(nv, 0, sizeof(*nv));
	if ((nv->name = strdup(name)) == NULL)
		return NULL;
	c->n_relays++;
	return nv;
}

struct ew_conf_relay *
ew_conf_add_relay(struct ew_conf *c, const char *name)
{
	struct ew_conf_relay *r;

	if (!ew_conf_relay_name_ok(name) ||
	    ew_conf_relay_find(c, name) != NULL ||
	    c->n_relays >= EW_CONF_MAX_RELAYS)
		return NULL;
	if ((r = relay_push(c, name)) == NULL)
		return NULL;
	if (relay_debian(r) != 0)
		return NULL;
	return r;
}

const struct ew_conf_relay *
ew_conf_relay_find(const struct ew_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_relays; i++)
		if (strcmp(c->relays[i].name, name) == 0)
			return &c->relays[i];
	return NULL;
}

/* "relay NAME {" ... "}" with t at the word relay. */
static void
relay_block(struct cstate *cs, struct tok *t)
{
	struct tok name, br;
	struct ew_conf_relay *r = NULL;
	unsigned rline = t->line, rfirst = t->first, rlast = t->last;
	size_t idx;
	int had_user;

	lex(cs, &name);
	if (name.kind != T_WORD && name.kind != T_STRING) {
		if (name.kind != T_BAD)
			TOKERR(cs, t, "'relay' needs a name");
		tok_free(t);
		*t = name;
		skip_line(cs, t);
		return;
	}
	if (!ew_conf_relay_name_ok(name.val)) {
		TOKERR(cs, &name,
		    "malformed relay name '%s' (letters, digits, '.', '_', "
		    "'-'; at most 64)",
		    name.val);
	} else if (ew_conf_relay_find(cs->c, name.val) != NULL) {
		idx = (size_t)(ew_conf_relay_find(cs->c, name.val) -
			       cs->c->relays);
		TOKERR(cs, &name, "relay '%s' declared twice", name.val);
		diag(cs, EW_SEV_NOTE, cs->relname[idx].line,
		    cs->relname[idx].first, cs->relname[idx].last,
		    "first declared here");
	} else if (cs->c->n_relays >= EW_CONF_MAX_RELAYS) {
		TOKERR(cs, &name, "more than %d relays", EW_CONF_MAX_RELAYS);
	} else if ((r = relay_push(cs->c, name.val)) == NULL) {
		cs->oom = 1;
	} else {
		r->line = rline;
		idx = cs->c->n_relays - 1;
		cs->relname[idx].line = name.line;
		cs->relname[idx].first = name.first;
		cs->relname[idx].last = name.last;
	}
	lex(cs, &br);
	if (br.kind != T_LBRACE) {
		unexpected(cs, &br, "; expected '{' after the relay's name");
		tok_free(&name);
		tok_free(t);
		*t = br;
		skip_line(cs, t);
		/* without its '{' the block's lines are read as top-level
		 * ones, each reported */
		if (r != NULL)
			(void)relay_debian(r);
		return;
	}
	tok_free(&name);
	tok_free(t);
	lex(cs, t);
	if (t->kind != T_NL && t->kind != T_EOF) {
		unexpected(cs, t, " after '{'");
		skip_line(cs, t);
	}
	for (;;) {
		if (t->kind == T_EOF) {
			diag(cs, EW_SEV_ERROR, rline, rfirst, rlast,
			    "relay block not closed: missing '}'");
			break;
		}
		tok_free(t);
		lex(cs, t);
		if (t->kind == T_NL || t->kind == T_EOF)
			continue;
		if (t->kind == T_RBRACE) {
			tok_free(t);
			lex(cs, t);
			if (t->kind != T_NL && t->kind != T_EOF) {
				unexpected(cs, t, " after '}'");
				skip_line(cs, t);
			}
			break;
		}
		if (t->kind == T_WORD && strcmp(t->val, "relay") == 0) {
			TOKERR(cs, t,
			    "'relay' inside a relay block (a '}' "
			    "missing above?)");
			skip_line(cs, t);
			continue;
		}
		if (t->kind != T_WORD) {
			unexpected(cs, t, "");
			skip_line(cs, t);
			continue;
		}
		if (r != NULL)
			setting(cs, t, relay_keys, N_RKEYS, r,
			    cs->rel[r - cs->c->relays], " for a relay");
		else
			skip_line(cs, t);
	}
	if (r != NULL) {
		if (r->cookie != NULL && r->password_file != NULL) {
			struct where *w = cs->rel[r - cs->c->relays];

			diag(cs, EW_SEV_ERROR, w[3].line, w[3].first, w[3].last,
			    "'cookie' and 'password-file' exclude each other");
		}
		had_user = r->user != NULL;
		if (relay_debian(r) != 0) {
			cs->oom = 1;
		} else if (!had_user && !user_ok(r->user)) {
			idx = (size_t)(r - cs->c->relays);
			diag(cs, EW_SEV_ERROR, cs->relname[idx].line,
			    cs->relname[idx].first, cs->relname[idx].last,
			    "relay name '%s' makes no valid instance user "
			    "'%s' (at most 64 characters): give 'user'",
			    r->name, r->user);
		}
	}
}

/* Two relays sharing a control socket, torrc, fragment or managed
 * policy would undo each other. */
static void
cross_check(struct cstate *cs)
{
	static const size_t fields[] = { 0, 1, 5, 6 };
	const struct ew_conf *c = cs->c;
	size_t i, j, k;

	for (i = 0; i < c->n_relays; i++)
		for (j = 0; j < i; j++)
			for (k = 0; k < sizeof(fields) / sizeof(*fields); k++) {
				const struct key *key = &relay_keys[fields[k]];
				const char *a = *FIELD(&c->relays[i], key->off);
				const char *b = *FIELD(&c->relays[j], key->off);
				struct where w = cs->rel[i][fields[k]];

				if (a == NULL || b == NULL || strcmp(a, b) != 0)
					continue;
				if (w.line == 0)
					w = cs->relname[i];
				diag(cs, EW_SEV_ERROR, w.line, w.first, w.last,
				    "relay '%s' has the %s '%s' of relay "
				    "'%s'",
				    c->relays[i].name, key->name, a,
				    c->relays[j].name);
			}
}

static void
parse(struct cstate *cs)
{
	struct tok t;

	lex(cs, &t);
	while (t.kind != T_EOF && !cs->oom) {
		if (t.kind == T_NL) {
			lex(cs, &t);
			continue;
		}
		if (t.kind == T_WORD && strcmp(t.val, "relay") == 0)
			relay_block(cs, &t);
		else if (t.kind == T_WORD)
			setting(cs, &t, top_keys, N_TOP, cs->c, cs->top, "");
		else {
			unexpected(cs, &t, "");
			skip_line(cs, &t);
		}
		tok_free(&t);
		if (t.kind != T_EOF)
			lex(cs, &t);
	}
	tok_free(&t);
	if (!cs->oom)
		cross_check(cs);
}

struct ew_conf *
ew_conf_new(void)
{
	return calloc(1, sizeof(struct ew_conf));
}

int
ew_conf_parse(const char *name, const char *text, size_t len,
    struct ew_diag_list *d, struct ew_conf **out)
{
	struct cstate cs;
	int rc = 0;

	*out = NULL;
	memset(&cs, 0, sizeof(cs));
	cs.d = d;
	cs.nerr0 = d->nerr;
	cs.src = ew_src_new(name, text, len);
	cs.c = ew_conf_new();
	cs.rel = calloc(EW_CONF_MAX_RELAYS, sizeof(*cs.rel));
	cs.relname = calloc(EW_CONF_MAX_RELAYS, sizeof(*cs.relname));
	if (cs.src == NULL || cs.c == NULL || cs.rel == NULL ||
	    cs.relname == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	cs.p = cs.bol = text;
	cs.end = text + len;
	cs.line = 1;
	parse(&cs);
	if (cs.oom) {
		ew_diag_add(d, EW_SEV_ERROR, NULL, "out of memory");
		rc = -ENOMEM;
	} else if (d->nerr > cs.nerr0) {
		rc = -EINVAL;
	} else if ((cs.c->path = strdup(name)) == NULL) {
		rc = -ENOMEM;
	}
out:
	if (rc == 0) {
		*out = cs.c;
		cs.c = NULL;
	}
	ew_conf_free(cs.c);
	free(cs.rel);
	free(cs.relname);
	ew_src_free(cs.src);
	return rc;
}

int
ew_conf_load(const char *path, struct ew_diag_list *d, struct ew_conf **out)
{
	struct ew_file f;
	struct ew_loc loc;
	struct ew_src *src;
	int rc;

	*out = NULL;
	rc = ew_file_load(path, 0, EW_CONF_MAX_SIZE, &f);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0) {
		src = ew_src_new(path, NULL, 0);
		memset(&loc, 0, sizeof(loc));
		loc.src = src;
		ew_diag_add(d, EW_SEV_ERROR, src ? &loc : NULL,
		    "cannot read the configuration: %s",
		    rc == -EFBIG ? "larger than 1 MiB" : f.why);
		ew_src_free(src);
		return rc;
	}
	rc = ew_conf_parse(path, f.text, f.len, d, out);
	free(f.text);
	return rc;
}

void
ew_conf_free(struct ew_conf *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_relays; i++) {
		free(c->relays[i].name);
		for (k = 0; k < N_RKEYS; k++)
			free(*FIELD(&c->relays[i], relay_keys[k].off));
	}
	free(c->relays);
	for (k = 0; k < N_TOP; k++)
		free(*FIELD(c, top_keys[k].off));
	free(c->path);
	free(c);
}

/* ---- writing it back ---- */

static void
put_value(struct ew_buf *b, const char *indent, const char *key, const char *v)
{
	if (v == NULL)
		return;
	ew_buf_printf(b, "%s%s \"", indent, key);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			ew_buf_putc(b, '\\');
		ew_buf_putc(b, *v);
	}
	ew_buf_puts(b, "\"\n");
}

int
ew_conf_format(const struct ew_conf *c, struct ew_buf *b)
{
	size_t i, k;

	for (k = 0; k < N_TOP; k++)
		put_value(b, "", top_keys[k].name, *FIELD(c, top_keys[k].off));
	for (i = 0; i < c->n_relays; i++) {
		ew_buf_printf(
		    b, "%srelay %s {\n", b->len ? "\n" : "", c->relays[i].name);
		for (k = 0; k < N_RKEYS; k++)
			put_value(b, "\t", relay_keys[k].name,
			    *FIELD(&c->relays[i], relay_keys[k].off));
		ew_buf_puts(b, "}\n");
	}
	return b->oom ? -ENOMEM : 0;
}
