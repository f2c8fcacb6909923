#!/usr/bin/env python3
"""A first load of a big table in two transactions (nft.h, ew_nft_split):
the skeleton through libnftables, the elements and the hooks in one
netlink batch.  Inside a network namespace of its own (never the host's
ruleset); exits 77 when that is impossible (not root, no unshare, no nft).

  firstload.py EXITWARDEN EMITDIR

- every emit/*.policy (sets, IPv6, expiry timeouts, guards, two relays,
  a sharded table) loaded both ways, the direct path forced
  (EW_TEST_NFT_DIRECT_MIN=0, a test build's hook) and the text path
  forced: the two listings are the same table (handles and the order of
  the top-level blocks aside);
- a 100k-entry table loads by the new path by default, equals the text
  path's table, and enforces (a connection of the uid to a listed
  address is reset, others are not);
- a second transaction that fails (EW_TEST_NFT_BAD_ELEMENT=1: one
  element sent a byte short, refused by the kernel) reports the
  kernel's error and leaves no table, and another table untouched;
- with a table of ours in place, a load goes the one-transaction way.

The last line printed is "N passed, N failed".
"""
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

NOW = "2026-06-01T00:00:00Z"
passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok: " + what)
    else:
        failed += 1
        print("FAIL: " + what + (": " + detail if detail else ""))


def sh(*args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("EW_TEST_NFT_DIRECT_MIN", None)
    e.pop("EW_TEST_NFT_BAD_ELEMENT", None)
    e.update(env or {})
    return subprocess.run(list(args), capture_output=True, text=True,
                          env=e, cwd=cwd, timeout=300)


def listing():
    return sh("nft", "list", "table", "inet", "exitwarden").stdout


def norm(text):
    """The table's top-level blocks, sorted, without handles or the
    time left of element timeouts."""
    text = re.sub(r" # handle \d+", "", text)
    text = re.sub(r" expires [0-9dhms]+", "", text)
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith("\t") and line.rstrip().endswith("{") and \
                not line.startswith("\t\t"):
            cur = [line]
        elif line == "\t}":
            cur.append(line)
            blocks.append("\n".join(cur))
            cur = []
        elif cur:
            cur.append(line)
    return sorted(blocks)


def apply_(ew, args, cwd, env):
    return sh(ew, "nft", "apply", *args, env=env, cwd=cwd)


def flush(ew):
    sh(ew, "nft", "flush")


def both_ways(ew, args, cwd, label, expect_split=True):
    """Load by the direct path, then by the text path; compare."""
    flush(ew)
    t0 = time.monotonic()
    p = apply_(ew, args, cwd, {"EW_TEST_NFT_DIRECT_MIN": "0"}
               if expect_split else {})
    t1 = time.monotonic()
    check("%s: loads in two transactions" % label,
          p.returncode == 0 and "two transactions" in p.stdout,
          p.stdout + p.stderr)
    a = listing()
    flush(ew)
    t2 = time.monotonic()
    p = apply_(ew, args, cwd, {"EW_TEST_NFT_DIRECT_MIN": "1000000000"})
    t3 = time.monotonic()
    check("%s: loads as one text" % label,
          p.returncode == 0 and "two transactions" not in p.stdout,
          p.stdout + p.stderr)
    b = listing()
    check("%s: no staging chain left" % label, "ew_stage_" not in a)
    na, nb = norm(a), norm(b)
    check("%s: the same table both ways (%d blocks; %.2f s vs %.2f s)" %
          (label, len(na), t1 - t0, t3 - t2), na == nb and len(na) > 0,
          "\n".join(x for x in na if x not in nb)[:2000] + "\n----\n" +
          "\n".join(x for x in nb if x not in na)[:2000])
    flush(ew)
    return a


def conn(uid, port):
    """0 when uid's TCP connection to 127.0.0.1:port succeeds."""
    return subprocess.run(
        ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
         "--clear-groups", sys.executable, "-c",
         "import socket; socket.create_connection(('127.0.0.1', %d), 3)"
         % port], capture_output=True, timeout=10).returncode == 0


def serve(ports):
    ls = []
    for port in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        ls.append(s)

    def loop(s):
        while True:
            try:
                c, _ = s.accept()
                c.close()
            except OSError:
                return
    for s in ls:
        threading.Thread(target=loop, args=(s,), daemon=True).start()
    return ls


