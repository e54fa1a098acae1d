#!/usr/bin/env python3
"""A varied mailbox for the sync-client tests, and the means to load and compare it.

  corpus.py make --count 1000 --seed N --out DIR
      writes a Maildir++ tree: DIR is INBOX, DIR/.A.B is folder A.B (the store's delimiter is
      '.', which is also Maildir++'s, so folder names never contain a dot themselves).
  corpus.py upload --host H --port P (--starttls|--tls) --user U --password-file F DIR
      creates every folder and APPENDs every message with its flags, over one connection.
  corpus.py compare-imap --host H --port P (--starttls|--tls) --user U --password-file F
                         [--layout maildir++|named|flat] DIR
      lists the server (folders, SHA-256 of each message's bytes, flags) and the local tree and
      prints one JSON document with the differences; exits 1 if there are any.

Bytes are compared normalised to CRLF line endings: IMAP literals are CRLF, while Maildir clients
store either (mbsync and the corpus write LF). Nothing else is normalised, except the headers named
with --ignore-header, left out on both sides: mbsync writes an X-TUID header into every message it
copies, its own bookkeeping. Flags compared are the
five that Maildir can hold: Maildir info letters D F R S T are \\Draft \\Flagged \\Answered
\\Seen \\Deleted; \\Recent and keywords are ignored.

Layouts of the local side: "maildir++" (DIR is INBOX, .A.B are folders: the corpus, mbsync with
SubFolders Maildir++), "named" (every Maildir below DIR, named by its path with '/' read as '.':
offlineimap with sep = '.', mbsync with SubFolders Verbatim), "flat" (one Maildir holding every
message of every folder, as a download-only client such as fetchmail delivers; only the multiset of messages is compared).
"""
import argparse
import base64
import collections
import email.utils
import hashlib
import imaplib
import json
import os
import random
import re
import ssl
import sys
import time

FLAG_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
LETTER_OF = {v: k for k, v in FLAG_LETTERS.items()}
# Folders of the corpus: the store's own special folders first (it creates them for each user, so
# the local tree holds them too, even empty), then a tree several levels deep.
FOLDERS = ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Archive.2025", "Archive.2025.Receipts",
           "Projects", "Projects.2026", "Projects.2026.Q4", "Projects.2026.Q4.Invoices",
           "Projects.2026.Q4.Invoices.Paid", "Lists", "Lists.debian-devel", "Family Photos"]
EMPTY = {"Drafts", "Trash", "Junk", "Projects.2026"}
WORDS = ("lorem ipsum dolor sit amet invoice meeting réunion Grüße smørrebrød naïve café "
         "Ελληνικά кириллица 日本語 emoji 🙂 tab\tseparated plain words again").split(" ")
BASE_TIME = 1780000000


# ---------------------------------------------------------------- making the corpus

def sizes(count, rnd):
    """Mostly small messages, some medium, a few large: around 60-100 MB for 1,000 messages."""
    out = []
    for i in range(count):
        if i == 0:
            out.append(0)                       # a message with an empty body
        elif i % 333 == 1:
            out.append(10 * 1024 * 1024 - 4096)  # the largest: just under 10 MB in all
        elif i % 125 == 7:
            out.append(rnd.randint(1_000_000, 4_000_000))
        elif i % 20 == 3:
            out.append(rnd.randint(60_000, 600_000))
        else:
            out.append(int(rnd.paretovariate(1.3) * 600) % 40_000)
    return out


def text(rnd, n):
    words, size = [], 0
    while size < n:
        w = rnd.choice(WORDS)
        words.append(w)
        size += len(w.encode()) + 1
    lines, line = [], []
    for w in words:
        line.append(w)
        if len(" ".join(line)) > 70:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(lines) + "\n"


def headers(rnd, seed, i, subject, extra=()):
    date = email.utils.formatdate(BASE_TIME - i * 3607, localtime=False)
    h = ["Return-Path: <sender%d@example.org>" % (i % 17),
         "From: Sender %d <sender%d@example.org>" % (i % 17, i % 17),
         "To: Alice <alice@sync.hearth.test>",
         "Subject: %s" % subject,
         "Date: %s" % date,
         "Message-ID: <corpus-%d-%d@example.org>" % (seed, i)]
    if i % 10 == 4:   # a long folded header: a thread's References
        h.append("References: " + "\n ".join("<ref-%d-%d@example.org>" % (i, k) for k in range(rnd.randint(20, 300))))
    if i % 50 == 9:   # one long unfolded header line, past 998 octets
        h.append("X-Long-Unfolded: " + "y" * rnd.randint(1000, 3000))
    h.extend(extra)
    return "\n".join(h) + "\n"


