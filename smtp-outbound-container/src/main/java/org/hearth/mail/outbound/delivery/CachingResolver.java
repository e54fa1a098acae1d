package org.hearth.mail.outbound.delivery;

import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The answers of the resolver the appliance names, kept for as long as their records say (RFC 1035
 * TTLs; a negative answer by its SOA, RFC 2308), at most ten minutes: a delivery asks for a domain's MX
 * hosts, their addresses, its MTA-STS record and whether DNSSEC signs them, and without this every
 * message to one domain asked all of it again — more of a delivery's time than its SMTP session.
 * A failure the server answered with (SERVFAIL, REFUSED) is kept for {@link #FAILURE_TTL}, as RFC 9520
 * asks of resolvers, so a broken zone is not asked again for every message; no answer at all (a
 * timeout) is not kept. What is handed out is a copy whose TTLs count down, so whoever caches it
 * further (the DNSSEC validator's keys) cannot keep a record longer than its owner allowed.
 */
public final class CachingResolver extends ForwardingResolver {

    /** Short of what TTLs allow: one bad answer (spoofed, or a zone's mistake) is not served for longer than this. */
    static final Duration MAX_TTL = Duration.ofMinutes(10);
    static final Duration FAILURE_TTL = Duration.ofSeconds(5);
    /** Enough for every destination a home sends to in an hour; an entry is a few hundred bytes. */
    private static final int ENTRIES = 1024;

    private final InstantSource clock;
    private final Map<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
            return size() > ENTRIES;
        }
    };

    public CachingResolver(Resolver wire, InstantSource clock) {
        super(wire);
        this.clock = clock;
    }

    /**
     * What makes two questions the same: the name, type and class, whether the asker checks
     * signatures itself (CD), and whether the question itself asks for them (DO in its own OPT).
     */
    private record Key(Name name, int type, int dclass, boolean checkingDisabled, boolean dnssecOk) {
    }

    private record Entry(Message answer, Instant received, Instant expires) {
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        return answer(query, () -> behind.sendAsync(query, executor));
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query) {
        return answer(query, () -> behind.sendAsync(query));
    }

    private CompletionStage<Message> answer(Message query, Supplier<CompletionStage<Message>> ask) {
        Record question = query.getQuestion();
        if (question == null) {
            return ask.get();
        }
        Key key = new Key(question.getName(), question.getType(), question.getDClass(),
                query.getHeader().getFlag(Flags.CD), query.getOPT() != null && (query.getOPT().getFlags() & ExtendedFlags.DO) != 0);
        Instant now = clock.instant();
        synchronized (entries) {
            Entry hit = entries.get(key);
            if (hit != null && now.isBefore(hit.expires()) && !now.isBefore(hit.received())) {
                return CompletableFuture.completedFuture(aged(hit, now, query.getHeader().getID()));
            }
            entries.remove(key);
        }
        return ask.get().thenApply(answer -> {
            Instant received = clock.instant();
            Duration keep = lifetime(answer);
            if (!keep.isZero()) {
                synchronized (entries) {
                    entries.put(key, new Entry(answer.clone(), received, received.plus(keep)));
                }
            }
            return answer;
        });
    }

    /** How long an answer may be used: its records' shortest TTL, a negative answer's SOA minimum, a failure briefly. */
    static Duration lifetime(Message answer) {
        int rcode = answer.getRcode();
        if (rcode == Rcode.SERVFAIL || rcode == Rcode.REFUSED) {
            return FAILURE_TTL;
        }
        if ((rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) || answer.getHeader().getFlag(Flags.TC)) {
            return Duration.ZERO;
        }
        long seconds = MAX_TTL.toSeconds();
        int asked = answer.getQuestion() == null ? -1 : answer.getQuestion().getType();
        boolean found = false;
        for (Record r : answer.getSection(Section.ANSWER)) {
            seconds = Math.min(seconds, r.getTTL());
            found |= r.getType() == asked;
        }
        if (rcode == Rcode.NXDOMAIN || !found) {
            // RFC 2308 §5: a negative answer (a CNAME chain ending in nothing too) lives as long as the
            // SOA's own TTL or its minimum field, whichever is less; without an SOA it is not kept.
            long negative = 0;
            for (Record r : answer.getSection(Section.AUTHORITY)) {
                if (r instanceof SOARecord soa) {
                    negative = Math.min(soa.getTTL(), soa.getMinimum());
                }
            }
            seconds = Math.min(seconds, negative);
        }
        return Duration.ofSeconds(Math.max(0, seconds));
    }

    /** A copy of a kept answer for the query with {@code id}, every TTL lowered by the time it was kept. */
    private static Message aged(Entry entry, Instant now, int id) {
        // A wall clock set back must not lengthen a TTL.
        long elapsed = Math.max(0, Duration.between(entry.received(), now).toSeconds());
        Message copy = entry.answer().clone();
        copy.getHeader().setID(id);
        for (int section : new int[]{Section.ANSWER, Section.AUTHORITY, Section.ADDITIONAL}) {
            List<Record> records = new ArrayList<>(copy.getSection(section));
            copy.removeAllRecords(section);
            for (Record r : records) {
                // The OPT pseudo-record's TTL field holds EDNS flags, not a lifetime.
                copy.addRecord(r.getType() == Type.OPT || elapsed == 0 ? r : Record.newRecord(r.getName(), r.getType(),
                        r.getDClass(), Math.max(0, r.getTTL() - elapsed), r.rdataToWireCanonical()), section);
            }
        }
        return copy;
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        // Answers with and without DNSSEC records differ: asking differently starts afresh.
        synchronized (entries) {
            entries.clear();
        }
        super.setEDNS(version, payloadSize, flags, options);
    }

    @Override
    public String toString() {
        return "CachingResolver(" + behind + ")";
    }
}
