package org.gantry.protocol.internal;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ProtocolException;

/**
 * Reads a payload into plain Java values: {@code Map<String,Object>} (insertion order), {@code
 * List<Object>}, String, BigDecimal, Boolean, {@link #NULL}, and {@link RawJson} for every member
 * named {@code jobDocument}.
 *
 * <p>Documents are copied as text rather than parsed into a tree, so that duplicate keys inside a
 * document survive for the document parser to refuse (FAULTS.md #1); in the envelope itself a
 * duplicate key is an error, since which one wins would be a guess.
 */
public final class JsonIn {
  /** JSON null. */
  public static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  /** The field whose value is kept as compact JSON text. */
  public static final String DOCUMENT_FIELD = "jobDocument";

  /**
   * Deepest nesting of arrays and objects, the envelope included. Bounds the recursion here; a
   * document parser applies its own, smaller limit to the document's text.
   */
  public static final int MAX_NESTING = 255;

  /** A JSON value kept as its compact text. */
  public record RawJson(String text) {}

  private JsonIn() {}

  /**
   * @param payload the bytes of a message
   * @return the top-level object
   * @throws ProtocolException INVALID_JSON when the bytes are not strict UTF-8 or not one JSON
   *     object
   */
  public static Map<String, Object> parseObject(byte[] payload) throws ProtocolException {
    String text = utf8(payload);
    JsonReader r = reader(text);
    try {
      JsonToken first = r.peek();
      if (first != JsonToken.BEGIN_OBJECT) {
        throw new ProtocolException(
            ErrorCode.INVALID_JSON,
            "The payload must be a JSON object, but it is " + describe(first) + ".");
      }
      Map<String, Object> o = readObject(r);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw new ProtocolException(
            ErrorCode.INVALID_JSON, "The payload has more content after its JSON object.");
      }
      return o;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "The payload is not valid JSON: " + gsonMessage(e) + ".");
    }
  }

  /**
   * Validates JSON text strictly and returns it compact.
   *
   * @throws IllegalArgumentException when the text is not exactly one strict JSON value
   */
  public static String compact(String json, String field) {
    JsonReader r = reader(json);
    try {
      JsonOut out = new JsonOut();
      copy(r, out);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw new IllegalArgumentException(field + " has more content after its JSON value.");
      }
      return out.toString();
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new IllegalArgumentException(field + " is not valid JSON: " + gsonMessage(e) + ".", e);
    }
  }

  private static JsonReader reader(String text) {
    JsonReader r = new JsonReader(new StringReader(text));
    r.setStrictness(Strictness.STRICT);
    r.setNestingLimit(MAX_NESTING);
    return r;
  }

  private static String utf8(byte[] payload) throws ProtocolException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(payload))
          .toString();
    } catch (MalformedInputException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON,
          "The payload is not valid UTF-8: a malformed sequence of "
              + e.getInputLength()
              + " byte(s).");
    } catch (CharacterCodingException e) {
      throw new ProtocolException(ErrorCode.INVALID_JSON, "The payload is not valid UTF-8.");
    }
  }

  private static Map<String, Object> readObject(JsonReader r)
      throws IOException, ProtocolException {
    Map<String, Object> o = new LinkedHashMap<>();
    r.beginObject();
    while (r.hasNext()) {
      String name = r.nextName();
      Object value;
      if (name.equals(DOCUMENT_FIELD) && r.peek() != JsonToken.NULL) {
        JsonOut out = new JsonOut();
        copy(r, out);
        value = new RawJson(out.toString());
      } else {
        value = readValue(r);
      }
      if (o.put(name, value) != null) {
        throw new ProtocolException(
            ErrorCode.INVALID_JSON,
            "The payload has the key \"" + clip(name) + "\" twice in an object.");
      }
    }
    r.endObject();
    return o;
  }

  private static Object readValue(JsonReader r) throws IOException, ProtocolException {
    switch (r.peek()) {
      case BEGIN_OBJECT:
        return readObject(r);
      case BEGIN_ARRAY:
        List<Object> a = new ArrayList<>();
        r.beginArray();
        while (r.hasNext()) {
          a.add(readValue(r));
        }
        r.endArray();
        return a;
      case STRING:
        return r.nextString();
      case NUMBER:
        return new BigDecimal(r.nextString());
      case BOOLEAN:
        return r.nextBoolean();
      case NULL:
        r.nextNull();
        return NULL;
      default:
        throw new IllegalStateException("Unexpected " + r.peek() + " at " + r.getPath());
    }
  }

  private static void copy(JsonReader r, JsonOut out) throws IOException {
    switch (r.peek()) {
      case BEGIN_OBJECT:
        r.beginObject();
        out.beginObject();
        while (r.hasNext()) {
          out.name(r.nextName());
          copy(r, out);
        }
        r.endObject();
        out.endObject();
        break;
      case BEGIN_ARRAY:
        r.beginArray();
        out.beginArray();
        while (r.hasNext()) {
          copy(r, out);
        }
        r.endArray();
        out.endArray();
        break;
      case STRING:
        out.value(r.nextString());
        break;
      case NUMBER:
        // The strict reader has checked the literal; keep it exactly as written.
        out.rawValue(r.nextString());
        break;
      case BOOLEAN:
        out.value(r.nextBoolean());
        break;
      case NULL:
        r.nextNull();
        out.nullValue();
        break;
      default:
        throw new IllegalStateException("Unexpected " + r.peek() + " at " + r.getPath());
    }
  }

  private static String describe(JsonToken t) {
    switch (t) {
      case BEGIN_ARRAY:
        return "an array";
      case STRING:
        return "a string";
      case NUMBER:
        return "a number";
      case BOOLEAN:
        return "a boolean";
      case NULL:
        return "null";
      default:
        return "empty";
    }
  }

  /**
   * Gson appends a troubleshooting URL on a new line, and its JSON path can be as long as the
   * nesting is deep and carries the payload's own key names: a log line gets the first line,
   * clipped.
   */
  private static String gsonMessage(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return clip(nl < 0 ? m : m.substring(0, nl));
  }

  /** Clips text from a payload for a message: at most 160 chars, no control characters. */
  static String clip(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && sb.length() < 160; i++) {
      char c = s.charAt(i);
      sb.append(c < 0x20 || c == 0x7f || Character.isSurrogate(c) ? '?' : c);
    }
    if (s.length() > 160) {
      sb.append('\u2026');
    }
    return sb.toString();
  }
}
