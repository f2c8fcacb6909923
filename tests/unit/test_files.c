/*
 * test_files.c - what a policy may read, and what its errors may print
 * (issue 17, item 9): the whole-file reader (lib/file.c) takes regular
 * files only; the parse finds loops by device and inode, whatever the
 * spelling or symlink, and stops at its limits on files and bytes; a
 * diagnostic shows a window of a long line and a clipped message.
 *
 * Each test works in a directory of its own under $TMPDIR (or /tmp).  A
 * FIFO that a broken reader would block on, and an include fan-out that
 * an unlimited parse would spend hours on, are guarded by alarm(): the
 * test then dies of SIGALRM, which ctest reports as a failure.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/ew_test.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static char dir[256];

static void
mkdir_tmp(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/ew-files-XXXXXX", t ? t : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_tmp(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name, in a static buffer (one at a time). */
static const char *
at(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
put(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(name);
		exit(1);
	}
}

/* Parse dir/name; the rendered diagnostics in *msgs (caller frees). */
static int
parse(const char *name, struct ew_parse_stats *st, struct ew_diag_list *d,
    struct ew_buf *msgs)
{
	struct ew_policy *p = NULL;
	int r;

	ew_diag_init(d);
	r = ew_policy_parse_file_stats(at(name), 0, d, &p, st);
	ew_diag_format(d, msgs);
	ew_policy_free(p);
	return r;
}

static int
has(const struct ew_buf *b, const char *s)
{
	return strstr(ew_buf_str(b), s) != NULL;
}

/* ---- the reader ------------------------------------------------------- */

static void
test_read(void)
{
	struct ew_file f;
	struct stat st;

	mkdir_tmp();
	put("r", "accept *:80\n");
	EW_CHECK_INT(ew_file_load(at("r"), 0, 1024, &f), 0);
	EW_CHECK_STR(f.text, "accept *:80\n");
	EW_CHECK_INT(f.len, 12);
	EW_CHECK(stat(at("r"), &st) == 0 && st.st_ino == f.ino &&
		 st.st_dev == f.dev);
	free(f.text);
	/* over the limit, by its size */
	EW_CHECK_INT(ew_file_load(at("r"), 0, 11, &f), -EFBIG);
	EW_CHECK(f.text == NULL);
	EW_CHECK_INT(ew_file_load(at("r"), 0, 12, &f), 0);
	free(f.text);
	EW_CHECK_INT(ew_file_load(at("none"), 0, 1024, &f), -ENOENT);
	EW_CHECK_STR(f.why, strerror(ENOENT));
	EW_CHECK_INT(ew_file_load(dir, 0, 1024, &f), -EINVAL);
	EW_CHECK_STR(f.why, "a directory, not a regular file");
	EW_CHECK_INT(ew_file_load("/dev/zero", 0, 1024, &f), -EINVAL);
	EW_CHECK_STR(f.why, "a character device, not a regular file");
	EW_CHECK_INT(ew_file_load("/dev/null", 0, 1024, &f), -EINVAL);
	/* /proc files claim size 0 and hold text: not files */
	EW_CHECK_INT(ew_file_load("/proc/self/environ", 0, 1024, &f), -EINVAL);
	EW_CHECK_STR(f.why, "a file in /proc, not a regular file");
	EW_CHECK_INT(ew_file_load("/proc/self/status", 0, 1024, &f), -EINVAL);
	/* a FIFO without a writer: refused at once, not waited on */
	EW_CHECK(mkfifo(at("fifo"), 0600) == 0);
	alarm(30);
	EW_CHECK_INT(ew_file_load(at("fifo"), 0, 1024, &f), -EINVAL);
	alarm(0);
	EW_CHECK_STR(f.why, "a FIFO, not a regular file");
	/* through a symlink: what it names counts */
	EW_CHECK(symlink("fifo", at("lnk")) == 0);
	EW_CHECK_INT(ew_file_load(at("lnk"), 0, 1024, &f), -EINVAL);
	EW_CHECK(symlink("r", at("lnk2")) == 0);
	EW_CHECK_INT(ew_file_load(at("lnk2"), 0, 1024, &f), 0);
	EW_CHECK(stat(at("r"), &st) == 0 && st.st_ino == f.ino);
	free(f.text);
	rm_tmp();
}

/* ---- the parse: special files, loops, limits -------------------------- */

