#!/bin/sh
# make bench: run every benchmark of a release build and print its figures.
set -eu
build=${1:-build/release}
echo "== issue 16: a 1M-entry table end to end, every row on the same inputs (bench_big.sh)"
sh "$(dirname "$0")/bench_big.sh" "$build"
echo "== compiled matcher vs tor's scan (bench_match)"
"$build/bench/bench_match" ${BENCH_ARGS:-}
echo "== nftables table: loads and one-element updates (bench_nft.sh, netns)"
sh "$(dirname "$0")/bench_nft.sh" "$build"
echo "== surge guard: new connections/s through the hook, memory (netns)"
sh "$(dirname "$0")/bench_guard.sh" "$build"
echo "== complaint parsing (bench_mail): the shared corpus and tests/mail"
corpus="$(dirname "$0")/../../shared/corpus/complaints"
[ -d "$corpus" ] || corpus=""
"$build/bench/bench_mail" $corpus "$(dirname "$0")"/../tests/mail/*.eml
echo "== complaint parsing: one line of 300,000 bare addresses (3.6 MB; issue 17 item 6, 151 s when pairing was quadratic)"
big=$(mktemp)
awk 'BEGIN { printf "From: a@example.org\nSubject: x\n\n";
	for (i = 0; i < 300000; i++)
		printf "10.%d.%d.%d ", int(i / 65536) % 256, int(i / 256) % 256, i % 256;
	printf "\n" }' >"$big"
"$build/bench/bench_mail" --rounds 1 "$big"
rm -f "$big"
sh "$(dirname "$0")/bench_ingest.sh" "$build"
echo "== the desk on a ticket of 900k incidents (bench_desk)"
"$build/bench/bench_desk" 900000
echo "== exitwarden serve: page views/s (bench_serve.sh; goal 5,000/s)"
sh "$(dirname "$0")/bench_serve.sh" "$build"
echo "== fleet: PostgreSQL's load with 1,000 hosts polling, and a NOTIFY burst (bench_fleet.sh; issue 14)"
sh "$(dirname "$0")/bench_fleet.sh" "$build"
