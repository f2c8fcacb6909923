/*
 * output.c - what the commands print with: messages on stderr (one
 * line, values escaped for a terminal), diagnostics, and whole buffers
 * on stdout with write errors caught.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/esc.h"

/* A message is one line: whatever it quotes (a path, a complaint's
 * words) is shown as the terminal sink shows it. */
void
ew_cli_err(const char *fmt, ...)
{
	struct ew_buf m = EW_BUF_INIT, e = EW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ew_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	ew_esc_term(&e, ew_buf_str(&m), m.len, 0);
	fprintf(stderr, "exitwarden: %s\n",
	    e.oom || m.oom ? "out of memory" : ew_buf_str(&e));
	ew_buf_free(&m);
	ew_buf_free(&e);
}

const char *
ew_cli_esc(const char *s)
{
	static struct ew_buf ring[EW_CLI_ESC_RING];
	static unsigned next;
	struct ew_buf *b;

	if (s == NULL)
		return "";
	if (!ew_esc_term_needed(s, strlen(s), 0))
		return s;
	b = &ring[next++ % EW_CLI_ESC_RING];
	ew_buf_reset(b);
	ew_esc_term(b, s, strlen(s), 0);
	return b->oom ? "(out of memory)" : ew_buf_str(b);
}

void
ew_cli_print_diags(const struct ew_diag_list *d, int json)
{
	struct ew_buf b = EW_BUF_INIT;

	if (json)
		ew_diag_format_json(d, &b);
	else
		ew_diag_format(d, &b);
	fputs(ew_buf_str(&b), stderr);
	ew_buf_free(&b);
}

int
ew_cli_put(struct ew_buf *b)
{
	int rc = EW_EXIT_OK;

	if (b->oom) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
	} else if (ew_cli_write(ew_buf_str(b), b->len) < 0) {
		rc = EW_EXIT_FAIL;
	}
	ew_buf_free(b);
	return rc;
}

int
ew_cli_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ew_cli_err("write error: %s", strerror(errno));
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void
ew_cli_report(const struct ew_diag_list *dg)
{
	struct ew_diag_list one;
	size_t i;

	for (i = 0; i < dg->n; i++) {
		if (dg->v[i].file == NULL) {
			ew_cli_err("%s", dg->v[i].msg);
			continue;
		}
		memset(&one, 0, sizeof(one));
		one.v = &dg->v[i];
		one.n = 1;
		ew_cli_print_diags(&one, 0);
	}
}
