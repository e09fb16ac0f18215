package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every example payload of PROTOCOL.md, copied verbatim: decoded field by field, then re-encoded
 * and compared with the example as a JSON tree.
 */
class ProtocolExamplesTest {
  private final JobsCodec codec = new JobsCodec();

  private <T> T roundTrip(String example, Class<T> type) throws ProtocolException {
    T decoded = codec.decode(example.getBytes(StandardCharsets.UTF_8), type);
    byte[] encoded = codec.encode(decoded);
    JsonElement expected = JsonParser.parseString(example);
    JsonElement actual = JsonParser.parseString(new String(encoded, StandardCharsets.UTF_8));
    assertEquals(expected, actual, "re-encoded " + type.getSimpleName());
    assertEquals(decoded, codec.decode(encoded, type), "decode(encode(x)) equals x");
    return decoded;
  }

  @Test
  void getPendingRequest() throws Exception {
    GetPendingRequest r = roundTrip("{\"clientToken\": \"c1\"}", GetPendingRequest.class);
    assertEquals("c1", r.clientToken());
  }

  @Test
  void getPendingAccepted() throws Exception {
    GetPendingAccepted a =
        roundTrip(
            """
            {"inProgressJobs": [{"jobId": "j1", "queuedAt": 1700000000, "startedAt": 1700000005,
                                 "lastUpdatedAt": 1700000005, "versionNumber": 2, "executionNumber": 1}],
             "queuedJobs": [{"jobId": "j2", "queuedAt": 1700000010, "lastUpdatedAt": 1700000010,
                             "versionNumber": 1, "executionNumber": 1}],
             "timestamp": 1700000020, "clientToken": "c1"}
            """,
            GetPendingAccepted.class);
    assertEquals(
        List.of(new JobExecutionSummary("j1", 1700000000L, 1700000005L, 1700000005L, 2, 1)),
        a.inProgressJobs());
    assertEquals(
        List.of(new JobExecutionSummary("j2", 1700000010L, null, 1700000010L, 1, 1)),
        a.queuedJobs());
    assertEquals(1700000020L, a.timestamp());
    assertEquals("c1", a.clientToken());
  }

  @Test
  void describeRequest() throws Exception {
    DescribeRequest r =
        roundTrip(
            "{\"executionNumber\": 1, \"includeJobDocument\": true, \"clientToken\": \"c3\"}",
            DescribeRequest.class);
    assertEquals(1L, r.executionNumber());
    assertEquals(Boolean.TRUE, r.includeJobDocument());
    assertEquals("c3", r.clientToken());
  }

  @Test
  void describeAccepted() throws Exception {
    DescribeAccepted a =
        roundTrip(
            """
            {"execution": {"jobId": "j2", "thingName": "T", "jobDocument": {"operation": "diagnostics"},
                           "status": "QUEUED", "statusDetails": {}, "queuedAt": 1700000010,
                           "lastUpdatedAt": 1700000010, "versionNumber": 1, "executionNumber": 1},
             "timestamp": 1700000021, "clientToken": "c3"}
            """,
            DescribeAccepted.class);
    assertEquals(
        new JobExecution(
            "j2",
            "T",
            "{\"operation\":\"diagnostics\"}",
            ExecutionStatus.QUEUED,
            Map.of(),
            1700000010L,
            null,
            1700000010L,
            1,
            1),
        a.execution());
    assertEquals(1700000021L, a.timestamp());
    assertEquals("c3", a.clientToken());
  }

  @Test
  void startNextRequest() throws Exception {
    StartNextRequest r =
        roundTrip(
            """
            {"statusDetails": {"step": "starting"}, "stepTimeoutInMinutes": 30, "clientToken": "c2"}
            """,
            StartNextRequest.class);
    assertEquals(Map.of("step", "starting"), r.statusDetails());
    assertEquals(30L, r.stepTimeoutInMinutes());
    assertEquals("c2", r.clientToken());
  }

  @Test
  void startNextAccepted() throws Exception {
    StartNextAccepted a =
        roundTrip(
            """
            {"execution": {"jobId": "j2", "thingName": "T", "jobDocument": {"operation": "diagnostics"},
                           "status": "IN_PROGRESS", "statusDetails": {"step": "starting"},
                           "queuedAt": 1700000010, "startedAt": 1700000030, "lastUpdatedAt": 1700000030,
                           "versionNumber": 2, "executionNumber": 1},
             "timestamp": 1700000030, "clientToken": "c2"}
            """,
            StartNextAccepted.class);
    assertEquals(
        new JobExecution(
            "j2",
            "T",
            "{\"operation\":\"diagnostics\"}",
            ExecutionStatus.IN_PROGRESS,
            Map.of("step", "starting"),
            1700000010L,
            1700000030L,
            1700000030L,
            2,
            1),
        a.execution());
    assertEquals(1700000030L, a.timestamp());
    assertEquals("c2", a.clientToken());
  }

