package org.hearth.mail.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MailAdminTest {

    @TempDir
    Path data;

    private Accounts accounts() {
        return new Accounts(data.resolve("accounts.json"));
    }

    private String run(String stdin, String... args) throws IOException {
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        return MailAdmin.run(accounts(), List.of(args), in);
    }

    @Test
    void usersAliasesAndDomainsDecideWhereMailGoes() throws IOException {
        run("", "domain", "add", "Demo.Hearth.Test");
        run("long-enough-1\n", "user", "add", "Alice@demo.hearth.test");
        run("", "alias", "add", "postmaster@demo.hearth.test", "alice@demo.hearth.test");
        Accounts a = accounts();

        assertThat(a.resolve("ALICE@demo.hearth.test")).isEqualTo(new Accounts.Resolution.Mailbox("alice@demo.hearth.test"));
        assertThat(a.resolve("postmaster@demo.hearth.test")).isEqualTo(new Accounts.Resolution.Mailbox("alice@demo.hearth.test"));
        assertThat(a.resolve("bob@demo.hearth.test")).isInstanceOf(Accounts.Resolution.Unknown.class);
        assertThat(a.resolve("alice@elsewhere.example")).isInstanceOf(Accounts.Resolution.NotLocal.class);
        assertThat(a.authenticate("alice@demo.hearth.test", "long-enough-1".toCharArray())).isTrue();
        assertThat(a.authenticate("alice@demo.hearth.test", "long-enough-2".toCharArray())).isFalse();
        assertThat(run("", "user", "list")).isEqualTo("alice@demo.hearth.test\n");
    }

    /** RFC 6531: an alias may be non-ASCII (kept lower case, NFC); a user, whose address is its IMAP login, may not. */
    @Test
    void anAliasMayHaveANonAsciiLocalPartAndAUserMayNot() throws IOException {
        run("", "domain", "add", "d.example");
        run("long-enough-1\n", "user", "add", "a@d.example");
        assertThat(run("", "alias", "add", "ZOË@d.example", "a@d.example")).isEqualTo("added alias zoë@d.example -> a@d.example\n");
        assertThat(accounts().resolve("zoe\u0308@d.example")).isEqualTo(new Accounts.Resolution.Mailbox("a@d.example"));
        assertThatThrownBy(() -> run("", "alias", "add", "zo\u00eb\u200b@d.example", "a@d.example"))
                .hasMessageContaining("is not a mail address").hasMessageContaining("U+200B");
        assertThatThrownBy(() -> run("", "alias", "add", "zoë@bücher.example", "a@d.example"))
                .hasMessageContaining("domain xn--bcher-kva.example is not served here");
        assertThatThrownBy(() -> run("long-enough-1\n", "user", "add", "jörg@d.example"))
                .hasMessageContaining("is not a mail address");
        assertThat(run("", "alias", "remove", "zoë@d.example")).isEqualTo("removed alias zoë@d.example\n");
    }

    @Test
    void passwordIsReadFromTheFirstLineOnlyAndChangedInPlace() throws IOException {
        run("", "domain", "add", "d.example");
        run("first-password\nignored\n", "user", "add", "a@d.example");
        run("second-password\n", "user", "passwd", "a@d.example");

        assertThat(accounts().authenticate("a@d.example", "second-password".toCharArray())).isTrue();
        assertThat(accounts().authenticate("a@d.example", "first-password".toCharArray())).isFalse();
    }

    @Test
    void refusalsSayWhatIsWrong() throws IOException {
        run("", "domain", "add", "d.example");
        run("good-password\n", "user", "add", "a@d.example");

        assertThatThrownBy(() -> run("short\n", "user", "add", "b@d.example")).hasMessageContaining("at least 8");
        assertThatThrownBy(() -> run("good-password\n", "user", "add", "b@other.example"))
                .hasMessageContaining("domain other.example is not served here");
        assertThatThrownBy(() -> run("good-password\n", "user", "add", "a@d.example")).hasMessageContaining("exists");
        assertThatThrownBy(() -> run("", "alias", "add", "x@d.example", "nobody@d.example")).hasMessageContaining("not a user");
        assertThatThrownBy(() -> run("", "user", "add", "not-an-address")).hasMessageContaining("not a mail address");
        assertThatThrownBy(() -> run("", "domain", "remove", "d.example")).hasMessageContaining("still has users");
        assertThatThrownBy(() -> run("", "frobnicate", "now")).hasMessageContaining("unknown command");
    }
}
