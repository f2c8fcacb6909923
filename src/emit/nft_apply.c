/*
 * nft_apply.c - our table in the kernel, through libnftables: load a
 * ruleset text in one transaction, read our counters back, delete our
 * table.  The only file that includes libnftables; nothing it does is
 * printed: nft's output and errors are buffered and handed back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emit/nft.h"
#include "lib/buf.h"

#if defined(__has_include)
#if __has_include(<nftables/libnftables.h>)
#define EW_HAVE_NFTABLES 1
#endif
#endif

#ifdef EW_HAVE_NFTABLES
#include <nftables/libnftables.h>

static struct nft_ctx *
ctx_new(int dry_run, unsigned flags)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (ctx == NULL)
		return NULL;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return NULL;
	}
	nft_ctx_set_dry_run(ctx, dry_run != 0);
	nft_ctx_output_set_flags(ctx, flags);
	return ctx;
}

/* Run one buffer (one transaction); nft's messages go to err. */
static int
run(const char *text, int dry_run, unsigned flags, struct ew_buf *out,
    struct ew_buf *err)
{
	struct nft_ctx *ctx = ctx_new(dry_run, flags);
	const char *s;
	int rc;

	if (ctx == NULL)
		return -ENOMEM;
	rc = nft_run_cmd_from_buffer(ctx, text);
	s = nft_ctx_get_error_buffer(ctx);
	if (rc != 0 && err != NULL && s != NULL)
		ew_buf_puts(err, s);
	s = nft_ctx_get_output_buffer(ctx);
	if (out != NULL && s != NULL)
		ew_buf_puts(out, s);
	nft_ctx_free(ctx);
	if (rc == 0)
		return 0;
	if (err != NULL && strstr(ew_buf_str(err), "No such file") != NULL)
		return -ENOENT;
	if (err != NULL && strstr(ew_buf_str(err), "Operation not permitted"))
		return -EPERM;
	return -EINVAL;
}

#else /* no libnftables in this build */

static int
run(const char *text, int dry_run, unsigned flags, struct ew_buf *out,
    struct ew_buf *err)
{
	(void)text;
	(void)dry_run;
	(void)flags;
	(void)out;
	if (err != NULL)
		ew_buf_puts(err, "built without libnftables\n");
	return -ENOSYS;
}

#endif

static int
cmp_counter(const void *x, const void *y)
{
	const struct ew_nft_counter *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* A rule's counter name (ew_nft_rule_names), not a guard's. */
static int
rule_counter(const char *s, size_t n)
{
	size_t i;

	if (n < 17 || s[0] != 'r')
		return 0;
	for (i = 1; i < 17; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return n == 17 || s[17] == '_';
}

/*
 * The text with the values of the rule counters the table has now
 * carried into their declarations ("packets N bytes M"), so that a
 * reload (the table deleted and made again in one transaction) does
 * not reset them.  What is counted between the read and the load is
 * lost.  0 (out may be the text unchanged) or -ENOMEM.
 */
static int
keep_counters(const char *text, struct ew_buf *out)
{
	struct ew_nft_counter *v = NULL, key, *hit;
	const char *s, *e, *name;
	size_t n = 0, len;
	char buf[EW_NFT_NAME_MAX + 1];

	if (ew_nft_counters(&v, &n, NULL) != 0 || n == 0) {
		ew_nft_counters_free(v, n);
		ew_buf_puts(out, text);
		return out->oom ? -ENOMEM : 0;
	}
	qsort(v, n, sizeof(*v), cmp_counter);
	for (s = text; *s != '\0'; s = e) {
		e = s + strcspn(s, "\n");
		e += *e == '\n';
		ew_buf_add(out, s, (size_t)(e - s));
		if (strncmp(s, "\tcounter ", 9) != 0)
			continue;
		name = s + 9;
		len = strcspn(name, " \n");
		if (!rule_counter(name, len) || len >= sizeof(buf) ||
		    strncmp(name + len, " {\n", 3) != 0)
			continue;
		memcpy(buf, name, len);
		buf[len] = '\0';
		key.name = buf;
		hit = bsearch(&key, v, n, sizeof(*v), cmp_counter);
		if (hit != NULL && (hit->packets > 0 || hit->bytes > 0))
			ew_buf_printf(out, "\t\tpackets %llu bytes %llu\n",
			    (unsigned long long)hit->packets,
			    (unsigned long long)hit->bytes);
	}
	ew_nft_counters_free(v, n);
	return out->oom ? -ENOMEM : 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Elements from which a first load goes in two transactions; test
 * builds take another from EW_TEST_NFT_DIRECT_MIN. */
static size_t
direct_min(void)
{
#ifdef EW_TEST_HOOKS
	const char *e = getenv("EW_TEST_NFT_DIRECT_MIN");

	if (e != NULL && *e >= '0' && *e <= '9')
		return (size_t)strtoul(e, NULL, 10);
#endif
	return EW_NFT_DIRECT_MIN;
}

/*
 * A first load in two transactions (nft.h, ew_nft_split): 1 when it
 * does not apply (a table of ours exists, the text is small or not of
 * the shape ew_nft_split knows, or the skeleton did not load), and the
 * text is to be loaded as it is; 0 when loaded; <0 when the second
 * transaction failed (the table is deleted again: nothing changed).
 */
static int
load_direct(const char *text, struct ew_nft_load_info *li, struct ew_buf *err)
{
	struct ew_nft_split sp;
	struct ew_buf e1 = EW_BUF_INIT;
	double t0 = now_ms(), t1;
	int rc;

	if (ew_nft_table_exists(&e1) != -ENOENT) {
		ew_buf_free(&e1);
		return 1;
	}
	ew_buf_free(&e1);
	if ((rc = ew_nft_split(text, &sp)) < 0)
		return rc == -ENOMEM ? rc : 1;
	if (sp.elements < direct_min() ||
	    run(ew_buf_str(&sp.skel), 0, 0, NULL, NULL) != 0) {
		ew_nft_split_free(&sp);
		return 1;
	}
	t1 = now_ms();
	rc = ew_nft_golive(&sp, err);
	if (rc == -EAGAIN) {
		/* the skeleton was replaced meanwhile: load the text */
		rc = 1;
	} else if (rc == 0 && li != NULL) {
		li->split = 1;
		li->direct = sp.elements;
		li->skeleton_ms = t1 - t0;
		li->netlink_ms = now_ms() - t1;
	}
	ew_nft_split_free(&sp);
	return rc;
}

int
ew_nft_load_ex(const char *text, int dry_run, struct ew_nft_load_info *li,
    struct ew_buf *err)
{
	struct ew_buf t = EW_BUF_INIT;
	int rc;

	if (li != NULL)
		memset(li, 0, sizeof(*li));
	if (dry_run)
		return run(text, dry_run, 0, NULL, err);
	if ((rc = load_direct(text, li, err)) <= 0)
		return rc;
	if ((rc = keep_counters(text, &t)) == 0)
		rc = run(ew_buf_str(&t), 0, 0, NULL, err);
	ew_buf_free(&t);
	return rc;
}

int
ew_nft_load(const char *text, int dry_run, struct ew_buf *err)
{
	return ew_nft_load_ex(text, dry_run, NULL, err);
}

int
ew_nft_flush(int dry_run, struct ew_buf *err)
{
	struct ew_buf t = EW_BUF_INIT;
	int rc;

	ew_nft_flush_text(&t);
	rc = t.oom ? -ENOMEM : run(ew_buf_str(&t), dry_run, 0, NULL, err);
	ew_buf_free(&t);
	return rc;
}

int
ew_nft_set_elements(const char *set, int add, const char *elems, int dry_run,
    struct ew_buf *err)
{
	struct ew_buf t = EW_BUF_INIT;
	int rc;

	ew_buf_printf(&t,
	    "%s element " EW_NFT_FAMILY " " EW_NFT_TABLE " %s { %s }\n",
	    add ? "add" : "delete", set, elems);
	rc = t.oom ? -ENOMEM : run(ew_buf_str(&t), dry_run, 0, NULL, err);
	ew_buf_free(&t);
	return rc;
}

void
ew_nft_counters_free(struct ew_nft_counter *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].comment);
	}
	free(v);
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*out = v;
	return 0;
}

