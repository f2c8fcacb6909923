/*
 * cmd_ticket.c - the operator's cases: ticket list | show | block |
 * reply | close, and expire.
 *
 * Blocks live in the store; the managed policy (managed.policy beside
 * the database) is written from them, followed by an include of the
 * operator's policy, and that file is what is applied.  A change is one
 * store transaction around the whole of it: write the file, apply it
 * (tor, then nftables), record the applied version.  If the apply fails
 * the transaction is rolled back and the file is written again from the
 * store as it was, so the store, the file and what runs agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "compile/compile.h"
#include "desk/desk.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

/* Blocks last 90 days unless --expires says otherwise. */
#define EW_BLOCK_DEFAULT_TTL (90 * 86400)

static void
jstr_or_null(struct ew_buf *b, const char *s)
{
	if (s == NULL)
		ew_buf_puts(b, "null");
	else
		ew_json_str(b, s);
}

static void
jtime(struct ew_buf *b, int64_t t)
{
	char s[EW_TIME_STRLEN];

	if (t == EW_STORE_NO_TIME)
		ew_buf_puts(b, "null");
	else
		ew_buf_printf(b, "\"%s\"", ew_time_format(t, s, sizeof(s)));
}

/* "6660-7000,8888" as ["6660-7000","8888"], as complaint parse --json
 * writes it; null when not stated. */
static void
jports(struct ew_buf *b, const struct ew_port_range *r, size_t n)
{
	struct ew_buf one = EW_BUF_INIT;
	size_t i;

	if (n == 0) {
		ew_buf_puts(b, "null");
		return;
	}
	ew_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		ew_buf_reset(&one);
		ew_ports_format(&r[i], 1, &one);
		if (i > 0)
			ew_buf_putc(b, ',');
		ew_json_str(b, ew_buf_str(&one));
	}
	ew_buf_putc(b, ']');
	ew_buf_free(&one);
}

/* "in 11h59m" / "overdue by 2h3m" */
static void
due_text(struct ew_buf *b, int64_t due, int64_t now)
{
	int64_t d = due > now ? due - now : now - due;
	char t[EW_TIME_STRLEN];

	ew_buf_printf(b, "due %s (", ew_time_format(due, t, sizeof(t)));
	ew_buf_puts(b, due > now ? "in " : "overdue by ");
	if (d >= 86400)
		ew_buf_printf(b, "%lldd", (long long)(d / 86400));
	ew_buf_printf(b, "%lldh%02lldm)", (long long)(d % 86400 / 3600),
	    (long long)(d % 3600 / 60));
}

static int
parse_id(const char *s, int64_t *id)
{
	uint64_t v;

	if (ew_parse_uint(s, strlen(s), 1, INT64_MAX, &v) != 0) {
		ew_cli_err("'%s' is not a ticket number", s);
		return -1;
	}
	*id = (int64_t)v;
	return 0;
}

/*
 * The arguments of the ticket verbs that take a ticket number and a few
 * of these options (named, without dashes, in `takes`): --json, --now
 * TIME, --to WHO, --templates DIR, --reason TEXT.  0, or an exit code.
 */
struct ticket_args {
	int64_t id, now;
	int json;
	const char *to, *templates, *reason;
};

static int
ticket_args(int argc, char **argv, const char *verb, const char *takes,
    struct ticket_args *a)
{
	static const char *const valued[] = { "now", "to", "templates",
		"reason" };
	const char **slot[] = { NULL, &a->to, &a->templates, &a->reason };
	int k, have = 0;
	size_t v;

	for (k = 1; k < argc; k++) {
		const char *o = argv[k] + 2;

		if (argv[k][0] != '-' && !have) {
			if (parse_id(argv[k], &a->id) < 0)
				return EW_EXIT_USAGE;
			have = 1;
			continue;
		}
		if (strncmp(argv[k], "--", 2) != 0 || strstr(takes, o) == NULL)
			goto bad;
		if (strcmp(o, "json") == 0) {
			a->json = 1;
			continue;
		}
		if (strcmp(o, "no-resolve") == 0) {
			ew_cli_resolve = 0;
			continue;
		}
		for (v = 0; v < 4 && strcmp(o, valued[v]) != 0; v++)
			;
		if (v == 4)
			goto bad;
		if (k + 1 >= argc) {
			ew_cli_err("option '%s' needs a value", argv[k]);
			return ew_cli_usage("ticket", verb);
		}
		k++;
		if (v == 0 && ew_cli_parse_now(argv[k], &a->now) < 0)
			return EW_EXIT_USAGE;
		if (v > 0)
			*slot[v] = argv[k];
	}
	if (have)
		return 0;
	return ew_cli_usage("ticket", verb);
bad:
	ew_cli_err("unknown argument '%s'", argv[k]);
	return ew_cli_usage("ticket", verb);
}

/* ---- printing one ticket ---- */

