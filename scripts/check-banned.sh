#!/bin/sh
# Banned functions (curl's checksrc, git's banned.h): unbounded copies and
# unchecked conversions.  Use snprintf, ew_buf, ew_parse_uint instead.
set -eu
cd "$(dirname "$0")/.."
pat='\<(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|strncpy|strncat)[[:space:]]*\('
if grep -rnE "$pat" src tests/unit fuzz bench --include='*.[ch]' 2>/dev/null; then
	echo "banned function used (see scripts/check-banned.sh)" >&2
	exit 1
fi
# Library code never prints and never exits.
if grep -rnE '\<(printf|fprintf|puts|fputs|perror|exit|abort)[[:space:]]*\(' \
    src/lib src/policy src/compile src/emit src/mail src/store \
    --include='*.[ch]' 2>/dev/null | grep -v 'snprintf\|vsnprintf\|ew_buf_printf\|ew_buf_vprintf'; then
	echo "library code prints or exits (only src/cli may)" >&2
	exit 1
fi
echo "banned: clean"
