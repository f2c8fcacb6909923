/*
 * ew_test.h - a tiny unit-test harness.
 *
 * A test binary defines test functions, lists them in main through
 * EW_RUN, and returns ew_test_done(), which prints the closing line
 * "N passed, N failed" (counting checks) and returns the exit status.
 * A failed check prints file:line and the expression, and the test goes
 * on, so one run shows every failure.
 */
#ifndef EW_TEST_H
#define EW_TEST_H

#include <stdio.h>
#include <string.h>

extern unsigned ew_test_passed, ew_test_failed;
extern const char *ew_test_name;

void ew_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ew_test_done(void);

#define EW_CHECK(cond)                                                         \
	do {                                                                   \
		if (cond)                                                      \
			ew_test_passed++;                                      \
		else                                                           \
			ew_test_fail(__FILE__, __LINE__, "%s", #cond);         \
	} while (0)

#define EW_CHECK_INT(a, b)                                                     \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ == b_)                                                  \
			ew_test_passed++;                                      \
		else                                                           \
			ew_test_fail(__FILE__, __LINE__,                       \
			    "%s == %s: %lld != %lld", #a, #b, a_, b_);         \
	} while (0)

#define EW_CHECK_STR(a, b)                                                     \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0)           \
			ew_test_passed++;                                      \
		else                                                           \
			ew_test_fail(__FILE__, __LINE__,                       \
			    "%s == %s: \"%s\" != \"%s\"", #a, #b,              \
			    a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
	} while (0)

#define EW_RUN(fn)                                                             \
	do {                                                                   \
		ew_test_name = #fn;                                            \
		fn();                                                          \
	} while (0)

#endif
