/*
 * file.c - whole regular files, bounded (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/file.h"

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
	if (S_ISFIFO(mode) && (flags & EW_FILE_PIPE_OK))
		return NULL;
	return ew_file_kind(mode);
}

static int
read_all(struct ew_file *f, int fd, size_t max, size_t hint)
{
	size_t cap = hint < max ? hint + 1 : max + 1, got = 0;
	ssize_t r;

	if (cap < 4096)
		cap = 4096;
	f->text = malloc(cap + 1);
	if (f->text == NULL)
		return -ENOMEM;
	for (;;) {
		if (got == cap) {
			size_t nc =
			    cap > SIZE_MAX / 2 - 1 ? SIZE_MAX - 1 : cap * 2;
			char *nt;

			if (nc > max + 1)
				nc = max + 1;
			nt = nc > cap ? realloc(f->text, nc + 1) : NULL;
			if (nt == NULL)
				return nc > cap ? -ENOMEM : -EFBIG;
			f->text = nt;
			cap = nc;
		}
		r = read(fd, f->text + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > max)
			return -EFBIG;
	}
	f->text[got] = '\0';
	f->len = got;
	return 0;
}

int
ew_file_read(const char *path, unsigned flags, size_t max, struct ew_file *f)
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
	r = read_all(
	    f, fd, max, S_ISREG(st2.st_mode) ? (size_t)st2.st_size : 0);
	if (r < 0)
		return fail(f, fd, -r, NULL);
	close(fd);
	f->dev = st2.st_dev;
	f->ino = st2.st_ino;
	return 0;
}
