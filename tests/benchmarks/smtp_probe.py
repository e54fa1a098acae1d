#!/usr/bin/env python3
"""SMTP timing probes for tests/benchmarks/ephemeral.
  greeting PORT COUNT GAP NAME       COUNT sequential connections GAP s apart: connect -> first greeting
                                     line and connect -> whole greeting (p50, p95, max)
  during PORT STOP_FILE NAME         the same, one every 0.5 s, until STOP_FILE exists (latency under load)
  hold PORT COUNT SOURCES            COUNT sessions from the comma-separated loopback SOURCES, each
                                     greeted and then sending NOOP every 5 s (a slow sender, not an idle
                                     one), held until stdin closes; prints "held N" first
"""
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def greet(port, source=None):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0) if source else None)
    f = s.makefile("rb")
    first = whole = None
    while True:
        line = f.readline()
        if not line:
            raise EOFError("closed before the greeting ended")
        first = first or time.perf_counter()
        if line[3:4] != b"-":
            whole = time.perf_counter()
            assert line.startswith(b"220"), line
            return s, f, (first - t0) * 1e3, (whole - t0) * 1e3


def report(name, firsts, wholes):
    def stats(xs):
        xs = sorted(xs)
        return "p50 %.1f ms, p95 %.1f ms, max %.1f ms" % (statistics.median(xs), xs[int(0.95 * (len(xs) - 1))], xs[-1])
    print("%s: n=%d; connect->first greeting line %s; connect->whole greeting %s" % (name, len(firsts), stats(firsts), stats(wholes)))


def sample(port, keep_going, gap):
    firsts, wholes = [], []
    while keep_going(len(firsts)):
        s, f, first, whole = greet(port)
        s.sendall(b"QUIT\r\n")
        f.readline()
        s.close()
        firsts.append(first)
        wholes.append(whole)
        time.sleep(gap)
    return firsts, wholes


def main():
    cmd = sys.argv[1]
    if cmd == "greeting":
        port, count, gap, name = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
        report(name, *sample(port, lambda n: n < count, gap))
    elif cmd == "during":
        port, stop, name = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        report(name, *sample(port, lambda n: not os.path.exists(stop), 0.5))
    elif cmd == "hold":
        port, count, sources = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
        with ThreadPoolExecutor(max_workers=count) as pool:
            sessions = [r[0] for r in pool.map(lambda i: greet(port, sources[i % len(sources)]), range(count))]
        print("held %d" % len(sessions), flush=True)
        done = threading.Event()

        def keep_talking():
            while not done.wait(5):
                for s in sessions:
                    s.sendall(b"NOOP\r\n")
        threading.Thread(target=keep_talking, daemon=True).start()
        sys.stdin.read()
        done.set()
        for s in sessions:
            s.close()


if __name__ == "__main__":
    main()