def message(rnd, seed, i, size):
    kind = i % 6 if size else -1
    subject = "corpus %d message %d" % (seed, i)
    if kind == -1:  # empty body
        return (headers(rnd, seed, i, subject) + "\n").encode()
    if size >= 60_000 or kind == 0:  # multipart with a binary attachment
        boundary = "=_b%d_%d" % (seed, i)
        blob = rnd.randbytes(max(1, size * 3 // 4 - 600))
        b64 = base64.encodebytes(blob).decode()
        body = ("This is a multi-part message in MIME format.\n\n--%s\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n"
                "--%s\nContent-Type: application/octet-stream; name=\"blob%d.bin\"\n"
                "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"blob%d.bin\"\n\n"
                "%s--%s--\n") % (boundary, text(rnd, 200), boundary, i, i, b64, boundary)
        head = headers(rnd, seed, i, subject, ["MIME-Version: 1.0",
                                                "Content-Type: multipart/mixed; boundary=\"%s\"" % boundary])
        return (head + "\n" + body).encode()
    if kind == 1:  # latin-1, 8-bit, no encoding
        head = headers(rnd, seed, i, subject, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=iso-8859-1",
                                                "Content-Transfer-Encoding: 8bit"])
        return (head + "\n").encode() + text(rnd, size).encode("latin-1", "replace")
    if kind == 2:  # HTML, quoted-printable-free 8-bit UTF-8 with an 8-bit subject (raw UTF-8 header)
        head = headers(rnd, seed, i, subject + " Grüße 日本語", ["MIME-Version: 1.0",
                       "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit"])
        return (head + "\n<html><body><p>" + text(rnd, size) + "</p></body></html>\n").encode()
    # UTF-8 plain text, 8-bit, without any MIME headers at all on some
    extra = [] if kind == 3 else ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                  "Content-Transfer-Encoding: 8bit"]
    return (headers(rnd, seed, i, subject, extra) + "\n" + text(rnd, size)).encode()


def maildir_path(root, folder):
    return root if folder == "INBOX" else os.path.join(root, "." + folder)


def make(count, seed, out):
    rnd = random.Random(seed)
    for f in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir_path(out, f), sub), exist_ok=True)
    homes = [f for f in FOLDERS if f not in EMPTY]
    weights = [400 if f == "INBOX" else 40 for f in homes]
    total = 0
    for i, size in enumerate(sizes(count, rnd)):
        folder = rnd.choices(homes, weights)[0]
        raw = message(rnd, seed, i, size)
        total += len(raw)
        flags = "".join(sorted(rnd.sample("DFRS", rnd.choice([0, 0, 1, 1, 1, 2, 3]))))
        name = "%d.corpus%d_%d.hearth" % (BASE_TIME - i, seed, i)
        if not flags and i % 3 == 0:
            path = os.path.join(maildir_path(out, folder), "new", name)  # unseen, never looked at
        else:
            path = os.path.join(maildir_path(out, folder), "cur", name + ":2," + flags)
        with open(path, "wb") as fh:
            fh.write(raw)
    return {"messages": count, "bytes": total, "folders": len(FOLDERS)}


# ---------------------------------------------------------------- reading a local tree

def crlf(raw):
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


STRIP = []  # header names a client adds for its own bookkeeping (mbsync's X-TUID), left out of digests


def without_headers(raw, names):
    cut = raw.find(b"\r\n\r\n")
    head, rest = (raw[:cut + 2], raw[cut + 2:]) if cut >= 0 else (raw, b"")
    out, skipping = [], False
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                out.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in names
        if not skipping:
            out.append(line)
    return b"".join(x + b"\r\n" for x in out) + rest


def digest(raw):
    raw = crlf(raw)
    if STRIP:
        raw = without_headers(raw, STRIP)
    return hashlib.sha256(raw).hexdigest()


def flags_of_name(name, subdir):
    if ":2," not in name:
        return ()
    return tuple(sorted(FLAG_LETTERS[c] for c in name.split(":2,", 1)[1] if c in FLAG_LETTERS))


