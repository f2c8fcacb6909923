#!/usr/bin/env python3
"""The daemon's privileges and files (issue 17, items 5, 7 and 13).

  * the mail parser child: as root it runs as the parser user (nobody),
    with no supplementary groups, no capabilities (effective, permitted,
    inheritable, ambient, bounding), no_new_privs, its limits, and
    without the parent's EW_TOR_PASSWORD (read from /proc/<child>);
  * a child that crashes, answers garbage or hangs past --mail-timeout
    leaves its mail flagged in cur/, and the scan goes on;
  * SIGTERM to `run` while a long mail is being parsed: the daemon exits
    within a bound, the mails before it are stored, that mail and the
    ones after it stay in new/, and a later scan stores them (nothing
    lost);
  * files under umask 0 in an existing 0755 directory: database, WAL
    and shared-memory files, managed.policy and nft.state 0600, a new
    torrc fragment 0644 and an existing one's mode kept;
  * a read-only file system is reported as such (a tmpfs remounted
    read-only in a private mount namespace).

The misbehaving parsers use the test-only EW_TEST_PARSER hooks of Debug
builds.  Root-only parts skip (counted as passed checks are not made)
when not root.  Ends with "N passed, N failed".
"""

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

EW = os.path.abspath(sys.argv[1])
ROOT = os.geteuid() == 0
with open(EW, "rb") as _f:
    ASAN = b"__asan_init" in _f.read()
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def mail(mid, src="198.51.100.7", extra=""):
    return ("From: IRC Opers <opers@irc.example.net>\n"
            "To: abuse@relay.example\nSubject: Abuse from %s\n"
            "Date: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <%s>\n\n"
            "Hello,\n\non 2026-11-20 10:00:00 UTC we saw connections from "
            "%s\nto our server 203.0.113.5 on port 6667.%s\n"
            % (src, mid, src, extra))


def slow_mail(mid):
    # 40,000 bare addresses on one line: seconds of address pairing on
    # a tree where pairing is quadratic; the test hook makes it slow
    # anywhere
    addrs = " ".join("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
                     for i in range(40000))
    return mail(mid, extra="\n" + addrs)


