/*
 * ctl.c - the ControlPort client: connect, authenticate, send commands,
 * read replies through the pure parser of ctl_proto.c.
 *
 * The socket is non-blocking and every wait goes through poll() with
 * what is left of a deadline, so no call blocks longer than the timeout
 * given to ew_ctl_new().  Asynchronous events (6yz) that arrive while we
 * wait for a reply are dropped: we never ask for any.  This is the only
 * file that includes OpenSSL (HMAC-SHA256 for SAFECOOKIE, and a
 * constant-time compare); credentials are wiped after use and never
 * copied into messages.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/digest.h"
#include "emit/ctl.h"

#define COOKIE_LEN 32
#define NONCE_LEN 32

struct ew_ctl {
	int fd;
	int timeout_ms;
	struct ew_ctl_parser *p;
	char version[64];
	char *cookiefile; /* from PROTOCOLINFO */
	char where[128];  /* what we connected to */
	char msg[512];
};

static int seterr(struct ew_ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(struct ew_ctl *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return code;
}

struct ew_ctl *
ew_ctl_new(int timeout_ms)
{
	struct ew_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->p = ew_ctl_parser_new();
	if (c->p == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
ew_ctl_free(struct ew_ctl *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	ew_ctl_parser_free(c->p);
	free(c->cookiefile);
	free(c);
}

const char *
ew_ctl_error(const struct ew_ctl *c)
{
	return c->msg;
}

const char *
ew_ctl_where(const struct ew_ctl *c)
{
	return c->where;
}

const char *
ew_ctl_tor_version(const struct ew_ctl *c)
{
	return c->version;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on the socket until deadline; 0, or -ETIMEDOUT. */
static int
wait_fd(struct ew_ctl *c, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { c->fd, events, 0 };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int
connect_addr(struct ew_ctl *c, const struct sockaddr *sa, socklen_t len,
    const char *where)
{
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(
	    sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(
		    c, -errno, "cannot create a socket: %s", strerror(errno));
	c->fd = fd;
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		rc = -errno;
		goto fail;
	}
	rc = wait_fd(c, POLLOUT, now_ms() + c->timeout_ms);
	if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		rc = -errno;
	else if (rc == 0 && soerr != 0)
		rc = -soerr;
	if (rc == 0)
		return 0;
fail:
	close(fd);
	c->fd = -1;
	return seterr(c, rc, "cannot connect to tor's control port %s: %s",
	    where, strerror(-rc));
}

int
ew_ctl_connect(struct ew_ctl *c, const char *where)
{
	if (c->fd >= 0)
		return seterr(c, EW_CTL_EARG, "already connected");
	snprintf(c->where, sizeof(c->where), "%s", where);
	if (strchr(where, '/') != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(where) >= sizeof(sun.sun_path))
			return seterr(c, EW_CTL_EARG,
			    "control socket path '%s' is too long", where);
		memcpy(sun.sun_path, where, strlen(where) + 1);
		return connect_addr(
		    c, (const struct sockaddr *)&sun, sizeof(sun), where);
	} else {
		struct addrinfo hints, *res = NULL;
		char host[256];
		const char *colon = strrchr(where, ':');
		size_t hn;
		int rc;

		if (colon == NULL || colon == where || colon[1] == '\0')
			return seterr(c, EW_CTL_EARG,
			    "malformed control address '%s' (use HOST:PORT or "
			    "a socket path)",
			    where);
		hn = (size_t)(colon - where);
		if (where[0] == '[' && hn >= 2 && where[hn - 1] == ']') {
			where++;
			hn -= 2;
		}
		if (hn >= sizeof(host))
			return seterr(
			    c, EW_CTL_EARG, "control host name too long");
		memcpy(host, where, hn);
		host[hn] = '\0';
		if (strcmp(host, "localhost") == 0)
			memcpy(host, "127.0.0.1", 10);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		/* numeric only: a name lookup could block past our
		 * timeout */
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		rc = getaddrinfo(host, colon + 1, &hints, &res);
		if (rc != 0 || res == NULL)
			return seterr(c, EW_CTL_EARG,
			    "malformed control address '%s': %s", host,
			    gai_strerror(rc));
		rc = connect_addr(c, res->ai_addr, res->ai_addrlen, colon + 1);
		freeaddrinfo(res);
		return rc;
	}
}

static int
send_all(struct ew_ctl *c, const char *s, size_t n)
{
	int64_t deadline = now_ms() + c->timeout_ms;

	if (c->fd < 0)
		return seterr(c, -ENOTCONN, "not connected");
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		int rc;

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return seterr(c, -errno,
			    "cannot write to tor's control port: %s",
			    strerror(errno));
		if ((rc = wait_fd(c, POLLOUT, deadline)) < 0)
			return seterr(
			    c, rc, "timed out writing to tor's control port");
	}
	return 0;
}

/* The next reply that is not an event. */
static int
read_reply(struct ew_ctl *c, struct ew_ctl_reply **out)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	char buf[16384];

	for (;;) {
		struct ew_ctl_reply *r;
		ssize_t n;
		int rc = ew_ctl_parser_next(c->p, &r);

		if (rc < 0)
			return seterr(c, rc, "bad reply from tor: %s",
			    ew_ctl_parser_error(c->p));
		if (rc == 1) {
			if (!r->async) {
				*out = r;
				return 0;
			}
			ew_ctl_reply_free(r);
			continue;
		}
		if ((rc = wait_fd(c, POLLIN, deadline)) < 0)
			return seterr(c, rc,
			    "timed out waiting for tor's reply (%d ms)",
			    c->timeout_ms);
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return seterr(c, EW_CTL_ECLOSED,
			    "tor closed the control connection");
		if (n < 0)
			return seterr(c, -errno,
			    "cannot read from tor's control port: %s",
			    strerror(errno));
		if (ew_ctl_parser_feed(c->p, buf, (size_t)n) < 0)
			return seterr(c, EW_CTL_EPROTO,
			    "bad reply from tor: %s",
			    ew_ctl_parser_error(c->p));
	}
}

int
ew_ctl_command(struct ew_ctl *c, const char *line, struct ew_ctl_reply **out)
{
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	*out = NULL;
	if (strpbrk(line, "\r\n") != NULL)
		return seterr(c, EW_CTL_EARG, "command contains a line break");
	ew_buf_puts(&b, line);
	ew_buf_puts(&b, "\r\n");
	if (b.oom) {
		ew_buf_free(&b);
		return seterr(c, -ENOMEM, "out of memory");
	}
	rc = send_all(c, b.p, b.len);
	ew_cleanse(b.p, b.len); /* it may hold a credential */
	ew_buf_free(&b);
	if (rc < 0)
		return rc;
	return read_reply(c, out);
}

/* The text of a reply's last line, for messages. */
static const char *
last_text(const struct ew_ctl_reply *r)
{
	return r->n > 0 ? r->lines[r->n - 1].text : "";
}

/* Run a command that must answer 250; `what` names it in messages. */
static int
simple(struct ew_ctl *c, const char *line, const char *what)
{
	struct ew_ctl_reply *r;
	int rc = ew_ctl_command(c, line, &r);

	if (rc < 0)
		return rc;
	if (r->code != 250)
		rc = seterr(c, EW_CTL_EREFUSED, "%s: tor said %d %s", what,
		    r->code, last_text(r));
	ew_ctl_reply_free(r);
	return rc;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, size_t n, unsigned char *out)
{
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		int v;
		char ch = s[i];

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* A QuotedString at s (s[0] == '"'); *end past it.  NULL if malformed. */
static char *
unquote(const char *s, const char **end)
{
	struct ew_buf b = EW_BUF_INIT;
	const char *q;

	for (q = s + 1; *q != '\0' && *q != '"'; q++) {
		if (*q == '\\' && q[1] != '\0')
			q++;
		ew_buf_putc(&b, *q);
	}
	if (*q != '"') {
		ew_buf_free(&b);
		return NULL;
	}
	*end = q + 1;
	return ew_buf_detach(&b);
}

/* Methods offered. */
#define M_NULL 1
#define M_COOKIE 2
#define M_SAFECOOKIE 4
#define M_PASSWORD 8

static int
protocolinfo(struct ew_ctl *c, int *methods)
{
	struct ew_ctl_reply *r;
	size_t i;
	int rc = ew_ctl_command(c, "PROTOCOLINFO 1", &r);

	*methods = 0;
	if (rc < 0)
		return rc;
	if (r->code != 250) {
		rc = seterr(c, EW_CTL_EREFUSED, "PROTOCOLINFO: tor said %d %s",
		    r->code, last_text(r));
		ew_ctl_reply_free(r);
		return rc;
	}
	for (i = 0; i < r->n; i++) {
		const char *t = r->lines[i].text, *m, *e;

		if (strncmp(t, "AUTH METHODS=", 13) == 0) {
			m = t + 13;
			e = m + strcspn(m, " ");
			for (; m < e;
			     m += strcspn(m, ",") + (m[strcspn(m, ",")] == ','))
				if (strncmp(m, "NULL", 4) == 0 &&
				    (m[4] == ',' || m + 4 == e))
					*methods |= M_NULL;
				else if (strncmp(m, "COOKIE", 6) == 0 &&
					 (m[6] == ',' || m + 6 == e))
					*methods |= M_COOKIE;
				else if (strncmp(m, "SAFECOOKIE", 10) == 0)
					*methods |= M_SAFECOOKIE;
				else if (strncmp(m, "HASHEDPASSWORD", 14) == 0)
					*methods |= M_PASSWORD;
			m = strstr(t, "COOKIEFILE=\"");
			if (m != NULL) {
				free(c->cookiefile);
				c->cookiefile = unquote(m + 11, &e);
			}
		} else if (strncmp(t, "VERSION Tor=\"", 13) == 0) {
			char *v = unquote(t + 12, &e);

			if (v != NULL)
				snprintf(
				    c->version, sizeof(c->version), "%s", v);
			free(v);
		}
	}
	ew_ctl_reply_free(r);
	return 0;
}

int
ew_ctl_peer_uid(struct ew_ctl *c, unsigned *uid)
{
	int rc;

	if (c->fd < 0)
		return seterr(c, -ENOTCONN, "not connected");
	rc = ew_ctl_sock_owner(c->fd, uid);
	if (rc < 0)
		return seterr(c, rc,
		    "cannot tell which user listens on %s (%s)", c->where,
		    rc == -ESRCH   ? "no such listening socket seen"
		    : rc == -EPERM ? "held by processes of several users"
				   : strerror(-rc));
	return 0;
}

static int
listed(const char *const *v, const char *path)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, path) == 0)
			return 1;
	return 0;
}

