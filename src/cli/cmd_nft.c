/*
 * cmd_nft.c - exitwarden nft emit | apply | flush, and exitwarden stats:
 * the kernel backstop in "table inet exitwarden" (src/emit/nft.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/num.h"
#include "lib/tm.h"
#include "policy/policy.h"

/* The user tor runs as on Debian. */
#define EW_TOR_USER "debian-tor"

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

void
ew_cli_nft_args_init(struct ew_cli_nft_args *a)
{
	memset(a, 0, sizeof(*a));
	a->now = ew_time_now();
	a->user = EW_TOR_USER;
}

int
ew_cli_nft_opt(
    int argc, char **argv, int *i, int allow_n, struct ew_cli_nft_args *a)
{
	const char *o = argv[*i];

	if (allow_n && (strcmp(o, "-n") == 0 || strcmp(o, "--dry-run") == 0)) {
		a->dry_run = 1;
	} else if (strcmp(o, "--now") == 0 && *i + 1 < argc) {
		if (ew_cli_parse_now(argv[++*i], &a->now) < 0)
			return EW_EXIT_USAGE;
	} else if (strcmp(o, "--uid") == 0 && *i + 1 < argc) {
		a->user = argv[++*i];
	} else if (strcmp(o, "--seed") == 0 && *i + 1 < argc) {
		uint64_t v;
		const char *sv = argv[++*i];

		if (ew_parse_uint(sv, strlen(sv), 0, UINT32_MAX, &v) != 0) {
			ew_cli_err("--seed: a number 0 to 4294967295");
			return EW_EXIT_USAGE;
		}
		a->seed = (uint32_t)v;
		a->seed_set = 1;
	} else if (allow_n && strcmp(o, "--state") == 0 && *i + 1 < argc) {
		a->state = argv[++*i];
	} else {
		return -1;
	}
	return 0;
}

static int
nft_opts(int argc, char **argv, const char *verb, int allow_n,
    struct ew_cli_nft_args *a)
{
	int i, rc;

	ew_cli_nft_args_init(a);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		rc = ew_cli_nft_opt(argc, argv, &i, allow_n, a);
		if (rc > 0)
			return rc;
		if (rc < 0) {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("nft", verb);
		}
	}
	if (i + 1 != argc)
		return ew_cli_usage("nft", verb);
	a->file = argv[i];
	return 0;
}

