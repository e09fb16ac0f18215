package org.gantry.protocol.internal;

import java.nio.charset.StandardCharsets;

/**
 * A compact JSON writer that escapes exactly as Gson does (without HTML escaping), so a document's
 * text is what {@code JsonElement.toString()} gives. A lone surrogate, which UTF-8 cannot carry and
 * a strict reader refuses even as an escape, is written as U+FFFD; Gson's writer would leave it to
 * the UTF-8 encoder, which makes it a '?'.
 */
public final class JsonOut {
  private final StringBuilder sb = new StringBuilder(256);
  private boolean needComma;

  public JsonOut beginObject() {
    separate();
    sb.append('{');
    needComma = false;
    return this;
  }

  public JsonOut endObject() {
    sb.append('}');
    needComma = true;
    return this;
  }

  public JsonOut beginArray() {
    separate();
    sb.append('[');
    needComma = false;
    return this;
  }

  public JsonOut endArray() {
    sb.append(']');
    needComma = true;
    return this;
  }

  public JsonOut name(String name) {
    separate();
    string(name);
    sb.append(':');
    needComma = false;
    return this;
  }

  public JsonOut value(String s) {
    separate();
    string(s);
    needComma = true;
    return this;
  }

  public JsonOut value(long n) {
    separate();
    sb.append(n);
    needComma = true;
    return this;
  }

  public JsonOut value(boolean b) {
    separate();
    sb.append(b);
    needComma = true;
    return this;
  }

  public JsonOut nullValue() {
    separate();
    sb.append("null");
    needComma = true;
    return this;
  }

  /** Appends JSON text that the caller has already validated. */
  public JsonOut rawValue(String json) {
    separate();
    sb.append(json);
    needComma = true;
    return this;
  }

  @Override
  public String toString() {
    return sb.toString();
  }

  public byte[] toUtf8() {
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void separate() {
    if (needComma) {
      sb.append(',');
    }
  }

  private void string(String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\t':
          sb.append("\\t");
          break;
        case '\b':
          sb.append("\\b");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\f':
          sb.append("\\f");
          break;
        case '\u2028':
        case '\u2029':
          unicodeEscape(c);
          break;
        default:
          if (c < 0x20) {
            unicodeEscape(c);
          } else if (isLoneSurrogate(s, i)) {
            sb.append('\ufffd');
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  private static boolean isLoneSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    if (Character.isLowSurrogate(c)) {
      return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
    }
    return false;
  }

  private void unicodeEscape(char c) {
    sb.append("\\u");
    String hex = Integer.toHexString(c);
    for (int k = hex.length(); k < 4; k++) {
      sb.append('0');
    }
    sb.append(hex);
  }
}
