#!/usr/bin/env python3
"""The emitted torrc means what the policy means, to the real tor.

    torrc_equiv.py --exitwarden PATH FILE...

For each exitwarden policy FILE (extensions included: port sets, tables,
expiring rules), `exitwarden policy torrc FILE` gives the torrc lines that
"tor emit" writes for the operator's %include; they are loaded into a tor
(tests/tor/torharness.py, DisableNetwork, in a private network namespace)
and tor's GETINFO exit-policy/full must equal `exitwarden policy expand
FILE` line for line.  A case's .args beside it are honoured (--now; its
--interface addresses are put on a dummy link of the namespace, so tor
sees the same); a case with an .err must be refused by exitwarden with
that message and by tor too (refused or aborted).  Exit 77 when tor is
not installed; the last line is `N passed, N failed, N skipped`.
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
    # EW_NOW: a test hook, read only by the dev/asan (EW_TEST_HOOKS) build
    env = dict(os.environ, EW_NOW=NOW)
    return subprocess.run([exe] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def case_args(path):
    """The case's .args beside it: (--now args, interface addresses or
    None for "the machine's", extra args for expand)."""
    base = os.path.splitext(path)[0] + ".args"
    if not os.path.exists(base):
        return [], None, []
    with open(base, encoding="utf-8") as f:
        toks = f.read().split()
    now, ifaces, extra = [], None, []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "--now" and i + 1 < len(toks):
            now = ["--now", toks[i + 1]]
            i += 2
        elif t == "--interface" and i + 1 < len(toks):
            ifaces = (ifaces or []) + [toks[i + 1]]
            i += 2
        elif t == "--no-interfaces":
            ifaces = []
            i += 1
        else:
            extra.append(t)
            i += 1
    return now, ifaces, extra


_ADDED = []


def set_interfaces(addrs):
    """Give this network namespace exactly `addrs` besides loopback's own,
    as tor and `policy expand --interface` then both see them.  They go on
    lo (a fresh namespace has no other link, and containers often lack the
    dummy driver): tor filters interface addresses by address, not by
    link.  Returns an error text, or None."""
    while _ADDED:
        a = _ADDED.pop()
        subprocess.run(["ip", "addr", "del", a, "dev", "lo"],
                       stderr=subprocess.DEVNULL)
    for a in addrs:
        a = a + ("/128" if ":" in a else "/32")
        c = ["ip", "addr", "add", a, "dev", "lo"]
        p = subprocess.run(c, capture_output=True, text=True)
        if p.returncode != 0:
            return "%s: %s" % (" ".join(c), p.stderr.strip())
        _ADDED.append(a)
    return None


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
    passed = failed = skipped = 0
    # Cases grouped by the interface addresses they name: each group runs
    # with exactly those on a dummy link of our namespace.
    groups = {}
    for f in files:
        now, ifaces, extra = case_args(f)
        key = None if ifaces is None else tuple(ifaces)
        groups.setdefault(key, []).append((f, now, ifaces, extra))
    for key, members in sorted(groups.items(),
                               key=lambda kv: (kv[0] is not None,
                                               kv[0] or ())):
        if key is not None and not in_netns:
            for f, *_ in members:
                skipped += 1
                print("SKIP %s: names interface addresses, and without a "
                      "network namespace this host's own interfaces would "
                      "show in tor's policy" % f)
            continue
        if key is not None:
            err = set_interfaces(list(key))
            if err is not None:
                for f, *_ in members:
                    failed += 1
                    print("FAIL %s: cannot set up its interfaces: %s"
                          % (f, err))
                continue
        cases = []   # (file, torrc text for tor, wanted lines or None)
        for f, now, ifaces, extra in members:
            d, base = os.path.dirname(f), os.path.basename(f)
            iargs = ([] if ifaces is None else
                     ["--no-interfaces"] if not ifaces else
                     [w for a in ifaces for w in ("--interface", a)])
            exp = ew(exe, ["policy", "expand"] + now + iargs + extra +
                     [base], d)
            errf = os.path.splitext(f)[0] + ".err"
            if os.path.exists(errf):
                # exitwarden refuses it, as tor does: check both.
                with open(errf, encoding="utf-8") as g:
                    want_err = g.read().strip()
                if exp.returncode == 0 or want_err not in exp.stderr:
                    failed += 1
                    print("FAIL %s: exitwarden should refuse it with %r; "
                          "exit %d, stderr %r" % (f, want_err,
                                                  exp.returncode,
                                                  exp.stderr))
                    continue
                with open(f, encoding="utf-8") as g:
                    cases.append((f, g.read(), None))
                continue
            trc = ew(exe, ["policy", "torrc"] + now + [base], d)
            if exp.returncode != 0 or trc.returncode != 0:
                failed += 1
                print("FAIL %s: exitwarden refused a case with no .err: "
                      "%s%s" % (f, exp.stderr, trc.stderr))
                continue
            cases.append((f, trc.stdout, exp.stdout.splitlines()))
        results = torharness.run_policies([t for _f, t, _e in cases], tor)
        for (f, text, want), res in zip(cases, results):
            if want is None:
                ok = not isinstance(res, Exception) and (res.refused or
                                                         res.crashed)
                if ok:
                    passed += 1
                else:
                    failed += 1
                    print("DIFF %s: exitwarden refuses it, tor took it:\n%s"
                          % (f, res))
                continue
            if isinstance(res, Exception) or res.refused or res.crashed or \
                    res.lines != want:
                failed += 1
                print("DIFF %s\n--- torrc:\n%s--- expand:\n%s\n--- tor:\n%s"
                      % (f, text, "\n".join(want),
                         res if isinstance(res, Exception) else
                         ("refused " + res.message) if res.refused else
                         "\n".join(res.lines)))
            else:
                passed += 1
        if key is not None:
            set_interfaces([])
    if not in_netns:
        print("note: ran without a network namespace")
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
