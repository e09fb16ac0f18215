package org.gantry.engine.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One execution while it runs: its identity, the version the service last confirmed, and its
 * cancellation. Also the {@link OperationContext} handed to each step's operation (one instance per
 * step, sharing this state).
 */
final class RunningExecution {

  private static final Logger LOG = LoggerFactory.getLogger(RunningExecution.class);

  /** Why an execution was cancelled. */
  enum CancelCause {
    /** The service canceled or removed it: nothing more is reported. */
    SERVICE,
    /** The gateway cancelled it (step timeout, operation gone, stopping): a status is reported. */
    GATEWAY
  }

  private final String thingName;
  private final String jobId;
  private final long executionNumber;
  private final Path workDir;
  private final Consumer<Map<String, String>> progressSink;
  private final List<Runnable> cancelActions = new ArrayList<>();
  private long version;
  private CancelCause cancelCause;
  private ReasonCode cancelReason;
  private String cancelMessage;

  RunningExecution(
      String thingName,
      String jobId,
      long executionNumber,
      long version,
      Path workDir,
      Consumer<Map<String, String>> progressSink) {
    this.thingName = thingName;
    this.jobId = jobId;
    this.executionNumber = executionNumber;
    this.version = version;
    this.workDir = workDir;
    this.progressSink = progressSink;
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

  synchronized long version() {
    return version;
  }

  synchronized void version(long v) {
    version = v;
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

  /** The context for one step of this execution. */
  OperationContext contextFor(JobParameters parameters) {
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
        return workDir;
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
        progressSink.accept(all);
      }

      @Override
      public boolean cancelled() {
        return RunningExecution.this.cancelled();
      }

      @Override
      public void onCancel(Runnable action) {
        RunningExecution.this.onCancel(action);
      }
    };
  }
}
