package org.gantry.hub.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Thing principals: AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals and
 * ListPrincipalThings. In Gantry a principal is the subject common name (CN) of a gateway's client
 * certificate, issued by the site CA: the broker sees only the certificate, and Mosquitto's {@code
 * use_identity_as_username} makes the CN the user name its ACL file matches. Attachments are stored
 * like things and are what the ACL file is written from. Runs on the hub thread.
 */
final class Principals {
  private static final Logger LOG = LoggerFactory.getLogger(Principals.class);

  /** Certificate CNs as sites name gateways; nothing an ACL file line could misread. */
  private static final Pattern PRINCIPAL = Pattern.compile("[a-zA-Z0-9:_.-]{1,128}");

  private final HubCore core;

  Principals(HubCore core) {
    this.core = core;
  }

  static boolean isValid(String principal) {
    return principal != null && PRINCIPAL.matcher(principal).matches();
  }

  static void requirePrincipal(String principal) throws ApiException {
    if (principal == null || principal.isEmpty()) {
      throw ApiException.invalid(
          "The x-amzn-principal header is required: the CN of the client certificate.");
    }
    if (!isValid(principal)) {
      throw ApiException.invalid(
          "principal "
              + Texts.clip(principal)
              + " is not 1-128 characters of [a-zA-Z0-9:_.-] (a certificate's subject CN).");
    }
  }

  /**
   * {@code PUT /things/{thingName}/principals} with header {@code x-amzn-principal}: idempotent. A
   * principal may be attached to several things (a gateway and its downstream devices), so only
   * {@code thingPrincipalType=NON_EXCLUSIVE_THING} (the default) is served.
   */
  JsonObject attach(String thingName, String principal, String type, List<Outbound> out)
      throws ApiException {
    requirePrincipal(principal);
    thing(thingName);
    if (type != null && !type.equals("NON_EXCLUSIVE_THING")) {
      throw ApiException.invalid(
          "thingPrincipalType "
              + Texts.clip(type)
              + " is not supported by this hub: only NON_EXCLUSIVE_THING.");
    }
    if (core.state().principalsOf(thingName).contains(principal)) {
      return new JsonObject();
    }
    core.change(out, s -> s.attach(thingName, principal));
    LOG.info("Principal {} attached to thing {}", principal, thingName);
    return new JsonObject();
  }

  /**
   * {@code DELETE /things/{thingName}/principals} with header {@code x-amzn-principal}: a principal
   * that is not attached is no change (AWS detaches asynchronously and answers alike).
   */
  JsonObject detach(String thingName, String principal, List<Outbound> out) throws ApiException {
    requirePrincipal(principal);
    thing(thingName);
    if (!core.state().principalsOf(thingName).contains(principal)) {
      return new JsonObject();
    }
    core.change(out, s -> s.detach(thingName, principal));
    LOG.info("Principal {} detached from thing {}", principal, thingName);
    return new JsonObject();
  }

  /** {@code GET /things/{thingName}/principals[?maxResults=&nextToken=]}: sorted. */
  JsonObject listThingPrincipals(String thingName, Map<String, String> q) throws ApiException {
    thing(thingName);
    Paging.Page<String> page =
        Paging.page(
            core.state().principalsOf(thingName), p -> p, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    page.items().forEach(a::add);
    JsonObject o = new JsonObject();
    o.add("principals", a);
    Listings.nextToken(o, page);
    return o;
  }

  /**
   * {@code GET /principals/things[?maxResults=&nextToken=]} with header {@code x-amzn-principal}:
   * the things, sorted. A principal exists only through its attachments, so one never attached
   * lists no things.
   */
  JsonObject listPrincipalThings(String principal, Map<String, String> q) throws ApiException {
    requirePrincipal(principal);
    Paging.Page<String> page =
        Paging.page(
            core.state().thingsOf(principal), t -> t, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    page.items().forEach(a::add);
    JsonObject o = new JsonObject();
    o.add("things", a);
    Listings.nextToken(o, page);
    return o;
  }

  private void thing(String thingName) throws ApiException {
    ControlPlane.requireThingName(thingName);
    if (core.state().thing(thingName) == null) {
      throw ApiException.notFound("Thing " + thingName + " does not exist.");
    }
  }
}
