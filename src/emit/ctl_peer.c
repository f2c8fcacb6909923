/*
 * ctl_peer.c - who listens on the other end of a control connection.
 *
 * The cookie file a control port names is read only when the user the
 * listening process runs as owns it (ctl.h), so that a local user's
 * fake tor on 127.0.0.1:9051 cannot make a root exitwarden read a
 * root-only file.  That user is found from the kernel, never from what
 * the peer says:
 *
 *  - Unix socket: SO_PEERCRED, the credentials the listener had when it
 *    called listen();
 *  - TCP: the listening socket's line in /proc/net/tcp or tcp6 (local
 *    address and port equal to our peer's, or the wildcard), whose uid
 *    is the user that created the socket.
 *
 * A socket created by root may be held by a process that dropped
 * privileges since (tor binds as root, then becomes debian-tor): then
 * the processes holding it (the pid from SO_PEERCRED; on TCP every
 * process with the socket's inode among its /proc/PID/fd) give their
 * effective uid now, and must agree.  A socket created by another user
 * is that user's: no /proc walk needed, and none can forge a root one.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "emit/ctl.h"

/* The effective uid of process pid, from /proc/PID/status. */
static int
proc_euid(long pid, unsigned *uid)
{
	char path[64], line[256];
	unsigned r, e;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
			fclose(f);
			*uid = e;
			return 0;
		}
	}
	fclose(f);
	return -ESRCH;
}

/*
 * The processes whose open files include the socket with this inode:
 * their common effective uid in *uid (1), none seen (0), or -EPERM when
 * they run as different users.
 */
static int
holders_euid(unsigned long inode, unsigned *uid)
{
	char want[64], path[64], link[64];
	struct dirent *p, *f;
	DIR *proc, *fds;
	int found = 0, rc = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (rc == 0 && (p = readdir(proc)) != NULL) {
		long pid;

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		pid = strtol(p->d_name, NULL, 10);

		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		if ((fds = opendir(path)) == NULL)
			continue; /* gone, or not ours to look into */
		while ((f = readdir(fds)) != NULL) {
			ssize_t n;
			unsigned u;

			if (f->d_name[0] == '.')
				continue;
			n = readlinkat(
			    dirfd(fds), f->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			if (proc_euid(pid, &u) < 0)
				break;
			if (found && u != *uid)
				rc = -EPERM;
			*uid = u;
			found = 1;
			break;
		}
		closedir(fds);
	}
	closedir(proc);
	return rc < 0 ? rc : found;
}

/* "%08X" words of an address as /proc/net/tcp* prints them (each
 * 32-bit word in host order), into out. */
static void
proc_hex(const void *addr, size_t len, char *out)
{
	const unsigned char *b = addr;
	size_t i;

	for (i = 0; i < len; i += 4) {
		uint32_t w;

		memcpy(&w, b + i, 4);
		snprintf(out + 2 * i, 9, "%08X", (unsigned)w);
	}
}

/*
 * Look for a listening socket on port whose local address is one of
 * the n hex strings in addrs, in the file.  1 with *uid and *inode, 0
 * if none.
 */
static int
find_listener(const char *file, const char *const *addrs, size_t n,
    unsigned port, unsigned *uid, unsigned long *inode)
{
	char line[512], local[40];
	unsigned lport, st, u;
	unsigned long ino;
	FILE *f = fopen(file, "re");
	size_t i;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line,
			" %*u: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %u %*d %lu",
			local, &lport, &st, &u, &ino) != 5)
			continue;
		if (st != 0x0A || lport != port)
			continue; /* 0A: TCP_LISTEN */
		for (i = 0; i < n; i++) {
			if (strcasecmp(local, addrs[i]) == 0) {
				fclose(f);
				*uid = u;
				*inode = ino;
				return 1;
			}
		}
	}
	fclose(f);
	return 0;
}

static int
tcp_owner(int fd, unsigned *uid)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a4[9], m6[33], any6[33], a6[33];
	const char *v4[2], *v6[3];
	unsigned long inode = 0;
	unsigned port;
	int found = 0, rc;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	memset(any6, '0', 32);
	any6[32] = '\0';
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		unsigned char mapped[16] = { 0 };

		port = ntohs(sin->sin_port);
		proc_hex(&sin->sin_addr, 4, a4);
		v4[0] = a4;
		v4[1] = "00000000";
		/* a dual-stack listener on [::] or [::ffff:a.b.c.d] */
		mapped[10] = mapped[11] = 0xff;
		memcpy(mapped + 12, &sin->sin_addr, 4);
		proc_hex(mapped, 16, m6);
		v6[0] = m6;
		v6[1] = any6;
		found =
		    find_listener("/proc/net/tcp", v4, 2, port, uid, &inode);
		if (!found)
			found = find_listener(
			    "/proc/net/tcp6", v6, 2, port, uid, &inode);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&ss;

		port = ntohs(s6->sin6_port);
		proc_hex(&s6->sin6_addr, 16, a6);
		v6[0] = a6;
		v6[1] = any6;
		found =
		    find_listener("/proc/net/tcp6", v6, 2, port, uid, &inode);
	} else {
		return -EAFNOSUPPORT;
	}
	if (!found)
		return -ESRCH;
	if (*uid != 0)
		return 0; /* made by that user: theirs */
	/* made by root: who holds it now? */
	rc = holders_euid(inode, uid);
	if (rc == 0)
		*uid = 0; /* a root socket whose holder we cannot see */
	return rc < 0 ? rc : 0;
}

int
ew_ctl_sock_owner(int fd, unsigned *uid)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family != AF_UNIX)
		return tcp_owner(fd, uid);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
		return -errno;
	*uid = cr.uid;
	if (cr.uid == 0 && cr.pid > 0)
		(void)proc_euid((long)cr.pid, uid); /* dropped since? */
	return 0;
}
