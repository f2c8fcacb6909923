/*
 * fleet_local.c - a fleet host's own state beside its managed policy
 * (issue 14): the outbox, the host's emergency blocks, and the apply of
 * its cached state without the store.
 *
 * The outbox (managed.policy.fleet-outbox, mode 0600, one fsync'd
 * record a line, each with a random unique id) is the host's write-ahead
 * log toward the desk:
 *
 *   A UID REV AT OK DIGEST [BLOCKS REPAIRS]   an apply report
 *   B<TAB>UID<TAB>ADDED<TAB>EXPIRES<TAB>RULE<TAB>REASON
 *                                         an emergency block (EXPIRES
 *                                         "-": never; REASON may be "")
 *
 * A flush sends every record (a uid stored already is ignored: a replay
 * twice stores once), moves the blocks into the file of the host's
 * emergency blocks in force (managed.policy.fleet-local, the same B
 * lines), then empties the outbox.  The blocks in force are the union
 * of both files (an `exitwarden block add` on the host writes only the
 * outbox, so a crash leaves nothing half done), less those expired and
 * those the desk removed or adopted.  The host's daemon and a `block
 * add` on the host take managed.policy.fleet-lock (flock) around their
 * reads and writes of these files and of the managed policy.
 *
 * Nothing here is about traffic: rules the operator typed, ids, times.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "desk/desk.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/digest.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "policy/policy.h"
#include "store/store.h"

static void
side_path(char *out, size_t cap, const char *suffix)
{
	snprintf(out, cap, "%s.fleet-%s", ew_cli_managed_path(), suffix);
}

int
ew_cli_fleet_lock(void)
{
	char path[4096];
	int fd;

	side_path(path, sizeof(path), "lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void
ew_cli_fleet_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the lock goes with it */
}

int
ew_cli_fleet_uid(char out[33])
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* Append one line to a side file, on disk before it returns. */
static int
append_line(const char *suffix, const char *line, size_t len)
{
	char path[4096];
	int fd, rc = 0;

	side_path(path, sizeof(path), suffix);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (fchmod(fd, 0600) != 0 || write(fd, line, len) != (ssize_t)len ||
	    fsync(fd) != 0)
		rc = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int
ew_cli_outbox_add_apply(const struct ew_store_apply_rec *r)
{
	char line[512], uid[33];
	int len;

	if (ew_cli_fleet_uid(uid) != 0)
		return -EIO;
	len = snprintf(line, sizeof(line), "A %s %lld %lld %d %s %s %lld\n",
	    uid, (long long)r->rev, (long long)r->at, r->ok ? 1 : 0, r->digest,
	    r->blocks != NULL ? r->blocks : "-", (long long)r->repairs);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -EINVAL;
	return append_line("outbox", line, (size_t)len);
}

/* A B line of a block, into b (tabs and controls of the reason
 * blanked). */
static void
block_line(struct ew_buf *b, const struct ew_store_host_block *h)
{
	const char *s;

	ew_buf_printf(b, "B\t%s\t%lld\t", h->uid, (long long)h->added_at);
	if (h->expires_at == EW_STORE_NO_TIME)
		ew_buf_puts(b, "-");
	else
		ew_buf_printf(b, "%lld", (long long)h->expires_at);
	ew_buf_printf(b, "\t%s\t", h->rule_text);
	for (s = h->reason; s != NULL && *s != '\0'; s++)
		ew_buf_putc(
		    b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	ew_buf_putc(b, '\n');
}

int
ew_cli_outbox_add_block(const struct ew_store_host_block *h)
{
	struct ew_buf b = EW_BUF_INIT;
	int rc;

	if (strpbrk(h->rule_text, "\t\n\r") != NULL)
		return -EINVAL;
	block_line(&b, h);
	rc = b.oom ? -ENOMEM : append_line("outbox", ew_buf_str(&b), b.len);
	ew_buf_free(&b);
	return rc;
}

size_t
ew_cli_outbox_count(void)
{
	char path[4096];
	size_t n = 0;
	FILE *f;
	int c;

	side_path(path, sizeof(path), "outbox");
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* Parse a B line (the line is cut in place): 0, or -EINVAL. */
static int
parse_block(char *line, struct ew_store_host_block *h)
{
	char *f[6], *p = line, *end;
	size_t k;

	memset(h, 0, sizeof(*h));
	line[strcspn(line, "\n")] = '\0';
	for (k = 0; k < 6; k++) {
		f[k] = p;
		if (k < 5) {
			if ((p = strchr(p, '\t')) == NULL)
				return -EINVAL;
			*p++ = '\0';
		}
	}
	if (strcmp(f[0], "B") != 0 || f[1][0] == '\0' || f[4][0] == '\0')
		return -EINVAL;
	h->uid = f[1];
	h->added_at = strtoll(f[2], &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (strcmp(f[3], "-") == 0)
		h->expires_at = EW_STORE_NO_TIME;
	else if ((h->expires_at = strtoll(f[3], &end, 10)), *end != '\0')
		return -EINVAL;
	h->rule_text = f[4];
	h->reason = f[5][0] != '\0' ? f[5] : NULL;
	return 0;
}

void
ew_cli_local_free(struct ew_cli_local *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	free(l->v);
	free(l->b);
	memset(l, 0, sizeof(*l));
}

/* Add the B lines of a side file to l (a uid once). */
static int
load_file(struct ew_cli_local *l, const char *suffix, int64_t now)
{
	char path[4096], *line = NULL;
	size_t cap = 0, i;
	ssize_t len;
	FILE *f;
	int rc = 0;

	side_path(path, sizeof(path), suffix);
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
		struct ew_store_host_block h;
		char *copy;
		void *nb, *nv, *nl;

		if (line[0] != 'B' || line[len - 1] != '\n' ||
		    (copy = strdup(line)) == NULL)
			continue;
		if (parse_block(copy, &h) != 0 ||
		    (h.expires_at != EW_STORE_NO_TIME && h.expires_at <= now)) {
			free(copy);
			continue;
		}
		for (i = 0; i < l->n && strcmp(l->b[i].uid, h.uid) != 0; i++)
			;
		if (i < l->n) {
			free(copy);
			continue;
		}
		nb = realloc(l->b, (l->n + 1) * sizeof(*l->b));
		nv = nb ? realloc(l->v, (l->n + 1) * sizeof(*l->v)) : NULL;
		nl = nv ? realloc(l->lines, (l->n + 1) * sizeof(char *)) : NULL;
		if (nb != NULL)
			l->b = nb;
		if (nv != NULL)
			l->v = nv;
		if (nl == NULL) {
			free(copy);
			rc = -ENOMEM;
			break;
		}
		l->lines = nl;
		l->lines[l->n] = copy;
		l->b[l->n] = h;
		memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
		l->v[l->n].rule = h.rule_text;
		l->v[l->n].reason = h.reason;
		l->v[l->n].expires = h.expires_at;
		l->n++;
	}
	free(line);
	fclose(f);
	return rc;
}

int
ew_cli_local_load(struct ew_cli_local *l, int64_t now)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = load_file(l, "local", now)) != 0 ||
	    (rc = load_file(l, "outbox", now)) != 0)
		ew_cli_local_free(l);
	return rc;
}

