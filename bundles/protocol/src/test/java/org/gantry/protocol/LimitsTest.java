package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LimitsTest {

  @Test
  void jobIdIs1To64OfTheJobIdAlphabet() {
    assertTrue(Limits.isValidJobId("a"));
    assertTrue(Limits.isValidJobId("x".repeat(64)));
    assertTrue(Limits.isValidJobId("AZaz09_-"));
    assertFalse(Limits.isValidJobId("x".repeat(65)));
    assertFalse(Limits.isValidJobId(""));
    assertFalse(Limits.isValidJobId(null));
    for (String bad : List.of("a:b", "a b", "a/b", "a+b", "#", "$next", "caf\u00e9", "a.b")) {
      assertFalse(Limits.isValidJobId(bad), bad);
    }
  }

  @Test
  void thingNameIs1To128OfTheThingAlphabet() {
    assertTrue(Limits.isValidThingName("T"));
    assertTrue(Limits.isValidThingName("t".repeat(128)));
    assertTrue(Limits.isValidThingName("plant-3:line_7:GW01"));
    assertFalse(Limits.isValidThingName("t".repeat(129)));
    assertFalse(Limits.isValidThingName(""));
    assertFalse(Limits.isValidThingName(null));
    for (String bad : List.of("a b", "a/b", "+", "#", "$aws", "\u00fc", "a.b")) {
      assertFalse(Limits.isValidThingName(bad), bad);
    }
  }

  @Test
  void statusDetailsAtTheirBoundsAreValid() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("k".repeat(128), "v".repeat(1024));
    d.put("a", "b");
    d.put("A-z_0:9", "any printable \u00e9 \ud83d\ude00 \u2026 text");
    assertEquals(Optional.empty(), Limits.checkStatusDetails(d));
    assertEquals(Optional.empty(), Limits.checkStatusDetails(Map.of()));
  }

  @Test
  void everyViolationIsNamed() {
    assertViolation(Map.of("", "v"), "empty key");
    assertViolation(Map.of("k".repeat(129), "v"), "129");
    assertViolation(Map.of("a b", "v"), "\"a b\"");
    assertViolation(Map.of("k\u00e9", "v"), "outside");
    assertViolation(Map.of("k", ""), "empty");
    assertViolation(Map.of("k", "v".repeat(1025)), "1025");
    assertViolation(Map.of("k", "a\nb"), "U+000A");
    assertViolation(Map.of("k", "a\u200Bb"), "U+200B"); // format
    assertViolation(Map.of("k", "a\uE000b"), "U+E000"); // private use
    assertViolation(Map.of("k", "a\uD800b"), "U+D800"); // lone surrogate
    assertViolation(Map.of("k", "a\u0378b"), "U+0378"); // unassigned
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("k", null);
    assertViolation(nullValue, "null");
    Map<String, String> nullKey = new HashMap<>();
    nullKey.put(null, "v");
    assertViolation(nullKey, "null key");
    assertTrue(Limits.checkStatusDetails(null).isPresent());
  }

  private static void assertViolation(Map<String, String> d, String inMessage) {
    Optional<String> why = Limits.checkStatusDetails(d);
    assertTrue(why.isPresent(), () -> "accepted " + d);
    assertTrue(why.get().startsWith("statusDetails"), why.get());
    assertTrue(why.get().contains(inMessage), () -> "'" + inMessage + "' not in " + why.get());
    assertTrue(why.get().endsWith("."), why.get());
    // The message must not carry the offending raw control character into a log line.
    assertFalse(why.get().chars().anyMatch(c -> c < 0x20), why.get());
  }

  @Test
  void sanitizeReplacesBadKeyCharactersAndCutsKeys() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("a b/c\u00e9\ud83d\ude00", "v");
    d.put("k".repeat(200), "v");
    d.put("", "empty key");
    Map<String, String> s = Limits.sanitizeStatusDetails(d);
    assertEquals(List.of("a_b_c__", "k".repeat(128), "_"), List.copyOf(s.keySet()));
  }

  @Test
  void sanitizeKeepsTheFirstOfCollidingKeys() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("a b", "first");
    d.put("a/b", "second");
    d.put("a_b", "third");
    d.put("z", "z");
    assertEquals(Map.of("a_b", "first", "z", "z"), Limits.sanitizeStatusDetails(d));
    assertEquals(List.of("a_b", "z"), List.copyOf(Limits.sanitizeStatusDetails(d).keySet()));
  }

  @Test
  void sanitizeReplacesControlFormatAndUnassignedCharactersBySpaces() {
    Map<String, String> s =
        Limits.sanitizeStatusDetails(
            Map.of("k", "line1\nline2\t\u0000\u200B\uE000\uD800\u0378\u00e9"));
    assertEquals("line1 line2" + " ".repeat(6) + "\u00e9", s.get("k"));
  }

  @Test
  void sanitizeCutsLongValuesWithAnEllipsis() {
    String cut = Limits.sanitizeStatusDetails(Map.of("k", "v".repeat(5000))).get("k");
    assertEquals(1024, cut.length());
    assertEquals("v".repeat(1023) + "\u2026", cut);
    String exact = "v".repeat(1024);
    assertEquals(exact, Limits.sanitizeStatusDetails(Map.of("k", exact)).get("k"));
  }

  @Test
  void sanitizeNeverSplitsASurrogatePair() {
    // 1022 chars, then an emoji (2 chars) straddling the 1023rd char where the cut falls.
    String v = "v".repeat(1022) + "\ud83d\ude00" + "tail";
    String cut = Limits.sanitizeStatusDetails(Map.of("k", v)).get("k");
    assertEquals("v".repeat(1022) + "\u2026", cut);
    assertEquals(Optional.empty(), Limits.checkStatusDetails(Map.of("k", cut)));
  }

  @Test
  void sanitizeFillsEmptyAndNullValuesAndNeverFails() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("e", "");
    d.put("n", null);
    d.put(null, "nullkey");
    assertEquals(Map.of("e", "-", "n", "-", "_", "nullkey"), Limits.sanitizeStatusDetails(d));
    assertEquals(Map.of(), Limits.sanitizeStatusDetails(null));
  }

  @Test
  void sanitizeReturnsAnUnmodifiableMapAndLeavesValidInputAlone() {
    Map<String, String> valid = new LinkedHashMap<>();
    valid.put("reason", "OK");
    valid.put("progress", "50%");
    Map<String, String> s = Limits.sanitizeStatusDetails(valid);
    assertEquals(valid, s);
    assertEquals(List.copyOf(valid.keySet()), List.copyOf(s.keySet()));
    assertThrows(UnsupportedOperationException.class, () -> s.put("x", "y"));
  }

  @Test
  void sanitizedOutputAlwaysPassesTheCheck() {
    Random random = new Random(20261126L);
    for (int round = 0; round < 2000; round++) {
      Map<String, String> d = new LinkedHashMap<>();
      int entries = random.nextInt(6);
      for (int i = 0; i < entries; i++) {
        d.put(
            randomString(random, 200), random.nextInt(20) == 0 ? null : randomString(random, 1500));
      }
      Map<String, String> s = Limits.sanitizeStatusDetails(d);
      assertEquals(Optional.empty(), Limits.checkStatusDetails(s), () -> "input " + d);
      assertTrue(s.size() <= d.size());
      assertTrue(!d.isEmpty() == !s.isEmpty());
    }
  }

  /** Mixes ASCII, any BMP unit (lone surrogates included), and supplementary code points. */
  private static String randomString(Random random, int maxLength) {
    int length = random.nextInt(4) == 0 ? maxLength - 10 + random.nextInt(20) : random.nextInt(40);
    StringBuilder sb = new StringBuilder();
    while (sb.length() < length) {
      switch (random.nextInt(4)) {
        case 0:
          sb.append((char) (0x20 + random.nextInt(0x5f)));
          break;
        case 1:
          sb.append((char) random.nextInt(0x10000));
          break;
        case 2:
          sb.appendCodePoint(0x10000 + random.nextInt(0x100000));
          break;
        default:
          sb.append((char) random.nextInt(0x20));
      }
    }
    return sb.toString();
  }
}
