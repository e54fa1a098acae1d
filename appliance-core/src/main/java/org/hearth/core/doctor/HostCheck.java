package org.hearth.core.doctor;

import java.util.Optional;

/**
 * One fact about the host that Hearth depends on.
 *
 * @param required whether Hearth cannot run without it (optional ones limit features only)
 * @param detail   what was found, or what is missing
 * @param fix      what to do about it, when not ok
 */
public record HostCheck(String name, boolean ok, boolean required, String detail, Optional<String> fix) {

    static HostCheck ok(String name, boolean required, String detail) {
        return new HostCheck(name, true, required, detail, Optional.empty());
    }

    static HostCheck missing(String name, boolean required, String detail, String fix) {
        return new HostCheck(name, false, required, detail, Optional.of(fix));
    }

    public boolean blocksHearth() {
        return required && !ok;
    }
}
