"""Time one EXPUNGE of 10 scattered messages in a user's largest folder (STARTTLS, self-signed).

Usage: expunge_latency.py HOST:PORT USER PASSWORD-FILE   prints one JSON line
"""
import imaplib
import json
import random
import ssl
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ctx)
m.login(sys.argv[2], open(sys.argv[3]).read().strip())
largest = None
for line in m.list()[1]:
    name = line.decode().rsplit(' "/" ', 1)[-1].rsplit(' "." ', 1)[-1]
    count = int(m.status(name, "(MESSAGES)")[1][0].decode().rsplit("MESSAGES ", 1)[1].rstrip(")"))
    if largest is None or count > largest[1]:
        largest = (name, count)
m.select(largest[0])
uids = m.uid("SEARCH", "ALL")[1][0].split()
picked = random.Random(7).sample(uids, 10)
m.uid("STORE", b",".join(picked).decode(), "+FLAGS.SILENT", "(\\Deleted)")
started = time.monotonic()
typ, expunged = m.expunge()
seconds = time.monotonic() - started
m.logout()
print(json.dumps({"folder": largest[0], "messages": largest[1], "expunged": len(expunged),
                  "seconds": round(seconds, 3)}))