/* Parse, expand and render the policy as our table's ruleset. */
static int
build(const struct ew_cli_nft_args *a, struct ew_buf *out,
    struct ew_nft_stats *st)
{
	struct ew_diag_list d;
	struct ew_policy *p = NULL;
	struct ew_expanded *e = NULL;
	struct ew_expand_env env;
	struct ew_nft_opts o;
	int rc = EW_EXIT_FAIL;

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
		if (ew_nft_ruleset(p, e, &o, out, st) == 0)
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
ew_cmd_nft_emit(int argc, char **argv)
{
	struct ew_cli_nft_args a;
	struct ew_buf out = EW_BUF_INIT;
	int rc = nft_opts(argc, argv, "emit", 0, &a);

	if (rc != 0)
		return rc;
	rc = build(&a, &out, NULL);
	if (rc == EW_EXIT_OK && ew_cli_write(out.p, out.len) < 0)
		rc = EW_EXIT_FAIL;
	ew_buf_free(&out);
	return rc;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
print_nft_err(const struct ew_buf *err, int rc)
{
	if (err->len > 0)
		fputs(ew_buf_str(err), stderr);
	if (rc == -EPERM)
		ew_cli_err("nftables needs CAP_NET_ADMIN (run as root)");
	else if (rc == -ENOSYS)
		ew_cli_err("this build has no libnftables");
}

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *
slurp(const char *path)
{
	char *buf;
	size_t n;

	return ew_file_read(path, 256u << 20, 0, &buf, &n) < 0 ? NULL : buf;
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
 * With --state: when only set elements changed since the ruleset in the
 * state file, change just those elements in one transaction.  1 when
 * done, 0 when the whole table must be loaded.
 */
static int
apply_in_place(const struct ew_cli_nft_args *a, const struct ew_buf *text)
{
	struct ew_buf err = EW_BUF_INIT;
	struct ew_nft_diff d;
	char *old = slurp(a->state);
	double t0, t1;
	int rc;

	if (old == NULL)
		return 0;
	rc = ew_nft_diff(old, ew_buf_str(text), &d);
	free(old);
	if (rc < 0)
		return 0;
	t0 = mono_ms();
	rc = d.n == 0 ? ew_nft_table_exists(&err)
		      : ew_nft_batch(d.ops, d.n, &err);
	t1 = mono_ms();
	if (rc < 0) {
		ew_cli_err("in-place update failed (%s); loading the whole "
			   "table",
		    strerror(-rc));
	} else {
		printf("nft: updated table " EW_NFT_FAMILY " " EW_NFT_TABLE
		       " in place: %zu elements added, %zu deleted in %.1f "
		       "ms\n",
		    d.added, d.deleted, t1 - t0);
	}
	ew_nft_diff_free(&d);
	ew_buf_free(&err);
	return rc == 0;
}

int
ew_cmd_nft_apply(int argc, char **argv)
{
	struct ew_cli_nft_args a;
	int rc = nft_opts(argc, argv, "apply", 1, &a);

	if (rc != 0)
		return rc;
	return ew_cli_nft_apply_run(&a);
}

int
ew_cli_nft_apply_run(const struct ew_cli_nft_args *ap)
{
	struct ew_cli_nft_args a = *ap;
	struct ew_buf out = EW_BUF_INIT, err = EW_BUF_INIT;
	struct ew_nft_stats st;
	double t0, t1, t2;
	int rc;

	t0 = mono_ms();
	rc = build(&a, &out, &st);
	if (rc != EW_EXIT_OK)
		goto done;
	if (a.state != NULL && !a.dry_run && apply_in_place(&a, &out)) {
		rc = write_state(a.state, &out) < 0 ? EW_EXIT_FAIL : EW_EXIT_OK;
		goto done;
	}
	t1 = mono_ms();
	rc = ew_nft_load(ew_buf_str(&out), a.dry_run, &err);
	t2 = mono_ms();
	if (rc < 0) {
		print_nft_err(&err, rc);
		ew_cli_err("table " EW_NFT_FAMILY " " EW_NFT_TABLE
			   " not %s; the previous one, if any, is unchanged",
		    a.dry_run ? "valid" : "loaded");
		rc = EW_EXIT_FAIL;
		goto done;
	}
	printf("nft: %s table " EW_NFT_FAMILY " " EW_NFT_TABLE ": %zu rules, "
	       "%zu sets (%zu elements), %zu counters; %zu items left to "
	       "tor; built in %.0f ms, %s in %.0f ms\n",
	    a.dry_run ? "checked (dry run)" : "loaded", st.rules, st.sets,
	    st.elements, st.counters, st.skipped, t1 - t0,
	    a.dry_run ? "checked" : "loaded", t2 - t1);
	rc = EW_EXIT_OK;
	if (a.state != NULL && !a.dry_run && write_state(a.state, &out) < 0)
		rc = EW_EXIT_FAIL;
done:
	ew_buf_free(&out);
	ew_buf_free(&err);
	return rc;
}

int
ew_cmd_nft_flush(int argc, char **argv)
{
	struct ew_buf err = EW_BUF_INIT;
	int i, dry = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 ||
		    strcmp(argv[i], "--dry-run") == 0) {
			dry = 1;
		} else {
			ew_cli_err("unknown argument '%s'", argv[i]);
			return ew_cli_usage("nft", "flush");
		}
	}
	rc = ew_nft_flush(dry, &err);
	if (rc < 0) {
		print_nft_err(&err, rc);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	ew_buf_free(&err);
	return EW_EXIT_OK;
}

int
ew_cmd_stats(int argc, char **argv)
{
	struct ew_buf err = EW_BUF_INIT, out = EW_BUF_INIT;
	struct ew_nft_counter *v = NULL;
	size_t n = 0, i;
	int json = 0, rc;

	if ((rc = ew_cli_json_only(argc, argv, "stats", NULL, &json)) != 0)
		return rc;
	rc = ew_nft_counters(&v, &n, &err);
	if (rc == -ENOENT) {
		ew_cli_err("no table " EW_NFT_FAMILY " " EW_NFT_TABLE
			   " (run 'exitwarden nft apply' first)");
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	if (rc < 0) {
		print_nft_err(&err, rc);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	if (json) {
		ew_buf_puts(&out, "[");
		for (i = 0; i < n; i++) {
			ew_buf_puts(
			    &out, i ? ",\n {\"counter\": " : "{\"counter\": ");
			ew_json_str(&out, v[i].name);
			ew_buf_puts(&out, ", \"rule\": ");
			ew_json_str(&out, v[i].comment ? v[i].comment : "");
			ew_buf_printf(&out,
			    ", \"packets\": %llu, \"bytes\": %llu}",
			    (unsigned long long)v[i].packets,
			    (unsigned long long)v[i].bytes);
		}
		ew_buf_puts(&out, "]\n");
	} else {
		ew_buf_printf(&out, "%-8s %12s %14s  %s\n", "counter",
		    "packets", "bytes", "rule");
		for (i = 0; i < n; i++)
			ew_buf_printf(&out, "%-8s %12llu %14llu  %s\n",
			    v[i].name, (unsigned long long)v[i].packets,
			    (unsigned long long)v[i].bytes,
			    v[i].comment ? v[i].comment : "");
	}
	rc = out.oom ? EW_EXIT_FAIL : EW_EXIT_OK;
	if (rc == EW_EXIT_OK && ew_cli_write(out.p, out.len) < 0)
		rc = EW_EXIT_FAIL;
	ew_nft_counters_free(v, n);
	ew_buf_free(&out);
	ew_buf_free(&err);
	return rc;
}

/*
 * exitwarden nft element add|delete SET ELEMENT...: change one of our
 * sets in place over netlink (one transaction, no dump of the set).
 * The policy stays the truth: the next apply rebuilds the set from it.
 */
int
ew_cmd_nft_element(int argc, char **argv)
{
	struct ew_buf err = EW_BUF_INIT;
	struct ew_nft_elem *v;
	double t0, t1;
	int add, i, rc;

	if (argc < 4 ||
	    (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "delete") != 0))
		return ew_cli_usage("nft", "element");
	add = strcmp(argv[1], "add") == 0;
	v = calloc((size_t)argc, sizeof(*v));
	if (v == NULL)
		return EW_EXIT_FAIL;
	for (i = 3; i < argc; i++) {
		if (ew_nft_elem_parse(argv[i], &v[i - 3]) < 0) {
			ew_cli_err("malformed address or prefix '%s'", argv[i]);
			free(v);
			return EW_EXIT_USAGE;
		}
	}
	t0 = mono_ms();
	rc = ew_nft_set_update(argv[2], add, v, (size_t)argc - 3, &err);
	t1 = mono_ms();
	free(v);
	if (rc < 0) {
		print_nft_err(&err, rc);
		if (rc == -EEXIST)
			ew_cli_err(
			    "an element overlaps one already in set '%s'",
			    argv[2]);
		else if (rc == -ENOENT)
			ew_cli_err(
			    "no set '%s' or no such element in it", argv[2]);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	printf("nft: %s %d element%s %s set %s in %.1f ms\n",
	    add ? "added" : "deleted", argc - 3, argc == 4 ? "" : "s",
	    add ? "to" : "from", argv[2], t1 - t0);
	ew_buf_free(&err);
	return EW_EXIT_OK;
}
