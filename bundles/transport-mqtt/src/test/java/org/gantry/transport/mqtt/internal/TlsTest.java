package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.ConnectionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mutual TLS against Moquette and Mosquitto, both requiring a client certificate, with certificates
 * made here: PEM identities as AWS IoT issues them (PKCS#1 RSA), PKCS#8 and SEC1 EC keys, PKCS#12;
 * and the failures an operator must be able to tell apart: wrong CA, expired and unknown client
 * certificates.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTest {

  @TempDir static Path dir;

  private static TestPki.Issued ca;
  private static Path caFile;
  private static Path otherCaFile;
  private static TestBroker moquette;
  private static MosquittoBroker mosquitto;
  private static final Map<String, Path[]> identities = new java.util.HashMap<>();

  private final List<PahoMqttTransport> transports = new ArrayList<>();

  @BeforeAll
  static void pki() throws Exception {
    ca = TestPki.ca("Gantry test CA");
    TestPki.Issued other = TestPki.ca("Some other CA");
    caFile = TestPki.writeCerts(dir.resolve("ca.pem"), ca.certificate());
    otherCaFile = TestPki.writeCerts(dir.resolve("other-ca.pem"), other.certificate());
    TestPki.Issued server = TestPki.server(ca);
    Path serverCert = TestPki.writeCerts(dir.resolve("server.pem"), server.certificate());
    Path serverKey = TestPki.writePkcs8(dir.resolve("server.key"), server.keys().getPrivate());

    identity("rsa-pkcs1", TestPki.client(ca, "gw-rsa", TestPki.rsa()), true);
    identity("ec-sec1", TestPki.client(ca, "gw-ec", TestPki.ec()), true);
    identity("rsa-pkcs8", TestPki.client(ca, "gw-rsa8", TestPki.rsa()), false);
    identity("expired", TestPki.expiredClient(ca, "gw-old"), true);
    identity("unknown", TestPki.client(other, "gw-stranger", TestPki.rsa()), true);
    TestPki.writePkcs12(
        dir.resolve("device.p12"),
        TestPki.client(ca, "gw-p12", TestPki.rsa()),
        "changeit".toCharArray());

    moquette = TestBroker.startTls(dir.resolve("moquette"), server, ca.certificate());
    mosquitto =
        MosquittoBroker.start(dir, new MosquittoBroker.TlsFiles(caFile, serverCert, serverKey));
  }

  private static void identity(String name, TestPki.Issued issued, boolean traditional) {
    Path cert = TestPki.writeCerts(dir.resolve(name + ".crt"), issued.certificate());
    Path key =
        traditional
            ? TestPki.writeTraditional(dir.resolve(name + ".key"), issued.keys().getPrivate())
            : TestPki.writePkcs8(dir.resolve(name + ".key"), issued.keys().getPrivate());
    identities.put(name, new Path[] {cert, key});
  }

  @AfterAll
  static void stopBrokers() {
    if (moquette != null) {
      moquette.stop();
    }
    if (mosquitto != null) {
      mosquitto.stop();
    }
  }

  @AfterEach
  void stopTransports() {
    for (PahoMqttTransport t : transports) {
      t.deactivate();
    }
  }

  private static String url(String broker) {
    return broker.equals("moquette") ? moquette.url() : mosquitto.url();
  }

  private PahoMqttTransport transport(String broker, String clientId, Object... tls) {
    Object[] base = {
      "broker.url", url(broker),
      "client.id", clientId,
      "reconnect.min.millis", 100,
      "reconnect.max.millis", 400,
      "connect.timeout.seconds", 3
    };
    Object[] all = new Object[base.length + tls.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(tls, 0, all, base.length, tls.length);
    PahoMqttTransport t = new PahoMqttTransport(TestConfigs.config(all));
    transports.add(t);
    return t;
  }

  private PahoMqttTransport withPem(String broker, String identity, Path ca) {
    Path[] files = identities.get(identity);
    return transport(
        broker,
        "gw-" + identity,
        "tls.ca.file",
        ca.toString(),
        "tls.cert.file",
        files[0].toString(),
        "tls.key.file",
        files[1].toString());
  }

  private static void roundTrip(PahoMqttTransport t) throws Exception {
    Await.until(() -> t.state() == ConnectionState.CONNECTED, t.clientId() + " connects");
    Inbox inbox = new Inbox();
    t.subscribe("tls/echo", 1, inbox).toCompletableFuture().get(10, TimeUnit.SECONDS);
    t.publish("tls/echo", "over TLS".getBytes(UTF_8), 1)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals("over TLS", inbox.next().payload());
  }

  /** Never connects, and says why in a sentence containing {@code expected}. */
  private static void refused(PahoMqttTransport t, String expected) throws Exception {
    Await.until(
        () -> t.status().lastError().isPresent() && t.status().reconnectCount() == 0,
        Duration.ofSeconds(15),
        () -> "a connection error is reported");
    Await.until(
        () -> t.status().lastError().orElse("").contains(expected),
        Duration.ofSeconds(10),
        () -> "the error says '" + expected + "': " + t.status().lastError());
    ConnectionStatus status = t.status();
    assertFalse(status.state() == ConnectionState.CONNECTED, "must not connect");
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void pkcs1RsaKeyAsAwsIotIssuesIt(String broker) throws Exception {
    roundTrip(withPem(broker, "rsa-pkcs1", caFile));
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void sec1EcKeyAndPkcs8Key(String broker) throws Exception {
    roundTrip(withPem(broker, "ec-sec1", caFile));
    roundTrip(withPem(broker, "rsa-pkcs8", caFile));
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void pkcs12Identity(String broker) throws Exception {
    roundTrip(
        transport(
            broker,
            "gw-p12",
            "tls.ca.file",
            caFile.toString(),
            "tls.pkcs12.file",
            dir.resolve("device.p12").toString(),
            ".tls.pkcs12.password",
            "changeit"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void wrongCaIsAClearError(String broker) throws Exception {
    refused(withPem(broker, "rsa-pkcs1", otherCaFile), "not signed by a CA in tls.ca.file");
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void expiredClientCertificateIsAClearError(String broker) throws Exception {
    refused(withPem(broker, "expired", caFile), "expired on");
  }

  @ParameterizedTest
  @ValueSource(strings = {"moquette", "mosquitto"})
  void unknownClientCertificateIsAClearError(String broker) throws Exception {
    refused(withPem(broker, "unknown", caFile), "client certificate");
  }

  @Test
  void badCredentialFilesFailActivationNamingTheProperty() throws Exception {
    Path[] rsa = identities.get("rsa-pkcs1");
    Path[] ec = identities.get("ec-sec1");
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a PEM file\n");
    Path encrypted =
        Files.writeString(
            dir.resolve("enc.key"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    Object[][] cases = {
      {"tls.ca.file", dir.resolve("missing.pem"), rsa[0], rsa[1], "cannot be read"},
      {"tls.ca.file", garbage, rsa[0], rsa[1], "is not a PEM certificate file"},
      {"tls.cert.file", caFile, garbage, rsa[1], "is not a PEM certificate file"},
      {"tls.key.file", caFile, rsa[0], garbage, "holds no private key"},
      {"tls.key.file", caFile, rsa[0], encrypted, "encrypted private key"},
      {"tls.key.file", caFile, rsa[0], ec[1], "is not the private key of the certificate"},
    };
    for (Object[] c : cases) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new PahoMqttTransport(
                      TestConfigs.config(
                          "broker.url", moquette.url(),
                          "client.id", "gw",
                          "tls.ca.file", c[1].toString(),
                          "tls.cert.file", c[2].toString(),
                          "tls.key.file", c[3].toString())));
      assertTrue(e.getMessage().startsWith((String) c[0]), c[0] + ": " + e.getMessage());
      assertTrue(e.getMessage().contains((String) c[4]), c[4] + ": " + e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new PahoMqttTransport(
                    TestConfigs.config(
                        "broker.url", moquette.url(),
                        "client.id", "gw",
                        "tls.ca.file", caFile.toString(),
                        "tls.pkcs12.file", dir.resolve("device.p12").toString(),
                        ".tls.pkcs12.password", "s3cr3t-bad")));
    assertTrue(e.getMessage().contains("tls.pkcs12.file"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), "never echoes the password: " + e.getMessage());
  }

  /** The broker identity check also happens in PEM form only; keys of both kinds load. */
  @Test
  void keysOfEveryFormLoad() {
    KeyPair rsa = TestPki.rsa();
    KeyPair ec = TestPki.ec();
    assertEquals(
        rsa.getPrivate(),
        Pem.privateKey("k", TestPki.writeTraditional(dir.resolve("a.key"), rsa.getPrivate())));
    assertEquals(
        rsa.getPrivate(),
        Pem.privateKey("k", TestPki.writePkcs8(dir.resolve("b.key"), rsa.getPrivate())));
    assertEquals(
        ec.getPrivate().getEncoded().length > 0,
        Pem.privateKey("k", TestPki.writeTraditional(dir.resolve("c.key"), ec.getPrivate()))
            .getAlgorithm()
            .equals("EC"));
    assertEquals(
        ec.getPrivate(),
        Pem.privateKey("k", TestPki.writePkcs8(dir.resolve("d.key"), ec.getPrivate())));
  }
}
