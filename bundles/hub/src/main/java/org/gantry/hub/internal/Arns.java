package org.gantry.hub.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gantry.protocol.Limits;

/**
 * The ARNs the hub hands out, {@code arn:aws:iot:<region>:<account>:thing/<name>} and {@code
 * ...:job/<jobId>}, and the reading of job targets. Immutable.
 */
final class Arns {
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d{1,2}");
  private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
  private static final Pattern TARGET =
      Pattern.compile("arn:aws[a-z-]*:iot:([^:]*):([^:]*):(thing|thinggroup)/(.*)");

  private final String prefix;
  private final String region;

  Arns(String region, String account) {
    if (region == null || !REGION.matcher(region).matches()) {
      throw new IllegalArgumentException(
          "region must look like us-east-1, got " + (region == null ? "none" : "'" + region + "'"));
    }
    if (account == null || !ACCOUNT.matcher(account).matches()) {
      throw new IllegalArgumentException(
          "account.id must be 12 digits, got " + (account == null ? "none" : "'" + account + "'"));
    }
    this.prefix = "arn:aws:iot:" + region + ":" + account + ":";
    this.region = region;
  }

  /** The hub's region (also the SigV4 signing region of its management API). */
  String region() {
    return region;
  }

  String thing(String thingName) {
    return prefix + "thing/" + thingName;
  }

  String job(String jobId) {
    return prefix + "job/" + jobId;
  }

  String thingGroup(String groupName) {
    return prefix + "thinggroup/" + groupName;
  }

  /** What a CreateJob target names: a thing or a thing group. */
  record Target(boolean group, String name) {}

  /**
   * What a CreateJob target names. A target is a thing or thing group ARN of any region and account
   * (the hub is one region of one account, so it does not insist on its own) or, as a convenience
   * for scripts, a plain thing name.
   *
   * @throws ApiException InvalidRequestException for anything malformed
   */
  static Target target(String target) throws ApiException {
    if (target == null || target.isEmpty()) {
      throw ApiException.invalid("targets must not contain an empty entry.");
    }
    String name = target;
    boolean group = false;
    Matcher m = TARGET.matcher(target);
    if (m.matches()) {
      group = m.group(3).equals("thinggroup");
      name = m.group(4);
    } else if (target.startsWith("arn:")) {
      throw ApiException.invalid(
          "Target "
              + Texts.clip(target)
              + " is not a thing or thing group ARN (arn:aws:iot:<region>:<account>:thing/<name>"
              + " or ...:thinggroup/<name>).");
    }
    if (!Limits.isValidThingName(name)) {
      throw ApiException.invalid(
          "Target "
              + Texts.clip(target)
              + " does not name a valid thing or group: names are 1-128 characters of"
              + " [a-zA-Z0-9:_-].");
    }
    return new Target(group, name);
  }

  /**
   * The thing a thing ARN or plain name names.
   *
   * @throws ApiException InvalidRequestException for a group or anything malformed
   */
  static String thingOf(String arnOrName, String field) throws ApiException {
    Target t = target(arnOrName);
    if (t.group()) {
      throw ApiException.invalid(field + " names a thing group, not a thing.");
    }
    return t.name();
  }
}
