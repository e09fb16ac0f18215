package org.gantry.hub.internal;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP API (JDK {@code com.sun.net.httpserver}): AWS IoT control-plane routes and
 * error shapes, so the AWS SDK with an endpoint override can drive the hub. Each call runs on the
 * hub thread, where it also publishes the notifications it causes. With credentials configured,
 * {@link ApiAuth} checks every request (SigV4 or a bearer token) before any route sees it.
 */
final class ApiServer {
  /** A 32,768-character document escaped as JSON stays well under this. */
  static final int MAX_BODY = 1 << 20;

  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final String PRINCIPAL_HEADER = "x-amzn-principal";

  private final ControlPlane control;
  private final HubLoop loop;
  private final HttpServer server;
  private final ExecutorService httpThreads;
  private final Filter auth;

  ApiServer(String host, int port, ControlPlane control, HubLoop loop) throws IOException {
    this(host, port, control, loop, null);
  }

  /**
   * @param auth the authentication filter put in front of every route, null for none (loopback
   *     only, checked by the caller)
   */
  ApiServer(String host, int port, ControlPlane control, HubLoop loop, Filter auth)
      throws IOException {
    this.auth = auth;
    this.control = control;
    this.loop = loop;
    this.server = HttpServer.create(new InetSocketAddress(host, port), 50);
    AtomicInteger n = new AtomicInteger();
    this.httpThreads =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "gantry-hub-api-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(httpThreads);
    guard(server.createContext("/", this::handle));
  }

  private void guard(HttpContext context) {
    if (auth != null) {
      context.getFilters().add(auth);
    }
  }

  /** Serves {@code handler} under {@code path} on this listener; before {@link #start}. */
  void mount(String path, HttpHandler handler) {
    guard(server.createContext(path, handler));
  }

  void start() {
    server.start();
    LOG.info(
        "Hub management API listening on http://{}:{}",
        server.getAddress().getHostString(),
        server.getAddress().getPort());
  }

  int port() {
    return server.getAddress().getPort();
  }

