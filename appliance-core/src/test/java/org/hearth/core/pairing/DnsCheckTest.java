package org.hearth.core.pairing;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record set is as published only if every name server of the zone answers it so: a secondary
 * that missed an update answers senders and the CA wrongly. Two small UDP name servers here,
 * answering from what each was given (dnsjava's messages; Knot is PairingTest's).
 */
class DnsCheckTest {

    private static final String NAME = "_dmarc.alice.boxes.test.";
    private static final String POLICY = "\"v=DMARC1; p=reject\"";

    /** Answers every query for {@link #NAME} TXT with {@code data} (none: an empty answer). */
    private static final class NameServer implements AutoCloseable {
        final DatagramSocket socket;
        final Thread thread;

        NameServer(String... data) throws Exception {
            socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                byte[] buffer = new byte[4096];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                        socket.receive(in);
                        Message query = new Message(java.util.Arrays.copyOf(in.getData(), in.getLength()));
                        Message answer = new Message(query.getHeader().getID());
                        answer.getHeader().setFlag(Flags.QR);
                        answer.getHeader().setFlag(Flags.AA);
                        answer.addRecord(query.getQuestion(), Section.QUESTION);
                        for (String d : data) {
                            answer.addRecord(Record.fromString(Name.fromString(NAME), Type.TXT, DClass.IN, 60, d, Name.root),
                                    Section.ANSWER);
                        }
                        byte[] wire = answer.toWire();
                        socket.send(new DatagramPacket(wire, wire.length, in.getSocketAddress()));
                    } catch (Exception closed) {
                        return;
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        String address() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @Test
    void everyServerMustAnswerWhatWasPublished() throws Exception {
        try (NameServer primary = new NameServer(POLICY); NameServer inSync = new NameServer(POLICY);
             NameServer behind = new NameServer()) {
            assertThat(DnsCheck.checkSet(List.of(primary.address(), inSync.address()), NAME, "TXT", List.of(POLICY)).ok()).isTrue();

            DnsCheck.Finding stale = DnsCheck.checkSet(List.of(primary.address(), behind.address()), NAME, "TXT", List.of(POLICY));
            assertThat(stale.ok()).isFalse();
            assertThat(stale.problem()).isEqualTo("MISSING at " + behind.address() + ": expected [" + POLICY + "]");
        }
    }

    @Test
    void aSilentServerIsAFindingAndNoAnswerAtAllCannotCheck() throws Exception {
        String silent;
        try (DatagramSocket unanswered = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            silent = "127.0.0.1:" + unanswered.getLocalPort();
            try (NameServer primary = new NameServer(POLICY)) {
                DnsCheck.Finding oneDown = DnsCheck.checkSet(List.of(primary.address(), silent), NAME, "TXT", List.of(POLICY));
                assertThat(oneDown.ok()).isFalse();
                assertThat(oneDown.problem()).startsWith(silent + " did not answer");
            }
            DnsCheck.Finding none = DnsCheck.checkSet(List.of(silent), NAME, "TXT", List.of(POLICY));
            assertThat(none.problem()).startsWith("cannot check: " + silent + " did not answer");
        }
    }
}
