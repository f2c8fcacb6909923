/*
 * bench_serve.c - page views per second from `exitwarden serve`: a
 * small HTTP/1.1 load generator.  C connections (keep-alive), each
 * sending GET PATH and reading the whole answer (Content-Length) before
 * the next, for S seconds, over poll(2).  Prints views/s, the median
 * and 99th percentile latency, and the count of answers not 200.
 *
 *   bench_serve HOST PORT [PATH] [CONNECTIONS] [SECONDS]
 *
 * With --close, each view is a new connection (no keep-alive): the
 * worst case of a browser's first visit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256
#define MAXLAT 4000000

struct conn {
	int fd;
	char buf[65536];
	size_t len;
	double sent;
};

static struct sockaddr_in sa;
static char req[512];
static size_t reqlen;
static int close_each;
static double *lat;
static size_t nlat;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
connect_one(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_req(struct conn *c)
{
	if (c->fd < 0 && (c->fd = connect_one()) < 0)
		return -1;
	c->len = 0;
	c->sent = now();
	return write(c->fd, req, reqlen) == (ssize_t)reqlen ? 0 : -1;
}

/* 1 when buf holds a whole answer (status in *st), 0 if not yet. */
static int
whole(const struct conn *c, int *st)
{
	const char *end, *cl;
	size_t hl, body;

	end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	hl = (size_t)(end - c->buf) + 4;
	cl = memmem(c->buf, hl, "Content-Length: ", 16);
	body = cl ? strtoul(cl + 16, NULL, 10) : 0;
	if (c->len < hl + body)
		return 0;
	*st = (int)strtol(c->buf + 9, NULL, 10);
	return 1;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct conn *cs;
	struct pollfd pf[MAXC];
	const char *path = "/";
	int nc = 16, secs = 5, i, st;
	unsigned long done = 0, bad = 0, errs = 0;
	double t0, t1;
	ssize_t r;

	if (argc > 1 && strcmp(argv[1], "--close") == 0) {
		close_each = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: bench_serve [--close] HOST PORT [PATH] "
				"[CONNECTIONS] [SECONDS]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	if (argc > 3)
		path = argv[3];
	if (argc > 4)
		nc = (int)strtol(argv[4], NULL, 10);
	if (argc > 5)
		secs = (int)strtol(argv[5], NULL, 10);
	if (nc < 1 || nc > MAXC || secs < 1)
		return 2;
	reqlen = (size_t)snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench_serve\r\n"
	    "%s\r\n",
	    path, close_each ? "Connection: close\r\n" : "");
	cs = calloc((size_t)nc, sizeof(*cs));
	lat = malloc(sizeof(double) * MAXLAT);
	if (cs == NULL || lat == NULL)
		return 1;
	for (i = 0; i < nc; i++) {
		cs[i].fd = -1;
		if (send_req(&cs[i]) != 0) {
			fprintf(stderr, "bench_serve: cannot connect\n");
			return 1;
		}
	}
	t0 = now();
	while ((t1 = now()) - t0 < secs) {
		for (i = 0; i < nc; i++) {
			pf[i].fd = cs[i].fd;
			pf[i].events = POLLIN;
		}
		if (poll(pf, (nfds_t)nc, 1000) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < nc; i++) {
			struct conn *c = &cs[i];

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(
			    c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
			if (r <= 0) { /* closed: count, reconnect */
				if (!close_each || !whole(c, &st))
					errs++;
				close(c->fd);
				c->fd = -1;
				if (send_req(c) != 0)
					return 1;
				continue;
			}
			c->len += (size_t)r;
			if (!whole(c, &st))
				continue;
			done++;
			if (st != 200)
				bad++;
			if (nlat < MAXLAT)
				lat[nlat++] = now() - c->sent;
			if (close_each) {
				close(c->fd);
				c->fd = -1;
			}
			if (send_req(c) != 0)
				return 1;
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("%s%s: %d connections, %.1f s: %lu views, %.0f views/s, "
	       "median %.2f ms, p99 %.2f ms, %lu not 200, %lu errors\n",
	    path, close_each ? " (a connection per view)" : " (keep-alive)", nc,
	    t1 - t0, done, (double)done / (t1 - t0),
	    nlat ? lat[nlat / 2] * 1e3 : 0.0,
	    nlat ? lat[nlat * 99 / 100] * 1e3 : 0.0, bad, errs);
	return bad || errs > (unsigned long)nc ? 1 : 0;
}
