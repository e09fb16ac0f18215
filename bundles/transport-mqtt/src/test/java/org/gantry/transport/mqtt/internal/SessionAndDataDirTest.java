package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The persistent session, and where the durable outbox lives. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionAndDataDirTest {

  @TempDir Path dir;

  private AutoCloseable broker;
  private FlakyProxy proxy;
  private final List<PahoMqttTransport> transports = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (PahoMqttTransport t : transports) {
      t.deactivate();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private PahoMqttTransport transport(Map<String, Object> props, Map<String, String> framework) {
    PahoMqttTransport t = new PahoMqttTransport(TestConfigs.config(props), framework::get);
    transports.add(t);
    return t;
  }

  /** Issue 5: QoS 1 messages sent to us while we were offline arrive after the reconnect. */
  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void qos1MessagesQueuedWhileOfflineArrive(String kind) throws Exception {
    String url;
    if (kind.equals("moquette")) {
      TestBroker b = TestBroker.start(dir.resolve("moquette"));
      broker = b;
      url = b.url();
    } else {
      MosquittoBroker b = MosquittoBroker.start(dir, null);
      broker = b;
      url = b.url();
    }
    proxy = new FlakyProxy(Integer.parseInt(url.substring(url.lastIndexOf(':') + 1)));
    PahoMqttTransport t =
        transport(
            Map.of(
                "broker.url",
                proxy.url(),
                "client.id",
                "sleeper",
                "reconnect.min.millis",
                100,
                "reconnect.max.millis",
                200),
            Map.of());
    Await.until(() -> t.state() == ConnectionState.CONNECTED, "connects");
    Inbox inbox = new Inbox();
    t.subscribe("things/sleeper/notify", 1, inbox).toCompletableFuture().get(10, TimeUnit.SECONDS);
    proxy.cut();
    Await.until(() -> t.state() != ConnectionState.CONNECTED, "offline");

    MqttClient service = new MqttClient(url, "service", new MemoryPersistence());
    try {
      MqttConnectOptions o = new MqttConnectOptions();
      o.setCleanSession(true);
      service.connect(o);
      for (int i = 0; i < 5; i++) {
        service.publish("things/sleeper/notify", ("job-" + i).getBytes(UTF_8), 1, false);
      }
      service.disconnect();
    } finally {
      service.close();
    }

    proxy.restore();
    for (int i = 0; i < 5; i++) {
      assertEquals("job-" + i, inbox.next().payload(), "queued by the broker while offline");
    }
  }

  @Test
  void withoutADataFolderDurablePublishingFailsWithAReason() throws Exception {
    PahoMqttTransport t =
        transport(Map.of("broker.url", "tcp://127.0.0.1:1", "client.id", "nodata"), Map.of());
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                t.publishDurably("a/b", new byte[1])
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS));
    assertInstanceOf(TransportException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("set data.dir"), e.getCause().getMessage());
    assertEquals(0, t.status().durableBacklog());
  }

  @Test
  void theDataFolderDefaultsToTheFrameworkProperty() throws Exception {
    PahoMqttTransport t =
        transport(
            Map.of("broker.url", "tcp://127.0.0.1:1", "client.id", "gw/1 x"),
            Map.of(PahoMqttTransport.DATA_DIR_PROPERTY, dir.toString()));
    t.publishDurably("a/b", new byte[] {1}).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(1, t.status().durableBacklog());
    Path folder = dir.resolve("transport").resolve("outbox-gw%2f;1%20;x");
    assertTrue(Files.isDirectory(folder), "client id made file-safe: " + folder);
  }

  @Test
  void anUnusableDataFolderFailsActivationNamingTheProperty() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                transport(
                    Map.of(
                        "broker.url", "tcp://127.0.0.1:1",
                        "client.id", "gw",
                        "data.dir", file.toString()),
                    Map.of()));
    assertTrue(e.getMessage().startsWith("data.dir"), e.getMessage());
  }
}
