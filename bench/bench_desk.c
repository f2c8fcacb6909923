/*
 * bench_desk.c - the desk on a ticket a sender made big: one complaint
 * of N incidents (a zipped CSV of N rows, say), each naming its own
 * destination and ports.  Times storing it, reading it back (what
 * `ticket show` lists), and the proposals (what `complaint add` and
 * `ticket show` print, and `ticket block` chooses from).  Issue 17 item
 * 8: at 900k incidents the proposals took more than ten minutes (a
 * linear strcmp dedupe); they must be n log n.
 *
 * bench_desk [N]   (default 900000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desk/desk.h"
#include "store/store.h"

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 900000, i, k, nr;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_store_complaint c;
	struct ew_store_incident *in, *back = NULL;
	struct ew_desk_proposal *p = NULL;
	char(*dst)[24];
	int64_t cid = 0, tid = 0;
	double t0, t1, t2, t3;
	static const struct ew_port_range ssh[] = { { 22, 22 } };
	static const struct ew_port_range many[] = { { 22, 22 }, { 80, 80 },
		{ 443, 443 }, { 6660, 7000 } };

	in = calloc(n ? n : 1, sizeof(*in));
	dst = calloc(n ? n : 1, sizeof(*dst));
	if (in == NULL || dst == NULL || ew_store_open(":memory:", &st) != 0 ||
	    ew_desk_new(st, NULL, 0, &d) != 0) {
		fprintf(stderr, "bench_desk: setup failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		/* destinations spread over 100.64.0.0/10, a few repeated */
		size_t x = (i * 2654435761u) % (n - n / 8 + 1);

		snprintf(dst[i], sizeof(dst[i]), "100.%zu.%zu.%zu",
		    64 + ((x >> 16) & 63), (x >> 8) & 255, x & 255);
		in[i].src = "198.51.100.7";
		in[i].src_port = -1;
		in[i].dst = dst[i];
		in[i].dst_ports = i % 4 ? ssh : many;
		in[i].n_dst_ports = i % 4 ? 1 : 4;
		in[i].time = in[i].time_from = in[i].time_to = EW_STORE_NO_TIME;
		in[i].verdict = EW_STORE_VERDICT_ALLOWED;
	}
	memset(&c, 0, sizeof(c));
	c.content_sha256 = "bench";
	c.reporter = "scanner@example.net";
	c.format = "csv";
	c.received_at = 1700000000;
	c.date = c.deadline = EW_STORE_NO_TIME;
	t0 = secs();
	if (ew_store_complaint_add(st, &c, in, n, &cid) != 0 ||
	    ew_store_ticket_open(
		st, c.reporter, 1700000000, EW_STORE_NO_TIME, &tid) != 0 ||
	    ew_store_ticket_link(st, tid, cid) != 0) {
		fprintf(stderr, "bench_desk: store failed\n");
		return 1;
	}
	t1 = secs();
	if (ew_store_incident_list(st, cid, &back, &nr) != 0) {
		fprintf(stderr, "bench_desk: read failed\n");
		return 1;
	}
	t2 = secs();
	if (ew_desk_proposals(d, tid, &p, &k) != 0) {
		fprintf(stderr, "bench_desk: proposals failed\n");
		return 1;
	}
	t3 = secs();
	printf("   %zu incidents: stored in %.2f s, read back in %.2f s, "
	       "proposals in %.2f s (%zu scopes, %zu rules in the first)\n",
	    n, t1 - t0, t2 - t1, t3 - t2, k, k ? p[0].n : 0);
	ew_desk_proposals_free(p, k);
	ew_store_incidents_free(back, nr);
	free(in);
	free(dst);
	ew_desk_free(d);
	ew_store_close(st);
	return 0;
}
