#!/usr/bin/env python3
"""inbox scan and complaint add killed with SIGKILL at random points.

  crash_ingest.py EXITWARDEN [--mails N] [--kills K] [--seed S]
                  [--adds M] [--keep DIR] [-v]

The contract (docs/cli/workflow.md, "The inbox"): each message of
MAILDIR/new is stored in one transaction and only then renamed into
MAILDIR/cur; killed at any point, the next scan finds it either still in
new/ and not stored, or stored (then it is a duplicate and is moved).
Nothing is lost or stored twice.

1. tests/tools/mkmaildir.py writes about N mails (distinct complaints of
   every shape, exact resends, same-Message-ID resends, unreadable ones).
   Every database gets the same policy first ('policy record'), so the
   incidents are judged allowed, blocked or not ours.
2. Reference: one clean 'inbox scan' of a copy into a fresh database;
   then stored messages put back into new/ (a kill after the commit,
   made on purpose) must come out as duplicates, changing nothing.
3. 'exitwarden --db DB inbox scan MAILDIR' killed with SIGKILL at random
   (seeded) points, again and again: first while a new database is
   created and migrated (an empty Maildir; the last such database is
   kept, 'policy record' has to finish it); then on a copy of the mails,
   by the clock (start-up, opening) or a random time after the k-th
   message left new/ (so inside the next message: read, parse, judge,
   transaction, commit, rename; the per-message time is re-estimated as
   the machine's load changes), the last one after the last message --
   about K kills -- until a run completes; then one more, clean, scan.
   After every kill: every file is in new/ or cur/, once; every message
   in cur/ (but the unreadable) is stored; every stored complaint has
   all its incidents and one ticket; nothing stored twice; the database
   passes integrity_check.
4. At the end: new/ and tmp/ empty; every file in cur/ exactly once (by
   the name before ':2,'), unreadable ones with flag F and the others
   with S; as many complaints as distinct mails, with the expected number
   of incidents; PRAGMA integrity_check and foreign_key_check clean; and
   the complaints, incidents (verdicts included), tickets and
   ticket_complaints the same as the reference's, ids and reception
   times aside.  The test reads the databases with sqlite3 on a copy
   (with the WAL): the database under test is never opened by the test,
   so each run finds exactly what the kill left.
5. The same for 'complaint add', one process per mail (originals, a
   resend of each kind, an unreadable one), each killed a few times
   before a run completes, compared with the same adds into a fresh
   database.

Sizes: --mails (env EW_CRASH_MAILS, default 300), --kills (EW_CRASH_KILLS,
default 80), --adds (EW_CRASH_ADDS, default 8), --seed (EW_CRASH_SEED).
Only processes started here are killed, by PID.  The last line is
"N passed, N failed"; the exit status is 1 when anything failed.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import mkmaildir  # noqa: E402

NOW = "2026-12-01T00:00:00Z"
# The policy in force over all the mails' incidents: it names two of
# mkmaildir's default sources as the relay's, so the verdicts are a mix
# of allowed, blocked and not ours.
POLICY = """\
Address 192.0.2.25
OutboundBindAddressExit 192.0.2.26
ExitRelay 1
reject *:25
reject *:6660-7000
reject 198.0.0.0/8:*
accept *:*
"""
POLICY_AT = "2026-10-01T00:00:00Z"
# columns that depend on the wall clock of the run, not on the mail
IGNORED = {"id", "received_at", "opened_at", "complaint_id", "ticket_id"}
RUN_TIMEOUT = 600


class Result:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.verbose = verbose

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            if self.verbose:
                print("ok   %s" % what)
        else:
            self.failed += 1
            print("FAIL %s%s" % (what, (": " + detail) if detail else ""))
        sys.stdout.flush()
        return ok


def base(name):
    return name.split(":2,", 1)[0]


def flags(name):
    return name.split(":2,", 1)[1] if ":2," in name else None


def listing(maildir):
    return {d: sorted(os.listdir(os.path.join(maildir, d)))
            for d in ("new", "cur", "tmp")}


def connect(db):
    """A connection to a copy of the database (with its write-ahead log),
    or None when there is none yet.  The database under test is never
    opened here: a read-only connection cannot recover the WAL index a
    killed writer left, and a writable one would checkpoint it -- the
    next exitwarden run must find exactly what the kill left."""
    if not os.path.exists(db):
        return None
    snap = os.path.join(os.path.dirname(db), "snapshot")
    if os.path.isdir(snap):
        shutil.rmtree(snap)
    os.makedirs(snap)
    copy = os.path.join(snap, os.path.basename(db))
    for sfx in ("", "-wal", "-journal"):
        if os.path.exists(db + sfx):
            shutil.copyfile(db + sfx, copy + sfx)
    c = sqlite3.connect(copy, timeout=10)
    c.row_factory = sqlite3.Row
    return c


def tables(c):
    return {r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(c, table):
    return [r[1] for r in c.execute("PRAGMA table_info(%s)" % table)]


def dump(db):
    """The database's content, independent of ids and reception times:
    complaints and incidents keyed by the complaint's content hash,
    tickets as (their fields, the hashes of their complaints)."""
    out = dict(complaints={}, incidents={}, tickets=[], links={}, other={})
    c = connect(db)
    if c is None:
        return out
    try:
        t = tables(c)
        if "complaints" not in t:
            return out
        sha_of = {}
        ccols = [k for k in columns(c, "complaints") if k not in IGNORED]
        for r in c.execute("SELECT * FROM complaints"):
            sha_of[r["id"]] = r["content_sha256"]
            out["complaints"][r["content_sha256"]] = \
                tuple((k, r[k]) for k in ccols)
        icols = [k for k in columns(c, "incidents") if k not in IGNORED]
        for r in c.execute("SELECT * FROM incidents"):
            out["incidents"].setdefault(sha_of.get(r["complaint_id"]),
                                        []).append(
                tuple((k, r[k]) for k in icols))
        for v in out["incidents"].values():
            v.sort(key=repr)
        members = {}
        for r in c.execute("SELECT * FROM ticket_complaints"):
            members.setdefault(r["ticket_id"], []).append(
                sha_of.get(r["complaint_id"]))
            out["links"].setdefault(sha_of.get(r["complaint_id"]),
                                    []).append(r["ticket_id"])
        tcols = [k for k in columns(c, "tickets") if k not in IGNORED]
        for r in c.execute("SELECT * FROM tickets"):
            out["tickets"].append((tuple((k, r[k]) for k in tcols),
                                   tuple(sorted(members.get(r["id"], [])))))
        out["tickets"].sort(key=repr)
        for name in ("rules", "policy_versions"):
            if name in t:
                out["other"][name] = c.execute(
                    "SELECT count(*) FROM %s" % name).fetchone()[0]
    finally:
        c.close()
    return out


def user_version(db):
    c = connect(db)
    try:
        return c.execute("PRAGMA user_version").fetchone()[0]
    finally:
        c.close()


def integrity(db):
    c = connect(db)
    if c is None:
        return "no database"
    try:
        ic = [r[0] for r in c.execute("PRAGMA integrity_check")]
        fk = list(c.execute("PRAGMA foreign_key_check"))
    finally:
        c.close()
    if ic != ["ok"]:
        return "integrity_check: %s" % ic[:5]
    if fk:
        return "foreign_key_check: %s" % [tuple(x) for x in fk[:5]]
    return None


def diff_dumps(a, b, what_a="killed", what_b="reference"):
    """A list of differences between two dumps (empty when the same)."""
    d = []
    ka, kb = set(a["complaints"]), set(b["complaints"])
    for s in sorted(ka - kb)[:5]:
        d.append("complaint %s only in %s" % (s[:12], what_a))
    for s in sorted(kb - ka)[:5]:
        d.append("complaint %s only in %s" % (s[:12], what_b))
    for s in sorted(ka & kb):
        if a["complaints"][s] != b["complaints"][s]:
            d.append("complaint %s differs: %s vs %s" % (
                s[:12], dict(a["complaints"][s]), dict(b["complaints"][s])))
        if a["incidents"].get(s, []) != b["incidents"].get(s, []):
            d.append("incidents of %s differ: %s vs %s" % (
                s[:12], a["incidents"].get(s), b["incidents"].get(s)))
    if a["tickets"] != b["tickets"]:
        ta, tb = set(a["tickets"]), set(b["tickets"])
        d.append("tickets differ: %d vs %d; only in %s: %s; only in %s: %s"
                 % (len(a["tickets"]), len(b["tickets"]), what_a,
                    [dict(x[0]) for x in sorted(ta - tb, key=repr)[:3]],
                    what_b,
                    [dict(x[0]) for x in sorted(tb - ta, key=repr)[:3]]))
    if a["other"] != b["other"]:
        d.append("rules/policy_versions: %s vs %s" % (a["other"],
                                                      b["other"]))
    return d


class Ingest:
    """One database and Maildir under test, and what the manifest says."""

    def __init__(self, ew, manifest):
        self.ew = ew
        self.m = manifest
        self.files = {f["name"]: f for f in manifest["files"]}
        self.distinct = {d["sha256"]: d for d in manifest["distinct"]}
        by_name = {d["file"]: d for d in manifest["distinct"]}
        # the complaint each file stands for (None: unreadable)
        self.target = {}
        for f in manifest["files"]:
            if f["kind"] == "unreadable":
                self.target[f["name"]] = None
            elif f["of"] is None:
                self.target[f["name"]] = f["sha256"]
            else:
                self.target[f["name"]] = by_name[f["of"]]["sha256"]

    def invariants(self, maildir, db, ref):
        """Problems after a kill (a list of strings; empty: none) and
        whether some stored complaint still had all its files in new/."""
        p = []
        ls = listing(maildir)
        seen = {}
        for d in ("new", "cur"):
            for n in ls[d]:
                seen.setdefault(base(n), []).append("%s/%s" % (d, n))
        for n in self.files:
            if len(seen.get(n, [])) != 1:
                p.append("%s is at %s" % (n, seen.get(n, [])))
        for n in set(seen) - set(self.files):
            p.append("unknown file %s" % seen[n])
        if ls["tmp"]:
            p.append("tmp/ holds %s" % ls["tmp"][:3])
        err = integrity(db) if os.path.exists(db) else None
        if err is not None:
            p.append(err)
        dm = dump(db)
        stored = set(dm["complaints"])
        for n in ls["cur"]:
            t = self.target.get(base(n))
            if t is not None and t not in stored:
                p.append("cur/%s moved but its complaint %s is not stored"
                         % (n, t[:12]))
        for s in stored:
            if s not in self.distinct:
                p.append("stored complaint %s is no distinct mail "
                         "(a resend or an unreadable one stored)" % s[:12])
            elif dm["incidents"].get(s, []) != ref["incidents"].get(s, []):
                p.append("complaint %s stored with %d incidents, the "
                         "reference has %d" % (
                             s[:12], len(dm["incidents"].get(s, [])),
                             len(ref["incidents"].get(s, []))))
            if len(dm["links"].get(s, [])) != 1:
                p.append("complaint %s is in tickets %s"
                         % (s[:12], dm["links"].get(s, [])))
        in_new = {self.target.get(n) for n in ls["new"]}
        in_cur = {self.target.get(base(n)) for n in ls["cur"]}
        pending = any(s in in_new and s not in in_cur for s in stored)
        return p, pending, len(stored), len(ls["new"])

    def final(self, res, label, maildir, db, ref=None):
        ls = listing(maildir)
        res.check(not ls["new"], "%s: new/ empty" % label,
                  "%d left: %s" % (len(ls["new"]), ls["new"][:3]))
        res.check(not ls["tmp"], "%s: tmp/ empty" % label, str(ls["tmp"]))
        count = {}
        for n in ls["cur"]:
            count[base(n)] = count.get(base(n), 0) + 1
        bad = [n for n in self.files if count.get(n) != 1]
        extra = [n for n in count if n not in self.files]
        res.check(not bad and not extra,
                  "%s: every file in cur/ exactly once" % label,
                  "missing or doubled %s; unknown %s" % (bad[:5], extra[:5]))
        wrong = []
        for n in ls["cur"]:
            f = self.files.get(base(n))
            fl = flags(n) or ""
            if f is None:
                continue
            if f["kind"] == "unreadable" and "F" not in fl:
                wrong.append("%s (%s) flags %r, expected F"
                             % (n, f["why"], fl))
            if f["kind"] != "unreadable" and "S" not in fl:
                wrong.append("%s flags %r, expected S" % (n, fl))
        res.check(not wrong, "%s: flags (F: unreadable, S: the rest)"
                  % label, "; ".join(wrong[:8]))
        self.store_checks(res, label, db)
        if ref is not None:
            d = diff_dumps(dump(db), ref)
            res.check(not d, "%s: same complaints, incidents, verdicts and "
                      "tickets as the clean ingest" % label,
                      "\n    ".join(d[:10]))

    def store_checks(self, res, label, db, expect=None):
        err = integrity(db)
        res.check(err is None, "%s: integrity_check and foreign_key_check"
                  % label, err or "")
        dm = dump(db)
        want = set(expect if expect is not None else self.distinct)
        got = set(dm["complaints"])
        res.check(got == want, "%s: %d complaints, one per distinct mail"
                  % (label, len(want)),
                  "%d stored; missing %s; not expected %s" % (
                      len(got), self.describe(want - got),
                      self.describe(got - want)))
        c = connect(db)
        dup = []
        if c is not None:
            try:
                dup = list(c.execute(
                    "SELECT message_id, count(*) FROM complaints WHERE "
                    "message_id IS NOT NULL GROUP BY message_id "
                    "HAVING count(*) > 1"))
            finally:
                c.close()
        res.check(not dup, "%s: Message-IDs unique" % label, str(dup[:5]))
        wrong = ["%s: %d incidents, expected %d" % (
            self.distinct[s]["file"], len(dm["incidents"].get(s, [])),
            self.distinct[s]["incidents"])
            for s in sorted(got & want)
            if len(dm["incidents"].get(s, [])) !=
            self.distinct[s]["incidents"]]
        res.check(not wrong, "%s: incidents per complaint as the mails say"
                  % label, "; ".join(wrong[:5]))
        unlinked = [s[:12] for s in got if len(dm["links"].get(s, [])) != 1]
        res.check(not unlinked, "%s: every complaint in exactly one ticket"
                  % label, str(unlinked[:5]))

    def describe(self, shas):
        out = []
        for s in sorted(shas)[:5]:
            d = self.distinct.get(s)
            if d is not None:
                out.append("%s (%s)" % (d["file"], d["shape"]))
                continue
            f = [x for x in self.m["files"] if x["sha256"] == s]
            out.append("%s (%s)" % (f[0]["name"], f[0]["kind"] + "/" + (
                f[0]["why"] or f[0]["shape"] or "")) if f else s[:12])
        return "[%s]%s" % (", ".join(out),
                           " and %d more" % (len(shas) - 5)
                           if len(shas) > 5 else "")


def run(cmd, timeout=RUN_TIMEOUT):
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t


def record(res, ew, db, work, label):
    path = os.path.join(work, "exit.policy")
    with open(path, "w", encoding="utf-8") as f:
        f.write(POLICY)
    p, _ = run([ew, "--db", db, "policy", "record", "--at", POLICY_AT,
                path])
    return res.check(p.returncode == 0, "%s: policy record" % label,
                     "exit %d: %s" % (p.returncode, p.stderr[-1000:]))


def scan_cmd(ew, db, maildir):
    return [ew, "--db", db, "inbox", "scan", "--json", maildir]


def killed_run(cmd, delay, gone=None, appears=None):
    """Start cmd and SIGKILL it `delay` seconds after it started -- or
    after the file `gone` disappeared, or the file `appears` appeared --
    unless it ended first.  Return (killed, returncode, stdout, stderr)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if gone is not None:
        while os.path.exists(gone) and p.poll() is None:
            time.sleep(0.00005)
    if appears is not None:
        while not os.path.exists(appears) and p.poll() is None:
            time.sleep(0.00005)
    deadline = time.monotonic() + delay
    while p.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(left if left < 0.002 else min(left - 0.001, 0.05))
    killed = False
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)  # only the child started here
        killed = True
    try:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return True, None, out, "timed out\n" + err
    return killed and p.returncode == -signal.SIGKILL, p.returncode, out, err