static void
test_special(void)
{
	struct ew_parse_stats st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;

	mkdir_tmp();
	EW_CHECK(mkfifo(at("fifo"), 0600) == 0);
	put("p.policy", "include \"fifo\"\n"
			"table <t> file \"fifo\"\n"
			"include \"/dev/zero\"\n"
			"table <z> file \"/dev/zero\"\n"
			"include \"/proc/self/environ\"\n");
	alarm(30); /* a reader that blocks on the FIFO dies here */
	EW_CHECK(parse("p.policy", &st, &d, &b) < 0);
	alarm(0);
	EW_CHECK_INT(d.nerr, 5);
	EW_CHECK(has(&b, "p.policy:1:9-14: error: cannot read '"));
	EW_CHECK(has(&b, "/fifo': a FIFO, not a regular file\n"));
	EW_CHECK(has(&b, "p.policy:2:16-21: error: cannot read table file"));
	EW_CHECK(has(&b, "p.policy:3:9-19: error: cannot read '/dev/zero': "
			 "a character device, not a regular file\n"));
	EW_CHECK(has(&b, "p.policy:4:16-26: error: cannot read table file "
			 "'/dev/zero': a character device"));
	EW_CHECK(has(&b, "'/proc/self/environ': a file in /proc"));
	EW_CHECK_INT(st.files, 6);
	ew_buf_free(&b);
	ew_diag_free(&d);
	rm_tmp();
}

/* One file included from itself under four spellings: four loops. */
static void
test_loop_spellings(void)
{
	struct ew_parse_stats st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT, inc = EW_BUF_INIT;
	const char *base;

	mkdir_tmp();
	base = strrchr(dir, '/') + 1;
	ew_buf_printf(&inc,
	    "include \"L\"\ninclude \"./L\"\ninclude \".//L\"\n"
	    "include \"../%s/L\"\naccept *:80\n",
	    base);
	put("L", ew_buf_str(&inc));
	put("top.policy", "include \"L\"\n");
	EW_CHECK(parse("top.policy", &st, &d, &b) < 0);
	EW_CHECK_INT(d.nerr, 4);
	EW_CHECK(has(&b, "L:1:9-11: error: '"));
	EW_CHECK(has(&b, "L:4:9-"));
	EW_CHECK(has(&b, "/L' includes itself\n"));
	/* top, L, and L again under each of its four names: 6 reads */
	EW_CHECK_INT(st.files, 6);
	EW_CHECK(st.bytes < 1000);
	ew_buf_free(&b);
	ew_buf_free(&inc);
	ew_diag_free(&d);
	rm_tmp();
}

/* Loops through symlinks: to the file, and to its directory. */
static void
test_loop_symlinks(void)
{
	struct ew_parse_stats st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;

	mkdir_tmp();
	put("a.policy", "include \"l1\"\n");
	EW_CHECK(symlink("a.policy", at("l1")) == 0);
	EW_CHECK(parse("a.policy", &st, &d, &b) < 0);
	EW_CHECK_INT(d.nerr, 1);
	EW_CHECK(has(&b, "a.policy:1:9-12: error: '"));
	EW_CHECK(has(&b, "/l1' includes itself\n"));
	EW_CHECK_INT(st.files, 2);
	ew_buf_free(&b);
	ew_diag_free(&d);

	/* d -> . : "d/b.policy", "d/d/b.policy", ... are all b.policy */
	put("b.policy", "include \"d/b.policy\"\naccept *:80\n");
	EW_CHECK(symlink(".", at("d")) == 0);
	b = (struct ew_buf)EW_BUF_INIT;
	EW_CHECK(parse("b.policy", &st, &d, &b) < 0);
	EW_CHECK_INT(d.nerr, 1);
	EW_CHECK(has(&b, "b.policy:1:9-20: error: '"));
	EW_CHECK(has(&b, "/d/b.policy' includes itself\n"));
	EW_CHECK(!has(&b, "deeper"));
	EW_CHECK_INT(st.files, 2);
	ew_buf_free(&b);
	ew_diag_free(&d);
	rm_tmp();
}

/*
 * Thirteen files, each including the next four times under different
 * spellings: no loop, but 4^12 = 16.7M reads without a limit.  The parse
 * stops at EW_MAX_FILES with one located error.
 */
