package org.gantry.hub.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management API's operations in the AWS IoT control-plane shapes (the JSON field names of the
 * AWS IoT API reference, as the AWS SDK for Java v2 model spells them). Runs on the hub thread;
 * requests and answers are Gson trees, the HTTP layer is {@link ApiServer}.
 */
final class ControlPlane {
  private static final Logger LOG = LoggerFactory.getLogger(ControlPlane.class);
  private static final int MAX_DESCRIPTION = 2028;
  private static final int MAX_ATTRIBUTES = 50;
  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-zA-Z0-9_.,@/:#-]{1,128}");
  private static final Pattern ATTRIBUTE_VALUE =
      Pattern.compile("[a-zA-Z0-9_.,@/:#=\\[\\]-]{0,800}");

  /** CreateJob fields of features that later issues bring; refused until then. */
  private static final List<String> NOT_YET =
      List.of(
          "tags",
          "namespaceId",
          "jobTemplateArn",
          "documentParameters",
          "schedulingConfig",
          "destinationPackageVersions");

  private final HubCore core;
  private final Arns arns;
  private final Artifacts artifacts;
  private final Listings listings;
  private final Principals principals;

  ControlPlane(HubCore core, Arns arns) {
    this(core, arns, null);
  }

  /**
   * @param artifacts the hub's artifact store and URL signer, for {@code documentSource} and {@code
   *     presignedUrlConfig}; null refuses both
   */
  ControlPlane(HubCore core, Arns arns, Artifacts artifacts) {
    this.core = core;
    this.arns = arns;
    this.artifacts = artifacts;
    this.listings = new Listings(core, arns);
    this.principals = new Principals(core);
  }

  /** The thing principals' operations. */
  Principals principals() {
    return principals;
  }

  /** The read operations on lists and things. */
  Listings listings() {
    return listings;
  }

  // ------------------------------------------------------------------ CreateThing

  /** {@code POST /things/{thingName}}: idempotent for the same attributes, as in AWS IoT. */
  JsonObject createThing(String thingName, JsonObject body, List<Outbound> out)
      throws ApiException {
    requireThingName(thingName);
    refuse(body, "thingTypeName", "thing types");
    refuse(body, "billingGroupName", "billing groups");
    Map<String, String> attributes = attributes(body);
    Thing existing = core.state().thing(thingName);
    if (existing != null) {
      if (existing.attributes.equals(attributes)) {
        return thingAnswer(existing);
      }
      throw ApiException.exists(
          "Thing " + thingName + " already exists with different attributes.",
          existing.thingId,
          arns.thing(thingName));
    }
    Thing t =
        core.change(
            out,
            s -> {
              Thing n = newThing(thingName);
              n.attributes = new LinkedHashMap<>(attributes);
              s.add(n);
              return n;
            });
    LOG.info("Thing {} created", thingName);
    return thingAnswer(t);
  }

  /**
   * {@code DELETE /things/{thingName}[?expectedVersion=N]}: a thing that does not exist is no error
   * (as in AWS IoT). A thing with principals attached is refused (as in AWS IoT), and so is one
   * with job executions (Gantry: an execution always names a registered thing; delete the
   * executions or their jobs first).
   */
  JsonObject deleteThing(String thingName, String expectedVersion, List<Outbound> out)
      throws ApiException {
    requireThingName(thingName);
    Long expected =
        expectedVersion == null
            ? null
            : parseLong(expectedVersion, "expectedVersion", 0, Long.MAX_VALUE);
    Thing t = core.state().thing(thingName);
    if (t == null) {
      return new JsonObject();
    }
    if (expected != null && expected != 1) {
      throw new ApiException(
          409,
          "VersionConflictException",
          "expectedVersion is " + expected + " but thing " + thingName + " is at version 1.");
    }
    if (!core.state().principalsOf(thingName).isEmpty()) {
      throw ApiException.invalid(
          "Cannot delete thing "
              + thingName
              + ": it is still attached to principals "
              + core.state().principalsOf(thingName)
              + "; detach them first.");
    }
    int executions = core.state().executionsOn(thingName).size();
    if (executions > 0) {
      throw ApiException.invalid(
          "Cannot delete thing "
              + thingName
              + ": it has "
              + executions
              + " job executions; delete them (DeleteJobExecution) or their jobs first.");
    }
    // No executions, so no job loses a target by this: only the memberships go with the thing.
    core.change(
        out,
        s -> {
          s.removeThing(thingName);
          return null;
        });
    LOG.info("Thing {} deleted", thingName);
    return new JsonObject();
  }

