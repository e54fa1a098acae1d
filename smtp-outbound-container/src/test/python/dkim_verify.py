"""Verifies a message's DKIM signatures with dkimpy (Debian's python3-dkim, with python3-nacl for
ed25519-sha256): an implementation no one here wrote. The key records come from the command line
instead of DNS, so the test checks exactly the text `hearth mail dns` would publish.
Usage: dkim_verify.py '{"message_b64": "...", "records": {"sel._domainkey.example.test": "v=DKIM1; ..."}}'
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
    records = {name.rstrip(".").lower(): text for name, text in args["records"].items()}

    def dns(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        text = records.get(key)
        return text.encode() if text is not None else None

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
