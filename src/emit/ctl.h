/*
 * ctl.h - tor's ControlPort: a pure reply parser and a small client.
 *
 * The parser (ctl_proto.c) does no I/O: bytes go in with
 * ew_ctl_parser_feed(), complete replies come out of
 * ew_ctl_parser_next().  It follows control-spec section 2.3 strictly:
 * every line is three digits, a separator (' ' last line, '-' mid-reply,
 * '+' data follows) and text, ended by CRLF; a data block ends with a
 * line that is a lone "."; a data line starting with "." loses that dot.
 * All lines of one reply carry the same code.  Replies whose code starts
 * with 6 are asynchronous events and are flagged as such.  Bounds: a line
 * longer than EW_CTL_MAX_LINE bytes, or a reply (or the replies waiting
 * to be taken) longer than EW_CTL_MAX_REPLY bytes, is an error.  After an
 * error the parser refuses everything; the message says what was wrong.
 *
 * The client (ctl.c) connects to a TCP "host:port" or a Unix socket path,
 * authenticates (SAFECOOKIE, COOKIE, HASHEDPASSWORD, NULL) and sends
 * GETINFO, GETCONF, SETCONF, RESETCONF and SIGNAL.  Every wait is bounded
 * by the timeout given to ew_ctl_new().  Functions return 0 or a negative
 * code (-errno for a system error, or an EW_CTL_E* value) and leave a
 * message for ew_ctl_error(); nothing is printed.  Passwords and cookies
 * never appear in messages.
 */
#ifndef EW_EMIT_CTL_H
#define EW_EMIT_CTL_H

#include <stddef.h>

#define EW_CTL_MAX_LINE (64u * 1024)
#define EW_CTL_MAX_REPLY (16u * 1024 * 1024)

/* Our own error codes (negative errno values are used as well). */
enum {
	EW_CTL_EPROTO = -1001,   /* malformed reply, or one we did not expect */
	EW_CTL_EREFUSED = -1002, /* tor answered with an error code */
	EW_CTL_EAUTH = -1003,    /* authentication failed or impossible */
	EW_CTL_ECLOSED = -1004,  /* tor closed the connection */
	EW_CTL_EARG = -1005,     /* a value we cannot send */
};

/* One line of a reply.  text is the part after the separator; data is
 * the dot-unstuffed data block of a '+' line, lines joined by "\n" with
 * a final "\n", or NULL for other lines. */
struct ew_ctl_line {
	int code;
	char sep; /* ' ', '-' or '+' */
	char *text;
	char *data;
	size_t datalen;
};

struct ew_ctl_reply {
	int code;  /* the status code, 100..699 */
	int async; /* 1 for an asynchronous event (6yz) */
	struct ew_ctl_line *lines;
	size_t n;
	size_t size; /* bytes it took on the wire */
};

void ew_ctl_reply_free(struct ew_ctl_reply *r);

struct ew_ctl_parser;

/* NULL on allocation failure. */
struct ew_ctl_parser *ew_ctl_parser_new(void);
void ew_ctl_parser_free(struct ew_ctl_parser *p);
/* Take n more bytes.  0, or a negative code once the stream is bad. */
int ew_ctl_parser_feed(struct ew_ctl_parser *p, const void *data, size_t n);
/* 1 and the oldest complete reply (the caller frees it), 0 if none is
 * complete yet, or a negative code after an error. */
int ew_ctl_parser_next(struct ew_ctl_parser *p, struct ew_ctl_reply **out);
/* 1 if a reply has started but is not complete. */
int ew_ctl_parser_pending(const struct ew_ctl_parser *p);
/* What went wrong ("" when nothing did). */
const char *ew_ctl_parser_error(const struct ew_ctl_parser *p);

/*
 * Quote a value as a control-spec QuotedString ("..." with \\ and \"
 * escaped); appends to out.  -EW_CTL_EARG-style failure (EW_CTL_EARG)
 * for bytes tor's parser would not take back (CR, LF, NUL).
 */
struct ew_buf;
int ew_ctl_quote(struct ew_buf *out, const char *s);

/* The client. */
struct ew_ctl;

