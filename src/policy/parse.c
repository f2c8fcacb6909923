/*
 * parse.c - reading a policy file into its source form (policy_int.h).
 *
 * The file is read line by line.  The first word of a line decides what
 * it is:
 *
 *	NAME = PORTS ...		a named port set
 *	table <NAME> file "PATH"	an address table from a file
 *	table <NAME> { ADDR, ... }	an inline address table
 *	include "PATH"			another policy file, in place
 *	[opt] accept|reject|accept6|reject6 PATTERN [annotations]
 *					one rule, as in a descriptor
 *	<torrc option> VALUE		ExitPolicy, IPv6Exit, ... read with
 *					torrc's own rules (comments,
 *					quoting, '\' continuation)
 *
 * Every error is recorded with its location and parsing goes on with the
 * next line, so one run reports them all; the caller gets a policy only
 * when there was none.  Port sets and tables are read by parse_sets.c,
 * guards by guard.c, and the primitives all of them use (diagnostics,
 * sources, file reading) are in parse_base.c; parse_int.h has what they
 * share.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/file.h"
#include "lib/tm.h"
#include "policy/parse_int.h"
#include "policy/policy_int.h"

static const char *const kw_word[] = { "accept", "reject", "accept6",
	"reject6" };

static const char *const opt_name[EW_OPT_NBOOL] = {
	[EW_OPT_EXITRELAY] = "ExitRelay",
	[EW_OPT_IPV6EXIT] = "IPv6Exit",
	[EW_OPT_REJECTPRIVATE] = "ExitPolicyRejectPrivate",
	[EW_OPT_REJECTLOCAL] = "ExitPolicyRejectLocalInterfaces",
	[EW_OPT_REDUCED] = "ReducedExitPolicy",
	[EW_OPT_BRIDGE] = "BridgeRelay",
};

static const int opt_default[EW_OPT_NBOOL] = {
	[EW_OPT_EXITRELAY] = -1,
	[EW_OPT_IPV6EXIT] = 0,
	[EW_OPT_REJECTPRIVATE] = 1,
	[EW_OPT_REJECTLOCAL] = 0,
	[EW_OPT_REDUCED] = 0,
	[EW_OPT_BRIDGE] = 0,
};

static const char *const obind_name[EW_OBIND_N] = {
	[EW_OBIND_EXIT] = "OutboundBindAddressExit",
	[EW_OBIND_OR] = "OutboundBindAddressOR",
	[EW_OBIND_PT] = "OutboundBindAddressPT",
	[EW_OBIND_ANY] = "OutboundBindAddress",
};

/* Built-in port sets; a file may redefine each once. */
static const struct {
	const char *name, *ports;
} builtin_sets[] = {
	{ "irc", "194,529,994,6660-7000" },
	{ "smtp", "25,465,587" },
	{ "ssh", "22" },
	{ "telnet", "23" },
	{ "smb", "135-139,445" },
	{ "nntp", "119,563" },
	{ "bittorrent", "6881-6999" },
	{ "web", "80,443" },
};

const char *ew_policy_kw_word(int kw);
const char *ew_policy_opt_name(int opt);
const char *ew_policy_obind_name(int kind);

const char *
ew_policy_kw_word(int kw)
{
	return kw_word[kw];
}

const char *
ew_policy_opt_name(int opt)
{
	return opt_name[opt];
}

const char *
ew_policy_obind_name(int kind)
{
	return obind_name[kind];
}

/* ---- rules ------------------------------------------------------------ */

static struct ew_rule *
new_rule(struct pstate *ps)
{
	struct ew_policy *p = ps->p;
	struct ew_rule *nv, *r;

	nv = ew_ps_grow(p->rules, &p->caprules, p->nrules, sizeof(*nv));
	if (nv == NULL) {
		ew_ps_oom(ps);
		return NULL;
	}
	p->rules = nv;
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	r->table = -1;
	r->portset = -1;
	r->expires = EW_NEVER;
	return r;
}

static int
keyword(const char *s, size_t n)
{
	int k;

	for (k = 0; k < 4; k++) {
		if (ew_str_is(kw_word[k], s, n))
			return k;
	}
	return -1;
}

static int
is_v6kw(int kw)
{
	return kw == EW_KW_ACCEPT6 || kw == EW_KW_REJECT6;
}

/* The accept6/reject6 with IPv4 check of tor's item parser. */
static void
check_v6kw(struct pstate *ps, struct ew_rule *r, const char *b, const char *e)
{
	if (!is_v6kw(r->kw) || r->table >= 0)
		return;
	if (r->pat.is_private || r->pat.addr.family != EW_AF_INET6) {
		r->ignored = 1;
		if (r->pat.is_private)
			WARN(ps, b, e,
			    "%s '%.*s' is ignored (tor drops it; '%s "
			    "private' covers both families)",
			    kw_word[r->kw], (int)(e - b), b,
			    r->kw == EW_KW_ACCEPT6 ? "accept" : "reject");
		else
			WARN(ps, b, e,
			    "%s with IPv4 address '%.*s' is ignored (tor drops "
			    "it; use %s)",
			    kw_word[r->kw], (int)(e - b), b,
			    r->kw == EW_KW_ACCEPT6 ? "accept" : "reject");
	}
}

