package org.gantry.engine.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.api.operation.ReasonCode;
import org.gantry.api.transport.ConnectionListener;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.MqttTransport;
import org.gantry.engine.internal.RunningExecution.CancelCause;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Limits;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The AWS IoT Jobs device side for one thing. One runner thread takes the head of the queue, has
 * the document parsed and validated, reports REJECTED or goes IN_PROGRESS, runs the operations on a
 * thread of their own under the step timeout, and reports the terminal status. See the package's
 * README for the workflow.
 */
final class ThingEngine implements ConnectionListener {

  private static final Logger LOG = LoggerFactory.getLogger(ThingEngine.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  private static final Duration CANCEL_GRACE = Duration.ofSeconds(10);
  private static final int MAX_UPDATE_ATTEMPTS = 5;

  /** Tunables, from the component's configuration. */
  record Settings(
      Duration requestTimeout, Duration stepTimeout, Duration pollInterval, Duration minBackoff) {

    /** The step timeout as the service takes it: whole minutes, at least 1. */
    long stepTimeoutMinutes() {
      return Math.max(1, (stepTimeout.toSeconds() + 59) / 60);
    }
  }

  /** What became of an update. */
  private enum Outcome {
    /** The service applied it. */
    APPLIED,
    /** The execution is over for the gateway: canceled, removed, or already terminal. */
    GONE,
    /** The service refused the update itself (a bug on our side); logged. */
    REFUSED
  }

  private final String thingName;
  private final Path workRoot;
  private final MqttTransport transport;
  private final JobDocumentParser parser;
  private final OperationRegistry operations;
  private final Settings settings;
  private final JobsClient client;
  private final ExecutorService runner;
  private final ExecutorService operationThreads;
  private final ScheduledExecutorService scheduler;
  private final Object wakeLock = new Object();
  private final Object connectionLock = new Object();
  private final Set<String> finished = new HashSet<>();
  private volatile boolean running = true;
  private volatile RunningExecution current;
  private volatile OperationRegistry.Entry currentEntry;
  private boolean wakeRequested = true;

  ThingEngine(
      String thingName,
      Path dataDir,
      MqttTransport transport,
      JobDocumentParser parser,
      OperationRegistry operations,
      Settings settings) {
    this.thingName = thingName;
    this.workRoot = dataDir.resolve("work").resolve(thingName);
    this.transport = transport;
    this.parser = parser;
    this.operations = operations;
    this.settings = settings;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(named("gantry-engine-timer"));
    this.runner = Executors.newSingleThreadExecutor(named("gantry-engine-" + thingName));
    this.operationThreads = Executors.newCachedThreadPool(named("gantry-operation-" + thingName));
    this.client =
        new JobsClient(
            new JobsTopics(thingName),
            transport,
            new JobsCodec(),
            scheduler,
            settings.requestTimeout(),
            this::onNotifyNext);
    operations.onRemoval(this::onOperationRemoved);
  }

  void start() {
    transport.addConnectionListener(this);
    runner.execute(this::loop);
  }

  void stop() {
    running = false;
    transport.removeConnectionListener(this);
    RunningExecution ex = current;
    if (ex != null) {
      ex.cancel(CancelCause.GATEWAY, DeviceReason.INTERRUPTED, "the gateway is stopping");
    }
    wake();
    runner.shutdownNow();
    operationThreads.shutdownNow();
    scheduler.shutdownNow();
    client.close();
    try {
      if (!runner.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("The engine of {} did not stop within 5 s", thingName);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void connected() {
    synchronized (connectionLock) {
      connectionLock.notifyAll();
    }
    wake();
  }

  @Override
  public void connectionLost(Throwable cause) {
    // The runner notices on its next request; the transport reconnects by itself.
  }

  private void wake() {
    synchronized (wakeLock) {
      wakeRequested = true;
      wakeLock.notifyAll();
    }
  }

  private void awaitWake(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    synchronized (wakeLock) {
      while (!wakeRequested && running) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(wakeLock, left);
      }
      wakeRequested = false;
    }
  }

  // ---------------------------------------------------------------- the runner

  private void loop() {
    MDC.put("thingName", thingName);
    Duration backoff = settings.minBackoff();
    while (running) {
      try {
        awaitSubscribed();
        synchronized (wakeLock) {
          wakeRequested = false;
        }
        if (!takeNext()) {
          awaitWake(settings.pollInterval());
        }
        backoff = settings.minBackoff();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        if (!running) {
          break;
        }
        LOG.error(
            "The engine of {} failed; trying again in {} ms", thingName, backoff.toMillis(), e);
        try {
          sleep(jitter(backoff));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
      }
    }
    MDC.clear();
  }

  /** Waits until the transport is connected and the answer topics are subscribed (SUBACK). */
  private void awaitSubscribed() throws InterruptedException {
    Duration backoff = settings.minBackoff();
    while (running && !client.subscribed()) {
      if (transport.state() != ConnectionState.CONNECTED) {
        awaitConnected(settings.pollInterval());
        continue;
      }
      try {
        client
            .subscribe()
            .toCompletableFuture()
            .get(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("Subscribed to the jobs topics of {}", thingName);
      } catch (ExecutionException | TimeoutException e) {
        LOG.warn("Could not subscribe to the jobs topics of {}: {}", thingName, message(e));
        sleep(jitter(backoff));
        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
      }
    }
  }

  /** Takes the head of the queue, if any, through to its terminal status; false when idle. */
  private boolean takeNext() throws InterruptedException {
    Reply<DescribeAccepted> head =
        call(() -> client.describe("$next", null, true), "describe $next");
    if (head == null) {
      return false;
    }
    if (!head.isAccepted()) {
      if (!head.rejectedWith(ErrorCode.RESOURCE_NOT_FOUND)) {
        LOG.warn("The service refused to describe the next job: {}", describe(head.rejected()));
      }
      return false;
    }
    JobExecution ex = head.accepted().execution();
    if (ex == null) {
      return false;
    }
    MDC.put("jobId", ex.jobId());
    try {
      String key = ex.jobId() + "#" + ex.executionNumber();
      if (finished.contains(key) && ex.status() == ExecutionStatus.QUEUED) {
        // The service offers an execution this gateway already ended: never run it twice.
        LOG.error(
            "Execution {} of job {} was already reported terminal but the service offers it"
                + " again; not running it twice",
            ex.executionNumber(),
            ex.jobId());
        return false;
      }
      switch (ex.status()) {
        case QUEUED -> run(ex);
        case IN_PROGRESS -> interrupted(ex);
        default -> {
          LOG.warn("The next job {} is {}: nothing to do", ex.jobId(), ex.status());
          return false;
        }
      }
      finished.add(key);
      return true;
    } finally {
      MDC.remove("jobId");
    }
  }

  /**
   * An execution that is IN_PROGRESS when the gateway takes it was started before a restart; its
   * operation's outcome is unknown, so it is reported FAILED (which the service may retry).
   */
  private void interrupted(JobExecution ex) throws InterruptedException {
    LOG.warn(
        "Job {} was already IN_PROGRESS when the gateway started: the gateway restarted while it"
            + " ran; reporting FAILED",
        ex.jobId());
    RunningExecution run = track(ex, null);
    report(
        run,
        ExecutionStatus.FAILED,
        failureDetails(
            DeviceReason.INTERRUPTED,
            "The gateway restarted while this execution was in progress; its outcome is unknown.",
            Map.of()));
  }

  private void run(JobExecution ex) throws InterruptedException {
    LOG.info("Job {} (execution {}) is next", ex.jobId(), ex.executionNumber());
    List<Planned> plan;
    try {
      plan = plan(ex);
    } catch (Refusal r) {
      LOG.warn("Job {} {}: {} {}", ex.jobId(), r.status, r.reason.name(), r.getMessage());
      RunningExecution run = track(ex, null);
      report(run, r.status, failureDetails(r.reason, r.getMessage(), Map.of()));
      return;
    }
    Path workDir = workRoot.resolve(ex.jobId() + "-" + ex.executionNumber());
    ProgressReporter progress = new ProgressReporter();
    RunningExecution run = track(ex, workDir, progress);
    progress.attach(run);
    Outcome started =
        update(
            run,
            ExecutionStatus.IN_PROGRESS,
            Map.of("step", "starting"),
            settings.stepTimeoutMinutes());
    if (started != Outcome.APPLIED) {
      LOG.info("Job {} was not started: it is over for this gateway ({})", ex.jobId(), started);
      return;
    }
    LOG.info("Job {} IN_PROGRESS", ex.jobId());
    current = run;
    OperationResult result;
    try {
      Files.createDirectories(workDir);
      result = execute(run, plan);
    } catch (IOException e) {
      result =
          OperationResult.failed(
              DeviceReason.OPERATION_ERROR,
              "Could not create the execution's work folder " + workDir + ": " + e.getMessage(),
              Map.of());
    } finally {
      current = null;
      currentEntry = null;
    }
    progress.close();
    if (run.cancelCause() == CancelCause.SERVICE) {
      LOG.info(
          "Job {} was canceled or removed by the service; nothing more is reported", ex.jobId());
    } else {
      ExecutionStatus status = toStatus(result.status());
      Map<String, String> details =
          result.status() == OperationResult.Status.SUCCEEDED
              ? result.details()
              : failureDetails(
                  result.reason().orElse(DeviceReason.OPERATION_FAILED),
                  result.message().orElse("The operation failed."),
                  result.details());
      report(run, status, details);
    }
    deleteQuietly(workDir);
  }

  /** One step, with the operation that will run it. */
  private record Planned(JobStep step, OperationRegistry.Entry entry) {}

  /** A document that cannot run: the status and reason to report. */
  private static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient ExecutionStatus status;
    private final transient ReasonCode reason;

    Refusal(ExecutionStatus status, ReasonCode reason, String message) {
      super(message);
      this.status = status;
      this.reason = reason;
    }
  }

  /** Parses and validates the document, and finds an installed operation for every step. */
  private List<Planned> plan(JobExecution ex) throws Refusal {
    if (ex.jobDocument() == null) {
      throw new Refusal(
          ExecutionStatus.REJECTED,
          DocumentReason.MALFORMED_JSON,
          "The service sent no job document for this execution.");
    }
    JobDocument document;
    try {
      document = parser.parse(ex.jobDocument());
    } catch (JobDocumentException e) {
      throw new Refusal(ExecutionStatus.REJECTED, e.reason(), e.getMessage());
    } catch (RuntimeException e) {
      // A parser fault is the gateway's, not the document's: FAILED, which the service may retry.
      LOG.error("The job document parser failed on job {}", ex.jobId(), e);
      throw new Refusal(
          ExecutionStatus.FAILED,
          DeviceReason.OPERATION_ERROR,
          "The gateway could not read the job document: " + e);
    }
    List<Planned> plan = new ArrayList<>();
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
                          "No installed bundle provides the operation '"
                              + step.operation()
                              + "'."));
      JobOperation op = entry.objects().getService();
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
            (document.steps().size() > 1 ? "Step " + index + ": " : "") + e.getMessage());
      } catch (RuntimeException e) {
        LOG.error("The operation '{}' failed while validating its parameters", step.operation(), e);
        throw new Refusal(
            ExecutionStatus.FAILED,
            DeviceReason.OPERATION_ERROR,
            "The operation '" + step.operation() + "' failed to validate its parameters: " + e);
      } finally {
        entry.objects().ungetService(op);
      }
      plan.add(new Planned(step, entry));
    }
    return plan;
  }

  /**
   * Runs the steps in order under the step timeout; the first step that does not succeed ends it.
   */
  private OperationResult execute(RunningExecution run, List<Planned> plan)
      throws InterruptedException {
    Map<String, String> details = new LinkedHashMap<>();
    int index = 0;
    for (Planned p : plan) {
      index++;
      String prefix = plan.size() > 1 ? index + "." : "";
      OperationResult r = executeStep(run, p);
      r.details().forEach((k, v) -> details.put(prefix + k, v));
      if (r.status() != OperationResult.Status.SUCCEEDED) {
        return r.status() == OperationResult.Status.FAILED
            ? OperationResult.failed(r.reason().orElseThrow(), r.message().orElseThrow(), details)
            : OperationResult.rejected(
                r.reason().orElseThrow(), r.message().orElseThrow(), details);
      }
    }
    return OperationResult.succeeded(details);
  }

  private OperationResult executeStep(RunningExecution run, Planned p) throws InterruptedException {
    if (!operations.contains(p.entry())) {
      return OperationResult.failed(
          DeviceReason.OPERATION_UNAVAILABLE,
          "The operation '" + p.step().operation() + "' was uninstalled before it could run.",
          Map.of());
    }
    currentEntry = p.entry();
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    Future<OperationResult> future =
        operationThreads.submit(
            () -> {
              if (mdc != null) {
                MDC.setContextMap(mdc);
              }
              try {
                return invoke(run, p);
              } finally {
                MDC.clear();
              }
            });
    Duration stepTimeout = settings.stepTimeout();
    try {
      OperationResult r = future.get(stepTimeout.toMillis(), TimeUnit.MILLISECONDS);
      return run.cancelled() && run.cancelCause() == CancelCause.GATEWAY ? cancelledResult(run) : r;
    } catch (TimeoutException e) {
      LOG.warn(
          "The operation '{}' did not finish within its step timeout of {} s; cancelling it",
          p.step().operation(),
          stepTimeout.toSeconds());
      run.cancel(
          CancelCause.GATEWAY,
          DeviceReason.STEP_TIMEOUT,
          "The operation '"
              + p.step().operation()
              + "' did not finish within its step timeout of "
              + stepTimeout.toSeconds()
              + " seconds.");
      awaitQuietly(future);
      return cancelledResult(run);
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

  private static OperationResult cancelledResult(RunningExecution run) {
    return OperationResult.failed(run.cancelReason(), run.cancelMessage(), Map.of());
  }

  private void awaitQuietly(Future<?> future) throws InterruptedException {
    try {
      future.get(CANCEL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // the cancelled operation's own failure is of no interest any more
    } catch (TimeoutException e) {
      LOG.error(
          "The cancelled operation did not return within {} s; its thread is abandoned",
          CANCEL_GRACE.toSeconds());
      future.cancel(true);
    }
  }

  private OperationResult invoke(RunningExecution run, Planned p) {
    JobOperation op = p.entry().objects().getService();
    if (op == null) {
      return OperationResult.failed(
          DeviceReason.OPERATION_UNAVAILABLE,
          "The operation '" + p.step().operation() + "' is no longer available.",
          Map.of());
    }
    try {
      LOG.info("Running operation '{}'", p.step().operation());
      OperationResult r = op.execute(run.contextFor(p.step().parameters()));
      if (r == null) {
        return OperationResult.failed(
            DeviceReason.OPERATION_ERROR,
            "The operation '" + p.step().operation() + "' returned no result.",
            Map.of());
      }
      LOG.info("Operation '{}' ended {}", p.step().operation(), r);
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
      try {
        p.entry().objects().ungetService(op);
      } catch (IllegalStateException | IllegalArgumentException e) {
        LOG.debug("The operation service was already released", e);
      }
    }
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

  /**
   * A notify-next that names another job (or none) while one runs is a hint that the running one
   * was canceled or removed: confirm with a describe before cancelling anything (PROTOCOL.md).
   */
  private void onNotifyNext(NotifyNext n) {
    RunningExecution run = current;
    if (run == null) {
      wake();
      return;
    }
    if (n.execution() != null && n.execution().jobId().equals(run.jobId())) {
      return;
    }
    var unused =
        client
            .describe(run.jobId(), run.executionNumber(), false)
            .whenComplete(
                (reply, e) -> {
                  if (e != null || reply == null) {
                    return;
                  }
                  if (isOver(reply)) {
                    withMdc(
                        run,
                        () ->
                            LOG.info(
                                "Job {} was canceled or removed by the service; cancelling its"
                                    + " operation",
                                run.jobId()));
                    run.cancel(
                        CancelCause.SERVICE, DeviceReason.INTERRUPTED, "canceled by the service");
                  }
                });
  }

  private static boolean isOver(Reply<DescribeAccepted> reply) {
    if (!reply.isAccepted()) {
      return reply.rejectedWith(ErrorCode.TERMINAL_STATE_REACHED)
          || reply.rejectedWith(ErrorCode.RESOURCE_NOT_FOUND);
    }
    JobExecution ex = reply.accepted().execution();
    return ex == null || ex.status().isTerminal();
  }

  // ---------------------------------------------------------------- reporting

  private RunningExecution track(JobExecution ex, Path workDir) {
    return track(ex, workDir, null);
  }

  private RunningExecution track(JobExecution ex, Path workDir, ProgressReporter progress) {
    return new RunningExecution(
        thingName,
        ex.jobId(),
        ex.executionNumber(),
        ex.versionNumber(),
        workDir,
        progress == null ? d -> {} : progress::offer);
  }

  private void report(RunningExecution run, ExecutionStatus status, Map<String, String> details)
      throws InterruptedException {
    Outcome o = update(run, status, details, null);
    switch (o) {
      case APPLIED -> LOG.info("Job {} reported {}", run.jobId(), status);
      case GONE ->
          LOG.info("Job {} was already over on the service; {} not reported", run.jobId(), status);
      case REFUSED -> LOG.error("The service refused the {} report of job {}", status, run.jobId());
    }
  }

  /**
   * Sends one status update with the expected version, reconciling a VersionMismatch with a
   * describe of the execution, never by blind retry.
   */
  private Outcome update(
      RunningExecution run, ExecutionStatus status, Map<String, String> details, Long stepTimeout)
      throws InterruptedException {
    Map<String, String> safe = Limits.sanitizeStatusDetails(details);
    for (int attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS && running; attempt++) {
      long expected = run.version();
      Reply<UpdateAccepted> reply =
          call(
              () ->
                  client.update(
                      run.jobId(),
                      new UpdateRequest(
                          status,
                          safe,
                          expected,
                          run.executionNumber(),
                          true,
                          false,
                          stepTimeout,
                          null)),
              "update " + run.jobId() + " to " + status);
      if (reply == null) {
        return Outcome.REFUSED;
      }
      if (reply.isAccepted()) {
        JobExecutionState state = reply.accepted().executionState();
        run.version(state != null ? state.versionNumber() : expected + 1);
        return Outcome.APPLIED;
      }
      Rejected r = reply.rejected();
      switch (r.code()) {
        case VERSION_MISMATCH -> {
          LOG.info(
              "Update of job {} to {} met a version mismatch (expected {}); reading the execution",
              run.jobId(),
              status,
              expected);
          Reply<DescribeAccepted> d =
              call(
                  () -> client.describe(run.jobId(), run.executionNumber(), false),
                  "describe " + run.jobId());
          if (d == null || isOver(d)) {
            return alreadyApplied(d, status) ? Outcome.APPLIED : Outcome.GONE;
          }
          JobExecution now = d.accepted().execution();
          run.version(now.versionNumber());
          if (now.status() == status && status != ExecutionStatus.IN_PROGRESS) {
            return Outcome.APPLIED;
          }
        }
        case INVALID_STATE_TRANSITION, TERMINAL_STATE_REACHED, RESOURCE_NOT_FOUND -> {
          JobExecutionState st = r.executionState();
          if (st != null && st.status() == status) {
            return Outcome.APPLIED;
          }
          return Outcome.GONE;
        }
        default -> {
          LOG.error("The service refused an update of job {}: {}", run.jobId(), describe(r));
          return Outcome.REFUSED;
        }
      }
    }
    return Outcome.REFUSED;
  }

  private static boolean alreadyApplied(Reply<DescribeAccepted> d, ExecutionStatus status) {
    return d != null
        && d.isAccepted()
        && d.accepted().execution() != null
        && d.accepted().execution().status() == status;
  }

  /**
   * Sends a request and waits for its answer; an unanswered or undeliverable request, or one the
   * service throttles or fails internally, is sent again after a jittered, capped backoff. Returns
   * null only when the engine is stopping.
   */
  private <T> Reply<T> call(Supplier<CompletableFuture<Reply<T>>> request, String what)
      throws InterruptedException {
    Duration backoff = settings.minBackoff();
    int failures = 0;
    while (running) {
      if (transport.state() != ConnectionState.CONNECTED) {
        awaitConnected(settings.requestTimeout());
        continue;
      }
      String problem;
      try {
        Reply<T> reply =
            request.get().get(settings.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (!reply.rejectedWith(ErrorCode.REQUEST_THROTTLED)
            && !reply.rejectedWith(ErrorCode.INTERNAL_ERROR)) {
          return reply;
        }
        problem = describe(reply.rejected());
      } catch (ExecutionException | TimeoutException e) {
        problem = message(e);
      }
      failures++;
      if (failures == 1) {
        LOG.warn("{} failed ({}); retrying with backoff", what, problem);
      } else {
        LOG.debug("{} failed again ({}), attempt {}", what, problem, failures);
      }
      sleep(jitter(backoff));
      backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
    }
    return null;
  }

  /** Sends progress as IN_PROGRESS updates, one at a time, keeping only the newest waiting one. */
  private final class ProgressReporter {
    private RunningExecution run;
    private Map<String, String> waiting;
    private boolean inFlight;
    private boolean closed;

    synchronized void attach(RunningExecution r) {
      this.run = r;
    }

    synchronized void offer(Map<String, String> details) {
      if (closed || run == null) {
        return;
      }
      if (inFlight) {
        waiting = details;
        return;
      }
      send(details);
    }

    private void send(Map<String, String> details) {
      inFlight = true;
      RunningExecution r = run;
      long expected = r.version();
      var unused =
          client
              .update(
                  r.jobId(),
                  new UpdateRequest(
                      ExecutionStatus.IN_PROGRESS,
                      Limits.sanitizeStatusDetails(details),
                      expected,
                      r.executionNumber(),
                      true,
                      false,
                      null,
                      null))
              .whenComplete((reply, e) -> answered(r, reply, e));
    }

    private void answered(RunningExecution r, Reply<UpdateAccepted> reply, Throwable e) {
      if (reply != null) {
        if (reply.isAccepted()) {
          JobExecutionState st = reply.accepted().executionState();
          if (st != null) {
            r.version(st.versionNumber());
          }
        } else {
          Rejected rej = reply.rejected();
          JobExecutionState st = rej.executionState();
          if (st != null && !st.status().isTerminal()) {
            r.version(st.versionNumber());
          } else if (rej.code() == ErrorCode.INVALID_STATE_TRANSITION
              || rej.code() == ErrorCode.TERMINAL_STATE_REACHED
              || rej.code() == ErrorCode.RESOURCE_NOT_FOUND) {
            withMdc(
                r,
                () ->
                    LOG.info(
                        "Job {} is over on the service ({}); cancelling its operation",
                        r.jobId(),
                        rej.code().wireName()));
            r.cancel(CancelCause.SERVICE, DeviceReason.INTERRUPTED, "canceled by the service");
          }
        }
      } else if (e != null) {
        withMdc(
            r, () -> LOG.debug("A progress report of job {} was lost: {}", r.jobId(), message(e)));
      }
      synchronized (this) {
        inFlight = false;
        notifyAll();
        if (waiting != null && !closed) {
          Map<String, String> next = waiting;
          waiting = null;
          send(next);
        }
      }
    }

    /** No more progress; waits (bounded) for the one in flight so the version stays right. */
    synchronized void close() throws InterruptedException {
      closed = true;
      waiting = null;
      long deadline = System.nanoTime() + settings.requestTimeout().plusSeconds(1).toNanos();
      while (inFlight) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Map<String, String> failureDetails(
      ReasonCode reason, String message, Map<String, String> extra) {
    Map<String, String> d = new LinkedHashMap<>(extra);
    d.put("reasonCode", reason.name());
    d.put("reasonCategory", reason.category());
    d.put("reason", message);
    return d;
  }

  private static ExecutionStatus toStatus(OperationResult.Status s) {
    return switch (s) {
      case SUCCEEDED -> ExecutionStatus.SUCCEEDED;
      case FAILED -> ExecutionStatus.FAILED;
      case REJECTED -> ExecutionStatus.REJECTED;
    };
  }

  private static void withMdc(RunningExecution run, Runnable r) {
    MDC.put("thingName", run.thingName());
    MDC.put("jobId", run.jobId());
    try {
      r.run();
    } finally {
      MDC.remove("jobId");
      MDC.remove("thingName");
    }
  }

  private static String describe(Rejected r) {
    return r.code().wireName() + (r.message() == null ? "" : ": " + r.message());
  }

  private static String message(Throwable e) {
    Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }

  private static Duration jitter(Duration d) {
    long ms = Math.max(1, d.toMillis());
    return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Backoff; interrupted by {@link #stop()}. Does not consume wake-ups meant for the runner. */
  private static void sleep(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }

  private void awaitConnected(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    synchronized (connectionLock) {
      while (running && transport.state() != ConnectionState.CONNECTED) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(connectionLock, left);
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  LOG.warn("Could not delete {}: {}", p, e.getMessage());
                }
              });
    } catch (IOException e) {
      LOG.warn("Could not delete the work folder {}: {}", dir, e.getMessage());
    }
  }

  private static java.util.concurrent.ThreadFactory named(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
