package org.gantry.launcher;

import static org.gantry.launcher.HubClient.encode;
import static org.gantry.launcher.HubClient.segment;
import static org.gantry.launcher.HubClient.string;
import static org.gantry.launcher.HubClient.time;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.gantry.launcher.CommandLine.HubCall;

/**
 * Runs {@code gantry jobs ...} and {@code gantry things ...}: one or a few management API calls,
 * printed as tables for people or, with {@code --json}, as the hub's answer. A refusal or an
 * unreachable hub is one {@code gantry: ...} line on stderr with the AWS error type and exit status
 * 1; a file that cannot be used (document, config, token) is exit status 2 before the hub is asked.
 */
final class OpsCommand {

  /** A problem the user made, found after parsing (a file): exit status 2. */
  private static final class UsageProblem extends Exception {
    private static final long serialVersionUID = 1L;

    UsageProblem(String message) {
      super(message);
    }
  }

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;
  private final boolean terminal;

  /**
   * @param env the environment ({@code GANTRY_HUB_TOKEN})
   * @param terminal whether stdout is a terminal that understands ANSI cursor movement (for {@code
   *     jobs watch})
   */
  OpsCommand(PrintStream out, PrintStream err, Map<String, String> env, boolean terminal) {
    this.out = out;
    this.err = err;
    this.env = env;
    this.terminal = terminal;
  }

  int run(HubCall c) {
    Optional<String> token;
    try {
      token = token(c);
    } catch (UsageProblem e) {
      return fail(Main.USAGE, e.getMessage());
    }
    HubClient hub =
        new HubClient(c.hub(), HubClient.CONNECT_TIMEOUT, HubClient.REQUEST_TIMEOUT, token);
    String what = what(c);
    try {
      switch (c.command()) {
        case "jobs list" -> jobsList(c, hub);
        case "jobs create" -> {
          return jobsCreate(c, hub);
        }
        case "jobs describe" -> jobsDescribe(c, hub);
        case "jobs document" -> jobsDocument(c, hub);
        case "jobs cancel" -> jobsCancel(c, hub);
        case "jobs delete" -> jobsDelete(c, hub);
        case "jobs executions" -> jobsExecutions(c, hub);
        case "jobs execution" -> jobsExecution(c, hub);
        case "jobs cancel-execution" -> jobsCancelExecution(c, hub);
        case "jobs delete-execution" -> jobsDeleteExecution(c, hub);
        case "jobs watch" -> {
          return new WatchCommand(out, err, terminal).run(c, hub);
        }
        case "things list" -> thingsList(c, hub);
        case "things create" -> thingsCreate(c, hub);
        case "things delete" -> thingsDelete(c, hub);
        case "things describe" -> thingsDescribe(c, hub);
        case "things jobs" -> thingsJobs(c, hub);
        case "things attach" -> principal(c, hub, "PUT");
        case "things detach" -> principal(c, hub, "DELETE");
        case "things principals" -> principals(c, hub);
        case "things group create" -> groupCreate(c, hub);
        case "things group describe" -> groupDescribe(c, hub);
        case "things group add" -> groupMember(c, hub, "addThingToThingGroup");
        case "things group remove" -> groupMember(c, hub, "removeThingFromThingGroup");
        case "things group list" -> groupsList(c, hub);
        case "things group things" -> groupThings(c, hub);
        default -> throw new IllegalStateException("no implementation of " + c.command());
      }
      out.flush();
      return Main.OK;
    } catch (HubException e) {
      return fail(Main.FAILED, refusal(e, what));
    } catch (UsageProblem e) {
      return fail(Main.USAGE, e.getMessage());
    }
  }

