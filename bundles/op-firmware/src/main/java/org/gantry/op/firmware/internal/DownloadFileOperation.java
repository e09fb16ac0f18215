package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.op.firmware.internal.Fetch.Verified;
import org.gantry.op.firmware.internal.Request.Kind;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code download-file} operation (what the AWS managed template AWS-Download-File asks for):
 * the same download and verification as {@code firmware-update}, then the file appears atomically
 * at {@code filePath}, which must lie in {@code download.dir}. No extraction, no slots.
 */
@Component(
    service = JobOperation.class,
    property = JobOperation.TYPE + "=" + DownloadFileOperation.OPERATION_TYPE,
    configurationPid = FirmwareConfig.PID,
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    immediate = true)
public final class DownloadFileOperation implements JobOperation {

  static final String OPERATION_TYPE = "download-file";
  static final String CP_INSTALLED = "installed";

  private static final Logger LOG = LoggerFactory.getLogger(DownloadFileOperation.class);

  private final Settings settings;
  private final Fetch fetch;

  /**
   * Creates the operation.
   *
   * @param config its configuration, shared with {@code firmware-update}
   * @throws IllegalArgumentException naming the property when the configuration is unusable
   */
  @Activate
  public DownloadFileOperation(FirmwareConfig config) {
    this(Settings.of(config));
  }

  DownloadFileOperation(Settings settings) {
    this.settings = settings;
    this.fetch = new Fetch(settings, new Verifier(settings), CrashPoints.none());
  }

  @Override
  public void validate(JobParameters parameters) throws OperationException {
    target(Request.of(parameters, Kind.DOWNLOAD_FILE, settings));
  }

  @Override
  public OperationResult execute(OperationContext context) throws OperationException {
    try (Mdc mdc = Mdc.of(context)) {
      Step ctx = Step.of(context);
      Request r = Request.of(ctx.parameters(), Kind.DOWNLOAD_FILE, settings);
      Path target = target(r);
      if (ctx.checkpoint(CP_INSTALLED).isEmpty()) {
        Verified v = fetch.verified(ctx, r, Kind.DOWNLOAD_FILE);
        install(v.file(), target);
        ctx.checkpoint(CP_INSTALLED, v.sha256Hex());
        LOG.info("Downloaded {} ({} bytes)", target, v.size());
      }
      Map<String, String> details = new LinkedHashMap<>();
      details.put("filePath", target.toString());
      details.put("sha256", ctx.checkpoint(CP_INSTALLED).orElse(""));
      return OperationResult.succeeded(details);
    }
  }

  /** {@code filePath} resolved inside {@code download.dir}, or a refusal. */
  private Path target(Request r) throws OperationException {
    Path dir = settings.downloadDir();
    Path p;
    try {
      Path given = Path.of(r.filePath());
      p = (given.isAbsolute() ? given : dir.resolve(given)).normalize();
    } catch (InvalidPathException e) {
      throw OperationException.invalidParameters("parameter 'filePath' is not a valid path");
    }
    if (!p.startsWith(dir) || p.equals(dir)) {
      throw FirmwareReason.PATH_OUTSIDE_FOLDER.fail(
          "parameter 'filePath' "
              + r.filePath()
              + " is outside this gateway's download folder "
              + dir
              + " (download.dir).");
    }
    return p;
  }

  private static void install(Path from, Path target) throws OperationFailure {
    try {
      Files.createDirectories(target.getParent());
      try {
        Files.move(
            from, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        // another file system: copy beside the target, sync, then rename there
        Path tmp = target.resolveSibling("." + target.getFileName() + ".gantry-tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(from);
      }
      Folders.fsyncDir(target.getParent());
    } catch (IOException e) {
      throw Downloader.storage("putting the file at " + target, e);
    }
  }
}
