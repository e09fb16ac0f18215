package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub on an external broker, Debian's Mosquitto ({@code .ci/run} installs it): {@code
 * bin/gantry hub --broker} leaves the embedded broker off, and a gateway on the same Mosquitto
 * carries out the jobs. Mosquitto missing is a failure that says how to install it, never a skip.
 */
class MosquittoIT {

  private static final Duration STEP = Duration.ofSeconds(60);

  @TempDir Path tmp;
  private ProcessFixture processes;
  private Process mosquitto;

  @AfterEach
  void stopEverything() throws Exception {
    if (processes != null) {
      processes.close();
    }
    if (mosquitto != null && mosquitto.isAlive()) {
      mosquitto.destroy();
      if (!mosquitto.waitFor(10, TimeUnit.SECONDS)) {
        mosquitto.destroyForcibly();
      }
    }
  }

  /** The mosquitto binary: system property {@code gantry.mosquitto}, the PATH, /usr/sbin. */
  static Path mosquittoBinary() {
    String configured = System.getProperty("gantry.mosquitto", "");
    if (!configured.isBlank()) {
      if (!Files.isExecutable(Path.of(configured))) {
        fail(
            "-Dgantry.mosquitto="
                + configured
                + " is not an executable file: point it at a mosquitto binary, or install"
                + " Debian's package with 'sudo apt-get install -y mosquitto' and leave it unset");
      }
      return Path.of(configured);
    }
    Stream<Path> onPath =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .filter(d -> !d.isEmpty())
            .map(d -> Path.of(d, "mosquitto"));
    Optional<Path> found =
        Stream.concat(onPath, Stream.of(Path.of("/usr/sbin/mosquitto")))
            .filter(Files::isExecutable)
            .findFirst();
    if (found.isEmpty()) {
      String why =
          "Mosquitto is not installed, and the hub's external-broker test needs it: install"
              + " Debian's package with 'sudo apt-get install -y mosquitto' (.ci/run does this), or"
              + " point -Dgantry.mosquitto=/path/to/mosquitto at one";
      if (Boolean.getBoolean("gantry.interop.mosquitto")) {
        fail(why + " (-Dgantry.interop.mosquitto=true requires it)");
      }
      // Reported as skipped, never as passed; .ci/run sets the property so that in CI it fails.
      Assumptions.abort(why);
    }
    return found.get();
  }

  private int startMosquitto() throws Exception {
    Path binary = mosquittoBinary();
    int port = Demo.freePorts(1)[0];
    Path conf = tmp.resolve("mosquitto.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "# Written by MosquittoIT: loopback only, as the hub's embedded broker is configured.",
            "listener " + port + " 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            // Nagle + delayed ACKs cost ~40 ms per request on loopback (BUILD-NOTES).
            "set_tcp_nodelay true",
            // A 32 KB job document with its envelope must fit, as on the embedded broker.
            "max_packet_size 135000",
            "message_size_limit 131072",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            ""));
    mosquitto =
        new ProcessBuilder(binary.toString(), "-c", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("mosquitto.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      assertTrue(
          mosquitto.isAlive(),
          "mosquitto exited: " + Files.readString(tmp.resolve("mosquitto.log")));
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return port;
      } catch (java.io.IOException notYet) {
        Thread.sleep(50);
      }
    }
    fail(
        "mosquitto did not listen on "
            + port
            + ": "
            + Files.readString(tmp.resolve("mosquitto.log")));
    return port;
  }

  @Test
  void theHubAndAGatewayRunJobsOverMosquitto() throws Exception {
    int mqttPort = startMosquitto();
    int apiPort = Demo.freePorts(1)[0];
    String broker = "tcp://127.0.0.1:" + mqttPort;
    URI api = URI.create("http://127.0.0.1:" + apiPort);
    processes = new ProcessFixture(tmp);

    Path hubData = tmp.resolve("hub");
    ProcessFixture.Running hub =
        processes.start(
            "hub",
            "hub",
            "--broker",
            broker,
            "--api-port",
            Integer.toString(apiPort),
            "--data",
            hubData.toString());
    ProcessFixture.awaitHub(hub, api);
    hub.expect("external MQTT broker " + broker + " (the embedded broker is not started)", STEP);
    assertFalse(
        Files.exists(hubData.resolve("config/org.gantry.broker.cfg")),
        "the broker's configuration is left out");
    assertFalse(hub.out().text().contains("MQTT broker listening"), hub.out().text());

    ProcessFixture.Running gateway =
        processes.start(
            "gateway",
            "gateway",
            "--broker",
            broker,
            "--thing",
            "mosquitto-thing",
            "--data",
            tmp.resolve("gateway").toString());
    gateway.expect("Subscribed to the jobs topics of mosquitto-thing", STEP);

    HubClient client = new HubClient(api);
    Files.writeString(tmp.resolve("diagnostics.json"), "{\"operation\": \"diagnostics\"}");
    ProcessFixture.Result created =
        processes.run(
            "jobs",
            "create",
            "--thing",
            "mosquitto-thing",
            "--document",
            "diagnostics.json",
            "--job-id",
            "mosquitto-diagnostics",
            "--hub",
            api.toString());
    assertEquals(0, created.status(), created.err());
    HubClient.Execution done =
        ProcessFixture.awaitTerminal(client, "mosquitto-thing", "mosquitto-diagnostics", STEP);
    assertEquals("SUCCEEDED", done.status(), done.toString());
    assertTrue(done.statusDetails().get("operations").contains("diagnostics="), done.toString());

    HubClient.Thing thing = client.createThing("mosquitto-thing");
    client.createJob(
        "mosquitto-missing", List.of(thing.arn()), "{\"operation\": \"firmware-update\"}", null);
    HubClient.Execution rejected =
        ProcessFixture.awaitTerminal(client, "mosquitto-thing", "mosquitto-missing", STEP);
    assertEquals("REJECTED", rejected.status());
    assertEquals("OPERATION_NOT_INSTALLED", rejected.statusDetails().get("reasonCode"));

    ProcessFixture.Result described =
        processes.run("jobs", "describe", "mosquitto-diagnostics", "--hub", api.toString());
    assertEquals(0, described.status(), described.err());
    assertTrue(described.out().contains("mosquitto-thing  SUCCEEDED"), described.out());

    assertEquals(143, gateway.stop());
    assertEquals(143, hub.stop());
    assertEquals(List.of(), hub.out().errors(), hub.out().text());
    assertEquals(List.of(), gateway.out().errors(), gateway.out().text());
  }
}
