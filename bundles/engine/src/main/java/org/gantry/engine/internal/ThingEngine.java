package org.gantry.engine.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.operation.DeviceReason;
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
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The AWS IoT Jobs device side for one thing. One runner thread first settles what the journal
 * holds open (reconciling each entry with the service), then takes the head of the queue, has the
 * document parsed and validated, reports REJECTED or goes IN_PROGRESS, runs the operations on the
 * shared worker pool under the step timeout, and reports the terminal status. Every state change is
 * in the journal before it is acted on. See the bundle's README for the workflow.
 */
final class ThingEngine implements ConnectionListener {

  private static final Logger LOG = LoggerFactory.getLogger(ThingEngine.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  private static final int MAX_UPDATE_ATTEMPTS = 5;
  private static final int MAX_REQUEST_ATTEMPTS = 6;
  private static final int FINISHED_MEMORY = 1024;

  /**
   * How long the runner waits, after a terminal status was applied, for the notify-next that names
   * the new head of the queue before it asks with a describe of {@code $next} instead.
   */
  private static final Duration NOTIFY_GRACE = Duration.ofMillis(50);

  /** The statusDetails of an execution that goes IN_PROGRESS, until its operation reports. */
  private static final Map<String, String> STARTING = Map.of("step", "starting");

  /** Tunables, from the component's configuration. */
  record Settings(
      Duration requestTimeout,
      Duration stepTimeout,
      Map<String, Duration> stepTimeouts,
      Duration pollInterval,
      Duration minBackoff,
      Duration progressInterval,
      Duration installGrace,
      boolean startNextAfterTerminal) {

    Settings {
      stepTimeouts = Map.copyOf(stepTimeouts);
    }

    /** The step timeout of an operation type. */
    Duration stepTimeoutFor(String operation) {
      return stepTimeouts.getOrDefault(operation, stepTimeout);
    }

    /** A step timeout as the service takes it: whole minutes, at least 1, at most 10080. */
    static long minutes(Duration d) {
      return Math.min(10080, Math.max(1, (d.toSeconds() + 59) / 60));
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

  /** A request that went unanswered through every retry; the runner starts over later. */
  static final class RequestFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RequestFailedException(String message) {
      super(message);
    }
  }

  private final String thingName;
  private final Path workRoot;
  private final Journal journal;
  private final MqttTransport transport;
  private final Settings settings;
  private final JobsClient client;
  private final StepRunner steps;
  private final CrashPoints crash;
  private final Predicate<String> expectedOperation;
  private final ExecutorService runner;
  private final ScheduledExecutorService scheduler;

  /** The scheduler as an executor that drops work once the engine is stopping. */
  private final Executor timerThread;

  private final Object wakeLock = new Object();
  private final Object connectionLock = new Object();
  private final Set<String> finished =
      java.util.Collections.newSetFromMap(
          new LinkedHashMap<>() {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > FINISHED_MEMORY;
            }
          });
  private volatile boolean running = true;
  private boolean wakeRequested = true;
  private long startedNanos;

  /**
   * The newest notify-next not taken yet: the head of the queue with its document, or an offer with
   * no execution when the queue became empty (unless a job is on offer: see {@link #onNotifyNext}).
   * Written by the transport's thread, taken by the runner.
   */
  private final AtomicReference<Offer> offered = new AtomicReference<>();

  /** Set by the runner when it applied a terminal status: a notify-next should follow. */
  private boolean headChanged;

  /**
   * The start-next sent with the last terminal update, whose answer the runner has not taken yet;
   * null when none. Runner only.
   */
  private CompletableFuture<Reply<StartNextAccepted>> startedNext;

  /**
   * Whether the job being taken was already waiting when the one before it ended: only then is
   * start-next sent with its terminal status. A job that arrives at an idle gateway most likely has
   * none behind it, and a start-next would be one more request for nothing. Runner only.
   */
  private boolean jobsWaiting;

  private record Offer(JobExecution execution) {}

  ThingEngine(
      String thingName,
      Path dataDir,
      MqttTransport transport,
      JobDocumentParser parser,
      OperationRegistry operations,
      ExecutorService workers,
      Settings settings,
      CrashPoints crash,
      Predicate<String> expectedOperation)
      throws IOException {
    this.expectedOperation = expectedOperation;
    this.crash = crash;
    this.thingName = thingName;
    this.workRoot = dataDir.resolve("work").resolve(thingName);
    this.journal = new Journal(dataDir.resolve("journal").resolve(thingName));
    this.transport = transport;
    this.settings = settings;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(named("gantry-engine-timer-" + thingName));
    this.runner = Executors.newSingleThreadExecutor(named("gantry-engine-" + thingName));
    this.timerThread =
        task -> {
          try {
            scheduler.execute(task);
          } catch (RejectedExecutionException stopping) {
            LOG.debug(
                "The engine of {} is stopping: a reaction to an answer is dropped", thingName);
          }
        };
    this.steps = new StepRunner(parser, operations, workers, settings, crash, this::fetchDocument);
    this.client =
        new JobsClient(
            new JobsTopics(thingName),
            transport,
            new JobsCodec(),
            scheduler,
            settings.requestTimeout(),
            this::onNotifyNext,
            crash);
  }

  String thingName() {
    return thingName;
  }

  void start() {
    startedNanos = System.nanoTime();
    transport.addConnectionListener(this);
    runner.execute(this::loop);
  }

  void stop() {
    running = false;
    transport.removeConnectionListener(this);
    RunningExecution ex = steps.current();
    if (ex != null) {
      ex.cancel(CancelCause.GATEWAY, DeviceReason.INTERRUPTED, "The gateway is stopping.");
    }
    wake();
    runner.shutdownNow();
    scheduler.shutdownNow();
    client.close();
    try {
      if (!runner.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("The engine of {} did not stop within 5 s", thingName);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    journal.close();
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
    try {
      int open = journal.open().size();
      if (open > 0) {
        LOG.info("The journal of {} holds {} open execution(s): reconciling", thingName, open);
      }
    } catch (UncheckedIOException e) {
      LOG.error("Cannot read the journal of {}; the engine does not start", thingName, e);
      return;
    }
    while (running) {
      try {
        awaitSubscribed();
        synchronized (wakeLock) {
          wakeRequested = false;
        }
        if (journal.hasOpen()) {
          reconcile();
        } else if (!takeNext()) {
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
        if (e instanceof RequestFailedException) {
          LOG.warn("{}; trying again in {} ms", e.getMessage(), backoff.toMillis());
        } else {
          LOG.error(
              "The engine of {} failed; trying again in {} ms", thingName, backoff.toMillis(), e);
        }
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
        LOG.warn(
            "Could not subscribe to the jobs topics of {}: {}", thingName, Failures.message(e));
        sleep(jitter(backoff));
        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
      }
    }
  }

  /**
   * Settles every execution the journal holds open, oldest first, before any new work: one the
   * service finished is closed here; one still IN_PROGRESS resumes; a decided terminal status is
   * reported (the journal is the durable outbox).
   */
  private void reconcile() throws InterruptedException {
    jobsWaiting = false;
    // The journal's entries as they are now: a terminal status decided, checkpoints taken.
    for (Journal.Entry e : journal.open()) {
      if (!running) {
        return;
      }
      MDC.put("jobId", e.jobId());
      try {
        reconcile(e);
      } finally {
        MDC.remove("jobId");
      }
    }
  }

  private void reconcile(Journal.Entry e) throws InterruptedException {
    Reply<DescribeAccepted> d =
        call(() -> client.describe(e.jobId(), e.executionNumber(), false), "describe " + e.jobId());
    if (d == null) {
      return;
    }
    if (isOver(d)) {
      LOG.info(
          "Job {} is over at the service ({}); closing it on the gateway",
          e.jobId(),
          d.isAccepted() ? d.accepted().execution().status() : d.rejected().code().wireName());
      close(e);
      return;
    }
    JobExecution ex = d.accepted().execution();
    switch (e.phase()) {
      case REPORTING -> {
        LOG.info("Job {}: sending its {} report again", e.jobId(), e.terminalStatus());
        RunningExecution run = track(e, ex.versionNumber());
        report(run, e, ExecutionStatus.valueOf(e.terminalStatus()), e.terminalDetails(), false);
      }
      case ACTIVE -> {
        if (ex.status() == ExecutionStatus.IN_PROGRESS) {
          resume(e, ex);
        } else {
          // IN_PROGRESS never reached the service: the job is simply taken again from the queue,
          // so it must not count among the executions this gateway ended.
          LOG.info("Job {} never went IN_PROGRESS; it is taken again from the queue", e.jobId());
          forget(e);
        }
      }
    }
  }

  /**
   * Takes the head of the queue, if any, through to its terminal status; false when idle. The head
   * comes from the newest notify-next when one arrived (it carries the execution and its document,
   * which saves a request per job); otherwise from a describe of {@code $next}. A stale offer is
   * harmless: the IN_PROGRESS update carries the expected version, so the service refuses it and
   * the engine reconciles, and executions this gateway ended are never run again.
   */
  private boolean takeNext() throws InterruptedException {
    CompletableFuture<Reply<StartNextAccepted>> next = startedNext;
    jobsWaiting = next != null || headChanged;
    if (next != null) {
      startedNext = null;
      crash.reached(CrashPoints.Point.AFTER_START_NEXT_PUBLISH);
      Boolean taken = takeStarted(next);
      if (taken != null) {
        return taken;
      }
    }
    if (journal.nextRequested()) {
      // A start-next whose outcome the journal does not hold (its answer was lost, or the gateway
      // stopped before it was recorded): offers are not trusted, the head of the queue is asked
      // for.
      return takeHead(null, true);
    }
    Offer offer = offered.getAndSet(null);
    if (offer == null && headChanged) {
      awaitWake(NOTIFY_GRACE);
      offer = offered.getAndSet(null);
    }
    headChanged = false;
    if (offer != null && offer.execution() == null) {
      // An offer without an execution (the queue ran empty) is not trusted: notifications may
      // arrive out of order, so an older "empty" could hide a job queued since, and the describe
      // below settles it. A job queued just after the queue ran empty is common (a rollout, a
      // script), and its notify-next follows within moments: wait for that briefly rather than ask
      // at once. With nothing queued the describe comes a little later, which costs nothing.
      Offer newer = awaitJobOffer(NOTIFY_GRACE);
      if (newer != null) {
        offer = newer;
      }
    }
    return takeHead(
        offer != null && offer.execution() != null && usable(offer.execution())
            ? offer.execution()
            : null,
        false);
  }

  /**
   * Runs the head of the queue: {@code offered} when not null, otherwise the head as a describe of
   * {@code $next} tells it. While a start-next is unsettled ({@code afterStartNext}), an
   * IN_PROGRESS head the journal does not know is the one it started, before any side effect: it
   * runs from the start. Without one, such a head was started by a gateway that lost its data
   * folder.
   */
  private boolean takeHead(JobExecution offeredHead, boolean afterStartNext)
      throws InterruptedException {
    JobExecution ex = offeredHead;
    if (ex == null) {
      Reply<DescribeAccepted> head =
          call(() -> client.describe("$next", null, true), "describe $next");
      if (head == null) {
        return false;
      }
      if (!head.isAccepted()) {
        if (!head.rejectedWith(ErrorCode.RESOURCE_NOT_FOUND)) {
          LOG.warn("The service refused to describe the next job: {}", describe(head.rejected()));
          return false;
        }
        journal.settleNext();
        return false;
      }
      ex = head.accepted().execution();
    }
    if (ex == null) {
      journal.settleNext();
      return false;
    }
    MDC.put("jobId", ex.jobId());
    try {
      String key = ex.jobId() + "#" + ex.executionNumber();
      if (finished.contains(key)) {
        // A redelivered notification or a stale answer: this gateway already ended the execution.
        LOG.warn(
            "Execution {} of job {} was already reported terminal but the service offers it as"
                + " {}; not running it twice",
            ex.executionNumber(),
            ex.jobId(),
            ex.status());
        return false;
      }
      switch (ex.status()) {
        case QUEUED -> run(ex);
        case IN_PROGRESS -> {
          if (afterStartNext) {
            LOG.info(
                "Job {} was started by this gateway's start-next, which it had not recorded yet;"
                    + " running it from the start",
                ex.jobId());
            runStarted(ex);
          } else {
            interrupted(ex);
          }
        }
        default -> {
          LOG.warn("The next job {} is {}: nothing to do", ex.jobId(), ex.status());
          return false;
        }
      }
      return true;
    } finally {
      MDC.remove("jobId");
    }
  }

  /**
   * Takes the answer of the start-next sent with the last terminal update. True when it ran the
   * execution the service started; false when the queue was empty and no notification came since;
   * null when the answer settles nothing: lost, refused, or naming the execution just reported (a
   * service that took start-next before the terminal update hands that one back). The head of the
   * queue is then asked for, with the start-next still unsettled in the journal.
   */
  private Boolean takeStarted(CompletableFuture<Reply<StartNextAccepted>> next)
      throws InterruptedException {
    Reply<StartNextAccepted> reply;
    try {
      reply = next.get(settings.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException | CancellationException e) {
      LOG.warn(
          "start-next got no answer ({}); asking for the head of the queue", Failures.message(e));
      return null;
    }
    if (!reply.isAccepted()) {
      LOG.warn(
          "The service refused start-next ({}); asking for the head of the queue",
          describe(reply.rejected()));
      return null;
    }
    JobExecution ex = reply.accepted().execution();
    if (ex == null) {
      // Nothing was pending when the service took start-next: a job queued since is announced by
      // its notify-next, which may be here already.
      journal.settleNext();
      headChanged = false;
      return offered.get() == null ? Boolean.FALSE : null;
    }
    crash.reached(CrashPoints.Point.AFTER_START_NEXT_ACCEPTED);
    if (ex.status() != ExecutionStatus.IN_PROGRESS
        || finished.contains(ex.jobId() + "#" + ex.executionNumber())) {
      LOG.debug(
          "start-next answered with job {} ({}), which is not the next one; asking for the head",
          ex.jobId(),
          ex.status());
      return null;
    }
    MDC.put("jobId", ex.jobId());
    try {
      runStarted(ex);
    } finally {
      MDC.remove("jobId");
    }
    return Boolean.TRUE;
  }

  /**
   * Runs an execution that start-next put IN_PROGRESS: its entry goes to the journal first (which
   * settles the start-next), then its document is planned and validated, a refused one being
   * reported from IN_PROGRESS; the step timer is set again when its operation type has a step
   * timeout of its own (start-next set the default).
   */
  private void runStarted(JobExecution ex) throws InterruptedException {
    RunningExecution run = begin(ex, CrashPoints.Point.AFTER_STARTED_JOURNAL);
    List<StepRunner.Planned> plan;
    try {
      plan = plan(ex.jobId(), ex.jobDocument(), true);
    } catch (StepRunner.Refusal r) {
      LOG.warn("Job {} {}: {} {}", ex.jobId(), r.status, r.reason.name(), r.getMessage());
      finish(run, r.status, StepRunner.failureDetails(r.reason, r.getMessage(), Map.of()));
      return;
    }
    long minutes = Settings.minutes(settings.stepTimeoutFor(plan.get(0).step().operation()));
    if (minutes != Settings.minutes(settings.stepTimeout()) && !goInProgress(run, minutes)) {
      return;
    }
    LOG.info(
        "Job {} (execution {}) IN_PROGRESS, started with start-next",
        ex.jobId(),
        ex.executionNumber());
    executeAndReport(run, plan);
  }

  /**
   * Waits up to {@code max} for a notify-next that names a job and takes it; null when none came.
   * Another "queue empty" is no news and does not end the wait (a late duplicate, say, or the
   * announcement of an earlier change that arrived after a newer one); it is dropped, since the
   * caller asks the service when nothing came.
   */
  private Offer awaitJobOffer(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (running) {
      Offer o = offered.get();
      if (o != null && o.execution() != null) {
        if (offered.compareAndSet(o, null)) {
          return o;
        }
        continue; // replaced by a newer offer in the meantime: look again
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      awaitWake(Duration.ofNanos(left));
    }
    Offer last = offered.getAndSet(null);
    return last != null && last.execution() != null ? last : null;
  }

  /**
   * Whether an offered head can be run without asking: QUEUED, with its document, and not one this
   * gateway ended (anything else is settled by a describe, which is authoritative).
   */
  private boolean usable(JobExecution ex) {
    return ex.status() == ExecutionStatus.QUEUED
        && ex.jobDocument() != null
        && !finished.contains(ex.jobId() + "#" + ex.executionNumber());
  }

  /**
   * An execution that is IN_PROGRESS when the gateway takes it, with nothing in the journal, was
   * started by a gateway that lost its data folder: its outcome is unknown, so it is reported
   * FAILED (which the service may retry).
   */
  private void interrupted(JobExecution ex) throws InterruptedException {
    LOG.warn(
        "Job {} is IN_PROGRESS at the service but unknown to this gateway's journal; reporting"
            + " FAILED",
        ex.jobId());
    refuse(
        ex,
        ExecutionStatus.FAILED,
        DeviceReason.INTERRUPTED,
        "The gateway lost track of this execution while it was in progress; its outcome is"
            + " unknown.");
  }

  private void run(JobExecution ex) throws InterruptedException {
    LOG.debug("Job {} (execution {}) is next", ex.jobId(), ex.executionNumber());
    List<StepRunner.Planned> plan;
    try {
      plan = plan(ex.jobId(), ex.jobDocument(), true);
    } catch (StepRunner.Refusal r) {
      LOG.warn("Job {} {}: {} {}", ex.jobId(), r.status, r.reason.name(), r.getMessage());
      refuse(ex, r.status, r.reason, r.getMessage());
      return;
    }
    RunningExecution run = begin(ex, CrashPoints.Point.AFTER_START_JOURNAL);
    Duration firstTimeout = settings.stepTimeoutFor(plan.get(0).step().operation());
    if (!goInProgress(run, Settings.minutes(firstTimeout))) {
      return;
    }
    crash.reached(CrashPoints.Point.AFTER_IN_PROGRESS);
    LOG.info("Job {} (execution {}) IN_PROGRESS", ex.jobId(), ex.executionNumber());
    executeAndReport(run, plan);
  }

  /**
   * Sends IN_PROGRESS with the step timeout; false when the job is not to run: the engine is
   * stopping (the ACTIVE entry is reconciled at the next start), or the job is over for this
   * gateway (closed here).
   */
  private boolean goInProgress(RunningExecution run, long stepTimeoutMinutes)
      throws InterruptedException {
    Outcome o = update(run, ExecutionStatus.IN_PROGRESS, STARTING, stepTimeoutMinutes, null);
    if (o == null) {
      return false;
    }
    if (o != Outcome.APPLIED) {
      LOG.info("Job {} was not started: it is over for this gateway ({})", run.jobId(), o);
      close(run.entry());
      return false;
    }
    return true;
  }

  /**
   * The execution's ACTIVE entry into the journal, synced before anything is done for it (which
   * also settles an open start-next: the execution is known now); then it is tracked.
   */
  private RunningExecution begin(JobExecution ex, CrashPoints.Point written) {
    Journal.Entry entry =
        journal.create(ex.jobId(), ex.executionNumber(), ex.versionNumber(), ex.jobDocument());
    journal.write(entry);
    journal.settleNext();
    crash.reached(written);
    return track(entry, ex.versionNumber());
  }

  /**
   * Plans a job's steps. Just after the engine starts, the gateway's operation bundles may not all
   * be installed yet (FileInstall starts deploy/ in its own time): a job that names an operation
   * this gateway had before is held, not refused, until it appears or the install grace since the
   * start has passed. An operation it never had is refused at once.
   */
  private List<StepRunner.Planned> plan(String jobId, String document, boolean validate)
      throws StepRunner.Refusal, InterruptedException {
    boolean told = false;
    while (true) {
      try {
        return steps.plan(jobId, document, validate);
      } catch (StepRunner.Refusal r) {
        long left = startedNanos + settings.installGrace().toNanos() - System.nanoTime();
        if (r.missingOperation == null
            || !expectedOperation.test(r.missingOperation)
            || left <= 0
            || !running) {
          throw r;
        }
        if (!told) {
          LOG.info(
              "Job {}: {} Waiting up to {} s more for the gateway's operations to start",
              jobId,
              r.getMessage(),
              TimeUnit.NANOSECONDS.toSeconds(left));
          told = true;
        }
        sleep(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200))));
      }
    }
  }

  /** Resumes an execution the journal shows running, after a restart of the gateway. */
  private void resume(Journal.Entry e, JobExecution ex) throws InterruptedException {
    LOG.info(
        "Job {} was running when the gateway stopped; resuming it ({} checkpoint(s))",
        e.jobId(),
        e.checkpoints().size());
    RunningExecution run = track(e, ex.versionNumber());
    List<StepRunner.Planned> plan;
    try {
      plan = plan(e.jobId(), e.document(), false);
    } catch (StepRunner.Refusal r) {
      // The operation was uninstalled while the gateway was down, for example.
      finish(
          run,
          r.status == ExecutionStatus.REJECTED ? ExecutionStatus.FAILED : r.status,
          StepRunner.failureDetails(r.reason, r.getMessage(), Map.of()));
      return;
    }
    executeAndReport(run, plan);
  }

  /** Reports a refusal: journal first (the durable outbox), then the update. */
  private void refuse(JobExecution ex, ExecutionStatus status, ReasonCode reason, String message)
      throws InterruptedException {
    // Never ACTIVE in the journal: its first record is the decided status.
    finish(
        track(
            journal.create(ex.jobId(), ex.executionNumber(), ex.versionNumber(), null),
            ex.versionNumber()),
        status,
        StepRunner.failureDetails(reason, message, Map.of()));
  }

  private void executeAndReport(RunningExecution run, List<StepRunner.Planned> plan)
      throws InterruptedException {
    ProgressReporter progress =
        new ProgressReporter(
            run,
            client,
            scheduler,
            timerThread,
            settings.progressInterval(),
            settings.requestTimeout());
    run.progressSink(progress::offer);
    // The work folder is made when an operation first asks for it (most never do).
    OperationResult result = steps.execute(run, plan);
    progress.close();
    if (!running) {
      // Stopping: the journal still says ACTIVE, so the execution resumes at the next start.
      return;
    }
    if (run.cancelCause() == CancelCause.SERVICE) {
      LOG.info(
          "Job {} was canceled or removed by the service; nothing more is reported", run.jobId());
      close(run.entry());
      return;
    }
    finish(
        run,
        StepRunner.toStatus(result.status()),
        result.status() == OperationResult.Status.SUCCEEDED
            ? result.details()
            : StepRunner.failureDetails(
                result.reason().orElse(DeviceReason.OPERATION_FAILED),
                result.message().orElse("The operation failed."),
                result.details()));
  }

  /**
   * A decided terminal status: into the journal (the durable outbox), then reported. When this job
   * was waiting as the one before it ended (unless the configuration says otherwise), start-next
   * goes out right behind the update, and the same journal sync records that it was asked for: the
   * next job then arrives IN_PROGRESS with the answer, one round trip per job instead of two.
   */
  private void finish(RunningExecution run, ExecutionStatus status, Map<String, String> details)
      throws InterruptedException {
    Journal.Entry reporting = run.entry().reporting(status.name(), details, run.version());
    boolean startNext = settings.startNextAfterTerminal() && jobsWaiting;
    if (startNext) {
      run.commitRequestingNext(reporting);
    } else {
      run.commit(reporting);
    }
    crash.reached(CrashPoints.Point.AFTER_TERMINAL_JOURNAL);
    report(run, reporting, status, details, startNext);
  }

  /**
   * A notify-next that names another job (or none), or another execution of the same job (a retry
   * after the service timed this one out), while one runs is a hint that the running one is over:
   * confirm with a describe before cancelling anything (PROTOCOL.md).
   */
  private void onNotifyNext(NotifyNext n) {
    if (n.execution() == null) {
      // "Queue empty" does not replace a job offered and not taken yet: notifications may arrive
      // out of order (a service that answers and queues on different threads, AWS IoT Core), and
      // running a stale offer is harmless, since its IN_PROGRESS update carries the expected
      // version. Asking the service about a stale "empty" would cost a request.
      offered.getAndUpdate(
          current -> current != null && current.execution() != null ? current : new Offer(null));
    } else {
      offered.set(new Offer(n.execution()));
    }
    RunningExecution run = steps.current();
    if (run == null) {
      wake();
      return;
    }
    if (n.execution() != null
        && n.execution().jobId().equals(run.jobId())
        && n.execution().executionNumber() == run.executionNumber()) {
      return;
    }
    // The answer arrives on the transport's receiving thread; cancelling runs the operation's own
    // cancel actions, so that happens on this thing's timer thread.
    var unused =
        client
            .describe(run.jobId(), run.executionNumber(), false)
            .whenCompleteAsync(
                (reply, e) -> {
                  if (e == null && reply != null && isOver(reply)) {
                    run.withMdc(
                        () ->
                            LOG.info(
                                "Job {} was canceled or removed by the service; cancelling its"
                                    + " operation",
                                run.jobId()));
                    run.cancel(
                        CancelCause.SERVICE, DeviceReason.INTERRUPTED, "Canceled by the service.");
                  }
                },
                timerThread);
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

  private RunningExecution track(Journal.Entry e, long version) {
    return new RunningExecution(
        thingName,
        e.jobId(),
        e.executionNumber(),
        version,
        workRoot.resolve(e.jobId() + "-" + e.executionNumber()),
        journal,
        e);
  }

  /**
   * Sends the terminal status the journal holds; closes the entry once the service has it. With
   * {@code startNext} (whose intent the journal holds), start-next is published right after the
   * update's first attempt, and its answer left for {@link #takeNext}: a service that handles one
   * client's requests in order has applied the terminal status when it takes start-next.
   */
  private void report(
      RunningExecution run,
      Journal.Entry entry,
      ExecutionStatus status,
      Map<String, String> details,
      boolean startNext)
      throws InterruptedException {
    // Sent once, with the update's first attempt (the update alone is sent again on a retry). An
    // answer of an earlier start-next not taken yet is stale by then, and replaced.
    boolean[] sent = {false};
    Runnable alsoSend =
        !startNext
            ? null
            : () -> {
              if (!sent[0]) {
                sent[0] = true;
                startedNext = client.startNext(STARTING, Settings.minutes(settings.stepTimeout()));
              }
            };
    Outcome o = update(run, status, details, null, alsoSend);
    if (o == null) {
      return; // stopping: the entry stays, and is reported at the next start
    }
    switch (o) {
      case APPLIED -> {
        headChanged = true;
        LOG.info("Job {} reported {}", run.jobId(), status);
        crash.reached(CrashPoints.Point.AFTER_TERMINAL_ACCEPTED);
      }
      case GONE ->
          LOG.info("Job {} was already over at the service; {} not reported", run.jobId(), status);
      case REFUSED -> LOG.error("The service refused the {} report of job {}", status, run.jobId());
    }
    close(entry);
  }

  /** The execution is over for this gateway: forget it, and never run it again. */
  private void close(Journal.Entry e) {
    forget(e);
    finished.add(e.key());
  }

  /** Drops the journal entry and the work folder of an execution. */
  private void forget(Journal.Entry e) {
    journal.remove(e.jobId(), e.executionNumber());
    deleteQuietly(workRoot.resolve(e.jobId() + "-" + e.executionNumber()));
  }

  /**
   * Sends one status update with the expected version, reconciling a VersionMismatch with a
   * describe of the execution, never by blind retry. Returns null when the engine is stopping.
   */
  private Outcome update(
      RunningExecution run,
      ExecutionStatus status,
      Map<String, String> details,
      Long stepTimeout,
      Runnable afterSend)
      throws InterruptedException {
    Map<String, String> safe = Limits.sanitizeStatusDetails(details);
    for (int attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      long expected = run.version();
      Reply<UpdateAccepted> reply =
          call(
              () -> {
                CompletableFuture<Reply<UpdateAccepted>> sent =
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
                            null));
                if (afterSend != null) {
                  afterSend.run();
                }
                return sent;
              },
              "update " + run.jobId() + " to " + status);
      if (reply == null) {
        return null;
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
          if (d == null) {
            return null;
          }
          if (isOver(d)) {
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
          return st != null && st.status() == status ? Outcome.APPLIED : Outcome.GONE;
        }
        default -> {
          LOG.error("The service refused an update of job {}: {}", run.jobId(), describe(r));
          return Outcome.REFUSED;
        }
      }
    }
    throw new RequestFailedException(
        "The update of job " + run.jobId() + " to " + status + " kept meeting version mismatches");
  }

  private static boolean alreadyApplied(Reply<DescribeAccepted> d, ExecutionStatus status) {
    return d.isAccepted()
        && d.accepted().execution() != null
        && d.accepted().execution().status() == status;
  }

  /**
   * Sends a request and waits for its answer; an unanswered or undeliverable request, or one the
   * service throttles or fails internally, is sent again after a jittered, capped backoff, a
   * bounded number of times ({@link RequestFailedException} then). While the transport is
   * disconnected the request waits for it without counting attempts. Returns null only when the
   * engine is stopping.
   */
  private <T> Reply<T> call(Supplier<CompletableFuture<Reply<T>>> request, String what)
      throws InterruptedException {
    Duration backoff = settings.minBackoff();
    int failures = 0;
    String problem = "";
    while (running) {
      if (transport.state() != ConnectionState.CONNECTED) {
        awaitConnected(settings.pollInterval());
        continue;
      }
      if (failures == MAX_REQUEST_ATTEMPTS) {
        throw new RequestFailedException(
            what + " failed " + failures + " times (last: " + problem + ")");
      }
      try {
        Reply<T> reply =
            request.get().get(settings.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (!reply.rejectedWith(ErrorCode.REQUEST_THROTTLED)
            && !reply.rejectedWith(ErrorCode.INTERNAL_ERROR)) {
          return reply;
        }
        problem = describe(reply.rejected());
      } catch (ExecutionException | TimeoutException e) {
        problem = Failures.message(e);
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

  /**
   * The job document of a running execution as the service sends it now (with presigned URLs signed
   * again), for {@code OperationContext.refreshParameters}. Runs on the operation's worker thread.
   */
  private String fetchDocument(RunningExecution run) throws OperationException {
    Reply<DescribeAccepted> d;
    try {
      d =
          call(
              () -> client.describe(run.jobId(), run.executionNumber(), true),
              "describe " + run.jobId());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The gateway stopped while fetching the job document again.",
          e);
    } catch (RequestFailedException e) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The service did not send the job document again: " + e.getMessage(),
          e);
    }
    if (d == null) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The gateway stopped while fetching the job document again.");
    }
    if (!d.isAccepted()) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The service refused to send the job document again: " + describe(d.rejected()));
    }
    String document = d.accepted().execution().jobDocument();
    if (document == null) {
      throw new OperationException(
          DeviceReason.DOCUMENT_UNAVAILABLE,
          "The service answered without the job document it was asked for.");
    }
    return document;
  }

  // ---------------------------------------------------------------- helpers

  private static String describe(Rejected r) {
    return r.code().wireName() + (r.message() == null ? "" : ": " + r.message());
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
