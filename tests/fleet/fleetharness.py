"""What the fleet tests with live hosts share (follow.py, emergency.py).

The checks and their counts ("N passed, N failed"), exitwarden and psql
runs, the processes started here (each stopped by PID), the desk's
fleet made on a cluster, and the test's run itself: prerequisites (77
when one is missing), a throwaway PostgreSQL cluster and work directory
(tests/tools/pgcluster.py), and everything stopped and removed after.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import pgcluster  # noqa: E402

EW = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
passed = failed = 0
procs = []


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok: " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def wait_for(cond, timeout, step=0.02):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def ew(*args, env=None, ns=None, stdin=None):
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("PG") and not k.startswith("EW_")}
    e.update(env or {})
    argv = [EW] + list(args)
    if ns is not None:
        argv = ["nsenter", "--net=" + ns, "--"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, env=e,
                       input=stdin, timeout=60)
    return p.returncode, p.stdout, p.stderr


def psql(conn, sql):
    p = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1",
                        "-d", conn], input=sql, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def start(argv, log, env=None):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def fleet_init(work, pg, hosts):
    """The desk's fleet on pg: the operator's policy (everything
    accepted), fleet init, and a role of its own for each host.
    (policy path, the desk's environment, each host's connection
    string)."""
    pol = os.path.join(work, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\naccept *:*\n")
    desk = {"EW_DB": pg, "EW_POLICY": pol,
            "EW_MANAGED": os.path.join(work, "desk-managed.policy")}
    rc, _, err = ew("fleet", "init", env=desk)
    check(rc == 0, "fleet init: %s" % err)
    conns = {}
    for h in hosts:
        rc, out, err = ew("fleet", "add-host", h, env=desk)
        check(rc == 0, "fleet add-host %s: %s" % (h, err))
        conns[h] = out.splitlines()[-1][3:]
        rc, _, err = psql(pg, out)
        check(rc == 0, "its role made: %s" % err)
    return pol, desk, conns


def main(run, prefix):
    """run(work, cluster, tor) on a cluster started here, in a work
    directory named prefix...; then every process started here stopped,
    the cluster stopped and removed, the work directory removed.  The
    exit status: 77 when something it needs is missing."""
    if os.geteuid() != 0 or not EW:
        print("not root: skipped")
        return 77
    tor = shutil.which("tor")
    b = pgcluster.bindir()
    for need in ("nft", "unshare", "nsenter", "psql", "ip"):
        if shutil.which(need) is None:
            print("no %s: skipped" % need)
            return 77
    if tor is None or b is None:
        print("no tor or no initdb: skipped")
        return 77
    cluster = pgcluster.Cluster(b)
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    try:
        cluster.start()
        run(work, cluster, tor)
    finally:
        for p in reversed(procs):
            stop(p)
        cluster.stop()
        cluster.remove()
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
