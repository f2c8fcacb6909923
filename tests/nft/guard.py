#!/usr/bin/env python3
"""The surge guard end to end, in a network namespace, with a real tor.

  guard.py --exitwarden BIN [--tor TOR]

Re-executes itself under `unshare -n`, routes 10.0.0.0/8 to lo (scan
targets), starts sinks on 0.0.0.0:{9000,9001,9100,9200,9300}, one
throw-away tor (tests/tor/torharness.py: DisableNetwork 1, control port)
and `exitwarden run` (its own store, managed policy, fragment; --uid
nobody) with short windows.  Load comes from processes running as nobody
(the relay's uid here).  Checks:

  a. flood: 127.0.0.1:9000 at ten times the threshold is refused (by the
     nft backstop of the surge block) within the guard's window, while
     127.0.0.2:9001 at a normal rate and root's connections to
     127.0.0.1:9000 are untouched; the block carries the reason
     "surge: guard flood over ..." and tor's exit-policy/full has it;
     `guard status --json` lists it; the surge block went into the
     kernel in place: the table was not reloaded (same handle), the
     guard's counters went on counting across it (every connection of
     the flood over the threshold is in g_flood_over) and its in-place
     block counter counted refusals;
  b. the block expires and traffic to 127.0.0.1:9000 flows again;
  c. scan: 60 connections to 60 hosts of 10.1.0.0/22 on port 9100 trip
     the scan guard (block 10.1.0.0/22:9100); the same 60 spread over 60
     /22s do not;
  d. caps and the allow list under a storm of surges: guard storm (cap 3)
     and guard storm2 (cap 50) flooding 20 destinations each never hold
     more than 3 and "guards cap" blocks; a surge of a /22 holding an
     allow-listed address is not blocked and is counted as allowed;
     each capped surge is counted once (20 surges of guard storm: 3
     blocked, 17 capped);
  e. no logs: nothing exitwarden wrote (store, managed policy, fragment,
     its output) nor the kernel's ruleset names a destination that did
     not surge (127.0.0.2, the spread scan's 10.2-10.5 hosts).

Ends with "N passed, N failed"; exit 77 without root, tor, unshare or nft.
"""

import argparse
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "tor"))
import torharness  # noqa: E402

PY = "/usr/bin/python3"
NOBODY = "nobody"

POLICY = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
guards cap 6
guards allow 10.9.0.53
guard flood ports 9000-9001 rate 20/10seconds per destination block 12s
guard scan ports 9100 rate 30/minute per destination/22 block 10s
guard storm ports 9200 rate 2/10seconds per destination block 60s cap 3
guard storm2 ports 9300 rate 2/10seconds per destination/22 block 60s cap 50
ExitPolicy accept *:*
"""

# The load generator, run as nobody: connect to each target, `n` times
# each, at `rate` connections per second in all; print JSON results.
GEN = r"""
import json, socket, sys, time
targets = json.loads(sys.argv[1]); n = int(sys.argv[2])
rate = float(sys.argv[3])
res = []
t0 = time.monotonic()
k = 0
for i in range(n):
    for h, p in targets:
        due = t0 + k / rate
        k += 1
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        s = socket.socket(); s.settimeout(1)
        try:
            s.connect((h, p)); ok = True
        except OSError:
            ok = False
        s.close()
        res.append([h, p, round(time.monotonic() - t0, 3), ok])
