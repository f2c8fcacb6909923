/*
 * mail_int.h - the mail module's insides, for its files and its tests.
 *
 * mime.c (the only file that sees GMime and GLib) turns the raw message
 * into a struct ew_mail: a flat list of messages (the outer one first,
 * then every message/rfc822 part met on the walk) with their headers,
 * and a flat list of leaf parts, each decoded to bytes (text parts to
 * UTF-8) and tagged with the message it belongs to.  The readers
 * (the text reader of text_int.h, fields.c's ARF and X-ARF, xarf.c ...)
 * read only that, so they are plain C and fuzzable without GMime.
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

/* mime.c: 0, or -1 with an error record in d.  c (may be NULL) is the
 * complaint whose time budget the walk draws on; when that is spent the
 * walk fails without a record (c->over says why; the caller reports). */
int ew_mime_parse(const char *data, size_t len, struct ew_complaint *c,
    struct ew_diag_list *d, struct ew_mail *out);
void ew_mail_clear(struct ew_mail *m);

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

/*
 * A note for --explain: one fact (static word: "source", "destination",
 * "dst_host", "ports", "time", "deadline", "reporter", "forwarder",
 * "incidents"), its value, the rule that fired (static), where it was
 * ("part 2 line 14") and the words there.  At most EW_MAIL_MAX_NOTES per
 * complaint; the rest are counted in notes_dropped.
 */
#define EW_MAIL_MAX_NOTES 256
struct ew_note {
	const char *fact, *rule;
	char *value, *where, *words;
};

/* An address or netblock of the relay's own (ew_complaint_opts.ours). */
struct ew_own {
	struct ew_addr a;
	int plen;
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
	struct ew_note *notes;
	size_t nnotes, notes_dropped;
	int64_t received; /* when the mail was received (has_received) */
	int has_received;
	struct ew_own *ours; /* the relay's own addresses, from the options */
	size_t nours;
	uint64_t steps; /* work done by the text reader (tests bound it) */
	char *owned;    /* wire.c: format, category and confidence of a
			   decoded complaint, or NULL */
	/* the per-mail budgets (cpl.c) */
	uint64_t inflated, inflate_max; /* bytes decompressed, the limit */
	int64_t t0, time_max;           /* clock at parse start, limit (ms) */
	int64_t (*clock)(void *arg);    /* monotonic milliseconds */
	void *clock_arg;
	unsigned budget_checks; /* calls of ew_complaint_over_budget */
	int over;               /* enum ew_over, sticky */
	char *why;              /* a reader's located refusal, or NULL */
};

/*
 * cpl.c: the complaint object every reader fills.  It calls no other
 * file of src/mail; the readers call it, never complaint.c.
 */

/*
 * Add a note (copies value, where and words; words is cut to about 100
 * bytes around its middle).  Never fails: past the limit or out of
 * memory the note is only counted.
 */
void ew_complaint_note(struct ew_complaint *c, const char *fact,
    const char *value, const char *rule, const char *where, const char *words,
    size_t wlen);
/* Is a an address of the relay's own (c->ours)? */
int ew_complaint_is_ours(
    const struct ew_complaint *c, const struct ew_addr *a, int plen);

/*
 * The per-mail budgets.  Every loop whose length a sender sets (per
 * part, per row, per line, per record, per decompressed chunk) calls
 * ew_complaint_over_budget and stops when it returns nonzero; the
 * parse then fails with "took longer than N s: refused".  All
 * decompression in one mail draws from one byte budget through
 * ew_complaint_inflate.  Both are sticky: once over, always over.
 */
enum ew_over { EW_OVER_NONE = 0, EW_OVER_TIME, EW_OVER_INFLATE };
int ew_complaint_over_budget(struct ew_complaint *c);
/*
 * How many of the next `want` decompressed bytes the budget allows
 * (decompress at most that many, then count them with
 * ew_complaint_inflated); 0 when it is spent, c->over then set.  So the
 * bytes inflated never pass the budget; a mail that would need all of it
 * is refused.
 */
