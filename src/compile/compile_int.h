/*
 * compile_int.h - the compiled matcher's layout, for compile/ and its
 * tests and benchmarks.
 *
 * Per family the address space is cut into elementary intervals (the
 * boundaries of every item's prefix), adjacent intervals with the same
 * answers merged.  Each interval carries a class id; a class is what
 * tor would answer for an address in the interval: a verdict for every
 * port and the answer for port 0.  Classes are hash-consed during the
 * sweep; their port maps are laid out afterwards (see EW_KIND_*): with
 * few classes a leaf map each (256 leaf ids of 256-bit leaves, both
 * hash-consed; up to EW_DIRECT_CLASSES also plain 65,536-bit maps), with
 * many the smallest of a few runs, pooled runs, or a window of runs over
 * a reference class.
 *
 * IPv4 intervals are found through a directory of 65,536 entries (one
 * per /16: the index of the interval holding the /16's first address),
 * then a search among the few intervals inside that /16, whose starts
 * are stored as their low 16 bits (DXR's D16 idea).  Entries pack the
 * low 16 bits of the start and a 16-bit class in 4 bytes while there are
 * fewer than 65,536 classes, else 8 bytes.  IPv6 uses the same directory
 * on the top 16 bits, then a sub-directory per populated /16 on as many
 * further bits as make windows of about two intervals; while there
 * are fewer than 65,535 classes an entry is 8 bytes: the low 48 bits of
 * the start's high half and the class, so a lookup reads one line of entries
 * and finds the class there.  Only when the address's high 64 bits equal an
 * entry's does the search look at the low halves, kept apart.  These
 * entries are laid out per /16 with a head and pads (pack.c, pack_e6) so
 * that a window is counted without bounds, and a per-/16 word (sdir)
 * takes an address to its slot with one shift and one add.
 *
 * Deciding items (explain) are found separately: items are filed by
 * (family, mask, prefix) in a hash table, and the decider is the first
 * item, in list order, among the few prefixes of the address.
 */
#ifndef EW_COMPILE_INT_H
#define EW_COMPILE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "compile/compile.h"

/* Up to this many intervals a family is searched without a directory. */
#define EW_SMALL_INTERVALS 16
/* An IPv6 /16's sub-directory is on at most this many further bits. */
#define EW_SUBDIR_MAXBITS 20
#define EW_SUB_EMPTY 31
/* IPv6 windows of up to this many entries are counted, not searched. */
#define EW_LIN6 4
/* The low 16 bits of an IPv6 search key: above every class (e6 entries
 * are kept only with fewer than 65,535 classes), below the pads. */
#define EW_KEY6 0xfffe
/* In sub6: the window is longer than EW_LIN6 (the rest: a position). */
#define EW_BIG6 0x80000000u

#define EW_CLASS_REJECT 0
#define EW_CLASS_ACCEPT 1

/*
 * How a class's port map is kept.  With at most EW_FLAT_CLASSES classes
 * every class has a leaf map (the lookup has no branch on the kind);
 * beyond, each class takes the smallest form that fits: a port map
 * is a list of runs whose answers alternate (accept, reject, ...), so a
 * run is its start alone.  A class that differs from one of the first
 * long classes (its reference, which has a leaf map) only within a
 * window of ports keeps just its runs inside the window.
 */
#define EW_FLAT_CLASSES 1024
/* Up to this many classes, each also has its 65,536 answers as bits. */
#define EW_DIRECT_CLASSES 64
#define EW_CLASS_RUNS 4 /* runs kept in the class itself */
#define EW_MAX_REFS 8   /* reference classes */

enum {
	EW_KIND_LEAF,   /* map: first of 256 leaf ids */
	EW_KIND_REJECT, /* every port rejected */
	EW_KIND_ACCEPT, /* every port accepted */
	EW_KIND_RUNS,   /* nruns runs in lo[] (lo[0] is 0) */
	EW_KIND_POOL,   /* lo[0] | lo[1] << 16 runs in rlo[] from map */
	EW_KIND_DIFF,   /* ports lo[0]..lo[1]: lo[2] runs in rlo[] from map
			   (the first starts at lo[0]); others: class lo[3] */
};

struct ew_class {
	uint8_t noport; /* enum ew_verdict for port 0 */
	uint8_t kind;   /* EW_KIND_* */
	uint8_t nruns;  /* with EW_KIND_RUNS */
	uint8_t acc0;   /* whether the first run accepts */
	uint16_t lo[EW_CLASS_RUNS];
	uint32_t map;
};

