/*
 * file.h - reading a whole file and replacing one atomically.
 *
 * The one file reader and the one atomic writer of the tree: the policy
 * parser, the torrc fragment, the managed policy, the nftables state
 * file and the mail readers of the CLI all go through these.  Errors
 * are -errno values; nothing here prints.
 */
#ifndef EW_LIB_FILE_H
#define EW_LIB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* ew_file_read flags. */
enum {
	/*
	 * Only a regular file: anything else is -EINVAL (a directory is
	 * -EISDIR in any case).  Opened without blocking, so a FIFO
	 * never hangs the reader.
	 */
	EW_FILE_REGULAR = 1 << 0,
	/* The last component may not be a symbolic link (-ELOOP). */
	EW_FILE_NOFOLLOW = 1 << 1,
	/*
	 * More than max bytes is not an error: the first max are read
	 * (a caller that wants to say "too large" itself passes its
	 * limit plus one and compares).
	 */
	EW_FILE_PREFIX = 1 << 2,
};

/*
 * Read the whole file at path, at most max bytes (-EFBIG beyond them,
 * unless EW_FILE_PREFIX).  On success *out is the contents plus a NUL
 * (free with free()), *n their length.  0 or -errno (-ENOENT when there
 * is no file); on failure *out is NULL and *n 0.
 */
int ew_file_read(
    const char *path, size_t max, int flags, char **out, size_t *n);

/* The same from an open descriptor, to its end (a pipe, standard
 * input); fd is left open.  Of the flags only EW_FILE_PREFIX counts. */
int ew_file_read_fd(int fd, size_t max, int flags, char **out, size_t *n);

/* ew_file_write_atomic flags. */
enum {
	/*
	 * An existing regular file at path keeps its mode, owner and
	 * group (as far as we may set them); mode applies to a new one.
	 */
	EW_FILE_KEEP_MODE = 1 << 0,
};

/*
 * Replace the file at path with the n bytes at data, atomically and
 * durably: a temporary file in the same directory is created, given
 * `mode` with fchmod (whatever the umask), written, fsync'd, renamed
 * over path, and then the directory is fsync'd.
 *
 * 0 on success, else -errno.  *replaced (if not NULL) is 1 when path
 * holds the new data, 0 when it is as it was.  So a failure comes in two
 * kinds: before the rename (*replaced 0: nothing changed, the temporary
 * file is removed), or after it (*replaced 1: the directory could not
 * be synced, the change may not survive a crash, and a caller that must
 * roll back has to put the old contents back itself).
 */
int ew_file_write_atomic(const char *path, const void *data, size_t n,
    unsigned mode, int flags, int *replaced);

/* ---- files named by a configuration (policy includes and tables) ---- */

/* ew_file_load flags */
#define EW_LOAD_PIPE_OK 0x1 /* also a pipe or FIFO (a command line's file) */

struct ew_file {
	char *text; /* NUL-terminated (a NUL inside stays), caller frees */
	size_t len;
	dev_t dev; /* the identity of what was read */
	ino_t ino;
	const char *why; /* on failure: strerror, or what the path names */
};

/*
 * Read the file at `path` (at most `max` bytes) into f, refusing what a
 * configuration must never name: a FIFO (which would block), a device
 * (/dev/zero never ends, /dev/tty waits for a key), a directory or a
 * kernel pseudo-file (/proc, /sys: sizes that lie), by its name before
 * anything is opened and again with fstat after the open.  Returns 0,
 * or -errno with f->why set and f->text NULL: -EINVAL when path names
 * something else than a regular file (f->why says what: "a FIFO, not a
 * regular file"), -EFBIG when the file holds more than max bytes.
 */
int ew_file_load(
    const char *path, unsigned flags, size_t max, struct ew_file *f);

/* What a file of mode `mode` is, as "a FIFO", or NULL for a regular file. */
const char *ew_file_kind(mode_t mode);

#endif
