package org.gantry.broker.internal;

import java.nio.file.Path;
import java.util.Properties;

/**
 * The validated settings of the embedded broker and their translation into Moquette's configuration
 * keys (as read in the Moquette 0.17 source: {@code IConfig}, {@code BrokerConstants}, {@code
 * NewNettyAcceptor}, {@code Server}).
 *
 * @param host address to bind
 * @param port TCP port, 1-65535
 * @param maxMessageBytes largest MQTT message, at least {@link #MIN_MESSAGE_BYTES}
 * @param dataDir persistence folder, or null for none
 */
record BrokerSettings(String host, int port, int maxMessageBytes, Path dataDir) {

  /** 128 KB: a 32,768-character job document is up to 128 KB of UTF-8, plus its envelope. */
  static final int MIN_MESSAGE_BYTES = 131_072;

  BrokerSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException(
          "host must name the address to listen on, for example 127.0.0.1");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be 1-65535, got " + port);
    }
    if (maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new IllegalArgumentException(
          "max.message.bytes must be at least "
              + MIN_MESSAGE_BYTES
              + " so that a 32 KB job document fits, got "
              + maxMessageBytes);
    }
  }

  static BrokerSettings of(BrokerConfig c) {
    String dir = c.data_dir();
    return new BrokerSettings(
        c.host(),
        c.port(),
        c.max_message_bytes(),
        dir == null || dir.isBlank() ? null : Path.of(dir).toAbsolutePath());
  }

  /**
   * Moquette's configuration. Every key that could make it reach out, listen elsewhere or load
   * optional libraries is set explicitly, so a changed default in Moquette cannot turn it on.
   */
  Properties toMoquette() {
    Properties p = new Properties();
    p.setProperty("host", host);
    p.setProperty("port", Integer.toString(port));
    // Without this, Server.startServer posts a report to telemetry.moquette.io (and writes a
    // .moquette_uuid file) from a thread of its own.
    p.setProperty("telemetry_enabled", "false");
    p.setProperty("netty.mqtt.message_size", Integer.toString(maxMessageBytes));
    // Nagle plus delayed ACKs cost about 40 ms per small request/answer on loopback.
    p.setProperty("netty.tcp_nodelay", "true");
    p.setProperty("netty.epoll", "false");
    // Write each answer out at once rather than batching flushes.
    p.setProperty("buffer_flush_millis", "0");
    p.setProperty("websocket_port", "disabled");
    p.remove("ssl_port");
    p.remove("secure_websocket_port");
    p.setProperty("use_bugsnag", "false");
    p.setProperty("metrics.enable", "false");
    // No users yet (issue 8): anonymous clients on a loopback-bound broker.
    p.setProperty("allow_anonymous", "true");
    p.setProperty("password_file", "");
    p.setProperty("authenticator_class", "");
    p.setProperty("authorizator_class", "");
    if (dataDir == null) {
      p.setProperty("persistence_enabled", "false");
    } else {
      p.setProperty("persistence_enabled", "true");
      p.setProperty("data_path", dataDir.toString() + "/");
      p.setProperty("persistent_queue_type", "segmented");
    }
    return p;
  }
}
