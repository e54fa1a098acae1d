#!/usr/bin/env python3
"""IMAP FETCH over one logged-in session (imaplib, STARTTLS): per-message latency and whole-mailbox
throughput; or, with --one BYTES, ROUNDS fetches of the one INBOX message whose size is nearest
BYTES. Prints one JSON document.
Usage: imap_fetch.py HOST PORT USER PASSWORD ROUNDS [--one BYTES]"""
import imaplib
import json
import re
import ssl
import sys
import time


def main():
    host, port, user, password, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    m = imaplib.IMAP4(host, port)
    m.starttls(ssl_context=ctx)
    m.login(user, password)
    count = int(m.select("INBOX", readonly=True)[1][0])
    if sys.argv[6:7] == ["--one"]:
        return one(m, rounds, int(sys.argv[7]))
    latencies = []
    for r in range(rounds):
        for i in range(1, count + 1):
            t = time.perf_counter()
            m.fetch(str(i), "(BODY.PEEK[])")
            latencies.append((time.perf_counter() - t) * 1000)
    throughputs = []
    for r in range(rounds):
        t = time.perf_counter()
        typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        seconds = time.perf_counter() - t
        size = sum(len(item[1]) for item in data if isinstance(item, tuple))
        throughputs.append(size / seconds / 1e6)
    try:
        m.logout()
    except imaplib.IMAP4.abort:
        pass
    print(json.dumps({"messages": count, "latency_ms": latencies, "mb_per_s": throughputs, "bytes": size}))


def one(m, rounds, near):
    """The same message fetched again and again: the store's cost of one message, not of a mailbox walk."""
    typ, data = m.uid("FETCH", "1:*", "(RFC822.SIZE)")
    # Servers order the items as they like: UID before or after RFC822.SIZE.
    sizes = {int(re.search(rb"UID (\d+)", d).group(1)): int(re.search(rb"RFC822.SIZE (\d+)", d).group(1)) for d in data if d}
    uid = min(sizes, key=lambda u: (abs(sizes[u] - near), u))
    latencies = []
    for _ in range(rounds):
        t = time.perf_counter()
        typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
        latencies.append((time.perf_counter() - t) * 1000)
        assert typ == "OK" and len(data[0][1]) == sizes[uid], data
    subject = re.search(rb"(?im)^Subject: ?(.*?)\r?$", data[0][1])
    m.logout()
    print(json.dumps({"uid": uid, "bytes": sizes[uid], "subject": subject.group(1).decode(errors="replace") if subject else "",
                      "latency_ms": latencies}))


main()
