package org.gantry.broker.internal;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moquette's authorisation policy from the ACL file. Moquette passes the CONNECT username, which
 * the front end has set to the client's principal, and the internal client id.
 */
final class AclAuthorizator implements IAuthorizatorPolicy {

  private static final Logger LOG = LoggerFactory.getLogger(AclAuthorizator.class);

  private final Supplier<AclRules> rules;

  AclAuthorizator(Supplier<AclRules> rules) {
    this.rules = rules;
  }

  @Override
  public boolean canWrite(Topic topic, String user, String clientId) {
    String t = topic.toString();
    boolean ok = rules.get().canWrite(user, Principals.clientId(nonNull(user), clientId), t);
    if (!ok) {
      LOG.debug("Publish to '{}' by principal '{}' refused by the ACL and dropped", t, user);
    }
    return ok;
  }

  @Override
  public boolean canRead(Topic topic, String user, String clientId) {
    String t = topic.toString();
    boolean ok = rules.get().canRead(user, Principals.clientId(nonNull(user), clientId), t);
    if (!ok) {
      LOG.info("Subscription to '{}' by principal '{}' refused by the ACL (SUBACK 0x80)", t, user);
    }
    return ok;
  }

  private static String nonNull(String user) {
    return user == null ? "" : user;
  }
}
