/*
 * env.c - where things live and how they are read: the database (--db
 * PATH before the noun, else $EW_DB, else /var/lib/exitwarden/
 * exitwarden.db for root and $XDG_STATE_HOME/exitwarden/exitwarden.db
 * (~/.local/state/...) for anyone else; or a PostgreSQL connection
 * string, postgresql://... or host=... dbname=..., see store.h), the
 * managed policy beside it (beside the default file for PostgreSQL),
 * the operator's policy, the store and a desk on it, the machine's
 * interface addresses, whole files and mails, a policy loaded and
 * expanded.  The configuration file (conf/conf.h: --config FILE before
 * the noun, else $EXITWARDEN_CONFIG, else /etc/exitwarden/exitwarden.conf
 * when it exists) fills what neither the command line nor the
 * environment gives: command line, then environment, then the file,
 * then the built-in defaults.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "desk/desk.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "store/store.h"

const char *ew_cli_db_opt;
const char *ew_cli_config_opt;
int ew_cli_resolve = 1;
static struct ew_conf *conf;
static char *conf_path;
static struct ew_desk_sysresolver resolver = { EW_DESK_RESOLVE_TIMEOUT_MS };

static char db_path[PATH_MAX];
static char db_label[PATH_MAX];
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

/* The default database file (for root, or in the user's state). */
static void
default_db(char *out, size_t cap)
{
	const char *env, *home;

	if (geteuid() == 0) {
		snprintf(out, cap, "/var/lib/exitwarden/exitwarden.db");
	} else if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/') {
		snprintf(out, cap, "%s/exitwarden/exitwarden.db", env);
	} else {
		home = getenv("HOME");
		snprintf(out, cap, "%s/.local/state/exitwarden/exitwarden.db",
		    home != NULL && *home == '/' ? home : "/tmp");
	}
}

const char *
ew_cli_db_path(void)
{
	const char *env;

	if (db_path[0] != '\0')
		return db_path;
	if (ew_cli_db_opt != NULL)
		env = ew_cli_db_opt;
	else
		env = getenv("EW_DB");
	if (env != NULL && *env != '\0')
		snprintf(db_path, sizeof(db_path), "%s", env);
	else if (conf != NULL && conf->database != NULL)
		snprintf(db_path, sizeof(db_path), "%s", conf->database);
	else
		default_db(db_path, sizeof(db_path));
	return db_path;
}

const char *
ew_cli_db_label(void)
{
	if (db_label[0] == '\0')
		ew_store_target_label(
		    ew_cli_db_path(), db_label, sizeof(db_label));
	return db_label;
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
	if (ew_cli_conf_relay() != NULL &&
	    ew_cli_conf_relay()->managed != NULL) {
		snprintf(managed_path, sizeof(managed_path), "%s",
		    ew_cli_conf_relay()->managed);
		return managed_path;
	}
	db = ew_cli_db_path();
	if (ew_store_is_server(db)) {
		/* no directory of its own: beside the default file */
		default_db(cwd, sizeof(cwd));
		db = cwd;
	}
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
	static char last[PATH_MAX];

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	if (ew_cli_conf_relay() != NULL && ew_cli_conf_relay()->policy != NULL)
		return ew_cli_conf_relay()->policy;
	if (conf != NULL && conf->policy != NULL)
		return conf->policy;
	/* the one exitwarden apply composed last */
	if (last[0] != '\0' || ew_desk_managed_source(ew_cli_managed_path(),
				   last, sizeof(last)) == 0)
		return last;
	return "/etc/exitwarden/exit.policy";
}

const char *
ew_cli_maildir(const char *opt)
{
	const char *env = getenv("EXITWARDEN_MAILDIR");

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return conf != NULL ? conf->maildir : NULL;
}

const char *
ew_cli_templates_dir(void)
{
	const char *env = getenv("EW_TEMPLATES");

	if (env != NULL)
		return env;
	return conf != NULL ? conf->templates : NULL;
}

/* ---- the configuration file ---- */

const char *
ew_cli_conf_path(int *explicit_)
{
	const char *env = getenv("EXITWARDEN_CONFIG");

	*explicit_ = 1;
	if (ew_cli_config_opt != NULL)
		return ew_cli_config_opt;
	if (env != NULL && *env != '\0')
		return env;
	*explicit_ = 0;
	return EW_CONF_PATH;
}

int
ew_cli_conf_open(void)
{
	struct ew_diag_list d;
	int explicit_, rc;
	const char *path = ew_cli_conf_path(&explicit_);

	if (conf != NULL)
		return 0;
	ew_diag_init(&d);
	rc = ew_conf_load(path, &d, &conf);
	if (rc == -ENOENT && !explicit_)
		return 0;
	if (rc == -ENOENT)
		ew_cli_err("%s: no configuration file there", path);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc == 0 && (conf_path = strdup(path)) == NULL)
		rc = -ENOMEM;
	if (rc == -ENOMEM)
		ew_cli_err("out of memory");
	if (rc != 0) {
		ew_cli_err("%s: configuration not used; fix it or give "
			   "--config FILE",
		    path);
		ew_conf_free(conf);
		conf = NULL;
		return EW_EXIT_FAIL;
	}
	return 0;
}

const struct ew_conf *
ew_cli_conf(void)
{
	return conf;
}

