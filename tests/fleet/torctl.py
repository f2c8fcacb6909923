#!/usr/bin/env python3
"""Print a tor's configured ExitPolicy (GETCONF) through its ControlPort.

    torctl.py PORT COOKIEFILE

Run by tests/fleet/follow.py inside a host's network namespace (with
nsenter): the ControlPort is on that namespace's loopback.
"""
import socket
import sys


def main():
    port, cookie = int(sys.argv[1]), sys.argv[2]
    with open(cookie, "rb") as f:
        hexcookie = f.read().hex()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rwb")
    f.write(b"AUTHENTICATE " + hexcookie.encode() + b"\r\n")
    f.flush()
    if not f.readline().startswith(b"250"):
        return 1
    f.write(b"GETCONF ExitPolicy\r\n")
    f.flush()
    while True:
        line = f.readline().decode(errors="replace").rstrip("\r\n")
        if not line:
            return 1
        print(line)
        if line[:4] in ("250 ", "552 ", "551 "):
            return 0 if line.startswith("250") else 1


if __name__ == "__main__":
    sys.exit(main())
