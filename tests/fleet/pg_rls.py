#!/usr/bin/env python3
"""A fleet host's database role sees only its own scope (fleet/pg-rls).

Run by tests/tools/pgcluster.py (EW_TEST_PG: the throwaway cluster, as
its superuser, who plays the desk).  The desk takes in a complaint,
blocks for the whole fleet, turns row-level security on (fleet init)
and adds two hosts; the SQL `fleet add-host` prints is run as the
superuser, as the operator would.  Then, connected with the connection
string printed for host exit1: it cannot read complaints, incidents,
tickets or another host's blocks, cannot write rules or the revision,
can read the fleet's and its own blocks, insert its own apply reports
and not another host's; exitwarden itself opens the store as that role.
Ends with "N passed, N failed".
"""

import json
import os
import subprocess
import sys
import tempfile

EW = os.path.abspath(sys.argv[1])
PG = os.environ.get("EW_TEST_PG", "")
passed = failed = 0
FP_A = "A" * 40
FP_B = "B" * 40


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


def psql(conn, sql):
    """Run sql (from stdin, stopping at the first error): rc, out, err."""
    p = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1",
                        "-d", conn], input=sql, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def denied(conn, sql):
    rc, out, err = psql(conn, sql)
    return rc != 0 and ("permission denied" in err
                        or "row-level security" in err), err.strip()


MAIL = ("From: IRC Opers <opers@irc.example.net>\n"
        "To: abuse@relay.example\nSubject: Abuse from 198.51.100.7\n"
        "Date: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <r1@x>\n\n"
        "Hello,\n\non 2026-11-20 10:00:00 UTC we saw connections from "
        "198.51.100.7\nto our server 203.0.113.5 on port 6667.\n")


