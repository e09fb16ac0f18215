package org.gantry.api.transport;

/**
 * A publish or subscribe that the transport could not carry out.
 *
 * @since 1.0
 */
public class TransportException extends Exception {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be done, and why
   * @param cause the client library's exception, may be {@code null}
   */
  public TransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
