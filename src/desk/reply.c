/*
 * reply.c - drafting the answer to a ticket from an editable template.
 *
 * The template language is a small Mustache: {{name}} is a value,
 * {{#list}} ... {{/list}} repeats for each element of a list (names
 * inside are the element's first, then the ticket's), {{^list}} ...
 * {{/list}} stands when the list is empty.  A line holding nothing but a
 * section tag disappears with its newline, so templates read as the
 * letter they produce.  Every name is checked before anything is
 * rendered: a misspelt name is an error at file:line:col even inside a
 * section that would not be rendered.
 *
 * A template that begins with a header field ("Subject: ...") begins
 * with a header block, up to its first empty line: the reply is a mail
 * (for sendmail -t).  Each field of that block is written only through
 * the header sink of lib/esc.c, its values and text as one unstructured
 * value (or a list of plain addresses, for To, Cc, Bcc and the like):
 * nothing a complaint says can end a field, add one or start the body.
 * Sections are not allowed there.  Values in the body go through the
 * terminal sink: the reply is read on a terminal before it is sent, and
 * a value is one line (a newline in it is shown as \n).  A body with
 * 8-bit text gets MIME-Version and Content-Type (UTF-8) fields unless
 * the template writes them.  A template without a header block renders
 * as text; should its first line then read as a header field (a value
 * made it so), an empty line goes before it, so that no mail program
 * takes it for one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "desk/desk.h"
#include "desk/desk_int.h"
#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/esc.h"
#include "lib/tm.h"
#include "store/store.h"

/* ---- the values a template may use ---- */

struct ctx;
struct list;
static const struct list *find_list(
    const struct ctx *c, const char *s, size_t n);

#define MAXKEYS 16
#define MAXLISTS 16

struct list {
	const char *name;
	const char *keys[MAXKEYS];
	size_t nkeys;
	char **vals; /* nitems * nkeys */
	size_t nitems;
};

struct ctx {
	const char *keys[MAXKEYS * 2];
	char *vals[MAXKEYS * 2];
	size_t n;
	struct list lists[MAXLISTS];
	size_t nlists;
	int oom;
};

static char *
xstrdup(struct ctx *c, const char *s)
{
	char *p = ew_strndup(s ? s : "", strlen(s ? s : ""));

	if (p == NULL)
		c->oom = 1;
	return p;
}

static void
set(struct ctx *c, const char *k, const char *v)
{
	if (c->n < MAXKEYS * 2) {
		c->keys[c->n] = k;
		c->vals[c->n++] = xstrdup(c, v);
	}
}

static const char *
time_or(int64_t t, char *buf, size_t cap, const char *none)
{
	return t == EW_STORE_NO_TIME ? none : ew_time_format(t, buf, cap);
}

static struct list *
list_new(struct ctx *c, const char *name, const char *const *keys)
{
	struct list *l = &c->lists[c->nlists];

	_Static_assert(MAXLISTS >= 12, "every list of build() fits");
	c->nlists++;

	memset(l, 0, sizeof(*l));
	l->name = name;
	while (keys[l->nkeys] != NULL)
		l->keys[l->nkeys] = keys[l->nkeys], l->nkeys++;
	return l;
}

/* Add one element: nkeys values. */
static void
list_add(struct ctx *c, struct list *l, const char *const *vals)
{
	char **nv;
	size_t i;

	/* grown by doubling: a ticket of a million incidents is a list of
	 * a million elements */
	if ((l->nitems & (l->nitems - 1)) == 0) {
		nv = realloc(l->vals,
		    (l->nitems ? 2 * l->nitems : 1) * l->nkeys * sizeof(*nv));
		if (nv == NULL) {
			c->oom = 1;
			return;
		}
		l->vals = nv;
	}
	nv = l->vals;
	for (i = 0; i < l->nkeys; i++)
		nv[l->nitems * l->nkeys + i] = xstrdup(c, vals[i]);
	l->nitems++;
}

/* A list of one empty element or none: a condition. */
static void
flag(struct ctx *c, const char *name, int on)
{
	static const char *const none[] = { NULL };
	struct list *l = list_new(c, name, none);

	l->nitems = on ? 1 : 0;
}

static void
ctx_free(struct ctx *c)
{
	size_t i, k;

	for (i = 0; i < c->n; i++)
		free(c->vals[i]);
	for (i = 0; i < c->nlists; i++) {
		for (k = 0; k < c->lists[i].nitems * c->lists[i].nkeys; k++)
			free(c->lists[i].vals[k]);
		free(c->lists[i].vals);
	}
}

