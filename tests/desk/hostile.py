#!/usr/bin/env python3
"""A complaint written by an attacker, through every command that shows
it (issue 17, items 1 and 2).

The mail's Subject and From carry, RFC 2047 encoded so that they reach
the store decoded, CR/LF (a Bcc: header and a body of the attacker's
after an empty line), ESC sequences (window title, screen clear,
colours), BEL, C1 controls, bidi overrides and an invalid byte.  Then:

- complaint parse / add / list, ticket list / show, and ticket reply
  --to provider and --to complainant: no output (stdout or stderr) holds
  a control byte other than newline, DEL, a C1 control or a bidi
  override;
- each reply, read with Python's email module, has exactly the header
  fields the template writes (no Bcc), and its body is the template's
  (it begins with "Hello,");
- a template that puts a complaint value into an address field is
  refused, with nothing on stdout;
- --json keeps the exact value;
- a policy file with control characters: the diagnostics' source line
  shows them escaped.

Ends with "N passed, N failed".
"""

import base64
import email
import email.header
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile

EW = os.path.abspath(sys.argv[1])
passed = failed = 0

# what the attacker wants the operator's terminal and sendmail -t to see
EVIL_SUBJECT = ("Abuse \x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m "
                "\u009b31m csi \u202eexe.txt \u2066iso\u2069 \x7f del"
                "\r\nBcc: victim@evil.example\r\n\r\nInjected body\r\n")
EVIL_NAME = "Ops\x1b[8m hidden\x07\r\nBcc: victim2@evil.example"


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
    p = subprocess.run([EW] + list(args), capture_output=True, env=e,
                       input=stdin.encode() if stdin else None, timeout=60)
    return p.returncode, p.stdout, p.stderr


def b64word(s):
    return "=?UTF-8?B?%s?=" % base64.b64encode(s.encode()).decode()


def hostile_mail():
    return ("From: %s <opers@irc.example.net>\n"
            "To: abuse@relay.example\n"
            "Subject: %s =?UTF-8?Q?bad_byte_=FF_end?=\n"
            "Date: Fri, 20 Nov 2026 12:00:00 +0000\n"
            "Message-ID: <evil1@irc.example.net>\n\nHello,\n\n"
            "on 2026-11-20 10:00:00 UTC we saw connections from "
            "198.51.100.7\nto our server 203.0.113.5 on port 6667. "
            "Please fix this within 24 hours.\n"
            % (b64word(EVIL_NAME), b64word(EVIL_SUBJECT)))


def controls(data):
    """The characters of data a terminal would act on: C0 but newline,
    DEL, C1, bidi controls; and whether it is valid UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ["invalid UTF-8"]
    bad = []
    for ch in text:
        o = ord(ch)
        if ((o < 0x20 and ch != "\n") or o == 0x7f or 0x80 <= o <= 0x9f
                or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069):
            bad.append(repr(ch))
    return bad


def clean(what, rc, out, err):
    check(rc == 0, "%s: exit %d: %r" % (what, rc, err))
    for name, data in (("stdout", out), ("stderr", err)):
        bad = controls(data)
        check(not bad, "%s: %s holds %s" % (what, name, " ".join(bad[:8])))


def check_reply(what, out):
    """The reply is a mail whose only header fields are the template's."""
    msg = email.message_from_bytes(out, policy=email.policy.default)
    check(list(msg.keys()) == ["Subject"],
          "%s: header fields %s, want only Subject" % (what, msg.keys()))
    check(msg["Bcc"] is None, "%s: no Bcc" % what)
    check(not msg.defects, "%s: parses cleanly: %s" % (what, msg.defects))
    body = msg.get_payload()
    check(body.startswith("Hello,\n"), "%s: body is the template's: %r"
          % (what, body[:60]))
    check("Injected body" not in body.split("\n")[0],
          "%s: no body of the attacker's" % what)
    subj = str(msg["Subject"])
    check(subj.startswith("Re: Abuse ") and "Bcc: victim@evil.example"
          in subj, "%s: the subject is one text: %r" % (what, subj))
    head = out.split(b"\n\n", 1)[0]
    check(all(len(line) <= 78 for line in head.split(b"\n")),
          "%s: header lines at most 78 columns: %r" % (what, head))