static void
print_incident(struct ew_buf *b, const struct ew_store_incident *in, int json)
{
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	struct ew_buf ports = EW_BUF_INIT;

	if (json) {
		ew_buf_printf(b, "{\"id\":%lld,\"src\":", (long long)in->id);
		jstr_or_null(b, in->src);
		ew_buf_puts(b, ",\"dst\":");
		jstr_or_null(b, in->dst);
		ew_buf_puts(b, ",\"dst_host\":");
		jstr_or_null(b, in->dst_host);
		ew_buf_puts(b, ",\"dst_ports\":");
		jports(b, in->dst_ports, in->n_dst_ports);
		ew_buf_puts(b, ",\"time\":");
		jtime(b, in->time);
		ew_buf_puts(b, ",\"time_from\":");
		jtime(b, in->time_from);
		ew_buf_puts(b, ",\"time_to\":");
		jtime(b, in->time_to);
		ew_buf_puts(b, ",\"verdict\":");
		jstr_or_null(b, ew_store_verdict_word(in->verdict));
		ew_buf_putc(b, '}');
		return;
	}
	ew_ports_format(in->dst_ports, in->n_dst_ports, &ports);
	ew_buf_printf(b, "    incident %lld: %s -> %s%s%s%s ports %s, ",
	    (long long)in->id, ew_cli_esc(in->src),
	    in->dst        ? ew_cli_esc(in->dst)
	    : in->dst_host ? ew_cli_esc(in->dst_host)
			   : "*",
	    in->dst && in->dst_host ? " (" : "",
	    in->dst && in->dst_host ? ew_cli_esc(in->dst_host) : "",
	    in->dst && in->dst_host ? ")" : "",
	    in->n_dst_ports > 0 ? ew_buf_str(&ports) : "*");
	ew_buf_free(&ports);
	if (in->time != EW_STORE_NO_TIME)
		ew_buf_printf(
		    b, "at %s", ew_time_format(in->time, t1, sizeof(t1)));
	else if (in->time_from != EW_STORE_NO_TIME &&
		 in->time_to != EW_STORE_NO_TIME)
		ew_buf_printf(b, "between %s and %s",
		    ew_time_format(in->time_from, t1, sizeof(t1)),
		    ew_time_format(in->time_to, t2, sizeof(t2)));
	else if (in->time_to != EW_STORE_NO_TIME)
		ew_buf_printf(b, "before %s",
		    ew_time_format(in->time_to, t1, sizeof(t1)));
	else if (in->time_from != EW_STORE_NO_TIME)
		ew_buf_printf(b, "after %s",
		    ew_time_format(in->time_from, t1, sizeof(t1)));
	else
		ew_buf_puts(b, "no time given");
	ew_buf_printf(b, ": %s\n",
	    in->verdict ? ew_store_verdict_word(in->verdict) : "not judged");
}

int
ew_cli_incidents_json(
    struct ew_store *st, int64_t complaint_id, struct ew_buf *b)
{
	struct ew_store_incident *inc;
	size_t n, k;
	int rc;

	if ((rc = ew_store_incident_list(st, complaint_id, &inc, &n)) != 0)
		return rc;
	ew_buf_putc(b, '[');
	for (k = 0; k < n; k++) {
		if (k > 0)
			ew_buf_putc(b, ',');
		print_incident(b, &inc[k], 1);
	}
	ew_buf_putc(b, ']');
	ew_store_incidents_free(inc, n);
	return 0;
}

static int
print_complaints(struct ew_desk *d, struct ew_store *st, int64_t tid,
    struct ew_buf *b, int json)
{
	struct ew_store_complaint *c;
	struct ew_store_incident *inc;
	int64_t *ids = NULL;
	size_t nids = 0, ninc, i, k;
	char t[EW_TIME_STRLEN];
	int rc;

	(void)d;
	if ((rc = ew_store_ticket_complaints(st, tid, &ids, &nids)) != 0)
		return rc;
	if (json)
		ew_buf_puts(b, ",\"complaints\":[");
	for (i = 0; rc == 0 && i < nids; i++) {
		if ((rc = ew_store_complaint_get(st, ids[i], &c)) != 0)
			break;
		if (json) {
			ew_buf_printf(b,
			    "%s{\"id\":%lld,\"subject\":", i ? "," : "",
			    (long long)c->id);
			jstr_or_null(b, c->subject);
			ew_buf_puts(b, ",\"forwarder\":");
			jstr_or_null(b, c->forwarder);
			ew_buf_puts(b, ",\"forwarder_ticket\":");
			jstr_or_null(b, c->forwarder_ticket);
			ew_buf_puts(b, ",\"format\":");
			jstr_or_null(b, c->format);
			ew_buf_puts(b, ",\"date\":");
			jtime(b, c->date);
			ew_buf_puts(b, ",\"received\":");
			jtime(b, c->received_at);
			ew_buf_puts(b, ",\"incidents\":");
		} else {
			ew_buf_printf(b,
			    "  complaint %lld, received %s (%s%s%s)\n",
			    (long long)c->id,
			    ew_time_format(c->received_at, t, sizeof(t)),
			    ew_cli_esc(c->format), c->category ? ", " : "",
			    ew_cli_esc(c->category));
			if (c->subject)
				ew_buf_printf(b, "    subject: %s\n",
				    ew_cli_esc(c->subject));
			if (c->forwarder)
				ew_buf_printf(b, "    forwarded by %s%s%s\n",
				    ew_cli_esc(c->forwarder),
				    c->forwarder_ticket ? ", their ticket "
							: "",
				    ew_cli_esc(c->forwarder_ticket));
		}
		if (json) {
			rc = ew_cli_incidents_json(st, ids[i], b);
			ew_buf_putc(b, '}');
		} else if ((rc = ew_store_incident_list(
				st, ids[i], &inc, &ninc)) == 0) {
			for (k = 0; k < ninc; k++)
				print_incident(b, &inc[k], 0);
			ew_store_incidents_free(inc, ninc);
		}
		ew_store_complaint_free(c);
	}
	if (json)
		ew_buf_putc(b, ']');
	free(ids);
	return rc;
}

/* What became of a host name, in words. */
static const char *
name_state(const struct ew_desk_name *nm)
{
	switch (nm->rc) {
	case 0:
		return nm->n > 0 ? "resolved" : "only internal addresses";
	case -ECANCELED:
		return "not resolved (--no-resolve)";
	case -ETIMEDOUT:
		return "no answer in time";
	case -ENOENT:
		return "no such name";
	case -ENODATA:
		return "no address";
	case -EINVAL:
		return "not a host name";
	case -E2BIG:
		return "not looked up (too many names)";
	default:
		return "the lookup failed";
	}
}

