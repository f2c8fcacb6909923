# lib.sh - what the nft shell tests (apply.sh, relays.sh) share; sourced
# inside their network namespace.

# The counts for the closing "N passed, N failed" line.
pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok: $1"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL: $1"
}
# check WHAT COMMAND...: ok when COMMAND succeeds (its output dropped)
check() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

# listen_both TMP: a listener on 127.0.0.1:6667 and 127.0.0.1:6668 in
# the background (each connection accepted and closed; it ends after 30 s
# without one), its PID in $srv; returns once it listens (5 s at most).
listen_both() {
	python3 - "$1/ready" <<'PY' &
import socket, sys, select
ls = []
for port in (6667, 6668):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    ls.append(s)
open(sys.argv[1], "w").close()
while True:
    r, _, _ = select.select(ls, [], [], 30)
    if not r:
        break
    for s in r:
        c, _ = s.accept()
        c.close()
PY
	srv=$!
	i=0
	while [ ! -e "$1/ready" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# conn UID PORT: 0 when a TCP connection to 127.0.0.1:PORT as UID succeeds
conn() {
	timeout 5 setpriv --reuid="$1" --regid="$1" --clear-groups \
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null
}