  /** What a call asks the hub, for the sentence of a refusal: "describe job J". */
  static String what(HubCall c) {
    List<String> a = c.args();
    String first = a.isEmpty() ? "" : a.get(0);
    String thing = c.value("--thing").orElse("");
    return switch (c.command()) {
      case "jobs list" -> "list jobs";
      case "jobs create" -> "create the job";
      case "jobs describe", "jobs watch" -> "describe job " + first;
      case "jobs document" -> "get the document of job " + first;
      case "jobs cancel" -> "cancel job " + first;
      case "jobs delete" -> "delete job " + first;
      case "jobs executions" -> "list the executions of job " + first;
      case "jobs execution" -> "describe the execution of job " + first + " on " + thing;
      case "jobs cancel-execution" -> "cancel the execution of job " + first + " on " + thing;
      case "jobs delete-execution" ->
          "delete execution "
              + c.value("--execution-number").orElse("")
              + " of job "
              + first
              + " on "
              + thing;
      case "things list" -> "list things";
      case "things create" -> "create thing " + first;
      case "things delete" -> "delete thing " + first;
      case "things describe" -> "describe thing " + first;
      case "things jobs" -> "list the jobs of thing " + first;
      case "things attach" -> "attach a principal to thing " + first;
      case "things detach" -> "detach a principal from thing " + first;
      case "things principals" -> "list the principals of thing " + first;
      case "things group create" -> "create group " + first;
      case "things group describe" -> "describe group " + first;
      case "things group add" -> "add thing " + a.get(1) + " to group " + first;
      case "things group remove" -> "remove thing " + a.get(1) + " from group " + first;
      case "things group list" -> "list thing groups";
      case "things group things" -> "list the things of group " + first;
      default -> c.command();
    };
  }

  /** The bearer token: {@code --token-file}'s first line, else {@code GANTRY_HUB_TOKEN}. */
  Optional<String> token(HubCall c) throws UsageProblem {
    if (c.tokenFile().isPresent()) {
      Path file = c.tokenFile().get();
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new UsageProblem("cannot read the token file " + file + ": there is no such file");
      } catch (IOException e) {
        throw new UsageProblem("cannot read the token file " + file + ": " + e);
      }
      String line = text.lines().findFirst().orElse("").strip();
      return Optional.of(checkToken(line, "the token file " + file));
    }
    String fromEnv = env.get("GANTRY_HUB_TOKEN");
    if (fromEnv == null || fromEnv.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(checkToken(fromEnv.strip(), "GANTRY_HUB_TOKEN"));
  }

  private static String checkToken(String token, String where) throws UsageProblem {
    if (token.isEmpty()) {
      throw new UsageProblem(where + " is empty");
    }
    // An HTTP header value: visible ASCII only (a control character would split the header).
    if (!token.matches("[\\x21-\\x7e]{1,4096}")) {
      throw new UsageProblem(
          where + " holds characters a bearer token cannot have (spaces, control or non-ASCII)");
    }
    return token;
  }

  // ---- jobs ----

  private void jobsList(HubCall c, HubClient hub) throws HubException {
    List<String> query = new ArrayList<>();
    c.value("--status").ifPresent(v -> query.add("status=" + v));
    c.value("--target-selection").ifPresent(v -> query.add("targetSelection=" + v));
    c.value("--group").ifPresent(v -> query.add("thingGroupName=" + encode(v)));
    JsonArray jobs = hub.list("/jobs", String.join("&", query), "jobs");
    if (c.json()) {
      printJson(wrap("jobs", jobs));
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonElement e : jobs) {
      JsonObject j = e.getAsJsonObject();
      rows.add(
          List.of(
              string(j, "jobId").orElse("?"),
              string(j, "status").orElse("?"),
              string(j, "targetSelection").orElse("-"),
              Format.time(time(j, "createdAt")),
              Format.time(time(j, "lastUpdatedAt"))));
    }
    table(List.of("JOB_ID", "STATUS", "SELECTION", "CREATED", "UPDATED"), rows, "no jobs");
  }

