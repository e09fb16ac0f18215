package org.gantry.protocol;

import java.util.Objects;

/**
 * Answer on any {@code .../rejected} topic.
 *
 * @param code not null; a code the decoder does not know becomes {@link ErrorCode#INTERNAL_ERROR}
 * @param message the service's explanation; null when absent
 * @param clientToken the request's token; null when absent
 * @param timestamp epoch seconds
 * @param executionState present with VersionMismatch and InvalidStateTransition; else null
 */
public record Rejected(
    ErrorCode code,
    String message,
    String clientToken,
    long timestamp,
    JobExecutionState executionState) {
  public Rejected {
    Objects.requireNonNull(code, "code");
  }
}
