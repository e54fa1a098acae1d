package org.hearth.mail.webmail;

import jakarta.mail.Address;
import jakarta.mail.internet.InternetAddress;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How addresses read in lists and headers: the name when there is one, else the address. */
final class Addresses {

    private Addresses() {
    }

    static String display(Address[] addresses) {
        if (addresses == null || addresses.length == 0) {
            return "";
        }
        return Arrays.stream(addresses).map(Addresses::display).collect(Collectors.joining(", "));
    }

    static String display(Address a) {
        if (a instanceof InternetAddress ia) {
            String name = ia.getPersonal();
            return name != null && !name.isBlank() ? name.strip() : ia.getAddress();
        }
        return a.toString();
    }

    /** Full form, for headers shown in full and for reply fields: "Name <address>" or the address. */
    static String full(Address[] addresses) {
        if (addresses == null || addresses.length == 0) {
            return "";
        }
        return Arrays.stream(addresses).map(a -> a instanceof InternetAddress ia ? ia.toUnicodeString() : a.toString())
                .collect(Collectors.joining(", "));
    }
}
