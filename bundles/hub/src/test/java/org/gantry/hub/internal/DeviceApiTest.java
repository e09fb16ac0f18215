package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.Notify;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.UpdateAccepted;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device API's state machine and every error code, without MQTT. */
class DeviceApiTest {
  private static final String T = "$aws/things/gw-1/jobs/";
  private static final String DOC = "{\"operation\":\"diagnostics\"}";

  @TempDir Path dir;
  private Fixture f;

  @BeforeEach
  void hub() throws Exception {
    f = new Fixture(dir);
  }

  @Test
  void creatingAJobQueuesItAndNotifiesTheThing() throws Exception {
    List<Outbound> out = f.createJob("j1", DOC, "gw-1");

    NotifyNext next =
        f.codec.decode(Fixture.only(out, T + "notify-next").payload(), NotifyNext.class);
    assertEquals("j1", next.execution().jobId());
    assertEquals(ExecutionStatus.QUEUED, next.execution().status());
    assertEquals(1, next.execution().versionNumber());
    assertEquals(1, next.execution().executionNumber());
    assertEquals(DOC, next.execution().jobDocument());
    assertEquals(1_700_000_000L, next.timestamp());
    Notify notify = f.codec.decode(Fixture.only(out, T + "notify").payload(), Notify.class);
    assertEquals(List.of("j1"), ids(notify.jobs().get(ExecutionStatus.QUEUED)));

    // A second job changes the pending list but not the head.
    out = f.createJob("j2", DOC, "gw-1");
    assertEquals(List.of(T + "notify"), Fixture.topics(out));
  }

  @Test
  void getListsInProgressFirstThenQueuedAndEchoesTheToken() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.createJob("j2", DOC, "gw-1");
    f.send(T + "j2/update", "{\"status\":\"IN_PROGRESS\"}");

    GetPendingAccepted a =
        f.accepted(
            f.send(T + "get", "{\"clientToken\":\"c1\"}"), T + "get", GetPendingAccepted.class);

