package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operators' commands as an operator types them: {@code bin/gantry hub}, two {@code bin/gantry
 * gateway}s, and {@code bin/gantry things ...} / {@code jobs ...} processes against them: a rollout
 * created with {@code jobs create} and followed with {@code jobs watch} until COMPLETED, a job that
 * its abort criterion cancels, and the lists, cancel and delete.
 */
class OperatorsIT {

  private static final Duration STEP = Duration.ofSeconds(60);

  @TempDir Path tmp;
  private ProcessFixture processes;

  @AfterEach
  void killLeftovers() throws Exception {
    if (processes != null) {
      processes.close();
    }
  }

  /** The hub's bearer token (api.auth.tokens), given to every command through --token-file. */
  private static final String TOKEN = "it-operators-0123456789abcdef";

  /** {@code bin/gantry ARGS --token-file hub.token}. */
  private ProcessFixture.Result run(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--token-file", "hub.token"));
    return processes.run(all.toArray(String[]::new));
  }

  private ProcessFixture.Result ok(String... args) throws Exception {
    ProcessFixture.Result r = run(args);
    assertEquals(0, r.status(), String.join(" ", args) + "\n" + r.out() + "\n" + r.err());
    assertEquals("", r.err(), String.join(" ", args));
    return r;
  }

  @Test
  void aRolloutCreatedWatchedListedAndAnAbortedOne() throws Exception {
    processes = new ProcessFixture(tmp);
    int[] ports = Demo.freePorts(2);
    String hub = "http://127.0.0.1:" + ports[1];
    // the shipped etc/, with a bearer token required on the management API
    Path etc = Files.createDirectories(tmp.resolve("etc"));
    try (var files = Files.list(AssemblyIT.assembly().resolve("etc"))) {
      for (Path f : files.toList()) {
        Files.copy(f, etc.resolve(f.getFileName()));
      }
    }
    Files.writeString(
        etc.resolve("org.gantry.hub.cfg"),
        "api.auth.tokens = " + TOKEN + "\n",
        java.nio.file.StandardOpenOption.APPEND);
    Files.writeString(tmp.resolve("hub.token"), TOKEN + "\n");
    ProcessFixture.Running hubProcess =
        processes.start(
            "hub",
            "hub",
            "--mqtt-port",
            Integer.toString(ports[0]),
            "--api-port",
            Integer.toString(ports[1]),
            "--data",
            tmp.resolve("hub").toString(),
            "--config",
            etc.toString());
    ProcessFixture.awaitHub(hubProcess, URI.create(hub));
    ProcessFixture.Result anonymous = processes.run("things", "list", "--hub", hub);
    assertEquals(1, anonymous.status(), anonymous.out());
    assertTrue(
        anonymous.err().startsWith("gantry: the hub refused to list things: ")
            && anonymous.err().endsWith("(MissingAuthenticationTokenException, HTTP 403)"),
        anonymous.err());
    List<ProcessFixture.Running> gateways =
        List.of(startGateway(ports[0], "line-a"), startGateway(ports[0], "line-b"));

    assertEquals(
        "group line-1: arn:aws:iot:us-east-1:000000000000:thinggroup/line-1",
        ok("things", "group", "create", "line-1", "--description", "Line 1", "--hub", hub).out());
    assertEquals(
        "thing spare-1: arn:aws:iot:us-east-1:000000000000:thing/spare-1",
        ok("things", "create", "spare-1", "--attribute", "site=berlin", "--hub", hub).out());
    ok("things", "create", "line-b", "--hub", hub);
    assertEquals(
        "thing line-b added to group line-1",
        ok("things", "group", "add", "line-1", "line-b", "--hub", hub).out());
    assertEquals("line-b", ok("things", "group", "things", "line-1", "--hub", hub).out());
    assertEquals(
        "principal line-b.plant attached to line-b",
        ok("things", "attach", "line-b", "--principal", "line-b.plant", "--hub", hub).out());
    assertEquals("line-b.plant", ok("things", "principals", "line-b", "--hub", hub).out());
    ok("things", "detach", "line-b", "--principal", "line-b.plant", "--hub", hub);
    assertEquals(
        "no principals attached to line-b",
        ok("things", "principals", "line-b", "--hub", hub).out());

    // a rollout: line-a by name, line-b through its group, 4 per minute (the second execution
    // waits 15 s, so the watch sees the rollout under way), an abort criterion
    Files.writeString(tmp.resolve("diagnostics.json"), "{\"operation\":\"diagnostics\"}");
    ProcessFixture.Result created =
        ok(
            "jobs",
            "create",
            "--thing",
            "line-a",
            "--group",
            "line-1",
            "--document",
            "diagnostics.json",
            "--job-id",
            "it-rollout",
            "--max-per-minute",
            "4",
            "--abort",
            "FAILED:50:2",
            "--retry",
            "FAILED:1",
            "--in-progress-timeout",
            "5",
            "--hub",
            hub);
    assertEquals(
        List.of(
            "thing line-a: arn:aws:iot:us-east-1:000000000000:thing/line-a",
            "group line-1: arn:aws:iot:us-east-1:000000000000:thinggroup/line-1",
            "job it-rollout created: arn:aws:iot:us-east-1:000000000000:job/it-rollout",
            "follow it with: gantry jobs watch it-rollout --hub " + hub),
        created.out().lines().toList());

    ProcessFixture.Result watched =
        ok("jobs", "watch", "it-rollout", "--interval", "0.5", "--hub", hub);
    List<String> lines = watched.out().lines().toList();
    System.out.println("jobs watch printed:\n" + watched.out());
    assertEquals(
        "job it-rollout COMPLETED: 2 of 2 things done; queued 0, in progress 0, succeeded 2,"
            + " failed 0, rejected 0, timed out 0, canceled 0, removed 0",
        lines.get(lines.size() - 1));
    String last = lines.get(lines.size() - 2);
    assertTrue(last.contains(" job it-rollout COMPLETED 2/2 done | "), last);
    assertTrue(last.contains("limit 4/min"), last);
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.contains(" job it-rollout IN_PROGRESS 1/2 done | ")
                        && l.contains(
                            "limit 4/min; delivered 1 in the last minute; notified 1,"
                                + " waiting 1")),
        "the watch saw the rollout hold the second execution back:\n" + watched.out());
    assertTrue(last.contains("| abort FAILED >= 50% once 2 notified: now 0% (0 of 2)"), last);
    for (String line : lines.subList(0, lines.size() - 1)) {
      assertTrue(
          line.matches("\\d\\d:\\d\\d:\\d\\dZ job it-rollout .*"), "one line per refresh: " + line);
    }

    ProcessFixture.Result described = ok("jobs", "describe", "it-rollout", "--hub", hub);
    assertTrue(described.out().contains("\n  rollout: at most 4/min\n"), described.out());
    assertTrue(
        described.out().contains("\n  abort: CANCEL when FAILED >= 50% once 2 notified\n"),
        described.out());
    String executions = ok("jobs", "executions", "it-rollout", "--hub", hub).out();
    assertTrue(executions.startsWith("THING   STATUS     EXECUTION  QUEUED"), executions);
    assertTrue(executions.contains("\nline-a  SUCCEEDED  1  "), executions);
    assertTrue(executions.contains("\nline-b  SUCCEEDED  1  "), executions);
    assertTrue(
        ok("jobs", "list", "--hub", hub)
            .out()
            .lines()
            .anyMatch(l -> l.startsWith("it-rollout  COMPLETED  SNAPSHOT ")));
    String things = ok("things", "list", "--hub", hub).out();
    assertTrue(things.contains("\nspare-1  1        site=berlin  arn:"), things);
    assertTrue(things.contains("\nline-a   1        -            arn:"), things);
    assertTrue(
        ok("things", "jobs", "line-a", "--hub", hub).out().contains("\nit-rollout  SUCCEEDED  1"));
    assertEquals(
        "{\"operation\":\"diagnostics\"}",
        ok("jobs", "document", "it-rollout", "--hub", hub).out());

    // an operation no gateway has: REJECTED; at 50 % of one notified thing the job is aborted,
    // and the execution the rollout still held back is canceled with it
    Files.writeString(tmp.resolve("firmware.json"), "{\"operation\":\"firmware-update\"}");
    ok(
        "jobs",
        "create",
        "--thing",
        "line-a",
        "--thing",
        "line-b",
        "--document",
        "firmware.json",
        "--job-id",
        "it-abort",
        "--max-per-minute",
        "1",
        "--abort",
        "REJECTED:50:1",
        "--hub",
        hub);
    ProcessFixture.Result aborted =
        ok("jobs", "watch", "it-abort", "--interval", "0.5", "--hub", hub);
    List<String> abortLines = aborted.out().lines().toList();
    String end = abortLines.get(abortLines.size() - 1);
    assertTrue(
        end.startsWith(
            "job it-abort CANCELED: 2 of 2 things done; queued 0, in progress 0, succeeded 0,"
                + " failed 0, rejected 1, timed out 0, canceled 1, removed 0; ABORT_CRITERIA_MET"),
        aborted.out());
    assertTrue(
        abortLines.get(abortLines.size() - 2).contains("| canceled ABORT_CRITERIA_MET"),
        aborted.out());

    // refusals are one line with the AWS error type; delete works, then the job is gone
    ProcessFixture.Result cancel = run("jobs", "cancel", "it-rollout", "--hub", hub);
    assertEquals(1, cancel.status());
    assertTrue(
        cancel.err().startsWith("gantry: the hub refused to cancel job it-rollout: ")
            && cancel.err().endsWith("(InvalidStateTransitionException, HTTP 409)"),
        cancel.err());
    assertEquals("job it-rollout deleted", ok("jobs", "delete", "it-rollout", "--hub", hub).out());
    ProcessFixture.Result gone = run("jobs", "describe", "it-rollout", "--hub", hub);
    assertEquals(1, gone.status());
    assertTrue(gone.err().endsWith("(ResourceNotFoundException, HTTP 404)"), gone.err());

    assertEquals("thing spare-1 deleted", ok("things", "delete", "spare-1", "--hub", hub).out());
    ProcessFixture.Result busy = run("things", "delete", "line-b", "--hub", hub);
    assertEquals(1, busy.status(), "line-b still has an execution of it-abort");
    assertTrue(
        busy.err().startsWith("gantry: the hub refused to delete thing line-b: ")
            && busy.err().endsWith("(InvalidRequestException, HTTP 400)"),
        busy.err());

    for (ProcessFixture.Running g : gateways) {
      assertEquals(143, g.stop());
      assertEquals(List.of(), g.out().errors(), g.out().text());
    }
    assertEquals(143, hubProcess.stop());
    assertEquals(List.of(), hubProcess.out().errors(), hubProcess.out().text());
  }

  private ProcessFixture.Running startGateway(int mqttPort, String thing) throws Exception {
    ProcessFixture.Running gateway =
        processes.start(
            thing,
            "gateway",
            "--broker",
            "tcp://127.0.0.1:" + mqttPort,
            "--thing",
            thing,
            "--data",
            tmp.resolve(thing).toString());
    gateway.expect("Subscribed to the jobs topics of " + thing, STEP);
    return gateway;
  }
}