/* The host names the proposals resolved: which addresses, and when. */
static void
print_names(const struct ew_desk_proposals *ps, struct ew_buf *b, int json)
{
	char a[EW_ADDR_STRLEN], t[EW_TIME_STRLEN];
	size_t i, k;

	if (json)
		ew_buf_puts(b, ",\"resolved\":[");
	else if (ps->nnames > 0)
		ew_buf_puts(b, "  destinations named by host name:\n");
	for (i = 0; i < ps->nnames; i++) {
		const struct ew_desk_name *nm = &ps->names[i];

		if (json) {
			ew_buf_puts(b, i ? ",{\"host\":" : "{\"host\":");
			ew_json_str(b, nm->host);
			ew_buf_puts(b, ",\"at\":");
			jtime(b, nm->at);
			ew_buf_puts(b, ",\"addresses\":[");
		} else {
			ew_buf_printf(b, "    %s: %s", ew_cli_esc(nm->host),
			    name_state(nm));
			if (nm->at != EW_STORE_NO_TIME)
				ew_buf_printf(b, " at %s",
				    ew_time_format(nm->at, t, sizeof(t)));
		}
		for (k = 0; k < nm->n; k++) {
			ew_addr_format(&nm->addrs[k], 0, a, sizeof(a));
			if (json)
				ew_buf_printf(b, "%s\"%s\"", k ? "," : "", a);
			else
				ew_buf_printf(b, "%s%s", k ? ", " : " to ", a);
		}
		if (json) {
			ew_buf_printf(
			    b, "],\"skipped\":%zu,\"state\":", nm->skipped);
			ew_json_str(
			    b, nm->rc == 0 ? "resolved" : name_state(nm));
			ew_buf_putc(b, '}');
		} else {
			if (nm->skipped > 0)
				ew_buf_printf(b,
				    " (%zu internal address%s left out)",
				    nm->skipped, nm->skipped > 1 ? "es" : "");
			ew_buf_putc(b, '\n');
		}
	}
	if (json)
		ew_buf_putc(b, ']');
}

static int
print_proposals(struct ew_desk *d, int64_t tid, struct ew_buf *b, int json)
{
	struct ew_desk_proposals ps;
	const struct ew_desk_proposal *p;
	size_t i, k;
	int rc;

	if ((rc = ew_desk_propose(d, tid, &ps)) != 0)
		return rc;
	p = ps.v;
	if (json) {
		ew_buf_puts(b, ",\"proposals\":[");
		for (i = 0; i < ps.n; i++) {
			ew_buf_printf(b,
			    "%s{\"choice\":%zu,\"scope\":\"%s\","
			    "\"rules\":[",
			    i ? "," : "", i + 1, p[i].scope);
			for (k = 0; k < p[i].n; k++) {
				if (k)
					ew_buf_putc(b, ',');
				ew_json_str(b, p[i].rules[k]);
			}
			ew_buf_puts(b, "],\"from\":[");
			for (k = 0; k < p[i].n; k++) {
				if (k)
					ew_buf_putc(b, ',');
				jstr_or_null(b, p[i].from[k]);
			}
			ew_buf_puts(b, "]}");
		}
		ew_buf_putc(b, ']');
	} else if (ps.n == 0) {
		ew_buf_puts(b, "  nothing to block: no incident the policy "
			       "allowed names a destination or ports\n");
	} else {
		ew_buf_printf(b,
		    "  proposals, narrowest first (exitwarden ticket block "
		    "%lld --choice K):\n",
		    (long long)tid);
		for (i = 0; i < ps.n; i++)
			for (k = 0; k < p[i].n; k++) {
				ew_buf_printf(b, "    %-2s %-12s %s",
				    k ? "" : (char[]){ (char)('1' + i), 0 },
				    k ? "" : p[i].scope,
				    ew_cli_esc(p[i].rules[k]));
				if (p[i].from[k] != NULL)
					ew_buf_printf(b, "  (%s)",
					    ew_cli_esc(p[i].from[k]));
				ew_buf_putc(b, '\n');
			}
	}
	print_names(&ps, b, json);
	ew_desk_propose_free(&ps);
	return 0;
}

static int
print_rules(
    struct ew_store *st, int64_t tid, int64_t now, struct ew_buf *b, int json)
{
	struct ew_store_rule *r = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i, shown = 0;
	int rc;

	if ((rc = ew_store_rule_list(st, 1, &r, &n)) != 0)
		return rc;
	if (json)
		ew_buf_puts(b, ",\"rules\":[");
	for (i = 0; i < n; i++) {
		if (r[i].ticket_id != tid)
			continue;
		if (json) {
			ew_buf_printf(b,
			    "%s{\"id\":%lld,\"rule\":", shown ? "," : "",
			    (long long)r[i].id);
			ew_json_str(b, r[i].rule_text);
			ew_buf_puts(b, ",\"reason\":");
			jstr_or_null(b, r[i].reason);
			ew_buf_puts(b, ",\"expires\":");
			jtime(b, r[i].expires_at);
			ew_buf_puts(b, ",\"added\":");
			jtime(b, r[i].added_at);
			ew_buf_puts(b, ",\"removed\":");
			jtime(b, r[i].removed_at);
			ew_buf_putc(b, '}');
		} else {
			if (shown == 0)
				ew_buf_puts(b, "  blocks:\n");
			ew_buf_printf(b, "    rule %lld  %s  ",
			    (long long)r[i].id, ew_cli_esc(r[i].rule_text));
			if (r[i].removed_at != EW_STORE_NO_TIME)
				ew_buf_printf(b, "removed %s\n",
				    ew_time_format(
					r[i].removed_at, t, sizeof(t)));
			else if (r[i].expires_at == EW_STORE_NO_TIME)
				ew_buf_puts(b, "until removed\n");
			else
				ew_buf_printf(b, "%s %s\n",
				    r[i].expires_at <= now ? "expired"
							   : "until",
				    ew_time_format(
					r[i].expires_at, t, sizeof(t)));
		}
		shown++;
	}
	if (json)
		ew_buf_putc(b, ']');
	ew_store_rules_free(r, n);
	return 0;
}

