#!/bin/sh
# bench_fleet.sh [BUILD] - PostgreSQL's load with N fleet hosts following
# the desk (issue 14): a throwaway cluster (tests/tools/pgcluster.py: a
# Unix socket in a temporary directory, fsync=off as in the tests,
# max_connections raised to N + 100; never the system cluster), a fleet
# of N hosts each with its own role and row-level security on, some
# relays and blocks, then N host sessions doing what `run --host` does
# per round (bench_fleet.c says what): every host as fast as it can,
# every host every 30 s, and a burst (one block add, NOTIFY to all N,
# the time to the last host's report).  Prints polls/s, the server's CPU
# per 1,000 polls, the client's, the poll latencies and the burst's
# times.  Changes nothing outside temporary directories.  Not run by
# ctest.
#
# EW_BENCH_FLEET_HOSTS (default 1000), EW_BENCH_FLEET_THREADS (16),
# EW_BENCH_FLEET_RULES (2000), EW_BENCH_FLEET_ARGS (more bench_fleet
# options: -f FAST_S -i INTERVAL_S -p PACED_S -a APPLY_MS).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}

# inner mode, run by pgcluster.py with EW_TEST_PG set
if [ "${1:-}" = "--pg" ]; then
	dir=$(printf '%s\n' "$EW_TEST_PG" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
	pm=$(head -n 1 "$dir/data/postmaster.pid")
	shift
	exec "$@" "$EW_TEST_PG" "$work" "$pm" -n "$n" -t "$threads" \
		-r "$rules" ${EW_BENCH_FLEET_ARGS:-}
fi

build=$(cd "${1:-build/release}" && pwd)
n=${EW_BENCH_FLEET_HOSTS:-1000}
threads=${EW_BENCH_FLEET_THREADS:-16}
rules=${EW_BENCH_FLEET_RULES:-2000}
# the hosts' managed policies: in memory where there is /dev/shm (each
# real host writes to its own disk; here 1,000 share one)
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/ew-fleet-XXXXXX")
trap 'rm -rf "$work"' EXIT
export n threads rules work
echo "== $n hosts, $threads client threads, $rules blocks in the history" \
	"($(nproc) cores)"
"$py" "$here/../tests/tools/pgcluster.py" --set "max_connections=$((n + 100))" \
	-- sh "$here/bench_fleet.sh" --pg "$build/bench/bench_fleet"
