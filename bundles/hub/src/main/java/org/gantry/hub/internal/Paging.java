package org.gantry.hub.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * Paging of the management API's lists. Every list is sorted by a key that orders its items; a
 * {@code nextToken} is the key of the last item handed out, encoded so that callers treat it as
 * opaque. The next page starts after that key, so items created or deleted between two pages never
 * make an existing item appear twice or be skipped (an offset would shift under an insert).
 */
final class Paging {
  static final int MAX_RESULTS = 250;
  private static final String PREFIX = "g1:";

  /** One page: the items and the token of the next page, null on the last page. */
  record Page<T>(List<T> items, String nextToken) {}

  private Paging() {}

  /**
   * {@code maxResults} as a number 1-250; the default when absent.
   *
   * @throws ApiException InvalidRequestException when it is not a number in range
   */
  static int maxResults(String maxResults) throws ApiException {
    if (maxResults == null) {
      return MAX_RESULTS;
    }
    try {
      int v = Integer.parseInt(maxResults);
      if (v >= 1 && v <= MAX_RESULTS) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.invalid(
        "maxResults must be a number 1-" + MAX_RESULTS + ", got " + Texts.clip(maxResults) + ".");
  }

  /**
   * The page after {@code nextToken} of {@code sorted}, whose keys must ascend strictly.
   *
   * @throws ApiException InvalidRequestException for a token this hub did not hand out
   */
  static <T> Page<T> page(
      List<T> sorted, Function<T, String> key, String maxResults, String nextToken)
      throws ApiException {
    int max = maxResults(maxResults);
    String after = nextToken == null ? null : decode(nextToken);
    List<T> out = new ArrayList<>();
    String last = null;
    boolean more = false;
    for (T item : sorted) {
      String k = key.apply(item);
      if (after != null && k.compareTo(after) <= 0) {
        continue;
      }
      if (out.size() == max) {
        more = true;
        break;
      }
      out.add(item);
      last = k;
    }
    return new Page<>(out, more ? encode(last) : null);
  }

  static String encode(String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((PREFIX + key).getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String token) throws ApiException {
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (s.startsWith(PREFIX)) {
        return s.substring(PREFIX.length());
      }
    } catch (IllegalArgumentException e) {
      // answered below
    }
    throw ApiException.invalid(
        "nextToken " + Texts.clip(token) + " is not one this hub handed out.");
  }

  /** A key part that sorts numerically as text: 16 hex digits. */
  static String number(long n) {
    return String.format("%016x", n);
  }
}
