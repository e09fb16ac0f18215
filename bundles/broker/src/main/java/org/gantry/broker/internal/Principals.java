package org.gantry.broker.internal;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * How a client's identity travels from the front end (which knows it: the certificate, or the plain
 * listener's configured principal) to Moquette (which only sees CONNECT's username, password and
 * client id).
 *
 * <p>The front end rewrites every CONNECT: the username becomes the principal, the password a
 * random secret made when the broker starts (it never leaves the process but for the loopback hop
 * to Moquette), and the client id is put in the principal's own namespace ({@code
 * <length>:<principal>/<client id>}), so that one principal can never take over, or be thrown off
 * by, another principal's session. Moquette's authenticator accepts only that secret: a client that
 * reaches Moquette's internal port directly cannot name itself.
 */
final class Principals {

  private final byte[] secret;

  Principals() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    this.secret = Base64.getEncoder().encode(random);
  }

  /** The password the front end puts into every CONNECT it forwards. */
  byte[] secret() {
    return secret.clone();
  }

  /** Whether {@code password} is this broker's secret (constant time). */
  boolean isSecret(byte[] password) {
    return password != null && MessageDigest.isEqual(secret, password);
  }

  /** The client id Moquette sees: the client's own id in its principal's namespace. */
  static String internalClientId(String principal, String clientId) {
    if (clientId.isEmpty()) {
      // Moquette then makes up a unique id itself (clean sessions only), as without the front end.
      return clientId;
    }
    return principal.length() + ":" + principal + "/" + clientId;
  }

  /** The client's own id back from {@link #internalClientId}, or the argument if it is not one. */
  static String clientId(String principal, String internalClientId) {
    String prefix = principal.length() + ":" + principal + "/";
    return internalClientId != null && internalClientId.startsWith(prefix)
        ? internalClientId.substring(prefix.length())
        : internalClientId;
  }

  /**
   * The subject CN of a client's certificate chain (first entry), or null when the certificate has
   * no CN, more than one, or an empty one.
   */
  static String commonName(Certificate[] chain) {
    if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate x509)) {
      return null;
    }
    try {
      List<Rdn> rdns = new LdapName(x509.getSubjectX500Principal().getName()).getRdns();
      String cn = null;
      for (Rdn rdn : rdns) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          if (cn != null) {
            return null;
          }
          cn = rdn.getValue() instanceof String s ? s : null;
          if (cn == null) {
            return null;
          }
        }
      }
      return cn == null || cn.isEmpty() ? null : cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }
}