def read_maildir(path):
    msgs = []
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as fh:
                msgs.append((digest(fh.read()), flags_of_name(name, sub), os.path.join(d, name)))
    return msgs


def is_maildir(path):
    return all(os.path.isdir(os.path.join(path, s)) for s in ("cur", "new"))


def local_tree(root, layout):
    """{folder: [(sha256, flags, file)]} of a local Maildir tree in one of the layouts above."""
    tree = {}
    if layout == "maildir++":
        tree["INBOX"] = read_maildir(root)
        for name in sorted(os.listdir(root)):
            if name.startswith(".") and name not in (".", "..") and is_maildir(os.path.join(root, name)):
                tree[name[1:]] = read_maildir(os.path.join(root, name))
    elif layout == "named":
        for dirpath, dirnames, _ in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("cur", "new", "tmp"))
            if is_maildir(dirpath) and dirpath != root:
                tree[os.path.relpath(dirpath, root).replace(os.sep, ".")] = read_maildir(dirpath)
    elif layout == "flat":
        tree["*"] = [m for dirpath, _, _ in os.walk(root) if is_maildir(dirpath) for m in read_maildir(dirpath)]
    else:
        raise SystemExit("unknown layout " + layout)
    return tree


# ---------------------------------------------------------------- talking to the store

def connect(args):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the store's certificate is self-signed
    if args.tls:
        m = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=ctx, timeout=120)
    else:
        m = imaplib.IMAP4(args.host, args.port, timeout=120)
        m.starttls(ssl_context=ctx)
    with open(args.password_file) as fh:
        m.login(args.user, fh.read().strip())
    return m


def quote(mailbox):
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def logout(m):
    try:
        m.logout()
    except (imaplib.IMAP4.abort, OSError):
        pass  # James 3.8.1 now and then closes at LOGOUT before its tagged reply; all was read already


def upload(args):
    m = connect(args)
    local = local_tree(args.dir, args.layout)
    existing = set(server_folders(m))
    count, size = 0, 0
    for folder in sorted(local):
        if folder not in existing:
            typ, data = m.create(quote(folder))
            if typ != "OK":
                raise SystemExit("CREATE %s: %s %s" % (folder, typ, data))
        for sha, flags, rel in local[folder]:
            with open(rel, "rb") as fh:
                raw = fh.read()
            # imaplib sends a synchronizing literal and turns lone LF into CRLF
            typ, data = m.append(quote(folder), "(%s)" % " ".join(flags), None, raw)
            if typ != "OK":
                raise SystemExit("APPEND to %s of %s: %s %s" % (folder, rel, typ, data))
            count, size = count + 1, size + len(raw)
    logout(m)
    return {"appended": count, "bytes": size, "folders": len(local)}


LIST_LINE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$')


def unquote(name):
    name = name.decode()
    if name.startswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name


def server_folders(m, delimiters=None):
    typ, data = m.list('""', "*")
    names = []
    for line in data:
        if isinstance(line, tuple):  # a name sent as a literal
            line = line[0].rsplit(b" ", 1)[0] + b' "' + line[1] + b'"'
        hit = LIST_LINE.match(line)
        if not hit:
            raise SystemExit("unparsed LIST line: %r" % line)
        if delimiters is not None:
            delimiters.add(hit.group("delim").decode())
        if b"\\noselect" not in hit.group("attrs").lower():
            names.append(unquote(hit.group("name")))
    return sorted(names)


FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")
UID_RE = re.compile(rb"UID (\d+)")


def server_tree(m, delimiters):
    tree = {}
    for folder in server_folders(m, delimiters):
        typ, data = m.select(quote(folder), readonly=True)
        if typ != "OK":
            raise SystemExit("EXAMINE %s: %s" % (folder, data))
        msgs = []
        if int(data[0]) > 0:
            typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            # Each message is (b'n (UID u FLAGS (...) BODY[] {len}', bytes) then b')' or b' FLAGS (...))'
            # when the server sends FLAGS after the body: read FLAGS from whichever part holds it.
            item = None
            for part in data:
                if isinstance(part, tuple):
                    item = {"head": part[0], "raw": part[1], "tail": b""}
                    msgs.append(item)
                elif item is not None and part is not None:
                    item["tail"] += part
            for k, item in enumerate(msgs):
                meta = item["head"] + item["tail"]
                f = FLAGS_RE.search(meta)
                uid = UID_RE.search(meta)
                flags = tuple(sorted(x for x in (f.group(1).decode().split() if f else []) if x in LETTER_OF))
                msgs[k] = (digest(item["raw"]), flags, "UID " + (uid.group(1).decode() if uid else "?"))
        tree[folder] = msgs
    return tree


