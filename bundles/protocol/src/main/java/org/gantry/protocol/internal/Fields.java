package org.gantry.protocol.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ProtocolException;

/**
 * Typed reads from one decoded JSON object. Every error is INVALID_REQUEST with a sentence that
 * names the field by its path from the payload's root (for example {@code
 * inProgressJobs[0].jobId}). A field whose value is JSON null counts as absent.
 */
public final class Fields {
  private final Map<String, Object> values;
  private final String path;

  public Fields(Map<String, Object> values, String path) {
    this.values = values;
    this.path = path;
  }

  /** The field's path for a message; names come from the payload, so they are clipped. */
  public String path(String name) {
    String n = JsonIn.clip(name);
    return path.isEmpty() ? n : path + "." + n;
  }

  private Object get(String name) {
    Object v = values.get(name);
    return v == JsonIn.NULL ? null : v;
  }

  public boolean has(String name) {
    return get(name) != null;
  }

  public String optString(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String)) {
      throw wrongType(path(name), "a string", v);
    }
    return (String) v;
  }

  public String reqString(String name) throws ProtocolException {
    return require(name, optString(name));
  }

  public Long optLong(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof BigDecimal)) {
      throw wrongType(path(name), "an integer", v);
    }
    try {
      return ((BigDecimal) v).longValueExact();
    } catch (ArithmeticException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "Field "
              + path(name)
              + " must be an integer between "
              + Long.MIN_VALUE
              + " and "
              + Long.MAX_VALUE
              + ", but it is "
              + ((BigDecimal) v).toString()
              + ".");
    }
  }

  public long reqLong(String name) throws ProtocolException {
    return require(name, optLong(name));
  }

  public Boolean optBoolean(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Boolean)) {
      throw wrongType(path(name), "a boolean", v);
    }
    return (Boolean) v;
  }

  public Fields optObject(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return null;
    }
    return asObject(v, path(name));
  }

  public Fields reqObject(String name) throws ProtocolException {
    return require(name, optObject(name));
  }

  /** A list of objects; absent gives an empty list. */
  public List<Fields> objectList(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List)) {
      throw wrongType(path(name), "an array", v);
    }
    List<?> items = (List<?>) v;
    List<Fields> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      String p = path(name) + "[" + i + "]";
      Object item = items.get(i);
      if (item == JsonIn.NULL) {
        throw new ProtocolException(
            ErrorCode.INVALID_REQUEST, "Field " + p + " must be an object, but it is null.");
      }
      out.add(asObject(item, p));
    }
    return out;
  }

  /** The members of an object field, in wire order; absent gives null. */
  public Map<String, Object> optMembers(String name) throws ProtocolException {
    Object v = get(name);
    if (v == null) {
      return null;
    }
    return asObject(v, path(name)).values;
  }

  /** A map of strings; absent gives null. */
  public Map<String, String> optStringMap(String name) throws ProtocolException {
    Map<String, Object> m = optMembers(name);
    if (m == null) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : m.entrySet()) {
      Object v = e.getValue();
      if (!(v instanceof String)) {
        throw wrongType(path(name) + "." + JsonIn.clip(e.getKey()), "a string", v);
      }
      out.put(e.getKey(), (String) v);
    }
    return Collections.unmodifiableMap(out);
  }

  /** The compact text of a {@code jobDocument} field; absent or null gives null. */
  public String optDocument(String name) {
    Object v = get(name);
    return v instanceof JsonIn.RawJson ? ((JsonIn.RawJson) v).text() : null;
  }

  private Fields asObject(Object v, String p) throws ProtocolException {
    if (!(v instanceof Map)) {
      throw wrongType(p, "an object", v);
    }
    @SuppressWarnings("unchecked") // JsonIn builds every object as Map<String, Object>.
    Map<String, Object> m = (Map<String, Object>) v;
    return new Fields(m, p);
  }

  private <T> T require(String name, T value) throws ProtocolException {
    if (value == null) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST, "Required field " + path(name) + " is missing.");
    }
    return value;
  }

  static ProtocolException wrongType(String field, String expected, Object actual) {
    return new ProtocolException(
        ErrorCode.INVALID_REQUEST,
        "Field " + field + " must be " + expected + ", but it is " + kind(actual) + ".");
  }

  private static String kind(Object v) {
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof BigDecimal) {
      return "a number";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof JsonIn.RawJson) {
      return "a job document";
    }
    return "null";
  }
}
