package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gantry jobs} against a scripted management API on loopback: the requests it sends, what it
 * prints, its exit status. (The real hub is exercised by the process tests.)
 */
class JobsCommandTest {

  /** One scripted answer: status, AWS error type (or null), JSON body. */
  private record Answer(int status, String type, String body) {}

  private record Request(String method, String path, String body) {}

  /** Authorization and x-amzn-principal of each request, in order ("-" when absent). */
  private final List<String> headers = Collections.synchronizedList(new ArrayList<>());

  @TempDir Path dir;

  private HttpServer server;
  private URI base;
  private final Map<String, Answer> answers = Collections.synchronizedMap(new LinkedHashMap<>());
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch release = new CountDownLatch(1);

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final Jobs jobs = new Jobs();

  /** {@code gantry jobs create} and {@code describe} as typed, through {@link Main}. */
  private final class Jobs {
    private int run(List<String> args) {
      return run(args, Map.of());
    }

    private int run(List<String> args, Map<String, String> env) {
      return run(args, env, false);
    }

    private int run(List<String> args, Map<String, String> env, boolean terminal) {
      return new Main(
              null,
              dir,
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8),
              env,
              terminal)
          .run(args.toArray(String[]::new));
    }

    int create(String thing, Path document, Optional<String> jobId, URI hub) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "jobs",
                  "create",
                  "--thing",
                  thing,
                  "--document",
                  document.toString(),
                  "--hub",
                  hub.toString()));
      jobId.ifPresent(id -> args.addAll(List.of("--job-id", id)));
      return run(args);
    }

    int describe(String jobId, URI hub) {
      return run(List.of("jobs", "describe", jobId, "--hub", hub.toString()));
    }
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String path = ex.getRequestURI().toString();
    requests.add(new Request(ex.getRequestMethod(), path, body));
    headers.add(
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Authorization")).orElse("-")
            + " "
            + Optional.ofNullable(ex.getRequestHeaders().getFirst("x-amzn-principal")).orElse("-"));
    Answer a = answers.get(ex.getRequestMethod() + " " + path);
    if (a == null) {
      a =
          new Answer(
              404,
              "ResourceNotFoundException",
              "{\"message\":\"nothing scripted for " + path + "\"}");
    }
    if (a.status() == 0) {
      try {
        release.await(10, TimeUnit.SECONDS); // a hub that does not answer in time
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      a = new Answer(200, null, "{}");
    }
    byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
    if (a.type() != null) {
      ex.getResponseHeaders().set("x-amzn-ErrorType", a.type());
    }
    ex.sendResponseHeaders(a.status(), bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  private void script(String request, int status, String type, String body) {
    answers.put(request, new Answer(status, type, body));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private Path document(String text) throws IOException {
    return Files.writeString(dir.resolve("doc.json"), text);
  }

  private static final String ARN = "arn:aws:iot:us-east-1:000000000000:thing/press-7";

  @Test
  void createRegistersTheThingThenCreatesTheJobWithItsArn() throws Exception {
    script(
        "POST /things/press-7",
        200,
        null,
        "{\"thingName\":\"press-7\",\"thingArn\":\"" + ARN + "\",\"thingId\":\"x\"}");
    script(
        "PUT /jobs/j-1",
        200,
        null,
        "{\"jobArn\":\"arn:aws:iot:us-east-1:000000000000:job/j-1\",\"jobId\":\"j-1\"}");
    String doc = "{\"operation\": \"diagnostics\"}\n";
    int status = jobs.create("press-7", document(doc), Optional.of("j-1"), base);

    assertEquals(0, status, err());
    assertEquals(2, requests.size(), requests.toString());
    assertEquals("POST", requests.get(0).method());
    JsonObject created = JsonParser.parseString(requests.get(1).body()).getAsJsonObject();
    assertEquals("PUT", requests.get(1).method());
    assertEquals(ARN, created.getAsJsonArray("targets").get(0).getAsString());
    assertEquals(1, created.getAsJsonArray("targets").size());
    assertEquals(doc, created.get("document").getAsString(), "the file's text, unchanged");
    assertEquals("SNAPSHOT", created.get("targetSelection").getAsString());
    assertEquals(
        "thing press-7: "
            + ARN
            + "\njob j-1 created: arn:aws:iot:us-east-1:000000000000:job/j-1\n"
            + "follow it with: gantry jobs watch j-1 --hub "
            + base
            + "\n",
        out());
    assertEquals("", err());
  }

  @Test
  void aThingThatExistsWithOtherAttributesIsTargetedByName() throws Exception {
    script(
        "POST /things/press-7",
        409,
        "ResourceAlreadyExistsException",
        "{\"message\":\"Thing press-7 already exists with different attributes.\"}");
    script("PUT /jobs/j-2", 200, null, "{\"jobArn\":\"arn:j-2\",\"jobId\":\"j-2\"}");
    assertEquals(
        0,
        jobs.create("press-7", document("{\"operation\":\"x\"}"), Optional.of("j-2"), base),
        err());
    JsonObject created = JsonParser.parseString(requests.get(1).body()).getAsJsonObject();
    assertEquals("press-7", created.getAsJsonArray("targets").get(0).getAsString());
  }

  @Test
  void withoutAJobIdOneIsGenerated() throws Exception {
    script("POST /things/t", 200, null, "{\"thingArn\":\"arn:t\"}");
    answers.put("PUT", null);
    int status = jobs.create("t", document("{}"), Optional.empty(), base);
    assertEquals(1, status, "nothing scripted for the generated id: the hub's 404 is reported");
    String path = requests.get(1).path();
    assertTrue(path.matches("/jobs/job-\\d{8}-\\d{6}-[0-9a-f]{4}"), path);
    assertTrue(CommandLine.checkJobId(path.substring("/jobs/".length())).isEmpty());
    assertTrue(JobsCommand.generateJobId().length() <= 64);
  }

  @Test
  void theHubsRefusalIsPrintedWithItsTypeAndExitsOne() throws Exception {
    script("POST /things/t", 200, null, "{\"thingArn\":\"arn:t\"}");
    script(
        "PUT /jobs/j-1",
        409,
        "ResourceAlreadyExistsException:http://internal.amazon.com/coral/",
        "{\"message\":\"Job j-1 already exists.\"}");
    int status = jobs.create("t", document("{}"), Optional.of("j-1"), base);
    assertEquals(1, status);
    assertEquals(
        "gantry: the hub refused to create job j-1: Job j-1 already exists."
            + " (ResourceAlreadyExistsException, HTTP 409)\n",
        err());
    assertEquals("", out());
  }

  @Test
  void anUnreachableHubIsOneSentenceAndExitsOne() throws Exception {
    server.stop(0);
    int status = jobs.create("t", document("{}"), Optional.of("j"), base);
    assertEquals(1, status);
    assertEquals(
        "gantry: cannot reach the hub at "
            + base
            + " (connection refused): is 'gantry hub' running there? Give its address with"
            + " --hub URL\n",
        err());
  }

  @Test
  void aHubThatDoesNotAnswerTimesOut() {
    script("GET /jobs/slow", 0, null, "");
    HubClient client = new HubClient(base, Duration.ofSeconds(2), Duration.ofMillis(300));
    HubException e = assertThrows(HubException.class, () -> client.describeJob("slow"));
    assertEquals(
        "the hub at " + base + " did not answer GET /jobs/slow within 300 ms", e.getMessage());
    assertEquals(0, e.status());
  }

  @Test
  void anAnswerThatIsNotJsonIsNotMistakenForSuccess() throws Exception {
    script("POST /things/t", 200, null, "<html>router login</html>");
    int status = jobs.create("t", document("{}"), Optional.of("j"), base);
    assertEquals(1, status);
    assertTrue(err().contains("is not a JSON object: is this the hub's management API?"), err());
  }

  @Test
  void documentFilesThatCannotBeUsedExitTwoBeforeAnyRequest() throws Exception {
    Path missing = dir.resolve("missing.json");
    assertEquals(2, jobs.create("t", missing, Optional.empty(), base));
    assertEquals(
        "gantry: cannot read the document " + missing + ": there is no such file\n", err());

    err.reset();
    Path big = Files.writeString(dir.resolve("big.json"), "x".repeat(32_769));
    assertEquals(2, jobs.create("t", big, Optional.empty(), base));
    assertTrue(err().contains("has 32769 characters; a job document has at most 32768"), err());

    err.reset();
    Path huge = Files.writeString(dir.resolve("huge.json"), "x".repeat(200_000));
    assertEquals(2, jobs.create("t", huge, Optional.empty(), base));
    assertTrue(err().contains("has 200000 bytes"), err());

    err.reset();
    Path latin1 = Files.write(dir.resolve("latin1.json"), new byte[] {'{', (byte) 0xe9, '}'});
    assertEquals(2, jobs.create("t", latin1, Optional.empty(), base));
    assertTrue(err().contains("it is not UTF-8 text"), err());

    err.reset();
    assertEquals(2, jobs.create("t", dir, Optional.empty(), base));
    assertTrue(err().contains("it is a folder"), err());

    err.reset();
    Path empty = Files.writeString(dir.resolve("empty.json"), " \n");
    assertEquals(2, jobs.create("t", empty, Optional.empty(), base));
    assertTrue(err().endsWith("is empty\n"), err());

    assertEquals(List.of(), requests, "the hub is never asked");
    // exactly at the limit is fine, multi-byte characters counted as characters
    String limit = "é".repeat(32_768);
    assertEquals(limit, JobsCommand.readDocument(Files.writeString(dir.resolve("l.json"), limit)));
  }

  @Test
  void describePrintsTheJobAndOneLinePerExecution() {
    script(
        "GET /jobs/j-1",
        200,
        null,
        "{\"job\":{\"jobArn\":\"arn:j-1\",\"jobId\":\"j-1\",\"status\":\"IN_PROGRESS\","
            + "\"targetSelection\":\"SNAPSHOT\",\"targets\":[\"arn:a\",\"arn:b\"],"
            + "\"createdAt\":1700000000.5}}");
    script(
        "GET /jobs/j-1/things",
        200,
        null,
        "{\"executionSummaries\":[{\"thingArn\":\"arn:aws:iot:r:1:thing/press-7\","
            + "\"jobExecutionSummary\":{\"status\":\"SUCCEEDED\",\"executionNumber\":1}}],"
            + "\"nextToken\":\"1\"}");
    script(
        "GET /jobs/j-1/things?nextToken=1",
        200,
        null,
        "{\"executionSummaries\":[{\"thingArn\":\"arn:aws:iot:r:1:thing/b\","
            + "\"jobExecutionSummary\":{\"status\":\"QUEUED\",\"executionNumber\":1}}]}");
    script(
        "GET /things/press-7/jobs/j-1",
        200,
        null,
        "{\"execution\":{\"jobId\":\"j-1\",\"status\":\"SUCCEEDED\",\"statusDetails\":"
            + "{\"detailsMap\":{\"gantryVersion\":\"0.1.0\",\"operations\":\"a=x@1, b=y@2\"}},"
            + "\"thingArn\":\"arn:aws:iot:r:1:thing/press-7\",\"queuedAt\":1700000001,"
            + "\"lastUpdatedAt\":1700000003.25,\"executionNumber\":1,\"versionNumber\":3}}");
    script(
        "GET /things/b/jobs/j-1",
        200,
        null,
        "{\"execution\":{\"jobId\":\"j-1\",\"status\":\"QUEUED\",\"statusDetails\":"
            + "{\"detailsMap\":{}},\"thingArn\":\"arn:aws:iot:r:1:thing/b\","
            + "\"lastUpdatedAt\":1700000001,\"executionNumber\":1,\"versionNumber\":1}}");

    assertEquals(0, jobs.describe("j-1", base), err());
    assertEquals(
        String.join(
            "\n",
            "job j-1  IN_PROGRESS  SNAPSHOT  created 2023-11-14T22:13:20Z  2 targets  arn:j-1",
            "  press-7  SUCCEEDED    execution 1, version 3, updated 2023-11-14T22:13:23Z "
                + " gantryVersion=0.1.0, operations=\"a=x@1, b=y@2\"",
            "  b        QUEUED       execution 1, version 1, updated 2023-11-14T22:13:21Z  -",
            ""),
        out());
  }

  @Test
  void describeOfAnUnknownJobReportsTheHubsMessage() {
    script(
        "GET /jobs/nope",
        404,
        "ResourceNotFoundException",
        "{\"message\":\"Job nope does not exist.\"}");
    assertEquals(1, jobs.describe("nope", base));
    assertEquals(
        "gantry: the hub refused to describe job nope: Job nope does not exist."
            + " (ResourceNotFoundException, HTTP 404)\n",
        err());
  }

  @Test
  void statusDetailsAreSortedAndQuotedOnlyWhereTheyCouldBeMisread() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("b", "two words");
    d.put("a", "plain-value_1.2");
    d.put("c", "x=y");
    d.put("d", "say \"hi\"\n");
    d.put("e", "");
    assertEquals(
        "a=plain-value_1.2, b=\"two words\", c=\"x=y\", d=\"say \\\"hi\\\"\\n\", e=\"\"",
        Format.details(d));
    assertEquals("-", Format.details(Map.of()));
  }

  @Test
  void thingNamesComeFromArns() {
    assertEquals("press-7", HubClient.thingName(ARN));
    assertEquals("a:b", HubClient.thingName("arn:aws:iot:r:1:thing/a:b"));
    assertEquals("plain", HubClient.thingName("plain"));
  }

  @Test
  void listsFollowEveryPageAndPrintATableOrWithJsonEveryItem() {
    script(
        "GET /jobs?status=IN_PROGRESS",
        200,
        null,
        "{\"jobs\":[{\"jobId\":\"a\",\"status\":\"IN_PROGRESS\",\"targetSelection\":"
            + "\"SNAPSHOT\",\"createdAt\":1700000000,\"lastUpdatedAt\":1700000001}],"
            + "\"nextToken\":\"p+2/=\"}");
    script(
        "GET /jobs?status=IN_PROGRESS&nextToken=p%2B2%2F%3D",
        200,
        null,
        "{\"jobs\":[{\"jobId\":\"b-longer\",\"status\":\"IN_PROGRESS\","
            + "\"targetSelection\":\"CONTINUOUS\",\"createdAt\":1700000002}]}");
    String hub = base.toString();
    assertEquals(0, jobs.run(List.of("jobs", "list", "--status", "IN_PROGRESS", "--hub", hub)));
    assertEquals(
        String.join(
            "\n",
            "JOB_ID    STATUS       SELECTION   CREATED               UPDATED",
            "a         IN_PROGRESS  SNAPSHOT    2023-11-14T22:13:20Z  2023-11-14T22:13:21Z",
            "b-longer  IN_PROGRESS  CONTINUOUS  2023-11-14T22:13:22Z  -",
            ""),
        out());
    out.reset();
    assertEquals(
        0, jobs.run(List.of("jobs", "list", "--status", "IN_PROGRESS", "--json", "--hub", hub)));
    JsonObject json = JsonParser.parseString(out()).getAsJsonObject();
    assertEquals(2, json.getAsJsonArray("jobs").size(), out());
    assertEquals(
        "b-longer",
        json.getAsJsonArray("jobs").get(1).getAsJsonObject().get("jobId").getAsString());
  }

  @Test
  void theTokenGoesInTheAuthorizationHeaderFromTheEnvironmentOrAFile() throws Exception {
    script("PUT /things/t/principals", 200, null, "{}");
    String hub = base.toString();
    List<String> attach =
        List.of("things", "attach", "t", "--principal", "gw-c1.plant", "--hub", hub);
    assertEquals(0, jobs.run(attach, Map.of("GANTRY_HUB_TOKEN", "s3cret")), err());
    assertEquals("principal gw-c1.plant attached to t\n", out());
    Path file = Files.writeString(dir.resolve("hub.token"), "from-file\n");
    List<String> withFile = new ArrayList<>(attach);
    withFile.addAll(List.of("--token-file", file.toString()));
    assertEquals(0, jobs.run(withFile, Map.of("GANTRY_HUB_TOKEN", "s3cret")), err());
    assertEquals(0, jobs.run(attach), err());
    assertEquals(
        List.of("Bearer s3cret gw-c1.plant", "Bearer from-file gw-c1.plant", "- gw-c1.plant"),
        headers);

    Files.writeString(file, "\n");
    assertEquals(2, jobs.run(withFile));
    assertEquals("gantry: the token file " + file + " is empty\n", err());
    err.reset();
    assertEquals(2, jobs.run(attach, Map.of("GANTRY_HUB_TOKEN", "two words")));
    assertTrue(err().startsWith("gantry: GANTRY_HUB_TOKEN holds characters"), err());
    assertEquals(3, requests.size(), "a bad token asks the hub nothing");
  }

  @Test
  void aRefusalNamesWhatWasAskedWithTheAwsErrorType() {
    script(
        "PUT /jobs/j-1/cancel",
        409,
        "InvalidStateTransitionException",
        "{\"message\":\"Job j-1 is COMPLETED and cannot be canceled.\"}");
    assertEquals(
        1,
        jobs.run(
            List.of(
                "jobs",
                "cancel",
                "j-1",
                "--reason-code",
                "STOP",
                "--comment",
                "bad batch",
                "--hub",
                base.toString())));
    assertEquals(
        "gantry: the hub refused to cancel job j-1: Job j-1 is COMPLETED and cannot be canceled."
            + " (InvalidStateTransitionException, HTTP 409)\n",
        err());
    assertEquals(
        JsonParser.parseString("{\"reasonCode\":\"STOP\",\"comment\":\"bad batch\"}"),
        JsonParser.parseString(requests.get(0).body()));
  }

  @Test
  void watchRedrawsInPlaceOnATerminalAndPrintsLinesElsewhere() {
    script(
        "GET /jobs/w",
        200,
        null,
        "{\"job\":{\"jobId\":\"w\",\"status\":\"COMPLETED\",\"jobProcessDetails\":"
            + "{\"numberOfSucceededThings\":3}}}");
    List<String> watch =
        List.of("jobs", "watch", "w", "--interval", "0.2", "--hub", base.toString());
    assertEquals(0, jobs.run(watch, Map.of(), true), err());
    assertTrue(out().startsWith("\033[Hjob w  COMPLETED  at "), out());
    assertTrue(
        out()
            .contains(
                "\033[K\nprogress    [##############################] 3 of 3 done (100%)\033[K\n"),
        out());
    assertTrue(
        out()
            .endsWith(
                "\033[Jjob w COMPLETED: 3 of 3 things done; queued 0, in progress 0, succeeded 3,"
                    + " failed 0, rejected 0, timed out 0, canceled 0, removed 0\n"),
        out());
    out.reset();
    assertEquals(0, jobs.run(watch), err());
    List<String> lines = out().lines().toList();
    assertEquals(2, lines.size(), out());
    assertTrue(
        lines.get(0).matches("\\d\\d:\\d\\d:\\d\\dZ job w COMPLETED 3/3 done \\| .*"), out());
    assertTrue(!out().contains("\033"), "no escape sequence in a pipe");

    assertEquals(1, jobs.run(List.of("jobs", "watch", "nope", "--hub", base.toString())));
    assertTrue(
        err().startsWith("gantry: the hub refused to describe job nope: nothing scripted"), err());
  }
}
