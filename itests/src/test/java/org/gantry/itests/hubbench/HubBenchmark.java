package org.gantry.itests.hubbench;

import static org.junit.Assert.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.inject.Inject;
import org.gantry.itests.hub.HubApi;
import org.gantry.itests.hub.HubFramework;
import org.gantry.itests.hub.SteppedClock;
import org.gantry.itests.support.GatewayFramework;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The hub benchmark (issue 7), run with {@code mvn -B -pl itests verify -Phubbench}: the hub bundle
 * in Felix on Mosquitto, a simulator answering for {@code gantry.hubbench.things} things (10,000)
 * over one MQTT connection with wildcard subscriptions. It prints figures and asserts none of them:
 *
 * <ol>
 *   <li>a baseline: QoS 1 messages per second the simulator's connection echoes through Mosquitto;
 *   <li>the rollout: a job with {@code maximumPerMinute} (1,000) on every thing, on a stepped clock
 *       (simulated minutes, stepped a second at a time and quiesced before each minute boundary);
 *       deliveries per minute of the hub's clock against {@code maximumPerMinute};
 *   <li>the throughput: a job without rollout on as many fresh things; start-next and update
 *       requests per second of real time until the last update is accepted, against the baseline.
 * </ol>
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HubBenchmark {
  private static final long MINUTE = 60_000;
  private static final String DOC = "{\"operation\":\"noop\"}";

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  @Configuration
  public Option[] configuration() {
    return HubFramework.options(List.of("gantry-hub"));
  }

  @Test
  public void rolloutRateAndUpdateThroughput() throws Exception {
    int things = Integer.getInteger("gantry.hubbench.things", 10_000);
    int perMinute = Integer.getInteger("gantry.hubbench.perMinute", 1_000);
    Path out = Path.of(System.getProperty("gantry.bench.out", "target/bench"));
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<String> report = new ArrayList<>();
    SteppedClock clock = new SteppedClock(1_700_000_000_000L);
    Dictionary<String, Object> clockProps = new Hashtable<>();
    clockProps.put("gantry.clock", "hub");
    context.registerService(Clock.class, clock, clockProps);

    try (BenchBroker broker = BenchBroker.start(out.resolve("mosquitto-" + run))) {
      HubApi api = configureHub(broker.url(), run);
      try (ThingSimulator sim = new ThingSimulator(broker.url(), "hubbench-sim-" + run)) {
        awaitSubscribedHub(sim);

        // 1. baseline: the broker and this connection alone
        int echoes = 20_000;
        long e0 = System.nanoTime();
        sim.echo(echoes);
        await("echoes", () -> sim.echoes.get() >= echoes, Duration.ofSeconds(60));
        double echoRate = echoes / seconds(e0);
        report.add(
            String.format(
                Locale.ROOT,
                "baseline: %,.0f QoS1 messages/s echoed through Mosquitto (one connection)",
                echoRate));

        // 2. rollout rate on simulated minutes
        List<String> targets = names("rate-" + run, things);
        long origin = clock.millis();
        createJob(api, "rate-" + run, targets, perMinute);
        long minutes = ((long) things + perMinute - 1) / perMinute + 1;
        for (long second = 1; second <= minutes * 60 && sim.deliveries.get() < things; second++) {
          if (second % 60 == 0) {
            // Just before the boundary: let the hub deliver what is due in this minute first.
            clock.advance(999);
            quiesce(sim);
            clock.advance(1);
          } else {
            clock.advance(1_000);
            Thread.sleep(20); // pacing of simulated time, about 50 simulated seconds per real one
          }
        }
        quiesce(sim);
        Map<Long, Long> byMinute = new TreeMap<>();
        long originSecond = origin / 1000;
        sim.deliveriesBySecond.forEach(
            (sec, n) -> byMinute.merge((sec - originSecond) / 60, n.get(), Long::sum));
        report.add(
            String.format(
                Locale.ROOT,
                "rollout: %,d things, maximumPerMinute %d, %,d delivered",
                things,
                perMinute,
                sim.deliveries.get()));
        long worst = 0;
        for (Map.Entry<Long, Long> m : byMinute.entrySet()) {
          boolean full = m.getKey() < byMinute.size() - 1;
          double ratio = m.getValue() / (double) perMinute;
          if (full) {
            worst = Math.max(worst, Math.abs(m.getValue() - perMinute));
          }
          report.add(
              String.format(
                  Locale.ROOT,
                  "  minute %2d: %5d deliveries = %.4f x maximumPerMinute%s",
                  m.getKey(),
                  m.getValue(),
                  ratio,
                  full ? "" : " (the remainder)"));
        }
        report.add(
            String.format(
                Locale.ROOT,
                "  worst full minute: %+.2f %% off maximumPerMinute (target within +-1 %%)",
                100.0 * worst / perMinute));

        // 3. update throughput, real time, no rollout
        long startsBefore = sim.startsAccepted.get();
        long updatesBefore = sim.updatesAccepted.get();
        List<String> burst = names("burst-" + run, things);
        long t0 = System.nanoTime();
        createJob(api, "burst-" + run, burst, 0);
        long created = System.nanoTime();
        await(
            "every burst execution SUCCEEDED",
            () -> sim.updatesAccepted.get() - updatesBefore >= things,
            Duration.ofMinutes(5));
        double total = seconds(t0);
        double afterCreate = seconds(created);
        long requests =
            (sim.startsAccepted.get() - startsBefore) + (sim.updatesAccepted.get() - updatesBefore);
        double perSecond = requests / afterCreate;
        report.add(
            String.format(
                Locale.ROOT,
                "throughput: %,d executions, CreateJob %.2f s, then %,d requests (start-next + update) in %.2f s",
                things,
                (created - t0) / 1e9,
                requests,
                afterCreate));
        report.add(
            String.format(
                Locale.ROOT,
                "  %,.0f execution updates/s processed = %.3f x the echo baseline; %.2f x the 2,000/s target",
                perSecond,
                perSecond / echoRate,
                perSecond / 2000));
        report.add(
            String.format(
                Locale.ROOT,
                "  %,.0f executions/s end to end, CreateJob included (%.2f s)",
                things / total,
                total));
        report.add("  rejected answers seen by the simulator: " + sim.rejected.get());
      }
    }
    report.forEach(System.out::println);
    Files.createDirectories(out);
    Files.write(out.resolve("hub-bench.txt"), report, StandardCharsets.UTF_8);
    assertEquals(
        "the report was written",
        report.size(),
        Files.readAllLines(out.resolve("hub-bench.txt")).size());
  }

  private HubApi configureHub(String brokerUrl, String run) throws Exception {
    Path data =
        Files.createDirectories(
            Path.of(System.getProperty(GatewayFramework.WORK_DIR, "target"))
                .resolve("hubbench")
                .resolve(run));
    Dictionary<String, Object> p = new Hashtable<>();
    p.put("mqtt.url", brokerUrl);
    p.put("client.id", "hubbench-hub-" + run);
    p.put("api.host", "127.0.0.1");
    p.put("api.port", Integer.parseInt(context.getProperty(HubFramework.API_PORT)));
    p.put("data.dir", data.toString());
    configAdmin.getConfiguration("org.gantry.hub", "?").update(p);
    HubApi api =
        new HubApi(
            java.net.URI.create("http://127.0.0.1:" + context.getProperty(HubFramework.API_PORT)));
    api.awaitUp(Duration.ofSeconds(30));
    return api;
  }

  /** The hub subscribes after it connects: ask until it answers. */
  private static void awaitSubscribedHub(ThingSimulator sim) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (sim.pings.get() == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the hub did not answer over Mosquitto within 30 s");
      }
      sim.ping();
      await(
          "an answer",
          () -> sim.pings.get() > 0 || System.nanoTime() > deadline,
          Duration.ofSeconds(1),
          false);
    }
  }

  /** Waits until every delivered execution is answered and nothing moved for a quarter second. */
  private static void quiesce(ThingSimulator sim) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    long last = -1;
    while (System.nanoTime() < deadline) {
      long now = sim.deliveries.get() + sim.updatesAccepted.get();
      if (now == last && sim.updatesAccepted.get() >= sim.deliveries.get()) {
        return;
      }
      last = now;
      Thread.sleep(250);
    }
    throw new AssertionError("the hub and the simulator did not settle within 60 s");
  }

  private static void createJob(HubApi api, String jobId, List<String> targets, int perMinute)
      throws Exception {
    JsonObject body = new JsonObject();
    JsonArray t = new JsonArray();
    targets.forEach(t::add);
    body.add("targets", t);
    body.addProperty("document", DOC);
    if (perMinute > 0) {
      JsonObject r = new JsonObject();
      r.addProperty("maximumPerMinute", perMinute);
      body.add("jobExecutionsRolloutConfig", r);
    }
    HubApi.Answer a = api.send("PUT", "/jobs/" + jobId, body);
    if (a.status() != 200) {
      throw new AssertionError("CreateJob " + jobId + " refused: " + a);
    }
  }

  private static List<String> names(String prefix, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + i);
    }
    return out;
  }

  private static double seconds(long fromNanos) {
    return (System.nanoTime() - fromNanos) / 1e9;
  }

  private static void await(String what, java.util.function.BooleanSupplier done, Duration timeout)
      throws InterruptedException {
    await(what, done, timeout, true);
  }

  private static void await(
      String what, java.util.function.BooleanSupplier done, Duration timeout, boolean fail)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        if (fail) {
          throw new AssertionError(what + " did not happen within " + timeout.toSeconds() + " s");
        }
        return;
      }
      Thread.sleep(10);
    }
  }
}