/* The uids of l, sorted, one a line (what changed is what differs). */
void
ew_cli_local_sig(const struct ew_cli_local *l, char out[65])
{
	char **u = calloc(l->n + 1, sizeof(*u));
	int64_t none = 0;
	size_t i;

	for (i = 0; u != NULL && i < l->n; i++)
		u[i] = l->b[i].uid;
	if (u == NULL || ew_store_blocks_digest(&none, 0, u, l->n, out) != 0)
		snprintf(out, 65, "-");
	free(u);
}

/* Rewrite the file of the blocks in force: l's, less `drop`. */
static int
local_write(const struct ew_cli_local *l, char **drop, size_t ndrop)
{
	struct ew_buf b = EW_BUF_INIT;
	char path[4096];
	size_t i, k;
	int rc;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < ndrop && strcmp(drop[k], l->b[i].uid) != 0; k++)
			;
		if (k == ndrop)
			block_line(&b, &l->b[i]);
	}
	side_path(path, sizeof(path), "local");
	rc = b.oom ? -ENOMEM
		   : ew_file_write_atomic(
			 path, ew_buf_str(&b), b.len, 0600, 0, NULL);
	ew_buf_free(&b);
	return rc;
}

int
ew_cli_local_drop(char **uids, size_t n, int64_t now)
{
	struct ew_cli_local l;
	size_t i, k, hit = 0;
	int rc;

	if ((rc = ew_cli_local_load(&l, now)) != 0)
		return rc;
	for (i = 0; i < l.n; i++)
		for (k = 0; k < n; k++)
			hit += strcmp(uids[k], l.b[i].uid) == 0;
	rc = hit > 0 ? local_write(&l, uids, n) : 0;
	ew_cli_local_free(&l);
	return rc < 0 ? rc : (int)hit;
}

/* Send one record of the outbox: 0, 1 (a line that does not read:
 * dropped) or the store's -errno. */
static int
send_record(struct ew_store *st, const char *host, char *line, int64_t left)
{
	struct ew_store_apply_rec r;
	struct ew_store_host_block h;
	char uid[65], digest[129], blocks[129];
	long long rev, at, repairs = 0;
	int ok, n;

	if (line[0] == 'B') {
		if (parse_block(line, &h) != 0)
			return 1;
		h.host = (char *)host;
		return ew_store_host_block_replay(st, &h);
	}
	n = sscanf(line, "A %64s %lld %lld %d %128s %128s %lld", uid, &rev, &at,
	    &ok, digest, blocks, &repairs);
	if (n != 5 && n != 7)
		return 1;
	memset(&r, 0, sizeof(r));
	r.uid = uid;
	r.outbox = left;
	r.host = host;
	r.digest = digest;
	r.rev = rev;
	r.at = at;
	r.ok = ok;
	r.error = ok ? NULL : "the apply failed (see the host's log)";
	r.blocks = n == 7 && strcmp(blocks, "-") != 0 ? blocks : NULL;
	r.repairs = repairs;
	return ew_store_apply_report(st, &r);
}

