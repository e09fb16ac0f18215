package org.gantry.broker.internal;

import java.util.List;

/**
 * MQTT topic filters as the ACL uses them: validity, and whether an ACL filter covers every topic a
 * subscription filter (or a publish topic) can reach.
 *
 * <p>Rules (MQTT 3.1.1 section 4.7): levels are separated by {@code /}; {@code +} is a whole level
 * and matches exactly one level; {@code #} is the last level and matches the parent level and any
 * number of levels below it; a wildcard in the first level of an ACL filter never matches a topic
 * whose first level starts with {@code $} (so {@code #} in an ACL does not grant {@code $aws/...}).
 * Moquette, unlike the specification, lets a subscription {@code #} or {@code +/...} receive {@code
 * $} topics, so a subscription whose first level is a wildcard is covered only by nothing: such
 * subscriptions are refused whenever the ACL is on.
 */
final class TopicFilters {

  private TopicFilters() {}

  /**
   * Why {@code filter} is not a valid MQTT topic filter, or null when it is.
   *
   * @param filter the filter text
   */
  static String invalidReason(String filter) {
    if (filter.isEmpty()) {
      return "the topic filter is empty";
    }
    if (filter.indexOf('\0') >= 0) {
      return "the topic filter contains a NUL character";
    }
    List<String> levels = levels(filter);
    for (int i = 0; i < levels.size(); i++) {
      String level = levels.get(i);
      if (level.contains("#") && (!level.equals("#") || i != levels.size() - 1)) {
        return "'#' must be a whole level and the last one, in '" + filter + "'";
      }
      if (level.contains("+") && !level.equals("+")) {
        return "'+' must be a whole level, in '" + filter + "'";
      }
    }
    return null;
  }

  /**
   * Whether every topic that {@code requested} can match (a subscription filter, or a plain topic
   * name for a publish) is matched by {@code granted}, an ACL filter. Both must be valid filters.
   */
  static boolean covers(String granted, String requested) {
    List<String> g = levels(granted);
    List<String> r = levels(requested);
    if (isWildcard(r.get(0))) {
      // On Moquette a leading wildcard also reaches $ topics, which no ACL wildcard grants.
      return false;
    }
    boolean dollar = r.get(0).startsWith("$");
    for (int i = 0; ; i++) {
      if (i < g.size() && g.get(i).equals("#")) {
        return !(i == 0 && dollar);
      }
      if (i == g.size() || i == r.size()) {
        return i == g.size() && i == r.size();
      }
      String gl = g.get(i);
      String rl = r.get(i);
      if (rl.equals("#")) {
        return false;
      }
      if (gl.equals("+")) {
        if (i == 0 && dollar) {
          return false;
        }
        continue;
      }
      if (!gl.equals(rl)) {
        return false;
      }
    }
  }

  /** Whether a topic name (not a filter) contains wildcard characters. */
  static boolean hasWildcard(String topic) {
    return topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0;
  }

  private static boolean isWildcard(String level) {
    return level.equals("+") || level.equals("#");
  }

  private static List<String> levels(String filter) {
    // split with limit -1 keeps empty levels: "a//b" and "/a" are three and two levels
    return List.of(filter.split("/", -1));
  }
}
