#!/usr/bin/python3
"""A bounded load on a Hearth registry with real HTTP clients, as boxes and phones use it.

Phases, each timed on its own: a baseline of unsigned GET /v1/info (the HTTP floor); CLAIMS boxes claim a name each (Ed25519-signed, as a box signs);
UPDATES signed address changes of those boxes, each published to the zone's DNS server by the
registry (RFC 2136); PAIRINGS whole relay round trips (the box opens, the phone sends, the box
reads and answers, the phone reads, the box closes: six requests). Each client takes its own
source address in 127.0.0.0/8, as boxes and phones across the internet would (the registry limits
per client). Prints one JSON object: per phase the count, wall time, rate and latency percentiles.
Usage: registry_load.py BASE_URL ZONE CLAIMS UPDATES PAIRINGS CONCURRENCY
"""
import base64
import hashlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import nacl.signing

BASE, ZONE = sys.argv[1], sys.argv[2]
CLAIMS, UPDATES, PAIRINGS, CONCURRENCY = (int(a) for a in sys.argv[3:7])
HOST, PORT = BASE.split("//")[1].split(":")
PORT = int(PORT)
# X.509 SubjectPublicKeyInfo for Ed25519 (RFC 8410): this prefix, then the 32-byte key.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def request(source, method, path, body=b"", headers=None):
    connection = http.client.HTTPConnection(HOST, PORT, timeout=60, source_address=(source, 0))
    try:
        start = time.perf_counter()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        answer = response.read()
        return response.status, answer, time.perf_counter() - start
    finally:
        connection.close()


def signed(key, method, path, body):
    millis = int(time.time() * 1000)
    text = "\n".join([ZONE, method, path, str(millis), base64.b64encode(hashlib.sha256(body).digest()).decode()])
    signature = base64.b64encode(key.sign(text.encode()).signature).decode()
    return {"Hearth-Signed": str(millis), "Hearth-Signature": signature}


def client_address(n, block):
    return "127.%d.%d.%d" % (block, (n >> 8) & 255, (n & 255) or 1)


class Box:
    def __init__(self, n):
        self.n = n
        self.key = nacl.signing.SigningKey.generate()
        spki = SPKI_PREFIX + bytes(self.key.verify_key)
        self.public = base64.b64encode(spki).decode()
        self.id = hashlib.sha256(spki).hexdigest()[:32]
        self.lock = threading.Lock()


def claim(box):
    body = json.dumps({"publicKey": box.public}).encode()
    path = "/v1/names/load-%05d" % box.n
    return request(client_address(box.n, 10), "POST", path, body, signed(box.key, "POST", path, body))


def update(box, i):
    # Addresses of the benchmarking block (RFC 2544), which the test world lets boxes publish.
    body = json.dumps({"addresses": ["198.18.%d.%d" % (i % 250, box.n % 250 + 1)]}).encode()
    path = "/v1/boxes/%s/addresses" % box.id
    with box.lock:  # A box's signed changes are ordered: one at a time per box, each newer.
        time.sleep(0.002)
        return request(client_address(box.n, 10), "PUT", path, body, signed(box.key, "PUT", path, body))


def sealed_like():
    # The relay carries sealed messages it cannot read; the load sends well-formed ones of a pairing's size.
    return "v1.1.%s.%s" % (base64.urlsafe_b64encode(os.urandom(12)).decode().rstrip("="),
                           base64.urlsafe_b64encode(os.urandom(600)).decode().rstrip("="))


def pairing(n):
    box, phone = client_address(n, 20), client_address(n, 30)
    channel = os.urandom(16).hex()
    token = os.urandom(32)
    base = "/v1/pairing/" + channel
    total = 0.0
    steps = [
        (box, "PUT", base, json.dumps({"closeHash": base64.b64encode(hashlib.sha256(token).digest()).decode()}).encode(), {}),
        (phone, "POST", base + "/to-box", sealed_like().encode(), {}),
        (box, "GET", base + "/to-box?after=0&wait=5", b"", {}),
        (box, "POST", base + "/to-phone", sealed_like().encode(), {}),
        (phone, "GET", base + "/to-phone?after=0&wait=5", b"", {}),
        (box, "DELETE", base, b"", {"Hearth-Close-Token": base64.b64encode(token).decode()}),
    ]
    for source, method, path, body, headers in steps:
        status, answer, seconds = request(source, method, path, body, headers)
        if status // 100 != 2:
            return status, answer, total + seconds
        total += seconds
    return 200, b"", total


def phase(name, jobs):
    latencies, failures = [], []
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for status, answer, seconds in pool.map(lambda job: job(), jobs):
            if status // 100 == 2:
                latencies.append(seconds * 1000)
            else:
                failures.append("%d %s" % (status, answer[:200].decode(errors="replace")))
    wall = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else None
    return {"phase": name, "count": len(jobs), "failed": len(failures), "first_failures": failures[:3],
            "wall_s": round(wall, 2), "per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None, "p95_ms": pick(0.95),
            "max_ms": round(latencies[-1], 1) if latencies else None}


boxes = [Box(n) for n in range(1, CLAIMS + 1)]
# The floor every request stands on, in the same run: an unsigned GET that touches nothing.
results = [phase("baseline-info", [lambda n=n: request(client_address(n, 40), "GET", "/v1/info") for n in range(1, UPDATES + 1)])]
results.append(phase("claims", [lambda b=b: claim(b) for b in boxes]))
results.append(phase("address-updates", [lambda i=i: update(boxes[i % len(boxes)], i) for i in range(UPDATES)]))
results.append(phase("pairings", [lambda n=n: pairing(n) for n in range(1, PAIRINGS + 1)]))
print(json.dumps(results))