def maildir(base, mails):
    md = os.path.join(base, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    for name, text in mails:
        with open(os.path.join(md, "new", name), "w") as f:
            f.write(text)
    return md


def ew(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([EW] + list(args), capture_output=True, text=True,
                       env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def proc_limits(pid):
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.readlines()[1:]:
            out[line[:26].strip()] = line[26:].split()[:2]
    return out


def wait_child(pid, marker, limit):
    """A child of pid whose cmdline has marker, within limit seconds."""
    t = time.time() + limit
    while time.time() < t:
        for c in children(pid):
            try:
                with open("/proc/%d/cmdline" % c, "rb") as f:
                    if marker in f.read():
                        return c
            except OSError:
                pass
        time.sleep(0.02)
    return None


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_child_identity(tmp):
    md = maildir(tmp, [("1.watched", mail("id1@x"))])
    db = os.path.join(tmp, "id.db")
    env = dict(os.environ, EW_TEST_PARSER="sleep=3",
               EW_TEST_PARSER_MATCH="watched",
               EW_TOR_PASSWORD="secret-control-password")
    p = subprocess.Popen([EW, "--db", db, "inbox", "scan", "--mail-timeout",
                          "20", md], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    child = wait_child(p.pid, b"__parse-mail", 10)
    check(child is not None, "a parser child appears")
    if child is not None:
        st = proc_status(child)
        lim = proc_limits(child)
        with open("/proc/%d/environ" % child, "rb") as f:
            environ = f.read()
        if ROOT:
            check(st["Uid"].split() == ["65534"] * 4,
                  "child uids are nobody's: %s" % st["Uid"])
            check(st["Gid"].split() == ["65534"] * 4,
                  "child gids are nobody's: %s" % st["Gid"])
            check(st["Groups"] == "", "no supplementary groups: %r"
                  % st["Groups"])
            check(int(st["CapBnd"], 16) == 0,
                  "empty bounding set: %s" % st["CapBnd"])
        for k in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            check(int(st[k], 16) == 0, "child %s is 0: %s" % (k, st[k]))
        check(st["NoNewPrivs"] == "1", "no_new_privs: %s" % st["NoNewPrivs"])
        check(lim["Max cpu time"][0] == "21", "cpu limit: %s"
              % lim["Max cpu time"])
        check(lim["Max file size"][0] == "0", "file size limit")
        if not ASAN:  # ASan needs both (shadow memory, leak tracer)
            check(lim["Max processes"][0] == "0", "process limit")
            check(lim["Max address space"][0] == str(3 << 30),
                  "address space limit: %s" % lim["Max address space"])
        check(lim["Max open files"][0] == "64", "open files limit")
        check(b"secret-control-password" not in environ,
              "the control password is not in the child's environment")
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0 and "1 added" in out,
          "the watched mail is stored after all: %s %s" % (out, err))


def test_bad_children(tmp):
    cases = [("crash", "killed by signal 6"),
             ("garbage", "malformed answer"),
             ("exit", "failed (status 3)"),
             ("sleep=60", "ran past 2 s")]
    for hook, says in cases:
        d = os.path.join(tmp, "bad-" + hook.split("=")[0])
        md = maildir(d, [("1.bad", mail("bad1-%s@x" % hook)),
                         ("2.good", mail("good2-%s@x" % hook))])
        t0 = time.time()
        rc, out, err = ew("--db", os.path.join(d, "x.db"), "inbox", "scan",
                          "--mail-timeout", "2", md,
                          env={"EW_TEST_PARSER": hook,
                               "EW_TEST_PARSER_MATCH": ".bad"})
        took = time.time() - t0
        print("%s: scan of 2 mails took %.2f s" % (hook, took))
        cur = sorted(os.listdir(os.path.join(md, "cur")))
        check(cur == ["1.bad:2,F", "2.good:2,S"],
              "%s: bad mail flagged, good one stored: %s %s %s"
              % (hook, cur, out, err))
        check(says in err, "%s: says %r: %r" % (hook, says, err))
        check("1 added" in out and "1 unreadable" in out,
              "%s: counts: %r" % (hook, out))
        check(took < 15, "%s: the scan took %.1f s" % (hook, took))


def test_sigterm(tmp):
    md = maildir(tmp, [("1.fast", mail("fast1@x")),
                       ("2.slow", slow_mail("slow2@x")),
                       ("3.fast", mail("fast3@x", "198.51.100.9"))])
    db = os.path.join(tmp, "term.db")
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\naccept *:*\n")
    env = dict(os.environ, EW_TEST_PARSER="sleep=60",
               EW_TEST_PARSER_MATCH="slow")
    p = subprocess.Popen([EW, "--db", db, "run", "--no-apply", "--interval",
                          "3600", "--maildir", md, "--policy", pol],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    t = time.time() + 20
    while time.time() < t and not os.path.exists(
            os.path.join(md, "cur", "1.fast:2,S")):
        time.sleep(0.02)
    check(os.path.exists(os.path.join(md, "cur", "1.fast:2,S")),
          "the first mail is stored")
    # the slow one is being parsed (no child on a tree without one)
    wait_child(p.pid, b"__parse-mail", 2)
    time.sleep(0.3)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    took = time.time() - t0
    print("run exited %.3f s after SIGTERM" % took)
    check(took < 3, "run exits %.2f s after SIGTERM (bound 3 s)" % took)
    check(p.returncode == 0 and "stopped by a signal" in out,
          "run says it stopped: %d %r %r" % (p.returncode, out, err))
    new = sorted(os.listdir(os.path.join(md, "new")))
    check(new == ["2.slow", "3.fast"],
          "the slow mail and the next stay in new/: %s" % new)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    n = con.execute("SELECT count(*) FROM complaints").fetchone()[0]
    con.close()
    check(n == 1, "one complaint stored before the signal: %d" % n)
    # nothing lost: a later scan takes the rest
    rc, out, err = ew("--db", db, "inbox", "scan", md, timeout=600)
    check(rc == 0 and os.listdir(os.path.join(md, "new")) == []
          and "2 added" in out, "a later scan stores the rest: %s %s"
          % (out, err))


def test_modes(tmp):
    d = os.path.join(tmp, "open")
    os.mkdir(d)
    os.chmod(d, 0o755)
    md = maildir(d, [("1.m", mail("mode1@x"))])
    pol = os.path.join(d, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\naccept *:*\n")
    db = os.path.join(d, "x.db")
    old = os.umask(0)
    try:
        p = subprocess.Popen([EW, "--db", db, "run", "--no-apply",
                              "--interval", "3600", "--maildir", md,
                              "--policy", pol], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        t = time.time() + 20
        while time.time() < t and os.listdir(os.path.join(md, "new")):
            time.sleep(0.02)
        time.sleep(0.2)
        # the daemon holds the database open: WAL and SHM exist now
        for f in ("x.db", "x.db-wal", "x.db-shm", "managed.policy"):
            path = os.path.join(d, f)
            check(os.path.exists(path) and mode(path) == 0o600,
                  "%s is 0600 under umask 0: %s" % (
                      f, oct(mode(path)) if os.path.exists(path) else "-"))
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)
        frag = os.path.join(d, "exitwarden.conf")
        rc, out, err = ew("tor", "emit", "-o", frag, pol)
        check(rc == 0 and mode(frag) == 0o644,
              "a new fragment is 0644 (tor reads it as its User): %s"
              % oct(mode(frag)))
        os.chmod(frag, 0o640)
        rc, out, err = ew("tor", "emit", "-o", frag, pol)
        check(rc == 0 and mode(frag) == 0o640,
              "a fragment made 0640 stays so: %s" % oct(mode(frag)))
        if ROOT and shutil.which("unshare") and shutil.which("nft"):
            state = os.path.join(d, "nft.state")
            r = subprocess.run(["unshare", "-n", EW, "nft", "apply",
                                "--state", state, pol],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0 and os.path.exists(state)
                  and mode(state) == 0o600,
                  "nft.state is 0600 under umask 0: %s %s" % (
                      oct(mode(state)) if os.path.exists(state) else "-",
                      r.stderr))
    finally:
        os.umask(old)


def test_readonly(tmp):
    if not ROOT or not shutil.which("unshare"):
        print("skip: read-only file system checks need root")
        return
    d = os.path.join(tmp, "ro")
    os.mkdir(d)
    script = ('mount -t tmpfs ew-ro "$2" && mount -o remount,ro "$2" && '
              'exec "$1" --db "$2/x.db" complaint list')
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh",
                        "-c", script, "sh", EW, d], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "Read-only file system" in r.stderr
          and "No such file" not in r.stderr,
          "new database on a read-only fs: %r" % r.stderr)
    script = ('mount -t tmpfs ew-ro "$2" && "$1" --db "$2/x.db" complaint '
              'list >/dev/null && mount -o remount,ro "$2" && '
              'exec "$1" --db "$2/x.db" complaint list')
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh",
                        "-c", script, "sh", EW, d], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "Read-only file system" in r.stderr,
          "existing database on a read-only fs: %r" % r.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="ew-privsep-")
    os.chmod(tmp, 0o755)  # the parser user reaches nothing here anyway
    try:
        for t in (test_child_identity, test_bad_children, test_sigterm,
                  test_modes, test_readonly):
            sub = os.path.join(tmp, t.__name__)
            os.mkdir(sub)
            t(sub)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
