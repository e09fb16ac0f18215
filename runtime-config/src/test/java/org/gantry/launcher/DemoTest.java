package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The demo's expectations and its lines; the demo itself runs in DemoIT. */
class DemoTest {

  private static HubClient.Execution execution(String status, Map<String, String> details) {
    return new HubClient.Execution(
        "j",
        Demo.THING,
        status,
        details,
        1,
        3,
        Optional.of(Instant.EPOCH),
        Optional.empty(),
        Optional.empty());
  }

  private static Demo.Sample sample(String slug) {
    return Demo.SAMPLES.stream().filter(s -> s.slug().equals(slug)).findFirst().orElseThrow();
  }

  @Test
  void theSamplesCoverWhatTheDemoPromises() {
    assertEquals(
        "SUCCEEDED", sample("diagnostics").expectedStatus(), "a diagnostics job that succeeds");
    assertEquals(
        Optional.of("OPERATION_NOT_INSTALLED"),
        sample("firmware").expectedReason(),
        "a job for an operation that is not installed");
    assertTrue(sample("two-steps").document().contains("\"steps\""));
    assertEquals(Optional.of("INVALID_PARAMETERS"), sample("typo").expectedReason());
    for (Demo.Sample s : Demo.SAMPLES) {
      assertTrue(("demo-9-" + s.slug() + "-ffff").matches("[a-zA-Z0-9_-]{1,64}"), s.slug());
    }
  }

  @Test
  void anExecutionIsCheckedAgainstStatusReasonAndFacts() {
    Demo.Sample diagnostics = sample("diagnostics");
    assertEquals(
        Optional.empty(),
        diagnostics.check(execution("SUCCEEDED", Map.of("gantryVersion", "0.1.0"))));
    assertEquals(
        Optional.of("expected a key like gantryVersion in statusDetails, found 0"),
        diagnostics.check(execution("SUCCEEDED", Map.of())));
    Demo.Sample steps = sample("two-steps");
    assertEquals(
        Optional.empty(),
        steps.check(
            execution("SUCCEEDED", Map.of("1:gantryVersion", "0.1", "2:gantryVersion", "0.1"))));
    assertEquals(
        Optional.empty(),
        steps.check(
            execution("SUCCEEDED", Map.of("1_gantryVersion", "0.1", "2_gantryVersion", "0.1"))));
    assertEquals(
        Optional.of("expected 2 keys like " + Demo.STEP_FACT + " in statusDetails, found 1"),
        steps.check(execution("SUCCEEDED", Map.of("1:gantryVersion", "0.1"))));
    assertTrue(
        diagnostics
            .check(execution("FAILED", Map.of("reasonCode", "X")))
            .orElseThrow()
            .startsWith("expected SUCCEEDED, got FAILED reasonCode=X"));

    Demo.Sample missing = sample("firmware");
    assertEquals(
        Optional.empty(),
        missing.check(
            execution(
                "REJECTED", Map.of("reasonCode", "OPERATION_NOT_INSTALLED", "reason", "No."))));
    assertEquals(
        Optional.of("expected reasonCode OPERATION_NOT_INSTALLED, got MALFORMED_JSON"),
        missing.check(execution("REJECTED", Map.of("reasonCode", "MALFORMED_JSON"))));
  }

  @Test
  void outcomesCarryTheFactsOrTheReason() {
    assertEquals(
        "REJECTED, as expected: OPERATION_NOT_INSTALLED: nothing provides it",
        Demo.outcome(
            execution(
                "REJECTED",
                Map.of("reasonCode", "OPERATION_NOT_INSTALLED", "reason", "nothing provides it"))));
    String facts =
        Demo.outcome(
            execution(
                "SUCCEEDED",
                Map.of(
                    "gantryVersion", "0.1.0",
                    "javaVersion", "17",
                    "os", "Linux amd64",
                    "uptimeSeconds", "3",
                    "freeDiskBytes", "42",
                    "operations", "diagnostics=b@1")));
    assertEquals(
        "SUCCEEDED, as expected: Gantry 0.1.0 on Java 17, Linux amd64, up 3 s, 42 bytes free;"
            + " operations: diagnostics=b@1",
        facts);
    assertEquals(
        "SUCCEEDED, as expected: 2 steps, each reported Gantry 0.1.0 and its operations (d=b@1)",
        Demo.outcome(
            execution(
                "SUCCEEDED",
                Map.of(
                    "1:gantryVersion", "0.1.0",
                    "1:operations", "d=b@1",
                    "2:gantryVersion", "0.1.0"))));
    assertEquals(
        "       +1.25 s  SUCCEEDED    version 3  a=b",
        Demo.progressLine(1_250_000_000L, execution("SUCCEEDED", Map.of("a", "b"))));
  }

  @Test
  void longDetailsGoOnePerLine() {
    Map<String, String> d = new java.util.TreeMap<>();
    d.put("b", "y".repeat(60));
    d.put("a", "two words " + "x".repeat(50));
    String text = Demo.progressLine(500_000_000L, execution("SUCCEEDED", d));
    assertEquals(
        "       +0.50 s  SUCCEEDED    version 3\n"
            + "                   a=\"two words "
            + "x".repeat(50)
            + "\"\n"
            + "                   b="
            + "y".repeat(60),
        text);
    assertEquals(
        "       +0.50 s  QUEUED       version 3",
        Demo.progressLine(500_000_000L, execution("QUEUED", Map.of())),
        "no trailing blanks");
  }

  @Test
  void byteCountsAreForPeople() {
    assertEquals("42 bytes", Format.bytes("42"));
    assertEquals("85.2 GB", Format.bytes("85158440960"));
    assertEquals("1.0 kB", Format.bytes("1000"));
    assertEquals("?", Format.bytes("?"));
  }

  @Test
  void aRuntimeWithBundlesThatDidNotStartIsNotWaitedFor() {
    String ok =
        "2026-11-26T17:20:31,353 INFO  [main] Launcher - framework started in 1 ms (JVM up 2 ms):"
            + " 17 bundles started\n";
    String broken =
        "x\n2026-11-26T17:20:31,353 ERROR [main] Launcher - framework started in 1073 ms (JVM up"
            + " 1310 ms): 16 bundles started, 1 not started: org.gantry.engine (INSTALLED)\n";
    assertEquals(Optional.empty(), Demo.startFailure(ok));
    assertTrue(Demo.startFailure(broken).orElseThrow().contains("org.gantry.engine (INSTALLED)"));
  }

  @Test
  void freePortsAreDistinct() throws Exception {
    int[] ports = Demo.freePorts(2);
    assertNotEquals(ports[0], ports[1]);
    assertTrue(ports[0] > 0 && ports[1] > 0);
  }
}
