package org.gantry.itests.bench;

import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.gantry.itests.bench.Figures.Spread;
import org.gantry.itests.bench.noop.NoopOperation;
import org.gantry.itests.crash.GantryProcess;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Request;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobsTopic;
import org.gantry.protocol.UpdateRequest;
import org.junit.Test;

/**
 * Issue 4's engine benchmark: the real runtime ({@code bin/gantry gateway} as a process, fsync on)
 * against Moquette on the loopback interface, and Mosquitto too when it is installed, with the test
 * jobs service as AWS IoT Jobs. Prints one {@code name: value unit} line per figure and writes them
 * to {@code target/bench/engine-bench.txt}. Not part of the normal suite: run it with the {@code
 * bench} profile (itests/README.md).
 *
 * <p>Latency is what the service sees: from the moment the job is queued (CreateJob) to the moment
 * the service accepts the terminal update. Figures of a broker carry its name as prefix; every
 * ratio is against the MQTT round trip on the same broker in the same run.
 */
public class EngineBenchmark {

  static final String DIAGNOSTICS = "{\"operation\":\"diagnostics\"}";

  /**
   * The operation the gateway's jobs name: {@code noop} (issue 4's "no-op operation", a bundle the
   * benchmark drops into the runtime's deploy/ folder) or, e.g., {@code diagnostics}.
   */
  private static final String OPERATION =
      System.getProperty("gantry.bench.operation", NoopOperation.TYPE);

  private static final String DOCUMENT = "{\"operation\":\"" + OPERATION + "\"}";

  /**
   * JVM options for the gateway after bin/gantry's defaults (GantryProcess.DEFAULT_JAVA_OPTS), to
   * try JIT settings and the like.
   */
  private static final String GATEWAY_OPTS = System.getProperty("gantry.bench.javaOpts", "");

  /** Which brokers to measure on, e.g. {@code mosquitto} alone while profiling. */
  private static final String BROKERS =
      System.getProperty("gantry.bench.brokers", "moquette,mosquitto");

  private static final int RTT_WARMUP = 500;
  private static final int RTT_SAMPLES = 2_000;
  private static final int JOB_WARMUP = Integer.getInteger("gantry.bench.warmup", 1_000);
  private static final int JOB_SAMPLES = Integer.getInteger("gantry.bench.jobs", 300);
  // Long enough (several seconds) that a pause of the shared machine is not the whole figure.
  private static final int THROUGHPUT_JOBS =
      Integer.getInteger("gantry.bench.throughputJobs", 2_000);
  private static final int WINDOW = 16;
  private static final int THINGS = 100;
  private static final int JOBS_PER_THING = 10;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration JOB_TIMEOUT = Duration.ofSeconds(30);

  private final Figures figures = new Figures();
  private Path work;

