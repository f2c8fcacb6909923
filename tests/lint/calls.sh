#!/bin/sh
# scripts/check-calls.py on small trees (tests/lint/calls/*/src): each
# bad-* tree must be refused (exit 1) with exactly its expect file's
# report, the ok-* trees passed (exit 0), so that lint/layers can fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../scripts/check-calls.py
pass=0
fail=0
for d in "$here"/calls/*/; do
	name=$(basename "$d")
	case $name in
	ok-*) want=0 ;;
	*) want=1 ;;
	esac
	out=$(cd "$d" && python3 "$script" src)
	rc=$?
	if [ "$rc" -eq "$want" ] && [ "$out" = "$(cat "$d/expect")" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: exit $rc (want $want), report:"
		echo "$out"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
