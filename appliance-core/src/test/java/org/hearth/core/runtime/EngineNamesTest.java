package org.hearth.core.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineNamesTest {

    private static final EngineNames ONE = new EngineNames("70b997347a59");
    private static final EngineNames TWO = new EngineNames("7ad63e55d8a4");

    @Test
    void twoInstancesNeverShareANameForTheSameAppAndRole() {
        List<String> one = List.of(ONE.container("mail", "imap"), ONE.edgeNetwork("mail", "smtp-in", "imap"),
                ONE.ingressNetwork("mail", "imap"));
        List<String> two = List.of(TWO.container("mail", "imap"), TWO.edgeNetwork("mail", "smtp-in", "imap"),
                TWO.ingressNetwork("mail", "imap"));

        assertThat(one).containsExactly("hearth-mail-imap-70b997347a59", "hearth-mail-smtp-in-to-imap-70b997347a59",
                "hearth-mail-imap-ingress-70b997347a59");
        assertThat(one).doesNotContainAnyElementsOf(two).doesNotHaveDuplicates();
        // The engine's rule for container and network names.
        assertThat(one).allMatch(n -> n.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]+"));
    }

    @Test
    void anInstanceIdThatIsNotHexIsRefused() {
        assertThatThrownBy(() -> new EngineNames("../x")).hasMessageContaining("instance id must be lowercase hex: ../x");
    }
}