/* A client whose every wait is bounded by timeout_ms; NULL on
 * allocation failure. */
struct ew_ctl *ew_ctl_new(int timeout_ms);
void ew_ctl_free(struct ew_ctl *c);
/* The message of the last failure. */
const char *ew_ctl_error(const struct ew_ctl *c);

/* Connect to "host:port", "[v6]:port", or a path (anything containing
 * a '/') for a Unix socket. */
int ew_ctl_connect(struct ew_ctl *c, const char *where);
/* Where we are connected ("" before). */
const char *ew_ctl_where(const struct ew_ctl *c);

/*
 * The effective uid of the process that listens on the other end: on a
 * Unix socket the peer's (SO_PEERCRED, then its /proc status, since tor
 * may have dropped privileges since it listened); on TCP the processes
 * that hold the listening socket (/proc/net/tcp*, /proc/PID/fd), which
 * must all run as one user.  0 or a negative code (-ESRCH: not found,
 * e.g. another user's processes we may not look into).
 */
int ew_ctl_peer_uid(struct ew_ctl *c, unsigned *uid);
/* The same for a connected socket (ctl_peer.c). */
int ew_ctl_sock_owner(int fd, unsigned *uid);

/*
 * How to authenticate.  All NULL: whatever PROTOCOLINFO offers (NULL,
 * SAFECOOKIE, COOKIE, in that order, the cookie file tor names).
 *
 * Whoever listens on the control port may be a fake tor (127.0.0.1:9051
 * is free to any local user while tor is down), so the cookie file it
 * names is read only when it is the one the operator gave (cookie_file),
 * one of `trusted` (the files tor's configuration names), or a regular
 * file, not a symbolic link, owned by the user the listening process
 * runs as (SO_PEERCRED on a Unix socket; on TCP the process holding the
 * listening socket, from /proc); always exactly 32 bytes.  SAFECOOKIE
 * is used whenever it is offered (tor must prove it knows the cookie
 * before we send anything derived from it); plain COOKIE, which sends
 * the cookie itself, only when the listener's user owns the file.
 */
struct ew_ctl_auth {
	const char *cookie_file;    /* overrides tor's COOKIEFILE */
	const char *password;       /* use HASHEDPASSWORD */
	const char *const *trusted; /* NULL-terminated, or NULL */
};

/* PROTOCOLINFO then AUTHENTICATE.  *method is set to the method used
 * ("NULL", "SAFECOOKIE", "COOKIE", "HASHEDPASSWORD") when not NULL. */
int ew_ctl_authenticate(
    struct ew_ctl *c, const struct ew_ctl_auth *a, const char **method);

/* The tor version PROTOCOLINFO reported, or "". */
const char *ew_ctl_tor_version(const struct ew_ctl *c);

/* Send one command line (no CRLF) and read its reply, skipping async
 * events.  0 whatever tor's code; *out is the reply to free. */
int ew_ctl_command(
    struct ew_ctl *c, const char *line, struct ew_ctl_reply **out);

/* GETINFO of one key; *value (caller frees) is the value, a data block
 * without its last newline.  EW_CTL_EREFUSED when tor said no; then
 * *code, when not NULL, is tor's code. */
int ew_ctl_getinfo(struct ew_ctl *c, const char *key, char **value, int *code);

/* A configuration key and its value; value NULL is a bare key. */
struct ew_ctl_kv {
	char *key;
	char *value;
};

void ew_ctl_kv_free(struct ew_ctl_kv *kv, size_t n);

/* SETCONF with the pairs in order (values quoted). */
int ew_ctl_setconf(struct ew_ctl *c, const struct ew_ctl_kv *kv, size_t n);
/* RESETCONF of the keys. */
int ew_ctl_resetconf(struct ew_ctl *c, const char *const *keys, size_t n);
/* GETCONF of the keys; *out (free with ew_ctl_kv_free) gets one pair per
 * value tor reported, value NULL when the option is unset. */
int ew_ctl_getconf(struct ew_ctl *c, const char *const *keys, size_t n,
    struct ew_ctl_kv **out, size_t *nout);
/* SIGNAL name. */
int ew_ctl_signal(struct ew_ctl *c, const char *name);

#endif