int
ew_cli_ticket_format(struct ew_store *st, struct ew_desk *d, int64_t id,
    int64_t now, int json, struct ew_buf *out)
{
	struct ew_store_ticket *t = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char o[EW_TIME_STRLEN];
	int rc;

	if ((rc = ew_store_ticket_get(st, id, now, &t)) != 0) {
		ew_cli_err("ticket %lld: %s", (long long)id,
		    rc == -ENOENT ? "no such ticket" : ew_store_errmsg(st));
		return EW_EXIT_FAIL;
	}
	ew_time_format(t->opened_at, o, sizeof(o));
	if (json) {
		ew_buf_printf(
		    &b, "{\"id\":%lld,\"reporter\":", (long long)t->id);
		ew_json_str(&b, t->reporter);
		ew_buf_puts(&b, ",\"category\":");
		jstr_or_null(&b, t->category);
		ew_buf_printf(&b,
		    ",\"status\":\"%s\",\"opened\":\"%s\",\"due\":",
		    t->closed ? "closed" : "open", o);
		jtime(&b, t->due_at);
		ew_buf_printf(
		    &b, ",\"overdue\":%s", t->overdue ? "true" : "false");
	} else {
		ew_buf_printf(&b, "ticket %lld  %s  ", (long long)t->id,
		    t->closed ? "closed" : "open");
		if (t->due_at != EW_STORE_NO_TIME)
			due_text(&b, t->due_at, now);
		else
			ew_buf_puts(&b, "no deadline");
		ew_buf_printf(&b, "\n  reporter %s%s%s%s, opened %s\n",
		    ew_cli_esc(t->reporter), t->category ? " (" : "",
		    ew_cli_esc(t->category), t->category ? ")" : "", o);
		if (t->closed)
			ew_buf_printf(&b, "  closed: %s\n",
			    t->reason ? ew_cli_esc(t->reason)
				      : "(no reason given)");
	}
	rc = print_complaints(d, st, id, &b, json);
	if (rc == 0)
		rc = print_proposals(d, id, &b, json);
	if (rc == 0)
		rc = print_rules(st, id, now, &b, json);
	if (json)
		ew_buf_puts(&b, "}");
	ew_store_tickets_free(t, 1);
	if (rc != 0 || b.oom) {
		ew_cli_err("ticket %lld: %s", (long long)id,
		    rc == -ENOMEM || b.oom ? "out of memory"
					   : ew_store_errmsg(st));
		ew_buf_free(&b);
		return EW_EXIT_FAIL;
	}
	ew_buf_add(out, b.p, b.len);
	ew_buf_free(&b);
	return out->oom ? EW_EXIT_FAIL : EW_EXIT_OK;
}

int
ew_cli_ticket_print(
    struct ew_store *st, struct ew_desk *d, int64_t id, int64_t now, int json)
{
	struct ew_buf b = EW_BUF_INIT;
	int rc = ew_cli_ticket_format(st, d, id, now, json, &b);

	if (rc == EW_EXIT_OK)
		return ew_cli_put(&b);
	ew_buf_free(&b);
	return rc;
}

/* ---- ticket list | show | close ---- */

int
ew_cmd_ticket_list(int argc, char **argv)
{
	struct ew_store_ticket *v = NULL;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	int64_t now = ew_time_now();
	size_t n = 0, i;
	int all = 0, json = 0, k;
	char t[EW_TIME_STRLEN];

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--all") == 0) {
			all = 1;
		} else if (strcmp(argv[k], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[k], "--now") == 0 && k + 1 < argc) {
			if (ew_cli_parse_now(argv[++k], &now) < 0)
				return EW_EXIT_USAGE;
		} else {
			ew_cli_err("unknown argument '%s'", argv[k]);
			return ew_cli_usage("ticket", "list");
		}
	}
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if (ew_store_ticket_list(st, now, all, &v, &n) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	if (json)
		ew_buf_puts(&b, "{\"tickets\":[");
	else if (n > 0)
		ew_buf_printf(&b, "%-5s %-7s %-21s %-8s %-10s %-12s %s\n", "ID",
		    "STATUS", "DUE", "", "COMPLAINTS", "KIND", "REPORTER");
	for (i = 0; i < n; i++) {
		if (json) {
			ew_buf_printf(&b,
			    "%s{\"id\":%lld,\"reporter\":", i ? "," : "",
			    (long long)v[i].id);
			ew_json_str(&b, v[i].reporter);
			ew_buf_puts(&b, ",\"category\":");
			jstr_or_null(&b, v[i].category);
			ew_buf_printf(&b, ",\"status\":\"%s\",\"opened\":",
			    v[i].closed ? "closed" : "open");
			jtime(&b, v[i].opened_at);
			ew_buf_puts(&b, ",\"due\":");
			jtime(&b, v[i].due_at);
			ew_buf_printf(&b, ",\"overdue\":%s,\"complaints\":%zu}",
			    v[i].overdue ? "true" : "false", v[i].ncomplaints);
		} else {
			ew_buf_printf(&b,
			    "%-5lld %-7s %-21s %-8s %-10zu %-12s %s\n",
			    (long long)v[i].id, v[i].closed ? "closed" : "open",
			    v[i].due_at == EW_STORE_NO_TIME
				? "-"
				: ew_time_format(v[i].due_at, t, sizeof(t)),
			    v[i].overdue ? "OVERDUE" : "", v[i].ncomplaints,
			    v[i].category ? ew_cli_esc(v[i].category) : "-",
			    ew_cli_esc(v[i].reporter));
		}
	}
	if (json)
		ew_buf_puts(&b, "]}\n");
	else if (n == 0)
		ew_buf_puts(&b, all ? "no tickets\n" : "no open tickets\n");
	ew_store_tickets_free(v, n);
	ew_store_close(st);
	return ew_cli_put(&b);
}

int
ew_cmd_ticket_show(int argc, char **argv)
{
	struct ticket_args ta = { 0, ew_time_now(), 0, NULL, NULL, NULL };
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	int rc;

	if ((rc = ticket_args(
		 argc, argv, "show", "json now no-resolve", &ta)) != 0)
		return rc;
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		return EW_EXIT_FAIL;
	rc = ew_cli_ticket_print(st, d, ta.id, ta.now, ta.json);
	if (rc == EW_EXIT_OK && ta.json)
		putchar('\n');
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}

