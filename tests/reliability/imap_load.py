#!/usr/bin/env python3
"""Usage: imap_load.py HOST:PORT USER PASSWORD [--starttls] [--clients 6] [--seconds 180] [--messages 120]
                      [--window 4] [--session-commands 250] [--churn] [--no-idle] [--seed N]

A bounded IMAP load that counts protocol violations. CLIENTS connections work on the same INBOX for
SECONDS: each keeps up to WINDOW commands in flight (UID FETCH of bodies and headers, FETCH/UID
FETCH of flags, UID STORE +FLAGS/-FLAGS of its own keyword, NOOP, CHECK, UID SEARCH), sometimes
IDLEs, and ends every session with LOGOUT before reconnecting. With --churn one more client
APPENDs, flags \\Deleted and EXPUNGEs all the time, so the others see EXISTS/EXPUNGE mid-stream.
Responses are read raw (no imaplib: it hides ordering) and checked strictly. Prints one JSON
document; exit status 1 when any violation was counted.

What counts as a violation (RFC 3501; RFC 9051 says the same in its sections 2.2.2, 5.5, 7):
  malformed           a response that is not one of the response forms of RFC 3501 section 7 / 9
                      (bad syntax, unbalanced parentheses, text after a FETCH list, bare LF)
  unknown-tag         a tagged response whose tag is not in progress: never sent or already
                      completed (section 2.2.2: one completion result per command, with its tag)
  late-body           message text (BODY[...] data) for a UID that no FETCH in progress asked for:
                      the data of a command comes before its completion result (section 2.2.2,
                      7.4.2); body data after the tagged OK is the "FETCH out of order" of issue #21
  missing-body        a UID FETCH of bodies completed OK without the body of a UID that was not
                      expunged (section 6.4.5; not counted with --churn, RFC 2180 allows it there)
  body-corrupt        a body whose X-Load-Body-SHA256 header does not match its bytes, or whose
                      literal is shorter than announced (section 4.3: the octet count is exact)
  stale-flags         FLAGS of a message that show this client's keyword as before a STORE whose
                      OK was already received, with no STORE on that message in progress (the
                      client never pipelines STORE and FETCH of the same message: section 5.5)
  expunge-forbidden   an EXPUNGE while only FETCH/STORE/SEARCH (non-UID) commands are in progress,
                      or while no command is (section 7.4.1)
  msn-out-of-range    a FETCH or EXPUNGE for a sequence number above the messages announced so far by
                      EXISTS/EXPUNGE (section 5.2: size changes are announced; 2.3.1.2, 7.4.1)
  nonpositive-msn     "* -1 EXPUNGE" and the like: the grammar (section 9) allows only nz-number
  unexpected-continuation  a "+" when no IDLE waits for one (section 7.5)
  logout-without-bye  the connection closed after LOGOUT without "* BYE" (section 6.1.3: "The
                      server MUST send a BYE untagged response before the (tagged) OK response,
                      and then close the network connection")
  logout-without-ok   the connection closed after LOGOUT without its tagged OK (section 6.1.3)
  unexpected-close    the connection closed while commands were in progress, not after LOGOUT
Also counted, not violations: NO/BAD results (failed), and commands that took over 30 s (slow).
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import ssl
import sys
import time

TIMEOUT_S = 30


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the store's certificate is self-signed
    return ctx


class Malformed(Exception):
    pass


class Closed(Exception):
    pass


# ---------------------------------------------------------------- reading and parsing responses

async def read_response(reader):
    """One whole response: a line, and for each literal announced at its end, the literal and the
    rest of the response. Returns the raw bytes exactly as sent."""
    raw = b""
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError as e:
            if raw or e.partial:
                raise Malformed("connection closed inside a response: %r" % (raw + e.partial)[-200:])
            raise Closed()
        raw += line
        m = re.search(rb"\{(\d+)\}\r\n$", line)
        if not m:
            return raw
        try:
            raw += await reader.readexactly(int(m.group(1)))
        except asyncio.IncompleteReadError as e:
            raise Malformed("literal of %s octets cut after %d" % (m.group(1).decode(), len(e.partial)))


class Parser:
    """Values of RFC 3501's response grammar: atoms, numbers, quoted strings, literals, NIL,
    parenthesised lists; an atom may carry [section] and <origin> as fetch-att names do."""

    def __init__(self, raw, pos):
        self.raw, self.pos = raw, pos

    def peek(self):
        return self.raw[self.pos:self.pos + 1]

    def expect(self, text):
        if not self.raw.startswith(text, self.pos):
            raise Malformed("expected %r at %d: %r" % (text, self.pos, self.raw[self.pos:self.pos + 60]))
        self.pos += len(text)

    def value(self):
        c = self.peek()
        if c == b"(":
            return self.list()
        if c == b'"':
            return self.quoted()
        if c == b"{":
            return self.literal()
        return self.atom()

    def list(self):
        self.expect(b"(")
        items = []
        while self.peek() != b")":
            if items:
                self.expect(b" ")
            items.append(self.value())
        self.expect(b")")
        return items

    def quoted(self):
        self.expect(b'"')
        out = bytearray()
        while True:
            c = self.peek()
            if c in (b"", b"\r", b"\n"):
                raise Malformed("unterminated quoted string")
            self.pos += 1
            if c == b'"':
                return bytes(out)
            if c == b"\\":
                c = self.peek()
                self.pos += 1
            out += c

    def literal(self):
        m = re.compile(rb"\{(\d+)\}\r\n").match(self.raw, self.pos)
        if not m:
            raise Malformed("bad literal header at %d" % self.pos)
        n = int(m.group(1))
        start = m.end()
        if start + n > len(self.raw):
            raise Malformed("literal shorter than announced")
        self.pos = start + n
        return self.raw[start:start + n]

    def atom(self):
        start = self.pos
        while True:
            c = self.peek()
            if c == b"[":
                end = self.raw.find(b"]", self.pos)
                if end < 0 or b"\r" in self.raw[self.pos:end]:
                    raise Malformed("unterminated section")
                self.pos = end + 1
            elif c == b"<":
                end = self.raw.find(b">", self.pos)
                if end < 0:
                    raise Malformed("unterminated origin")
                self.pos = end + 1
            elif c == b"" or c in b' ()"{\r\n':
                break
            else:
                self.pos += 1
        if self.pos == start:
            raise Malformed("empty atom at %d: %r" % (start, self.raw[start:start + 40]))
        return self.raw[start:self.pos].decode("latin-1")


TAGGED = re.compile(rb"([A-Za-z0-9]+) (OK|NO|BAD)( [^\r\n]*)?\r\n")
STATUS = re.compile(rb"\* (OK|NO|BAD|BYE|PREAUTH)( [^\r\n]*)?\r\n")
NUMBERED = re.compile(rb"\* (-?\d+) (EXISTS|RECENT|EXPUNGE)\r\n")
FETCH_START = re.compile(rb"\* (\d+) FETCH ")
DATA = re.compile(rb"\* (CAPABILITY|FLAGS|LIST|LSUB|SEARCH|STATUS|ENABLED|NAMESPACE|ID|QUOTA|QUOTAROOT|ESEARCH|VANISHED|MYRIGHTS|ACL|METADATA)\b")
FETCH_ITEMS = re.compile(r"(UID|FLAGS|RFC822\.SIZE|INTERNALDATE|ENVELOPE|BODYSTRUCTURE|BODY|MODSEQ|RFC822|RFC822\.HEADER|RFC822\.TEXT|EMAILID|THREADID|SAVEDATE|BODY\[[^\]]*\](<\d+>)?|BINARY(\.SIZE)?\[[^\]]*\](<\d+>)?)$")


def parse(raw):
    """(kind, fields): kind is tagged, continuation, status, numbered, fetch or data."""
    if b"\n" in raw.replace(b"\r\n", b"") and not re.search(rb"\{\d+\}\r\n", raw):
        raise Malformed("bare line feed")
    m = TAGGED.fullmatch(raw)
    if m:
        return "tagged", {"tag": m.group(1).decode(), "result": m.group(2).decode()}
    if raw.startswith(b"+"):
        if not re.fullmatch(rb"\+( [^\r\n]*)?\r\n", raw):
            raise Malformed("bad continuation")
        return "continuation", {}
    m = STATUS.fullmatch(raw)
    if m:
        return "status", {"status": m.group(1).decode()}
    m = NUMBERED.fullmatch(raw)
    if m:
        return "numbered", {"n": int(m.group(1)), "what": m.group(2).decode()}
    m = FETCH_START.match(raw)
    if m:
        p = Parser(raw, m.end())
        items = p.list()
        p.expect(b"\r\n")
        if p.pos != len(raw):
            raise Malformed("text after a FETCH response")
        if len(items) % 2:
            raise Malformed("odd number of FETCH items")
        fields = {}
        for name, value in zip(items[::2], items[1::2]):
            if not isinstance(name, str) or not FETCH_ITEMS.match(name.upper()):
                raise Malformed("unknown FETCH item %r" % (name,))
            fields[name.upper()] = value
        return "fetch", {"n": int(m.group(1)), "items": fields}
    m = DATA.match(raw)
    if m:
        p = Parser(raw, m.end())
        while p.peek() == b" ":
            p.pos += 1
            p.value()
        p.expect(b"\r\n")
        if p.pos != len(raw):
            raise Malformed("text after a %s response" % m.group(1).decode())
        return "data", {"what": m.group(1).decode(), "raw": raw}
    raise Malformed("not an IMAP response")


# ---------------------------------------------------------------- messages

def make_message(i):
    size = random.choice([600, 3_000, 9_000, 20_000, 70_000])
    lines = ["load line %d %s" % (i, os.urandom(24).hex()) for _ in range(size // 70 + 1)]
    body = ("\r\n".join(lines) + "\r\n").encode()
    head = ("From: load@d.example\r\nTo: load@d.example\r\nSubject: load %d\r\nMessage-ID: <load-%d-%s@d.example>\r\n"
            "X-Load-Body-SHA256: %s\r\n\r\n" % (i, i, os.urandom(6).hex(), hashlib.sha256(body).hexdigest()))
    return head.encode() + body


def body_ok(content):
    cut = content.find(b"\r\n\r\n")
    m = re.search(rb"X-Load-Body-SHA256: ([0-9a-f]{64})", content[:cut if cut >= 0 else 0])
    return m is None or hashlib.sha256(content[cut + 4:]).hexdigest() == m.group(1).decode()


# ---------------------------------------------------------------- one client

class Stats:
    def __init__(self):
        self.counts = {}
        self.violations = {}
        self.samples = []

    def count(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    def violation(self, kind, detail):
        self.violations[kind] = self.violations.get(kind, 0) + 1
        if self.violations[kind] <= 4 and len(self.samples) < 40:
            self.samples.append({"kind": kind, "at": round(time.monotonic() - START, 3), "detail": detail[:600]})


class Command:
    def __init__(self, tag, kind, text, body_uids=(), store=None, flags_uids=None):
        self.tag, self.kind, self.text = tag, kind, text
        self.body_uids = set(body_uids)   # UIDs whose body this command asked for
        self.got_bodies = set()
        self.store = store                # (uid, keyword set after it) for UID STORE
        self.flags_uids = flags_uids      # UIDs whose FLAGS it reads; None means all
        self.sent = time.monotonic()


class Session:
    """One connection: LOGIN, SELECT INBOX, commands, LOGOUT."""

    def __init__(self, client, reader, writer):
        self.client, self.reader, self.writer = client, reader, writer
        self.stats = client.stats
        self.outstanding = {}
        self.next_tag = 0
        self.exists = None
        self.uids = []            # UID by sequence number (None where unknown)
        self.idling = False
        self.logout_tag = None
        self.saw_bye = False
        self.recent = []

    # -- sending
    def send(self, kind, text, **kw):
        self.next_tag += 1
        tag = "%s%d" % (self.client.prefix, self.next_tag)
        cmd = Command(tag, kind, text, **kw)
        self.outstanding[tag] = cmd
        self.writer.write(("%s %s\r\n" % (tag, text)).encode())
        self.stats.count("cmd:" + kind)
        return cmd

    async def complete(self, cmd):
        while cmd.tag in self.outstanding:
            await self.one()
        return cmd.result

    async def drain(self):
        while self.outstanding:
            await self.one()

    # -- receiving
    async def one(self):
        try:
            raw = await asyncio.wait_for(read_response(self.reader), TIMEOUT_S)
        except asyncio.TimeoutError:
            self.stats.count("timeout")
            raise Closed("no response in %d s, waiting for %s" % (TIMEOUT_S, sorted(self.outstanding)))
        except Malformed as e:
            self.stats.violation("malformed", "%s; last responses: %r" % (e, self.recent[-3:]))
            raise Closed(str(e))
        except Closed:
            self.closed()
            raise
        self.recent = (self.recent + [raw[:160]])[-6:]
        self.stats.count("responses")
        try:
            kind, f = parse(raw)
        except Malformed as e:
            self.stats.violation("malformed", "%s: %r; before: %r" % (e, raw[:300], self.recent[-4:-1]))
            return
        getattr(self, "on_" + kind)(raw, f)

    def closed(self):
        if self.logout_tag is not None:
            if not self.saw_bye:
                self.stats.violation("logout-without-bye", "closed after LOGOUT; last responses: %r" % self.recent[-3:])
            if self.logout_tag in self.outstanding:
                self.stats.violation("logout-without-ok", "closed before the tagged LOGOUT reply; last: %r" % self.recent[-3:])
            others = [t for t in self.outstanding if t != self.logout_tag]
            if others:
                self.stats.violation("unexpected-close", "closed at LOGOUT with %s unanswered" % others)
        else:
            self.stats.violation("unexpected-close", "in progress: %s; last: %r" % (sorted(self.outstanding), self.recent[-3:]))

    def on_tagged(self, raw, f):
        cmd = self.outstanding.pop(f["tag"], None)
        if cmd is None:
            self.stats.violation("unknown-tag", "%r; in progress: %s; before: %r" % (raw, sorted(self.outstanding), self.recent[-4:-1]))
            return
        cmd.result = f["result"]
        if cmd.store and cmd.result != "OK":
            # A failed STORE may or may not have changed the flags: nothing is known until the next one.
            self.client.keyword_state.pop(cmd.store[0], None)
            self.client.last_store[cmd.store[0]] = "%s %s -> %s" % (cmd.tag, cmd.text, cmd.result)
        if time.monotonic() - cmd.sent > TIMEOUT_S:
            self.stats.count("slow")
        if cmd.result != "OK":
            self.stats.count("failed:" + cmd.kind)
            if len(self.stats.samples) < 25 and not self.client.churn_running:
                self.stats.samples.append({"kind": "failed", "detail": raw.decode("latin-1")[:300]})
            return
        if cmd.store:
            uid, state = cmd.store
            self.client.keyword_state[uid] = state
            self.client.last_store[uid] = "%s %s -> OK" % (cmd.tag, cmd.text)
        missing = cmd.body_uids - cmd.got_bodies
        if missing and not self.client.churn_running:
            self.stats.violation("missing-body", "%s %s completed without %s" % (cmd.tag, cmd.text, sorted(missing)))

    def on_continuation(self, raw, f):
        if not self.idling:
            self.stats.violation("unexpected-continuation", "%r with %s in progress" % (raw, sorted(self.outstanding)))
        else:
            self.idle_ready = True

    def on_status(self, raw, f):
        if f["status"] == "BYE":
            self.saw_bye = True

    def on_data(self, raw, f):
        if f["what"] == "SEARCH":
            self.search_result = [int(x) for x in raw.split()[2:]]

    def on_numbered(self, raw, f):
        n, what = f["n"], f["what"]
        if n < 0 or (n == 0 and what == "EXPUNGE"):
            self.stats.violation("nonpositive-msn", "%r" % raw)
            return
        if what == "EXISTS":
            if self.exists is not None and n > self.exists:
                self.uids += [None] * (n - len(self.uids))
            self.exists = n
        elif what == "EXPUNGE":
            kinds = {c.kind for c in self.outstanding.values()}
            if not self.idling and (not kinds or kinds <= {"fetch-flags-msn", "store-msn"}):
                self.stats.violation("expunge-forbidden", "%r while %s in progress" % (raw, sorted(self.outstanding)))
            if self.exists is not None and n > self.exists:
                self.stats.violation("msn-out-of-range", "%r with %d messages" % (raw, self.exists))
            if self.exists:
                self.exists -= 1
            if 0 < n <= len(self.uids):
                del self.uids[n - 1]

    def on_fetch(self, raw, f):
        n, items = f["n"], f["items"]
        self.stats.count("fetch-responses")
        if self.exists is not None and n > self.exists:
            self.stats.violation("msn-out-of-range", "* %d FETCH with %d messages: %r" % (n, self.exists, raw[:120]))
        uid = int(items["UID"]) if "UID" in items else (self.uids[n - 1] if 0 < n <= len(self.uids) else None)
        if "UID" in items and 0 < n <= len(self.uids):
            self.uids[n - 1] = uid
        for name, value in items.items():
            if name.startswith("BODY["):
                self.on_body(raw, uid, name, value)
        if "FLAGS" in items and uid is not None:
            self.check_flags(raw, uid, items["FLAGS"])

    def on_body(self, raw, uid, name, value):
        waiting = [c for c in self.outstanding.values() if uid in c.body_uids and uid not in c.got_bodies]
        if not waiting:
            self.stats.violation("late-body", "%s of UID %s with no FETCH of it in progress (%s); head %r; before: %r"
                                 % (name, uid, sorted(self.outstanding), raw[:100], self.recent[-4:-1]))
            return
        waiting[0].got_bodies.add(uid)
        self.stats.count("bodies")
        self.stats.count("body-bytes", len(value) if isinstance(value, bytes) else 0)
        if name == "BODY[]" and (not isinstance(value, bytes) or not body_ok(value)):
            self.stats.violation("body-corrupt", "UID %s: %d octets do not match the digest header" % (uid, len(value or b"")))

    def check_flags(self, raw, uid, flags):
        kw = self.client.keyword
        has = kw.lower() in [x.lower() for x in flags]
        pending = [c.store[1] for c in self.outstanding.values() if c.store and c.store[0] == uid]
        known = self.client.keyword_state.get(uid)
        if known is None or pending:
            return
        if has != known:
            self.stats.violation("stale-flags", "UID %s shows %s %s after a completed STORE (last: %s); %r"
                                 % (uid, kw, "set" if has else "unset", self.client.last_store.get(uid), raw[:160]))
            self.client.keyword_state[uid] = has  # count each lost update once


class Client:
    def __init__(self, number, args, stats, deadline, shared):
        self.number, self.args, self.stats, self.deadline = number, args, stats, deadline
        self.prefix = "c%d" % number if number >= 0 else "w"
        self.keyword = "$Load%d" % number
        self.keyword_state = {}   # UID -> whether this client's keyword is set, after its last STORE
        self.last_store = {}      # UID -> this client's last STORE of it and its result, for reports
        self.shared = shared

    @property
    def churn_running(self):
        return self.args.churn

    async def connect(self):
        host, port = self.args.endpoint
        if self.args.starttls:
            reader, writer = await asyncio.open_connection(host, port)
            greeting = await read_response(reader)
            writer.write(b"s STARTTLS\r\n")
            while not (await read_response(reader)).startswith(b"s "):
                pass
            await writer.start_tls(tls())
        else:
            reader, writer = await asyncio.open_connection(host, port, ssl=tls())
            greeting = await read_response(reader)
        if not greeting.startswith(b"* OK"):
            raise Closed("greeting %r" % greeting)
        s = Session(self, reader, writer)
        login = s.send("login", 'LOGIN %s "%s"' % (self.args.user, self.args.password.replace("\\", "\\\\").replace('"', '\\"')))
        if await s.complete(login) != "OK":
            raise Closed("LOGIN failed")
        if await s.complete(s.send("select", "SELECT INBOX")) != "OK":
            raise Closed("SELECT failed")
        s.search_result = []
        await s.complete(s.send("search", "UID SEARCH ALL"))
        s.uids = list(s.search_result)
        if s.exists is not None and len(s.uids) != s.exists:
            s.uids = [None] * s.exists  # the mailbox changed in between; learn UIDs from responses
        return s

    async def run(self):
        while time.monotonic() < self.deadline:
            try:
                s = await self.connect()
                self.stats.count("sessions")
                await self.session(s)
            except (Closed, ConnectionError, ssl.SSLError, OSError) as e:
                self.stats.count("broken-sessions")
                if len(self.stats.samples) < 25:
                    self.stats.samples.append({"kind": "session-ended", "detail": repr(e)[:300]})
                await asyncio.sleep(0.2)

    def pick(self, s, n):
        known = [u for u in s.uids if u is not None] or self.shared["uids"]
        return random.sample(known, min(n, len(known))) if known else []

    def next_command(self, s):
        """A command that is not ambiguous with those in progress (RFC 3501 section 5.5)."""
        busy_bodies = set().union(*[c.body_uids for c in s.outstanding.values()]) if s.outstanding else set()
        stores = {c.store[0] for c in s.outstanding.values() if c.store}
        flag_readers = [c for c in s.outstanding.values() if c.flags_uids is not None or c.kind.startswith("fetch-flags")]
        r = random.random()
        if r < 0.35:
            uids = [u for u in self.pick(s, 3) if u not in busy_bodies][:random.choice([1, 1, 2, 3])]
            if uids:
                return lambda: s.send("fetch-body", "UID FETCH %s (UID BODY.PEEK[])" % ",".join(map(str, uids)), body_uids=uids)
        elif r < 0.45:
            uids = [u for u in self.pick(s, 2) if u not in busy_bodies][:1]
            if uids:
                return lambda: s.send("fetch-header", "UID FETCH %d (UID BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)])" % uids[0], body_uids=uids)
        elif r < 0.55:
            if not stores:
                if random.random() < 0.5:
                    return lambda: s.send("fetch-flags-msn", "FETCH 1:* (FLAGS)")
                return lambda: s.send("fetch-flags-uid", "UID FETCH 1:* (UID FLAGS RFC822.SIZE)")
        elif r < 0.85:
            uids = [u for u in self.pick(s, 3) if u not in stores][:1]
            if uids and not any(c.kind.startswith("fetch-flags") for c in flag_readers) and \
                    not any(uids[0] in (c.flags_uids or ()) for c in flag_readers):
                uid = uids[0]
                on = not self.keyword_state.get(uid, False)
                return lambda: s.send("store", "UID STORE %d %sFLAGS (%s)" % (uid, "+" if on else "-", self.keyword),
                                      store=(uid, on), flags_uids={uid})
        elif r < 0.93:
            return lambda: s.send("noop", "NOOP")
        elif r < 0.97:
            return lambda: s.send("check", "CHECK")
        else:
            return lambda: s.send("search-uid", "UID SEARCH ALL")
        return None

    async def session(self, s):
        budget = random.randint(1, self.args.session_commands)
        window = self.args.window
        while budget > 0 and time.monotonic() < self.deadline:
            if not s.outstanding and not self.args.no_idle and random.random() < 0.03:
                await self.idle(s)
                budget -= 1
                continue
            sent = False
            while len(s.outstanding) < random.randint(1, window) and budget > 0 and not (window == 1 and s.outstanding):
                make = self.next_command(s)
                if make is None:
                    break
                make()
                budget -= 1
                sent = True
            if sent:
                await s.writer.drain()
            if s.outstanding:
                await s.one()
        if window == 1 or random.random() < 0.5:
            await s.drain()
        await self.logout(s)

    async def idle(self, s):
        cmd = s.send("idle", "IDLE")
        await s.writer.drain()
        s.idling, s.idle_ready = True, False
        while not s.idle_ready:
            await s.one()
        end = time.monotonic() + random.uniform(0.1, 1.5)
        while time.monotonic() < end:
            try:
                await asyncio.wait_for(s.one(), end - time.monotonic())
            except asyncio.TimeoutError:
                break
        s.writer.write(b"DONE\r\n")
        await s.writer.drain()
        await s.complete(cmd)
        s.idling = False

    async def logout(self, s):
        cmd = s.send("logout", "LOGOUT")
        s.logout_tag = cmd.tag
        await s.writer.drain()
        try:
            while True:
                await s.one()
                if not s.outstanding:
                    # RFC 3501 6.1.3: after BYE and OK the server closes; wait for the close.
                    try:
                        await asyncio.wait_for(read_response(s.reader), 10)
                        self.stats.violation("malformed", "data after the LOGOUT reply")
                    except asyncio.TimeoutError:
                        self.stats.count("logout-not-closed")
                    except Closed:
                        pass
                    if not s.saw_bye:
                        self.stats.violation("logout-without-bye", "tagged OK without BYE; last: %r" % s.recent[-3:])
                    self.stats.count("logouts")
                    break
        except Closed:
            self.stats.count("logouts")
        s.writer.close()


class Churn(Client):
    """APPENDs, flags \\Deleted and EXPUNGEs so that the mailbox keeps about MESSAGES messages."""

    async def session(self, s):
        for _ in range(random.randint(10, 40)):
            if time.monotonic() >= self.deadline:
                break
            await append(s, make_message(random.randint(0, 10**6)))
            uids = sorted(u for u in s.uids if u is not None)
            if len(uids) > self.args.messages:
                victim = uids[0]
                await s.complete(s.send("store", "UID STORE %d +FLAGS.SILENT (\\Deleted)" % victim))
                await s.complete(s.send("expunge", "EXPUNGE"))
                self.stats.count("expunged")
            await s.complete(s.send("search-uid", "UID SEARCH ALL"))
            s.uids = list(s.search_result)
            self.shared["uids"] = list(s.uids)
        await self.logout(s)


async def append(s, message):
    s.idling, s.idle_ready = True, False  # a literal's "+" is expected, like IDLE's
    cmd = s.send("append", "APPEND INBOX {%d}" % len(message))
    await s.writer.drain()
    while not s.idle_ready and cmd.tag in s.outstanding:
        await s.one()
    s.idling = False
    if cmd.tag in s.outstanding:
        s.writer.write(message + b"\r\n")
        await s.writer.drain()
        await s.complete(cmd)


async def seed(args, stats):
    c = Client(-1, args, stats, 0, {"uids": []})
    s = await c.connect()
    have = s.exists or 0
    for i in range(have, args.messages):
        await append(s, make_message(i))
    await s.complete(s.send("search-uid", "UID SEARCH ALL"))
    uids = list(s.search_result)
    await c.logout(s)
    return uids


START = time.monotonic()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--messages", type=int, default=120)
    ap.add_argument("--window", type=int, default=4)
    ap.add_argument("--session-commands", type=int, default=250,
                    help="at most this many commands a session before LOGOUT (1-3 with --window 1: imaplib's way)")
    ap.add_argument("--churn", action="store_true")
    ap.add_argument("--no-idle", action="store_true", help="never IDLE")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    host, port = args.endpoint.rsplit(":", 1)
    args.endpoint = (host, int(port))
    args.seconds = min(args.seconds, 600)  # bounded, whatever is asked
    if args.seed is not None:
        random.seed(args.seed)
    stats = Stats()
    uids = await seed(args, stats)
    shared = {"uids": uids}
    deadline = time.monotonic() + args.seconds
    clients = [Client(i, args, stats, deadline, shared) for i in range(args.clients)]
    if args.churn:
        clients.append(Churn(99, args, stats, deadline, shared))
    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(c.run() for c in clients)), args.seconds + 120)
    out = {"endpoint": "%s:%d" % args.endpoint, "starttls": args.starttls, "clients": args.clients,
           "churn": args.churn, "window": args.window, "messages": len(uids),
           "seconds": round(time.monotonic() - started, 1),
           "violations_total": sum(stats.violations.values()), "violations": stats.violations,
           "counts": dict(sorted(stats.counts.items())), "samples": stats.samples}
    print(json.dumps(out, indent=1))
    return 1 if stats.violations else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