/*
 * The pattern of a bare rule, which may use a table for its address and
 * a port set for its ports.  Fills r; returns -1 on error (reported).
 */
static int
parse_ext_pattern(
    struct pstate *ps, struct ew_rule *r, const char *s, const char *e)
{
	struct ew_pat_err err;
	const char *ports = NULL;
	size_t n = (size_t)(e - s);

	if (*s == '<') {
		const char *ne = s + 1;
		int k;

		while (ne < e && is_name_char(*ne))
			ne++;
		if (ne >= e || *ne != '>' || ne == s + 1) {
			ERR(ps, s, e, "malformed table reference '%.*s'",
			    (int)n, s);
			return -1;
		}
		k = ew_ps_find_table(ps->p, s + 1, (size_t)(ne - s - 1));
		if (k < 0) {
			ERR(ps, s, ne + 1, "unknown table <%.*s>",
			    (int)(ne - s - 1), s + 1);
			return -1;
		}
		r->table = k;
		if (ne + 1 < e) {
			if (ne[1] != ':') {
				ERR(ps, ne + 1, e,
				    "expected ':' and ports after the table, "
				    "found '%.*s'",
				    (int)(e - ne - 1), ne + 1);
				return -1;
			}
			ports = ne + 2;
		}
		r->pat.pmin = 1;
		r->pat.pmax = 65535;
		if (is_v6kw(r->kw)) {
			const struct ew_table *t = &ps->p->tables[k];
			size_t i, n4 = 0;

			for (i = 0; i < t->n; i++)
				n4 += t->e[i].addr.family == EW_AF_INET;
			if (n4 > 0)
				WARN(ps, s, ne + 1,
				    "%zu IPv4 entries of <%s> are ignored by "
				    "%s (tor drops them)",
				    n4, t->name, kw_word[r->kw]);
		}
	} else {
		const char *dollar = memchr(s, '$', n);

		if (dollar == NULL) {
			if (ew_pat_parse(s, n, is_v6kw(r->kw), &r->pat, &err) <
			    0) {
				TERR(ps, s + err.first, s + err.last + 1, "%s",
				    err.msg ? err.msg : err.detail);
				return -1;
			}
			return 0;
		}
		if (dollar == s || dollar[-1] != ':') {
			ERR(ps, dollar, e,
			    "a port set ('$name') must follow "
			    "':'");
			return -1;
		}
		/* Everything before ":$name" is an ordinary address. */
		{
			struct ew_pat_parts pp;
			int any;
			size_t an = (size_t)(dollar - 1 - s);

			if (an >= 7 && memcmp(s, "private", 7) == 0) {
				if (an != 7) {
					ERR(ps, s, dollar - 1,
					    "malformed 'private'");
					return -1;
				}
				r->pat.is_private = 1;
			} else {
				if (ew_pat_split(s, an, &pp, &err) < 0 ||
				    ew_pat_addr(s + pp.a_off, pp.a_len,
					is_v6kw(r->kw), &r->pat, &any,
					&err) < 0) {
					ERR(ps, s + err.first, s + err.last + 1,
					    "%s",
					    err.msg ? err.msg : err.detail);
					return -1;
				}
				if (pp.p_len != SIZE_MAX) {
					ERR(ps, s + pp.p_off - 1, dollar - 1,
					    "malformed address before the port "
					    "set");
					return -1;
				}
				if (ew_pat_mask(s + pp.m_off, pp.m_len, any,
					&r->pat, &err) < 0) {
					ERR(ps, s + pp.m_off + err.first,
					    s + pp.m_off + err.last + 1, "%s",
					    err.msg ? err.msg : err.detail);
					return -1;
				}
			}
		}
		ports = dollar;
	}
	if (ports != NULL) {
		if (ports < e && *ports == '$') {
			int k = ew_ps_find_set(
			    ps->p, ports + 1, (size_t)(e - ports - 1));

			if (k < 0) {
				ERR(ps, ports, e, "unknown port set '%.*s'",
				    (int)(e - ports - 1), ports + 1);
				return -1;
			}
			r->portset = k;
		} else if (ew_pat_ports(ports, (size_t)(e - ports),
			       &r->pat.pmin, &r->pat.pmax, &err) < 0) {
			ERR(ps, ports + err.first, ports + err.last + 1, "%s",
			    err.msg ? err.msg : err.detail);
			return -1;
		}
	}
	return 0;
}

