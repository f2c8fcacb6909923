#!/bin/sh
# The Debian package end to end (issue 13): build it with
# dpkg-buildpackage -us -uc -b from a copy of the source tree (out of
# the tree, in a temporary directory), install it with apt-get, run
# `exitwarden --version` and `exitwarden setup -n --root` on a fake /etc,
# check the files it installed (binary, unit with its ExecStart path,
# man pages, the configuration as a conffile), then purge it and check
# that they are gone.  Root only; skips (77) when not root, without
# dpkg-buildpackage/debhelper, or when exitwarden is already installed
# as a package (a machine's own install is never touched).
#
# Usage: deb.sh SOURCE_DIR
set -eu
SRC=$(cd "$1" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "pkg: not root: skipped"
	exit 77
fi
for t in dpkg-buildpackage dh apt-get dpkg-query; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "pkg: no $t: skipped"
		exit 77
	fi
done
if dpkg-query -W -f='${Status}' exitwarden 2>/dev/null |
    grep -q 'install ok installed'; then
	echo "pkg: exitwarden is installed already (not ours to touch): skipped"
	exit 77
fi
if [ -e /etc/exitwarden/exitwarden.conf ]; then
	echo "pkg: /etc/exitwarden/exitwarden.conf exists: skipped"
	exit 77
fi

TMP=$(mktemp -d /tmp/ew-pkg-XXXXXX)
installed=0
passed=0
failed=0
cleanup() {
	if [ "$installed" = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y exitwarden \
		    >/dev/null 2>&1 || dpkg --purge exitwarden >/dev/null 2>&1 ||
		    true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() {
	passed=$((passed + 1))
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
check() {
	# check "what" command...
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi
}

# a copy of the tree without builds or git metadata
mkdir "$TMP/exitwarden"
(cd "$SRC" && tar --exclude=./build --exclude=./.git -cf - .) |
    (cd "$TMP/exitwarden" && tar -xf -)
t0=$(date +%s)
if ! (cd "$TMP/exitwarden" &&
    nice dpkg-buildpackage -us -uc -b -j2 >"$TMP/build.log" 2>&1); then
	tail -40 "$TMP/build.log"
	bad "dpkg-buildpackage failed"
	echo "$passed passed, $failed failed"
	exit 1
fi
t1=$(date +%s)
echo "pkg: built in $((t1 - t0)) s"
deb=$(ls "$TMP"/exitwarden_*.deb)
check "one package built" test -f "$deb"
check "the package holds the binary" sh -c \
    "dpkg-deb -c '$deb' | grep -q './usr/bin/exitwarden\$'"

installed=1
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" \
    >"$TMP/install.log" 2>&1; then
	tail -20 "$TMP/install.log"
	bad "apt-get install ./exitwarden_*.deb"
fi
check "exitwarden --version" sh -c \
    "/usr/bin/exitwarden --version | grep -q '^exitwarden '"
check "the unit is installed" test -f /usr/lib/systemd/system/exitwarden.service
check "its ExecStart names /usr/bin" grep -q \
    '^ExecStart=/usr/bin/exitwarden' /usr/lib/systemd/system/exitwarden.service
check "ReadWritePaths with '-'" grep -q \
    '^ReadWritePaths=-/etc/tor/torrc.d' /usr/lib/systemd/system/exitwarden.service
check "the unit passes the configuration" grep -q \
    -- '--config /etc/exitwarden/exitwarden.conf' \
    /usr/lib/systemd/system/exitwarden.service
check "exitwarden(1)" test -f /usr/share/man/man1/exitwarden.1.gz
check "exitwarden-policy(5)" test -f /usr/share/man/man5/exitwarden-policy.5.gz
check "exitwarden.conf(5)" test -f /usr/share/man/man5/exitwarden.conf.5.gz
check "the example configuration" test -f /etc/exitwarden/exitwarden.conf
check "it is a conffile" sh -c \
    "dpkg-query -W -f='\${Conffiles}' exitwarden | grep -q /etc/exitwarden/exitwarden.conf"
check "the installed configuration is valid" \
    /usr/bin/exitwarden config check /etc/exitwarden/exitwarden.conf
check "the unit is not enabled" sh -c \
    "! systemctl is-enabled exitwarden 2>/dev/null | grep -q '^enabled'"

# setup -n against a fake /etc: a diff, nothing changed
mkdir -p "$TMP/root/etc/tor/instances/exit1"
printf 'SocksPort 0\nExitPolicy accept *:80\nExitPolicy reject *:*\n' \
    >"$TMP/root/etc/tor/torrc"
printf '+SocksPort auto\n' >"$TMP/root/etc/tor/instances/exit1/torrc"
before=$(find "$TMP/root" -type f -exec sha256sum {} + | sort)
if /usr/bin/exitwarden setup -n --root "$TMP/root" >"$TMP/setup.out" 2>&1; then
	ok
else
	cat "$TMP/setup.out"
	bad "exitwarden setup -n --root"
fi
check "setup -n shows the include" grep -q \
    '^+%include /etc/tor/torrc.d/$' "$TMP/setup.out"
check "setup -n shows the instance" grep -q \
    '^+%include /etc/tor/instances/exit1/torrc.d/$' "$TMP/setup.out"
after=$(find "$TMP/root" -type f -exec sha256sum {} + | sort)
check "setup -n changed nothing" test "$before" = "$after"

# purge: every file of the package gone, the configuration too
files=$(dpkg-query -L exitwarden | while read -r f; do
	[ -f "$f" ] && echo "$f"
done)
installed=0
if ! DEBIAN_FRONTEND=noninteractive apt-get purge -y exitwarden \
    >"$TMP/purge.log" 2>&1; then
	tail -20 "$TMP/purge.log"
	bad "apt-get purge exitwarden"
fi
left=""
for f in $files /etc/exitwarden/exitwarden.conf; do
	[ -e "$f" ] && left="$left $f"
done
check "every file removed:$left" test -z "$left"
check "the package is gone" sh -c \
    "! dpkg-query -W -f='\${Status}' exitwarden 2>/dev/null | grep -q 'install ok installed'"
echo "pkg: total $(($(date +%s) - t0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
