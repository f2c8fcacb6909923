#!/usr/bin/env python3
"""Two exit relays on one host in a private tor network (issue 13).

Runs as root.  Re-executes itself under `unshare -n` and starts, as
tests/tor/e2e.py does (/work/shared/docs/tornet.md): 1 directory
authority, 2 middle relays, 2 exits each running as its own uid (alpha
as debian-tor, beta as nobody), 1 client, and an echo server on
127.0.0.1:6667.  The client is pinned to one exit at a time (ExitNodes,
StrictNodes; each stream on a fresh circuit through SOCKS isolation, its
exit checked in the circuit's path).  Checks:

  a. a stream through each exit reaches the echo server;
  k. `exitwarden nft apply` of the two relays' table, alpha's policy
     rejecting 6667 and beta's not (tor allowing it on both): through
     alpha the kernel refuses it (REMOTE_REASON=MISC) and alpha's
     counter grows, through beta it still echoes;
  t. `exitwarden apply --all-relays` with a block for alpha alone in the
     store: alpha's tor refuses it (EXITPOLICY), beta's tor and chain do
     not have it and a stream through beta still echoes; each relay's
     version is in its own policy history.

Every wait is bounded; only processes started here are stopped, by PID.
Ends with "N passed, N failed"; exit 77 when tor, tor-gencert, root, the
users, network namespaces or nftables are missing.
"""

import os
import pwd
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import e2e  # noqa: E402
import torharness  # noqa: E402
from e2e import (Checks, Ctl, EchoServer, Ew, StreamWatch, echo_ok,  # noqa
                 ev_is, ip, node_ready, nft_table, port, recvn, skip,
                 wait_for)

DEST = e2e.DEST
DEST_STR = e2e.DEST_STR
USERS = {"exit1": "debian-tor", "exit2": "nobody"}
NODES = (("auth1", 0), ("relay1", 1), ("relay2", 2), ("exit1", 3),
         ("exit2", 5), ("client1", 4))
RELAY_OF = {"exit1": "alpha", "exit2": "beta"}

BASE_POLICY = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
accept *:*
"""
# the kernel's table alone: alpha's policy rejects the echo port
KERNEL_ALPHA = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
reject 127.0.0.1:6667 reason "kernel test"
accept *:*
"""


class Net2(e2e.Net):
    """e2e's network with two exits, each its own user."""

    def __init__(self, work, tor, gencert):
        super().__init__(work, tor, gencert, None)
        self.pws = {n: pwd.getpwnam(u) for n, u in USERS.items()}

    def mkdata(self, name):
        path = self.d(name)
        os.mkdir(path, 0o700)
        if name in self.pws:
            os.chown(path, self.pws[name].pw_uid, self.pws[name].pw_gid)
        return path

    def as_exit(self, name):
        if name not in self.pws:
            return {}
        return {"user": self.pws[name].pw_uid,
                "group": self.pws[name].pw_gid, "extra_groups": []}

    def keys(self):
        saved = e2e.NODES
        e2e.NODES = NODES  # data directories; keys of NODES[1:4]
        try:
            super().keys()
            self.fingerprint("exit2")
        finally:
            e2e.NODES = saved

    def d(self, name):
        # exit2 is exit1's torrc at exit2's directory (torrc below)
        if getattr(self, "_alias", False) and name.startswith("exit1"):
            name = "exit2" + name[len("exit1"):]
        return super().d(name)

    def torrc(self, name, k):
        if name != "exit2":
            return super().torrc(name, k)
        self._alias = True
        try:
            path = super().torrc("exit1", k)
        finally:
            self._alias = False
        with open(path) as f:
            text = f.read()
        text = text.replace("Nickname exit1", "Nickname exit2")
        text = text.replace("exit1@example", "exit2@example")
        text = re.sub(r"ControlPort 127\.0\.0\.1:\d+\n", "", text)
        with open(path, "w") as f:
            f.write(text)
        return path

    def dead(self):
        return [n for n, p in self.procs.items() if p.poll() is not None]


def fpr(net, name):
    with open(net.d(name + "/fingerprint")) as f:
        return f.read().split()[1]


