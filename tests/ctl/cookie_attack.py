#!/usr/bin/env python3
"""A fake tor control port run by an unprivileged user against a root
exitwarden (issue 17, item 4).

The fake server (a child that becomes `nobody` before it binds, on
127.0.0.1 TCP or on a Unix socket) answers PROTOCOLINFO with a
COOKIEFILE of its choosing and records every line it receives.  The
attack: it names a root-only 32-byte file; `exitwarden tor status` run
as root must neither send that file's bytes (AUTHENTICATE) nor use it
(AUTHCHALLENGE).  Also: SAFECOOKIE against a server that cannot prove
the cookie is refused before anything derived from the cookie is sent;
plain COOKIE goes only to a listener whose user owns the file, even one
given with --cookie; and, as the control, a server naming a file its own
user owns does get the cookie (the harness can see a send).

Needs root (skips with 77 otherwise).  Ends with "N passed, N failed".
"""

import os
import pwd
import secrets
import select
import socket
import subprocess
import sys
import tempfile
import time

EW = os.path.abspath(sys.argv[1])
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def serve(methods, cookiefile, unix_path=None, serverhash=None):
    """Fork the fake server as nobody.  Returns (pid, address, read end
    of the pipe carrying the lines it received)."""
    r, w = os.pipe()
    ar, aw = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.close(ar)
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            if unix_path:
                ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                ls.bind(unix_path)
                where = unix_path
            else:
                ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                ls.bind(("127.0.0.1", 0))
                where = "127.0.0.1:%d" % ls.getsockname()[1]
            ls.listen(1)
            os.write(aw, where.encode() + b"\n")
            ls.settimeout(15)
            c, _ = ls.accept()
            c.settimeout(15)
            f = c.makefile("rb")
            for raw in f:
                os.write(w, raw)
                line = raw.decode("ascii", "replace").strip()
                if line.startswith("PROTOCOLINFO"):
                    out = ('250-PROTOCOLINFO 1\r\n250-AUTH METHODS=%s '
                           'COOKIEFILE="%s"\r\n250-VERSION Tor="0.4.9.11"'
                           '\r\n250 OK\r\n' % (methods, cookiefile))
                elif line.startswith("AUTHCHALLENGE"):
                    out = ("250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s"
                           "\r\n" % (serverhash or secrets.token_hex(32),
                                     secrets.token_hex(32)))
                elif line.startswith("AUTHENTICATE"):
                    out = "250 OK\r\n"
                else:
                    out = "510 Unrecognized command\r\n"
                c.sendall(out.encode())
        except Exception as e:  # the child must never return
            os.write(w, ("# server error %r\n" % e).encode())
        os._exit(0)
    os.close(w)
    os.close(aw)
    where = b""
    while not where.endswith(b"\n"):
        ready, _, _ = select.select([ar], [], [], 10)
        if not ready:
            break
        chunk = os.read(ar, 256)
        if not chunk:
            break
        where += chunk
    os.close(ar)
    return pid, where.decode().strip(), r


def run(where, *extra):
    p = subprocess.run([EW, "tor", "status", "--control", where,
                        "--timeout", "5"] + list(extra),
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, EW_DB=":memory:"))
    return p.returncode, p.stdout + p.stderr


def received(pid, r):
    deadline = time.time() + 10
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    return data.decode("ascii", "replace")


def scenario(name, methods, cookiefile, unix_path=None, extra=(),
             serverhash=None):
    pid, where, r = serve(methods, cookiefile, unix_path, serverhash)
    check(where != "", "%s: the fake server started" % name)
    rc, out = run(where, *extra)
    lines = received(pid, r)
    return rc, out, lines


