/*
 * privsep.c - the parser child and its parent (privsep.h says what and
 * why).
 *
 * One child per message.  The parent makes a socketpair and forks; the
 * child drops every privilege it can name (below, child_exec) and
 * re-executes our own binary through an O_PATH descriptor opened at the
 * start, with a short environment (locale and time zone; never
 * EW_TOR_PASSWORD) and EW_PRIVSEP_CHILD_ARG.  On the socket the parent
 * writes
 *
 *   "EWM2", u32 name length, u32 message length, s64 receive time
 *   (two u32, high first), name, message
 *
 * (little-endian), and the child answers until it exits: one status
 * byte, 0 and an encoded complaint (mail/wire.c) or 1 and the reason
 * the message is not a complaint.  Only a child that exited 0 is
 * believed, and its answer is bounded (EW_PRIVSEP_MAX_REPLY).
 *
 * Every wait of the parent (writing, reading, reaping) is a ppoll()
 * against the message's deadline with SIGTERM and SIGINT unblocked only
 * inside it, so a signal that sets *stop cannot slip in between the
 * check and the wait.  The child ignores both: the parent decides, and
 * kills it with SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/privsep.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "mail/mail.h"

#if defined(__SANITIZE_ADDRESS__)
#define EW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EW_ASAN 1
#endif
#endif

#define CHILD_FD 3            /* the socket, in the child */
#define EXE_FD (CHILD_FD + 1) /* our executable, until exec */
#define MAX_NAME 4096
#define EW_PRIVSEP_MAX_REPLY (512u << 20)
#define CHILD_AS (3072ul << 20) /* address space: 3 GiB */
#define CHILD_NOFILE 64

extern char **environ;

struct ew_privsep {
	int exe; /* O_PATH descriptor of /proc/self/exe */
	int drop;
	uid_t uid;
	gid_t gid;
	int timeout_ms;
	volatile sig_atomic_t *stop;
	char **env; /* the child's environment */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the child may see of our environment. */
static char **
child_env(void)
{
	static const char *const keep[] = { "LANG=", "LC_",
		"TZ=", "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=",
#ifdef EW_TEST_HOOKS
		"EW_TEST_PARSER",
#endif
		NULL };
	size_t n = 0, k = 0, i;
	char **v;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *const *p;

		for (p = keep; *p != NULL; p++)
			if (strncmp(environ[i], *p, strlen(*p)) == 0)
				break;
		if (*p != NULL)
			v[k++] = environ[i];
	}
	return v;
}

int
ew_privsep_new(const struct ew_privsep_opts *o, volatile sig_atomic_t *stop,
    struct ew_privsep **out)
{
	struct ew_privsep *ps;
	const char *user = o->user;
	struct passwd *pw;

	*out = NULL;
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		ew_cli_err("out of memory");
		return -1;
	}
	ps->stop = stop;
	ps->timeout_ms =
	    1000 * (o->timeout_s > 0 ? o->timeout_s : EW_PRIVSEP_TIMEOUT);
	ps->exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	ps->env = child_env();
	if (ps->exe < 0 || ps->env == NULL) {
		ew_cli_err("cannot prepare the parser: %s",
		    ps->exe < 0 ? strerror(errno) : "out of memory");
		ew_privsep_free(ps);
		return -1;
	}
	if (geteuid() == 0) {
		if (user == NULL)
			user =
			    getpwnam("_exitwarden") ? "_exitwarden" : "nobody";
		if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0) {
			ew_cli_err("parser user '%s' %s", user,
			    pw == NULL ? "does not exist"
				       : "is root: it must be unprivileged");
			ew_privsep_free(ps);
			return -1;
		}
		ps->drop = 1;
		ps->uid = pw->pw_uid;
		ps->gid = pw->pw_gid;
	} else if (user != NULL) {
		ew_cli_err("--parser-user needs root (the parser runs as "
			   "uid %ld already)",
		    (long)getuid());
		ew_privsep_free(ps);
		return -1;
	}
	*out = ps;
	return 0;
}

void
ew_privsep_free(struct ew_privsep *ps)
{
	if (ps == NULL)
		return;
	if (ps->exe >= 0)
		close(ps->exe);
	free(ps->env);
	free(ps);
}

