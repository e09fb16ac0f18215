package org.gantry.transport.mqtt.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The validated configuration of a {@link PahoMqttTransport}. Every check names the property it
 * refuses, so an operator reading the log knows which line of the configuration file to fix.
 */
final class TransportSettings {

  static final int MAX_CLIENT_ID_LENGTH = 128;

  /**
   * Paho's message ids are 16 bits wide and shared by publishes, subscribes and unsubscribes; far
   * below that, a larger window only hides a broker that does not keep up.
   */
  static final int MAX_INFLIGHT = 10_000;

  static final long MAX_RECONNECT_MILLIS = 86_400_000L;

  private final String serverUri;
  private final String clientId;
  private final int keepAliveSeconds;
  private final int connectTimeoutSeconds;
  private final long reconnectMinMillis;
  private final long reconnectMaxMillis;
  private final int maxInflight;
  private final String username;
  private final String password;

  // set by from() after the constructor; never changed afterwards
  private Path tlsCaFile;
  private Path tlsCertFile;
  private Path tlsKeyFile;
  private Path tlsPkcs12File;
  private String tlsPkcs12Password;
  private List<String> tlsAlpn = List.of();
  private boolean cleanSession;
  private Path dataDir;
  private long durableMaxBytes;
  private int duplicateWindowSeconds;
  private int duplicateLosses;
  private long duplicateBackoffMillis;

  private TransportSettings(
      String serverUri,
      String clientId,
      int keepAliveSeconds,
      int connectTimeoutSeconds,
      long reconnectMinMillis,
      long reconnectMaxMillis,
      int maxInflight,
      String username,
      String password) {
    this.serverUri = serverUri;
    this.clientId = clientId;
    this.keepAliveSeconds = keepAliveSeconds;
    this.connectTimeoutSeconds = connectTimeoutSeconds;
    this.reconnectMinMillis = reconnectMinMillis;
    this.reconnectMaxMillis = reconnectMaxMillis;
    this.maxInflight = maxInflight;
    this.username = username;
    this.password = password;
  }

  /**
   * Validates a configuration.
   *
   * @throws IllegalArgumentException naming the first property that is missing or out of range
   */
  static TransportSettings from(MqttTransportConfig config) {
    String serverUri = brokerUrl(config.broker_url());
    String clientId = clientId(config.client_id());
    int keepAlive = inRange("keepalive.seconds", config.keepalive_seconds(), 1, 65_535);
    int connectTimeout =
        inRange("connect.timeout.seconds", config.connect_timeout_seconds(), 1, 3_600);
    long min =
        inRange("reconnect.min.millis", config.reconnect_min_millis(), 1, MAX_RECONNECT_MILLIS);
    long max =
        inRange("reconnect.max.millis", config.reconnect_max_millis(), 1, MAX_RECONNECT_MILLIS);
    if (max < min) {
      throw new IllegalArgumentException(
          "reconnect.max.millis ("
              + max
              + ") is below reconnect.min.millis ("
              + min
              + "): the maximum delay must be at least the minimum");
    }
    int maxInflight = inRange("max.inflight", config.max_inflight(), 1, MAX_INFLIGHT);
    String username = emptyToNull(config.username());
    String password = emptyToNull(config._password());
    if (username != null && hasControlCharacter(username)) {
      throw new IllegalArgumentException("username must not contain control characters");
    }
    if (password != null && username == null) {
      // MQTT 3.1.1 §3.1.2.9: the password flag must be 0 when the user name flag is 0.
      throw new IllegalArgumentException(
          ".password is set but username is not: MQTT 3.1.1 sends a password only with a user"
              + " name");
    }
    TransportSettings settings =
        new TransportSettings(
            serverUri,
            clientId,
            keepAlive,
            connectTimeout,
            min,
            max,
            maxInflight,
            username,
            password);
    settings.tls(config, serverUri.startsWith("ssl://"));
    settings.cleanSession = config.clean_session();
    String dataDir = emptyToNull(config.data_dir());
    if (dataDir != null) {
      try {
        settings.dataDir = Path.of(dataDir.strip());
      } catch (InvalidPathException e) {
        throw new IllegalArgumentException(
            "data.dir '" + dataDir + "' is not a valid path: " + e.getMessage(), e);
      }
    }
    settings.durableMaxBytes =
        inRange("durable.max.bytes", config.durable_max_bytes(), 1024, Long.MAX_VALUE);
    settings.duplicateWindowSeconds =
        inRange("duplicate.window.seconds", config.duplicate_window_seconds(), 1, 3_600);
    settings.duplicateLosses = inRange("duplicate.losses", config.duplicate_losses(), 2, 100);
    settings.duplicateBackoffMillis =
        inRange(
            "duplicate.backoff.millis", config.duplicate_backoff_millis(), 1, MAX_RECONNECT_MILLIS);
    return settings;
  }

