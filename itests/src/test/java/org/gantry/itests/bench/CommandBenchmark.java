package org.gantry.itests.bench;

import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.gantry.itests.bench.BenchPki.Identity;
import org.gantry.itests.bench.BenchPki.NoDelayTlsSocketFactory;
import org.gantry.itests.bench.Figures.Spread;
import org.gantry.itests.crash.GantryProcess;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Execution;
import org.gantry.protocol.ExecutionStatus;
import org.junit.Test;

/**
 * Issue 6's figure: the end-to-end latency of an AWS IoT Device Client {@code runCommand} job
 * ({@code echo hello}) over mutual TLS. Mosquitto with {@code require_certificate true} and a CA
 * made for the run, the test jobs service and the real runtime ({@code bin/gantry gateway}, a
 * private copy with the op-command bundle in {@code deploy/} and {@code run.command.enabled=true})
 * all connected with client certificates over {@code ssl://}.
 *
 * <p>Latency is what the service sees: from the moment the job is queued (notify-next published) to
 * the moment it accepts the SUCCEEDED update. Baselines from the same run: the bare MQTT
 * request/response round trip over the same TLS broker, spawning {@code echo hello} from Java
 * (directly, and through {@code setsid} as op-command does), and a {@code diagnostics} job (no
 * process) on the same gateway. Every command job must end SUCCEEDED with {@code exitCode} 0 and
 * the stdout tail {@code hello} in its statusDetails, or the benchmark fails: it measures real
 * work.
 *
 * <p>Prints one {@code name: value unit} line per figure and writes them to {@code
 * target/bench/command-bench.txt}. Not part of the normal suite: run it with the {@code
 * bench-command} profile (itests/README.md).
 */
public class CommandBenchmark {

  /** What the AWS IoT Device Client runs: one runCommand step, its stdout kept in statusDetails. */
  static final String ECHO_JOB =
      "{\"version\":\"1.0\",\"includeStdOut\":\"true\",\"steps\":[{\"action\":{"
          + "\"name\":\"echo\",\"type\":\"runCommand\",\"input\":{\"command\":\"echo,hello\"},"
          + "\"runAsUser\":\"\"}}]}";

  private static final String THING = "bench-cmd-tls";
  private static final String GATEWAY_OPTS = System.getProperty("gantry.bench.javaOpts", "");
  private static final int RTT_WARMUP = 500;
  private static final int RTT_SAMPLES = 2_000;
  private static final int SPAWN_WARMUP = 100;
  private static final int SPAWN_SAMPLES = 500;
  private static final int JOB_WARMUP = Integer.getInteger("gantry.bench.warmup", 1_000);
  private static final int JOB_SAMPLES = Integer.getInteger("gantry.bench.jobs", 500);
  private static final int DIAGNOSTICS_SAMPLES = 300;
  private static final int THROUGHPUT_JOBS = 500;
  private static final int WINDOW = 16;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration JOB_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(10);
  private static final Path SETSID = Path.of("/usr/bin/setsid");

  private final Figures figures = new Figures();
  private final List<String> commandJobs = new ArrayList<>();

