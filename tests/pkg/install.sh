#!/bin/sh
# cmake --install respects the prefix (issue 13): everything under P, the
# unit in P/lib/systemd/system with ExecStart=P/bin/exitwarden; with
# DESTDIR, under DESTDIR/P and still naming P.
#
# Usage: install.sh BUILD_DIR
set -eu
B=$1
TMP=$(mktemp -d /tmp/ew-install-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
passed=0
failed=0
check() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $what"
	fi
}

P=$TMP/prefix
cmake --install "$B" --prefix "$P" >"$TMP/log" 2>&1 || cat "$TMP/log"
check "the binary under P" test -x "$P/bin/exitwarden"
check "the unit under P" test -f "$P/lib/systemd/system/exitwarden.service"
check "ExecStart names P" grep -q "^ExecStart=$P/bin/exitwarden " \
    "$P/lib/systemd/system/exitwarden.service"
check "no placeholder left" sh -c \
    "! grep -q '@[A-Z]*@' '$P/lib/systemd/system/exitwarden.service'"
check "exitwarden(1) under P" test -f "$P/share/man/man1/exitwarden.1"
check "exitwarden.conf(5) under P" test -f "$P/share/man/man5/exitwarden.conf.5"
check "the example configuration with the docs" \
    test -f "$P/share/doc/exitwarden/exitwarden.conf"
check "nothing outside P" sh -c \
    "! grep -v '^-- Install\\|^-- Up-to-date' '$TMP/log' | grep -q ."
check "every installed path under P" sh -c \
    "! grep -E '^-- (Installing|Up-to-date): ' '$TMP/log' | grep -v -- ' $P/'"
# DESTDIR: staged under DESTDIR, naming P
DESTDIR=$TMP/stage cmake --install "$B" --prefix /opt/ew >"$TMP/log2" 2>&1 ||
    cat "$TMP/log2"
check "DESTDIR: the unit staged" \
    test -f "$TMP/stage/opt/ew/lib/systemd/system/exitwarden.service"
check "DESTDIR: ExecStart names the prefix" grep -q \
    '^ExecStart=/opt/ew/bin/exitwarden ' \
    "$TMP/stage/opt/ew/lib/systemd/system/exitwarden.service"
check "DESTDIR: nothing written to /opt/ew" test ! -e /opt/ew
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
