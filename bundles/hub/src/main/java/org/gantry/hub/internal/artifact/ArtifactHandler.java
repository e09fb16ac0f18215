package org.gantry.hub.internal.artifact;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves GET and HEAD of signed artifact URLs ({@code /artifacts/<key>?expires=&signature=}, see
 * {@link UrlSigner}): mount it on the artifact server's context {@value UrlSigner#PATH_PREFIX}.
 *
 * <p>Answers: 200 with the whole artifact; 206 with {@code Content-Range} for one range {@code
 * bytes=a-b}, {@code a-} or {@code -n}; 416 with {@code Content-Range: bytes *}{@code /size} when
 * that range is not satisfiable; a Range header of another form (several ranges, another unit, bad
 * syntax) or an {@code If-Range} that does not match the ETag is ignored and the whole artifact is
 * sent, as RFC 9110 allows. Every 200/206 carries {@code Content-Length}, {@code Accept-Ranges:
 * bytes} and {@code ETag: "<sha256>"}. The body is streamed from the file in 64 KiB pieces. A
 * malformed path or key gets 400, a missing, malformed, tampered or expired signature 403 with a
 * line saying which (the signature is checked before the artifact is looked up, so an unsigned
 * request learns nothing), an unknown key 404, another method 405.
 *
 * <p>A download holds a thread of the server's executor for as long as it runs: give the artifact
 * server an executor of its own, sized for the concurrent downloads expected.
 */
