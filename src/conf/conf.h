/*
 * conf.h - exitwarden's configuration file (/etc/exitwarden/
 * exitwarden.conf): where the store, the inbox and the templates live,
 * and the tor relays of this host with how to reach and enforce each.
 *
 * The file is written in the policy language's manner: one setting a
 * line, '#' comments, values as bare words or "quoted strings" (only
 * \" and \\ escape), a relay's settings in a block:
 *
 *	database "/var/lib/exitwarden/exitwarden.db"
 *	maildir "/var/mail/abuse/Maildir"
 *	relay default {
 *		control "/run/tor/control"
 *		cookie "/run/tor/control.authcookie"
 *		user debian-tor
 *	}
 *
 * Parsing is all or nothing: every error is queued on the caller's
 * diagnostic list with its file, line and columns, parsing goes on to
 * report them all, and a configuration is returned only when there was
 * none.  Settings a relay does not give take Debian's values for a
 * relay of that name (ew_conf_relay_debian): the system tor for
 * "default", else the tor@NAME instance of tor-instance-create.
 * Nothing here prints; the caller owns the result and frees it with
 * ew_conf_free.
 */
#ifndef EW_CONF_CONF_H
#define EW_CONF_CONF_H

#include <stddef.h>

struct ew_buf;
struct ew_diag_list;

/* The default place of the file. */
#define EW_CONF_PATH "/etc/exitwarden/exitwarden.conf"
/* Larger files are refused (a configuration is a few hundred bytes). */
#define EW_CONF_MAX_SIZE (1u << 20)
/* At most this many relays (tor's authorities admit 8 per address). */
#define EW_CONF_MAX_RELAYS 64

/* One tor relay of this host.  Strings are owned by the ew_conf. */
struct ew_conf_relay {
	char *name;
	char *control;       /* a socket path, or HOST:PORT */
	char *cookie;        /* cookie file, or NULL */
	char *password_file; /* or NULL; excludes cookie */
	char *user;          /* the user tor runs as (nft's uid match) */
	char *torrc;         /* the relay's torrc (exitwarden setup) */
	char *fragment;      /* the torrc fragment exitwarden writes */
	char *managed;       /* its managed policy, or NULL: beside the db */
	char *policy;        /* the operator's policy, or NULL: global */
	unsigned line;       /* where its block starts, 0 if synthetic */
};

struct ew_conf {
	char *path;     /* the file read, or NULL */
	char *database; /* each NULL when not given */
	char *maildir;
	char *templates;
	char *policy;    /* the operator's policy, for every relay */
	char *nft_state; /* the last loaded nft ruleset */
	struct ew_conf_relay *relays;
	size_t n_relays;
};

/*
 * Parse text (len bytes, named `name` in diagnostics).  0 and *out, or
 * -EINVAL (errors on d, *out NULL), -ENOMEM.
 */
int ew_conf_parse(const char *name, const char *text, size_t len,
    struct ew_diag_list *d, struct ew_conf **out);
/*
 * Read and parse the file at path.  -ENOENT when there is none (no
 * diagnostic: the caller decides whether that is an error), other
 * -errno values with a diagnostic on d, else as ew_conf_parse.
 */
int ew_conf_load(
    const char *path, struct ew_diag_list *d, struct ew_conf **out);
void ew_conf_free(struct ew_conf *c);

/* An empty configuration (no file). NULL when out of memory. */
struct ew_conf *ew_conf_new(void);
/*
 * Add a relay named name with Debian's settings for it (as a block with
 * only the name would have).  The new relay, or NULL when out of memory
 * or name is not a valid relay name.
 */
struct ew_conf_relay *ew_conf_add_relay(struct ew_conf *c, const char *name);
/* Set one string field (a copy of value; NULL clears it): 0 or -ENOMEM. */
int ew_conf_set(char **field, const char *value);

/* The relay named name, or NULL. */
const struct ew_conf_relay *ew_conf_relay_find(
    const struct ew_conf *c, const char *name);

/*
 * The configuration as text, every relay's settings spelled out: what
 * ew_conf_parse reads back to the same configuration.  0 or -ENOMEM.
 */
int ew_conf_format(const struct ew_conf *c, struct ew_buf *out);

/* Whether s may be a relay name (1..64 bytes of [A-Za-z0-9._-]:
 * Debian's alphanumeric instances and ansible-relayor's IP_ORPort). */
int ew_conf_relay_name_ok(const char *s);

/* ---- the torrc edit of exitwarden setup (torrc.c) ---- */

/* The options exitwarden takes over from the torrc (NULL-terminated):
 * the exit policy and the switches that shape it. */
extern const char *const ew_conf_taken_over[];
/* What a line moved out of the torrc starts with. */
#define EW_CONF_TORRC_MARK "#exitwarden-setup# "

struct ew_conf_torrc_edit {
	char *text; /* the new torrc */
	size_t len;
	char *moved;    /* the lines commented out, as they were, or NULL */
	size_t n_moved; /* settings moved out */
	int include_added;
};

/*
 * The torrc text (len bytes) as exitwarden setup leaves it: every
 * setting of a taken-over option commented out with the marker (and
 * returned in moved), "%include include" the last setting.  Applying it
 * to its own result changes nothing.  0 or -ENOMEM; free with
 * ew_conf_torrc_edit_free.
 */
int ew_conf_torrc_edit(const char *text, size_t len, const char *include,
    struct ew_conf_torrc_edit *out);
void ew_conf_torrc_edit_free(struct ew_conf_torrc_edit *e);

#endif
