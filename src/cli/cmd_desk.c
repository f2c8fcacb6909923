/*
 * cmd_desk.c - where the store lives, and the commands that feed it:
 * complaint add | list, policy record | history, template export.
 *
 * The database is --db PATH (before the noun), else $EW_DB, else
 * /var/lib/exitwarden/exitwarden.db for root and
 * $XDG_STATE_HOME/exitwarden/exitwarden.db (~/.local/state/...) for
 * anyone else.  The managed policy is managed.policy beside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/tm.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "store/store.h"

const char *ew_cli_db_opt;
int ew_cli_resolve = 1;
static struct ew_desk_sysresolver resolver = { EW_DESK_RESOLVE_TIMEOUT_MS };

static char db_path[PATH_MAX];
static char managed_path[PATH_MAX];

/* mkdir -p of the directory part of path, mode 0700. */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *
ew_cli_db_path(void)
{
	const char *env, *home;

	if (db_path[0] != '\0')
		return db_path;
	if (ew_cli_db_opt != NULL)
		env = ew_cli_db_opt;
	else
		env = getenv("EW_DB");
	if (env != NULL && *env != '\0') {
		snprintf(db_path, sizeof(db_path), "%s", env);
	} else if (geteuid() == 0) {
		snprintf(db_path, sizeof(db_path),
		    "/var/lib/exitwarden/exitwarden.db");
	} else if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/') {
		snprintf(db_path, sizeof(db_path),
		    "%s/exitwarden/exitwarden.db", env);
	} else {
		home = getenv("HOME");
		snprintf(db_path, sizeof(db_path),
		    "%s/.local/state/exitwarden/exitwarden.db",
		    home != NULL && *home == '/' ? home : "/tmp");
	}
	return db_path;
}

const char *
ew_cli_managed_path(void)
{
	const char *env = getenv("EW_MANAGED"), *db, *slash;
	char cwd[PATH_MAX - 32];

	if (managed_path[0] != '\0')
		return managed_path;
	if (env != NULL && *env != '\0') {
		snprintf(managed_path, sizeof(managed_path), "%s", env);
		return managed_path;
	}
	db = ew_cli_db_path();
	if (strcmp(db, ":memory:") == 0 || (slash = strrchr(db, '/')) == NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			snprintf(cwd, sizeof(cwd), ".");
		snprintf(managed_path, sizeof(managed_path),
		    "%s/managed.policy", cwd);
	} else {
		snprintf(managed_path, sizeof(managed_path),
		    "%.*s/managed.policy", (int)(slash - db), db);
	}
	return managed_path;
}

const char *
ew_cli_policy_path(const char *opt)
{
	const char *env = getenv("EW_POLICY");

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return "/etc/exitwarden/exit.policy";
}

int
ew_cli_store_open(struct ew_store **st)
{
	const char *path = ew_cli_db_path();
	int rc;

	*st = NULL;
	if (strcmp(path, ":memory:") != 0 && (rc = make_parent(path)) != 0) {
		ew_cli_err(
		    "%s: cannot make its directory: %s", path, strerror(-rc));
		return -1;
	}
	if ((rc = ew_store_open(path, st)) != 0) {
		ew_cli_err("%s: cannot open the database: %s%s%s", path,
		    strerror(-rc), *st ? ": " : "",
		    *st ? ew_store_errmsg(*st) : "");
		return -1;
	}
	return 0;
}

int
ew_cli_desk_open(const struct ew_addr *extra, size_t n_extra,
    struct ew_store **st, struct ew_desk **d)
{
	struct ew_addr *ifs, *all;
	size_t nifs = 0;
	int rc;

	*d = NULL;
	if (ew_cli_store_open(st) != 0)
		return -1;
	ifs = ew_cli_interface_addrs(&nifs);
	all = calloc(nifs + n_extra + 1, sizeof(*all));
	if (all == NULL) {
		free(ifs);
		ew_store_close(*st);
		*st = NULL;
		ew_cli_err("out of memory");
		return -1;
	}
	if (nifs > 0)
		memcpy(all, ifs, nifs * sizeof(*all));
	if (n_extra > 0)
		memcpy(all + nifs, extra, n_extra * sizeof(*all));
	rc = ew_desk_new(*st, all, nifs + n_extra, d);
	free(ifs);
	free(all);
	if (rc != 0) {
		ew_store_close(*st);
		*st = NULL;
		ew_cli_err("out of memory");
		return -1;
	}
	if (ew_cli_resolve)
		ew_desk_set_resolver(*d, ew_desk_resolve_system, &resolver);
	return 0;
}

