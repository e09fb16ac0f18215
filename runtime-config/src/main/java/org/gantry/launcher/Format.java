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

  /**
   * A table for people: a header row and the rows, each column as wide as its widest cell, two
   * spaces between columns, no trailing spaces.
   */
  static java.util.List<String> table(
      java.util.List<String> headers, java.util.List<java.util.List<String>> rows) {
    int[] width = new int[headers.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = headers.get(i).length();
      for (java.util.List<String> row : rows) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    java.util.List<String> lines = new java.util.ArrayList<>();
    lines.add(row(headers, width));
    for (java.util.List<String> row : rows) {
      lines.add(row(row, width));
    }
    return lines;
  }

  private static String row(java.util.List<String> cells, int[] width) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        sb.append("  ");
      }
      sb.append(cells.get(i));
      if (i < cells.size() - 1) {
        sb.append(" ".repeat(width[i] - cells.get(i).length()));
      }
    }
    return sb.toString();
  }

  /** A progress bar of {@code width} cells: {@code [#####.....]}; empty when total is 0. */
  static String bar(long done, long total, int width) {
    int filled = total <= 0 ? 0 : (int) Math.min(width, done * width / total);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }

  /** A percentage with at most one decimal: {@code 12.5%}, {@code 100%}. */
  static String percent(double p) {
    String s = String.format(java.util.Locale.ROOT, "%.1f", p);
    return (s.endsWith(".0") ? s.substring(0, s.length() - 2) : s) + "%";
  }

  /** The first line of a message, for one-line errors. */
  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
