#!/usr/bin/env python3
"""Blocks as one source of truth (issue 13), through the CLI, without tor:

  * apply of the operator's file composes the store's blocks in force
    (apply -n shows them in tor's SETCONF); tor apply / nft apply of the
    operator's file alone are refused with an explanation;
  * block add / list / remove round trip, JSON checked field by field;
    removed blocks stay in the store (list --all);
  * -n changes nothing (store rows, managed.policy bytes);
  * a bad RULE is a located error and changes nothing;
  * ticket close says which blocks stay in force and how to remove them;
  * a failed apply (tor not there) leaves the store and the file as
    they were.

Every step runs exitwarden with a private database in a temporary
directory.  Ends with "N passed, N failed".
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

EW = os.path.abspath(sys.argv[1])
passed = failed = 0
NOW = "2026-11-20T12:05:00Z"


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)
    return cond


def ew(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    e.pop("EW_TOR_PASSWORD", None)
    p = subprocess.run([EW] + list(args), capture_output=True, text=True,
                       env=e, timeout=60)
    return p.returncode, p.stdout, p.stderr


MAIL = ("From: IRC Opers <opers@irc.example.net>\nTo: abuse@relay.example\n"
        "Subject: Abuse\nDate: Fri, 20 Nov 2026 12:00:00 +0000\n"
        "Message-ID: <b1@irc.example.net>\n\nHello,\n\n"
        "on 2026-11-20 10:00:00 UTC we saw connections from 198.51.100.7\n"
        "to our server 203.0.113.5 on port 6667. Please fix this within "
        "24 hours.\n")


def rules(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("SELECT * FROM rules ORDER BY id").fetchall()
    finally:
        con.close()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def main():
    tmp = tempfile.mkdtemp(prefix="ew-blocks-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def setup(tmp):
    db = os.path.join(tmp, "state", "ew.db")
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("Address 198.51.100.7\nExitRelay 1\nExitPolicy accept *:*\n")
    env = {"EW_DB": db, "EW_POLICY": pol, "EW_MANAGED": ""}
    rc, _, err = ew("policy", "record", "--at", "2026-11-01T00:00:00Z", pol,
                    env=env)
    check(rc == 0, "policy record: %s" % err)
    m = os.path.join(tmp, "a.eml")
    with open(m, "w") as f:
        f.write(MAIL)
    rc, _, err = ew("complaint", "add", "--no-resolve", "--now", NOW, m,
                    env=env)
    check(rc == 0, "complaint add: %s" % err)
    rc, out, err = ew("ticket", "block", "--no-apply", "--no-resolve",
                      "--now", NOW, "1", env=env)
    check(rc == 0 and "ticket 1: blocked" in out,
          "ticket block --no-apply: %d %s %s" % (rc, out, err))
    return db, pol, env, os.path.join(tmp, "state", "managed.policy")


def run(tmp):
    db, pol, env, managed = setup(tmp)
    check(b"reject 203.0.113.5:6667" in (read(managed) or b""),
          "the ticket's block is in managed.policy")
    apply_keeps(db, pol, env, managed)
    round_trip(db, pol, env, managed)
    dry_runs(db, pol, env, managed)
    bad_rules(db, env, managed)
    close_and_remove(db, env, managed)


def apply_keeps(db, pol, env, managed):
    """apply of the operator's file: never without the blocks."""
    before, mbefore = rules(db), read(managed)
    rc, out, err = ew("apply", "-n", "--uid", "0", "--now", NOW, pol,
                      env=env)
    check(rc == 0, "apply -n POLICY: %d %s" % (rc, err))
    setconf = [l for l in out.splitlines() if l.startswith("ExitPolicy=")]
    check('ExitPolicy="reject 203.0.113.5:6667"' in setconf,
          "apply -n of the operator's file sends the ticket's block to "
          "tor: %s" % out)
    check(setconf and setconf[-1] == 'ExitPolicy="accept *:*"',
          "...then the operator's policy: %s" % setconf)
    check("with 1 block in force from the store" in out,
          "apply -n says it composes the block: %s" % out)
    check(rules(db) == before and read(managed) == mbefore,
          "apply -n changed nothing")
    # the managed policy itself: composed again from the store, the same
    rc, out2, err = ew("apply", "-n", "--uid", "0", "--now", NOW, managed,
                       env=env)
    check(rc == 0 and "%s with 1 block" % pol in out2,
          "apply -n of managed.policy composes the operator's policy it "
          "includes: %d %s %s" % (rc, out2, err))
    # tor apply / nft apply of the operator's file alone: refused
    rc, out, err = ew("tor", "apply", "--control", "127.0.0.1:9",
                      "--timeout", "1", pol, env=env)
    check(rc == 1 and "1 block in force that %s does not carry" % pol in err
          and "exitwarden apply %s" % pol in err and out == "",
          "tor apply of the operator's file alone is refused: %d %r"
          % (rc, err))
    rc, out, err = ew("nft", "apply", "--uid", "0", pol, env=env)
    check(rc == 1 and "does not carry" in err and "nft:" not in out,
          "nft apply of the operator's file alone is refused: %d %r"
          % (rc, err))
    rc, out, err = ew("tor", "apply", "-n", pol, env=env)
    check(rc == 0 and "warning: " in err and "would drop them" in err,
          "tor apply -n warns: %d %r" % (rc, err))
    # a real apply with no tor to take it: nothing changes
    rc, out, err = ew("apply", "--control", "127.0.0.1:9", "--timeout", "1",
                      "--uid", "0", pol, env=env)
    check(rc == 1 and "nftables table was not touched" in err,
          "apply with tor away fails: %d %s" % (rc, err))
    check(rules(db) == before and read(managed) == mbefore,
          "...and leaves the store and managed.policy as they were")
    # an operator's policy that does not load: located, nothing changes
    bad = os.path.join(os.path.dirname(pol), "bad.policy")
    with open(bad, "w") as f:
        f.write("accept *:80\nreject 1.2.3.4:99999\n")
    rc, out, err = ew("apply", "--uid", "0", bad, env=env)
    check(rc == 1 and "In file included from %s:" % managed in err
          and "%s:2:16-20: error: malformed port '99999'" % bad in err
          and "nothing changed" in err and "applied" not in out,
          "apply of a broken policy: located: %d %s %s" % (rc, out, err))
    check(rules(db) == before and read(managed) == mbefore,
          "...nothing changed")