  private void tls(MqttTransportConfig config, boolean ssl) {
    Path ca = path("tls.ca.file", config.tls_ca_file());
    Path cert = path("tls.cert.file", config.tls_cert_file());
    Path key = path("tls.key.file", config.tls_key_file());
    Path pkcs12 = path("tls.pkcs12.file", config.tls_pkcs12_file());
    String pkcs12Password = emptyToNull(config._tls_pkcs12_password());
    String alpn = emptyToNull(config.tls_alpn());
    if (!ssl) {
      String set =
          ca != null
              ? "tls.ca.file"
              : cert != null
                  ? "tls.cert.file"
                  : key != null
                      ? "tls.key.file"
                      : pkcs12 != null ? "tls.pkcs12.file" : alpn != null ? "tls.alpn" : null;
      if (set != null) {
        throw new IllegalArgumentException(
            set
                + " is set but broker.url "
                + serverUri
                + " is plain TCP: use ssl://host:port for TLS, or remove "
                + set);
      }
      return;
    }
    if (ca == null) {
      throw new IllegalArgumentException(
          "tls.ca.file is required with an ssl:// broker.url: the PEM file of the CA certificates"
              + " that may sign the broker's certificate (on AWS IoT Core: AmazonRootCA1.pem)");
    }
    if ((cert == null) != (key == null)) {
      String missing = cert == null ? "tls.cert.file" : "tls.key.file";
      String present = cert == null ? "tls.key.file" : "tls.cert.file";
      throw new IllegalArgumentException(
          missing + " is required when " + present + " is set: the certificate needs its key");
    }
    if (pkcs12 != null && cert != null) {
      throw new IllegalArgumentException(
          "tls.pkcs12.file and tls.cert.file are both set: configure the client identity either"
              + " as PEM (tls.cert.file + tls.key.file) or as PKCS#12, not both");
    }
    if (pkcs12Password != null && pkcs12 == null) {
      throw new IllegalArgumentException(".tls.pkcs12.password is set but tls.pkcs12.file is not");
    }
    List<String> protocols = new ArrayList<>();
    if (alpn != null) {
      for (String p : alpn.split(",")) {
        String name = p.strip();
        if (name.isEmpty() || name.length() > 255 || hasControlCharacter(name)) {
          throw new IllegalArgumentException(
              "tls.alpn '"
                  + alpn.replaceAll("\\p{Cntrl}", "?")
                  + "' must be a comma-separated list of protocol names, e.g. x-amzn-mqtt-ca");
        }
        protocols.add(name);
      }
    }
    this.tlsCaFile = ca;
    this.tlsCertFile = cert;
    this.tlsKeyFile = key;
    this.tlsPkcs12File = pkcs12;
    this.tlsPkcs12Password = pkcs12Password;
    this.tlsAlpn = List.copyOf(protocols);
  }

