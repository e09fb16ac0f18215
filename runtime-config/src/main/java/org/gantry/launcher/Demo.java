package org.gantry.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * {@code gantry demo}: a hub and a gateway as two child processes of this one ({@code bin/gantry
 * hub}, {@code bin/gantry gateway}) on free loopback ports, sample jobs sent through the hub's
 * management API, each execution followed as it happens, then both processes stopped with SIGTERM.
 *
 * <p>Readiness is read from the children's console output: the hub is ready when its management API
 * answers and it logged its subscription to the device topics; the gateway when it logged its
 * subscription to its thing's jobs topics. Every wait has a deadline, and the children are stopped
 * on every way out, Ctrl-C included (a shutdown hook).
 */
final class Demo {

  /** The thing the demo's gateway serves. */
  static final String THING = "demo-gateway";

  /** Marker lines in the children's console output (logged by the hub and the engine bundles). */
  static final String HUB_SUBSCRIBED = "Subscribed to $aws/things/+/jobs/#";

  static final String GATEWAY_SUBSCRIBED = "Subscribed to the jobs topics of " + THING;

  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  static final Duration JOB_TIMEOUT = Duration.ofSeconds(30);
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(25);
  static final Duration POLL = Duration.ofMillis(200);

  private static final Pattern ERROR_LINE = Pattern.compile("^\\S+ ERROR ");

  /** A step's gantryVersion in a multi-step job: the engine prefixes the step's number. */
  static final Pattern STEP_FACT = Pattern.compile("([0-9]+)[^A-Za-z0-9]?gantryVersion");

  /**
   * One sample job and what must come of it.
   *
   * @param slug part of the job id
   * @param title what the job shows, for the reader
   * @param expectedStatus the terminal status it must reach
   * @param expectedReason the {@code reasonCode} its statusDetails must carry, or empty
   * @param expectedDetail a pattern of statusDetails keys of which {@code expectedCount} must be
   *     present, or empty
   */
  record Sample(
      String slug,
      String title,
      String document,
      String expectedStatus,
      Optional<String> expectedReason,
      Optional<Pattern> expectedDetail,
      int expectedCount) {

    /** Empty when the execution came out as expected, else what is wrong. */
    Optional<String> check(HubClient.Execution x) {
      if (!x.status().equals(expectedStatus)) {
        return Optional.of(
            "expected "
                + expectedStatus
                + ", got "
                + x.status()
                + " "
                + Format.details(x.statusDetails()));
      }
      if (expectedReason.isPresent()
          && !expectedReason.get().equals(x.statusDetails().get("reasonCode"))) {
        return Optional.of(
            "expected reasonCode "
                + expectedReason.get()
                + ", got "
                + x.statusDetails().getOrDefault("reasonCode", "none"));
      }
      if (expectedDetail.isPresent()) {
        long found =
            x.statusDetails().keySet().stream()
                .filter(k -> expectedDetail.get().matcher(k).matches())
                .count();
        if (found < expectedCount) {
          return Optional.of(
              "expected "
                  + (expectedCount == 1 ? "a key" : expectedCount + " keys")
                  + " like "
                  + expectedDetail.get()
                  + " in statusDetails, found "
                  + found);
        }
      }
      return Optional.empty();
    }
  }

  static final List<Sample> SAMPLES =
      List.of(
          new Sample(
              "diagnostics",
              "diagnostics: the gateway reports on itself, changing nothing",
              "{\"operation\": \"diagnostics\"}",
              "SUCCEEDED",
              Optional.empty(),
              Optional.of(Pattern.compile("gantryVersion")),
              1),
          new Sample(
              "firmware",
              "firmware-update: an operation no bundle on this gateway provides",
              "{\"operation\": \"firmware-update\", \"version\": \"2.1.0\"}",
              "REJECTED",
              Optional.of("OPERATION_NOT_INSTALLED"),
              Optional.of(Pattern.compile("reason")),
              1),
          new Sample(
              "two-steps",
              "two steps: diagnostics, then diagnostics again",
              "{\"steps\": [{\"operation\": \"diagnostics\"}, {\"operation\": \"diagnostics\"}]}",
              "SUCCEEDED",
              Optional.empty(),
              // each step's facts, its details prefixed with the step's number
              Optional.of(STEP_FACT),
              2),
          new Sample(
              "typo",
              "a mistyped parameter: diagnostics takes none, and says so before it runs",
              "{\"operation\": \"diagnostics\", \"verbos\": true}",
              "REJECTED",
              Optional.of("INVALID_PARAMETERS"),
              Optional.of(Pattern.compile("reason")),
              1));

