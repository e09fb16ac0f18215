package org.gantry.hub.internal.artifact;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.gantry.hub.internal.Texts;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;

/**
 * The rules for artifact keys, and their percent-encoding in URL paths.
 *
 * <p>A key is {@code /}-separated segments, as an S3 object key under its bucket ({@code
 * <bucket>/<key>}) or a plain key for hub-only use. It is refused when it is empty or longer than
 * {@value #MAX_KEY_BYTES} UTF-8 bytes, holds a control character, a backslash or an unpaired
 * surrogate, starts or ends with {@code /}, has an empty segment, a segment longer than {@value
 * #MAX_SEGMENT_BYTES} bytes, or a segment that starts with {@code .} — which refuses {@code .} and
 * {@code ..} and leaves names starting with a dot to the store's own files.
 */
final class ArtifactKeys {
  /** A 63-character bucket, {@code /}, and S3's 1,024-byte key. */
  static final int MAX_KEY_BYTES = 1088;

  /** Below the 255-byte file names of common file systems, with room for the store's suffixes. */
  static final int MAX_SEGMENT_BYTES = 200;

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private ArtifactKeys() {}

  /**
   * Returns the key if it follows the rules.
   *
   * @throws ArtifactException {@link Reason#INVALID_KEY} with the rule it breaks
   */
  static String check(String key) throws ArtifactException {
    if (key == null || key.isEmpty()) {
      throw invalid(key, "is empty");
    }
    if (key.length() > MAX_KEY_BYTES) {
      throw invalid(key, "is longer than " + MAX_KEY_BYTES + " bytes");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw invalid(key, "holds a control character");
      }
      if (c == '\\') {
        throw invalid(key, "holds a backslash");
      }
    }
    byte[] utf8 = utf8(key);
    if (utf8 == null) {
      throw invalid(key, "holds an unpaired surrogate");
    }
    if (utf8.length > MAX_KEY_BYTES) {
      throw invalid(key, "is longer than " + MAX_KEY_BYTES + " bytes");
    }
    if (key.charAt(0) == '/') {
      throw invalid(key, "starts with '/'");
    }
    if (key.charAt(key.length() - 1) == '/') {
      throw invalid(key, "ends with '/'");
    }
    for (String segment : key.split("/", -1)) {
      if (segment.isEmpty()) {
        throw invalid(key, "has an empty segment ('//')");
      }
      if (segment.charAt(0) == '.') {
        throw invalid(
            key, "has a segment starting with '.' ('.', '..' and hidden names are refused)");
      }
      if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        throw invalid(key, "has a segment longer than " + MAX_SEGMENT_BYTES + " bytes");
      }
    }
    return key;
  }

  /**
   * The key as a URL path: each segment percent-encoded (all but RFC 3986 unreserved characters),
   * joined by {@code /}.
   */
  static String encodePath(String key) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(utf8.length + 16);
    for (byte b : utf8) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~'
          || c == '/') {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return sb.toString();
  }

  /**
   * Decodes a percent-encoded URL path or query value strictly: every {@code %} followed by two hex
   * digits, the bytes valid UTF-8; {@code +} stays {@code +}.
   *
   * @return the decoded text, or {@code null} when the encoding is broken
   */
  static String decode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          return null;
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes.write((hi << 4) | lo);
        i += 2;
      } else if (c < 0x80) {
        bytes.write(c);
      } else {
        byte[] b = utf8(String.valueOf(c));
        if (b == null) {
          return null;
        }
        bytes.write(b, 0, b.length);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Strict UTF-8, or {@code null} for an unpaired surrogate. */
  private static byte[] utf8(String s) {
    try {
      ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static ArtifactException invalid(String key, String rule) {
    return new ArtifactException(
        Reason.INVALID_KEY, "The artifact key " + clip(key) + " " + rule + ".");
  }

  /** Quotes a caller's text for a message: control characters escaped, cut after 120. */
  static String clip(String s) {
    return Texts.clip(s, 120);
  }
}
