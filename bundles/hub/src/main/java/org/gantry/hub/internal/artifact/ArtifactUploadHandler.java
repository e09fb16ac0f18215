package org.gantry.hub.internal.artifact;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operators' upload route: {@code PUT /artifacts/<key>} with the artifact as the body stores it
 * (replacing an earlier one) and answers 200 with {@code {"key", "size", "sha256"}}. Mount it on
 * the management API only: it takes no signature of its own and relies on the management API's
 * authentication filter.
 *
 * <p>An optional {@code x-amz-checksum-sha256} header (the base64 SHA-256 of the body, as S3
 * PutObject takes it) is checked before the artifact becomes visible. Answers: 400 for a bad key or
 * header and for a checksum mismatch, 409 for a key that conflicts with a stored folder or
 * artifact, 413 for a body longer than the configured maximum (refused from {@code Content-Length}
 * before the body is read), 405 for another method. A refused upload leaves nothing behind.
 */
public final class ArtifactUploadHandler implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactUploadHandler.class);
  private static final String CHECKSUM_HEADER = "x-amz-checksum-sha256";

  private final ArtifactStore store;
  private final long maxBytes;

  /**
   * @param maxBytes the longest artifact accepted
   */
  public ArtifactUploadHandler(ArtifactStore store, long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("The artifact size limit must not be negative");
    }
    this.store = store;
    this.maxBytes = maxBytes;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try {
      upload(ex);
    } finally {
      ex.close();
    }
  }

  private void upload(HttpExchange ex) throws IOException {
    if (!"PUT".equals(ex.getRequestMethod())) {
      ex.getResponseHeaders().set("Allow", "PUT");
      refuse(ex, 405, "MethodNotAllowed", "artifacts are uploaded with PUT");
      return;
    }
    String key = HttpReplies.keyOf(ex);
    if (key == null) {
      refuse(ex, 400, "InvalidArtifactKey", "the path is not /artifacts/<percent-encoded key>");
      return;
    }
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        declared = Long.MAX_VALUE;
      }
      if (declared > maxBytes) {
        refuse(
            ex,
            413,
            ArtifactException.Reason.TOO_LARGE.code(),
            "the artifact is longer than " + maxBytes + " bytes");
        return;
      }
    }
    byte[] expected = null;
    String checksum = ex.getRequestHeaders().getFirst(CHECKSUM_HEADER);
    if (checksum != null) {
      try {
        expected = Base64.getDecoder().decode(checksum.trim());
      } catch (IllegalArgumentException e) {
        expected = new byte[0];
      }
      if (expected.length != 32) {
        refuse(
            ex,
            400,
            "InvalidChecksum",
            CHECKSUM_HEADER + " must be the base64 of a 32-byte SHA-256");
        return;
      }
    }
    ArtifactStore.Artifact a;
    try {
      a = store.put(key, ex.getRequestBody(), maxBytes, expected);
    } catch (ArtifactException e) {
      int status =
          switch (e.reason()) {
            case KEY_CONFLICT -> 409;
            case TOO_LARGE -> 413;
            default -> 400;
          };
      refuse(ex, status, e.reason().code(), e.getMessage());
      return;
    } catch (IOException e) {
      LOG.error(
          "Artifact upload of {} from {} failed: {}", key, ex.getRemoteAddress(), e.toString());
      refuse(ex, 500, "InternalFailure", "the artifact could not be stored: " + e.getMessage());
      return;
    }
    HttpReplies.json(
        ex,
        200,
        "{\"key\":"
            + HttpReplies.quote(a.key())
            + ",\"size\":"
            + a.size()
            + ",\"sha256\":\""
            + a.sha256()
            + "\"}");
  }

  private static void refuse(HttpExchange ex, int status, String code, String why)
      throws IOException {
    LOG.info(
        "Artifact upload {} {} from {} refused: {} {} {}",
        ex.getRequestMethod(),
        ex.getRequestURI().getRawPath(),
        ex.getRemoteAddress(),
        status,
        code,
        why);
    HttpReplies.json(
        ex,
        status,
        "{\"code\":" + HttpReplies.quote(code) + ",\"message\":" + HttpReplies.quote(why) + "}");
  }
}
