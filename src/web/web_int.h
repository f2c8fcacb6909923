/*
 * web_int.h - the web face's internals, for the files of src/web and its tests.
 *
 * struct ew_web holds the settings, the store, the templates (read
 * once), the notice page as last rendered (kept for a second: the page
 * is the same for every visitor, so a burst of views costs one render)
 * and the in-memory aggregate counters (requests by page and block
 * requests by outcome; the rate limiter's buckets).
 */
#ifndef EW_WEB_WEB_INT_H
#define EW_WEB_WEB_INT_H

#include <stdint.h>

#include "lib/buf.h"
#include "web/web.h"

/* "16 hex" "." "16 hex" "." "64 hex" and a NUL. */
#define EW_WEB_TOKEN_LEN (16 + 1 + 16 + 1 + 64 + 1)
#define EW_WEB_RATE_BUCKETS 4096

enum ew_web_tmpl {
	EW_WEB_T_NOTICE,
	EW_WEB_T_BLOCK,
	EW_WEB_T_RESULT,
	EW_WEB_T_STYLE,
	EW_WEB_NTMPL
};

/* Counters of block requests by outcome (/metrics). */
enum ew_web_outcome {
	EW_WEB_O_ACCEPTED,
	EW_WEB_O_RENEWED,
	EW_WEB_O_BAD_REQUEST,
	EW_WEB_O_BAD_TOKEN,
	EW_WEB_O_REPLAY,
	EW_WEB_O_NOT_COVERED,
	EW_WEB_O_RATE_LIMITED,
	EW_WEB_O_CAPPED,
	EW_WEB_O_QUEUED,
	EW_WEB_O_ERROR,
	EW_WEB_NOUTCOME
};
extern const char *const ew_web_outcome_names[EW_WEB_NOUTCOME];

enum ew_web_path {
	EW_WEB_P_NOTICE,
	EW_WEB_P_BLOCK,
	EW_WEB_P_METRICS,
	EW_WEB_P_STYLE,
	EW_WEB_P_OTHER,
	EW_WEB_NPATH
};
extern const char *const ew_web_path_names[EW_WEB_NPATH];

struct ew_web_bucket {
	int64_t start;
	uint32_t count;
};

struct ew_web {
	struct ew_web_conf conf;
	struct ew_store *st;
	char *tmpl[EW_WEB_NTMPL];
	size_t tmpl_len[EW_WEB_NTMPL];
	struct ew_buf page; /* the notice page as last rendered */
	int64_t page_at;    /* when (INT64_MIN: stale) */
	int page_ok;
	uint64_t requests[EW_WEB_NPATH];
	uint64_t outcomes[EW_WEB_NOUTCOME];
	uint64_t rejected_http; /* refused by http.c: too big, too many */
	struct ew_web_bucket rate[EW_WEB_RATE_BUCKETS];
	uint32_t rate_salt;
};

/* One {{field}} and the HTML it stands for (already escaped). */
struct ew_web_kv {
	const char *name;
	const char *html;
};

/* token.c */
int ew_web_token_make(const struct ew_web *w, const struct ew_addr *src,
    int64_t now, char out[EW_WEB_TOKEN_LEN]);
/* 0 and the token's nonce and time; -EINVAL (not a token), -EPERM (not
 * ours, or for another address), -ETIMEDOUT (too old, or from the
 * future). */
int ew_web_token_check(const struct ew_web *w, const char *tok,
    const struct ew_addr *src, int64_t now, char nonce[17], int64_t *made);
/* 0, or -EBUSY when the source's bucket is spent for this window. */
int ew_web_rate_take(struct ew_web *w, const struct ew_addr *src, int64_t now);

/* page.c */
/* The built-in template (NULL for none). */
const char *ew_web_builtin(enum ew_web_tmpl t);
const char *ew_web_tmpl_file(enum ew_web_tmpl t);
/* Check a template's fields against those its page fills: 0, or
 * -EINVAL with located errors on diags. */
int ew_web_tmpl_check(enum ew_web_tmpl t, const char *name, const char *s,
    size_t n, struct ew_diag_list *diags);
/* Expand template t with the fields kv into out. */
void ew_web_expand(const struct ew_web *w, enum ew_web_tmpl t,
    const struct ew_web_kv *kv, size_t n, struct ew_buf *out);
/* The notice page into out: 0, or -errno (a store failure). */
int ew_web_notice(struct ew_web *w, int64_t now, struct ew_buf *out);
/* The block form, with a fresh token for src and an error (HTML), or
 * NULL. */
int ew_web_block_form(struct ew_web *w, const struct ew_addr *src, int64_t now,
    const char *error_html, struct ew_buf *out);
/* Append a time as "YYYY-MM-DD HH:MM UTC". */
void ew_web_time(struct ew_buf *b, int64_t t);

/* block.c: POST /block */
void ew_web_block_post(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r);

/* metrics.c: GET /metrics */
void ew_web_metrics(
    struct ew_web *w, const struct ew_web_req *req, struct ew_web_resp *r);

#endif
