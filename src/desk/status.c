/*
 * status.c - what each relay should enforce and what it does (exitwarden
 * status): the operator's policy and the managed policy, the store's
 * blocks in force composed with it, the version recorded, tor's running
 * exit-policy/full (when tor answers) and whether the kernel holds our
 * table; drift wherever two of them disagree.
 *
 * It takes a list of relays so that a host with several can be shown
 * at once; today's callers pass one.  Nothing here changes anything:
 * it reads the store, the files, tor (GETINFO) and the kernel (one
 * netlink request).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "emit/nft.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "store/store.h"

/* The store's truth for the relay: the list its managed policy makes. */
static int
want_digest(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_relay_status *s, struct ew_diag_list *dg)
{
	struct ew_buf text = EW_BUF_INIT, list = EW_BUF_INIT;
	int rc;

	rc = ew_desk_compose(d, ch, NULL, 0, &text, &list, dg);
	if (rc == 0)
		rc = ew_tor_list_digest(ew_buf_str(&list), s->want);
	ew_buf_free(&text);
	ew_buf_free(&list);
	return rc;
}

static void
blocks(struct ew_desk *d, int64_t now, struct ew_desk_relay_status *s)
{
	struct ew_store_rule *r = NULL;
	size_t n = 0, i;

	s->next_expiry = EW_STORE_NO_TIME;
	if (ew_store_rule_list(d->st, 0, &r, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (r[i].expires_at == EW_STORE_NO_TIME)
			continue;
		if (r[i].expires_at <= now)
			s->due++;
		else if (s->next_expiry == EW_STORE_NO_TIME ||
			 r[i].expires_at < s->next_expiry) {
			s->next_expiry = r[i].expires_at;
			s->next_id = r[i].id;
		}
	}
	s->blocks = n;
	ew_store_rules_free(r, n);
}

/* The version recorded last (it may start a second after now: the
 * history only goes forward). */
static void
recorded(struct ew_desk *d, int64_t now, struct ew_desk_relay_status *s)
{
	struct ew_store_policy_version *v = NULL;
	size_t n = 0;

	if (ew_store_policy_during(d->st, now, EW_STORE_NO_TIME, &v, &n) != 0)
		return;
	if (n > 0) {
		snprintf(
		    s->recorded, sizeof(s->recorded), "%s", v[n - 1].digest);
		s->recorded_from = v[n - 1].applied_from;
	}
	ew_store_policy_versions_free(v, n);
}

static void
one_relay(struct ew_desk *d, const struct ew_desk_relay *r, int64_t now,
    struct ew_desk_relay_status *s, struct ew_diag_list *dg)
{
	struct ew_desk_change ch;
	struct ew_tor_status ts;
	struct ew_diag_list tdg;
	struct ew_buf err = EW_BUF_INIT;
	struct stat sb;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->relay = r;
	memset(&ch, 0, sizeof(ch));
	ch.managed = r->managed;
	ch.policy = r->policy;
	ch.store = r->store;
	ch.now = now;
	s->policy_exists = stat(r->policy, &sb) == 0;
	s->managed_exists = stat(r->managed, &sb) == 0;
	blocks(d, now, s);
	recorded(d, now, s);
	s->compose_rc = want_digest(d, &ch, s, dg);
	s->drift = s->compose_rc == 0 ? ew_desk_drift(d, &ch, dg) : -1;
	s->recorded_drift = s->compose_rc != 0 ? -1
			    : s->recorded[0] == '\0'
				? 1
				: strcmp(s->recorded, s->want) != 0;
	/* tor: its running list against the store's */
	ew_diag_init(&tdg);
	s->tor_rc = ew_tor_status_get(&r->tor, &ts, &tdg);
	if (s->tor_rc == 0) {
		snprintf(
		    s->tor_version, sizeof(s->tor_version), "%s", ts.version);
		snprintf(s->live, sizeof(s->live), "%s", ts.digest);
		snprintf(
		    s->tor_control, sizeof(s->tor_control), "%s", ts.control);
		s->tor_drift =
		    s->compose_rc == 0 ? strcmp(ts.digest, s->want) != 0 : -1;
		ew_tor_status_free(&ts);
	} else {
		s->tor_drift = -1;
		for (i = 0; i < tdg.n; i++)
			if (tdg.v[i].sev == EW_SEV_ERROR) {
				snprintf(s->tor_error, sizeof(s->tor_error),
				    "%s", tdg.v[i].msg);
				break;
			}
	}
	ew_diag_free(&tdg);
	s->nft_rc = ew_nft_table_exists(&err);
	ew_buf_free(&err);
}

int
ew_desk_status(struct ew_desk *d, const struct ew_desk_relay *relays, size_t n,
    int64_t now, struct ew_desk_relay_status *out, struct ew_diag_list *dg)
{
	size_t i;

	for (i = 0; i < n; i++)
		one_relay(d, &relays[i], now, &out[i], dg);
	return 0;
}