/* Annotations after a bare rule's pattern. */
static int
parse_annotations(
    struct pstate *ps, struct ew_rule *r, const char *s, const char *e)
{
	int bad = 0;

	for (;;) {
		const char *w, *we, *v, *ve;
		char *val = NULL;

		s = skip_blank(s, e);
		if (s >= e || *s == '#')
			break;
		w = s;
		we = word_end(w, e);
		v = skip_blank(we, e);
		if ((we - w == 6 && memcmp(w, "reason", 6) == 0) ||
		    (we - w == 6 && memcmp(w, "ticket", 6) == 0)) {
			char **slot = w[0] == 'r' ? &r->reason : &r->ticket;

			if (v >= e || *v == '#') {
				ERR(ps, w, we, "'%.*s' needs a value",
				    (int)(we - w), w);
				return -1;
			}
			if (*v == '"') {
				ve = ew_ps_read_quoted(ps, v, e, &val);
				if (ve == NULL)
					return -1;
			} else {
				ve = word_end(v, e);
				val = ew_strndup(v, (size_t)(ve - v));
				if (val == NULL) {
					ew_ps_oom(ps);
					return -1;
				}
			}
			if (*slot != NULL) {
				ERR(ps, w, ve, "'%.*s' is given twice",
				    (int)(we - w), w);
				free(val);
				bad = 1;
			} else if (memchr(val, '\n', strlen(val)) != NULL) {
				ERR(ps, v, ve, "a %.*s cannot span lines",
				    (int)(we - w), w);
				free(val);
				bad = 1;
			} else {
				*slot = val;
			}
			s = ve;
		} else if (we - w == 7 && memcmp(w, "expires", 7) == 0) {
			int64_t t;

			ve = word_end(v, e);
			if (v >= ve) {
				ERR(ps, w, we, "'expires' needs a time");
				return -1;
			}
			if (ew_time_parse(v, (size_t)(ve - v), &t) < 0) {
				ERR(ps, v, ve,
				    "malformed time '%.*s' (use "
				    "YYYY-MM-DD[THH:MM[:SS]Z])",
				    (int)(ve - v), v);
				bad = 1;
			} else if (r->expires != EW_NEVER) {
				ERR(ps, w, ve, "'expires' is given twice");
				bad = 1;
			} else {
				r->expires = t;
			}
			s = ve;
		} else {
			ERR(ps, w, we,
			    "unexpected '%.*s' after the rule (a rule has one "
			    "pattern; annotations are reason, ticket, expires)",
			    (int)(we - w), w);
			return -1;
		}
	}
	return bad ? -1 : 0;
}

static void
free_rule(struct ew_rule *r)
{
	free(r->text);
	free(r->reason);
	free(r->ticket);
}

/* A bare rule line; s points at the keyword (after any "opt"). */
static void
parse_bare_rule(
    struct pstate *ps, int kw, const char *kb, const char *ke, const char *e)
{
	struct ew_rule *r;
	const char *pb, *pe;

	pb = skip_blank(ke, e);
	if (pb >= e || *pb == '#') {
		TERR(ps, kb, ke,
		    "'%s' needs an address pattern, as in "
		    "'%s *:80'",
		    kw_word[kw], kw_word[kw]);
		return;
	}
	pe = word_end(pb, e);
	if (memchr(pb, ',', (size_t)(pe - pb)) != NULL) {
		const char *c = memchr(pb, ',', (size_t)(pe - pb));

		TERR(ps, c, c + 1,
		    "a rule line holds one rule; write one per line, or use "
		    "an ExitPolicy line for a comma-separated list");
		return;
	}
	r = new_rule(ps);
	if (r == NULL)
		return;
	r->kw = (uint8_t)kw;
	r->group = ps->p->ngroups++;
	r->loc.src = ps->src;
	r->loc.line = ps->lineno;
	r->loc.first = (unsigned)(kb - ps->line) + 1;
	r->loc.last = (unsigned)(pe - ps->line);
	if (parse_ext_pattern(ps, r, pb, pe) < 0 ||
	    parse_annotations(ps, r, pe, e) < 0) {
		free_rule(r);
		return;
	}
	{
		struct ew_buf t = EW_BUF_INIT;

		ew_buf_printf(&t, "%s %.*s", kw_word[kw], (int)(pe - pb), pb);
		r->text = ew_buf_detach(&t);
	}
	if (r->text == NULL) {
		free_rule(r);
		ew_ps_oom(ps);
		return;
	}
	check_v6kw(ps, r, pb, pe);
	ps->p->nrules++;
}

/* ---- torrc option lines ----------------------------------------------- */

/*
 * The value of a torrc line as tor's parse_config_line_from_str_verbose
 * reads it, starting after the key.  *end is set to where the next line
 * starts, *lines_used to the physical lines consumed.  *direct is set when
 * the value is a plain substring of the source (at *vb), so columns map.
 */
