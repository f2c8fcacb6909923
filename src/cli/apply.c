/*
 * apply.c - the apply steps every command that changes what the exit
 * enforces shares (tor apply, nft apply, apply, ticket block, expire,
 * run): their options, declared once (EW_OPTS_APPLY), the tor step
 * (SETCONF verified against exit-policy/full, with rollback), the nft
 * step (table inet exitwarden loaded atomically, or its sets updated in
 * place), and the struct ew_desk_apply_ops the desk's change
 * transaction calls them through.
 *
 * A password is read from --password-file or the environment variable
 * EW_TOR_PASSWORD, never from the command line, and is wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "desk/desk.h"
#include "store/store.h"
#include "emit/ctl.h"
#include "emit/nft.h"
#include "emit/tor.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "policy/policy.h"

/* The user tor runs as on Debian. */
#define EW_TOR_USER "debian-tor"

/* ---- tor's ControlPort ---- */

void
ew_cli_conn_init(struct ew_cli_conn *o)
{
	const struct ew_conf_relay *r = ew_cli_conf_relay();

	memset(o, 0, sizeof(*o));
	if (r == NULL)
		return;
	o->t.control = r->control;
	o->t.auth.cookie_file = r->cookie;
	o->password_file = r->password_file;
}

int
ew_cli_conn_opt(struct ew_cli_conn *o, const struct ew_optval *v)
{
	uint64_t s;
	int rc;

	switch (v->id) {
	case EW_OPT_CONTROL:
		o->t.control = v->val;
		return 0;
	case EW_OPT_COOKIE:
		/* the command line's auth replaces the file's */
		if (!o->cli_auth)
			o->password_file = NULL;
		o->cli_auth = 1;
		o->t.auth.cookie_file = v->val;
		return 0;
	case EW_OPT_PASSWORD_FILE:
		if (!o->cli_auth)
			o->t.auth.cookie_file = NULL;
		o->cli_auth = 1;
		o->password_file = v->val;
		return 0;
	case EW_OPT_TIMEOUT:
		if ((rc = ew_cli_parse_num(v, 1, 600, &s)) != 0)
			return rc;
		o->t.timeout_ms = (int)s * 1000;
		return 0;
	default:
		return -1;
	}
}

/* Read the password (file, else environment). 0 or an exit code. */
int
ew_cli_conn_ready(struct ew_cli_conn *o)
{
	const char *env = getenv("EW_TOR_PASSWORD");

	if (o->password_file != NULL && o->t.auth.cookie_file != NULL) {
		ew_cli_err("--cookie and --password-file exclude each other");
		return EW_EXIT_USAGE;
	}
	if (o->password_file != NULL) {
		FILE *f = fopen(o->password_file, "r");
		size_t cap = 0;
		ssize_t n;

		if (f == NULL) {
			ew_cli_err("cannot read password file '%s': %s",
			    o->password_file, strerror(errno));
			return EW_EXIT_FAIL;
		}
		n = getline(&o->password, &cap, f);
		fclose(f);
		if (n < 0) {
			ew_cli_err(
			    "password file '%s' is empty", o->password_file);
			return EW_EXIT_FAIL;
		}
		while (n > 0 && (o->password[n - 1] == '\n' ||
				    o->password[n - 1] == '\r'))
			o->password[--n] = '\0';
	} else if (env != NULL && o->t.auth.cookie_file == NULL) {
		o->password = strdup(env);
		if (o->password == NULL)
			return EW_EXIT_FAIL;
	}
	o->t.auth.password = o->password;
	return 0;
}

void
ew_cli_conn_done(struct ew_cli_conn *o)
{
	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	o->password = NULL;
}

static const char *
setting_word(int v)
{
	return v < 0 ? "auto" : v > 0 ? "1" : "0";
}

/* -n: the relay settings the policy states (each a change when tor
 * runs another value: asked over the ControlPort when tor answers)
 * and those it leaves to tor. */
