package org.gantry.itests.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The system's Mosquitto, when installed, on 127.0.0.1 and a free port with a configuration of its
 * own: anonymous, no persistence, TCP_NODELAY, 128 KB messages; plain TCP, or TLS only with a
 * client certificate required.
 */
final class Mosquitto implements AutoCloseable {

  static final Path BINARY = Path.of("/usr/sbin/mosquitto");

  /** PEM files of a TLS listener: the CA that signs client certificates, the broker's own pair. */
  record TlsFiles(Path caFile, Path certFile, Path keyFile) {}

  private final Process process;
  private final int port;
  private final boolean tls;

  private Mosquitto(Process process, int port, boolean tls) {
    this.process = process;
    this.port = port;
    this.tls = tls;
  }

  /** The broker's process id, to read its CPU time. */
  long pid() {
    return process.pid();
  }

  static boolean installed() {
    return Files.isExecutable(BINARY);
  }

  static Mosquitto start(Path dir) throws IOException, InterruptedException {
    return start(dir, null);
  }

  /**
   * Starts with a TLS-only listener that requires a client certificate signed by {@code tls}'s CA
   * ({@code require_certificate true}); {@code tls} null for plain TCP.
   */
  static Mosquitto start(Path dir, TlsFiles tls) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path conf = dir.resolve("mosquitto.conf");
    Path out = dir.resolve("mosquitto.out");
    Files.writeString(
        conf,
        "per_listener_settings false\n"
            + "allow_anonymous true\n"
            + "persistence false\n"
            // as whoever runs the benchmark: never switch to the mosquitto user
            + "user "
            + System.getProperty("user.name")
            + "\n"
            + "log_dest stdout\nlog_type error\nlog_type warning\n"
            + "max_packet_size 131072\n"
            + "max_queued_messages 100000\n"
            + "max_inflight_messages 100\n"
            + "listener "
            + port
            + " 127.0.0.1\n"
            + "set_tcp_nodelay true\n"
            + (tls == null
                ? ""
                : "cafile "
                    + tls.caFile()
                    + "\ncertfile "
                    + tls.certFile()
                    + "\nkeyfile "
                    + tls.keyFile()
                    + "\nrequire_certificate true\n"));
    Process p =
        new ProcessBuilder(BINARY.toString(), "-c", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    Mosquitto m = new Mosquitto(p, port, tls != null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException(
            "Mosquitto exited at start with " + p.exitValue() + ": " + Files.readString(out));
      }
      try {
        new Socket(InetAddress.getLoopbackAddress(), port).close();
        return m;
      } catch (IOException notYet) {
        Thread.sleep(20);
      }
    }
    m.close();
    throw new IOException("Mosquitto did not listen on 127.0.0.1:" + port + " within 10 s");
  }

  String url() {
    return (tls ? "ssl" : "tcp") + "://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
