package org.gantry.protocol;

/**
 * The status of one job execution, with the same names as on the wire.
 *
 * <p>The device sets {@link #IN_PROGRESS}, {@link #SUCCEEDED}, {@link #FAILED} and {@link
 * #REJECTED}; the service sets {@link #QUEUED}, {@link #TIMED_OUT}, {@link #REMOVED} and {@link
 * #CANCELED}.
 */
public enum ExecutionStatus {
  QUEUED,
  IN_PROGRESS,
  SUCCEEDED,
  FAILED,
  TIMED_OUT,
  REJECTED,
  REMOVED,
  CANCELED;

  /**
   * Whether the execution is over: once terminal, its status never changes again.
   *
   * @return true for SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED and CANCELED
   */
  public boolean isTerminal() {
    return this != QUEUED && this != IN_PROGRESS;
  }

  /**
   * Whether a device may set this status with an update request.
   *
   * @return true for IN_PROGRESS, SUCCEEDED, FAILED and REJECTED
   */
  public boolean isDeviceSettable() {
    return this == IN_PROGRESS || this == SUCCEEDED || this == FAILED || this == REJECTED;
  }
}
