#!/usr/bin/env python3
"""Without --control, exitwarden prefers tor's Unix control socket
(issue 17: "prefer the Unix control socket").

`exitwarden tor status` is run end to end through the CLI inside mount
and network namespaces this script creates (unshare --mount --net
--propagation private; the script runs itself again inside).  There a
tmpfs hides /run and another is mounted on /run/tor, lo is brought up,
and two fake control ports answer: one on the Unix socket
/run/tor/control, one on 127.0.0.1:9051.  Each records the connections
and lines it receives and answers PROTOCOLINFO (HASHEDPASSWORD only),
AUTHENTICATE (the password exitwarden gets from EW_TOR_PASSWORD), and
the GETINFO keys `tor status` asks for.  The machine's own /run/tor, tor
and 9051 are never touched; afterwards the host's /run/tor (and its
mount table under /run) is checked to be as it was.

Checks:
  1. both up, no --control: the socket gets the session (PROTOCOLINFO,
     AUTHENTICATE, GETINFO version), the TCP port no connection at all,
     and the output names /run/tor/control;
  2. no socket file, then a socket file nobody listens on: the session
     falls back to 127.0.0.1:9051;
  3. both up, --control 127.0.0.1:9051: only the TCP port is used.

Needs root and unshare (skips with 77 saying why).  Every wait is
bounded; only processes started here are stopped, by PID.  Ends with
"N passed, N failed".
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tor"))
import standin  # noqa: E402
import torharness  # noqa: E402

SOCK = "/run/tor/control"  # EW_TOR_CONTROL_SOCKET (src/emit/tor.h)
TCP = ("127.0.0.1", 9051)  # EW_TOR_CONTROL_TCP
TCP_S = "%s:%d" % TCP
UNSHARE = ["unshare", "--mount", "--net", "--propagation", "private"]
INSIDE = "--inside"


class FakeControl:
    """A minimal tor control port on a listening socket, served by a
    thread.  Records each connection and every line received; answers
    what `exitwarden tor status` asks."""

    def __init__(self, name, listener, password, policy):
        self.name = name
        self.ls = listener
        self.password = password
        self.policy = policy
        self.lines = []
        self.connections = 0
        self.active = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ls.listen(4)
        self.ls.settimeout(0.1)
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.active += 1
            try:
                self._serve(c)
            except OSError as e:
                self.lines.append("# server error %r" % e)
            finally:
                c.close()
                with self.lock:
                    self.active -= 1

    def _answer(self, line):
        verb = line.split(" ", 1)[0].upper()
        if verb == "PROTOCOLINFO":
            return ('250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD'
                    '\r\n250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n')
        if verb == "AUTHENTICATE":
            if line == 'AUTHENTICATE "%s"' % self.password:
                return "250 OK\r\n"
            return "515 Authentication failed: Password did not match\r\n"
        if verb == "GETINFO":
            key = line.split(" ", 1)[1] if " " in line else ""
            if key == "version":
                return "250-version=0.4.9.11 (fake %s)\r\n250 OK\r\n" % (
                    self.name)
            if key == "exit-policy/full":
                return ("250+exit-policy/full=\r\n%s\r\n.\r\n250 OK\r\n"
                        % "\r\n".join(self.policy))
            if key.startswith("extra-info/digest/"):
                return '552 Unrecognized key "%s"\r\n' % key
            return '551 Address unknown\r\n'
        if verb == "QUIT":
            return "250 closing connection\r\n"
        return '510 Unrecognized command "%s"\r\n' % verb

    def _serve(self, c):
        c.settimeout(10)
        f = c.makefile("rb")
        for raw in f:
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            # the password itself is not kept
            self.lines.append("AUTHENTICATE" if line.startswith(
                "AUTHENTICATE") else line)
            c.sendall(self._answer(line).encode())
            if line.upper() == "QUIT":
                return

    def verbs(self):
        return [ln.split(" ", 1)[0] for ln in self.lines]

    def session(self):
        """A whole status session: authenticated and asked."""
        return ("PROTOCOLINFO 1" in self.lines and
                "AUTHENTICATE" in self.lines and
                "GETINFO version" in self.lines)

    def reset(self):
        with self.lock:
            self.lines = []
            self.connections = 0

    def idle(self, timeout=10):
        return standin.wait_for(lambda: self.active == 0, timeout)

    def close(self):
        self.stop.set()
        self.t.join(5)
        self.ls.close()


def unix_server(password):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(SOCK)
    return FakeControl("unix", ls, password, ["reject *:25", "accept *:*"])


def tcp_server(password):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(TCP)
    return FakeControl("tcp", ls, password, ["reject *:*"])


def status(ew, password, *extra):
    """exitwarden tor status --json: (rc, parsed JSON or None, text)."""
    env = dict(os.environ, EW_DB=":memory:", EW_TOR_PASSWORD=password)
    try:
        p = subprocess.run([ew, "tor", "status", "--json", "--timeout", "5"]
                           + list(extra), capture_output=True, text=True,
                           timeout=30, env=env)
    except subprocess.TimeoutExpired as e:
        return -1, None, "timed out: %s" % e
    try:
        js = json.loads(p.stdout)
    except ValueError:
        js = None
    return p.returncode, js, (p.stdout + p.stderr).strip()


def control_of(js):
    return js.get("control") if isinstance(js, dict) else None


def inside(ew, host_mnt, host_net):
    """The checks, run inside the namespaces.  Exit status 0/1, or 77."""
    ck = standin.Checks()
    # Never mount anything unless we really are in namespaces of our own.
    if (os.readlink("/proc/self/ns/mnt") == host_mnt or
            os.readlink("/proc/self/ns/net") == host_net):
        print("FAIL: not in a private mount and network namespace")
        return 1
    for target in ("/run", "/run/tor"):
        if target == "/run/tor":
            os.makedirs(target, 0o755, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "mode=0755,size=1m", "tmpfs", target],
                           capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            print("skip: cannot mount a tmpfs on %s in the mount "
                  "namespace: %s" % (target, p.stderr.strip()))
            return 77
    if not torharness._loopback_up():
        print("skip: cannot bring lo up in the network namespace")
        return 77
    ck.check(os.listdir("/run/tor") == [], "/run/tor is our empty tmpfs")

    password = "ew-" + secrets.token_hex(12)
    tcp = tcp_server(password)
    unix = unix_server(password)
    try:
        # 1. both up, no --control: the socket, and only the socket
        rc, js, out = status(ew, password)
        unix.idle()
        tcp.idle()
        ck.check(rc == 0, "1: status succeeds (%d): %s" % (rc, out))
        ck.check(control_of(js) == SOCK,
                 "1: the output names %s as the control: %s" % (SOCK, out))
        ck.check(isinstance(js, dict) and js.get("auth") ==
                 "HASHEDPASSWORD" and js.get("version") ==
                 "0.4.9.11 (fake unix)",
                 "1: authenticated by password, answered by the socket: %s"
                 % out)
        ck.check(unix.connections == 1 and unix.session(),
                 "1: the socket got the session: %d connection(s), %r"
                 % (unix.connections, unix.verbs()))
        ck.check(tcp.connections == 0 and tcp.lines == [],
                 "1: 127.0.0.1:9051 got no connection: %d, %r"
                 % (tcp.connections, tcp.verbs()))

        # 2a. no socket file: falls back to 127.0.0.1:9051
        unix.close()
        os.unlink(SOCK)
        unix.reset()
        tcp.reset()
        rc, js, out = status(ew, password)
        tcp.idle()
        ck.check(rc == 0 and control_of(js) == TCP_S,
                 "2a: no socket file: status through %s (%d): %s"
                 % (TCP_S, rc, out))
        ck.check(tcp.connections == 1 and tcp.session(),
                 "2a: 127.0.0.1:9051 got the session: %d, %r"
                 % (tcp.connections, tcp.verbs()))

        # 2b. a socket file nobody listens on (a stopped tor's): refused,
        # falls back to 127.0.0.1:9051
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(SOCK)
        stale.close()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(SOCK)
            refused = False
        except OSError:
            refused = True
        finally:
            probe.close()
        ck.check(refused, "2b: the stale socket file refuses connections")
        tcp.reset()
        rc, js, out = status(ew, password)
        tcp.idle()
        ck.check(rc == 0 and control_of(js) == TCP_S,
                 "2b: stale socket: status through %s (%d): %s"
                 % (TCP_S, rc, out))
        ck.check(tcp.connections == 1 and tcp.session(),
                 "2b: 127.0.0.1:9051 got the session: %d, %r"
                 % (tcp.connections, tcp.verbs()))
        os.unlink(SOCK)

        # 3. both up, --control 127.0.0.1:9051: explicit beats default
        unix = unix_server(password)
        tcp.reset()
        rc, js, out = status(ew, password, "--control", TCP_S)
        unix.idle()
        tcp.idle()
        ck.check(rc == 0 and control_of(js) == TCP_S and
                 js.get("version") == "0.4.9.11 (fake tcp)",
                 "3: --control %s: status through it (%d): %s"
                 % (TCP_S, rc, out))
        ck.check(tcp.connections == 1 and tcp.session(),
                 "3: 127.0.0.1:9051 got the session: %d, %r"
                 % (tcp.connections, tcp.verbs()))
        ck.check(unix.connections == 0 and unix.lines == [],
                 "3: the socket got no connection: %d, %r"
                 % (unix.connections, unix.verbs()))
    finally:
        unix.close()
        tcp.close()
    print("inside: %d %d" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


def run_mounts():
    """This namespace's mounts at or under /run (mountinfo fields)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/run" or fields[4].startswith("/run/"):
                out.append(" ".join(fields[:6]))
    return sorted(out)


