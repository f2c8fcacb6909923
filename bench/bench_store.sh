#!/bin/sh
# bench_store.sh [BUILD] - ingest throughput on the two store back ends.
# N generated complaint mails (tests/tools/mkmaildir.py, every shape and
# some resends; default 3000) are parsed, then taken into a fresh store
# by bench_store (ew_desk_add_parsed: the duplicate check, every incident
# judged against the recorded policy history and stored, the ticket
# opened or updated, one transaction per complaint), timed: first a
# SQLite file (WAL, synchronous=FULL), then a PostgreSQL database of a
# throwaway cluster (tests/tools/pgcluster.py: a Unix socket, fsync=off
# as in the tests).  Prints complaints per second for each; the goal is
# >= 1000/s.  Parsing is left out: it is the same on both back ends, and
# `inbox scan` does it in a parser child per mail (about 20 mails/s on
# a loaded 2-core machine, whichever the store).  Changes nothing
# outside temporary directories.  Not run by ctest.
#
# EW_BENCH_STORE_MAILS (default 3000).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
addrs="192.0.2.25 192.0.2.26"

# one EXITWARDEN BENCH_STORE TARGET MAILDIR POLICY: record, then measure
one() {
	"$1" --db "$3" policy record --at 2026-10-01T00:00:00Z "$5" >/dev/null
	# shellcheck disable=SC2086
	"$2" "$3" "$4" $addrs
}

# inner mode, run by pgcluster.py with EW_TEST_PG set
if [ "${1:-}" = "--pg" ]; then
	one "$2" "$3" "$EW_TEST_PG" "$4" "$5"
	exit 0
fi

build=$(cd "${1:-build/release}" && pwd)
n=${EW_BENCH_STORE_MAILS:-3000}
ew=$build/exitwarden
bs=$build/bench/bench_store
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state"
unset EW_DB

cat >"$tmp/exit.policy" <<'POLICY'
Address 192.0.2.25
OutboundBindAddressExit 192.0.2.26
ExitRelay 1
reject *:25
reject *:6660-7000
reject 198.0.0.0/8:*
accept *:*
POLICY
"$py" "$here/../tests/tools/mkmaildir.py" --seed 1 --count "$n" \
	--src 192.0.2.25,192.0.2.26,198.51.100.77,203.0.113.9 --src6 '' \
	--manifest "$tmp/md.json" "$tmp/md" 2>/dev/null
echo "== $(ls "$tmp/md/new" | wc -l) mails, $n distinct complaints"
one "$ew" "$bs" "$tmp/bench.db" "$tmp/md" "$tmp/exit.policy"
"$py" "$here/../tests/tools/pgcluster.py" -- sh "$here/bench_store.sh" \
	--pg "$ew" "$bs" "$tmp/md" "$tmp/exit.policy"
