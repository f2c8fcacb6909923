/*
 * archive.c - zipped attachments (the only file using libarchive).
 *
 * Shadowserver mails carry their CSV zipped.  This unpacks the regular
 * files of a zip held in memory, refusing more than EW_UNZIP_MAX_FILES
 * entries or more than EW_UNZIP_MAX_BYTES of uncompressed data in all
 * (a zip bomb is refused, not truncated).  Only zip is enabled; no
 * filters, no paths are ever written to disk.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/buf.h"
#include "mail/mail_int.h"

int
ew_unzip(const char *data, size_t len, ew_unzip_fn fn, void *arg)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct ew_buf b = EW_BUF_INIT;
	size_t total = 0, files = 0;
	int rc = 0, r;

	if (a == NULL)
		return -1;
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char chunk[16384];
		la_ssize_t n;
		const char *name = archive_entry_pathname(e);

		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (++files > EW_UNZIP_MAX_FILES) {
			rc = -2;
			break;
		}
		ew_buf_reset(&b);
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			total += (size_t)n;
			if (total > EW_UNZIP_MAX_BYTES) {
				rc = -2;
				break;
			}
			ew_buf_add(&b, chunk, (size_t)n);
		}
		if (rc == 0 && n < 0)
			rc = -1;
		if (rc == 0 && b.oom)
			rc = -1;
		if (rc == 0)
			rc = fn(arg, name != NULL ? name : "",
			    b.p != NULL ? b.p : "", b.len);
	}
	ew_buf_free(&b);
	archive_read_free(a);
	return rc;
}
