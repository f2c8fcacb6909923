#!/usr/bin/env python3
"""exitwarden tor apply / status against a real, throw-away tor.

Starts one tor (tests/tor/torharness.py: DisableNetwork 1, ControlPort on
127.0.0.1:auto, cookie authentication) inside a fresh network namespace
and checks:

  * apply -n changes nothing;
  * apply of a policy with an IRC port set and an address table: tor's
    GETINFO exit-policy/full equals `exitwarden policy expand`, and the
    fragment file is written;
  * status: version, exit, digest match, the p summary;
  * a policy tor does not end up enforcing (an Address change, which a
    DisableNetwork tor never picks up: exit-policy/full differs) is rolled
    back: previous fragment, previous configuration, previous list;
  * a closed control port, a wrong cookie, an unwritable fragment: nothing
    changes;
  * --reevaluate and cookie discovery through PROTOCOLINFO;
  * tor killed in the middle of an apply (a proxy kills it when SETCONF
    goes by): the previous fragment is back and the apply fails;
  * issue 13, with a store: `apply` of the operator's file keeps the
    store's ticket block in tor's list; `tor apply` of that file alone is
    refused; `block add` / `block remove` reach tor; `status` sees no
    drift, then the drift another controller makes; a relay setting the
    policy does not state (IPv6Exit 1) is left as tor runs it.

Every wait is bounded; only the tor started here is stopped (by PID).
Ends with "N passed, N failed"; exit 77 when tor is not installed.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torharness  # noqa: E402

TIMEOUT = 30

POLICY_A = """\
# IRC complaint: block the IRC ports of two networks
ExitRelay 1
irc = 6660-7000, 6697, 8080
table <ircnets> file "irc.list"
reject <ircnets>:$irc reason "irc complaint" ticket T-1
reject *:25
accept *:*
"""

POLICY_A2 = """\
ExitRelay 1
reject 192.0.2.0/24:*
accept *:443
reject *:*
"""

# tor with DisableNetwork never re-reads its address: the list it builds
# lacks the own-address line our expansion has, so verification fails.
POLICY_BAD = """\
Address 198.51.100.7
ExitRelay 1
accept *:22
reject *:*
"""

IRC_LIST = "203.0.113.0/24\n198.51.100.9\n2001:db8:6::/48\n"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond


def run(argv, timeout=TIMEOUT, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def live_list(relay):
    """tor's exit-policy/full after a forced rebuild (retrying a 551
    "still rebuilding" a bounded number of times), or None."""
    for _ in range(40):
        relay.ctl.command(torharness._REBUILD)
        status, entries = relay.ctl.command("GETINFO exit-policy/full")
        if status == "250":
            return "\n".join(l for l in torharness._getinfo_value(
                entries, "exit-policy/full") if l) + "\n"
        if status != "551":
            break
        time.sleep(0.05)
    return None


def getconf(relay, key):
    status, entries = relay.ctl.command("GETCONF " + key)
    return [t for _c, t, _d in entries] if status == "250" else None


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class KillingProxy:
    """Forward a control connection to tor; when the client sends
    SETCONF, SIGKILL tor (by its PID) before forwarding and drop both
    sides."""

    def __init__(self, port, pid):
        self.tor_port = port
        self.pid = pid
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.killed = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        self.ls.settimeout(TIMEOUT)
        try:
            c, _ = self.ls.accept()
        except OSError:
            return
        up = socket.create_connection(("127.0.0.1", self.tor_port),
                                      timeout=TIMEOUT)
        c.settimeout(TIMEOUT)
        buf = b""
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                buf += data
                if b"SETCONF" in buf:
                    os.kill(self.pid, signal.SIGKILL)
                    self.killed = True
                    break
                up.sendall(data)
                # one reply per command: read until a final line
                reply = b""
                while not re.search(rb"(^|\r\n)\d{3} [^\r\n]*\r\n$", reply):
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                c.sendall(reply)
                buf = b""
        except OSError:
            pass
        finally:
            c.close()
            up.close()
            self.ls.close()


# The operator's own policy; IPv6Exit is not stated: tor keeps its own.
POLICY_OP = """\
ExitRelay 1
reject *:25
accept *:*
"""


def blocks_in_tor(ck, ew, relay, conn, frag, work):
    """Issue 13 against the real tor: one source of truth."""
    db = os.path.join(work, "blocks.db")
    op = os.path.join(work, "op.policy")
    with open(op, "w") as f:
        f.write(POLICY_OP)
    env = dict(os.environ, EW_DB=db, EW_MANAGED="")
    env.pop("EW_POLICY", None)
    uid = ["--uid", str(os.geteuid())]
    rc, _, err = run([ew, "policy", "history"], env=env)
    ck.check(rc == 0, "a store: %s" % err)
    # a ticket's block, as ticket block stores it (the SQL works on any
    # exitwarden since schema 5)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO tickets (reporter, opened_at) "
                "VALUES ('irc@example.net', 0)")
    con.execute("INSERT INTO rules (ticket_id, rule_text, reason, added_at) "
                "VALUES (1, 'reject 192.0.2.77:6667', 'irc complaint', 0)")
    con.commit()
    con.close()
    rc, out, err = run([ew, "apply", "--fragment", frag] + conn + uid + [op],
                       env=env)
    ck.check(rc == 0, "apply OP with a ticket block: %d %s %s"
             % (rc, out, err))
    live = live_list(relay) or ""
    ck.check("reject 192.0.2.77:6667" in live,
             "apply of the operator's file keeps the ticket's block in "
             "tor:\n%s" % live)
    ck.check("reject 192.0.2.77:6667" in (read(frag) or ""),
             "...and in the fragment tor reads at its restart")
    ck.check(live.rstrip("\n").endswith("accept *:*")
             and "reject *:25" in live, "...then the operator's rules")
    # tor apply of the operator's file alone: refused, tor unchanged
    rc, out, err = run([ew, "tor", "apply", "--fragment", frag] + conn +
                       [op], env=env)
    ck.check(rc == 1 and "does not carry" in err,
             "tor apply of the operator's file alone refused: %d %s"
             % (rc, err))
    ck.check(live_list(relay) == live, "...tor unchanged")
    # block add / remove reach tor
    rc, out, err = run([ew, "block", "add", "--reason", "scan",
                        "--fragment", frag] + conn + uid +
                       ["reject 198.51.100.50:22"], env=env)
    ck.check(rc == 0 and "block 2 added" in out,
             "block add: %d %s %s" % (rc, out, err))
    ck.check("reject 198.51.100.50:22" in (live_list(relay) or ""),
             "block add: tor refuses 198.51.100.50:22")
    rc, out, err = run([ew, "status", "--json"] + conn, env=env)
    st = json.loads(out) if out.strip() else {}
    r0 = (st.get("relays") or [{}])[0]
    ck.check(rc == 0 and r0.get("tor", {}).get("drift") is False
             and r0.get("nft") == {"table": True, "drift": False}
             and r0.get("managed_drift") is False
             and r0.get("recorded_drift") is False
             and r0.get("blocks_in_force") == 2
             and r0.get("policy") == op,
             "status: no drift, 2 blocks: %d %s %s" % (rc, out, err))
    rc, out, err = run([ew, "block", "remove", "--fragment", frag] + conn +
                       uid + ["2"], env=env)
    ck.check(rc == 0, "block remove 2: %d %s %s" % (rc, out, err))
    live = live_list(relay) or ""
    ck.check("198.51.100.50" not in live and "192.0.2.77:6667" in live,
             "block remove: tor lets 198.51.100.50 through again, keeps "
             "the ticket's block")
    # another controller changes tor: status says so
    relay.ctl.command('SETCONF ExitPolicy="accept *:*"')
    rc, out, err = run([ew, "status", "--json"] + conn, env=env)
    st = json.loads(out) if out.strip() else {}
    r0 = (st.get("relays") or [{}])[0]
    ck.check(rc == 1 and r0.get("tor", {}).get("drift") is True,
             "status sees tor's drift: %d %s" % (rc, out))
    # the kernel's table of another policy, then none: status says so
    rc, out, err = run([ew, "nft", "apply"] + uid + [os.path.join(
        work, "a2.policy")])
    ck.check(rc == 0, "nft apply of another policy (no store): %d %s"
             % (rc, err))
    rc, out, err = run([ew, "status", "--json"] + conn, env=env)
    st = json.loads(out) if out.strip() else {}
    r0 = (st.get("relays") or [{}])[0]
    ck.check(rc == 1 and r0.get("nft") == {"table": True, "drift": True},
             "status sees the kernel's table of another policy: %d %s"
             % (rc, out))
    rc, out, err = run([ew, "nft", "flush"])
    rc, out, err = run([ew, "status"] + conn, env=env)
    ck.check(rc == 1 and "NO table inet exitwarden" in out,
             "status sees no table: %d %s" % (rc, out))
    # a setting the policy does not state: tor keeps what it runs
    status, _ = relay.ctl.command("SETCONF IPv6Exit=1")
    ck.check(status == "250", "IPv6Exit=1 set by the operator")
    rc, out, err = run([ew, "apply", "--fragment", frag] + conn + uid + [op],
                       env=env)
    ck.check(rc == 0 and "IPv6Exit 1: left as tor has it" in err,
             "apply with IPv6Exit 1 in tor: %d %s %s" % (rc, out, err))
    ck.check(getconf(relay, "IPv6Exit") == ["IPv6Exit=1"],
             "IPv6Exit left alone: %r" % getconf(relay, "IPv6Exit"))
    live = live_list(relay) or ""
    ck.check("reject6 *:*" not in live and "accept6 *:*" in live
             and "192.0.2.77:6667" in live,
             "tor's list is the one IPv6Exit 1 makes:\n%s" % live)
    # -n shows a relay setting the policy states as the change it is
    op6 = os.path.join(work, "op6.policy")
    with open(op6, "w") as f:
        f.write(POLICY_OP + "IPv6Exit 0\n")
    rc, out, err = run([ew, "tor", "apply", "-n"] + conn + [op6])
    ck.check(rc == 0 and "relay setting IPv6Exit: the policy states 0, tor "
             "runs 1: CHANGED by this apply" in out and "relay setting "
             "ExitRelay: the policy states 1, tor runs 1: unchanged" in out
             and "relay setting ReducedExitPolicy: not in the policy, left "
             "as tor has it" in out, "tor apply -n names the change of a "
             "relay setting: %d %s %s" % (rc, out, err))
    ck.check(getconf(relay, "IPv6Exit") == ["IPv6Exit=1"], "-n: unchanged")
    relay.ctl.command("SETCONF IPv6Exit=0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--tor", default=None)
    args = ap.parse_args()
    tor = torharness.tor_binary(args.tor)
    if tor is None:
        print("tor is not installed; skipping")
        return 77
    torharness.enter_netns(os.path.abspath(__file__), sys.argv[1:])
    ew = os.path.abspath(args.exitwarden)
    ck = Checks()
    work = tempfile.mkdtemp(prefix="ew-torapply-")
    pa, pa2, pbad = (os.path.join(work, n) for n in
                     ("a.policy", "a2.policy", "bad.policy"))
    for path, text in ((pa, POLICY_A), (pa2, POLICY_A2), (pbad, POLICY_BAD)):
        with open(path, "w") as f:
            f.write(text)
    with open(os.path.join(work, "irc.list"), "w") as f:
        f.write(IRC_LIST)
    frag = os.path.join(work, "exitwarden.torrc")

    # tor emit: stdout and -o agree; the header names the policy and time
    now = ["--now", "2026-11-22T12:00:00Z"]
    rc, out, err = run([ew, "tor", "emit"] + now + [pa])
    emitted = os.path.join(work, "emitted.torrc")
    rc2, _, err2 = run([ew, "tor", "emit"] + now + ["-o", emitted, pa])
    ck.check(rc == 0 and rc2 == 0, "tor emit: %s %s" % (err, err2))
    ck.check(read(emitted) == out and out.startswith(
        "# Generated by exitwarden 0.1.0 from policy '%s' at "
        "2026-11-22T12:00:00Z." % pa), "tor emit -o == stdout: %r" % out)

    relay = torharness.TorRelay(tor=tor, timeout=TIMEOUT)
    try:
        relay.start()
        with open(relay._path("control-port")) as f:
            port = re.search(r"PORT=127\.0\.0\.1:(\d+)", f.read()).group(1)
        control = "127.0.0.1:" + port
        cookie = relay._path("control-cookie")
        conn = ["--control", control, "--cookie", cookie]
        before = live_list(relay)
        ck.check(before is not None, "tor reports an exit-policy/full")

        # -n: the plan, and nothing changes
        rc, out, err = run([ew, "tor", "apply", "-n", "--fragment", frag]
                           + conn + [pa])
        ck.check(rc == 0, "apply -n exit status %d: %s" % (rc, err))
        ck.check("ExitPolicy=\"reject 203.0.113.0/24:6660-7000" in out,
                 "apply -n shows the SETCONF pairs: " + out)
        ck.check(read(frag) is None, "apply -n wrote no fragment")
        ck.check(live_list(relay) == before, "apply -n left tor alone")

        # the real apply
        rc, expected, err = run([ew, "policy", "expand", pa])
        ck.check(rc == 0, "policy expand: " + err)
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag]
                           + conn + [pa])
        ck.check(rc == 0, "apply A exit status %d: %s" % (rc, err))
        m = re.search(r"([\d.]+) ms from SETCONF", out)
        ck.check(m is not None, "apply prints the latency: " + out)
        if m:
            print("apply latency (SETCONF to verified): %s ms" % m.group(1))
        ck.check("SAFECOOKIE" in out, "SAFECOOKIE was used: " + out)
        live_a = live_list(relay)
        ck.check(live_a == expected,
                 "exit-policy/full == policy expand\n%s---\n%s"
                 % (live_a, expected))
        ck.check("reject 198.51.100.9:8080" in (live_a or ""),
                 "table x port set present")
        frag_a = read(frag)
        rc, torrc, _ = run([ew, "policy", "torrc", pa])
        ck.check(frag_a is not None and
                 frag_a.startswith("# Generated by exitwarden") and
                 frag_a.endswith(torrc),
                 "fragment = header + policy torrc: %r" % frag_a)
        ck.check(not [n for n in os.listdir(work) if ".tmp." in n],
                 "no temporary file left")

        # status
        rc, out, err = run([ew, "tor", "status"] + conn + [pa])
        ck.check(rc == 0, "status exit status %d: %s %s" % (rc, out, err))
        ck.check("exit: yes" in out, "status says exit: " + out)
        ck.check("p: reject 25\n" in out, "status p line: " + out)
        ck.check("matches tor" in out, "status digest matches: " + out)
        ck.check(re.search(r"^tor: 0\.\d", out, re.M) is not None,
                 "status version: " + out)
        rc, out, err = run([ew, "tor", "status"] + conn + [pa2])
        ck.check(rc == 1 and "differs" in out, "status of another policy "
                 "differs: %d %s" % (rc, out))

        # verification fails -> rollback
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag]
                           + conn + [pbad])
        ck.check(rc == 1, "apply of the bad policy fails: %d" % rc)
        ck.check("differs" in err and "are back" in err,
                 "the failure says why and that it rolled back: " + err)
        ck.check(read(frag) == frag_a, "previous fragment restored")
        ck.check(live_list(relay) == live_a, "previous list enforced")
        ck.check(getconf(relay, "Address") == ["Address"],
                 "Address restored: %r" % getconf(relay, "Address"))
        ck.check(getconf(relay, "ExitPolicy")[0].startswith(
                 "ExitPolicy=reject 203.0.113.0/24:6660-7000"),
                 "ExitPolicy restored: %r" % getconf(relay, "ExitPolicy"))

        # nothing listening at the control address
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
        s.close()
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag,
                            "--control", "127.0.0.1:%d" % closed,
                            "--cookie", cookie, "--timeout", "3", pa2])
        ck.check(rc == 1 and "cannot connect" in err,
                 "closed port fails: %d %s" % (rc, err))
        ck.check(read(frag) == frag_a, "closed port: fragment unchanged")
        ck.check(live_list(relay) == live_a, "closed port: tor unchanged")

        # a cookie that is not tor's
        bad_cookie = os.path.join(work, "bad-cookie")
        with open(bad_cookie, "wb") as f:
            f.write(os.urandom(32))
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag,
                            "--control", control, "--cookie", bad_cookie,
                            pa2])
        ck.check(rc == 1 and "cookie" in err,
                 "wrong cookie fails: %d %s" % (rc, err))
        ck.check(read(frag) == frag_a, "wrong cookie: fragment unchanged")

        # a fragment that cannot be written: tor is not touched
        rc, out, err = run([ew, "tor", "apply", "--fragment",
                            os.path.join(work, "missing", "f.torrc")]
                           + conn + [pa2])
        ck.check(rc == 1 and "cannot create" in err,
                 "unwritable fragment fails: %d %s" % (rc, err))
        ck.check(live_list(relay) == live_a, "unwritable: tor unchanged")

        # --reevaluate, cookie file found through PROTOCOLINFO
        rc, expected2, _ = run([ew, "policy", "expand", pa2])
        rc, out, err = run([ew, "tor", "apply", "--reevaluate",
                            "--fragment", frag, "--control", control, pa2])
        ck.check(rc == 0, "apply A2 --reevaluate: %d %s" % (rc, err))
        ck.check(live_list(relay) == expected2, "A2 enforced")
        ck.check(getconf(relay, "ReevaluateExitPolicy") ==
                 ["ReevaluateExitPolicy=1"], "ReevaluateExitPolicy set")
        blocks_in_tor(ck, ew, relay, conn, frag, work)
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag,
                            "--control", control, pa2])
        ck.check(rc == 0, "A2 again: %d %s" % (rc, err))
        frag_a2 = read(frag)

        # tor dies in the middle of an apply
        proxy = KillingProxy(int(port), relay.proc.pid)
        rc, out, err = run([ew, "tor", "apply", "--fragment", frag,
                            "--control", "127.0.0.1:%d" % proxy.port,
                            "--cookie", cookie, "--timeout", "5", pa])
        proxy.t.join(TIMEOUT)
        ck.check(proxy.killed, "the proxy killed tor at SETCONF")
        ck.check(rc == 1, "apply with tor killed fails: %d" % rc)
        ck.check("tor closed the control connection" in err,
                 "says what happened: " + err)
        ck.check(read(frag) == frag_a2,
                 "tor killed: previous fragment restored")
        try:
            relay.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        ck.check(relay.proc.poll() is not None, "tor is gone")
        relay.ctl = None
    except torharness.HarnessError as e:
        ck.check(False, "harness: %s" % e)
    except subprocess.TimeoutExpired as e:
        ck.check(False, "timed out: %s" % e)
    finally:
        if relay.ctl is not None:
            relay.ctl.close()
            relay.ctl = None
        relay.stop()
        for n in os.listdir(work):
            os.unlink(os.path.join(work, n))
        os.rmdir(work)
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
