#!/usr/bin/env python3
"""Generate a Maildir of abuse complaints, deterministic from a seed.

  mkmaildir.py [--seed S] [--count N] [--exact-resends K]
               [--msgid-resends K] [--unreadable K] [--src ADDR,...]
               [--manifest FILE] [--check EXITWARDEN] MAILDIR

MAILDIR/new receives N distinct complaints in the shapes of tests/mail
and shared/corpus/complaints: a hoster forwarding a free-text complaint
as message/rfc822 (examples/irc-complaint.eml), an inline "Forwarded
message", ARF feedback reports, X-ARF 0.2, XARF v4 JSON, Shadowserver CSV
(plain and zipped), a netflow table in named zones, a defanged C2 notice,
SpamCop and ACNS.  Reporters come from a small pool, so that tickets
group; sources, destinations, ports, times, zones and deadlines vary.
Some mails carry no Message-ID.  Then:

  exact resends   the same bytes again under another file name
  msgid resends   the same message delivered again: the same
                  Message-ID, other bytes (a Received: and a
                  Delivered-To: line on top, as another relay adds
                  them): the store must keep the first (duplicates are
                  found by content without the delivery trace, never by
                  the Message-ID alone: anyone can write any)
  unreadable      empty, binary garbage, MIME nested past the parser's
                  limit: the scan must move them to cur/ with flag F

File names are Maildir unique names ("TIME.MnnnnnnPpid.mkmaildir") whose
name order is the order written into the manifest; a resend always sorts
after the mail it repeats.  Each mail is written to tmp/ and renamed
into new/, as a delivery agent does.

The manifest (MAILDIR.json beside the Maildir unless --manifest) is one
JSON object:

  files       every file in name order: name, kind ("original",
              "exact-resend", "msgid-resend", "unreadable"), sha256,
              message_id (null when none), of (the original's name for
              a resend), format, why (unreadable)
  distinct    the complaints a store must hold afterwards, one per
              original: file, sha256, message_id, format, reporter,
              forwarder, incidents (how many), srcs
  duplicates  file, of, by ("content" or "message-id")
  unreadable  file, why
  reporters   reporter -> number of distinct complaints

--check runs 'EXITWARDEN complaint parse --json' on every file and
compares with the manifest (format, reporter, forwarder, Message-ID,
number of incidents, their sources; unreadable ones must be refused or
name no reporter and no incident); it prints "N passed, N failed" and
exits 1 on any failure.

The module is importable: generate(maildir, seed=..., count=...) returns
the manifest, check(exitwarden, maildir, manifest) the (passed, failed)
counts.  Python standard library only.
"""
import argparse
import email.utils
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile

T0 = 1793491200  # 2026-11-01T00:00:00Z
SPAN = 30 * 86400
NAME_T0 = 1795000000

DEFAULT_SRCS = ["192.0.2.25", "192.0.2.26", "198.51.100.77",
                "203.0.113.9"]
DEFAULT_SRCS6 = ["2001:db8::25"]

# (display name, address) pools per shape; the first is the commonest
REPORTERS = {
    "fwd-rfc822": [("IRC Network Opers", "kline@irc.example.net"),
                   ("Libera Example Staff", "staff@chat.example.org")],
    "inline-fwd": [("Rights Agency", "notices@rights.example")],
    "arf": [("Feedback Loop", "fbl@mail.example.com"),
            ("Postmaster", "fbl@webmail.example.org")],
    "x-arf": [("Abuse-Team (auto-generated)", "reports@blocklist.example")],
    "xarf-json": [("Network Security Monitoring",
                   "alerts@netsec-monitor.example")],
    "csv": [(None, "autoreports@shadowserver.example")],
    "csv-zip": [(None, "autoreports@shadowserver.example")],
    "netflow": [("CERT Example", "cert@cert.example.hr")],
    "defanged": [("Threat Intel", "ti@cert.example.org")],
    "spamcop": [("SpamCop", None)],  # the address carries the report id
    "acns": [("Rights Example", "copyright@rights.example")],
}
FORWARDERS = [("Abuse Desk", "abuse@hoster.example"),
              ("Abuse Team", "abuse@dc.example")]
