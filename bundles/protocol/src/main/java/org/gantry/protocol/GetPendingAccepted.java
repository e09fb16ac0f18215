package org.gantry.protocol;

import java.util.List;

/**
 * Answer on {@code .../jobs/get/accepted}.
 *
 * @param inProgressJobs never null (empty when absent), unmodifiable
 * @param queuedJobs never null (empty when absent), unmodifiable
 * @param timestamp epoch seconds
 * @param clientToken the request's token; null when absent
 */
public record GetPendingAccepted(
    List<JobExecutionSummary> inProgressJobs,
    List<JobExecutionSummary> queuedJobs,
    long timestamp,
    String clientToken) {
  public GetPendingAccepted {
    inProgressJobs = Immutables.list(inProgressJobs, "inProgressJobs");
    queuedJobs = Immutables.list(queuedJobs, "queuedJobs");
  }
}
