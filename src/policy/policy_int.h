/*
 * policy_int.h - the source form of a policy, for policy/ and its tests.
 *
 * A parsed file is a list of options (last one wins, as in torrc), the
 * rules in file order, the named port sets and the address tables.  A
 * rule is one tor item (a bare line, or one comma piece of an ExitPolicy
 * line) that may name a table in place of its address and a port set in
 * place of its ports; it expands to the cross product.
 */
#ifndef EW_POLICY_INT_H
#define EW_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/diag.h"
#include "policy/policy.h"

struct ew_buf;
struct ew_guards;

enum ew_kw {
	EW_KW_ACCEPT,
	EW_KW_REJECT,
	EW_KW_ACCEPT6,
	EW_KW_REJECT6,
};

struct ew_range {
	uint16_t lo, hi;
};

struct ew_portset {
	char *name;
	struct ew_range *r; /* sorted, merged */
	size_t n;
	struct ew_loc loc; /* definition; src NULL for built-ins */
	int builtin;
};

struct ew_tentry {
	struct ew_addr addr;
	uint8_t maskbits;
};

struct ew_table {
	char *name;
	char *path; /* NULL for an inline { ... } table */
	struct ew_tentry *e;
	size_t n;
	struct ew_loc loc;
};

/*
 * A tor exit-policy pattern after tor_addr_parse_mask_ports: family
 * EW_AF_NONE is the "*" wildcard that expands to both families.
 */
struct ew_pat {
	struct ew_addr addr;
	uint8_t maskbits;
	uint8_t is_private;
	uint16_t pmin, pmax;
};

struct ew_rule {
	uint8_t kw;        /* enum ew_kw */
	uint8_t in_line;   /* 1: a piece of an ExitPolicy line */
	uint8_t ignored;   /* accept6/reject6 with a non-IPv6 pattern */
	struct ew_pat pat; /* when no table / port set stands in */
	int table;         /* index into tables, or -1 */
	int portset;       /* index into portsets, or -1 */
	char *text;        /* the item as written */
	char *reason;
	char *ticket;
	int64_t expires; /* EW_NEVER when not set */
	unsigned group;  /* rules of one ExitPolicy line share a group */
	struct ew_loc loc;
};

/* Options, with tor's defaults; `set` bits say which were written. */
enum ew_opt {
	EW_OPT_EXITRELAY,
	EW_OPT_IPV6EXIT,
	EW_OPT_REJECTPRIVATE,
	EW_OPT_REJECTLOCAL,
	EW_OPT_REDUCED,
	EW_OPT_BRIDGE,
	EW_OPT_NBOOL,
};

/* Outbound bind address kinds, in the order tor adds them. */
enum ew_obind {
	EW_OBIND_EXIT,
	EW_OBIND_OR,
	EW_OBIND_PT,
	EW_OBIND_ANY,
	EW_OBIND_N,
};

struct ew_opts {
	int v[EW_OPT_NBOOL];                 /* ExitRelay: -1 auto, 0, 1 */
	unsigned set;                        /* 1 << enum ew_opt */
	struct ew_addr address[2];           /* [0] IPv4, [1] IPv6 */
	struct ew_addr obind[EW_OBIND_N][2]; /* [kind][IPv4, IPv6] */
	int exitpolicy_lines;                /* ExitPolicy lines with a value */
};

struct ew_policy {
	struct ew_src **srcs; /* every text read, for locations */
	size_t nsrcs;
	struct ew_opts opts;
	struct ew_rule *rules;
	size_t nrules, caprules;
	struct ew_portset *sets;
	size_t nsets;
	struct ew_table *tables;
	size_t ntables;
	unsigned ngroups;
	struct ew_guards *guards; /* guard.c; NULL when there are none */
};

/*
 * What one parse may read.  A 1M-entry table file is ~20 MB (~45 MB of
 * IPv6 host addresses): legitimate, so the byte budget is generous; the
 * count of files is what stops fan-out (a file that includes the next
 * one four times, 13 deep, would otherwise be read 16.7M times).
 */
#define EW_MAX_FILE (256u << 20)  /* largest policy or table file */
#define EW_MAX_BYTES (256u << 20) /* all the files of one parse */
#define EW_MAX_FILES 1024         /* include and table files of a parse */
#define EW_MAX_INCLUDE_DEPTH 16

/*
 * What a parse read: files opened (the top file, includes and table
 * files, refused ones too) and bytes read.  For tests that bound the
 * work a hostile policy causes.
 */
struct ew_parse_stats {
	size_t files, bytes;
};

/* ew_policy_parse_file, also telling what it read (stats may be NULL). */
int ew_policy_parse_file_stats(const char *path, unsigned flags,
    struct ew_diag_list *diags, struct ew_policy **out,
    struct ew_parse_stats *stats);

/* item.c: tor's pattern grammar. */
struct ew_pat_err {
	const char *msg;    /* static text, or NULL */
	char detail[256];   /* formatted message when msg is NULL */
	size_t first, last; /* 0-based byte offsets in the pattern */
};

/*
 * The parts of a pattern as tor_addr_parse_mask_ports splits it, as
 * offsets into the pattern: the address (without brackets), the mask
 * (after '/'), the ports (after ':').  A part that is absent has
 * len == SIZE_MAX.
 */
struct ew_pat_parts {
	size_t a_off, a_len;
	size_t m_off, m_len;
	size_t p_off, p_len;
};

int ew_pat_split(const char *s, size_t n, struct ew_pat_parts *parts,
    struct ew_pat_err *err);
int ew_pat_addr(const char *s, size_t n, int v6kw, struct ew_pat *pat, int *any,
    struct ew_pat_err *err);
int ew_pat_mask(const char *s, size_t n, int any, struct ew_pat *pat,
    struct ew_pat_err *err);
int ew_pat_ports(const char *s, size_t n, uint16_t *lo, uint16_t *hi,
    struct ew_pat_err *err);
/*
 * "ADDR" or "ADDR/MASK" (IPv6 also in brackets) with tor's address and
 * mask rules but no wildcard and no ports: a table entry, an allow-list
 * item.  0, or -1 with the error on err.
 */
int ew_pat_net(
    const char *s, size_t n, struct ew_pat *pat, struct ew_pat_err *err);
/* The whole pattern (router_parse_addr_policy with the extended star);
 * `private:PORTS` included. */
int ew_pat_parse(const char *s, size_t n, int v6kw, struct ew_pat *pat,
    struct ew_pat_err *err);

/* The twelve private nets, in tor's order. */
#define EW_NPRIVATE 12
extern const struct ew_pat ew_private_nets[EW_NPRIVATE];

/*
 * tor's exit_policy_remove_redundancies (redundancy.c): the quadratic
 * original, kept as the reference, and the same result computed in
 * near-linear time, which expansion uses.
 */
void ew_remove_redundancies(struct ew_item *items, size_t *n);
/* Pass 1 of both: drop a family's items after its catch-all. */
void ew_cut_after_catchalls(struct ew_item *items, size_t *n);
int ew_remove_redundancies_fast(struct ew_item *items, size_t *n);
/* For tests: how the fast removal answers "is there an item of the
 * other action below": 0 by the amount of work, 1 always with its
 * segment trees, -1 always by looking at each. */
extern int ew_redundancy_sweep;
/* IPv4 items from which the prefix sort packs them in 8 bytes (1024;
 * tests lower it to compare both sorts on small lists). */
extern size_t ew_redundancy_pack_min;

/* guard.c */
void ew_guards_free(struct ew_guards *gs);
void ew_guards_show(const struct ew_policy *p, struct ew_buf *b);

#endif
