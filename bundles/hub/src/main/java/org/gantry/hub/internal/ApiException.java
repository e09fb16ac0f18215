package org.gantry.hub.internal;

import java.util.Map;

/**
 * An error of the management API, as AWS IoT reports it: an HTTP status, the error type the SDK
 * maps to an exception class ({@code x-amzn-ErrorType}), a message, and extra body fields.
 */
final class ApiException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String type;
  private final transient Map<String, String> extra;

  ApiException(int status, String type, String message) {
    this(status, type, message, Map.of());
  }

  ApiException(int status, String type, String message, Map<String, String> extra) {
    super(message);
    this.status = status;
    this.type = type;
    this.extra = Map.copyOf(extra);
  }

  static ApiException invalid(String message) {
    return new ApiException(400, "InvalidRequestException", message);
  }

  static ApiException stateTransition(String message) {
    return new ApiException(409, "InvalidStateTransitionException", message);
  }

  static ApiException notFound(String message) {
    return new ApiException(404, "ResourceNotFoundException", message);
  }

  static ApiException exists(String message, String resourceId, String resourceArn) {
    return new ApiException(
        409,
        "ResourceAlreadyExistsException",
        message,
        Map.of("resourceId", resourceId, "resourceArn", resourceArn));
  }

  int status() {
    return status;
  }

  String type() {
    return type;
  }

  Map<String, String> extra() {
    return extra;
  }
}