static char *
torrc_value(struct pstate *ps, const char *s, const char *fe, const char **end,
    unsigned *lines_used, const char **vb, int *direct)
{
	const char *p = s, *val, *cp;
	int cont = 0;
	char *out;

	*lines_used = 1;
	while (p < fe && (*p == ' ' || *p == '\t'))
		p++;
	val = p;
	*vb = val;
	*direct = 1;
	if (p < fe && *p == '"') {
		/* A quoted value: C-like escapes, nothing but a comment
		 * after it. */
		struct ew_buf b = EW_BUF_INIT;

		p++;
		while (p < fe && *p != '"' && *p != '\n') {
			if (*p == '\\' && p + 1 < fe) {
				p++;
				switch (*p) {
				case 'n':
					ew_buf_putc(&b, '\n');
					break;
				case 't':
					ew_buf_putc(&b, '\t');
					break;
				case 'r':
					ew_buf_putc(&b, '\r');
					break;
				case '"':
				case '\\':
				case '\'':
					ew_buf_putc(&b, *p);
					break;
				default:
					ew_buf_free(&b);
					ERR(ps, p - 1, p + 1,
					    "unsupported escape in quoted "
					    "value");
					goto skipline;
				}
				p++;
			} else {
				ew_buf_putc(&b, *p++);
			}
		}
		if (p >= fe || *p != '"') {
			ew_buf_free(&b);
			ERR(ps, val, p, "unterminated quoted value");
			goto skipline;
		}
		p++;
		while (p < fe && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < fe && *p != '\n' && *p != '#') {
			ew_buf_free(&b);
			ERR(ps, p, word_end(p, fe),
			    "excess data after the quoted value");
			goto skipline;
		}
		while (p < fe && *p != '\n')
			p++;
		*end = p < fe ? p + 1 : fe;
		*direct = 0;
		out = ew_buf_detach(&b);
		if (out == NULL)
			ew_ps_oom(ps);
		return out;
	}
	while (p < fe && *p != '\n' && (*p != '#' || cont)) {
		if (*p == '\\' && p + 1 < fe && p[1] == '\n') {
			cont = 1;
			p += 2;
			(*lines_used)++;
		} else if (*p == '#') {
			while (p < fe && *p != '\n')
				p++;
			if (p < fe) {
				p++;
				(*lines_used)++;
			}
		} else {
			p++;
		}
	}
	cp = p;
	while (p < fe && *p != '\n') /* a trailing comment */
		p++;
	if (p < fe)
		p++;
	*end = p;
	while (cp > val && is_space(cp[-1]))
		cp--;
	if (!cont)
		return ew_strndup(val, (size_t)(cp - val));
	*direct = 0;
	{
		struct ew_buf b = EW_BUF_INIT;
		const char *q = val;

		while (q < cp) {
			if (*q == '#') {
				while (q < cp && *q != '\n')
					q++;
				if (q < cp)
					q++;
			} else if (q + 1 < cp && q[0] == '\\' && q[1] == '\n') {
				q += 2;
			} else {
				ew_buf_putc(&b, *q++);
			}
		}
		out = ew_buf_detach(&b);
		if (out == NULL)
			ew_ps_oom(ps);
		return out;
	}
skipline:
	while (p < fe && *p != '\n')
		p++;
	*end = p < fe ? p + 1 : fe;
	return NULL;
}

/*
 * One comma piece of an ExitPolicy value, tokenized as tor's
 * get_next_token does: optional "opt", a case-sensitive keyword, and
 * exactly one argument.
 */
