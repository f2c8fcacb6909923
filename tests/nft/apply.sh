#!/bin/sh
# apply.sh EXITWARDEN - exitwarden nft apply / stats / flush against the
# real kernel, inside a network namespace of its own (never the host's
# ruleset).  Exits 77 when that is impossible (not root, no unshare, no
# nft).  The last line is "N passed, N failed".
set -u

ew=$1
if [ -z "${EW_IN_NETNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root for a network namespace"
		exit 77
	fi
	if ! command -v nft >/dev/null 2>&1 || ! command -v unshare >/dev/null 2>&1; then
		echo "skipped: needs nft and unshare"
		exit 77
	fi
	if ! command -v bash >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
		echo "skipped: needs bash and setpriv (util-linux) for the traffic checks"
		exit 77
	fi
	if ! unshare -n true 2>/dev/null; then
		echo "skipped: cannot create a network namespace"
		exit 77
	fi
	EW_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
srv=""
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"

ip link set lo up

# Somebody else's table: it must survive everything we do.
nft -f - <<'EOF'
table ip foreign {
	set keep { type ipv4_addr; elements = { 192.0.2.1 } }
	chain c { }
}
EOF
nft list table ip foreign >"$tmp/foreign.before"

uid=65534
cat >"$tmp/p1.policy" <<'EOF'
ExitPolicyRejectPrivate 0
table <abuse> { 198.51.100.1 198.51.100.3 198.51.100.5 198.51.100.7 198.51.100.9 203.0.113.0/24 203.0.113.0/25 }
reject 127.0.0.1:6667 ticket T-1
reject <abuse>:* ticket T-2
accept *:*
EOF
sed 's/6667/6668/' "$tmp/p1.policy" >"$tmp/p2.policy"

out=$("$ew" nft apply --uid $uid "$tmp/p1.policy" 2>&1)
case "$out" in
*"loaded table inet exitwarden"*) ok "apply p1: $out" ;;
*) bad "apply p1: $out" ;;
esac
nft list table inet exitwarden >"$tmp/t1" 2>&1
# The counters are named from each rule's identity (issue 13): "r" and
# the 64-bit FNV-1a hash of its text, its ticket and its file's name,
# never its position.
name() {
	python3 -c '
import sys
h = 0xcbf29ce484222325
for s in sys.argv[1:]:
    for b in s.encode() + b"\xff":
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
print("r%016x" % h)' "$@"
}
r0=$(name "reject 127.0.0.1:6667" "T-1" "p1.policy")
r1=$(name "reject <abuse>:*" "T-2" "p1.policy")
check "table has named counters" grep -q "counter $r0 {" "$tmp/t1"
check "table has the interval set" grep -q "set ${r1}_v4_0 {" "$tmp/t1"
check "scoped to the uid" grep -q "meta skuid $uid" "$tmp/t1"
check "rejects 127.0.0.1:6667 with a reset" \
	grep -q "ip daddr 127.0.0.1 tcp dport 6667 counter name \"$r0\" reject with tcp reset" "$tmp/t1"
check "no log statement" sh -c "! grep -qw log '$tmp/t1'"
"$ew" stats >"$tmp/stats" 2>&1
check "stats lists $r0" grep -q "^$r0 .*reject 127.0.0.1:6667 ticket T-1" "$tmp/stats"
check "stats lists $r1" grep -q "^$r1 " "$tmp/stats"
"$ew" stats --json >"$tmp/stats.json" 2>&1
check "stats --json is JSON" python3 -c "import json,sys; v=json.load(open(sys.argv[1])); assert {c['counter'] for c in v}=={sys.argv[2],sys.argv[3]} and v[0]['packets']==0" "$tmp/stats.json" "$r0" "$r1"
nft list table ip foreign >"$tmp/foreign.after"
check "foreign table untouched by apply" cmp "$tmp/foreign.before" "$tmp/foreign.after"

# -n checks without committing.
out=$("$ew" nft apply -n --uid $uid "$tmp/p2.policy" 2>&1)
nft list table inet exitwarden >"$tmp/t1b" 2>&1
case "$out" in
*"dry run"*) ok "dry run reported" ;;
*) bad "dry run: $out" ;;
esac
check "dry run commits nothing" cmp "$tmp/t1" "$tmp/t1b"

# A changed policy replaces the table in one step.
check "apply p2" "$ew" nft apply --uid $uid "$tmp/p2.policy"
nft list table inet exitwarden >"$tmp/t2" 2>&1
r0b=$(name "reject 127.0.0.1:6668" "T-1" "p2.policy")
check "p2 rule present" grep -q "tcp dport 6668 counter name \"$r0b\"" "$tmp/t2"
check "p1 rule gone" sh -c "! grep -q 'dport 6667' '$tmp/t2'"
check "one table of ours" test "$(nft list tables | grep -c 'inet exitwarden')" -eq 1

