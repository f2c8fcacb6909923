/*
 * bench_nft_update.c - one-element updates of a set of our table,
 * timed: add, then delete, ROUNDS times, either over nf_tables netlink
 * (ew_nft_set_update, the default) or through libnftables
 * (ew_nft_set_elements, --libnftables).  Run by bench_nft.sh inside a
 * network namespace.
 *
 *	bench_nft_update [--libnftables] SET ELEMENT [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emit/nft.h"
#include "lib/buf.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
update(int lib, const char *set, int add, const char *elem, struct ew_buf *err)
{
	struct ew_nft_elem e;

	if (lib)
		return ew_nft_set_elements(set, add, elem, 0, err);
	if (ew_nft_elem_parse(elem, &e) < 0) {
		ew_buf_printf(err, "malformed element '%s'\n", elem);
		return -1;
	}
	return ew_nft_set_update(set, add, &e, 1, err);
}

int
main(int argc, char **argv)
{
	int lib = 0, rounds, i;

	if (argc > 1 && strcmp(argv[1], "--libnftables") == 0) {
		lib = 1;
		argc--;
		argv++;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: bench_nft_update [--libnftables] SET "
				"ELEMENT [ROUNDS]\n");
		return 2;
	}
	rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1;
	for (i = 0; i < rounds; i++) {
		struct ew_buf err = EW_BUF_INIT;
		double t0 = now_ms(), t1, t2;
		int rc = update(lib, argv[1], 1, argv[2], &err);

		t1 = now_ms();
		if (rc == 0)
			rc = update(lib, argv[1], 0, argv[2], &err);
		t2 = now_ms();
		if (rc != 0) {
			fprintf(
			    stderr, "bench_nft_update: %s", ew_buf_str(&err));
			ew_buf_free(&err);
			return 1;
		}
		printf("%s: add %.1f ms, delete %.1f ms\n",
		    lib ? "libnftables" : "netlink", t1 - t0, t2 - t1);
		ew_buf_free(&err);
	}
	return 0;
}
