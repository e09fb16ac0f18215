package org.gantry.hub.internal.artifact;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.gantry.protocol.Limits;

/**
 * Replaces the presigned-URL placeholders of a job document with signed URLs to the hub's artifact
 * server, when a device fetches the document:
 *
 * <pre>{@code ${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}}</pre>
 *
 * (also {@code ${aws:iot:s3-presigned-url-v2:...}}, the form AWS documents today, and every S3 URL
 * form of {@link S3Urls}). Placeholders are looked for inside the document's JSON strings, after
 * their escapes are read ({@code https:\/\/} included), and a string that held one is written back
 * with correct JSON escaping; everything else in the document is kept as it was, byte for byte.
 *
 * <p>Every placeholder must name an artifact the store holds, otherwise the whole document is
 * refused: a device never receives a document with a URL that cannot work. Bounded: documents up to
 * {@link Limits#MAX_DOCUMENT_CHARS} characters, at most {@value #MAX_PLACEHOLDERS} placeholders, a
 * result of at most {@code maxResolvedChars} characters. Thread-safe.
 */
public final class PlaceholderResolver {
  /** The shortest URL lifetime, as AWS {@code presignedUrlConfig.expiresInSec} allows. */
  public static final long MIN_EXPIRES_IN_SEC = 60;

  /** The longest URL lifetime, and AWS's default. */
  public static final long MAX_EXPIRES_IN_SEC = 3600;

  /** At most this many placeholders in one document. */
  public static final int MAX_PLACEHOLDERS = 64;

  /**
   * The default bound of a resolved document: the stored document's limit, because Gantry's
   * gateways ({@code JobDocumentParser.MAX_CHARACTERS}) reject a longer document as they receive
   * it; refusing it here gives the operator the reason instead of a REJECTED execution.
   */
  public static final int DEFAULT_MAX_RESOLVED_CHARS = Limits.MAX_DOCUMENT_CHARS;

  private static final String PREFIX = "${aws:iot:s3-presigned-url";
  private static final String[] VARIANTS = {":", "-v2:"};

  private final ArtifactStore store;
  private final UrlSigner signer;
  private final int maxResolvedChars;

  public PlaceholderResolver(ArtifactStore store, UrlSigner signer) {
    this(store, signer, DEFAULT_MAX_RESOLVED_CHARS);
  }

  PlaceholderResolver(ArtifactStore store, UrlSigner signer, int maxResolvedChars) {
    this.store = store;
    this.signer = signer;
    this.maxResolvedChars = maxResolvedChars;
  }

  /**
   * The artifact keys the placeholders of a document name, in order (with repeats), without
   * checking that they exist: for CreateJob, to refuse a malformed placeholder when the job is
   * created rather than when a device asks for it.
   *
   * @throws ArtifactException {@link Reason#INVALID_DOCUMENT}, {@link Reason#INVALID_PLACEHOLDER}
   *     or {@link Reason#DOCUMENT_TOO_LARGE}
   */
  public static List<String> artifactKeys(String document) throws ArtifactException {
    List<String> keys = new ArrayList<>();
    scan(document, keys, null);
    return List.copyOf(keys);
  }

  /**
   * The document with every placeholder replaced by a URL valid for {@code expiresInSec} seconds
   * from now; the document itself when it has none.
   *
   * @throws ArtifactException {@link Reason#INVALID_EXPIRY}, {@link Reason#INVALID_DOCUMENT},
   *     {@link Reason#INVALID_PLACEHOLDER}, {@link Reason#NOT_FOUND} (naming the artifact) or
   *     {@link Reason#DOCUMENT_TOO_LARGE}
   * @throws IOException when the artifact store cannot be read
   */
  public String resolve(String document, long expiresInSec) throws ArtifactException, IOException {
    if (expiresInSec < MIN_EXPIRES_IN_SEC || expiresInSec > MAX_EXPIRES_IN_SEC) {
      throw new ArtifactException(
          Reason.INVALID_EXPIRY,
          "A presigned URL lifetime must be "
              + MIN_EXPIRES_IN_SEC
              + "-"
              + MAX_EXPIRES_IN_SEC
              + " seconds, not "
              + expiresInSec
              + ".");
    }
    // Two passes: the keys first (each checked against the store, which may fail with I/O), then
    // the same walk with their URLs, so that the JSON walk itself does no I/O.
    List<String> keys = artifactKeys(document);
    if (keys.isEmpty()) {
      return document;
    }
    Map<String, String> urls = new HashMap<>();
    for (String key : keys) {
      if (!urls.containsKey(key)) {
        if (store.find(key).isEmpty()) {
          throw new ArtifactException(
              Reason.NOT_FOUND,
              "The job document's presigned-URL placeholder names the artifact "
                  + ArtifactKeys.clip(key)
                  + ", which the hub's artifact store does not hold.");
        }
        urls.put(key, signer.sign(key, expiresInSec));
      }
    }
    String resolved = scan(document, new ArrayList<>(), urls);
    if (resolved.length() > maxResolvedChars) {
      throw new ArtifactException(
          Reason.DOCUMENT_TOO_LARGE,
          "The job document would be "
              + resolved.length()
              + " characters with its presigned URLs, more than the "
              + maxResolvedChars
              + " allowed.");
    }
    return resolved;
  }

