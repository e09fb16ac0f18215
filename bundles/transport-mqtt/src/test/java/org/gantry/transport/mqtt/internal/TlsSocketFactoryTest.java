package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS sockets handed to Paho, against a JDK TLS server on loopback: ALPN offered even after
 * Paho-style parameter resets, TLS 1.2+ only, hostname verification, TCP_NODELAY.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TlsSocketFactoryTest {

  @TempDir static Path dir;

  private static TestPki.Issued ca;
  private static TrustManager[] trust;

  @BeforeAll
  static void pki() {
    ca = TestPki.ca("ALPN test CA");
    trust = Tls.trust("tls.ca.file", TestPki.writeCerts(dir.resolve("ca.pem"), ca.certificate()));
  }

  /** A one-shot TLS server that records the ALPN protocols the client offered. */
  private static final class Server implements AutoCloseable {
    final SSLServerSocket socket;
    final AtomicReference<List<String>> offered = new AtomicReference<>();
    final CompletableFuture<String> result = new CompletableFuture<>();

    Server(TestPki.Issued cert) throws Exception {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(
          "s", cert.keys().getPrivate(), new char[0], new Certificate[] {cert.certificate()});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      socket =
          (SSLServerSocket)
              context
                  .getServerSocketFactory()
                  .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                try (SSLSocket s = (SSLSocket) socket.accept()) {
                  s.setHandshakeApplicationProtocolSelector(
                      (sock, protocols) -> {
                        offered.set(new ArrayList<>(protocols));
                        return protocols.isEmpty() ? null : protocols.get(0);
                      });
                  s.startHandshake();
                  result.complete(s.getSession().getProtocol());
                  s.getInputStream().read();
                } catch (IOException e) {
                  result.completeExceptionally(e);
                }
              });
      t.setDaemon(true);
      t.start();
    }

    InetSocketAddress address() {
      return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** What Paho 1.2.5's SSLNetworkModule does to a socket before the handshake. */
  private static void likePaho(SSLSocket s) {
    SSLParameters sni = new SSLParameters();
    sni.setServerNames(List.of(new SNIHostName("localhost")));
    s.setSSLParameters(sni);
    SSLParameters verify = new SSLParameters();
    verify.setEndpointIdentificationAlgorithm("HTTPS");
    s.setSSLParameters(verify);
  }

  @Test
  void alpnSurvivesPahosParameterResetsAndOnlyTls12OrLaterIsEnabled() throws Exception {
    try (Server server = new Server(TestPki.server(ca))) {
      AtomicInteger firstWrites = new AtomicInteger();
      TlsSocketFactory factory =
          new TlsSocketFactory(
              Tls.context(null, trust), List.of("x-amzn-mqtt-ca"), firstWrites::incrementAndGet);
      try (SSLSocket s = (SSLSocket) factory.createSocket()) {
        s.connect(server.address(), 5_000);
        likePaho(s);
        s.setEnabledProtocols(new String[] {"TLSv1", "TLSv1.1"});
        s.startHandshake();
        assertEquals(0, firstWrites.get(), "handshake bytes are not Paho's CONNECT");
        assertEquals(List.of("x-amzn-mqtt-ca"), server.offered.get());
        assertEquals("x-amzn-mqtt-ca", s.getApplicationProtocol());
        assertTrue(s.getTcpNoDelay(), "TCP_NODELAY");
        List<String> enabled = Arrays.asList(s.getEnabledProtocols());
        assertFalse(enabled.contains("TLSv1.1") || enabled.contains("TLSv1"), enabled.toString());
        assertTrue(List.of("TLSv1.3", "TLSv1.2").contains(server.result.get(5, TimeUnit.SECONDS)));
        s.getOutputStream().write(0x10);
        assertEquals(1, firstWrites.get(), "the first application write is reported");
      }
    }
  }

  @Test
  void aBrokerCertificateForAnotherHostIsRefused() throws Exception {
    try (Server server = new Server(TestPki.serverNamed(ca, "broker.example"))) {
      TlsSocketFactory factory =
          new TlsSocketFactory(Tls.context(null, trust), List.of(), () -> {});
      try (SSLSocket s = (SSLSocket) factory.createSocket()) {
        s.connect(server.address(), 5_000);
        likePaho(s);
        SSLHandshakeException e = assertThrows(SSLHandshakeException.class, s::startHandshake);
        String explained = ConnectErrors.explain(e, null, "ssl://127.0.0.1:8883");
        assertTrue(explained.startsWith("hostname verification failed"), explained);
      }
    }
  }
}
