package org.gantry.jobdoc.internal;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.operation.DocumentReason;

/**
 * Reads one JSON object into plain Java values (LinkedHashMap, ArrayList, String, BigDecimal,
 * Boolean, null), streaming over Gson's {@link JsonReader} in strict mode.
 *
 * <p>The reader keeps its own stack of open containers instead of recursing, so that the depth
 * limit is enforced while streaming: a document of 32,768 {@code [} fails at the first bracket past
 * the limit, with bounded stack and memory, before any tree exists. Duplicate keys are refused as
 * they are read, which Gson's own tree model would silently (or, for JsonObject, with a generic
 * message) not report with the key's path.
 */
final class StrictJsonReader {

  /**
   * Gson ends its syntax messages (first line) and its toString() with " at line L column C path
   * P"; the messages then carry a help link meant for programmers on a second line.
   */
  private static final Pattern GSON_LOCATION =
      Pattern.compile(" at line (\\d+) column (\\d+) path (.*)$");

  /** Paths and keys can be as long as the document; messages go into statusDetails (1 KB). */
  private static final int MAX_QUOTED = 120;

  private final int maxDepth;

  StrictJsonReader(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  /**
   * Reads {@code json}, which must hold exactly one JSON object and nothing after it.
   *
   * @return the object, in document order
   * @throws JobDocumentException MALFORMED_JSON, TOO_DEEP or DUPLICATE_KEY
   */
  Map<String, Object> readObject(String json) throws JobDocumentException {
    JsonReader reader = new JsonReader(new StringReader(json));
    reader.setStrictness(Strictness.STRICT);
    // Our own check fires first; Gson's limit is only a backstop should ours ever be bypassed.
    reader.setNestingLimit(maxDepth + 1);
    try {
      JsonToken first = reader.peek();
      if (first != JsonToken.BEGIN_OBJECT) {
        throw new JobDocumentException(
            DocumentReason.MALFORMED_JSON,
            "The job document must be a JSON object, but its top level is "
                + describe(first)
                + location(reader)
                + ".");
      }
      Map<String, Object> root = readTree(reader);
      if (!atEnd(reader)) {
        throw new JobDocumentException(
            DocumentReason.MALFORMED_JSON,
            "The job document has content after its closing brace" + location(reader) + ".");
      }
      return root;
    } catch (IOException e) {
      // StringReader never fails: every IOException here is Gson's report of bad syntax
      // (MalformedJsonException) or of input that ends too early (EOFException).
      throw new JobDocumentException(DocumentReason.MALFORMED_JSON, syntaxMessage(e));
    } catch (NumberFormatException e) {
      throw new JobDocumentException(
          DocumentReason.MALFORMED_JSON,
          "The job document has a number that cannot be represented" + location(reader) + ".");
    }
  }

  private static boolean atEnd(JsonReader reader) {
    try {
      return reader.peek() == JsonToken.END_DOCUMENT;
    } catch (IOException e) {
      // Strict Gson refuses a second top-level value with a hint about leniency; for an operator
      // the fact that matters is that something follows the document.
      return false;
    }
  }

  private Map<String, Object> readTree(JsonReader reader) throws IOException, JobDocumentException {
    Deque<Object> open = new ArrayDeque<>();
    Map<String, Object> root = new LinkedHashMap<>();
    reader.beginObject();
    open.push(root);
    while (!open.isEmpty()) {
      Object container = open.peek();
      if (container instanceof Map<?, ?>) {
        @SuppressWarnings("unchecked") // only readTree puts maps on the stack, all of this type
        Map<String, Object> object = (Map<String, Object>) container;
        if (!reader.hasNext()) {
          reader.endObject();
          open.pop();
          continue;
        }
        String name = reader.nextName();
        if (object.containsKey(name)) {
          throw new JobDocumentException(
              DocumentReason.DUPLICATE_KEY,
              "The job document has the key "
                  + quote(name)
                  + " twice in the same object (path "
                  + truncate(reader.getPath())
                  + "); every key may appear only once.");
        }
        object.put(name, readValue(reader, open));
      } else {
        @SuppressWarnings("unchecked") // only readTree puts lists on the stack, all of this type
        List<Object> array = (List<Object>) container;
        if (!reader.hasNext()) {
          reader.endArray();
          open.pop();
          continue;
        }
        array.add(readValue(reader, open));
      }
    }
    return root;
  }

  /** Reads a scalar, or opens a container (pushed on {@code open}, filled by the caller's loop). */
  private Object readValue(JsonReader reader, Deque<Object> open)
      throws IOException, JobDocumentException {
    JsonToken token = reader.peek();
    return switch (token) {
      case BEGIN_OBJECT -> {
        checkDepth(reader, open);
        reader.beginObject();
        Map<String, Object> object = new LinkedHashMap<>();
        open.push(object);
        yield object;
      }
      case BEGIN_ARRAY -> {
        checkDepth(reader, open);
        reader.beginArray();
        List<Object> array = new ArrayList<>();
        open.push(array);
        yield array;
      }
      case STRING -> reader.nextString();
      // nextString keeps the digits as written: no detour through double.
      case NUMBER -> new BigDecimal(reader.nextString());
      case BOOLEAN -> reader.nextBoolean();
      case NULL -> {
        reader.nextNull();
        yield null;
      }
      // hasNext() was true, so Gson cannot hand us an end token or a name here.
      default ->
          throw new JobDocumentException(
              DocumentReason.MALFORMED_JSON,
              "The job document has "
                  + describe(token)
                  + " where a value belongs"
                  + location(reader)
                  + ".");
    };
  }

  private void checkDepth(JsonReader reader, Deque<Object> open) throws JobDocumentException {
    if (open.size() >= maxDepth) {
      throw new JobDocumentException(
          DocumentReason.TOO_DEEP,
          "The job document nests objects and arrays deeper than "
              + maxDepth
              + " levels"
              + location(reader)
              + ".");
    }
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case BEGIN_ARRAY -> "an array";
      case BEGIN_OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case END_DOCUMENT -> "the end of the document";
      case END_ARRAY -> "the end of an array";
      case END_OBJECT -> "the end of an object";
      case NAME -> "a key";
    };
  }