int
ew_cmd_ticket_close(int argc, char **argv)
{
	struct ticket_args ta = { 0, 0, 0, NULL, NULL, NULL };
	struct ew_store *st = NULL;
	int64_t id;
	int rc;

	if ((rc = ticket_args(argc, argv, "close", "reason", &ta)) != 0)
		return rc;
	id = ta.id;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_ticket_close(st, id, ta.reason);
	if (rc == 0)
		printf("ticket %lld closed\n", (long long)id);
	else
		ew_cli_err("ticket %lld: %s", (long long)id,
		    rc == -ENOENT     ? "no such ticket"
		    : rc == -EALREADY ? "closed already"
				      : ew_store_errmsg(st));
	ew_store_close(st);
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* ---- the managed policy: compose, check, write, apply, record ---- */

/* Compose the managed policy (store rules + extra) and parse it; the
 * text goes to *text, the expanded list (at now) to *list. */
static int
compose(struct ew_desk *d, const char *policy, const struct ew_desk_rule *extra,
    size_t n_extra, int64_t now, struct ew_buf *text, struct ew_buf *list)
{
	struct ew_diag_list diags;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_addr *ifs;
	size_t nifs = 0;
	char abs[PATH_MAX];
	int rc;

	if (realpath(policy, abs) == NULL) {
		ew_cli_err("%s: %s (the operator's policy: --policy FILE or "
			   "EW_POLICY)",
		    policy, strerror(errno));
		return -1;
	}
	if (ew_desk_managed(d, abs, extra, n_extra, text) != 0) {
		ew_cli_err("%s: cannot be included from the managed policy "
			   "(a quote or backslash in its path?)",
		    abs);
		return -1;
	}
	ew_diag_init(&diags);
	rc = ew_policy_parse_string(
	    ew_cli_managed_path(), ew_buf_str(text), text->len, 0, &diags, &p);
	if (rc == 0 && list != NULL) {
		ifs = ew_cli_interface_addrs(&nifs);
		memset(&env, 0, sizeof(env));
		env.now = now;
		env.ifaddrs = ifs;
		env.n_ifaddrs = nifs;
		rc = ew_policy_expand(p, &env, &diags, &e);
		if (rc == 0)
			ew_expanded_format(e, list);
		ew_expanded_free(e);
		free(ifs);
	}
	ew_policy_free(p);
	if (rc != 0) {
		ew_cli_print_diags(&diags, 0);
		ew_cli_err(
		    "the managed policy would not load: nothing changed");
	}
	ew_diag_free(&diags);
	return rc == 0 ? 0 : -1;
}

/*
 * Write the managed policy from the store, apply it and record it.
 * *wrote says whether the file was written (a failure after that
 * leaves it, and maybe tor, ahead of a store the caller rolls back).
 */
int
ew_cli_managed_sync(struct ew_desk *d, struct ew_cli_apply *a,
    const char *policy, int64_t now, int *wrote)
{
	struct ew_buf text = EW_BUF_INIT;
	struct ew_diag_list diags;
	const char *path = ew_cli_managed_path();
	int rc, tor_ok = 0;

	*wrote = 0;
	if (compose(d, policy, NULL, 0, now, &text, NULL) != 0) {
		ew_buf_free(&text);
		return EW_EXIT_FAIL;
	}
	ew_cli_keep_previous(path);
	ew_diag_init(&diags);
	rc = ew_tor_write_file(path, ew_buf_str(&text), text.len, &diags);
	ew_buf_free(&text);
	if (rc != 0) {
		ew_cli_print_diags(&diags, 0);
		ew_diag_free(&diags);
		return EW_EXIT_FAIL;
	}
	ew_diag_free(&diags);
	*wrote = 1;
	if (a->no_apply) {
		printf("wrote %s; not applied (--no-apply): run exitwarden "
		       "apply %s\n",
		    path, path);
		return EW_EXIT_OK;
	}
	a->nft.now = now;
	rc = ew_cli_apply_file(a, path, &tor_ok);
	/* tor took it (even if nft then failed): that is what the exit
	 * runs, so it is recorded (a caller that rolls back undoes that) */
	if (tor_ok && ew_cli_record(d, path, now) != EW_EXIT_OK)
		rc = EW_EXIT_FAIL;
	return rc;
}

/*
 * After a failed change: the file as the store (rolled back) has it, and
 * applied again, since the failure may have come after tor and nftables
 * took the new one (the record failed); when the apply itself failed
 * they have rolled back, and this apply changes nothing.
 */
static void
restore_managed(
    struct ew_desk *d, struct ew_cli_apply *a, const char *policy, int64_t now)
{
	struct ew_buf text = EW_BUF_INIT;
	struct ew_diag_list diags;
	const char *path = ew_cli_managed_path();

	ew_diag_init(&diags);
	if (compose(d, policy, NULL, 0, now, &text, NULL) != 0 ||
	    ew_cli_put_back(path, &text, &diags) != 0) {
		ew_cli_print_diags(&diags, 0);
		ew_cli_err(
		    "%s: could not be restored; the store is unchanged", path);
	} else if (a->no_apply ||
		   ew_cli_apply_file(a, path, NULL) == EW_EXIT_OK) {
		ew_cli_err("%s: restored%s; the store is unchanged", path,
		    a->no_apply ? "" : " and applied again");
	} else {
		ew_cli_err("%s: restored, but applying it again failed: run "
			   "exitwarden apply %s",
		    path, path);
	}
	ew_cli_forget_previous();
	ew_buf_free(&text);
	ew_diag_free(&diags);
}

/* Parse the common options of block / expire; see the usage lines. */
struct change_opts {
	struct ew_cli_apply apply;
	const char *policy;
	int dry_run;
	int64_t now;
};

static int
change_opt(struct change_opts *o, int argc, char **argv, int *i)
{
	int rc;

	if (strcmp(argv[*i], "--policy") == 0 && *i + 1 < argc) {
		o->policy = argv[++*i];
		return 0;
	}
	if (strcmp(argv[*i], "-n") == 0 || strcmp(argv[*i], "--dry-run") == 0)
		o->dry_run = 1;
	if (strcmp(argv[*i], "--now") == 0 && *i + 1 < argc &&
	    ew_cli_parse_now(argv[*i + 1], &o->now) < 0)
		return EW_EXIT_USAGE;
	rc = ew_cli_apply_opt(&o->apply, argc, argv, i);
	return rc;
}

static int
cmp_rule_text(const void *x, const void *y)
{
	const struct ew_store_rule *const *a = x, *const *b = y;

	return strcmp((*a)->rule_text, (*b)->rule_text);
}

/*
 * For each rule of proposal p, the rule with its text in force for the
 * ticket, or NULL (*inforce, p->n of them, point into *have).  Sorted
 * and searched: n log n in the rules.
 */
static int
in_force(struct ew_store *st, int64_t tid, const struct ew_desk_proposal *p,
    struct ew_store_rule **have, size_t *nhave,
    const struct ew_store_rule ***inforce)
{
	const struct ew_store_rule **mine = NULL, **hit, *key;
	struct ew_store_rule key_rule;
	size_t i, n = 0;

	*inforce = NULL;
	if (ew_store_rule_list(st, 0, have, nhave) != 0)
		return -1;
	if ((mine = calloc(*nhave + 1, sizeof(*mine))) == NULL ||
	    (*inforce = calloc(p->n + 1, sizeof(**inforce))) == NULL) {
		free(mine);
		return -1;
	}
	for (i = 0; i < *nhave; i++)
		if ((*have)[i].ticket_id == tid)
			mine[n++] = &(*have)[i];
	qsort(mine, n, sizeof(*mine), cmp_rule_text);
	memset(&key_rule, 0, sizeof(key_rule));
	key = &key_rule;
	for (i = 0; i < p->n; i++) {
		key_rule.rule_text = p->rules[i];
		hit = bsearch(&key, mine, n, sizeof(*mine), cmp_rule_text);
		(*inforce)[i] = hit != NULL ? *hit : NULL;
	}
	free(mine);
	return 0;
}

struct block_args {
	int64_t id;
	uint64_t choice;
	const char *expires_opt, *reason_opt;
};

/* ticket block's arguments; EW_EXIT_OK or the exit code. */
static int
block_args(int argc, char **argv, struct change_opts *o, struct block_args *ba)
{
	int i, have = 0, src;

	ba->choice = 1;
	ba->expires_opt = "90d";
	ba->reason_opt = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--choice") == 0 && i + 1 < argc) {
			if (ew_parse_uint(argv[i + 1], strlen(argv[i + 1]), 1,
				99, &ba->choice) != 0) {
				ew_cli_err("--choice: '%s' is not a number",
				    argv[i + 1]);
				return EW_EXIT_USAGE;
			}
			i++;
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
			ba->expires_opt = argv[++i];
		} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
			ba->reason_opt = argv[++i];
		} else if (strcmp(argv[i], "--no-resolve") == 0) {
			ew_cli_resolve = 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			src = change_opt(o, argc, argv, &i);
			if (src > 0)
				return src;
			if (src < 0) {
				ew_cli_err("unknown option '%s'", argv[i]);
				return ew_cli_usage("ticket", "block");
			}
		} else if (!have) {
			if (parse_id(argv[i], &ba->id) < 0)
				return EW_EXIT_USAGE;
			have = 1;
		} else {
			return ew_cli_usage("ticket", "block");
		}
	}
	return have ? EW_EXIT_OK : ew_cli_usage("ticket", "block");
}

