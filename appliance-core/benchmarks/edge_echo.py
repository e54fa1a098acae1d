#!/usr/bin/env python3
"""TCP echo load for the edge-listener benchmark: round-trip latency, connection set-up and
throughput against two addresses (the edge listener and the container directly), interleaved
so both see the same machine noise. Bounded in count and time; loopback and engine networks only."""
import json
import socket
import statistics
import sys
import threading
import time


def connect(addr):
    s = socket.create_connection(addr, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    got = bytearray()
    while len(got) < n:
        chunk = s.recv(min(1 << 20, n - len(got)))
        if not chunk:
            raise IOError("connection closed after %d of %d bytes" % (len(got), n))
        got += chunk
    return bytes(got)


def round_trips(addr, n=2000, size=64):
    payload = b"x" * size
    times = []
    with connect(addr) as s:
        for _ in range(n):
            t = time.perf_counter()
            s.sendall(payload)
            recv_exact(s, size)
            times.append(time.perf_counter() - t)
    return times


def connects(addr, n=300):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        with connect(addr) as s:
            s.sendall(b"ping\n")
            recv_exact(s, 5)
        times.append(time.perf_counter() - t)
    return times


def throughput(addr, total=64 << 20):
    block = b"y" * (1 << 16)
    with connect(addr) as s:
        def send():
            sent = 0
            while sent < total:
                s.sendall(block)
                sent += len(block)
        t = time.perf_counter()
        sender = threading.Thread(target=send)
        sender.start()
        recv_exact(s, total)
        sender.join()
        return total / (time.perf_counter() - t) / 1e6


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main():
    paths = {"direct": (sys.argv[1], int(sys.argv[2])), "edge": (sys.argv[3], int(sys.argv[4]))}
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    rtt = {k: [] for k in paths}
    conn = {k: [] for k in paths}
    mbps = {k: [] for k in paths}
    for _ in range(rounds):
        for name, addr in paths.items():
            rtt[name] += round_trips(addr)
            conn[name] += connects(addr)
            mbps[name].append(throughput(addr))
    result = {}
    for name in paths:
        result[name] = {
            "rtt_p50_us": pct(rtt[name], 50) * 1e6, "rtt_p95_us": pct(rtt[name], 95) * 1e6,
            "connect_p50_us": pct(conn[name], 50) * 1e6, "connect_p95_us": pct(conn[name], 95) * 1e6,
            "throughput_MBps_median": statistics.median(mbps[name]),
            "throughput_MBps_min": min(mbps[name]), "throughput_MBps_max": max(mbps[name]),
        }
    print(json.dumps(result, indent=2))
    d, e = result["direct"], result["edge"]
    print("edge/direct: rtt p50 x%.2f (+%.0f us), connect p50 x%.2f (+%.0f us), throughput x%.2f" % (
        e["rtt_p50_us"] / d["rtt_p50_us"], e["rtt_p50_us"] - d["rtt_p50_us"],
        e["connect_p50_us"] / d["connect_p50_us"], e["connect_p50_us"] - d["connect_p50_us"],
        e["throughput_MBps_median"] / d["throughput_MBps_median"]))


if __name__ == "__main__":
    main()