  @Test
  public void runCommandEchoOverMutualTls() throws Exception {
    if (!Mosquitto.installed()) {
      String why =
          "Mosquitto is not installed ("
              + Mosquitto.BINARY
              + " is missing): this benchmark needs it for mutual TLS; install it with"
              + " `apt-get install -y mosquitto` (Debian/Ubuntu) and run it again";
      System.out.println("# " + why);
      throw new AssertionError(why);
    }
    Path work =
        Path.of(
            System.getProperty("gantry.itest.work"),
            "bench-command",
            LocalDateTime.now(ZoneOffset.UTC)
                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(work);
    figures.note(
        "Gantry runCommand benchmark (mutual TLS), "
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
            + "', journal fsync on, work folder "
            + work);
    figures.note("job document: " + ECHO_JOB);

    BenchPki pki = BenchPki.create(work.resolve("pki"));
    Identity broker = pki.issue("broker");
    Identity gatewayId = pki.issue(THING);
    Identity serviceId = pki.issue("jobs-service");
    Identity rttId = pki.issue("bench-rtt");

    try (Mosquitto mosquitto =
        Mosquitto.start(
            work.resolve("mosquitto"),
            new Mosquitto.TlsFiles(pki.caFile(), broker.certFile(), broker.keyFile()))) {
      String url = mosquitto.url();
      figures.note("Mosquitto at " + url + ", TLS only, require_certificate true");

      NoDelayTlsSocketFactory rttSockets = pki.sockets(rttId);
      Spread rtt =
          Spread.of(RoundTrip.measure(url, "cmd-tls", RTT_WARMUP, RTT_SAMPLES, rttSockets));
      figures.note("benchmark clients negotiated " + rttSockets.negotiated());
      figures.spread("tls.mqtt_round_trip", rtt);

      Spread spawn = Spread.of(spawnEcho(List.of("echo", "hello")));
      figures.spread("spawn.echo", spawn);
      Spread spawnSetsid = null;
      if (Files.isExecutable(SETSID)) {
        spawnSetsid = Spread.of(spawnEcho(List.of(SETSID.toString(), "echo", "hello")));
        figures.spread("spawn.setsid_echo", spawnSetsid);
      }

      NoDelayTlsSocketFactory serviceSockets = pki.sockets(serviceId);
      try (TestJobsService jobs = TestJobsService.start(url, serviceSockets)) {
        figures.note("the jobs service negotiated " + serviceSockets.negotiated());
        runGateway(work, pki, gatewayId, url, jobs, rtt, spawn, spawnSetsid);
      }
    }
    figures.write(
        Path.of(System.getProperty("gantry.bench.out", work.toString()), "command-bench.txt"));
  }

  private void runGateway(
      Path work,
      BenchPki pki,
      Identity gatewayId,
      String url,
      TestJobsService jobs,
      Spread rtt,
      Spread spawn,
      Spread spawnSetsid)
      throws Exception {
    Path home = EngineBenchmark.privateRuntime(work.resolve("runtime"));
    installOpCommand(home);
    logStepsAtDebug(home);
    // op-command refuses to activate unless its handler folder is ours with mode 700 exactly.
    Path handlers =
        Files.setPosixFilePermissions(
            Files.createDirectory(work.resolve("handlers")),
            PosixFilePermissions.fromString("rwx------"));
    Path config = Files.createDirectories(work.resolve("config"));
    try (DirectoryStream<Path> etc = Files.newDirectoryStream(home.resolve("etc"), "*.cfg")) {
      for (Path cfg : etc) {
        Files.copy(cfg, config.resolve(cfg.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.writeString(
        config.resolve("org.gantry.op.command.cfg"),
        "handler.dir = " + handlers + "\nrun.command.enabled = true\n");
    Path data = Files.createDirectories(work.resolve("data"));

    String subscribed = "Subscribed to the jobs topics of " + THING;
    String installed = "Operation 'command' installed";
    try (GantryProcess gateway =
        GantryProcess.startIn(
            home,
            "command",
            List.of(
                "gateway",
                "--broker",
                url,
                "--thing",
                THING,
                "--data",
                data.toString(),
                "--config",
                config.toString(),
                "--ca",
                pki.caFile().toString(),
                "--cert",
                gatewayId.certFile().toString(),
                "--key",
                gatewayId.keyFile().toString()),
            GATEWAY_OPTS,
            null,
            List.of("ERROR", "WARN", subscribed, installed))) {
      gateway.awaitLine("subscription line", l -> l.contains(subscribed), START_TIMEOUT);
      gateway.awaitLine("op-command installed", l -> l.contains(installed), START_TIMEOUT);

      // Warm-up, then the measured jobs, one at a time, each queued the moment the previous one is
      // SUCCEEDED at the service: its notify-next then races the service's notify-next of the empty
      // queue, which must not leave the gateway idle (it did before 1457663: itests/README.md).
      Map<String, Instant> queued = new LinkedHashMap<>();
      long cpuBefore = 0;
      for (int i = -JOB_WARMUP; i < JOB_SAMPLES; i++) {
        if (i == 0) {
          cpuBefore = gateway.cpuMillis();
        }
        String job = "echo-" + (i + JOB_WARMUP);
        Instant q = Instant.now();
        runOne(jobs, job, ECHO_JOB);
        if (i >= 0) {
          queued.put(job, q);
        }
      }
      long cpuAfter = gateway.cpuMillis();
      long[] nanos = EngineBenchmark.latencies(jobs, THING, queued);
      Spread latency = Spread.of(nanos);
      figures.spread("job_latency", latency);
      figures.add("ratio_to_round_trip", latency.medianMillis() / rtt.medianMillis(), "x");
      figures.add("ratio_to_round_trip_p99", latency.p99Millis() / rtt.p99Millis(), "x");
      figures.add("ratio_to_spawn", latency.medianMillis() / spawn.medianMillis(), "x");
      if (spawnSetsid != null) {
        figures.add(
            "ratio_to_setsid_spawn", latency.medianMillis() / spawnSetsid.medianMillis(), "x");
      }
      figures.add("jobs_per_second.sequential", jobsPerSecond(queued, nanos), "jobs/s");
      if (cpuBefore >= 0 && cpuAfter >= 0) {
        figures.add("gateway_cpu_per_job", (cpuAfter - cpuBefore) / (double) JOB_SAMPLES, "ms");
      }
      operationTimes(data.resolve("log").resolve("gantry.log"), queued, spawn);

      throughput(jobs);

      // The same gateway and connection with an operation that starts no process.
      Map<String, Instant> diag = new LinkedHashMap<>();
      for (int i = 0; i < DIAGNOSTICS_SAMPLES; i++) {
        String job = "diag-" + i;
        Instant q = Instant.now();
        jobs.queue(THING, job, EngineBenchmark.DIAGNOSTICS);
        jobs.awaitStatus(THING, job, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT);
        diag.put(job, q);
      }
      Spread diagnostics = Spread.of(EngineBenchmark.latencies(jobs, THING, diag));
      figures.spread("diagnostics_job_latency", diagnostics);
      figures.add(
          "command_minus_diagnostics.median",
          latency.medianMillis() - diagnostics.medianMillis(),
          "ms");

      checkEveryCommandJob(jobs);
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
      int status = gateway.stop();
      figures.note("gateway stopped with exit status " + status);
    }
  }

  /** Queues one echo job and waits for it to succeed with "hello" as its stdout tail. */
  private void runOne(TestJobsService jobs, String job, String document)
      throws InterruptedException {
    jobs.queue(THING, job, document);
    commandJobs.add(job);
    checkDetails(job, jobs.awaitStatus(THING, job, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT));
  }

  /**
   * Jobs per second with {@value #WINDOW} jobs kept waiting: the gateway always finds the next one,
   * as EngineBenchmark's one-thing throughput.
   */
  private void throughput(TestJobsService jobs) throws InterruptedException {
    Map<String, Instant> queued = new LinkedHashMap<>();
    for (int i = 0; i < Math.min(WINDOW, THROUGHPUT_JOBS); i++) {
      queueCommand(jobs, "tp-" + i, queued);
    }
    for (int i = 0; i < THROUGHPUT_JOBS; i++) {
      checkDetails(
          "tp-" + i, jobs.awaitStatus(THING, "tp-" + i, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT));
      if (i + WINDOW < THROUGHPUT_JOBS) {
        queueCommand(jobs, "tp-" + (i + WINDOW), queued);
      }
    }
    figures.add(
        "jobs_per_second.one_thing",
        jobsPerSecond(queued, EngineBenchmark.latencies(jobs, THING, queued)),
        "jobs/s");
  }

  private void queueCommand(TestJobsService jobs, String job, Map<String, Instant> queued) {
    queued.put(job, Instant.now());
    jobs.queue(THING, job, ECHO_JOB);
    commandJobs.add(job);
  }

  /** From the first job queued to the last terminal update accepted. */
  private static double jobsPerSecond(Map<String, Instant> queued, long[] latencyNanos) {
    Instant first = null;
    Instant last = null;
    int i = 0;
    for (Instant q : queued.values()) {
      Instant end = q.plusNanos(latencyNanos[i++]);
      first = first == null || q.isBefore(first) ? q : first;
      last = last == null || end.isAfter(last) ? end : last;
    }
    return queued.size() / (Duration.between(first, last).toNanos() / 1e9);
  }

  /** Every command job of the run, as the service has it at the end. */
  private void checkEveryCommandJob(TestJobsService jobs) {
    for (String job : commandJobs) {
      Execution e =
          jobs.execution(THING, job)
              .orElseThrow(() -> new AssertionError("the service has no job " + job));
      assertEquals("status of " + job, ExecutionStatus.SUCCEEDED, e.status());
      checkDetails(job, e);
    }
    figures.note(
        commandJobs.size()
            + " runCommand jobs ended SUCCEEDED with exitCode 0 and stdout 'hello' in"
            + " statusDetails");
  }

  /**
   * The job really ran {@code echo hello}: exit status 0 and its stdout tail as op-command reports
   * it (the final line break trimmed).
   */
  private static void checkDetails(String job, Execution e) {
    Map<String, String> d = e.statusDetails();
    if (!"0".equals(d.get("exitCode")) || !"hello".equals(d.get("stdout"))) {
      throw new AssertionError(
          "job "
              + job
              + " did not report echo's output (exitCode 0, stdout 'hello'): statusDetails "
              + d);
    }
  }

  /**
   * Spawns a program and reads its output to the end, as op-command does for a step; the program
   * must print {@code hello}.
   */
  private static long[] spawnEcho(List<String> command) throws IOException, InterruptedException {
    long[] nanos = new long[SPAWN_SAMPLES];
    for (int i = -SPAWN_WARMUP; i < SPAWN_SAMPLES; i++) {
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(SPAWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(SPAWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        throw new AssertionError(
            command + " did not end within " + SPAWN_TIMEOUT.toMillis() + " ms");
      }
      long t = System.nanoTime() - t0;
      if (p.exitValue() != 0 || !out.equals("hello\n")) {
        throw new AssertionError(command + " ended " + p.exitValue() + " printing '" + out + "'");
      }
      if (i >= 0) {
        nanos[i] = t;
      }
    }
    return nanos;
  }

  /**
   * The command step inside the gateway, from its log (millisecond stamps): "Running operation
   * 'command'" to "Operation 'command' ended", for the measured jobs.
   */
  private void operationTimes(Path log, Map<String, Instant> measured, Spread spawn)
      throws IOException {
    DateTimeFormatter stamp = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss,SSS");
    Map<String, Long> started = new HashMap<>();
    List<Long> gaps = new ArrayList<>();
    String mdcPrefix = "[" + THING + " ";
    for (String line : Files.readAllLines(log)) {
      int open = line.indexOf(mdcPrefix);
      int close = open < 0 ? -1 : line.indexOf(']', open);
      if (close < 0 || line.length() < 23) {
        continue;
      }
      String job = line.substring(open + mdcPrefix.length(), close);
      boolean start = line.contains("Running operation 'command'");
      boolean end = line.contains("Operation 'command' ended");
      if (!measured.containsKey(job) || !(start || end)) {
        continue;
      }
      long millis =
          LocalDateTime.parse(line.substring(0, 23), stamp)
              .atZone(ZoneId.systemDefault())
              .toInstant()
              .toEpochMilli();
      if (start) {
        started.put(job, millis);
      } else if (started.containsKey(job)) {
        gaps.add((millis - started.get(job)) * 1_000_000L);
      }
    }
    if (gaps.isEmpty()) {
      figures.note("the gateway's log has no command operation times of the measured jobs");
      return;
    }
    Spread op = Spread.of(gaps.stream().mapToLong(Long::longValue).toArray());
    figures.spread("engine_log.command_operation", op);
    figures.add("command_operation_ratio_to_spawn", op.medianMillis() / spawn.medianMillis(), "x");
  }

  private static String loadAverage() throws IOException {
    Path load = Path.of("/proc/loadavg");
    return Files.isReadable(load) ? Files.readString(load).trim() : "unknown";
  }

  /** Drops the op-command bundle the runtime ships in system/ into the private copy's deploy/. */
  private static void installOpCommand(Path home) throws IOException {
    String version = System.getProperty("gantry.itest.version");
    Path jar =
        home.resolve("system/org/gantry/org.gantry.op.command")
            .resolve(version)
            .resolve("org.gantry.op.command-" + version + ".jar");
    if (!Files.isRegularFile(jar)) {
      throw new IOException(jar + " is missing: the runtime zip has no op-command bundle");
    }
    Files.copy(
        jar,
        home.resolve("deploy").resolve(jar.getFileName()),
        StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * The engine logs a step's start and successful end at DEBUG (a job's INFO lines are its
   * IN_PROGRESS and its terminal report); {@link #operationTimes} reads those two lines, so the
   * private copy logs the step runner at DEBUG.
   */
  private static void logStepsAtDebug(Path home) throws IOException {
    Files.writeString(
        home.resolve("etc/org.ops4j.pax.logging.cfg"),
        "\n# CommandBenchmark: the step runner's start and end lines\n"
            + "log4j2.logger.steps.name = org.gantry.engine.internal.StepRunner\n"
            + "log4j2.logger.steps.level = DEBUG\n",
        StandardOpenOption.APPEND);
  }
}
