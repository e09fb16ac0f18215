package org.gantry.itests.crash;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.protocol.ExecutionStatus;
import org.junit.After;
import org.junit.Test;

/**
 * A journal entry cut short by a crash (a torn write the engine's checksum catches) is quarantined
 * at start as {@code *.corrupt-<time>} with an ERROR line, and the gateway runs jobs as usual.
 */
public class CorruptJournalIT {

  private static final String THING = "crash-corrupt";

  private TestBroker broker;
  private TestJobsService jobs;
  private GantryProcess gateway;

  @After
  public void stopEverything() {
    try {
      if (gateway != null) {
        gateway.close();
      }
      if (jobs != null) {
        jobs.close();
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  @Test
  public void aTruncatedEntryIsQuarantinedAndJobsStillRun() throws Exception {
    broker = TestBroker.start();
    jobs = TestJobsService.start(broker.url());
    Path data = CrashRecoveryIT.freshDataFolder("corrupt");
    Path journal = Files.createDirectories(data.resolve("journal").resolve(THING));
    // The start of a real entry, cut off mid-line: the checksum line cannot match what follows.
    Files.writeString(
        journal.resolve("x-1.exec"),
        "#crc32=8d1f04c2\ndocument={\"operation\"\\:\"diagn",
        StandardCharsets.UTF_8);

    gateway =
        GantryProcess.start(
            "corrupt",
            broker.url(),
            THING,
            data,
            null,
            "",
            System.out,
            List.of("ERROR", "x-1.exec"));
    jobs.queue(THING, "after-corrupt-1", "{\"operation\":\"diagnostics\"}");
    jobs.awaitStatus(THING, "after-corrupt-1", ExecutionStatus.SUCCEEDED, Duration.ofSeconds(30));

    String error =
        gateway.awaitLine(
            "ERROR line about x-1.exec",
            l -> l.contains("ERROR") && l.contains("x-1.exec"),
            Duration.ofSeconds(5));
    assertTrue(error, error.contains("x-1.exec.corrupt-"));
    List<String> names;
    try (Stream<Path> files = Files.list(journal)) {
      names = files.map(p -> p.getFileName().toString()).toList();
    }
    assertFalse("the damaged entry is still in the journal: " + names, names.contains("x-1.exec"));
    assertEquals(
        "exactly the quarantined copy is left: " + names,
        1,
        names.stream().filter(n -> n.startsWith("x-1.exec.corrupt-")).count());
    assertEquals(
        "the quarantined copy keeps the damaged bytes",
        "#crc32=8d1f04c2\ndocument={\"operation\"\\:\"diagn",
        Files.readString(
            journal.resolve(
                names.stream().filter(n -> n.startsWith("x-1.exec.corrupt-")).findFirst().get())));
    // A second job: the gateway goes on after the first one, too.
    jobs.queue(THING, "after-corrupt-2", "{\"operation\":\"diagnostics\"}");
    jobs.awaitStatus(THING, "after-corrupt-2", ExecutionStatus.SUCCEEDED, Duration.ofSeconds(30));
    // Nothing was sent about the unreadable entry's job: the service never had it.
    assertTrue(
        jobs.requestLog(THING), jobs.requests().stream().noneMatch(r -> "x".equals(r.jobId())));
  }
}
