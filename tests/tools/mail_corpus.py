#!/usr/bin/env python3
"""Run 'exitwarden complaint parse --json' over a complaint corpus.

  mail_corpus.py BIN DIR [NOSRC [EXPECTED [--regen]]]

Every file under DIR (except *.md) must parse (exit 0, one JSON object
with the documented fields) and yield at least one incident with a
source address, unless its path relative to DIR is listed in NOSRC (one
path per line, '#' comments; samples that name no source address, e.g.
a URL or domain only).  When EXPECTED/<path>.json exists, the output
must equal it (as data); --regen rewrites those files for review.  Prints per-format counts (samples, incidents)
and ends with "N passed, N failed".  Exits 77 (skipped) when DIR is
absent, except under CI (CI set in the environment), where that fails.
"""
import json
import os
import subprocess
import sys

FIELDS = ["format", "category", "reporter", "message_id", "date",
          "deadline", "incidents", "confidence"]
INC_FIELDS = ["src", "src_port", "dst", "dst_ports", "time", "time_from",
              "time_to", "zone_source"]


def main():
    args = [a for a in sys.argv[1:] if a != "--regen"]
    regen = "--regen" in sys.argv[1:]
    bin_, d = args[0], args[1]
    expdir = args[3] if len(args) > 3 else None
    nosrc = set()
    if len(args) > 2:
        with open(args[2], encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    nosrc.add(line)
    if not os.path.isdir(d):
        if os.environ.get("CI"):
            # CI lays shared/ beside the clone: its absence there is a
            # broken set-up, not a reason to count nothing as passed.
            print("FAIL: no complaint corpus at %s (CI is set)" % d)
            print("0 passed, 1 failed")
            return 1
        print("skipped: no complaint corpus at %s" % d)
        return 77
    files = []
    for root, _, names in os.walk(d):
        for n in names:
            if not n.endswith(".md"):
                files.append(os.path.relpath(os.path.join(root, n), d))
    files.sort()
    passed = failed = 0
    stats = {}
    for rel in files:
        p = subprocess.run([bin_, "complaint", "parse", "--json",
                            os.path.join(d, rel)],
                           capture_output=True, text=True, timeout=60)
        try:
            if p.returncode != 0:
                raise ValueError("exit %d: %s" % (p.returncode,
                                                  p.stderr.strip()))
            obj = json.loads(p.stdout)
            for k in FIELDS:
                if k not in obj:
                    raise ValueError("missing field %s" % k)
            for inc in obj["incidents"]:
                for k in INC_FIELDS:
                    if k not in inc:
                        raise ValueError("incident misses %s" % k)
            with_src = [i for i in obj["incidents"] if i["src"]]
            if not with_src and rel not in nosrc:
                raise ValueError("no incident with a source address")
            if with_src and rel in nosrc:
                raise ValueError("listed in nosrc but has a source")
            if expdir is not None:
                exp = os.path.join(expdir, rel + ".json")
                if regen:
                    os.makedirs(os.path.dirname(exp), exist_ok=True)
                    with open(exp, "w", encoding="utf-8") as f:
                        f.write(json.dumps(obj, indent=2) + "\n")
                elif os.path.exists(exp):
                    with open(exp, encoding="utf-8") as f:
                        want = json.load(f)
                    if want != obj:
                        raise ValueError("differs from %s" % exp)
        except (ValueError, json.JSONDecodeError) as e:
            print("FAIL %s: %s" % (rel, e))
            failed += 1
            continue
        s = stats.setdefault(obj["format"], [0, 0])
        s[0] += 1
        s[1] += len(obj["incidents"])
        passed += 1
    for fmt in sorted(stats):
        print("%-10s %4d samples %6d incidents" % (fmt, stats[fmt][0],
                                                   stats[fmt][1]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
