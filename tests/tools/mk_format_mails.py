#!/usr/bin/env python3
"""Writes the DMARC, IODEF and fail2ban golden mails (0200-0214) into DIR.

  mk_format_mails.py DIR

Deterministic: gzip members carry mtime 0 and zip entries a fixed date,
so the .eml files are reproducible byte for byte with the same zlib.  It
writes the expected refusals (.fail) of the hostile ones too; the .json
files are not generated here: they were checked by hand against each
mail."""
import base64, gzip, io, os, sys, zipfile

D = sys.argv[1]

def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))

def gz(data, name):
    bio = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=bio, mtime=0) as f:
        f.write(data)
    return bio.getvalue()

def zipped(name, data):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
        zi = zipfile.ZipInfo(name, date_time=(2026, 11, 18, 6, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, data)
    return bio.getvalue()

def write(name, text):
    with open(os.path.join(D, name), "w", newline="\n") as f:
        f.write(text)

def report(org, email, rid, begin, end, domain, records):
    rows = []
    for r in records:
        ip, count, disp, dkim, spf = r[:5]
        reason = r[5] if len(r) > 5 else None
        rs = ""
        if reason:
            rs = ("\n        <reason>\n          <type>%s</type>\n"
                  "        </reason>" % reason)
        rows.append("""  <record>
    <row>
      <source_ip>%s</source_ip>
      <count>%d</count>
      <policy_evaluated>
        <disposition>%s</disposition>
        <dkim>%s</dkim>
        <spf>%s</spf>%s
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>%s</header_from>
    </identifiers>
    <auth_results>
      <spf>
        <domain>%s</domain>
        <result>%s</result>
      </spf>
    </auth_results>
  </record>
""" % (ip, count, disp, dkim, spf, rs, domain, domain,
       "pass" if spf == "pass" else "softfail"))
    return ("""<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <version>1.0</version>
  <report_metadata>
    <org_name>%s</org_name>
    <email>%s</email>
    <report_id>%s</report_id>
    <date_range>
      <begin>%d</begin>
      <end>%d</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>%s</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>reject</p>
    <sp>reject</sp>
    <pct>100</pct>
  </policy_published>
%s</feedback>
""" % (org, email, rid, begin, end, domain, "".join(rows))).encode()

def mail(hdrs, parts, boundary="b1"):
    out = "".join("%s: %s\n" % h for h in hdrs)
    out += "MIME-Version: 1.0\n"
    out += 'Content-Type: multipart/mixed; boundary="%s"\n\n' % boundary
    for ph, body in parts:
        out += "--%s\n" % boundary
        out += "".join("%s: %s\n" % h for h in ph)
        out += "\n" + body.rstrip("\n") + "\n\n"
    out += "--%s--\n" % boundary
    return out

# 2026-11-17T00:00:00Z .. 2026-11-17T23:59:59Z
B, E = 1794873600, 1794959999

# ---- 0200 DMARC, gzip'd, sent by the receiver itself
x = report("Mail Receiver Example", "noreply-dmarc@mail-receiver.example",
           "17948736001234", B, E, "relay-operator.example", [
               ("203.0.113.45", 12, "reject", "fail", "fail"),
               ("198.51.100.20", 340, "none", "pass", "pass")])
name = "mail-receiver.example!relay-operator.example!%d!%d.xml.gz" % (B, E)
write("0200-dmarc-gzip.eml", mail([
    ("From", "noreply-dmarc@mail-receiver.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "Report Domain: relay-operator.example Submitter: "
     "mail-receiver.example Report-ID: <17948736001234>"),
    ("Date", "Wed, 18 Nov 2026 04:12:09 +0000"),
    ("Message-ID", "<dmarc-17948736001234@mail-receiver.example>")], [
    ([("Content-Type", "text/plain; charset=us-ascii")],
     "This is an aggregate DMARC report for relay-operator.example.\n"),
    ([("Content-Type", 'application/gzip; name="%s"' % name),
      ("Content-Transfer-Encoding", "base64"),
      ("Content-Disposition", 'attachment; filename="%s"' % name)],
     b64(gz(x, name[:-3])))]))

# ---- 0201 DMARC, zipped, forwarded by the spoofed domain's owner
x = report("Big Mail", "dmarc-reports@bigmail.example", "bm-5511-0017",
           B, E, "victim-shop.example", [
               ("2001:db8:4:7::25", 40, "reject", "fail", "fail"),
               ("192.0.2.25", 3, "quarantine", "fail", "fail")])
name = "bigmail.example!victim-shop.example!%d!%d.xml" % (B, E)
write("0201-dmarc-zip-forwarded.eml", mail([
    ("From", "Postmaster <postmaster@victim-shop.example>"),
    ("To", "abuse@relay-operator.example"),
    ("Subject", "Fwd: DMARC report shows mail from your addresses"),
    ("Date", "Wed, 18 Nov 2026 09:30:00 +0100"),
    ("Message-ID", "<fwd-77@victim-shop.example>")], [
    ([("Content-Type", "text/plain; charset=utf-8")],
     "Hello,\n\nthe attached aggregate report from Big Mail lists two of "
     "your\naddresses sending mail that claims to come from our shop. It "
     "failed\nSPF and DKIM and was rejected. Please look into it.\n\n"
     "Shop postmaster\n"),
    ([("Content-Type", 'application/zip; name="%s.zip"' % name),
      ("Content-Transfer-Encoding", "base64"),
      ("Content-Disposition", 'attachment; filename="%s.zip"' % name)],
     b64(zipped(name, x)))]))

# ---- 0202 DMARC, plain XML; one address twice, one excused (forwarded)
x = report("Example Webmail", "dmarc@webmail.example", "wm-20261117",
           B, E, "relay-operator.example", [
               ("203.0.113.45", 2, "none", "fail", "fail"),
               ("203.0.113.45", 5, "none", "fail", "fail"),
               ("198.51.100.77", 1, "none", "fail", "fail", "forwarded")])
write("0202-dmarc-plain-xml.eml", mail([
    ("From", "dmarc@webmail.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "DMARC aggregate report for relay-operator.example"),
    ("Date", "Wed, 18 Nov 2026 01:00:00 -0500"),
    ("Message-ID", "<wm-20261117@webmail.example>")], [
    ([("Content-Type", "text/plain; charset=us-ascii")],
     "Aggregate report attached.\n"),
    ([("Content-Type", 'application/xml; name="webmail.example!'
       'relay-operator.example!%d!%d.xml"' % (B, E)),
      ("Content-Disposition", 'attachment; filename="webmail.example!'
       'relay-operator.example!%d!%d.xml"' % (B, E))],
     x.decode())]))

# ---- 0203 DMARC, several records, some passing
x = report("Example Receiver", "reports@receiver.example", "rx-9",
           B, E, "relay-operator.example", [
               ("198.51.100.20", 900, "none", "pass", "pass"),
               ("198.51.100.21", 12, "none", "fail", "pass"),
               ("198.51.100.22", 7, "none", "pass", "fail"),
               ("192.0.2.130", 30, "none", "fail", "fail", "mailing_list"),
               ("::ffff:203.0.113.9", 4, "reject", "fail", "fail"),
               ("2001:db8:99::1", 1, "quarantine", "fail", "fail"),
               ("not-an-address", 1, "reject", "fail", "fail")])
name = "receiver.example!relay-operator.example!%d!%d.xml.gz" % (B, E)
write("0203-dmarc-some-pass.eml", mail([
    ("From", "reports@receiver.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "Report domain: relay-operator.example"),
    ("Date", "Wed, 18 Nov 2026 03:00:00 +0000"),
    ("Message-ID", "<rx-9@receiver.example>")], [
    ([("Content-Type", 'application/x-gzip; name="%s"' % name),
      ("Content-Transfer-Encoding", "base64")],
     b64(gz(x, name[:-3])))]))

# ---- 0204 IODEF 1.0 attachment (an abuse platform's shape)
iodef1 = """<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="1.00" lang="en"
    xmlns="urn:ietf:params:xml:ns:iodef-1.0">
  <Incident purpose="reporting">
    <IncidentID name="abuse-platform.example">inc-2026-0042</IncidentID>
    <ReportTime>2026-11-17T09:00:00+01:00</ReportTime>
    <Description>Host scanned our sensors</Description>
    <Assessment>
      <Impact severity="low" completion="failed" type="recon"/>
    </Assessment>
    <Contact role="creator" type="organization">
      <ContactName>Abuse Platform Example</ContactName>
      <Email>reports@abuse-platform.example</Email>
      <Timezone>+01:00</Timezone>
    </Contact>
    <EventData>
      <DetectTime>2026-11-17T08:02:13+01:00</DetectTime>
      <Flow>
        <System category="source">
          <Node>
            <Address category="ipv4-addr">192.0.2.55</Address>
          </Node>
          <Service ip_protocol="6">
            <Port>0</Port>
          </Service>
        </System>
        <System category="target">
          <Node>
            <Address category="ipv4-addr"></Address>
          </Node>
          <Service ip_protocol="6">
            <Port>23</Port>
          </Service>
        </System>
      </Flow>
      <Flow>
        <System category="source">
          <Node>
            <Address category="ipv4-addr">192.0.2.56</Address>
          </Node>
        </System>
        <System category="target">
          <Node>
            <Address category="ipv4-net">198.51.100.64/26</Address>
          </Node>
          <Service ip_protocol="6">
            <Portlist>23,2323</Portlist>
          </Service>
        </System>
      </Flow>
      <Record>
        <RecordData>
          <RecordItem dtype="string">2026-11-17 08:02:13 192.0.2.55 telnet</RecordItem>
        </RecordData>
      </Record>
    </EventData>
  </Incident>
</IODEF-Document>
"""
write("0204-iodef-v1.eml", mail([
    ("From", "noreply@abuse-platform.example"),
    ("To", "abuse@relay-operator.example"),
    ("Subject", "Incident report for your network"),
    ("Date", "Tue, 17 Nov 2026 09:00:05 +0100"),
    ("Message-ID", "<inc-2026-0042@abuse-platform.example>")], [
    ([("Content-Type", "text/plain; charset=us-ascii")],
     "An incident involving your network is described in the attached\n"
     "IODEF document.\n"),
    ([("Content-Type", 'application/xml; name="iodef-1.0.0_inc-2026-0042.xml"'),
      ("Content-Disposition",
       'attachment; filename="iodef-1.0.0_inc-2026-0042.xml"')],
     iodef1)]))

# ---- 0205 IODEF 2.0 inline, with a prefix
iodef2 = """<?xml version="1.0" encoding="UTF-8"?>
<iodef:IODEF-Document version="2.00" xml:lang="en"
    xmlns:iodef="urn:ietf:params:xml:ns:iodef-2.0">
  <iodef:Incident purpose="mitigation" restriction="amber">
    <iodef:IncidentID name="csirt.example">CSIRT-77-1</iodef:IncidentID>
    <iodef:GenerationTime>2026-11-18T10:00:00Z</iodef:GenerationTime>
    <iodef:Description>SSH password guessing against our hosts</iodef:Description>
    <iodef:Assessment>
      <iodef:SystemImpact type="takeover-account" severity="medium"/>
    </iodef:Assessment>
    <iodef:Contact role="creator" type="organization">
      <iodef:ContactName>Example CSIRT</iodef:ContactName>
      <iodef:Email>
        <iodef:EmailTo>csirt@csirt.example</iodef:EmailTo>
      </iodef:Email>
    </iodef:Contact>
    <iodef:EventData>
      <iodef:StartTime>2026-11-18T07:30:00-05:00</iodef:StartTime>
      <iodef:EndTime>2026-11-18T08:20:00-05:00</iodef:EndTime>
      <iodef:Flow>
        <iodef:System category="source">
          <iodef:Node>
            <iodef:Address category="ipv6-addr">2001:db8:4:7::25</iodef:Address>
          </iodef:Node>
          <iodef:Service ip-protocol="6">
            <iodef:Port>51234</iodef:Port>
          </iodef:Service>
        </iodef:System>
        <iodef:System category="target">
          <iodef:Node>
            <iodef:Address category="ipv6-net">2001:db8:100::/48</iodef:Address>
            <iodef:DomainData>
              <iodef:Name>bastion.csirt.example</iodef:Name>
            </iodef:DomainData>
          </iodef:Node>
          <iodef:Service ip-protocol="6">
            <iodef:Portlist>22,2222</iodef:Portlist>
          </iodef:Service>
        </iodef:System>
      </iodef:Flow>
    </iodef:EventData>
  </iodef:Incident>
</iodef:IODEF-Document>
"""
write("0205-iodef-v2-inline.eml",
      "From: Example CSIRT <csirt@csirt.example>\n"
      "To: abuse@relay-operator.example\n"
      "Subject: SSH password guessing from your network\n"
      "Date: Wed, 18 Nov 2026 10:00:30 +0000\n"
      "Message-ID: <CSIRT-77-1@csirt.example>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=utf-8\n\n"
      "Dear colleagues,\n\nthe incident below, in IODEF, concerns an address "
      "of yours.\n\n" + iodef2 + "\nRegards,\nExample CSIRT\n")

# ---- 0206 fail2ban sendmail-whois-lines, syslog lines, no zone note
write("0206-fail2ban-whois-lines.eml",
      "Subject: [Fail2Ban] sshd: banned 203.0.113.45 from mx1.victim.example\n"
      "Date: Tue, 17 Nov 2026 02:45:12 +0100\n"
      "From: Fail2Ban <fail2ban@mx1.victim.example>\n"
      "To: abuse@relay-operator.example\n"
      "Message-ID: <f2b-1@mx1.victim.example>\n\n"
      "Hi,\n\n"
      "The IP 203.0.113.45 has just been banned by Fail2Ban after\n"
      "5 attempts against sshd.\n\n\n"
      "Here is more information about 203.0.113.45 :\n\n"
      "% This is an example registry's whois service\n"
      "inetnum:        203.0.113.0 - 203.0.113.255\n"
      "netname:        RELAY-OPERATOR-NET\n"
      "descr:          Tor exit relays\n"
      "abuse-mailbox:  abuse@relay-operator.example\n"
      "source:         EXAMPLE\n\n"
      "Lines containing failures of 203.0.113.45 (max 1000)\n"
      "Nov 17 02:41:07 mx1 sshd[2212]: Invalid user admin from 203.0.113.45 "
      "port 53902\n"
      "Nov 17 02:41:09 mx1 sshd[2212]: Failed password for invalid user admin "
      "from 203.0.113.45 port 53902 ssh2\n"
      "Nov 17 02:41:14 mx1 sshd[2215]: Failed password for root from "
      "203.0.113.45 port 53918 ssh2\n"
      "Nov 17 02:43:50 mx1 sshd[2230]: Failed password for root from "
      "203.0.113.4 port 40000 ssh2\n"
      "Nov 17 02:44:58 mx1 sshd[2240]: Failed password for root from "
      "203.0.113.45 port 53990 ssh2\n\n"
      "Regards,\n\nFail2Ban\n")

# ---- 0207 fail2ban complain, forwarded by a hoster, zone note (CET)
inner = ("From: fail2ban@www.small-shop.example\n"
         "To: abuse@hoster.example\n"
         "Subject: Abuse from 192.0.2.25\n"
         "Date: Mon, 16 Nov 2026 23:05:41 +0100\n"
         "Message-ID: <f2b-77@www.small-shop.example>\n\n"
         "Dear Sir/Madam,\n\n"
         "We have detected abuse from the IP address 192.0.2.25, which "
         "according to a whois lookup is on your network. We would "
         "appreciate if you would investigate and take action as "
         "appropriate.\n\n"
         "Log lines are given below, but please ask if you require any "
         "further information.\n\n"
         "(If you are not the correct person to contact about this please "
         "accept our apologies - your e-mail address was extracted from "
         "the whois record by an automated process. This mail was "
         "generated by Fail2Ban.)\n\n"
         "Note: Local timezone is +0100 (CET)\n"
         "Nov 16 22:58:02 www sshd[901]: Failed password for root from "
         "192.0.2.25 port 40112 ssh2\n"
         "Nov 16 23:01:30 www sshd[905]: Failed password for root from "
         "192.0.2.25 port 40250 ssh2\n")
write("0207-fail2ban-forwarded-note.eml", mail([
    ("From", "Hoster Abuse Team <abuse@hoster.example>"),
    ("To", "abuse@relay-operator.example"),
    ("Subject", "Fw: Abuse from 192.0.2.25"),
    ("Date", "Tue, 17 Nov 2026 08:15:00 +0100"),
    ("Message-ID", "<hoster-fw-1@hoster.example>")], [
    ([("Content-Type", "text/plain; charset=us-ascii")],
     "Hello,\n\nwe received the attached report about your server.\n\n"
     "Hoster abuse team\n"),
    ([("Content-Type", "message/rfc822")], inner)]))

# ---- 0208 fail2ban complain, IPv6, grep over files, New Year, EST
write("0208-fail2ban-complain.eml",
      "From: root@imap.college.example\n"
      "To: abuse@relay-operator.example\n"
      "Subject: Abuse from 2001:db8:4:7::25\n"
      "Date: Fri, 1 Jan 2027 00:20:03 -0500\n"
      "Message-ID: <f2b-ny@imap.college.example>\n\n"
      "Dear Sir/Madam,\n\n"
      "We have detected abuse from the IP address 2001:db8:4:7::25, which "
      "according to a whois lookup is on your network. We would appreciate "
      "if you would investigate and take action as appropriate.\n\n"
      "Log lines are given below, but please ask if you require any further "
      "information.\n\n"
      "(If you are not the correct person to contact about this please "
      "accept our apologies - your e-mail address was extracted from the "
      "whois record by an automated process. This mail was generated by "
      "Fail2Ban.)\n\n"
      "Note: Local timezone is -0500 (EST)\n"
      "/var/log/mail.log:Dec 31 23:57:40 imap dovecot: imap-login: Aborted "
      "login (auth failed, 1 attempts in 2 secs): user=<dean>, method=PLAIN, "
      "rip=2001:db8:4:7::25, lip=2001:db8:77::143, session=<x1>\n"
      "/var/log/mail.log:Jan  1 00:19:58 imap dovecot: pop3-login: Aborted "
      "login (auth failed, 1 attempts in 2 secs): user=<dean>, method=PLAIN, "
      "rip=2001:db8:4:7::25, lip=2001:db8:77::143, session=<x2>\n")

# ---- 0209 fail2ban mail action, no log lines: the ban time
write("0209-fail2ban-ban-only.eml",
      "Subject: [Fail2Ban] nginx-http-auth: banned 198.51.100.99 from "
      "www.victim-blog.example\n"
      "Date: Wed, 18 Nov 2026 13:07:44 +0000\n"
      "From: Fail2Ban <fail2ban@www.victim-blog.example>\n"
      "To: abuse@relay-operator.example\n"
      "Message-ID: <f2b-2@www.victim-blog.example>\n\n"
      "Hi,\n\n"
      "The IP 198.51.100.99 has just been banned by Fail2Ban after\n"
      "12 attempts against nginx-http-auth.\n\n\n"
      "Regards,\n\nFail2Ban\n")

# ---- hostile
write("0210-refused-dmarc-not-gzip.eml", mail([
    ("From", "noreply-dmarc@mail-receiver.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "Report Domain: relay-operator.example"),
    ("Date", "Wed, 18 Nov 2026 04:12:09 +0000"),
    ("Message-ID", "<dmarc-bad-gz@mail-receiver.example>")], [
    ([("Content-Type", 'application/gzip; name="r.xml.gz"'),
      ("Content-Transfer-Encoding", "base64")],
     b64(b"\x1f\x8b\x08\x00this is not a deflate stream at all" * 3))]))
write("0210-refused-dmarc-not-gzip.fail",
      "part 1 (r.xml.gz): not gzip data, or corrupt: refused\n")

x = report("Example Receiver", "reports@receiver.example", "rx-trunc",
           B, E, "relay-operator.example", [
               ("203.0.113.45", 2, "none", "fail", "fail")])
write("0211-refused-dmarc-malformed.eml", mail([
    ("From", "reports@receiver.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "Report domain: relay-operator.example"),
    ("Date", "Wed, 18 Nov 2026 03:00:00 +0000"),
    ("Message-ID", "<rx-trunc@receiver.example>")], [
    ([("Content-Type", 'text/xml; name="rx-trunc.xml"')],
     x.decode()[:-200])]))
write("0211-refused-dmarc-malformed.fail", "DMARC report: malformed XML")

write("0212-refused-iodef-external-entity.eml", mail([
    ("From", "noreply@abuse-platform.example"),
    ("To", "abuse@relay-operator.example"),
    ("Subject", "Incident report"),
    ("Date", "Tue, 17 Nov 2026 09:00:05 +0100"),
    ("Message-ID", "<xxe@abuse-platform.example>")], [
    ([("Content-Type", 'application/iodef+xml; name="iodef.xml"')],
     '<?xml version="1.0"?>\n'
     '<!DOCTYPE IODEF-Document [\n'
     '  <!ENTITY secret SYSTEM "file:///etc/passwd">\n'
     ']>\n' + iodef1.split("\n", 1)[1].replace(
         "Host scanned our sensors", "&secret;"))]))
write("0212-refused-iodef-external-entity.fail",
      "IODEF document: XML with a DOCTYPE or entity declaration")

laughs = ('<?xml version="1.0"?>\n<!DOCTYPE feedback [\n'
          ' <!ENTITY a "lol">\n'
          + "".join(' <!ENTITY %s "%s">\n' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10)
                    for i in range(9))
          + ']>\n<feedback><report_metadata><org_name>&j;</org_name>'
          '</report_metadata></feedback>\n').encode()
write("0213-refused-dmarc-entity-bomb.eml", mail([
    ("From", "reports@receiver.example"),
    ("To", "dmarc-rua@relay-operator.example"),
    ("Subject", "Report domain: relay-operator.example"),
    ("Date", "Wed, 18 Nov 2026 03:00:00 +0000"),
    ("Message-ID", "<rx-lol@receiver.example>")], [
    ([("Content-Type", 'application/gzip; name="lol.xml.gz"'),
      ("Content-Transfer-Encoding", "base64")],
     b64(gz(laughs, "lol.xml")))]))
write("0213-refused-dmarc-entity-bomb.fail",
      "DMARC report: XML with a DOCTYPE or entity declaration")

write("0214-fail2ban-hostile.eml",
      "Subject: [Fail2Ban] sshd: banned 999.0.2.300 from ../../etc\n"
      "Date: Tue, 17 Nov 2026 02:45:12 +0100\n"
      "From: Fail2Ban <fail2ban@mx1.victim.example>\n"
      "To: abuse@relay-operator.example\n"
      "Message-ID: <f2b-hostile@mx1.victim.example>\n\n"
      "Hi,\n\n"
      "The IP 999.0.2.300 has just been banned by Fail2Ban after\n"
      "99999999999999999999999 attempts against "
      + "x" * 300 + "\n\n"
      "Lines containing failures of 999.0.2.300 (max 1000)\n"
      "Feb 31 25:61:99 mx1 sshd[1]: Failed password from 999.0.2.300\n"
      "Nov 17 02:41:07 mx1 sshd[2212]: Failed password from 999.0.2.300\n\n"
      "Regards,\n\nFail2Ban\n")
