/*
 * render.c - tickets, complaints and incidents as the CLI shows them,
 * text and JSON, in one place: ticket show, ticket list, complaint
 * list and complaint add --json all write the same objects with the
 * same fields (docs/cli/workflow.md).  A ticket object is {"id",
 * "reporter", "category", "status", "opened", "due", "overdue",
 * "ncomplaints"}; ticket show adds "complaints", "proposals",
 * "resolved" and "rules".  A complaint object is {"id", "ticket",
 * "received", "date", "format", "category", "reporter", "message_id",
 * "subject", "forwarder", "forwarder_ticket"}; inside a ticket it adds
 * "incidents".  Values from complaints are escaped for a terminal in
 * the text form (lib/esc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/esc.h"
#include "lib/json.h"
#include "lib/port.h"
#include "lib/tm.h"
#include "store/store.h"

/*
 * A value from outside as a terminal may show it, for a printf argument:
 * s itself when it needs nothing, else an escaped copy that stays valid
 * for the next ESC_RING - 1 calls.  NULL is "".  (One renderer runs at a
 * time: the desk is not shared between threads.)
 */
#define ESC_RING 8
static struct ew_buf ring[ESC_RING];
static unsigned ring_next;

static const char *
esc(const char *s)
{
	struct ew_buf *b;

	if (s == NULL)
		return "";
	if (!ew_esc_term_needed(s, strlen(s), 0))
		return s;
	b = &ring[ring_next++ % ESC_RING];
	ew_buf_reset(b);
	ew_esc_term(b, s, strlen(s), 0);
	return b->oom ? "(out of memory)" : ew_buf_str(b);
}

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

/* ---- one ticket ---- */

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
	    (long long)in->id, esc(in->src),
	    in->dst        ? esc(in->dst)
	    : in->dst_host ? esc(in->dst_host)
			   : "*",
	    in->dst && in->dst_host ? " (" : "",
	    in->dst && in->dst_host ? esc(in->dst_host) : "",
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
ew_desk_incidents_json(
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

/* The fields of a complaint object, left open for more. */
static void
complaint_json(
    struct ew_buf *b, const struct ew_store_complaint *c, int64_t ticket)
{
	ew_buf_printf(b,
	    "{\"id\":%lld,\"ticket\":%lld,\"received\":", (long long)c->id,
	    (long long)ticket);
	jtime(b, c->received_at);
	ew_buf_puts(b, ",\"date\":");
	jtime(b, c->date);
	ew_buf_puts(b, ",\"format\":");
	jstr_or_null(b, c->format);
	ew_buf_puts(b, ",\"category\":");
	jstr_or_null(b, c->category);
	ew_buf_puts(b, ",\"reporter\":");
	jstr_or_null(b, c->reporter);
	ew_buf_puts(b, ",\"message_id\":");
	jstr_or_null(b, c->message_id);
	ew_buf_puts(b, ",\"subject\":");
	jstr_or_null(b, c->subject);
	ew_buf_puts(b, ",\"forwarder\":");
	jstr_or_null(b, c->forwarder);
	ew_buf_puts(b, ",\"forwarder_ticket\":");
	jstr_or_null(b, c->forwarder_ticket);
}

/* The fields of a ticket object, left open for more. */
static void
ticket_json_head(struct ew_buf *b, const struct ew_store_ticket *t)
{
	ew_buf_printf(b, "{\"id\":%lld,\"reporter\":", (long long)t->id);
	jstr_or_null(b, t->reporter);
	ew_buf_puts(b, ",\"category\":");
	jstr_or_null(b, t->category);
	ew_buf_printf(
	    b, ",\"status\":\"%s\",\"opened\":", t->closed ? "closed" : "open");
	jtime(b, t->opened_at);
	ew_buf_puts(b, ",\"due\":");
	jtime(b, t->due_at);
	ew_buf_printf(b, ",\"overdue\":%s,\"closed_reason\":",
	    t->overdue ? "true" : "false");
	jstr_or_null(b, t->reason);
	ew_buf_printf(b, ",\"ncomplaints\":%zu", t->ncomplaints);
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
			if (i > 0)
				ew_buf_putc(b, ',');
			complaint_json(b, c, tid);
			ew_buf_puts(b, ",\"incidents\":");
		} else {
			ew_buf_printf(b,
			    "  complaint %lld, received %s (%s%s%s)\n",
			    (long long)c->id,
			    ew_time_format(c->received_at, t, sizeof(t)),
			    esc(c->format), c->category ? ", " : "",
			    esc(c->category));
			if (c->subject)
				ew_buf_printf(
				    b, "    subject: %s\n", esc(c->subject));
			if (c->forwarder)
				ew_buf_printf(b, "    forwarded by %s%s%s\n",
				    esc(c->forwarder),
				    c->forwarder_ticket ? ", their ticket "
							: "",
				    esc(c->forwarder_ticket));
		}
		if (json) {
			rc = ew_desk_incidents_json(st, ids[i], b);
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
			ew_buf_printf(
			    b, "    %s: %s", esc(nm->host), name_state(nm));
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
				    k ? "" : p[i].scope, esc(p[i].rules[k]));
				if (p[i].from[k] != NULL)
					ew_buf_printf(
					    b, "  (%s)", esc(p[i].from[k]));
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
			    (long long)r[i].id, esc(r[i].rule_text));
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
ew_desk_ticket_render(
    struct ew_desk *d, int64_t id, int64_t now, int json, struct ew_buf *out)
{
	struct ew_store *st = d->st;
	struct ew_store_ticket *t = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char o[EW_TIME_STRLEN];
	int rc;

