package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.api.transport.Delivery;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.UpdateRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;

class ThingEngineTest {

  private static final String THING = "T-1";

  @TempDir Path data;
  private FakeTransport transport;
  private MiniJobsService service;
  private OperationRegistry operations;
  private ThingEngine engine;
  private final ExecutorService workers = Executors.newFixedThreadPool(4);
  private long nextServiceId = 1;

  /**
   * A parser for the tests: Gantry's own format ({@code operation}, or {@code steps} of those), no
   * limits.
   */
  private static final JobDocumentParser PARSER =
      json -> {
        JsonElement e;
        try {
          e = JsonParser.parseString(json);
        } catch (RuntimeException ex) {
          throw new JobDocumentException(DocumentReason.MALFORMED_JSON, "not JSON");
        }
        if (!e.isJsonObject()) {
          throw new JobDocumentException(DocumentReason.MALFORMED_JSON, "not an object");
        }
        JsonObject o = e.getAsJsonObject();
        List<JobStep> steps = new ArrayList<>();
        if (o.has("steps")) {
          for (JsonElement s : o.getAsJsonArray("steps")) {
            steps.add(step(s.getAsJsonObject()));
          }
        } else {
          steps.add(step(o));
        }
        return new JobDocument(steps);
      };

  private static JobStep step(JsonObject o) throws JobDocumentException {
    if (!o.has("operation")) {
      throw new JobDocumentException(DocumentReason.NO_OPERATION, "no operation");
    }
    Map<String, Object> params = new HashMap<>();
    for (Map.Entry<String, JsonElement> p : o.entrySet()) {
      if (!p.getKey().equals("operation")) {
        params.put(p.getKey(), p.getValue().getAsString());
      }
    }
    return new JobStep(o.get("operation").getAsString(), JobParameters.of(params));
  }

  @BeforeEach
  void setUp() {
    transport = new FakeTransport();
    service = new MiniJobsService(transport, THING);
    operations = new OperationRegistry();
  }

  @AfterEach
  void tearDown() {
    if (engine != null) {
      engine.stop();
    }
    workers.shutdownNow();
    transport.close();
  }

  /** How long a job naming a missing operation waits after the start; none unless a test says. */
  private Duration installGrace = Duration.ZERO;

  private Duration pollInterval = Duration.ofMillis(200);

  /** Step timeouts of particular operation types. */
  private Map<String, Duration> stepTimeouts = Map.of();

  /** Whether the engine sends start-next with each terminal status (the default). */
  private boolean startNextAfterTerminal = true;

  /** Which operation types the gateway had installed before (KnownOperations). */
  private Predicate<String> knownOperation = type -> true;

  private ThingEngine engine(String thing, Duration stepTimeout, Duration progressInterval)
      throws IOException {
    return new ThingEngine(
        thing,
        data,
        transport.asService(),
        PARSER,
        operations,
        workers,
        new ThingEngine.Settings(
            Duration.ofMillis(300),
            stepTimeout,
            stepTimeouts,
            pollInterval,
            Duration.ofMillis(20),
            progressInterval,
            installGrace,
            startNextAfterTerminal),
        CrashPoints.none(),
        knownOperation);
  }

  private void start(Duration stepTimeout, Duration progressInterval) throws IOException {
    engine = engine(THING, stepTimeout, progressInterval);
    engine.start();
  }

  private void start(Duration stepTimeout) throws IOException {
    start(stepTimeout, Duration.ZERO);
  }

  private void start() throws IOException {
    start(Duration.ofSeconds(30));
  }

  private ComponentServiceObjects<JobOperation> install(String type, JobOperation op) {
    ComponentServiceObjects<JobOperation> objects =
        new ComponentServiceObjects<>() {
          @Override
          public JobOperation getService() {
            return op;
          }

          @Override
          public void ungetService(JobOperation service) {}

          @Override
          public ServiceReference<JobOperation> getServiceReference() {
            return null;
          }
        };
    operations.add(objects, props(type));
    return objects;
  }

