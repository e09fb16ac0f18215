package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import org.gantry.api.operation.OperationException;
import org.gantry.op.firmware.internal.Request.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part both operations share: download into the execution's work folder, then verify. The
 * artifact is usable by the caller only once {@link #verified} returned; a file that fails
 * verification is deleted on the spot. Checkpoints ({@code downloaded}) let a restart skip a
 * finished download; the file is hashed again from disk in that case.
 */
final class Fetch {

  /** A downloaded, verified artifact in the work folder. */
  record Verified(Path file, byte[] sha256, long size) {
    String sha256Hex() {
      return HexFormat.of().formatHex(sha256);
    }
  }

  static final String CP_DOWNLOADED = "downloaded";
  static final String ARTIFACT = "artifact";

  private static final Logger LOG = LoggerFactory.getLogger(Fetch.class);

  private final Settings settings;
  private final Downloader downloader;
  private final Verifier verifier;
  private final CrashPoints crash;

  Fetch(Settings settings, Verifier verifier, CrashPoints crash) {
    this.settings = settings;
    this.downloader = new Downloader(settings);
    this.verifier = verifier;
    this.crash = crash;
  }

  Verified verified(Step ctx, Request r, Kind kind) throws OperationException {
    Path artifact = ctx.workDir().resolve(ARTIFACT);
    Path part = ctx.workDir().resolve(ARTIFACT + ".part");
    byte[] sha;
    long size;
    Optional<String> done = ctx.checkpoint(CP_DOWNLOADED);
    if (done.isPresent() && Files.isRegularFile(artifact)) {
      LOG.info("The artifact was downloaded before the restart; hashing it again from disk");
      sha = hash(artifact);
      size = sizeOf(artifact);
    } else {
      Downloader.Downloaded d =
          downloader.download(ctx, r.url(), r.size(), part, () -> freshUrl(ctx, kind));
      if (r.size() != null && d.size() != r.size()) {
        Folders.deleteQuietly(part);
        ctx.checkpoint(Downloader.CP_OFFSET, null);
        throw FirmwareReason.DOWNLOAD_FAILED.fail(
            "The download ended after " + d.size() + " bytes, not the declared " + r.size() + ".");
      }
      try {
        Files.move(
            part, artifact, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Folders.fsyncDir(ctx.workDir());
      } catch (IOException e) {
        throw Downloader.storage("moving the download into place", e);
      }
      sha = d.sha256();
      size = d.size();
      ctx.checkpoint(CP_DOWNLOADED, HexFormat.of().formatHex(sha));
      ctx.checkpoint(Downloader.CP_OFFSET, null);
      ctx.checkpoint(Downloader.CP_ETAG, null);
      crash.reached(CrashPoints.Point.AFTER_DOWNLOAD);
    }
    try {
      verifier.verify(r, sha);
    } catch (OperationFailure e) {
      Folders.deleteQuietly(artifact);
      ctx.checkpoint(CP_DOWNLOADED, null);
      throw e;
    }
    LOG.info(
        "Artifact verified: {} bytes, sha256 {}{}",
        size,
        HexFormat.of().formatHex(sha),
        r.signature() != null ? ", signature valid" : r.sha256() == null ? " (unverified)" : "");
    return new Verified(artifact, sha, size);
  }

  private java.net.URI freshUrl(Step ctx, Kind kind) throws OperationException {
    Request fresh = Request.of(ctx.refreshParameters(), kind, settings);
    return fresh.url();
  }

  private static long sizeOf(Path p) throws OperationFailure {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw Downloader.storage("reading the artifact's size", e);
    }
  }

  static byte[] hash(Path p) throws OperationFailure {
    MessageDigest md = Downloader.sha256();
    byte[] buf = new byte[256 * 1024];
    try (InputStream in = Files.newInputStream(p)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw Downloader.storage("reading the artifact " + p, e);
    }
    return md.digest();
  }
}
