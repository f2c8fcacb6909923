#!/bin/sh
# contrib/exitwarden-serve.service and .socket are units systemd
# accepts, and the service's ExecStart is a command line this exitwarden
# accepts: serve started with the same options (scratch database and
# key files, a loopback port for --listen), answering the notice page,
# then stopped by SIGTERM with status 0.  Exit 77 when systemd-analyze
# is not installed.
set -eu
ew=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
unit=$src/contrib/exitwarden-serve.service.in
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "systemd-analyze not installed: skipped"
	exit 77
}
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
sed "s|@BINDIR@/exitwarden|$ew|" "$unit" >"$tmp/exitwarden-serve.service"
cp "$src/contrib/exitwarden-serve.socket" "$tmp/"
out=$(systemd-analyze verify "$tmp/exitwarden-serve.service" \
	"$tmp/exitwarden-serve.socket" 2>&1 || true)
bad=$(printf '%s\n' "$out" | grep 'exitwarden-serve' || true)
if [ -n "$bad" ]; then
	printf 'FAIL: systemd-analyze verify:\n%s\n' "$bad"
	exit 1
fi
echo "ok: systemd-analyze verify"
(umask 077 && head -c 32 /dev/urandom >"$tmp/web-token.key" &&
	echo "0123456789abcdef0123" >"$tmp/metrics.token")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
args=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | tr -d '\\\n' |
	sed 's/^ExecStart=[^ ]*//' |
	sed "s|\${EXITWARDEN_CONTACT}|abuse@example.org|" |
	sed "s|0.0.0.0:80|127.0.0.1:$port|" |
	sed "s|/var/lib/exitwarden/|$tmp/|g; s|/etc/exitwarden/|$tmp/|g")
# shellcheck disable=SC2086 # the unit's words, split as systemd does
set -- $args
"$ew" "$@" >"$tmp/out" 2>&1 &
pid=$!
ok=0
for _ in $(seq 50); do
	if python3 - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=2)
sys.exit(0 if r.status == 200 and b"Tor exit" in r.read() else 1)
PY
		ok=1
		break
	fi
	sleep 0.1
done
if [ $ok -ne 1 ]; then
	echo "FAIL: the unit's command line does not serve: $ew $*"
	cat "$tmp/out"
	exit 1
fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [ $rc -ne 0 ]; then
	echo "FAIL: serve exited $rc on SIGTERM"
	exit 1
fi
echo "ok: the unit's command line serves the notice and stops on SIGTERM"
# Socket activation (what exitwarden-serve.socket does): the socket
# systemd hands over is used, --listen (an address it could not bind
# here) ignored.
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "systemd-socket-activate not installed: activation not checked"
	echo "2 passed, 0 failed"
	exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
systemd-socket-activate -l "127.0.0.1:$port" "$ew" --db "$tmp/exitwarden.db" \
	serve --listen 192.0.2.1:80 --token-key "$tmp/web-token.key" \
	>"$tmp/out2" 2>&1 &
pid=$!
ok=0
for _ in $(seq 50); do
	if python3 - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=2)
sys.exit(0 if r.status == 200 and b"Tor exit" in r.read() else 1)
PY
		ok=1
		break
	fi
	sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""
if [ $ok -ne 1 ]; then
	echo "FAIL: serve did not answer on the activated socket"
	cat "$tmp/out2"
	exit 1
fi
echo "ok: socket activation"
echo "3 passed, 0 failed"