/*
 * Read the 32-byte cookie at path.  given: the operator named it (a
 * symbolic link is followed).  owned: it must belong to the user the
 * control port's listener runs as (or that user is root), checked on
 * the file itself before a byte is read.  Only a regular file of
 * exactly 32 bytes is opened, non-blocking, and it must still be the
 * file that was checked.
 */
static int
read_cookie(struct ew_ctl *c, const char *path, int given, int owned,
    unsigned char *cookie)
{
	unsigned char extra[COOKIE_LEN + 1];
	struct stat sb, fsb;
	unsigned uid = 0;
	ssize_t n;
	int fd, rc;

	if (owned && (rc = ew_ctl_peer_uid(c, &uid)) < 0)
		return seterr(c, EW_CTL_EAUTH,
		    "refusing the cookie file '%s' that %s names: %s; give "
		    "--cookie FILE",
		    path, c->where, c->msg);
	if ((given ? stat(path, &sb) : lstat(path, &sb)) < 0)
		return seterr(c, -errno, "cannot read the cookie file '%s': %s",
		    path, strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size != COOKIE_LEN)
		return seterr(c, EW_CTL_EAUTH,
		    "cookie file '%s' is not a regular file of %d bytes", path,
		    COOKIE_LEN);
	if (owned && uid != 0 && sb.st_uid != uid)
		return seterr(c, EW_CTL_EAUTH,
		    "refusing the cookie file '%s' that %s names: it belongs "
		    "to uid %u, not to uid %u that listens there (a fake "
		    "control port?); give --cookie FILE",
		    path, c->where, (unsigned)sb.st_uid, uid);
	fd = open(
	    path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (given ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return seterr(c, -errno, "cannot read the cookie file '%s': %s",
		    path, strerror(errno));
	if (fstat(fd, &fsb) < 0 || fsb.st_dev != sb.st_dev ||
	    fsb.st_ino != sb.st_ino) {
		close(fd);
		return seterr(c, EW_CTL_EAUTH,
		    "cookie file '%s' changed while it was read", path);
	}
	n = read(fd, extra, sizeof(extra));
	close(fd);
	if (n != COOKIE_LEN) {
		ew_cleanse(extra, sizeof(extra));
		return seterr(c, EW_CTL_EAUTH,
		    "cookie file '%s' is not %d bytes long", path, COOKIE_LEN);
	}
	memcpy(cookie, extra, COOKIE_LEN);
	ew_cleanse(extra, sizeof(extra));
	return 0;
}

static int
hmac256(
    const char *key, const unsigned char *msg, size_t n, unsigned char out[32])
{
	return ew_hmac_sha256(key, strlen(key), msg, n, out) != 0 ? -1 : 0;
}

static int
safecookie(struct ew_ctl *c, const unsigned char *cookie)
{
	static const char s2c[] =
	    "Tor safe cookie authentication server-to-controller hash";
	static const char c2s[] =
	    "Tor safe cookie authentication controller-to-server hash";
	unsigned char msg[COOKIE_LEN + 2 * NONCE_LEN], shash[32], mine[32];
	char line[2 * NONCE_LEN + 1], cmd[160];
	struct ew_ctl_reply *r;
	const char *t, *h, *sn;
	int rc;

	memcpy(msg, cookie, COOKIE_LEN);
	if (getrandom(msg + COOKIE_LEN, NONCE_LEN, 0) != NONCE_LEN)
		return seterr(c, -EIO, "cannot get random bytes for a nonce");
	hex(msg + COOKIE_LEN, NONCE_LEN, line);
	snprintf(cmd, sizeof(cmd), "AUTHCHALLENGE SAFECOOKIE %s", line);
	if ((rc = ew_ctl_command(c, cmd, &r)) < 0)
		goto out;
	t = last_text(r);
	h = strstr(t, "SERVERHASH=");
	sn = strstr(t, "SERVERNONCE=");
	if (r->code != 250 || strncmp(t, "AUTHCHALLENGE ", 14) != 0 ||
	    h == NULL || sn == NULL || unhex(h + 11, 32, shash) < 0 ||
	    unhex(sn + 12, NONCE_LEN, msg + COOKIE_LEN + NONCE_LEN) < 0) {
		rc = seterr(c, EW_CTL_EAUTH, "AUTHCHALLENGE: tor said %d %s",
		    r->code, t);
		ew_ctl_reply_free(r);
		goto out;
	}
	ew_ctl_reply_free(r);
	if (hmac256(s2c, msg, sizeof(msg), mine) < 0) {
		rc = seterr(c, EW_CTL_EAUTH, "HMAC-SHA256 failed");
		goto out;
	}
	if (ew_ct_memcmp(mine, shash, 32) != 0) {
		rc = seterr(c, EW_CTL_EAUTH,
		    "tor's SAFECOOKIE server hash is wrong: the cookie file "
		    "is not this tor's");
		goto out;
	}
	if (hmac256(c2s, msg, sizeof(msg), mine) < 0) {
		rc = seterr(c, EW_CTL_EAUTH, "HMAC-SHA256 failed");
		goto out;
	}
	hex(mine, 32, line);
	snprintf(cmd, sizeof(cmd), "AUTHENTICATE %s", line);
	rc = simple(c, cmd, "AUTHENTICATE");
out:
	ew_cleanse(msg, sizeof(msg));
	ew_cleanse(mine, sizeof(mine));
	ew_cleanse(line, sizeof(line));
	ew_cleanse(cmd, sizeof(cmd));
	return rc;
}

int
ew_ctl_authenticate(
    struct ew_ctl *c, const struct ew_ctl_auth *a, const char **method)
{
	static const struct ew_ctl_auth none = { NULL, NULL, NULL };
	unsigned char cookie[COOKIE_LEN];
	const char *path;
	int methods, rc, trusted;

	if (a == NULL)
		a = &none;
	if (method != NULL)
		*method = "";
	if ((rc = protocolinfo(c, &methods)) < 0)
		return rc;
	if (a->password != NULL) {
		struct ew_buf b = EW_BUF_INIT;

		if (!(methods & M_PASSWORD))
			return seterr(c, EW_CTL_EAUTH,
			    "a password was given, but tor does not offer "
			    "HASHEDPASSWORD authentication");
		ew_buf_puts(&b, "AUTHENTICATE ");
		if (ew_ctl_quote(&b, a->password) < 0) {
			ew_cleanse(b.p, b.len);
			ew_buf_free(&b);
			return seterr(c, EW_CTL_EAUTH,
			    "the password contains a line break");
		}
		rc = b.oom ? seterr(c, -ENOMEM, "out of memory")
			   : simple(c, b.p, "AUTHENTICATE");
		if (b.p != NULL)
			ew_cleanse(b.p, b.len);
		ew_buf_free(&b);
		if (rc == EW_CTL_EREFUSED)
			rc =
			    seterr(c, EW_CTL_EAUTH, "tor refused the password");
		if (rc == 0 && method != NULL)
			*method = "HASHEDPASSWORD";
		return rc;
	}
	if ((methods & M_NULL) && a->cookie_file == NULL) {
		rc = simple(c, "AUTHENTICATE", "AUTHENTICATE");
		if (rc == 0 && method != NULL)
			*method = "NULL";
		return rc;
	}
	if (!(methods & (M_SAFECOOKIE | M_COOKIE)))
		return seterr(c, EW_CTL_EAUTH,
		    "tor offers no authentication method we can use (give "
		    "--password-file for HASHEDPASSWORD)");
	path = a->cookie_file != NULL ? a->cookie_file : c->cookiefile;
	if (path == NULL)
		return seterr(c, EW_CTL_EAUTH,
		    "tor did not name its cookie file; give --cookie FILE");
	/* SAFECOOKIE whenever offered: a server that does not know the
	 * cookie learns nothing.  Plain COOKIE sends the cookie itself, so
	 * only to a listener whose user owns it, wherever the path came
	 * from; a path from the server is read only when configured or
	 * owned by that user. */
	trusted = a->cookie_file != NULL || listed(a->trusted, path);
	rc = read_cookie(c, path, a->cookie_file != NULL,
	    !trusted || !(methods & M_SAFECOOKIE), cookie);
	if (rc < 0)
		return rc;
	if (methods & M_SAFECOOKIE) {
		rc = safecookie(c, cookie);
		if (rc == 0 && method != NULL)
			*method = "SAFECOOKIE";
	} else {
		char cmd[16 + 2 * COOKIE_LEN];

		memcpy(cmd, "AUTHENTICATE ", 13);
		hex(cookie, COOKIE_LEN, cmd + 13);
		rc = simple(c, cmd, "AUTHENTICATE");
		ew_cleanse(cmd, sizeof(cmd));
		if (rc == 0 && method != NULL)
			*method = "COOKIE";
	}
	ew_cleanse(cookie, sizeof(cookie));
	if (rc == EW_CTL_EREFUSED)
		rc = seterr(
		    c, EW_CTL_EAUTH, "tor refused the cookie from '%s'", path);
	return rc;
}

int
ew_ctl_getinfo(struct ew_ctl *c, const char *key, char **value, int *code)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_ctl_reply *r;
	size_t i, kl = strlen(key);
	int rc;

	*value = NULL;
	if (code != NULL)
		*code = 0;
	if (strpbrk(key, " \r\n") != NULL)
		return seterr(c, EW_CTL_EARG, "malformed GETINFO key");
	ew_buf_printf(&b, "GETINFO %s", key);
	rc = b.oom ? seterr(c, -ENOMEM, "out of memory")
		   : ew_ctl_command(c, b.p, &r);
	ew_buf_free(&b);
	if (rc < 0)
		return rc;
	if (code != NULL)
		*code = r->code;
	if (r->code != 250) {
		rc = seterr(c, EW_CTL_EREFUSED, "GETINFO %s: tor said %d %s",
		    key, r->code, last_text(r));
		ew_ctl_reply_free(r);
		return rc;
	}
	for (i = 0; i < r->n; i++) {
		const struct ew_ctl_line *l = &r->lines[i];

		if (strncmp(l->text, key, kl) != 0 || l->text[kl] != '=')
			continue;
		if (l->data != NULL) {
			size_t n = l->datalen;

			if (n > 0 && l->data[n - 1] == '\n')
				n--;
			*value = ew_strndup(l->data, n);
		} else {
			*value = strdup(l->text + kl + 1);
		}
		ew_ctl_reply_free(r);
		return *value ? 0 : seterr(c, -ENOMEM, "out of memory");
	}
	ew_ctl_reply_free(r);
	return seterr(
	    c, EW_CTL_EPROTO, "GETINFO %s: no value in the reply", key);
}

void
ew_ctl_kv_free(struct ew_ctl_kv *kv, size_t n)
{
	size_t i;

	if (kv == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int
check_key(struct ew_ctl *c, const char *k)
{
	if (*k == '\0' || strpbrk(k, " \t\r\n=\"") != NULL)
		return seterr(c, EW_CTL_EARG, "malformed option name '%s'", k);
	return 0;
}

int
ew_ctl_setconf(struct ew_ctl *c, const struct ew_ctl_kv *kv, size_t n)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;
	int rc = 0;

	ew_buf_puts(&b, "SETCONF");
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = check_key(c, kv[i].key)) < 0)
			break;
		ew_buf_printf(&b, " %s", kv[i].key);
		if (kv[i].value == NULL)
			continue;
		ew_buf_putc(&b, '=');
		if (ew_ctl_quote(&b, kv[i].value) < 0)
			rc = seterr(c, EW_CTL_EARG,
			    "value of %s contains a line break", kv[i].key);
	}
	if (rc == 0)
		rc = b.oom ? seterr(c, -ENOMEM, "out of memory")
			   : simple(c, b.p, "SETCONF");
	ew_buf_free(&b);
	return rc;
}