static void
test_fanout(void)
{
	struct ew_parse_stats st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	char name[32];
	int i;

	mkdir_tmp();
	for (i = 1; i <= 13; i++) {
		struct ew_buf t = EW_BUF_INIT;

		if (i < 13)
			ew_buf_printf(&t,
			    "include \"f%d\"\ninclude \"./f%d\"\n"
			    "include \".//f%d\"\ninclude \"././f%d\"\n",
			    i + 1, i + 1, i + 1, i + 1);
		else
			ew_buf_puts(&t, "accept *:80\n");
		snprintf(name, sizeof(name), "f%d", i);
		put(name, ew_buf_str(&t));
		ew_buf_free(&t);
	}
	put("top.policy", "include \"f1\"\n");
	alarm(120); /* without the limit: hours, and gigabytes */
	EW_CHECK(parse("top.policy", &st, &d, &b) < 0);
	alarm(0);
	EW_CHECK_INT(d.nerr, 1);
	EW_CHECK(has(&b, "a policy reads at most 1024 include and table "
			 "files\n"));
	EW_CHECK_INT(st.files, 1024);
	EW_CHECK(st.bytes < (size_t)EW_MAX_FILES * 100);
	ew_buf_free(&b);
	ew_diag_free(&d);

	/* the same limit for table files */
	{
		struct ew_buf t = EW_BUF_INIT;

		put("one.list", "192.0.2.1\n");
		for (i = 0; i < EW_MAX_FILES + 10; i++)
			ew_buf_printf(&t, "table <t%d> file \"one.list\"\n", i);
		put("tables.policy", ew_buf_str(&t));
		ew_buf_free(&t);
	}
	b = (struct ew_buf)EW_BUF_INIT;
	EW_CHECK(parse("tables.policy", &st, &d, &b) < 0);
	EW_CHECK_INT(d.nerr, 1);
	EW_CHECK(has(&b, "tables.policy:1024:"));
	EW_CHECK(has(&b, "error: cannot read table file '"));
	EW_CHECK_INT(st.files, 1024);
	ew_buf_free(&b);
	ew_diag_free(&d);
	rm_tmp();
}

/* A 1M-entry table file is legitimate: read, within the byte limit. */
static void
test_big_table(void)
{
	struct ew_parse_stats st;
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_policy *p = NULL;
	FILE *f;
	unsigned i;

	mkdir_tmp();
	f = fopen(at("big.list"), "w");
	EW_CHECK(f != NULL);
	if (f == NULL)
		return;
	for (i = 0; i < 1000000; i++)
		fprintf(f, "2001:db8:%x:%x::%x/128\n", i >> 16, i & 0xffff,
		    i & 0xfff);
	fclose(f);
	put("t.policy", "table <big> file \"big.list\"\nreject <big>:*\n");
	ew_diag_init(&d);
	EW_CHECK_INT(
	    ew_policy_parse_file_stats(at("t.policy"), 0, &d, &p, &st), 0);
	EW_CHECK(p != NULL && p->ntables == 1 && p->tables[0].n == 1000000);
	EW_CHECK_INT(st.files, 2);
	EW_CHECK(st.bytes > 20000000 && st.bytes < EW_MAX_BYTES);
	ew_diag_format(&d, &b);
	EW_CHECK_STR(ew_buf_str(&b), "");
	ew_buf_free(&b);
	ew_policy_free(p);
	ew_diag_free(&d);
	rm_tmp();
}

/* ---- long lines in diagnostics ---------------------------------------- */

/* A 50 MB single-token line: the report stays short. */
static void
test_long_line(void)
{
	size_t n = 50u << 20, i, carets = 0;
	char *text = malloc(n + 1);
	struct ew_diag_list d;
	struct ew_buf b = EW_BUF_INIT;
	struct ew_policy *p = NULL;
	const char *s;

	EW_CHECK(text != NULL);
	if (text == NULL)
		return;
	memset(text, 'x', n);
	text[n] = '\n';
	ew_diag_init(&d);
	EW_CHECK(
	    ew_policy_parse_string("big.policy", text, n + 1, 0, &d, &p) < 0);
	free(text);
	ew_diag_format(&d, &b);
	/* was 150 MB: the token in the message, the line, 50M carets */
	EW_CHECK(b.len < 1200);
	s = ew_buf_str(&b);
	EW_CHECK(strncmp(s,
		     "big.policy:1:1-52428800: error: unknown keyword "
		     "'xxx",
		     52) == 0);
	for (i = 0; i < b.len; i++)
		carets += s[i] == '^';
	EW_CHECK_INT(carets, EW_DIAG_SHOW + 3);
	EW_CHECK(strstr(s, "xxx...\n^^^") != NULL);
	ew_buf_free(&b);
	ew_diag_free(&d);
}

