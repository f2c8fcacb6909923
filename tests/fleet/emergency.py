#!/usr/bin/env python3
"""A fleet host's own emergency block (fleet/emergency, issue 14).

Two hosts on a throwaway PostgreSQL cluster, each in its own network
namespace with a stand-in tor and its own table (tests/fleet/follow.py's
Host; the cluster and helpers of fleetharness.py).  With PostgreSQL
stopped:

  * `exitwarden block add` on h1 (its own connection string, its apply
    options) takes effect on h1 at once (its tor and its table), not on
    h2, and is queued in h1's outbox;
  * a second one with a short expiry leaves h1 on time, the server
    still down (the daemon's local expiry);
  * h1's daemon restarted with its table gone, the server still down:
    it enforces the emergency block again from its cache;
  * a tor restarted on h2 (the daemon in host mode) gets its policy
    again from the self-repair loop;

then PostgreSQL started again: the block is replayed once into
host_blocks (the outbox replayed a second time: still once), the desk
sees it (block list, fleet status), removes it (it leaves h1), adopts
another as a fleet block (it reaches h2, h1's own copy goes), and
fleet status shows drift for a host that is behind.  The figures are
printed.  Only processes started here are stopped, by PID.  Ends with
"N passed, N failed"; exit 77 without initdb, tor, nft, unshare or
nsenter, or when not root.
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fleetharness  # noqa: E402
import follow  # noqa: E402

from fleetharness import (EW, check, ew, psql, start, stop,  # noqa: E402
                          wait_for)
from follow import applied  # noqa: E402

HOSTS = ("h1", "h2", "h3")


class Host(follow.Host):
    """follow.py's host, its daemon repairing every second."""

    def start_daemon(self):
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        self.daemon = start(
            ["nsenter", "--net=" + self.ns, "--", EW, "run", "--host",
             self.name, "--interval", "30", "--repair-interval", "1",
             "--policy", self.pol] + self.apply_opts(), self.log,
            env=dict({k: v for k, v in os.environ.items()
                      if not k.startswith("EW_")}, **self.env))

    def apply_opts(self):
        return ["--uid", "65501", "--control", "127.0.0.1:9051",
                "--cookie", self.cookie, "--fragment",
                os.path.join(self.dir, "fragment.conf")]

    def block(self, *args):
        """block add on this host, as its operator would."""
        return ew("block", "add", *(list(args[:-1]) + self.apply_opts()
                                    + [args[-1]]), env=self.env, ns=self.ns)

    def side(self, suffix):
        path = os.path.join(self.dir, "managed.policy.fleet-" + suffix)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()


class TwoRelays(Host):
    """A host with two relays: a (tor on 9051) and b (a second tor on
    9052), each with its own managed policy; one table for both."""

    def start_daemon(self):
        if not hasattr(self, "tor_b"):
            self.start_tor_b()
        Host.start_daemon(self)

    def start_tor_b(self):
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        os.makedirs(p("data-b"), 0o700, exist_ok=True)
        self.cookie_b = p("cookie-b")
        with open(p("torrc")) as f:
            conf = f.read()
        conf = (conf.replace(p("data"), p("data-b"))
                .replace("9051", "9052").replace("9001", "9002")
                .replace(self.cookie, self.cookie_b)
                .replace("Nickname ew" + self.name,
                         "Nickname ew" + self.name + "b")
                .replace(p("notice.log"), p("notice-b.log")))
        with open(p("torrc-b"), "w") as f:
            f.write(conf)
        if os.path.exists(self.cookie_b):
            os.unlink(self.cookie_b)
        self.tor_b = start(["nsenter", "--net=" + self.ns, "--",
                            self.torbin, "--defaults-torrc",
                            p("empty"), "-f", p("torrc-b")],
                           subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.cookie_b) and
                 os.path.getsize(self.cookie_b) == 32, 30)
        time.sleep(0.3)

    def apply_opts(self):
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        return ["--relay", "a,uid=65501,control=127.0.0.1:9051,cookie=%s,"
                "fragment=%s" % (self.cookie, p("frag-a.conf")),
                "--relay", "b,uid=65502,control=127.0.0.1:9052,cookie=%s,"
                "fragment=%s" % (self.cookie_b, p("frag-b.conf"))]

    def tor_b_policy(self):
        p = subprocess.run(["nsenter", "--net=" + self.ns, "--",
                            sys.executable, os.path.join(HERE, "torctl.py"),
                            "9052", self.cookie_b], capture_output=True,
                           text=True, timeout=30)
        return p.stdout if p.returncode == 0 else ""

    def has(self, addr):
        return (addr in self.tor_policy() and addr in self.tor_b_policy()
                and addr in self.table())


