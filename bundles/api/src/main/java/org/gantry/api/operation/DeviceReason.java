package org.gantry.api.operation;

/**
 * Reasons an execution failed on the gateway once it had started. Executions that end for one of
 * these are reported {@code FAILED}: the service may retry them.
 *
 * @since 1.0
 */
public enum DeviceReason implements ReasonCode {
  /** The operation reported a failure of its own without a more specific code. */
  OPERATION_FAILED,
  /** The operation threw an unexpected exception; the engine caught it and carried on. */
  OPERATION_ERROR,
  /** The operation's bundle went away (uninstalled or stopped) while the execution ran. */
  OPERATION_UNAVAILABLE,
  /** The operation did not finish within its step timeout and was cancelled. */
  STEP_TIMEOUT,
  /** The gateway stopped while the operation ran; the operation could not finish. */
  INTERRUPTED,
  /**
   * The operation asked for its job document again ({@link OperationContext#refreshParameters()})
   * and the service could not provide it.
   *
   * @since 1.2
   */
  DOCUMENT_UNAVAILABLE;

  @Override
  public String category() {
    return "DEVICE";
  }
}
