package org.gantry.itests.hub;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationResult;
import org.gantry.itests.hub.RawDevice.Message;
import org.gantry.itests.support.GatewayConfig;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionSummary;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Notify;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.StartNextRequest;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
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
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The hub role and a real gateway in one Felix framework (features gantry-hub, gantry-gateway and
 * gantry-op-diagnostics): the hub's embedded broker and management API on free ports of 127.0.0.1,
 * the hub connected to that broker, and the gateway's transport and engine serving a thing through
 * it. Jobs are created and followed through the management API, as an operator would; the device
 * API is also driven by hand with a bare MQTT client for a second thing.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HubIT {

  /** Thing names get it: the engine's data folders under target/ outlive a run. */
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

  private static final String DIAGNOSTICS = "{\"operation\":\"diagnostics\"}";
  private static final Duration ANSWER = Duration.ofSeconds(10);

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  @Rule public final TestName name = new TestName();

  private HubSetup hub;
  private HubApi api;
  private String thing;
  private String thingArn;

  @Configuration
  public Option[] configuration() {
    return HubFramework.options(List.of("gantry-hub", "gantry-gateway", "gantry-op-diagnostics"));
  }

  @Before
  public void startHubAndGateway() throws Exception {
    hub = new HubSetup(context);
    hub.configureOnce(configAdmin);
    api = new HubApi(hub.apiBase());
    api.awaitUp(patience());
    // A thing of its own per test, registered as an operator would before targeting it.
    thing = "HubIT-" + name.getMethodName() + "-" + RUN;
    thingArn = api.createThing(thing).get("thingArn").getAsString();
    assertTrue(
        thingArn, thingArn.startsWith("arn:aws:iot:") && thingArn.endsWith(":thing/" + thing));
    // The gateway on the hub's broker. No wait is needed: a job created before the engine has
    // subscribed is found by its first describe of $next, one created after by notify-next.
    GatewayConfig.configure(configAdmin, thing);
  }

  @Test
  public void diagnosticsJobSucceedsWithTheFactsInTheHub() throws Exception {
    JsonObject created = api.createJob("diag-1", List.of(thingArn), DIAGNOSTICS);
    assertEquals("diag-1", created.get("jobId").getAsString());

    JsonObject done = api.awaitExecution(thing, "diag-1", "SUCCEEDED", patience());

    Map<String, String> facts = HubApi.details(done);
    assertEquals(
        facts.toString(), context.getProperty("gantry.version"), facts.get("gantryVersion"));
    assertTrue(facts.toString(), Long.parseLong(facts.get("uptimeSeconds")) >= 0);
    assertTrue(facts.toString(), Long.parseLong(facts.get("freeDiskBytes")) > 0);
    assertTrue(
        facts.toString(),
        facts.get("operations").contains("diagnostics=org.gantry.op.diagnostics@"));
    assertEquals(thingArn, done.get("thingArn").getAsString());
    assertTrue("a SUCCEEDED execution was started: " + done, done.has("startedAt"));

    JsonObject job = api.describeJob("diag-1");
    assertEquals(job.toString(), "COMPLETED", job.get("status").getAsString());
    assertTrue(job.toString(), job.has("completedAt"));
    JsonObject counts = job.getAsJsonObject("jobProcessDetails");
    assertEquals(counts.toString(), 1, counts.get("numberOfSucceededThings").getAsInt());
    assertEquals(counts.toString(), 0, counts.get("numberOfInProgressThings").getAsInt());
    assertEquals(counts.toString(), 0, counts.get("numberOfQueuedThings").getAsInt());

    JsonArray executions = api.listJobExecutionsForJob("diag-1");
    assertEquals(executions.toString(), 1, executions.size());
    JsonObject only = executions.get(0).getAsJsonObject();
    assertEquals(thingArn, only.get("thingArn").getAsString());
    assertEquals(
        "SUCCEEDED", only.getAsJsonObject("jobExecutionSummary").get("status").getAsString());
  }

  @Test
  public void jobForMissingOperationIsRejectedWithoutStarting() throws Exception {
    api.createJob("missing-1", List.of(thingArn), "{\"operation\":\"no-such-operation\"}");

    JsonObject done = api.awaitExecution(thing, "missing-1", "REJECTED", patience());

    Map<String, String> details = HubApi.details(done);
    assertEquals(details.toString(), "OPERATION_NOT_INSTALLED", details.get("reasonCode"));
    assertEquals(details.toString(), "DOCUMENT", details.get("reasonCategory"));
    String reason = details.get("reason");
    assertNotNull(details.toString(), reason);
    assertTrue(reason, reason.contains("no-such-operation") && reason.endsWith("."));
    // Straight from QUEUED (version 1) to REJECTED (version 2): never IN_PROGRESS.
    assertFalse("a rejected job was started: " + done, done.has("startedAt"));
    assertEquals(done.toString(), 2, done.get("versionNumber").getAsLong());

    JsonObject job = api.describeJob("missing-1");
    assertEquals(job.toString(), "COMPLETED", job.get("status").getAsString());
    assertEquals(
        job.toString(),
        1,
        job.getAsJsonObject("jobProcessDetails").get("numberOfRejectedThings").getAsInt());
  }

  @Test
  public void deviceApiAnswersAsTheProtocolSays() throws Exception {
    // A second thing, served by no gateway: this test is its device.
    String device = "HubIT-raw-" + RUN;
    JobsTopics t = new JobsTopics(device);
    String arn = api.createThing(device).get("thingArn").getAsString();
    String doc1 = "{\"operation\":\"raw-op\",\"n\":1}";
    String doc2 = "{\"operation\":\"raw-op\",\"n\":2}";

    try (RawDevice d = RawDevice.connect(hub.brokerUrl(), device, t.deviceSubscriptions())) {
      GetPendingAccepted empty = d.awaitService(device, patience());
      assertEquals(List.of(), empty.inProgressJobs());
      assertEquals(List.of(), empty.queuedJobs());
      assertEquals(
          ErrorCode.RESOURCE_NOT_FOUND,
          d.rejected(t.describe(JobsTopics.NEXT), new DescribeRequest(null, true, "n0")).code());

      // notify-next and notify when a job is queued; only notify when one queues behind it
      api.createJob("raw-1", List.of(arn), doc1);
      NotifyNext next = d.await(t.notifyNext(), NotifyNext.class, ANSWER);
      assertEquals("raw-1", next.execution().jobId());
      assertEquals(ExecutionStatus.QUEUED, next.execution().status());
      assertEquals(1, next.execution().versionNumber());
      assertSameJson(doc1, next.execution().jobDocument());
      Notify notify = d.await(t.notifyTopic(), Notify.class, ANSWER);
      assertEquals(List.of("raw-1"), ids(notify.jobs().get(ExecutionStatus.QUEUED)));
      api.createJob("raw-2", List.of(arn), doc2);
      notify = d.await(t.notifyTopic(), Notify.class, ANSWER);
      assertEquals(List.of("raw-1", "raw-2"), ids(notify.jobs().get(ExecutionStatus.QUEUED)));

      // get
      GetPendingAccepted pending =
          d.accepted(t.getPending(), new GetPendingRequest("g1"), GetPendingAccepted.class);
      assertEquals("g1", pending.clientToken());
      assertEquals(List.of(), pending.inProgressJobs());
      assertEquals(List.of("raw-1", "raw-2"), ids(pending.queuedJobs()));
      assertEquals(1, pending.queuedJobs().get(0).versionNumber());
      assertEquals(1, pending.queuedJobs().get(0).executionNumber());

      // $next/get with the document, {jobId}/get without
      JobExecution head =
          d.accepted(
                  t.describe(JobsTopics.NEXT),
                  new DescribeRequest(null, true, "n1"),
                  DescribeAccepted.class)
              .execution();
      assertEquals("raw-1", head.jobId());
      assertEquals(device, head.thingName());
      assertEquals(ExecutionStatus.QUEUED, head.status());
      assertSameJson(doc1, head.jobDocument());
      DescribeAccepted second =
          d.accepted(
              t.describe("raw-2"), new DescribeRequest(1L, false, "d1"), DescribeAccepted.class);
      assertEquals("d1", second.clientToken());
      assertEquals("raw-2", second.execution().jobId());
      assertEquals(ExecutionStatus.QUEUED, second.execution().status());
      assertNull(second.execution().jobDocument());

      // start-next puts the head IN_PROGRESS
      StartNextAccepted started =
          d.accepted(
              t.startNext(),
              new StartNextRequest(Map.of("step", "starting"), 5L, "s1"),
              StartNextAccepted.class);
      assertEquals("s1", started.clientToken());
      assertEquals("raw-1", started.execution().jobId());
      assertEquals(ExecutionStatus.IN_PROGRESS, started.execution().status());
      assertEquals(2, started.execution().versionNumber());
      assertEquals(Map.of("step", "starting"), started.execution().statusDetails());
      assertNotNull(started.execution().startedAt());
      assertSameJson(doc1, started.execution().jobDocument());
      pending = d.accepted(t.getPending(), new GetPendingRequest("g2"), GetPendingAccepted.class);
      assertEquals(List.of("raw-1"), ids(pending.inProgressJobs()));
      assertEquals(List.of("raw-2"), ids(pending.queuedJobs()));

      // a stale expectedVersion: VersionMismatch with the execution's state
      Rejected stale =
          d.rejected(
              t.update("raw-1"),
              new UpdateRequest(
                  ExecutionStatus.SUCCEEDED,
                  Map.of("result", "ok"),
                  1L,
                  null,
                  true,
                  null,
                  null,
                  "u1"));
      assertEquals(ErrorCode.VERSION_MISMATCH, stale.code());
      assertEquals("u1", stale.clientToken());
      assertNotNull(stale.executionState());
      assertEquals(ExecutionStatus.IN_PROGRESS, stale.executionState().status());
      assertEquals(2, stale.executionState().versionNumber());
      assertEquals(Map.of("step", "starting"), stale.executionState().statusDetails());

      // the current version is accepted; the queue head moves on
      UpdateAccepted succeeded =
          d.accepted(
              t.update("raw-1"),
              new UpdateRequest(
                  ExecutionStatus.SUCCEEDED,
                  Map.of("result", "ok"),
                  2L,
                  1L,
                  true,
                  true,
                  null,
                  "u2"),
              UpdateAccepted.class);
      assertEquals("u2", succeeded.clientToken());
      assertEquals(ExecutionStatus.SUCCEEDED, succeeded.executionState().status());
      assertEquals(3, succeeded.executionState().versionNumber());
      assertSameJson(doc1, succeeded.jobDocument());
      next = d.await(t.notifyNext(), NotifyNext.class, ANSWER);
      assertEquals("raw-2", next.execution().jobId());

      // an update to a terminal execution: InvalidStateTransition showing the terminal state
      Rejected late =
          d.rejected(
              t.update("raw-1"),
              new UpdateRequest(ExecutionStatus.FAILED, null, 3L, null, null, null, null, "u3"));
      assertEquals(ErrorCode.INVALID_STATE_TRANSITION, late.code());
      assertEquals("u3", late.clientToken());
      assertNotNull(late.executionState());
      assertEquals(ExecutionStatus.SUCCEEDED, late.executionState().status());
      assertEquals(3, late.executionState().versionNumber());

      // a describe of a terminal execution: TerminalStateReached
      Rejected over = d.rejected(t.describe("raw-1"), new DescribeRequest(null, null, "d2"));
      assertEquals(ErrorCode.TERMINAL_STATE_REACHED, over.code());
      assertEquals("d2", over.clientToken());

      // a job id that breaks the limits: InvalidRequest, on the topic the request used
      String bad = "$aws/things/" + device + "/jobs/bad.id/update";
      Rejected invalid =
          d.rejected(
              bad,
              "{\"status\":\"SUCCEEDED\",\"clientToken\":\"b1\"}".getBytes(StandardCharsets.UTF_8));
      assertEquals(ErrorCode.INVALID_REQUEST, invalid.code());
      assertEquals("b1", invalid.clientToken());
      assertNull(invalid.executionState());

      // the device rejects the second job straight from QUEUED; the queue is then empty
      UpdateAccepted rejected =
          d.accepted(
              t.update("raw-2"),
              new UpdateRequest(
                  ExecutionStatus.REJECTED,
                  Map.of("reasonCode", "RAW_TEST"),
                  1L,
                  null,
                  true,
                  null,
                  null,
                  "u4"),
              UpdateAccepted.class);
      assertEquals(2, rejected.executionState().versionNumber());
      next = d.await(t.notifyNext(), NotifyNext.class, ANSWER);
      assertNull("notify-next of an empty queue names no job", next.execution());
      assertNull(
          d.accepted(t.startNext(), new StartNextRequest(null, null, "s2"), StartNextAccepted.class)
              .execution());
    }

    // The management API sees what the device did.
    HubApi.Answer a = api.describeJobExecution(device, "raw-1");
    assertEquals(a.toString(), 200, a.status());
    JsonObject raw1 = a.body().getAsJsonObject("execution");
    assertEquals("SUCCEEDED", raw1.get("status").getAsString());
    assertEquals(Map.of("result", "ok"), HubApi.details(raw1));
    assertEquals(3, raw1.get("versionNumber").getAsLong());
    assertEquals("COMPLETED", api.describeJob("raw-1").get("status").getAsString());
    JsonArray raw2 = api.listJobExecutionsForJob("raw-2");
    assertEquals(raw2.toString(), 1, raw2.size());
    assertEquals(
        "REJECTED",
        raw2.get(0)
            .getAsJsonObject()
            .getAsJsonObject("jobExecutionSummary")
            .get("status")
            .getAsString());
  }

  @Test
  public void hubRestartInTheMiddleOfAJobLosesNothing() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JobOperation blocking =
        new JobOperation() {
          @Override
          public OperationResult execute(OperationContext ctx) {
            running.countDown();
            try {
              // Bounded: a test that never releases fails instead of hanging.
              if (release.await(patience().toMillis(), TimeUnit.MILLISECONDS)) {
                return OperationResult.succeeded(Map.of("released", "yes"));
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return OperationResult.failed(
                DeviceReason.OPERATION_FAILED, "the test never released the operation", Map.of());
          }
        };
    Hashtable<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-block");
    ServiceRegistration<JobOperation> registration =
        context.registerService(JobOperation.class, blocking, props);
    JobsTopics topics = new JobsTopics(thing);
    // Sees what the gateway publishes while the hub is away.
    try (RawDevice spy =
        RawDevice.connect(hub.brokerUrl(), "itest-spy-" + RUN, List.of(topics.update("block-1")))) {
      api.createJob("block-1", List.of(thingArn), "{\"operation\":\"itest-block\"}");
      api.createJob("after-block", List.of(thingArn), DIAGNOSTICS);
      assertTrue(
          "the operation did not start",
          running.await(patience().toMillis(), TimeUnit.MILLISECONDS));
      JsonObject inProgress = api.awaitExecution(thing, "block-1", "IN_PROGRESS", ANSWER);
      assertEquals(inProgress.toString(), 2, inProgress.get("versionNumber").getAsLong());
      assertEquals(
          "QUEUED",
          api.describeJobExecution(thing, "after-block")
              .body()
              .getAsJsonObject("execution")
              .get("status")
              .getAsString());

      Bundle hubBundle = hub.hubBundle();
      hubBundle.stop();
      assertEquals(Bundle.RESOLVED, hubBundle.getState());
      assertThrows(
          "the hub's API still answers after its bundle stopped",
          IOException.class,
          () -> api.describeJobExecution(thing, "block-1"));

      // The operation ends while the hub is away: the gateway's SUCCEEDED waits at the broker in
      // the hub's persistent session.
      release.countDown();
      Message sent =
          spy.await(
              "the gateway's SUCCEEDED for block-1 while the hub is stopped",
              m -> isUpdateTo(spy, m, ExecutionStatus.SUCCEEDED),
              patience());
      assertEquals(Long.valueOf(2), spy.decode(sent, UpdateRequest.class).expectedVersion());

      hubBundle.start();
      assertEquals(Bundle.ACTIVE, hubBundle.getState());
      api.awaitUp(patience());

      JsonObject done = api.awaitExecution(thing, "block-1", "SUCCEEDED", patience());
      assertEquals(done.toString(), "yes", HubApi.details(done).get("released"));
      // 1 queued, 2 IN_PROGRESS, 3 SUCCEEDED: the update was applied once, however often sent.
      assertEquals(done.toString(), 3, done.get("versionNumber").getAsLong());
      assertEquals("COMPLETED", api.describeJob("block-1").get("status").getAsString());
      // The job that was queued behind it was kept too, and runs.
      JsonObject after = api.awaitExecution(thing, "after-block", "SUCCEEDED", patience());
      assertTrue(
          after.toString(),
          HubApi.details(after).getOrDefault("operations", "").contains("diagnostics="));
      assertEquals("COMPLETED", api.describeJob("after-block").get("status").getAsString());
    } finally {
      release.countDown();
      registration.unregister();
      Bundle b = hub.hubBundle();
      if (b.getState() != Bundle.ACTIVE) {
        b.start(); // the other tests of this framework need the hub
      }
    }
  }

  private static boolean isUpdateTo(RawDevice spy, Message m, ExecutionStatus status) {
    try {
      return spy.decode(m, UpdateRequest.class).status() == status;
    } catch (Exception e) {
      return false;
    }
  }

  private static List<String> ids(List<JobExecutionSummary> summaries) {
    assertNotNull("no list of executions", summaries);
    return summaries.stream().map(JobExecutionSummary::jobId).toList();
  }

  private static void assertSameJson(String expected, String actual) {
    assertNotNull("no job document", actual);
    assertEquals(JsonParser.parseString(expected), JsonParser.parseString(actual));
  }
}
