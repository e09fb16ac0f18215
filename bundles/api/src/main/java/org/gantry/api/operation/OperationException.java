package org.gantry.api.operation;

import java.util.Objects;

/**
 * An operation's own, understood failure. The engine reports the execution {@code FAILED} (or
 * {@code REJECTED} when {@link #rejected()} is true) with {@link #reason()} and the exception's
 * message in {@code statusDetails}, and logs the cause.
 *
 * @since 1.0
 */
public class OperationException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient ReasonCode reason;
  private final boolean rejected;

  /**
   * A failure the service may retry.
   *
   * @param reason why, never {@code null}
   * @param message a sentence for the operator, never {@code null}
   */
  public OperationException(ReasonCode reason, String message) {
    this(reason, message, null, false);
  }

  /**
   * A failure the service may retry, with its cause.
   *
   * @param reason why, never {@code null}
   * @param message a sentence for the operator, never {@code null}
   * @param cause the underlying exception, may be {@code null}
   */
  public OperationException(ReasonCode reason, String message, Throwable cause) {
    this(reason, message, cause, false);
  }

  /**
   * A failure, retryable or not.
   *
   * @param reason why, never {@code null}
   * @param message a sentence for the operator, never {@code null}
   * @param cause the underlying exception, may be {@code null}
   * @param rejected true when retrying cannot help: the engine then reports {@code REJECTED}
   */
  public OperationException(ReasonCode reason, String message, Throwable cause, boolean rejected) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.rejected = rejected;
  }

  /**
   * Shorthand for a refusal of bad parameters ({@link DocumentReason#INVALID_PARAMETERS}), the
   * usual outcome of {@link JobOperation#validate}.
   *
   * @param message what is wrong with which parameter
   * @return the exception, to throw
   */
  public static OperationException invalidParameters(String message) {
    return new OperationException(DocumentReason.INVALID_PARAMETERS, message, null, true);
  }

  /**
   * Why the operation failed.
   *
   * @return the reason code
   */
  public ReasonCode reason() {
    return reason;
  }

  /**
   * Whether the execution should be reported {@code REJECTED} (not to be retried) rather than
   * {@code FAILED}.
   *
   * @return true for a refusal
   */
  public boolean rejected() {
    return rejected;
  }
}