def differences(server, local, flat):
    diffs = []
    if flat:
        have = collections.Counter(sha for f in server.values() for sha, _, _ in f)
        got = collections.Counter(sha for f in local.values() for sha, _, _ in f)
        for sha in sorted((have - got).keys()):
            diffs.append("missing locally: %s x%d" % (sha, (have - got)[sha]))
        for sha in sorted((got - have).keys()):
            diffs.append("only local: %s x%d" % (sha, (got - have)[sha]))
        return diffs
    for folder in sorted(set(server) - set(local)):
        diffs.append("folder only on the server: %s (%d messages)" % (folder, len(server[folder])))
    for folder in sorted(set(local) - set(server)):
        diffs.append("folder only local: %s (%d messages)" % (folder, len(local[folder])))
    for folder in sorted(set(server) & set(local)):
        s = collections.Counter((sha, flags) for sha, flags, _ in server[folder])
        l = collections.Counter((sha, flags) for sha, flags, _ in local[folder])
        where_s = {(sha, flags): at for sha, flags, at in server[folder]}
        where_l = {(sha, flags): at for sha, flags, at in local[folder]}
        for key in sorted((s - l).keys()):
            diffs.append("%s: server %s %s flags %s x%d has no local twin" % (folder, where_s[key], key[0][:16],
                                                                           " ".join(key[1]), (s - l)[key]))
        for key in sorted((l - s).keys()):
            diffs.append("%s: local %s %s flags %s x%d has no server twin" % (folder, where_l[key], key[0][:16],
                                                                           " ".join(key[1]), (l - s)[key]))
    return diffs


def compare_imap(args):
    m = connect(args)
    delimiters = set()
    server = server_tree(m, delimiters)
    logout(m)
    local = local_tree(args.dir, args.layout)
    diffs = differences(server, local, args.layout == "flat") + unmet(server, args.expect or [])
    return {"ok": not diffs, "differences": diffs[:200], "difference_count": len(diffs),
            "delimiters": sorted(delimiters),
            "server": {"folders": len(server), "messages": sum(len(v) for v in server.values())},
            "local": {"folders": len(local), "messages": sum(len(v) for v in local.values())},
            "folders": sorted(server)}


# ---------------------------------------------------------------- changes between two syncs
# Each side changes its own folders only, so no change meets a conflicting one from the other side
# (how a client settles conflicts is its own business). Each writes what the other side must end
# with: "present" [folder, sha256, flags] and "absent" sha256, checked by compare-imap --expect.

SERVER_SIDE = ("INBOX", "Archive", "Projects.2026.Q4.Invoices")
LOCAL_SIDE = ("Sent", "Family Photos", "Archive.2025", "Projects", "Lists.debian-devel")
RENAMED = ("Projects.2026.Q4.Invoices", "Projects.2026.Q4.Bills")  # has a subfolder, .Paid


