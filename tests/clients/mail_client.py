#!/usr/bin/env python3
"""Real mail clients for the end-to-end tests: Python's smtplib to send, imaplib (and a raw TLS
socket for IDLE, which imaplib lacks) to read. Each command prints one JSON document."""
import base64
import email.message
import email.policy
import email.utils
import hashlib
import imaplib
import json
import os
import smtplib
import socket
import ssl
import sys
import time


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the appliance's certificate is self-signed until ACME exists
    return ctx


def body_digest(raw):
    """SHA-256 of everything after the header block, as the server stores it."""
    cut = raw.find(b"\r\n\r\n")
    return hashlib.sha256(raw[cut + 4:] if cut >= 0 else b"").hexdigest()


def send_attachments(host, port, sender, rcpt, count, size):
    sent = []
    with smtplib.SMTP(host, port, timeout=60) as s:
        s.starttls(context=tls())
        for i in range(count):
            m = email.message.EmailMessage()
            m["From"], m["To"], m["Subject"] = sender, rcpt, "attachment %d %s" % (i, os.urandom(4).hex())
            m.set_content("Binary attachment %d follows.\n" % i)
            m.add_attachment(os.urandom(size + i * 997), maintype="application", subtype="octet-stream",
                             filename="blob%d.bin" % i)
            raw = m.as_bytes(policy=m.policy.clone(linesep="\r\n"))
            s.sendmail(sender, [rcpt], raw)
            sent.append({"subject": m["Subject"], "body_sha256": body_digest(raw)})
    return {"sent": sent}


def transaction(connect, sender, rcpts, message, login=None, smtputf8=False):
    """One SMTP transaction on the connection connect() opens; every refusal reported with its stage.
    smtputf8: declare SMTPUTF8 (RFC 6531) and write the header fields as UTF-8 (RFC 6532)."""
    try:
        with connect() as s:
            if login:
                s.login(*login)
            if not isinstance(message, bytes):
                message = message.as_bytes(policy=email.policy.SMTPUTF8) if smtputf8 else message.as_bytes()
            refused = s.sendmail(sender, rcpts, message, mail_options=["SMTPUTF8"] if smtputf8 else [])
            return {"ok": True, "refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}}
    except smtplib.SMTPAuthenticationError as e:
        return {"ok": False, "stage": "auth", "code": e.smtp_code, "text": e.smtp_error.decode()}
    except smtplib.SMTPRecipientsRefused as e:
        return {"ok": False, "stage": "rcpt", "refused": {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}}
    except smtplib.SMTPSenderRefused as e:
        return {"ok": False, "stage": "mail", "code": e.smtp_code, "text": e.smtp_error.decode()}
    except smtplib.SMTPDataError as e:
        return {"ok": False, "stage": "data", "code": e.smtp_code, "text": e.smtp_error.decode()}


def send(host, port, sender, rcpts, subject, body="", starttls=True, message_id=None, body_lines=0,
         header_from=None, headers=None, dkim=None):
    """Mail from another server. header_from: the From field, if not the envelope sender; headers:
    more fields ([name, value] pairs); dkim: {"domain", "selector", "key_pem"} to sign it with dkimpy
    (RSA), or {"domain", "selector", "ed25519_seed_b64"} for an Ed25519 signature (RFC 8463)."""
    if body_lines:
        body = ("x" * 76 + "\n") * body_lines
    m = email.message.EmailMessage()
    m["From"], m["To"], m["Subject"] = header_from or sender, ", ".join(rcpts), subject
    if message_id:
        m["Message-ID"] = message_id
    for name, value in headers or []:
        m[name] = value
    m.set_content(body)
    if dkim:
        # dkimpy is Debian's python3-dkim; python3 on PATH may be another interpreter (pyenv).
        sys.path.append("/usr/lib/python3/dist-packages")
        import dkim as dkimpy
        raw = m.as_bytes(policy=m.policy.clone(linesep="\r\n"))
        ed25519 = "ed25519_seed_b64" in dkim
        m = dkimpy.sign(raw, dkim["selector"].encode(), dkim["domain"].encode(),
                        (dkim["ed25519_seed_b64"] if ed25519 else dkim["key_pem"]).encode(),
                        include_headers=[b"From", b"To", b"Subject"],
                        signature_algorithm=b"ed25519-sha256" if ed25519 else b"rsa-sha256") + raw

    def connect():
        s = smtplib.SMTP(host, port, timeout=60)
        if starttls:
            s.starttls(context=tls())
        return s
    return transaction(connect, sender, rcpts, m)


def submit(host, port, user, password, sender, rcpts, subject, body="", implicit_tls=False, smtputf8=False):
    """An owner's client sending through submission: TLS first (STARTTLS or implicit), then AUTH;
    smtputf8 for non-ASCII addresses and UTF-8 header fields."""
    m = email.message.EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, ", ".join(rcpts), subject
    m["Message-ID"] = email.utils.make_msgid(domain=sender.split("@")[-1])
    m["Date"] = email.utils.formatdate()
    m.set_content(body)

    def connect():
        if implicit_tls:
            return smtplib.SMTP_SSL(host, port, timeout=60, context=tls())
        s = smtplib.SMTP(host, port, timeout=60)
        s.starttls(context=tls())
        return s
    return transaction(connect, sender, rcpts, m, login=(user, password), smtputf8=smtputf8)


def login(host, port, user, password):
    m = imaplib.IMAP4(host, port)
    m.starttls(ssl_context=tls())
    m.login(user, password)
    return m


def fetch(host, port, user, password, folder):
    m = login(host, port, user, password)
    typ, data = m.select(folder, readonly=True)
    out = []
    if int(data[0]) > 0:
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT X-SPAM-FLAG MESSAGE-ID)] BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple) and b"BODY[]" in item[0]:
                raw = item[1]
                headers = email.message_from_bytes(raw)
                # str(): a UTF-8 field (RFC 6532) comes as a Header object from the compat32 parser.
                out.append({"subject": str(headers.get("Subject", "")), "spam": str(headers.get("X-Spam-Flag", "")),
                            "spam_status": str(headers.get("X-Spam-Status", "")),
                            "message_id": str(headers.get("Message-ID", "")), "body_sha256": body_digest(raw),
                            "authentication_results": [" ".join(str(v).split())
                                                       for v in headers.get_all("Authentication-Results", [])],
                            "raw_b64": base64.b64encode(raw).decode() if len(raw) < 16384 else ""})
    specials = {}
    typ, data = m._simple_command("LIST", '""', "*", "RETURN", "(SPECIAL-USE)")
    for line in m.untagged_responses.pop("LIST", []):
        text = line.decode()
        specials[text.rsplit(" ", 1)[-1].strip('"')] = text.split(")")[0].lstrip("(")
    try:
        m.logout()
    except imaplib.IMAP4.abort:
        # Seen rarely: James 3.8.1 closes before its tagged LOGOUT reply. Everything was read already.
        pass
    return {"messages": out, "folders": specials}