  private Thing newThing(String thingName) {
    Thing n = new Thing();
    n.thingName = thingName;
    n.thingId = UUID.randomUUID().toString();
    n.createdAt = core.nowMillis();
    return n;
  }

  private JsonObject thingAnswer(Thing t) {
    JsonObject o = new JsonObject();
    o.addProperty("thingName", t.thingName);
    o.addProperty("thingArn", arns.thing(t.thingName));
    o.addProperty("thingId", t.thingId);
    return o;
  }

  private static Map<String, String> attributes(JsonObject body) throws ApiException {
    Map<String, String> out = new LinkedHashMap<>();
    JsonObject payload = object(body, "attributePayload");
    if (payload == null) {
      return out;
    }
    JsonObject attrs = object(payload, "attributes");
    if (attrs == null) {
      return out;
    }
    if (attrs.size() > MAX_ATTRIBUTES) {
      throw ApiException.invalid("attributePayload.attributes has more than 50 entries.");
    }
    for (Map.Entry<String, JsonElement> e : attrs.entrySet()) {
      if (!ATTRIBUTE_NAME.matcher(e.getKey()).matches()) {
        throw ApiException.invalid(
            "Attribute name "
                + Texts.clip(e.getKey())
                + " is not 1-128 characters of [a-zA-Z0-9_.,@/:#-].");
      }
      String v = string(attrs, e.getKey(), "attributePayload.attributes." + e.getKey());
      if (v == null || !ATTRIBUTE_VALUE.matcher(v).matches()) {
        throw ApiException.invalid(
            "Attribute "
                + e.getKey()
                + " must be a string of at most 800 characters of [a-zA-Z0-9_.,@/:#=[]-].");
      }
      out.put(e.getKey(), v);
    }
    return out;
  }

  // ------------------------------------------------------------------ CreateJob

