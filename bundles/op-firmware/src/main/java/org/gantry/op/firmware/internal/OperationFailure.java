package org.gantry.op.firmware.internal;

import org.gantry.api.operation.OperationException;

/**
 * An {@link OperationException} with a {@link FirmwareReason}: REJECTED for document refusals,
 * FAILED for everything else.
 */
final class OperationFailure extends OperationException {

  private static final long serialVersionUID = 1L;

  OperationFailure(FirmwareReason reason, String message, Throwable cause) {
    super(reason, message, cause, reason.refusal());
  }

  FirmwareReason code() {
    return (FirmwareReason) reason();
  }
}
