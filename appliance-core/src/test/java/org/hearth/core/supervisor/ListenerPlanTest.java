package org.hearth.core.supervisor;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.MailShapedManifest;
import org.hearth.core.runtime.EngineNames;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ListenerPlanTest {

    private static final EngineNames NAMES = new EngineNames("0a1b");
    private static final InetAddress PUBLIC = InetAddress.getLoopbackAddress();

    private static final AppManifest MAIL = MailShapedManifest.MAIL;

    private static Map<String, DesiredListener> byKey(List<DesiredListener> listeners) {
        Map<String, DesiredListener> out = new java.util.LinkedHashMap<>();
        listeners.forEach(l -> out.put(l.key(), l));
        return out;
    }

    @Test
    void publicPortsBindThePublicAddressPrivateOnesTheOverlayAndInternalOnesNothing() throws Exception {
        InetAddress overlay = InetAddress.getByName("10.147.17.1");
        Map<String, DesiredListener> plan = byKey(ListenerPlan.of(MAIL, NAMES, PUBLIC, Optional.of(overlay),
                Map.of(NAMES.edgeNetwork("mail", "imap", "spam"), "172.30.5.1")));

        assertThat(plan).containsOnlyKeys("mail/smtp-in/smtp", "mail/smtp-in/smtp@overlay", "mail/imap/imap",
                "mail/spam/spamd/from-imap");
        assertThat(plan.get("mail/smtp-in/smtp").bind()).hasValue(PUBLIC);
        assertThat(plan.get("mail/smtp-in/smtp@overlay").bind()).hasValue(overlay);
        assertThat(plan.get("mail/imap/imap").bind()).hasValue(overlay);
        assertThat(plan.get("mail/imap/imap").listen()).isEqualTo(143);
        assertThat(plan.get("mail/spam/spamd/from-imap").bind()).hasValue(InetAddress.getByName("172.30.5.1"));
        assertThat(plan.get("mail/spam/spamd/from-imap").listen()).isEqualTo(7830);
    }

    @Test
    void ephemeralRolesTakeAFreshContainerFromTheirPoolAndServicesGoToTheirTarget() {
        Map<String, DesiredListener> plan = byKey(ListenerPlan.of(MAIL, NAMES, PUBLIC, Optional.empty(), Map.of()));

        assertThat(plan.get("mail/smtp-in/smtp").pooled()).isTrue();
        assertThat(plan.get("mail/smtp-in/smtp").upstream()).isEqualTo("mail/smtp-in");
        assertThat(plan.get("mail/smtp-in/smtp@overlay").upstream()).isEqualTo("mail/smtp-in");
        assertThat(plan.get("mail/spam/spamd/from-imap").upstream()).isEqualTo("mail/spam");
        assertThat(plan.get("mail/imap/imap").pooled()).isFalse();
        assertThat(plan.get("mail/imap/imap").upstream()).isEqualTo("mail/imap/imap");
    }

    @Test
    void withTheOverlayDownPrivateAndOverlayListenersHaveNoAddressAndNoOtherIsOffered() {
        Map<String, DesiredListener> plan = byKey(ListenerPlan.of(MAIL, NAMES, PUBLIC, Optional.empty(), Map.of()));

        assertThat(plan.get("mail/imap/imap").bind()).isEmpty();
        assertThat(plan.get("mail/smtp-in/smtp@overlay").bind()).isEmpty();
        assertThat(plan.get("mail/spam/spamd/from-imap").bind()).as("no gateway known yet").isEmpty();
        assertThat(plan.get("mail/smtp-in/smtp").bind()).hasValue(PUBLIC);
    }

    @Test
    void onlySmtpPortsRefuseWithA421AndAChangedBindingIsANewShape() throws Exception {
        List<DesiredListener> up = ListenerPlan.of(MAIL, NAMES, PUBLIC, Optional.of(InetAddress.getByName("10.0.0.1")), Map.of());
        List<DesiredListener> moved = ListenerPlan.of(MAIL, NAMES, PUBLIC, Optional.of(InetAddress.getByName("10.0.0.2")), Map.of());

        assertThat(byKey(up).get("mail/smtp-in/smtp").refusal()).hasValue(ListenerPlan.SMTP_BUSY);
        assertThat(byKey(up).get("mail/imap/imap").refusal()).isEmpty();
        assertThat(byKey(up).get("mail/imap/imap").shape()).isNotEqualTo(byKey(moved).get("mail/imap/imap").shape());
        assertThat(byKey(up).get("mail/smtp-in/smtp").shape()).isEqualTo(byKey(moved).get("mail/smtp-in/smtp").shape());
    }
}
