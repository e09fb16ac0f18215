package org.gantry.itests.hubbench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The system's Mosquitto on 127.0.0.1 and a free port, with a generated configuration: anonymous,
 * no persistence, TCP_NODELAY, 128 KB messages, queues deep enough for 10,000 things' traffic.
 * Stopped by {@link #close}.
 */
final class BenchBroker implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/sbin/mosquitto");

  private final Process process;
  private final int port;

  private BenchBroker(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static BenchBroker start(Path dir) throws IOException, InterruptedException {
    if (!Files.isExecutable(BINARY)) {
      throw new IllegalStateException(
          BINARY + " is not installed: the hub benchmark measures against Mosquitto");
    }
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
            + "user "
            + System.getProperty("user.name")
            + "\n"
            + "log_dest stdout\nlog_type error\nlog_type warning\n"
            + "max_packet_size 131072\n"
            + "max_queued_messages 1000000\n"
            + "max_inflight_messages 1000\n"
            + "listener "
            + port
            + " 127.0.0.1\n"
            + "set_tcp_nodelay true\n");
    Process p =
        new ProcessBuilder(BINARY.toString(), "-c", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    BenchBroker b = new BenchBroker(p, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException("Mosquitto exited at start: " + Files.readString(out));
      }
      try {
        new Socket(InetAddress.getLoopbackAddress(), port).close();
        return b;
      } catch (IOException notYet) {
        // the broker binds its port within milliseconds of starting; poll until the deadline
        Thread.sleep(20);
      }
    }
    b.close();
    throw new IOException("Mosquitto did not listen on 127.0.0.1:" + port + " within 10 s");
  }

  String url() {
    return "tcp://127.0.0.1:" + port;
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