  private int jobsCreate(HubCall c, HubClient hub) throws HubException, UsageProblem {
    JsonObject config = new JsonObject();
    Optional<String> document = Optional.empty();
    try {
      if (c.value("--config").isPresent()) {
        config = readConfig(Path.of(c.value("--config").get()));
      }
      if (c.value("--document").isPresent()) {
        document = Optional.of(JobsCommand.readDocument(Path.of(c.value("--document").get())));
      }
      // Checked before any call, so a bad command line changes nothing on the hub.
      List<String> planned = new ArrayList<>(c.values("--thing"));
      planned.addAll(c.values("--group"));
      JobRequest.body(c, config, document, planned);
    } catch (ConfigException e) {
      throw new UsageProblem(e.getMessage());
    }
    String jobId;
    try {
      jobId = JobRequest.jobId(c, config);
    } catch (ConfigException e) {
      throw new UsageProblem(e.getMessage());
    }
    List<String> targets = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (String thing : c.values("--thing")) {
      HubClient.Thing t;
      try {
        t = hub.createThing(thing);
      } catch (HubException e) {
        return fail(Main.FAILED, refusal(e, "register target thing " + thing));
      }
      targets.add(t.arn());
      lines.add("thing " + t.name() + ": " + t.arn());
    }
    for (String group : c.values("--group")) {
      JsonObject g;
      try {
        g = hub.request("GET", "/thing-groups/" + segment(group), null, Map.of());
      } catch (HubException e) {
        return fail(Main.FAILED, refusal(e, "describe target group " + group));
      }
      String arn = string(g, "thingGroupArn").orElse(group);
      targets.add(arn);
      lines.add("group " + group + ": " + arn);
    }
    JsonObject body;
    try {
      body = JobRequest.body(c, config, document, targets);
    } catch (ConfigException e) {
      throw new UsageProblem(e.getMessage());
    }
    JsonObject answer;
    try {
      answer = hub.request("PUT", "/jobs/" + segment(jobId), body, Map.of());
    } catch (HubException e) {
      return fail(Main.FAILED, refusal(e, "create job " + jobId));
    }
    if (c.json()) {
      printJson(answer);
      return Main.OK;
    }
    lines.forEach(out::println);
    out.println("job " + jobId + " created: " + string(answer, "jobArn").orElse(jobId));
    String hubOption = c.hub().equals(CommandLine.DEFAULT_HUB) ? "" : " --hub " + c.hub();
    out.println("follow it with: gantry jobs watch " + jobId + hubOption);
    out.flush();
    return Main.OK;
  }

  /** The {@code --config} file: a JSON object of at most 1 MB. */
  static JsonObject readConfig(Path file) throws ConfigException {
    try {
      if (Files.size(file) > 1_000_000) {
        throw new ConfigException("the config " + file + " is larger than 1 MB");
      }
      JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
      if (!e.isJsonObject()) {
        throw new ConfigException(
            "the config " + file + " is not a JSON object in the CreateJob request shape");
      }
      return e.getAsJsonObject();
    } catch (NoSuchFileException e) {
      throw new ConfigException("cannot read the config " + file + ": there is no such file");
    } catch (IOException e) {
      throw new ConfigException("cannot read the config " + file + ": " + e);
    } catch (JsonParseException e) {
      throw new ConfigException(
          "the config " + file + " is not valid JSON: " + Format.firstLine(e.getMessage()));
    }
  }

  private void jobsDescribe(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    JsonObject answer = hub.request("GET", "/jobs/" + segment(jobId), null, Map.of());
    if (c.json()) {
      printJson(answer);
      return;
    }
    HubClient.Job job = HubClient.job(answer, jobId);
    JsonObject raw = HubClient.object(answer, "job");
    List<HubClient.ExecutionSummary> executions = hub.listExecutions(jobId);
    out.println(
        "job "
            + job.jobId()
            + "  "
            + job.status()
            + "  "
            + job.targetSelection()
            + "  created "
            + Format.time(job.createdAt())
            + "  "
            + job.targets().size()
            + (job.targets().size() == 1 ? " target" : " targets")
            + "  "
            + job.arn());
    job.description().ifPresent(d -> out.println("  " + d));
    Optional<String> reason = string(raw, "reasonCode");
    Optional<String> comment = string(raw, "comment");
    if (reason.isPresent() || comment.isPresent()) {
      out.println(
          "  canceled: "
              + reason.orElse("-")
              + comment.map(s -> " (" + s + ")").orElse("")
              + (raw.has("forceCanceled") && raw.get("forceCanceled").getAsBoolean()
                  ? ", forced"
                  : ""));
    }
    for (String line : WatchCommand.configurationLines(raw)) {
      out.println("  " + line);
    }
    if (executions.isEmpty()) {
      out.println("  no executions");
    }
    int width = executions.stream().mapToInt(e -> e.thingName().length()).max().orElse(0);
    for (HubClient.ExecutionSummary summary : executions) {
      HubClient.Execution x = hub.describeExecution(summary.thingName(), jobId);
      out.println(JobsCommand.line(x, width));
    }
  }

  private void jobsDocument(HubCall c, HubClient hub) throws HubException {
    JsonObject answer =
        hub.request("GET", "/jobs/" + segment(c.args().get(0)) + "/job-document", null, Map.of());
    if (c.json()) {
      printJson(answer);
      return;
    }
    out.println(string(answer, "document").orElse(""));
  }

