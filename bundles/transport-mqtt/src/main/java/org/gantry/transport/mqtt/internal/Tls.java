package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** Key and trust material for mutual TLS, from PEM files or a PKCS#12 store. */
final class Tls {

  /** TLS 1.3 first; 1.2 because AWS IoT Core and older brokers still negotiate it. */
  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private Tls() {}

  /**
   * A client identity: what the transport presents to the broker.
   *
   * @param keyManagers for the SSL context
   * @param certificate the device certificate, for messages about its validity
   * @param source where it came from, for log lines
   */
  record Identity(KeyManager[] keyManagers, X509Certificate certificate, String source) {

    /** Why the certificate is not valid now (an operator can act on that), or null. */
    String invalidNow() {
      Instant now = Instant.now();
      if (certificate.getNotAfter().toInstant().isBefore(now)) {
        return "the client certificate ("
            + source
            + ") expired on "
            + certificate.getNotAfter().toInstant();
      }
      if (certificate.getNotBefore().toInstant().isAfter(now)) {
        return "the client certificate ("
            + source
            + ") is not valid before "
            + certificate.getNotBefore().toInstant()
            + " (is the gateway's clock right?)";
      }
      return null;
    }
  }

  /** The trust managers for a CA bundle in PEM. */
  static TrustManager[] trust(String property, Path caFile) {
    List<X509Certificate> cas = Pem.certificates(property, caFile);
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      for (int i = 0; i < cas.size(); i++) {
        store.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(store);
      return factory.getTrustManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          property + " '" + caFile + "' cannot be used as trust anchors: " + e.getMessage(), e);
    }
  }

  /**
   * A client identity from a PEM certificate (with its chain, if any) and a PEM private key; the
   * key must belong to the certificate.
   */
  static Identity pem(String certProperty, Path certFile, String keyProperty, Path keyFile) {
    List<X509Certificate> chain = Pem.certificates(certProperty, certFile);
    PrivateKey key = Pem.privateKey(keyProperty, keyFile);
    if (!matches(key, chain.get(0))) {
      throw new IllegalArgumentException(
          keyProperty
              + " '"
              + keyFile
              + "' is not the private key of the certificate in "
              + certProperty
              + " '"
              + certFile
              + "'");
    }
    char[] password = new char[0];
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("client", key, password, chain.toArray(new Certificate[0]));
      return new Identity(keyManagers(store, password), chain.get(0), certFile.toString());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          certProperty + " '" + certFile + "' and its key cannot be used: " + e.getMessage(), e);
    }
  }

  /** A client identity from a PKCS#12 file holding exactly one private key. */
  static Identity pkcs12(String property, Path file, char[] password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      X509Certificate certificate = null;
      int keys = 0;
      for (String alias : Collections.list(store.aliases())) {
        if (store.isKeyEntry(alias)) {
          keys++;
          Key key = store.getKey(alias, password);
          Certificate c = store.getCertificate(alias);
          if (!(key instanceof PrivateKey) || !(c instanceof X509Certificate)) {
            throw new IllegalArgumentException(
                property
                    + " '"
                    + file
                    + "': entry '"
                    + alias
                    + "' is not a key with a certificate");
          }
          certificate = (X509Certificate) c;
        }
      }
      if (keys != 1) {
        throw new IllegalArgumentException(
            property
                + " '"
                + file
                + "' holds "
                + keys
                + " private keys: it must hold exactly one, with its certificate");
      }
      return new Identity(keyManagers(store, password), certificate, file.toString());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          property
              + " '"
              + file
              + "' cannot be read as PKCS#12 (wrong .tls.pkcs12.password?): "
              + e.getMessage(),
          e);
    } finally {
      Arrays.fill(password, '\0');
    }
  }

  static SSLContext context(Identity identity, TrustManager[] trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(identity == null ? null : identity.keyManagers(), trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JRE cannot create a TLS context: " + e.getMessage(), e);
    }
  }

  private static KeyManager[] keyManagers(KeyStore store, char[] password)
      throws GeneralSecurityException {
    KeyManagerFactory factory =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, password);
    return factory.getKeyManagers();
  }

  /** Whether the key signs what the certificate's public key verifies. */
  private static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> null;
        };
    if (algorithm == null) {
      throw new IllegalArgumentException(
          "private keys of type " + key.getAlgorithm() + " are not supported (RSA, EC, Ed25519)");
    }
    byte[] probe = "gantry identity check".getBytes(UTF_8);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // a key of another algorithm than the certificate's
      return false;
    }
  }
}
