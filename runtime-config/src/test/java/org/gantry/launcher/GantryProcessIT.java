package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembled runtime run as an operator runs it: bin/gantry as a real process. */
class GantryProcessIT {

  private static final Pattern ERROR_LINE = Pattern.compile("^\\S+ ERROR ");
  private static final long STEP_SECONDS = 60;

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killLeftovers() throws Exception {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private record Result(int status, String out, String err) {}

  private Result run(Path cwd, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ProcessFixture.gantry().toString());
    command.addAll(List.of(args));
    return runCommand(cwd, command);
  }

  private Result runCommand(Path cwd, List<String> command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    Process p = pb.start();
    started.add(p);
    ProcessFixture.Lines out = new ProcessFixture.Lines(p.getInputStream(), "out");
    ProcessFixture.Lines err = new ProcessFixture.Lines(p.getErrorStream(), "err");
    if (!p.waitFor(STEP_SECONDS, TimeUnit.SECONDS)) {
      fail(
          command
              + " did not end within "
              + STEP_SECONDS
              + " s; output:\n"
              + out.text()
              + "\n"
              + err.text());
    }
    out.join();
    err.join();
    return new Result(p.exitValue(), out.text(), err.text());
  }

  @Test
  void helpExitsZero() throws Exception {
    Result r = run(tmp, "--help");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().startsWith("Usage: gantry COMMAND [OPTIONS]"), r.out());
    assertEquals("", r.err());
  }

  @Test
  void gatewayHelpExitsZeroAndNamesEveryOption() throws Exception {
    Result r = run(tmp, "gateway", "--help");
    assertEquals(0, r.status(), r.err());
    for (String option :
        List.of(
            "--broker URL", "--thing NAME", "--data DIR", "--config DIR", "--shell", "--help")) {
      assertTrue(r.out().contains(option), option);
    }
    assertTrue(
        r.out().contains("Default: " + AssemblyIT.assembly().toRealPath() + "/data"), r.out());
  }

  @Test
  void anUnknownOptionExitsTwoWithOneLineAndAHint() throws Exception {
    Result r = run(tmp, "gateway", "--bogus");
    assertEquals(2, r.status());
    assertEquals(
        "gantry: unknown option '--bogus' for gateway\nRun 'gantry gateway --help' for usage.",
        r.err());
    assertEquals("", r.out());
  }

  @Test
  void argumentsPassThroughTheScriptUnchanged() throws Exception {
    Result r = run(tmp, "gateway", "--thing", "two  spaces * $HOME");
    assertEquals(2, r.status());
    assertTrue(
        r.err().startsWith("gantry: bad --thing value: 'two  spaces * $HOME' is not a thing name"),
        r.err());
  }

  @Test
  void theScriptFindsItsHomeThroughSymlinks() throws Exception {
    Path links = Files.createDirectories(tmp.resolve("links"));
    Path first = Files.createSymbolicLink(links.resolve("gantry-abs"), ProcessFixture.gantry());
    // a relative link to the absolute one: two hops
    Path second = Files.createSymbolicLink(links.resolve("gantry"), Path.of("gantry-abs"));
    Result r = runCommand(tmp, List.of(second.toString(), "gateway", "--help"));
    assertEquals(0, r.status(), r.err());
    assertTrue(
        r.out().contains("Default: " + AssemblyIT.assembly().toRealPath() + "/etc"), r.out());
    assertTrue(Files.isSymbolicLink(first));
  }

  @Test
  void relativePathsMeanTheCallersDirectory() throws Exception {
    // no thing name anywhere: refused after the data folder was created, before anything runs
    Result r = run(tmp, "gateway", "--data", "rel-data", "--config", "rel-etc");
    assertEquals(2, r.status());
    assertEquals(
        "gantry: the config folder " + tmp.toRealPath().resolve("rel-etc") + " does not exist",
        r.err());
    assertTrue(
        Files.isDirectory(tmp.resolve("rel-data")),
        "created in the caller's directory, not in home");
  }

  @Test
  void gatewayStartsEveryBundleStaysUpAndStopsOnSigterm() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there, the transport must cope
    }
    Path data = tmp.resolve("data");
    List<FeatureBundle> bundles =
        FeaturesRepository.read(AssemblyIT.assembly().resolve("features.xml"))
            .bundles(Role.GATEWAY.features());
    long expectedStarted = bundles.stream().filter(FeatureBundle::start).count();

    long begin = System.nanoTime();
    Process p =
        new ProcessBuilder(
                ProcessFixture.gantry().toString(),
                "gateway",
                "--broker",
                "tcp://127.0.0.1:" + port,
                "--thing",
                "it-thing",
                "--data",
                data.toString())
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .start();
    started.add(p);
    ProcessFixture.Lines out = new ProcessFixture.Lines(p.getInputStream(), "gantry-out");

    String startedLine = out.await("framework started", Duration.ofSeconds(STEP_SECONDS));
    long startupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    assertTrue(startedLine != null, "no 'framework started' line; output:\n" + out.text());
    System.out.println(
        "gantry gateway start-up: process start to 'framework started' in "
            + startupMillis
            + " ms");
    assertTrue(
        startedLine.contains(": " + expectedStarted + " bundles started"),
        startedLine + "\n" + out.text());
    assertTrue(startedLine.contains(" INFO "), startedLine);

    // still up a while later, configuration applied through FileInstall (the log file appears)
    Path log = data.resolve("log/gantry.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.exists(log) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(
        Files.exists(log),
        "pax-logging took its configuration from data/config; output:\n" + out.text());
    Thread.sleep(1500);
    assertTrue(p.isAlive(), "the gateway stays up with no broker; output:\n" + out.text());

    Properties engine = new Properties();
    try (InputStream in = Files.newInputStream(data.resolve("config/org.gantry.engine.cfg"))) {
      engine.load(in);
    }
    assertEquals("it-thing", engine.getProperty("thing.name"));
    assertEquals(data.toString(), engine.getProperty("data.dir"));

    long sigterm = System.nanoTime();
    // SIGTERM through the handle: Process.destroy() would also close our end of its output
    assertTrue(p.toHandle().destroy(), "SIGTERM sent");
    assertTrue(
        p.waitFor(20, TimeUnit.SECONDS), "exits within 20 s of SIGTERM; output:\n" + out.text());
    System.out.println(
        "gantry gateway stop: SIGTERM to exit in "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm)
            + " ms");
    out.join();
    assertEquals(143, p.exitValue(), "the JVM's status after SIGTERM");
    assertTrue(out.await("framework stopped in", Duration.ofSeconds(1)) != null, out.text());

    List<String> errors =
        out.snapshot().stream().filter(l -> ERROR_LINE.matcher(l).find()).toList();
    assertEquals(List.of(), errors, "no ERROR line; output:\n" + out.text());
    assertFalse(out.text().contains("Exception in thread"), out.text());
  }
}
