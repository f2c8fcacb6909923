/*
 * json.c - JSON string escaping.
 *
 * The text is read as UTF-8 (lib/esc.c's reader): what RFC 8259 requires
 * is escaped (quote, backslash, C0 controls), and so is every character
 * the terminal sink would escape (DEL, C1 controls, bidi overrides and
 * marks), as \uHHHH, so that JSON on a terminal cannot act on it either;
 * a byte that is not valid UTF-8 becomes \ufffd, keeping the output
 * valid JSON.  A decoder gets every valid character back as it was.
 */
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/esc.h"
#include "lib/json.h"

void
ew_json_str(struct ew_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0, run = 0, len;
	uint32_t c;

	ew_buf_putc(b, '"');
	while (i < n) {
		len = ew_utf8_char(s + i, n - i, &c);
		if (len > 0 && c != '"' && c != '\\' && !ew_esc_unsafe(c, 0)) {
			i += len;
			continue;
		}
		ew_buf_add(b, s + run, i - run);
		if (len == 0) {
			ew_buf_puts(b, "\\ufffd");
			len = 1;
		} else if (c == '"' || c == '\\') {
			ew_buf_putc(b, '\\');
			ew_buf_putc(b, (char)c);
		} else if (c == '\n') {
			ew_buf_puts(b, "\\n");
		} else if (c == '\t') {
			ew_buf_puts(b, "\\t");
		} else if (c == '\r') {
			ew_buf_puts(b, "\\r");
		} else {
			ew_buf_printf(b, "\\u%04x", (unsigned)c);
		}
		i += len;
		run = i;
	}
	ew_buf_add(b, s + run, i - run);
	ew_buf_putc(b, '"');
}
