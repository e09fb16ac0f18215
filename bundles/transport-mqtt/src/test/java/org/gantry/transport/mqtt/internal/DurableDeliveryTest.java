package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.api.transport.ConnectionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Durable publishing end to end, on Moquette and on Mosquitto, with the transport behind a proxy
 * whose link the test cuts: a flapping network, a broker that is down for a while, a restart of the
 * runtime. "Nothing lost" means every sequence number arrives at least once, in order.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DurableDeliveryTest {

  private static final String TOPIC = "gantry/test/status";

  @TempDir Path dir;

  private AutoCloseable broker;
  private String brokerUrl;
  private FlakyProxy proxy;
  private final List<PahoMqttTransport> transports = new ArrayList<>();
  private MqttClient subscriber;
  private final List<Integer> received = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopEverything() throws Exception {
    for (PahoMqttTransport t : transports) {
      t.deactivate();
    }
    if (subscriber != null) {
      if (subscriber.isConnected()) {
        subscriber.disconnectForcibly(0, 1_000);
      }
      subscriber.close(true);
    }
    if (proxy != null) {
      proxy.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private void startBroker(String kind) throws Exception {
    if (kind.equals("moquette")) {
      TestBroker b = TestBroker.start(dir.resolve("moquette"));
      broker = b;
      brokerUrl = b.url();
    } else {
      MosquittoBroker b = MosquittoBroker.start(dir, null);
      broker = b;
      brokerUrl = b.url();
    }
    proxy = new FlakyProxy(Integer.parseInt(brokerUrl.substring(brokerUrl.lastIndexOf(':') + 1)));
  }

  private void subscribe() throws Exception {
    subscriber = new MqttClient(brokerUrl, "receiver", new MemoryPersistence());
    subscriber.setTimeToWait(5_000);
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setMaxInflight(1000);
    subscriber.connect(options);
    subscriber.subscribe(
        TOPIC,
        1,
        (topic, message) ->
            received.add(Integer.parseInt(new String(message.getPayload(), UTF_8))));
  }

  private PahoMqttTransport transport() {
    PahoMqttTransport t =
        new PahoMqttTransport(
            TestConfigs.config(
                "broker.url", proxy.url(),
                "client.id", "flappy",
                "reconnect.min.millis", 50,
                "reconnect.max.millis", 400,
                "connect.timeout.seconds", 2,
                "max.inflight", 64,
                // five flaps within seconds look like a duplicate client id to the detector (three
                // losses right after connecting); this test is about the flaps
                "duplicate.losses", 20,
                "data.dir", dir.resolve("data").toString()));
    transports.add(t);
    return t;
  }

  private static byte[] payload(int n) {
    return Integer.toString(n).getBytes(UTF_8);
  }

  private long distinct() {
    return received.stream().distinct().count();
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void fiveFlapsDuringABurstOfTenThousandLoseNothing(String kind) throws Exception {
    startBroker(kind);
    subscribe();
    PahoMqttTransport transport = transport();
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "first connection");
    int total = 10_000;
    List<CompletableFuture<Void>> accepted = new ArrayList<>(total);
    Thread producer =
        new Thread(
            () -> {
              for (int i = 0; i < total; i++) {
                accepted.add(transport.publishDurably(TOPIC, payload(i)).toCompletableFuture());
              }
            });
    producer.start();
    for (int flap = 1; flap <= 5; flap++) {
      long threshold = flap * 1_500L;
      Await.until(() -> distinct() >= threshold, "delivery reaches " + threshold + " before flap");
      proxy.cut();
      Await.until(
          () -> transport.state() != ConnectionState.CONNECTED, "the transport notices the cut");
      Thread.sleep(100);
      proxy.restore();
      Await.until(() -> transport.state() == ConnectionState.CONNECTED, "reconnects after flap");
    }
    producer.join(30_000);
    CompletableFuture.allOf(accepted.toArray(new CompletableFuture<?>[0]))
        .get(30, TimeUnit.SECONDS);
    Await.until(
        () -> distinct() == total,
        java.time.Duration.ofSeconds(60),
        () -> "all " + total + " arrive; " + distinct() + " did");
    DurableOutboxTest.assertNoGapAndComplete(received, total);
    Await.until(() -> transport.status().durableBacklog() == 0, "the outbox empties");
    assertEquals(0, transport.clientRefusals(), "Paho never refused a publish with 32202/32001");
    assertTrue(transport.status().reconnectCount() >= 5, "" + transport.status().reconnectCount());
  }

  /** FAULTS.md 24: the broker is down for a while, then back; status updates arrive in order. */
  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void brokerDownThenBackDeliversWhatWasPublishedMeanwhileInOrder(String kind) throws Exception {
    startBroker(kind);
    PahoMqttTransport transport = transport();
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "first connection");
    proxy.cut();
    broker.close();
    Await.until(() -> transport.state() != ConnectionState.CONNECTED, "notices the loss");
    for (int i = 0; i < 200; i++) {
      // accepted while the broker is down: durable is on disk, not on the network
      transport.publishDurably(TOPIC, payload(i)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
    assertEquals(200, transport.status().durableBacklog());
    assertTrue(transport.status().lastError().isPresent(), "the outage is visible in the status");
    if (broker instanceof TestBroker b) {
      b.start();
    } else {
      ((MosquittoBroker) broker).start();
    }
    subscribe();
    proxy.restore();
    Await.until(() -> distinct() == 200, "all 200 arrive after the broker is back");
    DurableOutboxTest.assertNoGapAndComplete(received, 200);
    assertEquals(1, transport.status().reconnectCount());
    assertEquals(0, transport.clientRefusals());
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette"})
  void whatARuntimeAcceptedIsDeliveredAfterItsRestartEvenWithATornFile(String kind)
      throws Exception {
    startBroker(kind);
    proxy.cut();
    PahoMqttTransport before = transport();
    for (int i = 0; i < 50; i++) {
      before.publishDurably(TOPIC, payload(i)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
    before.deactivate();
    transports.remove(before);
    Path folder = dir.resolve("data").resolve("outbox-flappy");
    try (var files = Files.list(folder)) {
      Path segment =
          files
              .filter(p -> p.getFileName().toString().startsWith("seg-"))
              .findFirst()
              .orElseThrow();
      // the power failed during an append that was never acknowledged
      Files.write(segment, new byte[] {0, 0, 0, 99, 1, 2}, java.nio.file.StandardOpenOption.APPEND);
    }
    subscribe();
    proxy.restore();
    PahoMqttTransport after = transport();
    assertEquals(50, after.status().durableBacklog());
    Await.until(() -> distinct() == 50, "all 50 arrive after the restart");
    DurableOutboxTest.assertNoGapAndComplete(received, 50);
    assertTrue(Files.isDirectory(folder.resolve(DurableOutbox.QUARANTINE)));
  }
}
