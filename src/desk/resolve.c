/*
 * resolve.c - the system's resolver for destinations named by host
 * name, bounded in time.
 *
 * getaddrinfo() has no timeout of its own (resolv.conf's timeout and
 * attempts multiply, NSS modules add theirs), and a thread blocked in
 * it cannot be stopped.  So each name is looked up in a child process
 * of its own, which writes what it found to a pipe in one write and
 * exits; the parent waits for all of them together, up to one deadline,
 * and kills (SIGKILL) and reaps every child that has not answered by
 * then.  The names come from complaints, so they were checked to be
 * host names before they get here, and they never reach a command line.
 *
 * The record a child writes: one status byte (0 found, 1 no such name,
 * 2 no address, 3 failed), one count byte, then per address one family
 * byte (4 or 6) and 16 address bytes.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "desk/desk.h"
#include "lib/tm.h"
#include "store/store.h"

#define REC_MAX (2 + EW_DESK_MAX_NAME_ADDRS * 17)

/* In the child: look the name up, write the record, exit. */
static void
child(const char *host, int fd)
{
	struct addrinfo hints, *res = NULL, *ai;
	unsigned char rec[REC_MAX];
	size_t len = 2, n = 0;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	memset(rec, 0, sizeof(rec));
	rec[0] = rc == 0 ? 0 : rc == EAI_NONAME ? 1 : rc == EAI_NODATA ? 2 : 3;
	for (ai = rc == 0 ? res : NULL;
	     ai != NULL && n < EW_DESK_MAX_NAME_ADDRS; ai = ai->ai_next) {
		size_t k;

		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *s = (void *)ai->ai_addr;

			rec[len] = 4;
			memcpy(rec + len + 1, &s->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s = (void *)ai->ai_addr;

			rec[len] = 6;
			memcpy(rec + len + 1, &s->sin6_addr, 16);
		} else {
			continue;
		}
		/* getaddrinfo repeats an address per socket type */
		for (k = 2; k < len; k += 17)
			if (memcmp(rec + k, rec + len, 17) == 0)
				break;
		if (k < len)
			continue;
		len += 17;
		n++;
	}
	if (res != NULL)
		freeaddrinfo(res);
	rec[1] = (unsigned char)n;
	if (write(fd, rec, len) != (ssize_t)len)
		_exit(1);
	_exit(0);
}

/* The record in buf (len bytes) into v. */
static void
parse_record(struct ew_desk_name *v, const unsigned char *buf, size_t len)
{
	size_t n, k;

	if (len < 2 || (len - 2) % 17 != 0 || buf[1] != (len - 2) / 17) {
		v->rc = -EIO;
		return;
	}
	switch (buf[0]) {
	case 0:
		break;
	case 1:
		v->rc = -ENOENT;
		return;
	case 2:
		v->rc = -ENODATA;
		return;
	default:
		v->rc = -EHOSTUNREACH;
		return;
	}
	n = buf[1];
	if (n == 0) {
		v->rc = -ENODATA;
		return;
	}
	if ((v->addrs = calloc(n, sizeof(*v->addrs))) == NULL) {
		v->rc = -ENOMEM;
		return;
	}
	for (k = 0; k < n; k++) {
		const unsigned char *r = buf + 2 + 17 * k;

		v->addrs[v->n].family = r[0] == 4 ? EW_AF_INET : EW_AF_INET6;
		memcpy(v->addrs[v->n].b, r + 1, r[0] == 4 ? 4 : 16);
		v->n++;
	}
	v->rc = 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct job {
	pid_t pid;
	int fd;
	unsigned char buf[REC_MAX];
	size_t len;
	int done;
};

static void
job_end(struct ew_desk_name *v, struct job *j, int64_t at)
{
	int status;

	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (j->pid > 0) {
		if (!j->done)
			kill(j->pid, SIGKILL);
		while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	j->pid = -1;
	if (j->done) {
		parse_record(v, j->buf, j->len);
		v->at = at;
	} else if (v->rc == 0) {
		v->rc = -ETIMEDOUT;
	}
}

/* Start one child per name; wait for all up to the deadline. */
void
ew_desk_resolve_system(void *arg, struct ew_desk_name *v, size_t n)
{
	const struct ew_desk_sysresolver *o = arg;
	unsigned timeout = o != NULL && o->timeout_ms > 0
			       ? o->timeout_ms
			       : EW_DESK_RESOLVE_TIMEOUT_MS;
	struct job *jobs;
	struct pollfd *pf;
	int64_t deadline = now_ms() + timeout, left;
	size_t i, k, open_n = 0;
	int p[2];

	jobs = calloc(n, sizeof(*jobs));
	pf = calloc(n, sizeof(*pf));
	for (i = 0; i < n; i++) {
		v[i].rc = -ENOMEM;
		v[i].at = EW_STORE_NO_TIME;
	}
	if (jobs == NULL || pf == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		jobs[i].fd = -1;
		jobs[i].pid = -1;
		if (pipe(p) < 0) {
			v[i].rc = -errno;
			continue;
		}
		jobs[i].pid = fork();
		if (jobs[i].pid == 0) {
			close(p[0]);
			child(v[i].host, p[1]);
		}
		close(p[1]);
		if (jobs[i].pid < 0) {
			v[i].rc = -errno;
			close(p[0]);
			continue;
		}
		jobs[i].fd = p[0];
		v[i].rc = 0;
		open_n++;
	}
	while (open_n > 0 && (left = deadline - now_ms()) > 0) {
		for (i = 0, k = 0; i < n; i++)
			if (jobs[i].fd >= 0) {
				pf[k].fd = jobs[i].fd;
				pf[k].events = POLLIN;
				pf[k++].revents = 0;
			}
		if (poll(pf, k, (int)left) < 0 && errno != EINTR)
			break;
		for (i = 0, k = 0; i < n; i++) {
			ssize_t r;

			if (jobs[i].fd < 0)
				continue;
			if (pf[k++].revents == 0)
				continue;
			r = read(jobs[i].fd, jobs[i].buf + jobs[i].len,
			    sizeof(jobs[i].buf) - jobs[i].len);
			if (r > 0) {
				jobs[i].len += (size_t)r;
				if (jobs[i].len < sizeof(jobs[i].buf))
					continue;
			} else if (r < 0 && errno == EINTR) {
				continue;
			}
			/* end of the record (or of the child) */
			jobs[i].done = jobs[i].len > 0;
			if (!jobs[i].done)
				v[i].rc = -EHOSTUNREACH;
			job_end(&v[i], &jobs[i], ew_time_now());
			open_n--;
		}
	}
	for (i = 0; i < n; i++)
		if (jobs[i].pid > 0 || jobs[i].fd >= 0)
			job_end(&v[i], &jobs[i], EW_STORE_NO_TIME);
out:
	free(jobs);
	free(pf);
}
