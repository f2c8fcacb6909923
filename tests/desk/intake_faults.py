#!/usr/bin/env python3
"""The desk's intake when the store refuses a statement it deferred, and
when two writers add the same mail at once (desk/intake-faults on SQLite,
store/pg-intake-faults on PostgreSQL).

    intake_faults.py EXITWARDEN

With EW_TEST_PG set (tests/tools/pgcluster.py) the store is that
cluster's database, else a SQLite file in a temporary directory.

The desk writes a complaint's incidents, their ports and its ticket link
with ew_store_step_later: on PostgreSQL they go to the server with the
next statement or the commit.  Triggers of the test's own refuse one
mail's incident, another's port and a third's ticket link; an inbox scan
of eight mails must then store the other five whole, the three not at
all (no complaint, incident, port, ticket or link of theirs), leave
those three in new/ with each one's own refusal said, and once the
triggers are gone, store them on the next scan.  Then two `complaint
add` of one mail at once, held behind the writers' lock by the test so
that they are in flight together: one stored, the others duplicates
of it, never two, never an error; two mails of one Message-ID at once:
both stored, the later flagged (issue 17 item 3).  Ends with
"N passed, N failed".
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

EW = os.path.abspath(sys.argv[1])
PG = os.environ.get("EW_TEST_PG", "")
passed = failed = 0

PG_TRIGGERS = """
CREATE FUNCTION ew_test_1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.dst = '203.0.113.66' THEN
        RAISE EXCEPTION 'refused by the test: incident';
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION ew_test_2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.lo = 6666 THEN
        RAISE EXCEPTION 'refused by the test: port';
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION ew_test_3() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM complaints c WHERE c.id = NEW.complaint_id
               AND c.message_id LIKE '%poison-link%') THEN
        RAISE EXCEPTION 'refused by the test: link';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ew_test_1 BEFORE INSERT ON incidents
    FOR EACH ROW EXECUTE FUNCTION ew_test_1();
CREATE TRIGGER ew_test_2 BEFORE INSERT ON incident_ports
    FOR EACH ROW EXECUTE FUNCTION ew_test_2();
CREATE TRIGGER ew_test_3 BEFORE INSERT ON ticket_complaints
    FOR EACH ROW EXECUTE FUNCTION ew_test_3();
"""

PG_UNTRIGGER = """
DROP TRIGGER ew_test_1 ON incidents;
DROP TRIGGER ew_test_2 ON incident_ports;
DROP TRIGGER ew_test_3 ON ticket_complaints;
DROP FUNCTION ew_test_1();
DROP FUNCTION ew_test_2();
DROP FUNCTION ew_test_3();
"""

SQLITE_TRIGGERS = """
CREATE TRIGGER ew_test_1 BEFORE INSERT ON incidents
    WHEN NEW.dst = '203.0.113.66'
    BEGIN SELECT RAISE(ABORT, 'refused by the test: incident'); END;
CREATE TRIGGER ew_test_2 BEFORE INSERT ON incident_ports
    WHEN NEW.lo = 6666
    BEGIN SELECT RAISE(ABORT, 'refused by the test: port'); END;
CREATE TRIGGER ew_test_3 BEFORE INSERT ON ticket_complaints
    WHEN (SELECT message_id FROM complaints WHERE id = NEW.complaint_id)
        LIKE '%poison-link%'
    BEGIN SELECT RAISE(ABORT, 'refused by the test: link'); END;
"""

SQLITE_UNTRIGGER = """
DROP TRIGGER ew_test_1;
DROP TRIGGER ew_test_2;
DROP TRIGGER ew_test_3;
"""


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def ew(*args, env=None, stdin=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    e.update(env or {})
    p = subprocess.run([EW] + list(args), capture_output=True, text=True,
                       env=e, input=stdin, timeout=120)
    return p.returncode, p.stdout, p.stderr


def mail(mid, dst, port, frm="IRC Opers <opers@irc.example.net>"):
    return ("From: %s\nTo: abuse@relay.example\nSubject: Abuse to %s\n"
            "Date: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <%s>\n\n"
            "Hello,\n\non 2026-11-20 10:00:00 UTC we saw connections from"
            " 198.51.100.7\nto our server %s on port %s. Please fix this"
            " within 24 hours.\n" % (frm, dst, mid, dst, port))


class Store:
    """SQL on the store the test's exitwarden writes, by the test."""

    def __init__(self, db):
        self.db = db

    def script(self, sql):
        if PG:
            p = subprocess.run(["psql", "-X", "-At", "-q", "-v",
                                "ON_ERROR_STOP=1", "-d", PG],
                               input=sql, capture_output=True, text=True,
                               timeout=60)
            check(p.returncode == 0, "psql: %s" % p.stderr)
            return
        con = sqlite3.connect(self.db)
        try:
            con.executescript(sql)
        finally:
            con.close()

    def value(self, sql):
        if PG:
            p = subprocess.run(["psql", "-X", "-At", "-v",
                                "ON_ERROR_STOP=1", "-d", PG, "-c", sql],
                               capture_output=True, text=True, timeout=60)
            return p.stdout.strip() if p.returncode == 0 else None
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            v = con.execute(sql).fetchone()[0]
            return "" if v is None else str(v)
        finally:
            con.close()


