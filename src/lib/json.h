/*
 * json.h - the few JSON writing helpers the CLI and libraries share.
 * Writing only; parsing JSON (complaints) is jansson's job in mail/.
 */
#ifndef EW_LIB_JSON_H
#define EW_LIB_JSON_H

struct ew_buf;

/* Append `s` as a JSON string literal, escaping as RFC 8259 requires. */
void ew_json_str(struct ew_buf *b, const char *s);

#endif
