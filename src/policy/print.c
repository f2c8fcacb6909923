/*
 * print.c - the canonical source form of a policy (policy show), and the
 * read-only views other modules use (rule info, statistics).
 *
 * The canonical form is a policy file: options that were set, in a fixed
 * order; the user's port sets; the tables; then the rules in order, each
 * ExitPolicy line kept as one line and each bare rule on its own line
 * with its annotations.  Patterns are printed in their parsed meaning
 * (tor's spelling of the address, host bits kept, "/N" only when N is not
 * the full width), so printing the output again gives the same text.
 * Includes are flattened; table files stay file references.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/tm.h"
#include "policy/policy_int.h"

const char *ew_policy_kw_word(int kw);
const char *ew_policy_opt_name(int opt);
const char *ew_policy_obind_name(int kind);

static void
print_ports(struct ew_buf *b, uint16_t lo, uint16_t hi)
{
	if (lo <= 1 && hi == 65535)
		ew_buf_puts(b, "*");
	else if (lo == hi)
		ew_buf_printf(b, "%u", lo);
	else
		ew_buf_printf(b, "%u-%u", lo, hi);
}

static void
print_addr_mask(struct ew_buf *b, const struct ew_addr *a, unsigned maskbits)
{
	char t[EW_ADDR_STRLEN];

	ew_addr_format(a, 1, t, sizeof(t));
	ew_buf_puts(b, t);
	if (maskbits != ew_addr_bits(a))
		ew_buf_printf(b, "/%u", maskbits);
}

/* A quoted string with \" and \\ escaped. */
static void
print_quoted(struct ew_buf *b, const char *s)
{
	ew_buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			ew_buf_putc(b, '\\');
		ew_buf_putc(b, *s);
	}
	ew_buf_putc(b, '"');
}

static int
plain_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || strchr("-_.:/+@", *s)))
			return 0;
	}
	return 1;
}

static void
print_pattern(
    struct ew_buf *b, const struct ew_policy *p, const struct ew_rule *r)
{
	const struct ew_pat *pat = &r->pat;
	int v6kw = r->kw == EW_KW_ACCEPT6 || r->kw == EW_KW_REJECT6;

	if (r->table >= 0)
		ew_buf_printf(b, "<%s>", p->tables[r->table].name);
	else if (pat->is_private)
		ew_buf_puts(b, "private");
	else if (pat->addr.family == EW_AF_NONE)
		ew_buf_puts(b, "*");
	else if (pat->maskbits == 0 && ew_addr_is_null(&pat->addr))
		ew_buf_puts(b, pat->addr.family == EW_AF_INET ? "*4"
			       : v6kw                         ? "*"
							      : "*6");
	else
		print_addr_mask(b, &pat->addr, pat->maskbits);
	ew_buf_putc(b, ':');
	if (r->portset >= 0)
		ew_buf_printf(b, "$%s", p->sets[r->portset].name);
	else
		print_ports(b, pat->pmin, pat->pmax);
}

static void
print_rule(struct ew_buf *b, const struct ew_policy *p, const struct ew_rule *r)
{
	char t[EW_TIME_STRLEN];

	ew_buf_printf(b, "%s ", ew_policy_kw_word(r->kw));
	print_pattern(b, p, r);
	if (r->in_line)
		return;
	if (r->reason != NULL) {
		ew_buf_puts(b, " reason ");
		print_quoted(b, r->reason);
	}
	if (r->ticket != NULL) {
		ew_buf_puts(b, " ticket ");
		if (plain_word(r->ticket))
			ew_buf_puts(b, r->ticket);
		else
			print_quoted(b, r->ticket);
	}
	if (r->expires != EW_NEVER)
		ew_buf_printf(
		    b, " expires %s", ew_time_format(r->expires, t, sizeof(t)));
}

static void
print_addr_opt(struct ew_buf *b, const char *name, const struct ew_addr *a)
{
	char t[EW_ADDR_STRLEN];

	if (a->family == EW_AF_NONE)
		return;
	ew_addr_format(a, 0, t, sizeof(t));
	ew_buf_printf(b, "%s %s\n", name, t);
}

/*
 * ExitPolicy lines whose pieces were all blank: no rule, but they still
 * set the option (tor then builds an exit policy), so they are kept as
 * "ExitPolicy ,".
 */
static void
blank_exitpolicy_lines(const struct ew_policy *p, struct ew_buf *b)
{
	unsigned withrules = 0, last = (unsigned)-1;
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].in_line && p->rules[i].group != last) {
			withrules++;
			last = p->rules[i].group;
		}
	}
	for (; withrules < (unsigned)p->opts.exitpolicy_lines; withrules++)
		ew_buf_puts(b, "ExitPolicy ,\n");
}

