package org.gantry.transport.mqtt.internal;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * An embedded Moquette 0.17 broker on 127.0.0.1 and a free port, with telemetry, persistence and
 * websockets off and 128 KB messages (BUILD-NOTES pitfall 10). It can be stopped and started again
 * on the same port.
 */
final class TestBroker implements AutoCloseable {

  private final int port;
  private final Path dataDir;
  private final IAuthorizatorPolicy policy;
  private Server server;

  private TestBroker(int port, Path dataDir, IAuthorizatorPolicy policy) {
    this.port = port;
    this.dataDir = dataDir;
    this.policy = policy;
  }

  static TestBroker start(Path dataDir) {
    return start(dataDir, null);
  }

  /**
   * @param policy who may publish and subscribe to what; null allows everything
   */
  static TestBroker start(Path dataDir, IAuthorizatorPolicy policy) {
    TestBroker broker = new TestBroker(freePort(), dataDir, policy);
    broker.start();
    return broker;
  }

  static Properties properties(int port, Path dataDir) {
    Properties p = new Properties();
    p.setProperty("host", "127.0.0.1");
    p.setProperty("port", Integer.toString(port));
    p.setProperty("websocket_port", "disabled");
    p.setProperty("persistence_enabled", "false");
    p.setProperty("data_path", dataDir.toString());
    p.setProperty("allow_anonymous", "true");
    p.setProperty("telemetry_enabled", "false");
    p.setProperty("netty.mqtt.message_size", "131072");
    p.setProperty("netty.tcp_nodelay", "true");
    return p;
  }

  void start() {
    if (server != null) {
      throw new IllegalStateException("broker already running on port " + port);
    }
    Server s = new Server();
    try {
      s.startServer(new MemoryConfig(properties(port, dataDir)), List.of(), null, null, policy);
    } catch (IOException e) {
      throw new UncheckedIOException("Moquette did not start on port " + port, e);
    }
    server = s;
  }

  void stop() {
    if (server != null) {
      server.stopServer();
      server = null;
    }
  }

  int port() {
    return port;
  }

  String url() {
    return "tcp://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    stop();
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }
}
