package org.gantry.api.document;

import java.util.Objects;
import org.gantry.api.operation.ReasonCode;

/**
 * A job document that cannot be carried out. The engine reports the execution {@code REJECTED} with
 * {@link #reason()} and the message.
 *
 * @since 1.0
 */
public class JobDocumentException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient ReasonCode reason;

  /**
   * Creates the exception.
   *
   * @param reason why, usually a {@link org.gantry.api.operation.DocumentReason}
   * @param message a sentence for the operator that says what is wrong and where
   */
  public JobDocumentException(ReasonCode reason, String message) {
    super(Objects.requireNonNull(message, "message"));
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * Why the document was refused.
   *
   * @return the reason code
   */
  public ReasonCode reason() {
    return reason;
  }
}
