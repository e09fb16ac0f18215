package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's Mosquitto, started by the test with its own configuration on 127.0.0.1 and a free port,
 * optionally TLS-only with {@code require_certificate true}. A missing binary fails the test with a
 * sentence that says how to install it: a skipped broker would hide exactly the differences the
 * tests exist to find (BUILD-NOTES pitfall 10).
 */
final class MosquittoBroker implements AutoCloseable {

  static final Path BINARY = Path.of("/usr/sbin/mosquitto");

  /** With this system property true (.ci/run sets it), a missing Mosquitto fails the tests. */
  static final String INTEROP_REQUIRED = "gantry.interop.mosquitto";

  /** PEM files of the broker's TLS listener. */
  record TlsFiles(Path caFile, Path certFile, Path keyFile) {}

  private final int port;
  private final Path dir;
  private final TlsFiles tls;
  private Process process;

  private MosquittoBroker(int port, Path dir, TlsFiles tls) {
    this.port = port;
    this.dir = dir;
    this.tls = tls;
  }

  static MosquittoBroker start(Path dir, TlsFiles tls) throws IOException, InterruptedException {
    if (!Files.isExecutable(BINARY)) {
      String why =
          "Mosquitto is not installed ("
              + BINARY
              + " is missing): the interop tests need Debian's broker; run `apt-get install -y"
              + " mosquitto` (.ci/run does)";
      if (Boolean.getBoolean(INTEROP_REQUIRED)) {
        fail(why + "; -D" + INTEROP_REQUIRED + "=true requires them");
      }
      // Reported as skipped, never as passed; CI sets the property so that there it fails.
      Assumptions.abort(
          why + " and run again, or set -D" + INTEROP_REQUIRED + "=true to require them");
    }
    MosquittoBroker broker = new MosquittoBroker(TestBroker.freePort(), dir, tls);
    broker.start();
    return broker;
  }

  void start() throws IOException, InterruptedException {
    Path conf = dir.resolve("mosquitto-" + port + ".conf");
    StringBuilder c = new StringBuilder();
    c.append("per_listener_settings false\n");
    c.append("allow_anonymous true\n");
    c.append("persistence false\n");
    // we run as whoever runs the tests; never switch to the mosquitto user (it cannot read
    // @TempDir)
    c.append("user ").append(System.getProperty("user.name")).append('\n');
    c.append("log_dest file ").append(dir.resolve("mosquitto-" + port + ".log")).append('\n');
    c.append("log_type error\nlog_type warning\nlog_type notice\n");
    c.append("max_queued_messages 100000\n");
    c.append("max_inflight_messages 100\n");
    c.append("listener ").append(port).append(" 127.0.0.1\n");
    c.append("set_tcp_nodelay true\n");
    if (tls != null) {
      c.append("cafile ").append(tls.caFile()).append('\n');
      c.append("certfile ").append(tls.certFile()).append('\n');
      c.append("keyfile ").append(tls.keyFile()).append('\n');
      c.append("require_certificate true\n");
      c.append("tls_version tlsv1.2\n");
    }
    Files.writeString(conf, c.toString());
    process =
        new ProcessBuilder(BINARY.toString(), "-c", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("mosquitto-" + port + ".out").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail(
            "Mosquitto exited at start with code "
                + process.exitValue()
                + ": "
                + Files.readString(dir.resolve("mosquitto-" + port + ".out")));
      }
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return;
      } catch (IOException notYet) {
        Thread.sleep(20);
      }
    }
    stop();
    fail("Mosquitto did not listen on 127.0.0.1:" + port + " within 10 s");
  }

  void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
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
}
