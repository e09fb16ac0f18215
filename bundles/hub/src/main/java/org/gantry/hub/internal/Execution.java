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

  /** The step timer the device last asked for, in minutes. */
  Long stepTimeoutInMinutes;

  /**
   * When the rollout delivered the execution to the thing; null while it waits for the rollout (it
   * is then invisible to the device and counts as QUEUED in the management API).
   */
  Long releasedAt;

  /** When an IN_PROGRESS execution times out (the step timer, capped by the in-progress limit). */
  Long timeoutAt;

  /** The failure (FAILED or TIMED_OUT) of the previous execution that this retry answers. */
  ExecutionStatus retryOf;

  boolean forceCanceled;

  /** The timeout a timer is armed for (not stored: the timers are rebuilt at start). */
  transient Long armedFor;

  /** Position in the hub-wide queue order (given on release): a thing's executions run in it. */
  long queueSeq;

  String key() {
    return jobId + "#" + executionNumber;
  }

  /** Identifies the execution hub-wide. */
  String id() {
    return thingName + "/" + jobId + "#" + executionNumber;
  }

  boolean released() {
    return releasedAt != null;
  }

  void copyFrom(Execution o) {
    status = o.status;
    statusDetails = o.statusDetails;
    queuedAt = o.queuedAt;
    startedAt = o.startedAt;
    lastUpdatedAt = o.lastUpdatedAt;
    versionNumber = o.versionNumber;
    stepTimeoutInMinutes = o.stepTimeoutInMinutes;
    releasedAt = o.releasedAt;
    timeoutAt = o.timeoutAt;
    retryOf = o.retryOf;
    forceCanceled = o.forceCanceled;
    queueSeq = o.queueSeq;
  }
}
