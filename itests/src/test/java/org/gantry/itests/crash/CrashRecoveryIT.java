package org.gantry.itests.crash;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.gantry.itests.support.JournalRecords;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.itests.support.TestJobsService.Request;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobsTopic;
import org.gantry.protocol.UpdateRequest;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.junit.runners.Parameterized.Parameter;
import org.junit.runners.Parameterized.Parameters;

/**
 * Issue 4's process-level recovery test: the assembled gateway ({@code bin/gantry gateway}) kills
 * itself with SIGKILL at one crash point of a running {@code diagnostics} job ({@code
 * -Dgantry.crash-at}, see the engine's CrashPoints), is started again on the same data folder
 * without the crash point, and the service must end up with exactly one terminal status for the
 * execution, SUCCEEDED, an empty journal, and a gateway that goes on taking jobs.
 *
 * <p>The points of the start-next that goes out with a terminal status are reached with three jobs
 * queued (the gateway sends start-next with the report of a job that was waiting when the one
 * before it ended: the second): the crash comes while the second one's SUCCEEDED and the start of
 * the third are on their way, and all must end SUCCEEDED exactly once (the third neither lost nor
 * FAILED as an execution the gateway lost track of).
 */
@RunWith(Parameterized.class)
public class CrashRecoveryIT {

  private static final Duration DEATH_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration JOB_TIMEOUT = Duration.ofSeconds(30);
  private static final String DIAGNOSTICS = "{\"operation\":\"diagnostics\"}";

  /** The points of the start-next sent with a terminal status: reached with three jobs queued. */
  private static final List<String> START_NEXT_POINTS =
      List.of("after-start-next-publish", "after-start-next-accepted", "after-started-journal");

  private static TestBroker broker;
  private static TestJobsService jobs;

  /** The crash point, as -Dgantry.crash-at names it. */
  @Parameter public String point;

  private GantryProcess gateway;

  @Parameters(name = "{0}")
  public static List<Object[]> points() {
    return Stream.concat(
            Stream.of(
                "after-start-journal",
                "after-in-progress",
                "in-operation",
                "after-terminal-journal",
                "after-terminal-publish",
                "after-terminal-accepted"),
            START_NEXT_POINTS.stream())
        .map(p -> new Object[] {p})
        .collect(Collectors.toList());
  }

  @BeforeClass
  public static void startBrokerAndService() throws Exception {
    broker = TestBroker.start();
    jobs = TestJobsService.start(broker.url());
  }

