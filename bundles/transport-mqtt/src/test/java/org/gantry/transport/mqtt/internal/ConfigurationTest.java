package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigurationTest {

  private static Map<String, Object> valid() {
    Map<String, Object> props = new HashMap<>();
    props.put("broker.url", "tcp://127.0.0.1:1883");
    props.put("client.id", "gateway-1");
    return props;
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("broker.url", null, "broker.url is required"),
        Arguments.of("broker.url", " ", "broker.url is required"),
        Arguments.of("broker.url", "ssl://broker:8883", "tls.ca.file is required"),
        Arguments.of("broker.url", "mqtts://broker:8883", "use ssl://host:port"),
        Arguments.of("tls.ca.file", "/etc/ca.pem", "is plain TCP: use ssl://"),
        Arguments.of("tls.cert.file", "/etc/cert.pem", "is plain TCP"),
        Arguments.of("tls.alpn", "x-amzn-mqtt-ca", "is plain TCP"),
        Arguments.of("durable.max.bytes", 10, "durable.max.bytes is 10"),
        Arguments.of("duplicate.window.seconds", 0, "duplicate.window.seconds is 0"),
        Arguments.of("duplicate.losses", 1, "duplicate.losses is 1"),
        Arguments.of("duplicate.backoff.millis", 0, "duplicate.backoff.millis is 0"),
        Arguments.of("broker.url", "ws://broker:80", "scheme 'ws' is not supported"),
        Arguments.of("broker.url", "broker:1883", "has no scheme"),
        Arguments.of("broker.url", "127.0.0.1:1883", "has no scheme"),
        Arguments.of("broker.url", "tcp://broker", "has no port"),
        Arguments.of("broker.url", "tcp://broker:0", "has port 0"),
        Arguments.of("broker.url", "tcp://broker:65536", "has port 65536"),
        Arguments.of("broker.url", "tcp://:1883", "has no valid host"),
        Arguments.of("broker.url", "tcp://bad_host:1883", "has no valid host"),
        Arguments.of("broker.url", "tcp://broker:1883/path", "without user, path"),
        Arguments.of("broker.url", "tcp://user:pw@broker:1883", "without user, path"),
        Arguments.of("broker.url", "tcp://broker:1883?x=1", "without user, path"),
        Arguments.of("broker.url", "tcp://bro ker:1883", "is not a valid URL"),
        Arguments.of("client.id", null, "client.id is required"),
        Arguments.of("client.id", "", "client.id is required"),
        Arguments.of("client.id", "x".repeat(129), "client.id is 129 characters long"),
        Arguments.of("client.id", "gw\n1", "client.id"),
        Arguments.of("client.id", " gw", "client.id"),
        Arguments.of("keepalive.seconds", 0, "keepalive.seconds is 0"),
        Arguments.of("keepalive.seconds", 65_536, "keepalive.seconds is 65536"),
        Arguments.of("connect.timeout.seconds", 0, "connect.timeout.seconds is 0"),
        Arguments.of("connect.timeout.seconds", -5, "connect.timeout.seconds is -5"),
        Arguments.of("reconnect.min.millis", 0, "reconnect.min.millis is 0"),
        Arguments.of("reconnect.max.millis", 999, "reconnect.max.millis (999) is below"),
        Arguments.of("reconnect.max.millis", 86_400_001L, "reconnect.max.millis is 86400001"),
        Arguments.of("max.inflight", 0, "max.inflight is 0"),
        Arguments.of("max.inflight", 10_001, "max.inflight is 10001"),
        Arguments.of(".password", "secret", ".password is set but username is not"),
        Arguments.of("username", "a\u0000b", "username must not contain control characters"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("badValues")
  void badValueIsRefusedNamingTheProperty(String property, Object value, String expected) {
    Map<String, Object> props = valid();
    props.put(property, value);
    long threadsBefore = transportThreads();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new PahoMqttTransport(TestConfigs.config(props)));
    assertTrue(e.getMessage().contains(property), "names " + property + ": " + e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertFalse(e.getMessage().contains("secret"), "never echoes the password");
    assertEquals(threadsBefore, transportThreads(), "no thread started for a bad configuration");
  }

  @Test
  void validConfigurationIsNormalised() {
    Map<String, Object> props = valid();
    props.put("broker.url", " TCP://Broker.example:1883 ");
    props.put("client.id", "é".repeat(128));
    props.put("username", "gw");
    props.put(".password", "secret");
    TransportSettings s = TransportSettings.from(TestConfigs.config(props));
    assertEquals("tcp://Broker.example:1883", s.serverUri());
    assertEquals(128, s.clientId().length());
    assertEquals(30, s.keepAliveSeconds());
    assertEquals(10, s.connectTimeoutSeconds());
    assertEquals(1_000, s.reconnectMinMillis());
    assertEquals(60_000, s.reconnectMaxMillis());
    assertEquals(64, s.maxInflight());
    assertEquals("gw", s.username().orElseThrow());
    assertEquals("secret", new String(s.password().orElseThrow()));
    assertFalse(s.toString().contains("secret"), s.toString());
  }

  @Test
  void ipv6LiteralIsAccepted() {
    Map<String, Object> props = valid();
    props.put("broker.url", "tcp://[::1]:1883");
    assertEquals("tcp://[::1]:1883", TransportSettings.from(TestConfigs.config(props)).serverUri());
  }

  @Test
  void dsNameMappingOfTheTestHelper() {
    assertEquals("broker.url", TestConfigs.propertyName("broker_url"));
    assertEquals(".password", TestConfigs.propertyName("_password"));
    assertEquals("a_b", TestConfigs.propertyName("a__b"));
  }

  private static long transportThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(PahoMqttTransport.THREAD_PREFIX))
        .count();
  }
}