  /** " at line L column C (path P)", from Gson's own position report. */
  private static String location(JsonReader reader) {
    Matcher m = GSON_LOCATION.matcher(firstLine(reader.toString()));
    return m.find() ? position(m) : "";
  }

  private static String position(Matcher m) {
    return " at line "
        + m.group(1)
        + " column "
        + m.group(2)
        + " (path "
        + truncate(m.group(3))
        + ")";
  }

  private static String firstLine(String s) {
    int newline = s.indexOf('\n');
    return newline >= 0 ? s.substring(0, newline) : s;
  }

  /** Turns Gson's message, meant for programmers, into a sentence for an operator. */
  static String syntaxMessage(IOException e) {
    String line = firstLine(e.getMessage() == null ? "" : e.getMessage()).strip();
    Matcher m = GSON_LOCATION.matcher(line);
    boolean located = m.find();
    String what = (located ? line.substring(0, m.start()) : line).strip();
    if (what.contains("Strictness") || what.contains("setLenient")) {
      // Gson's advice to relax the parser is no help to an operator: say what is wrong instead.
      what = "syntax that strict JSON does not allow";
    } else if (what.isEmpty()) {
      what = "a syntax error";
    }
    StringBuilder sb = new StringBuilder("The job document is not well-formed JSON: ");
    sb.append(truncate(lowerFirst(what)));
    if (located) {
      sb.append(position(m));
    }
    return sb.append('.').toString();
  }

  private static String lowerFirst(String s) {
    if (s.length() > 1
        && Character.isUpperCase(s.charAt(0))
        && Character.isLowerCase(s.charAt(1))) {
      return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
    return s;
  }

  /** A value quoted for a message: shortened, control characters escaped. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    String t = s.length() > MAX_QUOTED ? s.substring(0, MAX_QUOTED) : s;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else {
        sb.append(c);
      }
    }
    if (t.length() < s.length()) {
      sb.append("...");
    }
    return sb.append('"').toString();
  }

  private static String truncate(String s) {
    return s.length() > MAX_QUOTED ? s.substring(0, MAX_QUOTED) + "..." : s;
  }
}
