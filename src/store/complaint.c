/*
 * complaint.c - complaints and the incidents they report.
 *
 * A complaint is stored with all its incidents in one transaction.  A
 * re-sent complaint (the same bytes, or the same message with another
 * delivery trace) is found before anything is written and refused with
 * -EEXIST and the stored id.  The Message-ID is the sender's to choose,
 * so it decides nothing: a prank that takes a provider's predictable
 * Message-ID first cannot make the real complaint a "duplicate".  It
 * only flags the later complaint as reusing it.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/store.h"
#include "store/store_int.h"

static const char *
content_key(const struct ew_store_complaint *c)
{
	return c->content_key != NULL ? c->content_key : c->content_sha256;
}

/*
 * The id of a complaint with the same content (either digest), or 0;
 * *reused: the first one with this Message-ID, or 0.
 *
 * min(id + 0), not ORDER BY id LIMIT 1 (or min(id)): that lets
 * PostgreSQL's plan for a prepared statement (generic, made once) walk
 * the primary key in order, testing every row until one matches -- all
 * of them for a new complaint, so each check cost more than the last
 * (1.2 ms at 3,000 complaints).  `id + 0` is no index's key: the
 * digests' and the Message-ID's own indexes find the few rows.  One
 * column per lookup, never `a = ?1 OR b = ?2`: for that, a plan made
 * while the table was a few rows long (the sixth run of the statement
 * on a new store) scans the whole table, for as long as the plan lasts.
 */
static int
find_dup(struct ew_store *st, const struct ew_store_complaint *c, int64_t *id,
    int64_t *reused)
{
	struct ew_stmt *s;
	int rc;

	*id = *reused = 0;
	rc = ew_store_prep(st,
	    "SELECT (SELECT min(i) FROM (SELECT id + 0 AS i FROM complaints"
	    "  WHERE content_sha256 = ?1 UNION ALL SELECT id + 0 FROM"
	    "  complaints WHERE content_key = ?2) AS d),"
	    " (SELECT min(id + 0) FROM complaints WHERE message_id = ?3)",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, c->content_sha256);
	ew_store_bind_text(s, 2, content_key(c));
	ew_store_bind_text(s, 3, c->message_id);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*reused = ew_store_col_int64(s, 1); /* NULL reads as 0 */
		*id = ew_store_col_int64(s, 0);
		rc = 0;
	}
	ew_store_finalize(s);
	return rc;
}

/*
 * Insert the complaint unless its content is stored (the duplicate check
 * and the insert in one statement, one round trip): *id the new row's
 * id and *reused its reuses_message_id (0: none), or *id 0 when it is a
 * duplicate.  The casts type the SELECT's values for PostgreSQL; the
 * lookups are find_dup's.
 */
static int
insert_new(struct ew_store *st, const struct ew_store_complaint *c, int64_t *id,
    int64_t *reused)
{
	struct ew_stmt *s;
	int rc;

	*id = *reused = 0;
	rc = ew_store_prep(st,
	    "INSERT INTO complaints (message_id, content_sha256, reporter,"
	    " forwarder, format, category, received_at, date, deadline,"
	    " raw_size, subject, forwarder_ticket, content_key,"
	    " reuses_message_id)"
	    " SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT),"
	    " CAST(?4 AS TEXT), CAST(?5 AS TEXT), CAST(?6 AS TEXT),"
	    " CAST(?7 AS INTEGER), CAST(?8 AS INTEGER), CAST(?9 AS INTEGER),"
	    " CAST(?10 AS INTEGER), CAST(?11 AS TEXT), CAST(?12 AS TEXT),"
	    " CAST(?13 AS TEXT),"
	    " (SELECT min(id + 0) FROM complaints WHERE message_id = ?1)"
	    " WHERE (SELECT min(id + 0) FROM complaints"
	    "  WHERE content_sha256 = ?2) IS NULL"
	    " AND (SELECT min(id + 0) FROM complaints"
	    "  WHERE content_key = ?13) IS NULL"
	    " RETURNING id, reuses_message_id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_text(s, 1, c->message_id);
	ew_store_bind_text(s, 2, c->content_sha256);
	ew_store_bind_text(s, 3, c->reporter);
	ew_store_bind_text(s, 4, c->forwarder);
	ew_store_bind_text(s, 5, c->format);
	ew_store_bind_text(s, 6, c->category);
	ew_store_bind_int64(s, 7, c->received_at);
	ew_store_bind_time(s, 8, c->date);
	ew_store_bind_time(s, 9, c->deadline);
	ew_store_bind_int64(s, 10, c->raw_size);
	ew_store_bind_text(s, 11, c->subject);
	ew_store_bind_text(s, 12, c->forwarder_ticket);
	ew_store_bind_text(s, 13, content_key(c));
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*id = ew_store_col_int64(s, 0);
		*reused = ew_store_col_int64(s, 1); /* NULL reads as 0 */
		rc = *id > 0 ? 0 : -EIO;
	}
	ew_store_finalize(s);
	return rc;
}