def by_id(blocks):
    return {b["id"]: b for b in blocks}


def round_trip(db, pol, env, managed):
    rc, out, err = ew("block", "add", "--no-apply", "--now", NOW,
                      "--reason", "scan \"ring\"", "--expires", "30d",
                      "--ticket", "1", "reject 192.0.2.0/24:6660-7000",
                      env=env)
    check(rc == 0 and "block 2 added" in out,
          "block add: %d %s %s" % (rc, out, err))
    rc, out, err = ew("block", "add", "--no-apply", "--now", NOW,
                      "--expires", "never", "reject6 [2001:db8::]/32:25",
                      env=env)
    check(rc == 0 and "block 3 added" in out and "until removed" in out,
          "block add (IPv6, never): %d %s %s" % (rc, out, err))
    text = (read(managed) or b"").decode()
    check('reject 192.0.2.0/24:6660-7000 reason "scan \\"ring\\"" ticket 1 '
          'expires 2026-12-20T12:05:00Z\n' in text
          and "reject6 [2001:db8::]/32:25\n" in text,
          "managed.policy carries both blocks: %s" % text)
    rc, out, err = ew("block", "list", "--json", "--now", NOW, env=env)
    check(rc == 0, "block list --json: %s" % err)
    b = by_id(json.loads(out))
    check(sorted(b) == [1, 2, 3], "three blocks in force: %s" % out)
    check(b.get(1, {}).get("origin") == "ticket"
          and b[1]["ticket"] == 1 and b[1]["rule"] ==
          "reject 203.0.113.5:6667" and b[1]["state"] == "in force",
          "the ticket's block: %s" % b.get(1))
    want2 = {"id": 2, "rule": "reject 192.0.2.0/24:6660-7000",
             "origin": "manual", "ticket": 1, "relay": None, "guard": None,
             "reason": 'scan "ring"', "added": NOW,
             "expires": "2026-12-20T12:05:00Z", "removed": None,
             "state": "in force"}
    check(b.get(2) == want2, "block 2 as added: %s" % b.get(2))
    check(b.get(3, {}).get("expires") is None
          and b[3]["ticket"] is None and b[3]["reason"] is None
          and b[3]["origin"] == "manual", "block 3: %s" % b.get(3))
    rc, out, _ = ew("block", "list", "--now", NOW, env=env)
    check(rc == 0 and "2  reject 192.0.2.0/24:6660-7000\n    manual, "
          "ticket 1, added 2026-11-20T12:05:00Z, expires "
          "2026-12-20T12:05:00Z: in force\n    reason: scan \"ring\"\n"
          in out, "block list text: %s" % out)
    rc, out, _ = ew("block", "list", "--json", "--now",
                    "2026-12-21T00:00:00Z", env=env)
    check(rc == 0 and by_id(json.loads(out))[2]["state"] == "due",
          "past its expiry, before expire: due")
    # the same rule again: refused, nothing changed
    before = rules(db)
    rc, out, err = ew("block", "add", "--no-apply", "--now", NOW,
                      "--ticket", "1", "reject 192.0.2.0/24:6660-7000",
                      env=env)
    check(rc == 1 and "in force already (block 2)" in err
          and rules(db) == before, "a block in force twice: %d %s"
          % (rc, err))
    # a ticket that is not there
    rc, out, err = ew("block", "add", "--no-apply", "--ticket", "9",
                      "reject 192.0.2.9:80", env=env)
    check(rc == 1 and "ticket 9: no such ticket" in err
          and rules(db) == before, "--ticket 9: %d %s" % (rc, err))
    # remove 3: kept, marked removed
    rc, out, err = ew("block", "remove", "--no-apply", "--now",
                      "2026-11-21T00:00:00Z", "3", env=env)
    check(rc == 0 and "removed block 3: reject6 [2001:db8::]/32:25" in out
          and "1 block removed" in out, "block remove 3: %d %s %s"
          % (rc, out, err))
    check("reject6 [2001:db8::]/32:25" not in (read(managed) or b"").decode(),
          "managed.policy lost block 3")
    rc, out, _ = ew("block", "list", "--json", "--now", NOW, env=env)
    check(sorted(by_id(json.loads(out))) == [1, 2], "list: 1 and 2 left")
    rc, out, _ = ew("block", "list", "--json", "--all", "--now", NOW,
                    env=env)
    b3 = by_id(json.loads(out)).get(3, {})
    check(b3.get("state") == "removed"
          and b3.get("removed") == "2026-11-21T00:00:00Z",
          "list --all: block 3 removed, with its time: %s" % b3)
    before = rules(db)
    rc, out, err = ew("block", "remove", "--no-apply", "3", env=env)
    check(rc == 1 and "block 3: removed already (2026-11-21T00:00:00Z)"
          in err and rules(db) == before, "remove 3 again: %s" % err)
    rc, out, err = ew("block", "remove", "--no-apply", "2", "99", env=env)
    check(rc == 1 and "block 99: no such block" in err
          and rules(db) == before,
          "remove 2 99: all or nothing: %d %s" % (rc, err))
    rc, out, err = ew("block", "remove", "--no-apply", env=env)
    check(rc == 2, "block remove with nothing named: usage: %d" % rc)


