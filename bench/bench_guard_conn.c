/*
 * bench_guard_conn.c - new TCP connections per second through the output
 * hook, for bench_guard.sh: connect() to a port nobody listens on (the
 * SYN goes out through the hook, the RST comes back at once), over
 * `ndst` destination addresses of 10.0.0.0/8 (routed to lo) and 64
 * ports, for `secs` seconds.  Prints "N connections in S s: R/s".
 *
 * With RATE, connections are paced at RATE per second, and the CPU time
 * each one cost (user + system, getrusage) is printed too.
 *
 *	bench_guard_conn SECS NDST [PORT0 [RATE]]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	double secs, t0, t, rate, cpu;
	unsigned long n = 0, ndst, port0;
	struct rusage ru;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_guard_conn SECS NDST [PORT0]\n");
		return 2;
	}
	secs = strtod(argv[1], NULL);
	ndst = strtoul(argv[2], NULL, 10);
	port0 = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
	rate = argc > 4 ? strtod(argv[4], NULL) : 0;
	if (ndst == 0)
		ndst = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	t0 = now();
	do {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		unsigned long d = n % ndst;

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		sa.sin_addr.s_addr = htonl(0x0a000000u + 1 + (uint32_t)d);
		sa.sin_port = htons((uint16_t)(port0 + (n / ndst) % 64));
		(void)connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		n++;
		t = (n & 255) == 0 || rate > 0 ? now() : t0;
		if (rate > 0 && (double)n / rate > t - t0) {
			double w = (double)n / rate - (t - t0);
			struct timespec ts = { 0, (long)(w * 1e9) };

			if (w > 0.0002)
				nanosleep(&ts, NULL);
		}
	} while (t - t0 < secs);
	t = now();
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("%lu connections in %.2f s: %.0f/s, %.2f us CPU each\n", n,
	    t - t0, (double)n / (t - t0), cpu * 1e6 / (double)n);
	return 0;
}
