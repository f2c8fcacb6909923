#!/usr/bin/env python3
"""The operator's story, end to end, on a private tor network.

An exit operator runs his policy with `exitwarden apply`; traffic
through his exit reaches an IRC server; the IRC network complains to his
hoster, who forwards the complaint with a deadline; the operator adds
the complaint, reads the ticket, blocks the destination it names and
replies.  Every step runs the real commands against a real tor network
and is checked:

  a. the network (e2e.py's: 1 authority, 2 middle relays, 1 exit as
     debian-tor, 1 client, on 127.0.0.11-15 in a fresh network
     namespace) and a TCP echo server standing in for the IRC server on
     127.0.0.2:6667.  The exit's outgoing connections leave from
     127.0.0.1 (OutboundBindAddressExit), an interface address of the
     namespace: the relay's own address, as the complaint will say;
  b. `exitwarden --db DB apply` of the operator's policy (it records the
     policy version in the store); a stream through the client reaches
     the IRC server, which sees it come from 127.0.0.1;
  c. the complaint, made from examples/irc-complaint-tornet.eml.in (a
     hoster forwarding the IRC network's mail as message/rfc822,
     "disconnected in 12 hours"), with the real times filled in: the
     incident is the connection the IRC server saw.  `complaint parse`
     must find source, destination, ports, time, date and deadline;
  d. `complaint add --json`: a new ticket, every incident judged
     "allowed" (the policy recorded by apply let it through), due at the
     hoster's Date + 12 h; adding it again changes nothing;
     `ticket list`, `ticket show`;
  e. `ticket block --choice 1` (first -n, then for real): the exit now
     refuses new streams to 127.0.0.2:6667 with REMOTE_REASON=EXITPOLICY
     (bounded poll), the IRC server sees no new connection, while
     127.0.0.3:6667 (another server) and 127.0.0.2:443 (another port)
     still work; the ticket carries the rule with its expiry, and the
     store's policy history has both versions;
  f. `ticket reply` (to the provider, then to the complainant): says the
     relay is a Tor exit, that no connection logs are kept, the
     incident's verdict, and the rule blocked with its expiry;
  g. everything is stopped (only processes started here, by PID) and the
     temporary directory removed.

Ends with "N passed, N failed"; exit 1 on any failure, 77 when tor,
tor-gencert, root, network namespaces, the debian-tor user or
libnftables are missing (the reason is printed).

--demo tells the same story for a human (`make demo`): each step says
what happens and why, then shows the command line and its output; only
a final line sums up (and anything that did not go as expected is
flagged with "!!").
"""

import argparse
import datetime
import email.utils
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import torharness  # noqa: E402
import e2e  # noqa: E402
from e2e import NODES, ip, port, socks_open, echo_ok, ev_is  # noqa: E402

EXIT_USER = e2e.EXIT_USER
IRC = ("127.0.0.2", 6667)           # the IRC server the complaint is about
IRC_STR = "%s:%d" % IRC
OTHERS = (("127.0.0.3", 6667),      # another IRC server: still reachable
          ("127.0.0.2", 443))       # another port of the same host: too
EXIT_SRC = "127.0.0.1"              # where the exit's connections leave
TEMPLATE = os.path.join(ROOT, "examples", "irc-complaint-tornet.eml.in")
UTC = datetime.timezone.utc
HOSTER_TZ = datetime.timezone(datetime.timedelta(hours=1))

# File names inside the work directory; exitwarden runs there, so the
# command lines shown stay short.
DB = "exitwarden.db"                # managed.policy is written beside it
POLICY = "operator.policy"
MAIL = "complaint.eml"
FRAGMENT = "exitwarden.torrc"
STATE = "nft.state"

OPERATOR_POLICY = """\
# The operator's exit policy.  The test network lives on 127/8, so tor's
# reject-private default is off; everything but mail may leave.
ExitRelay 1
ExitPolicyRejectPrivate 0
reject *:$smtp reason "no mail from this exit"
accept *:*
"""


