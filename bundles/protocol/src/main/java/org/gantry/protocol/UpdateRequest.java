package org.gantry.protocol;

import java.util.Map;
import java.util.Objects;

/**
 * Request on {@code $aws/things/T/jobs/{jobId}/update}.
 *
 * @param status the new status; not null
 * @param statusDetails replaces the stored map when given; null to omit and keep the stored one
 * @param expectedVersion must equal the execution's current version; null to omit
 * @param executionNumber which execution; null for the latest
 * @param includeJobExecutionState whether the answer carries {@code executionState}; null to omit
 * @param includeJobDocument whether the answer carries the document; null to omit
 * @param stepTimeoutInMinutes replaces the step timer, 1..10080; null to omit
 * @param clientToken echoed in the answer; null to omit
 */
public record UpdateRequest(
    ExecutionStatus status,
    Map<String, String> statusDetails,
    Long expectedVersion,
    Long executionNumber,
    Boolean includeJobExecutionState,
    Boolean includeJobDocument,
    Long stepTimeoutInMinutes,
    String clientToken) {
  public UpdateRequest {
    Objects.requireNonNull(status, "status");
    statusDetails = Immutables.details(statusDetails, "statusDetails");
  }
}
