#!/bin/sh
# bench_big.sh [BUILD] - issue 16's table, every row in one run against
# the same inputs: a 1,000,000-entry IPv4 table (bench_nft.sh's mix and
# seed: 80% /32, 18% /24, 1.8% /20-/23, 0.2% /16-/19) in the policy
# "reject <bl>:* / accept *:*".
#
#   policy parse + expand	exitwarden policy check (reads, expands,
#				removes redundancies): wall, CPU, max RSS
#   nft apply, first load	in a network namespace of its own
#   apply --state, +1 prefix	one entry appended to the table file
#   compile, matcher memory,	bench_match's 1M-item IPv4 policy and its
#   IPv6 1k			1k-item IPv6 policy (mixed actions and ports)
#
# Wall times on a shared machine wander; the CPU time (user + sys) is
# printed next to them.  Changes nothing outside the namespace and a
# temporary directory.  Not run by ctest.
set -eu
build=${1:-build/release}
n=${EW_BENCH_BIG_N:-1000000}
ew=$(cd "$build" && pwd)/exitwarden
bm=$(cd "$build" && pwd)/bench/bench_match
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run LABEL CMD...: wall s, CPU s, max RSS MB of CMD (stdout kept in
# $tmp/out)
run() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"))
w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %.0f %d" % (w, r.ru_utime + r.ru_stime, r.ru_maxrss / 1024,
                             p.returncode))
PY
}

python3 - "$n" >"$tmp/bl.list" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(n)
w = sys.stdout.write
for i in range(n):
    r = random.random()
    l = 32 if r < 0.80 else 24 if r < 0.98 else \
        random.randint(20, 23) if r < 0.998 else random.randint(16, 19)
    m = (0xffffffff << (32 - l)) & 0xffffffff
    while True:
        a = random.randint(0x01000000, 0xdfffffff) & m
        if (a & 0xffff0000) != 0x64400000 and (0x64400000 & m) != a:
            break
    w("%d.%d.%d.%d/%d\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                            a & 255, l))
PY
printf 'ExitPolicyRejectPrivate 0\ntable <bl> file "bl.list"\nreject <bl>:* ticket BENCH\naccept *:*\n' \
	>"$tmp/p.policy"

set -- $(run "$tmp/out" "$ew" policy check "$tmp/p.policy")
row1="| policy parse + expand | $1 s wall, $2 s CPU, $3 MB | <= 1 s, <= 300 MB |"
set -- $(run "$tmp/out" "$ew" policy expand "$tmp/p.policy")
row1b="| policy expand, printed | $1 s wall, $2 s CPU, $3 MB, $(wc -l <"$tmp/out") lines | |"

row2="| nft apply, first load | skipped (needs root and network namespaces) | <= 5 s |"
row3="| apply --state, one prefix added | skipped | <= 0.5 s |"
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	cat >"$tmp/ns.sh" <<EOF
set -eu
ip link set lo up
cd "$tmp"
run() {
	python3 - "\$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"))
w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %.0f %d" % (w, r.ru_utime + r.ru_stime, r.ru_maxrss / 1024,
                             p.returncode))
PY
}
set -- \$(run first.out "$ew" nft apply --uid 65534 --state state p.policy)
echo "first \$1 \$2 \$(sed -n 's/.*built in \([0-9]*\) ms, loaded in \([0-9]*\) ms.*/\1 \2/p' first.out)"
echo 100.64.9.9 >>bl.list
set -- \$(run state.out "$ew" nft apply --uid 65534 --state state p.policy)
echo "state \$1 \$2 \$(sed -n 's/.*in place: \([0-9]*\) elements added, \([0-9]*\) deleted in \([0-9.]*\) ms.*/\1 \2 \3/p' state.out)"
"$ew" nft flush
EOF
	unshare -n sh "$tmp/ns.sh" >"$tmp/ns.out"
	set -- $(grep '^first' "$tmp/ns.out")
	row2="| nft apply, first load | $2 s wall, $3 s CPU (built $4 ms, loaded $5 ms) | <= 5 s |"
	set -- $(grep '^state' "$tmp/ns.out")
	row3="| apply --state, one prefix added | $2 s wall, $3 s CPU ($4 added, $5 deleted, kernel $6 ms) | <= 0.5 s |"
fi

"$bm" --json --only ipv4:1000000 >"$tmp/m4"
"$bm" --json --only ipv6:1000 >"$tmp/m6"
field() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"
}
row4="| compile (matcher), bench_match 1M IPv4 | $(field "$tmp/m4" compile_ms) ms | <= 1 s |"
row5="| matcher memory | $(field "$tmp/m4" bytes_per_item) B/rule | <= 8 B/rule |"
row6="| IPv6, 1k rules | $(field "$tmp/m6" mlookups_per_s) M lookups/s | >= 200 M/s |"

echo "| step, $n-entry address table | measured | goal |"
echo "|---|---|---|"
for r in "$row1" "$row1b" "$row2" "$row3" "$row4" "$row5" "$row6"; do
	echo "$r"
done