class Client:
    """The client, pinned to one exit; every stream on its own circuit
    (SOCKS username isolation)."""

    def __init__(self, net, watch):
        self.ctl = Ctl((ip(4), port(4, 2)),
                       net.d("client1/control_auth_cookie"))
        self.watch = watch
        self.n = 0

    def pin(self, fp):
        st, lines = self.ctl.command("SETCONF ExitNodes=%s StrictNodes=1"
                                     % fp)
        return st == "250"

    def exit_of(self, circ):
        st, lines = self.ctl.command("GETINFO circuit-status")
        for line in lines:
            line = re.sub(r"^250[-+ ]circuit-status=", "", line)
            f = line.split()
            if len(f) >= 3 and f[0] == circ:
                return f[2].split(",")[-1].lstrip("$").split("~")[0]
        return None

    def open(self, timeout):
        """(socket or None, SOCKS reply code or None, stream events
        since)."""
        self.n += 1
        user = b"ew%d" % self.n
        t0 = time.monotonic()
        s = socket.create_connection((ip(4), port(4, 3)), timeout=timeout)
        try:
            s.sendall(b"\x05\x01\x02")
            if recvn(s, 2) != b"\x05\x02":
                raise OSError("SOCKS auth refused")
            s.sendall(b"\x01" + bytes([len(user)]) + user + b"\x01x")
            if recvn(s, 2) != b"\x01\x00":
                raise OSError("SOCKS auth failed")
            s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(DEST[0]) +
                      struct.pack(">H", DEST[1]))
            r = recvn(s, 10)
            return s, r[1], t0
        except socket.timeout:
            return s, None, t0

    def echo_via(self, fp, tag, timeout=8):
        """Whether a stream pinned to fp echoes, and its exit was fp."""
        try:
            s, code, t0 = self.open(timeout)
        except OSError:
            return False
        try:
            if code != 0 or not echo_ok(s, tag):
                return False
        finally:
            s.close()
        hit = self.watch.find(t0, ev_is(status=("SUCCEEDED",)))
        return hit is not None and self.exit_of(hit[1][2]) == fp

    def close(self):
        self.ctl.close()


def first_counter(prefix):
    """The name of the first counter of the table whose name starts with
    prefix (counters are named after the rule's identity, r<hash>)."""
    t = subprocess.run(["nft", "list", "counters", "table", "inet",
                        "exitwarden"], capture_output=True, text=True)
    m = re.search(r"counter (%s\w+) \{" % re.escape(prefix), t.stdout)
    return m.group(1) if m else None


def counter(name):
    if name is None:
        return None
    t = subprocess.run(["nft", "list", "counter", "inet", "exitwarden",
                        name], capture_output=True, text=True)
    m = re.search(r"packets (\d+)", t.stdout)
    return int(m.group(1)) if m else None


