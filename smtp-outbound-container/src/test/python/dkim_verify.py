"""Verifies a message's DKIM signatures with dkimpy (Debian's python3-dkim, with python3-nacl for
ed25519-sha256): an implementation no one here wrote. The key records come from the command line
instead of DNS, so the test checks exactly the text `hearth mail dns` would publish.
Usage: dkim_verify.py '{"message_b64": "...", "records": {"sel._domainkey.example.test": "v=DKIM1; ..."}}'
   or: dkim_verify.py '{"message_b64": "...", "dns": {"host": "127.0.0.1", "port": 5353}}' to ask a DNS server.
Prints {"signatures": [{"selector": ..., "algorithm": ..., "valid": true|false, "error": ...}, ...]}."""
import base64
import json
import sys

# python3 on PATH may be another interpreter than Debian's (pyenv); dkimpy is installed for Debian's.
sys.path.append("/usr/lib/python3/dist-packages")
import dkim  # noqa: E402


def main():
    args = json.loads(sys.argv[1])
    message = base64.b64decode(args["message_b64"])
    records = {name.rstrip(".").lower(): text for name, text in args.get("records", {}).items()}

    def given(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        text = records.get(key)
        return text.encode() if text is not None else None

    def asked(name, timeout=5):
        import dns.resolver
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [args["dns"]["host"]]
        resolver.port = args["dns"]["port"]
        answer = resolver.resolve(name.decode() if isinstance(name, bytes) else name, "TXT", lifetime=timeout)
        # A TXT record's strings are one text, joined without separators (RFC 6376 §3.6.2.2).
        return b"".join(answer[0].strings)

    dns = asked if "dns" in args else given

    verifier = dkim.DKIM(message)
    count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    results = []
    for i in range(count):
        try:
            ok = verifier.verify(idx=i, dnsfunc=dns)
            error = None
        except dkim.DKIMException as e:
            ok, error = False, str(e)
        sig = verifier.signature_fields or {}
        results.append({"selector": sig.get(b"s", b"").decode(), "algorithm": sig.get(b"a", b"").decode(),
                        "valid": bool(ok), "error": error})
    print(json.dumps({"signatures": results}))


if __name__ == "__main__":
    main()
