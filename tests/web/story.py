#!/usr/bin/env python3
"""A self-service block, from the form to tor's refusal (issue 15).

`exitwarden serve` on [::]:8080 and `exitwarden run` as the daemon share
one store, inside a fresh network namespace with the private tor network
of tests/tor (1 authority, 2 middle relays, the exit as debian-tor, a
client, on 127.0.0.11-15).  The daemon's round is 60 s: only its watch
of the store's revision can apply the block promptly.

  a. the network, an echo server on TARGET (198.51.100.7:6667, an
     address of lo in the namespace), run applies the operator's policy
     (accept *:*); a stream through the exit reaches TARGET;
  b. from TARGET's own address: GET /block for a token, POST the form
     for TARGET -> 200, the page names the rule; the time from the POST
     to the first stream through the exit refused with
     REMOTE_REASON=EXITPOLICY is measured and printed (goal: about a
     second, bound 10 s), with the time until the exit's
     exit-policy/full has the rule (polled every 20 ms);
  c. the store has the rule (origin self-service, not pending); the
     kernel's table inet exitwarden holds TARGET's address; run said it
     applied a store change (its watch), not at a round;
  d. the notice page lists the block;
  e. the same target asked from another address (198.51.100.8) -> 403;
     the first token replayed -> 403; nothing else was added;
  f. with serve --confirm: a request from 198.51.100.8 for itself is
     stored pending, and the daemon does not apply it (tor still
     accepts streams to it 3 s later); `block list --pending` lists it;
     `block confirm` of it and an unknown id confirms nothing (exit 1);
     `block confirm ID` applies it (tor refuses it, the kernel has it).

--pg: the same with the store on PostgreSQL ($EW_TEST_PG, set by
tests/tools/pgcluster.py); the daemon LISTENs and a NOTIFY wakes it
(run says "woken").

Ends with "N passed, N failed"; exit 1 on any failure, 77 when tor,
tor-gencert, root, network namespaces, the debian-tor user or nftables
are missing.
"""

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tor"))
sys.path.insert(0, HERE)
import standin  # noqa: E402
import e2e  # noqa: E402
import story  # noqa: E402
import serve as web  # noqa: E402
from e2e import ip, port  # noqa: E402

EXIT_USER = e2e.EXIT_USER
TARGET = ("198.51.100.7", 6667)   # blocked through the form
OTHER = ("198.51.100.8", 6667)    # asks for TARGET (refused); then f.
WEB_PORT = 8080
DB = "exitwarden.db"
POLICY = "exit.policy"
FRAGMENT = "exitwarden.torrc"
RUN_OUT = "run.out"
EXIT_POLICY = """\
# The test network lives on 127/8: tor's reject-private default is off.
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicy accept *:*
"""
FP = "0123456789ABCDEF0123456789ABCDEF01234567"
PG = None  # --pg: the PostgreSQL store's connection string


def run_out(work):
    return standin.read_text(os.path.join(work, RUN_OUT))


def db_target(work):
    """The store: EW_TEST_PG (run through tests/tools/pgcluster.py with
    --pg) or a SQLite file in work."""
    return PG or os.path.join(work, DB)


def start_serve(ew, work, extra=()):
    key = os.path.join(work, "token.key")
    if not os.path.exists(key):
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
    out = open(os.path.join(work, "serve.out"), "a")
    p = subprocess.Popen(
        [ew, "--db", db_target(work), "serve", "--listen",
         "[::]:%d" % WEB_PORT, "--contact", "abuse@exit.example",
         "--fingerprint", FP, "--token-key", key] + list(extra),
        stdout=out, stderr=subprocess.STDOUT)
    out.close()
    e2e.wait_for("serve's port", 10, lambda: tcp_ok(TARGET[0], WEB_PORT),
                 0.05)
    return p


def tcp_ok(host, p):
    import socket
    try:
        socket.create_connection((host, p), 0.2).close()
        return True
    except OSError:
        return False


def rules(work):
    q = ("SELECT id, rule_text, origin, pending, removed_at FROM rules"
         " ORDER BY id")
    if PG:
        out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "|", "-d", PG,
                              "-c", q], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        rows = []
        for line in out.splitlines():
            f = line.split("|")
            if len(f) != 5:
                continue
            rows.append((int(f[0]), f[1], f[2] or None,
                         int(f[3]) if f[3] else None,
                         int(f[4]) if f[4] else None))
        return rows
    c = sqlite3.connect(os.path.join(work, DB))
    try:
        return c.execute(q).fetchall()
    finally:
        c.close()


def nft_table():
    return subprocess.run(["nft", "list", "table", "inet", "exitwarden"],
                          capture_output=True, text=True).stdout


def policy_has(ectl, rule):
    code, lines = ectl.command("GETINFO exit-policy/full")
    return code == "250" and rule in lines


