/*
 * cmd_complaint.c - exitwarden complaint add | list | parse.
 *
 * parse reads one complaint (a mail, or a bare XARF JSON document) from
 * a file or standard input and prints the normalised complaint, as text
 * or as one JSON object (--explain adds where each fact was read and
 * the rule that fired); refused or unreadable input prints nothing on
 * stdout and exits 1.  add stores it, judges its incidents and files it
 * under a ticket; list shows what is stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/tm.h"
#include "mail/mail.h"
#include "store/store.h"

int
ew_cmd_complaint_parse(struct ew_args *a)
{
	int json = ew_cli_has(a, EW_OPT_JSON), rc;
	int explain = ew_cli_has(a, EW_OPT_EXPLAIN);
	const char *path;
	char *data;
	size_t n;
	struct ew_diag_list d;
	struct ew_complaint *c = NULL;
	struct ew_buf out = EW_BUF_INIT;

	if ((rc = ew_cli_operands(a, 1, 1)) != 0)
		return rc;
	path = a->ops[0];
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
		if (explain)
			ew_complaint_json_explain(c, &out);
		else
			ew_complaint_json(c, &out);
		ew_buf_putc(&out, '\n');
	} else {
		ew_complaint_text(c, &out);
		if (explain)
			ew_complaint_explain_text(c, &out);
	}
	ew_complaint_free(c);
	return ew_cli_put(&out);
}

/* What complaint add says it did, in words, then the ticket. */
static int
added_text(struct ew_desk *d, const char *path, const struct ew_desk_added *r,
    int64_t now)
{
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	printf("%s: %s complaint %lld, ticket %lld%s\n\n", path,
	    r->duplicate ? "already stored as" : "stored as",
	    (long long)r->complaint_id, (long long)r->ticket_id,
	    r->new_ticket ? " (new)" : "");
	if (r->reuses_message_id > 0)
		printf("%s: note: its Message-ID is that of complaint %lld, "
		       "with other content (stored as a complaint of its "
		       "own)\n\n",
		    path, (long long)r->reuses_message_id);
	fflush(stdout);
	if (r->ticket_id == 0)
		return EW_EXIT_OK;
	if ((rc = ew_desk_ticket_render(d, r->ticket_id, now, 0, &b)) != 0) {
		ew_cli_err(
		    "ticket %lld: %s", (long long)r->ticket_id, strerror(-rc));
		ew_buf_free(&b);
		return EW_EXIT_FAIL;
	}
	return ew_cli_put(&b);
}

int
ew_cmd_complaint_add(struct ew_args *a)
{
	struct ew_addr *extra = NULL;
	size_t n_extra = 0, n, k;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_added r;
	struct ew_diag_list diags;
	struct ew_buf b = EW_BUF_INIT;
	int64_t now = ew_time_now();
	const char *path;
	char *data;
	int json = 0, rc = 0;

	for (k = 0; rc == 0 && k < a->no; k++) {
		const struct ew_optval *v = &a->o[k];

		if (v->id == EW_OPT_JSON)
			json = 1;
		else if (v->id == EW_OPT_NO_RESOLVE)
			ew_cli_resolve = 0;
		else if (v->id == EW_OPT_NOW)
			rc = ew_cli_parse_now(v->val, &now);
		else
			rc = ew_cli_addr_list(v, &extra, &n_extra);
	}
	if (rc == 0)
		rc = ew_cli_operands(a, 1, 1);
	if (rc != 0) {
		free(extra);
		return rc;
	}
	path = a->ops[0];
	if ((data = ew_cli_read_mail(&path, &n)) == NULL) {
		free(extra);
		return EW_EXIT_FAIL;
	}
	rc = ew_cli_desk_open(extra, n_extra, &st, &d);
	free(extra);
	if (rc != 0) {
		free(data);
		return EW_EXIT_FAIL;
	}
	ew_diag_init(&diags);
	rc = ew_desk_add(d, path, data, n, now, &diags, &r);
	free(data);
	if (rc != 0) {
		for (k = 0; k < diags.n; k++)
			ew_cli_err("%s: %s", path, diags.v[k].msg);
		if (diags.n == 0)
			ew_cli_err("%s: not stored: %s%s%s", path,
			    strerror(-rc), *ew_store_errmsg(st) ? ": " : "",
			    ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	} else if (json) {
		if ((rc = ew_desk_added_render(d, &r, now, &b)) == 0) {
			rc = ew_cli_put(&b);
		} else {
			ew_cli_err("%s: %s", path, strerror(-rc));
			ew_buf_free(&b);
			rc = EW_EXIT_FAIL;
		}
	} else {
		rc = added_text(d, path, &r, now);
	}
	ew_diag_free(&diags);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}

int
ew_cmd_complaint_list(struct ew_args *a)
{
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_desk_complaints_render(st, ew_cli_has(a, EW_OPT_JSON), &b);
	if (rc != 0) {
		ew_cli_err("%s: %s", ew_cli_db_label(), ew_store_errmsg(st));
		ew_buf_free(&b);
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	ew_store_close(st);
	return ew_cli_put(&b);
}