size_t ew_complaint_inflate_room(struct ew_complaint *c, size_t want);
void ew_complaint_inflated(struct ew_complaint *c, size_t n);
/* A reader refuses the mail: the first reason given is reported.
 * Returns -1, for "return ew_complaint_refuse(c, ...);". */
int ew_complaint_refuse(struct ew_complaint *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add a copy of *in (taking its ports string); -1 on limit or OOM. */
int ew_complaint_add(struct ew_complaint *c, struct ew_incident *in);

/*
 * Helpers of the text readers (mtime.c, scan.c, ports.c, deadline.c,
 * facts.c), exported for the unit tests.
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
/*
 * A time in context.  ref (has_ref) gives the year of year-less times
 * ("Nov 17 02:41:07": the latest such time not two days after ref);
 * with clock_ok and has_day a bare clock ("06:02 UTC") is read on the
 * UTC day that starts at `day`.  A time that states no zone is read in
 * the zone the context gives: off (minutes east of UTC) with zs
 * EW_ZONE_NAMED or EW_ZONE_OFFSET when the text stated it ("All times
 * are CET"), or EW_ZONE_ASSUMED (the message's own zone, a guess).
 */
struct ew_tctx {
	int64_t ref, day;
	int has_ref, has_day, clock_ok;
	int off;
	enum ew_zone_source zs;
};
size_t ew_mail_time_ctx(
    const char *s, size_t n, const struct ew_tctx *cx, struct ew_mtime *out);
/* A zone at s ("UTC", "CET", "+0100", "UTC+1", "(CET)", "Central
 * European Time"): its length and offset, 0 if none. */
size_t ew_mail_zone(const char *s, size_t n, int *off, enum ew_zone_source *zs);
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
 * facts.c: a ticket number named in s ("[Ticket#2026112210000123]", "Case
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
 * when the data is not a readable zip, -2 past EW_UNZIP_MAX_FILES, -3
 * when the mail's decompression or time budget is spent (c->over says
 * which).  Every byte inflated is drawn from c's budget.
 */
#define EW_UNZIP_MAX_FILES 64
typedef int (*ew_unzip_fn)(
    void *arg, const char *name, const char *data, size_t len);
int ew_unzip(struct ew_complaint *c, const char *data, size_t len,
    ew_unzip_fn fn, void *arg);
/* archive.c: gzip data into out (reset first): 0, -1 when it is not
 * gzip or is corrupt, -3 past the budgets (as ew_unzip). */
int ew_gunzip(
    struct ew_complaint *c, const char *data, size_t len, struct ew_buf *out);

/*
 * acns.c: ACNS <Infringement> XML documents in text or XML parts.  1
 * when incidents were read, 0 when there are none, -1 on a limit.
 */
int ew_extract_acns(struct ew_complaint *c, const struct ew_mail *m);

/*
 * dmarc.c: a DMARC aggregate report (RFC 7489 appendix C), already
 * decompressed; `where` names it for errors ("part 2 'x.xml.gz'").  1
 * when it is one (incidents are the records that failed DMARC), 0 when
 * the XML is not a report, -1 when the mail is refused (the reason in
 * c) or on a limit.
 */
int ew_extract_dmarc(
    struct ew_complaint *c, const char *where, const char *data, size_t len);
/* iodef.c: IODEF v1 / v2 documents in XML parts or inline; as above. */
int ew_extract_iodef(struct ew_complaint *c, const struct ew_mail *m);
/* fail2ban.c: the mail, mail-whois(-lines) and complain actions. */
int ew_extract_fail2ban(struct ew_complaint *c, const struct ew_mail *m);
/* fail2ban.c, for the tests: the ports of a fail2ban jail or a syslog
 * program name ("sshd" -> "22"), static, or NULL when not standard. */
const char *ew_fail2ban_ports(const char *jail, size_t n);

/*
 * csv.c: a Shadowserver-style CSV report (header row; ip or src_ip,
 * port or src_port, dst_ip, dst_port, timestamp in UTC).  `name` is the
 * file name (it carries the report type).  1 when incidents were read,
 * 0 when it is not such a CSV, -1 on a limit.
 */
int ew_extract_csv(
    struct ew_complaint *c, const char *name, const char *data, size_t len);

#endif
