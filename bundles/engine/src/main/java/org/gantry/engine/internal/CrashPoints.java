package org.gantry.engine.internal;

import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash points for the crash-recovery tests: when the JVM runs with {@code
 * -Dgantry.crash-at=<point>}, the engine kills its own process with SIGKILL the first time it
 * reaches that point, exactly as a power loss would stop it there (no shutdown hook, no flush). Off
 * unless the property names a point; an unknown name is refused at start so a typo cannot make a
 * test pass.
 */
final class CrashPoints {

  private static final Logger LOG = LoggerFactory.getLogger(CrashPoints.class);

  /** The system property that arms a crash point. */
  static final String PROPERTY = "gantry.crash-at";

  /** Where the engine can be made to crash, in the order an execution passes them. */
  enum Point {
    /** The ACTIVE journal entry is on disk; IN_PROGRESS not yet requested. */
    AFTER_START_JOURNAL("after-start-journal"),
    /** The service accepted IN_PROGRESS; the operation has not been called. */
    AFTER_IN_PROGRESS("after-in-progress"),
    /** The operation was called and has not returned. */
    IN_OPERATION("in-operation"),
    /** The terminal status is in the journal; not yet published. */
    AFTER_TERMINAL_JOURNAL("after-terminal-journal"),
    /** The terminal update was published; its answer not yet received. */
    AFTER_TERMINAL_PUBLISH("after-terminal-publish"),
    /** The service accepted the terminal status; the journal entry is not yet deleted. */
    AFTER_TERMINAL_ACCEPTED("after-terminal-accepted"),
    /**
     * start-next for the following job was published with the terminal update (the intent is in the
     * journal), and the runner has not taken its answer yet. Reached on the runner, so that nothing
     * else moves the execution on while the process is being killed.
     */
    AFTER_START_NEXT_PUBLISH("after-start-next-publish"),
    /** The service started the following job; the journal does not know it yet. */
    AFTER_START_NEXT_ACCEPTED("after-start-next-accepted"),
    /** The job start-next started has its entry in the journal; its operation not called yet. */
    AFTER_STARTED_JOURNAL("after-started-journal");

    private final String id;

    Point(String id) {
      this.id = id;
    }

    String id() {
      return id;
    }
  }

  private final Point armed;

  CrashPoints(Point armed) {
    this.armed = armed;
  }

  static CrashPoints none() {
    return new CrashPoints(null);
  }

  /** Reads {@value #PROPERTY}; throws for a name that is no crash point. */
  static CrashPoints fromSystemProperty() {
    String v = System.getProperty(PROPERTY);
    if (v == null || v.isBlank()) {
      return none();
    }
    Optional<Point> p =
        Arrays.stream(Point.values()).filter(x -> x.id().equals(v.trim())).findFirst();
    if (p.isEmpty()) {
      throw new IllegalArgumentException(
          PROPERTY
              + " names no crash point: '"
              + v
              + "'; known: "
              + Arrays.toString(Arrays.stream(Point.values()).map(Point::id).toArray()));
    }
    LOG.warn("Crash point {} is armed: this process will kill itself when it gets there", v);
    return new CrashPoints(p.get());
  }

  void reached(Point p) {
    if (p != armed) {
      return;
    }
    LOG.error("Crash point {} reached: killing this process with SIGKILL", p.id());
    long pid = ProcessHandle.current().pid();
    try {
      new ProcessBuilder("kill", "-9", Long.toString(pid))
          .inheritIO()
          .start()
          .waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      LOG.error("kill -9 failed; halting instead", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Runtime.getRuntime().halt(137);
  }
}
