package org.hearth.mail.outbound.delivery;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

/** The answer cache against a real authoritative server (Knot DNS), every question that reaches the wire counted. */
class CachingResolverTest {

    private static final String ZONE = KnotServer.testZone(
            "mx.b   A   127.0.0.11",
            "short  30  A 127.0.0.12");

    @TempDir
    static Path dir;
    private static KnotServer knot;
    private static KnotServer signed;

    private Instant now;
    private final InstantSource clock = () -> now;

    @BeforeAll
    static void startDns() throws Exception {
        knot = KnotServer.start(dir.resolve("plain"), "test.", ZONE);
        signed = KnotServer.start(dir.resolve("signed"), "test.", ZONE, true);
    }

    @AfterAll
    static void stopDns() throws Exception {
        knot.close();
        signed.close();
    }

    @BeforeEach
    void startOfTime() {
        now = Instant.parse("2026-12-02T00:00:00Z");
    }

    @Test
    void anAnswerIsKeptForItsTtlCountingDownThenAskedAgain() throws Exception {
        Counting wire = new Counting(knot.resolver(Duration.ofSeconds(2)));
        CachingResolver cache = new CachingResolver(wire, clock);

        Message first = cache.send(query("mx.b.test.", Type.A));
        now = now.plusSeconds(45);
        Message kept = cache.send(query("mx.b.test.", Type.A));
        assertThat(wire.asked).containsExactly("mx.b.test./A");
        assertThat(first.getSection(Section.ANSWER).get(0).getTTL()).isEqualTo(60);
        assertThat(kept.getSection(Section.ANSWER).get(0).getTTL()).isEqualTo(15);
        assertThat(kept.getSection(Section.ANSWER).get(0).rdataToString()).isEqualTo("127.0.0.11");

        now = now.plusSeconds(15);
        cache.send(query("mx.b.test.", Type.A));
        assertThat(wire.asked).containsExactly("mx.b.test./A", "mx.b.test./A");
    }

    @Test
    void eachRecordSetLivesByItsOwnTtl() throws Exception {
        Counting wire = new Counting(knot.resolver(Duration.ofSeconds(2)));
        CachingResolver cache = new CachingResolver(wire, clock);
        cache.send(query("short.test.", Type.A));
        cache.send(query("mx.b.test.", Type.A));
        now = now.plusSeconds(31);
        cache.send(query("short.test.", Type.A));
        cache.send(query("mx.b.test.", Type.A));
        assertThat(wire.asked).containsExactly("short.test./A", "mx.b.test./A", "short.test./A");
    }

