/*
 * tor.h - putting a policy into a running tor, verified, with rollback.
 *
 * Three steps, each usable alone:
 *
 *  - the fragment: the torrc text that carries a policy (a generated-by
 *    header, then ew_policy_torrc's lines), written atomically (temporary
 *    file in the same directory, fsync, rename, fsync of the directory)
 *    for the operator's %include;
 *  - the plan: the SETCONF pairs that make tor build the policy's list
 *    (the options the policy sets, tor's defaults for the policy options
 *    it does not set, every ExitPolicy line), the list tor must then
 *    report (ew_expanded_format), and the descriptor-size check;
 *  - apply: over the ControlPort, remember the current values of those
 *    options and the current fragment, write the new fragment, SETCONF,
 *    force the descriptor rebuild, read GETINFO exit-policy/full back and
 *    compare.  On any error or mismatch the previous configuration and
 *    fragment are put back.
 *
 * Options a policy may set that are the relay's identity rather than its
 * policy (Address, OutboundBindAddress*, BridgeRelay) are sent only when
 * the policy sets them, never reset.  Messages go to the caller's
 * diagnostics list; nothing here prints.
 */
#ifndef EW_EMIT_TOR_H
#define EW_EMIT_TOR_H

#include <stddef.h>
#include <stdint.h>

#include "emit/ctl.h"

struct ew_addr;

struct ew_buf;
struct ew_diag_list;
struct ew_expanded;
struct ew_policy;

/* tor refuses to publish a descriptor larger than this. */
#define EW_TOR_DESC_MAX 20000
/* What we keep free for the rest of the descriptor (keys, certificates,
 * family, contact, platform, proto, signatures). */
#define EW_TOR_DESC_RESERVE 4096

/* The fragment: header naming the policy and the time, then the lines. */
void ew_tor_fragment(const struct ew_policy *p, const char *policy_name,
    int64_t now, struct ew_buf *out);

/*
 * Replace the file at path with data, atomically and durably.  0, or
 * -errno with an error on d.  ew_tor_write_file makes a private file
 * (mode 0600 whatever the umask: the managed policy);
 * ew_tor_write_fragment one tor can read after dropping privileges
 * (0644 when new; an existing file keeps its mode, owner and group).
 */
int ew_tor_write_file(
    const char *path, const char *data, size_t n, struct ew_diag_list *d);
int ew_tor_write_fragment(
    const char *path, const char *data, size_t n, struct ew_diag_list *d);

struct ew_tor_plan {
	struct ew_ctl_kv *kv; /* the SETCONF pairs, in order */
	size_t n;
	char *fragment; /* the fragment text */
	/* what exit-policy/full must say, with tor's defaults for the
	 * settings kept (below); apply makes it again with tor's running
	 * values when they differ */
	char *expected;
	size_t desc_bytes; /* estimated size of the policy in the
			    * descriptor */
	/* the relay settings (1 << enum ew_setting) the policy does not
	 * state: not in the SETCONF, left as tor has them */
	unsigned keep;
	const struct ew_policy *p; /* borrowed: must outlive the plan */
	int64_t now;
	struct ew_addr *ifaddrs; /* ew_tor_plan_env's copy */
	size_t n_ifaddrs;
};

/*
 * Build the plan for policy p, whose expansion (with this machine's
 * interface addresses) is e.  reevaluate adds ReevaluateExitPolicy=1.
 * 0; -E2BIG when the descriptor would be too large for tor (the errors
 * on d name the rules to move to kernel enforcement); -ENOMEM.
 */
int ew_tor_plan_build(const struct ew_policy *p, const struct ew_expanded *e,
    const char *policy_name, int64_t now, int reevaluate,
    struct ew_tor_plan *out, struct ew_diag_list *d);
void ew_tor_plan_free(struct ew_tor_plan *plan);
/* The interface addresses the expansion used (copied), for making the
 * expected list again with tor's settings.  0 or -ENOMEM. */
int ew_tor_plan_env(
    struct ew_tor_plan *plan, const struct ew_addr *ifaddrs, size_t n);

/* With no control given: Debian's socket, else the TCP default. */
#define EW_TOR_CONTROL_SOCKET "/run/tor/control"
#define EW_TOR_CONTROL_TCP "127.0.0.1:9051"

struct ew_tor_target {
	const char *control;     /* "host:port", a socket path, or NULL
				    for EW_TOR_CONTROL_SOCKET then _TCP */
	struct ew_ctl_auth auth; /* cookie file, password */
	int timeout_ms;          /* per wait; 0 for 10 s */
};

struct ew_tor_result {
	const char *auth_method; /* what authenticated us */
	char control[128];       /* the control port or socket used */
	int64_t latency_us;      /* SETCONF sent to list verified */
	int restored;            /* 1 if a rollback was done */
	int fragment_written;
};

/*
 * Apply the plan to the tor at t, writing plan->fragment to
 * fragment_path (NULL: no file).  0 when tor reports exactly
 * plan->expected; otherwise a negative code, errors on d, and the
 * previous configuration and fragment restored (res->restored; an error
 * says so when they could not be).
 */
int ew_tor_apply(const struct ew_tor_plan *plan, const struct ew_tor_target *t,
    const char *fragment_path, struct ew_tor_result *res,
    struct ew_diag_list *d);

struct ew_tor_status {
	char control[128];       /* the control port or socket used */
	const char *auth_method; /* static */
	char *version;           /* GETINFO version */
	char *live;              /* exit-policy/full, NULL if tor has none */
	char digest[65];
	int exit; /* the live list accepts something */
	char *p;  /* the IPv4 summary (microdescriptor "p") */
	char *p6; /* the IPv6 summary */
	/* tor's own addresses (GETINFO address/v4, address/v6), or NULL:
	 * tor rejects them itself when the policy has no Address line */
	char *own[2];
};

/* Read the status of the tor at t.  0, or a negative code with errors
 * on d.  Free with ew_tor_status_free. */
int ew_tor_status_get(const struct ew_tor_target *t, struct ew_tor_status *st,
    struct ew_diag_list *d);
void ew_tor_status_free(struct ew_tor_status *st);

/*
 * A live list without the lines tor adds for its own address ("reject
 * ADDR:*", "reject6 [ADDR]:*", from st->own) that `expected` lacks, into
 * out: what to compare with a policy that has no Address line.
 */
void ew_tor_live_without_own(
    const struct ew_tor_status *st, const char *expected, struct ew_buf *out);

/* GETCONF keys from the tor at t (for -n: what tor runs now).  0 with
 * *out (free with ew_ctl_kv_free), or a negative code with errors on d. */
int ew_tor_getconf(const struct ew_tor_target *t, const char *const *keys,
    size_t n, struct ew_ctl_kv **out, size_t *nout, struct ew_diag_list *d);

/* SHA-256 (hex) of a list's text, trailing newlines normalised to one:
 * the same for tor's exit-policy/full and ew_expanded_format. */
int ew_tor_list_digest(const char *text, char out[65]);

/*
 * Parse an exit-policy/full text (descriptor-format items, one a line)
 * into items.  0, or -EINVAL for a line we cannot read.  Caller frees
 * *items.
 */
struct ew_item;
int ew_tor_parse_list(const char *text, struct ew_item **items, size_t *n);

#endif
