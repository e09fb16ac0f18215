package org.gantry.hub.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.gantry.protocol.ExecutionStatus;

/**
 * Everything the hub knows — things, thing groups, jobs and executions — with the indexes the rules
 * need (per-job counts, the executions waiting for their rollout, the timeout timers) and the list
 * of changes not yet written to the store. Every change goes through a method here, so that the
 * indexes and the change list never miss one. Not thread-safe: the hub confines it to one thread.
 */
final class HubState {
  private static final Comparator<Execution> QUEUE_ORDER =
      Comparator.comparingLong((Execution e) -> e.queueSeq);

  /** A store operation; {@code value} is what the log record holds. */
  record Op(String kind, Object value) {}

  /** What a device sees of its queue: the head and the set of pending executions. */
  record View(String headKey, Set<String> pendingKeys) {}

  /** A timeout to check at {@code at}; stale entries are skipped when they come due. */
  record Timer(long at, Execution execution) {}

  /** The counts of one job, kept as executions change. */
  static final class Counts {
    /** By status of each thing's latest execution (how AWS IoT counts things). */
    private final EnumMap<ExecutionStatus, Integer> things = new EnumMap<>(ExecutionStatus.class);

    /** By status of every execution (retries included). */
    private final EnumMap<ExecutionStatus, Integer> executions =
        new EnumMap<>(ExecutionStatus.class);

    int releasedExecutions;
    int notifiedThings;

    int things(ExecutionStatus s) {
      return things.getOrDefault(s, 0);
    }

    int executions(ExecutionStatus s) {
      return executions.getOrDefault(s, 0);
    }

    void thing(ExecutionStatus s, int delta) {
      things.merge(s, delta, Integer::sum);
    }

    void execution(ExecutionStatus s, int delta) {
      executions.merge(s, delta, Integer::sum);
    }

    int pendingThings() {
      return things(ExecutionStatus.QUEUED) + things(ExecutionStatus.IN_PROGRESS);
    }
  }

