package org.hearth.core.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The appliance as its own ZeroTier network controller, through the network controller that every
 * zerotier-one carries ({@code /controller/...} on the same local API), so the owner needs no hosted service.
 * Owner actions, not part of the supervisor pass: trouble is thrown as {@link ZeroTierException}.
 */
public final class ZeroTierController {

    private static final Logger LOG = LoggerFactory.getLogger(ZeroTierController.class);
    /** Longer than the overlay's: these are one-off owner commands, and the controller writes to disk. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** A node known to one of this controller's networks. */
    public record Member(String id, boolean authorized, List<String> ipAssignments) {
        public Member {
            ipAssignments = List.copyOf(ipAssignments);
        }
    }

    private final ZeroTierServiceApi api;

    public ZeroTierController(ZeroTierSettings settings) {
        this(settings, TIMEOUT);
    }

    ZeroTierController(ZeroTierSettings settings, Duration timeout) {
        this.api = new ZeroTierServiceApi(settings, timeout);
    }

    /**
     * Creates a private network (members must be authorized) that hands out addresses .1 to .254 of
     * {@code prefix}, such as {@code 10.147.17.0/24}, and returns its new 16-digit id.
     */
    public String createNetwork(String name, String prefix) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("network name: must not be empty");
        }
        Ipv4Prefix cidr = slash24(prefix);
        String node = api.nodeId();
        ObjectNode body = ZeroTierServiceApi.JSON.createObjectNode();
        body.put("name", name);
        body.put("private", true);
        body.putObject("v4AssignMode").put("zt", true);
        body.putArray("ipAssignmentPools").addObject()
                .put("ipRangeStart", cidr.host(1).getHostAddress())
                .put("ipRangeEnd", cidr.host(254).getHostAddress());
        body.putArray("routes").addObject().put("target", cidr.toString()).putNull("via");
        // Ten digits of our node address and six underscores ask the controller for an unused id under it.
        String path = "/controller/network/" + node + "______";
        ZeroTierServiceApi.Reply reply = api.post(path, body);
        if (reply.status() != 200) {
            throw api.unexpected("POST", path, reply);
        }
        String nwid = reply.body().path("nwid").asText("");
        if (!ZeroTierIds.isNetwork(nwid) || !nwid.startsWith(node)) {
            throw new ZeroTierException("zerotier-one created a network but answered with id \"" + nwid
                    + "\", not one under node " + node);
        }
        LOG.info("event=zerotier-network-created network={} prefix={}", nwid, cidr);
        return nwid;
    }

    private static Ipv4Prefix slash24(String prefix) {
        String refusal = "network prefix: must be an IPv4 /24 such as 10.147.17.0/24, not \"" + prefix + "\"";
        try {
            Ipv4Prefix cidr = Ipv4Prefix.parse(prefix == null ? "" : prefix);
            if (cidr.length() == 24) {
                return cidr;
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(refusal, e);
        }
        throw new IllegalArgumentException(refusal);
    }

    /** This appliance's ZeroTier address: a network it controls has an id that starts with it. */
    public String nodeId() {
        return api.nodeId();
    }

    public void authorize(String network, String memberId) {
        setAuthorized(network, memberId, true);
    }

    public void deauthorize(String network, String memberId) {
        setAuthorized(network, memberId, false);
    }

    /** Every node that has asked to join {@code network} or been authorized on it, by id. */
    public List<Member> members(String network) {
        String nwid = ZeroTierIds.network("network id", network);
        String path = "/controller/network/" + nwid + "/member";
        ZeroTierServiceApi.Reply reply = api.get(path);
        requireHosted(nwid, path, "GET", reply);
        // The list maps each member id to its revision; each member's own record says whether it is authorized.
        TreeSet<String> ids = new TreeSet<>();
        reply.body().fieldNames().forEachRemaining(ids::add);
        List<Member> members = new ArrayList<>();
        for (String id : ids) {
            String memberPath = path + "/" + ZeroTierIds.node("member id", id);
            ZeroTierServiceApi.Reply member = api.get(memberPath);
            if (member.status() == 404) {
                continue; // deleted between the list and this read
            }
            requireHosted(nwid, memberPath, "GET", member);
            List<String> ips = new ArrayList<>();
            member.body().path("ipAssignments").forEach(ip -> ips.add(ip.asText()));
            members.add(new Member(id, member.body().path("authorized").asBoolean(false), ips));
        }
        return members;
    }

    private void setAuthorized(String network, String memberId, boolean authorized) {
        String nwid = ZeroTierIds.network("network id", network);
        String member = ZeroTierIds.node("member id", memberId);
        String path = "/controller/network/" + nwid + "/member/" + member;
        ObjectNode body = ZeroTierServiceApi.JSON.createObjectNode().put("authorized", authorized);
        ZeroTierServiceApi.Reply reply = api.post(path, body);
        requireHosted(nwid, path, "POST", reply);
        JsonNode now = reply.body().path("authorized");
        if (!now.isBoolean() || now.asBoolean() != authorized) {
            throw new ZeroTierException("zerotier-one did not record member " + member + " on network " + nwid
                    + " as " + (authorized ? "authorized" : "deauthorized"));
        }
        LOG.info("event=zerotier-member-{} network={} member={}", authorized ? "authorized" : "deauthorized",
                nwid, member);
    }

    private void requireHosted(String nwid, String path, String method, ZeroTierServiceApi.Reply reply) {
        if (reply.status() == 404) {
            throw new ZeroTierException("network " + nwid + " is not one this node's controller hosts");
        }
        if (reply.status() != 200) {
            throw api.unexpected(method, path, reply);
        }
    }
}
