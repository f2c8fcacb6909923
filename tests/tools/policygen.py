#!/usr/bin/env python3
"""Random exitwarden policy files for differential testing against tor.

    policygen.py --seed N --count K --out DIR     writes DIR/p0001.policy ...

or, as a module, gen_policy(rng) -> str (rng is a random.Random).

A policy file is torrc-like text in exitwarden's policy format: option lines
(IPv6Exit, ExitRelay, ExitPolicyRejectPrivate,
ExitPolicyRejectLocalInterfaces, ReducedExitPolicy, BridgeRelay, Address,
OutboundBindAddress{,Exit,OR}), `ExitPolicy item,item,...` lines and bare
rule lines (`accept PATTERN`: one item, no commas), plus comments and blank
lines; 1-40 lines in all.  The grammar being exercised is
/work/shared/docs/tor-exit-policy.md sections 2-4.

What this generator aims for:
  * every accepted spelling of section 3 (wildcards, bracketed and
    unbracketed addresses, v4-mapped addresses, host bits, odd masks and
    ports, `private:`, `opt`, tabs, mixed-case hex, accept6 with IPv4);
  * overlap: addresses come from a small pool of prefixes and ports from a
    small pool, so tor's redundancy removal (section 4.3) has work to do
    (covering rules, duplicates, same-action rules later covering earlier
    ones, catch-alls in the middle);
  * about 10% of files contain an item tor refuses (section 3.8), so both
    sides must agree on refusal too.

Deliberately avoided (outside the differential contract): `#` inside a
bare rule other than a trailing ` # comment`, quotes, backslashes, \\v, \\f,
more than one value per non-ExitPolicy option (one IPv4 Address at most,
one address per family per OutboundBindAddress* option).
"""

import argparse
import ipaddress
import os
import random
import sys

# ---------------------------------------------------------------------------
# Pools (small on purpose: overlap is what exercises redundancy removal)

# (network, prefix length).  Includes tor's private nets, the own-address
# and outbound-address ranges used below, multicast and a few huge nets.
V4_NETS = [
    ("1.2.3.0", 24), ("1.2.0.0", 16), ("1.0.0.0", 8), ("1.2.3.4", 32),
    ("5.6.7.8", 32), ("5.6.0.0", 16), ("10.0.0.0", 8), ("10.1.2.0", 24),
    ("192.168.1.0", 24), ("127.0.0.0", 8), ("172.16.0.0", 12),
    ("198.51.100.0", 24), ("198.51.100.7", 32), ("203.0.113.0", 24),
    ("203.0.113.9", 32), ("0.0.0.0", 8), ("169.254.0.0", 16),
    ("224.0.0.0", 4), ("100.64.0.0", 10), ("255.255.255.255", 32),
    ("128.0.0.0", 1), ("0.0.0.0", 1), ("11.0.0.0", 9), ("148.0.0.0", 7),
]

V6_NETS = [
    ("2001:db8::", 32), ("2001:db8:1::", 48), ("2001:db8::1", 128),
    ("2001:db8:0:0:1::", 80), ("2607:5300::", 32), ("fc00::", 7),
    ("fd00::", 8), ("fe80::", 10), ("fec0::", 10), ("ff00::", 8),
    ("ff02::1", 128), ("::", 8), ("::1", 128), ("::", 127), ("2001::", 16),
    ("2400::", 15), ("8000::", 1), ("::", 1), ("64:ff9b::", 96),
    ("2001:db8::7", 128), ("2a00:1450:4001::", 48), ("::102", 128),
]

# v4-mapped / v4-compatible addresses (embedded IPv4 from V4_NETS-ish values)
V4_EMBED = ["1.2.3.4", "1.2.3.0", "10.0.0.1", "127.0.0.1", "5.6.7.8",
            "198.51.100.7", "0.0.1.2", "255.255.255.255"]

PORTS = [22, 25, 53, 80, 443, 8080, 6667, 1, 65535, 119, 445, 6881, 9001]
RANGES = [(1, 1024), (80, 90), (6660, 6669), (2, 65535), (1, 65535),
          (20, 23), (443, 443), (1000, 2000), (25, 25), (6346, 6429),
          (1, 1), (65535, 65535), (80, 80), (1024, 65535), (53, 80)]

OWN_ADDRESSES = ["198.51.100.7", "203.0.113.9", "1.2.3.4", "10.0.0.5",
                 "192.0.2.77"]
BIND4 = ["203.0.113.9", "198.51.100.7", "1.2.3.5", "10.0.0.9", "127.0.0.1",
         "5.6.7.8", "224.0.0.5"]
