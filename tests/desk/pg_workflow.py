#!/usr/bin/env python3
"""The desk's workflow through the CLI on PostgreSQL (store/pg-workflow).

Run by tests/tools/pgcluster.py, which starts a throwaway cluster and
sets EW_TEST_PG to its keyword connection string.  exitwarden is given
that string as --db (and as postgresql:// with libpq's PG* environment):
policy record / history, complaint add (judged, filed; a re-sent copy
recognised), ticket block -n and --no-apply, ticket close, with the
rows checked through the CLI's JSON; the tables and columns are those
of a SQLite store; a connection string with a password
that cannot connect fails with the password masked.  Ends with
"N passed, N failed".
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

EW = os.path.abspath(sys.argv[1])
PG = os.environ.get("EW_TEST_PG", "")
passed = failed = 0


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
                       env=e, input=stdin, timeout=60)
    return p.returncode, p.stdout, p.stderr


def mail(mid, src, dst, port, when):
    return ("From: IRC Opers <opers@irc.example.net>\n"
            "To: abuse@relay.example\nSubject: Abuse from %s\n"
            "Date: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <%s>\n\n"
            "Hello,\n\non %s UTC we saw connections from %s\n"
            "to our server %s on port %s. Please fix this within 24 hours.\n"
            % (src, mid, when, src, dst, port))


def run(tmp):
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("Address 198.51.100.7\nExitRelay 1\n"
                "ExitPolicy accept *:*\n")
    managed = os.path.join(tmp, "managed.policy")
    env = {"EW_DB": PG, "EW_POLICY": pol, "EW_MANAGED": managed}
    now = "2026-11-20T12:05:00Z"

    rc, out, err = ew("policy", "history", env=env)
    check(rc == 0 and "no policy recorded" in out,
          "a new database: migrated, empty: %s" % err)
    rc, _, err = ew("policy", "record", "--at", "2026-11-01T00:00:00Z", pol,
                    env=env)
    check(rc == 0, "policy record: %s" % err)

    a = mail("a1@irc.example.net", "198.51.100.7", "203.0.113.5", "6667",
             "2026-11-20 10:00:00")
    rc, out, err = ew("complaint", "add", "--json", "--now", now, "-",
                      env=env, stdin=a)
    check(rc == 0, "complaint add: %s" % err)
    r = json.loads(out or "{}")
    check(r.get("complaint") == 1 and r.get("ticket") == 1
          and r.get("new_ticket") and not r.get("duplicate"),
          "first complaint, new ticket: %s" % out[:200])
    check([i["verdict"] for i in r.get("incidents", [])] == ["allowed"],
          "judged against the recorded policy: %s" % r.get("incidents"))
    props = r.get("show", {}).get("proposals", [])
    check([p["scope"] for p in props] == ["destination", "netblock", "ports"],
          "three proposals: %s" % props)
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=a)
    r = json.loads(out or "{}")
    check(rc == 0 and r.get("duplicate") and r.get("complaint") == 1,
          "the same mail again: a duplicate")

    rc, out, err = ew("ticket", "block", "-n", "--choice", "1", "--now", now,
                      "1", env=env)
    check(rc == 0 and "+ reject 203.0.113.5:6667" in out,
          "block -n shows the new item: %s" % err)
    check(not os.path.exists(managed), "-n writes no managed policy")
    rc, out, err = ew("ticket", "block", "--choice", "1", "--expires", "1d",
                      "--no-apply", "--now", now, "1", env=env)
    check(rc == 0, "block --no-apply: %s" % err)
    with open(managed) if os.path.exists(managed) else open(os.devnull) as f:
        text = f.read()
    check("reject 203.0.113.5:6667" in text, "the managed policy has it")
    rc, out, err = ew("ticket", "show", "--json", "--now", now, "1", env=env)
    t = json.loads(out or "{}")
    check(rc == 0 and any(b.get("rule") == "reject 203.0.113.5:6667"
                          for b in t.get("blocks", t.get("rules", []))),
          "the ticket shows its block: %s" % out[:300])
    rc, _, err = ew("ticket", "close", "--reason", "blocked", "1", env=env)
    check(rc == 0, "ticket close: %s" % err)
    rc, out, _ = ew("ticket", "list", "--json", "--all", "--now", now,
                    env=env)
    tl = json.loads(out or "{}").get("tickets", [])
    check(len(tl) == 1 and tl[0].get("closed") in (True, 1)
          or (len(tl) == 1 and tl[0].get("status") == "closed"),
          "closed: %s" % tl)

    # postgresql:// and libpq's PG* environment: the same database
    parts = dict(kv.split("=", 1) for kv in PG.split())
    pgenv = {"PGHOST": parts["host"], "PGPORT": parts["port"],
             "PGUSER": parts["user"], "PGDATABASE": parts["dbname"],
             "EW_POLICY": pol, "EW_MANAGED": managed}
    rc, out, err = ew("--db", "postgresql://", "policy", "history", "--json",
                      env=pgenv)
    h = json.loads(out or "{}").get("versions", [])
    check(rc == 0 and len(h) == 1, "postgresql:// with PG*: %s" % err)

    # the same schema on both back ends: every table and column of a
    # SQLite store made by the same binary, and nothing else (but the
    # version table that stands for SQLite's PRAGMA user_version)
    lite = os.path.join(tmp, "lite.db")
    rc, _, err = ew("--db", lite, "policy", "history",
                    env={"EW_POLICY": pol, "EW_MANAGED": managed})
    check(rc == 0, "a SQLite store: %s" % err)
    con = sqlite3.connect(lite)
    want = {(t, c) for (t,) in con.execute(
        "select name from sqlite_master where type = 'table'"
        " and name not like 'sqlite_%'")
        for (c,) in con.execute("select name from pragma_table_info(?)",
                                (t,))}
    con.close()
    p = subprocess.run(["psql", PG, "-XAtF", " ", "-c",
                        "select table_name, column_name from"
                        " information_schema.columns where"
                        " table_schema = current_schema()"],
                       capture_output=True, text=True, timeout=60)
    got = {tuple(line.split(" ", 1)) for line in p.stdout.splitlines()}
    got.discard(("ew_schema_version", "one"))
    got.discard(("ew_schema_version", "version"))
    check(p.returncode == 0 and got == want and len(want) > 40,
          "the same tables and columns as SQLite: only in PostgreSQL %s,"
          " only in SQLite %s" % (sorted(got - want), sorted(want - got)))

    # no EW_MANAGED: the managed policy beside the default database
    # file, its directory made private as the file's would have been
    # (not as root: that default is /var/lib/exitwarden, the machine's)
    if os.getuid() != 0:
        state = os.path.join(tmp, "xdg")
        rc, out, err = ew("ticket", "block", "--choice", "2", "--no-apply",
                          "--now", now, "1",
                          env={"EW_DB": PG, "EW_POLICY": pol,
                               "XDG_STATE_HOME": state})
        mp = os.path.join(state, "exitwarden", "managed.policy")
        check(rc == 0 and os.path.exists(mp)
              and os.stat(os.path.dirname(mp)).st_mode & 0o777 == 0o700,
              "the default managed policy's directory: %s" % err)

    # cannot connect: a clear error, the password masked
    rc, _, err = ew("--db", "postgresql://ew:s3cret@/nodb?host=%s/nowhere"
                    % tmp, "policy", "history",
                    env={"EW_POLICY": pol, "EW_MANAGED": managed})
    check(rc == 1 and "cannot open the database" in err
          and "s3cret" not in err and "***" in err,
          "unreachable: an error without the password: %s" % err)


def main():
    if not PG:
        print("EW_TEST_PG is not set (run me through pgcluster.py)")
        return 77
    tmp = tempfile.mkdtemp(prefix="ew-pgwf-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
