/*
 * schema.c - the store's schema, as an embedded list of migrations.
 *
 * No table holds traffic the relay observed: the store keeps only what
 * complainants sent us (complaints and the incidents they describe) and
 * what the operator decided (tickets, rules, the policy versions
 * applied).  Nothing is recorded about connections the exit carried.
 *
 * complaints        one received complaint mail.
 *   id              integer primary key
 *   message_id      the Message-ID, or NULL (schema 1-4: unique; from
 *                   schema 5 not: anyone can write any Message-ID)
 *   content_sha256  hex SHA-256 of the raw message, unique
 *   content_key     hex SHA-256 of the message without its delivery
 *                   trace (Received:, Delivered-To:, ...; schema 5): a
 *                   re-sent complaint is recognised by either digest,
 *                   never by its Message-ID alone
 *   reuses_message_id  the earlier complaint whose Message-ID this one
 *                   carries with other content, or NULL (schema 5)
 *   reporter        who complains (the abuse desk, the victim)
 *   forwarder       who forwarded it to us (the hosting provider), or NULL
 *   format          the parser that read it ("arf", "xarf", "text", ...)
 *   category        the kind of abuse, or NULL
 *   received_at     when we received it
 *   date            the mail's Date, or NULL
 *   deadline        the forwarder's deadline, or NULL
 *   raw_size        the raw message's size in bytes
 *   subject         the subject line, or NULL (schema 3)
 *   forwarder_ticket the forwarder's ticket number, or NULL (schema 3)
 *
 * incidents         one event a complaint reports; deleted with it.
 *   complaint_id    -> complaints.id
 *   src, src_port   the address (one of ours, or not) and port they name
 *   dst             the destination, or NULL
 *   dst_ports_unread  NULL (schema 7; before: dst_ports, the port list
 *                   as text), except for a list an older schema kept
 *                   that is not one
 *   time            a single time, or NULL
 *   time_from/_to   an interval, or NULL
 *   zone_source     how the time zone was decided, or NULL
 *   dst_host        the host name the destination was given as, or NULL
 *                   (schema 5; resolved when blocks are proposed)
 *   verdict         1 allowed, 2 blocked, 3 not ours, 4 unknown, or NULL
 *                   (not judged yet) -- against the policy history below
 *                   (schema 1-6: the words, as text)
 *
 * incident_ports    an incident's destination ports (schema 7), one row
 *                   per range, deleted with it:
 *   incident_id, seq  -> incidents.id, and the range's place in the list
 *   lo, hi          the range, 1 <= lo <= hi <= 65535
 *
 * tickets           the operator's case for one reporter / incident group.
 *   reporter, opened_at, due_at (NULL: none), status 'open' / 'closed',
 *   reason (why it was closed, or NULL), category (the kind of abuse its
 *   complaints are about, or NULL; schema 4)
 *
 * ticket_complaints the complaints a ticket covers (each at most once).
 *
 * rules             a block the operator added to the managed policy.
 *   ticket_id       -> tickets.id, or NULL
 *   rule_text       the policy line, reason, expires_at (NULL: never),
 *   added_at, removed_at (NULL: still in the policy); a ticket has a
 *   rule text in force at most once (schema 5)
 *
 * policy_versions   every policy applied, with the time range it was in
 *                   force: digest, text, applied_from,
 *                   applied_to (NULL: in force now).  A policy applied
 *                   again later is a new period (a new row).  Incidents
 *                   are judged
 *                   against the version in force at their time.
 *
 * policy_versions.relay, rules.relay (schema 9): the relay a version
 *                   was applied to ('' the host's only relay) and the
 *                   relay a block is for (NULL: every relay).
 *
 * repair_counts     (schema 9) what the daemon repaired, per relay ('':
 *                   the only relay, or the table of all): a count and
 *                   the time of the last; nothing else.
 *
 * rules.origin, rules.guard (schema 6): 'surge' and the guard's name
 *                   for a block the surge guard added (NULL otherwise).
 *
 * guard_counts      per guard, aggregate counts only: surges blocked,
 *                   surges not blocked because a cap was reached
 *                   (capped) or the destination is on the allow list
 *                   (allowed).  No address, no time, nothing per
 *                   connection.
 *
 * rules.pending, rules.private (schema 10): 1 for a block that waits
 *                   for the operator's confirmation (a self-service
 *                   request under `serve --confirm`; not in the managed
 *                   policy until confirmed), and for one the notice page
 *                   does not show; NULL otherwise.  rules.origin
 *                   'self-service': a block a requester asked for from
 *                   the address it covers (`serve`, /block).
 *
 * web_tokens        the form tokens of `serve` already used (schema 10):
 *   id              the token's random part (hex), primary key
 *   expires_at      when the token would have expired anyway (the row
 *                   is pruned after it).  No address, nothing else.
 *
 * store_rev (schema 11) one row: the store's revision.  Every writing
 *                   transaction adds one to it first (the row lock
 *                   serialises writers, so revisions are in commit
 *                   order), and the rules it adds or removes carry it:
 *   rules.rev       the revision of the rule's last change, so a host
 *                   that holds revision R reads what changed after R
 *                   (ew_store_rules_since) and can miss no late commit.
 *
 * The fleet (schema 12, issue 14): one desk, many hosts, one store.
 * hosts             an exit host: name (primary key), role (the
 *                   PostgreSQL role it connects as, unique), added_at.
 * relays            a relay on a host: fp (fingerprint, primary key),
 *                   nickname, host (-> hosts.name), instance (its name
 *                   on the host, as rules.relay and --relay name it;
 *                   unique per host), added_at.
 * relay_addrs       a relay's exit addresses over time: fp, addr,
 *                   valid_from, valid_to (NULL: still).
 * rules.host        a block's scope: NULL and relay NULL the whole
 *                   fleet; host set and relay NULL every relay of that
 *                   host; both set one relay of that host.  (host NULL,
 *                   relay set: that relay name wherever it runs, what a
 *                   single host's store has always meant.)
 * applies           what a host's relay applied: host, relay ('' the
 *                   table of all), digest of what it applied, rev (the
 *                   store revision it had pulled up to), applied_at, ok
 *                   (1, or 0 with error).  Reports, not decisions: they
 *                   do not move the revision.
 *   applies.uid     (schema 13) the report's unique id, or NULL: a host
 *                   queues reports in its outbox while the store is
 *                   unreachable and replays them; a replay twice stores
 *                   once (INSERT OR IGNORE on the unique uid).
 *   applies.outbox  how many reports the host still had queued then.
 * host_blocks       (schema 14) a host's own emergency block: uid (the
 *                   random id it was queued under, unique), host,
 *                   rule_text, reason, expires_at (NULL: never),
 *                   added_at (on the host), removed_at (the desk removed
 *                   or adopted it; NULL: in force), rule_id (-> rules.id:
 *                   the fleet block it was adopted as), rev (the desk's
 *                   revision of that change; 0 as the host stored it).
 *   applies.blocks  (schema 14) digest of the block set the host
 *                   enforced (its rules' ids and its emergency blocks'
 *                   uids), or NULL; applies.repairs its self-repairs
 *                   since its daemon started.
 * policy_versions.host (schema 15) the fleet host that applied the
 *                   version (relay: its instance there, '' its table
 *                   of all), or NULL: the store's own host (the desk,
 *                   a single host).  Each (host, relay) is a timeline.
 *
 * Migrations only ever append: never edit one that has shipped.  Both
 * back ends run the same list: write new ones in the SQL that SQLite and
 * PostgreSQL share (pg.c translates ? placeholders, INTEGER, INTEGER
 * PRIMARY KEY, BLOB, INSERT OR IGNORE and `IS ?`; no table rebuilds, no
 * GLOB, no instr).  ew_store_pg_migration() holds the PostgreSQL form of
 * the two old ones that could not be written so (5 and 7).
 */
