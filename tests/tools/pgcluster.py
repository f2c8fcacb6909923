#!/usr/bin/env python3
"""pgcluster.py - run a command against a throwaway PostgreSQL cluster.

    pgcluster.py [--var NAME] [--set NAME=VALUE]... -- COMMAND [ARG...]

initdb makes a new cluster in a temporary directory, owned by an
unprivileged user (the `postgres` system user when run as root: initdb
and postgres refuse to run as root), and the server is started on a Unix
socket in that directory only (listen_addresses='', no TCP), with
fsync=off; the port number is random and only names the socket.  COMMAND
runs with NAME (default EW_TEST_PG) set to a libpq keyword string for
the cluster ("host=DIR port=N user=postgres dbname=postgres").  --set
passes a server setting (-c NAME=VALUE after the defaults: a benchmark's
max_connections).  Then the server is stopped by its own PID and the
directory removed, whatever COMMAND did.  The exit status is COMMAND's; 77 (skip) when the server
binaries (/usr/lib/postgresql/*/bin/initdb) are not installed.

Never the system cluster: nothing outside the temporary directory is
used, and every program runs from an argv list, never a shell string.
"""
import ctypes
import glob
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4])
                   if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def as_user():
    """The user to run the server as, and the Popen arguments for it."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def die_with_parent():
    """In the server's child before exec: a fast shutdown (SIGINT) when
    pgcluster itself dies, even by SIGKILL (a ctest timeout), so no
    server outlives its test."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)


class Cluster:
    def __init__(self, bin_dir, settings=()):
        self.bin = bin_dir
        self.settings = list(settings)
        self.dir = tempfile.mkdtemp(prefix="ew-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.port = random.randint(20000, 60000)
        self.proc = None
        self.who = as_user()
        if self.who:
            os.chown(self.dir, self.who["user"], self.who["group"])
        os.chmod(self.dir, 0o700)

    def conninfo(self):
        return "host=%s port=%d user=postgres dbname=postgres" % (
            self.dir, self.port)

    def run(self, argv, **kw):
        return subprocess.run(argv, cwd=self.dir, env=self.env(), check=True,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, **self.who, **kw)

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        e["LC_ALL"] = "C.UTF-8"
        return e

    def start(self):
        t0 = time.monotonic()
        self.run([os.path.join(self.bin, "initdb"), "-D", self.data,
                  "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync"])
        return self.launch(t0)

    def launch(self, t0=None):
        """Start the server on the cluster made by start() (again after
        a stop(): tests of an outage); seconds until it is ready."""
        t0 = time.monotonic() if t0 is None else t0
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "postgres"), "-D", self.data,
             "-k", self.dir, "-p", str(self.port),
             "-c", "listen_addresses=", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=50"] +
            [a for kv in self.settings for a in ("-c", kv)],
            cwd=self.dir, env=self.env(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent, **self.who)
        log.close()
        pidfile = os.path.join(self.data, "postmaster.pid")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %d"
                                   % self.proc.returncode)
            try:
                with open(pidfile) as f:
                    lines = f.read().split("\n")
                if (len(lines) > 7 and lines[0] == str(self.proc.pid)
                        and lines[7].strip() == "ready"):
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("postgres did not become ready in 60 s")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGQUIT)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()

    def tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    var = "EW_TEST_PG"
    settings = []
    while len(argv) > 2 and argv[1] in ("--var", "--set"):
        if argv[1] == "--var":
            var = argv[2]
        elif "=" in argv[2]:
            settings.append(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    cmd = argv[2:]
    b = bindir()
    if b is None:
        print("pgcluster: no PostgreSQL server (/usr/lib/postgresql/*/bin/"
              "initdb): skipped")
        return 77
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, stop_on_signal)
    c = Cluster(b, settings)
    try:
        try:
            took = c.start()
        except (RuntimeError, subprocess.CalledProcessError) as e:
            err = getattr(e, "stderr", b"") or b""
            print("pgcluster: cannot start a cluster: %s\n%s%s" % (
                e, err.decode(errors="replace"), c.tail()), file=sys.stderr)
            return 1
        print("pgcluster: %s up in %.2f s (socket %s, port %d)"
              % (os.path.basename(os.path.dirname(b)), took, c.dir, c.port),
              flush=True)
        env = dict(os.environ)
        env[var] = c.conninfo()
        rc = subprocess.run(cmd, env=env).returncode
        if rc != 0:
            print("pgcluster: server log tail:\n" + c.tail(), file=sys.stderr)
        return rc
    finally:
        c.stop()
        c.remove()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