static const char *
verdict_text(enum ew_store_verdict v)
{
	if (v == EW_STORE_VERDICT_NONE)
		return "not judged";
	if (v == EW_JUDGED_ALLOWED)
		return "The exit policy permitted this then; it may have "
		       "been relayed for a Tor user";
	if (v == EW_JUDGED_BLOCKED)
		return "The exit policy refused this then; it cannot have "
		       "come through this exit";
	if (v == EW_JUDGED_NOT_OURS)
		return "The address named is not one of this relay's";
	return "We cannot tell (no time given, or no record of the policy "
	       "then)";
}

static const char *const incident_keys[] = { "src", "dst", "ports", "time",
	"verdict", "verdict_text", NULL };
static const char *const block_keys[] = { "rule", "reason", "until", NULL };
static const char *const complaint_keys[] = { "subject", "reporter",
	"forwarder", "forwarder_ticket", "date", "received", NULL };

/* The incident's time as reported: an instant, an interval, or none. */
static void
incident_time(const struct ew_store_incident *in, char *out, size_t cap)
{
	char a[EW_TIME_STRLEN], b[EW_TIME_STRLEN];

	if (in->time != EW_STORE_NO_TIME)
		ew_time_format(in->time, out, cap);
	else if (in->time_from != EW_STORE_NO_TIME &&
		 in->time_to != EW_STORE_NO_TIME)
		snprintf(out, cap, "between %s and %s",
		    ew_time_format(in->time_from, a, sizeof(a)),
		    ew_time_format(in->time_to, b, sizeof(b)));
	else if (in->time_to != EW_STORE_NO_TIME)
		snprintf(out, cap, "before %s",
		    ew_time_format(in->time_to, a, sizeof(a)));
	else if (in->time_from != EW_STORE_NO_TIME)
		snprintf(out, cap, "after %s",
		    ew_time_format(in->time_from, a, sizeof(a)));
	else
		snprintf(out, cap, "an unstated time");
}

/*
 * The sources the incidents name, each once, in the order first named:
 * gathered, then sorted to drop repeats and sorted back to their order
 * (n log n; a scan of the list per incident was n^2 for a ticket of
 * many sources).
 */
struct srcset {
	struct src1 {
		char *s;
		size_t order;
	} * v;
	size_t n, cap;
	int oom;
};

static void
add_src(struct srcset *set, const char *src)
{
	struct src1 *nv;

	if (*src == '\0' || set->oom)
		return; /* no source named */
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 16;
		if ((nv = realloc(set->v, set->cap * sizeof(*nv))) == NULL) {
			set->oom = 1;
			return;
		}
		set->v = nv;
	}
	if ((set->v[set->n].s = strdup(src)) == NULL) {
		set->oom = 1;
		return;
	}
	set->v[set->n].order = set->n;
	set->n++;
}