  private static void checkLength(String document) throws ArtifactException {
    if (document.length() > Limits.MAX_DOCUMENT_CHARS) {
      throw new ArtifactException(
          Reason.DOCUMENT_TOO_LARGE,
          "The job document has "
              + document.length()
              + " characters, more than the "
              + Limits.MAX_DOCUMENT_CHARS
              + " allowed.");
    }
  }

  /**
   * Walks the JSON strings of the document, collecting the keys of their placeholders and, when
   * {@code urls} is given, returning the document with the placeholders replaced by them.
   */
  private static String scan(String doc, List<String> keys, Map<String, String> urls)
      throws ArtifactException {
    checkLength(doc);
    StringBuilder out = urls == null ? null : new StringBuilder(doc.length() + 256);
    int i = 0;
    int copied = 0;
    while (i < doc.length()) {
      if (doc.charAt(i) != '"') {
        i++;
        continue;
      }
      int end = endOfString(doc, i);
      String raw = doc.substring(i + 1, end);
      if (raw.indexOf('$') >= 0 || raw.indexOf('\\') >= 0) {
        String value = unescape(raw, i);
        if (value.contains(PREFIX)) {
          String replaced = replace(value, keys, urls);
          if (out != null) {
            out.append(doc, copied, i);
            out.append('"');
            escape(replaced, out);
            out.append('"');
            copied = end + 1;
          }
        }
      }
      i = end + 1;
    }
    if (out == null || copied == 0) {
      return doc;
    }
    return out.append(doc, copied, doc.length()).toString();
  }

  private static String replace(String value, List<String> keys, Map<String, String> urls)
      throws ArtifactException {
    StringBuilder sb = new StringBuilder(value.length() + 128);
    int from = 0;
    for (int at = value.indexOf(PREFIX); at >= 0; at = value.indexOf(PREFIX, from)) {
      int urlStart = -1;
      for (String v : VARIANTS) {
        if (value.startsWith(v, at + PREFIX.length())) {
          urlStart = at + PREFIX.length() + v.length();
        }
      }
      int number = keys.size() + 1;
      if (urlStart < 0) {
        throw placeholder(
            number,
            "is neither ${aws:iot:s3-presigned-url:<url>} nor ${aws:iot:s3-presigned-url-v2:<url>}");
      }
      int close = value.indexOf('}', urlStart);
      if (close < 0) {
        throw placeholder(number, "has no closing '}'");
      }
      if (number > MAX_PLACEHOLDERS) {
        throw new ArtifactException(
            Reason.DOCUMENT_TOO_LARGE,
            "The job document has more than " + MAX_PLACEHOLDERS + " presigned-URL placeholders.");
      }
      String key;
      try {
        key = S3Urls.artifactKey(value.substring(urlStart, close));
      } catch (ArtifactException e) {
        throw placeholder(number, "is not usable: " + e.getMessage());
      }
      keys.add(key);
      sb.append(value, from, at);
      if (urls != null) {
        sb.append(urls.get(key));
      }
      from = close + 1;
    }
    return sb.append(value, from, value.length()).toString();
  }

  private static ArtifactException placeholder(int number, String why) {
    return new ArtifactException(
        Reason.INVALID_PLACEHOLDER,
        "Presigned-URL placeholder " + number + " of the job document " + why);
  }

  /** The index of the quote that closes the string opened at {@code open}. */
  private static int endOfString(String doc, int open) throws ArtifactException {
    for (int i = open + 1; i < doc.length(); i++) {
      char c = doc.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        return i;
      } else if (c < 0x20) {
        throw badDocument(i, "a control character inside a string");
      }
    }
    throw badDocument(open, "a string that is not closed");
  }

  private static String unescape(String raw, int offset) throws ArtifactException {
    StringBuilder sb = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (i + 1 >= raw.length()) {
        throw badDocument(offset + i, "an escape at the end of a string");
      }
      char e = raw.charAt(++i);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (i + 4 >= raw.length()) {
            throw badDocument(offset + i, "a \\u escape without four hex digits");
          }
          int code = 0;
          for (int k = 1; k <= 4; k++) {
            int d = Character.digit(raw.charAt(i + k), 16);
            if (d < 0) {
              throw badDocument(offset + i, "a \\u escape without four hex digits");
            }
            code = code * 16 + d;
          }
          sb.append((char) code);
          i += 4;
        }
        default -> throw badDocument(offset + i, "an unknown escape \\" + e);
      }
    }
    return sb.toString();
  }

  /** Writes a string's value as JSON string content (without the quotes). */
  static void escape(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }

  private static ArtifactException badDocument(int at, String what) {
    return new ArtifactException(
        Reason.INVALID_DOCUMENT, "The job document has " + what + " at character " + at + ".");
  }
}
