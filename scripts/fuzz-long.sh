#!/bin/sh
# fuzz-long.sh - the long fuzz run the project promises: every libFuzzer
# target of build/fuzz for FUZZ_RUNS executions (10M by default), one
# target at a time, each on a scratch copy of its corpus in the tree.
#
#   sh scripts/fuzz-long.sh [BUILD_DIR]        (make fuzz-long)
#
# Environment:
#   FUZZ_RUNS=N        executions per target (default 10000000)
#   FUZZ_TARGETS="a b" targets to run (default: every fuzz_*_fuzzer built)
#   FUZZ_TIMEOUT=S     seconds one input may take (default 10)
#   FUZZ_RSS_MB=M      memory limit of the fuzzer (default 2048)
#   FUZZ_SECONDS=S     also stop a target after S seconds (default: no
#                      limit); the summary says how many runs were done
#   FUZZ_FORK=N        N fuzzing processes for each target (libFuzzer
#                      -fork=N: one corpus, the executions of all N
#                      counted together; bound it with FUZZ_SECONDS)
#   FUZZ_KEEP_GOING=1  go on past a finding (libFuzzer -fork=1 with
#                      -ignore_crashes, timeouts and ooms): every finding
#                      of the run is kept, not just the first
#   FUZZ_MERGE=1       afterwards, merge the inputs that reach code the
#                      tree's corpus does not (new edges, not new hit
#                      counts: tens of files, not thousands) back into
#                      fuzz/corpus/<target>/ (as fz-<sha1 prefix>)
#   FUZZ_WORK=DIR      scratch directory (default BUILD_DIR/fuzz-long)
#   FUZZ_ARGS="..."    more libFuzzer flags, e.g. -entropic=0 (fuzz_mail:
#                      +25 % executions a second; libFuzzer's entropic
#                      schedule is a third of that target's time)
#
# BUILD_DIR build/fuzz-ub (cmake --preset fuzz-ub: UBSan without ASan)
# runs 1.5-2.6 times as many executions a second as build/fuzz; every
# input it keeps and merges is replayed under ASan by the test suite.
#
# Every crash, timeout, oom or leak input is copied into
# fuzz/corpus/<target>/ under libFuzzer's name (crash-<sha1>, ...), so
# the ctest replay of that corpus fails until the bug is fixed.  Prints,
# per target, the executions done, the time, the coverage and the
# findings; exits 1 when anything was found (or a target did not run).
# Not part of `make check`.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build/fuzz}" && pwd) || exit 1
runs=${FUZZ_RUNS:-10000000}
tmo=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
work=${FUZZ_WORK:-$build/fuzz-long}

# The longest input worth trying, per target (each target's own cap or
# its input format's; larger inputs only slow the search down).
max_len() {
	case $1 in
	addr) echo 128 ;;       # the target ignores >= 128 bytes
	redund) echo 768 ;;     # 128 items of 6 bytes (the target takes
	                        # 512, but tor's quadratic reference makes
	                        # long lists 2k runs/s: 10M would take hours)
	ctl_reply) echo 2048 ;; # dozens of replies, any chunking
	mail) echo 16384 ;;
	*) echo 4096 ;;         # a policy, a table, a template
	esac
}

if [ -z "${FUZZ_TARGETS:-}" ]; then
	FUZZ_TARGETS=$(cd "$build/fuzz" 2>/dev/null &&
		ls fuzz_*_fuzzer 2>/dev/null |
		sed 's/^fuzz_//; s/_fuzzer$//')
fi
if [ -z "$FUZZ_TARGETS" ]; then
	echo "fuzz-long: no fuzzers in $build/fuzz (cmake --preset fuzz)" >&2
	exit 1
fi

mkdir -p "$work" || exit 1
summary=$work/summary.txt
: >"$summary"
bad=0
printf '%-10s %10s %8s %8s %8s %6s  %s\n' target runs seconds cov ft \
	corpus findings >>"$summary"

