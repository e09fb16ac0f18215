package org.gantry.launcher;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/** How {@code gantry jobs} and {@code gantry demo} show what the hub tells them. */
final class Format {

  private Format() {}

  /**
   * statusDetails as {@code key=value} pairs separated by {@code ", "}, by key (a map has no order
   * of its own: AWS and the hub keep none). A value that could be misread (empty, or with a space,
   * comma, quote, equals sign or control character) is quoted JSON-style, so every line reads back
   * unambiguously; "-" when there are none.
   */
  static String details(Map<String, String> details) {
    if (details.isEmpty()) {
      return "-";
    }
    StringJoiner j = new StringJoiner(", ");
    new java.util.TreeMap<>(details).forEach((k, v) -> j.add(k + "=" + value(v)));
    return j.toString();
  }

  static String value(String v) {
    boolean plain = !v.isEmpty();
    for (int i = 0; i < v.length() && plain; i++) {
      char c = v.charAt(i);
      plain = c > ' ' && c != ',' && c != '"' && c != '=' && c != '\\' && c != 0x7f;
    }
    if (plain) {
      return v;
    }
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < ' ' || c == 0x7f) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** UTC to the second, ISO 8601; "-" when absent. */
  static String time(Optional<Instant> t) {
    return t.map(i -> i.truncatedTo(ChronoUnit.SECONDS).toString()).orElse("-");
  }

  /**
   * A byte count for people: {@code 85.2 GB} (powers of 1000, as disks are sold); as is if not a
   * number.
   */
  static String bytes(String count) {
    long n;
    try {
      n = Long.parseLong(count);
    } catch (NumberFormatException e) {
      return count;
    }
    String[] units = {"bytes", "kB", "MB", "GB", "TB", "PB"};
    double v = n;
    int u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return u == 0 ? n + " bytes" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** Seconds with two decimals, for elapsed times: {@code 1.25 s}. */
  static String elapsed(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
