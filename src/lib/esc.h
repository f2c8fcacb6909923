/*
 * esc.h - the escaping layer: one function per sink for text that came
 * from outside (a complaint, a file) and is about to be written where it
 * could be taken for something the program itself wrote.
 *
 * Three sinks:
 *
 * - terminal (ew_esc_term): every character that a terminal or a reader
 *   would act on rather than show is shown escaped instead.  C0 controls
 *   as \t, \n, \r or \xHH, DEL as \x7f, C1 controls (U+0080..U+009F) and
 *   the characters that reorder or break what is read (bidi embeddings,
 *   overrides and isolates U+202A..U+202E, U+2066..U+2069, the marks
 *   U+200E, U+200F, U+061C, the separators U+2028, U+2029) as \uHHHH,
 *   and each byte that is not part of valid UTF-8 (overlong forms,
 *   surrogates, beyond U+10FFFF, cut sequences) as U+FFFD.  A newline
 *   is never passed through: newlines in the output are the program's.
 *   Backslashes are not doubled: the form is for reading, not reversible
 *   (--json is the exact form).
 *
 * - mail header (ew_esc_header): writes a whole field, "Name: value\n",
 *   that cannot end early or be followed by one the value wrote.  Line
 *   breaks and tabs in the value become spaces (a value is one logical
 *   line, as after unfolding), other controls are shown escaped as for
 *   the terminal, non-ASCII words are RFC 2047 encoded-words (UTF-8, B),
 *   and the field is folded so no line is over 78 columns (RFC 5322).
 *   Address fields (From, Sender, Reply-To, To, Cc, Bcc and their
 *   Resent- forms) take only a list of plain addr-specs
 *   (local@domain, separated by commas); any other value is refused and
 *   nothing is written.
 *
 * - HTML (ew_esc_html): text for an element's content or a quoted
 *   attribute value ("..." or '...'; never unquoted): & < > " ' as
 *   character references, controls and bidi characters shown escaped as
 *   for the terminal (tab and newline kept), invalid UTF-8 as U+FFFD.
 *
 * Library code: nothing here prints.  Each function appends to an
 * ew_buf (whose allocation failure is sticky, see buf.h).
 */
#ifndef EW_LIB_ESC_H
#define EW_LIB_ESC_H

#include <stddef.h>
#include <stdint.h>

struct ew_buf;

/*
 * The length of the valid UTF-8 character at s (n > 0 bytes left), with
 * its code point in *cp; 0 when the byte at s starts none (overlong,
 * surrogate, past U+10FFFF, cut short, or not a first byte).
 */
size_t ew_utf8_char(const char *s, size_t n, uint32_t *cp);

/* ew_esc_term flags */
#define EW_ESC_KEEP_TAB 0x1 /* pass horizontal tabs (source lines) */

/*
 * Append the n bytes at s (NUL bytes included: the length is what
 * counts) as the terminal sink shows them.
 */
void ew_esc_term(struct ew_buf *b, const char *s, size_t n, unsigned flags);
/* Whether the terminal sink escapes the character c. */
int ew_esc_unsafe(uint32_t c, unsigned flags);
/* Whether ew_esc_term would change the n bytes at s. */
int ew_esc_term_needed(const char *s, size_t n, unsigned flags);

/*
 * Append the header field `name` with the n bytes at `val` as its value,
 * encoded and folded, ending in "\n".  Returns 0; -EINVAL when name is
 * not a field name (printable ASCII but ':', 1 to 76 characters);
 * -EBADMSG when name is an address field and the value is not a list of
 * plain addr-specs.  On error nothing is appended.
 */
int ew_esc_header(
    struct ew_buf *b, const char *name, const char *val, size_t n);
/* Whether the n bytes at name name an address field (case-insensitive). */
int ew_esc_header_is_address(const char *name, size_t n);
/*
 * Whether the n bytes at s are one plain addr-spec: a dot-atom local
 * part of at most 64 characters, "@", and a domain of letter-digit-
 * hyphen labels (at most 63 each, 253 in all).  ASCII only.
 */
int ew_esc_is_addr_spec(const char *s, size_t n);

/* Append the n bytes at s escaped for HTML text or a quoted attribute. */
void ew_esc_html(struct ew_buf *b, const char *s, size_t n);

#endif
