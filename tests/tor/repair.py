#!/usr/bin/env python3
"""exitwarden run keeps tor and the kernel equal to the store (issue 13).

Two stand-in relays on one host: two throw-away tors (DisableNetwork 1,
each its own ControlPort and cookie, fixed across a restart) and one
table inet exitwarden with a uid verdict map to each relay's chain, all
inside a fresh network namespace (never the host's ruleset).  The daemon
(`exitwarden run --repair-interval 1`) is started with both relays and:

  * starts while beta's tor is down: applies nothing, retries, and
    applies both once it is up (all relays or none);
  * applies both: each tor its own policy, one table for both,
    a block for relay alpha alone only in alpha's tor and chain;
  * repairs a `SETCONF ExitPolicy` from another controller on beta;
  * repairs an `nft flush ruleset` (inside this namespace);
  * repairs alpha's tor restarted without the fragment (its torrc's
    own policy comes back), and counts tor coming back;
  * expires alpha's block at its time in tor and in the kernel, within
    a second of each other;
  * with the host's only relay (no --relay): repairs nothing while
    nothing drifts, repairs a SETCONF and a flush.

Each repair's latency (from the disturbance to tor or the table being
equal to the store again) is measured and printed.  Only the processes
started here are stopped, by PID.  Ends with "N passed, N failed"; exit
77 when tor or nft is missing or this is not root.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standin  # noqa: E402
import torharness  # noqa: E402

REPAIR = 1  # --repair-interval, seconds
LIMIT = REPAIR + 3.0  # a repair must come within its interval (+ apply)


Checks = standin.Checks
free_port = standin.free_port
wait_for = standin.wait_for
nft_table = standin.nft_table


class Tor(standin.StandinTor):
    """One stand-in relay: a tor whose ControlPort and cookie file stay
    the same across a restart."""

    def __init__(self, tor, work, name):
        self.name = name
        self.dir = os.path.join(work, "tor-" + name)
        os.mkdir(self.dir)
        os.mkdir(os.path.join(self.dir, "data"), 0o700)
        self.port = free_port()
        self.cookie = os.path.join(self.dir, "cookie")
        for n in ("empty",):
            open(os.path.join(self.dir, n), "w").close()
        with open(os.path.join(self.dir, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        self.torrc = p("torrc")
        with open(self.torrc, "w") as f:
            f.write("\n".join([
                "DataDirectory " + p("data"),
                "DisableNetwork 1",
                "SocksPort 0",
                "ControlPort 127.0.0.1:%d" % self.port,
                "CookieAuthentication 1",
                "CookieAuthFile " + self.cookie,
                "ORPort 127.0.0.1:9001",
                "AssumeReachable 1",
                "PublishServerDescriptor 0",
                "Nickname ew" + name,
                "ContactInfo ew-%s" % name,
                "ServerDNSResolvConfFile " + p("resolv.conf"),
                "ServerDNSDetectHijacking 0",
                "ServerDNSTestAddresses",
                "GeoIPFile " + p("empty"),
                "GeoIPv6File " + p("empty"),
                "Log notice file " + p("notice.log"),
                "AvoidDiskWrites 1",
                "ShutdownWaitLength 0",
                # its own policy, which exitwarden's replaces at run time
                "ExitRelay 1",
                "ExitPolicy accept *:*",
                "__OwningControllerProcess %d" % os.getpid(),
            ]) + "\n")
        self.argv = [tor, "--defaults-torrc", p("empty"), "-f", self.torrc]

    def connect(self, timeout):
        return torharness.ControlConnection(self.port, timeout)

    def exit_policy(self):
        """GETCONF ExitPolicy: tor's configured policy, one string."""
        return self.getconf()


def nft_handle():
    """The kernel's handle of our table, or None: a table loaded again
    after a flush has a new one."""
    p = subprocess.run(["nft", "-a", "list", "table", "inet", "exitwarden"],
                       capture_output=True, text=True)
    m = re.search(r"table inet exitwarden \{ # handle (\d+)", p.stdout)
    return int(m.group(1)) if m else None



