/*
 * buf.h - growable byte buffers and string building.
 *
 * An ew_buf owns a NUL-terminated heap string that grows as text is
 * appended.  Allocation failure is sticky: once an append fails, the
 * buffer's `oom` flag stays set and every later append is a no-op, so a
 * caller may build a whole text and check once at the end.
 */
#ifndef EW_LIB_BUF_H
#define EW_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ew_buf {
	char *p;    /* NUL-terminated contents, or NULL while empty */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	int oom;    /* an append failed; contents are truncated */
};

#define EW_BUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

void ew_buf_init(struct ew_buf *b);
/* Free the contents; the buffer is empty and usable again. */
void ew_buf_free(struct ew_buf *b);
/* Forget the contents but keep the allocation. */
void ew_buf_reset(struct ew_buf *b);
/* Make room for n more bytes; 0 on success, -ENOMEM on failure. */
int ew_buf_grow(struct ew_buf *b, size_t n);
void ew_buf_add(struct ew_buf *b, const void *data, size_t n);
void ew_buf_puts(struct ew_buf *b, const char *s);
void ew_buf_putc(struct ew_buf *b, char c);
void ew_buf_printf(struct ew_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ew_buf_vprintf(struct ew_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The contents as a C string ("" when empty); valid until the next call. */
const char *ew_buf_str(const struct ew_buf *b);
/*
 * Hand the contents to the caller (free with free()); the buffer is left
 * empty.  Returns NULL if an allocation failed along the way.
 */
char *ew_buf_detach(struct ew_buf *b);

/* strndup that never reads past n; NULL on allocation failure. */
char *ew_strndup(const char *s, size_t n);
/* Whether the n bytes at s are exactly the string `word`. */
int ew_str_is(const char *word, const char *s, size_t n);

#endif