FORMAT = {"fwd-rfc822": "text", "inline-fwd": "text", "arf": "arf",
          "x-arf": "x-arf", "xarf-json": "xarf", "csv": "shadowserver-csv",
          "csv-zip": "shadowserver-csv", "netflow": "text",
          "defanged": "text", "spamcop": "spamcop", "acns": "acns"}
WEIGHTS = {"fwd-rfc822": 4, "inline-fwd": 2, "arf": 3, "x-arf": 3,
           "xarf-json": 2, "csv": 2, "csv-zip": 1, "netflow": 2,
           "defanged": 1, "spamcop": 2, "acns": 2}
ZONES = [("+0000", 0, "UTC"), ("+0100", 3600, "CET"),
         ("-0500", -18000, "EST"), ("+0200", 7200, "CEST"),
         ("-0800", -28800, "PST")]
DEADLINES = ["your server will be disconnected in 12 hours",
             "Please respond within 48 hours.",
             "It must be answered and resolved within 24 hours.",
             "Please take care of it."]
IRC_PORTS = ["6667", "6697", "6660-7000", "7000", "8080", "8888"]


def rfc2822(t, zone):
    """RFC 2822 date of epoch t shown in zone (offset text, seconds)."""
    off = zone[1]
    s = email.utils.formatdate(t + off, usegmt=True)
    return s[:-3] + zone[0]


def iso(t):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % _gm(t)


def _gm(t):
    g = time.gmtime(t)
    return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)


def local(t, zone, sep=" "):
    """'YYYY-MM-DD HH:MM:SS' of t in zone."""
    return "%04d-%02d-%02d%s%02d:%02d:%02d" % (
        _gm(t + zone[1])[:3] + (sep,) + _gm(t + zone[1])[3:])


def addr_hdr(name, addr):
    return "%s <%s>" % (name, addr) if name else addr