void
ew_policy_show(const struct ew_policy *p, struct ew_buf *b)
{
	const struct ew_opts *o = &p->opts;
	size_t i, j;
	int k, any = 0;

	for (k = 0; k < EW_OPT_NBOOL; k++) {
		if (!(o->set & (1u << k)))
			continue;
		ew_buf_printf(b, "%s %s\n", ew_policy_opt_name(k),
		    o->v[k] < 0 ? "auto"
		    : o->v[k]   ? "1"
				: "0");
		any = 1;
	}
	print_addr_opt(b, "Address", &o->address[0]);
	print_addr_opt(b, "Address", &o->address[1]);
	for (k = EW_OBIND_N - 1; k >= 0; k--) {
		print_addr_opt(b, ew_policy_obind_name(k), &o->obind[k][0]);
		print_addr_opt(b, ew_policy_obind_name(k), &o->obind[k][1]);
	}
	any |= o->address[0].family || o->address[1].family;
	for (k = 0; k < EW_OBIND_N; k++)
		any |= o->obind[k][0].family || o->obind[k][1].family;

	for (i = 0; i < p->nsets; i++) {
		const struct ew_portset *s = &p->sets[i];

		if (s->builtin)
			continue;
		if (any)
			ew_buf_putc(b, '\n');
		any = 0;
		ew_buf_printf(b, "%s = ", s->name);
		for (j = 0; j < s->n; j++) {
			/* a port list has no '*': all ports are 1-65535 */
			if (j > 0)
				ew_buf_putc(b, ',');
			if (s->r[j].lo == s->r[j].hi)
				ew_buf_printf(b, "%u", s->r[j].lo);
			else
				ew_buf_printf(
				    b, "%u-%u", s->r[j].lo, s->r[j].hi);
		}
		ew_buf_putc(b, '\n');
	}
	for (i = 0; i < p->ntables; i++) {
		const struct ew_table *t = &p->tables[i];

		if (i == 0 && b->len > 0)
			ew_buf_putc(b, '\n');
		ew_buf_printf(b, "table <%s> ", t->name);
		if (t->path != NULL) {
			ew_buf_puts(b, "file ");
			print_quoted(b, t->path);
		} else {
			ew_buf_puts(b, "{");
			for (j = 0; j < t->n; j++) {
				ew_buf_puts(b, j ? ", " : " ");
				print_addr_mask(
				    b, &t->e[j].addr, t->e[j].maskbits);
			}
			ew_buf_puts(b, " }");
		}
		ew_buf_putc(b, '\n');
	}
	ew_guards_show(p, b);
	if (p->nrules > 0 && b->len > 0)
		ew_buf_putc(b, '\n');
	/*
	 * Rules in order.  The pieces of one ExitPolicy line share a group
	 * and stay on one line; a line whose pieces were all blank keeps
	 * tor's meaning (ExitPolicy is set) as "ExitPolicy ,".
	 */
	for (i = 0; i < p->nrules; i++) {
		const struct ew_rule *r = &p->rules[i];

		if (!r->in_line) {
			print_rule(b, p, r);
			ew_buf_putc(b, '\n');
			continue;
		}
		ew_buf_puts(b, "ExitPolicy ");
		for (j = i; j < p->nrules && p->rules[j].in_line &&
			    p->rules[j].group == r->group;
		     j++) {
			if (j > i)
				ew_buf_puts(b, ", ");
			print_rule(b, p, &p->rules[j]);
		}
		ew_buf_putc(b, '\n');
		i = j - 1;
	}
	blank_exitpolicy_lines(p, b);
}

size_t
ew_policy_rule_count(const struct ew_policy *p)
{
	return p->nrules;
}

void
ew_policy_rule_info(
    const struct ew_policy *p, size_t i, struct ew_rule_info *out)
{
	const struct ew_rule *r = &p->rules[i];

	out->file = r->loc.src != NULL ? r->loc.src->name : NULL;
	out->line = r->loc.line;
	out->first = r->loc.first;
	out->last = r->loc.last;
	out->text = r->text;
	out->reason = r->reason;
	out->ticket = r->ticket;
	out->expires = r->expires;
}

void
ew_policy_stats(
    const struct ew_policy *p, int64_t now, struct ew_policy_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->rules = p->nrules;
	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].expires == EW_NEVER ||
		    p->rules[i].expires > now)
			out->active++;
		else
			out->expired++;
	}
	for (i = 0; i < p->nsets; i++)
		out->portsets += !p->sets[i].builtin;
	out->tables = p->ntables;
	for (i = 0; i < p->ntables; i++)
		out->table_entries += p->tables[i].n;
}

