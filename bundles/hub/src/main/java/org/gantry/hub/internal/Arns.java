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
  }

  String thing(String thingName) {
    return prefix + "thing/" + thingName;
  }

  String job(String jobId) {
    return prefix + "job/" + jobId;
  }

  /**
   * The thing a CreateJob target names. A target is a thing ARN of any region and account (the hub
   * is one region of one account, so it does not insist on its own) or, as a convenience for
   * scripts, a plain thing name.
   *
   * @throws ApiException InvalidRequestException for thing groups and anything malformed
   */
  static String targetThing(String target) throws ApiException {
    if (target == null || target.isEmpty()) {
      throw ApiException.invalid("targets must not contain an empty entry.");
    }
    String name = target;
    Matcher m = TARGET.matcher(target);
    if (m.matches()) {
      if (m.group(3).equals("thinggroup")) {
        throw ApiException.invalid(
            "Target " + target + " is a thing group; this hub accepts things only.");
      }
      name = m.group(4);
    } else if (target.startsWith("arn:")) {
      throw ApiException.invalid(
          "Target "
              + Texts.clip(target)
              + " is not a thing ARN (arn:aws:iot:<region>:<account>:thing/<name>).");
    }
    if (!Limits.isValidThingName(name)) {
      throw ApiException.invalid(
          "Target "
              + Texts.clip(target)
              + " does not name a valid thing: names are 1-128 characters of [a-zA-Z0-9:_-].");
    }
    return name;
  }
}
