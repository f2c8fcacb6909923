/*
 * mem.h - big arrays: a hint to the kernel that an allocation of many
 * megabytes (a million-entry table's items, sort records, text) is to
 * be backed by huge pages where the system allows them on request
 * (transparent_hugepage "madvise").  A page fault then maps 2 MiB
 * instead of 4 KiB: a million-entry apply spends a third of its time in
 * page faults otherwise.  Nothing but speed depends on it: on other
 * systems, or when the kernel declines, it does nothing.
 */
#ifndef EW_LIB_MEM_H
#define EW_LIB_MEM_H

#include <stddef.h>

/* Allocations from this size on get the hint. */
#define EW_MEM_BIG ((size_t)4 << 20)

/* The hint for the whole 2 MiB pages inside [p, p + n), when n is at
 * least EW_MEM_BIG (p may be NULL). */
void ew_mem_hint(void *p, size_t n);

/* malloc, with the hint for a big block. */
void *ew_mem_big(size_t n);

#endif
