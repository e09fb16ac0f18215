package org.gantry.itests.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import javax.net.SocketFactory;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.itests.support.NoDelaySocketFactory;

/**
 * A Paho client for the benchmark's own traffic: QoS 1 publishes that never wait for their PUBACK
 * (as a request/response client does not), received messages handed to a queue or to a handler.
 */
final class BenchClient implements AutoCloseable {

  private static final long WAIT_MILLIS = 10_000;

  /** One received message. */
  record Msg(String topic, String payload, long receivedNanos) {}

  private final MqttAsyncClient client;
  private final BlockingQueue<Msg> received = new LinkedBlockingQueue<>();

  private BenchClient(MqttAsyncClient client) {
    this.client = client;
  }

  /**
   * Connects; received messages go to the queue, or to {@code handler} when given (called on Paho's
   * thread, which may publish but must not wait).
   */
  static BenchClient connect(String url, String clientId, BiConsumer<BenchClient, Msg> handler)
      throws MqttException {
    return connect(url, clientId, handler, new NoDelaySocketFactory());
  }

  /** As {@link #connect(String, String, BiConsumer)}, through the given sockets (e.g. TLS). */
  static BenchClient connect(
      String url, String clientId, BiConsumer<BenchClient, Msg> handler, SocketFactory sockets)
      throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(url, clientId, new MemoryPersistence());
    BenchClient b = new BenchClient(c);
    c.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            System.out.println("# benchmark client " + clientId + " lost its connection: " + cause);
          }

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            Msg m =
                new Msg(
                    topic,
                    new String(message.getPayload(), StandardCharsets.UTF_8),
                    System.nanoTime());
            if (handler != null) {
              handler.accept(b, m);
            } else {
              b.received.add(m);
            }
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setConnectionTimeout(10);
    o.setKeepAliveInterval(30);
    o.setMaxInflight(1000);
    o.setAutomaticReconnect(false);
    o.setSocketFactory(sockets);
    c.connect(o).waitForCompletion(WAIT_MILLIS);
    return b;
  }

  void subscribe(String... filters) throws MqttException {
    int[] qos = new int[filters.length];
    java.util.Arrays.fill(qos, 1);
    client.subscribe(filters, qos).waitForCompletion(WAIT_MILLIS);
  }

  void publish(String topic, String payload) {
    try {
      client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
    } catch (MqttException e) {
      throw new IllegalStateException("benchmark publish on " + topic + " failed: " + e, e);
    }
  }

  /** The next received message that matches; others are dropped. */
  Msg await(String what, Predicate<Msg> matches) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
    while (true) {
      long left = deadline - System.nanoTime();
      Msg m = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
      if (m == null) {
        throw new AssertionError("benchmark: no " + what + " within " + WAIT_MILLIS + " ms");
      }
      if (matches.test(m)) {
        return m;
      }
    }
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(2000).waitForCompletion(3000);
      }
      client.close(true);
    } catch (MqttException e) {
      System.out.println("# benchmark client close: " + e);
    }
  }
}