  /**
   * {@code PUT /jobs/{jobId}}: a SNAPSHOT or CONTINUOUS job whose document is given inline. One
   * execution is queued on each target thing (the things named and those of the groups named,
   * nested groups included); without a rollout each is delivered at once, with one the rollout
   * delivers them at its rate. A thing the hub has not seen yet is registered (AWS IoT would refuse
   * it: the hub has no fleet registry to check against); a group must exist.
   */
  JsonObject createJob(String jobId, JsonObject body, List<Outbound> out) throws ApiException {
    if (!Limits.isValidJobId(jobId)) {
      throw ApiException.invalid(
          "jobId " + Texts.clip(jobId) + " is not 1-64 characters of [a-zA-Z0-9_-].");
    }
    for (String field : NOT_YET) {
      if (present(body, field)) {
        throw ApiException.invalid(field + " is not supported by this hub yet.");
      }
    }
    String documentSource = string(body, "documentSource", "documentSource");
    String document = string(body, "document", "document");
    if (documentSource != null) {
      if (document != null) {
        throw ApiException.invalid("Give either document or documentSource, not both.");
      }
      document = needArtifacts("documentSource").documentSource(documentSource);
    }
    if (document == null) {
      throw ApiException.invalid(
          "document is required: the job document as a JSON string (or documentSource).");
    }
    checkDocument(document);
    Long presignedExpiry = presignedUrlExpiry(body);
    if (presignedExpiry != null) {
      needArtifacts("presignedUrlConfig").checkPlaceholders(document);
    } else if (Artifacts.hasPlaceholders(document)) {
      throw ApiException.invalid(
          "The document has presigned-URL placeholders but the job has no presignedUrlConfig:"
              + " give presignedUrlConfig.expiresInSec (60-3600) so the hub can replace them.");
    }
    String source = documentSource;
    String doc = document;
    String description = string(body, "description", "description");
    if (description != null && description.length() > MAX_DESCRIPTION) {
      throw ApiException.invalid("description is longer than 2028 characters.");
    }
    String selection = string(body, "targetSelection", "targetSelection");
    if (selection != null && !selection.equals(Job.SNAPSHOT) && !selection.equals(Job.CONTINUOUS)) {
      throw ApiException.invalid("targetSelection must be SNAPSHOT or CONTINUOUS.");
    }
    Long timeout = null;
    JsonObject timeoutConfig = object(body, "timeoutConfig");
    if (timeoutConfig != null) {
      timeout = number(timeoutConfig, "inProgressTimeoutInMinutes");
      if (timeout != null && (timeout < 1 || timeout > 10_080)) {
        throw ApiException.invalid(
            "timeoutConfig.inProgressTimeoutInMinutes must be 1-10080, got " + timeout + ".");
      }
    }
    Job.Rollout rollout = JobConfigs.rollout(object(body, "jobExecutionsRolloutConfig"));
    List<Job.AbortCriterion> abort = JobConfigs.abort(object(body, "abortConfig"));
    List<Job.RetryCriterion> retry = JobConfigs.retry(object(body, "jobExecutionsRetryConfig"));
    List<String> things = new ArrayList<>();
    List<String> groups = new ArrayList<>();
    targets(body, things, groups);
    for (String g : groups) {
      if (core.state().group(g) == null) {
        throw ApiException.notFound("Thing group " + g + " does not exist.");
      }
    }
    if (core.state().job(jobId) != null) {
      throw ApiException.exists("Job " + jobId + " already exists.", jobId, arns.job(jobId));
    }
    if (selection != null && selection.equals(Job.CONTINUOUS) && groups.isEmpty()) {
      throw ApiException.invalid(
          "A CONTINUOUS job needs at least one thing group among its targets.");
    }
    Long inProgressTimeout = timeout;
    long now = core.nowMillis();
    int queued =
        core.change(
            out,
            s -> {
              Job j = new Job();
              j.jobId = jobId;
              j.document = doc;
              j.documentSource = source;
              j.presignedUrlExpiresInSec = presignedExpiry;
              j.description = description;
              j.targetSelection = selection == null ? Job.SNAPSHOT : selection;
              j.targets = new ArrayList<>(things);
              j.groupTargets = new ArrayList<>(groups);
              j.createdAt = now;
              j.lastUpdatedAt = now;
              j.inProgressTimeoutInMinutes = inProgressTimeout;
              j.rollout = rollout;
              j.abortCriteria = new ArrayList<>(abort);
              j.retryCriteria = new ArrayList<>(retry);
              j.rolloutLast = now;
              s.add(j);
              for (String thing : things) {
                if (s.thing(thing) == null) {
                  s.add(newThing(thing));
                }
              }
              int n = 0;
              for (String thing : Rules.targetThings(s, j)) {
                Rules.queue(s, j, thing, now, null);
                n++;
              }
              Rules.completeIfDone(s, j, now);
              return n;
            });
    Rules.log(
        jobId,
        null,
        "Job {} created ({}): {} executions for things {} and groups {}{}",
        jobId,
        selection == null ? Job.SNAPSHOT : selection,
        queued,
        things.size() > 20 ? things.size() + " things" : things,
        groups,
        rollout == null ? "" : ", delivered by a rollout");
    JsonObject o = new JsonObject();
    o.addProperty("jobArn", arns.job(jobId));
    o.addProperty("jobId", jobId);
    if (description != null) {
      o.addProperty("description", description);
    }
    return o;
  }