def main():
    tmp = tempfile.mkdtemp(prefix="ew-hostile-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(tmp):
    db = os.path.join(tmp, "ew.db")
    pol = os.path.join(tmp, "exit.policy")
    with open(pol, "w") as f:
        f.write("Address 198.51.100.7\nExitRelay 1\nExitPolicy accept *:*\n")
    env = {"EW_DB": db, "EW_POLICY": pol, "EW_MANAGED": "",
           "EW_TEMPLATES": ""}
    now = "2026-11-20T12:05:00Z"
    m = os.path.join(tmp, "evil.eml")
    with open(m, "w") as f:
        f.write(hostile_mail())

    rc, out, err = ew("complaint", "parse", m, env=env)
    clean("complaint parse", rc, out, err)
    rc, out, err = ew("complaint", "add", "--now", now, m, env=env)
    clean("complaint add", rc, out, err)
    check(b"stored as complaint 1, ticket 1" in out, "stored: %r" % out)
    check(b"\\x1b]0;owned\\x07" in out, "the ESC is shown escaped: %r" % out)
    rc, out, err = ew("complaint", "add", "--now", now, m, env=env)
    clean("complaint add (duplicate)", rc, out, err)
    rc, out, err = ew("complaint", "list", env=env)
    clean("complaint list", rc, out, err)
    rc, out, err = ew("ticket", "list", "--now", now, env=env)
    clean("ticket list", rc, out, err)
    rc, out, err = ew("ticket", "show", "--now", now, "1", env=env)
    clean("ticket show", rc, out, err)
    check(b"\\r\\nBcc: victim@evil.example" in out,
          "ticket show: the subject's CR LF shown escaped: %r" % out)

    # --json: the exact value, as JSON escapes
    rc, out, err = ew("ticket", "show", "--json", "--now", now, "1", env=env)
    clean("ticket show --json", rc, out, err)
    t = json.loads(out)
    subj = t["complaints"][0]["subject"]
    check(subj.startswith(EVIL_SUBJECT.rstrip("\r\n")[:20])
          and "\r\nBcc: victim@evil.example" in subj,
          "--json keeps the value: %r" % subj)

    for to in ("provider", "complainant"):
        rc, out, err = ew("ticket", "reply", "--to", to, "--now", now, "1",
                          env=env)
        clean("ticket reply --to %s" % to, rc, out, err)
        check_reply("reply to %s" % to, out)

    # a template that puts a complaint's value into an address field
    tdir = os.path.join(tmp, "templates")
    os.mkdir(tdir)
    with open(os.path.join(tdir, "provider.txt"), "w") as f:
        f.write("To: {{subject}}\nSubject: Re: {{subject}}\n\nHello\n")
    rc, out, err = ew("ticket", "reply", "--templates", tdir, "--now", now,
                      "1", env=env)
    check(rc == 1 and out == b"" and b"provider.txt:1:" in err
          and b"not a plain address" in err,
          "an address field refuses a value that is no address: %r %r"
          % (out, err))
    check(not controls(err), "...and says so escaped: %r" % err)
    # ... and takes one that is
    with open(os.path.join(tdir, "provider.txt"), "w") as f:
        f.write("To: {{reporter}}\nSubject: Re: {{subject}}\n"
                "X-Ticket: {{ticket}}\n\nHello\n")
    rc, out, err = ew("ticket", "reply", "--templates", tdir, "--now", now,
                      "1", env=env)
    clean("reply with To: {{reporter}}", rc, out, err)
    msg = email.message_from_bytes(out, policy=email.policy.default)
    check(list(msg.keys()) == ["To", "Subject", "X-Ticket"]
          and str(msg["To"]) == "opers@irc.example.net"
          and msg.get_payload() == "Hello\n",
          "To: {{reporter}}: %r" % out)

    # diagnostics echo source lines: a policy file with controls in it
    bad = os.path.join(tmp, "bad.policy")
    with open(bad, "wb") as f:
        f.write(b"ExitPolicy reject \x1b]0;x\x07\x1b[2J\xc2\x9b:80 \xff\n")
    rc, out, err = ew("policy", "check", bad, env=env)
    check(rc == 1 and b"bad.policy:1:" in err, "policy check fails: %r" % err)
    check(not controls(out) and not controls(err),
          "policy check: no raw control in %r" % err)


if __name__ == "__main__":
    sys.exit(main())
