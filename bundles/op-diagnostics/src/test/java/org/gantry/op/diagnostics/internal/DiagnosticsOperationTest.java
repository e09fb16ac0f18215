package org.gantry.op.diagnostics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;
import org.slf4j.MDC;

class DiagnosticsOperationTest {

  @TempDir Path workDir;

  private final DiagnosticsOperation operation = new DiagnosticsOperation("1.2.3", () -> 987_654L);

  /** The engine's side of an execution, as far as this operation uses it. */
  private final class FakeContext implements OperationContext {
    private final JobParameters parameters;
    private final boolean cancelled;
    private final Path dir;

    FakeContext(JobParameters parameters, boolean cancelled, Path dir) {
      this.parameters = parameters;
      this.cancelled = cancelled;
      this.dir = dir;
    }

    FakeContext() {
      this(JobParameters.empty(), false, workDir);
    }

    @Override
    public String thingName() {
      return "gw-1";
    }

    @Override
    public String jobId() {
      return "job-1";
    }

    @Override
    public long executionNumber() {
      return 1;
    }

    @Override
    public JobParameters parameters() {
      return parameters;
    }

    @Override
    public Path workDir() {
      return dir;
    }

    @Override
    public void progress(String step, int percent, Map<String, String> details) {}

    @Override
    public boolean cancelled() {
      return cancelled;
    }

    @Override
    public void onCancel(Runnable action) {
      if (cancelled) {
        action.run();
      }
    }

    @Override
    public JobParameters refreshParameters() {
      return parameters();
    }

    @Override
    public void extendStepTimeout(java.time.Duration limit) {
      throw new AssertionError("diagnostics never needs a longer step timeout");
    }

    @Override
    public java.util.Optional<String> checkpoint(String key) {
      throw new AssertionError("diagnostics keeps no checkpoints");
    }

    @Override
    public void checkpoint(String key, String value) {
      throw new AssertionError("diagnostics keeps no checkpoints");
    }
  }

  @Test
  void reportsExactlyTheDocumentedKeys() throws Exception {
    OperationResult result = operation.execute(new FakeContext());
    assertEquals(OperationResult.Status.SUCCEEDED, result.status());
    assertEquals(
        Set.of(
            "gantryVersion", "uptimeSeconds", "operations", "freeDiskBytes", "javaVersion", "os"),
        result.details().keySet());
  }

  @Test
  void reportsVersionUptimeJavaAndOs() throws Exception {
    Map<String, String> d = operation.execute(new FakeContext()).details();
    assertEquals("1.2.3", d.get("gantryVersion"));
    assertEquals("987", d.get("uptimeSeconds"), "whole seconds, rounded down");
    assertEquals(System.getProperty("java.version"), d.get("javaVersion"));
    assertEquals(System.getProperty("os.name") + " " + System.getProperty("os.arch"), d.get("os"));
  }

  @Test
  void reportsTheUsableSpaceOfTheWorkDirsFileStore() throws Exception {
    long free = Long.parseLong(operation.execute(new FakeContext()).details().get("freeDiskBytes"));
    long total = Files.getFileStore(workDir).getTotalSpace();
    assertTrue(free > 0 && free <= total, free + " of " + total);
  }

