"""Stand-in relays and small helpers shared by the tests that run
exitwarden against real tor processes without a network (repair.py,
debian_ops.py); at the end, the prerequisites and the teardown of the
tests on e2e.py's private tor network (guard_story.py, web/story.py).

A stand-in is a throw-away tor with DisableNetwork 1, its own data
directory and control cookie, started and stopped by PID.  Subclasses
say how it is configured (a torrc of its own, or Debian's instance
layout) and where its control endpoint is (`connect()`).
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import torharness


def enter_or_skip(script, argv):
    """What a stand-in test needs: tor, nft, root and a network namespace
    of its own (the script runs again inside one).  The tor binary, or
    None after saying why the test is skipped (exit 77)."""
    tor = torharness.tor_binary(None)
    if tor is None or shutil.which("nft") is None:
        print("skipped: needs tor and nft")
        return None
    if os.geteuid() != 0:
        print("skipped: needs root (nftables in a network namespace)")
        return None
    torharness.enter_netns(os.path.abspath(script), argv)
    if os.environ.get("EW_IN_NETNS") != "1":
        print("skipped: no network namespace")
        return None
    return tor


class Checks:
    """ok:/FAIL: lines and the counts for "N passed, N failed"."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print("ok: " + what)
        else:
            self.failed += 1
            print("FAIL: " + what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, step=0.05):
    """Seconds until cond() is true, or None after timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def nft_table():
    """table inet exitwarden as nft lists it, or None."""
    p = subprocess.run(["nft", "list", "table", "inet", "exitwarden"],
                       capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def stop_proc(p, grace):
    """SIGTERM to a process started here, SIGKILL after grace seconds."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_all(daemon, tors):
    """The end of a stand-in run: exitwarden's daemon (or None), then the
    stand-in tors, then our table."""
    if daemon is not None:
        stop_proc(daemon, 15)
    for t in tors:
        t.stop()
    subprocess.run(["nft", "delete", "table", "inet", "exitwarden"],
                   capture_output=True)


def read_text(path):
    """The file's text, or "" when it cannot be read."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def run_output(ck, path):
    """What the daemon wrote to path ("" when there is no such file),
    checked for a sanitizer's report."""
    out = read_text(path)
    ck.check("Sanitizer" not in out and "runtime error" not in out,
             "run's output has no sanitizer report")
    return out


class UnixControl(torharness.ControlConnection):
    """The harness's control client on a ControlSocket (Debian's)."""

    def __init__(self, path, timeout):  # noqa: super not called on purpose
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""


class StandinTor:
    """One tor started here.  A subclass sets self.name, self.cookie and
    self.argv (the command line) and defines connect(timeout)."""

    proc = None

    def before_start(self):
        """Remove what a previous run left (its cookie, its socket)."""
        try:
            os.unlink(self.cookie)
        except FileNotFoundError:
            pass

    def start(self):
        self.before_start()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tor %s exited" % self.name)
            try:
                if os.path.getsize(self.cookie) == 32:
                    self.ctl().close()
                    return
            except (OSError, RuntimeError, torharness.HarnessError):
                pass
            time.sleep(0.05)
        raise RuntimeError("tor %s did not start" % self.name)

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc, 10)
        self.proc = None

    def ctl(self):
        """An authenticated control connection (the cookie's bytes)."""
        with open(self.cookie, "rb") as f:
            cookie = f.read().hex()
        c = self.connect(10)
        status, entries = c.command("AUTHENTICATE " + cookie)
        if status != "250":
            c.close()
            raise RuntimeError("AUTHENTICATE: %s" % entries)
        return c

    def _ask(self, command, reply):
        try:
            c = self.ctl()
        except (OSError, RuntimeError, torharness.HarnessError):
            return None
        try:
            status, entries = c.command(command)
            return reply(status, entries)
        except (OSError, torharness.HarnessError):
            return None
        finally:
            c.close()

    def getconf(self):
        """GETCONF ExitPolicy: what tor was configured with, one string,
        or None."""
        return self._ask("GETCONF ExitPolicy", lambda s, e: " | ".join(
            t for _, t, _ in e))

    def policy(self):
        """GETINFO exit-policy/full, one string, or None (also while tor
        says its descriptor is still being rebuilt after a start)."""
        def full(status, entries):
            if status != "250":
                return None
            lines = []
            for _, t, data in entries:
                lines += [t] + list(data or [])
            return " | ".join(lines)
        return self._ask("GETINFO exit-policy/full", full)

    def wait_policy(self, timeout=10):
        """exit-policy/full once tor can say it."""
        p = None
        deadline = time.monotonic() + timeout
        while p is None and time.monotonic() < deadline:
            p = self.policy()
            if p is None:
                time.sleep(0.1)
        return p

    def setconf(self, value):
        """SETCONF ExitPolicy, as another controller would: the status."""
        c = self.ctl()
        try:
            return c.command('SETCONF ExitPolicy="%s"' % value)[0]
        finally:
            c.close()


# ---- the tests on the private tor network of e2e.py (e2e.Net): the
# guard's story (guard_story.py) and the self-service one (web/story.py)

def private_net_needs(tor_arg, exit_user, skip):
    """tor, tor-gencert, root, nft and the exit's user: (tor, gencert,
    the user's pwd entry), or skip(why) (which exits)."""
    tor = torharness.tor_binary(tor_arg)
    gencert = shutil.which("tor-gencert")
    if tor is None:
        skip("tor is not installed")
    if gencert is None:
        skip("tor-gencert is not installed")
    if os.geteuid() != 0:
        skip("needs root (a network namespace, nftables, the exit's "
             "uid)")
    if shutil.which("nft") is None:
        skip("nft is not installed")
    try:
        pw = pwd.getpwnam(exit_user)
    except KeyError:
        skip("no user %s for the exit" % exit_user)
    return tor, gencert, pw


def private_net_enter(script, argv, parent_env, skip):
    """The script runs again inside a network namespace of its own (the
    parent's in the environment variable parent_env); skip(why) when
    none can be made.  False, after saying FAIL, when the namespace is
    not a new one."""
    if os.environ.get(torharness._NETNS_ENV) != "1":
        if shutil.which("unshare") is None or subprocess.run(
                ["unshare", "-n", "true"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode != 0:
            skip("cannot create a network namespace (unshare -n)")
    os.environ.setdefault(parent_env, os.readlink("/proc/self/ns/net"))
    if not torharness.enter_netns(os.path.abspath(script), argv):
        skip("cannot create a network namespace")
    if os.readlink("/proc/self/ns/net") == os.environ[parent_env]:
        print("FAIL: not in a new network namespace")
        return False
    return True


def private_net_run(st, net, work, t_all, scenario, run_out, keep):
    """scenario(servers), a harness error in it a failed check; then the
    teardown: the tors (by PID, each checked to have ended), the echo
    servers it put in servers, run's output (run_out()) shown after a
    failure, our table, the work directory (unless keep).  The closing
    lines; the exit status."""
    servers = []
    try:
        scenario(servers)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        st.check(False, "harness: %r" % e)
    finally:
        net.stop()
        if net.procs:
            st.check(all(p.poll() is not None
                         for p in net.procs.values()),
                     "every tor process started here has ended")
        for s in servers:
            s.close()
        if st.failed:
            print("--- exitwarden run output ---\n" + run_out()[-3000:])
        subprocess.run(["nft", "delete", "table", "inet", "exitwarden"],
                       capture_output=True)
        if keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("total %.1f s" % (time.monotonic() - t_all))
    print("%d passed, %d failed" % (st.passed, st.failed))
    return 1 if st.failed else 0