def create(host, port, user, password, mailbox):
    m = login(host, port, user, password)
    typ, data = m.create(mailbox)
    m.logout()
    return {"ok": typ == "OK", "text": data[0].decode() if data and data[0] else ""}


def search_all(host, port, user, password, marker):
    m = login(host, port, user, password)
    found = {}
    for folder in ["INBOX", "Junk", "Sent", "Drafts", "Trash"]:
        if m.select(folder, readonly=True)[0] != "OK":
            # A new mailbox has only the folders mail has been filed into so far.
            found[folder] = 0
            continue
        typ, data = m.search(None, "TEXT", '"%s"' % marker)
        found[folder] = len(data[0].split())
    try:
        m.logout()
    except imaplib.IMAP4.abort:
        # James 3.8.1 now and then closes at LOGOUT without its BYE; the counts above are complete.
        pass
    return found


def move(host, port, user, password, folder, target, marker, how="move"):
    """What a mail client does when the owner drags messages: UID MOVE (or UID COPY) of every message
    in folder whose Subject contains marker. Returns the UIDs moved and the server's COPYUID code."""
    m = login(host, port, user, password)
    m.select(folder)
    typ, data = m.uid("SEARCH", "SUBJECT", '"%s"' % marker)
    uids = data[0].decode().split()
    answer = ""
    if uids:
        typ, data = m.uid(how.upper(), ",".join(uids), target)
        if typ != "OK":
            return {"ok": False, "text": str(data)}
        answer = " ".join(str(d) for d in data)
        if how == "copy":
            m.uid("STORE", ",".join(uids), "+FLAGS.SILENT", r"(\Deleted)")
            m.expunge()
    try:
        m.logout()
    except imaplib.IMAP4.abort:
        pass
    return {"ok": True, "uids": uids, "answer": answer}


def idle(host, port, user, password, seconds):
    """Logs in over implicit TLS, enters IDLE, prints 'idling' on stderr and waits for an EXISTS."""
    raw = tls().wrap_socket(socket.create_connection((host, port), timeout=seconds + 10))
    f = raw.makefile("rwb")

    def cmd(tag, line):
        f.write(("%s %s\r\n" % (tag, line)).encode())
        f.flush()
        while True:
            reply = f.readline().decode()
            if reply.startswith(tag + " "):
                return reply

    f.readline()
    cmd("a1", "LOGIN %s %s" % (user, password))
    cmd("a2", "SELECT INBOX")
    f.write(b"a3 IDLE\r\n")
    f.flush()
    assert f.readline().startswith(b"+")
    sys.stderr.write("idling\n")
    sys.stderr.flush()
    deadline = time.time() + seconds
    while time.time() < deadline:
        line = f.readline().decode()
        if line.endswith("EXISTS\r\n"):
            f.write(b"DONE\r\n")
            f.flush()
            return {"exists": line.strip()}
    return {"exists": None}


