package org.gantry.hub.internal;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's connection to its broker: an ordinary MQTT 3.1.1 client (Paho) subscribed to {@code
 * $aws/things/+/jobs/#} — never a root {@code #}, whose matching of {@code $} topics differs
 * between brokers. Messages are handed to the hub thread from Paho's callback without blocking;
 * publishes are QoS 1 and kept under Paho's in-flight limit by a permit each.
 */
final class MqttLink implements MqttCallbackExtended {
  static final String FILTER = "$aws/things/+/jobs/#";

  private static final Logger LOG = LoggerFactory.getLogger(MqttLink.class);
  private static final int MAX_INFLIGHT = 256;
  private static final long MIN_BACKOFF_MS = 500;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final long PERMIT_WAIT_SECONDS = 10;
  private static final int SUBACK_FAILURE = 0x80;

  private final String url;
  private final MqttAsyncClient client;
  private final MqttConnectOptions options = new MqttConnectOptions();
  private final BiConsumer<String, byte[]> inbox;
  private final Runnable onSubscribed;
  private final ScheduledExecutorService scheduler;
  private final Semaphore inflight = new Semaphore(MAX_INFLIGHT);
  private volatile boolean closed;
  private long backoffMs = MIN_BACKOFF_MS;
  private long subscribeBackoffMs = MIN_BACKOFF_MS;

  /**
   * @param inbox called on Paho's thread for every message; must not block
   * @param onSubscribed called on Paho's thread after every (re)subscription; must not block
   */
  MqttLink(String url, String clientId, BiConsumer<String, byte[]> inbox, Runnable onSubscribed)
      throws MqttException {
    this(url, clientId, null, inbox, onSubscribed);
  }

  /**
   * @param tls TLS sockets for an {@code ssl://} URL (broker certificate and host name checked);
   *     null for plain TCP
   */
  MqttLink(
      String url,
      String clientId,
      javax.net.ssl.SSLSocketFactory tls,
      BiConsumer<String, byte[]> inbox,
      Runnable onSubscribed)
      throws MqttException {
    this.url = url;
    this.inbox = inbox;
    this.onSubscribed = onSubscribed;
    this.client = new MqttAsyncClient(url, clientId, new MemoryPersistence());
    client.setCallback(this);
    // A persistent session: requests published while the hub restarts wait for it at the broker.
    options.setCleanSession(false);
    options.setAutomaticReconnect(true);
    options.setMaxReconnectDelay((int) MAX_BACKOFF_MS);
    options.setKeepAliveInterval(30);
    options.setConnectionTimeout(10);
    options.setMaxInflight(MAX_INFLIGHT);
    if (tls != null) {
      options.setSocketFactory(tls);
      options.setHttpsHostnameVerificationEnabled(true);
    } else {
      options.setSocketFactory(new NoDelaySocketFactory());
    }
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "gantry-hub-mqtt-connect");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts connecting; Paho only reconnects after a first success, so until then we retry. */
  void start() {
    scheduler.execute(this::connect);
  }

  boolean isConnected() {
    return client.isConnected();
  }

