#!/usr/bin/env python3
"""Differential test: `exitwarden policy expand` against the real tor.

    difftest.py --exitwarden PATH [--count 500] [--seed N] [--keep DIR]

Generates COUNT random policy files (tests/tools/policygen.py, same files as
`policygen.py --seed N --count COUNT`), runs all of them through one batch
of tor (tests/tor/torharness.py) and each through `PATH policy expand FILE`,
and compares:

  * tor refused and exitwarden exited 1            -> same
  * both accepted, identical exit-policy/full lines -> same
  * anything else                                   -> difference (printed
    with the policy text, tor's answer and exitwarden's, as a unified diff)

exitwarden's contract: print exactly tor's exit-policy/full lines on stdout
and exit 0, or exit 1 with diagnostics on stderr when the configuration is
invalid.  Any other status, or a run longer than --ew-timeout, is a
difference.

Policies on which tor itself aborts (an assertion failure in tor 0.4.9.11,
see torharness) must be refused by exitwarden with a message saying so.

Both tor and exitwarden run inside a fresh network namespace with only
loopback up (re-executing this script under `unshare -n`), so
ExitPolicyRejectLocalInterfaces sees the same (internal-only) interface
addresses on both sides.  If that is impossible the test runs without one
and says so.

Exit status: 0 all agree, 1 any difference or harness failure, 77 tor is
not installed.  The last line of output is `N passed, N failed`.
"""

import argparse
import concurrent.futures
import difflib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

import policygen   # noqa: E402
import torharness  # noqa: E402


class EwResult:
    """What exitwarden did with one policy file."""

    def __init__(self, status, lines, stderr, error=""):
        self.status = status      # exit status (None: did not finish)
        self.lines = lines        # stdout lines when status == 0
        self.stderr = stderr
        self.error = error        # why it could not run / timed out


