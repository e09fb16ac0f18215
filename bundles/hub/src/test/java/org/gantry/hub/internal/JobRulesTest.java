package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control-plane concepts on simulated time: the hub core driven directly, its clock moved by
 * the test (a minute of hub behaviour per simulated minute, without waiting for it).
 */
class JobRulesTest {
  private static final String DOC = "{\"operation\":\"diagnostics\"}";
  private static final long MINUTE = Fixture.MINUTE;

  @TempDir Path dir;
  private Fixture f;

  @BeforeEach
  void hub() throws Exception {
    f = new Fixture(dir);
  }

  // ------------------------------------------------------------------ rollouts

  @Test
  void aStaticRateDeliversMaximumPerMinuteInEachMinuteAndHoldsTheRestBack() throws Exception {
    List<Outbound> out = f.createJob("j1", job(things(25), "", rollout("\"maximumPerMinute\":10")));
    assertEquals(1, released("j1"), "the first execution goes at once");
    assertEquals(1, notifyNexts(out).size());
    // A thing whose execution waits for the rollout sees nothing of it.
    String waiting = "t25";
    f.rejected(
        f.send(topic(waiting, "$next/get"), "{}"),
        topic(waiting, "$next/get"),
        ErrorCode.RESOURCE_NOT_FOUND);
    f.rejected(
        f.send(topic(waiting, "j1/update"), "{\"status\":\"SUCCEEDED\"}"),
        topic(waiting, "j1/update"),
        ErrorCode.RESOURCE_NOT_FOUND);

    List<Integer> perMinute = new ArrayList<>();
    int minute = 1; // t=0 delivered one already
    for (int second = 1; second <= 180; second++) {
      if (second % 60 == 0) {
        perMinute.add(minute);
        minute = 0;
      }
      minute += notifyNexts(f.advance(1_000)).size();
    }
    assertEquals(List.of(10, 10, 5), perMinute);
    assertEquals(25, released("j1"));
  }

  @Test
  void skippedMinutesAreCaughtUpAtTheRateOfEachMinute() throws Exception {
    f.createJob("j1", job(things(25), "", rollout("\"maximumPerMinute\":10")));
    f.advance(MINUTE - 1);
    assertEquals(10, released("j1"));
    f.advance(1);
    assertEquals(11, released("j1"));
    f.advance(MINUTE);
    assertEquals(21, released("j1"));
    f.advance(10 * MINUTE);
    assertEquals(25, released("j1"));
    assertFalse(f.core.state().rollingOut().contains("j1"));
  }

  @Test
  void anExponentialRateGrowsEachTimeAnotherBatchOfThingsWasNotified() throws Exception {
    f.createJob(
        "j1",
        job(
            things(60),
            "",
            rollout(
                "\"maximumPerMinute\":100,\"exponentialRate\":{\"baseRatePerMinute\":2,"
                    + "\"incrementFactor\":2.0,\"rateIncreaseCriteria\":"
                    + "{\"numberOfNotifiedThings\":4}}")));
    List<Integer> released = new ArrayList<>(List.of(released("j1")));
    for (int i = 0; i < 6; i++) {
      f.advance(MINUTE);
      released.add(released("j1"));
    }
    // Rates per minute: 2 (1 and 3 notified), 4 (5), 8 (9), 32 (17: four increases), then the cap.
    assertEquals(List.of(1, 3, 5, 9, 17, 49, 60), released);
  }