def main():
    if os.geteuid() != 0:
        print("skip: needs root (the attack is on a root exitwarden)")
        return 77
    tmp = tempfile.mkdtemp(prefix="ew-cookie-")
    os.chmod(tmp, 0o755)
    nobody = pwd.getpwnam("nobody")
    try:
        secret = os.path.join(tmp, "root-only")
        sbytes = secrets.token_bytes(32)
        with open(secret, "wb") as f:
            f.write(sbytes)
        os.chmod(secret, 0o600)
        shex = sbytes.hex().upper()

        theirs = os.path.join(tmp, "nobody-cookie")
        tbytes = secrets.token_bytes(32)
        with open(theirs, "wb") as f:
            f.write(tbytes)
        os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
        os.chmod(theirs, 0o600)

        sockdir = os.path.join(tmp, "sock")
        os.mkdir(sockdir)
        os.chown(sockdir, nobody.pw_uid, nobody.pw_gid)

        # 1. the attack over TCP: plain COOKIE naming a root-only file
        rc, out, lines = scenario("tcp COOKIE", "COOKIE", secret)
        check(rc != 0, "tcp COOKIE attack: status fails (%d)" % rc)
        check(shex not in lines.upper(),
              "tcp COOKIE attack: the root-only file's bytes were sent")
        check("AUTHENTICATE" not in lines,
              "tcp COOKIE attack: AUTHENTICATE sent: %r" % lines)
        check("refusing the cookie file" in out,
              "tcp COOKIE attack: says why: %r" % out)

        # 2. the same on a Unix socket (SO_PEERCRED)
        rc, out, lines = scenario("unix COOKIE", "COOKIE", secret,
                                  os.path.join(sockdir, "control"))
        check(rc != 0, "unix COOKIE attack: status fails (%d)" % rc)
        check(shex not in lines.upper() and "AUTHENTICATE" not in lines,
              "unix COOKIE attack: cookie sent: %r" % lines)
        check("refusing the cookie file" in out,
              "unix COOKIE attack: says why: %r" % out)
        os.unlink(os.path.join(sockdir, "control"))

        # 3. SAFECOOKIE offered, root-only file named: not even used
        rc, out, lines = scenario("tcp SAFECOOKIE", "COOKIE,SAFECOOKIE",
                                  secret)
        check(rc != 0, "tcp SAFECOOKIE attack: status fails")
        check("AUTHCHALLENGE" not in lines and "AUTHENTICATE" not in lines,
              "tcp SAFECOOKIE attack: the root-only file was used: %r"
              % lines)

        # 4. SAFECOOKIE with the operator's cookie, server cannot prove
        # it knows it: refused before AUTHENTICATE
        rc, out, lines = scenario("tcp SAFECOOKIE wrong hash",
                                  "COOKIE,SAFECOOKIE", theirs,
                                  extra=("--cookie", secret))
        check(rc != 0, "SAFECOOKIE wrong server hash: status fails")
        check("AUTHCHALLENGE SAFECOOKIE" in lines,
              "SAFECOOKIE wrong server hash: a challenge was sent: %r"
              % lines)
        check("AUTHENTICATE" not in lines.replace("AUTHCHALLENGE", ""),
              "SAFECOOKIE wrong server hash: AUTHENTICATE sent: %r" % lines)
        check("server hash is wrong" in out,
              "SAFECOOKIE wrong server hash: says so: %r" % out)

        # 5. plain COOKIE only, --cookie given, listener not the owner
        rc, out, lines = scenario("tcp COOKIE --cookie", "COOKIE", theirs,
                                  extra=("--cookie", secret))
        check(rc != 0 and "AUTHENTICATE" not in lines
              and shex not in lines.upper(),
              "COOKIE-only to a listener not owning --cookie: sent: %r"
              % lines)

        # 6. control: a file the listener's user owns is theirs to have
        rc, out, lines = scenario("tcp COOKIE own file", "COOKIE", theirs)
        check(("AUTHENTICATE " + tbytes.hex().upper()) in lines.upper(),
              "COOKIE with the listener's own file: AUTHENTICATE sent: %r"
              % (lines + out))
        # ... and over the Unix socket
        rc, out, lines = scenario("unix COOKIE own file", "COOKIE", theirs,
                                  os.path.join(sockdir, "control"))
        check(("AUTHENTICATE " + tbytes.hex().upper()) in lines.upper(),
              "unix COOKIE with the listener's own file: sent: %r"
              % (lines + out))
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
