package org.gantry.engine.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.api.operation.ReasonCode;
import org.gantry.engine.internal.RunningExecution.CancelCause;
import org.gantry.protocol.ExecutionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Turns a job document into steps bound to installed operations (parse, find, validate) and runs
 * them, one at a time, on the shared worker pool under the step timeout. Knows which execution of
 * its thing is running, so that an operation uninstalled mid-job cancels it.
 */
final class StepRunner {

  private static final Logger LOG = LoggerFactory.getLogger(StepRunner.class);
  private static final Duration CANCEL_GRACE = Duration.ofSeconds(10);

  /** How often a step that waits for a worker looks whether its execution was cancelled. */
  private static final Duration WORKER_POLL = Duration.ofMillis(100);

  private final JobDocumentParser parser;
  private final OperationRegistry operations;
  private final ExecutorService workers;
  private final ThingEngine.Settings settings;
  private final CrashPoints crash;
  private final DocumentFetcher fetcher;
  private volatile RunningExecution current;
  private volatile OperationRegistry.Entry currentEntry;

  StepRunner(
      JobDocumentParser parser,
      OperationRegistry operations,
      ExecutorService workers,
      ThingEngine.Settings settings,
      CrashPoints crash,
      DocumentFetcher fetcher) {
    this.crash = crash;
    this.fetcher = fetcher;
    this.parser = parser;
    this.operations = operations;
    this.workers = workers;
    this.settings = settings;
    operations.onRemoval(this::onOperationRemoved);
  }

  /** The execution whose operation runs now, if any. */
  RunningExecution current() {
    return current;
  }

  /** Fetches an execution's job document from the service again (for refreshParameters). */
  interface DocumentFetcher {
    /**
     * The document as the service sends it now.
     *
     * @throws OperationException with {@link DeviceReason#DOCUMENT_UNAVAILABLE} when it cannot
     */
    String fetch(RunningExecution run) throws OperationException;
  }

  /**
   * One step, with the operation that will run it.
   *
   * @param index the step's position in the document, from 0
   * @param finalStep whether it is the document's final step, which runs only when every step
   *     before it succeeded
   */
  record Planned(JobStep step, int index, OperationRegistry.Entry entry, boolean finalStep) {}

  /** A document that cannot run: the status and reason to report. */
  static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ExecutionStatus status;
    final transient ReasonCode reason;

    /** The operation type that is not installed, for OPERATION_NOT_INSTALLED; else null. */
    final String missingOperation;

    Refusal(ExecutionStatus status, ReasonCode reason, String message) {
      this(status, reason, message, null);
    }

