/*
 * mail.h - complaint mails: one message in, one normalised complaint out.
 *
 * The module owns reading an abuse complaint (an RFC 5322 message, or a
 * bare XARF JSON document) and turning it into a struct ew_complaint:
 * who reported it, the message id and date, the forwarder's deadline, a
 * category, and the incidents (source address and port, destination
 * address or netblock, destination ports, time).  Nothing here acts on a
 * complaint, prints or exits: callers render it with ew_complaint_json or
 * ew_complaint_text.
 *
 * Times are UTC epoch seconds.  Each incident says where its zone came
 * from (an explicit offset, a named zone, an assumed zone, or no time at
 * all) and, when the zone or the time is vague, the interval
 * [time_from, time_to] the event must lie in.
 *
 * Hostile input is refused, not truncated: a message over
 * EW_MAIL_MAX_SIZE bytes, MIME nesting deeper than EW_MAIL_MAX_DEPTH,
 * more than EW_MAIL_MAX_PARTS parts or EW_MAIL_MAX_INCIDENTS incidents
 * makes ew_complaint_parse fail with an error record in the caller's
 * diagnostics list.  So does a mail whose attachments decompress to more
 * than EW_MAIL_MAX_INFLATE bytes in all (zip members, gzip, nested), or
 * whose reading takes longer than EW_MAIL_TIME_LIMIT_MS: both budgets
 * are per mail, and both can be set per call (struct ew_complaint_opts).
 */
#ifndef EW_MAIL_H
#define EW_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct ew_buf;
struct ew_diag_list;
struct ew_complaint;

#define EW_MAIL_MAX_SIZE (25u * 1024 * 1024)
#define EW_MAIL_MAX_DEPTH 64
#define EW_MAIL_MAX_PARTS 10000
#define EW_MAIL_MAX_INCIDENTS 1000000
#define EW_MAIL_MAX_INFLATE (256ull * 1024 * 1024)
#define EW_MAIL_TIME_LIMIT_MS 10000

/* Where an incident's time zone came from. */
enum ew_zone_source {
	EW_ZONE_NONE = 0, /* no time given */
	EW_ZONE_OFFSET,   /* an explicit numeric offset or "Z"/"UTC" */
	EW_ZONE_NAMED,    /* a zone abbreviation or name */
	EW_ZONE_ASSUMED,  /* no zone in the text: one was assumed */
};

/*
 * Parse the `len` bytes at `data` (a mail, or a bare XARF JSON object)
 * named `name` (for messages; "<stdin>" or a file name).  On success
 * returns 0 and sets *out (free with ew_complaint_free).  On refused or
 * unreadable input returns -1, leaves *out NULL and adds an error record
 * to `d`.  Warnings (e.g. a part that could not be decoded) may be added
 * on success too.
 */
int ew_complaint_parse(const char *name, const char *data, size_t len,
    struct ew_diag_list *d, struct ew_complaint **out);

void ew_complaint_free(struct ew_complaint *c);

/* What one parse spent, for tests and benchmarks. */
struct ew_complaint_stats {
	uint64_t inflated;      /* bytes decompressed */
	unsigned budget_checks; /* times the time budget was checked */
	int64_t elapsed_ms;     /* by the parse's clock */
};

/*
 * Per-call settings of ew_complaint_parse_opts; zero means default.
 *
 * received: when the mail was received (UTC seconds; has_received).  A
 * deadline is bounded by it.  When the Date of the message that states
 * a relative deadline ("within 12 hours") is implausible next to it
 * (earlier by more than EW_MAIL_DATE_SKEW_PAST, two weeks: mail can sit
 * in a queue or be added late, but not for years; or later by more
 * than EW_MAIL_DATE_SKEW_FUTURE, an hour of clock skew), the deadline
 * counts from the receive time instead.  Any deadline still outside
 * [received - EW_MAIL_DATE_SKEW_PAST, received + EW_MAIL_DEADLINE_MAX]
 * (a forged "respond by 1971-01-01" or "by 9999-12-31") is clamped: one
 * before the window becomes the receive time (due now), one after it
 * received + EW_MAIL_DEADLINE_MAX (30 days).
 *
 * ours: the relay's own addresses or netblocks as text ("192.0.2.7",
 * "2001:db8::/64"; unreadable items are ignored).  The reader cannot
 * know the relay's interfaces: an address listed here is a source
 * whatever the words around it say, never a destination.
 */