  private static Path path(String property, String value) {
    String v = emptyToNull(value);
    if (v == null || v.isBlank()) {
      return null;
    }
    try {
      return Path.of(v.strip());
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          property + " '" + v + "' is not a valid path: " + e.getMessage(), e);
    }
  }

  private static String brokerUrl(String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "broker.url is required: set it to tcp://host:port of the MQTT broker");
    }
    String url = value.strip();
    if (!url.contains("://")) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has no scheme: use tcp://host:port");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "' is not a valid URL ("
              + e.getReason()
              + "): use tcp://host:port",
          e);
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme == null) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has no scheme: use tcp://host:port");
    }
    if (scheme.equals("tls") || scheme.equals("mqtts")) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "': scheme '"
              + scheme
              + "' is not supported; use ssl://host:port");
    }
    if (!scheme.equals("tcp") && !scheme.equals("ssl")) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "': scheme '"
              + scheme
              + "' is not supported; use tcp://host:port or ssl://host:port");
    }
    if (uri.isOpaque() || uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has no valid host name: use tcp://host:port");
    }
    if (uri.getPort() == -1) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "' has no port: use tcp://host:port or ssl://host:port (1883 and 8883 are MQTT's usual"
              + " ports)");
    }
    if (uri.getPort() < 1 || uri.getPort() > 65_535) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has port " + uri.getPort() + ": it must be 1 to 65535");
    }
    boolean hasPath = uri.getRawPath() != null && !uri.getRawPath().isEmpty();
    if (uri.getRawUserInfo() != null
        || hasPath
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "' must be exactly scheme://host:port, without user, path, query or fragment (the"
              + " user name has a property of its own: username)");
    }
    return scheme + "://" + uri.getHost() + ":" + uri.getPort();
  }

  private static String clientId(String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(
          "client.id is required: 1 to "
              + MAX_CLIENT_ID_LENGTH
              + " characters, on AWS IoT Core usually the thing name");
    }
    int length = value.codePointCount(0, value.length());
    if (length > MAX_CLIENT_ID_LENGTH) {
      throw new IllegalArgumentException(
          "client.id is "
              + length
              + " characters long: at most "
              + MAX_CLIENT_ID_LENGTH
              + " are allowed");
    }
    if (hasControlCharacter(value) || !value.strip().equals(value)) {
      throw new IllegalArgumentException(
          "client.id '"
              + value.replaceAll("\\p{Cntrl}", "?")
              + "' must not contain control characters or leading/trailing white space");
    }
    return value;
  }

  private static int inRange(String property, int value, int min, int max) {
    return (int) inRange(property, (long) value, min, max);
  }

  private static long inRange(String property, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          property + " is " + value + ": it must be " + min + " to " + max);
    }
    return value;
  }

  private static boolean hasControlCharacter(String s) {
    return s.codePoints().anyMatch(Character::isISOControl);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  boolean tls() {
    return serverUri.startsWith("ssl://");
  }

  /** The CA bundle; null without TLS. */
  Path tlsCaFile() {
    return tlsCaFile;
  }

  /** The PEM client certificate; null if none or PKCS#12. */
  Path tlsCertFile() {
    return tlsCertFile;
  }

  Path tlsKeyFile() {
    return tlsKeyFile;
  }

  Path tlsPkcs12File() {
    return tlsPkcs12File;
  }

  /** A fresh copy each time: the caller wipes it. */
  char[] tlsPkcs12Password() {
    return tlsPkcs12Password == null ? new char[0] : tlsPkcs12Password.toCharArray();
  }

  List<String> tlsAlpn() {
    return tlsAlpn;
  }

  boolean cleanSession() {
    return cleanSession;
  }

  /** The configured data.dir, if any. */
  Optional<Path> dataDir() {
    return Optional.ofNullable(dataDir);
  }

  long durableMaxBytes() {
    return durableMaxBytes;
  }

  int duplicateWindowSeconds() {
    return duplicateWindowSeconds;
  }

  int duplicateLosses() {
    return duplicateLosses;
  }

  long duplicateBackoffMillis() {
    return duplicateBackoffMillis;
  }

  /** {@code tcp://host:port} or {@code ssl://host:port}, normalised. */
  String serverUri() {
    return serverUri;
  }

  String clientId() {
    return clientId;
  }

  int keepAliveSeconds() {
    return keepAliveSeconds;
  }

  int connectTimeoutSeconds() {
    return connectTimeoutSeconds;
  }

  long reconnectMinMillis() {
    return reconnectMinMillis;
  }

  long reconnectMaxMillis() {
    return reconnectMaxMillis;
  }

  int maxInflight() {
    return maxInflight;
  }

  Optional<String> username() {
    return Optional.ofNullable(username);
  }

  /** A fresh copy each time: Paho keeps the array it is given. */
  Optional<char[]> password() {
    return Optional.ofNullable(password).map(String::toCharArray);
  }

  @Override
  public String toString() {
    // never the password
    return "broker.url="
        + serverUri
        + ", client.id="
        + clientId
        + ", keepalive.seconds="
        + keepAliveSeconds
        + ", connect.timeout.seconds="
        + connectTimeoutSeconds
        + ", reconnect="
        + reconnectMinMillis
        + ".."
        + reconnectMaxMillis
        + " ms, max.inflight="
        + maxInflight
        + (username == null ? "" : ", username=" + username)
        + (tlsCaFile == null ? "" : ", tls.ca.file=" + tlsCaFile)
        + (tlsCertFile == null ? "" : ", tls.cert.file=" + tlsCertFile)
        + (tlsPkcs12File == null ? "" : ", tls.pkcs12.file=" + tlsPkcs12File)
        + (tlsAlpn.isEmpty() ? "" : ", tls.alpn=" + String.join(",", tlsAlpn))
        + ", clean.session="
        + cleanSession
        + (dataDir == null ? "" : ", data.dir=" + dataDir);
  }
}
