"""Parses a delivery status notification with Python's email package (another implementation of
MIME and RFC 3464's layout) and prints what a mail client or a bounce processor would see.
message/global-delivery-status (RFC 6533) is read the same way. Usage: dsn_parse.py FILE  ->  {"content_type": ..., "report_type": ..., "parts": [...], "per_message": {...},
"recipients": [{"Final-Recipient": ..., "Action": ..., "Status": ..., ...}], "returned_headers": {...}}"""
import email
import email.policy
import json
import sys


def fields(block):
    return dict(line.split(": ", 1) for line in block.strip().split("\n"))


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    out = {"content_type": msg.get_content_type(), "report_type": msg.get_param("report-type"),
           "subject": str(msg["Subject"]), "auto_submitted": str(msg["Auto-Submitted"]), "to": str(msg["To"]),
           "parts": [], "recipients": [], "defects": [str(d) for d in msg.defects]}
    for part in msg.iter_parts():
        out["parts"].append(part.get_content_type())
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            out["per_message"] = dict(blocks[0].items())
            out["recipients"] = [dict(b.items()) for b in blocks[1:]]
        elif part.get_content_type() == "message/global-delivery-status":
            # RFC 6533: the same fields, in UTF-8. The email package reads it as one message: the
            # per-message fields its header, the per-recipient blocks its body.
            inner = part.get_payload()[0]
            out["per_message"] = {k: str(v) for k, v in inner.items()}
            body = inner.get_payload(decode=True).decode("utf-8")
            out["recipients"] = [fields(b) for b in body.replace("\r\n", "\n").split("\n\n") if b.strip()]
        elif part.get_content_type() == "message/global-headers":
            out["returned_headers"] = {k: str(v) for k, v in part.get_payload()[0].items()}
        elif part.get_content_type() == "text/rfc822-headers":
            returned = email.message_from_string(part.get_content())
            out["returned_headers"] = dict(returned.items())
        elif part.get_content_type() == "text/plain":
            out["human"] = part.get_content()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
