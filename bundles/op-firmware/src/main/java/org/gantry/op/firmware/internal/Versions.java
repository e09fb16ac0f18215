package org.gantry.op.firmware.internal;

import java.util.Comparator;

/**
 * Orders firmware versions: split at {@code .}, {@code -}, {@code +} and {@code _}; numeric parts
 * compare as numbers, others as text, a numeric part above a textual one; when all shared parts are
 * equal, the longer version is newer, except that a pre-release ({@code 1.0-rc1}) is older than its
 * release ({@code 1.0}).
 */
final class Versions implements Comparator<String> {

  static final Versions ORDER = new Versions();

  private Versions() {}

  @Override
  public int compare(String a, String b) {
    String[] x = a.split("[.+_-]");
    String[] y = b.split("[.+_-]");
    int n = Math.min(x.length, y.length);
    for (int i = 0; i < n; i++) {
      int c = part(x[i], y[i]);
      if (c != 0) {
        return c;
      }
    }
    if (x.length == y.length) {
      return 0;
    }
    // 1.0-rc1 (more parts, the first extra one textual) is older than 1.0; 1.0.1 is newer.
    boolean xLonger = x.length > y.length;
    String extra = xLonger ? x[n] : y[n];
    boolean preRelease = !isNumber(extra);
    int longerIsNewer = preRelease ? -1 : 1;
    return xLonger ? longerIsNewer : -longerIsNewer;
  }

  private static int part(String a, String b) {
    boolean na = isNumber(a);
    boolean nb = isNumber(b);
    if (na && nb) {
      String ta = a.replaceFirst("^0+(?=.)", "");
      String tb = b.replaceFirst("^0+(?=.)", "");
      return ta.length() != tb.length()
          ? Integer.compare(ta.length(), tb.length())
          : ta.compareTo(tb);
    }
    if (na != nb) {
      return na ? 1 : -1;
    }
    return a.compareTo(b);
  }

  private static boolean isNumber(String s) {
    return !s.isEmpty() && s.chars().allMatch(ch -> ch >= '0' && ch <= '9');
  }
}