#include <stddef.h>

#include "store/store_int.h"

static const char m1[] =
    "CREATE TABLE complaints ("
    " id INTEGER PRIMARY KEY,"
    " message_id TEXT UNIQUE,"
    " content_sha256 TEXT NOT NULL UNIQUE,"
    " reporter TEXT NOT NULL,"
    " forwarder TEXT,"
    " format TEXT NOT NULL,"
    " category TEXT,"
    " received_at INTEGER NOT NULL,"
    " date INTEGER,"
    " deadline INTEGER,"
    " raw_size INTEGER NOT NULL CHECK (raw_size >= 0));"
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " complaint_id INTEGER NOT NULL"
    "  REFERENCES complaints(id) ON DELETE CASCADE,"
    " src TEXT NOT NULL,"
    " src_port INTEGER CHECK (src_port BETWEEN 0 AND 65535),"
    " dst TEXT,"
    " dst_ports TEXT,"
    " time INTEGER,"
    " time_from INTEGER,"
    " time_to INTEGER,"
    " zone_source TEXT,"
    " verdict TEXT CHECK (verdict IN"
    "  ('allowed', 'blocked', 'not ours', 'unknown')));"
    "CREATE TABLE tickets ("
    " id INTEGER PRIMARY KEY,"
    " reporter TEXT NOT NULL,"
    " opened_at INTEGER NOT NULL,"
    " due_at INTEGER,"
    " status TEXT NOT NULL DEFAULT 'open'"
    "  CHECK (status IN ('open', 'closed')),"
    " reason TEXT);"
    "CREATE TABLE ticket_complaints ("
    " ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,"
    " complaint_id INTEGER NOT NULL"
    "  REFERENCES complaints(id) ON DELETE CASCADE,"
    " PRIMARY KEY (ticket_id, complaint_id));"
    "CREATE TABLE rules ("
    " id INTEGER PRIMARY KEY,"
    " ticket_id INTEGER REFERENCES tickets(id),"
    " rule_text TEXT NOT NULL,"
    " reason TEXT,"
    " expires_at INTEGER,"
    " added_at INTEGER NOT NULL,"
    " removed_at INTEGER);"
    "CREATE TABLE policy_versions ("
    " id INTEGER PRIMARY KEY,"
    " digest TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " applied_from INTEGER NOT NULL,"
    " applied_to INTEGER CHECK (applied_to IS NULL"
    "  OR applied_to > applied_from));";