/* --expires: a duration, a time or "never". */
static int
parse_expires(const char *expires_opt, int64_t now, int64_t *expires)
{
	if (strcmp(expires_opt, "never") == 0) {
		*expires = EW_STORE_NO_TIME;
	} else if (ew_duration_parse(
		       expires_opt, strlen(expires_opt), expires) == 0) {
		*expires += now;
	} else if (ew_time_parse(expires_opt, strlen(expires_opt), expires) !=
		   0) {
		ew_cli_err("--expires: '%s' is not a duration (90d, 12h), a "
			   "time or 'never'",
		    expires_opt);
		return EW_EXIT_USAGE;
	} else if (*expires <= now) {
		ew_cli_err("--expires: %s is not in the future", expires_opt);
		return EW_EXIT_USAGE;
	}
	return EW_EXIT_OK;
}

/* The chosen proposal's rules, each with its name and whether it is in
 * force for the ticket already (then skipped). */
static void
print_plan(const struct ew_desk_proposal *p,
    const struct ew_store_rule *const *inforce)
{
	char tm[EW_TIME_STRLEN];
	size_t k;

	for (k = 0; k < p->n; k++) {
		const struct ew_store_rule *r = inforce[k];

		printf("  %s", p->rules[k]);
		if (p->from[k] != NULL)
			printf("  (%s)", p->from[k]);
		if (r != NULL)
			printf("  skipped: in force already (rule %lld, %s%s)",
			    (long long)r->id,
			    r->expires_at == EW_STORE_NO_TIME ? "until removed"
							      : "until ",
			    r->expires_at == EW_STORE_NO_TIME
				? ""
				: ew_time_format(
				      r->expires_at, tm, sizeof(tm)));
		putchar('\n');
	}
}

/* -n: the change to the effective policy; nothing written. */
static int
dry_run(struct ew_desk *d, const char *policy, const struct ew_desk_rule *rules,
    size_t n, int64_t now)
{
	struct ew_buf before = EW_BUF_INIT, after = EW_BUF_INIT,
		      text = EW_BUF_INIT;
	int rc = EW_EXIT_FAIL;

	if (compose(d, policy, NULL, 0, now, &text, &before) == 0) {
		ew_buf_reset(&text);
		if (compose(d, policy, rules, n, now, &text, &after) == 0) {
			printf("the effective policy would change (-n: "
			       "nothing changed):\n");
			ew_cli_print_diff(
			    ew_buf_str(&before), ew_buf_str(&after));
			rc = EW_EXIT_OK;
		}
	}
	ew_buf_free(&before);
	ew_buf_free(&after);
	ew_buf_free(&text);
	return rc;
}

