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
import org.slf4j.MDC;

/**
 * The management API's operations in the AWS IoT control-plane shapes (the JSON field names of the
 * AWS IoT API reference, as the AWS SDK for Java v2 model spells them). Runs on the hub thread;
 * requests and answers are Gson trees, the HTTP layer is {@link ApiServer}.
 */
final class ControlPlane {
  private static final Logger LOG = LoggerFactory.getLogger(ControlPlane.class);
  private static final int MAX_DESCRIPTION = 2028;
  private static final int MAX_RESULTS = 250;
  private static final int MAX_ATTRIBUTES = 50;
  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-zA-Z0-9_.,@/:#-]{1,128}");
  private static final Pattern ATTRIBUTE_VALUE =
      Pattern.compile("[a-zA-Z0-9_.,@/:#=\\[\\]-]{0,800}");

  /** CreateJob fields of features that later issues bring; refused until then. */
  private static final List<String> NOT_YET =
      List.of(
          "documentSource",
          "presignedUrlConfig",
          "jobExecutionsRolloutConfig",
          "abortConfig",
          "jobExecutionsRetryConfig",
          "tags",
          "namespaceId",
          "jobTemplateArn",
          "documentParameters",
          "schedulingConfig",
          "destinationPackageVersions");

  private final HubCore core;
  private final Arns arns;

  ControlPlane(HubCore core, Arns arns) {
    this.core = core;
    this.arns = arns;
  }

  // ------------------------------------------------------------------ CreateThing

