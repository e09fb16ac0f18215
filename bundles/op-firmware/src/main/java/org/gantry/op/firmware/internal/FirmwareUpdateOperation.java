package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.op.firmware.internal.Fetch.Verified;
import org.gantry.op.firmware.internal.Request.Format;
import org.gantry.op.firmware.internal.Request.Kind;
import org.gantry.op.firmware.internal.Slots.Installed;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code firmware-update} operation: download (resumable, streamed SHA-256), verify (digest
 * and/or signature against the trust store), stage into the inactive slot of the A/B pair
 * (extracting tar, tar.gz or zip with caps, or copying a raw image), switch the {@code active}
 * pointer atomically, run the activation command, poll the health command for the health window,
 * and switch back when either fails. Each step is checkpointed: a restart mid-download resumes it,
 * a restart mid-activation runs the activation again (the command must be idempotent) and the
 * health window, then finishes or rolls back.
 */
@Component(
    service = JobOperation.class,
    property = JobOperation.TYPE + "=" + FirmwareUpdateOperation.OPERATION_TYPE,
    configurationPid = FirmwareConfig.PID,
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    immediate = true)
@Designate(ocd = FirmwareConfig.class)
public final class FirmwareUpdateOperation implements JobOperation {

  static final String OPERATION_TYPE = "firmware-update";

  static final String CP_STAGED = "staged";
  static final String CP_ACTIVATING = "activating";
  static final String CP_HOOK_DONE = "activation.done";
  static final String CP_HOOK_RUNS = "activation.runs";

  /**
   * Starts of the activation command after which a restart goes straight to the health window: an
   * activation that restarts the gateway itself (it replaced the runtime) must not loop.
   */
  static final int MAX_ACTIVATION_RUNS = 2;

  static final String CP_ACTIVATED = "activated";
  static final String CP_ROLLED_BACK = "rolledBack";

  private static final Logger LOG = LoggerFactory.getLogger(FirmwareUpdateOperation.class);
  private static final Duration LOCK_WAIT = Duration.ofSeconds(30);

  private final Settings settings;
  private final Slots slots;
  private final Fetch fetch;
  private final Extractor extractor;
  private final Disk disk;
  private final CrashPoints crash;

  /** One staging or activation at a time: the slots are shared by every thing of the gateway. */
  private final ReentrantLock slotLock = new ReentrantLock();

  /**
   * Creates the operation.
   *
   * @param config its configuration
   * @throws IllegalArgumentException naming the property when the configuration is unusable
   */
  @Activate
  public FirmwareUpdateOperation(FirmwareConfig config) {
    this(Settings.of(config), Disk.DEFAULT, CrashPoints.fromSystemProperty());
  }

  FirmwareUpdateOperation(Settings settings) {
    this(settings, Disk.DEFAULT, CrashPoints.none());
  }

  /** With the file system staging writes to; a test gives one that fills up. */
  FirmwareUpdateOperation(Settings settings, Disk disk) {
    this(settings, disk, CrashPoints.none());
  }