static void
parse_piece(struct pstate *ps, const char *s, const char *e, const char *lb,
    const char *le, unsigned group)
{
	const char *w, *we, *a, *ae, *more;
	struct ew_rule *r;
	struct ew_pat_err err;
	int kw;

	w = s;
	we = w;
	while (we < e && !(*we == ' ' || *we == '\t' || *we == '\r' ||
			     *we == '\n' || *we == '#'))
		we++;
	if (we - w == 3 && memcmp(w, "opt", 3) == 0) {
		w = we;
		while (w < e && (*w == ' ' || *w == '\t'))
			w++;
		we = w;
		while (we < e && !(*we == ' ' || *we == '\t' || *we == '\r' ||
				     *we == '\n' || *we == '#'))
			we++;
	}
	kw = keyword(w, (size_t)(we - w));
	if (kw < 0) {
		TERR(ps, lb ? lb : NULL, le,
		    "expected 'accept' or 'reject' (or accept6/reject6), "
		    "found '%.*s'",
		    (int)(we - w), w);
		return;
	}
	/* get_token_arguments: split on blanks; '#' ends an argument, and
	 * after a blank starts a comment. */
	a = we;
	while (a < e && (*a == ' ' || *a == '\t'))
		a++;
	if (a >= e) {
		TERR(ps, lb, le, "'%s' needs an address pattern", kw_word[kw]);
		return;
	}
	ae = a;
	while (ae < e && !(*ae == ' ' || *ae == '\t' || *ae == '\r' ||
			     *ae == '\n' || *ae == '#'))
		ae++;
	more = ae;
	if (more < e) {
		if (*more == '#') {
			/* "x#y": the '#' ends x and y is another argument */
			more++;
		} else {
			while (more < e) {
				if (*more == ' ' || *more == '\t' ||
				    *more == '\r' || *more == '\n') {
					more++;
				} else if (*more == '#') {
					while (more < e && *more != '\n')
						more++;
				} else {
					break;
				}
			}
		}
	}
	if (more < e) {
		TERR(ps, lb, le,
		    "'%.*s' has more than one pattern (separate rules with "
		    "',')",
		    (int)(e - s), s);
		return;
	}
	r = new_rule(ps);
	if (r == NULL)
		return;
	r->kw = (uint8_t)kw;
	r->in_line = 1;
	r->group = group;
	r->loc.src = ps->src;
	r->loc.line = ps->lineno;
	r->loc.first = lb ? (unsigned)(lb - ps->line) + 1 : 0;
	r->loc.last = lb ? (unsigned)(le - ps->line) : 0;
	if (ew_pat_parse(a, (size_t)(ae - a), is_v6kw(kw), &r->pat, &err) < 0) {
		if (lb != NULL)
			TERR(ps, lb + (a - s) + err.first,
			    lb + (a - s) + err.last + 1, "%s",
			    err.msg ? err.msg : err.detail);
		else
			TERR(ps, NULL, NULL, "%s (in '%.*s')",
			    err.msg ? err.msg : err.detail, (int)(e - s), s);
		free_rule(r);
		return;
	}
	{
		struct ew_buf t = EW_BUF_INIT;

		ew_buf_printf(&t, "%s %.*s", kw_word[kw], (int)(ae - a), a);
		r->text = ew_buf_detach(&t);
		if (r->text == NULL) {
			free_rule(r);
			ew_ps_oom(ps);
			return;
		}
	}
	check_v6kw(ps, r, lb ? lb + (a - s) : NULL, lb ? lb + (ae - s) : NULL);
	ps->p->nrules++;
}

static void
parse_exitpolicy(struct pstate *ps, const char *val, const char *vb, int direct)
{
	const char *s = val, *e = val + strlen(val);
	unsigned group = ps->p->ngroups++;

	ps->p->opts.exitpolicy_lines++;
	while (s <= e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *pe = c != NULL ? c : e, *b = s;

		while (b < pe && is_space(*b))
			b++;
		while (pe > b && is_space(pe[-1]))
			pe--;
		if (pe > b)
			parse_piece(ps, b, pe, direct ? vb + (b - val) : NULL,
			    direct ? vb + (pe - val) : NULL, group);
		if (c == NULL)
			break;
		s = c + 1;
	}
}

static int
parse_bool(const char *v, int autobool)
{
	if (strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "1") == 0)
		return 1;
	if (autobool && strcasecmp(v, "auto") == 0)
		return -1;
	return -2;
}

/*
 * tor looks an Address up with getaddrinfo when it is not a strict IP
 * address, and the C library then reads IPv4 as inet_aton does:
 * "1.2.3" is 1.2.0.3, "0x7f.1" is 127.0.0.1.
 */
static int
lenient_v4(const char *s, struct ew_addr *a)
{
	struct in_addr in;

	if (inet_aton(s, &in) == 0)
		return 0;
	memset(a, 0, sizeof(*a));
	a->family = EW_AF_INET;
	memcpy(a->b, &in.s_addr, 4);
	return 1;
}

static void
set_address(struct pstate *ps, struct ew_addr slot[2], const char *key,
    const char *val, const char *vb, const char *ve)
{
	struct ew_addr a;
	int fi;

	if (!ew_addr_parse(val, &a) &&
	    !(strcmp(key, "Address") == 0 && lenient_v4(val, &a))) {
		ERR(ps, vb, ve,
		    "%s '%s' is not an IP address (exitwarden does not "
		    "resolve host names)",
		    key, val);
		return;
	}
	fi = a.family == EW_AF_INET ? 0 : 1;
	if (slot[fi].family != EW_AF_NONE) {
		ERR(ps, vb, ve, "more than one IPv%d %s", fi ? 6 : 4, key);
		return;
	}
	slot[fi] = a;
}

