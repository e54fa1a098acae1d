#!/usr/bin/env python3
"""The webmail benchmark's client side (tests/benchmarks/webmail): fills an INBOX over IMAP, then
times the webmail's pages over HTTPS and, as the same-run floor, the store's own IMAP answer to
the same question (the newest 50 envelopes; one message's structure and text).

  seed HOST IMAPS_PORT USER PASSWORD COUNT           COUNT 4 KB messages, then one of 1 MB with 3 attachments
  time HOST HTTPS_PORT IMAPS_PORT USER PASSWORD SAMPLES   JSON: medians and p95 of each
  sessions HOST HTTPS_PORT USER PASSWORD N SECONDS    N logged-in browsers, each with its new-mail stream open
"""
import base64
import http.client
import imaplib
import json
import re
import ssl
import statistics
import sys
import threading
import time
import urllib.parse

CTX = ssl.create_default_context()
CTX.check_hostname, CTX.verify_mode = False, ssl.CERT_NONE


def imap(host, port, user, password):
    m = imaplib.IMAP4_SSL(host, port, ssl_context=CTX)
    m.login(user, password)
    return m


def small(i):
    body = ("Line %d of a message that is about four kilobytes long, as most mail is.\r\n" % i) * 52
    return ("From: Sender %d <sender%d@example.org>\r\nTo: owner@demo.hearth.test\r\nSubject: Message %d of the pile\r\n"
            "Message-ID: <pile-%d@example.org>\r\nDate: Wed, 02 Dec 2026 10:%02d:%02d +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s" % (i % 97, i % 97, i, i, (i // 60) % 60, i % 60, body)).encode()


def large():
    parts = ["From: Big <big@example.org>\r\nTo: owner@demo.hearth.test\r\nSubject: The large one\r\n"
             "Message-ID: <large@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThree attachments, about 1 MB in all.\r\n"]
    for n in range(3):
        data = base64.encodebytes(bytes((i * 7 + n) % 256 for i in range(250_000))).decode().replace("\n", "\r\n")
        parts.append("--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"part%d.bin\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n%s" % (n, data))
    parts.append("--b--\r\n")
    return "".join(parts).encode()


def seed(host, port, user, password, count):
    count = int(count)
    done = [0]
    lock = threading.Lock()

    def worker(start):
        m = imap(host, int(port), user, password)
        for i in range(start, count, 4):
            typ, data = m.append("INBOX", "(\\Seen)", None, small(i))
            if typ != "OK":
                raise SystemExit("APPEND %d: %s %s" % (i, typ, data))
            with lock:
                done[0] += 1
        m.logout()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    m = imap(host, int(port), user, password)
    m.append("INBOX", "", None, large())
    typ, data = m.status("INBOX", "(MESSAGES)")
    m.logout()
    return {"appended": done[0] + 1, "inbox": int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))}


class Browser:
    """One logged-in browser: its own TLS connection (kept alive) and cookies."""

    def __init__(self, host, port, user, password):
        self.host, self.port, self.cookies = host, int(port), {}
        self.conn = http.client.HTTPSConnection(host, self.port, context=CTX, timeout=60)
        page = self.get("/login")[1]
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _, headers = self.request("POST", "/login", urllib.parse.urlencode(
            {"csrf": token, "user": user, "password": password}), {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 303 or headers.get("Location") != "/mail/INBOX":
            raise SystemExit("login: %s %s" % (status, headers.get("Location")))

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, v = value.split(";", 1)[0].split("=", 1)
                self.cookies[k] = v
        return r.status, data, dict(r.getheaders())

    def get(self, path):
        status, data, headers = self.request("GET", path)
        return status, data


def pct(values, p):
    v = sorted(values)
    return v[max(0, -(-len(v) * p // 100) - 1)]


def summary(ms):
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 95), 1), "min_ms": round(min(ms), 1),
            "max_ms": round(max(ms), 1), "samples": len(ms)}


def timed(fn, samples):
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def time_pages(host, https_port, imaps_port, user, password, samples):
    samples = int(samples)
    b = Browser(host, https_port, user, password)
    status, page = b.get("/mail/INBOX")
    uid = re.search(r'href="/mail/INBOX/(\d+)"><span class="from">Big', page).group(1)

    def first_page():
        status, page = b.get("/mail/INBOX")
        assert status == 200 and page.count('<li class="') >= 50, status

    def open_large():
        status, page = b.get("/mail/INBOX/%s" % uid)
        assert status == 200 and "part2.bin" in page, status

    m = imap(host, int(imaps_port), user, password)
    typ, data = m.select("INBOX", readonly=True)
    total = int(data[0])

    def imap_first_page():
        typ, data = m.fetch("%d:%d" % (total - 49, total), "(UID FLAGS ENVELOPE)")
        assert typ == "OK" and len([d for d in data if d]) >= 50

    def imap_open_large():
        typ, data = m.uid("FETCH", uid, "(BODYSTRUCTURE BODY.PEEK[HEADER] BODY.PEEK[1])")
        assert typ == "OK"

    for fn in (first_page, open_large, imap_first_page, imap_open_large):
        timed(fn, 5)  # warm: the JIT, the store's caches, TLS sessions
    result = {"inbox": total, "webmail_first_page": summary(timed(first_page, samples)),
              "webmail_open_large": summary(timed(open_large, samples)),
              "imap_first_page": summary(timed(imap_first_page, samples)),
              "imap_open_large": summary(timed(imap_open_large, samples))}
    m.logout()
    return result


def sessions(host, https_port, user, password, n, seconds):
    """N browsers log in, load the INBOX and keep its new-mail stream open for SECONDS."""
    browsers, streams = [], []
    for _ in range(int(n)):
        b = Browser(host, https_port, user, password)
        b.get("/mail/INBOX")
        s = http.client.HTTPSConnection(host, int(https_port), context=CTX, timeout=120)
        s.request("GET", "/events", headers={"Cookie": "; ".join("%s=%s" % kv for kv in b.cookies.items())})
        r = s.getresponse()
        if r.status != 200:
            raise SystemExit("events: %s" % r.status)
        r.fp.readline()  # the stream's first line: it is open
        browsers.append(b)
        streams.append(s)
    print(json.dumps({"sessions": len(browsers), "streams": len(streams)}), flush=True)
    time.sleep(float(seconds))
    return {"held_seconds": float(seconds)}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    result = {"seed": seed, "time": time_pages, "sessions": sessions}[cmd](*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
