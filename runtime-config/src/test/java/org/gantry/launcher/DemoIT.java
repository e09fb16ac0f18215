package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/gantry demo} as the README tells a newcomer to run it. */
class DemoIT {

  @TempDir Path tmp;
  private ProcessFixture processes;

  @AfterEach
  void killLeftovers() throws Exception {
    if (processes != null) {
      processes.close();
    }
  }

  @Test
  void theDemoRunsEveryJobToItsExpectedOutcomeAndStopsBothProcesses() throws Exception {
    processes = new ProcessFixture(tmp);
    Path folder = tmp.resolve("demo");
    long begin = System.nanoTime();
    ProcessFixture.Result r = processes.run("demo", "--data", folder.toString());
    String wall = Format.elapsed(System.nanoTime() - begin);
    System.out.println("gantry demo wall time: " + wall + "\n" + r.out());

    assertEquals(0, r.status(), r.out() + "\n" + r.err());
    assertEquals("", r.err());
    String out = r.out();
    List<String> lines = out.lines().toList();
    assertEquals("Gantry demo: a hub and a gateway on this machine, 127.0.0.1 only", lines.get(0));
    assertTrue(out.contains("\n  hub      pid "), out);
    assertTrue(out.contains("\n  gateway  pid "), out);
    assertTrue(out.contains("\n  logs     " + folder.resolve("hub.console.log")), out);
    for (int i = 1; i <= Demo.SAMPLES.size(); i++) {
      assertTrue(
          out.contains(
              "[" + i + "/" + Demo.SAMPLES.size() + "] " + Demo.SAMPLES.get(i - 1).title()),
          out);
    }
    assertTrue(out.contains("=> SUCCEEDED, as expected: Gantry "), out);
    assertTrue(out.contains("=> REJECTED, as expected: OPERATION_NOT_INSTALLED: "), out);
    assertTrue(out.contains("=> REJECTED, as expected: INVALID_PARAMETERS: "), out);
    assertEquals(Demo.SAMPLES.size(), lines.stream().filter(l -> l.contains("=> ")).count(), out);
    assertTrue(
        out.contains(Demo.SAMPLES.size() + " of " + Demo.SAMPLES.size() + " jobs reached"), out);
    assertTrue(out.contains("\n  gateway stopped (SIGTERM) in "), out);
    assertTrue(out.contains("\n  hub stopped (SIGTERM) in "), out);
    assertTrue(lines.get(lines.size() - 1).startsWith("Demo finished in "), out);

    // both children are gone, and their logs are where the demo said
    assertTrue(
        Files.readString(folder.resolve("gateway.console.log")).contains("framework stopped"));
    assertTrue(Files.readString(folder.resolve("hub.console.log")).contains("framework stopped"));
    assertTrue(Files.isRegularFile(folder.resolve("hub/log/gantry.log")));
  }
}
