#!/usr/bin/env python3
"""exitwarden serve end to end, over real sockets.

  serve.py --exitwarden BIN --out DIR [--browser]

Re-executes itself in a network namespace of its own (`unshare -n` as
root, else `unshare -rn`), brings lo up and adds the addresses requests
come from (198.51.100.7, 198.51.100.8, 203.0.113.9, 2001:db8::7), then
starts `exitwarden serve` on [::]:PORT with a fresh store, a recorded
policy, a token key and a metrics token.  Without any namespace it runs
on 127.0.0.1 alone and checks what needs no other address (it says so).

Checks (the default mode):
  - serve holds no capability (CapEff, CapBnd 0);
  - the notice page: 200, the security headers, contact, relay
    fingerprint, the policy in words, no script;
  - a block from the address to be blocked: a token from GET /block,
    POST -> 200, the page names the rule and its expiry; the store has
    the ticket (self-service) and the rule (origin self-service);
  - the same target from another address -> 403; the token replayed ->
    403; a token made for another address -> 403; IPv6 /48 -> 200;
  - an oversize body -> 413 (read no further); too many header fields
    -> 431; a huge header -> refused;
  - /metrics: 401 without the bearer token; with it, the text parsed by
    a strict Prometheus text-format parser written here AND by
    `promtool check metrics` (Debian's prometheus) when installed; the
    figures match the store;
  - nothing about requesters: no table of the store names an address
    that asked but was refused (203.0.113.9, 198.51.100.8), serve wrote
    nothing on stdout or stderr.

--browser: Debian's Chromium, headless: --dump-dom and --screenshot of
the notice page and the block page (PNGs under --out, paths printed), and
the block form filled in and submitted through chromedriver (WebDriver)
from 198.51.100.8: the block shows in the store and on the notice page.
Exit 77 when chromium or chromedriver is not installed.

Ends with "N passed, N failed".
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

passed = failed = 0
ADDRS4 = ["198.51.100.7", "198.51.100.8", "203.0.113.9"]
ADDR6 = "2001:db8::7"
FP = "0123456789ABCDEF0123456789ABCDEF01234567"
METRICS_TOKEN = "s3cret-metrics-token-0123456789"


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what, flush=True)


def in_netns():
    return os.environ.get("EW_WEB_NETNS") == "1"


def reexec():
    """Run this script again in a network namespace; the exit code, or
    None when no namespace can be made."""
    if not shutil.which("unshare"):
        return None
    env = dict(os.environ, EW_WEB_NETNS="1")
    for flags in (["-n"], ["-rn"]) if os.geteuid() == 0 else (["-rn"],):
        if subprocess.run(["unshare"] + flags + ["true"],
                          capture_output=True).returncode == 0:
            return subprocess.run(["unshare"] + flags +
                                  [sys.executable] + sys.argv,
                                  env=env).returncode
    return None


def setup_netns():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for a in ADDRS4:
        subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"],
                       check=True)
    subprocess.run(["ip", "-6", "addr", "add", ADDR6 + "/128", "dev", "lo",
                    "nodad"], check=True)


class Client:
    """HTTP requests from a chosen source address."""

    def __init__(self, host, port):
        self.host, self.port = host, port

    def req(self, src, method, path, body=None, headers=None):
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Type",
                         "application/x-www-form-urlencoded")
        # to the source address itself: the server listens on every
        # address, and a local route keeps the source we bind
        c = http.client.HTTPConnection(src, self.port, timeout=10,
                                       source_address=(src, 0))
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def token(self, src):
        st, _, page = self.req(src, "GET", "/block")
        m = re.search(r'name="token" value="([0-9a-f.]+)"', page)
        return m.group(1) if st == 200 and m else ""

    def block(self, src, target, ports="", tok=None):
        tok = self.token(src) if tok is None else tok
        body = urllib.parse.urlencode(
            {"token": tok, "target": target, "ports": ports})
        st, _, page = self.req(src, "POST", "/block", body)
        return st, page, body


def free_port():
    s = socket.socket(socket.AF_INET6 if socket.has_ipv6 else
                      socket.AF_INET)
    s.bind(("::" if socket.has_ipv6 else "127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(ew, tmp, listen, extra=()):
    db = os.path.join(tmp, "ew.db")
    key = os.path.join(tmp, "token.key")
    mt = os.path.join(tmp, "metrics.token")
    if not os.path.exists(key):
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
        with open(mt, "w") as f:
            f.write(METRICS_TOKEN + "\n")
        os.chmod(mt, 0o600)
        pol = os.path.join(tmp, "exit.policy")
        with open(pol, "w") as f:
            f.write("ExitPolicy accept *:80\nExitPolicy accept *:443\n"
                    "ExitPolicy accept6 *6:443\nIPv6Exit 1\n"
                    "ExitPolicy reject *:*\n")
        subprocess.run([ew, "--db", db, "policy", "record", pol],
                       check=True, capture_output=True)
    out = open(os.path.join(tmp, "serve.out"), "w")
    err = open(os.path.join(tmp, "serve.err"), "w")
    p = subprocess.Popen([ew, "--db", db, "serve", "--listen", listen,
                          "--contact", "abuse@exit.example",
                          "--fingerprint", FP, "--token-key", key,
                          "--metrics-token", mt] + list(extra),
                         stdout=out, stderr=err)
    host, port = listen.rsplit(":", 1)
    host = host.strip("[]")
    host = "127.0.0.1" if host in ("::", "0.0.0.0") else host
    for _ in range(100):
        if p.poll() is not None:
            break
        try:
            socket.create_connection((host, int(port)), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return p, db


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def caps_zero(pid):
    with open("/proc/%d/status" % pid) as f:
        s = f.read()
    eff = re.search(r"^CapEff:\s*([0-9a-f]+)", s, re.M)
    bnd = re.search(r"^CapBnd:\s*([0-9a-f]+)", s, re.M)
    return eff and bnd and int(eff.group(1), 16) == 0 and \
        int(bnd.group(1), 16) == 0


# --- a strict Prometheus text-format (0.0.4) parser ---

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,(?:%s))*\})? "
                    r"(-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)"
                    r"( -?[0-9]+)?$" % (NAME, LABEL, LABEL))


def parse_metrics(text):
    """{(name, labels): value}; raises ValueError on any deviation:
    HELP/TYPE once per family and before its samples, known types,
    samples of one family together, no duplicate series, a final
    newline."""
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    types, helps, seen, done = {}, set(), {}, set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if not re.fullmatch(NAME, name) or name in helps:
                raise ValueError("line %d: bad or repeated HELP" % n)
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in (
                    "counter", "gauge", "histogram", "summary",
                    "untyped") or parts[2] in types:
                raise ValueError("line %d: bad TYPE %r" % (n, line))
            types[parts[2]] = parts[3]
            continue
        if line.startswith("#") or line == "":
            raise ValueError("line %d: unexpected %r" % (n, line))
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name = m.group(1)
        if name not in types:
            raise ValueError("line %d: %s has no TYPE before it" % (n, name))
        if name != current:
            if name in done:
                raise ValueError("line %d: %s split" % (n, name))
            if current:
                done.add(current)
            current = name
        key = (name, m.group(2) or "")
        if key in seen:
            raise ValueError("line %d: duplicate series %r" % (n, key))
        seen[key] = float(m.group(3))
        if types[name] == "counter" and seen[key] < 0:
            raise ValueError("line %d: negative counter" % n)
    return seen


def test_page(cl, src):
    st, h, page = cl.req(src, "GET", "/")
    check(st == 200, "GET / -> 200 (%d)" % st)
    csp = h.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "frame-ancestors 'none'" in csp
          and "style-src 'self'" in csp, "CSP: %r" % csp)
    check(h.get("X-Content-Type-Options") == "nosniff", "nosniff")
    check(h.get("Referrer-Policy") == "no-referrer", "Referrer-Policy")
    check("Tor exit" in page and "no logs" in page.replace(
        "keeps no logs", "no logs"), "the page says Tor exit, no logs")
    check("abuse@exit.example" in page, "contact on the page")
    check(FP in page, "fingerprint on the page")
    check("only to these ports: <code>80,443</code>" in page,
          "the policy in words: %s" % re.findall(r"<li>IPv4.*", page))
    check("<script" not in page.lower(), "no script")
    st, h, css = cl.req(src, "GET", "/style.css")
    check(st == 200 and h.get("Content-Type", "").startswith("text/css"),
          "style.css served")
    return page


def test_blocks(cl, db, v6):
    a, b, other = ADDRS4
    st, page, body = cl.block(a, a, "443")
    check(st == 200 and "reject %s:443" % a in page and "Until" in page,
          "block from the address itself: %d %s" % (st, page[:300]))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT r.rule_text, r.origin, t.reporter, "
                       "r.expires_at - r.added_at FROM rules r JOIN "
                       "tickets t ON t.id = r.ticket_id").fetchall()
    check(rows == [("reject %s:443" % a, "self-service", "self-service",
                    90 * 86400)], "store: ticket and rule: %r" % rows)
    st, _, page = cl.req(other, "GET", "/")
    check("reject %s:443" % a in page, "the notice page shows the block")
    # the same target from another address
    st, page, _ = cl.block(other, a, "")
    check(st == 403 and "not inside" in page,
          "other address for the same target refused: %d" % st)
    # the token replayed
    st, _, page = cl.req(a, "POST", "/block", body)
    check(st == 403 and "used already" in page, "replay refused: %d %s" % (st, re.findall(r"Not blocked: [^<]*", page)))
    # a token made for another address
    st, page, _ = cl.block(b, b, "", tok=cl.token(a))
    check(st == 403, "a token for another address refused: %d" % st)
    # too wide a prefix
    st, page, _ = cl.block(a, "198.51.100.0/23", "")
    check(st == 403 and "wider" in page, "a /23 refused: %d" % st)
    if v6:
        st, page, _ = cl.block(ADDR6, "2001:db8::/48", "80,8000-8100")
        check(st == 200 and "reject6 [2001:db8::]/48:8000-8100" in page,
              "IPv6 /48 with ports: %d %s" % (st, page[:200]))
    n = con.execute("SELECT count(*) FROM rules WHERE origin = "
                    "'self-service' AND removed_at IS NULL").fetchone()[0]
    check(n == (3 if v6 else 1), "self-service rules in force: %d" % n)
    con.close()
    return n


def test_bounds(cl, src, host, port):
    big = "token=x&target=" + "1" * 5000
    st, _, _ = cl.req(src, "POST", "/block", big)
    check(st == 413, "oversize body -> 413 (%d)" % st)
    hdrs = {"X-H%d" % i: "v" for i in range(60)}
    st, _, _ = cl.req(src, "GET", "/", headers=hdrs)
    check(st == 431, "60 header fields -> 431 (%d)" % st)
    st, _, _ = cl.req(src, "GET", "/", headers={"X-Big": "a" * 40000})
    check(st in (413, 431, 400), "a 40 KB header refused (%d)" % st)
    st, _, _ = cl.req(src, "POST", "/block", "token=x", headers={
        "Content-Type": "text/plain"})
    check(st == 415, "a body not urlencoded -> 415 (%d)" % st)
    st, _, _ = cl.req(src, "DELETE", "/")
    check(st == 405, "DELETE / -> 405 (%d)" % st)
    # a request line and body sent slowly: the timeout ends it
    s = socket.create_connection((host, port), 5, source_address=(src, 0))
    s.sendall(b"POST /block HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
              b"\r\nabc")
    s.settimeout(20)
    t0 = time.time()
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    check(time.time() - t0 < 15, "an idle connection is closed (%.1f s, "
          "%r)" % (time.time() - t0, data[:40]))
    s.close()


def test_metrics(cl, src, nself, db):
    st, h, _ = cl.req(src, "GET", "/metrics")
    check(st == 401 and "Bearer" in h.get("WWW-Authenticate", ""),
          "/metrics without a token -> 401 (%d)" % st)
    st, _, _ = cl.req(src, "GET", "/metrics",
                      headers={"Authorization": "Bearer wrong"})
    check(st == 401, "/metrics with a wrong token -> 401")
    st, h, text = cl.req(src, "GET", "/metrics", headers={
        "Authorization": "Bearer " + METRICS_TOKEN})
    check(st == 200 and h.get("Content-Type", "").startswith(
        "text/plain; version=0.0.4"), "/metrics -> 200 text 0.0.4")
    try:
        m = parse_metrics(text)
        check(True, "strict parser")
    except ValueError as e:
        check(False, "strict parser: %s" % e)
        m = {}
    v = m.get(("exitwarden_blocks_in_force", '{origin="self-service"}'))
    check(v == nself, "blocks_in_force self-service = %r (store %d)"
          % (v, nself))
    check(m.get(("exitwarden_store_up", "")) == 1, "store_up 1")
    con = sqlite3.connect(db)
    want = con.execute("PRAGMA user_version").fetchone()[0]
    con.close()
    check(want > 0 and
          m.get(("exitwarden_store_schema_version", "")) == want,
          "schema_version is the store's (%d)" % want)
    check(m.get(("exitwarden_web_block_requests_total",
                 '{outcome="replay"}')) == 1, "one replay counted")
    check(("exitwarden_policy_last_apply_timestamp_seconds",
           '{relay="all"}') in m, "last apply time")
    check(m.get(("exitwarden_policy_last_apply_timestamp_seconds",
                 '{relay="tor"}')) == m.get((
                     "exitwarden_policy_last_apply_timestamp_seconds",
                     '{relay="all"}')), "last apply time of the only relay")
    check((m.get(("exitwarden_store_revision", "")) or 0) > 0,
          "the store's revision")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True)
        check(r.returncode == 0, "promtool check metrics: %s%s"
              % (r.stdout, r.stderr))
        print("promtool check metrics: %s" % (
            "ok" if r.returncode == 0 else "FAILED"))
    else:
        print("promtool not installed: the strict parser here only")
    # the parser refuses what it must
    for bad in ("x 1\n", "# TYPE x gauge\nx 1", "# TYPE x gauge\nx{a=b} 1\n",
                "# TYPE x gauge\nx 1\nx 2\n", "# TYPE x nope\nx 1\n"):
        try:
            parse_metrics(bad)
            check(False, "the strict parser refuses %r" % bad)
        except ValueError:
            check(True, "")


def test_templates(ew, tmp, port):
    """--notice-dir: a translated page is served; a template naming a
    field its page does not fill stops serve at start, located."""
    d = os.path.join(tmp, "notice-de")
    os.makedirs(d)
    with open(os.path.join(d, "notice.html"), "w") as f:
        f.write("<!DOCTYPE html><html lang=de><title>Tor-Exit</title>"
                "<p>Dies ist ein Tor-Exit. Kontakt: {{contact}}</p>"
                "{{blocks}}\n")
    p, _ = start(ew, tmp, "127.0.0.1:%d" % port, ["--notice-dir", d])
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/")
        r = c.getresponse()
        page = r.read().decode()
        c.close()
        check(r.status == 200 and "Dies ist ein Tor-Exit" in page and
              "abuse@exit.example" in page,
              "a translated notice.html is served: %r" % page[:200])
    finally:
        check(stop(p) == 0, "serve (translated) stops with 0")
    with open(os.path.join(d, "block.html"), "w") as f:
        f.write("<p>\n {{token}} {{nope}}</p>\n")
    p, _ = start(ew, tmp, "127.0.0.1:%d" % port, ["--notice-dir", d])
    rc = p.wait(10)
    with open(os.path.join(tmp, "serve.err")) as f:
        err = f.read()
    check(rc == 1 and "block.html:2:12-19: error: unknown field 'nope'"
          in err, "an unknown field stops serve, located: %d %r"
          % (rc, err[:300]))
    with open(os.path.join(tmp, "serve.err"), "w"):
        pass


def test_no_requesters(db, tmp):
    con = sqlite3.connect(db)
    dump = "\n".join(con.iterdump())
    con.close()
    for a in ("203.0.113.9", "198.51.100.8"):
        check(a not in dump, "the store does not name %s, which asked "
              "and was refused" % a)
    for f in ("serve.out", "serve.err"):
        with open(os.path.join(tmp, f)) as fh:
            s = fh.read()
        check(s == "", "serve wrote nothing to %s: %r" % (f, s[:200]))


# --- the browser ---

def chromium():
    for n in ("chromium", "chromium-browser"):
        if shutil.which(n):
            return shutil.which(n)
    return None


CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--hide-scrollbars", "--disable-extensions",
                "--user-data-dir=%s"]


def chrome(binary, tmp, args):
    # a new profile each time: nothing cached from the last run (the
    # notice page may be cached for a minute)
    prof = tempfile.mkdtemp(prefix="chrome-", dir=tmp)
    flags = [f % prof if "%s" in f else f for f in CHROME_FLAGS]
    return subprocess.run([binary] + flags + args, capture_output=True,
                          text=True, timeout=120)


def shoot(binary, tmp, out, url, name, height):
    path = os.path.join(out, name)
    if os.path.exists(path):
        os.unlink(path)
    r = chrome(binary, tmp, ["--window-size=412,%d" % height,
                             "--screenshot=" + path, url])
    ok = os.path.exists(path) and os.path.getsize(path) > 1000
    with open(path, "rb") if ok else open(os.devnull, "rb") as f:
        ok = ok and f.read(8) == b"\x89PNG\r\n\x1a\n"
    check(ok, "screenshot %s: %s" % (name, r.stderr[-300:]))
    if ok:
        print("screenshot: %s" % path)


class WebDriver:
    """Just enough of the W3C WebDriver protocol for chromedriver."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.sid = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        r = urllib.request.Request(self.base + path, data=data,
                                   method=method, headers={
                                       "Content-Type": "application/json"})
        with urllib.request.urlopen(r, timeout=60) as f:
            return json.loads(f.read())["value"]

    def start(self, binary, tmp):
        flags = [f % os.path.join(tmp, "wd-profile") if "%s" in f else f
                 for f in CHROME_FLAGS]
        v = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": binary,
                                   "args": flags + ["--window-size=412,900"]
                                   }}}})
        self.sid = v["sessionId"]

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.sid, path), body)

    def find(self, css):
        v = self.s("POST", "/element", {"using": "css selector",
                                        "value": css})
        return list(v.values())[0]