	if ((rc = ew_store_ticket_get(st, id, now, &t)) != 0)
		return rc;
	ew_time_format(t->opened_at, o, sizeof(o));
	if (json) {
		ticket_json_head(&b, t);
	} else {
		ew_buf_printf(&b, "ticket %lld  %s  ", (long long)t->id,
		    t->closed ? "closed" : "open");
		if (t->due_at != EW_STORE_NO_TIME)
			due_text(&b, t->due_at, now);
		else
			ew_buf_puts(&b, "no deadline");
		ew_buf_printf(&b, "\n  reporter %s%s%s%s, opened %s\n",
		    esc(t->reporter), t->category ? " (" : "", esc(t->category),
		    t->category ? ")" : "", o);
		if (t->closed)
			ew_buf_printf(&b, "  closed: %s\n",
			    t->reason ? esc(t->reason) : "(no reason given)");
	}
	rc = print_complaints(d, st, id, &b, json);
	if (rc == 0)
		rc = print_proposals(d, id, &b, json);
	if (rc == 0)
		rc = print_rules(st, id, now, &b, json);
	if (json)
		ew_buf_puts(&b, "}");
	ew_store_tickets_free(t, 1);
	if (rc == 0 && b.oom)
		rc = -ENOMEM;
	if (rc == 0)
		ew_buf_add(out, b.p, b.len);
	ew_buf_free(&b);
	return rc == 0 && out->oom ? -ENOMEM : rc;
}

int
ew_desk_tickets_render(
    struct ew_store *st, int64_t now, int all, int json, struct ew_buf *b)
{
	struct ew_store_ticket *v = NULL;
	size_t n = 0, i;
	char t[EW_TIME_STRLEN];
	int rc;

	if ((rc = ew_store_ticket_list(st, now, all, &v, &n)) != 0)
		return rc;
	if (json)
		ew_buf_puts(b, "{\"tickets\":[");
	else if (n > 0)
		ew_buf_printf(b, "%-5s %-7s %-21s %-8s %-10s %-12s %s\n", "ID",
		    "STATUS", "DUE", "", "COMPLAINTS", "KIND", "REPORTER");
	for (i = 0; i < n; i++) {
		if (json) {
			if (i > 0)
				ew_buf_putc(b, ',');
			ticket_json_head(b, &v[i]);
			ew_buf_putc(b, '}');
		} else {
			ew_buf_printf(b,
			    "%-5lld %-7s %-21s %-8s %-10zu %-12s %s\n",
			    (long long)v[i].id, v[i].closed ? "closed" : "open",
			    v[i].due_at == EW_STORE_NO_TIME
				? "-"
				: ew_time_format(v[i].due_at, t, sizeof(t)),
			    v[i].overdue ? "OVERDUE" : "", v[i].ncomplaints,
			    v[i].category ? esc(v[i].category) : "-",
			    esc(v[i].reporter));
		}
	}
	if (json)
		ew_buf_puts(b, "]}\n");
	else if (n == 0)
		ew_buf_puts(b, all ? "no tickets\n" : "no open tickets\n");
	ew_store_tickets_free(v, n);
	return b->oom ? -ENOMEM : 0;
}

int
ew_desk_complaints_render(struct ew_store *st, int json, struct ew_buf *b)
{
	struct ew_store_complaint *v = NULL;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i;
	int64_t tid;
	int rc;

	if ((rc = ew_store_complaint_list(st, &v, &n)) != 0)
		return rc;
	if (json)
		ew_buf_puts(b, "{\"complaints\":[");
	for (i = 0; i < n; i++) {
		if (ew_store_complaint_ticket(st, v[i].id, &tid) != 0)
			tid = 0;
		if (json) {
			if (i > 0)
				ew_buf_putc(b, ',');
			complaint_json(b, &v[i], tid);
			ew_buf_putc(b, '}');
		} else {
			ew_buf_printf(b, "%-5lld ticket %-4lld %s  %-6s %s\n",
			    (long long)v[i].id, (long long)tid,
			    ew_time_format(v[i].received_at, t, sizeof(t)),
			    esc(v[i].format), esc(v[i].reporter));
		}
	}
	if (json)
		ew_buf_puts(b, "]}\n");
	ew_store_complaints_free(v, n);
	return b->oom ? -ENOMEM : 0;
}

int
ew_desk_added_render(struct ew_desk *d, const struct ew_desk_added *r,
    int64_t now, struct ew_buf *b)
{
	int rc;

	ew_buf_printf(b,
	    "{\"complaint\":%lld,\"ticket\":%lld,\"duplicate\":%s,"
	    "\"new_ticket\":%s,\"reuses_message_id_of\":",
	    (long long)r->complaint_id, (long long)r->ticket_id,
	    r->duplicate ? "true" : "false", r->new_ticket ? "true" : "false");
	if (r->reuses_message_id > 0)
		ew_buf_printf(b, "%lld", (long long)r->reuses_message_id);
	else
		ew_buf_puts(b, "null");
	ew_buf_puts(b, ",\"due\":");
	jtime(b, r->due);
	ew_buf_puts(b, ",\"incidents\":");
	rc = ew_desk_incidents_json(d->st, r->complaint_id, b);
	ew_buf_puts(b, ",\"show\":");
	if (rc == 0 && r->ticket_id)
		rc = ew_desk_ticket_render(d, r->ticket_id, now, 1, b);
	else if (rc == 0)
		ew_buf_puts(b, "null");
	ew_buf_puts(b, "}\n");
	return rc == 0 && b->oom ? -ENOMEM : rc;
}