int
ew_ctl_resetconf(struct ew_ctl *c, const char *const *keys, size_t n)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;
	int rc = 0;

	ew_buf_puts(&b, "RESETCONF");
	for (i = 0; i < n && rc == 0; i++) {
		rc = check_key(c, keys[i]);
		ew_buf_printf(&b, " %s", keys[i]);
	}
	if (rc == 0)
		rc = b.oom ? seterr(c, -ENOMEM, "out of memory")
			   : simple(c, b.p, "RESETCONF");
	ew_buf_free(&b);
	return rc;
}

int
ew_ctl_getconf(struct ew_ctl *c, const char *const *keys, size_t n,
    struct ew_ctl_kv **out, size_t *nout)
{
	struct ew_buf b = EW_BUF_INIT;
	struct ew_ctl_reply *r = NULL;
	struct ew_ctl_kv *v = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	ew_buf_puts(&b, "GETCONF");
	for (i = 0; i < n && rc == 0; i++) {
		rc = check_key(c, keys[i]);
		ew_buf_printf(&b, " %s", keys[i]);
	}
	if (rc == 0)
		rc = b.oom ? seterr(c, -ENOMEM, "out of memory")
			   : ew_ctl_command(c, b.p, &r);
	ew_buf_free(&b);
	if (rc < 0)
		return rc;
	if (r->code != 250) {
		rc = seterr(c, EW_CTL_EREFUSED, "GETCONF: tor said %d %s",
		    r->code, last_text(r));
		ew_ctl_reply_free(r);
		return rc;
	}
	v = calloc(r->n ? r->n : 1, sizeof(*v));
	if (v == NULL) {
		ew_ctl_reply_free(r);
		return seterr(c, -ENOMEM, "out of memory");
	}
	for (i = 0; i < r->n; i++) {
		const char *t = r->lines[i].text, *eq = strchr(t, '=');

		v[i].key = ew_strndup(t, eq ? (size_t)(eq - t) : strlen(t));
		if (eq != NULL) {
			const char *end;

			if (eq[1] == '"')
				v[i].value = unquote(eq + 1, &end);
			else
				v[i].value = strdup(eq + 1);
		}
		if (v[i].key == NULL || (eq != NULL && v[i].value == NULL)) {
			ew_ctl_kv_free(v, r->n);
			ew_ctl_reply_free(r);
			return seterr(
			    c, EW_CTL_EPROTO, "GETCONF: malformed reply line");
		}
	}
	*out = v;
	*nout = r->n;
	ew_ctl_reply_free(r);
	return 0;
}

int
ew_ctl_signal(struct ew_ctl *c, const char *name)
{
	char cmd[64];

	if (strlen(name) > 32 || strpbrk(name, " \r\n") != NULL)
		return seterr(c, EW_CTL_EARG, "malformed signal name");
	snprintf(cmd, sizeof(cmd), "SIGNAL %s", name);
	return simple(c, cmd, "SIGNAL");
}
