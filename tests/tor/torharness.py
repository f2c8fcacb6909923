#!/usr/bin/env python3
"""Run exitwarden policy files through the real tor binary.

This module owns everything that talks to tor for the differential test
(tests/tor/difftest.py) and for checking golden expectations by hand:

  * policy_to_torrc()   policy file text -> torrc lines (bare rule lines
                        become ExitPolicy lines, option lines pass as-is);
  * TorRelay            one tor process (DisableNetwork 1, throw-away
                        DataDirectory, ControlPort on 127.0.0.1:auto) and the
                        per-policy LOADCONF / descriptor rebuild / GETINFO
                        exit-policy/full cycle;
  * run_policies()      a whole batch, in as few tor processes as possible;
  * enter_netns()       re-execute the calling script in a fresh network
                        namespace with only loopback up.

CLI:  torharness.py [--tor PATH] [--no-netns] [--self-test] FILE...
prints, per file, "== FILE" and then one of
    the exit-policy/full lines            tor accepted the configuration
    @refused <LOADCONF reply>             tor refused it
    @crashed <tor's assertion message>    tor aborted (see below)
    @error <text>                         the harness could not get an answer
followed by tor's warnings for that file as "wrn: ..." lines (each message
once; tor logs policy warnings twice, while validating and while applying).
--self-test first runs the recorded doc cases in SELF_TESTS.  Exit status:
0, 1 on any @error or harness failure, 77 if tor is not installed.

tor 0.4.9.11 aborts (policies.c:1866, policies_log_first_redundant_entry:
"Assertion policy failed") on an exit relay with IPv6Exit 1 whose list is
still empty when the user's policy is parsed: ExitPolicyRejectPrivate 0, no
ExitPolicy line at all (`ExitPolicy ,` is fine) and nothing added by
ExitPolicyRejectLocalInterfaces.  Such policies get a `crashed` Result and a
new tor process continues the batch.

How tor is driven (see /work/shared/docs/tor-exit-policy.md sections 10, 12):
every policy is applied with LOADCONF, i.e. the complete torrc text (our base
config + the policy's lines) goes through tor's real torrc parser and every
option that is not mentioned returns to its default.  A fresh ContactInfo per
policy keeps the descriptor dirty (ReducedExitPolicy and
OutboundBindAddress* alone do not mark it), `GETINFO extra-info/digest/<hex>`
forces the synchronous rebuild (its 552 reply is expected), and
`GETINFO dir/server/authority` lets us check that the descriptor really is
the fresh one (its `contact` line) before `exit-policy/full` is trusted.

One quirk shapes run_policies(): tor caches its own address the first time
it builds a descriptor and no control command refreshes that cache (with
DisableNetwork 1 the periodic re-check never runs; LOADCONF, even dropping
and re-adding the ORPort, keeps the old value).  A changed `Address` line
would silently be ignored.  So every tor process is started with the Address
lines of the policies it will serve in its torrc, policies are grouped by
their Address lines, and a new process is started for each group.  Every
descriptor is checked against the expected `router` address as well, when
that address can be predicted.  Within a group, policies are sorted so that
the options that make LOADCONF slow (BridgeRelay, OutboundBindAddress)
change as rarely as possible; the order does not change any answer (checked:
a shuffled batch of 500 gave identical output).

Policy files are read as text lines; tor sees each line as written (bare
rule lines prefixed with "ExitPolicy ").  Option names other than
POLICY_OPTIONS are a harness error, never passed to tor.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------------------
# Policy files -> torrc lines

# Option names a policy file may set (tor spelling; tor itself matches option
# names case-insensitively).  Anything else is a harness error, so a policy
# file can never touch DataDirectory, ControlPort and friends.
POLICY_OPTIONS = (
    "ExitPolicy",
    "IPv6Exit",
    "ExitRelay",
    "ExitPolicyRejectPrivate",
    "ExitPolicyRejectLocalInterfaces",
    "ReducedExitPolicy",
    "BridgeRelay",
    "Address",
    "OutboundBindAddress",
    "OutboundBindAddressExit",
    "OutboundBindAddressOR",
)
_OPTION_BY_LOWER = {name.lower(): name for name in POLICY_OPTIONS}

# First words that make a line a bare rule line (descriptor style, one item).
# Matched case-insensitively so that `ACCEPT *:80` still reaches tor's policy
# parser (which refuses it) instead of being reported as an unknown option.
RULE_WORDS = ("accept", "reject", "accept6", "reject6", "opt")

# tor's defaults for the options above (what LOADCONF falls back to when a
# policy does not mention an option).  Documentation only: we never send them.
TOR_DEFAULTS = {
    "IPv6Exit": "0",
    "ExitRelay": "auto",
    "ExitPolicyRejectPrivate": "1",
    "ExitPolicyRejectLocalInterfaces": "0",
    "ReducedExitPolicy": "0",
    "BridgeRelay": "0",
}

# Address of our ORPort; tor advertises it when no Address line is given
# (address discovery tries Address, then the ORPort address, then
# interfaces).  It is internal, so it never shows up in a policy.
ORPORT_ADDR = "127.0.0.1"
ORPORT = ORPORT_ADDR + ":9001"   # never bound: DisableNetwork 1


class HarnessError(Exception):
    """Something went wrong in the harness or in tor, not in the policy."""


class TorCrashed(HarnessError):
    """tor died while applying a policy (e.g. an assertion failure)."""


def policy_to_torrc(text):
    """Translate one policy file into torrc lines.

    Returns (lines, addresses): `lines` are torrc lines in file order,
    `addresses` is the tuple of the values of the file's Address lines (used
    to group policies per tor process).  Blank and comment lines are kept
    (tor's parser skips them).  Raises HarnessError for an option that a
    policy file may not set.
    """
    lines = []
    addresses = []
    for raw in text.splitlines():
        stripped = raw.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            lines.append(raw)
            continue
        word = re.split(r"[ \t#]", stripped, 1)[0]
        if word.lower() in RULE_WORDS:
            # Bare rule line -> one ExitPolicy line.  tor's torrc parser then
            # strips a trailing comment and splits on commas (there are none
            # in a bare line).
            lines.append("ExitPolicy " + stripped)
            continue
        name = _OPTION_BY_LOWER.get(word.lower())
        if name is None:
            raise HarnessError("policy sets option %r, which the harness "
                               "does not allow" % word)
        if name == "Address":
            value = stripped[len(word):].split("#", 1)[0].strip()
            addresses.append(value)
        lines.append(raw)
    return lines, tuple(addresses)


# ---------------------------------------------------------------------------
# Control-port client

class ControlConnection:
    """Minimal tor control-protocol client (one connection, no events).

    Every read is bounded by a deadline; after a timeout the connection is
    unusable (we raise and the caller tears tor down).
    """

    def __init__(self, port, timeout):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, text):
        """Send one or more commands (CRLF line endings are added)."""
        data = text.replace("\r\n", "\n").replace("\n", "\r\n")
        if not data.endswith("\r\n"):
            data += "\r\n"
        self.sock.sendall(data.encode("utf-8", "surrogateescape"))

    def _readline(self, deadline):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = self.buf[:i]
                self.buf = self.buf[i + 2:]
                return line.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("timed out waiting for tor's control port")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise HarnessError("timed out waiting for tor's control port")
            if not chunk:
                raise HarnessError("tor closed the control connection")
            self.buf += chunk

    def read_reply(self):
        """Read one complete reply.

        Returns (status, entries): status is the 3-digit code of the final
        line, entries a list of (code, text, data) for every line, where
        data is the list of data lines of a "+" line (dot-unescaped) or None.
        """
        deadline = time.monotonic() + self.timeout
        entries = []
        while True:
            line = self._readline(deadline)
            if len(line) < 4 or not line[:3].isdigit():
                raise HarnessError("bad control reply line %r" % line)
            code, sep, text = line[:3], line[3], line[4:]
            data = None
            if sep == "+":
                data = []
                while True:
                    d = self._readline(deadline)
                    if d == ".":
                        break
                    data.append(d[1:] if d.startswith("..") else d)
            entries.append((code, text, data))
            if sep == " ":
                return code, entries

    def command(self, text):
        self.send(text)
        return self.read_reply()


def _getinfo_value(entries, key):
    """Value of `key` in a GETINFO reply, as a list of lines."""
    for _code, text, data in entries:
        if text.startswith(key + "="):
            if data is not None:
                return data
            return [text[len(key) + 1:]]
    raise HarnessError("GETINFO reply has no %s" % key)


# ---------------------------------------------------------------------------
# One tor process

class Result:
    """What tor said about one policy: accepted (lines), refused or crashed."""

    def __init__(self, refused, lines=None, warnings=(), message="",
                 crashed=False):
        self.refused = refused          # tor refused the configuration
        self.crashed = crashed          # tor aborted while applying it
        self.lines = lines              # exit-policy/full lines if accepted
        self.warnings = list(warnings)  # tor's [warn]/[err] log lines
        self.message = message          # LOADCONF error reply / crash line

    @property
    def outcome(self):
        if self.crashed:
            return "crashed"
        return "refused" if self.refused else "accepted"

    def __repr__(self):
        if self.lines is None:
            return "Result(%s, %r)" % (self.outcome, self.message)
        return "Result(%r)" % self.lines


# Warnings caused by the harness setup itself, not by the policy.
_NOISE = (
    "You are running Tor as root",
    "does not match the descriptor address",
    "Controller gave us config file that didn't validate",
)

_LOG_LINE = re.compile(r"^\w{3} \d\d \d\d:\d\d:\d\d\.\d+ \[(\w+)\] (.*)$")

_DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                          r"(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")

# A digest that is not ours: the 552 answer is expected; what we want is the
# side effect (router_extrainfo_digest_is_me -> router_rebuild_descriptor).
_REBUILD = "GETINFO extra-info/digest/" + "0" * 40


class TorRelay:
    """One tor relay process with the network disabled.

    Use as a context manager or call start()/stop().  `address_lines` are
    the Address values put in the torrc at start (see the module docstring
    for why they cannot change later).
    """

    def __init__(self, tor="tor", address_lines=(), timeout=20.0,
                 workdir=None):
        self.tor = tor
        self.address_lines = tuple(address_lines)
        self.timeout = timeout
        self.workdir = workdir          # parent for the temp dir, or None
        self.dir = None
        self.proc = None
        self.stderr = None
        self.ctl = None
        self.counter = 0
        self.log_offset = 0
        self.token = "%d-%d" % (os.getpid(), id(self) % 100000)

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _path(self, name):
        return os.path.join(self.dir, name)

    def base_config(self):
        """The torrc lines that every LOADCONF repeats unchanged."""
        return [
            "DataDirectory " + self._path("data"),
            "DisableNetwork 1",
            "SocksPort 0",
            "ControlPort 127.0.0.1:auto",
            "ControlPortWriteToFile " + self._path("control-port"),
            "CookieAuthentication 1",
            "CookieAuthFile " + self._path("control-cookie"),
            "ORPort " + ORPORT,
            "AssumeReachable 1",
            "PublishServerDescriptor 0",
            "Nickname ewharness",
            # DNS must look healthy or tor publishes `reject *:*` whatever
            # the policy: a resolver that is configured but never asked.
            "ServerDNSResolvConfFile " + self._path("resolv.conf"),
            "ServerDNSDetectHijacking 0",
            "ServerDNSTestAddresses",
            "GeoIPFile " + self._path("empty"),
            "GeoIPv6File " + self._path("empty"),
            "Log notice file " + self._path("notice.log"),
            "AvoidDiskWrites 1",
            "ShutdownWaitLength 0",
            "__OwningControllerProcess %d" % os.getpid(),
        ] + ["Address " + a for a in self.address_lines]

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ew-tor-", dir=self.workdir)
        os.mkdir(self._path("data"), 0o700)
        with open(self._path("empty"), "w"):
            pass
        with open(self._path("resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        torrc = self.base_config() + ["ContactInfo ew-%s-0" % self.token]
        with open(self._path("torrc"), "w") as f:
            f.write("\n".join(torrc) + "\n")
        self.stderr = open(self._path("stderr"), "w")
        try:
            self.proc = subprocess.Popen(
                [self.tor, "--defaults-torrc", self._path("empty"),
                 "-f", self._path("torrc")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.stderr)
        except OSError as e:
            self.stop()
            raise HarnessError("cannot run %s: %s" % (self.tor, e))
        try:
            self._connect()
        except Exception:
            self.stop()
            raise

    def _startup_failure(self, what):
        tail = self._read_log_tail()
        return HarnessError("%s\n%s" % (what, tail))

    def _connect(self):
        # Wait for both the port file and the 32-byte cookie (tor writes
        # them at different moments of its startup).
        deadline = time.monotonic() + self.timeout
        port = cookie = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self._startup_failure(
                    "tor exited during startup (status %d)"
                    % self.proc.returncode)
            try:
                with open(self._path("control-port")) as f:
                    m = re.search(r"PORT=127\.0\.0\.1:(\d+)", f.read())
                with open(self._path("control-cookie"), "rb") as f:
                    data = f.read()
                if m and len(data) == 32:
                    port, cookie = int(m.group(1)), data.hex()
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        if port is None:
            raise self._startup_failure("tor did not open its ControlPort "
                                        "within %gs" % self.timeout)
        self.ctl = ControlConnection(port, self.timeout)
        for cmd in ("AUTHENTICATE " + cookie, "TAKEOWNERSHIP"):
            status, entries = self.ctl.command(cmd)
            if status != "250":
                raise HarnessError("%s: %s" % (cmd.split()[0], entries))
        self.log_offset = self._log_size()

    def stop(self):
        """SIGTERM our tor (only the process we started), then clean up."""
        if self.ctl:
            self.ctl.close()
            self.ctl = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.stderr:
            self.stderr.close()
            self.stderr = None
        self._cleanup_dir()

    def _cleanup_dir(self):
        if self.dir and not os.environ.get("EW_KEEP_TOR_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    # -- log ---------------------------------------------------------------

    def _log_size(self):
        try:
            return os.path.getsize(self._path("notice.log"))
        except OSError:
            return 0

    def _read_log_tail(self, n=15):
        out = []
        for name in ("notice.log", "stderr"):
            try:
                with open(self._path(name), errors="replace") as f:
                    out += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def _new_warnings(self):
        """[warn]/[err] lines logged since the last call, noise removed."""
        try:
            with open(self._path("notice.log"), "rb") as f:
                f.seek(self.log_offset)
                data = f.read()
        except OSError:
            return []
        self.log_offset += len(data)
        warnings = []
        for line in data.decode("utf-8", "replace").splitlines():
            m = _LOG_LINE.match(line)
            if not m or m.group(1) not in ("warn", "err"):
                continue
            msg = m.group(2)
            if any(noise in msg for noise in _NOISE):
                continue
            # tor parses the policy twice (validate, then act) and logs its
            # warnings both times; keep each message once.
            if msg not in warnings:
                warnings.append(msg)
        return warnings

    # -- one policy --------------------------------------------------------

    def expand(self, text):
        """Apply one policy file and return tor's Result."""
        lines, addresses = policy_to_torrc(text)
        if addresses != self.address_lines:
            raise HarnessError("policy Address lines %r differ from this "
                               "tor's %r" % (addresses, self.address_lines))
        self.counter += 1
        contact = "ew-%s-%d" % (self.token, self.counter)
        # Address lines come from the policy itself; drop the base copy.
        base = [l for l in self.base_config() if not l.startswith("Address ")]
        torrc = base + ["ContactInfo " + contact] + lines
        body = "\n".join(("." + l) if l.startswith(".") else l
                         for l in torrc)
        # Pipeline all four commands: one round trip per policy.
        self.ctl.send("+LOADCONF\n" + body + "\n.\n" + _REBUILD + "\n"
                      "GETINFO dir/server/authority\n"
                      "GETINFO exit-policy/full\n")
        try:
            replies = [self.ctl.read_reply() for _ in range(4)]
        except HarnessError as e:
            self._raise_if_crashed()
            raise e
        warnings = self._new_warnings()
        (load_status, load_entries) = replies[0]
        if load_status != "250":
            message = "%s %s" % (load_status, load_entries[-1][1])
            if load_status in ("513", "552"):
                return Result(True, warnings=warnings, message=message)
            # 553 "Transition not allowed": valid at startup, not as a
            # change of a running tor -- not a verdict on the policy.
            raise HarnessError("LOADCONF failed: " + message)
        status, entries = replies[1]
        if status not in ("250", "552"):
            raise HarnessError("descriptor rebuild request: %s" % entries)
        status, entries = replies[2]
        if status != "250":
            raise HarnessError("tor built no descriptor for this "
                               "configuration (%s %s)"
                               % (status, entries[-1][1]))
        self._check_descriptor(_getinfo_value(entries, "dir/server/authority"),
                               contact)
        status, entries = replies[3]
        if status != "250":
            raise HarnessError("GETINFO exit-policy/full: %s" % entries)
        policy = [l for l in _getinfo_value(entries, "exit-policy/full") if l]
        return Result(False, lines=policy, warnings=warnings)

    def _raise_if_crashed(self):
        """After a dead control connection: did tor die?  Raise TorCrashed."""
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return
        msgs = self._new_warnings()
        assertion = [m for m in msgs if "Assertion" in m]
        other = [m for m in msgs if not m.startswith("Bug: ")]
        raise TorCrashed((assertion or other or
                          ["tor exited with status %d" % self.proc.returncode]
                          )[0])

    def _check_descriptor(self, desc, contact):
        """The descriptor must be the one built for this LOADCONF."""
        router = next((l for l in desc if l.startswith("router ")), "")
        if ("contact " + contact) not in desc:
            raise HarnessError("tor served a stale descriptor (wanted "
                               "contact %s)" % contact)
        # Which address must the descriptor carry?  Without Address lines
        # the ORPort's; with one plain dotted-quad IPv4 Address, that one.
        # Other spellings (hostnames, IPv6 only, `1.2.3` which tor reads as
        # 1.2.0.3) are not second-guessed.
        v4 = [a for a in self.address_lines if _DOTTED_QUAD.match(a)]
        if not self.address_lines:
            want = ORPORT_ADDR
        elif len(self.address_lines) == 1 and v4:
            want = v4[0]
        else:
            return
        fields = router.split()
        if len(fields) < 3 or fields[2] != want:
            raise HarnessError("descriptor address is %r, expected %s"
                               % (router, want))


# ---------------------------------------------------------------------------
# Batches

# Options whose change makes LOADCONF slow (measured: BridgeRelay ~160 ms,
# OutboundBindAddress ~25 ms per change; everything else ~2 ms/policy).
_COSTLY = ("bridgerelay", "outboundbindaddress")


def _cost_key(torrc_lines):
    """Sort key that puts policies with equal costly options next to each
    other, so tor sees as few changes of them as possible."""
    key = []
    for line in torrc_lines:
        words = line.split(None, 1)
        if words and words[0].lower() in _COSTLY:
            key.append(line.split("#", 1)[0].split())
    return sorted(key)


def run_policies(texts, tor="tor", timeout=20.0, progress=None):
    """Run every policy text through tor; returns a list of Result.

    Policies are grouped by their Address lines, one tor process per group
    (see module docstring); results come back in input order.  If tor dies
    on a policy, that policy's Result is `crashed` and a new tor process
    takes over the rest of the group.  A HarnessError that concerns one
    policy (an option the harness does not allow, Address lines tor will
    not start with, no descriptor built, ...) is returned in place of its
    Result, and tor is restarted to be safe.  Systematic trouble (tor will
    not start at all, three failures in a row) raises HarnessError.
    """
    results = [None] * len(texts)
    groups = {}
    keys = {}
    for i, text in enumerate(texts):
        try:
            lines, addresses = policy_to_torrc(text)
        except HarnessError as e:
            results[i] = e
            continue
        groups.setdefault(addresses, []).append(i)
        keys[i] = _cost_key(lines)
    done = 0
    in_a_row = 0
    for addresses, indices in groups.items():
        # Order only affects speed: every descriptor is checked for freshness.
        indices.sort(key=lambda i: (keys[i], i))
        relay = TorRelay(tor, addresses, timeout)
        try:
            relay.start()
        except HarnessError as e:
            if not addresses:
                raise
            for i in indices:
                results[i] = HarnessError(
                    "tor does not start with Address lines %r: %s"
                    % (addresses, e))
            continue
        try:
            for i in indices:
                try:
                    results[i] = relay.expand(texts[i])
                    in_a_row = 0
                except TorCrashed as e:
                    results[i] = Result(False, crashed=True, message=str(e),
                                        warnings=[str(e)])
                    relay.stop()
                    relay.start()
                except HarnessError as e:
                    in_a_row += 1
                    err = HarnessError("policy #%d: %s" % (i + 1, e))
                    if in_a_row >= 3:
                        raise HarnessError("%s\n--- tor log tail:\n%s"
                                           % (err, relay._read_log_tail()))
                    results[i] = err
                    relay.stop()
                    relay.start()
                done += 1
                if progress:
                    progress(done, len(texts))
        finally:
            relay.stop()
    return results


# ---------------------------------------------------------------------------
# Self test: cases recorded with the real binary in
# /work/shared/docs/tor-exit-policy.md section 12.6 (same Address as the
# doc's oracle).  They catch a broken setup: DNS considered broken (every
# answer `reject *:*`), a stale address cache, host interfaces leaking into
# ExitPolicyRejectLocalInterfaces (C58 is shown as recorded on a host whose
# eth0 was 192.0.2.2; inside our network namespace that line is absent).

_P4 = ["reject 0.0.0.0/8:*", "reject 169.254.0.0/16:*", "reject 127.0.0.0/8:*",
       "reject 192.168.0.0/16:*", "reject 10.0.0.0/8:*",
       "reject 172.16.0.0/12:*"]
_P6 = ["reject6 [::]/8:*", "reject6 [fc00::]/7:*", "reject6 [fe80::]/10:*",
       "reject6 [fec0::]/10:*", "reject6 [ff00::]/8:*"]
_OWN = ["reject 198.51.100.7:*"]

SELF_TESTS = [
    ("C01", "Address 198.51.100.7\naccept *:80\nreject *:*\n",
     ["reject6 *:*"] + _P4 + _OWN + ["accept *:80", "reject *:*"]),
    ("C03", "Address 198.51.100.7\nIPv6Exit 1\naccept *:80\nreject *:*\n",
     _P4 + _P6 + _OWN + ["accept *:80", "accept6 *:80", "reject *:*",
                         "reject6 *:*"]),
    ("C09", "Address 198.51.100.7\nIPv6Exit 1\nExitPolicyRejectPrivate 0\n"
     "accept [::ffff:1.2.3.4]/128:80\naccept [::ffff:1.2.3.4]/24:81\n"
     "accept [::ffff:1.2.3.4]:82\nreject *:*\n",
     ["accept6 [::ffff:1.2.3.4]/96:80", "accept6 [::ffff:1.2.3.4]/120:81",
      "accept6 [::ffff:1.2.3.4]:82", "reject *:*", "reject6 *:*"]),
    ("C31", "Address 198.51.100.7\n"
     "ExitPolicy accept *:80,,accept *:443 , reject *:*\n",
     ["reject6 *:*"] + _P4 + _OWN + ["accept *:80", "accept *:443",
                                     "reject *:*"]),
    ("C37", "Address 198.51.100.7\nreject 1.2.3.0/24:*\n"
     "reject 1.2.3.4:80\naccept *:*\n",
     ["reject6 *:*"] + _P4 + _OWN + ["reject 1.2.3.0/24:*", "accept *:*"]),
    ("C58-netns", "Address 198.51.100.7\nOutboundBindAddressExit 203.0.113.9\n"
     "ExitPolicyRejectLocalInterfaces 1\naccept *:80\nreject *:*\n",
     ["reject6 *:*"] + _P4 + _OWN + ["reject 203.0.113.9:*", "accept *:80",
                                     "reject *:*"]),
    ("C21", "Address 198.51.100.7\naccept 1.2.3.4:0\nreject *:*\n", None),
    ("no-Address", "accept *:80\nreject *:*\n",
     ["reject6 *:*"] + _P4 + ["accept *:80", "reject *:*"]),
]


def check_self_tests(results, in_netns=True):
    """Compare results of SELF_TESTS (same order); return list of problems.

    Without a network namespace C58 depends on the host's interfaces, so it
    is not checked.
    """
    problems = []
    for (name, _text, want), got in zip(SELF_TESTS, results):
        if name.endswith("-netns") and not in_netns:
            continue
        if isinstance(got, Exception) or got.crashed:
            problems.append("%s: %s" % (name, getattr(got, "message", got)))
        elif want is None and not got.refused:
            problems.append("%s: expected refusal, got %s" % (name, got.lines))
        elif want is not None and got.lines != want:
            problems.append("%s: expected %s, got %s" % (
                name, want, "refusal" if got.refused else got.lines))
    if any(r.lines == ["reject *:*"] for r in results
           if isinstance(r, Result) and r.lines):
        problems.append("tor answers `reject *:*` to policies that accept "
                        "traffic: does it consider DNS broken?")
    return problems


def tor_binary(path=None):
    """Path of the tor binary to use, or None if it is not installed."""
    if path:
        return path if os.access(path, os.X_OK) else None
    return shutil.which("tor") or (
        "/usr/bin/tor" if os.access("/usr/bin/tor", os.X_OK) else None)


# ---------------------------------------------------------------------------
# Network namespace

_NETNS_ENV = "EW_IN_NETNS"


def _loopback_up():
    """Bring lo up in the current (fresh) network namespace."""
    try:
        if subprocess.run(["ip", "link", "set", "lo", "up"],
                          stderr=subprocess.DEVNULL).returncode == 0:
            return True
    except OSError:
        pass
    # No iproute2: SIOCGIFFLAGS / SIOCSIFFLAGS by hand.
    import fcntl
    import struct
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, ifr))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))
        return True
    except OSError:
        return False
    finally:
        s.close()