def big_list(path, n):
    random.seed(n)
    with open(path, "w") as f:
        for _ in range(n):
            r = random.random()
            ln = 32 if r < 0.80 else 24 if r < 0.98 else \
                random.randint(20, 23)
            m = (0xffffffff << (32 - ln)) & 0xffffffff
            a = random.randint(0x01000000, 0xdfffffff) & m
            if a >> 24 == 127:
                continue
            f.write("%d.%d.%d.%d/%d\n" % (a >> 24, (a >> 16) & 255,
                                          (a >> 8) & 255, a & 255, ln))
        f.write("127.0.0.1/32\n")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ew, emit = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.environ.get("EW_IN_NETNS") != "1":
        if os.geteuid() != 0 or not shutil.which("nft") or \
                not shutil.which("unshare") or not shutil.which("setpriv"):
            print("skipped: needs root, nft, unshare and setpriv")
            return 77
        if subprocess.run(["unshare", "-n", "true"],
                          capture_output=True).returncode != 0:
            print("skipped: cannot create a network namespace")
            return 77
        env = dict(os.environ, EW_IN_NETNS="1")
        return subprocess.run(["unshare", "-n", sys.executable] + sys.argv,
                              env=env).returncode
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["nft", "-f", "-"], input="table ip foreign {\n"
                   "\tset keep { type ipv4_addr; elements = { 192.0.2.1 } }"
                   "\n\tchain c { }\n}\n", text=True, check=True)
    foreign = sh("nft", "list", "table", "ip", "foreign").stdout

    # every golden policy, both ways
    for f in sorted(os.listdir(emit)):
        if not f.endswith(".policy"):
            continue
        name = f[:-7]
        args = ["--now", NOW, "--uid", "102"]
        if os.path.exists(os.path.join(emit, name + ".args")):
            with open(os.path.join(emit, name + ".args")) as af:
                args += af.read().split()
        p = apply_(ew, ["-n"] + args + [f], emit, {})
        if p.returncode != 0:
            print("# %s: not loadable (%s), passed over" %
                  (name, p.stderr.strip()[:200]))
            continue
        both_ways(ew, args + [f], emit, name)

    tmp = tempfile.mkdtemp()
    try:
        big_list(os.path.join(tmp, "big.list"), 100000)
        with open(os.path.join(tmp, "big.policy"), "w") as f:
            f.write('ExitPolicyRejectPrivate 0\ntable <big> file '
                    '"big.list"\nreject <big>:6667 ticket BIG\n'
                    'reject [2001:db8::]/32:* ticket V6\naccept *:*\n')
        big = ["--uid", "65534", "big.policy"]
        # the default threshold: a big first load goes the new way
        a = both_ways(ew, big, tmp, "100k entries", expect_split=False)
        check("100k entries: sharded sets loaded",
              a.count("set ") >= 16 and "127.0.0.1" in a)

        ls = serve((6667, 6668))
        p = apply_(ew, big, tmp, {})
        check("100k entries: first load in two transactions",
              p.returncode == 0 and "two transactions" in p.stdout,
              p.stdout + p.stderr)
        check("uid 65534 refused at a listed address (127.0.0.1:6667)",
              not conn(65534, 6667))
        check("uid 65534 reaches 127.0.0.1:6668 (another port)",
              conn(65534, 6668))
        check("root reaches 127.0.0.1:6667", conn(0, 6667))
        for s in ls:
            s.close()

        # a table in place: the one-transaction way
        p = apply_(ew, big, tmp, {})
        check("a reload goes as one text",
              p.returncode == 0 and "two transactions" not in p.stdout and
              "loaded table" in p.stdout, p.stdout + p.stderr)
        flush(ew)

        # the second transaction refused: no table, the kernel's error
        p = apply_(ew, big, tmp, {"EW_TEST_NFT_BAD_ELEMENT": "1"})
        check("a refused second transaction fails",
              p.returncode == 1 and "nf_tables: Invalid argument" in
              p.stderr and "deleted again" in p.stderr and
              "not loaded" in p.stderr, "rc %d: %s" % (p.returncode,
                                                      p.stderr))
        tables = sh("nft", "list", "tables").stdout
        check("and leaves no table of ours", "exitwarden" not in tables,
              tables)
        check("another table untouched",
              sh("nft", "list", "table", "ip", "foreign").stdout ==
              foreign)
        p = apply_(ew, big, tmp, {})
        check("the next load succeeds",
              p.returncode == 0 and "two transactions" in p.stdout,
              p.stdout + p.stderr)
        flush(ew)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
