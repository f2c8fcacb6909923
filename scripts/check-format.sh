#!/bin/sh
# clang-format over our C sources: fails on any difference from the
# .clang-format style.  With --fix, rewrites the files instead.
set -eu
cd "$(dirname "$0")/.."
files=$(find src tests fuzz bench -name '*.[ch]' 2>/dev/null | sort)
if ! command -v clang-format >/dev/null 2>&1; then
	echo "check-format: clang-format is not installed" >&2
	exit 77
fi
if [ "${1:-}" = "--fix" ]; then
	# shellcheck disable=SC2086
	clang-format -i $files
	exit 0
fi
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "format: $(echo "$files" | wc -l) files checked"
