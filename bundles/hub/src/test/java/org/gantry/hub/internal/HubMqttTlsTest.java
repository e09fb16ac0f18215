package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's own MQTT connection over mutual TLS to a real Mosquitto with {@code require_certificate
 * true} and {@code use_identity_as_username true}, whose ACL file the hub writes; the PKI is made
 * by the JDK's keytool.
 */
class HubMqttTlsTest {
  private static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
  private static final String PASSWORD = "test-store-pw";

  @TempDir Path dir;
  private Process broker;
  private HubComponent hub;

  @AfterEach
  void stop() throws Exception {
    if (hub != null) {
      hub.stop();
    }
    if (broker != null) {
      broker.destroy();
      if (!broker.waitFor(5, TimeUnit.SECONDS)) {
        broker.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theHubReachesATlsOnlyBrokerWithItsOwnCertificate() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(MOSQUITTO), "Mosquitto is not installed: apt-get install mosquitto");
    Path pki = dir.resolve("pki");
    Files.createDirectories(pki);
    keytool(
        pki,
        "-genkeypair",
        "-alias",
        "ca",
        "-dname",
        "CN=Gantry test CA",
        "-ext",
        "bc:c",
        "-keystore",
        "ca.p12");
    X509Certificate ca = (X509Certificate) load(pki.resolve("ca.p12")).getCertificate("ca");
    Path caPem = pki.resolve("ca.pem");
    Files.writeString(caPem, pem("CERTIFICATE", ca.getEncoded()));
    Path hubStore = issue(pki, "gantry-hub", ca);
    Path brokerStore = issue(pki, "broker", ca);
    KeyStore b = load(brokerStore);
    Path brokerCert = pki.resolve("broker.pem");
    Files.writeString(brokerCert, pem("CERTIFICATE", b.getCertificate("broker").getEncoded()));
    Path brokerKey = pki.resolve("broker.key");
    Files.writeString(
        brokerKey,
        pem("PRIVATE KEY", ((PrivateKey) b.getKey("broker", PASSWORD.toCharArray())).getEncoded()));

    int port = TestBroker.freePort();
    Path acl = dir.resolve("broker.acl");
    // The hub starts first: it writes the ACL file the broker reads, then keeps trying to connect.
    hub =
        new HubComponent(
            new HubSettings(
                "ssl://127.0.0.1:" + port,
                "gantry-hub",
                "127.0.0.1",
                TestBroker.freePort(),
                dir.resolve("data"),
                new Arns("us-east-1", "123456789012")),
            Artifacts.Settings.loopback(),
            new AclSettings(acl, List.of("gantry-hub"), List.of()),
            AuthSettings.none(),
            MqttTls.of("ssl://127.0.0.1:" + port, caPem.toString(), hubStore.toString(), PASSWORD),
            Clock.systemUTC());
    assertTrue(Files.readString(acl).contains("user gantry-hub\n"));

    Path conf = dir.resolve("mosquitto.conf");
    Files.writeString(
        conf,
        "per_listener_settings false\n"
            + "allow_anonymous false\n"
            + "persistence false\n"
            + "user "
            + System.getProperty("user.name")
            + "\n"
            + "log_dest file "
            + dir.resolve("mosquitto.log")
            + "\n"
            + "listener "
            + port
            + " 127.0.0.1\n"
            + "cafile "
            + caPem
            + "\n"
            + "certfile "
            + brokerCert
            + "\n"
            + "keyfile "
            + brokerKey
            + "\n"
            + "require_certificate true\n"
            + "use_identity_as_username true\n"
            + "acl_file "
            + acl
            + "\n");
    broker =
        new ProcessBuilder(MOSQUITTO.toString(), "-c", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("mosquitto.out").toFile())
            .start();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!hub.mqttConnected()) {
      if (!broker.isAlive()) {
        fail("Mosquitto exited: " + Files.readString(dir.resolve("mosquitto.out")));
      }
      if (System.nanoTime() > deadline) {
        fail(
            "The hub did not connect over mutual TLS within 60 s; broker log: "
                + Files.readString(dir.resolve("mosquitto.log")));
      }
      // The hub reconnects with a backoff of its own; this only paces the check.
      Thread.sleep(50);
    }
    assertTrue(hub.mqttConnected());
    // A client without a certificate is turned away by the same listener.
    assertEquals(null, plainConnectAnswer(port));
  }

