package org.hearth.mail.outbound.delivery;

/** Where a domain's mail goes: MX hosts, nowhere (a permanent failure), or not known yet (try later). */
public interface Router {

    MxResolver.Route route(String domain);

    /** The router of an appliance with no resolver configured: everything waits in the queue, saying why. */
    static Router withoutResolver() {
        return domain -> new MxResolver.TryLater("no DNS resolver is configured (appliance.yaml: egress.resolver),"
                + " so " + domain + " cannot be looked up");
    }
}
