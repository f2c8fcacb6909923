/*
 * cpl.c - the complaint object at the bottom of src/mail: what every
 * reader calls to fill a complaint (incidents, --explain notes, the
 * relay's own addresses, a refusal, an incident's default fields) and
 * the per-mail budgets (time, bytes inflated) they check as they go.
 *
 * It calls no other file of src/mail, so the readers (csv.c, dmarc.c,
 * xarf.c, text.c, ...) sit on it and complaint.c, which calls them (the
 * whole-mail readers through its table), sits on top: the module's files
 * form layers.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

int
ew_complaint_add(struct ew_complaint *c, struct ew_incident *in)
{
	if (c->ninc >= EW_MAIL_MAX_INCIDENTS) {
		c->overflow = 1;
		free(in->ports);
		in->ports = NULL;
		return -1;
	}
	if (c->ninc == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 8;
		struct ew_incident *nv = realloc(c->inc, nc * sizeof(*nv));

		if (nv == NULL) {
			free(in->ports);
			in->ports = NULL;
			return -1;
		}
		c->inc = nv;
		c->cap = nc;
	}
	c->inc[c->ninc++] = *in;
	in->ports = NULL;
	return 0;
}

void
ew_complaint_note(struct ew_complaint *c, const char *fact, const char *value,
    const char *rule, const char *where, const char *words, size_t wlen)
{
	struct ew_note *nt;

	if (c->nnotes >= EW_MAIL_MAX_NOTES) {
		c->notes_dropped++;
		return;
	}
	if (c->notes == NULL) {
		c->notes = calloc(EW_MAIL_MAX_NOTES, sizeof(*c->notes));
		if (c->notes == NULL) {
			c->notes_dropped++;
			return;
		}
	}
	if (words != NULL) {
		while (wlen > 0 &&
		       (*words == ' ' || *words == '\t' || *words == '>')) {
			words++;
			wlen--;
		}
		while (wlen > 0 &&
		       (words[wlen - 1] == ' ' || words[wlen - 1] == '\r' ||
			   words[wlen - 1] == '\t'))
			wlen--;
		if (wlen > 120)
			wlen = 120;
	}
	nt = &c->notes[c->nnotes];
	nt->fact = fact;
	nt->rule = rule;
	nt->value = value != NULL ? ew_strndup(value, strlen(value)) : NULL;
	nt->where = where != NULL ? ew_strndup(where, strlen(where)) : NULL;
	nt->words = words != NULL ? ew_strndup(words, wlen) : NULL;
	c->nnotes++;
}

int
ew_complaint_is_ours(
    const struct ew_complaint *c, const struct ew_addr *a, int plen)
{
	size_t i;

	for (i = 0; i < c->nours; i++) {
		const struct ew_own *o = &c->ours[i];
		unsigned bits =
		    o->plen >= 0 ? (unsigned)o->plen : ew_addr_bits(a);

		if (o->a.family != a->family ||
		    (plen >= 0 && (unsigned)plen < bits))
			continue;
		if (ew_addr_prefix_eq(&o->a, a, bits))
			return 1;
	}
	return 0;
}

void
ew_complaint_free(struct ew_complaint *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnotes; i++) {
		free(c->notes[i].value);
		free(c->notes[i].where);
		free(c->notes[i].words);
	}
	free(c->notes);
	free(c->ours);
	for (i = 0; i < c->ninc; i++)
		free(c->inc[i].ports);
	free(c->inc);
	free(c->reporter);
	free(c->forwarder);
	free(c->message_id);
	free(c->subject);
	free(c->ticket);
	free(c->owned);
	free(c->why);
	free(c);
}

int
ew_complaint_over_budget(struct ew_complaint *c)
{
	if (c == NULL)
		return 0;
	if (c->over != EW_OVER_NONE)
		return 1;
	c->budget_checks++;
	if (c->clock != NULL && c->clock(c->clock_arg) - c->t0 > c->time_max) {
		c->over = EW_OVER_TIME;
		return 1;
	}
	return 0;
}

size_t
ew_complaint_inflate_room(struct ew_complaint *c, size_t want)
{
	uint64_t left =
	    c->inflated < c->inflate_max ? c->inflate_max - c->inflated : 0;

	if (left == 0) {
		if (c->over == EW_OVER_NONE)
			c->over = EW_OVER_INFLATE;
		return 0;
	}
	return left < want ? (size_t)left : want;
}

void
ew_complaint_inflated(struct ew_complaint *c, size_t n)
{
	c->inflated += n;
}

int
ew_complaint_refuse(struct ew_complaint *c, const char *fmt, ...)
{
	struct ew_buf b = EW_BUF_INIT;
	va_list ap;

	if (c->why != NULL)
		return -1;
	va_start(ap, fmt);
	ew_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->why = ew_buf_detach(&b);
	ew_buf_free(&b);
	return -1;
}

/* ---- incident fields (text_int.h) ---- */

void
ew_tx_no_time(struct ew_mtime *tm, int64_t date, int has_date)
{
	memset(tm, 0, sizeof(*tm));
	tm->zs = EW_ZONE_NONE;
	tm->to = date;
	tm->has_to = has_date;
}

char *
ew_tx_dup_ports(const char *p)
{
	return p != NULL && *p != '\0' ? ew_strndup(p, strlen(p)) : NULL;
}