  /** {@code POST /things/{thingName}}: idempotent for the same attributes, as in AWS IoT. */
  JsonObject createThing(String thingName, JsonObject body, List<Outbound> out)
      throws ApiException, HubCore.NotStoredException {
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
            List.of(),
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
   * {@code PUT /jobs/{jobId}}: a SNAPSHOT job whose document is given inline; one execution is
   * queued on each target thing at once, and the things whose queue changed are notified. Targets
   * are thing ARNs or plain thing names; a thing the hub has not seen yet is registered (AWS IoT
   * would refuse it: the hub has no fleet registry to check against).
   */
  JsonObject createJob(String jobId, JsonObject body, List<Outbound> out)
      throws ApiException, HubCore.NotStoredException {
    if (!Limits.isValidJobId(jobId)) {
      throw ApiException.invalid(
          "jobId " + Texts.clip(jobId) + " is not 1-64 characters of [a-zA-Z0-9_-].");
    }
    for (String field : NOT_YET) {
      if (present(body, field)) {
        throw ApiException.invalid(
            field
                + " is not supported by this hub yet"
                + (field.equals("documentSource") ? "; give the document inline." : "."));
      }
    }
    String document = string(body, "document", "document");
    if (document == null) {
      throw ApiException.invalid("document is required: the job document as a JSON string.");
    }
    checkDocument(document);
    String description = string(body, "description", "description");
    if (description != null && description.length() > MAX_DESCRIPTION) {
      throw ApiException.invalid("description is longer than 2028 characters.");
    }
    String selection = string(body, "targetSelection", "targetSelection");
    if (selection != null && !selection.equals("SNAPSHOT")) {
      throw ApiException.invalid(
          selection.equals("CONTINUOUS")
              ? "targetSelection CONTINUOUS is not supported by this hub yet; use SNAPSHOT."
              : "targetSelection must be SNAPSHOT or CONTINUOUS.");
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
    List<String> targets = targets(body);
    if (core.state().job(jobId) != null) {
      throw ApiException.exists("Job " + jobId + " already exists.", jobId, arns.job(jobId));
    }
    Long inProgressTimeout = timeout;
    long now = core.nowMillis();
    core.change(
        targets,
        out,
        s -> {
          Job j = new Job();
          j.jobId = jobId;
          j.document = document;
          j.description = description;
          j.targets = new ArrayList<>(targets);
          j.createdAt = now;
          j.lastUpdatedAt = now;
          j.inProgressTimeoutInMinutes = inProgressTimeout;
          s.add(j);
          for (String thing : targets) {
            if (s.thing(thing) == null) {
              s.add(newThing(thing));
            }
            Execution e = new Execution();
            e.jobId = jobId;
            e.thingName = thing;
            e.executionNumber = 1;
            e.queuedAt = now;
            e.lastUpdatedAt = now;
            e.queueSeq = s.nextSeq();
            s.add(e);
          }
          return null;
        });
    MDC.put("jobId", jobId);
    try {
      LOG.info("Job {} created for {}", jobId, targets);
    } finally {
      MDC.remove("jobId");
    }
    JsonObject o = new JsonObject();
    o.addProperty("jobArn", arns.job(jobId));
    o.addProperty("jobId", jobId);
    if (description != null) {
      o.addProperty("description", description);
    }
    return o;
  }

  private static List<String> targets(JsonObject body) throws ApiException {
    JsonElement t = body.get("targets");
    if (t == null || t.isJsonNull()) {
      throw ApiException.invalid("targets is required: a list of thing ARNs.");
    }
    if (!t.isJsonArray() || t.getAsJsonArray().isEmpty()) {
      throw ApiException.invalid("targets must be a non-empty list of thing ARNs.");
    }
    Set<String> things = new LinkedHashSet<>();
    for (JsonElement e : t.getAsJsonArray()) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw ApiException.invalid("targets must contain strings (thing ARNs).");
      }
      things.add(Arns.targetThing(e.getAsString()));
    }
    return List.copyOf(things);
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

  // ------------------------------------------------------------------ reads

  /** {@code GET /jobs/{jobId}}. */
  JsonObject describeJob(String jobId) throws ApiException {
    Job j = job(jobId);
    JsonObject job = new JsonObject();
    job.addProperty("jobArn", arns.job(j.jobId));
    job.addProperty("jobId", j.jobId);
    job.addProperty("targetSelection", j.targetSelection);
    job.addProperty("status", j.status);
    job.addProperty("forceCanceled", false);
    JsonArray targets = new JsonArray();
    j.targets.forEach(t -> targets.add(arns.thing(t)));
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
    job.addProperty("isConcurrent", false);
    JsonObject o = new JsonObject();
    o.add("job", job);
    return o;
  }

  private JsonObject processDetails(Job j) {
    Map<ExecutionStatus, Integer> counts = new LinkedHashMap<>();
    for (ExecutionStatus s : ExecutionStatus.values()) {
      counts.put(s, 0);
    }
    for (Execution e : core.state().executionsOf(j.jobId)) {
      // Counted per thing, by its latest execution, as AWS IoT counts things.
      Execution latest = core.state().execution(e.thingName, e.jobId, null);
      if (latest == e) {
        counts.merge(e.status, 1, Integer::sum);
      }
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
    x.addProperty("forceCanceled", false);
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

  /** {@code GET /jobs/{jobId}/things[?status=S&maxResults=N&nextToken=T]}, in queue order. */
  JsonObject listJobExecutionsForJob(
      String jobId, String status, String maxResults, String nextToken) throws ApiException {
    Job j = job(jobId);
    ExecutionStatus filter = null;
    if (status != null) {
      try {
        filter = ExecutionStatus.valueOf(status);
      } catch (IllegalArgumentException e) {
        throw ApiException.invalid("status " + Texts.clip(status) + " is not an execution status.");
      }
    }
    int max =
        maxResults == null
            ? MAX_RESULTS
            : (int) parseLong(maxResults, "maxResults", 1, MAX_RESULTS);
    int from =
        nextToken == null ? 0 : (int) parseLong(nextToken, "nextToken", 0, Integer.MAX_VALUE);
    List<Execution> all = new ArrayList<>();
    for (Execution e : core.state().executionsOf(j.jobId)) {
      if (filter == null || e.status == filter) {
        all.add(e);
      }
    }
    if (from > all.size()) {
      throw ApiException.invalid("nextToken is not one this hub handed out.");
    }
    JsonArray summaries = new JsonArray();
    int to = Math.min(all.size(), from + max);
    for (Execution e : all.subList(from, to)) {
      JsonObject s = new JsonObject();
      s.addProperty("status", e.status.name());
      s.add("queuedAt", time(e.queuedAt));
      if (e.startedAt != null) {
        s.add("startedAt", time(e.startedAt));
      }
      s.add("lastUpdatedAt", time(e.lastUpdatedAt));
      s.addProperty("executionNumber", e.executionNumber);
      JsonObject item = new JsonObject();
      item.addProperty("thingArn", arns.thing(e.thingName));
      item.add("jobExecutionSummary", s);
      summaries.add(item);
    }
    JsonObject o = new JsonObject();
    o.add("executionSummaries", summaries);
    if (to < all.size()) {
      o.addProperty("nextToken", Integer.toString(to));
    }
    return o;
  }

  // ------------------------------------------------------------------ helpers

  private Job job(String jobId) throws ApiException {
    if (!Limits.isValidJobId(jobId)) {
      throw ApiException.invalid(
          "jobId " + Texts.clip(jobId) + " is not 1-64 characters of [a-zA-Z0-9_-].");
    }
    Job j = core.state().job(jobId);
    if (j == null) {
      throw ApiException.notFound("Job " + jobId + " does not exist.");
    }
    return j;
  }

  private static void requireThingName(String thingName) throws ApiException {
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
