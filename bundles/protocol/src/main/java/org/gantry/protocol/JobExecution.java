package org.gantry.protocol;

import java.util.Map;
import java.util.Objects;

/**
 * One job execution as described by {@code {jobId}/get}, {@code start-next} and {@code
 * notify-next}.
 *
 * @param jobId the job; not null
 * @param thingName the thing; null when absent (notify-next may omit it)
 * @param jobDocument the job document as raw JSON text (on the wire it is a JSON value, not a
 *     string); null when absent
 * @param status the execution's status; not null
 * @param statusDetails never null (empty when absent), unmodifiable, in wire order
 * @param queuedAt epoch seconds; null when absent
 * @param startedAt epoch seconds; null when absent
 * @param lastUpdatedAt epoch seconds; null when absent
 * @param versionNumber the execution's version, incremented by every accepted change
 * @param executionNumber which execution of this job on this thing
 */
public record JobExecution(
    String jobId,
    String thingName,
    String jobDocument,
    ExecutionStatus status,
    Map<String, String> statusDetails,
    Long queuedAt,
    Long startedAt,
    Long lastUpdatedAt,
    long versionNumber,
    long executionNumber) {
  public JobExecution {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(status, "status");
    statusDetails = Immutables.detailsOrEmpty(statusDetails, "statusDetails");
  }
}
