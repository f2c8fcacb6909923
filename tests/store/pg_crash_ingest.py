#!/usr/bin/env python3
"""The inbox under SIGKILL on PostgreSQL (store/pg-crash-ingest).

Run by tests/tools/pgcluster.py (EW_TEST_PG: a throwaway cluster).  A
Maildir of generated complaints (tests/tools/mkmaildir.py: every shape,
resends, unreadable mails) is taken in by 'exitwarden --db EW_TEST_PG
inbox scan', SIGKILLed at seeded random moments, again and again, until
a scan finishes on its own.  Then, read back with psql:

  - every distinct complaint of the manifest is stored, exactly once
    (by content digest), and nothing else is;
  - new/ is empty: every mail reached cur/, and a mail only moves after
    its commit (one killed between the two is seen again and found a
    duplicate);
  - the server holds no transaction of the killed scans open.

Ends with "N passed, N failed".
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EW = os.path.abspath(sys.argv[1])
PG = os.environ.get("EW_TEST_PG", "")
HERE = os.path.dirname(os.path.abspath(__file__))
MAILS = int(os.environ.get("EW_PG_CRASH_MAILS", "120"))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def psql(sql):
    p = subprocess.run(["psql", PG, "-XAtc", sql], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("psql: %s" % p.stderr)
    return [line for line in p.stdout.splitlines() if line]


def killed_scan(cmd, env, delay):
    """Run the scan; SIGKILL it after `delay` s unless it ended first.
    True when it was killed."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)  # only the child started here
        p.wait()
        return True


def run(tmp):
    md = os.path.join(tmp, "md")
    manifest = os.path.join(tmp, "md.json")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "tools",
                                                 "mkmaildir.py"),
                    "--seed", "14", "--count", str(MAILS), "--manifest",
                    manifest, md], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(manifest) as f:
        m = json.load(f)
    want = sorted(d["sha256"] for d in m["distinct"])
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("Address 192.0.2.25\nExitRelay 1\nreject *:25\n"
                "accept *:*\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"EW_DB": PG, "EW_POLICY": pol,
                "EW_MANAGED": os.path.join(tmp, "managed.policy")})
    p = subprocess.run([EW, "policy", "record", "--at",
                        "2026-10-01T00:00:00Z", pol], env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "policy record: %s" % p.stderr)

    rnd = random.Random(14)
    cmd = [EW, "inbox", "scan", "--json", md]
    kills = 0
    for _ in range(40):
        if not killed_scan(cmd, env, rnd.uniform(0.1, 0.8)):
            break
        kills += 1
    else:
        killed_scan(cmd, env, 600)
    print("%d scans killed, then one finished" % kills)
    check(kills > 0, "at least one scan was killed mid-way")

    got = sorted(psql("SELECT content_sha256 FROM complaints"))
    check(got == want, "every distinct complaint stored once: %d stored,"
          " %d expected, %d missing, %d extra" % (
              len(got), len(want), len(set(want) - set(got)),
              len(got) - len(set(got)) + len(set(got) - set(want))))
    n_inc = int(psql("SELECT count(*) FROM incidents")[0])
    check(n_inc == sum(d["incidents"] for d in m["distinct"]),
          "every incident stored once: %d" % n_inc)
    check(os.listdir(os.path.join(md, "new")) == [],
          "new/ is empty: %s" % os.listdir(os.path.join(md, "new"))[:3])
    check(len(os.listdir(os.path.join(md, "cur"))) == len(m["files"]),
          "every mail in cur/")
    # the killed scans' connections are gone, with their transactions
    time.sleep(0.2)
    open_tx = psql("SELECT count(*) FROM pg_stat_activity WHERE"
                   " state LIKE 'idle in transaction%' OR (state = 'active'"
                   " AND pid <> pg_backend_pid() AND backend_type ="
                   " 'client backend')")
    check(open_tx == ["0"], "no transaction left open: %s" % open_tx)


def main():
    if not PG:
        print("EW_TEST_PG is not set (run me through pgcluster.py)")
        return 77
    tmp = tempfile.mkdtemp(prefix="ew-pgcrash-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
