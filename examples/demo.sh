#!/bin/sh
# make demo: the exitwarden story.  First, on the example policy and
# without touching anything: check it, expand it exactly as tor would,
# explain verdicts, read a forwarded IRC complaint, and print what tor and
# the kernel would be given.  Then, as root with tor installed, the live
# story on a private Tor network in a network namespace (about half a
# minute, tests/tor/story.py --demo): the operator applies his policy, an
# IRC complaint arrives, becomes a ticket, the destination is blocked (the
# exit refuses it) and the reply is written.
set -eu
ew=${1:-build/dev/exitwarden}
cd "$(dirname "$0")/.."
pol=examples/exit.policy
now=2026-11-22T12:00:00Z

step() {
	printf '\n==> %s\n' "$*"
}

step "exitwarden policy check $pol"
"$ew" policy check --now "$now" "$pol"

step "exitwarden policy expand $pol   (what tor's GETINFO exit-policy/full prints)"
"$ew" policy expand --now "$now" --no-interfaces "$pol"

step "exitwarden policy summary $pol   (the microdescriptor p / p6 lines)"
"$ew" policy summary --now "$now" --no-interfaces "$pol"

step "exitwarden policy query $pol ...   (tor's verdicts)"
"$ew" policy query --now "$now" --no-interfaces "$pol" \
    203.0.113.5:6667 203.0.113.5:443 '[2001:db8:6667::1]:6697' \
    192.0.2.66:80 10.1.2.3:80 '*:25' 203.0.113.5:0

step "exitwarden policy explain $pol 203.0.113.5:6667"
"$ew" policy explain --now "$now" --no-interfaces "$pol" 203.0.113.5:6667

step "exitwarden policy explain $pol 192.0.2.66:80   (its block expired)"
"$ew" policy explain --now "$now" --no-interfaces "$pol" 192.0.2.66:80

step "exitwarden complaint parse examples/irc-complaint.eml   (the hoster forwards an IRC complaint)"
"$ew" complaint parse examples/irc-complaint.eml

step "exitwarden complaint parse --explain examples/irc-notice.eml   (the notice that started it: deadline, ports, destination host, and why)"
"$ew" complaint parse --explain examples/irc-notice.eml

step "exitwarden tor emit $pol   (the torrc fragment for %include)"
"$ew" tor emit --now "$now" "$pol" | cut -c1-120

step "exitwarden nft emit --uid 0 $pol   (the kernel's table: sets, counters, no log)"
"$ew" nft emit --now "$now" --uid 0 "$pol" | head -20
echo '...'

step "a broken policy is refused with located errors, and nothing is printed"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf 'irc = 6660-7000\nreject 203.0.113.0/24:$ircc reason "typo"\nreject 1.2.3.4/33:*\nExitPolicy accept *:80 *:443\n' >"$tmp"
if "$ew" policy expand "$tmp"; then
	echo "demo: the broken policy was accepted" >&2
	exit 1
fi

# The live story needs root (a network namespace, nftables, the exit's
# uid), tor and tor-gencert (a private network with its own authority)
# and unshare.
why=
if [ "$(id -u)" -ne 0 ]; then
	why="it needs root (a network namespace, nftables, tor as debian-tor)"
else
	for prog in tor tor-gencert unshare python3; do
		if ! command -v "$prog" >/dev/null 2>&1; then
			why="$prog is not installed"
			break
		fi
	done
fi
if [ -n "$why" ]; then
	printf '\ndemo: done; the live story on a private Tor network was skipped: %s\n' "$why"
	exit 0
fi

rc=0
python3 tests/tor/story.py --demo --exitwarden "$ew" || rc=$?
if [ "$rc" -eq 77 ]; then
	printf '\ndemo: done; the live story was skipped (the reason is above)\n'
elif [ "$rc" -ne 0 ]; then
	echo "demo: the live story did not go as expected" >&2
	exit 1
fi