static void
print_settings(const struct ew_tor_plan *pl, struct ew_cli_conn *conn)
{
	const char *keys[EW_SETTING_N];
	struct ew_ctl_kv *kv = NULL;
	struct ew_diag_list d;
	size_t nk = 0, nkv = 0, i, j;
	int v, have = 0, tv;

	for (i = 0; i < EW_SETTING_N; i++)
		if (ew_policy_setting(pl->p, (int)i, &v))
			keys[nk++] = ew_policy_setting_name((int)i);
	ew_diag_init(&d);
	if (nk > 0 && conn != NULL && ew_cli_conn_ready(conn) == 0 &&
	    ew_tor_getconf(&conn->t, keys, nk, &kv, &nkv, &d) == 0)
		have = 1;
	ew_diag_free(&d);
	for (i = 0; i < EW_SETTING_N; i++) {
		const char *name = ew_policy_setting_name((int)i);

		if (!ew_policy_setting(pl->p, (int)i, &v)) {
			if (pl->keep & (1u << i))
				printf("# relay setting %s: not in the policy, "
				       "left as tor has it\n",
				    name);
			continue;
		}
		for (j = 0; have && j < nkv; j++)
			if (strcasecmp(kv[j].key, name) == 0)
				break;
		if (have && j < nkv && kv[j].value != NULL &&
		    ew_policy_setting_parse((int)i, kv[j].value, &tv) == 0)
			printf("# relay setting %s: the policy states %s, tor "
			       "runs %s: %s\n",
			    name, setting_word(v), setting_word(tv),
			    tv == v ? "unchanged" : "CHANGED by this apply");
		else
			printf("# relay setting %s: the policy states %s (a "
			       "change if tor runs another; tor not asked)\n",
			    name, setting_word(v));
	}
	ew_ctl_kv_free(kv, nkv);
}

static void
print_plan(
    const struct ew_tor_plan *pl, const char *frag, struct ew_cli_conn *conn)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t i;

	if (frag != NULL)
		printf("# would write %s:\n%s", frag, pl->fragment);
	printf("# would send SETCONF with these pairs, in order:\n");
	for (i = 0; i < pl->n; i++) {
		ew_buf_reset(&b);
		if (pl->kv[i].value != NULL)
			ew_ctl_quote(&b, pl->kv[i].value);
		printf("%s%s%s\n", pl->kv[i].key,
		    pl->kv[i].value != NULL ? "=" : "", ew_buf_str(&b));
	}
	print_settings(pl, conn);
	printf("# then expect exit-policy/full (%zu bytes of descriptor "
	       "policy%s):\n%s",
	    pl->desc_bytes,
	    pl->keep ? "; with tor's defaults for the settings left to it" : "",
	    pl->expected);
	ew_buf_free(&b);
}

/* ---- the tor step ---- */

int
ew_cli_tor_run(struct ew_cli_apply *a, const char *file)
{
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_tor_plan plan;
	struct ew_tor_result res;
	struct ew_diag_list d;
	const char *frag = a->frag;
	int rc;

	if ((rc = ew_cli_load(file, a->tor_now, &p, &e)) != 0)
		return rc;
	ew_diag_init(&d);
	rc =
	    ew_tor_plan_build(p, e, file, a->tor_now, a->reevaluate, &plan, &d);
	if (rc == 0) {
		size_t nifs = 0;
		struct ew_addr *ifs = ew_cli_interface_addrs(&nifs);

		rc = ew_tor_plan_env(&plan, ifs, nifs);
		free(ifs);
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		if (rc == -ENOMEM)
			ew_cli_err("out of memory");
		else
			ew_cli_err("tor was not changed");
		ew_expanded_free(e);
		ew_policy_free(p);
		return EW_EXIT_FAIL;
	}
	if (a->tor_dry) {
		print_plan(&plan, frag, &a->conn);
		rc = EW_EXIT_OK;
		goto out;
	}
	if ((rc = ew_cli_conn_ready(&a->conn)) != 0)
		goto out;
	if (frag == NULL)
		ew_cli_err("warning: no --fragment: the change will not "
			   "survive a restart of tor");
	ew_diag_init(&d);
	rc = ew_tor_apply(&plan, &a->conn.t, frag, &res, &d);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc < 0) {
		ew_cli_err("tor apply of '%s' failed%s", file,
		    res.restored ? "; nothing changed" : "");
		rc = EW_EXIT_FAIL;
	} else {
		printf("applied '%s' to tor at %s (%s auth): exit-policy/full "
		       "verified, %zu items, %.1f ms from SETCONF%s%s\n",
		    file, res.control, res.auth_method, e->n,
		    (double)res.latency_us / 1000.0,
		    frag ? "; fragment written to " : "", frag ? frag : "");
		rc = EW_EXIT_OK;
	}
