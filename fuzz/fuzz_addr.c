/*
 * fuzz_addr.c - the address parsers: whatever parses must print as text
 * that parses back to the same bytes (tor_inet_pton / tor_inet_ntop agree
 * with themselves), and the IPv4 parser never accepts what it would not
 * print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/addr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[128], out[EW_ADDR_STRLEN];
	struct ew_addr a, b;
	uint8_t b4[4];

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ew_addr_parse4(in, b4)) {
		memset(&a, 0, sizeof(a));
		a.family = EW_AF_INET;
		memcpy(a.b, b4, 4);
		ew_addr_format(&a, 0, out, sizeof(out));
		EW_FUZZ_ASSERT(strcmp(in, out) == 0);
	}
	if (ew_addr_parse(in, &a)) {
		EW_FUZZ_ASSERT(
		    a.family == EW_AF_INET || a.family == EW_AF_INET6);
		ew_addr_format(&a, 1, out, sizeof(out));
		EW_FUZZ_ASSERT(ew_addr_parse(out, &b));
		EW_FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
		(void)ew_addr_is_internal(&a);
		(void)ew_addr_is_multicast(&a);
	}
	return 0;
}