/* The lookups the workflow makes: by complaint, by due time, by time. */
static const char m2[] =
    "CREATE INDEX incidents_complaint ON incidents(complaint_id);"
    "CREATE INDEX ticket_complaints_complaint"
    " ON ticket_complaints(complaint_id);"
    "CREATE INDEX tickets_due ON tickets(status, due_at);"
    "CREATE INDEX rules_ticket ON rules(ticket_id);"
    "CREATE INDEX policy_versions_from ON policy_versions(applied_from);";

/* What a reply quotes back: the subject and the forwarder's number. */
static const char m3[] =
    "ALTER TABLE complaints ADD COLUMN subject TEXT;"
    "ALTER TABLE complaints ADD COLUMN forwarder_ticket TEXT;"
    "CREATE INDEX tickets_reporter ON tickets(reporter, status);";

/* A ticket is one reporter's case about one kind of abuse. */
static const char m4[] = "ALTER TABLE tickets ADD COLUMN category TEXT;";

/*
 * Duplicates by content, not by Message-ID: the complaints table is
 * rebuilt without the UNIQUE on message_id (SQLite cannot drop one in
 * place; run with foreign keys off so the drop cascades to nothing),
 * with the trace-free digest and the Message-ID reuse flag.  Incidents
 * keep the host name a destination was named by.  A ticket holds each
 * rule text in force once: duplicates an earlier `ticket block` made are
 * marked removed when they were added, so they never counted.
 */
