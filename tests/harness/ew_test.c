/*
 * ew_test.c - the unit-test harness (see ew_test.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "ew_test.h"

unsigned ew_test_passed, ew_test_failed;
const char *ew_test_name = "?";

void
ew_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	ew_test_failed++;
	fprintf(stdout, "FAIL %s (%s:%d): ", ew_test_name, file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int
ew_test_done(void)
{
	printf("%u passed, %u failed\n", ew_test_passed, ew_test_failed);
	return ew_test_failed ? 1 : 0;
}
