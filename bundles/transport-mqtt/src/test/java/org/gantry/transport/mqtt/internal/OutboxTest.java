package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.Test;

/** The outbox against a scripted client that refuses, like Paho, more than its window allows. */
class OutboxTest {

  /** Holds the publishes it is handed until the test answers them. */
  static final class ScriptedClient implements Outbox.Sender {
    final int window;
    final ArrayDeque<IMqttActionListener> unanswered = new ArrayDeque<>();
    final List<String> sent = new ArrayList<>();
    int maxSeen;
    MqttException nextFailure;

    ScriptedClient(int window) {
      this.window = window;
    }

    @Override
    public void send(String topic, byte[] payload, int qos, IMqttActionListener listener)
        throws MqttException {
      if (nextFailure != null) {
        MqttException e = nextFailure;
        nextFailure = null;
        throw e;
      }
      if (unanswered.size() >= window) {
        throw new MqttException(MqttException.REASON_CODE_MAX_INFLIGHT);
      }
      unanswered.add(listener);
      sent.add(topic);
      maxSeen = Math.max(maxSeen, unanswered.size());
    }

    void ackOldest() {
      unanswered.poll().onSuccess(null);
    }

    void failOldest(Throwable cause) {
      unanswered.poll().onFailure(null, cause);
    }
  }

  private final List<Runnable> completions = new ArrayList<>();

  /** Runs what the outbox handed to its "delivery thread", as that thread would. */
  private void runCompletions() {
    while (!completions.isEmpty()) {
      completions.remove(0).run();
    }
  }

  private static TransportException notConnected() {
    return new TransportException("not connected", null);
  }

  private static TransportException failureOf(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, f::get);
    return assertInstanceOf(TransportException.class, e.getCause());
  }

  @Test
  void keepsOrderAndNeverExceedsTheWindow() throws Exception {
    Outbox outbox = new Outbox(3, completions::add);
    ScriptedClient client = new ScriptedClient(3);
    outbox.open(client);
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      futures.add(outbox.publish("t" + i, new byte[0], 1, OutboxTest::notConnected));
    }
    assertEquals(List.of("t0", "t1", "t2"), client.sent, "three permits, three sent");
    while (!client.unanswered.isEmpty()) {
      client.ackOldest();
      runCompletions();
    }
    for (int i = 0; i < 100; i++) {
      assertEquals("t" + i, client.sent.get(i));
      futures.get(i).get();
    }
    assertEquals(3, client.maxSeen);
    assertEquals(0, outbox.pending());
  }

  @Test
  void aPublishDoesNotOvertakeWaitingOnes() throws Exception {
    Outbox outbox = new Outbox(1, completions::add);
    ScriptedClient client = new ScriptedClient(1);
    outbox.open(client);
    CompletableFuture<Void> first =
        outbox.publish("first", new byte[0], 1, OutboxTest::notConnected);
    CompletableFuture<Void> second =
        outbox.publish("second", new byte[0], 1, OutboxTest::notConnected);
    client.ackOldest(); // the permit is back, but the drain has not run yet
    CompletableFuture<Void> third =
        outbox.publish("third", new byte[0], 1, OutboxTest::notConnected);
    runCompletions();
    assertEquals(List.of("first", "second"), client.sent, "third waits behind second");
    client.ackOldest();
    runCompletions();
    assertEquals(List.of("first", "second", "third"), client.sent);
    client.ackOldest();
    runCompletions();
    CompletableFuture.allOf(first, second, third).get();
  }

  @Test
  void failuresReturnTheirPermit() throws Exception {
    Outbox outbox = new Outbox(1, completions::add);
    ScriptedClient client = new ScriptedClient(1);
    outbox.open(client);
    CompletableFuture<Void> refused = outbox.publish("a", new byte[0], 1, OutboxTest::notConnected);
    client.nextFailure = new MqttException(MqttException.REASON_CODE_CLIENT_NOT_CONNECTED);
    // refused at once by the client: fails, and its permit is not lost
    CompletableFuture<Void> b = outbox.publish("b", new byte[0], 1, OutboxTest::notConnected);
    client.failOldest(new MqttException(MqttException.REASON_CODE_CONNECTION_LOST));
    runCompletions();
    assertTrue(failureOf(refused).getMessage().contains("'a'"));
    assertTrue(failureOf(b).getMessage().contains("'b'"));
    CompletableFuture<Void> c = outbox.publish("c", new byte[0], 1, OutboxTest::notConnected);
    assertEquals(List.of("a", "c"), client.sent);
    client.ackOldest();
    runCompletions();
    c.get();
  }

  @Test
  void closeFailsEverythingAndLaterAnswersChangeNothing() throws Exception {
    Outbox outbox = new Outbox(2, completions::add);
    ScriptedClient client = new ScriptedClient(2);
    outbox.open(client);
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      futures.add(outbox.publish("t" + i, new byte[0], 1, OutboxTest::notConnected));
    }
    outbox.close(topic -> new TransportException("lost before '" + topic + "'", null));
    for (int i = 0; i < 5; i++) {
      assertEquals("lost before 't" + i + "'", failureOf(futures.get(i)).getMessage());
    }
    // the old connection's late answers must not complete or drain anything
    client.ackOldest();
    client.failOldest(new MqttException(MqttException.REASON_CODE_CONNECTION_LOST));
    runCompletions();
    assertEquals(0, outbox.pending());

    CompletableFuture<Void> closed = outbox.publish("x", new byte[0], 1, OutboxTest::notConnected);
    assertEquals("not connected", failureOf(closed).getMessage());

    // a new connection starts with every permit free
    ScriptedClient next = new ScriptedClient(2);
    outbox.open(next);
    CompletableFuture<Void> y = outbox.publish("y", new byte[0], 1, OutboxTest::notConnected);
    CompletableFuture<Void> z = outbox.publish("z", new byte[0], 1, OutboxTest::notConnected);
    assertEquals(List.of("y", "z"), next.sent);
    assertFalse(y.isDone());
    next.ackOldest();
    next.ackOldest();
    runCompletions();
    y.get();
    z.get();
  }
}
