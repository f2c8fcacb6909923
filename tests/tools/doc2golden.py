#!/usr/bin/env python3
"""Turn the recorded tor oracle cases (section 12.6 of the shared
tor-exit-policy.md) into golden files under tests/policy/tor/:

  Cnn-topic.in    the policy (the oracle's defaults spelled out:
                  Address 198.51.100.7 unless the case sets its own)
  Cnn-topic.out   tor's exit-policy/full, abbreviations expanded
  Cnn-topic.fail  present instead of .out when tor refused the policy
  Cnn-topic.args  extra arguments for 'policy expand' (the oracle
                  machine's interface addresses)

Run once by hand; the generated files are committed and reviewed.
"""
import re
import sys

P4 = ["reject 0.0.0.0/8:*", "reject 169.254.0.0/16:*", "reject 127.0.0.0/8:*",
      "reject 192.168.0.0/16:*", "reject 10.0.0.0/8:*", "reject 172.16.0.0/12:*"]
P6 = ["reject6 [::]/8:*", "reject6 [fc00::]/7:*", "reject6 [fe80::]/10:*",
      "reject6 [fec0::]/10:*", "reject6 [ff00::]/8:*"]
DEF = ["25", "119", "135-139", "445", "563", "1214", "4661-4666",
       "6346-6429", "6699", "6881-6999"]
RED = ("20-23,43,53,79-81,88,110,143,194,220,389,443,464,465,531,543-544,"
       "554,563,587,636,706,749,873,902-904,981,989-995,1194,1220,1293,"
       "1500,1533,1677,1723,1755,1863,2082-2083,2086-2087,2095-2096,"
       "2102-2104,3128,3389,3690,4321,4643,5050,5190,5222-5223,5228,5900,"
       "6660-6669,6679,6697,8000,8008,8074,8080,8082,8087-8088,8232-8233,"
       "8332-8333,8443,8888,9418,9999,10000,11371,18080-18081,18089,19294,"
       "19638,50002,64738").split(",")


def expand(line):
    if line == "<P4>":
        return P4
    if line == "<P6>":
        return P6
    if line == "<DEFAULT4>":
        return ["reject *:%s" % p for p in DEF] + ["accept *:*"]
    if line == "<DEFAULT46>":
        out = []
        for p in DEF:
            out += ["reject *:%s" % p, "reject6 *:%s" % p]
        return out + ["accept *:*", "accept6 *:*"]
    if line.startswith("<REDUCED4"):
        return ["accept *:%s" % p for p in RED]
    return [line]


def main(doc, outdir):
    text = open(doc, encoding="utf-8").read()
    sec = text[text.index("### 12.6"):]
    for m in re.finditer(r"#### (C\d+) ([^\n]*)\n```\n(.*?)```", sec, re.S):
        cid, title, body = m.group(1), m.group(2), m.group(3)
        ins, outs, refused = [], [], False
        for ln in body.splitlines():
            if ln.startswith("in : "):
                ins.append(ln[5:])
            elif ln.startswith("out: "):
                outs += expand(ln[5:])
            elif ln.startswith("ERR: "):
                refused = True
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]
        base = "%s/%s-%s" % (outdir, cid, slug)
        pol = ["# %s %s (recorded from tor 0.4.9.11)" % (cid, title)]
        if not any(i.split()[0].lower() == "address" for i in ins if i):
            pol.append("Address 198.51.100.7")
        pol += ins
        with open(base + ".in", "w") as f:
            f.write("\n".join(pol) + "\n")
        with open(base + ".args", "w") as f:
            f.write("--interface 192.0.2.2 --interface fd00::2 "
                    "--interface 127.0.0.1 --interface ::1\n")
        if refused:
            with open(base + ".fail", "w") as f:
                f.write("tor refuses this policy\n")
        else:
            with open(base + ".out", "w") as f:
                f.write("\n".join(outs) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
