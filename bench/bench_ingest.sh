#!/bin/sh
# bench_ingest.sh [BUILD] - complaints into the store: N generated mails
# (tests/tools/mkmaildir.py: every complaint shape, resends, a few
# unreadable ones) read by one 'exitwarden inbox scan' into a fresh
# database -- parse, judge every incident against the recorded policy
# history, ticket, one transaction and one rename per mail -- and, for
# comparison, one 'exitwarden complaint add' process per mail over the
# first M of them.  A policy naming the sources as the relay's addresses
# is recorded first, so the verdicts are real ones (allowed, blocked,
# not ours).  Prints the figures; changes nothing outside a temporary
# directory.  Not run by ctest.
#
# EW_BENCH_INGEST_MAILS (default 5000), EW_BENCH_INGEST_ADDS (200).
set -eu
build=${1:-build/release}
n=${EW_BENCH_INGEST_MAILS:-5000}
nadd=${EW_BENCH_INGEST_ADDS:-200}
ew=$(cd "$build" && pwd)/exitwarden
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state"
unset EW_DB

ms() {
	echo $(($(date +%s%N) / 1000000))
}

# rate COUNT MILLISECONDS: "COUNT/s" with one decimal
rate() {
	awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", (t > 0 ? n * 1000 / t : 0) }'
}

cat >"$tmp/exit.policy" <<'EOF'
Address 192.0.2.25
OutboundBindAddressExit 192.0.2.26
ExitRelay 1
reject *:25
reject *:6660-7000
reject 198.0.0.0/8:*
accept *:*
EOF

# the sources: two of ours (the policy's addresses), two not
"$py" "$here/../tests/tools/mkmaildir.py" --seed 1 --count "$n" \
	--src 192.0.2.25,192.0.2.26,198.51.100.77,203.0.113.9 --src6 '' \
	--manifest "$tmp/md.json" "$tmp/md" 2>/dev/null
files=$(ls "$tmp/md/new" | wc -l)
cp -r "$tmp/md" "$tmp/md-add"

record() {
	"$ew" --db "$1" policy record --at 2026-10-01T00:00:00Z \
		"$tmp/exit.policy" >/dev/null
}

echo "== inbox scan: $files mails ($n distinct) into a fresh database"
record "$tmp/scan.db"
t0=$(ms)
"$ew" --db "$tmp/scan.db" inbox scan --json "$tmp/md" >"$tmp/scan.out" \
	2>"$tmp/scan.err"
t1=$(ms)
dt=$((t1 - t0))
echo "   $(cat "$tmp/scan.out") ($(wc -l <"$tmp/scan.err") lines on stderr)"
echo "   $dt ms: $(rate "$files" $dt) mails/s," \
	"$(rate "$n" $dt) complaints stored/s"
"$py" - "$tmp/scan.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
inc = c.execute("SELECT count(*) FROM incidents").fetchone()[0]
v = c.execute("SELECT coalesce(verdict, 'none'), count(*) FROM incidents"
              " GROUP BY 1 ORDER BY 2 DESC").fetchall()
t = c.execute("SELECT count(*) FROM tickets").fetchone()[0]
print("   %d incidents (%s), %d tickets" % (
    inc, ", ".join("%s %d" % x for x in v), t))
EOF

echo "== complaint add: one process per mail, $nadd mails"
record "$tmp/add.db"
ls "$tmp/md-add/new" | head -n "$nadd" >"$tmp/add.list"
k=$(wc -l <"$tmp/add.list")
t0=$(ms)
while read -r f; do
	"$ew" --db "$tmp/add.db" complaint add "$tmp/md-add/new/$f" \
		>/dev/null 2>&1 || true
done <"$tmp/add.list"
t1=$(ms)
dt=$((t1 - t0))
echo "   $dt ms: $(rate "$k" $dt) mails/s ($(awk -v t=$dt -v k="$k" \
	'BEGIN { printf "%.2f", (k > 0 ? t / k : 0) }') ms a process)"
