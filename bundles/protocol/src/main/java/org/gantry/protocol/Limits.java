package org.gantry.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The service limits of PROTOCOL.md. Lengths count UTF-16 chars ({@link String#length()}), the way
 * Java and the JSON text count them.
 */
public final class Limits {
  /** Longest job document, in chars. */
  public static final int MAX_DOCUMENT_CHARS = 32_768;

  /** Longest {@code clientToken}, in chars (the shortest is 1). */
  public static final int MAX_CLIENT_TOKEN = 64;

  /** Longest {@code statusDetails} key, in chars (the shortest is 1). */
  public static final int MAX_DETAIL_KEY = 128;

  /** Longest {@code statusDetails} value, in chars (the shortest is 1). */
  public static final int MAX_DETAIL_VALUE = 1024;

  /** Longest job id, in chars (the shortest is 1). */
  public static final int MAX_JOB_ID = 64;

  /** Longest thing name, in chars (the shortest is 1). */
  public static final int MAX_THING_NAME = 128;

  /** Shortest {@code stepTimeoutInMinutes}. */
  public static final long MIN_STEP_TIMEOUT_MINUTES = 1;

  /** Longest {@code stepTimeoutInMinutes}: seven days. */
  public static final long MAX_STEP_TIMEOUT_MINUTES = 10_080;

  /** What a value becomes when it is empty. */
  private static final String EMPTY_VALUE = "-";

  private static final char ELLIPSIS = '\u2026';

  private Limits() {}

  /**
   * @param s a candidate job id; may be null
   * @return true when {@code s} is 1-64 chars of {@code [a-zA-Z0-9_-]}
   */
  public static boolean isValidJobId(String s) {
    return s != null && !s.isEmpty() && s.length() <= MAX_JOB_ID && allMatch(s, false);
  }

  /**
   * @param s a candidate thing name; may be null
   * @return true when {@code s} is 1-128 chars of {@code [a-zA-Z0-9:_-]}
   */
  public static boolean isValidThingName(String s) {
    return s != null && !s.isEmpty() && s.length() <= MAX_THING_NAME && allMatch(s, true);
  }

  /**
   * Checks a {@code statusDetails} map against the service limits: keys 1-128 chars of {@code
   * [a-zA-Z0-9:_-]}, values 1-1024 chars none of which is in {@code \p{C}} (control, format,
   * surrogate, private-use or unassigned).
   *
   * @param d the map; may be null (which is invalid)
   * @return empty when valid, otherwise a sentence that names the first offending entry
   */
  public static Optional<String> checkStatusDetails(Map<String, String> d) {
    if (d == null) {
      return Optional.of("statusDetails must be a map, not null.");
    }
    for (Map.Entry<String, String> e : d.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      if (k == null) {
        return Optional.of("statusDetails has a null key.");
      }
      if (k.isEmpty()) {
        return Optional.of("statusDetails has an empty key; keys must be 1-128 characters.");
      }
      if (k.length() > MAX_DETAIL_KEY) {
        return Optional.of(
            "statusDetails key "
                + quote(k)
                + " is "
                + k.length()
                + " characters long; at most 128 are allowed.");
      }
      if (!allMatch(k, true)) {
        return Optional.of(
            "statusDetails key " + quote(k) + " has a character outside [a-zA-Z0-9:_-].");
      }
      if (v == null) {
        return Optional.of("statusDetails value of key " + quote(k) + " is null.");
      }
      if (v.isEmpty()) {
        return Optional.of(
            "statusDetails value of key "
                + quote(k)
                + " is empty; values must be 1-1024 characters.");
      }
      if (v.length() > MAX_DETAIL_VALUE) {
        return Optional.of(
            "statusDetails value of key "
                + quote(k)
                + " is "
                + v.length()
                + " characters long; at most 1024 are allowed.");
      }
      int bad = firstForbiddenInValue(v);
      if (bad >= 0) {
        return Optional.of(
            String.format(
                "statusDetails value of key %s has the control, format or unassigned character"
                    + " U+%04X at index %d.",
                quote(k), v.codePointAt(bad), bad));
      }
    }
    return Optional.empty();
  }

  /**
   * Makes any map fit the service limits, so that what an operation reports is never rejected
   * (FAULTS.md #10). Never fails. Keys: characters outside {@code [a-zA-Z0-9:_-]} become {@code
   * '_'} (one per code point), then cut to 128 chars; an empty or null key becomes {@code "_"};
   * when two keys end up equal the first one wins. Values: every {@code \p{C}} code point becomes a
   * space; a value over 1024 chars is cut on a code point boundary and ends with {@code '…'} (1024
   * chars in all); an empty or null value becomes {@code "-"}.
   *
   * @param d any map; null gives an empty map
   * @return an unmodifiable map in input order whose {@link #checkStatusDetails} is empty
   */
  public static Map<String, String> sanitizeStatusDetails(Map<String, String> d) {
    Map<String, String> out = new LinkedHashMap<>();
    if (d != null) {
      for (Map.Entry<String, String> e : d.entrySet()) {
        out.putIfAbsent(sanitizeKey(e.getKey()), sanitizeValue(e.getValue()));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  private static String sanitizeKey(String k) {
    if (k == null || k.isEmpty()) {
      return "_";
    }
    StringBuilder sb = new StringBuilder(Math.min(k.length(), MAX_DETAIL_KEY));
    for (int i = 0; i < k.length() && sb.length() < MAX_DETAIL_KEY; ) {
      int cp = k.codePointAt(i);
      sb.append(cp < 0x80 && isNameChar((char) cp, true) ? (char) cp : '_');
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  private static String sanitizeValue(String v) {
    if (v == null || v.isEmpty()) {
      return EMPTY_VALUE;
    }
    StringBuilder sb = new StringBuilder(Math.min(v.length(), MAX_DETAIL_VALUE));
    for (int i = 0; i < v.length(); ) {
      int cp = v.codePointAt(i);
      if (isForbiddenInValue(cp)) {
        sb.append(' ');
      } else {
        sb.appendCodePoint(cp);
      }
      i += Character.charCount(cp);
    }
    if (sb.length() > MAX_DETAIL_VALUE) {
      int cut = MAX_DETAIL_VALUE - 1;
      // Never leave half a surrogate pair before the ellipsis.
      if (Character.isHighSurrogate(sb.charAt(cut - 1))) {
        cut--;
      }
      sb.setLength(cut);
      sb.append(ELLIPSIS);
    }
    return sb.toString();
  }

  /** General category C: Cc, Cf, Cs (lone surrogates), Co and Cn, as {@code \p{C}} defines it. */
  static boolean isForbiddenInValue(int cp) {
    switch (Character.getType(cp)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
        return true;
      default:
        return false;
    }
  }

  private static int firstForbiddenInValue(String v) {
    for (int i = 0; i < v.length(); ) {
      int cp = v.codePointAt(i);
      if (isForbiddenInValue(cp)) {
        return i;
      }
      i += Character.charCount(cp);
    }
    return -1;
  }

  private static boolean allMatch(String s, boolean colonAllowed) {
    for (int i = 0; i < s.length(); i++) {
      if (!isNameChar(s.charAt(i), colonAllowed)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isNameChar(char c, boolean colonAllowed) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-'
        || (colonAllowed && c == ':');
  }

  /**
   * Quotes a caller's string for a message: control characters escaped, long ones cut, so a message
   * never carries what made the input invalid into a log line.
   */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    int limit = 40;
    for (int i = 0; i < s.length() && i < limit; i++) {
      char c = s.charAt(i);
      if (c < 0x20
          || c == 0x7f
          || c == '"'
          || c == '\\'
          || Character.isSurrogate(c)
          || Character.getType(c) == Character.FORMAT) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (s.length() > limit) {
      sb.append(ELLIPSIS);
    }
    return sb.append('"').toString();
  }
}
