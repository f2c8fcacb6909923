/*
 * relay.h - the relays of this host, as the commands that change what
 * the exit enforces see them: a name, the uid the tor instance runs as
 * (the nftables dispatch: meta skuid), its ControlPort and auth, its
 * torrc fragment, its managed policy file and the operator's policy.
 *
 * Up to EW_RELAYS_MAX relays (8 may share an exit address; a host may
 * have two addresses).  Filled from exitwarden.conf's relays
 * (ew_cli_relays_conf) or --relay options (src/cli/relays.c): whoever fills
 * struct ew_cli_apply's relays[] (nrelays) then calls
 * ew_cli_relays_ready, which checks uids and names and fills managed
 * (managed-NAME.policy beside the database) and policy.  control,
 * cookie, fragment may be NULL (the global option's value).  Strings
 * are borrowed: they live as long as whatever filled the array.
 */
#ifndef EW_DESK_RELAY_H
#define EW_DESK_RELAY_H

#include <stdint.h>

#define EW_RELAYS_MAX 16

struct ew_relay {
	const char *name;     /* "exit1", "198.51.100.10_9000" */
	uint32_t uid;         /* meta skuid of its connections */
	int uid_set;          /* 1: uid given (a relay without is refused) */
	const char *user;     /* the user it was given as, or NULL */
	const char *control;  /* "HOST:PORT" or a socket path */
	const char *cookie;   /* its control.authcookie, or NULL */
	const char *fragment; /* the torrc fragment it %includes, or NULL */
	const char *managed;  /* its managed policy file */
	const char *policy;   /* the operator's policy for it */
};

#endif
