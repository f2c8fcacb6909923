/*
 * json.c - JSON string escaping.
 */
#include "lib/buf.h"
#include "lib/json.h"

void
ew_json_str(struct ew_buf *b, const char *s)
{
	const unsigned char *p;

	ew_buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			ew_buf_puts(b, "\\\"");
			break;
		case '\\':
			ew_buf_puts(b, "\\\\");
			break;
		case '\n':
			ew_buf_puts(b, "\\n");
			break;
		case '\t':
			ew_buf_puts(b, "\\t");
			break;
		case '\r':
			ew_buf_puts(b, "\\r");
			break;
		default:
			if (*p < 0x20)
				ew_buf_printf(b, "\\u%04x", *p);
			else
				ew_buf_putc(b, (char)*p);
		}
	}
	ew_buf_putc(b, '"');
}
