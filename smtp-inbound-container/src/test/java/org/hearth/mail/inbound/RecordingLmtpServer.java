package org.hearth.mail.inbound;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real LMTP peer on loopback that frames what it receives the way the store does (James's line
 * decoder: a line ends at LF, DATA ends at the first 3-byte line starting with '.'), so anything
 * LmtpClient sends that the store would misread shows up here as a wrong command or message. It
 * records every command line, every committed message (as the raw bytes between 354 and the end
 * line) and every raw byte of every connection; or, for messages too big to keep twice, only a
 * digest of each ({@link #digesting()}).
 */
final class RecordingLmtpServer implements AutoCloseable {

    /** A committed message as the store would keep it (dot-unstuffed): its length, SHA-256 and first bytes. */
    record Digest(long length, String sha256, String head) {
    }

    private static final int HEAD_BYTES = 4096;

    private final ServerSocket server;
    private final List<String> dataReplies;
    private final boolean keepBytes;
    private final String dataCommandReply;
    private final List<Digest> digests = new CopyOnWriteArrayList<>();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<byte[]> messages = new CopyOnWriteArrayList<>();
    private final List<ByteArrayOutputStream> connections = new CopyOnWriteArrayList<>();

    /** Answers 250 for every recipient of every message. */
    RecordingLmtpServer() throws IOException {
        this(List.of());
    }

    /** Answers each DATA with these reply lines (one per recipient) instead of 250s. */
    RecordingLmtpServer(List<String> dataReplies) throws IOException {
        this(dataReplies, true, "354 go ahead");
    }

    /** Keeps no bytes, only commands and a {@link Digest} per committed message. */
    static RecordingLmtpServer digesting() throws IOException {
        return new RecordingLmtpServer(List.of(), false, "354 go ahead");
    }

    /** Keeps no bytes and answers every DATA command with this refusal, as a store out of room would. */
    static RecordingLmtpServer refusingData(String reply) throws IOException {
        return new RecordingLmtpServer(List.of(), false, reply);
    }

    private RecordingLmtpServer(List<String> dataReplies, boolean keepBytes, String dataCommandReply) throws IOException {
        this.dataReplies = dataReplies;
        this.keepBytes = keepBytes;
        this.dataCommandReply = dataCommandReply;
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "recording-lmtp");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return InetSocketAddress.createUnresolved("127.0.0.1", server.getLocalPort());
    }

    /** Every command line received, without its line end, in order. */
    List<String> commands() {
        return List.copyOf(commands);
    }

    /** The committed messages: raw bytes between 354 and the end-of-data line, still dot-stuffed. */
    List<String> messages() {
        return messages.stream().map(m -> new String(m, StandardCharsets.ISO_8859_1)).toList();
    }

    /** One digest per committed message, in order. */
    List<Digest> digests() {
        return List.copyOf(digests);
    }

    /** Every byte received on every connection, in order of connection. */
    List<String> raw() {
        return connections.stream().map(b -> b.toString(StandardCharsets.ISO_8859_1)).toList();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread t = new Thread(() -> serve(socket), "recording-lmtp-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        ByteArrayOutputStream raw = keepBytes ? new ByteArrayOutputStream() : null;
        if (keepBytes) {
            connections.add(raw);
        }
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            reply(out, "220 store ready");
            int recipients = 0;
            for (byte[] line; (line = readLine(in, raw)) != null; ) {
                String command = new String(line, StandardCharsets.ISO_8859_1).replaceAll("\r?\n$", "");
                commands.add(command);
                String verb = command.length() >= 4 ? command.substring(0, 4).toUpperCase() : command.toUpperCase();
                switch (verb) {
                    case "LHLO" -> reply(out, "250-store\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES");
                    case "MAIL" -> {
                        recipients = 0;
                        reply(out, "250 2.1.0 ok");
                    }
                    case "RCPT" -> {
                        recipients++;
                        reply(out, "250 2.1.5 ok");
                    }
                    case "RSET" -> {
                        recipients = 0;
                        reply(out, "250 2.0.0 ok");
                    }
                    case "DATA" -> {
                        reply(out, dataCommandReply);
                        if (!dataCommandReply.startsWith("354")) {
                            continue;
                        }
                        ByteArrayOutputStream message = new ByteArrayOutputStream();
                        MessageDigest sha256 = sha256();
                        ByteArrayOutputStream head = new ByteArrayOutputStream();
                        long length = 0;
                        byte[] d;
                        for (; (d = readLine(in, raw)) != null && !(d.length == 3 && d[0] == '.'); ) {
                            if (keepBytes) {
                                message.write(d);
                            }
                            int unstuff = d.length > 0 && d[0] == '.' ? 1 : 0;
                            sha256.update(d, unstuff, d.length - unstuff);
                            head.write(d, unstuff, Math.max(0, Math.min(d.length - unstuff, HEAD_BYTES - head.size())));
                            length += d.length - unstuff;
                        }
                        if (d == null) {
                            return;   // a DATA cut off before its end line: the store keeps nothing
                        }
                        if (keepBytes) {
                            messages.add(message.toByteArray());
                        }
                        digests.add(new Digest(length, HexFormat.of().formatHex(sha256.digest()), head.toString(StandardCharsets.ISO_8859_1)));
                        StringBuilder replies = new StringBuilder();
                        for (int i = 0; i < recipients; i++) {
                            replies.append(i == 0 ? "" : "\r\n")
                                    .append(i < dataReplies.size() ? dataReplies.get(i) : "250 2.0.0 stored");
                        }
                        reply(out, replies.toString());
                        recipients = 0;
                    }
                    case "QUIT" -> {
                        reply(out, "221 bye");
                        return;
                    }
                    default -> reply(out, "500 5.5.1 unknown command");
                }
            }
        } catch (IOException e) {
            // The client went away.
        }
    }

    /** One line up to and including LF, as James's LineBasedFrameDecoder frames it; null at end of stream. */
    private static byte[] readLine(InputStream in, ByteArrayOutputStream raw) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            if (raw != null) {
                raw.write(b);
            }
            line.write(b);
            if (b == '\n') {
                return line.toByteArray();
            }
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** Waits (up to 5 s) until the client has said QUIT, so what it sent is all recorded. */
    RecordingLmtpServer awaitQuit() throws InterruptedException {
        for (int i = 0; i < 500 && !commands.contains("QUIT"); i++) {
            Thread.sleep(10);
        }
        return this;
    }

    /** Commands that open a transaction's DATA (a committed or attempted message body). */
    long dataCommands() {
        return new ArrayList<>(commands).stream().filter(c -> c.equalsIgnoreCase("DATA")).count();
    }
}