#define M5_REBUILD                                                             \
	"CREATE TABLE complaints_v5 ("                                         \
	" id INTEGER PRIMARY KEY,"                                             \
	" message_id TEXT,"                                                    \
	" content_sha256 TEXT NOT NULL UNIQUE,"                                \
	" reporter TEXT NOT NULL,"                                             \
	" forwarder TEXT,"                                                     \
	" format TEXT NOT NULL,"                                               \
	" category TEXT,"                                                      \
	" received_at INTEGER NOT NULL,"                                       \
	" date INTEGER,"                                                       \
	" deadline INTEGER,"                                                   \
	" raw_size INTEGER NOT NULL CHECK (raw_size >= 0),"                    \
	" subject TEXT,"                                                       \
	" forwarder_ticket TEXT,"                                              \
	" content_key TEXT NOT NULL,"                                          \
	" reuses_message_id INTEGER CHECK (reuses_message_id > 0));"           \
	"INSERT INTO complaints_v5 (id, message_id, content_sha256, reporter," \
	" forwarder, format, category, received_at, date, deadline, raw_size," \
	" subject, forwarder_ticket, content_key)"                             \
	" SELECT id, message_id, content_sha256, reporter, forwarder, format," \
	" category, received_at, date, deadline, raw_size, subject,"           \
	" forwarder_ticket, content_sha256 FROM complaints;"                   \
	"DROP TABLE complaints;"                                               \
	"ALTER TABLE complaints_v5 RENAME TO complaints;"

/* PostgreSQL drops the constraint in place (it never had the data). */
#define M5_PG                                                                  \
	"ALTER TABLE complaints DROP CONSTRAINT complaints_message_id_key;"    \
	"ALTER TABLE complaints ADD COLUMN content_key TEXT;"                  \
	"UPDATE complaints SET content_key = content_sha256;"                  \
	"ALTER TABLE complaints ALTER COLUMN content_key SET NOT NULL;"        \
	"ALTER TABLE complaints ADD COLUMN reuses_message_id INTEGER"          \
	" CHECK (reuses_message_id > 0);"

#define M5_REST                                                                \
	"CREATE INDEX complaints_message_id ON complaints(message_id);"        \
	"CREATE INDEX complaints_content_key ON complaints(content_key);"      \
	"ALTER TABLE incidents ADD COLUMN dst_host TEXT"                       \
	" CHECK (dst_host IS NULL OR length(dst_host) BETWEEN 1 AND 253);"     \
	"UPDATE rules SET removed_at = added_at WHERE removed_at IS NULL"      \
	" AND id NOT IN (SELECT min(id) FROM rules WHERE removed_at IS NULL"   \
	" GROUP BY coalesce(ticket_id, 0), rule_text);"                        \
	"CREATE UNIQUE INDEX rules_in_force"                                   \
	" ON rules(coalesce(ticket_id, 0), rule_text) WHERE removed_at IS "    \
	"NULL;"

static const char m5[] = M5_REBUILD M5_REST;
static const char m5_pg[] = M5_PG M5_REST;

/* The surge guard (issue 11): where a block came from, and counts. */
static const char m6[] =
    "ALTER TABLE rules ADD COLUMN origin TEXT;"
    "ALTER TABLE rules ADD COLUMN guard TEXT;"
    "CREATE INDEX rules_origin ON rules(origin, removed_at);"
    "CREATE TABLE guard_counts ("
    " guard TEXT PRIMARY KEY,"
    " surges INTEGER NOT NULL DEFAULT 0,"
    " capped INTEGER NOT NULL DEFAULT 0,"
    " allowed INTEGER NOT NULL DEFAULT 0);";

/*
 * Typed ports and verdicts (issue 12): an incident's ports are rows of
 * incident_ports (lo-hi, in the order given), read once from the text
 * the older schemas kept; a list that is not one (nothing exitwarden
 * wrote) stays as it was in dst_ports_unread.  The verdict is a number,
 * 1 allowed, 2 blocked, 3 not ours, 4 unknown (enum
 * ew_store_verdict).
 */
