/*
 * archive.c - compressed attachments (the only file using libarchive).
 *
 * Shadowserver mails carry their CSV zipped; DMARC aggregate reports
 * come as .zip or .xml.gz.  This unpacks the regular files of a zip, or
 * the one stream of a gzip, held in memory.  Every byte inflated is
 * drawn from the mail's one decompression budget (ew_complaint_inflate),
 * so a mail of many zip bombs stops after the budget in all, not after
 * a budget per attachment; the time budget is checked after each chunk.
 * A zip of more than EW_UNZIP_MAX_FILES entries is refused.  Only zip
 * (and, for ew_gunzip, the gzip filter over raw data) is enabled; no
 * paths are ever written to disk.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/buf.h"
#include "mail/mail_int.h"

#define CHUNK 65536

/* Read the current entry into b: 0, -1 on a read error, -3 past a
 * budget. */
static int
drain(struct ew_complaint *c, struct archive *a, struct ew_buf *b)
{
	char *chunk = malloc(CHUNK);
	la_ssize_t n = 0;
	int rc = 0;

	if (chunk == NULL)
		return -1;
	ew_buf_reset(b);
	for (;;) {
		size_t room = ew_complaint_inflate_room(c, CHUNK);

		if (room == 0 || ew_complaint_over_budget(c)) {
			rc = -3;
			break;
		}
		if ((n = archive_read_data(a, chunk, room)) <= 0)
			break;
		ew_complaint_inflated(c, (size_t)n);
		ew_buf_add(b, chunk, (size_t)n);
	}
	free(chunk);
	if (rc == 0 && (n < 0 || b->oom))
		rc = -1;
	return rc;
}

int
ew_unzip(struct ew_complaint *c, const char *data, size_t len, ew_unzip_fn fn,
    void *arg)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct ew_buf b = EW_BUF_INIT;
	size_t files = 0;
	int rc = 0, r = ARCHIVE_OK;

	if (a == NULL)
		return -1;
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (ew_complaint_over_budget(c)) {
			rc = -3;
			break;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (++files > EW_UNZIP_MAX_FILES) {
			rc = -2;
			break;
		}
		rc = drain(c, a, &b);
		if (rc == 0)
			rc = fn(arg, name != NULL ? name : "",
			    b.p != NULL ? b.p : "", b.len);
	}
	if (rc == 0 && files == 0 && r != ARCHIVE_EOF)
		rc = -1;
	ew_buf_free(&b);
	archive_read_free(a);
	return rc;
}

int
ew_gunzip(
    struct ew_complaint *c, const char *data, size_t len, struct ew_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int rc;

	ew_buf_reset(out);
	if (a == NULL)
		return -1;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK ||
	    archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	rc = drain(c, a, out);
	archive_read_free(a);
	return rc;
}
