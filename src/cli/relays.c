/*
 * relays.c - the relays of this host for the commands that change what
 * the exit enforces: --relay NAME,uid=U,... defines one (the struct
 * ew_relay of desk/relay.h, which exitwarden.conf will fill later),
 * --relay NAME selects defined ones; the change for one relay (its
 * managed file, its policy, its history, its blocks); and the one
 * nftables table of every relay (a uid verdict map to each relay's
 * chain, emit/nft.h), loaded in one transaction.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "desk/desk.h"
#include "desk/relay.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/num.h"
#include "policy/policy.h"

/* The managed files of relays, beside the database: owned here, for
 * the life of the process (a command runs once). */
static char managed_paths[EW_RELAYS_MAX][PATH_MAX];

static int
relay_uid(struct ew_relay *r, const char *s)
{
	uint64_t v;
	struct passwd *pw;

	if (ew_parse_uint(s, strlen(s), 0, UINT32_MAX - 1, &v) == 0) {
		r->uid = (uint32_t)v;
	} else if ((pw = getpwnam(s)) != NULL) {
		r->uid = (uint32_t)pw->pw_uid;
	} else {
		ew_cli_err("--relay %s: no user '%s'", r->name, s);
		return EW_EXIT_USAGE;
	}
	r->uid_set = 1;
	r->user = s;
	return 0;
}

/* One key=value of a definition (the value stays in argv). */
static int
relay_field(struct ew_relay *r, char *kv)
{
	char *eq = strchr(kv, '=');
	const char *v;

	if (eq == NULL || eq[1] == '\0') {
		ew_cli_err("--relay %s: '%s' is not KEY=VALUE", r->name, kv);
		return EW_EXIT_USAGE;
	}
	*eq = '\0';
	v = eq + 1;
	if (strcmp(kv, "uid") == 0)
		return relay_uid(r, v);
	if (strcmp(kv, "control") == 0)
		r->control = v;
	else if (strcmp(kv, "cookie") == 0)
		r->cookie = v;
	else if (strcmp(kv, "fragment") == 0)
		r->fragment = v;
	else if (strcmp(kv, "managed") == 0)
		r->managed = v;
	else if (strcmp(kv, "policy") == 0)
		r->policy = v;
	else {
		ew_cli_err(
		    "--relay %s: unknown key '%s' (uid, control, cookie, "
		    "fragment, managed, policy)",
		    r->name, kv);
		return EW_EXIT_USAGE;
	}
	return 0;
}

