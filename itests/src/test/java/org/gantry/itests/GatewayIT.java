package org.gantry.itests;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Hashtable;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.inject.Inject;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.itests.support.GatewayConfig;
import org.gantry.itests.support.GatewayFramework;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Execution;
import org.gantry.itests.support.TestJobsService.Request;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.UpdateRequest;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The gateway role (features gantry-gateway and gantry-op-diagnostics) inside Felix, against a real
 * MQTT broker and the test jobs service: what an operator sees of a job, end to end.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class GatewayIT {

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  @Rule public final TestName name = new TestName();

  private TestJobsService jobs;
  private String thing;

  @Configuration
  public Option[] configuration() {
    return GatewayFramework.options(List.of("gantry-gateway", "gantry-op-diagnostics"), List.of());
  }

  @Before
  public void startGateway() throws Exception {
    jobs = TestJobsService.start(GatewayConfig.brokerUrl());
    // A thing of its own per test: nothing one test leaves behind reaches another.
    thing = "GatewayIT-" + name.getMethodName();
    GatewayConfig.configure(configAdmin, thing);
    // The engine describes $next once it has subscribed: from then on notify-next reaches it.
    jobs.awaitRequest(
        "describe $next from " + thing,
        r -> thing.equals(r.thingName()) && r.isDescribe("$next"),
        patience());
  }

  @After
  public void stopJobsService() {
    if (jobs != null) {
      jobs.close();
    }
  }

  @Test
  public void diagnosticsJobSucceedsWithItsFacts() throws Exception {
    jobs.queue(thing, "diag-1", "{\"operation\":\"diagnostics\"}");

    Execution done = jobs.awaitStatus(thing, "diag-1", ExecutionStatus.SUCCEEDED, patience());

    Map<String, String> facts = done.statusDetails();
    assertEquals(context.getProperty("gantry.version"), facts.get("gantryVersion"));
    assertTrue(facts.toString(), Long.parseLong(facts.get("uptimeSeconds")) >= 0);
    assertTrue(facts.toString(), Long.parseLong(facts.get("freeDiskBytes")) > 0);
    assertTrue(
        facts.toString(),
        facts.get("operations").contains("diagnostics=org.gantry.op.diagnostics@"));
    assertEquals(
        List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        done.history());
  }

  @Test
  public void jobForMissingOperationIsRejectedWithoutStarting() throws Exception {
    jobs.queue(thing, "missing-1", "{\"operation\":\"no-such-operation\"}");

    Execution done = jobs.awaitStatus(thing, "missing-1", ExecutionStatus.REJECTED, patience());

    Map<String, String> details = done.statusDetails();
    assertEquals(details.toString(), "OPERATION_NOT_INSTALLED", details.get("reasonCode"));
    assertEquals(details.toString(), "DOCUMENT", details.get("reasonCategory"));
    String reason = details.get("reason");
    assertNotNull(details.toString(), reason);
    assertTrue(reason, reason.contains("no-such-operation") && reason.endsWith("."));
    assertEquals(List.of(ExecutionStatus.QUEUED, ExecutionStatus.REJECTED), done.history());
    assertFalse(
        jobs.requestLog(thing),
        jobs.requests().stream()
            .anyMatch(r -> r.isUpdate("missing-1", ExecutionStatus.IN_PROGRESS, "")));
  }

  @Test
  public void staleExpectedVersionIsReconciledWithDescribe() throws Exception {
    // Armed before the job exists: right after IN_PROGRESS is accepted, "someone else" changes the
    // execution, so the gateway's SUCCEEDED carries a stale expectedVersion.
    jobs.bumpVersionAfter(thing, "stale-1", ExecutionStatus.IN_PROGRESS);
    jobs.queue(thing, "stale-1", "{\"operation\":\"diagnostics\"}");

    Execution done = jobs.awaitStatus(thing, "stale-1", ExecutionStatus.SUCCEEDED, patience());

    List<Request> log = jobs.requests();
    int mismatch = indexOf(log, 0, r -> r.isUpdate("stale-1", null, "rejected:VersionMismatch"));
    int describe = indexOf(log, mismatch + 1, r -> r.isDescribe("stale-1"));
    int succeeded =
        indexOf(
            log, describe + 1, r -> r.isUpdate("stale-1", ExecutionStatus.SUCCEEDED, "accepted"));
    String why = jobs.requestLog(thing);
    assertTrue("no VersionMismatch:\n" + why, mismatch >= 0);
    assertTrue("no {jobId}/get after the VersionMismatch:\n" + why, describe > mismatch);
    assertTrue("no accepted SUCCEEDED after the describe:\n" + why, succeeded > describe);
    UpdateRequest stale = (UpdateRequest) log.get(mismatch).request();
    UpdateRequest fresh = (UpdateRequest) log.get(succeeded).request();
    assertEquals(Long.valueOf(2), stale.expectedVersion());
    assertEquals(Long.valueOf(3), fresh.expectedVersion());
    // 1 queued, 2 IN_PROGRESS, 3 the bump, 4 SUCCEEDED: no update was applied twice.
    assertEquals(4, done.versionNumber());
    assertEquals(
        List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        done.history());
  }

  @Test
  public void largestDocumentTravelsIntact() throws Exception {
    // diagnostics refuses parameters, so an operation of the test's own takes the 32 KB document:
    // it sees the parameter exactly as queued and reports a digest of it.
    String escaped = "esc:\\\"\\\\\\/\\n\\t\\u00e9";
    String decoded = "esc:\"\\/\n\té";
    String prefix = "{\"operation\":\"itest-echo\",\"payload\":\"";
    String suffix = "\"}";
    StringBuilder text = new StringBuilder(escaped);
    StringBuilder value = new StringBuilder(decoded);
    String unicode = "Gantry-\u00fcn\u00efc\u00f8d\u00e9-\u65e5\u672c-\ud83d\ude80-";
    int room = 32_768 - prefix.length() - suffix.length();
    while (text.length() + unicode.length() <= room) {
      text.append(unicode);
      value.append(unicode);
    }
    while (text.length() < room) {
      text.append('x');
      value.append('x');
    }
    String document = prefix + text + suffix;
    assertEquals(32_768, document.length());

    List<Object> seen = new CopyOnWriteArrayList<>();
    JobOperation echo =
        new JobOperation() {
          @Override
          public OperationResult execute(OperationContext ctx) {
            Object payload = ctx.parameters().asMap().get("payload");
            seen.add(payload);
            String s = String.valueOf(payload);
            return OperationResult.succeeded(
                Map.of("payloadChars", Integer.toString(s.length()), "payloadSha256", sha256(s)));
          }
        };
    Hashtable<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-echo");
    ServiceRegistration<JobOperation> registration =
        context.registerService(JobOperation.class, echo, props);
    try {
      jobs.queue(thing, "large-1", document);

      Execution done = jobs.awaitStatus(thing, "large-1", ExecutionStatus.SUCCEEDED, patience());

      assertEquals(List.of(value.toString()), seen);
      assertEquals(Integer.toString(value.length()), done.statusDetails().get("payloadChars"));
      assertEquals(sha256(value.toString()), done.statusDetails().get("payloadSha256"));
    } finally {
      registration.unregister();
    }
  }

  @Test
  public void malformedDocumentIsRejected() throws Exception {
    // On the wire a job document is a JSON value (AWS refuses a CreateJob whose document is not
    // JSON), so text that is no JSON object reaches a gateway as a JSON string or array.
    jobs.queue(thing, "malformed-1", "\"{operation: diagnostics\"");
    jobs.queue(thing, "malformed-2", "[{\"operation\":\"diagnostics\"}]");

    for (String job : List.of("malformed-1", "malformed-2")) {
      Execution done = jobs.awaitStatus(thing, job, ExecutionStatus.REJECTED, patience());
      Map<String, String> details = done.statusDetails();
      assertEquals(details.toString(), "MALFORMED_JSON", details.get("reasonCode"));
      assertTrue(details.toString(), details.getOrDefault("reason", "").length() > 10);
      assertEquals(List.of(ExecutionStatus.QUEUED, ExecutionStatus.REJECTED), done.history());
    }
  }

  @Test
  public void jobCanceledByTheServiceCancelsItsOperation() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    JobOperation waiting =
        new JobOperation() {
          @Override
          public OperationResult execute(OperationContext ctx) throws OperationException {
            ctx.onCancel(cancelled::countDown);
            running.countDown();
            try {
              // Bounded: a gateway that never cancels fails the test instead of hanging it.
              cancelled.await(patience().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return OperationResult.failed(
                DeviceReason.OPERATION_FAILED, "stopped waiting", Map.of());
          }
        };
    Hashtable<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-wait");
    ServiceRegistration<JobOperation> registration =
        context.registerService(JobOperation.class, waiting, props);
    try {
      jobs.queue(thing, "cancel-1", "{\"operation\":\"itest-wait\"}");
      assertTrue(
          "the operation did not start",
          running.await(patience().toMillis(), TimeUnit.MILLISECONDS));

      jobs.cancel(thing, "cancel-1");

      assertTrue(
          "the gateway did not cancel the operation:\n" + jobs.requestLog(thing),
          cancelled.await(patience().toMillis(), TimeUnit.MILLISECONDS));
      // The gateway goes on with the next job, and never reports the canceled one.
      jobs.queue(thing, "after-cancel", "{\"operation\":\"diagnostics\"}");
      jobs.awaitStatus(thing, "after-cancel", ExecutionStatus.SUCCEEDED, patience());
      Execution canceled = jobs.execution(thing, "cancel-1").orElseThrow();
      assertEquals(
          List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.CANCELED),
          canceled.history());
      assertFalse(
          jobs.requestLog(thing),
          jobs.requests().stream()
              .anyMatch(
                  r ->
                      r.isUpdate("cancel-1", null, "")
                          && ((UpdateRequest) r.request()).status().isTerminal()));
    } finally {
      registration.unregister();
    }
  }

  /** The index of the first request at or after {@code from} that matches; -1 when none. */
  private static int indexOf(List<Request> log, int from, Predicate<Request> p) {
    for (int i = Math.max(0, from); i < log.size(); i++) {
      if (p.test(log.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Java 17 has SHA-256", e);
    }
  }
}
