package org.gantry.op.firmware.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.gantry.op.firmware.internal.Request.SignatureKind;

/**
 * Checks a downloaded artifact against the document: its SHA-256, and its signature made by a
 * signer certificate that chains to the configured trust store (PKIX path validation, no revocation
 * check). The signature is checked against the SHA-256 computed while downloading, so the file is
 * read once: an ECDSA signature over a SHA-256 digest verifies with {@code NONEwithECDSA} over that
 * digest, an RSA PKCS#1 v1.5 one with {@code NONEwithRSA} over the digest's DER {@code DigestInfo};
 * both equal {@code SHA256withECDSA} / {@code SHA256withRSA} over the file.
 */
final class Verifier {

  /** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2, note 1). */
  private static final byte[] SHA256_DIGEST_INFO =
      HexFormat.of().parseHex("3031300d060960864801650304020105000420");

  private static final int MAX_CERT_FILE = 64 * 1024;

  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> defaultSigner;

  /**
   * @throws IllegalArgumentException naming {@code trust.store} or {@code signer.cert} when the
   *     configured file cannot be read as PEM certificates
   */
  Verifier(Settings s) {
    this.anchors = s.trustStore() == null ? Set.of() : anchors(s.trustStore());
    this.defaultSigner = s.signerCert() == null ? List.of() : configured(s.signerCert());
  }

  private static Set<TrustAnchor> anchors(Path p) {
    Set<TrustAnchor> out = new HashSet<>();
    for (X509Certificate c : configuredTrust(p)) {
      out.add(new TrustAnchor(c, null));
    }
    return Set.copyOf(out);
  }