int
ew_cmd_ticket_block(int argc, char **argv)
{
	struct change_opts o;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_store_ticket *t = NULL;
	struct ew_desk_proposals ps = { NULL, 0, NULL, 0 };
	struct ew_desk_proposal *p = NULL;
	struct ew_desk_rule *rules = NULL;
	const struct ew_store_rule **inforce = NULL;
	struct ew_store_rule *held = NULL;
	size_t nheld = 0, nnew = 0;
	struct ew_buf reason = EW_BUF_INIT;
	struct block_args ba;
	const char *reason_opt;
	char tm[EW_TIME_STRLEN];
	int64_t id = 0, expires = 0, rid;
	uint64_t choice = 1;
	size_t np = 0, k;
	int rc = EW_EXIT_FAIL, src, wrote = 0;

	memset(&o, 0, sizeof(o));
	o.now = ew_time_now();
	if (ew_cli_apply_init(&o.apply) != 0)
		return EW_EXIT_FAIL;
	if ((rc = block_args(argc, argv, &o, &ba)) != EW_EXIT_OK ||
	    (rc = parse_expires(ba.expires_opt, o.now, &expires)) != EW_EXIT_OK)
		goto out;
	rc = EW_EXIT_FAIL;
	id = ba.id;
	choice = ba.choice;
	reason_opt = ba.reason_opt;
	o.policy = ew_cli_policy_path(o.policy);
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		goto out;
	if ((src = ew_store_ticket_get(st, id, o.now, &t)) != 0) {
		ew_cli_err("ticket %lld: %s", (long long)id,
		    src == -ENOENT ? "no such ticket" : ew_store_errmsg(st));
		goto out;
	}
	if (t->closed) {
		ew_cli_err("ticket %lld is closed", (long long)id);
		goto out;
	}
	if ((src = ew_desk_propose(d, id, &ps)) == 0) {
		p = ps.v;
		np = ps.n;
	}
	if (src != 0) {
		ew_cli_err("ticket %lld: no proposals: %s%s%s", (long long)id,
		    strerror(-src), *ew_store_errmsg(st) ? ": " : "",
		    ew_store_errmsg(st));
		goto out;
	}
	if (np == 0) {
		ew_cli_err("ticket %lld: nothing to block (no incident the "
			   "policy allowed names a destination or ports)",
		    (long long)id);
		goto out;
	}
	if (choice > np) {
		ew_cli_err("ticket %lld: --choice %llu, but there %s only %zu "
			   "(exitwarden ticket show %lld)",
		    (long long)id, (unsigned long long)choice,
		    np == 1 ? "is" : "are", np, (long long)id);
		rc = EW_EXIT_USAGE;
		goto out;
	}
	if (reason_opt != NULL)
		ew_buf_puts(&reason, reason_opt);
	else
		ew_buf_printf(&reason, "complaint from %s", t->reporter);
	rules = calloc(p[choice - 1].n, sizeof(*rules));
	if (rules == NULL || reason.oom ||
	    in_force(st, id, &p[choice - 1], &held, &nheld, &inforce) != 0) {
		ew_cli_err("out of memory");
		goto out;
	}
	for (k = 0, nnew = 0; k < p[choice - 1].n; k++) {
		if (inforce[k] != NULL)
			continue;
		rules[nnew].rule = p[choice - 1].rules[k];
		rules[nnew].reason = ew_buf_str(&reason);
		rules[nnew].ticket_id = id;
		rules[nnew].expires = expires;
		nnew++;
	}
	printf("ticket %lld: block %s (choice %llu), %s%s:\n", (long long)id,
	    p[choice - 1].scope, (unsigned long long)choice,
	    expires == EW_STORE_NO_TIME ? "until removed" : "until ",
	    expires == EW_STORE_NO_TIME
		? ""
		: ew_time_format(expires, tm, sizeof(tm)));
	print_plan(&p[choice - 1], inforce);
	if (nnew == 0) {
		printf("ticket %lld: every rule is in force already: nothing "
		       "changed\n",
		    (long long)id);
		rc = EW_EXIT_OK;
		goto out;
	}
	if (nnew < p[choice - 1].n)
		printf("ticket %lld: %zu rule%s in force already, %zu new\n",
		    (long long)id, p[choice - 1].n - nnew,
		    p[choice - 1].n - nnew > 1 ? "s" : "", nnew);
	if (o.dry_run) {
		rc = dry_run(d, o.policy, rules, nnew, o.now);
		goto out;
	}
	fflush(stdout);
	if ((src = ew_store_begin(st)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		goto out;
	}
	for (k = 0, src = 0; src == 0 && k < nnew; k++)
		if ((src = ew_store_rule_add(st, id, rules[k].rule,
			 rules[k].reason, expires, o.now, &rid)) == -EEXIST)
			src = 0; /* added since we looked: in force */
	if (src != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		ew_store_end(st, src);
		goto out;
	}
	ew_cli_want_previous();
	rc = ew_cli_managed_sync(d, &o.apply, o.policy, o.now, &wrote);
	src = ew_store_end(st, rc == EW_EXIT_OK ? 0 : -EIO);
	if (rc == EW_EXIT_OK && src != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	}
	if (rc != EW_EXIT_OK && wrote)
		restore_managed(d, &o.apply, o.policy, o.now);
	else if (rc == EW_EXIT_OK)
		printf("ticket %lld: blocked\n", (long long)id);
	ew_cli_forget_previous();
out:
	ew_buf_free(&reason);
	free(rules);
	free(inforce);
	ew_store_rules_free(held, nheld);
	ew_desk_propose_free(&ps);
	ew_store_tickets_free(t, t ? 1 : 0);
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&o.apply);
	return rc;
}

/* ---- expire ---- */

/*
 * Whether managed.policy differs from what the store says it should be
 * (a change killed between writing the file and its commit): 1, 0, or
 * -1 with the reason printed.  No file and no block in force is no
 * difference.
 */
static int
managed_drift(
    struct ew_desk *d, struct ew_store *st, const char *policy, int64_t now)
{
	struct ew_buf want = EW_BUF_INIT;
	struct ew_store_rule *r = NULL;
	size_t n = 0, len = 0;
	char *have = NULL;
	FILE *f;
	int rc;

	if ((f = fopen(ew_cli_managed_path(), "rb")) != NULL) {
		have = ew_cli_read_all(f, 64u << 20, &len);
		fclose(f);
	} else if (errno == ENOENT) {
		if (ew_store_rule_list(st, 0, &r, &n) != 0)
			return -1;
		ew_store_rules_free(r, n);
		if (n == 0)
			return 0;
	}
	if (compose(d, policy, NULL, 0, now, &want, NULL) != 0) {
		free(have);
		ew_buf_free(&want);
		return -1;
	}
	rc = have == NULL || len != want.len ||
	     memcmp(have, ew_buf_str(&want), len) != 0;
	free(have);
	ew_buf_free(&want);
	return rc;
}

