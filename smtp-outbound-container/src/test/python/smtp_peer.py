"""A receiving mail server for delivery tests: aiosmtpd (Debian's python3-aiosmtpd), an SMTP server
implementation Hearth did not write. It keeps every message it accepts, exactly as received
(dot-unstuffed), with its envelope, whether the session was under TLS and the client's address and
port (one connection or several), in OUT_DIR.
Usage: smtp_peer.py '{"port": N, "host": ADDRESS (127.0.0.1), "out_dir": DIR, "cert": PEM, "key": PEM,
                      "rcpt_replies": {"addr": "550 5.1.1 no such user"}, "data_reply": "451 4.3.0 later",
                      "data_delay": SECONDS, "implicit_tls": false, "auth": {"user": "password"}, "smtputf8": true}'
cert/key enable STARTTLS (or with implicit_tls, TLS from the first byte, as on port 465); auth makes it a
relay that takes mail only after AUTH PLAIN or LOGIN over TLS; smtputf8 false hides SMTPUTF8 (RFC 6531); replies not given are 250. data_delay holds each message that long before
its reply, and the most messages held at once is kept in OUT_DIR/max_concurrent. Prints "ready" once listening; stops on SIGTERM."""
import asyncio
import json
import os
import signal
import ssl
import sys
import threading

# python3 on PATH may be another interpreter than Debian's (pyenv); aiosmtpd is installed for Debian's.
sys.path.append("/usr/lib/python3/dist-packages")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


class Keeper:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.active = 0
        self.max_active = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.args.get("rcpt_replies", {}).get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.get("data_delay"):
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            with open(os.path.join(self.args["out_dir"], "max_concurrent"), "w") as f:
                f.write(str(self.max_active))
            await asyncio.sleep(self.args["data_delay"])
            self.active -= 1
        reply = self.args.get("data_reply")
        if reply:
            return reply
        self.count += 1
        base = os.path.join(self.args["out_dir"], "message-%d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options, "tls": session.ssl is not None,
                       "helo": session.host_name, "peer": list(session.peer)[:2],
                       "login": session.auth_data.login.decode() if session.authenticated else None}, f)
        return "250 2.0.0 Ok: queued as %d" % self.count


def main():
    args = json.loads(sys.argv[1])
    kwargs = {"hostname": args.get("host", "127.0.0.1"), "port": args["port"], "decode_data": False,
              "enable_SMTPUTF8": args.get("smtputf8", True)}
    if args.get("cert"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args["cert"], args["key"])
        kwargs["ssl_context" if args.get("implicit_tls") else "tls_context"] = context
    if args.get("auth"):
        users = args["auth"]

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and users.get(auth_data.login.decode()) == auth_data.password.decode()
            return AuthResult(success=ok, handled=False, auth_data=auth_data)
        # aiosmtpd counts only STARTTLS as TLS; on an implicit-TLS port every byte is under TLS already.
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=not args.get("implicit_tls"))
    controller = Controller(Keeper(args), **kwargs)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
