package org.gantry.broker.internal;

import io.moquette.broker.security.IAuthenticator;

/**
 * Moquette's authenticator when the front end is in use: only CONNECTs carrying this broker's
 * secret, which the front end puts into every CONNECT it forwards, are accepted (Moquette is told
 * to refuse CONNECTs without a username and password, so no other client gets in).
 */
final class SecretAuthenticator implements IAuthenticator {

  private final Principals principals;

  SecretAuthenticator(Principals principals) {
    this.principals = principals;
  }

  @Override
  public boolean checkValid(String clientId, String username, byte[] password) {
    return principals.isSecret(password);
  }
}