  @Test
  void aWorkDirThatCannotBeReadFailsWithAReason() {
    Path missing = workDir.resolve("does-not-exist");
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> operation.execute(new FakeContext(JobParameters.empty(), false, missing)));
    assertEquals(DeviceReason.OPERATION_FAILED, e.reason());
    assertFalse(e.rejected());
    assertTrue(e.getMessage().contains("does-not-exist"), e.getMessage());
  }

  @Test
  void listsInstalledOperationsSortedByType() throws Exception {
    operation.addOperation(3, List.of("firmware-update"), "org.gantry.op.firmware", "0.1.0");
    operation.addOperation(1, List.of("diagnostics"), "org.gantry.op.diagnostics", "0.1.0.2026");
    operation.addOperation(7, List.of("acme.valve"), "com.acme.valve", "2.0.0");
    assertEquals(
        "acme.valve=com.acme.valve@2.0.0, diagnostics=org.gantry.op.diagnostics@0.1.0.2026,"
            + " firmware-update=org.gantry.op.firmware@0.1.0",
        operation.execute(new FakeContext()).details().get("operations"));
  }

  @Test
  void anOperationThatGoesAwayIsNoLongerListed() throws Exception {
    operation.addOperation(3, List.of("firmware-update"), "org.gantry.op.firmware", "0.1.0");
    operation.addOperation(1, List.of("diagnostics"), "org.gantry.op.diagnostics", "0.1.0");
    operation.removeOperation(3);
    assertEquals(
        "diagnostics=org.gantry.op.diagnostics@0.1.0",
        operation.execute(new FakeContext()).details().get("operations"));
    operation.removeOperation(1);
    assertEquals("", operation.execute(new FakeContext()).details().get("operations"));
  }

  @Test
  void bindReadsTypesAndBundleFromTheServiceReference() {
    Bundle firmware = bundle("org.gantry.op.firmware", "0.2.0.x");
    operation.bindOperation(reference(11L, new String[] {"firmware-update", "firmware"}, firmware));
    operation.bindOperation(
        reference(12L, List.of("reboot"), bundle("org.gantry.op.reboot", "1.0.0")));
    // A reference whose service was unregistered meanwhile has no bundle: nothing to list.
    operation.bindOperation(reference(13L, "ghost", null));
    // A JobOperation without a type is not dispatchable and is not listed.
    operation.bindOperation(reference(14L, null, firmware));
    assertEquals(
        "firmware=org.gantry.op.firmware@0.2.0.x, firmware-update=org.gantry.op.firmware@0.2.0.x,"
            + " reboot=org.gantry.op.reboot@1.0.0",
        operation.installedOperations());

    operation.unbindOperation(reference(11L, "firmware-update", firmware));
    assertEquals("reboot=org.gantry.op.reboot@1.0.0", operation.installedOperations());
  }

  @Test
  void anUpdatedTypePropertyReplacesTheOldEntry() {
    Bundle b = bundle("com.acme.valve", "1.0.0");
    operation.bindOperation(reference(5L, "valve", b));
    operation.updatedOperation(reference(5L, "acme.valve", b));
    assertEquals("acme.valve=com.acme.valve@1.0.0", operation.installedOperations());
  }

  @Test
  void gantryVersionComesFromTheFrameworkPropertyElseTheBundle() {
    Bundle b = bundle("org.gantry.op.diagnostics", "0.1.0.202611261640");
    assertEquals(
        "1.4.0",
        DiagnosticsOperation.gantryVersion(bundleContext(b, Map.of("gantry.version", "1.4.0"))));
    assertEquals(
        "0.1.0.202611261640", DiagnosticsOperation.gantryVersion(bundleContext(b, Map.of())));
    assertEquals(
        "0.1.0.202611261640",
        DiagnosticsOperation.gantryVersion(bundleContext(b, Map.of("gantry.version", "  "))));
  }

  @Test
  void anUnknownParameterIsRejectedByName() {
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> operation.validate(JobParameters.of(Map.of("verbos", true))));
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason());
    assertTrue(e.rejected(), "a typo must be REJECTED, not retried");
    assertTrue(e.getMessage().contains("'verbos'"), e.getMessage());
  }

  @Test
  void executeAlsoRefusesUnknownParameters() {
    OperationException e =
        assertThrows(
            OperationException.class,
            () ->
                operation.execute(
                    new FakeContext(JobParameters.of(Map.of("depth", 2)), false, workDir)));
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason());
    assertTrue(e.getMessage().contains("'depth'"), e.getMessage());
  }

  @Test
  void noParametersAreValid() throws Exception {
    operation.validate(JobParameters.empty());
  }

  @Test
  void aCancelledExecutionFailsWithoutReporting() throws Exception {
    OperationResult result =
        operation.execute(new FakeContext(JobParameters.empty(), true, workDir));
    assertEquals(OperationResult.Status.FAILED, result.status());
    assertEquals(DeviceReason.OPERATION_FAILED, result.reason().orElseThrow());
    assertEquals("cancelled", result.message().orElseThrow());
    assertEquals(Map.of(), result.details());
  }

  @Test
  void logLinesCarryTheJobAndThingAndTheCallersMdcIsRestored() throws Exception {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler handler =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            // JUL calls handlers on the logging thread, so the MDC is the one of the log call.
            seen.add(
                r.getMessage() + " jobId=" + MDC.get("jobId") + " thing=" + MDC.get("thingName"));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger jul =
        java.util.logging.Logger.getLogger(DiagnosticsOperation.class.getName());
    jul.addHandler(handler);
    MDC.put("jobId", "outer-job");
    try {
      operation.execute(new FakeContext());
      assertEquals("outer-job", MDC.get("jobId"));
      assertEquals(null, MDC.get("thingName"));
    } finally {
      MDC.remove("jobId");
      jul.removeHandler(handler);
    }
    assertEquals(1, seen.size(), seen.toString());
    assertTrue(seen.get(0).startsWith("Diagnostics reported"), seen.get(0));
    assertTrue(seen.get(0).endsWith(" jobId=job-1 thing=gw-1"), seen.get(0));
  }

  @Test
  void theComponentServesTheDiagnosticsType() {
    assertEquals("diagnostics", DiagnosticsOperation.OPERATION_TYPE);
    assertEquals("gantry.operation", JobOperation.TYPE);
  }

  // ---- minimal OSGi stand-ins for the glue methods, built as proxies of the real interfaces ----

  private static Bundle bundle(String symbolicName, String version) {
    return proxy(
        Bundle.class,
        (method, args) ->
            switch (method) {
              case "getSymbolicName" -> symbolicName;
              case "getVersion" -> Version.parseVersion(version);
              default -> throw new UnsupportedOperationException(method);
            });
  }

  @SuppressWarnings("unchecked")
  private static ServiceReference<JobOperation> reference(long id, Object type, Bundle bundle) {
    Map<String, Object> props = new HashMap<>();
    props.put(Constants.SERVICE_ID, id);
    if (type != null) {
      props.put(JobOperation.TYPE, type);
    }
    return proxy(
        ServiceReference.class,
        (method, args) ->
            switch (method) {
              case "getProperty" -> props.get((String) args[0]);
              case "getBundle" -> bundle;
              default -> throw new UnsupportedOperationException(method);
            });
  }

  private static BundleContext bundleContext(Bundle bundle, Map<String, String> properties) {
    return proxy(
        BundleContext.class,
        (method, args) ->
            switch (method) {
              case "getProperty" -> properties.get((String) args[0]);
              case "getBundle" -> bundle;
              default -> throw new UnsupportedOperationException(method);
            });
  }

  private interface Answer {
    Object answer(String method, Object[] args);
  }

  private static <T> T proxy(Class<T> type, Answer answer) {
    return type.cast(
        Proxy.newProxyInstance(
            DiagnosticsOperationTest.class.getClassLoader(),
            new Class<?>[] {type},
            (p, m, args) -> answer.answer(m.getName(), args)));
  }
}