def run_exitwarden(exe, path, timeout):
    try:
        p = subprocess.run([exe, "policy", "expand", path],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return EwResult(None, None, "", "timed out after %gs" % timeout)
    except OSError as e:
        return EwResult(None, None, "", "cannot run: %s" % e)
    out = p.stdout.decode("utf-8", "replace")
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return EwResult(p.returncode, lines,
                    p.stderr.decode("utf-8", "replace"))


def tor_text(res):
    """tor's answer as text lines (for --keep files and reports)."""
    if res.crashed:
        return ["@crashed " + res.message]
    out = ["@refused " + res.message] if res.refused else list(res.lines)
    return out + ["wrn: " + w for w in res.warnings]


def compare(tor, ew):
    """None if tor and exitwarden agree, else a short description."""
    if ew.status is None:
        return "exitwarden " + ew.error
    if ew.status not in (0, 1):
        return "exitwarden exited with status %d" % ew.status
    if tor.crashed:
        # tor 0.4.9.11 aborts on this configuration; exitwarden must refuse
        # it and say why.
        if ew.status == 1 and "tor 0.4.9 aborts" in ew.stderr:
            return None
        return "tor aborts on this policy, exitwarden did not refuse it"
    if tor.refused:
        if ew.status == 1:
            return None
        return "tor refused the policy, exitwarden accepted it"
    if ew.status == 1:
        return "tor accepted the policy, exitwarden refused it"
    if ew.lines != tor.lines:
        return "exit-policy/full differs"
    return None


def report(name, text, tor, ew, why):
    """Print one difference in full."""
    print("=" * 72)
    print("DIFF %s: %s" % (name, why))
    print("--- policy:")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if tor.refused:
        print("--- tor: refused (%s)" % tor.message)
        for w in tor.warnings:
            print("    wrn: " + w)
    if ew.status == 1 or ew.status is None or ew.status not in (0, 1):
        print("--- exitwarden: status %s %s" % (ew.status, ew.error))
        for line in ew.stderr.splitlines()[:20]:
            print("    " + line)
    a = tor.lines if not tor.refused else []
    b = ew.lines if ew.status == 0 else []
    if not tor.refused and ew.status == 0:
        for line in difflib.unified_diff(a, b, "tor", "exitwarden",
                                         lineterm="", n=3):
            print(line)
    else:
        if a:
            print("--- tor lines:")
            for line in a:
                print("    " + line)
        if b:
            print("--- exitwarden lines:")
            for line in b:
                print("    " + line)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare exitwarden policy expand with tor.")
    ap.add_argument("--exitwarden", required=True, help="exitwarden binary")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", metavar="DIR",
                    help="keep policies and both answers in DIR "
                         "(pNNNN.policy, .tor, .ew)")
    ap.add_argument("--tor", help="tor binary (default: tor in PATH)")
    ap.add_argument("--no-netns", action="store_true",
                    help="do not create a network namespace")
    ap.add_argument("--max-show", type=int, default=20,
                    help="print at most this many differences in full")
    ap.add_argument("--ew-timeout", type=float, default=10.0,
                    help="seconds allowed per exitwarden run")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="parallel exitwarden runs")
    args = ap.parse_args(argv)

    tor = torharness.tor_binary(args.tor)
    if tor is None:
        print("SKIP: tor is not installed (looked for %s)"
              % (args.tor or "tor in PATH"))
        return 77
    exe = os.path.abspath(args.exitwarden)
    if not os.access(exe, os.X_OK):
        print("error: exitwarden binary %s is not executable" % exe)
        print("0 passed, %d failed" % args.count)
        return 1
    in_netns = torharness.enter_netns(
        os.path.abspath(__file__), sys.argv[1:] if argv is None else argv,
        enabled=not args.no_netns)
    if in_netns:
        print("running in a private network namespace (loopback only)")

    # 1. Policies.
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        workdir = args.keep
    else:
        workdir = tempfile.mkdtemp(prefix="ew-difftest-")
    try:
        return run(args, tor, exe, workdir, in_netns)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, tor, exe, workdir, in_netns):
    rng = random.Random(args.seed)
    names, texts, paths = [], [], []
    for n in range(1, args.count + 1):
        name = "p%04d" % n
        text = policygen.gen_policy(rng)
        path = os.path.join(workdir, name + ".policy")
        with open(path, "w") as f:
            f.write(text)
        names.append(name)
        texts.append(text)
        paths.append(path)
    print("seed %d: %d policies in %s" % (args.seed, args.count,
                                          args.keep or "a temporary dir"))

    # 2. exitwarden in the background, tor (with the self-test cases in
    #    front of the batch) in the foreground.
    t0 = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    ew_futures = [pool.submit(run_exitwarden, exe, p, args.ew_timeout)
                  for p in paths]
    self_texts = [t for _n, t, _w in torharness.SELF_TESTS]
    try:
        results = torharness.run_policies(self_texts + texts, tor)
    except torharness.HarnessError as e:
        pool.shutdown(cancel_futures=True)
        print("harness failure: %s" % e)
        print("0 passed, %d failed" % args.count)
        return 1
    t_tor = time.monotonic() - t0
    ew_results = [f.result() for f in ew_futures]
    pool.shutdown()
    t_all = time.monotonic() - t0

    n_self = len(self_texts)
    problems = torharness.check_self_tests(results[:n_self], in_netns)
    results = results[n_self:]
    if problems:
        for p in problems:
            print("self-test: " + p)
        print("harness failure: tor does not reproduce the recorded doc "
              "cases, its answers cannot be trusted")
        print("0 passed, %d failed" % args.count)
        return 1
    bad = [(n, r) for n, r in zip(names, results)
           if isinstance(r, Exception)]
    if bad:
        for n, r in bad:
            print("harness failure on %s: %s" % (n, r))
        print("0 passed, %d failed" % args.count)
        return 1

    # 3. Compare.
    passed = failed = 0
    shown = 0
    crashed, diffs = [], []
    for name, text, tres, eres in zip(names, texts, results, ew_results):
        if args.keep:
            with open(os.path.join(workdir, name + ".tor"), "w") as f:
                f.write("\n".join(tor_text(tres)) + "\n")
            with open(os.path.join(workdir, name + ".ew"), "w") as f:
                if eres.status == 0:
                    f.write("\n".join(eres.lines) + "\n")
                else:
                    f.write("@status %s %s\n%s" % (eres.status, eres.error,
                                                   eres.stderr))
        if tres.crashed:
            crashed.append(name)
        why = compare(tres, eres)
        if why is None:
            passed += 1
            continue
        failed += 1
        diffs.append(name)
        if shown < args.max_show:
            report(name, text, tres, eres, why)
            shown += 1
    if failed > shown:
        print("=" * 72)
        print("... %d more differences not shown: %s"
              % (failed - shown, " ".join(diffs[shown:])))

    # 4. Statistics (sanity of the generator and of tor's setup).
    counted = [r for r in results if not r.crashed]
    refused = sum(1 for r in counted if r.refused)
    reject_all = sum(1 for r in counted if r.lines == ["reject *:*"])
    pct = (lambda k: 100.0 * k / max(1, len(results)))
    print("=" * 72)
    print("tor refused %d of %d policies (%.1f%%)"
          % (refused, len(results), pct(refused)))
    print("tor answered `reject *:*` for %d (%.1f%%)"
          % (reject_all, pct(reject_all)))
    if reject_all * 2 > len(results):
        print("WARNING: most answers are `reject *:*`: the generator is too "
              "reject-heavy or tor considers DNS broken")
    if crashed:
        print("tor aborted (assertion failure) on %d policies, which "
              "exitwarden must refuse: %s" % (len(crashed), " ".join(crashed)))
    print("time: tor %.1fs, total %.1fs (%d exitwarden jobs)"
          % (t_tor, t_all, args.jobs))
    if not in_netns:
        print("note: ran without a network namespace")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