def flood(host, port, sender, rcpt, count, marker, seconds=120, sources=None):
    """Opens `count` SMTP connections at once, each sending one message; returns how each ended:
    the final reply code ("250", "421" at the banner, ...) or "error: ..." for a broken connection,
    and the slowest wait for a whole banner. Connection i comes from sources[i % len(sources)]
    (loopback addresses) when given, as clients from several addresses do."""
    import threading
    outcomes, banners, lock = {}, [], threading.Lock()
    start = threading.Barrier(count)

    def one(i):
        result = None
        try:
            start.wait()
            source = (sources[i % len(sources)], 0) if sources else None
            t0 = time.time()
            with socket.create_connection((host, port), timeout=seconds, source_address=source) as c:
                f = c.makefile("rb")

                def reply():
                    while True:
                        line = f.readline()
                        if not line:
                            raise EOFError("closed")
                        if line[3:4] != b"-":
                            return line[:3].decode()

                def cmd(text):
                    c.sendall(text.encode() + b"\r\n")
                    return reply()

                result = reply()
                with lock:
                    banners.append(time.time() - t0)
                if result == "220":
                    for text, want in (("EHLO flood.example.org", "250"), ("MAIL FROM:<%s>" % sender, "250"),
                                       ("RCPT TO:<%s>" % rcpt, "250"), ("DATA", "354")):
                        result = cmd(text)
                        if result != want:
                            break
                    else:
                        c.sendall(("Subject: %s %d\r\n\r\nflood %d\r\n.\r\n" % (marker, i, i)).encode())
                        result = reply()
                        cmd("QUIT")
        except (OSError, EOFError) as e:
            result = (result + " then " if result else "") + "error: " + type(e).__name__
        with lock:
            outcomes[result] = outcomes.get(result, 0) + 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"outcomes": outcomes, "seconds": round(time.time() - t0, 1),
            "slowest_banner_seconds": round(max(banners), 2) if banners else None}


def trickle(host, port, sender, rcpt, marker, stop_file, seconds, interval=1.0, after=3):
    """One message per connection, one after the other, while the box changes under it: prints
    "accepted" on stderr at its first 250, sends until `stop_file` exists (or `seconds` pass), then
    `after` more. Message i says "marker i"; returns each one's final reply code, or "error: ..."
    for a connection that broke, in order."""
    codes, end, i, left = [], time.time() + seconds, 0, after
    while left > 0:
        m = email.message.EmailMessage()
        m["From"], m["To"], m["Subject"] = sender, rcpt, "%s %d" % (marker, i)
        m.set_content("trickle %s %d" % (marker, i))
        try:
            with smtplib.SMTP(host, port, timeout=60) as s:
                s.ehlo("trickle.example.org")
                s.sendmail(sender, [rcpt], m.as_bytes())
                codes.append("250")
        except smtplib.SMTPResponseException as e:
            codes.append(str(e.smtp_code))
        except smtplib.SMTPRecipientsRefused as e:
            codes.append(str(list(e.recipients.values())[0][0]))
        except (OSError, smtplib.SMTPException) as e:
            codes.append("error: " + type(e).__name__)
        if codes.count("250") == 1 and codes[-1] == "250":
            sys.stderr.write("accepted\n")
            sys.stderr.flush()
        if os.path.exists(stop_file) or time.time() > end:
            left -= 1
        i += 1
        time.sleep(interval)
    return {"codes": codes}


def resolve(server, name, timeout=3):
    """An A lookup asked of one DNS server over UDP (dnspython, Debian's, as dkimpy uses it)."""
    sys.path.append("/usr/lib/python3/dist-packages")
    import dns.exception
    import dns.resolver
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server]
    resolver.lifetime = timeout
    try:
        return {"addresses": [r.address for r in resolver.resolve(name, "A")]}
    except dns.exception.DNSException as e:
        return {"error": type(e).__name__}


def probe(host, port, implicit_tls=False, timeout=3, say=None):
    """What a client sees when it dials: the server's first line, or refused / timeout. For a
    protocol where the client speaks first (HTTP), SAY is what it says."""
    connected = False
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            connected = True
            conn = tls().wrap_socket(raw) if implicit_tls else raw
            conn.settimeout(timeout)
            if say:
                conn.sendall(say.encode())
            line = conn.makefile("rb").readline().decode(errors="replace").strip()
            return {"result": "open", "greeting": line}
    except ConnectionRefusedError:
        return {"result": "refused"}
    except (socket.timeout, TimeoutError):
        # Connected, then nothing: an open port that stays silent is still open.
        return {"result": "silent" if connected else "timeout"}
    except OSError as e:
        return {"result": "error", "error": str(e)}


def main():
    cmd, args = sys.argv[1], json.loads(sys.argv[2])
    result = {"resolve": resolve, "send": send, "submit": submit, "send_attachments": send_attachments, "fetch": fetch, "search": search_all, "create": create,
              "move": move,
              "idle": idle, "flood": flood, "trickle": trickle, "probe": probe}[cmd](**args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
