package org.gantry.engine.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.gantry.api.operation.JobOperation;
import org.osgi.framework.Constants;
import org.osgi.service.component.ComponentServiceObjects;

/**
 * The installed operations, by type, as DS binds and unbinds them (a whiteboard). When two services
 * serve the same type, the one with the highest service ranking (then the lowest service id) wins,
 * as for any OSGi service lookup.
 */
final class OperationRegistry {

  /** One registered operation service. */
  record Entry(
      String type,
      ComponentServiceObjects<JobOperation> objects,
      long serviceId,
      int ranking,
      String provider) {}

  private final List<Entry> entries = new CopyOnWriteArrayList<>();
  private final List<Consumer<Entry>> removalListeners = new CopyOnWriteArrayList<>();

  void add(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    typeOf(props)
        .ifPresent(
            type ->
                entries.add(
                    new Entry(
                        type,
                        objects,
                        longProp(props, Constants.SERVICE_ID),
                        (int) longProp(props, Constants.SERVICE_RANKING),
                        String.valueOf(props.getOrDefault("component.name", "unknown")))));
  }

  void remove(ComponentServiceObjects<JobOperation> objects, Map<String, Object> props) {
    List<Entry> gone = new ArrayList<>();
    for (Entry e : entries) {
      if (e.objects() == objects) {
        gone.add(e);
      }
    }
    entries.removeAll(gone);
    for (Entry e : gone) {
      for (Consumer<Entry> l : removalListeners) {
        l.accept(e);
      }
    }
  }

  /** Told of every operation service that goes away (for example an uninstalled bundle). */
  void onRemoval(Consumer<Entry> listener) {
    removalListeners.add(listener);
  }

  Optional<Entry> find(String type) {
    return entries.stream()
        .filter(e -> e.type().equals(type))
        .min(
            Comparator.comparingInt(Entry::ranking).reversed().thenComparingLong(Entry::serviceId));
  }

  boolean contains(Entry entry) {
    return entries.contains(entry);
  }

  private static Optional<String> typeOf(Map<String, Object> props) {
    Object t = props.get(JobOperation.TYPE);
    if (t instanceof String s && !s.isBlank()) {
      return Optional.of(s);
    }
    return Optional.empty();
  }

  private static long longProp(Map<String, Object> props, String key) {
    return props.get(key) instanceof Number n ? n.longValue() : 0L;
  }
}