/* A torrc option line.  Returns the start of the next line. */
static const char *
parse_option(struct pstate *ps, const char *kb, const char *ke, const char *fe)
{
	const char *next, *vb;
	unsigned used;
	int direct, k;
	char *val;
	size_t klen = (size_t)(ke - kb);
	unsigned line0 = ps->lineno;

	val = torrc_value(ps, ke, fe, &next, &used, &vb, &direct);
	if (val == NULL) {
		ps->lineno += used - 1;
		return next;
	}
	if (klen == 10 && strncasecmp(kb, "ExitPolicy", 10) == 0) {
		if (val[0] == '\0')
			WARN(ps, kb, ke,
			    "ExitPolicy has no value; ignored "
			    "(as tor does)");
		else
			parse_exitpolicy(ps, val, vb, direct);
		goto done;
	}
	if (klen == 7 && strncasecmp(kb, "Address", 7) == 0) {
		if (val[0] != '\0')
			set_address(ps, ps->p->opts.address, "Address", val, vb,
			    vb + strlen(val));
		else
			memset(ps->p->opts.address, 0,
			    sizeof(ps->p->opts.address));
		goto done;
	}
	for (k = 0; k < EW_OBIND_N; k++) {
		if (strlen(obind_name[k]) == klen &&
		    strncasecmp(kb, obind_name[k], klen) == 0) {
			if (val[0] != '\0')
				set_address(ps, ps->p->opts.obind[k],
				    obind_name[k], val, vb, vb + strlen(val));
			else
				memset(ps->p->opts.obind[k], 0,
				    sizeof(ps->p->opts.obind[k]));
			goto done;
		}
	}
	for (k = 0; k < EW_OPT_NBOOL; k++) {
		if (strlen(opt_name[k]) == klen &&
		    strncasecmp(kb, opt_name[k], klen) == 0) {
			int v;

			if (val[0] == '\0') {
				/* torrc: an empty value resets the option */
				ps->p->opts.v[k] = opt_default[k];
				ps->p->opts.set &= ~(1u << k);
				goto done;
			}
			v = parse_bool(val, k == EW_OPT_EXITRELAY);
			if (v == -2) {
				ERR(ps, vb, direct ? vb + strlen(val) : vb,
				    "%s takes %s, not '%s'", opt_name[k],
				    k == EW_OPT_EXITRELAY ? "0, 1 or auto"
							  : "0 or 1",
				    val);
				goto done;
			}
			ps->p->opts.v[k] = v;
			ps->p->opts.set |= 1u << k;
			goto done;
		}
	}
	for (k = 0; k < 4; k++) {
		if (strlen(kw_word[k]) == klen &&
		    strncasecmp(kb, kw_word[k], klen) == 0) {
			TERR(ps, kb, ke,
			    "unknown keyword '%.*s' (rule keywords are "
			    "lowercase: '%s')",
			    (int)klen, kb, kw_word[k]);
			goto done;
		}
	}
	ERR(ps, kb, ke, "unknown keyword '%.*s'", (int)klen, kb);
done:
	(void)line0;
	free(val);
	ps->lineno += used - 1;
	return next;
}

/* ---- includes and the line loop --------------------------------------- */

static int parse_text(struct pstate *ps, const struct ew_src *src);

static void
parse_include(struct pstate *ps, const char *s, const char *e)
{
	const char *q = skip_blank(s, e), *after;
	char *path = NULL, *full;
	struct ew_src *src;
	struct pstate sub;
	struct ew_file f;
	int i;

	if (q >= e || *q != '"') {
		ERR(ps, q, word_end(q, e),
		    "expected a quoted file name after "
		    "'include'");
		return;
	}
	after = ew_ps_read_quoted(ps, q, e, &path);
	if (after == NULL)
		return;
	if (skip_blank(after, e) < e && *skip_blank(after, e) != '#') {
		ERR(ps, after, e, "unexpected text after the file name");
		free(path);
		return;
	}
	if (ps->flags & EW_PARSE_NO_INCLUDE) {
		ERR(ps, q, after, "include is not allowed here");
		free(path);
		return;
	}
	full = ew_ps_rel_path(ps->src, path);
	free(path);
	if (full == NULL) {
		ew_ps_oom(ps);
		return;
	}
	if (ps->depth >= EW_MAX_INCLUDE_DEPTH) {
		ERR(ps, q, after, "includes nested deeper than %d",
		    EW_MAX_INCLUDE_DEPTH);
		free(full);
		return;
	}
	if (ew_ps_read(ps, "", full, q, after, &f) < 0) {
		free(full);
		return;
	}
	/* A loop is the same file, however it is spelt or linked. */
	for (i = 0; i <= ps->depth; i++) {
		if (ps->files->open[i].set && ps->files->open[i].dev == f.dev &&
		    ps->files->open[i].ino == f.ino) {
			ERR(ps, q, after, "'%s' includes itself", full);
			free(f.text);
			free(full);
			return;
		}
	}
	src = ew_ps_add_src(ps, full, f.text, f.len);
	free(f.text);
	free(full);
	if (src == NULL) {
		ew_ps_oom(ps);
		return;
	}
	src->parent = ps->src;
	src->pline = ps->lineno;
	src->pfirst = (unsigned)(s - ps->line) - 6;
	src->plast = (unsigned)(after - ps->line);
	sub = *ps;
	sub.depth = ps->depth + 1;
	ps->files->open[sub.depth].dev = f.dev;
	ps->files->open[sub.depth].ino = f.ino;
	ps->files->open[sub.depth].set = 1;
	parse_text(&sub, src);
	ps->files->open[sub.depth].set = 0;
}

