package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The command line as a user meets it: exit status, stdout, stderr. Nothing here starts Felix. */
class MainTest {

  @TempDir Path home;
  @TempDir Path cwd;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void shippedConfig() throws Exception {
    Files.createDirectories(home.resolve("etc"));
    Files.writeString(
        home.resolve("etc/org.gantry.engine.cfg"), "#thing.name = x\nstep.timeout.minutes = 60\n");
    Files.writeString(
        home.resolve("etc/org.gantry.transport.mqtt.cfg"), "broker.url = tcp://127.0.0.1:1883\n");
  }

  private int run(String... args) {
    return new Main(
            home,
            cwd,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void assertRefused(String expected, String hint) {
    List<String> lines = err().lines().toList();
    assertEquals(2, lines.size(), err());
    assertTrue(lines.get(0).startsWith("gantry: "), err());
    assertTrue(lines.get(0).contains(expected), err());
    assertEquals(hint, lines.get(1));
    assertEquals("", out());
  }

  @Test
  void topHelpListsCommandsAndExitsZero() {
    assertEquals(0, run("--help"));
    assertTrue(out().startsWith("Usage: gantry COMMAND [OPTIONS]"), out());
    for (String command : List.of("gateway ", "hub ", "jobs ", "things ", "demo ")) {
      assertTrue(out().contains("\n  " + command), command + " missing from:\n" + out());
    }
    assertTrue(out().contains("-h, --help"), out());
    assertEquals("", err());
  }

  @Test
  void shortHelpToo() {
    assertEquals(0, run("-h"));
    assertTrue(out().startsWith("Usage: gantry COMMAND"), out());
  }

  @Test
  void gatewayHelpShowsEveryOptionWithItsDefault() {
    assertEquals(0, run("gateway", "--help"));
    String help = out();
    for (String option :
        List.of(
            "--broker URL",
            "--thing NAME",
            "--data DIR",
            "--config DIR",
            "--shell",
            "--ca FILE",
            "--cert FILE",
            "--key FILE",
            "--pkcs12 FILE",
            "--alpn LIST",
            "--help")) {
      assertTrue(help.contains(option), option + " missing from:\n" + help);
    }
    assertTrue(help.contains("Default: " + home.resolve("data")), help);
    assertTrue(help.contains("Default: " + home.resolve("etc")), help);
    assertTrue(help.contains("tcp://127.0.0.1:1883 as shipped"), help);
    assertTrue(help.contains("Default: off"), help);
    assertTrue(help.contains("gantry-gateway, gantry-op-diagnostics"), help);
    assertEquals("", err());
  }

  @Test
  void helpWinsOverABadOption() {
    assertEquals(0, run("gateway", "--bogus", "-h"));
    assertTrue(out().startsWith("Usage: gantry gateway"), out());
  }

  @Test
  void noCommand() {
    assertEquals(2, run());
    assertRefused("no command given", "Run 'gantry --help' for usage.");
  }

  @Test
  void unknownCommand() {
    assertEquals(2, run("hubb"));
    assertRefused(
        "unknown command 'hubb' (commands: gateway, hub, jobs, things, demo)",
        "Run 'gantry --help' for usage.");
  }

  @Test
  void unknownTopLevelOption() {
    assertEquals(2, run("--verbose"));
    assertRefused("unknown option '--verbose'", "Run 'gantry --help' for usage.");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--bogus                          | unknown option '--bogus' for gateway",
        "-x                               | unknown option '-x' for gateway",
        "extra                            | unexpected argument 'extra'",
        "--broker                         | --broker needs a value: --broker tcp://HOST:PORT",
        "--thing                          | --thing needs a value: --thing NAME",
        "--data                           | --data needs a value: --data DIR",
        "--config                         | --config needs a value: --config DIR",
        "--thing --data /tmp/x            | --thing needs a value",
        "--shell=yes                      | --shell takes no value",
        "--thing a --thing b              | --thing is given twice",
        "--broker mqtts://h:8883          | not supported yet",
        "--broker ssl://h                 | has no port",
        "--ca /no/such/ca.pem             | is not a readable file",
        "--cert /etc/passwd             | --cert needs --key as well",
        "--key /etc/passwd              | --key needs --cert as well",
        "--alpn a,,b                      | is not a comma-separated list",
        "--broker tcp://h:1 --ca /etc/passwd | is not ssl://, but TLS options",
        "--broker http://h:80             | does not start with tcp://",
        "--broker h:1883                  | does not start with tcp://",
        "--broker tcp://h                 | has no port",
        "--broker tcp://h:0               | has a port out of range",
        "--broker tcp://h:65536           | has a port out of range",
        "--broker tcp://:1883             | has no host name",
        "--broker tcp://u@h:1883          | has a user name in it",
        "--broker tcp://h:1883/x          | has more than a host and a port",
        "--broker tcp://h:1883?a=b        | has more than a host and a port",
        "--broker 'tcp://h h:1'           | is not a URL",
        "--broker=                        | does not start with tcp://",
        "--thing bad/name                 | is not a thing name",
        "--thing 'sp ace'                 | position 3 (' ')",
        "--thing=                         | is not a thing name",
        "--data=                          | the path is empty",
        "--data a,b                       | contains a comma"
      })
  void gatewayRefusals(String args, String expected) {
    String[] argv = ("gateway " + args).trim().split(" (?=(?:[^']*'[^']*')*[^']*$)");
    for (int i = 0; i < argv.length; i++) {
      argv[i] = argv[i].replace("'", "");
    }
    assertEquals(2, run(argv), err());
    assertRefused(expected, "Run 'gantry gateway --help' for usage.");
  }

  @Test
  void aThingNameOfMoreThan128CharactersIsRefused() {
    assertEquals(2, run("gateway", "--thing", "t".repeat(129)));
    assertRefused("it is 129 characters long", "Run 'gantry gateway --help' for usage.");
  }

  @Test
  void validValuesPassTheCommandLine() {
    CommandLine.Command c =
        CommandLine.parse(
            new String[] {
              "gateway",
              "--broker=tcp://[::1]:1883",
              "--thing",
              "a:b_c-D9".repeat(16),
              "--data",
              "rel/data",
              "--config=" + home.resolve("etc"),
              "--shell"
            },
            home,
            cwd);
    GatewayOptions o = ((CommandLine.RunGateway) c).options();
    assertEquals("tcp://[::1]:1883", o.broker().orElseThrow());
    assertEquals(128, o.thing().orElseThrow().length());
    assertEquals(cwd.resolve("rel/data"), o.dataDir().orElseThrow());
    assertEquals(home.resolve("etc"), o.configDir().orElseThrow());
    assertTrue(o.shell());
  }

  @Test
  void noOptionsLeaveEverythingToTheFiles() {
    GatewayOptions o =
        ((CommandLine.RunGateway) CommandLine.parse(new String[] {"gateway"}, home, cwd)).options();
    assertTrue(
        o.broker().isEmpty()
            && o.thing().isEmpty()
            && o.dataDir().isEmpty()
            && o.configDir().isEmpty());
    assertFalse(o.shell());
  }

  @Test
  void aDataFolderThatCannotBeCreatedIsRefused() throws Exception {
    Path file = cwd.resolve("plain-file");
    Files.writeString(file, "x");
    assertEquals(2, run("gateway", "--thing", "t", "--data", "plain-file/data"));
    assertTrue(
        err().startsWith("gantry: cannot create the data folder " + file.resolve("data")), err());
    assertEquals("", out());
  }

  @Test
  void aMissingConfigFolderIsRefused() {
    assertEquals(2, run("gateway", "--thing", "t", "--data", "d", "--config", "nowhere"));
    assertEquals(
        "gantry: the config folder " + cwd.resolve("nowhere") + " does not exist\n", err());
  }

  @Test
  void noThingNameIsRefusedNamingTheFile() {
    assertEquals(2, run("gateway", "--data", "d"));
    assertEquals(
        "gantry: no thing name: give --thing NAME or set thing.name in "
            + home.resolve("etc/org.gantry.engine.cfg")
            + "\n",
        err());
    assertFalse(Files.exists(cwd.resolve("d/config")), "nothing is written before the checks pass");
  }

  @Test
  void noBrokerIsRefusedNamingTheFile() throws Exception {
    Files.delete(home.resolve("etc/org.gantry.transport.mqtt.cfg"));
    assertEquals(2, run("gateway", "--thing", "t", "--data", "d"));
    assertEquals(
        "gantry: no broker URL: give --broker URL or set broker.url in "
            + home.resolve("etc/org.gantry.transport.mqtt.cfg")
            + "\n",
        err());
  }

  @Test
  void aHomeWithoutFeaturesIsABrokenInstallation() {
    assertEquals(1, run("gateway", "--thing", "t", "--data", "d"));
    assertTrue(err().startsWith("gantry: " + home + " is not a Gantry runtime folder"), err());
  }

  @Test
  void aHomeWithoutItsBundlesIsABrokenInstallation() throws Exception {
    Files.writeString(
        home.resolve("features.xml"),
        "<features><feature name='gantry-gateway'><bundle>mvn:g/a/1</bundle></feature>"
            + "<feature name='gantry-op-diagnostics'/></features>");
    assertEquals(1, run("gateway", "--thing", "t", "--data", "d"));
    assertTrue(err().contains("lacks bundles that features.xml names: mvn:g/a/1"), err());
  }

  @Test
  void withoutGantryHomeTheLauncherPointsAtTheScript() {
    int status =
        new Main(
                null,
                cwd,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .run(new String[] {"gateway", "--thing", "t"});
    assertEquals(1, status);
    assertEquals("gantry: gantry.home is not set: start Gantry with bin/gantry\n", err());
  }

  @Test
  void tlsOptionsGoIntoTheTransportConfigurationAsAbsolutePaths() throws Exception {
    Files.writeString(cwd.resolve("ca.pem"), "ca");
    Files.writeString(cwd.resolve("cert.pem"), "cert");
    Files.writeString(cwd.resolve("key.pem"), "key");
    GatewayOptions o =
        ((CommandLine.RunGateway)
                CommandLine.parse(
                    new String[] {
                      "gateway",
                      "--broker",
                      "ssl://broker.example:8883",
                      "--ca",
                      "ca.pem",
                      "--cert",
                      "cert.pem",
                      "--key",
                      "key.pem",
                      "--alpn",
                      "x-amzn-mqtt-ca"
                    },
                    home,
                    cwd))
            .options();
    assertEquals(
        java.util.Map.of(
            "tls.ca.file", cwd.resolve("ca.pem").toString(),
            "tls.cert.file", cwd.resolve("cert.pem").toString(),
            "tls.key.file", cwd.resolve("key.pem").toString(),
            "tls.alpn", "x-amzn-mqtt-ca"),
        o.tls());
    assertEquals("ssl://broker.example:8883", o.broker().orElseThrow());
  }

  @Test
  void pkcs12AndAPemPairExcludeEachOther() throws Exception {
    Files.writeString(cwd.resolve("id.p12"), "p12");
    Files.writeString(cwd.resolve("cert.pem"), "cert");
    Files.writeString(cwd.resolve("key.pem"), "key");
    assertEquals(
        2, run("gateway", "--pkcs12", "id.p12", "--cert", "cert.pem", "--key", "key.pem"), err());
    assertRefused("not both", "Run 'gantry gateway --help' for usage.");
  }
}
