package org.gantry.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Defensive copies for the records: insertion order kept, nulls refused with the field's name. */
final class Immutables {
  private Immutables() {}

  static Map<String, String> details(Map<String, String> d, String field) {
    if (d == null) {
      return null;
    }
    Map<String, String> copy = new LinkedHashMap<>(d.size() * 2);
    d.forEach(
        (k, v) ->
            copy.put(
                Objects.requireNonNull(k, () -> field + " must not contain a null key"),
                Objects.requireNonNull(v, () -> field + " must not contain a null value")));
    return Collections.unmodifiableMap(copy);
  }

  static Map<String, String> detailsOrEmpty(Map<String, String> d, String field) {
    return d == null ? Map.of() : details(d, field);
  }

  static <T> List<T> list(List<T> l, String field) {
    if (l == null) {
      return List.of();
    }
    for (T t : l) {
      Objects.requireNonNull(t, () -> field + " must not contain null");
    }
    return List.copyOf(l);
  }
}
