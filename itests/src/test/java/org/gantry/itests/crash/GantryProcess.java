package org.gantry.itests.crash;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One {@code bin/gantry gateway} child process of the unpacked runtime, with its console output
 * collected line by line so that a test can wait for a line and show the output when it fails.
 *
 * <p>Only the newest {@value #KEPT_LINES} lines are kept: a benchmark's gateway logs several lines
 * per job, and the reader must keep draining the pipe or the gateway would block on its console.
 */
public final class GantryProcess implements AutoCloseable {

  /** The JVM options bin/gantry uses when GANTRY_JAVA_OPTS is not set; kept when it is. */
  public static final String DEFAULT_JAVA_OPTS =
      "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  private static final int KEPT_LINES = 5_000;

  private final Process process;
  private final Thread reader;
  private final ArrayDeque<String> lines = new ArrayDeque<>();
  private final List<String> marks = new ArrayList<>();
  private final List<String> marked = new ArrayList<>();
  private final PrintStream echo;
  private final String label;

  private GantryProcess(
      Process process, String label, PrintStream echo, List<String> markSubstrings) {
    this.process = process;
    this.label = label;
    this.echo = echo;
    this.marks.addAll(markSubstrings);
    this.reader = new Thread(this::readOutput, "gantry-output-" + label);
    this.reader.setDaemon(true);
    this.reader.start();
  }

  /**
   * The unpacked runtime the failsafe configuration names ({@code gantry.itest.runtime}).
   *
   * @return the runtime's home folder, with an executable {@code bin/gantry}
   * @throws IllegalStateException when the property is missing or the runtime was not unpacked
   */
  public static Path runtimeHome() {
    String dir = System.getProperty("gantry.itest.runtime");
    if (dir == null || dir.isBlank()) {
      throw new IllegalStateException(
          "System property gantry.itest.runtime is not set: run this through failsafe (mvn verify)");
    }
    Path home = Path.of(dir, "gantry");
    if (!Files.isExecutable(home.resolve("bin/gantry"))) {
      throw new IllegalStateException(
          home.resolve("bin/gantry")
              + " is missing or not executable: the runtime was not unpacked");
    }
    return home;
  }

  /**
   * Starts {@code bin/gantry gateway --broker URL --thing NAME --data DIR [--config DIR]}.
   *
   * @param label a short name for the output thread and echoed lines
   * @param brokerUrl {@code tcp://127.0.0.1:PORT}
   * @param thing the gateway's own thing
   * @param data the data folder (journal, configuration copy, Felix cache, logs)
   * @param config a folder of *.cfg files; null for the runtime's etc/
   * @param extraJavaOpts JVM options added after {@value #DEFAULT_JAVA_OPTS}, e.g. a crash point;
   *     empty for none
   * @param echo where to copy every line (prefixed with the label); null for nowhere
   * @param markSubstrings lines containing any of these are kept beyond the newest lines
   * @return the running process
   * @throws IOException when the process cannot be started
   */
  public static GantryProcess start(
      String label,
      String brokerUrl,
      String thing,
      Path data,
      Path config,
      String extraJavaOpts,
      PrintStream echo,
      List<String> markSubstrings)
      throws IOException {
    List<String> args = new ArrayList<>();
    args.addAll(List.of("gateway", "--broker", brokerUrl, "--thing", thing, "--data"));
    args.add(data.toString());
    if (config != null) {
      args.add("--config");
      args.add(config.toString());
    }
    return startIn(runtimeHome(), label, args, extraJavaOpts, echo, markSubstrings);
  }

  /**
   * Starts {@code HOME/bin/gantry ARGS}: for a private copy of the runtime, or options that {@link
   * #start} does not give.
   *
   * @param home the runtime's home folder
   * @param label a short name for the output thread and echoed lines
   * @param args the command line after {@code bin/gantry}
   * @param extraJavaOpts JVM options added after {@value #DEFAULT_JAVA_OPTS}; empty for none
   * @param echo where to copy every line; null for nowhere
   * @param markSubstrings lines containing any of these are kept beyond the newest lines
   * @return the running process
   * @throws IOException when the process cannot be started
   */
  public static GantryProcess startIn(
      Path home,
      String label,
      List<String> args,
      String extraJavaOpts,
      PrintStream echo,
      List<String> markSubstrings)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(home.resolve("bin/gantry").toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    String opts = (DEFAULT_JAVA_OPTS + " " + extraJavaOpts).trim();
    pb.environment().put("GANTRY_JAVA_OPTS", opts);
    return new GantryProcess(pb.start(), label, echo, markSubstrings);
  }

  /**
   * How many of the marked lines (those kept whatever their age) match.
   *
   * @param matches the condition
   * @return the count
   */
  public long countMarked(Predicate<String> matches) {
    synchronized (lines) {
      return marked.stream().filter(matches).count();
    }
  }

  /**
   * Waits for a line of output.
   *
   * @param what what the line means, for the failure message
   * @param matches the condition on the line
   * @param timeout how long to wait at most
   * @return the first retained line that matches
   * @throws AssertionError when no such line comes in time, or the process ends without it
   * @throws InterruptedException when interrupted
   */
  public String awaitLine(String what, Predicate<String> matches, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      while (true) {
        for (String l : marked) {
          if (matches.test(l)) {
            return l;
          }
        }
        for (String l : lines) {
          if (matches.test(l)) {
            return l;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !reader.isAlive()) {
          throw new AssertionError(
              "The gateway ("
                  + label
                  + ") printed no "
                  + what
                  + " within "
                  + timeout.toMillis()
                  + " ms"
                  + (process.isAlive() ? "" : " (it exited " + process.exitValue() + ")")
                  + ":\n"
                  + output());
        }
        TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
      }
    }
  }

  /**
   * Whether any retained line matches.
   *
   * @param matches the condition
   * @return true when one does
   */
  public boolean printed(Predicate<String> matches) {
    synchronized (lines) {
      return marked.stream().anyMatch(matches) || lines.stream().anyMatch(matches);
    }
  }

  /**
   * Waits for the process to end by itself.
   *
   * @param timeout how long to wait at most
   * @return the exit status
   * @throws AssertionError when it is still running after the timeout
   * @throws InterruptedException when interrupted
   */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          "The gateway ("
              + label
              + ") still runs after "
              + timeout.toMillis()
              + " ms:\n"
              + output());
    }
    // The rest of its output is still in the pipe: the reader ends at its end of file.
    reader.join(5_000);
    return process.exitValue();
  }

  /**
   * The CPU time the process has used so far, user and system, from {@code /proc/<pid>/stat}.
   *
   * @return milliseconds, or -1 where there is no /proc
   * @throws IOException when the process is gone
   */
  public long cpuMillis() throws IOException {
    return cpuMillis(process.pid());
  }

  /**
   * The CPU time any process has used so far, user and system, from {@code /proc/<pid>/stat}.
   *
   * @param pid the process
   * @return milliseconds, or -1 where there is no /proc
   * @throws IOException when the process is gone
   */
  public static long cpuMillis(long pid) throws IOException {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.isReadable(stat)) {
      return -1;
    }
    String s = Files.readString(stat);
    // Fields after the command name (which may hold spaces) start after the last ')'.
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ", -1);
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return ticks * 10; // USER_HZ is 100 on Linux
  }

  /**
   * CPU time per thread of the process so far, summed over threads whose names differ only in their
   * digits (the pool's workers together), from {@code /proc/<pid>/task}.
   *
   * @return milliseconds per thread name; empty where there is no /proc
   * @throws IOException when the folder cannot be listed
   */
  public Map<String, Long> threadCpuMillis() throws IOException {
    return threadCpuMillis(process.pid());
  }

  /**
   * CPU time per thread of any process, as {@link #threadCpuMillis()} reads it: the benchmark's own
   * JVM and the broker's are part of what one job costs.
   *
   * @param pid the process
   * @return milliseconds per thread name; empty where there is no /proc
   * @throws IOException when the folder cannot be listed
   */
  public static Map<String, Long> threadCpuMillis(long pid) throws IOException {
    Map<String, Long> out = new TreeMap<>();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (Stream<Path> all = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) all::iterator) {
        String s;
        try {
          s = Files.readString(t.resolve("stat"));
        } catch (IOException gone) {
          continue; // the thread ended between the listing and the read
        }
        String name = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')')).replaceAll("[0-9]+", "N");
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ", -1);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        out.merge(name, ticks * 10, Long::sum);
      }
    }
    return out;
  }

  /**
   * Whether the process still runs.
   *
   * @return true while it does
   */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * The retained output, marked lines first.
   *
   * @return the lines, one per line
   */
  public String output() {
    StringBuilder sb = new StringBuilder();
    synchronized (lines) {
      for (String l : marked) {
        sb.append("  (kept) ").append(l).append('\n');
      }
      for (String l : lines) {
        sb.append("  ").append(l).append('\n');
      }
    }
    return sb.toString();
  }

  /**
   * Stops the gateway: SIGTERM, and SIGKILL if it has not exited within 20 s.
   *
   * @return the exit status
   * @throws InterruptedException when interrupted
   */
  public int stop() throws InterruptedException {
    if (process.isAlive()) {
      // Not Process.destroy(): it closes our end of the output pipe, losing the last lines.
      process.toHandle().destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
    reader.join(5_000);
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** Kills the process at once (SIGKILL), as a test's clean-up does. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void readOutput() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String text;
      while ((text = in.readLine()) != null) {
        if (echo != null) {
          echo.println("[" + label + "] " + text);
        }
        synchronized (lines) {
          String line = text;
          if (marks.stream().anyMatch(line::contains)) {
            marked.add(line);
          }
          lines.addLast(line);
          if (lines.size() > KEPT_LINES) {
            lines.removeFirst();
          }
          lines.notifyAll();
        }
      }
    } catch (IOException e) {
      // The pipe closes when the process dies: what was read so far is what counts.
    } finally {
      synchronized (lines) {
        lines.notifyAll();
      }
    }
  }
}
