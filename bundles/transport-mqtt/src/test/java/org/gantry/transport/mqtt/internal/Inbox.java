package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.gantry.api.transport.MessageListener;

/** A MessageListener that records what it gets, and on which thread. */
final class Inbox implements MessageListener {

  /** One received message. */
  record Received(String topic, String payload, String thread) {}

  private final BlockingQueue<Received> queue = new LinkedBlockingQueue<>();

  @Override
  public void onMessage(String topic, byte[] payload) {
    queue.add(new Received(topic, new String(payload, UTF_8), Thread.currentThread().getName()));
  }

  /** The next message; fails the test when none comes within the timeout. */
  Received next(Duration timeout) throws InterruptedException {
    Received r = queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    assertNotNull(r, "no message within " + timeout);
    return r;
  }

  Received next() throws InterruptedException {
    return next(Duration.ofSeconds(10));
  }

  /** The next message if one is already here, else null. */
  Received poll() {
    return queue.poll();
  }

  int size() {
    return queue.size();
  }
}
