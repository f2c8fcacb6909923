/*
 * mail_int.h - the mail module's insides, for its files and its tests.
 *
 * mime.c (the only file that sees GMime and GLib) turns the raw message
 * into a struct ew_mail: a flat list of messages (the outer one first,
 * then every message/rfc822 part met on the walk) with their headers,
 * and a flat list of leaf parts, each decoded to bytes (text parts to
 * UTF-8) and tagged with the message it belongs to.  extract.c and
 * xarf.c read only that, so they are plain C and fuzzable without GMime.
 */
#ifndef EW_MAIL_INT_H
#define EW_MAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "mail/mail.h"

struct ew_buf;
struct ew_diag_list;

struct ew_mail_hdrs {
	char *from;       /* mailbox address, or NULL */
	char *reply_to;   /* mailbox address, or NULL */
	char *message_id; /* without angle brackets, or NULL */
	char *subject;    /* decoded to UTF-8, or NULL */
	char *date;       /* the Date header as written, or NULL */
	char *headers;    /* the whole header block, or NULL */
	unsigned depth;   /* 0 for the outer message */
};

struct ew_mail_part {
	char *ctype;    /* lowercase "type/subtype" */
	char *filename; /* or NULL */
	char *data;     /* decoded contents, NUL-terminated */
	size_t len;
	size_t msg; /* index into ew_mail.msgs */
};

struct ew_mail {
	struct ew_mail_hdrs *msgs;
	size_t nmsgs;
	struct ew_mail_part *parts;
	size_t nparts;
};

/* mime.c: 0, or -1 with an error record in d. */
int ew_mime_parse(
    const char *data, size_t len, struct ew_diag_list *d, struct ew_mail *out);
void ew_mail_clear(struct ew_mail *m);
/* mime.c (GLib's checksum): the hex SHA-256 of data into out. */
void ew_mail_sha256(const char *data, size_t len, char out[65]);

/* A time as extracted: see enum ew_zone_source in mail.h. */
struct ew_mtime {
	int64_t t, from, to;
	int has_t, has_from, has_to;
	enum ew_zone_source zs;
	int off; /* the offset applied, minutes east of UTC */
};

#define EW_MAIL_ADDRLEN (EW_ADDR_STRLEN + 4)

struct ew_incident {
	char src[EW_MAIL_ADDRLEN]; /* address or CIDR; "" = none */
	long src_port;             /* -1 = none */
	char dst[EW_MAIL_ADDRLEN]; /* "" = none */
	char dst_host[256];        /* host name the destination was named by
				      ("irc.example.net"); "" = none */
	char *ports;               /* "6667,6660-7000" or NULL; owned */
	struct ew_mtime tm;
};

struct ew_complaint {
	const char *format;     /* static string */
	const char *category;   /* static string, or NULL */
	const char *confidence; /* "high", "medium", "low" */
	char *reporter, *forwarder, *message_id, *subject;
	char *ticket; /* the forwarder's ticket number, or NULL */
	int64_t date, deadline;
	int has_date, has_deadline;
	struct ew_incident *inc;
	size_t ninc, cap;
	int overflow;    /* more than EW_MAIL_MAX_INCIDENTS */
	char sha256[65]; /* hex digest of the raw input */
	char *owned;     /* wire.c: format, category and confidence of a
			    decoded complaint, or NULL */
};

/* Add a copy of *in (taking its ports string); -1 on limit or OOM. */
int ew_complaint_add(struct ew_complaint *c, struct ew_incident *in);

/*
 * extract.c helpers, exported for the unit tests.
 *
 * ew_mail_time_parse: one date-time at s (n bytes, surrounding blanks
 * allowed): RFC 5322 ("Fri, 31 Jan 2014 07:19:02 +0100 (CET)", obsolete
 * zone names), ISO 8601 / RFC 3339 (fractions dropped), "YYYY-MM-DD
 * HH:MM:SS" (zone assumed UTC, as Shadowserver documents), with optional
 * trailing zone name or offset.  0 on success.
 */
int ew_mail_time_parse(const char *s, size_t n, struct ew_mtime *out);
/* The same, for a time starting exactly at s with anything after it:
 * the number of bytes used, 0 when no time starts there. */
size_t ew_mail_time_at(const char *s, size_t n, struct ew_mtime *out);
/* Undo defanging ("1.2.3[.]4", "hxxp", "[:]", "[dot]") into out. */
void ew_mail_refang(const char *s, size_t n, struct ew_buf *out);
/*
 * A deadline stated in text ("within 24 hours", "disconnected in 12
 * hours", "by 2026-11-23 18:00 UTC") relative to `base`.  Returns 1 and
 * sets *out for the earliest one found, 0 if none.
 */
int ew_mail_deadline(
    const char *s, size_t n, int64_t base, int has_base, int64_t *out);
/*
 * The port list after "port"/"ports" in s ("ports 6660-7000, 8888 and
 * 8080"), appended to out as "6660-7000,8888,8080" (deduplicated).
 * Returns the number of items added.
 */
size_t ew_mail_ports(const char *s, size_t n, struct ew_buf *out);

/* Free-text extraction over every text part of m. */
int ew_extract_text(struct ew_complaint *c, const struct ew_mail *m);
/* ARF (message/feedback-report): 1 when found and used, 0 if absent. */
int ew_extract_arf(struct ew_complaint *c, const struct ew_mail *m);
int ew_extract_spamcop(struct ew_complaint *c, const struct ew_mail *m);
/* X-ARF 0.1/0.2 YAML part: 1 when found and used, 0 if absent. */
int ew_extract_xarf_yaml(struct ew_complaint *c, const struct ew_mail *m);
/* The earliest deadline stated in any text part, into c. */
void ew_extract_deadline(struct ew_complaint *c, const struct ew_mail *m);
/*
 * A ticket number named in s ("[Ticket#2026112210000123]", "Case
 * 12345", "CSIRT#2015092310000001", "Ticket: AB-77"), allocated; NULL if
 * none.
 */
char *ew_mail_ticket(const char *s, size_t n);
/* Guess a category from free text; static string or NULL. */
const char *ew_mail_category(const char *s, size_t n);

/*
 * xarf.c: XARF JSON v1-v4 (jansson).  1 when `data` is an XARF JSON
 * document and incidents were added, 0 when it is not XARF JSON, -1 on a
 * limit.
 */
int ew_extract_xarf_json(struct ew_complaint *c, const char *data, size_t len);

/*
 * archive.c: call fn(arg, name, data, len) for each regular file of the
 * zip at data; stops at fn's first nonzero result and returns it.  -1
 * when the data is not a readable zip, -2 past the limits below.
 */
#define EW_UNZIP_MAX_FILES 64
#define EW_UNZIP_MAX_BYTES (256u * 1024 * 1024)
typedef int (*ew_unzip_fn)(
    void *arg, const char *name, const char *data, size_t len);
int ew_unzip(const char *data, size_t len, ew_unzip_fn fn, void *arg);

/*
 * acns.c: ACNS <Infringement> XML documents in text or XML parts.  1
 * when incidents were read, 0 when there are none, -1 on a limit.
 */
int ew_extract_acns(struct ew_complaint *c, const struct ew_mail *m);

/*
 * csv.c: a Shadowserver-style CSV report (header row; ip or src_ip,
 * port or src_port, dst_ip, dst_port, timestamp in UTC).  `name` is the
 * file name (it carries the report type).  1 when incidents were read,
 * 0 when it is not such a CSV, -1 on a limit.
 */
int ew_extract_csv(
    struct ew_complaint *c, const char *name, const char *data, size_t len);

#endif
