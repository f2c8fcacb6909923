#!/usr/bin/env python3
"""The call rules check-layers.sh cannot see in #include lines.

1. No call cycle between the files of one module: file A calling a
   function defined in file B of the same directory, and B (perhaps
   through others) calling back into A.  A module's files form layers
   too, so each can be read, tested and replaced on its own.
2. In src/cli, a command file (cmd_*.c) calls no function another
   command file defines: what two commands share lives in a helper file
   (output.c, opt.c, env.c, apply.c, ...), never in a command.  Helpers
   call no command either (main.c and table.c only name the handlers).

Functions are found in KNF layout: the name at column 0 followed by '(',
after a line holding the return type (a definition is static when that
line starts with "static").  Calls are the names followed by '('
outside comments and strings, and the calls in the body of a
function-like macro of the module's headers where a file uses it (a
file writing ERR(...) calls what ERR expands to).  Cycles listed in
ALLOWED are known and owned elsewhere; the list may only shrink.  Exits
1 on a violation.  tests/lint/calls/ holds trees it must refuse.
"""
import os
import re
import sys

# Known cycles, each someone's to remove: a cycle passes when all its
# files are in one of these sets.  The list may only shrink, and is
# empty since issue 12 removed the policy and mail cycles.
ALLOWED = []

DEF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")
CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
MACRO = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)\("
                   r"[^)]*\)((?:[^\n]*\\\n)*[^\n]*)", re.M)


def strip(text):
    """The text without comments, strings and character constants."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", text)


def defs(lines):
    out = set()
    for i, line in enumerate(lines):
        m = DEF.match(line)
        if m and i > 0 and not lines[i - 1].startswith("static") \
                and lines[i - 1].strip() and not line.endswith(";"):
            out.add(m.group(1))
    return out


def header_macros(d):
    """The function-like macros of the module's headers: name -> body."""
    out = {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".h"):
            continue
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            for m in MACRO.finditer(strip(fh.read())):
                out.setdefault(m.group(1), m.group(2))
    return out


def calls(text, macros, seen=()):
    """The names text calls, directly or through macros: (name, how)."""
    for m in CALL.finditer(text):
        name = m.group(1)
        yield name, name
        if name in macros and name not in seen:
            for inner, _ in calls(macros[name], macros, seen + (name,)):
                yield inner, "%s via %s" % (inner, name)


def module_graph(d):
    files = sorted(f for f in os.listdir(d) if f.endswith(".c"))
    macros = header_macros(d)
    text, owner = {}, {}
    for f in files:
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            raw = fh.read()
        text[f] = strip(raw)
        for name in defs(raw.split("\n")):
            owner.setdefault(name, f)
    edges = {f: {} for f in files}
    for f in files:
        for name, how in calls(text[f], macros):
            g = owner.get(name)
            if g is not None and g != f:
                edges[f].setdefault(g, how)
    return files, edges


def cycles(files, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for f in files:
        if f not in index:
            visit(f)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = 0
    for mod in sorted(os.listdir(root)):
        d = os.path.join(root, mod)
        if not os.path.isdir(d):
            continue
        files, edges = module_graph(d)
        for comp in cycles(files, edges):
            key = {os.path.join(mod, f) for f in comp}
            if any(key <= known for known in ALLOWED):
                continue
            bad += 1
            how = "; ".join("%s calls %s (%s)" % (f, g, edges[f][g])
                            for f in comp for g in comp if g in edges[f])
            print("%s: call cycle between %s: %s"
                  % (d, ", ".join(comp), how))
        if mod != "cli":
            continue
        for f in files:
            for g, fn in sorted(edges[f].items()):
                if g.startswith("cmd_") and f not in ("main.c", "table.c"):
                    bad += 1
                    print("%s/%s: calls %s() of %s: a command file's "
                          "logic; move what both need to a helper file"
                          % (d, f, fn, g))
    print("calls: %d violations" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
