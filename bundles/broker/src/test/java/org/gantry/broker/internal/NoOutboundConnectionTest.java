package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shows that the broker as Gantry configures it attempts no outbound connection. Moquette reports
 * telemetry with {@code java.net.URL#openConnection}, and every such HTTP(S) connection first asks
 * the default {@link ProxySelector} where to go. This test installs one that records each URI and
 * sends the connection to a recorder on loopback, so nothing leaves the machine even when the
 * control case turns telemetry on; the control case proves the recorder would see the report.
 */
class NoOutboundConnectionTest {

  private final List<URI> asked = new CopyOnWriteArrayList<>();
  private final BlockingQueue<String> requestLines = new LinkedBlockingQueue<>();
  private ProxySelector previous;
  private ServerSocket recorder;
  private Thread recorderThread;

  @BeforeEach
  void recordEveryOutboundHttpConnection() throws IOException {
    recorder = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    recorderThread =
        new Thread(
            () -> {
              while (!recorder.isClosed()) {
                try (Socket s = recorder.accept()) {
                  s.setSoTimeout(5000);
                  BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                  String line = in.readLine();
                  requestLines.add(line == null ? "" : line);
                } catch (IOException e) {
                  // closed by the test, or a client that gave up: nothing more to record
                }
              }
            },
            "outbound-recorder");
    recorderThread.setDaemon(true);
    recorderThread.start();
    previous = ProxySelector.getDefault();
    ProxySelector.setDefault(
        new ProxySelector() {
          @Override
          public List<Proxy> select(URI uri) {
            if (isLoopback(uri.getHost())) {
              // The test's own MQTT client connecting to the broker.
              return List.of(Proxy.NO_PROXY);
            }
            asked.add(uri);
            // HTTP(S) goes to the recorder as a proxy; any other socket as a SOCKS proxy, which
            // the recorder refuses: either way nothing leaves the machine.
            boolean http = uri.getScheme() != null && uri.getScheme().startsWith("http");
            return List.of(
                new Proxy(
                    http ? Proxy.Type.HTTP : Proxy.Type.SOCKS,
                    new InetSocketAddress(
                        InetAddress.getLoopbackAddress(), recorder.getLocalPort())));
          }

          @Override
          public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
        });
  }

  private static boolean isLoopback(String host) {
    return host != null
        && (host.equals("localhost")
            || host.startsWith("127.")
            || host.equals("::1")
            || host.equals("[::1]"));
  }

  @AfterEach
  void restore() throws Exception {
    ProxySelector.setDefault(previous);
    recorder.close();
    recorderThread.join(5000);
  }

  @Test
  void controlMoquetteWithTelemetryOnIsCaughtByTheRecorder(@TempDir Path dir) throws Exception {
    Properties p =
        new BrokerSettings("127.0.0.1", BrokerComponentTest.freePort(), 131_072, null).toMoquette();
    p.setProperty("telemetry_enabled", "true");
    // Moquette writes its telemetry id file here; keep it out of the working directory.
    p.setProperty("data_path", dir.toString() + "/");
    Server server = new Server();
    server.startServer(new MemoryConfig(p));
    try {
      String line = requestLines.poll(20, TimeUnit.SECONDS);
      assertNotNull(line, "with telemetry on, Moquette must try to connect out");
      assertTrue(line.startsWith("CONNECT telemetry.moquette.io:443"), line);
      assertTrue(
          asked.stream().anyMatch(u -> "telemetry.moquette.io".equals(u.getHost())),
          asked.toString());
      assertTrue(Files.exists(dir.resolve(".moquette_uuid")));
    } finally {
      server.stopServer();
    }
  }

  @Test
  void theGantryBrokerConnectsNowhere(@TempDir Path dir) throws Exception {
    BrokerComponent broker =
        new BrokerComponent(
            new BrokerSettings(
                "127.0.0.1", BrokerComponentTest.freePort(), 131_072, dir.resolve("data")));
    try {
      MqttClient c =
          new MqttClient("tcp://127.0.0.1:" + broker.port(), "probe", new MemoryPersistence());
      c.connect();
      c.publish("$aws/things/t/jobs/get", "{}".getBytes(StandardCharsets.UTF_8), 1, false);
      c.disconnect();
      c.close();
      // The control case sees the telemetry report within milliseconds of start-up; give the
      // broker ample time to show the same if it were going to.
      String line = requestLines.poll(3, TimeUnit.SECONDS);
      assertEquals(null, line, "the broker tried to connect out");
      assertEquals(List.of(), asked, "connections attempted to other hosts");
      assertFalse(Files.exists(dir.resolve("data").resolve(".moquette_uuid")));
      assertFalse(Files.exists(Path.of(".moquette_uuid")));
    } finally {
      broker.stop();
    }
  }
}