int
ew_cli_address_opt(int argc, char **argv, int *i, struct ew_addr **v, size_t *n)
{
	struct ew_addr a, *nv;

	if (strcmp(argv[*i], "--address") != 0)
		return -1;
	if (*i + 1 >= argc) {
		ew_cli_err("--address needs an address");
		return EW_EXIT_USAGE;
	}
	if (!ew_addr_parse(argv[*i + 1], &a)) {
		ew_cli_err(
		    "--address: '%s' is not an IP address", argv[*i + 1]);
		return EW_EXIT_USAGE;
	}
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	*v = nv;
	nv[(*n)++] = a;
	(*i)++;
	return 0;
}

int
ew_cli_record(struct ew_desk *d, const char *path, int64_t now)
{
	struct ew_diag_list diags;
	struct ew_policy *p = NULL;
	int rc;

	ew_diag_init(&diags);
	rc = ew_policy_parse_file(path, 0, &diags, &p);
	if (rc == 0)
		rc = ew_desk_record(d, p, now, &diags);
	ew_policy_free(p);
	if (rc != 0) {
		ew_cli_print_diags(&diags, 0);
		ew_cli_err("%s: not recorded in %s: %s", path, ew_cli_db_path(),
		    strerror(rc < 0 ? -rc : EINVAL));
	}
	ew_diag_free(&diags);
	return rc == 0 ? EW_EXIT_OK : EW_EXIT_FAIL;
}

/* ---- policy record | history ---- */

/* The version in force now (the newest), or NULL; free with
 * ew_store_policy_version_free. */
static struct ew_store_policy_version *
newest_version(struct ew_store *st)
{
	struct ew_store_policy_version *v = NULL, *one = NULL;
	size_t n = 0;

	if (ew_store_policy_during(
		st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &v, &n) == 0 &&
	    n > 0 && (one = malloc(sizeof(*one))) != NULL) {
		*one = v[n - 1];
		n--; /* the last one's strings are now one's */
	}
	ew_store_policy_versions_free(v, n);
	return one;
}

int
ew_cmd_policy_record(int argc, char **argv)
{
	struct ew_store_policy_version *cur, *now_v;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	char t[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	int64_t at = ew_time_now();
	int i, rc = EW_EXIT_FAIL;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &at) < 0)
				return EW_EXIT_USAGE;
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			return ew_cli_usage("policy", "record");
		}
	}
	if (i + 1 != argc)
		return ew_cli_usage("policy", "record");
	if (ew_cli_desk_open(NULL, 0, &st, &d) != 0)
		return EW_EXIT_FAIL;
	cur = newest_version(st);
	if (cur != NULL && at < cur->applied_from) {
		/* the store would move it forward; a time given by hand
		 * that is wrong is refused instead */
		ew_cli_err("--at %s is before the version in force since %s: "
			   "the history only goes forward; not recorded",
		    ew_time_format(at, t, sizeof(t)),
		    ew_time_format(cur->applied_from, t2, sizeof(t2)));
	} else if ((rc = ew_cli_record(d, argv[i], at)) == EW_EXIT_OK &&
		   (now_v = newest_version(st)) != NULL) {
		printf("%s %s as the policy in force since %s\n",
		    cur != NULL && now_v->id == cur->id ? "already recorded"
							: "recorded",
		    argv[i], ew_time_format(now_v->applied_from, t, sizeof(t)));
		ew_store_policy_version_free(now_v);
	}
	ew_store_policy_version_free(cur);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
}

