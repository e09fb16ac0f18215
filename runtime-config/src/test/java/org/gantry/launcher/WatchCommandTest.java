package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code gantry jobs watch} shows for a DescribeJob answer. */
class WatchCommandTest {

  private static final Instant NOW = Instant.parse("2026-12-02T16:00:05Z");

  private static WatchCommand.Snapshot snapshot(String job, long nanos) throws HubException {
    return WatchCommand.snapshot(JsonParser.parseString(job).getAsJsonObject(), nanos);
  }

  private static final String ROLLING =
      "{\"job\":{\"jobId\":\"fw-2\",\"status\":\"IN_PROGRESS\","
          + "\"jobProcessDetails\":{\"numberOfQueuedThings\":5,\"numberOfInProgressThings\":1,"
          + "\"numberOfSucceededThings\":3,\"numberOfFailedThings\":1,"
          + "\"numberOfRejectedThings\":0,\"numberOfTimedOutThings\":0,"
          + "\"numberOfCanceledThings\":0,\"numberOfRemovedThings\":0},"
          + "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":10},"
          + "\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
          + "\"thresholdPercentage\":20,\"minNumberOfExecutedThings\":8},"
          + "{\"failureType\":\"ALL\",\"action\":\"CANCEL\",\"thresholdPercentage\":12.5,"
          + "\"minNumberOfExecutedThings\":2}]},"
          + "\"rolloutStatus\":{\"notifiedThings\":6,\"waitingExecutions\":4,"
          + "\"currentRatePerMinute\":10,\"maximumPerMinute\":10,\"deliveredLastMinute\":6}}}";

  @Test
  void theTerminalViewShowsCountsProgressRateAndEachAbortCriterion() throws Exception {
    WatchCommand.Snapshot s = snapshot(ROLLING, 0);
    assertEquals(
        List.of(
            "job fw-2  IN_PROGRESS  at 16:00:05Z",
            "progress    [############..................] 4 of 10 done (40%)",
            "executions  queued 5, in progress 1, succeeded 3, failed 1, rejected 0, timed out 0,"
                + " canceled 0, removed 0",
            "rollout     rate 10.0/min now, limit 10/min; delivered 6 in the last minute;"
                + " notified 6, waiting 4",
            "abort       FAILED >= 20% once 8 notified: now 16.7% (1 of 6), minimum not reached",
            "abort       ALL >= 12.5% once 2 notified: now 16.7% (1 of 6)"),
        WatchCommand.lines(s, Optional.empty(), NOW));
    assertEquals(
        "16:00:05Z job fw-2 IN_PROGRESS 4/10 done | queued 5, in progress 1, succeeded 3, failed 1,"
            + " rejected 0, timed out 0, canceled 0, removed 0 | rate 10.0/min now, limit 10/min;"
            + " delivered 6 in the last minute; notified 6, waiting 4 | abort FAILED >= 20% once 8"
            + " notified: now 16.7% (1 of 6), minimum not reached | abort ALL >= 12.5% once 2"
            + " notified: now 16.7% (1 of 6)",
        WatchCommand.oneLine(s, Optional.empty(), NOW));
  }

  @Test
  void withoutRolloutStatusTheRateIsComputedFromThePolls() throws Exception {
    String before =
        "{\"job\":{\"jobId\":\"j\",\"status\":\"IN_PROGRESS\",\"jobProcessDetails\":"
            + "{\"numberOfQueuedThings\":8,\"numberOfSucceededThings\":2},"
            + "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":6}}}";
    String after =
        "{\"job\":{\"jobId\":\"j\",\"status\":\"IN_PROGRESS\",\"jobProcessDetails\":"
            + "{\"numberOfQueuedThings\":5,\"numberOfInProgressThings\":1,"
            + "\"numberOfSucceededThings\":4},"
            + "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":6}}}";
    Deque<WatchCommand.Snapshot> window = new ArrayDeque<>();
    window.add(snapshot(before, 0));
    assertEquals(Optional.empty(), WatchCommand.observedRate(window), "one poll: no rate yet");
    window.add(snapshot(after, Duration.ofSeconds(30).toNanos()));
    Optional<Double> rate = WatchCommand.observedRate(window);
    assertEquals(Optional.of(6.0), rate, "3 more left QUEUED in half a minute");
    assertEquals(
        "rate 6.0/min observed (executions leaving QUEUED), limit 6/min; started 5, queued 5",
        WatchCommand.rate(window.getLast(), rate));
  }

  @Test
  void aJobCanceledByItsAbortCriteriaShowsTheReason() throws Exception {
    WatchCommand.Snapshot s =
        snapshot(
            "{\"job\":{\"jobId\":\"j\",\"status\":\"CANCELED\",\"reasonCode\":"
                + "\"ABORT_CRITERIA_MET\",\"comment\":\"FAILED 2 of 4 (50%) >= 25%\","
                + "\"jobProcessDetails\":{\"numberOfFailedThings\":2,\"numberOfSucceededThings\":2,"
                + "\"numberOfCanceledThings\":6},\"rolloutStatus\":{\"notifiedThings\":4,"
                + "\"waitingExecutions\":0,\"currentRatePerMinute\":null,"
                + "\"maximumPerMinute\":null,\"deliveredLastMinute\":4}}}",
            0);
    assertTrue(s.finished());
    List<String> lines = WatchCommand.lines(s, Optional.empty(), NOW);
    assertEquals(
        "canceled    ABORT_CRITERIA_MET: FAILED 2 of 4 (50%) >= 25%", lines.get(lines.size() - 1));
    assertEquals(
        "rollout     rate unlimited now, limit none; delivered 4 in the last minute; notified 4,"
            + " waiting 0",
        lines.get(3));
    assertEquals(
        "job j CANCELED: 10 of 10 things done; queued 0, in progress 0, succeeded 2, failed 2,"
            + " rejected 0, timed out 0, canceled 6, removed 0; ABORT_CRITERIA_MET: FAILED 2 of 4"
            + " (50%) >= 25%",
        WatchCommand.summary(s));
  }

  @Test
  void theHubMayBeSilentForThirtySecondsOrThreeIntervals() {
    assertEquals(Duration.ofSeconds(30), WatchCommand.giveUp(Duration.ofSeconds(2)));
    assertEquals(Duration.ofSeconds(60), WatchCommand.giveUp(Duration.ofSeconds(20)));
  }

  @Test
  void describeShowsTheConfiguration() {
    assertEquals(
        List.of(
            "rollout: at most 10/min",
            "abort: CANCEL when FAILED >= 20% once 8 notified",
            "abort: CANCEL when ALL >= 12.5% once 2 notified"),
        WatchCommand.configurationLines(
            JsonParser.parseString(ROLLING).getAsJsonObject().getAsJsonObject("job")));
  }

  @Test
  void tablesBarsAndPercentages() {
    assertEquals(
        List.of("JOB_ID  STATUS", "a-long  COMPLETED", "b       IN_PROGRESS"),
        Format.table(
            List.of("JOB_ID", "STATUS"),
            List.of(List.of("a-long", "COMPLETED"), List.of("b", "IN_PROGRESS"))));
    assertEquals("[##........]", Format.bar(1, 4, 10));
    assertEquals("[..........]", Format.bar(0, 0, 10));
    assertEquals("[##########]", Format.bar(5, 5, 10));
    assertEquals("100%", Format.percent(100));
    assertEquals("33.3%", Format.percent(100 / 3.0));
  }
}
