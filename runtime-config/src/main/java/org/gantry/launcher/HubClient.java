package org.gantry.launcher;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A client of a hub's management API, in the AWS IoT control-plane REST shapes: the few calls that
 * {@code gantry jobs} and {@code gantry demo} need. Every call has a connect and a request timeout;
 * nothing waits longer. Instances are thread-safe.
 */
final class HubClient {

  /** A thing as CreateThing answers it. */
  record Thing(String name, String arn) {}

  /** A job as DescribeJob answers it (the fields Gantry shows). */
  record Job(
      String jobId,
      String arn,
      String status,
      String targetSelection,
      List<String> targets,
      Optional<Instant> createdAt,
      Optional<String> description) {}

  /** One entry of ListJobExecutionsForJob. */
  record ExecutionSummary(String thingName, String status, long executionNumber) {}

  /** A job execution as DescribeJobExecution answers it. */
  record Execution(
      String jobId,
      String thingName,
      String status,
      Map<String, String> statusDetails,
      long executionNumber,
      long versionNumber,
      Optional<Instant> queuedAt,
      Optional<Instant> startedAt,
      Optional<Instant> lastUpdatedAt) {

    Execution {
      statusDetails = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(statusDetails));
    }

    /** True for the statuses after which the device reports nothing more. */
    boolean terminal() {
      return !status.equals("QUEUED") && !status.equals("IN_PROGRESS");
    }
  }

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

  /** The most pages a list is followed through: a hub that kept answering a token would loop. */
  static final int MAX_PAGES = 10_000;

  private final URI base;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final Optional<String> token;

  /**
   * @param base {@code http://host:port}, without a trailing slash
   */
  HubClient(URI base) {
    this(base, CONNECT_TIMEOUT, REQUEST_TIMEOUT, Optional.empty());
  }

  HubClient(URI base, Duration connectTimeout, Duration requestTimeout) {
    this(base, connectTimeout, requestTimeout, Optional.empty());
  }

  /**
   * @param token the bearer token sent as {@code Authorization: Bearer <token>} on every call, if
   *     any
   */
  HubClient(URI base, Duration connectTimeout, Duration requestTimeout, Optional<String> token) {
    this.base = base;
    this.requestTimeout = requestTimeout;
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            // HTTP/1.1: the hub's JDK server does not speak h2c, and an upgrade attempt costs time.
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  URI base() {
    return base;
  }

  /**
   * CreateThing. The hub answers the same thing again when it exists with the same (no) attributes;
   * when it exists with other attributes, the thing is kept as it is and its ARN is taken from the
   * refusal.
   */
  Thing createThing(String name) throws HubException {
    try {
      JsonObject o = call("POST", "/things/" + name, new JsonObject());
      return new Thing(name, string(o, "thingArn").orElse(name));
    } catch (HubException e) {
      if (e.is("ResourceAlreadyExistsException")) {
        return new Thing(name, name);
      }
      throw e;
    }
  }

  /** CreateJob: a snapshot job with the document inline; returns the job's ARN. */
  String createJob(String jobId, List<String> targets, String document, String description)
      throws HubException {
    JsonObject body = new JsonObject();
    JsonArray t = new JsonArray();
    targets.forEach(t::add);
    body.add("targets", t);
    body.addProperty("document", document);
    body.addProperty("targetSelection", "SNAPSHOT");
    if (description != null) {
      body.addProperty("description", description);
    }
    JsonObject o = call("PUT", "/jobs/" + jobId, body);
    return string(o, "jobArn").orElse(jobId);
  }

  /** DescribeJob. */
  Job describeJob(String jobId) throws HubException {
    return job(call("GET", "/jobs/" + jobId, null), jobId);
  }

  /** A DescribeJob answer as a {@link Job}. */
  static Job job(JsonObject o, String jobId) throws HubException {
    JsonObject job = object(o, "job");
    List<String> targets = new ArrayList<>();
    JsonElement t = job.get("targets");
    if (t != null && t.isJsonArray()) {
      for (JsonElement e : t.getAsJsonArray()) {
        targets.add(e.getAsString());
      }
    }
    return new Job(
        string(job, "jobId").orElse(jobId),
        string(job, "jobArn").orElse(""),
        string(job, "status").orElse("?"),
        string(job, "targetSelection").orElse("SNAPSHOT"),
        targets,
        time(job, "createdAt"),
        string(job, "description"));
  }

  /** ListJobExecutionsForJob, every page. */
  List<ExecutionSummary> listExecutions(String jobId) throws HubException {
    List<ExecutionSummary> all = new ArrayList<>();
    String next = null;
    // A hub that kept answering with a token would loop forever; no job has this many pages.
    for (int page = 0; page < 10_000; page++) {
      JsonObject o =
          call(
              "GET",
              "/jobs/" + jobId + "/things" + (next == null ? "" : "?nextToken=" + next),
              null);
      JsonElement list = o.get("executionSummaries");
      if (list != null && list.isJsonArray()) {
        for (JsonElement e : list.getAsJsonArray()) {
          JsonObject item = e.getAsJsonObject();
          JsonObject summary = object(item, "jobExecutionSummary");
          all.add(
              new ExecutionSummary(
                  thingName(string(item, "thingArn").orElse("?")),
                  string(summary, "status").orElse("?"),
                  number(summary, "executionNumber")));
        }
      }
      next = string(o, "nextToken").orElse(null);
      if (next == null) {
        return all;
      }
      if (!next.matches("[A-Za-z0-9_=+/-]{1,1024}")) {
        throw new HubException(200, "", "the hub answered with a nextToken that is not a token");
      }
    }
    throw new HubException(200, "", "the hub's list of executions of " + jobId + " never ends");
  }

  /** DescribeJobExecution of the latest execution. */
  Execution describeExecution(String thingName, String jobId) throws HubException {
    return execution(
        call("GET", "/things/" + thingName + "/jobs/" + jobId, null), thingName, jobId);
  }

  /** A DescribeJobExecution answer as an {@link Execution}. */
  static Execution execution(JsonObject o, String thingName, String jobId) throws HubException {
    JsonObject x = object(o, "execution");
    Map<String, String> details = new LinkedHashMap<>();
    JsonElement sd = x.get("statusDetails");
    if (sd != null && sd.isJsonObject()) {
      JsonElement map = sd.getAsJsonObject().get("detailsMap");
      if (map != null && map.isJsonObject()) {
        for (Map.Entry<String, JsonElement> e : map.getAsJsonObject().entrySet()) {
          details.put(
              e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : "?");
        }
      }
    }
    return new Execution(
        string(x, "jobId").orElse(jobId),
        string(x, "thingArn").map(HubClient::thingName).orElse(thingName),
        string(x, "status").orElse("?"),
        details,
        number(x, "executionNumber"),
        number(x, "versionNumber"),
        time(x, "queuedAt"),
        time(x, "startedAt"),
        time(x, "lastUpdatedAt"));
  }

  /**
   * Whether the management API answers at all: any HTTP answer counts (a describe of a job that
   * does not exist is the cheapest question).
   */
  boolean answers() {
    try {
      call("GET", "/jobs/gantry-readiness-probe", null);
      return true;
    } catch (HubException e) {
      return e.status() != 0;
    }
  }

  /**
   * One management API call as it is: the hub's JSON answer, or a {@link HubException}. {@code
   * path} is already percent-encoded where needed (see {@link #segment}).
   */
  JsonObject request(String method, String path, JsonObject body, Map<String, String> headers)
      throws HubException {
    return call(method, path, body, headers);
  }

  /**
   * A list operation followed through every page ({@code nextToken}): the items of {@code field} of
   * every page, in order.
   *
   * @param query the query without {@code nextToken}, e.g. {@code status=QUEUED}, or empty
   */
  JsonArray list(String path, String query, String field) throws HubException {
    JsonArray all = new JsonArray();
    String next = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      StringBuilder q = new StringBuilder(query);
      if (next != null) {
        q.append(q.length() == 0 ? "" : "&").append("nextToken=").append(encode(next));
      }
      JsonObject o = call("GET", path + (q.length() == 0 ? "" : "?" + q), null, Map.of());
      JsonElement items = o.get(field);
      if (items != null && items.isJsonArray()) {
        all.addAll(items.getAsJsonArray());
      }
      next = string(o, "nextToken").orElse(null);
      if (next == null || next.isEmpty()) {
        return all;
      }
    }
    throw new HubException(
        200,
        "",
        "the hub's list " + path + " has more than " + MAX_PAGES + " pages: it never ends");
  }

  /** One path segment, percent-encoded (a thing or group name may hold a colon). */
  static String segment(String s) {
    return encode(s).replace("+", "%20");
  }

  /** Form-encoding for a query value. */
  static String encode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The thing name at the end of a thing ARN ({@code arn:aws:iot:R:A:thing/NAME}), or as is. */
  static String thingName(String arnOrName) {
    int slash = arnOrName.lastIndexOf(":thing/");
    return slash < 0 ? arnOrName : arnOrName.substring(slash + ":thing/".length());
  }

  private JsonObject call(String method, String path, JsonObject body) throws HubException {
    return call(method, path, body, Map.of());
  }

  private JsonObject call(String method, String path, JsonObject body, Map<String, String> headers)
      throws HubException {
    URI uri = URI.create(base + path);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri).timeout(requestTimeout).header("Accept", "application/json");
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    headers.forEach(request::header);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json");
      request.method(
          method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    }
    HttpResponse<String> response;
    try {
      response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (HttpConnectTimeoutException e) {
      throw new HubException(
          "the hub at " + base + " did not accept a connection within " + seconds(CONNECT_TIMEOUT),
          e);
    } catch (HttpTimeoutException e) {
      throw new HubException(
          "the hub at "
              + base
              + " did not answer "
              + method
              + " "
              + path
              + " within "
              + seconds(requestTimeout),
          e);
    } catch (ConnectException e) {
      throw new HubException(
          "cannot reach the hub at "
              + base
              + " (connection refused): is 'gantry hub' running there? Give its address with"
              + " --hub URL",
          e);
    } catch (IOException e) {
      throw new HubException(
          "cannot reach the hub at "
              + base
              + ": "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HubException("interrupted while waiting for the hub at " + base, e);
    }
    // AWS answers some calls (DeleteJob, AddThingToThingGroup) with no body at all.
    JsonObject answer =
        response.body().isBlank() && response.statusCode() / 100 == 2
            ? new JsonObject()
            : parse(response.body());
    if (response.statusCode() / 100 == 2) {
      if (answer == null) {
        throw new HubException(
            response.statusCode(),
            "",
            "the hub at "
                + base
                + " answered "
                + method
                + " "
                + path
                + " with something that is"
                + " not a JSON object: is this the hub's management API?");
      }
      return answer;
    }
    String type = response.headers().firstValue("x-amzn-ErrorType").orElse("");
    int colon = type.indexOf(':');
    if (colon >= 0) {
      type = type.substring(0, colon);
    }
    Optional<String> message = answer == null ? Optional.empty() : string(answer, "message");
    throw new HubException(
        response.statusCode(),
        type,
        message.orElse(
            "HTTP "
                + response.statusCode()
                + " from "
                + method
                + " "
                + uri
                + (type.isEmpty() ? "" : " (" + type + ")")));
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static JsonObject parse(String body) {
    try {
      JsonElement e = JsonParser.parseString(body);
      return e.isJsonObject() ? e.getAsJsonObject() : null;
    } catch (JsonParseException e) {
      return null;
    }
  }

  static JsonObject object(JsonObject o, String field) throws HubException {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonObject()) {
      throw new HubException(200, "", "the hub's answer has no '" + field + "' object");
    }
    return e.getAsJsonObject();
  }

  static Optional<String> string(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive()) {
      return Optional.empty();
    }
    return Optional.of(e.getAsString());
  }

  static long number(JsonObject o, String field) {
    JsonElement e = o.get(field);
    try {
      return e != null && e.isJsonPrimitive() ? e.getAsLong() : 0;
    } catch (NumberFormatException x) {
      return 0;
    }
  }

  /** AWS REST JSON timestamps are epoch seconds, with any fraction. */
  static Optional<Instant> time(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      return Optional.empty();
    }
    try {
      BigDecimal seconds = e.getAsBigDecimal();
      return Optional.of(Instant.ofEpochMilli(seconds.movePointRight(3).longValue()));
    } catch (NumberFormatException | ArithmeticException x) {
      return Optional.empty();
    }
  }
}