def inbox(tmp, env, st):
    md = os.path.join(tmp, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    msgs = {"1.ok": mail("ok1@x", "203.0.113.61", "6667"),
            "2.ok": mail("ok2@x", "203.0.113.62", "6667"),
            "3.bad": mail("bad-incident@x", "203.0.113.66", "6667"),
            "4.ok": mail("ok4@x", "203.0.113.64", "6667"),
            "5.bad": mail("bad-port@x", "203.0.113.65", "6666"),
            "6.ok": mail("ok6@x", "203.0.113.67", "6667"),
            "7.bad": mail("poison-link@x", "203.0.113.68", "6667"),
            "8.ok": mail("ok8@x", "203.0.113.69", "6667")}
    for name, body in msgs.items():
        with open(os.path.join(md, "new", name), "w") as f:
            f.write(body)
    # the schema made, then the test's triggers on it
    rc, _, err = ew("policy", "history", env=env)
    check(rc == 0, "a new store: %s" % err)
    st.script(PG_TRIGGERS if PG else SQLITE_TRIGGERS)

    rc, out, err = ew("inbox", "scan", "--json", md, env=env)
    check(rc == 1, "inbox scan fails for the three: %d %s" % (rc, err))
    r = json.loads((out.splitlines() or ["{}"])[-1])
    check(r.get("new") == 8 and r.get("added") == 5
          and r.get("duplicates") == 0 and r.get("unreadable") == 0,
          "counts: %s" % r)
    check(sorted(os.listdir(os.path.join(md, "new")))
          == ["3.bad", "5.bad", "7.bad"],
          "the three left in new/: %s" % os.listdir(os.path.join(md, "new")))
    check(sorted(os.listdir(os.path.join(md, "cur")))
          == ["1.ok:2,S", "2.ok:2,S", "4.ok:2,S", "6.ok:2,S", "8.ok:2,S"],
          "the five in cur/: %s" % os.listdir(os.path.join(md, "cur")))
    lines = err.splitlines()
    for name, what in (("3.bad", "incident"), ("5.bad", "port"),
                       ("7.bad", "link")):
        said = [ln for ln in lines if ("/new/%s:" % name) in ln]
        check(len(said) == 1 and "not stored, left in new/" in said[0]
              and ("refused by the test: %s" % what) in said[0],
              "%s: its own refusal said: %s" % (name, said))
    check(st.value("SELECT count(*) FROM complaints") == "5",
          "five complaints: %s" % st.value("SELECT count(*) FROM complaints"))
    check(st.value("SELECT count(*) FROM complaints WHERE message_id LIKE"
                   " '%bad%' OR message_id LIKE '%poison%'") == "0",
          "none of the three")
    check(st.value("SELECT count(*) FROM incidents") == "5"
          and st.value("SELECT count(*) FROM incidents WHERE complaint_id"
                       " NOT IN (SELECT id FROM complaints)") == "0",
          "five incidents, each of a complaint stored")
    check(st.value("SELECT count(*) FROM incident_ports") == "5"
          and st.value("SELECT count(*) FROM incident_ports WHERE lo <>"
                       " 6667") == "0",
          "five ports, none of the refused: %s"
          % st.value("SELECT count(*) FROM incident_ports"))
    check(st.value("SELECT count(*) FROM ticket_complaints") == "5"
          and st.value("SELECT count(*) FROM tickets") == "1",
          "one ticket, five links: %s %s"
          % (st.value("SELECT count(*) FROM tickets"),
             st.value("SELECT count(*) FROM ticket_complaints")))
    check(st.value("SELECT count(*) FROM incidents i JOIN incident_ports p"
                   " ON p.incident_id = i.id") == "5",
          "each port under its own incident")

    st.script(PG_UNTRIGGER if PG else SQLITE_UNTRIGGER)
    rc, out, err = ew("inbox", "scan", "--json", md, env=env)
    r = json.loads((out.splitlines() or ["{}"])[-1])
    check(rc == 0 and r.get("added") == 3
          and os.listdir(os.path.join(md, "new")) == [],
          "the three stored once the store takes them: %s %s" % (r, err))
    check(st.value("SELECT count(*) FROM complaints") == "8"
          and st.value("SELECT count(*) FROM incidents") == "8"
          and st.value("SELECT count(*) FROM incident_ports") == "8"
          and st.value("SELECT count(*) FROM ticket_complaints") == "8",
          "eight of each")


class Held:
    """The store's writers held back while the test holds the lock they
    take (PostgreSQL's writers' advisory lock, SQLite's write lock) for
    `secs`: writers started meanwhile are all in flight together."""

    def __init__(self, st, secs):
        self.st, self.secs = st, secs

    def __enter__(self):
        if PG:
            self.p = subprocess.Popen(
                ["psql", "-X", "-At", "-q", "-d", PG, "-c",
                 "SELECT pg_advisory_lock(1702327922), pg_sleep(%s)"
                 % self.secs], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            time.sleep(0.2)  # psql connected, the lock taken
        else:
            self.con = sqlite3.connect(self.st.db, isolation_level=None)
            self.con.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        if PG:
            self.p.wait(timeout=60)
        else:
            time.sleep(self.secs)
            self.con.execute("ROLLBACK")
            self.con.close()


def add_all(env, st, mails):
    """One `complaint add --json -` each, all started at once behind the
    held lock: (rc, json) each."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    e.update(env)
    with Held(st, 0.8):
        ps = [subprocess.Popen([EW, "complaint", "add", "--json", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=e)
              for _ in mails]
        for p, body in zip(ps, mails):
            p.stdin.write(body)
            p.stdin.close()
    res = []
    for p in ps:
        out, err = p.stdout.read(), p.stderr.read()
        p.wait(timeout=120)
        try:
            r = json.loads(out)
        except ValueError:
            r = {"error": err}
        res.append((p.returncode, r))
    return res


def concurrent(env, st):
    n0 = int(st.value("SELECT count(*) FROM complaints") or 0)
    rounds = 4
    for k in range(rounds):
        m = mail("same%d@x" % k, "203.0.113.%d" % (100 + k), "6667",
                 frm="abuse-%d@irc.example.net" % k)
        res = add_all(env, st, [m, m, m])
        rcs = [rc for rc, _ in res]
        dups = sorted(bool(r.get("duplicate")) for _, r in res)
        ids = set(r.get("complaint") for _, r in res)
        check(rcs == [0, 0, 0], "round %d: no error: %s" % (k, res))
        check(dups == [False, True, True] and len(ids) == 1,
              "round %d: one stored, the others its duplicates: %s"
              % (k, res))
    check(st.value("SELECT count(*) FROM complaints") == str(n0 + rounds),
          "one complaint a round")
    # a prank of the same Message-ID at the same time: both stored
    for k in range(3):
        real = mail("mid%d@provider" % k, "203.0.113.%d" % (150 + k), "6667")
        prank = mail("mid%d@provider" % k, "203.0.113.%d" % (150 + k), "80",
                     frm="prank@evil.example")
        (ra, a), (rb, b) = add_all(env, st, [real, prank])
        ids = sorted([a.get("complaint") or 0, b.get("complaint") or 0])
        flags = [a.get("reuses_message_id_of"), b.get("reuses_message_id_of")]
        check(ra == 0 and rb == 0 and not a.get("duplicate")
              and not b.get("duplicate") and ids[0] > 0
              and ids[0] != ids[1] and sorted(flags, key=str)
              == sorted([None, ids[0]], key=str),
              "Message-ID %d: both stored, the later flagged: %s %s"
              % (k, a, b))


def main():
    tmp = tempfile.mkdtemp(prefix="ew-intake-faults-")
    try:
        pol = os.path.join(tmp, "exit.policy")
        with open(pol, "w") as f:
            f.write("Address 198.51.100.7\nExitRelay 1\n"
                    "ExitPolicy accept *:*\n")
        db = PG or os.path.join(tmp, "ew.db")
        env = {"EW_DB": db, "EW_POLICY": pol,
               "EW_MANAGED": os.path.join(tmp, "managed.policy")}
        st = Store(db)
        inbox(tmp, env, st)
        concurrent(env, st)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d passed, %d failed" % ("PostgreSQL" if PG else "SQLite",
                                        passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