def test_browser(ew, tmp, out, base, db):
    binary = chromium()
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        print("skipped: chromium or chromedriver not installed")
        return 77
    a, b, _ = ADDRS4
    url = "http://%s/" % base
    os.makedirs(out, exist_ok=True)
    r = chrome(binary, tmp, ["--dump-dom", url])
    check(r.returncode == 0 and "This is a Tor exit router" in r.stdout,
          "chromium --dump-dom of the notice: %s" % r.stderr[-300:])
    r = chrome(binary, tmp, ["--dump-dom", url + "block"])
    check(r.returncode == 0 and 'name="token"' in r.stdout and
          'action="/block"' in r.stdout,
          "chromium --dump-dom of the block page")
    # the browser's source address is the one it connects to (local
    # routes): connect to b to ask from b
    urlb = "http://%s/" % base.replace(a, b)
    p = subprocess.Popen([driver, "--port=9515"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", 9515), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        wd = WebDriver(9515)
        wd.start(binary, tmp)
        wd.s("POST", "/url", {"url": urlb + "block"})
        el = wd.find("#ports")
        wd.s("POST", "/element/%s/value" % el, {"text": "80,443"})
        btn = wd.find("button[type=submit]")
        wd.s("POST", "/element/%s/click" % btn, {})
        time.sleep(0.5)
        src = wd.s("GET", "/source")
        check("reject %s:80" % b in src and "reject %s:443" % b in src,
              "the browser's form submission blocked %s: %s" % (b, src[:300]))
        shot = wd.s("GET", "/screenshot")
        import base64
        path = os.path.join(out, "serve-result.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot))
        print("screenshot: %s" % path)
        wd.s("DELETE", "")
    except Exception as e:  # a WebDriver error is a failure, said
        check(False, "webdriver: %r" % e)
    finally:
        p.terminate()
        p.wait()
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM rules WHERE rule_text IN (?, ?) "
                    "AND origin = 'self-service'",
                    ("reject %s:80" % b, "reject %s:443" % b)).fetchone()[0]
    con.close()
    check(n == 2, "the browser's block is in the store (%d rules)" % n)
    r = chrome(binary, tmp, ["--dump-dom", url])
    check("reject %s:80" % b in r.stdout, "and on the notice page")
    shoot(binary, tmp, out, url, "serve-notice.png", 1700)
    shoot(binary, tmp, out, url + "block", "serve-block.png", 1100)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exitwarden", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()
    ew = os.path.abspath(args.exitwarden)
    ns = in_netns()
    if not ns:
        rc = reexec()
        if rc is not None:
            return rc
        print("no network namespace here: 127.0.0.1 only")
    if ns:
        setup_netns()
    if args.browser and (not chromium() or not shutil.which("chromedriver")):
        print("skipped: chromium or chromedriver not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="ew-web-")
    port = free_port() if not ns else 8080
    listen = "[::]:%d" % port if ns else "127.0.0.1:%d" % port
    p, db = start(ew, tmp, listen)
    rc = 0
    try:
        check(p.poll() is None, "serve runs")
        check(caps_zero(p.pid), "serve holds no capability")
        src = ADDRS4[0] if ns else "127.0.0.1"
        cl = Client(src if ns else "127.0.0.1", port)
        if args.browser:
            rc = test_browser(ew, tmp, os.path.abspath(args.out),
                              "%s:%d" % (ADDRS4[0], port), db)
        else:
            test_page(cl, src)
            if ns:
                nself = test_blocks(cl, db, True)
            else:
                st, page, _ = cl.block(src, src, "")
                check(st == 400 and "private and local" in page,
                      "127.0.0.1 is not for blocking")
                nself = 0
            test_bounds(cl, src, src, port)
            test_metrics(cl, src, nself, db)
            test_no_requesters(db, tmp)
            stop(p)
            test_templates(ew, tmp, free_port())
    finally:
        check(stop(p) == 0, "serve stops on SIGTERM with 0")
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