static int
cmp_src(const void *x, const void *y)
{
	const struct src1 *a = x, *b = y;
	int c = strcmp(a->s, b->s);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int
cmp_src_order(const void *x, const void *y)
{
	const struct src1 *a = x, *b = y;

	return a->order < b->order ? -1 : a->order > b->order;
}

/* The sources, each once, ", "-separated, onto b; the set is freed. */
static void
srcset_finish(struct srcset *set, struct ew_buf *b)
{
	size_t i, k = 0;

	if (set->n == 0) {
		free(set->v);
		set->v = NULL;
		if (set->oom)
			b->oom = 1;
		return;
	}
	qsort(set->v, set->n, sizeof(*set->v), cmp_src);
	for (i = 0; i < set->n; i++) {
		if (k > 0 && strcmp(set->v[k - 1].s, set->v[i].s) == 0) {
			free(set->v[i].s);
			continue;
		}
		set->v[k++] = set->v[i];
	}
	qsort(set->v, k, sizeof(*set->v), cmp_src_order);
	for (i = 0; i < k; i++) {
		ew_buf_printf(b, "%s%s", b->len ? ", " : "", set->v[i].s);
		free(set->v[i].s);
	}
	if (set->oom)
		b->oom = 1;
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int
add_complaints(struct ew_desk *d, struct ctx *c, int64_t ticket_id, int seen[4],
    struct ew_store_complaint **first, struct ew_buf *relay)
{
	struct list *inc_l = list_new(c, "incidents", incident_keys);
	struct list *com_l = list_new(c, "complaints", complaint_keys);
	struct ew_store_complaint *sc;
	struct ew_store_incident *inc;
	struct srcset seen_src = { NULL, 0, 0, 0 };
	struct ew_buf ports = EW_BUF_INIT;
	int64_t *ids = NULL;
	size_t nids = 0, ninc, i, k;
	char when[96], t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN];
	int rc;

	*first = NULL;
	if ((rc = ew_store_ticket_complaints(d->st, ticket_id, &ids, &nids)))
		return rc;
	for (i = 0; rc == 0 && i < nids; i++) {
		if ((rc = ew_store_complaint_get(d->st, ids[i], &sc)) != 0)
			break;
		{
			const char *v[] = { sc->subject, sc->reporter,
				sc->forwarder, sc->forwarder_ticket,
				time_or(sc->date, t1, sizeof(t1), ""),
				time_or(sc->received_at, t2, sizeof(t2), "") };
			list_add(c, com_l, v);
		}
		if (*first == NULL)
			*first = sc;
		rc = ew_store_incident_list(d->st, ids[i], &inc, &ninc);
		for (k = 0; rc == 0 && k < ninc; k++) {
			enum ew_store_verdict vd = inc[k].verdict;
			const char *v[6];

			incident_time(&inc[k], when, sizeof(when));
			v[0] = inc[k].src;
			v[1] = inc[k].dst        ? inc[k].dst
			       : inc[k].dst_host ? inc[k].dst_host
						 : "(not stated)";
			ew_buf_reset(&ports);
			ew_ports_format(
			    inc[k].dst_ports, inc[k].n_dst_ports, &ports);
			v[2] = inc[k].n_dst_ports > 0 ? ew_buf_str(&ports)
						      : "(not stated)";
			v[3] = when;
			v[4] = vd ? ew_store_verdict_word(vd) : "not judged";
			v[5] = verdict_text(vd);
			list_add(c, inc_l, v);
			if (vd != EW_JUDGED_NOT_OURS)
				add_src(&seen_src, inc[k].src);
			seen[0] |= vd == EW_JUDGED_ALLOWED;
			seen[1] |= vd == EW_JUDGED_BLOCKED;
			seen[2] |= vd == EW_JUDGED_NOT_OURS;
			seen[3] |= vd == EW_JUDGED_UNKNOWN;
		}
		if (rc == 0)
			ew_store_incidents_free(inc, ninc);
		if (*first != sc)
			ew_store_complaint_free(sc);
	}
	srcset_finish(&seen_src, relay);
	ew_buf_free(&ports);
	free(ids);
	return rc;
}

/*
 * The ticket's blocks in force: "blocks" when a policy was applied since
 * the block was added (it runs), "pending" when not (added with
 * --no-apply, and nothing applied since).
 */
static int
add_blocks(struct ew_desk *d, struct ctx *c, int64_t ticket_id, int64_t now)
{
	struct list *l = list_new(c, "blocks", block_keys);
	struct list *pend = list_new(c, "pending", block_keys);
	struct ew_store_policy_version *pv = NULL;
	struct ew_store_rule *r = NULL;
	char t[EW_TIME_STRLEN];
	int64_t last_apply = EW_STORE_NO_TIME;
	size_t n = 0, npv = 0, i;
	int rc;

	if ((rc = ew_store_policy_during(
		 d->st, EW_STORE_NO_TIME, EW_STORE_NO_TIME, &pv, &npv)) != 0)
		return rc;
	if (npv > 0)
		last_apply = pv[npv - 1].applied_from;
	ew_store_policy_versions_free(pv, npv);
	if ((rc = ew_store_rule_list(d->st, 0, &r, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		const char *v[3];

		if (r[i].ticket_id != ticket_id ||
		    (r[i].expires_at != EW_STORE_NO_TIME &&
			r[i].expires_at <= now))
			continue;
		v[0] = r[i].rule_text;
		v[1] = r[i].reason ? r[i].reason : "";
		v[2] = time_or(r[i].expires_at, t, sizeof(t), "further notice");
		list_add(c,
		    last_apply != EW_STORE_NO_TIME &&
			    last_apply >= r[i].added_at
			? l
			: pend,
		    v);
	}
	ew_store_rules_free(r, n);
	return 0;
}

/* The relay's addresses: those the complaints name as ours, else the
 * public interface addresses. */
static void
relay_addrs(struct ew_desk *d, struct ew_buf *b)
{
	char a[EW_ADDR_STRLEN];
	size_t i;

	for (i = 0; b->len == 0 && i < d->n_ifaddrs; i++) {
		if (ew_addr_is_internal(&d->ifaddrs[i]))
			continue;
		ew_addr_format(&d->ifaddrs[i], 0, a, sizeof(a));
		ew_buf_printf(b, "%s%s", b->len ? ", " : "", a);
	}
	if (b->len == 0)
		ew_buf_puts(b, "this server");
}

static int
build(struct ew_desk *d, int64_t ticket_id, int64_t now, struct ctx *c)
{
	struct ew_store_ticket *t = NULL;
	struct ew_store_complaint *first = NULL;
	struct ew_buf relay = EW_BUF_INIT;
	char t1[EW_TIME_STRLEN], t2[EW_TIME_STRLEN], t3[EW_TIME_STRLEN];
	char num[32];
	int seen[4] = { 0, 0, 0, 0 };
	int rc;

	if ((rc = ew_store_ticket_get(d->st, ticket_id, now, &t)) != 0)
		return rc;
	rc = add_complaints(d, c, ticket_id, seen, &first, &relay);
	if (rc == 0)
		rc = add_blocks(d, c, ticket_id, now);
	if (rc == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)ticket_id);
		set(c, "ticket", num);
		set(c, "reporter", t->reporter);
		set(c, "opened", time_or(t->opened_at, t1, sizeof(t1), ""));
		set(c, "due", time_or(t->due_at, t2, sizeof(t2), "none"));
		set(c, "now", ew_time_format(now, t3, sizeof(t3)));
		set(c, "subject",
		    first && first->subject ? first->subject
					    : "your abuse report");
		set(c, "forwarder", first ? first->forwarder : NULL);
		set(c, "forwarder_ticket",
		    first ? first->forwarder_ticket : NULL);
		set(c, "category", first ? first->category : NULL);
		relay_addrs(d, &relay);
		set(c, "relay", ew_buf_str(&relay));
		flag(c, "any_allowed", seen[0]);
		flag(c, "any_blocked", seen[1]);
		flag(c, "any_not_ours", seen[2]);
		flag(c, "any_unknown", seen[3]);
		flag(c, "any_blocks", find_list(c, "blocks", 6)->nitems > 0);
		flag(c, "any_pending", find_list(c, "pending", 7)->nitems > 0);
		flag(c, "decided",
		    find_list(c, "blocks", 6)->nitems +
			    find_list(c, "pending", 7)->nitems >
			0);
		flag(c, "forwarded", first && first->forwarder);
	}
	ew_buf_free(&relay);
	ew_store_complaint_free(first);
	ew_store_tickets_free(t, 1);
	return rc != 0 ? rc : c->oom ? -ENOMEM : 0;
}

/* ---- the template ---- */

enum tok_type { T_TEXT, T_VAR, T_OPEN, T_INV, T_CLOSE };

struct tok {
	enum tok_type type;
	const char *s; /* text, or the name */
	size_t n;
	size_t at;  /* offset of the tag, for errors */
	size_t end; /* T_OPEN/T_INV: index of the matching T_CLOSE */
};

struct tpl {
	const char *name, *text;
	size_t len;
	int has_hdr;    /* begins with a header block */
	size_t hdr_end; /* its empty line (or the end) */
	size_t body;    /* where the body begins */
	struct tok *v;
	size_t n;
	struct ew_diag_list *diags;
};

static void
tpl_err(struct tpl *t, size_t at, size_t n, const char *msg, const char *nm,
    size_t nn)
{
	struct ew_src *src = ew_src_new(t->name, t->text, t->len);
	struct ew_loc loc = { src, 1, 1, 1 };
	size_t i, bol = 0;

	for (i = 0; i < at && i < t->len; i++)
		if (t->text[i] == '\n') {
			loc.line++;
			bol = i + 1;
		}
	loc.first = (unsigned)(at - bol + 1);
	loc.last = (unsigned)(at - bol + (n ? n : 1));
	ew_diag_add(t->diags, EW_SEV_ERROR, src ? &loc : NULL, "%s%s%.*s%s",
	    msg, nn ? " '" : "", (int)nn, nm, nn ? "'" : "");
	ew_src_free(src);
}

static int
push(struct tpl *t, enum tok_type type, const char *s, size_t n, size_t at)
{
	struct tok *nv;

	if (type == T_TEXT && n == 0)
		return 0;
	if ((nv = realloc(t->v, (t->n + 1) * sizeof(*nv))) == NULL)
		return -ENOMEM;
	t->v = nv;
	nv[t->n].type = type;
	nv[t->n].s = s;
	nv[t->n].n = n;
	nv[t->n].at = at;
	nv[t->n].end = 0;
	t->n++;
	return 0;
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The first "{{" or "}}" (pair) in [p, e), or NULL. */
static const char *
find2(const char *p, const char *e, char ch)
{
	for (; p + 1 < e; p++)
		if (p[0] == ch && p[1] == ch)
			return p;
	return NULL;
}

/* Split into tokens; a section tag alone on its line takes the line
 * (its "\n" or "\r\n" too). */
static int
tokenize(struct tpl *t)
{
	const char *s = t->text, *e = t->text + t->len, *p = s, *o, *c, *nm;
	size_t nlen;
	enum tok_type type;
	int rc;

	while ((o = find2(p, e, '{')) != NULL) {
		if ((c = find2(o + 2, e, '}')) == NULL) {
			tpl_err(t, (size_t)(o - s), 2, "unclosed tag", "", 0);
			return -EINVAL;
		}
		nm = o + 2;
		type = T_VAR;
		if (*nm == '#' || *nm == '^' || *nm == '/') {
			type = *nm == '#'   ? T_OPEN
			       : *nm == '^' ? T_INV
					    : T_CLOSE;
			nm++;
		}
		while (nm < c && is_blank(*nm))
			nm++;
		nlen = (size_t)(c - nm);
		while (nlen > 0 && is_blank(nm[nlen - 1]))
			nlen--;
		if (nlen == 0) {
			tpl_err(t, (size_t)(o - s), (size_t)(c + 2 - o),
			    "empty tag", "", 0);
			return -EINVAL;
		}
		c += 2; /* past the tag */
		if (type != T_VAR) {
			/* standalone: only blanks around it on its line */
			const char *ls = o, *le = c;

			while (ls > p && is_blank(ls[-1]))
				ls--;
			while (le < e && is_blank(*le))
				le++;
			if (le + 1 < e && le[0] == '\r' && le[1] == '\n')
				le++;
			if ((ls == s || ls[-1] == '\n') &&
			    (le == e || *le == '\n')) {
				o = ls;
				c = le < e ? le + 1 : le;
			}
		}
		if ((rc = push(t, T_TEXT, p, (size_t)(o - p), 0)) != 0 ||
		    (rc = push(t, type, nm, nlen, (size_t)(nm - s))) != 0)
			return rc;
		p = c;
	}
	return push(t, T_TEXT, p, (size_t)(e - p), 0);
}

/* ---- the header block ---- */

/* The length of the field name that begins a line at p, before its
 * colon (letters, digits and '-'); 0 when the line does not begin so. */
static size_t
field_name(const char *p, const char *e)
{
	const char *q = p;

	while (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') || *q == '-'))
		q++;
	return q > p && q < e && *q == ':' ? (size_t)(q - p) : 0;
}

/*
 * Find the header block: when the first line begins with a field name
 * and a colon, every line up to the first empty one is a field or a
 * continuation (beginning with a blank).
 */
static int
header_block(struct tpl *t)
{
	const char *s = t->text, *e = s + t->len, *p = s, *eol, *le;

	t->has_hdr = field_name(s, e) > 0;
	t->hdr_end = t->body = 0;
	while (t->has_hdr && p < e) {
		if ((eol = memchr(p, '\n', (size_t)(e - p))) == NULL)
			eol = e;
		le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (le == p) {
			t->hdr_end = (size_t)(p - s);
			t->body = (size_t)(eol < e ? eol + 1 - s : e - s);
			return 0;
		}
		if (!is_blank(*p) && field_name(p, le) == 0) {
			tpl_err(t, (size_t)(p - s), (size_t)(le - p),
			    "not a header field ('Name: value'): the header "
			    "block ends at the first empty line",
			    "", 0);
			return -EINVAL;
		}
		p = eol < e ? eol + 1 : e;
	}
	if (t->has_hdr)
		t->hdr_end = t->body = t->len;
	return 0;
}

/* No sections in the header block: a field is one line of the mail. */
static int
check_header(struct tpl *t)
{
	size_t i;

	for (i = 0; i < t->n && t->v[i].s < t->text + t->hdr_end; i++)
		if (t->v[i].type != T_TEXT && t->v[i].type != T_VAR) {
			tpl_err(t, t->v[i].at, t->v[i].n,
			    "no sections in the header block:", t->v[i].s,
			    t->v[i].n);
			return -EINVAL;
		}
	return 0;
}

static const struct list *
find_list(const struct ctx *c, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < c->nlists; i++)
		if (ew_str_is(c->lists[i].name, s, n))
			return &c->lists[i];
	return NULL;
}

/* The value of a name: the element's (l, item) first, then the top. */
static const char *
lookup(const struct ctx *c, const struct list *l, size_t item, const char *s,
    size_t n, int *found)
{
	size_t i;

	*found = 1;
	if (l != NULL)
		for (i = 0; i < l->nkeys; i++)
			if (ew_str_is(l->keys[i], s, n))
				return l->nitems ? l->vals[item * l->nkeys + i]
						 : "";
	for (i = 0; i < c->n; i++)
		if (ew_str_is(c->keys[i], s, n))
			return c->vals[i];
	*found = 0;
	return NULL;
}

/* Match sections and check every name. */
static int
check(struct tpl *t, const struct ctx *c)
{
	size_t stack[8], depth = 0, i;
	const struct list *cur = NULL;
	int found;

	for (i = 0; i < t->n; i++) {
		struct tok *k = &t->v[i];

		switch (k->type) {
		case T_TEXT:
			break;
		case T_VAR:
			lookup(c, cur, 0, k->s, k->n, &found);
			if (!found) {
				tpl_err(
				    t, k->at, k->n, "unknown name", k->s, k->n);
				return -EINVAL;
			}
			break;
		case T_OPEN:
		case T_INV:
			if (depth > 0) {
				struct tok *out = &t->v[stack[depth - 1]];

				tpl_err(t, k->at, k->n,
				    "sections do not nest: inside", out->s,
				    out->n);
				return -EINVAL;
			}
			if ((cur = find_list(c, k->s, k->n)) == NULL) {
				tpl_err(
				    t, k->at, k->n, "unknown list", k->s, k->n);
				return -EINVAL;
			}
			stack[depth++] = i;
			break;
		case T_CLOSE:
			if (depth == 0 || t->v[stack[depth - 1]].n != k->n ||
			    memcmp(t->v[stack[depth - 1]].s, k->s, k->n) != 0) {
				tpl_err(t, k->at, k->n,
				    "closes no open section:", k->s, k->n);
				return -EINVAL;
			}
			t->v[stack[--depth]].end = i;
			cur = NULL;
			break;
		}
	}
	if (depth > 0) {
		struct tok *k = &t->v[stack[depth - 1]];

		tpl_err(t, k->at, k->n, "section never closed:", k->s, k->n);
		return -EINVAL;
	}
	return 0;
}

/* Tokens (from, to) of a section body, for element `item` of l. */
static void
render_body(const struct tpl *t, const struct ctx *c, const struct list *l,
    size_t item, size_t from, size_t to, struct ew_buf *out)
{
	size_t j;
	int found;

	const char *body = t->text + t->body, *v;

	for (j = from; j < to; j++) {
		const struct tok *k = &t->v[j];

		if (k->type == T_TEXT && k->s + k->n > body) {
			v = k->s < body ? body : k->s; /* past the header */
			ew_buf_add(out, v, (size_t)(k->s + k->n - v));
		} else if (k->type != T_TEXT && k->s >= body) {
			v = lookup(c, l, item, k->s, k->n, &found);
			ew_esc_term(out, v, strlen(v), 0);
		}
	}
}

static void
render(const struct tpl *t, const struct ctx *c, struct ew_buf *out)
{
	const struct list *l;
	size_t i, it;

	for (i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];

		if (k->type == T_TEXT || k->type == T_VAR) {
			render_body(t, c, NULL, 0, i, i + 1, out);
			continue;
		}
		l = find_list(c, k->s, k->n);
		if (k->type == T_INV && l->nitems == 0)
			render_body(t, c, l, 0, i + 1, k->end, out);
		for (it = 0; k->type == T_OPEN && it < l->nitems; it++)
			render_body(t, c, l, it, i + 1, k->end, out);
		i = k->end;
	}
}

/*
 * Append the text and values of the template between offsets from and
 * to, raw (the header sink takes them as they are), starting at token
 * *j; *j is left at the first token that reaches past `to`.
 */
static void
render_span(const struct tpl *t, const struct ctx *c, size_t from, size_t to,
    size_t *j, struct ew_buf *v)
{
	const char *a = t->text + from, *z = t->text + to, *p, *q;
	int found;

	for (; *j < t->n && t->v[*j].s < z; ++*j) {
		const struct tok *k = &t->v[*j];

		if (k->type == T_VAR && k->s >= a) {
			ew_buf_puts(v, lookup(c, NULL, 0, k->s, k->n, &found));
		} else if (k->type == T_TEXT) {
			p = k->s < a ? a : k->s;
			q = k->s + k->n > z ? z : k->s + k->n;
			if (q > p)
				ew_buf_add(v, p, (size_t)(q - p));
			if (k->s + k->n > z)
				break; /* it goes on into the next field */
		}
	}
}

/* A field refused by the header sink, located at its line. */
static void
field_err(struct tpl *t, size_t at, size_t n, const char *name, int rc,
    const struct ew_buf *v)
{
	struct ew_buf m = EW_BUF_INIT, e = EW_BUF_INIT;

	if (rc == -EBADMSG) {
		ew_buf_printf(&m,
		    "%s: not a plain address (local@domain, separated by "
		    "commas):",
		    name);
		ew_esc_term(&e, ew_buf_str(v), v->len > 200 ? 200 : v->len, 0);
		if (v->len > 200)
			ew_buf_puts(&e, "...");
	} else {
		ew_buf_puts(&m, "not a header field name (at most 76 "
				"characters):");
		ew_esc_term(&e, name, strlen(name), 0);
	}
	tpl_err(t, at, n, ew_buf_str(&m), ew_buf_str(&e), e.len);
	ew_buf_free(&m);
	ew_buf_free(&e);
}

/* Whether the template's header block writes the field `name`. */
static int
writes_field(const struct tpl *t, const char *name)
{
	const char *p = t->text, *e = t->text + t->hdr_end, *eol;
	size_t n;

	for (; p < e; p = eol + 1) {
		n = field_name(p, e);
		if (n == strlen(name) && strncasecmp(p, name, n) == 0)
			return 1;
		if ((eol = memchr(p, '\n', (size_t)(e - p))) == NULL)
			break;
	}
	return 0;
}

/*
 * The header block: each field (its line and continuation lines) is
 * rendered raw, then written by the header sink, which alone decides
 * where lines break.  `body` is the rendered body (for MIME fields).
 */
static int
render_header(struct tpl *t, const struct ctx *c, const struct ew_buf *body,
    struct ew_buf *out)
{
	const char *s = t->text, *e = s + t->hdr_end, *p = s, *q;
	struct ew_buf v = EW_BUF_INIT;
	char name[80];
	size_t j = 0, n, i;
	int rc = 0;

	while (rc == 0 && p < e) {
		n = field_name(p, e);
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		for (q = p; (q = memchr(q, '\n', (size_t)(e - q))) != NULL &&
			    q + 1 < e && is_blank(q[1]);
		     q++)
			;
		q = q != NULL && q < e ? q + 1 : e; /* the field's end */
		ew_buf_reset(&v);
		render_span(
		    t, c, (size_t)(p + n + 1 - s), (size_t)(q - s), &j, &v);
		if ((rc = ew_esc_header(out, name, ew_buf_str(&v), v.len)) !=
		    0) {
			field_err(t, (size_t)(p - s), n, name, rc, &v);
			rc = -EINVAL; /* the template does not fit the ticket */
		}
		p = q;
	}
	for (i = 0; rc == 0 && i < body->len; i++)
		if ((unsigned char)body->p[i] >= 0x80) {
			if (!writes_field(t, "MIME-Version"))
				ew_buf_puts(out, "MIME-Version: 1.0\n");
			if (!writes_field(t, "Content-Type"))
				ew_buf_puts(out, "Content-Type: text/plain; "
						 "charset=UTF-8\n");
			if (!writes_field(t, "Content-Transfer-Encoding"))
				ew_buf_puts(
				    out, "Content-Transfer-Encoding: 8bit\n");
			break;
		}
	ew_buf_free(&v);
	return rc;
}

int
ew_desk_reply(struct ew_desk *d, int64_t ticket_id, const char *name,
    const char *tmpl, size_t len, int64_t now, struct ew_buf *out,
    struct ew_diag_list *diags)
{
	struct ew_buf head = EW_BUF_INIT, body = EW_BUF_INIT;
	struct ctx c;
	struct tpl t;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	t.name = name;
	t.text = tmpl;
	t.len = len;
	t.diags = diags;
	if (memchr(tmpl, '\0', len) != NULL) {
		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "%s: a template is text: it holds a NUL byte", name);
		return -EINVAL;
	}
	rc = build(d, ticket_id, now, &c);
	if (rc == 0)
		rc = header_block(&t);
	if (rc == 0)
		rc = tokenize(&t);
	if (rc == 0)
		rc = check(&t, &c);
	if (rc == 0)
		rc = check_header(&t);
	if (rc == 0)
		render(&t, &c, &body);
	if (rc == 0 && t.has_hdr) {
		if ((rc = render_header(&t, &c, &body, &head)) == 0)
			ew_buf_putc(&head, '\n'); /* the body follows */
	} else if (rc == 0 && field_name(ew_buf_str(&body),
				  ew_buf_str(&body) + body.len) > 0) {
		ew_buf_putc(&head, '\n'); /* a value's "Name:" is no field */
	}
	if (rc == 0) {
		ew_buf_add(out, ew_buf_str(&head), head.len);
		ew_buf_add(out, ew_buf_str(&body), body.len);
		if (out->oom || head.oom || body.oom)
			rc = -ENOMEM;
	}
	ew_buf_free(&head);
	ew_buf_free(&body);
	free(t.v);
	ctx_free(&c);
	return rc;
}

