#!/usr/bin/env python3
"""IMAP FETCH over one logged-in session (imaplib, STARTTLS): per-message latency and whole-mailbox
throughput. Prints one JSON document.
Usage: imap_fetch.py HOST PORT USER PASSWORD ROUNDS"""
import imaplib
import json
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


main()
