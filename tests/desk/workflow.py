#!/usr/bin/env python3
"""The operator's workflow through the CLI, without tor: complaint add,
ticket list / show / block (-n and --no-apply) / reply / close, expire,
policy record / history, template export, inbox scan, and bad input.

Every step runs exitwarden with a private database (--db or EW_DB) in a
temporary directory and checks its exit status, its output and what it
left in the store and on disk.  Ends with "N passed, N failed".
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

EW = os.path.abspath(sys.argv[1])
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def ew(*args, env=None, stdin=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([EW] + list(args), capture_output=True, text=True,
                       env=e, input=stdin, timeout=60)
    return p.returncode, p.stdout, p.stderr


def mail(mid, src, dst, port, when, frm="IRC Opers <opers@irc.example.net>",
         deadline="within 24 hours", date="Fri, 20 Nov 2026 12:00:00 +0000"):
    return ("From: %s\nTo: abuse@relay.example\nSubject: Abuse from %s\n"
            "Date: %s\nMessage-ID: <%s>\n\nHello,\n\n"
            "on %s UTC we saw connections from %s\n"
            "to our server %s on port %s. Please fix this %s.\n"
            % (frm, src, date, mid, when, src, dst, port, deadline))


def rows(db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="ew-workflow-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(tmp):
    db = os.path.join(tmp, "state", "ew.db")
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("Address 198.51.100.7\nExitRelay 1\n"
                "ExitPolicy accept *:*\n")
    env = {"EW_DB": db, "EW_POLICY": pol, "EW_MANAGED": ""}
    managed = os.path.join(tmp, "state", "managed.policy")

    rc, out, _ = ew("policy", "history", env=env)
    check(rc == 0 and "no policy recorded" in out, "empty history")
    check(os.path.isdir(os.path.dirname(db)), "the state directory is made")
    check(os.stat(os.path.dirname(db)).st_mode & 0o777 == 0o700,
          "the state directory is private (0700)")
    rc, out, err = ew("policy", "record", "--at", "2026-11-01T00:00:00Z",
                      pol, env=env)
    check(rc == 0, "policy record: %s" % err)
    rc, out, _ = ew("policy", "history", "--json", env=env)
    hist = json.loads(out)["versions"]
    check(len(hist) == 1 and hist[0]["to"] is None
          and hist[0]["from"] == "2026-11-01T00:00:00Z", "one version")

    rc, out, _ = ew("policy", "record", "--at", "2026-11-02T00:00:00Z",
                    pol, env=env)
    check(rc == 0 and out.startswith("already recorded")
          and "since 2026-11-01T00:00:00Z" in out,
          "the policy in force again: its start stands: %s" % out)
    # another policy in the same second: the one in force keeps that
    # second, the new one starts at the next
    other = os.path.join(tmp, "other.policy")
    with open(other, "w") as f:
        f.write("ExitRelay 1\nExitPolicy reject *:*\n")
    db2 = os.path.join(tmp, "same-second.db")
    for p_ in (pol, other):
        rc, _, err = ew("--db", db2, "policy", "record", "--at",
                        "2026-11-01T00:00:00Z", p_)
        check(rc == 0, "record in the same second: %s" % err)
    rc, out, _ = ew("--db", db2, "policy", "history", "--json")
    h2 = json.loads(out)["versions"]
    check(len(h2) == 2 and h2[0]["to"] == "2026-11-01T00:00:01Z"
          and h2[1]["from"] == "2026-11-01T00:00:01Z"
          and h2[0]["digest"] == hist[0]["digest"],
          "the same second: the later one from the next second: %s" % h2)
    rc, _, err = ew("--db", db2, "policy", "record", "--at",
                    "2026-10-01T00:00:00Z", pol)
    check(rc == 1 and "only goes forward" in err
          and "2026-10-01T00:00:00Z is before the version in force since "
          "2026-11-01T00:00:01Z" in err,
          "a time before the version in force is refused: %s" % err)

    # --- complaint add: judged, filed, printed ---
    a = os.path.join(tmp, "a.eml")
    with open(a, "w") as f:
        f.write(mail("a1@irc.example.net", "198.51.100.7", "203.0.113.5",
                     "6667", "2026-11-20 10:00:00"))
    now = "2026-11-20T12:05:00Z"
    rc, out, err = ew("complaint", "add", "--json", "--now", now, a, env=env)
    check(rc == 0, "complaint add: %s" % err)
    r = json.loads(out)
    check(r["complaint"] == 1 and r["ticket"] == 1 and r["new_ticket"]
          and not r["duplicate"] and r.get("reuses_message_id_of") is None,
          "first complaint, new ticket")
    t = r["show"]
    check(t["due"] == "2026-11-21T12:00:00Z" == r["due"], "due = Date + 24 h")
    check([i["verdict"] for i in r["incidents"]] == ["allowed"],
          "this complaint's incidents: %s" % r["incidents"])
    inc = t["complaints"][0]["incidents"]
    check(len(inc) == 1 and inc[0]["verdict"] == "allowed"
          and inc[0]["dst"] == "203.0.113.5", "incident judged allowed")
    scopes = [p["scope"] for p in t["proposals"]]
    check(scopes == ["destination", "netblock", "ports"],
          "three proposals, narrowest first: %s" % scopes)
    check(t["proposals"][0]["rules"] == ["reject 203.0.113.5:6667"]
          and t["proposals"][1]["rules"] == ["reject 203.0.113.0/24:6667"]
          and t["proposals"][2]["rules"] == ["reject *:6667"],
          "proposal rules: %s" % t["proposals"])

    # the same mail again, and the same Message-ID with other bytes
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, a, env=env)
    r = json.loads(out)
    check(rc == 0 and r["duplicate"] and r["complaint"] == 1
          and r["ticket"] == 1, "re-sent complaint recognised")
    # delivered again through another relay (new trace lines, CRLF)
    with open(a) as f:
        again = ("Received: from mx2.example by mx.relay.example;\r\n"
                 "\tFri, 20 Nov 2026 12:01:00 +0000\r\n"
                 "Delivered-To: abuse@relay.example\r\n"
                 + f.read().replace("\n", "\r\n"))
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=again)
    r = json.loads(out)
    check(rc == 0 and r["duplicate"] and r["complaint"] == 1,
          "delivered again with another trace: a duplicate")
    # the same Message-ID with other content is not a duplicate (anyone
    # can write any Message-ID): stored, flagged
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=mail("a1@irc.example.net",
                                        "198.51.100.7", "203.0.113.9",
                                        "6697", "2026-11-20 10:30:00"))
    r = json.loads(out)
    check(rc == 0 and not r["duplicate"] and r["complaint"] == 2
          and r.get("reuses_message_id_of") == 1,
          "same Message-ID, other content: its own complaint, flagged: %s"
          % {k: r[k] for k in ("duplicate", "complaint")})
    check(rows(db, "select count(*) from complaints")[0][0] == 2
          and rows(db, "select count(*) from incidents")[0][0] == 2,
          "nothing stored twice")

    # same reporter, earlier deadline: same ticket, due moves earlier
    b = mail("b1@irc.example.net", "198.51.100.7", "203.0.113.77", "6697",
             "2026-11-20 11:00:00", deadline="within 12 hours")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=b)
    r = json.loads(out)
    check(rc == 0 and r["ticket"] == 1 and not r["new_ticket"],
          "same reporter: same ticket")
    check([i["dst"] for i in r["incidents"]] == ["203.0.113.77"],
          "only this complaint's incidents at the top: %s" % r["incidents"])
    check(r["show"]["due"] == "2026-11-21T00:00:00Z",
          "due is the earliest deadline: %s" % r["show"]["due"])

    # another reporter, a source that is not ours; an unknown time
    c = mail("c1@other.example", "192.0.2.99", "203.0.113.5", "22",
             "2026-11-20 10:00:00", frm="SSH <ssh@other.example>",
             deadline="within 48 hours")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=c)
    r = json.loads(out)
    check(rc == 0 and r["ticket"] == 2 and r["new_ticket"], "new reporter")
    v = r["show"]["complaints"][0]["incidents"][0]["verdict"]
    check(v == "not ours", "a source not ours: %s" % v)
    check(r["show"]["proposals"] == [], "nothing to block for not ours")
    old = mail("d1@irc.example.net", "198.51.100.7", "203.0.113.5", "6667",
               "2026-10-01 10:00:00")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=old)
    r = json.loads(out)
    vs = [i["verdict"] for cp in r["show"]["complaints"]
          for i in cp["incidents"]]
    check(rc == 0 and vs[-1] == "unknown",
          "before any recorded policy: unknown (%s)" % vs)

    # the same reporter about another kind of abuse (a port scan): a
    # ticket of its own (one per reporter and incident group)
    scan = mail("s1@irc.example.net", "198.51.100.7", "203.0.113.5", "22",
                "2026-11-20 10:00:00").replace(
        "Please fix", "This port scan must stop. Please fix")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=scan)
    r = json.loads(out)
    check(rc == 0 and r["new_ticket"] and r["ticket"] == 3
          and r["show"]["category"] == "scan",
          "another kind, another ticket: %s" % {k: r[k] for k in
                                                ("ticket", "new_ticket")})
    rc, _, _ = ew("ticket", "close", "--reason", "scan: nothing to do", "3",
                  env=env)
    check(rc == 0, "close the scan ticket")

    # ticket list: by due time, overdue flagged
    rc, out, _ = ew("ticket", "list", "--json", "--now",
                    "2026-11-21T06:00:00Z", env=env)
    ts = json.loads(out)["tickets"]
    check([x["id"] for x in ts] == [1, 2], "sorted by due")
    check(ts[0]["overdue"] and not ts[1]["overdue"], "overdue flagged")
    rc, out, _ = ew("ticket", "list", "--now", "2026-11-21T06:00:00Z",
                    env=env)
    check("OVERDUE" in out.splitlines()[1], "text list shows OVERDUE")

    # --- ticket block -n: the diff, nothing changed ---
    rc, out, err = ew("ticket", "block", "-n", "--choice", "1", "--now",
                      now, "1", env=env)
    check(rc == 0, "block -n: %s" % err)
    check("+ reject 203.0.113.5:6667" in out, "diff shows the new item")
    check(not os.path.exists(managed), "-n writes no managed policy")
    check(rows(db, "select count(*) from rules")[0][0] == 0,
          "-n stores no rule")

    # bad choice; a broken operator policy: refused, nothing changed
    rc, _, err = ew("ticket", "block", "--choice", "9", "--no-apply", "1",
                    env=env)
    check(rc == 2 and "only" in err, "--choice out of range: %s" % err)
    broken = os.path.join(tmp, "broken.policy")
    with open(broken, "w") as f:
        f.write("ExitRelay 1\nreject 1.2.3.4/33:*\n")
    rc, _, err = ew("ticket", "block", "--no-apply", "--policy", broken,
                    "1", env=env)
    check(rc == 1 and "broken.policy:2:" in err,
          "a broken policy is refused with its location: %s" % err)
    check(rows(db, "select count(*) from rules")[0][0] == 0
          and not os.path.exists(managed), "...and nothing changed")

    # --- ticket block --no-apply: store, managed policy ---
    rc, out, err = ew("ticket", "block", "--choice", "2", "--expires", "1d",
                      "--no-apply", "--now", now, "1", env=env)
    check(rc == 0, "block --no-apply: %s" % err)
    with open(managed) as f:
        text = f.read()
    check('reject 203.0.113.0/24:6667 reason "complaint from '
          'opers@irc.example.net" ticket 1 expires 2026-11-21T12:05:00Z'
          in text, "managed policy carries the annotated rule")
    check(text.rstrip().endswith('include "%s"' % os.path.realpath(pol)),
          "managed policy includes the operator's")
    rc, out, err = ew("policy", "explain", "--now", now, managed,
                      "203.0.113.5:6667")
    check(rc == 0 and "ticket: 1" in out and "rejected" in out,
          "explain names the ticket: %s%s" % (out, err))
    rc, out, _ = ew("policy", "query", "--now", now, managed,
                    "203.0.113.5:6667", "203.0.114.5:6667")
    check("203.0.113.5:6667 rejected" in out
          and "203.0.114.5:6667 accepted" in out,
          "the netblock alone is blocked: %s" % out)
    rc, out, _ = ew("ticket", "show", "--json", "--now", now, "1", env=env)
    t = json.loads(out)
    check([x["rule"] for x in t["rules"]] == [
          "reject 203.0.113.0/24:6667", "reject 203.0.113.0/24:6697"]
          and t["rules"][0]["expires"]
          == "2026-11-21T12:05:00Z",
          "the rule is listed with its expiry: %s" % t["rules"])

    # --- reply ---
    rc, out, err = ew("ticket", "reply", "--now", now, "1", env=env)
    check(rc == 0, "reply: %s" % err)
    for want in ("Tor exit relay", "no connection logs", "allowed",
                 "reject 203.0.113.0/24:6667, until 2026-11-21T12:05:00Z",
                 "198.51.100.7"):
        check(want in out, "reply mentions %r" % want)
    rc, out, _ = ew("ticket", "reply", "--to", "complainant", "--now", now,
                    "1", env=env)
    check(rc == 0 and "Tor" in out and "203.0.113.0/24" in out,
          "complainant reply")
    tdir = os.path.join(tmp, "templates")
    rc, out, _ = ew("template", "export", tdir)
    check(rc == 0 and os.path.exists(os.path.join(tdir, "provider.txt")),
          "template export")
    with open(os.path.join(tdir, "provider.txt"), "w") as f:
        f.write("Ticket {{ticket}}\n{{#incidents}}\n- {{verdict}}\n"
                "{{/incidents}}\nDue {{duee}}\n")
    rc, out, _ = ew("template", "export", tdir)
    with open(os.path.join(tdir, "provider.txt")) as f:
        check("{{duee}}" in f.read(), "export never overwrites edits")
    rc, out, err = ew("ticket", "reply", "--templates", tdir, "1", env=env)
    check(rc == 1 and "provider.txt:5:7-10" in err and "duee" in err
          and out == "", "a template error is located: %s" % err)
    with open(os.path.join(tdir, "provider.txt"), "w") as f:
        f.write("Ticket {{ticket}}\n{{#incidents}}\n- {{verdict}}\n"
                "{{/incidents}}\n")
    rc, out, err = ew("ticket", "reply", "--templates", tdir, "1", env=env)
    check(rc == 0 and out == "Ticket 1\n- allowed\n- allowed\n- allowed\n"
          "- unknown\n",
          "an edited template renders: %r %s" % (out, err))

    # --- expire ---
    later = "2026-11-22T00:00:00Z"
    rc, out, _ = ew("expire", "-n", "--now", later, env=env)
    check(rc == 0 and "203.0.113.0/24" in out and "kept" in out,
          "expire -n lists the rule: %s" % out)
    check(rows(db, "select count(*) from rules where removed_at is null"
               )[0][0] == 2, "expire -n removes nothing")
    rc, out, err = ew("expire", "--no-apply", "--now", later, env=env)
    check(rc == 0, "expire: %s" % err)
    check(rows(db, "select count(*) from rules where removed_at is null"
               )[0][0] == 0, "expire removed the rule")
    with open(managed) as f:
        check("203.0.113.0/24" not in f.read(), "...from the managed file")
    rc, out, _ = ew("expire", "--no-apply", "--now", later, env=env)
    check(rc == 0 and "no block has expired" in out, "nothing left")

    # a change killed after writing managed.policy, before its commit:
    # the next expire (and every round of run) puts the store's back
    with open(managed, "a") as f:
        f.write("reject 192.0.2.1:* ticket 99\n")
    rc, out, err = ew("expire", "-n", "--no-apply", "--now", later, env=env)
    check(rc == 0 and "differs from the store" in out and "-n" in out,
          "expire -n sees the difference: %s %s" % (out, err))
    rc, out, err = ew("expire", "--no-apply", "--now", later, env=env)
    with open(managed) as f:
        check(rc == 0 and "192.0.2.1" not in f.read(),
              "expire writes the store's managed policy: %s %s"
              % (out, err))

    # a complaint naming only destinations (no source) in the ticket:
    # the reply still comes (it once looped for ever)
    only_dst = ("From: IRC Opers <opers@irc.example.net>\n"
                "To: abuse@relay.example\nSubject: more connections\n"
                "Date: Fri, 20 Nov 2026 12:00:00 +0000\n"
                "Message-ID: <od1@irc.example.net>\n\nHello,\n\n"
                "connections to our server 203.0.113.9 on port 6667 at "
                "2026-11-20 10:00:00 UTC.\n")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=only_dst)
    check(rc == 0 and json.loads(out)["ticket"] == 1,
          "a destination-only complaint joins ticket 1")
    rc, out, err = ew("ticket", "reply", "--now", now, "1", env=env)
    check(rc == 0 and "203.0.113.9" in out, "reply with a sourceless "
          "incident: %s" % err)

    # --- close ---
    rc, out, _ = ew("ticket", "close", "--reason", "answered", "1", env=env)
    check(rc == 0, "close")
    rc, _, err = ew("ticket", "close", "1", env=env)
    check(rc == 1 and "closed already" in err, "close twice")
    rc, out, _ = ew("ticket", "list", "--json", env=env)
    check([x["id"] for x in json.loads(out)["tickets"]] == [2],
          "closed tickets are not listed")
    rc, out, _ = ew("ticket", "list", "--all", "--json", env=env)
    check(len(json.loads(out)["tickets"]) == 3, "--all lists them")
    rc, _, err = ew("ticket", "block", "--no-apply", "1", env=env)
    check(rc == 1 and "closed" in err, "a closed ticket takes no block")
    rc, _, err = ew("ticket", "show", "99", env=env)
    check(rc == 1 and "no such ticket" in err, "unknown ticket")
    # a closed ticket's reporter gets a new one
    e = mail("e1@irc.example.net", "198.51.100.7", "203.0.113.5", "6667",
             "2026-11-20 10:00:00")
    rc, out, _ = ew("complaint", "add", "--json", "-", env=env, stdin=e)
    check(json.loads(out)["new_ticket"], "after close: a new ticket")

    # --- bad input: refused, nothing stored ---
    n0 = rows(db, "select count(*) from complaints")[0][0]
    rc, out, err = ew("complaint", "add", "-", env=env,
                      stdin="this is not a mail at all\x00\x01")
    check(rc == 1 and out == "" and err != "", "garbage refused: %s" % err)
    check(rows(db, "select count(*) from complaints")[0][0] == n0,
          "garbage stores nothing")

    # --- inbox scan ---
    md = os.path.join(tmp, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    msgs = {"1.m1": mail("m1@x.example", "198.51.100.7", "203.0.113.50",
                         "80", "2026-11-20 10:00:00", frm="x@x.example"),
            "2.m2": mail("m2@x.example", "198.51.100.7", "203.0.113.51",
                         "80", "2026-11-20 10:00:00", frm="x@x.example"),
            "3.junk": "\x00\x01garbage"}
    for name, body in msgs.items():
        with open(os.path.join(md, "new", name), "w") as f:
            f.write(body)
    rc, out, err = ew("--db", db, "inbox", "scan", "--json", md)
    check(rc == 0, "inbox scan: %s" % err)
    r = json.loads(out.splitlines()[-1])
    check(r == {"new": 3, "added": 2, "duplicates": 0, "unreadable": 1},
          "inbox counts: %s" % r)
    check(os.listdir(os.path.join(md, "new")) == [], "new/ is empty")
    check(sorted(os.listdir(os.path.join(md, "cur")))
          == ["1.m1:2,S", "2.m2:2,S", "3.junk:2,F"],
          "cur/: %s" % os.listdir(os.path.join(md, "cur")))
    shutil.copy(os.path.join(md, "cur", "1.m1:2,S"),
                os.path.join(md, "new", "4.again"))
    rc, out, _ = ew("--db", db, "inbox", "scan", "--json", md)
    r = json.loads(out.splitlines()[-1])
    check(rc == 0 and r["duplicates"] == 1 and r["added"] == 0,
          "a message seen again is a duplicate: %s" % r)
    # odd entries in new/ (a directory, a FIFO, a symlink) hold up
    # nothing: they go to cur/ flagged, the good message is stored
    os.mkdir(os.path.join(md, "new", "0.adir"))
    os.mkfifo(os.path.join(md, "new", "0.fifo"))
    os.symlink("/etc/passwd", os.path.join(md, "new", "0.link"))
    with open(os.path.join(md, "new", "9.good"), "w") as f:
        f.write(mail("m9@x.example", "198.51.100.7", "203.0.113.59", "80",
                     "2026-11-20 10:00:00", frm="x@x.example"))
    rc, out, err = ew("--db", db, "inbox", "scan", "--json", md)
    r = json.loads(out.splitlines()[-1])
    check(rc == 0 and r["added"] == 1 and r["unreadable"] == 3
          and os.listdir(os.path.join(md, "new")) == [],
          "odd entries flagged, the good one stored: %s %s" % (r, err))
    check("not a regular file" in err, "...and said why: %s" % err)
    rc, _, err = ew("--db", db, "inbox", "scan", os.path.join(tmp, "nope"))
    check(rc == 1 and "not a Maildir" in err, "missing Maildir: %s" % err)
    rc, out, _ = ew("--db", db, "complaint", "list", "--json")
    check(len(json.loads(out)["complaints"]) == n0 + 3,
          "complaint list counts them")

    # --- run: once, and as a daemon stopped by SIGTERM ---
    with open(os.path.join(md, "new", "5.m5"), "w") as f:
        f.write(mail("m5@x.example", "198.51.100.7", "203.0.113.52", "80",
                     "2026-11-20 10:00:00", frm="x@x.example"))
    rc, out, err = ew("--db", db, "run", "--once", "--no-apply",
                      "--maildir", md, "--policy", pol)
    check(rc == 0 and "5.m5" in out and "1 added" in out
          and os.listdir(os.path.join(md, "new")) == [],
          "run --once scans: %s %s" % (out, err))
    check(os.path.exists(managed), "run writes the managed policy")
    e = dict(os.environ)
    p = subprocess.Popen([EW, "--db", db, "run", "--no-apply", "--interval",
                          "3600", "--maildir", md, "--policy", pol],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=e)
    first = p.stdout.readline()
    check(first.startswith("run: database"), "run starts: %r" % first)
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    check(p.returncode == 0 and "stopped by a signal" in out,
          "SIGTERM stops run cleanly: %s %s" % (out, err))

    prank(tmp, pol)
    block_twice(tmp, pol)

    # --- no traffic stored: the schema holds no observed connection ---
    # Every table and column, exactly.  A new one fails here until it is
    # reviewed against the no-logs promise and listed: what complainants
    # sent and what the operator decided may be stored, never anything
    # the relay saw.
    allowed = {
        "complaints": {"id", "message_id", "content_sha256", "reporter",
                       "forwarder", "format", "category", "received_at",
                       "date", "deadline", "raw_size", "subject",
                       "forwarder_ticket",
                       # a digest without delivery trace; the complaint
                       # whose Message-ID this one reuses
                       "content_key", "reuses_message_id"},
        # addresses and ports as the complainant stated them; from
        # schema 7 (issue 12) the verdict is a number and the ports are
        # rows of incident_ports; dst_ports_unread keeps only a port
        # list an older schema stored that is not one (the complainant's
        # text, as before)
        "incidents": {"id", "complaint_id", "src", "src_port", "dst",
                      "dst_ports_unread", "time", "time_from", "time_to",
                      "zone_source", "verdict", "dst_host"},
        # the destination ports the complainant stated, one range a row
        # (schema 7): still what they sent, nothing the relay saw
        "incident_ports": {"incident_id", "seq", "lo", "hi"},
        # relay: which relay of the host a version was applied to
        # (schema 9, issue 13): a name the operator gave, no traffic
        "policy_versions": {"id", "digest", "text", "applied_from",
                            "applied_to", "relay",
                            # (schema 15) the fleet host that applied it
                            "host"},
        # origin/guard: a block the surge guard decided (issue 11): the
        # destination that crossed a threshold, the guard, the time
        # pending/private (schema 10, issue 15): a block waiting for the
        # operator, one left off the notice page; origin 'self-service':
        # a block a requester asked for from the address it covers
        "rules": {"id", "ticket_id", "rule_text", "reason", "expires_at",
                  "added_at", "removed_at", "origin", "guard", "pending",
                  "private",
                  # the relay a block is for (schema 9; NULL: every one)
                  "relay",
                  # the store revision of the rule's last change (schema
                  # 11, issue 14): a counter of the operator's decisions
                  "rev",
                  # the host a block is for (schema 12; NULL: every one)
                  "host"},
        # the fleet (schema 12, issue 14): hosts and their database
        # roles, relays by fingerprint, their exit addresses over time
        # (our own addresses, nothing the relays carried), and what each
        # applied (a digest, the revision, the time, whether it worked)
        "hosts": {"name", "role", "added_at"},
        "relays": {"fp", "nickname", "host", "instance", "added_at"},
        "relay_addrs": {"fp", "addr", "valid_from", "valid_to"},
        "applies": {"id", "host", "relay", "digest", "rev", "applied_at",
                    "ok", "error",
                    # (schema 13) an outbox record's random id, and how
                    # many reports the host still had queued
                    "uid", "outbox",
                    # (schema 14) the digest of the block set applied
                    # (rule ids, emergency block ids) and how many
                    # self-repairs the host made: no address
                    "blocks", "repairs"},
        # (schema 14) a host's own emergency blocks, as its operator
        # typed them on the host: the rule, a reason, times, the desk's
        # removal or adoption; nothing the relays carried
        "host_blocks": {"id", "uid", "host", "rule_text", "reason",
                        "expires_at", "added_at", "removed_at", "rule_id",
                        "rev"},
        # the store's revision: one number, bumped by every write
        "store_rev": {"rev"},
        # the form tokens `serve` saw used (schema 10): a random id and
        # when it expires; no address, nothing about the requester
        "web_tokens": {"id", "expires_at"},
        # what the daemon repaired, per relay: a count and the time of
        # the last one (schema 9, issue 13); nothing about traffic
        "repair_counts": {"relay", "what", "n", "last_at"},
        # per guard: aggregate counts only (no address, no time)
        "guard_counts": {"guard", "surges", "capped", "allowed"},
        "ticket_complaints": {"ticket_id", "complaint_id"},
        "tickets": {"id", "reporter", "opened_at", "due_at", "status",
                    "reason", "category"},
    }
    schema = {t: {r[0] for r in rows(
        db, "select name from pragma_table_info('%s')" % t)}
        for (t,) in rows(db, "select name from sqlite_master where "
                             "type = 'table' and name not like 'sqlite_%'")}
    check(schema == allowed,
          "the schema is exactly the reviewed tables and columns: extra "
          "%r, missing %r" % (
              {t: sorted(c - allowed.get(t, set()))
               for t, c in schema.items() if c - allowed.get(t, set())},
              {t: sorted(c - schema.get(t, set()))
               for t, c in allowed.items() if c - schema.get(t, set())}))

def prank(tmp, pol):
    """Issue 17 item 3: a prank that takes the provider's predictable
    Message-ID first does not suppress the real complaint."""
    db = os.path.join(tmp, "prank.db")
    env = {"EW_DB": db, "EW_POLICY": pol, "EW_MANAGED": ""}
    now = "2026-11-20T12:30:00Z"
    ew("policy", "record", "--at", "2026-11-01T00:00:00Z", pol, env=env)
    joke = ("From: Joker <joker@evil.example>\nTo: abuse@relay.example\n"
            "Subject: Policy Enforcement Notice\n"
            "Date: Fri, 20 Nov 2026 11:00:00 +0000\n"
            "Message-ID: <ticket-4711@hoster.example>\n\nhello\n")
    rc, out, err = ew("complaint", "add", "--json", "--now", now, "-",
                      env=env, stdin=joke)
    check(rc == 0 and not json.loads(out)["duplicate"],
          "the prank is stored: %s" % err)
    real = mail("ticket-4711@hoster.example", "198.51.100.7", "203.0.113.5",
                "6667", "2026-11-20 10:00:00",
                frm="Hoster Abuse <abuse@hoster.example>",
                deadline="or your server will be disconnected in 12 hours")
    rc, out, err = ew("complaint", "add", "--json", "--now", now, "-",
                      env=env, stdin=real)
    r = json.loads(out) if rc == 0 else {}
    check(rc == 0 and not r.get("duplicate") and r.get("new_ticket")
          and r.get("ticket") == 2 and r.get("complaint") == 2,
          "the real complaint opens its ticket: %s %s" % (r, err))
    check(r.get("due") == "2026-11-21T00:00:00Z",
          "...due at its deadline: %s" % r.get("due"))
    check(r.get("reuses_message_id_of") == 1,
          "...flagged as reusing the prank's Message-ID")
    rc, out, _ = ew("complaint", "add", "--now", now, "-", env=env,
                    stdin=real)
    check(rc == 0 and "already stored as complaint 2" in out,
          "the real one again is its duplicate: %s" % out)
    rc, out, _ = ew("ticket", "list", "--json", "--now", now, env=env)
    ts = {t["id"]: t for t in json.loads(out)["tickets"]}
    check(ts.get(2, {}).get("due") == "2026-11-21T00:00:00Z",
          "ticket list: the real ticket is due: %s" % ts)


def block_twice(tmp, pol):
    """Issue 17 item 11: ticket block is idempotent; run again after
    another complaint joined the ticket, it adds only the new rules."""
    db = os.path.join(tmp, "twice", "ew.db")
    os.makedirs(os.path.dirname(db))
    env = {"EW_DB": db, "EW_POLICY": pol, "EW_MANAGED": ""}
    managed = os.path.join(tmp, "twice", "managed.policy")
    now = "2026-11-20T12:05:00Z"
    ew("policy", "record", "--at", "2026-11-01T00:00:00Z", pol, env=env)
    m1 = mail("t1@irc.example.net", "198.51.100.7", "203.0.113.5",
              "6660-7000, 8888 and 8080", "2026-11-20 10:00:00")
    rc, _, err = ew("complaint", "add", "--now", now, "-", env=env,
                    stdin=m1)
    check(rc == 0, "block twice: add: %s" % err)
    rc, out, err = ew("ticket", "block", "--no-apply", "--now", now, "1",
                      env=env)
    n1 = rows(db, "select count(*) from rules")[0][0]
    check(rc == 0 and n1 >= 1 and "blocked" in out,
          "first block: %d rules %s" % (n1, err))
    rc, out, err = ew("ticket", "block", "--no-apply", "--now", now, "1",
                      env=env)
    check(rc == 0 and "in force already" in out
          and "nothing changed" in out,
          "the same block again says so: %s %s" % (out, err))
    check(rows(db, "select count(*) from rules")[0][0] == n1,
          "...and adds no rule (%d)" % n1)
    with open(managed) as f:
        lines = [x for x in f.read().splitlines()
                 if x.startswith("reject")]
    check(len(lines) == n1 == len(set(lines)),
          "managed.policy holds each rule once: %s" % lines)
    m2 = mail("t2@irc.example.net", "198.51.100.7", "203.0.113.6", "6667",
              "2026-11-20 10:30:00")
    rc, out, _ = ew("complaint", "add", "--json", "--now", now, "-",
                    env=env, stdin=m2)
    check(rc == 0 and json.loads(out)["ticket"] == 1, "joins ticket 1")
    rc, out, err = ew("ticket", "block", "-n", "--no-apply", "--now", now,
                      "1", env=env)
    check(rc == 0 and "+ reject 203.0.113.6:6667" in out
          and "- reject" not in out
          and out.count("skipped: in force already") == n1,
          "-n after a new complaint: only the new rule: %s %s" % (out, err))
    rc, out, err = ew("ticket", "block", "--no-apply", "--now", now, "1",
                      env=env)
    rules = [r[0] for r in rows(db, "select rule_text from rules"
                                    " where removed_at is null")]
    check(rc == 0 and len(rules) == n1 + 1 and len(set(rules)) == n1 + 1
          and "reject 203.0.113.6:6667" in rules,
          "again: only the new rule is added: %s %s" % (rules, err))


if __name__ == "__main__":
    sys.exit(main())
