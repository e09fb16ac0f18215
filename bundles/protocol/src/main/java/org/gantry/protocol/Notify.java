package org.gantry.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Notification on {@code $aws/things/T/jobs/notify}: the list of pending executions changed.
 *
 * @param timestamp epoch seconds
 * @param jobs pending executions by status; never null (empty when absent), unmodifiable, in wire
 *     order
 */
public record Notify(long timestamp, Map<ExecutionStatus, List<JobExecutionSummary>> jobs) {
  public Notify {
    Map<ExecutionStatus, List<JobExecutionSummary>> copy = new LinkedHashMap<>();
    if (jobs != null) {
      jobs.forEach(
          (k, v) ->
              copy.put(
                  Objects.requireNonNull(k, "jobs must not contain a null status"),
                  Immutables.list(Objects.requireNonNull(v, "jobs." + k), "jobs." + k)));
    }
    jobs = Collections.unmodifiableMap(copy);
  }
}