const char *
ew_store_verdict_word(enum ew_store_verdict v)
{
	switch (v) {
	case EW_STORE_VERDICT_ALLOWED:
		return "allowed";
	case EW_STORE_VERDICT_BLOCKED:
		return "blocked";
	case EW_STORE_VERDICT_NOT_OURS:
		return "not ours";
	case EW_STORE_VERDICT_UNKNOWN:
		return "unknown";
	default:
		return NULL;
	}
}

static int
bind_verdict(struct ew_stmt *s, int i, enum ew_store_verdict v)
{
	if (v == EW_STORE_VERDICT_NONE)
		return ew_store_bind_null(s, i);
	return ew_store_bind_int64(s, i, (int)v);
}

/*
 * The two statements an incident is written with, prepared once (a
 * complaint of a million incidents prepares them once).  `later`: the
 * caller wants no id back, and both are run with ew_store_step_later
 * (a complaint's incidents go with its next statement, in one round
 * trip): the incident without RETURNING, its ports naming it as the
 * row the connection inserted last -- the incident, run just before
 * them (SQLite's last_insert_rowid(), which an insert into the WITHOUT
 * ROWID incident_ports leaves as it is; PostgreSQL's lastval(), the
 * incidents' identity, incident_ports having none).  Not the newest of
 * the complaint's incidents by max(id): read through the complaint's
 * index, that is every incident written before it, quadratic in a
 * complaint of many.
 */
struct inc_stmts {
	struct ew_stmt *inc, *port;
	int later;
};

