package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void growsExponentiallyUpToTheMaximum() {
    // random 0.999.. gives the top of each step: min, 2 min, 4 min, ... capped
    Backoff top = new Backoff(1_000, 60_000, () -> 0.999_999);
    assertEquals(1_000, top.delayMillis(0));
    assertEquals(2_000, top.delayMillis(1));
    assertEquals(4_000, top.delayMillis(2));
    assertEquals(32_000, top.delayMillis(5));
    assertEquals(60_000, top.delayMillis(6));
    assertEquals(60_000, top.delayMillis(1_000));
    assertEquals(60_000, top.delayMillis(Integer.MAX_VALUE));
  }

  @Test
  void jitterStaysInTheUpperHalfAndNeverBelowTheMinimum() {
    Backoff bottom = new Backoff(1_000, 60_000, () -> 0.0);
    assertEquals(1_000, bottom.delayMillis(0), "never below the minimum");
    assertEquals(2_000, bottom.delayMillis(2), "half of the 4 s step");
    assertEquals(30_000, bottom.delayMillis(100), "half of the capped step");
  }

  @Test
  void jitterSpreadsAFleet() {
    Random random = new Random(42);
    Backoff backoff = new Backoff(1_000, 60_000, random::nextDouble);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      long d = backoff.delayMillis(4);
      assertTrue(d >= 8_000 && d <= 16_000, "delay " + d + " outside [8 s, 16 s]");
      seen.add(d);
    }
    assertTrue(seen.size() > 100, "jitter should spread delays, saw " + seen.size());
  }

  @Test
  void equalMinimumAndMaximumIsAFixedDelay() {
    Backoff fixed = new Backoff(500, 500, () -> 0.5);
    assertEquals(500, fixed.delayMillis(0));
    assertEquals(500, fixed.delayMillis(10));
  }

  @Test
  void refusesAnInvertedRange() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(2_000, 1_000, () -> 0));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 1_000, () -> 0));
  }
}