  @Test
  void badTlsFilesStopTheComponentNamingTheKey() throws Exception {
    Path garbage = dir.resolve("garbage");
    Files.writeString(garbage, "not a certificate");
    String url = "ssl://127.0.0.1:8883";
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> MqttTls.of(url, "", "", ""))
            .getMessage()
            .contains("mqtt.ca.file"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class, () -> MqttTls.of(url, garbage.toString(), "", ""))
            .getMessage()
            .contains("mqtt.ca.file"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> MqttTls.of(url, dir.resolve("missing.pem").toString(), "", ""))
            .getMessage()
            .contains("mqtt.ca.file"));
    Path pki = dir.resolve("pki");
    Files.createDirectories(pki);
    keytool(
        pki,
        "-genkeypair",
        "-alias",
        "ca",
        "-dname",
        "CN=Gantry test CA",
        "-ext",
        "bc:c",
        "-keystore",
        "ca.p12");
    Path caPem = pki.resolve("ca.pem");
    Files.writeString(
        caPem, pem("CERTIFICATE", load(pki.resolve("ca.p12")).getCertificate("ca").getEncoded()));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> MqttTls.of(url, caPem.toString(), garbage.toString(), PASSWORD))
            .getMessage()
            .contains("mqtt.keystore.file"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> MqttTls.of(url, caPem.toString(), pki.resolve("ca.p12").toString(), "wrong"))
            .getMessage()
            .contains("mqtt.keystore.password"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> MqttTls.of("tcp://127.0.0.1:1883", caPem.toString(), "", ""))
            .getMessage()
            .contains("ssl://"));
    assertNull(MqttTls.of("tcp://127.0.0.1:1883", "", "", "").sockets());
    assertTrue(MqttTls.of(url, caPem.toString(), "", "").sockets() != null);
  }

  // ------------------------------------------------------------------ PKI by keytool

  /** A key pair in NAME.p12 whose certificate the CA signed (SAN 127.0.0.1), with the CA chain. */
  private static Path issue(Path pki, String name, X509Certificate ca) throws Exception {
    keytool(pki, "-genkeypair", "-alias", name, "-dname", "CN=" + name, "-keystore", name + ".p12");
    keytool(pki, "-certreq", "-alias", name, "-file", name + ".csr", "-keystore", name + ".p12");
    keytool(
        pki,
        "-gencert",
        "-alias",
        "ca",
        "-infile",
        name + ".csr",
        "-outfile",
        name + ".crt",
        "-rfc",
        "-ext",
        "san=ip:127.0.0.1,dns:localhost",
        "-ext",
        "eku=serverAuth,clientAuth",
        "-keystore",
        "ca.p12");
    KeyStore own = load(pki.resolve(name + ".p12"));
    PrivateKey key = (PrivateKey) own.getKey(name, PASSWORD.toCharArray());
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(pki.resolve(name + ".crt"))) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore out = KeyStore.getInstance("PKCS12");
    out.load(null, null);
    out.setKeyEntry(name, key, PASSWORD.toCharArray(), new Certificate[] {cert, ca});
    Path file = pki.resolve(name + "-signed.p12");
    try (OutputStream o = Files.newOutputStream(file)) {
      out.store(o, PASSWORD.toCharArray());
    }
    return file;
  }

  private static void keytool(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
    if (args[0].equals("-genkeypair")) {
      cmd.addAll(List.of("-keyalg", "RSA", "-keysize", "2048", "-keypass", PASSWORD));
    }
    if (!args[0].equals("-certreq")) {
      cmd.addAll(List.of("-startdate", "-1d", "-validity", "3"));
    }
    Path log = dir.resolve("keytool.log");
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("keytool " + args[0] + " did not end within 60 s");
    }
    if (p.exitValue() != 0) {
      fail("keytool " + String.join(" ", args) + " failed: " + Files.readString(log));
    }
  }

  private static KeyStore load(Path file) throws Exception {
    KeyStore s = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      s.load(in, PASSWORD.toCharArray());
    }
    return s;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * Sends a plaintext MQTT CONNECT to the TLS listener: a TLS-only broker never answers it with a
   * CONNACK. Returns the first byte answered as a CONNACK type, or null when none came.
   */
  private static Integer plainConnectAnswer(int port) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5_000);
      byte[] connect = {
        0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 'p', 'l',
        'a', 'n'
      };
      s.getOutputStream().write(connect);
      s.getOutputStream().flush();
      int first;
      try {
        first = s.getInputStream().read();
      } catch (IOException closedOrTimedOut) {
        return null;
      }
      return first == 0x20 ? first : null;
    }
  }
}