int
ew_cli_expire(struct ew_desk *d, struct ew_store *st, struct ew_cli_apply *a,
    const char *policy, int dry_run, int64_t now, int quiet)
{
	struct ew_store_rule *r = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i, due = 0;
	int rc = 0, xrc, wrote = 0, drift;

	/* read the rules inside the transaction: another process may be
	 * expiring them too */
	if ((rc = ew_store_begin(st)) != 0 ||
	    (rc = ew_store_rule_list(st, 0, &r, &n)) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		if (rc == 0)
			ew_store_end(st, -EIO);
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < n; i++)
		if (r[i].expires_at != EW_STORE_NO_TIME &&
		    r[i].expires_at <= now)
			due++;
	if (due == 0) {
		ew_store_rules_free(r, n);
		ew_store_end(st, -EALREADY); /* nothing written */
		if ((drift = managed_drift(d, st, policy, now)) < 0)
			return EW_EXIT_FAIL;
		if (drift == 0) {
			if (!quiet)
				printf("expire: no block has expired\n");
			return EW_EXIT_OK;
		}
		printf("expire: %s differs from the store (a change "
		       "interrupted?): %s\n",
		    ew_cli_managed_path(),
		    dry_run ? "left as it is (-n)"
			    : "writing and applying the store's");
		if (dry_run)
			return EW_EXIT_OK;
		return ew_cli_managed_sync(d, a, policy, now, &wrote);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		if (r[i].expires_at == EW_STORE_NO_TIME ||
		    r[i].expires_at > now)
			continue;
		printf("expire: rule %lld (ticket %lld) %s, expired %s%s\n",
		    (long long)r[i].id, (long long)r[i].ticket_id,
		    r[i].rule_text,
		    ew_time_format(r[i].expires_at, t, sizeof(t)),
		    dry_run ? " (-n: kept)" : "");
		if (!dry_run &&
		    (rc = ew_store_rule_remove(st, r[i].id, now)) == -EALREADY)
			rc = 0;
	}
	ew_store_rules_free(r, n);
	if (dry_run) {
		ew_store_end(st, -EALREADY); /* nothing written */
		return EW_EXIT_OK;
	}
	if (rc != 0)
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
	ew_cli_want_previous();
	xrc = rc == 0 ? ew_cli_managed_sync(d, a, policy, now, &wrote)
		      : EW_EXIT_FAIL;
	rc = ew_store_end(st, xrc == EW_EXIT_OK ? 0 : -EIO);
	if (xrc == EW_EXIT_OK && rc != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		xrc = EW_EXIT_FAIL;
	}
	if (xrc != EW_EXIT_OK && wrote)
		restore_managed(d, a, policy, now);
	ew_cli_forget_previous();
	return xrc;
}

int
ew_cmd_expire(int argc, char **argv)
{
	struct change_opts o;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	int i, rc;

	memset(&o, 0, sizeof(o));
	o.now = ew_time_now();
	if (ew_cli_apply_init(&o.apply) != 0)
		return EW_EXIT_FAIL;
	for (i = 1; i < argc; i++) {
		rc = argv[i][0] == '-' ? change_opt(&o, argc, argv, &i) : -1;
		if (rc > 0)
			goto done;
		if (rc < 0) {
			ew_cli_err("unknown argument '%s'", argv[i]);
			rc = ew_cli_usage("expire", NULL);
			goto done;
		}
	}
	rc = EW_EXIT_FAIL;
	if (ew_cli_desk_open(NULL, 0, &st, &d) == 0)
		rc = ew_cli_expire(d, st, &o.apply,
		    ew_cli_policy_path(o.policy), o.dry_run, o.now, 0);
done:
	ew_desk_free(d);
	ew_store_close(st);
	ew_cli_apply_free(&o.apply);
	return rc;
}

/* ---- reply ---- */

int
ew_cmd_ticket_reply(int argc, char **argv)
{
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_diag_list diags;
	const char *to = "provider", *dir = getenv("EW_TEMPLATES"), *tmpl;
	char path[PATH_MAX], *data = NULL;
	struct ticket_args ta = { 0, ew_time_now(), 0, NULL, NULL, NULL };
	int64_t now, id;
	size_t len;
	FILE *f;
	int rc;

	if ((rc = ticket_args(argc, argv, "reply", "to templates now", &ta)) !=
	    0)
		return rc;
	id = ta.id;
	now = ta.now;
	if (ta.to != NULL)
		to = ta.to;
	if (ta.templates != NULL)
		dir = ta.templates;
	if ((tmpl = ew_desk_template(to)) == NULL) {
		ew_cli_err(
		    "--to: '%s' is neither 'provider' nor 'complainant'", to);
		return EW_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "<built-in %s template>", to);
	len = strlen(tmpl);
	if (dir != NULL && *dir != '\0') {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, to);
		if ((f = fopen(path, "rb")) == NULL) {
			ew_cli_err("%s: %s (exitwarden template export %s "
				   "writes the defaults)",
			    path, strerror(errno), dir);
			return EW_EXIT_FAIL;
		}
		data = ew_cli_read_all(f, 1 << 20, &len);
		fclose(f);
		if (data == NULL || len > (1u << 20)) {
			ew_cli_err("%s: unreadable, or over 1 MiB", path);
			free(data);
			return EW_EXIT_FAIL;
		}
		tmpl = data;
	}
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0) {
		free(data);
		return EW_EXIT_FAIL;
	}
	ew_diag_init(&diags);
	rc = ew_desk_reply(d, id, path, tmpl, len, now, &out, &diags);
	if (rc != 0) {
		ew_cli_print_diags(&diags, 0);
		if (diags.n == 0)
			ew_cli_err("ticket %lld: %s", (long long)id,
			    rc == -ENOENT ? "no such ticket"
					  : ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	} else {
		rc = ew_cli_put(&out);
	}
	ew_diag_free(&diags);
	ew_buf_free(&out);
	free(data);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}