class Gen:
    def __init__(self, rnd, srcs, srcs6):
        self.r = rnd
        self.srcs = srcs
        self.srcs6 = srcs6

    def reporter(self, shape):
        pool = REPORTERS[shape]
        return pool[0] if len(pool) == 1 or self.r.random() < 0.7 \
            else self.r.choice(pool[1:])

    def src(self):
        return self.r.choice(self.srcs)

    def dst(self):
        r = self.r
        return "%d.%d.%d.%d" % (r.choice([198, 203, 45, 93]),
                                r.choice([51, 0, 33, 184]),
                                r.randint(0, 255), r.randint(1, 254))

    def time(self):
        return T0 + self.r.randrange(SPAN)

    def headers(self, frm, subject, date, mid, extra=()):
        h = ["From: " + frm,
             "To: abuse@relay-operator.example",
             "Subject: " + subject,
             "Date: " + date]
        if mid is not None:
            h.append("Message-ID: <%s>" % mid)
        h.extend(extra)
        return h

    # Each shape returns (lines of the message, meta).  meta: reporter,
    # forwarder, incidents (count), srcs (set).

    def fwd_rfc822(self, i, mid):
        r = self.r
        fname, faddr = r.choice(FORWARDERS)
        rname, raddr = self.reporter("fwd-rfc822")
        src, t = self.src(), self.time()
        n = r.choice([1, 1, 2, 3])
        rows = []
        for k in range(n):
            rows.append("%s UTC  %s:%d -> %s:%s" % (
                local(t + 7 * k, ZONES[0]), src, r.randint(1024, 65535),
                self.dst(), r.choice(["6667", "6697", "7000"])))
        ticket = "%d%08d" % (2026110000 + r.randint(1, 30), i)
        table = r.random() < 0.6
        zone = r.choice(ZONES)
        inner_t = t + r.randint(60, 7200)
        b = "outer-%d" % i
        lines = self.headers(
            addr_hdr(fname, faddr),
            "[Ticket#%s] Abuse report: IRC%s" % (
                ticket, "" if table else " - " + src),
            rfc2822(inner_t + r.randint(600, 9000), zone), mid,
            ["MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b])
        # the irc-complaint.eml shape (the server named by the hoster,
        # a netblock and ports in the complaint) or a netflow table (the
        # hoster then names no address, in the text or the subject: the
        # parser would take it for one more incident)
        lines += ["", "--" + b,
                  "Content-Type: text/plain; charset=utf-8", "",
                  "Dear customer,", "",
                  "we have received the complaint below concerning your "
                  "server%s." % ("" if table else " " + src),
                  "Please stop the reported activity and answer this "
                  "ticket. If we do", "not hear from you, %s."
                  % r.choice(DEADLINES[:1] + ["we will act within 24 hours"]),
                  "", "Kind regards,", fname, "",
                  "--" + b,
                  "Content-Type: message/rfc822",
                  "Content-Disposition: attachment", "",
                  "From: " + addr_hdr(rname, raddr),
                  "To: " + faddr,
                  "Subject: Suspicious connections from your network",
                  "Date: " + rfc2822(inner_t, ZONES[0]),
                  "Message-ID: <inner-%d-%d@%s>" % (i, r.randrange(10**6),
                                                    raddr.split("@")[1]),
                  "Content-Type: text/plain; charset=us-ascii", "",
                  "Hello,", ""]
        if table:
            lines += ["we saw connections from your network joining a "
                      "botnet on our IRC servers:", "",
                      "Date first seen          Src IP Addr:Port       "
                      "Dst IP Addr:Port"] + rows
        else:
            n = 1
            net = src.rsplit(".", 1)[0] + ".0/24"
            lines += ["we saw suspicious connections from your netblock "
                      "%s to our" % net,
                      "servers on ports %s. These look like a botnet "
                      "trying" % ", ".join(r.sample(IRC_PORTS, 2)),
                      "to join our IRC network."]
        lines += ["", "Please investigate.", "", "-- ",
                  "IRC operators", "--%s--" % b]
        return lines, dict(reporter=raddr, forwarder=faddr, incidents=n,
                           srcs={src})

    def inline_fwd(self, i, mid):
        r = self.r
        fname, faddr = r.choice(FORWARDERS)
        rname, raddr = self.reporter("inline-fwd")
        src, t = self.src(), self.time()
        zone = r.choice(ZONES)
        lines = self.headers(
            addr_hdr(fname, faddr), "Fwd: Notice of claimed infringement",
            rfc2822(t + r.randint(3600, 86400), zone), mid,
            ["Content-Type: text/plain; charset=utf-8"])
        lines += ["", "Hello, please find a copyright complaint below. "
                  + r.choice(DEADLINES[2:]), "",
                  "---------- Forwarded message ---------",
                  "From: " + addr_hdr(rname, raddr),
                  "Date: " + rfc2822(t + r.randint(600, 3600), ZONES[0]),
                  "Subject: Notice of claimed infringement", "",
                  "Timestamp: " + iso(t),
                  "IP Address: " + src,
                  "Port: %d" % r.randint(1024, 65535),
                  "Type: BitTorrent",
                  "Torrent Hash: %040x" % r.getrandbits(160), ""]
        return lines, dict(reporter=raddr, forwarder=faddr, incidents=1,
                           srcs={src})

    def arf(self, i, mid):
        r = self.r
        name, addr = self.reporter("arf")
        src, t = self.src(), self.time()
        zone = r.choice(ZONES[1:3])
        b = "arf-%d" % i
        arr = rfc2822(t, zone)[:-5] + zone[2]
        lines = self.headers(
            addr_hdr(name, addr), "FW: " + r.choice(
                ["Earn money fast", "Cheap watches", "You have won"]),
            rfc2822(t + r.randint(60, 3600), zone), mid,
            ["MIME-Version: 1.0",
             "Content-Type: multipart/report; report-type=feedback-report;",
             '\tboundary="%s"' % b])
        lines += ["", "--" + b, 'Content-Type: text/plain; charset="US-ASCII"',
                  "", "This is an email abuse report for an email message "
                  "received from IP", "%s on %s." % (src, arr), "",
                  "--" + b, "Content-Type: message/feedback-report", "",
                  "Feedback-Type: abuse", "User-Agent: SomeGenerator/1.0",
                  "Version: 1",
                  "Original-Mail-From: <s%d@example.net>" % i,
                  "Original-Rcpt-To: <user@mail.example.com>",
                  "Arrival-Date: " + arr,
                  "Reporting-MTA: dns; mail.example.com",
                  "Source-IP: %s" % src,
                  "Source-Port: %d" % r.randint(1024, 65535),
                  "Reported-Domain: example.net", "",
                  "--" + b, "Content-Type: text/rfc822-headers", "",
                  "Received: from unknown (unknown [%s])" % src,
                  "\tby mail.example.com with SMTP; " + rfc2822(t, zone),
                  "From: <s%d@example.net>" % i, "Subject: spam", "",
                  "--%s--" % b]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})

    def x_arf(self, i, mid):
        r = self.r
        name, addr = self.reporter("x-arf")
        src, t = self.src(), self.time()
        zone = r.choice(ZONES)
        svc, port = r.choice([("ssh", 22), ("ftp", 21), ("smtp", 25),
                              ("imap", 143), ("http", 80)])
        b = "xarf-%d" % i
        lines = self.headers(
            addr_hdr(name, addr),
            "abuse report about %s - %s" % (src, rfc2822(t, zone)),
            rfc2822(t + r.randint(60, 900), zone), mid,
            ["X-XARF: PLAIN", "Auto-Submitted: auto-generated",
             "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b])
        lines += ["", "--" + b, "Content-Type: text/plain; charset=utf-8", "",
                  "Hello Abuse-Team,", "",
                  "your Server/Customer with the IP %s has attacked one of "
                  "our" % src, "servers (%s)." % svc, "",
                  "--" + b,
                  'Content-Type: text/plain; charset=utf-8; name="report.txt"',
                  'Content-Disposition: attachment; filename="report.txt"', "",
                  "---", "Reported-From: " + addr, "Category: abuse",
                  "Report-Type: login-attack", "Service: " + svc,
                  "Version: 0.2", "User-Agent: Fail2BanFeedBackScript V0.2",
                  "Date: " + rfc2822(t, zone), "Source-Type: ip-address",
                  "Source: " + src, "Port: %d" % port,
                  "Report-ID: %d-%d@blocklist.example"
                  % (i, r.randrange(10**6)),
                  "Schema-URL: http://www.x-arf.org/schema/"
                  "abuse_login-attack_0.1.2.json",
                  "Attachment: text/plain",
                  "Occurrences: %d" % r.randint(1, 50), "TLP: green", "",
                  "--%s--" % b]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})

    def xarf_json(self, i, mid):
        r = self.r
        name, addr = self.reporter("xarf-json")
        src = r.choice(self.srcs + self.srcs6)
        t = self.time()
        zone = r.choice(ZONES)
        b = "xj-%d" % i
        body = {"xarf_version": "4.2.0",
                "report_id": "%08x-0000-4000-8000-%012x" % (
                    i, r.getrandbits(48)),
                "timestamp": iso(t + 120),
                "reporter": {"org": name, "contact": addr,
                             "domain": addr.split("@")[1]},
                "source_identifier": src,
                "source_port": r.randint(1024, 65535),
                "category": "connection", "type": "port_scan",
                "destination_ip": self.dst(), "protocol": "tcp",
                "ports_scanned": sorted(r.sample([22, 23, 80, 443, 3389,
                                                  5900, 8080], 3)),
                "first_seen": local(t, zone, "T")
                + zone[0][:3] + ":" + zone[0][3:]}
        lines = self.headers(
            addr_hdr(name, addr), "XARF report: port_scan from " + src,
            rfc2822(t + 600, ZONES[0]), mid,
            ["MIME-Version: 1.0",
             "Content-Type: multipart/report; report-type=feedback-report;",
             '\tboundary="%s"' % b])
        lines += ["", "--" + b, "Content-Type: text/plain; charset=utf-8", "",
                  "An XARF report is attached.", "",
                  "--" + b, "Content-Type: message/feedback-report", "",
                  "Feedback-Type: xarf", "User-Agent: netsec-monitor/4.2",
                  "Version: 1", "",
                  "--" + b,
                  'Content-Type: application/json; name="xarf.json"',
                  'Content-Disposition: attachment; filename="xarf.json"', ""]
        lines += json.dumps(body, indent=2).split("\n")
        lines += ["--%s--" % b]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})

    def _csv(self, i):
        r = self.r
        day = self.time()
        n = r.randint(1, 5)
        kind = r.choice(["scan_http", "scan_rdp", "honeypot_scan",
                         "sinkhole_http_drone"])
        rows = ["timestamp,ip,protocol,port,hostname,asn,geo,dst_ip,dst_port"]
        srcs = set()
        for k in range(n):
            src = r.choice(self.srcs + self.srcs6)
            srcs.add(src)
            dst, dport = "", ""
            if "drone" in kind or "honeypot" in kind:
                dst, dport = self.dst(), str(r.choice([80, 443, 8080]))
            rows.append('"%s",%s,tcp,%d,,64496,XX,%s,%s' % (
                local(day + 61 * k, ZONES[0]), src,
                r.choice([80, 443, 3389, 8080]), dst, dport))
        name = "%04d-%02d-%02d-%s-example-asn-%d.csv" % (
            _gm(day)[:3] + (kind, i))
        return name, "\r\n".join(rows) + "\r\n", n, srcs, day

    def csv(self, i, mid):
        fname, text, n, srcs, day = self._csv(i)
        addr = REPORTERS["csv"][0][1]
        b = "ss-%d" % i
        lines = self.headers(
            addr, "[example] Shadowserver Report: %s" % fname[:10],
            rfc2822(day + 86400, ZONES[0]), mid,
            ["MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b])
        lines += ["", "--" + b, "Content-Type: text/plain; charset=us-ascii",
                  "", "Attached is the report (%d events)." % n, "",
                  "--" + b,
                  'Content-Type: text/csv; name="%s"' % fname,
                  'Content-Disposition: attachment; filename="%s"' % fname,
                  ""] + text.rstrip("\r\n").split("\r\n") + ["",
                                                             "--%s--" % b]
        return lines, dict(reporter=addr, forwarder=None, incidents=n,
                           srcs=srcs)

    def csv_zip(self, i, mid):
        import base64
        fname, text, n, srcs, day = self._csv(i)
        addr = REPORTERS["csv-zip"][0][1]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            zi = zipfile.ZipInfo(fname, date_time=(2026, 11, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, text)
        enc = base64.encodebytes(buf.getvalue()).decode().rstrip("\n")
        b = "ssz-%d" % i
        lines = self.headers(
            addr, "[example] Shadowserver Report: %s" % fname[:10],
            rfc2822(day + 86400, ZONES[0]), mid,
            ["MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b])
        lines += ["", "--" + b, "Content-Type: text/plain; charset=us-ascii",
                  "", "Attached is the report (%d events)." % n, "",
                  "--" + b,
                  'Content-Type: application/octet-stream; name="%s.zip"'
                  % fname, "Content-Transfer-Encoding: base64",
                  "Content-Disposition: attachment; filename=%s.zip" % fname,
                  ""] + enc.split("\n") + ["", "--%s--" % b]
        return lines, dict(reporter=addr, forwarder=None, incidents=n,
                           srcs=srcs)

    def netflow(self, i, mid):
        r = self.r
        name, addr = self.reporter("netflow")
        src, t = self.src(), self.time()
        zone = r.choice(ZONES[1:])
        n = r.randint(1, 4)
        rows = []
        for k in range(n):
            rows.append("%s %s  %s:%d    -> %s:%d" % (
                local(t + 2 * k, zone), zone[2], src,
                r.randint(1024, 65535), self.dst(),
                r.choice([22, 23, 445, 3389])))
        lines = self.headers(
            addr_hdr(name, addr), "Port scan from your network (case %d)" % i,
            rfc2822(t + r.randint(3600, 20000), zone), mid,
            ["Content-Type: text/plain; charset=utf-8"])
        lines += ["", "Hello,", "",
                  "we detected a port scan originating from your network.",
                  r.choice(DEADLINES[1:]), "",
                  "Date first seen          Src IP Addr:Port       "
                  "Dst IP Addr:Port"] + rows + ["", "Regards, CERT Example"]
        return lines, dict(reporter=addr, forwarder=None, incidents=n,
                           srcs={src})

    def defanged(self, i, mid):
        r = self.r
        name, addr = self.reporter("defanged")
        src, t = self.src(), self.time()
        dst = self.dst()

        def fang(a):
            return a[:a.rfind(".")] + "[.]" + a[a.rfind(".") + 1:]
        lines = self.headers(
            addr_hdr(name, addr), "C2 communication from your network",
            rfc2822(t + r.randint(3600, 30000), ZONES[0]), mid,
            ["Content-Type: text/plain; charset=us-ascii"])
        lines += ["", "Dear network owner,", "",
                  "our sensors observed the host %s contacting a known "
                  "command and" % fang(src),
                  'control server of the malware family "Bot%d":' % (i % 97),
                  "", "  Source IP:      " + fang(src),
                  "  Destination:    hxxp://%s:%d/gate.php" % (
                      fang(dst), r.choice([8443, 443, 8080])),
                  "  First seen:     " + iso(t), "",
                  "Please clean the infected machine.", ""]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})

    def spamcop(self, i, mid):
        r = self.r
        src, t = self.src(), self.time()
        rid = 6000000 + i
        addr = "%d@reports.spamcop.net" % rid
        zone = r.choice(ZONES)
        lines = self.headers(
            "SpamCop <%s>" % addr,
            "[SpamCop (http://%s/) id:%d]%s" % (
                self.dst(), rid, r.choice(["Cheap watches", "Loans"])),
            rfc2822(t + r.randint(60, 3600), ZONES[0]), mid,
            ["Content-Type: text/plain"])
        lines += ["", "[ SpamCop V5.4.0 ]",
                  "This message is brief for your comfort.", "",
                  "Email from %s / %s" % (src, rfc2822(t, zone)),
                  "http://www.spamcop.net/w3m?i=z%dzexample" % rid, "",
                  "[ Offending message ]",
                  "Received: from mail.example (unknown [%s]) by "
                  "mx.victim.example; %s" % (src, rfc2822(t, zone)),
                  "From: someone@example.com", "Subject: spam", ""]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})

    def acns(self, i, mid):
        r = self.r
        name, addr = self.reporter("acns")
        src, t = self.src(), self.time()
        case = 900000000 + i
        lines = self.headers(
            "%s <notices@%s>" % (name, addr.split("@")[1]),
            "Notice of Claimed Infringement - Case ID %d" % case,
            rfc2822(t + r.randint(3600, 30000), ZONES[0]), mid,
            ["Content-Type: text/plain; charset=utf-8"])
        lines += ["", "Dear Sir or Madam,", "",
                  "we have detected the sharing of a copyrighted work from "
                  "an address on", "your network.", "",
                  '<?xml version="1.0" encoding="UTF-8"?>',
                  '<Infringement xmlns="http://www.acns.net/ACNS">',
                  " <Case>", "  <ID>%d</ID>" % case,
                  "  <Status>Open</Status>", " </Case>",
                  " <Complainant>", "  <Entity>%s</Entity>" % name,
                  "  <Email>%s</Email>" % addr, " </Complainant>",
                  " <Source>", "  <TimeStamp>%s</TimeStamp>" % iso(t),
                  "  <IP_Address>%s</IP_Address>" % src,
                  "  <Port>%d</Port>" % r.randint(1024, 65535),
                  "  <Type>BitTorrent</Type>", " </Source>",
                  "</Infringement>", ""]
        return lines, dict(reporter=addr, forwarder=None, incidents=1,
                           srcs={src})


SHAPES = {"fwd-rfc822": Gen.fwd_rfc822, "inline-fwd": Gen.inline_fwd,
          "arf": Gen.arf, "x-arf": Gen.x_arf, "xarf-json": Gen.xarf_json,
          "csv": Gen.csv, "csv-zip": Gen.csv_zip, "netflow": Gen.netflow,
          "defanged": Gen.defanged, "spamcop": Gen.spamcop,
          "acns": Gen.acns}


def unreadable(r, why):
    if why == "empty":
        return b""
    if why == "garbage":
        # no ':' and no line break: nothing a parser could take for a
        # header, and NULs besides
        n = r.randint(64, 4096)
        return bytes(b for b in r.randbytes(n * 2)
                     if b not in (0x0a, 0x0d, 0x3a))[:n]
    if why == "deep-mime":
        s = ["From: deep@example.org",
             "Date: Sun, 22 Nov 2026 10:00:00 +0000",
             "Message-ID: <deep-%d@example.org>" % r.randrange(10**9),
             "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="b0"', ""]
        for k in range(1, 80):
            s += ["--b%d" % (k - 1),
                  'Content-Type: multipart/mixed; boundary="b%d"' % k, ""]
        s += ["--b79", "Content-Type: text/plain", "",
              "Source: 192.0.2.25 port 22 at 2026-11-22T10:00:00Z", ""]
        for k in range(79, -1, -1):
            s.append("--b%d--" % k)
        return ("\n".join(s) + "\n").encode()
    raise ValueError(why)


UNREADABLE_KINDS = ["empty", "garbage", "deep-mime"]


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def generate(maildir, seed=1, count=100, exact_resends=None,
             msgid_resends=None, n_unreadable=None, srcs=None, srcs6=None,
             shapes=None):
    """Write the Maildir; return the manifest (a dict)."""
    r = random.Random(seed)
    if exact_resends is None:
        exact_resends = max(1, count // 20)
    if msgid_resends is None:
        msgid_resends = max(1, count // 20)
    if n_unreadable is None:
        n_unreadable = max(3, count // 50)
    g = Gen(r, srcs or DEFAULT_SRCS,
            DEFAULT_SRCS6 if srcs6 is None else srcs6)
    shapes = shapes or sorted(SHAPES)
    weights = [WEIGHTS[s] for s in shapes]
    for d in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, d), exist_ok=True)
        if os.listdir(os.path.join(maildir, d)):
            raise SystemExit("mkmaildir: %s/%s is not empty" % (maildir, d))

    # originals, in order; the first of each shape is forced so that a
    # small count still shows every shape
    items = []
    for i in range(count):
        shape = shapes[i] if i < len(shapes) else \
            r.choices(shapes, weights)[0]
        mid = None if r.random() < 0.08 else "ew-%s-%d-%d@%s" % (
            shape, seed, i, "complaints.example")
        lines, meta = SHAPES[shape](g, i, mid)
        data = ("\n".join(lines) + "\n").encode()
        if r.random() < 0.3:
            data = data.replace(b"\n", b"\r\n")
        items.append(dict(kind="original", shape=shape, data=data,
                          message_id=mid, meta=meta, idx=i))
    # resends: insert somewhere after their original
    originals = list(items)
    with_mid = [it for it in items if it["message_id"] is not None]
    for k in range(exact_resends):
        orig = r.choice(originals)
        items.insert(r.randint(items.index(orig) + 1, len(items)),
                     dict(kind="exact-resend", data=orig["data"],
                          message_id=orig["message_id"], of=orig,
                          shape=orig["shape"]))
    for k in range(msgid_resends):
        orig = r.choice(with_mid)
        d = orig["data"]
        nl = b"\r\n" if b"\r\n" in d else b"\n"
        # delivered again: trace lines on top, so the bytes differ
        d = (b"Received: from mx%d.example by mx.relay.example;%s"
             b"\tSat, 21 Nov 2026 00:00:%02d +0000%s"
             b"Delivered-To: abuse@relay.example%s"
             % (k + 1, nl, k % 60, nl, nl)) + d
        items.insert(r.randint(items.index(orig) + 1, len(items)),
                     dict(kind="msgid-resend", data=d,
                          message_id=orig["message_id"], of=orig,
                          shape=orig["shape"]))
    for k in range(n_unreadable):
        why = UNREADABLE_KINDS[k] if k < len(UNREADABLE_KINDS) \
            else r.choice(UNREADABLE_KINDS)
        items.insert(r.randint(0, len(items)),
                     dict(kind="unreadable", data=unreadable(r, why),
                          why=why, message_id=None))

    host = "mkmaildir"
    for pos, it in enumerate(items):
        it["name"] = "%d.M%06dP%d.%s" % (NAME_T0 + pos, pos,
                                         1000 + seed % 30000, host)
    files, distinct, dups, unread = [], [], [], []
    reporters = {}
    seen_sha = {}
    for it in items:
        sha = sha256(it["data"])
        tmp = os.path.join(maildir, "tmp", it["name"])
        with open(tmp, "wb") as f:
            f.write(it["data"])
        os.rename(tmp, os.path.join(maildir, "new", it["name"]))
        rec = dict(name=it["name"], kind=it["kind"], sha256=sha,
                   message_id=it["message_id"], of=None,
                   format=FORMAT.get(it.get("shape")),
                   shape=it.get("shape"), why=it.get("why"))
        if it["kind"] == "original":
            if sha in seen_sha:
                raise SystemExit("mkmaildir: two originals share bytes")
            seen_sha[sha] = it["name"]
            m = it["meta"]
            distinct.append(dict(file=it["name"], sha256=sha,
                                 message_id=it["message_id"],
                                 format=FORMAT[it["shape"]],
                                 shape=it["shape"],
                                 reporter=m["reporter"],
                                 forwarder=m["forwarder"],
                                 incidents=m["incidents"],
                                 srcs=sorted(m["srcs"])))
            reporters[m["reporter"]] = reporters.get(m["reporter"], 0) + 1
        elif it["kind"] == "unreadable":
            unread.append(dict(file=it["name"], why=it["why"]))
        else:
            rec["of"] = it["of"]["name"]
            dups.append(dict(file=it["name"], of=it["of"]["name"],
                             by="content" if it["kind"] == "exact-resend"
                             else "message-id"))
        files.append(rec)
    return dict(seed=seed, count=count, files=files, distinct=distinct,
                duplicates=dups, unreadable=unread, reporters=reporters)


def parse_file(exitwarden, path):
    p = subprocess.run([exitwarden, "complaint", "parse", "--json", path],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return None, p
    return json.loads(p.stdout), p


def check(exitwarden, maildir, manifest, sub="new", log=print):
    """Parse every file of the manifest; return (passed, failed)."""
    passed = failed = 0
    want = {d["file"]: d for d in manifest["distinct"]}
    for f in manifest["files"]:
        path = os.path.join(maildir, sub, f["name"])
        got, p = parse_file(exitwarden, path)
        problems = []
        if f["kind"] == "unreadable":
            if got is not None and (got.get("reporter") is not None or
                                    got.get("incidents")):
                problems.append("expected unreadable (%s), parsed as %s"
                                % (f["why"], json.dumps(got)[:300]))
        elif got is None:
            problems.append("parse failed: exit %d: %s"
                            % (p.returncode, p.stderr.strip()[:300]))
        else:
            d = want[f["name"] if f["of"] is None else f["of"]]
            if got.get("message_id") != f["message_id"]:
                problems.append("message_id %r, expected %r"
                                % (got.get("message_id"), f["message_id"]))
            for k in ("format", "reporter", "forwarder"):
                if got.get(k) != d[k]:
                    problems.append("%s %r, expected %r"
                                    % (k, got.get(k), d[k]))
            inc = got.get("incidents") or []
            if len(inc) != d["incidents"]:
                problems.append("%d incidents, expected %d"
                                % (len(inc), d["incidents"]))
            srcs = sorted({x.get("src") for x in inc})
            if srcs != d["srcs"]:
                problems.append("sources %s, expected %s"
                                % (srcs, d["srcs"]))
            if any(x.get("time") is None and x.get("time_to") is None
                   for x in inc):
                problems.append("an incident without a time")
        if problems:
            failed += 1
            log("FAIL %s (%s %s): %s" % (f["name"], f["kind"],
                                         f["shape"] or f["why"],
                                         "; ".join(problems)))
        else:
            passed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("maildir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100,
                    help="distinct complaints")
    ap.add_argument("--exact-resends", type=int)
    ap.add_argument("--msgid-resends", type=int)
    ap.add_argument("--unreadable", type=int)
    ap.add_argument("--src", help="IPv4 sources, comma-separated")
    ap.add_argument("--src6", help="IPv6 sources, comma-separated "
                    "('' for none)")
    ap.add_argument("--manifest")
    ap.add_argument("--check", metavar="EXITWARDEN")
    a = ap.parse_args()
    m = generate(a.maildir, seed=a.seed, count=a.count,
                 exact_resends=a.exact_resends,
                 msgid_resends=a.msgid_resends, n_unreadable=a.unreadable,
                 srcs=a.src.split(",") if a.src else None,
                 srcs6=None if a.src6 is None else
                 [s for s in a.src6.split(",") if s])
    out = a.manifest or a.maildir.rstrip("/") + ".json"
    with open(out, "w", encoding="utf-8") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    print("%s: %d files: %d distinct, %d duplicates, %d unreadable; "
          "%d reporters; manifest %s"
          % (a.maildir, len(m["files"]), len(m["distinct"]),
             len(m["duplicates"]), len(m["unreadable"]),
             len(m["reporters"]), out), file=sys.stderr)
    if a.check:
        passed, failed = check(a.check, a.maildir, m)
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
