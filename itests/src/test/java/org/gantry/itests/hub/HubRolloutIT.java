package org.gantry.itests.hub;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.time.Clock;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.inject.Inject;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationResult;
import org.gantry.itests.support.GatewayConfig;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The hub's rollouts, timeouts and retries against a real gateway, on simulated minutes: hub and
 * gateway in one Felix framework, the hub on a {@link SteppedClock} registered as its clock
 * service, and one gateway runtime serving many things (the engine's {@code things}). The test
 * steps the clock; the hub re-reads it on its own, the gateway runs the jobs it is given.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HubRolloutIT {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final long MINUTE = 60_000;
  private static final String DIAGNOSTICS = "{\"operation\":\"diagnostics\"}";

  /** The things the one gateway serves. */
  private static final List<String> THINGS =
      IntStream.rangeClosed(1, 54).mapToObj(i -> "roll-" + i + "-" + RUN).toList();

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  private SteppedClock clock;
  private HubApi api;

  @Configuration
  public Option[] configuration() {
    return HubFramework.options(List.of("gantry-hub", "gantry-gateway", "gantry-op-diagnostics"));
  }

  @Before
  public void start() throws Exception {
    clock = clock();
    new HubSetup(context).configureOnce(configAdmin);
    api = new HubApi(new HubSetup(context).apiBase());
    api.awaitUp(patience());
    for (String t : THINGS) {
      api.createThing(t);
    }
    serveAll();
  }

  @Test
  public void theRolloutDeliversToTheGatewayMinuteByMinute() throws Exception {
    List<String> targets = THINGS.subList(0, 6);
    JsonObject body = job(targets, DIAGNOSTICS);
    JsonObject rollout = new JsonObject();
    rollout.addProperty("maximumPerMinute", 2);
    body.add("jobExecutionsRolloutConfig", rollout);
    created(api.send("PUT", "/jobs/roll-" + RUN, body));
    String job = "roll-" + RUN;

    // The first goes at once; the others wait for the clock, which stands still.
    awaitCounts(job, 1, 5);
    clock.advance(MINUTE);
    awaitCounts(job, 3, 3);
    clock.advance(MINUTE);
    awaitCounts(job, 5, 1);
    clock.advance(MINUTE);
    awaitCounts(job, 6, 0);
    JsonObject described = api.describeJob(job);
    assertEquals(described.toString(), "COMPLETED", described.get("status").getAsString());
    assertEquals(
        2,
        described.getAsJsonObject("jobExecutionsRolloutConfig").get("maximumPerMinute").getAsInt());
  }

  @Test
  public void anExponentialRateGrowsWithTheThingsTheGatewaySucceededOn() throws Exception {
    exponentialRollout("exp-" + RUN, THINGS.subList(18, 30), "numberOfSucceededThings");
  }

  @Test
  public void anExponentialRateGrowsWithTheThingsNotified() throws Exception {
    exponentialRollout("expn-" + RUN, THINGS.subList(42, 54), "numberOfNotifiedThings");
  }

  /**
   * Twelve things, base rate 1 a minute doubled each time one more thing meets {@code criterion}
   * (the gateway succeeds at once, so both criteria grow alike): minute 0 delivers the first (rate
   * 2 after it), minute 1 two more (three met: rate 8), minute 2 eight, minute 3 the last.
   */
  private void exponentialRollout(String job, List<String> targets, String criterion)
      throws Exception {
    JsonObject body = job(targets, DIAGNOSTICS);
    body.add(
        "jobExecutionsRolloutConfig",
        JsonParser.parseString(
            "{\"maximumPerMinute\":16,\"exponentialRate\":{\"baseRatePerMinute\":1,"
                + "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\""
                + criterion
                + "\":1}}}"));
    created(api.send("PUT", "/jobs/" + job, body));
    awaitCounts(job, 1, 11);
    clock.advance(MINUTE);
    awaitCounts(job, 3, 9);
    clock.advance(MINUTE);
    awaitCounts(job, 11, 1);
    clock.advance(MINUTE);
    awaitCounts(job, 12, 0);
    assertEquals("COMPLETED", jobStatus(job));
  }

  @Test
  public void aHungOperationTimesOutAndIsRetriedOnce() throws Exception {
    String thing = THINGS.get(6);
    CountDownLatch started = new CountDownLatch(2);
    JobOperation hang =
        new JobOperation() {
          @Override
          public OperationResult execute(OperationContext ctx) {
            started.countDown();
            awaitCancel(ctx);
            return OperationResult.failed(
                DeviceReason.OPERATION_FAILED, "the test operation never finishes", Map.of());
          }
        };
    Dictionary<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-hang");
    var registration = context.registerService(JobOperation.class, hang, props);
    try {
      String job = "hang-" + RUN;
      JsonObject body = job(List.of(thing), "{\"operation\":\"itest-hang\"}");
      body.add("timeoutConfig", JsonParser.parseString("{\"inProgressTimeoutInMinutes\":3}"));
      body.add(
          "jobExecutionsRetryConfig",
          JsonParser.parseString(
              "{\"criteriaList\":[{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":1}]}"));
      created(api.send("PUT", "/jobs/" + job, body));

      JsonObject first = api.awaitExecution(thing, job, "IN_PROGRESS", patience());
      assertEquals(first.toString(), 1, first.get("executionNumber").getAsLong());
      clock.advance(3 * MINUTE);
      HubApi.await(
          "execution 1 TIMED_OUT", () -> "TIMED_OUT".equals(status(thing, job, 1)), patience());
      assertNotNull(execution(thing, job, 2));

      // The retry is a new execution number, delivered to the gateway, which starts it.
      HubApi.await(
          "execution 2 IN_PROGRESS",
          () -> "IN_PROGRESS".equals(status(thing, job, 2)),
          patience().multipliedBy(2));
      clock.advance(3 * MINUTE);
      HubApi.await(
          "execution 2 TIMED_OUT", () -> "TIMED_OUT".equals(status(thing, job, 2)), patience());
      HubApi.await(
          "the job COMPLETED with no third execution",
          () -> "COMPLETED".equals(jobStatus(job)),
          patience());
      assertEquals(
          404,
          api.send("GET", "/things/" + thing + "/jobs/" + job + "?executionNumber=3", null)
              .status());
      JsonObject counts = api.describeJob(job).getAsJsonObject("jobProcessDetails");
      assertEquals(counts.toString(), 1, counts.get("numberOfTimedOutThings").getAsInt());
    } finally {
      registration.unregister();
    }
  }

  @Test
  public void failuresAtTheThresholdAbortTheRolloutBeforeTheRestRun() throws Exception {
    abortsAfterTwo(
        "FAILED",
        "numberOfFailedThings",
        THINGS.subList(7, 11),
        ctx ->
            OperationResult.failed(
                DeviceReason.OPERATION_FAILED, "the test operation always fails", Map.of()),
        false);
  }

  @Test
  public void rejectionsAtTheThresholdAbortTheRollout() throws Exception {
    abortsAfterTwo(
        "REJECTED",
        "numberOfRejectedThings",
        THINGS.subList(30, 34),
        ctx ->
            OperationResult.rejected(
                DeviceReason.OPERATION_FAILED, "the test operation always refuses", Map.of()),
        false);
  }

  @Test
  public void timeoutsAtTheThresholdAbortTheRollout() throws Exception {
    abortsAfterTwo(
        "TIMED_OUT",
        "numberOfTimedOutThings",
        THINGS.subList(34, 38),
        ctx -> {
          awaitCancel(ctx);
          return OperationResult.succeeded();
        },
        true);
  }

  @Test
  public void anyFailureTypeCountsForAll() throws Exception {
    abortsAfterTwo(
        "ALL",
        "numberOfFailedThings",
        THINGS.subList(38, 42),
        ctx ->
            OperationResult.failed(
                DeviceReason.OPERATION_FAILED, "the test operation always fails", Map.of()),
        false);
  }

  /**
   * A rollout of one thing a minute to four things whose operation ends in {@code failureType} (or
   * hangs, for TIMED_OUT under a one-minute in-progress limit), with an abort criterion of 50 % and
   * at least two executed: the first outcome is below the minimum, the second cancels the job, and
   * the last two things never run the operation.
   */
  private void abortsAfterTwo(
      String failureType, String countField, List<String> targets, JobOperation op, boolean hangs)
      throws Exception {
    AtomicInteger runs = new AtomicInteger();
    String type = "itest-abort-" + failureType.toLowerCase(Locale.ROOT).replace('_', '-');
    JobOperation counted =
        ctx -> {
          runs.incrementAndGet();
          return op.execute(ctx);
        };
    Dictionary<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, type);
    var registration = context.registerService(JobOperation.class, counted, props);
    try {
      String job = "abort-" + failureType.toLowerCase(Locale.ROOT).replace('_', '-') + "-" + RUN;
      JsonObject body = job(targets, "{\"operation\":\"" + type + "\"}");
      body.add("jobExecutionsRolloutConfig", JsonParser.parseString("{\"maximumPerMinute\":1}"));
      if (hangs) {
        body.add("timeoutConfig", JsonParser.parseString("{\"inProgressTimeoutInMinutes\":1}"));
      }
      body.add(
          "abortConfig",
          JsonParser.parseString(
              "{\"criteriaList\":[{\"failureType\":\""
                  + failureType
                  + "\",\"action\":\"CANCEL\",\"thresholdPercentage\":50,"
                  + "\"minNumberOfExecutedThings\":2}]}"));
      created(api.send("PUT", "/jobs/" + job, body));
      if (hangs) {
        api.awaitExecution(targets.get(0), job, "IN_PROGRESS", patience());
        clock.advance(MINUTE); // the first times out; the second is delivered
        api.awaitExecution(targets.get(1), job, "IN_PROGRESS", patience());
      } else {
        HubApi.await(
            "the first " + failureType,
            () -> counts(job).get(countField).getAsInt() == 1,
            patience());
      }
      assertEquals("one outcome is below the minimum of two", "IN_PROGRESS", jobStatus(job));
      clock.advance(MINUTE);
      HubApi.await("the job CANCELED", () -> "CANCELED".equals(jobStatus(job)), patience());
      JsonObject c = api.describeJob(job).getAsJsonObject("jobProcessDetails");
      assertEquals(c.toString(), 2, c.get(countField).getAsInt());
      assertEquals(c.toString(), 2, c.get("numberOfCanceledThings").getAsInt());
      clock.advance(2 * MINUTE);
      assertEquals("the two undelivered things never ran the operation", 2, runs.get());
      for (String t : targets.subList(2, 4)) {
        assertEquals("CANCELED", status(t, job, 1));
      }
    } finally {
      registration.unregister();
    }
  }

  @Test
  public void aContinuousJobRunsOnAThingThatJoinsItsGroupLater() throws Exception {
    String group = "group-" + RUN;
    String member = THINGS.get(11);
    String newcomer = THINGS.get(12);
    assertEquals(200, api.send("POST", "/thing-groups/" + group, new JsonObject()).status());
    addToGroup(group, member);
    String job = "cont-" + RUN;
    JsonObject body =
        job(List.of("arn:aws:iot:us-east-1:123456789012:thinggroup/" + group), DIAGNOSTICS);
    body.addProperty("targetSelection", "CONTINUOUS");
    created(api.send("PUT", "/jobs/" + job, body));
    api.awaitExecution(member, job, "SUCCEEDED", patience());
    assertEquals("a continuous job stays open", "IN_PROGRESS", jobStatus(job));

    addToGroup(group, newcomer);
    JsonObject ran = api.awaitExecution(newcomer, job, "SUCCEEDED", patience());
    assertEquals(ran.toString(), 1, ran.get("executionNumber").getAsLong());
    assertEquals(2, counts(job).get("numberOfSucceededThings").getAsInt());
  }

  @Test
  public void aHubRestartedMidRolloutDeliversTheRestExactlyOnce() throws Exception {
    List<String> targets = THINGS.subList(13, 17);
    String job = "restart-" + RUN;
    JsonObject body = job(targets, DIAGNOSTICS);
    body.add("jobExecutionsRolloutConfig", JsonParser.parseString("{\"maximumPerMinute\":1}"));
    created(api.send("PUT", "/jobs/" + job, body));
    awaitCounts(job, 1, 3);

    Bundle hub = new HubSetup(context).hubBundle();
    hub.stop();
    hub.start();
    api.awaitUp(patience());
    awaitCounts(job, 1, 3); // the store kept the rollout where it was
    for (int minute = 1; minute <= 3; minute++) {
      clock.advance(MINUTE);
      awaitCounts(job, 1 + minute, 3 - minute);
    }
    assertEquals("COMPLETED", jobStatus(job));
    for (String t : targets) {
      assertEquals(t, "SUCCEEDED", status(t, job, 1));
      assertEquals(t + " got a second execution", null, execution(t, job, 2));
    }
  }

  @Test
  public void aStuckStepTimesOutAtTheHubAndTheGatewayStopsIt() throws Exception {
    String thing = THINGS.get(17);
    CountDownLatch cancelled = new CountDownLatch(1);
    JobOperation stuck =
        ctx -> {
          awaitCancel(ctx);
          if (ctx.cancelled()) {
            cancelled.countDown();
          }
          return OperationResult.succeeded();
        };
    Dictionary<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-stuck");
    var registration = context.registerService(JobOperation.class, stuck, props);
    try {
      String job = "stuck-" + RUN;
      created(
          api.send("PUT", "/jobs/" + job, job(List.of(thing), "{\"operation\":\"itest-stuck\"}")));
      api.awaitExecution(thing, job, "IN_PROGRESS", patience());
      // The engine asked for a 1-minute step timer with IN_PROGRESS; a simulated minute later the
      // hub times the execution out, and the gateway, told by the notification, cancels the step.
      clock.advance(MINUTE + 1_000);
      HubApi.await("TIMED_OUT", () -> "TIMED_OUT".equals(status(thing, job, 1)), patience());
      assertTrue(
          "the gateway cancelled the stuck step",
          cancelled.await(patience().toMillis(), TimeUnit.MILLISECONDS));
      assertEquals("TIMED_OUT", status(thing, job, 1));
    } finally {
      registration.unregister();
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * What a hung test operation does: waits until the engine cancels it, bounded by the patience so
   * that a test that fails never leaves a thread behind.
   */
  private static void awaitCancel(OperationContext ctx) {
    CountDownLatch cancelled = new CountDownLatch(1);
    ctx.onCancel(cancelled::countDown);
    try {
      cancelled.await(patience().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void addToGroup(String group, String thing) throws Exception {
    JsonObject add = new JsonObject();
    add.addProperty("thingGroupName", group);
    add.addProperty("thingName", thing);
    HubApi.Answer a = api.send("PUT", "/thing-groups/addThingToThingGroup", add);
    assertEquals(a.toString(), 200, a.status());
  }

  /** The hub's clock service: registered by the first test of the framework, reused after. */
  private SteppedClock clock() throws Exception {
    Collection<ServiceReference<Clock>> refs =
        context.getServiceReferences(Clock.class, "(gantry.clock=hub)");
    for (ServiceReference<Clock> r : refs) {
      if (context.getService(r) instanceof SteppedClock c) {
        return c;
      }
    }
    SteppedClock c = new SteppedClock(1_700_000_000_000L);
    Dictionary<String, Object> props = new Hashtable<>();
    props.put("gantry.clock", "hub");
    context.registerService(Clock.class, c, props);
    return c;
  }

  /**
   * One gateway runtime: one MQTT connection, the engine serving every thing of the test.
   * Configured by the first test only: ConfigurationAdmin applies an update asynchronously, and
   * restarting the engine under a later test's running job would race with it.
   */
  private void serveAll() throws IOException {
    if (configAdmin.getConfiguration(GatewayConfig.ENGINE_PID, "?").getProperties() != null) {
      return;
    }
    Dictionary<String, Object> transport = new Hashtable<>();
    transport.put("broker.url", new HubSetup(context).brokerUrl());
    transport.put("client.id", "gw-" + RUN);
    configAdmin.getConfiguration(GatewayConfig.TRANSPORT_PID, "?").update(transport);
    Dictionary<String, Object> engine = new Hashtable<>();
    engine.put("thing.name", THINGS.get(0));
    engine.put("things", THINGS.subList(1, THINGS.size()).toArray(new String[0]));
    engine.put("data.dir", GatewayConfig.dataDir("gw-" + RUN).toString());
    engine.put("request.timeout.seconds", 5);
    engine.put("poll.interval.seconds", 300);
    // One simulated minute at the hub: the engine sends it as the step timeout when it starts.
    engine.put("step.timeouts", new String[] {"itest-stuck=1"});
    configAdmin.getConfiguration(GatewayConfig.ENGINE_PID, "?").update(engine);
  }

  private static JsonObject job(List<String> targets, String document) {
    JsonObject body = new JsonObject();
    JsonArray t = new JsonArray();
    targets.forEach(t::add);
    body.add("targets", t);
    body.addProperty("document", document);
    return body;
  }

  private static void created(HubApi.Answer a) {
    assertEquals(a.toString(), 200, a.status());
  }

  private void awaitCounts(String job, int succeeded, int queued) throws InterruptedException {
    HubApi.await(
        succeeded + " SUCCEEDED and " + queued + " QUEUED things of " + job,
        () -> {
          JsonObject c = counts(job);
          return c.get("numberOfSucceededThings").getAsInt() == succeeded
              && c.get("numberOfQueuedThings").getAsInt() == queued;
        },
        patience());
  }

  private JsonObject counts(String job) {
    try {
      return api.describeJob(job).getAsJsonObject("jobProcessDetails");
    } catch (IOException e) {
      throw new AssertionError("DescribeJob " + job + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private String jobStatus(String job) {
    try {
      return api.describeJob(job).get("status").getAsString();
    } catch (IOException e) {
      throw new AssertionError("DescribeJob " + job + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private JsonObject execution(String thing, String job, long number) {
    try {
      HubApi.Answer a =
          api.send("GET", "/things/" + thing + "/jobs/" + job + "?executionNumber=" + number, null);
      return a.status() == 200 ? a.body().getAsJsonObject("execution") : null;
    } catch (IOException e) {
      throw new AssertionError("DescribeJobExecution failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private String status(String thing, String job, long number) {
    JsonObject e = execution(thing, job, number);
    return e == null ? null : e.get("status").getAsString();
  }
}
