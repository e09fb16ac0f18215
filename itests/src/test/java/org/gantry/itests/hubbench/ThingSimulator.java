package org.gantry.itests.hubbench;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.itests.support.NoDelaySocketFactory;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.StartNextAccepted;

/**
 * Many simulated things on one MQTT connection with wildcard subscriptions: each thing answers a
 * {@code notify-next} that names a QUEUED execution with start-next, and the accepted start with an
 * update to SUCCEEDED, as a gateway that runs a no-op would. Paho's callback only queues; one
 * worker thread decodes and answers, with at most {@link #IN_FLIGHT} publishes unacknowledged. It
 * counts what it saw, per minute of the hub's clock for the deliveries.
 */
final class ThingSimulator implements AutoCloseable {
  static final int IN_FLIGHT = 500;

  private static final List<String> FILTERS =
      List.of(
          "$aws/things/+/jobs/notify-next",
          "$aws/things/+/jobs/start-next/accepted",
          "$aws/things/+/jobs/start-next/rejected",
          "$aws/things/+/jobs/+/update/accepted",
          "$aws/things/+/jobs/+/update/rejected",
          "$aws/things/+/jobs/get/accepted",
          "hubbench/echo");

  private record Inbound(String topic, byte[] payload) {}

  private final MqttAsyncClient client;
  private final JobsCodec codec = new JobsCodec();
  private final BlockingQueue<Inbound> inbox = new LinkedBlockingQueue<>();
  private final Semaphore permits = new Semaphore(IN_FLIGHT);
  private final Thread worker;
  private volatile boolean running = true;

  /** Deliveries (notify-next of a QUEUED execution 1) by the hub-clock second they carry. */
  final Map<Long, AtomicLong> deliveriesBySecond = new ConcurrentHashMap<>();

  final AtomicLong deliveries = new AtomicLong();
  final AtomicLong startsAccepted = new AtomicLong();
  final AtomicLong updatesAccepted = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();
  final AtomicLong echoes = new AtomicLong();
  final AtomicLong pings = new AtomicLong();

  ThingSimulator(String brokerUrl, String clientId) throws MqttException {
    client = new MqttAsyncClient(brokerUrl, clientId, new MemoryPersistence());
    client.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            System.err.println("simulator: connection lost: " + cause);
          }

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            inbox.add(new Inbound(topic, message.getPayload()));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {
            // permits are released by each publish's listener
          }
        });
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setMaxInflight(IN_FLIGHT * 2);
    o.setConnectionTimeout(10);
    o.setKeepAliveInterval(60);
    o.setSocketFactory(new NoDelaySocketFactory());
    client.connect(o).waitForCompletion(10_000);
    int[] qos = new int[FILTERS.size()];
    java.util.Arrays.fill(qos, 1);
    client.subscribe(FILTERS.toArray(new String[0]), qos).waitForCompletion(10_000);
    worker = new Thread(this::work, "thing-simulator");
    worker.setDaemon(true);
    worker.start();
  }

  /** Asks the hub for a thing's pending jobs; its answer counts in {@link #pings}. */
  void ping() throws InterruptedException, MqttException {
    publish(new JobsTopics("hubbench-ping").getPending(), "{}".getBytes(StandardCharsets.UTF_8));
  }

  /** Publishes {@code n} QoS 1 messages to a topic this client hears, for the broker baseline. */
  void echo(int n) throws InterruptedException, MqttException {
    byte[] payload = "{\"clientToken\":\"echo\"}".getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < n; i++) {
      publish("hubbench/echo", payload);
    }
  }

  private void work() {
    while (running) {
      Inbound m;
      try {
        m = inbox.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (m == null) {
        continue;
      }
      try {
        handle(m);
      } catch (ProtocolException | MqttException e) {
        System.err.println("simulator: " + m.topic() + ": " + e);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void handle(Inbound m) throws ProtocolException, MqttException, InterruptedException {
    String topic = m.topic();
    if (topic.equals("hubbench/echo")) {
      echoes.incrementAndGet();
      return;
    }
    if (topic.endsWith("/get/accepted")) {
      pings.incrementAndGet();
      return;
    }
    String thing = topic.substring("$aws/things/".length(), topic.indexOf("/jobs/"));
    JobsTopics t = new JobsTopics(thing);
    if (topic.endsWith("/notify-next")) {
      NotifyNext n = codec.decode(m.payload(), NotifyNext.class);
      JobExecution e = n.execution();
      if (e != null && e.executionNumber() == 1 && e.versionNumber() == 1) {
        deliveries.incrementAndGet();
        deliveriesBySecond.computeIfAbsent(n.timestamp(), k -> new AtomicLong()).incrementAndGet();
        publish(t.startNext(), "{}".getBytes(StandardCharsets.UTF_8));
      }
    } else if (topic.endsWith("/start-next/accepted")) {
      JobExecution e = codec.decode(m.payload(), StartNextAccepted.class).execution();
      if (e != null) {
        startsAccepted.incrementAndGet();
        publish(
            t.update(e.jobId()),
            ("{\"status\":\"SUCCEEDED\",\"expectedVersion\":"
                    + e.versionNumber()
                    + ",\"executionNumber\":"
                    + e.executionNumber()
                    + "}")
                .getBytes(StandardCharsets.UTF_8));
      }
    } else if (topic.endsWith("/update/accepted")) {
      updatesAccepted.incrementAndGet();
    } else if (topic.endsWith("/rejected")) {
      rejected.incrementAndGet();
      System.err.println(
          "simulator: rejected on "
              + topic
              + ": "
              + new String(m.payload(), StandardCharsets.UTF_8));
    }
  }

  private void publish(String topic, byte[] payload) throws MqttException, InterruptedException {
    if (!permits.tryAcquire(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the broker acknowledged nothing for 30 s");
    }
    client.publish(
        topic,
        payload,
        1,
        false,
        null,
        new IMqttActionListener() {
          @Override
          public void onSuccess(IMqttToken token) {
            permits.release();
          }

          @Override
          public void onFailure(IMqttToken token, Throwable e) {
            permits.release();
            System.err.println("simulator: publish to " + topic + " failed: " + e);
          }
        });
  }

  @Override
  public void close() throws MqttException {
    running = false;
    worker.interrupt();
    try {
      client.disconnect(2_000).waitForCompletion(5_000);
    } finally {
      client.close();
    }
  }
}
