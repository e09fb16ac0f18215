package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.gantry.op.firmware.internal.CrashPoints.Point;
import org.junit.jupiter.api.Test;

/** The crash points' property: parsed at activation, unknown names refused. */
class CrashPointsTest {

  @Test
  void aPropertyNamingAPointArmsThatPointOnly() {
    CrashPoints c = CrashPoints.of(" firmware.mid-extract ");
    assertTrue(c.armed(Point.MID_EXTRACT));
    for (Point p : Point.values()) {
      if (p != Point.MID_EXTRACT) {
        assertFalse(c.armed(p), p.id());
        c.reached(p); // returns: only the armed point kills
      }
    }
  }

  @Test
  void noPropertyArmsNothing() {
    for (String v : Arrays.asList(null, "", "  ")) {
      CrashPoints c = CrashPoints.of(v);
      assertTrue(Arrays.stream(Point.values()).noneMatch(c::armed), String.valueOf(v));
    }
  }

  @Test
  void anUnknownNameIsRefusedSoATypoCannotPassATest() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CrashPoints.of("firmware.mid-extrac"));
    assertTrue(e.getMessage().startsWith(CrashPoints.PROPERTY + " names no crash point"));
    assertTrue(e.getMessage().contains("firmware.after-verify"), e.getMessage());
  }

  @Test
  void pointsAreNamedAsTheTestsArmThem() {
    assertEquals(
        "[firmware.after-download, firmware.after-verify, firmware.mid-extract,"
            + " firmware.after-stage, firmware.after-switch, firmware.before-report]",
        Arrays.toString(Arrays.stream(Point.values()).map(Point::id).toArray()));
  }
}