print(json.dumps(res))
"""


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print("ok: " + what.splitlines()[0])
        else:
            self.failed += 1
            print("FAIL: " + what)
        sys.stdout.flush()


def sinks(ports):
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", p))
        s.listen(4096)

        def serve(sock=s):
            while True:
                try:
                    c, _ = sock.accept()
                    c.close()
                except OSError:
                    return
        threading.Thread(target=serve, daemon=True).start()


def gen(targets, n, rate, as_root=False):
    cmd = [PY, "-c", GEN, json.dumps(targets), str(n), str(rate)]
    if not as_root:
        cmd = ["setpriv", "--reuid", NOBODY, "--regid", "nogroup",
               "--clear-groups"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("generator: " + p.stderr)
    return json.loads(p.stdout)


def table_handle():
    """The handle of table inet exitwarden (a reload gives a new one)."""
    p = subprocess.run(["nft", "-a", "list", "table", "inet", "exitwarden"],
                       capture_output=True, text=True)
    m = re.search(r"^table inet exitwarden \{ # handle (\d+)", p.stdout,
                  re.M)
    return int(m.group(1)) if m else None


def wait_for(pred, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--tor", default=None)
    args = ap.parse_args()
    tor = torharness.tor_binary(args.tor)
    if os.geteuid() != 0 or tor is None or shutil.which("nft") is None \
            or shutil.which("setpriv") is None:
        print("skipped: needs root, tor, nft and setpriv")
        return 77
    try:
        pwd.getpwnam(NOBODY)
    except KeyError:
        print("skipped: no user nobody")
        return 77
    torharness.enter_netns(os.path.abspath(__file__), sys.argv[1:])
    ew = os.path.abspath(args.exitwarden)
    subprocess.run(["ip", "route", "add", "local", "10.0.0.0/8", "dev", "lo"],
                   check=True)
    sinks([9000, 9001, 9100, 9200, 9300])
    ck = Checks()
    work = tempfile.mkdtemp(prefix="ew-guard-")
    os.chmod(work, 0o755)
    policy = os.path.join(work, "exit.policy")
    with open(policy, "w") as f:
        f.write(POLICY)
    env = dict(os.environ, EW_DB=os.path.join(work, "ew.db"),
               EW_MANAGED=os.path.join(work, "managed.policy"))
    env.pop("EW_NOW", None)
    frag = os.path.join(work, "exitwarden.torrc")
    out_path = os.path.join(work, "run.out")
    relay = torharness.TorRelay(tor=tor, timeout=30)
    daemon = None
    try:
        relay.start()
        with open(relay._path("control-port")) as f:
            port = re.search(r"PORT=127\.0\.0\.1:(\d+)", f.read()).group(1)
        conn = ["--control", "127.0.0.1:" + port,
                "--cookie", relay._path("control-cookie"),
                "--fragment", frag, "--uid", NOBODY]
        out = open(out_path, "w")
        daemon = subprocess.Popen(
            [ew, "run", "--policy", policy, "--interval", "2"] + conn,
            stdout=out, stderr=subprocess.STDOUT, env=env)

        def status():
            p = subprocess.run([ew, "guard", "status", "--json",
                                "--policy", policy], env=env,
                               capture_output=True, text=True, timeout=30)
            try:
                return json.loads(p.stdout)
            except ValueError:
                return None

        def table_has_guards():
            p = subprocess.run(["nft", "list", "chain", "inet",
                                "exitwarden", "guards"],
                               capture_output=True, text=True)
            return p.returncode == 0
        ck.check(wait_for(table_has_guards, 30),
                 "run applied the guard chains")
        time.sleep(1)  # run's first apply is over
        handle = table_handle()

        # a. flood at ten times the threshold (2/s): 20/s for 8 s, with
        # a normal-rate destination (1/s) interleaved
        t_flood = time.monotonic()
        flood = gen([["127.0.0.1", 9000]] * 20 + [["127.0.0.2", 9001]], 8,
                    21.0)
        f1 = [r for r in flood if r[0] == "127.0.0.1"]
        n2 = [r for r in flood if r[0] == "127.0.0.2"]
        refused = [r for r in f1 if not r[3]]
        ck.check(refused and refused[0][2] <= 10.0,
                 "flood refused within the guard's window (10 s): first "
                 "refusal at %s s, %d of %d refused"
                 % (refused[0][2] if refused else None, len(refused),
                    len(f1)))
        if refused:
            print("measure: first refusal %.2f s after the flood began "
                  "(threshold crossed at ~1 s)" % refused[0][2])
        ck.check(all(r[3] for r in n2),
                 "the normal-rate destination is untouched: %d of %d ok"
                 % (sum(r[3] for r in n2), len(n2)))
        root = gen([["127.0.0.1", 9000]], 5, 50.0, as_root=True)
        ck.check(all(r[3] for r in root),
                 "root's connections to the surging destination work")
        st = status()
        blocks = st["blocks"] if st else []
        fb = [b for b in blocks if b["rule"] == "reject 127.0.0.1:9000"]
        ck.check(len(fb) == 1 and fb[0]["guard"] == "flood" and
                 fb[0]["reason"] == "surge: guard flood over 20/10seconds",
                 "guard status lists the surge block: %r" % blocks)
        full = relay.ctl.command("GETINFO exit-policy/full")
        ck.check("reject 127.0.0.1:9000" in str(full),
                 "tor's exit-policy/full has the surge rule")
        fl = [g for g in (st or {}).get("guards", []) if g["name"] == "flood"]
        ck.check(fl and fl[0]["surges"] == 1,
                 "guard status counts one flood surge: %r" % fl)
        # the surge block changed the kernel in place: same table, and
        # the counters kept what they counted before it (a reload would
        # have restarted them when the block landed, ~1 s in: the ~20
        # connections over the threshold before then would be lost and
        # the bucket refilled)
        ck.check(handle is not None and table_handle() == handle,
                 "the surge block did not reload the table (handle %r -> "
                 "%r)" % (handle, table_handle()))
        kern = (fl[0].get("kernel") or {}) if fl else {}
        span = f1[-1][2] - f1[0][2] if f1 else 0
        want = len(f1) - 20 - int(2 * span + 1) - 2
        ck.check(kern.get("over", 0) >= want,
                 "g_flood_over counted the whole flood across the surge "
                 "block: %r >= %d (%d connections)" %
                 (kern.get("over"), want, len(f1)))
        ck.check(kern.get("surges") == 1 and kern.get("blocked", 0) > 0,
                 "kernel: one surge, refusals counted by the in-place "
                 "block: %r" % kern)
        print("measure: kernel counters after the flood: %r" % kern)

        # b. the block expires (12 s) and traffic flows again
        def flows():
            r = gen([["127.0.0.1", 9000]], 1, 10.0)
            return r[0][3]
        t_exp = time.monotonic()
        ok = wait_for(flows, 40, step=1.0)
        ck.check(ok, "after the block expired, 127.0.0.1:9000 works "
                 "again (%.1f s after the flood began)"
                 % (time.monotonic() - t_flood))
        st = status()
        ck.check(st is not None and not any(
            b["rule"] == "reject 127.0.0.1:9000" for b in st["blocks"]),
            "the expired block is gone from guard status")
        del t_exp

        # c. scan: one /22 vs many /22s, 60 connections each, port 9100
        spread = [["10.%d.%d.%d" % (2 + i // 64, (i % 64) * 4, 7), 9100]
                  for i in range(60)]
        gen(spread, 1, 100.0)
        one = [["10.1.%d.%d" % (i // 200, 1 + i % 200), 9100]
               for i in range(60)]
        gen(one, 1, 100.0)

        def scan_block():
            s = status()
            return s and [b for b in s["blocks"]
                          if b["guard"] == "scan"]
        sb = wait_for(scan_block, 10)
        ck.check(sb and [b["rule"] for b in sb] ==
                 ["reject 10.1.0.0/22:9100"],
                 "the one-/22 scan is blocked as 10.1.0.0/22:9100, the "
                 "spread one is not: %r" % sb)

        # d. a storm of surges: 20 destinations of each storm guard,
        # 6 connections each at once, and a /22 holding an allowed host
        storm = [["10.8.0.%d" % i, 9200] for i in range(1, 21)]
        storm2 = [["10.%d.0.9" % (20 + i), 9300] for i in range(20)]
        allowed = [["10.9.1.%d" % i, 9300] for i in range(1, 7)]
        gen(storm + storm2 + allowed, 6, 400.0)
        time.sleep(3)
        st = status() or {"blocks": [], "guards": []}
        by = {}
        for b in st["blocks"]:
            by[b["guard"]] = by.get(b["guard"], 0) + 1
        g = {x["name"]: x for x in st["guards"]}
        ck.check(by.get("storm", 0) == 3 and g["storm"]["capped"] > 0,
                 "guard storm holds its cap of 3 and counts the rest: "
                 "%r %r" % (by, g.get("storm")))
        ck.check(len(st["blocks"]) <= 6 and g["storm2"]["capped"] > 0,
                 "'guards cap 6' holds: %d blocks, storm2 capped %d"
                 % (len(st["blocks"]), g["storm2"]["capped"]))
        ck.check(g["storm"]["capped"] == 20 - by.get("storm", 0),
                 "each capped surge of guard storm counted once: capped "
                 "%d, blocked %d, 20 surges" % (g["storm"]["capped"],
                                               by.get("storm", 0)))
        ck.check(not any("10.9." in b["rule"] for b in st["blocks"]) and
                 g["storm2"]["allowed"] > 0,
                 "the /22 holding an allowed address is not blocked and "
                 "is counted: allowed %d" % g["storm2"]["allowed"])

        # e. no logs: what exitwarden wrote, and the kernel's ruleset
        daemon.terminate()
        daemon.wait(timeout=20)
        daemon = None
        out.close()
        ruleset = subprocess.run(["nft", "list", "ruleset"],
                                 capture_output=True, text=True).stdout
        written = ruleset
        for root_dir, _, files in os.walk(work):
            for fn in files:
                with open(os.path.join(root_dir, fn), "rb") as f:
                    written += f.read().decode("latin-1")
        leaks = [a for a in ["127.0.0.2"] + [h for h, _ in spread]
                 if re.search(re.escape(a) + r"(?![0-9])", written)]
        ck.check(not leaks, "nothing written names a destination that did "
                 "not surge: %r" % leaks[:5])
        ck.check("127.0.0.1:9000" in written,
                 "(the grep can fail: the surged destination is found)")
    finally:
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
        relay.stop()
        if ck.failed:
            try:
                with open(out_path) as f:
                    print("--- exitwarden run output ---\n" + f.read()[-4000:])
            except OSError:
                pass
        subprocess.run(["nft", "delete", "table", "inet", "exitwarden"],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