  private Map<String, Object> props(String type) {
    return Map.of(JobOperation.TYPE, type, Constants.SERVICE_ID, nextServiceId++);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Queues jobs of the operation "ok", in this order. */
  private void queueOk(String... jobIds) {
    for (String jobId : jobIds) {
      service.queue(jobId, "{\"operation\":\"ok\"}");
    }
  }

  /** Installs an operation that succeeds at once; returns how often it ran. */
  private AtomicInteger installCounting(String type) {
    AtomicInteger runs = new AtomicInteger();
    install(
        type,
        ctx -> {
          runs.incrementAndGet();
          return OperationResult.succeeded();
        });
    return runs;
  }

  /** An installed operation that says when it runs and returns only once released. */
  private record Held(CountDownLatch running, CountDownLatch release) {}

  private Held installHeld(String type, Map<String, String> details) {
    Held held = new Held(new CountDownLatch(1), new CountDownLatch(1));
    install(
        type,
        ctx -> {
          held.running().countDown();
          awaitQuietly(held.release());
          return OperationResult.succeeded(details);
        });
    return held;
  }

  private static boolean awaitQuietly(CountDownLatch latch) {
    try {
      return latch.await(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void writeQuietly(Path p, String s) {
    try {
      Files.writeString(p, s);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void awaitStatus(String jobId, ExecutionStatus status) throws InterruptedException {
    await(() -> service.exec(jobId).status == status, jobId + " " + status);
  }

  private List<ExecutionStatus> statuses(String jobId) {
    return service.updates(jobId).stream().map(UpdateRequest::status).toList();
  }

  @Test
  void runsAJobToSuccessWithExpectedVersionsAndDetails() throws Exception {
    install(
        "echo",
        ctx -> OperationResult.succeeded(Map.of("said", ctx.parameters().requireString("say"))));
    service.queue("j1", "{\"operation\":\"echo\",\"say\":\"hi\"}");
    start();
    awaitStatus("j1", ExecutionStatus.SUCCEEDED);

    List<UpdateRequest> updates = service.updates("j1");
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("j1"));
    assertEquals(1L, updates.get(0).expectedVersion());
    assertEquals(2L, updates.get(1).expectedVersion());
    assertEquals(1L, updates.get(0).stepTimeoutInMinutes());
    assertEquals(Map.of("said", "hi"), service.exec("j1").details);
    assertEquals(3L, service.exec("j1").version);
    // the work folder is gone once the execution ended
    await(
        () -> !Files.exists(data.resolve("work").resolve(THING).resolve("j1-1")),
        "work dir deleted");
  }

  @Test
  void refreshParametersFetchesTheRunningStepFromTheDocumentTheServiceHoldsNow() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    install(
        "fetch",
        ctx -> {
          String before = ctx.parameters().requireString("url");
          // what a hub does on every fetch: the presigned URL is signed again
          service.exec("j1r").document =
              "{\"steps\":[{\"operation\":\"ok\"},{\"operation\":\"fetch\",\"url\":\"fresh\"}]}";
          String after = ctx.refreshParameters().requireString("url");
          return OperationResult.succeeded(Map.of("before", before, "after", after));
        });
    service.queue(
        "j1r", "{\"steps\":[{\"operation\":\"ok\"},{\"operation\":\"fetch\",\"url\":\"stale\"}]}");
    start();
    awaitStatus("j1r", ExecutionStatus.SUCCEEDED);
    Map<String, String> d = service.exec("j1r").details;
    assertEquals("stale", d.get("2:before"), d.toString());
    assertEquals("fresh", d.get("2:after"), d.toString());
    assertTrue(
        service.seen.stream()
            .anyMatch(
                s ->
                    s.topic().endsWith("/jobs/j1r/get")
                        && Boolean.TRUE.equals(
                            ((DescribeRequest) s.request()).includeJobDocument())),
        "the document was asked for again");
  }

  @Test
  void refreshParametersFailsTheJobWhenTheStepChangedOperation() throws Exception {
    install(
        "fetch",
        ctx -> {
          service.exec("j1c").document = "{\"operation\":\"something-else\"}";
          ctx.refreshParameters();
          return OperationResult.succeeded();
        });
    service.queue("j1c", "{\"operation\":\"fetch\"}");
    start();
    awaitStatus("j1c", ExecutionStatus.FAILED);
    Map<String, String> d = service.exec("j1c").details;
    assertEquals("DOCUMENT_UNAVAILABLE", d.get("reasonCode"), d.toString());
    assertTrue(d.get("reason").contains("no longer has a 'fetch' step"), d.toString());
  }

  @Test
  void takesTheNextJobFromNotifyNextWithoutAskingAgain() throws Exception {
    service.notifyNextAfterTerminal = true;
    install("ok", ctx -> OperationResult.succeeded(Map.of("ran", ctx.jobId())));
    queueOk("n1", "n2", "n3");
    start();
    awaitStatus("n3", ExecutionStatus.SUCCEEDED);
    // n1 came from the describe at start; n2 and n3 from the notify-next after each SUCCEEDED
    List<MiniJobsService.Seen> seen = List.copyOf(service.seen);
    int lastUpdate = 0;
    for (int i = 0; i < seen.size(); i++) {
      if (seen.get(i).topic().endsWith("/jobs/n3/update")) {
        lastUpdate = i;
      }
    }
    assertEquals(
        1,
        seen.subList(0, lastUpdate).stream()
            .filter(x -> x.topic().endsWith("/jobs/$next/get"))
            .count(),
        seen.toString());
    assertEquals(Map.of("ran", "n2"), service.exec("n2").details);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("n3"));
  }

  @Test
  void aJobQueuedAfterTheQueueRanEmptyIsTakenFromItsNotifyNext() throws Exception {
    service.notifyNextAfterTerminal = true;
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("e1", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("e1", ExecutionStatus.SUCCEEDED);
    service.queue("e2", "{\"operation\":\"ok\"}");
    service.notifyNext("e2");
    awaitStatus("e2", ExecutionStatus.SUCCEEDED);
  }

  @Test
  void aJobWhoseNotifyNextFollowsAnEmptyOneIsTakenWithoutAskingForTheHead() throws Exception {
    pollInterval = Duration.ofSeconds(30); // no describe of $next but those the test counts
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("f1", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("f1", ExecutionStatus.SUCCEEDED);
    // no notify-next after f1: the engine asks for the head itself, finds nothing, and idles
    await(() -> service.describesOfNext() == 2, "the describe of $next after f1");
    // "queue empty" and, moments later, the notify-next of a job queued since
    service.queue("f2", "{\"operation\":\"ok\"}");
    service.notifyNext(null);
    service.notifyNext("f2");
    awaitStatus("f2", ExecutionStatus.SUCCEEDED);
    assertEquals(2, describesOfNextBeforeTheFirstUpdateOf("f2"), service.seen.toString());
    assertEquals(0, service.startNexts(), "f1 and f2 each came to an idle gateway");
  }

  @Test
  void moreQueueEmptyNotificationsDoNotCutTheGraceForAJobShort() throws Exception {
    pollInterval = Duration.ofSeconds(30); // no describe of $next but those the test counts
    service.notifyNextAfterTerminal = true;
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("e1", "{\"operation\":\"ok\"}");
    List<Long> succeeded = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    List<Long> describes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    service.dropWhen(
        s -> {
          if (s.request() instanceof UpdateRequest u && u.status() == ExecutionStatus.SUCCEEDED) {
            succeeded.add(System.nanoTime());
          } else if (s.topic().endsWith("/$next/get")) {
            describes.add(System.nanoTime());
          }
          return false;
        });
    start();
    awaitStatus("e1", ExecutionStatus.SUCCEEDED);
    // After e1's "queue empty", more of them (late duplicates, or from a service that announces
    // every change) while the engine waits for a job queued meanwhile; none comes.
    for (int i = 0; i < 4; i++) {
      Thread.sleep(8);
      service.notifyNext(null);
    }
    await(() -> describes.size() >= 2, "the describe of $next after e1");
    long gapMillis = TimeUnit.NANOSECONDS.toMillis(describes.get(1) - succeeded.get(0));
    // only the grace (50 ms) ends the wait: an "empty" is no news
    assertTrue(gapMillis >= 45, "asked for the head " + gapMillis + " ms after e1's report");
  }

  @Test
  void aStaleEmptyNotifyNextDoesNotHideAJobOfferedBeforeIt() throws Exception {
    pollInterval = Duration.ofSeconds(30);
    Held held = installHeld("hold", Map.of());
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("h0", "{\"operation\":\"hold\"}");
    start();
    assertTrue(held.running().await(10, TimeUnit.SECONDS));
    // while h0 runs: g1's notify-next, then an older "queue empty" that arrives after it
    service.queue("g1", "{\"operation\":\"ok\"}");
    service.notifyNext("g1");
    service.notifyNext(null);
    // each makes the engine check that h0 still runs: then both have been taken in
    await(
        () -> service.seen.stream().filter(x -> x.topic().endsWith("/jobs/h0/get")).count() == 2,
        "both notifications seen");
    held.release().countDown();
    awaitStatus("g1", ExecutionStatus.SUCCEEDED);
    assertEquals(
        1,
        describesOfNextBeforeTheFirstUpdateOf("g1"),
        "g1 is taken from its notify-next, not asked for: " + service.seen);
  }

  /** How often the engine asked for the head of the queue before it first updated {@code jobId}. */
  private long describesOfNextBeforeTheFirstUpdateOf(String jobId) {
    List<MiniJobsService.Seen> seen = List.copyOf(service.seen);
    long describes = 0;
    for (MiniJobsService.Seen s : seen) {
      if (s.topic().endsWith("/jobs/" + jobId + "/update")) {
        return describes;
      }
      if (s.topic().endsWith("/jobs/$next/get")) {
        describes++;
      }
    }
    throw new AssertionError("no update of " + jobId + " in " + seen);
  }

  @Test
  void aRedeliveredNotifyNextOfAnEndedJobDoesNotRunItTwice() throws Exception {
    AtomicInteger runs = installCounting("ok");
    service.queue("r1", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("r1", ExecutionStatus.SUCCEEDED);
    long describes = service.describesOfNext();
    // the notification as it was when r1 was queued, delivered again (QoS 1 redelivery)
    service.exec("r1").status = ExecutionStatus.QUEUED;
    service.notifyNext("r1");
    service.exec("r1").status = ExecutionStatus.SUCCEEDED;
    // the engine does not trust the stale offer: it asks the service, which has nothing queued
    await(() -> service.describesOfNext() > describes, "describe of $next after the stale offer");
    assertEquals(1, runs.get());
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("r1"));
  }

  @Test
  void rejectsAMissingOperationWithoutGoingInProgress() throws Exception {
    service.queue("j2", "{\"operation\":\"not-installed\"}");
    start();
    awaitStatus("j2", ExecutionStatus.REJECTED);
    assertEquals(List.of(ExecutionStatus.REJECTED), statuses("j2"));
    Map<String, String> d = service.exec("j2").details;
    assertEquals("OPERATION_NOT_INSTALLED", d.get("reasonCode"));
    assertEquals("DOCUMENT", d.get("reasonCategory"));
    assertTrue(d.get("reason").contains("not-installed"), d.toString());
  }

  @Test
  void justAfterTheStartAJobWaitsForItsOperationToBeInstalled() throws Exception {
    installGrace = Duration.ofSeconds(20);
    service.queue("late", "{\"operation\":\"late-op\"}");
    start();
    // the engine is holding the job: no refusal, nothing sent for it
    await(() -> service.describesOfNext() > 0, "the engine looked at the queue");
    assertTrue(service.updates("late").isEmpty(), service.seen.toString());
    install("late-op", ctx -> OperationResult.succeeded(Map.of("ran", "yes")));
    awaitStatus("late", ExecutionStatus.SUCCEEDED);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("late"));
  }

  @Test
  void anOperationTheGatewayNeverHadIsRefusedAtOnceEvenJustAfterTheStart() throws Exception {
    installGrace = Duration.ofSeconds(30);
    knownOperation = type -> false;
    service.queue("unknown", "{\"operation\":\"never-had-it\"}");
    start();
    awaitStatus("unknown", ExecutionStatus.REJECTED); // within the await's 10 s, not after 30
    assertEquals("OPERATION_NOT_INSTALLED", service.exec("unknown").details.get("reasonCode"));
  }

  @Test
  void afterTheInstallGraceAMissingOperationIsRefused() throws Exception {
    installGrace = Duration.ofMillis(300);
    service.queue("never", "{\"operation\":\"never-installed\"}");
    start();
    awaitStatus("never", ExecutionStatus.REJECTED);
    assertEquals("OPERATION_NOT_INSTALLED", service.exec("never").details.get("reasonCode"));
  }

  @Test
  void rejectsBadDocumentsAndBadParametersBeforeRunning() throws Exception {
    // validating every document before IN_PROGRESS: without start-next after a terminal status
    startNextAfterTerminal = false;
    AtomicInteger runs = new AtomicInteger();
    install(
        "strict",
        new JobOperation() {
          @Override
          public void validate(JobParameters p) throws OperationException {
            p.requireString("url");
          }

          @Override
          public OperationResult execute(org.gantry.api.operation.OperationContext c) {
            runs.incrementAndGet();
            return OperationResult.succeeded();
          }
        });
    service.queue("bad-json", "[1,2]");
    service.queue("bad-params", "{\"operation\":\"strict\"}");
    start();
    awaitStatus("bad-json", ExecutionStatus.REJECTED);
    awaitStatus("bad-params", ExecutionStatus.REJECTED);
    assertEquals("INVALID_PARAMETERS", service.exec("bad-params").details.get("reasonCode"));
    assertTrue(service.exec("bad-params").details.get("reason").contains("url"));
    assertEquals(0, runs.get());
    assertEquals(List.of(ExecutionStatus.REJECTED), statuses("bad-params"));
  }

  @Test
  void reconcilesAVersionMismatchByDescribingTheExecution() throws Exception {
    Held held = installHeld("slow", Map.of("done", "yes"));
    service.queue("j3", "{\"operation\":\"slow\"}");
    start();
    assertTrue(held.running().await(10, TimeUnit.SECONDS));
    service.touch("j3"); // someone else changed the execution: our expectedVersion is stale now
    held.release().countDown();
    awaitStatus("j3", ExecutionStatus.SUCCEEDED);

    List<UpdateRequest> updates = service.updates("j3");
    assertEquals(
        List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED, ExecutionStatus.SUCCEEDED),
        statuses("j3"));
    assertEquals(2L, updates.get(1).expectedVersion()); // stale
    assertEquals(3L, updates.get(2).expectedVersion()); // after the describe
    assertTrue(
        service.seen.stream()
            .anyMatch(s -> s.topic().equals("$aws/things/" + THING + "/jobs/j3/get")),
        "reconciled with {jobId}/get");
  }

  @Test
  void retriesARequestWhoseAnswerIsLostAndBacksOffWhenThrottled() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("j4", "{\"operation\":\"ok\"}");
    AtomicInteger describes = new AtomicInteger();
    AtomicInteger updates = new AtomicInteger();
    service.dropWhen(s -> s.topic().endsWith("/$next/get") && describes.incrementAndGet() == 1);
    service.throttleWhen(s -> s.topic().endsWith("/update") && updates.incrementAndGet() == 1);
    start();
    awaitStatus("j4", ExecutionStatus.SUCCEEDED);
    assertTrue(describes.get() >= 2, "the lost describe was sent again");
    assertEquals(
        List.of(
            ExecutionStatus.IN_PROGRESS, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        statuses("j4"));
  }

  @Test
  void everyUnansweredRequestTimesOutAtItsOwnDeadline() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("jt", "{\"operation\":\"ok\"}");
    List<Long> sent = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    service.dropWhen(
        s -> {
          if (s.request() instanceof UpdateRequest u && u.status() == ExecutionStatus.IN_PROGRESS) {
            sent.add(System.nanoTime());
            return sent.size() <= 3;
          }
          return false;
        });
    start();
    awaitStatus("jt", ExecutionStatus.SUCCEEDED);
    assertEquals(4, sent.size(), "three lost updates, each sent again");
    for (int i = 1; i < sent.size(); i++) {
      long gapMillis = TimeUnit.NANOSECONDS.toMillis(sent.get(i) - sent.get(i - 1));
      // the 300 ms request timeout plus a backoff of at most 80 ms; the runner's own last-resort
      // wait (the timeout plus 1 s) would show as 1.3 s
      assertTrue(gapMillis >= 300, "attempt " + i + " after " + gapMillis + " ms: too early");
      assertTrue(gapMillis < 1_200, "attempt " + i + " after " + gapMillis + " ms: no timer fired");
    }
  }

  @Test
  void anOperationThatThrowsFailsTheJobAndTheEngineGoesOn() throws Exception {
    install(
        "boom",
        ctx -> {
          throw new IllegalStateException("kaput");
        });
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("j5", "{\"operation\":\"boom\"}");
    service.queue("j6", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("j5", ExecutionStatus.FAILED);
    awaitStatus("j6", ExecutionStatus.SUCCEEDED);
    assertEquals("OPERATION_ERROR", service.exec("j5").details.get("reasonCode"));
    assertTrue(service.exec("j5").details.get("reason").contains("kaput"));
  }

  @Test
  void aStepTimeoutCancelsTheOperationAndFailsTheJob() throws Exception {
    AtomicReference<Boolean> sawCancel = new AtomicReference<>(false);
    install(
        "hang",
        ctx -> {
          CountDownLatch cancelled = new CountDownLatch(1);
          ctx.onCancel(cancelled::countDown);
          awaitQuietly(cancelled);
          sawCancel.set(ctx.cancelled());
          return OperationResult.succeeded();
        });
    service.queue("j7", "{\"operation\":\"hang\"}");
    start(Duration.ofMillis(300));
    awaitStatus("j7", ExecutionStatus.FAILED);
    assertEquals("STEP_TIMEOUT", service.exec("j7").details.get("reasonCode"));
    assertTrue(sawCancel.get());
  }

  @Test
  void aJobCanceledByTheServiceCancelsTheOperationAndReportsNothingMore() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    AtomicReference<Boolean> cancelled = new AtomicReference<>(false);
    AtomicReference<String> cancelThread = new AtomicReference<>();
    install(
        "long",
        ctx -> {
          // registered before the test acts: a cancel action registered after the cancel runs at
          // once, on the operation's own thread
          ctx.onCancel(() -> cancelThread.set(Thread.currentThread().getName()));
          running.countDown();
          // keep reporting progress until the engine learns of the cancel
          for (int i = 0; i < 200 && !ctx.cancelled(); i++) {
            ctx.progress("working", i % 100, Map.of());
            sleepQuietly(50);
          }
          cancelled.set(ctx.cancelled());
          return OperationResult.succeeded();
        });
    service.queue("j8", "{\"operation\":\"long\"}");
    start();
    assertTrue(running.await(10, TimeUnit.SECONDS));
    service.cancel("j8");
    await(cancelled::get, "operation cancelled");
    Thread.sleep(300);
    assertEquals(ExecutionStatus.CANCELED, service.exec("j8").status);
    assertFalse(statuses("j8").contains(ExecutionStatus.SUCCEEDED));
    // the operation's cancel action never runs on the thread that delivers the service's answers
    assertTrue(
        cancelThread.get().startsWith("gantry-engine-timer-T-1"), "ran on " + cancelThread.get());
  }

  @Test
  void aStepWaitingForAWorkerHasNoStepTimerYetAndIsCanceledWithoutRunning() throws Exception {
    // Every worker of the shared pool busy with another thing's work.
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch busy = new CountDownLatch(4);
    for (int i = 0; i < 4; i++) {
      var unused =
          workers.submit(
              () -> {
                busy.countDown();
                return awaitQuietly(release);
              });
    }
    assertTrue(busy.await(10, TimeUnit.SECONDS));
    AtomicReference<Boolean> ran = new AtomicReference<>(false);
    install(
        "queued-op",
        ctx -> {
          ran.set(true);
          return OperationResult.succeeded();
        });
    service.queue("jw", "{\"operation\":\"queued-op\"}");
    try {
      start(Duration.ofMillis(200));
      awaitStatus("jw", ExecutionStatus.IN_PROGRESS);
      // Four step timeouts long: the timer starts when a worker takes the step, not before.
      Thread.sleep(800);
      assertEquals(List.of(ExecutionStatus.IN_PROGRESS), statuses("jw"));
      service.cancel("jw");
      // The step gives up its place in the pool's queue without waiting for a worker: the next
      // job starts while every worker is still busy.
      install("after", ctx -> OperationResult.succeeded());
      service.queue("jx", "{\"operation\":\"after\"}");
      service.notifyNext("jx"); // the hint that makes the engine look at jw again
      awaitStatus("jx", ExecutionStatus.IN_PROGRESS);
    } finally {
      release.countDown();
    }
    awaitStatus("jx", ExecutionStatus.SUCCEEDED);
    assertFalse(ran.get(), "the canceled step ran");
    assertEquals(ExecutionStatus.CANCELED, service.exec("jw").status);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS), statuses("jw"));
  }

