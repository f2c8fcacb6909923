/*
 * bench_mail.c - complaint parsing throughput.
 *
 *	bench_mail [--json] [--rounds N] FILE|DIR...
 *
 * Reads every file named (directories recursively), then parses the
 * whole set N times (default 20) through ew_complaint_parse and
 * ew_complaint_json, as `exitwarden complaint parse --json` does, and
 * prints messages/s, MB/s and incidents per format.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "mail/mail.h"

struct msg {
	char *name, *data;
	size_t len;
};

static struct msg *msgs;
static size_t nmsgs, capmsgs;

static void
add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct msg m;
	long n;

	if (f == NULL)
		return;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return;
	}
	m.len = (size_t)n;
	m.data = malloc(m.len + 1);
	m.name = strdup(path);
	if (m.data == NULL || m.name == NULL ||
	    fread(m.data, 1, m.len, f) != m.len) {
		free(m.data);
		free(m.name);
		fclose(f);
		return;
	}
	fclose(f);
	if (nmsgs == capmsgs) {
		capmsgs = capmsgs ? capmsgs * 2 : 64;
		msgs = realloc(msgs, capmsgs * sizeof(*msgs));
		if (msgs == NULL)
			exit(1);
	}
	msgs[nmsgs++] = m;
}

static void
add_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (stat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		if (strstr(path, ".md") == NULL)
			add_file(path);
		return;
	}
	d = opendir(path);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		add_path(p);
	}
	closedir(d);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	int i, rounds = 20, json = 0, r;
	size_t k, bytes = 0, ok = 0, incidents = 0;
	double t0, t;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (int)strtol(argv[++i], NULL, 10);
		else
			add_path(argv[i]);
	}
	if (rounds < 1)
		rounds = 1;
	if (nmsgs == 0) {
		fprintf(stderr, "bench_mail: no messages\n");
		return 1;
	}
	for (k = 0; k < nmsgs; k++)
		bytes += msgs[k].len;
	t0 = now();
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < nmsgs; k++) {
			struct ew_diag_list d;
			struct ew_complaint *c = NULL;
			struct ew_buf b = EW_BUF_INIT;

			ew_diag_init(&d);
			if (ew_complaint_parse(msgs[k].name, msgs[k].data,
				msgs[k].len, &d, &c) == 0 &&
			    c != NULL) {
				ew_complaint_json(c, &b);
				if (r == 0) {
					ok++;
					incidents +=
					    ew_complaint_incident_count(c);
				}
			}
			ew_buf_free(&b);
			ew_complaint_free(c);
			ew_diag_free(&d);
		}
	}
	t = now() - t0;
	if (json)
		printf("{\"messages\":%zu,\"parsed\":%zu,\"incidents\":%zu,"
		       "\"rounds\":%d,\"messages_per_s\":%.0f,"
		       "\"mb_per_s\":%.2f}\n",
		    nmsgs, ok, incidents, rounds, (double)nmsgs * rounds / t,
		    (double)bytes * rounds / t / 1e6);
	else
		printf("%zu messages (%zu parsed, %zu incidents), %d rounds: "
		       "%.0f messages/s, %.2f MB/s\n",
		    nmsgs, ok, incidents, rounds, (double)nmsgs * rounds / t,
		    (double)bytes * rounds / t / 1e6);
	for (k = 0; k < nmsgs; k++) {
		free(msgs[k].name);
		free(msgs[k].data);
	}
	free(msgs);
	return 0;
}