def iso(t):
    """UTC, the CLI's spelling: YYYY-MM-DDTHH:MM:SSZ."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def first_list(obj):
    """The list in a --json answer: {"versions": [...]}, {"complaints":
    [...]}, or a bare list."""
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        for v in obj.values():
            if isinstance(v, list):
                return v
    return []


def check_added(st, rc, add, err, due):
    """complaint add --json, as docs/cli/workflow.md gives it: {"complaint",
    "ticket", "duplicate", "new_ticket", "due", "incidents": [{...,
    "verdict"}]}.  Returns the ticket id or None."""
    add = add if isinstance(add, dict) else {}
    tid = add.get("ticket")
    st.check(rc == 0 and isinstance(tid, int) and
             isinstance(add.get("complaint"), int),
             "d: complaint add: %d %r %s" % (rc, add, err))
    st.check(add.get("new_ticket") is True and add.get("duplicate") is False,
             "d: a new ticket, not a duplicate: %r" % add)
    incs = add.get("incidents")
    if incs is None and isinstance(add.get("show"), dict):
        # what the CLI printed while the workflow landed: the ticket (as
        # ticket show --json) under "show"
        print("note: complaint add --json has no top-level \"incidents\" "
              "and \"due\" (docs/cli/workflow.md); reading \"show\"")
        for c in add["show"].get("complaints") or []:
            if c.get("id") == add.get("complaint"):
                incs = c.get("incidents")
        add = dict(add, due=add["show"].get("due"))
    verdicts = [i.get("verdict") for i in incs or []]
    st.check(verdicts and all(v == "allowed" for v in verdicts),
             "d: every incident judged allowed: %r" % verdicts)
    st.check(add.get("due") == due, "d: due %s (Date + 12 h): %r" %
             (due, add.get("due")))
    return tid


def skip(msg):
    print("SKIP: " + msg, flush=True)
    sys.exit(77)


class Story:
    """Checks and narration.  In test mode every check prints ok/FAIL;
    in demo mode only failures are flagged."""

    def __init__(self, demo, ew, work):
        self.demo = demo
        self.ew_path = ew
        self.work = work
        self.passed = 0
        self.failed = 0
        self.n = 0

    def step(self, title, why=""):
        self.n += 1
        if self.demo:
            print("\n==> %d. %s" % (self.n, title), flush=True)
            if why:
                for line in why.strip().splitlines():
                    print("    " + line.strip())
        else:
            print("\n--- %s" % title, flush=True)

    def say(self, text):
        pre = "    " if self.demo else ""
        for line in text.split("\n"):
            print(pre + line if line else "", flush=True)

    def check(self, cond, what):
        if cond:
            self.passed += 1
            if not self.demo:
                print("ok: " + what.split("\n")[0][:100], flush=True)
        else:
            self.failed += 1
            print(("!! unexpected: " if self.demo else "FAIL: ") + what,
                  flush=True)
        return cond

    def show_file(self, name, text=None):
        if text is None:
            with open(os.path.join(self.work, name)) as f:
                text = f.read()
        print("\n$ cat %s" % name)
        print(text.rstrip("\n"), flush=True)

    def ew(self, *args, show=True, timeout=60):
        """Run exitwarden in the work directory: (rc, stdout, stderr).
        Shown (command line, then output) unless show is False."""
        # EW_DB: a command that names no --db never reaches the
        # machine's own store (/var/lib/exitwarden for root)
        env = dict(os.environ, EW_DB=os.path.join(self.work, DB))
        p = subprocess.run([self.ew_path] + list(args), cwd=self.work,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        if show:
            print("\n$ exitwarden " + " ".join(shlex.quote(a) for a in args))
            pretty = out
            if "--json" in args:
                try:
                    pretty = json.dumps(json.loads(out), indent=1) + "\n"
                except ValueError:
                    pass
            sys.stdout.write(pretty)
            sys.stdout.write(err)
            if p.returncode != 0:
                print("(exit status %d)" % p.returncode)
            sys.stdout.flush()
        return p.returncode, out, err

    def ew_json(self, *args, show=True):
        rc, out, err = self.ew(*args, show=show)
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, err + out


class RecordingEcho(e2e.EchoServer):
    """The stand-in IRC server: echoes, and remembers who connected when
    (its log, which is what the complaint will be made from)."""

    def __init__(self, addr):
        self.seen = []
        super().__init__(addr)

    def conn(self, c):
        try:
            self.seen.append((time.time(), c.getpeername()[0]))
        except OSError:
            pass
        super().conn(c)


class StoryNet(e2e.Net):
    """e2e's network; the exit's streams leave from 127.0.0.1."""

    def torrc(self, name, k):
        path = super().torrc(name, k)
        if name == "exit1":
            with open(path, "a") as f:
                f.write("OutboundBindAddressExit %s\n" % EXIT_SRC)
        return path


def try_stream(dest, tag, timeout=8):
    """A stream to dest through the client that echoes: True/False."""
    try:
        s, code = socks_open(timeout, dest)
    except OSError:
        return False
    try:
        return code == 0 and echo_ok(s, tag)
    finally:
        s.close()


def wait_refused(watch, dest, since, bound):
    """Open streams to dest until the exit refuses one with
    REMOTE_REASON=EXITPOLICY; the event (time, fields) or None."""
    target = "%s:%d" % dest
    pred = ev_is(status=("DETACHED", "FAILED", "CLOSED"),
                 remote="EXITPOLICY", target=target)
    end = time.monotonic() + bound
    while time.monotonic() < end:
        try:
            s, code = socks_open(3, dest)
        except OSError:
            time.sleep(0.2)
            continue
        hit = watch.find(since, pred)
        if hit is None and code is None:
            hit = watch.wait(since, pred, 1)
        s.close()
        if hit is not None:
            return hit
        time.sleep(0.1)
    return watch.find(since, pred)


def fill_template(seen, irc_date, fwd_date):
    with open(TEMPLATE) as f:
        text = f.read()
    values = {
        "@TICKET@": fwd_date.strftime("%Y%m%d%H%M%S") + "01",
        "@FWD_DATE@": email.utils.format_datetime(
            fwd_date.astimezone(HOSTER_TZ)),
        "@IRC_DATE@": email.utils.format_datetime(irc_date.astimezone(UTC)),
        "@IRC_STAMP@": irc_date.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
        "@SEEN@": seen.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    for k, v in values.items():
        text = text.replace(k, v)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError("template placeholders left: %r" % left)
    return text


# ---------------------------------------------------------------------------

def bring_up(st, net, watchers):
    """a. the network; returns the client's control connection, or None."""
    t0 = time.monotonic()
    net.keys()
    st.say("waiting for the authority's first consensus (20-30 s)...")
    net.start("auth1", 0)
    for name, k in NODES[1:4]:
        net.start(name, k)
    ok = e2e.wait_for("the consensus with 4 relays and their microdescs",
                      70, lambda: not net.dead() and
                      all(e2e.node_ready(k, 4) for k in (0, 1, 2, 3)))
    if not st.check(ok and not net.dead(), "a: network up (dead: %r)" %
                    net.dead()):
        return None
    st.say("consensus with 4 relays published after %.0f s" %
           (time.monotonic() - t0))
    net.start("client1", 4)
    ccookie = net.d("client1/control_auth_cookie")
    if not st.check(e2e.wait_for("the client's control port", 15,
                                 lambda: os.path.exists(ccookie)),
                    "a: client started"):
        return None
    time.sleep(0.3)
    cctl = e2e.Ctl((ip(4), port(4, 2)), ccookie)
    watchers.append(cctl)
    watchers.append(e2e.StreamWatch((ip(4), port(4, 2)), ccookie))

    def boot():
        status, lines = cctl.command("GETINFO status/bootstrap-phase")
        return status == "250" and "PROGRESS=100" in lines[0]
    ok = e2e.wait_for("client bootstrap", 45, boot)
    st.check(ok, "a: client bootstrapped")
    if ok:
        st.say("client bootstrapped after %.0f s" % (time.monotonic() - t0))
    return cctl if ok else None


