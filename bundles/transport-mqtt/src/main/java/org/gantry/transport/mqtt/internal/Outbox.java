package org.gantry.transport.mqtt.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.gantry.api.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes of one transport, in order, under back-pressure (STYLE.md §4). A permit is taken for
 * each publish handed to the MQTT client and returned when the client reports its outcome; a
 * publish that finds no permit, or earlier publishes still waiting, waits in a FIFO that returning
 * permits drain. The client therefore never holds more than {@code maxInflight} publishes and never
 * refuses one with 32202 "too many publishes in progress", which a retry loop would turn into 32001
 * "no message ids".
 *
 * <p>The outbox is open while a connection is up. Closing it fails everything waiting or in flight:
 * nothing is kept across a disconnection (a durable outbox is a later feature).
 */
final class Outbox {

  /** Hands one publish to the MQTT client; the client reports the outcome to the listener. */
  @FunctionalInterface
  interface Sender {
    void send(String topic, byte[] payload, int qos, IMqttActionListener listener)
        throws MqttException;
  }

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

  private final Semaphore permits;

  /** Publishes the client refused with 32202 or 32001; the permits are meant to keep this 0. */
  private final java.util.concurrent.atomic.AtomicLong refusals =
      new java.util.concurrent.atomic.AtomicLong();

  private final Executor completions;
  private final Object lock = new Object();

  // guarded by lock
  private final ArrayDeque<Publish> waiting = new ArrayDeque<>();
  private final Set<Publish> inFlight = new HashSet<>();
  private Sender sender;

  /**
   * @param maxInflight permits
   * @param completions where outcomes are processed and stages completed: never the MQTT client's
   *     thread
   */
  Outbox(int maxInflight, Executor completions) {
    this.permits = new Semaphore(maxInflight);
    this.completions = completions;
  }

  /** Accepts publishes for a new connection, sent with {@code sender}. */
  void open(Sender sender) {
    synchronized (lock) {
      this.sender = sender;
    }
  }

  /**
   * Stops accepting publishes and fails everything waiting or in flight.
   *
   * @param why the failure of the publish to a topic
   */
  void close(Function<String, TransportException> why) {
    List<Publish> taken;
    synchronized (lock) {
      sender = null;
      taken = new ArrayList<>(inFlight);
      taken.addAll(waiting);
      inFlight.clear();
      waiting.clear();
    }
    for (Publish publish : taken) {
      publish.releasePermit();
      publish.future.completeExceptionally(why.apply(publish.topic));
    }
  }

  /**
   * Sends a publish now, or queues it behind earlier ones.
   *
   * @param notConnected the failure when the outbox is closed
   * @return completes when the client reports the publish sent (QoS 0) or acknowledged (QoS 1)
   */
  CompletableFuture<Void> publish(
      String topic, byte[] payload, int qos, Supplier<TransportException> notConnected) {
    Publish publish = new Publish(topic, payload, qos);
    TransportException failure = null;
    synchronized (lock) {
      if (sender == null) {
        failure = notConnected.get();
      } else if (waiting.isEmpty() && permits.tryAcquire()) {
        failure = sendLocked(publish);
      } else {
        waiting.add(publish);
      }
    }
    if (failure != null) {
      publish.future.completeExceptionally(failure);
    }
    return publish.future;
  }

  /** How many publishes the client refused with 32202 or 32001; for tests and diagnostics. */
  long refusals() {
    return refusals.get();
  }

  /** Publishes handed to the client and not yet answered, and those waiting; for tests. */
  int pending() {
    synchronized (lock) {
      return inFlight.size() + waiting.size();
    }
  }

  /** Sends a publish that holds a permit; returns why it failed, or null. */
  private TransportException sendLocked(Publish publish) {
    publish.holdsPermit.set(true);
    inFlight.add(publish);
    try {
      sender.send(publish.topic, publish.payload, publish.qos, publish);
      return null;
    } catch (MqttException | RuntimeException e) {
      inFlight.remove(publish);
      publish.releasePermit();
      if (e instanceof MqttException m
          && (m.getReasonCode() == MqttException.REASON_CODE_MAX_INFLIGHT
              || m.getReasonCode() == MqttException.REASON_CODE_NO_MESSAGE_IDS_AVAILABLE)) {
        refusals.incrementAndGet();
        // The permits are meant to make this impossible: say so loudly, never retry in a loop.
        LOG.error(
            "MQTT client refused a publish with {} despite the in-flight permits",
            m.getReasonCode(),
            e);
      }
      return new TransportException(
          "publish to '" + publish.topic + "' failed: " + PahoMqttTransport.describe(e), e);
    }
  }

  private void answered(Publish publish, Throwable error) {
    synchronized (lock) {
      inFlight.remove(publish);
    }
    if (error == null) {
      publish.future.complete(null);
    } else {
      publish.future.completeExceptionally(
          new TransportException(
              "publish to '" + publish.topic + "' failed: " + PahoMqttTransport.describe(error),
              error));
    }
    drain();
  }

  private void drain() {
    List<Publish> failed = new ArrayList<>();
    List<TransportException> causes = new ArrayList<>();
    synchronized (lock) {
      while (sender != null && !waiting.isEmpty() && permits.tryAcquire()) {
        Publish next = waiting.poll();
        TransportException failure = sendLocked(next);
        if (failure != null) {
          failed.add(next);
          causes.add(failure);
        }
      }
    }
    for (int i = 0; i < failed.size(); i++) {
      failed.get(i).future.completeExceptionally(causes.get(i));
    }
  }

  /** One publish on its way; the client tells it the outcome. */
  private final class Publish implements IMqttActionListener {
    final String topic;
    final byte[] payload;
    final int qos;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    final AtomicBoolean holdsPermit = new AtomicBoolean();

    Publish(String topic, byte[] payload, int qos) {
      this.topic = topic;
      this.payload = payload;
      this.qos = qos;
    }

    void releasePermit() {
      if (holdsPermit.compareAndSet(true, false)) {
        permits.release();
      }
    }

    // Called on the client's thread. The permit returns at once (the client has freed its slot by
    // now); the rest is not for this thread. If the completions executor is gone, the outbox has
    // been closed and this publish already failed.
    @Override
    public void onSuccess(IMqttToken token) {
      releasePermit();
      completions.execute(() -> answered(this, null));
    }

    @Override
    public void onFailure(IMqttToken token, Throwable cause) {
      releasePermit();
      completions.execute(() -> answered(this, cause));
    }
  }
}
