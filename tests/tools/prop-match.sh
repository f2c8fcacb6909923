#!/bin/sh
# The property test of the compiled matcher: random policies from the
# generator, then prop_match on all of them (>= 10 million queries).
set -eu
py=$1
bin=$2
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$py" "$here/policygen.py" --seed "${EW_PROP_SEED:-20261122}" --count 500 \
    --out "$dir" >/dev/null
exec "$bin" -q "${EW_PROP_QUERIES:-24000}" "$dir"/*.policy
