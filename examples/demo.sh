#!/bin/sh
# make demo: the exitwarden story so far, on the example policy: check
# it, expand it exactly as tor would, explain verdicts, read a forwarded
# IRC complaint, and print what tor and the kernel would be given.
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

step "exitwarden policy show $pol   (the canonical form)"
"$ew" policy show "$pol"

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

step "exitwarden tor emit $pol   (the torrc fragment for %include)"
"$ew" tor emit --now "$now" "$pol" | cut -c1-120

step "exitwarden nft emit --uid 0 $pol   (the kernel's table: sets, counters, no log)"
"$ew" nft emit --now "$now" --uid 0 "$pol" | head -40

step "a broken policy is refused with located errors, and nothing is printed"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf 'irc = 6660-7000\nreject 203.0.113.0/24:$ircc reason "typo"\nreject 1.2.3.4/33:*\nExitPolicy accept *:80 *:443\n' >"$tmp"
if "$ew" policy expand "$tmp"; then
	echo "demo: the broken policy was accepted" >&2
	exit 1
fi
printf '\ndemo: done\n'
