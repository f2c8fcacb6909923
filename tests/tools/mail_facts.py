#!/usr/bin/env python3
"""Score 'exitwarden complaint parse --json' against what a person reads.

  mail_facts.py [-v] BIN [SHAPES_DIR...] [--corpus CORPUS_DIR FACTS_DIR]...

SHAPES_DIR holds NNNN-name.eml with NNNN-name.facts beside it (every .eml
must have its .facts).  --corpus scores another corpus whose truth lives
elsewhere: for every FACTS_DIR/<path>.facts the mail is CORPUS_DIR/<path>
(a corpus dir that is absent makes the run exit 77, "skipped", when it
is the only thing asked for).  For each mail the scorer runs
'BIN complaint parse --json MAIL' and compares fact by fact.

Facts file (UTF-8, one fact per line, '#' starts a comment line):

  format: text                  label for the tables only (not scored)
  reporter: kline@irc.example   the innermost complainant's mail address
  forwarder: abuse@hoster.example   the outermost sender who passed it on
  deadline: 2026-11-23T01:00:00Z    UTC, ISO 8601
  category: irc                 the reader's category word, if clear
  sources: 192.0.2.7, 2001:db8::7   the set of source addresses/CIDRs
  destinations: 198.51.100.10 198.51.100.11   the set of destinations
  dst_hosts: irc.example.org    destinations named by host name
  ports: 6660-7000,8080,8888    the set of destination ports (union)
  neither: 203.0.113.25         addresses that must be neither src nor dst
  at: SRC TIME                  an incident of SRC at TIME (UTC instant)
  at: SRC -> DST TIME           ... to DST at TIME
  at: SRC A/B                   ... over the interval A to B (UTC)
  at: SRC -                     SRC is reported, but no time is stated

A value '-' means "not stated": the reader must output null / nothing
(no deadline, no destination, ...).  A value '?' (or leaving the key
out) means "do not score".  Set keys may be repeated; items are
separated by commas and/or blanks.  Addresses are compared as
addresses (IPv6 compressed, CIDRs by network); host names without
case or trailing dot; ports as sets of numbers; times as instants.

Scoring: sources, destinations, dst_hosts and neither are counted per
item (a stated item is right when the output has it in that role and
not in the other; a source output as a destination is wrong); ports per
stated element (a range is right when all its ports are there); the
other keys per key.  Items the output has but the truth does not are
counted as 'extra' and fail the mail.  When 'at' lines are given for a
source, every output incident of that source that carries a time must
match one of them (an extra time fails 'at'), and any incident whose
time equals the deadline (and is not itself a stated time) fails 'at'.  A mail
passes when all its scored facts are right and there are no extras.

Output: per failing mail, one line per wrong fact with expected and
got; then a table per format and one per fact kind (right/stated,
extra); the last line is "N passed, N failed".  Exit 1 on any failure.
-v also lists the mails that pass.
"""
import datetime
import ipaddress
import json
import os
import subprocess
import sys

SETKEYS = ("sources", "destinations", "dst_hosts", "neither")
ONEKEYS = ("reporter", "forwarder", "deadline", "category")
KINDS = ("reporter", "forwarder", "deadline", "category", "sources",
         "destinations", "dst_hosts", "ports", "neither", "at")


class FactsError(Exception):
    pass


def norm_addr(s):
    s = s.strip().strip("[]").replace("[.]", ".").replace("[:]", ":")
    try:
        if "/" in s:
            n = ipaddress.ip_network(s, strict=False)
            if n.num_addresses == 1:
                return str(n.network_address)
            return str(n)
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s.lower()


def norm_host(s):
    return s.strip().rstrip(".").lower()


def parse_time(s):
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    t = datetime.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError("time without zone: %s" % s)
    return t.astimezone(datetime.timezone.utc)


def fmt_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else "null"


def opt_time(s):
    if s is None or s == "":
        return None
    try:
        return parse_time(s)
    except ValueError:
        return s


def port_elems(text):
    """'6660-7000, 8080 8888' -> list of (lo, hi)."""
    out = []
    for tok in text.replace(",", " ").split():
        lo, _, hi = tok.partition("-")
        lo = int(lo)
        hi = int(hi) if hi else lo
        if not 0 <= lo <= hi <= 65535:
            raise ValueError("bad port %s" % tok)
        out.append((lo, hi))
    return out


def port_set(elems):
    s = set()
    for lo, hi in elems:
        s.update(range(lo, hi + 1))
    return s


