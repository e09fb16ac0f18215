package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * The hub role as a user runs it: {@code bin/gantry hub}, {@code bin/gantry gateway} and {@code
 * bin/gantry jobs} as separate processes on loopback, on the hub's embedded broker; and a hub
 * killed with SIGKILL while jobs run, restarted on the same data folder.
 */
class HubProcessIT {

  private static final Duration STEP = Duration.ofSeconds(60);

  @TempDir Path tmp;
  private ProcessFixture processes;

  @AfterEach
  void killLeftovers() throws Exception {
    if (processes != null) {
      processes.close();
    }
  }

  private ProcessFixture processes() {
    if (processes == null) {
      processes = new ProcessFixture(tmp);
    }
    return processes;
  }

  private ProcessFixture.Running startHub(int mqttPort, int apiPort, Path data) throws Exception {
    ProcessFixture.Running hub =
        processes()
            .start(
                "hub",
                "hub",
                "--mqtt-port",
                Integer.toString(mqttPort),
                "--api-port",
                Integer.toString(apiPort),
                "--data",
                data.toString());
    ProcessFixture.awaitHub(hub, URI.create("http://127.0.0.1:" + apiPort));
    return hub;
  }

  private ProcessFixture.Running startGateway(int mqttPort, String thing, Path data)
      throws Exception {
    ProcessFixture.Running gateway =
        processes()
            .start(
                "gateway",
                "gateway",
                "--broker",
                "tcp://127.0.0.1:" + mqttPort,
                "--thing",
                thing,
                "--data",
                data.toString());
    gateway.expect("Subscribed to the jobs topics of " + thing, STEP);
    return gateway;
  }

  @Test
  void hubGatewayAndTheJobsCommandsAsAUserRunsThem() throws Exception {
    int[] ports = Demo.freePorts(2);
    String hubUrl = "http://127.0.0.1:" + ports[1];
    long begin = System.nanoTime();
    ProcessFixture.Running hub = startHub(ports[0], ports[1], tmp.resolve("hub"));
    System.out.println(
        "gantry hub start-up: process start to API answering and subscribed in "
            + Format.elapsed(System.nanoTime() - begin));
    String started = hub.expect("Launcher - framework started", STEP);
    assertTrue(started.contains(" INFO "), "every bundle of the hub started: " + started);
    ProcessFixture.Running gateway = startGateway(ports[0], "press-7", tmp.resolve("gateway"));

    Path diagnostics =
        Files.writeString(tmp.resolve("diagnostics.json"), "{\"operation\":\"diagnostics\"}");
    ProcessFixture.Result created =
        processes()
            .run(
                "jobs",
                "create",
                "--thing",
                "press-7",
                "--document",
                "diagnostics.json",
                "--job-id",
                "it-diagnostics",
                "--hub",
                hubUrl);
    assertEquals(0, created.status(), created.err());
    assertEquals(
        "thing press-7: arn:aws:iot:us-east-1:000000000000:thing/press-7\n"
            + "job it-diagnostics created: arn:aws:iot:us-east-1:000000000000:job/it-diagnostics\n"
            + "follow it with: gantry jobs watch it-diagnostics --hub "
            + hubUrl,
        created.out());
    assertTrue(Files.exists(diagnostics));

    HubClient client = new HubClient(URI.create(hubUrl));
    HubClient.Execution done =
        ProcessFixture.awaitTerminal(client, "press-7", "it-diagnostics", STEP);
    assertEquals("SUCCEEDED", done.status(), done.toString());

    ProcessFixture.Result described =
        processes().run("jobs", "describe", "it-diagnostics", "--hub", hubUrl);
    assertEquals(0, described.status(), described.err());
    List<String> lines = described.out().lines().toList();
    assertEquals(2, lines.size(), described.out());
    assertTrue(lines.get(0).startsWith("job it-diagnostics  COMPLETED  SNAPSHOT"), lines.get(0));
    assertTrue(
        lines.get(1).startsWith("  press-7  SUCCEEDED    execution 1, version"), lines.get(1));
    assertTrue(lines.get(1).contains("gantryVersion="), lines.get(1));
    assertTrue(
        lines.get(1).contains("operations=\"diagnostics=org.gantry.op.diagnostics@"), lines.get(1));

    // no --job-id: one is generated; an operation nobody provides is REJECTED with the reason
    Files.writeString(tmp.resolve("firmware.json"), "{\"operation\":\"firmware-update\"}");
    ProcessFixture.Result firmware =
        processes()
            .run(
                "jobs",
                "create",
                "--thing",
                "press-7",
                "--document",
                "firmware.json",
                "--hub",
                hubUrl);
    assertEquals(0, firmware.status(), firmware.err());
    String jobId = firmware.out().lines().toList().get(1).split(" ")[1];
    assertTrue(jobId.matches("job-\\d{8}-\\d{6}-[0-9a-f]{4}"), firmware.out());
    HubClient.Execution rejected = ProcessFixture.awaitTerminal(client, "press-7", jobId, STEP);
    assertEquals("REJECTED", rejected.status());
    assertEquals("OPERATION_NOT_INSTALLED", rejected.statusDetails().get("reasonCode"));
    ProcessFixture.Result describedRejected =
        processes().run("jobs", "describe", jobId, "--hub", hubUrl);
    assertTrue(
        describedRejected.out().contains("REJECTED     execution 1, version 2")
            && describedRejected.out().contains("reasonCode=OPERATION_NOT_INSTALLED"),
        describedRejected.out());

    // the hub's refusals and an unreachable hub: one line, exit status 1
    ProcessFixture.Result unknown = processes().run("jobs", "describe", "nope", "--hub", hubUrl);
    assertEquals(1, unknown.status());
    assertEquals(
        "gantry: the hub refused to describe job nope: Job nope does not exist."
            + " (ResourceNotFoundException, HTTP 404)",
        unknown.err());
    ProcessFixture.Result again =
        processes()
            .run(
                "jobs",
                "create",
                "--thing",
                "press-7",
                "--document",
                "diagnostics.json",
                "--job-id",
                "it-diagnostics",
                "--hub",
                hubUrl);
    assertEquals(1, again.status());
    assertTrue(again.err().contains("(ResourceAlreadyExistsException, HTTP 409)"), again.err());
    ProcessFixture.Result badDocument =
        processes()
            .run(
                "jobs",
                "create",
                "--thing",
                "press-7",
                "--document",
                "missing.json",
                "--hub",
                hubUrl);
    assertEquals(2, badDocument.status());

    // a second hub on the same ports is refused before it starts anything
    ProcessFixture.Result second =
        processes()
            .run(
                "hub",
                "--mqtt-port",
                Integer.toString(ports[0]),
                "--api-port",
                Integer.toString(Demo.freePorts(1)[0]),
                "--data",
                tmp.resolve("hub2").toString());
    assertEquals(1, second.status(), second.out());
    assertTrue(
        second.err().startsWith("gantry: port " + ports[0] + " on 127.0.0.1 is in use"),
        second.err());

    assertEquals(143, gateway.stop());
    assertEquals(143, hub.stop());
    assertTrue(hub.out().await("framework stopped in", Duration.ZERO) != null, hub.out().text());
    ProcessFixture.Result down =
        processes().run("jobs", "describe", "it-diagnostics", "--hub", hubUrl);
    assertEquals(1, down.status());
    assertTrue(down.err().startsWith("gantry: cannot reach the hub at " + hubUrl), down.err());

    assertEquals(List.of(), hub.out().errors(), "no ERROR line from the hub:\n" + hub.out().text());
    assertEquals(
        List.of(),
        gateway.out().errors(),
        "no ERROR line from the gateway:\n" + gateway.out().text());
  }

