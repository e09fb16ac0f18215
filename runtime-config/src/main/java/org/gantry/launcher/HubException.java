package org.gantry.launcher;

/**
 * A management API call that did not succeed: the hub refused it (its HTTP status, AWS error type
 * and message), or it could not be reached or gave an answer that is not the API's.
 */
final class HubException extends Exception {

  private static final long serialVersionUID = 1L;

  /** The HTTP status, or 0 when no HTTP answer came. */
  private final int status;

  /** The {@code x-amzn-ErrorType} of the answer (without any {@code :} suffix), or empty. */
  private final String type;

  HubException(int status, String type, String message) {
    super(message);
    this.status = status;
    this.type = type;
  }

  HubException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
    this.type = "";
  }

  int status() {
    return status;
  }

  String type() {
    return type;
  }

  /** True when the hub refused the request with this AWS error type. */
  boolean is(String errorType) {
    return type.equals(errorType);
  }
}
