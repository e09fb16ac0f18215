package org.gantry.itests.firmware;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.gantry.itests.crash.GantryProcess;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Execution;
import org.gantry.itests.support.TestJobsService.Request;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.UpdateRequest;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Issue 9's process-level test (FAULTS 21): the assembled gateway (a private copy of the runtime
 * whose gateway role includes the feature gantry-op-firmware) runs a {@code firmware-update} job,
 * is killed with SIGKILL at one step of the pipeline, and is started again on the same data folder.
 * The service must end up with exactly one terminal status for the execution: the download resumes
 * with a Range request; an activation interrupted runs again and finishes; a health window
 * interrupted is run again and rolls back.
 *
 * <p>The steps between download and activation are reached through the operation's crash points
 * ({@code -Dgantry.firmware.crash-at=<point>}, the same mechanism as the engine's {@code
 * gantry.crash-at}): downloaded, verified, mid-extraction, staged, switched, and the outcome
 * checkpointed but not yet reported. There an older image (0.9.0) is active in slot-a; at the kill
 * slot-a is still active and whole (or, after the switch, slot-b is active and whole), and after
 * the restart slot-b holds the complete new image, or slot-a is active again after a rollback.
 */
public class FirmwareCrashIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int STALL_AT = 1024 * 1024;

  /** The operation's crash-point property (its CrashPoints.PROPERTY). */
  private static final String CRASH_PROPERTY = "gantry.firmware.crash-at";

  private static TestBroker broker;
  private static TestJobsService jobs;
  private static HttpServer http;
  private static ExecutorService httpThreads;
  private static byte[] healthy;
  private static byte[] unhealthy;

  /** Range headers of every request for the image, in order ("" for none). */
  private static final List<String> ranges = new CopyOnWriteArrayList<>();

  /** The path and query of every request for an image, in order. */
  private static final List<String> served = new CopyOnWriteArrayList<>();

  private static final Map<String, CountDownLatch> stalls = new ConcurrentHashMap<>();

  private GantryProcess gateway;

  @BeforeClass
  public static void start() throws Exception {
    broker = TestBroker.start();
    jobs = TestJobsService.start(broker.url());
    healthy = tarGz(true);
    unhealthy = tarGz(false);
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    httpThreads = Executors.newCachedThreadPool();
    http.setExecutor(httpThreads);
    http.createContext("/healthy.tar.gz", ex -> serve(ex, healthy));
    http.createContext("/unhealthy.tar.gz", ex -> serve(ex, unhealthy));
    http.start();
  }

  @AfterClass
  public static void stop() throws Exception {
    try {
      stalls.values().forEach(CountDownLatch::countDown);
      if (http != null) {
        http.stop(0);
        httpThreads.shutdownNow();
      }
      if (jobs != null) {
        jobs.close();
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  @After
  public void kill() {
    if (gateway != null) {
      gateway.close();
    }
  }

  /** Killed mid-download: the restarted gateway resumes at the checkpointed offset. */
  @Test
  public void killedWhileDownloadingResumesWithRangeAndSucceedsOnce() throws Exception {
    Path home = runtime("download");
    Files.writeString(home.resolve("work/release-activation"), "go");
    CountDownLatch stall = new CountDownLatch(1);
    stalls.put("/healthy.tar.gz", stall);
    String thing = "fw-download";
    gateway = start(home, thing, "armed");
    awaitOperation();
    jobs.queue(thing, "fw-1", document("/healthy.tar.gz", healthy));
    Path part = awaitFile(home, "artifact.part", p -> size(p) >= STALL_AT);
    gateway.close();
    stalls.remove("/healthy.tar.gz");
    stall.countDown();
    assertTrue("the part file survives the kill: " + part, Files.exists(part));

    gateway = start(home, thing, "restarted");
    jobs.awaitStatus(thing, "fw-1", ExecutionStatus.SUCCEEDED, TIMEOUT);
    assertOneTerminal(thing, "fw-1", ExecutionStatus.SUCCEEDED);
    String resumed = ranges.get(ranges.size() - 1);
    assertTrue(
        "the restarted download resumed with a Range request: " + ranges,
        resumed.matches("bytes=[1-9][0-9]*-"));
    assertEquals("slot-a", Files.readString(home.resolve("firmware/active")).trim());
  }

  /** Killed while the activation command runs: it runs again after the restart and finishes. */
  @Test
  public void killedWhileActivatingRunsTheActivationAgainAndSucceedsOnce() throws Exception {
    Path home = runtime("activate");
    String thing = "fw-activate";
    gateway = start(home, thing, "armed");
    awaitOperation();
    jobs.queue(thing, "fw-2", document("/healthy.tar.gz", healthy));
    awaitFile(home.resolve("work"), "activation-started", p -> true);
    gateway.close();
    Files.delete(home.resolve("work/activation-started"));

    gateway = start(home, thing, "restarted");
    awaitFile(home.resolve("work"), "activation-started", p -> true);
    Files.writeString(home.resolve("work/release-activation"), "go");
    jobs.awaitStatus(thing, "fw-2", ExecutionStatus.SUCCEEDED, TIMEOUT);
    assertOneTerminal(thing, "fw-2", ExecutionStatus.SUCCEEDED);
    assertEquals("slot-a", Files.readString(home.resolve("firmware/active")).trim());
    List<String> runs = Files.readAllLines(home.resolve("work/activations.log"));
    assertEquals("the activation ran before the kill and again after it: " + runs, 2, runs.size());
  }

  /** Killed in the health window of an unhealthy image: the restart rolls back, FAILED once. */
  @Test
  public void killedInTheHealthWindowRollsBackAndFailsOnce() throws Exception {
    Path home = runtime("health");
    Files.writeString(home.resolve("work/release-activation"), "go");
    String thing = "fw-health";
    gateway = start(home, thing, "armed");
    awaitOperation();
    jobs.queue(thing, "fw-3", document("/unhealthy.tar.gz", unhealthy));
    awaitFile(home.resolve("work"), "health-started", p -> true);
    gateway.close();

    gateway = start(home, thing, "restarted");
    Execution e = jobs.awaitStatus(thing, "fw-3", ExecutionStatus.FAILED, TIMEOUT);
    assertOneTerminal(thing, "fw-3", ExecutionStatus.FAILED);
    assertEquals("HEALTH_CHECK_FAILED", e.statusDetails().get("reasonCode"));
    assertFalse(
        "no slot is active after rolling back the first installation",
        Files.exists(home.resolve("firmware/active")));
  }

  /** Killed with the artifact complete but not verified: verified again from disk, no download. */
  @Test
  public void killedAfterTheDownloadVerifiesTheKeptFileAndSucceedsOnce() throws Exception {
    killedBeforeTheSwitch("firmware.after-download", "fw-4");
  }

  /** Killed after the hash and signature checks, nothing extracted: staged after the restart. */
  @Test
  public void killedAfterVerificationStagesAfterTheRestartAndSucceedsOnce() throws Exception {
    killedBeforeTheSwitch("firmware.after-verify", "fw-5");
  }

  /**
   * Killed after the first of the archive's two files is in the staging folder: the old slot is
   * active and whole at the kill, and the restart extracts into a fresh staging folder.
   */
  @Test
  public void killedMidExtractionStartsTheStagingAgainAndSucceedsOnce() throws Exception {
    Path home =
        killedBeforeTheSwitch(
            "firmware.mid-extract",
            "fw-6",
            h -> {
              Path staging = h.resolve("firmware/slot-b.staging");
              assertEquals(
                  "the first entry was written before the kill",
                  PAYLOAD,
                  Files.size(staging.resolve("image.bin")));
              assertFalse("the second entry was not", Files.exists(staging.resolve("healthy")));
            });
    assertFalse(Files.exists(home.resolve("firmware/slot-b.staging")));
  }

  /** Killed with the image in slot-b, not switched: the restart switches and activates. */
  @Test
  public void killedAfterStagingSwitchesAfterTheRestartAndSucceedsOnce() throws Exception {
    killedBeforeTheSwitch(
        "firmware.after-stage",
        "fw-7",
        h -> assertTrue(Files.exists(h.resolve("firmware/slot-b/healthy"))));
  }

  /** Killed with slot-b active, its activation not started: the restart activates it once. */
  @Test
  public void killedAfterTheSwitchActivatesAfterTheRestartAndSucceedsOnce() throws Exception {
    Path home = runtime("after-switch");
    String thing = "fw-after-switch";
    killAt(home, thing, "fw-8", "firmware.after-switch", "/healthy.tar.gz", healthy);
    assertEquals("slot-b", active(home));
    assertNewImage(home);
    assertFalse(
        "no activation ran before the kill", Files.exists(home.resolve("work/activations.log")));

    gateway = start(home, thing, "restarted");
    jobs.awaitStatus(thing, "fw-8", ExecutionStatus.SUCCEEDED, TIMEOUT);
    assertOneTerminal(thing, "fw-8", ExecutionStatus.SUCCEEDED);
    assertEquals("slot-b", active(home));
    assertNewImage(home);
    assertOldImage(home);
    assertEquals(1, Files.readAllLines(home.resolve("work/activations.log")).size());
  }

  /** Killed with SUCCEEDED checkpointed, not reported: reported once, nothing run again. */
  @Test
  public void killedBeforeReportingSuccessReportsItOnceWithoutActivatingAgain() throws Exception {
    Path home = runtime("report-ok");
    String thing = "fw-report-ok";
    killAt(home, thing, "fw-9", "firmware.before-report", "/healthy.tar.gz", healthy);
    assertEquals("slot-b", active(home));

    gateway = start(home, thing, "restarted");
    jobs.awaitStatus(thing, "fw-9", ExecutionStatus.SUCCEEDED, TIMEOUT);
    assertOneTerminal(thing, "fw-9", ExecutionStatus.SUCCEEDED);
    assertEquals("slot-b", active(home));
    assertNewImage(home);
    assertEquals(
        "the activation is not run again for a reported outcome",
        1,
        Files.readAllLines(home.resolve("work/activations.log")).size());
  }

  /** Killed with a rollback checkpointed, not reported: FAILED once, slot-a active again. */
  @Test
  public void killedBeforeReportingARollbackReportsFailedOnce() throws Exception {
    Path home = runtime("report-rollback");
    String thing = "fw-report-rollback";
    killAt(home, thing, "fw-10", "firmware.before-report", "/unhealthy.tar.gz", unhealthy);
    assertEquals("slot-a", active(home));
    int activations = Files.readAllLines(home.resolve("work/activations.log")).size();

    gateway = start(home, thing, "restarted");
    Execution e = jobs.awaitStatus(thing, "fw-10", ExecutionStatus.FAILED, TIMEOUT);
    assertOneTerminal(thing, "fw-10", ExecutionStatus.FAILED);
    assertEquals("HEALTH_CHECK_FAILED", e.statusDetails().get("reasonCode"));
    assertEquals("slot-a", active(home));
    assertOldImage(home);
    assertEquals(
        "nothing is run again for a reported outcome",
        activations,
        Files.readAllLines(home.resolve("work/activations.log")).size());
  }

  private static final int PAYLOAD = 3 * 1024 * 1024;

  private Path killedBeforeTheSwitch(String point, String job) throws Exception {
    return killedBeforeTheSwitch(point, job, h -> {});
  }

  /** What a test checks on the files at the kill. */
  private interface AtKill {
    void check(Path home) throws Exception;
  }

  /**
   * Kills the gateway at a point before the switch: at the kill the old image is active and whole;
   * after the restart the job SUCCEEDS once, the image was downloaded once, slot-b is active and
   * complete, slot-a still holds the old image, no staging folder is left.
   */
  private Path killedBeforeTheSwitch(String point, String job, AtKill atKill) throws Exception {
    String name = point.substring(point.indexOf('.') + 1);
    Path home = runtime(name);
    String thing = "fw-" + name;
    String url = killAt(home, thing, job, point, "/healthy.tar.gz", healthy);
    assertEquals("slot-a", active(home));
    assertOldImage(home);
    atKill.check(home);

    gateway = start(home, thing, "restarted");
    jobs.awaitStatus(thing, job, ExecutionStatus.SUCCEEDED, TIMEOUT);
    assertOneTerminal(thing, job, ExecutionStatus.SUCCEEDED);
    assertEquals("slot-b", active(home));
    assertNewImage(home);
    assertOldImage(home);
    assertFalse(Files.exists(home.resolve("firmware/slot-b.staging")));
    assertEquals(
        "the complete download was kept: one request for the image",
        1,
        served.stream().filter(url::endsWith).count());
    assertEquals(1, Files.readAllLines(home.resolve("work/activations.log")).size());
    return home;
  }

  /**
   * Puts version 0.9.0 into slot-a and makes it active, as an earlier update would have; starts the
   * gateway with {@code point} armed, queues the job for {@code path} and waits for the gateway to
   * die of SIGKILL at that point. Returns the image's path and query.
   */
  private String killAt(
      Path home, String thing, String job, String point, String path, byte[] image)
      throws Exception {
    Files.writeString(home.resolve("work/release-activation"), "go");
    Path slotA = Files.createDirectories(home.resolve("firmware/slot-a"));
    Files.writeString(slotA.resolve("old-image"), "0.9.0");
    Files.writeString(slotA.resolve("healthy"), "");
    Files.writeString(home.resolve("firmware/slot-a.properties"), "version=0.9.0\nsha256=00\n");
    Files.writeString(home.resolve("firmware/active"), "slot-a\n");
    gateway = start(home, thing, "armed", "-D" + CRASH_PROPERTY + "=" + point);
    awaitOperation();
    String url = path + "?job=" + job;
    jobs.queue(thing, job, document(url, image));
    int exit = gateway.awaitExit(TIMEOUT);
    assertEquals("the gateway should have died of SIGKILL:\n" + gateway.output(), 137, exit);
    assertTrue(
        "the gateway died, but not at crash point " + point + ":\n" + gateway.output(),
        gateway.printed(l -> l.contains("Crash point " + point + " reached")));
    assertTrue(
        "no terminal status was reported before the kill:\n" + jobs.requestLog(thing),
        jobs.execution(thing, job).orElseThrow().history().stream()
            .noneMatch(ExecutionStatus::isTerminal));
    return url;
  }

  private static String active(Path home) throws IOException {
    return Files.readString(home.resolve("firmware/active")).trim();
  }

  /** slot-a holds the old image, untouched. */
  private static void assertOldImage(Path home) throws IOException {
    Path slotA = home.resolve("firmware/slot-a");
    assertEquals("0.9.0", Files.readString(slotA.resolve("old-image")));
    try (Stream<Path> files = Files.list(slotA)) {
      assertEquals(2, files.count());
    }
  }

  /** slot-b holds the whole new image: both entries, the first at its full size. */
  private static void assertNewImage(Path home) throws IOException {
    Path slotB = home.resolve("firmware/slot-b");
    assertEquals(PAYLOAD, Files.size(slotB.resolve("image.bin")));
    assertTrue(Files.exists(slotB.resolve("healthy")));
    assertTrue(
        Files.readString(home.resolve("firmware/slot-b.properties")).contains("version=1.0.0"));
  }

  private static void assertOneTerminal(String thing, String job, ExecutionStatus status) {
    String log = jobs.requestLog(thing);
    List<Request> terminal =
        jobs.requests().stream()
            .filter(r -> thing.equals(r.thingName()) && r.isUpdate(job, null, ""))
            .filter(r -> ((UpdateRequest) r.request()).status().isTerminal())
            .toList();
    assertEquals(
        "accepted terminal updates:\n" + log,
        1,
        terminal.stream().filter(r -> r.answer().equals("accepted")).count());
    for (Request r : terminal) {
      assertEquals(
          "every terminal update asks for " + status + ":\n" + log,
          status,
          ((UpdateRequest) r.request()).status());
    }
    assertEquals(
        "the service saw QUEUED, IN_PROGRESS, " + status + " once each:\n" + log,
        List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, status),
        jobs.execution(thing, job).orElseThrow().history());
  }

  private static String document(String path, byte[] image) throws Exception {
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
    return "{\"operation\":\"firmware-update\",\"url\":\"http://127.0.0.1:"
        + http.getAddress().getPort()
        + path
        + "\",\"size\":"
        + image.length
        + ",\"sha256\":\""
        + sha
        + "\",\"version\":\"1.0.0\",\"format\":\"tar.gz\"}";
  }

  /** Serves the image with Range support; a path in {@link #stalls} stops after STALL_AT bytes. */
  private static void serve(HttpExchange ex, byte[] body) throws IOException {
    String range = ex.getRequestHeaders().getFirst("Range");
    ranges.add(range == null ? "" : range);
    served.add(ex.getRequestURI().toString());
    int from = 0;
    if (range != null && range.matches("bytes=\\d+-")) {
      from = Integer.parseInt(range.substring(6, range.length() - 1));
      ex.getResponseHeaders()
          .add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
      ex.sendResponseHeaders(206, body.length - from);
    } else {
      ex.sendResponseHeaders(200, body.length);
    }
    CountDownLatch stall = stalls.get(ex.getRequestURI().getPath());
    try (OutputStream out = ex.getResponseBody()) {
      if (stall != null && from < STALL_AT) {
        out.write(body, from, STALL_AT - from);
        out.flush();
        stall.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return;
      }
      out.write(body, from, body.length - from);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A tar.gz of 3 MB of random bytes, with the marker file the health command looks for. */
  private static byte[] tarGz(boolean withHealthyMarker) throws IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    byte[] payload = new byte[PAYLOAD];
    new Random(withHealthyMarker ? 1 : 2).nextBytes(payload);
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      writeTarEntry(gz, "image.bin", payload);
      if (withHealthyMarker) {
        writeTarEntry(gz, "healthy", new byte[0]);
      }
      gz.write(new byte[1024]);
    }
    return bytes.toByteArray();
  }

  /** One ustar entry; a test-side writer so that itests need no Commons Compress. */
  private static void writeTarEntry(OutputStream out, String name, byte[] content)
      throws IOException {
    byte[] h = new byte[512];
    put(h, 0, name);
    put(h, 100, "0000644");
    put(h, 108, "0000000");
    put(h, 116, "0000000");
    put(h, 124, String.format("%011o", content.length));
    put(h, 136, String.format("%011o", 0));
    java.util.Arrays.fill(h, 148, 156, (byte) ' ');
    h[156] = '0';
    put(h, 257, "ustar");
    put(h, 263, "00");
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, String.format("%06o", sum));
    h[154] = 0;
    h[155] = ' ';
    out.write(h);
    out.write(content);
    out.write(new byte[(512 - content.length % 512) % 512]);
  }

  private static void put(byte[] h, int at, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, at, b.length);
  }

  /**
   * A private copy of the unpacked runtime with the firmware feature in its gateway role and its
   * configuration: slots under home/firmware, an activation command that waits for a release file,
   * a health command that looks for the image's marker file; a short health window.
   */
  private static Path runtime(String name) throws IOException {
    Path source = GantryProcess.runtimeHome();
    Path home =
        Files.createDirectories(
            Path.of(
                System.getProperty("gantry.itest.work"),
                "firmware",
                name + "-" + System.nanoTime()));
    try (Stream<Path> files = Files.walk(source)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path rel = source.relativize(p);
        if (rel.startsWith("data")) {
          continue;
        }
        Path to = home.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(
              p, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    // The gateway role of this copy includes the firmware feature, so its bundles are installed
    // at start like the engine's; from deploy/ they could come after the engine resumes the job.
    Path features = home.resolve("features.xml");
    String xml = Files.readString(features);
    String diagnostics = "<feature name=\"gantry-op-diagnostics\"";
    int at = xml.indexOf('>', xml.indexOf(diagnostics)) + 1;
    Files.writeString(
        features,
        xml.substring(0, at) + "\n    <feature>gantry-op-firmware</feature>" + xml.substring(at));
    Path work = Files.createDirectories(home.resolve("work"));
    Path activate = work.resolve("activate.sh");
    Files.writeString(
        activate,
        "#!/bin/sh\n"
            + "echo \"$1 $2\" >> "
            + work.resolve("activations.log")
            + "\ntouch "
            + work.resolve("activation-started")
            + "\ni=0\nwhile [ ! -f "
            + work.resolve("release-activation")
            + " ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n");
    Path health = work.resolve("health.sh");
    Files.writeString(
        health,
        "#!/bin/sh\ntouch " + work.resolve("health-started") + "\ntest -f \"$1/healthy\"\n");
    for (Path script : List.of(activate, health)) {
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    }
    // FileInstall's typed syntax (for the arrays): then every value is typed.
    Files.writeString(
        home.resolve("etc/org.gantry.op.firmware.cfg"),
        "firmware.dir = \""
            + home.resolve("firmware")
            + "\"\ndownload.dir = \""
            + home.resolve("downloads")
            + "\"\nhttp.allowed = B\"true\"\n"
            + "download.checkpoint.bytes = L\"65536\"\n"
            + "activate.command = [\""
            + activate
            + "\"]\nhealth.command = [\""
            + health
            + "\"]\nhealth.window.seconds = I\"3\"\nhealth.interval.ms = I\"200\"\n");
    return home;
  }

  private GantryProcess start(Path home, String thing, String label) throws IOException {
    return start(home, thing, label, "");
  }

  private GantryProcess start(Path home, String thing, String label, String javaOpts)
      throws IOException {
    return GantryProcess.startIn(
        home,
        thing + "-" + label,
        List.of(
            "gateway",
            "--broker",
            broker.url(),
            "--thing",
            thing,
            "--data",
            home.resolve("data").toString()),
        javaOpts,
        System.out,
        List.of(
            "ERROR",
            "Crash point",
            "Operation 'firmware-update' installed",
            "Subscribed to the jobs topics"));
  }

  /**
   * The operation activates once FileInstall hands it its configuration, which may be after the
   * engine is up: a job queued before would be refused (OPERATION_NOT_INSTALLED).
   */
  private void awaitOperation() throws InterruptedException {
    gateway.awaitLine(
        "the firmware-update operation installed",
        l -> l.contains("Operation 'firmware-update' installed"),
        TIMEOUT);
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  /** Waits for a file of that name under {@code dir} that satisfies {@code ok}. */
  private Path awaitFile(Path dir, String name, java.util.function.Predicate<Path> ok)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      try (Stream<Path> files = Files.walk(dir)) {
        Path found =
            files
                .filter(p -> p.getFileName().toString().equals(name))
                .filter(ok)
                .findFirst()
                .orElse(null);
        if (found != null) {
          return found;
        }
      } catch (java.io.UncheckedIOException e) {
        // a file vanished while walking (the engine's temp files): look again
      }
      assertTrue("the gateway died:\n" + gateway.output(), gateway.isAlive());
      Thread.sleep(50);
    }
    throw new AssertionError(
        "no " + name + " under " + dir + " within " + TIMEOUT + ":\n" + gateway.output());
  }
}
