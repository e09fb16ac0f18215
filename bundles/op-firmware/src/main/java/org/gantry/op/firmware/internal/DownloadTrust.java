package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Which servers an HTTPS download trusts: the JDK's default CAs plus the PEM bundle of {@code
 * download.ca.file}, or that bundle alone with {@code download.ca.only=true}. Built once, when the
 * component activates, into one standard PKIX trust manager (the JDK's own, so that the host name
 * check of {@code HttpsURLConnection} stays exactly the JDK's). Hostname verification is never
 * switched off.
 */
final class DownloadTrust {

  /** Why a TLS handshake failed, when a retry cannot help. */
  enum Refusal {
    UNTRUSTED,
    NAME_MISMATCH
  }

  private static final int MAX_CA_FILE = 4 * 1024 * 1024;

  private final SSLSocketFactory factory;
  private final List<X509Certificate> anchors;

  private DownloadTrust(SSLSocketFactory factory, List<X509Certificate> anchors) {
    this.factory = factory;
    this.anchors = anchors;
  }

  /**
   * The trust of {@code s}; without {@code download.ca.file}, the JDK's default (no factory).
   *
   * @throws IllegalArgumentException naming {@code download.ca.file} or {@code download.ca.only}
   */
  static DownloadTrust of(Settings s) {
    if (s.downloadCaFile() == null) {
      if (s.downloadCaOnly()) {
        throw new IllegalArgumentException(
            "download.ca.only is true but download.ca.file is not set: no server could be trusted");
      }
      return new DownloadTrust(null, List.of());
    }
    List<X509Certificate> configured = read(s.downloadCaFile());
    List<X509Certificate> all = new ArrayList<>(configured);
    try {
      if (!s.downloadCaOnly()) {
        all.addAll(List.of(defaultTrustManager().getAcceptedIssuers()));
      }
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < all.size(); i++) {
        ks.setCertificateEntry("ca-" + i, all.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, tmf.getTrustManagers(), null);
      return new DownloadTrust(tls.getSocketFactory(), List.copyOf(all));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "download.ca.file: cannot build a trust store from " + s.downloadCaFile() + ": " + e, e);
    }
  }

  private static List<X509Certificate> read(Path p) {
    try {
      if (Files.size(p) > MAX_CA_FILE) {
        throw new IllegalArgumentException(
            "download.ca.file: " + p + " is larger than " + MAX_CA_FILE + " bytes");
      }
      List<X509Certificate> certs = Verifier.certificates(Files.readAllBytes(p));
      if (certs.isEmpty()) {
        throw new IllegalArgumentException("download.ca.file: " + p + " holds no certificate");
      }
      return certs;
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "download.ca.file: cannot read certificates from " + p + ": " + e.getMessage(), e);
    }
  }

  private static X509TrustManager defaultTrustManager() throws GeneralSecurityException {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("the JDK has no default X.509 trust manager");
  }

  /** The socket factory HTTPS connections use; null: the JDK's default. */
  SSLSocketFactory socketFactory() {
    return factory;
  }

  /** The CAs trusted, when {@code download.ca.file} is set; empty otherwise (the JDK's). */
  List<X509Certificate> anchors() {
    return anchors;
  }

  /**
   * What a failed handshake means, or null when it is not about the server's certificate (a cut
   * connection, a protocol error: worth a retry). A certificate that does not chain to a trusted CA
   * (or has expired) and one whose names do not include the URL's host fail the download at once:
   * waiting does not change a certificate.
   */
  static Refusal classify(IOException e) {
    if (!(e instanceof SSLHandshakeException)) {
      return null;
    }
    boolean certificate = false;
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof CertPathValidatorException || t instanceof CertPathBuilderException) {
        return Refusal.UNTRUSTED;
      }
      if (t instanceof CertificateException) {
        certificate = true;
        String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (m.startsWith("no subject alternative") || m.startsWith("no name matching")) {
          return Refusal.NAME_MISMATCH;
        }
      }
    }
    return certificate ? Refusal.UNTRUSTED : null;
  }

  /** The deepest message of the chain: the one that says what was wrong with the certificate. */
  static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return String.valueOf(t.getMessage());
  }
}