static int
parse_text(struct pstate *ps, const struct ew_src *src)
{
	const char *s = src->text, *fe = src->text + src->len;

	ps->src = src;
	ps->lineno = 0;
	if (memchr(s, '\0', src->len) != NULL) {
		struct ew_loc loc = { src, 0, 0, 0 };

		ew_diag_add(ps->d, EW_SEV_ERROR, &loc,
		    "file contains a NUL byte; is it a policy file?");
		return -1;
	}
	while (s < fe) {
		const char *eol = memchr(s, '\n', (size_t)(fe - s));
		const char *w, *we, *next;

		if (eol == NULL)
			eol = fe;
		ps->lineno++;
		ps->line = s;
		next = eol < fe ? eol + 1 : fe;
		if (ps->d->nerr > EW_DIAG_MAX_ERRORS ||
		    (ps->files != NULL && ps->files->stop))
			break;
		w = s;
		while (w < eol && is_space(*w))
			w++;
		if (w >= eol || *w == '#') {
			s = next;
			continue;
		}
		/* NAME = ... defines a port set. */
		we = w;
		while (we < eol && is_name_char(*we))
			we++;
		if (we > w) {
			const char *eq = skip_blank(we, eol);

			if (eq < eol && *eq == '=') {
				const char *ce = eq;

				while (ce < eol && *ce != '#')
					ce++;
				if (!((*w >= 'a' && *w <= 'z') ||
					(*w >= 'A' && *w <= 'Z') || *w == '_'))
					ERR(ps, w, we,
					    "a port set name starts with a "
					    "letter");
				else
					ew_ps_setdef(ps, w, eq, ce);
				s = next;
				continue;
			}
		}
		we = w;
		while (we < eol && !is_space(*we) && *we != '#')
			we++;
		if (we - w == 3 && memcmp(w, "opt", 3) == 0) {
			const char *k = skip_blank(we, eol), *ke;
			int kw;

			ke = word_end(k, eol);
			kw = keyword(k, (size_t)(ke - k));
			if (kw < 0)
				TERR(ps, k, ke,
				    "expected 'accept' or 'reject' after "
				    "'opt'");
			else
				parse_bare_rule(ps, kw, k, ke, eol);
			s = next;
			continue;
		}
		{
			int kw = keyword(w, (size_t)(we - w));

			if (kw >= 0) {
				parse_bare_rule(ps, kw, w, we, eol);
				s = next;
				continue;
			}
		}
		if (we - w == 5 && memcmp(w, "guard", 5) == 0) {
			ew_ps_guard(ps, we, eol);
			s = next;
			continue;
		}
		if (we - w == 6 && memcmp(w, "guards", 6) == 0) {
			ew_ps_guards(ps, we, eol);
			s = next;
			continue;
		}
		if (we - w == 5 && memcmp(w, "table", 5) == 0) {
			ew_ps_table(ps, we, eol);
			s = next;
			continue;
		}
		if (we - w == 7 && memcmp(w, "include", 7) == 0) {
			parse_include(ps, we, eol);
			ps->src = src;
			s = next;
			continue;
		}
		s = parse_option(ps, w, we, fe);
	}
	return 0;
}

static void
post_checks(struct pstate *ps, size_t first_diag)
{
	const struct ew_opts *o = &ps->p->opts;

	if (o->v[EW_OPT_EXITRELAY] == 0)
		ew_diag_soften(ps->d, first_diag, TAG_TOR,
		    " (ignored: with ExitRelay 0 tor does not read the exit "
		    "policy)");

	if (o->v[EW_OPT_BRIDGE] == 1 &&
	    (o->v[EW_OPT_EXITRELAY] == 1 || ps->p->nrules > 0 ||
		o->exitpolicy_lines > 0))
		ew_diag_add(ps->d, EW_SEV_WARNING, NULL,
		    "BridgeRelay is 1, but ExitRelay is 1 or an exit policy is "
		    "configured: tor will not work as an exit relay");
}