BIND6 = ["2001:db8::5", "2001:DB8::6", "fd00::7", "::1", "2001:db8:1::9",
         "2607:5300::1", "fe80::1"]

COMMENT_WORDS = ["web", "mail", "ssh", "irc", "todo", "ok", "see", "ticket",
                 "42", "abuse", "block", "allow", "dns"]


def _choice_w(rng, pairs):
    """Weighted choice from [(weight, value), ...]."""
    total = sum(w for w, _ in pairs)
    x = rng.uniform(0, total)
    for w, v in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][1]


def _comment(rng):
    words = [rng.choice(COMMENT_WORDS) for _ in range(rng.randint(1, 4))]
    sep = rng.choice([" ", ", ", ": ", " - "])
    return "#" + rng.choice(["", " "]) + sep.join(words)


# ---------------------------------------------------------------------------
# Addresses

def _host_bits(rng, base, plen, width):
    """base with (sometimes) random bits below the prefix."""
    if plen >= width or rng.random() < 0.5:
        return base
    span = width - plen
    low = _choice_w(rng, [(3, 1), (2, 4), (2, 7), (1, 255),
                          (2, rng.getrandbits(span))])
    return base | (low & ((1 << span) - 1))


def _v4_text(value):
    return str(ipaddress.IPv4Address(value))


def _join_groups(rng, groups, compress):
    """Hex groups joined by ':', optionally with one zero run as '::'."""
    runs = [i for i, g in enumerate(groups) if g == 0]
    if not compress or not runs:
        return ":".join("%x" % g for g in groups)
    start = rng.choice(runs)
    end = start
    while end + 1 < len(groups) and groups[end + 1] == 0 and rng.random() < .8:
        end += 1
    left = ":".join("%x" % g for g in groups[:start])
    right = ":".join("%x" % g for g in groups[end + 1:])
    return left + "::" + right