def run(tmp):
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("ExitRelay 1\nExitPolicy accept *:*\n")
    env = {"EW_DB": PG, "EW_POLICY": pol,
           "EW_MANAGED": os.path.join(tmp, "managed.policy")}
    now = "2026-11-20T12:05:00Z"
    rc, _, err = ew("complaint", "add", "--now", now, "-", env=env,
                    stdin=MAIL)
    check(rc == 0, "complaint add: %s" % err)
    rc, _, err = ew("block", "add", "--no-apply", "--now", now,
                    "reject 192.0.2.1:*", env=env)
    check(rc == 0, "block add for the fleet: %s" % err)
    for host, rule in (("exit1", "reject 192.0.2.11:*"),
                       ("exit2", "reject 192.0.2.22:*")):
        rc, _, err = ew("block", "add", "--no-apply", "--now", now,
                        "--host", host, rule, env=env)
        check(rc == 0, "block add --host %s: %s" % (host, err))

    # the desk lists every scope's blocks, and expires a host's too
    rc, _, err = ew("block", "add", "--no-apply", "--now", now, "--host",
                    "exit2:b", "--expires", "1h", "reject 192.0.2.44:*",
                    env=env)
    check(rc == 0, "block add --host exit2:b --expires 1h: %s" % err)
    rc, out, err = ew("block", "list", "--json", "--now", now, env=env)
    bl = json.loads(out or "[]")
    scopes = sorted((b.get("host"), b.get("relay") or "") for b in bl
                    if "host" in b)
    check(rc == 0 and len(bl) == 4 and scopes == [
        ("exit1", ""), ("exit2", ""), ("exit2", "b")],
          "block list at the desk: every scope, hosts named: %s %s"
          % (out, err))
    rc, out, err = ew("expire", "--no-apply", "--now",
                      "2026-11-20T14:00:00Z", env=env)
    check(rc == 0, "expire at the desk: %s" % err)
    rc, out, err = ew("block", "list", "--json", "--all", "--now",
                      "2026-11-20T14:00:00Z", env=env)
    bl = json.loads(out or "[]")
    check([b.get("state") for b in bl if b.get("relay") == "b"]
          == ["expired"], "the host's block expired at the desk: %s" % out)

    rc, out, err = ew("fleet", "init", "-n", env=env)
    check(rc == 0 and "CREATE POLICY ew_host_rules ON rules" in out,
          "fleet init -n prints the policies: %s" % err)
    rc, out, err = ew("fleet", "init", env=env)
    check(rc == 0, "fleet init: %s" % err)
    rc, out, err = ew("fleet", "init", env=env)
    check(rc == 0, "fleet init again (idempotent): %s" % err)

    rc, out, err = ew("fleet", "add-host", "-n", "exit9", env=env)
    check(rc == 0 and "CREATE ROLE ew_host_exit9 LOGIN" in out,
          "add-host -n prints the SQL: %s" % err)
    conns = {}
    for host in ("exit1", "exit2"):
        rc, out, err = ew("fleet", "add-host", "--now", now, host, env=env)
        check(rc == 0, "fleet add-host %s: %s" % (host, err))
        lines = out.splitlines()
        conns[host] = lines[-1][3:] if lines else ""
        check("user='ew_host_%s'" % host in conns[host]
              and "password='" in conns[host],
              "its connection string: %s" % conns[host])
        rc, _, err = psql(PG, out)
        check(rc == 0, "the printed SQL runs as superuser: %s" % err)
    rc, out, err = ew("fleet", "add-host", "exit1", env=env)
    check(rc == 1 and "already known" in err, "add-host twice: %s" % err)
    rc, out, err = ew("fleet", "add-host", "Bad-Name", env=env)
    check(rc == 2 and "bad host name" in err, "bad name: %s" % err)
    rc, _, err = ew("fleet", "add-relay", "--address", "198.51.100.7",
                    "exit1", "a", FP_A, "alpha", env=env)
    check(rc == 0, "add-relay: %s" % err)
    rc, _, err = ew("fleet", "add-relay", "exit2", "b", FP_B, env=env)
    check(rc == 0, "add-relay exit2: %s" % err)
    rc, _, err = ew("fleet", "add-relay", "nohost", "c", "C" * 40, env=env)
    check(rc == 1 and "no host" in err, "add-relay to no host: %s" % err)

    h1 = conns["exit1"]
    for table in ("complaints", "incidents", "tickets",
                  "ticket_complaints", "web_tokens"):
        ok, err = denied(h1, "SELECT count(*) FROM %s;" % table)
        check(ok, "the host cannot read %s: %s" % (table, err))
    rc, out, err = psql(h1, "SELECT rule_text FROM rules ORDER BY id;")
    check(rc == 0 and out.split("\n")[:2] == ["reject 192.0.2.1:*",
                                               "reject 192.0.2.11:*"]
          and "192.0.2.22" not in out,
          "the host reads the fleet's and its own blocks only: %r %s"
          % (out, err))
    rc, out, err = psql(h1, "SELECT name FROM hosts; SELECT fp FROM relays;")
    check(rc == 0 and out.split() == ["exit1", FP_A],
          "its own host and relays only: %r %s" % (out, err))
    ok, err = denied(h1, "UPDATE rules SET removed_at = 1;")
    check(ok, "cannot change rules: %s" % err)
    ok, err = denied(h1, "INSERT INTO rules (rule_text, added_at) "
                         "VALUES ('reject *:*', 1);")
    check(ok, "cannot add rules: %s" % err)
    ok, err = denied(h1, "UPDATE store_rev SET rev = rev + 1;")
    check(ok, "cannot move the revision: %s" % err)
    ok, err = denied(h1, "INSERT INTO applies (host, digest, rev, "
                         "applied_at, ok) VALUES ('exit2', 'x', 1, 1, 1);")
    check(ok, "cannot report for another host: %s" % err)
    rc, _, err = psql(h1, "INSERT INTO applies (host, digest, rev, "
                          "applied_at, ok) VALUES ('exit1', 'x', 1, 1, 1);")
    check(rc == 0, "reports for itself: %s" % err)

    # a host's own emergency blocks (schema 14): it stores its own, not
    # another host's, not one already "removed" or "adopted", and
    # cannot change or delete one (the desk's decision)
    hb = ("INSERT INTO host_blocks (uid, host, rule_text, added_at%s) "
          "VALUES ('%s', '%s', 'reject 203.0.113.5:*', 1%s);")
    ok, err = denied(h1, hb % ("", "u2", "exit2", ""))
    check(ok, "cannot store an emergency block for another host: %s" % err)
    ok, err = denied(h1, hb % (", removed_at", "u3", "exit1", ", 2"))
    check(ok, "cannot store one removed already: %s" % err)
    ok, err = denied(h1, hb % (", rev", "u4", "exit1", ", 9"))
    check(ok, "cannot store one with a revision: %s" % err)
    rc, _, err = psql(h1, hb % ("", "u1", "exit1", ""))
    check(rc == 0, "stores its own: %s" % err)
    ok, err = denied(h1, "UPDATE host_blocks SET removed_at = 5;")
    check(ok, "cannot remove one: %s" % err)
    ok, err = denied(h1, "DELETE FROM host_blocks;")
    check(ok, "cannot delete one: %s" % err)
    rc, _, err = psql(conns["exit2"], hb % ("", "u5", "exit2", ""))
    check(rc == 0, "exit2 stores its own: %s" % err)
    rc, out, err = psql(h1, "SELECT uid FROM host_blocks ORDER BY uid;")
    check(rc == 0 and out.split() == ["u1"],
          "a host reads its own emergency blocks only: %r %s" % (out, err))
    # what its relays applied (schema 15): a host records its own
    # relays' versions, reads and ends only its own, never the desk's
    # (host NULL) or another host's
    rc, _, err = psql(PG, "INSERT INTO policy_versions (digest, text, "
                          "applied_from) VALUES ('desk', 'accept *:*', 1);")
    check(rc == 0, "the desk's own version: %s" % err)
    pv = ("INSERT INTO policy_versions (digest, text, applied_from, relay, "
          "host) VALUES ('%s', 'reject *:25', 1, '%s', %s);")
    rc, _, err = psql(h1, pv % ("v1", "a", "'exit1'"))
    check(rc == 0, "records its own relay's version: %s" % err)
    rc, _, err = psql(conns["exit2"], pv % ("v2", "b", "'exit2'"))
    check(rc == 0, "exit2 records its own: %s" % err)
    ok, err = denied(h1, pv % ("v3", "b", "'exit2'"))
    check(ok, "cannot record a version for another host: %s" % err)
    ok, err = denied(h1, pv % ("v4", "", "NULL"))
    check(ok, "cannot record one as the desk's: %s" % err)
    rc, out, err = psql(h1, "SELECT digest FROM policy_versions;")
    check(rc == 0 and out.split() == ["v1"],
          "reads its own versions only: %r %s" % (out, err))
    rc, _, err = psql(h1, "UPDATE policy_versions SET applied_to = 5;")
    rc2, out, err2 = psql(PG, "SELECT digest FROM policy_versions WHERE "
                              "applied_to IS NOT NULL ORDER BY digest;")
    check(rc == 0 and rc2 == 0 and out.split() == ["v1"],
          "ends its own version, no other host's nor the desk's: %r %s%s"
          % (out, err, err2))
    ok, err = denied(h1, "UPDATE policy_versions SET text = 'accept *:*';")
    check(ok, "cannot rewrite a version's text: %s" % err)
    ok, err = denied(h1, "DELETE FROM policy_versions;")
    check(ok, "cannot delete a version: %s" % err)

    # a role made before schema 14 had no grant on host_blocks, before
    # schema 15 none on policy_versions: fleet init grants them to
    # every host role that exists
    rc, _, err = psql(PG, "REVOKE ALL ON host_blocks FROM ew_host_exit2;"
                          "REVOKE ALL ON policy_versions FROM ew_host_exit2;")
    check(rc == 0, "revoked (a role of an older add-host): %s" % err)
    ok, err = denied(conns["exit2"], "SELECT count(*) FROM host_blocks;")
    check(ok, "without the grant it cannot: %s" % err)
    rc, _, err = ew("fleet", "init", env=env)
    check(rc == 0, "fleet init again: %s" % err)
    rc, out, err = psql(conns["exit2"], "SELECT uid FROM host_blocks;")
    check(rc == 0 and out.split() == ["u5"],
          "fleet init granted it again: %r %s" % (out, err))
    rc, out, err = psql(conns["exit2"], "SELECT digest FROM policy_versions;")
    check(rc == 0 and out.split() == ["v2"],
          "...and policy_versions: %r %s" % (out, err))
    rc, out, err = ew("block", "list", env=env)
    check(rc == 0 and "emergency blocks of fleet hosts" in out
          and "host exit1 (id u1)" in out and "host exit2 (id u5)" in out,
          "the desk lists both hosts' emergency blocks: %s%s" % (out, err))

    # exitwarden opens the store as the host's role (no migration to
    # run, nothing to create) and reads its own part
    rc, out, err = ew("fleet", "status", "--json", env={"EW_DB": h1})
    st = json.loads(out or "{}")
    check(rc == 0 and [h["host"] for h in st.get("hosts", [])] == ["exit1"]
          and [r["instance"] for r in st.get("relays", [])] == ["a"],
          "fleet status as the host: its own rows: %s %s" % (out, err))
    rc, out, err = ew("complaint", "list", env={"EW_DB": h1})
    check(rc != 0 and "permission denied" in err,
          "complaint list as the host fails: %s" % err.strip())

    rc, out, err = ew("fleet", "status", "--json", env=env)
    st = json.loads(out or "{}")
    hosts = {h["host"]: h for h in st.get("hosts", [])}
    check(rc == 0 and sorted(hosts) == ["exit1", "exit2"]
          and hosts["exit1"]["rev"] == 1 and hosts["exit2"]["rev"] is None
          and hosts["exit1"]["last_apply"]["ok"] is True,
          "fleet status at the desk: every host: %s %s" % (out, err))
    check(st.get("rev", 0) >= 4 and
          hosts.get("exit2", {}).get("lag") == st.get("rev"),
          "lag: the revision behind: %s" % out)
    rc, out, err = ew("fleet", "status", env=env)
    check(rc == 0 and "host exit1" in out and "relay a" in out
          and FP_A in out, "fleet status as text: %s%s" % (out, err))

    sq = {"EW_DB": os.path.join(tmp, "single.db")}
    rc, out, err = ew("fleet", "init", env=sq)
    check(rc == 1 and "PostgreSQL" in err,
          "fleet init on SQLite: a clear error: %s" % err)


def main():
    if not PG:
        print("EW_TEST_PG not set: run me through tests/tools/pgcluster.py")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        run(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
