package org.gantry.hub.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.gantry.protocol.ExecutionStatus;

/**
 * The management API's read operations on lists and things (ListJobs, ListThings, DescribeThing,
 * ListThingGroups, ListJobExecutionsForJob, ListJobExecutionsForThing) and the Gantry extension
 * {@code rolloutStatus} of DescribeJob. Runs on the hub thread, reads only; every list is paged by
 * {@link Paging}.
 */
final class Listings {
  private static final long MINUTE = 60_000L;
  private static final List<String> JOB_STATUSES =
      List.of("IN_PROGRESS", "CANCELED", "COMPLETED", "DELETION_IN_PROGRESS", "SCHEDULED");

  private final HubCore core;
  private final Arns arns;

  Listings(HubCore core, Arns arns) {
    this.core = core;
    this.arns = arns;
  }

  // ------------------------------------------------------------------ jobs

  /**
   * {@code GET /jobs[?status=&targetSelection=&thingGroupName=&thingGroupId=&namespaceId=
   * &maxResults=&nextToken=]}, oldest first. The hub has no namespaces: a {@code namespaceId}
   * filter matches no job.
   */
  JsonObject listJobs(Map<String, String> q) throws ApiException {
    String status = q.get("status");
    if (status != null && !JOB_STATUSES.contains(status)) {
      throw ApiException.invalid(
          "status must be one of " + JOB_STATUSES + ", got " + Texts.clip(status) + ".");
    }
    String selection = q.get("targetSelection");
    if (selection != null && !selection.equals(Job.SNAPSHOT) && !selection.equals(Job.CONTINUOUS)) {
      throw ApiException.invalid("targetSelection must be SNAPSHOT or CONTINUOUS.");
    }
    String groupName = q.get("thingGroupName");
    if (groupName != null) {
      ControlPlane.requireGroupName(groupName);
    }
    String groupId = q.get("thingGroupId");
    boolean noNamespace = q.get("namespaceId") == null;
    HubState s = core.state();
    List<Job> jobs = new ArrayList<>();
    for (Job j : s.jobs()) {
      if ((status == null || status.equals(j.status))
          && (selection == null || selection.equals(j.targetSelection))
          && (groupName == null || j.groupTargets.contains(groupName))
          && (groupId == null || targetsGroupId(s, j, groupId))
          && noNamespace) {
        jobs.add(j);
      }
    }
    Function<Job, String> key = j -> Paging.number(j.createdAt) + " " + j.jobId;
    jobs.sort(Comparator.comparing(key));
    Paging.Page<Job> page = Paging.page(jobs, key, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    for (Job j : page.items()) {
      JsonObject o = new JsonObject();
      o.addProperty("jobArn", arns.job(j.jobId));
      o.addProperty("jobId", j.jobId);
      if (!j.groupTargets.isEmpty()) {
        ThingGroup g = s.group(j.groupTargets.get(0));
        if (g != null) {
          o.addProperty("thingGroupId", g.groupId);
        }
      }
      o.addProperty("targetSelection", j.targetSelection);
      o.addProperty("status", j.status);
      o.add("createdAt", ControlPlane.time(j.createdAt));
      o.add("lastUpdatedAt", ControlPlane.time(j.lastUpdatedAt));
      if (j.completedAt != null) {
        o.add("completedAt", ControlPlane.time(j.completedAt));
      }
      o.addProperty("isConcurrent", false);
      a.add(o);
    }
    JsonObject o = new JsonObject();
    o.add("jobs", a);
    nextToken(o, page);
    return o;
  }

  private static boolean targetsGroupId(HubState s, Job j, String groupId) {
    for (String g : j.groupTargets) {
      ThingGroup tg = s.group(g);
      if (tg != null && tg.groupId.equals(groupId)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Gantry's extension of DescribeJob (the SDK ignores it): how the rollout stands now, for the
   * operators' live view. {@code currentRatePerMinute} and {@code maximumPerMinute} are null for a
   * job without a rollout configuration.
   */
  JsonObject rolloutStatus(Job j) {
    HubState s = core.state();
    long now = core.nowMillis();
    int waiting = 0;
    int deliveredLastMinute = 0;
    for (Execution e : s.executionsOf(j.jobId)) {
      if (!e.released() && e.status == ExecutionStatus.QUEUED) {
        waiting++;
      }
      if (e.released() && e.releasedAt > now - MINUTE && e.releasedAt <= now) {
        deliveredLastMinute++;
      }
    }
    JsonObject o = new JsonObject();
    o.addProperty("notifiedThings", s.counts(j.jobId).notifiedThings);
    o.addProperty("waitingExecutions", waiting);
    if (j.rollout == null) {
      o.add("currentRatePerMinute", JsonNull.INSTANCE);
      o.add("maximumPerMinute", JsonNull.INSTANCE);
    } else {
      o.addProperty("currentRatePerMinute", Rules.rate(s, j));
      o.addProperty("maximumPerMinute", j.rollout.maximumPerMinute());
    }
    o.addProperty("deliveredLastMinute", deliveredLastMinute);
    return o;
  }

  // ------------------------------------------------------------------ executions

  /**
   * {@code GET /jobs/{jobId}/things[?status=&maxResults=&nextToken=]}: in the order the executions
   * were queued (thing name, then execution number, between executions queued at the same time).
   */
  JsonObject listJobExecutionsForJob(String jobId, Map<String, String> q) throws ApiException {
    ControlPlane.requireJobId(jobId);
    if (core.state().job(jobId) == null) {
      throw ApiException.notFound("Job " + jobId + " does not exist.");
    }
    ExecutionStatus filter = executionStatus(q.get("status"));
    List<Execution> all = new ArrayList<>();
    for (Execution e : core.state().executionsOf(jobId)) {
      if (filter == null || e.status == filter) {
        all.add(e);
      }
    }
    Function<Execution, String> key =
        e -> Paging.number(e.queuedAt) + " " + e.thingName + " " + Paging.number(e.executionNumber);
    all.sort(Comparator.comparing(key));
    Paging.Page<Execution> page = Paging.page(all, key, q.get("maxResults"), q.get("nextToken"));
    JsonArray summaries = new JsonArray();
    for (Execution e : page.items()) {
      JsonObject item = new JsonObject();
      item.addProperty("thingArn", arns.thing(e.thingName));
      item.add("jobExecutionSummary", summary(e));
      summaries.add(item);
    }
    JsonObject o = new JsonObject();
    o.add("executionSummaries", summaries);
    nextToken(o, page);
    return o;
  }

  /**
   * {@code GET /things/{thingName}/jobs[?status=&jobId=&namespaceId=&maxResults=&nextToken=]}:
   * every execution on the thing (retries included), in the order they were queued.
   */
  JsonObject listJobExecutionsForThing(String thingName, Map<String, String> q)
      throws ApiException {
    ControlPlane.requireThingName(thingName);
    ExecutionStatus filter = executionStatus(q.get("status"));
    String jobId = q.get("jobId");
    if (jobId != null) {
      ControlPlane.requireJobId(jobId);
    }
    if (core.state().thing(thingName) == null) {
      throw ApiException.notFound("Thing " + thingName + " does not exist.");
    }
    boolean noNamespace = q.get("namespaceId") == null;
    List<Execution> all = new ArrayList<>();
    for (Execution e : core.state().executionsOn(thingName)) {
      if ((filter == null || e.status == filter)
          && (jobId == null || jobId.equals(e.jobId))
          && noNamespace) {
        all.add(e);
      }
    }
    Function<Execution, String> key =
        e -> Paging.number(e.queuedAt) + " " + e.jobId + " " + Paging.number(e.executionNumber);
    all.sort(Comparator.comparing(key));
    Paging.Page<Execution> page = Paging.page(all, key, q.get("maxResults"), q.get("nextToken"));
    JsonArray summaries = new JsonArray();
    for (Execution e : page.items()) {
      JsonObject item = new JsonObject();
      item.addProperty("jobId", e.jobId);
      item.add("jobExecutionSummary", summary(e));
      summaries.add(item);
    }
    JsonObject o = new JsonObject();
    o.add("executionSummaries", summaries);
    nextToken(o, page);
    return o;
  }

  private static JsonObject summary(Execution e) {
    JsonObject s = new JsonObject();
    s.addProperty("status", e.status.name());
    s.add("queuedAt", ControlPlane.time(e.queuedAt));
    if (e.startedAt != null) {
      s.add("startedAt", ControlPlane.time(e.startedAt));
    }
    s.add("lastUpdatedAt", ControlPlane.time(e.lastUpdatedAt));
    s.addProperty("executionNumber", e.executionNumber);
    return s;
  }

  private static ExecutionStatus executionStatus(String status) throws ApiException {
    if (status == null) {
      return null;
    }
    try {
      return ExecutionStatus.valueOf(status);
    } catch (IllegalArgumentException e) {
      throw ApiException.invalid("status " + Texts.clip(status) + " is not an execution status.");
    }
  }

  // ------------------------------------------------------------------ things and groups

  /**
   * {@code GET /things/{thingName}}. {@code version} is always 1: the hub has no UpdateThing, so a
   * thing's attributes never change after CreateThing.
   */
  JsonObject describeThing(String thingName) throws ApiException {
    Thing t = thing(thingName);
    JsonObject o = new JsonObject();
    o.addProperty("defaultClientId", t.thingName);
    o.addProperty("thingName", t.thingName);
    o.addProperty("thingId", t.thingId);
    o.addProperty("thingArn", arns.thing(t.thingName));
    o.add("attributes", attributes(t));
    o.addProperty("version", 1);
    return o;
  }

  /**
   * {@code GET /things[?attributeName=&attributeValue=&usePrefixAttributeValue=&thingTypeName=
   * &maxResults=&nextToken=]}, by name. The hub has no thing types: a {@code thingTypeName} filter
   * matches no thing.
   */
  JsonObject listThings(Map<String, String> q) throws ApiException {
    String name = q.get("attributeName");
    String value = q.get("attributeValue");
    if (value != null && name == null) {
      throw ApiException.invalid("attributeValue needs attributeName.");
    }
    boolean prefix = ApiServer.flag(q, "usePrefixAttributeValue");
    boolean noType = q.get("thingTypeName") == null;
    List<Thing> things = new ArrayList<>();
    for (Thing t : core.state().things()) {
      String v = name == null ? null : t.attributes.get(name);
      boolean match =
          name == null
              || (v != null && (value == null || (prefix ? v.startsWith(value) : v.equals(value))));
      if (match && noType) {
        things.add(t);
      }
    }
    Function<Thing, String> key = t -> t.thingName;
    things.sort(Comparator.comparing(key));
    Paging.Page<Thing> page = Paging.page(things, key, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    for (Thing t : page.items()) {
      JsonObject o = new JsonObject();
      o.addProperty("thingName", t.thingName);
      o.addProperty("thingArn", arns.thing(t.thingName));
      o.add("attributes", attributes(t));
      o.addProperty("version", 1);
      a.add(o);
    }
    JsonObject o = new JsonObject();
    o.add("things", a);
    nextToken(o, page);
    return o;
  }

  /**
   * {@code GET /thing-groups[?parentGroup=&namePrefixFilter=&recursive=&maxResults=&nextToken=]},
   * by name: with {@code parentGroup} its child groups (all its descendants with {@code
   * recursive=true}); without, every group ({@code recursive=false}: root groups only).
   */
  JsonObject listThingGroups(Map<String, String> q) throws ApiException {
    String parent = q.get("parentGroup");
    String prefix = q.get("namePrefixFilter");
    boolean recursive = q.get("recursive") == null || ApiServer.flag(q, "recursive");
    if (parent != null) {
      ControlPlane.requireGroupName(parent);
      if (core.state().group(parent) == null) {
        throw ApiException.notFound("Thing group " + parent + " does not exist.");
      }
      recursive = ApiServer.flag(q, "recursive");
    }
    HubState s = core.state();
    List<ThingGroup> groups = new ArrayList<>();
    for (ThingGroup g : s.groups()) {
      boolean under =
          parent == null
              ? recursive || g.parentGroupName == null
              : recursive ? descends(s, g, parent) : parent.equals(g.parentGroupName);
      if (under && (prefix == null || g.groupName.startsWith(prefix))) {
        groups.add(g);
      }
    }
    Function<ThingGroup, String> key = g -> g.groupName;
    groups.sort(Comparator.comparing(key));
    Paging.Page<ThingGroup> page =
        Paging.page(groups, key, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    for (ThingGroup g : page.items()) {
      JsonObject o = new JsonObject();
      o.addProperty("groupName", g.groupName);
      o.addProperty("groupArn", arns.thingGroup(g.groupName));
      a.add(o);
    }
    JsonObject o = new JsonObject();
    o.add("thingGroups", a);
    nextToken(o, page);
    return o;
  }

  private static boolean descends(HubState s, ThingGroup g, String ancestor) {
    for (String p = g.parentGroupName; p != null; ) {
      if (p.equals(ancestor)) {
        return true;
      }
      ThingGroup pg = s.group(p);
      p = pg == null ? null : pg.parentGroupName;
    }
    return false;
  }

  private Thing thing(String thingName) throws ApiException {
    ControlPlane.requireThingName(thingName);
    Thing t = core.state().thing(thingName);
    if (t == null) {
      throw ApiException.notFound("Thing " + thingName + " does not exist.");
    }
    return t;
  }

  private static JsonObject attributes(Thing t) {
    JsonObject a = new JsonObject();
    t.attributes.forEach(a::addProperty);
    return a;
  }

  static void nextToken(JsonObject o, Paging.Page<?> page) {
    if (page.nextToken() != null) {
      o.addProperty("nextToken", page.nextToken());
    }
  }
}