  private void jobsCancel(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    JsonObject body = new JsonObject();
    c.value("--reason-code").ifPresent(v -> body.addProperty("reasonCode", v));
    c.value("--comment").ifPresent(v -> body.addProperty("comment", v));
    JsonObject answer =
        hub.request(
            "PUT",
            "/jobs/" + segment(jobId) + "/cancel" + (c.has("--force") ? "?force=true" : ""),
            body,
            Map.of());
    done(c, answer, "job " + jobId + " canceled" + (c.has("--force") ? " (forced)" : ""));
  }

  private void jobsDelete(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    JsonObject answer =
        hub.request(
            "DELETE",
            "/jobs/" + segment(jobId) + (c.has("--force") ? "?force=true" : ""),
            null,
            Map.of());
    done(c, answer, "job " + jobId + " deleted");
  }

  private void jobsExecutions(HubCall c, HubClient hub) throws HubException {
    executionSummaries(
        c,
        hub,
        "/jobs/" + segment(c.args().get(0)) + "/things",
        "THING",
        item -> HubClient.thingName(string(item, "thingArn").orElse("?")),
        "no executions" + c.value("--status").map(s -> " " + s).orElse(""));
  }

  /**
   * ListJobExecutionsForJob and ListJobExecutionsForThing: the same summaries, told apart by their
   * first column (the thing of a job's executions, the job of a thing's).
   */
  private void executionSummaries(
      HubCall c,
      HubClient hub,
      String path,
      String firstHeader,
      Function<JsonObject, String> first,
      String none)
      throws HubException {
    String query = c.value("--status").map(s -> "status=" + s).orElse("");
    JsonArray list = hub.list(path, query, "executionSummaries");
    if (c.json()) {
      printJson(wrap("executionSummaries", list));
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonElement e : list) {
      JsonObject item = e.getAsJsonObject();
      JsonObject s = summary(item);
      rows.add(
          List.of(
              first.apply(item),
              string(s, "status").orElse("?"),
              Long.toString(HubClient.number(s, "executionNumber")),
              Format.time(time(s, "queuedAt")),
              Format.time(time(s, "lastUpdatedAt"))));
    }
    table(List.of(firstHeader, "STATUS", "EXECUTION", "QUEUED", "UPDATED"), rows, none);
  }

  private static JsonObject summary(JsonObject item) {
    JsonElement s = item.get("jobExecutionSummary");
    return s != null && s.isJsonObject() ? s.getAsJsonObject() : new JsonObject();
  }

  private void jobsExecution(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    String thing = c.value("--thing").get();
    JsonObject answer =
        hub.request(
            "GET",
            "/things/"
                + segment(thing)
                + "/jobs/"
                + segment(jobId)
                + c.value("--execution-number").map(n -> "?executionNumber=" + n).orElse(""),
            null,
            Map.of());
    if (c.json()) {
      printJson(answer);
      return;
    }
    HubClient.Execution x = HubClient.execution(answer, thing, jobId);
    out.println(JobsCommand.line(x, thing.length()).substring(2));
    out.println(
        "  queued "
            + Format.time(x.queuedAt())
            + ", started "
            + Format.time(x.startedAt())
            + ", updated "
            + Format.time(x.lastUpdatedAt()));
  }

  private void jobsCancelExecution(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    String thing = c.value("--thing").get();
    JsonObject body = new JsonObject();
    c.value("--expected-version")
        .ifPresent(v -> body.addProperty("expectedVersion", Long.parseLong(v)));
    JsonObject answer =
        hub.request(
            "PUT",
            "/things/"
                + segment(thing)
                + "/jobs/"
                + segment(jobId)
                + "/cancel"
                + (c.has("--force") ? "?force=true" : ""),
            body,
            Map.of());
    done(c, answer, "execution of job " + jobId + " on " + thing + " canceled");
  }

  private void jobsDeleteExecution(HubCall c, HubClient hub) throws HubException {
    String jobId = c.args().get(0);
    String thing = c.value("--thing").get();
    String n = c.value("--execution-number").get();
    JsonObject answer =
        hub.request(
            "DELETE",
            "/things/"
                + segment(thing)
                + "/jobs/"
                + segment(jobId)
                + "/executionNumber/"
                + n
                + (c.has("--force") ? "?force=true" : ""),
            null,
            Map.of());
    done(c, answer, "execution " + n + " of job " + jobId + " on " + thing + " deleted");
  }

