package org.gantry.itests.hub;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;

/**
 * A device driven by hand: a bare Paho client that publishes AWS IoT Jobs requests built with
 * {@code org.gantry.protocol} and hands the test every message it receives, in order, so a test can
 * check each answer and notification the service sends. Also serves as a listener on any topic
 * filter (see {@link #connect}). Messages arrive on Paho's thread and only go into a queue.
 */
public final class RawDevice implements AutoCloseable {

  /**
   * One message received.
   *
   * @param topic its topic
   * @param payload its bytes
   */
  public record Message(String topic, byte[] payload) {
    /** The payload as text, for failure messages. */
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return topic + " " + text();
    }
  }

  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
  private static final int CONNECT_ATTEMPTS = 5;

  private final JobsCodec codec = new JobsCodec();
  private final MqttClient client;
  private final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
  private final List<Message> skipped = new ArrayList<>();
  private final AtomicInteger tokens = new AtomicInteger();

  private RawDevice(MqttClient client) {
    this.client = client;
  }

  /**
   * Connects with a clean session and subscribes with QoS 1, waiting for the SUBACK: an ordinary
   * broker delivers nothing published before it.
   *
   * <p>Moquette 0.17 marks a connection as connected only once its CONNACK has been written, on
   * another thread than the one that reads the next packet; a SUBSCRIBE that comes first is taken
   * for one "on an already closed connection" and the connection is dropped. A client that
   * subscribes right after connecting therefore sometimes loses its connection; this one then
   * connects and subscribes again, a bounded number of times.
   *
   * @param brokerUrl {@code tcp://host:port}
   * @param clientId the MQTT client id
   * @param filters topic filters
   * @return the connected and subscribed client; close it when done
   * @throws MqttException when the broker cannot be reached within 10 s, refuses the subscription,
   *     or drops the connection at every attempt
   */
  public static RawDevice connect(String brokerUrl, String clientId, List<String> filters)
      throws MqttException {
    MqttException last = null;
    for (int attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
      RawDevice device =
          new RawDevice(new MqttClient(brokerUrl, clientId, new MemoryPersistence()));
      try {
        device.connectAndSubscribe(filters);
        return device;
      } catch (MqttException e) {
        device.close();
        if (e.getReasonCode() == MqttException.REASON_CODE_SUBSCRIBE_FAILED) {
          throw e; // refused, not dropped: trying again would not help
        }
        last = e;
      }
    }
    throw last;
  }

  private void connectAndSubscribe(List<String> filters) throws MqttException {
    client.setTimeToWait(ANSWER_TIMEOUT.toMillis());
    client.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            inbox.add(
                new Message(
                    "(connection lost)", String.valueOf(cause).getBytes(StandardCharsets.UTF_8)));
          }

          @Override
          public void messageArrived(String topic, MqttMessage m) {
            inbox.add(new Message(topic, m.getPayload()));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setConnectionTimeout(10);
    options.setAutomaticReconnect(false);
    client.connect(options);
    int[] qos = new int[filters.size()];
    Arrays.fill(qos, 1);
    int[] granted =
        client.subscribeWithResponse(filters.toArray(new String[0]), qos).getGrantedQos();
    for (int g : granted) {
      if (g > 1) {
        throw new MqttException(MqttException.REASON_CODE_SUBSCRIBE_FAILED);
      }
    }
  }

  /**
   * A fresh client token.
   *
   * @return {@code raw-N}
   */
  public String token() {
    return "raw-" + tokens.incrementAndGet();
  }

  /**
   * Publishes a request with QoS 1.
   *
   * @param topic the request topic
   * @param request a protocol record, or a {@code byte[]} sent as it is
   * @return the request's client token; null when it has none
   * @throws MqttException when the publish fails
   */
  public String publish(String topic, Object request) throws MqttException {
    byte[] payload = request instanceof byte[] b ? b : codec.encode(request);
    client.publish(topic, payload, 1, false);
    return tokenOf(payload);
  }

  /** The clientToken of a payload, so that an answer is matched to its own request. */
  private static String tokenOf(byte[] payload) {
    try {
      JsonElement e = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8));
      if (e.isJsonObject() && e.getAsJsonObject().has("clientToken")) {
        return e.getAsJsonObject().get("clientToken").getAsString();
      }
    } catch (RuntimeException e) {
      // not a JSON object: no token to match
    }
    return null;
  }

  /**
   * Publishes a request and waits for its {@code /accepted} answer.
   *
   * @return the decoded answer
   * @throws AssertionError when the answer is a rejection or none comes within 10 s
   */
  public <T> T accepted(String topic, Object request, Class<T> type) throws Exception {
    Message m = awaitAnswer(topic, publish(topic, request));
    if (!m.topic().equals(JobsTopics.accepted(topic))) {
      throw new AssertionError("expected " + topic + "/accepted, got " + m);
    }
    return codec.decode(m.payload(), type);
  }

  /**
   * Publishes a request and waits for its {@code /rejected} answer.
   *
   * @return the decoded rejection
   * @throws AssertionError when the request is accepted or no answer comes within 10 s
   */
  public Rejected rejected(String topic, Object request) throws Exception {
    Message m = awaitAnswer(topic, publish(topic, request));
    if (!m.topic().equals(JobsTopics.rejected(topic))) {
      throw new AssertionError("expected " + topic + "/rejected, got " + m);
    }
    return codec.decode(m.payload(), Rejected.class);
  }

  /**
   * Waits for the answer to a request: on its answer topics and, when it has one, echoing its
   * client token. Other messages are set aside, where {@link #await} still finds them.
   */
  private Message awaitAnswer(String requestTopic, String token) throws InterruptedException {
    String accepted = JobsTopics.accepted(requestTopic);
    String rejected = JobsTopics.rejected(requestTopic);
    return await(
        "an answer to " + requestTopic + (token == null ? "" : " with token " + token),
        m ->
            (m.topic().equals(accepted) || m.topic().equals(rejected))
                && (token == null || token.equals(tokenOf(m.payload()))),
        ANSWER_TIMEOUT);
  }

  /**
   * Waits for the first message, received since the last one taken, on a topic.
   *
   * @return it, decoded
   * @throws AssertionError when none arrives within the timeout
   */
  public <T> T await(String topic, Class<T> type, Duration timeout)
      throws InterruptedException, ProtocolException {
    return codec.decode(
        await("a message on " + topic, m -> m.topic().equals(topic), timeout).payload(), type);
  }

  /**
   * Takes the first message that matches, looking first at those set aside by earlier waits, then
   * at new ones; messages that do not match are set aside in order.
   *
   * @param what what the test waits for, for the failure message
   * @return the message
   * @throws AssertionError when none arrives within the timeout
   * @throws InterruptedException when interrupted
   */
  public synchronized Message await(String what, Predicate<Message> matches, Duration timeout)
      throws InterruptedException {
    for (int i = 0; i < skipped.size(); i++) {
      if (matches.test(skipped.get(i))) {
        return skipped.remove(i);
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      Message m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
      if (m == null) {
        throw new AssertionError(
            "No " + what + " within " + timeout.toMillis() + " ms; received meanwhile: " + skipped);
      }
      if (matches.test(m)) {
        return m;
      }
      skipped.add(m);
    }
  }

  /**
   * Decodes a message received.
   *
   * @return the payload as the given protocol record
   * @throws ProtocolException when it is not one
   */
  public <T> T decode(Message m, Class<T> type) throws ProtocolException {
    return codec.decode(m.payload(), type);
  }

  /** Forgets every message received so far, so that later waits see only what comes after. */
  public synchronized void drain() {
    skipped.clear();
    inbox.clear();
  }

  /**
   * Sends {@code get} until the service answers it: proves that the hub is connected to the broker
   * and subscribed. Requests sent before that are lost on an ordinary broker, hence the repeats.
   *
   * @param thing the thing whose {@code get} to send; its answer topics must be subscribed
   * @param timeout how long to keep trying
   * @return the first answer
   * @throws AssertionError when no answer comes in time
   */
  public GetPendingAccepted awaitService(String thing, Duration timeout) throws Exception {
    JobsTopics topics = new JobsTopics(thing);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String token = publish(topics.getPending(), new GetPendingRequest(token()));
      try {
        Message m =
            await(
                "an answer to get with token " + token,
                x ->
                    x.topic().equals(JobsTopics.accepted(topics.getPending()))
                        && token.equals(tokenOf(x.payload())),
                Duration.ofSeconds(1));
        return codec.decode(m.payload(), GetPendingAccepted.class);
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "The service did not answer get for "
                  + thing
                  + " within "
                  + timeout.toSeconds()
                  + " s",
              e);
        }
      }
    }
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(2000);
      }
    } catch (MqttException e) {
      // closing below regardless
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      // nothing more to release
    }
  }
}