out:
	ew_cli_conn_done(&a->conn);
	ew_tor_plan_free(&plan);
	ew_expanded_free(e);
	ew_policy_free(p);
	return rc;
}

/* ---- the nft step ---- */

static int
parse_uid(const char *s, uint32_t *uid)
{
	uint64_t v;
	struct passwd *pw;

	if (ew_parse_uint(s, strlen(s), 0, UINT32_MAX - 1, &v) == 0) {
		*uid = (uint32_t)v;
		return 0;
	}
	pw = getpwnam(s);
	if (pw == NULL) {
		ew_cli_err("no user '%s' (give --uid USER|UID)", s);
		return -1;
	}
	*uid = (uint32_t)pw->pw_uid;
	return 0;
}

/* Parse, expand and render the policy as our table's ruleset: the text
 * into out, or (pack not NULL, one relay) the compact form into pack. */
static int
nft_build(const struct ew_cli_nft_args *a, struct ew_buf *out,
    struct ew_nft_compact *pack, struct ew_nft_stats *st)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_nft_opts o;
	int rc = EW_EXIT_FAIL;

	if (a->multi != NULL && a->multi->nrelays > 0)
		return ew_cli_nft_build_relays(a->multi, a->file, out, st);
	memset(&o, 0, sizeof(o));
	if (parse_uid(a->user, &o.uid) < 0)
		return EW_EXIT_USAGE;
	o.now = a->now;
	/* the guards' salt: new at each load, never written anywhere but
	 * the kernel (--seed pins it for tests) */
	o.seed = a->seed;
	if (!a->seed_set &&
	    getrandom(&o.seed, sizeof(o.seed), 0) != (ssize_t)sizeof(o.seed)) {
		ew_cli_err("getrandom: %s", strerror(errno));
		return EW_EXIT_FAIL;
	}
	memset(&env, 0, sizeof(env));
	env.now = a->now;
	ew_diag_init(&d);
	if (ew_policy_parse_file(a->file, 0, &d, &p) == 0 &&
	    ew_policy_expand(p, &env, &d, &e) == 0) {
		if ((pack != NULL ? ew_nft_ruleset_compact(p, e, &o, pack, st)
				  : ew_nft_ruleset(p, e, &o, out, st)) == 0)
			rc = EW_EXIT_OK;
		else
			ew_cli_err("out of memory");
	}
	ew_cli_print_diags(&d, 0);
	ew_expanded_free(e);
	ew_policy_free(p);
	ew_diag_free(&d);
	return rc;
}