for t in $FUZZ_TARGETS; do
	bin=$build/fuzz/fuzz_${t}_fuzzer
	tree=$here/fuzz/corpus/$t
	d=$work/$t
	if [ ! -x "$bin" ] || [ ! -d "$tree" ]; then
		echo "fuzz-long: $t: no $bin or no $tree" >&2
		bad=1
		continue
	fi
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/artifacts" || exit 1
	cp "$tree"/* "$d/corpus/"
	dict=
	case $t in
	policy | addrlist) dict=$here/fuzz/dict/policy.dict ;;
	addr) dict=$here/fuzz/dict/addr.dict ;;
	esac
	set -- -runs="$runs" -max_len="$(max_len "$t")" -timeout="$tmo" \
		-rss_limit_mb="$rss" -print_final_stats=1 \
		-artifact_prefix="$d/artifacts/"
	[ -n "$dict" ] && [ -f "$dict" ] && set -- "$@" -dict="$dict"
	[ -n "${FUZZ_SECONDS:-}" ] && set -- "$@" \
		-max_total_time="$FUZZ_SECONDS"
	# shellcheck disable=SC2086
	[ -n "${FUZZ_ARGS:-}" ] && set -- "$@" $FUZZ_ARGS
	if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
		set -- "$@" -fork="${FUZZ_FORK:-1}" -ignore_crashes=1 \
			-ignore_timeouts=1 -ignore_ooms=1
	elif [ "${FUZZ_FORK:-1}" -gt 1 ]; then
		set -- "$@" -fork="$FUZZ_FORK"
	fi
	echo "fuzz-long: $t: $runs runs, log $d/log" >&2
	start=$(date +%s)
	(cd "$d" && "$bin" "$@" corpus >log 2>&1)
	rc=$?
	secs=$(($(date +%s) - start))

	# Executions: the final stats, or (fork mode) the last status line.
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$d/log" | tail -n 1)
	if [ -z "$done_runs" ]; then
		done_runs=$(sed -n 's/^#\([0-9]*\)[: \t].*/\1/p' "$d/log" |
			tail -n 1)
	fi
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' "$d/log" | tail -n 1)
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' "$d/log" | tail -n 1)
	ncorp=$(ls "$d/corpus" | wc -l)

	found=
	for a in "$d"/artifacts/crash-* "$d"/artifacts/timeout-* \
		"$d"/artifacts/oom-* "$d"/artifacts/leak-*; do
		[ -f "$a" ] || continue
		cp "$a" "$tree/"
		found="$found $(basename "$a")"
	done
	if [ -n "$found" ] || { [ "$rc" != 0 ] &&
		[ "${FUZZ_KEEP_GOING:-0}" != 1 ]; }; then
		bad=1
		[ -z "$found" ] && found=" exit $rc (see $d/log)"
		grep -m 3 -E '^==[0-9]+==ERROR|invariant failed|^SUMMARY' \
			"$d/log" >&2
	fi
	short= # stopped by FUZZ_SECONDS (or killed) before FUZZ_RUNS
	case ${done_runs:-x} in
	*[!0-9]*) ;;
	*) [ "$done_runs" -lt "$runs" ] && short=" (short of $runs runs)" ;;
	esac
	printf '%-10s %10s %8s %8s %8s %6s %s\n' "$t" "${done_runs:-?}" \
		"$secs" "${cov:-?}" "${ft:-?}" "$ncorp" "${found:- none}$short" \
		>>"$summary"

	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -z "$found" ]; then
		# Minimise: keep only what adds coverage to the tree's corpus.
		rm -rf "$d/merged"
		mkdir -p "$d/merged" && cp "$tree"/* "$d/merged/"
		(cd "$d" && "$bin" -merge=1 -use_counters=0 \
			-max_len="$(max_len "$t")" \
			-timeout="$tmo" -rss_limit_mb="$rss" merged corpus \
			>merge.log 2>&1)
		for f in "$d"/merged/*; do
			b=$(basename "$f")
			[ -f "$tree/$b" ] && continue
			sum=$(sha1sum "$f" | cut -c1-12)
			cp "$f" "$tree/fz-$sum"
		done
	fi
done

cat "$summary"
exit $bad
