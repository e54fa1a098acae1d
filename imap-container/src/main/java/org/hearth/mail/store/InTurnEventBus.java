package org.hearth.mail.store;

import org.apache.james.events.Event;
import org.apache.james.events.EventBus;
import org.apache.james.events.EventBusName;
import org.apache.james.events.EventListener;
import org.apache.james.events.Group;
import org.apache.james.events.GroupAlreadyRegistered;
import org.apache.james.events.InVMEventBus;
import org.apache.james.events.Registration;
import org.apache.james.events.RegistrationKey;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

import java.util.Collection;
import java.util.Set;

/**
 * James 3.8.1's in-memory event bus with its listener registrations changed and read in turn. Its
 * registrations sit in a synchronized multimap, but a dispatch streams over a key's listeners
 * without the map's lock: an IMAP session registering or unregistering (SELECT, IDLE, LOGOUT)
 * while another session's STORE dispatches its flag change fails that STORE with a
 * ConcurrentModificationException (ImapLoadTest met it once in CI). Here each registration change
 * and each dispatch's lookup of its listeners hold one lock; the deliveries run outside it.
 */
final class InTurnEventBus implements EventBus {

    private final InVMEventBus delegate;
    private final Object registrations = new Object();

    InTurnEventBus(InVMEventBus delegate) {
        this.delegate = delegate;
    }

    @Override
    public Publisher<Registration> register(EventListener.ReactiveEventListener listener, RegistrationKey key) {
        // InVMEventBus adds the listener when asked and removes it when its unregister is subscribed to.
        Registration registration;
        synchronized (registrations) {
            registration = Mono.from(delegate.register(listener, key)).block();
        }
        return Mono.<Registration>just(() -> Mono.fromRunnable(() -> {
            synchronized (registrations) {
                Mono.from(registration.unregister()).block();
            }
        }));
    }

    @Override
    public Registration register(EventListener.ReactiveEventListener listener, Group group) throws GroupAlreadyRegistered {
        return delegate.register(listener, group);
    }

    @Override
    public Mono<Void> dispatch(Event event, Set<RegistrationKey> keys) {
        // The listeners are looked up here, in the call; delivering to them happens later.
        synchronized (registrations) {
            return delegate.dispatch(event, keys);
        }
    }

    @Override
    public Mono<Void> reDeliver(Group group, Event event) {
        return delegate.reDeliver(group, event);
    }

    @Override
    public EventBusName eventBusName() {
        return delegate.eventBusName();
    }

    @Override
    public Collection<Group> listRegisteredGroups() {
        return delegate.listRegisteredGroups();
    }
}
