/*
 * privsep.h - complaint parsing in an unprivileged child, for inbox scan
 * and run (style.md 0.12; OpenBSD smtpd and relayd).
 *
 * The parent (root, CAP_NET_ADMIN, the database) reads each message's
 * bytes and hands them over a socketpair to a child it starts for that
 * one message: forked, stripped of privileges (supplementary groups,
 * gid and uid of the parser user; no capabilities, an empty bounding
 * set, PR_SET_NO_NEW_PRIVS; limits on address space, CPU time, file
 * size, open files and processes), then re-executed from
 * /proc/self/exe, so it shares no memory with the parent (no control
 * password, no database pages) and no state with the children before
 * it.  It parses with ew_complaint_parse_at (now: the receive time, which
 * bounds deadlines) and answers with the
 * complaint encoded by ew_complaint_encode, or the reason it is not a
 * complaint; the parent decodes that with ew_complaint_decode (the one
 * reader of the child's bytes, fuzzed as fuzz_wire).
 *
 * The parent bounds each message by a wall-clock limit: a child that
 * runs past it, crashes, exits badly or answers garbage is killed and
 * the message reported as unreadable; the next message gets a new
 * child.  SIGTERM or SIGINT (the `stop` flag the caller's handler sets)
 * kills the child at once and the message is left alone.
 */
#ifndef EW_CLI_PRIVSEP_H
#define EW_CLI_PRIVSEP_H

#include <signal.h>
#include <stddef.h>

struct ew_complaint;

/* The hidden argument the re-executed child runs with. */
#define EW_PRIVSEP_CHILD_ARG "__parse-mail"
/* Default per-message wall-clock limit, seconds. */
#define EW_PRIVSEP_TIMEOUT 60

struct ew_privsep_opts {
	const char *user; /* as root: the parser's user; NULL for
			     _exitwarden when it exists, else nobody */
	int timeout_s;    /* per message; 0 for EW_PRIVSEP_TIMEOUT */
};

enum {
	EW_PRIVSEP_OK = 0,
	EW_PRIVSEP_NOT_COMPLAINT = 1, /* the parser said why, in msg */
	EW_PRIVSEP_FAILED = 2,        /* crash, timeout, garbage: in msg */
	EW_PRIVSEP_STOPPED = 3,       /* *stop was set: message untouched */
};

struct ew_privsep;

/* Resolve the user, open our executable.  0, or -1 with a message
 * printed. */
int ew_privsep_new(const struct ew_privsep_opts *o, volatile sig_atomic_t *stop,
    struct ew_privsep **out);
void ew_privsep_free(struct ew_privsep *ps);

/*
 * Parse one message in a child, received at `received` (the time its
 * deadlines are bounded by: the Maildir delivery time).  EW_PRIVSEP_OK and *out
 * (free with ew_complaint_free), or one of the codes above with a message in
 * msg; -errno when the parent itself failed (no socket, no fork).
 */
int ew_privsep_parse(struct ew_privsep *ps, const char *name, const char *data,
    size_t len, int64_t received, struct ew_complaint **out, char *msg,
    size_t msglen);

/* The child's main (main.c runs it for EW_PRIVSEP_CHILD_ARG). */
int ew_privsep_child_main(void);

#endif
