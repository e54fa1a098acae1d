package org.hearth.registry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NamePolicyTest {

    @Test
    void plainNamesMayBeHad() {
        assertThat(NamePolicy.refusal("alice")).isEmpty();
        assertThat(NamePolicy.refusal("the-smiths-2")).isEmpty();
        assertThat(NamePolicy.refusal("abc")).isEmpty();
        assertThat(NamePolicy.refusal("a".repeat(32))).isEmpty();
    }

    @Test
    void eachRefusalSaysWhatIsWrong() {
        assertThat(NamePolicy.refusal("")).contains("a name is needed");
        assertThat(NamePolicy.refusal("Alice")).contains("use lower-case letters");
        assertThat(NamePolicy.refusal("ab")).contains("a name has 3 to 32 characters");
        assertThat(NamePolicy.refusal("a".repeat(33))).contains("a name has 3 to 32 characters");
        assertThat(NamePolicy.refusal("-alice")).get().asString().contains("not at the start or the end");
        assertThat(NamePolicy.refusal("alice-")).get().asString().contains("not at the start or the end");
        assertThat(NamePolicy.refusal("al.ice")).get().asString().contains("letters a-z");
        assertThat(NamePolicy.refusal("al_ice")).get().asString().contains("letters a-z");
        assertThat(NamePolicy.refusal("xn--bcher-kva")).get().asString().contains("third and fourth");
        assertThat(NamePolicy.refusal("postmaster")).contains("\"postmaster\" is reserved");
        assertThat(NamePolicy.refusal("mta-sts")).contains("\"mta-sts\" is reserved");
    }
}
