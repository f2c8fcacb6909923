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
#include "policy/policy.h"
#include "store/store.h"

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The rule counters a ruleset text declares ("\tcounter rHEX {"),
 * sorted; *n of them (free each and the vector). */
static char **
text_counters(const char *text, size_t *n)
{
	const char *s, *e;
	char **v = NULL, **nv;

	*n = 0;
	for (s = text; *s != '\0'; s = *e ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		if (strncmp(s, "\tcounter r", 10) != 0 || e - s < 12 ||
		    e[-1] != '{')
			continue;
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		v[*n] = strndup(s + 9, (size_t)(e - s) - 11);
		if (v[*n] != NULL)
			(*n)++;
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/*
 * Whether the kernel's rule counters are the ones the store's policy
 * makes (their names come from the rules: ew_nft_rule_names): 0 the
 * same, 1 not (another policy's table), -1 unknown.  With several
 * relays (relay not NULL) the relay's counters are those named with its
 * prefix (ew_nft_relay_ident) in the table of all.
 */
static int
kernel_drift(
    const struct ew_policy *p, const struct ew_expanded *e, const char *relay)
{
	char ident[96];
	size_t il = 0;
	const char *name;
	struct ew_nft_counter *kc = NULL;
	struct ew_nft_opts o;
	struct ew_buf rs = EW_BUF_INIT, err = EW_BUF_INIT;
	char **want = NULL;
	size_t nk = 0, nw = 0, i, k = 0;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (ew_nft_ruleset(p, e, &o, &rs, NULL) == 0 &&
	    ew_nft_counters(&kc, &nk, &err) == 0) {
		want = text_counters(ew_buf_str(&rs), &nw);
		rc = 0;
		if (relay != NULL &&
		    ew_nft_relay_ident(relay, ident, sizeof(ident)) == 0)
			il = strlen(ident);
		else if (relay != NULL)
			rc = -1;
		for (i = 0; rc == 0 && i < nk; i++) {
			name = kc[i].name;
			if (il > 0 && strncmp(name, ident, il) != 0)
				continue; /* another relay's */
			name += il;
			if (name[0] != 'r' || strlen(name) < 17)
				continue; /* a guard's */
			if (k >= nw || bsearch(&name, want, nw, sizeof(*want),
					   cmp_str) == NULL)
				rc = 1;
			k++;
		}
		if (rc == 0 && k != nw)
			rc = 1;
	}
	for (i = 0; i < nw; i++)
		free(want[i]);
	free(want);
	ew_nft_counters_free(kc, nk);
	ew_buf_free(&rs);
	ew_buf_free(&err);
	return rc;
}

/* The store's truth for the relay: the list its managed policy makes,
 * and whether the kernel's table is that policy's. */
static int
want_digest(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_relay_status *s, struct ew_diag_list *dg)
{
	struct ew_buf text = EW_BUF_INIT, list = EW_BUF_INIT;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	int rc;

	s->nft_drift = -1;
	rc = ew_desk_compose(d, ch, NULL, 0, &text, &list, dg);
	if (rc == 0)
		rc = ew_tor_list_digest(ew_buf_str(&list), s->want);
	if (rc == 0)
		s->want_list = ew_buf_detach(&list);
	memset(&env, 0, sizeof(env));
	env.now = ch->now;
	env.ifaddrs = d->ifaddrs;
	env.n_ifaddrs = d->n_ifaddrs;
	if (rc == 0 && s->nft_rc == 0 &&
	    ew_policy_parse_string(
		ch->managed, ew_buf_str(&text), text.len, 0, dg, &p) == 0 &&
	    ew_policy_expand(p, &env, dg, &e) == 0)
		s->nft_drift = kernel_drift(p, e, d->relay);
	ew_expanded_free(e);
	ew_policy_free(p);
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
		/* with several relays: those for every relay and its own */
		if (d->relay != NULL && r[i].relay != NULL &&
		    r[i].relay[0] != '\0' && strcmp(r[i].relay, d->relay) != 0)
			continue;
		s->blocks++;
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
	ew_store_rules_free(r, n);
}

/* The version recorded last (it may start a second after now: the
 * history only goes forward). */
static void
recorded(struct ew_desk *d, int64_t now, struct ew_desk_relay_status *s)
{
	struct ew_store_policy_version *v = NULL;
	const char *mine = d->relay != NULL ? d->relay : "";
	size_t n = 0, i;

	if (ew_store_policy_during(d->st, now, EW_STORE_NO_TIME, &v, &n) != 0)
		return;
	/* the desk's relay's timeline (every relay's come back) */
	for (i = n; i > 0; i--) {
		if (strcmp(v[i - 1].relay != NULL ? v[i - 1].relay : "",
			mine) != 0)
			continue;
		snprintf(
		    s->recorded, sizeof(s->recorded), "%s", v[i - 1].digest);
		s->recorded_from = v[i - 1].applied_from;
		break;
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
	s->nft_rc = ew_nft_table_exists(&err);
	ew_buf_free(&err);
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
		if (s->tor_drift == 1 && s->want_list != NULL) {
			/* tor's own address, which a policy without an
			 * Address line cannot name, is not drift */
			struct ew_buf l = EW_BUF_INIT;
			char dg2[65];

			ew_tor_live_without_own(&ts, s->want_list, &l);
			if (!l.oom &&
			    ew_tor_list_digest(ew_buf_str(&l), dg2) == 0 &&
			    strcmp(dg2, s->want) == 0)
				s->tor_drift = 0;
			ew_buf_free(&l);
		}
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
}

void
ew_desk_status_free(struct ew_desk_relay_status *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].want_list);
		v[i].want_list = NULL;
	}
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