    assertEquals(List.of("j2"), ids(a.inProgressJobs()));
    assertEquals(List.of("j1"), ids(a.queuedJobs()));
    assertEquals("c1", a.clientToken());
    assertNotNull(a.inProgressJobs().get(0).startedAt());
    assertNull(a.queuedJobs().get(0).startedAt());
  }

  @Test
  void getListsAtMostTenOfEachAndNotifyAtMostFifteen() throws Exception {
    List<Outbound> last = List.of();
    for (int i = 1; i <= 20; i++) {
      last = f.createJob("j" + i, DOC, "gw-1");
    }
    GetPendingAccepted a = f.accepted(f.send(T + "get", "{}"), T + "get", GetPendingAccepted.class);
    assertEquals(10, a.queuedJobs().size());
    assertEquals("j1", a.queuedJobs().get(0).jobId());
    Notify n = f.codec.decode(Fixture.only(last, T + "notify").payload(), Notify.class);
    assertEquals(15, n.jobs().get(ExecutionStatus.QUEUED).size());
  }

  @Test
  void anEmptyPayloadIsAnEmptyRequest() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    List<Outbound> out = f.sendBytes(T + "get", new byte[0]);
    assertEquals(1, f.accepted(out, T + "get", GetPendingAccepted.class).queuedJobs().size());
  }

  @Test
  void startNextTakesTheHeadOnceAndHandsItBackUnchangedAfterARestart() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.now += 5_000;

    List<Outbound> out =
        f.send(
            T + "start-next",
            "{\"statusDetails\":{\"step\":\"starting\"},\"stepTimeoutInMinutes\":30,"
                + "\"clientToken\":\"c2\"}");

    JobExecution e = f.accepted(out, T + "start-next", StartNextAccepted.class).execution();
    assertEquals("j1", e.jobId());
    assertEquals("gw-1", e.thingName());
    assertEquals(ExecutionStatus.IN_PROGRESS, e.status());
    assertEquals(2, e.versionNumber());
    assertEquals(Map.of("step", "starting"), e.statusDetails());
    assertEquals(DOC, e.jobDocument());
    assertEquals(1_700_000_005L, e.startedAt());
    assertEquals(1, out.size(), "the head and the pending list did not change: no notification");
    assertEquals(30L, f.core.state().execution("gw-1", "j1", 1L).stepTimeoutInMinutes);

    JobExecution again =
        f.accepted(f.send(T + "start-next", "{}"), T + "start-next", StartNextAccepted.class)
            .execution();
    assertEquals(ExecutionStatus.IN_PROGRESS, again.status());
    assertEquals(2, again.versionNumber(), "an IN_PROGRESS head is handed back unchanged");
  }

  @Test
  void startNextWithNothingPendingHasNoExecution() throws Exception {
    StartNextAccepted a =
        f.accepted(
            f.send(T + "start-next", "{\"clientToken\":\"c\"}"),
            T + "start-next",
            StartNextAccepted.class);
    assertNull(a.execution());
    assertEquals("c", a.clientToken());
  }

  @Test
  void describeNextGivesTheHeadWithItsDocument() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.createJob("j2", DOC, "gw-1");
    DescribeAccepted a =
        f.accepted(
            f.send(T + "$next/get", "{\"includeJobDocument\":true,\"clientToken\":\"c3\"}"),
            T + "$next/get",
            DescribeAccepted.class);
    assertEquals("j1", a.execution().jobId());
    assertEquals(DOC, a.execution().jobDocument());
    assertEquals("c3", a.clientToken());

    DescribeAccepted noDoc =
        f.accepted(
            f.send(T + "j2/get", "{\"includeJobDocument\":false}"),
            T + "j2/get",
            DescribeAccepted.class);
    assertNull(noDoc.execution().jobDocument());
    assertEquals(ExecutionStatus.QUEUED, noDoc.execution().status());
  }

  @Test
  void describeNextWithNothingPendingIsResourceNotFound() throws Exception {
    Rejected r =
        f.rejected(
            f.send(T + "$next/get", "{\"clientToken\":\"c\"}"),
            T + "$next/get",
            ErrorCode.RESOURCE_NOT_FOUND);
    assertEquals("c", r.clientToken());
  }

  @Test
  void describeOfATerminalExecutionIsTerminalStateReachedAndOfAnUnknownOneResourceNotFound()
      throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.send(T + "j1/update", "{\"status\":\"SUCCEEDED\"}");

    Rejected r =
        f.rejected(
            f.send(T + "j1/get", "{\"clientToken\":\"c\"}"),
            T + "j1/get",
            ErrorCode.TERMINAL_STATE_REACHED);
    assertEquals("c", r.clientToken());
    assertNull(r.executionState());
    f.rejected(f.send(T + "nope/get", "{}"), T + "nope/get", ErrorCode.RESOURCE_NOT_FOUND);
    f.rejected(
        f.send(T + "j1/get", "{\"executionNumber\":7}"),
        T + "j1/get",
        ErrorCode.RESOURCE_NOT_FOUND);
  }

  @Test
  void aQueuedExecutionMayGoStraightToATerminalStatus() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.createJob("j2", DOC, "gw-1");
    f.now += 2_000;

    List<Outbound> out =
        f.send(
            T + "j1/update",
            "{\"status\":\"REJECTED\",\"statusDetails\":{\"reasonCode\":\"UNKNOWN_OPERATION\"},"
                + "\"expectedVersion\":1,\"includeJobExecutionState\":true,\"clientToken\":\"c4\"}");

    UpdateAccepted a = f.accepted(out, T + "j1/update", UpdateAccepted.class);
    assertEquals(ExecutionStatus.REJECTED, a.executionState().status());
    assertEquals(2, a.executionState().versionNumber());
    assertEquals("c4", a.clientToken());
    assertNull(a.jobDocument());
    NotifyNext next =
        f.codec.decode(Fixture.only(out, T + "notify-next").payload(), NotifyNext.class);
    assertEquals("j2", next.execution().jobId(), "the head moved to j2");
    Notify n = f.codec.decode(Fixture.only(out, T + "notify").payload(), Notify.class);
    assertEquals(List.of("j2"), ids(n.jobs().get(ExecutionStatus.QUEUED)));
    assertEquals(Job.IN_PROGRESS, f.core.state().job("j2").status);
    assertEquals(Job.COMPLETED, f.core.state().job("j1").status, "its only execution is over");
    assertEquals(f.now, f.core.state().job("j1").completedAt);
  }

  @Test
  void theLastExecutionEndingEmptiesTheQueue() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    List<Outbound> out = f.send(T + "j1/update", "{\"status\":\"SUCCEEDED\"}");
    NotifyNext next =
        f.codec.decode(Fixture.only(out, T + "notify-next").payload(), NotifyNext.class);
    assertNull(next.execution());
    Notify n = f.codec.decode(Fixture.only(out, T + "notify").payload(), Notify.class);
    assertTrue(n.jobs().isEmpty());
  }

  @Test
  void aStaleExpectedVersionIsVersionMismatchWithTheExecutionState() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.send(T + "j1/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"step\":\"a\"}}");

    Rejected r =
        f.rejected(
            f.send(
                T + "j1/update",
                "{\"status\":\"SUCCEEDED\",\"expectedVersion\":1,\"clientToken\":\"c5\"}"),
            T + "j1/update",
            ErrorCode.VERSION_MISMATCH);

    assertEquals("c5", r.clientToken());
    assertEquals(ExecutionStatus.IN_PROGRESS, r.executionState().status());
    assertEquals(Map.of("step", "a"), r.executionState().statusDetails());
    assertEquals(2, r.executionState().versionNumber());
    assertEquals(ExecutionStatus.IN_PROGRESS, f.core.state().execution("gw-1", "j1", null).status);
  }

  @Test
  void anUpdateOfATerminalExecutionIsInvalidStateTransitionShowingItsStatus() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.send(T + "j1/update", "{\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"x\"}}");

    Rejected r =
        f.rejected(
            f.send(T + "j1/update", "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2}"),
            T + "j1/update",
            ErrorCode.INVALID_STATE_TRANSITION);

    assertEquals(ExecutionStatus.FAILED, r.executionState().status());
    assertEquals(Map.of("reason", "x"), r.executionState().statusDetails());
    assertEquals(2, r.executionState().versionNumber());
  }

  @Test
  void anUpdateOfAnUnknownExecutionIsResourceNotFound() throws Exception {
    f.rejected(
        f.send(T + "j9/update", "{\"status\":\"SUCCEEDED\"}"),
        T + "j9/update",
        ErrorCode.RESOURCE_NOT_FOUND);
  }

  @Test
  void statusDetailsReplaceTheStoredMapAndStayWhenOmitted() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.send(T + "j1/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"a\":\"1\"}}");
    f.send(T + "j1/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":5}");
    Execution e = f.core.state().execution("gw-1", "j1", null);
    assertEquals(Map.of("a", "1"), e.statusDetails);
    assertEquals(5L, e.stepTimeoutInMinutes);
    assertEquals(3, e.versionNumber, "every accepted update counts");

    UpdateAccepted a =
        f.accepted(
            f.send(
                T + "j1/update",
                "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"b\":\"2\"},"
                    + "\"includeJobExecutionState\":true,\"includeJobDocument\":true}"),
            T + "j1/update",
            UpdateAccepted.class);
    assertEquals(Map.of("b", "2"), a.executionState().statusDetails());
    assertEquals(4, a.executionState().versionNumber());
    assertEquals(DOC, a.jobDocument());
  }

  @Test
  void statusDetailsBeyondTheLimitsAreInvalidRequestAndChangeNothing() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    Rejected r =
        f.rejected(
            f.send(
                T + "j1/update",
                "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"bad key\":\"v\"},"
                    + "\"clientToken\":\"c6\"}"),
            T + "j1/update",
            ErrorCode.INVALID_REQUEST);
    assertEquals("c6", r.clientToken(), "the token still reaches the device");
    f.rejected(
        f.send(T + "start-next", "{\"statusDetails\":{\"k\":\"" + "x".repeat(1025) + "\"}}"),
        T + "start-next",
        ErrorCode.INVALID_REQUEST);
    assertEquals(1, f.core.state().execution("gw-1", "j1", null).versionNumber);
  }

  @Test
  void aStatusOnlyTheServiceSetsIsInvalidRequest() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    Rejected r =
        f.rejected(
            f.send(T + "j1/update", "{\"status\":\"CANCELED\"}"),
            T + "j1/update",
            ErrorCode.INVALID_REQUEST);
    assertTrue(r.message().contains("CANCELED"), r.message());
  }

  @Test
  void badJsonIsInvalidJson() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.rejected(f.send(T + "j1/update", "{\"status\":"), T + "j1/update", ErrorCode.INVALID_JSON);
    f.rejected(f.send(T + "get", "[1]"), T + "get", ErrorCode.INVALID_JSON);
  }

  @Test
  void invalidJobIdsAndThingNamesInTopicsAreInvalidRequest() throws Exception {
    f.rejected(
        f.send(T + "bad.id/update", "{\"status\":\"SUCCEEDED\"}"),
        T + "bad.id/update",
        ErrorCode.INVALID_REQUEST);
    String longId = "j".repeat(65);
    f.rejected(f.send(T + longId + "/get", "{}"), T + longId + "/get", ErrorCode.INVALID_REQUEST);
    f.rejected(
        f.send(T + "$next/update", "{\"status\":\"SUCCEEDED\"}"),
        T + "$next/update",
        ErrorCode.INVALID_REQUEST);
    String badThing = "$aws/things/bad thing/jobs/get";
    f.rejected(f.send(badThing, "{}"), badThing, ErrorCode.INVALID_REQUEST);
  }

  @Test
  void unknownTopicsUnderJobsAreInvalidTopic() throws Exception {
    for (String topic :
        List.of(T + "foo", T + "j1/cancel", T + "get/extra/more", T + "j1/update/now")) {
      Rejected r = f.rejected(f.send(topic, "{}"), topic, ErrorCode.INVALID_TOPIC);
      assertNotNull(r.message());
    }
  }

  @Test
  void answersNotificationsAndOtherTopicsAreNotAnswered() throws Exception {
    for (String topic :
        List.of(
            T + "get/accepted",
            T + "j1/update/rejected",
            T + "foo/rejected",
            T + "notify",
            T + "notify-next",
            "$aws/things/gw-1/shadow/get",
            "plant/telemetry")) {
      assertEquals(List.of(), f.send(topic, "{}"), topic);
    }
  }

  @Test
  void executionsAndVersionsSurviveARestartOfTheHub() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    f.send(T + "start-next", "{\"statusDetails\":{\"step\":\"s\"}}");

    f.store.close();
    Fixture restarted = new Fixture(dir);
    DescribeAccepted a =
        restarted.accepted(
            restarted.send(T + "$next/get", "{}"), T + "$next/get", DescribeAccepted.class);
    assertEquals(ExecutionStatus.IN_PROGRESS, a.execution().status());
    assertEquals(2, a.execution().versionNumber());
    UpdateAccepted u =
        restarted.accepted(
            restarted.send(
                T + "j1/update",
                "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2,"
                    + "\"includeJobExecutionState\":true}"),
            T + "j1/update",
            UpdateAccepted.class);
    assertEquals(3, u.executionState().versionNumber());
  }

  @Test
  void aChangeThatCannotBeStoredIsInternalErrorAndUndone() throws Exception {
    f.createJob("j1", DOC, "gw-1");
    // A closed log refuses the next append, as a full or failing disk would.
    f.store.close();

    List<Outbound> out =
        f.send(T + "j1/update", "{\"status\":\"SUCCEEDED\",\"clientToken\":\"c\"}");

    Rejected r = f.rejected(out, T + "j1/update", ErrorCode.INTERNAL_ERROR);
    assertEquals("c", r.clientToken());
    assertEquals(1, out.size(), "no notification for a change that did not happen");
    Execution e = f.core.state().execution("gw-1", "j1", null);
    assertEquals(ExecutionStatus.QUEUED, e.status);
    assertEquals(1, e.versionNumber);
    assertFalse(f.core.state().job("j1").status.equals(Job.COMPLETED));
  }

  private static List<String> ids(List<org.gantry.protocol.JobExecutionSummary> l) {
    return l.stream().map(org.gantry.protocol.JobExecutionSummary::jobId).toList();
  }
}