def scenario(ck, net, ew, work):
    t_start = time.monotonic()
    net.start("auth1", 0)
    for name, k in NODES[1:5]:
        net.start(name, k)
    ok = wait_for("the consensus with 5 relays at every cache", 80,
                  lambda: not net.dead() and all(
                      node_ready(k, 5) for k in (0, 1, 2, 3, 5)))
    if not ck.check(ok, "network up (dead: %r)" % net.dead()):
        return
    print("consensus served after %.1f s" % (time.monotonic() - t_start),
          flush=True)
    net.start("client1", 4)
    ccookie = net.d("client1/control_auth_cookie")
    if not ck.check(wait_for("client", 15, lambda: os.path.exists(ccookie)),
                    "client started"):
        return
    time.sleep(0.3)
    watch = StreamWatch((ip(4), port(4, 2)), ccookie)
    cl = Client(net, watch)
    fa, fb = fpr(net, "exit1"), fpr(net, "exit2")
    try:
        def boot():
            st, lines = cl.ctl.command("GETINFO status/bootstrap-phase")
            return st == "250" and "PROGRESS=100" in lines[0]
        ck.check(wait_for("client bootstrap", 45, boot), "client up")

        # a. a stream through each exit
        for name, fp in (("exit1", fa), ("exit2", fb)):
            ck.check(cl.pin(fp), "pinned to %s" % name)
            ok = wait_for("a stream through " + name, 45,
                          lambda: cl.echo_via(fp, "a"), 1.0)
            ck.check(ok, "a: a stream through %s (%s) echoes"
                     % (name, RELAY_OF[name]))
            if not ok:
                return
        print("streams through both exits after %.1f s"
              % (time.monotonic() - t_start), flush=True)

        # k. the kernel: one table, alpha's chain alone refuses 6667
        ka = os.path.join(work, "kernel-alpha.policy")
        base = os.path.join(work, "base.policy")
        for path, text in ((ka, KERNEL_ALPHA), (base, BASE_POLICY)):
            with open(path, "w") as f:
                f.write(text)
        rc, out, err = ew("nft", "apply", "--relay",
                          "alpha,uid=debian-tor,policy=" + ka, "--relay",
                          "beta,uid=nobody", base)
        ck.check(rc == 0 and "nft: loaded" in out,
                 "k: nft apply of both relays: %d %s %s" % (rc, out, err))
        alpha_c = first_counter("alpha_r")
        c0 = counter(alpha_c)
        cl.pin(fa)
        t_k = time.monotonic()
        s, code, _ = cl.open(10)
        s.close()
        ck.check(code not in (0, None), "k: through alpha the SOCKS "
                 "request fails (reply %r)" % code)
        ck.check(watch.wait(t_k, ev_is(remote="MISC"), 5) is not None,
                 "k: through alpha: REMOTE_REASON=MISC (the kernel)")
        ck.check(watch.find(t_k, ev_is(remote="EXITPOLICY")) is None,
                 "k: no EXITPOLICY (alpha's tor still allows it)")
        c1 = counter(alpha_c)
        ck.check(c1 is not None and c1 > (c0 or 0),
                 "k: alpha's counter grew (%r -> %r)" % (c0, c1))
        cl.pin(fb)
        ck.check(wait_for("beta echoes", 20,
                          lambda: cl.echo_via(fb, "k"), 1.0),
                 "k: through beta the same stream echoes")

        # t. apply --all-relays with a block for alpha alone
        db = os.path.join(work, "ew.db")
        ew("--db", db, "policy", "history")  # the store, migrated
        con = sqlite3.connect(db)
        con.execute("INSERT INTO rules (rule_text, reason, added_at, relay)"
                    " VALUES (?, ?, ?, ?)", ("reject 127.0.0.1:6667",
                                             "irc complaint",
                                             int(time.time()), "alpha"))
        con.commit()
        con.close()
        rel = []
        for name, user in (("exit1", "debian-tor"), ("exit2", "nobody")):
            k = dict(NODES)[name]
            rel += ["--relay", "%s,uid=%s,control=%s:%d,cookie=%s" % (
                RELAY_OF[name], user, ip(k), port(k, 2),
                net.d(name + "/control_auth_cookie"))]
        t0 = time.monotonic()
        rc, out, err = ew("--db", db, "apply", "--reevaluate", "--policy",
                          base, *rel, "--all-relays")
        ck.check(rc == 0 and "one nftables table for all" in out,
                 "t: apply --all-relays: %d %s %s" % (rc, out, err))
        table = nft_table() or ""
        ma = re.search(r"chain alpha_rules \{(.*?)\n\t\}", table, re.S)
        mb = re.search(r"chain beta_rules \{(.*?)\n\t\}", table, re.S)
        ck.check(ma is not None and "6667" in ma.group(1) and
                 mb is not None and "6667" not in mb.group(1),
                 "t: the block in alpha's chain only")
        cl.pin(fa)
        refused = None
        end = t0 + 25
        while refused is None and time.monotonic() < end:
            try:
                s, code, _ = cl.open(1.5)
                s.close()
            except OSError:
                pass
            refused = watch.find(t0, ev_is(status=("DETACHED", "FAILED"),
                                           remote="EXITPOLICY"))
            if refused is None:
                time.sleep(0.2)
        ck.check(refused is not None, "t: through alpha: refused by its "
                 "tor (REMOTE_REASON=EXITPOLICY)")
        if refused:
            print("apply --all-relays to alpha's refusal: %.2f s"
                  % (refused[0] - t0), flush=True)
        cl.pin(fb)
        ck.check(wait_for("beta still echoes", 20,
                          lambda: cl.echo_via(fb, "t"), 1.0),
                 "t: through beta the stream still echoes")
        con = sqlite3.connect(db)
        rows = sorted(r[0] for r in con.execute(
            "SELECT relay FROM policy_versions WHERE applied_to IS NULL"))
        con.close()
        ck.check(rows == ["alpha", "beta"],
                 "t: a version in force in each relay's history: %r" % rows)
    finally:
        watch.close()
        cl.close()


def main():
    ew_path = os.path.abspath(sys.argv[1])
    tor = torharness.tor_binary(None)
    gencert = shutil.which("tor-gencert")
    if tor is None or gencert is None:
        skip("tor or tor-gencert is not installed")
    if os.geteuid() != 0:
        skip("needs root (network namespace, nftables, the exits' uids)")
    for u in USERS.values():
        try:
            pwd.getpwnam(u)
        except KeyError:
            skip("no user %s for an exit" % u)
    if shutil.which("nft") is None:
        skip("nft is not installed")
    e2e.enter_netns.__globals__["__file__"] = os.path.abspath(__file__)
    e2e.enter_netns(sys.argv[1:])
    t_all = time.monotonic()
    ck = Checks()
    work, outdir = e2e.work_dirs("ew-relays-")
    ew = Ew(ew_path, outdir)
    net = Net2(work, tor, gencert)
    echo = None
    try:
        echo = EchoServer()
        net.keys()
        scenario(ck, net, ew, work)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        ck.check(False, "harness: %r" % e)
    finally:
        e2e.end_run(net, echo, work)
    return e2e.tally(ck, t_all)


if __name__ == "__main__":
    sys.exit(main())
