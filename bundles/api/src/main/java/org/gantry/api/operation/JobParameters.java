package org.gantry.api.operation;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * An immutable view of one JSON object from a job document: the parameters of one operation step.
 * Values are {@link String}, {@link BigDecimal}, {@link Boolean}, nested {@code JobParameters},
 * {@link List}s of these, or {@code null} for a JSON {@code null}. It carries no JSON library's
 * types, so operation bundles depend on this API only.
 *
 * <p>The typed accessors throw {@link OperationException} with {@link
 * DocumentReason#INVALID_PARAMETERS} when a value has the wrong type or a required one is missing,
 * so that {@link JobOperation#validate} can simply call them.
 *
 * @since 1.0
 */
public final class JobParameters {

  private static final JobParameters EMPTY = new JobParameters(Map.of());

  private final Map<String, Object> values;

  private JobParameters(Map<String, Object> values) {
    this.values = values;
  }

  /**
   * No parameters.
   *
   * @return the empty instance
   */
  public static JobParameters empty() {
    return EMPTY;
  }

  /**
   * Builds parameters from plain Java values, copying them. Accepted values: {@link String}, any
   * {@link Number} (stored as {@link BigDecimal}), {@link Boolean}, {@code JobParameters}, {@link
   * Map} with string keys (becomes {@code JobParameters}), {@link List} of accepted values, and
   * {@code null}.
   *
   * @param values the parameters, in document order
   * @return an immutable copy
   * @throws IllegalArgumentException for a value of another type
   */
  public static JobParameters of(Map<String, ?> values) {
    Objects.requireNonNull(values, "values");
    if (values.isEmpty()) {
      return EMPTY;
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : values.entrySet()) {
      copy.put(Objects.requireNonNull(e.getKey(), "parameter name"), convert(e.getValue()));
    }
    return new JobParameters(Collections.unmodifiableMap(copy));
  }

  private static Object convert(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof JobParameters) {
      return v;
    }
    if (v instanceof BigDecimal) {
      return v;
    }
    if (v instanceof Number) {
      return new BigDecimal(v.toString());
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> nested = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new IllegalArgumentException("parameter names must be strings: " + e.getKey());
        }
        nested.put(key, e.getValue());
      }
      return of(nested);
    }
    if (v instanceof List<?> l) {
      List<Object> list = new ArrayList<>(l.size());
      for (Object o : l) {
        list.add(convert(o));
      }
      return Collections.unmodifiableList(list);
    }
    throw new IllegalArgumentException("unsupported parameter value type: " + v.getClass());
  }

  /**
   * The parameter names, in document order.
   *
   * @return an unmodifiable set
   */
  public Set<String> names() {
    return values.keySet();
  }

  /**
   * Whether a parameter is present (possibly with a JSON {@code null}).
   *
   * @param name the parameter name
   * @return true when present
   */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  /**
   * All parameters as an unmodifiable map of the value types listed above.
   *
   * @return the map, in document order
   */
  public Map<String, Object> asMap() {
    return values;
  }

  /**
   * An optional string parameter.
   *
   * @param name the parameter name
   * @return the value, empty when absent or {@code null}
   * @throws OperationException when present but not a string
   */
  public Optional<String> string(String name) throws OperationException {
    return typed(name, String.class, "a string");
  }

  /**
   * A required, non-blank string parameter.
   *
   * @param name the parameter name
   * @return the value
   * @throws OperationException when absent, blank or not a string
   */
  public String requireString(String name) throws OperationException {
    String s = string(name).orElse("");
    if (s.isBlank()) {
      throw OperationException.invalidParameters(
          "parameter '" + name + "' is required and must be a non-empty string");
    }
    return s;
  }

  /**
   * An optional integer parameter.
   *
   * @param name the parameter name
   * @return the value, empty when absent or {@code null}
   * @throws OperationException when present but not an integer that fits a {@code long}
   */
  public OptionalLong integer(String name) throws OperationException {
    Optional<BigDecimal> n = typed(name, BigDecimal.class, "an integer");
    if (n.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(n.get().longValueExact());
    } catch (ArithmeticException e) {
      throw OperationException.invalidParameters("parameter '" + name + "' must be an integer");
    }
  }

  /**
   * An optional boolean parameter.
   *
   * @param name the parameter name
   * @return the value, empty when absent or {@code null}
   * @throws OperationException when present but not a boolean
   */
  public Optional<Boolean> bool(String name) throws OperationException {
    return typed(name, Boolean.class, "true or false");
  }

  /**
   * An optional nested object.
   *
   * @param name the parameter name
   * @return the value, empty when absent or {@code null}
   * @throws OperationException when present but not an object
   */
  public Optional<JobParameters> object(String name) throws OperationException {
    return typed(name, JobParameters.class, "an object");
  }

  /**
   * An optional list of strings.
   *
   * @param name the parameter name
   * @return the values, empty when absent or {@code null}
   * @throws OperationException when present but not an array of strings
   */
  public List<String> strings(String name) throws OperationException {
    Optional<List<?>> list = typed(name, listClass(), "an array of strings");
    if (list.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(list.get().size());
    for (Object o : list.get()) {
      if (!(o instanceof String s)) {
        throw OperationException.invalidParameters(
            "parameter '" + name + "' must be an array of strings");
      }
      out.add(s);
    }
    return Collections.unmodifiableList(out);
  }

  @SuppressWarnings("unchecked")
  private static Class<List<?>> listClass() {
    return (Class<List<?>>) (Class<?>) List.class;
  }

  private <T> Optional<T> typed(String name, Class<T> type, String what) throws OperationException {
    Object v = values.get(name);
    if (v == null) {
      return Optional.empty();
    }
    if (!type.isInstance(v)) {
      throw OperationException.invalidParameters("parameter '" + name + "' must be " + what);
    }
    return Optional.of(type.cast(v));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobParameters p && p.values.equals(values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
