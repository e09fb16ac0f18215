package org.gantry.protocol;

import java.util.Optional;

/** The error codes of a rejected request, each with its exact wire name. */
public enum ErrorCode {
  INVALID_TOPIC("InvalidTopic"),
  INVALID_JSON("InvalidJson"),
  INVALID_REQUEST("InvalidRequest"),
  INVALID_STATE_TRANSITION("InvalidStateTransition"),
  RESOURCE_NOT_FOUND("ResourceNotFound"),
  VERSION_MISMATCH("VersionMismatch"),
  INTERNAL_ERROR("InternalError"),
  REQUEST_THROTTLED("RequestThrottled"),
  TERMINAL_STATE_REACHED("TerminalStateReached");

  private final String wireName;

  ErrorCode(String wireName) {
    this.wireName = wireName;
  }

  /**
   * The code as it appears in the {@code code} field of a rejected answer.
   *
   * @return for example {@code "VersionMismatch"}
   */
  public String wireName() {
    return wireName;
  }

  /**
   * The code with this wire name.
   *
   * @param s a wire name, case-sensitive; may be null
   * @return the code, or empty when {@code s} is null or names no known code
   */
  public static Optional<ErrorCode> fromWire(String s) {
    for (ErrorCode c : values()) {
      if (c.wireName.equals(s)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
