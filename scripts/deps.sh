#!/bin/sh
# Install the Debian 12 packages exitwarden needs, when they are missing.
# Pinned by package name; the versions are Debian 12's. Safe to run again:
# it installs nothing when everything is present.
#   sh scripts/deps.sh          what building and running need
#   sh scripts/deps.sh --test   that and the test-only tools (make check):
#                               a real browser for the web face's test
#                               (chromium, headless) and promtool
#                               (prometheus) for the /metrics format,
#                               a PostgreSQL server for the store's
#                               tests on it (throwaway clusters)
set -eu

PKGS="
build-essential
cmake
pkg-config
clang
clang-format
libclang-rt-14-dev
libfuzzer-14-dev
python3
iproute2
systemd
tor
nftables
libnftables-dev
libsqlite3-dev
libpq-dev
libgmime-3.0-dev
libjansson-dev
libarchive-dev
libxml2-dev
libssl-dev
debhelper
dpkg-dev
libmicrohttpd-dev
"

# Test dependencies: installed by `make check`, not by `make demo`.
TEST_PKGS="
postgresql
chromium
chromium-driver
prometheus
"
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS $TEST_PKGS"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "exitwarden: missing packages:$missing" >&2
	echo "exitwarden: run as root: apt-get install$missing" >&2
	# test-only tools missing: their tests skip (77); not fatal
	for p in $missing; do
		case " $(echo $TEST_PKGS) " in
		*" $p "*) ;;
		*) exit 1 ;;
		esac
	done
	exit 0
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The tor package starts a system tor on install; exitwarden's tests start
# their own and never need that one. Stop it only if we just installed it.
case "$missing " in
*" tor "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop tor >/dev/null 2>&1 || true
	fi
	;;
esac
# The postgresql package makes and starts a system cluster on install;
# the tests start throwaway clusters of their own (tests/tools/
# pgcluster.py) and never use it.  Stop it only if we just installed it.
case "$missing " in
*" postgresql "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop postgresql >/dev/null 2>&1 || true
	fi
	;;
esac
# The same for prometheus (only its promtool is used, by the tests).
case "$missing " in
*" prometheus "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop prometheus >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
