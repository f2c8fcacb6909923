#!/usr/bin/env python3
"""Two relays of one Debian host, run from exitwarden.conf alone (issue 13).

A Debian-style tree in a temporary directory: two instances as
tor-instance-create makes them (/etc/tor/instances/alpha/torrc and
beta's, with the operator's exit settings in them) and a stand-in for
tor's instance defaults (DataDirectory, ControlSocket and cookie under
/run/tor-instances/NAME, as tor@.service passes them).  `exitwarden setup
--root` edits both torrc files and writes exitwarden.conf; the test makes
that configuration name the tree's paths and users of this machine (two
distinct uids), starts the two tors (DisableNetwork 1: no tor network
needed, in a fresh network namespace, never the host's ruleset) and then
uses nothing but the configuration (no --relay, no --control):

  * `apply` makes both enforce their managed policies, in tor and in the
    one table (a uid verdict map to each relay's chain);
  * a tor restart keeps the policy (the %include of the fragment);
  * `block add --relay alpha` and `block remove` touch alpha only: beta's
    exit-policy/full and beta's chain are byte for byte the same;
    `block list` names the relay; `apply` of the operator's file keeps
    the block;
  * `exitwarden run` repairs a SETCONF from another controller, an
    `nft flush ruleset` and a tor restart within its interval, and
    expires a block in tor and the kernel within a second; `status`
    shows every relay and the repairs.

Latencies are printed.  Only processes started here are stopped, by
PID.  Ends with "N passed, N failed"; exit 77 only without tor, nft,
root or a network namespace.  Usage: debian_ops.py EXITWARDEN
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standin  # noqa: E402
import torharness  # noqa: E402

REPAIR = 1  # --repair-interval, seconds
LIMIT = REPAIR + 3.0  # a repair within its interval (+ the apply)
BLOCK = "192.0.2.77"


Checks = standin.Checks
wait_for = standin.wait_for
nft_table = standin.nft_table


DEFAULTS = """# stand-in for tor-service-defaults-torrc-instances
DataDirectory {root}/var/lib/tor-instances/@@NAME@@
ControlSocket {root}/run/tor-instances/@@NAME@@/control
CookieAuthentication 1
CookieAuthFile {root}/run/tor-instances/@@NAME@@/control.authcookie
SocksPort 0
DisableNetwork 1
AssumeReachable 1
PublishServerDescriptor 0
AvoidDiskWrites 1
ShutdownWaitLength 0
ServerDNSDetectHijacking 0
ServerDNSTestAddresses
ServerDNSResolvConfFile {root}/resolv.conf
GeoIPFile {root}/empty
GeoIPv6File {root}/empty
Log notice file {root}/var/log/tor-@@NAME@@.log
"""


class Tor(standin.StandinTor):
    """One Debian instance: tor --defaults-torrc (its instance defaults)
    -f /etc/tor/instances/NAME/torrc, as tor@NAME runs it."""

    def __init__(self, tor, root, name, orport):
        self.root, self.name = root, name
        self.run = os.path.join(root, "run/tor-instances", name)
        self.control = os.path.join(self.run, "control")
        self.cookie = os.path.join(self.run, "control.authcookie")
        self.torrc = os.path.join(root, "etc/tor/instances", name, "torrc")
        self.defaults = os.path.join(root, "defaults-%s.torrc" % name)
        os.makedirs(os.path.dirname(self.torrc))
        with open(self.torrc, "w") as f:
            # what an operator writes into an instance's torrc
            f.write("Nickname ew%s\nORPort 127.0.0.1:%d\n"
                    "ContactInfo ew-%s\nExitRelay 1\n"
                    "ExitPolicy accept *:*\n" % (name, orport, name))
        with open(self.defaults, "w") as f:
            f.write(DEFAULTS.format(root=root).replace("@@NAME@@", name) +
                    "__OwningControllerProcess %d\n" % os.getpid())
        os.makedirs(os.path.join(root, "var/lib/tor-instances", name),
                    0o700)
        self.argv = [tor, "--defaults-torrc", self.defaults, "-f",
                     self.torrc]

    def before_start(self):
        os.makedirs(self.run, 0o700, exist_ok=True)
        os.chmod(self.run, 0o700)
        for p in (self.cookie, self.control):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def connect(self, timeout):
        return standin.UnixControl(self.control, timeout)


def chain(table, name):
    """Everything of one relay in the table (its chain, sets, counters,
    named with its prefix), counter values left out: what another
    relay's change must leave byte for byte."""
    parts = re.findall(r"\t(?:chain|set|map|counter) (%s_\w*) \{(.*?)\n\t\}"
                       % name, table or "", re.S)
    if not parts:
        return None
    return re.sub(r"packets \d+ bytes \d+", "",
                  "\n".join("%s{%s}" % p for p in parts))