def single(ck, tor, work, ew):
    """The host's only relay (no --relay): no repair while nothing
    drifts; a SETCONF and a flush repaired."""
    t = Tor(tor, work, "solo")
    t.start()
    daemon = None
    d = os.path.join(work, "solo-db")
    os.mkdir(d)
    pol = os.path.join(d, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\nreject 198.51.100.0/24:*\naccept *:*\n")
    env = dict(os.environ, EW_DB=os.path.join(d, "ew.db"))
    env.pop("EW_NOW", None)
    log_path = os.path.join(d, "run.log")
    try:
        with open(log_path, "w") as log:
            daemon = subprocess.Popen(
                [ew, "run", "--interval", "3600", "--repair-interval",
                 str(REPAIR), "--policy", pol, "--uid", "65504",
                 "--control", "127.0.0.1:%d" % t.port, "--cookie",
                 t.cookie], env=env, stdout=log, stderr=subprocess.STDOUT)
        ok = wait_for(lambda: "198.51.100.0/24" in (t.exit_policy() or "")
                      and nft_table() is not None, 30)
        ck.check(ok is not None, "one relay: applied at start")
        p0 = t.exit_policy()
        time.sleep(REPAIR * 4 + 0.5)
        with open(log_path) as f:
            quiet = "repair:" not in f.read()
        ck.check(quiet, "one relay: nothing repaired while nothing drifted"
                 " (%d checks)" % 4)
        t.setconf("accept *:*")
        lat = wait_for(lambda: t.exit_policy() == p0, LIMIT)
        ck.check(lat is not None, "one relay: SETCONF repaired")
        if lat is not None:
            print("one relay: SETCONF repaired in %.2f s" % lat)
        subprocess.run(["nft", "flush", "ruleset"], check=True)
        lat = wait_for(lambda: "meta skuid 65504" in (nft_table() or ""),
                       LIMIT)
        ck.check(lat is not None, "one relay: the table is back (its uid)")
        if lat is not None:
            print("one relay: nft flush ruleset repaired in %.2f s" % lat)
    finally:
        standin.stop_all(daemon, [t])


def main():
    tor = standin.enter_or_skip(__file__, sys.argv[1:])
    if tor is None:
        return 77
    ew = os.path.abspath(sys.argv[1])
    ck = Checks()
    work = tempfile.mkdtemp(prefix="ew-repair-")
    tors = {}
    daemon = None
    db = os.path.join(work, "ew.db")
    try:
        for name in ("alpha", "beta"):
            tors[name] = Tor(tor, work, name)
        tors["alpha"].start()  # beta's tor is down when run starts
        pol = {}
        for name, rule in (("alpha", "reject 198.51.100.0/24:*"),
                           ("beta", "reject 203.0.113.0/24:*")):
            pol[name] = os.path.join(work, name + ".policy")
            with open(pol[name], "w") as f:
                f.write("ExitRelay 1\n%s\naccept *:*\n" % rule)
        env = dict(os.environ, EW_DB=db)
        env.pop("EW_NOW", None)
        subprocess.run([ew, "policy", "history"], env=env,
                       capture_output=True, timeout=30)
        # a block for alpha alone, expiring soon (what ticket block
        # --relay alpha --expires would store)
        expires = int(time.time()) + 22
        con = sqlite3.connect(db)
        con.execute("INSERT INTO rules (rule_text, reason, expires_at,"
                    " added_at, relay) VALUES (?, ?, ?, ?, ?)",
                    ("reject 192.0.2.77:443", "test", expires,
                     int(time.time()), "alpha"))
        con.commit()
        con.close()
        relays = []
        for name, uid in (("alpha", 65501), ("beta", 65502)):
            t = tors[name]
            relays += ["--relay", "%s,uid=%d,control=127.0.0.1:%d,"
                       "cookie=%s,policy=%s" % (name, uid, t.port,
                                                t.cookie, pol[name])]
        log = open(os.path.join(work, "run.log"), "w")
        daemon = subprocess.Popen(
            [ew, "run", "--interval", "3600", "--repair-interval",
             str(REPAIR)] + relays, env=env, stdout=log,
            stderr=subprocess.STDOUT)

        # --- beta's tor down at start: nothing half-applied, retried
        time.sleep(2.5)
        ck.check(nft_table() is None,
                 "tor down at start: no table for half of the relays")
        t0 = time.monotonic()
        tors["beta"].start()
        up_at = time.monotonic()

        # --- start: both applied, one table, alpha's block on alpha only
        up = wait_for(lambda: "198.51.100.0/24" in (
            tors["alpha"].exit_policy() or "") and "203.0.113.0/24" in (
            tors["beta"].exit_policy() or "") and nft_table() is not None,
            30)
        ck.check(up is not None, "both relays applied once beta's tor is up")
        if up is not None:
            print("tor down at start: applied %.2f s after it was up "
                  "(%.2f s after its start)"
                  % (time.monotonic() - up_at, time.monotonic() - t0))
        a0 = tors["alpha"].exit_policy() or ""
        b0 = tors["beta"].exit_policy() or ""
        ck.check("192.0.2.77" in a0, "alpha's tor has alpha's block")
        ck.check("192.0.2.77" not in b0, "beta's tor has not")
        table = nft_table() or ""
        ck.check("65501 : jump alpha_rules" in table and
                 "65502 : jump beta_rules" in table,
                 "one table, a uid map to each relay's chain")
        m = re.search(r"chain beta_rules \{(.*?)\n\t\}", table, re.S)
        ck.check(m is not None and "192.0.2.77" not in m.group(1) and
                 "192.0.2.77" in table, "the block only in alpha's chain")

        # --- SETCONF from another controller on beta
        ck.check(tors["beta"].setconf("accept *:*") == "250",
                 "another controller changed beta's ExitPolicy")
        lat = wait_for(lambda: tors["beta"].exit_policy() == b0, LIMIT)
        ck.check(lat is not None, "SETCONF repaired")
        if lat is not None:
            print("repair latency, SETCONF from another controller: "
                  "%.2f s (interval %d s)" % (lat, REPAIR))

        # --- nft flush ruleset, inside this namespace
        h0 = nft_handle()
        subprocess.run(["nft", "flush", "ruleset"], check=True)
        # The repair may already have loaded it again (interval 1 s): gone,
        # or a new table, never the old one.
        h1 = nft_handle()
        ck.check(h0 is not None and h1 != h0,
                 "the table is gone (handle %s, then %s)" % (h0, h1))
        lat = wait_for(lambda: nft_table() is not None, LIMIT)
        ck.check(lat is not None, "the table is back")
        if lat is not None:
            print("repair latency, nft flush ruleset: %.2f s" % lat)
        ck.check("alpha_rules" in (nft_table() or ""),
                 "the table is the relays' table")

        # --- alpha's tor restarted with its torrc's own policy
        tors["alpha"].stop()
        time.sleep(REPAIR + 1.5)  # a check finds it down
        t0 = time.monotonic()
        tors["alpha"].start()
        lat = wait_for(lambda: tors["alpha"].exit_policy() == a0, LIMIT + 2)
        ck.check(lat is not None, "alpha's policy back after a tor restart")
        if lat is not None:
            print("repair latency, tor restart: %.2f s from the restart "
                  "(%.2f s after tor was up)"
                  % (time.monotonic() - t0, lat))

        # --- the block expires in tor and in the kernel together
        left = expires - time.time()
        ck.check(left > 0.5, "the expiry is still ahead (%.1f s)" % left)
        t_tor = t_nft = None
        deadline = time.time() + max(left, 0) + 8
        while time.time() < deadline and (t_tor is None or t_nft is None):
            if t_tor is None and "192.0.2.77" not in (
                    tors["alpha"].exit_policy() or "192.0.2.77"):
                t_tor = time.time()
            if t_nft is None and "192.0.2.77" not in (
                    nft_table() or "192.0.2.77"):
                t_nft = time.time()
            time.sleep(0.05)
        ck.check(t_tor is not None and t_nft is not None,
                 "the block expired in tor and the kernel")
        if t_tor is not None and t_nft is not None:
            print("expiry: tor %+.2f s, kernel %+.2f s from its time; "
                  "%.2f s apart" % (t_tor - expires, t_nft - expires,
                                    abs(t_tor - t_nft)))
            ck.check(abs(t_tor - t_nft) < 1.0,
                     "tor and the kernel within a second of each other")
            ck.check(t_tor >= expires - 0.05 and t_nft >= expires - 1.0,
                     "not before its time")
        ck.check("203.0.113.0/24" in (tors["beta"].exit_policy() or ""),
                 "beta untouched by alpha's expiry")
    except (RuntimeError, OSError, torharness.HarnessError) as e:
        ck.check(False, "harness: %s" % e)
    finally:
        standin.stop_all(daemon, tors.values())
        try:
            single(ck, tor, work, ew)
        except (RuntimeError, OSError, torharness.HarnessError) as e:
            ck.check(False, "harness (one relay): %s" % e)
        out = standin.run_output(ck, os.path.join(work, "run.log"))
        m = re.findall(r"repaired: tor drift (\d+), table missing (\d+) "
                       r"\(tor came back (\d+)", out)
        ck.check(bool(m), "run says what it repaired")
        if m:
            drift, missing, back = (int(x) for x in m[-1])
            print("run's count: tor drift %d, table missing %d, tor came "
                  "back %d" % (drift, missing, back))
            ck.check(drift >= 2 and missing >= 1 and back >= 1,
                     "counted: two tor repairs, one table, tor back")
        try:
            con = sqlite3.connect(db)
            rows = {(r, w): n for r, w, n in con.execute(
                "SELECT relay, what, n FROM repair_counts")}
            con.close()
        except (sqlite3.Error, NameError):
            rows = {}
        print("store's repair_counts: %s" % sorted(rows.items()))
        ck.check(rows.get(("beta", "tor drift"), 0) >= 1 and
                 rows.get(("alpha", "tor drift"), 0) >= 1 and
                 rows.get(("", "table missing"), 0) >= 1 and
                 rows.get(("alpha", "tor back"), 0) >= 1,
                 "the store counts each repair, per relay (for status)")
        if ck.failed:
            print("--- run's output ---\n" + out)
        subprocess.run(["nft", "delete", "table", "inet", "exitwarden"],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