def enter_netns(script, argv, enabled=True):
    """Make sure the caller runs in a private network namespace.

    If we are not in one yet and `enabled`, re-run `script argv` under
    `unshare -n` (root) or `unshare -rn` (user namespace) and exit with its
    status.  Inside, bring loopback up.  Returns True when running inside a
    namespace, False when running without one (a note goes to stderr).
    """
    # SIGTERM (e.g. a test timeout) must unwind normally so that `finally`
    # blocks stop tor and remove temporary directories.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if os.environ.get(_NETNS_ENV) == "1":
        if not _loopback_up():
            print("note: could not bring lo up in the network namespace",
                  file=sys.stderr)
        return True
    if not enabled:
        print("note: running without a network namespace (--no-netns): "
              "interface addresses of this host can appear in tor's policy",
              file=sys.stderr)
        return False
    unshare = shutil.which("unshare")
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    if unshare:
        probe = subprocess.run([unshare] + flags + ["true"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if probe.returncode == 0:
            env = dict(os.environ)
            env[_NETNS_ENV] = "1"
            sys.stdout.flush()
            child = subprocess.Popen([unshare] + flags +
                                     [sys.executable, script] + list(argv),
                                     env=env)
            # Pass termination requests on; ^C reaches the child directly
            # (same process group), so the parent only ignores it.
            def forward(signum, _frame):
                child.send_signal(signum)
            signal.signal(signal.SIGTERM, forward)
            signal.signal(signal.SIGHUP, forward)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            rc = child.wait()
            sys.exit(rc if rc >= 0 else 128 - rc)
    print("note: cannot create a network namespace (unshare %s failed); "
          "running without one: interface addresses of this host can appear "
          "in tor's policy" % " ".join(flags), file=sys.stderr)
    return False


# ---------------------------------------------------------------------------
# CLI

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Print tor's exit-policy/full for each policy file.")
    ap.add_argument("--tor", help="tor binary (default: tor in PATH)")
    ap.add_argument("--no-netns", action="store_true",
                    help="do not create a network namespace")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds to wait for tor at each step")
    ap.add_argument("--self-test", action="store_true",
                    help="run the built-in doc cases and report")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args(argv)
    if not args.files and not args.self_test:
        ap.error("no policy files given")
    tor = tor_binary(args.tor)
    if tor is None:
        print("tor is not installed", file=sys.stderr)
        return 77
    in_netns = enter_netns(os.path.abspath(__file__),
                           sys.argv[1:] if argv is None else argv,
                           enabled=not args.no_netns)
    if args.self_test:
        results = run_policies([t for _n, t, _w in SELF_TESTS], tor,
                               args.timeout)
        problems = check_self_tests(results, in_netns)
        for p in problems:
            print("self-test: " + p)
        print("self-test: %d cases, %d problems"
              % (len(SELF_TESTS), len(problems)))
        if problems or not args.files:
            return 1 if problems else 0
    texts = []
    for name in args.files:
        with open(name, encoding="utf-8", errors="surrogateescape") as f:
            texts.append(f.read())
    try:
        results = run_policies(texts, tor, args.timeout)
    except HarnessError as e:
        print("harness error: %s" % e, file=sys.stderr)
        return 1
    status = 0
    for name, res in zip(args.files, results):
        print("== " + name)
        if isinstance(res, HarnessError):
            print("@error %s" % res)
            status = 1
            continue
        if res.crashed:
            print("@crashed " + res.message)
            continue
        if res.refused:
            print("@refused " + res.message)
        else:
            for line in res.lines:
                print(line)
        for w in res.warnings:
            print("wrn: " + w)
    return status


if __name__ == "__main__":
    sys.exit(main())
