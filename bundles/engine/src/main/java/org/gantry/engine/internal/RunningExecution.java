package org.gantry.engine.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One execution while the gateway works on it: its identity, the version the service last
 * confirmed, its journal entry (with the checkpoints), the step deadline, and its cancellation.
 * Also makes the {@link OperationContext} handed to each step's operation.
 */
final class RunningExecution {

  private static final Logger LOG = LoggerFactory.getLogger(RunningExecution.class);
  private static final int MAX_CHECKPOINT_KEY = 128;
  private static final int MAX_CHECKPOINT_VALUE = 4096;
  private static final Duration MIN_EXTENSION = Duration.ofSeconds(1);
  private static final Duration MAX_EXTENSION = Duration.ofDays(7);

  /** Why an execution was cancelled. */
  enum CancelCause {
    /** The service canceled or removed it: nothing more is reported. */
    SERVICE,
    /** The gateway cancelled it (step timeout, operation gone, stopping): a status is reported. */
    GATEWAY
  }

  /** Where progress and step-timer changes go (the engine's rate-limited reporter). */
  interface ProgressSink {
    void progress(Map<String, String> details, Duration stepTimeout);
  }

  private final String thingName;
  private final String jobId;
  private final long executionNumber;
  private final Path workDir;
  private final Journal journal;
  private final List<Runnable> cancelActions = new ArrayList<>();
  private ProgressSink progressSink = (d, t) -> {};
  private Journal.Entry entry;
  private long version;
  private long deadlineNanos = Long.MAX_VALUE;
  private Duration stepTimeout = Duration.ofHours(1);
  private Map<String, String> lastProgress = Map.of();
  private CancelCause cancelCause;
  private ReasonCode cancelReason;
  private String cancelMessage;

  RunningExecution(
      String thingName,
      String jobId,
      long executionNumber,
      long version,
      Path workDir,
      Journal journal,
      Journal.Entry entry) {
    this.thingName = thingName;
    this.jobId = jobId;
    this.executionNumber = executionNumber;
    this.version = version;
    this.workDir = workDir;
    this.journal = journal;
    this.entry = entry;
  }

  String thingName() {
    return thingName;
  }

  String jobId() {
    return jobId;
  }

  long executionNumber() {
    return executionNumber;
  }

  Path workDir() {
    return workDir;
  }

  synchronized void progressSink(ProgressSink sink) {
    this.progressSink = sink;
  }

  synchronized long version() {
    return version;
  }

  synchronized void version(long v) {
    version = v;
  }

  synchronized Journal.Entry entry() {
    return entry;
  }

  /** Records the entry durably, then remembers it. */
  synchronized void commit(Journal.Entry e) {
    journal.write(e);
    entry = e;
  }

  /**
   * Records the entry durably together with the intent to start the next execution (one sync; see
   * {@link Journal#requestNext}), then remembers it.
   */
  synchronized void commitRequestingNext(Journal.Entry e) {
    journal.requestNext(e);
    entry = e;
  }

  /**
   * Runs {@code r} with this execution's thing and job in the logging MDC (for callback threads).
   */
  void withMdc(Runnable r) {
    MDC.put("thingName", thingName);
    MDC.put("jobId", jobId);
    try {
      r.run();
    } finally {
      MDC.remove("jobId");
      MDC.remove("thingName");
    }
  }

  /** Starts a step: its type's step timeout applies from now on. */
  synchronized void startStep(Duration timeout) {
    stepTimeout = timeout;
    deadlineNanos = System.nanoTime() + timeout.toNanos();
  }

  /** Nanoseconds left before the step deadline (negative once passed). */
  synchronized long nanosLeft() {
    return deadlineNanos - System.nanoTime();
  }

  synchronized Duration stepTimeout() {
    return stepTimeout;
  }

  /** Cancels once; later calls are ignored. Runs the operation's cancel actions. */
  void cancel(CancelCause cause, ReasonCode reason, String message) {
    List<Runnable> actions;
    synchronized (this) {
      if (cancelCause != null) {
        return;
      }
      cancelCause = cause;
      cancelReason = reason;
      cancelMessage = message;
      actions = List.copyOf(cancelActions);
      cancelActions.clear();
    }
    for (Runnable r : actions) {
      runQuietly(r);
    }
  }

