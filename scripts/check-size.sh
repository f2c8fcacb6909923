#!/bin/sh
# The size rule (style.md): no source file over 1,500 lines, no function
# over 150.  Checked where the rule applies: src/, tests/ and bench/.
# C files (.c, .h) get both limits, Python and shell files (.py, .sh)
# the file limit only.  Functions are found in KNF layout: the name at
# column 0 followed by '(', the body from a '{' alone at column 0 to the
# next '}' alone at column 0.  Prints each offender; exits 1 if there is
# one.
set -eu
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os
import re
import sys

MAX_FILE, MAX_FN = 1500, 150
TREES = ("src", "tests", "bench")
C_EXT, SCRIPT_EXT = (".c", ".h"), (".py", ".sh")
bad = 0
for top in TREES:
    for root, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith(C_EXT + SCRIPT_EXT):
                continue
            p = os.path.join(root, f)
            with open(p, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
            if len(lines) - 1 > MAX_FILE:
                print("%s: %d lines (at most %d)" % (p, len(lines) - 1, MAX_FILE))
                bad += 1
            if not f.endswith(C_EXT):
                continue
            name, start = None, None
            for i, line in enumerate(lines):
                m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\(", line)
                if m:
                    name = m.group(1)
                if line == "{":
                    start = i
                elif line == "}" and start is not None:
                    n = i - start + 1
                    if n > MAX_FN:
                        print("%s:%d: function %s is %d lines (at most %d)"
                              % (p, start + 1, name, n, MAX_FN))
                        bad += 1
                    start = None
print("size: %d offenders" % bad)
sys.exit(1 if bad else 0)
PY
