package org.gantry.protocol;

import java.util.Objects;

/**
 * A payload or topic that breaks the protocol. The {@link #code()} is the code a service answers
 * with; the message is a sentence that names the offending field.
 */
public final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  /**
   * @param code the error code a service would reject the request with; not null
   * @param message why, as a sentence naming the field
   */
  public ProtocolException(ErrorCode code, String message) {
    super(message);
    this.code = Objects.requireNonNull(code, "code");
  }

  /**
   * @return the error code, never null
   */
  public ErrorCode code() {
    return code;
  }
}
