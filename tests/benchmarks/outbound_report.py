"""Reads what outbound_load.py printed and what the receiving server kept (RECEIVED: message-N.eml,
accepted at its file's modification time) and prints one line of figures for the run named NAME:
messages accepted by the remote per second (first submission to last acceptance), p50/p95 from
submission to the remote's 250, p50/p95 of the submission itself (MAIL FROM to 250: the queue's
commit), and copies missing or duplicated.
Usage: outbound_report.py NAME LOAD.json RECEIVED"""
import json
import os
import re
import statistics
import sys


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def main():
    name, load_file, received = sys.argv[1], sys.argv[2], sys.argv[3]
    load = json.load(open(load_file))
    sent = {m["id"]: m for m in load["messages"]}
    arrived = {}
    copies = 0
    for f in os.listdir(received):
        if not f.endswith(".eml"):
            continue
        path = os.path.join(received, f)
        head = open(path, "rb").read(8192).decode("ascii", "replace")
        found = re.search(r"^X-Bench-Id: (\S+)", head, re.M)
        if found and found.group(1) in sent:
            copies += 1
            arrived.setdefault(found.group(1), os.stat(path).st_mtime)
    latencies = [arrived[i] - sent[i]["sent"] for i in arrived]
    submits = [m["submit"] for m in load["messages"]]
    span = max(arrived.values()) - min(m["sent"] for m in load["messages"]) if arrived else float("nan")
    print("%-16s %4d sent, %4d arrived (%d extra copies, %d failures)  %6.2f msgs/s  submit->remote p50 %.3f s p95 %.3f s"
          "  submit p50 %.3f s p95 %.3f s" % (name, len(sent), len(arrived), copies - len(arrived), len(load["failures"]),
                                              len(arrived) / span if arrived else 0, pct(latencies, 50), pct(latencies, 95),
                                              pct(submits, 50), pct(submits, 95)))
    for failure in load["failures"][:5]:
        print("   failure:", failure)


if __name__ == "__main__":
    main()