  @Test
  void anExponentialRateOnSucceededThingsGrowsOnlyWithSuccesses() throws Exception {
    String exp =
        rollout(
            "\"maximumPerMinute\":50,\"exponentialRate\":{\"baseRatePerMinute\":2,"
                + "\"incrementFactor\":2,\"rateIncreaseCriteria\":"
                + "{\"numberOfSucceededThings\":2}}");
    f.createJob("ok", job(things(40), "", exp));
    f.createJob("idle", job(things("u", 40), "", exp));
    List<Integer> ok = new ArrayList<>();
    List<Integer> idle = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      succeedAllDelivered("ok");
      ok.add(released("ok"));
      idle.add(released("idle"));
      f.advance(MINUTE);
    }
    // ok: 1 succeeded -> 2/min; 3 -> 2*2; 7 -> 2*2^3; idle stays at the base rate.
    assertEquals(List.of(1, 3, 7, 23), ok);
    assertEquals(List.of(1, 3, 5, 7), idle);
  }

  @Test
  void theRateFollowsPROTOCOLsReadingOfTheIncreaseCriteria() throws Exception {
    f.createJob(
        "j1",
        job(
            things(3),
            "",
            rollout(
                "\"maximumPerMinute\":20,\"exponentialRate\":{\"baseRatePerMinute\":3,"
                    + "\"incrementFactor\":1.5,\"rateIncreaseCriteria\":"
                    + "{\"numberOfNotifiedThings\":2}}")));
    HubState s = f.core.state();
    Job j = s.job("j1");
    // 1 notified: no increase yet; 3 -> one (4.5 -> 4); never above the maximum.
    assertEquals(3, Rules.rate(s, j));
    f.advance(MINUTE);
    assertEquals(3, s.counts("j1").notifiedThings);
    assertEquals(4, Rules.rate(s, j));
  }

  @Test
  void rolloutValuesOutsideTheirRangesAreRefusedNamingTheField() throws Exception {
    String[][] bad = {
      {"\"maximumPerMinute\":0", "maximumPerMinute"},
      {"\"maximumPerMinute\":1001", "maximumPerMinute"},
      {
        "\"exponentialRate\":{\"baseRatePerMinute\":5,\"incrementFactor\":1.05,"
            + "\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}",
        "incrementFactor"
      },
      {
        "\"exponentialRate\":{\"baseRatePerMinute\":5,\"incrementFactor\":1.25,"
            + "\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}",
        "incrementFactor"
      },
      {
        "\"exponentialRate\":{\"baseRatePerMinute\":5,\"incrementFactor\":2,"
            + "\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1,"
            + "\"numberOfSucceededThings\":1}}",
        "exactly one"
      },
      {
        "\"maximumPerMinute\":5,\"exponentialRate\":{\"baseRatePerMinute\":6,"
            + "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}",
        "baseRatePerMinute"
      },
    };
    for (String[] b : bad) {
      ApiException e =
          assertThrows(
              ApiException.class, () -> f.createJob("j1", job(things(1), "", rollout(b[0]))));
      assertEquals("InvalidRequestException", e.type());
      assertTrue(e.getMessage().contains(b[1]), e.getMessage());
    }
    assertNull(f.core.state().job("j1"), "nothing was created");
  }

  // ------------------------------------------------------------------ abort

  @Test
  void eachAbortFailureTypeCancelsTheJobAtItsThreshold() throws Exception {
    for (String type : List.of("FAILED", "REJECTED", "TIMED_OUT", "ALL")) {
      f = new Fixture(dir.resolve(type));
      String config =
          ",\"abortConfig\":{\"criteriaList\":[{\"failureType\":\""
              + type
              + "\","
              + "\"action\":\"CANCEL\",\"thresholdPercentage\":50,"
              + "\"minNumberOfExecutedThings\":4}]}";
      f.createJob("j1", job(things(10), config, ""));
      // t10 is running and is not canceled by the abort (no force).
      f.send(topic("t10", "start-next"), "{}");
      for (int i = 1; i <= 5; i++) {
        assertEquals(Job.IN_PROGRESS, f.core.state().job("j1").status, type + " after " + (i - 1));
        fail(
            "t" + i,
            type.equals("ALL") ? List.of("FAILED", "REJECTED", "TIMED_OUT").get(i % 3) : type);
      }
      Job j = f.core.state().job("j1");
      assertEquals(Job.CANCELED, j.status, type);
      assertEquals("ABORT_CRITERIA_MET", j.reasonCode);
      for (int i = 6; i <= 9; i++) {
        assertEquals(
            ExecutionStatus.CANCELED, f.core.state().execution("t" + i, "j1", null).status);
      }
      assertEquals(ExecutionStatus.IN_PROGRESS, f.core.state().execution("t10", "j1", null).status);
      f.store.close();
    }
  }

  @Test
  void anAbortWaitsForTheMinimumOfNotifiedThings() throws Exception {
    String config =
        ",\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
            + "\"thresholdPercentage\":50,\"minNumberOfExecutedThings\":3}]}";
    f.createJob("j1", job(things(10), config, rollout("\"maximumPerMinute\":1")));
    fail("t1", "FAILED");
    assertEquals(Job.IN_PROGRESS, f.core.state().job("j1").status, "1 notified: 100% but < 3");
    f.advance(MINUTE);
    fail("t2", "FAILED");
    assertEquals(Job.IN_PROGRESS, f.core.state().job("j1").status, "2 notified");
    f.advance(MINUTE);
    List<Outbound> out = fail("t3", "FAILED");
    assertEquals(Job.CANCELED, f.core.state().job("j1").status, "3 notified, 100%");
    // The things still waiting for the rollout never saw the job: no notification for them.
    assertEquals(List.of(), notifyNexts(out).stream().filter(t -> !t.contains("/t3/")).toList());
    assertEquals(ExecutionStatus.CANCELED, f.core.state().execution("t9", "j1", null).status);
    f.advance(10 * MINUTE);
    assertEquals(3, released("j1"), "a canceled job delivers nothing more");
  }

  // ------------------------------------------------------------------ timeouts and retries

  @Test
  void anInProgressTimeoutEndsTheExecutionWithTimedOutAndANotification() throws Exception {
    f.createJob(
        "j1", job(List.of("t1"), ",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}", ""));
    f.send(topic("t1", "start-next"), "{}");
    assertEquals(List.of(), f.advance(10 * MINUTE - 1));
    List<Outbound> out = f.advance(1);
    Execution e = f.core.state().execution("t1", "j1", 1L);
    assertEquals(ExecutionStatus.TIMED_OUT, e.status);
    assertEquals(3, e.versionNumber);
    NotifyNext n =
        f.codec.decode(Fixture.only(out, topic("t1", "notify-next")).payload(), NotifyNext.class);
    assertNull(n.execution(), "the queue is empty now");
    Rejected r =
        f.rejected(
            f.send(topic("t1", "j1/update"), "{\"status\":\"SUCCEEDED\"}"),
            topic("t1", "j1/update"),
            ErrorCode.INVALID_STATE_TRANSITION);
    assertEquals(ExecutionStatus.TIMED_OUT, r.executionState().status());
    assertEquals(Job.COMPLETED, f.core.state().job("j1").status);
  }

  @Test
  void eachUpdateWithAStepTimeoutReplacesTheStepTimer() throws Exception {
    f.createJob(
        "j1", job(List.of("t1"), ",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":60}", ""));
    f.send(topic("t1", "start-next"), "{\"stepTimeoutInMinutes\":5}");
    f.advance(4 * MINUTE);
    f.send(topic("t1", "j1/update"), "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":5}");
    f.advance(4 * MINUTE);
    // An update without a step timeout leaves the timer as it is.
    f.send(
        topic("t1", "j1/update"), "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"p\":\"50\"}}");
    f.advance(MINUTE - 1);
    assertEquals(ExecutionStatus.IN_PROGRESS, f.core.state().execution("t1", "j1", 1L).status);
    f.advance(1);
    assertEquals(ExecutionStatus.TIMED_OUT, f.core.state().execution("t1", "j1", 1L).status);
  }

  @Test
  void aStepTimerNeverRunsPastTheInProgressLimit() throws Exception {
    f.createJob(
        "j1", job(List.of("t1"), ",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}", ""));
    f.send(topic("t1", "start-next"), "{\"stepTimeoutInMinutes\":5}");
    f.advance(4 * MINUTE);
    f.send(topic("t1", "j1/update"), "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":30}");
    f.advance(6 * MINUTE - 1);
    assertEquals(ExecutionStatus.IN_PROGRESS, f.core.state().execution("t1", "j1", 1L).status);
    f.advance(1);
    assertEquals(ExecutionStatus.TIMED_OUT, f.core.state().execution("t1", "j1", 1L).status);
  }

  @Test
  void failuresAreRetriedAsNewExecutionNumbersUpToTheLimit() throws Exception {
    String retry =
        ",\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\","
            + "\"numberOfRetries\":2}]}";
    f.createJob("j1", job(List.of("t1"), retry, ""));
    for (long n = 1; n <= 3; n++) {
      List<Outbound> out =
          f.send(topic("t1", "j1/update"), "{\"status\":\"FAILED\",\"executionNumber\":" + n + "}");
      NotifyNext next =
          f.codec.decode(Fixture.only(out, topic("t1", "notify-next")).payload(), NotifyNext.class);
      if (n < 3) {
        assertEquals(n + 1, next.execution().executionNumber(), "retry " + n);
        assertEquals(ExecutionStatus.QUEUED, next.execution().status());
        assertEquals(Job.IN_PROGRESS, f.core.state().job("j1").status);
      } else {
        assertNull(next.execution(), "two retries, no third");
      }
    }
    assertEquals(Job.COMPLETED, f.core.state().job("j1").status);
    assertEquals(3, f.core.state().counts("j1").executions(ExecutionStatus.FAILED));
    assertEquals(1, f.core.state().counts("j1").things(ExecutionStatus.FAILED));
  }

  @Test
  void aTimeoutIsRetriedUnderAllAndARejectionNever() throws Exception {
    String retry =
        ",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":5},\"jobExecutionsRetryConfig\":"
            + "{\"criteriaList\":[{\"failureType\":\"ALL\",\"numberOfRetries\":1}]}";
    f.createJob("j1", job(List.of("t1", "t2"), retry, ""));
    f.send(topic("t1", "start-next"), "{}");
    f.send(topic("t2", "j1/update"), "{\"status\":\"REJECTED\"}");
    f.advance(5 * MINUTE);
    Execution retried = f.core.state().execution("t1", "j1", null);
    assertEquals(2, retried.executionNumber);
    assertEquals(ExecutionStatus.TIMED_OUT, retried.retryOf);
    assertEquals(1, f.core.state().execution("t2", "j1", null).executionNumber);
    StartNextAccepted a =
        f.accepted(
            f.send(topic("t1", "start-next"), "{}"),
            topic("t1", "start-next"),
            StartNextAccepted.class);
    assertEquals(2, a.execution().executionNumber());
  }

  // ------------------------------------------------------------------ groups

  @Test
  void aContinuousJobReachesThingsThatJoinItsGroupLaterNestedGroupsIncluded() throws Exception {
    group("site", null);
    group("line-1", "site");
    thing("t1");
    thing("t2");
    thing("t3");
    addToGroup("line-1", "t1");
    f.createJob("cont", jobOnGroups("site", "\"targetSelection\":\"CONTINUOUS\""));
    f.createJob("snap", jobOnGroups("site", "\"targetSelection\":\"SNAPSHOT\""));
    assertNotNull(f.core.state().execution("t1", "cont", null));

    List<Outbound> out = addToGroup("line-1", "t2");

    NotifyNext n =
        f.codec.decode(Fixture.only(out, topic("t2", "notify-next")).payload(), NotifyNext.class);
    assertEquals("cont", n.execution().jobId());
    assertNull(f.core.state().execution("t2", "snap", null), "a snapshot job keeps its targets");
    // Joining a second group under the same target changes nothing.
    group("line-2", "site");
    assertEquals(List.of(), addToGroup("line-2", "t2"));
    // Leaving the targets removes what has not started.
    out = removeFromGroup("line-1", "t2");
    assertEquals(List.of(), out, "still in site through line-2");
    removeFromGroup("line-2", "t2");
    assertEquals(ExecutionStatus.REMOVED, f.core.state().execution("t2", "cont", null).status);
    assertEquals(Job.IN_PROGRESS, f.core.state().job("cont").status, "continuous jobs go on");
    assertEquals(List.of("t1"), f.core.state().thingsIn("site").stream().toList());
    addToGroup("site", "t3");
    assertEquals(1L, f.core.state().execution("t3", "cont", null).executionNumber);
  }

  @Test
  void aSnapshotJobCompletesOnceAllItsTargetsAreTerminal() throws Exception {
    group("g", null);
    thing("t1");
    thing("t2");
    addToGroup("g", "t1");
    addToGroup("g", "t2");
    f.createJob("j1", jobOnGroups("g", "\"targetSelection\":\"SNAPSHOT\""));
    f.send(topic("t1", "j1/update"), "{\"status\":\"SUCCEEDED\"}");
    JsonObject d = f.control.describeJob("j1").getAsJsonObject("job");
    assertEquals("IN_PROGRESS", d.get("status").getAsString());
    JsonObject counts = d.getAsJsonObject("jobProcessDetails");
    assertEquals(1, counts.get("numberOfSucceededThings").getAsInt());
    assertEquals(1, counts.get("numberOfQueuedThings").getAsInt());
    f.send(topic("t2", "j1/update"), "{\"status\":\"FAILED\"}");
    d = f.control.describeJob("j1").getAsJsonObject("job");
    assertEquals("COMPLETED", d.get("status").getAsString());
    assertEquals(
        "arn:aws:iot:us-east-1:123456789012:thinggroup/g",
        d.getAsJsonArray("targets").get(0).getAsString());
  }

  // ------------------------------------------------------------------ cancel and delete

  @Test
  void cancelingAJobCancelsQueuedExecutionsAndRunningOnesOnlyWithForce() throws Exception {
    f.createJob("j1", job(things(3), "", ""));
    f.send(topic("t1", "start-next"), "{}");
    List<Outbound> out = new ArrayList<>();
    f.call(o -> f.control.cancelJob("j1", false, new JsonObject(), o), out);
    assertEquals(ExecutionStatus.IN_PROGRESS, f.core.state().execution("t1", "j1", 1L).status);
    assertEquals(ExecutionStatus.CANCELED, f.core.state().execution("t2", "j1", 1L).status);
    assertEquals(2, notifyNexts(out).size(), "t2 and t3 hear their queue is empty");
    ApiException again =
        assertThrows(
            ApiException.class,
            () ->
                f.call(
                    o -> f.control.cancelJob("j1", false, new JsonObject(), o), new ArrayList<>()));
    assertEquals("InvalidStateTransitionException", again.type());

    out = new ArrayList<>();
    f.call(o -> f.control.cancelJob("j1", true, new JsonObject(), o), out);
    Execution e = f.core.state().execution("t1", "j1", 1L);
    assertEquals(ExecutionStatus.CANCELED, e.status);
    assertTrue(e.forceCanceled);
    assertEquals(1, notifyNexts(out).size());
    Rejected r =
        f.rejected(
            f.send(topic("t1", "j1/update"), "{\"status\":\"SUCCEEDED\"}"),
            topic("t1", "j1/update"),
            ErrorCode.INVALID_STATE_TRANSITION);
    assertEquals(ExecutionStatus.CANCELED, r.executionState().status());
  }

  @Test
  void cancelingARunningExecutionNeedsForce() throws Exception {
    f.createJob("j1", job(things(2), "", ""));
    f.send(topic("t1", "start-next"), "{}");
    ApiException e =
        assertThrows(
            ApiException.class,
            () ->
                f.call(
                    o -> f.control.cancelJobExecution("t1", "j1", false, new JsonObject(), o),
                    new ArrayList<>()));
    assertEquals("InvalidStateTransitionException", e.type());
    assertEquals(409, e.status());
    JsonObject stale = JsonParser.parseString("{\"expectedVersion\":1}").getAsJsonObject();
    assertEquals(
        "VersionConflictException",
        assertThrows(
                ApiException.class,
                () ->
                    f.call(
                        o -> f.control.cancelJobExecution("t1", "j1", true, stale, o),
                        new ArrayList<>()))
            .type());
    f.call(
        o -> f.control.cancelJobExecution("t1", "j1", true, new JsonObject(), o),
        new ArrayList<>());
    f.call(
        o -> f.control.cancelJobExecution("t2", "j1", false, new JsonObject(), o),
        new ArrayList<>());
    assertEquals(ExecutionStatus.CANCELED, f.core.state().execution("t1", "j1", 1L).status);
    assertEquals(3, f.core.state().execution("t1", "j1", 1L).versionNumber);
    assertEquals(Job.COMPLETED, f.core.state().job("j1").status);
  }

  @Test
  void deletingARunningJobNeedsForceAndTakesItsExecutionsAway() throws Exception {
    f.createJob("j1", job(things(2), "", ""));
    ApiException e =
        assertThrows(
            ApiException.class,
            () -> f.call(o -> f.control.deleteJob("j1", false, o), new ArrayList<>()));
    assertEquals("InvalidStateTransitionException", e.type());
    List<Outbound> out = new ArrayList<>();
    f.call(o -> f.control.deleteJob("j1", true, o), out);
    assertNull(f.core.state().job("j1"));
    assertEquals(2, notifyNexts(out).size());
    f.rejected(
        f.send(topic("t1", "j1/get"), "{}"), topic("t1", "j1/get"), ErrorCode.RESOURCE_NOT_FOUND);
    f.restart();
    assertNull(f.core.state().job("j1"), "the deletion is stored");
    assertNull(f.core.state().execution("t1", "j1", null));
  }

  // ------------------------------------------------------------------ restart

  @Test
  void aRestartMidRolloutLosesAndDuplicatesNothing() throws Exception {
    f.createJob("j1", job(things(25), "", rollout("\"maximumPerMinute\":10")));
    f.advance(30_000);
    f.send(topic("t1", "start-next"), "{\"stepTimeoutInMinutes\":2}");
    Set<String> before = releasedThings("j1");
    assertEquals(6, before.size());

    f.restart();

    assertEquals(before, releasedThings("j1"));
    f.advance(MINUTE / 2 - 1);
    assertEquals(10, released("j1"), "the first minute still delivers exactly 10");
    f.advance(10 * MINUTE);
    assertEquals(25, released("j1"));
    for (int i = 1; i <= 25; i++) {
      assertEquals(1, f.core.state().execution("t" + i, "j1", null).executionNumber, "t" + i);
    }
    assertEquals(
        ExecutionStatus.TIMED_OUT,
        f.core.state().execution("t1", "j1", 1L).status,
        "its step timer survived");
  }

  // ------------------------------------------------------------------ helpers

  private List<Outbound> fail(String thing, String how) throws Exception {
    if (how.equals("TIMED_OUT")) {
      f.send(topic(thing, "start-next"), "{\"stepTimeoutInMinutes\":1}");
      return f.advance(MINUTE);
    }
    return f.send(topic(thing, "j1/update"), "{\"status\":\"" + how + "\"}");
  }

  private void succeedAllDelivered(String jobId) throws Exception {
    for (Execution e : f.core.state().executionsOf(jobId)) {
      if (e.released() && !e.status.isTerminal()) {
        f.send(topic(e.thingName, jobId + "/update"), "{\"status\":\"SUCCEEDED\"}");
      }
    }
  }

  private int released(String jobId) {
    return f.core.state().counts(jobId).releasedExecutions;
  }

  private Set<String> releasedThings(String jobId) {
    Set<String> out = new HashSet<>();
    for (Execution e : f.core.state().executionsOf(jobId)) {
      if (e.released()) {
        out.add(e.thingName);
      }
    }
    return out;
  }

  private static List<String> notifyNexts(List<Outbound> out) {
    return out.stream().map(Outbound::topic).filter(t -> t.endsWith("/notify-next")).toList();
  }

  private static String topic(String thing, String rest) {
    return "$aws/things/" + thing + "/jobs/" + rest;
  }

  private static List<String> things(int n) {
    return things("t", n);
  }

  private static List<String> things(String prefix, int n) {
    return IntStream.rangeClosed(1, n).mapToObj(i -> prefix + i).toList();
  }

  private static String rollout(String inner) {
    return ",\"jobExecutionsRolloutConfig\":{" + inner + "}";
  }

  private static String job(List<String> things, String more, String rollout) {
    return "{\"document\":"
        + JsonParser.parseString("\"" + DOC.replace("\"", "\\\"") + "\"")
        + ",\"targets\":["
        + things.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(","))
        + "]"
        + more
        + rollout
        + "}";
  }

  private static String jobOnGroups(String group, String selection) {
    return "{\"document\":\"{}\",\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/"
        + group
        + "\"],"
        + selection
        + "}";
  }

  private void group(String name, String parent) throws Exception {
    JsonObject body = new JsonObject();
    if (parent != null) {
      body.addProperty("parentGroupName", parent);
    }
    f.call(o -> f.control.createThingGroup(name, body, o), new ArrayList<>());
  }

  private void thing(String name) throws Exception {
    f.call(o -> f.control.createThing(name, new JsonObject(), o), new ArrayList<>());
  }

  private List<Outbound> addToGroup(String group, String thing) throws Exception {
    return membership(group, thing, true);
  }

  private List<Outbound> removeFromGroup(String group, String thing) throws Exception {
    return membership(group, thing, false);
  }

  private List<Outbound> membership(String group, String thing, boolean add) throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("thingGroupName", group);
    body.addProperty("thingName", thing);
    List<Outbound> out = new ArrayList<>();
    f.call(
        o ->
            add
                ? f.control.addThingToThingGroup(body, o)
                : f.control.removeThingFromThingGroup(body, o),
        out);
    return out;
  }
}