  private static List<X509Certificate> configuredTrust(Path p) {
    List<X509Certificate> certs = configuredFile(p, "trust.store");
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("trust.store: " + p + " holds no certificate");
    }
    return certs;
  }

  private static List<X509Certificate> configured(Path p) {
    List<X509Certificate> certs = configuredFile(p, "signer.cert");
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("signer.cert: " + p + " holds no certificate");
    }
    return certs;
  }

  private static List<X509Certificate> configuredFile(Path p, String property) {
    try {
      return certificates(Files.readAllBytes(p));
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          property + ": cannot read certificates from " + p + ": " + e.getMessage(), e);
    }
  }

  static List<X509Certificate> certificates(byte[] pemOrDer) throws CertificateException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = new ByteArrayInputStream(pemOrDer)) {
      for (var c : cf.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    } catch (IOException e) {
      throw new CertificateException(e);
    }
    return out;
  }

  /**
   * Checks the artifact; throws on the first problem.
   *
   * @param sha256 the digest computed over the downloaded bytes
   */
  void verify(Request r, byte[] sha256) throws OperationFailure {
    if (r.sha256() != null && !MessageDigest.isEqual(r.sha256(), sha256)) {
      throw FirmwareReason.DIGEST_MISMATCH.fail(
          "The file's SHA-256 is "
              + HexFormat.of().formatHex(sha256)
              + ", not the document's "
              + HexFormat.of().formatHex(r.sha256())
              + "; the file was deleted.");
    }
    if (r.signature() == null) {
      return;
    }
    if (anchors.isEmpty()) {
      throw FirmwareReason.NO_TRUST_STORE.fail(
          "The document is signed but this gateway has no trust store (trust.store) to check the"
              + " signer against.");
    }
    List<X509Certificate> chain = signerChain(r);
    X509Certificate signer = chain.get(0);
    checkTrusted(chain);
    checkSignature(r, signer.getPublicKey(), sha256);
  }

  private List<X509Certificate> signerChain(Request r) throws OperationFailure {
    byte[] bytes;
    String source;
    if (r.certificatePem() != null) {
      bytes = r.certificatePem().getBytes(StandardCharsets.US_ASCII);
      source = "the document's 'certificate'";
    } else if (r.certFile() != null) {
      source = "certFile " + r.certFile();
      try {
        if (Files.size(r.certFile()) > MAX_CERT_FILE) {
          throw FirmwareReason.SIGNER_UNTRUSTED.fail(
              "The signer certificate file " + r.certFile() + " is larger than 64 KiB.");
        }
        bytes = Files.readAllBytes(r.certFile());
      } catch (IOException e) {
        throw FirmwareReason.SIGNER_UNTRUSTED.fail(
            "The signer certificate file " + r.certFile() + " cannot be read: " + e, e);
      }
    } else {
      if (defaultSigner.isEmpty()) {
        throw FirmwareReason.SIGNER_UNTRUSTED.fail(
            "The document names no signer certificate and signer.cert is not configured.");
      }
      return defaultSigner;
    }
    try {
      List<X509Certificate> chain = certificates(bytes);
      if (chain.isEmpty()) {
        throw FirmwareReason.SIGNER_UNTRUSTED.fail(source + " holds no certificate.");
      }
      return chain;
    } catch (CertificateException e) {
      throw FirmwareReason.SIGNER_UNTRUSTED.fail(
          source + " cannot be read as X.509 certificates: " + e.getMessage(), e);
    }
  }

  private void checkTrusted(List<X509Certificate> chain) throws OperationFailure {
    X509Certificate signer = chain.get(0);
    boolean[] usage = signer.getKeyUsage();
    if (usage != null && !usage[0]) {
      throw FirmwareReason.SIGNER_UNTRUSTED.fail(
          "The signer certificate "
              + signer.getSubjectX500Principal().getName()
              + " is not for digital signatures (key usage).");
    }
    for (TrustAnchor a : anchors) {
      if (a.getTrustedCert().equals(signer)) {
        try {
          signer.checkValidity();
          return;
        } catch (CertificateException e) {
          throw FirmwareReason.SIGNER_UNTRUSTED.fail(
              "The signer certificate is outside its validity period: " + e.getMessage(), e);
        }
      }
    }
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(chain), params);
    } catch (GeneralSecurityException e) {
      throw FirmwareReason.SIGNER_UNTRUSTED.fail(
          "The signer certificate "
              + signer.getSubjectX500Principal().getName()
              + " does not chain to the trust store: "
              + e.getMessage(),
          e);
    }
  }

  private static void checkSignature(Request r, PublicKey key, byte[] sha256)
      throws OperationFailure {
    try {
      Signature s;
      byte[] message;
      if (r.signatureKind() == SignatureKind.ECDSA_P256_SHA256) {
        if (!(key instanceof ECPublicKey ec)
            || ec.getParams().getCurve().getField().getFieldSize() != 256) {
          throw FirmwareReason.SIGNATURE_INVALID.fail(
              "The document's signature is ECDSA P-256, but the signer certificate's key is "
                  + key.getAlgorithm()
                  + " of another kind.");
        }
        s = Signature.getInstance("NONEwithECDSA");
        message = sha256;
      } else {
        if (!(key instanceof RSAPublicKey rsa) || rsa.getModulus().bitLength() < 2048) {
          throw FirmwareReason.SIGNATURE_INVALID.fail(
              "The document's signature is RSA, but the signer certificate's key is not an RSA key"
                  + " of at least 2048 bits.");
        }
        s = Signature.getInstance("NONEwithRSA");
        message = new byte[SHA256_DIGEST_INFO.length + sha256.length];
        System.arraycopy(SHA256_DIGEST_INFO, 0, message, 0, SHA256_DIGEST_INFO.length);
        System.arraycopy(sha256, 0, message, SHA256_DIGEST_INFO.length, sha256.length);
      }
      s.initVerify(key);
      s.update(message);
      boolean ok;
      try {
        ok = s.verify(r.signature());
      } catch (java.security.SignatureException e) {
        ok = false;
      }
      if (!ok) {
        throw FirmwareReason.SIGNATURE_INVALID.fail(
            "The file's signature does not verify with the signer certificate's key; the file was"
                + " deleted.");
      }
    } catch (GeneralSecurityException e) {
      throw FirmwareReason.SIGNATURE_INVALID.fail(
          "The signature could not be checked: " + e.getMessage(), e);
    }
  }
}