  @Test
  void aHubKilledWhileJobsRunLosesNothing() throws Exception {
    int[] ports = Demo.freePorts(2);
    URI api = URI.create("http://127.0.0.1:" + ports[1]);
    Path hubData = tmp.resolve("hub");
    ProcessFixture.Running hub = startHub(ports[0], ports[1], hubData);
    HubClient client = new HubClient(api);
    HubClient.Thing thing = client.createThing("line-4");

    // Queued while no gateway listens, so they are certainly pending when the hub dies.
    List<String> jobs = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      String jobId = "restart-" + i;
      client.createJob(jobId, List.of(thing.arn()), "{\"operation\":\"diagnostics\"}", null);
      jobs.add(jobId);
    }
    ProcessFixture.Running gateway =
        processes()
            .start(
                "gateway",
                "gateway",
                "--broker",
                "tcp://127.0.0.1:" + ports[0],
                "--thing",
                "line-4",
                "--data",
                tmp.resolve("gateway").toString());
    // The moment the first job runs, the hub (and its broker) dies.
    gateway.expect("Job restart-1 (execution 1) IN_PROGRESS", STEP);
    hub.kill();
    assertEquals(137, hub.process().exitValue(), "killed by SIGKILL");

    ProcessFixture.Running restarted = startHub(ports[0], ports[1], hubData);
    for (String jobId : jobs) {
      HubClient.Execution x = ProcessFixture.awaitTerminal(client, "line-4", jobId, STEP);
      assertEquals("SUCCEEDED", x.status(), jobId + ": " + x);
      assertEquals(1, x.executionNumber(), jobId + " ran once: " + x);
      assertTrue(x.statusDetails().containsKey("gantryVersion"), x.toString());
    }
    HubClient.Job job = client.describeJob("restart-5");
    assertEquals(List.of(thing.arn()), job.targets(), "the job itself survived too");
    assertFalse(
        gateway.out().text().contains("INTERRUPTED"),
        "the gateway kept running: nothing was interrupted");

    assertEquals(143, gateway.stop());
    assertEquals(143, restarted.stop());
    assertEquals(List.of(), restarted.out().errors(), restarted.out().text());
  }
}