  private final Map<String, Thing> things = new LinkedHashMap<>();
  private final Map<String, ThingGroup> groups = new LinkedHashMap<>();
  private final Map<String, Set<String>> members = new HashMap<>();
  private final Map<String, Set<String>> groupsOfThing = new HashMap<>();
  private final Map<String, List<String>> children = new HashMap<>();
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final Map<String, List<Execution>> byThing = new LinkedHashMap<>();
  private final Map<String, List<Execution>> byJob = new LinkedHashMap<>();
  private final Map<String, Execution> byId = new HashMap<>();
  private final Map<String, Counts> counts = new HashMap<>();
  private final Map<String, ArrayDeque<Execution>> unreleased = new LinkedHashMap<>();
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparingLong(Timer::at));
  private final Set<String> abortChecks = new LinkedHashSet<>();
  private final LinkedHashMap<String, Op> ops = new LinkedHashMap<>();
  private final Map<String, View> watched = new LinkedHashMap<>();
  private final Map<String, java.util.TreeSet<String>> principalsOfThing = new HashMap<>();
  private final java.util.TreeMap<String, java.util.TreeSet<String>> thingsOfPrincipal =
      new java.util.TreeMap<>();
  private boolean principalsChanged;
  private long lastSeq;
  private long deletions;
  private boolean recording = true;

  // ------------------------------------------------------------------ the change list

  /** Stops recording changes while the store rebuilds the state from disk. */
  void recording(boolean on) {
    recording = on;
  }

  private void record(String key, String kind, Object value) {
    if (recording) {
      // Moved to the end: the log holds each entity's last state after everything before it.
      ops.remove(key);
      ops.put(key, new Op(kind, value));
    }
  }

  /** The changes since the last call, in the order the log must replay them. */
  List<Op> drainOps() {
    List<Op> out = List.copyOf(ops.values());
    ops.clear();
    return out;
  }

  boolean hasOps() {
    return !ops.isEmpty();
  }

  // ------------------------------------------------------------------ what devices see

  /** Remembers what a thing's device saw before its first change since the last drain. */
  private void watch(String thing) {
    if (recording && !watched.containsKey(thing)) {
      watched.put(thing, view(thing));
    }
  }

  View view(String thing) {
    List<Execution> pending = pending(thing);
    Set<String> keys = new java.util.HashSet<>();
    pending.forEach(e -> keys.add(e.key()));
    return new View(pending.isEmpty() ? null : pending.get(0).key(), keys);
  }

  /** The things changed since the last call, with the view their devices had before. */
  Map<String, View> drainWatched() {
    Map<String, View> out = new LinkedHashMap<>(watched);
    watched.clear();
    return out;
  }

  // ------------------------------------------------------------------ things and groups

  Thing thing(String name) {
    return things.get(name);
  }

  void add(Thing t) {
    things.put(t.thingName, t);
    record("T:" + t.thingName, "thing", t);
  }

  /**
   * Removes a thing and its group memberships (DeleteThing). The caller has checked that it has no
   * executions and no principals.
   */
  void removeThing(String name) {
    for (String g : List.copyOf(groupsOfThing.getOrDefault(name, Set.of()))) {
      removeMember(g, name);
    }
    groupsOfThing.remove(name);
    things.remove(name);
    record("T:" + name, "deleteThing", name);
  }

  ThingGroup group(String name) {
    return groups.get(name);
  }

  void add(ThingGroup g) {
    groups.put(g.groupName, g);
    if (g.parentGroupName != null) {
      children.computeIfAbsent(g.parentGroupName, k -> new ArrayList<>()).add(g.groupName);
    }
    record("G:" + g.groupName, "group", g);
  }

  /** Adds a thing to a group; false when it was a member already. */
  boolean addMember(String group, String thing) {
    if (!members.computeIfAbsent(group, k -> new LinkedHashSet<>()).add(thing)) {
      return false;
    }
    groupsOfThing.computeIfAbsent(thing, k -> new LinkedHashSet<>()).add(group);
    record("M:" + group + "/" + thing, "member", List.of(group, thing, true));
    return true;
  }

  /** Removes a thing from a group; false when it was not a member. */
  boolean removeMember(String group, String thing) {
    Set<String> m = members.get(group);
    if (m == null || !m.remove(thing)) {
      return false;
    }
    Set<String> g = groupsOfThing.get(thing);
    if (g != null) {
      g.remove(group);
    }
    record("M:" + group + "/" + thing, "member", List.of(group, thing, false));
    return true;
  }

  /** The direct members of a group, in the order they joined. */
  List<String> directMembers(String group) {
    return List.copyOf(members.getOrDefault(group, Set.of()));
  }

  List<String> childGroups(String group) {
    return List.copyOf(children.getOrDefault(group, List.of()));
  }

  /** The things of a group and of every group nested in it, each once. */
  Set<String> thingsIn(String group) {
    Set<String> out = new LinkedHashSet<>();
    ArrayDeque<String> todo = new ArrayDeque<>();
    todo.add(group);
    Set<String> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      String g = todo.poll();
      if (seen.add(g)) {
        out.addAll(members.getOrDefault(g, Set.of()));
        todo.addAll(children.getOrDefault(g, List.of()));
      }
    }
    return out;
  }

  /** The groups a thing belongs to, directly or through nesting. */
  Set<String> groupsWithAncestors(String thing) {
    Set<String> out = new LinkedHashSet<>();
    for (String g : groupsOfThing.getOrDefault(thing, Set.of())) {
      for (String x = g; x != null && out.add(x); ) {
        ThingGroup tg = groups.get(x);
        x = tg == null ? null : tg.parentGroupName;
      }
    }
    return out;
  }

  List<Thing> things() {
    return List.copyOf(things.values());
  }

  List<ThingGroup> groups() {
    return List.copyOf(groups.values());
  }

  /** Every membership as (group, thing). */
  List<List<String>> memberships() {
    List<List<String>> out = new ArrayList<>();
    members.forEach((g, ts) -> ts.forEach(t -> out.add(List.of(g, t))));
    return out;
  }

  // ------------------------------------------------------------------ principals

  /** Attaches a principal to a thing; false when it was attached already. */
  boolean attach(String thing, String principal) {
    if (!principalsOfThing.computeIfAbsent(thing, k -> new java.util.TreeSet<>()).add(principal)) {
      return false;
    }
    thingsOfPrincipal.computeIfAbsent(principal, k -> new java.util.TreeSet<>()).add(thing);
    principalsChanged = true;
    record("A:" + thing + "/" + principal, "principal", List.of(thing, principal, true));
    return true;
  }

  /** Detaches a principal from a thing; false when it was not attached. */
  boolean detach(String thing, String principal) {
    java.util.TreeSet<String> p = principalsOfThing.get(thing);
    if (p == null || !p.remove(principal)) {
      return false;
    }
    if (p.isEmpty()) {
      principalsOfThing.remove(thing);
    }
    java.util.TreeSet<String> t = thingsOfPrincipal.get(principal);
    t.remove(thing);
    if (t.isEmpty()) {
      thingsOfPrincipal.remove(principal);
    }
    principalsChanged = true;
    record("A:" + thing + "/" + principal, "principal", List.of(thing, principal, false));
    return true;
  }

  /** The principals attached to a thing, sorted. */
  List<String> principalsOf(String thing) {
    return List.copyOf(principalsOfThing.getOrDefault(thing, new java.util.TreeSet<>()));
  }

  /** The things a principal is attached to, sorted. */
  List<String> thingsOf(String principal) {
    return List.copyOf(thingsOfPrincipal.getOrDefault(principal, new java.util.TreeSet<>()));
  }

  /** Every attachment, principal to its things, both sorted: what the ACL file is made from. */
  Map<String, List<String>> attachments() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    thingsOfPrincipal.forEach((p, ts) -> out.put(p, List.copyOf(ts)));
    return out;
  }

  /** Every attachment as (thing, principal), for the snapshot. */
  List<List<String>> principals() {
    List<List<String>> out = new ArrayList<>();
    thingsOfPrincipal.forEach((p, ts) -> ts.forEach(t -> out.add(List.of(t, p))));
    return out;
  }

  /** Whether attachments changed since the last call (the ACL file is due). */
  boolean drainPrincipalsChanged() {
    boolean changed = principalsChanged;
    principalsChanged = false;
    return changed;
  }

  // ------------------------------------------------------------------ jobs

  Job job(String jobId) {
    return jobs.get(jobId);
  }

  void add(Job j) {
    jobs.put(j.jobId, j);
    counts.put(j.jobId, new Counts());
    record("J:" + j.jobId, "job", j);
  }

  /** Records a change of a job's progress (status, rollout window). */
  void touch(Job j) {
    record("P:" + j.jobId, "progress", Job.Progress.of(j));
  }

  List<Job> jobs() {
    return List.copyOf(jobs.values());
  }

  Counts counts(String jobId) {
    return counts.get(jobId);
  }

  /** Removes a job and all its executions. */
  void deleteJob(String jobId) {
    for (Execution e : byJob.getOrDefault(jobId, List.of())) {
      watch(e.thingName);
    }
    jobs.remove(jobId);
    counts.remove(jobId);
    unreleased.remove(jobId);
    abortChecks.remove(jobId);
    for (Execution e : byJob.getOrDefault(jobId, List.of())) {
      byId.remove(e.id());
      List<Execution> l = byThing.get(e.thingName);
      l.remove(e);
      if (l.isEmpty()) {
        byThing.remove(e.thingName);
      }
    }
    byJob.remove(jobId);
    deletions++;
    record("D:" + deletions, "deleteJob", jobId);
  }

  // ------------------------------------------------------------------ executions

  /** Adds a new execution; it becomes its thing's latest of that job. */
  void add(Execution e) {
    watch(e.thingName);
    Counts c = counts.get(e.jobId);
    Execution previous = execution(e.thingName, e.jobId, null);
    if (previous != null) {
      c.thing(previous.status, -1);
    }
    byThing.computeIfAbsent(e.thingName, k -> new ArrayList<>()).add(e);
    byJob.computeIfAbsent(e.jobId, k -> new ArrayList<>()).add(e);
    byId.put(e.id(), e);
    c.thing(e.status, 1);
    c.execution(e.status, 1);
    lastSeq = Math.max(lastSeq, e.queueSeq);
    if (e.released()) {
      countRelease(e, c);
    } else if (!e.status.isTerminal()) {
      unreleased.computeIfAbsent(e.jobId, k -> new ArrayDeque<>()).add(e);
    }
    touch(e);
  }

  /** Records a change of an execution and arms its timeout. */
  void touch(Execution e) {
    record("E:" + e.id(), "execution", e);
    if (e.timeoutAt != null
        && e.status == ExecutionStatus.IN_PROGRESS
        && !e.timeoutAt.equals(e.armedFor)) {
      // One timer per deadline: progress updates that keep the timer add none.
      timers.add(new Timer(e.timeoutAt, e));
      e.armedFor = e.timeoutAt;
    }
  }

  /** Changes an execution's status, keeping the counts. */
  void setStatus(Execution e, ExecutionStatus to) {
    watch(e.thingName);
    Counts c = counts.get(e.jobId);
    if (execution(e.thingName, e.jobId, null) == e) {
      c.thing(e.status, -1);
      c.thing(to, 1);
    }
    c.execution(e.status, -1);
    c.execution(to, 1);
    e.status = to;
    if (to.isTerminal()) {
      e.timeoutAt = null;
      abortChecks.add(e.jobId);
    }
    touch(e);
  }

  /** Delivers an execution to its thing: it joins the thing's queue. */
  void release(Execution e, long now) {
    watch(e.thingName);
    e.releasedAt = now;
    e.queueSeq = nextSeq();
    countRelease(e, counts.get(e.jobId));
    touch(e);
  }

  private void countRelease(Execution e, Counts c) {
    c.releasedExecutions++;
    for (Execution x : byThing.getOrDefault(e.thingName, List.of())) {
      if (x != e && x.jobId.equals(e.jobId) && x.released()) {
        return;
      }
    }
    c.notifiedThings++;
  }

  /** Removes one execution (DeleteJobExecution); the job's counts are worked out again. */
  void deleteExecution(Execution e) {
    watch(e.thingName);
    byId.remove(e.id());
    List<Execution> l = byThing.get(e.thingName);
    l.remove(e);
    if (l.isEmpty()) {
      byThing.remove(e.thingName);
    }
    byJob.get(e.jobId).remove(e);
    ArrayDeque<Execution> q = unreleased.get(e.jobId);
    if (q != null) {
      q.remove(e);
    }
    recount(e.jobId);
    deletions++;
    record("D:" + deletions, "deleteExecution", e.id());
  }

  private void recount(String jobId) {
    Counts c = new Counts();
    counts.put(jobId, c);
    for (Execution e : byJob.getOrDefault(jobId, List.of())) {
      c.execution(e.status, 1);
      if (execution(e.thingName, e.jobId, null) == e) {
        c.thing(e.status, 1);
      }
    }
    Set<String> notified = new java.util.HashSet<>();
    for (Execution e : byJob.getOrDefault(jobId, List.of())) {
      if (e.released()) {
        c.releasedExecutions++;
        if (notified.add(e.thingName)) {
          c.notifiedThings++;
        }
      }
    }
  }

  Execution byId(String id) {
    return byId.get(id);
  }

  /**
   * The next execution of a job waiting for its rollout, or null; executions that ended while they
   * waited (canceled) are dropped from the wait list.
   */
  Execution nextUnreleased(String jobId) {
    ArrayDeque<Execution> q = unreleased.get(jobId);
    while (q != null && !q.isEmpty()) {
      Execution e = q.peek();
      if (!e.released() && e.status == ExecutionStatus.QUEUED && byId.get(e.id()) == e) {
        return e;
      }
      q.poll();
    }
    unreleased.remove(jobId);
    return null;
  }

  /** Takes up to {@code n} executions of a job waiting for their rollout, in creation order. */
  List<Execution> takeUnreleased(String jobId, int n) {
    List<Execution> out = new ArrayList<>();
    while (out.size() < n) {
      Execution e = nextUnreleased(jobId);
      if (e == null) {
        break;
      }
      unreleased.get(jobId).poll();
      out.add(e);
    }
    if (unreleased.containsKey(jobId) && unreleased.get(jobId).isEmpty()) {
      unreleased.remove(jobId);
    }
    return out;
  }

  /** Jobs with executions waiting for their rollout. */
  List<String> rollingOut() {
    return List.copyOf(unreleased.keySet());
  }

  /** The timer due first, without removing it; null when none. */
  Timer nextTimer() {
    return timers.peek();
  }

  Timer pollTimer() {
    return timers.poll();
  }

  /** Jobs with a terminal status since the last call: their abort criteria are due. */
  List<String> drainAbortChecks() {
    List<String> out = List.copyOf(abortChecks);
    abortChecks.clear();
    return out;
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

  /** Every execution, in the order they were created per job. */
  List<Execution> executions() {
    List<Execution> all = new ArrayList<>();
    byJob.values().forEach(all::addAll);
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
   * The thing's delivered pending executions as AWS IoT orders them: IN_PROGRESS first, then
   * QUEUED, each in queue order. The head of this list is what {@code $next} and start-next mean.
   * Executions still waiting for their rollout are not in it.
   */
  List<Execution> pending(String thingName) {
    List<Execution> inProgress = new ArrayList<>();
    List<Execution> queued = new ArrayList<>();
    for (Execution e : byThing.getOrDefault(thingName, List.of())) {
      if (e.status == ExecutionStatus.IN_PROGRESS) {
        inProgress.add(e);
      } else if (e.status == ExecutionStatus.QUEUED && e.released()) {
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

  /** The executions of one thing, of every job. */
  List<Execution> executionsOn(String thingName) {
    return List.copyOf(byThing.getOrDefault(thingName, List.of()));
  }

  /**
   * One execution of a job on a thing.
   *
   * @param executionNumber which one; null for the latest
   * @return the execution, or null
   */
  Execution execution(String thingName, String jobId, Long executionNumber) {
    if (executionNumber != null) {
      return byId.get(thingName + "/" + jobId + "#" + executionNumber);
    }
    Execution found = null;
    for (Execution e : byThing.getOrDefault(thingName, List.of())) {
      if (e.jobId.equals(jobId) && (found == null || e.executionNumber > found.executionNumber)) {
        found = e;
      }
    }
    return found;
  }
}
