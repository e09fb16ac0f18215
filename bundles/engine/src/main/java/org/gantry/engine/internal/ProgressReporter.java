package org.gantry.engine.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.gantry.api.operation.DeviceReason;
import org.gantry.engine.internal.RunningExecution.CancelCause;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.Limits;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends progress as IN_PROGRESS updates, one at a time and at most one per progress interval,
 * keeping only the newest waiting report; each carries the step timeout so the service's step timer
 * restarts.
 */
final class ProgressReporter {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

  private final RunningExecution run;
  private final JobsClient client;
  private final ScheduledExecutorService scheduler;
  private final Executor answers;
  private final Duration interval;
  private final Duration requestTimeout;
  private Map<String, String> waiting;
  private Duration waitingTimeout;
  private boolean inFlight;
  private boolean flushScheduled;
  private boolean closed;
  private long lastSentNanos;

  ProgressReporter(
      RunningExecution run,
      JobsClient client,
      ScheduledExecutorService scheduler,
      Executor answers,
      Duration interval,
      Duration requestTimeout) {
    this.run = run;
    this.client = client;
    this.scheduler = scheduler;
    this.answers = answers;
    this.interval = interval;
    this.requestTimeout = requestTimeout;
    this.lastSentNanos = System.nanoTime() - interval.toNanos();
  }

  synchronized void offer(Map<String, String> details, Duration stepTimeout) {
    if (closed) {
      return;
    }
    waiting = details;
    waitingTimeout = stepTimeout;
    pump();
  }

  private void pump() {
    if (closed || inFlight || waiting == null || flushScheduled) {
      return;
    }
    long wait = lastSentNanos + interval.toNanos() - System.nanoTime();
    if (wait > 0) {
      flushScheduled = true;
      try {
        var unused =
            scheduler.schedule(
                () -> {
                  synchronized (this) {
                    flushScheduled = false;
                    pump();
                  }
                },
                wait,
                TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        flushScheduled = false; // stopping
      }
      return;
    }
    Map<String, String> details = waiting;
    Duration timeout = waitingTimeout;
    waiting = null;
    inFlight = true;
    lastSentNanos = System.nanoTime();
    long expected = run.version();
    var unused =
        client
            .update(
                run.jobId(),
                new UpdateRequest(
                    ExecutionStatus.IN_PROGRESS,
                    Limits.sanitizeStatusDetails(details),
                    expected,
                    run.executionNumber(),
                    true,
                    false,
                    ThingEngine.Settings.minutes(timeout),
                    null))
            // not on the transport's thread, where the answer arrives: a rejection cancels the
            // operation, which runs the operation's own cancel actions
            .whenCompleteAsync((reply, e) -> answered(reply, e), answers);
  }

  private void answered(Reply<UpdateAccepted> reply, Throwable e) {
    if (reply != null) {
      if (reply.isAccepted()) {
        JobExecutionState st = reply.accepted().executionState();
        if (st != null) {
          run.version(st.versionNumber());
        }
      } else {
        Rejected rej = reply.rejected();
        JobExecutionState st = rej.executionState();
        if (st != null && !st.status().isTerminal()) {
          run.version(st.versionNumber());
        } else if (rej.code() == ErrorCode.INVALID_STATE_TRANSITION
            || rej.code() == ErrorCode.TERMINAL_STATE_REACHED
            || rej.code() == ErrorCode.RESOURCE_NOT_FOUND) {
          run.withMdc(
              () ->
                  LOG.info(
                      "Job {} is over at the service ({}); cancelling its operation",
                      run.jobId(),
                      rej.code().wireName()));
          run.cancel(CancelCause.SERVICE, DeviceReason.INTERRUPTED, "Canceled by the service.");
        }
      }
    } else if (e != null) {
      run.withMdc(
          () ->
              LOG.debug(
                  "A progress report of job {} was lost: {}", run.jobId(), Failures.message(e)));
    }
    synchronized (this) {
      inFlight = false;
      notifyAll();
      pump();
    }
  }

  /** No more progress; waits (bounded) for the one in flight so the version stays right. */
  synchronized void close() throws InterruptedException {
    closed = true;
    waiting = null;
    long deadline = System.nanoTime() + requestTimeout.plusSeconds(1).toNanos();
    while (inFlight) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }
}