def json_of(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def scan_test(res, ew, work, args):
    gen = os.path.join(work, "gen")
    count = max(10, int(args.mails * 0.9))
    m = mkmaildir.generate(gen, seed=args.seed, count=count)
    total = len(m["files"])
    print("%d mails: %d distinct, %d duplicates, %d unreadable (seed %d)"
          % (total, len(m["distinct"]), len(m["duplicates"]),
             len(m["unreadable"]), args.seed))
    ing = Ingest(ew, m)

    # the reference: one clean scan into a fresh database
    refdir, refdb = os.path.join(work, "ref"), os.path.join(work, "ref.db")
    shutil.copytree(gen, refdir)
    if not record(res, ew, refdb, work, "reference"):
        return
    p, t_full = run(scan_cmd(ew, refdb, refdir))
    if not res.check(p.returncode == 0, "reference scan exits 0",
                     "exit %s: %s" % (p.returncode, p.stderr[-2000:])):
        return
    got = json_of(p.stdout)
    want = {"new": total, "added": len(m["distinct"]),
            "duplicates": len(m["duplicates"]),
            "unreadable": len(m["unreadable"])}
    res.check(got == want, "reference scan --json counts",
              "got %s, expected %s" % (p.stdout.strip(), want))
    ref = dump(refdb)
    ing.final(res, "reference", refdir, refdb)
    print("reference scan: %d mails in %.2f s" % (total, t_full))

    # a kill between a commit and its rename, made on purpose: stored
    # messages put back into new/ are duplicates, moved, nothing stored
    back = [n for n in sorted(os.listdir(os.path.join(refdir, "cur")))
            if ing.files.get(base(n), {}).get("kind") != "unreadable"]
    back = random.Random(args.seed).sample(back, min(8, len(back)))
    for n in back:
        os.rename(os.path.join(refdir, "cur", n),
                  os.path.join(refdir, "new", base(n)))
    p, _ = run(scan_cmd(ew, refdb, refdir))
    res.check(p.returncode == 0 and json_of(p.stdout) ==
              {"new": len(back), "added": 0, "duplicates": len(back),
               "unreadable": 0},
              "stored messages left in new/ (a kill after the commit): "
              "duplicates, moved",
              "exit %d: %s %s" % (p.returncode, p.stdout.strip(),
                                  p.stderr[-500:]))
    d = diff_dumps(dump(refdb), ref, "after the rescan", "before")
    res.check(not d, "the rescan changes nothing in the store",
              "\n    ".join(d[:5]))
    ing.final(res, "rescanned reference", refdir, refdb)

    # start-up cost: a fresh database (migrations) and an existing one
    empty = os.path.join(work, "empty")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(empty, d))
    t_fresh = sorted(run(scan_cmd(ew, os.path.join(work, "fresh%d.db" % k),
                                  empty))[1] for k in range(3))[1]
    t_open = min(run(scan_cmd(ew, refdb, empty))[1] for k in range(5))
    t_mail = max(1e-5, (t_full - t_open) / total)
    print("start-up %.1f ms (fresh database %.1f ms), %.2f ms a mail"
          % (t_open * 1e3, t_fresh * 1e3, t_mail * 1e3))

    rnd = random.Random(args.seed * 7919 + 1)
    crash, db = os.path.join(work, "crash"), os.path.join(work, "crash.db")
    shutil.copytree(gen, crash)
    kills = runs = 0
    phases = {"creating and migrating the database": 0,
              "no progress": 0, "progress": 0, "stored, not yet moved": 0}
    ref_version = user_version(refdb)
    problems = []
    seen = set()
    done = None
    t_start = time.monotonic()

    # kills while the database is created and migrated (a scan of an
    # empty Maildir): each time a new database, but the last, which
    # the next command (policy record) must take over as it is
    t_migrate = max(0.001, 4 * t_mail)
    versions = set()
    for k in range(10):
        for sfx in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db + sfx):
                os.unlink(db + sfx)
        killed, rc, out, err = killed_run(scan_cmd(ew, db, empty),
                                          rnd.uniform(0, t_migrate),
                                          appears=db)
        runs += 1
        kills += killed
        phases["creating and migrating the database"] += killed
        v = user_version(db) if os.path.exists(db) else -1
        err2 = integrity(db) if os.path.exists(db) else None
        if err2 is not None:
            problems.append("killed while creating the database: %s"
                            % err2)
        if v >= ref_version:
            t_migrate /= 3  # too late: earlier
        else:
            versions.add(v)
            t_migrate *= 1.6  # later, to land in the later migrations
    if not record(res, ew, db, work, "a database killed while migrated"):
        return

    # kills among the messages
    stored_before, new_before = 0, total
    while done is None and runs < args.kills * 20:
        runs += 1
        u = rnd.random()
        gone = None
        waiting = sorted(os.listdir(os.path.join(crash, "new")))
        # messages a kill may let through, so that the kills last
        # (besides the one a kill interrupts)
        per_kill = max(0.0, len(waiting) /
                       (2.0 * max(1, args.kills - kills)) - 1)
        if kills >= args.kills:
            delay = RUN_TIMEOUT  # enough: let this one complete
        elif kills == args.kills - 1 and waiting:
            # the last kill: after the last message, while the scan ends
            gone = os.path.join(crash, "new", waiting[-1])
            delay = t_mail * rnd.uniform(0, 2)
        elif u < 0.1:
            # while starting and opening the database
            delay = rnd.uniform(0, t_open)
        elif u < 0.15 and per_kill >= 1:
            # by the clock, somewhere in the first messages
            delay = t_open * rnd.uniform(0.8, 1.0) + \
                t_mail * rnd.uniform(0, 2 * per_kill)
        else:
            # k messages after the start, at a random point of the next
            # one (read, parse, judge, transaction, commit, rename); past
            # the last one: while the scan ends
            k = rnd.randint(0, int(2 * per_kill))
            if k > 0 and waiting:
                gone = os.path.join(crash, "new",
                                    waiting[min(k, len(waiting)) - 1])
            delay = t_mail * rnd.uniform(0, 1.5) if gone else \
                t_open * rnd.uniform(0.5, 1.0)
        killed, rc, out, err = killed_run(scan_cmd(ew, db, crash), delay,
                                          gone)
        if args.verbose:
            print("run %d: %d waiting, kill %.2f ms after %s: %s" % (
                runs, len(waiting), delay * 1e3,
                os.path.basename(gone) + " went" if gone else
                "the start",
                "killed" if killed else "ended, exit %s" % rc))
        if not killed:
            done = (rc, out, err)
            break
        kills += 1
        p, pending, stored, new = ing.invariants(crash, db, ref)
        # the machine's load changes: keep the estimates honest, so that
        # a kill lets about the planned number of messages through
        moved = len(waiting) - new
        if gone is not None:
            extra = moved - (waiting.index(os.path.basename(gone)) + 1)
            if extra >= 2:
                t_mail /= 2
            elif extra <= 0:
                t_mail *= 1.1
        elif moved >= 2:
            t_open *= 0.8
        p = [x for x in p if x not in seen]  # each problem once
        seen.update(p)
        if p:
            problems.append("after kill %d (%.1f ms): %s"
                            % (kills, delay * 1e3, "; ".join(p[:4])))
        if pending:
            phases["stored, not yet moved"] += 1
        elif stored == stored_before and new == new_before:
            phases["no progress"] += 1
        else:
            phases["progress"] += 1
        stored_before, new_before = stored, new
    elapsed = time.monotonic() - t_start
    print("%d kills in %d runs, %.1f s; after the kills: %s "
          "(user_version left: %s; the store's is %d)"
          % (kills, runs, elapsed,
             ", ".join("%s %d" % kv for kv in phases.items()),
             ", ".join(map(str, sorted(versions))) or "-", ref_version))
    res.check(not problems, "invariants after each of %d kills" % kills,
              "\n    ".join(problems[:10]))
    # a run may complete a little early when the machine's load changes
    res.check(kills >= args.kills * 3 // 4,
              "at least %d kills (aiming at %d)"
              % (args.kills * 3 // 4, args.kills), "only %d" % kills)
    if not res.check(done is not None and done[0] == 0,
                     "a scan completes after the kills",
                     "no completed run" if done is None else
                     "exit %s: %s" % (done[0], done[2][-2000:])):
        return
    last = json_of(done[1])
    res.check(last is not None and last.get("added", 0) +
              last.get("duplicates", 0) + last.get("unreadable", 0) ==
              last.get("new", -1), "the completing scan's counts add up",
              done[1].strip())
    p, _ = run(scan_cmd(ew, db, crash))
    res.check(p.returncode == 0 and json_of(p.stdout) ==
              {"new": 0, "added": 0, "duplicates": 0, "unreadable": 0},
              "a final clean scan finds nothing to do",
              "exit %d: %s %s" % (p.returncode, p.stdout.strip(),
                                  p.stderr[-500:]))
    ing.final(res, "killed scans", crash, db, ref)


def add_cmd(ew, db, path):
    return [ew, "--db", db, "complaint", "add", "--json", "--now", NOW,
            path]


def add_test(res, ew, work, args):
    """complaint add, one process per mail, killed at random points."""
    gen = os.path.join(work, "gen-add")
    m = mkmaildir.generate(gen, seed=args.seed + 1, count=args.adds,
                           exact_resends=1, msgid_resends=1, n_unreadable=1)
    ing = Ingest(ew, m)
    names = [f["name"] for f in m["files"]]
    path = {n: os.path.join(gen, "new", n) for n in names}

    refdb = os.path.join(work, "add-ref.db")
    db = os.path.join(work, "add.db")
    if not (record(res, ew, refdb, work, "complaint add reference") and
            record(res, ew, db, work, "complaint add killed")):
        return
    wrong = []
    t_add = []
    for n in names:
        f = ing.files[n]
        p, t = run(add_cmd(ew, refdb, path[n]))
        t_add.append(t)
        j = json_of(p.stdout)
        if f["kind"] == "unreadable":
            if p.returncode != 1:
                wrong.append("%s (%s): exit %d, expected 1: %s"
                             % (n, f["why"], p.returncode, p.stdout.strip()))
        elif p.returncode != 0 or j is None:
            wrong.append("%s: exit %d: %s" % (n, p.returncode,
                                              p.stderr.strip()[-300:]))
        elif j.get("duplicate") != (f["kind"] != "original"):
            wrong.append("%s (%s): duplicate %s" % (n, f["kind"],
                                                    j.get("duplicate")))
    res.check(not wrong, "complaint add: exit status and duplicate flag "
              "(reference)", "; ".join(wrong))
    ing.store_checks(res, "complaint add reference", refdb)
    ref = dump(refdb)
    t_one = sorted(t_add)[len(t_add) // 2]

    rnd = random.Random(args.seed * 104729 + 3)
    kills = 0
    problems = []
    last_diff = set()
    stored_by_kills = 0
    for n in names:
        f = ing.files[n]
        upto = names[:names.index(n) + 1]
        want = {ing.target[x] for x in upto if ing.target[x] is not None}
        before = {ing.target[x] for x in upto[:-1]
                  if ing.target[x] is not None}
        stored_by_kill = False
        for attempt in range(40):
            # anywhere, then towards the end (the transaction), then
            # longer and longer until one completes
            delay = t_one * (rnd.uniform(0, 1.1) if attempt < 2 else
                             rnd.uniform(0.7, 1.1) if attempt < 4 else
                             2 * attempt)
            killed, rc, out, err = killed_run(add_cmd(ew, db, path[n]),
                                              delay)
            if not killed:
                break
            kills += 1
            dm = dump(db)
            got = set(dm["complaints"])
            err2 = integrity(db) if os.path.exists(db) else None
            if err2 is not None:
                problems.append("after a kill adding %s: %s" % (n, err2))
            if not before <= got <= want:
                problems.append("after a kill adding %s: %d complaints "
                                "stored, expected %d or %d" % (
                                    n, len(got), len(before), len(want)))
            for x in got:
                if dm["incidents"].get(x, []) != ref["incidents"].get(x, []) \
                        or len(dm["links"].get(x, [])) != 1:
                    problems.append("after a kill adding %s: complaint %s "
                                    "stored in part" % (n, x[:12]))
            if got == want and want != before:
                stored_by_kill = True
        else:
            problems.append("%s: no completed add in 40 runs" % n)
            continue
        stored_by_kills += stored_by_kill
        want_rc = 1 if f["kind"] == "unreadable" else 0
        if rc != want_rc:
            problems.append("%s (%s): exit %s, expected %d: %s"
                            % (n, f["kind"], rc, want_rc, err[-300:]))
        # the store holds exactly the distinct mails added so far
        got = set(dump(db)["complaints"])
        if got ^ want != last_diff:  # each new difference once
            problems.append("after adding %s: %d complaints stored, "
                            "expected %d" % (n, len(got), len(want)))
        last_diff = got ^ want
    print("complaint add: %d mails, %d kills (%d mails stored by a run "
          "then killed), %.1f ms an add"
          % (len(names), kills, stored_by_kills, t_one * 1e3))
    res.check(not problems, "complaint add killed %d times: nothing lost "
              "or doubled" % kills, "\n    ".join(problems[:10]))
    ing.store_checks(res, "complaint add killed", db)
    d = diff_dumps(dump(db), ref)
    res.check(not d, "complaint add killed: same content as the clean adds",
              "\n    ".join(d[:10]))


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exitwarden")
    ap.add_argument("--mails", type=int,
                    default=int(env("EW_CRASH_MAILS", "300")))
    ap.add_argument("--kills", type=int,
                    default=int(env("EW_CRASH_KILLS", "80")))
    ap.add_argument("--adds", type=int,
                    default=int(env("EW_CRASH_ADDS", "8")))
    ap.add_argument("--seed", type=int,
                    default=int(env("EW_CRASH_SEED", "20261122")))
    ap.add_argument("--keep", help="work in DIR and leave it there")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ew = os.path.abspath(args.exitwarden)
    res = Result(args.verbose)
    t0 = time.monotonic()
    if args.keep:
        if os.path.exists(args.keep):
            shutil.rmtree(args.keep)
        os.makedirs(args.keep)
        work = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ew-crash-")
        work = tmp.name
    # the machine's own state stays out of it
    os.environ.pop("EW_DB", None)
    os.environ["XDG_STATE_HOME"] = os.path.join(work, "state")
    try:
        scan_test(res, ew, work, args)
        add_test(res, ew, work, args)
    except subprocess.TimeoutExpired as e:
        res.check(False, "a run ended in time", str(e))
    print("%.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
