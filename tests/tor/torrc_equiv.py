#!/usr/bin/env python3
"""The emitted torrc means what the policy means, to the real tor.

    torrc_equiv.py --exitwarden PATH FILE...

For each exitwarden policy FILE (extensions included: port sets, tables,
expiring rules), `exitwarden policy torrc FILE` gives the torrc lines that
"tor emit" writes for the operator's %include; they are loaded into a tor
(tests/tor/torharness.py, DisableNetwork, in a private network namespace)
and tor's GETINFO exit-policy/full must equal `exitwarden policy expand
FILE` line for line.  Files exitwarden refuses are skipped.  Exit 77 when
tor is not installed; the last line is `N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import torharness  # noqa: E402

NOW = "2026-06-01T00:00:00Z"


def ew(exe, args, cwd):
    env = dict(os.environ, EW_NOW=NOW)
    return subprocess.run([exe] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    tor = torharness.tor_binary(None)
    if tor is None:
        print("SKIP: tor is not installed")
        return 77
    exe = os.path.abspath(args.exitwarden)
    files = [os.path.abspath(f) for f in args.files]
    in_netns = torharness.enter_netns(os.path.abspath(__file__),
                                      sys.argv[1:])
    cases = []
    for f in files:
        d, base = os.path.dirname(f), os.path.basename(f)
        exp = ew(exe, ["policy", "expand", base], d)
        trc = ew(exe, ["policy", "torrc", base], d)
        if exp.returncode != 0 or trc.returncode != 0:
            continue  # refused by exitwarden: nothing to carry
        cases.append((f, trc.stdout, exp.stdout.splitlines()))
    results = torharness.run_policies([t for _f, t, _e in cases], tor)
    passed = failed = 0
    for (f, text, want), res in zip(cases, results):
        if isinstance(res, Exception) or res.refused or res.crashed or \
                res.lines != want:
            failed += 1
            print("DIFF %s\n--- torrc:\n%s--- expand:\n%s\n--- tor:\n%s" % (
                f, text, "\n".join(want),
                res if isinstance(res, Exception) else
                ("refused " + res.message) if res.refused else
                "\n".join(res.lines)))
        else:
            passed += 1
    if not in_netns:
        print("note: ran without a network namespace")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