  @Test
  void aRetryOfTheRunningJobInNotifyNextCancelsTheTimedOutExecution() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    AtomicReference<Boolean> cancelled = new AtomicReference<>(false);
    AtomicReference<String> cancelThread = new AtomicReference<>();
    install(
        "hang",
        ctx -> {
          CountDownLatch c = new CountDownLatch(1);
          ctx.onCancel(
              () -> {
                cancelThread.set(Thread.currentThread().getName());
                c.countDown();
              });
          running.countDown(); // only now: see the test above
          awaitQuietly(c); // no progress: only the notification can tell the engine
          cancelled.set(ctx.cancelled());
          return OperationResult.succeeded();
        });
    service.queue("jt", "{\"operation\":\"hang\"}");
    start();
    assertTrue(running.await(10, TimeUnit.SECONDS));
    // the service timed execution 1 out and queued execution 2 of the same job (a retry)
    service.exec("jt").status = ExecutionStatus.TIMED_OUT;
    service.notifyNext("jt", 2);
    await(cancelled::get, "the timed-out execution's operation cancelled");
    // nothing is reported for the timed-out execution (the engine goes on to the retry)
    assertFalse(statuses("jt").contains(ExecutionStatus.SUCCEEDED), statuses("jt").toString());
    assertTrue(
        cancelThread.get().startsWith("gantry-engine-timer-T-1"), "ran on " + cancelThread.get());
  }

  @Test
  void anExecutionFoundInProgressAtStartIsReportedFailedAsInterrupted() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    MiniJobsService.Exec e = service.queue("j9", "{\"operation\":\"ok\"}");
    e.status = ExecutionStatus.IN_PROGRESS;
    e.version = 4;
    start();
    awaitStatus("j9", ExecutionStatus.FAILED);
    assertEquals("INTERRUPTED", service.exec("j9").details.get("reasonCode"));
    assertEquals(4L, service.updates("j9").get(0).expectedVersion());
  }

  @Test
  void anOperationUninstalledWhileRunningFailsTheJob() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    ComponentServiceObjects<JobOperation> objects =
        install(
            "going",
            ctx -> {
              running.countDown();
              CountDownLatch c = new CountDownLatch(1);
              ctx.onCancel(c::countDown);
              awaitQuietly(c);
              return OperationResult.succeeded();
            });
    service.queue("j10", "{\"operation\":\"going\"}");
    start();
    assertTrue(running.await(10, TimeUnit.SECONDS));
    operations.remove(objects, props("going"));
    awaitStatus("j10", ExecutionStatus.FAILED);
    assertEquals("OPERATION_UNAVAILABLE", service.exec("j10").details.get("reasonCode"));
  }

  @Test
  void waitsForTheConnectionAndSubscribesBeforeTheFirstRequest() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    transport.disconnect();
    service.queue("j11", "{\"operation\":\"ok\"}");
    start();
    Thread.sleep(300);
    assertTrue(service.seen.isEmpty(), "nothing sent while disconnected");
    transport.reconnect();
    awaitStatus("j11", ExecutionStatus.SUCCEEDED);
    assertEquals(
        List.of(
            "$aws/things/T-1/jobs/notify-next",
            "$aws/things/T-1/jobs/+/get/+",
            "$aws/things/T-1/jobs/+/update/+",
            "$aws/things/T-1/jobs/start-next/+"),
        transport.subscribedFilters());
    // answers only complete futures, so they need not wait for the transport's delivery thread
    assertEquals(Collections.nCopies(4, Delivery.IMMEDIATE), transport.deliveries());
  }

  @Test
  void statusDetailsThatBreakTheServiceLimitsAreSanitised() throws Exception {
    install(
        "noisy",
        ctx -> OperationResult.succeeded(Map.of("bad key!", "x".repeat(5000), "ctl", "a\u0000b")));
    service.queue("j12", "{\"operation\":\"noisy\"}");
    start();
    awaitStatus("j12", ExecutionStatus.SUCCEEDED);
    Map<String, String> d = service.exec("j12").details;
    assertNull(d.get("bad key!"));
    d.forEach(
        (k, v) -> {
          assertTrue(k.matches("[a-zA-Z0-9:_-]{1,128}"), k);
          assertTrue(v.length() <= 1024, k);
          assertFalse(v.chars().anyMatch(Character::isISOControl), k);
        });
  }

  private Path journalDir() {
    return data.resolve("journal").resolve(THING);
  }

  @Test
  void theJournalHoldsARunningExecutionAndIsEmptyAfterItsTerminalReport() throws Exception {
    Held held = installHeld("slow", Map.of());
    service.queue("jj", "{\"operation\":\"slow\"}");
    start();
    assertTrue(held.running().await(10, TimeUnit.SECONDS));
    Journal.Entry e = Journal.peek(journalDir()).get("jj#1");
    assertNotNull(e, "journal entry exists while the operation runs");
    assertEquals(Journal.Phase.ACTIVE, e.phase());
    assertEquals(1L, e.version()); // as queued: the service's version is read back at recovery
    held.release().countDown();
    awaitStatus("jj", ExecutionStatus.SUCCEEDED);
    await(() -> !journalHolds("jj#1"), "journal entry closed after the terminal report");
  }

  @Test
  void aRestartedGatewayResumesTheExecutionWithItsCheckpoints() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<String> seenCheckpoint = new AtomicReference<>();
    CountDownLatch firstRunCheckpointed = new CountDownLatch(1);
    install(
        "resumable",
        ctx -> {
          int run = runs.incrementAndGet();
          if (run == 1) {
            ctx.checkpoint("downloaded", "sha256:abc");
            writeQuietly(ctx.workDir().resolve("part"), "half");
            firstRunCheckpointed.countDown();
            CountDownLatch c = new CountDownLatch(1);
            ctx.onCancel(c::countDown);
            awaitQuietly(c); // until the gateway stops
            return OperationResult.succeeded(Map.of("run", "1"));
          }
          seenCheckpoint.set(ctx.checkpoint("downloaded").orElse("none"));
          return OperationResult.succeeded(
              Map.of("run", "2", "part", readQuietly(ctx.workDir().resolve("part"))));
        });
    service.queue("jr", "{\"operation\":\"resumable\"}");
    start();
    assertTrue(firstRunCheckpointed.await(10, TimeUnit.SECONDS));
    engine.stop(); // the gateway stops while the operation runs
    engine = null;
    assertEquals(ExecutionStatus.IN_PROGRESS, service.exec("jr").status);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS), statuses("jr"));

    start(); // and starts again on the same data folder
    awaitStatus("jr", ExecutionStatus.SUCCEEDED);
    assertEquals("sha256:abc", seenCheckpoint.get());
    assertEquals(Map.of("run", "2", "part", "half"), service.exec("jr").details);
    assertEquals(2, runs.get());
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("jr"));
  }

  @Test
  void aDecidedTerminalStatusIsSentAfterARestartExactlyOnce() throws Exception {
    install("ok", ctx -> OperationResult.succeeded(Map.of("k", "v")));
    service.queue("jo", "{\"operation\":\"ok\"}");
    // The terminal update is lost and the gateway stops before it learns of it.
    service.dropWhen(
        s -> s.request() instanceof UpdateRequest u && u.status() == ExecutionStatus.SUCCEEDED);
    start();
    await(() -> statuses("jo").contains(ExecutionStatus.SUCCEEDED), "terminal report sent once");
    engine.stop();
    engine = null;
    Journal.Entry e = Journal.peek(journalDir()).get("jo#1");
    assertEquals(Journal.Phase.REPORTING, e.phase());
    assertEquals("SUCCEEDED", e.terminalStatus());

    service.dropWhen(x -> false);
    start();
    awaitStatus("jo", ExecutionStatus.SUCCEEDED);
    assertEquals(Map.of("k", "v"), service.exec("jo").details);
    await(() -> !journalHolds("jo#1"), "entry closed");
    assertEquals(1, service.exec("jo").version - 2, "exactly one terminal status was applied");
  }

  @Test
  void anExecutionTheServiceFinishedWhileTheGatewayWasDownIsClosedLocally() throws Exception {
    install("ok", ctx -> OperationResult.succeeded());
    MiniJobsService.Exec e = service.queue("jf", "{\"operation\":\"ok\"}");
    e.status = ExecutionStatus.CANCELED;
    Journal journal = new Journal(journalDir());
    Journal.Entry entry =
        journal.create("jf", 1, 2, "{\"operation\":\"ok\"}").withPhase(Journal.Phase.ACTIVE, 2);
    journal.write(entry);
    journal.close();
    start();
    await(() -> !journalHolds("jf#1"), "entry closed");
    assertTrue(service.updates("jf").isEmpty(), "nothing reported for a canceled execution");
  }

  @Test
  void aDamagedJournalIsQuarantinedTheEntriesBeforeTheDamageKeptAndTheEngineCarriesOn()
      throws Exception {
    install("ok", ctx -> OperationResult.succeeded(Map.of("resumed", "yes")));
    // An execution the journal holds as running, then a record cut short by a crash mid-write.
    MiniJobsService.Exec kept = service.queue("jk", "{\"operation\":\"ok\"}");
    kept.status = ExecutionStatus.IN_PROGRESS;
    kept.version = 2;
    Journal journal = new Journal(journalDir());
    journal.write(journal.create("jk", 1, 1, "{\"operation\":\"ok\"}"));
    journal.close();
    Path log = journalDir().resolve("journal.log");
    byte[] good = Files.readAllBytes(log);
    int record = 13 + ByteBuffer.wrap(good, 5, 4).getInt(); // header and payload, zeros after
    byte[] torn = Arrays.copyOf(good, record * 2 - 7); // a second record, torn
    System.arraycopy(good, 0, torn, record, record - 7);
    Files.write(log, torn);
    service.queue("jc", "{\"operation\":\"ok\"}");

    start();
    awaitStatus("jk", ExecutionStatus.SUCCEEDED); // resumed from the entry before the damage
    awaitStatus("jc", ExecutionStatus.SUCCEEDED);
    assertEquals(Map.of("resumed", "yes"), service.exec("jk").details);
    Path aside;
    try (var files = Files.list(journalDir())) {
      aside =
          files
              .filter(f -> f.getFileName().toString().startsWith("journal.log.corrupt-"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("the damaged log was not copied aside"));
    }
    assertArrayEquals(torn, Files.readAllBytes(aside), "the quarantined copy keeps the bytes");
    // jc's entry is closed once the engine has the answer to its SUCCEEDED, a moment after the
    // service applied it
    await(() -> !journalHolds("jc#1"), "jc's entry closed");
    assertTrue(Journal.peek(journalDir()).isEmpty(), "the live log is whole and empty again");
  }

  @Test
  void theLogIsCompactedAndStaysReadable() throws Exception {
    Journal journal = new Journal(journalDir());
    String big = "{\"operation\":\"ok\",\"pad\":\"" + "x".repeat(4000) + "\"}";
    for (int i = 1; i <= 400; i++) {
      Journal.Entry e = journal.create("c" + i, 1, 1, big);
      journal.write(e);
      if (i % 100 != 0) {
        journal.remove("c" + i, 1);
      }
    }
    long size = Files.size(journalDir().resolve("journal.log"));
    // the four open entries and the zeros after them
    assertTrue(size < Journal.REGION + 4 * 8192, "the log was compacted: " + size);
    journal.close();
    assertEquals(
        List.of("c100#1", "c200#1", "c300#1", "c400#1"),
        List.copyOf(Journal.peek(journalDir()).keySet()));
    assertEquals(4, new Journal(journalDir()).open().size());
  }

  private boolean journalHolds(String key) {
    try {
      return Journal.peek(journalDir()).containsKey(key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void progressKeepsAMovingOperationAliveAndIsRateLimited() throws Exception {
    install(
        "mover",
        ctx -> {
          // 1.5 s of work with a 400 ms step timeout: alive only thanks to its progress
          for (int i = 0; i < 150; i++) {
            ctx.progress("moving", i * 100 / 150, Map.of("i", Integer.toString(i)));
            sleepQuietly(10);
          }
          return OperationResult.succeeded();
        });
    service.queue("jm", "{\"operation\":\"mover\"}");
    start(Duration.ofMillis(400), Duration.ofMillis(200));
    awaitStatus("jm", ExecutionStatus.SUCCEEDED);
    long progressUpdates =
        statuses("jm").stream().filter(st -> st == ExecutionStatus.IN_PROGRESS).count() - 1;
    assertTrue(progressUpdates >= 2, "some progress went out: " + progressUpdates);
    assertTrue(
        progressUpdates <= 12, "150 reports in 1.5 s at most one per 200 ms: " + progressUpdates);
    assertTrue(
        service.updates("jm").stream()
            .skip(1)
            .filter(u -> u.status() == ExecutionStatus.IN_PROGRESS)
            .allMatch(u -> Long.valueOf(1).equals(u.stepTimeoutInMinutes())),
        "progress restarts the service's step timer");
  }

  @Test
  void extendStepTimeoutLetsALongStepFinish() throws Exception {
    install(
        "flasher",
        ctx -> {
          ctx.extendStepTimeout(Duration.ofSeconds(5));
          sleepQuietly(800); // longer than the 300 ms step timeout, no progress
          return OperationResult.succeeded();
        });
    service.queue("je", "{\"operation\":\"flasher\"}");
    start(Duration.ofMillis(300));
    awaitStatus("je", ExecutionStatus.SUCCEEDED);
  }

  @Test
  void severalThingsRunInParallelOnTheSharedWorkers() throws Exception {
    CountDownLatch bothRunning = new CountDownLatch(2);
    install(
        "meet",
        ctx -> {
          bothRunning.countDown();
          // succeeds only if the other thing's execution runs at the same time
          boolean met = awaitQuietly(bothRunning);
          return met
              ? OperationResult.succeeded(Map.of("thing", ctx.thingName()))
              : OperationResult.failed(
                  org.gantry.api.operation.DeviceReason.OPERATION_FAILED, "alone", Map.of());
        });
    MiniJobsService other = new MiniJobsService(transport, "T-2");
    FakeTransport.Router router = new FakeTransport.Router(service, other);
    transport.service(router);
    service.queue("ja", "{\"operation\":\"meet\"}");
    other.queue("jb", "{\"operation\":\"meet\"}");
    start();
    ThingEngine second = engine("T-2", Duration.ofSeconds(30), Duration.ZERO);
    second.start();
    try {
      awaitStatus("ja", ExecutionStatus.SUCCEEDED);
      await(() -> other.exec("jb").status == ExecutionStatus.SUCCEEDED, "jb SUCCEEDED");
      assertEquals("T-2", other.exec("jb").details.get("thing"));
    } finally {
      second.stop();
    }
  }

  @Test
  void theFinalStepRunsOnlyWhenEveryOtherStepSucceeded() throws Exception {
    List<String> ran = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    install(
        "work",
        ctx -> {
          ran.add("work:" + ctx.jobId());
          return ctx.parameters().requireString("outcome").equals("ok")
              ? OperationResult.succeeded(Map.of("did", "work"))
              : OperationResult.failed(
                  org.gantry.api.operation.DeviceReason.OPERATION_FAILED, "broke", Map.of());
        });
    install(
        "cleanup",
        ctx -> {
          ran.add("cleanup:" + ctx.jobId());
          return OperationResult.succeeded(Map.of("cleaned", "yes"));
        });
    // The document's shape is the parser's business: here "ok"/"broken" picks the first step's
    // outcome, and every document has the same final step.
    JobDocumentParser withFinalStep =
        json ->
            new JobDocument(
                List.of(
                    new JobStep(
                        "work",
                        JobParameters.of(
                            Map.of("outcome", json.contains("broken") ? "broken" : "ok")))),
                new JobStep("cleanup", JobParameters.empty()));
    service.queue("jf-ok", "{\"ok\":1}");
    service.queue("jf-broken", "{\"broken\":1}");
    engine =
        new ThingEngine(
            THING,
            data,
            transport.asService(),
            withFinalStep,
            operations,
            workers,
            new ThingEngine.Settings(
                Duration.ofMillis(300),
                Duration.ofSeconds(30),
                Map.of(),
                Duration.ofMillis(200),
                Duration.ofMillis(20),
                Duration.ZERO,
                Duration.ZERO,
                startNextAfterTerminal),
            CrashPoints.none(),
            type -> false);
    engine.start();
    awaitStatus("jf-ok", ExecutionStatus.SUCCEEDED);
    awaitStatus("jf-broken", ExecutionStatus.FAILED);

    assertEquals(List.of("work:jf-ok", "cleanup:jf-ok", "work:jf-broken"), ran);
    assertEquals("work", service.exec("jf-ok").details.get("1:did"));
    assertEquals("yes", service.exec("jf-ok").details.get("final:cleaned"));
    Map<String, String> failed = service.exec("jf-broken").details;
    assertEquals("OPERATION_FAILED", failed.get("reasonCode"));
    assertFalse(failed.containsKey("final:cleaned"), failed.toString());
  }

  @Test
  void aJobThatNeverWentInProgressBeforeACrashRunsAfterTheRestart() throws Exception {
    // The gateway wrote its ACTIVE entry and died before IN_PROGRESS reached the service.
    install("ok", ctx -> OperationResult.succeeded(Map.of("ran", "yes")));
    service.queue("jq", "{\"operation\":\"ok\"}");
    Journal journal = new Journal(journalDir());
    journal.write(journal.create("jq", 1, 1, "{\"operation\":\"ok\"}"));
    start();
    awaitStatus("jq", ExecutionStatus.SUCCEEDED);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("jq"));
    assertEquals("yes", service.exec("jq").details.get("ran"));
    await(() -> !Files.exists(journalDir().resolve("jq-1.exec")), "entry closed");
  }

  // ------------------------------------------------------------ start-next after a terminal status

  /** The requests the engine sent, as topic suffixes after the thing's jobs prefix. */
  private List<String> requestTopics() {
    String prefix = "$aws/things/" + THING + "/jobs/";
    return service.seen.stream().map(x -> x.topic().substring(prefix.length())).toList();
  }

  @Test
  void theNextJobStartsWithTheTerminalReportOneRoundTripPerJob() throws Exception {
    install("ok", ctx -> OperationResult.succeeded(Map.of("ran", ctx.jobId())));
    for (String job : List.of("s1", "s2", "s3", "s4")) {
      service.queue(job, "{\"operation\":\"ok\"}");
    }
    start();
    awaitStatus("s4", ExecutionStatus.SUCCEEDED);
    await(() -> service.startNexts() == 3, "the start-next after s4");
    // s1 came to an idle gateway (the describe at the start): nothing says another job waits, so
    // its report goes alone. s2 was waiting when s1 ended, so start-next goes with its report,
    // and s3 and s4 arrive IN_PROGRESS with the answers, without an IN_PROGRESS update of their
    // own; the last start-next finds the queue empty.
    assertEquals(
        List.of(
            "$next/get",
            "s1/update",
            "s1/update",
            "$next/get",
            "s2/update",
            "s2/update",
            "start-next",
            "s3/update",
            "start-next",
            "s4/update",
            "start-next"),
        requestTopics());
    assertEquals(Map.of("ran", "s3"), service.exec("s3").details);
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("s3"));
    assertEquals(Map.of("step", "starting"), service.updates("s3").get(0).statusDetails());
    assertEquals(1L, service.updates("s3").get(0).stepTimeoutInMinutes());
    // the start-next is settled in the journal: a restart would not take anything for its own
    await(() -> !journalHolds("s4#1"), "journal empty");
    engine.stop();
    engine = null;
    assertFalse(new Journal(journalDir()).nextRequested());
  }

  @Test
  void withoutStartNextEveryJobIsValidatedAndTakenWithItsOwnUpdate() throws Exception {
    startNextAfterTerminal = false;
    service.notifyNextAfterTerminal = true;
    install("ok", ctx -> OperationResult.succeeded());
    service.queue("v1", "{\"operation\":\"ok\"}");
    service.queue("v2", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("v2", ExecutionStatus.SUCCEEDED);
    assertEquals(0, service.startNexts());
    assertEquals(
        List.of("$next/get", "v1/update", "v1/update", "v2/update", "v2/update"),
        requestTopics().subList(0, 5));
  }

  @Test
  void aDocumentStartNextStartedThatCannotRunIsRejectedFromInProgress() throws Exception {
    AtomicInteger runs = installCounting("ok");
    service.queue("d0", "{\"operation\":\"ok\"}");
    service.queue("d1", "{\"operation\":\"ok\"}");
    service.queue("d2", "{\"operation\":\"not-installed\"}");
    service.queue("d3", "{\"operation\":\"ok\"}");
    start();
    awaitStatus("d3", ExecutionStatus.SUCCEEDED);
    // d2 was started by the start-next sent with d1's report
    assertEquals(ExecutionStatus.REJECTED, service.exec("d2").status);
    assertEquals("OPERATION_NOT_INSTALLED", service.exec("d2").details.get("reasonCode"));
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.REJECTED), statuses("d2"));
    assertEquals(3, runs.get());
    // d3 was started by the start-next sent with d2's REJECTED
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("d3"));
  }

  @Test
  void aStartNextThatOvertakesTheTerminalUpdateIsSettledByAskingForTheHead() throws Exception {
    service.startNextOvertakesTheTerminalUpdateOf = "o1";
    AtomicInteger runs = installCounting("ok");
    queueOk("o0", "o1", "o2");
    start();
    awaitStatus("o2", ExecutionStatus.SUCCEEDED);
    // the service took the start-next sent with o1's report while o1 was still IN_PROGRESS and
    // handed o1 back; o1 is not run again, and o2 is taken from a describe of the head, with its
    // own IN_PROGRESS update
    assertEquals(3, runs.get());
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("o1"));
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("o2"));
    assertEquals(3, describesOfNextBeforeTheFirstUpdateOf("o2"), service.seen.toString());
  }

  @Test
  void aJobStartedByAStartNextWhoseAnswerIsLostRunsOnceFromTheStart() throws Exception {
    service.loseStartNextAnswers = true;
    AtomicInteger runs = installCounting("ok");
    queueOk("l0", "l1", "l2");
    start();
    awaitStatus("l2", ExecutionStatus.SUCCEEDED);
    // l2 went IN_PROGRESS for the start-next sent with l1's report, whose answer never came; the
    // open intent in the journal says it is this gateway's, so it runs, instead of FAILED as
    // interrupted
    assertEquals(3, runs.get());
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("l2"));
    assertEquals(null, service.exec("l2").details.get("reasonCode"));
  }

  @Test
  void afterACrashAnInProgressJobOfAnOpenStartNextRunsFromTheStart() throws Exception {
    // The gateway decided j1 SUCCEEDED, asked for the next job, and died once the service had
    // applied both: j1 SUCCEEDED, jn IN_PROGRESS, the journal knows only j1 and the intent.
    install("ok", ctx -> OperationResult.succeeded(Map.of("ran", "yes")));
    MiniJobsService.Exec done = service.queue("j1", "{\"operation\":\"ok\"}");
    done.status = ExecutionStatus.SUCCEEDED;
    done.version = 3;
    MiniJobsService.Exec started = service.queue("jn", "{\"operation\":\"ok\"}");
    started.status = ExecutionStatus.IN_PROGRESS;
    started.version = 2;
    Journal journal = new Journal(journalDir());
    journal.requestNext(
        journal.create("j1", 1, 1, "{\"operation\":\"ok\"}").reporting("SUCCEEDED", Map.of(), 2));
    journal.close();
    start();
    awaitStatus("jn", ExecutionStatus.SUCCEEDED);
    assertEquals("yes", service.exec("jn").details.get("ran"));
    assertEquals(List.of(ExecutionStatus.SUCCEEDED), statuses("jn"));
    assertEquals(2L, service.updates("jn").get(0).expectedVersion());
    // j1 was closed locally, not reported twice
    assertEquals(List.of(), statuses("j1"));
  }

  @Test
  void aStartedJobWhoseOperationHasItsOwnStepTimeoutSetsItWithAnUpdate() throws Exception {
    stepTimeouts = Map.of("long", Duration.ofMinutes(120));
    install("ok", ctx -> OperationResult.succeeded());
    install("long", ctx -> OperationResult.succeeded());
    service.queue("t0", "{\"operation\":\"ok\"}");
    service.queue("t1", "{\"operation\":\"ok\"}");
    service.queue("t2", "{\"operation\":\"long\"}");
    start();
    awaitStatus("t2", ExecutionStatus.SUCCEEDED);
    List<UpdateRequest> t2 = service.updates("t2");
    assertEquals(
        List.of(
            ExecutionStatus.IN_PROGRESS, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        statuses("t2"));
    assertEquals(1L, t2.get(0).stepTimeoutInMinutes(), "start-next asks for the default");
    assertEquals(120L, t2.get(1).stepTimeoutInMinutes(), "then the operation type's own");
  }

  @Test
  void anOperationServiceTheFrameworkRefusesToTakeBackFailsNeitherTheJobNorTheRunner()
      throws Exception {
    // Felix refuses an unget it lost count of with an IllegalArgumentException: it must neither
    // fail the job nor the runner.
    AtomicInteger ungets = new AtomicInteger();
    JobOperation ok = ctx -> OperationResult.succeeded();
    operations.add(
        new ComponentServiceObjects<>() {
          @Override
          public JobOperation getService() {
            return ok;
          }

          @Override
          public void ungetService(JobOperation service) {
            ungets.incrementAndGet();
            throw new IllegalArgumentException();
          }

          @Override
          public ServiceReference<JobOperation> getServiceReference() {
            return null;
          }
        },
        props("ok"));
    for (String job : List.of("u1", "u2", "u3")) {
      service.queue(job, "{\"operation\":\"ok\"}");
    }
    start();
    awaitStatus("u3", ExecutionStatus.SUCCEEDED);
    // validate and execute of each job gave the service back once, each refused; a refusal that
    // escaped would have failed the runner and had the job planned (and validated) again
    assertEquals(6, ungets.get());
    assertEquals(List.of(ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED), statuses("u1"));
  }

  @Test
  void aTerminalReportThatKeepsFailingIsSentAgainWithoutRunningTheJobAgain() throws Exception {
    // Every answer to the SUCCEEDED update is lost until the engine has given up on it once (six
    // attempts) and started over from what it holds open: the decided status, not the running job.
    AtomicInteger runs = installCounting("ok");
    queueOk("k1");
    AtomicInteger lost = new AtomicInteger();
    service.dropWhen(
        s ->
            s.request() instanceof UpdateRequest u
                && u.status() == ExecutionStatus.SUCCEEDED
                && lost.incrementAndGet() <= 6);
    start();
    awaitStatus("k1", ExecutionStatus.SUCCEEDED);
    assertTrue(lost.get() > 6, "the report was given up on once: " + lost.get());
    assertEquals(1, runs.get(), "the operation ran again");
    assertEquals(
        List.of(ExecutionStatus.IN_PROGRESS),
        statuses("k1").stream().filter(st -> st == ExecutionStatus.IN_PROGRESS).toList());
  }
}
