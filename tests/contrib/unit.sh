#!/bin/sh
# contrib/exitwarden.service.in (its ExecStart path filled in as cmake
# --install does) is a unit systemd accepts, and its ExecStart is a
# command line this exitwarden accepts (run with the same options, --once
# --no-apply, with a scratch configuration naming a scratch database,
# policy and Maildir).
# Exit 77 when systemd-analyze is not installed.
set -eu
ew=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
unit_in=$src/contrib/exitwarden.service.in
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "systemd-analyze not installed: skipped"
	exit 77
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/exitwarden.service
sed "s|@BINDIR@/exitwarden|$ew|" "$unit_in" >"$unit"
if grep -q '@[A-Z]*@' "$unit"; then
	echo "FAIL: a placeholder other than @BINDIR@ in the unit"
	exit 1
fi
out=$(systemd-analyze verify "$tmp/exitwarden.service" 2>&1 || true)
# messages about other units of this machine are not ours
bad=$(printf '%s\n' "$out" | grep 'exitwarden.service' || true)
if [ -n "$bad" ]; then
	printf 'FAIL: systemd-analyze verify:\n%s\n' "$bad"
	exit 1
fi
echo "ok: systemd-analyze verify"
# The ExecStart options, with scratch paths, parse and run once.
mkdir -p "$tmp/md/new" "$tmp/md/cur" "$tmp/md/tmp" "$tmp/tor"
printf 'ExitRelay 1\nExitPolicy accept *:*\n' >"$tmp/exit.policy"
# the configuration the unit names, as exitwarden setup would write it
cat >"$tmp/exitwarden.conf" <<EOF
database "$tmp/exitwarden.db"
maildir "$tmp/md"
policy "$tmp/exit.policy"
EOF
args=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | tr -d '\\\n' |
	sed 's/^ExecStart=[^ ]*//' |
	sed "s|\${EXITWARDEN_INTERVAL}|60|" |
	sed "s|/var/lib/exitwarden/|$tmp/|g; s|/etc/exitwarden/|$tmp/|; s|/etc/tor/torrc.d/|$tmp/tor/|")
# shellcheck disable=SC2086 # the unit's words, split as systemd does
set -- $args
"$ew" "$@" --once --no-apply >"$tmp/out" 2>&1 || {
	echo "FAIL: the unit's command line: $ew $* --once --no-apply"
	cat "$tmp/out"
	exit 1
}
grep -q "^run: database $tmp/exitwarden.db, policy $tmp/exit.policy, inbox $tmp/md," "$tmp/out" || {
	echo "FAIL: run did not start as the unit says:"
	cat "$tmp/out"
	exit 1
}
echo "ok: the unit's command line runs (--once --no-apply)"
echo "2 passed, 0 failed"
