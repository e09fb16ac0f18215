package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsSettingsTest {

  @TempDir Path dir;

  private static void assertStartsWith(String prefix, Exception e) {
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }

  @Test
  void refusesAConfigurationWithNothingToListenOn() {
    assertStartsWith(
        "port is 0",
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings("127.0.0.1", 0, 131_072, null, null, null, "")));
  }

  @Test
  void namesTheTlsKeyWhoseFileIsMissingOrUnusable() throws Exception {
    SitePki pki = new SitePki(dir);
    Path p12 = pki.brokerP12();
    Path missing = dir.resolve("missing");
    assertStartsWith(
        "tls.keystore.file",
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings.Tls("127.0.0.1", 8883, missing, "x", pki.caPem())));
    assertStartsWith(
        "tls.ca.file",
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings.Tls("127.0.0.1", 8883, p12, "x", missing)));
    assertStartsWith(
        "tls.port",
        assertThrows(
            IllegalArgumentException.class,
            () -> new BrokerSettings.Tls("127.0.0.1", 70_000, p12, "x", pki.caPem())));

    assertStartsWith(
        "tls.keystore.file",
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ServerTls.context(
                    new BrokerSettings.Tls("127.0.0.1", 8883, p12, "wrong", pki.caPem()))));
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
    assertStartsWith(
        "tls.ca.file",
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ServerTls.context(
                    new BrokerSettings.Tls("127.0.0.1", 8883, p12, SitePki.PASSWORD, garbage))));
  }

  @Test
  void theTlsPasswordIsNotInTheSettingsText() throws Exception {
    SitePki pki = new SitePki(dir);
    String text =
        new BrokerSettings.Tls("127.0.0.1", 8883, pki.brokerP12(), "s3cret", pki.caPem())
            .toString();
    assertTrue(!text.contains("s3cret"), text);
  }
}
