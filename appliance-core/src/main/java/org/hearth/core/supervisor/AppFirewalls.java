package org.hearth.core.supervisor;

import org.hearth.core.network.EdgeFirewall;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rules of every app's networks and the overlay's guard, applied to the host's firewall as
 * one whole: a change to one app's rules rewrites the instance's chains.
 */
final class AppFirewalls {

    private final EdgeFirewall firewall;
    private final Map<String, List<EdgeFirewall.NetworkRule>> byApp = new TreeMap<>();
    private Optional<EdgeFirewall.OverlayGuard> guard = Optional.empty();

    AppFirewalls(EdgeFirewall firewall) {
        this.firewall = firewall;
    }

    synchronized void apply(String app, List<EdgeFirewall.NetworkRule> rules) {
        byApp.put(app, rules);
        applyAll();
    }

    /** A new overlay address (or none) moves the guard that keeps the public side off the private ports. */
    synchronized void guard(Optional<EdgeFirewall.OverlayGuard> newGuard) {
        if (!newGuard.equals(guard)) {
            guard = newGuard;
            applyAll();
        }
    }

    /** Drops the rules of apps no longer installed. */
    synchronized void retain(Set<String> apps) {
        if (byApp.keySet().removeIf(app -> !apps.contains(app))) {
            applyAll();
        }
    }

    synchronized void remove() {
        firewall.remove();
    }

    private void applyAll() {
        List<EdgeFirewall.NetworkRule> all = new ArrayList<>();
        byApp.values().forEach(all::addAll);
        firewall.apply(all, guard);
    }
}
