package org.hearth.core.certificates;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A host whose certificate cannot be had waits longer after each failure, within the CA's limits. */
class CertificateBackoffTest {

    @Test
    void tenMinutesDoublingToSixHours() {
        assertThat(CertificateAgent.backoff(1)).isEqualTo(Duration.ofMinutes(10));
        assertThat(CertificateAgent.backoff(2)).isEqualTo(Duration.ofMinutes(20));
        assertThat(CertificateAgent.backoff(4)).isEqualTo(Duration.ofMinutes(80));
        assertThat(CertificateAgent.backoff(6)).isEqualTo(Duration.ofMinutes(320));
        assertThat(CertificateAgent.backoff(7)).isEqualTo(Duration.ofHours(6));
        assertThat(CertificateAgent.backoff(1_000)).isEqualTo(Duration.ofHours(6));
    }

    @Test
    void noHourEverSeesMoreThanLetsEncryptsFiveFailedValidationsOfAHost() {
        // Attempt times after failures in a row; Let's Encrypt refuses a 6th failed validation in an hour.
        long[] at = new long[40];
        for (int i = 1; i < at.length; i++) {
            at[i] = at[i - 1] + CertificateAgent.backoff(i).toMinutes();
        }
        for (int i = 0; i < at.length; i++) {
            int inHour = 0;
            for (long t : at) {
                if (t >= at[i] && t < at[i] + 60) {
                    inHour++;
                }
            }
            assertThat(inHour).as("attempts in the hour from attempt %d", i).isLessThanOrEqualTo(5);
        }
    }
}
