package org.gantry.hub.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gantry.protocol.ExecutionStatus;

/**
 * Everything the hub knows: things, jobs and executions, with the queries the APIs need. Not
 * thread-safe: the hub confines it to one thread.
 */
final class HubState {
  private static final Comparator<Execution> QUEUE_ORDER =
      Comparator.comparingLong((Execution e) -> e.queueSeq);

  private final Map<String, Thing> things = new LinkedHashMap<>();
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final Map<String, List<Execution>> byThing = new LinkedHashMap<>();
  private final Map<String, List<Execution>> byJob = new LinkedHashMap<>();
  private long lastSeq;

  Thing thing(String name) {
    return things.get(name);
  }

  Job job(String jobId) {
    return jobs.get(jobId);
  }

  void add(Thing t) {
    things.put(t.thingName, t);
  }

  void add(Job j) {
    jobs.put(j.jobId, j);
  }

  void add(Execution e) {
    lastSeq = Math.max(lastSeq, e.queueSeq);
    byThing.computeIfAbsent(e.thingName, k -> new ArrayList<>()).add(e);
    byJob.computeIfAbsent(e.jobId, k -> new ArrayList<>()).add(e);
  }

  long nextSeq() {
    return ++lastSeq;
  }

  long lastSeq() {
    return lastSeq;
  }

  void restoreSeq(long seq) {
    lastSeq = Math.max(lastSeq, seq);
  }

  List<Thing> things() {
    return List.copyOf(things.values());
  }

  List<Job> jobs() {
    return List.copyOf(jobs.values());
  }

  /** Every execution, in queue order. */
  List<Execution> executions() {
    List<Execution> all = new ArrayList<>();
    byThing.values().forEach(all::addAll);
    all.sort(QUEUE_ORDER);
    return all;
  }

  /** The executions of one job, in the order they were created. */
  List<Execution> executionsOf(String jobId) {
    return List.copyOf(byJob.getOrDefault(jobId, List.of()));
  }

  /** Things that have at least one execution. */
  List<String> thingsWithExecutions() {
    return List.copyOf(byThing.keySet());
  }

  /**
   * The thing's pending executions as AWS IoT orders them: IN_PROGRESS first, then QUEUED, each in
   * queue order. The head of this list is what {@code $next} and start-next mean.
   */
  List<Execution> pending(String thingName) {
    List<Execution> inProgress = new ArrayList<>();
    List<Execution> queued = new ArrayList<>();
    for (Execution e : byThing.getOrDefault(thingName, List.of())) {
      if (e.status == ExecutionStatus.IN_PROGRESS) {
        inProgress.add(e);
      } else if (e.status == ExecutionStatus.QUEUED) {
        queued.add(e);
      }
    }
    inProgress.sort(QUEUE_ORDER);
    queued.sort(QUEUE_ORDER);
    inProgress.addAll(queued);
    return inProgress;
  }

  Execution head(String thingName) {
    List<Execution> p = pending(thingName);
    return p.isEmpty() ? null : p.get(0);
  }

  /**
   * One execution of a job on a thing.
   *
   * @param executionNumber which one; null for the latest
   * @return the execution, or null
   */
  Execution execution(String thingName, String jobId, Long executionNumber) {
    Execution found = null;
    for (Execution e : byThing.getOrDefault(thingName, List.of())) {
      if (!e.jobId.equals(jobId)) {
        continue;
      }
      if (executionNumber != null) {
        if (e.executionNumber == executionNumber) {
          return e;
        }
      } else if (found == null || e.executionNumber > found.executionNumber) {
        found = e;
      }
    }
    return found;
  }
}
