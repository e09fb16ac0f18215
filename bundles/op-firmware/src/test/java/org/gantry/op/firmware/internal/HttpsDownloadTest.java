package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads over HTTPS from the JDK's {@link HttpsServer} on 127.0.0.1, with a CA and server
 * certificates made in the test: trusted through {@code download.ca.file}, refused when the
 * certificate chains to another CA or names another host (hostname verification stays on).
 */
@Timeout(60)
class HttpsDownloadTest {

  @TempDir Path tmp;
  private Pki.Identity ca;
  private Path caFile;
  private HttpsServer server;
  private final AtomicInteger served = new AtomicInteger();
  private byte[] body;

  @BeforeEach
  void setUp() throws Exception {
    ca = Pki.ca("Gantry Download CA");
    caFile = tmp.resolve("download-ca.pem");
    Files.writeString(caFile, ca.pem());
    body = new byte[1024 * 1024 + 5];
    new Random(3).nextBytes(body);
  }

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.stop(0);
    }
  }

  /** Starts the server with {@code id}'s key and certificate, the issuing CA in the chain. */
  private URI start(Pki.Identity id) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pw = "test".toCharArray();
    ks.setKeyEntry("server", id.keys().getPrivate(), pw, new Certificate[] {id.cert(), ca.cert()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pw);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.createContext(
        "/fw.bin",
        ex -> {
          served.incrementAndGet();
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/fw.bin");
  }

  private Downloader.Downloaded download(TestConfig config, URI url) throws Exception {
    Step step = Step.of(new TestContext(Map.of(), tmp));
    return new Downloader(config.settings())
        .download(step, url, (long) body.length, tmp.resolve("artifact.part"), () -> url);
  }

  private TestConfig config() {
    return TestConfig.in(tmp).set("http.allowed", false);
  }

  @Test
  void downloadsOverHttpsFromAServerOfTheConfiguredCa() throws Exception {
    URI url = start(Pki.server(ca, "127.0.0.1"));
    Downloader.Downloaded d = download(config().set("download.ca.file", caFile.toString()), url);
    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(body), d.sha256());
    assertArrayEquals(body, Files.readAllBytes(d.file()));
  }

  @Test
  void trustingOnlyTheCaFileStillDownloadsFromItsServers() throws Exception {
    URI url = start(Pki.server(ca, "127.0.0.1"));
    Downloader.Downloaded d =
        download(
            config().set("download.ca.file", caFile.toString()).set("download.ca.only", true), url);
    assertEquals(body.length, d.size());
  }

  /** The test CA is in no JDK trust store: without download.ca.file the server is untrusted. */
  @Test
  void withoutTheCaFileTheServerIsUntrustedAndNotRetried() throws Exception {
    URI url = start(Pki.server(ca, "127.0.0.1"));
    OperationFailure e = assertThrows(OperationFailure.class, () -> download(config(), url));
    assertEquals(FirmwareReason.SERVER_UNTRUSTED, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("download.ca.file"), e.getMessage());
    assertEquals(0, served.get(), "no request got past the handshake");
  }

  @Test
  void aServerOfAnotherCaIsUntrusted() throws Exception {
    Pki.Identity other = Pki.ca("Some Other CA");
    Path otherFile = tmp.resolve("other-ca.pem");
    Files.writeString(otherFile, other.pem());
    URI url = start(Pki.server(ca, "127.0.0.1"));
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                download(
                    config()
                        .set("download.ca.file", otherFile.toString())
                        .set("download.ca.only", true),
                    url));
    assertEquals(FirmwareReason.SERVER_UNTRUSTED, e.code(), e.getMessage());
    assertTrue(e.getMessage().startsWith("The TLS certificate of https://127.0.0.1:"));
    assertEquals(0, served.get());
  }

  /** A trusted CA, but a certificate for another host: hostname verification refuses it. */
  @Test
  void aCertificateForAnotherHostIsRefused() throws Exception {
    URI url = start(Pki.server(ca, "firmware.example.com", "10.9.8.7"));
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () -> download(config().set("download.ca.file", caFile.toString()), url));
    assertEquals(FirmwareReason.SERVER_NAME_MISMATCH, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("'127.0.0.1'"), e.getMessage());
    assertEquals(0, served.get());
  }

  @Test
  void theCaFileAddsToTheJdkDefaultsUnlessOnlyIsSet() throws Exception {
    DownloadTrust added =
        DownloadTrust.of(config().set("download.ca.file", caFile.toString()).settings());
    DownloadTrust only =
        DownloadTrust.of(
            config()
                .set("download.ca.file", caFile.toString())
                .set("download.ca.only", true)
                .settings());
    assertEquals(List.of(ca.cert()), only.anchors());
    assertTrue(added.anchors().contains(ca.cert()));
    assertTrue(added.anchors().size() > 1, "the JDK's default CAs are trusted too");
  }

  @Test
  void unusableCaSettingsNameTheProperty() throws Exception {
    Path empty = Files.writeString(tmp.resolve("empty.pem"), "no certificate here\n");
    IllegalArgumentException noCert =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Downloader(config().set("download.ca.file", empty.toString()).settings()));
    assertTrue(noCert.getMessage().startsWith("download.ca.file"), noCert.getMessage());
    IllegalArgumentException onlyWithoutFile =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Downloader(config().set("download.ca.only", true).settings()));
    assertTrue(onlyWithoutFile.getMessage().startsWith("download.ca.only"));
    IllegalArgumentException relative =
        assertThrows(
            IllegalArgumentException.class,
            () -> config().set("download.ca.file", "ca.pem").settings());
    assertTrue(relative.getMessage().startsWith("download.ca.file"));
  }
}