  private final Path home;
  private final PrintStream out;
  private final PrintStream err;
  private final List<Child> children = new ArrayList<>();
  private final java.util.Set<Child> stopped = new java.util.HashSet<>();

  /** Set by the shutdown hook: from then on nothing new is started and every wait ends. */
  private volatile boolean stopping;

  private final long begin = System.nanoTime();

  /** A started runtime process and where its console output goes. */
  private record Child(String name, Process process, Path console) {}

  Demo(Path home, PrintStream out, PrintStream err) {
    this.home = home;
    this.out = out;
    this.err = err;
  }

  int run(Optional<Path> dataOption) {
    Path folder;
    try {
      folder =
          dataOption.isPresent()
              ? Files.createDirectories(dataOption.get())
              : Files.createTempDirectory("gantry-demo-");
    } catch (IOException | SecurityException e) {
      err.println(
          "gantry: cannot create the demo folder "
              + dataOption.map(Path::toString).orElse("in " + System.getProperty("java.io.tmpdir"))
              + ": "
              + e);
      return Main.USAGE;
    }
    Thread hook = new Thread(this::interrupted, "gantry-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    int status;
    try {
      status = demo(folder);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook runs and stops the children
      }
    }
    return status;
  }

  private int demo(Path folder) {
    int mqttPort;
    int apiPort;
    try {
      int[] ports = freePorts(2);
      mqttPort = ports[0];
      apiPort = ports[1];
    } catch (IOException e) {
      err.println("gantry: cannot find free ports on 127.0.0.1: " + e);
      return Main.FAILED;
    }
    URI api = URI.create("http://127.0.0.1:" + apiPort);
    HubClient hub = new HubClient(api);
    Path hubData = folder.resolve("hub");
    Path gatewayData = folder.resolve("gateway");

    say("Gantry demo: a hub and a gateway on this machine, 127.0.0.1 only");
    say("  folder   " + folder);
    boolean ok = true;
    try {
      Child hubProcess =
          start(
              "hub",
              folder.resolve("hub.console.log"),
              "hub",
              "--mqtt-port",
              Integer.toString(mqttPort),
              "--api-port",
              Integer.toString(apiPort),
              "--data",
              hubData.toString());
      Optional<String> hubProblem =
          await(hubProcess, s -> s.contains(HUB_SUBSCRIBED) && hub.answers(), START_TIMEOUT);
      if (hubProblem.isPresent()) {
        return failStart(hubProcess, hubProblem.get());
      }
      say(
          String.format(
              Locale.ROOT,
              "  hub      pid %d, MQTT tcp://127.0.0.1:%d, management API %s (ready after %s)",
              hubProcess.process().pid(),
              mqttPort,
              api,
              Format.elapsed(System.nanoTime() - begin)));

      Child gateway =
          start(
              "gateway",
              folder.resolve("gateway.console.log"),
              "gateway",
              "--broker",
              "tcp://127.0.0.1:" + mqttPort,
              "--thing",
              THING,
              "--data",
              gatewayData.toString());
      Optional<String> gatewayProblem =
          await(gateway, s -> s.contains(GATEWAY_SUBSCRIBED), START_TIMEOUT);
      if (gatewayProblem.isPresent()) {
        return failStart(gateway, gatewayProblem.get());
      }
      say(
          String.format(
              Locale.ROOT,
              "  gateway  pid %d, thing %s, subscribed to its jobs topics (after %s)",
              gateway.process().pid(),
              THING,
              Format.elapsed(System.nanoTime() - begin)));
      say("  logs     " + hubProcess.console() + ", " + gateway.console());

      HubClient.Thing thing = hub.createThing(THING);
      int expected = 0;
      for (int i = 0; i < SAMPLES.size(); i++) {
        if (runSample(hub, thing, i)) {
          expected++;
        } else {
          ok = false;
        }
      }
      say("");
      say(expected + " of " + SAMPLES.size() + " jobs reached their expected outcome.");
    } catch (HubException e) {
      say("gantry demo: the hub refused or did not answer: " + e.getMessage());
      ok = false;
    } catch (IOException e) {
      say(
          "gantry demo: "
              + (stopping
                  ? "interrupted; the hub and the gateway are being stopped"
                  : e.toString()));
      ok = false;
    }
    if (stopping) {
      // the shutdown hook stops the children and the JVM ends with it; nothing more to report
      return Main.FAILED;
    }
    ok &= stopAll();
    ok &= noErrors();
    say(
        "  logs     "
            + folder.resolve("hub.console.log")
            + ", "
            + folder.resolve("gateway.console.log")
            + " (and log/gantry.log in hub/, gateway/)");
    say(
        (ok ? "Demo finished" : "Demo FAILED")
            + " in "
            + Format.elapsed(System.nanoTime() - begin));
    return ok ? Main.OK : Main.FAILED;
  }

