package org.gantry.transport.mqtt.internal;

import java.nio.charset.StandardCharsets;

/**
 * MQTT 3.1.1 topic names and topic filters (§4.7). The transport matches filters itself instead of
 * trusting the broker: brokers differ on {@code $}-topics (Moquette's {@code #} matches them,
 * Mosquitto's does not), and one connection carries several subscriptions whose listeners must each
 * see only their own messages.
 */
final class Topics {

  private static final int MAX_UTF8_BYTES = 65_535;

  private Topics() {}

  /**
   * Checks a topic name to publish to.
   *
   * @throws IllegalArgumentException when the name is empty, too long, or has a wildcard or NUL
   */
  static void checkTopicName(String topic) {
    checkCommon("topic", topic);
    if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
      throw new IllegalArgumentException(
          "topic '"
              + topic
              + "' has a wildcard (+ or #): only topic filters may (MQTT 3.1.1 §4.7.1)");
    }
  }

  /**
   * Checks a topic filter to subscribe to.
   *
   * @throws IllegalArgumentException when the filter is empty, too long, or uses a wildcard in a
   *     way MQTT 3.1.1 §4.7.1 forbids
   */
  static void checkFilter(String filter) {
    checkCommon("topic filter", filter);
    String[] levels = filter.split("/", -1);
    for (int i = 0; i < levels.length; i++) {
      String level = levels[i];
      if (level.indexOf('#') >= 0 && (!level.equals("#") || i != levels.length - 1)) {
        throw new IllegalArgumentException(
            "topic filter '"
                + filter
                + "' is invalid: '#' must stand alone as the last level (MQTT 3.1.1 §4.7.1.2)");
      }
      if (level.indexOf('+') >= 0 && !level.equals("+")) {
        throw new IllegalArgumentException(
            "topic filter '"
                + filter
                + "' is invalid: '+' must occupy a whole level (MQTT 3.1.1 §4.7.1.3)");
      }
    }
  }

  private static void checkCommon(String what, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty (MQTT 3.1.1 §4.7.3)");
    }
    if (value.indexOf('\u0000') >= 0) {
      throw new IllegalArgumentException(
          what + " '" + value.replace('\u0000', '?') + "' contains U+0000 (MQTT 3.1.1 §1.5.3)");
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_UTF8_BYTES) {
      throw new IllegalArgumentException(
          what + " is longer than " + MAX_UTF8_BYTES + " bytes in UTF-8 (MQTT 3.1.1 §1.5.3)");
    }
  }

  /**
   * Whether a topic name matches a filter. A filter that starts with a wildcard does not match a
   * topic that starts with {@code $} (MQTT 3.1.1 §4.7.2).
   *
   * @param filter a valid topic filter
   * @param topic a topic name
   */
  static boolean matches(String filter, String topic) {
    if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
      return false;
    }
    // Level by level, without substrings: the delivery thread runs this for every subscription
    // of every message, hundreds of times per message on a gateway serving many things.
    int f = 0;
    int t = 0;
    while (true) {
      int fEnd = levelEnd(filter, f);
      int fLength = fEnd - f;
      if (fLength == 1 && filter.charAt(f) == '#') {
        // '#' also matches the parent level: "a/#" matches "a" (§4.7.1.2)
        return true;
      }
      if (t > topic.length()) {
        // the topic ran out of levels but the filter did not
        return false;
      }
      int tEnd = levelEnd(topic, t);
      boolean plus = fLength == 1 && filter.charAt(f) == '+';
      if (!plus && (fLength != tEnd - t || !filter.regionMatches(f, topic, t, fLength))) {
        return false;
      }
      boolean filterDone = fEnd == filter.length();
      boolean topicDone = tEnd == topic.length();
      if (filterDone) {
        return topicDone;
      }
      f = fEnd + 1;
      // one past the end means "no more levels"; a trailing '/' leaves one empty level
      t = topicDone ? topic.length() + 1 : tEnd + 1;
    }
  }

  private static int levelEnd(String s, int from) {
    int slash = s.indexOf('/', from);
    return slash < 0 ? s.length() : slash;
  }
}