/* ---- the child, before exec ---- */

static void
set_limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };

	if (setrlimit(res, &rl) < 0)
		_exit(126);
}

/* In the forked child: drop everything, then exec ourselves.  Never
 * returns. */
static void
child_exec(struct ew_privsep *ps, int sock)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];
	static char arg0[] = "exitwarden", arg1[] = EW_PRIVSEP_CHILD_ARG;
	char *argv[] = { arg0, arg1, NULL };
	rlim_t cpu = (rlim_t)(ps->timeout_ms / 1000 + 1);
	sigset_t none;
	int cap, null, exe;

	signal(SIGTERM, SIG_IGN); /* the parent decides when we die */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the socket at 3, our executable at 4, nothing else but
	 * /dev/null for stdin and stdout (stderr stays) */
	if ((sock = fcntl(sock, F_DUPFD, 10)) < 0 ||
	    (exe = fcntl(ps->exe, F_DUPFD, 10)) < 0 ||
	    dup2(sock, CHILD_FD) < 0 || dup2(exe, EXE_FD) < 0 ||
	    fcntl(EXE_FD, F_SETFD, FD_CLOEXEC) < 0 ||
	    syscall(SYS_close_range, EXE_FD + 1, ~0U, 0) < 0)
		_exit(126);
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0 || (null > 2 && close(null) < 0))
		_exit(126);
	if (chdir("/") < 0)
		_exit(126);
	if (ps->drop) {
		/* while root: empty the bounding set (CAP_SETPCAP) */
		for (cap = 0; cap < 64; cap++)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(ps->gid, ps->gid, ps->gid) < 0 ||
		    setresuid(ps->uid, ps->uid, ps->uid) < 0)
			_exit(126);
		if (setuid(0) == 0 || geteuid() != ps->uid ||
		    getegid() != ps->gid)
			_exit(126); /* the drop did not stick */
	}
	/* no capabilities, none to gain (ambient, file caps, set-id) */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capset, &h, caps) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(126);
	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_FSIZE, 0);
	set_limit(RLIMIT_NOFILE, CHILD_NOFILE);
	set_limit(RLIMIT_CPU, cpu);
#ifndef EW_ASAN
	/* not under ASan: it reserves terabytes of shadow address space,
	 * and LeakSanitizer forks a tracer when the child exits */
	set_limit(RLIMIT_NPROC, 0);
	set_limit(RLIMIT_AS, CHILD_AS);
#endif
	fexecve(EXE_FD, argv, ps->env);
	_exit(127);
}

/* ---- the parent ---- */

/*
 * Wait for ev on fd (fd < 0: just wait) until deadline.  1 ready, 0 the
 * deadline passed, -EINTR *stop was set, or -errno.
 */
static int
wait_io(struct ew_privsep *ps, int fd, short ev, int64_t deadline)
{
	struct pollfd p = { fd, ev, 0 };
	sigset_t block, old;
	int r;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		int64_t left = deadline - now_ms();
		struct timespec ts;

		if (ps->stop != NULL && *ps->stop) {
			r = -EINTR;
			break;
		}
		if (left <= 0) {
			r = 0;
			break;
		}
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		r = ppoll(fd >= 0 ? &p : NULL, fd >= 0 ? 1 : 0, &ts, &old);
		if (r > 0) {
			r = 1;
			break;
		}
		if (r < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Write all n bytes.  0, or wait_io's 0 / -EINTR / -errno. */
static int
send_all(
    struct ew_privsep *ps, int fd, const void *p, size_t n, int64_t deadline)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		int r;

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((r = wait_io(ps, fd, POLLOUT, deadline)) <= 0)
			return r == 0 ? -ETIMEDOUT : r;
	}
	return 0;
}

