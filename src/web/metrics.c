/*
 * metrics.c - GET /metrics: Prometheus text format (version 0.0.4).
 *
 * Aggregates only, never a destination: blocks by origin (in force and
 * waiting for the operator), tickets open and overdue, the policy
 * version in force (when it was applied, by relay), the store's health
 * and revision, the surge guards' counts, the daemon's repairs, and this
 * server's own counters (requests by page, block requests by outcome). Per-rule
 * packet counters live in the kernel's table and need CAP_NET_ADMIN to read,
 * which serve never holds: `exitwarden stats` shows them.
 *
 * With a metrics token set, the request must carry
 * "Authorization: Bearer TOKEN" (compared in constant time).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/digest.h"
#include "store/store.h"
#include "web/web_int.h"

static void
head(struct ew_buf *b, const char *name, const char *type, const char *help)
{
	ew_buf_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: \ " and newline escaped (the names are ours, but a
 * guard's name came from a policy file). */
static void
label(struct ew_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			ew_buf_putc(b, '\\');
		if (*s == '\n')
			ew_buf_puts(b, "\\n");
		else
			ew_buf_putc(b, *s);
	}
}

static int
authorized(const struct ew_web *w, const char *auth)
{
	const char *tok = w->conf.metrics_token;
	size_t n;

	if (tok == NULL)
		return 1;
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	n = strlen(tok);
	return strlen(auth) == n && ew_ct_memcmp(auth, tok, n) == 0;
}

static void
store_part(const struct ew_store_figures *f, int ok, struct ew_buf *b)
{
	static const char *const origins[] = { "self-service", "surge",
		"ticket" };
	size_t i, k;
	int64_t in, pend;

	head(b, "exitwarden_store_up", "gauge",
	    "1 when the store answered this scrape");
	ew_buf_printf(b, "exitwarden_store_up %d\n", ok);
	if (!ok)
		return;
	head(b, "exitwarden_store_schema_version", "gauge",
	    "the store's schema version");
	ew_buf_printf(b, "exitwarden_store_schema_version %d\n", f->schema);
	head(b, "exitwarden_store_size_bytes", "gauge", "the database's size");
	ew_buf_printf(
	    b, "exitwarden_store_size_bytes %" PRId64 "\n", f->db_bytes);
	head(b, "exitwarden_blocks_in_force", "gauge",
	    "blocks in the managed policy, by origin");
	for (k = 0; k < 2; k++) {
		if (k == 1)
			head(b, "exitwarden_blocks_pending", "gauge",
			    "blocks waiting for the operator, by origin");
		for (i = 0; i < sizeof(origins) / sizeof(*origins); i++) {
			size_t j;

			in = pend = 0;
			for (j = 0; j < f->norigins; j++)
				if (strcmp(f->origins[j].origin, origins[i]) ==
				    0) {
					in = f->origins[j].in_force;
					pend = f->origins[j].pending;
				}
			ew_buf_printf(b, "%s{origin=\"%s\"} %" PRId64 "\n",
			    k ? "exitwarden_blocks_pending"
			      : "exitwarden_blocks_in_force",
			    origins[i], k ? pend : in);
		}
	}
	head(b, "exitwarden_tickets_open", "gauge", "open tickets");
	ew_buf_printf(
	    b, "exitwarden_tickets_open %" PRId64 "\n", f->tickets_open);
	head(b, "exitwarden_tickets_overdue", "gauge",
	    "open tickets past their due time");
	ew_buf_printf(
	    b, "exitwarden_tickets_overdue %" PRId64 "\n", f->tickets_overdue);
	head(b, "exitwarden_policy_versions", "gauge",
	    "policy versions recorded");
	ew_buf_printf(
	    b, "exitwarden_policy_versions %" PRId64 "\n", f->versions);
	head(b, "exitwarden_store_revision", "gauge",
	    "the store's revision: every writing transaction adds one");
	ew_buf_printf(b, "exitwarden_store_revision %" PRId64 "\n", f->rev);
	if (f->last_applied != EW_STORE_NO_TIME) {
		head(b, "exitwarden_policy_last_apply_timestamp_seconds",
		    "gauge",
		    "when the policy in force was applied, by relay (\"all\": "
		    "the latest of them; \"tor\": the host's only relay)");
		ew_buf_printf(b,
		    "exitwarden_policy_last_apply_timestamp_seconds"
		    "{relay=\"all\"} %" PRId64 "\n",
		    f->last_applied);
		for (i = 0; i < f->nrelays; i++) {
			ew_buf_puts(b,
			    "exitwarden_policy_last_apply_timestamp_seconds"
			    "{relay=\"");
			label(b, f->relays[i].relay[0] != '\0'
				     ? f->relays[i].relay
				     : "tor");
			ew_buf_printf(
			    b, "\"} %" PRId64 "\n", f->relays[i].applied_at);
		}
	}
}

