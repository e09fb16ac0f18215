package org.gantry.hub.internal.artifact;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** What both artifact handlers share: reading the key from the path, and short answers. */
final class HttpReplies {
  private HttpReplies() {}

  /**
   * The decoded artifact key of a request path {@code /artifacts/<key>}, or {@code null} when the
   * path is not of that form or its percent-encoding is broken (the key rules are checked later).
   */
  static String keyOf(HttpExchange ex) {
    String raw = ex.getRequestURI().getRawPath();
    if (raw == null || !raw.startsWith(UrlSigner.PATH_PREFIX)) {
      return null;
    }
    return ArtifactKeys.decode(raw.substring(UrlSigner.PATH_PREFIX.length()));
  }

  /** Answers with a one-line text body (none for HEAD). */
  static void text(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
    send(ex, status, "text/plain; charset=utf-8", bytes);
  }

  /** Answers with a JSON body (none for HEAD). */
  static void json(HttpExchange ex, int status, String body) throws IOException {
    send(ex, status, "application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] bytes)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    if ("HEAD".equals(ex.getRequestMethod())) {
      ex.getResponseHeaders().set("Content-Length", Long.toString(bytes.length));
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** A JSON string literal. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    PlaceholderResolver.escape(s, sb);
    return sb.append('"').toString();
  }
}