int
ew_cli_outbox_flush(struct ew_store *st, const char *host, size_t *nblocks)
{
	struct ew_cli_local l;
	char path[4096], *line = NULL;
	size_t cap = 0, n = ew_cli_outbox_count(), i = 0, nb = 0;
	ssize_t len;
	int rc = 0, fd;
	FILE *f;

	if (nblocks != NULL)
		*nblocks = 0;
	side_path(path, sizeof(path), "outbox");
	if (n == 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	while (rc >= 0 && (len = getline(&line, &cap, f)) > 0) {
		/* a torn last line (a crash while it was written) is
		 * dropped */
		if (line[len - 1] != '\n')
			break;
		i++;
		nb += line[0] == 'B';
		rc = send_record(st, host, line, (int64_t)(n - i));
	}
	free(line);
	fclose(f);
	if (rc < 0)
		return rc;
	/* the blocks stored: kept in force in the local file, then the
	 * outbox emptied (killed before this, it is all sent again) */
	if (nb > 0) {
		if ((rc = ew_cli_local_load(&l, ew_time_now())) != 0)
			return rc;
		rc = local_write(&l, NULL, 0);
		ew_cli_local_free(&l);
		if (rc != 0)
			return rc;
	}
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (nblocks != NULL)
		*nblocks = nb;
	return rc < 0 ? rc : (int)i;
}

/* The managed files of the host: each relay's, or the only one. */
static size_t
managed_files(const struct ew_cli_apply *ap, const char **v)
{
	size_t i;

	if (ap->nrelays == 0) {
		v[0] = ew_cli_managed_path();
		return 1;
	}
	for (i = 0; i < ap->nrelays; i++)
		v[i] = ap->relays[i].managed;
	return ap->nrelays;
}

int64_t
ew_cli_fleet_next_expiry(const struct ew_cli_apply *ap)
{
	const char *files[EW_RELAYS_MAX];
	struct ew_diag_list dg;
	struct ew_policy *p;
	int64_t t = EW_NEVER, e;
	size_t n = managed_files(ap, files), i;

	for (i = 0; i < n; i++) {
		p = NULL;
		ew_diag_init(&dg);
		if (ew_policy_parse_file(files[i], 0, &dg, &p) == 0 &&
		    (e = ew_policy_next_expiry(p, ew_time_now())) < t)
			t = e;
		ew_policy_free(p);
		ew_diag_free(&dg);
	}
	return t;
}

int
ew_cli_fleet_local_apply(struct ew_cli_apply *ap, const char *policy,
    const struct ew_cli_local *l, int force)
{
	const char *files[EW_RELAYS_MAX];
	char *old[EW_RELAYS_MAX];
	size_t olen[EW_RELAYS_MAX];
	struct ew_buf text;
	struct ew_desk_change ch;
	struct ew_diag_list dg;
	size_t n = managed_files(ap, files), i, k;
	int rc = 0, changed = 0;

	memset(old, 0, sizeof(old));
	ew_cli_change_init(&ch, ap, policy, ew_time_now());
	ew_diag_init(&dg);
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = ew_file_read(
			 files[i], 64u << 20, 0, &old[i], &olen[i])) != 0) {
			ew_cli_err("%s: no cached state to apply (%s)",
			    files[i], strerror(-rc));
			break;
		}
		text = (struct ew_buf)EW_BUF_INIT;
		rc = ew_desk_managed_local(old[i], l->v, l->n, &text);
		if (rc == 0 && (text.len != olen[i] ||
				   memcmp(old[i], ew_buf_str(&text), olen[i])))
			changed = 1;
		if (rc == 0 && changed)
			rc = ew_desk_write_file(
			    NULL, files[i], ew_buf_str(&text), text.len, &dg);
		ew_buf_free(&text);
	}
	ew_cli_report(&dg);
	ew_diag_free(&dg);
	if (rc == 0 && (changed || force) && ap->ops.tor != NULL) {
		for (k = 0; k < n && rc == 0; k++)
			if (ap->ops.tor(ap, files[k], ch.now) < 0)
				rc = -EIO;
		if (rc == 0 && ap->ops.nft != NULL &&
		    ap->ops.nft(ap, files[n - 1], ch.now) < 0)
			rc = -EIO;
	}
	if (rc != 0 && changed) /* as it was (the next round tries again) */
		for (k = 0; k < i && k < n; k++)
			if (old[k] != NULL)
				ew_file_write_atomic(
				    files[k], old[k], olen[k], 0600, 0, NULL);
	for (k = 0; k < n; k++)
		free(old[k]);
	return rc;
}
