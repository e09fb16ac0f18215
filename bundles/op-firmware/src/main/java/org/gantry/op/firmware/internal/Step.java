package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;

/**
 * One step's share of its execution: the engine's checkpoints and work folder belong to the whole
 * execution, and a job may have several steps of these operations (an AWS OTA job with two files is
 * two {@code firmware-update} steps). Checkpoint keys get a prefix and files a sub-folder, both
 * named after a digest of the step's parameters, which are the same after a restart.
 */
final class Step {

  private final OperationContext ctx;
  private final String prefix;
  private final Path workDir;

  private Step(OperationContext ctx, String prefix, Path workDir) {
    this.ctx = ctx;
    this.prefix = prefix;
    this.workDir = workDir;
  }

  static Step of(OperationContext ctx) {
    byte[] d =
        Downloader.sha256().digest(ctx.parameters().toString().getBytes(StandardCharsets.UTF_8));
    String id = "step-" + HexFormat.of().formatHex(d, 0, 6);
    Path dir = ctx.workDir().resolve(id);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the step's folder " + dir, e);
    }
    return new Step(ctx, id + ".", dir);
  }

  OperationContext context() {
    return ctx;
  }

  Path workDir() {
    return workDir;
  }

  Optional<String> checkpoint(String key) {
    return ctx.checkpoint(prefix + key);
  }

  void checkpoint(String key, String value) {
    ctx.checkpoint(prefix + key, value);
  }

  String jobId() {
    return ctx.jobId();
  }

  String thingName() {
    return ctx.thingName();
  }

  JobParameters parameters() {
    return ctx.parameters();
  }

  JobParameters refreshParameters() throws OperationException {
    return ctx.refreshParameters();
  }

  void progress(String step, int percent, Map<String, String> details) {
    ctx.progress(step, percent, details);
  }

  void extendStepTimeout(Duration limit) {
    ctx.extendStepTimeout(limit);
  }

  boolean cancelled() {
    return ctx.cancelled();
  }

  void onCancel(Runnable action) {
    ctx.onCancel(action);
  }
}
