package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VersionsTest {

  @ParameterizedTest
  @CsvSource({
    "1.10.0, 1.9.0",
    "2.0, 1.99.99",
    "1.0.1, 1.0",
    "1.0, 1.0-rc1",
    "1.0-rc2, 1.0-rc1",
    "1.0.0, 1.0.0-beta",
    "10, 9",
    "1.0.10, 1.0.009",
    "2026.12.1, 2026.11.30"
  })
  void newerIsNewer(String newer, String older) {
    assertTrue(Versions.ORDER.compare(newer, older) > 0, newer + " > " + older);
    assertTrue(Versions.ORDER.compare(older, newer) < 0, older + " < " + newer);
  }

  @ParameterizedTest
  @CsvSource({"1.0.0, 1.0.0", "01.2, 1.2", "1.0-rc1, 1.0-rc1"})
  void equalIsEqual(String a, String b) {
    assertEquals(0, Versions.ORDER.compare(a, b));
  }
}
