package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.api.transport.ConnectionListener;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Broker loss and return, against a real broker and against misbehaving fakes. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReconnectTest {

  @TempDir Path dataDir;

  private TestBroker broker;
  private FakeBroker fake;
  private PahoMqttTransport transport;

  @AfterEach
  void stopEverything() throws Exception {
    if (transport != null) {
      transport.deactivate();
    }
    if (broker != null) {
      broker.stop();
    }
    if (fake != null) {
      fake.close();
    }
  }

  /** Records connection events and the threads they arrive on. */
  static final class Events implements ConnectionListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final List<Throwable> causes = new CopyOnWriteArrayList<>();

    @Override
    public void connected() {
      events.add("connected");
      threads.add(Thread.currentThread().getName());
    }

    @Override
    public void connectionLost(Throwable cause) {
      events.add("lost");
      causes.add(cause);
      threads.add(Thread.currentThread().getName());
    }

    long count(String event) {
      return events.stream().filter(event::equals).count();
    }
  }

  private PahoMqttTransport transport(String url, String clientId, Object... extra) {
    Object[] base = {
      "broker.url", url,
      "client.id", clientId,
      "reconnect.min.millis", 50,
      "reconnect.max.millis", 200,
      "connect.timeout.seconds", 1
    };
    Object[] all = new Object[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return new PahoMqttTransport(TestConfigs.config(all));
  }

  @Test
  void brokerRestartOnTheSamePortReconnectsAndResubscribes() throws Exception {
    broker = TestBroker.start(dataDir);
    transport = transport(broker.url(), "phoenix");
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "first connection");
    Events events = new Events();
    Events removed = new Events();
    transport.addConnectionListener(removed);
    transport.addConnectionListener(events);
    transport.removeConnectionListener(removed);
    // the engine's pattern: subscribe from connected(), on the delivery thread
    List<CompletableFuture<?>> fromHook = new CopyOnWriteArrayList<>();
    transport.addConnectionListener(
        new ConnectionListener() {
          @Override
          public void connected() {
            fromHook.add(transport.subscribe("hook/#", 0, new Inbox()).toCompletableFuture());
          }

          @Override
          public void connectionLost(Throwable cause) {}
        });
    Inbox jobs = new Inbox();
    transport
        .subscribe("$aws/things/T/jobs/+/get/+", 1, jobs)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);

    for (int cycle = 1; cycle <= 2; cycle++) {
      broker.stop();
      // between attempts (refused at once) the state rests at DISCONNECTED
      Await.until(() -> transport.state() == ConnectionState.DISCONNECTED, "notices the loss");
      int expected = cycle;
      Await.until(() -> events.count("lost") == expected, "connectionLost() " + cycle);
      CompletableFuture<Void> publish =
          transport.publish("a/b", "x".getBytes(UTF_8), 1).toCompletableFuture();
      assertTrue(publish.isDone(), "a publish while disconnected fails at once");
      ExecutionException e = assertThrows(ExecutionException.class, publish::get);
      assertInstanceOf(TransportException.class, e.getCause());
      assertTrue(e.getCause().getMessage().startsWith("not connected"), e.getMessage());

      broker.start();
      Await.until(() -> events.count("connected") == expected, "connected() " + cycle);
      assertEquals(ConnectionState.CONNECTED, transport.state());

      // re-subscribed before connected() was called: another client's message arrives
      MqttClient other = new MqttClient(broker.url(), "other-" + cycle, new MemoryPersistence());
      try {
        other.setTimeToWait(5_000);
        other.connect();
        other.publish(
            "$aws/things/T/jobs/j" + cycle + "/get/accepted",
            ("cycle " + cycle).getBytes(UTF_8),
            1,
            false);
        Inbox.Received r = jobs.next();
        assertEquals("cycle " + cycle, r.payload());
        other.disconnect();
      } finally {
        other.close(true);
      }
    }
    assertEquals(List.of("lost", "connected", "lost", "connected"), events.events);
    assertEquals(List.of(), removed.events, "a removed listener is not called");
    assertEquals(2, fromHook.size());
    for (CompletableFuture<?> f : fromHook) {
      f.get(10, TimeUnit.SECONDS); // subscribing from connected() works
    }
    for (String thread : events.threads) {
      assertTrue(thread.startsWith("gantry-mqtt-delivery-phoenix"), thread);
    }
    for (Throwable cause : events.causes) {
      assertNotNull(cause, "connectionLost carries Paho's reason");
    }
    // a publish on the new connection works end to end
    Inbox inbox = new Inbox();
    transport.subscribe("after/#", 1, inbox).toCompletableFuture().get(10, TimeUnit.SECONDS);
    transport
        .publish("after/x", "y".getBytes(UTF_8), 1)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals("y", inbox.next().payload());
  }

  @Test
  void deactivateWhileTheBrokerIsDownLeavesNoThreadBehind() throws Exception {
    broker = TestBroker.start(dataDir);
    transport = transport(broker.url(), "leaver-down");
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "first connection");
    broker.stop();
    Await.until(() -> transport.state() != ConnectionState.CONNECTED, "notices the loss");
    PahoMqttTransport t = transport;
    transport = null;
    t.deactivate();
    Await.until(
        () -> PahoMqttTransportTest.threadsOf("leaver-down").isEmpty(),
        java.time.Duration.ofSeconds(10),
        () -> "threads left: " + PahoMqttTransportTest.describeThreadsOf("leaver-down"));
    assertEquals(ConnectionState.DISCONNECTED, t.state());
  }

  @Test
  void brokerThatNeverSendsConnackIsRetriedWithBackoff() throws Exception {
    fake = new FakeBroker(FakeBroker.Mode.SILENT);
    transport = transport(fake.url(), "silent");
    Await.until(() -> transport.state() == ConnectionState.CONNECTING, "tries to connect");
    // connect.timeout.seconds=1 (+1 s grace): the attempt is abandoned, then retried
    Await.until(() -> fake.connections() >= 2, "retries after the CONNACK timeout");
    assertTrue(transport.state() != ConnectionState.CONNECTED);
    transport.deactivate();
    transport = null;
    Await.until(
        () -> PahoMqttTransportTest.threadsOf("silent").isEmpty(),
        java.time.Duration.ofSeconds(10),
        () -> "threads left: " + PahoMqttTransportTest.describeThreadsOf("silent"));
  }

  @Test
  void publishInFlightWhenTheConnectionDropsCompletesExceptionally() throws Exception {
    fake = new FakeBroker(FakeBroker.Mode.NO_ACKS);
    transport = transport(fake.url(), "dropped");
    Events events = new Events();
    transport.addConnectionListener(events);
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "connects to the fake");
    CompletableFuture<Void> qos1 =
        transport.publish("never/acked", "x".getBytes(UTF_8), 1).toCompletableFuture();
    Await.until(() -> fake.packetTypes().contains(3), "the PUBLISH reached the fake broker");
    assertTrue(!qos1.isDone(), "no PUBACK yet");

    fake.dropClients();
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> qos1.get(10, TimeUnit.SECONDS));
    TransportException t = assertInstanceOf(TransportException.class, e.getCause());
    assertTrue(t.getMessage().contains("'never/acked'"), t.getMessage());
    Await.until(() -> events.count("lost") == 1, "connectionLost()");
    // and it comes back by itself
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "reconnects to the fake");
  }

  @Test
  void subscribeWithoutSubackTimesOut() throws Exception {
    fake = new FakeBroker(FakeBroker.Mode.NO_ACKS);
    transport = transport(fake.url(), "no-suback");
    Await.until(() -> transport.state() == ConnectionState.CONNECTED, "connects to the fake");
    CompletableFuture<?> sub = transport.subscribe("x/#", 1, new Inbox()).toCompletableFuture();
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> sub.get(10, TimeUnit.SECONDS));
    TransportException t = assertInstanceOf(TransportException.class, e.getCause());
    assertTrue(t.getMessage().contains("no SUBACK"), t.getMessage());
    assertTrue(t.getMessage().contains("'x/#'"), t.getMessage());
  }
}
