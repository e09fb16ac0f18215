package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.gantry.launcher.CommandLine.Command;
import org.gantry.launcher.CommandLine.Help;
import org.gantry.launcher.CommandLine.HubCall;
import org.gantry.launcher.CommandLine.Refused;
import org.gantry.launcher.CommandLine.RunDemo;
import org.gantry.launcher.CommandLine.RunHub;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code gantry hub}, {@code gantry jobs} and {@code gantry demo} on the command line. */
class HubCommandLineTest {

  @TempDir Path home;
  @TempDir Path cwd;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void shippedConfig() throws Exception {
    Files.createDirectories(home.resolve("etc"));
    Files.writeString(home.resolve("etc/org.gantry.hub.cfg"), "api.port = 8080\n");
    Files.writeString(home.resolve("etc/org.gantry.broker.cfg"), "port = 1883\n");
  }

  private Command parse(String line) {
    String[] argv = line.trim().split(" (?=(?:[^']*'[^']*')*[^']*$)");
    for (int i = 0; i < argv.length; i++) {
      argv[i] = argv[i].replace("'", "");
    }
    return CommandLine.parse(argv, home, cwd);
  }

  private int run(String... args) {
    return new Main(
            home,
            cwd,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void hubHelpNamesEveryOptionAndTheDefaults() {
    Help help = assertInstanceOf(Help.class, parse("hub --help"));
    for (String s :
        List.of(
            "--mqtt-port N",
            "--api-port N",
            "--broker URL",
            "--data DIR",
            "--config DIR",
            "else 1883.",
            "else 8080.",
            "Default: " + home.resolve("data"),
            "gantry-hub")) {
      assertTrue(help.text().contains(s), s + " missing from:\n" + help.text());
    }
  }

  @Test
  void hubOptionsAreParsedAndMadeAbsolute() {
    RunHub hub =
        assertInstanceOf(
            RunHub.class, parse("hub --mqtt-port 1884 --api-port=9090 --data d --config c"));
    assertEquals(Optional.of(1884), hub.options().mqttPort());
    assertEquals(Optional.of(9090), hub.options().apiPort());
    assertEquals(Optional.of(cwd.resolve("d")), hub.options().dataDir());
    assertEquals(Optional.of(cwd.resolve("c")), hub.options().configDir());
    assertEquals(Optional.empty(), hub.options().broker());

    RunHub external = assertInstanceOf(RunHub.class, parse("hub --broker tcp://127.0.0.1:2883"));
    assertEquals(Optional.of("tcp://127.0.0.1:2883"), external.options().broker());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "hub --mqtt-port 0                   | bad --mqtt-port value: port 0 is out of range",
        "hub --mqtt-port 65536               | port 65536 is out of range",
        "hub --api-port 99999                | port 99999 is out of range",
        "hub --api-port -1                   | '-1' is not a port number",
        "hub --api-port x80                  | 'x80' is not a port number",
        "hub --api-port=                     | '' is not a port number",
        "hub --api-port 123456               | '123456' is not a port number",
        "hub --mqtt-port                     | --mqtt-port needs a value: --mqtt-port N",
        "hub --mqtt-port 1 --mqtt-port 2     | --mqtt-port is given twice",
        "hub --mqtt-port 1884 --api-port 1884 | both 1884",
        "hub --broker tcp://h:1 --mqtt-port 2 | --mqtt-port and --broker exclude each other",
        "hub --broker ssl://h:8883           | not supported yet",
        "hub --thing x                       | unknown option '--thing' for hub",
        "hub extra                           | unexpected argument 'extra'",
        "hub --data a,b                      | contains a comma"
      })
  void hubRefusals(String line, String expected) {
    Refused r = assertInstanceOf(Refused.class, parse(line));
    assertTrue(r.message().contains(expected), r.message());
    assertEquals("Run 'gantry hub --help' for usage.", r.hint());
  }

  @Test
  void jobsCreateIsParsed() {
    HubCall c =
        assertInstanceOf(
            HubCall.class,
            parse(
                "jobs create --thing press-7 --document doc.json --job-id j-1 --hub http://h:81/"));
    assertEquals("jobs create", c.command());
    assertEquals(List.of("press-7"), c.values("--thing"));
    assertEquals(Optional.of(cwd.resolve("doc.json").toString()), c.value("--document"));
    assertEquals(Optional.of("j-1"), c.value("--job-id"));
    assertEquals(URI.create("http://h:81"), c.hub());

    HubCall d = assertInstanceOf(HubCall.class, parse("jobs create --document d.json --thing t"));
    assertEquals(Optional.empty(), d.value("--job-id"));
    assertEquals(URI.create("http://127.0.0.1:8080"), d.hub());
  }

  @Test
  void jobsDescribeIsParsed() {
    HubCall d = assertInstanceOf(HubCall.class, parse("jobs describe j-1"));
    assertEquals("jobs describe", d.command());
    assertEquals(List.of("j-1"), d.args());
    assertEquals(CommandLine.DEFAULT_HUB, d.hub());
    HubCall e = assertInstanceOf(HubCall.class, parse("jobs describe --hub https://hub.local j-2"));
    assertEquals(URI.create("https://hub.local"), e.hub());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "jobs                                        | jobs needs a subcommand: list, create,",
        "jobs lists                                  | unknown jobs subcommand 'lists'",
        "jobs create --thing t/x --document d        | bad --thing value: 't/x' is not a thing name",
        "jobs create --thing t --document d --job-id 'a b' | position 2 (' ')",
        "jobs create --thing t --document d --job-id $next | position 1 ('$')",
        "jobs create --thing t --document d --hub ftp://h  | does not start with http://",
        "jobs create --thing t --document d --hub http://h/x | more than a host and a port",
        "jobs create --thing t --document d --hub http://h:0 | port out of range",
        "jobs create --thing t --document d --wait   | unknown option '--wait' for jobs create",
        "jobs describe                               | jobs describe needs JOB_ID",
        "jobs describe a b                           | unexpected argument 'b'",
        "jobs describe 'a b'                         | bad JOB_ID: 'a b' is not a job id",
        "jobs describe --hub                         | --hub needs a value"
      })
  void jobsRefusals(String line, String expected) {
    Refused r = assertInstanceOf(Refused.class, parse(line));
    assertTrue(r.message().contains(expected), r.message());
    assertTrue(r.hint().matches("Run 'gantry jobs( [a-z-]+)? --help' for usage\\."), r.hint());
  }

