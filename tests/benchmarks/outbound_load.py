"""Submission load for tests/benchmarks/outbound: CLIENTS sessions at once, each sending its share of
MESSAGES 4 KB messages one after another (as a desktop client flushing its outbox), over STARTTLS,
with AUTH when a user is given. Each message carries X-Bench-Sent (epoch seconds, just before its
MAIL FROM) and X-Bench-Id. Prints JSON: per message its id, sent time and submit seconds (MAIL FROM
to the 250 after the data: the queue's commit as the client sees it); and failures.
Usage: outbound_load.py HOST PORT MESSAGES CLIENTS SENDER RCPT [USER PASSWORD]"""
import email.message
import json
import smtplib
import ssl
import sys
import threading
import time


def main():
    host, port, total, clients, sender, rcpt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        sys.argv[5], sys.argv[6]
    login = sys.argv[7:9] if len(sys.argv) > 8 else None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    results, failures, lock = [], [], threading.Lock()
    body = ("x" * 76 + "\n") * 52  # ≈ 4 KB with the headers

    def client(index, count):
        try:
            with smtplib.SMTP(host, port, timeout=120) as s:
                s.starttls(context=context)
                if login:
                    s.login(*login)
                for i in range(count):
                    bench_id = "%d-%d" % (index, i)
                    m = email.message.EmailMessage()
                    m["From"], m["To"], m["Subject"] = sender, rcpt, "bench " + bench_id
                    m["X-Bench-Id"] = bench_id
                    sent = time.time()
                    m["X-Bench-Sent"] = "%.6f" % sent
                    m.set_content(body)
                    s.sendmail(sender, [rcpt], m.as_bytes())
                    with lock:
                        results.append({"id": bench_id, "sent": sent, "submit": time.time() - sent})
        except (OSError, smtplib.SMTPException) as e:
            with lock:
                failures.append("client %d: %s" % (index, e))

    shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"messages": results, "failures": failures}))


if __name__ == "__main__":
    main()
