#!/bin/sh
# The surge guard's cost (issue 11), in a fresh network namespace, as root:
# new connections per second of the relay's uid (nobody) through the
# output hook with no table, with the policy's table and no guard, and
# with the three guards of the issue; then the kernel memory per tracked
# bucket (SUnreclaim before and after filling one guard's set).
#	bench_guard.sh [BUILD]
set -eu
build=${1:-build/release}
ew=$(realpath "$build/exitwarden")
gen=$(realpath "$build/bench/bench_guard_conn")
secs=${BENCH_SECS:-3}
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
	echo "bench_guard: needs root and nft; skipped"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'ExitRelay 1\nExitPolicy accept *:*\n' >"$dir/plain.policy"
cat >"$dir/guards.policy" <<'P'
ExitRelay 1
guard flood rate 600/minute per destination block 30m
guard login ports 22,2222,3389 rate 30/minute per destination block 2h
guard scan ports * rate 150/4minutes per destination/22 block 1h buckets 262144
ExitPolicy accept *:*
P
cat >"$dir/inner.sh" <<IN
set -eu
ip link set lo up
ip route add local 10.0.0.0/8 dev lo
run() {
	echo "\$1: \$(setpriv --reuid nobody --regid nogroup --clear-groups \
	    "$gen" $secs \$2 20000 \${3:-})"
}
for r in "" 20000; do
	echo "-- \${r:-as fast as possible}\${r:+ new connections/s offered}"
	"$ew" nft flush >/dev/null
	run "no table, 65536 destinations" 65536 \$r
	"$ew" nft apply --uid nobody "$dir/plain.policy" >/dev/null
	run "policy table, no guard" 65536 \$r
	"$ew" nft apply --uid nobody "$dir/guards.policy" >/dev/null
	run "three guards" 65536 \$r
done
"$ew" nft apply --uid nobody "$dir/guards.policy" >/dev/null
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
a=\$(awk '/SUnreclaim/ {print \$2}' /proc/meminfo)
setpriv --reuid nobody --regid nogroup --clear-groups "$gen" 30 50000 \
    >/dev/null &
pid=\$!
sleep 1; kill \$pid 2>/dev/null || true; wait \$pid 2>/dev/null || true
b=\$(awk '/SUnreclaim/ {print \$2}' /proc/meminfo)
count() {
	nft -j list set inet exitwarden "\$1" | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(len([x for x in d["nftables"] if "set" in x][0]["set"].get("elem", [])))'
}
n=\$(( \$(count g_flood_rate) + \$(count g_scan_rate) ))
echo "kernel memory: \$((b - a)) kB more SUnreclaim for \$n tracked" \
    "buckets: about \$(( (b - a) * 1024 / (n > 0 ? n : 1) )) B per bucket"
"$ew" nft flush
IN
unshare -n sh "$dir/inner.sh"
