/*
 * cmd_serve.c - exitwarden serve: the exit's web face (the notice page,
 * self-service block requests, /metrics) over HTTP, from src/web.
 *
 * Unprivileged: the listening socket is made first (port 80 may need
 * CAP_NET_BIND_SERVICE, or comes from systemd's socket activation),
 * then every capability is dropped, the bounding set emptied and
 * PR_SET_NO_NEW_PRIVS set, before the store is opened and before any
 * thread starts.  serve never talks to tor and never touches nftables:
 * it reads the store and writes block requests to it; the daemon
 * (`run`) applies them.
 *
 * The settings go through struct ew_web_conf, so the configuration
 * file (issue 13) can fill the same struct.
 */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "store/store.h"
#include "web/web.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Drop every capability for good (the threads started later inherit
 * none).  0, or -1 said. */
static int
drop_privileges(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];
	int cap;

	for (cap = 0; cap < 64; cap++)
		(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capset, &h, caps) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ew_cli_err("cannot drop privileges: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A secret file: regular, not readable by group or others. */
static int
read_secret(
    const char *opt, const char *path, size_t max, char **out, size_t *n)
{
	struct stat sb;
	int rc;

	if (stat(path, &sb) != 0) {
		ew_cli_err("%s: cannot read '%s': %s", opt, ew_cli_esc(path),
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
		ew_cli_err("%s: '%s' must be a regular file that only its "
			   "owner can read (chmod 600)",
		    opt, ew_cli_esc(path));
		return -1;
	}
	if ((rc = ew_file_read(path, max, 0, out, n)) != 0) {
		ew_cli_err("%s: cannot read '%s': %s", opt, ew_cli_esc(path),
		    rc == -EFBIG ? "too large" : strerror(-rc));
		return -1;
	}
	return 0;
}

static int
is_fingerprint(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'A' && s[i] <= 'F') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40;
}

/* The options into c (metrics token and key read); 0 or an exit code. */
static int
options(struct ew_args *a, struct ew_web_conf *c, char **mtok)
{
	const struct ew_optval *v;
	char *buf = NULL;
	uint64_t u;
	size_t i, n;
	int rc;

	for (i = 0; i < a->no; i++) {
		v = &a->o[i];
		switch (v->id) {
		case EW_OPT_LISTEN:
			c->listen = v->val;
			break;
		case EW_OPT_CONTACT:
			c->contact = v->val;
			break;
		case EW_OPT_NOTICE_DIR:
			c->notice_dir = v->val;
			break;
		case EW_OPT_CONFIRM:
			c->confirm = 1;
			break;
		case EW_OPT_MAX_PREFIX4:
			if ((rc = ew_cli_parse_num(v, 8, 32, &u)) != 0)
				return rc;
			c->max_prefix4 = (unsigned)u;
			break;
		case EW_OPT_MAX_PREFIX6:
			if ((rc = ew_cli_parse_num(v, 16, 128, &u)) != 0)
				return rc;
			c->max_prefix6 = (unsigned)u;
			break;
		case EW_OPT_EXPIRES:
			if (ew_duration_parse(
				v->val, strlen(v->val), &c->block_ttl) != 0 ||
			    c->block_ttl < 3600 || c->block_ttl > 366 * 86400) {
				ew_cli_err("--expires: '%s' is not a duration "
					   "from 1h to 366d (90d, 12w)",
				    ew_cli_esc(v->val));
				return EW_EXIT_USAGE;
			}
			break;
		case EW_OPT_FINGERPRINT:
			if (!is_fingerprint(v->val) ||
			    c->nrelays >= EW_WEB_MAX_RELAYS) {
				ew_cli_err("--fingerprint: '%s' is not 40 hex "
					   "digits (or more than %d given)",
				    ew_cli_esc(v->val), EW_WEB_MAX_RELAYS);
				return EW_EXIT_USAGE;
			}
			c->relays[c->nrelays++] = v->val;
			break;
		case EW_OPT_TOKEN_KEY:
			if (read_secret("--token-key", v->val,
				EW_WEB_KEY_MAX + 1, &buf, &n) != 0)
				return EW_EXIT_FAIL;
			if (n < EW_WEB_KEY_MIN || n > EW_WEB_KEY_MAX) {
				ew_cli_err("--token-key: '%s' holds %zu bytes, "
					   "not %d to %d",
				    ew_cli_esc(v->val), n, EW_WEB_KEY_MIN,
				    EW_WEB_KEY_MAX);
				ew_cleanse(buf, n);
				free(buf);
				return EW_EXIT_FAIL;
			}
			memcpy(c->key, buf, n);
			c->keylen = n;
			ew_cleanse(buf, n);
			free(buf);
			break;
		case EW_OPT_METRICS_TOKEN:
			free(*mtok);
			*mtok = NULL;
			if (read_secret(
				"--metrics-token", v->val, 4096, mtok, &n) != 0)
				return EW_EXIT_FAIL;
			while (n > 0 && ((*mtok)[n - 1] == '\n' ||
					    (*mtok)[n - 1] == '\r'))
				(*mtok)[--n] = '\0';
			if (n < 16 || strlen(*mtok) != n) {
				ew_cli_err("--metrics-token: the token in '%s' "
					   "must be 16 or more bytes on one "
					   "line",
				    ew_cli_esc(v->val));
				return EW_EXIT_FAIL;
			}
			c->metrics_token = *mtok;
			break;
		default:
			return ew_cli_unexpected(a, v);
		}
	}
	return 0;
}

/* The socket systemd handed over (LISTEN_PID/LISTEN_FDS), or -1. */
static int
activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct stat sb;
	char me[24];

	snprintf(me, sizeof(me), "%ld", (long)getpid());
	if (pid == NULL || fds == NULL || strcmp(pid, me) != 0 ||
	    strcmp(fds, "1") != 0 || fstat(3, &sb) != 0 ||
	    !S_ISSOCK(sb.st_mode))
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3; /* SD_LISTEN_FDS_START */
}

