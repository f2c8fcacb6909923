#!/usr/bin/env python3
"""The command line's conformance: every command, from the table.

The commands come from `exitwarden help --list` (the command table), so
a command added there is covered at once; one without an example here
fails until it gets one.  For each:

- `--help` (and `help NOUN [VERB]`) exits 0 and prints its usage;
- a noun with verbs refuses an unknown verb with exit 2, naming the
  verbs that exist (nothing run);
- options come after operands too: an unknown option after the
  operands is refused as an option (exit 2, named), and every example
  runs with its options moved after its operands (same exit code and,
  for --json, the same JSON);
- `--opt=value` equals `--opt value`; `--` ends the options; an option
  missing its value is named as such;
- every command whose help lists --json prints, with it, output that a
  JSON parser takes (a failure prints nothing on stdout).

Usage: conformance.py EXITWARDEN
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

EW = None
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
POLICY = os.path.join(SRC, "examples", "exit.policy")
NOW = "2026-11-20T12:05:00Z"
passed = failed = 0

MAIL = ("From: IRC <o@irc.example.net>\nTo: abuse@relay.example\n"
        "Subject: connections from your relay\n"
        "Date: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <a@b>\n\n"
        "on 2026-11-20 10:00:00 UTC we saw connections from 198.51.100.7\n"
        "to our server 203.0.113.5 on port 443. Please fix this within "
        "24 hours.\n")


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)


def ew(args, env, stdin=None):
    try:
        p = subprocess.run([EW] + list(args), capture_output=True,
                           text=True, env=env, input=stdin, timeout=30)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out (a usage error should not run)"
    return p.returncode, p.stdout, p.stderr


def examples(tmp):
    """Per command: (options, operands) that run it here, without tor,
    root or network; None for the commands that need those (their
    --help, verbs and option parsing are still checked)."""
    mail = os.path.join(tmp, "mail.eml")
    md = os.path.join(tmp, "Maildir")
    tdir = os.path.join(tmp, "templates")
    return {
        "apply": (["-n", "--uid", "0", "--now", NOW], [POLICY]),
        "backup": ([], [os.path.join(tmp, "backup.db")]),
        "config check": ([], [os.path.join(tmp, "exitwarden.conf")]),
        "config show": ([], []),
        "block add": (["--no-apply", "--reason", "conformance", "--now",
                       NOW], ["reject 192.0.2.0/24:6667"]),
        "block adopt": (["-n", "--no-apply", "--now", NOW], ["h1"]),
        "block confirm": (["-n", "--no-apply", "--now", NOW], ["1"]),
        "block list": (["--json", "--all", "--now", NOW], []),
        "block remove": (["-n", "--no-apply", "--now", NOW], ["1"]),
        "complaint add": (["--json", "--no-resolve", "--now", NOW],
                          [mail]),
        "complaint list": (["--json"], []),
        "complaint parse": (["--json"], [mail]),
        "expire": (["-n", "--no-apply", "--now", NOW], []),
        "fleet add-host": None,  # PostgreSQL: tests/fleet/pg_rls.py
        "fleet add-relay": None,  # a host first: tests/fleet/pg_rls.py
        "fleet init": (["-n"], []),
        "fleet status": (["--json"], []),
        "guard status": (["--json", "--policy", POLICY], []),
        "inbox scan": (["--json"], [md]),
        "nft apply": None,  # root and a namespace: tests/nft/apply.sh
        "nft element": None,
        "nft emit": (["--uid", "4243", "--now", NOW], [POLICY]),
        "nft flush": None,
        "policy check": (["--json", "--now", NOW], [POLICY]),
        "policy expand": (["--now", NOW, "--no-interfaces"], [POLICY]),
        "policy explain": (["--json", "--now", NOW],
                           [POLICY, "203.0.113.5:6667"]),
        "policy history": (["--json"], []),
        "policy query": (["--json", "--now", NOW],
                         [POLICY, "203.0.113.5:6667", "[2001:db8::1]:443"]),
        "policy record": (["--at", "2026-11-01T00:00:00Z"], [POLICY]),
        "policy show": ([], [POLICY]),
        "policy summary": (["--json", "--now", NOW], [POLICY]),
        "policy torrc": (["--now", NOW], [POLICY]),
        "run": (["--once", "--no-apply", "--maildir", md], []),
        "setup": (["-n", "--root", os.path.join(tmp, "root")], []),
        "serve": None,  # a server, until stopped: tests/web/serve.py
        "stats": (["--json"], []),  # needs the table: may fail, quietly
        "status": (["--json", "--control", "127.0.0.1:9", "--timeout",
                    "1"], []),  # no tor, no table: exit 1, still JSON
        "template export": ([], [tdir]),
        "ticket block": (["-n", "--no-apply", "--no-resolve", "--now",
                          NOW], ["1"]),
        "ticket close": (["--reason", "conformance"], ["99"]),
        "ticket list": (["--json", "--now", NOW], []),
        "ticket reply": (["--now", NOW], ["1"]),
        "ticket show": (["--json", "--no-resolve", "--now", NOW], ["1"]),
        "tor apply": None,  # a running tor: tests/tor/tor_apply.py
        "tor emit": (["--now", NOW], [POLICY]),
        "tor status": (["--json", "--control", "127.0.0.1:9",
                        "--timeout", "1"], []),  # no tor: fails quietly
    }


def main():
    global EW
    EW = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="ew-conf-")
    env = dict(os.environ, EW_DB=os.path.join(tmp, "ew.db"),
               EW_POLICY=POLICY, EW_MANAGED=os.path.join(tmp, "managed"),
               EW_TEMPLATES="", HOME=tmp,
               EXITWARDEN_CONFIG=os.path.join(tmp, "exitwarden.conf"))
    env.pop("EW_TOR_PASSWORD", None)
    try:
        with open(os.path.join(tmp, "mail.eml"), "w") as f:
            f.write(MAIL)
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(tmp, "Maildir", sub))
        # a configuration of its own (never the machine's), and a tree
        # with a torrc for setup -n --root
        with open(os.path.join(tmp, "exitwarden.conf"), "w") as f:
            f.write("# conformance: no relay, the built-in defaults\n")
        os.makedirs(os.path.join(tmp, "root", "etc", "tor"))
        with open(os.path.join(tmp, "root", "etc", "tor", "torrc"), "w") as f:
            f.write("SocksPort 0\nExitPolicy reject *:*\n")
        run(tmp, env)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(tmp, env):
    rc, out, err = ew(["help", "--list"], env)
    check(rc == 0 and out, "help --list: %s" % err)
    cmds = [l.split() for l in out.splitlines() if l.strip()]
    check(cmds == sorted(cmds), "the command table is sorted")
    ex = examples(tmp)
    nouns = {}
    for c in cmds:
        nouns.setdefault(c[0], []).append(c[1] if len(c) > 1 else None)
    for c in cmds:
        name = " ".join(c)
        check(name in ex, "%s: has an example in conformance.py" % name)
        # --help and help NOUN VERB
        rc, out, err = ew(c + ["--help"], env)
        check(rc == 0 and out.startswith("usage: exitwarden " + name),
              "%s --help: %d %r" % (name, rc, out[:80]))
        check(err == "", "%s --help: nothing on stderr: %r" % (name, err))
        rc2, out2, _ = ew(["help"] + c, env)
        check(rc2 == 0 and out2 == out, "help %s: same as --help" % name)
        # an unknown option after the operands is an option, refused
        e = ex.get(name)
        ops = e[1] if e else ["x"]
        rc, out, err = ew(c + ops + ["--no-such-option"], env)
        check(rc == 2 and "unknown option '--no-such-option'" in err
              and out == "",
              "%s OPERANDS --no-such-option: %d %r" % (name, rc, err))
        rc, out, err = ew(c + ops + ["-Z"], env)
        check(rc == 2 and "'-Z'" in err, "%s -Z: %d %r" % (name, rc, err))
    for noun, verbs in sorted(nouns.items()):
        if verbs == [None]:
            continue
        rc, out, err = ew([noun, "no-such-verb"], env)
        check(rc == 2 and out == "" and
              "unknown verb 'no-such-verb'" in err and
              all(v in err for v in verbs),
              "%s no-such-verb: exit 2 naming %s: %d %r"
              % (noun, verbs, rc, err))
        rc, out, err = ew(["help", noun], env)
        check(rc == 0 and all(("exitwarden %s %s" % (noun, v)) in out
                              for v in verbs), "help %s" % noun)
    examples_run(cmds, ex, env)
    grammar(env, tmp)
    suggestions(cmds, nouns, env)


def slip(word):
    """word with two neighbouring letters swapped, near its middle."""
    for i in list(range(len(word) // 2, len(word) - 1)) + \
            list(range(len(word) // 2)):
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return None


def meant(err, word):
    """Does err suggest word ('did you mean 'a' or 'b'?')"""
    return "did you mean " in err and \
        ("'%s'" % word) in err.split("did you mean ", 1)[1]


def suggestions(cmds, nouns, env):
    """A slip of the fingers in a command, a verb or an option gets
    'did you mean' naming the word meant; a word far from all gets none."""
    for noun, verbs in sorted(nouns.items()):
        t = slip(noun)
        check(t is not None, "%s: a slip to try" % noun)
        rc, out, err = ew([t], env)
        check(rc == 2 and out == "" and meant(err, noun),
              "%s typed %s: %d %r" % (noun, t, rc, err))
        for v in verbs:
            if v is None:
                continue
            t = slip(v)
            rc, out, err = ew([noun, t], env)
            check(rc == 2 and out == "" and meant(err, v),
                  "%s %s typed %s: %d %r" % (noun, v, t, rc, err))
    for c in cmds:
        if not takes_json(c, env):
            continue
        rc, out, err = ew(c + ["--jsno"], env)
        check(rc == 2 and out == "" and meant(err, "--json"),
              "%s --jsno: %d %r" % (" ".join(c), rc, err))
    for args in (["no-such-noun"], ["policy", "no-such-verb"],
                 ["policy", "check", "--no-such-option", POLICY],
                 ["--no-such-option", "policy"]):
        rc, out, err = ew(args, env)
        check(rc == 2 and "did you mean" not in err and "unknown" in err,
              "%s: no guess: %d %r" % (" ".join(args), rc, err))
    rc, out, err = ew(["--bd", "x", "policy"], env)
    check(rc == 2 and meant(err, "--db"), "--bd: %r" % err)
    rc, out, err = ew(["help", "polciy"], env)
    check(rc == 2 and meant(err, "policy"), "help polciy: %r" % err)
    # equally near: both named
    rc, out, err = ew(["stauts"], env)
    check(rc == 2 and meant(err, "stats") and meant(err, "status"),
          "stauts: %r" % err)


def takes_json(c, env):
    rc, out, _ = ew(c + ["--help"], env)
    return "--json" in out


def examples_run(cmds, ex, env):
    # in the order that fills the store: record, add, then the rest
    first = ["policy record", "complaint add"]
    order = first + [" ".join(c) for c in cmds
                     if " ".join(c) not in first]
    for name in order:
        e = ex.get(name)
        if e is None:
            continue
        c = name.split()
        opts, ops = e
        rc, out, err = ew(c + opts + ops, env)
        if name in ("stats", "tor status"):
            # no table (not loaded) / no tor here: a failure, said on
            # stderr, with nothing on stdout
            check(rc == 0 or (rc == 1 and out == "" and err),
                  "%s: %d %r %r" % (name, rc, out, err))
        elif name == "status":
            check(rc in (0, 1) and out != "", "status: %d %r %r"
                  % (rc, out, err))
        elif name == "block confirm":
            # block 1 (block add's) is in force, not pending
            check(rc == 1 and "block 1: not pending" in err,
                  "block confirm 1: %d %r" % (rc, err))
        elif name == "block adopt":
            # no fleet host proposed one here (tests/fleet/emergency.py)
            check(rc == 1 and "no emergency block h1" in err,
                  "block adopt h1: %d %r" % (rc, err))
        elif name == "ticket close":
            check(rc == 1 and "no such ticket" in err, "ticket close 99")
        else:
            check(rc == 0, "%s %s: %d %s" % (name, " ".join(opts + ops),
                                             rc, err))
        if "--json" in opts and (rc == 0 or name == "status"):
            try:
                json.loads(out)
                ok = True
            except ValueError:
                # policy query and check print one object a line
                try:
                    [json.loads(l) for l in out.splitlines()]
                    ok = name in ("policy query", "policy check") \
                        and out != ""
                except ValueError:
                    ok = False
            check(ok, "%s --json parses: %r" % (name, out[:200]))
        elif takes_json(c, env) and rc == 0:
            rc2, out2, _ = ew(c + ["--json"] + opts + ops, env)
            check(rc2 == 0, "%s --json runs" % name)
        check(not takes_json(c, env) or "--json" in opts or
              name in ("ticket reply",),
              "%s: the example uses --json, which it takes" % name)
        # the same with the options after the operands
        if name in ("complaint add", "policy record", "template export",
                    "run", "block add"):
            continue  # they change state; run once
        rc2, out2, err2 = ew(c + ops + opts, env)
        check(rc2 == rc, "%s OPERANDS OPTIONS: %d, not %d: %s"
              % (name, rc2, rc, err2))
        if "--json" in opts and rc == 0 and name not in ("stats",
                                                         "status"):
            check(norm(out2) == norm(out),
                  "%s: same JSON with options last" % name)


def norm(s):
    try:
        return json.loads(s)
    except ValueError:
        return s


def grammar(env, tmp):
    base = ["nft", "emit", "--now", NOW]
    rc1, o1, _ = ew(base + ["--uid", "4243", POLICY], env)
    rc2, o2, _ = ew(base + [POLICY, "--uid=4243"], env)
    check(rc1 == 0 and rc2 == 0 and o1 == o2 and "4243" in o1,
          "--uid=4243 after the operand equals --uid 4243 before it")
    rc, out, err = ew(base + [POLICY, "--uid"], env)
    check(rc == 2 and "option '--uid' needs a value" in err and out == "",
          "a missing value is named: %r" % err)
    rc, out, err = ew(["policy", "check", "--json=1", POLICY], env)
    check(rc == 2 and "takes no value" in err, "--json=1: %r" % err)
    rc, out, err = ew(["policy", "check", "--js", POLICY], env)
    check(rc == 2 and "unknown option '--js'" in err,
          "no abbreviations: %r" % err)
    # "--" ends the options: a file named like an option
    dash = os.path.join(tmp, "--json")
    shutil.copy(POLICY, dash)
    shutil.copy(os.path.join(os.path.dirname(POLICY), "complainants.list"),
                tmp)
    p = subprocess.run([EW, "policy", "show", "--", "--json"], cwd=tmp,
                       capture_output=True, text=True, env=env)
    check(p.returncode == 0 and "Address" in p.stdout,
          "-- ends the options: %r" % p.stderr)
    # policy check --json: diagnostics as JSON lines on stderr
    broken = os.path.join(tmp, "broken.policy")
    with open(broken, "w") as f:
        f.write("reject 300.1.2.3:80\nfrobnicate\n")
    rc, out, err = ew(["policy", "check", broken, "--json"], env)
    try:
        diags = [json.loads(l) for l in err.splitlines()]
    except ValueError:
        diags = []
    check(rc == 1 and out == "" and len(diags) >= 2 and
          all(d.get("file") == broken for d in diags),
          "policy check --json: its diagnostics parse: %r" % err)
    rc, out, err = ew(["tor", "typo"], env)
    check(rc == 2 and "apply, emit, status" in err,
          "tor typo: a usage error, no ControlPort dialled: %r" % err)
    for bad in (["apply", "all"], ["run", "daemon"], ["expire", "all"]):
        rc, out, err = ew(bad, env)
        check(rc in (1, 2) and "run:" not in out,
              "%s is not a command: %d" % (" ".join(bad), rc))
    rc, out, _ = ew(["--help"], env)
    check(rc == 0 and " all " not in out and "daemon " not in out,
          "--help lists no verb that does not exist")
    rc, out, err = ew(["ticket", "--json", "--now", NOW], env)
    check(rc == 0 and "tickets" in json.loads(out or "{}"),
          "a noun alone runs its default verb, options included")
    rc, out, err = ew(["policy"], env)
    check(rc == 2 and "policy check" in err, "policy alone: usage")
    rc, out, err = ew(["apply", "-n", "--policy", POLICY, POLICY], env)
    check(rc == 2 and "give one" in err and out == "",
          "apply --policy FILE beside a POLICY operand: a usage error, "
          "not one of them ignored: %d %r" % (rc, err))
    man = os.path.join(SRC, "docs", "exitwarden.1")
    with open(man) as f:
        page = f.read()
    gen = subprocess.run([sys.executable, os.path.join(SRC, "scripts",
                                                       "gen-man.py"), EW],
                         capture_output=True, text=True)
    check(gen.returncode == 0 and gen.stdout == page,
          "docs/exitwarden.1 is up to date (scripts/gen-man.py "
          "build/dev/exitwarden > docs/exitwarden.1)")
    rc, out, _ = ew(["help", "--list"], env)
    for line in out.splitlines():
        check(("exitwarden " + line).replace("-", "\\-") in page
              or ("exitwarden " + line) in page,
              "the man page covers '%s'" % line)


if __name__ == "__main__":
    sys.exit(main())
