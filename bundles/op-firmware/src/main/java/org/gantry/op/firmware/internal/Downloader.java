package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import org.gantry.api.operation.OperationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one artifact over HTTP(S) into a {@code .part} file: the SHA-256 is updated from the
 * same buffer that is written, the offset is checkpointed every {@code download.checkpoint.bytes}
 * (after a sync), and any interruption resumes with an HTTP {@code Range} request at that offset.
 * An attempt is abandoned after {@code download.idle.seconds} without a byte; the whole download
 * after {@code download.total.seconds}; {@code download.attempts} attempts in a row that move no
 * byte fail it. A 403 (an expired presigned URL) asks the {@link UrlSource} for a fresh URL once
 * and resumes at the same offset.
 */
final class Downloader {

  /** Fetches a fresh URL for the artifact, for example from the job document read again. */
  @FunctionalInterface
  interface UrlSource {
    URI fresh() throws OperationException;
  }

  /** A complete download: the file, its SHA-256 and its length. */
  record Downloaded(Path file, byte[] sha256, long size) {}

  static final String CP_OFFSET = "download.offset";
  static final String CP_ETAG = "download.etag";

  private static final Logger LOG = LoggerFactory.getLogger(Downloader.class);
  private static final int BUFFER = 256 * 1024;
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

  private final Settings settings;
  private final DownloadTrust trust;

  /**
   * @throws IllegalArgumentException naming {@code download.ca.file} when it cannot be used
   */
  Downloader(Settings settings) {
    this.settings = settings;
    this.trust = DownloadTrust.of(settings);
  }

  /** What one attempt ended with, when it did not end the download. */
  private enum Outcome {
    COMPLETE,
    RETRY,
    RESTART,
    FORBIDDEN
  }

  /** The state of one download across its attempts. */
  private final class Transfer {
    final Step ctx;
    final Path part;
    final Long declared;
    final long cap;
    final MessageDigest digest = sha256();
    final AtomicReference<HttpURLConnection> current = new AtomicReference<>();
    final CountDownLatch cancelled = new CountDownLatch(1);
    final long deadline;
    final long started = System.nanoTime();
    FileChannel channel;
    long offset;
    long totalLength = -1;
    String etag;
    String lastError = "no attempt was made";
    long lastCheckpoint;
    long lastProgress = System.nanoTime();
    long lastExtend = System.nanoTime();
    long bytesAtStart;

    Transfer(Step ctx, Path part, Long declared) {
      this.ctx = ctx;
      this.part = part;
      this.declared = declared;
      this.cap = declared != null ? declared : settings.maxSizeBytes();
      this.deadline = started + settings.total().toNanos();
    }

    long remainingNanos() {
      return deadline - System.nanoTime();
    }
  }