#define M7_TABLE                                                               \
	"CREATE TABLE incident_ports ("                                        \
	" incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE "    \
	"CASCADE,"                                                             \
	" seq INTEGER NOT NULL CHECK (seq >= 0),"                              \
	" lo INTEGER NOT NULL CHECK (lo BETWEEN 1 AND 65535),"                 \
	" hi INTEGER NOT NULL CHECK (hi BETWEEN lo AND 65535),"                \
	" PRIMARY KEY (incident_id, seq)) WITHOUT ROWID;"

/* SQLite only: the old text lists to rows (no PostgreSQL store has any:
 * PostgreSQL support begins after schema 7). */
#define M7_CONVERT                                                             \
	"WITH RECURSIVE split(id, seq, item, rest) AS ("                       \
	" SELECT id, -1, NULL, dst_ports || ',' FROM incidents"                \
	" WHERE dst_ports IS NOT NULL AND dst_ports <> ''"                     \
	" UNION ALL"                                                           \
	" SELECT id, seq + 1, substr(rest, 1, instr(rest, ',') - 1),"          \
	" substr(rest, instr(rest, ',') + 1) FROM split WHERE rest <> ''),"    \
	" parsed(id, seq, lo, hi, good) AS ("                                  \
	" SELECT id, seq,"                                                     \
	" CAST(substr(item, 1, instr(item || '-', '-') - 1) AS INTEGER),"      \
	" CAST(substr(item, instr(item, '-') + 1) AS INTEGER),"                \
	" item GLOB '[0-9]*' AND item NOT GLOB '*[^0-9-]*'"                    \
	" AND item NOT GLOB '*-*-*' AND item NOT GLOB '*-'"                    \
	" FROM split WHERE seq >= 0)"                                          \
	"INSERT INTO incident_ports (incident_id, seq, lo, hi)"                \
	" SELECT id, seq, lo, hi FROM parsed WHERE id NOT IN"                  \
	" (SELECT id FROM parsed WHERE NOT good OR lo NOT BETWEEN 1 AND 65535" \
	" OR hi NOT BETWEEN lo AND 65535);"

#define M7_REST                                                                \
	"ALTER TABLE incidents RENAME COLUMN dst_ports TO dst_ports_unread;"   \
	"UPDATE incidents SET dst_ports_unread = NULL WHERE dst_ports_unread " \
	"= ''"                                                                 \
	" OR id IN (SELECT incident_id FROM incident_ports);"                  \
	"ALTER TABLE incidents ADD COLUMN judged INTEGER"                      \
	" CHECK (judged BETWEEN 1 AND 4);"                                     \
	"UPDATE incidents SET judged = CASE verdict WHEN 'allowed' THEN 1"     \
	" WHEN 'blocked' THEN 2 WHEN 'not ours' THEN 3 WHEN 'unknown' THEN 4 " \
	"END;"                                                                 \
	"ALTER TABLE incidents DROP COLUMN verdict;"                           \
	"ALTER TABLE incidents RENAME COLUMN judged TO verdict;"

static const char m7[] = M7_TABLE M7_CONVERT M7_REST;
static const char m7_pg[] = M7_TABLE M7_REST;

/*
 * Schema 8 was set aside for block add/list/remove (issue 13), which
 * landed without needing a migration (the rules table's origin column
 * of schema 6 holds 'manual'): a no-op, so the numbers of 9-11 stand.
 */
static const char m8[] = "SELECT 1;";

/*
 * Several relays on one host (issue 13): each relay its own policy
 * history (policy_versions.relay; '' is the host's only relay, what
 * every version before schema 9 was), and a block for one relay only
 * (rules.relay; NULL: every relay, what every block before was).  A
 * rule text is in force once per ticket and relay.
 */
