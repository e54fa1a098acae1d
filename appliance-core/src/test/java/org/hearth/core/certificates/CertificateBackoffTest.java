package org.hearth.core.certificates;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A host whose certificate cannot be had waits longer after each failure, within the CA's limits. */
class CertificateBackoffTest {

    @Test
    void noHourEverSeesMoreThanLetsEncryptsFiveFailedValidationsOfAHost() {
        // Attempt times after failures in a row; Let's Encrypt refuses a 6th failed validation in an hour.
        long[] at = new long[40];
        for (int i = 1; i < at.length; i++) {
            at[i] = at[i - 1] + CertificateAgent.RETRY.after(i).toMinutes();
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
