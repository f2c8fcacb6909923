#!/usr/bin/env python3
"""exitwarden setup on a fake Debian tree (--root), with the real tor:
the system tor's torrc (like Debian's, with exit settings in it) and
two instances of tor-instance-create.

- setup -n prints a unified diff of every change and changes nothing;
- setup comments the taken-over options out (marked), moves them into
  the policy files, puts %include of the fragment directory last,
  backs every torrc up byte for byte, writes exitwarden.conf with the
  three relays; tor --verify-config takes each new torrc (checked again
  here, independently); a second setup changes nothing;
- setup --undo puts back byte-identical torrc files;
- a torrc tor refuses is left as it was (byte-identical), with tor's
  reason said, and no temporary file left behind;
- config check / show / --config / $EXITWARDEN_CONFIG, and a located
  error for a broken file;
- backup FILE: the copy opens and lists the same policy history.

Skips (77) without tor.  Usage: setup.py EXITWARDEN
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

EW = None
passed = failed = 0

DEBIAN_TORRC = """## Configuration file for a typical Tor user
## Last updated 28 February 2019 for Tor 0.3.5.1-alpha.
#SocksPort 9050 # Default: Bind to localhost:9050 for local connections.
SocksPort 0
#ORPort 9001
Nickname stockexit
ExitRelay 1
IPv6Exit 1
## Uncomment this if you want your relay to allow IRC
ExitPolicy accept *:80,accept *:443 \\
  ,accept *:22
