/*
 * cmd_template.c - exitwarden template export DIR: the built-in reply
 * templates written out, for the operator to edit (never over an
 * edited one).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "desk/desk.h"

int
ew_cmd_template_export(struct ew_args *a)
{
	static const char *const names[] = { "provider", "complainant" };
	char path[PATH_MAX];
	size_t i, len;
	const char *dir;
	int fd, rc;

	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	dir = a->ops[0];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		ew_cli_err("%s: %s", dir, strerror(errno));
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < 2; i++) {
		const char *t = ew_desk_template(names[i]);

		snprintf(path, sizeof(path), "%s/%s.txt", dir, names[i]);
		/* never overwrite the operator's edits */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			ew_cli_err("%s: %s%s", path, strerror(errno),
			    errno == EEXIST ? " (left as it is)" : "");
			continue;
		}
		len = strlen(t);
		if (write(fd, t, len) != (ssize_t)len || close(fd) < 0) {
			ew_cli_err("%s: write error", path);
			return EW_EXIT_FAIL;
		}
		printf("wrote %s\n", path);
	}
	return EW_EXIT_OK;
}