int
ew_cli_nft_build(const struct ew_cli_nft_args *a, struct ew_buf *out,
    struct ew_nft_stats *st)
{
	return nft_build(a, out, NULL, st);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
ew_cli_nft_err(const struct ew_buf *err, int rc)
{
	if (err->len > 0)
		fputs(ew_buf_str(err), stderr);
	if (rc == -EPERM)
		ew_cli_err("nftables needs CAP_NET_ADMIN (run as root)");
	else if (rc == -ENOSYS)
		ew_cli_err("this build has no libnftables");
}

/* The whole file, NUL-terminated (*n its length); NULL when it cannot be
 * read. */
static char *
slurp(const char *path, size_t *n)
{
	char *buf;

	return ew_file_read(path, 256u << 20, 0, &buf, n) < 0 ? NULL : buf;
}

/* The state file whole or untouched (0600: it names what is blocked). */
static int
write_state(const char *path, const struct ew_buf *text)
{
	int rc = ew_file_write_atomic(path, text->p, text->len, 0600, 0, NULL);

	if (rc < 0)
		ew_cli_err("cannot write '%s': %s", path, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/*
 * With --state: the element changes d since the ruleset in the state
 * file, in one transaction.  1 when done, 0 when the whole table must
 * be loaded.
 */
static int
apply_in_place(const struct ew_nft_diff *d)
{
	struct ew_buf err = EW_BUF_INIT;
	double t0, t1;
	int rc;

	t0 = mono_ms();
	rc = d->n == 0 ? ew_nft_table_exists(&err)
		       : ew_nft_batch(d->ops, d->n, &err);
	t1 = mono_ms();
	if (rc < 0) {
		ew_cli_err("in-place update failed (%s); loading the whole "
			   "table",
		    strerror(-rc));
	} else {
		printf("nft: updated table " EW_NFT_FAMILY " " EW_NFT_TABLE
		       " in place: %zu elements added, %zu deleted in %.1f "
		       "ms\n",
		    d->added, d->deleted, t1 - t0);
	}
	ew_buf_free(&err);
	return rc == 0;
}

/* The text path (several relays): the state file holds the text. */
static int
in_place_text(const struct ew_cli_nft_args *a, const struct ew_buf *text)
{
	struct ew_nft_diff d;
	size_t n;
	char *old = slurp(a->state, &n);
	int rc;

	if (old == NULL)
		return 0;
	rc = ew_nft_diff(old, ew_buf_str(text), &d);
	free(old);
	if (rc < 0)
		return 0;
	rc = apply_in_place(&d);
	ew_nft_diff_free(&d);
	return rc;
}

/*
 * The compact path (one relay): the state file holds a compact ruleset
 * (nft.h), or the text of an older version, diffed as text (the text is
 * then made into *text).  1 when done in place, 0 when not.
 */
static int
in_place_compact(const char *old, size_t n, const struct ew_nft_compact *c,
    struct ew_buf *text)
{
	struct ew_nft_compact oc;
	struct ew_nft_diff d;
	int rc;

	if (ew_nft_state_read(old, n, &oc) == 0) {
		rc = ew_nft_compact_diff(&oc, c, &d);
	} else {
		if (text->len == 0 && ew_nft_compact_text(c, text) < 0)
			return 0;
		rc = ew_nft_diff(old, ew_buf_str(text), &d);
		memset(&oc, 0, sizeof(oc));
	}
	if (rc == 0) {
		rc = apply_in_place(&d);
		ew_nft_diff_free(&d);
	} else {
		rc = 0;
	}
	ew_nft_compact_free(&oc);
	return rc;
}

/* Load the text whole, and say so. */
static int
load_whole(const struct ew_cli_nft_args *a, const struct ew_buf *out,
    const struct ew_nft_stats *st, double t0)
{
	struct ew_buf err = EW_BUF_INIT;
	struct ew_nft_load_info li;
	double t1, t2;
	int rc;

	t1 = mono_ms();
	rc = ew_nft_load_ex(ew_buf_str(out), a->dry_run, &li, &err);
	t2 = mono_ms();
	if (rc < 0) {
		ew_cli_nft_err(&err, rc);
		ew_cli_err("table " EW_NFT_FAMILY " " EW_NFT_TABLE
			   " not %s; the previous one, if any, is unchanged",
		    a->dry_run ? "valid" : "loaded");
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	ew_buf_free(&err);
	printf("nft: %s table " EW_NFT_FAMILY " " EW_NFT_TABLE ": %zu rules, "
	       "%zu sets (%zu elements), %zu counters; %zu items left to "
	       "tor; built in %.0f ms, %s in %.0f ms",
	    a->dry_run ? "checked (dry run)" : "loaded", st->rules, st->sets,
	    st->elements, st->counters, st->skipped, t1 - t0,
	    a->dry_run ? "checked" : "loaded", t2 - t1);
	if (li.split)
		printf(" (two transactions, %zu elements over netlink: "
		       "skeleton %.0f ms, elements and hooks %.0f ms)",
		    li.direct, li.skeleton_ms, li.netlink_ms);
	putchar('\n');
	return EW_EXIT_OK;
}

/*
 * nft apply --state with one relay: the ruleset built compact, diffed
 * against the state's without being formatted, and formatted only when
 * it is loaded whole.  The state is written after the kernel took the
 * change (not when it is the same already), never before.
 */
static int
run_compact(const struct ew_cli_nft_args *a)
{
	struct ew_nft_compact c;
	struct ew_buf text = EW_BUF_INIT, state = EW_BUF_INIT;
	struct ew_nft_stats st;
	char *old;
	size_t n = 0;
	double t0 = mono_ms();
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = nft_build(a, NULL, &c, &st)) != EW_EXIT_OK)
		return rc;
	if (ew_nft_state_write(&c, &state) < 0) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
		goto done;
	}
	old = slurp(a->state, &n);
	if (old != NULL && in_place_compact(old, n, &c, &text)) {
		rc = EW_EXIT_OK;
		if ((n != state.len || memcmp(old, state.p, n) != 0) &&
		    write_state(a->state, &state) < 0)
			rc = EW_EXIT_FAIL;
		free(old);
		goto done;
	}
	free(old);
	if (text.len == 0 && ew_nft_compact_text(&c, &text) < 0) {
		ew_cli_err("out of memory");
		rc = EW_EXIT_FAIL;
		goto done;
	}
	rc = load_whole(a, &text, &st, t0);
	if (rc == EW_EXIT_OK && write_state(a->state, &state) < 0)
		rc = EW_EXIT_FAIL;
done:
	ew_nft_compact_free(&c);
	ew_buf_free(&text);
	ew_buf_free(&state);
	return rc;
}

int
ew_cli_nft_run(const struct ew_cli_nft_args *ap)
{
	struct ew_cli_nft_args a = *ap;
	struct ew_buf out = EW_BUF_INIT;
	struct ew_nft_stats st;
	double t0;
	int rc;

	if (a.state != NULL && !a.dry_run &&
	    (a.multi == NULL || a.multi->nrelays == 0))
		return run_compact(&a);
	t0 = mono_ms();
	rc = ew_cli_nft_build(&a, &out, &st);
	if (rc != EW_EXIT_OK)
		goto done;
	if (a.state != NULL && !a.dry_run && in_place_text(&a, &out)) {
		rc = write_state(a.state, &out) < 0 ? EW_EXIT_FAIL : EW_EXIT_OK;
		goto done;
	}
	rc = load_whole(&a, &out, &st, t0);
	if (rc == EW_EXIT_OK && a.state != NULL && !a.dry_run &&
	    write_state(a.state, &out) < 0)
		rc = EW_EXIT_FAIL;
done:
	ew_buf_free(&out);
	return rc;
}

/* ---- the options, and the steps of a change ---- */

void
ew_cli_apply_init(struct ew_cli_apply *a)
{
	const struct ew_conf_relay *r = ew_cli_conf_relay();

	memset(a, 0, sizeof(*a));
	ew_cli_conn_init(&a->conn);
	a->tor_now = ew_time_now();
	a->nft.now = a->tor_now;
	a->nft.user = EW_TOR_USER;
	if (r != NULL) {
		a->frag = r->fragment;
		a->nft.user = r->user;
	}
	if (ew_cli_conf() != NULL)
		a->nft.state = ew_cli_conf()->nft_state;
	a->nft.multi = a;
	a->cur = -1;
}

void
ew_cli_apply_free(struct ew_cli_apply *a)
{
	size_t i;

	for (i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	a->nowned = 0;
	ew_cli_conn_done(&a->conn);
}

int
ew_cli_apply_opt(struct ew_cli_apply *a, const struct ew_optval *v)
{
	uint64_t n;
	int rc;

	if ((rc = ew_cli_conn_opt(&a->conn, v)) >= 0)
		return rc;
	switch (v->id) {
	case EW_OPT_DRY_RUN:
		a->tor_dry = a->nft.dry_run = 1;
		return 0;
	case EW_OPT_NOW:
		if ((rc = ew_cli_parse_now(v->val, &a->tor_now)) != 0)
			return rc;
		a->nft.now = a->tor_now;
		return 0;
	case EW_OPT_REEVALUATE:
		a->reevaluate = 1;
		return 0;
	case EW_OPT_FRAGMENT:
		a->frag = v->val;
		return 0;
	case EW_OPT_UID:
		a->nft.user = v->val;
		return 0;
	case EW_OPT_STATE:
		a->nft.state = v->val;
		return 0;
	case EW_OPT_SEED:
		if ((rc = ew_cli_parse_num(v, 0, UINT32_MAX, &n)) != 0)
			return rc;
		a->nft.seed = (uint32_t)n;
		a->nft.seed_set = 1;
		return 0;
	case EW_OPT_NO_APPLY:
		a->no_apply = 1;
		return 0;
	case EW_OPT_RELAY:
		return ew_cli_relay_opt(a, v->val);
	default:
		return -1;
	}
}

/* The apply steps of a change (struct ew_desk_apply_ops): tor, then
 * nftables, each printing what it did. */
static int
op_tor(void *arg, const char *path, int64_t now)
{
	struct ew_cli_apply *a = arg;
	int rc;

	struct ew_tor_target keep = a->conn.t;
	const char *frag = a->frag;

	size_t i;

	(void)now; /* tor apply takes its own --now */
	fflush(stdout);
	for (i = 0; i < a->nrelays; i++) /* the relay of that file */
		if (strcmp(a->relays[i].managed, path) == 0)
			a->cur = (int)i;
	if (a->cur >= 0) { /* that relay's tor */
		const struct ew_relay *r = &a->relays[a->cur];

		if (r->control != NULL)
			a->conn.t.control = r->control;
		if (r->cookie != NULL)
			a->conn.t.auth.cookie_file = r->cookie;
		if (r->fragment != NULL)
			a->frag = r->fragment;
		printf("relay %s:\n", r->name);
	}
	rc = ew_cli_tor_run(a, path);
	a->conn.t = keep;
	a->frag = frag;
	fflush(stdout);
	if (rc != EW_EXIT_OK) {
		ew_cli_err("apply: the tor step failed; the nftables table "
			   "was not touched");
		return -EIO;
	}
	return a->tor_dry ? EW_DESK_CHECKED : 0;
}

static int
op_nft(void *arg, const char *path, int64_t now)
{
	struct ew_cli_apply *a = arg;
	int rc;

	a->nft.file = path;
	a->nft.now = now;
	rc = ew_cli_nft_run(&a->nft);
	fflush(stdout);
	if (rc != EW_EXIT_OK) {
		ew_cli_err("apply: tor %s the policy, but the nft step failed",
		    a->nft.dry_run ? "would take" : "has");
		return -EIO;
	}
	printf("apply: tor and nftables %s\n",
	    a->nft.dry_run ? "checked (dry run, nothing changed)"
			   : "both enforce the policy");
	return a->nft.dry_run ? EW_DESK_CHECKED : 0;
}

void
ew_cli_change_init(struct ew_desk_change *ch, struct ew_cli_apply *a,
    const char *policy, int64_t now)
{
	memset(ch, 0, sizeof(*ch));
	memset(&a->ops, 0, sizeof(a->ops));
	a->ops.arg = a;
	a->ops.record = a->record;
	if (!a->no_apply) {
		a->ops.tor = op_tor;
		a->ops.nft = op_nft;
	}
	ch->managed = ew_cli_managed_path();
	ch->policy = policy;
	ch->store = ew_cli_db_label();
	ch->now = now;
	ch->ops = &a->ops;
}

int
ew_cli_change_done(int rc, const struct ew_desk_change *ch,
    const struct ew_desk_outcome *o, struct ew_diag_list *dg)
{
	const struct ew_cli_apply *a = ch->ops != NULL ? ch->ops->arg : NULL;

	ew_cli_report(dg);
	ew_diag_free(dg);
	if (o->failed == EW_DESK_STEP_RECORD)
		ew_cli_err("%s: not recorded in %s", ch->managed, ch->store);
	if (rc == 0 && o->not_applied && a != NULL && a->nrelays > 0)
		printf("wrote the relays' managed policies; not applied "
		       "(--no-apply): run exitwarden apply\n");
	else if (rc == 0 && o->not_applied)
		printf("wrote %s; not applied (--no-apply): run exitwarden "
		       "apply %s\n",
		    ch->managed, ch->managed);
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* --expires: a duration, a time or "never". */
int
ew_cli_parse_expires(const char *expires_opt, int64_t now, int64_t *expires)
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

/* ---- expire, for exitwarden expire and run ---- */

int
ew_cli_expire_due(struct ew_desk *d, int64_t now, int dry_run, size_t *n)
{
	struct ew_desk_expired *v = NULL;
	char t[EW_TIME_STRLEN];
	size_t i;

	if (ew_desk_expire_due(d, now, &v, n) != 0) {
		ew_cli_err("%s: cannot read the blocks", ew_cli_db_label());
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < *n; i++)
		printf("expire: rule %lld (ticket %lld) %s, expired %s%s\n",
		    (long long)v[i].id, (long long)v[i].ticket_id,
		    ew_cli_esc(v[i].rule),
		    ew_time_format(v[i].expires, t, sizeof(t)),
		    dry_run ? " (-n: kept)" : "");
	ew_desk_expired_free(v, *n);
	return EW_EXIT_OK;
}

int
ew_cli_expire(struct ew_desk *d, const struct ew_desk_change *ch, int quiet)
{
	struct ew_cli_apply *a = ch->ops != NULL ? ch->ops->arg : NULL;
	struct ew_desk_change chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	struct ew_desk_outcome oc;
	struct ew_diag_list dg;
	size_t n = 0, nr;
	int rc, drift = 0;

	if ((rc = ew_cli_expire_due(d, ch->now, 0, &n)) != EW_EXIT_OK)
		return rc;

	fflush(stdout);
	ew_diag_init(&dg);
	if (a != NULL && a->nrelays > 0) {
		nr = ew_cli_relay_changes(a, ch->policy, ch->now, chs, names);
		rc = ew_desk_expire_relays(d, chs, names, nr, &drift, &oc, &dg);
	} else {
		rc = ew_desk_expire(d, ch, &drift, &oc, &dg);
	}
	if (drift)
		printf("expire: %s differed from the store (a change "
		       "interrupted?): wrote and applied the store's\n",
		    ch->managed);
	else if (n == 0 && rc == 0 && !quiet)
		printf("expire: no block has expired\n");
	return ew_cli_change_done(rc, ch, &oc, &dg);
}

/* ---- several relays: one change for all (relays.c defines them) ---- */

size_t
ew_cli_relay_changes(struct ew_cli_apply *a, const char *policy, int64_t now,
    struct ew_desk_change *chs, const char **names)
{
	size_t i, n = 0;

	for (i = 0; i < a->nrelays; i++) {
		if (!ew_cli_relay_selected(a, i))
			continue;
		ew_cli_change_init(&chs[n], a, policy, now);
		chs[n].managed = a->relays[i].managed;
		chs[n].policy = a->relays[i].policy;
		names[n++] = a->relays[i].name;
	}
	return n;
}

int
ew_cli_sync(struct ew_desk *d, const struct ew_desk_change *ch,
    struct ew_desk_outcome *oc, struct ew_diag_list *dg)
{
	struct ew_cli_apply *a = ch->ops != NULL ? ch->ops->arg : NULL;
	struct ew_desk_change chs[EW_RELAYS_MAX];
	const char *names[EW_RELAYS_MAX];
	size_t n;

	if (a == NULL || a->nrelays == 0)
		return ew_desk_sync(d, ch, oc, dg);
	n = ew_cli_relay_changes(a, ch->policy, ch->now, chs, names);
	return ew_desk_sync_relays(d, chs, names, n, oc, dg);
}
