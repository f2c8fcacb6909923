#!/usr/bin/env python3
"""Golden-file tests for the policy language (pfctl regress style).

  golden.py MODE BIN DIR [--regen]

MODE is the verb run on every DIR/*.in (in DIR, by basename, so table
and include paths stay relative):

  expand   'policy expand ARGS X.in'  -> X.out (stdout, exit 0), or
           X.err (stderr, exit 1), or X.fail (exit 1, any error text)
  show     'policy show X.in'         -> X.out, or X.err
  check    'policy check X.in'        -> X.err (stderr), exit 1 when
           the .err has an "error:" line, else 0
  summary  'policy summary ARGS X.in' -> X.sum (all of stdout) or X.p6
           (only the p6 line is compared)
  query    'policy query ARGS X.in -' with X.queries on stdin -> X.out
  roundtrip  for every X.in that parses: Y = show(X); show(Y) == Y
           (pfctl's selfpf) and expand(Y) == expand(X)

ARGS come from X.args when present.  The clock is pinned: EW_NOW is
2026-06-01T00:00:00Z unless X.args says --now (EW_NOW is a test hook:
only a build with EW_TEST_HOOKS, the dev and asan presets, reads it).  The last line printed is
"N passed, N failed"; the exit status is 1 when anything failed.
"""
import os
import subprocess
import sys
import tempfile

NOW = "2026-06-01T00:00:00Z"


def run(bin_, args, cwd):
    env = dict(os.environ, EW_NOW=NOW)
    p = subprocess.run([bin_] + args, cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def extra_args(d, name):
    a = os.path.join(d, name + ".args")
    return read(a).split() if os.path.exists(a) else []


def diff(want, got):
    import difflib
    return "".join(difflib.unified_diff(
        want.splitlines(True), got.splitlines(True), "expected", "actual"))


def one(mode, bin_, d, name, regen):
    base = os.path.join(d, name)
    inp = name + ".in"
    if mode == "roundtrip":
        return roundtrip(bin_, d, name)
    if mode == "summary":
        return summary(bin_, d, name)
    if mode == "query":
        return query(bin_, d, name, regen)
    if mode == "expand":
        cmd = ["policy", "expand"] + extra_args(d, name) + [inp]
    elif mode == "show":
        cmd = ["policy", "show", inp]
    else:
        cmd = ["policy", "check"] + extra_args(d, name) + [inp]
    rc, out, err = run(bin_, cmd, d)
    if regen:
        if mode == "check" or (rc != 0 and not os.path.exists(base + ".fail")):
            with open(base + ".err", "w") as f:
                f.write(err)
            if os.path.exists(base + ".out") and mode != "check":
                os.unlink(base + ".out")
        elif rc == 0 and not os.path.exists(base + ".fail"):
            with open(base + ".out", "w") as f:
                f.write(out)
        return None
    if os.path.exists(base + ".out"):
        if rc != 0:
            return "exit %d, stderr:\n%s" % (rc, err)
        want = read(base + ".out")
        if out != want:
            return diff(want, out)
        if mode == "expand" and "error:" in err:
            return "unexpected errors:\n" + err
        return None
    if os.path.exists(base + ".err"):
        want = read(base + ".err")
        want_rc = 1 if "error:" in want or mode != "check" else 0
        if rc != want_rc:
            return "exit %d, wanted %d; stderr:\n%s" % (rc, want_rc, err)
        if err != want:
            return diff(want, err)
        if rc != 0 and out != "":
            return "output despite errors:\n" + out
        return None
    if os.path.exists(base + ".fail"):
        if rc != 1:
            return "exit %d, wanted 1 (tor refuses this); stdout:\n%s" % (
                rc, out)
        if "error:" not in err:
            return "no error message:\n" + err
        if out != "":
            return "output despite errors:\n" + out
        return None
    return "no .out, .err or .fail file"


def summary(bin_, d, name):
    base = os.path.join(d, name)
    rc, out, err = run(bin_, ["policy", "summary"] + extra_args(d, name) +
                       [name + ".in"], d)
    if rc != 0:
        return "exit %d:\n%s" % (rc, err)
    if os.path.exists(base + ".sum"):
        want, got = read(base + ".sum"), out
    else:
        want = read(base + ".p6")
        got = "".join(l for l in out.splitlines(True) if l.startswith("p6 "))
    return None if want == got else diff(want, got)


def query(bin_, d, name, regen):
    base = os.path.join(d, name)
    env = dict(os.environ, EW_NOW=NOW)
    p = subprocess.run([bin_, "policy", "query"] + extra_args(d, name) +
                       [name + ".in", "-"], cwd=d, env=env,
                       input=read(base + ".queries"), capture_output=True,
                       text=True, timeout=60)
    if regen:
        with open(base + ".out", "w") as f:
            f.write(p.stdout)
        return None
    if p.returncode != 0:
        return "exit %d:\n%s" % (p.returncode, p.stderr)
    want = read(base + ".out")
    return None if want == p.stdout else diff(want, p.stdout)


NOT_A_CASE = object()


def roundtrip(bin_, d, name):
    inp = name + ".in"
    args = extra_args(d, name)
    rc, shown, err = run(bin_, ["policy", "show", inp], d)
    if rc != 0:
        # A refused input has no round trip: not a pass, not a failure.
        return NOT_A_CASE if os.path.exists(os.path.join(d, name + ".err")) \
            or os.path.exists(os.path.join(d, name + ".fail")) else \
            "show failed: " + err
    with tempfile.NamedTemporaryFile("w", suffix=".in", dir=d,
                                     delete=False) as f:
        f.write(shown)
        tmp = os.path.basename(f.name)
    try:
        rc2, shown2, err2 = run(bin_, ["policy", "show", tmp], d)
        if rc2 != 0:
            return "show of show failed: " + err2
        if shown2 != shown:
            return "show is not a fixed point:\n" + diff(shown, shown2)
        rc3, e1, _ = run(bin_, ["policy", "expand"] + args + [inp], d)
        rc4, e2, err4 = run(bin_, ["policy", "expand"] + args + [tmp], d)
        if (rc3, e1) != (rc4, e2):
            return "expand changed by show:\n" + diff(e1, e2) + err4
    finally:
        os.unlink(os.path.join(d, tmp))
    return None


def main():
    mode, bin_, d = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    regen = "--regen" in sys.argv[4:]
    names = sorted(f[:-3] for f in os.listdir(d) if f.endswith(".in")
                   and not f.startswith("tmp"))
    passed = failed = refused = 0
    for n in names:
        why = one(mode, bin_, d, n, regen)
        if why is None:
            passed += 1
        elif why is NOT_A_CASE:
            refused += 1
        else:
            failed += 1
            print("FAIL %s/%s.in (%s)\n%s" % (d, n, mode, why))
    if regen:
        print("regenerated %d files in %s" % (len(names), d))
    if refused:
        print("%s: %d refused inputs have no round trip (not counted)"
              % (mode, refused))
    print("%s: %d passed, %d failed" % (mode, passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
