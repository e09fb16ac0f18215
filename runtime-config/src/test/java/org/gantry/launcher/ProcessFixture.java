package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Runs the assembled runtime's {@code bin/gantry} as real processes, the way a user does, and
 * cleans up after a test: every process it started is killed in {@link #close()}.
 */
final class ProcessFixture implements AutoCloseable {

  static final Pattern ERROR_LINE = Pattern.compile("^\\S+ ERROR ");
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private final Path cwd;
  private final List<Process> started = Collections.synchronizedList(new ArrayList<>());

  ProcessFixture(Path cwd) {
    this.cwd = cwd;
  }

  static Path gantry() {
    return AssemblyIT.assembly().resolve("bin/gantry");
  }

  /** Collects a stream's lines as they come, so a test can wait for one. */
  static final class Lines {
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;

    Lines(InputStream in, String name) {
      reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  lines.add("(reader failed: " + e + ")");
                }
              },
              name);
      reader.setDaemon(true);
      reader.start();
    }

    List<String> snapshot() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    String text() {
      return String.join("\n", snapshot());
    }

    /** The first line that contains {@code s}, waiting up to {@code timeout}; null if none. */
    String await(String s, Duration timeout) throws InterruptedException {
      return await(l -> l.contains(s), timeout);
    }

    String await(Predicate<String> p, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      do {
        for (String line : snapshot()) {
          if (p.test(line)) {
            return line;
          }
        }
        Thread.sleep(20);
      } while (System.nanoTime() < deadline);
      return null;
    }

    List<String> errors() {
      return snapshot().stream().filter(l -> ERROR_LINE.matcher(l).find()).toList();
    }

    void join() throws InterruptedException {
      reader.join(TimeUnit.SECONDS.toMillis(10));
    }
  }

  /** A long-running {@code bin/gantry} process and its output (stdout and stderr merged). */
  record Running(String name, Process process, Lines out) {

    /** Waits for a line; fails the test with the output so far if it does not come. */
    String expect(String contains, Duration timeout) throws InterruptedException {
      // A runtime whose bundles did not all start stays up but never gets there: fail at once.
      String line =
          out.await(
              l ->
                  l.contains(contains)
                      || (ERROR_LINE.matcher(l).find()
                          && l.contains("Launcher - framework started")),
              timeout);
      if (line != null && !line.contains(contains)) {
        fail(name + " did not start every bundle; output:\n" + out.text());
      }
      if (line == null) {
        fail(
            name
                + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
                + " did not log '"
                + contains
                + "' within "
                + timeout.toSeconds()
                + " s; output:\n"
                + out.text());
      }
      return line;
    }

    /** SIGTERM, then waits: the status the JVM exits with (143 after a clean stop). */
    int stop() throws InterruptedException {
      process.toHandle().destroy();
      assertTrue(
          process.waitFor(25, TimeUnit.SECONDS),
          name + " did not exit within 25 s of SIGTERM; output:\n" + out.text());
      out.join();
      return process.exitValue();
    }

    /** SIGKILL, as a power cut would: nothing of the process runs after it. */
    void kill() throws InterruptedException {
      process.toHandle().destroyForcibly();
      assertTrue(process.waitFor(10, TimeUnit.SECONDS), name + " survived SIGKILL");
      out.join();
    }
  }

  /** A finished command. */
  record Result(int status, String out, String err) {}

  Running start(String name, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(gantry().toString());
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    started.add(p);
    return new Running(name, p, new Lines(p.getInputStream(), name + "-out"));
  }

  /** Runs {@code bin/gantry args} to its end (failing the test after 60 s). */
  Result run(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(gantry().toString());
    command.addAll(List.of(args));
    return runCommand(command);
  }

  Result runCommand(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).directory(cwd.toFile()).start();
    started.add(p);
    Lines out = new Lines(p.getInputStream(), "out");
    Lines err = new Lines(p.getErrorStream(), "err");
    if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      fail(
          command
              + " did not end within "
              + COMMAND_TIMEOUT.toSeconds()
              + " s; output:\n"
              + out.text()
              + "\n"
              + err.text());
    }
    out.join();
    err.join();
    return new Result(p.exitValue(), out.text(), err.text());
  }

  /** Waits until the hub's management API answers and the hub is subscribed to its topics. */
  static void awaitHub(Running hub, URI api) throws InterruptedException {
    hub.expect(Demo.HUB_SUBSCRIBED, COMMAND_TIMEOUT);
    HubClient client = new HubClient(api);
    long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
    while (!client.answers()) {
      assertTrue(System.nanoTime() < deadline, "the management API never answered");
      Thread.sleep(50);
    }
  }

  /** Polls DescribeJobExecution until the execution is terminal; fails after {@code timeout}. */
  static HubClient.Execution awaitTerminal(
      HubClient hub, String thing, String jobId, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    HubClient.Execution x = null;
    while (System.nanoTime() < deadline) {
      try {
        x = hub.describeExecution(thing, jobId);
        if (x.terminal()) {
          return x;
        }
      } catch (HubException e) {
        if (e.status() != 0) {
          throw e; // a refusal is an answer; only an unreachable hub is waited out
        }
      }
      Thread.sleep(100);
    }
    fail(
        "job "
            + jobId
            + " on "
            + thing
            + " did not end within "
            + timeout.toSeconds()
            + " s; last seen: "
            + x);
    return x;
  }

  @Override
  public void close() throws InterruptedException {
    List<Process> all;
    synchronized (started) {
      all = List.copyOf(started);
    }
    for (Process p : all) {
      // the demo's hub and gateway first: they would outlive a killed parent
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
