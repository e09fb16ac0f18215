package org.gantry.op.firmware.internal;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the configured activation and health commands: no shell, the slot folder and version
 * appended as arguments, output to a log file in the execution's work folder (a pipe nobody reads
 * could block the command), a timeout after which the process and its descendants are killed.
 */
final class Commands {

  /** How a command ended. */
  record Exit(int status, boolean timedOut, String tail) {
    boolean ok() {
      return !timedOut && status == 0;
    }

    String describe() {
      String how =
          timedOut ? "did not finish in time and was killed" : "exited with status " + status;
      return tail.isEmpty() ? how : how + "; its output ends: " + tail;
    }
  }

  private Commands() {}

  static Exit run(
      List<String> command,
      Path slot,
      String version,
      Map<String, String> env,
      Path log,
      Duration timeout)
      throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(command);
    argv.add(slot.toString());
    argv.add(version == null ? "" : version);
    ProcessBuilder pb =
        new ProcessBuilder(argv)
            .directory(slot.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return new Exit(-1, true, tail(log));
      }
      return new Exit(p.exitValue(), false, tail(log));
    } catch (InterruptedException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw e;
    }
  }

  /** The last 300 characters of the output, on one line. */
  private static String tail(Path log) {
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(300);
      ch.read(b, Math.max(0, ch.size() - 300));
      String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
      return Extractor.printable(s.strip().replace('\n', ' '));
    } catch (IOException e) {
      return "";
    }
  }
}
