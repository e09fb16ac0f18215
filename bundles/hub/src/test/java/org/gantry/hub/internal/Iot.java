package org.gantry.hub.internal;

import java.net.URI;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iot.IotClient;

/** The AWS SDK for Java v2 IoT client, pointed at a hub, and a hub to point it at. */
final class Iot {
  private Iot() {}

  /**
   * A hub on free ports whose management API works on its own: its broker address has nothing
   * listening (it keeps trying to connect meanwhile). Account 123456789012, us-east-1.
   */
  static HubComponent hubWithoutBroker(Path dir) throws Exception {
    return new HubComponent(
        new HubSettings(
            "tcp://127.0.0.1:" + TestBroker.freePort(),
            "gantry-hub",
            "127.0.0.1",
            TestBroker.freePort(),
            dir,
            new Arns("us-east-1", "123456789012")),
        java.time.Clock.systemUTC());
  }

  static IotClient client(int port) {
    return IotClient.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + port))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }
}
