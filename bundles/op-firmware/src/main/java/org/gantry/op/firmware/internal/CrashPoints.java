package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash points of the {@code firmware-update} pipeline, for the process-level crash tests: when the
 * JVM runs with {@code -Dgantry.firmware.crash-at=<point>}, the operation kills its own process
 * with SIGKILL the first time it reaches that point, as a power loss would stop it there (no
 * shutdown hook, no flush). The same mechanism as the engine's {@code gantry.crash-at}, under a
 * property of its own: the engine refuses names it does not know. Off unless the property names a
 * point; an unknown name stops the component from activating, so a typo cannot make a test pass.
 * One instance per component, built at activation; nothing static changes.
 */
final class CrashPoints {

  private static final Logger LOG = LoggerFactory.getLogger(CrashPoints.class);

  /** The system property that arms a crash point. */
  static final String PROPERTY = "gantry.firmware.crash-at";

  /** Where the pipeline can be made to crash, in the order an update passes them. */
  enum Point {
    /** The artifact is complete and checkpointed ({@code downloaded}); not verified yet. */
    AFTER_DOWNLOAD("firmware.after-download"),
    /** Digest and signature checked; nothing extracted or staged yet. */
    AFTER_VERIFY("firmware.after-verify"),
    /** The first file of an archive of several entries is written into the staging folder. */
    MID_EXTRACT("firmware.mid-extract"),
    /** The image is in the inactive slot and checkpointed ({@code staged}); not switched yet. */
    AFTER_STAGE("firmware.after-stage"),
    /** The {@code active} pointer names the new slot; the activation command has not started. */
    AFTER_SWITCH("firmware.after-switch"),
    /** The outcome is checkpointed; the result is not yet returned to the engine for reporting. */
    BEFORE_REPORT("firmware.before-report");

    private final String id;

    Point(String id) {
      this.id = id;
    }

    String id() {
      return id;
    }
  }

  private final Point armed;

  private CrashPoints(Point armed) {
    this.armed = armed;
  }

  /** No crash point armed: what every unit test and every gateway in the field uses. */
  static CrashPoints none() {
    return new CrashPoints(null);
  }

  /** Reads {@value #PROPERTY}. */
  static CrashPoints fromSystemProperty() {
    return of(System.getProperty(PROPERTY));
  }

  /**
   * The crash point a property value names; none for null or blank.
   *
   * @throws IllegalArgumentException for a name that is no crash point
   */
  static CrashPoints of(String value) {
    if (value == null || value.isBlank()) {
      return none();
    }
    Optional<Point> p =
        Arrays.stream(Point.values()).filter(x -> x.id().equals(value.trim())).findFirst();
    if (p.isEmpty()) {
      throw new IllegalArgumentException(
          PROPERTY
              + " names no crash point: '"
              + value
              + "'; known: "
              + Arrays.toString(Arrays.stream(Point.values()).map(Point::id).toArray()));
    }
    LOG.warn(
        "Crash point {} is armed: this process will kill itself when it gets there", p.get().id());
    return new CrashPoints(p.get());
  }

  /** Whether {@code p} is the armed point (for a test of the wiring). */
  boolean armed(Point p) {
    return p == armed;
  }

  /** Kills this process with SIGKILL when {@code p} is the armed point; else returns at once. */
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