/* What exitwarden run repaired (tor drift, the table missing, tor
 * back), by relay: counts and the time of the last. */
static void
repair_part(struct ew_web *w, struct ew_buf *b)
{
	struct ew_store_repair_count *v = NULL;
	size_t n = 0, i, k;

	if (ew_store_repair_counts(w->st, &v, &n) != 0 || n == 0) {
		ew_store_repair_counts_free(v, n);
		return;
	}
	for (k = 0; k < 2; k++) {
		const char *name =
		    k ? "exitwarden_repair_last_timestamp_seconds"
		      : "exitwarden_repairs_total";

		if (k == 0)
			head(b, name, "counter",
			    "what exitwarden run repaired, by relay and what");
		else
			head(b, name, "gauge",
			    "when exitwarden run last repaired it, by relay "
			    "and what");
		for (i = 0; i < n; i++) {
			if (k == 1 && v[i].last_at == EW_STORE_NO_TIME)
				continue;
			ew_buf_printf(b, "%s{relay=\"", name);
			label(b, v[i].relay[0] != '\0' ? v[i].relay
				 : strcmp(v[i].what, EW_STORE_REPAIR_TABLE) == 0
				     ? "all"
				     : "tor");
			ew_buf_puts(b, "\",what=\"");
			label(b, v[i].what);
			ew_buf_printf(
			    b, "\"} %" PRId64 "\n", k ? v[i].last_at : v[i].n);
		}
	}
	ew_store_repair_counts_free(v, n);
}

static void
guard_part(struct ew_web *w, struct ew_buf *b)
{
	struct ew_store_guard_count *g = NULL;
	size_t n = 0, i;

	if (ew_store_guard_counts(w->st, &g, &n) != 0 || n == 0) {
		ew_store_guard_counts_free(g, n);
		return;
	}
	head(b, "exitwarden_guard_surges_total", "counter",
	    "surges a guard blocked, capped or allowed, by guard");
	for (i = 0; i < n; i++) {
		static const char *const what[] = { "blocked", "capped",
			"allowed" };
		const int64_t v[] = { g[i].surges, g[i].capped, g[i].allowed };
		size_t k;

		for (k = 0; k < 3; k++) {
			ew_buf_puts(
			    b, "exitwarden_guard_surges_total{guard=\"");
			label(b, g[i].guard);
			ew_buf_printf(b, "\",result=\"%s\"} %" PRId64 "\n",
			    what[k], v[k]);
		}
	}
	ew_store_guard_counts_free(g, n);
}

void
ew_web_metrics(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r)
{
	struct ew_store_figures f;
	struct ew_buf *b = &r->body;
	size_t i;
	int ok;

	r->cache_control = "no-store";
	if (!authorized(w, req->authorization)) {
		r->status = 401;
		r->content_type = "text/plain; charset=utf-8";
		r->www_auth = "Bearer realm=\"exitwarden\"";
		ew_buf_puts(b, "a bearer token is needed\n");
		return;
	}
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	ok = ew_store_figures(w->st, req->now, &f) == 0;
	store_part(&f, ok, b);
	if (ok)
		ew_store_figures_free(&f);
	guard_part(w, b);
	repair_part(w, b);
	head(b, "exitwarden_web_requests_total", "counter",
	    "requests this server answered, by page");
	for (i = 0; i < EW_WEB_NPATH; i++)
		ew_buf_printf(b,
		    "exitwarden_web_requests_total{page=\"%s\"} %" PRIu64 "\n",
		    ew_web_path_names[i], w->requests[i]);
	head(b, "exitwarden_web_block_requests_total", "counter",
	    "self-service block requests, by outcome");
	for (i = 0; i < EW_WEB_NOUTCOME; i++)
		ew_buf_printf(b,
		    "exitwarden_web_block_requests_total{outcome=\"%s\"} "
		    "%" PRIu64 "\n",
		    ew_web_outcome_names[i], w->outcomes[i]);
	head(b, "exitwarden_web_refused_total", "counter",
	    "requests refused before handling: too large, too many headers");
	ew_buf_printf(
	    b, "exitwarden_web_refused_total %" PRIu64 "\n", w->rejected_http);
}