int64_t
ew_policy_next_expiry(const struct ew_policy *p, int64_t now)
{
	int64_t best = EW_NEVER;
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		int64_t t = p->rules[i].expires;

		if (t != EW_NEVER && t > now && t < best)
			best = t;
	}
	return best;
}

/* One tor item in torrc spelling: extension-free pattern, given ports. */
static void
torrc_item(struct ew_buf *b, int kw, const struct ew_addr *a, unsigned maskbits,
    int wildcard, uint16_t lo, uint16_t hi)
{
	ew_buf_printf(b, "%s ", ew_policy_kw_word(kw));
	if (wildcard)
		ew_buf_puts(b, "*");
	else
		print_addr_mask(b, a, maskbits);
	ew_buf_putc(b, ':');
	print_ports(b, lo, hi);
}

/*
 * The torrc that makes tor build exactly ew_policy_expand's list: the
 * options that were set, then one ExitPolicy line per ExitPolicy line of
 * the file and per active rule line, with tables and port sets expanded
 * into plain tor items.  Expired rules and rules that expand to nothing
 * are left out, as expansion leaves them out.
 */
void
ew_policy_torrc(const struct ew_policy *p, int64_t now, struct ew_buf *b)
{
	const struct ew_opts *o = &p->opts;
	size_t i, j, k;
	int opt;

	for (opt = 0; opt < EW_OPT_NBOOL; opt++) {
		if (o->set & (1u << opt))
			ew_buf_printf(b, "%s %s\n", ew_policy_opt_name(opt),
			    o->v[opt] < 0 ? "auto"
			    : o->v[opt]   ? "1"
					  : "0");
	}
	print_addr_opt(b, "Address", &o->address[0]);
	print_addr_opt(b, "Address", &o->address[1]);
	for (opt = EW_OBIND_N - 1; opt >= 0; opt--) {
		print_addr_opt(b, ew_policy_obind_name(opt), &o->obind[opt][0]);
		print_addr_opt(b, ew_policy_obind_name(opt), &o->obind[opt][1]);
	}
	for (i = 0; i < p->nrules; i++) {
		const struct ew_rule *r = &p->rules[i];
		struct ew_range one = { r->pat.pmin, r->pat.pmax };
		const struct ew_range *rg = &one;
		size_t nr = 1, n = 0;

		if (r->in_line) {
			/* an ExitPolicy line of the file, as it was */
			ew_buf_puts(b, "ExitPolicy ");
			for (j = i; j < p->nrules && p->rules[j].in_line &&
				    p->rules[j].group == r->group;
			     j++) {
				if (j > i)
					ew_buf_putc(b, ',');
				print_rule(b, p, &p->rules[j]);
			}
			ew_buf_putc(b, '\n');
			i = j - 1;
			continue;
		}
		if (r->expires != EW_NEVER && r->expires <= now)
			continue;
		if (r->portset >= 0) {
			rg = p->sets[r->portset].r;
			nr = p->sets[r->portset].n;
		}
		if (r->table < 0) {
			if (r->portset < 0) {
				/* the pattern alone: tor knows no annotations
				 */
				ew_buf_printf(b, "ExitPolicy %s ",
				    ew_policy_kw_word(r->kw));
				print_pattern(b, p, r);
				ew_buf_putc(b, '\n');
				continue;
			}
			ew_buf_puts(b, "ExitPolicy ");
			for (k = 0; k < nr; k++) {
				if (k > 0)
					ew_buf_putc(b, ',');
				if (r->pat.is_private)
					ew_buf_printf(b, "%s private:",
					    ew_policy_kw_word(r->kw));
				else
					torrc_item(b, r->kw, &r->pat.addr,
					    r->pat.maskbits,
					    r->pat.addr.family == EW_AF_NONE ||
						(r->pat.maskbits == 0 &&
						    ew_addr_is_null(
							&r->pat.addr)),
					    rg[k].lo, rg[k].hi);
				if (r->pat.is_private)
					print_ports(b, rg[k].lo, rg[k].hi);
			}
			ew_buf_putc(b, '\n');
			continue;
		}
		for (j = 0; j < p->tables[r->table].n; j++) {
			const struct ew_tentry *te = &p->tables[r->table].e[j];

			for (k = 0; k < nr; k++) {
				ew_buf_puts(b, n++ == 0 ? "ExitPolicy " : ",");
				torrc_item(b, r->kw, &te->addr, te->maskbits, 0,
				    rg[k].lo, rg[k].hi);
			}
		}
		if (n > 0)
			ew_buf_putc(b, '\n');
	}
	blank_exitpolicy_lines(p, b);
}