def users():
    """Two users of this machine with distinct uids (the relays')."""
    out = []
    for n in ("debian-tor", "nobody", "daemon", "bin"):
        try:
            uid = pwd.getpwnam(n).pw_uid
        except KeyError:
            continue
        if uid not in [u for _, u in out]:
            out.append((n, uid))
    return out[:2]


def rooted_conf(root, text, us):
    """setup's configuration (Debian's paths and _tor-NAME users) made to
    name the tree's paths and this machine's users; the database too."""
    for d in ("/etc/", "/run/", "/var/"):
        text = text.replace('"%s' % d, '"%s%s' % (root, d))
    for name, (user, _) in zip(("alpha", "beta"), us):
        text = text.replace('user "_tor-%s"' % name, 'user "%s"' % user)
    return 'database "%s/var/lib/exitwarden/exitwarden.db"\n' % root + text


def one_relay(ck, ew, root, us, env):
    """A configuration of one relay works as the host's only relay
    (managed.policy, --relay NAME may name it, another name is a usage
    error); a relay whose user does not exist is refused, said."""
    d = os.path.join(root, "one")
    os.makedirs(d)
    pol = os.path.join(d, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\naccept *:*\n")
    conf = os.path.join(d, "one.conf")
    with open(conf, "w") as f:
        f.write('database "%s/ew.db"\npolicy "%s"\nrelay solo {\n'
                '\tcontrol "127.0.0.1:1"\n\tuser "%s"\n}\n'
                % (d, pol, us[0][0]))
    e = dict(env, EXITWARDEN_CONFIG=conf)

    def run(*args):
        p = subprocess.run([ew] + list(args), env=e, capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    rc, out = run("block", "add", "--relay", "solo", "--no-apply",
                  "reject 192.0.2.1:25")
    ck.check(rc == 0 and os.path.exists(os.path.join(d, "managed.policy"))
             and not os.path.exists(os.path.join(d, "managed-solo.policy")),
             "one relay in the file: the host's only relay (%s)"
             % out.strip().splitlines()[-1:])
    rc, out = run("block", "add", "--relay", "other", "--no-apply",
                  "reject 192.0.2.2:25")
    ck.check(rc == 2 and "no such relay" in out,
             "one relay: --relay of another name is refused: %s"
             % out.strip())
    with open(conf, "a") as f:
        f.write('relay two {\n\tcontrol "127.0.0.1:2"\n'
                '\tuser "ew-no-such-user"\n}\n')
    rc, out = run("block", "add", "--no-apply", "reject 192.0.2.3:25")
    ck.check(rc == 1 and "relay two: no user 'ew-no-such-user'" in out,
             "a relay whose user does not exist: said, nothing done: %s"
             % out.strip())
    rc, out = run("block", "list")
    ck.check("192.0.2.3" not in out, "and no block stored")


def main():
    tor = standin.enter_or_skip(__file__, sys.argv[1:])
    if tor is None:
        return 77
    us = users()
    if len(us) < 2:
        print("skipped: needs two users with distinct uids")
        return 77
    ew = os.path.abspath(sys.argv[1])
    ck = Checks()
    root = tempfile.mkdtemp(prefix="ew-debian-")
    os.chmod(root, 0o755)
    tors = {}
    daemon = None
    conf = os.path.join(root, "etc/exitwarden/exitwarden.conf")
    env = dict(os.environ)
    for k in ("EW_NOW", "EW_DB", "EW_POLICY", "EW_MANAGED",
              "EXITWARDEN_CONFIG"):
        env.pop(k, None)
    env["EXITWARDEN_CONFIG"] = conf

    def ew_run(*args, show=False):
        p = subprocess.run([ew] + list(args), env=env, capture_output=True,
                           text=True, timeout=120)
        if show or p.returncode != 0:
            print("$ exitwarden %s   (exit %d)\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p.returncode, p.stdout, p.stderr

    try:
        for f in ("empty",):
            open(os.path.join(root, f), "w").close()
        with open(os.path.join(root, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        os.makedirs(os.path.join(root, "var/log"))
        for name, port in (("alpha", 19101), ("beta", 19102)):
            tors[name] = Tor(tor, root, name, port)

        # --- setup: the torrc edits and exitwarden.conf
        rc, out, err = ew_run("setup", "-n", "--root", root)
        ck.check(rc == 0 and "+%include /etc/tor/instances/alpha/torrc.d/"
                 in out, "setup -n shows the include")
        rc, out, err = ew_run("setup", "--root", root)
        ck.check(rc == 0, "setup --root edits both instances")
        for name in ("alpha", "beta"):
            t = open(tors[name].torrc).read()
            ck.check("#exitwarden-setup# ExitPolicy accept *:*" in t and
                     t.rstrip().endswith(
                         "%%include /etc/tor/instances/%s/torrc.d/" % name),
                     "%s's torrc: its policy moved out, the include last"
                     % name)
            # the real tree would read /etc/...: here the tree's path
            with open(tors[name].torrc, "w") as f:
                f.write(t.replace("%include /etc/", "%%include %s/etc/"
                                  % root))
        text = rooted_conf(root, open(conf).read(), us)
        with open(conf, "w") as f:
            f.write(text)
        rc, out, err = ew_run("config", "check")
        ck.check(rc == 0 and "2 relays: alpha, beta" in out,
                 "config check: %s" % out.strip())
        one_relay(ck, ew, root, us, env)
        # the operator's policies setup wrote, made different per relay
        pol = {}
        for name, net in (("alpha", "198.51.100.0/24"),
                          ("beta", "203.0.113.0/24")):
            pol[name] = os.path.join(root, "etc/exitwarden/%s.policy"
                                     % name)
            with open(pol[name], "a") as f:
                pass
            t = open(pol[name]).read()
            t = t.replace("ExitPolicy accept *:*",
                          "reject %s:*\naccept *:*" % net)
            with open(pol[name], "w") as f:
                f.write(t)

        for t in tors.values():
            t.start()
        # --- apply: both relays from the configuration alone
        rc, out, err = ew_run("apply", show=True)
        ck.check(rc == 0, "apply (no operand, no --relay) applies both")
        a0, b0 = tors["alpha"].policy() or "", tors["beta"].policy() or ""
        ck.check("198.51.100.0/24" in a0 and "203.0.113.0/24" not in a0,
                 "alpha's tor enforces alpha's policy")
        ck.check("203.0.113.0/24" in b0 and "198.51.100.0/24" not in b0,
                 "beta's tor enforces beta's policy")
        table = nft_table() or ""
        ck.check("%d : jump alpha_rules" % us[0][1] in table and
                 "%d : jump beta_rules" % us[1][1] in table,
                 "one table, each relay's uid to its chain")
        # nft apply of one policy would drop the other relay's chain
        rc, out, err = ew_run("nft", "apply", pol["alpha"])
        t2 = nft_table() or ""
        ck.check(rc == 2 and "--all-relays" in err and t2 == table,
                 "nft apply of one policy with two relays configured: "
                 "refused, the table as it was: %d %r" % (rc, err))

        # --- a tor restart: the fragment keeps the policy
        g0 = tors["alpha"].getconf()
        tors["alpha"].stop()
        tors["alpha"].start()
        a_re = tors["alpha"].getconf() or ""
        ck.check("198.51.100.0/24" in a_re and a_re == g0,
                 "alpha's policy survives a tor restart (%%include): %s"
                 % a_re)

        # --- block add / remove on alpha alone
        b_before, bc_before = tors["beta"].policy(), chain(nft_table(),
                                                          "beta")
        rc, out, err = ew_run("block", "add", "--relay", "alpha",
                              "--reason", "port scan complaint",
                              "--expires", "1h",
                              "reject %s:443" % BLOCK, show=True)
        ck.check(rc == 0, "block add --relay alpha")
        m = re.search(r"block (\d+) added", out)
        bid = m.group(1) if m else "0"
        ck.check(BLOCK in (tors["alpha"].policy() or ""),
                 "the block is in alpha's tor")
        ck.check(BLOCK in (chain(nft_table(), "alpha") or ""),
                 "the block is in alpha's chain")
        ck.check(tors["beta"].policy() == b_before,
                 "beta's exit-policy/full untouched by alpha's block")
        ck.check(chain(nft_table(), "beta") == bc_before,
                 "beta's chain untouched by alpha's block")
        rc, out, err = ew_run("block", "list", show=True)
        ck.check(rc == 0 and re.search(r"%s  reject %s:443\n    manual, "
                                       r"relay alpha" % (bid, BLOCK), out),
                 "block list names the block's relay")
        rc, out, err = ew_run("status", show=True)
        ck.check(rc == 0, "status: every relay as the store has it")
        ck.check("relay alpha" in out and "relay beta" in out and
                 out.count("runs the store's policy") == 2 and
                 out.count("table inet exitwarden: the store's policy")
                 == 2, "status lists both relays, no drift")
        # the operator's file applied again: the block stays
        rc, out, err = ew_run("apply", "--relay", "alpha", pol["alpha"])
        ck.check(rc == 0 and BLOCK in (tors["alpha"].policy() or "") and
                 BLOCK in (chain(nft_table(), "alpha") or ""),
                 "apply of the operator's file keeps the block")
        rc, out, err = ew_run("block", "remove", bid, show=True)
        ck.check(rc == 0 and BLOCK not in (tors["alpha"].policy() or "x")
                 and BLOCK not in (chain(nft_table(), "alpha") or "x"),
                 "block remove: gone from alpha's tor and chain")
        ck.check(tors["beta"].policy() == b_before and
                 chain(nft_table(), "beta") == bc_before,
                 "beta untouched by the removal")
        ck.check("relay alpha:" in out and "relay beta:" not in out,
                 "block remove of alpha's block applies alpha alone")

        # --- the daemon: repairs and an expiry, from the configuration
        rc, out, err = ew_run("block", "add", "--relay", "alpha",
                              "--expires", "25s", "reject %s:443" % BLOCK)
        m = re.search(r"until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", out)
        expires = (time.mktime(time.strptime(m.group(1),
                                             "%Y-%m-%dT%H:%M:%SZ"))
                   - time.timezone if m else time.time() + 25)
        ck.check(rc == 0 and BLOCK in (tors["alpha"].policy() or ""),
                 "a block expiring in 25 s on alpha")
        log = open(os.path.join(root, "run.log"), "w")
        daemon = subprocess.Popen(
            [ew, "run", "--interval", "3600", "--repair-interval",
             str(REPAIR)], env=env, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1.5)
        a1, b1 = tors["alpha"].wait_policy(), tors["beta"].wait_policy()
        ck.check("203.0.113.0/24" in (b1 or ""), "beta enforces its policy")
        ck.check(tors["beta"].setconf("accept *:*") == "250" and
                 "203.0.113.0/24" not in (tors["beta"].getconf() or "x"),
                 "another controller changed beta's ExitPolicy")
        lat = wait_for(lambda: "203.0.113.0/24" in (
            tors["beta"].getconf() or "") and tors["beta"].policy() == b1,
            LIMIT)
        ck.check(lat is not None, "SETCONF repaired by run")
        if lat is not None:
            print("latency: SETCONF from another controller repaired in "
                  "%.2f s (interval %d s)" % (lat, REPAIR))
        subprocess.run(["nft", "flush", "ruleset"], check=True)
        lat = wait_for(lambda: "alpha_rules" in (nft_table() or ""), LIMIT)
        ck.check(lat is not None and BLOCK in (chain(nft_table(), "alpha")
                                               or ""),
                 "nft flush ruleset repaired (the relays' table, the block)")
        if lat is not None:
            print("latency: nft flush ruleset repaired in %.2f s" % lat)
        tors["beta"].stop()
        time.sleep(REPAIR + 1.5)
        # a torrc's own policy back at the restart (as if the fragment
        # had been lost): run puts beta's back
        frag = os.path.join(root, "etc/tor/instances/beta/torrc.d/"
                            "exitwarden.conf")
        saved = open(frag).read()
        with open(frag, "w") as f:
            f.write("ExitPolicy accept *:*\n")
        t0 = time.monotonic()
        tors["beta"].start()
        lat = wait_for(lambda: tors["beta"].policy() == b1, LIMIT + 2)
        ck.check(lat is not None, "beta's tor restarted: policy repaired")
        if lat is not None:
            print("latency: tor restart repaired %.2f s after the restart"
                  % (time.monotonic() - t0))
        ck.check("203.0.113.0/24" in (open(frag).read()),
                 "the fragment written again (was: %d bytes)" % len(saved))
        ck.check(tors["alpha"].policy() == a1, "alpha unaffected")

        # --- the expiry in tor and the kernel together
        t_tor = t_nft = None
        deadline = expires + 10
        while time.time() < deadline and (t_tor is None or t_nft is None):
            if t_tor is None and BLOCK not in (tors["alpha"].policy() or
                                               BLOCK):
                t_tor = time.time()
            if t_nft is None and BLOCK not in (nft_table() or BLOCK):
                t_nft = time.time()
            time.sleep(0.05)
        ck.check(t_tor is not None and t_nft is not None,
                 "the block expired in tor and the kernel")
        if t_tor is not None and t_nft is not None:
            print("latency: expiry: tor %+.2f s, kernel %+.2f s from the "
                  "block's time; %.2f s apart"
                  % (t_tor - expires, t_nft - expires, abs(t_tor - t_nft)))
            ck.check(abs(t_tor - t_nft) < 1.0,
                     "tor and the kernel within a second of each other")
        time.sleep(0.5)
        rc, out, err = ew_run("status", show=True)
        ck.check(re.search(r"beta +tor drift +\d", out) is not None and
                 re.search(r"table missing +\d", out) is not None and
                 re.search(r"beta +tor back +\d", out) is not None,
                 "status shows the daemon's repairs")
        rc, out, err = ew_run("status", "--json")
        ck.check(rc == 0 and '"repairs": [' in out,
                 "status --json: no drift left, the repairs listed")
    except (RuntimeError, OSError, torharness.HarnessError,
            subprocess.TimeoutExpired) as e:
        ck.check(False, "harness: %s" % e)
    finally:
        standin.stop_all(daemon, tors.values())
        out = standin.run_output(ck, os.path.join(root, "run.log"))
        if ck.failed:
            print("--- run's output ---\n" + out)
        else:
            print("--- what run repaired ---\n" + "".join(
                ln + "\n" for ln in out.splitlines()
                if ln.startswith(("repair", "expire"))))
        shutil.rmtree(root, ignore_errors=True)
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
