package org.gantry.transport.mqtt.internal;

import java.net.URI;
import java.net.URISyntaxException;
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
    return new TransportSettings(
        serverUri, clientId, keepAlive, connectTimeout, min, max, maxInflight, username, password);
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
    if (scheme.equals("ssl") || scheme.equals("tls") || scheme.equals("mqtts")) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "': TLS ("
              + scheme
              + "://) is not supported yet, mutual TLS comes with a later release; use"
              + " tcp://host:port");
    }
    if (!scheme.equals("tcp")) {
      throw new IllegalArgumentException(
          "broker.url '"
              + url
              + "': scheme '"
              + scheme
              + "' is not supported; use tcp://host:port");
    }
    if (uri.isOpaque() || uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has no valid host name: use tcp://host:port");
    }
    if (uri.getPort() == -1) {
      throw new IllegalArgumentException(
          "broker.url '" + url + "' has no port: use tcp://host:port (1883 is MQTT's usual port)");
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
              + "' must be exactly tcp://host:port, without user, path, query or fragment (the"
              + " user name has a property of its own: username)");
    }
    return "tcp://" + uri.getHost() + ":" + uri.getPort();
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

  /** {@code tcp://host:port}, normalised. */
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
        + (username == null ? "" : ", username=" + username);
  }
}
