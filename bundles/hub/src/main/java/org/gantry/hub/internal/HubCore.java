package org.gantry.hub.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * The hub's state with its durability and its notifications: every change goes through {@link
 * #change}, which stores it before anything is answered and then works out the {@code notify-next}
 * and {@code notify} messages the change calls for. Not thread-safe: the hub runs it on one thread.
 */
final class HubCore {
  /** PROTOCOL.md: notify lists at most 15 pending executions. */
  static final int NOTIFY_LIMIT = 15;

  private static final Logger LOG = LoggerFactory.getLogger(HubCore.class);

  private final HubStore store;
  private final LongSupplier clock;
  private final JobsCodec codec = new JobsCodec();
  private HubState state;

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
    this.store = Objects.requireNonNull(store);
    this.state = Objects.requireNonNull(state);
    this.clock = Objects.requireNonNull(clock);
  }

  HubState state() {
    return state;
  }

  long nowMillis() {
    return clock.getAsLong();
  }

  JobsCodec codec() {
    return codec;
  }

  /**
   * Applies a mutation, stores the result, and adds to {@code out} the notifications of every thing
   * in {@code things} whose queue head or pending list changed. A mutation that throws has changed
   * nothing (it must check before it changes); a change that cannot be stored is undone by reading
   * the store back.
   */
  <T, E extends Exception> T change(
      Collection<String> things, List<Outbound> out, Mutation<T, E> mutation)
      throws E, NotStoredException {
    Map<String, View> before = new LinkedHashMap<>();
    for (String t : new LinkedHashSet<>(things)) {
      before.put(t, view(t));
    }
    T result = mutation.apply(state);
    try {
      store.save(state);
    } catch (IOException e) {
      LOG.error("Could not store a change in {}: {}", store.file(), e.toString());
      try {
        state = store.load();
      } catch (IOException again) {
        LOG.error(
            "Could not read the store back either ({}); the hub's memory is ahead of its disk",
            again.toString());
      }
      throw new NotStoredException(e);
    }
    long now = nowMillis();
    before.forEach((thing, was) -> notifications(thing, was, now, out));
    return result;
  }

  /** The notify-next message for a thing's current head, sent to catch up after a reconnect. */
  Outbound notifyNextNow(String thingName) {
    return new Outbound(
        new JobsTopics(thingName).notifyNext(),
        codec.encode(new NotifyNext(seconds(nowMillis()), nextWire(state.head(thingName)))));
  }

  private void notifications(String thing, View was, long now, List<Outbound> out) {
    View is = view(thing);
    JobsTopics topics = new JobsTopics(thing);
    if (!Objects.equals(was.headKey, is.headKey)) {
      out.add(
          new Outbound(
              topics.notifyNext(),
              codec.encode(new NotifyNext(seconds(now), nextWire(state.head(thing))))));
    }
    if (!was.pendingKeys.equals(is.pendingKeys)) {
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

  private View view(String thing) {
    List<Execution> pending = state.pending(thing);
    HashSet<String> keys = new HashSet<>();
    pending.forEach(e -> keys.add(e.key()));
    return new View(pending.isEmpty() ? null : pending.get(0).key(), keys);
  }

  private record View(String headKey, java.util.Set<String> pendingKeys) {}

  // ------------------------------------------------------------------ wire forms

  JobExecution wire(Execution e, boolean withThingName, boolean withDocument) {
    Job job = state.job(e.jobId);
    return new JobExecution(
        e.jobId,
        withThingName ? e.thingName : null,
        withDocument ? job.document : null,
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
