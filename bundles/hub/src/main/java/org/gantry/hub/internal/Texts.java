package org.gantry.hub.internal;

/** Small helpers for messages that quote what a caller sent (also used by the artifact package). */
public final class Texts {
  private Texts() {}

  /**
   * Quotes a caller's string for a message or a log line: control characters escaped, long ones
   * cut, so that a message never carries what made the input invalid.
   */
  static String clip(String s) {
    return clip(s, 80);
  }

  /**
   * As {@link #clip(String)}, keeping at most {@code limit} characters.
   *
   * @param s the caller's string, or null
   * @param limit how many characters to keep before the ellipsis
   * @return the quoted, escaped, cut string
   */
  public static String clip(String s, int limit) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder("'");
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
