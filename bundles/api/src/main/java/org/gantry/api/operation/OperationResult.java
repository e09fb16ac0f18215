package org.gantry.api.operation;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one {@link JobOperation#execute} call: a terminal status, and for anything but
 * success a reason code and a sentence. {@link #details()} are reported to the service in the
 * execution's {@code statusDetails}. Immutable.
 *
 * @since 1.0
 */
public final class OperationResult {

  /** The terminal status an operation can report. */
  public enum Status {
    /** The operation did what the job asked. */
    SUCCEEDED,
    /** The operation tried and failed; the service may retry the job. */
    FAILED,
    /** The operation refuses the job; retrying it would not help. */
    REJECTED
  }

  private final Status status;
  private final ReasonCode reason;
  private final String message;
  private final Map<String, String> details;

  private OperationResult(
      Status status, ReasonCode reason, String message, Map<String, String> details) {
    this.status = Objects.requireNonNull(status, "status");
    this.reason = reason;
    this.message = message;
    this.details = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(details, "details")));
  }

  /**
   * Success with facts to report.
   *
   * @param details key/value pairs for {@code statusDetails}; may be empty, no null keys or values
   * @return the result
   */
  public static OperationResult succeeded(Map<String, String> details) {
    return new OperationResult(Status.SUCCEEDED, null, null, details);
  }

  /**
   * Success with nothing further to report.
   *
   * @return the result
   */
  public static OperationResult succeeded() {
    return succeeded(Map.of());
  }

  /**
   * A failure the service may retry.
   *
   * @param reason why, never {@code null}
   * @param message a sentence for the operator, never {@code null}
   * @param details further facts for {@code statusDetails}
   * @return the result
   */
  public static OperationResult failed(
      ReasonCode reason, String message, Map<String, String> details) {
    return new OperationResult(
        Status.FAILED,
        Objects.requireNonNull(reason, "reason"),
        Objects.requireNonNull(message, "message"),
        details);
  }

  /**
   * A refusal the service must not retry.
   *
   * @param reason why, never {@code null}
   * @param message a sentence for the operator, never {@code null}
   * @param details further facts for {@code statusDetails}
   * @return the result
   */
  public static OperationResult rejected(
      ReasonCode reason, String message, Map<String, String> details) {
    return new OperationResult(
        Status.REJECTED,
        Objects.requireNonNull(reason, "reason"),
        Objects.requireNonNull(message, "message"),
        details);
  }

  /**
   * The terminal status.
   *
   * @return the status
   */
  public Status status() {
    return status;
  }

  /**
   * Why the operation did not succeed.
   *
   * @return the reason; empty for {@link Status#SUCCEEDED}
   */
  public Optional<ReasonCode> reason() {
    return Optional.ofNullable(reason);
  }

  /**
   * The sentence for the operator.
   *
   * @return the message; empty for {@link Status#SUCCEEDED}
   */
  public Optional<String> message() {
    return Optional.ofNullable(message);
  }

  /**
   * Facts to report in {@code statusDetails}, in the order given.
   *
   * @return an immutable map
   */
  public Map<String, String> details() {
    return details;
  }

  @Override
  public String toString() {
    return status + (reason == null ? "" : " " + reason.name() + ": " + message);
  }
}