  @Test
  void startNextAcceptedWithNothingPending() throws Exception {
    StartNextAccepted a =
        roundTrip("{\"timestamp\": 1700000030, \"clientToken\": \"c2\"}", StartNextAccepted.class);
    assertNull(a.execution());
    assertEquals(1700000030L, a.timestamp());
  }

  @Test
  void updateRequest() throws Exception {
    UpdateRequest r =
        roundTrip(
            """
            {"status": "SUCCEEDED", "statusDetails": {"reason": "OK"}, "expectedVersion": 2,
             "executionNumber": 1, "includeJobExecutionState": true, "includeJobDocument": false,
             "stepTimeoutInMinutes": 10, "clientToken": "c4"}
            """,
            UpdateRequest.class);
    assertEquals(
        new UpdateRequest(
            ExecutionStatus.SUCCEEDED, Map.of("reason", "OK"), 2L, 1L, true, false, 10L, "c4"),
        r);
  }

  @Test
  void updateAccepted() throws Exception {
    UpdateAccepted a =
        roundTrip(
            """
            {"executionState": {"status": "SUCCEEDED", "statusDetails": {"reason": "OK"}, "versionNumber": 3},
             "timestamp": 1700000040, "clientToken": "c4"}
            """,
            UpdateAccepted.class);
    assertEquals(
        new JobExecutionState(ExecutionStatus.SUCCEEDED, Map.of("reason", "OK"), 3),
        a.executionState());
    assertNull(a.jobDocument());
    assertEquals(1700000040L, a.timestamp());
    assertEquals("c4", a.clientToken());
  }

  @Test
  void rejected() throws Exception {
    Rejected r =
        roundTrip(
            """
            {"code": "VersionMismatch", "message": "...", "clientToken": "c4", "timestamp": 1700000041,
             "executionState": {"status": "IN_PROGRESS", "statusDetails": {}, "versionNumber": 4}}
            """,
            Rejected.class);
    assertEquals(ErrorCode.VERSION_MISMATCH, r.code());
    assertEquals("...", r.message());
    assertEquals("c4", r.clientToken());
    assertEquals(1700000041L, r.timestamp());
    assertEquals(
        new JobExecutionState(ExecutionStatus.IN_PROGRESS, Map.of(), 4), r.executionState());
  }

  @Test
  void notifyNext() throws Exception {
    NotifyNext n =
        roundTrip(
            """
            {"timestamp": 1700000050,
             "execution": {"jobId": "j2", "status": "QUEUED", "queuedAt": 1700000010, "lastUpdatedAt": 1700000010,
                           "versionNumber": 1, "executionNumber": 1, "jobDocument": {"operation": "diagnostics"}}}
            """,
            NotifyNext.class);
    assertEquals(1700000050L, n.timestamp());
    JobExecution e = n.execution();
    assertEquals("j2", e.jobId());
    assertNull(e.thingName());
    assertEquals(ExecutionStatus.QUEUED, e.status());
    assertTrue(e.statusDetails().isEmpty());
    assertEquals(1700000010L, e.queuedAt());
    assertNull(e.startedAt());
    assertEquals(1700000010L, e.lastUpdatedAt());
    assertEquals(1, e.versionNumber());
    assertEquals(1, e.executionNumber());
    assertEquals("{\"operation\":\"diagnostics\"}", e.jobDocument());
  }

  @Test
  void notifyNextWhenTheQueueBecameEmpty() throws Exception {
    NotifyNext n = roundTrip("{\"timestamp\": 1700000050}", NotifyNext.class);
    assertNull(n.execution());
  }

  @Test
  void notifyExample() throws Exception {
    Notify n =
        roundTrip(
            """
            {"timestamp": 1700000050,
             "jobs": {"QUEUED": [{"jobId": "j2", "queuedAt": 1700000010, "lastUpdatedAt": 1700000010,
                                  "versionNumber": 1, "executionNumber": 1}]}}
            """,
            Notify.class);
    assertEquals(1700000050L, n.timestamp());
    assertEquals(
        Map.of(
            ExecutionStatus.QUEUED,
            List.of(new JobExecutionSummary("j2", 1700000010L, null, 1700000010L, 1, 1))),
        n.jobs());
  }
}
