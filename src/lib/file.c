/*
 * file.c - the whole-file reader and the atomic writer (see file.h).
 *
 * The reader sizes its buffer from fstat when it can and reads to the
 * end of the file in any case (a file in /proc, or one that grew, is
 * still read whole), never holding more than the cap plus one byte.
 * The writer is the classic temporary file + fsync + rename + fsync of
 * the directory; mkostemp names the temporary file, so a leftover from
 * a crashed run never makes a write fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/mem.h"

static int
read_all(int fd, size_t max, int flags, size_t hint, char **out, size_t *n)
{
	/* read one byte past the cap to tell "exactly max" from "more" */
	size_t limit = (flags & EW_FILE_PREFIX) ? max : max + 1;
	/* a byte more than the size hint: the read that finds the end
	 * then needs no bigger buffer */
	size_t cap = hint == 0 ? 0 : hint < limit ? hint + 1 : limit, got = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	for (;;) {
		if (buf == NULL || got == cap) {
			if (buf != NULL && cap == limit)
				break;
			if (buf != NULL || cap == 0)
				cap = cap < 65536 ? 65536 : cap * 2;
			if (cap > limit || cap < got)
				cap = limit;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			ew_mem_hint(buf, cap + 1);
		}
		r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		free(buf);
		return -EFBIG;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return -ENOMEM;
	buf[got] = '\0';
	*out = buf;
	*n = got;
	return 0;
}

int
ew_file_read_fd(int fd, size_t max, int flags, char **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	return read_all(fd, max, flags, 0, out, n);
}

int
ew_file_read(const char *path, size_t max, int flags, char **out, size_t *n)
{
	int oflags = O_RDONLY | O_CLOEXEC, fd, rc;
	struct stat st;
	size_t hint = 0;

	*out = NULL;
	*n = 0;
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	if (flags & EW_FILE_REGULAR)
		oflags |= O_NONBLOCK;
	if (flags & EW_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	if ((fd = open(path, oflags)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if ((flags & EW_FILE_REGULAR) && !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max && !(flags & EW_FILE_PREFIX)) {
			close(fd);
			return -EFBIG;
		}
		/* room for all of it and the byte that shows the end */
		hint = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1
						  : max + 1;
	}
	rc = read_all(fd, max, flags, hint, out, n);
	close(fd);
	return rc;
}

/* Pseudo-file systems whose regular files are not files (linux/magic.h). */
#define EW_PROC_MAGIC 0x9fa0
#define EW_SYSFS_MAGIC 0x62656572
#define EW_DEBUGFS_MAGIC 0x64626720
#define EW_SECURITYFS_MAGIC 0x73636673
#define EW_CGROUP_MAGIC 0x27e0eb
#define EW_CGROUP2_MAGIC 0x63677270

const char *
ew_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return NULL;
	if (S_ISDIR(mode))
		return "a directory, not a regular file";
	if (S_ISFIFO(mode))
		return "a FIFO, not a regular file";
	if (S_ISCHR(mode))
		return "a character device, not a regular file";
	if (S_ISBLK(mode))
		return "a block device, not a regular file";
	if (S_ISSOCK(mode))
		return "a socket, not a regular file";
	return "not a regular file";
}

static const char *
pseudo_kind(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return NULL;
	switch ((unsigned long)sf.f_type) {
	case EW_PROC_MAGIC:
		return "a file in /proc, not a regular file";
	case EW_SYSFS_MAGIC:
		return "a file in /sys, not a regular file";
	case EW_DEBUGFS_MAGIC:
	case EW_SECURITYFS_MAGIC:
	case EW_CGROUP_MAGIC:
	case EW_CGROUP2_MAGIC:
		return "a kernel pseudo-file, not a regular file";
	}
	return NULL;
}

static int
fail(struct ew_file *f, int fd, int err, const char *why)
{
	if (fd >= 0)
		close(fd);
	free(f->text);
	f->text = NULL;
	f->len = 0;
	f->why = why != NULL ? why : strerror(err);
	return -err;
}

/* The type check: a regular file, or a pipe when the caller allows one. */
static const char *
refused(mode_t mode, unsigned flags)
{
	if (S_ISFIFO(mode) && (flags & EW_LOAD_PIPE_OK))
		return NULL;
	return ew_file_kind(mode);
}

int
ew_file_load(const char *path, unsigned flags, size_t max, struct ew_file *f)
{
	struct stat st, st2;
	const char *kind;
	int fd, r;

	memset(f, 0, sizeof(*f));
	/* Refuse by the name first: opening a device can act on it. */
	if (stat(path, &st) < 0)
		return fail(f, -1, errno, NULL);
	if ((kind = refused(st.st_mode, flags)) != NULL)
		return fail(f, -1, EINVAL, kind);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return fail(f, -1, errno, NULL);
	if (fstat(fd, &st2) < 0)
		return fail(f, fd, errno, NULL);
	if ((kind = refused(st2.st_mode, flags)) != NULL ||
	    (kind = pseudo_kind(fd)) != NULL)
		return fail(f, fd, EINVAL, kind);
	if (S_ISREG(st2.st_mode) && (uintmax_t)st2.st_size > max)
		return fail(f, fd, EFBIG, NULL);
	if (S_ISFIFO(st2.st_mode) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return fail(f, fd, errno, NULL);
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	r = read_all(fd, max, 0,
	    S_ISREG(st2.st_mode) ? (size_t)st2.st_size + 1 : 0, &f->text,
	    &f->len);
	if (r < 0)
		return fail(f, fd, -r, NULL);
	close(fd);
	f->dev = st2.st_dev;
	f->ino = st2.st_ino;
	return 0;
}

/* The directory part of path ("." when it has none); free(). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return ew_strndup(path, (size_t)(slash - path));
}

/* Write all n bytes; 0 or -errno. */
static int
write_all(int fd, const char *data, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		off += (size_t)w;
	}
	return 0;
}

int
ew_file_write_atomic(const char *path, const void *data, size_t n,
    unsigned mode, int flags, int *replaced)
{
	struct ew_buf tmp = EW_BUF_INIT;
	char *dir = NULL;
	struct stat old;
	int fd = -1, dfd, rc = 0, had = 0;

	if (replaced != NULL)
		*replaced = 0;
	ew_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
	if (tmp.oom || (dir = dir_of(path)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((flags & EW_FILE_KEEP_MODE) && stat(path, &old) == 0 &&
	    S_ISREG(old.st_mode)) {
		mode = old.st_mode & 07777;
		had = 1;
	}
	/* mkostemp creates the file 0600; fchmod below sets `mode` */
	if ((fd = mkostemp(tmp.p, O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	/* owner first: fchown clears the set-id bits fchmod then sets */
	if (had && (old.st_uid != geteuid() || old.st_gid != getegid()) &&
	    fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM)
		rc = -errno;
	if (rc == 0 && fchmod(fd, (mode_t)(mode & 07777)) < 0)
		rc = -errno;
	if (rc == 0)
		rc = write_all(fd, data, n);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp.p, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp.p);
		goto out;
	}
	if (replaced != NULL)
		*replaced = 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	if (fsync(dfd) < 0)
		rc = -errno;
	close(dfd);
out:
	ew_buf_free(&tmp);
	free(dir);
	return rc;
}
