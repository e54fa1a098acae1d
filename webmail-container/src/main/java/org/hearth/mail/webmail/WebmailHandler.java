package org.hearth.mail.webmail;

import jakarta.mail.Flags;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartConfig;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.FormFields;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Every request of the webmail: routing, the session cookie and form token checks, the security
 * headers, and the pages. Reads are GET; every change is a POST carrying the session's token.
 */
final class WebmailHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(WebmailHandler.class);

    /** The session cookie; "__Host-" makes browsers insist on Secure, Path=/ and no Domain. */
    static final String SESSION_COOKIE = "__Host-hearth";
    /** The login form's token before there is a session (login CSRF). */
    static final String LOGIN_COOKIE = "__Host-hearth-login";

    static final String PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    /** A message's own HTML: no script at all, only its inline images, nothing loaded from elsewhere unless allowed. */
    static final String BODY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox";
    static final String BODY_POLICY_REMOTE = BODY_POLICY.replace("img-src data:", "img-src data: https: http:");

    private static final int PAGE_SIZE = 50;
    /** Inline images are sent inside the message's frame (data: URLs), up to this much per message. */
    private static final int MAX_INLINE_BYTES = 2 * 1024 * 1024;

    private final MailServers servers;
    private final OwnerSessions sessions;
    private final LoginGate gate;
    private final Outgoing outgoing;
    private final NewMailEvents events;
    private final RemoteContentSenders senders;
    private final Path uploads;
    private final long maxMessage;

    WebmailHandler(MailServers servers, OwnerSessions sessions, LoginGate gate, RemoteContentSenders senders, Path uploads,
                   long maxMessage) {
        this.senders = senders;
        this.servers = servers;
        this.sessions = sessions;
        this.gate = gate;
        this.outgoing = new Outgoing(servers);
        this.events = new NewMailEvents(servers);
        this.uploads = uploads;
        this.maxMessage = maxMessage;
        Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "session-sweep");
            t.setDaemon(true);
            return t;
        }).scheduleWithFixedDelay(sessions::sweep, 1, 1, TimeUnit.MINUTES);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        securityHeaders(response, PAGE_POLICY);
        try {
            route(request, response, callback);
        } catch (ImapMailbox.NoSuchFolder | ImapMailbox.NoSuchMessage e) {
            html(response, callback, 404, Pages.problem("Not found", e.getMessage()));
        } catch (jakarta.mail.AuthenticationFailedException e) {
            // The password changed (or the account went) since this session began: it ends here.
            sessions.close(cookie(request, SESSION_COOKIE));
            Response.addCookie(response, expired(SESSION_COOKIE));
            html(response, callback, 401, Pages.problem("Log in again", "Your mail store no longer accepts this session's login."));
        } catch (MessagingException e) {
            LOG.warn("event=store-failed path={} error={}", request.getHttpURI().getPath(), e.getMessage());
            html(response, callback, 503, Pages.problem("Your mail cannot be reached just now",
                    "The mail store did not answer (" + e.getMessage() + "). Try again in a moment."));
        } catch (BadRequest e) {
            html(response, callback, 400, Pages.problem("That did not work", e.getMessage()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=request-failed path={} error={}", request.getHttpURI().getPath(), e.toString(), e);
            html(response, callback, 500, Pages.problem("Something went wrong", e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        return true;
    }

    private void route(Request request, Response response, Callback callback) throws MessagingException, IOException, BadRequest {
        String path = request.getHttpURI().getPath();
        boolean post = HttpMethod.POST.is(request.getMethod());
        boolean get = HttpMethod.GET.is(request.getMethod()) || HttpMethod.HEAD.is(request.getMethod());
        if (!post && !get) {
            html(response, callback, 405, Pages.problem("Not allowed", request.getMethod() + " is not used here"));
            return;
        }
        if (path.startsWith("/static/") && get) {
            staticFile(path.substring("/static/".length()), response, callback);
            return;
        }
        if (path.equals("/favicon.ico") && get) {
            staticFile("icon.svg", response, callback);
            return;
        }
        if (path.equals("/login")) {
            if (post) {
                login(request, response, callback);
            } else {
                loginPage(request, response, callback, Optional.empty(), "");
            }
            return;
        }
        Optional<OwnerSession> session = sessions.find(cookie(request, SESSION_COOKIE));
        if (session.isEmpty()) {
            if (post) {
                html(response, callback, 403, Pages.problem("Your session has ended", "Log in again to go on."));
            } else {
                redirect(response, callback, "/login");
            }
            return;
        }
        OwnerSession s = session.get();
        Fields form = post && !path.equals("/send") ? FormFields.getFields(request) : null;
        if (form != null && !OwnerSessions.sameToken(s.formToken(), form.getValue("csrf"))) {
            html(response, callback, 403, Pages.problem("That form has expired", "Reload the page and try again."));
            return;
        }
        List<String> segments = segments(path);
        if (path.equals("/") || path.equals("/mail") || path.equals("/mail/")) {
            redirect(response, callback, "/mail/INBOX");
        } else if (path.equals("/logout") && post) {
            sessions.close(s.id());
            LOG.info("event=logout user={}", s.user());
            Response.addCookie(response, expired(SESSION_COOKIE));
            redirect(response, callback, "/login");
        } else if (path.equals("/logout-everywhere") && post) {
            int n = sessions.closeAll(s.user());
            LOG.info("event=logout-everywhere user={} sessions={}", s.user(), n);
            Response.addCookie(response, expired(SESSION_COOKIE));
            redirect(response, callback, "/login");
        } else if (path.equals("/events") && get) {
            events.open(s, () -> sessions.isLive(s.id()), request, response, callback);
        } else if (path.equals("/compose") && get) {
            compose(request, response, callback, s);
        } else if (path.equals("/send") && post) {
            send(request, response, callback, s);
        } else if (segments.size() >= 2 && segments.get(0).equals("mail")) {
            mail(request, response, callback, s, segments, form);
        } else {
            html(response, callback, 404, Pages.problem("Not found", "There is no page at " + path));
        }
    }

    private void mail(Request request, Response response, Callback callback, OwnerSession s, List<String> seg, Fields form)
            throws MessagingException, IOException, BadRequest {
        String folder = seg.get(1);
        ImapMailbox box = s.mailbox(servers);
        Fields query = Request.extractQueryParameters(request);
        if (seg.size() == 2 && form == null) {
            int page = number(query.getValue("page"), 1);
            Optional<String> q = Optional.ofNullable(query.getValue("q")).map(String::strip).filter(x -> !x.isEmpty());
            ImapMailbox.Page list = box.page(folder, page, PAGE_SIZE, q);
            html(response, callback, 200, Pages.mailbox(s, box.folders(), list, q, Optional.ofNullable(query.getValue("done"))));
        } else if (seg.size() == 3 && seg.get(2).equals("act") && form != null) {
            act(response, callback, s, box, folder, form);
        } else if (seg.size() == 3 && form == null) {
            long uid = uid(seg.get(2));
            record Shown(MessageView view, int blocked, ImapMailbox.Conversation conversation) {
            }
            Shown shown = box.read(folder, uid, m -> {
                MessageView v = MessageView.of(folder, uid, m);
                int blocked = v.body() instanceof MessageView.Body.Html h ? SafeHtml.clean(h.html(), id -> null, false).blockedRemote() : 0;
                return new Shown(v, blocked, conversationOf(box, m, folder, uid));
            });
            boolean remote = "1".equals(query.getValue("remote")) || senders.allows(s.user(), shown.view().fromAddress());
            html(response, callback, 200, Pages.message(s, box.folders(), shown.view(), shown.conversation(),
                    Optional.ofNullable(query.getValue("done")), shown.blocked(), remote));
        } else if (seg.size() == 4 && seg.get(3).equals("allow-sender") && form != null) {
            long uid = uid(seg.get(2));
            String sender = box.read(folder, uid, m -> MessageView.of(folder, uid, m).fromAddress());
            if (sender.isEmpty()) {
                throw new BadRequest("This message names no sender to allow");
            }
            senders.allow(s.user(), sender);
            LOG.info("event=remote-content-allowed user={} sender={}", s.user(), sender);
            redirect(response, callback, Pages.messageUrl(folder, uid) + "?done=" + Pages.url("Remote images from " + sender + " will be shown."));
        } else if (seg.size() == 4 && seg.get(3).equals("body") && form == null) {
            long uid = uid(seg.get(2));
            boolean[] remote = {"1".equals(query.getValue("remote"))};
            String doc = box.read(folder, uid, m -> {
                MessageView v = MessageView.of(folder, uid, m);
                if (!(v.body() instanceof MessageView.Body.Html h)) {
                    return Pages.messageBody("");
                }
                remote[0] = remote[0] || senders.allows(s.user(), v.fromAddress());
                Map<String, String> inline = inlineImages(m, v);
                return Pages.messageBody(SafeHtml.clean(h.html(), inline, remote[0]).html());
            });
            securityHeaders(response, remote[0] ? BODY_POLICY_REMOTE : BODY_POLICY);
            response.getHeaders().put("X-Frame-Options", "SAMEORIGIN");
            html(response, callback, 200, doc);
        } else if (seg.size() == 5 && seg.get(3).equals("part") && form == null) {
            long uid = uid(seg.get(2));
            String partPath = seg.get(4);
            box.read(folder, uid, m -> {
                MessageView v = MessageView.of(folder, uid, m);
                if (!v.servesPart(partPath)) {
                    throw new ImapMailbox.NoSuchMessage(folder, uid);
                }
                Part p = MessageView.part(m, partPath).orElseThrow(() -> new ImapMailbox.NoSuchMessage(folder, uid));
                download(response, MessageView.fileName(p, "part-" + partPath), MessageView.baseType(p));
                // Streamed from the store as it comes: an attachment of many megabytes never sits whole in memory.
                // Closed (which ends the response) only when all of it went: a failure breaks the transfer off.
                OutputStream out = Content.Sink.asOutputStream(response);
                try (InputStream in = p.getInputStream()) {
                    in.transferTo(out);
                }
                out.close();
                callback.succeeded();
                return null;
            });
        } else {
            html(response, callback, 404, Pages.problem("Not found", "There is no such page"));
        }
    }

    /** The message's inline images as data: URLs (the frame is sandboxed: it could not fetch them with the session's cookie). */
    private static Map<String, String> inlineImages(Message m, MessageView v) throws MessagingException, IOException {
        Map<String, String> urls = new java.util.HashMap<>();
        int total = 0;
        for (Map.Entry<String, String> e : v.inlineByContentId().entrySet()) {
            Optional<Part> p = MessageView.part(m, e.getValue());
            if (p.isEmpty()) {
                continue;
            }
            String type = MessageView.baseType(p.get());
            if (!type.matches("image/(png|gif|jpeg|webp)")) {
                continue;
            }
            byte[] bytes;
            try (InputStream in = p.get().getInputStream()) {
                bytes = in.readNBytes(MAX_INLINE_BYTES - total + 1);
            }
            total += bytes.length;
            if (total > MAX_INLINE_BYTES) {
                break;
            }
            urls.put(e.getKey(), "data:" + type + ";base64," + Base64.getEncoder().encodeToString(bytes));
        }
        return urls;
    }

    /** The message's conversation; an extra: if it cannot be found, the message shows on its own. */
    private static ImapMailbox.Conversation conversationOf(ImapMailbox box, jakarta.mail.Message m, String folder, long uid) {
        try {
            return box.conversation(m);
        } catch (MessagingException | RuntimeException e) {
            LOG.warn("event=conversation-failed folder={} uid={} error={}", folder, uid, e.toString());
            return new ImapMailbox.Conversation(List.of());
        }
    }

    private void act(Response response, Callback callback, OwnerSession s, ImapMailbox box, String folder, Fields form)
            throws MessagingException, BadRequest {
        List<Long> uids = new ArrayList<>();
        // A conversation's row in the list selects all its messages on the page ("12,15,19").
        for (String v : Optional.ofNullable(form.getValues("uid")).orElse(List.of())) {
            for (String one : v.split(",", 200)) {
                uids.add(uid(one));
            }
        }
        String action = Optional.ofNullable(form.getValue("action")).orElse("");
        if (uids.isEmpty()) {
            redirect(response, callback, Pages.folderUrl(folder) + "?done=" + Pages.url("Select a message first."));
            return;
        }
        String done;
        boolean leaves = true;
        switch (action) {
            case "spam" -> {
                box.move(folder, uids, box.folderFor(ImapMailbox.Role.JUNK));
                done = count(uids) + " moved to Junk.";
            }
            case "notspam" -> {
                box.move(folder, uids, "INBOX");
                done = count(uids) + " moved to INBOX.";
            }
            case "archive" -> {
                box.move(folder, uids, box.folderFor(ImapMailbox.Role.ARCHIVE));
                done = count(uids) + " archived.";
            }
            case "delete" -> {
                String trash = box.folderFor(ImapMailbox.Role.TRASH);
                if (folder.equals(trash)) {
                    box.expunge(folder, uids);
                    done = count(uids) + " deleted for good.";
                } else {
                    box.move(folder, uids, trash);
                    done = count(uids) + " moved to Trash.";
                }
            }
            case "move" -> {
                String to = Optional.ofNullable(form.getValue("to")).orElse("").strip();
                if (to.isEmpty()) {
                    throw new BadRequest("Choose a folder to move to.");
                }
                box.move(folder, uids, to);
                done = count(uids) + " moved to " + to + ".";
            }
            case "read", "unread", "flag", "unflag" -> {
                Flags.Flag flag = action.endsWith("read") ? Flags.Flag.SEEN : Flags.Flag.FLAGGED;
                box.flag(folder, uids, flag, !action.startsWith("un"));
                done = count(uids) + " marked " + (action.startsWith("un") ? action.substring(2) + " off" : action) + ".";
                leaves = false;
            }
            default -> throw new BadRequest("Unknown action \"" + action + "\"");
        }
        LOG.info("event=act user={} action={} folder={} messages={}", s.user(), action, folder, uids.size());
        String back = !leaves && uids.size() == 1 && form.getValue("from-message") != null
                ? Pages.messageUrl(folder, uids.get(0)) : Pages.folderUrl(folder);
        redirect(response, callback, back + "?done=" + Pages.url(done));
    }

    private static String count(List<Long> uids) {
        return uids.size() == 1 ? "1 message" : uids.size() + " messages";
    }

    private void compose(Request request, Response response, Callback callback, OwnerSession s)
            throws MessagingException, BadRequest {
        Fields q = Request.extractQueryParameters(request);
        String mode = Optional.ofNullable(q.getValue("mode")).orElse("");
        String from = s.addresses().contains(s.user()) ? s.user() : s.addresses().iterator().next();
        Pages.Draft draft = Pages.Draft.empty(from);
        if (!mode.isEmpty()) {
            String folder = Optional.ofNullable(q.getValue("folder")).orElseThrow(() -> new BadRequest("No folder named"));
            long uid = uid(q.getValue("uid"));
            draft = s.mailbox(servers).read(folder, uid, m -> Replies.draft(mode, folder, uid, MessageView.of(folder, uid, m), s, from));
        }
        html(response, callback, 200, Pages.compose(s, s.mailbox(servers).folders(), draft, Optional.empty()));
    }

    private void send(Request request, Response response, Callback callback, OwnerSession s)
            throws MessagingException, IOException, BadRequest {
        String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new BadRequest("The form was not sent as multipart/form-data");
        }
        MultiPartConfig config = new MultiPartConfig.Builder().location(uploads).maxParts(64).maxSize(maxMessage)
                .maxPartSize(maxMessage).maxMemoryPartSize(64 * 1024).build();
        MultiPartFormData.Parts parts;
        try {
            parts = MultiPartFormData.getParts(request, request, contentType, config);
        } catch (RuntimeException e) {
            throw new BadRequest("The message is too large or the form is damaged (" + e.getMessage() + "); "
                    + "at most " + (maxMessage / 1048576) + " MB with attachments");
        }
        List<Path> toDelete = new ArrayList<>();
        try {
            if (!OwnerSessions.sameToken(s.formToken(), value(parts, "csrf"))) {
                html(response, callback, 403, Pages.problem("That form has expired", "Reload the page and try again."));
                return;
            }
            Pages.Draft d = new Pages.Draft(value(parts, "from"), value(parts, "to"), value(parts, "cc"), value(parts, "bcc"),
                    value(parts, "subject"), value(parts, "text").replace("\r\n", "\n"), value(parts, "in-reply-to"),
                    value(parts, "references"), value(parts, "forward-of"), value(parts, "draft-uid"));
            String action = value(parts, "action");
            // "autosave": app.js saving the text while the owner writes (no files; answered in JSON).
            boolean autosave = action.equals("autosave");
            boolean draft = autosave || action.equals("draft");
            List<Outgoing.Upload> files = new ArrayList<>();
            for (MultiPart.Part p : parts) {
                if (!autosave && p.getName().equals("files") && p.getFileName() != null && !p.getFileName().isBlank()) {
                    Path file = Files.createTempFile(uploads, "upload", ".part");
                    toDelete.add(file);
                    Files.delete(file);
                    p.writeTo(file);
                    String type = Optional.ofNullable(p.getHeaders().get(HttpHeader.CONTENT_TYPE)).orElse("application/octet-stream");
                    files.add(new Outgoing.Upload(p.getFileName().replaceAll("[\\r\\n\"]", "_"), type, file));
                }
            }
            List<Long> previousDraft = d.draftUid().matches("[1-9][0-9]{0,9}") ? List.of(Long.parseLong(d.draftUid())) : List.of();
            ImapMailbox box = s.mailbox(servers);
            try {
                // The forwarded original goes with the message sent or saved by hand, not with every autosave.
                Optional<byte[]> original = d.forwardOf().isEmpty() || autosave ? Optional.empty() : Optional.of(original(box, d.forwardOf()));
                MimeMessage m = outgoing.build(s, d, files, original, draft);
                String drafts = box.folderFor(ImapMailbox.Role.DRAFTS);
                if (draft) {
                    // The new copy first, then the one it replaces: a failure in between leaves two, never none.
                    Optional<Long> saved = box.append(drafts, m, flags(Flags.Flag.DRAFT, Flags.Flag.SEEN));
                    removeDraft(box, drafts, previousDraft);
                    if (autosave) {
                        json(response, callback, 200, "{\"draft\":" + saved.map(String::valueOf).orElse("null") + "}");
                    } else {
                        redirect(response, callback, Pages.folderUrl(drafts) + "?done=" + Pages.url("Draft saved."));
                    }
                    return;
                }
                outgoing.send(s, m);
                LOG.info("event=sent user={} recipients={} attachments={}", s.user(), m.getAllRecipients().length, files.size());
                String done = "Sent.";
                try {
                    box.append(box.folderFor(ImapMailbox.Role.SENT), m, flags(Flags.Flag.SEEN));
                    removeDraft(box, drafts, previousDraft);
                } catch (MessagingException e) {
                    done = "Sent, but its copy could not be kept in Sent (" + e.getMessage() + ").";
                }
                redirect(response, callback, "/mail/INBOX?done=" + Pages.url(done));
            } catch (Outgoing.Refused e) {
                if (autosave) {
                    json(response, callback, 422, "{\"error\":\"" + e.getMessage().replace("\\", "\\\\").replace("\"", "\\\"") + "\"}");
                } else {
                    html(response, callback, 422, Pages.compose(s, box.folders(), d, Optional.of(e.getMessage())));
                }
            }
        } finally {
            for (Path p : toDelete) {
                Files.deleteIfExists(p);
            }
            for (MultiPart.Part p : parts) {
                p.delete();
            }
        }
    }

    /** Removes the copy a new one replaces; a failure leaves two copies, which is better than a failed save. */
    private static void removeDraft(ImapMailbox box, String drafts, List<Long> uids) {
        try {
            box.expunge(drafts, uids);
        } catch (MessagingException e) {
            LOG.info("event=old-draft-kept error={}", e.getMessage());
        }
    }

    /** The whole of a message named "folder/uid", for forwarding it as an attachment. */
    private static byte[] original(ImapMailbox box, String ref) throws MessagingException, BadRequest {
        int slash = ref.lastIndexOf('/');
        if (slash <= 0) {
            throw new BadRequest("Not a message to forward: " + ref);
        }
        return box.read(ref.substring(0, slash), uid(ref.substring(slash + 1)), m -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            m.writeTo(out);
            return out.toByteArray();
        });
    }

    private static Flags flags(Flags.Flag... flags) {
        Flags f = new Flags();
        for (Flags.Flag x : flags) {
            f.add(x);
        }
        return f;
    }

    private static String value(MultiPartFormData.Parts parts, String name) {
        MultiPart.Part p = parts.getFirst(name);
        return p == null ? "" : p.getContentAsString(StandardCharsets.UTF_8);
    }

    private void loginPage(Request request, Response response, Callback callback, Optional<String> error, String user) {
        // One token per browser while it stays on the login page: a second tab, or the browser's own
        // requests beside the page, must not make the first form's token stale.
        String held = cookie(request, LOGIN_COOKIE);
        String token = held != null && held.matches("[A-Za-z0-9_-]{43}") ? held : OwnerSessions.token();
        Response.addCookie(response, cookie(LOGIN_COOKIE, token, 600));
        html(response, callback, error.isPresent() ? 401 : 200, Pages.login(token, error, user));
    }

    private void login(Request request, Response response, Callback callback) {
        Fields form = FormFields.getFields(request);
        String user = Optional.ofNullable(form.getValue("user")).orElse("");
        if (!OwnerSessions.sameToken(cookie(request, LOGIN_COOKIE), form.getValue("csrf"))) {
            loginPage(request, response, callback, Optional.of("The login form had expired. Log in again."), user);
            return;
        }
        String client = Request.getRemoteAddr(request);
        LoginGate.Outcome outcome = gate.check(servers, user, Optional.ofNullable(form.getValue("password")).orElse(""), client);
        if (outcome instanceof LoginGate.Outcome.Admitted a) {
            // A fresh session id at every login: whatever id a browser held before is worth nothing.
            sessions.close(cookie(request, SESSION_COOKIE));
            OwnerSession s = sessions.open(a.user(), form.getValue("password"), a.addresses());
            LOG.info("event=login user={} client={}", a.user(), client);
            Response.addCookie(response, cookie(SESSION_COOKIE, s.id(), -1));
            Response.addCookie(response, expired(LOGIN_COOKIE));
            redirect(response, callback, "/mail/INBOX");
        } else if (outcome instanceof LoginGate.Outcome.Wait w) {
            loginPage(request, response, callback, Optional.of("Too many failed logins. Wait " + w.seconds() + " s and try again."), user);
        } else if (outcome instanceof LoginGate.Outcome.Unavailable u) {
            LOG.warn("event=login-unavailable error={}", u.why());
            loginPage(request, response, callback, Optional.of("Your mail cannot be reached just now. Try again in a moment."), user);
        } else {
            LOG.info("event=login-refused user={} client={}", user.strip().toLowerCase(Locale.ROOT), client);
            loginPage(request, response, callback, Optional.of("Wrong address or password."), user);
        }
    }

    private static HttpCookie cookie(String name, String value, long maxAgeSeconds) {
        return HttpCookie.build(name, value).path("/").secure(true).httpOnly(true)
                .sameSite(HttpCookie.SameSite.STRICT).maxAge(maxAgeSeconds).build();
    }

    private static HttpCookie expired(String name) {
        return cookie(name, "", 0);
    }

    private static String cookie(Request request, String name) {
        for (HttpCookie c : Request.getCookies(request)) {
            if (c.getName().equals(name)) {
                return c.getValue();
            }
        }
        return null;
    }

    private static void securityHeaders(Response response, String policy) {
        var h = response.getHeaders();
        h.put("Content-Security-Policy", policy);
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Referrer-Policy", "no-referrer");
        h.put("X-Frame-Options", "DENY");
        h.put("Cross-Origin-Opener-Policy", "same-origin");
        h.put("Cross-Origin-Resource-Policy", "same-origin");
        h.put("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()");
        h.put(HttpHeader.CACHE_CONTROL, "no-store");
    }

    private static void html(Response response, Callback callback, int status, String html) {
        if (response.isCommitted()) {
            // A download failed half-way: too late for a page, the browser sees the transfer break off.
            callback.failed(new IOException("failed after the response began (status " + status + ")"));
            return;
        }
        response.getHeaders().remove(HttpHeader.CONTENT_DISPOSITION);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        Content.Sink.write(response, true, html, callback);
    }

    private static void json(Response response, Callback callback, int status, String json) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, json, callback);
    }

    private static void redirect(Response response, Callback callback, String location) {
        response.setStatus(303);
        response.getHeaders().put(HttpHeader.LOCATION, location);
        response.write(true, null, callback);
    }

    /** The headers of an attachment's download: never rendered as a page of this origin, never sniffed. */
    private static void download(Response response, String name, String type) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type.matches("[a-z0-9.+-]+/[a-z0-9.+-]+") ? type : "application/octet-stream");
        response.getHeaders().put(new HttpField(HttpHeader.CONTENT_DISPOSITION, "attachment; filename=\""
                + name.replaceAll("[^\\x20-\\x7e]|[\"\\\\]", "_") + "\"; filename*=UTF-8''" + Pages.url(name)));
        response.getHeaders().put("Content-Security-Policy", "default-src 'none'; sandbox");
    }

    private static final Map<String, String> STATIC_TYPES = Map.of("css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "svg", "image/svg+xml");
    private static final Set<String> STATIC_FILES = Set.of("app.css", "app.js", "icon.svg");

    private static void staticFile(String name, Response response, Callback callback) throws IOException {
        if (!STATIC_FILES.contains(name)) {
            html(response, callback, 404, Pages.problem("Not found", "No such file"));
            return;
        }
        byte[] bytes;
        try (InputStream in = WebmailHandler.class.getResourceAsStream("static/" + name)) {
            bytes = in.readAllBytes();
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, STATIC_TYPES.get(name.substring(name.lastIndexOf('.') + 1)));
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "private, max-age=3600");
        // The same files for everyone, secret to no one (a message frame, an opaque origin, may show the icon).
        response.getHeaders().put("Cross-Origin-Resource-Policy", "cross-origin");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static long uid(String s) throws BadRequest {
        if (s == null || !s.matches("[1-9][0-9]{0,9}")) {
            throw new BadRequest("Not a message number: " + s);
        }
        return Long.parseLong(s);
    }

    private static int number(String s, int fallback) {
        return s != null && s.matches("[1-9][0-9]{0,5}") ? Integer.parseInt(s) : fallback;
    }

    /** A request the webmail cannot act on, with the reason for the owner. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }
}