static int64_t
clock_now(void)
{
	return ew_time_now();
}

int
ew_cmd_serve(struct ew_args *a)
{
	struct ew_web_conf c;
	struct ew_diag_list dg;
	struct ew_store *st = NULL;
	struct ew_web *w = NULL;
	struct sigaction sa;
	char *mtok = NULL;
	int rc, fd;

	ew_web_conf_init(&c);
	c.clock = clock_now;
	ew_diag_init(&dg);
	if ((rc = ew_cli_operands(a, 0, 0)) != 0 ||
	    (rc = options(a, &c, &mtok)) != 0)
		goto out;
	if (c.keylen == 0) { /* tokens die with the process */
		if (getrandom(c.key, 32, 0) != 32) {
			ew_cli_err(
			    "cannot make a token key: %s", strerror(errno));
			rc = EW_EXIT_FAIL;
			goto out;
		}
		c.keylen = 32;
	}
	rc = EW_EXIT_FAIL;
	if ((fd = activated_socket()) < 0 &&
	    (fd = ew_web_bind(c.listen, &dg)) < 0) {
		ew_cli_report(&dg);
		goto out;
	}
	if (drop_privileges() != 0) {
		close(fd);
		goto out;
	}
	if (ew_cli_store_open(&st) != 0) {
		close(fd);
		goto out;
	}
	if (ew_web_new(&c, st, &dg, &w) != 0) {
		ew_cli_report(&dg);
		close(fd);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ew_web_serve(w, fd, &stop, &dg) == 0)
		rc = EW_EXIT_OK;
	else
		ew_cli_report(&dg);
out:
	ew_web_free(w);
	ew_store_close(st);
	ew_diag_free(&dg);
	ew_cleanse(c.key, sizeof(c.key));
	free(mtok);
	return rc;
}
