/*
 * driver_replay.c - main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput on every file named, or on every file in each
 * directory named, and ends with "N passed, N failed" (an input that
 * crashes aborts the run instead, which ctest reports).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	int i;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			failed++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;

			if (d == NULL) {
				failed++;
				continue;
			}
			while ((e = readdir(d)) != NULL) {
				char p[4096];

				if (e->d_name[0] == '.')
					continue;
				snprintf(
				    p, sizeof(p), "%s/%s", argv[i], e->d_name);
				if (run_file(p) == 0)
					passed++;
				else
					failed++;
			}
			closedir(d);
		} else if (run_file(argv[i]) == 0) {
			passed++;
		} else {
			failed++;
		}
	}
	if (passed == 0)
		failed++; /* an empty corpus tests nothing */
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
