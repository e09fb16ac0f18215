package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.Test;

class NoDelaySocketFactoryTest {

  @Test
  void everySocketHasTcpNoDelay() throws Exception {
    NoDelaySocketFactory factory = new NoDelaySocketFactory();
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (ServerSocket server = new ServerSocket(0, 50, loopback)) {
      int port = server.getLocalPort();
      // the way Paho uses it: unconnected, then connected with a timeout
      try (Socket s = factory.createSocket()) {
        assertTrue(s.getTcpNoDelay());
        s.connect(new InetSocketAddress(loopback, port), 5_000);
        assertTrue(s.getTcpNoDelay());
      }
      try (Socket s = factory.createSocket(loopback, port)) {
        assertTrue(s.getTcpNoDelay());
      }
      try (Socket s = factory.createSocket("127.0.0.1", port)) {
        assertTrue(s.getTcpNoDelay());
      }
      try (Socket s = factory.createSocket(loopback, port, loopback, 0)) {
        assertTrue(s.getTcpNoDelay());
      }
      try (Socket s = factory.createSocket("127.0.0.1", port, loopback, 0)) {
        assertTrue(s.getTcpNoDelay());
      }
    }
  }

  @Test
  void reportsTheFirstWriteOnceOnly() throws Exception {
    AtomicInteger writes = new AtomicInteger();
    NoDelaySocketFactory factory = new NoDelaySocketFactory(writes::incrementAndGet);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (ServerSocket server = new ServerSocket(0, 50, loopback);
        Socket s = factory.createSocket()) {
      s.connect(new InetSocketAddress(loopback, server.getLocalPort()), 5_000);
      try (Socket accepted = server.accept()) {
        OutputStream out = s.getOutputStream();
        assertEquals(0, writes.get(), "nothing written yet");
        out.write(new byte[] {0x10, 0x00, 0x01}, 0, 3);
        assertEquals(1, writes.get());
        out.write(7);
        s.getOutputStream().write(new byte[] {1, 2});
        assertEquals(1, writes.get(), "once per socket");
        byte[] got = accepted.getInputStream().readNBytes(6);
        assertArrayEquals(new byte[] {0x10, 0x00, 0x01, 7, 1, 2}, got, "bytes pass unchanged");
      }
    }
  }

  @Test
  void readsAreBufferedInOneStreamPerSocket() throws Exception {
    NoDelaySocketFactory factory = new NoDelaySocketFactory();
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (ServerSocket server = new ServerSocket(0, 50, loopback);
        Socket s = factory.createSocket()) {
      s.connect(new InetSocketAddress(loopback, server.getLocalPort()), 5_000);
      try (Socket accepted = server.accept()) {
        InputStream in = s.getInputStream();
        assertSame(in, s.getInputStream(), "a second stream would strand buffered bytes");
        accepted.getOutputStream().write(new byte[] {0x30, 0x03, 'a', 'b', 'c', 0x40, 0x02});
        accepted.getOutputStream().flush();
        // A packet's header a byte at a time, as Paho reads it, then the rest in bulk.
        assertEquals(0x30, in.read());
        assertEquals(0x03, in.read());
        assertArrayEquals(new byte[] {'a', 'b', 'c'}, in.readNBytes(3));
        // Through the stream asked for again, the next packet continues where the first ended.
        assertArrayEquals(new byte[] {0x40, 0x02}, s.getInputStream().readNBytes(2));
      }
    }
  }

  @Test
  void connectOptionsUseItAndOurOwnReconnectLoop() {
    TransportSettings settings =
        TransportSettings.from(
            TestConfigs.config(
                "broker.url", "tcp://127.0.0.1:1883",
                "client.id", "gw-1",
                "keepalive.seconds", 45,
                "connect.timeout.seconds", 7,
                "max.inflight", 5,
                "username", "u",
                ".password", "p"));
    NoDelaySocketFactory factory = new NoDelaySocketFactory();
    MqttConnectOptions options = PahoMqttTransport.connectOptions(settings, factory);
    assertSame(factory, options.getSocketFactory());
    assertEquals(MqttConnectOptions.MQTT_VERSION_3_1_1, options.getMqttVersion());
    assertFalse(options.isCleanSession(), "a persistent session by default");
    assertTrue(options.isHttpsHostnameVerificationEnabled());
    assertFalse(options.isAutomaticReconnect());
    assertEquals(45, options.getKeepAliveInterval());
    assertEquals(7, options.getConnectionTimeout());
    assertEquals(6, options.getMaxInflight(), "one slot more than our permits");
    assertEquals("u", options.getUserName());
    assertEquals("p", new String(options.getPassword()));
  }
}