/* ---- the built-in templates ---- */

static const char provider_tmpl[] =
    "Subject: Re: {{subject}}\n"
    "\n"
    "Hello,\n"
    "\n"
    "thank you for forwarding the complaint of {{reporter}}"
    "{{#forwarded}} (your ticket {{forwarder_ticket}}){{/forwarded}}.\n"
    "\n"
    "The server named ({{relay}}) is a Tor exit relay.  Tor is a network\n"
    "of volunteer-run relays that protects the privacy of its users; an\n"
    "exit relay makes connections on their behalf, so the traffic\n"
    "reported was relayed for someone else and did not come from me.  I\n"
    "keep no connection logs, by design: nobody can tell from this server\n"
    "who sent it, and I cannot either.\n"
    "\n"
    "I checked each reported incident against the exit policy this relay\n"
    "had at the time:\n"
    "\n"
    "{{#incidents}}\n"
    "  - {{src}} to {{dst}}, ports {{ports}},\n"
    "    {{time}}: {{verdict}}.\n"
    "    {{verdict_text}}.\n"
    "{{/incidents}}\n"
    "\n"
    "{{#any_blocks}}\n"
    "To keep this from happening again, the relay now refuses these\n"
    "connections (in Tor's exit policy and in the kernel's firewall):\n"
    "\n"
    "{{/any_blocks}}\n"
    "{{#blocks}}\n"
    "  - {{rule}}, until {{until}}\n"
    "{{/blocks}}\n"
    "{{#any_pending}}\n"
    "\n"
    "These blocks are decided and take effect with the relay's next\n"
    "policy update:\n"
    "\n"
    "{{/any_pending}}\n"
    "{{#pending}}\n"
    "  - {{rule}}, until {{until}}\n"
    "{{/pending}}\n"
    "{{^decided}}\n"
    "No block was needed: the relay's policy did not let this traffic\n"
    "through, or it did not come from this relay.\n"
    "{{/decided}}\n"
    "\n"
    "More about Tor exits and abuse: "
    "https://community.torproject.org/relay/community-resources/"
    "tor-abuse-templates/\n"
    "\n"
    "Kind regards,\n"
    "the relay operator\n";

