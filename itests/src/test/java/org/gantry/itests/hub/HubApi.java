package org.gantry.itests.hub;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A client of the hub's management API in the AWS IoT REST shapes, as an operator's tool would use
 * it: {@code java.net.http} with JSON bodies, every request under a timeout. Answers are Gson
 * trees; anything but the expected HTTP status fails the test with the hub's answer in the message.
 * Not thread-safe beyond what {@link HttpClient} is.
 */
public final class HubApi {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(35);
  private static final long POLL_MILLIS = 100;

  /**
   * One answer of the API.
   *
   * @param status the HTTP status
   * @param errorType the {@code x-amzn-ErrorType} header; null on success
   * @param body the JSON body
   */
  public record Answer(int status, String errorType, JsonObject body) {}

  private final URI base;
  private final HttpClient http;

  /**
   * @param base {@code http://127.0.0.1:PORT}
   */
  public HubApi(URI base) {
    this.base = base;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(CONNECT_TIMEOUT)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  // ------------------------------------------------------------------ AWS IoT operations

  /**
   * CreateThing: {@code POST /things/{thingName}}.
   *
   * @return the answer, with {@code thingArn}
   * @throws IOException when the hub cannot be reached
   * @throws InterruptedException when interrupted
   */
  public JsonObject createThing(String thingName) throws IOException, InterruptedException {
    return ok(send("POST", "/things/" + path(thingName), new JsonObject()));
  }

  /**
   * CreateJob: {@code PUT /jobs/{jobId}} with the document inline.
   *
   * @param targets thing ARNs (or names)
   * @param document the job document, a JSON object as text
   * @return the answer, with {@code jobArn}
   * @throws IOException when the hub cannot be reached
   * @throws InterruptedException when interrupted
   */
  public JsonObject createJob(String jobId, List<String> targets, String document)
      throws IOException, InterruptedException {
    JsonObject body = new JsonObject();
    JsonArray t = new JsonArray();
    targets.forEach(t::add);
    body.add("targets", t);
    body.addProperty("document", document);
    return ok(send("PUT", "/jobs/" + path(jobId), body));
  }

  /**
   * DescribeJob: {@code GET /jobs/{jobId}}.
   *
   * @return the {@code job} object of the answer
   * @throws IOException when the hub cannot be reached
   * @throws InterruptedException when interrupted
   */
  public JsonObject describeJob(String jobId) throws IOException, InterruptedException {
    return ok(send("GET", "/jobs/" + path(jobId), null)).getAsJsonObject("job");
  }

  /**
   * DescribeJobExecution: {@code GET /things/{thingName}/jobs/{jobId}}.
   *
   * @return the answer as it came: an {@code execution} object on 200, the error otherwise
   * @throws IOException when the hub cannot be reached
   * @throws InterruptedException when interrupted
   */
  public Answer describeJobExecution(String thingName, String jobId)
      throws IOException, InterruptedException {
    return send("GET", "/things/" + path(thingName) + "/jobs/" + path(jobId), null);
  }

  /**
   * ListJobExecutionsForJob: {@code GET /jobs/{jobId}/things}.
   *
   * @return the {@code executionSummaries} of the answer
   * @throws IOException when the hub cannot be reached
   * @throws InterruptedException when interrupted
   */
  public JsonArray listJobExecutionsForJob(String jobId) throws IOException, InterruptedException {
    return ok(send("GET", "/jobs/" + path(jobId) + "/things", null))
        .getAsJsonArray("executionSummaries");
  }

  // ------------------------------------------------------------------ waiting

  /**
   * Polls DescribeJobExecution until the execution has a status.
   *
   * @return the {@code execution} object when it has the status
   * @throws AssertionError when it reaches another terminal status, or the time runs out (the
   *     message shows the last answer)
   * @throws InterruptedException when interrupted
   */
  public JsonObject awaitExecution(String thingName, String jobId, String status, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Object last = "no answer";
    while (true) {
      try {
        Answer a = describeJobExecution(thingName, jobId);
        last = a;
        if (a.status() == 200) {
          JsonObject execution = a.body().getAsJsonObject("execution");
          String now = execution.get("status").getAsString();
          if (now.equals(status)) {
            return execution;
          }
          if (isTerminal(now)) {
            throw new AssertionError(
                "Job " + jobId + " of " + thingName + " ended " + now + ", not " + status + ": "
                    + a);
          }
        }
      } catch (IOException e) {
        last = e; // the hub may be starting; asked again below
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Job "
                + jobId
                + " of "
                + thingName
                + " did not become "
                + status
                + " within "
                + timeout.toSeconds()
                + " s; last answer: "
                + last);
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
    }
  }

  /**
   * Waits until the API answers at all (an unknown job is a 404 from a running hub).
   *
   * @throws AssertionError when it does not within the timeout
   * @throws InterruptedException when interrupted
   */
  public void awaitUp(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try {
        Answer a = send("GET", "/jobs/itest-probe-no-such-job", null);
        if (a.status() == 404 && "ResourceNotFoundException".equals(a.errorType())) {
          return;
        }
        throw new AssertionError("The hub answered a probe unexpectedly: " + a);
      } catch (IOException e) {
        last = e;
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
    }
    throw new AssertionError(
        "The hub's management API " + base + " did not answer within " + timeout.toSeconds() + " s",
        last);
  }

  /**
   * Polls until the condition holds.
   *
   * @param what what is waited for, for the failure message
   * @throws AssertionError when it does not within the timeout
   * @throws InterruptedException when interrupted
   */
  public static void await(String what, BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " did not happen within " + timeout.toSeconds() + " s");
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
    }
  }

  // ------------------------------------------------------------------ JSON helpers

  /**
   * The {@code statusDetails.detailsMap} of a DescribeJobExecution {@code execution}.
   *
   * @return the map, sorted by key
   */
  public static Map<String, String> details(JsonObject execution) {
    Map<String, String> out = new TreeMap<>();
    JsonObject sd = execution.getAsJsonObject("statusDetails");
    if (sd != null && sd.has("detailsMap")) {
      for (Map.Entry<String, JsonElement> e : sd.getAsJsonObject("detailsMap").entrySet()) {
        out.put(e.getKey(), e.getValue().getAsString());
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ HTTP

  /**
   * Sends one request.
   *
   * @param method the HTTP method
   * @param rawPath the path, already percent-encoded
   * @param body the JSON body; null for none
   * @return the answer
   * @throws IOException when the hub cannot be reached or does not answer in time
   * @throws InterruptedException when interrupted
   */
  public Answer send(String method, String rawPath, JsonObject body)
      throws IOException, InterruptedException {
    return send(method, rawPath, body, Map.of());
  }

  /** As {@link #send(String, String, JsonObject)}, with extra request headers. */
  public Answer send(String method, String rawPath, JsonObject body, Map<String, String> headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(rawPath))
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json");
    headers.forEach(b::header);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json");
      b.method(
          method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    }
    HttpResponse<String> r =
        http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    JsonObject json;
    try {
      JsonElement e = JsonParser.parseString(r.body());
      json = e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    } catch (RuntimeException e) {
      throw new AssertionError(
          method + " " + rawPath + " answered " + r.statusCode() + " with no JSON: " + r.body(), e);
    }
    return new Answer(
        r.statusCode(), r.headers().firstValue("x-amzn-ErrorType").orElse(null), json);
  }

  /**
   * AttachThingPrincipal: {@code principal} (a client certificate's CN) may use the thing's jobs
   * topics once the broker has read the ACL file the hub writes.
   */
  public void attachThingPrincipal(String thingName, String principal)
      throws IOException, InterruptedException {
    ok(
        send(
            "PUT",
            "/things/" + path(thingName) + "/principals",
            null,
            Map.of("x-amzn-principal", principal)));
  }

  /** DetachThingPrincipal. */
  public void detachThingPrincipal(String thingName, String principal)
      throws IOException, InterruptedException {
    ok(
        send(
            "DELETE",
            "/things/" + path(thingName) + "/principals",
            null,
            Map.of("x-amzn-principal", principal)));
  }

  private static JsonObject ok(Answer a) {
    if (a.status() != 200) {
      throw new AssertionError("The hub refused the request: " + a);
    }
    return a.body();
  }

  private static String path(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static boolean isTerminal(String status) {
    return switch (status) {
      case "QUEUED", "IN_PROGRESS" -> false;
      default -> true;
    };
  }
}
