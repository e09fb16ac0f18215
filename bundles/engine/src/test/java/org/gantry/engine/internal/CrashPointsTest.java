package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CrashPointsTest {

  @AfterEach
  void clear() {
    System.clearProperty(CrashPoints.PROPERTY);
  }

  @Test
  void anUnknownCrashPointIsRefusedSoATypoCannotMakeATestPass() {
    System.setProperty(CrashPoints.PROPERTY, "after-teminal-publish");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, CrashPoints::fromSystemProperty);
    assertTrue(e.getMessage().contains("after-terminal-publish"), e.getMessage());
  }

  @Test
  void withoutThePropertyNoPointDoesAnything() {
    CrashPoints none = CrashPoints.fromSystemProperty();
    for (CrashPoints.Point p : CrashPoints.Point.values()) {
      assertDoesNotThrow(() -> none.reached(p));
    }
  }

  @Test
  void anArmedPointIgnoresTheOthers() {
    System.setProperty(CrashPoints.PROPERTY, "in-operation");
    CrashPoints armed = CrashPoints.fromSystemProperty();
    assertDoesNotThrow(() -> armed.reached(CrashPoints.Point.AFTER_START_JOURNAL));
    assertDoesNotThrow(() -> armed.reached(CrashPoints.Point.AFTER_TERMINAL_ACCEPTED));
  }
}
