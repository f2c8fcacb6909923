/*
 * http.c - the web face's HTTP server: the only file that includes
 * libmicrohttpd.
 *
 * One internal polling thread (epoll) answers every connection, so the
 * handlers (and the store) run on one thread, one request at a time.
 * Bounds: connections in all and per address, an idle timeout, the
 * memory of a connection (which caps the request line and header
 * bytes: libmicrohttpd answers 431 past it), the number of header
 * fields, the body (EW_WEB_MAX_BODY: 413 past it, read no further).
 * Every answer carries the security headers (ew_web_sec_headers).
 *
 * The listening socket is made by ew_web_bind (before the caller drops
 * its privileges: port 80 needs CAP_NET_BIND_SERVICE) or handed over
 * by systemd's socket activation; libmicrohttpd only accepts on it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
#include "web/web_int.h"

/* A connection's request, while its body arrives. */
struct conn {
	char body[EW_WEB_MAX_BODY + 1];
	size_t len;
	int refuse; /* 0, or the status to answer (413, 431) */
};

static int64_t
now_of(const struct ew_web *w)
{
	return w->conf.clock != NULL ? w->conf.clock() : (int64_t)time(NULL);
}

static int
src_addr(struct MHD_Connection *c, struct ew_addr *a)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	memset(a, 0, sizeof(*a));
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		a->family = EW_AF_INET;
		memcpy(a->b, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			a->family = EW_AF_INET;
			memcpy(a->b, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			a->family = EW_AF_INET6;
			memcpy(a->b, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static enum MHD_Result
send_resp(struct MHD_Connection *c, struct ew_web_resp *r)
{
	struct MHD_Response *m;
	enum MHD_Result ok;
	size_t i;

	m = MHD_create_response_from_buffer(r->body.len,
	    r->body.p != NULL ? r->body.p : (char *)"", MHD_RESPMEM_MUST_COPY);
	if (m == NULL)
		return MHD_NO;
	for (i = 0; ew_web_sec_headers[i] != NULL; i += 2)
		MHD_add_response_header(
		    m, ew_web_sec_headers[i], ew_web_sec_headers[i + 1]);
	MHD_add_response_header(m, "Content-Type", r->content_type);
	if (r->cache_control != NULL)
		MHD_add_response_header(m, "Cache-Control", r->cache_control);
	if (r->allow != NULL)
		MHD_add_response_header(m, "Allow", r->allow);
	if (r->www_auth != NULL)
		MHD_add_response_header(m, "WWW-Authenticate", r->www_auth);
	ok = MHD_queue_response(c, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ok;
}

static enum MHD_Result
plain(struct MHD_Connection *c, int status, const char *text)
{
	struct ew_web_resp r;
	enum MHD_Result ok;

	memset(&r, 0, sizeof(r));
	ew_buf_init(&r.body);
	r.status = status;
	r.content_type = "text/plain; charset=utf-8";
	r.cache_control = "no-store";
	ew_buf_puts(&r.body, text);
	ok = send_resp(c, &r);
	ew_web_resp_free(&r);
	return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct ew_web *w = cls;
	struct conn *k = *con_cls;
	struct ew_web_req req;
	struct ew_web_resp r;
	const char *cl;
	uint64_t clen;
	enum MHD_Result ok;

	(void)version;
	if (k == NULL) { /* the headers are in */
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return MHD_NO;
		*con_cls = k;
		if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) >
		    EW_WEB_MAX_HEADERS)
			k->refuse = 431;
		cl = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL &&
		    (ew_parse_uint(cl, strlen(cl), 0, UINT64_MAX, &clen) != 0 ||
			clen > EW_WEB_MAX_BODY))
			k->refuse = 413;
		if (k->refuse != 0) { /* answer now, read no body */
			w->rejected_http++;
			return plain(c, k->refuse,
			    k->refuse == 413 ? "request too large\n"
					     : "too many header fields\n");
		}
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (k->refuse == 0 &&
		    *upload_size <= EW_WEB_MAX_BODY - k->len) {
			memcpy(k->body + k->len, upload, *upload_size);
			k->len += *upload_size;
		} else if (k->refuse == 0) {
			k->refuse = 413;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->refuse != 0) {
		w->rejected_http++;
		return plain(c, k->refuse, "request too large\n");
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	if (src_addr(c, &req.src) != 0)
		return plain(c, 400, "no source address\n");
	k->body[k->len] = '\0';
	req.body = k->body;
	req.body_len = k->len;
	req.content_type = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.authorization = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.now = now_of(w);
	ew_web_handle(w, &req, &r);
	ok = r.body.oom ? plain(c, 500, "out of memory\n") : send_resp(c, &r);
	ew_web_resp_free(&r);
	return ok;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int
ew_web_bind(const char *where, struct ew_diag_list *diags)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	const char *colon = where ? strrchr(where, ':') : NULL;
	char host[64];
	uint64_t port;
	size_t n;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (colon == NULL || (n = (size_t)(colon - where)) >= sizeof(host) ||
	    ew_parse_uint(colon + 1, strlen(colon + 1), 1, 65535, &port) != 0)
		goto bad;
	memcpy(host, where, n);
	host[n] = '\0';
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else {
		goto bad;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) { /* [::] takes IPv4 too, always */
		int zero = 0;

		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 512) != 0) {
		int e = errno;

		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "cannot listen on '%s': %s", where, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
bad:
	ew_diag_add(diags, EW_SEV_ERROR, NULL,
	    "listen address '%s' is not ADDR:PORT or [ADDR6]:PORT",
	    where ? where : "");
	return -EINVAL;
}

int
ew_web_serve(struct ew_web *w, int fd, volatile sig_atomic_t *stop,
    struct ew_diag_list *diags)
{
	struct MHD_Daemon *d;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, 0,
	    NULL, NULL, on_request, w, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)w->conf.conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)w->conf.per_ip_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)w->conf.timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, w, MHD_OPTION_END);
	if (d == NULL) {
		ew_diag_add(
		    diags, EW_SEV_ERROR, NULL, "the HTTP server did not start");
		return -EIO;
	}
	while (!*stop)
		nanosleep(&ts, NULL);
	MHD_stop_daemon(d);
	return 0;
}
