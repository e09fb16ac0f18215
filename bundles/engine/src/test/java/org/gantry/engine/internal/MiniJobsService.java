package org.gantry.engine.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopic;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.StartNextRequest;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;

/**
 * Just enough of the AWS IoT Jobs service for the engine's unit tests: executions of one thing with
 * version numbers as PROTOCOL.md says, and hooks to lose, throttle or disturb requests.
 */
final class MiniJobsService {

  /** One execution as the service keeps it. */
  static final class Exec {
    final String jobId;
    volatile String document;
    ExecutionStatus status = ExecutionStatus.QUEUED;
    Map<String, String> details = Map.of();
    long version = 1;

    Exec(String jobId, String document) {
      this.jobId = jobId;
      this.document = document;
    }
  }

  /** A request the engine sent, decoded. */
  record Seen(String topic, Object request) {}

  private final FakeTransport transport;
  private final JobsTopics topics;
  private final JobsCodec codec = new JobsCodec();
  private final Map<String, Exec> execs = new LinkedHashMap<>();
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  /** The job each start-next put IN_PROGRESS, by the request's client token. */
  private final Map<String, String> startedBy = new java.util.concurrent.ConcurrentHashMap<>();

  private volatile Predicate<Seen> drop = s -> false;
  private volatile Predicate<Seen> throttle = s -> false;

  /** Whether a terminal update is followed by notify-next naming the new head, as AWS does. */
  volatile boolean notifyNextAfterTerminal;

  /**
   * The job whose terminal update is held until the next start-next has been answered: a service
   * that does not keep one client's requests in order (AWS IoT Core does not promise it); or null.
   */
  volatile String startNextOvertakesTheTerminalUpdateOf;

  /** Whether start-next is carried out but its answer lost. */
  volatile boolean loseStartNextAnswers;

  /** A terminal update held back by {@link #startNextOvertakesTerminalUpdates}. */
  private Runnable heldUpdate;

  MiniJobsService(FakeTransport transport, String thing) {
    this.transport = transport;
    this.topics = new JobsTopics(thing);
    transport.service(this::handle);
  }

  synchronized Exec queue(String jobId, String document) {
    Exec e = new Exec(jobId, document);
    execs.put(jobId, e);
    return e;
  }

  synchronized Exec exec(String jobId) {
    return execs.get(jobId);
  }

  /** Loses the answer to every request that matches, once per match. */
  void dropWhen(Predicate<Seen> p) {
    drop = p;
  }

  void throttleWhen(Predicate<Seen> p) {
    throttle = p;
  }

  /**
   * The updates the engine sent for {@code jobId}, in order; a start-next that put it IN_PROGRESS
   * counts as an IN_PROGRESS update (without an expected version).
   */
  List<UpdateRequest> updates(String jobId) {
    List<UpdateRequest> out = new ArrayList<>();
    for (Seen s : seen) {
      if (s.request() instanceof UpdateRequest u && s.topic().equals(topics.update(jobId))) {
        out.add(u);
      } else if (s.request() instanceof StartNextRequest n
          && jobId.equals(startedBy.get(n.clientToken()))) {
        out.add(
            new UpdateRequest(
                ExecutionStatus.IN_PROGRESS,
                n.statusDetails(),
                null,
                null,
                null,
                null,
                n.stepTimeoutInMinutes(),
                n.clientToken()));
      }
    }
    return out;
  }

  /** How many start-next requests the engine sent. */
  long startNexts() {
    return seen.stream().filter(x -> x.request() instanceof StartNextRequest).count();
  }

  String thing() {
    return topics.thingName();
  }

  void handle(String topic, byte[] payload) {
    Optional<JobsTopic> t = JobsTopic.parse(topic);
    if (t.isEmpty() || t.get().answer() != JobsTopic.Answer.REQUEST) {
      return;
    }
    try {
      switch (t.get().kind()) {
        case DESCRIBE -> {
          DescribeRequest r = codec.decode(payload, DescribeRequest.class);
          Seen s = new Seen(topic, r);
          seen.add(s);
          if (!intercept(s, topic, r.clientToken())) {
            describe(topic, t.get().jobId(), r);
          }
        }
        case UPDATE -> {
          UpdateRequest r = codec.decode(payload, UpdateRequest.class);
          Seen s = new Seen(topic, r);
          seen.add(s);
          if (!intercept(s, topic, r.clientToken())) {
            if (r.status().isTerminal()
                && t.get().jobId().equals(startNextOvertakesTheTerminalUpdateOf)) {
              synchronized (this) {
                heldUpdate = () -> update(topic, t.get().jobId(), r);
              }
            } else {
              update(topic, t.get().jobId(), r);
            }
          }
        }
        case START_NEXT -> {
          StartNextRequest r = codec.decode(payload, StartNextRequest.class);
          Seen s = new Seen(topic, r);
          seen.add(s);
          if (!intercept(s, topic, r.clientToken())) {
            startNext(topic, r);
            Runnable held;
            synchronized (this) {
              held = heldUpdate;
              heldUpdate = null;
            }
            if (held != null) {
              held.run();
            }
          }
        }
        default -> throw new IllegalStateException("unexpected request on " + topic);
      }
    } catch (ProtocolException e) {
      throw new IllegalStateException("the engine sent an invalid request on " + topic, e);
    }
  }

  private boolean intercept(Seen s, String topic, String token) {
    if (drop.test(s)) {
      return true;
    }
    if (throttle.test(s)) {
      reject(topic, ErrorCode.REQUEST_THROTTLED, token, null);
      return true;
    }
    return false;
  }