  /**
   * With the file system staging writes to and the crash point armed ({@link CrashPoints}, from a
   * system property at activation; none in unit tests).
   */
  FirmwareUpdateOperation(Settings settings, Disk disk, CrashPoints crash) {
    this.settings = settings;
    this.disk = disk;
    this.crash = crash;
    try {
      Files.createDirectories(settings.firmwareDir());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "firmware.dir: cannot create " + settings.firmwareDir() + ": " + e, e);
    }
    this.slots = new Slots(settings.firmwareDir());
    try {
      slots.active();
    } catch (IOException e) {
      throw new IllegalArgumentException("firmware.dir: " + e.getMessage(), e);
    }
    this.fetch = new Fetch(settings, new Verifier(settings), crash);
    this.extractor = new Extractor(settings.limits(), disk, crash);
    LOG.info(
        "Firmware operation ready: firmware.dir={}, trust.store={}, signature.required={},"
            + " allow.unverified={}",
        settings.firmwareDir(),
        settings.trustStore() == null ? "(none)" : settings.trustStore(),
        settings.signatureRequired(),
        settings.allowUnverified());
  }

  @Override
  public void validate(JobParameters parameters) throws OperationException {
    Request r = Request.of(parameters, Kind.FIRMWARE_UPDATE, settings);
    checkNewer(r, r.sha256());
  }

  @Override
  public OperationResult execute(OperationContext context) throws OperationException {
    try (Mdc mdc = Mdc.of(context)) {
      Step ctx = Step.of(context);
      Request r = Request.of(ctx.parameters(), Kind.FIRMWARE_UPDATE, settings);
      Optional<String> activated = ctx.checkpoint(CP_ACTIVATED);
      if (activated.isPresent()) {
        LOG.info("The update was activated before the restart; reporting success");
        return OperationResult.succeeded(Map.of("slot", activated.get()));
      }
      Optional<String> rolledBack = ctx.checkpoint(CP_ROLLED_BACK);
      if (rolledBack.isPresent()) {
        return rolledBackResult(rolledBack.get());
      }
      boolean resumingActivation = ctx.checkpoint(CP_ACTIVATING).isPresent();
      boolean staged = ctx.checkpoint(CP_STAGED).isPresent();
      Verified v = null;
      if (!resumingActivation && !staged) {
        checkNewer(r, r.sha256());
        v = fetch.verified(ctx, r, Kind.FIRMWARE_UPDATE);
        crash.reached(CrashPoints.Point.AFTER_VERIFY);
      }
      lock(ctx);
      try {
        if (resumingActivation) {
          String[] a = ctx.checkpoint(CP_ACTIVATING).get().split(" ", 2);
          String previous = a[1].equals("none") ? null : a[1];
          LOG.info("Resuming the activation of {} after a restart", a[0]);
          slots.activate(a[0]);
          return activation(ctx, r, a[0], previous);
        }
        String slot;
        if (staged) {
          slot = ctx.checkpoint(CP_STAGED).get();
        } else {
          checkNewer(r, v.sha256());
          slot = stage(ctx, r, v);
          crash.reached(CrashPoints.Point.AFTER_STAGE);
        }
        Optional<String> previous = slots.active();
        ctx.checkpoint(CP_ACTIVATING, slot + " " + previous.orElse("none"));
        slots.activate(slot);
        LOG.info("Switched the active slot from {} to {}", previous.orElse("none"), slot);
        crash.reached(CrashPoints.Point.AFTER_SWITCH);
        return activation(ctx, r, slot, previous.orElse(null));
      } catch (IOException e) {
        throw Downloader.storage("updating the slots in " + settings.firmwareDir(), e);
      } finally {
        slotLock.unlock();
      }
    }
  }

  private void lock(Step ctx) throws OperationFailure {
    try {
      if (!slotLock.tryLock(LOCK_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw FirmwareReason.SLOTS_BUSY.fail(
            "Another firmware update held the slots for more than "
                + LOCK_WAIT.toSeconds()
                + " s; try again when it has finished.");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FirmwareReason.CANCELLED.fail("The gateway stopped while waiting for the slots.", e);
    }
  }

  /** Refuses a version that is not newer than the active one, or an image already in a slot. */
  private void checkNewer(Request r, byte[] sha256) throws OperationException {
    if (r.allowDowngrade()) {
      return;
    }
    try {
      Optional<Installed> active = slots.activeInstalled();
      if (active.isEmpty()) {
        return;
      }
      String current = active.get().version();
      if (r.version() != null && current != null) {
        if (Versions.ORDER.compare(r.version(), current) <= 0) {
          throw FirmwareReason.VERSION_NOT_NEWER.fail(
              "Version "
                  + r.version()
                  + " is not newer than the active "
                  + current
                  + "; set \"allowDowngrade\": true to install it anyway.");
        }
        return;
      }
      if (sha256 == null) {
        return;
      }
      String hex = HexFormat.of().formatHex(sha256);
      for (String slot : List.of(Slots.A, Slots.B)) {
        Optional<Installed> in = slots.installed(slot);
        if (in.isPresent() && hex.equals(in.get().sha256())) {
          throw FirmwareReason.ALREADY_INSTALLED.fail(
              "This image (sha256 "
                  + hex
                  + ") is already in "
                  + slot
                  + (slot.equals(active.get().slot()) ? " (active)" : " (previous)")
                  + "; a replayed document is refused unless it sets \"allowDowngrade\": true.");
        }
      }
    } catch (IOException e) {
      throw Downloader.storage("reading the slots in " + settings.firmwareDir(), e);
    }
  }

  /**
   * Puts the verified artifact into the inactive slot; returns the slot's name. The image is
   * written into {@code <slot>.staging} and renamed to the slot only when complete; a failure on
   * the way (a full disk above all) deletes the staging folder and whatever of the new slot exists,
   * so that nothing half-written can be activated, and leaves the active slot alone.
   */
  private String stage(Step ctx, Request r, Verified v) throws IOException, OperationException {
    String slot = slots.inactive();
    Path staging = slots.staging(slot);
    Folders.deleteTree(staging);
    ctx.progress("staging", 100, Map.of("slot", slot));
    long bytes;
    int entries;
    try {
      if (r.format() == Format.RAW) {
        Files.createDirectories(staging);
        Path image = staging.resolve(r.imageName());
        copyDurably(v.file(), image);
        Folders.fsyncDir(staging);
        bytes = v.size();
        entries = 1;
      } else {
        Extractor.Extracted x = extractor.extract(v.file(), r.format(), staging, ctx);
        bytes = x.bytes();
        entries = x.entries();
      }
    } catch (IOException e) {
      Folders.deleteQuietly(staging);
      throw stagingFailed(
          r,
          slot,
          Downloader.storage("writing the image", e),
          "writing the image: " + Downloader.reason(e));
    } catch (OperationFailure e) {
      Folders.deleteQuietly(staging);
      throw stagingFailed(r, slot, e, clause(e.getMessage()));
    }
    try {
      slots.forget(slot);
      Folders.deleteTree(slots.folder(slot));
      Files.move(staging, slots.folder(slot), StandardCopyOption.ATOMIC_MOVE);
      Folders.fsyncDir(settings.firmwareDir());
      slots.describe(slot, r.version(), v.sha256Hex());
    } catch (IOException e) {
      // The slot's previous image is gone already: leave the slot empty rather than undescribed.
      Folders.deleteQuietly(staging);
      Folders.deleteQuietly(slots.folder(slot));
      throw stagingFailed(
          r,
          slot,
          Downloader.storage("putting the image into " + slot, e),
          "putting the image into " + slot + ": " + Downloader.reason(e));
    }
    ctx.checkpoint(CP_STAGED, slot);
    Folders.deleteQuietly(v.file());
    LOG.info("Staged version {} into {}: {} entries, {} bytes", r.version(), slot, entries, bytes);
    return slot;
  }

  /**
   * A write failure while staging, said in terms of the slots: nothing was activated, the partial
   * image was removed, and which slot is still active. Other failures (a refused archive) pass.
   */
  private OperationFailure stagingFailed(
      Request r, String slot, OperationFailure e, String detail) {
    if (e.code() != FirmwareReason.DISK_FULL && e.code() != FirmwareReason.STORAGE_ERROR) {
      return e;
    }
    String active;
    try {
      active = slots.active().map(a -> a + " stays active").orElse("no slot is active yet");
    } catch (IOException io) {
      active = "the active slot could not be read back (" + io.getMessage() + ")";
    }
    String what =
        e.code() == FirmwareReason.DISK_FULL
            ? "The disk filled up while staging "
            : "A write failed while staging ";
    String message =
        what
            + (r.version() == null ? "the image" : "version " + r.version())
            + " into "
            + slot
            + " ("
            + detail
            + "); nothing was activated, the partial "
            + slot
            + " was removed, and "
            + active
            + ".";
    LOG.warn("{}", message);
    return e.code().fail(message, e);
  }

  /** A sentence made a clause: lower-case start, no final period. */
  private static String clause(String sentence) {
    String s = sentence.endsWith(".") ? sentence.substring(0, sentence.length() - 1) : sentence;
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  /** Copies a raw image through {@link #disk}, synced; the target must not exist. */
  private void copyDurably(Path from, Path to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
    try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
        FileChannel out = disk.createNew(to)) {
      while (in.read(buf) >= 0) {
        buf.flip();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        buf.clear();
      }
      out.force(true);
    }
  }

  /** Runs the activation command and the health window; switches back when either fails. */
  private OperationResult activation(Step ctx, Request r, String slot, String previous)
      throws OperationException {
    Path folder = slots.folder(slot);
    int runs = ctx.checkpoint(CP_HOOK_RUNS).map(Integer::parseInt).orElse(0);
    Map<String, String> env =
        Map.of(
            "GANTRY_SLOT", slot,
            "GANTRY_FIRMWARE_DIR", settings.firmwareDir().toString(),
            "GANTRY_JOB_ID", ctx.jobId(),
            "GANTRY_THING_NAME", ctx.thingName(),
            "GANTRY_ACTIVATION_RUN", Integer.toString(runs + 1));
    try {
      boolean pending =
          ctx.checkpoint(CP_HOOK_DONE).isEmpty() && !settings.activateCommand().isEmpty();
      if (pending && runs >= MAX_ACTIVATION_RUNS) {
        LOG.warn(
            "The gateway stopped during each of {} runs of the activation command; taking that as"
                + " the activation's own restart and going on to the health window",
            runs);
      } else if (pending) {
        ctx.checkpoint(CP_HOOK_RUNS, Integer.toString(runs + 1));
        ctx.progress("activating", 100, Map.of("slot", slot));
        ctx.extendStepTimeout(settings.activateTimeout().plusSeconds(60));
        Commands.Exit exit =
            Commands.run(
                settings.activateCommand(),
                folder,
                r.version(),
                env,
                ctx.workDir().resolve("activate.log"),
                settings.activateTimeout());
        if (!exit.ok()) {
          return rollBack(
              ctx,
              slot,
              previous,
              FirmwareReason.ACTIVATION_FAILED,
              "The activation command " + exit.describe() + ".");
        }
      }
      ctx.checkpoint(CP_HOOK_DONE, "true");
      if (!settings.healthCommand().isEmpty()) {
        OperationResult unhealthy = healthWindow(ctx, r, slot, previous, folder, env);
        if (unhealthy != null) {
          return unhealthy;
        }
      }
    } catch (IOException e) {
      return rollBack(
          ctx,
          slot,
          previous,
          FirmwareReason.ACTIVATION_FAILED,
          "The activation or health command could not be started: " + e.getMessage() + ".");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FirmwareReason.CANCELLED.fail(
          "The gateway stopped during the activation; it resumes after the restart.", e);
    }
    ctx.checkpoint(CP_ACTIVATED, slot);
    LOG.info("Version {} is active in {} and healthy", r.version(), slot);
    crash.reached(CrashPoints.Point.BEFORE_REPORT);
    Map<String, String> details = new LinkedHashMap<>();
    details.put("slot", slot);
    if (r.version() != null) {
      details.put("version", r.version());
    }
    details.put("previousSlot", previous == null ? "none" : previous);
    return OperationResult.succeeded(details);
  }

  /** Polls the health command; null when healthy, else the rolled-back result. */
  private OperationResult healthWindow(
      Step ctx, Request r, String slot, String previous, Path folder, Map<String, String> env)
      throws IOException, InterruptedException, OperationException {
    ctx.progress("health-check", 100, Map.of("slot", slot));
    ctx.extendStepTimeout(settings.healthWindow().plusSeconds(60));
    long end = System.nanoTime() + settings.healthWindow().toNanos();
    Commands.Exit last = null;
    int runs = 0;
    while (true) {
      if (ctx.cancelled()) {
        return rollBack(
            ctx,
            slot,
            previous,
            FirmwareReason.CANCELLED,
            "The execution was cancelled during" + " the health window.");
      }
      long left = end - System.nanoTime();
      if (left <= 0) {
        break;
      }
      runs++;
      last =
          Commands.run(
              settings.healthCommand(),
              folder,
              r.version(),
              env,
              ctx.workDir().resolve("health.log"),
              Duration.ofNanos(left));
      if (last.ok()) {
        LOG.info("Health command succeeded after {} run(s)", runs);
        return null;
      }
      long pause = Math.min(settings.healthInterval().toNanos(), end - System.nanoTime());
      if (pause > 0) {
        TimeUnit.NANOSECONDS.sleep(pause);
      }
    }
    return rollBack(
        ctx,
        slot,
        previous,
        FirmwareReason.HEALTH_CHECK_FAILED,
        "The health command did not succeed within "
            + settings.healthWindow().toSeconds()
            + " s ("
            + runs
            + " run(s)); the last run "
            + (last == null ? "did not start" : last.describe())
            + ".");
  }

  private OperationResult rollBack(
      Step ctx, String slot, String previous, FirmwareReason reason, String why)
      throws OperationException {
    LOG.warn(
        "{}: {} Switching back to {}", reason.name(), why, previous == null ? "none" : previous);
    try {
      slots.activate(previous);
    } catch (IOException e) {
      throw Downloader.storage("switching the active slot back to " + previous, e);
    }
    String restored =
        previous == null
            ? "no slot is active (there was none before)"
            : previous + " is active again";
    if (previous != null && !settings.activateCommand().isEmpty()) {
      try {
        Commands.Exit exit =
            Commands.run(
                settings.activateCommand(),
                slots.folder(previous),
                slots.installed(previous).map(Installed::version).orElse(null),
                Map.of("GANTRY_SLOT", previous, "GANTRY_ROLLBACK", "true"),
                ctx.workDir().resolve("rollback.log"),
                settings.activateTimeout());
        if (!exit.ok()) {
          LOG.error(
              "The activation command for the previous slot {} {}", previous, exit.describe());
          restored += " (but its activation command " + exit.describe() + ")";
        }
      } catch (IOException e) {
        LOG.error("The activation command for the previous slot could not run: {}", e.toString());
        restored += " (but its activation command could not run)";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    String message = why + " Rolled back: " + restored + ".";
    ctx.checkpoint(CP_ROLLED_BACK, reason.name() + " " + message);
    crash.reached(CrashPoints.Point.BEFORE_REPORT);
    return OperationResult.failed(reason, message, Map.of("slot", slot));
  }

  private static OperationResult rolledBackResult(String checkpoint) {
    String[] parts = checkpoint.split(" ", 2);
    FirmwareReason reason;
    try {
      reason = FirmwareReason.valueOf(parts[0]);
    } catch (IllegalArgumentException e) {
      reason = FirmwareReason.ACTIVATION_FAILED;
    }
    return OperationResult.failed(reason, parts.length > 1 ? parts[1] : "Rolled back.", Map.of());
  }
}
