#!/bin/sh
# Page views per second from `exitwarden serve` (issue 15: goal 5,000/s):
# a store with a recorded policy and 50 blocks, serve on loopback, then
# bench_serve's keep-alive and connection-per-view runs of the notice
# page, the block form (a token made per view) and /metrics.
#   sh bench/bench_serve.sh [BUILD_DIR]   (default build/release)
set -eu
build=${1:-build/release}
ew="$build/exitwarden"
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
printf 'ExitPolicy accept *:80\nExitPolicy accept *:443\nExitPolicy reject *:*\n' >"$tmp/p.policy"
"$ew" --db "$tmp/ew.db" policy record "$tmp/p.policy" >/dev/null
python3 - "$tmp/ew.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for i in range(50):
    con.execute("INSERT INTO rules (rule_text, reason, expires_at, added_at,"
                " origin) VALUES (?, 'bench', 1900000000, 1800000000,"
                " 'self-service')", ("reject 198.51.100.%d:*" % i,))
con.commit()
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ew" --db "$tmp/ew.db" serve --listen "127.0.0.1:$port" \
	--contact abuse@exit.example >"$tmp/out" 2>&1 &
pid=$!
i=0
while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "serve did not start" >&2; cat "$tmp/out" >&2; exit 1; }
	sleep 0.05
done
b="$build/bench/bench_serve"
"$b" 127.0.0.1 "$port" / 16 5
"$b" --close 127.0.0.1 "$port" / 16 5
"$b" 127.0.0.1 "$port" /block 16 3
"$b" 127.0.0.1 "$port" /metrics 4 3
