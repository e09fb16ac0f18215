package org.gantry.hub.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobExecutionSummary;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Notify;
import org.gantry.protocol.NotifyNext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's state with its durability, its timers and its notifications. Every change goes through
 * {@link #change}, which works out the {@code notify-next} and {@code notify} messages for every
 * thing whose queue changed; {@link #commit} writes the changes of a batch to the store (one
 * record, one fsync) before anything of the batch is published; {@link #tick} applies what the
 * clock calls for (timeouts, abort criteria, rollout releases). Not thread-safe: the hub runs it on
 * one thread.
 */
final class HubCore {
  /** PROTOCOL.md: notify lists at most 15 pending executions. */
  static final int NOTIFY_LIMIT = 15;

  private static final Logger LOG = LoggerFactory.getLogger(HubCore.class);

  private final BiFunction<Job, String, String> documents;
  private final HubStore store;
  private final LongSupplier clock;
  private final JobsCodec codec = new JobsCodec();
  private HubState state;
  private Consumer<Map<String, List<String>>> attachments = a -> {};

  /** A change that could not be stored: nothing of it may be acknowledged. */
  static final class NotStoredException extends Exception {
    private static final long serialVersionUID = 1L;

    NotStoredException(IOException cause) {
      super("The hub could not store the change: " + cause.getMessage(), cause);
    }
  }

  /** A mutation of the state that may refuse to happen. */
  @FunctionalInterface
  interface Mutation<T, E extends Exception> {
    T apply(HubState state) throws E;
  }

  HubCore(HubStore store, HubState state, LongSupplier clock) {
    this(store, state, clock, (job, thing) -> job.document);
  }

  /**
   * @param documents what a device gets as a job's document (placeholders replaced), given the job
   *     and the thing it goes to
   */
  HubCore(
      HubStore store,
      HubState state,
      LongSupplier clock,
      BiFunction<Job, String, String> documents) {
    this.documents = Objects.requireNonNull(documents);
    this.store = Objects.requireNonNull(store);
    this.state = Objects.requireNonNull(state);
    this.clock = Objects.requireNonNull(clock);
    Rules.resumeRollouts(state, clock.getAsLong());
  }

  HubState state() {
    return state;
  }

  /**
   * Calls {@code listener} on the hub thread with every attachment (principal to its things) after
   * each batch that changed attachments has been stored. Set before the hub thread starts.
   */
  void onAttachments(Consumer<Map<String, List<String>>> listener) {
    this.attachments = Objects.requireNonNull(listener);
  }

  /** The job's document as a device gets it: placeholders replaced by URLs signed now. */
  String documentFor(Job job, String thingName) {
    return documents.apply(job, thingName);
  }

  long nowMillis() {
    return clock.getAsLong();
  }

  JobsCodec codec() {
    return codec;
  }

  HubStore store() {
    return store;
  }

  /**
   * Applies a mutation and adds to {@code out} the notifications of every thing whose queue head or
   * pending list it changed. A mutation that throws must have changed nothing (it checks before it
   * changes). The change reaches the disk with the next {@link #commit}; the caller publishes
   * {@code out} only after that.
   */
  <T, E extends Exception> T change(List<Outbound> out, Mutation<T, E> mutation) throws E {
    T result;
    try {
      result = mutation.apply(state);
    } catch (RuntimeException e) {
      state.drainWatched();
      throw e;
    }
    long now = nowMillis();
    state.drainWatched().forEach((thing, was) -> notifications(thing, was, now, out));
    return result;
  }

  /**
   * Writes every change since the last commit as one record and forces it to disk. When the write
   * fails, the state is read back from the store (the batch is undone) and nothing of the batch may
   * be published.
   */
  void commit() throws NotStoredException {
    if (!state.hasOps()) {
      return;
    }
    try {
      store.append(state.drainOps());
    } catch (IOException e) {
      LOG.error("Could not store a batch of changes in {}: {}", store.logFile(), e.toString());
      reload();
      throw new NotStoredException(e);
    }
    if (state.drainPrincipalsChanged()) {
      attachments.accept(state.attachments());
    }
    if (store.shouldCompact()) {
      try {
        store.compact(state);
      } catch (IOException e) {
        LOG.error("Could not compact the hub store (the log keeps growing): {}", e.toString());
      }
    }
  }

  private void reload() {
    try {
      state = store.load();
      Rules.resumeRollouts(state, nowMillis());
    } catch (IOException again) {
      LOG.error(
          "Could not read the store back either ({}); the hub's memory is ahead of its disk",
          again.toString());
    }
  }

  /**
   * Applies what the clock calls for: timed-out executions become TIMED_OUT (and may be retried),
   * jobs that meet an abort criterion are canceled, and rollouts deliver the executions now due.
   */
  void tick(List<Outbound> out) {
    long now = nowMillis();
    for (HubState.Timer t = state.nextTimer(); t != null && t.at() <= now; t = state.nextTimer()) {
      state.pollTimer();
      Execution e = t.execution();
      if (state.byId(e.id()) != e
          || e.status != ExecutionStatus.IN_PROGRESS
          || e.timeoutAt == null
          || e.timeoutAt != t.at()) {
        continue;
      }
      change(
          out,
          s -> {
            Rules.serviceStatus(s, e, ExecutionStatus.TIMED_OUT, now);
            return null;
          });
      Rules.log(
          e.jobId,
          e.thingName,
          "Job {} on {}: execution {} TIMED_OUT (step timer {} min, in-progress limit {} min)",
          e.jobId,
          e.thingName,
          e.executionNumber,
          e.stepTimeoutInMinutes,
          state.job(e.jobId).inProgressTimeoutInMinutes);
    }
    for (String jobId : state.drainAbortChecks()) {
      Job job = state.job(jobId);
      if (job == null || !Job.IN_PROGRESS.equals(job.status) || job.abortCriteria.isEmpty()) {
        continue;
      }
      Job.AbortCriterion a = Rules.abortCriterionMet(state, job);
      if (a != null) {
        HubState.Counts c = state.counts(jobId);
        String comment =
            String.format(
                Locale.ROOT,
                "Aborted: %s executions reached %.2f%% of the %d notified (threshold %.2f%%, at"
                    + " least %d things notified).",
                a.failureType(),
                100.0 * failures(c, a.failureType()) / c.releasedExecutions,
                c.releasedExecutions,
                a.thresholdPercentage(),
                a.minNumberOfExecutedThings());
        change(
            out,
            s -> {
              Rules.cancelJob(s, job, false, "ABORT_CRITERIA_MET", comment, now);
              return null;
            });
        Rules.log(jobId, null, "Job {} canceled by its abort criteria: {}", jobId, comment);
      }
    }
    for (String jobId : state.rollingOut()) {
      Job job = state.job(jobId);
      if (job != null) {
        List<Execution> released = change(out, s -> Rules.due(s, job, now));
        if (!released.isEmpty()) {
          LOG.debug("Rollout of job {}: {} executions delivered", jobId, released.size());
        }
      }
    }
  }

  private static int failures(HubState.Counts c, String type) {
    return type.equals("ALL")
        ? c.executions(ExecutionStatus.FAILED)
            + c.executions(ExecutionStatus.REJECTED)
            + c.executions(ExecutionStatus.TIMED_OUT)
        : c.executions(ExecutionStatus.valueOf(type));
  }

  /** The notify-next message for a thing's current head, sent to catch up after a reconnect. */
  Outbound notifyNextNow(String thingName) {
    return new Outbound(
        new JobsTopics(thingName).notifyNext(),
        codec.encode(new NotifyNext(seconds(nowMillis()), nextWire(state.head(thingName)))));
  }

  private void notifications(String thing, HubState.View was, long now, List<Outbound> out) {
    HubState.View is = state.view(thing);
    JobsTopics topics = new JobsTopics(thing);
    if (!Objects.equals(was.headKey(), is.headKey())) {
      out.add(
          new Outbound(
              topics.notifyNext(),
              codec.encode(new NotifyNext(seconds(now), nextWire(state.head(thing))))));
    }
    if (!was.pendingKeys().equals(is.pendingKeys())) {
      out.add(new Outbound(topics.notifyTopic(), codec.encode(notify(thing, now))));
    }
  }

  private Notify notify(String thing, long now) {
    Map<ExecutionStatus, List<JobExecutionSummary>> jobs = new LinkedHashMap<>();
    int n = 0;
    for (Execution e : state.pending(thing)) {
      if (n++ == NOTIFY_LIMIT) {
        break;
      }
      jobs.computeIfAbsent(e.status, s -> new ArrayList<>()).add(summary(e));
    }
    return new Notify(seconds(now), jobs);
  }

  private JobExecution nextWire(Execution head) {
    return head == null ? null : wire(head, false, true);
  }

  // ------------------------------------------------------------------ wire forms

  JobExecution wire(Execution e, boolean withThingName, boolean withDocument) {
    Job job = state.job(e.jobId);
    return new JobExecution(
        e.jobId,
        withThingName ? e.thingName : null,
        withDocument ? documents.apply(job, e.thingName) : null,
        e.status,
        e.statusDetails,
        seconds(e.queuedAt),
        e.startedAt == null ? null : seconds(e.startedAt),
        seconds(e.lastUpdatedAt),
        e.versionNumber,
        e.executionNumber);
  }

  static JobExecutionSummary summary(Execution e) {
    return new JobExecutionSummary(
        e.jobId,
        seconds(e.queuedAt),
        e.startedAt == null ? null : seconds(e.startedAt),
        seconds(e.lastUpdatedAt),
        e.versionNumber,
        e.executionNumber);
  }

  static JobExecutionState executionState(Execution e) {
    return new JobExecutionState(e.status, e.statusDetails, e.versionNumber);
  }

  static long seconds(long millis) {
    return Math.floorDiv(millis, 1000L);
  }
}
