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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installed operations, by type, as DS binds and unbinds them (a whiteboard). When two services
 * serve the same type, the one with the highest service ranking (then the lowest service id) wins,
 * as for any OSGi service lookup.
 */
final class OperationRegistry {

  /**
   * One registered operation service.
   *
   * @param turns taken by every get and unget of the service object, see {@link #acquire()}
   */
  record Entry(
      String type,
      ComponentServiceObjects<JobOperation> objects,
      long serviceId,
      int ranking,
      String provider,
      Object turns) {

    /**
     * The operation's service object, or null when it is going away; give it back with {@link
     * #release}. Gets and ungets of one entry take turns: with several things validating and
     * running the same singleton operation at once, Felix 7.0.5 now and then lost count of the
     * engine bundle's uses and refused an unget with an IllegalArgumentException (up to five times
     * in a benchmark run of 100 things), which failed the thing's runner for half a second. The
     * operation itself runs outside the turn, in parallel as before.
     */
    JobOperation acquire() {
      synchronized (turns) {
        return objects.getService();
      }
    }

    /** Gives back what {@link #acquire()} returned; a service already gone is no error. */
    void release(JobOperation op) {
      synchronized (turns) {
        try {
          objects.ungetService(op);
        } catch (IllegalStateException | IllegalArgumentException e) {
          LOG.debug("The operation service {} was already released", type, e);
        }
      }
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(OperationRegistry.class);

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
                        String.valueOf(props.getOrDefault("component.name", "unknown")),
                        new Object())));
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