    @Test
    void aNegativeAnswerLivesByItsSoaAndAFailureOnlyBriefly() throws Exception {
        Counting wire = new Counting(knot.resolver(Duration.ofSeconds(2)));
        CachingResolver cache = new CachingResolver(wire, clock);
        // The SOA of the test zone: TTL 60, minimum 60.
        assertThat(cache.send(query("gone.test.", Type.A)).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        // Knot refuses a zone it does not serve: a failure, kept 5 s (RFC 9520) so a broken zone is not asked per message.
        assertThat(cache.send(query("elsewhere.example.", Type.MX)).getRcode()).isEqualTo(Rcode.REFUSED);
        now = now.plusSeconds(4);
        cache.send(query("gone.test.", Type.A));
        cache.send(query("elsewhere.example.", Type.MX));
        assertThat(wire.asked).containsExactly("gone.test./A", "elsewhere.example./MX");
        now = now.plusSeconds(2);
        cache.send(query("gone.test.", Type.A));
        cache.send(query("elsewhere.example.", Type.MX));
        assertThat(wire.asked).containsExactly("gone.test./A", "elsewhere.example./MX", "elsewhere.example./MX");
    }

    @Test
    void theAnswerCarriesTheQuestionsIdAndChangingItChangesNothingKept() throws Exception {
        CachingResolver cache = new CachingResolver(knot.resolver(Duration.ofSeconds(2)), clock);
        cache.send(query("mx.b.test.", Type.A));
        Message q = query("mx.b.test.", Type.A);
        Message answer = cache.send(q);
        assertThat(answer.getHeader().getID()).isEqualTo(q.getHeader().getID());
        answer.removeAllRecords(Section.ANSWER);
        assertThat(cache.send(query("mx.b.test.", Type.A)).getSection(Section.ANSWER)).hasSize(1);
    }

    @Test
    void dnssecStillValidatesOnKeptAnswersAndAForgedAnchorStillFails() throws Exception {
        Counting wire = new Counting(signed.resolver(Duration.ofSeconds(2)));
        ValidatingResolver validating = validating(new CachingResolver(wire, clock), signed.trustAnchors("test."));
        for (int i = 0; i < 3; i++) {
            Message m = validating.send(query("mx.b.test.", Type.A));
            assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(m.getHeader().getFlag(Flags.AD)).as("validated, ask %d", i).isTrue();
            // Later asks get kept answers rebuilt with lower TTLs: their signatures must still check out.
            now = now.plusSeconds(10);
        }
        // The first validation asked the wire; the next two were answered from what was kept.
        int firstRound = wire.asked.size();
        assertThat(wire.asked.stream().filter(a -> a.equals("mx.b.test./A")).count()).isEqualTo(1);
        assertThat(firstRound).isGreaterThan(1);

        ValidatingResolver wrongAnchor = validating(new CachingResolver(signed.resolver(Duration.ofSeconds(2)), clock),
                "test. 60 IN DS 1 13 2 " + "00".repeat(32) + "\n");
        wrongAnchor.send(query("mx.b.test.", Type.A));
        Message again = wrongAnchor.send(query("mx.b.test.", Type.A));
        assertThat(again.getRcode()).isEqualTo(Rcode.SERVFAIL);
        assertThat(again.getHeader().getFlag(Flags.AD)).isFalse();
    }

    @Test
    void questionsThatDifferInCheckingDisabledAreAskedApartAndAKeptAnswerCannotBeChangedFromOutside() throws Exception {
        Counting wire = new Counting(knot.resolver(Duration.ofSeconds(2)));
        CachingResolver cache = new CachingResolver(wire, clock);
        Message first = cache.send(query("mx.b.test.", Type.A));
        first.removeAllRecords(Section.ANSWER);
        Message unchecked = query("mx.b.test.", Type.A);
        unchecked.getHeader().setFlag(Flags.CD);
        cache.send(unchecked);
        assertThat(wire.asked).containsExactly("mx.b.test./A", "mx.b.test./A");
        assertThat(cache.send(query("mx.b.test.", Type.A)).getSection(Section.ANSWER)).hasSize(1);
    }

    @Test
    void noAnswerIsKeptLongerThanTenMinutes() throws Exception {
        Message answer = query("long.test.", Type.A);
        answer.getHeader().setFlag(Flags.QR);
        answer.addRecord(org.xbill.DNS.Record.fromString(Name.fromString("long.test."), Type.A, DClass.IN, 86400,
                "127.0.0.1", Name.root), Section.ANSWER);
        assertThat(CachingResolver.lifetime(answer)).isEqualTo(Duration.ofMinutes(10));
    }

    private static ValidatingResolver validating(Resolver head, String anchors) throws Exception {
        head.setEDNS(0, 4096, Flags.DO);
        ValidatingResolver v = new ValidatingResolver(head);
        v.loadTrustAnchors(new ByteArrayInputStream(anchors.getBytes(StandardCharsets.US_ASCII)));
        return v;
    }

    private static Message query(String name, int type) throws Exception {
        return Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromString(name), type, DClass.IN));
    }

    /** The real resolver, each question it is asked written down. */
    private static final class Counting extends ForwardingResolver {
        final List<String> asked = new ArrayList<>();

        Counting(SimpleResolver wire) {
            super(wire);
        }

        @Override
        public CompletionStage<Message> sendAsync(Message query, Executor executor) {
            note(query);
            return super.sendAsync(query, executor);
        }

        @Override
        public CompletionStage<Message> sendAsync(Message query) {
            note(query);
            return super.sendAsync(query);
        }

        private synchronized void note(Message query) {
            asked.add(query.getQuestion().getName() + "/" + Type.string(query.getQuestion().getType()));
        }
    }
}
