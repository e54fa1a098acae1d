package org.hearth.mail.store;

import org.hearth.mail.common.AuthThrottle;
import org.hearth.mail.common.StoreLogin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Submission's login check against the store's real accounts (Argon2id), over its port, as outbound asks it. */
class LoginServiceTest {

    @TempDir
    Path data;
    private LoginService service;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws IOException {
        Accounts accounts = new Accounts(data.resolve("accounts.json"));
        admin(accounts, "", "domain", "add", "a.test");
        admin(accounts, "alice-password-1\n", "user", "add", "alice@a.test");
        admin(accounts, "", "alias", "add", "postmaster@a.test", "alice@a.test");
        admin(accounts, "bob-password-1\n", "user", "add", "bob@a.test");
        service = new LoginService(accounts, new AuthThrottle(3, Duration.ofSeconds(30), Duration.ofMinutes(5),
                InstantSource.system()), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), service.port());
    }

    @AfterEach
    void stop() throws IOException {
        service.close();
    }

    private static void admin(Accounts accounts, String stdin, String... args) throws IOException {
        MailAdmin.run(accounts, List.of(args), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    }

    private StoreLogin.Answer ask(String user, String password) throws IOException {
        return ask(user, password, "192.0.2.7");
    }

    private StoreLogin.Answer ask(String user, String password, String client) throws IOException {
        return StoreLogin.ask(address, user, password, client, Duration.ofSeconds(10));
    }

    @Test
    void aRightPasswordGivesTheUsersAddressAndAliasesOnly() throws IOException {
        assertThat(ask("Alice@A.test", "alice-password-1"))
                .isEqualTo(new StoreLogin.Answer.Ok(java.util.Set.of("alice@a.test", "postmaster@a.test")));
        assertThat(ask("bob@a.test", "bob-password-1")).isEqualTo(new StoreLogin.Answer.Ok(java.util.Set.of("bob@a.test")));
    }

    @Test
    void wrongPasswordsAreRefusedThenTheUserAndTheAskerWait() throws IOException {
        assertThat(ask("alice@a.test", "guess-1")).isEqualTo(new StoreLogin.Answer.Refused());
        assertThat(ask("alice@a.test", "guess-2")).isEqualTo(new StoreLogin.Answer.Refused());
        assertThat(ask("nobody@a.test", "guess-3")).isEqualTo(new StoreLogin.Answer.Refused());
        // That client failed three times: even a right password waits now, unchecked.
        assertThat(ask("alice@a.test", "alice-password-1")).isInstanceOf(StoreLogin.Answer.Wait.class);
        assertThat(ask("bob@a.test", "bob-password-1")).isInstanceOf(StoreLogin.Answer.Wait.class);
    }

    @Test
    void oneClientsGuessesDoNotLockOutAnotherWhoLogsInThroughTheSameAsker() throws IOException {
        // Webmail and submission ask for every browser and mail client: the store sees one asker.
        for (String guess : java.util.List.of("guess-1", "guess-2", "guess-3")) {
            assertThat(ask("nobody@a.test", guess, "198.51.100.66")).isEqualTo(new StoreLogin.Answer.Refused());
        }
        assertThat(ask("bob@a.test", "bob-password-1", "198.51.100.66")).isInstanceOf(StoreLogin.Answer.Wait.class);
        assertThat(ask("bob@a.test", "bob-password-1", "198.51.100.7")).isEqualTo(new StoreLogin.Answer.Ok(java.util.Set.of("bob@a.test")));
    }

    @Test
    void theStoreListsItsDomainsForOutboundsRouting() throws Exception {
        assertThat(StoreLogin.domains(address, Duration.ofSeconds(10))).containsExactly("a.test");
        Accounts accounts = new Accounts(data.resolve("accounts.json"));
        admin(accounts, "", "domain", "add", "B.test");
        // The service reads the accounts file as it changes (hearth mail domain add runs beside it).
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!StoreLogin.domains(address, Duration.ofSeconds(10)).contains("b.test") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(StoreLogin.domains(address, Duration.ofSeconds(10))).containsExactly("a.test", "b.test");
    }

    @Test
    void aLineThatIsNoRequestGetsNoAnswer() throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("HELLO there\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThatThrownBy(() -> StoreLogin.ask(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), "a", "b",
                "192.0.2.7", Duration.ofSeconds(2))).isInstanceOf(IOException.class);
    }
}
