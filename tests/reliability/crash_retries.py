#!/usr/bin/env python3
"""Usage: crash_retries.py SMTP_HOST:PORT IMAP_HOST:PORT USER PASSWORD INSTANCE [MESSAGES] [KILL_EVERY_S] [DEADLINE_S]

Fault injection for the promise "nothing accepted is lost, nothing stored twice": a retrying sender
(as a real MTA would: any failure or 4xx, try the same message again) delivers MESSAGES messages with
unique Message-IDs while a random container of the mail app (instance INSTANCE) is SIGKILLed every
KILL_EVERY_S seconds (the store, a long-running service, at most once a minute). Afterwards IMAP counts each message's copies in INBOX and Junk. Prints one JSON
line and exits 1 if any message is lost or stored more than once. Bounded: the run stops at DEADLINE_S."""
import imaplib
import json
import random
import smtplib
import ssl
import subprocess
import sys
import threading
import time
import uuid


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# The store is a long-running service: killed every few seconds it would spend the run in the
# supervisor's crash-loop backoff (up to 30 s) and nothing would be delivered. It is killed at most
# once a minute; the per-connection and per-message containers at any kill.
SERVICE_COOLDOWN_S = 60


def mail_containers(instance):
    """(id, role, lifecycle) of the instance's running mail containers."""
    out = subprocess.run(["docker", "ps", "--filter", "label=org.hearth.app=mail",
                          "--filter", "label=org.hearth.instance=" + instance, "--format",
                          '{{.ID}} {{.Label "org.hearth.role"}} {{.Label "org.hearth.lifecycle"}}'],
                         capture_output=True, text=True, timeout=30).stdout
    return [tuple(line.split()) for line in out.splitlines() if len(line.split()) == 3]


def killer(instance, every, stop, kills):
    last_service_kill = -SERVICE_COOLDOWN_S
    while not stop.wait(every):
        running = mail_containers(instance)
        if time.monotonic() - last_service_kill < SERVICE_COOLDOWN_S:
            running = [c for c in running if c[2] != "service"]
        if running:
            victim, role, lifecycle = random.choice(running)
            if subprocess.run(["docker", "kill", "-s", "KILL", victim], capture_output=True, timeout=30).returncode == 0:
                kills.append(role)
                if lifecycle == "service":
                    last_service_kill = time.monotonic()


def send(smtp, user, subject, message_id, deadline):
    """Until a 250: a retrying sender, as any MTA is. Returns the number of attempts."""
    body = "Subject: %s\r\nMessage-ID: %s\r\nFrom: crash@example.org\r\nTo: %s\r\n\r\n%s\r\n" % (
        subject, message_id, user, ("crash test line %s\r\n" % subject) * 40)
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        try:
            with smtplib.SMTP(*smtp, timeout=60) as s:
                refused = s.sendmail("crash@example.org", [user], body)
                if not refused:
                    return attempts
        except (smtplib.SMTPException, OSError):
            pass
        time.sleep(1)
    raise TimeoutError("message %s not accepted before the deadline" % subject)


def copies(imap, user, password, run, deadline):
    while True:
        try:
            m = imaplib.IMAP4(*imap)
            m.starttls(ssl_context=tls())
            m.login(user, password)
            break
        except (imaplib.IMAP4.error, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    found = {}
    for folder in ("INBOX", "Junk"):
        m.select(folder, readonly=True)
        typ, data = m.search(None, "SUBJECT", '"crash %s"' % run)
        for num in data[0].split():
            typ, parts = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subject = parts[0][1].decode().split(":", 1)[1].strip()
            found[subject] = found.get(subject, 0) + 1
    m.logout()
    return found


def main():
    smtp, imap = endpoint(sys.argv[1]), endpoint(sys.argv[2])
    user, password, instance = sys.argv[3], sys.argv[4], sys.argv[5]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 40
    every = float(sys.argv[7]) if len(sys.argv) > 7 else 4
    deadline = time.monotonic() + (float(sys.argv[8]) if len(sys.argv) > 8 else 900)
    run = uuid.uuid4().hex[:8]
    stop, kills = threading.Event(), []
    t = threading.Thread(target=killer, args=(instance, every, stop, kills), daemon=True)
    started = time.monotonic()
    t.start()
    attempts = []
    try:
        for i in range(n):
            attempts.append(send(smtp, user, "crash %s %03d" % (run, i), "<%s.%d@crash.example.org>" % (run, i), deadline))
    finally:
        stop.set()
        t.join()
    sent_s = time.monotonic() - started
    found = copies(imap, user, password, run, deadline + 120)
    expected = {"crash %s %03d" % (run, i) for i in range(n)}
    lost = sorted(expected - found.keys())
    duplicated = sorted(s for s, c in found.items() if c > 1)
    print(json.dumps({"run": run, "messages": n, "kill_every_s": every, "kills": len(kills),
                      "killed": {role: kills.count(role) for role in sorted(set(kills))},
                      "attempts": sum(attempts), "retried_messages": sum(1 for a in attempts if a > 1),
                      "seconds": round(sent_s, 1), "lost": len(lost), "duplicated": len(duplicated),
                      "lost_subjects": lost, "duplicated_subjects": duplicated}))
    sys.exit(1 if lost or duplicated else 0)


if __name__ == "__main__":
    main()