def _v6_text(rng, value, allow_dotted=True):
    """One of the many spellings tor_inet_pton accepts for `value`."""
    addr = ipaddress.IPv6Address(value)
    groups = [(value >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    style = _choice_w(rng, [(6, "compressed"), (1, "exploded"),
                            (1, "full"), (1, "other-run"),
                            (1 if allow_dotted else 0, "dotted")])
    if style == "exploded":          # 2001:0db8:0000:...
        text = addr.exploded
    elif style == "full":            # 2001:db8:0:0:...
        text = ":".join("%x" % g for g in groups)
    elif style == "other-run":       # `::` on some zero run, maybe length 1
        text = _join_groups(rng, groups, compress=True)
    elif style == "dotted" and groups[6] | groups[7]:
        # dotted IPv4 tail (`::ffff:1.2.3.4` style) for any address; the
        # six head groups are written out or have a zero run compressed.
        head = _join_groups(rng, groups[:6], compress=rng.random() < 0.7)
        tail = _v4_text(value & 0xFFFFFFFF)
        text = head + tail if head.endswith("::") else head + ":" + tail
    else:
        text = addr.compressed
    r = rng.random()
    if r < 0.2:
        text = text.upper()
    elif r < 0.3:
        text = "".join(c.upper() if rng.random() < 0.5 else c for c in text)
    return text


def _mask_text(rng, bits, width, ipv4_dotted_ok=True):
    """A spelling of prefix length `bits` (0..width)."""
    form = _choice_w(rng, [(30, "plain"), (2, "plus"), (2, "zero"),
                           (1, "huge"), (3 if ipv4_dotted_ok else 0,
                                         "dotted")])
    if form == "plus":
        return "/+%d" % bits
    if form == "zero":
        return "/0%d" % bits
    if form == "huge":                # strtol -> long -> int truncation
        return "/%d" % ((1 << 32) + bits)
    if form == "dotted" and bits <= 32:
        mask = ((1 << 32) - 1) ^ ((1 << (32 - bits)) - 1)
        return "/" + _v4_text(mask)
    return "/%d" % bits


def _ipv4_pattern_addr(rng):
    """IPv4 address part (+ optional mask) of a pattern."""
    net, plen = rng.choice(V4_NETS)
    base = int(ipaddress.IPv4Address(net))
    value = _host_bits(rng, base, plen, 32)
    text = _v4_text(value)
    if rng.random() < 0.1:
        text = "[" + text + "]"
    r = rng.random()
    if r < 0.35:
        return text                   # no mask: /32
    if r < 0.75:
        bits = plen
    elif r < 0.9:
        bits = max(0, min(32, plen + rng.randint(-8, 8)))
    else:
        bits = rng.randint(0, 32)
    odd = rng.random()
    if odd < 0.02:
        return text + "/"             # empty mask: /0
    if odd < 0.04:
        return text + "/-0"
    return text + _mask_text(rng, bits, 32)


def _ipv6_pattern_addr(rng):
    """IPv6 address part (+ optional mask) of a pattern."""
    if rng.random() < 0.15:
        return _v4mapped_pattern_addr(rng)
    net, plen = rng.choice(V6_NETS)
    base = int(ipaddress.IPv6Address(net))
    value = _host_bits(rng, base, plen, 128)
    r = rng.random()
    if r < 0.3:
        bits = None
    elif r < 0.8:
        bits = plen
    elif r < 0.93:
        bits = max(0, min(128, plen + rng.randint(-16, 16)))
    else:
        bits = rng.randint(0, 128)
    # Unbracketed only with a mask (without one, tor takes the first ':' as
    # the port separator and refuses the item: that form lives in INVALID).
    bracket = bits is None or rng.random() < 0.85
    text = _v6_text(rng, value, allow_dotted=bracket)
    text = "[" + text + "]" if bracket else text
    if bracket and rng.random() < 0.02:
        text += "junk"                # ignored up to the next '/' or ':'
    if bits is None:
        return text
    if rng.random() < 0.05:
        return text + "/"
    return text + _mask_text(rng, bits, 128, ipv4_dotted_ok=bits <= 32)


def _v4mapped_pattern_addr(rng):
    """[::ffff:a.b.c.d] (or v4-compatible) with the masks tor remaps."""
    v4 = rng.choice(V4_EMBED)
    kind = _choice_w(rng, [(6, "mapped"), (1, "mapped-hex"),
                           (1, "mapped-long"), (1, "compat")])
    if kind == "mapped":
        text = "::" + rng.choice(["ffff", "FFFF", "fFfF"]) + ":" + v4
    elif kind == "mapped-hex":
        value = int(ipaddress.IPv4Address(v4))
        text = "::ffff:%x:%x" % (value >> 16, value & 0xFFFF)
    elif kind == "mapped-long":
        text = "0:0:0:0:0:ffff:" + v4
    else:
        text = "::" + v4
    text = "[" + text + "]"
    r = rng.random()
    if r < 0.3:
        return text
    bits = rng.choice([0, 8, 16, 24, 32, 96, 100, 104, 112, 120, 127, 128,
                       rng.randint(0, 32), rng.randint(96, 128)])
    return text + "/%d" % bits


# ---------------------------------------------------------------------------
# Ports and items

def _ports(rng, wildcard=False):
    """Port part of a pattern.  Wildcard addresses get fewer all-port forms
    (a `*:*` early in a policy makes everything after it dead)."""
    if wildcard:
        weights = [(3, "none"), (5, "star"), (1, "empty"),
                   (50, "one"), (30, "range"), (3, "odd")]
    else:
        weights = [(15, "none"), (25, "star"), (2, "empty"),
                   (35, "one"), (20, "range"), (3, "odd")]
    form = _choice_w(rng, weights)
    if form == "none":
        return ""
    if form == "star":
        return ":*"
    if form == "empty":
        return ":"
    if form == "one":
        return ":%d" % rng.choice(PORTS)
    if form == "range":
        lo, hi = rng.choice(RANGES)
        return ":%d-%d" % (lo, hi)
    p = rng.choice(PORTS)
    lo, hi = rng.choice(RANGES)
    return rng.choice([":+%d" % p, ":0%d" % p, ":%d-%djunk" % (lo, hi),
                       ":%d-%d-100" % (lo, hi), ":%d-%d" % (p, p),
                       ":00%d" % p, ":+%d-+%d" % (lo, hi)])


def _pattern(rng, keyword):
    """A valid pattern for `keyword` (may be a dropped accept6+IPv4 one)."""
    v6kw = keyword.endswith("6")
    if v6kw:
        kind = _choice_w(rng, [(20, "*"), (10, "*6"), (45, "v6"),
                               (3, "*4"), (5, "v4"), (2, "private")])
    else:
        kind = _choice_w(rng, [(25, "*"), (5, "*4"), (5, "*6"), (40, "v4"),
                               (15, "v6"), (5, "private")])
    if kind == "private":
        return "private" + _choice_w(rng, [(5, ":*"), (5, ":%d" % rng.choice(
            PORTS)), (1, ":"), (2, ":%d-%d" % rng.choice(RANGES))])
    if kind in ("*", "*4", "*6"):
        addr = kind
    elif kind == "v4":
        addr = _ipv4_pattern_addr(rng)
    else:
        addr = _ipv6_pattern_addr(rng)
    return addr + _ports(rng, wildcard=kind in ("*", "*4", "*6"))


def _keyword(rng):
    return _choice_w(rng, [(38, "accept"), (37, "reject"), (13, "accept6"),
                           (12, "reject6")])


def _item(rng):
    """One valid item: [opt] KEYWORD<blank>PATTERN."""
    kw = _keyword(rng)
    pat = _pattern(rng, kw)
    assert len(pat) <= 80, pat
    sep = _choice_w(rng, [(90, " "), (5, "\t"), (3, "  "), (2, " \t ")])
    prefix = "opt " if rng.random() < 0.02 else ""
    return prefix + kw + sep + pat


def _catch_all(rng):
    return rng.choice(["reject *:*", "accept *:*", "reject *4:*",
                       "reject *6:*", "accept *4:*", "accept6 *:*",
                       "reject6 *:*", "accept *6:*", "accept *"])


# Items tor refuses (section 3.8), each fatal on its own -- unless the
# policy also says ExitRelay 0: tor then never parses ExitPolicy at all.
INVALID_ITEMS = [
    "accept 1.2.3.4:0", "reject *:0", "accept 1.2.3.4:65536",
    "accept *:0x50", "accept 1.2.3.4:80-", "reject *:90-80",
    "accept 1.2.3.4:80junk", "accept 1.2.3.4:80-*", "reject *:*-80",
    "accept 1.2.3.4/33:80", "reject [2001:db8::]/129:80",
    "accept [::ffff:1.2.3.4]/64:80", "reject [::ffff:1.2.3.4]/33",
    "accept [::ffff:1.2.3.4]/95:443", "accept */8:80", "reject *4/0:*",
    "accept *6/30", "accept 01.2.3.4:80", "reject 1.2.3:80",
    "accept 1.2.3.256:80", "ACCEPT *:80", "Reject *:*", "reject",
    "accept", "accept *:80 *:443", "reject 1.2.3.4 :80",
    "accept private", "reject private/8", "accept privatefoo:80",
    "accept [2001:db8::1:80", "reject [2001:db8::/32]:80",
    "accept 2001:db8::1:443", "accept 1.2.3.4/255.0.255.0:80",
    "accept 1.2.3.4/8.0:80", "accept 1.2.3.4/fred:80", "accept*:80",
    "accept6 **:*", "reject *6x:*", "accept 1.2.3.4/4294967329:80",
    "reject 0x01.2.3.4:*", "accept [1.2.3.4:80", "accept 1.2.3.4/-1:80",
    "deny *:80", "accept -:80",
    "reject [2001:db8::1]/000000000000000000000000000000000000000000000000"
    "0000000000000000000000128:80",
    "accept 1.2.3.4/0000000000000000000000000000000000000000000000000000000"
    "000000000000000000000008:80",
]


# ---------------------------------------------------------------------------
# Options

def _options(rng):
    """Option lines for one policy (each option at most once)."""
    opts = []
    if rng.random() < 0.40:
        opts.append("IPv6Exit %d" % (1 if rng.random() < 0.8 else 0))
    if rng.random() < 0.20:
        opts.append("ExitRelay " + _choice_w(
            rng, [(2, "0"), (5, "1"), (3, "auto")]))
    if rng.random() < 0.25:
        opts.append("ExitPolicyRejectPrivate %d" % rng.randint(0, 1))
    if rng.random() < 0.20:
        opts.append("ExitPolicyRejectLocalInterfaces %d" % rng.randint(0, 1))
    if rng.random() < 0.10:
        opts.append("ReducedExitPolicy %d" % (1 if rng.random() < 0.8 else 0))
    if rng.random() < 0.05:
        opts.append("BridgeRelay %d" % (1 if rng.random() < 0.8 else 0))
    if rng.random() < 0.35:
        opts.append("Address " + rng.choice(OWN_ADDRESSES))
    for name in ("OutboundBindAddress", "OutboundBindAddressExit",
                 "OutboundBindAddressOR"):
        if rng.random() < 0.10:
            fams = _choice_w(rng, [(5, "4"), (3, "6"), (2, "46")])
            values = []
            if "4" in fams:
                values.append(rng.choice(BIND4))
            if "6" in fams:
                values.append(rng.choice(BIND6))
            rng.shuffle(values)
            opts += ["%s %s" % (name, v) for v in values]
    # Values: sometimes with a trailing comment or a tab.
    out = []
    for o in opts:
        if rng.random() < 0.05:
            o = o.replace(" ", "\t", 1)
        if rng.random() < 0.08:
            o += " " + _comment(rng)
        out.append(o)
    return out


# ---------------------------------------------------------------------------
# Whole policy

def _rule_items(rng, n_items):
    """The ordered list of items of a policy (before line packaging)."""
    items = []
    for _ in range(n_items):
        r = rng.random()
        if items and r < 0.10:
            items.append(rng.choice(items))        # exact duplicate
        elif r < 0.13:
            items.append(_catch_all(rng))          # catch-all mid-policy
        else:
            items.append(_item(rng))
    # Most real policies end in a catch-all; without one tor appends the
    # default (or reduced) tail.
    if rng.random() < 0.65:
        items.append(_choice_w(rng, [(6, "reject *:*"), (3, "accept *:*"),
                                     (1, "reject *4:*"), (1, "reject6 *:*")]))
    return items


def _exitpolicy_line(rng, items):
    """`ExitPolicy a,b,...` with blanks and empty pieces here and there."""
    parts = []
    for i, item in enumerate(items):
        if i:
            parts.append(_choice_w(rng, [(10, ","), (4, ", "), (1, " ,"),
                                         (1, " , "), (1, ",\t"),
                                         (1, ",,"), (1, ", ,")]))
        parts.append(item)
    value = "".join(parts)
    if rng.random() < 0.04:
        value = "," + value
    if rng.random() < 0.04:
        value += ","
    if rng.random() < 0.04:
        value += " "
    key = "ExitPolicy" + ("\t" if rng.random() < 0.05 else " ")
    line = key + value
    if rng.random() < 0.10:
        line += " " + _comment(rng)
    return line


def _bare_ok(item):
    """Can `item` stand alone as a bare rule line?

    Only if its first word is a rule keyword (any case: the keyword check
    itself is part of what is tested) and it has no comma.  `deny *:80` or
    `accept*:80` would read as an unknown option instead.
    """
    word = item.replace("\t", " ").split(" ", 1)[0].lower()
    return "," not in item and word in ("accept", "reject", "accept6",
                                         "reject6", "opt")


def gen_policy(rng):
    """Return the text of one random policy file (1-40 lines)."""
    n_lines = min(40, 1 + int(rng.expovariate(1 / 12.0)))
    options = _options(rng)
    # Invalid item in ~10% of policies.
    invalid = rng.random() < 0.10
    budget = max(0, n_lines - len(options))
    n_items = max(0, int(budget * rng.uniform(1.0, 2.0)))
    if not options and n_items == 0:
        n_items = 1
    items = _rule_items(rng, n_items) if n_items else []
    if invalid:
        bad = rng.choice(INVALID_ITEMS)
        items.insert(rng.randint(0, len(items)), bad)

    # Package items into lines: bare lines and ExitPolicy lines.
    lines = []
    i = 0
    while i < len(items):
        left = len(items) - i
        room = 40 - len(options) - len(lines)
        if rng.random() < 0.55 and room > left:
            item = items[i]
            line = item
            if not _bare_ok(item):    # must go through an ExitPolicy line
                line = "ExitPolicy " + item
            elif rng.random() < 0.08:
                line += " " + _comment(rng)
            lines.append(line)
            i += 1
        else:
            k = left if room <= 1 else min(left, rng.randint(1, 5))
            lines.append(_exitpolicy_line(rng, items[i:i + k]))
            i += k
    # Rare torrc corner cases of the ExitPolicy option itself.
    r = rng.random() if len(lines) + len(options) < 40 else 1.0
    if r < 0.01:
        lines.append("ExitPolicy ,")          # set, but zero rules
    elif r < 0.02:
        lines.append("ExitPolicy " + _comment(rng))  # empty value: skipped

    # Options go anywhere; then comments and blank lines if there is room.
    for o in options:
        lines.insert(rng.randint(0, len(lines)), o)
    while len(lines) < 40 and rng.random() < 0.15:
        extra = "" if rng.random() < 0.5 else _comment(rng)
        lines.insert(rng.randint(0, len(lines)), extra)
    if not any(l.strip() for l in lines):
        lines.append("accept *:*")
    assert 1 <= len(lines) <= 40, len(lines)
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    for n in range(1, args.count + 1):
        path = os.path.join(args.out, "p%04d.policy" % n)
        with open(path, "w") as f:
            f.write(gen_policy(rng))
    return 0


if __name__ == "__main__":
    sys.exit(main())