struct ew_fam {
	/* dir[h]: the first interval starting at or after h << (width-16);
	 * dir[65536] = n.  The interval holding an address is the last
	 * one of [dir[h], dir[h+1]) starting at or below it, or dir[h]-1. */
	uint32_t *dir;
	size_t n;       /* intervals; interval 0 starts at address 0 */
	uint16_t *lo16; /* IPv4: the low 16 bits of each start */
	uint32_t *e4;   /* IPv4, < 65536 classes: lo16 << 16 | class */
	uint32_t *s4;   /* IPv4, small: full starts (no directory) */
	uint64_t *s6;   /* IPv6, >= 65536 classes: starts, (high, low) */
	uint64_t *e6;   /* IPv6, < 65536 classes: the low 48 bits of the start's
			   high half << 16 | class (the /16 is the directory's),
			   per /16 with a head and pads (pack.c, pack_e6) */
	uint64_t *l6;   /* IPv6 with e6: the low half of each start */
	size_t ne6;     /* entries in e6 and l6 */
	uint32_t *suboff; /* IPv6: per /16, its sub-directory: offset in
			     sub[] << 5 | bits; for a /16 without intervals
			     dir[h] << 5 | EW_SUB_EMPTY, or with e6 its
			     class << 5 | EW_SUB_EMPTY.  With these, dir is
			     NULL */
	uint32_t *sub;
	size_t nsub;
	uint64_t *sdir; /* IPv6 with e6 (instead of suboff): per /16,
			   (slot0 - (h << bits)) mod 2^32 << 32 | 48 - bits,
			   so that sub6[(sdir >> 32) + (hi >> (sdir & 63))]
			   (mod 2^32) is the slot of hi */
	uint32_t *sub6; /* IPv6 with e6: the sub-directories, in e6
			   positions (pack.c, pack_e6) */
	uint64_t *s6hi; /* IPv6, small: each start, high and low halves */
	uint64_t *s6lo;
	uint16_t *c16; /* class of each interval, when < 65536 classes */
	uint32_t *c32; /* ... otherwise */
};

struct ew_dnode;

struct ew_compiled {
	const struct ew_item *items; /* borrowed from the expanded policy */
	size_t nitems;
	struct ew_fam f4, f6;
	struct ew_class *classes;
	size_t nclasses;
	int flat;          /* every class has a leaf map, at k * 256 */
	uint64_t *pbits;   /* with flat and few classes: 1,024 words per
			      class, bit set: accept */
	uint16_t *leafids; /* 256 per class with a leaf map */
	uint64_t *leaves;  /* 4 words (256 bits) per leaf; bit set: accept */
	uint16_t *rlo;     /* the run pool: run starts */
	size_t nrpool;
	size_t nleaves;
	uint8_t unknown[65536]; /* verdict per port for an unknown address */
	uint32_t *unknown_dec;  /* decider per port for an unknown address */
	/* the explain index */
	struct ew_dnode *dn;
	size_t dncap;
	uint32_t *dlist; /* item indices, grouped per node, ascending */
	uint8_t masks4[33], masks6[129];
	unsigned nmasks4, nmasks6;
	size_t bytes; /* size of the lookup structure (not the explain index) */
};

/* ---- between the compiler's files (compile.c, pack.c, explain.c) ---- */

/* Swept intervals of one family: starts (IPv4 in lo) and classes. */
struct ew_ivs {
	uint64_t *hi, *lo;
	uint32_t *cls;
	size_t n, cap;
};

static inline uint64_t
ew_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* The sub-directory slot of hi in a /16's s-bit sub-directory. */
static inline uint32_t
ew_sub6_key(uint64_t hi, unsigned s)
{
	return (uint32_t)(((hi << 16) >> 1) >> (63 - s));
}

/* pack.c: the classes' port maps from their keys (kpool[koff[k]]: the
 * key's length, the port-0 answer, the runs as start << 1 | accept); also
 * counts their bytes.  0, or -1 out of memory. */
int ew_compile_classes(
    struct ew_compiled *c, const uint32_t *kpool, const uint32_t *koff);
/* pack.c: lay v out as family f of c; 0, or -1 out of memory. */
int ew_compile_pack(
    struct ew_compiled *c, struct ew_fam *f, const struct ew_ivs *v, int v6);
/* pack.c: the answers for unknown addresses (and their deciders). */
int ew_compile_unknown(struct ew_compiled *c, int keep_deciders);
/* explain.c: the index of deciding items; 0, or -1 out of memory. */
int ew_compile_explain_index(struct ew_compiled *c);

#endif
