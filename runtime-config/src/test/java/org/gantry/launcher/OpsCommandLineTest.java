package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gantry.launcher.CommandLine.Command;
import org.gantry.launcher.CommandLine.Help;
import org.gantry.launcher.CommandLine.HubCall;
import org.gantry.launcher.CommandLine.Refused;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code gantry jobs ...} and {@code gantry things ...} on the command line. */
class OpsCommandLineTest {

  @TempDir Path cwd;

  private Command parse(String line) {
    return parse(line, Map.of());
  }

  private Command parse(String line, Map<String, String> env) {
    String[] argv = line.trim().split(" (?=(?:[^']*'[^']*')*[^']*$)");
    for (int i = 0; i < argv.length; i++) {
      argv[i] = argv[i].replace("'", "");
    }
    return CommandLine.parse(argv, null, cwd, env);
  }

  private HubCall call(String line) {
    Command c = parse(line);
    if (c instanceof Refused r) {
      throw new AssertionError(line + ": " + r.message());
    }
    return assertInstanceOf(HubCall.class, c, line);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "jobs list --status IN_PROGRESS --target-selection CONTINUOUS --group line-1 | jobs list",
        "jobs create --thing a --thing b --group g --document d.json       | jobs create",
        "jobs describe j-1                                                 | jobs describe",
        "jobs document j-1                                                 | jobs document",
        "jobs cancel j-1 --force --reason-code OPERATOR_STOP --comment 'bad batch' | jobs cancel",
        "jobs delete j-1 --force                                           | jobs delete",
        "jobs executions j-1 --status FAILED                               | jobs executions",
        "jobs execution j-1 --thing t --execution-number 2                 | jobs execution",
        "jobs cancel-execution j-1 --thing t --expected-version 3 --force  | jobs cancel-execution",
        "jobs delete-execution j-1 --thing t --execution-number 1 --force  | jobs delete-execution",
        "jobs watch j-1 --interval 0.5                                     | jobs watch",
        "things list                                                       | things list",
        "things create press-7 --attribute site=berlin --attribute line=4  | things create",
        "things describe press-7                                           | things describe",
        "things delete press-7 --expected-version 1                        | things delete",
        "things jobs press-7 --status QUEUED                               | things jobs",
        "things attach press-7 --principal gw-7.site-a        | things attach",
        "things detach press-7 --principal gw-7.site-a        | things detach",
        "things principals press-7                                         | things principals",
        "things group create line-1 --parent site --description 'Line 1'   | things group create",
        "things group describe line-1                                      | things group describe",
        "things group add line-1 press-7                                   | things group add",
        "things group remove line-1 press-7                                | things group remove",
        "things group list --parent site --recursive                       | things group list",
        "things group things line-1 --recursive                            | things group things"
      })
  void everySubcommandParsesAndHasItsOwnHelp(String line, String command) {
    HubCall c = call(line);
    assertEquals(command, c.command());
    assertEquals(CommandLine.DEFAULT_HUB, c.hub());
    assertFalse(c.json());
    Help h = assertInstanceOf(Help.class, parse(command + " --help"));
    assertTrue(h.text().startsWith("Usage: gantry " + command + " "), h.text());
    assertTrue(h.text().contains("--token-file FILE"), h.text());
  }

  @Test
  void everySubcommandIsListedInItsGroupsHelp() {
    String jobs = assertInstanceOf(Help.class, parse("jobs --help")).text();
    String things = assertInstanceOf(Help.class, parse("things -h")).text();
    String groups = assertInstanceOf(Help.class, parse("things group --help")).text();
    for (OpsCommandLine.Sub s : OpsCommandLine.SUBS) {
      String help =
          s.command().startsWith("things group")
              ? groups
              : s.command().startsWith("things") ? things : jobs;
      assertTrue(help.contains("gantry " + s.command() + " "), s.command() + " in\n" + help);
    }
  }

  @Test
  void repeatedTargetsAndRolloutOptionsAreKeptInOrder() {
    HubCall c =
        call(
            "jobs create --thing a --group g1 --thing b --group g2 --document d.json"
                + " --base-rate 2 --increment-factor 1.5 --increase-after-notified 10"
                + " --max-per-minute 50 --abort FAILED:20:10 --abort ALL:50.5:4"
                + " --retry TIMED_OUT:2 --in-progress-timeout 30 --presigned-url-expiry 600"
                + " --continuous --json --hub http://10.0.0.2:8080");
    assertEquals(List.of("a", "b"), c.values("--thing"));
    assertEquals(List.of("g1", "g2"), c.values("--group"));
    assertEquals(List.of("FAILED:20:10", "ALL:50.5:4"), c.values("--abort"));
    assertEquals(Optional.of(cwd.resolve("d.json").toString()), c.value("--document"));
    assertTrue(c.has("--continuous"));
    assertTrue(c.json());
    assertEquals(URI.create("http://10.0.0.2:8080"), c.hub());
    assertFalse(c.has("--hub"), "the hub is a field, not an option left for the command");
  }

  @Test
  void theHubComesFromGantryHubUnlessGivenAndTheTokenFileIsAnAbsolutePath() {
    HubCall env =
        assertInstanceOf(
            HubCall.class, parse("jobs list", Map.of("GANTRY_HUB", "http://hub.example:9000/")));
    assertEquals(URI.create("http://hub.example:9000"), env.hub());
    HubCall given =
        assertInstanceOf(
            HubCall.class,
            parse("jobs list --hub http://h:1", Map.of("GANTRY_HUB", "http://hub.example:9000")));
    assertEquals(URI.create("http://h:1"), given.hub());
    Refused bad =
        assertInstanceOf(Refused.class, parse("jobs list", Map.of("GANTRY_HUB", "ftp://x")));
    assertTrue(bad.message().startsWith("bad GANTRY_HUB in the environment: "), bad.message());

    HubCall token = call("things list --token-file secrets/hub.token");
    assertEquals(Optional.of(cwd.resolve("secrets/hub.token")), token.tokenFile());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "things                                     | things needs a subcommand: list, create,",
        "things group                               | things group needs a subcommand: create,",
        "things frobnicate                          | unknown things subcommand 'frobnicate'"
            + " (subcommands: list, create, delete, describe, jobs, attach, detach, principals,"
            + " group)",
        "things group frob                          | unknown things group subcommand 'frob'",
        "jobs list --token abc                      | --token is not accepted, so the token never"
            + " shows in the process list",
        "jobs list --status DONE                    | 'DONE' is not IN_PROGRESS, CANCELED",
        "jobs executions j --status DONE            | 'DONE' is not QUEUED, IN_PROGRESS",
        "jobs create --thing t --document d --document-source s3://b/k | --document and"
            + " --document-source exclude each other",
        "jobs create --thing t --document d --base-rate 2 | --increment-factor is missing",
        "jobs create --thing t --document d --base-rate 2 --increment-factor 2 | exactly one of",
        "jobs create --thing t --document d --base-rate 2 --increment-factor 2"
            + " --increase-after-notified 1 --increase-after-succeeded 1 | exactly one of",
        "jobs create --thing t --document d --continuous | --continuous needs a --group target",
        "jobs create --thing t --document d --abort FAILED:20 | is not"
            + " FAILED|REJECTED|TIMED_OUT|ALL:PERCENT:MIN_EXECUTED",
        "jobs create --thing t --document d --abort CANCELED:20:1 | 'CANCELED:20:1' is not",
        "jobs create --thing t --document d --retry REJECTED:1 | 'REJECTED:1' is not",
        "jobs create --thing t --document d --max-per-minute ten | 'ten' is not a whole number",
        "jobs create --thing t --document d --increment-factor 1,5 | '1,5' is not a decimal",
        "jobs create --thing t --document d --document-source ftp://b/k | 'ftp://b/k' is not",
        "jobs create --thing t --job-id a --job-id b | --job-id is given twice",
        "jobs cancel j --reason-code 'not ok'       | bad --reason-code value: 'not ok' is not",
        "jobs watch j --interval 0.1                | 0.1 is out of range",
        "jobs watch j --interval soon               | 'soon' is not a number of seconds",
        "jobs execution j                           | jobs execution needs --thing NAME",
        "jobs delete-execution j --thing t          | needs --execution-number N",
        "jobs describe j --json=yes                 | --json takes no value",
        "things create 'a b'                        | bad THING: 'a b' is not a thing name",
        "things create t --attribute novalue        | 'novalue' is not NAME=VALUE",
        "things attach t                            | things attach needs --principal CN",
        "things attach t --principal arn:x/cert     | 'arn:x/cert' is not a certificate's subject CN",
        "things group add g                         | things group add needs THING",
        "things group create 'g/x'                  | bad GROUP: 'g/x' is not 1-128 of"
      })
  void refusals(String line, String expected) {
    Refused r = assertInstanceOf(Refused.class, parse(line), line);
    assertTrue(r.message().contains(expected), r.message());
    assertTrue(
        r.hint().matches("Run 'gantry (jobs|things)( [a-z-]+)*? --help' for usage\\."), r.hint());
  }

  @Test
  void helpNamesEveryOptionOfTheSubcommand() {
    for (OpsCommandLine.Sub s : OpsCommandLine.SUBS) {
      String help = OpsCommandLine.help(s);
      for (OpsCommandLine.Opt o : s.opts()) {
        assertTrue(help.contains("  " + o.name()), o.name() + " in the help of " + s.command());
      }
    }
  }
}
