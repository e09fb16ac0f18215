package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.Delivery;
import org.gantry.api.transport.MessageListener;
import org.gantry.api.transport.Subscription;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PahoMqttTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  // One broker for the class: Moquette takes about 2 s to stop (Netty's graceful shutdown).
  @TempDir static Path dataDir;

  private static TestBroker broker;
  private final List<PahoMqttTransport> transports = new ArrayList<>();
  private final List<MqttClient> rawClients = new ArrayList<>();

  @BeforeAll
  static void startBroker() {
    broker = TestBroker.start(dataDir);
  }

  @AfterAll
  static void stopBroker() {
    broker.stop();
  }

  @AfterEach
  void stopClients() throws Exception {
    for (PahoMqttTransport t : transports) {
      t.deactivate();
    }
    for (MqttClient c : rawClients) {
      if (c.isConnected()) {
        c.disconnectForcibly(0, 1_000);
      }
      c.close(true);
    }
  }

  private PahoMqttTransport connected(String clientId, Object... extra) throws Exception {
    return connected(broker, clientId, extra);
  }

  private PahoMqttTransport connected(TestBroker to, String clientId, Object... extra)
      throws Exception {
    PahoMqttTransport t = transport(to.url(), clientId, extra);
    Await.until(() -> t.state() == ConnectionState.CONNECTED, clientId + " connects");
    return t;
  }

  private PahoMqttTransport transport(String url, String clientId, Object... extra) {
    Object[] base = {
      "broker.url", url,
      "client.id", clientId,
      "reconnect.min.millis", 50,
      "reconnect.max.millis", 200,
      "connect.timeout.seconds", 2
    };
    Object[] all = new Object[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    PahoMqttTransport t = new PahoMqttTransport(TestConfigs.config(all));
    transports.add(t);
    return t;
  }

  private MqttClient rawClient(String clientId) throws Exception {
    MqttClient client = new MqttClient(broker.url(), clientId, new MemoryPersistence());
    client.setTimeToWait(5_000);
    rawClients.add(client);
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    client.connect(options);
    return client;
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static TransportException failure(java.util.concurrent.CompletionStage<?> stage)
      throws Exception {
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    return assertInstanceOf(TransportException.class, e.getCause());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void roundTripAtQos0AndQos1() throws Exception {
    PahoMqttTransport t = connected("rt");
    assertEquals("rt", t.clientId());
    Inbox inbox = new Inbox();
    Subscription sub = await(t.subscribe("gantry/test/+", 1, inbox));
    assertEquals("gantry/test/+", sub.filter());

    await(t.publish("gantry/test/a", bytes("zero"), 0));
    await(t.publish("gantry/test/b", bytes("one"), 1));

    Inbox.Received first = inbox.next();
    assertEquals("gantry/test/a", first.topic());
    assertEquals("zero", first.payload());
    Inbox.Received second = inbox.next();
    assertEquals("gantry/test/b", second.topic());
    assertEquals("one", second.payload());
  }

  @Test
  void largeMessageOf32KiloCharacters() throws Exception {
    PahoMqttTransport t = connected("large");
    Inbox inbox = new Inbox();
    await(t.subscribe("big/doc", 1, inbox));
    String document = "x".repeat(32_768);
    await(t.publish("big/doc", bytes(document), 1));
    assertEquals(document, inbox.next().payload());
  }

  @Test
  void wildcardFiltersAndDollarTopics() throws Exception {
    PahoMqttTransport t = connected("wild");
    Inbox root = new Inbox();
    Inbox jobs = new Inbox();
    Inbox plusFirst = new Inbox();
    await(t.subscribe("#", 1, root));
    await(t.subscribe("$aws/things/T/jobs/+/get/+", 1, jobs));
    await(t.subscribe("+/things/T/jobs/j1/get/accepted", 1, plusFirst));

    await(t.publish("$aws/things/T/jobs/j1/update/accepted", bytes("not for jobs"), 1));
    await(t.publish("$aws/things/T/jobs/j1/get/accepted", bytes("for jobs"), 1));
    await(t.publish("plain/topic", bytes("for root"), 1));

    Inbox.Received j = jobs.next();
    assertEquals("$aws/things/T/jobs/j1/get/accepted", j.topic());
    assertEquals("for jobs", j.payload());
    // Delivery is in order: had '#' or '+/...' matched a $-topic, that message would come first.
    Inbox.Received r = root.next();
    assertEquals("plain/topic", r.topic(), "'#' must not match $-topics (MQTT 3.1.1 §4.7.2)");
    assertNull(plusFirst.poll(), "'+/...' must not match a $-topic");
    assertNull(jobs.poll());
  }

  @Test
  void subscribeCompletesOnlyAfterTheSuback() throws Exception {
    PahoMqttTransport t = connected("suback");
    MqttClient other = rawClient("other-publisher");
    for (int i = 0; i < 20; i++) {
      Inbox inbox = new Inbox();
      String filter = "suback/" + i + "/+";
      // publish from another connection the moment the stage completes: the broker must already
      // route to us, which only holds once the SUBACK is in
      Subscription sub = await(t.subscribe(filter, 1, inbox));
      other.publish("suback/" + i + "/x", bytes("m" + i), 1, false);
      assertEquals("m" + i, inbox.next().payload());
      sub.close();
    }
  }

  @Test
  void refusedSubscriptionCompletesExceptionallyNamingTheFilter(@TempDir Path ownData)
      throws Exception {
    try (TestBroker strict =
        TestBroker.start(
            ownData,
            new io.moquette.broker.security.IAuthorizatorPolicy() {
              @Override
              public boolean canWrite(
                  io.moquette.broker.subscriptions.Topic topic, String user, String client) {
                return true;
              }

              @Override
              public boolean canRead(
                  io.moquette.broker.subscriptions.Topic topic, String user, String client) {
                return !topic.toString().startsWith("forbidden");
              }
            })) {
      PahoMqttTransport t = connected(strict, "refused");
      TransportException e = failure(t.subscribe("forbidden/x", 1, new Inbox()));
      assertTrue(e.getMessage().contains("'forbidden/x'"), e.getMessage());
      assertTrue(e.getMessage().contains("refused"), e.getMessage());
      assertEquals(ConnectionState.CONNECTED, t.state());

      Inbox inbox = new Inbox();
      await(t.subscribe("allowed/x", 1, inbox));
      await(t.publish("forbidden/x", bytes("nobody listens"), 1));
      await(t.publish("allowed/x", bytes("ok"), 1));
      assertEquals("ok", inbox.next().payload());
      t.deactivate();
      transports.remove(t);
    }
  }

  @Test
  void listenersRunOnTheDeliveryThreadNeverOnPaho() throws Exception {
    PahoMqttTransport t = connected("threads");
    Inbox inbox = new Inbox();
    await(t.subscribe("threads/#", 1, inbox));
    List<String> completionThreads = new CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      done.add(
          t.publish("threads/" + i, bytes("p" + i), i % 2)
              .thenRun(() -> completionThreads.add(Thread.currentThread().getName()))
              .toCompletableFuture());
    }
    CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0]))
        .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    for (int i = 0; i < 20; i++) {
      String thread = inbox.next().thread();
      assertTrue(thread.startsWith("gantry-mqtt-delivery-threads"), thread);
    }
    assertEquals(20, completionThreads.size());
    for (String thread : completionThreads) {
      assertTrue(!thread.startsWith("MQTT"), "publish stage completed on Paho's " + thread);
    }
  }

  /** A listener with a bug: it records each payload, then throws. */
  private static MessageListener throwingAfterRecording(List<String> payloads) {
    return (topic, payload) -> {
      payloads.add(new String(payload, UTF_8));
      throw new IllegalStateException("listener bug, on purpose");
    };
  }

  @Test
  void throwingListenerDoesNotStopDeliveryToOthers() throws Exception {
    PahoMqttTransport t = connected("throwing");
    List<String> thrown = new CopyOnWriteArrayList<>();
    await(t.subscribe("same/filter", 1, throwingAfterRecording(thrown)));
    Inbox sameFilter = new Inbox();
    Inbox otherFilter = new Inbox();
    await(t.subscribe("same/filter", 0, sameFilter));
    await(t.subscribe("same/+", 1, otherFilter));

    await(t.publish("same/filter", bytes("one"), 1));
    await(t.publish("same/filter", bytes("two"), 1));

    // every listener gets every message exactly once, the throwing one included
    assertEquals("one", sameFilter.next().payload());
    assertEquals("two", sameFilter.next().payload());
    assertEquals("one", otherFilter.next().payload());
    assertEquals("two", otherFilter.next().payload());
    Await.until(() -> thrown.size() == 2, "the throwing listener saw both messages");
    await(t.publish("same/filter", bytes("three"), 1));
    assertEquals("three", sameFilter.next().payload());
    assertEquals("three", otherFilter.next().payload());
    assertNull(sameFilter.poll(), "no duplicate for a filter subscribed twice");
    assertNull(otherFilter.poll());
    assertEquals(List.of("one", "two", "three"), thrown);
  }

  @Test
  void eachListenerOwnsItsPayload() throws Exception {
    PahoMqttTransport t = connected("owns");
    await(
        t.subscribe(
            "own/x",
            1,
            (topic, payload) -> {
              payload[0] = 'X'; // the first listener scribbles on its copy
            }));
    Inbox inbox = new Inbox();
    await(t.subscribe("own/x", 1, inbox));
    await(t.publish("own/x", bytes("abc"), 1));
    assertEquals("abc", inbox.next().payload());
  }

  @ParameterizedTest
  @EnumSource(Delivery.class)
  void closedSubscriptionGetsNothingMore(Delivery delivery) throws Exception {
    PahoMqttTransport t = connected("closing-" + delivery);
    Inbox closing = new Inbox();
    Inbox sentinel = new Inbox();
    Subscription sub = await(t.subscribe("close/me", 1, closing, delivery));
    await(t.subscribe("sentinel", 1, sentinel, delivery));
    await(t.publish("close/me", bytes("before"), 1));
    assertEquals("before", closing.next().payload());

    sub.close();
    sub.close(); // idempotent
    MqttClient other = rawClient("close-publisher-" + delivery);
    other.publish("close/me", bytes("after"), 1, false);
    other.publish("sentinel", bytes("marker"), 1, false);
    assertEquals("marker", sentinel.next().payload());
    assertNull(closing.poll(), "a closed subscription receives nothing");
  }

  @Test
  void immediateListenersRunOnPahosThreadInOrderOthersOnTheDeliveryThread() throws Exception {
    PahoMqttTransport t = connected("immediate");
    Inbox immediate = new Inbox();
    Inbox ordinary = new Inbox();
    await(t.subscribe("fast/#", 1, immediate, Delivery.IMMEDIATE));
    await(t.subscribe("fast/+", 1, ordinary, Delivery.TRANSPORT_THREAD));
    MqttClient other = rawClient("immediate-publisher");
    for (int i = 0; i < 20; i++) {
      other.publish("fast/" + i, bytes("m" + i), i % 2, false);
    }
    for (int i = 0; i < 20; i++) {
      Inbox.Received fast = immediate.next();
      assertEquals("m" + i, fast.payload(), "IMMEDIATE keeps the order of arrival");
      assertTrue(fast.thread().startsWith("MQTT Call"), fast.thread());
      Inbox.Received slow = ordinary.next();
      assertEquals("m" + i, slow.payload());
      assertTrue(slow.thread().startsWith("gantry-mqtt-delivery-immediate"), slow.thread());
    }
    assertNull(immediate.poll());
    assertNull(ordinary.poll());
  }

  @Test
  void immediateListenersOwnTheirPayloadsToo() throws Exception {
    PahoMqttTransport t = connected("immediate-owns");
    MessageListener scribbler = (topic, payload) -> payload[0] = 'X';
    await(t.subscribe("own/y", 1, scribbler, Delivery.IMMEDIATE));
    Inbox immediate = new Inbox();
    Inbox ordinary = new Inbox();
    await(t.subscribe("own/y", 1, immediate, Delivery.IMMEDIATE));
    await(t.subscribe("own/y", 1, ordinary));
    // and a scribbler on the delivery thread, which runs after every IMMEDIATE listener
    await(t.subscribe("own/y", 1, scribbler));
    await(t.publish("own/y", bytes("abc"), 1));
    assertEquals("abc", immediate.next().payload());
    assertEquals("abc", ordinary.next().payload());
  }

  @Test
  void aThrowingImmediateListenerNeitherDropsTheConnectionNorLaterMessages() throws Exception {
    PahoMqttTransport t = connected("immediate-throws");
    List<String> thrown = new CopyOnWriteArrayList<>();
    await(t.subscribe("boom", 1, throwingAfterRecording(thrown), Delivery.IMMEDIATE));
    Inbox after = new Inbox();
    await(t.subscribe("boom", 1, after, Delivery.IMMEDIATE));
    await(t.publish("boom", bytes("one"), 1));
    await(t.publish("boom", bytes("two"), 1));
    assertEquals("one", after.next().payload());
    assertEquals("two", after.next().payload());
    assertEquals(List.of("one", "two"), thrown);
    assertEquals(ConnectionState.CONNECTED, t.state());
    assertEquals(0, t.status().reconnectCount(), "Paho must not have dropped the connection");
  }

  @Test
  void backPressureKeepsOrderAndNeverHits32202() throws Exception {
    PahoMqttTransport receiver = connected("bp-receiver");
    Inbox inbox = new Inbox();
    await(receiver.subscribe("bp/seq", 1, inbox));
    PahoMqttTransport sender = connected("bp-sender", "max.inflight", 2);

    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      futures.add(sender.publish("bp/seq", bytes(Integer.toString(i)), 1).toCompletableFuture());
    }
    for (int i = 0; i < 500; i++) {
      // a 32202 or any other failure would surface here as an ExecutionException
      futures.get(i).get(30, TimeUnit.SECONDS);
    }
    for (int i = 0; i < 500; i++) {
      assertEquals(Integer.toString(i), inbox.next().payload(), "message " + i + " in order");
    }
  }

  @Test
  void publishAndSubscribeFailFastWhenNotConnected() throws Exception {
    int closedPort = TestBroker.freePort();
    PahoMqttTransport t = transport("tcp://127.0.0.1:" + closedPort, "nobody-home");
    Await.until(() -> t.state() != ConnectionState.CONNECTED, "never connects");
    CompletableFuture<Void> publish = t.publish("a/b", bytes("x"), 1).toCompletableFuture();
    assertTrue(publish.isDone(), "fails at once, does not wait for a connection");
    TransportException e = failure(publish);
    assertTrue(e.getMessage().startsWith("not connected"), e.getMessage());
    TransportException s = failure(t.subscribe("a/#", 1, new Inbox()));
    assertTrue(s.getMessage().contains("'a/#'"), s.getMessage());
  }

  @Test
  void badArgumentsAreRefusedAtOnce() throws Exception {
    PahoMqttTransport t = connected("args");
    assertThrows(IllegalArgumentException.class, () -> t.publish("a/+", bytes("x"), 1));
    assertThrows(IllegalArgumentException.class, () -> t.publish("a", bytes("x"), 2));
    assertThrows(NullPointerException.class, () -> t.publish("a", null, 1));
    assertThrows(IllegalArgumentException.class, () -> t.subscribe("a/#/b", 1, new Inbox()));
    assertThrows(IllegalArgumentException.class, () -> t.subscribe("a", -1, new Inbox()));
    assertThrows(NullPointerException.class, () -> t.subscribe("a", 1, null));
  }

  @Test
  void deactivateLeavesNoThreadBehind() throws Exception {
    PahoMqttTransport t = connected("leaver");
    await(t.subscribe("leave/#", 1, new Inbox()));
    await(t.publish("leave/x", bytes("x"), 1));
    t.deactivate();
    transports.remove(t);
    assertEquals(ConnectionState.DISCONNECTED, t.state());
    Await.until(
        () -> threadsOf("leaver").isEmpty(),
        Duration.ofSeconds(10),
        () -> "threads left: " + describeThreadsOf("leaver"));
    TransportException e = failure(t.publish("leave/x", bytes("x"), 1));
    assertTrue(e.getMessage().contains("not connected"), e.getMessage());
  }

  /** The leftover threads of a client with their stacks, for a failure message. */
  static String describeThreadsOf(String clientId) {
    StringBuilder text = new StringBuilder();
    for (java.util.Map.Entry<Thread, StackTraceElement[]> e :
        Thread.getAllStackTraces().entrySet()) {
      if (threadsOf(clientId).contains(e.getKey().getName())) {
        text.append('\n').append(e.getKey().getName()).append(" (").append(e.getKey().getState());
        text.append(')');
        for (StackTraceElement frame : e.getValue()) {
          text.append("\n    at ").append(frame);
        }
      }
    }
    return text.toString();
  }

  /** Every "gantry-mqtt-..." thread, and Paho's threads of this client ("MQTT Rec: id", ...). */
  static List<String> threadsOf(String clientId) {
    List<String> names = new ArrayList<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      String name = thread.getName();
      if (thread.isAlive()
          && (name.startsWith(PahoMqttTransport.THREAD_PREFIX)
              || (name.startsWith("MQTT") && name.endsWith(": " + clientId)))) {
        names.add(name);
      }
    }
    return names;
  }
}
