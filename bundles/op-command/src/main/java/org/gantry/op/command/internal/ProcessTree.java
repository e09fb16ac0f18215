package org.gantry.op.command.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a process and everything it started. The process is started through {@code setsid} when that
 * program exists, so it leads a process group of its own: killing the group also reaches children
 * that were re-parented after their parent died, which a walk of {@link
 * ProcessHandle#descendants()} misses. Without {@code setsid} the walk is all there is.
 */
final class ProcessTree {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);

  private final Path setsid;
  private final Path kill;

  /**
   * @param setsid the setsid program, or null to start processes in the runtime's group
   * @param kill the kill program used to signal a group, or null
   */
  ProcessTree(Path setsid, Path kill) {
    this.setsid = setsid != null && kill != null ? setsid : null;
    this.kill = kill;
  }

  /** The command line that starts {@code argv} as the leader of a new process group. */
  List<String> wrap(List<String> argv) {
    if (setsid == null) {
      return argv;
    }
    List<String> out = new ArrayList<>(argv.size() + 1);
    out.add(setsid.toString());
    out.addAll(argv);
    return out;
  }

  /**
   * Asks the tree to stop (SIGTERM, which sudo relays to the command it runs as another user),
   * waits up to {@code grace}, then kills what is left (SIGKILL).
   */
  void kill(Process p, Duration grace) {
    List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
    signalGroup(p, "TERM");
    tree.forEach(ProcessHandle::destroy);
    p.destroy();
    long deadline = System.nanoTime() + grace.toNanos();
    try {
      while (System.nanoTime() < deadline && (p.isAlive() || anyAlive(tree))) {
        TimeUnit.MILLISECONDS.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    tree.addAll(p.descendants().toList());
    signalGroup(p, "KILL");
    tree.forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  private static boolean anyAlive(List<ProcessHandle> handles) {
    return handles.stream().anyMatch(ProcessHandle::isAlive);
  }

  private void signalGroup(Process p, String signal) {
    if (setsid == null) {
      return;
    }
    try {
      Process k =
          new ProcessBuilder(kill.toString(), "-s", signal, "--", "-" + p.pid())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!k.waitFor(5, TimeUnit.SECONDS)) {
        k.destroyForcibly();
      }
    } catch (IOException e) {
      LOG.warn("Could not signal the process group {}: {}", p.pid(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
