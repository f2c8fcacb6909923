/*
 * cmd_setup.c - exitwarden setup [-n] [--undo] [--root DIR]: make this
 * host's tor relays read exitwarden's fragment, and write the
 * configuration file that names them.
 *
 * The relays: the system tor (/etc/tor/torrc, relay "default") and
 * every Debian instance (/etc/tor/instances/NAME/torrc), with Debian's
 * settings for each (conf/conf.h).  For each torrc, the edit of
 * conf/torrc.c: the options exitwarden takes over commented out with a
 * marker (and written to the relay's policy file when it has none),
 * "%include" of the fragment's directory as the last setting.  The new
 * text is first written beside the torrc and checked with
 * `tor --verify-config` (tor run with an argument vector, never a
 * shell); only then is the original copied to
 * TORRC.exitwarden-backup-TIMESTAMP and the torrc replaced atomically.
 * If tor refuses it, the torrc is left as it was and tor's reasons are
 * shown.  --undo puts back the newest backup of each file (and removes
 * it, so undoing twice goes back two setups).  -n prints a unified diff
 * of every change and changes nothing.  --root DIR works on DIR/etc/...
 * (tests, images): the files written name the paths of the real tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/diff.h"
#include "lib/file.h"
#include "lib/tm.h"

extern char **environ;

#define TORRC_MAX (1u << 20)
#define BACKUP_TAG ".exitwarden-backup-"

struct setup {
	const char *root; /* "" for / */
	int dry_run, undo;
	char stamp[32]; /* the backups' TIMESTAMP */
	int failed;
};

/* root + path into buf (PATH_MAX). */
static const char *
rooted(const struct setup *s, const char *path, char *buf)
{
	if (snprintf(buf, PATH_MAX, "%s%s", s->root, path) >= PATH_MAX)
		snprintf(buf, PATH_MAX, "/nonexistent-path-too-long");
	return buf;
}

static int
is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The relays of this host: the system tor, then the instances by name. */
static int
discover(const struct setup *s, struct ew_conf *c)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct dirent **v = NULL;
	int n, i;

	if (is_file(rooted(s, "/etc/tor/torrc", p)) &&
	    ew_conf_add_relay(c, "default") == NULL)
		return -ENOMEM;
	n = scandir(rooted(s, "/etc/tor/instances", dir), &v, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *name = v[i]->d_name;

		if (snprintf(p, sizeof(p), "%s/%s/torrc", dir, name) <
			(int)sizeof(p) &&
		    name[0] != '.' && is_file(p)) {
			if (!ew_conf_relay_name_ok(name))
				ew_cli_err("warning: %s: instance name '%s' "
					   "not taken (letters, digits, '.', "
					   "'_', '-')",
				    p, ew_cli_esc(name));
			else if (ew_conf_add_relay(c, name) == NULL)
				n = -ENOMEM;
		}
		free(v[i]);
	}
	free(v);
	return n == -ENOMEM ? -ENOMEM : 0;
}

/* The fragment's directory, with its slash: what the torrc includes. */
static void
frag_dir(const struct ew_conf_relay *r, char *out)
{
	const char *slash = strrchr(r->fragment, '/');

	snprintf(
	    out, PATH_MAX, "%.*s/", (int)(slash - r->fragment), r->fragment);
}

/* ---- tor --verify-config ---- */

/*
 * Run tor --verify-config on file; 0 when tor takes it, else 1 with
 * tor's warnings and errors in why, or -errno when tor could not run.
 */
