package org.gantry.engine.internal;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.gantry.api.transport.Delivery;
import org.gantry.api.transport.MqttTransport;
import org.gantry.api.transport.Subscription;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AWS IoT Jobs request/response layer of one thing over the MQTT transport. Every request gets
 * a fresh client token; the answer that echoes it completes the request's future, and a request
 * that gets no answer within the timeout completes exceptionally with a {@link TimeoutException}.
 *
 * <p>Answers are taken with {@link Delivery#IMMEDIATE}, on the thread that received them, which
 * saves a thread hand-off on every answer the runner waits for. So they only decode and complete
 * futures: whatever reacts to a completed future without waiting for it must move to a thread of
 * the engine ({@code whenCompleteAsync}), never run there.
 */
final class JobsClient implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(JobsClient.class);

  private final JobsTopics topics;
  private final List<String> filters;
  private final MqttTransport transport;
  private final JobsCodec codec;
  private final ScheduledExecutorService scheduler;
  private final Duration timeout;
  private final Consumer<NotifyNext> onNotifyNext;
  private final CrashPoints crash;
  private final String tokenPrefix;
  private final AtomicLong sequence = new AtomicLong();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final List<Subscription> subscriptions = new ArrayList<>();

  /** Guards {@link #sweep}. */
  private final Object sweeping = new Object();

  /**
   * The next look for requests past their deadline, or null when none is scheduled. One timer for
   * all requests, not one each: scheduling and cancelling a timer per request woke the timer thread
   * about twice per job, on the cores the runner needs.
   */
  private ScheduledFuture<?> sweep;

  private record Pending(
      Class<?> acceptedType, CompletableFuture<Reply<?>> future, String topic, long deadline) {}

  JobsClient(
      JobsTopics topics,
      MqttTransport transport,
      JobsCodec codec,
      ScheduledExecutorService scheduler,
      Duration timeout,
      Consumer<NotifyNext> onNotifyNext,
      CrashPoints crash) {
    this.crash = crash;
    this.topics = topics;
    List<String> f = new ArrayList<>(topics.describeAndUpdateSubscriptions());
    // The answers of start-next, which the engine sends after a terminal status. The filter also
    // matches the describe request of a job named "start-next" (.../jobs/start-next/get), which an
    // ordinary broker then delivers back to this client: onMessage ignores every request topic.
    f.add(topics.startNext() + "/+");
    this.filters = List.copyOf(f);
    this.transport = transport;
    this.codec = codec;
    this.scheduler = scheduler;
    this.timeout = timeout;
    this.onNotifyNext = onNotifyNext;
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    // Tokens differ across restarts, so an answer to a request of a previous run is never taken
    // for the answer to a new one.
    this.tokenPrefix = "gantry-" + HexFormat.of().formatHex(random) + "-";
  }

  /**
   * Subscribes to notify-next and to the answers of describe, update and start-next, the only
   * requests this client sends, and completes once every SUBACK arrived: an ordinary broker
   * delivers no answer to a client that did not subscribe (PROTOCOL.md). Not to {@code notify},
   * which the engine does not use: it would be one more message to receive and drop after every
   * change of the queue. Subscriptions are re-made by the transport after a reconnect, so this is
   * called once.
   */
  synchronized CompletionStage<Void> subscribe() {
    List<CompletableFuture<Subscription>> all = new ArrayList<>();
    for (String filter : filters) {
      all.add(
          transport
              .subscribe(filter, 1, this::onMessage, Delivery.IMMEDIATE)
              .toCompletableFuture()
              .thenApply(
                  s -> {
                    synchronized (this) {
                      subscriptions.add(s);
                    }
                    return s;
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  synchronized boolean subscribed() {
    return subscriptions.size() == filters.size();
  }

  CompletableFuture<Reply<DescribeAccepted>> describe(
      String jobId, Long executionNumber, boolean includeJobDocument) {
    String token = nextToken();
    return send(
        topics.describe(jobId),
        new DescribeRequest(executionNumber, includeJobDocument, token),
        token,
        DescribeAccepted.class);
  }

  /** Sends an update; the caller's request has no client token yet: this sets a fresh one. */
  CompletableFuture<Reply<UpdateAccepted>> update(String jobId, UpdateRequest request) {
    String token = nextToken();
    UpdateRequest withToken =
        new UpdateRequest(
            request.status(),
            request.statusDetails(),
            request.expectedVersion(),
            request.executionNumber(),
            request.includeJobExecutionState(),
            request.includeJobDocument(),
            request.stepTimeoutInMinutes(),
            token);
    return send(topics.update(jobId), withToken, token, UpdateAccepted.class);
  }

  /**
   * Asks the service to put the head of the queue IN_PROGRESS (and to send it, document and all).
   */
  CompletableFuture<Reply<StartNextAccepted>> startNext(
      Map<String, String> statusDetails, long stepTimeoutInMinutes) {
    String token = nextToken();
    return send(
        topics.startNext(),
        new StartNextRequest(statusDetails, stepTimeoutInMinutes, token),
        token,
        StartNextAccepted.class);
  }

  private String nextToken() {
    return tokenPrefix + sequence.incrementAndGet();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private <T> CompletableFuture<Reply<T>> send(
      String topic, Object request, String token, Class<T> acceptedType) {
    CompletableFuture<Reply<?>> future = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    pending.put(token, new Pending(acceptedType, future, topic, deadline));
    // Answered, timed out or cancelled: forget the request either way.
    var unusedCleanup = future.whenComplete((r, e) -> pending.remove(token));
    synchronized (sweeping) {
      // Every request has the same timeout, so a sweep already scheduled (for an older request)
      // comes no later than this one's deadline.
      if (sweep == null) {
        scheduleSweep(deadline);
      }
    }
    var unusedPublish =
        transport
            .publish(topic, codec.encode(request), 1)
            .whenComplete(
                (ok, e) -> {
                  if (e != null) {
                    future.completeExceptionally(e);
                  } else if (request instanceof UpdateRequest u && u.status().isTerminal()) {
                    crash.reached(CrashPoints.Point.AFTER_TERMINAL_PUBLISH);
                  }
                });
    return (CompletableFuture) future;
  }

  /** Fails the requests past their deadline, then schedules the next look, if any is pending. */
  private void expire() {
    long now = System.nanoTime();
    for (Pending p : pending.values()) {
      if (now - p.deadline() >= 0) {
        p.future()
            .completeExceptionally(
                new TimeoutException(
                    "no answer to " + p.topic() + " within " + timeout.toSeconds() + " s"));
      }
    }
    synchronized (sweeping) {
      sweep = null;
      Long earliest = null;
      for (Pending p : pending.values()) {
        if (earliest == null || p.deadline() - earliest < 0) {
          earliest = p.deadline();
        }
      }
      if (earliest != null) {
        scheduleSweep(earliest);
      }
    }
  }

  private void scheduleSweep(long deadline) {
    sweep =
        scheduler.schedule(
            this::expire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void onMessage(String topic, byte[] payload) {
    Optional<JobsTopic> parsed = JobsTopic.parse(topic);
    if (parsed.isEmpty() || !parsed.get().thingName().equals(topics.thingName())) {
      return;
    }
    JobsTopic t = parsed.get();
    try {
      switch (t.answer()) {
        case REQUEST -> {
          if (t.kind() == JobsTopic.Kind.NOTIFY_NEXT) {
            onNotifyNext.accept(codec.decode(payload, NotifyNext.class));
          }
        }
        case REJECTED -> {
          Rejected rejected = codec.decode(payload, Rejected.class);
          complete(rejected.clientToken(), Reply.no(rejected), topic);
        }
        case ACCEPTED -> onAccepted(t, topic, payload);
      }
    } catch (ProtocolException | RuntimeException e) {
      LOG.warn("Ignored an unreadable message on {}: {}", topic, e.getMessage());
    }
  }

  private void onAccepted(JobsTopic t, String topic, byte[] payload) throws ProtocolException {
    switch (t.kind()) {
      case DESCRIBE -> {
        DescribeAccepted a = codec.decode(payload, DescribeAccepted.class);
        complete(a.clientToken(), Reply.ok(a), topic);
      }
      case UPDATE -> {
        UpdateAccepted a = codec.decode(payload, UpdateAccepted.class);
        complete(a.clientToken(), Reply.ok(a), topic);
      }
      case START_NEXT -> {
        StartNextAccepted a = codec.decode(payload, StartNextAccepted.class);
        complete(a.clientToken(), Reply.ok(a), topic);
      }
      default -> {
        // answers to requests this engine does not send (get): another client's
      }
    }
  }

  private void complete(String token, Reply<?> reply, String topic) {
    Pending p = token == null ? null : pending.get(token);
    if (p == null) {
      // Another client of the same thing, or an answer that arrived after its timeout.
      LOG.debug("No request waits for the answer on {} (token {})", topic, token);
      return;
    }
    if (reply.isAccepted() && !p.acceptedType().isInstance(reply.accepted())) {
      LOG.warn("Answer on {} does not match the request with token {}", topic, token);
      return;
    }
    p.future().complete(reply);
  }

  @Override
  public synchronized void close() {
    for (Subscription s : subscriptions) {
      s.close();
    }
    subscriptions.clear();
    for (Pending p : pending.values()) {
      p.future().cancel(false);
    }
    pending.clear();
    synchronized (sweeping) {
      if (sweep != null) {
        sweep.cancel(false);
        sweep = null;
      }
    }
  }
}
