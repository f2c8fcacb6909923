#!/usr/bin/env python3
"""bigtable.py EXITWARDEN [N] - a large address table end to end (issue 16).

Writes a seeded table of N entries (default 100,000): /32s, /24s and a
few /16s, some with host bits, some inside others (before and after
them), some repeated; a policy "reject <bl>:* / accept *:*"; then checks,
against results computed here independently:

  policy expand  every line, in order: tor's redundancy removal for this
                 shape (an entry goes when an earlier entry's prefix holds
                 it, pass 2, or when a later surviving one's does, pass 3:
                 all entries share action and ports, nothing of the other
                 action in between), host bits printed as written;
  nft emit       the union of the set elements of the table's rule (sharded by /4)
                 equals the merged union of the entries' networks;
  policy query   2,000 seeded destinations (inside, at the edges of and
                 outside entries) get the verdict the entries give.

Asserts results, never wall time.  Prints "N passed, N failed".
"""
import random
import subprocess
import sys
import tempfile
import os


def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def gen(n, rnd):
    """Entries as (written address, mask); networks are address & mask."""
    out = []
    nets24 = []
    while len(out) < n:
        r = rnd.random()
        if r < 0.002:
            a = rnd.randrange(0x0B000000, 0xDF000000) & 0xFFFF0000
            out.append((a | rnd.randrange(0, 65536) * (rnd.random() < 0.3), 16))
        elif r < 0.15:
            a = rnd.randrange(0x0B000000, 0xDF000000) & 0xFFFFFF00
            nets24.append(a)
            host = rnd.randrange(0, 256) if rnd.random() < 0.2 else 0
            out.append((a | host, 24))
        elif r < 0.25 and nets24:
            # a host inside an earlier /24 (pass 2 drops it)
            out.append((rnd.choice(nets24) | rnd.randrange(0, 256), 32))
        elif r < 0.27 and out:
            out.append(rnd.choice(out))  # a repeat
        else:
            a = rnd.randrange(0x0B000000, 0xDF000000)
            out.append((a, 32))
            if rnd.random() < 0.05:
                # its /24 comes later (pass 3 drops the host)
                nets24.append(a & 0xFFFFFF00)
    return out[:n]


def net(e):
    a, m = e
    mask = (0xFFFFFFFF << (32 - m)) & 0xFFFFFFFF
    return a & mask, m


def expected_expand(entries):
    masks = sorted({m for _, m in entries})
    # pass 2: drop an entry held by an earlier one (any earlier entry)
    seen = set()
    s2 = []
    for e in entries:
        lo, m = net(e)
        held = any(net((lo, k)) in seen for k in masks if k <= m)
        seen.add((lo, m))
        if not held:
            s2.append(e)
    # pass 3: drop an entry held by a later survivor of pass 2
    later = set()
    keep = []
    for e in reversed(s2):
        lo, m = net(e)
        held = any(net((lo, k)) in later for k in masks if k <= m)
        later.add((lo, m))
        if not held:
            keep.append(e)
    keep.reverse()
    lines = ["reject6 *:*"]
    for a, m in keep:
        lines.append("reject %s%s:*" % (ip(a), "" if m == 32 else "/%d" % m))
    lines.append("accept *:*")
    return lines


def merged(entries):
    iv = sorted((lo, lo + (1 << (32 - m)) - 1) for lo, m in map(net, entries))
    out = []
    for lo, hi in iv:
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [tuple(x) for x in out]


def parse_elem(s):
    if "-" in s:
        a, b = s.split("-")
        return v4(a), v4(b)
    if "/" in s:
        a, m = s.split("/")
        lo = v4(a)
        return lo, lo + (1 << (32 - int(m))) - 1
    return v4(s), v4(s)


def v4(s):
    p = [int(x) for x in s.split(".")]
    return p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]


def nft_union(text):
    """Elements of the sets of the first rule with sets (sets are named
    after the rule's identity, "r<hash>_v4_<n>"), merged."""
    iv = []
    inset = False
    inel = False
    first = None
    for line in text.splitlines():
        if line.startswith("\tset "):
            name = line.split()[1]
            if first is None and "_v4_" in name:
                first = name[:name.index("_v4_") + 4]
            inset = first is not None and name.startswith(first)
        elif inset and line == "\t\telements = {":
            inel = True
        elif inel and line == "\t\t}":
            inel = False
        elif inel:
            iv.append(parse_elem(line.strip().rstrip(",")))
    iv.sort()
    out = []
    for lo, hi in iv:
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [tuple(x) for x in out]


def main():
    ew = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    rnd = random.Random(16)
    entries = gen(n, rnd)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: %s" % what)

    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "bl.list"), "w") as f:
            for a, m in entries:
                f.write("%s/%d\n" % (ip(a), m) if m != 32 or rnd.random() < 0.5
                        else "%s\n" % ip(a))
        pol = os.path.join(d, "p.policy")
        with open(pol, "w") as f:
            f.write('ExitPolicyRejectPrivate 0\ntable <bl> file "bl.list"\n'
                    "reject <bl>:*\naccept *:*\n")
        out = subprocess.run([ew, "policy", "expand", pol], capture_output=True,
                             text=True)
        check(out.returncode == 0, "policy expand exits 0: %s" % out.stderr)
        got = out.stdout.splitlines()
        want = expected_expand(entries)
        check(len(got) == len(want),
              "expand: %d lines, expected %d" % (len(got), len(want)))
        bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
        check(not bad, "expand: first difference at line %d: %r, expected %r"
              % ((bad[0] + 1, got[bad[0]], want[bad[0]]) if bad else (0, 0, 0)))
        check(len(want) < n, "the table has redundant entries")

        out = subprocess.run([ew, "nft", "emit", "--uid", "65534", pol],
                             capture_output=True, text=True)
        check(out.returncode == 0, "nft emit exits 0: %s" % out.stderr)
        check("_s15" in out.stdout, "a table this big is sharded by /4")
        check(nft_union(out.stdout) == merged(entries),
              "nft: the sets hold exactly the entries' addresses")

        nets = [net(e) for e in entries]
        qs = []
        for _ in range(1000):
            lo, m = rnd.choice(nets)
            size = 1 << (32 - m)
            qs.append(rnd.choice([lo, lo + size - 1, lo - 1, lo + size,
                                  lo + rnd.randrange(size)]) & 0xFFFFFFFF)
        for _ in range(1000):
            qs.append(rnd.randrange(0, 1 << 32))
        ivs = merged(entries)
        import bisect
        starts = [lo for lo, _ in ivs]

        def blocked(a):
            k = bisect.bisect_right(starts, a) - 1
            return k >= 0 and ivs[k][0] <= a <= ivs[k][1]
        out = subprocess.run([ew, "policy", "query", pol, "-"],
                             input="".join("%s:443\n" % ip(a) for a in qs),
                             capture_output=True, text=True)
        check(out.returncode in (0, 1), "policy query runs: %s" % out.stderr)
        res = out.stdout.splitlines()
        check(len(res) == len(qs), "one answer per query")
        wrong = [(q, r) for q, r in zip(qs, res)
                 if r.split()[-1] != ("rejected" if blocked(q) else "accepted")]
        check(not wrong, "query: %d wrong, first %r" % (
            len(wrong), wrong[0] if wrong else None))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
