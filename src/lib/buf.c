/*
 * buf.c - growable byte buffers (see buf.h for the contract).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mem.h"

void
ew_buf_init(struct ew_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
}

void
ew_buf_free(struct ew_buf *b)
{
	free(b->p);
	ew_buf_init(b);
}

void
ew_buf_reset(struct ew_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

int
ew_buf_grow(struct ew_buf *b, size_t n)
{
	size_t want, cap;
	char *np;

	if (b->oom)
		return -ENOMEM;
	if (n > (size_t)-1 / 2 - b->len) {
		b->oom = 1;
		return -ENOMEM;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	np = realloc(b->p, cap);
	if (np == NULL) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->p = np;
	b->cap = cap;
	ew_mem_hint(np, cap);
	return 0;
}

void
ew_buf_add(struct ew_buf *b, const void *data, size_t n)
{
	if (ew_buf_grow(b, n) < 0)
		return;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
ew_buf_puts(struct ew_buf *b, const char *s)
{
	ew_buf_add(b, s, strlen(s));
}

void
ew_buf_putc(struct ew_buf *b, char c)
{
	ew_buf_add(b, &c, 1);
}

void
ew_buf_vprintf(struct ew_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (ew_buf_grow(b, 64) < 0)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (ew_buf_grow(b, (size_t)n) < 0)
			return;
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
	}
	b->len += (size_t)n;
}

void
ew_buf_printf(struct ew_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ew_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *
ew_buf_str(const struct ew_buf *b)
{
	return b->p != NULL ? b->p : "";
}

char *
ew_buf_detach(struct ew_buf *b)
{
	char *p;

	if (b->oom) {
		ew_buf_free(b);
		return NULL;
	}
	p = b->p != NULL ? b->p : strdup("");
	ew_buf_init(b);
	return p;
}

char *
ew_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	ew_mem_hint(p, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
ew_str_is(const char *word, const char *s, size_t n)
{
	return strlen(word) == n && memcmp(word, s, n) == 0;
}