const struct ew_conf_relay *
ew_cli_conf_relay(void)
{
	return conf != NULL && conf->n_relays > 0 ? &conf->relays[0] : NULL;
}

void
ew_cli_conf_close(void)
{
	ew_conf_free(conf);
	conf = NULL;
	free(conf_path);
	conf_path = NULL;
}

int
ew_cli_store_open(struct ew_store **st)
{
	const char *path = ew_cli_db_path();
	char why[256];
	int rc;

	*st = NULL;
	if (strcmp(path, ":memory:") != 0 && !ew_store_is_server(path) &&
	    (rc = make_parent(path)) != 0) {
		ew_cli_err(
		    "%s: cannot make its directory: %s", path, strerror(-rc));
		return -1;
	}
	if ((rc = ew_store_open_err(path, st, why, sizeof(why))) != 0) {
		ew_cli_err("%s: cannot open the database: %s%s%s",
		    ew_cli_db_label(), strerror(-rc), why[0] ? ": " : "", why);
		return -1;
	}
	/* a server has no directory here: the managed policy's, made as
	 * the database file's would have been */
	if (ew_store_is_server(path) &&
	    (rc = make_parent(ew_cli_managed_path())) != 0) {
		ew_cli_err("%s: cannot make its directory: %s",
		    ew_cli_managed_path(), strerror(-rc));
		ew_store_close(*st);
		*st = NULL;
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
ew_cli_keeps_blocks(const char *file, int dry_run)
{
	const char *db = ew_cli_db_path(), *managed = ew_cli_managed_path();
	struct ew_store_rule *r = NULL;
	struct ew_store *st = NULL;
	struct stat sa, sb;
	size_t n = 0;

	if (strcmp(db, ":memory:") == 0 || stat(db, &sa) != 0)
		return 0; /* no store: nothing in force */
	if (stat(file, &sa) == 0 && stat(managed, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
		return 0; /* the managed policy carries them */
	if (ew_store_open(db, &st) != 0 ||
	    ew_store_rule_list(st, 0, &r, &n) != 0)
		n = 0;
	ew_store_rules_free(r, n);
	ew_store_close(st);
	if (n == 0)
		return 0;
	ew_cli_err("%s%s: the store %s has %zu block%s in force that %s "
		   "does not carry: applying it alone would drop them",
	    dry_run ? "warning: " : "", file, db, n, n == 1 ? "" : "s", file);
	ew_cli_err("%s'exitwarden apply %s' applies it with the blocks (as "
		   "%s); 'exitwarden block list' shows them",
	    dry_run ? "warning: " : "", file, managed);
	return dry_run ? 0 : EW_EXIT_FAIL;
}

/*
 * The machine's interface addresses, for ExitPolicyRejectLocalInterfaces
 * (tor's get_interface_address6_list; it filters them the same way).
 */
struct ew_addr *
ew_cli_interface_addrs(size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct ew_addr *v = NULL, *nv;

	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return NULL;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct ew_addr a;

		if (i->ifa_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;

			a.family = EW_AF_INET;
			memcpy(a.b, &s->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s =
			    (const void *)i->ifa_addr;

			a.family = EW_AF_INET6;
			memcpy(a.b, &s->sin6_addr, 16);
		} else {
			continue;
		}
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		v[(*n)++] = a;
	}
	freeifaddrs(ifa);
	return v;
}

/*
 * Read all of f, but never more than one byte past the size limit (so
 * an oversized message is refused without being held in memory).
 */
char *
ew_cli_read_all(FILE *f, size_t max, size_t *n)
{
	char *buf;

	return ew_file_read_fd(fileno(f), max + 1, EW_FILE_PREFIX, &buf, n) < 0
		   ? NULL
		   : buf;
}

char *
ew_cli_read_mail(const char **path, size_t *n)
{
	char *data;
	FILE *f;

	if (strcmp(*path, "-") == 0) {
		f = stdin;
		*path = "<stdin>";
	} else if ((f = fopen(*path, "rb")) == NULL) {
		ew_cli_err("%s: %s", *path, strerror(errno));
		return NULL;
	}
	data = ew_cli_read_all(f, EW_MAIL_MAX_SIZE, n);
	if (f != stdin)
		fclose(f);
	if (data == NULL)
		ew_cli_err("%s: read error", *path);
	return data;
}

/* Parse and expand; diagnostics to stderr.  0 or an exit code. */
int
ew_cli_load(
    const char *file, int64_t now, struct ew_policy **p, struct ew_expanded **e)
{
	struct ew_expand_env env;
	struct ew_diag_list d;
	size_t nifs = 0;
	struct ew_addr *ifs;
	int rc = EW_EXIT_OK;

	*p = NULL;
	*e = NULL;
	ew_diag_init(&d);
	if (ew_policy_parse_file(file, 0, &d, p) < 0) {
		ew_cli_print_diags(&d, 0);
		ew_diag_free(&d);
		return EW_EXIT_FAIL;
	}
	ifs = ew_cli_interface_addrs(&nifs);
	memset(&env, 0, sizeof(env));
	env.now = now;
	env.ifaddrs = ifs;
	env.n_ifaddrs = nifs;
	if (ew_policy_expand(*p, &env, &d, e) < 0) {
		ew_policy_free(*p);
		*p = NULL;
		rc = EW_EXIT_FAIL;
	}
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	free(ifs);
	return rc;
}
