package org.gantry.op.command.internal;

import org.gantry.api.operation.ReasonCode;

/** Why a {@code command} step did not succeed; the code goes into {@code statusDetails}. */
enum CommandReason implements ReasonCode {
  /** The document asks for {@code runCommand}, which this gateway's configuration turns off. */
  RUN_COMMAND_DISABLED("DOCUMENT"),
  /** The document asks for {@code runAsUser}, which this gateway's configuration turns off. */
  RUN_AS_USER_DISABLED("DOCUMENT"),
  /** The handler is not in the handler folder. */
  HANDLER_NOT_FOUND("DEVICE"),
  /** The handler folder or the handler is not owned by the runtime's user or not mode 700. */
  HANDLER_UNSAFE("DEVICE"),
  /** The process could not be started. */
  START_FAILED("DEVICE"),
  /** The process ended with a status other than 0, or was killed by a signal. */
  EXIT_STATUS("DEVICE"),
  /** The process wrote more lines to stderr than the step's {@code allowStdErr}. */
  STDERR_OUTPUT("DEVICE"),
  /** The process ran longer than {@code timeout.seconds}; its process tree was killed. */
  COMMAND_TIMEOUT("DEVICE");

  private final String category;

  CommandReason(String category) {
    this.category = category;
  }

  @Override
  public String category() {
    return category;
  }
}
