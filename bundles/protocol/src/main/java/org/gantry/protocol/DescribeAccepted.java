package org.gantry.protocol;

import java.util.Objects;

/**
 * Answer on {@code .../jobs/{jobId}/get/accepted}.
 *
 * @param execution not null
 * @param timestamp epoch seconds
 * @param clientToken the request's token; null when absent
 */
public record DescribeAccepted(JobExecution execution, long timestamp, String clientToken) {
  public DescribeAccepted {
    Objects.requireNonNull(execution, "execution");
  }
}
