/*
 * cmd_config.c - exitwarden config check [FILE] and config show: the
 * configuration file (conf/conf.h) checked with every error located,
 * and the configuration in effect (command line, environment, file,
 * built-in defaults) printed in the file's own syntax.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/diag.h"

int
ew_cmd_config_check(struct ew_args *a)
{
	struct ew_diag_list d;
	struct ew_conf *c = NULL;
	const char *path;
	int rc, explicit_;
	size_t i;

	if (a->no > 0)
		return ew_cli_unexpected(a, &a->o[0]);
	if ((rc = ew_cli_operands(a, 0, 1)) != 0)
		return rc;
	path = a->nops == 1 ? a->ops[0] : ew_cli_conf_path(&explicit_);
	ew_diag_init(&d);
	rc = ew_conf_load(path, &d, &c);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc == -ENOENT) {
		ew_cli_err("%s: no configuration file there", path);
		return EW_EXIT_FAIL;
	}
	if (rc != 0) {
		ew_cli_err("%s: not valid", path);
		return EW_EXIT_FAIL;
	}
	printf("%s: ok, %zu relay%s", path, c->n_relays,
	    c->n_relays == 1 ? "" : "s");
	for (i = 0; i < c->n_relays; i++)
		printf("%s%s", i ? ", " : ": ", c->relays[i].name);
	printf("\n");
	ew_conf_free(c);
	return EW_EXIT_OK;
}

int
ew_cmd_config_show(struct ew_args *a)
{
	const struct ew_conf *c;
	struct ew_conf e;
	struct ew_buf b = EW_BUF_INIT;
	int rc, explicit_;

	if (a->no > 0)
		return ew_cli_unexpected(a, &a->o[0]);
	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	if (ew_cli_conf_open() != 0)
		return EW_EXIT_FAIL;
	c = ew_cli_conf();
	memset(&e, 0, sizeof(e));
	if (c != NULL)
		e = *c;
	/* what the commands use: the file's values under the command
	 * line's and the environment's (the casts only borrow) */
	e.database = (char *)ew_cli_db_label();
	e.policy = (char *)ew_cli_policy_path(NULL);
	e.maildir = (char *)ew_cli_maildir(NULL);
	e.templates = (char *)ew_cli_templates_dir();
	if (c != NULL)
		ew_buf_printf(&b,
		    "# the configuration in effect: %s, under "
		    "the command line and the environment\n",
		    c->path);
	else
		ew_buf_printf(&b,
		    "# the configuration in effect: no file at %s, the "
		    "built-in defaults\n",
		    ew_cli_conf_path(&explicit_));
	if (c == NULL || c->n_relays == 0)
		ew_buf_printf(&b,
		    "# no relay: tor is reached through --control (default "
		    "/run/tor/control, then 127.0.0.1:9051) and authenticated "
		    "as it offers; nft matches user debian-tor; exitwarden "
		    "setup adds the relays\n");
	else if (c->n_relays > 1)
		ew_buf_printf(&b,
		    "# commands without a relay use the first: "
		    "%s\n",
		    c->relays[0].name);
	if (ew_conf_format(&e, &b) != 0) {
		ew_buf_free(&b);
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	return ew_cli_put(&b);
}
