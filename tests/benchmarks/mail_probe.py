#!/usr/bin/env python3
"""Usage: mail_probe.py SMTP_HOST:PORT IMAP_HOST:PORT USER PASSWORD EXPECTED PROBES
After a load run: check through IMAP that exactly the expected number of messages arrived,
then send PROBES messages one by one and time submit->250 and submit->visible in IMAP."""
import imaplib
import smtplib
import ssl
import statistics
import sys
import time
import uuid


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def count(m):
    typ, data = m.status("INBOX", "(MESSAGES)")
    return int(data[0].decode().split("MESSAGES ")[1].rstrip(")"))


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main():
    smtp, imap = endpoint(sys.argv[1]), endpoint(sys.argv[2])
    user, password, expected, probes = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    m = imaplib.IMAP4(*imap)
    m.starttls(ssl_context=tls())
    m.login(user, password)
    got = count(m)
    print("IMAP INBOX after the load: %d messages, expected %d: %s" % (got, expected, "OK" if got == expected else "MISMATCH"))
    accepted, visible = [], []
    for _ in range(probes):
        before = count(m)
        t0 = time.perf_counter()
        with smtplib.SMTP(*smtp, timeout=60) as s:
            s.sendmail("probe@example.org", [user], "Subject: probe %s\r\n\r\nprobe\r\n" % uuid.uuid4())
        t1 = time.perf_counter()
        while count(m) == before:
            time.sleep(0.002)
        t2 = time.perf_counter()
        accepted.append(t1 - t0)
        visible.append(t2 - t0)
    m.logout()
    print("probe: submit->250 p50 %.0f ms p95 %.0f ms; submit->visible in IMAP p50 %.0f ms p95 %.0f ms (n=%d)" % (
        pct(accepted, 50) * 1e3, pct(accepted, 95) * 1e3, pct(visible, 50) * 1e3, pct(visible, 95) * 1e3, probes))
    if got != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
