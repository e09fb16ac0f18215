package org.gantry.api.operation;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the engine gives an operation while it runs one execution. Implemented by the engine; an
 * operation never talks MQTT itself. A context is valid only during the {@link
 * JobOperation#execute} call it was passed to.
 *
 * @since 1.0
 */
@ProviderType
public interface OperationContext {

  /**
   * The thing this execution belongs to.
   *
   * @return the AWS IoT thing name
   */
  String thingName();

  /**
   * The job this execution belongs to.
   *
   * @return the job id
   */
  String jobId();

  /**
   * The number that, with thing name and job id, identifies this execution; retries of the same job
   * on the same thing get higher numbers.
   *
   * @return the execution number, at least 1
   */
  long executionNumber();

  /**
   * This operation's part of the job document: for a document {@code {"operation": "t", "a": 1}}
   * everything but {@code operation}.
   *
   * @return an immutable view of the parameters, never {@code null}
   */
  JobParameters parameters();

  /**
   * A folder private to this execution, the same for every step and across restarts of the gateway,
   * created when first asked for and deleted by the engine once the execution has ended.
   *
   * @return an existing, writable folder
   * @throws java.io.UncheckedIOException when the folder cannot be created
   */
  Path workDir();

  /**
   * Reports progress to the service as an {@code IN_PROGRESS} update. The engine adds {@code step}
   * and {@code percent} to {@code details}, trims and escapes what breaks the service's limits on
   * {@code statusDetails}, and sends it without blocking the caller: a progress report that cannot
   * be delivered is dropped, never retried over a newer one.
   *
   * @param step a short name of the current step, for example {@code downloading}
   * @param percent 0 to 100; values outside are clamped
   * @param details further key/value pairs to show, may be empty
   */
  void progress(String step, int percent, Map<String, String> details);

  /**
   * Restarts the step timer with a longer (or shorter) limit than this operation type's step
   * timeout, for a step known to take long, for example flashing a large image. The gateway cancels
   * the operation when the limit passes without another call or progress report; the service is
   * told too (its step timer restarts with the limit rounded up to whole minutes). The execution's
   * in-progress timeout, set by the job, still applies.
   *
   * @param limit from now, at least one second and at most 7 days
   * @throws IllegalArgumentException for a limit outside that range
   * @since 1.1
   */
  void extendStepTimeout(Duration limit);

  /**
   * Reads a checkpoint this execution wrote earlier, possibly before a restart of the gateway.
   *
   * @param key the checkpoint's name
   * @return its value, or empty when none was written
   * @since 1.1
   */
  Optional<String> checkpoint(String key);

  /**
   * Records a checkpoint durably: when this call returns the value is on disk, and if the gateway
   * restarts while the execution runs, the engine resumes the execution with the same work folder
   * and the operation's next {@link JobOperation#execute} call sees the value. Use it before and
   * after side effects that must not be repeated or must be undone, for example {@code "downloaded"
   * = "sha256:..."}. Each call costs a disk sync: checkpoint steps, not bytes.
   *
   * @param key the checkpoint's name, 1 to 128 characters
   * @param value the value, at most 4,096 characters; {@code null} removes the checkpoint
   * @throws IllegalArgumentException for a key or value outside those limits
   * @throws java.io.UncheckedIOException when the checkpoint cannot be written
   * @since 1.1
   */
  void checkpoint(String key, String value);

  /**
   * Whether the execution has been cancelled: the service canceled or removed it, its step timed
   * out, or the gateway is stopping. Once true it stays true; the operation should undo what it can
   * and return (its result is then ignored).
   *
   * @return true when the operation should stop
   */
  boolean cancelled();

  /**
   * Registers an action to run once when the execution is cancelled, on an engine thread. If the
   * execution is already cancelled the action runs at once on the calling thread. Actions must be
   * quick and must not throw.
   *
   * @param action what to do, for example closing a download
   */
  void onCancel(Runnable action);

  /**
   * Fetches the job document from the service again and returns the parameters of the step that is
   * running, as {@link #parameters()} would for a document received now. For an operation whose
   * download URL expired (a presigned URL answered with HTTP 403): the service replaces the
   * placeholders again, with a fresh expiry, whenever the document is fetched. Blocks for at most
   * the engine's request timeout and retries.
   *
   * @return the step's parameters from the document the service holds now
   * @throws OperationException with {@link DeviceReason#DOCUMENT_UNAVAILABLE} when the service
   *     cannot be reached, no longer has the execution, or now sends a document whose step is of
   *     another operation type
   * @since 1.2
   */
  JobParameters refreshParameters() throws OperationException;
}
