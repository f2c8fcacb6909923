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
sh "$(dirname "$0")/bench_ingest.sh" "$build"
echo "== the desk on a ticket of 900k incidents (bench_desk)"
"$build/bench/bench_desk" 900000