def host_run_tor():
    """What the host's /run/tor is: absent, or its identity and names."""
    try:
        st = os.lstat("/run/tor")
    except FileNotFoundError:
        return None
    names = sorted(os.listdir("/run/tor")) if os.path.isdir(
        "/run/tor") else None
    return (st.st_dev, st.st_ino, st.st_mode, st.st_mtime_ns, names)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == INSIDE:
        return inside(os.path.abspath(sys.argv[2]), sys.argv[3], sys.argv[4])
    ew = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("skip: needs root (mount and network namespaces, a tmpfs "
              "on /run/tor inside them)")
        return 77
    try:
        probe = subprocess.run(UNSHARE + ["true"], capture_output=True,
                               text=True, timeout=10)
        why = probe.stderr.strip() if probe.returncode != 0 else None
    except (OSError, subprocess.TimeoutExpired) as e:
        why = str(e)
    if why is not None:
        print("skip: cannot create mount and network namespaces (%s): %s"
              % (" ".join(UNSHARE), why))
        return 77

    before = (host_run_tor(), run_mounts())
    sys.stdout.flush()
    cmd = UNSHARE + [sys.executable, os.path.abspath(__file__), INSIDE, ew,
                     os.readlink("/proc/self/ns/mnt"),
                     os.readlink("/proc/self/ns/net")]
    # unshare execs python (no --fork), so the child's PID is the
    # script's; subprocess kills it by PID on timeout.
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = -1, "the namespace run timed out: %s" % e
    sys.stdout.write(out)
    if rc == 77:
        return 77

    ck = standin.Checks()
    for line in out.splitlines():
        if line.startswith("inside: "):
            ip, ifl = line.split()[1:3]
            ck.passed += int(ip)
            ck.failed += int(ifl)
            break
    else:
        ck.check(False, "the namespace run reported its checks (rc %d)"
                 % rc)
    ck.check(rc in (0, 1), "the namespace run ended normally (rc %d)" % rc)
    after = (host_run_tor(), run_mounts())
    ck.check(after[0] == before[0], "the host's /run/tor is unchanged: "
             "%r, was %r" % (after[0], before[0]))
    ck.check(after[1] == before[1], "the host's mounts under /run are "
             "unchanged: %r, was %r" % (after[1], before[1]))
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
