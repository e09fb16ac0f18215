package org.gantry.itests.support;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptExceptionMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A Moquette 0.17 MQTT broker on 127.0.0.1 and a free port, for the tests' JVM (never inside the
 * OSGi framework: Moquette is not a bundle).
 *
 * <p>Configured the way BUILD-NOTES pitfall 10 asks: telemetry off (Moquette otherwise reports home
 * and looks up the public IP at every start), messages up to 128 KB (its default is below a 32 KB
 * job document), anonymous clients allowed, persistence and websockets off. While a broker runs, a
 * recording {@link ProxySelector} notes every connection the JVM opens to an address that is not on
 * the loopback interface, so a test can show that nothing went out ({@link #outboundAttempts()}).
 */
public final class TestBroker implements AutoCloseable {

  /** The largest MQTT message the broker carries, in bytes: 128 KB. */
  public static final int MAX_MESSAGE_BYTES = 131_072;

  private static TestBroker shared;

  private final Properties properties;
  private final Object lifecycle = new Object();
  // Replaced when a session loop dies; guarded by lifecycle.
  private Server server;
  private boolean closed;
  private final int port;
  private final OutboundRecorder recorder;
  private final int attemptsBefore;

  private TestBroker(
      Properties properties, int port, OutboundRecorder recorder, int attemptsBefore) {
    this.properties = properties;
    this.port = port;
    this.recorder = recorder;
    this.attemptsBefore = attemptsBefore;
  }

  /**
   * Starts a broker on a free port of 127.0.0.1.
   *
   * @return the running broker; close it to stop it
   * @throws IOException when the broker cannot bind or start
   */
  public static TestBroker start() throws IOException {
    OutboundRecorder recorder = OutboundRecorder.install();
    int attemptsBefore = recorder.attempts.size();
    int port = freePort();
    Properties p = new Properties();
    p.setProperty("host", "127.0.0.1");
    p.setProperty("port", Integer.toString(port));
    p.setProperty("websocket_port", "disabled");
    p.setProperty("allow_anonymous", "true");
    p.setProperty("telemetry_enabled", "false");
    p.setProperty("persistence_enabled", "false");
    p.setProperty("netty.mqtt.message_size", Integer.toString(MAX_MESSAGE_BYTES));
    // Small request/response messages otherwise wait for Nagle's algorithm (BUILD-NOTES latency).
    p.setProperty("netty.tcp_nodelay", "true");
    p.setProperty("buffer_flush_millis", "immediate");
    TestBroker broker = new TestBroker(p, port, recorder, attemptsBefore);
    synchronized (broker.lifecycle) {
      broker.startLocked();
    }
    return broker;
  }

  private void startLocked() throws IOException {
    server = new Server();
    server.startServer(
        new MemoryConfig(properties),
        List.of(new LoopWatchdog(this::sessionLoopDied)),
        null,
        null,
        null);
  }

  /**
   * In Moquette 0.17 a command that throws ends its session loop for good, and every client whose
   * id hashes to that loop times out from then on: in a broker shared by every test class, one
   * failure would fail unrelated tests later. Report it loudly, with its stack trace, in the output
   * of the test class that caused it, and restart the broker on the same port (the product's
   * embedded broker does the same).
   */
  private void sessionLoopDied(Throwable error) {
    System.err.println(
        "TEST BROKER: a Moquette session loop died; restarting the broker on port " + port);
    error.printStackTrace();
    Thread restart =
        new Thread(
            () -> {
              synchronized (lifecycle) {
                if (closed) {
                  return;
                }
                server.stopServer();
                try {
                  startLocked();
                } catch (IOException | RuntimeException e) {
                  System.err.println("TEST BROKER: could not start again on port " + port);
                  e.printStackTrace();
                }
              }
            },
            "itest-broker-restart");
    restart.setDaemon(true);
    restart.start();
  }

  /**
   * The broker shared by every test of this JVM: started on first use, stopped by a shutdown hook.
   * Pax Exam calls the {@code @Configuration} method of each test class on the driver side, before
   * its framework starts; sharing one broker keeps those calls cheap and independent.
   *
   * @return the running broker
   */
  public static synchronized TestBroker shared() {
    if (shared == null) {
      try {
        TestBroker broker = start();
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "itest-broker-stop"));
        shared = broker;
      } catch (IOException e) {
        throw new UncheckedIOException("Could not start the test MQTT broker", e);
      }
    }
    return shared;
  }

  /**
   * The port the broker listens on.
   *
   * @return a port of 127.0.0.1
   */
  public int port() {
    return port;
  }

  /**
   * The broker's URL as Paho takes it.
   *
   * @return {@code tcp://127.0.0.1:PORT}
   */
  public String url() {
    return "tcp://127.0.0.1:" + port;
  }

  /**
   * Every connection this JVM tried to open to an address off the loopback interface since this
   * broker started (proxy selection sees plain sockets and URL connections alike).
   *
   * @return the targets, in order; empty when nothing went out
   */
  public List<String> outboundAttempts() {
    List<String> all = List.copyOf(recorder.attempts);
    return all.subList(Math.min(attemptsBefore, all.size()), all.size());
  }

  @Override
  public void close() {
    synchronized (lifecycle) {
      closed = true;
      server.stopServer();
    }
  }

  /** Hears of a Moquette session loop that died. */
  private static final class LoopWatchdog extends AbstractInterceptHandler {
    private final Consumer<Throwable> onLoopDied;

    LoopWatchdog(Consumer<Throwable> onLoopDied) {
      this.onLoopDied = onLoopDied;
    }

    @Override
    public String getID() {
      return "itest-session-loop-watchdog";
    }

    @Override
    public Class<?>[] getInterceptedMessageTypes() {
      return new Class<?>[] {InterceptExceptionMessage.class};
    }

    @Override
    public void onSessionLoopError(Throwable error) {
      onLoopDied.accept(error);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Delegates to the JVM's selector and remembers every non-loopback target. */
  private static final class OutboundRecorder extends ProxySelector {
    private static OutboundRecorder installed;

    private final ProxySelector delegate;
    private final List<String> attempts = new CopyOnWriteArrayList<>();

    private OutboundRecorder(ProxySelector delegate) {
      this.delegate = delegate;
    }

    static synchronized OutboundRecorder install() {
      if (installed == null) {
        installed = new OutboundRecorder(ProxySelector.getDefault());
        ProxySelector.setDefault(installed);
      }
      return installed;
    }

    @Override
    public List<Proxy> select(URI uri) {
      String host = uri.getHost();
      if (host != null && !isLoopback(host)) {
        attempts.add(uri.toString());
      }
      return delegate != null ? delegate.select(uri) : List.of(Proxy.NO_PROXY);
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
      if (delegate != null) {
        delegate.connectFailed(uri, sa, ioe);
      }
    }

    private static boolean isLoopback(String host) {
      if (host.equals("localhost")) {
        return true;
      }
      // Only literal addresses are checked: resolving a name here would itself go out.
      if (host.matches("[0-9.]+") || host.contains(":")) {
        try {
          return new InetSocketAddress(InetAddress.getByName(host), 0)
              .getAddress()
              .isLoopbackAddress();
        } catch (IOException e) {
          return false;
        }
      }
      return false;
    }
  }
}
