package org.gantry.api.operation;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One type of operation a gateway can carry out, for example {@code diagnostics} or {@code
 * firmware-update}. Register an implementation as an OSGi service with the service property {@value
 * #TYPE} set to the type that job documents name; the engine dispatches every step of that type to
 * it. Bundles that provide operations may be installed, updated and removed while the gateway runs:
 * a job for a type that is not installed is reported {@code REJECTED}.
 *
 * <p><b>Threading.</b> The engine calls {@link #validate} and {@link #execute} on a thread of its
 * own, never on an MQTT thread, and runs at most one execution per thing at a time. {@code execute}
 * may block for as long as the operation needs; it should check {@link
 * OperationContext#cancelled()} (or register {@link OperationContext#onCancel}) at least between
 * long steps and return promptly when cancelled. An implementation serving several things may be
 * called concurrently.
 *
 * <p><b>Restarts (since 1.1).</b> If the gateway stops while an execution runs (a crash, a power
 * loss, a reboot), the engine resumes the execution after the restart by calling {@link #execute}
 * again with the same work folder and the checkpoints written so far ({@link
 * OperationContext#checkpoint(String)}). An operation whose steps must not be repeated checkpoints
 * them; one without checkpoints simply runs again.
 *
 * @since 1.0
 */
@ConsumerType
public interface JobOperation {

  /** The service property that names the operation type this service serves. */
  String TYPE = "gantry.operation";

  /**
   * Checks this operation's parameters before the engine accepts the execution. Throwing here makes
   * the engine report the execution {@code REJECTED} with the exception's reason and message,
   * without the execution ever going {@code IN_PROGRESS}: nothing has been downloaded or changed.
   * Must not have side effects. The default accepts any parameters.
   *
   * @param parameters this operation's part of the job document
   * @throws OperationException when the parameters are unusable; use {@link
   *     DocumentReason#INVALID_PARAMETERS} or a more specific code of your own
   */
  default void validate(JobParameters parameters) throws OperationException {}

  /**
   * Carries out the operation.
   *
   * @param context the execution's identity, parameters and the engine's services for it
   * @return the outcome; {@link OperationResult#succeeded} in the usual case
   * @throws OperationException when the operation fails in a way it understands; the engine reports
   *     {@code FAILED} (or {@code REJECTED}, see {@link OperationException#rejected()}) with the
   *     exception's reason code and message. Any other exception is caught by the engine and
   *     reported {@code FAILED} with {@link DeviceReason#OPERATION_ERROR}.
   */
  OperationResult execute(OperationContext context) throws OperationException;
}