  /** Creates one sample job and follows its execution to the end; true if as expected. */
  private boolean runSample(HubClient hub, HubClient.Thing thing, int index)
      throws HubException, IOException {
    Sample sample = SAMPLES.get(index);
    String jobId = "demo-" + (index + 1) + "-" + sample.slug() + "-" + suffix();
    say("");
    say("[" + (index + 1) + "/" + SAMPLES.size() + "] " + sample.title());
    say("      job " + jobId + ", document " + sample.document());
    long created = System.nanoTime();
    hub.createJob(jobId, List.of(thing.arn()), sample.document(), "gantry demo: " + sample.title());
    HubClient.Execution last = null;
    long deadline = created + JOB_TIMEOUT.toNanos();
    while (true) {
      HubClient.Execution x = hub.describeExecution(THING, jobId);
      if (last == null
          || !x.status().equals(last.status())
          || x.versionNumber() != last.versionNumber()
          || !x.statusDetails().equals(last.statusDetails())) {
        say(progressLine(System.nanoTime() - created, x));
        last = x;
      }
      if (x.terminal()) {
        break;
      }
      if (System.nanoTime() > deadline) {
        say(
            "      => still "
                + x.status()
                + " after "
                + JOB_TIMEOUT.toSeconds()
                + " s: expected "
                + sample.expectedStatus());
        return false;
      }
      sleep(POLL);
    }
    Optional<String> problem = sample.check(last);
    if (problem.isPresent()) {
      say("      => NOT AS EXPECTED: " + problem.get());
      return false;
    }
    say("      => " + outcome(last));
    return true;
  }

  /** Details longer than this go one per line under their status line. */
  static final int INLINE_DETAILS = 100;

  /**
   * A change of the execution: time since the job was created, status, version, and its
   * statusDetails on the same line when short, else one per line beneath it.
   */
  static String progressLine(long elapsedNanos, HubClient.Execution x) {
    String head =
        String.format(
            Locale.ROOT,
            "      %8s  %-11s  version %d",
            "+" + Format.elapsed(elapsedNanos),
            x.status(),
            x.versionNumber());
    String details = Format.details(x.statusDetails());
    if (x.statusDetails().isEmpty()) {
      return head;
    }
    if (details.length() <= INLINE_DETAILS) {
      return head + "  " + details;
    }
    StringBuilder sb = new StringBuilder(head);
    new java.util.TreeMap<>(x.statusDetails())
        .forEach(
            (k, v) ->
                sb.append('\n')
                    .append(" ".repeat(19))
                    .append(k)
                    .append('=')
                    .append(Format.value(v)));
    return sb.toString();
  }

  /** The outcome in a sentence: the facts of a success, the reason of a refusal. */
  static String outcome(HubClient.Execution x) {
    Map<String, String> d = x.statusDetails();
    if (d.containsKey("reasonCode")) {
      return x.status()
          + ", as expected: "
          + d.get("reasonCode")
          + (d.containsKey("reason") ? ": " + d.get("reason") : "");
    }
    List<String> stepFacts =
        d.keySet().stream().filter(k -> STEP_FACT.matcher(k).matches()).sorted().toList();
    if (!stepFacts.isEmpty()) {
      String first = stepFacts.get(0);
      String prefix = first.substring(0, first.length() - "gantryVersion".length());
      return x.status()
          + ", as expected: "
          + stepFacts.size()
          + " steps, each reported Gantry "
          + d.get(first)
          + " and its operations ("
          + d.getOrDefault(prefix + "operations", "?")
          + ")";
    }
    if (d.containsKey("gantryVersion")) {
      return x.status()
          + ", as expected: Gantry "
          + d.get("gantryVersion")
          + " on Java "
          + d.getOrDefault("javaVersion", "?")
          + ", "
          + d.getOrDefault("os", "?")
          + ", up "
          + d.getOrDefault("uptimeSeconds", "?")
          + " s, "
          + Format.bytes(d.getOrDefault("freeDiskBytes", "?"))
          + " free; operations: "
          + d.getOrDefault("operations", "?");
    }
    return x.status() + ", as expected";
  }