def scenario(st, net, work, ew):
    watchers, procs = [], []
    try:
        _scenario(st, net, work, ew, watchers, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for w in reversed(watchers):
            w.close()
    if procs:
        # the daemon: stopped by SIGTERM, it says what it followed and
        # exits 0 (a sanitizer's report would make it fail)
        st.check(procs[0].returncode == 0 and re.search(
            r"followed the store: [1-9]\d* changes? applied",
            run_out(work)) is not None,
            "run stopped with 0 (%r) and counted the store changes it "
            "applied" % procs[0].returncode)
        st.check(all(p.returncode == 0 for p in procs[1:]),
                 "serve stopped with 0 each time: %r" %
                 [p.returncode for p in procs[1:]])


def _scenario(st, net, work, ew, watchers, procs):
    st.step("a. the network, the echo server and exitwarden run")
    if story.bring_up(st, net, watchers) is None:
        return
    watch = watchers[1]
    with open(os.path.join(work, POLICY), "w") as f:
        f.write(EXIT_POLICY)
    env = dict(os.environ, EW_DB=db_target(work))
    env.pop("EW_NOW", None)
    out = open(os.path.join(work, RUN_OUT), "w")
    procs.append(subprocess.Popen(
        [ew, "run", "--policy", POLICY, "--interval", "60",
         "--control", "%s:%d" % (ip(3), port(3, 2)),
         "--cookie", "exit1/control_auth_cookie", "--fragment", FRAGMENT,
         "--uid", EXIT_USER], cwd=work, stdout=out,
        stderr=subprocess.STDOUT, env=env))
    out.close()
    ectl = e2e.Ctl((ip(3), port(3, 2)), net.d("exit1/control_auth_cookie"))
    watchers.append(ectl)
    if not st.check(e2e.wait_for("run's first apply", 30,
                                 lambda: "table inet exitwarden" in
                                 nft_table()),
                    "a: exitwarden run applied the policy (the table "
                    "is loaded)"):
        return
    ok = e2e.wait_for("a stream to the target", 45,
                      lambda: story.try_stream(TARGET, "hello"), 1.0)
    if not st.check(ok, "a: a stream through the exit reaches %s:%d" %
                    TARGET):
        return
    serve = start_serve(ew, work)
    procs.append(serve)
    if not st.check(serve.poll() is None, "a: serve runs"):
        return
    cl = web.Client(TARGET[0], WEB_PORT)

    st.step("b. the block form, from %s, for itself" % TARGET[0])
    tok = cl.token(TARGET[0])
    st.check(tok != "", "b: GET /block gave a token")
    rule = "reject %s:*" % TARGET[0]
    t_post = time.monotonic()
    code, page, body = cl.block(TARGET[0], TARGET[0], "", tok)
    t_resp = time.monotonic()
    st.check(code == 200 and TARGET[0] in page,
             "b: POST /block -> 200 naming %s (got %d)" % (TARGET[0], code))
    t_rule = None
    end = t_post + 10
    while time.monotonic() < end:
        if policy_has(ectl, rule):
            t_rule = time.monotonic()
            break
        time.sleep(0.02)
    hit = story.wait_refused(watch, TARGET, t_post, 15)
    st.check(hit is not None, "b: the exit refuses %s:%d: "
             "REMOTE_REASON=EXITPOLICY" % TARGET)
    if hit is not None:
        lat = hit[0] - t_post
        print("measure: POST /block -> tor refuses (EXITPOLICY): %.2f s "
              "(the POST answered in %.0f ms)" %
              (lat, (t_resp - t_post) * 1e3), flush=True)
        st.check(lat < 10.0, "b: refused within 10 s of the POST "
                 "(the daemon's round is 60 s): %.2f s" % lat)
    if t_rule is not None:
        print("measure: POST /block -> %r in the exit's "
              "exit-policy/full: %.2f s" % (rule, t_rule - t_post),
              flush=True)
    st.check(t_rule is not None and t_rule - t_post < 3.0,
             "b: the rule reached tor within 3 s of the POST")

    st.step("c. the store, the kernel, the daemon's output")
    rs = [r for r in rules(work) if TARGET[0] in r[1]]
    st.check(len(rs) == 1 and rs[0][2] == "self-service" and
             rs[0][3] is None and rs[0][4] is None,
             "c: the store has one self-service rule for %s, in force: "
             "%r" % (TARGET[0], rs))
    st.check(TARGET[0] in nft_table(),
             "c: nft list table inet exitwarden holds %s" % TARGET[0])
    st.check(re.search(r"watch: the store changed \(revision \d+[^)]*\): "
                       r"applied in", run_out(work)) is not None,
             "c: run applied it as a store change it did not make")
    if PG:
        st.check(re.search(r"watch: the store changed \(revision \d+, "
                           r"woken\)", run_out(work)) is not None,
                 "c: PostgreSQL: a NOTIFY woke the daemon for it")

    st.step("d. the notice page")
    code, _, notice = cl.req(TARGET[0], "GET", "/")
    st.check(code == 200 and TARGET[0] in notice,
             "d: the notice page lists the block of %s" % TARGET[0])

    st.step("e. another address, a replayed token")
    n0 = len(rules(work))
    code, page, _ = cl.block(OTHER[0], TARGET[0], "")
    st.check(code == 403, "e: %s asking for %s -> 403 (got %d)" %
             (OTHER[0], TARGET[0], code))
    code2, _, _ = cl.req(TARGET[0], "POST", "/block", body)
    st.check(code2 == 403, "e: the first token replayed -> 403 (got %d)" %
             code2)
    st.check(len(rules(work)) == n0, "e: nothing added by either")

    st.step("f. with --confirm: pending until the operator confirms")
    serve.terminate()
    serve.wait(10)
    serve = start_serve(ew, work, ["--confirm"])
    procs.append(serve)
    code, page, _ = cl.block(OTHER[0], OTHER[0], "")
    st.check(code == 200, "f: %s asks for itself -> 200 (got %d)" %
             (OTHER[0], code))
    rs = [r for r in rules(work) if OTHER[0] in r[1]]
    st.check(len(rs) == 1 and rs[0][3] is not None,
             "f: stored pending: %r" % rs)
    time.sleep(3)
    orule = "reject %s:*" % OTHER[0]
    st.check(not policy_has(ectl, orule),
             "f: 3 s later tor's policy does not have the pending block")
    st.check(story.try_stream(OTHER, "pending"),
             "f: a stream to %s:%d still works" % OTHER)
    p = subprocess.run([ew, "block", "list", "--pending"], cwd=work,
                       env=env, capture_output=True, text=True, timeout=30)
    st.check(p.returncode == 0 and OTHER[0] in p.stdout and
             TARGET[0] not in p.stdout,
             "f: block list --pending lists it alone: %r" % p.stdout)
    p = subprocess.run([ew, "block", "confirm", "--policy", POLICY,
                        "--no-apply", str(rs[0][0] if rs else 1),
                        str(rs[0][0] + 1 if rs else 2)], cwd=work, env=env,
                       capture_output=True, text=True, timeout=30)
    st.check(p.returncode == 1 and "no such block" in p.stderr and
             [r for r in rules(work) if OTHER[0] in r[1]] == rs,
             "f: block confirm of a pending and an unknown id: exit 1, "
             "nothing confirmed: %r" % p.stderr)
    if rs:
        p = subprocess.run(
            [ew, "block", "confirm", "--policy", POLICY,
             "--control", "%s:%d" % (ip(3), port(3, 2)),
             "--cookie", "exit1/control_auth_cookie",
             "--fragment", FRAGMENT, "--uid", EXIT_USER, str(rs[0][0])],
            cwd=work, env=env, capture_output=True, text=True, timeout=30)
        st.check(p.returncode == 0, "f: block confirm %d: %r" %
                 (rs[0][0], p.stdout + p.stderr))
        t_c = time.monotonic()
        hit = story.wait_refused(watch, OTHER, t_c, 15)
        st.check(hit is not None, "f: once confirmed the exit refuses "
                 "%s:%d (EXITPOLICY)" % OTHER)
        st.check(OTHER[0] in nft_table(), "f: and the kernel's table "
                 "holds %s" % OTHER[0])
        if hit is not None:
            print("measure: block confirm returned (it applies) -> tor "
                  "refuses: %.2f s" %
                  (hit[0] - t_c), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--tor", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--pg", action="store_true",
                    help="the store on PostgreSQL: $EW_TEST_PG (run "
                    "through tests/tools/pgcluster.py)")
    args = ap.parse_args()
    global PG
    if args.pg:
        PG = os.environ.get("EW_TEST_PG")
        if not PG:
            story.skip("EW_TEST_PG is not set (run me through "
                       "pgcluster.py)")
        if shutil.which("psql") is None:
            story.skip("psql is not installed")
        # serve gives up root (a user of its own) and must still reach
        # the throwaway cluster's socket directory, as it reaches
        # /run/postgresql on a host
        m = re.search(r"host=(/\S+)", PG)
        if m:
            os.chmod(m.group(1), 0o711)
    tor, gencert, pw = standin.private_net_needs(args.tor, EXIT_USER,
                                                 story.skip)
    ew = os.path.abspath(args.exitwarden)
    if not standin.private_net_enter(__file__, sys.argv[1:],
                                     "EW_WEB_PARENT_NS", story.skip):
        return 1
    for a in (TARGET[0], OTHER[0]):
        subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"],
                       check=True)
    t_all = time.monotonic()
    work = tempfile.mkdtemp(prefix="ew-web-story-")
    os.chmod(work, 0o711)  # debian-tor reaches its data directory
    st = story.Story(False, ew, work)
    net = e2e.Net(work, tor, gencert, pw)

    def body(servers):
        servers.append(e2e.EchoServer(TARGET))
        servers.append(e2e.EchoServer(OTHER))
        scenario(st, net, work, ew)
    return standin.private_net_run(st, net, work, t_all, body,
                                   lambda: run_out(work), args.keep)


if __name__ == "__main__":
    sys.exit(main())
