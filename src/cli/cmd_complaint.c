/*
 * cmd_complaint.c - exitwarden complaint parse (complaint add and list,
 * which store, are in cmd_desk.c).
 *
 * Reads one complaint (a mail, or a bare XARF JSON document) from a file
 * or standard input and prints the normalised complaint, as text or as
 * one JSON object.  Refused or unreadable input prints nothing on
 * stdout and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "mail/mail.h"

/*
 * Read all of f, but never more than one byte past the size limit (so
 * an oversized message is refused without being held in memory).
 */
char *
ew_cli_read_all(FILE *f, size_t max, size_t *n)
{
	char *buf;

	return ew_file_read_fd(fileno(f), max + 1, EW_FILE_PREFIX, &buf, n) < 0
		   ? NULL
		   : buf;
}

char *
ew_cli_read_mail(const char **path, size_t *n)
{
	char *data;
	FILE *f;

	if (strcmp(*path, "-") == 0) {
		f = stdin;
		*path = "<stdin>";
	} else if ((f = fopen(*path, "rb")) == NULL) {
		ew_cli_err("%s: %s", *path, strerror(errno));
		return NULL;
	}
	data = ew_cli_read_all(f, EW_MAIL_MAX_SIZE, n);
	if (f != stdin)
		fclose(f);
	if (data == NULL)
		ew_cli_err("%s: read error", *path);
	return data;
}

int
ew_cmd_complaint_parse(int argc, char **argv)
{
	int i, json = 0, rc;
	const char *path;
	char *data;
	size_t n;
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_buf out = EW_BUF_INIT;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("complaint", "parse");
		}
	}
	if (i != argc - 1)
		return ew_cli_usage("complaint", "parse");
	path = argv[i];
	if ((data = ew_cli_read_mail(&path, &n)) == NULL)
		return EW_EXIT_FAIL;
	ew_diag_init(&d);
	rc = ew_complaint_parse(path, data, n, &d, &c);
	free(data);
	if (rc < 0) {
		size_t k;

		for (k = 0; k < d.n; k++)
			ew_cli_err("%s: %s", path, d.v[k].msg);
		if (d.n == 0)
			ew_cli_err("%s: cannot parse the complaint", path);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ew_diag_free(&d);
	if (json) {
		ew_complaint_json(c, &out);
		ew_buf_putc(&out, '\n');
	} else {
		ew_complaint_text(c, &out);
	}
	ew_complaint_free(c);
	return ew_cli_put(&out);
}
