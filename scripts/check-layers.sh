#!/bin/sh
# The layering rule (style.md 2.2), checked on #include lines:
#   lib <- policy <- compile <- emit;  lib <- mail;  lib <- store;
#   desk on emit, mail and store;  web on desk, store and policy;
#   cli on top.
# Each directory lists the directories of ours it may include.  Third-party
# headers are confined to one file each.  Then scripts/check-calls.py: no
# call cycle between the files of one module, and no CLI command file
# calling another's logic.
set -eu
cd "$(dirname "$0")/.."

allowed() {
	case "$1" in
	lib) echo "lib" ;;
	policy) echo "lib policy" ;;
	compile) echo "lib policy compile" ;;
	emit) echo "lib policy compile emit" ;;
	mail) echo "lib mail" ;;
	store) echo "lib store" ;;
	conf) echo "lib conf" ;;
	desk) echo "lib policy compile emit mail store desk" ;;
	web) echo "lib policy store desk web" ;;
	cli) echo "lib policy compile emit mail store desk conf web cli" ;;
	*) echo "" ;;
	esac
}

bad=0
for dir in src/*/; do
	mod=$(basename "$dir")
	ok=$(allowed "$mod")
	for f in "$dir"*.[ch]; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*"/\1/p' "$f"); do
			case " $ok " in
			*" $inc "*) ;;
			*)
				echo "$f: includes $inc/, but $mod may include only: $ok" >&2
				bad=1
				;;
			esac
		done
	done
done

# Third-party libraries: one file each.
confine() {
	lib=$1
	where=$2
	hits=$(grep -rlE "#include <$lib" src | grep -v -E "$where" || true)
	if [ -n "$hits" ]; then
		echo "$hits: includes <$lib...>, allowed only in $where" >&2
		bad=1
	fi
}
confine 'gmime/' 'src/mail/mime\.c'
confine 'glib' 'src/mail/mime\.c'
confine 'sqlite3\.h' 'src/store/(sqlite|backup)\.c'
confine 'libpq-fe\.h' 'src/store/pg\.c'
confine 'nftables/' 'src/emit/nft_apply\.c'
confine 'linux/netfilter' 'src/emit/nft_netlink\.c'
confine 'jansson\.h' 'src/mail/'
confine 'archive' 'src/mail/archive\.c'
confine 'libxml/' 'src/mail/xml\.c'
confine 'openssl/' 'src/lib/digest\.c'
confine 'microhttpd' 'src/web/http\.c'

python3 scripts/check-calls.py src || bad=1
exit $bad