/* Read until EOF into b.  0, -ETIMEDOUT, -EINTR, -EFBIG, -errno. */
static int
recv_all(struct ew_privsep *ps, int fd, struct ew_buf *b, int64_t deadline)
{
	char chunk[65536];

	for (;;) {
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
		int w;

		if (r == 0)
			return b->oom ? -ENOMEM : 0;
		if (r > 0) {
			if (b->len + (size_t)r > EW_PRIVSEP_MAX_REPLY)
				return -EFBIG;
			ew_buf_add(b, chunk, (size_t)r);
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((w = wait_io(ps, fd, POLLIN, deadline)) <= 0)
			return w == 0 ? -ETIMEDOUT : w;
	}
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Reap pid, waiting until deadline (then killing it).  Its status. */
static int
reap(struct ew_privsep *ps, pid_t pid, int64_t deadline, int *killed)
{
	/* a pidfd becomes readable when the child exits (Linux 5.3);
	 * without one, wait in steps of 2 ms */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 &&
		    (now_ms() >= deadline || (ps->stop != NULL && *ps->stop))) {
			kill(pid, SIGKILL);
			*killed = 1;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (pfd >= 0)
			(void)wait_io(ps, pfd, POLLIN, deadline);
		else
			(void)wait_io(ps, -1, 0,
			    deadline < now_ms() + 2 ? deadline : now_ms() + 2);
	}
	if (pfd >= 0)
		close(pfd);
	return status;
}

/* The child's answer (it exited 0). */
static int
answer(
    const struct ew_buf *b, struct ew_complaint **out, char *msg, size_t msglen)
{
	size_t i, k = 0;

	if (b->len >= 1 && b->p[0] == 0) {
		if (ew_complaint_decode(b->p + 1, b->len - 1, out) == 0)
			return EW_PRIVSEP_OK;
		snprintf(msg, msglen, "the parser sent a malformed answer");
		return EW_PRIVSEP_FAILED;
	}
	if (b->len >= 1 && b->p[0] == 1) {
		/* its words, printable ASCII only */
		for (i = 1; i < b->len && k + 1 < msglen; i++)
			msg[k++] =
			    b->p[i] >= 0x20 && b->p[i] < 0x7f ? b->p[i] : '?';
		msg[k] = '\0';
		return EW_PRIVSEP_NOT_COMPLAINT;
	}
	snprintf(msg, msglen, "the parser sent a malformed answer");
	return EW_PRIVSEP_FAILED;
}

int
ew_privsep_parse(struct ew_privsep *ps, const char *name, const char *data,
    size_t len, int64_t received, struct ew_complaint **out, char *msg,
    size_t msglen)
{
	unsigned char hdr[20];
	struct ew_buf b = EW_BUF_INIT;
	int64_t deadline = now_ms() + ps->timeout_ms;
	size_t nlen = strnlen(name, MAX_NAME);
	int sv[2], rc, status, killed = 0;
	pid_t pid;

	*out = NULL;
	msg[0] = '\0';
	if (ps->stop != NULL && *ps->stop)
		return EW_PRIVSEP_STOPPED;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL); /* nothing buffered is written twice */
	if ((pid = fork()) < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (pid == 0) {
		close(sv[0]);
		child_exec(ps, sv[1]);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memcpy(hdr, "EWM2", 4);
	put32(hdr + 4, (uint32_t)nlen);
	put32(hdr + 8, (uint32_t)len);
	put32(hdr + 12, (uint32_t)((uint64_t)received >> 32));
	put32(hdr + 16, (uint32_t)received);
	rc = send_all(ps, sv[0], hdr, sizeof(hdr), deadline);
	if (rc == 0)
		rc = send_all(ps, sv[0], name, nlen, deadline);
	if (rc == 0)
		rc = send_all(ps, sv[0], data, len, deadline);
	shutdown(sv[0], SHUT_WR);
	/* a child that died early closes the socket: EPIPE, then reap */
	if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET)
		rc = recv_all(ps, sv[0], &b, deadline);
	close(sv[0]);
	if (rc == -ETIMEDOUT || rc == -EINTR || rc == -EFBIG)
		deadline = 0; /* kill it now */
	status = reap(ps, pid, deadline, &killed);
	if (rc == -EINTR || (ps->stop != NULL && *ps->stop)) {
		rc = EW_PRIVSEP_STOPPED;
	} else if (rc == -ETIMEDOUT || (killed && rc == 0)) {
		snprintf(msg, msglen, "the parser ran past %d s and was killed",
		    ps->timeout_ms / 1000);
		rc = EW_PRIVSEP_FAILED;
	} else if (rc == -EFBIG) {
		snprintf(msg, msglen, "the parser's answer is over %u MiB",
		    EW_PRIVSEP_MAX_REPLY >> 20);
		rc = EW_PRIVSEP_FAILED;
	} else if (WIFSIGNALED(status)) {
		snprintf(msg, msglen, "the parser was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
		rc = EW_PRIVSEP_FAILED;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(msg, msglen,
		    WEXITSTATUS(status) >= 126
			? "the parser could not start (status %d)"
			: "the parser failed (status %d)",
		    WEXITSTATUS(status));
		rc = EW_PRIVSEP_FAILED;
	} else if (rc < 0) {
		snprintf(
		    msg, msglen, "talking to the parser: %s", strerror(-rc));
		rc = EW_PRIVSEP_FAILED;
	} else {
		rc = answer(&b, out, msg, msglen);
	}
	ew_buf_free(&b);
	return rc;
}

/* ---- the child, after exec ---- */

static int
read_full(int fd, void *p, size_t n)
{
	char *s = p;

	while (n > 0) {
		ssize_t r = read(fd, s, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

#ifdef EW_TEST_HOOKS
/*
 * Test builds only (CMake EW_TEST_HOOKS): EW_TEST_PARSER makes the child
 * misbehave for the messages whose name contains EW_TEST_PARSER_MATCH
 * (all when unset): "crash" (SIGABRT), "garbage" (a malformed answer),
 * "exit" (status 3), "sleep=N" (N seconds, then parse).
 */
static int
test_hook(int fd, const char *name)
{
	const char *h = getenv("EW_TEST_PARSER");
	const char *m = getenv("EW_TEST_PARSER_MATCH");

	if (h == NULL || (m != NULL && strstr(name, m) == NULL))
		return 0;
	if (strcmp(h, "crash") == 0)
		abort(); /* SIGABRT: ASan turns a SIGSEGV into exit 1 */
	if (strcmp(h, "garbage") == 0) {
		(void)write_full(fd, "\0EWC1garbage", 12);
		return 1;
	}
	if (strcmp(h, "exit") == 0)
		_exit(3);
	if (strncmp(h, "sleep=", 6) == 0)
		sleep((unsigned)strtoul(h + 6, NULL, 10));
	return 0;
}
#endif

int
ew_privsep_child_main(void)
{
	unsigned char hdr[20];
	char name[MAX_NAME + 1], *data;
	struct ew_complaint *c = NULL;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_diag_list d;
	uint32_t nlen, len;
	int64_t received;
	int rc;

	if (read_full(CHILD_FD, hdr, sizeof(hdr)) < 0 ||
	    memcmp(hdr, "EWM2", 4) != 0)
		return 2;
	nlen = get32(hdr + 4);
	len = get32(hdr + 8);
	received = (int64_t)((uint64_t)get32(hdr + 12) << 32 | get32(hdr + 16));
	if (nlen > MAX_NAME || len > EW_MAIL_MAX_SIZE ||
	    read_full(CHILD_FD, name, nlen) < 0)
		return 2;
	name[nlen] = '\0';
	if ((data = malloc((size_t)len + 1)) == NULL)
		return 2;
	if (read_full(CHILD_FD, data, len) < 0) {
		free(data);
		return 2;
	}
	data[len] = '\0';
#ifdef EW_TEST_HOOKS
	if (test_hook(CHILD_FD, name)) {
		free(data);
		return 0;
	}
#endif
	ew_diag_init(&d);
	/* deadlines are bounded by the mail's receive time (mail.h),
	 * which the parent sends */
	rc = ew_complaint_parse_at(name, data, len, received, &d, &c);
	free(data);
	if (rc == 0) {
		ew_buf_putc(&b, 0);
		ew_complaint_encode(c, &b);
	} else {
		ew_buf_putc(&b, 1);
		ew_buf_puts(&b, d.n ? d.v[0].msg : "unreadable");
	}
	ew_complaint_free(c);
	ew_diag_free(&d);
	rc = b.oom || write_full(CHILD_FD, b.p, b.len) < 0 ? 2 : 0;
	ew_buf_free(&b);
	return rc;
}
