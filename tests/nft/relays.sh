#!/bin/sh
# Two relays on one host in one table (issue 13), inside a network
# namespace of its own (never the host's ruleset): each relay's policy
# in its own chain behind a uid verdict map; a connection as relay A's
# uid is refused where A's policy says so while relay B's uid passes,
# and the other way round; changing A's policy leaves B's chain as it
# was; a relay whose policy does not load changes nothing (one
# transaction for all); surge guards are the host's: relays that declare
# different ones are refused, and one guard declared on both counts the
# new connections of both uids to a destination together.  Exits 77 when that is impossible (not root, no
# unshare, nft or setpriv).
set -u
ew=$1
if [ "${EW_IN_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 ||
	    ! command -v unshare >/dev/null 2>&1 ||
	    ! command -v setpriv >/dev/null 2>&1 ||
	    ! command -v bash >/dev/null 2>&1; then
		echo "skipped: needs root, nft, unshare, setpriv and bash"
		exit 77
	fi
	if ! unshare -n true 2>/dev/null; then
		echo "skipped: cannot create a network namespace"
		exit 77
	fi
	EW_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
tmp=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
ua=65501
ub=65502
printf 'ExitPolicyRejectPrivate 0\nreject 127.0.0.1:6667\naccept *:*\n' >"$tmp/a.policy"
printf 'ExitPolicyRejectPrivate 0\nreject 127.0.0.1:6668\naccept *:*\n' >"$tmp/b.policy"
rel="--relay alpha,uid=$ua,policy=$tmp/a.policy --relay beta,uid=$ub,policy=$tmp/b.policy"
# shellcheck disable=SC2086
check "apply both relays" "$ew" nft apply $rel "$tmp/a.policy"
nft list table inet exitwarden >"$tmp/t1"
check "a uid verdict map" grep -q "$ua : jump alpha_rules" "$tmp/t1"
check "beta in the map" grep -q "$ub : jump beta_rules" "$tmp/t1"
nft list chain inet exitwarden alpha_rules >"$tmp/a1"
nft list chain inet exitwarden beta_rules >"$tmp/b1"
check "alpha's rule in alpha's chain" grep -q "dport 6667" "$tmp/a1"
check "alpha's rule not in beta's chain" sh -c "! grep -q 'dport 6667' '$tmp/b1'"

listen_both "$tmp"
if conn $ua 6667; then bad "alpha reached 6667"; else ok "alpha (uid $ua) refused at 6667"; fi
if conn $ub 6667; then ok "beta (uid $ub) connects to 6667"; else bad "beta refused at 6667"; fi
if conn $ub 6668; then bad "beta reached 6668"; else ok "beta (uid $ub) refused at 6668"; fi
if conn $ua 6668; then ok "alpha (uid $ua) connects to 6668"; else bad "alpha refused at 6668"; fi
if conn 65503 6667 && conn 65503 6668; then ok "another uid is not filtered"; else bad "another uid filtered"; fi

# a block on alpha alone: beta's chain does not change
printf 'ExitPolicyRejectPrivate 0\nreject 127.0.0.1:6668\nreject 127.0.0.1:6667\naccept *:*\n' >"$tmp/a.policy"
# shellcheck disable=SC2086
check "apply alpha's new policy" "$ew" nft apply $rel "$tmp/a.policy"
nft list chain inet exitwarden beta_rules >"$tmp/b2"
check "beta's chain unchanged" cmp "$tmp/b1" "$tmp/b2"
if conn $ua 6668; then bad "alpha's new block not enforced"; else ok "alpha's new block enforced"; fi
if conn $ub 6667; then ok "beta still connects to 6667"; else bad "beta refused at 6667"; fi

# all or none: a relay whose policy does not load changes nothing
nft list table inet exitwarden >"$tmp/t2"
printf 'ExitPolicyRejectPrivate 0\nreject 127.0.0.1:6669\nthis is not a rule\n' >"$tmp/b.policy"
# shellcheck disable=SC2086
check "a broken relay policy is refused" sh -c "! '$ew' nft apply $rel '$tmp/a.policy'"
nft list table inet exitwarden >"$tmp/t3"
check "the table is as it was" cmp "$tmp/t2" "$tmp/t3"
if conn $ub 6668; then bad "beta's block lost"; else ok "beta's block still enforced"; fi

# surge guards are the host's: relays that declare different ones are
# refused, named, and the table stays as it was
g='guard flood ports 6668 rate 10/minute per destination block 30m'
printf 'ExitPolicyRejectPrivate 0\n%s\naccept *:*\n' "$g" >"$tmp/ga.policy"
printf 'ExitPolicyRejectPrivate 0\n%s damp\naccept *:*\n' "$g" >"$tmp/gb.policy"
grel="--relay alpha,uid=$ua,policy=$tmp/ga.policy --relay beta,uid=$ub,policy=$tmp/gb.policy"
nft list table inet exitwarden >"$tmp/t3"
# shellcheck disable=SC2086
if "$ew" nft apply $grel "$tmp/ga.policy" >"$tmp/gerr" 2>&1; then
	bad "different guards applied"
else
	ok "different guards are refused"
fi
check "the refusal names both relays" grep -q 'relays alpha and beta declare different surge guards' "$tmp/gerr"
nft list table inet exitwarden >"$tmp/t4"
check "the table is as it was" cmp "$tmp/t3" "$tmp/t4"
# the same guard on both: one guard counts both relays' connections
printf 'ExitPolicyRejectPrivate 0\n%s\naccept *:*\n' "$g" >"$tmp/gb.policy"
# shellcheck disable=SC2086
check "apply both relays with one guard" "$ew" nft apply $grel "$tmp/ga.policy"
nft list table inet exitwarden >"$tmp/t5"
check "the guard declared once" test "$(grep -c 'set g_flood_s4 {' "$tmp/t5")" = 1
check "alpha hooked to the guards" grep -q "meta skuid $ua ct state new .*jump guards" "$tmp/t5"
check "beta hooked to the guards" grep -q "meta skuid $ub ct state new .*jump guards" "$tmp/t5"
over() {
	nft list counter inet exitwarden g_flood_over |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
surged() {
	nft list set inet exitwarden g_flood_s4 | grep -q '127.0.0.1 . 6668'
}
# burst 10: another uid's 12 connections, then alpha's 8, stay under
i=0
while [ $i -lt 12 ]; do conn 65503 6668; i=$((i + 1)); done
check "another uid is not counted" test "$(over)" = 0
i=0; n=0
while [ $i -lt 8 ]; do conn $ua 6668 && n=$((n + 1)); i=$((i + 1)); done
check "alpha's 8 connections pass" test $n = 8
check "alpha's 8 alone: under the guard" test "$(over)" = 0
if surged; then bad "a surge from alpha's 8 alone"; else ok "no surge from alpha's 8 alone"; fi
# beta's 8 more: over the burst on the sum of both relays
i=0
while [ $i -lt 8 ]; do conn $ub 6668; i=$((i + 1)); done
o=$(over)
if [ "${o:-0}" -ge 4 ] && [ "${o:-0}" -le 6 ]; then
	ok "the sum is over: $o of beta's connections over the guard"
else
	bad "over the guard after 16 connections: '${o:-}' (want 4..6)"
fi
if surged; then ok "the surge recorded (alpha's and beta's together)"; else bad "no surge at 16 connections"; fi

kill "$srv" 2>/dev/null
nft delete table inet exitwarden 2>/dev/null
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