  void stop() {
    server.stop(0);
    httpThreads.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    String requestId = UUID.randomUUID().toString();
    try {
      JsonObject answer = route(ex);
      respond(ex, 200, answer, requestId, null);
    } catch (ApiException e) {
      JsonObject body = new JsonObject();
      body.addProperty("message", e.getMessage());
      e.extra().forEach(body::addProperty);
      if (e.status() >= 500) {
        LOG.error(
            "{} {}: {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e.getMessage());
      } else {
        LOG.info(
            "{} {} refused: {} {}",
            ex.getRequestMethod(),
            ex.getRequestURI().getRawPath(),
            e.type(),
            e.getMessage());
      }
      respond(ex, e.status(), body, requestId, e.type());
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
      JsonObject body = new JsonObject();
      body.addProperty("message", "Internal error: " + e);
      respond(ex, 500, body, requestId, "InternalFailureException");
    } finally {
      ex.close();
    }
  }

  private JsonObject route(HttpExchange ex) throws ApiException {
    String method = ex.getRequestMethod();
    List<String> path = segments(ex.getRequestURI().getRawPath());
    Map<String, String> query = query(ex.getRequestURI().getRawQuery());
    int n = path.size();
    if (n >= 2 && path.get(0).equals("jobs")) {
      String jobId = path.get(1);
      if (n == 2 && method.equals("PUT")) {
        JsonObject body = body(ex);
        return call(out -> control.createJob(jobId, body, out));
      }
      if (n == 2 && method.equals("GET")) {
        return call(out -> control.describeJob(jobId));
      }
      if (n == 2 && method.equals("DELETE")) {
        boolean force = flag(query, "force");
        return call(out -> control.deleteJob(jobId, force, out));
      }
      if (n == 3 && path.get(2).equals("cancel") && method.equals("PUT")) {
        boolean force = flag(query, "force");
        JsonObject body = body(ex);
        return call(out -> control.cancelJob(jobId, force, body, out));
      }
      if (n == 3 && path.get(2).equals("job-document") && method.equals("GET")) {
        return call(out -> control.getJobDocument(jobId));
      }
      if (n == 3 && path.get(2).equals("things") && method.equals("GET")) {
        return call(out -> control.listings().listJobExecutionsForJob(jobId, query));
      }
    }
    if (n == 2
        && path.get(0).equals("principals")
        && path.get(1).equals("things")
        && method.equals("GET")) {
      String principal = ex.getRequestHeaders().getFirst(PRINCIPAL_HEADER);
      return call(out -> control.principals().listPrincipalThings(principal, query));
    }
    if (n == 1 && path.get(0).equals("jobs") && method.equals("GET")) {
      return call(out -> control.listings().listJobs(query));
    }
    if (n == 1 && path.get(0).equals("things") && method.equals("GET")) {
      return call(out -> control.listings().listThings(query));
    }
    if (n == 1 && path.get(0).equals("thing-groups") && method.equals("GET")) {
      return call(out -> control.listings().listThingGroups(query));
    }
    if (n >= 2 && path.get(0).equals("things")) {
      String thing = path.get(1);
      if (n == 2 && method.equals("POST")) {
        JsonObject body = body(ex);
        return call(out -> control.createThing(thing, body, out));
      }
      if (n == 2 && method.equals("GET")) {
        return call(out -> control.listings().describeThing(thing));
      }
      if (n == 2 && method.equals("DELETE")) {
        String expectedVersion = query.get("expectedVersion");
        return call(out -> control.deleteThing(thing, expectedVersion, out));
      }
      if (n == 3 && path.get(2).equals("jobs") && method.equals("GET")) {
        return call(out -> control.listings().listJobExecutionsForThing(thing, query));
      }
      if (n == 3 && path.get(2).equals("principals")) {
        String principal = ex.getRequestHeaders().getFirst(PRINCIPAL_HEADER);
        Principals principals = control.principals();
        switch (method) {
          case "PUT" -> {
            String type = query.get("thingPrincipalType");
            return call(out -> principals.attach(thing, principal, type, out));
          }
          case "DELETE" -> {
            return call(out -> principals.detach(thing, principal, out));
          }
          case "GET" -> {
            return call(out -> principals.listThingPrincipals(thing, query));
          }
          default -> {
            // not an operation: answered below
          }
        }
      }
      if (n == 4 && path.get(2).equals("jobs") && method.equals("GET")) {
        String jobId = path.get(3);
        return call(
            out -> control.describeJobExecution(thing, jobId, query.get("executionNumber")));
      }
      if (n == 5
          && path.get(2).equals("jobs")
          && path.get(4).equals("cancel")
          && method.equals("PUT")) {
        String jobId = path.get(3);
        boolean force = flag(query, "force");
        JsonObject body = body(ex);
        return call(out -> control.cancelJobExecution(thing, jobId, force, body, out));
      }
      if (n == 6
          && path.get(2).equals("jobs")
          && path.get(4).equals("executionNumber")
          && method.equals("DELETE")) {
        String jobId = path.get(3);
        String number = path.get(5);
        boolean force = flag(query, "force");
        return call(out -> control.deleteJobExecution(thing, jobId, number, force, out));
      }
    }
    if (n >= 2 && path.get(0).equals("thing-groups")) {
      String group = path.get(1);
      if (n == 2 && group.equals("addThingToThingGroup") && method.equals("PUT")) {
        JsonObject body = body(ex);
        return call(out -> control.addThingToThingGroup(body, out));
      }
      if (n == 2 && group.equals("removeThingFromThingGroup") && method.equals("PUT")) {
        JsonObject body = body(ex);
        return call(out -> control.removeThingFromThingGroup(body, out));
      }
      if (n == 2 && method.equals("POST")) {
        JsonObject body = body(ex);
        return call(out -> control.createThingGroup(group, body, out));
      }
      if (n == 2 && method.equals("GET")) {
        return call(out -> control.describeThingGroup(group));
      }
      if (n == 3 && path.get(2).equals("things") && method.equals("GET")) {
        boolean recursive = flag(query, "recursive");
        return call(out -> control.listThingsInThingGroup(group, recursive, query));
      }
    }
    throw new ApiException(
        404,
        "UnknownOperationException",
        "This hub has no operation " + method + " " + Texts.clip(ex.getRequestURI().getRawPath()));
  }

  /** Runs a call on the hub thread and waits until its changes are stored and published. */
  private JsonObject call(HubLoop.Work<JsonObject> c) throws ApiException {
    CompletableFuture<JsonObject> f;
    try {
      f = loop.submit(c);
    } catch (RejectedExecutionException e) {
      throw new ApiException(429, "ThrottlingException", "The hub is busy; try again.");
    }
    try {
      return f.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new ApiException(
          503, "ServiceUnavailableException", "The hub did not answer within 30 seconds.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "ServiceUnavailableException", "The hub is stopping.");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ApiException a) {
        throw a;
      }
      if (cause instanceof HubCore.NotStoredException) {
        throw new ApiException(500, "InternalFailureException", cause.getMessage());
      }
      if (cause instanceof RejectedExecutionException) {
        throw new ApiException(503, "ServiceUnavailableException", "The hub is stopping.");
      }
      throw new IllegalStateException("The hub failed on this request", cause);
    }
  }

  static boolean flag(Map<String, String> query, String name) throws ApiException {
    String v = query.get(name);
    if (v == null || v.equals("false")) {
      return false;
    }
    if (v.equals("true")) {
      return true;
    }
    throw ApiException.invalid(name + " must be true or false.");
  }

  private static JsonObject body(HttpExchange ex) throws ApiException {
    byte[] bytes;
    try (InputStream in = ex.getRequestBody()) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] chunk = new byte[8192];
      int r;
      while ((r = in.read(chunk)) != -1) {
        buf.write(chunk, 0, r);
        if (buf.size() > MAX_BODY) {
          throw new ApiException(413, "InvalidRequestException", "The request body is over 1 MiB.");
        }
      }
      bytes = buf.toByteArray();
    } catch (IOException e) {
      throw ApiException.invalid("Could not read the request body: " + e.getMessage());
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text.isBlank()) {
      return new JsonObject();
    }
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement e = JsonParser.parseReader(reader);
      if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT || !e.isJsonObject()) {
        throw ApiException.invalid("The request body must be one JSON object.");
      }
      return e.getAsJsonObject();
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw ApiException.invalid("The request body is not valid JSON: " + e.getMessage());
    }
  }

  private static void respond(
      HttpExchange ex, int status, JsonObject body, String requestId, String errorType)
      throws IOException {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.getResponseHeaders().set("x-amzn-RequestId", requestId);
    if (errorType != null) {
      ex.getResponseHeaders().set("x-amzn-ErrorType", errorType);
    }
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  /** Path segments, percent-decoded (the SDK encodes path parameters). */
  static List<String> segments(String rawPath) throws ApiException {
    List<String> out = new ArrayList<>();
    if (rawPath == null) {
      return out;
    }
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        out.add(percentDecode(s, false));
      }
    }
    return out;
  }

  static Map<String, String> query(String rawQuery) throws ApiException {
    Map<String, String> out = new HashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String k = percentDecode(eq < 0 ? pair : pair.substring(0, eq), true);
      String v = eq < 0 ? "" : percentDecode(pair.substring(eq + 1), true);
      out.put(k, v);
    }
    return out;
  }

  private static String percentDecode(String s, boolean plusIsSpace) throws ApiException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw ApiException.invalid("The URL has a broken percent escape.");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw ApiException.invalid("The URL has a broken percent escape.");
        }
        b.write(hi * 16 + lo);
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        b.write(' ');
      } else {
        byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        b.write(raw, 0, raw.length);
      }
    }
    return b.toString(StandardCharsets.UTF_8);
  }
}