static const char complainant_tmpl[] =
    "Subject: Re: {{subject}}\n"
    "\n"
    "Hello,\n"
    "\n"
    "your report reached me, the operator of {{relay}}, which is a Tor\n"
    "exit relay: it carries connections for users of the Tor network,\n"
    "and keeps no logs of them, so I cannot tell you who they were.\n"
    "\n"
    "{{#incidents}}\n"
    "  - {{dst}}, ports {{ports}}, {{time}}: {{verdict}}.\n"
    "    {{verdict_text}}.\n"
    "{{/incidents}}\n"
    "\n"
    "{{#any_blocks}}\n"
    "This relay no longer connects to:\n"
    "\n"
    "{{/any_blocks}}\n"
    "{{#blocks}}\n"
    "  - {{rule}}, until {{until}}\n"
    "{{/blocks}}\n"
    "{{#any_pending}}\n"
    "\n"
    "and, from its next policy update on:\n"
    "\n"
    "{{/any_pending}}\n"
    "{{#pending}}\n"
    "  - {{rule}}, until {{until}}\n"
    "{{/pending}}\n"
    "\n"
    "If you would rather block Tor exits yourself, the list of exit\n"
    "addresses is public: https://check.torproject.org/torbulkexitlist\n"
    "\n"
    "Kind regards,\n"
    "the relay operator\n";

const char *
ew_desk_template(const char *which)
{
	if (strcmp(which, "provider") == 0)
		return provider_tmpl;
	if (strcmp(which, "complainant") == 0)
		return complainant_tmpl;
	return NULL;
}
