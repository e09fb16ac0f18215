package org.gantry.broker.internal;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;

/** The TLS side of the mutual-TLS listener, from the {@code tls.*} settings. */
final class ServerTls {

  private ServerTls() {}

  /**
   * A server context that requires a client certificate chaining to the site CA, TLS 1.2 or 1.3.
   *
   * @throws IllegalArgumentException naming the key whose file cannot be used, and why
   */
  static SslContext context(BrokerSettings.Tls tls) {
    char[] password = tls.keystorePassword().toCharArray();
    KeyManagerFactory keys;
    try (InputStream in = Files.newInputStream(tls.keystoreFile())) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      if (!Collections.list(store.aliases()).stream().anyMatch(a -> isKey(store, a))) {
        throw new IllegalArgumentException(
            "tls.keystore.file " + tls.keystoreFile() + " holds no private key entry");
      }
      keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "tls.keystore.file "
              + tls.keystoreFile()
              + " cannot be read as PKCS#12 with tls.keystore.password: "
              + e.getMessage(),
          e);
    }
    List<X509Certificate> cas = new ArrayList<>();
    try (InputStream in = Files.newInputStream(tls.caFile())) {
      CertificateFactory.getInstance("X.509")
          .generateCertificates(in)
          .forEach(c -> cas.add((X509Certificate) c));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "tls.ca.file " + tls.caFile() + " cannot be read as PEM certificates: " + e.getMessage(),
          e);
    }
    if (cas.isEmpty()) {
      throw new IllegalArgumentException("tls.ca.file " + tls.caFile() + " holds no certificate");
    }
    try {
      return SslContextBuilder.forServer(keys)
          .sslProvider(SslProvider.JDK)
          .trustManager(cas)
          .clientAuth(ClientAuth.REQUIRE)
          .protocols("TLSv1.3", "TLSv1.2")
          .build();
    } catch (IOException e) {
      throw new IllegalArgumentException("TLS settings cannot be used: " + e.getMessage(), e);
    }
  }

  private static boolean isKey(KeyStore store, String alias) {
    try {
      return store.isKeyEntry(alias);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
