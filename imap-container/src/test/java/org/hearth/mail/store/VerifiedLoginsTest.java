package org.hearth.mail.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Logins answered without a second Argon2id check, against the store's real accounts file and hashes. */
class VerifiedLoginsTest {

    @TempDir
    Path data;
    private Instant now = Instant.parse("2026-12-02T00:00:00Z");
    /** Each full Argon2id check, by the password it was asked about. */
    private final List<String> argon2 = new ArrayList<>();

    private Accounts accounts() throws IOException {
        Accounts accounts = new Accounts(data.resolve("accounts.json"), new VerifiedLogins((password, stored) -> {
            argon2.add(new String(password));
            return PasswordHash.verify(password, stored);
        }, () -> now));
        admin(accounts, "", "domain", "add", "a.test");
        admin(accounts, "alice-password-1\n", "user", "add", "alice@a.test");
        return accounts;
    }

    private static void admin(Accounts accounts, String stdin, String... args) throws IOException {
        MailAdmin.run(accounts, List.of(args), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aRepeatedRightPasswordIsCheckedInFullOncePerTtl() throws IOException {
        Accounts accounts = accounts();
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isTrue();
        now = now.plusSeconds(60);
        assertThat(accounts.authenticate("ALICE@a.test", "alice-password-1".toCharArray())).isTrue();
        assertThat(argon2).containsExactly("alice-password-1");

        now = now.plus(VerifiedLogins.TTL);
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isTrue();
        assertThat(argon2).containsExactly("alice-password-1", "alice-password-1");
    }

    @Test
    void aWrongPasswordIsAlwaysCheckedAndNeverRemembered() throws IOException {
        Accounts accounts = accounts();
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isTrue();
        for (int i = 0; i < 2; i++) {
            assertThat(accounts.authenticate("alice@a.test", "alice-password-2".toCharArray())).isFalse();
        }
        assertThat(argon2).containsExactly("alice-password-1", "alice-password-2", "alice-password-2");
        // The right one is still known after the failures.
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isTrue();
        assertThat(argon2).hasSize(3);
    }

    @Test
    void aChangedPasswordOrARemovedUserIsNeverAnsweredFromMemory() throws IOException {
        Accounts accounts = accounts();
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isTrue();
        admin(accounts, "alice-password-9\n", "user", "passwd", "alice@a.test");
        assertThat(accounts.authenticate("alice@a.test", "alice-password-1".toCharArray())).isFalse();
        assertThat(accounts.authenticate("alice@a.test", "alice-password-9".toCharArray())).isTrue();

        admin(accounts, "", "user", "remove", "alice@a.test");
        assertThat(accounts.authenticate("alice@a.test", "alice-password-9".toCharArray())).isFalse();
        assertThat(argon2).containsExactly("alice-password-1", "alice-password-1", "alice-password-9");
    }
}