struct ew_complaint_opts {
	int64_t time_limit_ms;  /* default EW_MAIL_TIME_LIMIT_MS */
	uint64_t inflate_limit; /* default EW_MAIL_MAX_INFLATE */
	/* a monotonic clock in milliseconds (default CLOCK_MONOTONIC) */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	struct ew_complaint_stats *stats; /* filled in whatever the result */
	int64_t received;
	int has_received;
	const char *const *ours;
	size_t nours;
};
#define EW_MAIL_DATE_SKEW_PAST (14 * 86400)
#define EW_MAIL_DATE_SKEW_FUTURE 3600
#define EW_MAIL_DEADLINE_MAX (30 * 86400)

/* ew_complaint_parse with settings (o may be NULL). */
int ew_complaint_parse_opts(const char *name, const char *data, size_t len,
    const struct ew_complaint_opts *o, struct ew_diag_list *d,
    struct ew_complaint **out);
/* ew_complaint_parse for a mail received at `received` (UTC seconds). */
int ew_complaint_parse_at(const char *name, const char *data, size_t len,
    int64_t received, struct ew_diag_list *d, struct ew_complaint **out);

/*
 * Append the complaint as one JSON object (no trailing newline): format,
 * category, reporter, message_id, date, deadline, incidents[] (src,
 * src_port, dst, dst_host, dst_ports, time, time_from, time_to, zone_source),
 * confidence, and a few extra fields (subject, forwarder).
 */
void ew_complaint_json(const struct ew_complaint *c, struct ew_buf *out);

/* Append a human summary, several lines ending in a newline. */
void ew_complaint_text(const struct ew_complaint *c, struct ew_buf *out);

/*
 * --explain: why the reader found what it found.  Each note names a fact
 * ("reporter", "forwarder", "deadline", "source", "destination",
 * "neither", "dst_host", "ports", "time", "incidents"), its value, where
 * it was ("part 2 line 14", "header From"), the words there and the
 * rule that fired.  A complaint without incidents has an "incidents"
 * note saying why.
 */
struct ew_complaint_note {
	const char *fact, *value, *rule, *where, *words;
};
size_t ew_complaint_note_count(const struct ew_complaint *c);
void ew_complaint_note_get(
    const struct ew_complaint *c, size_t i, struct ew_complaint_note *out);
/* ew_complaint_json plus an "explain" array of the notes. */
void ew_complaint_json_explain(
    const struct ew_complaint *c, struct ew_buf *out);
/* The notes as text lines ("  source 192.0.2.1: part 1 line 3: ..."). */
void ew_complaint_explain_text(
    const struct ew_complaint *c, struct ew_buf *out);

/* What a complaint says of itself, borrowed from it (NULL: not given). */
struct ew_complaint_info {
	const char *format, *category, *confidence;
	const char *reporter, *forwarder, *message_id, *subject;
	const char *ticket; /* the forwarder's ticket number */
	int64_t date, deadline;
	int has_date, has_deadline;
	const char *sha256; /* hex SHA-256 of the bytes parsed */
};
void ew_complaint_info(
    const struct ew_complaint *c, struct ew_complaint_info *out);

/* One incident, borrowed from the complaint (i < count). */
struct ew_complaint_incident {
	const char *src;      /* address or CIDR, "" when none */
	long src_port;        /* -1 when none */
	const char *dst;      /* address or CIDR, "" when none */
	const char *dst_host; /* a host name the destination was given as
				 (to be resolved by whoever acts on it), ""
				 when none */
	const char *ports;    /* "6667,6660-7000", NULL when none */
	int64_t time, from, to;
	int has_time, has_from, has_to;
	enum ew_zone_source zone;
};
void ew_complaint_incident(
    const struct ew_complaint *c, size_t i, struct ew_complaint_incident *out);
/* "offset", "named", "assumed", "none". */
const char *ew_zone_source_word(enum ew_zone_source z);

/* Accessors, valid until the complaint is freed. */
const char *ew_complaint_format(const struct ew_complaint *c);
const char *ew_complaint_category(const struct ew_complaint *c);
size_t ew_complaint_incident_count(const struct ew_complaint *c);
/* The i-th incident's source as text ("" when none); i < count. */
const char *ew_complaint_incident_src(const struct ew_complaint *c, size_t i);

/*
 * A parsed complaint as bytes (appended to out), and back: the parser
 * child's answer to its parent (wire.c documents the format).  The
 * decoder takes untrusted bytes: 0 and *out, or -EBADMSG for anything
 * but a well-formed encoding (-ENOMEM).  A decoded complaint has no
 * digest (info.sha256 is ""): the reader computes it from the message.
 */
void ew_complaint_encode(const struct ew_complaint *c, struct ew_buf *out);
int ew_complaint_decode(
    const void *data, size_t len, struct ew_complaint **out);

#endif
