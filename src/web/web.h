/*
 * web.h - the exit's web face (`exitwarden serve`, issue 15): the exit
 * notice page, self-service block requests and Prometheus metrics.
 *
 * The module reads the store and writes requests to it; it never holds
 * CAP_NET_ADMIN and never talks to tor: the daemon (`run`) applies the
 * blocks it stores.  A request is handled by ew_web_handle, a pure
 * function of the request (method, path, source address, body, a few
 * headers), the store and `now`; http.c (the only file that includes
 * libmicrohttpd) turns sockets into requests, with every input bounded.
 *
 * Every text that came from outside (the store, the request) reaches
 * HTML through lib/esc.c's HTML sink only.  Pages come from templates
 * (a directory, for translations) with {{name}} fields filled in.
 *
 * Nothing here prints or exits.  Nothing about a requester is kept
 * beyond the block itself: the rate limiter holds hashed counters in
 * memory, the store holds used token ids without addresses.
 */
#ifndef EW_WEB_WEB_H
#define EW_WEB_WEB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/port.h"

struct ew_diag_list;
struct ew_store;

/* Bounds on what a request may carry. */
#define EW_WEB_MAX_BODY 4096  /* bytes of a POST body */
#define EW_WEB_MAX_HEADERS 48 /* header fields of a request */
#define EW_WEB_MAX_FIELDS 8   /* fields of a form */
#define EW_WEB_MAX_VALUE 512  /* bytes of a decoded field value */
#define EW_WEB_MAX_PORTS 8    /* port ranges of one request */
#define EW_WEB_MAX_RELAYS 16  /* fingerprints on the page */
#define EW_WEB_TOKEN_TTL 600  /* seconds a form token is good for */
#define EW_WEB_KEY_MIN 32     /* bytes of a token key */
#define EW_WEB_KEY_MAX 256

/*
 * The settings of serve: the command line fills them today, the
 * configuration file (issue 13) can later.  Strings are borrowed.
 */
struct ew_web_conf {
	const char *listen; /* "ADDR:PORT", "[ADDR]:PORT" (cli binds) */
	const char *contact;
	const char *notice_dir; /* templates; NULL: the built-in ones */
	unsigned char key[EW_WEB_KEY_MAX]; /* token key */
	size_t keylen;
	const char *metrics_token;         /* bearer token, or NULL: open */
	unsigned max_prefix4, max_prefix6; /* largest prefix: /24, /48 */
	int confirm;                       /* blocks wait for the operator */
	int64_t block_ttl;    /* seconds a self-service block lasts */
	unsigned cap_per;     /* self-service blocks covering one source */
	unsigned cap_total;   /* self-service blocks in all */
	unsigned rate_burst;  /* block requests per source in rate_window */
	unsigned rate_window; /* seconds */
	const char *relays[EW_WEB_MAX_RELAYS]; /* fingerprints */
	size_t nrelays;
	unsigned conn_limit, per_ip_limit, timeout; /* http.c */
	int64_t (*clock)(void); /* now, for http.c; NULL: time() */
};
/* The defaults above (max prefixes 24/48, 90 days, caps 4 and 256, 10
 * requests a source per 10 minutes, 512 connections, 16 per address,
 * 10 s), no key. */
void ew_web_conf_init(struct ew_web_conf *c);

struct ew_web;

/*
 * A web face over an open store with conf (copied; its strings must
 * outlive the web face).  Templates are read from conf->notice_dir;
 * a template with an unknown {{field}} or one missing is an error on
 * diags.  -EINVAL without a key.
 */
int ew_web_new(const struct ew_web_conf *conf, struct ew_store *st,
    struct ew_diag_list *diags, struct ew_web **out);
void ew_web_free(struct ew_web *w);

/* One request, as http.c hands it over. */
struct ew_web_req {
	const char *method; /* "GET", "HEAD", "POST", ... */
	const char *path;   /* without the query */
	struct ew_addr src; /* IPv4-mapped addresses given as IPv4 */
	const char *body;
	size_t body_len;
	const char *content_type;  /* or NULL */
	const char *authorization; /* or NULL */
	int64_t now;
};

/* The answer: status, content type, headers besides the security
 * ones (which http.c adds to every answer), body. */
struct ew_web_resp {
	int status;
	const char *content_type;
	const char *cache_control;
	const char *allow;    /* for 405 */
	const char *www_auth; /* for 401 */
	struct ew_buf body;
};

/* Handle one request; resp->body is the caller's to free
 * (ew_web_resp_free).  Never fails: errors are answers. */
void ew_web_handle(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *resp);
void ew_web_resp_free(struct ew_web_resp *r);

/* The security headers every answer carries, name/value pairs ending
 * in a NULL name. */
extern const char *const ew_web_sec_headers[];

/*
 * A listening TCP socket on `listen` ("ADDR:PORT", "[ADDR6]:PORT"),
 * made before privileges are dropped: the descriptor, or a negative
 * errno value with the reason on diags.
 */
int ew_web_bind(const char *listen, struct ew_diag_list *diags);
/*
 * Serve on the listening socket fd (ew_web_bind's, or systemd's) until
 * *stop is set (http.c): 0, or a negative errno value with the reason
 * on diags.  The socket is closed when it returns.
 */
int ew_web_serve(struct ew_web *w, int fd, volatile sig_atomic_t *stop,
    struct ew_diag_list *diags);

/* ---- parsers (form.c), pure: the fuzz target's entry points ---- */

struct ew_web_field {
	char name[32];
	char value[EW_WEB_MAX_VALUE + 1];
	size_t len;
};
/*
 * An application/x-www-form-urlencoded body: at most max fields, names
 * up to 31 bytes, values up to EW_WEB_MAX_VALUE bytes decoded ('+' as
 * space, %XX).  0 and *n; -EINVAL (a bad escape, a NUL, a name too
 * long), -E2BIG (too many fields, a value too long).
 */
int ew_web_form_parse(
    const char *s, size_t len, struct ew_web_field *f, size_t max, size_t *n);
/* The value of the field `name`, or NULL. */
const char *ew_web_form_get(
    const struct ew_web_field *f, size_t n, const char *name);

/* What a requester asks to block. */
struct ew_web_target {
	struct ew_addr addr; /* host bits cleared */
	unsigned bits;
	struct ew_port_range ports[EW_WEB_MAX_PORTS];
	size_t nports; /* 0: every port */
};
/*
 * "ADDR" or "ADDR/LEN" (IPv4, IPv6 with or without brackets; blanks
 * around it ignored) and a port list "80,443,8000-8100" (blank or
 * "*": every port; blanks after commas allowed).  0, or -EINVAL with a
 * short reason in *why.
 */
int ew_web_target_parse(const char *target, const char *ports,
    struct ew_web_target *t, const char **why);
/* The policy lines of a target ("reject 192.0.2.7:80", "reject6
 * [2001:db8::]/48:*"), one per port range, each into out[i] (caller
 * frees); the count. */
size_t ew_web_target_rules(const struct ew_web_target *t, char **out);
/* Whether the target contains addr, and is no wider than the largest
 * prefix of its family. */
int ew_web_target_covers(const struct ew_web_target *t,
    const struct ew_addr *addr, unsigned max4, unsigned max6);

#endif