static const char m9[] =
    "ALTER TABLE policy_versions ADD COLUMN relay TEXT NOT NULL DEFAULT ''"
    " CHECK (length(relay) <= 64);"
    "CREATE INDEX policy_versions_relay"
    " ON policy_versions(relay, applied_to);"
    "ALTER TABLE rules ADD COLUMN relay TEXT"
    " CHECK (relay IS NULL OR length(relay) BETWEEN 1 AND 64);"
    "DROP INDEX rules_in_force;"
    "CREATE UNIQUE INDEX rules_in_force ON rules(coalesce(ticket_id, 0),"
    " coalesce(relay, ''), rule_text) WHERE removed_at IS NULL;"
    "CREATE TABLE repair_counts ("
    " relay TEXT NOT NULL CHECK (length(relay) <= 64),"
    " what TEXT NOT NULL CHECK (what IN ('tor drift', 'table missing',"
    "  'tor back')),"
    " n INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),"
    " last_at INTEGER,"
    " PRIMARY KEY (relay, what));";

/*
 * The web face (issue 15): a block may wait for the operator (pending)
 * or be left off the notice page (private); the form tokens `serve`
 * has seen used, so none is accepted twice.
 */
static const char m10[] =
    "ALTER TABLE rules ADD COLUMN pending INTEGER CHECK (pending = 1);"
    "ALTER TABLE rules ADD COLUMN private INTEGER CHECK (private = 1);"
    "CREATE TABLE web_tokens ("
    " id TEXT PRIMARY KEY,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;";

/*
 * The revision counter (issue 14: a fleet's hosts pull what changed
 * after the revision they hold).
 */
static const char m11[] =
    "CREATE TABLE store_rev (rev INTEGER NOT NULL CHECK (rev >= 0));"
    "INSERT INTO store_rev (rev) VALUES (0);"
    "ALTER TABLE rules ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX rules_rev ON rules(rev);";

/*
 * The fleet (issue 14): hosts, their relays and exit addresses, a host
 * scope for blocks, and what each relay applied.
 */
static const char m12[] =
    "CREATE TABLE hosts ("
    " name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
    " role TEXT NOT NULL UNIQUE CHECK (length(role) BETWEEN 1 AND 63),"
    " added_at INTEGER NOT NULL);"
    "CREATE TABLE relays ("
    " fp TEXT PRIMARY KEY CHECK (length(fp) = 40),"
    " nickname TEXT CHECK (nickname IS NULL OR length(nickname) <= 19),"
    " host TEXT NOT NULL REFERENCES hosts(name),"
    " instance TEXT NOT NULL CHECK (length(instance) BETWEEN 1 AND 64),"
    " added_at INTEGER NOT NULL,"
    " UNIQUE (host, instance));"
    "CREATE TABLE relay_addrs ("
    " fp TEXT NOT NULL REFERENCES relays(fp),"
    " addr TEXT NOT NULL CHECK (length(addr) BETWEEN 2 AND 45),"
    " valid_from INTEGER NOT NULL,"
    " valid_to INTEGER CHECK (valid_to IS NULL OR valid_to >= valid_from),"
    " PRIMARY KEY (fp, addr, valid_from));"
    "CREATE INDEX relay_addrs_addr ON relay_addrs(addr, valid_from);"
    "ALTER TABLE rules ADD COLUMN host TEXT"
    " CHECK (host IS NULL OR length(host) BETWEEN 1 AND 63);"
    "CREATE INDEX rules_host ON rules(host, rev);"
    "DROP INDEX rules_in_force;"
    "CREATE UNIQUE INDEX rules_in_force ON rules(coalesce(ticket_id, 0),"
    " coalesce(host, ''), coalesce(relay, ''), rule_text)"
    " WHERE removed_at IS NULL;"
    "CREATE TABLE applies ("
    " id INTEGER PRIMARY KEY,"
    " host TEXT NOT NULL REFERENCES hosts(name),"
    " relay TEXT NOT NULL DEFAULT '' CHECK (length(relay) <= 64),"
    " digest TEXT NOT NULL CHECK (length(digest) BETWEEN 1 AND 128),"
    " rev INTEGER NOT NULL CHECK (rev >= 0),"
    " applied_at INTEGER NOT NULL,"
    " ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
    " error TEXT CHECK (error IS NULL OR length(error) <= 200));"
    "CREATE INDEX applies_host ON applies(host, relay, applied_at);";