  /**
   * Downloads {@code url} into {@code part}, resuming from the checkpointed offset.
   *
   * @param declaredSize the document's {@code size}, or null
   * @throws OperationFailure with a NETWORK, DEVICE or CANCELLED code; the part file is removed for
   *     failures that a retry of the job could not resume from
   */
  Downloaded download(Step ctx, URI url, Long declaredSize, Path part, UrlSource refresh)
      throws OperationException {
    Transfer t = new Transfer(ctx, part, declaredSize);
    ctx.onCancel(
        () -> {
          t.cancelled.countDown();
          HttpURLConnection c = t.current.get();
          if (c != null) {
            // Closing the connection unblocks a read in progress; on a thread of its own, since
            // cancel actions must return at once and closing a socket stream may take a moment.
            Thread closer = new Thread(c::disconnect, "gantry-download-cancel");
            closer.setDaemon(true);
            closer.start();
          }
        });
    try (FileChannel ch =
        FileChannel.open(
            part, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      t.channel = ch;
      resume(t);
      t.bytesAtStart = t.offset;
      checkSpace(t);
      URI current = url;
      int idleAttempts = 0;
      while (true) {
        if (ctx.cancelled()) {
          throw FirmwareReason.CANCELLED.fail(
              "The download was cancelled at byte " + t.offset + ".");
        }
        if (t.remainingNanos() <= 0) {
          throw timeout(t);
        }
        long before = t.offset;
        Outcome o;
        if (declaredSize != null && t.offset == declaredSize) {
          o = Outcome.COMPLETE;
        } else {
          o = attempt(t, current);
        }
        if (o == Outcome.COMPLETE) {
          break;
        }
        if (o == Outcome.FORBIDDEN) {
          URI fresh = refresh.fresh();
          if (fresh.equals(current)) {
            throw FirmwareReason.URL_EXPIRED.fail(
                "The server refused the URL (HTTP 403) and the job document, fetched again, gives"
                    + " the same URL; it has expired or lacks permission.");
          }
          LOG.info(
              "HTTP 403: using the fresh URL from the job document, resuming at byte {}", t.offset);
          current = fresh;
          idleAttempts = 0;
          continue;
        }
        if (o == Outcome.RESTART) {
          restartFromZero(t);
        }
        idleAttempts = t.offset > before ? 0 : idleAttempts + 1;
        if (idleAttempts >= settings.attempts()) {
          throw FirmwareReason.DOWNLOAD_FAILED.fail(
              "The download failed "
                  + idleAttempts
                  + " times in a row without progress (download.attempts); last error: "
                  + t.lastError);
        }
        backoff(t, Math.max(1, idleAttempts));
      }
      ch.force(true);
      byte[] sha = t.digest.digest();
      ctx.checkpoint(CP_OFFSET, Long.toString(t.offset));
      long nanos = Math.max(1, System.nanoTime() - t.started);
      LOG.info(
          "Downloaded {} bytes ({} in this run) in {} ms",
          t.offset,
          t.offset - t.bytesAtStart,
          TimeUnit.NANOSECONDS.toMillis(nanos));
      return new Downloaded(part, sha, t.offset);
    } catch (OperationFailure e) {
      if (e.code() == FirmwareReason.SIZE_EXCEEDED
          || e.code() == FirmwareReason.DISK_FULL
          || e.code() == FirmwareReason.STORAGE_ERROR) {
        discard(ctx, part);
      }
      throw e;
    } catch (IOException e) {
      discard(ctx, part);
      throw storage("opening the download file " + part, e);
    }
  }

  /** Picks up a part file from before a restart: truncated to the durable offset, re-hashed. */
  private void resume(Transfer t) throws IOException, OperationFailure {
    long durable = t.ctx.checkpoint(CP_OFFSET).map(Long::parseLong).orElse(0L);
    long size = t.channel.size();
    long offset = Math.min(durable, size);
    if (offset > t.cap) {
      offset = 0;
    }
    t.channel.truncate(offset);
    if (offset > 0) {
      ByteBuffer buf = ByteBuffer.allocate(BUFFER);
      long pos = 0;
      while (pos < offset) {
        buf.clear();
        buf.limit((int) Math.min(BUFFER, offset - pos));
        int n = t.channel.read(buf, pos);
        if (n < 0) {
          break;
        }
        t.digest.update(buf.array(), 0, n);
        pos += n;
      }
      LOG.info("Resuming the download at byte {} of the part file kept from before", offset);
    }
    t.offset = offset;
    t.lastCheckpoint = offset;
    t.etag = t.ctx.checkpoint(CP_ETAG).orElse(null);
    t.channel.position(offset);
  }

  private void checkSpace(Transfer t) throws OperationFailure {
    if (t.declared == null) {
      return;
    }
    try {
      long usable = Files.getFileStore(t.part).getUsableSpace();
      long needed = t.declared - t.offset;
      if (usable < needed) {
        throw FirmwareReason.DISK_FULL.fail(
            "The artifact needs "
                + needed
                + " more bytes but only "
                + usable
                + " are free where the job's work folder is.");
      }
    } catch (IOException e) {
      LOG.warn("Could not read the free space for {}: {}", t.part, e.toString());
    }
  }

  private Outcome attempt(Transfer t, URI url) throws OperationException {
    HttpURLConnection c;
    try {
      c = (HttpURLConnection) url.toURL().openConnection();
    } catch (IOException | IllegalArgumentException e) {
      t.lastError = "cannot open " + redact(url) + ": " + e;
      return Outcome.RETRY;
    }
    if (c instanceof HttpsURLConnection https && trust.socketFactory() != null) {
      // Only the trust changes; the JDK's host name verifier stays in place.
      https.setSSLSocketFactory(trust.socketFactory());
    }
    t.current.set(c);
    if (t.ctx.cancelled()) {
      c.disconnect();
      return Outcome.RETRY;
    }
    int timeout =
        (int) Math.max(1, Math.min(settings.idle().toMillis(), millis(t.remainingNanos())));
    c.setConnectTimeout(timeout);
    c.setReadTimeout(timeout);
    c.setInstanceFollowRedirects(true);
    c.setUseCaches(false);
    c.setRequestProperty("Accept-Encoding", "identity");
    // No keep-alive: one long transfer per connection, and closing the stream must close the
    // socket (a kept-alive stream would be drained on close instead), so a cancel is prompt.
    c.setRequestProperty("Connection", "close");
    if (t.offset > 0) {
      c.setRequestProperty("Range", "bytes=" + t.offset + "-");
      if (t.etag != null) {
        c.setRequestProperty("If-Range", t.etag);
      }
    }
    try {
      int status = c.getResponseCode();
      switch (status) {
        case 200:
          if (t.offset > 0) {
            LOG.info("The server ignored the Range request (HTTP 200): starting over at byte 0");
            restartFromZero(t);
          }
          checkLength(t, c.getContentLengthLong());
          break;
        case 206:
          if (!contentRange(t, c.getHeaderField("Content-Range"))) {
            t.lastError = "HTTP 206 with Content-Range '" + c.getHeaderField("Content-Range") + "'";
            drainQuietly(c);
            return Outcome.RESTART;
          }
          break;
        case 416:
          drainQuietly(c);
          if (t.declared != null && t.offset == t.declared) {
            return Outcome.COMPLETE;
          }
          t.lastError = "HTTP 416 for a Range request at byte " + t.offset;
          return Outcome.RESTART;
        case 403:
          drainQuietly(c);
          t.lastError = "HTTP 403";
          return Outcome.FORBIDDEN;
        default:
          drainQuietly(c);
          t.lastError = "HTTP " + status;
          if (status == 408 || status == 429 || status >= 500) {
            return Outcome.RETRY;
          }
          throw FirmwareReason.HTTP_STATUS.fail(
              "The server answered HTTP " + status + " for " + redact(url) + ".");
      }
      String etag = c.getHeaderField("ETag");
      if (etag != null && !etag.equals(t.etag) && etag.length() <= 1024) {
        t.etag = etag;
        t.ctx.checkpoint(CP_ETAG, etag);
      }
      return body(t, c);
    } catch (SocketTimeoutException e) {
      t.lastError = "no byte for " + settings.idle().toSeconds() + " s (download.idle.seconds)";
      LOG.info("Download attempt stalled at byte {}: {}", t.offset, t.lastError);
      return Outcome.RETRY;
    } catch (IOException e) {
      DownloadTrust.Refusal refusal = DownloadTrust.classify(e);
      if (refusal != null) {
        throw untrustedServer(refusal, url, e);
      }
      t.lastError = e.toString();
      LOG.info("Download attempt ended at byte {}: {}", t.offset, t.lastError);
      return Outcome.RETRY;
    } finally {
      t.current.set(null);
      c.disconnect();
    }
  }

  private void checkLength(Transfer t, long length) throws OperationFailure {
    if (length < 0) {
      return;
    }
    if (length > t.cap) {
      throw sizeExceeded(t, t.offset + length);
    }
    t.totalLength = length;
  }

  /** Checks a 206's Content-Range; false when it does not start at our offset. */
  private boolean contentRange(Transfer t, String header) throws OperationFailure {
    Matcher m = header == null ? null : CONTENT_RANGE.matcher(header.trim());
    if (m == null || !m.matches() || Long.parseLong(m.group(1)) != t.offset) {
      return false;
    }
    if (!m.group(3).equals("*")) {
      long total = Long.parseLong(m.group(3));
      if (total > t.cap) {
        throw sizeExceeded(t, total);
      }
      t.totalLength = total;
    }
    return true;
  }

  /** Reads the body into the part file; returns COMPLETE or RETRY (ended early). */
  private Outcome body(Transfer t, HttpURLConnection c) throws IOException, OperationException {
    byte[] buf = new byte[BUFFER];
    ByteBuffer wrap = ByteBuffer.wrap(buf);
    long expectedEnd = t.totalLength >= 0 ? t.totalLength : -1;
    try (InputStream in = c.getInputStream()) {
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        if (t.offset + n > t.cap) {
          throw sizeExceeded(t, t.offset + n);
        }
        t.digest.update(buf, 0, n);
        wrap.clear().limit(n);
        write(t, wrap);
        t.offset += n;
        afterChunk(t);
        if (t.ctx.cancelled()) {
          throw FirmwareReason.CANCELLED.fail(
              "The download was cancelled at byte " + t.offset + ".");
        }
        if (t.remainingNanos() <= 0) {
          throw timeout(t);
        }
      }
    }
    if (expectedEnd >= 0 && t.offset < expectedEnd) {
      t.lastError = "the connection ended at byte " + t.offset + " of " + expectedEnd;
      return Outcome.RETRY;
    }
    if (t.declared != null && t.offset < t.declared) {
      t.lastError = "the body ended at byte " + t.offset + " of the declared " + t.declared;
      return Outcome.RETRY;
    }
    return Outcome.COMPLETE;
  }