  /** The next pending execution: the first IN_PROGRESS, else the first QUEUED; null when none. */
  private Exec head() {
    return execs.values().stream()
        .filter(x -> x.status == ExecutionStatus.IN_PROGRESS)
        .findFirst()
        .or(
            () ->
                execs.values().stream().filter(x -> x.status == ExecutionStatus.QUEUED).findFirst())
        .orElse(null);
  }

  /** As AWS: the head goes IN_PROGRESS (one already IN_PROGRESS is handed back unchanged). */
  private synchronized void startNext(String topic, StartNextRequest r) {
    Exec e = head();
    if (e == null) {
      if (!loseStartNextAnswers) {
        answer(topic, new StartNextAccepted(null, now(), r.clientToken()));
      }
      return;
    }
    if (e.status == ExecutionStatus.QUEUED) {
      e.status = ExecutionStatus.IN_PROGRESS;
      if (r.statusDetails() != null) {
        e.details = r.statusDetails();
      }
      e.version++;
      startedBy.put(r.clientToken(), e.jobId);
    }
    if (!loseStartNextAnswers) {
      answer(topic, new StartNextAccepted(execution(e, true), now(), r.clientToken()));
    }
  }

  private JobExecution execution(Exec e, boolean withDocument) {
    return new JobExecution(
        e.jobId,
        topics.thingName(),
        withDocument ? e.document : null,
        e.status,
        e.details,
        1L,
        null,
        1L,
        e.version,
        1);
  }

  private synchronized void describe(String topic, String jobId, DescribeRequest r) {
    Exec e;
    if (jobId.equals("$next")) {
      e = head();
      if (e == null) {
        // What the hub answers too: DescribeAccepted always carries an execution.
        reject(topic, ErrorCode.RESOURCE_NOT_FOUND, r.clientToken(), null);
        return;
      }
    } else {
      e = execs.get(jobId);
      if (e == null) {
        reject(topic, ErrorCode.RESOURCE_NOT_FOUND, r.clientToken(), null);
        return;
      }
      if (e.status.isTerminal()) {
        reject(topic, ErrorCode.TERMINAL_STATE_REACHED, r.clientToken(), null);
        return;
      }
    }
    boolean doc = r.includeJobDocument() == null || r.includeJobDocument();
    answer(topic, new DescribeAccepted(execution(e, doc), now(), r.clientToken()));
  }

  private synchronized void update(String topic, String jobId, UpdateRequest r) {
    Exec e = execs.get(jobId);
    if (e == null) {
      reject(topic, ErrorCode.RESOURCE_NOT_FOUND, r.clientToken(), null);
      return;
    }
    if (e.status.isTerminal()) {
      reject(topic, ErrorCode.INVALID_STATE_TRANSITION, r.clientToken(), state(e));
      return;
    }
    if (r.expectedVersion() != null && r.expectedVersion() != e.version) {
      reject(topic, ErrorCode.VERSION_MISMATCH, r.clientToken(), state(e));
      return;
    }
    e.status = r.status();
    if (r.statusDetails() != null) {
      e.details = r.statusDetails();
    }
    e.version++;
    answer(
        topic,
        new UpdateAccepted(
            Boolean.TRUE.equals(r.includeJobExecutionState()) ? state(e) : null,
            null,
            now(),
            r.clientToken()));
    if (notifyNextAfterTerminal && e.status.isTerminal()) {
      notifyNext(
          execs.values().stream()
              .filter(x -> x.status == ExecutionStatus.QUEUED)
              .map(x -> x.jobId)
              .findFirst()
              .orElse(null));
    }
  }

  /** Publishes notify-next naming {@code jobId} as it is now (with its document), or none. */
  synchronized void notifyNext(String jobId) {
    notifyNext(jobId, 1);
  }

  /** Publishes notify-next naming execution {@code number} of {@code jobId} (a retry, say). */
  synchronized void notifyNext(String jobId, long number) {
    Exec e = jobId == null ? null : execs.get(jobId);
    JobExecution ex =
        e == null
            ? null
            : new JobExecution(
                e.jobId,
                topics.thingName(),
                e.document,
                number == 1 ? e.status : ExecutionStatus.QUEUED,
                null,
                1L,
                null,
                1L,
                number == 1 ? e.version : 1,
                number);
    transport.deliver(topics.notifyNext(), codec.encode(new NotifyNext(now(), ex)));
  }

  /** How many times the engine asked for the head of the queue. */
  long describesOfNext() {
    return seen.stream().filter(x -> x.topic().endsWith("/jobs/$next/get")).count();
  }

  /** A change made by someone else (an operator): bumps the version. */
  synchronized void touch(String jobId) {
    execs.get(jobId).version++;
  }

  synchronized void cancel(String jobId) {
    Exec e = execs.get(jobId);
    e.status = ExecutionStatus.CANCELED;
    e.version++;
  }

  private static JobExecutionState state(Exec e) {
    return new JobExecutionState(e.status, e.details, e.version);
  }

  private void answer(String topic, Object accepted) {
    transport.deliver(JobsTopics.accepted(topic), codec.encode(accepted));
  }

  private void reject(String topic, ErrorCode code, String token, JobExecutionState st) {
    transport.deliver(
        JobsTopics.rejected(topic),
        codec.encode(new Rejected(code, code.wireName(), token, now(), st)));
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }
}