  private Child start(String name, Path console, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(home.resolve("bin/gantry").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(console.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
    // Under the lock the hook takes: a process is either seen by the hook or never started.
    synchronized (children) {
      if (stopping) {
        throw new IOException("the demo is stopping");
      }
      Child child = new Child(name, pb.start(), console);
      children.add(child);
      return child;
    }
  }

  private static java.io.File nullDevice() {
    return new java.io.File("/dev/null");
  }

  /** Waits until {@code ready} holds for the console text; empty when it did, else why not. */
  private Optional<String> await(Child child, Predicate<String> ready, Duration timeout)
      throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String text = console(child);
      if (ready.test(text)) {
        return Optional.empty();
      }
      Optional<String> broken = startFailure(text);
      if (broken.isPresent()) {
        return Optional.of("the " + child.name() + " did not start every bundle");
      }
      if (!child.process().isAlive()) {
        return Optional.of(
            "the " + child.name() + " exited with status " + child.process().exitValue());
      }
      sleep(Duration.ofMillis(100));
    }
    return Optional.of(
        "the " + child.name() + " was not ready within " + timeout.toSeconds() + " s");
  }

  /**
   * The launcher's summary line when it reports bundles that did not start (an ERROR line): such a
   * runtime stays up but will never become ready, so there is no point waiting for it.
   */
  static Optional<String> startFailure(String console) {
    return console
        .lines()
        .filter(l -> ERROR_LINE.matcher(l).find() && l.contains("Launcher - framework started"))
        .findFirst();
  }

  private int failStart(Child child, String problem) {
    say("gantry demo: " + problem + "; the end of " + child.console() + ":");
    List<String> lines = console(child).lines().toList();
    for (String line : lines.subList(Math.max(0, lines.size() - 20), lines.size())) {
      say("  | " + line);
    }
    stopAll();
    return Main.FAILED;
  }

  private static String console(Child child) {
    try {
      return Files.readString(child.console(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * SIGTERM to each child not stopped yet, newest first (the gateway before its hub); true if all
   * stopped so. Synchronized: the shutdown hook may run it while the demo itself does.
   */
  private synchronized boolean stopAll() {
    List<Child> running;
    synchronized (children) {
      running = new ArrayList<>(children);
      running.removeAll(stopped);
      stopped.addAll(running);
    }
    boolean clean = true;
    for (int i = running.size() - 1; i >= 0; i--) {
      Child c = running.get(i);
      Process p = c.process();
      if (!p.isAlive()) {
        say("  " + c.name() + " had already exited with status " + p.exitValue());
        clean = false;
        continue;
      }
      long t = System.nanoTime();
      p.toHandle().destroy();
      boolean exited = waitFor(p, STOP_TIMEOUT);
      if (!exited) {
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(5));
        say(
            "  "
                + c.name()
                + " did not stop within "
                + STOP_TIMEOUT.toSeconds()
                + " s of SIGTERM: killed");
        clean = false;
      } else if (p.exitValue() != 143 && p.exitValue() != 0) {
        say("  " + c.name() + " stopped with status " + p.exitValue());
        clean = false;
      } else {
        say("  " + c.name() + " stopped (SIGTERM) in " + Format.elapsed(System.nanoTime() - t));
      }
    }
    return clean;
  }

  /** Every ERROR line of the children's console output, printed; true if there were none. */
  private boolean noErrors() {
    boolean none = true;
    List<Child> all;
    synchronized (children) {
      all = new ArrayList<>(children);
    }
    for (Child child : all) {
      String name = child.name();
      Path console = child.console();
      try {
        for (String line : Files.readAllLines(console, StandardCharsets.UTF_8)) {
          if (ERROR_LINE.matcher(line).find()) {
            if (none) {
              say("  errors logged:");
            }
            say("  | " + name + ": " + line);
            none = false;
          }
        }
      } catch (IOException e) {
        say("  cannot read " + console + ": " + e);
        none = false;
      }
    }
    return none;
  }

  /** The shutdown hook: on Ctrl-C (or SIGTERM) of the demo, stop what it started. */
  private void interrupted() {
    boolean any;
    synchronized (children) {
      stopping = true;
      any = children.stream().anyMatch(c -> !stopped.contains(c) && c.process().isAlive());
    }
    if (any) {
      err.println("gantry demo: interrupted; stopping the hub and the gateway");
      stopAll();
    }
  }

  private static boolean waitFor(Process p, Duration d) {
    try {
      return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    }
  }

  private void sleep(Duration d) throws IOException {
    if (stopping) {
      throw new IOException("the demo is stopping");
    }
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private void say(String line) {
    out.println(line);
    out.flush();
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private static String suffix() {
    return String.format(Locale.ROOT, "%04x", RANDOM.nextInt(0x10000));
  }

  /** Distinct free TCP ports on the loopback address, found by binding to port 0. */
  static int[] freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        // All held open at once, so the system hands out distinct ports.
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }
}