static int
prep_incident(struct ew_store *st, struct inc_stmts *s)
{
	int rc = ew_store_prep(st,
	    s->later
		? "INSERT INTO incidents (complaint_id, src, src_port, dst,"
		  " time, time_from, time_to, zone_source, verdict,"
		  " dst_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		: "INSERT INTO incidents (complaint_id, src, src_port, dst,"
		  " time, time_from, time_to, zone_source, verdict,"
		  " dst_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		  " RETURNING id",
	    &s->inc);

	if (rc == 0)
		rc = ew_store_prep(st,
		    s->later ? "INSERT INTO incident_ports (incident_id, seq, "
			       "lo, hi)"
			       " VALUES (last_insert_rowid(), ?, ?, ?)"
			     : "INSERT INTO incident_ports (incident_id, seq, "
			       "lo, hi)"
			       " VALUES (?, ?, ?, ?)",
		    &s->port);
	return rc;
}

static void
finish_incident(struct inc_stmts *s)
{
	ew_store_finalize(s->inc);
	ew_store_finalize(s->port);
}

/* Insert one incident and its ports with the prepared statements. */
static int
insert_incident(struct ew_store *st, struct inc_stmts *is, int64_t complaint_id,
    const struct ew_store_incident *in, int64_t *id)
{
	struct ew_stmt *s = is->inc;
	int64_t iid = 0;
	size_t i;
	int k, rc;

	if (in->n_dst_ports > 0 && in->dst_ports == NULL)
		return -EINVAL;
	ew_store_reset(s);
	ew_store_bind_int64(s, 1, complaint_id);
	ew_store_bind_text(s, 2, in->src);
	if (in->src_port >= 0)
		ew_store_bind_int64(s, 3, in->src_port);
	ew_store_bind_text(s, 4, in->dst);
	ew_store_bind_time(s, 5, in->time);
	ew_store_bind_time(s, 6, in->time_from);
	ew_store_bind_time(s, 7, in->time_to);
	ew_store_bind_text(s, 8, in->zone_source);
	bind_verdict(s, 9, in->verdict);
	ew_store_bind_text(s, 10, in->dst_host);
	if (is->later)
		rc = ew_store_step_later(s); /* the ports find it as last */
	else
		rc = ew_store_step_id(s, &iid);
	for (i = 0; rc == 0 && i < in->n_dst_ports; i++) {
		k = 1;
		ew_store_reset(is->port);
		if (!is->later)
			ew_store_bind_int64(is->port, k++, iid);
		ew_store_bind_int64(is->port, k++, (int64_t)i);
		ew_store_bind_int64(is->port, k++, in->dst_ports[i].lo);
		ew_store_bind_int64(is->port, k, in->dst_ports[i].hi);
		rc = is->later ? ew_store_step_later(is->port)
			       : ew_store_step_done(st, is->port);
	}
	if (rc == 0 && id != NULL)
		*id = iid;
	return rc;
}

/* The complaint and its incidents (`later`: with the next statement). */
static int
add(struct ew_store *st, const struct ew_store_complaint *c,
    const struct ew_store_incident *inc, size_t n, int later, int64_t *id,
    int64_t *reused)
{
	struct inc_stmts s = { NULL, NULL, later };
	int64_t dup, cid = 0;
	size_t i;
	int rc;

	*id = *reused = 0;
	if (c->content_sha256 == NULL || c->reporter == NULL ||
	    c->format == NULL || (n > 0 && inc == NULL))
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = insert_new(st, c, &cid, reused);
	if (rc == 0 && cid == 0) { /* stored already: which one */
		if ((rc = find_dup(st, c, &dup, reused)) == 0) {
			*id = dup;
			*reused = 0;
			rc = dup != 0 ? -EEXIST : -EIO;
		}
		ew_store_rollback(st);
		return rc;
	}
	if (rc == 0 && n > 0)
		rc = prep_incident(st, &s);
	for (i = 0; rc == 0 && i < n; i++)
		rc = insert_incident(st, &s, cid, &inc[i], NULL);
	finish_incident(&s);
	rc = ew_store_end(st, rc);
	if (rc == 0)
		*id = cid;
	else
		*reused = 0;
	return rc;
}

int
ew_store_complaint_add(struct ew_store *st, const struct ew_store_complaint *c,
    const struct ew_store_incident *inc, size_t n, int64_t *id)
{
	int64_t reused;

	return add(st, c, inc, n, 0, id, &reused);
}

int
ew_store_complaint_add_later(struct ew_store *st,
    const struct ew_store_complaint *c, const struct ew_store_incident *inc,
    size_t n, int64_t *id, int64_t *reused)
{
	return add(st, c, inc, n, 1, id, reused);
}

int
ew_store_incident_add(struct ew_store *st, int64_t complaint_id,
    const struct ew_store_incident *inc, int64_t *id)
{
	struct inc_stmts s = { NULL, NULL, 0 };
	int rc;

	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	if ((rc = prep_incident(st, &s)) == 0)
		rc = insert_incident(st, &s, complaint_id, inc, id);
	finish_incident(&s);
	return ew_store_end(st, rc);
}

int
ew_store_incident_set_verdict(
    struct ew_store *st, int64_t incident_id, enum ew_store_verdict verdict)
{
	struct ew_stmt *s;
	int rc;

	if ((unsigned)verdict > EW_STORE_VERDICT_UNKNOWN)
		return -EINVAL;
	if ((rc = ew_store_begin(st)) != 0)
		return rc;
	rc = ew_store_prep(
	    st, "UPDATE incidents SET verdict = ? WHERE id = ?", &s);
	if (rc == 0) {
		bind_verdict(s, 1, verdict);
		ew_store_bind_int64(s, 2, incident_id);
		rc = ew_store_step_done(st, s);
		if (rc == 0 && ew_store_changes(s) == 0)
			rc = -ENOENT;
		ew_store_finalize(s);
	}
	return ew_store_end(st, rc);
}

void
ew_store_incidents_free(struct ew_store_incident *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((void *)v[i].src);
		free((void *)v[i].dst);
		free((void *)v[i].dst_host);
		free((void *)v[i].dst_ports);
		free((void *)v[i].zone_source);
	}
	free(v);
}

