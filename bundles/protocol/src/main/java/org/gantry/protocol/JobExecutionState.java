package org.gantry.protocol;

import java.util.Map;
import java.util.Objects;

/**
 * The state of an execution as answered by an update or a rejection.
 *
 * @param status not null
 * @param statusDetails never null (empty when absent), unmodifiable, in wire order
 * @param versionNumber the execution's current version
 */
public record JobExecutionState(
    ExecutionStatus status, Map<String, String> statusDetails, long versionNumber) {
  public JobExecutionState {
    Objects.requireNonNull(status, "status");
    statusDetails = Immutables.detailsOrEmpty(statusDetails, "statusDetails");
  }
}
