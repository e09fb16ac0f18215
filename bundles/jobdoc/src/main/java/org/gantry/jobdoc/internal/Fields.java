package org.gantry.jobdoc.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.operation.DocumentReason;

/**
 * Typed reads from the plain values {@link StrictJsonReader} builds, each naming the field's path
 * (for example {@code steps[1].action.input.handler}) when it is missing or has the wrong type, so
 * that the operator reading {@code statusDetails} knows what to fix.
 */
final class Fields {

  private Fields() {}

  /** The path of {@code key} inside the object at {@code path} ("" for the top level). */
  static String at(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  static JobDocumentException invalid(String message) {
    return new JobDocumentException(DocumentReason.INVALID_PARAMETERS, message);
  }

  static JobDocumentException format(String message) {
    return new JobDocumentException(DocumentReason.UNKNOWN_FORMAT, message);
  }

  /** An object, as StrictJsonReader builds every object. */
  @SuppressWarnings("unchecked") // StrictJsonReader builds every object as Map<String, Object>
  static Map<String, Object> object(Object value, String path, String format)
      throws JobDocumentException {
    if (!(value instanceof Map<?, ?> m)) {
      throw format(
          "The job document's "
              + path
              + " must be an object"
              + (value == null ? ", but it is missing or null" : "")
              + " ("
              + format
              + ").");
    }
    return (Map<String, Object>) m;
  }

  /** A list of at least one and at most {@code max} elements. */
  static List<?> list(Object value, String path, int max, String format)
      throws JobDocumentException {
    if (!(value instanceof List<?> l)) {
      throw format(
          "The job document's "
              + path
              + " must be an array"
              + (value == null ? ", but it is missing or null" : "")
              + " ("
              + format
              + ").");
    }
    if (l.isEmpty()) {
      throw new JobDocumentException(
          DocumentReason.NO_OPERATION,
          "The job document's " + path + " is empty: it names nothing to run.");
    }
    if (l.size() > max) {
      throw format(
          "The job document's "
              + path
              + " has "
              + l.size()
              + " elements; at most "
              + max
              + " are allowed.");
    }
    return l;
  }

  /** A required string that is not blank. */
  static String requiredString(Map<String, Object> o, String key, String path)
      throws JobDocumentException {
    Object v = o.get(key);
    if (v == null) {
      throw invalid("The job document has no " + at(path, key) + "; it is required.");
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw invalid("The job document's " + at(path, key) + " must be a non-empty string.");
    }
    return s;
  }

  /** An optional string; absent or {@code null} gives {@code null}. */
  static String optionalString(Map<String, Object> o, String key, String path)
      throws JobDocumentException {
    Object v = o.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw invalid("The job document's " + at(path, key) + " must be a string.");
    }
    return s;
  }

  /** An optional array of strings; absent or {@code null} gives an empty list. */
  static List<String> strings(Map<String, Object> o, String key, String path)
      throws JobDocumentException {
    Object v = o.get(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> l)) {
      throw invalid("The job document's " + at(path, key) + " must be an array of strings.");
    }
    List<String> out = new ArrayList<>(l.size());
    for (int i = 0; i < l.size(); i++) {
      if (!(l.get(i) instanceof String s)) {
        throw invalid("The job document's " + at(path, key) + "[" + i + "] must be a string.");
      }
      out.add(s);
    }
    return out;
  }

  /**
   * An optional flag. The Device Client schema writes them as the strings {@code "true"} and {@code
   * "false"}; JSON booleans are accepted too, since hand-written documents use them.
   */
  static Boolean flag(Map<String, Object> o, String key, String path) throws JobDocumentException {
    Object v = o.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if ("true".equals(v)) {
      return Boolean.TRUE;
    }
    if ("false".equals(v)) {
      return Boolean.FALSE;
    }
    throw invalid("The job document's " + at(path, key) + " must be \"true\" or \"false\".");
  }

  /** An optional whole number within {@code [min, max]}; strings of digits are accepted too. */
  static Long wholeNumber(Map<String, Object> o, String key, String path, long min, long max)
      throws JobDocumentException {
    Object v = o.get(key);
    if (v == null) {
      return null;
    }
    BigDecimal d;
    if (v instanceof BigDecimal b) {
      d = b;
    } else if (v instanceof String s && s.matches("[0-9]{1,18}")) {
      d = new BigDecimal(s);
    } else {
      throw invalid("The job document's " + at(path, key) + " must be a whole number.");
    }
    try {
      long n = d.longValueExact();
      if (n < min || n > max) {
        throw invalid(
            "The job document's "
                + at(path, key)
                + " must be between "
                + min
                + " and "
                + max
                + ", but is "
                + n
                + ".");
      }
      return n;
    } catch (ArithmeticException e) {
      throw invalid("The job document's " + at(path, key) + " must be a whole number.");
    }
  }

  /** Refuses keys other than {@code allowed}; keys starting with '_' are comments. */
  static void onlyKnownKeys(Map<String, Object> o, Set<String> allowed, String path, String format)
      throws JobDocumentException {
    List<String> unknown = new ArrayList<>();
    for (String k : o.keySet()) {
      if (!allowed.contains(k) && !k.startsWith("_")) {
        unknown.add(StrictJsonReader.quote(k));
      }
    }
    if (!unknown.isEmpty()) {
      throw format(
          "The job document's "
              + path
              + " has "
              + (unknown.size() == 1 ? "a key" : "keys")
              + " the "
              + format
              + " format does not define: "
              + String.join(", ", unknown.subList(0, Math.min(5, unknown.size())))
              + (unknown.size() > 5 ? " and " + (unknown.size() - 5) + " more" : "")
              + ".");
    }
  }
}