def change_server(args):
    import smtplib
    rnd = random.Random(args.seed)
    m = connect(args)
    tree = server_tree(m, set())
    present, absent = [], []
    marker = "server-new-%d" % args.seed
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP(args.host if args.smtp_host is None else args.smtp_host, args.smtp_port, timeout=120) as s:
        s.starttls(context=ctx)
        for k in range(args.new):
            raw = message(rnd, args.seed, 100_000 + k, [0, 300, 5000, 200_000][k % 4]).replace(
                b"Subject: ", b"Subject: %s " % marker.encode(), 1)
            s.sendmail("sender@example.org", [args.user], crlf(raw))
    # flags on both: INBOX messages gain \Flagged, lose \Seen, gain \Answered
    m.select("INBOX")
    inbox = [x for x in tree["INBOX"]]
    uids = {at.split()[1]: (sha, flags) for sha, flags, at in inbox}
    picks = rnd.sample(sorted(uids, key=int), 60)
    changed = picks[:40]
    for k, uid in enumerate(changed):
        sha, flags = uids[uid]
        op, flag = [("+", "\\Flagged"), ("-", "\\Seen"), ("+", "\\Answered"), ("+", "\\Seen")][k % 4]
        typ, data = m.uid("STORE", uid, op + "FLAGS.SILENT", "(%s)" % flag)
        if typ != "OK":
            raise SystemExit("STORE %s: %s" % (uid, data))
        new = set(flags) | {flag} if op == "+" else set(flags) - {flag}
        present.append(["INBOX", sha, sorted(new)])
    # a MOVE from INBOX to Archive
    moved = picks[40:50]
    typ, data = m.uid("MOVE", ",".join(moved), "Archive")
    if typ != "OK":
        raise SystemExit("MOVE: %s" % data)
    present += [["Archive", uids[u][0], sorted(uids[u][1])] for u in moved]
    # deletions in INBOX and Archive
    deleted = picks[50:60]
    m.uid("STORE", ",".join(deleted), "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()
    absent += [uids[u][0] for u in deleted]
    m.select("Archive")
    arch = tree["Archive"]
    gone = rnd.sample(arch, min(5, len(arch)))
    m.uid("STORE", ",".join(at.split()[1] for _, _, at in gone), "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()
    absent += [sha for sha, _, _ in gone]
    m.close()
    # a folder with a subfolder renamed
    typ, data = m.rename(quote(RENAMED[0]), quote(RENAMED[1]))
    if typ != "OK":
        raise SystemExit("RENAME: %s" % data)
    for folder in (RENAMED[0], RENAMED[0] + ".Paid"):
        present += [[RENAMED[1] + folder[len(RENAMED[0]):], sha, sorted(f)] for sha, f, _ in tree[folder]]
    # wait for the SMTP messages to be stored, then expect them by their stored bytes
    deadline = time.monotonic() + 120
    while True:
        m.select("INBOX", readonly=True)
        typ, data = m.uid("SEARCH", "SUBJECT", marker)
        found = data[0].split()
        if len(found) >= args.new or time.monotonic() > deadline:
            break
        time.sleep(1)
    if len(found) != args.new:
        raise SystemExit("only %d of %d messages sent by SMTP arrived" % (len(found), args.new))
    typ, data = m.uid("FETCH", b",".join(found).decode(), "(BODY.PEEK[])")
    present += [["INBOX", digest(p[1]), []] for p in data if isinstance(p, tuple)]
    logout(m)
    return write_expect(args.expect, present, absent)


def change_local(args):
    rnd = random.Random(args.seed)
    local = local_tree(args.dir, args.layout)
    present, absent = [], []
    # new messages dropped into new/ of a few folders, several per folder so that a client that
    # pipelines its APPENDs sends them back to back; sizes up to 2 MB
    # and a new folder deep under an existing one, which the client must create on the server
    targets = ["INBOX", "Sent", "Lists.debian-devel", "Archive.2025.Scans"]
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(folder_dir(args.dir, args.layout, targets[-1]), sub), exist_ok=True)
    for k in range(args.new):
        folder = targets[k % len(targets)]
        size = [0, 120, 3000, 40_000, 700_000, 2_000_000][k % 6]
        raw = message(rnd, args.seed, 200_000 + k, size)
        d = folder_dir(args.dir, args.layout, folder)
        name = "%d.local%d_%d.hearth" % (BASE_TIME + k, args.seed, k)
        with open(os.path.join(d, "new", name), "wb") as fh:
            fh.write(raw)
        present.append([folder, digest(raw), []])
    # flags and deletions in folders the server leaves alone
    for folder in LOCAL_SIDE:
        msgs = local[folder]
        picks = rnd.sample(msgs, min(len(msgs), 12))
        for k, (sha, flags, path) in enumerate(picks):
            if k < 4:
                os.unlink(path)
                absent.append(sha)
                continue
            new = set(flags)
            if k % 2:
                new ^= {"\\Seen"}
            else:
                new |= {"\\Flagged", "\\Answered"}
            name = os.path.basename(path).split(":2,")[0] + ":2," + "".join(sorted(LETTER_OF[f] for f in new))
            os.rename(path, os.path.join(os.path.dirname(os.path.dirname(path)), "cur", name))
            present.append([folder, sha, sorted(new)])
    # Neither mbsync nor offlineimap follows a folder renamed on the server: mbsync never removes a
    # non-empty mailbox (man mbsync, Remove), offlineimap never removes folders and would create the
    # old name again. As their users do, forget the local copy of the old name before the next sync.
    if args.forget_renamed:
        import shutil
        for folder in (RENAMED[0] + ".Paid", RENAMED[0]):
            shutil.rmtree(folder_dir(args.dir, args.layout, folder))
    return write_expect(args.expect, present, absent)


def folder_dir(root, layout, folder):
    if layout == "maildir++":
        return maildir_path(root, folder)
    if layout == "named":  # offlineimap with sep = . keeps the dotted name whole, one directory
        return os.path.join(root, folder)
    raise SystemExit("no folders in layout " + layout)


def write_expect(path, present, absent):
    with open(path, "w") as fh:
        json.dump({"present": present, "absent": absent}, fh)
    return {"present": len(present), "absent": len(absent)}


def unmet(server, expect_files):
    """What the changes' records expect of the server's final tree and it lacks."""
    problems = []
    everything = {sha for msgs in server.values() for sha, _, _ in msgs}
    for path in expect_files:
        with open(path) as fh:
            e = json.load(fh)
        for folder, sha, flags in e["present"]:
            have = [f for s, f, _ in server.get(folder, []) if s == sha]
            if tuple(flags) not in have:
                problems.append("expected in %s with flags (%s): %s; found with %s" % (
                    folder, " ".join(flags), sha[:16], have or "nothing there"))
        for sha in e["absent"]:
            if sha in everything:
                problems.append("expected gone, still there: %s" % sha[:16])
    return problems


def fetch_cert(args):
    """The store's certificate, PEM, for the clients to pin (it is self-signed)."""
    pem = ssl.get_server_certificate((args.host, args.port))
    with open(args.out, "w") as fh:
        fh.write(pem)
    der = ssl.PEM_cert_to_DER_cert(pem)
    md5 = hashlib.md5(der).hexdigest().upper()
    return {"md5_colons": ":".join(md5[i:i + 2] for i in range(0, 32, 2)), "sha1": hashlib.sha1(der).hexdigest(), "sha256": hashlib.sha256(der).hexdigest(),
            "sha512": hashlib.sha512(der).hexdigest()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("--count", type=int, default=1000)
    mk.add_argument("--seed", type=int, required=True)
    mk.add_argument("--out", required=True)
    cert = sub.add_parser("cert")
    cert.add_argument("--host", required=True)
    cert.add_argument("--port", type=int, required=True)
    cert.add_argument("--out", required=True)
    for name in ("upload", "compare-imap", "change-server", "change-local"):
        s = sub.add_parser(name)
        s.add_argument("--host", required=True)
        s.add_argument("--port", type=int, required=True)
        mode = s.add_mutually_exclusive_group(required=True)
        mode.add_argument("--starttls", action="store_true")
        mode.add_argument("--tls", action="store_true")
        s.add_argument("--user", required=True)
        s.add_argument("--password-file", required=True)
        s.add_argument("--layout", default="maildir++", choices=["maildir++", "named", "flat"])
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--new", type=int, default=30, help="messages to add (change-*)")
        s.add_argument("--forget-renamed", action="store_true",
                       help="change-local: delete the local copy of the folder change-server renames")
        s.add_argument("--smtp-host")
        s.add_argument("--smtp-port", type=int, default=25)
        s.add_argument("--expect", action="append",
                       help="change-*: where to write what the other side must end with; compare-imap: such files to check")
        s.add_argument("--ignore-header", action="append", default=[],
                       help="a header the client adds (mbsync: X-TUID), left out of both sides' digests")
        s.add_argument("dir", nargs="?")
    args = p.parse_args()
    STRIP.extend(h.lower().encode() for h in getattr(args, "ignore_header", []))
    if args.command.startswith("change-"):
        args.expect = args.expect[0]
    started = time.monotonic()
    if args.command == "make":
        result = make(args.count, args.seed, args.out)
    elif args.command == "upload":
        result = upload(args)
    elif args.command == "compare-imap":
        result = compare_imap(args)
    elif args.command == "change-server":
        result = change_server(args)
    elif args.command == "change-local":
        result = change_local(args)
    else:
        result = fetch_cert(args)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=1))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
