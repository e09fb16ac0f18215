package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test broker must not phone home: Moquette reports telemetry and looks up the public IP over
 * HTTP unless told not to (BUILD-NOTES pitfall 10).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TestBrokerTest {

  @TempDir Path dataDir;

  /** Records every URL the JVM is about to open, and sends it into a closed loopback port. */
  static final class RecordingProxySelector extends ProxySelector {
    final List<URI> requested = new CopyOnWriteArrayList<>();
    private final Proxy blackHole =
        new Proxy(
            Proxy.Type.HTTP,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), TestBroker.freePort()));

    @Override
    public List<Proxy> select(URI uri) {
      String host = uri.getHost();
      if (host != null && (host.equals("127.0.0.1") || host.equals("localhost"))) {
        return List.of(Proxy.NO_PROXY); // the tests' own loopback traffic
      }
      requested.add(uri);
      return List.of(blackHole);
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
  }

  @Test
  void brokerMakesNoOutboundRequest() throws Exception {
    ProxySelector previous = ProxySelector.getDefault();
    RecordingProxySelector recorder = new RecordingProxySelector();
    ProxySelector.setDefault(recorder);
    List<Thread> before = new ArrayList<>(Thread.getAllStackTraces().keySet());
    try (TestBroker broker = TestBroker.start(dataDir)) {
      MqttClient client = new MqttClient(broker.url(), "telemetry-probe", new MemoryPersistence());
      client.setTimeToWait(5_000);
      client.connect();
      client.publish("probe", new byte[] {1}, 1, false);
      client.disconnect();
      client.close();
      // Moquette's telemetry runs on a thread of its own: wait for whatever the broker started
      // that is not a long-lived server thread, so a request it makes cannot come after the check.
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (!before.contains(t) && isMoquetteOneShot(t)) {
          t.join(10_000);
        }
      }
    } finally {
      ProxySelector.setDefault(previous);
    }
    assertEquals(List.of(), recorder.requested, "the broker must not open any URL");
  }

  private static boolean isMoquetteOneShot(Thread t) {
    for (StackTraceElement frame : t.getStackTrace()) {
      if (frame.getClassName().equals("io.moquette.broker.Server")) {
        return true;
      }
    }
    return false;
  }
}