int
ew_cli_relay_find(const struct ew_cli_apply *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nrelays; i++)
		if (strcmp(a->relays[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
ew_cli_relay_opt(struct ew_cli_apply *a, const char *val)
{
	struct ew_relay r;
	char *s, *comma, *kv, *save = NULL, ident[96];
	int rc = 0;

	/* a copy the fields point into, freed with a */
	if (a->nowned == sizeof(a->owned) / sizeof(a->owned[0])) {
		ew_cli_err("--relay: at most %d", EW_RELAYS_MAX);
		return EW_EXIT_USAGE;
	}
	if ((s = strdup(val)) == NULL)
		return EW_EXIT_FAIL;
	a->owned[a->nowned++] = s;
	comma = strchr(s, ',');
	if (comma != NULL)
		*comma = '\0';
	if (ew_nft_relay_ident(s, ident, sizeof(ident)) < 0) {
		ew_cli_err("--relay '%s': a name is 1-64 letters, digits, "
			   "'_', '.', '-' or ':'",
		    s);
		return EW_EXIT_USAGE;
	}
	if (comma == NULL) { /* a selection */
		if (a->nselect == EW_RELAYS_MAX) {
			ew_cli_err("--relay: at most %d", EW_RELAYS_MAX);
			return EW_EXIT_USAGE;
		}
		a->select[a->nselect++] = s;
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.name = s;
	for (kv = strtok_r(comma + 1, ",", &save); kv != NULL && rc == 0;
	     kv = strtok_r(NULL, ",", &save))
		rc = relay_field(&r, kv);
	if (rc == 0 && ew_cli_relay_find(a, s) >= 0) {
		ew_cli_err("--relay %s: defined twice", s);
		rc = EW_EXIT_USAGE;
	}
	if (rc == 0 && a->nrelays == EW_RELAYS_MAX) {
		ew_cli_err("--relay: at most %d relays", EW_RELAYS_MAX);
		rc = EW_EXIT_USAGE;
	}
	if (rc != 0)
		return rc;
	a->relays[a->nrelays++] = r;
	return 0;
}

/* One relay of exitwarden.conf as a relay of the commands: its uid
 * from its user (getpwnam), the rest borrowed from the configuration
 * (which lives as long as the process). */
static int
relay_from_conf(struct ew_relay *r, const struct ew_conf_relay *c)
{
	struct passwd *pw;

	memset(r, 0, sizeof(*r));
	r->name = c->name;
	if (c->user == NULL || (pw = getpwnam(c->user)) == NULL) {
		ew_cli_err("%s: relay %s: no user '%s' (its tor's user)",
		    ew_cli_conf()->path ? ew_cli_conf()->path : "configuration",
		    c->name, c->user ? c->user : "");
		return EW_EXIT_FAIL;
	}
	if (c->password_file != NULL) {
		ew_cli_err("relay %s: password-file with several relays is not "
			   "supported yet (give it cookie)",
		    c->name);
		return EW_EXIT_FAIL;
	}
	r->uid = (uint32_t)pw->pw_uid;
	r->uid_set = 1;
	r->user = c->user;
	r->control = c->control;
	r->cookie = c->cookie;
	r->fragment = c->fragment;
	r->managed = c->managed;
	r->policy = c->policy;
	return 0;
}

int
ew_cli_relays_conf(struct ew_cli_apply *a)
{
	const struct ew_conf *c = ew_cli_conf();
	size_t i, k;
	int rc;

	if (a->conf_done)
		return 0;
	a->conf_done = 1;
	/* --relay NAME,uid=... on the command line replaces the file's */
	if (a->nrelays > 0 || c == NULL || c->n_relays == 0)
		return 0;
	if (c->n_relays == 1) {
		/* the host's only relay: as without relays; --relay NAME
		 * may name it */
		for (k = 0; k < a->nselect; k++)
			if (strcmp(a->select[k], c->relays[0].name) != 0) {
				ew_cli_err("--relay %s: no such relay (%s "
					   "names only '%s')",
				    a->select[k],
				    c->path ? c->path
					    : "the "
					      "configuration",
				    c->relays[0].name);
				return EW_EXIT_USAGE;
			}
		a->nselect = 0;
		return 0;
	}
	if (c->n_relays > EW_RELAYS_MAX) {
		ew_cli_err("%s: %zu relays; at most %d on one host",
		    c->path ? c->path : "configuration", c->n_relays,
		    EW_RELAYS_MAX);
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < c->n_relays; i++) {
		if ((rc = relay_from_conf(&a->relays[i], &c->relays[i])) != 0) {
			a->nrelays = 0;
			return rc;
		}
		a->nrelays = i + 1;
	}
	return 0;
}

int
ew_cli_relays_ready(struct ew_cli_apply *a, const char *policy)
{
	const char *m = ew_cli_managed_path(), *dot;
	size_t i, k;
	int rc;

	if ((rc = ew_cli_relays_conf(a)) != 0)
		return rc;

	for (i = 0; i < a->nselect; i++)
		if (ew_cli_relay_find(a, a->select[i]) < 0) {
			ew_cli_err("--relay %s: no such relay (name it in "
				   "exitwarden.conf, or define it with "
				   "--relay %s,uid=UID,...)",
			    a->select[i], a->select[i]);
			return EW_EXIT_USAGE;
		}
	for (i = 0; i < a->nrelays; i++) {
		struct ew_relay *r = &a->relays[i];

		if (!r->uid_set) {
			ew_cli_err("--relay %s: no uid= (the user its tor "
				   "runs as)",
			    r->name);
			return EW_EXIT_USAGE;
		}
		for (k = 0; k < i; k++)
			if (a->relays[k].uid == r->uid) {
				ew_cli_err("--relay %s: uid %lu is relay %s's "
					   "too",
				    r->name, (unsigned long)r->uid,
				    a->relays[k].name);
				return EW_EXIT_USAGE;
			}
		if (r->policy == NULL)
			r->policy = policy;
		if (r->managed == NULL) {
			/* managed.policy -> managed-NAME.policy */
			dot = strrchr(m, '.');
			snprintf(managed_paths[i], sizeof(managed_paths[i]),
			    "%.*s-%s%s", (int)(dot ? dot - m : (long)strlen(m)),
			    m, r->name, dot ? dot : "");
			r->managed = managed_paths[i];
		}
	}
	return 0;
}

int
ew_cli_relay_selected(const struct ew_cli_apply *a, size_t i)
{
	size_t k;

	if (a->nselect == 0)
		return 1;
	for (k = 0; k < a->nselect; k++)
		if (strcmp(a->select[k], a->relays[i].name) == 0)
			return 1;
	return 0;
}

int
ew_cli_relay_use(
    struct ew_cli_apply *a, int i, struct ew_desk *d, struct ew_desk_change *ch)
{
	const struct ew_relay *r;

	a->cur = i;
	if (i < 0)
		return d != NULL ? ew_desk_set_relay(d, NULL) : 0;
	r = &a->relays[i];
	if (ch != NULL) {
		ch->managed = r->managed;
		ch->policy = r->policy;
	}
	return d != NULL ? ew_desk_set_relay(d, r->name) : 0;
}

/* Parse and expand one relay's file for the table. */
static int
load_one(
    const char *file, int64_t now, struct ew_policy **p, struct ew_expanded **e)
{
	struct ew_diag_list d;
	struct ew_expand_env env;
	int rc = EW_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	env.now = now;
	ew_diag_init(&d);
	if (ew_policy_parse_file(file, 0, &d, p) == 0 &&
	    ew_policy_expand(*p, &env, &d, e) == 0)
		rc = EW_EXIT_OK;
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	return rc;
}

int
ew_cli_nft_build_relays(const struct ew_cli_apply *a, const char *path,
    struct ew_buf *out, struct ew_nft_stats *st)
{
	struct ew_nft_relay v[EW_RELAYS_MAX];
	struct ew_policy *p[EW_RELAYS_MAX];
	struct ew_expanded *e[EW_RELAYS_MAX];
	struct ew_nft_opts o;
	size_t i, n = a->nrelays;
	int rc = EW_EXIT_OK, erc;

	memset(p, 0, sizeof(p));
	memset(e, 0, sizeof(e));
	memset(&o, 0, sizeof(o));
	o.now = a->nft.now;
	o.seed = a->nft.seed;
	if (!a->nft.seed_set &&
	    getrandom(&o.seed, sizeof(o.seed), 0) != (ssize_t)sizeof(o.seed))
		return EW_EXIT_FAIL;
	for (i = 0; i < n && rc == EW_EXIT_OK; i++) {
		/* every relay's managed file (path is one of them), or
		 * for nft emit and nft apply each relay's policy */
		const char *f =
		    a->cur == -2 ? a->relays[i].policy : a->relays[i].managed;

		(void)path;
		rc = load_one(f, a->nft.now, &p[i], &e[i]);
		if (rc != EW_EXIT_OK)
			ew_cli_err("relay %s: '%s' does not load: the table "
				   "is not built",
			    a->relays[i].name, f);
		v[i].name = a->relays[i].name;
		v[i].uid = a->relays[i].uid;
		v[i].p = p[i];
		v[i].e = e[i];
	}
	if (rc == EW_EXIT_OK &&
	    (erc = ew_nft_ruleset_relays(v, n, &o, out, st)) < 0) {
		size_t ga = 0, gb = 0;

		if (erc == -ENOTSUP &&
		    ew_nft_relays_guards_differ(v, n, &o, &ga, &gb) > 0)
			ew_cli_err("relays %s and %s declare different surge "
				   "guards; guards are the host's: give every "
				   "relay the same guard lines",
			    v[ga].name, v[gb].name);
		else if (erc == -EEXIST)
			ew_cli_err("two relays make the same nft name");
		else
			ew_cli_err(
			    "cannot build the table: %s", strerror(-erc));
		rc = EW_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		ew_expanded_free(e[i]);
		ew_policy_free(p[i]);
	}
	return rc;
}