  synchronized boolean cancelled() {
    return cancelCause != null;
  }

  synchronized CancelCause cancelCause() {
    return cancelCause;
  }

  synchronized ReasonCode cancelReason() {
    return cancelReason;
  }

  synchronized String cancelMessage() {
    return cancelMessage;
  }

  private void onCancel(Runnable action) {
    synchronized (this) {
      if (cancelCause == null) {
        cancelActions.add(action);
        return;
      }
    }
    runQuietly(action);
  }

  private static void runQuietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("A cancel action of the operation failed", e);
    }
  }

  private void progress(Map<String, String> details) {
    ProgressSink sink;
    Duration timeout;
    synchronized (this) {
      // Progress shows the operation is alive: the step timer starts again.
      deadlineNanos = System.nanoTime() + stepTimeout.toNanos();
      lastProgress = details;
      sink = progressSink;
      timeout = stepTimeout;
    }
    sink.progress(details, timeout);
  }

  private void extend(Duration limit) {
    Objects.requireNonNull(limit, "limit");
    if (limit.compareTo(MIN_EXTENSION) < 0 || limit.compareTo(MAX_EXTENSION) > 0) {
      throw new IllegalArgumentException("a step timeout must be 1 s to 7 days, got " + limit);
    }
    ProgressSink sink;
    Map<String, String> details;
    synchronized (this) {
      stepTimeout = limit;
      deadlineNanos = System.nanoTime() + limit.toNanos();
      sink = progressSink;
      details = lastProgress;
    }
    sink.progress(details, limit);
  }

  private Optional<String> checkpoint(String key) {
    synchronized (this) {
      return Optional.ofNullable(entry.checkpoints().get(key));
    }
  }

  private void checkpoint(String key, String value) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty() || key.length() > MAX_CHECKPOINT_KEY) {
      throw new IllegalArgumentException("a checkpoint key has 1 to 128 characters");
    }
    if (value != null && value.length() > MAX_CHECKPOINT_VALUE) {
      throw new IllegalArgumentException("a checkpoint value has at most 4096 characters");
    }
    synchronized (this) {
      Map<String, String> c = new LinkedHashMap<>(entry.checkpoints());
      if (value == null) {
        c.remove(key);
      } else {
        c.put(key, value);
      }
      commit(entry.withCheckpoints(c));
    }
  }

  /** Fetches the running step's parameters from the service again. */
  interface ParameterSource {
    JobParameters fetch() throws OperationException;
  }

  /** The context for one step of this execution. */
  OperationContext contextFor(JobParameters parameters, ParameterSource refresh) {
    return new OperationContext() {
      @Override
      public String thingName() {
        return thingName;
      }

      @Override
      public String jobId() {
        return jobId;
      }

      @Override
      public long executionNumber() {
        return executionNumber;
      }

      @Override
      public JobParameters parameters() {
        return parameters;
      }

      @Override
      public Path workDir() {
        try {
          return Files.createDirectories(workDir);
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Could not create the execution's work folder " + workDir + ": " + e.getMessage(), e);
        }
      }

      @Override
      public void progress(String step, int percent, Map<String, String> details) {
        Map<String, String> all = new LinkedHashMap<>();
        if (details != null) {
          details.forEach(
              (k, v) -> {
                if (k != null && v != null) {
                  all.put(k, v);
                }
              });
        }
        all.put("step", step == null ? "-" : step);
        all.put("percent", Integer.toString(Math.max(0, Math.min(100, percent))));
        RunningExecution.this.progress(all);
      }

      @Override
      public void extendStepTimeout(Duration limit) {
        RunningExecution.this.extend(limit);
      }

      @Override
      public Optional<String> checkpoint(String key) {
        return RunningExecution.this.checkpoint(key);
      }

      @Override
      public void checkpoint(String key, String value) {
        RunningExecution.this.checkpoint(key, value);
      }

      @Override
      public boolean cancelled() {
        return RunningExecution.this.cancelled();
      }

      @Override
      public void onCancel(Runnable action) {
        RunningExecution.this.onCancel(action);
      }

      @Override
      public JobParameters refreshParameters() throws OperationException {
        return refresh.fetch();
      }
    };
  }
}