public final class ArtifactHandler implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactHandler.class);
  private static final int BUFFER = 64 * 1024;

  private final ArtifactStore store;
  private final UrlSigner signer;

  public ArtifactHandler(ArtifactStore store, UrlSigner signer) {
    this.store = store;
    this.signer = signer;
  }

  /** One byte range, both ends included. */
  private record Range(long first, long last) {
    long length() {
      return last - first + 1;
    }

    boolean satisfiable() {
      return first >= 0;
    }
  }

  /** A Range header that cannot be met: answered 416. */
  private static final Range UNSATISFIABLE = new Range(-1, -2);

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try {
      serve(ex);
    } catch (IOException e) {
      // Mostly a device that went away mid-download; it resumes with a Range request.
      LOG.info(
          "Artifact download {} to {} ended early: {}",
          ex.getRequestURI().getRawPath(),
          ex.getRemoteAddress(),
          e.toString());
    } finally {
      ex.close();
    }
  }

  private void serve(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    boolean head = "HEAD".equals(method);
    if (!head && !"GET".equals(method)) {
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      refuse(ex, 405, "method not allowed: artifact URLs take GET and HEAD");
      return;
    }
    String key = HttpReplies.keyOf(ex);
    if (key == null) {
      refuse(ex, 400, "bad request: the path is not /artifacts/<percent-encoded key>");
      return;
    }
    try {
      ArtifactKeys.check(key);
    } catch (ArtifactException e) {
      refuse(ex, 400, "bad request: " + e.getMessage());
      return;
    }
    String expires = null;
    String signature = null;
    boolean repeated = false;
    String query = ex.getRequestURI().getRawQuery();
    if (query != null) {
      for (String pair : query.split("&", -1)) {
        int eq = pair.indexOf('=');
        String name = eq < 0 ? pair : pair.substring(0, eq);
        String value = eq < 0 ? "" : ArtifactKeys.decode(pair.substring(eq + 1));
        if ("expires".equals(name)) {
          repeated |= expires != null;
          expires = value;
        } else if ("signature".equals(name)) {
          repeated |= signature != null;
          signature = value;
        }
      }
    }
    UrlSigner.Verdict verdict =
        repeated ? UrlSigner.Verdict.UNSIGNED : signer.verify("GET", key, expires, signature);
    switch (verdict) {
      case UNSIGNED -> {
        refuse(ex, 403, "unsigned: the URL needs one expires and one signature parameter");
        return;
      }
      case TAMPERED -> {
        refuse(ex, 403, "tampered: the signature does not match the URL's key and expiry");
        return;
      }
      case EXPIRED -> {
        refuse(
            ex,
            403,
            "expired: the URL was valid until "
                + Instant.ofEpochSecond(Long.parseLong(expires))
                + "; fetch the job document again for a new one");
        return;
      }
      case VALID -> {}
    }
    ArtifactStore.Opened opened;
    try {
      opened = store.open(key);
    } catch (ArtifactException e) {
      if (e.reason() == Reason.NOT_FOUND) {
        refuse(ex, 404, "not found: no artifact is stored under this key");
      } else {
        refuse(ex, 400, "bad request: " + e.getMessage());
      }
      return;
    } catch (IOException e) {
      LOG.error("Artifact {} could not be opened: {}", key, e.toString());
      refuse(ex, 500, "internal error: the artifact could not be read");
      return;
    }
    try (opened) {
      send(ex, head, opened);
    }
  }

  private static void send(HttpExchange ex, boolean head, ArtifactStore.Opened opened)
      throws IOException {
    ArtifactStore.Artifact a = opened.artifact();
    long size = a.size();
    String etag = "\"" + a.sha256() + "\"";
    Headers h = ex.getResponseHeaders();
    h.set("Accept-Ranges", "bytes");
    h.set("ETag", etag);
    Range range = range(ex.getRequestHeaders(), etag, size);
    if (range != null && !range.satisfiable()) {
      h.set("Content-Range", "bytes */" + size);
      refuse(ex, 416, "range not satisfiable: the artifact has " + size + " bytes");
      return;
    }
    int status = 200;
    Range body = new Range(0, size - 1);
    if (range != null) {
      status = 206;
      body = range;
      h.set("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + size);
    }
    h.set("Content-Type", "application/octet-stream");
    h.set("Cache-Control", "no-store");
    if (head) {
      h.set("Content-Length", Long.toString(body.length()));
      ex.sendResponseHeaders(status, -1);
      LOG.debug("Artifact {} HEAD from {}: {}", a.key(), ex.getRemoteAddress(), status);
      return;
    }
    // sendResponseHeaders takes 0 for "chunked": an empty artifact is sent with length -1 (none).
    ex.sendResponseHeaders(status, body.length() == 0 ? -1 : body.length());
    long sent = 0;
    if (body.length() > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        long position = body.first();
        while (sent < body.length()) {
          buf.clear();
          buf.limit((int) Math.min(BUFFER, body.length() - sent));
          int n = opened.channel().read(buf, position);
          if (n < 0) {
            throw new IOException("The artifact " + a.key() + " ended before its recorded size");
          }
          out.write(buf.array(), 0, n);
          position += n;
          sent += n;
        }
      }
    }
    LOG.info(
        "Artifact {} sent to {}: {} bytes {}-{} of {} ({})",
        a.key(),
        ex.getRemoteAddress(),
        sent,
        body.first(),
        body.last(),
        size,
        status);
  }

  /**
   * The one range to send, {@code null} for the whole artifact, or {@link #UNSATISFIABLE}. Only a
   * single {@code bytes} range is honoured.
   */
  static Range range(Headers request, String etag, long size) {
    List<String> values = request.get("Range");
    if (values == null || values.size() != 1) {
      return null;
    }
    String ifRange = request.getFirst("If-Range");
    if (ifRange != null && !ifRange.trim().equals(etag)) {
      return null;
    }
    String v = values.get(0).trim();
    if (!v.toLowerCase(Locale.ROOT).startsWith("bytes=")) {
      return null;
    }
    String spec = v.substring("bytes=".length()).trim();
    int dash = spec.indexOf('-');
    if (dash < 0 || spec.indexOf(',') >= 0) {
      return null;
    }
    String a = spec.substring(0, dash).trim();
    String b = spec.substring(dash + 1).trim();
    if (a.isEmpty()) {
      long suffix = number(b);
      if (suffix < 0) {
        return null;
      }
      if (suffix == 0 || size == 0) {
        return UNSATISFIABLE;
      }
      return new Range(Math.max(0, size - suffix), size - 1);
    }
    long first = number(a);
    long last = b.isEmpty() ? Long.MAX_VALUE : number(b);
    if (first < 0 || last < 0 || last < first) {
      return null;
    }
    if (first >= size) {
      return UNSATISFIABLE;
    }
    return new Range(first, Math.min(last, size - 1));
  }

  /** A non-negative decimal, {@link Long#MAX_VALUE} when too long for a long, -1 when not one. */
  private static long number(String s) {
    if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  private static void refuse(HttpExchange ex, int status, String why) throws IOException {
    LOG.info(
        "Artifact request {} {} from {} refused: {} {}",
        ex.getRequestMethod(),
        ex.getRequestURI().getRawPath(),
        ex.getRemoteAddress(),
        status,
        why);
    HttpReplies.text(ex, status, why);
  }
}