/*
 * The hosts' outbox (issue 14): a report a host queued while the store
 * was unreachable carries a unique id (uid) so that replaying it twice
 * stores it once, and each report says how many more the host still
 * had queued when it was sent (outbox).
 */
static const char m13[] =
    "ALTER TABLE applies ADD COLUMN uid TEXT"
    " CHECK (uid IS NULL OR length(uid) BETWEEN 1 AND 64);"
    "ALTER TABLE applies ADD COLUMN outbox INTEGER NOT NULL DEFAULT 0"
    " CHECK (outbox >= 0);"
    "CREATE UNIQUE INDEX applies_uid ON applies(uid);";

/*
 * A host's emergency blocks and drift (issue 14): a block an operator
 * added on a host (exitwarden block add against the host's connection,
 * or with the store unreachable) takes effect there at once and is
 * queued in the host's outbox with a random unique id; replayed here
 * (INSERT OR IGNORE on uid: twice stores once) so the desk sees it,
 * adopts it as a fleet block (rule_id) or removes it (removed_at; rev
 * the desk's revision of that change, which the host reads after its
 * cursor).  A host's apply report carries the digest of the block set
 * it enforced (blocks) and how many self-repairs it made since its
 * start (repairs), for fleet status' drift.
 */
static const char m14[] =
    "CREATE TABLE host_blocks ("
    " id INTEGER PRIMARY KEY,"
    " uid TEXT NOT NULL UNIQUE CHECK (length(uid) BETWEEN 1 AND 64),"
    " host TEXT NOT NULL REFERENCES hosts(name),"
    " rule_text TEXT NOT NULL CHECK (length(rule_text) BETWEEN 1 AND 1000),"
    " reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000),"
    " expires_at INTEGER,"
    " added_at INTEGER NOT NULL,"
    " removed_at INTEGER,"
    " rule_id INTEGER REFERENCES rules(id),"
    " rev INTEGER NOT NULL DEFAULT 0 CHECK (rev >= 0));"
    "CREATE INDEX host_blocks_host ON host_blocks(host, rev);"
    "ALTER TABLE applies ADD COLUMN blocks TEXT"
    " CHECK (blocks IS NULL OR length(blocks) BETWEEN 1 AND 128);"
    "ALTER TABLE applies ADD COLUMN repairs INTEGER NOT NULL DEFAULT 0"
    " CHECK (repairs >= 0);";

/*
 * What the fleet's relays actually applied (issue 14): a host records
 * each of its relays' policy versions in the shared history, under its
 * name, so the desk judges an incident against what the relay at the
 * reported address ran, not against what the desk wanted.
 */
static const char m15[] =
    "ALTER TABLE policy_versions ADD COLUMN host TEXT"
    " CHECK (host IS NULL OR length(host) BETWEEN 1 AND 63);"
    "CREATE INDEX policy_versions_host"
    " ON policy_versions(host, relay, applied_to);";

const struct ew_store_migration ew_store_migrations[] = {
	{ 1, m1, 0 },
	{ 2, m2, 0 },
	{ 3, m3, 0 },
	{ 4, m4, 0 },
	{ 5, m5, 1 },
	{ 6, m6, 0 },
	{ 7, m7, 0 },
	{ 8, m8, 0 },
	{ 9, m9, 0 },
	{ 10, m10, 0 },
	{ 11, m11, 0 },
	{ 12, m12, 0 },
	{ 13, m13, 0 },
	{ 14, m14, 0 },
	{ 15, m15, 0 },
};
const size_t ew_store_nmigrations =
    sizeof(ew_store_migrations) / sizeof(ew_store_migrations[0]);
_Static_assert(sizeof(ew_store_migrations) / sizeof(ew_store_migrations[0]) ==
		   EW_STORE_SCHEMA_VERSION,
    "one migration per schema version");

const char *
ew_store_pg_migration(int version)
{
	switch (version) {
	case 5:
		return m5_pg;
	case 7:
		return m7_pg;
	default:
		return NULL;
	}
}
