#!/usr/bin/env python3
"""Golden tests for complaint parsing.

  mail_golden.py BIN DIR [--regen]

For every DIR/X.eml, runs 'exitwarden complaint parse --json X.eml' and
compares the JSON object with DIR/X.json (as data, so key order and
spacing do not matter).  A DIR/X.fail file instead means the parse must
be refused: exit 1, nothing on stdout, and the .fail text found in
stderr.  A parse that succeeds must print nothing on stderr (the
libraries below the parser, libxml2 above all, may not write there:
in the daemon that would be an attacker writing into its journal).
--regen rewrites the .json files for review.  The last line
printed is "N passed, N failed"; the exit status is 1 when anything
failed.
"""
import difflib
import json
import os
import subprocess
import sys


def main():
    bin_, d = sys.argv[1], sys.argv[2]
    regen = "--regen" in sys.argv[3:]
    passed = failed = 0
    names = sorted(n[:-4] for n in os.listdir(d) if n.endswith(".eml"))
    for name in names:
        base = os.path.join(d, name)
        p = subprocess.run([bin_, "complaint", "parse", "--json",
                            base + ".eml"], capture_output=True, text=True,
                           timeout=60)
        if os.path.exists(base + ".fail"):
            with open(base + ".fail", encoding="utf-8") as f:
                want = f.read().strip()
            if p.returncode == 1 and p.stdout == "" and want in p.stderr:
                passed += 1
            else:
                print("FAIL %s: expected refusal '%s', got exit %d\n%s%s"
                      % (name, want, p.returncode, p.stdout, p.stderr))
                failed += 1
            continue
        if p.returncode != 0:
            print("FAIL %s: exit %d: %s" % (name, p.returncode, p.stderr))
            failed += 1
            continue
        if p.stderr != "":
            print("FAIL %s: printed on stderr: %r" % (name, p.stderr[:300]))
            failed += 1
            continue
        got = json.loads(p.stdout)
        text = json.dumps(got, indent=2, sort_keys=False) + "\n"
        if regen:
            with open(base + ".json", "w", encoding="utf-8") as f:
                f.write(text)
            passed += 1
            continue
        try:
            with open(base + ".json", encoding="utf-8") as f:
                want = json.load(f)
        except FileNotFoundError:
            print("FAIL %s: no %s.json" % (name, name))
            failed += 1
            continue
        if want == got:
            passed += 1
        else:
            wt = json.dumps(want, indent=2) + "\n"
            print("FAIL %s:\n%s" % (name, "".join(difflib.unified_diff(
                wt.splitlines(True), text.splitlines(True), "expected",
                "actual"))))
            failed += 1
    if not names:
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