  private void write(Transfer t, ByteBuffer b) throws OperationFailure {
    try {
      while (b.hasRemaining()) {
        t.channel.write(b);
      }
    } catch (IOException e) {
      throw storage("writing the download file " + t.part, e);
    }
  }

  private void afterChunk(Transfer t) throws OperationFailure {
    if (t.offset - t.lastCheckpoint >= settings.checkpointBytes()) {
      try {
        t.channel.force(false);
      } catch (IOException e) {
        throw storage("syncing the download file " + t.part, e);
      }
      t.ctx.checkpoint(CP_OFFSET, Long.toString(t.offset));
      t.lastCheckpoint = t.offset;
    }
    long now = System.nanoTime();
    if (now - t.lastProgress >= PROGRESS_EVERY.toNanos()) {
      long total = t.declared != null ? t.declared : t.totalLength;
      int percent = total > 0 ? (int) (t.offset * 100 / total) : 0;
      double seconds = (now - t.started) / 1e9;
      Map<String, String> d = new LinkedHashMap<>();
      d.put("bytes", Long.toString(t.offset));
      if (total > 0) {
        d.put("totalBytes", Long.toString(total));
      }
      d.put("bytesPerSecond", Long.toString((long) ((t.offset - t.bytesAtStart) / seconds)));
      t.ctx.progress("downloading", percent, d);
      t.lastProgress = now;
      if (now - t.lastExtend >= Duration.ofSeconds(10).toNanos()) {
        t.ctx.extendStepTimeout(settings.idle().multipliedBy(2).plusSeconds(60));
        t.lastExtend = now;
      }
    }
  }

