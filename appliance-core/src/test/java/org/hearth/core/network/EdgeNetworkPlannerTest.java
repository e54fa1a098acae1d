package org.hearth.core.network;

import org.hearth.core.manifest.AppManifest;
import org.hearth.core.manifest.ManifestReader;
import org.hearth.core.runtime.EngineNames;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EdgeNetworkPlannerTest {

    private static final EngineNames NAMES = new EngineNames("0a1b");

    private static final AppManifest APP = ManifestReader.read("app.yaml", """
            schema: 1
            app: shop
            version: 1.0.0
            containers:
              web:
                image: hearth/web
                lifecycle: service
                ports: [{name: http, port: 80, exposure: public, listen: 8080}]
                edges: [{to: db, port: sql}, {to: db, port: admin}, {to: cache, port: redis}]
              db:
                image: hearth/db
                lifecycle: service
                ports: [{name: sql, port: 5432, exposure: internal}, {name: admin, port: 9000, exposure: internal}]
              cache:
                image: hearth/cache
                lifecycle: service
                ports: [{name: redis, port: 6379, exposure: internal}]
              batch:
                image: hearth/batch
                lifecycle: service
                edges: [{to: db, port: sql}]
            """);

    @Test
    void oneNetworkPerClientServerPairAndOneIngressPerListeningContainer() {
        NetworkPlan plan = EdgeNetworkPlanner.plan(NAMES, APP);

        assertThat(plan.networks()).containsOnlyKeys("hearth-shop-web-ingress-0a1b", "hearth-shop-web-to-db-0a1b",
                "hearth-shop-web-to-cache-0a1b", "hearth-shop-batch-to-db-0a1b");
        assertThat(plan.networks().get("hearth-shop-web-ingress-0a1b")).isEqualTo(NetworkPlan.Kind.INGRESS);
    }

    @Test
    void serverIsKnownByItsNameOnlyOnItsEdgeNetworksAndClientsShareNoNetwork() {
        NetworkPlan plan = EdgeNetworkPlanner.plan(NAMES, APP);

        assertThat(plan.attachmentsOf("db")).containsExactlyInAnyOrder(
                new NetworkPlan.Attachment("hearth-shop-web-to-db-0a1b", List.of("db")),
                new NetworkPlan.Attachment("hearth-shop-batch-to-db-0a1b", List.of("db")));
        assertThat(plan.attachmentsOf("batch")).extracting(NetworkPlan.Attachment::network)
                .doesNotContainAnyElementsOf(plan.attachmentsOf("web").stream().map(NetworkPlan.Attachment::network).toList());
        assertThat(plan.attachmentsOf("cache")).extracting(NetworkPlan.Attachment::network)
                .containsExactly("hearth-shop-web-to-cache-0a1b");
    }
}
