package org.gantry.api.operation;

import java.nio.file.Path;
import java.util.Map;
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
   * A folder private to this execution, created before {@link JobOperation#execute} is called and
   * deleted by the engine once the execution has ended.
   *
   * @return an existing, writable folder
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
}