  @Test
  public void engine() throws Exception {
    work =
        Path.of(
            System.getProperty("gantry.itest.work"),
            "bench",
            LocalDateTime.now(ZoneOffset.UTC)
                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(work);
    figures.note(
        "Gantry engine benchmark, "
            + Instant.now()
            + ", "
            + Runtime.getRuntime().availableProcessors()
            + " cores, Java "
            + System.getProperty("java.version")
            + ", load average "
            + loadAverage()
            + ", gateway JVM options '"
            + GantryProcess.DEFAULT_JAVA_OPTS
            + " "
            + GATEWAY_OPTS
            + "', benchmark JVM options '"
            + String.join(
                " ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
            + "', journal fsync on, test service without notify, work folder "
            + work);

    if (BROKERS.contains("moquette")) {
      try (TestBroker moquette = TestBroker.start()) {
        runOn("moquette", moquette.url(), -1);
      }
    }
    if (!BROKERS.contains("mosquitto")) {
      figures.note("Mosquitto left out (-Dgantry.bench.brokers=" + BROKERS + ")");
    } else if (Mosquitto.installed()) {
      try (Mosquitto mosquitto = Mosquitto.start(work.resolve("mosquitto"))) {
        runOn("mosquitto", mosquitto.url(), mosquitto.pid());
      }
    } else {
      figures.note("Mosquitto is not installed (" + Mosquitto.BINARY + "): Moquette only");
    }
    figures.write(
        Path.of(System.getProperty("gantry.bench.out", work.toString()), "engine-bench.txt"));
  }

  /** The machine is shared: how busy it was is part of every figure. */
  private static String loadAverage() throws IOException {
    Path load = Path.of("/proc/loadavg");
    return Files.isReadable(load) ? Files.readString(load).trim() : "unknown";
  }

  /**
   * @param brokerPid the broker's process, or -1 when it runs in this JVM
   */
  private void runOn(String broker, String url, long brokerPid) throws Exception {
    figures.note("broker " + broker + " at " + url);
    Spread rtt = Spread.of(RoundTrip.measure(url, broker, RTT_WARMUP, RTT_SAMPLES));
    figures.spread(broker + ".mqtt_round_trip", rtt);

    try (TestJobsService jobs = TestJobsService.start(url)) {
      // Three messages per job that the gateway never subscribes to (TestJobsService#publishNotify)
      jobs.publishNotify(false);
      // The floor: what the protocol costs with this service and no engine at all.
      Map<String, Instant> floorQueued = new LinkedHashMap<>();
      String floorThing = "bench-" + broker + "-floor";
      ScriptedDevice.Result floor =
          ScriptedDevice.run(url, jobs, floorThing, JOB_WARMUP, JOB_SAMPLES, floorQueued);
      figures.spread(broker + ".service.update_in_progress_round_trip", floor.inProgress());
      figures.spread(broker + ".service.update_succeeded_round_trip", floor.succeeded());
      Spread floorLatency = Spread.of(latencies(jobs, floorThing, floorQueued));
      figures.spread(broker + ".floor_job_latency", floorLatency);
      figures.add(broker + ".floor_ratio", floorLatency.medianMillis() / rtt.medianMillis(), "x");
      breakdown(broker + ".floor", jobs, floorThing, floorQueued);

      String drained = "bench-" + broker + "-floor-tp";
      Map<String, Instant> floorBurst = new LinkedHashMap<>();
      queueRange(jobs, drained, "ftp-", 0, WINDOW, floorBurst);
      ExecutorService device = Executors.newSingleThreadExecutor();
      try {
        Future<Integer> ended =
            device.submit(() -> ScriptedDevice.drain(url, drained, THROUGHPUT_JOBS));
        keepQueued(jobs, drained, "ftp-", floorBurst);
        assertEquals(
            "jobs the scripted device ended",
            THROUGHPUT_JOBS,
            (int) ended.get(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
      } finally {
        device.shutdownNow();
      }
      throughput(broker + ".floor_jobs_per_second.one_thing", jobs, Map.of(drained, floorBurst));

      oneThing(broker, url, brokerPid, jobs, rtt);
      hundredThings(broker, url, jobs);
    }
  }

  /** Latency and sequential throughput of one thing, and the journal commit on its data folder. */
  private void oneThing(String broker, String url, long brokerPid, TestJobsService jobs, Spread rtt)
      throws Exception {
    String thing = "bench-" + broker + "-one";
    Path data = Files.createDirectories(work.resolve(broker + "-one"));
    // On the data folder the gateway is about to use, before it runs: the same disk, and a figure
    // from the same minutes as the job figures below (the disk is shared with other work).
    Spread commit =
        Spread.of(
            JournalCommit.measure(data.resolve("journal").resolve("bench-commit"), 100, 1_000));
    figures.spread(broker + ".journal_commit", commit);
    figures.add(broker + ".journal_commit_ratio", commit.medianMillis() / rtt.medianMillis(), "x");
    Path home = runtimeWithOperation(work.resolve(broker + "-one-runtime"));
    try (GantryProcess gateway =
        GantryProcess.startIn(
            home,
            broker + "-one",
            List.of("gateway", "--broker", url, "--thing", thing, "--data", data.toString()),
            GATEWAY_OPTS,
            null,
            List.of("ERROR", "WARN", "' installed"))) {
      gateway.awaitLine(
          "subscription line",
          l -> l.contains("Subscribed to the jobs topics of " + thing),
          START_TIMEOUT);
      awaitOperation(gateway);

      Map<String, Instant> queued = new LinkedHashMap<>();
      long cpuBefore = 0;
      for (int i = -JOB_WARMUP; i < JOB_SAMPLES; i++) {
        if (i == 0) {
          cpuBefore = gateway.cpuMillis();
        }
        String job = "lat-" + (i + JOB_WARMUP);
        Instant q = Instant.now();
        jobs.queue(thing, job, DOCUMENT);
        jobs.awaitStatus(thing, job, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT);
        if (i >= 0) {
          queued.put(job, q);
        }
      }
      cpuPerJob(broker + ".gateway_cpu_per_job.sequential", gateway, cpuBefore, JOB_SAMPLES);
      Spread latency = Spread.of(latencies(jobs, thing, queued));
      figures.spread(broker + ".job_latency", latency);
      figures.add(broker + ".ratio", latency.medianMillis() / rtt.medianMillis(), "x");
      figures.add(broker + ".ratio_p99", latency.p99Millis() / rtt.p99Millis(), "x");
      breakdown(broker, jobs, thing, queued);
      Files.writeString(work.resolve(broker + "-one-requests.txt"), jobs.requestLog(thing));

      // Sequential throughput: the gateway always finds a job waiting, one execution at a time.
      Map<String, Instant> burst = new LinkedHashMap<>();
      long cpuBeforeBurst = gateway.cpuMillis();
      Map<String, Long> threadsBefore = gateway.threadCpuMillis();
      long driver = ProcessHandle.current().pid();
      long driverBefore = GantryProcess.cpuMillis(driver);
      Map<String, Long> driverThreadsBefore = GantryProcess.threadCpuMillis(driver);
      long brokerBefore = brokerPid < 0 ? 0 : GantryProcess.cpuMillis(brokerPid);
      long wallBefore = System.nanoTime();
      queueRange(jobs, thing, "tp-", 0, WINDOW, burst);
      keepQueued(jobs, thing, "tp-", burst);
      long wallMillis = (System.nanoTime() - wallBefore) / 1_000_000;
      long gatewayAfter = gateway.cpuMillis();
      long driverAfter = GantryProcess.cpuMillis(driver);
      long brokerAfter = brokerPid < 0 ? 0 : GantryProcess.cpuMillis(brokerPid);
      // -1 where there is no /proc to read
      if (Math.min(Math.min(cpuBeforeBurst, gatewayAfter), Math.min(driverBefore, driverAfter)) >= 0
          && Math.min(brokerBefore, brokerAfter) >= 0) {
        long gatewayMillis = gatewayAfter - cpuBeforeBurst;
        long driverMillis = driverAfter - driverBefore;
        long brokerMillis = brokerAfter - brokerBefore;
        figures.add(
            broker + ".gateway_cpu_per_job.one_thing",
            gatewayMillis / (double) THROUGHPUT_JOBS,
            "ms");
        figures.add(
            broker + ".driver_cpu_per_job.one_thing",
            driverMillis / (double) THROUGHPUT_JOBS,
            "ms");
        if (brokerPid >= 0) {
          figures.add(
              broker + ".broker_cpu_per_job.one_thing",
              brokerMillis / (double) THROUGHPUT_JOBS,
              "ms");
        }
        // Sequential jobs of one thing leave little to run in parallel: how much of the machine
        // the gateway, the service and the broker kept busy together.
        figures.add(
            broker + ".machine_busy.one_thing",
            (gatewayMillis + driverMillis + brokerMillis)
                / (double) (wallMillis * Runtime.getRuntime().availableProcessors()),
            "of all cores");
      }
      threadsPerJob(
          broker + ".gateway_cpu_per_job.one_thing.thread.",
          threadsBefore,
          gateway.threadCpuMillis(),
          THROUGHPUT_JOBS);
      threadsPerJob(
          broker + ".driver_cpu_per_job.one_thing.thread.",
          driverThreadsBefore,
          GantryProcess.threadCpuMillis(driver),
          THROUGHPUT_JOBS);
      throughput(broker + ".jobs_per_second.one_thing", jobs, Map.of(thing, burst));
      String warnings =
          gateway
              .output()
              .lines()
              .filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
              .limit(5)
              .collect(Collectors.joining("\n"));
      if (!warnings.isEmpty()) {
        figures.note("the gateway warned:\n" + warnings);
      }
      gateway.stop();
    }
  }

  /**
   * The gateway JVM's CPU time per job over a phase: with two cores shared by the broker, the
   * service and the gateway, CPU rather than the disk or the network may set the pace.
   */
  private void cpuPerJob(String name, GantryProcess gateway, long before, int jobCount)
      throws IOException {
    long after = gateway.cpuMillis();
    if (before >= 0 && after >= 0) {
      figures.add(name, (after - before) / (double) jobCount, "ms");
    }
  }

  /** The threads that used the most CPU per job, by name (Linux keeps 15 characters of it). */
  private void threadsPerJob(
      String prefix, Map<String, Long> before, Map<String, Long> after, int jobCount) {
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(8)
        .forEach(
            e ->
                figures.add(
                    prefix + e.getKey().trim().replaceAll("[^A-Za-z0-9_-]+", "_"),
                    e.getValue() / (double) jobCount,
                    "ms"));
  }

  private static void queueRange(
      TestJobsService jobs,
      String thing,
      String prefix,
      int from,
      int to,
      Map<String, Instant> queued) {
    for (int i = from; i < to; i++) {
      queued.put(prefix + i, Instant.now());
      jobs.queue(thing, prefix + i, DOCUMENT);
    }
  }

  /**
   * Keeps {@value #WINDOW} jobs waiting until {@value #THROUGHPUT_JOBS} were queued, and waits for
   * the last. A short queue rather than all jobs at once: the test service's cost per request grows
   * with the length of a thing's queue (it lists the pending jobs after every change), and a long
   * one would measure the service instead of the device.
   */
  private static void keepQueued(
      TestJobsService jobs, String thing, String prefix, Map<String, Instant> queued)
      throws InterruptedException {
    for (int i = 0; i < THROUGHPUT_JOBS; i++) {
      jobs.awaitStatus(thing, prefix + i, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT);
      if (i + WINDOW < THROUGHPUT_JOBS) {
        queueRange(jobs, thing, prefix, i + WINDOW, i + WINDOW + 1, queued);
      }
    }
  }

  private static List<String> measuredJobs() {
    return IntStream.range(JOB_WARMUP, JOB_WARMUP + JOB_SAMPLES).mapToObj(i -> "lat-" + i).toList();
  }

  /** Sequential jobs of 100 things served by one gateway, its workers as configured. */
  private void hundredThings(String broker, String url, TestJobsService jobs) throws Exception {
    List<String> things =
        IntStream.range(0, THINGS)
            .mapToObj(i -> String.format("bench-%s-h%03d", broker, i))
            .toList();
    Path home = runtimeWithOperation(work.resolve(broker + "-runtime"));
    Path config = Files.createDirectories(work.resolve(broker + "-config"));
    Path etc = GantryProcess.runtimeHome().resolve("etc");
    // Typed values (FileInstall's .config syntax): only a file whose values are all typed can
    // hold a list, so thing.name and data.dir are here too and the command line sets neither.
    Files.writeString(
        config.resolve("org.gantry.engine.cfg"),
        "thing.name = \""
            + things.get(0)
            + "\"\nthings = ["
            + things.subList(1, THINGS).stream()
                .map(t -> "\"" + t + "\"")
                .collect(Collectors.joining(","))
            + "]\ndata.dir = \""
            + home.resolve("data")
            + "\"\npoll.interval.seconds = I\"300\"\n");
    Files.writeString(
        config.resolve("org.gantry.transport.mqtt.cfg"),
        Files.readString(etc.resolve("org.gantry.transport.mqtt.cfg"))
            + "\nclient.id = "
            + things.get(0)
            + "\n");
    Files.copy(
        etc.resolve("org.ops4j.pax.logging.cfg"),
        config.resolve("org.ops4j.pax.logging.cfg"),
        StandardCopyOption.REPLACE_EXISTING);

    String subscribed = "Subscribed to the jobs topics of ";
    try (GantryProcess gateway =
        GantryProcess.startIn(
            home,
            broker + "-hundred",
            List.of("gateway", "--broker", url, "--config", config.toString()),
            GATEWAY_OPTS,
            null,
            List.of(subscribed, "ERROR", "Engine started", "' installed"))) {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (gateway.countMarked(l -> l.contains(subscribed)) < THINGS) {
        if (System.nanoTime() > deadline || !gateway.isAlive()) {
          throw new AssertionError(
              "the gateway of "
                  + THINGS
                  + " things did not subscribe for all:\n"
                  + gateway.output());
        }
        Thread.sleep(100);
      }
      awaitOperation(gateway);
      Map<String, Map<String, Instant>> queued = new LinkedHashMap<>();
      long cpuBefore = gateway.cpuMillis();
      for (int j = 0; j < JOBS_PER_THING; j++) {
        for (String t : things) {
          String job = "many-" + j;
          queued.computeIfAbsent(t, x -> new LinkedHashMap<>()).put(job, Instant.now());
          jobs.queue(t, job, DOCUMENT);
        }
      }
      for (String t : things) {
        for (String job : queued.get(t).keySet()) {
          jobs.awaitStatus(t, job, ExecutionStatus.SUCCEEDED, Duration.ofMinutes(2));
        }
      }
      throughput(broker + ".jobs_per_second." + THINGS + "_things", jobs, queued);
      cpuPerJob(
          broker + ".gateway_cpu_per_job." + THINGS + "_things",
          gateway,
          cpuBefore,
          THINGS * JOBS_PER_THING);
      gateway.stop();
    }
  }

  /** Jobs per second from the first job queued to the last terminal status accepted. */
  private void throughput(
      String name, TestJobsService jobs, Map<String, Map<String, Instant>> queued) {
    Instant first =
        queued.values().stream()
            .flatMap(m -> m.values().stream())
            .min(Instant::compareTo)
            .orElseThrow();
    Map<String, Instant> ended = acceptedTerminal(jobs.requests());
    Instant last = Instant.MIN;
    int n = 0;
    for (Map.Entry<String, Map<String, Instant>> t : queued.entrySet()) {
      for (String job : t.getValue().keySet()) {
        Instant e = ended.get(t.getKey() + "/" + job);
        if (e == null) {
          throw new AssertionError("no accepted terminal update of " + job + " of " + t.getKey());
        }
        last = e.isAfter(last) ? e : last;
        n++;
      }
    }
    Instant end = last;
    double seconds = Duration.between(first, end).toNanos() / 1e9;
    figures.add(name, n / seconds, "jobs/s");
    long requests =
        jobs.requests().stream()
            .filter(r -> queued.containsKey(r.thingName()))
            .filter(r -> !r.at().isBefore(first) && !r.at().isAfter(end))
            .count();
    figures.add(
        name.replace("jobs_per_second", "service_requests_per_second"),
        requests / seconds,
        "requests/s");
  }

  /** Queue time to the accepted terminal update, per job, as the service saw it. */
  static long[] latencies(TestJobsService jobs, String thing, Map<String, Instant> queued) {
    Map<String, Instant> ended = acceptedTerminal(jobs.requests());
    long[] out = new long[queued.size()];
    int i = 0;
    for (Map.Entry<String, Instant> e : queued.entrySet()) {
      Instant end = ended.get(thing + "/" + e.getKey());
      if (end == null) {
        throw new AssertionError("no accepted terminal update of " + e.getKey() + " of " + thing);
      }
      out[i++] = Duration.between(e.getValue(), end).toNanos();
    }
    return out;
  }

  private static Map<String, Instant> acceptedTerminal(List<Request> requests) {
    Map<String, Instant> out = new HashMap<>();
    for (Request r : requests) {
      if (r.kind() == JobsTopic.Kind.UPDATE
          && r.answer().equals("accepted")
          && r.request() instanceof UpdateRequest u
          && u.status().isTerminal()) {
        Instant before = out.put(r.thingName() + "/" + r.jobId(), r.at());
        assertEquals("two accepted terminal updates of " + r.jobId(), null, before);
      }
    }
    return out;
  }

  /**
   * Where a job's time goes, from the service's side: the request log shows when each request of
   * the gateway was answered. A job goes IN_PROGRESS with the start-next the gateway sends with the
   * report of the job before it, when it was queued by then; otherwise the gateway, idle, takes it
   * from the service's notify-next (which carries the execution and its document), or asks with a
   * describe of {@code $next} when none arrived in time, and sends IN_PROGRESS itself.
   */
  private void breakdown(
      String broker, TestJobsService jobs, String thing, Map<String, Instant> queued) {
    List<Request> log = jobs.requests().stream().filter(r -> thing.equals(r.thingName())).toList();
    List<Long> toInProgress = new ArrayList<>();
    List<Long> toSucceeded = new ArrayList<>();
    long requests = 0;
    long describes = 0;
    int pos = 0;
    for (Map.Entry<String, Instant> e : queued.entrySet()) {
      String job = e.getKey();
      Instant q = e.getValue();
      while (pos < log.size() && log.get(pos).at().isBefore(q)) {
        pos++;
      }
      Instant p = null;
      Instant s = null;
      long count = 0;
      long described = 0;
      for (int i = pos; i < log.size() && s == null; i++) {
        Request r = log.get(i);
        count++;
        if (r.isDescribe("$next")) {
          described++;
        } else if (p == null
            && (r.isUpdate(job, ExecutionStatus.IN_PROGRESS, "accepted") || r.isStartNextOf(job))) {
          p = r.at();
        } else if (r.isUpdate(job, ExecutionStatus.SUCCEEDED, "accepted")) {
          s = r.at();
        }
      }
      if (p == null || s == null) {
        figures.note("job " + job + ": no accepted start and SUCCEEDED update");
        continue;
      }
      toInProgress.add(Duration.between(q, p).toNanos());
      toSucceeded.add(Duration.between(p, s).toNanos());
      requests += count;
      describes += described;
    }
    int n = Math.max(1, toInProgress.size());
    figures.spread(broker + ".step.queued_to_in_progress", Spread.of(toArray(toInProgress)));
    figures.spread(broker + ".step.in_progress_to_succeeded", Spread.of(toArray(toSucceeded)));
    figures.add(broker + ".requests_per_job", (double) requests / n, "requests");
    figures.add(broker + ".describes_of_next_per_job", (double) describes / n, "requests");
  }

  private static long[] toArray(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  /** A private copy of the runtime, with the noop operation in its deploy/ when jobs name it. */
  private static Path runtimeWithOperation(Path target) throws IOException {
    Path home = privateRuntime(target);
    if (OPERATION.equals(NoopOperation.TYPE)) {
      NoopBundle.writeTo(Files.createDirectories(home.resolve("deploy")));
    }
    return home;
  }

  /** Waits for the engine's line saying the jobs' operation is installed (deploy/ is polled). */
  private static void awaitOperation(GantryProcess gateway) throws InterruptedException {
    gateway.awaitLine(
        "operation " + OPERATION + " installed",
        l -> l.contains("Operation '" + OPERATION + "' installed"),
        START_TIMEOUT);
  }

  /** A copy of the unpacked runtime whose data/ and deploy/ no other test shares. */
  static Path privateRuntime(Path target) throws IOException {
    Path source = GantryProcess.runtimeHome();
    try (Stream<Path> files = Files.walk(source)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path rel = source.relativize(p);
        if (rel.startsWith("data")) {
          continue;
        }
        Path to = target.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(
              p, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    return target;
  }
}
