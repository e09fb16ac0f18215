package org.gantry.hub.internal;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Properties;

/** Moquette as a plain library on 127.0.0.1 and a free port, configured as the hub role's. */
final class TestBroker implements AutoCloseable {
  final int port;
  private final Server server = new Server();

  TestBroker() throws IOException {
    this(null);
  }

  /**
   * @param policy who may publish and subscribe to what; null allows everything
   */
  TestBroker(IAuthorizatorPolicy policy) throws IOException {
    this.port = freePort();
    Properties p = new Properties();
    p.setProperty("host", "127.0.0.1");
    p.setProperty("port", Integer.toString(port));
    p.setProperty("telemetry_enabled", "false");
    p.setProperty("netty.mqtt.message_size", "131072");
    p.setProperty("netty.tcp_nodelay", "true");
    p.setProperty("buffer_flush_millis", "0");
    p.setProperty("websocket_port", "disabled");
    p.setProperty("persistence_enabled", "false");
    p.setProperty("allow_anonymous", "true");
    server.startServer(new MemoryConfig(p), List.of(), null, null, policy);
  }

  String url() {
    return "tcp://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    server.stopServer();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
