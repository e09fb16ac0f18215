package org.gantry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Execution;
import org.gantry.protocol.ExecutionStatus;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The assembled runtime as a user runs it: {@code bin/gantry gateway --broker URL --thing NAME
 * --data DIR} as a child process, against a broker and the test jobs service in this JVM. Measures
 * how long the gateway takes from process start to its subscriptions and to its first finished job,
 * and checks that SIGTERM stops the framework cleanly.
 */
public class GatewayProcessIT {

  private static final String THING = "proc-thing";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

  private TestBroker broker;
  private TestJobsService jobs;
  private Process process;
  private final List<Line> lines = new ArrayList<>();

  /** One line the process printed, with when it was read (ns since the process was started). */
  private record Line(long nanos, String text) {}

  @Before
  public void startBrokerAndService() throws Exception {
    broker = TestBroker.start();
    jobs = TestJobsService.start(broker.url());
  }

  @After
  public void stopEverything() throws Exception {
    try {
      if (process != null) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } finally {
      if (jobs != null) {
        jobs.close();
      }
      if (broker != null) {
        broker.close();
      }
    }
  }

  @Test
  public void gatewayProcessRunsJobsAndStopsOnSigterm() throws Exception {
    Path home = runtimeHome();
    Path data =
        Files.createDirectories(
            Path.of(
                System.getProperty("gantry.itest.work"), "process", "data-" + System.nanoTime()));
    // Queued before the process starts: the first job's end marks a gateway that is fully up.
    jobs.queue(THING, "proc-diag-1", "{\"operation\":\"diagnostics\"}");

    ProcessBuilder pb =
        new ProcessBuilder(
                home.resolve("bin/gantry").toString(),
                "gateway",
                "--broker",
                broker.url(),
                "--thing",
                THING,
                "--data",
                data.toString())
            .redirectErrorStream(true);
    long started = System.nanoTime();
    process = pb.start();
    Thread reader = new Thread(() -> readOutput(started), "gantry-process-output");
    reader.setDaemon(true);
    reader.start();

    Line subscribed =
        awaitLine(
            "Subscribed to the jobs topics of " + THING,
            l -> l.contains("Subscribed to the jobs topics of " + THING));
    Execution first =
        jobs.awaitStatus(THING, "proc-diag-1", ExecutionStatus.SUCCEEDED, START_TIMEOUT);
    long firstSucceededMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    long subscribedMillis = TimeUnit.NANOSECONDS.toMillis(subscribed.nanos());
    assertTrue(
        first.statusDetails().toString(), first.statusDetails().containsKey("gantryVersion"));

    jobs.queue(THING, "proc-missing-1", "{\"operation\":\"no-such-operation\"}");
    Execution rejected =
        jobs.awaitStatus(
            THING, "proc-missing-1", ExecutionStatus.REJECTED, TestJobsService.patience());
    Map<String, String> details = rejected.statusDetails();
    assertEquals(details.toString(), "OPERATION_NOT_INSTALLED", details.get("reasonCode"));

    // Every line about a job carries the thing and the job id (MDC), as the runtime's layout
    // prints.
    awaitLine("a line of job proc-diag-1", l -> l.contains("[" + THING + " proc-diag-1]"));
    awaitLine("a line of job proc-missing-1", l -> l.contains("[" + THING + " proc-missing-1]"));

    // SIGTERM, as Process.destroy() sends it; but Process.destroy() also closes our end of the
    // child's stdout at once, and the lines of the shutdown would be lost.
    assertTrue(process.toHandle().destroy());
    long stopAsked = System.nanoTime();
    boolean exited = process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopAsked);
    assertTrue("the gateway did not exit within 20 s of SIGTERM:\n" + output(), exited);
    reader.join(5000);
    assertTrue(
        "the framework did not report a clean stop (exit status "
            + process.exitValue()
            + "):\n"
            + output(),
        output().contains("framework stopped in"));

    report(subscribedMillis, firstSucceededMillis, stopMillis, process.exitValue());
    // Moquette's telemetry is off: nothing in this JVM tried to reach beyond the loopback
    // interface.
    assertEquals(List.of(), broker.outboundAttempts());
  }

  private static Path runtimeHome() {
    Path home = Path.of(System.getProperty("gantry.itest.runtime"), "gantry");
    Path script = home.resolve("bin/gantry");
    assertTrue(
        script + " is missing: the gantry-runtime bin zip was not unpacked", Files.exists(script));
    assertTrue(script + " is not executable", Files.isExecutable(script));
    return home;
  }

  private void readOutput(long started) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String text;
      while ((text = in.readLine()) != null) {
        System.out.println("[gantry] " + text);
        synchronized (lines) {
          lines.add(new Line(System.nanoTime() - started, text));
          lines.notifyAll();
        }
      }
    } catch (IOException e) {
      // The stream closes when the process is killed: the output read so far is what counts.
    }
  }

  private Line awaitLine(String what, Predicate<String> matches) throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    synchronized (lines) {
      while (true) {
        for (Line l : lines) {
          if (matches.test(l.text())) {
            return l;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !process.isAlive() && lines.isEmpty()) {
          throw new AssertionError(
              "The gateway printed no "
                  + what
                  + " within "
                  + START_TIMEOUT.toSeconds()
                  + " s:\n"
                  + output());
        }
        TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.SECONDS.toNanos(1)));
      }
    }
  }

  private String output() {
    StringBuilder sb = new StringBuilder();
    synchronized (lines) {
      for (Line l : lines) {
        sb.append(l.text()).append('\n');
      }
    }
    return sb.toString();
  }

  /** Printed, and appended to target/itest-work/startup-times.txt to compare runs. */
  private static void report(long subscribed, long firstSucceeded, long stop, int exitValue)
      throws IOException {
    String line =
        String.format(
            "%s gateway process: start -> subscribed %d ms, start -> first job SUCCEEDED %d ms,"
                + " SIGTERM -> exit %d ms (exit status %d)%n",
            LocalDateTime.now(), subscribed, firstSucceeded, stop, exitValue);
    System.out.print(line);
    Files.writeString(
        Path.of(System.getProperty("gantry.itest.work"), "startup-times.txt"),
        line,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
