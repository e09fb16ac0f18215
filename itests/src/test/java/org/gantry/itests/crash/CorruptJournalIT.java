package org.gantry.itests.crash;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.gantry.itests.support.JournalRecords;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.JobsTopic;
import org.junit.After;
import org.junit.Test;

/**
 * A journal log cut short by a crash (a torn record the engine's framing and checksum catch) is
 * quarantined at start as {@code journal.log.corrupt-<time>} with an ERROR line, and the gateway
 * runs jobs as usual.
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
    // A whole record of an execution "x" the service does not know, then a record cut off by a
    // crash mid-write (magic "GJL1", type 1, a length of 200 bytes, four bytes of it).
    byte[] whole =
        JournalRecords.entry("executionNumber=1\njobId=x\nphase=ACTIVE\nsequence=1\nversion=1\n");
    byte[] cut = {'G', 'J', 'L', '1', 1, 0, 0, 0, (byte) 200, 1, 2, 3, 4, '#', 'c', 'r'};
    byte[] torn = Arrays.copyOf(whole, whole.length + cut.length);
    System.arraycopy(cut, 0, torn, whole.length, cut.length);
    Files.write(journal.resolve("journal.log"), torn);

    gateway =
        GantryProcess.start(
            "corrupt",
            broker.url(),
            THING,
            data,
            null,
            "",
            System.out,
            List.of("ERROR", "journal.log"));
    jobs.queue(THING, "after-corrupt-1", "{\"operation\":\"diagnostics\"}");
    jobs.awaitStatus(THING, "after-corrupt-1", ExecutionStatus.SUCCEEDED, Duration.ofSeconds(30));

    String error =
        gateway.awaitLine(
            "ERROR line about the journal",
            l -> l.contains("ERROR") && l.contains("journal.log"),
            Duration.ofSeconds(5));
    assertTrue(error, error.contains("journal.log.corrupt-"));
    assertTrue(error, error.contains("cut short"));
    assertTrue(error, error.contains("kept the 1 open entry"));
    List<String> names;
    try (Stream<Path> files = Files.list(journal)) {
      names = files.map(p -> p.getFileName().toString()).toList();
    }
    List<String> aside = names.stream().filter(n -> n.startsWith("journal.log.corrupt-")).toList();
    assertEquals("exactly one quarantined copy: " + names, 1, aside.size());
    assertArrayEquals(
        "the quarantined copy keeps the damaged bytes",
        torn,
        Files.readAllBytes(journal.resolve(aside.get(0))));
    // A second job: the gateway goes on after the first one, too.
    jobs.queue(THING, "after-corrupt-2", "{\"operation\":\"diagnostics\"}");
    jobs.awaitStatus(THING, "after-corrupt-2", ExecutionStatus.SUCCEEDED, Duration.ofSeconds(30));
    // Nothing was sent about the unreadable entry's job: the service never had it.
    // The entry kept from before the damage was settled with the service (which does not know
    // it): asked about once, and nothing reported for it.
    List<TestJobsService.Request> aboutX =
        jobs.requests().stream().filter(r -> "x".equals(r.jobId())).toList();
    assertEquals(jobs.requestLog(THING), 1, aboutX.size());
    assertEquals(jobs.requestLog(THING), JobsTopic.Kind.DESCRIBE, aboutX.get(0).kind());
  }
}