# Failures leave the previous table as it was: a policy that does not
# parse, and nftables refusing the change (no CAP_NET_ADMIN).  (That a
# transaction failing at its end changes nothing is the kernel's promise,
# not ours to test with nft -f.)
printf 'reject 1.2.3.4:99999\n' >"$tmp/broken.policy"
check "broken policy refused" sh -c "! '$ew' nft apply --uid $uid '$tmp/broken.policy'"
out=$(setpriv --reuid=$uid --regid=$uid --clear-groups "$ew" nft apply --uid $uid "$tmp/p1.policy" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'not loaded'; then
	ok "unprivileged apply fails cleanly"
else
	bad "unprivileged apply: rc=$rc $out"
fi
nft list table inet exitwarden >"$tmp/t3" 2>&1
check "previous table intact after failures" cmp "$tmp/t2" "$tmp/t3"

# Traffic: the uid's connection to a rejected destination is reset,
# root's is not, and the counter sees it.
listen_both "$tmp"
if conn $uid 6668; then bad "uid $uid reached a rejected destination"; else ok "uid $uid refused at 127.0.0.1:6668"; fi
if conn 0 6668; then ok "root still connects to 127.0.0.1:6668"; else bad "root refused"; fi
if conn $uid 6667; then ok "uid $uid connects to 127.0.0.1:6667 (not rejected)"; else bad "uid $uid refused at 6667"; fi
packets() {
	"$ew" stats --json | python3 -c "import json,sys; print([c for c in json.load(sys.stdin) if c['counter']==sys.argv[1]][0]['packets'])" "$1"
}
p=$(packets "$r0b")
if [ "${p:-0}" -ge 1 ]; then ok "counter $r0b counted $p packet(s)"; else bad "counter $r0b: ${p:-none}"; fi
# A reload with a rule put before it: the counter keeps its name and
# what it counted (its value carried into the new table).
{ sed -n 1,2p "$tmp/p2.policy"; echo 'reject 192.0.2.99:25 ticket T-9'; sed -n '3,$p' "$tmp/p2.policy"; } >"$tmp/p2b.policy"
cp "$tmp/p2b.policy" "$tmp/p2.policy"
r1b=$(name "reject <abuse>:*" "T-2" "p2.policy")
check "reload with a rule before" "$ew" nft apply --uid $uid "$tmp/p2.policy"
nft list table inet exitwarden >"$tmp/t2b" 2>&1
check "the new rule first, the old counter names kept" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
names = re.findall(r"counter name \"(r[0-9a-f]+)\"", t)
assert names[1:] == [sys.argv[2], sys.argv[3]], names
assert names[0] not in sys.argv[2:], names' "$tmp/t2b" "$r0b" "$r1b"
p2=$(packets "$r0b")
if [ "${p2:-0}" -ge "${p:-1}" ]; then ok "counter $r0b kept $p2 packet(s) across the reload"; else bad "counter $r0b after the reload: ${p2:-none} (was $p)"; fi
if conn $uid 6668; then bad "uid $uid reached a rejected destination after the reload"; else ok "still refused after the reload"; fi
p3=$(packets "$r0b")
if [ "${p3:-0}" -gt "${p2:-0}" ]; then ok "and it goes on counting ($p3)"; else bad "counter after the reload: ${p3:-none}"; fi
# In-place set updates over netlink: 127.0.0.1 into the <abuse> set
# (reject <abuse>:*) blocks 6667 too; deleting it unblocks.
check "element add" "$ew" nft element add ${r1b}_v4_0 127.0.0.1
check "element visible to nft" nft get element inet exitwarden ${r1b}_v4_0 '{ 127.0.0.1 }'
if conn $uid 6667; then bad "added element not enforced"; else ok "added element enforced"; fi
check "overlapping element refused" sh -c "! '$ew' nft element add ${r1b}_v4_0 127.0.0.0/24"
check "element delete" "$ew" nft element delete ${r1b}_v4_0 127.0.0.1
if conn $uid 6667; then ok "deleted element no longer enforced"; else bad "deleted element still enforced"; fi
check "deleting a missing element fails" sh -c "! '$ew' nft element delete ${r1b}_v4_0 127.0.0.1"
check "set keeps its elements" nft get element inet exitwarden ${r1b}_v4_0 '{ 198.51.100.5, 203.0.113.9 }'

# A table big enough to be sharded by /4 (EW_NFT_SHARD_MIN): the
# element goes to its shard, in place.
python3 -c 'for i in range(17000): print("10.%d.%d.0/25" % (i // 256, i % 256))' >"$tmp/big.list"
printf 'ExitPolicyRejectPrivate 0\ntable <big> file "big.list"\nreject <big>:6667 ticket T-3\naccept *:*\n' >"$tmp/p3.policy"
check "apply sharded" "$ew" nft apply --uid $uid "$tmp/p3.policy"
r3=$(name "reject <big>:6667" "T-3" "p3.policy")
check "verdict map to the shards" sh -c "nft list chain inet exitwarden rules | grep -q 'ip daddr vmap { 0.0.0.0/4 : jump ${r3}_v4_0_s0'"
check "element add to a shard" "$ew" nft element add ${r3}_v4_0 127.0.0.1
check "element in shard 7" nft get element inet exitwarden ${r3}_v4_0_s7 '{ 127.0.0.1 }'
if conn $uid 6667; then bad "sharded element not enforced"; else ok "sharded element enforced"; fi
if conn $uid 6668; then ok "sharded rule keeps its port"; else bad "sharded rule blocked 6668"; fi
check "element delete from a shard" "$ew" nft element delete ${r3}_v4_0 127.0.0.1
if conn $uid 6667; then ok "sharded element deleted"; else bad "sharded element still enforced"; fi

# --state: a policy change that only adds or removes table entries is
# applied in place (the counters keep counting), anything else reloads.
cp "$tmp/p1.policy" "$tmp/s.policy"
check "apply --state (first: full load)" "$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/s.policy"
check "state file written (compact, 0600)" sh -c "head -1 '$tmp/state' | grep -qx '# exitwarden nft state 2' && [ \"\$(stat -c %a '$tmp/state')\" = 600 ]"
# the same policy again: nothing to change, the state file untouched
cp -p "$tmp/state" "$tmp/state.same"
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/s.policy" 2>&1)
case "$out" in
*"in place: 0 elements added, 0 deleted"*) ok "unchanged policy: nothing sent" ;;
*) bad "unchanged policy: $out" ;;
esac
check "unchanged policy: state file not rewritten" sh -c "cmp '$tmp/state' '$tmp/state.same' && [ '$tmp/state' -ot '$tmp/state.same' -o ! '$tmp/state' -nt '$tmp/state.same' ]"
sed 's/198.51.100.9 /198.51.100.9 198.51.100.11 198.51.100.10 /' "$tmp/p1.policy" >"$tmp/s.policy"
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/s.policy" 2>&1)
case "$out" in
*"in place: 1 elements added, 1 deleted"*) ok "element-only change in place: $out" ;;
*) bad "element-only change: $out" ;;
esac
"$ew" nft emit --uid $uid "$tmp/s.policy" >"$tmp/s.nft"
nft list table inet exitwarden >"$tmp/s.inplace"
nft -f "$tmp/s.nft"
nft list table inet exitwarden >"$tmp/s.full"
check "in-place result equals a full load" cmp "$tmp/s.inplace" "$tmp/s.full"
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/s.policy" 2>&1)
case "$out" in
*"in place: 0 elements added, 0 deleted"*) ok "state file follows" ;;
*) bad "state file follows: $out" ;;
esac
# a state file of an older version holds the ruleset text: still diffed
# (as text), and written anew in the compact form
cp "$tmp/s.policy" "$tmp/s2.policy"
cp "$tmp/p1.policy" "$tmp/s.policy"
"$ew" nft emit --uid $uid "$tmp/s.policy" >"$tmp/state"
nft -f "$tmp/state"
cp "$tmp/s2.policy" "$tmp/s.policy"
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/s.policy" 2>&1)
case "$out" in
*"in place: 1 elements added, 1 deleted"*) ok "text state of an older version: in place" ;;
*) bad "text state of an older version: $out" ;;
esac
check "text state rewritten compact" sh -c "head -1 '$tmp/state' | grep -qx '# exitwarden nft state 2'"
nft list table inet exitwarden >"$tmp/s.inplace2"
check "in-place from a text state equals a full load" cmp "$tmp/s.inplace2" "$tmp/s.full"
# a change the kernel refuses (no CAP_NET_ADMIN) leaves the state as it was
cp "$tmp/state" "$tmp/state.before"
if capsh --drop=cap_net_admin -- -c "'$ew' nft apply --uid $uid --state '$tmp/state' '$tmp/p1.policy'" >/dev/null 2>&1; then
	bad "apply without CAP_NET_ADMIN succeeded"
else
	ok "apply without CAP_NET_ADMIN fails"
fi
check "failed apply: state unchanged" cmp "$tmp/state" "$tmp/state.before"
nft list table inet exitwarden >"$tmp/s.after"
check "failed apply: table unchanged" cmp "$tmp/s.after" "$tmp/s.full"
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/p2.policy" 2>&1)
case "$out" in
*"loaded table"*) ok "rule change reloads" ;;
*) bad "rule change: $out" ;;
esac
"$ew" nft flush
out=$("$ew" nft apply --uid $uid --state "$tmp/state" "$tmp/p2.policy" 2>&1)
case "$out" in
*"loaded table"*) ok "missing table reloads" ;;
*) bad "missing table: $out" ;;
esac

# flush removes ours only, and is idempotent.
check "flush" "$ew" nft flush
check "our table gone" sh -c "! nft list tables | grep -q 'inet exitwarden'"
nft list table ip foreign >"$tmp/foreign.after2"
check "foreign table survives flush" cmp "$tmp/foreign.before" "$tmp/foreign.after2"
check "flush again" "$ew" nft flush
check "stats without a table fails" sh -c "! '$ew' stats"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
