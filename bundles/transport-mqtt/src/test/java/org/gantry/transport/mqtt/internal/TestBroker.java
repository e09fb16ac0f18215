package org.gantry.transport.mqtt.internal;

import io.moquette.broker.ISslContextCreator;
import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Properties;
import javax.net.ssl.SSLException;

/**
 * An embedded Moquette 0.17 broker on 127.0.0.1 and a free port, with telemetry, persistence and
 * websockets off and 128 KB messages (BUILD-NOTES pitfall 10). It can be stopped and started again
 * on the same port.
 */
final class TestBroker implements AutoCloseable {

  private final int port;
  private final Path dataDir;
  private final IAuthorizatorPolicy policy;
  private final ISslContextCreator tls;
  private Server server;

  private TestBroker(int port, Path dataDir, IAuthorizatorPolicy policy, ISslContextCreator tls) {
    this.port = port;
    this.dataDir = dataDir;
    this.policy = policy;
    this.tls = tls;
  }

  /**
   * A TLS-only broker that requires a client certificate signed by {@code clientCa}.
   *
   * @param server the broker's key and certificate
   */
  static TestBroker startTls(Path dataDir, TestPki.Issued server, X509Certificate clientCa) {
    ISslContextCreator tls =
        () -> {
          try {
            return SslContextBuilder.forServer(server.keys().getPrivate(), server.certificate())
                .trustManager(clientCa)
                .clientAuth(ClientAuth.REQUIRE)
                .sslProvider(SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                .build();
          } catch (SSLException e) {
            throw new IllegalStateException("test broker TLS context", e);
          }
        };
    TestBroker broker = new TestBroker(freePort(), dataDir, null, tls);
    broker.start();
    return broker;
  }

  static TestBroker start(Path dataDir) {
    return start(dataDir, null);
  }

  /**
   * @param policy who may publish and subscribe to what; null allows everything
   */
  static TestBroker start(Path dataDir, IAuthorizatorPolicy policy) {
    TestBroker broker = new TestBroker(freePort(), dataDir, policy, null);
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
    Properties p = properties(port, dataDir);
    if (tls != null) {
      p.setProperty("port", "disabled");
      p.setProperty("ssl_port", Integer.toString(port));
      p.setProperty("need_client_auth", "true");
    }
    try {
      s.startServer(new MemoryConfig(p), List.of(), tls, null, policy);
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
    return (tls == null ? "tcp" : "ssl") + "://127.0.0.1:" + port;
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