def dry_runs(db, pol, env, managed):
    before, mbefore = rules(db), read(managed)
    rc, out, err = ew("block", "add", "-n", "--now", NOW,
                      "reject 198.51.100.0/24:25", env=env)
    check(rc == 0 and "+ reject 198.51.100.0/24:25" in out
          and "-n: nothing changed" in out,
          "block add -n shows the rule it adds: %d %s %s" % (rc, out, err))
    rc, out, err = ew("block", "remove", "-n", "--now", NOW, "2", env=env)
    check(rc == 0 and "would remove block 2" in out
          and "- reject 192.0.2.0/24:6660-7000" in out,
          "block remove -n shows what goes: %d %s %s" % (rc, out, err))
    check(rules(db) == before and read(managed) == mbefore,
          "-n: store rows and managed.policy unchanged")


def bad_rules(db, env, managed):
    before, mbefore = rules(db), read(managed)
    cases = [
        ("reject 192.0.2.0/33:80", "<cmdline>:1:"),
        ("accept *:80", "<cmdline>:1:1-6: error: a block must be a reject "
         "rule"),
        ("reject 192.0.2.1:80 reason \"x\"", "--reason, --ticket and "
         "--expires"),
        ("reject 192.0.2.1:80\nreject 192.0.2.2:80", "one rule on one "
         "line"),
        ("IPv6Exit 1", "exactly one rule"),
        ("include \"/etc/passwd\"", "<cmdline>:1:"),
    ]
    for rule, want in cases:
        rc, out, err = ew("block", "add", "--no-apply", rule, env=env)
        check(rc == 1 and want in err and "nothing changed" in err,
              "bad rule %r: %d %r" % (rule, rc, err))
    rc, out, err = ew("block", "add", "--no-apply", "reject 192.0.2.0/33:80",
                      env=env)
    lines = err.splitlines()
    check(len(lines) >= 3 and lines[1] == "reject 192.0.2.0/33:80"
          and set(lines[2].strip()) == {"^"},
          "the error shows the rule and a caret run: %r" % err)
    rc, out, err = ew("block", "add", "--no-apply", "--expires", "soon",
                      "reject 192.0.2.1:80", env=env)
    check(rc == 2 and "--expires" in err, "--expires soon: usage")
    check(rules(db) == before and read(managed) == mbefore,
          "bad rules changed nothing")