int
ew_cmd_policy_history(int argc, char **argv)
{
	struct ew_store_policy_version *v = NULL;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	size_t n = 0, i;
	int json = 0, rc;

	if ((rc = ew_cli_json_only(argc, argv, "policy", "history", &json)) !=
	    0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	rc = ew_store_policy_during(
	    st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &v, &n);
	if (rc != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	if (json)
		ew_buf_puts(&b, "{\"versions\":[");
	for (i = 0; i < n; i++) {
		ew_time_format(v[i].applied_from, t1, sizeof(t1));
		if (v[i].applied_to != EW_STORE_NO_TIME)
			ew_time_format(v[i].applied_to, t2, sizeof(t2));
		if (json) {
			ew_buf_printf(&b,
			    "%s{\"id\":%lld,\"digest\":\"%s\",\"from\":\"%s\","
			    "\"to\":",
			    i ? "," : "", (long long)v[i].id, v[i].digest, t1);
			if (v[i].applied_to == EW_STORE_NO_TIME)
				ew_buf_puts(&b, "null}");
			else
				ew_buf_printf(&b, "\"%s\"}", t2);
		} else {
			ew_buf_printf(&b, "%-4lld %s  %s  %s\n",
			    (long long)v[i].id, t1,
			    v[i].applied_to == EW_STORE_NO_TIME
				? "in force now        "
				: t2,
			    v[i].digest);
		}
	}
	if (json)
		ew_buf_puts(&b, "]}\n");
	else if (n == 0)
		ew_buf_puts(&b, "no policy recorded yet (exitwarden apply, "
				"or exitwarden policy record)\n");
	ew_store_policy_versions_free(v, n);
	ew_store_close(st);
	return ew_cli_put(&b);
}

/* ---- complaint add | list ---- */

/* complaint add --json, written at once: what happened, the incidents
 * of this complaint with their verdicts, and the ticket ("show"). */
static int
added_json(struct ew_store *st, struct ew_desk *d,
    const struct ew_desk_added *r, int64_t now)
{
	struct ew_buf b = EW_BUF_INIT;
	char t[EW_TIME_STRLEN];
	int rc;

	ew_buf_printf(&b,
	    "{\"complaint\":%lld,\"ticket\":%lld,\"duplicate\":%s,"
	    "\"new_ticket\":%s,\"reuses_message_id_of\":",
	    (long long)r->complaint_id, (long long)r->ticket_id,
	    r->duplicate ? "true" : "false", r->new_ticket ? "true" : "false");
	if (r->reuses_message_id > 0)
		ew_buf_printf(&b, "%lld", (long long)r->reuses_message_id);
	else
		ew_buf_puts(&b, "null");
	ew_buf_puts(&b, ",\"due\":");
	if (r->due == EW_STORE_NO_TIME)
		ew_buf_puts(&b, "null");
	else
		ew_buf_printf(
		    &b, "\"%s\"", ew_time_format(r->due, t, sizeof(t)));
	ew_buf_puts(&b, ",\"incidents\":");
	rc = ew_cli_incidents_json(st, r->complaint_id, &b) == 0 ? EW_EXIT_OK
								 : EW_EXIT_FAIL;
	ew_buf_puts(&b, ",\"show\":");
	if (rc == EW_EXIT_OK && r->ticket_id)
		rc = ew_cli_ticket_format(st, d, r->ticket_id, now, 1, &b);
	else if (rc == EW_EXIT_OK)
		ew_buf_puts(&b, "null");
	ew_buf_puts(&b, "}\n");
	if (rc == EW_EXIT_OK)
		return ew_cli_put(&b);
	ew_buf_free(&b);
	return rc;
}

int
ew_cmd_complaint_add(int argc, char **argv)
{
	struct ew_addr *extra = NULL;
	size_t n_extra = 0, n;
	struct ew_store *st = NULL;
	struct ew_desk *d = NULL;
	struct ew_desk_added r;
	struct ew_diag_list diags;
	int64_t now = ew_time_now();
	const char *path;
	char *data;
	int i, json = 0, rc;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--no-resolve") == 0) {
			ew_cli_resolve = 0;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (ew_cli_parse_now(argv[++i], &now) < 0)
				goto usage;
		} else if ((rc = ew_cli_address_opt(
				argc, argv, &i, &extra, &n_extra)) >= 0) {
			if (rc > 0) {
				free(extra);
				return rc;
			}
		} else {
			ew_cli_err("unknown option '%s'", argv[i]);
			goto usage;
		}
	}
	if (i != argc - 1)
		goto usage;
	path = argv[i];
	if ((data = ew_cli_read_mail(&path, &n)) == NULL) {
		free(extra);
		return EW_EXIT_FAIL;
	}
	if (ew_cli_desk_open(extra, n_extra, &st, &d) != 0) {
		free(data);
		free(extra);
		return EW_EXIT_FAIL;
	}
	free(extra);
	ew_diag_init(&diags);
	rc = ew_desk_add(d, path, data, n, now, &diags, &r);
	free(data);
	if (rc != 0) {
		size_t k;

		for (k = 0; k < diags.n; k++)
			ew_cli_err("%s: %s", path, diags.v[k].msg);
		if (diags.n == 0)
			ew_cli_err("%s: not stored: %s%s%s", path,
			    strerror(-rc), *ew_store_errmsg(st) ? ": " : "",
			    ew_store_errmsg(st));
		rc = EW_EXIT_FAIL;
	} else {
		if (!json)
			printf("%s: %s complaint %lld, ticket %lld%s\n\n", path,
			    r.duplicate ? "already stored as" : "stored as",
			    (long long)r.complaint_id, (long long)r.ticket_id,
			    r.new_ticket ? " (new)" : "");
		if (!json && r.reuses_message_id > 0)
			printf("%s: note: its Message-ID is that of complaint "
			       "%lld, with other content (stored as a "
			       "complaint of its own)\n\n",
			    path, (long long)r.reuses_message_id);
		fflush(stdout);
		if (json)
			rc = added_json(st, d, &r, now);
		else if (r.ticket_id)
			rc = ew_cli_ticket_print(st, d, r.ticket_id, now, 0);
	}
	ew_diag_free(&diags);
	ew_desk_free(d);
	ew_store_close(st);
	return rc;
usage:
	free(extra);
	return ew_cli_usage("complaint", "add");
}

