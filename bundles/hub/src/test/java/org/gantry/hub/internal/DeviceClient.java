package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.ProtocolException;

/** A gateway's side of the protocol, by hand: a Paho client subscribed to a thing's topics. */
final class DeviceClient implements AutoCloseable {
  record Msg(String topic, byte[] payload) {}

  final JobsTopics topics;
  final JobsCodec codec = new JobsCodec();
  private final MqttClient client;
  private final List<Msg> inbox = new ArrayList<>();

  DeviceClient(String url, String thing) throws MqttException {
    this.topics = new JobsTopics(thing);
    this.client = new MqttClient(url, thing, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setConnectionTimeout(5);
    client.setTimeToWait(5000);
    client.setCallback(
        new org.eclipse.paho.client.mqttv3.MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {}

          @Override
          public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage m) {
            synchronized (inbox) {
              inbox.add(new Msg(topic, m.getPayload()));
              inbox.notifyAll();
            }
          }

          @Override
          public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {}
        });
    client.connect(o);
    List<String> subs = topics.deviceSubscriptions();
    int[] qos = new int[subs.size()];
    java.util.Arrays.fill(qos, 1);
    client.subscribe(subs.toArray(new String[0]), qos);
  }

  void publish(String topic, String json) throws MqttException {
    client.publish(topic, json.getBytes(StandardCharsets.UTF_8), 1, false);
  }

  /** Waits for the next message on a topic, consuming it; fails after the timeout. */
  Msg await(String topic, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    synchronized (inbox) {
      while (true) {
        for (Iterator<Msg> it = inbox.iterator(); it.hasNext(); ) {
          Msg m = it.next();
          if (m.topic().equals(topic)) {
            it.remove();
            return m;
          }
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          fail("no message on " + topic + " within " + seconds + " s; got " + inboxTopics());
        }
        inbox.wait(left);
      }
    }
  }

  <T> T await(String topic, Class<T> type, long seconds)
      throws InterruptedException, ProtocolException {
    return codec.decode(await(topic, seconds).payload(), type);
  }

  void clear() {
    synchronized (inbox) {
      inbox.clear();
    }
  }

  private List<String> inboxTopics() {
    return inbox.stream().map(Msg::topic).toList();
  }

  @Override
  public void close() throws MqttException {
    if (client.isConnected()) {
      client.disconnect(1000);
    }
    client.close();
  }
}
