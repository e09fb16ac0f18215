package org.gantry.hub.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import org.gantry.protocol.ExecutionStatus;

/**
 * One execution of a job on a thing. Mutable; confined to the hub thread. Times are epoch
 * milliseconds. Field names are the store's format.
 */
final class Execution {
  String jobId;
  String thingName;
  long executionNumber;
  ExecutionStatus status = ExecutionStatus.QUEUED;
  Map<String, String> statusDetails = new LinkedHashMap<>();
  long queuedAt;
  Long startedAt;
  long lastUpdatedAt;
  long versionNumber = 1;

  /** The step timer the device last asked for; stored, enforced from issue 7 on. */
  Long stepTimeoutInMinutes;

  /** Position in the hub-wide queue order: executions of a thing run in this order. */
  long queueSeq;

  String key() {
    return jobId + "#" + executionNumber;
  }
}