int
ew_cmd_complaint_list(int argc, char **argv)
{
	struct ew_store_complaint *v = NULL;
	struct ew_store *st = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char t[EW_TIME_STRLEN];
	size_t n = 0, i;
	int64_t tid;
	int json = 0, rc;

	if ((rc = ew_cli_json_only(argc, argv, "complaint", "list", &json)) !=
	    0)
		return rc;
	if (ew_cli_store_open(&st) != 0)
		return EW_EXIT_FAIL;
	if (ew_store_complaint_list(st, &v, &n) != 0) {
		ew_cli_err("%s: %s", ew_cli_db_path(), ew_store_errmsg(st));
		ew_store_close(st);
		return EW_EXIT_FAIL;
	}
	if (json)
		ew_buf_puts(&b, "{\"complaints\":[");
	for (i = 0; i < n; i++) {
		if (ew_store_complaint_ticket(st, v[i].id, &tid) != 0)
			tid = 0;
		ew_time_format(v[i].received_at, t, sizeof(t));
		if (json) {
			ew_buf_printf(&b,
			    "%s{\"id\":%lld,\"ticket\":%lld,\"received\":\"%"
			    "s\","
			    "\"format\":",
			    i ? "," : "", (long long)v[i].id, (long long)tid,
			    t);
			ew_json_str(&b, v[i].format);
			ew_buf_puts(&b, ",\"reporter\":");
			ew_json_str(&b, v[i].reporter);
			ew_buf_puts(&b, ",\"message_id\":");
			if (v[i].message_id)
				ew_json_str(&b, v[i].message_id);
			else
				ew_buf_puts(&b, "null");
			ew_buf_putc(&b, '}');
		} else {
			ew_buf_printf(&b, "%-5lld ticket %-4lld %s  %-6s %s\n",
			    (long long)v[i].id, (long long)tid, t,
			    ew_cli_esc(v[i].format), ew_cli_esc(v[i].reporter));
		}
	}
	if (json)
		ew_buf_puts(&b, "]}\n");
	ew_store_complaints_free(v, n);
	ew_store_close(st);
	return ew_cli_put(&b);
}

/* ---- template export ---- */

int
ew_cmd_template_export(int argc, char **argv)
{
	static const char *const names[] = { "provider", "complainant" };
	char path[PATH_MAX];
	size_t i, len;
	int fd;

	if (argc != 2 || argv[1][0] == '-')
		return ew_cli_usage("template", "export");
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		ew_cli_err("%s: %s", argv[1], strerror(errno));
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < 2; i++) {
		const char *t = ew_desk_template(names[i]);

		snprintf(path, sizeof(path), "%s/%s.txt", argv[1], names[i]);
		/* never overwrite the operator's edits */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			ew_cli_err("%s: %s%s", path, strerror(errno),
			    errno == EEXIST ? " (left as it is)" : "");
			continue;
		}
		len = strlen(t);
		if (write(fd, t, len) != (ssize_t)len || close(fd) < 0) {
			ew_cli_err("%s: write error", path);
			return EW_EXIT_FAIL;
		}
		printf("wrote %s\n", path);
	}
	return EW_EXIT_OK;
}
