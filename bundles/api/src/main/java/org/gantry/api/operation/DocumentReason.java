package org.gantry.api.operation;

/**
 * Reasons a job document is refused before anything runs. An execution refused for one of these is
 * reported {@code REJECTED}: running it again would not help, so the service must not retry it.
 *
 * @since 1.0
 */
public enum DocumentReason implements ReasonCode {
  /** The document is not well-formed JSON, or its top level is not an object. */
  MALFORMED_JSON,
  /** The document is longer than the 32,768 characters AWS IoT Jobs allows. */
  TOO_LARGE,
  /** The document nests objects and arrays deeper than the parser allows. */
  TOO_DEEP,
  /** An object in the document has the same key twice. */
  DUPLICATE_KEY,
  /** The document's shape matches none of the formats the gateway reads. */
  UNKNOWN_FORMAT,
  /** The document, or one of its steps, names no operation. */
  NO_OPERATION,
  /** The document names an operation type that no installed bundle provides. */
  OPERATION_NOT_INSTALLED,
  /** The operation refused the parameters the document gives it. */
  INVALID_PARAMETERS,
  /**
   * The document still holds a placeholder the service should have replaced before sending it, for
   * example a presigned-URL placeholder {@code ${aws:iot:s3-presigned-url:...}}: the job was sent
   * without the service's substitution (a missing presign role, or a copy of the template), so the
   * gateway has nothing it could fetch.
   *
   * @since 1.1
   */
  UNRESOLVED_PLACEHOLDER;

  @Override
  public String category() {
    return "DOCUMENT";
  }
}
