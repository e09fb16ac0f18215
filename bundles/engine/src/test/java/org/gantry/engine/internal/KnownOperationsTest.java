package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownOperationsTest {

  @TempDir Path data;

  @Test
  void remembersTypesAcrossRestarts() throws Exception {
    KnownOperations known = new KnownOperations(data);
    assertFalse(known.contains("firmware-update"));
    known.add("firmware-update");
    known.add("diagnostics");
    known.add("firmware-update");
    assertTrue(known.contains("firmware-update"));

    KnownOperations again = new KnownOperations(data);
    assertTrue(again.contains("firmware-update"));
    assertTrue(again.contains("diagnostics"));
    assertFalse(again.contains("reboot"));
    assertEquals(
        "diagnostics\nfirmware-update\n",
        Files.readString(data.resolve("engine").resolve("operations.known")));
  }

  @Test
  void anUnreadableListOnlyMeansNothingIsExpected() throws Exception {
    Files.createDirectories(data.resolve("engine").resolve("operations.known"));
    KnownOperations known = new KnownOperations(data);
    assertFalse(known.contains("diagnostics"));
    known.add("diagnostics"); // cannot be written over a folder: logged, not thrown
    assertTrue(known.contains("diagnostics"));
  }
}