  private static void targets(JsonObject body, List<String> things, List<String> groups)
      throws ApiException {
    JsonElement t = body.get("targets");
    if (t == null || t.isJsonNull()) {
      throw ApiException.invalid("targets is required: a list of thing or thing group ARNs.");
    }
    if (!t.isJsonArray() || t.getAsJsonArray().isEmpty()) {
      throw ApiException.invalid("targets must be a non-empty list of thing or thing group ARNs.");
    }
    Set<String> seenThings = new LinkedHashSet<>();
    Set<String> seenGroups = new LinkedHashSet<>();
    for (JsonElement e : t.getAsJsonArray()) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw ApiException.invalid("targets must contain strings (thing or thing group ARNs).");
      }
      Arns.Target target = Arns.target(e.getAsString());
      (target.group() ? seenGroups : seenThings).add(target.name());
    }
    things.addAll(seenThings);
    groups.addAll(seenGroups);
  }

  /** A job document is one JSON object of at most 32,768 characters. */
  static void checkDocument(String document) throws ApiException {
    if (document.length() > Limits.MAX_DOCUMENT_CHARS) {
      throw ApiException.invalid(
          "document is " + document.length() + " characters long; at most 32768 are allowed.");
    }
    try (JsonReader r = new JsonReader(new StringReader(document))) {
      r.setStrictness(Strictness.STRICT);
      r.setNestingLimit(64);
      if (r.peek() != JsonToken.BEGIN_OBJECT) {
        throw ApiException.invalid("document must be a JSON object.");
      }
      r.skipValue();
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw ApiException.invalid("document has text after its JSON object.");
      }
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw ApiException.invalid("document is not valid JSON: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ cancel and delete

  /**
   * {@code PUT /jobs/{jobId}/cancel[?force=true]}: QUEUED executions become CANCELED (with their
   * notifications); IN_PROGRESS ones too when forced, otherwise they run to their end. A canceled
   * job may be canceled again with force, to stop what still runs.
   */
  JsonObject cancelJob(String jobId, boolean force, JsonObject body, List<Outbound> out)
      throws ApiException {
    Job j = job(jobId);
    String reasonCode = string(body, "reasonCode", "reasonCode");
    if (reasonCode != null && !reasonCode.matches("[\\p{Upper}\\p{Digit}_]{1,128}")) {
      throw ApiException.invalid("reasonCode must be 1-128 characters of [A-Z0-9_].");
    }
    String comment = string(body, "comment", "comment");
    if (comment != null && comment.length() > 2028) {
      throw ApiException.invalid("comment is longer than 2028 characters.");
    }
    if (Job.COMPLETED.equals(j.status)) {
      throw ApiException.stateTransition("Job " + jobId + " is COMPLETED and cannot be canceled.");
    }
    if (Job.CANCELED.equals(j.status) && (!force || j.forceCanceled)) {
      throw ApiException.stateTransition(
          "Job " + jobId + " is already CANCELED" + (force ? " with force." : "; use force."));
    }
    long now = core.nowMillis();
    core.change(
        out,
        s -> {
          Rules.cancelJob(s, j, force, reasonCode, comment, now);
          return null;
        });
    Rules.log(jobId, null, "Job {} canceled{}", jobId, force ? " with force" : "");
    JsonObject o = new JsonObject();
    o.addProperty("jobArn", arns.job(jobId));
    o.addProperty("jobId", jobId);
    if (j.description != null) {
      o.addProperty("description", j.description);
    }
    return o;
  }

  /**
   * {@code PUT /things/{thingName}/jobs/{jobId}/cancel[?force=true]}: a QUEUED execution becomes
   * CANCELED; an IN_PROGRESS one only with force (otherwise InvalidStateTransitionException).
   */
  JsonObject cancelJobExecution(
      String thingName, String jobId, boolean force, JsonObject body, List<Outbound> out)
      throws ApiException {
    requireThingName(thingName);
    job(jobId);
    Execution e = core.state().execution(thingName, jobId, null);
    if (e == null) {
      throw ApiException.notFound("Thing " + thingName + " has no execution of job " + jobId + ".");
    }
    Long expected = number(body, "expectedVersion");
    Map<String, String> details = null;
    JsonObject d = object(body, "statusDetails");
    if (d != null) {
      details = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> x : d.entrySet()) {
        details.put(x.getKey(), string(d, x.getKey(), "statusDetails." + x.getKey()));
      }
      var why = Limits.checkStatusDetails(details);
      if (why.isPresent()) {
        throw ApiException.invalid(why.get());
      }
    }
    if (e.status.isTerminal()) {
      throw ApiException.stateTransition(
          "Execution "
              + e.executionNumber
              + " of job "
              + jobId
              + " on "
              + thingName
              + " is already "
              + e.status
              + ".");
    }
    if (e.status == ExecutionStatus.IN_PROGRESS && !force) {
      throw ApiException.stateTransition(
          "Execution "
              + e.executionNumber
              + " of job "
              + jobId
              + " on "
              + thingName
              + " is IN_PROGRESS; cancel it with force.");
    }
    if (expected != null && expected != e.versionNumber) {
      throw new ApiException(
          409,
          "VersionConflictException",
          "expectedVersion is "
              + expected
              + " but the execution is at version "
              + e.versionNumber
              + ".");
    }
    Map<String, String> newDetails = details;
    long now = core.nowMillis();
    core.change(
        out,
        s -> {
          e.forceCanceled = e.status == ExecutionStatus.IN_PROGRESS;
          if (newDetails != null) {
            e.statusDetails = newDetails;
          }
          Rules.serviceStatus(s, e, ExecutionStatus.CANCELED, now);
          return null;
        });
    Rules.log(
        jobId,
        thingName,
        "Job {} on {}: execution {} CANCELED{}",
        jobId,
        thingName,
        e.executionNumber,
        force ? " with force" : "");
    return new JsonObject();
  }

  /**
   * {@code DELETE /jobs/{jobId}[?force=true]}: the job and all its executions are gone at once (the
   * hub has no background deletion, so DELETION_IN_PROGRESS is never seen). A job that is still
   * IN_PROGRESS needs force.
   */
  JsonObject deleteJob(String jobId, boolean force, List<Outbound> out) throws ApiException {
    Job j = job(jobId);
    if (Job.IN_PROGRESS.equals(j.status) && !force) {
      throw ApiException.stateTransition("Job " + jobId + " is IN_PROGRESS; delete it with force.");
    }
    if (!force) {
      for (Execution e : core.state().executionsOf(jobId)) {
        if (e.status == ExecutionStatus.IN_PROGRESS) {
          throw ApiException.stateTransition(
              "Job "
                  + jobId
                  + " still has an IN_PROGRESS execution on "
                  + e.thingName
                  + "; delete it with force.");
        }
      }
    }
    core.change(
        out,
        s -> {
          s.deleteJob(jobId);
          return null;
        });
    Rules.log(jobId, null, "Job {} deleted{}", jobId, force ? " with force" : "");
    return new JsonObject();
  }

  /**
   * {@code DELETE /things/{thingName}/jobs/{jobId}/executionNumber/{n}[?force=true]}: a terminal
   * execution, or with force one that is QUEUED or IN_PROGRESS.
   */
  JsonObject deleteJobExecution(
      String thingName, String jobId, String executionNumber, boolean force, List<Outbound> out)
      throws ApiException {
    requireThingName(thingName);
    job(jobId);
    long number = parseLong(executionNumber, "executionNumber", 1, Long.MAX_VALUE);
    Execution e = core.state().execution(thingName, jobId, number);
    if (e == null) {
      throw ApiException.notFound(
          "Thing " + thingName + " has no execution " + number + " of job " + jobId + ".");
    }
    if (!e.status.isTerminal() && !force) {
      throw ApiException.stateTransition(
          "Execution "
              + number
              + " of job "
              + jobId
              + " on "
              + thingName
              + " is "
              + e.status
              + "; delete it with force.");
    }
    long now = core.nowMillis();
    core.change(
        out,
        s -> {
          s.deleteExecution(e);
          Rules.completeIfDone(s, s.job(jobId), now);
          return null;
        });
    Rules.log(jobId, thingName, "Job {} on {}: execution {} deleted", jobId, thingName, number);
    return new JsonObject();
  }

  // ------------------------------------------------------------------ thing groups

  /**
   * {@code POST /thing-groups/{thingGroupName}}: idempotent for the same parent and description.
   */
  JsonObject createThingGroup(String name, JsonObject body, List<Outbound> out)
      throws ApiException {
    requireGroupName(name);
    refuse(body, "tags", "tags on thing groups");
    String parent = string(body, "parentGroupName", "parentGroupName");
    JsonObject props = object(body, "thingGroupProperties");
    String description =
        props == null ? null : string(props, "thingGroupDescription", "thingGroupDescription");
    if (description != null && description.length() > 2028) {
      throw ApiException.invalid("thingGroupDescription is longer than 2028 characters.");
    }
    ThingGroup existing = core.state().group(name);
    if (existing != null) {
      if (java.util.Objects.equals(existing.parentGroupName, parent)
          && java.util.Objects.equals(existing.description, description)) {
        return groupAnswer(existing);
      }
      throw ApiException.exists(
          "Thing group " + name + " already exists with another parent or description.",
          existing.groupId,
          arns.thingGroup(name));
    }
    if (parent != null) {
      requireGroupName(parent);
      if (core.state().group(parent) == null) {
        throw ApiException.notFound("Parent thing group " + parent + " does not exist.");
      }
      int depth = 1;
      for (String p = parent; p != null; p = core.state().group(p).parentGroupName) {
        if (++depth > 7) {
          throw ApiException.invalid("Thing groups nest at most 7 levels deep.");
        }
      }
    }
    long now = core.nowMillis();
    ThingGroup g =
        core.change(
            out,
            s -> {
              ThingGroup n = new ThingGroup();
              n.groupName = name;
              n.groupId = UUID.randomUUID().toString();
              n.parentGroupName = parent;
              n.description = description;
              n.createdAt = now;
              s.add(n);
              return n;
            });
    LOG.info("Thing group {} created{}", name, parent == null ? "" : " under " + parent);
    return groupAnswer(g);
  }

  private JsonObject groupAnswer(ThingGroup g) {
    JsonObject o = new JsonObject();
    o.addProperty("thingGroupName", g.groupName);
    o.addProperty("thingGroupArn", arns.thingGroup(g.groupName));
    o.addProperty("thingGroupId", g.groupId);
    return o;
  }

  /** {@code GET /thing-groups/{thingGroupName}}. */
  JsonObject describeThingGroup(String name) throws ApiException {
    ThingGroup g = group(name);
    JsonObject o = groupAnswer(g);
    o.addProperty("version", 1);
    JsonObject props = new JsonObject();
    if (g.description != null) {
      props.addProperty("thingGroupDescription", g.description);
    }
    o.add("thingGroupProperties", props);
    JsonObject meta = new JsonObject();
    if (g.parentGroupName != null) {
      meta.addProperty("parentGroupName", g.parentGroupName);
    }
    JsonArray roots = new JsonArray();
    java.util.ArrayDeque<String> chain = new java.util.ArrayDeque<>();
    for (String p = g.parentGroupName; p != null; p = core.state().group(p).parentGroupName) {
      chain.push(p);
    }
    for (String p : chain) {
      JsonObject r = new JsonObject();
      r.addProperty("groupName", p);
      r.addProperty("groupArn", arns.thingGroup(p));
      roots.add(r);
    }
    meta.add("rootToParentThingGroups", roots);
    meta.add("creationDate", time(g.createdAt));
    o.add("thingGroupMetadata", meta);
    return o;
  }

  /**
   * {@code GET /thing-groups/{thingGroupName}/things[?recursive=true&maxResults=&nextToken=]}:
   * thing names, sorted, paged.
   */
  JsonObject listThingsInThingGroup(String name, boolean recursive, Map<String, String> q)
      throws ApiException {
    group(name);
    List<String> things =
        new ArrayList<>(recursive ? core.state().thingsIn(name) : core.state().directMembers(name));
    java.util.Collections.sort(things);
    Paging.Page<String> page = Paging.page(things, t -> t, q.get("maxResults"), q.get("nextToken"));
    JsonArray a = new JsonArray();
    page.items().forEach(a::add);
    JsonObject o = new JsonObject();
    o.add("things", a);
    Listings.nextToken(o, page);
    return o;
  }

  /**
   * {@code PUT /thing-groups/addThingToThingGroup}: the thing joins the group (and, through it, its
   * ancestors); each CONTINUOUS job that now targets it queues an execution on it.
   */
  JsonObject addThingToThingGroup(JsonObject body, List<Outbound> out) throws ApiException {
    String[] gt = groupAndThing(body);
    String group = gt[0];
    String thing = gt[1];
    if (core.state().directMembers(group).contains(thing)) {
      return new JsonObject();
    }
    long now = core.nowMillis();
    core.change(
        out,
        s -> {
          Set<String> before = s.groupsWithAncestors(thing);
          s.addMember(group, thing);
          Rules.joined(s, thing, before, now);
          return null;
        });
    LOG.info("Thing {} added to thing group {}", thing, group);
    return new JsonObject();
  }

  /**
   * {@code PUT /thing-groups/removeThingFromThingGroup}: QUEUED executions of CONTINUOUS jobs that
   * no longer target the thing become REMOVED.
   */
  JsonObject removeThingFromThingGroup(JsonObject body, List<Outbound> out) throws ApiException {
    String[] gt = groupAndThing(body);
    String group = gt[0];
    String thing = gt[1];
    if (!core.state().directMembers(group).contains(thing)) {
      return new JsonObject();
    }
    long now = core.nowMillis();
    core.change(
        out,
        s -> {
          s.removeMember(group, thing);
          Rules.left(s, thing, now);
          return null;
        });
    LOG.info("Thing {} removed from thing group {}", thing, group);
    return new JsonObject();
  }

  private String[] groupAndThing(JsonObject body) throws ApiException {
    String group = string(body, "thingGroupName", "thingGroupName");
    String groupArn = string(body, "thingGroupArn", "thingGroupArn");
    if (group == null && groupArn != null) {
      Arns.Target t = Arns.target(groupArn);
      if (!t.group()) {
        throw ApiException.invalid("thingGroupArn names a thing, not a thing group.");
      }
      group = t.name();
    }
    String thing = string(body, "thingName", "thingName");
    String thingArn = string(body, "thingArn", "thingArn");
    if (thing == null && thingArn != null) {
      thing = Arns.thingOf(thingArn, "thingArn");
    }
    if (group == null || thing == null) {
      throw ApiException.invalid(
          "Give the group (thingGroupName or thingGroupArn) and the thing (thingName or"
              + " thingArn).");
    }
    requireGroupName(group);
    requireThingName(thing);
    group(group);
    if (core.state().thing(thing) == null) {
      throw ApiException.notFound("Thing " + thing + " does not exist.");
    }
    return new String[] {group, thing};
  }

  private ThingGroup group(String name) throws ApiException {
    requireGroupName(name);
    ThingGroup g = core.state().group(name);
    if (g == null) {
      throw ApiException.notFound("Thing group " + name + " does not exist.");
    }
    return g;
  }

  static void requireGroupName(String name) throws ApiException {
    if (!Limits.isValidThingName(name)) {
      throw ApiException.invalid(
          "thingGroupName " + Texts.clip(name) + " is not 1-128 characters of [a-zA-Z0-9:_-].");
    }
  }

  // ------------------------------------------------------------------ reads

  /** {@code GET /jobs/{jobId}}. */
  JsonObject describeJob(String jobId) throws ApiException {
    Job j = job(jobId);
    JsonObject job = new JsonObject();
    job.addProperty("jobArn", arns.job(j.jobId));
    job.addProperty("jobId", j.jobId);
    job.addProperty("targetSelection", j.targetSelection);
    job.addProperty("status", j.status);
    job.addProperty("forceCanceled", j.forceCanceled);
    if (j.reasonCode != null) {
      job.addProperty("reasonCode", j.reasonCode);
    }
    if (j.comment != null) {
      job.addProperty("comment", j.comment);
    }
    JsonArray targets = new JsonArray();
    j.targets.forEach(t -> targets.add(arns.thing(t)));
    j.groupTargets.forEach(g -> targets.add(arns.thingGroup(g)));
    job.add("targets", targets);
    if (j.description != null) {
      job.addProperty("description", j.description);
    }
    job.add("createdAt", time(j.createdAt));
    job.add("lastUpdatedAt", time(j.lastUpdatedAt));
    if (j.completedAt != null) {
      job.add("completedAt", time(j.completedAt));
    }
    job.add("jobProcessDetails", processDetails(j));
    if (j.inProgressTimeoutInMinutes != null) {
      JsonObject timeout = new JsonObject();
      timeout.addProperty("inProgressTimeoutInMinutes", j.inProgressTimeoutInMinutes);
      job.add("timeoutConfig", timeout);
    }
    JobConfigs.describe(j, job);
    if (j.presignedUrlExpiresInSec != null) {
      JsonObject presigned = new JsonObject();
      presigned.addProperty("expiresInSec", j.presignedUrlExpiresInSec);
      job.add("presignedUrlConfig", presigned);
    }
    if (j.documentSource != null) {
      job.addProperty("documentSource", j.documentSource);
    }
    job.addProperty("isConcurrent", false);
    job.add("rolloutStatus", listings.rolloutStatus(j));
    JsonObject o = new JsonObject();
    o.add("job", job);
    return o;
  }

  private JsonObject processDetails(Job j) {
    // Counted per thing, by its latest execution, as AWS IoT counts things.
    HubState.Counts c = core.state().counts(j.jobId);
    Map<ExecutionStatus, Integer> counts = new LinkedHashMap<>();
    for (ExecutionStatus s : ExecutionStatus.values()) {
      counts.put(s, c.things(s));
    }
    JsonObject d = new JsonObject();
    d.add("processingTargets", new JsonArray());
    d.addProperty("numberOfCanceledThings", counts.get(ExecutionStatus.CANCELED));
    d.addProperty("numberOfSucceededThings", counts.get(ExecutionStatus.SUCCEEDED));
    d.addProperty("numberOfFailedThings", counts.get(ExecutionStatus.FAILED));
    d.addProperty("numberOfRejectedThings", counts.get(ExecutionStatus.REJECTED));
    d.addProperty("numberOfQueuedThings", counts.get(ExecutionStatus.QUEUED));
    d.addProperty("numberOfInProgressThings", counts.get(ExecutionStatus.IN_PROGRESS));
    d.addProperty("numberOfRemovedThings", counts.get(ExecutionStatus.REMOVED));
    d.addProperty("numberOfTimedOutThings", counts.get(ExecutionStatus.TIMED_OUT));
    return d;
  }

  /** {@code GET /jobs/{jobId}/job-document}. */
  JsonObject getJobDocument(String jobId) throws ApiException {
    JsonObject o = new JsonObject();
    o.addProperty("document", job(jobId).document);
    return o;
  }

  /** {@code GET /things/{thingName}/jobs/{jobId}[?executionNumber=N]}. */
  JsonObject describeJobExecution(String thingName, String jobId, String executionNumber)
      throws ApiException {
    requireThingName(thingName);
    if (!Limits.isValidJobId(jobId)) {
      throw ApiException.invalid(
          "jobId " + Texts.clip(jobId) + " is not 1-64 characters of [a-zA-Z0-9_-].");
    }
    Long number = null;
    if (executionNumber != null) {
      number = parseLong(executionNumber, "executionNumber", 1, Long.MAX_VALUE);
    }
    Execution e = core.state().execution(thingName, jobId, number);
    if (e == null) {
      throw ApiException.notFound(
          "Thing "
              + thingName
              + " has no execution "
              + (number == null ? "" : number + " ")
              + "of job "
              + jobId
              + ".");
    }
    JsonObject x = new JsonObject();
    x.addProperty("jobId", e.jobId);
    x.addProperty("status", e.status.name());
    x.addProperty("forceCanceled", e.forceCanceled);
    JsonObject details = new JsonObject();
    JsonObject map = new JsonObject();
    e.statusDetails.forEach(map::addProperty);
    details.add("detailsMap", map);
    x.add("statusDetails", details);
    x.addProperty("thingArn", arns.thing(e.thingName));
    x.add("queuedAt", time(e.queuedAt));
    if (e.startedAt != null) {
      x.add("startedAt", time(e.startedAt));
    }
    x.add("lastUpdatedAt", time(e.lastUpdatedAt));
    x.addProperty("executionNumber", e.executionNumber);
    x.addProperty("versionNumber", e.versionNumber);
    JsonObject o = new JsonObject();
    o.add("execution", x);
    return o;
  }

  // ------------------------------------------------------------------ helpers

  static void requireJobId(String jobId) throws ApiException {
    if (!Limits.isValidJobId(jobId)) {
      throw ApiException.invalid(
          "jobId " + Texts.clip(jobId) + " is not 1-64 characters of [a-zA-Z0-9_-].");
    }
  }

  private Job job(String jobId) throws ApiException {
    requireJobId(jobId);
    Job j = core.state().job(jobId);
    if (j == null) {
      throw ApiException.notFound("Job " + jobId + " does not exist.");
    }
    return j;
  }

  static void requireThingName(String thingName) throws ApiException {
    if (!Limits.isValidThingName(thingName)) {
      throw ApiException.invalid(
          "thingName " + Texts.clip(thingName) + " is not 1-128 characters of [a-zA-Z0-9:_-].");
    }
  }

  /** AWS REST JSON timestamps: epoch seconds, with the milliseconds as a fraction. */
  static JsonPrimitive time(long millis) {
    return new JsonPrimitive(BigDecimal.valueOf(millis, 3));
  }

  private static long parseLong(String s, String name, long min, long max) throws ApiException {
    try {
      long v = Long.parseLong(s);
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.invalid(name + " must be a number " + min + "-" + max + ".");
  }

  private static void refuse(JsonObject body, String field, String what) throws ApiException {
    if (present(body, field)) {
      throw ApiException.invalid(what + " are not supported by this hub.");
    }
  }

  private static boolean present(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e != null && !e.isJsonNull();
  }

  private static String string(JsonObject o, String field, String path) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw ApiException.invalid(path + " must be a string.");
    }
    return e.getAsString();
  }

  private Artifacts needArtifacts(String field) throws ApiException {
    if (artifacts == null) {
      throw ApiException.invalid(field + " needs the hub's artifact store, which is not running.");
    }
    return artifacts;
  }

  /**
   * {@code presignedUrlConfig}: {@code expiresInSec} 60-3600 (default 3600, as AWS); {@code
   * roleArn} is accepted and unused (the hub signs with its own key).
   */
  private static Long presignedUrlExpiry(JsonObject body) throws ApiException {
    JsonObject c = object(body, "presignedUrlConfig");
    if (c == null) {
      return null;
    }
    string(c, "roleArn", "presignedUrlConfig.roleArn");
    Long expires = number(c, "expiresInSec");
    long e = expires == null ? 3600 : expires;
    if (e < 60 || e > 3600) {
      throw ApiException.invalid("presignedUrlConfig.expiresInSec must be 60-3600, got " + e + ".");
    }
    return e;
  }

  private static JsonObject object(JsonObject o, String field) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonObject()) {
      throw ApiException.invalid(field + " must be an object.");
    }
    return e.getAsJsonObject();
  }

  private static Long number(JsonObject o, String field) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    try {
      if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
        return e.getAsBigDecimal().longValueExact();
      }
    } catch (ArithmeticException | NumberFormatException x) {
      // answered below
    }
    throw ApiException.invalid(field + " must be a whole number.");
  }
}
