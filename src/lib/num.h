/*
 * num.h - checked integer parsing (a strtonum equivalent).
 */
#ifndef EW_LIB_NUM_H
#define EW_LIB_NUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse the n bytes at s as a decimal number in [min, max]: digits only,
 * no sign, no blanks, no leading "+".  0 on success, -1 otherwise.
 */
int ew_parse_uint(
    const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out);

#endif