static struct ew_policy *
policy_new(void)
{
	struct ew_policy *p = calloc(1, sizeof(*p));
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < EW_OPT_NBOOL; i++)
		p->opts.v[i] = opt_default[i];
	for (i = 0; i < sizeof(builtin_sets) / sizeof(builtin_sets[0]); i++) {
		struct pstate ps;
		struct ew_diag_list d;
		struct ew_range *r = NULL;
		size_t n = 0;
		const char *t = builtin_sets[i].ports;

		memset(&ps, 0, sizeof(ps));
		ew_diag_init(&d);
		ps.p = p;
		ps.d = &d;
		ps.line = t;
		if (ew_ps_portlist(&ps, t, t + strlen(t), &r, &n) < 0 ||
		    ew_ps_add_set(p, builtin_sets[i].name,
			strlen(builtin_sets[i].name), r, n, NULL, 1) < 0) {
			free(r);
			ew_diag_free(&d);
			ew_policy_free(p);
			return NULL;
		}
		ew_diag_free(&d);
	}
	return p;
}

static int
parse_common(const char *name, const char *text, size_t len, unsigned flags,
    struct ew_diag_list *diags, struct ps_files *files, struct ew_policy **out)
{
	struct ew_policy *p = policy_new();
	struct pstate ps;
	struct ew_src *src;
	size_t before = diags->nerr, first_diag = diags->n;

	*out = NULL;
	if (p == NULL)
		return -ENOMEM;
	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.d = diags;
	ps.flags = flags;
	ps.files = files;
	src = ew_ps_add_src(&ps, name, text, len);
	if (src == NULL) {
		ew_policy_free(p);
		return -ENOMEM;
	}
	parse_text(&ps, src);
	post_checks(&ps, first_diag);
	if (diags->nerr > before) {
		ew_policy_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

int
ew_policy_parse_string(const char *name, const char *text, size_t len,
    unsigned flags, struct ew_diag_list *diags, struct ew_policy **out)
{
	struct ps_files fs;

	memset(&fs, 0, sizeof(fs));
	return parse_common(name, text, len, flags, diags, &fs, out);
}

int
ew_policy_parse_file_stats(const char *path, unsigned flags,
    struct ew_diag_list *diags, struct ew_policy **out,
    struct ew_parse_stats *stats)
{
	struct ps_files fs;
	struct ew_file f;
	int r;

	*out = NULL;
	memset(&fs, 0, sizeof(fs));
	fs.nfiles = 1;
	/* The operator names this one: a pipe (/dev/stdin) will do. */
	r = ew_file_load(path, EW_LOAD_PIPE_OK, EW_MAX_FILE, &f);
	if (r == -EFBIG)
		ew_diag_add(diags, EW_SEV_ERROR, NULL,
		    "cannot read '%s': larger than %u MiB", path,
		    EW_MAX_FILE >> 20);
	else if (r < 0)
		ew_diag_add(diags, EW_SEV_ERROR, NULL, "cannot read '%s': %s",
		    path, f.why);
	else {
		fs.nbytes = f.len;
		fs.open[0].dev = f.dev;
		fs.open[0].ino = f.ino;
		fs.open[0].set = 1;
		r = parse_common(path, f.text, f.len, flags, diags, &fs, out);
		free(f.text);
	}
	if (stats != NULL) {
		stats->files = fs.nfiles;
		stats->bytes = fs.nbytes;
	}
	return r;
}

int
ew_policy_parse_file(const char *path, unsigned flags,
    struct ew_diag_list *diags, struct ew_policy **out)
{
	return ew_policy_parse_file_stats(path, flags, diags, out, NULL);
}

void
ew_policy_free(struct ew_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsrcs; i++)
		ew_src_free(p->srcs[i]);
	free(p->srcs);
	for (i = 0; i < p->nrules; i++)
		free_rule(&p->rules[i]);
	free(p->rules);
	for (i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].r);
	}
	free(p->sets);
	for (i = 0; i < p->ntables; i++) {
		free(p->tables[i].name);
		free(p->tables[i].path);
		free(p->tables[i].e);
	}
	free(p->tables);
	ew_guards_free(p->guards);
	free(p);
}

static struct ew_policy *policy_new(void);

int
ew_addrlist_parse(const char *name, const char *text, size_t len,
    struct ew_diag_list *diags, size_t *count)
{
	struct ew_policy *p = policy_new();
	struct ew_table t;
	struct pstate ps;
	struct ew_src *src;
	size_t before = diags->nerr;
	int r;

	*count = 0;
	if (p == NULL)
		return -ENOMEM;
	memset(&ps, 0, sizeof(ps));
	memset(&t, 0, sizeof(t));
	ps.p = p;
	ps.d = diags;
	src = ew_ps_add_src(&ps, name, text, len);
	if (src == NULL) {
		ew_policy_free(p);
		return -ENOMEM;
	}
	ps.src = src;
	r = ew_ps_table_text(&ps, &t);
	*count = t.n;
	free(t.e);
	ew_policy_free(p);
	return r < 0 || diags->nerr > before ? -EINVAL : 0;
}
