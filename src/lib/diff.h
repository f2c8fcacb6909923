/*
 * diff.h - a unified diff of two texts, line by line (the form of
 * `diff -u`), for showing what a command would change (setup -n).
 */
#ifndef EW_LIB_DIFF_H
#define EW_LIB_DIFF_H

#include <stddef.h>

struct ew_buf;

/*
 * Append to out the unified diff (3 lines of context) that turns text a
 * (alen bytes, labelled a_name) into b, with "--- a_name" and "+++
 * b_name" headers; nothing when they are equal.  Either text may be
 * NULL for a file that does not exist (shown against /dev/null).
 * Texts of more than 10,000 lines are shown as one hunk.  0, or
 * -ENOMEM.
 */
int ew_diff_unified(const char *a_name, const char *a, size_t alen,
    const char *b_name, const char *b, size_t blen, struct ew_buf *out);

#endif