static int
read_incident(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_incident *in = row;
	char *src, *dst, *zone, *host;
	int rc = 0;

	(void)arg;

	in->id = ew_store_col_int64(s, 0);
	in->complaint_id = ew_store_col_int64(s, 1);
	rc |= ew_store_col_text(s, 2, &src);
	in->src = src;
	in->src_port =
	    ew_store_col_null(s, 3) ? -1 : (int)ew_store_col_int64(s, 3);
	rc |= ew_store_col_text(s, 4, &dst);
	in->dst = dst;
	in->time = ew_store_col_time(s, 5);
	in->time_from = ew_store_col_time(s, 6);
	in->time_to = ew_store_col_time(s, 7);
	rc |= ew_store_col_text(s, 8, &zone);
	in->zone_source = zone;
	in->verdict =
	    ew_store_col_null(s, 9)
		? EW_STORE_VERDICT_NONE
		: (enum ew_store_verdict)(int)ew_store_col_int64(s, 9);
	rc |= ew_store_col_text(s, 10, &host);
	in->dst_host = host;
	return rc ? -ENOMEM : 0;
}

/* One incident's range: [incident_id, lo, hi]. */
struct port_row {
	int64_t incident;
	struct ew_port_range r;
};

static int
read_port_row(struct ew_stmt *s, void *row, void *arg)
{
	struct port_row *p = row;

	(void)arg;
	p->incident = ew_store_col_int64(s, 0);
	p->r.lo = (uint16_t)(int)ew_store_col_int64(s, 1);
	p->r.hi = (uint16_t)(int)ew_store_col_int64(s, 2);
	return 0;
}

/* The ports of a complaint's n incidents v (by id, as listed). */
static int
read_ports(struct ew_store *st, int64_t complaint_id,
    struct ew_store_incident *v, size_t n)
{
	struct port_row *p;
	struct ew_port_range *r;
	size_t np = 0, i = 0, k = 0, j;
	void *raw;
	struct ew_stmt *s;
	int rc;

	rc = ew_store_prep(st,
	    "SELECT p.incident_id, p.lo, p.hi FROM incident_ports p"
	    " JOIN incidents i ON i.id = p.incident_id"
	    " WHERE i.complaint_id = ? ORDER BY p.incident_id, p.seq",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, complaint_id);
	if ((rc = ew_store_rows(
		 st, s, sizeof(*p), read_port_row, NULL, &raw, &np)) != 0)
		return rc;
	p = raw;
	/* both lists are by incident id: walk them together */
	while (k < np) {
		for (j = k; j < np && p[j].incident == p[k].incident; j++)
			;
		while (i < n && v[i].id < p[k].incident)
			i++;
		if (i < n && v[i].id == p[k].incident) {
			if ((r = malloc((j - k) * sizeof(*r))) == NULL) {
				free(p);
				return -ENOMEM;
			}
			for (; k < j; k++)
				r[v[i].n_dst_ports++] = p[k].r;
			v[i].dst_ports = r;
		}
		k = j;
	}
	free(p);
	return 0;
}

int
ew_store_incident_list(struct ew_store *st, int64_t complaint_id,
    struct ew_store_incident **out, size_t *n)
{
	struct ew_store_incident *v;
	size_t len = 0;
	void *raw;
	struct ew_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT id, complaint_id, src, src_port, dst, time,"
	    " time_from, time_to, zone_source, verdict, dst_host"
	    " FROM incidents WHERE complaint_id = ? ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, complaint_id);
	rc = ew_store_rows(st, s, sizeof(*v), read_incident, NULL, &raw, &len);
	v = raw;
	if (rc != 0) {
		ew_store_incidents_free(v, len);
		return rc;
	}
	if ((rc = read_ports(st, complaint_id, v, len)) != 0) {
		ew_store_incidents_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
ew_store_count(struct ew_store *st, int64_t *complaints, int64_t *incidents)
{
	struct ew_stmt *s;
	int rc;

	rc = ew_store_prep(st,
	    "SELECT (SELECT count(*) FROM complaints),"
	    " (SELECT count(*) FROM incidents)",
	    &s);
	if (rc != 0)
		return rc;
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW) {
		*complaints = ew_store_col_int64(s, 0);
		*incidents = ew_store_col_int64(s, 1);
	}
	rc = rc == EW_STORE_ROW ? 0 : rc == 0 ? -EIO : rc;
	ew_store_finalize(s);
	return rc;
}

void
ew_store_complaints_free(struct ew_store_complaint *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((void *)v[i].message_id);
		free((void *)v[i].content_sha256);
		free((void *)v[i].content_key);
		free((void *)v[i].reporter);
		free((void *)v[i].forwarder);
		free((void *)v[i].format);
		free((void *)v[i].category);
		free((void *)v[i].subject);
		free((void *)v[i].forwarder_ticket);
	}
	free(v);
}