  @Test
  void aJobIdOfMoreThan64CharactersIsRefused() {
    Refused r = assertInstanceOf(Refused.class, parse("jobs describe " + "j".repeat(65)));
    assertTrue(r.message().contains("it is 65 characters long"), r.message());
    assertTrue(CommandLine.checkJobId("j".repeat(64)).isEmpty());
  }

  @Test
  void jobsAndDemoHaveHelp() {
    Help jobs = assertInstanceOf(Help.class, parse("jobs --help"));
    assertTrue(jobs.text().startsWith("Usage:\n  gantry jobs list"), jobs.text());
    for (String line : List.of("jobs create -h", "jobs describe x --help")) {
      Help h = assertInstanceOf(Help.class, parse(line), line);
      assertTrue(
          h.text().startsWith("Usage: gantry " + line.split(" ")[0] + " " + line.split(" ")[1]),
          h.text());
    }
    Help demo = assertInstanceOf(Help.class, parse("demo --help"));
    assertTrue(demo.text().startsWith("Usage: gantry demo [--data DIR]"), demo.text());
  }

  @Test
  void demoTakesAnOptionalDataFolder() {
    assertEquals(Optional.empty(), assertInstanceOf(RunDemo.class, parse("demo")).dataDir());
    assertEquals(
        Optional.of(cwd.resolve("x")),
        assertInstanceOf(RunDemo.class, parse("demo --data x")).dataDir());
    Refused r = assertInstanceOf(Refused.class, parse("demo --now"));
    assertEquals("unknown option '--now' for demo", r.message());
    assertEquals("Run 'gantry demo --help' for usage.", r.hint());
  }

  @Test
  void aPortInUseStopsTheHubBeforeAnythingStarts() throws Exception {
    Files.writeString(
        home.resolve("features.xml"), "<features><feature name='gantry-hub'/></features>");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertEquals(1, run("hub", "--api-port", Integer.toString(port), "--data", "d"));
      assertTrue(
          err()
              .startsWith(
                  "gantry: port "
                      + port
                      + " on 127.0.0.1 is in use, so the management API (--api-port) cannot"
                      + " listen there"),
          err());
      assertTrue(Files.exists(cwd.resolve("d")), "the data folder was prepared");
      assertTrue(
          !Files.exists(cwd.resolve("d/config")), "no configuration is written for a failed start");
    }
  }

  @Test
  void commandLinePortsWinOverBadValuesInTheFiles() throws Exception {
    Files.writeString(home.resolve("etc/org.gantry.hub.cfg"), "api.port = nope\n");
    Files.writeString(home.resolve("etc/org.gantry.broker.cfg"), "port = 0\n");
    // The configuration passes; what stops this start is the empty home (status 1, not 2).
    assertEquals(1, run("hub", "--data", "d", "--api-port", "9091", "--mqtt-port", "9092"));
    assertTrue(err().contains("is not a Gantry runtime folder"), err());
  }

  @Test
  void aBadApiPortInTheHubFileIsRefused() throws Exception {
    Files.writeString(home.resolve("etc/org.gantry.hub.cfg"), "api.port = nope\n");
    assertEquals(2, run("hub", "--data", "d"));
    assertEquals(
        "gantry: bad api.port in "
            + home.resolve("etc/org.gantry.hub.cfg")
            + ": 'nope' is not a port number; expected a port number from 1 to 65535\n",
        err());
  }

  @Test
  void aBadPortInTheBrokerFileIsRefused() throws Exception {
    Files.writeString(home.resolve("etc/org.gantry.broker.cfg"), "port = 70000\n");
    assertEquals(2, run("hub", "--data", "d"));
    assertEquals(
        "gantry: bad port in "
            + home.resolve("etc/org.gantry.broker.cfg")
            + ": port 70000 is out of range; expected a port number from 1 to 65535\n",
        err());
  }
}
