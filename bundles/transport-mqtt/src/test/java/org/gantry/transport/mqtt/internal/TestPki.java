package org.gantry.transport.mqtt.internal;

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
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
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
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificates made for a test with BouncyCastle: a CA, a broker certificate for 127.0.0.1 and
 * localhost, and client certificates (valid, expired, or from another CA), written as PEM files the
 * way AWS IoT and OpenSSL write them.
 */
final class TestPki {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A key pair with its certificate, signed by {@link #issuer} (null: self-signed). */
  record Issued(KeyPair keys, X509Certificate certificate) {}

  private TestPki() {}

  static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static Issued ca(String name) {
    KeyPair keys = rsa();
    return new Issued(
        keys, build(name, keys, null, Instant.now().minus(Duration.ofDays(1)), days(365), true));
  }

  /** A broker certificate naming 127.0.0.1 and localhost. */
  static Issued server(Issued ca) {
    KeyPair keys = rsa();
    return new Issued(
        keys, build("broker", keys, ca, Instant.now().minus(Duration.ofDays(1)), days(30), false));
  }

  /** A broker certificate that names only {@code dnsName}: hostname verification must fail. */
  static Issued serverNamed(Issued ca, String dnsName) {
    KeyPair keys = rsa();
    return new Issued(
        keys,
        build(
            "broker",
            keys,
            ca,
            Instant.now().minus(Duration.ofDays(1)),
            days(30),
            false,
            new GeneralName(GeneralName.dNSName, dnsName)));
  }

  static Issued client(Issued ca, String name, KeyPair keys) {
    return new Issued(
        keys, build(name, keys, ca, Instant.now().minus(Duration.ofDays(1)), days(30), false));
  }

  static Issued expiredClient(Issued ca, String name) {
    KeyPair keys = rsa();
    Instant start = Instant.now().minus(Duration.ofDays(30));
    return new Issued(
        keys, build(name, keys, ca, start, Instant.now().minus(Duration.ofDays(1)), false));
  }

  private static Instant days(int n) {
    return Instant.now().plus(Duration.ofDays(n));
  }

  private static X509Certificate build(
      String cn, KeyPair keys, Issued issuer, Instant from, Instant to, boolean isCa) {
    return build(
        cn,
        keys,
        issuer,
        from,
        to,
        isCa,
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
        new GeneralName(GeneralName.dNSName, "localhost"));
  }

  private static X509Certificate build(
      String cn,
      KeyPair keys,
      Issued issuer,
      Instant from,
      Instant to,
      boolean isCa,
      GeneralName... names) {
    try {
      X500Name subject = new X500Name("CN=" + cn + ",O=Gantry test");
      X500Name issuerName =
          issuer == null
              ? subject
              // from the encoding: a DN string would come back in reverse RDN order (RFC 2253)
              : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              issuerName,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(from),
              Date.from(to),
              subject,
              keys.getPublic());
      if (isCa) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      PrivateKey signer = issuer == null ? keys.getPrivate() : issuer.keys().getPrivate();
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer)));
    } catch (Exception e) {
      throw new IllegalStateException("test certificate " + cn + " not made", e);
    }
  }

  /** PEM of one or more certificates. */
  static Path writeCerts(Path file, X509Certificate... certs) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (X509Certificate c : certs) {
        w.writeObject(c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return write(file, out.toString());
  }

  /** PKCS#8 "BEGIN PRIVATE KEY". */
  static Path writePkcs8(Path file, PrivateKey key) {
    return writePem(file, new PemObject("PRIVATE KEY", key.getEncoded()));
  }

  /**
   * The traditional OpenSSL form: "BEGIN RSA PRIVATE KEY" (PKCS#1, what AWS IoT issues) or "BEGIN
   * EC PRIVATE KEY" (SEC1).
   */
  static Path writeTraditional(Path file, PrivateKey key) {
    try {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      if (key.getAlgorithm().equals("RSA")) {
        byte[] pkcs1 = info.parsePrivateKey().toASN1Primitive().getEncoded();
        return writePem(file, new PemObject("RSA PRIVATE KEY", pkcs1));
      }
      // as `openssl ec` writes it: the named curve inside the key, [0] parameters
      java.security.interfaces.ECPrivateKey ec = (java.security.interfaces.ECPrivateKey) key;
      byte[] sec1 =
          new org.bouncycastle.asn1.sec.ECPrivateKey(
                  ec.getParams().getOrder().bitLength(),
                  ec.getS(),
                  info.getPrivateKeyAlgorithm().getParameters())
              .getEncoded();
      return writePem(file, new PemObject("EC PRIVATE KEY", sec1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path writePkcs12(Path file, Issued identity, char[] password) {
    try (OutputStream out = Files.newOutputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "device",
          identity.keys().getPrivate(),
          password,
          new Certificate[] {identity.certificate()});
      store.store(out, password);
      return file;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path writePem(Path file, PemObject object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(object);
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
