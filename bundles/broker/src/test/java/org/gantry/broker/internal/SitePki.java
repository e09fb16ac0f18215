package org.gantry.broker.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A site PKI made for a test with BouncyCastle (EC P-256 keys): the site CA, a broker certificate
 * for 127.0.0.1/localhost, client certificates with a chosen subject CN, and a second, foreign CA.
 * Files are written in the forms each broker reads: PKCS#12 and PEM.
 */
final class SitePki {

  static final String PASSWORD = "changeit";
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  record Issued(KeyPair keys, X509Certificate certificate) {}

  final Path dir;
  final Issued ca;
  final Issued foreignCa;
  final Issued broker;

  SitePki(Path dir) {
    this.dir = dir;
    this.ca = issue("Gantry site CA", null, true);
    this.foreignCa = issue("Another CA", null, true);
    this.broker = issue("broker", ca, false);
    pem(caPem(), ca.certificate());
  }

  Path caPem() {
    return dir.resolve("ca.pem");
  }

  /** The broker's key and certificate as PKCS#12 (embedded broker). */
  Path brokerP12() {
    return p12(dir.resolve("broker.p12"), broker);
  }

  /** The broker's certificate as PEM (Mosquitto's certfile). */
  Path brokerCertPem() {
    return pem(dir.resolve("broker.pem"), broker.certificate());
  }

  /** The broker's key as PKCS#8 PEM (Mosquitto's keyfile). */
  Path brokerKeyPem() {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(
          new org.bouncycastle.util.io.pem.PemObject(
              "PRIVATE KEY", broker.keys().getPrivate().getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return write(dir.resolve("broker.key"), out.toString());
  }

  /** A client certificate with subject CN {@code cn} issued by the site CA. */
  Issued client(String cn) {
    return issue(cn, ca, false);
  }

  /** A client certificate with subject CN {@code cn} issued by a CA the broker does not trust. */
  Issued foreignClient(String cn) {
    return issue(cn, foreignCa, false);
  }

  /** A socket factory presenting {@code identity} and trusting the site CA. */
  SSLSocketFactory socketFactory(Issued identity) {
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          "client",
          identity.keys().getPrivate(),
          PASSWORD.toCharArray(),
          new Certificate[] {identity.certificate()});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, PASSWORD.toCharArray());
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca.certificate());
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLSv1.2");
      ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx.getSocketFactory();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Issued issue(String cn, Issued issuer, boolean isCa) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = g.generateKeyPair();
      X500Name subject = new X500Name("CN=" + cn + ",O=Gantry test site");
      X500Name issuerName =
          issuer == null
              ? subject
              : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
      Instant now = Instant.now();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              issuerName,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(Duration.ofDays(30))),
              subject,
              keys.getPublic());
      if (isCa) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(
                new GeneralName[] {
                  new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                  new GeneralName(GeneralName.dNSName, "localhost")
                }));
      }
      KeyPair signer = issuer == null ? keys : issuer.keys();
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
      return new Issued(keys, cert);
    } catch (Exception e) {
      throw new IllegalStateException("test certificate " + cn + " not made", e);
    }
  }

  private static Path p12(Path file, Issued identity) {
    try (OutputStream out = Files.newOutputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "broker",
          identity.keys().getPrivate(),
          PASSWORD.toCharArray(),
          new Certificate[] {identity.certificate()});
      store.store(out, PASSWORD.toCharArray());
      return file;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path pem(Path file, X509Certificate cert) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(cert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return write(file, out.toString());
  }

  private static Path write(Path file, String text) {
    try {
      Files.writeString(file, text);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
