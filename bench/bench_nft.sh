#!/bin/sh
# bench_nft.sh [BUILD] - the kernel backstop at 10k, 100k and 1M IPv4
# prefixes (performance.md 3b mix: 80% /32, 18% /24, 1.8% /20-/23,
# 0.2% /16-/19, random placement), inside a network namespace of its own:
# full loads (exitwarden nft apply, then a second apply replacing the
# table), a policy change of one table entry applied in place (--state),
# and one-element updates of the big set over netlink (nft
# element add/delete) and through libnftables (which dumps the set, or
# the /4 shard of a sharded one, first).  Prints the figures; changes
# nothing outside the namespace.  Not run by ctest.
set -eu
build=${1:-build/release}
sizes=${EW_BENCH_NFT_SIZES:-10000 100000 1000000}
ew=$(cd "$build" && pwd)/exitwarden
upd=$(cd "$build" && pwd)/bench/bench_nft_update

if [ -z "${EW_IN_NETNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
		echo "bench_nft: skipped (needs root and network namespaces)"
		exit 0
	fi
	EW_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ip link set lo up

gen() {
	python3 - "$1" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(n)
w = sys.stdout.write
for i in range(n):
    r = random.random()
    l = 32 if r < 0.80 else 24 if r < 0.98 else \
        random.randint(20, 23) if r < 0.998 else random.randint(16, 19)
    # 1.0.0.0-223.255.255.255, except 100.64.0.0/16: the one-element
    # updates go there (a shard as full as the others) and to 240.0.0.0/4
    m = (0xffffffff << (32 - l)) & 0xffffffff
    while True:
        a = random.randint(0x01000000, 0xdfffffff) & m
        if (a & 0xffff0000) != 0x64400000 and (0x64400000 & m) != a:
            break
    w("%d.%d.%d.%d/%d\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                            a & 255, l))
PY
}

ms() {
	echo $(($(date +%s%N) / 1000000))
}

for n in $sizes; do
	gen "$n" >"$tmp/bl.list"
	printf 'ExitPolicyRejectPrivate 0\ntable <bl> file "bl.list"\nreject <bl>:* ticket BENCH\naccept *:*\n' \
		>"$tmp/p.policy"
	echo "== $n prefixes"
	t0=$(ms)
	"$ew" nft emit --uid 65534 "$tmp/p.policy" >"$tmp/p.nft"
	t1=$(ms)
	echo "emit (parse, expand, merge, text): $((t1 - t0)) ms, $(wc -c <"$tmp/p.nft") bytes"
	rm -f "$tmp/state"
	for round in first replace; do
		t0=$(ms)
		out=$("$ew" nft apply --uid 65534 --state "$tmp/state" "$tmp/p.policy")
		t1=$(ms)
		echo "apply ($round load): $((t1 - t0)) ms wall; $out"
		rm -f "$tmp/state"
	done
	"$ew" nft emit --uid 65534 "$tmp/p.policy" >"$tmp/state"
	echo 100.64.9.9 >>"$tmp/bl.list"
	t0=$(ms)
	o2=$("$ew" nft apply --uid 65534 --state "$tmp/state" "$tmp/p.policy")
	t1=$(ms)
	echo "apply --state, one prefix added to the table: $((t1 - t0)) ms wall (parse and expand included); $o2"
	echo "one element, netlink (exitwarden nft element), into 100.64.0.0/16:"
	for i in 1 2 3; do
		"$ew" nft element add r0_v4_0 "100.64.0.$i"
		"$ew" nft element delete r0_v4_0 "100.64.0.$i"
	done
	# the set 100.64.0.0/16 goes to: the whole set, or its shard
	case "$out" in
	*" 1 sets "*) set=r0_v4_0 ;;
	*) set=r0_v4_0_s6 ;;
	esac
	echo "one element, libnftables into $set (nft 1.0.6 fetches that set first):"
	"$upd" --libnftables $set 100.64.1.1 2
	t0=$(ms)
	"$ew" nft flush
	t1=$(ms)
	echo "flush: $((t1 - t0)) ms"
done