/* The window: 200 bytes around the error, "..." and carets that match. */
static void
test_window(void)
{
	struct ew_src *src;
	struct ew_diag_list d;
	struct ew_loc loc;
	struct ew_buf b = EW_BUF_INIT, line = EW_BUF_INIT, want = EW_BUF_INIT;
	int i;

	/* 'a' x 500, "BAD", 'b' x 500, then a tab-led line */
	for (i = 0; i < 500; i++)
		ew_buf_putc(&line, 'a');
	ew_buf_puts(&line, "BAD");
	for (i = 0; i < 500; i++)
		ew_buf_putc(&line, 'b');
	src = ew_src_new("w", ew_buf_str(&line), line.len);
	ew_diag_init(&d);
	loc.src = src;
	loc.line = 1;
	loc.first = 501;
	loc.last = 503;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "bad");
	/* the end of a line: no "..." after it */
	loc.first = 1003;
	loc.last = 1003;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "end");
	/* a message quoting the whole line: start, "...", end */
	loc.first = 1;
	loc.last = 1003;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "'%s' x", ew_buf_str(&line));
	ew_diag_format(&d, &b);

	ew_buf_puts(&want, "w:1:501-503: error: bad\n...");
	for (i = 0; i < EW_DIAG_LEAD; i++)
		ew_buf_putc(&want, 'a');
	ew_buf_puts(&want, "BAD");
	for (i = 0; i < EW_DIAG_SHOW - EW_DIAG_LEAD - 3; i++)
		ew_buf_putc(&want, 'b');
	ew_buf_puts(&want, "...\n   ");
	for (i = 0; i < EW_DIAG_LEAD; i++)
		ew_buf_putc(&want, ' ');
	ew_buf_puts(&want, "^^^\nw:1:1003: error: end\n...");
	for (i = 0; i < EW_DIAG_SHOW; i++)
		ew_buf_putc(&want, 'b');
	ew_buf_puts(&want, "\n   ");
	for (i = 0; i < EW_DIAG_SHOW - 1; i++)
		ew_buf_putc(&want, ' ');
	ew_buf_puts(&want, "^\nw:1:1-1003: error: '");
	for (i = 0; i < EW_DIAG_MSG_MAX * 2 / 3 - 1; i++)
		ew_buf_putc(&want, 'a');
	ew_buf_puts(&want, "...");
	for (i = 0; i < EW_DIAG_MSG_MAX - EW_DIAG_MSG_MAX * 2 / 3 - 3 - 3; i++)
		ew_buf_putc(&want, 'b');
	ew_buf_puts(&want, "' x\n");
	for (i = 0; i < EW_DIAG_SHOW; i++)
		ew_buf_putc(&want, 'a');
	ew_buf_puts(&want, "...\n");
	for (i = 0; i < EW_DIAG_SHOW + 3; i++)
		ew_buf_putc(&want, '^');
	ew_buf_puts(&want, "\n");
	EW_CHECK_STR(ew_buf_str(&b), ew_buf_str(&want));
	EW_CHECK(strlen(d.v[2].msg) <= EW_DIAG_MSG_MAX);
	ew_buf_free(&b);
	ew_buf_free(&want);
	ew_diag_free(&d);

	/* UTF-8: the window never cuts a character in two */
	ew_buf_free(&line);
	for (i = 0; i < 300; i++)
		ew_buf_puts(&line, "\xc3\xa9"); /* é */
	ew_src_free(src);
	src = ew_src_new("u", ew_buf_str(&line), line.len);
	ew_diag_init(&d);
	loc.src = src;
	loc.first = 301; /* the first byte of the 151st é */
	loc.last = 302;
	ew_diag_add(&d, EW_SEV_ERROR, &loc, "u");
	EW_CHECK(d.n == 1 && (d.v[0].scol & 1) == 0 &&
		 strlen(d.v[0].srcline) % 2 == 0);
	b = (struct ew_buf)EW_BUF_INIT;
	ew_diag_format(&d, &b);
	/* "...", 30 é before the error: 33 columns, then one caret */
	EW_CHECK(strstr(ew_buf_str(&b),
		     "\n                                 ^\n") != NULL);
	ew_buf_free(&b);
	ew_buf_free(&line);
	ew_diag_free(&d);
	ew_src_free(src);
}

int
main(void)
{
	EW_RUN(test_read);
	EW_RUN(test_special);
	EW_RUN(test_loop_spellings);
	EW_RUN(test_loop_symlinks);
	EW_RUN(test_fanout);
	EW_RUN(test_big_table);
	EW_RUN(test_long_line);
	EW_RUN(test_window);
	return ew_test_done();
}
