package org.gantry.broker.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The validated settings of the embedded broker and their translation into Moquette's configuration
 * keys (as read in the Moquette 0.17 source: {@code IConfig}, {@code BrokerConstants}, {@code
 * NewNettyAcceptor}, {@code Server}).
 *
 * @param host address of the plain listener
 * @param port plain TCP port, 1-65535, or 0 for no plain listener
 * @param maxMessageBytes largest MQTT message, at least {@link #MIN_MESSAGE_BYTES}
 * @param dataDir persistence folder, or null for none
 * @param tls the mutual-TLS listener, or null for none
 * @param aclFile the ACL file, or null when every client may do everything
 * @param plainPrincipal the principal of clients on the plain listener when the ACL is on; empty
 *     for none (they may then do nothing)
 */
record BrokerSettings(
    String host,
    int port,
    int maxMessageBytes,
    Path dataDir,
    Tls tls,
    Path aclFile,
    String plainPrincipal) {

  /** 128 KB: a 32,768-character job document is up to 128 KB of UTF-8, plus its envelope. */
  static final int MIN_MESSAGE_BYTES = 131_072;

  /**
   * The mutual-TLS listener.
   *
   * @param host address to bind
   * @param port 1-65535
   * @param keystoreFile PKCS#12 file with the broker's key and certificate
   * @param keystorePassword its password
   * @param caFile PEM file with the site CA certificate(s) client certificates must chain to
   */
  record Tls(String host, int port, Path keystoreFile, String keystorePassword, Path caFile) {
    Tls {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("tls.host must name the address to listen on");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("tls.port must be 0 (off) or 1-65535, got " + port);
      }
      if (keystoreFile == null || !Files.isReadable(keystoreFile)) {
        throw new IllegalArgumentException(
            "tls.keystore.file must name a readable PKCS#12 file with the broker's key and"
                + " certificate, got "
                + keystoreFile);
      }
      if (keystorePassword == null) {
        throw new IllegalArgumentException("tls.keystore.password is required with tls.port");
      }
      if (caFile == null || !Files.isReadable(caFile)) {
        throw new IllegalArgumentException(
            "tls.ca.file must name a readable PEM file with the site CA certificate, got "
                + caFile);
      }
    }

    @Override
    public String toString() {
      return "Tls[" + host + ":" + port + ", keystore " + keystoreFile + ", CA " + caFile + "]";
    }
  }

  BrokerSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException(
          "host must name the address to listen on, for example 127.0.0.1");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0 (off) or 1-65535, got " + port);
    }
    if (port == 0 && tls == null) {
      throw new IllegalArgumentException(
          "port is 0 (no plain listener) and tls.port is 0 (no TLS listener): nothing to listen on");
    }
    if (maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new IllegalArgumentException(
          "max.message.bytes must be at least "
              + MIN_MESSAGE_BYTES
              + " so that a 32 KB job document fits, got "
              + maxMessageBytes);
    }
    plainPrincipal = plainPrincipal == null ? "" : plainPrincipal.strip();
  }

  /** A plain listener only, as before issue 8. */
  BrokerSettings(String host, int port, int maxMessageBytes, Path dataDir) {
    this(host, port, maxMessageBytes, dataDir, null, null, "");
  }

  /**
   * Whether clients go through the {@link FrontEnd} (TLS identities, ACL) rather than straight to
   * Moquette.
   */
  boolean guarded() {
    return tls != null || aclFile != null;
  }

  static BrokerSettings of(BrokerConfig c) {
    Tls tls = null;
    if (c.tls_port() != 0) {
      String tlsHost = c.tls_host() == null || c.tls_host().isBlank() ? c.host() : c.tls_host();
      tls =
          new Tls(
              tlsHost,
              c.tls_port(),
              path(c.tls_keystore_file()),
              c.tls_keystore_password(),
              path(c.tls_ca_file()));
    }
    return new BrokerSettings(
        c.host(),
        c.port(),
        c.max_message_bytes(),
        path(c.data_dir()),
        tls,
        path(c.acl_file()),
        c.plain_principal());
  }

  private static Path path(String value) {
    return value == null || value.isBlank() ? null : Path.of(value.strip()).toAbsolutePath();
  }

  /** Moquette's configuration for listening on {@code host:port} itself (nothing guarded). */
  Properties toMoquette() {
    Properties p = common(host, port);
    // No identities: anonymous clients, each may do everything.
    p.setProperty("allow_anonymous", "true");
    return p;
  }

  /**
   * Moquette's configuration behind the front end: an internal listener on loopback that accepts
   * only CONNECTs carrying the broker's secret.
   */
  Properties toMoquetteBehindFrontEnd(int internalPort) {
    Properties p = common("127.0.0.1", internalPort);
    p.setProperty("allow_anonymous", "false");
    return p;
  }

  /**
   * Every key that could make Moquette reach out, listen elsewhere or load optional libraries is
   * set explicitly, so a changed default in Moquette cannot turn it on.
   */
  private Properties common(String listenHost, int listenPort) {
    Properties p = new Properties();
    p.setProperty("host", listenHost);
    p.setProperty("port", Integer.toString(listenPort));
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
    p.setProperty("password_file", "");
    p.setProperty("acl_file", "");
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
