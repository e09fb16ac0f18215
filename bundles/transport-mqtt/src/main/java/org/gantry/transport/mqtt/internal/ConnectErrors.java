package org.gantry.transport.mqtt.internal;

import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Turns a failed connection attempt into a sentence an operator can act on. TLS failures in
 * particular arrive as a chain of library exceptions whose last line ("PKIX path building failed",
 * "Received fatal alert: bad_certificate") does not say which file to look at.
 */
final class ConnectErrors {

  private ConnectErrors() {}

  static String explain(Throwable cause, Tls.Identity identity, String serverUri) {
    String detail = PahoMqttTransport.describe(cause);
    String sentence = sentence(cause, identity, serverUri);
    return sentence == null ? detail : sentence + " (" + detail + ")";
  }

  private static String sentence(Throwable cause, Tls.Identity identity, String serverUri) {
    boolean tls = false;
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (t instanceof SSLException) {
        tls = true;
      }
      if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException) {
        // the broker is down or unknown: the library's words say it well enough
        return null;
      }
      if (t instanceof CertificateExpiredException) {
        return "the broker's certificate has expired";
      }
      if (t instanceof CertificateNotYetValidException) {
        return "the broker's certificate is not valid yet (is the gateway's clock right?)";
      }
      if (t instanceof CertPathValidatorException
          || m.contains("unable to find valid certification path")
          || m.contains("pkix path")) {
        return "the broker's certificate is not signed by a CA in tls.ca.file (wrong CA bundle?)";
      }
      if (m.contains("no subject alternative") || m.contains("no name matching")) {
        return "hostname verification failed: the broker's certificate does not name the host of "
            + serverUri;
      }
      if (m.contains("certificate_expired")) {
        return "the broker refused the client certificate: it has expired" + validity(identity);
      }
      if (m.contains("unknown_ca")
          || m.contains("bad_certificate")
          || m.contains("certificate_unknown")
          || m.contains("certificate_required")
          || m.contains("access_denied")) {
        return "the broker refused the client certificate: expired, revoked, or not signed by a CA"
            + " it trusts (unknown certificate)"
            + validity(identity);
      }
      if (m.contains("no_application_protocol")) {
        return "the broker accepts none of the ALPN protocols in tls.alpn";
      }
    }
    if (identity != null && identity.invalidNow() != null) {
      return identity.invalidNow();
    }
    if (tls || serverUri.startsWith("ssl://")) {
      return "the TLS connection to "
          + serverUri
          + " failed; if the broker closed it during the handshake, it probably refused the client"
          + " certificate";
    }
    return null;
  }

  private static String validity(Tls.Identity identity) {
    String invalid = identity == null ? null : identity.invalidNow();
    return invalid == null ? "" : "; " + invalid;
  }
}
