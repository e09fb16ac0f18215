package org.gantry.op.firmware.internal;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Keys and certificates made in the test: a CA, signers it issues, and signatures over files. */
final class Pki {

  /** A key pair with its certificate. */
  record Identity(KeyPair keys, X509Certificate cert) {
    String pem() throws Exception {
      return Pki.pem(cert);
    }

    String sign(byte[] data) throws Exception {
      return Pki.sign(keys.getPrivate(), data);
    }
  }

  private Pki() {}

  static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  static Identity ca(String name) throws Exception {
    KeyPair k = ec();
    return new Identity(k, cert(name, k, name, k.getPrivate(), true, KeyUsage.keyCertSign));
  }

  static Identity signer(String name, KeyPair k, Identity issuer) throws Exception {
    return new Identity(
        k,
        cert(
            name,
            k,
            issuer.cert().getSubjectX500Principal().getName(),
            issuer.keys().getPrivate(),
            false,
            KeyUsage.digitalSignature));
  }

  /**
   * A TLS server certificate issued by {@code issuer} for the given names: IP addresses
   * ("127.0.0.1") or DNS names, as subject alternative names, with the serverAuth purpose.
   */
  static Identity server(Identity issuer, String... names) throws Exception {
    KeyPair k = ec();
    GeneralName[] sans = new GeneralName[names.length];
    for (int i = 0; i < names.length; i++) {
      boolean ip = names[i].matches("[0-9.]+");
      sans[i] = new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, names[i]);
    }
    X509Certificate c =
        cert(
            "gantry-test-server",
            k,
            issuer.cert().getSubjectX500Principal().getName(),
            issuer.keys().getPrivate(),
            false,
            KeyUsage.digitalSignature,
            b -> {
              b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
              b.addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            });
    return new Identity(k, c);
  }

  /** Adds extensions to a certificate being built. */
  @FunctionalInterface
  private interface Extensions {
    void add(JcaX509v3CertificateBuilder b) throws Exception;
  }

  private static X509Certificate cert(
      String subject, KeyPair k, String issuer, PrivateKey issuerKey, boolean ca, int usage)
      throws Exception {
    return cert(subject, k, issuer, issuerKey, ca, usage, b -> {});
  }

  private static X509Certificate cert(
      String subject,
      KeyPair k,
      String issuer,
      PrivateKey issuerKey,
      boolean ca,
      int usage,
      Extensions more)
      throws Exception {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            new X500Name(issuer.startsWith("CN=") ? issuer : "CN=" + issuer),
            new BigInteger(63, new SecureRandom()), // unique: a CA and its server in one ms
            Date.from(now.minus(1, ChronoUnit.HOURS)),
            Date.from(now.plus(1, ChronoUnit.DAYS)),
            new X500Name("CN=" + subject),
            k.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
    more.add(b);
    String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
  }

  static String pem(X509Certificate c) throws Exception {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(c.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  /** A signature over the whole file, the way a signing service makes it (base64 DER). */
  static String sign(PrivateKey key, byte[] data) throws Exception {
    Signature s =
        Signature.getInstance(
            key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA");
    s.initSign(key);
    s.update(data);
    return Base64.getEncoder().encodeToString(s.sign());
  }
}