/*
 * nft's listing of our counters:
 *	counter r0 {
 *		comment "reject 1.2.3.4:*"
 *		packets 0 bytes 0
 *	}
 */
static int
parse_counters(const char *s, struct ew_nft_counter **vp, size_t *np)
{
	struct ew_nft_counter *v = NULL, *nv, *cur = NULL;
	size_t n = 0;

	while (*s != '\0') {
		const char *eol = strchr(s, '\n'), *l = skip_ws(s), *q;
		size_t len;

		if (eol == NULL)
			eol = s + strlen(s);
		if (strncmp(l, "counter ", 8) == 0) {
			l += 8;
			for (q = l; q < eol && *q != ' ' && *q != '{'; q++)
				;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv == NULL)
				goto oom;
			v = nv;
			cur = &v[n++];
			memset(cur, 0, sizeof(*cur));
			cur->name = ew_strndup(l, (size_t)(q - l));
			if (cur->name == NULL)
				goto oom;
		} else if (cur != NULL && strncmp(l, "comment \"", 9) == 0) {
			l += 9;
			q = memchr(l, '"', (size_t)(eol - l));
			len = q != NULL ? (size_t)(q - l) : (size_t)(eol - l);
			free(cur->comment);
			cur->comment = ew_strndup(l, len);
			if (cur->comment == NULL)
				goto oom;
		} else if (cur != NULL && strncmp(l, "packets ", 8) == 0) {
			if (parse_u64(l + 8, &q, &cur->packets) < 0 ||
			    strncmp(q, " bytes ", 7) != 0 ||
			    parse_u64(q + 7, &q, &cur->bytes) < 0)
				goto bad;
		}
		s = *eol == '\n' ? eol + 1 : eol;
	}
	*vp = v;
	*np = n;
	return 0;
oom:
	ew_nft_counters_free(v, n);
	return -ENOMEM;
bad:
	ew_nft_counters_free(v, n);
	return -EINVAL;
}

int
ew_nft_counters(struct ew_nft_counter **v, size_t *n, struct ew_buf *err)
{
	struct ew_buf out = EW_BUF_INIT;
	int rc;

	*v = NULL;
	*n = 0;
	rc = run("list counters table " EW_NFT_FAMILY " " EW_NFT_TABLE "\n", 0,
	    0, &out, err);
	if (rc == 0 && out.oom)
		rc = -ENOMEM;
	if (rc == 0) {
		rc = parse_counters(ew_buf_str(&out), v, n);
		if (rc == -EINVAL && err != NULL)
			ew_buf_puts(
			    err, "unexpected counter listing from nft\n");
	}
	ew_buf_free(&out);
	return rc;
}
