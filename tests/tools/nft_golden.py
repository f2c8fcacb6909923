#!/usr/bin/env python3
"""Golden-file tests for the nftables ruleset exitwarden emits.

  nft_golden.py MODE BIN DIR [--regen]

For every DIR/X.policy, 'nft emit --now 2026-06-01T00:00:00Z --uid 102
[X.args] X.policy' is run in DIR.  MODE:

  golden  stdout == X.nft (exit 0); --regen rewrites X.nft
  nolog   no emitted ruleset contains a log statement (or the word)
  check   every emitted ruleset passes 'nft -c -f' (check mode: parsed,
          evaluated and validated by the kernel, nothing committed) inside
          a fresh network namespace; exit 77 when that is impossible

The last line printed is "N passed, N failed".
"""
import os
import re
import shutil
import subprocess
import sys

NOW = "2026-06-01T00:00:00Z"


def emit(bin_, d, name):
    args = ["nft", "emit", "--now", NOW, "--uid", "102"]
    a = os.path.join(d, name + ".args")
    if os.path.exists(a):
        with open(a, encoding="utf-8") as f:
            args += f.read().split()
    p = subprocess.run([bin_] + args + [name + ".policy"], cwd=d,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def can_netns():
    if os.geteuid() != 0 or shutil.which("nft") is None or \
            shutil.which("unshare") is None:
        return False
    p = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return p.returncode == 0


def main():
    regen = "--regen" in sys.argv
    argv = [a for a in sys.argv[1:] if a != "--regen"]
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, bin_, d = argv
    bin_ = os.path.abspath(bin_)
    if mode == "check" and not can_netns():
        print("skipped: nft -c needs root and network namespaces")
        return 77
    names = sorted(f[:-7] for f in os.listdir(d) if f.endswith(".policy"))
    passed = failed = 0
    for name in names:
        rc, out, err = emit(bin_, d, name)
        ok = rc == 0
        why = "exit %d: %s" % (rc, err.strip())
        if ok and mode == "golden":
            path = os.path.join(d, name + ".nft")
            if regen:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(out)
            with open(path, encoding="utf-8") as f:
                want = f.read()
            if want != out:
                import difflib
                ok = False
                why = "".join(difflib.unified_diff(
                    want.splitlines(True), out.splitlines(True),
                    "expected", "actual"))
        elif ok and mode == "nolog":
            if re.search(r"\blog\b", out):
                ok = False
                why = "the ruleset contains 'log'"
        elif ok and mode == "check":
            p = subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"],
                               input=out, capture_output=True, text=True,
                               timeout=120)
            if p.returncode != 0:
                ok = False
                why = "nft -c: " + p.stderr
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s (%s)\n%s" % (name, mode, why))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not names else 0


if __name__ == "__main__":
    sys.exit(main())
