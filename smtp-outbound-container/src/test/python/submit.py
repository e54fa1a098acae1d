"""A mail client submitting to Hearth: Python's smtplib (another SMTP implementation), as a desktop
client would. Usage: submit.py '{"host": ..., "port": N, "tls": "starttls"|"implicit"|"none",
"user": ..., "password": ..., "sender": ..., "rcpts": [...], "message": "...", "logins": 1,
"mail_options": ["SMTPUTF8"], "encoding": "latin-1", "prefix": ["LINE", N]}' (the message's bytes: UTF-8
unless said; prefix: LINE N times before the message, for sizes no command line can carry)
Prints what it saw: the EHLO keywords before and after TLS, each login's reply code, and the send's
outcome (the 250 text, or the refusing code and text)."""
import json
import smtplib
import ssl
import sys


def main():
    a = json.loads(sys.argv[1])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the appliance's self-signed certificate, as in the other client tests
    out = {"logins": []}
    if a["tls"] == "implicit":
        s = smtplib.SMTP_SSL(a["host"], a["port"], context=ctx, timeout=30)
    else:
        s = smtplib.SMTP(a["host"], a["port"], timeout=30)
    s.ehlo("client.example")
    out["features_before_tls"] = sorted(s.esmtp_features.keys())
    if a["tls"] == "none" and a.get("user"):
        code, text = s.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==")
        out["auth_without_tls"] = [code, text.decode()]
    if a["tls"] == "starttls":
        s.starttls(context=ctx)
        s.ehlo("client.example")
    out["features"] = sorted(s.esmtp_features.keys())
    if a.get("user") and a["tls"] != "none":
        for _ in range(a.get("logins", 1)):
            try:
                # One mechanism per try (smtplib's login() would try the next one after a failure).
                s.user, s.password = a["user"], a["password"]
                code, _ = s.auth("PLAIN", s.auth_plain)
                out["logins"].append(code)
                break
            except smtplib.SMTPAuthenticationError as e:
                out["logins"].append(e.smtp_code)
                s.rset()
            except smtplib.SMTPResponseException as e:
                out["logins"].append(e.smtp_code)
    code, text = s.mail(a["sender"], a.get("mail_options", []))
    if code >= 400:
        out["sender_refused"] = [code, text.decode()]
    else:
        refused = {}
        for r in a["rcpts"]:
            code, text = s.rcpt(r)
            if code >= 400:
                refused[r] = [code, text.decode()]
        if refused:
            out["refused"] = refused
        else:
            try:
                prefix = a["prefix"][0] * a["prefix"][1] if a.get("prefix") else ""
                code, text = s.data((prefix + a["message"]).encode(a.get("encoding", "utf-8")))
                out["data"] = [code, text.decode()]
            except smtplib.SMTPDataError as e:
                out["data"] = [e.smtp_code, e.smtp_error.decode()]
    try:
        s.quit()
    except smtplib.SMTPException:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
