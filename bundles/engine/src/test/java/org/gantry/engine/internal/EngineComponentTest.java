package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineComponentTest {

  @Test
  void thingsComeAsAListOrAsACommaSeparatedLineOfACfgFile() {
    assertEquals(
        List.of("gw", "a", "b", "c"),
        List.copyOf(EngineComponent.things("gw", new String[] {"a, b", "c"})));
    assertEquals(List.of("gw"), List.copyOf(EngineComponent.things("gw", new String[] {" "})));
    assertEquals(List.of("gw"), List.copyOf(EngineComponent.things("gw", null)));
  }

  @Test
  void aBadOrRepeatedThingNameIsRefusedNamingIt() {
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> EngineComponent.things("gw", new String[] {"ok,bad/name"}));
    assertTrue(bad.getMessage().contains("bad/name"), bad.getMessage());
    IllegalArgumentException twice =
        assertThrows(
            IllegalArgumentException.class,
            () -> EngineComponent.things("gw", new String[] {"a,gw"}));
    assertTrue(twice.getMessage().contains("gw"), twice.getMessage());
  }

  @Test
  void stepTimeoutsAreTypeEqualsMinutes() {
    assertEquals(
        Map.of("firmware-update", Duration.ofMinutes(120), "reboot", Duration.ofMinutes(15)),
        EngineComponent.stepTimeouts(new String[] {"firmware-update=120", " reboot = 15 "}));
    assertThrows(
        IllegalArgumentException.class, () -> EngineComponent.stepTimeouts(new String[] {"x"}));
    assertThrows(
        IllegalArgumentException.class, () -> EngineComponent.stepTimeouts(new String[] {"x=0"}));
    assertThrows(
        IllegalArgumentException.class, () -> EngineComponent.stepTimeouts(new String[] {"x=ten"}));
  }
}
