package org.hearth.mail.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PasswordHashTest {

    @Test
    void hashIsArgon2idInPhcFormatAndVerifiesOnlyTheRightPassword() {
        String stored = PasswordHash.hash("correct horse".toCharArray());

        assertThat(stored).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
        assertThat(PasswordHash.verify("correct horse".toCharArray(), stored)).isTrue();
        assertThat(PasswordHash.verify("correct horsE".toCharArray(), stored)).isFalse();
    }

    @Test
    void samePasswordHashesDifferentlyEachTime() {
        assertThat(PasswordHash.hash("pw123456".toCharArray())).isNotEqualTo(PasswordHash.hash("pw123456".toCharArray()));
    }

    @Test
    void garbageIsNeverAMatch() {
        assertThat(PasswordHash.verify("x".toCharArray(), "plain-text")).isFalse();
        assertThat(PasswordHash.verify("x".toCharArray(), "$2a$10$bcryptlooking")).isFalse();
    }
}
