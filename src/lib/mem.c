/*
 * mem.c - the huge-page hint for big arrays (see mem.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/mem.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#define HUGE ((uintptr_t)2 << 20)

void
ew_mem_hint(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	uintptr_t a = (uintptr_t)p, b, e;

	if (p == NULL || n < EW_MEM_BIG || a + n < a)
		return;
	b = (a + HUGE - 1) & ~(HUGE - 1);
	e = (a + n) & ~(HUGE - 1);
	if (b < e)
		(void)madvise((void *)b, (size_t)(e - b), MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

void *
ew_mem_big(size_t n)
{
	void *p = malloc(n);

	ew_mem_hint(p, n);
	return p;
}