static int
tor_verify(const char *file, const char *defaults, struct ew_buf *why)
{
	const char *tor = getenv("EXITWARDEN_TOR");
	char *argv[] = { (char *)(tor && *tor ? tor : "tor"),
		(char *)"--verify-config", (char *)"--defaults-torrc",
		(char *)defaults, (char *)"-f", (char *)file, NULL };
	posix_spawn_file_actions_t fa;
	struct ew_buf out = EW_BUF_INIT;
	struct pollfd pfd;
	int pipefd[2], st = 0, rc;
	char buf[4096], *line, *nl;
	pid_t pid;
	ssize_t r;
	time_t t0 = time(NULL);

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		return -rc;
	}
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	for (;;) {
		if (time(NULL) - t0 > 60) {
			kill(pid, SIGKILL);
			ew_buf_puts(&out, "[err] tor took more than 60 s\n");
			break;
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((r = read(pipefd[0], buf, sizeof(buf))) <= 0)
			break;
		if (out.len < 65536)
			ew_buf_add(&out, buf, (size_t)r);
	}
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* tor's reasons: its [warn] and [err] lines */
	for (line = out.p; line != NULL && *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (strstr(line, "[warn]") || strstr(line, "[err]"))
			ew_buf_printf(why, "    %s\n", line);
	}
	ew_buf_free(&out);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* ---- writing, with backups ---- */

/* Copy the file's bytes to PATH.exitwarden-backup-STAMP (its mode);
 * the backup's name in out. */
static int
backup(const struct setup *s, const char *path, const char *data, size_t n,
    char *out)
{
	struct stat sb;
	int i;

	if (stat(path, &sb) < 0)
		return -errno;
	snprintf(out, PATH_MAX, "%s" BACKUP_TAG "%s", path, s->stamp);
	for (i = 1; access(out, F_OK) == 0 && i < 100; i++)
		snprintf(out, PATH_MAX, "%s" BACKUP_TAG "%s.%02d", path,
		    s->stamp, i);
	return ew_file_write_atomic(out, data, n, sb.st_mode & 07777, 0, NULL);
}

/* The newest backup of path, or -ENOENT. */
static int
newest_backup(const char *path, char *out)
{
	char dir[PATH_MAX], pre[PATH_MAX];
	const char *base = strrchr(path, '/');
	struct dirent **v = NULL;
	int n, i, found = -ENOENT;

	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	snprintf(pre, sizeof(pre), "%s" BACKUP_TAG, base + 1);
	n = scandir(dir[0] ? dir : "/", &v, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (strncmp(v[i]->d_name, pre, strlen(pre)) == 0 &&
		    snprintf(out, PATH_MAX, "%s/%s", dir, v[i]->d_name) <
			PATH_MAX)
			found = 0;
		free(v[i]);
	}
	free(v);
	return found;
}

/* mkdir -p, mode 0755. */
static int
make_dirs(const char *path)
{
	char d[PATH_MAX];
	char *p;

	snprintf(d, sizeof(d), "%s", path);
	for (p = d + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Show or write one file's new text (old NULL: a new file). */
static int
put_file(struct setup *s, const char *path, const char *old, size_t olen,
    const char *text, size_t len, unsigned mode)
{
	struct ew_buf d = EW_BUF_INIT;
	char bk[PATH_MAX];
	int rc;

	if (old != NULL && olen == len && memcmp(old, text, len) == 0)
		return 0;
	if (s->dry_run) {
		ew_diff_unified(path, old, olen, path, text, len, &d);
		fwrite(d.p, 1, d.len, stdout);
		ew_buf_free(&d);
		return 0;
	}
	if (old != NULL && (rc = backup(s, path, old, olen, bk)) != 0) {
		ew_cli_err(
		    "%s: cannot write its backup: %s", path, strerror(-rc));
		return rc;
	}
	rc = ew_file_write_atomic(
	    path, text, len, mode, old ? EW_FILE_KEEP_MODE : 0, NULL);
	if (rc != 0)
		ew_cli_err("%s: cannot write: %s", path, strerror(-rc));
	else
		printf("setup: wrote %s%s%s\n", path,
		    old ? "; the old one is " : "", old ? bk : "");
	return rc;
}

/* ---- one relay ---- */

/*
 * tor's defaults file for the relay, as its unit passes it: Debian's
 * for the system tor; for an instance, Debian's instance template with
 * its name filled in (what tor@.service does), written to tmp.  Else
 * /dev/null (a tree without tor's package, as under --root in tests).
 */
static const char *
defaults_torrc(const struct setup *s, const struct ew_conf_relay *r,
    const char *tmp, char *buf)
{
	struct ew_buf b = EW_BUF_INIT;
	char *text = NULL, *p, *at;
	size_t n;

	if (strcmp(r->name, "default") == 0)
		return is_file(rooted(
			   s, "/usr/share/tor/tor-service-defaults-torrc", buf))
			   ? buf
			   : "/dev/null";
	rooted(s, "/usr/share/tor/tor-service-defaults-torrc-instances", buf);
	if (ew_file_read(buf, TORRC_MAX, EW_FILE_REGULAR, &text, &n) != 0)
		return "/dev/null";
	for (p = text; (at = strstr(p, "@@NAME@@")) != NULL; p = at + 8) {
		ew_buf_add(&b, p, (size_t)(at - p));
		ew_buf_puts(&b, r->name);
	}
	ew_buf_puts(&b, p);
	free(text);
	if (b.oom ||
	    ew_file_write_atomic(tmp, b.p, b.len, 0600, 0, NULL) != 0) {
		ew_buf_free(&b);
		return "/dev/null";
	}
	ew_buf_free(&b);
	snprintf(buf, PATH_MAX, "%s", tmp);
	return buf;
}

/*
 * Check text as the relay's torrc: written beside it, verified, removed.
 * Under --root, the include is made to name the rooted directory.
 * 0 when tor takes it, else nonzero (said).
 */
static int
verify_text(const struct setup *s, const struct ew_conf_relay *r,
    const char *torrc, const char *text, size_t len, const char *inc)
{
	struct ew_buf t = EW_BUF_INIT, why = EW_BUF_INIT;
	char tmp[PATH_MAX], tmpd[PATH_MAX], rdir[PATH_MAX], defs[PATH_MAX];
	const char *at, *p = text, *end = text + len;
	int rc;

	/* every mention of the include, rooted (the bytes as they are) */
	rooted(s, inc, rdir);
	while (s->root[0] != '\0' &&
	       (at = memmem(p, (size_t)(end - p), inc, strlen(inc))) != NULL) {
		ew_buf_add(&t, p, (size_t)(at - p));
		ew_buf_puts(&t, rdir);
		p = at + strlen(inc);
	}
	ew_buf_add(&t, p, (size_t)(end - p));
	snprintf(tmp, sizeof(tmp), "%s.exitwarden-verify", torrc);
	rc = ew_file_write_atomic(tmp, t.p ? t.p : "", t.len, 0600, 0, NULL);
	ew_buf_free(&t);
	if (rc != 0) {
		ew_cli_err("%s: %s", tmp, strerror(-rc));
		return rc;
	}
	snprintf(tmpd, sizeof(tmpd), "%s.exitwarden-verify-defaults", torrc);
	rc = tor_verify(tmp, defaults_torrc(s, r, tmpd, defs), &why);
	unlink(tmp);
	unlink(tmpd);
	if (rc < 0)
		ew_cli_err(
		    "cannot run tor to verify %s: %s", torrc, strerror(-rc));
	else if (rc > 0)
		ew_cli_err("relay %s: tor --verify-config refuses the new "
			   "%s; it was left as it was. tor said:\n%s",
		    r->name, torrc, ew_buf_str(&why));
	ew_buf_free(&why);
	return rc;
}

/* The policy file gets the lines moved out, when it has none. */
static void
write_policy(struct setup *s, const struct ew_conf_relay *r, const char *policy,
    const char *torrc, const char *moved)
{
	struct ew_buf b = EW_BUF_INIT;
	char p[PATH_MAX], dir[PATH_MAX], *slash;

	rooted(s, policy, p);
	if (access(p, F_OK) == 0 && moved == NULL)
		return;
	if (access(p, F_OK) == 0) {
		printf("setup: relay %s: %s exists; the lines moved out of %s "
		       "(marked '" EW_CONF_TORRC_MARK "') are not added to it: "
		       "check that it says what they said\n",
		    r->name, p, torrc);
		return;
	}
	ew_buf_printf(&b,
	    "# The exit policy of relay %s, moved out of %s by exitwarden "
	    "setup.\n# exitwarden applies this file (with its blocks); see "
	    "exitwarden-policy(5).\n",
	    r->name, r->torrc);
	ew_buf_puts(&b, moved != NULL
			    ? moved
			    : "# (the torrc set no exit option: tor's "
			      "defaults)\n");
	snprintf(dir, sizeof(dir), "%s", p);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (!s->dry_run)
			make_dirs(dir);
	}
	if (put_file(s, p, NULL, 0, b.p, b.len, 0644) != 0)
		s->failed = 1;
	ew_buf_free(&b);
}

/* One relay's torrc: what it is, what it becomes. */
struct plan {
	const struct ew_conf_relay *r;
	char torrc[PATH_MAX];
	char made[PATH_MAX]; /* the directory we created, or "" */
	char *old;
	size_t olen;
	struct ew_conf_torrc_edit e;
	int changed, written;
};

/* Read, edit, make the fragment's directory, verify: nothing of the
 * torrc is written yet.  0, or -1 (said). */
static int
plan_relay(struct setup *s, const struct ew_conf_relay *r, struct plan *pl)
{
	char inc[PATH_MAX], rinc[PATH_MAX];
	int rc;

	pl->r = r;
	rooted(s, r->torrc, pl->torrc);
	frag_dir(r, inc);
	if ((rc = ew_file_read(pl->torrc, TORRC_MAX, EW_FILE_REGULAR, &pl->old,
		 &pl->olen)) != 0) {
		ew_cli_err("%s: %s", pl->torrc, strerror(-rc));
		return -1;
	}
	if (ew_conf_torrc_edit(pl->old, pl->olen, inc, &pl->e) != 0) {
		ew_cli_err("out of memory");
		return -1;
	}
	pl->changed =
	    pl->olen != pl->e.len || memcmp(pl->old, pl->e.text, pl->olen) != 0;
	printf("setup: relay %s: %s: %zu setting%s moved out, %s\n", r->name,
	    pl->torrc, pl->e.n_moved, pl->e.n_moved == 1 ? "" : "s",
	    pl->e.include_added ? "%include of the fragment added last"
				: "already includes the fragment last");
	rooted(s, inc, rinc);
	if (access(rinc, F_OK) != 0) {
		printf("setup: relay %s: %s directory %s\n", r->name,
		    s->dry_run ? "would create the" : "creating the", rinc);
		if (!s->dry_run && (rc = make_dirs(rinc)) != 0) {
			ew_cli_err("%s: %s", rinc, strerror(-rc));
			return -1;
		}
		if (!s->dry_run)
			snprintf(pl->made, sizeof(pl->made), "%s", rinc);
	}
	if (!pl->changed || s->dry_run)
		return 0;
	if (verify_text(s, r, pl->torrc, pl->e.text, pl->e.len, inc) != 0)
		return -1;
	printf("setup: relay %s: tor --verify-config takes the new %s\n",
	    r->name, pl->torrc);
	return 0;
}

/* A torrc written put back as it was (a later one failed). */
static void
roll_back(struct plan *pl)
{
	char bk[PATH_MAX];
	int rc;

	rc = ew_file_write_atomic(
	    pl->torrc, pl->old, pl->olen, 0644, EW_FILE_KEEP_MODE, NULL);
	if (rc != 0) {
		ew_cli_err("%s: cannot put it back (%s): its backup is kept",
		    pl->torrc, strerror(-rc));
		return;
	}
	if (newest_backup(pl->torrc, bk) == 0)
		unlink(bk);
	printf("setup: put %s back as it was\n", pl->torrc);
}

static void
plans_free(struct plan *v, size_t n, int failed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* a directory made for nothing goes (if still empty) */
		if (failed && v[i].made[0] != '\0')
			rmdir(v[i].made);
		ew_conf_torrc_edit_free(&v[i].e);
		free(v[i].old);
	}
	free(v);
}

/*
 * Every relay planned and verified first; then each torrc backed up and
 * replaced, the ones written put back if a later one fails; then the
 * policy files.  0, or -1 with nothing changed (as far as it could be
 * put back, said).
 */
static int
setup_relays(struct setup *s, struct ew_conf *found)
{
	struct plan *v = calloc(found->n_relays, sizeof(*v));
	size_t i, j;
	int failed = 0;

	if (v == NULL) {
		ew_cli_err("out of memory");
		return -1;
	}
	for (i = 0; i < found->n_relays; i++)
		if (plan_relay(s, &found->relays[i], &v[i]) != 0)
			failed = 1;
	if (failed && !s->dry_run)
		ew_cli_err("setup: no torrc changed");
	for (i = 0; !failed && i < found->n_relays; i++) {
		if (!v[i].changed)
			continue;
		if (put_file(s, v[i].torrc, v[i].old, v[i].olen, v[i].e.text,
			v[i].e.len, 0644) != 0) {
			failed = 1;
			for (j = 0; j < i; j++)
				if (v[j].written)
					roll_back(&v[j]);
			break;
		}
		v[i].written = !s->dry_run;
	}
	for (i = 0; !failed && i < found->n_relays; i++) {
		const struct ew_conf_relay *r = &found->relays[i];

		if (v[i].changed)
			write_policy(s, r,
			    r->policy ? r->policy
				      : "/etc/exitwarden/exit.policy",
			    r->torrc, v[i].e.moved);
	}
	plans_free(v, found->n_relays, failed);
	return failed ? -1 : 0;
}

/* ---- the configuration file ---- */

/* Merge what was found into the existing file's relays. */
static int
write_conf(struct setup *s, struct ew_conf *found)
{
	struct ew_diag_list d;
	struct ew_conf *old = NULL;
	struct ew_buf b = EW_BUF_INIT;
	char p[PATH_MAX], dir[PATH_MAX];
	char *otext = NULL;
	size_t olen = 0, i;
	int rc;

	rooted(s, EW_CONF_PATH, p);
	ew_diag_init(&d);
	rc = ew_conf_load(p, &d, &old);
	ew_cli_print_diags(&d, 0);
	ew_diag_free(&d);
	if (rc != 0 && rc != -ENOENT) {
		ew_cli_err("%s: not changed; fix it first (exitwarden config "
			   "check)",
		    p);
		return -1;
	}
	if (old == NULL && (old = ew_conf_new()) == NULL)
		return -ENOMEM;
	for (i = 0; i < found->n_relays; i++) {
		const struct ew_conf_relay *f = &found->relays[i];
		struct ew_conf_relay *r;

		if (ew_conf_relay_find(old, f->name) != NULL)
			continue;
		if ((r = ew_conf_add_relay(old, f->name)) == NULL ||
		    ew_conf_set(&r->policy, f->policy) != 0) {
			ew_conf_free(old);
			return -ENOMEM;
		}
	}
	ew_buf_puts(&b, "# exitwarden's configuration (exitwarden.conf(5)), "
			"written by exitwarden setup.\n# Check it with "
			"'exitwarden config check'.\n");
	ew_conf_format(old, &b);
	(void)ew_file_read(p, EW_CONF_MAX_SIZE, 0, &otext, &olen);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	if (!s->dry_run && (rc = make_dirs(dir)) != 0)
		ew_cli_err("%s: %s", dir, strerror(-rc));
	else
		rc = put_file(s, p, otext, olen, b.p, b.len, 0644);
	free(otext);
	ew_buf_free(&b);
	ew_conf_free(old);
	return rc;
}

/* ---- undo ---- */

static void
undo_file(struct setup *s, const char *path)
{
	char bk[PATH_MAX];
	char *old = NULL, *cur = NULL;
	size_t olen = 0, clen = 0;
	struct ew_buf d = EW_BUF_INIT;
	int rc;

	if (newest_backup(path, bk) != 0)
		return;
	if ((rc = ew_file_read(bk, TORRC_MAX, EW_FILE_REGULAR, &old, &olen)) !=
	    0) {
		ew_cli_err("%s: %s", bk, strerror(-rc));
		s->failed = 1;
		return;
	}
	(void)ew_file_read(path, TORRC_MAX, 0, &cur, &clen);
	if (s->dry_run) {
		ew_diff_unified(path, cur, clen, path, old, olen, &d);
		fwrite(d.p, 1, d.len, stdout);
		printf("setup: would put back %s from %s\n", path, bk);
	} else if ((rc = ew_file_write_atomic(
			path, old, olen, 0644, EW_FILE_KEEP_MODE, NULL)) != 0) {
		ew_cli_err("%s: cannot put it back: %s", path, strerror(-rc));
		s->failed = 1;
	} else {
		unlink(bk);
		printf("setup: put back %s from %s\n", path, bk);
	}
	ew_buf_free(&d);
	free(old);
	free(cur);
}

static int
setup_args(struct ew_args *a, struct setup *s)
{
	size_t k;

	memset(s, 0, sizeof(*s));
	s->root = "";
	for (k = 0; k < a->no; k++) {
		if (a->o[k].id == EW_OPT_DRY_RUN)
			s->dry_run = 1;
		else if (a->o[k].id == EW_OPT_UNDO)
			s->undo = 1;
		else if (a->o[k].id == EW_OPT_ROOT)
			s->root = a->o[k].val;
		else
			return ew_cli_unexpected(a, &a->o[k]);
	}
	if (strcmp(s->root, "/") == 0)
		s->root = "";
	if (s->root[0] != '\0' && s->root[0] != '/') {
		ew_cli_err("--root needs an absolute path, not '%s'", s->root);
		return EW_EXIT_USAGE;
	}
	return ew_cli_operands(a, 0, 0);
}

int
ew_cmd_setup(struct ew_args *a)
{
	struct setup s;
	struct ew_conf *found;
	char p[PATH_MAX], pol[PATH_MAX];
	struct tm tm;
	time_t now = (time_t)ew_time_now();
	size_t i;
	int rc;

	if ((rc = setup_args(a, &s)) != 0)
		return rc;
	gmtime_r(&now, &tm);
	strftime(s.stamp, sizeof(s.stamp), "%Y%m%dT%H%M%SZ", &tm);
	if ((found = ew_conf_new()) == NULL || discover(&s, found) != 0) {
		ew_conf_free(found);
		ew_cli_err("out of memory");
		return EW_EXIT_FAIL;
	}
	if (found->n_relays == 0) {
		ew_cli_err("no tor relay found under '%s/' (no "
			   "/etc/tor/torrc, no /etc/tor/instances/NAME/torrc)",
		    s.root);
		ew_conf_free(found);
		return EW_EXIT_FAIL;
	}
	for (i = 0; i < found->n_relays; i++) {
		struct ew_conf_relay *r = &found->relays[i];

		if (s.undo) {
			undo_file(&s, rooted(&s, r->torrc, p));
			continue;
		}
		/* an instance's own policy file; the system tor's is the
		 * global one */
		snprintf(
		    pol, sizeof(pol), "/etc/exitwarden/%s.policy", r->name);
		if (strcmp(r->name, "default") != 0 &&
		    ew_conf_set(&r->policy, pol) != 0)
			s.failed = 1;
	}
	if (s.undo)
		undo_file(&s, rooted(&s, EW_CONF_PATH, p));
	else if (s.failed || setup_relays(&s, found) != 0 ||
		 write_conf(&s, found) != 0)
		s.failed = 1;
	ew_conf_free(found);
	if (s.dry_run && !s.failed)
		printf("setup: -n: nothing changed\n");
	else if (!s.failed && !s.undo)
		printf("setup: done; next: exitwarden config show, exitwarden "
		       "apply -n, then exitwarden apply, and restart tor so "
		       "it reads the %%include\n");
	return s.failed ? EW_EXIT_FAIL : EW_EXIT_OK;
}