def close_and_remove(db, env, managed):
    rc, out, err = ew("ticket", "close", "--reason", "done", "1", env=env)
    check(rc == 0 and "ticket 1 closed" in out
          and "ticket 1: 2 blocks stay in force:" in out
          and "reject 203.0.113.5:6667" in out
          and "remove them with: exitwarden block remove --ticket 1" in out,
          "ticket close says what stays: %d %s %s" % (rc, out, err))
    rc, out, err = ew("block", "add", "--no-apply", "--ticket", "1",
                      "reject 192.0.2.77:80", env=env)
    check(rc == 1 and "ticket 1 is closed" in err,
          "no new block for a closed ticket: %s" % err)
    rc, out, err = ew("block", "remove", "--no-apply", "--now",
                      "2026-11-22T00:00:00Z", "--ticket", "1", env=env)
    check(rc == 0 and "2 blocks removed" in out,
          "block remove --ticket 1: %d %s %s" % (rc, out, err))
    rc, out, _ = ew("block", "list", "--json", env=env)
    check(rc == 0 and json.loads(out) == [], "nothing in force: %s" % out)
    text = (read(managed) or b"").decode()
    check("reject" not in text and "include" in text,
          "managed.policy: the include alone: %s" % text)
    rc, out, _ = ew("block", "list", "--all", "--json", env=env)
    check(len(json.loads(out)) == 3, "the store keeps all three")
    rc, out, err = ew("block", "remove", "--no-apply", "--ticket", "1",
                      env=env)
    check(rc == 1 and "ticket 1 has no block in force" in err,
          "remove --ticket 1 again: %s" % err)
    rc, out, err = ew("ticket", "close", "1", env=env)
    check(rc == 1, "close twice: %d" % rc)


if __name__ == "__main__":
    sys.exit(main())
