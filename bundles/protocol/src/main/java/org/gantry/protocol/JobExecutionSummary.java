package org.gantry.protocol;

import java.util.Objects;

/**
 * One pending execution as listed by {@code get} answers and {@code notify} notifications.
 *
 * @param jobId the job; not null
 * @param queuedAt when it was queued, epoch seconds; null when absent
 * @param startedAt when it went IN_PROGRESS, epoch seconds; null when absent (still queued)
 * @param lastUpdatedAt when it last changed, epoch seconds; null when absent
 * @param versionNumber the execution's version, incremented by every accepted change
 * @param executionNumber which execution of this job on this thing
 */
public record JobExecutionSummary(
    String jobId,
    Long queuedAt,
    Long startedAt,
    Long lastUpdatedAt,
    long versionNumber,
    long executionNumber) {
  public JobExecutionSummary {
    Objects.requireNonNull(jobId, "jobId");
  }
}