  private void connect() {
    if (closed) {
      return;
    }
    try {
      client.connect(
          options,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              synchronized (MqttLink.this) {
                backoffMs = MIN_BACKOFF_MS;
              }
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              retry(e);
            }
          });
    } catch (MqttException e) {
      retry(e);
    }
  }

  private void retry(Throwable e) {
    if (closed) {
      return;
    }
    long delay;
    synchronized (this) {
      delay = jittered(backoffMs);
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    }
    LOG.warn("Could not connect to the broker {} ({}); trying again in {} ms", url, e, delay);
    scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  @Override
  public void connectComplete(boolean reconnect, String serverUri) {
    LOG.info("Connected to the broker {}{}", serverUri, reconnect ? " again" : "");
    subscribe();
  }

  private void subscribe() {
    if (closed) {
      return;
    }
    try {
      client.subscribe(
          FILTER,
          1,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              if (refused(token.getGrantedQos())) {
                resubscribeLater(
                    "the broker refused it (SUBACK 0x80): the hub's principal has no read"
                        + " right on it in the broker's ACL");
                return;
              }
              synchronized (MqttLink.this) {
                subscribeBackoffMs = MIN_BACKOFF_MS;
              }
              LOG.info("Subscribed to {}", FILTER);
              onSubscribed.run();
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              resubscribeLater(e.toString());
            }
          });
    } catch (MqttException e) {
      resubscribeLater(e.toString());
    }
  }

  /** A random point in the upper half of a backoff step ("equal jitter"), in milliseconds. */
  private static long jittered(long stepMs) {
    return stepMs / 2 + ThreadLocalRandom.current().nextLong(stepMs / 2 + 1);
  }

  /** A granted QoS list that is missing or carries the MQTT 3.1.1 failure code 0x80. */
  static boolean refused(int[] granted) {
    return granted == null || granted.length != 1 || granted[0] == SUBACK_FAILURE;
  }

  /**
   * Asks again after a jittered, growing delay. A refusal is usually an ACL the broker has not read
   * yet (the hub writes it at start and the broker reloads it within a second or so), so the first
   * retries come quickly; without the subscription the hub hears no device, so it never gives up.
   */
  private void resubscribeLater(String why) {
    if (closed || !client.isConnected()) {
      // A reconnect subscribes again (connectComplete).
      return;
    }
    long delay;
    synchronized (this) {
      delay = jittered(subscribeBackoffMs);
      subscribeBackoffMs = Math.min(MAX_BACKOFF_MS, subscribeBackoffMs * 2);
    }
    LOG.error(
        "Could not subscribe to {}: {}; the hub hears no device until it can. Trying again in {}"
            + " ms",
        FILTER,
        why,
        delay);
    scheduler.schedule(this::subscribe, delay, TimeUnit.MILLISECONDS);
  }

  @Override
  public void connectionLost(Throwable cause) {
    LOG.warn("Lost the connection to the broker {}: {}; reconnecting", url, cause.toString());
  }

  @Override
  public void messageArrived(String topic, MqttMessage message) {
    try {
      inbox.accept(topic, message.getPayload());
    } catch (RuntimeException e) {
      // Throwing here would make Paho drop the connection.
      LOG.error("Could not hand a message on {} to the hub: {}", topic, e.toString());
    }
  }

  @Override
  public void deliveryComplete(IMqttDeliveryToken token) {
    // Permits are released by each publish's own listener.
  }

  /**
   * Publishes each message with QoS 1. A message that cannot go out (no connection, or no permit
   * within 10 s) is dropped with a log line: answers are asked for again by the device after its
   * timeout, and heads of queues are announced again after every (re)connection.
   */
  void publish(List<Outbound> messages) {
    for (Outbound m : messages) {
      publish(m);
    }
  }

  private void publish(Outbound m) {
    if (!client.isConnected()) {
      LOG.warn("Not connected to the broker; dropped the message for {}", m.topic());
      return;
    }
    try {
      if (!inflight.tryAcquire(PERMIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
        LOG.warn("The broker acknowledges nothing; dropped the message for {}", m.topic());
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try {
      client.publish(
          m.topic(),
          m.payload(),
          1,
          false,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              inflight.release();
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              inflight.release();
              LOG.warn("Publishing to {} failed: {}", m.topic(), e.toString());
            }
          });
    } catch (MqttException | RuntimeException e) {
      inflight.release();
      LOG.warn("Publishing to {} failed: {}", m.topic(), e.toString());
    }
  }

  void close() {
    closed = true;
    scheduler.shutdownNow();
    try {
      if (client.isConnected()) {
        client.disconnect(1000).waitForCompletion(3000);
      }
    } catch (MqttException e) {
      LOG.debug("Disconnecting from the broker: {}", e.toString());
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      LOG.debug("Closing the MQTT client: {}", e.toString());
    }
  }
}
