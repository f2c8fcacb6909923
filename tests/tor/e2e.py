#!/usr/bin/env python3
"""End-to-end: exitwarden apply against a private tor network on loopback.

Runs as root.  Re-executes itself under `unshare -n` (a fresh network
namespace, only lo, brought up here), then starts, as in
/work/shared/docs/tornet.md: 1 directory authority, 2 middle relays, 1
exit running as its own uid (debian-tor, created by Debian's tor
package) and 1 client with a SocksPort, all on 127.0.0.11-15, plus a TCP
echo server on 127.0.0.1:6667 standing in for an IRC server.  Checks:

  a. a stream through the client's SOCKS port reaches the echo server;
  d. with tor's policy allowing 6667, `exitwarden nft apply` of a policy
     rejecting it alone blocks it: the client sees REMOTE_REASON=MISC and
     the rule's counter grew;
  b. `exitwarden apply --reevaluate` (tor then nft) of a policy rejecting
     127.0.0.1's IRC ports: new streams are refused by the exit, i.e. the
     client's STREAM events say REMOTE_REASON=EXITPOLICY (polled, bounded;
     the latency from the apply command's start is printed);
  c. ... and a stream opened before the apply is closed (EXITPOLICY);
  e. an apply against a dead control port, and one during which the
     exit's tor is killed (at SETCONF), fail and leave the previous
     fragment, state file and nftables table;
  f. nothing exitwarden wrote (fragment, state file, its stdout and
     stderr) names the destination 127.0.0.1:6667; tor's own logs are not
     ours and are not searched.

Every wait is bounded; only processes started here are stopped, by PID
(SIGTERM, SIGKILL after 10 s); the temporary directory is removed.
Ends with "N passed, N failed"; exit 77 when tor, tor-gencert, root, the
debian-tor user, network namespaces or libnftables are missing.
"""

import argparse
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import torharness  # noqa: E402
from tor_apply import KillingProxy  # noqa: E402

BASE = 17100
EXIT_USER = "debian-tor"
DEST = ("127.0.0.1", 6667)
DEST_STR = "%s:%d" % DEST
NODES = (("auth1", 0), ("relay1", 1), ("relay2", 2), ("exit1", 3),
         ("client1", 4))

# rejects 127.0.0.1's IRC ports; tor gets the rule, nft its backstop
POLICY = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
irc = 6660-6669, 6697, 7000
reject 127.0.0.1:$irc reason "irc complaint" ticket T-9
accept *:*
"""

# another policy, for the failed applies
POLICY2 = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
reject *:25
irc = 6660-6669, 6697, 7000
reject 127.0.0.1:$irc reason "irc complaint" ticket T-9
accept *:*
"""

_NS_ENV = "EW_E2E_NETNS"
_PARENT_NS_ENV = "EW_E2E_PARENT_NS"


def ip(k):
    return "127.0.0.%d" % (11 + k)


def port(k, j):
    """Node k's ports: 0 OR, 1 Dir, 2 Control, 3 Socks (4: the exit's
    second control port)."""
    return BASE + 10 * k + j


def skip(msg):
    print("SKIP: " + msg, flush=True)
    sys.exit(77)


def nft_probe_or_fail(rc, err):
    """After `exitwarden nft apply -n` of a trivial policy exited `rc`:
    a skip only where the kernel truly has no nftables here (nft itself
    cannot check a table either); exitwarden failing where nft works is
    a failure of the product, never a skip."""
    if rc == 0:
        return
    p = subprocess.run(["nft", "-c", "-f", "-"], input=(
        "table inet ewprobe { chain c { type filter hook output "
        "priority 0; } }\n"), capture_output=True, text=True)
    if p.returncode != 0:
        skip("no nftables in this kernel (nft -c fails too: %s)"
             % p.stderr.strip())
    print("FAIL: exitwarden nft apply -n fails where nft itself works: "
          + err.strip(), flush=True)
    print("0 passed, 1 failed", flush=True)
    sys.exit(1)