def port_text(ports):
    """Set of numbers -> '6660-7000,8080,8888'."""
    if not ports:
        return "-"
    out, ps = [], sorted(ports)
    lo = prev = ps[0]
    for p in ps[1:] + [None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        out.append(str(lo) if lo == prev else "%d-%d" % (lo, prev))
        if p is not None:
            lo = prev = p
    return ",".join(out)


def split_items(v):
    return [x for x in v.replace(",", " ").split() if x]


def read_facts(path):
    """Returns a dict: key -> '?' | '-' | value; sets as lists."""
    f = {"at": []}
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for no, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, sep, val = s.partition(":")
        key, val = key.strip(), val.strip()
        if not sep or not val:
            raise FactsError("%s:%d: expected 'key: value'" % (path, no))
        try:
            if key == "format":
                f["format"] = val
            elif key in ONEKEYS:
                if key in f:
                    raise ValueError("%s given twice" % key)
                if val in ("-", "?"):
                    f[key] = val
                elif key == "deadline":
                    f[key] = parse_time(val)
                elif key in ("reporter", "forwarder"):
                    f[key] = val.lower()
                else:
                    f[key] = val
            elif key in SETKEYS:
                cur = f.get(key)
                if val in ("-", "?"):
                    if cur not in (None, val):
                        raise ValueError("%s: '%s' with items" % (key, val))
                    f[key] = val
                    continue
                if isinstance(cur, str):
                    raise ValueError("%s: items after '%s'" % (key, cur))
                norm = norm_host if key == "dst_hosts" else norm_addr
                f.setdefault(key, []).extend(norm(x)
                                             for x in split_items(val))
            elif key == "ports":
                if "ports" in f:
                    raise ValueError("ports given twice")
                f["ports"] = val if val in ("-", "?") else port_elems(val)
            elif key == "at":
                f["at"].append(parse_at(val))
            else:
                raise ValueError("unknown key '%s'" % key)
        except ValueError as e:
            raise FactsError("%s:%d: %s" % (path, no, e))
    return f


def parse_at(val):
    w = val.split()
    if len(w) == 4 and w[1] == "->":
        src, dst, t = norm_addr(w[0]), norm_addr(w[2]), w[3]
    elif len(w) == 2:
        src, dst, t = norm_addr(w[0]), None, w[1]
    else:
        raise ValueError("at: expected 'SRC [-> DST] TIME'")
    if t == "-":
        return (src, dst, None, None)
    a, slash, b = t.partition("/")
    if slash:
        return (src, dst, parse_time(a), parse_time(b))
    t = parse_time(a)
    return (src, dst, t, t)


def at_text(a):
    src, dst, lo, hi = a
    s = src + (" -> " + dst if dst else "")
    if lo is None:
        return s + " (no time)"
    if lo == hi:
        return s + " " + fmt_time(lo)
    return s + " " + fmt_time(lo) + "/" + fmt_time(hi)


def inc_matches_at(inc, a):
    src, dst, lo, hi = a
    if inc["src"] != src or (dst is not None and inc["dst"] != dst):
        return False
    if lo is None:
        return inc["time"] is None and inc["time_from"] is None
    if lo == hi:
        return inc["time"] == lo or (inc["time_from"] == lo and
                                     inc["time_to"] == lo)
    return inc["time_from"] == lo and inc["time_to"] == hi


def inc_time_text(inc):
    if inc["time"] is not None:
        return fmt_time(inc["time"])
    if inc["time_from"] is None and inc["time_to"] is None:
        return "no time"
    return "%s/%s" % (fmt_time(inc["time_from"]), fmt_time(inc["time_to"]))


def norm_output(obj):
    """The output JSON, reduced to what is scored."""
    incs = []
    for i in obj.get("incidents") or []:
        ports = set()
        for p in i.get("dst_ports") or []:
            try:
                ports |= port_set(port_elems(str(p)))
            except ValueError:
                pass
        incs.append({
            "src": norm_addr(i["src"]) if i.get("src") else None,
            "dst": norm_addr(i["dst"]) if i.get("dst") else None,
            "dst_host": norm_host(i["dst_host"]) if i.get("dst_host")
            else None,
            "ports": ports,
            "time": opt_time(i.get("time")),
            "time_from": opt_time(i.get("time_from")),
            "time_to": opt_time(i.get("time_to")),
        })
    out = {
        "format": obj.get("format"),
        "reporter": (obj.get("reporter") or None),
        "forwarder": (obj.get("forwarder") or None),
        "deadline": opt_time(obj.get("deadline")),
        "category": obj.get("category") or None,
        "incidents": incs,
        "sources": {i["src"] for i in incs if i["src"]},
        "destinations": {i["dst"] for i in incs if i["dst"]},
        "dst_hosts": {i["dst_host"] for i in incs if i["dst_host"]},
        "ports": set().union(*[i["ports"] for i in incs]) if incs else set(),
    }
    for k in ("reporter", "forwarder"):
        if out[k]:
            out[k] = out[k].lower()
    return out


EMPTY_OUTPUT = norm_output({})


class Score:
    def __init__(self):
        self.right = {k: 0 for k in KINDS}
        self.stated = {k: 0 for k in KINDS}
        self.extra = {k: 0 for k in KINDS}

    def add(self, other):
        for k in KINDS:
            self.right[k] += other.right[k]
            self.stated[k] += other.stated[k]
            self.extra[k] += other.extra[k]

    def ok(self):
        return all(self.right[k] == self.stated[k] and not self.extra[k]
                   for k in KINDS)


def show(v):
    if v is None:
        return "null"
    if isinstance(v, datetime.datetime):
        return fmt_time(v)
    if isinstance(v, (set, list)):
        return ", ".join(sorted(v)) if v else "(none)"
    return str(v)


def score(facts, got, msgs):
    sc = Score()
    for k in ONEKEYS:
        want = facts.get(k, "?")
        if want == "?":
            continue
        sc.stated[k] += 1
        w = None if want == "-" else want
        if got[k] == w:
            sc.right[k] += 1
        else:
            msgs.append("%s: expected %s, got %s" % (k, show(w),
                                                     show(got[k])))
    roles = {"sources": "destinations", "destinations": "sources"}
    for k in SETKEYS:
        want = facts.get(k, "?")
        if want == "?":
            continue
        want = set() if want == "-" else set(want)
        if k == "neither":
            bad = got["sources"] | got["destinations"]
            for a in sorted(want):
                sc.stated[k] += 1
                if a in bad:
                    msgs.append("neither: %s is output as %s" % (
                        a, "source" if a in got["sources"]
                        else "destination"))
                else:
                    sc.right[k] += 1
            continue
        other = got.get(roles.get(k), set())
        for a in sorted(want):
            sc.stated[k] += 1
            if a in got[k] and a not in other:
                sc.right[k] += 1
            elif a in other:
                msgs.append("%s: %s is output as %s" % (k, a, roles[k][:-1]))
            else:
                msgs.append("%s: %s missing" % (k, a))
        extra = got[k] - want
        if extra:
            sc.extra[k] += len(extra)
            msgs.append("%s: extra %s (expected %s, got %s)" % (
                k, show(extra), show(want), show(got[k])))
    want = facts.get("ports", "?")
    if want != "?":
        elems = [] if want == "-" else want
        wset = port_set(elems)
        for lo, hi in elems:
            sc.stated["ports"] += 1
            if port_set([(lo, hi)]) <= got["ports"]:
                sc.right["ports"] += 1
        if want == "-":
            sc.stated["ports"] += 1
            if not got["ports"]:
                sc.right["ports"] += 1
        extra = got["ports"] - wset
        if extra:
            sc.extra["ports"] += 1
        if got["ports"] != wset:
            msgs.append("ports: expected %s, got %s" % (
                port_text(wset), port_text(got["ports"])))
    stated_times = set()
    for a in facts["at"]:
        sc.stated["at"] += 1
        stated_times.update(x for x in a[2:] if x is not None)
        if any(inc_matches_at(i, a) for i in got["incidents"]):
            sc.right["at"] += 1
            continue
        seen = ["%s%s %s" % (i["src"], " -> " + i["dst"] if i["dst"]
                             else "", inc_time_text(i))
                for i in got["incidents"]
                if i["src"] == a[0] and (a[1] is None or i["dst"] == a[1])]
        msgs.append("at: expected %s, got %s" % (
            at_text(a), "; ".join(seen[:4]) + (" ..." if len(seen) > 4
                                                else "")
            if seen else "no such incident"))
    with_at = {a[0] for a in facts["at"]}
    for i in got["incidents"]:
        if i["src"] not in with_at or (i["time"] is None and
                                       i["time_from"] is None):
            continue
        if not any(inc_matches_at(i, a) for a in facts["at"]):
            sc.extra["at"] += 1
            msgs.append("at: extra time %s for %s" % (inc_time_text(i),
                                                     i["src"]))
    dl = facts.get("deadline")
    if isinstance(dl, datetime.datetime) and dl not in stated_times:
        for i in got["incidents"]:
            if dl in (i["time"], i["time_from"]):
                sc.extra["at"] += 1
                msgs.append("at: the deadline %s is taken as the time of "
                            "an incident of %s" % (fmt_time(dl), i["src"]))
                break
    return sc


def run_one(bin_, mail, facts_path, verbose, per_format, total, label):
    msgs = []
    try:
        facts = read_facts(facts_path)
    except (FactsError, OSError) as e:
        print("FAIL %s: bad facts file: %s" % (label, e))
        return False
    p = subprocess.run([bin_, "complaint", "parse", "--json", mail],
                       capture_output=True, text=True, timeout=60)
    got = EMPTY_OUTPUT
    if p.returncode != 0:
        msgs.append("parse: exit %d: %s" % (p.returncode,
                                           p.stderr.strip()[:200]))
    else:
        try:
            got = norm_output(json.loads(p.stdout))
        except (ValueError, KeyError, TypeError) as e:
            msgs.append("parse: unreadable JSON: %s" % e)
    sc = score(facts, got, msgs)
    fmt = facts.get("format") or got.get("format") or "?"
    per_format.setdefault(fmt, [Score(), 0, 0])
    pf = per_format[fmt]
    pf[0].add(sc)
    total.add(sc)
    ok = sc.ok() and not msgs
    pf[1 if ok else 2] += 1
    if not ok:
        print("FAIL %s" % label)
        for m in msgs:
            print("    " + m)
    elif verbose:
        print("ok   %s" % label)
    return ok


def pct(r, s):
    return "%5.1f%%" % (100.0 * r / s) if s else "     -"


def report(per_format, total):
    print()
    print("%-12s %6s %6s   %s" % ("format", "passed", "failed",
                                  "facts right/stated"))
    for fmt in sorted(per_format):
        sc, ok, bad = per_format[fmt]
        r = sum(sc.right.values())
        s = sum(sc.stated.values())
        print("%-12s %6d %6d   %5d/%-5d %s" % (fmt, ok, bad, r, s, pct(r, s)))
    print()
    print("%-12s %13s %7s  %s" % ("fact", "right/stated", "", "extra"))
    for k in KINDS:
        print("%-12s %6d/%-6d %7s  %d" % (k, total.right[k], total.stated[k],
                                         pct(total.right[k],
                                             total.stated[k]),
                                         total.extra[k]))


def main(argv):
    verbose = False
    while argv and argv[0] == "-v":
        verbose = True
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    bin_, rest = argv[0], argv[1:]
    shapes, corpora = [], []
    while rest:
        if rest[0] == "--corpus":
            if len(rest) < 3:
                print("usage: --corpus CORPUS_DIR FACTS_DIR", file=sys.stderr)
                return 2
            corpora.append((rest[1], rest[2]))
            rest = rest[3:]
        else:
            shapes.append(rest[0])
            rest = rest[1:]
    jobs = []
    for d in shapes:
        if not os.path.isdir(d):
            print("FAIL %s: no such directory" % d)
            return 1
        for n in sorted(os.listdir(d)):
            if n.endswith(".eml"):
                base = os.path.join(d, n[:-4])
                jobs.append((base + ".eml", base + ".facts", n[:-4]))
    skipped = 0
    for cdir, fdir in corpora:
        if not os.path.isdir(cdir):
            print("skipped: no corpus at %s" % cdir)
            skipped += 1
            continue
        for root, _, names in os.walk(fdir):
            for n in sorted(names):
                if not n.endswith(".facts"):
                    continue
                fp = os.path.join(root, n)
                rel = os.path.relpath(fp, fdir)[:-len(".facts")]
                jobs.append((os.path.join(cdir, rel), fp, rel))
    if not jobs and skipped:
        return 77
    jobs.sort(key=lambda j: j[2])
    per_format, total = {}, Score()
    passed = failed = 0
    for mail, fp, label in jobs:
        if not os.path.exists(fp):
            print("FAIL %s: no %s" % (label, fp))
            failed += 1
            continue
        if not os.path.exists(mail):
            print("FAIL %s: no mail %s" % (label, mail))
            failed += 1
            continue
        if run_one(bin_, mail, fp, verbose, per_format, total, label):
            passed += 1
        else:
            failed += 1
    if not jobs:
        print("FAIL: nothing to score")
        failed += 1
    report(per_format, total)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