  // ---- things ----

  private void thingsList(HubCall c, HubClient hub) throws HubException {
    JsonArray things = hub.list("/things", "", "things");
    if (c.json()) {
      printJson(wrap("things", things));
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonElement e : things) {
      JsonObject t = e.getAsJsonObject();
      rows.add(
          List.of(
              string(t, "thingName").orElse("?"),
              Long.toString(HubClient.number(t, "version")),
              attributes(t),
              string(t, "thingArn").orElse("-")));
    }
    table(List.of("THING", "VERSION", "ATTRIBUTES", "ARN"), rows, "no things");
  }

  private static String attributes(JsonObject o) {
    JsonElement a = o.get("attributes");
    Map<String, String> map = new TreeMap<>();
    if (a != null && a.isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : a.getAsJsonObject().entrySet()) {
        map.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : "?");
      }
    }
    return Format.details(map);
  }

  private void thingsCreate(HubCall c, HubClient hub) throws HubException {
    String thing = c.args().get(0);
    JsonObject body = new JsonObject();
    if (c.has("--attribute")) {
      JsonObject attributes = new JsonObject();
      for (String a : c.values("--attribute")) {
        int eq = a.indexOf('=');
        attributes.addProperty(a.substring(0, eq), a.substring(eq + 1));
      }
      JsonObject payload = new JsonObject();
      payload.add("attributes", attributes);
      body.add("attributePayload", payload);
    }
    JsonObject answer = hub.request("POST", "/things/" + segment(thing), body, Map.of());
    done(c, answer, "thing " + thing + ": " + string(answer, "thingArn").orElse(thing));
  }

  private void thingsDelete(HubCall c, HubClient hub) throws HubException {
    String thing = c.args().get(0);
    JsonObject answer =
        hub.request(
            "DELETE",
            "/things/"
                + segment(thing)
                + c.value("--expected-version").map(v -> "?expectedVersion=" + v).orElse(""),
            null,
            Map.of());
    done(c, answer, "thing " + thing + " deleted");
  }

  private void thingsDescribe(HubCall c, HubClient hub) throws HubException {
    String thing = c.args().get(0);
    JsonObject t = hub.request("GET", "/things/" + segment(thing), null, Map.of());
    if (c.json()) {
      printJson(t);
      return;
    }
    out.println(
        "thing " + string(t, "thingName").orElse(thing) + "  " + string(t, "thingArn").orElse("-"));
    out.println("  version     " + HubClient.number(t, "version"));
    out.println("  attributes  " + attributes(t));
    string(t, "thingId").ifPresent(id -> out.println("  id          " + id));
  }

  private void thingsJobs(HubCall c, HubClient hub) throws HubException {
    executionSummaries(
        c,
        hub,
        "/things/" + segment(c.args().get(0)) + "/jobs",
        "JOB_ID",
        item -> string(item, "jobId").orElse("?"),
        "no executions");
  }

  private void principal(HubCall c, HubClient hub, String method) throws HubException {
    String thing = c.args().get(0);
    String principal = c.value("--principal").get();
    JsonObject answer =
        hub.request(
            method,
            "/things/" + segment(thing) + "/principals",
            null,
            Map.of("x-amzn-principal", principal));
    done(
        c,
        answer,
        "principal "
            + principal
            + (method.equals("PUT") ? " attached to " : " detached from ")
            + thing);
  }

  private void principals(HubCall c, HubClient hub) throws HubException {
    String thing = c.args().get(0);
    JsonArray list = hub.list("/things/" + segment(thing) + "/principals", "", "principals");
    if (c.json()) {
      printJson(wrap("principals", list));
      return;
    }
    if (list.isEmpty()) {
      out.println("no principals attached to " + thing);
    }
    for (JsonElement e : list) {
      out.println(e.isJsonPrimitive() ? e.getAsString() : e.toString());
    }
  }

  private void groupCreate(HubCall c, HubClient hub) throws HubException {
    String group = c.args().get(0);
    JsonObject body = new JsonObject();
    c.value("--parent").ifPresent(p -> body.addProperty("parentGroupName", p));
    c.value("--description")
        .ifPresent(
            d -> {
              JsonObject props = new JsonObject();
              props.addProperty("thingGroupDescription", d);
              body.add("thingGroupProperties", props);
            });
    JsonObject answer = hub.request("POST", "/thing-groups/" + segment(group), body, Map.of());
    done(c, answer, "group " + group + ": " + string(answer, "thingGroupArn").orElse(group));
  }

  private void groupDescribe(HubCall c, HubClient hub) throws HubException {
    String group = c.args().get(0);
    JsonObject g = hub.request("GET", "/thing-groups/" + segment(group), null, Map.of());
    if (c.json()) {
      printJson(g);
      return;
    }
    out.println(
        "group "
            + string(g, "thingGroupName").orElse(group)
            + "  "
            + string(g, "thingGroupArn").orElse("-"));
    JsonElement props = g.get("thingGroupProperties");
    if (props != null && props.isJsonObject()) {
      string(props.getAsJsonObject(), "thingGroupDescription")
          .ifPresent(d -> out.println("  description  " + d));
    }
    JsonElement meta = g.get("thingGroupMetadata");
    if (meta != null && meta.isJsonObject()) {
      JsonObject m = meta.getAsJsonObject();
      out.println("  parent       " + string(m, "parentGroupName").orElse("-"));
      out.println("  created      " + Format.time(time(m, "creationDate")));
    }
    out.println("  version      " + HubClient.number(g, "version"));
  }

  private void groupMember(HubCall c, HubClient hub, String operation) throws HubException {
    String group = c.args().get(0);
    String thing = c.args().get(1);
    JsonObject body = new JsonObject();
    body.addProperty("thingGroupName", group);
    body.addProperty("thingName", thing);
    JsonObject answer = hub.request("PUT", "/thing-groups/" + operation, body, Map.of());
    done(
        c,
        answer,
        "thing "
            + thing
            + (operation.startsWith("add") ? " added to group " : " removed from group ")
            + group);
  }

  private void groupsList(HubCall c, HubClient hub) throws HubException {
    List<String> query = new ArrayList<>();
    c.value("--parent").ifPresent(p -> query.add("parentGroup=" + encode(p)));
    // Without it the hub lists root groups only (recursive=false); an operator wants them all.
    query.add("recursive=" + (c.has("--recursive") || c.value("--parent").isEmpty()));
    JsonArray groups = hub.list("/thing-groups", String.join("&", query), "thingGroups");
    if (c.json()) {
      printJson(wrap("thingGroups", groups));
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonElement e : groups) {
      JsonObject g = e.getAsJsonObject();
      rows.add(List.of(string(g, "groupName").orElse("?"), string(g, "groupArn").orElse("-")));
    }
    table(List.of("GROUP", "ARN"), rows, "no thing groups");
  }

  private void groupThings(HubCall c, HubClient hub) throws HubException {
    String group = c.args().get(0);
    JsonArray things =
        hub.list(
            "/thing-groups/" + segment(group) + "/things",
            c.has("--recursive") ? "recursive=true" : "",
            "things");
    if (c.json()) {
      printJson(wrap("things", things));
      return;
    }
    if (things.isEmpty()) {
      out.println("no things in group " + group);
    }
    for (JsonElement e : things) {
      out.println(e.isJsonPrimitive() ? e.getAsString() : e.toString());
    }
  }

  // ---- output ----

  private void done(HubCall c, JsonObject answer, String sentence) {
    if (c.json()) {
      printJson(answer);
    } else {
      out.println(sentence);
    }
  }

  private static JsonObject wrap(String field, JsonArray items) {
    JsonObject o = new JsonObject();
    o.add(field, items);
    return o;
  }

  private void printJson(JsonObject o) {
    out.println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(o));
  }

  private void table(List<String> headers, List<List<String>> rows, String none) {
    if (rows.isEmpty()) {
      out.println(none);
      return;
    }
    for (String line : Format.table(headers, rows)) {
      out.println(line);
    }
  }

  static String refusal(HubException e, String what) {
    if (e.status() == 0) {
      return e.getMessage();
    }
    return "the hub refused to "
        + what
        + ": "
        + e.getMessage()
        + (e.type().isEmpty() ? "" : " (" + e.type() + ", HTTP " + e.status() + ")");
  }

  private int fail(int status, String message) {
    err.println("gantry: " + message);
    err.flush();
    return status;
  }
}