void
ew_store_complaint_free(struct ew_store_complaint *c)
{
	ew_store_complaints_free(c, 1);
}

/* A text column into a const field (the row owns it). */
static int
col_text(struct ew_stmt *s, int i, const char **out)
{
	char *p;
	int rc = ew_store_col_text(s, i, &p);

	*out = p;
	return rc;
}

static int
read_complaint(struct ew_stmt *s, void *row, void *arg)
{
	struct ew_store_complaint *c = row;
	int rc = 0;

	(void)arg;
	c->id = ew_store_col_int64(s, 0);
	rc |= col_text(s, 1, &c->message_id);
	rc |= col_text(s, 2, &c->content_sha256);
	rc |= col_text(s, 3, &c->reporter);
	rc |= col_text(s, 4, &c->forwarder);
	rc |= col_text(s, 5, &c->format);
	rc |= col_text(s, 6, &c->category);
	c->received_at = ew_store_col_int64(s, 7);
	c->date = ew_store_col_time(s, 8);
	c->deadline = ew_store_col_time(s, 9);
	c->raw_size = ew_store_col_int64(s, 10);
	rc |= col_text(s, 11, &c->subject);
	rc |= col_text(s, 12, &c->forwarder_ticket);
	rc |= col_text(s, 13, &c->content_key);
	c->reuses_message_id = ew_store_col_int64(s, 14); /* NULL: 0 */
	return rc ? -ENOMEM : 0;
}

/* The complaint with `id`, or every one when id is 0. */
static int
select_complaints(
    struct ew_store *st, int64_t id, struct ew_store_complaint **out, size_t *n)
{
	struct ew_stmt *s;
	void *raw;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ew_store_prep(st,
	    "SELECT id, message_id, content_sha256, reporter, forwarder,"
	    " format, category, received_at, date, deadline, raw_size,"
	    " subject, forwarder_ticket, content_key, reuses_message_id"
	    " FROM complaints WHERE ?1 = 0 OR id = ?1 ORDER BY id",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, id);
	rc = ew_store_rows(st, s, sizeof(struct ew_store_complaint),
	    read_complaint, NULL, &raw, n);
	*out = raw;
	if (rc != 0) {
		ew_store_complaints_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int
ew_store_complaint_get(
    struct ew_store *st, int64_t id, struct ew_store_complaint **out)
{
	size_t n;
	int rc;

	*out = NULL;
	if (id <= 0)
		return -ENOENT;
	if ((rc = select_complaints(st, id, out, &n)) != 0)
		return rc;
	if (n == 0) {
		ew_store_complaints_free(*out, n);
		*out = NULL;
		return -ENOENT;
	}
	return 0;
}

int
ew_store_complaint_list(
    struct ew_store *st, struct ew_store_complaint **out, size_t *n)
{
	return select_complaints(st, 0, out, n);
}

int
ew_store_complaint_ticket(
    struct ew_store *st, int64_t complaint_id, int64_t *ticket_id)
{
	struct ew_stmt *s;
	int rc;

	*ticket_id = 0;
	rc = ew_store_prep(st,
	    "SELECT ticket_id FROM ticket_complaints WHERE complaint_id = ?"
	    " ORDER BY ticket_id DESC LIMIT 1",
	    &s);
	if (rc != 0)
		return rc;
	ew_store_bind_int64(s, 1, complaint_id);
	rc = ew_store_step(s);
	if (rc == EW_STORE_ROW)
		*ticket_id = ew_store_col_int64(s, 0);
	rc = rc == EW_STORE_ROW ? 0 : rc == 0 ? -ENOENT : rc;
	ew_store_finalize(s);
	return rc;
}
