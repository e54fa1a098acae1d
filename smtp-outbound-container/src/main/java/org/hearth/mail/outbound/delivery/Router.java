package org.hearth.mail.outbound.delivery;

/** Where a domain's mail goes: MX hosts, nowhere (a permanent failure), or not known yet (try later). */
public interface Router {

    MxResolver.Route route(String domain);

    /**
     * The addresses of one named host (a relay): one host, or try later; never undeliverable,
     * since a relay that cannot be found is the owner's setting to fix, not the recipient's fault.
     */
    MxResolver.Route host(String name);

    /** The router of an appliance with no resolver configured: everything waits in the queue, saying why. */
    static Router withoutResolver() {
        return new Router() {
            @Override
            public MxResolver.Route route(String domain) {
                return new MxResolver.TryLater("no DNS resolver is configured (appliance.yaml: egress.resolver),"
                        + " so " + domain + " cannot be looked up");
            }

            @Override
            public MxResolver.Route host(String name) {
                return route(name);
            }
        };
    }
}