exitpolicy reject *:*
ExitPolicyRejectPrivate 1
"""


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def ew(*args, env=None):
    p = subprocess.run([EW] + list(args), capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def snapshot(root):
    """Every file under root with the sha256 of its bytes."""
    out = {}
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(
                    fh.read()).hexdigest()
    return out


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def make_tree(root):
    write(os.path.join(root, "etc/tor/torrc"), DEBIAN_TORRC)
    # tor's defaults as the system tor's unit passes them, when the
    # machine has them (User debian-tor: tor checks the user exists)
    d = "/usr/share/tor/tor-service-defaults-torrc"
    if os.path.exists(d):
        write(os.path.join(root, d.lstrip("/")), read(d))
    write(os.path.join(root, "etc/tor/instances/exit1/torrc"),
          "+SocksPort auto\n")
    write(os.path.join(root, "etc/tor/instances/exit2/torrc"),
          "+SocksPort auto\nReducedExitPolicy 1\n")


def tor_verifies(root, torrc_rel, inc):
    """tor --verify-config of the torrc, its include made rooted."""
    text = read(os.path.join(root, torrc_rel))
    text = text.replace("%%include %s" % inc,
                        "%%include %s%s" % (root, inc))
    tmp = os.path.join(root, "verify.torrc")
    write(tmp, text)
    p = subprocess.run(["tor", "--verify-config", "--defaults-torrc",
                        "/dev/null", "-f", tmp], capture_output=True,
                       text=True, timeout=60)
    os.unlink(tmp)
    return p.returncode == 0


TORRCS = [("etc/tor/torrc", "/etc/tor/torrc.d/"),
          ("etc/tor/instances/exit1/torrc", "/etc/tor/instances/exit1/torrc.d/"),
          ("etc/tor/instances/exit2/torrc", "/etc/tor/instances/exit2/torrc.d/")]


def test_dry_run(root):
    before = snapshot(root)
    rc, out, err = ew("setup", "-n", "--root", root)
    check(rc == 0, "setup -n exits 0 (%d: %s)" % (rc, err))
    check("--- %s/etc/tor/torrc\n" % root in out, "-n: a diff of the torrc")
    check("-ExitRelay 1\n" in out and
          "+#exitwarden-setup# ExitRelay 1\n" in out,
          "-n: the taken-over option shown commented out")
    check("+%include /etc/tor/torrc.d/\n" in out, "-n: the include shown")
    check("+%include /etc/tor/instances/exit2/torrc.d/\n" in out,
          "-n: the instance's include shown")
    check("+++ %s/etc/exitwarden/exitwarden.conf" % root in out,
          "-n: the configuration shown")
    check("@@ -" in out, "-n: unified hunks")
    check(snapshot(root) == before, "-n changed nothing")
    check(not os.path.exists(os.path.join(root, "etc/tor/torrc.d")),
          "-n made no directory")


def test_setup(root, orig):
    rc, out, err = ew("setup", "--root", root)
    check(rc == 0, "setup exits 0 (%d: %s)" % (rc, err))
    for rel, inc in TORRCS:
        text = read(os.path.join(root, rel))
        lines = [l for l in text.splitlines()
                 if l.strip() and not l.lstrip().startswith("#")]
        check(lines and lines[-1] == "%include " + inc,
              "%s: the include is the last setting" % rel)
        check(not any(l.split()[0].lower().lstrip("+/") in
                      ("exitpolicy", "exitrelay", "ipv6exit",
                       "reducedexitpolicy", "exitpolicyrejectprivate")
                      for l in lines),
              "%s: no taken-over option left" % rel)
        check(os.path.isdir(root + inc), "%s: the directory exists" % inc)
        check(tor_verifies(root, rel, inc),
              "%s: tor --verify-config takes it" % rel)
        bks = [f for f in os.listdir(os.path.dirname(os.path.join(root, rel)))
               if f.startswith("torrc.exitwarden-backup-")]
        check(len(bks) == 1, "%s: one backup" % rel)
        if bks:
            with open(os.path.join(os.path.dirname(os.path.join(root, rel)),
                                   bks[0]), "rb") as f:
                check(hashlib.sha256(f.read()).hexdigest() == orig[rel],
                      "%s: the backup is the original byte for byte" % rel)
    text = read(os.path.join(root, "etc/tor/torrc"))
    check("#exitwarden-setup# ExitPolicy accept *:80,accept *:443 \\\n"
          "#exitwarden-setup#   ,accept *:22\n" in text,
          "a continued ExitPolicy commented out whole, marked")
    check("Nickname stockexit\n" in text, "other settings untouched")
    pol = read(os.path.join(root, "etc/exitwarden/exit.policy"))
    check("exitpolicy reject *:*\n" in pol and "IPv6Exit 1\n" in pol,
          "the moved lines are in the operator's policy")
    check("ReducedExitPolicy 1\n" in
          read(os.path.join(root, "etc/exitwarden/exit2.policy")),
          "the instance's moved line is in its policy")
    for name in ("exit.policy", "exit1.policy", "exit2.policy"):
        rc, _o, e = ew("policy", "check",
                       os.path.join(root, "etc/exitwarden", name))
        check(rc == 0, "policy check %s (%s)" % (name, e))
    conf = os.path.join(root, "etc/exitwarden/exitwarden.conf")
    rc, out, err = ew("config", "check", conf)
    check(rc == 0 and "3 relays: default, exit1, exit2" in out,
          "config check of what setup wrote: %s %s" % (out, err))
    text = read(conf)
    check('control "/run/tor-instances/exit1/control"' in text and
          'user "_tor-exit2"' in text and
          'cookie "/run/tor/control.authcookie"' in text,
          "exitwarden.conf has Debian's settings")
    # again: nothing to do
    after = snapshot(root)
    rc, out, err = ew("setup", "--root", root)
    check(rc == 0, "a second setup exits 0 (%s)" % err)
    check(snapshot(root) == after, "a second setup changes nothing")
    check(out.count("already includes the fragment last") == 3,
          "a second setup says so")


def test_undo(root, orig):
    rc, out, err = ew("setup", "--undo", "-n", "--root", root)
    check(rc == 0 and "would put back" in out, "undo -n (%s)" % err)
    rc, out, err = ew("setup", "--undo", "--root", root)
    check(rc == 0, "undo exits 0 (%s)" % err)
    now = snapshot(root)
    for rel, _inc in TORRCS:
        check(now.get(rel) == orig[rel],
              "%s: byte-identical after --undo" % rel)
    check(not [f for f in now if ".exitwarden-backup-" in f],
          "the backups used are removed")


def test_refused(root):
    bad = os.path.join(root, "etc/tor/instances/exit2/torrc")
    write(bad, "+SocksPort auto\nBogusOption 1\nExitPolicy reject *:*\n")
    before = snapshot(root)
    rc, out, err = ew("setup", "--root", root)
    check(rc == 1, "a torrc tor refuses: exit 1 (%d)" % rc)
    check("Unknown option 'BogusOption'" in err,
          "tor's reason said: %s" % err)
    check("left as it was" in err and "no torrc changed" in err,
          "says the torrc was left, and that none changed")
    check(snapshot(root) == before,
          "nothing changed, the other relays' torrc neither")
    left = [f for f in snapshot(root)
            if "exitwarden-verify" in f or "exitwarden-backup" in f]
    check(left == [], "no temporary file or backup left: %s" % left)


def test_made_dirs_removed(tmp):
    """A failed setup removes the fragment directories it made."""
    root = os.path.join(tmp, "root2")
    write(os.path.join(root, "etc/tor/torrc"), "SocksPort 0\n")
    write(os.path.join(root, "etc/tor/instances/x/torrc"), "Bogus 1\n")
    before = snapshot(root)
    rc, out, err = ew("setup", "--root", root)
    check(rc == 1, "setup with a refused instance fails")
    check(snapshot(root) == before, "no file changed")
    check(not os.path.exists(os.path.join(root, "etc/tor/torrc.d")) and
          not os.path.exists(os.path.join(root, "etc/tor/instances/x/torrc.d")),
          "the directories it made are gone")


def test_config(tmp):
    conf = os.path.join(tmp, "c.conf")
    write(conf, 'database "%s/x.db"\nrelay r1 {\n\tcontrol 127.0.0.1:9\n'
          '\tuser nobody\n}\n' % tmp)
    env = dict(os.environ)
    env.pop("EW_DB", None)
    rc, out, err = ew("--config", conf, "config", "show", env=env)
    check(rc == 0 and 'database "%s/x.db"' % tmp in out and
          'control "127.0.0.1:9"' in out, "config show --config: " + out)
    env["EXITWARDEN_CONFIG"] = conf
    rc, out2, err = ew("config", "show", env=env)
    check(rc == 0 and out2 == out, "$EXITWARDEN_CONFIG is read")
    env["EW_DB"] = os.path.join(tmp, "env.db")
    rc, out, err = ew("config", "show", env=env)
    check('database "%s/env.db"' % tmp in out,
          "the environment overrides the file")
    rc, out, err = ew("--db", os.path.join(tmp, "cli.db"), "config",
                      "show", env=env)
    check('database "%s/cli.db"' % tmp in out,
          "the command line overrides both")
    # the file's relay is the commands' default: tor status goes to it
    rc, out, err = ew("tor", "status", "--timeout", "1", env=env)
    check(rc != 0 and "control port 9:" in err,
          "tor status uses the file's control endpoint: " + err)
    rc, out, err = ew("tor", "status", "--timeout", "1", "--control",
                      "127.0.0.1:10", env=env)
    check("control port 10:" in err, "--control overrides it: " + err)
    # a broken file: located, and every command refuses it
    write(conf, "relay r1 {\n\tcontrol localhost\n}\n")
    rc, out, err = ew("config", "check", conf)
    check(rc == 1 and "c.conf:2:10-18: error: malformed control endpoint"
          in err, "config check locates the error: " + err)
    rc, out, err = ew("ticket", "list", env=env)
    check(rc == 1 and "c.conf:2:10-18" in err,
          "a command refuses a broken configuration: " + err)
    rc, out, err = ew("--config", os.path.join(tmp, "none.conf"),
                      "ticket", "list", env=env)
    check(rc == 1 and "no configuration file there" in err,
          "a --config naming no file is an error")


def test_backup(tmp):
    db = os.path.join(tmp, "b.db")
    pol = os.path.join(tmp, "p.policy")
    write(pol, "accept *:443\nreject *:*\n")
    empty = os.path.join(tmp, "empty.conf")
    write(empty, "")
    env = dict(os.environ, EW_DB=db, EXITWARDEN_CONFIG=empty)
    rc, _o, err = ew("policy", "record", "--at", "2026-11-01T00:00:00Z",
                     pol, env=env)
    check(rc == 0, "policy record (%s)" % err)
    copy = os.path.join(tmp, "copy.db")
    rc, out, err = ew("backup", copy, env=env)
    check(rc == 0, "backup exits 0 (%s)" % err)
    check(os.stat(copy).st_mode & 0o777 == 0o600, "the copy is 0600")
    rc, h1, _e = ew("policy", "history", "--json", env=env)
    env["EW_DB"] = copy
    rc2, h2, _e = ew("policy", "history", "--json", env=env)
    check(rc == 0 and rc2 == 0 and h1 == h2 and
          json.loads(h2) != [], "the copy has the same history")
    rc, out, err = ew("backup", os.path.join(tmp, "no/such/dir/x.db"),
                      env=dict(env, EW_DB=db))
    check(rc == 1 and "backup to" in err, "a backup that cannot be "
          "written fails, said: " + err)


def main():
    global EW
    EW = os.path.abspath(sys.argv[1])
    if shutil.which("tor") is None:
        print("no tor: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="ew-setup-")
    try:
        root = os.path.join(tmp, "root")
        make_tree(root)
        orig = snapshot(root)
        test_dry_run(root)
        test_setup(root, orig)
        test_undo(root, orig)
        test_refused(root)
        test_made_dirs_removed(tmp)
        test_config(tmp)
        test_backup(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
