package org.gantry.itests.support;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.SocketFactory;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobExecutionSummary;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopic;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Limits;
import org.gantry.protocol.Notify;
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
 * The service side of AWS IoT Jobs, just large enough for end-to-end tests of a gateway: it keeps
 * the executions of any number of things in memory, answers the device requests of PROTOCOL.md on
 * their {@code /accepted} and {@code /rejected} topics with QoS 1, publishes {@code notify-next}
 * when the head of a thing's queue changes and {@code notify} when its pending list changes, and
 * logs every request it saw with the answer it gave.
 *
 * <p>It is an ordinary MQTT client (Paho mqttv3) built on {@code org.gantry.protocol}, so the same
 * class runs inside the OSGi framework (where both are bundles) and in a plain JVM. It subscribes
 * to the request topics of every thing ({@link #FILTERS}), not to {@code $aws/things/+/jobs/#},
 * which would bring back every answer and notification it sends, and never to a root {@code #}
 * (BUILD-NOTES pitfall 10).
 *
 * <p>Requests are handled one at a time, in order of arrival, on Paho's callback thread, and the
 * answers to a request are handed to the MQTT client, in order, before the next one is handled. A
 * handoff to a thread of the service's own would put two more thread wake-ups on the path of every
 * device request, on the same cores as the gateway under test. Answers are not awaited (the
 * broker's PUBACK would cost a round trip each): at most {@value #MAX_IN_FLIGHT} are unacknowledged
 * at a time. Paho's callback thread never waits for that window, since the acknowledgements that
 * open it arrive on the same thread: when it is full, the answers wait in a backlog that the
 * service's own thread publishes as it opens. Every public method is thread-safe.
 *
 * <p>Answers, as PROTOCOL.md says: {@code get}, {@code start-next}, {@code {jobId}/get} (also
 * {@code $next}), {@code {jobId}/update} with {@code expectedVersion} ({@code VersionMismatch} with
 * the {@code executionState}); an update of a terminal execution is {@code InvalidStateTransition}
 * with the {@code executionState}; a describe of a terminal one is {@code TerminalStateReached}; an
 * unknown job is {@code ResourceNotFound}; a job id that is not valid is {@code InvalidRequest}. A
 * describe of {@code $next} with nothing pending is {@code ResourceNotFound}: {@link
 * DescribeAccepted} has no way to say "no execution".
 */
public final class TestJobsService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TestJobsService.class);

  /** The request topics of PROTOCOL.md; a malformed job id still matches the last two. */
  private static final String[] FILTERS = {
    "$aws/things/+/jobs/get",
    "$aws/things/+/jobs/start-next",
    "$aws/things/+/jobs/+/get",
    "$aws/things/+/jobs/+/update"
  };

  private static final int MAX_IN_FLIGHT = 500;
  private static final String NEXT = JobsTopics.NEXT;
  private static final int MAX_LISTED = 10;
  private static final int MAX_NOTIFIED = 15;
  private static final long PUBLISH_TIMEOUT_MILLIS = 10_000;
  private static final long CONNECT_TIMEOUT_MILLIS = 10_000;
  private static final Pattern TOKEN =
      Pattern.compile("\"clientToken\"\\s*:\\s*\"([^\"\\\\]{1,64})\"");

  /**
   * One execution as the service sees it at one moment.
   *
   * @param thingName the thing
   * @param jobId the job
   * @param executionNumber always 1: this service runs every job once per thing
   * @param document the job document, as queued
   * @param status the current status
   * @param statusDetails the stored details
   * @param versionNumber the current version
   * @param history every status the execution has had, oldest first, starting with QUEUED; a status
   *     appears again only after a different one
   */
  public record Execution(
      String thingName,
      String jobId,
      long executionNumber,
      String document,
      ExecutionStatus status,
      Map<String, String> statusDetails,
      long versionNumber,
      List<ExecutionStatus> history) {}

  /**
   * One message the service received on a request topic, with its answer.
   *
   * @param at when it arrived
   * @param topic the topic
   * @param thingName the thing from the topic; null when the topic is not a jobs topic
   * @param jobId the job id from the topic ({@code $next} included); for start-next, the job its
   *     answer names; null for other requests
   * @param kind which request; null when the topic was not understood
   * @param request the decoded request record; null when it could not be decoded
   * @param answer {@code accepted}, or {@code rejected:} and the error code's wire name
   */
  public record Request(
      Instant at,
      String topic,
      String thingName,
      String jobId,
      JobsTopic.Kind kind,
      Object request,
      String answer) {

    /**
     * Whether this is an update of the job, answered as given.
     *
     * @param job the job id
     * @param status the status the update asked for; null for any
     * @param answerPrefix the start of the answer, e.g. {@code accepted} or {@code
     *     rejected:VersionMismatch}
     * @return true when all match
     */
    public boolean isUpdate(String job, ExecutionStatus status, String answerPrefix) {
      return kind == JobsTopic.Kind.UPDATE
          && job.equals(jobId)
          && request instanceof UpdateRequest u
          && (status == null || u.status() == status)
          && answer.startsWith(answerPrefix);
    }

    /**
     * Whether this is an accepted start-next whose answer names the job (it started it, or handed
     * it back still IN_PROGRESS).
     *
     * @param job the job id
     * @return true when it is
     */
    public boolean isStartNextOf(String job) {
      return kind == JobsTopic.Kind.START_NEXT && job.equals(jobId) && answer.equals("accepted");
    }

    /**
     * Whether this is a describe of the job.
     *
     * @param job a job id or {@code $next}
     * @return true when it is
     */
    public boolean isDescribe(String job) {
      return kind == JobsTopic.Kind.DESCRIBE && job.equals(jobId);
    }
  }

  /** What the service keeps of one execution. */
  private static final class Exec {
    final String thing;
    final String jobId;
    final String document;
    final long queuedAt;
    Long startedAt;
    long lastUpdatedAt;
    ExecutionStatus status = ExecutionStatus.QUEUED;
    Map<String, String> details = Map.of();
    long version = 1;
    final List<ExecutionStatus> history = new ArrayList<>(List.of(ExecutionStatus.QUEUED));

    Exec(String thing, String jobId, String document, long now) {
      this.thing = thing;
      this.jobId = jobId;
      this.document = document;
      this.queuedAt = now;
      this.lastUpdatedAt = now;
    }

    void setStatus(ExecutionStatus s, long now) {
      if (s != status) {
        history.add(s);
      }
      status = s;
      lastUpdatedAt = now;
    }

    Execution snapshot() {
      return new Execution(
          thing, jobId, 1, document, status, details, version, List.copyOf(history));
    }

    JobExecutionState state() {
      return new JobExecutionState(status, details, version);
    }

    JobExecutionSummary summary() {
      return new JobExecutionSummary(jobId, queuedAt, startedAt, lastUpdatedAt, version, 1);
    }

    JobExecution execution(boolean withDocument) {
      return new JobExecution(
          jobId,
          thing,
          withDocument ? document : null,
          status,
          details,
          queuedAt,
          startedAt,
          lastUpdatedAt,
          version,
          1);
    }
  }

  /** The executions of one thing, in queue order. */
  private static final class Thing {
    final JobsTopics topics;
    final Map<String, Exec> execs = new LinkedHashMap<>();

    /**
     * The executions not yet terminal, in queue order: every request looks at these, and a long
     * benchmark leaves thousands of terminal ones in {@link #execs}. A terminal status is never
     * left again, so terminal executions are dropped from here when met.
     */
    private final Map<String, Exec> active = new LinkedHashMap<>();

    Thing(String name) {
      this.topics = new JobsTopics(name);
    }

    void add(Exec e) {
      execs.put(e.jobId, e);
      active.put(e.jobId, e);
    }

    private Iterable<Exec> active() {
      active.values().removeIf(e -> e.status.isTerminal());
      return active.values();
    }

    Exec head() {
      Exec queued = null;
      for (Exec e : active()) {
        if (e.status == ExecutionStatus.IN_PROGRESS) {
          return e;
        }
        if (queued == null && e.status == ExecutionStatus.QUEUED) {
          queued = e;
        }
      }
      return queued;
    }

    List<Exec> pending(ExecutionStatus status) {
      List<Exec> out = new ArrayList<>();
      for (Exec e : active()) {
        if (e.status == status) {
          out.add(e);
        }
      }
      return out;
    }

    /** What notify reports, to tell whether it changed. */
    String pendingSignature() {
      StringBuilder sb = new StringBuilder();
      for (Exec e : pending(ExecutionStatus.IN_PROGRESS)) {
        sb.append(e.jobId).append(":I,");
      }
      for (Exec e : pending(ExecutionStatus.QUEUED)) {
        sb.append(e.jobId).append(":Q,");
      }
      return sb.toString();
    }
  }

  /** The answer to a request, or nothing (a fault hook swallowed it). */
  private record Answer(String topic, Object payload, String outcome) {}

  private final JobsCodec codec = new JobsCodec();
  private final MqttAsyncClient client;

  /** Publishes the backlog when the window of unacknowledged answers was full. */
  private final ExecutorService worker;

  /** Answers handed to Paho and not acknowledged yet: at most {@link #window}. */
  private final Semaphore inFlight;

  private final int window;

  /** Guards {@link #backlog} and the order in which answers reach the MQTT client. */
  private final Object publishing = new Object();

  /** Answers waiting for the window, oldest first; while it has any, new ones queue behind. */
  private final ArrayDeque<Answer> backlog = new ArrayDeque<>();

  /** Held while a request is handled, so that {@link #close()} can wait for the one in hand. */
  private final Object handling = new Object();

  private volatile boolean closed;

  private volatile boolean publishNotify = true;
  private final Map<String, Thing> things = new LinkedHashMap<>();
  private final List<Request> requests = new ArrayList<>();
  private final Map<String, ExecutionStatus> armedBumps = new LinkedHashMap<>();

  private TestJobsService(MqttAsyncClient client, int window) {
    this.client = client;
    this.window = window;
    this.inFlight = new Semaphore(window);
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "itest-jobs-backlog");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Connects to a broker and subscribes (waiting for the SUBACK) to every thing's jobs topics.
   *
   * @param brokerUrl {@code tcp://host:port}
   * @return the running service; close it when done
   * @throws MqttException when the broker cannot be reached within 10 s or refuses the subscription
   */
  public static TestJobsService start(String brokerUrl) throws MqttException {
    return start(brokerUrl, new NoDelaySocketFactory());
  }

  /**
   * Connects through the given sockets, e.g. mutual TLS to an {@code ssl://} broker, and subscribes
   * as {@link #start(String)} does.
   *
   * @param brokerUrl {@code tcp://host:port}, or {@code ssl://host:port} with an {@link
   *     javax.net.ssl.SSLSocketFactory}
   * @param sockets the socket factory; it should set TCP_NODELAY (see {@link NoDelaySocketFactory})
   * @return the running service; close it when done
   * @throws MqttException when the broker cannot be reached within 10 s or refuses the subscription
   */
  public static TestJobsService start(String brokerUrl, SocketFactory sockets)
      throws MqttException {
    return start(brokerUrl, sockets, MAX_IN_FLIGHT);
  }

  /**
   * Starts the service as {@link #start(String, SocketFactory)} does, with another window of
   * unacknowledged answers than {@value #MAX_IN_FLIGHT}: its own tests use 1, which sends nearly
   * every answer through the backlog.
   *
   * @param brokerUrl {@code tcp://host:port}, or {@code ssl://host:port}
   * @param sockets the socket factory; it should set TCP_NODELAY (see {@link NoDelaySocketFactory})
   * @param window how many answers may be unacknowledged at a time, at least 1
   * @return the running service; close it when done
   * @throws MqttException when the broker cannot be reached within 10 s or refuses the subscription
   */
  public static TestJobsService start(String brokerUrl, SocketFactory sockets, int window)
      throws MqttException {
    if (window < 1 || window > MAX_IN_FLIGHT) {
      throw new IllegalArgumentException("window " + window + " is not 1.." + MAX_IN_FLIGHT);
    }
    MqttAsyncClient client =
        new MqttAsyncClient(
            brokerUrl,
            "itest-jobs-" + UUID.randomUUID().toString().substring(0, 8),
            new MemoryPersistence());
    TestJobsService service = new TestJobsService(client, window);
    client.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            LOG.warn("The test jobs service lost its broker connection", cause);
          }

          @Override
          public void messageArrived(String topic, MqttMessage message) {
            // On Paho's thread: anything thrown here would drop the service's connection.
            synchronized (service.handling) {
              if (!service.closed) {
                try {
                  service.handle(topic, message.getPayload());
                } catch (RuntimeException e) {
                  LOG.error("The test jobs service failed on a message on {}", topic, e);
                }
              }
            }
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {
            service.inFlight.release();
          }
        });
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setConnectionTimeout(10);
    options.setKeepAliveInterval(30);
    options.setMaxInflight(1000);
    options.setAutomaticReconnect(false);
    options.setSocketFactory(sockets);
    try {
      client.connect(options).waitForCompletion(CONNECT_TIMEOUT_MILLIS);
      int[] qos = new int[FILTERS.length];
      Arrays.fill(qos, 1);
      IMqttToken subscribed = client.subscribe(FILTERS, qos);
      subscribed.waitForCompletion(CONNECT_TIMEOUT_MILLIS);
      int[] granted = subscribed.getGrantedQos();
      if (granted.length != FILTERS.length || Arrays.stream(granted).anyMatch(g -> g > 1)) {
        throw new MqttException(MqttException.REASON_CODE_SUBSCRIBE_FAILED);
      }
    } catch (MqttException e) {
      service.close();
      throw e;
    }
    LOG.info("Test jobs service subscribed to {} on {}", Arrays.toString(FILTERS), brokerUrl);
    return service;
  }

  // ------------------------------------------------------------------ the test's side

  /**
   * Queues a job for a thing, as CreateJob would: the execution is QUEUED at version 1. Publishes
   * notify-next when the job becomes the head of the queue, and notify.
   *
   * @param thing the thing name
   * @param jobId the job id, new for this thing
   * @param documentJson the job document: one JSON value (normally an object), at most 32,768
   *     characters as AWS IoT Jobs allows
   * @throws IllegalArgumentException when an argument breaks the service's limits, or the job
   *     exists
   */
  public void queue(String thing, String jobId, String documentJson) {
    if (!Limits.isValidThingName(thing)) {
      throw new IllegalArgumentException(
          "thing name '" + thing + "' is not valid: 1-128 characters of [a-zA-Z0-9:_-]");
    }
    if (!Limits.isValidJobId(jobId)) {
      throw new IllegalArgumentException(
          "job id '" + jobId + "' is not valid: 1-64 characters of [a-zA-Z0-9_-]");
    }
    Objects.requireNonNull(documentJson, "documentJson");
    if (documentJson.length() > Limits.MAX_DOCUMENT_CHARS) {
      throw new IllegalArgumentException(
          "the job document has "
              + documentJson.length()
              + " characters; AWS IoT Jobs takes at most "
              + Limits.MAX_DOCUMENT_CHARS);
    }
    // Fails here, with the codec's reason, for a document that is not one JSON value.
    codec.encode(
        new JobExecution(
            jobId, thing, documentJson, ExecutionStatus.QUEUED, null, 0L, null, 0L, 1, 1));
    List<Answer> notifications;
    synchronized (this) {
      Thing t = things.computeIfAbsent(thing, Thing::new);
      if (t.execs.containsKey(jobId)) {
        throw new IllegalArgumentException("job " + jobId + " is already queued for " + thing);
      }
      Exec head = t.head();
      String pending = publishNotify ? t.pendingSignature() : "";
      t.add(new Exec(thing, jobId, documentJson, now()));
      notifications = notificationsAfterChange(t, head, pending);
      notifyAll();
    }
    LOG.info("Queued job {} for {}", jobId, thing);
    publishAll(notifications);
  }

  /**
   * Whether the service publishes {@code notify} (on by default). The engine benchmark turns it
   * off: the gateway does not subscribe to {@code notify}, and where AWS IoT Core publishes one
   * that no client subscribed to, nothing reaches the gateway's machine. Here the service and the
   * broker share the gateway's cores, and would spend them on three messages per job that nobody
   * reads.
   *
   * @param on false to publish no {@code notify} from now on; {@code notify-next} is unaffected
   */
  public void publishNotify(boolean on) {
    publishNotify = on;
  }

  /**
   * The execution of a job on a thing, as the service has it now.
   *
   * @param thing the thing
   * @param jobId the job
   * @return the execution, or empty when no such job was queued
   */
  public synchronized Optional<Execution> execution(String thing, String jobId) {
    Thing t = things.get(thing);
    Exec e = t == null ? null : t.execs.get(jobId);
    return Optional.ofNullable(e).map(Exec::snapshot);
  }

  /**
   * Waits until an execution has a status.
   *
   * @param thing the thing
   * @param jobId the job
   * @param status the status to wait for
   * @param timeout how long to wait at most
   * @return the execution as it was when it reached the status
   * @throws AssertionError when the execution reaches another terminal status, or the time runs
   *     out; the message shows the execution and the requests of the thing
   * @throws InterruptedException when interrupted while waiting
   */
  public Execution awaitStatus(String thing, String jobId, ExecutionStatus status, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        Thing t = things.get(thing);
        Exec e = t == null ? null : t.execs.get(jobId);
        if (e != null && e.status == status) {
          return e.snapshot();
        }
        if (e != null && e.status.isTerminal()) {
          throw new AssertionError(
              "Job "
                  + jobId
                  + " of "
                  + thing
                  + " ended "
                  + e.status
                  + ", not "
                  + status
                  + ": "
                  + e.snapshot()
                  + "\nRequests:\n"
                  + requestLog(thing));
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "Job "
                  + jobId
                  + " of "
                  + thing
                  + " did not reach "
                  + status
                  + " within "
                  + timeout.toMillis()
                  + " ms: "
                  + (e == null ? "never queued" : e.snapshot())
                  + "\nRequests:\n"
                  + requestLog(thing));
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /**
   * Waits until the service has received a request that matches.
   *
   * @param what what the test waits for, for the failure message
   * @param matches the condition
   * @param timeout how long to wait at most
   * @return the first matching request
   * @throws AssertionError when none arrives in time
   * @throws InterruptedException when interrupted while waiting
   */
  public Request awaitRequest(String what, Predicate<Request> matches, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        for (Request r : requests) {
          if (matches.test(r)) {
            return r;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "No request "
                  + what
                  + " within "
                  + timeout.toMillis()
                  + " ms; requests:\n"
                  + requestLog(null));
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /**
   * Every request received so far, in order of arrival.
   *
   * @return an immutable copy
   */
  public synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  /**
   * The requests of one thing, one per line, for failure messages.
   *
   * @param thing the thing; null for all
   * @return the log
   */
  public synchronized String requestLog(String thing) {
    StringBuilder sb = new StringBuilder();
    for (Request r : requests) {
      if (thing == null || thing.equals(r.thingName())) {
        sb.append("  ")
            .append(r.at())
            .append(' ')
            .append(r.topic())
            .append(" ")
            .append(r.request())
            .append(" -> ")
            .append(r.answer())
            .append('\n');
      }
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ fault hooks

  /**
   * Changes the execution's version as another writer would (an operator updating it from the
   * console), so that the gateway's next {@code expectedVersion} is stale.
   *
   * @param thing the thing
   * @param jobId the job
   * @return the new version
   * @throws IllegalArgumentException when no such job exists
   */
  public synchronized long bumpVersion(String thing, String jobId) {
    Exec e = exec(thing, jobId);
    e.version++;
    e.lastUpdatedAt = now();
    LOG.info("Bumped the version of job {} of {} to {}", jobId, thing, e.version);
    notifyAll();
    return e.version;
  }

  /**
   * Arms {@link #bumpVersion} to happen once, right after the service accepts (and answers) an
   * update of the execution to {@code status}, before it handles the next request: the gateway's
   * next update then meets a {@code VersionMismatch}, deterministically. May be armed before the
   * job is queued, so that no race with the gateway decides the outcome.
   *
   * @param thing the thing
   * @param jobId the job
   * @param status the status whose accepted update triggers the bump
   */
  public synchronized void bumpVersionAfter(String thing, String jobId, ExecutionStatus status) {
    armedBumps.put(thing + "/" + jobId, Objects.requireNonNull(status, "status"));
  }

  /**
   * Cancels an execution as CancelJob with {@code force=true} would: any non-terminal execution
   * becomes CANCELED and its version goes up; notify-next and notify follow.
   *
   * @param thing the thing
   * @param jobId the job
   * @throws IllegalArgumentException when no such job exists
   * @throws IllegalStateException when the execution is already terminal
   */
  public void cancel(String thing, String jobId) {
    List<Answer> notifications;
    synchronized (this) {
      Exec e = exec(thing, jobId);
      if (e.status.isTerminal()) {
        throw new IllegalStateException(
            "job " + jobId + " of " + thing + " is already " + e.status + "; cannot cancel");
      }
      Thing t = things.get(thing);
      Exec head = t.head();
      String pending = publishNotify ? t.pendingSignature() : "";
      e.setStatus(ExecutionStatus.CANCELED, now());
      e.version++;
      notifications = notificationsAfterChange(t, head, pending);
      notifyAll();
    }
    LOG.info("Canceled job {} of {}", jobId, thing);
    publishAll(notifications);
  }

  @Override
  public void close() {
    // Requests already received are answered first: a test that saw a status change may close the
    // service before the gateway has the answer to the update that made it.
    synchronized (handling) {
      closed = true;
    }
    worker.shutdown();
    try {
      if (!worker.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("The test jobs service's backlog was not published within 5 s");
        worker.shutdownNow();
      }
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
    }
    try {
      if (client.isConnected()) {
        client.disconnect(2000).waitForCompletion(3000);
      }
    } catch (MqttException e) {
      LOG.debug("Disconnect of the test jobs service failed", e);
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      LOG.debug("Close of the test jobs service failed", e);
    }
  }

  // ------------------------------------------------------------------ the protocol's side

  private void handle(String topic, byte[] payload) {
    Optional<JobsTopic> parsed = JobsTopic.parse(topic);
    if (parsed.isPresent()
        && (parsed.get().answer() != JobsTopic.Answer.REQUEST
            || parsed.get().kind() == JobsTopic.Kind.NOTIFY
            || parsed.get().kind() == JobsTopic.Kind.NOTIFY_NEXT)) {
      return; // answers and notifications: not subscribed to, ignored should a broker send them
    }
    List<Answer> out = new ArrayList<>();
    if (parsed.isEmpty()) {
      refuseTopic(topic, payload, out);
      publishAll(out);
      return;
    }
    JobsTopic t = parsed.get();
    List<Answer> notifications;
    // Anything thrown here is logged by the caller, and nothing more is published for the request.
    synchronized (this) {
      Thing thing = things.computeIfAbsent(t.thingName(), Thing::new);
      Exec head = thing.head();
      String pending = publishNotify ? thing.pendingSignature() : "";
      answer(thing, t, topic, payload, out);
      // The answer leaves before the notifications are even built: the device waits for it.
      publishAll(out);
      notifications = notificationsAfterChange(thing, head, pending);
      notifyAll();
    }
    publishAll(notifications);
  }

  /** A request on a topic that is no known jobs topic: a bad job id, or no such request. */
  private void refuseTopic(String topic, byte[] payload, List<Answer> out) {
    String[] parts = topic.split("/", -1);
    // $aws/things/T/jobs/{jobId}/get|update with a job id that breaks the limits
    boolean badJobId = parts.length == 6 && (parts[5].equals("get") || parts[5].equals("update"));
    ErrorCode code = badJobId ? ErrorCode.INVALID_REQUEST : ErrorCode.INVALID_TOPIC;
    String message =
        badJobId
            ? "jobId '" + parts[4] + "' is not valid: it must be 1-64 characters of [a-zA-Z0-9_-]."
            : "Topic " + topic + " is not a jobs request topic.";
    String token = tokenOf(payload);
    out.add(reject(topic, code, message, token, null));
    String thing = JobsTopic.isJobsTopic(topic) ? parts[2] : null;
    record(topic, thing, parts.length > 4 ? parts[4] : null, null, null, out);
  }

  private void answer(Thing thing, JobsTopic t, String topic, byte[] payload, List<Answer> out) {
    Object request = null;
    try {
      switch (t.kind()) {
        case GET_PENDING -> {
          GetPendingRequest r = codec.decode(payload, GetPendingRequest.class);
          request = r;
          out.add(getPending(thing, topic, r));
        }
        case START_NEXT -> {
          StartNextRequest r = codec.decode(payload, StartNextRequest.class);
          request = r;
          out.add(startNext(thing, topic, r));
        }
        case DESCRIBE -> {
          DescribeRequest r = codec.decode(payload, DescribeRequest.class);
          request = r;
          out.add(describe(thing, t.jobId(), topic, r));
        }
        case UPDATE -> {
          UpdateRequest r = codec.decode(payload, UpdateRequest.class);
          request = r;
          out.add(update(thing, t.jobId(), topic, r));
        }
        default -> throw new IllegalStateException("not a request: " + topic);
      }
    } catch (ProtocolException e) {
      out.add(reject(topic, e.code(), e.getMessage(), tokenOf(payload), null));
    }
    String jobId = t.jobId();
    if (!out.isEmpty()
        && out.get(0).payload() instanceof StartNextAccepted a
        && a.execution() != null) {
      jobId = a.execution().jobId(); // the job start-next started (or handed back)
    }
    record(topic, t.thingName(), jobId, t.kind(), request, out);
  }

  private Answer getPending(Thing thing, String topic, GetPendingRequest r) {
    List<JobExecutionSummary> inProgress = new ArrayList<>();
    for (Exec e : thing.pending(ExecutionStatus.IN_PROGRESS)) {
      if (inProgress.size() < MAX_LISTED) {
        inProgress.add(e.summary());
      }
    }
    List<JobExecutionSummary> queued = new ArrayList<>();
    for (Exec e : thing.pending(ExecutionStatus.QUEUED)) {
      if (queued.size() < MAX_LISTED) {
        queued.add(e.summary());
      }
    }
    return accept(topic, new GetPendingAccepted(inProgress, queued, now(), r.clientToken()));
  }

  private Answer startNext(Thing thing, String topic, StartNextRequest r) {
    Exec e = thing.head();
    if (e == null) {
      return accept(topic, new StartNextAccepted(null, now(), r.clientToken()));
    }
    if (e.status == ExecutionStatus.QUEUED) {
      long now = now();
      e.setStatus(ExecutionStatus.IN_PROGRESS, now);
      e.startedAt = now;
      e.version++;
      if (r.statusDetails() != null) {
        e.details = r.statusDetails();
      }
    }
    return accept(topic, new StartNextAccepted(e.execution(true), now(), r.clientToken()));
  }

  private Answer describe(Thing thing, String jobId, String topic, DescribeRequest r) {
    Exec e;
    if (NEXT.equals(jobId)) {
      e = thing.head();
      if (e == null) {
        return reject(
            topic,
            ErrorCode.RESOURCE_NOT_FOUND,
            "No pending job execution for " + thing.topics.thingName() + ".",
            r.clientToken(),
            null);
      }
    } else {
      e = thing.execs.get(jobId);
      if (e == null || (r.executionNumber() != null && r.executionNumber() != 1)) {
        return reject(
            topic,
            ErrorCode.RESOURCE_NOT_FOUND,
            "Job execution " + jobId + " of " + thing.topics.thingName() + " does not exist.",
            r.clientToken(),
            null);
      }
      if (e.status.isTerminal()) {
        return reject(
            topic,
            ErrorCode.TERMINAL_STATE_REACHED,
            "Job execution " + jobId + " is " + e.status + ".",
            r.clientToken(),
            null);
      }
    }
    boolean withDocument = r.includeJobDocument() == null || r.includeJobDocument();
    return accept(topic, new DescribeAccepted(e.execution(withDocument), now(), r.clientToken()));
  }

  private Answer update(Thing thing, String jobId, String topic, UpdateRequest r) {
    Exec e = thing.execs.get(jobId);
    if (e == null || (r.executionNumber() != null && r.executionNumber() != 1)) {
      return reject(
          topic,
          ErrorCode.RESOURCE_NOT_FOUND,
          "Job execution " + jobId + " of " + thing.topics.thingName() + " does not exist.",
          r.clientToken(),
          null);
    }
    if (!r.status().isDeviceSettable()) {
      return reject(
          topic,
          ErrorCode.INVALID_REQUEST,
          "A device cannot set status " + r.status() + ".",
          r.clientToken(),
          null);
    }
    if (e.status.isTerminal()) {
      return reject(
          topic,
          ErrorCode.INVALID_STATE_TRANSITION,
          "Job execution " + jobId + " is already " + e.status + ".",
          r.clientToken(),
          e.state());
    }
    if (r.expectedVersion() != null && r.expectedVersion() != e.version) {
      return reject(
          topic,
          ErrorCode.VERSION_MISMATCH,
          "expectedVersion " + r.expectedVersion() + " is not the current " + e.version + ".",
          r.clientToken(),
          e.state());
    }
    long now = now();
    if (r.status() == ExecutionStatus.IN_PROGRESS && e.startedAt == null) {
      e.startedAt = now;
    }
    e.setStatus(r.status(), now);
    if (r.statusDetails() != null) {
      e.details = r.statusDetails();
    }
    e.version++;
    Answer answer =
        accept(
            topic,
            new UpdateAccepted(
                Boolean.TRUE.equals(r.includeJobExecutionState()) ? e.state() : null,
                Boolean.TRUE.equals(r.includeJobDocument()) ? e.document : null,
                now,
                r.clientToken()));
    String key = e.thing + "/" + jobId;
    if (armedBumps.get(key) == r.status()) {
      // After the answer is built and before the next request: the gateway's version is now stale.
      armedBumps.remove(key);
      e.version++;
      LOG.info(
          "Bumped the version of job {} to {} after its {} update", jobId, e.version, r.status());
    }
    return answer;
  }

  /** Notifications owed after a change of the thing's executions, compared with before. */
  private List<Answer> notificationsAfterChange(
      Thing thing, Exec headBefore, String pendingBefore) {
    List<Answer> out = new ArrayList<>();
    Exec head = thing.head();
    if (head != headBefore) {
      out.add(
          new Answer(
              thing.topics.notifyNext(),
              new NotifyNext(now(), head == null ? null : head.execution(true)),
              "notify-next"));
    }
    if (publishNotify && !thing.pendingSignature().equals(pendingBefore)) {
      Map<ExecutionStatus, List<JobExecutionSummary>> jobs = new LinkedHashMap<>();
      int listed = 0;
      for (ExecutionStatus s : List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.QUEUED)) {
        List<JobExecutionSummary> list = new ArrayList<>();
        for (Exec e : thing.pending(s)) {
          if (listed < MAX_NOTIFIED) {
            list.add(e.summary());
            listed++;
          }
        }
        if (!list.isEmpty()) {
          jobs.put(s, list);
        }
      }
      out.add(new Answer(thing.topics.notifyTopic(), new Notify(now(), jobs), "notify"));
    }
    return out;
  }

  private synchronized void record(
      String topic,
      String thing,
      String jobId,
      JobsTopic.Kind kind,
      Object request,
      List<Answer> out) {
    String answer = out.isEmpty() ? "none" : out.get(0).outcome();
    requests.add(new Request(Instant.now(), topic, thing, jobId, kind, request, answer));
    LOG.debug("{} {} -> {}", topic, request, answer);
  }

  private Answer accept(String requestTopic, Object payload) {
    return new Answer(JobsTopics.accepted(requestTopic), payload, "accepted");
  }

  private Answer reject(
      String requestTopic,
      ErrorCode code,
      String message,
      String clientToken,
      JobExecutionState state) {
    return new Answer(
        JobsTopics.rejected(requestTopic),
        new Rejected(code, message, clientToken, now(), state),
        "rejected:" + code.wireName());
  }

  /**
   * Hands answers to Paho in order, without waiting for their PUBACKs, and never waits itself: on
   * Paho's callback thread it would wait for acknowledgements that only that thread delivers. What
   * does not fit in the window goes to the backlog, behind anything already there.
   */
  private void publishAll(List<Answer> answers) {
    synchronized (publishing) {
      for (Answer a : answers) {
        if (backlog.isEmpty() && inFlight.tryAcquire()) {
          publish(a);
        } else {
          backlog.add(a);
          if (backlog.size() == 1) {
            try {
              worker.execute(this::publishBacklog);
            } catch (RejectedExecutionException closing) {
              backlog.clear();
              LOG.error(
                  "The test jobs service is closed: its answer on {} and any after it are dropped",
                  a.topic());
            }
          }
        }
      }
    }
  }

  /**
   * Publishes the backlog as the window opens, on the service's own thread. It waits for the window
   * without holding {@link #publishing}: the acknowledgements that open it come on Paho's callback
   * thread, which may be waiting for that lock.
   */
  private void publishBacklog() {
    while (true) {
      boolean permit;
      try {
        permit = inFlight.tryAcquire(PUBLISH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      synchronized (publishing) {
        Answer a = backlog.poll();
        if (a == null) {
          if (permit) {
            inFlight.release();
          }
          return;
        }
        if (permit) {
          publish(a);
        } else {
          LOG.error(
              "The test jobs service could not publish on {}: {} publishes unacknowledged for {} ms",
              a.topic(),
              window,
              PUBLISH_TIMEOUT_MILLIS);
        }
        if (backlog.isEmpty()) {
          return;
        }
      }
    }
  }

  /** Hands one answer to Paho, which sends it on its own thread; holds one permit of the window. */
  private void publish(Answer a) {
    try {
      MqttMessage m = new MqttMessage(codec.encode(a.payload()));
      m.setQos(1);
      client.publish(a.topic(), m);
    } catch (MqttException e) {
      inFlight.release();
      LOG.error("The test jobs service could not publish on {}", a.topic(), e);
    }
  }

  /** The clientToken of a request the codec refused, so the rejection can still echo it. */
  private static String tokenOf(byte[] payload) {
    String text = new String(payload, StandardCharsets.UTF_8);
    Matcher m = TOKEN.matcher(text);
    return m.find() ? m.group(1) : null;
  }

  private Exec exec(String thing, String jobId) {
    Thing t = things.get(thing);
    Exec e = t == null ? null : t.execs.get(jobId);
    if (e == null) {
      throw new IllegalArgumentException("no job " + jobId + " was queued for " + thing);
    }
    return e;
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /**
   * How long to wait for something a gateway does in well under a second: generous, because the
   * machine running the tests may be busy.
   *
   * @return 30 seconds
   */
  public static Duration patience() {
    return Duration.ofSeconds(30);
  }
}
