package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerComponentTest {

  private static final String TOPIC = "$aws/things/big/jobs/j1/get/accepted";

  private BrokerComponent broker;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.stop();
    }
  }

  @Test
  void carriesTheLargestMessageItAllowsAndRefusesOneByteMore() throws Exception {
    broker = new BrokerComponent(new BrokerSettings("127.0.0.1", freePort(), 131_072, null));
    // MQTT remaining length of a QoS 1 PUBLISH: 2-byte topic length, topic, 2-byte packet id.
    int largest = 131_072 - 2 - TOPIC.getBytes(StandardCharsets.UTF_8).length - 2;
    byte[] payload = new byte[largest];
    new Random(7).nextBytes(payload);

    MqttClient sub = client("sub");
    MqttClient pub = client("pub");
    try {
      BlockingQueue<byte[]> got = new ArrayBlockingQueue<>(4);
      sub.subscribe("$aws/things/+/jobs/#", 1, (t, m) -> got.add(m.getPayload()));

      pub.publish(TOPIC, payload, 1, false);
      byte[] received = got.poll(10, TimeUnit.SECONDS);
      assertArrayEquals(payload, received, "the 128 KB message must arrive unchanged");

      // One byte over the limit: Moquette refuses the frame and drops the publisher's connection.
      MqttClient big = client("big");
      try {
        assertThrows(
            MqttException.class, () -> big.publish(TOPIC, new byte[largest + 1], 1, false));
      } finally {
        big.disconnectForcibly(100, 100);
        big.close();
      }
      assertNull(got.poll(1, TimeUnit.SECONDS), "an oversized message must not be delivered");
    } finally {
      close(sub);
      close(pub);
    }
  }

  @Test
  void persistsSessionsInTheDataDirWhenGiven(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("broker");
    broker = new BrokerComponent(new BrokerSettings("127.0.0.1", freePort(), 262_144, data));
    MqttClient c = client("persistent");
    close(c);
    assertTrue(Files.isDirectory(data), "data.dir is created");
    try (var files = Files.list(data)) {
      assertTrue(files.findAny().isPresent(), "Moquette keeps its stores in data.dir");
    }
  }

  @Test
  void refusesInvalidSettingsNamingTheProperty() {
    IllegalArgumentException port =
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings("127.0.0.1", 70_000, 131_072, null));
    assertTrue(port.getMessage().startsWith("port"), port.getMessage());
    IllegalArgumentException size =
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings("127.0.0.1", 1883, 8192, null));
    assertTrue(size.getMessage().startsWith("max.message.bytes"), size.getMessage());
    IllegalArgumentException host =
        assertThrows(
            IllegalArgumentException.class, () -> new BrokerSettings(" ", 1883, 131_072, null));
    assertTrue(host.getMessage().startsWith("host"), host.getMessage());
  }

  @Test
  void reportsAPortInUseAndLeavesNothingRunning() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      UncheckedIOException e =
          assertThrows(
              UncheckedIOException.class,
              () ->
                  new BrokerComponent(
                      new BrokerSettings("127.0.0.1", taken.getLocalPort(), 131_072, null)));
      assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
    }
  }

  @Test
  void configuresMoquetteWithEverythingThatReachesOutTurnedOff() {
    var p = new BrokerSettings("127.0.0.1", 1883, 131_072, null).toMoquette();
    assertEquals("false", p.getProperty("telemetry_enabled"));
    assertEquals("true", p.getProperty("netty.tcp_nodelay"));
    assertEquals("disabled", p.getProperty("websocket_port"));
    assertEquals("false", p.getProperty("persistence_enabled"));
    assertEquals("131072", p.getProperty("netty.mqtt.message_size"));
    assertNull(p.getProperty("ssl_port"));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private MqttClient client(String id) throws MqttException {
    return client("tcp://127.0.0.1:" + broker.port(), id);
  }

  /** A connected clean-session client that gives up after 5 s. */
  static MqttClient client(String url, String id) throws MqttException {
    MqttClient c = new MqttClient(url, id, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setConnectionTimeout(5);
    c.setTimeToWait(5000);
    c.connect(o);
    return c;
  }

  static void close(MqttClient c) throws MqttException {
    if (c.isConnected()) {
      c.disconnect(1000);
    }
    c.close();
  }
}