  @AfterClass
  public static void stopBrokerAndService() {
    try {
      if (jobs != null) {
        jobs.close();
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  @After
  public void killGateway() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  public void killedAtThePointTheExecutionEndsOnceAndTheGatewayGoesOn() throws Exception {
    String thing = "crash-" + point;
    List<String> queued =
        START_NEXT_POINTS.contains(point)
            ? List.of("crash-job-1", "crash-job-2", "crash-job-3")
            : List.of("crash-job-1");
    Path data = freshDataFolder(point);
    for (String job : queued) {
      jobs.queue(thing, job, DIAGNOSTICS);
    }

    gateway = start(thing + "-armed", thing, data, "-Dgantry.crash-at=" + point);
    int exit = gateway.awaitExit(DEATH_TIMEOUT);
    assertEquals("the gateway should have died of SIGKILL:\n" + gateway.output(), 137, exit);
    assertTrue(
        "the gateway died, but not at crash point " + point + ":\n" + gateway.output(),
        gateway.printed(l -> l.contains("Crash point " + point + " reached")));

    gateway = start(thing + "-restarted", thing, data, "");
    for (String job : queued) {
      jobs.awaitStatus(thing, job, ExecutionStatus.SUCCEEDED, JOB_TIMEOUT);
    }
    // The gateway goes on: a job queued after the recovery runs too, which also means the
    // recovered entry was settled first (open entries are settled before new work is taken).
    jobs.queue(thing, "crash-job-after", DIAGNOSTICS);
    jobs.awaitStatus(thing, "crash-job-after", ExecutionStatus.SUCCEEDED, JOB_TIMEOUT);
    awaitEmptyJournal(data.resolve("journal").resolve(thing));

    String log = jobs.requestLog(thing) + "\ngateway output:\n" + gateway.output();
    for (String job : queued) {
      assertEndedOnce(thing, job, log);
    }
    assertTrue(
        "the restarted gateway must not be armed:\n" + gateway.output(),
        gateway.isAlive() && !gateway.printed(l -> l.contains("Crash point")));
    List<Request> terminal =
        jobs.requests().stream()
            .filter(r -> thing.equals(r.thingName()) && r.kind() == JobsTopic.Kind.UPDATE)
            .filter(r -> ((UpdateRequest) r.request()).status().isTerminal())
            .toList();
    assertEquals(
        "no request of the thing may have been refused but as above:\n" + log,
        List.of(),
        jobs.requests().stream()
            .filter(r -> thing.equals(r.thingName()))
            .filter(r -> r.kind() == JobsTopic.Kind.UPDATE && !r.answer().equals("accepted"))
            .filter(r -> !terminal.contains(r))
            .toList());
  }

  /**
   * Exactly one accepted terminal update of the job, the first one sent; any sent again met the
   * status already there; and the service saw it go QUEUED, IN_PROGRESS, SUCCEEDED once each.
   */
  private static void assertEndedOnce(String thing, String job, String log) {
    List<Request> terminal =
        jobs.requests().stream()
            .filter(r -> thing.equals(r.thingName()) && r.isUpdate(job, null, ""))
            .filter(r -> ((UpdateRequest) r.request()).status().isTerminal())
            .toList();
    List<Request> accepted = terminal.stream().filter(r -> r.answer().equals("accepted")).toList();
    assertEquals("accepted terminal updates of " + job + ":\n" + log, 1, accepted.size());
    for (Request r : terminal) {
      UpdateRequest u = (UpdateRequest) r.request();
      assertEquals(
          "every terminal update asks for SUCCEEDED:\n" + log,
          ExecutionStatus.SUCCEEDED,
          u.status());
      assertTrue(
          "a terminal update sent again may only meet the status already there:\n" + log,
          r.equals(accepted.get(0)) || r.answer().equals("rejected:InvalidStateTransition"));
    }
    assertTrue(
        "the accepted terminal update must be the first terminal update:\n" + log,
        terminal.get(0).equals(accepted.get(0)));
    assertEquals(
        "the service saw " + job + " go QUEUED, IN_PROGRESS, SUCCEEDED once each:\n" + log,
        List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        jobs.execution(thing, job).orElseThrow().history());
  }

  static GantryProcess start(String label, String thing, Path data, String javaOpts)
      throws IOException {
    return GantryProcess.start(
        label,
        broker.url(),
        thing,
        data,
        null,
        javaOpts,
        System.out,
        List.of("Crash point", "ERROR", "Subscribed to the jobs topics"));
  }

  static Path freshDataFolder(String name) throws IOException {
    return Files.createDirectories(
        Path.of(System.getProperty("gantry.itest.work"), "crash", name + "-" + System.nanoTime()));
  }

  /**
   * Waits until the thing's journal holds no open execution (the entry is closed just after the
   * accepted answer arrives: allow it a moment), and no file but its log.
   */
  static void awaitEmptyJournal(Path journal) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<String> left;
    do {
      try (Stream<Path> files = Files.list(journal)) {
        left =
            files
                .filter(f -> !isEmptyLog(f))
                .map(f -> f.getFileName() + " (" + f.toFile().length() + " bytes)")
                .toList();
      }
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("the journal " + journal + " still holds " + left);
  }

  private static boolean isEmptyLog(Path f) {
    try {
      return f.getFileName().toString().equals("journal.log")
          && JournalRecords.openKeys(f).isEmpty();
    } catch (IOException e) {
      return false; // damaged: reported as left over
    }
  }
}
