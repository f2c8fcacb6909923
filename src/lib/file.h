/*
 * file.h - reading a whole file named by a configuration: regular files
 * only, bounded, and identified by device and inode.
 *
 * A policy names include and table files; a name that turns out to be a
 * FIFO (which would block), a device (/dev/zero never ends, /dev/tty
 * waits for a key), a directory or a kernel pseudo-file (/proc, /sys:
 * sizes that lie) is refused up front, before anything is read.  The
 * file is opened non-blocking, checked with fstat after the open (the
 * name may have changed since), and read to its end but never past
 * `max` bytes, so a file that grows while read is still bounded.
 */
#ifndef EW_LIB_FILE_H
#define EW_LIB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* ew_file_read flags */
#define EW_FILE_PIPE_OK 0x1 /* also a pipe or FIFO (a command line's file) */

struct ew_file {
	char *text; /* NUL-terminated (a NUL inside stays), caller frees */
	size_t len;
	dev_t dev; /* the identity of what was read */
	ino_t ino;
	const char *why; /* on failure: strerror, or what the path names */
};

/*
 * Read the file at `path` (at most `max` bytes) into f.  Returns 0, or
 * -errno with f->why set and f->text NULL: -EINVAL when path names
 * something else than a regular file (f->why says what: "a FIFO, not a
 * regular file"), -EFBIG when the file holds more than max bytes.
 */
int ew_file_read(
    const char *path, unsigned flags, size_t max, struct ew_file *f);

/* What a file of mode `mode` is, as "a FIFO", or NULL for a regular file. */
const char *ew_file_kind(mode_t mode);

#endif