def enter_netns(argv):
    if os.environ.get(_NS_ENV) == "1":
        if os.readlink("/proc/self/ns/net") == os.environ.get(
                _PARENT_NS_ENV):
            print("FAIL: not in a new network namespace", flush=True)
            sys.exit(1)
        if not torharness._loopback_up():
            skip("cannot bring lo up in the network namespace")
        signal.signal(signal.SIGTERM,
                      lambda *_: sys.exit(128 + signal.SIGTERM))
        return
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run(
            [unshare, "-n", "true"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode != 0:
        skip("cannot create a network namespace (unshare -n)")
    env = dict(os.environ)
    env[_NS_ENV] = "1"
    env[_PARENT_NS_ENV] = os.readlink("/proc/self/ns/net")
    sys.stdout.flush()
    child = subprocess.Popen([unshare, "-n", sys.executable,
                              os.path.abspath(__file__)] + list(argv),
                             env=env)

    def forward(signum, _frame):
        child.send_signal(signum)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rc = child.wait()
    sys.exit(rc if rc >= 0 else 128 - rc)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print("ok: " + what.split("\n")[0][:100], flush=True)
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond


# ---------------------------------------------------------------------------
# Control port

class Ctl:
    """A control connection with cookie authentication."""

    def __init__(self, addr, cookie, timeout=10):
        self.s = socket.create_connection(addr, timeout=timeout)
        self.f = self.s.makefile("rb")
        with open(cookie, "rb") as f:
            hexcookie = f.read().hex()
        status, lines = self.command("AUTHENTICATE " + hexcookie)
        if status != "250":
            raise OSError("AUTHENTICATE: %r" % lines)

    def command(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        lines = []
        while True:
            raw = self.f.readline()
            if not raw:
                raise OSError("control connection closed")
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line.startswith("650"):
                continue
            lines.append(line)
            if len(line) >= 4 and line[3] == " ":
                return line[:3], lines

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class StreamWatch:
    """STREAM events of a tor, read by a thread that blocks (gotcha 14):
    a list of (monotonic time, fields)."""

    def __init__(self, addr, cookie):
        self.ctl = Ctl(addr, cookie)
        status, lines = self.ctl.command("SETEVENTS STREAM")
        if status != "250":
            raise OSError("SETEVENTS: %r" % lines)
        self.ctl.s.settimeout(None)
        self.events = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            for raw in self.ctl.f:
                line = raw.decode(errors="replace").rstrip("\r\n")
                if line.startswith("650 STREAM "):
                    with self.lock:
                        self.events.append((time.monotonic(),
                                            line.split()[2:]))
        except (OSError, ValueError):
            pass

    def find(self, since, pred):
        with self.lock:
            for t, ev in self.events:
                if t >= since and pred(ev):
                    return t, ev
        return None

    def wait(self, since, pred, bound):
        end = time.monotonic() + bound
        while time.monotonic() < end:
            hit = self.find(since, pred)
            if hit:
                return hit
            time.sleep(0.05)
        return self.find(since, pred)

    def close(self):
        try:
            self.ctl.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ctl.close()
        self.t.join(5)


def ev_is(status=None, remote=None, sid=None, target=DEST_STR):
    def pred(ev):
        # ev: id status circ target [KEY=VALUE...]
        if len(ev) < 4 or ev[3] != target:
            return False
        if status is not None and ev[1] not in status:
            return False
        if sid is not None and ev[0] != sid:
            return False
        if remote is not None and "REMOTE_REASON=" + remote not in ev[4:]:
            return False
        return True
    return pred


# ---------------------------------------------------------------------------
# SOCKS and the echo server

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("EOF")
        b += c
    return b


def socks_open(timeout, dest=DEST):
    """(socket, SOCKS5 reply code) for a stream to dest (an IPv4
    address and a port); code None when no reply came."""
    s = socket.create_connection((ip(4), port(4, 3)), timeout=timeout)
    try:
        s.sendall(b"\x05\x01\x00")
        if recvn(s, 2) != b"\x05\x00":
            raise OSError("SOCKS greeting refused")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dest[0]) +
                  struct.pack(">H", dest[1]))
        r = recvn(s, 10)
        return s, r[1]
    except socket.timeout:
        return s, None
    except OSError:
        s.close()
        raise


def echo_ok(s, tag):
    msg = ("ping %s\n" % tag).encode()
    try:
        s.sendall(msg)
        got = b""
        while not got.endswith(b"\n"):
            c = s.recv(100)
            if not c:
                return False
            got += c
        return got == msg
    except OSError:
        return False


class EchoServer:
    """A TCP echo server on addr (the stand-in IRC server)."""

    def __init__(self, addr=DEST):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(addr)
        self.ls.listen(16)
        self.ls.settimeout(0.5)
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def conn(self, c):
        c.settimeout(1.0)
        try:
            while not self.stop:
                try:
                    d = c.recv(4096)
                except socket.timeout:
                    continue
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.ls.close()
        self.t.join(5)


# ---------------------------------------------------------------------------
# The network

def http_get(k, path, timeout=3):
    c = http.client.HTTPConnection(ip(k), port(k, 1), timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, body.decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return None, ""
    finally:
        c.close()


def node_ready(k, n_relays):
    """Node k's DirPort serves a microdesc consensus with n_relays
    routers and all of their microdescriptors."""
    st, cons = http_get(k, "/tor/status-vote/current/consensus-microdesc")
    if st != 200:
        return False
    ds = re.findall(r"^m (\S+)$", cons, re.M)
    if len(ds) < n_relays:
        return False
    st, mds = http_get(k, "/tor/micro/d/" + "-".join(ds))
    return st == 200 and mds.count("onion-key\n") >= len(ds)


class Net:
    def __init__(self, work, tor, gencert, exit_pw):
        self.work = work
        self.tor = tor
        self.gencert = gencert
        self.pw = exit_pw
        self.procs = {}

    def d(self, name):
        return os.path.join(self.work, name)

    def mkdata(self, name):
        path = self.d(name)
        os.mkdir(path, 0o700)
        if name == "exit1":
            os.chown(path, self.pw.pw_uid, self.pw.pw_gid)
        return path

    def as_exit(self, name):
        if name != "exit1":
            return {}
        return {"user": self.pw.pw_uid, "group": self.pw.pw_gid,
                "extra_groups": []}

    def fingerprint(self, name):
        r = subprocess.run(
            [self.tor, "--quiet", "--ignore-missing-torrc",
             "--defaults-torrc", "/dev/null", "-f", "/dev/null",
             "--DataDirectory", self.d(name), "--ORPort", "1",
             "--list-fingerprint"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=30, **self.as_exit(name))
        m = re.search(r"^\S+ ((?:[0-9A-F]{4} ?){10})\s*$",
                      r.stdout.decode(), re.M)
        if m is None:
            raise RuntimeError("no fingerprint for %s: %s %s" % (
                name, r.stdout.decode(), r.stderr.decode()))
        return m.group(1).replace(" ", "")

    def keys(self):
        for name, _k in NODES:
            self.mkdata(name)
        keys = self.d("auth1/keys")
        os.mkdir(keys, 0o700)
        subprocess.run(
            [self.gencert, "--create-identity-key", "--passphrase-fd", "0",
             "-m", "12", "-i", keys + "/authority_identity_key",
             "-s", keys + "/authority_signing_key",
             "-c", keys + "/authority_certificate",
             "-a", "%s:%d" % (ip(0), port(0, 1))],
            input=b"", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=60, check=True)
        with open(keys + "/authority_certificate") as f:
            v3 = re.search(r"^fingerprint (\S+)", f.read(), re.M).group(1)
        fp = self.fingerprint("auth1")
        for name, _k in NODES[1:4]:
            self.fingerprint(name)
        self.dirauth = ("DirAuthority auth1 orport=%d no-v2 v3ident=%s "
                        "%s:%d %s" % (port(0, 0), v3, ip(0), port(0, 1), fp))

    def torrc(self, name, k):
        dd = self.d(name)
        lines = [
            "TestingTorNetwork 1", "DataDirectory " + dd,
            "PidFile %s/pid" % dd, "RunAsDaemon 0", "Nickname " + name,
            "ControlPort %s:%d" % (ip(k), port(k, 2)),
            "CookieAuthentication 1", "Log notice file %s/notice.log" % dd,
            "SafeLogging 0", "ShutdownWaitLength 0", "Sandbox 0",
            "PathsNeededToBuildCircuits 0.67", "TestingDirAuthVoteExit *",
            "TestingDirAuthVoteGuard *", "TestingDirAuthVoteHSDir *",
            "TestingMinExitFlagThreshold 0", "V3AuthNIntervalsValid 2",
            self.dirauth, "__OwningControllerProcess %d" % os.getpid(),
        ]
        if name == "client1":
            lines += ["SocksPort %s:%d" % (ip(k), port(k, 3)),
                      "SocksTimeout 15"]
        else:
            lines += [
                "SocksPort 0", "Address " + ip(k),
                "ORPort %s:%d" % (ip(k), port(k, 0)),
                "DirPort %s:%d" % (ip(k), port(k, 1)),
                "OutboundBindAddress " + ip(k), "AssumeReachable 1",
                "ContactInfo %s@example.invalid" % name,
                "ServerDNSDetectHijacking 0", "ServerDNSTestAddresses",
                "ServerDNSResolvConfFile /dev/null"]
        if name == "auth1":
            lines += [
                "AuthoritativeDirectory 1", "V3AuthoritativeDirectory 1",
                "TestingV3AuthInitialVotingInterval 5",
                "TestingV3AuthInitialVoteDelay 2",
                "TestingV3AuthInitialDistDelay 2", "V3AuthVotingInterval 10",
                "V3AuthVoteDelay 2", "V3AuthDistDelay 2", "ExitRelay 0",
                "ExitPolicy reject *:*"]
        elif name.startswith("relay"):
            lines += ["ExitRelay 0", "ExitPolicy reject *:*"]
        elif name == "exit1":
            # a second control port on 127.0.0.1, for tor_apply's
            # KillingProxy (it forwards to 127.0.0.1:PORT)
            lines += ["ControlPort 127.0.0.1:%d" % port(k, 4),
                      "ExitRelay 1", "IPv6Exit 0",
                      "ExitPolicyRejectPrivate 0",
                      "ExitPolicyRejectLocalInterfaces 0",
                      "ExitPolicy accept *:*"]
        path = self.d(name + ".torrc")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return path

    def start(self, name, k):
        torrc = self.torrc(name, k)
        self.procs[name] = subprocess.Popen(
            [self.tor, "-f", torrc, "--defaults-torrc", "/dev/null"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, **self.as_exit(name))

    def dead(self):
        return [n for n, p in self.procs.items()
                if p.poll() is not None and n != "exit1-killed"]

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + 10
        for p in self.procs.values():
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def wait_for(what, bound, fn, step=0.5):
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(step)
    print("timed out after %.0f s waiting for %s" % (bound, what),
          flush=True)
    return False


# ---------------------------------------------------------------------------

class Ew:
    """Runs exitwarden, keeping its stdout and stderr as files (checked
    by f)."""

    def __init__(self, path, outdir):
        self.path = path
        self.outdir = outdir
        self.n = 0

    def __call__(self, *args, timeout=60):
        self.n += 1
        base = os.path.join(self.outdir, "%02d" % self.n)
        p = subprocess.run([self.path] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode(), p.stderr.decode()
        with open(base + ".cmd", "w") as f:
            f.write(" ".join(args) + "\n")
        with open(base + ".out", "w") as f:
            f.write(out)
        with open(base + ".err", "w") as f:
            f.write(err)
        return p.returncode, out, err


def nft_table():
    r = subprocess.run(["nft", "-s", "list", "table", "inet", "exitwarden"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return r.stdout.decode() if r.returncode == 0 else None


def counter_packets(ew):
    rc, out, _ = ew("stats", "--json")
    if rc != 0:
        return None
    try:
        return sum(c["packets"] for c in json.loads(out))
    except (ValueError, KeyError, TypeError):
        return None


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def scenario(ck, net, ew, work):
    pol = os.path.join(work, "irc.policy")
    pol2 = os.path.join(work, "irc2.policy")
    for path, text in ((pol, POLICY), (pol2, POLICY2)):
        with open(path, "w") as f:
            f.write(text)
    frag = os.path.join(work, "exitwarden.torrc")
    state = os.path.join(work, "nft.state")
    exit_ctl = "%s:%d" % (ip(3), port(3, 2))
    cookie = net.d("exit1/control_auth_cookie")
    conn = ["--control", exit_ctl, "--cookie", cookie]
    nftu = ["--uid", EXIT_USER]

    t_start = time.monotonic()
    net.start("auth1", 0)
    for name, k in NODES[1:4]:
        net.start(name, k)
    ok = wait_for("the consensus with 4 relays and their microdescs at "
                  "every cache", 70,
                  lambda: not net.dead() and all(node_ready(k, 4)
                                                 for k in (0, 1, 2, 3)))
    if not ck.check(ok and not net.dead(), "network up (dead: %r)" %
                    net.dead()):
        return
    print("consensus and microdescs served after %.1f s" %
          (time.monotonic() - t_start), flush=True)
    net.start("client1", 4)
    ccookie = net.d("client1/control_auth_cookie")
    ok = wait_for("client control port", 15,
                  lambda: os.path.exists(ccookie))
    if not ck.check(ok, "client started"):
        return
    time.sleep(0.3)
    cctl = Ctl((ip(4), port(4, 2)), ccookie)
    watch = StreamWatch((ip(4), port(4, 2)), ccookie)
    try:
        def boot():
            st, lines = cctl.command("GETINFO status/bootstrap-phase")
            return st == "250" and "PROGRESS=100" in lines[0]
        ck.check(wait_for("client bootstrap", 45, boot), "client "
                 "bootstrapped")

        # a. a stream reaches the echo server
        def first_stream():
            try:
                s, code = socks_open(8)
            except OSError:
                return False
            try:
                return code == 0 and echo_ok(s, "a")
            finally:
                s.close()
        ok = wait_for("a stream through the exit", 45, first_stream, 1.0)
        ck.check(ok, "a: a stream through the client reaches %s" % DEST_STR)
        print("first echoed stream after %.1f s" %
              (time.monotonic() - t_start), flush=True)
        if not ok:
            return

        # d. tor allows it, the nftables table alone blocks it
        rc, out, err = ew("nft", "apply", *nftu, pol)
        ck.check(rc == 0 and "nft: loaded" in out,
                 "d: nft apply: %d %s %s" % (rc, out, err))
        t_d = time.monotonic()
        pk0 = counter_packets(ew)
        s, code = socks_open(10)
        s.close()
        ck.check(code not in (0, None), "d: the SOCKS request fails "
                 "(reply %r)" % code)
        hit = watch.wait(t_d, ev_is(remote="MISC"), 5)
        ck.check(hit is not None, "d: the client sees REMOTE_REASON=MISC")
        ck.check(watch.find(t_d, ev_is(remote="EXITPOLICY")) is None,
                 "d: no EXITPOLICY refusal (tor still allows it)")
        pk1 = counter_packets(ew)
        ck.check(pk1 is not None and pk1 > (pk0 or 0),
                 "d: the rule's counter grew (%r -> %r)" % (pk0, pk1))
        rc, out, err = ew("nft", "flush")
        ck.check(rc == 0 and nft_table() is None, "d: nft flush: %d %s" %
                 (rc, err))

        # a stream held open across the apply (c)
        held = None

        def hold():
            nonlocal held
            try:
                s, code = socks_open(8)
            except OSError:
                return False
            if code == 0 and echo_ok(s, "held"):
                held = s
                return True
            s.close()
            return False
        ck.check(wait_for("a held stream", 30, hold, 1.0),
                 "c: a stream is open before the apply")
        held_id = None
        with watch.lock:
            for _t, ev in watch.events:
                if ev_is(status=("SUCCEEDED",))(ev):
                    held_id = ev[0]

        # b + c. exitwarden apply: tor, then nft
        t0 = time.monotonic()
        rc, out, err = ew("apply", "--reevaluate", "--fragment", frag,
                          "--state", state, *conn, *nftu, pol)
        t_cmd = time.monotonic() - t0
        ck.check(rc == 0, "b: exitwarden apply: %d %s %s" % (rc, out, err))
        ck.check("applied '%s' to tor" % pol in out and "nft: loaded" in out
                 and "apply: tor and nftables" in out,
                 "b: apply reports both steps:\n" + out)
        print("apply command took %.0f ms" % (t_cmd * 1000), flush=True)
        if held is not None:
            hit = watch.wait(t0, ev_is(status=("CLOSED",), remote=
                                       "EXITPOLICY", sid=held_id), 5)
            ck.check(hit is not None, "c: the held stream %s is closed "
                     "with REMOTE_REASON=EXITPOLICY" % held_id)
            held.settimeout(5)
            try:
                eof = held.recv(100) == b""
            except OSError:
                eof = True
            ck.check(eof, "c: the application sees the held stream end")
            held.close()
        else:
            ck.check(False, "c: no held stream")
        refused = None
        end = t0 + 25
        while refused is None and time.monotonic() < end:
            try:
                s, code = socks_open(1.5)
            except OSError:
                time.sleep(0.2)
                continue
            refused = watch.find(t0, ev_is(status=("DETACHED", "FAILED"),
                                           remote="EXITPOLICY"))
            if refused is None and code is None:
                refused = watch.wait(t0, ev_is(
                    status=("DETACHED", "FAILED"), remote="EXITPOLICY"), 1)
            s.close()
            if refused is None:
                time.sleep(0.1)
        ck.check(refused is not None, "b: new streams are refused by the "
                 "exit: REMOTE_REASON=EXITPOLICY")
        if refused:
            print("apply latency (command start to first EXITPOLICY "
                  "refusal): %.2f s" % (refused[0] - t0), flush=True)
        ck.check(nft_table() is not None and read(state) is not None,
                 "b: the table is loaded and the state written")
        frag_b = read(frag)
        state_b = read(state)
        table_b = nft_table()
        ck.check(frag_b is not None and "reject 127.0.0.1:6660-6669" in
                 frag_b, "b: the fragment carries the policy")

        # e. dead control port: nothing changes
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
        s.close()
        rc, out, err = ew("apply", "--fragment", frag, "--state", state,
                          "--control", "127.0.0.1:%d" % closed, "--cookie",
                          cookie, "--timeout", "3", *nftu, pol2)
        ck.check(rc == 1 and "nftables table was not touched" in err,
                 "e: apply against a dead control port fails: %d %s" %
                 (rc, err))
        ck.check(read(frag) == frag_b and read(state) == state_b and
                 nft_table() == table_b,
                 "e: dead port: fragment, state and table unchanged")

        # e. tor killed at SETCONF: nothing changes here either
        proxy = KillingProxy(port(3, 4), net.procs["exit1"].pid)
        rc, out, err = ew("apply", "--fragment", frag, "--state", state,
                          "--control", "127.0.0.1:%d" % proxy.port,
                          "--cookie", cookie, "--timeout", "5", *nftu, pol2)
        proxy.t.join(30)
        ck.check(proxy.killed, "e: the exit's tor was killed at SETCONF")
        net.procs["exit1-killed"] = net.procs.pop("exit1")
        ck.check(rc == 1 and "nftables table was not touched" in err,
                 "e: apply with tor killed fails: %d %s" % (rc, err))
        ck.check(read(frag) == frag_b and read(state) == state_b and
                 nft_table() == table_b,
                 "e: tor killed: fragment, state and table unchanged")
    finally:
        watch.close()
        cctl.close()


def work_dirs(prefix):
    """A work directory the tors' users reach, and ew-out in it for
    exitwarden's output: (work, outdir)."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o711)
    outdir = os.path.join(work, "ew-out")
    os.mkdir(outdir)
    return work, outdir


def end_run(net, echo, work):
    """The teardown: the tors (by PID), the echo server (or None), our
    table, the work directory."""
    net.stop()
    if echo is not None:
        echo.close()
    subprocess.run(["nft", "delete", "table", "inet", "exitwarden"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=30)
    shutil.rmtree(work, ignore_errors=True)


def tally(ck, t_all):
    """The closing lines; the exit status."""
    print("total %.1f s" % (time.monotonic() - t_all))
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--tor", default=None)
    args = ap.parse_args()
    tor = torharness.tor_binary(args.tor)
    gencert = shutil.which("tor-gencert")
    if tor is None or gencert is None:
        skip("tor or tor-gencert is not installed")
    if os.geteuid() != 0:
        skip("needs root (network namespace, nftables, the exit's uid)")
    try:
        pw = pwd.getpwnam(EXIT_USER)
    except KeyError:
        skip("no user %s for the exit" % EXIT_USER)
    if shutil.which("nft") is None:
        skip("nft is not installed")
    enter_netns(sys.argv[1:])
    t_all = time.monotonic()
    ew_path = os.path.abspath(args.exitwarden)
    ck = Checks()
    work, outdir = work_dirs("ew-e2e-")
    ew = Ew(ew_path, outdir)
    net = Net(work, tor, gencert, pw)
    echo = None
    try:
        probe = os.path.join(work, "probe.policy")
        with open(probe, "w") as f:
            f.write("accept *:*\n")
        rc, _, err = ew("nft", "apply", "-n", probe)
        nft_probe_or_fail(rc, err)
        echo = EchoServer()
        net.keys()
        scenario(ck, net, ew, work)

        # f. nothing exitwarden wrote names the destination
        leaks = []
        ours = [os.path.join(work, n) for n in
                ("exitwarden.torrc", "nft.state")]
        ours += [os.path.join(outdir, n) for n in os.listdir(outdir)]
        ours += [os.path.join(work, n) for n in os.listdir(work)
                 if ".tmp" in n]
        for path in ours:
            text = read(path)
            if text is not None and DEST_STR in text:
                leaks.append(path)
        ck.check(len(ours) > 10 and not leaks,
                 "f: %d files exitwarden wrote, none names %s: %r" %
                 (len(ours), DEST_STR, leaks))
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        ck.check(False, "harness: %r" % e)
    finally:
        end_run(net, echo, work)
    return tally(ck, t_all)


if __name__ == "__main__":
    sys.exit(main())