    Refusal(ExecutionStatus status, ReasonCode reason, String message, String missingOperation) {
      super(message);
      this.status = status;
      this.reason = reason;
      this.missingOperation = missingOperation;
    }
  }

  /** Parses the document and finds an installed operation for every step; validates if asked. */
  List<Planned> plan(String jobId, String json, boolean validate) throws Refusal {
    if (json == null) {
      throw new Refusal(
          ExecutionStatus.REJECTED,
          DocumentReason.MALFORMED_JSON,
          "The service sent no job document for this execution.");
    }
    JobDocument document;
    try {
      document = parser.parse(json);
    } catch (JobDocumentException e) {
      throw new Refusal(ExecutionStatus.REJECTED, e.reason(), e.getMessage());
    } catch (RuntimeException e) {
      // A parser fault is the gateway's, not the document's: FAILED, which the service may retry.
      LOG.error("The job document parser failed on job {}", jobId, e);
      throw new Refusal(
          ExecutionStatus.FAILED,
          DeviceReason.OPERATION_ERROR,
          "The gateway could not read the job document: " + e);
    }
    List<Planned> plan = new ArrayList<>();
    // The final step is the last of steps() (the same object): validated like any other, so that a
    // job whose clean-up cannot run is refused before its first step changes anything.
    JobStep last = document.finalStep().orElse(null);
    int index = 0;
    for (JobStep step : document.steps()) {
      index++;
      OperationRegistry.Entry entry =
          operations
              .find(step.operation())
              .orElseThrow(
                  () ->
                      new Refusal(
                          ExecutionStatus.REJECTED,
                          DocumentReason.OPERATION_NOT_INSTALLED,
                          "No installed bundle provides the operation '" + step.operation() + "'.",
                          step.operation()));
      boolean isFinal = step == last && index == document.steps().size();
      if (validate) {
        validate(
            step,
            entry,
            isFinal ? "Final step: " : document.steps().size() > 1 ? "Step " + index + ": " : "");
      }
      plan.add(new Planned(step, index - 1, entry, isFinal));
    }
    return plan;
  }

  private static void validate(JobStep step, OperationRegistry.Entry entry, String prefix)
      throws Refusal {
    JobOperation op = entry.acquire();
    if (op == null) {
      throw new Refusal(
          ExecutionStatus.REJECTED,
          DocumentReason.OPERATION_NOT_INSTALLED,
          "The operation '" + step.operation() + "' is being uninstalled.");
    }
    try {
      op.validate(step.parameters());
    } catch (OperationException e) {
      throw new Refusal(
          e.rejected() ? ExecutionStatus.REJECTED : ExecutionStatus.FAILED,
          e.reason(),
          prefix + e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("The operation '{}' failed while validating its parameters", step.operation(), e);
      throw new Refusal(
          ExecutionStatus.FAILED,
          DeviceReason.OPERATION_ERROR,
          "The operation '" + step.operation() + "' failed to validate its parameters: " + e);
    } finally {
      entry.release(op);
    }
  }

  /** Runs the steps in order; the first step that does not succeed ends it. */
  OperationResult execute(RunningExecution run, List<Planned> plan) throws InterruptedException {
    current = run;
    try {
      return executeSteps(run, plan);
    } finally {
      current = null;
      currentEntry = null;
    }
  }

  private OperationResult executeSteps(RunningExecution run, List<Planned> plan)
      throws InterruptedException {
    Map<String, String> details = new LinkedHashMap<>();
    int index = 0;
    // The first step that does not succeed ends the loop, so the final step (always last) is
    // reached only when every step before it succeeded: that is the whole finalStep rule.
    for (Planned p : plan) {
      index++;
      // ':' is one of the few characters statusDetails keys allow ([a-zA-Z0-9:_-]); '.' would be
      // turned into '_' by the sanitiser.
      String prefix = p.finalStep() ? "final:" : plan.size() > 1 ? index + ":" : "";
      if (p.finalStep()) {
        LOG.info("Every step succeeded; running the final step '{}'", p.step().operation());
      }
      OperationResult r = executeStep(run, p);
      r.details().forEach((k, v) -> details.put(prefix + k, v));
      if (r.status() != OperationResult.Status.SUCCEEDED) {
        String message =
            p.finalStep()
                ? "The final step failed: " + r.message().orElseThrow()
                : r.message().orElseThrow();
        return r.status() == OperationResult.Status.FAILED
            ? OperationResult.failed(r.reason().orElseThrow(), message, details)
            : OperationResult.rejected(r.reason().orElseThrow(), message, details);
      }
    }
    return OperationResult.succeeded(details);
  }

  /**
   * Runs one step on the worker pool. The step timer starts when the operation starts (not while it
   * waits for a worker) and restarts with every progress report or extension.
   */
  private OperationResult executeStep(RunningExecution run, Planned p) throws InterruptedException {
    if (!operations.contains(p.entry())) {
      return OperationResult.failed(
          DeviceReason.OPERATION_UNAVAILABLE,
          "The operation '" + p.step().operation() + "' was uninstalled before it could run.",
          Map.of());
    }
    currentEntry = p.entry();
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    AtomicBoolean started = new AtomicBoolean();
    Future<OperationResult> future;
    try {
      future =
          workers.submit(
              () -> {
                if (mdc != null) {
                  MDC.setContextMap(mdc);
                }
                run.startStep(settings.stepTimeoutFor(p.step().operation()));
                started.set(true);
                try {
                  return invoke(run, p);
                } finally {
                  MDC.clear();
                }
              });
    } catch (RejectedExecutionException e) {
      throw new IllegalStateException("the worker pool is shut down", e);
    }
    try {
      // One wait for the result, whether the operation has a worker yet or not: a quick operation
      // then wakes this thread once, when it returns, not also when it starts.
      while (true) {
        long wait;
        if (!started.get()) {
          // Waiting for a worker: the step timer has not started, but a cancel must not wait.
          if (run.cancelled() && future.cancel(false)) {
            return cancelledResult(run);
          }
          wait = WORKER_POLL.toNanos();
        } else {
          wait = run.nanosLeft();
          if (wait <= 0) {
            return stepTimedOut(run, p, future);
          }
        }
        try {
          OperationResult r = future.get(wait, TimeUnit.NANOSECONDS);
          return run.cancelled() && run.cancelCause() == CancelCause.GATEWAY
              ? cancelledResult(run)
              : r;
        } catch (TimeoutException e) {
          // Not started yet, or the deadline moved (progress or an extension): look again.
        }
      }
    } catch (ExecutionException e) {
      // invoke() catches everything the operation throws; this is an engine fault.
      return OperationResult.failed(
          DeviceReason.OPERATION_ERROR, String.valueOf(e.getCause()), Map.of());
    } catch (InterruptedException e) {
      run.cancel(CancelCause.GATEWAY, DeviceReason.INTERRUPTED, "The gateway is stopping.");
      future.cancel(true);
      throw e;
    }
  }

  private OperationResult stepTimedOut(
      RunningExecution run, Planned p, Future<OperationResult> future) throws InterruptedException {
    Duration limit = run.stepTimeout();
    LOG.warn(
        "The operation '{}' made no progress within its step timeout of {} s; cancelling it",
        p.step().operation(),
        limit.toSeconds());
    run.cancel(
        CancelCause.GATEWAY,
        DeviceReason.STEP_TIMEOUT,
        "The operation '"
            + p.step().operation()
            + "' made no progress within its step timeout of "
            + limit.toSeconds()
            + " seconds.");
    awaitQuietly(future);
    return cancelledResult(run);
  }

  private static OperationResult cancelledResult(RunningExecution run) {
    return OperationResult.failed(run.cancelReason(), run.cancelMessage(), Map.of());
  }

  private static void awaitQuietly(Future<?> future) throws InterruptedException {
    try {
      future.get(CANCEL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // the cancelled operation's own failure is of no interest any more
    } catch (TimeoutException e) {
      LOG.error(
          "The cancelled operation did not return within {} s; interrupting its thread",
          CANCEL_GRACE.toSeconds());
      future.cancel(true);
    }
  }

  private OperationResult invoke(RunningExecution run, Planned p) {
    JobOperation op = p.entry().acquire();
    if (op == null) {
      return OperationResult.failed(
          DeviceReason.OPERATION_UNAVAILABLE,
          "The operation '" + p.step().operation() + "' is no longer available.",
          Map.of());
    }
    try {
      LOG.debug("Running operation '{}'", p.step().operation());
      crash.reached(CrashPoints.Point.IN_OPERATION);
      OperationResult r = op.execute(run.contextFor(p.step().parameters(), () -> refetch(run, p)));
      if (r == null) {
        return OperationResult.failed(
            DeviceReason.OPERATION_ERROR,
            "The operation '" + p.step().operation() + "' returned no result.",
            Map.of());
      }
      if (r.status() == OperationResult.Status.SUCCEEDED) {
        LOG.debug("Operation '{}' ended {}", p.step().operation(), r);
      } else {
        LOG.info("Operation '{}' ended {}", p.step().operation(), r);
      }
      return r;
    } catch (OperationException e) {
      LOG.warn(
          "Operation '{}' failed: {} {}",
          p.step().operation(),
          e.reason().name(),
          e.getMessage(),
          e);
      return e.rejected()
          ? OperationResult.rejected(e.reason(), e.getMessage(), Map.of())
          : OperationResult.failed(e.reason(), e.getMessage(), Map.of());
    } catch (RuntimeException | LinkageError e) {
      // A broken operation bundle must never take the engine down with it.
      LOG.error("Operation '{}' threw", p.step().operation(), e);
      return OperationResult.failed(
          DeviceReason.OPERATION_ERROR,
          "The operation '" + p.step().operation() + "' failed unexpectedly: " + e,
          Map.of());
    } finally {
      p.entry().release(op);
    }
  }

  /** The running step's parameters from the document the service holds now. */
  private JobParameters refetch(RunningExecution run, Planned p) throws OperationException {
    String json = fetcher.fetch(run);
    JobDocument document;
    try {
      document = parser.parse(json);
    } catch (JobDocumentException e) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The job document fetched again from the service is no longer valid: " + e.getMessage(),
          e);
    }
    List<JobStep> steps = document.steps();
    if (p.index() >= steps.size()
        || !steps.get(p.index()).operation().equals(p.step().operation())) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The job document fetched again from the service no longer has a '"
              + p.step().operation()
              + "' step at position "
              + (p.index() + 1)
              + ".");
    }
    LOG.info("Fetched the job document again for step {}", p.index() + 1);
    return steps.get(p.index()).parameters();
  }

  private void onOperationRemoved(OperationRegistry.Entry entry) {
    RunningExecution run = current;
    if (run != null && entry.equals(currentEntry)) {
      run.cancel(
          CancelCause.GATEWAY,
          DeviceReason.OPERATION_UNAVAILABLE,
          "The operation '" + entry.type() + "' was uninstalled while it ran.");
    }
  }

  /** The details reported for anything but success: the reason code, its class and a sentence. */
  static Map<String, String> failureDetails(
      ReasonCode reason, String message, Map<String, String> extra) {
    Map<String, String> d = new LinkedHashMap<>(extra);
    d.put("reasonCode", reason.name());
    d.put("reasonCategory", reason.category());
    d.put("reason", message);
    return d;
  }

  static ExecutionStatus toStatus(OperationResult.Status s) {
    return switch (s) {
      case SUCCEEDED -> ExecutionStatus.SUCCEEDED;
      case FAILED -> ExecutionStatus.FAILED;
      case REJECTED -> ExecutionStatus.REJECTED;
    };
  }
}