def uid_of(out):
    for word in out.replace("(", " ").replace(")", " ").split():
        if len(word) == 32 and all(c in "0123456789abcdef" for c in word):
            return word
    return ""


def host_blocks(pg, uid):
    rc, out, _ = psql(pg, "SELECT count(*) FROM host_blocks WHERE "
                      "uid = '%s';" % uid)
    return int(out.strip()) if rc == 0 and out.strip() else -1


def hb_id(pg, uid):
    rc, out, _ = psql(pg, "SELECT id FROM host_blocks WHERE uid = '%s';"
                      % uid)
    return out.strip() if rc == 0 else ""


def run(work, cluster, tor):
    pg = cluster.conninfo()
    pol, desk, conns = fleetharness.fleet_init(work, pg, HOSTS)
    Host.torbin = tor
    hosts = [Host("h1", work, tor, conns["h1"], pol),
             Host("h2", work, tor, conns["h2"], pol),
             TwoRelays("h3", work, tor, conns["h3"], pol)]
    h1, h2, h3 = hosts
    ok = wait_for(lambda: applied(pg, 0, HOSTS), 60)
    check(ok is not None, "every host applied at its start")
    rc, _, err = ew("block", "add", "--no-apply", "reject 192.0.2.77:*",
                    env=desk)
    check(rc == 0, "a fleet block at the desk: %s" % err)
    rev = follow.store_rev(pg)
    check(wait_for(lambda: applied(pg, rev, HOSTS), 30) is not None
          and h1.has("192.0.2.77") and h2.has("192.0.2.77"),
          "both hosts enforce the fleet block")
    check(h3.has("192.0.2.77"), "h3 enforces it on both its relays' tors "
          "and its table")

    # --- the host's role: no block of its own in the store for another
    # host, no rule of the desk changed
    rc, _, err = psql(conns["h1"], "INSERT INTO host_blocks (uid, host, "
                      "rule_text, added_at) VALUES ('x1', 'h2', "
                      "'reject 192.0.2.1:*', 1);")
    check(rc != 0 and "row-level security" in err,
          "h1's role cannot store a block for h2: %s" % err.strip())

    # --- PostgreSQL stopped: an emergency block on h1
    cluster.stop()
    t_down = time.monotonic()
    said = wait_for(lambda: all("store unreachable" in h.logtext()
                                for h in hosts), 40, 0.1)
    check(said is not None, "both hosts say the store is unreachable")
    t0 = time.monotonic()
    rc, out, err = h1.block("--reason", "SYN flood from the exit",
                            "--expires", "2h", "reject 203.0.113.5:*")
    check(rc == 0 and "applied on this host at once" in out
          and "queued in the outbox" in out,
          "block add on h1 with the store down: %s%s" % (out, err))
    uid = uid_of(out)
    lat = wait_for(lambda: h1.has("203.0.113.5"), 10, 0.05)
    check(lat is not None, "h1 enforces it (tor and table)")
    if lat is not None:
        print("emergency: block add on a host, PostgreSQL down, to its "
              "tor and table: %.2f s" % (time.monotonic() - t0))
    check("203.0.113.5" not in h2.tor_policy() + h2.table(),
          "h2 does not have it")
    check(any(ln.startswith("B\t" + uid + "\t") for ln in h1.side("outbox"))
          and len(uid) == 32, "queued in h1's outbox under its id %s" % uid)
    check(h1.has("192.0.2.77"), "h1 still enforces the fleet block")
    rc, out, err = h1.block("--host", "h2", "reject 203.0.113.9:*")
    check(rc == 2 and "emergency block" in err,
          "a host cannot block for another host: %s" % err.strip())

    # a short one: it leaves h1 on time, the server still down
    rc, out, err = h1.block("--expires", "6s", "reject 203.0.113.6:*")
    t_exp = time.monotonic() + 6
    check(rc == 0 and wait_for(lambda: h1.has("203.0.113.6"), 10, 0.05)
          is not None, "a second emergency block, 6 s: %s%s" % (out, err))
    uid6 = uid_of(out)

    # h1's daemon restarted during the outage, its table gone
    stop(h1.daemon)
    subprocess.run(["nsenter", "--net=" + h1.ns, "--", "nft", "delete",
                    "table", "inet", "exitwarden"], check=True)
    t0 = time.monotonic()
    h1.start_daemon()
    lat = wait_for(lambda: h1.has("203.0.113.5") and
                   h1.has("192.0.2.77"), 20, 0.05)
    check(lat is not None, "h1 restarted during the outage enforces its "
          "emergency block and the fleet's again")
    if lat is not None:
        print("emergency: restarted during the outage, enforced again "
              "%.2f s after the start" % (time.monotonic() - t0))
    gone = wait_for(lambda: not h1.has("203.0.113.6"),
                    max(1.0, t_exp - time.monotonic()) + 8, 0.1)
    check(gone is not None, "the 6 s block expired on h1, PostgreSQL down")
    if gone is not None:
        print("emergency: the 6 s block left h1 %+.2f s from its time "
              "(whole seconds)" % (time.monotonic() - t_exp))
    check(h1.has("203.0.113.5"), "the 2 h one stays")

    # h3 (two relays) rebooted during the outage: both tors back with
    # their torrc's own policy, its table gone; its daemon applies each
    # relay's cached managed policy and the table at once
    stop(h3.daemon)
    stop(h3.tor)
    stop(h3.tor_b)
    for c in (h3.cookie, h3.cookie_b):
        if os.path.exists(c):
            os.unlink(c)
    subprocess.run(["nsenter", "--net=" + h3.ns, "--", "nft", "delete",
                    "table", "inet", "exitwarden"], check=True)
    q = lambda n: os.path.join(h3.dir, n)  # noqa: E731
    h3.tor = start(["nsenter", "--net=" + h3.ns, "--", tor,
                    "--defaults-torrc", q("empty"), "-f",
                    q("torrc")], subprocess.DEVNULL)
    h3.start_tor_b()
    wait_for(lambda: os.path.exists(h3.cookie) and
             os.path.getsize(h3.cookie) == 32, 30)
    time.sleep(0.3)
    check("192.0.2.77" not in h3.tor_policy() + h3.tor_b_policy()
          + h3.table(), "h3 rebooted: neither tor nor the kernel has it")
    t0 = time.monotonic()
    h3.start_daemon()
    lat = wait_for(lambda: h3.has("192.0.2.77"), 20, 0.05)
    check(lat is not None, "h3 (two relays) restarted during the outage "
          "applies both relays' cached policies and the table")
    if lat is not None:
        print("emergency: a host of two relays restarted during the "
              "outage enforced its cache %.2f s after its start"
              % (time.monotonic() - t0))
    rc, out, err = h3.block("reject 203.0.113.8:*")
    check(rc == 0 and wait_for(lambda: h3.has("203.0.113.8"), 10, 0.05)
          is not None, "an emergency block on h3 reaches both its relays "
          "and its table: %s%s" % (out[-300:], err))
    uid8 = uid_of(out)
    # h3's daemon has not reached the store since its start: relay b's
    # tor restarted now gets its policy again all the same
    stop(h3.tor_b)
    h3.start_tor_b()
    t0 = time.monotonic()
    lat = wait_for(lambda: "203.0.113.8" in h3.tor_b_policy(), 30, 0.2)
    check(lat is not None, "h3's relay b tor restarted gets its policy "
          "again (self-repair before the store was ever reached)")
    if lat is not None:
        print("emergency: a relay's tor restarted on a host that never "
              "reached the store had its policy again %.2f s after its "
              "start" % (time.monotonic() - t0))

    # a tor restarted on h2 (host mode): its policy applied again
    stop(h2.tor)
    p = lambda n: os.path.join(h2.dir, n)  # noqa: E731
    if os.path.exists(h2.cookie):
        os.unlink(h2.cookie)
    h2.tor = start(["nsenter", "--net=" + h2.ns, "--", tor,
                    "--defaults-torrc", p("empty"), "-f",
                    p("torrc")], subprocess.DEVNULL)
    t0 = time.monotonic()
    lat = wait_for(lambda: "192.0.2.77" in h2.tor_policy(), 30, 0.2)
    check(lat is not None, "h2's tor restarted gets its policy again "
          "(self-repair under run --host, store down)")
    if lat is not None:
        print("emergency: a tor restarted on a host had its policy "
              "again %.2f s after its start" % (time.monotonic() - t0))
    box = h1.side("outbox")
    print("emergency: h1's outbox holds %d records during the outage"
          % len(box))

    # --- PostgreSQL back: replayed once
    down_for = time.monotonic() - t_down
    cluster.launch()
    print("emergency: PostgreSQL down for %.1f s" % down_for)
    t0 = time.monotonic()
    ok = wait_for(lambda: host_blocks(pg, uid) == 1, 40, 0.1)
    check(ok is not None, "the emergency block reached the store")
    if ok is not None:
        print("emergency: stored %.2f s after the restart"
              % (time.monotonic() - t0))
    check(wait_for(lambda: h1.side("outbox") == [], 20) is not None,
          "h1's outbox replayed and emptied")
    check(any(ln.startswith("B\t" + uid + "\t") for ln in h1.side("local")),
          "h1 keeps it in force (its local file)")
    check(h1.has("203.0.113.5"), "h1 still enforces it")
    check(host_blocks(pg, uid6) == 1, "the expired one is stored too "
          "(its history)")
    check(wait_for(lambda: host_blocks(pg, uid8) == 1, 20) is not None,
          "h3's emergency block reached the store")
    # the old outbox put back: a second replay stores nothing more
    stop(h1.daemon)
    with open(os.path.join(h1.dir, "managed.policy.fleet-outbox"),
              "w") as f:
        f.write("".join(ln + "\n" for ln in box))
    n_before = psql(pg, "SELECT count(*) FROM host_blocks;")[1].strip()
    h1.start_daemon()
    check(wait_for(lambda: h1.side("outbox") == [], 20) is not None,
          "h1 replayed its old outbox again")
    n_after = psql(pg, "SELECT count(*) FROM host_blocks;")[1].strip()
    check(host_blocks(pg, uid) == 1 and n_after == n_before,
          "replayed twice, stored once (%s rows, %s before)"
          % (n_after, n_before))

    # --- the desk sees it
    hid = hb_id(pg, uid)
    rc, out, err = ew("block", "list", env=desk)
    check(rc == 0 and ("h%s  reject 203.0.113.5:*" % hid) in out
          and "host h1" in out and uid in out
          and "SYN flood" in out, "block list at the desk: %s" % out)
    rc, out, err = ew("block", "list", "--json", env=desk)
    bl = json.loads(out or "[]")
    check(rc == 0 and sorted((b.get("host"), b.get("uid")) for b in bl
                             if "host_block" in b)
          == [("h1", uid), ("h3", uid8)],
          "block list --json: %s %s" % (out, err))
    rc, out, err = ew("fleet", "status", "--json", env=desk)
    st = json.loads(out or "{}")
    check(rc == 0 and sorted((b["host"], b["uid"], str(b["id"])) for b in
                             st.get("host_blocks", []))
          == [("h1", uid, hid), ("h3", uid8, hb_id(pg, uid8))],
          "fleet status lists it: %s %s" % (out, err))
    rc, out, err = ew("fleet", "status", env=desk)
    check(rc == 0 and ("emergency block h%s of host h1" % hid) in out,
          "fleet status (text): %s" % out)
    # the host's role reads its own only
    rc, out, _ = psql(conns["h2"], "SELECT count(*) FROM host_blocks;")
    check(rc == 0 and out.strip() == "0",
          "h2's role reads none of h1's emergency blocks: %r" % out)

    # --- the desk removes it: it leaves h1
    t0 = time.monotonic()
    rc, out, err = ew("block", "remove", "h" + hid, env=desk)
    check(rc == 0 and "removed host block" in out,
          "block remove h%s at the desk: %s%s" % (hid, out, err))
    lat = wait_for(lambda: "203.0.113.5" not in h1.tor_policy() +
                   h1.table(), 30, 0.05)
    check(lat is not None, "the removal reached h1 (tor and table)")
    if lat is not None:
        print("emergency: block remove hID at the desk to the block gone "
              "from the host: %.2f s" % (time.monotonic() - t0))
    check(h1.has("192.0.2.77"), "h1 keeps the fleet's block")
    check(not any(uid in ln for ln in h1.side("local")),
          "h1's local file no longer has it")

    # --- another, the store up: sent at once; the desk adopts it
    rc, out, err = h1.block("--reason", "scan", "reject 203.0.113.7:*")
    check(rc == 0 and "sent to the desk" in out,
          "block add on h1, the store up: %s%s" % (out, err))
    uid7 = uid_of(out)
    check(host_blocks(pg, uid7) == 1, "stored at once")
    hid7 = hb_id(pg, uid7)
    rc, out, err = ew("block", "adopt", "--no-apply", "h" + hid7, env=desk)
    check(rc == 0 and "adopted" in out,
          "block adopt h%s: %s%s" % (hid7, out, err))
    rev = follow.store_rev(pg)
    ok = wait_for(lambda: applied(pg, rev, HOSTS) and
                  h2.has("203.0.113.7"), 30)
    check(ok is not None and h1.has("203.0.113.7"),
          "the adopted block reaches h2, and stays on h1")
    check(wait_for(lambda: not any(uid7 in ln for ln in h1.side("local")),
                   10) is not None, "h1 dropped its own copy")
    rc, out, err = ew("block", "list", env=desk)
    check("203.0.113.7" in out and ("h%s " % hid7) not in out,
          "block list: a fleet block now: %s" % out)

    # --- drift: none once converged; h2 stopped and a block added: h2
    # drifts, h1 does not
    def drift():
        rc, out, _ = ew("fleet", "status", "--json", env=desk)
        return {h["host"]: h.get("drift") for h in
                json.loads(out or "{}").get("hosts", [])}
    d0 = drift()
    rc, out, _ = ew("fleet", "status", "--json", env=desk)
    dig = {h["host"]: (h.get("last_apply") or {}).get("digest", "")
           for h in json.loads(out or "{}").get("hosts", [])}
    check(len(dig.get("h3", "")) == 64,
          "h3 (two relays) reports the digest of its managed files: %s"
          % dig)
    check(d0 == {"h1": False, "h2": False, "h3": False},
          "no drift: %s" % d0)
    stop(h2.daemon)
    rc, _, err = ew("block", "add", "--no-apply", "reject 192.0.2.88:*",
                    env=desk)
    rev = follow.store_rev(pg)
    wait_for(lambda: applied(pg, rev, ("h1", "h3")), 30)
    d1 = drift()
    check(d1 == {"h1": False, "h2": True, "h3": False},
          "h2 behind drifts: %s" % d1)
    rc, out, _ = ew("fleet", "status", env=desk)
    print(out, end="")
    if fleetharness.failed:
        print("--- h1's log:\n" + h1.logtext())
        print("--- h2's log:\n" + h2.logtext())


if __name__ == "__main__":
    sys.exit(fleetharness.main(run, "ew-emerg-"))