  private void restartFromZero(Transfer t) throws OperationFailure {
    try {
      t.channel.truncate(0);
      t.channel.position(0);
    } catch (IOException e) {
      throw storage("truncating the download file " + t.part, e);
    }
    t.digest.reset();
    t.offset = 0;
    t.lastCheckpoint = 0;
    t.bytesAtStart = 0;
    t.totalLength = -1;
    t.ctx.checkpoint(CP_OFFSET, null);
  }

  private void backoff(Transfer t, int failures) throws OperationFailure {
    long base = settings.backoff().toMillis() << Math.min(failures - 1, 16);
    long capped = Math.min(base, MAX_BACKOFF.toMillis());
    long pause = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    pause = Math.min(pause, Math.max(0, millis(t.remainingNanos())));
    try {
      if (t.cancelled.await(pause, TimeUnit.MILLISECONDS)) {
        throw FirmwareReason.CANCELLED.fail("The download was cancelled at byte " + t.offset + ".");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FirmwareReason.CANCELLED.fail("The gateway stopped during the download.", e);
    }
  }

  private OperationFailure timeout(Transfer t) {
    return FirmwareReason.DOWNLOAD_TIMEOUT.fail(
        "The download did not finish within "
            + settings.total().toSeconds()
            + " s (download.total.seconds); "
            + t.offset
            + " bytes arrived; last error: "
            + t.lastError);
  }

  private OperationFailure sizeExceeded(Transfer t, long seen) {
    String limit =
        t.declared != null
            ? "the declared size of " + t.declared + " bytes"
            : "the cap of " + t.cap + " bytes (max.size.bytes)";
    return FirmwareReason.SIZE_EXCEEDED.fail(
        "The server sent at least " + seen + " bytes, more than " + limit + "; stopped there.");
  }

  private static OperationFailure untrustedServer(
      DownloadTrust.Refusal refusal, URI url, IOException e) {
    String cause = DownloadTrust.rootCause(e);
    if (refusal == DownloadTrust.Refusal.NAME_MISMATCH) {
      return FirmwareReason.SERVER_NAME_MISMATCH.fail(
          "The TLS certificate of "
              + redact(url)
              + " is not valid for the host '"
              + url.getHost()
              + "' ("
              + cause
              + "); the download was refused.",
          e);
    }
    return FirmwareReason.SERVER_UNTRUSTED.fail(
        "The TLS certificate of "
            + redact(url)
            + " does not chain to a CA this gateway trusts ("
            + cause
            + "); add the server's CA to download.ca.file if it is the right server.",
        e);
  }

  static OperationFailure storage(String what, IOException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("No space left") || m.contains("Disk quota exceeded")) {
      return FirmwareReason.DISK_FULL.fail(
          "The disk is full (" + what + "); the partial file was removed.", e);
    }
    String detail = e instanceof FileSystemException fse ? fse.getReason() : e.toString();
    return FirmwareReason.STORAGE_ERROR.fail("Failed " + what + ": " + detail, e);
  }

  private static void discard(Step ctx, Path part) {
    try {
      Files.deleteIfExists(part);
    } catch (IOException e) {
      LOG.warn("Could not remove {}: {}", part, e.toString());
    }
    ctx.checkpoint(CP_OFFSET, null);
    ctx.checkpoint(CP_ETAG, null);
  }

  private static void drainQuietly(HttpURLConnection c) {
    try (InputStream err = c.getErrorStream()) {
      if (err != null) {
        err.readNBytes(8192);
      }
    } catch (IOException e) {
      // the connection is closed right after; nothing to keep
    }
  }

  /** The URL without its query, which holds a presigned URL's credentials. */
  static String redact(URI u) {
    return u.getScheme() + "://" + u.getAuthority() + (u.getPath() == null ? "" : u.getPath());
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