def scenario(st, net, irc, apply_opts, work):
    watchers = []
    try:
        _scenario(st, net, irc, apply_opts, work, watchers)
    finally:
        for w in reversed(watchers):
            w.close()


def _scenario(st, net, irc, apply_opts, work, watchers):
    st.step("a private Tor network, and an IRC server",
            """1 directory authority, 2 middle relays, the exit (running as
            debian-tor, like Debian's tor) and a client, on 127.0.0.11-15 in
            a fresh network namespace.  An echo server on 127.0.0.2:6667
            plays the IRC server; the exit's connections leave from
            127.0.0.1, the relay's own address.""")
    if bring_up(st, net, watchers) is None:
        return
    watch = watchers[1]

    # b. the operator's policy, applied and recorded
    st.step("the operator applies his exit policy",
            """`apply` gives it to tor over the ControlPort (verified, rolled
            back on a mismatch), then loads the kernel's nftables backstop,
            and records the policy version in the store: later complaints
            are judged against the policy that was in force at their time.""")
    with open(os.path.join(work, POLICY), "w") as f:
        f.write(OPERATOR_POLICY)
    st.show_file(POLICY)
    rc, out, err = st.ew("--db", DB, "apply", *apply_opts, POLICY)
    if not st.check(rc == 0, "b: exitwarden apply: %d %s %s" %
                    (rc, out, err)):
        return
    rc, hist, err = st.ew_json("--db", DB, "policy", "history", "--json",
                               show=False)
    st.check(rc == 0 and len(first_list(hist)) == 1,
             "b: apply recorded the policy version: %d %r %s" %
             (rc, hist, err))

    st.step("a connection through the exit reaches the IRC server",
            """A client opens a stream through tor to 127.0.0.2:6667.  The
            IRC server sees it come from 127.0.0.1, the exit: the exit keeps
            no log of it, the IRC server does.""")
    n_before = len(irc.seen)
    ok = e2e.wait_for("a stream to %s" % IRC_STR, 45,
                      lambda: try_stream(IRC, "NICK story"), 1.0)
    st.check(ok, "b: a stream through the client reaches %s" % IRC_STR)
    if not ok:
        return
    st.say("a stream through the client's SocksPort %s:%d to %s: the "
           "server echoed 'NICK story'" % (ip(4), port(4, 3), IRC_STR))
    t_seen, peer = irc.seen[-1] if len(irc.seen) > n_before else (None, None)
    st.check(peer == EXIT_SRC, "b: the IRC server saw the connection come "
             "from %s (got %r)" % (EXIT_SRC, peer))
    if t_seen is None:
        return
    seen = datetime.datetime.fromtimestamp(int(t_seen), UTC)
    st.say("the IRC server logged: %s connection from %s to %s" %
           (iso(seen), peer, IRC_STR))

    # c. the complaint
    st.step("the IRC network complains; the hoster forwards it",
            """The IRC network mails the hoster about connections from
            127.0.0.1 at the time it logged; the hoster forwards that mail
            (as an attachment) with "disconnected in 12 hours".  `complaint
            parse` reads source, destination, ports, time and deadline.""")
    now = datetime.datetime.fromtimestamp(int(time.time()), UTC)
    irc_date = max(seen, now - datetime.timedelta(seconds=1))
    fwd_date = now
    text = fill_template(seen, irc_date, fwd_date)
    with open(os.path.join(work, MAIL), "w") as f:
        f.write(text)
    due = iso(fwd_date + datetime.timedelta(hours=12))
    rc, out, err = st.ew("complaint", "parse", MAIL)
    st.check(rc == 0, "c: complaint parse: %d %s" % (rc, err))
    rc, cp, err = st.ew_json("complaint", "parse", "--json", MAIL, show=False)
    incs = (cp or {}).get("incidents") or []
    st.check(rc == 0 and len(incs) == 1, "c: one incident: %d %r %s" %
             (rc, incs, err))
    inc = incs[0] if incs else {}
    st.check(inc.get("src") == EXIT_SRC and inc.get("dst") == IRC[0],
             "c: source %s, destination %s: %r" % (EXIT_SRC, IRC[0], inc))
    st.check(inc.get("dst_ports") == ["6660-7000", "8888", "8080"],
             "c: ports 6660-7000, 8888, 8080: %r" % inc.get("dst_ports"))
    st.check(inc.get("time") == iso(seen), "c: time %s: %r" %
             (iso(seen), inc.get("time")))
    st.check((cp or {}).get("date") == iso(fwd_date) and
             (cp or {}).get("deadline") == due,
             "c: date %s, deadline %s: %r %r" % (
                 iso(fwd_date), due, (cp or {}).get("date"),
                 (cp or {}).get("deadline")))
    st.check((cp or {}).get("reporter") == "kline@irc.example.net" and
             (cp or {}).get("forwarder") == "abuse@hoster.example",
             "c: reporter and forwarder: %r %r" % (
                 (cp or {}).get("reporter"), (cp or {}).get("forwarder")))

    # d. the complaint becomes a ticket
    st.step("the complaint goes into the store and opens a ticket",
            """Each incident is judged: the source is the relay's own
            address, and the policy recorded by `apply` was in force at the
            incident's time and allowed 127.0.0.2:6667, so the verdict is
            "allowed".  The ticket is due 12 hours after the hoster's mail.""")
    if st.demo:
        # the human form; it shows the ticket as `ticket show` does
        rc, out, err = st.ew("--db", DB, "complaint", "add", MAIL)
        m = re.search(r"\bticket (\d+)", out)
        tid = int(m.group(1)) if m else None
        st.check(rc == 0 and tid is not None, "d: complaint add: %d %s" %
                 (rc, err))
    else:
        rc, add, err = st.ew_json("--db", DB, "complaint", "add", "--json",
                                  MAIL)
        tid = check_added(st, rc, add, err, due)
    if not isinstance(tid, int):
        return
    N = str(tid)
    if st.demo:
        st.say("")
        st.say("the hoster sends the same mail again: recognised, nothing "
               "changes")
        rc, out, err = st.ew("--db", DB, "complaint", "add", MAIL,
                             show=False)
        print("\n$ exitwarden --db %s complaint add %s" % (DB, MAIL))
        print(out.split("\n")[0] + "\n[... the same ticket, unchanged]")
    else:
        rc, again, err = st.ew_json("--db", DB, "complaint", "add",
                                    "--json", MAIL)
        again = again or {}
        st.check(again.get("duplicate") is True and
                 again.get("ticket") == tid and
                 again.get("new_ticket") is False,
                 "d: the same complaint again is a duplicate: %r" % again)
    st.check(rc == 0, "d: the same complaint again: exit status %d %s" %
             (rc, err))
    rc, cl, err = st.ew_json("--db", DB, "complaint", "list", "--json",
                             show=False)
    st.check(rc == 0 and len(first_list(cl)) == 1,
             "d: one complaint stored: %r %s" % (cl, err))
    rc, out, err = st.ew("--db", DB, "ticket", "list")
    st.check(rc == 0 and N in out, "d: ticket list: %d %s" % (rc, err))
    if not st.demo:
        rc, out, err = st.ew("--db", DB, "ticket", "show", N)
        st.check(rc == 0, "d: ticket show: %d %s" % (rc, err))
    rc, show, err = st.ew_json("--db", DB, "ticket", "show", "--json", N,
                               show=False)
    show = show or {}
    props = {p.get("choice"): p for p in show.get("proposals") or []}
    p1 = props.get(1) or {}
    st.check(p1.get("scope") == "destination" and
             any(IRC[0] in r for r in p1.get("rules") or []),
             "d: proposal 1 blocks the destination %s: %r" % (IRC[0], p1))
    st.check(show.get("due") == due and show.get("status") == "open",
             "d: ticket show --json: due %r (Date + 12 h), status %r" % (
                 show.get("due"), show.get("status")))
    verdicts = [i.get("verdict") for c in show.get("complaints") or []
                for i in c.get("incidents") or []]
    st.check(verdicts and all(v == "allowed" for v in verdicts),
             "d: ticket show --json: every incident judged allowed: %r" %
             verdicts)

    # e. block
    st.step("the operator blocks what the complaint names",
            """Choice 1, the narrowest: 127.0.0.2 on the reported ports.
            -n first shows the rules and the change and touches nothing;
            then the rules go into the store, managed.policy is written
            (the ticket's rules, then `include` of the operator's policy,
            which exitwarden never edits) and applied: tor, then nftables.""")
    block = ["--db", DB, "ticket", "block", "--choice", "1", "--policy",
             POLICY]
    # The block may well land in the same second as the apply: the store
    # then lets the block's version take the apply's row (it was in force
    # for no whole second) instead of refusing it after tor took it.
    # apply wrote managed.policy (no block yet: the include alone)
    m_before = e2e.read(os.path.join(work, "managed.policy"))
    rc, out, err = st.ew(*block, "-n", *apply_opts, N)
    st.check(rc == 0 and IRC[0] in out, "e: ticket block -n: %d %s %s" %
             (rc, out, err))
    rc, hist, err = st.ew_json("--db", DB, "policy", "history", "--json",
                               show=False)
    st.check(len(first_list(hist)) == 1 and m_before is not None and
             IRC[0] not in m_before and
             e2e.read(os.path.join(work, "managed.policy")) == m_before,
             "e: -n changed nothing (one policy version, managed.policy as "
             "apply wrote it): %r" % hist)
    t_block = datetime.datetime.now(UTC)
    t0 = time.monotonic()
    rc, out, err = st.ew(*block, *apply_opts, N)
    st.check(rc == 0, "e: ticket block: %d %s %s" % (rc, out, err))
    managed = os.path.join(work, "managed.policy")
    mtext = e2e.read(managed)
    st.check(mtext is not None and IRC[0] in mtext and POLICY in mtext,
             "e: managed.policy beside the database holds the rule and "
             "includes %s: %r" % (POLICY, mtext))
    if mtext is not None:
        st.show_file("managed.policy", mtext)
    n_irc = len(irc.seen)
    hit = wait_refused(watch, IRC, t0, 25)
    st.check(hit is not None, "e: a new stream to %s is refused by the "
             "exit: REMOTE_REASON=EXITPOLICY" % IRC_STR)
    if hit is not None:
        st.say("\na new stream to %s: the exit refuses it; the client's "
               "STREAM event:\n  650 STREAM %s" % (IRC_STR,
                                                   " ".join(hit[1])))
        st.say("(%.2f s after `ticket block` started)" % (hit[0] - t0))
    st.check(len(irc.seen) == n_irc, "e: the IRC server saw no new "
             "connection (%d -> %d)" % (n_irc, len(irc.seen)))
    for dest in OTHERS:
        d = "%s:%d" % dest
        ok = e2e.wait_for("a stream to " + d, 20,
                          lambda: try_stream(dest, "still here"), 1.0)
        st.check(ok, "e: a stream to %s still works" % d)
        if ok:
            st.say("a stream to %s still works" % d)
    rc, show, err = st.ew_json("--db", DB, "ticket", "show", "--json", N,
                               show=False)
    rules = [r for r in (show or {}).get("rules") or []
             if not r.get("removed")]
    st.check(rc == 0 and rules and
             any(IRC[0] in (r.get("rule") or "") for r in rules),
             "e: the ticket carries the rules: %r" % rules)

    def in_90_days(r):
        try:
            t = datetime.datetime.strptime(r.get("expires") or "",
                                           "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return False
        off = t.replace(tzinfo=UTC) - t_block - datetime.timedelta(days=90)
        return abs(off.total_seconds()) < 30
    st.check(rules and all(in_90_days(r) for r in rules),
             "e: each rule expires in 90 days (the default): %r" %
             [r.get("expires") for r in rules])
    rc, out, err = st.ew("--db", DB, "policy", "history")
    st.check(rc == 0, "e: policy history: %d %s" % (rc, err))
    rc, hist, err = st.ew_json("--db", DB, "policy", "history", "--json",
                               show=False)
    st.check(rc == 0 and len(first_list(hist)) >= 2, "e: the store has "
             "both policy versions (apply, block): %r" % hist)

    # f. the replies
    st.step("the operator replies",
            """`ticket reply` writes the answer from what the store knows:
            the relay is a Tor exit, it keeps no connection logs, what the
            policy in force said about the incident, and what is blocked
            now, until when.  First to the hoster, then to the IRC
            network.""")
    expiry = [(r.get("expires") or "")[:10] for r in rules]
    for to in (None, "complainant"):
        extra = ["--to", to] if to else []
        rc, out, err = st.ew("--db", DB, "ticket", "reply", *extra, N)
        who = to or "provider"
        st.check(rc == 0 and out.strip(), "f: reply to the %s: %d %s" %
                 (who, rc, err))
        flat = " ".join(out.split())
        st.check(re.search(r"\btor\b.{0,40}\bexit", flat, re.I) is not None,
                 "f: the reply to the %s says the relay is a Tor exit" % who)
        st.check(re.search(r"\b(no|not|never|without)\b[^.]{0,80}\blog",
                           flat, re.I) is not None,
                 "f: the reply to the %s says no logs are kept" % who)
        st.check(re.search(r"\ballow", flat, re.I) is not None,
                 "f: the reply to the %s gives the verdict (allowed)" % who)
        st.check(IRC[0] in flat and "6660-7000" in flat,
                 "f: the reply to the %s names the blocked rule" % who)
        st.check(expiry and all(e and e in flat for e in expiry),
                 "f: the reply to the %s gives the rule's expiry %r" %
                 (who, expiry))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--tor", default=None)
    ap.add_argument("--demo", action="store_true",
                    help="narrate the story for a human (make demo)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (its path is printed)")
    args = ap.parse_args()
    tor = torharness.tor_binary(args.tor)
    gencert = shutil.which("tor-gencert")
    if tor is None:
        skip("tor is not installed")
    if gencert is None:
        skip("tor-gencert is not installed")
    if os.geteuid() != 0:
        skip("needs root (a network namespace, nftables, the exit's uid)")
    try:
        pw = pwd.getpwnam(EXIT_USER)
    except KeyError:
        skip("no user %s for the exit" % EXIT_USER)
    ew_path = os.path.abspath(args.exitwarden)
    if not os.access(ew_path, os.X_OK):
        print("FAIL: no exitwarden at %s" % ew_path)
        return 1
    if os.environ.get(torharness._NETNS_ENV) != "1":
        unshare = shutil.which("unshare")
        if unshare is None:
            skip("unshare is not installed")
        if subprocess.run([unshare, "-n", "true"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            skip("cannot create a network namespace (unshare -n)")
    parent_ns = os.readlink("/proc/self/ns/net")
    os.environ.setdefault("EW_STORY_PARENT_NS", parent_ns)
    if not torharness.enter_netns(os.path.abspath(__file__), sys.argv[1:]):
        skip("cannot create a network namespace")
    if os.readlink("/proc/self/ns/net") == os.environ["EW_STORY_PARENT_NS"]:
        print("FAIL: not in a new network namespace")
        return 1
    if args.demo:
        print("\n==> the live story: a complaint, a ticket, a block and a "
              "reply, on a private\n    Tor network in a network namespace "
              "(about half a minute)", flush=True)
    t_all = time.monotonic()
    work = tempfile.mkdtemp(prefix="ew-story-")
    os.chmod(work, 0o711)  # debian-tor reaches its data directory
    st = Story(args.demo, ew_path, work)
    net = StoryNet(work, tor, gencert, pw)
    servers = []
    try:
        with open(os.path.join(work, "probe.policy"), "w") as f:
            f.write("accept *:*\n")
        rc, _, err = st.ew("nft", "apply", "-n", "probe.policy", show=False)
        e2e.nft_probe_or_fail(rc, err)
        irc = RecordingEcho(IRC)
        servers.append(irc)
        for dest in OTHERS:
            servers.append(e2e.EchoServer(dest))
        apply_opts = ["--control", "%s:%d" % (ip(3), port(3, 2)),
                      "--cookie", "exit1/control_auth_cookie",
                      "--fragment", FRAGMENT, "--state", STATE,
                      "--uid", EXIT_USER]
        scenario(st, net, irc, apply_opts, work)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        st.check(False, "harness: %r" % e)
    finally:
        # g. teardown: our tor processes (by PID), our servers, our table
        net.stop()
        if net.procs:
            st.check(all(p.poll() is not None for p in net.procs.values()),
                     "g: every tor process started here has ended")
        for s in servers:
            s.close()
        try:
            st.ew("nft", "flush", show=False)
        except (OSError, subprocess.SubprocessError):
            pass  # the table goes with the network namespace anyway
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - t_all
    if args.demo:
        if st.failed:
            print("\ndemo: %d check(s) did not go as expected (marked "
                  "!!), %.0f s" % (st.failed, took))
        else:
            print("\ndemo: complaint in, destination blocked, reply out: "
                  "the story ran through in %.0f s" % took)
    else:
        print("total %.1f s" % took)
        print("%d passed, %d failed" % (st.passed, st.failed))
    return 1 if st.failed else 0


if __name__ == "__main__":
    sys.exit(main())
