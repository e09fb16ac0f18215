package org.gantry.hub.internal;

/** Small helpers for messages that quote what a caller sent. */
final class Texts {
  private Texts() {}

  /**
   * Quotes a caller's string for a message or a log line: control characters escaped, long ones
   * cut, so that a message never carries what made the input invalid.
   */
  static String clip(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder("'");
    int limit = 80;
    for (int i = 0; i < s.length() && i < limit; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (s.length() > limit) {
      sb.append('\u2026');
    }
    return sb.append('\'').toString();
  }
}
